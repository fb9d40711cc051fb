/**
 * Building instructions in code: standalone constructors in the style of the kernel's
 * `BPF_MOV64_IMM`-like macros (`mov64Imm(R0, 0)`), and the chaining {@link InsnBuilder} with named
 * labels (`new InsnBuilder().mov64(R0, 0).exit().build()`). The text assembler is `asm`/`assemble`
 * (asm.ts).
 *
 * Immediates are 32-bit fields: any integer from -2^31 to 2^32-1 is accepted, values from 2^31 are
 * stored as their two's complement (so `mov64Imm(R0, 0xffffffff)` sets r0 to -1, sign-extended).
 *
 * @module
 */
import type { Insn } from "./insn.ts";
import { describeValue, type Reg } from "./regs.ts";
import {
  addrSpaceCast,
  alu32Imm,
  alu32Reg,
  alu64Imm,
  alu64Reg,
  be,
  bswap,
  le,
  movsx32,
  movsx64,
  neg32,
  neg64,
} from "./alu.ts";
import {
  type AluOp,
  type AtomicOp,
  type JmpOp,
  type MapRef,
  off16,
  s32,
  type Size,
  type Target,
} from "./fields.ts";
import {
  callHelper,
  callKfunc,
  callLocal,
  exit,
  gotol,
  ja,
  jmp32Imm,
  jmp32Reg,
  jmpImm,
  jmpReg,
  mayGoto,
} from "./jumps.ts";
import {
  ldAbs,
  ldBtfVar,
  ldFunc,
  ldImm64,
  ldInd,
  ldMapFd,
  ldMapIdx,
  ldMapIdxValue,
  ldMapValue,
} from "./ld_imm64.ts";
import { atomicOp, ldxMem, ldxMemSx, loadAcquire, stMem, storeRelease, stxMem } from "./memory.ts";
import { ArgumentError } from "../errors.ts";

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
 * import { InsnBuilder, R0, R1, R2, R10 } from "@tsbpf/core/insn";
 * const insns = new InsnBuilder()
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
export class InsnBuilder {
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
   * @throws {ArgumentError} when the label is already defined.
   */
  label(name: string): this {
    if (typeof name !== "string" || name === "") {
      throw new ArgumentError(
        "label",
        `label name must be a non-empty string, got ${describeValue(name)}`,
      );
    }
    const prev = this.#labels.get(name);
    if (prev !== undefined) {
      throw new ArgumentError(
        "name",
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
   * @throws {ArgumentError} naming an unknown label and the slot that refers to it, or a jump that
   * does not fit in 16 bits.
   */
  build(): Insn[] {
    const out = this.#insns.map((i) => ({ ...i }));
    for (const f of this.#fixups) {
      const target = this.#labels.get(f.label);
      if (target === undefined) {
        const known = [...this.#labels.keys()];
        throw new ArgumentError(
          "label",
          `unknown label "${f.label}" (used at slot ${f.index}); defined labels: ${
            known.length ? known.map((k) => `"${k}"`).join(", ") : "none"
          }`,
        );
      }
      const rel = target - (f.index + 1);
      if (f.field === "off") {
        if (rel < -0x8000 || rel > 0x7fff) {
          throw new ArgumentError(
            "label",
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

/**
 * The former name of {@link InsnBuilder}, kept for existing code: "Asm" read like the text
 * assembler (`asm`, `assemble`), which it is not.
 *
 * @deprecated Use {@link InsnBuilder}.
 * @example
 * ```ts
 * import { Asm, InsnBuilder } from "@tsbpf/core/insn";
 * Asm === InsnBuilder; // true
 * ```
 */
export const Asm: typeof InsnBuilder = InsnBuilder;
/** The former name of {@link InsnBuilder}. @deprecated Use {@link InsnBuilder}. */
export type Asm = InsnBuilder;
