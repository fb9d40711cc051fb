/**
 * The `Insn` model: one 8-byte `struct bpf_insn` slot, and its little-endian encoding.
 *
 * `ld_imm64` occupies two slots, as in the kernel: the first carries the low 32 bits of the
 * immediate, the second (opcode 0) the high 32 bits. Instruction indices are slot indices, as the
 * verifier counts them.
 *
 * @module
 */

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
 * @example
 * ```ts
 * import { encodeInsns } from "@tsbpf/core";
 * const bytes = encodeInsns([{ code: 0xb7, dst: 0, src: 0, off: 0, imm: 0 }, { code: 0x95, dst: 0, src: 0, off: 0, imm: 0 }]);
 * bytes.length; // 16
 * ```
 */
export function encodeInsns(insns: readonly Insn[], out?: Uint8Array): Uint8Array {
  const bytes = out ?? new Uint8Array(new ArrayBuffer(insns.length * INSN_SIZE));
  if (bytes.length < insns.length * INSN_SIZE) {
    throw new RangeError(`output buffer holds ${bytes.length} bytes, need ${insns.length * INSN_SIZE}`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let i = 0; i < insns.length; i++) {
    const insn = insns[i];
    const o = i * INSN_SIZE;
    view.setUint8(o, insn.code);
    view.setUint8(o + 1, (insn.dst & 0x0f) | ((insn.src & 0x0f) << 4));
    view.setInt16(o + 2, insn.off, true);
    view.setInt32(o + 4, insn.imm, true);
  }
  return bytes;
}

/**
 * Decodes little-endian `bpf_insn` bytes (as llvm emits them) into instructions.
 *
 * @throws {RangeError} when the length is not a multiple of 8.
 * @example
 * ```ts
 * import { decodeInsns } from "@tsbpf/core";
 * decodeInsns(new Uint8Array([0x95, 0, 0, 0, 0, 0, 0, 0])); // [{ code: 0x95, dst: 0, src: 0, off: 0, imm: 0 }]
 * ```
 */
export function decodeInsns(bytes: Uint8Array): Insn[] {
  if (bytes.length % INSN_SIZE !== 0) {
    throw new RangeError(
      `instruction bytes must be a multiple of ${INSN_SIZE}, got ${bytes.length} (${bytes.length % INSN_SIZE} trailing bytes at offset ${bytes.length - (bytes.length % INSN_SIZE)})`,
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
