/**
 * Context layouts for the verifier: what a program type's `is_valid_access()` answers for a load
 * or store of `size` bytes at `offset` of its context, and what a load gives (a scalar, a packet
 * pointer, …). Facts from the uapi structs (`struct __sk_buff`, `struct xdp_md`) and the kernel's
 * `*_is_valid_access()` in net/core/filter.c (Linux 6.18).
 *
 * Only answers the kernel is sure to give are `"invalid"`; where this table is unsure it says
 * `"unknown"`, and the deep checker then reports nothing.
 *
 * @module
 */
import { ProgType as T } from "../../types/prog_type.ts";

/**
 * What a context access is: refused, allowed with the loaded value's kind, or not modelled.
 *
 * @example
 * ```ts
 * import type { CtxAccess } from "@tsbpf/core/progtype";
 * const a: CtxAccess = { valid: true, result: "pkt" };
 * ```
 */
export type CtxAccess =
  | { valid: false }
  | {
    valid: true;
    /** What a load gives: a scalar of the access size, or a pointer kind. */
    result: "scalar" | "pkt" | "pkt_end" | "pkt_meta" | "unknown";
  }
  | { valid: "unknown" };

/** `sizeof(struct __sk_buff)`. */
const SKB_SIZE = 192;
const SKB_DATA = 76, SKB_DATA_END = 80, SKB_DATA_META = 140, SKB_TC_CLASSID = 72;
const SKB_CB0 = 48, SKB_CB_END = 68;
const SKB_FLOW_KEYS = 144, SKB_TSTAMP = 152, SKB_SK = 168, SKB_TSTAMP_TYPE = 180;
const SKB_HWTSTAMP = 184, SKB_FAMILY = 88, SKB_WIRE_LEN = 160;

const INVALID: CtxAccess = { valid: false };
const UNKNOWN: CtxAccess = { valid: "unknown" };
const SCALAR: CtxAccess = { valid: true, result: "scalar" };

/** `bpf_skb_is_valid_access()` plus the type's own rules, for the parts modelled. */
function skbAccess(type: number, off: number, size: number, write: boolean): CtxAccess {
  if (off < 0 || off >= SKB_SIZE) return INVALID;
  if (off % size !== 0) return INVALID;
  // The 64-bit fields and the pointers: not modelled.
  if (off >= SKB_FLOW_KEYS && off < SKB_FLOW_KEYS + 8) return UNKNOWN;
  if (off >= SKB_TSTAMP && off < SKB_TSTAMP + 8) return UNKNOWN;
  if (off >= SKB_SK && off < SKB_SK + 8) return UNKNOWN;
  if (off >= SKB_TSTAMP_TYPE && off < SKB_HWTSTAMP) return UNKNOWN;
  if (off >= SKB_HWTSTAMP) return UNKNOWN;
  const cb = off >= SKB_CB0 && off < SKB_CB_END;
  const pktField = off === SKB_DATA || off === SKB_DATA_END || off === SKB_DATA_META;
  if (pktField && size !== 4) return INVALID;
  if (size === 8 && !cb) return INVALID; // u32 fields take loads of 1, 2 or 4 bytes
  if (cb && off + size > SKB_CB_END) return INVALID;
  const offU32 = off & ~3;
  if (type === T.SOCKET_FILTER) {
    if (offU32 === SKB_TC_CLASSID || pktField) return INVALID;
    if ((off >= SKB_FAMILY && off < SKB_DATA_META) || offU32 === SKB_WIRE_LEN) return INVALID;
    if (write) return cb ? (size === 4 ? SCALAR : UNKNOWN) : INVALID;
    return cb && size === 8 ? UNKNOWN : SCALAR;
  }
  if (type === T.SCHED_CLS || type === T.SCHED_ACT) {
    if (write) {
      if (offU32 === 0 || offU32 === 4 || offU32 === 16 || pktField) return INVALID;
      return UNKNOWN;
    }
    if (off >= SKB_FAMILY && off < SKB_DATA_META) return UNKNOWN;
    if (off === SKB_DATA) return { valid: true, result: "pkt" };
    if (off === SKB_DATA_END) return { valid: true, result: "pkt_end" };
    if (off === SKB_DATA_META) return { valid: true, result: "pkt_meta" };
    return cb && size === 8 ? UNKNOWN : SCALAR;
  }
  if (type === T.CGROUP_SKB) {
    if (offU32 === SKB_TC_CLASSID || off === SKB_DATA_META) return INVALID;
    if (write) {
      if (offU32 === 0 || offU32 === 4 || offU32 === 16 || pktField) return INVALID;
      return UNKNOWN;
    }
    // data and data_end need CAP_BPF (the checker's caller decides); not modelled here.
    if (pktField || (off >= SKB_FAMILY && off < SKB_DATA_META)) return UNKNOWN;
    return cb && size === 8 ? UNKNOWN : SCALAR;
  }
  return UNKNOWN;
}

/** `xdp_is_valid_access()`. */
function xdpAccess(off: number, size: number, write: boolean): CtxAccess {
  if (off < 0 || off >= 24) return INVALID;
  if (off % size !== 0 || size !== 4) return INVALID;
  if (write) return INVALID;
  if (off === 0) return { valid: true, result: "pkt" };
  if (off === 4) return { valid: true, result: "pkt_end" };
  if (off === 8) return { valid: true, result: "pkt_meta" };
  return SCALAR;
}

/**
 * The verifier op `isValidAccess(offset, size, kind)` of program type `type`: the kernel's
 * `is_valid_access()` for the modelled types (socket filters, tc, XDP, cgroup skb, kprobes,
 * tracepoints, raw tracepoints), `unknown` elsewhere.
 *
 * @example
 * ```ts
 * import { ctxAccess } from "@tsbpf/core/progtype";
 * ctxAccess(6, 0, 4, "read"); // { valid: true, result: "pkt" } (xdp: data)
 * ctxAccess(1, 76, 4, "read"); // { valid: false } (socket filter: data)
 * ```
 */
export function ctxAccess(
  type: number,
  offset: number,
  size: number,
  kind: "read" | "write",
): CtxAccess {
  const write = kind === "write";
  switch (type) {
    case T.SOCKET_FILTER:
    case T.SCHED_CLS:
    case T.SCHED_ACT:
    case T.CGROUP_SKB:
      return skbAccess(type, offset, size, write);
    case T.XDP:
      return xdpAccess(offset, size, write);
    case T.KPROBE:
      // kprobe_prog_is_valid_access(): reads of struct pt_regs, aligned. Its size is the
      // architecture's (168 bytes on x86-64): offsets past the smallest are left to the kernel.
      if (offset < 0 || write || offset % size !== 0) return INVALID;
      return offset + size <= 168 ? SCALAR : UNKNOWN;
    case T.TRACEPOINT:
      // tp_prog_is_valid_access(): the record after its first 8 bytes, read, aligned.
      if (offset < 8 || offset >= 2048 || write || offset % size !== 0) return INVALID;
      return SCALAR;
    case T.RAW_TRACEPOINT:
      // raw_tp_prog_is_valid_access(): the 12 u64 arguments, read, aligned.
      if (offset < 0 || offset >= 96 || write || offset % size !== 0) return INVALID;
      return SCALAR;
    default:
      return UNKNOWN;
  }
}
