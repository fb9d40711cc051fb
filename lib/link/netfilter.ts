/**
 * Netfilter hooks through `bpf_link` (`BPF_PROG_TYPE_NETFILTER`, Linux 6.4+).
 *
 * @module
 */
import { AttachType } from "../../types/attach_type.ts";
import { LINK_CREATE_NETFILTER_ATTR } from "../../types/attr.ts";
import { Errno } from "../../types/errno.ts";
import { NetfilterFlag } from "../../types/flags.ts";
import { NF_INET_NUMHOOKS, NfInetHook, NfIpPriority, NfProto } from "../../types/netfilter.ts";
import { ProgType } from "../../types/prog_type.ts";
import { Attr } from "../attr.ts";
import { createLink } from "./create.ts";
import type { Link } from "./link.ts";
import { type AttachableProgram, programFd } from "./os.ts";

/** A netfilter protocol family by name. */
export type NetfilterFamily = "ipv4" | "ipv6";

/** A netfilter hook of the IP path by name. */
export type NetfilterHook = "prerouting" | "input" | "forward" | "output" | "postrouting";

/** Where {@link attachNetfilter} hooks a program in. */
export interface NetfilterOptions {
  /** Protocol family: `"ipv4"`, `"ipv6"` or an `NfProto` number. */
  pf: NetfilterFamily | number;
  /** The hook: a name or an `NfInetHook` number (`NF_INET_LOCAL_OUT`…). */
  hooknum: NetfilterHook | number;
  /**
   * Order among the hook's functions (lower runs first; iptables' filter table is at 0). Any
   * 32-bit integer except `NfIpPriority.FIRST` and `LAST`, which the kernel reserves.
   */
  priority: number;
  /**
   * Let the program see reassembled IP packets (`BPF_F_NETFILTER_IP_DEFRAG`, Linux 6.6+): the
   * priority must then be above `NfIpPriority.CONNTRACK_DEFRAG` (-400).
   */
  defrag?: boolean;
}

const FAMILIES: Readonly<Record<NetfilterFamily, number>> = {
  ipv4: NfProto.IPV4,
  ipv6: NfProto.IPV6,
};

const HOOKS: Readonly<Record<NetfilterHook, number>> = {
  prerouting: NfInetHook.PRE_ROUTING,
  input: NfInetHook.LOCAL_IN,
  forward: NfInetHook.FORWARD,
  output: NfInetHook.LOCAL_OUT,
  postrouting: NfInetHook.POST_ROUTING,
};

function explainNetfilter(errno: number): string | undefined {
  switch (errno) {
    case Errno.EINVAL:
      return "the program must be of type netfilter, loaded with expectedAttachType " +
        "AttachType.NETFILTER";
    case Errno.EAFNOSUPPORT:
      return "pf must be NFPROTO_IPV4 or NFPROTO_IPV6 (or defragmentation is unavailable for it)";
    case Errno.EPROTO:
      return `hooknum must be below NF_INET_NUMHOOKS (${NF_INET_NUMHOOKS})`;
    case Errno.ERANGE:
      return "NF_IP_PRI_FIRST and NF_IP_PRI_LAST are reserved, and with defrag the priority " +
        "must be above NF_IP_PRI_CONNTRACK_DEFRAG (-400)";
    case Errno.EOPNOTSUPP:
      return "this kernel has no BPF netfilter links (CONFIG_NETFILTER_BPF_LINK is off) or " +
        "does not know the flags (defrag needs Linux 6.6)";
    case Errno.EBUSY:
    case Errno.EEXIST:
      return "another function already holds this hook at this priority";
    default:
      return undefined;
  }
}

/**
 * Hooks a `netfilter` program into the IPv4 or IPv6 path of the calling thread's network
 * namespace (`BPF_LINK_CREATE`, `BPF_NETFILTER`). The program returns `NF_ACCEPT` (1) or
 * `NF_DROP` (0) for each packet; its context is `struct bpf_nf_ctx` (the hook state and the
 * `sk_buff`, both BTF pointers). Closing the link unhooks it; `detach()` works, `update()` does
 * not (the kernel answers `EOPNOTSUPP`).
 *
 * @throws {RangeError} for an unknown family or hook, or a priority the kernel would refuse.
 * @throws {TypeError} for a program that is not a netfilter program.
 * @throws {AttachError} from the kernel, with the reason: e.g. `EINVAL` for a program loaded
 *   without `expectedAttachType: AttachType.NETFILTER`.
 * @example
 * ```ts
 * import { asm, AttachType, Program } from "@tsbpf/core";
 * import { attachNetfilter } from "@tsbpf/core/link";
 * using prog = Program.load({
 *   type: "netfilter",
 *   expectedAttachType: AttachType.NETFILTER,
 *   license: "GPL",
 *   insns: asm`r0 = 1\nexit`, // NF_ACCEPT
 * });
 * using link = attachNetfilter(prog, { pf: "ipv4", hooknum: "output", priority: -100 });
 * console.log(link.info().netfilter); // { pf: 2, hooknum: 3, priority: -100, flags: 0 }
 * ```
 */
export function attachNetfilter(program: AttachableProgram, options: NetfilterOptions): Link {
  const { pf: pfInput, hooknum: hookInput, priority } = options;
  const defrag = options.defrag === true;
  const pf = typeof pfInput === "number" ? pfInput : FAMILIES[pfInput];
  const hooknum = typeof hookInput === "number" ? hookInput : HOOKS[hookInput];
  const target = `attachNetfilter(pf ${pfInput}, hook ${hookInput}, priority ${priority}${
    defrag ? ", defrag" : ""
  })`;
  if (pf !== NfProto.IPV4 && pf !== NfProto.IPV6) {
    throw new RangeError(`${target}: pf must be "ipv4" (NFPROTO_IPV4, 2) or "ipv6" (10)`);
  }
  if (!Number.isInteger(hooknum) || hooknum < 0 || hooknum >= NF_INET_NUMHOOKS) {
    throw new RangeError(
      `${target}: hooknum must be one of ${Object.keys(HOOKS).join(", ")} (0..${
        NF_INET_NUMHOOKS - 1
      })`,
    );
  }
  if (
    !Number.isInteger(priority) || priority <= NfIpPriority.FIRST || priority >= NfIpPriority.LAST
  ) {
    throw new RangeError(
      `${target}: priority must be a 32-bit integer strictly between NF_IP_PRI_FIRST and ` +
        "NF_IP_PRI_LAST (both reserved)",
    );
  }
  if (defrag && priority <= NfIpPriority.CONNTRACK_DEFRAG) {
    throw new RangeError(
      `${target}: with defrag the priority must be above NF_IP_PRI_CONNTRACK_DEFRAG (-400), ` +
        "where the packets are reassembled",
    );
  }
  const attr = new Attr(LINK_CREATE_NETFILTER_ATTR)
    .set("prog_fd", programFd(program, target, [ProgType.NETFILTER]))
    .set("attach_type", AttachType.NETFILTER)
    .set("netfilter.pf", pf)
    .set("netfilter.hooknum", hooknum)
    .set("netfilter.priority", priority)
    .set("netfilter.flags", defrag ? NetfilterFlag.IP_DEFRAG : 0);
  return createLink(target, attr, explainNetfilter);
}
