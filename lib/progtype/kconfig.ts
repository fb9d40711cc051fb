/**
 * The kernel build options that decide which program types and helpers exist, and reading them
 * from a `/proc/config.gz`-style text.
 *
 * @module
 */
import { requireString } from "../args.ts";

/**
 * Kernel build options (and the lockdown level) that change what the verifier offers. Each key is
 * a `CONFIG_*` option without the prefix.
 *
 * @example
 * ```ts
 * import { DEFAULT_KERNEL_CONFIG, type KernelConfig } from "@tsbpf/core/progtype";
 * const noKprobeOverride: KernelConfig = { ...DEFAULT_KERNEL_CONFIG, BPF_KPROBE_OVERRIDE: false };
 * ```
 */
export interface KernelConfig {
  /** Networking: socket, tc, XDP, cgroup-socket and sk_* program types. */
  NET: boolean;
  /** IPv4/IPv6: socket lookups, `sk_reuseport`, `sk_lookup`, TCP helpers. */
  INET: boolean;
  /** cgroup support: cgroup ids and storage. */
  CGROUPS: boolean;
  /** cgroup-attached program types. */
  CGROUP_BPF: boolean;
  /** Tracing program types (kprobe, tracepoint, perf_event, raw_tracepoint, tracing). */
  BPF_EVENTS: boolean;
  /** `lirc_mode2` programs (needs `RC_CORE`). */
  BPF_LIRC_MODE2: boolean;
  /** The JIT: struct_ops, ext and lsm program types. */
  BPF_JIT: boolean;
  /** `lsm` programs. */
  BPF_LSM: boolean;
  /** `netfilter` programs. */
  NETFILTER_BPF_LINK: boolean;
  /** `bpf_override_return`. */
  BPF_KPROBE_OVERRIDE: boolean;
  /** `bpf_probe_read`/`bpf_probe_read_str` (architectures with separate user/kernel spaces: x86, arm64…). */
  ARCH_HAS_NON_OVERLAPPING_ADDRESS_SPACE: boolean;
  /** `bpf_skb_get_xfrm_state`. */
  XFRM: boolean;
  /** `bpf_skb_cgroup_classid`, `bpf_get_cgroup_classid` from cgroup programs. */
  CGROUP_NET_CLASSID: boolean;
  /** `bpf_skb_cgroup_id` and friends. */
  SOCK_CGROUP_DATA: boolean;
  /** `bpf_tcp_raw_*_syncookie_*`. */
  SYN_COOKIES: boolean;
  /** `bpf_lwt_seg6_*`. */
  IPV6_SEG6_BPF: boolean;
  /** LSM socket hooks, where `lsm_cgroup` programs may call `bpf_{g,s}etsockopt`. */
  SECURITY_NETWORK: boolean;
  /** AF_UNIX: the `unix` iterator. */
  UNIX: boolean;
  /**
   * Kernel lockdown level: `"integrity"` removes `bpf_probe_write_user`, `"confidentiality"` also
   * the kernel-memory readers.
   */
  LOCKDOWN: "none" | "integrity" | "confidentiality";
}

/**
 * The configuration assumed when none is given: everything on, no lockdown — so that a helper is
 * never refused for lack of an option the running kernel may well have.
 *
 * @example
 * ```ts
 * import { DEFAULT_KERNEL_CONFIG } from "@tsbpf/core/progtype";
 * DEFAULT_KERNEL_CONFIG.XFRM; // true
 * ```
 */
export const DEFAULT_KERNEL_CONFIG: Readonly<KernelConfig> = Object.freeze({
  NET: true,
  INET: true,
  CGROUPS: true,
  CGROUP_BPF: true,
  BPF_EVENTS: true,
  BPF_LIRC_MODE2: true,
  BPF_JIT: true,
  BPF_LSM: true,
  NETFILTER_BPF_LINK: true,
  BPF_KPROBE_OVERRIDE: true,
  ARCH_HAS_NON_OVERLAPPING_ADDRESS_SPACE: true,
  XFRM: true,
  CGROUP_NET_CLASSID: true,
  SOCK_CGROUP_DATA: true,
  SYN_COOKIES: true,
  IPV6_SEG6_BPF: true,
  SECURITY_NETWORK: true,
  UNIX: true,
  LOCKDOWN: "none",
});

/**
 * Reads a kernel configuration from the text of `/proc/config.gz` (decompressed) or a `.config`.
 * Options absent from the text are off. The lockdown level is the one the configuration forces
 * (`LOCK_DOWN_KERNEL_FORCE_*`), raised to `lockdown` — the bracketed word of
 * `/sys/kernel/security/lockdown` — when that is given.
 *
 * @example
 * ```ts
 * import { parseKernelConfig } from "@tsbpf/core/progtype";
 * const cfg = parseKernelConfig("CONFIG_NET=y\nCONFIG_INET=y\n");
 * cfg.XFRM; // false
 * ```
 */
export function parseKernelConfig(text: string, lockdown?: string): KernelConfig {
  requireString("parseKernelConfig", "text", text);
  if (lockdown !== undefined) requireString("parseKernelConfig", "lockdown", lockdown);
  const on = new Set<string>();
  for (const line of text.split("\n")) {
    const m = /^CONFIG_([A-Z0-9_]+)=[ym]$/.exec(line.trim());
    if (m) on.add(m[1]);
  }
  const has = (k: string): boolean => on.has(k);
  let level: KernelConfig["LOCKDOWN"] = "none";
  if (has("SECURITY_LOCKDOWN_LSM")) {
    if (has("LOCK_DOWN_KERNEL_FORCE_CONFIDENTIALITY")) level = "confidentiality";
    else if (has("LOCK_DOWN_KERNEL_FORCE_INTEGRITY")) level = "integrity";
  }
  if (lockdown === "integrity" || lockdown === "confidentiality" || lockdown === "none") {
    const rank = { none: 0, integrity: 1, confidentiality: 2 } as const;
    if (rank[lockdown] > rank[level]) level = lockdown;
  }
  return {
    NET: has("NET"),
    INET: has("INET"),
    CGROUPS: has("CGROUPS"),
    CGROUP_BPF: has("CGROUP_BPF"),
    BPF_EVENTS: has("BPF_EVENTS"),
    BPF_LIRC_MODE2: has("BPF_LIRC_MODE2"),
    BPF_JIT: has("BPF_JIT"),
    BPF_LSM: has("BPF_LSM"),
    NETFILTER_BPF_LINK: has("NETFILTER_BPF_LINK"),
    BPF_KPROBE_OVERRIDE: has("BPF_KPROBE_OVERRIDE"),
    ARCH_HAS_NON_OVERLAPPING_ADDRESS_SPACE: has("ARCH_HAS_NON_OVERLAPPING_ADDRESS_SPACE"),
    XFRM: has("XFRM"),
    CGROUP_NET_CLASSID: has("CGROUP_NET_CLASSID"),
    SOCK_CGROUP_DATA: has("SOCK_CGROUP_DATA"),
    SYN_COOKIES: has("SYN_COOKIES"),
    IPV6_SEG6_BPF: has("IPV6_SEG6_BPF"),
    SECURITY_NETWORK: has("SECURITY_NETWORK"),
    UNIX: has("UNIX"),
    LOCKDOWN: level,
  };
}
