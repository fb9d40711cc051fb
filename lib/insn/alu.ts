/**
 * ALU instruction constructors in the style of the kernel's `BPF_ALU64_IMM`-like macros: arithmetic,
 * moves, sign-extending moves, negation, byte swaps and address-space casts.
 *
 * @module
 */
import { requireInt } from "../args.ts";
import type { Insn } from "./insn.ts";
import { describeValue, type Reg, regIndex } from "./regs.ts";
import { aluCode, type AluOp, imm32, insn } from "./fields.ts";
import { ArgumentError } from "../errors.ts";

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
    throw new ArgumentError(
      "bits",
      `movsx64 width must be 8, 16 or 32, got ${describeValue(bits)}`,
    );
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
    throw new ArgumentError("bits", `movsx32 width must be 8 or 16, got ${describeValue(bits)}`);
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
    throw new ArgumentError(
      "bits",
      `byte swap width must be 16, 32 or 64, got ${describeValue(bits)}`,
    );
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
  requireInt("addrSpaceCast", "dstAs", dstAs, 0, 1);
  requireInt("addrSpaceCast", "srcAs", srcAs, 0, 1);
  const imm = ((dstAs & 0xffff) << 16) | (srcAs & 0xffff);
  if (imm !== 1 && imm !== 0x10000) {
    throw new ArgumentError(
      "addr_space_cast",
      `addr_space_cast converts between spaces 0 and 1, got ${dstAs}, ${srcAs}`,
    );
  }
  return insn(0xbf, regIndex(dst, "dst"), regIndex(src, "src"), 1, imm);
}
