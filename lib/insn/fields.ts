/**
 * The operand kinds of the instruction constructors (ALU, jump, size and atomic operation names,
 * map references, jump targets), their op-code tables, and the checked field encoders they share.
 *
 * @module
 */
import type { Insn } from "./insn.ts";
import * as opc from "./opcodes.ts";
import { describeValue } from "./regs.ts";
import { ArgumentError } from "../errors.ts";

/**
 * An ALU operation (`sdiv`/`smod` are the signed forms, `off` 1).
 *
 * @example
 * ```ts
 * import { alu64Imm, type AluOp, R1 } from "@tsbpf/core/insn";
 * const op: AluOp = "smod";
 * alu64Imm(op, R1, 3); // r1 s%= 3
 * ```
 */
export type AluOp =
  | "add"
  | "sub"
  | "mul"
  | "div"
  | "sdiv"
  | "or"
  | "and"
  | "lsh"
  | "rsh"
  | "mod"
  | "smod"
  | "xor"
  | "mov"
  | "arsh";

/**
 * A conditional jump operation.
 *
 * @example
 * ```ts
 * import { jmpImm, type JmpOp, R0 } from "@tsbpf/core/insn";
 * const op: JmpOp = "jsgt";
 * jmpImm(op, R0, 0, 2); // if r0 s> 0 goto +2
 * ```
 */
export type JmpOp =
  | "jeq"
  | "jgt"
  | "jge"
  | "jset"
  | "jne"
  | "jsgt"
  | "jsge"
  | "jlt"
  | "jle"
  | "jslt"
  | "jsle";

/**
 * A memory access size: byte, half word, word, double word.
 *
 * @example
 * ```ts
 * import { ldxMem, R0, R1, type Size } from "@tsbpf/core/insn";
 * const size: Size = "dw";
 * ldxMem(size, R0, R1, 0); // r0 = *(u64 *)(r1 + 0)
 * ```
 */
export type Size = "b" | "h" | "w" | "dw";

/**
 * An atomic read-modify-write operation (32 or 64 bits).
 *
 * @example
 * ```ts
 * import { atomicOp, type AtomicOp, R1, R2 } from "@tsbpf/core/insn";
 * const op: AtomicOp = "xchg";
 * atomicOp("w", op, R1, R2, 0); // w2 = xchg32_32(r1 + 0, w2)
 * ```
 */
export type AtomicOp =
  | "add"
  | "or"
  | "and"
  | "xor"
  | "fetch_add"
  | "fetch_or"
  | "fetch_and"
  | "fetch_xor"
  | "xchg"
  | "cmpxchg";

/**
 * A map for `ldMapFd`/`ldMapValue`: its file descriptor, or any object with a numeric `fd`.
 *
 * @example
 * ```ts
 * import { ldMapFd, type MapRef, R1 } from "@tsbpf/core/insn";
 * const map: MapRef = { fd: 7 }; // e.g. a BpfMap
 * ldMapFd(R1, map); // r1 = map[fd:7] ll
 * ```
 */
export type MapRef = number | { readonly fd: number };

/**
 * A jump target in the {@link InsnBuilder}: a label name or a relative offset in slots.
 *
 * @example
 * ```ts
 * import { InsnBuilder, R0, type Target } from "@tsbpf/core/insn";
 * const out: Target = "out";
 * new InsnBuilder().jeq(R0, 0, out).mov64(R0, 1).label("out").exit().build();
 * ```
 */
export type Target = string | number;

const ALU_CODES: Record<AluOp, [number, number]> = {
  ...Object.fromEntries(Object.entries(opc.ALU_BY_NAME).map(([name, c]) => [name, [c, 0]])),
  sdiv: [opc.DIV, 1],
  smod: [opc.MOD, 1],
} as Record<AluOp, [number, number]>;
const JMP_CODES: Record<JmpOp, number> = { ...opc.JMP_BY_NAME };
const SIZE_CODES: Record<Size, number> = { w: opc.W, h: opc.H, b: opc.B, dw: opc.DW };
/**
 * The `imm` field of each atomic operation (`BPF_ADD | BPF_FETCH`…).
 *
 * @example
 * ```ts
 * import { ATOMIC_CODES } from "./fields.ts";
 * ATOMIC_CODES.fetch_add; // 0x01
 * ```
 */
export const ATOMIC_CODES: Record<AtomicOp, number> = {
  add: opc.ADD,
  or: opc.OR,
  and: opc.AND,
  xor: opc.XOR,
  fetch_add: opc.ADD | opc.FETCH,
  fetch_or: opc.OR | opc.FETCH,
  fetch_and: opc.AND | opc.FETCH,
  fetch_xor: opc.XOR | opc.FETCH,
  xchg: opc.XCHG,
  cmpxchg: opc.CMPXCHG,
};

/**
 * One instruction from its five fields, unchecked.
 *
 * @example
 * ```ts
 * import { insn } from "./fields.ts";
 * insn(0x95, 0, 0, 0, 0); // exit
 * ```
 */
export function insn(code: number, dst: number, src: number, off: number, imm: number): Insn {
  return { code, dst, src, off, imm };
}

/**
 * Checks a 32-bit immediate (-2^31..2^32-1) and returns it as a signed 32-bit value.
 *
 * @example
 * ```ts
 * import { imm32 } from "./fields.ts";
 * imm32(0xffffffff); // -1
 * ```
 */
export function imm32(v: number, what = "immediate"): number {
  if (!Number.isInteger(v) || v < -0x80000000 || v > 0xffffffff) {
    throw new ArgumentError(
      what,
      `${what} ${describeValue(v)} is not a 32-bit integer (-2^31..2^32-1)`,
    );
  }
  return v | 0;
}

/**
 * Checks a signed 32-bit integer.
 *
 * @example
 * ```ts
 * import { s32 } from "./fields.ts";
 * s32(-5, "offset"); // -5
 * ```
 */
export function s32(v: number, what: string): number {
  if (!Number.isInteger(v) || v < -0x80000000 || v > 0x7fffffff) {
    throw new ArgumentError(what, `${what} ${describeValue(v)} is not a signed 32-bit integer`);
  }
  return v;
}

/**
 * Checks a signed 16-bit offset.
 *
 * @example
 * ```ts
 * import { off16 } from "./fields.ts";
 * off16(-8); // -8
 * ```
 */
export function off16(v: number, what = "offset"): number {
  if (!Number.isInteger(v) || v < -0x8000 || v > 0x7fff) {
    throw new ArgumentError(
      what,
      `${what} ${describeValue(v)} is not a signed 16-bit integer (-32768..32767)`,
    );
  }
  return v;
}

/**
 * The size bits of a memory access (`"b"`, `"h"`, `"w"`, `"dw"`).
 *
 * @example
 * ```ts
 * import { sizeCode } from "./fields.ts";
 * sizeCode("dw"); // 0x18
 * ```
 */
export function sizeCode(size: Size): number {
  const c = SIZE_CODES[size];
  if (c === undefined) {
    throw new ArgumentError(
      "size",
      `size must be "b", "h", "w" or "dw", got ${describeValue(size)}`,
    );
  }
  return c;
}

/**
 * The op-code and `off` field of an ALU operation (`off` 1 for `sdiv`/`smod`).
 *
 * @example
 * ```ts
 * import { aluCode } from "./fields.ts";
 * aluCode("smod"); // [0x90, 1]
 * ```
 */
export function aluCode(op: AluOp): [number, number] {
  const c = ALU_CODES[op];
  if (c === undefined) {
    throw new ArgumentError("op", `unknown ALU operation ${describeValue(op)}`);
  }
  return c;
}

/**
 * The op-code of a jump operation.
 *
 * @example
 * ```ts
 * import { jmpCode } from "./fields.ts";
 * jmpCode("jeq"); // 0x10
 * ```
 */
export function jmpCode(op: JmpOp): number {
  const c = JMP_CODES[op];
  if (c === undefined) {
    throw new ArgumentError("op", `unknown jump operation ${describeValue(op)}`);
  }
  return c;
}

/**
 * The fd of a map reference (a number or an object with `fd`).
 *
 * @example
 * ```ts
 * import { mapFd } from "./fields.ts";
 * mapFd({ fd: 5 }); // 5
 * ```
 */
export function mapFd(map: MapRef): number {
  const fd = typeof map === "number" ? map : map?.fd;
  if (typeof fd !== "number" || !Number.isInteger(fd) || fd < 0 || fd > 0x7fffffff) {
    throw new ArgumentError(
      "map",
      `map must be a file descriptor or an object with a numeric fd, got ${describeValue(map)}`,
    );
  }
  return fd;
}
