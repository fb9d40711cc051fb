// The helper tables: prototypes, per-type availability (also against the kernel snapshot in
// tests/fixtures/helper_probe.json, without a kernel), privilege levels, config and attach types.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import {
  BUILTIN_PROG_TYPES,
  DEFAULT_KERNEL_CONFIG,
  funcProtoOf,
  getProgType,
  type KernelConfig,
  type LoadContext,
  parseKernelConfig,
  PROTOS,
} from "../lib/progtype/mod.ts";
import { AttachType } from "../types/attach_type.ts";
import { HELPER_COUNT, HELPER_NAMES, HelperId } from "../types/helpers.ts";
import { checkProgram } from "../lib/check/mod.ts";
import { callProgram, PROBE_VARIANTS } from "../scripts/probe_helpers.ts";
import { repoRoot } from "./util.ts";

const GPL: LoadContext = { license: "GPL", gplCompatible: true, privileged: true };
const proto = (type: string, helper: keyof typeof HelperId, ctx: Partial<LoadContext> = {}) =>
  getProgType(type)!.ops.getFuncProto(HelperId[helper], { ...GPL, ...ctx });

test("prototypes carry the kernel's gpl_only, return and argument types", () => {
  const lookup = proto("xdp", "map_lookup_elem")!;
  assert.equal(lookup.name, "bpf_map_lookup_elem");
  assert.equal(lookup.id, 1);
  assert.equal(lookup.gplOnly, false);
  assert.equal(lookup.ret, "RET_PTR_TO_MAP_VALUE_OR_NULL");
  assert.deepEqual(lookup.args, ["ARG_CONST_MAP_PTR", "ARG_PTR_TO_MAP_KEY"]);
  const printk = proto("kprobe", "trace_printk")!;
  assert.equal(printk.gplOnly, true);
  assert.deepEqual(printk.args, ["ARG_PTR_TO_MEM", "ARG_CONST_SIZE"]);
  assert.deepEqual(printk.argFlags, [["MEM_RDONLY"], []]);
  const update = proto("socket_filter", "map_update_elem")!;
  assert.deepEqual(update.args, [
    "ARG_CONST_MAP_PTR",
    "ARG_PTR_TO_MAP_KEY",
    "ARG_PTR_TO_MAP_VALUE",
    "ARG_ANYTHING",
  ]);
  assert.equal(proto("sched_cls", "redirect")!.ret, "RET_INTEGER");
  assert.equal(proto("sched_cls", "sk_lookup_tcp")!.ret, "RET_PTR_TO_SOCKET_OR_NULL");
  assert.equal(proto("kprobe", "probe_read_kernel")!.gplOnly, true);
  assert.equal(
    proto("tracing", "copy_from_user", {
      expectedAttachType: AttachType.TRACE_ITER,
      sleepable: true,
    })!
      .mightSleep,
    true,
  );
  assert.equal(proto("xdp", "tail_call")!.ret, "RET_VOID");
  // Every table entry parses into known type names.
  for (const sym of Object.keys(PROTOS)) {
    const p = funcProtoOf(1, sym);
    assert.match(p.ret, /^RET_[A-Z_]+$/);
    for (const a of p.args) assert.match(a, /^ARG_[A-Z_]+$/, `${sym}: ${a}`);
  }
  assert.throws(
    () => funcProtoOf(1, "bpf_no_such_proto"),
    /no helper prototype named bpf_no_such_proto/,
  );
});

test("one helper, several prototypes: picked per program type as the kernel does", () => {
  assert.equal(proto("kprobe", "get_stackid")!.proto, "bpf_get_stackid_proto");
  assert.equal(proto("tracepoint", "get_stackid")!.proto, "bpf_get_stackid_proto_tp");
  assert.equal(proto("perf_event", "get_stackid")!.proto, "bpf_get_stackid_proto_pe");
  assert.equal(proto("raw_tracepoint", "get_stackid")!.proto, "bpf_get_stackid_proto_raw_tp");
  assert.equal(proto("socket_filter", "perf_event_output")!.proto, "bpf_skb_event_output_proto");
  assert.equal(proto("xdp", "perf_event_output")!.proto, "bpf_xdp_event_output_proto");
  assert.equal(proto("cgroup_sock", "perf_event_output")!.proto, "bpf_event_output_data_proto");
  assert.equal(
    proto("tracing", "skb_output", { expectedAttachType: AttachType.TRACE_RAW_TP })!.proto,
    "bpf_skb_output_proto",
  );
  assert.equal(proto("kprobe", "skb_output"), undefined);
  assert.equal(proto("kprobe", "get_func_ip")!.proto, "bpf_get_func_ip_proto_kprobe");
  assert.equal(
    proto("kprobe", "get_func_ip", { expectedAttachType: AttachType.TRACE_KPROBE_MULTI })!.proto,
    "bpf_get_func_ip_proto_kprobe_multi",
  );
  assert.equal(
    proto("kprobe", "get_attach_cookie", { expectedAttachType: AttachType.TRACE_UPROBE_MULTI })!
      .proto,
    "bpf_get_attach_cookie_proto_umulti",
  );
  assert.equal(
    proto("kprobe", "get_stack", { sleepable: true })!.proto,
    "bpf_get_stack_sleepable_proto",
  );
  assert.equal(proto("sk_skb", "skb_pull_data")!.proto, "sk_skb_pull_data_proto");
  assert.equal(proto("sched_cls", "get_smp_processor_id")!.proto, "bpf_get_smp_processor_id_proto");
  assert.equal(
    proto("socket_filter", "get_smp_processor_id")!.proto,
    "bpf_get_raw_smp_processor_id_proto",
  );
  assert.equal(
    proto("tracing", "task_storage_get", { expectedAttachType: AttachType.TRACE_ITER })!.proto,
    "bpf_task_storage_get_proto",
  );
  assert.equal(proto("tracepoint", "task_storage_get")!.proto, "bpf_task_storage_get_recur_proto");
});

test("attach-type dependent helpers (cgroup hooks, iterators, LSM, struct_ops)", () => {
  const addr = (eat: number, h: keyof typeof HelperId) =>
    proto("cgroup_sock_addr", h, { expectedAttachType: eat });
  assert.ok(addr(AttachType.CGROUP_INET4_CONNECT, "bind"));
  assert.equal(addr(AttachType.CGROUP_INET4_BIND, "bind"), undefined);
  assert.ok(addr(AttachType.CGROUP_UNIX_GETPEERNAME, "setsockopt"));
  assert.equal(addr(AttachType.CGROUP_INET4_GETPEERNAME, "set_retval"), undefined);
  assert.ok(addr(AttachType.CGROUP_INET4_BIND, "set_retval"));
  assert.equal(proto("cgroup_skb", "get_retval"), undefined);
  assert.ok(
    proto("cgroup_sockopt", "setsockopt", { expectedAttachType: AttachType.CGROUP_SETSOCKOPT }),
  );
  assert.equal(
    proto("cgroup_sockopt", "setsockopt", { expectedAttachType: AttachType.CGROUP_GETSOCKOPT }),
    undefined,
  );
  const iter = (target: string) =>
    proto("tracing", "setsockopt", { expectedAttachType: AttachType.TRACE_ITER, attachTo: target });
  assert.ok(iter("tcp"));
  assert.ok(iter("unix"));
  assert.equal(iter("task"), undefined);
  assert.ok(proto("tracing", "seq_printf", { expectedAttachType: AttachType.TRACE_ITER }));
  assert.equal(
    proto("tracing", "seq_printf", { expectedAttachType: AttachType.TRACE_RAW_TP }),
    undefined,
  );
  assert.ok(proto("tracing", "get_func_arg", { expectedAttachType: AttachType.TRACE_FENTRY }));
  assert.equal(
    proto("tracing", "get_func_arg", { expectedAttachType: AttachType.TRACE_RAW_TP }),
    undefined,
  );
  const lsmCg = (hook: string) =>
    proto("lsm", "setsockopt", { expectedAttachType: AttachType.LSM_CGROUP, attachTo: hook })
      ?.proto;
  assert.equal(lsmCg("socket_post_create"), "bpf_unlocked_sk_setsockopt_proto");
  assert.equal(lsmCg("sock_graft"), "bpf_sk_setsockopt_proto");
  assert.equal(lsmCg("file_open"), undefined);
  assert.ok(proto("lsm", "bprm_opts_set", { expectedAttachType: AttachType.LSM_MAC }));
  assert.ok(proto("struct_ops", "setsockopt", { attachTo: "tcp_congestion_ops.cong_avoid" }));
  assert.equal(
    proto("struct_ops", "setsockopt", { attachTo: "tcp_congestion_ops.release" }),
    undefined,
  );
  assert.equal(
    proto("struct_ops", "ktime_get_ns", { attachTo: "bpf_dummy_ops.test_1" }),
    undefined,
  );
  // ext takes the helpers of the program it replaces.
  assert.ok(proto("ext", "xdp_adjust_head", { attachTo: "xdp" }));
  assert.equal(proto("ext", "xdp_adjust_head", { attachTo: "socket_filter" }), undefined);
});

test("privilege levels of bpf_base_func_proto(): unprivileged, CAP_BPF, CAP_PERFMON", () => {
  const sf = (h: keyof typeof HelperId, caps: LoadContext["capabilities"]) =>
    getProgType("socket_filter")!.ops.getFuncProto(HelperId[h], {
      ...GPL,
      privileged: false,
      capabilities: caps,
    });
  assert.ok(sf("map_lookup_elem", {}));
  assert.ok(sf("get_current_uid_gid", {}));
  assert.equal(sf("spin_lock", {}), undefined);
  assert.ok(sf("spin_lock", { bpf: true }));
  assert.ok(sf("task_storage_get", { bpf: true }));
  assert.equal(sf("trace_printk", { bpf: true }), undefined);
  assert.ok(sf("trace_printk", { bpf: true, perfmon: true }));
  assert.equal(
    sf("skc_to_tcp_sock", { bpf: true }),
    undefined,
    "bpf_sk_base_func_proto needs CAP_PERFMON for casts",
  );
  assert.ok(sf("skc_to_tcp_sock", { perfmon: true }));
  assert.ok(sf("trace_printk", { sysAdmin: true }), "CAP_SYS_ADMIN implies the others");
  const kp = (ctx: Partial<LoadContext>) => proto("kprobe", "probe_write_user", ctx);
  assert.ok(kp({}));
  assert.equal(
    kp({ capabilities: { sysAdmin: false } }),
    undefined,
    "probe_write_user needs CAP_SYS_ADMIN",
  );
});

test("kernel configuration and lockdown", () => {
  const cfg = (over: Partial<KernelConfig>) => ({ ...DEFAULT_KERNEL_CONFIG, ...over });
  assert.ok(proto("kprobe", "override_return"));
  assert.equal(
    proto("kprobe", "override_return", { config: cfg({ BPF_KPROBE_OVERRIDE: false }) }),
    undefined,
  );
  assert.equal(
    proto("sched_cls", "skb_get_xfrm_state", { config: cfg({ XFRM: false }) }),
    undefined,
  );
  assert.equal(
    proto("kprobe", "probe_write_user", { config: cfg({ LOCKDOWN: "integrity" }) }),
    undefined,
  );
  assert.ok(proto("kprobe", "probe_read_kernel", { config: cfg({ LOCKDOWN: "integrity" }) }));
  assert.equal(
    proto("kprobe", "probe_read_kernel", { config: cfg({ LOCKDOWN: "confidentiality" }) }),
    undefined,
  );
  const parsed = parseKernelConfig(
    "CONFIG_NET=y\nCONFIG_INET=y\n# CONFIG_XFRM is not set\nCONFIG_SECURITY_LOCKDOWN_LSM=y\nCONFIG_LOCK_DOWN_KERNEL_FORCE_INTEGRITY=y\n",
  );
  assert.equal(parsed.NET, true);
  assert.equal(parsed.XFRM, false);
  assert.equal(parsed.LOCKDOWN, "integrity");
  assert.equal(parseKernelConfig("", "confidentiality").LOCKDOWN, "confidentiality");
  assert.equal(
    parseKernelConfig(
      "CONFIG_SECURITY_LOCKDOWN_LSM=y\nCONFIG_LOCK_DOWN_KERNEL_FORCE_INTEGRITY=y\n",
      "none",
    ).LOCKDOWN,
    "integrity",
  );
  assert.deepEqual(getProgType("lirc_mode2")!.requiresConfig, ["BPF_LIRC_MODE2"]);
  assert.deepEqual(getProgType("socket_filter")!.requiresConfig, ["NET"]);
});

test("helper ids beyond the kernel's table are not offered by any type", () => {
  for (const def of BUILTIN_PROG_TYPES) {
    assert.equal(def.ops.getFuncProto(HELPER_COUNT, GPL), undefined);
    assert.equal(def.ops.getFuncProto(-1, GPL), undefined);
    assert.equal(def.ops.getFuncProto(0, GPL), undefined, `${def.name} offers bpf_unspec`);
  }
});

interface Snapshot {
  kernel: string;
  helperCount: number;
  config: KernelConfig;
  variants: Record<string, { status: string; available?: string[] }>;
}

const snapshot = JSON.parse(
  readFileSync(join(repoRoot, "tests", "fixtures", "helper_probe.json"), "utf8"),
) as Snapshot;

test("the tables reproduce the recorded probe of Linux 6.18 (no kernel needed)", () => {
  assert.equal(snapshot.helperCount, HELPER_COUNT);
  let compared = 0;
  const diffs: string[] = [];
  for (const v of PROBE_VARIANTS) {
    const rec = snapshot.variants[v.label];
    assert.ok(rec, `snapshot has ${v.label}`);
    if (rec.status !== "ok") continue;
    const available = new Set(rec.available);
    // A struct_ops member is named by attachTo; its index (the attach type) needs the live BTF.
    const eat = v.member !== undefined ? undefined : v.expectedAttachType;
    for (let id = 0; id < HELPER_COUNT; id++) {
      const findings = checkProgram({
        type: v.type,
        insns: callProgram(id),
        license: "GPL",
        ...(eat !== undefined ? { expectedAttachType: eat } : {}),
        ...(v.flags !== undefined ? { flags: v.flags } : {}),
        ...(v.attachTo !== undefined ? { attachTo: v.attachTo } : {}),
        kernelConfig: snapshot.config,
      });
      const mine = !findings.some((f) =>
        f.code === "helper-unavailable" || f.code === "invalid-func"
      );
      compared++;
      if (mine !== available.has(HELPER_NAMES[id])) {
        diffs.push(`${v.label} × ${HELPER_NAMES[id]}#${id}`);
      }
    }
  }
  assert.deepEqual(diffs, []);
  assert.ok(compared > 12_000, `compared ${compared}`);
});
