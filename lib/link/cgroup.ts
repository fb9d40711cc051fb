/**
 * Cgroup attachment through cgroup links, and `BPF_PROG_QUERY`.
 *
 * @module
 */
import { attachTypeName } from "../../types/attach_type.ts";
import { LINK_CREATE_CGROUP_ATTR, PROG_QUERY_ATTR } from "../../types/attr.ts";
import { BpfCmd } from "../../types/cmd.ts";
import { Errno } from "../../types/errno.ts";
import { Attr } from "../attr.ts";
import { alloc } from "../sys/memory.ts";
import { sys } from "../sys/mod.ts";
import { createLink } from "./create.ts";
import { AttachError } from "./errors.ts";
import type { Link } from "./link.ts";
import {
  type AttachableProgram,
  closeQuietly,
  openReadOnly,
  programFd,
  progTypesForAttach,
  resolveIfindex,
} from "./os.ts";
import { type AttachTypeInput, resolveAttachType } from "../progtype/type_names.ts";
import { progQuery } from "../sys/bpf_cmds.ts";

/** How many ids {@link queryAttached} makes room for. */
const QUERY_CAPACITY = 64;

function attachLabel(attachType: number): string {
  return attachTypeName(attachType) ?? `attach type ${attachType}`;
}

/**
 * Attaches a cgroup program (`cgroup_skb`, `cgroup_sock`, `cgroup_sock_addr`, `sock_ops`,
 * `cgroup_device`, `cgroup_sysctl`, `cgroup_sockopt`) to a cgroup v2 directory
 * (`BPF_LINK_CREATE` on the directory's fd). `attachType` is an `AttachType` number such as
 * `AttachType.CGROUP_INET_EGRESS`. Cgroup links always allow other programs on the same hook
 * (they run in attach order).
 *
 * @throws {AttachError} `ENOENT` (from `openat`) for a missing cgroup, `EINVAL` for a program type
 *   that does not fit the attach type.
 * @example
 * ```ts
 * import { AttachType, type Program } from "@tsbpf/core";
 * import { attachCgroup } from "@tsbpf/core/link";
 * declare const prog: Program; // a cgroup_skb program
 * using link = attachCgroup(prog, "/sys/fs/cgroup/my.slice", AttachType.CGROUP_INET_EGRESS);
 * ```
 */
export function attachCgroup(
  program: AttachableProgram,
  cgroupPath: string,
  attachTypeInput: AttachTypeInput,
): Link {
  const attachType = resolveAttachType(attachTypeInput);
  const target = `attachCgroup(${cgroupPath}, ${attachLabel(attachType)})`;
  const progFd = programFd(program, target, progTypesForAttach(attachType));
  const cgroupFd = openReadOnly(cgroupPath, target);
  try {
    const attr = new Attr(LINK_CREATE_CGROUP_ATTR)
      .set("prog_fd", progFd)
      .set("target_fd", cgroupFd)
      .set("attach_type", attachType);
    return createLink(
      target,
      attr,
      (errno) =>
        errno === 9 /* EBADF */
          ? `${cgroupPath} is not a cgroup v2 directory (cgroup v1 hierarchies take no BPF programs)`
          : undefined,
    );
  } finally {
    // The link holds its own reference to the cgroup.
    closeQuietly(cgroupFd);
  }
}

/** What {@link queryAttached} reports for one hook. */
export interface AttachedPrograms {
  /** Ids of the attached programs, in run order. */
  progIds: number[];
  /**
   * Ids of the links that hold them (0 for programs attached without a link). Absent where the
   * kernel does not report link ids (cgroup hooks).
   */
  linkIds?: number[];
  /** The hook's revision (tcx and cgroup hooks on recent kernels; 0 elsewhere). */
  revision: bigint;
}

/** Set once the running kernel refused `link_ids` in `BPF_PROG_QUERY` (before 6.6). */
let linkIdsRefused = false;
const EINVAL = Errno.EINVAL;

/**
 * Lists the programs attached to a hook (`BPF_PROG_QUERY`): of a cgroup (by path), an interface
 * (tcx, netkit), a network namespace (`sk_lookup`, flow dissector; by path such as
 * `/proc/self/ns/net`) or a sockmap/sockhash (by its fd: `{ mapFd: map.fd }`).
 *
 * @throws {AttachError} e.g. `ENOENT` for a missing cgroup, `EINVAL` for an attach type the
 *   target has no hook for.
 * @example
 * ```ts
 * import { AttachType } from "@tsbpf/core";
 * import { queryAttached } from "@tsbpf/core/link";
 * queryAttached({ cgroup: "/sys/fs/cgroup" }, AttachType.CGROUP_INET_EGRESS).progIds;
 * ```
 */
export function queryAttached(
  target: { cgroup: string } | { ifindex: number | string } | { netns: string } | {
    mapFd: number;
  },
  attachTypeInput: AttachTypeInput,
): AttachedPrograms {
  const attachType = resolveAttachType(attachTypeInput);
  const s = sys();
  const path = "cgroup" in target ? target.cgroup : "netns" in target ? target.netns : undefined;
  const mapFd = "mapFd" in target ? target.mapFd : undefined;
  const iface = "ifindex" in target ? target.ifindex : undefined;
  const where = path ?? (mapFd !== undefined ? `map fd ${mapFd}` : `ifindex ${iface}`);
  const label = `queryAttached(${where}, ${attachLabel(attachType)})`;
  const ids = alloc(QUERY_CAPACITY * 8);
  // Link ids the kernel leaves unwritten (cgroup hooks do not report them) stay all-ones.
  ids.fill(0xff, QUERY_CAPACITY * 4);
  const base = s.addressOf(ids);
  const attr = new Attr(PROG_QUERY_ATTR)
    .set("attach_type", attachType)
    .setU64("prog_ids", base)
    .set("prog_cnt", QUERY_CAPACITY)
    .setU64("link_ids", base + BigInt(QUERY_CAPACITY * 4));
  let fd = -1;
  if (path !== undefined) {
    fd = openReadOnly(path, label);
    attr.set("target_fd", fd);
  } else if (mapFd !== undefined) {
    attr.set("target_fd", mapFd);
  } else {
    attr.set("target_ifindex", resolveIfindex(iface ?? 0, "queryAttached"));
  }
  let r: number;
  try {
    if (linkIdsRefused) attr.setU64("link_ids", 0n);
    r = progQuery(attr, ids);
    // Kernels before 6.6 end the query at prog_attach_flags and refuse (EINVAL) a nonzero
    // link_ids: ask again without it, and from then on never pass it.
    if (r === -EINVAL && !linkIdsRefused) {
      attr.setU64("link_ids", 0n);
      const again = progQuery(attr, ids);
      if (again >= 0) linkIdsRefused = true;
      r = again;
    }
  } finally {
    closeQuietly(fd);
  }
  if (r < 0) throw new AttachError(label, BpfCmd.PROG_QUERY, -r);
  const count = Math.min(attr.get("prog_cnt"), QUERY_CAPACITY);
  const dv = new DataView(ids.buffer);
  const progIds: number[] = [];
  const linkIds: number[] = [];
  let linkIdsReported = false;
  for (let i = 0; i < count; i++) {
    progIds.push(dv.getUint32(i * 4, true));
    const link = dv.getUint32(QUERY_CAPACITY * 4 + i * 4, true);
    if (link !== 0xffffffff) linkIdsReported = true;
    linkIds.push(link === 0xffffffff ? 0 : link);
  }
  const out: AttachedPrograms = { progIds, revision: attr.getU64("revision") };
  if (linkIdsReported) out.linkIds = linkIds;
  return out;
}
