/**
 * netkit devices through netkit links (Linux 6.7+).
 *
 * @module
 */
import { AttachType } from "../../types/attach_type.ts";
import { LINK_CREATE_NETKIT_ATTR } from "../../types/attr.ts";
import { Errno } from "../../types/errno.ts";
import { ProgType } from "../../types/prog_type.ts";
import { Attr } from "../attr.ts";
import { createLink } from "./create.ts";
import type { Link } from "./link.ts";
import { type AttachableProgram, explainIfindex, programFd, resolveIfindex } from "./os.ts";

/**
 * Which side of a netkit pair a program serves: `"primary"` (`BPF_NETKIT_PRIMARY`, the device in
 * the host namespace; its programs see what the peer sends) or `"peer"` (`BPF_NETKIT_PEER`).
 */
export type NetkitSide = "primary" | "peer";

/**
 * Attaches a `sched_cls` program to a netkit device (`BPF_LINK_CREATE`, `BPF_NETKIT_PRIMARY` or
 * `BPF_NETKIT_PEER`, on the primary device's interface); it runs after the programs already
 * there. Closing the link detaches it; `update()` swaps the program, `queryAttached({ ifindex },
 * AttachType.NETKIT_PRIMARY)` lists them.
 *
 * @throws {TypeError} for a program that is not `sched_cls`.
 * @throws {AttachError} `EINVAL` or `ENXIO` when the interface is no netkit primary device or
 *   the kernel has no netkit (`CONFIG_NETKIT` off), `ENODEV` for no such interface.
 * @example
 * ```ts
 * import type { Program } from "@tsbpf/core";
 * import { attachNetkit } from "@tsbpf/core/link";
 * declare const prog: Program; // loaded, of the type this attach point takes
 * // ip link add nk0 type netkit peer name nk1
 * using link = attachNetkit(prog, "nk0", "primary");
 * ```
 */
export function attachNetkit(
  program: AttachableProgram,
  iface: number | string,
  side: NetkitSide,
): Link {
  const ifindex = resolveIfindex(iface, "attachNetkit");
  const target = `attachNetkit(ifindex ${ifindex}${
    typeof iface === "string" ? ` ${iface}` : ""
  } ${side})`;
  if (side !== "primary" && side !== "peer") {
    throw new RangeError(`${target}: side must be "primary" or "peer"`);
  }
  const attr = new Attr(LINK_CREATE_NETKIT_ATTR)
    .set("prog_fd", programFd(program, target, [ProgType.SCHED_CLS]))
    .set("target_ifindex", ifindex)
    .set("attach_type", side === "primary" ? AttachType.NETKIT_PRIMARY : AttachType.NETKIT_PEER);
  const noDevice = explainIfindex(ifindex);
  return createLink(target, attr, (errno) => {
    const missing = noDevice(errno);
    if (missing !== undefined) return missing;
    if (errno === Errno.EINVAL || errno === Errno.ENXIO) {
      return "the interface must be the primary device of a netkit pair, and the kernel have " +
        "netkit (CONFIG_NETKIT, Linux 6.7+)";
    }
    return undefined;
  });
}
