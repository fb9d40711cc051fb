/**
 * Registering a struct_ops map (a TCP congestion control, a sched_ext scheduler…) through a
 * struct_ops link (`BPF_LINK_TYPE_STRUCT_OPS`, Linux 6.4+).
 *
 * @module
 */
import { AttachType } from "../../types/attach_type.ts";
import { LINK_CREATE_ATTR } from "../../types/attr.ts";
import { Errno } from "../../types/errno.ts";
import { MapType, mapTypeName } from "../../types/map_type.ts";
import { Attr } from "../attr.ts";
import { createLink } from "./create.ts";
import { AttachError } from "./errors.ts";
import type { Link } from "./link.ts";

/** A struct_ops map: a `BpfMap` (e.g. from `loadObject`) fits. */
export interface StructOpsMapLike {
  /** The map's file descriptor. */
  readonly fd: number;
  /** Its `MapType` number, when known: checked before the system call. */
  readonly type?: number;
  /** Whether the map's fd is closed. */
  readonly closed?: boolean;
}

function explainStructOps(errno: number): string | undefined {
  switch (errno) {
    case Errno.EINVAL:
      return "the map must be a struct_ops map created with BPF_F_LINK (a .struct_ops.link " +
        "section) whose value is set (every program loaded and in place), and not registered " +
        "already";
    case Errno.EEXIST:
      return "a struct_ops of the same name is registered already (e.g. a congestion control " +
        "of that name)";
    case Errno.EPERM:
      return "this kernel refuses struct_ops for this process (struct_ops runs through BPF " +
        "trampolines)";
    case Errno.ENOTSUPP:
      return "this kernel has no struct_ops links (Linux 6.4+) or no BPF trampolines";
    default:
      return undefined;
  }
}

/**
 * Registers a struct_ops map with the kernel through a link (`BPF_LINK_CREATE`,
 * `BPF_STRUCT_OPS`): its operations (a `tcp_congestion_ops`, a `sched_ext_ops`…) become live
 * until the link is closed or detached. The map must come from a `.struct_ops.link` section (it
 * is created with `BPF_F_LINK`) and hold its value (loadObject's `attach()` writes it).
 * `link.update(otherMap)` swaps in another map of the same struct_ops type atomically (for TCP
 * congestion control, one with the same name); `link.info().structOps` names the map.
 *
 * @throws {TypeError} for a map that is not a struct_ops map (when its type is known).
 * @throws {AttachError} from the kernel with the reason: `EINVAL` for a map without `BPF_F_LINK`
 *   or without its value, `EEXIST` when the name is taken.
 * @example
 * ```ts
 * import { loadObject } from "@tsbpf/core/elf";
 * import { attachStructOps } from "@tsbpf/core/link";
 * using obj = loadObject("tcp_ca.bpf.o");
 * using otherObj = loadObject("tcp_ca_v2.bpf.o");
 * // … write the map's value (loadObject's attach() does, and links it itself)
 * using link = attachStructOps(obj.maps.my_ca);
 * link.update(otherObj.maps.my_ca); // a new version, same name
 * ```
 */
export function attachStructOps(map: StructOpsMapLike): Link {
  const target = `attachStructOps(map ${map.closed === true ? "(closed)" : map.fd})`;
  if (map.closed === true) {
    throw new AttachError(target, "attach", Errno.EBADF, "the map is closed");
  }
  if (map.type !== undefined && map.type !== MapType.STRUCT_OPS) {
    throw new TypeError(
      `${target}: needs a struct_ops map, got ${mapTypeName(map.type) ?? `type ${map.type}`}`,
    );
  }
  const attr = new Attr(LINK_CREATE_ATTR)
    .set("map_fd", map.fd)
    .set("attach_type", AttachType.STRUCT_OPS);
  return createLink(target, attr, explainStructOps);
}
