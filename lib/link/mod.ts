/**
 * Attaching programs: `Link` (an owned `bpf_link`: info, pin, update, detach, list) and one
 * attach function per kind of hook — socket filters, tracepoints, uprobes, raw and BTF
 * tracepoints, USDT probes, XDP, tcx, cgroups, iterators, netfilter hooks,
 * network namespaces (`sk_lookup`, flow dissector), socket maps, netkit and struct_ops.
 *
 * ```ts
 * import { asm, BpfMap, Program, u32, u64 } from "@tsbpf/core";
 * import { attachRawTracepoint, Link } from "@tsbpf/core/link";
 *
 * using counts = BpfMap.create({ type: "array", key: u32, value: u64, maxEntries: 1 });
 * using prog = Program.load({
 *   type: "raw_tracepoint",
 *   license: "GPL",
 *   insns: asm`
 *     *(u32 *)(r10 - 4) = 0
 *     r1 = map[fd:${counts.fd}] ll
 *     r2 = r10
 *     r2 += -4
 *     call bpf_map_lookup_elem
 *     if r0 == 0 goto out
 *     r1 = 1
 *     lock *(u64 *)(r0 + 0) += r1
 *   out:
 *     r0 = 0
 *     exit`,
 * });
 * using link = attachRawTracepoint(prog, "sys_enter");
 * console.log(link.info().typeName, counts.get(0)); // "raw_tracepoint" 123n: system calls seen
 * ```
 *
 * @module
 */
export { AttachError } from "./errors.ts";
export { Link, type LinkInfo } from "./link.ts";
export { attachSocketFilter, SocketFilterAttachment } from "./socket_filter.ts";
export { attachTracepoint, TRACEFS_PATHS, tracepointId } from "./tracepoint.ts";
export { attachBtfTracepoint, attachRawTracepoint, btfTracepointId } from "./raw_tracepoint.ts";
export { attachUprobe, resolveLibraryPath, type UprobeTarget } from "./uprobe.ts";
export { attachPerfEvent, PerfEventAttachment, type PerfEventTarget } from "./perf_event.ts";
export { PerfEventIoctlLink } from "./perf_link.ts";
export {
  attachKprobe,
  attachKprobeMulti,
  type KprobeMultiTarget,
  type KprobeOptions,
  KPROBES_OFF,
  kprobesUnavailable,
} from "./kprobe.ts";
export { attachUprobeMulti, type UprobeMultiTarget } from "./uprobe_multi.ts";
export {
  attachUsdt,
  UsdtAttachment,
  type UsdtMap,
  type UsdtSite,
  type UsdtTarget,
} from "./usdt.ts";
export {
  attachTracing,
  kernelFunctionBtfId,
  TRACING_ATTACH_TYPES,
  type TracingOptions,
} from "./tracing.ts";
export { attachXdp, type XdpMode, type XdpOptions } from "./xdp.ts";
export { attachTcx, type TcxDirection } from "./tcx.ts";
export { attachCgroup, type AttachedPrograms, queryAttached } from "./cgroup.ts";
export {
  attachNetfilter,
  type NetfilterFamily,
  type NetfilterHook,
  type NetfilterOptions,
} from "./netfilter.ts";
export { attachFlowDissector, attachSkLookup, type NetnsTarget } from "./netns.ts";
export {
  attachSockMap,
  SockMapAttachment,
  type SockMapAttachType,
  type SockMapLike,
  type SockMapOptions,
} from "./sockmap.ts";
export { attachStructOps, type StructOpsMapLike } from "./struct_ops.ts";
export { attachNetkit, type NetkitSide } from "./netkit.ts";
export { attachIter, IterLink, IterReader, readIter } from "./iter.ts";
export type { AttachableProgram } from "./os.ts";
export type { BpfError } from "../errors.ts";
