/**
 * The deep checker's abstract interpreter: it follows the kernel verifier's `do_check()` path by
 * path over the program (fall-through first, as the kernel does), with the kernel's model of
 * register and stack state, and reports the first error the kernel would report on a path it
 * explores.
 *
 * Its rule is to never refuse what the kernel accepts: whenever a path reaches something this
 * interpreter does not model exactly (an unmodelled helper argument, a kfunc, a value the kernel may
 * know more precisely than we do), the path is abandoned without a finding. A finding is reported
 * only from a state that equals the kernel's on that path.
 *
 * @module
 */
import { ProgType } from "../../types/prog_type.ts";
import { constScalar, inexact, isConst, type Scalar } from "./scalar.ts";
import { cloneReg, K, mkReg, newFrame, type State } from "./state.ts";
import { MAX_CALL_FRAMES } from "./core.ts";
import type { DeepCheckOptions, DeepCheckResult } from "./types.ts";
import { InterpHelperCall } from "./helper_call.ts";

export type { DeepCheckOptions, DeepCheckResult, DeepFinding } from "./types.ts";

/**
 * Runs the deep checker on a program that passed the structural checks.
 *
 * @example
 * ```ts
 * import { getProgType } from "@tsbpf/core/progtype";
 * import { deepCheck } from "@tsbpf/core/verifier";
 * const r = deepCheck({
 *   def: getProgType("socket_filter")!,
 *   insns: [{ code: 0x95, dst: 0, src: 0, off: 0, imm: 0 }], // exit with r0 unset
 *   loadContext: { license: "GPL", gplCompatible: true, privileged: true },
 * });
 * r.findings[0].message; // "R0 !read_ok"
 * ```
 */
export function deepCheck(o: DeepCheckOptions): DeepCheckResult {
  return new Interp(o).run();
}

class Interp extends InterpHelperCall {
  step(work: { st: State; pc: number }[]): number {
    const pc = this.pc;
    const insn = this.insns[pc];
    const s = this.sem[pc];
    switch (s.kind) {
      case "alu":
        this.alu(insn, s.wide, s.op, s.srcReg, s.signed, s.movsx);
        return pc + 1;
      case "neg":
      case "endian": {
        const d = this.use(insn.dst);
        if (d.k !== K.Scalar) {
          if (!this.allowPtrLeaks) {
            this.fail(
              "ptr-arith",
              `R${insn.dst} pointer arithmetic prohibited`,
              "Without CAP_PERFMON a pointer cannot be negated or byte-swapped.",
              [insn.dst],
            );
          }
          this.setReg(insn.dst, this.scalarReg(inexact()));
          return pc + 1;
        }
        let r: Scalar = inexact(s.wide ? 64 : 32);
        if (isConst(d.s) && s.kind === "neg") {
          r = s.wide ? constScalar(-d.s.v) : constScalar(BigInt.asUintN(32, -d.s.v));
          r.exact = d.s.exact;
        }
        this.setReg(insn.dst, this.scalarReg(r));
        return pc + 1;
      }
      case "addr_space_cast":
        this.giveUp("addr_space_cast (arena) is not modelled");
        break;
      case "load":
        this.load(insn, s.size, s.signExtend);
        return pc + 1;
      case "store_imm":
        this.store(insn, s.size, undefined, true);
        return pc + 1;
      case "store_reg":
        this.store(insn, s.size, insn.src, false);
        return pc + 1;
      case "atomic":
        this.atomic(insn, s.size, s.op, s.fetch);
        return pc + 1;
      case "load_acquire":
      case "store_release":
        this.giveUp("load-acquire/store-release are not modelled");
        break;
      case "ld_imm64":
        this.ldImm64(insn, this.insns[pc + 1]);
        return pc + 2;
      case "ld_abs":
      case "ld_ind":
        this.ldAbs(insn, s.kind === "ld_ind");
        return pc + 1;
      case "ja":
        return pc + 1 + (s.wide ? insn.off : insn.imm);
      case "jmp":
        return this.jump(insn, s.wide, s.op, s.srcReg, work);
      case "call":
        if (s.pseudo === 0) return this.helperCall(insn.imm);
        if (s.pseudo === 1) return this.localCall(insn.imm);
        this.giveUp("kfunc calls are not modelled");
        break;
      case "exit":
        return this.exit();
      case "may_goto":
        this.giveUp("may_goto is not modelled");
        break;
      default:
        this.giveUp("instruction not modelled");
    }
    return -1;
  }

  localCall(imm: number): number {
    const target = this.pc + 1 + imm;
    if (this.st.frames.length >= MAX_CALL_FRAMES) {
      this.fail(
        "call-depth",
        `the call stack of ${this.st.frames.length + 1} frames is too deep !`,
        "BPF-to-BPF calls may nest at most 8 deep.",
      );
    }
    if (!this.bpfCapable) this.giveUp("unprivileged calls");
    if (this.st.lock !== 0) this.giveUp("call while holding a lock");
    const caller = this.frame();
    const callee = newFrame(this.pc, target, this.st.frames.length);
    for (let i = 1; i <= 5; i++) callee.regs[i] = cloneReg(caller.regs[i]);
    this.st.frames.push(callee);
    return target;
  }

  exit(): number {
    const st = this.st;
    if (st.lock !== 0) {
      if (st.frames.length > 1) this.giveUp("subprogram exit while holding a lock");
      this.fail(
        "lock-held",
        "BPF_EXIT instruction in main prog cannot be used inside bpf_spin_lock-ed region",
        "The program exits while still holding a bpf_spin_lock: call bpf_spin_unlock() first.",
      );
    }
    if (st.frames.length > 1 && this.frame().cb !== undefined) {
      return this.callbackReturn(this.frame());
    }
    if (st.frames.length > 1) {
      const callee = st.frames.pop()!;
      const caller = this.frame();
      const r0 = callee.regs[0];
      if (r0.k === K.Stack && r0.frame === st.frames.length) this.giveUp("stack pointer returned");
      caller.regs[0] = r0.k === K.NotInit ? mkReg(K.Unknown) : r0;
      for (let i = 1; i <= 5; i++) caller.regs[i] = mkReg(K.NotInit);
      return callee.callsite + 1;
    }
    if (st.refs.length > 0) {
      const r = st.refs[0];
      this.fail(
        "unreleased-ref",
        `Unreleased reference id=${r.id} alloc_insn=${r.insn}`,
        `The reference acquired at instruction ${r.insn} (a socket lookup or ring buffer reservation) is not released on this path: call the matching release/submit/discard helper before exit.`,
      );
    }
    const t = this.def.type;
    if (
      t === ProgType.TRACING || t === ProgType.STRUCT_OPS || t === ProgType.EXT ||
      t === ProgType.LSM
    ) {
      this.giveUp("return convention of this program type not modelled");
    }
    const r0 = this.read(0);
    if (r0.k === K.Unknown) this.giveUp("return value not modelled");
    if (r0.k !== K.Scalar && !this.allowPtrLeaks) {
      this.fail(
        "ptr-leak",
        "R0 leaks addr as return value",
        "Without CAP_PERFMON a program may not return a pointer.",
        [0],
      );
    }
    const range = this.returnRange();
    if (range !== undefined) {
      if (r0.k !== K.Scalar) {
        this.fail(
          "return-range",
          `At program exit the register R0 is not a known value (${this.typeName(r0)})`,
          `A ${this.def.name} program must return a number in [${range[0]}, ${range[1]}].`,
          [0],
        );
      }
      if (r0.s.exact && (r0.s.smin < BigInt(range[0]) || r0.s.smax > BigInt(range[1]))) {
        const has = `R0 has ${this.rangeText(r0.s)}`;
        this.fail(
          "return-range",
          `At program exit the register ${has} should have been in [${range[0]}, ${range[1]}]`,
          `A ${this.def.name} program must return a value in [${range[0]}, ${range[1]}].`,
          [0],
        );
      }
    }
    return -1;
  }

  returnRange(): [number, number] | undefined {
    const t = this.def.type;
    if (t === ProgType.CGROUP_SKB) return this.lc.expectedAttachType === 1 ? [0, 3] : [0, 1];
    if (t === ProgType.CGROUP_SOCK) return [0, 1];
    return undefined;
  }
}
