/**
 * tc attachment through tcx links (Linux 6.6+).
 *
 * @module
 */
import { AttachType } from "../../types/attach_type.ts";
import { LINK_CREATE_TCX_ATTR } from "../../types/attr.ts";
import { Attr } from "../attr.ts";
import { createLink } from "./create.ts";
import type { Link } from "./link.ts";
import { ProgType } from "../../types/prog_type.ts";
import { type AttachableProgram, explainIfindex, programFd, resolveIfindex } from "./os.ts";

/** Which direction of traffic a tcx program sees. */
export type TcxDirection = "ingress" | "egress";

/**
 * Attaches a `sched_cls` program to an interface's ingress or egress (`BPF_LINK_CREATE`,
 * `BPF_TCX_INGRESS`/`BPF_TCX_EGRESS`); it runs after the programs already attached there.
 *
 * @throws {AttachError} e.g. `ENODEV` for no such interface, `EINVAL` for a program of another
 *   type.
 * @example
 * ```ts
 * import type { Program } from "@tsbpf/core";
 * import { attachTcx } from "@tsbpf/core/link";
 * declare const prog: Program; // a sched_cls program
 * using link = attachTcx(prog, "eth0", "ingress");
 * ```
 */
export function attachTcx(
  program: AttachableProgram,
  iface: number | string,
  direction: TcxDirection,
): Link {
  const ifindex = resolveIfindex(iface, "attachTcx");
  const target = `attachTcx(ifindex ${ifindex}${
    typeof iface === "string" ? ` ${iface}` : ""
  } ${direction})`;
  if (direction !== "ingress" && direction !== "egress") {
    throw new RangeError(`${target}: direction must be "ingress" or "egress"`);
  }
  const attr = new Attr(LINK_CREATE_TCX_ATTR)
    .set("prog_fd", programFd(program, target, [ProgType.SCHED_CLS]))
    .set("target_ifindex", ifindex)
    .set("attach_type", direction === "ingress" ? AttachType.TCX_INGRESS : AttachType.TCX_EGRESS);
  return createLink(target, attr, explainIfindex(ifindex));
}
