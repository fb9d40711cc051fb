/**
 * The deep checker's conditional jumps (`check_cond_jmp_op()`): which way a branch can go, bounds
 * refined on each side, null checks of pointers and packet range checks. Internal to
 * `lib/verifier/`.
 *
 * @module
 */
import type { Insn } from "../insn/insn.ts";
import {
  bounds32,
  bounds64,
  branchTaken,
  cloneScalar,
  constScalar,
  flipJmp,
  isConst,
  negateJmp,
  refine,
  type Scalar,
} from "./scalar.ts";
import { cloneState, K, mkReg, type Reg, type State } from "./state.ts";
import { InterpLoadStore } from "./load_store.ts";

/** The interpreter so far, plus the deep checker's conditional jumps (`check_cond_jmp_op()`). */
export abstract class InterpBranch extends InterpLoadStore {
  jump(
    insn: Insn,
    wide: boolean,
    op: number,
    srcReg: boolean,
    work: { st: State; pc: number }[],
  ): number {
    const pc = this.pc;
    const target = pc + 1 + insn.off;
    const dr = this.read(insn.dst);
    const sr = srcReg
      ? this.read(insn.src)
      : this.scalarReg(constScalar(wide ? BigInt(insn.imm) : BigInt(insn.imm >>> 0)));
    if (dr.k === K.Unknown || sr.k === K.Unknown) this.giveUp("comparison of an unmodelled value");
    if (srcReg && insn.src === insn.dst && !(dr.k === K.Scalar && isConst(dr.s))) {
      this.giveUp("a register compared with itself");
    }
    if (dr.k === K.Scalar && sr.k === K.Scalar) {
      return this.scalarJump(insn, wide, op, srcReg, dr, sr, target, work);
    }
    const pktAny = (r: Reg) => r.k === K.Pkt || r.k === K.PktMeta || r.k === K.PktEnd;
    if (!this.allowPtrLeaks) {
      if (srcReg && sr.k !== K.Scalar && !(pktAny(dr) && pktAny(sr))) {
        this.fail(
          "ptr-compare",
          `R${insn.src} pointer comparison prohibited`,
          "Without CAP_PERFMON pointers may only be compared with 0 (NULL checks).",
          [insn.src],
        );
      }
      const nullCheck = wide && !srcReg && insn.imm === 0 && (op === 0x10 || op === 0x50) &&
        dr.nullable;
      // A destination pointer compared with a constant: the kernel may decide the branch first.
      if (!nullCheck) this.giveUp("unprivileged pointer comparison");
    }
    if (!wide) this.giveUp("32-bit comparison of a pointer");
    // Pointer against 0.
    const ptr = dr.k !== K.Scalar ? dr : sr;
    const other = dr.k !== K.Scalar ? sr : dr;
    if (other.k === K.Scalar) {
      if (!other.s.exact) this.giveUp("pointer compared with an imprecise number");
      if (!isConst(other.s) || other.s.v !== 0n || (op !== 0x10 && op !== 0x50)) {
        // is_branch_taken() decides nothing here, and nothing is refined: both ways.
        return this.bothWays(target, work);
      }
      if (ptr.nullable && ptr.nullUnsure) this.giveUp("array lookup result compared with 0");
      if (ptr.nullable) {
        // Both ways: NULL on the equal side.
        const eqTaken = op === 0x10;
        const other2 = cloneState(this.st);
        const saved = this.st;
        this.st = other2;
        this.markNull(ptr.id, ptr.ref, eqTaken);
        work.push({ st: other2, pc: target });
        this.st = saved;
        this.markNull(ptr.id, ptr.ref, !eqTaken);
        return pc + 1;
      }
      const notNull = ptr.k === K.MapValue || ptr.k === K.Sock || ptr.k === K.SockCommon ||
        ptr.k === K.TcpSock || ptr.k === K.Mem;
      if (notNull) {
        return (op === 0x50) ? target : pc + 1;
      }
      if (ptr.k === K.Func) this.giveUp("comparison of an unmodelled pointer");
      // Stack, context, packet and map pointers are not known to be non-NULL: both ways.
      return this.bothWays(target, work);
    }
    // Packet pointers.
    const pktLike = (r: Reg) => r.k === K.Pkt || r.k === K.PktMeta;
    let pktReg: Reg | undefined, opx = op, endKind = -1;
    if (pktLike(dr) && (sr.k === K.PktEnd || (dr.k === K.PktMeta && sr.k === K.Pkt))) {
      pktReg = dr;
      endKind = sr.k;
    } else if (pktLike(sr) && (dr.k === K.PktEnd || (sr.k === K.PktMeta && dr.k === K.Pkt))) {
      pktReg = sr;
      endKind = dr.k;
      opx = flipJmp(op);
    }
    if (pktReg === undefined) {
      if (pktAny(dr) || pktAny(sr)) this.giveUp("packet pointer comparison not modelled");
      if ((op === 0x10 || op === 0x50) && (dr.nullable || sr.nullable)) {
        this.giveUp("nullable pointer compared with a pointer");
      }
      if (dr.k === K.Func || sr.k === K.Func) {
        this.giveUp("comparison of an unmodelled pointer");
      }
      return this.bothWays(target, work);
    }
    if (!(opx === 0x20 || opx === 0x30 || opx === 0xa0 || opx === 0xb0)) {
      this.giveUp("pointer comparison not modelled");
    }
    if (pktReg.range < 0 || dr.range < 0 || sr.range < 0) {
      this.giveUp("packet pointer past the end compared again");
    }
    if (!pktReg.s.exact) this.giveUp("imprecise packet offset compared");
    // The branch on which pkt <= end (so [pkt, pkt+off) is in range), and whether right-open.
    let goodTaken: boolean, open: boolean;
    switch (opx) {
      case 0x20: // pkt > end
        goodTaken = false;
        open = false;
        break;
      case 0x30: // pkt >= end
        goodTaken = false;
        open = true;
        break;
      case 0xa0: // pkt < end
        goodTaken = true;
        open = true;
        break;
      default: // pkt <= end
        goodTaken = true;
        open = false;
    }
    void endKind;
    const other2 = cloneState(this.st);
    const saved = this.st;
    this.st = other2;
    if (goodTaken) this.goodPkt(pktReg.k, pktReg.id, pktReg.off, pktReg.s, open);
    work.push({ st: other2, pc: target });
    this.st = saved;
    if (!goodTaken) this.goodPkt(pktReg.k, pktReg.id, pktReg.off, pktReg.s, open);
    return pc + 1;
  }

  /** Both sides of a branch, with nothing refined. */
  bothWays(target: number, work: { st: State; pc: number }[]): number {
    work.push({ st: cloneState(this.st), pc: target });
    return this.pc + 1;
  }

  /** `find_good_pkt_pointers()`. */
  goodPkt(k: K, id: number, off: number, v: Scalar, open: boolean): void {
    if (off < 0 || (off === 0 && open)) return;
    if (v.umax > 0xffffn || v.umax + BigInt(off) > 0xffffn) return;
    const range = off + (open ? 1 : 0);
    for (const r of this.allRegs()) {
      if (r.k === k && r.id === id && r.range >= 0) r.range = Math.max(r.range, range);
    }
  }

  /** `mark_ptr_or_null_regs()`: on one side of a NULL check. */
  markNull(id: number, ref: number, isNull: boolean): void {
    for (const r of this.allRegs()) {
      if (!r.nullable || r.id !== id) continue;
      if (isNull) {
        Object.assign(r, mkReg(K.Scalar, constScalar(0n)));
      } else {
        r.nullable = false;
      }
    }
    if (isNull && ref !== 0) this.st.refs = this.st.refs.filter((x) => x.id !== ref);
  }

  scalarJump(
    insn: Insn,
    wide: boolean,
    op: number,
    srcReg: boolean,
    dr: Reg,
    sr: Reg,
    target: number,
    work: { st: State; pc: number }[],
  ): number {
    const pc = this.pc;
    let taken: number;
    let fits31 = false, fitsU32 = false;
    if (wide) {
      taken = branchTaken(op, bounds64(dr.s), bounds64(sr.s), [dr.s.v, dr.s.m], [sr.s.v, sr.s.m]);
      if (op === 0x10 || op === 0x50) {
        // The kernel also looks at the 32-bit halves.
        const a = bounds32(dr.s), b = bounds32(sr.s);
        if (taken < 0 && a && b) {
          const t32 = branchTaken(0x10, a, b, undefined, undefined);
          if (t32 === 0) taken = op === 0x10 ? 0 : 1;
        }
      }
    } else {
      const a = bounds32(dr.s), b = bounds32(sr.s);
      if (a === undefined || b === undefined) {
        taken = -1;
      } else {
        const t32 = (x: Scalar): [bigint, bigint] => [x.v & 0xffffffffn, x.m & 0xffffffffn];
        taken = branchTaken(op, a, b, t32(dr.s), t32(sr.s));
      }
      fits31 = dr.s.exact && sr.s.exact && dr.s.smin >= 0n && dr.s.umax < 0x80000000n &&
        (srcReg ? sr.s.smin >= 0n && sr.s.umax < 0x80000000n : true);
      // Upper halves known zero: an unsigned 32-bit comparison is the 64-bit one, and the kernel
      // carries its 32-bit refinement over to the 64-bit bounds.
      fitsU32 = dr.s.exact && sr.s.exact && dr.s.umax <= 0xffffffffn &&
        (srcReg ? sr.s.umax <= 0xffffffffn : true);
    }
    const exact = dr.s.exact && sr.s.exact;
    if (taken >= 0) {
      // A decision on imprecise bounds is still sound (they over-approximate the kernel's).
      return taken === 1 ? target : pc + 1;
    }
    if (!exact) this.giveUp("branch on a value the kernel may know more precisely");
    // Both ways: refine each side.
    const other2 = cloneState(this.st);
    const saved = this.st;
    this.st = other2;
    this.refineBranch(insn, wide, op, srcReg, fits31, fitsU32);
    work.push({ st: other2, pc: target });
    this.st = saved;
    this.refineBranch(insn, wide, negateJmp(op), srcReg, fits31, fitsU32);
    return pc + 1;
  }

  refineBranch(
    insn: Insn,
    wide: boolean,
    op: number,
    srcReg: boolean,
    fits31: boolean,
    fitsU32: boolean,
  ): void {
    const f = this.frame();
    const dr = f.regs[insn.dst];
    const sr = srcReg ? f.regs[insn.src] : this.scalarReg(constScalar(BigInt(insn.imm)));
    const unsignedOp = op === 0x10 || op === 0x50 || op === 0x20 || op === 0x30 || op === 0xa0 ||
      op === 0xb0;
    if (op < 0 || (!wide && !fits31 && !(fitsU32 && unsignedOp)) || (op === 0x40 || op === -1)) {
      // Not reproduced: the kernel narrows these, so ours become imprecise.
      this.spoil(dr);
      if (srcReg) this.spoil(sr);
      return;
    }
    if (!wide && !srcReg) {
      // 32-bit compare of a value in [0, 2^31) against the immediate: as 64-bit with the
      // immediate's 32-bit value (sign-extended for signed comparisons, same order).
      sr.s = constScalar(unsignedOp ? BigInt(insn.imm >>> 0) : BigInt(insn.imm));
    }
    const a = cloneScalar(dr.s), b = cloneScalar(sr.s);
    if (dr === sr) return;
    refine(op, a, b);
    if (a.umin > a.umax || a.smin > a.smax || b.umin > b.umax || b.smin > b.smax) {
      // The kernel would find this branch impossible only if it is; we cannot tell.
      this.giveUp("contradictory branch");
    }
    this.assignLinked(dr, a);
    if (srcReg) this.assignLinked(sr, b);
  }

  spoil(r: Reg): void {
    if (r.k !== K.Scalar) return;
    r.s.exact = false;
    if (r.id !== 0) {
      for (const x of this.allRegs()) if (x.k === K.Scalar && x.id === r.id) x.s.exact = false;
    }
  }

  assignLinked(r: Reg, s: Scalar): void {
    r.s = s;
    if (r.id === 0) return;
    for (const x of this.allRegs()) {
      if (x !== r && x.k === K.Scalar && x.id === r.id) x.s = cloneScalar(s);
    }
  }
}
