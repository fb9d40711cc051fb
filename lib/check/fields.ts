/**
 * The checker's per-instruction pass, after the parts of the kernel's `do_check()` that need no
 * register state: reserved fields, register numbers, writes to the frame pointer, constant
 * divisors and shifts, atomic opcodes, legacy packet loads, and helper calls. Internal to
 * `lib/check/`.
 *
 * @module
 */
import { ProgType } from "../../types/prog_type.ts";
import type { LoadContext, ProgTypeDef } from "../progtype/types.ts";
import {
  CLS_ALU,
  CLS_ALU64,
  CLS_JMP,
  CLS_JMP32,
  CLS_LD,
  CLS_LDX,
  CLS_ST,
  CLS_STX,
  type Columns,
  LD_IMM64,
  OP_CALL,
  OP_EXIT,
  OP_JA,
  OP_JCOND,
  PSEUDO_CALL,
  PSEUDO_KFUNC_CALL,
  type Report,
} from "./columns.ts";
import { checkHelper, type HelperCache, type ProfileQuery } from "./helpers.ts";
import type { KernelProfile } from "../profile/types.ts";

/** The helper id libbpf (and tsbpf's ELF loader) writes over a CO-RE relocation it could not resolve. */
const CORE_POISON = 0xbad2310;

/** `may_access_skb()`: the types that may use legacy packet loads. */
function mayAccessSkb(type: number): boolean {
  return type === ProgType.SOCKET_FILTER || type === ProgType.SCHED_CLS ||
    type === ProgType.SCHED_ACT;
}

/** `check_reg_arg(…, SRC_OP)`, the part that needs no state. */
function regCheckRead(r: number): string | undefined {
  return r >= 11 ? `R${r} is invalid` : undefined;
}

/** `check_reg_arg(…, DST_OP)`, the part that needs no state. */
function regCheckWrite(r: number): string | undefined {
  return r >= 11 ? `R${r} is invalid` : r === 10 ? "frame pointer is read only" : undefined;
}

/**
 * How the verifier of the kernel a profile describes words and orders its refusals (all false
 * without a profile: upstream 6.18).
 */
export interface VerifierTraits {
  /** 7.x: registers, opcode and fields checked for every instruction before the walk. */
  readonly early: boolean;
  /** 6.9-6.12: `may_goto +0` refused, refusals worded `invalid may_goto off N imm M`. */
  readonly oldMayGoto: boolean;
  /** The kernel knows `gotox` (`BPF_JMP | BPF_JA | BPF_X`). */
  readonly gotox: boolean;
}

/** The traits of the kernel `profile` describes, from its answers. */
export function verifierTraits(profile: KernelProfile | undefined): VerifierTraits {
  return {
    early: profile?.feature("early_insn_checks").state === "yes",
    oldMayGoto: profile?.feature("may_goto_zero").state === "no",
    gotox: profile?.feature("gotox").state === "yes",
  };
}

const MOV_RESERVED = "BPF_MOV uses reserved fields";

/**
 * The field refusals of one instruction, its registers aside: `BPF_* uses reserved fields`, an
 * `addr_space_cast` between other address spaces, `invalid may_goto imm`. The kernel checks these
 * in `do_check()` (the LDX ones in `resolve_pseudo_ldimm64()`), or, from Linux 7.x, in one early
 * pass over every instruction.
 */
export function fieldsMessage(
  op: number,
  d: number,
  s: number,
  o: number,
  k: number,
  oldMayGoto: boolean,
): string | undefined {
  const cls = op & 7;
  const isX = (op & 0x08) !== 0;
  switch (cls) {
    case CLS_ALU:
    case CLS_ALU64: {
      const aop = op & 0xf0;
      if (aop === 0x80) {
        return isX || s !== 0 || o !== 0 || k !== 0 ? "BPF_NEG uses reserved fields" : undefined;
      }
      if (aop === 0xd0) {
        return s !== 0 || o !== 0 || (k !== 16 && k !== 32 && k !== 64) ||
            (cls === CLS_ALU64 && isX)
          ? "BPF_END uses reserved fields"
          : undefined;
      }
      if (aop === 0xb0) {
        if (!isX) return s !== 0 || o !== 0 ? MOV_RESERVED : undefined;
        if (cls === CLS_ALU) {
          return (o !== 0 && o !== 8 && o !== 16) || k !== 0 ? MOV_RESERVED : undefined;
        }
        if (o === 1) {
          return k !== 1 && k !== 1 << 16
            ? "addr_space_cast insn can only convert between address space 1 and 0"
            : undefined;
        }
        return (o !== 0 && o !== 8 && o !== 16 && o !== 32) || k !== 0 ? MOV_RESERVED : undefined;
      }
      const divmod = aop === 0x30 || aop === 0x90;
      return (isX ? k !== 0 : s !== 0) || (o !== 0 && o !== 1) || (o === 1 && !divmod)
        ? "BPF_ALU uses reserved fields"
        : undefined;
    }
    case CLS_LDX:
      return ((op & 0xe0) !== 0x60 && (op & 0xe0) !== 0x80) || k !== 0
        ? "BPF_LDX uses reserved fields"
        : undefined;
    case CLS_STX:
      return (op & 0xe0) !== 0xc0 && k !== 0 ? "BPF_STX uses reserved fields" : undefined;
    case CLS_ST:
      return s !== 0 ? "BPF_ST uses reserved fields" : undefined;
    case CLS_JMP:
    case CLS_JMP32: {
      const jop = op & 0xf0;
      if (jop === OP_CALL) {
        return isX || (s !== PSEUDO_KFUNC_CALL && o !== 0) ||
            (s !== 0 && s !== PSEUDO_CALL && s !== PSEUDO_KFUNC_CALL) || d !== 0 ||
            cls === CLS_JMP32
          ? "BPF_CALL uses reserved fields"
          : undefined;
      }
      if (jop === OP_JA && isX) {
        // gotox (an indirect jump through an instruction array): a kernel without it never gets
        // here, its opcode is unknown there.
        return s !== 0 || k !== 0 || o !== 0 ? "BPF_JA|BPF_X uses reserved fields" : undefined;
      }
      if (jop === OP_JA) {
        return s !== 0 || d !== 0 || (cls === CLS_JMP && k !== 0) ||
            (cls === CLS_JMP32 && o !== 0)
          ? "BPF_JA uses reserved fields"
          : undefined;
      }
      if (jop === OP_EXIT) {
        return isX || k !== 0 || s !== 0 || d !== 0 || cls === CLS_JMP32
          ? "BPF_EXIT uses reserved fields"
          : undefined;
      }
      if (jop === OP_JCOND) {
        // 6.9-6.12 refuse an offset of 0 too, and name both fields.
        if (oldMayGoto) {
          return op !== 0xe5 || s !== 0 || d !== 0 || k !== 0 || o === 0
            ? `invalid may_goto off ${o} imm ${k}`
            : undefined;
        }
        return op !== 0xe5 || s !== 0 || d !== 0 || k !== 0
          ? `invalid may_goto imm ${k}`
          : undefined;
      }
      return (isX ? k !== 0 : s !== 0) ? "BPF_JMP/JMP32 uses reserved fields" : undefined;
    }
    case CLS_LD: {
      if (op === LD_IMM64) return o !== 0 ? "BPF_LD_IMM64 uses reserved fields" : undefined;
      const mode = op & 0xe0;
      if (mode !== 0x20 && mode !== 0x40) return undefined;
      return d !== 0 || o !== 0 || (op & 0x18) === 0x18 || (mode === 0x20 && s !== 0)
        ? "BPF_LD_[ABS|IND] uses reserved fields"
        : undefined;
    }
  }
  return undefined;
}

/** The finding code of a per-instruction message. */
export function codeOfMessage(msg: string): string {
  if (msg.endsWith(" is invalid")) return "invalid-reg";
  if (msg === "frame pointer is read only") return "fp-write";
  if (msg.startsWith("invalid may_goto")) return "may-goto";
  if (msg === "invalid atomic operand size") return "atomic-size";
  if (msg.startsWith("addr_space_cast")) return "addr-space-cast";
  return "reserved-fields";
}

/**
 * Checks each instruction not marked in `bad` (see `checkEncodings`); errors through `err`,
 * warnings (an unresolved CO-RE relocation) through `warn`.
 */
export function checkInsns(
  c: Columns,
  bad: Uint8Array,
  def: ProgTypeDef | undefined,
  ctx: LoadContext,
  asked: ProfileQuery | undefined,
  verifier: VerifierTraits,
  err: Report,
  warn: Report,
): void {
  const { n, code, dst, src, off, imm } = c;
  const cache: HelperCache = new Map();
  for (let i = 0; i < n; i++) {
    if (bad[i]) continue;
    const op = code[i];
    const cls = op & 7;
    let msg: string | undefined;
    let codeName = "reserved-fields";
    const d = dst[i], s = src[i], o = off[i], k = imm[i];
    const isX = (op & 0x08) !== 0;

    const fields = fieldsMessage(op, d, s, o, k, verifier.oldMayGoto);
    switch (cls) {
      case CLS_ALU:
      case CLS_ALU64: {
        const aop = op & 0xf0;
        if (aop === 0x80 || aop === 0xd0) {
          msg = fields ?? regCheckRead(d) ?? regCheckWrite(d);
        } else if (aop === 0xb0) {
          msg = fields ?? (isX ? regCheckRead(s) : undefined) ?? regCheckWrite(d);
        } else {
          const divmod = aop === 0x30 || aop === 0x90;
          msg = fields ?? (isX ? regCheckRead(s) : undefined) ?? regCheckRead(d);
          if (msg === undefined && divmod && !isX && k === 0) {
            msg = "div by zero";
            codeName = "div-by-zero";
          }
          if (msg === undefined && !isX && (aop === 0x60 || aop === 0x70 || aop === 0xc0)) {
            const size = cls === CLS_ALU64 ? 64 : 32;
            if (k < 0 || k >= size) {
              msg = `invalid shift ${k}`;
              codeName = "invalid-shift";
            }
          }
          msg ??= regCheckWrite(d);
        }
        break;
      }
      case CLS_LDX:
        msg = regCheckRead(s) ?? regCheckWrite(d);
        break;
      case CLS_STX:
        if ((op & 0xe0) === 0xc0) {
          const size = op & 0x18;
          const rmw = k === 0x00 || k === 0x01 || k === 0x50 || k === 0x51 || k === 0x40 ||
            k === 0x41 ||
            k === 0xa0 || k === 0xa1 || k === 0xe1 || k === 0xf1;
          if (rmw) {
            if (size !== 0x00 && size !== 0x18) msg = "invalid atomic operand size";
            msg ??= regCheckRead(s) ?? regCheckRead(d);
            if (msg === undefined && (k & 1)) msg = regCheckWrite(k === 0xf1 ? 0 : s);
          } else if (k === 0x100) {
            msg = regCheckRead(s) ?? regCheckWrite(d); // load-acquire: dst = *(src + off)
          } else if (k === 0x110) {
            msg = regCheckRead(s) ?? regCheckRead(d); // store-release: *(dst + off) = src
          } else {
            msg = `BPF_ATOMIC uses invalid atomic opcode ${
              (k >>> 0).toString(16).padStart(2, "0")
            }`;
            codeName = "atomic-op";
          }
        } else {
          msg = fields ?? regCheckRead(s) ?? regCheckRead(d);
        }
        break;
      case CLS_ST:
        msg = fields ?? regCheckRead(d);
        break;
      case CLS_JMP:
      case CLS_JMP32: {
        const jop = op & 0xf0;
        if (jop === OP_CALL) {
          msg = fields;
          if (msg === undefined && s === 0 && k === CORE_POISON) {
            // libbpf's mark for a CO-RE relocation that did not resolve: the verifier refuses it
            // only where it is reachable, and guarded code often is not.
            warn(
              i,
              "core-poison",
              `call 0x${
                CORE_POISON.toString(16)
              } marks an unresolved CO-RE relocation; the kernel refuses it if it is reachable (invalid func unknown#${CORE_POISON})`,
            );
          } else if (msg === undefined && s === 0 && def !== undefined) {
            const r = checkHelper(def, k, ctx, cache, asked);
            if (r !== undefined) [codeName, msg] = r;
          }
        } else if (jop === OP_JA || jop === OP_EXIT || jop === OP_JCOND) {
          msg = fields;
        } else {
          // The destination register is checked before the fields here.
          msg = regCheckRead(d) ?? fields ?? (isX ? regCheckRead(s) : undefined);
        }
        break;
      }
      case CLS_LD: {
        const mode = op & 0xe0;
        if (op === LD_IMM64) {
          msg = fields ?? regCheckWrite(d);
        } else if (mode === 0x20 || mode === 0x40) {
          if (def !== undefined && !mayAccessSkb(def.type) && def.type !== ProgType.EXT) {
            msg = "BPF_LD_[ABS|IND] instructions not allowed for this program type";
            codeName = "ld-abs";
          } else {
            msg = fields ?? (mode === 0x40 ? regCheckRead(s) : undefined);
          }
        }
        break;
      }
    }
    if (msg !== undefined) {
      err(i, codeName === "reserved-fields" ? codeOfMessage(msg) : codeName, msg);
    }
  }
}
