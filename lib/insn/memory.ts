/**
 * Memory instruction constructors: loads, stores, atomic operations, load-acquire and
 * store-release.
 *
 * @module
 */
import type { Insn } from "./insn.ts";
import { describeValue, type Reg, regIndex } from "./regs.ts";
import { ATOMIC_CODES, type AtomicOp, imm32, insn, off16, type Size, sizeCode } from "./fields.ts";
import { ArgumentError } from "../errors.ts";

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
    throw new ArgumentError("size", "a sign-extending load of 8 bytes does not exist");
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
    throw new ArgumentError(
      "atomic",
      `atomic operations are 32 ("w") or 64 ("dw") bits, got ${describeValue(size)}`,
    );
  }
  const imm = ATOMIC_CODES[op];
  if (imm === undefined) {
    throw new ArgumentError("op", `unknown atomic operation ${describeValue(op)}`);
  }
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
