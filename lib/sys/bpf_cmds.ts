/**
 * One typed wrapper per `bpf(2)` command, on the declarative layouts of `types/attr.ts`: the only
 * place above the backends that names a command number. Objects (`Program`, `BpfMap`, links,
 * readers) call these, never `sys().bpf(<cmd>, …)`.
 *
 * Each wrapper takes an {@link Attr} built from its command's layout (so field names are checked
 * by the compiler), passes the layout's size, holds the buffers given as `keepA`/`keepB` for the
 * duration of the call, and returns the result (≥ 0) or `-errno`. Every command is retried on
 * `EINTR`; `BPF_PROG_LOAD` also on `EAGAIN`. Hot paths that keep one preallocated buffer per
 * object (map element operations, iteration, batches) may pass its bytes instead.
 *
 * The size given to the kernel is checked against the command before the call: an {@link Attr}
 * may be no larger than the command's layout (the largest of them for `BPF_LINK_CREATE`, which
 * has one per attach kind), and raw bytes must hold the command's whole layout — the kernel reads
 * that many bytes from the address. Otherwise the wrapper throws an `ArgumentError` naming the
 * command, without calling.
 *
 * ```ts
 * import { Attr } from "../attr.ts";
 * import { MAP_CREATE_ATTR } from "../../types/attr.ts";
 * import { mapCreate } from "./bpf_cmds.ts";
 * import { sys } from "./mod.ts";
 * const attr = new Attr(MAP_CREATE_ATTR)
 *   .set("map_type", 2).set("key_size", 4).set("value_size", 8).set("max_entries", 1);
 * const fd = mapCreate(attr); // a map fd, or -errno
 * if (fd >= 0) sys().close(fd);
 * ```
 *
 * @module
 */
import type { Attr } from "../attr.ts";
import { raiseMemlockIfCharged } from "./memlock.ts";
import {
  type AttrLayout,
  BTF_LOAD_ATTR,
  ENABLE_STATS_ATTR,
  GET_FD_BY_ID_ATTR,
  GET_NEXT_ID_ATTR,
  ITER_CREATE_ATTR,
  LINK_CREATE_ATTR,
  LINK_CREATE_CGROUP_ATTR,
  LINK_CREATE_KPROBE_MULTI_ATTR,
  LINK_CREATE_NETFILTER_ATTR,
  LINK_CREATE_NETKIT_ATTR,
  LINK_CREATE_PERF_EVENT_ATTR,
  LINK_CREATE_TCX_ATTR,
  LINK_CREATE_TRACING_ATTR,
  LINK_CREATE_UPROBE_MULTI_ATTR,
  LINK_DETACH_ATTR,
  LINK_UPDATE_ATTR,
  MAP_BATCH_ATTR,
  MAP_CREATE_ATTR,
  MAP_DELETE_ELEM_ATTR,
  MAP_FREEZE_ATTR,
  MAP_GET_NEXT_KEY_ATTR,
  MAP_LOOKUP_AND_DELETE_ELEM_ATTR,
  MAP_LOOKUP_ELEM_ATTR,
  MAP_UPDATE_ELEM_ATTR,
  OBJ_GET_ATTR,
  OBJ_GET_INFO_BY_FD_ATTR,
  OBJ_PIN_ATTR,
  PROG_ATTACH_ATTR,
  PROG_BIND_MAP_ATTR,
  PROG_DETACH_ATTR,
  PROG_LOAD_ATTR,
  PROG_QUERY_ATTR,
  PROG_TEST_RUN_ATTR,
  RAW_TRACEPOINT_OPEN_ATTR,
  TASK_FD_QUERY_ATTR,
  TOKEN_CREATE_ATTR,
} from "../../types/attr.ts";
import { BpfCmd } from "../../types/cmd.ts";
import { Errno } from "../../types/errno.ts";
import { ArgumentError } from "../errors.ts";
import { sys } from "./mod.ts";

/** The {@link Attr} type of a layout: `AttrOf<typeof PROG_LOAD_ATTR>`. */
export type AttrOf<L> = L extends AttrLayout<infer F> ? Attr<F> : never;

/** An attr of layout `L`, or the raw bytes of one (for preallocated hot-path buffers). */
export type AttrOrBytes<L> = AttrOf<L> | Uint8Array<ArrayBuffer>;

/** How many times a call interrupted by a signal (`EINTR`) is made again before giving up. */
export const EINTR_RETRIES = 64;

/** How many times in all `BPF_PROG_LOAD` is tried while the kernel answers `EAGAIN` (libbpf: 5). */
export const PROG_LOAD_ATTEMPTS = 5;

const EINTR = Errno.EINTR;
const EAGAIN = Errno.EAGAIN;

/** The largest attr `BPF_LINK_CREATE` takes: its layouts differ by attach kind. */
const LINK_CREATE_MAX = Math.max(...[
  LINK_CREATE_PERF_EVENT_ATTR,
  LINK_CREATE_KPROBE_MULTI_ATTR,
  LINK_CREATE_TRACING_ATTR,
  LINK_CREATE_NETFILTER_ATTR,
  LINK_CREATE_TCX_ATTR,
  LINK_CREATE_UPROBE_MULTI_ATTR,
  LINK_CREATE_NETKIT_ATTR,
  LINK_CREATE_CGROUP_ATTR,
].map((l) => l.size));

function call(
  cmd: number,
  bytes: Uint8Array,
  size: number,
  keepA: Uint8Array | undefined,
  keepB: Uint8Array | undefined,
): number {
  const s = sys();
  let r = s.bpf(cmd, bytes, size, keepA, keepB);
  for (let i = 0; r === -EINTR && i < EINTR_RETRIES; i++) r = s.bpf(cmd, bytes, size, keepA, keepB);
  return r;
}

function callAttr(
  cmd: number,
  attr: { bytes: Uint8Array; size: number; layout: AttrLayout } | Uint8Array,
  layout: AttrLayout,
  keepA: Uint8Array | undefined,
  keepB: Uint8Array | undefined,
  maxSize: number = layout.size,
): number {
  if (attr instanceof Uint8Array) {
    if (attr.length < layout.size) bytesTooShort(layout, attr.length);
    return call(cmd, attr, layout.size, keepA, keepB);
  }
  const size = attr.size;
  if (size > maxSize) tooLarge(layout, attr.layout, maxSize);
  if (attr.bytes.length < size) bytesTooShort(attr.layout, attr.bytes.length);
  return call(cmd, attr.bytes, size, keepA, keepB);
}

function bytesTooShort(layout: AttrLayout, length: number): never {
  throw new ArgumentError(
    "attr",
    `${layout.name}: the attr buffer holds ${length} bytes, the command's layout needs ${layout.size} (the kernel would read past its end)`,
  );
}

function tooLarge(layout: AttrLayout, given: AttrLayout, maxSize: number): never {
  throw new ArgumentError(
    "attr",
    `${layout.name} takes at most ${maxSize} bytes of attr, got ${given.size} (an attr built from ${given.name})`,
  );
}

/**
 * `BPF_MAP_CREATE`: Creates a map; returns its fd.
 *
 * @example
 * ```ts
 * import { Attr } from "../attr.ts";
 * import { MAP_CREATE_ATTR } from "../../types/attr.ts";
 * import { mapCreate } from "./bpf_cmds.ts";
 * mapCreate(new Attr(MAP_CREATE_ATTR)) < 0; // true: the kernel refuses a zeroed attr (-errno)
 * ```
 */
export function mapCreate(
  attr: AttrOf<typeof MAP_CREATE_ATTR>,
  keepA?: Uint8Array,
  keepB?: Uint8Array,
): number {
  raiseMemlockIfCharged();
  return callAttr(BpfCmd.MAP_CREATE, attr, MAP_CREATE_ATTR, keepA, keepB);
}

/**
 * `BPF_MAP_LOOKUP_ELEM`: Looks up one element (the value is written to `attr.value`).
 *
 * @example
 * ```ts
 * import { Attr } from "../attr.ts";
 * import { MAP_LOOKUP_ELEM_ATTR } from "../../types/attr.ts";
 * import { mapLookupElem } from "./bpf_cmds.ts";
 * mapLookupElem(new Attr(MAP_LOOKUP_ELEM_ATTR)) < 0; // true: the kernel refuses a zeroed attr (-errno)
 * ```
 */
export function mapLookupElem(
  attr: AttrOrBytes<typeof MAP_LOOKUP_ELEM_ATTR>,
  keepA?: Uint8Array,
  keepB?: Uint8Array,
): number {
  return callAttr(BpfCmd.MAP_LOOKUP_ELEM, attr, MAP_LOOKUP_ELEM_ATTR, keepA, keepB);
}

/**
 * `BPF_MAP_UPDATE_ELEM`: Creates or updates one element.
 *
 * @example
 * ```ts
 * import { Attr } from "../attr.ts";
 * import { MAP_UPDATE_ELEM_ATTR } from "../../types/attr.ts";
 * import { mapUpdateElem } from "./bpf_cmds.ts";
 * mapUpdateElem(new Attr(MAP_UPDATE_ELEM_ATTR)) < 0; // true: the kernel refuses a zeroed attr (-errno)
 * ```
 */
export function mapUpdateElem(
  attr: AttrOrBytes<typeof MAP_UPDATE_ELEM_ATTR>,
  keepA?: Uint8Array,
  keepB?: Uint8Array,
): number {
  return callAttr(BpfCmd.MAP_UPDATE_ELEM, attr, MAP_UPDATE_ELEM_ATTR, keepA, keepB);
}

/**
 * `BPF_MAP_DELETE_ELEM`: Deletes one element.
 *
 * @example
 * ```ts
 * import { Attr } from "../attr.ts";
 * import { MAP_DELETE_ELEM_ATTR } from "../../types/attr.ts";
 * import { mapDeleteElem } from "./bpf_cmds.ts";
 * mapDeleteElem(new Attr(MAP_DELETE_ELEM_ATTR)) < 0; // true: the kernel refuses a zeroed attr (-errno)
 * ```
 */
export function mapDeleteElem(
  attr: AttrOrBytes<typeof MAP_DELETE_ELEM_ATTR>,
  keepA?: Uint8Array,
  keepB?: Uint8Array,
): number {
  return callAttr(BpfCmd.MAP_DELETE_ELEM, attr, MAP_DELETE_ELEM_ATTR, keepA, keepB);
}

/**
 * `BPF_MAP_GET_NEXT_KEY`: Writes the key after `attr.key` (the first key when `key` is 0) to `attr.next_key`.
 *
 * @example
 * ```ts
 * import { Attr } from "../attr.ts";
 * import { MAP_GET_NEXT_KEY_ATTR } from "../../types/attr.ts";
 * import { mapGetNextKey } from "./bpf_cmds.ts";
 * mapGetNextKey(new Attr(MAP_GET_NEXT_KEY_ATTR)) < 0; // true: the kernel refuses a zeroed attr (-errno)
 * ```
 */
export function mapGetNextKey(
  attr: AttrOrBytes<typeof MAP_GET_NEXT_KEY_ATTR>,
  keepA?: Uint8Array,
  keepB?: Uint8Array,
): number {
  return callAttr(BpfCmd.MAP_GET_NEXT_KEY, attr, MAP_GET_NEXT_KEY_ATTR, keepA, keepB);
}

/**
 * `BPF_MAP_LOOKUP_AND_DELETE_ELEM`: Looks up and deletes one element (or pops from a queue/stack).
 *
 * @example
 * ```ts
 * import { Attr } from "../attr.ts";
 * import { MAP_LOOKUP_AND_DELETE_ELEM_ATTR } from "../../types/attr.ts";
 * import { mapLookupAndDeleteElem } from "./bpf_cmds.ts";
 * mapLookupAndDeleteElem(new Attr(MAP_LOOKUP_AND_DELETE_ELEM_ATTR)) < 0; // true: the kernel refuses a zeroed attr (-errno)
 * ```
 */
export function mapLookupAndDeleteElem(
  attr: AttrOrBytes<typeof MAP_LOOKUP_AND_DELETE_ELEM_ATTR>,
  keepA?: Uint8Array,
  keepB?: Uint8Array,
): number {
  return callAttr(
    BpfCmd.MAP_LOOKUP_AND_DELETE_ELEM,
    attr,
    MAP_LOOKUP_AND_DELETE_ELEM_ATTR,
    keepA,
    keepB,
  );
}

/**
 * `BPF_MAP_FREEZE`: Freezes a map against writes from user space.
 *
 * @example
 * ```ts
 * import { Attr } from "../attr.ts";
 * import { MAP_FREEZE_ATTR } from "../../types/attr.ts";
 * import { mapFreeze } from "./bpf_cmds.ts";
 * mapFreeze(new Attr(MAP_FREEZE_ATTR)) < 0; // true: the kernel refuses a zeroed attr (-errno)
 * ```
 */
export function mapFreeze(
  attr: AttrOf<typeof MAP_FREEZE_ATTR>,
  keepA?: Uint8Array,
  keepB?: Uint8Array,
): number {
  return callAttr(BpfCmd.MAP_FREEZE, attr, MAP_FREEZE_ATTR, keepA, keepB);
}

/**
 * `BPF_PROG_LOAD`: Loads a program; returns its fd. Retried on `EAGAIN` (up to {@link PROG_LOAD_ATTEMPTS} attempts in all), as libbpf does: the kernel answers EAGAIN when the verifier was interrupted and asks to be called again.
 *
 * @example
 * ```ts
 * import { Attr } from "../attr.ts";
 * import { PROG_LOAD_ATTR } from "../../types/attr.ts";
 * import { progLoad } from "./bpf_cmds.ts";
 * progLoad(new Attr(PROG_LOAD_ATTR)) < 0; // true: the kernel refuses a zeroed attr (-errno)
 * ```
 */
export function progLoad(
  attr: AttrOf<typeof PROG_LOAD_ATTR>,
  keepA?: Uint8Array,
  keepB?: Uint8Array,
): number {
  raiseMemlockIfCharged();
  let r = callAttr(BpfCmd.PROG_LOAD, attr, PROG_LOAD_ATTR, keepA, keepB);
  for (let i = 1; r === -EAGAIN && i < PROG_LOAD_ATTEMPTS; i++) {
    r = callAttr(BpfCmd.PROG_LOAD, attr, PROG_LOAD_ATTR, keepA, keepB);
  }
  return r;
}

/**
 * `BPF_OBJ_PIN`: Pins an object in bpffs.
 *
 * @example
 * ```ts
 * import { Attr } from "../attr.ts";
 * import { OBJ_PIN_ATTR } from "../../types/attr.ts";
 * import { objPin } from "./bpf_cmds.ts";
 * objPin(new Attr(OBJ_PIN_ATTR)) < 0; // true: the kernel refuses a zeroed attr (-errno)
 * ```
 */
export function objPin(
  attr: AttrOf<typeof OBJ_PIN_ATTR>,
  keepA?: Uint8Array,
  keepB?: Uint8Array,
): number {
  return callAttr(BpfCmd.OBJ_PIN, attr, OBJ_PIN_ATTR, keepA, keepB);
}

/**
 * `BPF_OBJ_GET`: Opens a pinned object; returns a new fd.
 *
 * @example
 * ```ts
 * import { Attr } from "../attr.ts";
 * import { OBJ_GET_ATTR } from "../../types/attr.ts";
 * import { objGet } from "./bpf_cmds.ts";
 * objGet(new Attr(OBJ_GET_ATTR)) < 0; // true: the kernel refuses a zeroed attr (-errno)
 * ```
 */
export function objGet(
  attr: AttrOf<typeof OBJ_GET_ATTR>,
  keepA?: Uint8Array,
  keepB?: Uint8Array,
): number {
  return callAttr(BpfCmd.OBJ_GET, attr, OBJ_GET_ATTR, keepA, keepB);
}

/**
 * `BPF_PROG_ATTACH`: Attaches a program to a target (cgroup, sockmap, flow dissector…), without a link.
 *
 * @example
 * ```ts
 * import { Attr } from "../attr.ts";
 * import { PROG_ATTACH_ATTR } from "../../types/attr.ts";
 * import { progAttach } from "./bpf_cmds.ts";
 * progAttach(new Attr(PROG_ATTACH_ATTR)) < 0; // true: the kernel refuses a zeroed attr (-errno)
 * ```
 */
export function progAttach(
  attr: AttrOf<typeof PROG_ATTACH_ATTR>,
  keepA?: Uint8Array,
  keepB?: Uint8Array,
): number {
  return callAttr(BpfCmd.PROG_ATTACH, attr, PROG_ATTACH_ATTR, keepA, keepB);
}

/**
 * `BPF_PROG_DETACH`: Detaches a program attached by {@link progAttach}.
 *
 * @example
 * ```ts
 * import { Attr } from "../attr.ts";
 * import { PROG_DETACH_ATTR } from "../../types/attr.ts";
 * import { progDetach } from "./bpf_cmds.ts";
 * progDetach(new Attr(PROG_DETACH_ATTR)) < 0; // true: the kernel refuses a zeroed attr (-errno)
 * ```
 */
export function progDetach(
  attr: AttrOf<typeof PROG_DETACH_ATTR>,
  keepA?: Uint8Array,
  keepB?: Uint8Array,
): number {
  return callAttr(BpfCmd.PROG_DETACH, attr, PROG_DETACH_ATTR, keepA, keepB);
}

/**
 * `BPF_PROG_TEST_RUN`: Runs a program once on test input (`BPF_PROG_TEST_RUN`, also `BPF_PROG_RUN`).
 *
 * @example
 * ```ts
 * import { Attr } from "../attr.ts";
 * import { PROG_TEST_RUN_ATTR } from "../../types/attr.ts";
 * import { progTestRun } from "./bpf_cmds.ts";
 * progTestRun(new Attr(PROG_TEST_RUN_ATTR)) < 0; // true: the kernel refuses a zeroed attr (-errno)
 * ```
 */
export function progTestRun(
  attr: AttrOf<typeof PROG_TEST_RUN_ATTR>,
  keepA?: Uint8Array,
  keepB?: Uint8Array,
): number {
  return callAttr(BpfCmd.PROG_TEST_RUN, attr, PROG_TEST_RUN_ATTR, keepA, keepB);
}

/**
 * `BPF_OBJ_GET_INFO_BY_FD`: Fills a `bpf_*_info` struct about the object behind `attr.bpf_fd`.
 *
 * @example
 * ```ts
 * import { Attr } from "../attr.ts";
 * import { OBJ_GET_INFO_BY_FD_ATTR } from "../../types/attr.ts";
 * import { objGetInfoByFd } from "./bpf_cmds.ts";
 * objGetInfoByFd(new Attr(OBJ_GET_INFO_BY_FD_ATTR)) < 0; // true: the kernel refuses a zeroed attr (-errno)
 * ```
 */
export function objGetInfoByFd(
  attr: AttrOf<typeof OBJ_GET_INFO_BY_FD_ATTR>,
  keepA?: Uint8Array,
  keepB?: Uint8Array,
): number {
  return callAttr(BpfCmd.OBJ_GET_INFO_BY_FD, attr, OBJ_GET_INFO_BY_FD_ATTR, keepA, keepB);
}

/**
 * `BPF_PROG_QUERY`: Lists the programs attached to a target.
 *
 * @example
 * ```ts
 * import { Attr } from "../attr.ts";
 * import { PROG_QUERY_ATTR } from "../../types/attr.ts";
 * import { progQuery } from "./bpf_cmds.ts";
 * progQuery(new Attr(PROG_QUERY_ATTR)) < 0; // true: the kernel refuses a zeroed attr (-errno)
 * ```
 */
export function progQuery(
  attr: AttrOf<typeof PROG_QUERY_ATTR>,
  keepA?: Uint8Array,
  keepB?: Uint8Array,
): number {
  return callAttr(BpfCmd.PROG_QUERY, attr, PROG_QUERY_ATTR, keepA, keepB);
}

/**
 * `BPF_RAW_TRACEPOINT_OPEN`: Attaches a raw tracepoint (or tracing) program; returns a link fd.
 *
 * @example
 * ```ts
 * import { Attr } from "../attr.ts";
 * import { RAW_TRACEPOINT_OPEN_ATTR } from "../../types/attr.ts";
 * import { rawTracepointOpen } from "./bpf_cmds.ts";
 * rawTracepointOpen(new Attr(RAW_TRACEPOINT_OPEN_ATTR)) < 0; // true: the kernel refuses a zeroed attr (-errno)
 * ```
 */
export function rawTracepointOpen(
  attr: AttrOf<typeof RAW_TRACEPOINT_OPEN_ATTR>,
  keepA?: Uint8Array,
  keepB?: Uint8Array,
): number {
  return callAttr(BpfCmd.RAW_TRACEPOINT_OPEN, attr, RAW_TRACEPOINT_OPEN_ATTR, keepA, keepB);
}

/**
 * `BPF_BTF_LOAD`: Loads BTF; returns its fd.
 *
 * @example
 * ```ts
 * import { Attr } from "../attr.ts";
 * import { BTF_LOAD_ATTR } from "../../types/attr.ts";
 * import { btfLoad } from "./bpf_cmds.ts";
 * btfLoad(new Attr(BTF_LOAD_ATTR)) < 0; // true: the kernel refuses a zeroed attr (-errno)
 * ```
 */
export function btfLoad(
  attr: AttrOf<typeof BTF_LOAD_ATTR>,
  keepA?: Uint8Array,
  keepB?: Uint8Array,
): number {
  raiseMemlockIfCharged();
  return callAttr(BpfCmd.BTF_LOAD, attr, BTF_LOAD_ATTR, keepA, keepB);
}

/**
 * `BPF_TASK_FD_QUERY`: Describes what a task's perf-event or raw-tracepoint fd is attached to.
 *
 * @example
 * ```ts
 * import { Attr } from "../attr.ts";
 * import { TASK_FD_QUERY_ATTR } from "../../types/attr.ts";
 * import { taskFdQuery } from "./bpf_cmds.ts";
 * taskFdQuery(new Attr(TASK_FD_QUERY_ATTR)) < 0; // true: the kernel refuses a zeroed attr (-errno)
 * ```
 */
export function taskFdQuery(
  attr: AttrOf<typeof TASK_FD_QUERY_ATTR>,
  keepA?: Uint8Array,
  keepB?: Uint8Array,
): number {
  return callAttr(BpfCmd.TASK_FD_QUERY, attr, TASK_FD_QUERY_ATTR, keepA, keepB);
}

/**
 * `BPF_LINK_CREATE`: Creates a link; returns its fd. `attr` follows `LINK_CREATE_ATTR` or one of its per-target variants.
 *
 * @example
 * ```ts
 * import { Attr } from "../attr.ts";
 * import { LINK_CREATE_ATTR } from "../../types/attr.ts";
 * import { linkCreate } from "./bpf_cmds.ts";
 * linkCreate(new Attr(LINK_CREATE_ATTR)) < 0; // true: the kernel refuses a zeroed attr (-errno)
 * ```
 */
export function linkCreate(
  attr:
    | AttrOf<typeof LINK_CREATE_ATTR>
    | AttrOf<typeof LINK_CREATE_PERF_EVENT_ATTR>
    | AttrOf<typeof LINK_CREATE_KPROBE_MULTI_ATTR>
    | AttrOf<typeof LINK_CREATE_TRACING_ATTR>
    | AttrOf<typeof LINK_CREATE_NETFILTER_ATTR>
    | AttrOf<typeof LINK_CREATE_TCX_ATTR>
    | AttrOf<typeof LINK_CREATE_UPROBE_MULTI_ATTR>
    | AttrOf<typeof LINK_CREATE_NETKIT_ATTR>
    | AttrOf<typeof LINK_CREATE_CGROUP_ATTR>,
  keepA?: Uint8Array,
  keepB?: Uint8Array,
): number {
  return callAttr(BpfCmd.LINK_CREATE, attr, LINK_CREATE_ATTR, keepA, keepB, LINK_CREATE_MAX);
}

/**
 * `BPF_LINK_UPDATE`: Replaces the program of a link.
 *
 * @example
 * ```ts
 * import { Attr } from "../attr.ts";
 * import { LINK_UPDATE_ATTR } from "../../types/attr.ts";
 * import { linkUpdate } from "./bpf_cmds.ts";
 * linkUpdate(new Attr(LINK_UPDATE_ATTR)) < 0; // true: the kernel refuses a zeroed attr (-errno)
 * ```
 */
export function linkUpdate(
  attr: AttrOf<typeof LINK_UPDATE_ATTR>,
  keepA?: Uint8Array,
  keepB?: Uint8Array,
): number {
  return callAttr(BpfCmd.LINK_UPDATE, attr, LINK_UPDATE_ATTR, keepA, keepB);
}

/**
 * `BPF_LINK_DETACH`: Detaches a link from its target (the fd stays open, defunct).
 *
 * @example
 * ```ts
 * import { Attr } from "../attr.ts";
 * import { LINK_DETACH_ATTR } from "../../types/attr.ts";
 * import { linkDetach } from "./bpf_cmds.ts";
 * linkDetach(new Attr(LINK_DETACH_ATTR)) < 0; // true: the kernel refuses a zeroed attr (-errno)
 * ```
 */
export function linkDetach(
  attr: AttrOf<typeof LINK_DETACH_ATTR>,
  keepA?: Uint8Array,
  keepB?: Uint8Array,
): number {
  return callAttr(BpfCmd.LINK_DETACH, attr, LINK_DETACH_ATTR, keepA, keepB);
}

/**
 * `BPF_ENABLE_STATS`: Enables run-time statistics while the returned fd is open.
 *
 * @example
 * ```ts
 * import { Attr } from "../attr.ts";
 * import { ENABLE_STATS_ATTR } from "../../types/attr.ts";
 * import { enableStats } from "./bpf_cmds.ts";
 * enableStats(new Attr(ENABLE_STATS_ATTR).set("type", 99)) < 0; // true: the kernel refuses a zeroed attr (-errno)
 * ```
 */
export function enableStats(
  attr: AttrOf<typeof ENABLE_STATS_ATTR>,
  keepA?: Uint8Array,
  keepB?: Uint8Array,
): number {
  return callAttr(BpfCmd.ENABLE_STATS, attr, ENABLE_STATS_ATTR, keepA, keepB);
}

/**
 * `BPF_ITER_CREATE`: Opens a new reader of an iterator link; returns its fd.
 *
 * @example
 * ```ts
 * import { Attr } from "../attr.ts";
 * import { ITER_CREATE_ATTR } from "../../types/attr.ts";
 * import { iterCreate } from "./bpf_cmds.ts";
 * iterCreate(new Attr(ITER_CREATE_ATTR)) < 0; // true: the kernel refuses a zeroed attr (-errno)
 * ```
 */
export function iterCreate(
  attr: AttrOf<typeof ITER_CREATE_ATTR>,
  keepA?: Uint8Array,
  keepB?: Uint8Array,
): number {
  return callAttr(BpfCmd.ITER_CREATE, attr, ITER_CREATE_ATTR, keepA, keepB);
}

/**
 * `BPF_PROG_BIND_MAP`: Binds a map to a program for the program's lifetime.
 *
 * @example
 * ```ts
 * import { Attr } from "../attr.ts";
 * import { PROG_BIND_MAP_ATTR } from "../../types/attr.ts";
 * import { progBindMap } from "./bpf_cmds.ts";
 * progBindMap(new Attr(PROG_BIND_MAP_ATTR)) < 0; // true: the kernel refuses a zeroed attr (-errno)
 * ```
 */
export function progBindMap(
  attr: AttrOf<typeof PROG_BIND_MAP_ATTR>,
  keepA?: Uint8Array,
  keepB?: Uint8Array,
): number {
  return callAttr(BpfCmd.PROG_BIND_MAP, attr, PROG_BIND_MAP_ATTR, keepA, keepB);
}

/** The four `BPF_MAP_*_BATCH` commands. */
export type MapBatchCmd =
  | typeof BpfCmd.MAP_LOOKUP_BATCH
  | typeof BpfCmd.MAP_LOOKUP_AND_DELETE_BATCH
  | typeof BpfCmd.MAP_UPDATE_BATCH
  | typeof BpfCmd.MAP_DELETE_BATCH;

/**
 * `BPF_MAP_LOOKUP_BATCH`, `BPF_MAP_LOOKUP_AND_DELETE_BATCH`, `BPF_MAP_UPDATE_BATCH` and
 * `BPF_MAP_DELETE_BATCH` (one layout, `attr.batch`): the command is the first argument.
 *
 * @example
 * ```ts
 * import { Attr } from "../attr.ts";
 * import { MAP_BATCH_ATTR } from "../../types/attr.ts";
 * import { BpfCmd } from "../../types/cmd.ts";
 * import { mapBatch } from "./bpf_cmds.ts";
 * mapBatch(BpfCmd.MAP_LOOKUP_BATCH, new Attr(MAP_BATCH_ATTR)) < 0; // true: no map fd
 * ```
 */
export function mapBatch(
  cmd: MapBatchCmd,
  attr: AttrOrBytes<typeof MAP_BATCH_ATTR>,
  keepA?: Uint8Array,
  keepB?: Uint8Array,
): number {
  return callAttr(cmd, attr, MAP_BATCH_ATTR, keepA, keepB);
}

/** The four `BPF_*_GET_NEXT_ID` commands. */
export type GetNextIdCmd =
  | typeof BpfCmd.PROG_GET_NEXT_ID
  | typeof BpfCmd.MAP_GET_NEXT_ID
  | typeof BpfCmd.LINK_GET_NEXT_ID
  | typeof BpfCmd.BTF_GET_NEXT_ID;

/**
 * `BPF_PROG_GET_NEXT_ID`, `BPF_MAP_GET_NEXT_ID`, `BPF_LINK_GET_NEXT_ID`, `BPF_BTF_GET_NEXT_ID`:
 * writes the next id after `attr.start_id` to `attr.next_id` (`-ENOENT` after the last).
 *
 * @example
 * ```ts
 * import { Attr } from "../attr.ts";
 * import { GET_NEXT_ID_ATTR } from "../../types/attr.ts";
 * import { BpfCmd } from "../../types/cmd.ts";
 * import { getNextId } from "./bpf_cmds.ts";
 * const attr = new Attr(GET_NEXT_ID_ATTR);
 * if (getNextId(BpfCmd.PROG_GET_NEXT_ID, attr) === 0) attr.get("next_id"); // the lowest id
 * ```
 */
export function getNextId(cmd: GetNextIdCmd, attr: AttrOf<typeof GET_NEXT_ID_ATTR>): number {
  return callAttr(cmd, attr, GET_NEXT_ID_ATTR, undefined, undefined);
}

/** The four `BPF_*_GET_FD_BY_ID` commands. */
export type GetFdByIdCmd =
  | typeof BpfCmd.PROG_GET_FD_BY_ID
  | typeof BpfCmd.MAP_GET_FD_BY_ID
  | typeof BpfCmd.LINK_GET_FD_BY_ID
  | typeof BpfCmd.BTF_GET_FD_BY_ID;

/**
 * `BPF_PROG_GET_FD_BY_ID`, `BPF_MAP_GET_FD_BY_ID`, `BPF_LINK_GET_FD_BY_ID`,
 * `BPF_BTF_GET_FD_BY_ID`: opens the object with an id; returns a new fd.
 *
 * @example
 * ```ts
 * import { Attr } from "../attr.ts";
 * import { GET_FD_BY_ID_ATTR } from "../../types/attr.ts";
 * import { BpfCmd } from "../../types/cmd.ts";
 * import { getFdById } from "./bpf_cmds.ts";
 * getFdById(BpfCmd.PROG_GET_FD_BY_ID, new Attr(GET_FD_BY_ID_ATTR)) < 0; // true: no id 0
 * ```
 */
export function getFdById(cmd: GetFdByIdCmd, attr: AttrOf<typeof GET_FD_BY_ID_ATTR>): number {
  return callAttr(cmd, attr, GET_FD_BY_ID_ATTR, undefined, undefined);
}

/**
 * `BPF_TOKEN_CREATE`: Creates a BPF token from a delegating BPF filesystem; returns its fd.
 *
 * @example
 * ```ts
 * import { Attr } from "../attr.ts";
 * import { TOKEN_CREATE_ATTR } from "../../types/attr.ts";
 * import { tokenCreate } from "./bpf_cmds.ts";
 * tokenCreate(new Attr(TOKEN_CREATE_ATTR)) < 0; // true: the kernel refuses a zeroed attr (-errno)
 * ```
 */
export function tokenCreate(
  attr: AttrOf<typeof TOKEN_CREATE_ATTR>,
  keepA?: Uint8Array,
  keepB?: Uint8Array,
): number {
  return callAttr(BpfCmd.TOKEN_CREATE, attr, TOKEN_CREATE_ATTR, keepA, keepB);
}
