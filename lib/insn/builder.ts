/**
 * Building instructions in code: standalone constructors in the style of the kernel's
 * `BPF_MOV64_IMM`-like macros (`mov64Imm(R0, 0)`), and the chaining {@link Asm} builder with named
 * labels (`new Asm().mov64(R0, 0).exit().build()`).
 *
 * Immediates are 32-bit fields: any integer from -2^31 to 2^32-1 is accepted, values from 2^31 are
 * stored as their two's complement (so `mov64Imm(R0, 0xffffffff)` sets r0 to -1, sign-extended).
 *
 * @module
 */
import { helperIdByName } from "../../types/helpers.ts";
import type { Insn } from "./insn.ts";
import * as opc from "./opcodes.ts";
import { describeValue, type Reg, regIndex } from "./regs.ts";

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
 * A jump target in the {@link Asm} builder: a label name or a relative offset in slots.
 *
 * @example
 * ```ts
 * import { Asm, R0, type Target } from "@tsbpf/core/insn";
 * const out: Target = "out";
 * new Asm().jeq(R0, 0, out).mov64(R0, 1).label("out").exit().build();
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
const ATOMIC_CODES: Record<AtomicOp, number> = {
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

function insn(code: number, dst: number, src: number, off: number, imm: number): Insn {
  return { code, dst, src, off, imm };
}

function imm32(v: number, what = "immediate"): number {
  if (!Number.isInteger(v) || v < -0x80000000 || v > 0xffffffff) {
    throw new RangeError(`${what} ${describeValue(v)} is not a 32-bit integer (-2^31..2^32-1)`);
  }
  return v | 0;
}

function s32(v: number, what: string): number {
  if (!Number.isInteger(v) || v < -0x80000000 || v > 0x7fffffff) {
    throw new RangeError(`${what} ${describeValue(v)} is not a signed 32-bit integer`);
  }
  return v;
}

function off16(v: number, what = "offset"): number {
  if (!Number.isInteger(v) || v < -0x8000 || v > 0x7fff) {
    throw new RangeError(
      `${what} ${describeValue(v)} is not a signed 16-bit integer (-32768..32767)`,
    );
  }
  return v;
}

function sizeCode(size: Size): number {
  const c = SIZE_CODES[size];
  if (c === undefined) {
    throw new RangeError(`size must be "b", "h", "w" or "dw", got ${describeValue(size)}`);
  }
  return c;
}

function aluCode(op: AluOp): [number, number] {
  const c = ALU_CODES[op];
  if (c === undefined) throw new RangeError(`unknown ALU operation ${describeValue(op)}`);
  return c;
}

function jmpCode(op: JmpOp): number {
  const c = JMP_CODES[op];
  if (c === undefined) throw new RangeError(`unknown jump operation ${describeValue(op)}`);
  return c;
}

function mapFd(map: MapRef): number {
  const fd = typeof map === "number" ? map : map?.fd;
  if (typeof fd !== "number" || !Number.isInteger(fd) || fd < 0 || fd > 0x7fffffff) {
    throw new TypeError(
      `map must be a file descriptor or an object with a numeric fd, got ${describeValue(map)}`,
    );
  }
  return fd;
}

// ------------------------------------------------------------------ ALU

/**
 * 64-bit ALU operation with an immediate: `dst OP= imm` (`BPF_ALU64_IMM`).
 *
 * @example
 * ```ts
 * import { alu64Imm, R1 } from "@tsbpf/core/insn";
 * alu64Imm("add", R1, 8); // r1 += 8
 * ```
 */
export function alu64Imm(op: AluOp, dst: Reg, imm: number): Insn {
  const [code, off] = aluCode(op);
  return insn(0x07 | code, regIndex(dst, "dst"), 0, off, imm32(imm));
}

/**
 * 64-bit ALU operation with a register: `dst OP= src` (`BPF_ALU64_REG`).
 *
 * @example
 * ```ts
 * import { alu64Reg, R1, R2 } from "@tsbpf/core/insn";
 * alu64Reg("sub", R1, R2); // r1 -= r2
 * ```
 */
export function alu64Reg(op: AluOp, dst: Reg, src: Reg): Insn {
  const [code, off] = aluCode(op);
  return insn(0x0f | code, regIndex(dst, "dst"), regIndex(src, "src"), off, 0);
}

/**
 * 32-bit ALU operation with an immediate: `wDST OP= imm` (`BPF_ALU32_IMM`); the upper half of
 * `dst` is zeroed.
 *
 * @example
 * ```ts
 * import { alu32Imm, R1 } from "@tsbpf/core/insn";
 * alu32Imm("and", R1, 0xff); // w1 &= 255
 * ```
 */
export function alu32Imm(op: AluOp, dst: Reg, imm: number): Insn {
  const [code, off] = aluCode(op);
  return insn(0x04 | code, regIndex(dst, "dst"), 0, off, imm32(imm));
}

/**
 * 32-bit ALU operation with a register: `wDST OP= wSRC` (`BPF_ALU32_REG`).
 *
 * @example
 * ```ts
 * import { alu32Reg, R1, R2 } from "@tsbpf/core/insn";
 * alu32Reg("xor", R1, R2); // w1 ^= w2
 * ```
 */
export function alu32Reg(op: AluOp, dst: Reg, src: Reg): Insn {
  const [code, off] = aluCode(op);
  return insn(0x0c | code, regIndex(dst, "dst"), regIndex(src, "src"), off, 0);
}

/**
 * `dst = imm` (sign-extended to 64 bits) (`BPF_MOV64_IMM`).
 *
 * @example
 * ```ts
 * import { mov64Imm, R0 } from "@tsbpf/core/insn";
 * mov64Imm(R0, 0); // { code: 0xb7, dst: 0, src: 0, off: 0, imm: 0 }
 * ```
 */
export function mov64Imm(dst: Reg, imm: number): Insn {
  return alu64Imm("mov", dst, imm);
}

/**
 * `dst = src` (`BPF_MOV64_REG`).
 *
 * @example
 * ```ts
 * import { mov64Reg, R6, R1 } from "@tsbpf/core/insn";
 * mov64Reg(R6, R1); // r6 = r1
 * ```
 */
export function mov64Reg(dst: Reg, src: Reg): Insn {
  return alu64Reg("mov", dst, src);
}

/**
 * `wDST = imm`, zero-extended (`BPF_MOV32_IMM`).
 *
 * @example
 * ```ts
 * import { mov32Imm, R0 } from "@tsbpf/core/insn";
 * mov32Imm(R0, 1); // w0 = 1
 * ```
 */
export function mov32Imm(dst: Reg, imm: number): Insn {
  return alu32Imm("mov", dst, imm);
}

/**
 * `wDST = wSRC`, zero-extended (`BPF_MOV32_REG`).
 *
 * @example
 * ```ts
 * import { mov32Reg, R0, R1 } from "@tsbpf/core/insn";
 * mov32Reg(R0, R1); // w0 = w1
 * ```
 */
export function mov32Reg(dst: Reg, src: Reg): Insn {
  return alu32Reg("mov", dst, src);
}

/**
 * `dst = (sBITS)src`: sign-extending move to 64 bits (`BPF_MOVSX64_REG`).
 *
 * @example
 * ```ts
 * import { movsx64, R1, R2 } from "@tsbpf/core/insn";
 * movsx64(R1, R2, 8); // r1 = (s8)r2
 * ```
 */
export function movsx64(dst: Reg, src: Reg, bits: 8 | 16 | 32): Insn {
  if (bits !== 8 && bits !== 16 && bits !== 32) {
    throw new RangeError(`movsx64 width must be 8, 16 or 32, got ${describeValue(bits)}`);
  }
  return insn(0xbf, regIndex(dst, "dst"), regIndex(src, "src"), bits, 0);
}

/**
 * `wDST = (sBITS)wSRC`: sign-extending move within 32 bits (`BPF_MOVSX32_REG`).
 *
 * @example
 * ```ts
 * import { movsx32, R1, R2 } from "@tsbpf/core/insn";
 * movsx32(R1, R2, 16); // w1 = (s16)w2
 * ```
 */
export function movsx32(dst: Reg, src: Reg, bits: 8 | 16): Insn {
  if (bits !== 8 && bits !== 16) {
    throw new RangeError(`movsx32 width must be 8 or 16, got ${describeValue(bits)}`);
  }
  return insn(0xbc, regIndex(dst, "dst"), regIndex(src, "src"), bits, 0);
}

/**
 * `dst = -dst` (64 bits).
 *
 * @example
 * ```ts
 * import { neg64, R1 } from "@tsbpf/core/insn";
 * neg64(R1); // r1 = -r1
 * ```
 */
export function neg64(dst: Reg): Insn {
  return insn(0x87, regIndex(dst, "dst"), 0, 0, 0);
}

/**
 * `wDST = -wDST` (32 bits).
 *
 * @example
 * ```ts
 * import { neg32, R1 } from "@tsbpf/core/insn";
 * neg32(R1); // w1 = -w1
 * ```
 */
export function neg32(dst: Reg): Insn {
  return insn(0x84, regIndex(dst, "dst"), 0, 0, 0);
}

function swapWidth(bits: number): number {
  if (bits !== 16 && bits !== 32 && bits !== 64) {
    throw new RangeError(`byte swap width must be 16, 32 or 64, got ${describeValue(bits)}`);
  }
  return bits;
}

/**
 * Converts `dst` to little endian (`BPF_ENDIAN(BPF_TO_LE)`): a no-op but for the truncation to
 * `bits` on little-endian machines.
 *
 * @example
 * ```ts
 * import { le, R1 } from "@tsbpf/core/insn";
 * le(R1, 16); // r1 = le16 r1
 * ```
 */
export function le(dst: Reg, bits: 16 | 32 | 64): Insn {
  return insn(0xd4, regIndex(dst, "dst"), 0, 0, swapWidth(bits));
}

/**
 * Converts `dst` to big endian (`BPF_ENDIAN(BPF_TO_BE)`).
 *
 * @example
 * ```ts
 * import { be, R1 } from "@tsbpf/core/insn";
 * be(R1, 32); // r1 = be32 r1
 * ```
 */
export function be(dst: Reg, bits: 16 | 32 | 64): Insn {
  return insn(0xdc, regIndex(dst, "dst"), 0, 0, swapWidth(bits));
}

/**
 * Unconditional byte swap of the low `bits` of `dst` (ALU64 `BPF_END`, cpu v4).
 *
 * @example
 * ```ts
 * import { bswap, R1 } from "@tsbpf/core/insn";
 * bswap(R1, 64); // r1 = bswap64 r1
 * ```
 */
export function bswap(dst: Reg, bits: 16 | 32 | 64): Insn {
  return insn(0xd7, regIndex(dst, "dst"), 0, 0, swapWidth(bits));
}

/**
 * `dst = addr_space_cast(src, dstAs, srcAs)`: converts an arena pointer between address space 1
 * (user) and 0 (kernel). The program needs an arena map.
 *
 * @example
 * ```ts
 * import { addrSpaceCast, R1, R2 } from "@tsbpf/core/insn";
 * addrSpaceCast(R1, R2, 0, 1); // r1 = addr_space_cast(r2, 0, 1)
 * ```
 */
export function addrSpaceCast(dst: Reg, src: Reg, dstAs: 0 | 1, srcAs: 0 | 1): Insn {
  const imm = ((dstAs & 0xffff) << 16) | (srcAs & 0xffff);
  if (imm !== 1 && imm !== 0x10000) {
    throw new RangeError(`addr_space_cast converts between spaces 0 and 1, got ${dstAs}, ${srcAs}`);
  }
  return insn(0xbf, regIndex(dst, "dst"), regIndex(src, "src"), 1, imm);
}

// ------------------------------------------------------------------ memory

/**
 * `dst = *(uSIZE *)(src + off)` (`BPF_LDX_MEM`).
 *
 * @example
 * ```ts
 * import { ldxMem, R0, R1 } from "@tsbpf/core/insn";
 * ldxMem("w", R0, R1, 4); // w0 = *(u32 *)(r1 + 4)
 * ```
 */
export function ldxMem(size: Size, dst: Reg, src: Reg, off: number): Insn {
  return insn(0x61 | sizeCode(size), regIndex(dst, "dst"), regIndex(src, "src"), off16(off), 0);
}

/**
 * `dst = *(sSIZE *)(src + off)`: sign-extending load of 1, 2 or 4 bytes (`BPF_LDX_MEMSX`).
 *
 * @example
 * ```ts
 * import { ldxMemSx, R0, R1 } from "@tsbpf/core/insn";
 * ldxMemSx("b", R0, R1, 0); // r0 = *(s8 *)(r1 + 0)
 * ```
 */
export function ldxMemSx(size: "b" | "h" | "w", dst: Reg, src: Reg, off: number): Insn {
  if ((size as string) === "dw") {
    throw new RangeError("a sign-extending load of 8 bytes does not exist");
  }
  return insn(0x81 | sizeCode(size), regIndex(dst, "dst"), regIndex(src, "src"), off16(off), 0);
}

/**
 * `*(uSIZE *)(dst + off) = imm` (`BPF_ST_MEM`).
 *
 * @example
 * ```ts
 * import { stMem, R10 } from "@tsbpf/core/insn";
 * stMem("w", R10, -4, 0); // *(u32 *)(r10 - 4) = 0
 * ```
 */
export function stMem(size: Size, dst: Reg, off: number, imm: number): Insn {
  return insn(0x62 | sizeCode(size), regIndex(dst, "dst"), 0, off16(off), imm32(imm));
}

/**
 * `*(uSIZE *)(dst + off) = src` (`BPF_STX_MEM`).
 *
 * @example
 * ```ts
 * import { stxMem, R10, R1 } from "@tsbpf/core/insn";
 * stxMem("dw", R10, R1, -8); // *(u64 *)(r10 - 8) = r1
 * ```
 */
export function stxMem(size: Size, dst: Reg, src: Reg, off: number): Insn {
  return insn(0x63 | sizeCode(size), regIndex(dst, "dst"), regIndex(src, "src"), off16(off), 0);
}

/**
 * Atomic read-modify-write on `*(uSIZE *)(dst + off)` with `src` (`BPF_ATOMIC_OP`): `add`, `or`,
 * `and`, `xor`; their `fetch_` forms (the old value goes to `src`); `xchg`; `cmpxchg` (compares
 * with r0, the old value goes to r0).
 *
 * @example
 * ```ts
 * import { atomicOp, R1, R2 } from "@tsbpf/core/insn";
 * atomicOp("dw", "fetch_add", R1, R2, 0); // r2 = atomic_fetch_add((u64 *)(r1 + 0), r2)
 * ```
 */
export function atomicOp(size: "w" | "dw", op: AtomicOp, dst: Reg, src: Reg, off: number): Insn {
  if (size !== "w" && size !== "dw") {
    throw new RangeError(
      `atomic operations are 32 ("w") or 64 ("dw") bits, got ${describeValue(size)}`,
    );
  }
  const imm = ATOMIC_CODES[op];
  if (imm === undefined) throw new RangeError(`unknown atomic operation ${describeValue(op)}`);
  return insn(0xc3 | sizeCode(size), regIndex(dst, "dst"), regIndex(src, "src"), off16(off), imm);
}

/**
 * `dst = load_acquire((uSIZE *)(src + off))` (Linux 6.15+).
 *
 * @example
 * ```ts
 * import { loadAcquire, R0, R1 } from "@tsbpf/core/insn";
 * loadAcquire("dw", R0, R1, 0);
 * ```
 */
export function loadAcquire(size: Size, dst: Reg, src: Reg, off: number): Insn {
  return insn(0xc3 | sizeCode(size), regIndex(dst, "dst"), regIndex(src, "src"), off16(off), 0x100);
}

/**
 * `store_release((uSIZE *)(dst + off), src)` (Linux 6.15+).
 *
 * @example
 * ```ts
 * import { storeRelease, R1, R2 } from "@tsbpf/core/insn";
 * storeRelease("w", R1, R2, 0);
 * ```
 */
export function storeRelease(size: Size, dst: Reg, src: Reg, off: number): Insn {
  return insn(0xc3 | sizeCode(size), regIndex(dst, "dst"), regIndex(src, "src"), off16(off), 0x110);
}

// ------------------------------------------------------------------ ld_imm64

function ld64(dst: Reg, src: number, lo: number, hi: number): Insn[] {
  return [insn(0x18, regIndex(dst, "dst"), src, 0, lo), insn(0, 0, 0, 0, hi)];
}

/**
 * `dst = value`, a 64-bit immediate: two slots (`BPF_LD_IMM64`).
 *
 * @example
 * ```ts
 * import { ldImm64, R1 } from "@tsbpf/core/insn";
 * ldImm64(R1, 0x1122334455667788n); // r1 = 0x1122334455667788 ll
 * ```
 */
export function ldImm64(dst: Reg, value: number | bigint): Insn[] {
  let v: bigint;
  if (typeof value === "bigint") v = value;
  else if (Number.isSafeInteger(value)) v = BigInt(value);
  else {throw new RangeError(
      `ldImm64 value ${describeValue(value)} is not a safe integer; pass a bigint`,
    );}
  if (v < -(1n << 63n) || v >= 1n << 64n) {
    throw new RangeError(`ldImm64 value ${v} does not fit in 64 bits`);
  }
  const u = BigInt.asUintN(64, v);
  return ld64(dst, 0, Number(BigInt.asIntN(32, u)), Number(BigInt.asIntN(32, u >> 32n)));
}

/**
 * `dst = map` by file descriptor (`BPF_LD_MAP_FD`, src 1): two slots.
 *
 * @example
 * ```ts
 * import { ldMapFd, R1 } from "@tsbpf/core/insn";
 * ldMapFd(R1, 5); // r1 = map[fd:5] ll — or ldMapFd(R1, someBpfMap)
 * ```
 */
export function ldMapFd(dst: Reg, map: MapRef): Insn[] {
  return ld64(dst, 1, mapFd(map), 0);
}

/**
 * `dst = &value[0] + offset` of an array map by file descriptor (`BPF_PSEUDO_MAP_VALUE`, src 2).
 *
 * @example
 * ```ts
 * import { ldMapValue, R1 } from "@tsbpf/core/insn";
 * ldMapValue(R1, 5, 16); // r1 = map_value[fd:5]+16 ll
 * ```
 */
export function ldMapValue(dst: Reg, map: MapRef, offset = 0): Insn[] {
  if (!Number.isInteger(offset) || offset < 0 || offset > 0xffffffff) {
    throw new RangeError(`map value offset ${describeValue(offset)} is not a u32`);
  }
  return ld64(dst, 2, mapFd(map), offset | 0);
}

/**
 * `dst = map` by index into the load's `fd_array` (`BPF_PSEUDO_MAP_IDX`, src 5).
 *
 * @example
 * ```ts
 * import { ldMapIdx, R1 } from "@tsbpf/core/insn";
 * ldMapIdx(R1, 0); // r1 = map[idx:0] ll
 * ```
 */
export function ldMapIdx(dst: Reg, index: number): Insn[] {
  return ld64(dst, 5, s32(index, "fd_array index"), 0);
}

/**
 * `dst = &value[0] + offset` of the map at `fd_array[index]` (`BPF_PSEUDO_MAP_IDX_VALUE`, src 6).
 *
 * @example
 * ```ts
 * import { ldMapIdxValue, R1 } from "@tsbpf/core/insn";
 * ldMapIdxValue(R1, 0, 8); // r1 = map_value[idx:0]+8 ll
 * ```
 */
export function ldMapIdxValue(dst: Reg, index: number, offset = 0): Insn[] {
  if (!Number.isInteger(offset) || offset < 0 || offset > 0xffffffff) {
    throw new RangeError(`map value offset ${describeValue(offset)} is not a u32`);
  }
  return ld64(dst, 6, s32(index, "fd_array index"), offset | 0);
}

/**
 * `dst = &kernel_variable` by BTF id (`BPF_PSEUDO_BTF_ID`, src 3); `btfFd` names the module's
 * BTF object (0 for vmlinux).
 *
 * @example
 * ```ts
 * import { ldBtfVar, R1 } from "@tsbpf/core/insn";
 * ldBtfVar(R1, 1234); // r1 = btf_var[1234] ll
 * ```
 */
export function ldBtfVar(dst: Reg, btfId: number, btfFd = 0): Insn[] {
  return ld64(dst, 3, s32(btfId, "BTF id"), s32(btfFd, "BTF fd"));
}

/**
 * `dst = &function` at `offset` slots after the next one (`BPF_PSEUDO_FUNC`, src 4), for
 * callbacks such as `bpf_loop`.
 *
 * @example
 * ```ts
 * import { ldFunc, R2 } from "@tsbpf/core/insn";
 * ldFunc(R2, 5); // r2 = func[pc+5] ll
 * ```
 */
export function ldFunc(dst: Reg, offset: number): Insn[] {
  return ld64(dst, 4, s32(offset, "function offset"), 0);
}

/**
 * Legacy packet load `r0 = *(uSIZE *)skb[imm]` (`BPF_LD_ABS`; socket filters).
 *
 * @example
 * ```ts
 * import { ldAbs } from "@tsbpf/core/insn";
 * ldAbs("h", 12); // r0 = *(u16 *)skb[12]
 * ```
 */
export function ldAbs(size: "b" | "h" | "w", imm: number): Insn {
  if ((size as string) === "dw") {
    throw new RangeError("a legacy packet load of 8 bytes does not exist");
  }
  return insn(0x20 | sizeCode(size), 0, 0, 0, imm32(imm));
}

/**
 * Legacy packet load `r0 = *(uSIZE *)skb[src + imm]` (`BPF_LD_IND`).
 *
 * @example
 * ```ts
 * import { ldInd, R6 } from "@tsbpf/core/insn";
 * ldInd("b", R6, 0); // r0 = *(u8 *)skb[r6]
 * ```
 */
export function ldInd(size: "b" | "h" | "w", src: Reg, imm: number): Insn {
  if ((size as string) === "dw") {
    throw new RangeError("a legacy packet load of 8 bytes does not exist");
  }
  return insn(0x40 | sizeCode(size), 0, regIndex(src, "src"), 0, imm32(imm));
}

// ------------------------------------------------------------------ jumps and calls

/**
 * `goto +off` (`BPF_JMP_A`).
 *
 * @example
 * ```ts
 * import { ja } from "@tsbpf/core/insn";
 * ja(2); // goto +2
 * ```
 */
export function ja(off: number): Insn {
  return insn(0x05, 0, 0, off16(off, "jump offset"), 0);
}

/**
 * `gotol +imm`: unconditional jump with a 32-bit offset (JMP32 `JA`, cpu v4).
 *
 * @example
 * ```ts
 * import { gotol } from "@tsbpf/core/insn";
 * gotol(100000);
 * ```
 */
export function gotol(imm: number): Insn {
  return insn(0x06, 0, 0, 0, s32(imm, "jump offset"));
}

/**
 * `may_goto +off`: jump when the loop budget is exhausted (Linux 6.9+).
 *
 * @example
 * ```ts
 * import { mayGoto } from "@tsbpf/core/insn";
 * mayGoto(3);
 * ```
 */
export function mayGoto(off: number): Insn {
  return insn(0xe5, 0, 0, off16(off, "jump offset"), 0);
}

/**
 * `if dst OP imm goto +off` (64-bit compare, `BPF_JMP_IMM`).
 *
 * @example
 * ```ts
 * import { jmpImm, R0 } from "@tsbpf/core/insn";
 * jmpImm("jeq", R0, 0, 1); // if r0 == 0 goto +1
 * ```
 */
export function jmpImm(op: JmpOp, dst: Reg, imm: number, off: number): Insn {
  return insn(0x05 | jmpCode(op), regIndex(dst, "dst"), 0, off16(off, "jump offset"), imm32(imm));
}

/**
 * `if dst OP src goto +off` (64-bit compare, `BPF_JMP_REG`).
 *
 * @example
 * ```ts
 * import { jmpReg, R1, R2 } from "@tsbpf/core/insn";
 * jmpReg("jgt", R1, R2, 3); // if r1 > r2 goto +3
 * ```
 */
export function jmpReg(op: JmpOp, dst: Reg, src: Reg, off: number): Insn {
  return insn(
    0x0d | jmpCode(op),
    regIndex(dst, "dst"),
    regIndex(src, "src"),
    off16(off, "jump offset"),
    0,
  );
}

/**
 * `if wDST OP imm goto +off` (32-bit compare, `BPF_JMP32_IMM`).
 *
 * @example
 * ```ts
 * import { jmp32Imm, R0 } from "@tsbpf/core/insn";
 * jmp32Imm("jne", R0, 7, -2); // if w0 != 7 goto -2
 * ```
 */
export function jmp32Imm(op: JmpOp, dst: Reg, imm: number, off: number): Insn {
  return insn(0x06 | jmpCode(op), regIndex(dst, "dst"), 0, off16(off, "jump offset"), imm32(imm));
}

/**
 * `if wDST OP wSRC goto +off` (32-bit compare, `BPF_JMP32_REG`).
 *
 * @example
 * ```ts
 * import { jmp32Reg, R1, R2 } from "@tsbpf/core/insn";
 * jmp32Reg("jslt", R1, R2, 1); // if w1 s< w2 goto +1
 * ```
 */
export function jmp32Reg(op: JmpOp, dst: Reg, src: Reg, off: number): Insn {
  return insn(
    0x0e | jmpCode(op),
    regIndex(dst, "dst"),
    regIndex(src, "src"),
    off16(off, "jump offset"),
    0,
  );
}

/**
 * Calls a helper by name (with or without `bpf_`) or id (`BPF_EMIT_CALL`).
 *
 * @throws {RangeError} for a name that is not a helper of this kernel's table.
 * @example
 * ```ts
 * import { callHelper } from "@tsbpf/core/insn";
 * callHelper("map_lookup_elem"); // call bpf_map_lookup_elem#1
 * callHelper(5); // call bpf_ktime_get_ns#5
 * ```
 */
export function callHelper(helper: string | number): Insn {
  return insn(0x85, 0, 0, 0, helperId(helper));
}

function helperId(helper: string | number): number {
  if (typeof helper === "number") return s32(helper, "helper id");
  if (typeof helper !== "string") {
    throw new TypeError(`helper must be a name or an id, got ${describeValue(helper)}`);
  }
  const id = helperIdByName(helper);
  if (id === undefined) {
    throw new RangeError(`unknown helper "${helper}" (not in types/helpers.ts)`);
  }
  return id;
}

/**
 * BPF-to-BPF call of the function `imm` slots after the next one (`src` 1).
 *
 * @example
 * ```ts
 * import { callLocal } from "@tsbpf/core/insn";
 * callLocal(4); // call pc+4
 * ```
 */
export function callLocal(imm: number): Insn {
  return insn(0x85, 0, 1, 0, s32(imm, "call offset"));
}

/**
 * Calls a kernel function by BTF id (`src` 2); `fdIndex` selects a module's BTF in `fd_array`
 * (0 for vmlinux).
 *
 * @example
 * ```ts
 * import { callKfunc } from "@tsbpf/core/insn";
 * callKfunc(12345); // call kfunc[12345]
 * ```
 */
export function callKfunc(btfId: number, fdIndex = 0): Insn {
  return insn(0x85, 0, 2, off16(fdIndex, "fd_array index"), s32(btfId, "BTF id"));
}

/**
 * `exit`: return r0 (`BPF_EXIT_INSN`).
 *
 * @example
 * ```ts
 * import { exit } from "@tsbpf/core/insn";
 * exit(); // { code: 0x95, dst: 0, src: 0, off: 0, imm: 0 }
 * ```
 */
export function exit(): Insn {
  return insn(0x95, 0, 0, 0, 0);
}

/**
 * Any instruction from its fields (`BPF_RAW_INSN`); only checks the field ranges.
 *
 * @example
 * ```ts
 * import { rawInsn } from "@tsbpf/core/insn";
 * rawInsn(0xb7, 0, 0, 0, 1); // r0 = 1
 * ```
 */
export function rawInsn(code: number, dst: number, src: number, off: number, imm: number): Insn {
  const nib = (v: number, w: string): number => {
    if (!Number.isInteger(v) || v < 0 || v > 15) {
      throw new RangeError(`${w} ${describeValue(v)} is not 0-15`);
    }
    return v;
  };
  if (!Number.isInteger(code) || code < 0 || code > 255) {
    throw new RangeError(`code ${describeValue(code)} is not a byte`);
  }
  return insn(code, nib(dst, "dst"), nib(src, "src"), off16(off), imm32(imm));
}

// ------------------------------------------------------------------ Asm builder

interface Fixup {
  index: number;
  field: "off" | "imm";
  label: string;
}

/**
 * A chaining program builder with named labels: jumps take a label (resolved by {@link build},
 * forward or backward) or a relative offset; helpers are called by name.
 *
 * @example
 * ```ts
 * import { Asm, R0, R1, R2, R10 } from "@tsbpf/core/insn";
 * const insns = new Asm()
 *   .st("w", R10, -4, 0)
 *   .mov64(R2, R10).add64(R2, -4)
 *   .ldMapFd(R1, 5)
 *   .call("map_lookup_elem")
 *   .jeq(R0, 0, "out")
 *   .ldx("w", R0, R0, 0)
 *   .label("out")
 *   .exit()
 *   .build();
 * ```
 */
export class Asm {
  readonly #insns: Insn[] = [];
  readonly #labels = new Map<string, number>();
  readonly #fixups: Fixup[] = [];

  /** Number of slots so far (the index the next instruction gets). */
  get length(): number {
    return this.#insns.length;
  }

  /**
   * Defines `name` at the current position.
   *
   * @throws {RangeError} when the label is already defined.
   */
  label(name: string): this {
    if (typeof name !== "string" || name === "") {
      throw new TypeError(`label name must be a non-empty string, got ${describeValue(name)}`);
    }
    const prev = this.#labels.get(name);
    if (prev !== undefined) {
      throw new RangeError(
        `duplicate label "${name}": defined at slot ${prev} and again at slot ${this.#insns.length}`,
      );
    }
    this.#labels.set(name, this.#insns.length);
    return this;
  }

  /** Appends instructions as they are. */
  insn(...insns: Insn[]): this {
    for (const i of insns) this.#insns.push(i);
    return this;
  }

  /**
   * Returns the instructions with every label resolved (a new array each call).
   *
   * @throws {RangeError} naming an unknown label and the slot that refers to it, or a jump that
   * does not fit in 16 bits.
   */
  build(): Insn[] {
    const out = this.#insns.map((i) => ({ ...i }));
    for (const f of this.#fixups) {
      const target = this.#labels.get(f.label);
      if (target === undefined) {
        const known = [...this.#labels.keys()];
        throw new RangeError(
          `unknown label "${f.label}" (used at slot ${f.index}); defined labels: ${
            known.length ? known.map((k) => `"${k}"`).join(", ") : "none"
          }`,
        );
      }
      const rel = target - (f.index + 1);
      if (f.field === "off") {
        if (rel < -0x8000 || rel > 0x7fff) {
          throw new RangeError(
            `label "${f.label}" is ${rel} slots from the jump at slot ${f.index}; 16-bit offsets reach -32768..32767 (use gotol)`,
          );
        }
        out[f.index].off = rel;
      } else {
        out[f.index].imm = rel;
      }
    }
    return out;
  }

  #push(i: Insn): this {
    this.#insns.push(i);
    return this;
  }

  #jumpTo(i: Insn, target: Target, field: "off" | "imm"): this {
    if (typeof target === "string") {
      this.#fixups.push({ index: this.#insns.length, field, label: target });
    } else if (field === "off") {
      i.off = off16(target, "jump offset");
    } else {
      i.imm = s32(target, "jump offset");
    }
    return this.#push(i);
  }

  #alu(wide: boolean, op: AluOp, dst: Reg, src: Reg | number): this {
    if (typeof src === "number") {
      return this.#push(wide ? alu64Imm(op, dst, src) : alu32Imm(op, dst, src));
    }
    return this.#push(wide ? alu64Reg(op, dst, src) : alu32Reg(op, dst, src));
  }

  /** `dst OP= src|imm`, 64 bits. */
  alu64(op: AluOp, dst: Reg, src: Reg | number): this {
    return this.#alu(true, op, dst, src);
  }
  /** `wDST OP= wSRC|imm`, 32 bits. */
  alu32(op: AluOp, dst: Reg, src: Reg | number): this {
    return this.#alu(false, op, dst, src);
  }
  /** `dst = src|imm`. */
  mov64(dst: Reg, src: Reg | number): this {
    return this.#alu(true, "mov", dst, src);
  }
  /** `wDST = wSRC|imm`. */
  mov32(dst: Reg, src: Reg | number): this {
    return this.#alu(false, "mov", dst, src);
  }
  /** `dst += src|imm`. */
  add64(dst: Reg, src: Reg | number): this {
    return this.#alu(true, "add", dst, src);
  }
  /** `wDST += wSRC|imm`. */
  add32(dst: Reg, src: Reg | number): this {
    return this.#alu(false, "add", dst, src);
  }
  /** `dst -= src|imm`. */
  sub64(dst: Reg, src: Reg | number): this {
    return this.#alu(true, "sub", dst, src);
  }
  /** `wDST -= wSRC|imm`. */
  sub32(dst: Reg, src: Reg | number): this {
    return this.#alu(false, "sub", dst, src);
  }
  /** `dst *= src|imm`. */
  mul64(dst: Reg, src: Reg | number): this {
    return this.#alu(true, "mul", dst, src);
  }
  /** `wDST *= wSRC|imm`. */
  mul32(dst: Reg, src: Reg | number): this {
    return this.#alu(false, "mul", dst, src);
  }
  /** `dst /= src|imm` (unsigned). */
  div64(dst: Reg, src: Reg | number): this {
    return this.#alu(true, "div", dst, src);
  }
  /** `wDST /= wSRC|imm` (unsigned). */
  div32(dst: Reg, src: Reg | number): this {
    return this.#alu(false, "div", dst, src);
  }
  /** `dst s/= src|imm` (signed). */
  sdiv64(dst: Reg, src: Reg | number): this {
    return this.#alu(true, "sdiv", dst, src);
  }
  /** `wDST s/= wSRC|imm` (signed). */
  sdiv32(dst: Reg, src: Reg | number): this {
    return this.#alu(false, "sdiv", dst, src);
  }
  /** `dst %= src|imm` (unsigned). */
  mod64(dst: Reg, src: Reg | number): this {
    return this.#alu(true, "mod", dst, src);
  }
  /** `wDST %= wSRC|imm` (unsigned). */
  mod32(dst: Reg, src: Reg | number): this {
    return this.#alu(false, "mod", dst, src);
  }
  /** `dst s%= src|imm` (signed). */
  smod64(dst: Reg, src: Reg | number): this {
    return this.#alu(true, "smod", dst, src);
  }
  /** `wDST s%= wSRC|imm` (signed). */
  smod32(dst: Reg, src: Reg | number): this {
    return this.#alu(false, "smod", dst, src);
  }
  /** `dst |= src|imm`. */
  or64(dst: Reg, src: Reg | number): this {
    return this.#alu(true, "or", dst, src);
  }
  /** `wDST |= wSRC|imm`. */
  or32(dst: Reg, src: Reg | number): this {
    return this.#alu(false, "or", dst, src);
  }
  /** `dst &= src|imm`. */
  and64(dst: Reg, src: Reg | number): this {
    return this.#alu(true, "and", dst, src);
  }
  /** `wDST &= wSRC|imm`. */
  and32(dst: Reg, src: Reg | number): this {
    return this.#alu(false, "and", dst, src);
  }
  /** `dst ^= src|imm`. */
  xor64(dst: Reg, src: Reg | number): this {
    return this.#alu(true, "xor", dst, src);
  }
  /** `wDST ^= wSRC|imm`. */
  xor32(dst: Reg, src: Reg | number): this {
    return this.#alu(false, "xor", dst, src);
  }
  /** `dst <<= src|imm`. */
  lsh64(dst: Reg, src: Reg | number): this {
    return this.#alu(true, "lsh", dst, src);
  }
  /** `wDST <<= wSRC|imm`. */
  lsh32(dst: Reg, src: Reg | number): this {
    return this.#alu(false, "lsh", dst, src);
  }
  /** `dst >>= src|imm` (logical). */
  rsh64(dst: Reg, src: Reg | number): this {
    return this.#alu(true, "rsh", dst, src);
  }
  /** `wDST >>= wSRC|imm` (logical). */
  rsh32(dst: Reg, src: Reg | number): this {
    return this.#alu(false, "rsh", dst, src);
  }
  /** `dst s>>= src|imm` (arithmetic). */
  arsh64(dst: Reg, src: Reg | number): this {
    return this.#alu(true, "arsh", dst, src);
  }
  /** `wDST s>>= wSRC|imm` (arithmetic). */
  arsh32(dst: Reg, src: Reg | number): this {
    return this.#alu(false, "arsh", dst, src);
  }
  /** `dst = -dst`. */
  neg64(dst: Reg): this {
    return this.#push(neg64(dst));
  }
  /** `wDST = -wDST`. */
  neg32(dst: Reg): this {
    return this.#push(neg32(dst));
  }
  /** `dst = (sBITS)src`. */
  movsx64(dst: Reg, src: Reg, bits: 8 | 16 | 32): this {
    return this.#push(movsx64(dst, src, bits));
  }
  /** `wDST = (sBITS)wSRC`. */
  movsx32(dst: Reg, src: Reg, bits: 8 | 16): this {
    return this.#push(movsx32(dst, src, bits));
  }
  /** `dst = leBITS dst`. */
  le(dst: Reg, bits: 16 | 32 | 64): this {
    return this.#push(le(dst, bits));
  }
  /** `dst = beBITS dst`. */
  be(dst: Reg, bits: 16 | 32 | 64): this {
    return this.#push(be(dst, bits));
  }
  /** `dst = bswapBITS dst`. */
  bswap(dst: Reg, bits: 16 | 32 | 64): this {
    return this.#push(bswap(dst, bits));
  }
  /** `dst = addr_space_cast(src, dstAs, srcAs)`. */
  addrSpaceCast(dst: Reg, src: Reg, dstAs: 0 | 1, srcAs: 0 | 1): this {
    return this.#push(addrSpaceCast(dst, src, dstAs, srcAs));
  }
  /** `dst = *(uSIZE *)(src + off)`. */
  ldx(size: Size, dst: Reg, src: Reg, off: number): this {
    return this.#push(ldxMem(size, dst, src, off));
  }
  /** `dst = *(sSIZE *)(src + off)`. */
  ldxs(size: "b" | "h" | "w", dst: Reg, src: Reg, off: number): this {
    return this.#push(ldxMemSx(size, dst, src, off));
  }
  /** `*(uSIZE *)(dst + off) = imm`. */
  st(size: Size, dst: Reg, off: number, imm: number): this {
    return this.#push(stMem(size, dst, off, imm));
  }
  /** `*(uSIZE *)(dst + off) = src` (kernel argument order: size, dst, src, off). */
  stx(size: Size, dst: Reg, src: Reg, off: number): this {
    return this.#push(stxMem(size, dst, src, off));
  }
  /** An atomic operation on `*(uSIZE *)(dst + off)`, see {@link atomicOp}. */
  atomic(size: "w" | "dw", op: AtomicOp, dst: Reg, src: Reg, off: number): this {
    return this.#push(atomicOp(size, op, dst, src, off));
  }
  /** `dst = load_acquire((uSIZE *)(src + off))`. */
  loadAcquire(size: Size, dst: Reg, src: Reg, off: number): this {
    return this.#push(loadAcquire(size, dst, src, off));
  }
  /** `store_release((uSIZE *)(dst + off), src)`. */
  storeRelease(size: Size, dst: Reg, src: Reg, off: number): this {
    return this.#push(storeRelease(size, dst, src, off));
  }
  /** `dst = value` (64 bits, two slots). */
  ldImm64(dst: Reg, value: number | bigint): this {
    return this.insn(...ldImm64(dst, value));
  }
  /** `dst = map` by fd (a number or an object with `fd`). */
  ldMapFd(dst: Reg, map: MapRef): this {
    return this.insn(...ldMapFd(dst, map));
  }
  /** `dst = &map value + offset` by fd. */
  ldMapValue(dst: Reg, map: MapRef, offset = 0): this {
    return this.insn(...ldMapValue(dst, map, offset));
  }
  /** `dst = map` at `fd_array[index]`. */
  ldMapIdx(dst: Reg, index: number): this {
    return this.insn(...ldMapIdx(dst, index));
  }
  /** `dst = &value + offset` of the map at `fd_array[index]`. */
  ldMapIdxValue(dst: Reg, index: number, offset = 0): this {
    return this.insn(...ldMapIdxValue(dst, index, offset));
  }
  /** `dst = &kernel_variable` by BTF id. */
  ldBtfVar(dst: Reg, btfId: number, btfFd = 0): this {
    return this.insn(...ldBtfVar(dst, btfId, btfFd));
  }
  /** `dst = &function` at a label or offset (callbacks). */
  ldFunc(dst: Reg, target: Target): this {
    const [a, b] = ldFunc(dst, 0);
    this.#jumpTo(a, target, "imm");
    return this.#push(b);
  }
  /** `r0 = *(uSIZE *)skb[imm]`. */
  ldAbs(size: "b" | "h" | "w", imm: number): this {
    return this.#push(ldAbs(size, imm));
  }
  /** `r0 = *(uSIZE *)skb[src + imm]`. */
  ldInd(size: "b" | "h" | "w", src: Reg, imm: number): this {
    return this.#push(ldInd(size, src, imm));
  }
  /** `goto target`. */
  ja(target: Target): this {
    return this.#jumpTo(ja(0), target, "off");
  }
  /** `gotol target` (32-bit offset). */
  gotol(target: Target): this {
    return this.#jumpTo(gotol(0), target, "imm");
  }
  /** `may_goto target`. */
  mayGoto(target: Target): this {
    return this.#jumpTo(mayGoto(0), target, "off");
  }
  /** `if dst OP src|imm goto target` (64-bit compare). */
  jmp(op: JmpOp, dst: Reg, src: Reg | number, target: Target): this {
    const i = typeof src === "number" ? jmpImm(op, dst, src, 0) : jmpReg(op, dst, src, 0);
    return this.#jumpTo(i, target, "off");
  }
  /** `if wDST OP wSRC|imm goto target` (32-bit compare). */
  jmp32(op: JmpOp, dst: Reg, src: Reg | number, target: Target): this {
    const i = typeof src === "number" ? jmp32Imm(op, dst, src, 0) : jmp32Reg(op, dst, src, 0);
    return this.#jumpTo(i, target, "off");
  }
  /** `if dst == src|imm goto target`. */
  jeq(dst: Reg, src: Reg | number, target: Target): this {
    return this.jmp("jeq", dst, src, target);
  }
  /** `if dst != src|imm goto target`. */
  jne(dst: Reg, src: Reg | number, target: Target): this {
    return this.jmp("jne", dst, src, target);
  }
  /** `if dst > src|imm goto target` (unsigned). */
  jgt(dst: Reg, src: Reg | number, target: Target): this {
    return this.jmp("jgt", dst, src, target);
  }
  /** `if dst >= src|imm goto target` (unsigned). */
  jge(dst: Reg, src: Reg | number, target: Target): this {
    return this.jmp("jge", dst, src, target);
  }
  /** `if dst < src|imm goto target` (unsigned). */
  jlt(dst: Reg, src: Reg | number, target: Target): this {
    return this.jmp("jlt", dst, src, target);
  }
  /** `if dst <= src|imm goto target` (unsigned). */
  jle(dst: Reg, src: Reg | number, target: Target): this {
    return this.jmp("jle", dst, src, target);
  }
  /** `if dst s> src|imm goto target`. */
  jsgt(dst: Reg, src: Reg | number, target: Target): this {
    return this.jmp("jsgt", dst, src, target);
  }
  /** `if dst s>= src|imm goto target`. */
  jsge(dst: Reg, src: Reg | number, target: Target): this {
    return this.jmp("jsge", dst, src, target);
  }
  /** `if dst s< src|imm goto target`. */
  jslt(dst: Reg, src: Reg | number, target: Target): this {
    return this.jmp("jslt", dst, src, target);
  }
  /** `if dst s<= src|imm goto target`. */
  jsle(dst: Reg, src: Reg | number, target: Target): this {
    return this.jmp("jsle", dst, src, target);
  }
  /** `if dst & src|imm goto target`. */
  jset(dst: Reg, src: Reg | number, target: Target): this {
    return this.jmp("jset", dst, src, target);
  }
  /** Calls a helper by name (with or without `bpf_`) or id. */
  call(helper: string | number): this {
    return this.#push(callHelper(helper));
  }
  /** BPF-to-BPF call of the function at a label or offset. */
  callLocal(target: Target): this {
    return this.#jumpTo(callLocal(0), target, "imm");
  }
  /** Calls a kfunc by BTF id. */
  callKfunc(btfId: number, fdIndex = 0): this {
    return this.#push(callKfunc(btfId, fdIndex));
  }
  /** `exit`. */
  exit(): this {
    return this.#push(exit());
  }
}
