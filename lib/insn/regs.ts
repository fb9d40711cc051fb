/**
 * Typed registers for the instruction builder.
 *
 * A register is a small frozen object rather than a bare number, so that a builder method can take
 * "a register or an immediate" in one argument (`mov64(R0, R1)` against `mov64(R0, 1)`) and the
 * type checker still rejects `mov64(1, R0)`.
 *
 * @module
 */
import { ArgumentError } from "../errors.ts";

/**
 * A register number, 0 to 10.
 *
 * @example
 * ```ts
 * import { type RegNum, REGS } from "@tsbpf/core/insn";
 * const n: RegNum = 6;
 * REGS[n]; // R6
 * ```
 */
export type RegNum = 0 | 1 | 2 | 3 | 4 | 5 | 6 | 7 | 8 | 9 | 10;

/**
 * One of the eleven eBPF registers `r0`–`r10`. Use the constants {@link R0} … {@link R10}.
 *
 * @example
 * ```ts
 * import { R1 } from "@tsbpf/core/insn";
 * R1.index; // 1
 * String(R1); // "r1"
 * ```
 */
export class Reg<N extends RegNum = RegNum> {
  /** The register number, 0–10. */
  readonly index: N;
  private constructor(index: N) {
    this.index = index;
    Object.freeze(this);
  }
  /** `"r0"` … `"r10"`. */
  toString(): string {
    return `r${this.index}`;
  }
  /** @internal Creates the eleven registers; not for users. */
  static create<M extends RegNum>(index: M): Reg<M> {
    return new Reg(index);
  }
}

/**
 * r0: return value of calls and of the program.
 *
 * @example
 * ```ts
 * import { mov64Imm, R0 } from "@tsbpf/core/insn";
 * mov64Imm(R0, 0); // r0 = 0
 * ```
 */
export const R0: Reg<0> = Reg.create(0);
/**
 * r1: first argument; the context pointer at program entry.
 *
 * @example
 * ```ts
 * import { mov64Imm, R1 } from "@tsbpf/core/insn";
 * mov64Imm(R1, 0); // r1 = 0
 * ```
 */
export const R1: Reg<1> = Reg.create(1);
/**
 * r2: second argument.
 *
 * @example
 * ```ts
 * import { mov64Imm, R2 } from "@tsbpf/core/insn";
 * mov64Imm(R2, 0); // r2 = 0
 * ```
 */
export const R2: Reg<2> = Reg.create(2);
/**
 * r3: third argument.
 *
 * @example
 * ```ts
 * import { mov64Imm, R3 } from "@tsbpf/core/insn";
 * mov64Imm(R3, 0); // r3 = 0
 * ```
 */
export const R3: Reg<3> = Reg.create(3);
/**
 * r4: fourth argument.
 *
 * @example
 * ```ts
 * import { mov64Imm, R4 } from "@tsbpf/core/insn";
 * mov64Imm(R4, 0); // r4 = 0
 * ```
 */
export const R4: Reg<4> = Reg.create(4);
/**
 * r5: fifth argument.
 *
 * @example
 * ```ts
 * import { mov64Imm, R5 } from "@tsbpf/core/insn";
 * mov64Imm(R5, 0); // r5 = 0
 * ```
 */
export const R5: Reg<5> = Reg.create(5);
/**
 * r6: callee-saved.
 *
 * @example
 * ```ts
 * import { mov64Imm, R6 } from "@tsbpf/core/insn";
 * mov64Imm(R6, 0); // r6 = 0
 * ```
 */
export const R6: Reg<6> = Reg.create(6);
/**
 * r7: callee-saved.
 *
 * @example
 * ```ts
 * import { mov64Imm, R7 } from "@tsbpf/core/insn";
 * mov64Imm(R7, 0); // r7 = 0
 * ```
 */
export const R7: Reg<7> = Reg.create(7);
/**
 * r8: callee-saved.
 *
 * @example
 * ```ts
 * import { mov64Imm, R8 } from "@tsbpf/core/insn";
 * mov64Imm(R8, 0); // r8 = 0
 * ```
 */
export const R8: Reg<8> = Reg.create(8);
/**
 * r9: callee-saved.
 *
 * @example
 * ```ts
 * import { mov64Imm, R9 } from "@tsbpf/core/insn";
 * mov64Imm(R9, 0); // r9 = 0
 * ```
 */
export const R9: Reg<9> = Reg.create(9);
/**
 * r10: the read-only frame pointer (top of the 512-byte stack).
 *
 * @example
 * ```ts
 * import { R10, stMem } from "@tsbpf/core/insn";
 * stMem("w", R10, -4, 0); // *(u32 *)(r10 - 4) = 0
 * ```
 */
export const R10: Reg<10> = Reg.create(10);
/**
 * Alias of {@link R10}, the frame pointer.
 *
 * @example
 * ```ts
 * import { FP, mov64Reg, R2 } from "@tsbpf/core/insn";
 * mov64Reg(R2, FP); // r2 = r10
 * ```
 */
export const FP: Reg<10> = R10;

/**
 * All registers by number: `REGS[3] === R3`.
 *
 * @example
 * ```ts
 * import { REGS } from "@tsbpf/core/insn";
 * const r = REGS[2]; // R2
 * ```
 */
export const REGS: readonly Reg[] = Object.freeze([R0, R1, R2, R3, R4, R5, R6, R7, R8, R9, R10]);

/**
 * The register number of `r`, after checking that it is a register.
 *
 * @throws {ArgumentError} when `r` is not one of `R0`…`R10`.
 * @example
 * ```ts
 * import { R3, regIndex } from "@tsbpf/core/insn";
 * regIndex(R3); // 3
 * ```
 */
export function regIndex(r: Reg, what = "register"): RegNum {
  if (!(r instanceof Reg)) {
    if (typeof what !== "string") what = "register";
    throw new ArgumentError(what, `${what} must be one of R0..R10, got ${describeValue(r)}`);
  }
  return r.index;
}

/** @internal A short description of any value for error messages. */
export function describeValue(v: unknown): string {
  if (typeof v === "string") return JSON.stringify(v);
  if (typeof v === "number" || typeof v === "bigint" || typeof v === "boolean") return String(v);
  if (v === null) return "null";
  if (v === undefined) return "undefined";
  return Object.prototype.toString.call(v);
}
