/**
 * Network-namespace links: `sk_lookup` programs and the BPF flow dissector
 * (`BPF_LINK_TYPE_NETNS`, Linux 5.8+/5.9+).
 *
 * @module
 */
import { AttachType } from "../../types/attach_type.ts";
import { LINK_CREATE_ATTR } from "../../types/attr.ts";
import { Errno } from "../../types/errno.ts";
import { ProgType } from "../../types/prog_type.ts";
import { Attr } from "../attr.ts";
import { createLink } from "./create.ts";
import type { Link } from "./link.ts";
import { type AttachableProgram, closeQuietly, openReadOnly, programFd } from "./os.ts";

/**
 * A network namespace: a path to its file (`/proc/<pid>/ns/net`, `/run/netns/<name>` as made by
 * `ip netns add`) or an open file descriptor of one. Default: the calling thread's namespace.
 */
export type NetnsTarget = string | number;

/** The calling thread's network namespace. */
const OWN_NETNS = "/proc/thread-self/ns/net";

function netnsLabel(netns: NetnsTarget | undefined): string {
  return netns === undefined
    ? "own netns"
    : typeof netns === "number"
    ? `netns fd ${netns}`
    : netns;
}

/**
 * Opens the namespace unless given an fd: returns the fd and whether it must be closed.
 *
 * @throws {RangeError} for a negative or non-integer fd.
 * @throws {AttachError} when the path cannot be opened.
 */
export function openNetns(netns: NetnsTarget | undefined, target: string): [number, boolean] {
  if (typeof netns === "number") {
    if (!Number.isInteger(netns) || netns < 0) {
      throw new RangeError(`${target}: netns ${netns} is not a file descriptor`);
    }
    return [netns, false];
  }
  return [openReadOnly(netns ?? OWN_NETNS, target), true];
}

function linkNetns(
  fn: string,
  program: AttachableProgram,
  netns: NetnsTarget | undefined,
  progType: number,
  attachType: number,
  explain: (errno: number) => string | undefined,
): Link {
  const target = `${fn}(${netnsLabel(netns)})`;
  const progFd = programFd(program, target, [progType]);
  const [fd, owned] = openNetns(netns, target);
  try {
    const attr = new Attr(LINK_CREATE_ATTR)
      .set("prog_fd", progFd)
      .set("target_fd", fd)
      .set("attach_type", attachType);
    return createLink(target, attr, (errno) => {
      if (errno === Errno.EINVAL && typeof netns === "number") {
        return `fd ${netns} must be a network namespace file, and the program of the right type`;
      }
      if (errno === Errno.EINVAL && typeof netns === "string") {
        return `${netns} must be a network namespace file, and the program of the right type`;
      }
      return explain(errno);
    });
  } finally {
    // The link holds its own reference to the namespace.
    if (owned) closeQuietly(fd);
  }
}

/**
 * Attaches an `sk_lookup` program to a network namespace (`BPF_LINK_CREATE`, `BPF_SK_LOOKUP`):
 * it runs when a TCP SYN or UDP packet arrives and the kernel looks for the socket to deliver it
 * to, and may pick one itself with `bpf_sk_assign` (from a sockmap). Several links on one
 * namespace run in attach order. Closing the link or `detach()` removes the program; `update()`
 * swaps it.
 *
 * @param netns the namespace (path or fd); default the calling thread's.
 * @throws {TypeError} for a program that is not an `sk_lookup` program.
 * @throws {AttachError} `ENOENT` (from `openat`) for a missing namespace file, `EINVAL` when the
 *   target is no network namespace.
 * @example
 * ```ts
 * import { asm, AttachType, Program } from "@tsbpf/core";
 * import { attachSkLookup } from "@tsbpf/core/link";
 * using prog = Program.load({
 *   type: "sk_lookup",
 *   expectedAttachType: AttachType.SK_LOOKUP,
 *   license: "GPL",
 *   insns: asm`r0 = 1\nexit`, // SK_PASS: let the kernel's own lookup go on
 * });
 * using link = attachSkLookup(prog); // or attachSkLookup(prog, "/run/netns/blue")
 * console.log(link.info().netns); // { netnsIno: …, attachType: 36 }
 * ```
 */
export function attachSkLookup(program: AttachableProgram, netns?: NetnsTarget): Link {
  return linkNetns(
    "attachSkLookup",
    program,
    netns,
    ProgType.SK_LOOKUP,
    AttachType.SK_LOOKUP,
    (errno) =>
      errno === Errno.E2BIG
        ? "too many sk_lookup programs on this namespace (64 at most)"
        : undefined,
  );
}

/**
 * Attaches a `flow_dissector` program to a network namespace (`BPF_LINK_CREATE`,
 * `BPF_FLOW_DISSECTOR`): the kernel then asks it, instead of its own C dissector, to parse the
 * headers of packets whose flow it needs (hashing for RPS, fq, packet fanout…). One per
 * namespace; one in the initial namespace overrides all others. `update()` swaps the program.
 *
 * @param netns the namespace (path or fd); default the calling thread's.
 * @throws {TypeError} for a program that is not a flow dissector.
 * @throws {AttachError} `E2BIG` when a dissector is already attached to this namespace,
 *   `EEXIST` when one is attached to the initial one (or, attaching in the initial one, to any
 *   other).
 * @example
 * ```ts ignore
 * import { AttachType, Program } from "@tsbpf/core";
 * import { attachFlowDissector } from "@tsbpf/core/link";
 * declare const prog: Program; // a flow_dissector program
 * using link = attachFlowDissector(prog, "/run/netns/blue");
 * ```
 */
export function attachFlowDissector(program: AttachableProgram, netns?: NetnsTarget): Link {
  return linkNetns(
    "attachFlowDissector",
    program,
    netns,
    ProgType.FLOW_DISSECTOR,
    AttachType.FLOW_DISSECTOR,
    (errno) =>
      errno === Errno.E2BIG
        ? "a flow dissector is attached already to this namespace (one per namespace)"
        : errno === Errno.EEXIST
        ? "a flow dissector is attached to the initial namespace (it overrides all others and " +
          "excludes them), or, attaching in the initial one, to another namespace"
        : undefined,
  );
}
