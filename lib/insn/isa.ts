/**
 * Which instruction-set level an instruction needs: the cpu levels of llvm's `-mcpu` and the
 * later additions a kernel may lack. Pure: the kernel's answer for each level comes from a
 * `KernelProfile` (`insn(feature)`).
 *
 * @module
 */
import { requireInsns, requireObject } from "../args.ts";
import type { Insn } from "./insn.ts";
import {
  ALU,
  ALU64,
  ATOMIC,
  B,
  DIV,
  END,
  H,
  JA,
  JCOND,
  JLE,
  JLT,
  JMP,
  JMP32,
  JSLE,
  JSLT,
  LDX,
  LOAD_ACQ,
  MEMSX,
  MOD,
  MOV,
  STORE_REL,
  STX,
} from "./opcodes.ts";

/**
 * An instruction-set feature a kernel may lack:
 *
 * - `v2`: `JLT`, `JLE`, `JSLT`, `JSLE` (llvm `-mcpu=v2`; Linux 4.14);
 * - `v3`: the `JMP32` class (llvm `-mcpu=v3`; Linux 5.1);
 * - `atomic_fetch`: atomics that fetch (`FETCH` ops, `XCHG`, `CMPXCHG`) and atomic `AND`/`OR`/
 *   `XOR` (Linux 5.12; `-mcpu=v3` emits them);
 * - `v4`: signed division and modulo, sign-extending moves and loads, `ALU64` byte swap, `gotol`
 *   (llvm `-mcpu=v4`; Linux 6.6);
 * - `load_acquire`: load-acquire and store-release atomics (Linux 6.15);
 * - `may_goto`: the `JCOND` `may_goto` instruction (Linux 6.9).
 *
 * @example
 * ```ts
 * import type { IsaFeature } from "@tsbpf/core/insn";
 * const f: IsaFeature = "v4";
 * ```
 */
export type IsaFeature = "v2" | "v3" | "atomic_fetch" | "v4" | "load_acquire" | "may_goto";

/**
 * Every {@link IsaFeature}, oldest first.
 *
 * @example
 * ```ts
 * import { ISA_FEATURES } from "@tsbpf/core/insn";
 * ISA_FEATURES.includes("may_goto"); // true
 * ```
 */
export const ISA_FEATURES: readonly IsaFeature[] = Object.freeze([
  "v2",
  "v3",
  "atomic_fetch",
  "v4",
  "may_goto",
  "load_acquire",
]);

/**
 * The feature one instruction needs beyond the base instruction set (cpu v1), or `undefined`.
 * Only the encoding is looked at: an invalid instruction is the validity check's business.
 *
 * @example
 * ```ts
 * import { isaFeatureOf } from "@tsbpf/core/insn";
 * isaFeatureOf({ code: 0x3f, dst: 0, src: 1, off: 1, imm: 0 }); // "v4": r0 s/= r1
 * isaFeatureOf({ code: 0xb7, dst: 0, src: 0, off: 0, imm: 0 }); // undefined: r0 = 0
 * ```
 */
export function isaFeatureOf(insn: Insn): IsaFeature | undefined {
  requireObject("isaFeatureOf", "insn", insn);
  return isaFeatureOfFields(insn.code, insn.off, insn.imm);
}

/**
 * {@link isaFeatureOf} on an instruction's opcode, offset and immediate (for callers that keep
 * instructions in columns).
 *
 * @example
 * ```ts
 * import { isaFeatureOfFields } from "./isa.ts";
 * isaFeatureOfFields(0xe5, 0, 0); // "may_goto"
 * ```
 */
export function isaFeatureOfFields(code: number, off: number, imm: number): IsaFeature | undefined {
  const cls = code & 0x07;
  const op = code & 0xf0;
  switch (cls) {
    case ALU:
    case ALU64:
      if ((op === DIV || op === MOD) && off === 1) return "v4";
      if (op === MOV && off !== 0) return "v4"; // movsx (and addr_space_cast, 6.9)
      if (cls === ALU64 && op === END) return "v4"; // bswap
      return undefined;
    case LDX:
      return (code & 0xe0) === MEMSX ? "v4" : undefined;
    case STX:
      if ((code & 0xe0) !== ATOMIC) return undefined;
      // Byte and half-word atomics exist only as load-acquire and store-release.
      if (imm === LOAD_ACQ || imm === STORE_REL || (code & 0x18) === B || (code & 0x18) === H) {
        return "load_acquire";
      }
      // Plain atomic add is older than fetch and the bitwise ops.
      return imm === 0 ? undefined : "atomic_fetch";
    case JMP32:
      // gotol (JMP32 ja, target in imm) came with v4: before it the opcode is unknown even with
      // imm 0 (the kernel's instruction table had no JMP32 ja until 6.6).
      if (op === JA) return "v4";
      return "v3";
    case JMP:
      if (op === JCOND) return "may_goto";
      if (op === JLT || op === JLE || op === JSLT || op === JSLE) return "v2";
      return undefined;
    default:
      return undefined;
  }
}

/**
 * The features a program needs, each with the index of its first instruction (the second slot
 * of a 16-byte `ld_imm64` is skipped).
 *
 * @example
 * ```ts
 * import { isaFeaturesOf } from "@tsbpf/core/insn";
 * isaFeaturesOf([
 *   { code: 0xb7, dst: 0, src: 0, off: 0, imm: 1 },
 *   { code: 0x37, dst: 0, src: 0, off: 1, imm: 1 }, // r0 s/= 1
 *   { code: 0x95, dst: 0, src: 0, off: 0, imm: 0 },
 * ]); // Map { "v4" => 1 }
 * ```
 */
export function isaFeaturesOf(insns: readonly Insn[]): Map<IsaFeature, number> {
  requireInsns("isaFeaturesOf", "insns", insns);
  const out = new Map<IsaFeature, number>();
  for (let i = 0; i < insns.length; i++) {
    const f = isaFeatureOf(insns[i]);
    if (f !== undefined && !out.has(f)) out.set(f, i);
    if (insns[i].code === 0x18) i++;
  }
  return out;
}
