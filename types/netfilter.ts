/**
 * Netfilter constants that BPF netfilter links use, from the uapi headers
 * (`linux/netfilter.h`, `linux/netfilter_ipv4.h`): protocol families, hooks, verdicts and the
 * reserved priorities.
 *
 * @module
 */

/**
 * Protocol families of netfilter hooks (`NFPROTO_*`): BPF netfilter links take IPv4 or IPv6.
 *
 * @example
 * ```ts
 * import { NfProto } from "@tsbpf/core/types";
 * NfProto.IPV4; // 2
 * ```
 */
export const NfProto = {
  /** `NFPROTO_IPV4`. */
  IPV4: 2,
  /** `NFPROTO_IPV6`. */
  IPV6: 10,
} as const;

/**
 * The hooks of the IPv4/IPv6 path (`enum nf_inet_hooks`).
 *
 * @example
 * ```ts
 * import { NfInetHook } from "@tsbpf/core/types";
 * NfInetHook.LOCAL_OUT; // 3
 * ```
 */
export const NfInetHook = {
  /** `NF_INET_PRE_ROUTING`: every packet received, before routing. */
  PRE_ROUTING: 0,
  /** `NF_INET_LOCAL_IN`: packets for this host. */
  LOCAL_IN: 1,
  /** `NF_INET_FORWARD`: packets routed through. */
  FORWARD: 2,
  /** `NF_INET_LOCAL_OUT`: packets this host sends. */
  LOCAL_OUT: 3,
  /** `NF_INET_POST_ROUTING`: every packet leaving, after routing. */
  POST_ROUTING: 4,
} as const;

/**
 * `NF_INET_NUMHOOKS`: hook numbers are below this.
 *
 * @example
 * ```ts
 * import { NF_INET_NUMHOOKS } from "@tsbpf/core/types";
 * NF_INET_NUMHOOKS; // 5
 * ```
 */
export const NF_INET_NUMHOOKS = 5;

/**
 * What a netfilter program returns (`NF_DROP`, `NF_ACCEPT`; the verifier allows only these).
 *
 * @example
 * ```ts
 * import { NfVerdict } from "@tsbpf/core/types";
 * NfVerdict.ACCEPT; // 1
 * ```
 */
export const NfVerdict = {
  /** `NF_DROP`. */
  DROP: 0,
  /** `NF_ACCEPT`. */
  ACCEPT: 1,
} as const;

/**
 * Hook priorities with a meaning to BPF netfilter links (`enum nf_ip_hook_priorities`): `FIRST`
 * and `LAST` are reserved (the kernel answers `ERANGE`), and a link asking for IP defragmentation
 * must run after `CONNTRACK_DEFRAG`.
 *
 * @example
 * ```ts
 * import { NfIpPriority } from "@tsbpf/core/types";
 * NfIpPriority.CONNTRACK_DEFRAG; // -400
 * ```
 */
export const NfIpPriority = {
  /** `NF_IP_PRI_FIRST` (`INT_MIN`): reserved. */
  FIRST: -2147483648,
  /** `NF_IP_PRI_CONNTRACK_DEFRAG`. */
  CONNTRACK_DEFRAG: -400,
  /** `NF_IP_PRI_RAW`. */
  RAW: -300,
  /** `NF_IP_PRI_CONNTRACK`. */
  CONNTRACK: -200,
  /** `NF_IP_PRI_MANGLE`. */
  MANGLE: -150,
  /** `NF_IP_PRI_NAT_DST`. */
  NAT_DST: -100,
  /** `NF_IP_PRI_FILTER`. */
  FILTER: 0,
  /** `NF_IP_PRI_SECURITY`. */
  SECURITY: 50,
  /** `NF_IP_PRI_NAT_SRC`. */
  NAT_SRC: 100,
  /** `NF_IP_PRI_LAST` (`INT_MAX`): reserved. */
  LAST: 2147483647,
} as const;
