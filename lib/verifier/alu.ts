/**
 * The deep checker's ALU rules (`check_alu_op()`, `adjust_ptr_min_max_vals()`): scalar arithmetic,
 * pointer arithmetic and its limits, moves and sign extension. Internal to `lib/verifier/`.
 *
 * @module
 */
import type { Insn } from "../insn/insn.ts";
import {
  alu32,
  alu64,
  cloneScalar,
  constOp,
  constScalar,
  inexact,
  isConst,
  s64,
  type Scalar,
} from "./scalar.ts";
import { cloneReg, K, type Reg } from "./state.ts";
import { InterpCore, MAX_VAR_OFF } from "./core.ts";

const ALU_STR = [
  "+=",
  "-=",
  "*=",
  "/=",
  "|=",
  "&=",
  "<<=",
  ">>=",
  "neg",
  "%=",
  "^=",
  "=",
  "s>>=",
  "endian",
];

/** The interpreter so far, plus the deep checker's ALU rules (`check_alu_op()`, `adjust_ptr_min_max_vals()`). */
export abstract class InterpAlu extends InterpCore {
  alu(
    insn: Insn,
    wide: boolean,
    op: number,
    srcReg: boolean,
    signed: boolean,
    movsx: number,
  ): void {
    const d = insn.dst;
    if (op === 0xb0) {
      if (!srcReg) {
        const v = wide ? BigInt(insn.imm) : BigInt(insn.imm >>> 0);
        this.setReg(d, this.scalarReg(constScalar(v)));
        return;
      }
      const src = this.read(insn.src);
      if (movsx !== 0) {
        if (src.k !== K.Scalar) this.giveUp("sign-extending move of a pointer");
        if (isConst(src.s)) {
          const bits = BigInt(movsx);
          let v = BigInt.asIntN(Number(bits), src.s.v);
          if (!wide) v = BigInt.asUintN(32, v);
          const c = constScalar(v);
          c.exact = src.s.exact;
          this.setReg(d, this.scalarReg(c));
        } else {
          this.setReg(d, this.scalarReg(inexact(wide ? 64 : 32)));
        }
        return;
      }
      if (wide) {
        if (src.k === K.Scalar && !isConst(src.s) && src.s.exact) {
          if (src.id === 0) src.id = ++this.idGen;
        }
        this.setReg(d, cloneReg(src));
        return;
      }
      // 32-bit move: zero-extended low half.
      if (src.k === K.Unknown) this.giveUp("32-bit move of an unmodelled value");
      if (src.k !== K.Scalar) {
        if (!this.allowPtrLeaks) {
          this.fail(
            "ptr-leak",
            `R${insn.src} partial copy of pointer`,
            "Without CAP_PERFMON a pointer cannot be copied into a 32-bit register: it would leak the address.",
            [insn.src],
          );
        }
        this.setReg(d, this.scalarReg(inexact(32)));
        return;
      }
      let r: Scalar;
      if (isConst(src.s)) {
        r = constScalar(src.s.v & 0xffffffffn);
        r.exact = src.s.exact;
      } else if (src.s.umax <= 0xffffffffn) {
        r = cloneScalar(src.s);
        // The kernel links the two when the source fits in 32 bits; this checker does not.
        if (src.id !== 0) this.unlink(src, true);
        src.s.exact = false;
        r.exact = false;
      } else {
        r = inexact(32);
      }
      this.setReg(d, this.scalarReg(r));
      return;
    }
    const dr = this.read(d);
    let sr: Reg;
    if (srcReg) sr = this.read(insn.src);
    else sr = this.scalarReg(constScalar(BigInt(insn.imm)));
    if (dr.k === K.Unknown || sr.k === K.Unknown) this.giveUp("arithmetic on an unmodelled value");
    if (dr.k !== K.Scalar || sr.k !== K.Scalar) {
      this.pointerAlu(insn, wide, op, dr, sr);
      return;
    }
    // Scalar op scalar.
    if (dr.id !== 0) this.unlink(dr, op === 0x00 || op === 0x10);
    let r: Scalar;
    if (wide) {
      r = alu64(op, dr.s, sr.s, signed);
    } else if (isConst(dr.s) && isConst(sr.s)) {
      const v = constOp(op, dr.s.v, sr.s.v, signed, 32);
      r = v === undefined ? inexact(32) : constScalar(v);
      r.exact = r.exact && dr.s.exact && sr.s.exact;
    } else {
      r = alu32(op, dr.s, sr.s, signed);
    }
    const out = this.scalarReg(r);
    this.setReg(d, out);
  }

  pointerAlu(insn: Insn, wide: boolean, op: number, dr: Reg, sr: Reg): void {
    const d = insn.dst;
    const opStr = ALU_STR[op >> 4];
    if (dr.k !== K.Scalar && sr.k !== K.Scalar) {
      if (op === 0x10 && this.allowPtrLeaks) {
        this.setReg(d, this.scalarReg(inexact()));
        return;
      }
      this.fail(
        "ptr-arith",
        `R${d} pointer ${opStr} pointer prohibited`,
        "Two pointers cannot be combined by arithmetic (only subtracted, with CAP_PERFMON).",
        [d, insn.src],
      );
    }
    const ptrIsDst = dr.k !== K.Scalar;
    const ptr = ptrIsDst ? dr : sr;
    const off = ptrIsDst ? sr : dr;
    if (!wide) {
      if (op === 0x10 && this.allowPtrLeaks) {
        this.setReg(d, this.scalarReg(inexact()));
        return;
      }
      this.fail(
        "ptr-arith",
        `R${d} 32-bit pointer arithmetic prohibited`,
        "A 32-bit ALU operation on a pointer would truncate it.",
        [d],
      );
    }
    if (ptr.nullable) {
      if (ptr.nullUnsure) this.giveUp("arithmetic on an array lookup result");
      this.fail(
        "ptr-arith",
        `R${d} pointer arithmetic on ${this.typeName(ptr)} prohibited, null-check it first`,
        "This pointer may be NULL: compare it with 0 before doing arithmetic on it.",
        [d],
      );
    }
    const known = isConst(off.s) && off.s.exact;
    switch (ptr.k) {
      case K.Ctx:
      case K.MapValue:
      case K.Stack:
      case K.Pkt:
      case K.PktMeta:
      case K.Mem:
        break;
      case K.MapPtr:
        if (known && off.s.v === 0n && op === 0x00) break;
      // falls through
      default:
        this.fail(
          "ptr-arith",
          `R${d} pointer arithmetic on ${this.typeName(ptr)} prohibited`,
          `Arithmetic on a ${this.typeName(ptr)} pointer is not allowed.`,
          [d],
        );
    }
    this.saneOffset(off, ptr);
    if (op === 0x50 || op === 0x40 || op === 0xa0) {
      this.fail(
        "ptr-arith",
        `R${d} bitwise operator ${opStr} on pointer prohibited`,
        "Bitwise operations on pointers are not allowed.",
        [d],
      );
    }
    if (op !== 0x00 && op !== 0x10) {
      this.fail(
        "ptr-arith",
        `R${d} pointer arithmetic with ${opStr} operator prohibited`,
        "Only addition and subtraction may change a pointer.",
        [d],
      );
    }
    if (op === 0x10 && !ptrIsDst) {
      this.fail(
        "ptr-arith",
        `R${d} tried to subtract pointer from scalar`,
        "A pointer cannot be subtracted from a number.",
        [d],
      );
    }
    if ((!this.allowPtrLeaks || !this.bpfCapable) && !known) {
      this.giveUp("unprivileged variable pointer arithmetic is not modelled");
    }
    if (op === 0x10 && ptr.k === K.Stack) this.giveUp("subtraction from the stack pointer");
    if (!off.s.exact) this.giveUp("pointer moved by an imprecise scalar");
    const res = cloneReg(ptr);
    if (known) {
      const v = s64(off.s.v);
      const nv = op === 0x00 ? BigInt(ptr.off) + v : BigInt(ptr.off) - v;
      if (nv >= MAX_VAR_OFF || nv <= -MAX_VAR_OFF) {
        this.giveUp("pointer offset out of range");
      }
      res.off = Number(nv);
    } else {
      if (op === 0x10) this.giveUp("pointer minus a variable");
      if (!ptr.s.exact) this.giveUp("imprecise pointer offset");
      res.s = alu64(0x00, ptr.s, off.s, false);
      if (res.k === K.Pkt || res.k === K.PktMeta) {
        res.id = ++this.idGen;
        res.range = 0;
      }
    }
    this.setReg(d, res);
  }

  /** `check_reg_sane_offset()` of the scalar added to a pointer. */
  saneOffset(off: Reg, ptr: Reg): void {
    if (!off.s.exact) return;
    const t = this.typeName(ptr);
    const expl =
      "The kernel refuses pointer arithmetic with values that could move the pointer arbitrarily far.";
    if (isConst(off.s)) {
      const val = s64(off.s.v);
      if (val >= MAX_VAR_OFF || val <= -MAX_VAR_OFF) {
        this.fail("ptr-arith", `math between ${t} pointer and ${val} is not allowed`, expl);
      }
      return;
    }
    if (off.s.smin === -(1n << 63n)) {
      this.fail(
        "ptr-arith",
        `math between ${t} pointer and register with unbounded min value is not allowed`,
        `${expl} Bound the value (e.g. "if rX > N goto" or "rX &= N") before adding it.`,
      );
    }
    if (off.s.smin >= MAX_VAR_OFF || off.s.smin <= -MAX_VAR_OFF) {
      this.fail("ptr-arith", `value ${off.s.smin} makes ${t} pointer be out of bounds`, expl);
    }
  }
}
