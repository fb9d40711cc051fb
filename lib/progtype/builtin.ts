/**
 * The built-in program types of Linux 6.18 (`include/linux/bpf_types.h`), each with its libbpf
 * `SEC()` conventions, the attach types `bpf_prog_load_check_attach()` accepts and its verifier
 * ops.
 *
 * @module
 */
import { AttachType as A } from "../../types/attach_type.ts";
import { ProgType as T } from "../../types/prog_type.ts";
import type { ProtoFn } from "./dsl.ts";
import { opsFromProtoFn } from "./proto_resolve.ts";
import { KERNEL_FUNC_PROTOS as F } from "./get_func_proto.ts";
import type { ExpectedAttach, ProgTypeDef, ProgTypeOps, SectionPrefix } from "./types.ts";
import type { KernelConfig } from "./kconfig.ts";

type Sec = SectionPrefix;

/** A section that names its target after a `/` (libbpf's `"name+"`). */
function sec(prefix: string, more: Partial<Sec> = {}): Sec {
  return { prefix, attachTypeAtLoad: "none", ...more };
}

function att(types: readonly number[], requiredAtLoad: boolean): ExpectedAttach[] {
  return types.map((type) => ({ type, requiredAtLoad }));
}

interface Spec {
  type: number;
  name: string;
  fn?: ProtoFn;
  makeOps?: (self: number) => ProgTypeOps;
  sections: Sec[];
  attach?: ExpectedAttach[];
  enforced?: boolean;
  defaultAttach?: number;
  config?: (keyof KernelConfig)[];
}

const CGROUP_SOCK_ADDR_SECTIONS: [string, number][] = [
  ["cgroup/bind4", A.CGROUP_INET4_BIND],
  ["cgroup/bind6", A.CGROUP_INET6_BIND],
  ["cgroup/connect4", A.CGROUP_INET4_CONNECT],
  ["cgroup/connect6", A.CGROUP_INET6_CONNECT],
  ["cgroup/connect_unix", A.CGROUP_UNIX_CONNECT],
  ["cgroup/sendmsg4", A.CGROUP_UDP4_SENDMSG],
  ["cgroup/sendmsg6", A.CGROUP_UDP6_SENDMSG],
  ["cgroup/sendmsg_unix", A.CGROUP_UNIX_SENDMSG],
  ["cgroup/recvmsg4", A.CGROUP_UDP4_RECVMSG],
  ["cgroup/recvmsg6", A.CGROUP_UDP6_RECVMSG],
  ["cgroup/recvmsg_unix", A.CGROUP_UNIX_RECVMSG],
  ["cgroup/getpeername4", A.CGROUP_INET4_GETPEERNAME],
  ["cgroup/getpeername6", A.CGROUP_INET6_GETPEERNAME],
  ["cgroup/getpeername_unix", A.CGROUP_UNIX_GETPEERNAME],
  ["cgroup/getsockname4", A.CGROUP_INET4_GETSOCKNAME],
  ["cgroup/getsockname6", A.CGROUP_INET6_GETSOCKNAME],
  ["cgroup/getsockname_unix", A.CGROUP_UNIX_GETSOCKNAME],
];

const KPROBE_SECTIONS: Sec[] = [
  sec("kprobe", { takesTarget: true }),
  sec("kretprobe", { takesTarget: true }),
  sec("uprobe", { takesTarget: true }),
  sec("uretprobe", { takesTarget: true }),
  sec("uprobe.s", { takesTarget: true, sleepable: true }),
  sec("uretprobe.s", { takesTarget: true, sleepable: true }),
  sec("ksyscall", { takesTarget: true }),
  sec("kretsyscall", { takesTarget: true }),
  sec("usdt", { takesTarget: true }),
  sec("usdt.s", { takesTarget: true, sleepable: true }),
  ...(
    [
      ["kprobe.multi", A.TRACE_KPROBE_MULTI, false],
      ["kretprobe.multi", A.TRACE_KPROBE_MULTI, false],
      ["kprobe.session", A.TRACE_KPROBE_SESSION, false],
      ["uprobe.multi", A.TRACE_UPROBE_MULTI, false],
      ["uretprobe.multi", A.TRACE_UPROBE_MULTI, false],
      ["uprobe.multi.s", A.TRACE_UPROBE_MULTI, true],
      ["uretprobe.multi.s", A.TRACE_UPROBE_MULTI, true],
      ["uprobe.session", A.TRACE_UPROBE_SESSION, false],
      ["uprobe.session.s", A.TRACE_UPROBE_SESSION, true],
    ] as const
  ).map(([prefix, eat, sleepable]) =>
    sec(prefix, {
      takesTarget: true,
      expectedAttachType: eat,
      attachTypeAtLoad: "required",
      ...(sleepable ? { sleepable } : {}),
    })
  ),
];

const TRACING_SECTIONS: Sec[] = [
  sec("tp_btf", {
    takesTarget: true,
    expectedAttachType: A.TRACE_RAW_TP,
    attachTypeAtLoad: "required",
    attachBtf: true,
  }),
  ...(
    [
      ["fentry", A.TRACE_FENTRY, false],
      ["fmod_ret", A.MODIFY_RETURN, false],
      ["fexit", A.TRACE_FEXIT, false],
      ["fentry.s", A.TRACE_FENTRY, true],
      ["fmod_ret.s", A.MODIFY_RETURN, true],
      ["fexit.s", A.TRACE_FEXIT, true],
      ["iter", A.TRACE_ITER, false],
      ["iter.s", A.TRACE_ITER, true],
    ] as const
  ).map(([prefix, eat, sleepable]) =>
    sec(prefix, {
      takesTarget: true,
      expectedAttachType: eat,
      attachTypeAtLoad: "required",
      attachBtf: true,
      ...(sleepable ? { sleepable } : {}),
    })
  ),
];

const SPECS: Spec[] = [
  {
    type: T.SOCKET_FILTER,
    name: "socket_filter",
    fn: F.skFilterFuncProto,
    sections: [sec("socket")],
  },
  {
    type: T.KPROBE,
    name: "kprobe",
    fn: F.kprobeFuncProto,
    sections: KPROBE_SECTIONS,
    attach: att([
      A.TRACE_KPROBE_MULTI,
      A.TRACE_KPROBE_SESSION,
      A.TRACE_UPROBE_MULTI,
      A.TRACE_UPROBE_SESSION,
    ], true),
    config: ["BPF_EVENTS"],
  },
  {
    type: T.SCHED_CLS,
    name: "sched_cls",
    fn: F.tcClsActFuncProto,
    sections: [
      sec("tc/ingress", { expectedAttachType: A.TCX_INGRESS }),
      sec("tc/egress", { expectedAttachType: A.TCX_EGRESS }),
      sec("tcx/ingress", { expectedAttachType: A.TCX_INGRESS }),
      sec("tcx/egress", { expectedAttachType: A.TCX_EGRESS }),
      sec("netkit/primary", { expectedAttachType: A.NETKIT_PRIMARY }),
      sec("netkit/peer", { expectedAttachType: A.NETKIT_PEER }),
      sec("tc"),
      sec("classifier"),
    ],
    attach: att([A.TCX_INGRESS, A.TCX_EGRESS, A.NETKIT_PRIMARY, A.NETKIT_PEER], false),
  },
  { type: T.SCHED_ACT, name: "sched_act", fn: F.tcClsActFuncProto, sections: [sec("action")] },
  {
    type: T.TRACEPOINT,
    name: "tracepoint",
    fn: F.tpFuncProto,
    sections: [sec("tracepoint", { takesTarget: true }), sec("tp", { takesTarget: true })],
    config: ["BPF_EVENTS"],
  },
  {
    type: T.XDP,
    name: "xdp",
    fn: F.xdpFuncProto,
    sections: [
      sec("xdp.frags/devmap", {
        expectedAttachType: A.XDP_DEVMAP,
        attachTypeAtLoad: "required",
        xdpFrags: true,
      }),
      sec("xdp/devmap", { expectedAttachType: A.XDP_DEVMAP, attachTypeAtLoad: "required" }),
      sec("xdp.frags/cpumap", {
        expectedAttachType: A.XDP_CPUMAP,
        attachTypeAtLoad: "required",
        xdpFrags: true,
      }),
      sec("xdp/cpumap", { expectedAttachType: A.XDP_CPUMAP, attachTypeAtLoad: "required" }),
      sec("xdp.frags", { expectedAttachType: A.XDP, attachTypeAtLoad: "required", xdpFrags: true }),
      sec("xdp", { expectedAttachType: A.XDP, attachTypeAtLoad: "optional" }),
    ],
    attach: [
      { type: A.XDP, requiredAtLoad: false },
      { type: A.XDP_DEVMAP, requiredAtLoad: true },
      { type: A.XDP_CPUMAP, requiredAtLoad: true },
    ],
  },
  {
    type: T.PERF_EVENT,
    name: "perf_event",
    fn: F.peFuncProto,
    sections: [sec("perf_event")],
    config: ["BPF_EVENTS"],
  },
  {
    type: T.CGROUP_SKB,
    name: "cgroup_skb",
    fn: F.cgSkbFuncProto,
    sections: [
      sec("cgroup_skb/ingress", {
        expectedAttachType: A.CGROUP_INET_INGRESS,
        attachTypeAtLoad: "optional",
      }),
      sec("cgroup_skb/egress", {
        expectedAttachType: A.CGROUP_INET_EGRESS,
        attachTypeAtLoad: "optional",
      }),
      sec("cgroup/skb"),
    ],
    attach: att([A.CGROUP_INET_INGRESS, A.CGROUP_INET_EGRESS], false),
    enforced: true,
    config: ["CGROUP_BPF"],
  },
  {
    type: T.CGROUP_SOCK,
    name: "cgroup_sock",
    fn: F.sockFilterFuncProto,
    sections: [
      sec("cgroup/sock_create", {
        expectedAttachType: A.CGROUP_INET_SOCK_CREATE,
        attachTypeAtLoad: "required",
      }),
      sec("cgroup/sock_release", {
        expectedAttachType: A.CGROUP_INET_SOCK_RELEASE,
        attachTypeAtLoad: "required",
      }),
      sec("cgroup/sock", {
        expectedAttachType: A.CGROUP_INET_SOCK_CREATE,
        attachTypeAtLoad: "optional",
      }),
      sec("cgroup/post_bind4", {
        expectedAttachType: A.CGROUP_INET4_POST_BIND,
        attachTypeAtLoad: "required",
      }),
      sec("cgroup/post_bind6", {
        expectedAttachType: A.CGROUP_INET6_POST_BIND,
        attachTypeAtLoad: "required",
      }),
    ],
    attach: [
      { type: A.CGROUP_INET_SOCK_CREATE, requiredAtLoad: false },
      ...att(
        [A.CGROUP_INET_SOCK_RELEASE, A.CGROUP_INET4_POST_BIND, A.CGROUP_INET6_POST_BIND],
        true,
      ),
    ],
    enforced: true,
    defaultAttach: A.CGROUP_INET_SOCK_CREATE,
    config: ["CGROUP_BPF"],
  },
  { type: T.LWT_IN, name: "lwt_in", fn: F.lwtInFuncProto, sections: [sec("lwt_in")] },
  { type: T.LWT_OUT, name: "lwt_out", fn: F.lwtOutFuncProto, sections: [sec("lwt_out")] },
  { type: T.LWT_XMIT, name: "lwt_xmit", fn: F.lwtXmitFuncProto, sections: [sec("lwt_xmit")] },
  {
    type: T.SOCK_OPS,
    name: "sock_ops",
    fn: F.sockOpsFuncProto,
    sections: [
      sec("sockops", { expectedAttachType: A.CGROUP_SOCK_OPS, attachTypeAtLoad: "optional" }),
    ],
    attach: att([A.CGROUP_SOCK_OPS], false),
  },
  {
    type: T.SK_SKB,
    name: "sk_skb",
    fn: F.skSkbFuncProto,
    sections: [
      sec("sk_skb/stream_parser", {
        expectedAttachType: A.SK_SKB_STREAM_PARSER,
        attachTypeAtLoad: "optional",
      }),
      sec("sk_skb/stream_verdict", {
        expectedAttachType: A.SK_SKB_STREAM_VERDICT,
        attachTypeAtLoad: "optional",
      }),
      sec("sk_skb/verdict", { expectedAttachType: A.SK_SKB_VERDICT, attachTypeAtLoad: "optional" }),
      sec("sk_skb"),
    ],
    attach: att([A.SK_SKB_STREAM_PARSER, A.SK_SKB_STREAM_VERDICT, A.SK_SKB_VERDICT], false),
  },
  {
    type: T.CGROUP_DEVICE,
    name: "cgroup_device",
    fn: F.cgroupDevFuncProto,
    sections: [
      sec("cgroup/dev", { expectedAttachType: A.CGROUP_DEVICE, attachTypeAtLoad: "optional" }),
    ],
    attach: att([A.CGROUP_DEVICE], false),
    config: ["CGROUP_BPF"],
  },
  {
    type: T.SK_MSG,
    name: "sk_msg",
    fn: F.skMsgFuncProto,
    sections: [
      sec("sk_msg", { expectedAttachType: A.SK_MSG_VERDICT, attachTypeAtLoad: "optional" }),
    ],
    attach: att([A.SK_MSG_VERDICT], false),
  },
  {
    type: T.RAW_TRACEPOINT,
    name: "raw_tracepoint",
    fn: F.rawTpFuncProto,
    sections: [sec("raw_tracepoint", { takesTarget: true }), sec("raw_tp", { takesTarget: true })],
    config: ["BPF_EVENTS"],
  },
  {
    type: T.CGROUP_SOCK_ADDR,
    name: "cgroup_sock_addr",
    fn: F.sockAddrFuncProto,
    sections: CGROUP_SOCK_ADDR_SECTIONS.map(([prefix, eat]) =>
      sec(prefix, { expectedAttachType: eat, attachTypeAtLoad: "required" })
    ),
    attach: att(CGROUP_SOCK_ADDR_SECTIONS.map(([, eat]) => eat), true),
    enforced: true,
    config: ["CGROUP_BPF"],
  },
  {
    type: T.LWT_SEG6LOCAL,
    name: "lwt_seg6local",
    fn: F.lwtSeg6localFuncProto,
    sections: [sec("lwt_seg6local")],
  },
  {
    type: T.LIRC_MODE2,
    name: "lirc_mode2",
    fn: F.lircMode2FuncProto,
    sections: [
      sec("lirc_mode2", { expectedAttachType: A.LIRC_MODE2, attachTypeAtLoad: "optional" }),
    ],
    attach: att([A.LIRC_MODE2], false),
    config: ["BPF_LIRC_MODE2"],
  },
  {
    type: T.SK_REUSEPORT,
    name: "sk_reuseport",
    fn: F.skReuseportFuncProto,
    sections: [
      sec("sk_reuseport/migrate", {
        expectedAttachType: A.SK_REUSEPORT_SELECT_OR_MIGRATE,
        attachTypeAtLoad: "required",
      }),
      sec("sk_reuseport", {
        expectedAttachType: A.SK_REUSEPORT_SELECT,
        attachTypeAtLoad: "required",
      }),
    ],
    attach: [
      { type: A.SK_REUSEPORT_SELECT, requiredAtLoad: false },
      { type: A.SK_REUSEPORT_SELECT_OR_MIGRATE, requiredAtLoad: true },
    ],
    enforced: true,
    defaultAttach: A.SK_REUSEPORT_SELECT,
    config: ["INET"],
  },
  {
    type: T.FLOW_DISSECTOR,
    name: "flow_dissector",
    fn: F.flowDissectorFuncProto,
    sections: [
      sec("flow_dissector", { expectedAttachType: A.FLOW_DISSECTOR, attachTypeAtLoad: "optional" }),
    ],
    attach: att([A.FLOW_DISSECTOR], false),
  },
  {
    type: T.CGROUP_SYSCTL,
    name: "cgroup_sysctl",
    fn: F.sysctlFuncProto,
    sections: [
      sec("cgroup/sysctl", { expectedAttachType: A.CGROUP_SYSCTL, attachTypeAtLoad: "required" }),
    ],
    attach: att([A.CGROUP_SYSCTL], false),
    config: ["CGROUP_BPF"],
  },
  {
    type: T.RAW_TRACEPOINT_WRITABLE,
    name: "raw_tracepoint_writable",
    fn: F.rawTpFuncProto,
    sections: [
      sec("raw_tracepoint.w", { takesTarget: true }),
      sec("raw_tp.w", { takesTarget: true }),
    ],
    config: ["BPF_EVENTS"],
  },
  {
    type: T.CGROUP_SOCKOPT,
    name: "cgroup_sockopt",
    fn: F.cgSockoptFuncProto,
    sections: [
      sec("cgroup/getsockopt", {
        expectedAttachType: A.CGROUP_GETSOCKOPT,
        attachTypeAtLoad: "required",
      }),
      sec("cgroup/setsockopt", {
        expectedAttachType: A.CGROUP_SETSOCKOPT,
        attachTypeAtLoad: "required",
      }),
    ],
    attach: att([A.CGROUP_GETSOCKOPT, A.CGROUP_SETSOCKOPT], true),
    enforced: true,
    config: ["CGROUP_BPF"],
  },
  {
    type: T.TRACING,
    name: "tracing",
    fn: F.tracingProgFuncProto,
    sections: TRACING_SECTIONS,
    attach: att(
      [A.TRACE_RAW_TP, A.TRACE_FENTRY, A.TRACE_FEXIT, A.MODIFY_RETURN, A.TRACE_ITER],
      true,
    ),
    config: ["BPF_EVENTS"],
  },
  {
    type: T.STRUCT_OPS,
    name: "struct_ops",
    fn: F.structOpsFuncProto,
    sections: [
      sec("struct_ops", { takesTarget: true }),
      sec("struct_ops.s", { takesTarget: true, sleepable: true }),
    ],
    config: ["BPF_JIT"],
  },
  {
    type: T.EXT,
    name: "ext",
    makeOps: extOps,
    sections: [sec("freplace", { takesTarget: true, attachBtf: true })],
    enforced: true,
    config: ["BPF_JIT"],
  },
  {
    type: T.LSM,
    name: "lsm",
    fn: F.lsmFuncProto,
    sections: [
      sec("lsm", {
        takesTarget: true,
        expectedAttachType: A.LSM_MAC,
        attachTypeAtLoad: "required",
        attachBtf: true,
      }),
      sec("lsm.s", {
        takesTarget: true,
        expectedAttachType: A.LSM_MAC,
        attachTypeAtLoad: "required",
        attachBtf: true,
        sleepable: true,
      }),
      sec("lsm_cgroup", {
        takesTarget: true,
        expectedAttachType: A.LSM_CGROUP,
        attachTypeAtLoad: "required",
        attachBtf: true,
      }),
    ],
    attach: att([A.LSM_MAC, A.LSM_CGROUP], true),
    config: ["BPF_JIT", "BPF_LSM"],
  },
  {
    type: T.SK_LOOKUP,
    name: "sk_lookup",
    fn: F.skLookupFuncProto,
    sections: [sec("sk_lookup", { expectedAttachType: A.SK_LOOKUP, attachTypeAtLoad: "required" })],
    attach: att([A.SK_LOOKUP], true),
    enforced: true,
    config: ["INET"],
  },
  {
    type: T.SYSCALL,
    name: "syscall",
    fn: F.syscallFuncProto,
    sections: [sec("syscall", { sleepable: true })],
    enforced: true,
  },
  {
    type: T.NETFILTER,
    name: "netfilter",
    fn: F.nfFuncProto,
    sections: [sec("netfilter", { expectedAttachType: A.NETFILTER, attachTypeAtLoad: "required" })],
    attach: att([A.NETFILTER], true),
    enforced: true,
    config: ["NETFILTER_BPF_LINK"],
  },
];

/** The types whose prototype functions an `ext` program may take (all but `ext` itself). */
let extTargets: Map<string, ProgTypeOps> | undefined;

/**
 * `ext` programs take the verifier ops of the program they replace (`resolve_prog_type()`):
 * `ctx.attachTo` names that program's type. Without it, any helper some type offers is accepted.
 */
function extOps(self: number): ProgTypeOps {
  return {
    getFuncProto(helperId, ctx) {
      if (extTargets === undefined) {
        extTargets = new Map();
        for (const d of BUILTIN_PROG_TYPES) if (d.type !== self) extTargets.set(d.name, d.ops);
      }
      if (ctx.attachTo !== undefined) {
        return extTargets.get(ctx.attachTo)?.getFuncProto(helperId, ctx);
      }
      for (const ops of extTargets.values()) {
        const p = ops.getFuncProto(helperId, ctx);
        if (p !== undefined) return p;
      }
      return undefined;
    },
  };
}

/** Every networking type needs `CONFIG_NET`. */
const NET_TYPES = new Set<number>([
  T.SOCKET_FILTER,
  T.SCHED_CLS,
  T.SCHED_ACT,
  T.XDP,
  T.CGROUP_SKB,
  T.CGROUP_SOCK,
  T.CGROUP_SOCK_ADDR,
  T.LWT_IN,
  T.LWT_OUT,
  T.LWT_XMIT,
  T.LWT_SEG6LOCAL,
  T.SOCK_OPS,
  T.SK_SKB,
  T.SK_MSG,
  T.FLOW_DISSECTOR,
]);

/**
 * The built-in program type definitions of Linux 6.18, in `enum bpf_prog_type` order.
 *
 * @example
 * ```ts
 * import { BUILTIN_PROG_TYPES } from "@tsbpf/core/progtype";
 * BUILTIN_PROG_TYPES.length; // 32
 * ```
 */
export const BUILTIN_PROG_TYPES: readonly ProgTypeDef[] = Object.freeze(
  SPECS.map((s): ProgTypeDef => {
    const ops = s.makeOps ? s.makeOps(s.type) : opsFromProtoFn(s.type, s.fn!);
    const config = [...(NET_TYPES.has(s.type) ? ["NET" as const] : []), ...(s.config ?? [])];
    return Object.freeze({
      type: s.type,
      name: s.name,
      sectionPrefixes: Object.freeze(s.sections.map((x) => Object.freeze(x))),
      expectedAttachTypes: Object.freeze(s.attach ?? []),
      ...(s.enforced ? { attachTypeEnforced: true } : {}),
      ...(s.defaultAttach !== undefined ? { defaultAttachType: s.defaultAttach } : {}),
      ...(config.length ? { requiresConfig: Object.freeze(config) } : {}),
      ops,
    });
  }),
);
