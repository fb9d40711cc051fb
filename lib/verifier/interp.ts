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
import type { Insn } from "../insn/insn.ts";
import { decodeSemantics, type Semantics } from "../insn/semantics.ts";
import { HELPER_NAMES } from "../../types/helpers.ts";
import { ProgType } from "../../types/prog_type.ts";
import { MapFlag } from "../../types/flags.ts";
import type { FuncProto, LoadContext, ProgTypeDef } from "../progtype/types.ts";
import type { CtxAccess } from "../progtype/ctx_access.ts";
import { type MapDescription, type ResolvedMap, resolveMapDescription } from "./maps.ts";
import {
  alu32,
  alu64,
  bounds32,
  bounds64,
  branchTaken,
  cloneScalar,
  constOp,
  constScalar,
  flipJmp,
  inexact,
  isConst,
  negateJmp,
  refine,
  s64,
  type Scalar,
  tnumText,
  unknownScalar,
} from "./scalar.ts";
import {
  B,
  cloneReg,
  cloneState,
  type Frame,
  K,
  KIND_NAMES,
  lastSecondHash,
  mkReg,
  newFrame,
  ownBytes,
  type Reg,
  regText,
  type State,
  stateHash,
} from "./state.ts";

/**
 * One finding of the deep checker.
 *
 * @example
 * ```ts
 * import type { DeepFinding } from "@tsbpf/core/verifier";
 * const f: DeepFinding = {
 *   index: 4, code: "null-deref", message: "R0 invalid mem access 'map_value_or_null'",
 *   severity: "error", explanation: "…", registers: { R0: "map_value_or_null(id=1)" },
 * };
 * ```
 */
export interface DeepFinding {
  /** Instruction index (`-1`: the program as a whole). */
  index: number;
  /** Stable code, e.g. `"null-deref"`, `"pkt-bounds"`, `"uninit-reg"`. */
  code: string;
  /** The kernel verifier's message. */
  message: string;
  /** `"error"`: the kernel refuses the program; `"warning"`: the checker could not tell. */
  severity: "error" | "warning";
  /** What is wrong, in plain words. */
  explanation: string;
  /** The abstract state of the registers involved, as the kernel would print it. */
  registers: Record<string, string>;
}

/**
 * What {@link deepCheck} checks.
 *
 * @example
 * ```ts
 * import type { DeepCheckOptions } from "@tsbpf/core/verifier";
 * const o: DeepCheckOptions = { def: undefined as never, insns: [], loadContext: { license: "GPL", gplCompatible: true, privileged: true } };
 * ```
 */
export interface DeepCheckOptions {
  /** The program type's definition (from the registry). */
  def: ProgTypeDef;
  /** The program. */
  insns: readonly Insn[];
  /** License, capabilities and attach type, as the helper prototypes see them. */
  loadContext: LoadContext;
  /** Maps by the fd number in `ld_imm64` map references. */
  maps?: Readonly<Record<number, MapDescription>>;
  /** The most instructions to interpret before giving up (default 250,000). */
  budget?: number;
  /** Keep the steps of each path, to explain the finding (slower). */
  trace?: boolean;
  /**
   * Findings of the structural checker that the kernel reports only when its walk reaches the
   * instruction (`do_check()` time: reserved fields, the frame pointer, helper availability…):
   * the interpreter reports one when a path reaches its index, and says which it never reached.
   */
  stops?: ReadonlyMap<number, DeepFinding>;
}

/**
 * What {@link deepCheck} found.
 *
 * @example
 * ```ts
 * import type { DeepCheckResult } from "@tsbpf/core/verifier";
 * const r: DeepCheckResult = {
 *   findings: [], complete: true, processed: 3, notes: [], visited: new Uint8Array(3), abandoned: [],
 * };
 * ```
 */
export interface DeepCheckResult {
  /** Findings: at most one error (the first the kernel would report), plus warnings. */
  findings: DeepFinding[];
  /** Every path was followed to its end (nothing abandoned as unmodelled). */
  complete: boolean;
  /** Instructions interpreted. */
  processed: number;
  /** Why paths were abandoned (first few), for curiosity and debugging. */
  notes: string[];
  /** In trace mode: the steps of the path that led to the error. */
  trace?: string[];
  /** Per instruction: 1 when a path reached it. */
  visited: Uint8Array;
  /**
   * Where paths were abandoned (instruction indexes; `-1`: anywhere, e.g. inside a subprogram or
   * when the budget ran out). Code reachable from these may be live in the kernel.
   */
  abandoned: number[];
}

class Fail {
  constructor(readonly finding: DeepFinding) {}
}
class GiveUp {
  constructor(readonly why: string) {}
}

const MAX_CALL_FRAMES = 8;
/** Most paths waiting to be followed before the checker gives up. */
const MAX_PENDING = 2048;
const S64_MIN_ = -(1n << 63n);
const S64_MAX_ = (1n << 63n) - 1n;
const MAX_VAR_OFF = 1n << 29n;
const F_RDONLY_PROG = MapFlag.RDONLY_PROG;
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

/** Map types whose lookup gives a pointer to a value of `value_size` bytes. */
const VALUE_MAPS = new Set([1, 2, 5, 6, 9, 10, 11, 24, 28, 29, 32]);
/** Helpers whose integer result the kernel does not narrow (`do_refine_retval_range`). */
const PLAIN_INT_HELPERS = new Set([
  2,
  3,
  4,
  5,
  6,
  7,
  9,
  10,
  11,
  13,
  14,
  15,
  16,
  23,
  25,
  26,
  28,
  44,
  51,
  65,
  87,
  88,
  89,
  112,
  113,
  125,
  130,
  134,
]);
/** Helpers that leave packet pointers valid (the rest may move the data: pointers are dropped). */
const KEEPS_PKT = new Set([
  1,
  2,
  3,
  5,
  6,
  7,
  8,
  12,
  14,
  15,
  16,
  23,
  25,
  26,
  28,
  51,
  84,
  85,
  86,
  99,
  125,
  130,
  131,
  132,
  133,
  134,
]);

/** Helpers that may move packet data (`bpf_helper_changes_pkt_data()`): packet pointers die. */
const CHANGES_PKT = new Set([
  9,
  10,
  11,
  13,
  18,
  19,
  31,
  38,
  39,
  43,
  44,
  50,
  54,
  63,
  65,
  73,
  74,
  75,
  76,
  90,
  91,
  143,
]);

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

class Interp {
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

  // ---------------------------------------------------------------- helpers

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

  // ---------------------------------------------------------------- the step

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

  // ---------------------------------------------------------------- ALU

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

  // ---------------------------------------------------------------- memory

  /** `check_mem_access()`: returns the loaded register for reads. */
  access(
    regno: number,
    reg: Reg,
    insnOff: number,
    size: number,
    write: boolean,
    value: Reg | undefined,
    isImm: boolean,
    immValue: number,
  ): Reg | undefined {
    if (reg.k === K.Unknown) this.giveUp("memory access through an unmodelled pointer");
    if (reg.nullUnsure && reg.nullable) {
      this.giveUp("array lookup result: the kernel may know it is not NULL");
    }
    if (reg.k === K.Scalar || reg.nullable || reg.k === K.PktEnd) {
      this.fail(
        reg.nullable ? "null-deref" : "invalid-mem",
        `R${regno} invalid mem access '${this.typeName(reg)}'`,
        reg.nullable
          ? `r${regno} may be NULL here: check it against 0 (e.g. "if r${regno} == 0 goto ...") before dereferencing it.`
          : reg.k === K.Scalar
          ? `r${regno} holds a number, not a pointer: it cannot be dereferenced.`
          : `r${regno} points at the end of the packet, which cannot be dereferenced.`,
        [regno],
      );
    }
    const off = insnOff + reg.off;
    switch (reg.k) {
      case K.Ctx: {
        this.ctxOffset(regno, reg);
        if (write && value !== undefined && value.k !== K.Scalar && !this.allowPtrLeaks) {
          this.fail(
            "ptr-leak",
            `R${value === undefined ? 0 : this.insns[this.pc].src} leaks addr into ctx`,
            "Without CAP_PERFMON a pointer cannot be written to the context.",
          );
        }
        let a: CtxAccess = this.def.ops.isValidAccess?.(insnOff, size, write ? "write" : "read") ??
          { valid: "unknown" };
        if (
          this.def.type === ProgType.CGROUP_SKB && !write && size === 4 && this.bpfCapable &&
          (insnOff === 76 || insnOff === 80)
        ) {
          // cg_skb_is_valid_access(): data and data_end with CAP_BPF.
          a = { valid: true, result: insnOff === 76 ? "pkt" : "pkt_end" };
        }
        if (a.valid === false) {
          this.fail(
            "ctx-access",
            `invalid bpf_context access off=${insnOff} size=${size}`,
            `The ${this.def.name} context has no ${
              write ? "writable" : "readable"
            } field of ${size} bytes at offset ${insnOff}.`,
            [regno],
          );
        }
        if (write) return undefined;
        if (a.valid === "unknown") return mkReg(K.Unknown);
        switch (a.result) {
          case "pkt":
            return mkReg(K.Pkt);
          case "pkt_end":
            return mkReg(K.PktEnd);
          case "pkt_meta":
            return mkReg(K.PktMeta);
          case "scalar":
            return this.scalarReg(unknownScalar(size * 8));
          default:
            return mkReg(K.Unknown);
        }
      }
      case K.Stack:
        return this.stackAccess(regno, reg, insnOff, size, write, value, isImm, immValue);
      case K.MapValue: {
        const map = reg.map!;
        if (write && (map.flags & F_RDONLY_PROG)) {
          this.fail(
            "map-readonly",
            `write into map forbidden, value_size=${map.valueSize} off=${off} size=${size}`,
            "The map was created read-only for programs (BPF_F_RDONLY_PROG).",
            [regno],
          );
        }
        if (write && value !== undefined && value.k !== K.Scalar && !this.allowPtrLeaks) {
          this.fail(
            "ptr-leak",
            `R${this.insns[this.pc].src} leaks addr into map`,
            "Without CAP_PERFMON a pointer cannot be stored in a map: user space could read the kernel address.",
          );
        }
        this.regionCheck(
          regno,
          reg,
          off,
          size,
          map.valueSize,
          "map value",
          `invalid access to map value, value_size=${map.valueSize} off=${"%OFF%"} size=${size}`,
        );
        this.lockOverlap(reg, off, size, true);
        if (write) return undefined;
        // Read-only maps may be frozen (the kernel then knows the values); BTF values may hold
        // typed fields, unless the description says where the special ones are.
        if ((map.hasBtf && map.spinLock < 0) || (map.flags & F_RDONLY_PROG)) {
          return this.scalarReg(inexact(size * 8));
        }
        return this.scalarReg(unknownScalar(size * 8));
      }
      case K.Mem: {
        this.regionCheck(
          regno,
          reg,
          off,
          size,
          reg.memSize,
          "memory",
          `invalid access to memory, mem_size=${reg.memSize} off=${"%OFF%"} size=${size}`,
        );
        if (write) return undefined;
        return this.scalarReg(unknownScalar(size * 8));
      }
      case K.Pkt:
      case K.PktMeta: {
        if (write) {
          const t = this.def.type;
          if (!(t === ProgType.SCHED_CLS || t === ProgType.SCHED_ACT || t === ProgType.XDP)) {
            if (t === ProgType.CGROUP_SKB || t === ProgType.SOCKET_FILTER) {
              this.fail(
                "pkt-write",
                "cannot write into packet",
                `${this.def.name} programs may not write to packet data.`,
                [regno],
              );
            }
            this.giveUp("packet write permission not modelled for this type");
          }
        }
        if (!reg.s.exact) this.giveUp("imprecise packet offset");
        if (reg.s.smin < 0n) {
          this.fail(
            "pkt-bounds",
            `R${regno} min value is negative, either use unsigned index or do a if (index >=0) check.`,
            "The offset added to the packet pointer may be negative.",
            [regno],
          );
        }
        if (reg.range < 0 || off < 0 || off + size > reg.range) {
          this.fail(
            "pkt-bounds",
            reg.range < 0
              ? `R${regno} offset is outside of the packet`
              : `invalid access to packet, off=${off} size=${size}, R${regno}(id=${reg.id},off=${reg.off},r=${reg.range})`,
            `Bytes ${off}..${
              off + size - 1
            } of the packet are read or written, but the program proved only ${
              Math.max(reg.range, 0)
            } bytes are there on this path: compare the pointer with data_end first (e.g. "if r${regno} + ${
              off + size
            } > data_end goto drop").`,
            [regno],
          );
        }
        if (write) return undefined;
        return this.scalarReg(unknownScalar(size * 8));
      }
      default:
        this.giveUp(`memory access through ${this.typeName(reg)} is not modelled`);
    }
  }

  /** The special-field rule of `check_map_access()`: the spin lock is not plain memory. */
  lockOverlap(reg: Reg, off: number, size: number, direct: boolean): void {
    const map = reg.map!;
    if (map.spinLock < 0) {
      if (map.hasBtf) this.giveUp("map value with BTF fields not described");
      return;
    }
    if (!isConst(reg.s)) this.giveUp("variable offset into a value with a spin lock");
    const lo = off + Number(s64(reg.s.v));
    if (lo < map.spinLock + 4 && map.spinLock < lo + size) {
      this.fail(
        "spin-lock",
        `bpf_spin_lock cannot be accessed ${
          direct ? "directly by load/store" : "indirectly by helper"
        }`,
        "The struct bpf_spin_lock in a map value may only be used through bpf_spin_lock() and bpf_spin_unlock().",
      );
    }
  }

  /**
   * `check_stack_access_within_bounds()` for a variable offset: refuses what may leave the frame
   * (the caller gives up on what stays inside).
   */
  varStackBounds(regno: number, reg: Reg, off: number, size: number, what: string): void {
    const v = reg.s;
    if (!v.exact) return;
    if (isConst(v)) this.giveUp("constant variable offset");
    if (
      size > 1 &&
      (((Number(v.v & 0xffn) + off) & (size - 1)) !== 0 || (v.m & BigInt(size - 1)) !== 0n)
    ) {
      return; // alignment is checked first, in words not reproduced here
    }
    if (v.smax >= MAX_VAR_OFF || v.smin <= -MAX_VAR_OFF) {
      this.fail(
        "stack-bounds",
        `invalid unbounded variable-offset${what} stack R${regno}`,
        "The offset added to the stack pointer is not bounded.",
        [regno],
      );
    }
    const min = v.smin + BigInt(off), max = v.smax + BigInt(off) + BigInt(size);
    if (min < -512n || max > 0n) {
      this.fail(
        "stack-bounds",
        `invalid variable-offset${what} stack R${regno} var_off=${
          tnumText(v)
        } off=${off} size=${size}`,
        `The access may reach stack offsets ${min}..${max - 1n}, outside the 512-byte frame.`,
        [regno],
      );
    }
  }

  /** `__check_ptr_off_reg()` for the context pointer: it must be unmodified. */
  ctxOffset(regno: number, reg: Reg): void {
    const expl =
      "The context pointer must be used unmodified, with the field offset in the instruction.";
    if (reg.off < 0) {
      this.fail(
        "ctx-modified",
        `negative offset ctx ptr R${regno} off=${reg.off} disallowed`,
        expl,
        [
          regno,
        ],
      );
    }
    if (reg.off !== 0) {
      this.fail(
        "ctx-modified",
        `dereference of modified ctx ptr R${regno} off=${reg.off} disallowed`,
        expl,
        [regno],
      );
    }
    if (!isConst(reg.s) || reg.s.v !== 0n) {
      if (!reg.s.exact) this.giveUp("imprecise context offset");
      this.fail(
        "ctx-modified",
        `variable ctx access var_off=${tnumText(reg.s)} disallowed`,
        expl,
        [regno],
      );
    }
  }

  /** `check_mem_region_access()`. */
  regionCheck(
    regno: number,
    reg: Reg,
    off: number,
    size: number,
    memSize: number,
    what: string,
    msg: string,
  ): void {
    const v = reg.s;
    if (!v.exact) this.giveUp(`imprecise ${what} offset`);
    const O = BigInt(off);
    if (
      v.smin < 0n &&
      (v.smin === -(1n << 63n) || BigInt.asIntN(32, O + v.smin) !== O + v.smin || v.smin + O < 0n)
    ) {
      this.fail(
        "map-bounds",
        `R${regno} min value is negative, either use unsigned index or do a if (index >=0) check.`,
        `The offset into the ${what} may be negative.`,
        [regno],
      );
    }
    const lo = O + v.smin;
    if (lo < 0n || lo + BigInt(size) > BigInt(memSize)) {
      this.fail(
        "map-bounds",
        isConst(v)
          ? msg.replace("%OFF%", String(lo))
          : `R${regno} min value is outside of the allowed memory range`,
        `The access of ${size} bytes at offset ${lo} is outside the ${memSize}-byte ${what}.`,
        [regno],
      );
    }
    if (v.umax >= MAX_VAR_OFF) {
      this.fail(
        "map-bounds",
        `R${regno} unbounded memory access, make sure to bounds check any such access`,
        `Nothing bounds the offset added to r${regno}: compare it with a constant before the access.`,
        [regno],
      );
    }
    const hi = O + v.umax;
    if (hi + BigInt(size) > BigInt(memSize)) {
      this.fail(
        "map-bounds",
        isConst(v)
          ? msg.replace("%OFF%", String(hi))
          : `R${regno} max value is outside of the allowed memory range`,
        `The access of ${size} bytes may reach offset ${hi}, past the ${memSize}-byte ${what}.`,
        [regno],
      );
    }
  }

  stackAccess(
    regno: number,
    reg: Reg,
    insnOff: number,
    size: number,
    write: boolean,
    value: Reg | undefined,
    isImm: boolean,
    immValue: number,
  ): Reg | undefined {
    if (!isConst(reg.s) || reg.s.v !== 0n) {
      this.varStackBounds(regno, reg, reg.off + insnOff, size, write ? " write to" : " read from");
      this.giveUp("variable-offset stack access");
    }
    const off = reg.off + insnOff;
    if (off % size !== 0) {
      this.fail(
        "stack-misaligned",
        `misaligned stack access off 0+${reg.off}+${insnOff} size ${size}`,
        "Stack accesses must be aligned to their size.",
        [regno],
      );
    }
    if (off < -512 || off + size > 0) {
      this.fail(
        "stack-bounds",
        `invalid ${write ? "write to" : "read from"} stack R${regno} off=${off} size=${size}`,
        "The access falls outside the 512-byte stack frame (r10-512 .. r10-1).",
        [regno],
      );
    }
    const f = this.st.frames[reg.frame];
    const base = 512 + off;
    const slot = base >> 3;
    this.noteDepth(f, -off);
    if (write) {
      this.dynptrOverwrite(f, base, size, false);
      ownBytes(f);
      if (base < f.low) f.low = base;
      // Scrub spills the write touches.
      for (let sl = base >> 3; sl <= (base + size - 1) >> 3; sl++) {
        if (f.spills[sl] !== undefined) {
          f.spills[sl] = undefined;
          for (let j = sl * 8; j < sl * 8 + 8; j++) if (f.bytes[j] === B.Spill) f.bytes[j] = B.Misc;
        }
      }
      if (size === 8 && value !== undefined) {
        f.bytes.fill(B.Spill, base, base + 8);
        f.spills[slot] = cloneReg(value);
        return undefined;
      }
      if (size === 8 && isImm && immValue !== 0 && this.bpfCapable) {
        f.bytes.fill(B.Spill, base, base + 8);
        f.spills[slot] = this.scalarReg(constScalar(BigInt(immValue)));
        return undefined;
      }
      const zero = isImm
        ? immValue === 0
        : value !== undefined && value.k === K.Scalar && isConst(value.s) && value.s.v === 0n;
      if (value !== undefined && value.k !== K.Scalar) {
        if (!this.allowPtrLeaks) this.giveUp("partial pointer spill (unprivileged)");
      }
      f.bytes.fill(zero ? B.Zero : B.Misc, base, base + size);
      return undefined;
    }
    // Read.
    const spill = f.spills[slot];
    if (spill !== undefined && spill.k === K.Dynptr) this.giveUp("read of a dynptr slot");
    if (spill !== undefined && size === 8 && off % 8 === 0) return cloneReg(spill);
    let zeros = 0;
    for (let i = 0; i < size; i++) {
      const b = f.bytes[base + i];
      if (b === B.Spill) {
        const sp = f.spills[(base + i) >> 3];
        if (sp !== undefined && sp.k !== K.Scalar && sp.k !== K.Unknown && sp.k !== K.NotInit) {
          this.fail(
            "stack-fill",
            "invalid size of register fill",
            `A spilled ${
              this.typeName(sp)
            } pointer is read back with ${size} bytes: pointers are filled whole (8 bytes).`,
            [regno],
          );
        }
        if (sp === undefined || sp.k !== K.Scalar) this.giveUp("partial read of a spilled pointer");
        return this.scalarReg(inexact(size * 8));
      }
      if (b === B.Invalid && !this.allowUninitStack) {
        this.fail(
          "uninit-stack",
          `invalid read from stack off ${off}+${i} size ${size}`,
          `Stack byte r10${
            off + i
          } is read before anything was written to it (allowed only with CAP_PERFMON).`,
          [regno],
        );
      }
      if (b === B.Zero) zeros++;
    }
    if (zeros === size) return this.scalarReg(constScalar(0n));
    return this.scalarReg(inexact(size * 8));
  }

  load(insn: Insn, size: number, signExtend: boolean): void {
    const src = this.use(insn.src);
    const r = this.access(insn.src, src, insn.off, size, false, undefined, false, 0)!;
    if (signExtend && r.k === K.Scalar) {
      r.s = isConst(r.s) ? constScalar(BigInt.asIntN(size * 8, r.s.v)) : inexact();
    }
    this.setReg(insn.dst, r);
  }

  store(insn: Insn, size: number, srcReg: number | undefined, isImm: boolean): void {
    const dst = this.use(insn.dst);
    let value: Reg | undefined;
    if (srcReg !== undefined) {
      value = this.read(srcReg);
    }
    if (value !== undefined && value.k === K.Unknown && dst.k !== K.Stack) {
      this.giveUp("store of an unmodelled value");
    }
    this.access(insn.dst, dst, insn.off, size, true, value, isImm, insn.imm);
  }

  atomic(insn: Insn, size: number, op: number, fetch: boolean): void {
    const src = this.read(insn.src);
    if (op === 0xf0) this.read(0);
    const dst = this.use(insn.dst);
    if (
      dst.k === K.Ctx || dst.k === K.Pkt || dst.k === K.PktMeta || dst.k === K.Sock ||
      dst.k === K.SockCommon || dst.k === K.TcpSock
    ) {
      this.fail(
        "atomic-target",
        `BPF_ATOMIC stores into R${insn.dst} ${this.typeName(dst)} is not allowed`,
        "Atomic operations work only on the stack, map values and similar memory.",
        [insn.dst],
      );
    }
    if (src.k !== K.Scalar) {
      if (src.k === K.Unknown) this.giveUp("atomic with an unmodelled value");
      if (!this.allowPtrLeaks) {
        this.fail(
          "ptr-leak",
          `R${insn.src} leaks addr into mem`,
          "Without CAP_PERFMON a pointer cannot be stored.",
        );
      }
      this.giveUp("atomic with a pointer operand");
    }
    if (dst.k !== K.Stack && dst.k !== K.MapValue && dst.k !== K.Mem) {
      this.giveUp("atomic target not modelled");
    }
    this.access(insn.dst, dst, insn.off, size, false, undefined, false, 0);
    this.access(insn.dst, dst, insn.off, size, true, this.scalarReg(inexact()), false, 0);
    if (op === 0xf0) this.setReg(0, this.scalarReg(inexact(size * 8)));
    else if (fetch) this.setReg(insn.src, this.scalarReg(inexact(size * 8)));
  }

  ldImm64(insn: Insn, next: Insn): void {
    const d = insn.dst;
    switch (insn.src) {
      case 0: {
        const v = (BigInt(next.imm >>> 0) << 32n) | BigInt(insn.imm >>> 0);
        this.setReg(d, this.scalarReg(constScalar(v)));
        return;
      }
      case 1:
      case 2: {
        const map = this.map(insn.imm);
        if (insn.src === 1) {
          const r = mkReg(K.MapPtr);
          r.map = map;
          this.setReg(d, r);
          return;
        }
        if (map.type !== 2) this.giveUp("direct value access to a non-array map");
        if (map.maxEntries !== 1) {
          this.fail(
            "map-value-off",
            `invalid access to map value pointer, value_size=${map.valueSize} off=${
              next.imm >>> 0
            }`,
            "Only an array map of one element has a direct value address.",
          );
        }
        if ((next.imm >>> 0) >= map.valueSize) {
          this.fail(
            "map-value-off",
            `invalid access to map value pointer, value_size=${map.valueSize} off=${
              next.imm >>> 0
            }`,
            "The ld_imm64 map value offset is past the value's end.",
          );
        }
        const r = mkReg(K.MapValue);
        r.map = map;
        r.off = next.imm >>> 0;
        this.setReg(d, r);
        return;
      }
      case 4: {
        const r = mkReg(K.Func);
        r.off = this.pc + 1 + insn.imm;
        this.setReg(d, r);
        return;
      }
      default:
        this.setReg(d, mkReg(K.Unknown));
    }
  }

  map(fd: number): ResolvedMap {
    const m = this.maps.get(fd);
    if (m === undefined || m === null) {
      if (
        !this.warnings.some((w) => w.code === "map-undescribed" && w.message.includes(`fd ${fd} `))
      ) {
        this.warnings.push({
          index: this.pc,
          code: "map-undescribed",
          message: `map fd ${fd} is not described${
            m === null ? " correctly" : ""
          }: code using it was not checked`,
          severity: "warning",
          explanation:
            `Give checkProgram a "maps" entry for fd ${fd} ({ type, keySize, valueSize, maxEntries }) to check the code that uses this map.`,
          registers: {},
        });
      }
      this.giveUp(`map fd ${fd} not described`);
    }
    return m;
  }

  ldAbs(insn: Insn, ind: boolean): void {
    const r6 = this.read(6);
    if (ind) this.use(insn.src);
    if (r6.k !== K.Ctx) {
      if (r6.k === K.Unknown) this.giveUp("r6 not modelled");
      this.fail(
        "ld-abs-ctx",
        "at the time of BPF_LD_ABS|IND R6 != pointer to skb",
        "Legacy packet loads need the context pointer in r6.",
        [6],
      );
    }
    if (this.st.lock !== 0) {
      this.fail(
        "lock-held",
        "BPF_LD_[ABS|IND] cannot be used inside bpf_spin_lock-ed region",
        "Legacy packet loads may not run while a bpf_spin_lock is held.",
      );
    }
    if (this.st.refs.length > 0) this.giveUp("legacy packet load with references held");
    const f = this.frame();
    for (let i = 1; i <= 5; i++) f.regs[i] = mkReg(K.NotInit);
    // The kernel may narrow the loaded value to the load's width: not relied on.
    f.regs[0] = this.scalarReg(inexact());
  }

  // ---------------------------------------------------------------- jumps

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

  // ---------------------------------------------------------------- calls

  proto(id: number): FuncProto | undefined {
    let p = this.protoCache.get(id);
    if (p === undefined) {
      p = this.def.ops.getFuncProto(id, this.lc) ?? null;
      this.protoCache.set(id, p);
    }
    return p ?? undefined;
  }

  helperCall(id: number): number {
    if (this.st.lock !== 0 && id !== 94) {
      this.fail(
        "call-in-lock",
        "function calls are not allowed while holding a lock",
        "Between bpf_spin_lock() and bpf_spin_unlock() the program may not call helpers or functions.",
      );
    }
    const p = this.proto(id);
    if (p === undefined) this.giveUp(`helper ${id} not offered to this type`);
    if (id === 93 || id === 94) return this.spinLockCall(id);
    if (id === 181 || id === 164) return this.callbackCall(id);
    const f = this.frame();
    const name = `${p.name}#${id}`;
    let map: ResolvedMap | undefined;
    let memReg = -1;
    let allocSize = -1;
    let releaseRef = 0;
    let constKey: bigint | undefined;
    let dynRelease: { frame: Frame; slot: number } | undefined;
    for (let i = 0; i < p.args.length; i++) {
      const arg = p.args[i];
      const flags = p.argFlags[i];
      const regno = i + 1;
      if (arg === "ARG_DONTCARE") continue;
      const reg = this.read(regno);
      if (reg.k === K.Unknown) this.giveUp(`argument r${regno} not modelled`);
      const maybeNull = flags.includes("PTR_MAYBE_NULL") || arg.endsWith("_OR_NULL");
      const isNull = reg.k === K.Scalar && isConst(reg.s) && reg.s.v === 0n;
      const typeErr = (expected: string): never =>
        this.fail(
          "helper-arg",
          `R${regno} type=${this.typeName(reg)} expected=${expected}`,
          `Argument ${regno} of ${p.name} must be ${expected}, not ${this.typeName(reg)}.`,
          [regno],
        );
      switch (arg) {
        case "ARG_ANYTHING":
        case "ARG_SCALAR":
          if (reg.k !== K.Scalar && !this.allowPtrLeaks) {
            this.fail(
              "ptr-leak",
              `R${regno} leaks addr into helper function`,
              "Without CAP_PERFMON a pointer cannot be given where a helper expects a number.",
              [regno],
            );
          }
          break;
        case "ARG_CONST_MAP_PTR":
          if (reg.k !== K.MapPtr) typeErr("map_ptr");
          map = reg.map!;
          this.mapCompat(map, id, name);
          break;
        case "ARG_PTR_TO_MAP_KEY":
        case "ARG_PTR_TO_MAP_VALUE":
        case "ARG_PTR_TO_MAP_VALUE_OR_NULL": {
          if (map === undefined) this.giveUp("map argument before its map");
          if (arg === "ARG_PTR_TO_MAP_VALUE_OR_NULL" && isNull) break;
          if (
            !(reg.k === K.Stack || reg.k === K.Pkt || reg.k === K.PktMeta ||
              reg.k === K.MapValue) || reg.nullable
          ) {
            typeErr("fp, pkt, pkt_meta, map_key, map_value");
          }
          const size = arg === "ARG_PTR_TO_MAP_KEY" ? map.keySize : map.valueSize;
          if (size === 0) this.giveUp("map key/value without size");
          this.memArg(regno, reg, size, false);
          if (arg === "ARG_PTR_TO_MAP_KEY") constKey = this.constStackKey(reg, size);
          break;
        }
        case "ARG_PTR_TO_MEM":
        case "ARG_PTR_TO_MEM_OR_NULL":
        case "ARG_PTR_TO_UNINIT_MEM": {
          if (id === 197 && i === 0 && reg.k !== K.MapValue) {
            // bpf_dynptr_from_mem() takes map values only.
            if (reg.k === K.Stack || reg.k === K.Pkt || reg.k === K.Ctx) {
              this.fail(
                "dynptr",
                `Unsupported reg type ${this.typeName(reg)} for bpf_dynptr_from_mem data`,
                "bpf_dynptr_from_mem() makes a dynptr over a map value only.",
                [regno],
              );
            }
            this.giveUp("dynptr data of an unmodelled kind");
          }
          const next = p.args[i + 1];
          if (
            flags.includes("MEM_FIXED_SIZE") ||
            (next !== "ARG_CONST_SIZE" && next !== "ARG_CONST_SIZE_OR_ZERO")
          ) {
            this.giveUp("memory argument without a size argument");
          }
          if (isNull && maybeNull) break;
          if (
            !(reg.k === K.Stack || reg.k === K.Pkt || reg.k === K.PktMeta || reg.k === K.MapValue ||
              reg.k === K.Mem) || reg.nullable
          ) {
            if (reg.k === K.Scalar || reg.nullable) {
              typeErr("fp, pkt, pkt_meta, map_key, map_value, mem, ringbuf_mem, buf, trusted_ptr_");
            }
            this.giveUp("memory argument of an unmodelled kind");
          }
          memReg = regno;
          break;
        }
        case "ARG_CONST_SIZE":
        case "ARG_CONST_SIZE_OR_ZERO": {
          if (memReg !== regno - 1) this.giveUp("size argument without its memory argument");
          if (reg.k !== K.Scalar) typeErr("scalar");
          const mreg = f.regs[memReg];
          if (mreg.k === K.Scalar) break; // NULL with size: the kernel checks size 0 only
          const v = reg.s;
          if (!v.exact) this.giveUp("imprecise size argument");
          if (v.smin < 0n) {
            this.fail(
              "helper-size",
              `R${regno} min value is negative, either use unsigned or 'var &= const'`,
              "The size given to the helper may be negative.",
              [regno],
            );
          }
          if (v.umax === 0n && arg === "ARG_CONST_SIZE") {
            this.fail(
              "helper-size",
              `R${regno} invalid zero-sized read: u64=[${v.umin},${v.umax}]`,
              "The size given to the helper is 0, which it does not accept.",
              [regno],
            );
          }
          if (v.umax >= MAX_VAR_OFF) {
            this.fail(
              "helper-size",
              `R${regno} unbounded memory access, use 'var &= const' or 'if (var < const)'`,
              "Nothing bounds the size given to the helper: compare it with a constant first.",
              [regno],
            );
          }
          const write = p.args[i - 1] === "ARG_PTR_TO_UNINIT_MEM" ||
            p.argFlags[i - 1].includes("MEM_UNINIT");
          if (v.umax > 0n) this.memArg(memReg, mreg, Number(v.umax), write);
          break;
        }
        case "ARG_CONST_ALLOC_SIZE_OR_ZERO":
          if (reg.k !== K.Scalar) typeErr("scalar");
          if (!reg.s.exact) this.giveUp("imprecise allocation size");
          if (!isConst(reg.s)) {
            this.fail(
              "helper-size",
              `R${regno} is not a known constant'`,
              "The size of a ring buffer reservation must be a constant.",
              [regno],
            );
          }
          allocSize = Number(reg.s.v);
          break;
        case "ARG_PTR_TO_CTX":
        case "ARG_PTR_TO_CTX_OR_NULL":
          if (isNull && maybeNull) break;
          if (reg.k !== K.Ctx) typeErr("ctx");
          this.ctxOffset(regno, reg);
          break;
        case "ARG_PTR_TO_DYNPTR": {
          const d = this.dynptrArg(regno, reg, flags, id);
          if (d !== undefined) dynRelease = d;
          break;
        }
        case "ARG_PTR_TO_RINGBUF_MEM":
          if (reg.k !== K.Mem || !reg.ringbuf || reg.nullable) {
            if (reg.k === K.Scalar || reg.nullable) typeErr("ringbuf_mem");
            this.giveUp("ringbuf argument of an unmodelled kind");
          }
          if (!isConst(reg.s) || reg.s.v !== 0n) this.giveUp("modified ringbuf pointer");
          if (reg.off !== 0) {
            this.fail(
              "release-offset",
              `R${regno} must have zero offset when passed to release func or trusted arg to kfunc`,
              "Give the helper the pointer that bpf_ringbuf_reserve() returned, unmodified.",
              [regno],
            );
          }
          releaseRef = reg.ref;
          break;
        case "ARG_PTR_TO_BTF_ID_SOCK_COMMON":
        case "ARG_PTR_TO_SOCK_COMMON":
        case "ARG_PTR_TO_SOCKET":
          if (
            !(reg.k === K.Sock || reg.k === K.SockCommon || reg.k === K.TcpSock) || reg.nullable
          ) {
            if (reg.k === K.Scalar || reg.nullable) {
              typeErr("sock_common, sock, tcp_sock, xdp_sock, ptr_, trusted_ptr_");
            }
            this.giveUp("socket argument of an unmodelled kind");
          }
          if (flags.includes("OBJ_RELEASE")) {
            if (reg.ref === 0) this.giveUp("release of an unreferenced socket");
            releaseRef = reg.ref;
          }
          break;
        default:
          this.giveUp(`helper argument kind ${arg} not modelled`);
      }
    }
    if (id === 12 && this.st.refs.length > 0) {
      const r = this.st.refs[0];
      this.fail(
        "unreleased-ref",
        `Unreleased reference id=${r.id} alloc_insn=${r.insn}`,
        "A tail call leaves the program: every acquired reference must be released before it.",
      );
    }
    if (dynRelease !== undefined) {
      // unmark_stack_slots_dynptr(): the dynptr's slots become invalid.
      const { frame, slot } = dynRelease;
      ownBytes(frame);
      frame.spills[slot] = undefined;
      frame.spills[slot + 1] = undefined;
      frame.bytes.fill(B.Invalid, slot * 8, slot * 8 + 16);
    }
    if (releaseRef !== 0) {
      const ref = releaseRef;
      if (!this.st.refs.some((r) => r.id === ref)) this.giveUp("release of an unknown reference");
      this.st.refs = this.st.refs.filter((r) => r.id !== ref);
      // mark_reg_invalid(): an unknown scalar for root, uninitialised otherwise.
      for (const r of this.allRegs()) {
        if (r.ref === ref) {
          Object.assign(r, this.allowPtrLeaks ? this.scalarReg(unknownScalar()) : mkReg(K.NotInit));
        }
      }
    }
    // Return value.
    let r0: Reg;
    switch (p.ret) {
      case "RET_INTEGER":
        r0 = this.scalarReg(PLAIN_INT_HELPERS.has(id) ? unknownScalar() : inexact());
        break;
      case "RET_VOID":
        r0 = mkReg(K.NotInit);
        break;
      case "RET_PTR_TO_MAP_VALUE_OR_NULL":
      case "RET_PTR_TO_MAP_VALUE": {
        if (map === undefined || !VALUE_MAPS.has(map.type) || id !== 1) {
          r0 = mkReg(K.Unknown);
          break;
        }
        r0 = mkReg(K.MapValue);
        r0.map = map;
        r0.nullable = true;
        r0.id = ++this.idGen;
        if (map.type === 2 || map.type === 6) {
          // Kernels since 6.13 know an array lookup with a constant in-range key is not NULL;
          // older ones do not, and then it is NULL-checked anyway: taking it as non-NULL never
          // refuses what either accepts. Any other key: NULL on every kernel, unless the kernel
          // may know the key from a spill this checker does not track.
          if (constKey === undefined) r0.nullUnsure = true;
          else if (constKey < BigInt(map.maxEntries)) r0.nullable = false;
        }
        break;
      }
      case "RET_PTR_TO_MEM":
      case "RET_PTR_TO_RINGBUF_MEM_OR_NULL": {
        if (id !== 131 || allocSize < 0) {
          r0 = mkReg(K.Unknown);
          break;
        }
        r0 = mkReg(K.Mem);
        r0.ringbuf = true;
        r0.memSize = allocSize;
        r0.nullable = true;
        r0.id = ++this.idGen;
        r0.ref = r0.id;
        this.st.refs.push({ id: r0.ref, insn: this.pc });
        break;
      }
      case "RET_PTR_TO_SOCKET_OR_NULL":
      case "RET_PTR_TO_SOCK_COMMON_OR_NULL": {
        if (id !== 84 && id !== 85 && id !== 99) {
          r0 = mkReg(K.Unknown);
          break;
        }
        r0 = mkReg(p.ret === "RET_PTR_TO_SOCKET_OR_NULL" ? K.Sock : K.SockCommon);
        r0.nullable = true;
        r0.id = ++this.idGen;
        r0.ref = r0.id;
        this.st.refs.push({ id: r0.ref, insn: this.pc });
        break;
      }
      default:
        r0 = mkReg(K.Unknown);
    }
    for (let i = 1; i <= 5; i++) f.regs[i] = mkReg(K.NotInit);
    f.regs[0] = r0;
    if (!KEEPS_PKT.has(id)) {
      // clear_all_pkt_pointers() after a helper that may move the data (mark_reg_invalid()).
      const known = CHANGES_PKT.has(id);
      for (const r of this.allRegs()) {
        if (r.k === K.Pkt || r.k === K.PktMeta || r.k === K.PktEnd) {
          Object.assign(
            r,
            !known
              ? mkReg(K.Unknown)
              : this.allowPtrLeaks
              ? this.scalarReg(unknownScalar())
              : mkReg(K.NotInit),
          );
        }
      }
    }
    void HELPER_NAMES;
    return this.pc + 1;
  }

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

  /** The kernel's text of a scalar's range in return-value messages. */
  rangeText(s: Scalar): string {
    if (s.smin === S64_MIN_ && s.smax === S64_MAX_) return "unknown scalar value";
    return `smin=${s.smin} smax=${s.smax}`;
  }

  /**
   * A `struct bpf_dynptr *` argument (`process_dynptr_func()`): an uninitialised one is created in
   * its two stack slots (a ring buffer one holds a reference from now on, even if the reservation
   * fails); an initialised one must be there. Returns the dynptr to release, for OBJ_RELEASE.
   */
  dynptrArg(
    regno: number,
    reg: Reg,
    flags: readonly string[],
    helper: number,
  ): { frame: Frame; slot: number } | undefined {
    if (!this.bpfCapable) this.giveUp("dynptr without CAP_BPF");
    if (reg.k !== K.Stack) {
      if (reg.k === K.Scalar && reg.s.exact) {
        this.fail(
          "dynptr",
          `R${regno} type=scalar expected=fp, dynptr_ptr`,
          "A dynptr argument must point to the stack.",
          [regno],
        );
      }
      this.giveUp("dynptr argument not on the stack");
    }
    if (!isConst(reg.s) || reg.s.v !== 0n) this.giveUp("variable-offset dynptr");
    const off = reg.off;
    const uninit = flags.includes("MEM_UNINIT");
    if (off % 8 !== 0) {
      this.fail(
        "dynptr",
        `cannot pass in dynptr at an offset=${off}`,
        "A struct bpf_dynptr on the stack must be 8-byte aligned.",
        [regno],
      );
    }
    if (off < -512 || off + 16 > 0) this.giveUp("dynptr outside the frame");
    const f = this.st.frames[reg.frame];
    const base = 512 + off;
    const slot = base >> 3;
    const first = f.spills[slot], second = f.spills[slot + 1];
    const isDyn = (r: Reg | undefined) => r !== undefined && r.k === K.Dynptr;
    if (uninit) {
      if (isDyn(first) || isDyn(second)) {
        const r = isDyn(first) ? first! : second!;
        if (r.ref !== 0) {
          this.fail(
            "dynptr",
            "cannot overwrite referenced dynptr",
            "A ring buffer dynptr still holds its record: submit or discard it before reusing its slots.",
            [regno],
          );
        }
        this.giveUp("dynptr created over another");
      }
      for (let i = base; i < base + 16; i++) {
        if (f.bytes[i] === B.Spill && f.spills[i >> 3]?.k !== K.Scalar) {
          this.giveUp("dynptr created over a spilled pointer");
        }
      }
      const ringbuf = flags.includes("DYNPTR_TYPE_RINGBUF");
      if (!ringbuf && !flags.includes("DYNPTR_TYPE_LOCAL")) this.giveUp("dynptr type not modelled");
      const d = mkReg(K.Dynptr);
      d.ringbuf = ringbuf;
      if (ringbuf) {
        d.ref = ++this.idGen;
        this.st.refs.push({ id: d.ref, insn: this.pc });
      }
      d.id = ++this.idGen;
      const d2 = cloneReg(d);
      d2.off = 1;
      ownBytes(f);
      if (base < f.low) f.low = base;
      this.noteDepth(f, -off);
      f.bytes.fill(B.Dynptr, base, base + 16);
      f.spills[slot] = d;
      f.spills[slot + 1] = d2;
      return undefined;
    }
    if (!isDyn(first) || first!.off !== 0 || !isDyn(second) || second!.id !== first!.id) {
      this.fail(
        "dynptr",
        `Expected an initialized dynptr as arg #${regno - 1}`,
        `r${regno} must point to a struct bpf_dynptr initialised earlier on this path.`,
        [regno],
      );
    }
    if (flags.includes("DYNPTR_TYPE_RINGBUF") && !first!.ringbuf) {
      this.fail(
        "dynptr",
        `Expected a dynptr of type ringbuf as arg #${regno - 1}`,
        "This helper takes a ring buffer dynptr.",
        [regno],
      );
    }
    void helper;
    if (flags.includes("OBJ_RELEASE")) {
      if (first!.ref === 0) this.giveUp("release of an unreferenced dynptr");
      if (!this.st.refs.some((r) => r.id === first!.ref)) this.giveUp("unknown dynptr reference");
      this.st.refs = this.st.refs.filter((r) => r.id !== first!.ref);
      return { frame: f, slot };
    }
    return undefined;
  }

  /**
   * A write over a dynptr's slots: a helper may not (`potential write to dynptr`); a store
   * destroys an unreferenced dynptr (`destroy_if_dynptr_stack_slot()`) and may not touch a
   * referenced one.
   */
  dynptrOverwrite(f: Frame, base: number, size: number, helper: boolean): void {
    for (let i = base; i < base + size; i++) {
      if (f.bytes[i] !== B.Dynptr) continue;
      const d = f.spills[i >> 3];
      if (d === undefined || d.k !== K.Dynptr) this.giveUp("dynptr slot without its dynptr");
      if (helper) {
        this.fail(
          "dynptr",
          `potential write to dynptr at off=${(i & ~7) - 512} disallowed`,
          "The helper would write over a struct bpf_dynptr on the stack.",
        );
      }
      if (d.ref !== 0) {
        this.fail(
          "dynptr",
          "cannot overwrite referenced dynptr",
          "A ring buffer dynptr still holds its record: submit or discard it before writing over it.",
        );
      }
      const first = (i >> 3) - d.off;
      ownBytes(f);
      f.spills[first] = undefined;
      f.spills[first + 1] = undefined;
      f.bytes.fill(B.Invalid, first * 8, first * 8 + 16);
    }
  }

  /** `get_constant_map_key()`: a key on the stack this checker knows as a constant. */
  constStackKey(reg: Reg, size: number): bigint | undefined {
    if (reg.k !== K.Stack || !isConst(reg.s) || reg.s.v !== 0n) return undefined;
    const f = this.st.frames[reg.frame];
    const base = 512 + reg.off;
    let zero = true;
    for (let i = 0; i < size; i++) if (f.bytes[base + i] !== B.Zero) zero = false;
    if (zero) return 0n;
    const sp = f.spills[base >> 3];
    if (size === 8 && base % 8 === 0 && sp !== undefined && sp.k === K.Scalar && sp.s.exact) {
      // A full spill of a known constant; of a non-constant, the key is unknown to both.
      return isConst(sp.s) ? sp.s.v : BigInt(Number.MAX_SAFE_INTEGER);
    }
    return undefined;
  }

  /** `check_map_func_compatibility()`, the common rules. */
  mapCompat(map: ResolvedMap, id: number, name: string): void {
    const bad = (): never =>
      this.fail(
        "map-func",
        `cannot pass map_type ${map.type} into func ${name}`,
        `${name.replace(/#.*/, "")} cannot be used with a map of type ${map.type}.`,
      );
    const RINGBUF = 27, PROG_ARRAY = 3, PERF = 4;
    const ringbufFns = [130, 131, 134, 198];
    if (map.type === PROG_ARRAY && id !== 12) bad();
    if (map.type === RINGBUF && ![...ringbufFns, 194].includes(id)) bad();
    if (map.type === PERF && ![22, 25, 41, 55, 121].includes(id)) bad();
    if (id === 12 && map.type !== PROG_ARRAY) bad();
    if (ringbufFns.includes(id) && map.type !== RINGBUF) bad();
    if (id === 25 && map.type !== PERF) bad();
  }

  /** `check_helper_mem_access()` for a pointer argument of `size` bytes. */
  memArg(regno: number, reg: Reg, size: number, write: boolean): void {
    switch (reg.k) {
      case K.Stack: {
        if (!isConst(reg.s) || reg.s.v !== 0n) {
          this.varStackBounds(regno, reg, reg.off, size, write ? " write to" : " read from");
          this.giveUp("variable-offset stack argument");
        }
        const off = reg.off;
        if (off < -512 || off + size > 0) {
          this.fail(
            "stack-bounds",
            `invalid ${write ? "write to" : "read from"} stack R${regno} off=${off} size=${size}`,
            "The memory given to the helper is not all inside the 512-byte stack frame.",
            [regno],
          );
        }
        const f = this.st.frames[reg.frame];
        const base = 512 + off;
        this.noteDepth(f, -off);
        if (write) {
          this.dynptrOverwrite(f, base, size, true);
          ownBytes(f);
          if (base < f.low) f.low = base;
          for (let i = 0; i < size; i++) {
            const sl = (base + i) >> 3;
            if (f.spills[sl] !== undefined) {
              if (f.spills[sl]!.k !== K.Scalar && !this.allowPtrLeaks) {
                this.giveUp("helper writes over a spilled pointer");
              }
              f.spills[sl] = undefined;
              for (let j = sl * 8; j < sl * 8 + 8; j++) {
                if (f.bytes[j] === B.Spill) f.bytes[j] = B.Misc;
              }
            }
            f.bytes[base + i] = B.Misc;
          }
          return;
        }
        for (let i = 0; i < size; i++) {
          const b = f.bytes[base + i];
          if (b === B.Invalid && !this.allowUninitStack) {
            this.fail(
              "uninit-stack",
              `invalid read from stack R${regno} off ${off}+${i} size ${size}`,
              `The helper reads stack byte r10${
                off + i
              }, which was never written (allowed only with CAP_PERFMON).`,
              [regno],
            );
          }
          if (b === B.Dynptr) this.giveUp("helper reads a dynptr slot");
          if (b === B.Spill) {
            const sp = f.spills[(base + i) >> 3];
            if (sp !== undefined && sp.k !== K.Scalar && !this.allowPtrLeaks) {
              this.giveUp("helper reads a spilled pointer");
            }
          }
        }
        return;
      }
      case K.Pkt:
      case K.PktMeta:
        this.access(regno, reg, 0, size, false, undefined, false, 0);
        return;
      case K.MapValue: {
        const map = reg.map!;
        if (write && (map.flags & F_RDONLY_PROG)) this.giveUp("helper writes into a read-only map");
        this.regionCheck(
          regno,
          reg,
          reg.off,
          size,
          map.valueSize,
          "map value",
          `invalid access to map value, value_size=${map.valueSize} off=%OFF% size=${size}`,
        );
        this.lockOverlap(reg, reg.off, size, false);
        return;
      }
      case K.Mem:
        this.regionCheck(
          regno,
          reg,
          reg.off,
          size,
          reg.memSize,
          "memory",
          `invalid access to memory, mem_size=${reg.memSize} off=%OFF% size=${size}`,
        );
        return;
      default:
        this.giveUp("helper memory of an unmodelled kind");
    }
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
