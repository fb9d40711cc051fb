/**
 * Two-slot `ld_imm64` constructors (64-bit constants, map fds and values, BTF variables,
 * functions) and the legacy packet loads `ld_abs`/`ld_ind`.
 *
 * @module
 */
import type { Insn } from "./insn.ts";
import { describeValue, type Reg, regIndex } from "./regs.ts";
import { imm32, insn, mapFd, type MapRef, s32, sizeCode } from "./fields.ts";
import { ArgumentError } from "../errors.ts";

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
  else {throw new ArgumentError(
      "imm",
      `ldImm64 value ${describeValue(value)} is not a safe integer; pass a bigint`,
    );}
  if (v < -(1n << 63n) || v >= 1n << 64n) {
    throw new ArgumentError("imm", `ldImm64 value ${v} does not fit in 64 bits`);
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
    throw new ArgumentError("offset", `map value offset ${describeValue(offset)} is not a u32`);
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
    throw new ArgumentError("offset", `map value offset ${describeValue(offset)} is not a u32`);
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
    throw new ArgumentError("size", "a legacy packet load of 8 bytes does not exist");
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
    throw new ArgumentError("size", "a legacy packet load of 8 bytes does not exist");
  }
  return insn(0x40 | sizeCode(size), 0, regIndex(src, "src"), 0, imm32(imm));
}
