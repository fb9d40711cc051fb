/**
 * Attaching a program to a perf event (a tracepoint, kprobe or uprobe event): a perf-event link
 * (`BPF_LINK_CREATE`, `BPF_PERF_EVENT`; Linux 5.15) where the kernel has them, else the classic
 * `PERF_EVENT_IOC_SET_BPF` ioctl on the event, held by a {@link PerfEventIoctlLink}. The choice
 * comes from the live profile (`bpf_link_type` `perf_event` in the kernel's BTF, asked once).
 *
 * @module
 */
import { AttachType } from "../../types/attach_type.ts";
import { LINK_CREATE_PERF_EVENT_ATTR } from "../../types/attr.ts";
import { BpfCmd } from "../../types/cmd.ts";
import { Errno } from "../../types/errno.ts";
import { LinkType } from "../../types/link_type.ts";
import { Attr } from "../attr.ts";
import { BpfError } from "../errors.ts";
import { PerfIoctl, perfIoctl } from "../perf/event.ts";
import { liveProfile } from "../profile/live.ts";
import type { Answer } from "../profile/types.ts";
import { linkCreate } from "../sys/bpf_cmds.ts";
import { AttachError } from "./errors.ts";
import { Link, type LinkInfo } from "./link.ts";
import type { AttachableProgram } from "./os.ts";
import { closeQuietly } from "./os.ts";

/**
 * A program attached to a perf event with `PERF_EVENT_IOC_SET_BPF`, on a kernel without
 * perf-event links (before Linux 5.15). It is a {@link Link} whose `fd` is the perf event's:
 * closing it detaches the program and frees the event. What only a `bpf_link` can do — `info()`,
 * `id`, `pin()`, `update()`, `detach()` — throws a {@link BpfError} `EOPNOTSUPP` that names what the
 * kernel lacks.
 *
 * @example
 * ```ts ignore
 * import { attachTracepoint, PerfEventIoctlLink } from "@tsbpf/core/link";
 * using link = attachTracepoint(prog, "syscalls", "sys_enter_getpid");
 * if (link instanceof PerfEventIoctlLink) console.log(link.reason); // no perf_event link type
 * ```
 */
export class PerfEventIoctlLink extends Link {
  /** Always `"ioctl"`: how the program was attached. */
  readonly method: "ioctl" = "ioctl";
  /** What was attached where, e.g. `"attachKprobe(do_sys_openat2)"`. */
  readonly target: string;
  /** Why there is no `bpf_link`: the profile's answer for the `perf_event` link type. */
  readonly reason: string;
  readonly #onClose: () => void;

  /** Takes ownership of `eventFd`, on which the program is already set. Prefer the attach functions. */
  constructor(eventFd: number, target: string, reason: string, onClose: () => void = () => {}) {
    super(eventFd);
    this.target = target;
    this.reason = reason;
    this.#onClose = onClose;
  }

  #unsupported(command: number): BpfError {
    return new BpfError(
      command,
      Errno.EOPNOTSUPP,
      `${this.target} was attached with PERF_EVENT_IOC_SET_BPF, not through a bpf_link: ${this.reason}`,
    );
  }

  /**
   * Refused: there is no `bpf_link`, so no link id.
   *
   * @throws {BpfError} `EOPNOTSUPP`, naming what the kernel lacks.
   */
  override get id(): number {
    throw this.#unsupported(BpfCmd.OBJ_GET_INFO_BY_FD);
  }

  /**
   * Refused: there is no `bpf_link` to describe.
   *
   * @throws {BpfError} `EOPNOTSUPP`, naming what the kernel lacks.
   */
  override info(): LinkInfo {
    throw this.#unsupported(BpfCmd.OBJ_GET_INFO_BY_FD);
  }

  /**
   * Refused: a perf event cannot be pinned in bpffs.
   *
   * @throws {BpfError} `EOPNOTSUPP`, naming what the kernel lacks.
   */
  override pin(_path: string): void {
    throw this.#unsupported(BpfCmd.OBJ_PIN);
  }

  /**
   * Refused: the program of an ioctl attachment cannot be replaced in place.
   *
   * @throws {BpfError} `EOPNOTSUPP`, naming what the kernel lacks.
   */
  override update(_program: AttachableProgram, _expected?: AttachableProgram): void {
    throw this.#unsupported(BpfCmd.LINK_UPDATE);
  }

  /**
   * Refused: there is no link to detach; `close()` detaches the program.
   *
   * @throws {BpfError} `EOPNOTSUPP`, naming what the kernel lacks.
   */
  override detach(): void {
    throw this.#unsupported(BpfCmd.LINK_DETACH);
  }

  /** Disables and closes the perf event (the program detaches); later calls do nothing. */
  override close(): void {
    if (this.closed) return;
    perfIoctl(this.fd, PerfIoctl.DISABLE, 0);
    super.close();
    this.#onClose();
  }

  /** `console.log` rendering: the target and the method, no link id. */
  override toString(): string {
    return `PerfEventIoctlLink { ${this.target}${this.closed ? ", closed" : ""} }`;
  }
}

/** Whether the running kernel has perf-event links, as its live profile answers (cached). */
export function perfEventLinks(): Answer {
  return liveProfile().linkType(LinkType.PERF_EVENT);
}

/**
 * Attaches program `progFd` to the perf event `eventFd`, which it takes over: through a
 * perf-event link when the profile says the kernel has them (the link holds the event, whose fd
 * is closed here), else with `PERF_EVENT_IOC_SET_BPF` (a {@link PerfEventIoctlLink} owns the
 * event). When the profile cannot decide (no BTF), the link is tried and `EINVAL` falls back to
 * the ioctl. `onClose` runs when the attachment is closed, or here on failure (e.g. removing a
 * tracefs kprobe). `makeLink` wraps a link fd (default: {@link Link}).
 *
 * @throws {AttachError} from `BPF_LINK_CREATE` or the ioctls; `EOPNOTSUPP` naming the missing
 *   perf-event links when a cookie is asked for on a kernel without them.
 */
export function linkPerfEvent(
  target: string,
  progFd: number,
  eventFd: number,
  options: { cookie?: bigint; onClose?: () => void; makeLink?: (fd: number) => Link } = {},
): Link {
  const { cookie, onClose = () => {}, makeLink = (fd: number) => new Link(fd) } = options;
  let owned = true;
  try {
    const links = perfEventLinks();
    if (links.state !== "no") {
      const attr = new Attr(LINK_CREATE_PERF_EVENT_ATTR)
        .set("prog_fd", progFd)
        .set("target_fd", eventFd)
        .set("attach_type", AttachType.PERF_EVENT);
      if (cookie !== undefined) attr.setU64("perf_event.bpf_cookie", cookie);
      const lfd = linkCreate(attr);
      if (lfd >= 0) {
        owned = false;
        return makeLink(lfd);
      }
      // Undecided profile: EINVAL is what a kernel without perf-event links answers.
      if (links.state === "yes" || -lfd !== Errno.EINVAL || cookie !== undefined) {
        throw new AttachError(target, BpfCmd.LINK_CREATE, -lfd);
      }
    } else if (cookie !== undefined) {
      throw new AttachError(
        target,
        BpfCmd.LINK_CREATE,
        Errno.EOPNOTSUPP,
        `a cookie needs a perf-event link: ${links.reason}`,
      );
    }
    let r = perfIoctl(eventFd, PerfIoctl.SET_BPF, progFd);
    if (r < 0) throw new AttachError(target, "ioctl(PERF_EVENT_IOC_SET_BPF)", -r);
    r = perfIoctl(eventFd, PerfIoctl.ENABLE, 0);
    if (r < 0) throw new AttachError(target, "ioctl(PERF_EVENT_IOC_ENABLE)", -r);
    const link = new PerfEventIoctlLink(eventFd, target, links.reason, onClose);
    owned = false;
    eventFd = -1;
    return link;
  } finally {
    // A link holds its own reference to the event; on failure nothing is left behind.
    if (eventFd >= 0) closeQuietly(eventFd);
    if (owned) onClose();
  }
}
