/**
 * The deep checker's walk: the interpreter's state (program, options, per-instruction marks), the
 * path loop with its budget, state pruning and loop detection, stack depth, failing and giving up,
 * and register reads and writes. The ALU, memory, branch and call rules extend it, one file each
 * (`alu.ts` … `helper_call.ts`), and `interp.ts` puts them together. Internal to `lib/verifier/`.
 *
 * @module
 */
import type { Insn } from "../insn/insn.ts";
import { decodeSemantics, type Semantics } from "../insn/semantics.ts";
import { ProgType } from "../../types/prog_type.ts";
import { MapFlag } from "../../types/flags.ts";
import type { FuncProto, LoadContext, ProgTypeDef } from "../progtype/types.ts";
import { type ResolvedMap, resolveMapDescription } from "./maps.ts";
import type { Scalar } from "./scalar.ts";
import {
  type Frame,
  K,
  KIND_NAMES,
  lastSecondHash,
  mkReg,
  newFrame,
  type Reg,
  regText,
  type State,
  stateHash,
} from "./state.ts";
import type { DeepCheckOptions, DeepCheckResult, DeepFinding } from "./types.ts";

/** Thrown to end the walk with the finding the kernel would report. */
export class Fail {
  constructor(readonly finding: DeepFinding) {}
}
/** Thrown to abandon a path the interpreter does not model exactly (no finding). */
export class GiveUp {
  constructor(readonly why: string) {}
}

/** `MAX_CALL_FRAMES`: the deepest chain of BPF-to-BPF calls and callbacks. */
export const MAX_CALL_FRAMES = 8;

/** Most paths waiting to be followed before the checker gives up. */
const MAX_PENDING = 2048;

/** `BPF_MAX_VAR_OFF`: the largest offset a pointer may carry. */
export const MAX_VAR_OFF = 1n << 29n;

/** `BPF_F_RDONLY_PROG`: the program may only read the map. */
export const F_RDONLY_PROG = MapFlag.RDONLY_PROG;

/** The interpreter's state and path walk; the rule files extend it, `interp.ts` completes it. */
export abstract class InterpCore {
  readonly insns: readonly Insn[];
  readonly sem: Semantics[];
  readonly def: ProgTypeDef;
  readonly lc: LoadContext;
  readonly maps = new Map<number, ResolvedMap | null>();
  readonly notes: string[] = [];
  readonly warnings: DeepFinding[] = [];
  readonly allowPtrLeaks: boolean;
  readonly allowUninitStack: boolean;
  readonly bpfCapable: boolean;
  readonly prune: Uint8Array;
  /** Targets of backward jumps. */
  readonly loopHead: Uint8Array;
  readonly seen = new Map<number, Set<number>>();
  readonly visited: Uint8Array;
  readonly stopAt: Uint8Array;
  readonly abandoned: number[] = [];
  /** Deepest stack use per subprogram (by its first instruction). */
  readonly depth: Int32Array;
  /** The program has BPF-to-BPF calls or callbacks. */
  hasCalls = false;
  idGen = 0;
  processed = 0;
  complete = true;
  pc = 0;
  st!: State;
  protoCache = new Map<number, FuncProto | null>();

  constructor(readonly o: DeepCheckOptions) {
    this.insns = o.insns;
    this.def = o.def;
    this.lc = o.loadContext;
    const caps = o.loadContext.capabilities ?? {};
    const priv = o.loadContext.privileged;
    const sysAdmin = caps.sysAdmin ?? priv;
    this.bpfCapable = sysAdmin || (caps.bpf ?? priv);
    const perfmon = sysAdmin || (caps.perfmon ?? priv);
    this.allowPtrLeaks = perfmon;
    this.allowUninitStack = perfmon;
    this.sem = this.insns.map((i) => decodeSemantics(i));
    this.prune = new Uint8Array(this.insns.length + 1);
    this.loopHead = new Uint8Array(this.insns.length + 1);
    this.visited = new Uint8Array(this.insns.length);
    this.depth = new Int32Array(this.insns.length + 1);
    this.stopAt = new Uint8Array(this.insns.length + 1);
    for (const i of o.stops?.keys() ?? []) if (i >= 0 && i < this.insns.length) this.stopAt[i] = 1;
    for (let i = 0; i < this.insns.length; i++) {
      const s = this.sem[i];
      if (s.kind === "jmp" || s.kind === "ja") {
        const t = i + 1 + (s.kind === "ja" && !s.wide ? this.insns[i].imm : this.insns[i].off);
        // States can only meet again where paths join, at jump targets (loop heads included).
        if (t >= 0 && t < this.insns.length) this.prune[t] = 1;
        if (t >= 0 && t <= i) this.loopHead[t] = 1;
      }
      if (s.kind === "call" && s.pseudo === 1) this.hasCalls = true;
      if (s.kind === "ld_imm64") {
        if (this.insns[i].src === 4) this.hasCalls = true;
        i++;
      }
    }
    for (const [fd, d] of Object.entries(o.maps ?? {})) {
      this.maps.set(Number(fd), resolveMapDescription(d) ?? null);
    }
  }

  run(): DeepCheckResult {
    const init: State = { frames: [newFrame(-1, 0, 0)], refs: [], lock: 0 };
    if (this.o.trace) init.trace = [];
    init.frames[0].regs[1] = mkReg(K.Ctx);
    const work: { st: State; pc: number }[] = [{ st: init, pc: 0 }];
    const budget = this.o.budget ?? 250_000;
    let error: DeepFinding | undefined;
    let trace: string[] | undefined;
    while (work.length > 0 && error === undefined) {
      const item = work.pop()!;
      this.st = item.st;
      this.pc = item.pc;
      try {
        for (;;) {
          if (work.length > MAX_PENDING) {
            // A path that keeps forking (a loop over data with a branch per step): the kernel
            // would stop on its own complexity limits; this checker stops early, silently.
            this.giveUpAll(`more than ${MAX_PENDING} paths pending`);
            work.length = 0;
            break;
          }
          if (++this.processed > budget) {
            this.giveUpAll(`budget of ${budget} instructions spent`);
            work.length = 0;
            break;
          }
          if (this.prune[this.pc] && this.seenBefore()) break;
          this.visited[this.pc] = 1;
          if (this.stopAt[this.pc]) throw new Fail(this.o.stops!.get(this.pc)!);
          if (this.st.trace) this.st.trace.push(this.describeStep());
          const next = this.step(work);
          if (next < 0) break;
          this.pc = next;
        }
      } catch (e) {
        if (e instanceof Fail) {
          error = e.finding;
          trace = this.st.trace;
        } else if (e instanceof GiveUp) {
          this.complete = false;
          this.abandoned.push(this.st.frames.length > 1 ? -1 : this.pc);
          if (this.notes.length < 8) this.notes.push(`insn ${this.pc}: ${e.why}`);
        } else {
          throw e;
        }
      }
    }
    if (error === undefined) error = this.stackDepthError();
    const findings = [...this.warnings];
    if (error) findings.push(error);
    return {
      findings,
      complete: this.complete && error === undefined,
      processed: this.processed,
      notes: this.notes,
      visited: this.visited,
      abandoned: this.abandoned,
      ...(trace ? { trace } : {}),
    };
  }

  /** `update_stack_depth()`: the deepest stack byte a subprogram touched. */
  noteDepth(f: Frame, depth: number): void {
    if (depth > this.depth[f.subprog]) this.depth[f.subprog] = depth;
  }

  /**
   * `check_max_stack_depth()`: the stack of a call chain (calls and callbacks, found in the code)
   * is the sum of its frames' depths, each rounded up to 16 bytes, and may not pass 512. The depths
   * are those of the paths followed, a lower bound of the kernel's. Program types that may get a
   * private stack (tracing, struct_ops) are left to the kernel.
   */
  stackDepthError(): DeepFinding | undefined {
    const t = this.def.type;
    const NET: number[] = [
      ProgType.SOCKET_FILTER,
      ProgType.SCHED_CLS,
      ProgType.SCHED_ACT,
      ProgType.XDP,
      ProgType.CGROUP_SKB,
      ProgType.CGROUP_SOCK,
      ProgType.CGROUP_SOCK_ADDR,
      ProgType.SOCK_OPS,
      ProgType.SK_SKB,
      ProgType.SK_MSG,
      ProgType.LWT_IN,
      ProgType.LWT_OUT,
      ProgType.LWT_XMIT,
      ProgType.LWT_SEG6LOCAL,
      ProgType.CGROUP_DEVICE,
      ProgType.CGROUP_SYSCTL,
      ProgType.CGROUP_SOCKOPT,
      ProgType.FLOW_DISSECTOR,
      ProgType.SK_REUSEPORT,
      ProgType.SK_LOOKUP,
    ];
    if (!this.hasCalls || !NET.includes(t)) return undefined;
    const n = this.insns.length;
    const starts = new Set<number>([0]);
    for (let i = 0; i < n; i++) {
      const x = this.insns[i];
      if ((x.code === 0x85 && x.src === 1) || (x.code === 0x18 && x.src === 4)) {
        starts.add(i + 1 + x.imm);
      }
    }
    const sorted = [...starts].filter((s) => s >= 0 && s < n).sort((a, b) => a - b);
    const calls = new Map<number, number[]>();
    for (let k = 0; k < sorted.length; k++) {
      const end = k + 1 < sorted.length ? sorted[k + 1] : n;
      const out: number[] = [];
      for (let i = sorted[k]; i < end; i++) {
        const x = this.insns[i];
        if ((x.code === 0x85 && x.src === 1) || (x.code === 0x18 && x.src === 4)) {
          out.push(i + 1 + x.imm);
        }
      }
      calls.set(sorted[k], out);
    }
    const round = (d: number) => (d + 15) & ~15;
    let found: DeepFinding | undefined;
    const walk = (sub: number, frames: number, total: number, path: Set<number>): void => {
      if (found !== undefined || path.has(sub) || frames > MAX_CALL_FRAMES) return;
      const sum = total + round(this.depth[sub] ?? 0);
      if (sum > 512) {
        found = {
          index: -1,
          code: "stack-size",
          message: `combined stack size of ${frames} calls is ${sum}. Too large`,
          severity: "error",
          explanation:
            `The stacks of a chain of ${frames} nested calls add up to ${sum} bytes; the limit for all frames together is 512.`,
          registers: {},
        };
        return;
      }
      path.add(sub);
      for (const c of calls.get(sub) ?? []) walk(c, frames + 1, sum, path);
      path.delete(sub);
    };
    walk(0, 1, 0, new Set());
    return found;
  }

  giveUpAll(why: string): void {
    this.complete = false;
    this.abandoned.push(-1);
    this.notes.push(why);
  }

  seenBefore(): boolean {
    const st = this.st;
    const key = stateHash(st);
    let set = this.seen.get(this.pc);
    if (set === undefined) this.seen.set(this.pc, set = new Set());
    if (set.has(key)) {
      if (this.loopHead[this.pc]) this.infiniteLoop(key, lastSecondHash());
      return true;
    }
    if (set.size < 256) set.add(key);
    if (this.loopHead[this.pc]) {
      // The first loop-head visits of a path only: a loop that repeats its state does so early,
      // and a long chain would cost memory and time on long paths.
      const depth = st.anc === undefined ? 0 : st.anc.depth + 1;
      if (depth < 1024) {
        st.anc = { pc: this.pc, h: key, h2: lastSecondHash(), prev: st.anc, depth };
      }
    }
    return false;
  }

  /**
   * The state at a loop head equals one this same path had there before: the loop makes no
   * progress, and the kernel refuses it ("infinite loop detected", or it runs out of its
   * instruction budget). Only from states the kernel holds too (every scalar exact, nothing
   * unmodelled), and confirmed by a second hash.
   */
  infiniteLoop(key: number, h2: number): void {
    for (let a = this.st.anc; a !== undefined; a = a.prev) {
      if (a.pc !== this.pc || a.h !== key || a.h2 !== h2) continue;
      for (const r of this.allRegs()) {
        if (r.k === K.Unknown || (r.k !== K.NotInit && !r.s.exact)) return;
      }
      this.fail(
        "infinite-loop",
        `infinite loop detected at insn ${this.pc}`,
        "The loop comes back to this instruction in exactly the state it had before: it can never end.",
      );
    }
  }

  describeStep(): string {
    const f = this.frame();
    const live: string[] = [];
    for (let i = 0; i < 11; i++) {
      if (f.regs[i].k !== K.NotInit && i !== 10) live.push(`R${i}=${regText(f.regs[i])}`);
    }
    return `${this.pc}: ${live.join(" ")}`;
  }

  frame(): Frame {
    return this.st.frames[this.st.frames.length - 1];
  }

  fail(code: string, message: string, explanation: string, regs: number[] = []): never {
    const registers: Record<string, string> = {};
    const f = this.frame();
    for (const r of regs) registers[`R${r}`] = regText(f.regs[r]);
    throw new Fail({ index: this.pc, code, message, severity: "error", explanation, registers });
  }

  giveUp(why: string): never {
    throw new GiveUp(why);
  }

  /** `check_reg_arg(SRC_OP)`. */
  read(r: number): Reg {
    const reg = this.frame().regs[r];
    if (reg.k === K.NotInit) {
      this.fail(
        "uninit-reg",
        `R${r} !read_ok`,
        `r${r} is read here but no value was ever written to it on this path.`,
        [r],
      );
    }
    return reg;
  }

  /** A register that must be modelled to go on. */
  use(r: number): Reg {
    const reg = this.read(r);
    if (reg.k === K.Unknown) this.giveUp(`r${r} holds a value this checker does not model`);
    return reg;
  }

  setReg(r: number, reg: Reg): void {
    this.frame().regs[r] = reg;
  }

  scalarReg(s: Scalar): Reg {
    return mkReg(K.Scalar, s);
  }

  typeName(reg: Reg): string {
    if (reg.k === K.Mem && reg.ringbuf) return reg.nullable ? "ringbuf_mem_or_null" : "ringbuf_mem";
    return KIND_NAMES[reg.k] + (reg.nullable ? "_or_null" : "");
  }

  /** Every register and spilled register of the state (all frames). */
  allRegs(): Reg[] {
    const out: Reg[] = [];
    for (const f of this.st.frames) {
      for (const r of f.regs) out.push(r);
      for (let i = f.low >> 3; i < 64; i++) {
        const s = f.spills[i];
        if (s !== undefined) out.push(s);
      }
    }
    return out;
  }

  /** Marks a scalar's linked copies inexact (their link is one this checker does not follow). */
  unlink(reg: Reg, others: boolean): void {
    if (reg.k !== K.Scalar || reg.id === 0) return;
    const id = reg.id;
    if (others) {
      for (const r of this.allRegs()) {
        if (r !== reg && r.k === K.Scalar && r.id === id) r.s.exact = false;
      }
    }
    reg.id = 0;
  }

  /** Follows one instruction; the next instruction index, or -1 when the path ends. */
  abstract step(work: { st: State; pc: number }[]): number;
}
