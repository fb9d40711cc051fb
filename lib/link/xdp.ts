/**
 * XDP attachment through a `bpf_link`.
 *
 * @module
 */
import { AttachType } from "../../types/attach_type.ts";
import { LINK_CREATE_ATTR } from "../../types/attr.ts";
import { Attr } from "../attr.ts";
import { createLink } from "./create.ts";
import type { Link } from "./link.ts";
import { ProgType } from "../../types/prog_type.ts";
import { type AttachableProgram, explainIfindex, programFd, resolveIfindex } from "./os.ts";

/** How an XDP program runs: in the driver, in the generic (skb) path, or offloaded to the NIC. */
export type XdpMode = "native" | "generic" | "offload";

/** Options of {@link attachXdp}. */
export interface XdpOptions {
  /** Default: whatever the kernel picks (native when the driver supports it, else generic). */
  mode?: XdpMode;
}

const XDP_MODE_FLAGS: Readonly<Record<XdpMode, number>> = {
  generic: 1 << 1, // XDP_FLAGS_SKB_MODE
  native: 1 << 2, // XDP_FLAGS_DRV_MODE
  offload: 1 << 3, // XDP_FLAGS_HW_MODE
};

/**
 * Attaches an `xdp` program to an interface (`BPF_LINK_CREATE`, `BPF_XDP`). The interface is an
 * index or a name; closing the link detaches the program.
 *
 * @throws {AttachError} e.g. `ENODEV` for no such interface, `EBUSY` when another program is
 *   attached in a conflicting way, `EINVAL` for a program of another type.
 * @example
 * ```ts
 * import type { Program } from "@tsbpf/core";
 * import { attachXdp } from "@tsbpf/core/link";
 * declare const prog: Program; // an xdp program
 * using link = attachXdp(prog, "eth0", { mode: "generic" });
 * ```
 */
export function attachXdp(
  program: AttachableProgram,
  iface: number | string,
  options: XdpOptions = {},
): Link {
  const ifindex = resolveIfindex(iface, "attachXdp");
  const target = `attachXdp(ifindex ${ifindex}${typeof iface === "string" ? ` ${iface}` : ""})`;
  let flags = 0;
  if (options.mode !== undefined) {
    const f = XDP_MODE_FLAGS[options.mode];
    if (f === undefined) {
      throw new RangeError(`${target}: mode must be "native", "generic" or "offload"`);
    }
    flags = f;
  }
  const attr = new Attr(LINK_CREATE_ATTR)
    .set("prog_fd", programFd(program, target, [ProgType.XDP]))
    .set("target_ifindex", ifindex)
    .set("attach_type", AttachType.XDP)
    .set("flags", flags);
  return createLink(target, attr, explainIfindex(ifindex));
}
