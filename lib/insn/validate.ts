/**
 * Which encodings are instructions: RFC 9669 plus the Linux 6.18 additions (`may_goto`, `gotol`,
 * `addr_space_cast`, load-acquire and store-release, kfunc calls, `ld_imm64` pseudo sources).
 *
 * The rules are the encoding rules of the RFC ("fields unused by an instruction are reserved and
 * MUST be set to zero") and the kernel verifier's reserved-field checks (`check_alu_op`,
 * `check_cond_jmp_op`, `check_atomic`, `check_ld_imm`, `resolve_pseudo_ldimm64`). They do not
 * include what depends on the program as a whole or on the verifier's state: a shift by a constant
 * outside 0..width-1 (RFC 9669 masks it, Linux refuses it), a write to `r10`, a jump out of the
 * program, a read of an uninitialised register. Those are valid encodings which the verifier may
 * still refuse. The one place these rules are stricter than Linux: `exit` with a nonzero `off`
 * (reserved by the RFC, ignored by Linux) is invalid. `tests/insn_kernel_validity.test.ts` checks
 * the rules against the running kernel's verifier.
 *
 * @module
 */
import { requireInsns } from "../args.ts";
import type { Insn } from "./insn.ts";
import { ATOMIC_RMW_OPS, SIZE_BYTES } from "./semantics.ts";

/**
 * What an instruction does, as {@link describeInsn} reports it.
 *
 * @example
 * ```ts
 * import { describeInsn, type InsnKind } from "@tsbpf/core/insn";
 * const kind: InsnKind = describeInsn([{ code: 0x95, dst: 0, src: 0, off: 0, imm: 0 }], 0).kind; // "exit"
 * ```
 */
export type InsnKind =
  | "alu"
  | "neg"
  | "movsx"
  | "endian"
  | "addr_space_cast"
  | "ldx"
  | "ldxs"
  | "st"
  | "stx"
  | "atomic"
  | "load_acquire"
  | "store_release"
  | "ld_imm64"
  | "ld_abs"
  | "ld_ind"
  | "ja"
  | "gotol"
  | "may_goto"
  | "jmp"
  | "call_helper"
  | "call_local"
  | "call_kfunc"
  | "callx"
  | "exit"
  | "invalid";

/**
 * What {@link describeInsn} says about one instruction.
 *
 * @example
 * ```ts
 * import { describeInsn, type InsnDescription } from "@tsbpf/core/insn";
 * const d: InsnDescription = describeInsn([{ code: 0x95, dst: 0, src: 0, off: 0, imm: 7 }], 0);
 * d.valid; // false
 * d.reason; // "exit uses reserved fields (imm 7)"
 * ```
 */
export interface InsnDescription {
  /** Whether the encoding is a valid instruction. */
  valid: boolean;
  /** Why it is not valid (absent when valid). */
  reason?: string;
  /** The instruction's kind; `"invalid"` when not valid (except `callx`, see below). */
  kind: InsnKind;
  /** Slots it occupies: 2 for a valid `ld_imm64`, else 1. */
  slots: 1 | 2;
  /**
   * Slot index a jump, `may_goto`, BPF-to-BPF call or `ld_imm64` function reference leads to
   * (`index + 1 + offset`), whether or not it lies inside the program.
   */
  target?: number;
}

/**
 * Why `insns[index]` is not a valid instruction, or `undefined` when it is.
 *
 * A valid `ld_imm64` needs its second slot at `index + 1`; the second slot on its own (opcode 0)
 * is not an instruction.
 *
 * @example
 * ```ts
 * import { insnError } from "@tsbpf/core/insn";
 * insnError([{ code: 0x95, dst: 0, src: 0, off: 0, imm: 0 }], 0); // undefined (exit)
 * insnError([{ code: 0x95, dst: 0, src: 0, off: 0, imm: 1 }], 0); // "exit uses reserved fields (imm 1)"
 * ```
 */
export function insnError(insns: readonly Insn[], index: number): string | undefined {
  if (!Array.isArray(insns)) requireInsns("insnError", "insns", insns);
  const insn = insns[index];
  if (insn === undefined) return `no instruction at index ${index}`;
  const { code, dst, src, off, imm } = insn;
  if (!isU8(code)) return `opcode ${code} is not a byte`;
  if (!isReg4(dst) || !isReg4(src)) {
    return `register fields must be 4-bit values (dst ${dst}, src ${src})`;
  }
  if (!isS16(off)) return `off ${off} is not a signed 16-bit integer`;
  if (!isS32(imm)) return `imm ${imm} is not a signed 32-bit integer`;
  const cls = code & 7;
  switch (cls) {
    case 4: // ALU
    case 7: // ALU64
      return aluError(code, dst, src, off, imm);
    case 5: // JMP
    case 6: // JMP32
      return jmpError(code, dst, src, off, imm);
    case 1: { // LDX
      if (dst > 10 || src > 10) return badReg(dst, src);
      const mode = code & 0xe0;
      if (mode === 0x60) return imm !== 0 ? `load uses reserved fields (imm ${imm})` : undefined;
      if (mode === 0x80) {
        if ((code & 0x18) === 0x18) return "sign-extending load of 64 bits does not exist";
        return imm !== 0 ? `load uses reserved fields (imm ${imm})` : undefined;
      }
      return `unknown LDX mode 0x${hex2(mode)}`;
    }
    case 2: { // ST
      if (dst > 10) return badReg(dst, 0);
      if ((code & 0xe0) !== 0x60) return `unknown ST mode 0x${hex2(code & 0xe0)}`;
      return src !== 0 ? `store of an immediate uses reserved fields (src ${src})` : undefined;
    }
    case 3: { // STX
      if (dst > 10 || src > 10) return badReg(dst, src);
      const mode = code & 0xe0;
      if (mode === 0x60) return imm !== 0 ? `store uses reserved fields (imm ${imm})` : undefined;
      if (mode !== 0xc0) return `unknown STX mode 0x${hex2(mode)}`;
      const size = code & 0x18;
      if (imm === 0x100 || imm === 0x110) return undefined; // load-acquire, store-release: any size
      if (!isAtomicOp(imm)) return `unknown atomic operation imm 0x${(imm >>> 0).toString(16)}`;
      if (size !== 0x00 && size !== 0x18) {
        return `atomic read-modify-write of ${
          SIZE_BYTES[size >> 3]
        } bytes does not exist (only 4 and 8)`;
      }
      return undefined;
    }
    default: { // LD
      const mode = code & 0xe0;
      const size = code & 0x18;
      if (mode === 0x00) {
        if (size !== 0x18) {
          return `LD IMM of ${SIZE_BYTES[size >> 3]} bytes does not exist (ld_imm64 is 0x18)`;
        }
        return ldImm64Error(insns, index);
      }
      if (mode === 0x20 || mode === 0x40) {
        if (size === 0x18) return "legacy packet load of 8 bytes does not exist";
        if (dst !== 0 || off !== 0) {
          return `legacy packet load uses reserved fields (dst ${dst}, off ${off})`;
        }
        if (mode === 0x20 && src !== 0) {
          return `legacy absolute packet load uses reserved fields (src ${src})`;
        }
        if (src > 10) return badReg(0, src);
        return undefined;
      }
      return `unknown LD mode 0x${hex2(mode)}`;
    }
  }
}

function aluError(
  code: number,
  dst: number,
  src: number,
  off: number,
  imm: number,
): string | undefined {
  const op = code & 0xf0;
  const x = (code & 8) !== 0;
  const wide = (code & 7) === 7;
  if (dst > 10) return badReg(dst, 0);
  if (op === 0x80) { // NEG
    if (x || src !== 0 || off !== 0 || imm !== 0) return "neg uses reserved fields";
    return undefined;
  }
  if (op === 0xd0) { // END
    if (src !== 0 || off !== 0) return "byte swap uses reserved fields";
    if (imm !== 16 && imm !== 32 && imm !== 64) return `byte swap width ${imm} is not 16, 32 or 64`;
    if (wide && x) return "byte swap: ALU64 has only bswap (to-le bit), not be";
    return undefined;
  }
  if (op > 0xd0) return `unknown ALU operation 0x${hex2(op)}`;
  if (op === 0xb0) { // MOV
    if (!x) {
      if (src !== 0 || off !== 0) return "mov of an immediate uses reserved fields";
      return undefined;
    }
    if (src > 10) return badReg(dst, src);
    if (wide && off === 1) {
      if (imm !== 1 && imm !== 0x10000) {
        return `addr_space_cast imm 0x${(imm >>> 0).toString(16)} is not 0x1 or 0x10000`;
      }
      return undefined;
    }
    if (imm !== 0) return `mov of a register uses reserved fields (imm ${imm})`;
    if (off === 0 || off === 8 || off === 16 || (wide && off === 32)) return undefined;
    return `movsx width ${off} is not 8, 16${wide ? " or 32" : ""}`;
  }
  if (off !== 0 && !(off === 1 && (op === 0x30 || op === 0x90))) {
    return `ALU operation uses reserved fields (off ${off})`;
  }
  if (x) {
    if (src > 10) return badReg(dst, src);
    if (imm !== 0) return `ALU operation on a register uses reserved fields (imm ${imm})`;
  } else if (src !== 0) {
    return `ALU operation on an immediate uses reserved fields (src ${src})`;
  }
  return undefined;
}

function jmpError(
  code: number,
  dst: number,
  src: number,
  off: number,
  imm: number,
): string | undefined {
  const op = code & 0xf0;
  const x = (code & 8) !== 0;
  const j32 = (code & 7) === 6;
  switch (op) {
    case 0x00: // JA
      if (x || dst !== 0 || src !== 0) return "goto uses reserved fields";
      if (j32 ? off !== 0 : imm !== 0) {
        return `goto${j32 ? "l" : ""} uses reserved fields (${j32 ? `off ${off}` : `imm ${imm}`})`;
      }
      return undefined;
    case 0x80: // CALL
      if (j32) return "call does not exist in class JMP32";
      if (x) {
        if (dst <= 10 && src === 0 && off === 0 && imm === 0) {
          return "callx (indirect call) is not part of RFC 9669 or Linux";
        }
        return "call with a register source does not exist";
      }
      if (dst !== 0) return `call uses reserved fields (dst ${dst})`;
      if (src === 2) return undefined; // kfunc: off is the fd_array index of the module BTF
      if (src > 2) return `call src ${src} is not a helper (0), BPF-to-BPF (1) or kfunc (2) call`;
      if (off !== 0) return `call uses reserved fields (off ${off})`;
      return undefined;
    case 0x90: // EXIT
      if (j32) return "exit does not exist in class JMP32";
      if (x || dst !== 0 || src !== 0 || off !== 0 || imm !== 0) {
        return `exit uses reserved fields${imm !== 0 ? ` (imm ${imm})` : ""}`;
      }
      return undefined;
    case 0xe0: // JCOND
      if (j32 || x) return "may_goto exists only as 0xe5";
      if (src !== 0) return `jcond src ${src} is not may_goto (0)`;
      if (dst !== 0 || imm !== 0) return "may_goto uses reserved fields";
      return undefined;
    case 0xf0:
      return `unknown jump operation 0x${hex2(op)}`;
    default:
      if (dst > 10) return badReg(dst, 0);
      if (x) {
        if (src > 10) return badReg(dst, src);
        if (imm !== 0) return `conditional jump on a register uses reserved fields (imm ${imm})`;
      } else if (src !== 0) {
        return `conditional jump on an immediate uses reserved fields (src ${src})`;
      }
      return undefined;
  }
}

function ldImm64Error(insns: readonly Insn[], index: number): string | undefined {
  const insn = insns[index];
  if (insn.dst > 10) return badReg(insn.dst, 0);
  if (insn.off !== 0) return `ld_imm64 uses reserved fields (off ${insn.off})`;
  if (insn.src > 6) return `ld_imm64 src ${insn.src} is not a known pseudo source (0-6)`;
  const next = insns[index + 1];
  if (next === undefined) return "ld_imm64 has no second slot (it is the last slot)";
  if (next.code !== 0 || next.dst !== 0 || next.src !== 0 || next.off !== 0) {
    return "ld_imm64 second slot must have code, registers and off all 0";
  }
  if (!isS32(next.imm)) return `ld_imm64 second imm ${next.imm} is not a signed 32-bit integer`;
  const s = insn.src;
  if ((s === 1 || s === 4 || s === 5) && next.imm !== 0) {
    return `ld_imm64 src ${s} uses reserved fields (second imm ${next.imm})`;
  }
  return undefined;
}

function isAtomicOp(imm: number): boolean {
  return ATOMIC_RMW_OPS.has(imm);
}

function badReg(dst: number, src: number): string {
  return `register r${dst > 10 ? dst : src} does not exist (r0-r10)`;
}

function hex2(n: number): string {
  return n.toString(16).padStart(2, "0");
}

function isU8(n: number): boolean {
  return Number.isInteger(n) && n >= 0 && n <= 0xff;
}

function isReg4(n: number): boolean {
  return Number.isInteger(n) && n >= 0 && n <= 15;
}

function isS16(n: number): boolean {
  return Number.isInteger(n) && n >= -0x8000 && n <= 0x7fff;
}

function isS32(n: number): boolean {
  return (n | 0) === n;
}

/**
 * Says whether `insns[index]` is a valid instruction and what it is.
 *
 * `callx` (opcode 0x8d, the register in `dst`) is reported with `kind: "callx"` and
 * `valid: false`: the BPF conformance suite uses it, the assembler and disassembler know it, but
 * neither RFC 9669 nor Linux has it.
 *
 * @example
 * ```ts
 * import { describeInsn } from "@tsbpf/core/insn";
 * const d = describeInsn([{ code: 0x05, dst: 0, src: 0, off: 2, imm: 0 }], 0);
 * // { valid: true, kind: "ja", slots: 1, target: 3 }
 * ```
 */
export function describeInsn(insns: readonly Insn[], index: number): InsnDescription {
  const reason = insnError(insns, index);
  const insn = insns[index];
  if (reason !== undefined) {
    if (
      insn !== undefined && insn.code === 0x8d && insn.src === 0 && insn.off === 0 &&
      insn.imm === 0 && insn.dst <= 10
    ) {
      return { valid: false, reason, kind: "callx", slots: 1 };
    }
    return { valid: false, reason, kind: "invalid", slots: 1 };
  }
  const { code, src, off, imm } = insn;
  const cls = code & 7;
  const op = code & 0xf0;
  const valid = (kind: InsnKind, target?: number): InsnDescription =>
    target === undefined
      ? { valid: true, kind, slots: 1 }
      : { valid: true, kind, slots: 1, target };
  switch (cls) {
    case 4:
    case 7:
      if (op === 0x80) return valid("neg");
      if (op === 0xd0) return valid("endian");
      if (op === 0xb0 && (code & 8) !== 0 && off !== 0) {
        return valid(off === 1 && cls === 7 ? "addr_space_cast" : "movsx");
      }
      return valid("alu");
    case 1:
      return valid((code & 0xe0) === 0x80 ? "ldxs" : "ldx");
    case 2:
      return valid("st");
    case 3:
      if ((code & 0xe0) === 0x60) return valid("stx");
      if (imm === 0x100) return valid("load_acquire");
      if (imm === 0x110) return valid("store_release");
      return valid("atomic");
    case 0: {
      const mode = code & 0xe0;
      if (mode === 0x20) return valid("ld_abs");
      if (mode === 0x40) return valid("ld_ind");
      const d: InsnDescription = { valid: true, kind: "ld_imm64", slots: 2 };
      if (src === 4) d.target = index + 1 + imm;
      return d;
    }
    default:
      switch (op) {
        case 0x00:
          return cls === 6 ? valid("gotol", index + 1 + imm) : valid("ja", index + 1 + off);
        case 0x80:
          if (src === 1) return valid("call_local", index + 1 + imm);
          return valid(src === 2 ? "call_kfunc" : "call_helper");
        case 0x90:
          return valid("exit");
        case 0xe0:
          return valid("may_goto", index + 1 + off);
        default:
          return valid("jmp", index + 1 + off);
      }
  }
}

/**
 * Whether `insns[index]` is a valid instruction (see {@link insnError} for why not).
 *
 * @example
 * ```ts
 * import { isValidInsn } from "@tsbpf/core/insn";
 * isValidInsn([{ code: 0xb7, dst: 0, src: 0, off: 0, imm: 1 }], 0); // true
 * ```
 */
export function isValidInsn(insns: readonly Insn[], index: number): boolean {
  return insnError(insns, index) === undefined;
}
