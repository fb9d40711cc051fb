/**
 * One model of what an instruction means: its class, operand kinds, access size, ALU width,
 * jump condition and `ld_imm64` pseudo kind, decoded once from the opcode byte and the fields.
 * The deep checker (`lib/verifier/`) interprets programs through it; the validator uses its size
 * and atomic tables.
 *
 * @module
 */
import type { Insn } from "./insn.ts";

/**
 * Access sizes in bytes, indexed by the size field `>> 3` (`W`, `H`, `B`, `DW`).
 *
 * @example
 * ```ts
 * import { SIZE_BYTES } from "@tsbpf/core/insn";
 * SIZE_BYTES[(0x79 >> 3) & 3]; // 8 (r0 = *(u64 *)(r1 + 0))
 * ```
 */
export const SIZE_BYTES: readonly [4, 2, 1, 8] = [4, 2, 1, 8];

/**
 * The read-modify-write atomic operations (`imm` of `STX | ATOMIC`), with and without `FETCH`.
 *
 * @example
 * ```ts
 * import { ATOMIC_RMW_OPS } from "@tsbpf/core/insn";
 * ATOMIC_RMW_OPS.has(0xe1); // true (xchg)
 * ```
 */
export const ATOMIC_RMW_OPS: ReadonlySet<number> = new Set([
  0x00,
  0x01,
  0x40,
  0x41,
  0x50,
  0x51,
  0xa0,
  0xa1,
  0xe1,
  0xf1,
]);

/**
 * `ld_imm64` pseudo source kinds, by `src`.
 *
 * @example
 * ```ts
 * import { LD_IMM64_KINDS } from "@tsbpf/core/insn";
 * LD_IMM64_KINDS[1]; // "map_fd"
 * ```
 */
export const LD_IMM64_KINDS: readonly string[] = [
  "imm64",
  "map_fd",
  "map_value",
  "btf_id",
  "func",
  "map_idx",
  "map_idx_value",
];

/**
 * What an instruction does, decoded.
 *
 * @example
 * ```ts
 * import { decodeSemantics } from "@tsbpf/core/insn";
 * decodeSemantics({ code: 0x61, dst: 0, src: 1, off: 4, imm: 0 }); // { kind: "load", size: 4, signExtend: false }
 * ```
 */
export type Semantics =
  | { kind: "alu"; wide: boolean; op: number; srcReg: boolean; signed: boolean; movsx: number }
  | { kind: "neg"; wide: boolean }
  | { kind: "endian"; wide: boolean; toBe: boolean; bits: number }
  | { kind: "load"; size: number; signExtend: boolean }
  | { kind: "store_imm"; size: number }
  | { kind: "store_reg"; size: number }
  | { kind: "atomic"; size: number; op: number; fetch: boolean }
  | { kind: "load_acquire"; size: number }
  | { kind: "store_release"; size: number }
  | { kind: "ld_imm64"; pseudo: number }
  | { kind: "ld_abs"; size: number }
  | { kind: "ld_ind"; size: number }
  | { kind: "ja"; wide: boolean }
  | { kind: "jmp"; wide: boolean; op: number; srcReg: boolean }
  | { kind: "call"; pseudo: number }
  | { kind: "exit" }
  | { kind: "may_goto" }
  | { kind: "addr_space_cast" }
  | { kind: "other" };

/**
 * Decodes one instruction's meaning (its encoding is assumed valid: see `insnError`).
 *
 * @example
 * ```ts
 * import { decodeSemantics } from "@tsbpf/core/insn";
 * decodeSemantics({ code: 0x95, dst: 0, src: 0, off: 0, imm: 0 }).kind; // "exit"
 * ```
 */
export function decodeSemantics(insn: Insn): Semantics {
  const code = insn.code;
  const cls = code & 7;
  const size = SIZE_BYTES[(code >> 3) & 3];
  const mode = code & 0xe0;
  switch (cls) {
    case 4:
    case 7: {
      const wide = cls === 7;
      const op = code & 0xf0;
      if (op === 0x80) return { kind: "neg", wide };
      if (op === 0xd0) {
        return { kind: "endian", wide, toBe: !wide && (code & 8) !== 0, bits: insn.imm };
      }
      const srcReg = (code & 8) !== 0;
      if (op === 0xb0 && srcReg && wide && insn.off === 1) return { kind: "addr_space_cast" };
      return {
        kind: "alu",
        wide,
        op,
        srcReg,
        signed: (op === 0x30 || op === 0x90) && insn.off === 1,
        movsx: op === 0xb0 && srcReg ? insn.off : 0,
      };
    }
    case 1:
      return { kind: "load", size, signExtend: mode === 0x80 };
    case 2:
      return { kind: "store_imm", size };
    case 3:
      if (mode !== 0xc0) return { kind: "store_reg", size };
      if (insn.imm === 0x100) return { kind: "load_acquire", size };
      if (insn.imm === 0x110) return { kind: "store_release", size };
      return { kind: "atomic", size, op: insn.imm & ~1, fetch: (insn.imm & 1) !== 0 };
    case 0:
      if (mode === 0x20) return { kind: "ld_abs", size };
      if (mode === 0x40) return { kind: "ld_ind", size };
      if (code === 0x18) return { kind: "ld_imm64", pseudo: insn.src };
      return { kind: "other" };
    default: {
      const op = code & 0xf0;
      const wide = cls === 5;
      if (op === 0x00) return { kind: "ja", wide };
      if (op === 0x80) return { kind: "call", pseudo: insn.src };
      if (op === 0x90) return { kind: "exit" };
      if (op === 0xe0) return { kind: "may_goto" };
      if (op === 0xf0) return { kind: "other" };
      return { kind: "jmp", wide, op, srcReg: (code & 8) !== 0 };
    }
  }
}
