/**
 * The deep checker's spin locks and callbacks (`bpf_spin_lock`, `bpf_loop`, `bpf_for_each_map_elem`
 * and the other helpers that call back into the program). Internal to `lib/verifier/`.
 *
 * @module
 */
import type { ResolvedMap } from "./maps.ts";
import { inexact, isConst, s64, unknownScalar } from "./scalar.ts";
import { B, cloneReg, type Frame, K, mkReg, newFrame, ownBytes } from "./state.ts";
import { MAX_CALL_FRAMES } from "./core.ts";
import { InterpHelperArgs } from "./helper_args.ts";

/** The interpreter so far, plus the deep checker's spin locks and callbacks. */
export abstract class InterpCallbacks extends InterpHelperArgs {
  /** `bpf_spin_lock()` / `bpf_spin_unlock()` (`process_spin_lock()`). */
  spinLockCall(id: number): number {
    const reg = this.read(1);
    if (reg.k === K.Unknown) this.giveUp("spin lock argument not modelled");
    if (reg.k !== K.MapValue || reg.nullable) {
      if (reg.k === K.Scalar || reg.nullable) {
        this.fail(
          "helper-arg",
          `R1 type=${this.typeName(reg)} expected=map_value, ptr_`,
          "bpf_spin_lock() takes a pointer into a map value holding a struct bpf_spin_lock.",
          [1],
        );
      }
      this.giveUp("spin lock in an unmodelled kind of memory");
    }
    const map = reg.map!;
    if (!map.hasBtf) {
      this.fail(
        "spin-lock",
        `map '${map.name}' has to have BTF in order to use bpf_spin_lock`,
        "A map value can hold a bpf_spin_lock only when the map was created with BTF describing it.",
        [1],
      );
    }
    if (map.spinLock < 0) this.giveUp("map BTF without a described spin lock");
    if (!isConst(reg.s) || !reg.s.exact) {
      if (!reg.s.exact) this.giveUp("imprecise spin lock offset");
      this.fail(
        "spin-lock",
        "R1 doesn't have constant offset. bpf_spin_lock has to be at the constant offset",
        "The lock must be addressed at a constant offset in the map value.",
        [1],
      );
    }
    const off = reg.off + Number(s64(reg.s.v));
    if (off !== map.spinLock) {
      this.fail(
        "spin-lock",
        `off ${off} doesn't point to 'struct bpf_spin_lock' that is at ${map.spinLock}`,
        `The value's struct bpf_spin_lock is at offset ${map.spinLock}, not ${off}.`,
        [1],
      );
    }
    const st = this.st;
    if (id === 93) {
      if (st.lock !== 0) {
        this.fail(
          "spin-lock",
          "Locking two bpf_spin_locks are not allowed",
          "Only one bpf_spin_lock may be held at a time.",
          [1],
        );
      }
      if (reg.id === 0) this.giveUp("lock through a pointer without an id");
      st.lock = reg.id;
      st.lockMap = map;
    } else {
      if (st.lock === 0) {
        this.fail(
          "spin-lock",
          "bpf_spin_unlock without taking a lock",
          "bpf_spin_unlock() is called on a path where no lock is held.",
          [1],
        );
      }
      if (st.lock !== reg.id || st.lockMap !== map) {
        this.fail(
          "spin-lock",
          "bpf_spin_unlock of different lock",
          "The lock released is not the one that was taken.",
          [1],
        );
      }
      st.lock = 0;
      delete st.lockMap;
    }
    const f = this.frame();
    for (let i = 1; i <= 5; i++) f.regs[i] = mkReg(K.NotInit);
    f.regs[0] = mkReg(K.NotInit);
    return this.pc + 1;
  }

  /**
   * `bpf_loop()` and `bpf_for_each_map_elem()`: the callback runs as a subprogram from the state
   * the kernel gives it (its first iteration); after it, the caller goes on with what the callback
   * may have changed through its context pointer forgotten.
   */
  callbackCall(id: number): number {
    const f = this.frame();
    const fnReg = id === 181 ? 2 : 2;
    const ctxReg = 3;
    let map: ResolvedMap | undefined;
    if (id === 181) {
      const n = this.read(1);
      if (n.k === K.Unknown) this.giveUp("bpf_loop count not modelled");
      if (n.k !== K.Scalar && !this.allowPtrLeaks) this.giveUp("pointer as bpf_loop count");
    } else {
      const m = this.read(1);
      if (m.k === K.Unknown) this.giveUp("map argument not modelled");
      if (m.k !== K.MapPtr) {
        this.fail(
          "helper-arg",
          `R1 type=${this.typeName(m)} expected=map_ptr`,
          "bpf_for_each_map_elem() takes a map.",
          [1],
        );
      }
      map = m.map!;
      // Hash and array maps (not per-CPU, not LRU: their value pointer differs).
      if (map.type !== 1 && map.type !== 2) this.giveUp("for_each over this map type");
    }
    const fn = this.read(fnReg);
    if (fn.k !== K.Func) {
      if (fn.k === K.Unknown) this.giveUp("callback not modelled");
      this.fail(
        "helper-arg",
        `R${fnReg} type=${this.typeName(fn)} expected=func`,
        "The callback argument must be a function (a BPF_PSEUDO_FUNC ld_imm64).",
        [fnReg],
      );
    }
    const ctx = this.read(ctxReg);
    const ctxNull = ctx.k === K.Scalar && isConst(ctx.s) && ctx.s.v === 0n;
    if (!ctxNull && ctx.k !== K.Stack) {
      if (ctx.k === K.Unknown) this.giveUp("callback context not modelled");
      if (ctx.k === K.Scalar) {
        if (!ctx.s.exact) this.giveUp("imprecise callback context");
        this.fail(
          "helper-arg",
          `R${ctxReg} type=scalar expected=fp`,
          "The callback context must be a pointer to the stack, or NULL.",
          [ctxReg],
        );
      }
      this.giveUp("callback context of an unmodelled kind");
    }
    const flags = this.read(4);
    if (flags.k === K.Unknown) this.giveUp("flags not modelled");
    if (ctx.k === K.Stack && (!isConst(ctx.s) || ctx.s.v !== 0n)) {
      this.giveUp("variable-offset callback context");
    }
    if (this.st.frames.length >= MAX_CALL_FRAMES) this.giveUp("callback too deep");
    if (!this.bpfCapable) this.giveUp("unprivileged callbacks");
    const target = fn.off;
    const callee = newFrame(this.pc, target, this.st.frames.length);
    callee.cb = {
      helper: id,
      lo: 0,
      hi: 1,
      havoc: ctx.k === K.Stack ? ctx.frame : -1,
      refs: this.st.refs.length,
    };
    // set_loop_callback_state(): the index is an unknown scalar.
    callee.regs[1] = this.scalarReg(unknownScalar());
    if (id === 181) {
      callee.regs[2] = cloneReg(ctx);
    } else {
      const mp = mkReg(K.MapPtr);
      mp.map = map;
      callee.regs[1] = mp;
      callee.regs[2] = mkReg(K.Unknown); // PTR_TO_MAP_KEY: not modelled
      const v = mkReg(K.MapValue);
      v.map = map;
      callee.regs[3] = v;
      callee.regs[4] = cloneReg(ctx);
    }
    void f;
    this.st.frames.push(callee);
    return target;
  }

  /** The return from a callback frame to its helper call. */
  callbackReturn(callee: Frame): number {
    const cb = callee.cb!;
    const r0 = callee.regs[0];
    if (r0.k === K.NotInit) {
      this.fail("uninit-reg", "R0 !read_ok", "The callback returns without setting r0.", [0]);
    }
    if (r0.k === K.Unknown) this.giveUp("callback return value not modelled");
    if (r0.k !== K.Scalar) {
      this.fail(
        "return-range",
        `At callback return the register R0 is not a known value (${this.typeName(r0)})`,
        `The callback must return a number in [${cb.lo}, ${cb.hi}].`,
        [0],
      );
    }
    if (r0.s.exact && (r0.s.smin < BigInt(cb.lo) || r0.s.smax > BigInt(cb.hi))) {
      this.fail(
        "return-range",
        `At callback return the register R0 has ${
          this.rangeText(r0.s)
        } should have been in [${cb.lo}, ${cb.hi}]`,
        `The callback must return a value in [${cb.lo}, ${cb.hi}] (0: go on, 1: stop).`,
        [0],
      );
    }
    if (!r0.s.exact) this.giveUp("callback return value imprecise");
    this.st.frames.pop();
    const caller = this.frame();
    if (cb.havoc >= 0) this.havocFrame(this.st.frames[cb.havoc]);
    caller.regs[0] = this.scalarReg(inexact());
    for (let i = 1; i <= 5; i++) caller.regs[i] = mkReg(K.NotInit);
    return callee.callsite + 1;
  }

  /** Forgets what a callback may have written into a frame's stack. */
  havocFrame(f: Frame): void {
    ownBytes(f);
    for (let i = 0; i < 64; i++) {
      const sp = f.spills[i];
      if (sp === undefined) continue;
      if (sp.k === K.Scalar) sp.s = inexact();
      else if (sp.k !== K.Dynptr) f.spills[i] = mkReg(K.Unknown);
    }
    for (let i = 0; i < 512; i++) {
      if (f.bytes[i] === B.Zero || f.bytes[i] === B.Invalid) f.bytes[i] = B.Misc;
      else if (f.bytes[i] === B.Dynptr) this.giveUp("callback may change a dynptr");
    }
    f.low = 0;
  }
}
