/**
 * Jump and call constructors: unconditional and conditional jumps (64- and 32-bit), `may_goto`,
 * helper, local and kfunc calls, `exit`, and raw instructions.
 *
 * @module
 */
import { helperIdByName } from "../../types/helpers.ts";
import type { Insn } from "./insn.ts";
import { describeValue, type Reg, regIndex } from "./regs.ts";
import { imm32, insn, jmpCode, type JmpOp, off16, s32 } from "./fields.ts";
import { ArgumentError } from "../errors.ts";

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
 * @throws {ArgumentError} for a name that is not a helper of this kernel's table.
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
    throw new ArgumentError(
      "helper",
      `helper must be a name or an id, got ${describeValue(helper)}`,
    );
  }
  const id = helperIdByName(helper);
  if (id === undefined) {
    throw new ArgumentError("helper", `unknown helper "${helper}" (not in types/helpers.ts)`);
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
      throw new ArgumentError(w, `${w} ${describeValue(v)} is not 0-15`);
    }
    return v;
  };
  if (!Number.isInteger(code) || code < 0 || code > 255) {
    throw new ArgumentError("code", `code ${describeValue(code)} is not a byte`);
  }
  return insn(code, nib(dst, "dst"), nib(src, "src"), off16(off), imm32(imm));
}
