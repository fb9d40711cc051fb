/**
 * Asks the running kernel which helpers each program type may call: for every (program type,
 * attach variant, helper id) it loads the minimal program
 *
 * ```
 * r1 = 0; r2 = 0; r3 = 0; r4 = 0; r5 = 0; call N; r0 = 0; exit
 * ```
 *
 * (GPL license, privileged, `check: false`) and reads the verifier log: `invalid func` means the id
 * does not exist, `program of this type cannot use helper` means the type does not offer it;
 * acceptance, or any later complaint (about the zero arguments, typically), means it does.
 *
 * Types that need an attach target get one from the vmlinux BTF (BTF tracepoints, iterators,
 * struct_ops, LSM). Where the kernel refuses even a trivial program of a variant (here: `fentry`,
 * `fexit`, `fmod_ret`, `lsm`, `freplace` — `EPERM`), the variant is recorded as not probeable.
 *
 * Usage: `deno run -A scripts/probe_helpers.ts [--out tests/fixtures/helper_probe.json]`
 * (or `bun scripts/probe_helpers.ts …`).
 *
 * @module
 */
import { readFileSync, writeFileSync } from "node:fs";
import { gunzipSync } from "node:zlib";
import { AttachType as A } from "../types/attach_type.ts";
import { HELPER_COUNT, HELPER_NAMES } from "../types/helpers.ts";
import { parseBtf } from "../lib/btf/mod.ts";
import type { Btf } from "../lib/btf/mod.ts";
import { BpfError, VerifierError } from "../lib/errors.ts";
import type { Insn } from "../lib/insn/insn.ts";
import { Program } from "../lib/program/program.ts";
import { type KernelConfig, parseKernelConfig } from "../lib/progtype/kconfig.ts";

/** `BPF_F_SLEEPABLE`. */
const SLEEPABLE = 1 << 4;

/**
 * One load configuration probed for every helper id.
 *
 * @example
 * ```ts
 * const v: ProbeVariant = { label: "xdp/devmap", type: "xdp", expectedAttachType: 33 };
 * ```
 */
export interface ProbeVariant {
  /** Label, e.g. `"cgroup_sock_addr/connect4"`. */
  label: string;
  /** Program type name. */
  type: string;
  /** `expected_attach_type`. */
  expectedAttachType?: number;
  /** `prog_flags`. */
  flags?: number;
  /** BTF attach target (kind and name in vmlinux BTF). */
  btf?: { kind: "typedef" | "func" | "struct"; name: string };
  /** struct_ops member whose index is the `expected_attach_type`. */
  member?: string;
  /** The `attachTo` the checker is given for this variant. */
  attachTo?: string;
}

/**
 * Verdict for one (variant, helper id): as the kernel answered.
 *
 * @example
 * ```ts
 * const v: Verdict = "unavailable";
 * ```
 */
export type Verdict = "available" | "unavailable" | "invalid";

/**
 * The kernel's answers for one variant.
 *
 * @example
 * ```ts
 * const r: VariantResult = probeVariant(PROBE_VARIANTS[0]);
 * ```
 */
export interface VariantResult {
  /** The variant. */
  variant: ProbeVariant;
  /** `"ok"`: probed; `"unprobeable"`: the kernel refuses any program of it; `"absent"`: no such type here. */
  status: "ok" | "unprobeable" | "absent";
  /** Why it could not be probed. */
  reason?: string;
  /** `verdicts[id]` for ids `0 … HELPER_COUNT` (the last one is one past the kernel's last id). */
  verdicts: Verdict[];
}

const SOCK_ADDR: [string, number][] = [
  ["bind4", A.CGROUP_INET4_BIND],
  ["bind6", A.CGROUP_INET6_BIND],
  ["connect4", A.CGROUP_INET4_CONNECT],
  ["connect6", A.CGROUP_INET6_CONNECT],
  ["connect_unix", A.CGROUP_UNIX_CONNECT],
  ["sendmsg4", A.CGROUP_UDP4_SENDMSG],
  ["sendmsg6", A.CGROUP_UDP6_SENDMSG],
  ["sendmsg_unix", A.CGROUP_UNIX_SENDMSG],
  ["recvmsg4", A.CGROUP_UDP4_RECVMSG],
  ["recvmsg6", A.CGROUP_UDP6_RECVMSG],
  ["recvmsg_unix", A.CGROUP_UNIX_RECVMSG],
  ["getpeername4", A.CGROUP_INET4_GETPEERNAME],
  ["getpeername6", A.CGROUP_INET6_GETPEERNAME],
  ["getpeername_unix", A.CGROUP_UNIX_GETPEERNAME],
  ["getsockname4", A.CGROUP_INET4_GETSOCKNAME],
  ["getsockname6", A.CGROUP_INET6_GETSOCKNAME],
  ["getsockname_unix", A.CGROUP_UNIX_GETSOCKNAME],
];

/**
 * Every program type of Linux 6.18 once, then the attach variants whose helper sets differ.
 *
 * @example
 * ```ts
 * PROBE_VARIANTS.map((v) => v.label); // ["socket_filter", "kprobe", …]
 * ```
 */
export const PROBE_VARIANTS: readonly ProbeVariant[] = [
  { label: "socket_filter", type: "socket_filter" },
  { label: "kprobe", type: "kprobe" },
  { label: "sched_cls", type: "sched_cls" },
  { label: "sched_act", type: "sched_act" },
  { label: "tracepoint", type: "tracepoint" },
  { label: "xdp", type: "xdp" },
  { label: "perf_event", type: "perf_event" },
  { label: "cgroup_skb", type: "cgroup_skb" },
  { label: "cgroup_sock", type: "cgroup_sock" },
  { label: "lwt_in", type: "lwt_in" },
  { label: "lwt_out", type: "lwt_out" },
  { label: "lwt_xmit", type: "lwt_xmit" },
  { label: "sock_ops", type: "sock_ops" },
  { label: "sk_skb", type: "sk_skb" },
  { label: "cgroup_device", type: "cgroup_device" },
  { label: "sk_msg", type: "sk_msg" },
  { label: "raw_tracepoint", type: "raw_tracepoint" },
  { label: "cgroup_sock_addr", type: "cgroup_sock_addr", expectedAttachType: A.CGROUP_INET4_BIND },
  { label: "lwt_seg6local", type: "lwt_seg6local" },
  { label: "lirc_mode2", type: "lirc_mode2", expectedAttachType: A.LIRC_MODE2 },
  { label: "sk_reuseport", type: "sk_reuseport" },
  { label: "flow_dissector", type: "flow_dissector" },
  { label: "cgroup_sysctl", type: "cgroup_sysctl" },
  { label: "raw_tracepoint_writable", type: "raw_tracepoint_writable" },
  { label: "cgroup_sockopt", type: "cgroup_sockopt", expectedAttachType: A.CGROUP_GETSOCKOPT },
  {
    label: "tracing/tp_btf",
    type: "tracing",
    expectedAttachType: A.TRACE_RAW_TP,
    btf: { kind: "typedef", name: "btf_trace_sched_switch" },
    attachTo: "sched_switch",
  },
  {
    label: "struct_ops/tcp_congestion_ops.ssthresh",
    type: "struct_ops",
    btf: { kind: "struct", name: "tcp_congestion_ops" },
    member: "ssthresh",
    attachTo: "tcp_congestion_ops.ssthresh",
  },
  { label: "ext", type: "ext", btf: { kind: "func", name: "bpf_fentry_test1" } },
  {
    label: "lsm",
    type: "lsm",
    expectedAttachType: A.LSM_MAC,
    btf: { kind: "func", name: "bpf_lsm_file_open" },
    attachTo: "file_open",
  },
  { label: "sk_lookup", type: "sk_lookup", expectedAttachType: A.SK_LOOKUP },
  { label: "syscall", type: "syscall", flags: SLEEPABLE },
  { label: "netfilter", type: "netfilter", expectedAttachType: A.NETFILTER },
  // Attach variants with their own helpers.
  { label: "kprobe/uprobe.s", type: "kprobe", flags: SLEEPABLE },
  { label: "kprobe/kprobe.multi", type: "kprobe", expectedAttachType: A.TRACE_KPROBE_MULTI },
  { label: "kprobe/kprobe.session", type: "kprobe", expectedAttachType: A.TRACE_KPROBE_SESSION },
  { label: "kprobe/uprobe.multi", type: "kprobe", expectedAttachType: A.TRACE_UPROBE_MULTI },
  { label: "kprobe/uprobe.session", type: "kprobe", expectedAttachType: A.TRACE_UPROBE_SESSION },
  { label: "xdp/xdp", type: "xdp", expectedAttachType: A.XDP },
  { label: "xdp/devmap", type: "xdp", expectedAttachType: A.XDP_DEVMAP },
  { label: "xdp/cpumap", type: "xdp", expectedAttachType: A.XDP_CPUMAP },
  { label: "cgroup_skb/egress", type: "cgroup_skb", expectedAttachType: A.CGROUP_INET_EGRESS },
  {
    label: "cgroup_sock/sock_release",
    type: "cgroup_sock",
    expectedAttachType: A.CGROUP_INET_SOCK_RELEASE,
  },
  {
    label: "cgroup_sock/post_bind4",
    type: "cgroup_sock",
    expectedAttachType: A.CGROUP_INET4_POST_BIND,
  },
  {
    label: "cgroup_sock/post_bind6",
    type: "cgroup_sock",
    expectedAttachType: A.CGROUP_INET6_POST_BIND,
  },
  ...SOCK_ADDR.slice(1).map(([name, eat]): ProbeVariant => ({
    label: `cgroup_sock_addr/${name}`,
    type: "cgroup_sock_addr",
    expectedAttachType: eat,
  })),
  {
    label: "cgroup_sockopt/setsockopt",
    type: "cgroup_sockopt",
    expectedAttachType: A.CGROUP_SETSOCKOPT,
  },
  {
    label: "sk_reuseport/migrate",
    type: "sk_reuseport",
    expectedAttachType: A.SK_REUSEPORT_SELECT_OR_MIGRATE,
  },
  {
    label: "tracing/iter.task",
    type: "tracing",
    expectedAttachType: A.TRACE_ITER,
    btf: { kind: "func", name: "bpf_iter_task" },
    attachTo: "task",
  },
  {
    label: "tracing/iter.tcp",
    type: "tracing",
    expectedAttachType: A.TRACE_ITER,
    btf: { kind: "func", name: "bpf_iter_tcp" },
    attachTo: "tcp",
  },
  {
    label: "tracing/iter.unix",
    type: "tracing",
    expectedAttachType: A.TRACE_ITER,
    btf: { kind: "func", name: "bpf_iter_unix" },
    attachTo: "unix",
  },
  {
    label: "tracing/iter.s.task",
    type: "tracing",
    expectedAttachType: A.TRACE_ITER,
    flags: SLEEPABLE,
    btf: { kind: "func", name: "bpf_iter_task" },
    attachTo: "task",
  },
  {
    label: "tracing/fentry",
    type: "tracing",
    expectedAttachType: A.TRACE_FENTRY,
    btf: { kind: "func", name: "bpf_fentry_test1" },
  },
  {
    label: "tracing/fexit",
    type: "tracing",
    expectedAttachType: A.TRACE_FEXIT,
    btf: { kind: "func", name: "bpf_fentry_test1" },
  },
  {
    label: "tracing/fmod_ret",
    type: "tracing",
    expectedAttachType: A.MODIFY_RETURN,
    btf: { kind: "func", name: "bpf_modify_return_test" },
  },
  {
    label: "struct_ops/tcp_congestion_ops.release",
    type: "struct_ops",
    btf: { kind: "struct", name: "tcp_congestion_ops" },
    member: "release",
    attachTo: "tcp_congestion_ops.release",
  },
  {
    label: "lsm_cgroup/socket_post_create",
    type: "lsm",
    expectedAttachType: A.LSM_CGROUP,
    btf: { kind: "func", name: "bpf_lsm_socket_post_create" },
    attachTo: "socket_post_create",
  },
];

/**
 * The minimal program that calls helper `id`.
 *
 * @example
 * ```ts
 * callProgram(6).length; // 8
 * ```
 */
export function callProgram(id: number): Insn[] {
  const insns: Insn[] = [];
  for (let r = 1; r <= 5; r++) insns.push({ code: 0xb7, dst: r, src: 0, off: 0, imm: 0 });
  insns.push({ code: 0x85, dst: 0, src: 0, off: 0, imm: id });
  insns.push({ code: 0xb7, dst: 0, src: 0, off: 0, imm: 0 });
  insns.push({ code: 0x95, dst: 0, src: 0, off: 0, imm: 0 });
  return insns;
}

const TRIVIAL: Insn[] = [
  { code: 0xb7, dst: 0, src: 0, off: 0, imm: 0 },
  { code: 0x95, dst: 0, src: 0, off: 0, imm: 0 },
];

let vmlinux: Btf | undefined;

/**
 * The running kernel's BTF (parsed once).
 *
 * @example
 * ```ts
 * kernelBtf().find("struct", "tcp_congestion_ops")?.id;
 * ```
 */
export function kernelBtf(): Btf {
  return vmlinux ??= parseBtf(readFileSync("/sys/kernel/btf/vmlinux"));
}

/**
 * Program.load options of a variant (BTF ids resolved).
 *
 * @example
 * ```ts
 * loadOptionsOf(PROBE_VARIANTS[0]); // { type: "socket_filter" }
 * ```
 */
export function loadOptionsOf(
  v: ProbeVariant,
): { type: string; expectedAttachType?: number; attachBtfId?: number; flags?: number } {
  const out: { type: string; expectedAttachType?: number; attachBtfId?: number; flags?: number } = {
    type: v.type,
  };
  if (v.expectedAttachType !== undefined) out.expectedAttachType = v.expectedAttachType;
  if (v.flags !== undefined) out.flags = v.flags;
  if (v.btf !== undefined) {
    const btf = kernelBtf();
    const t = btf.find(v.btf.kind, v.btf.name);
    if (t === undefined) throw new Error(`vmlinux BTF has no ${v.btf.kind} ${v.btf.name}`);
    out.attachBtfId = t.id;
    if (v.member !== undefined && t.kind === "struct") {
      const idx = t.members.findIndex((m) => m.name === v.member);
      if (idx < 0) throw new Error(`${v.btf.name} has no member ${v.member}`);
      out.expectedAttachType = idx;
    }
  }
  return out;
}

/** Loads `insns` as variant `v` and classifies the answer. */
function tryLoad(
  v: ProbeVariant,
  insns: Insn[],
): { ok: true; log: string } | { ok: false; log: string; errno: number; verifier: boolean } {
  const opts = loadOptionsOf(v);
  try {
    const p = Program.load({ ...opts, insns, license: "GPL", logLevel: 1, check: false });
    const log = p.verifierLog ?? "";
    p.close();
    return { ok: true, log };
  } catch (e) {
    if (e instanceof VerifierError) {
      return { ok: false, log: e.log, errno: e.errno, verifier: true };
    }
    if (e instanceof BpfError) return { ok: false, log: "", errno: e.errno, verifier: false };
    throw e;
  }
}

/**
 * The kernel's verdict from one load of the minimal program.
 *
 * @example
 * ```ts
 * classify({ ok: false, log: "invalid func unknown#212" }); // "invalid"
 * ```
 */
export function classify(r: { ok: boolean; log: string }): Verdict {
  if (r.ok) return "available";
  if (r.log.includes("invalid func ")) return "invalid";
  if (r.log.includes("program of this type cannot use helper")) return "unavailable";
  if (r.log.includes("unknown func ")) return "unavailable"; // the wording before Linux 5.19
  return "available";
}

/**
 * Probes every helper id (`0 … HELPER_COUNT`) for one variant.
 *
 * @example
 * ```ts
 * probeVariant({ label: "xdp", type: "xdp" }).verdicts[44]; // "available" (bpf_xdp_adjust_head)
 * ```
 */
export function probeVariant(v: ProbeVariant): VariantResult {
  if (v.btf !== undefined && kernelBtf().find(v.btf.kind, v.btf.name) === undefined) {
    // The attach target came in a later kernel (an iterator, a hook): no such variant here.
    return {
      variant: v,
      status: "absent",
      reason: `vmlinux BTF has no ${v.btf.kind} ${v.btf.name}: this kernel has no such target`,
      verdicts: [],
    };
  }
  const trivial = tryLoad(v, TRIVIAL);
  if (!trivial.ok && !trivial.verifier) {
    const status = trivial.errno === 22 ? "absent" : "unprobeable";
    return {
      variant: v,
      status,
      reason: `a trivial ${v.label} program is refused with errno ${trivial.errno}` +
        (trivial.errno === 1
          ? " (EPERM)"
          : trivial.errno === 22
          ? " (EINVAL: the type is not in this kernel)"
          : ""),
      verdicts: [],
    };
  }
  const verdicts: Verdict[] = [];
  for (let id = 0; id <= HELPER_COUNT; id++) verdicts.push(classify(tryLoad(v, callProgram(id))));
  return { variant: v, status: "ok", verdicts };
}

/**
 * The running kernel's configuration (`/proc/config.gz`) with its lockdown level, if readable.
 *
 * @example
 * ```ts
 * runningKernelConfig()?.BPF_LIRC_MODE2;
 * ```
 */
export function runningKernelConfig(): KernelConfig | undefined {
  let text: string;
  try {
    text = new TextDecoder().decode(gunzipSync(readFileSync("/proc/config.gz")));
  } catch {
    // Distribution kernels (Debian's, say) ship it as /boot/config-<release> instead.
    try {
      const release = readFileSync("/proc/sys/kernel/osrelease", "utf8").trim();
      text = readFileSync(`/boot/config-${release}`, "utf8");
    } catch {
      return undefined;
    }
  }
  let lockdown: string | undefined;
  try {
    lockdown = /\[(\w+)\]/.exec(readFileSync("/sys/kernel/security/lockdown", "utf8"))?.[1];
  } catch {
    // securityfs not mounted: the configuration's forced level is used.
  }
  return parseKernelConfig(text, lockdown);
}

function main(args: string[]): void {
  const outIdx = args.indexOf("--out");
  const out = outIdx >= 0 ? args[outIdx + 1] : undefined;
  const results: Record<string, unknown> = {};
  let loads = 0;
  const t0 = performance.now();
  for (const v of PROBE_VARIANTS) {
    const r = probeVariant(v);
    loads += r.verdicts.length + 1;
    if (r.status !== "ok") {
      console.log(`${v.label.padEnd(40)} ${r.status}: ${r.reason}`);
      results[v.label] = { ...loadOptionsOfSafe(v), status: r.status, reason: r.reason };
      continue;
    }
    const available = r.verdicts.flatMap((x, id) =>
      x === "available" ? [HELPER_NAMES[id] ?? `#${id}`] : []
    );
    console.log(`${v.label.padEnd(40)} ${available.length} helpers`);
    results[v.label] = { ...loadOptionsOfSafe(v), status: "ok", available };
  }
  const release = readFileSync("/proc/sys/kernel/osrelease", "utf8").trim();
  console.log(
    `${loads} loads in ${((performance.now() - t0) / 1000).toFixed(1)} s on Linux ${release}`,
  );
  if (out) {
    const lines = Object.entries(results).map(([k, v]) =>
      `  ${JSON.stringify(k)}: ${JSON.stringify(v)}`
    );
    const config = runningKernelConfig();
    const head = `{\n "kernel": ${JSON.stringify(release)},\n "helperCount": ${HELPER_COUNT},\n` +
      ` "config": ${JSON.stringify(config ?? null)},\n "variants": {\n`;
    writeFileSync(out, head + lines.join(",\n") + "\n }\n}\n");
    console.log(`wrote ${out}`);
  }
}

function loadOptionsOfSafe(v: ProbeVariant): Record<string, unknown> {
  try {
    return { ...loadOptionsOf(v), ...(v.attachTo ? { attachTo: v.attachTo } : {}) };
  } catch (e) {
    return { type: v.type, error: (e as Error).message };
  }
}

if ((import.meta as { main?: boolean }).main) {
  const g = globalThis as { Deno?: { args: string[] }; process?: { argv: string[] } };
  main(g.Deno?.args ?? g.process?.argv.slice(2) ?? []);
}
