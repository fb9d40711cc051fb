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
 * Checks each instruction not marked in `bad` (see `checkEncodings`); errors through `err`,
 * warnings (an unresolved CO-RE relocation) through `warn`.
 */
export function checkInsns(
  c: Columns,
  bad: Uint8Array,
  def: ProgTypeDef | undefined,
  ctx: LoadContext,
  asked: ProfileQuery | undefined,
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

    switch (cls) {
      case CLS_ALU:
      case CLS_ALU64: {
        const aop = op & 0xf0;
        if (aop === 0x80 || aop === 0xd0) {
          if (aop === 0x80) {
            if (isX || s !== 0 || o !== 0 || k !== 0) msg = "BPF_NEG uses reserved fields";
          } else if (
            s !== 0 || o !== 0 || (k !== 16 && k !== 32 && k !== 64) || (cls === CLS_ALU64 && isX)
          ) {
            msg = "BPF_END uses reserved fields";
          }
          msg ??= regCheckRead(d) ?? regCheckWrite(d);
        } else if (aop === 0xb0) {
          if (isX) {
            if (cls === CLS_ALU) {
              if ((o !== 0 && o !== 8 && o !== 16) || k !== 0) msg = "BPF_MOV uses reserved fields";
            } else if (o === 1) {
              if (k !== 1 && k !== 1 << 16) {
                msg = "addr_space_cast insn can only convert between address space 1 and 0";
              }
            } else if ((o !== 0 && o !== 8 && o !== 16 && o !== 32) || k !== 0) {
              msg = "BPF_MOV uses reserved fields";
            }
            msg ??= regCheckRead(s);
          } else if (s !== 0 || o !== 0) {
            msg = "BPF_MOV uses reserved fields";
          }
          msg ??= regCheckWrite(d);
        } else {
          const divmod = aop === 0x30 || aop === 0x90;
          if (isX) {
            if (k !== 0 || (o !== 0 && o !== 1) || (o === 1 && !divmod)) {
              msg = "BPF_ALU uses reserved fields";
            }
            msg ??= regCheckRead(s);
          } else if (s !== 0 || (o !== 0 && o !== 1) || (o === 1 && !divmod)) {
            msg = "BPF_ALU uses reserved fields";
          }
          msg ??= regCheckRead(d);
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
          if (k !== 0) msg = "BPF_STX uses reserved fields";
          msg ??= regCheckRead(s) ?? regCheckRead(d);
        }
        break;
      case CLS_ST:
        if (s !== 0) msg = "BPF_ST uses reserved fields";
        msg ??= regCheckRead(d);
        break;
      case CLS_JMP:
      case CLS_JMP32: {
        const jop = op & 0xf0;
        if (jop === OP_CALL) {
          if (
            isX || (s !== PSEUDO_KFUNC_CALL && o !== 0) ||
            (s !== 0 && s !== PSEUDO_CALL && s !== PSEUDO_KFUNC_CALL) ||
            d !== 0 || cls === CLS_JMP32
          ) {
            msg = "BPF_CALL uses reserved fields";
          } else if (s === 0 && k === CORE_POISON) {
            // libbpf's mark for a CO-RE relocation that did not resolve: the verifier refuses it
            // only where it is reachable, and guarded code often is not.
            warn(
              i,
              "core-poison",
              `call 0x${
                CORE_POISON.toString(16)
              } marks an unresolved CO-RE relocation; the kernel refuses it if it is reachable (invalid func unknown#${CORE_POISON})`,
            );
          } else if (s === 0 && def !== undefined) {
            const r = checkHelper(def, k, ctx, cache, asked);
            if (r !== undefined) [codeName, msg] = r;
          }
        } else if (jop === OP_JA) {
          if (
            isX || s !== 0 || d !== 0 || (cls === CLS_JMP && k !== 0) ||
            (cls === CLS_JMP32 && o !== 0)
          ) {
            msg = "BPF_JA uses reserved fields";
          }
        } else if (jop === OP_EXIT) {
          if (isX || k !== 0 || s !== 0 || d !== 0 || cls === CLS_JMP32) {
            msg = "BPF_EXIT uses reserved fields";
          }
        } else if (jop === OP_JCOND) {
          if (op !== 0xe5 || s !== 0 || d !== 0 || k !== 0) {
            msg = `invalid may_goto imm ${k}`;
          }
        } else {
          msg = regCheckRead(d);
          if (msg === undefined) {
            if (isX) {
              if (k !== 0) msg = "BPF_JMP/JMP32 uses reserved fields";
              msg ??= regCheckRead(s);
            } else if (s !== 0) {
              msg = "BPF_JMP/JMP32 uses reserved fields";
            }
          }
        }
        break;
      }
      case CLS_LD: {
        const mode = op & 0xe0;
        if (op === LD_IMM64) {
          if (o !== 0) msg = "BPF_LD_IMM64 uses reserved fields";
          msg ??= regCheckWrite(d);
        } else if (mode === 0x20 || mode === 0x40) {
          if (def !== undefined && !mayAccessSkb(def.type) && def.type !== ProgType.EXT) {
            msg = "BPF_LD_[ABS|IND] instructions not allowed for this program type";
            codeName = "ld-abs";
          } else if (d !== 0 || o !== 0 || (op & 0x18) === 0x18 || (mode === 0x20 && s !== 0)) {
            msg = "BPF_LD_[ABS|IND] uses reserved fields";
          } else if (mode === 0x40) {
            msg = regCheckRead(s);
          }
        }
        break;
      }
    }
    if (msg !== undefined) {
      if (codeName === "reserved-fields") {
        if (msg.endsWith(" is invalid")) codeName = "invalid-reg";
        else if (msg === "frame pointer is read only") codeName = "fp-write";
        else if (msg.startsWith("invalid may_goto")) codeName = "may-goto";
        else if (msg === "invalid atomic operand size") codeName = "atomic-size";
        else if (msg.startsWith("addr_space_cast")) codeName = "addr-space-cast";
      }
      err(i, codeName, msg);
    }
  }
}
