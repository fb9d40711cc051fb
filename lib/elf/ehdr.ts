/**
 * The parts shared by the BPF object reader and the native ELF reader: the checks of the 64-bit
 * little-endian ELF header, `u64` fields and NUL-terminated strings. Pure: works on bytes.
 *
 * @module
 */
import { ElfError } from "./error.ts";

/** Size of the ELF64 file header. */
const EHDR_SIZE = 64;

/**
 * The fields of a checked ELF header that both readers use.
 *
 * @example
 * ```ts
 * import { type ElfHeader, readElfHeader } from "./ehdr.ts";
 * const h: ElfHeader = readElfHeader(Deno.readFileSync("prog.bpf.o"), { EM_BPF: 247 });
 * h.machine; // 247
 * ```
 */
export interface ElfHeader {
  /** A little-endian view over the whole file. */
  readonly view: DataView;
  /** `e_type` (`ET_REL`, `ET_EXEC`, `ET_DYN`, …). */
  readonly type: number;
  /** `e_machine`, one of the allowed machines. */
  readonly machine: number;
}

/**
 * Checks the ELF header of `bytes`: long enough for the header, the magic, `ELFCLASS64`,
 * `ELFDATA2LSB` and an `e_machine` among `allowedMachines` (name to number, the names are used in
 * the message). Throws `ElfError` with the file offset of the first field that is wrong.
 *
 * @example
 * ```ts
 * import { readElfHeader } from "./ehdr.ts";
 * const bytes = Deno.readFileSync("prog.bpf.o");
 * readElfHeader(bytes, { EM_X86_64: 62, EM_AARCH64: 183 });
 * // ElfError: e_machine 247 is neither EM_X86_64 (62) nor EM_AARCH64 (183) (at file offset 18)
 * ```
 */
export function readElfHeader(
  bytes: Uint8Array,
  allowedMachines: Readonly<Record<string, number>>,
): ElfHeader {
  if (bytes.length < EHDR_SIZE) {
    throw new ElfError(
      `file is ${bytes.length} bytes, shorter than the ${EHDR_SIZE}-byte ELF header`,
      bytes.length,
    );
  }
  if (bytes[0] !== 0x7f || bytes[1] !== 0x45 || bytes[2] !== 0x4c || bytes[3] !== 0x46) {
    throw new ElfError("not an ELF file (bad magic)", 0);
  }
  if (bytes[4] !== 2) throw new ElfError(`ELF class ${bytes[4]} is not ELFCLASS64 (2)`, 4);
  if (bytes[5] !== 1) {
    throw new ElfError(`byte order ${bytes[5]} is not little-endian (ELFDATA2LSB, 1)`, 5);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const type = view.getUint16(16, true);
  const machine = view.getUint16(18, true);
  const allowed = Object.entries(allowedMachines);
  if (!allowed.some(([, m]) => m === machine)) {
    const names = allowed.map(([name, m]) => `${name} (${m})`);
    const expected = names.length === 1
      ? `is not ${names[0]}`
      : `is neither ${names.slice(0, -1).join(", ")} nor ${names[names.length - 1]}`;
    throw new ElfError(`e_machine ${machine} ${expected}`, 18);
  }
  return { view, type, machine };
}

/**
 * Reads a little-endian `u64` field as a number. Throws `ElfError` at `at` when it is larger than
 * `Number.MAX_SAFE_INTEGER`.
 *
 * @example
 * ```ts
 * import { u64 } from "./ehdr.ts";
 * const view = new DataView(new ArrayBuffer(64));
 * view.setUint32(40, 4096, true);
 * const shoff = u64(view, 40); // 4096 (e_shoff)
 * ```
 */
export function u64(v: DataView, at: number): number {
  const high = v.getUint32(at + 4, true);
  if (high > 0x1fffff) {
    throw new ElfError(`value ${v.getBigUint64(at, true)} is too large`, at);
  }
  return high * 0x100000000 + v.getUint32(at, true);
}

const decoder = new TextDecoder();

/**
 * Reads the NUL-terminated string at `start`, which must end before `limit` (the end of its
 * string table) and before the end of `bytes`; otherwise throws `ElfError(notTerminated)` at
 * `start`. The scan never goes past either bound. The bytes are decoded as
 * UTF-8 (plain ASCII, the usual case, without the decoder).
 *
 * @example
 * ```ts
 * import { readCString } from "./ehdr.ts";
 * const strtab = new TextEncoder().encode("\0.text\0license\0");
 * readCString(strtab, 7, strtab.length, "string is not NUL-terminated"); // "license"
 * ```
 */
export function readCString(
  bytes: Uint8Array,
  start: number,
  limit: number,
  notTerminated: string,
): string {
  const stop = Math.min(limit, bytes.length);
  let end = start;
  while (end < stop && bytes[end] !== 0) end++;
  if (end >= stop) throw new ElfError(notTerminated, start);
  let ascii = "";
  for (let i = start; i < end; i++) {
    const c = bytes[i];
    if (c >= 0x80) return decoder.decode(bytes.subarray(start, end));
    ascii += String.fromCharCode(c);
  }
  return ascii;
}
