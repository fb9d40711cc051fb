/**
 * The abstract program state of the deep checker: registers, stack slots, frames and acquired
 * references, following the kernel's `bpf_verifier_state`.
 *
 * @module
 */
import { cloneScalar, constScalar, type Scalar, scalarText } from "./scalar.ts";
import type { ResolvedMap } from "./maps.ts";

/** Register kinds (`enum bpf_reg_type`, the part modelled; `Unknown` = not modelled). */
export const enum K {
  NotInit = 0,
  Scalar = 1,
  Ctx = 2,
  Stack = 3,
  MapValue = 4,
  MapPtr = 5,
  Pkt = 6,
  PktMeta = 7,
  PktEnd = 8,
  Sock = 9,
  SockCommon = 10,
  TcpSock = 11,
  Mem = 12,
  /** Something this checker does not model: any use of it ends the path without a finding. */
  Unknown = 13,
  /** A subprogram address (`ld_imm64` of `BPF_PSEUDO_FUNC`); `off` holds its first instruction. */
  Func = 14,
  /**
   * A `struct bpf_dynptr` on the stack (two slots): kept in `spills` of both, `off` 0 in the
   * first (lower) slot and 1 in the second; `ringbuf` for a ring buffer one, `ref` its reference.
   */
  Dynptr = 15,
}

/** The kernel's names for register kinds (`reg_type_str()`). */
export const KIND_NAMES: readonly string[] = [
  "?",
  "scalar",
  "ctx",
  "fp",
  "map_value",
  "map_ptr",
  "pkt",
  "pkt_meta",
  "pkt_end",
  "sock",
  "sock_common",
  "tcp_sock",
  "mem",
  "unknown",
  "func",
  "dynptr",
];

/** One register. */
export interface Reg {
  k: K;
  /** Scalar value, or the variable part of a pointer's offset. */
  s: Scalar;
  /** Fixed offset of a pointer. */
  off: number;
  /** `PTR_MAYBE_NULL`. */
  nullable: boolean;
  /** Id shared by copies (null checks, packet ranges, linked scalars); 0 none. */
  id: number;
  /** Acquired reference this pointer carries; 0 none. */
  ref: number;
  /** Map of a map pointer or map value. */
  map?: ResolvedMap | undefined;
  /** Proven packet range; `-1` / `-2`: beyond / at `pkt_end` (kernel markers). */
  range: number;
  /** Frame a stack pointer points into. */
  frame: number;
  /** Size of a `mem` region (ringbuf record). */
  memSize: number;
  /** `mem` comes from the ring buffer. */
  ringbuf: boolean;
  /**
   * An array-map lookup result: newer kernels know it is not NULL when the key is a constant in
   * range, older ones do not; its nullness is not relied on either way.
   */
  nullUnsure: boolean;
}

const ZERO: Scalar = Object.freeze(constScalar(0n)) as Scalar;

/**
 * A fresh register of kind `k`.
 *
 * @example
 * ```ts
 * import { K, mkReg } from "./state.ts";
 * mkReg(K.Ctx).k === K.Ctx; // true
 * ```
 */
export function mkReg(k: K, s: Scalar = ZERO): Reg {
  if (k === K.NotInit && s === ZERO) return NOT_INIT;
  // The scalar is taken over, not copied (callers pass fresh ones); the shared zero of non-scalar
  // registers is never changed in place (only scalars are).
  return {
    k,
    s,
    off: 0,
    nullable: false,
    id: 0,
    ref: 0,
    range: 0,
    frame: 0,
    memSize: 0,
    ringbuf: false,
    nullUnsure: false,
    map: undefined,
  };
}

/** The one uninitialised register, shared (and frozen: registers are replaced, never edited). */
const NOT_INIT: Reg = Object.freeze({
  k: K.NotInit,
  s: ZERO,
  off: 0,
  nullable: false,
  id: 0,
  ref: 0,
  range: 0,
  frame: 0,
  memSize: 0,
  ringbuf: false,
  nullUnsure: false,
  map: undefined,
}) as Reg;

/** A copy of a register. */
export function cloneReg(r: Reg): Reg {
  // Field by field (not a spread): the same object shape as mkReg(), and much faster.
  const o: Reg = {
    k: r.k,
    s: cloneScalar(r.s),
    off: r.off,
    nullable: r.nullable,
    id: r.id,
    ref: r.ref,
    range: r.range,
    frame: r.frame,
    memSize: r.memSize,
    ringbuf: r.ringbuf,
    nullUnsure: r.nullUnsure,
  };
  o.map = r.map;
  return o;
}

/** Stack byte kinds (`enum bpf_stack_slot_type`). */
export const enum B {
  Invalid = 0,
  Misc = 1,
  Zero = 2,
  Spill = 3,
  /** Part of a `struct bpf_dynptr` (`STACK_DYNPTR`). */
  Dynptr = 4,
}

/** One function frame. */
export interface Frame {
  regs: Reg[];
  /** 512 byte kinds, index `512 + off` for frame offset `off` (negative). */
  bytes: Uint8Array;
  /** Spilled registers by 8-byte slot (`(512 + off) >> 3`). */
  spills: (Reg | undefined)[];
  /** The call instruction that made this frame (-1 for the main program). */
  callsite: number;
  /** Subprogram start. */
  subprog: number;
  /** Lowest byte index ever written (`512`: none); bytes below it are all `Invalid`. */
  low: number;
  /** A callback's frame: the helper that calls it and what its return must be. */
  cb?: Callback;
  /** `bytes` may be shared with a copy of this frame: copy it before writing (copy on write). */
  shared: boolean;
}

/** What a callback frame returns to. */
export interface Callback {
  /** Helper id (`bpf_loop`, `bpf_for_each_map_elem`). */
  helper: number;
  /** Allowed return range. */
  lo: number;
  hi: number;
  /** Frame whose stack the callback may write through its context pointer; `-1` none. */
  havoc: number;
  /** References held at the call (the callback must not leave new ones). */
  refs: number;
}

/** A loop head on the current path: where, and two hashes of the state there. */
export interface Anc {
  pc: number;
  h: number;
  h2: number;
  prev: Anc | undefined;
  /** Number of older entries. */
  depth: number;
}

/** One path's state. */
export interface State {
  frames: Frame[];
  /** Acquired references: id and the instruction that acquired them. */
  refs: { id: number; insn: number }[];
  /** The held `bpf_spin_lock`: the id of the map value pointer it was taken through (0: none). */
  lock: number;
  /** The map of the held lock. */
  lockMap?: ResolvedMap;
  /** Path steps, kept in trace mode only. */
  trace?: string[];
  /** The loop heads this path went through, with its state's hashes there (newest first). */
  anc?: Anc;
}

/** A new frame with every register uninitialised. */
export function newFrame(callsite: number, subprog: number, depth: number): Frame {
  const regs: Reg[] = [];
  for (let i = 0; i < 11; i++) regs.push(mkReg(K.NotInit));
  regs[10] = mkReg(K.Stack);
  regs[10].frame = depth;
  return {
    regs,
    bytes: new Uint8Array(512),
    spills: new Array(64).fill(undefined),
    callsite,
    subprog,
    low: 512,
    shared: false,
  };
}

function cloneSpills(sp: (Reg | undefined)[], from: number): (Reg | undefined)[] {
  const out: (Reg | undefined)[] = new Array(64).fill(undefined);
  for (let i = from; i < 64; i++) {
    const r = sp[i];
    if (r !== undefined) out[i] = cloneReg(r);
  }
  return out;
}

/** Makes a frame's stack bytes its own before a write (they may be shared with a copy). */
export function ownBytes(f: Frame): void {
  if (f.shared) {
    f.bytes = f.bytes.slice();
    f.shared = false;
  }
}

/** A deep copy of a state (for the other side of a branch); stack bytes are copied on write. */
export function cloneState(st: State): State {
  const frames: Frame[] = [];
  for (const f of st.frames) {
    f.shared = true;
    const c: Frame = {
      regs: f.regs.map(cloneReg),
      bytes: f.bytes,
      shared: true,
      spills: cloneSpills(f.spills, f.low >> 3),
      callsite: f.callsite,
      subprog: f.subprog,
      low: f.low,
    };
    if (f.cb !== undefined) c.cb = f.cb;
    frames.push(c);
  }
  const out: State = { frames, refs: st.refs.map((r) => ({ ...r })), lock: st.lock };
  if (st.lockMap !== undefined) out.lockMap = st.lockMap;
  if (st.trace !== undefined) out.trace = st.trace.slice();
  if (st.anc !== undefined) out.anc = st.anc;
  return out;
}

/** The kernel-like text of a register, for findings and traces. */
export function regText(r: Reg): string {
  switch (r.k) {
    case K.NotInit:
      return "not initialised";
    case K.Scalar:
      return scalarText(r.s);
    default: {
      const name = KIND_NAMES[r.k] + (r.nullable ? "_or_null" : "");
      const parts: string[] = [];
      if (r.id) parts.push(`id=${r.id}`);
      if (r.ref) parts.push(`ref_obj_id=${r.ref}`);
      if (r.off) parts.push(`off=${r.off}`);
      if (r.k === K.Pkt || r.k === K.PktMeta) parts.push(`r=${r.range}`);
      if (r.map) parts.push(`ks=${r.map.keySize},vs=${r.map.valueSize}`);
      if (r.k === K.Mem) parts.push(`sz=${r.memSize}`);
      if (r.s.m !== 0n || r.s.v !== 0n) parts.push(`var=${scalarText(r.s)}`);
      return `${name}(${parts.join(",")})`;
    }
  }
}

/** The second hash of the last stateHash() call (both are computed in one pass). */
let second = 0;

/** Two hash accumulators, mixed in one pass (the second with other constants). */
let h1 = 0, h2 = 0;

function mix2(x: number): void {
  h1 = Math.imul(h1 ^ x, 0x85ebca6b);
  h1 ^= h1 >>> 13;
  h2 = Math.imul(h2 ^ x, 0xcc9e2d51);
  h2 ^= h2 >>> 15;
}

/** Mixes a bigint through its double value (exact below 2^53, rounded above). */
function mixBig2(x: bigint): void {
  const n = Number(x);
  mix2(n | 0);
  mix2((n / 4294967296) | 0);
}

function hashReg2(r: Reg): void {
  mix2(
    r.k | (r.nullable ? 64 : 0) | (r.s.exact ? 128 : 0) | (r.nullUnsure ? 256 : 0) |
      (r.ringbuf ? 512 : 0),
  );
  if (r.k === 0) return;
  mix2(r.off);
  mix2(r.id);
  mix2(r.ref);
  mix2(r.range);
  mix2(r.frame);
  mix2(r.memSize);
  if (r.map !== undefined) mix2(r.map.type * 65599 + r.map.valueSize * 31 + r.map.keySize);
  const s = r.s;
  mixBig2(s.v);
  if (s.m !== 0n) {
    mixBig2(s.m);
    mixBig2(s.umin);
    mixBig2(s.umax);
    mixBig2(s.smin);
    mixBig2(s.smax);
  }
}

/**
 * A hash of a state, for pruning revisits of the same state. A collision can only make the
 * checker skip a path (report less), never report more. A second, independent hash of the same
 * state is left in {@link lastSecondHash} (loop detection confirms a match with it).
 */
export function stateHash(st: State): number {
  h1 = 0x811c9dc5;
  h2 = 0x2545f491;
  for (const f of st.frames) {
    mix2(f.callsite);
    if (f.cb !== undefined) mix2(f.cb.havoc + 7);
    for (const r of f.regs) hashReg2(r);
    const b = f.bytes;
    for (let i = f.low & ~3; i < 512; i += 4) {
      mix2(b[i] | (b[i + 1] << 8) | (b[i + 2] << 16) | (b[i + 3] << 24));
    }
    for (let i = f.low >> 3; i < 64; i++) {
      const sp = f.spills[i];
      if (sp !== undefined) {
        mix2(i);
        hashReg2(sp);
      }
    }
  }
  for (const r of st.refs) {
    mix2(r.id);
    mix2(r.insn);
  }
  mix2(st.lock);
  second = h2 >>> 0;
  return h1 >>> 0;
}

/** The second hash computed by the last {@link stateHash} call. */
export function lastSecondHash(): number {
  return second;
}
