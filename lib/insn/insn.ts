/**
 * The `Insn` model: one 8-byte `struct bpf_insn` slot, and its little-endian encoding.
 *
 * `ld_imm64` occupies two slots, as in the kernel: the first carries the low 32 bits of the
 * immediate, the second (opcode 0) the high 32 bits. Instruction indices are slot indices, as the
 * verifier counts them.
 *
 * @module
 */
import { requireBytes, requireInsns } from "../args.ts";
import { ArgumentError } from "../errors.ts";

/**
 * One `struct bpf_insn`: `code` (u8), `dst` and `src` registers (4 bits each), a signed 16-bit
 * `off` and a signed 32-bit `imm`.
 *
 * @example
 * ```ts
 * import type { Insn } from "@tsbpf/core";
 * const exit: Insn = { code: 0x95, dst: 0, src: 0, off: 0, imm: 0 };
 * ```
 */
export interface Insn {
  /** Opcode byte. */
  code: number;
  /** Destination register, 0-10 (4 bits). */
  dst: number;
  /** Source register, 0-10 (4 bits), or a pseudo source for `ld_imm64` and `call`. */
  src: number;
  /** Signed 16-bit offset. */
  off: number;
  /** Signed 32-bit immediate. */
  imm: number;
}

/** Size of one instruction slot in bytes. */
export const INSN_SIZE = 8;

/**
 * Encodes instructions into little-endian `bpf_insn` bytes, as the kernel and llvm expect.
 *
 * Every field is range-checked: `code` 0–255, `dst` and `src` 0–15, `off` a signed 16-bit
 * integer, `imm` a 32-bit integer (-2^31 to 2^32-1; values from 2^31 are stored as their two's
 * complement). Whether the fields make a valid instruction is `insnError`'s question.
 *
 * @throws {ArgumentError} naming the instruction index and field that is out of range, or when `out`
 * is too small.
 * @example
 * ```ts
 * import { encodeInsns } from "@tsbpf/core/insn";
 * const bytes = encodeInsns([{ code: 0xb7, dst: 0, src: 0, off: 0, imm: 0 }, { code: 0x95, dst: 0, src: 0, off: 0, imm: 0 }]);
 * bytes.length; // 16
 * ```
 */
export function encodeInsns(insns: readonly Insn[], out?: Uint8Array): Uint8Array {
  if (!Array.isArray(insns)) requireInsns("encodeInsns", "insns", insns);
  if (out !== undefined) requireBytes("encodeInsns", "out", out);
  const bytes = out ?? new Uint8Array(new ArrayBuffer(insns.length * INSN_SIZE));
  if (bytes.length < insns.length * INSN_SIZE) {
    throw new ArgumentError(
      "out",
      `output buffer holds ${bytes.length} bytes, need ${insns.length * INSN_SIZE}`,
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let i = 0; i < insns.length; i++) {
    const insn = insns[i];
    if (insn === null || typeof insn !== "object") {
      throw new ArgumentError(
        "instruction",
        `instruction ${i}: ${String(insn)} is not an instruction object`,
      );
    }
    const { code, dst, src, off, imm } = insn;
    if (
      !((code & 0xff) === code && (dst & 0xf) === dst && (src & 0xf) === src &&
        (off << 16 >> 16) === off &&
        ((imm | 0) === imm || (imm >>> 0) === imm))
    ) {
      throw new ArgumentError(`insns[${i}]`, `instruction ${i}: ${badField(insn)}`);
    }
    const o = i * INSN_SIZE;
    view.setUint8(o, code);
    view.setUint8(o + 1, dst | (src << 4));
    view.setInt16(o + 2, off, true);
    view.setInt32(o + 4, imm | 0, true);
  }
  return bytes;
}

function badField(insn: Insn): string {
  if (insn === null || typeof insn !== "object") {
    return `${String(insn)} is not an instruction object`;
  }
  const { code, dst, src, off, imm } = insn;
  if (!Number.isInteger(code) || code < 0 || code > 0xff) {
    return `code ${code} is not a byte (0-255)`;
  }
  if (!Number.isInteger(dst) || dst < 0 || dst > 15) {
    return `dst ${dst} is not a 4-bit register number (0-15)`;
  }
  if (!Number.isInteger(src) || src < 0 || src > 15) {
    return `src ${src} is not a 4-bit register number (0-15)`;
  }
  if (!Number.isInteger(off) || off < -0x8000 || off > 0x7fff) {
    return `off ${off} is not a signed 16-bit integer`;
  }
  return `imm ${imm} is not a 32-bit integer (-2^31..2^32-1)`;
}

/**
 * Decodes little-endian `bpf_insn` bytes (as llvm emits them) into instructions.
 *
 * @throws {ArgumentError} when the length is not a multiple of 8.
 * @example
 * ```ts
 * import { decodeInsns } from "@tsbpf/core/insn";
 * decodeInsns(new Uint8Array([0x95, 0, 0, 0, 0, 0, 0, 0])); // [{ code: 0x95, dst: 0, src: 0, off: 0, imm: 0 }]
 * ```
 */
export function decodeInsns(bytes: Uint8Array): Insn[] {
  requireBytes("decodeInsns", "bytes", bytes);
  if (bytes.length % INSN_SIZE !== 0) {
    throw new ArgumentError(
      "bytes",
      `instruction bytes must be a multiple of ${INSN_SIZE}, got ${bytes.length} (${
        bytes.length % INSN_SIZE
      } trailing bytes at offset ${bytes.length - (bytes.length % INSN_SIZE)})`,
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = bytes.length / INSN_SIZE;
  const insns = new Array<Insn>(n);
  for (let i = 0; i < n; i++) {
    const o = i * INSN_SIZE;
    const regs = view.getUint8(o + 1);
    insns[i] = {
      code: view.getUint8(o),
      dst: regs & 0x0f,
      src: regs >> 4,
      off: view.getInt16(o + 2, true),
      imm: view.getInt32(o + 4, true),
    };
  }
  return insns;
}
