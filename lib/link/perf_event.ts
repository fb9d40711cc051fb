/**
 * `perf_event` programs on sampling events: `perf_event_open` through the FFI layer, then a
 * perf-event link, or the `PERF_EVENT_IOC_SET_BPF` ioctl where links are missing.
 *
 * @module
 */
import { AttachType } from "../../types/attach_type.ts";
import { LINK_CREATE_PERF_EVENT_ATTR } from "../../types/attr.ts";
import { BpfCmd } from "../../types/cmd.ts";
import { Errno } from "../../types/errno.ts";
import { ProgType } from "../../types/prog_type.ts";
import { Attr } from "../attr.ts";
import { BpfError } from "../errors.ts";
import { perfEventOpen, PerfIoctl, perfIoctl, PerfType } from "../perf/event.ts";
import { linkCreate } from "../sys/bpf_cmds.ts";
import { AttachError } from "./errors.ts";
import { Link, type LinkInfo } from "./link.ts";
import { perfEventLinks } from "./perf_link.ts";
import { type AttachableProgram, closeQuietly, programFd } from "./os.ts";

/**
 * The event a `perf_event` program samples, and where.
 *
 * - `type`: `"software"`, `"hardware"`, or a `PerfType` number (e.g. a dynamic PMU's type);
 * - `config`: which event (`PerfSwConfig.CPU_CLOCK`, `PerfHwConfig.CPU_CYCLES`…);
 * - `samplePeriod` (one sample every N events) or `sampleFreq` (about N samples per second);
 * - `cpu` (every task on that CPU) or `pid` (that task on any CPU), or both.
 *
 * @example
 * ```ts
 * import type { PerfEventTarget } from "@tsbpf/core/link";
 * const target: PerfEventTarget = { type: "software", config: 0, sampleFreq: 99, cpu: 0 };
 * ```
 */
export interface PerfEventTarget {
  /** Event type. */
  type: "software" | "hardware" | number;
  /** Event of the type (`config`). */
  config: number | bigint;
  /** One sample every this many events. */
  samplePeriod?: number | bigint;
  /** About this many samples per second. */
  sampleFreq?: number;
  /** The CPU to sample on; -1 or absent for any (then `pid` is needed). */
  cpu?: number;
  /** The task to sample; -1 or absent for all (then `cpu` is needed). */
  pid?: number;
  /** `bpf_get_attach_cookie()` value (link mode only). */
  cookie?: bigint;
  /**
   * `"link"`: a `BPF_LINK_TYPE_PERF_EVENT` link (5.15+; `EOPNOTSUPP` naming what is missing
   * where the kernel's profile says it has none); `"ioctl"`: `PERF_EVENT_IOC_SET_BPF` on the
   * event (any kernel); `"auto"` (default): the link, or the ioctl when the kernel has no
   * perf-event links.
   */
  mode?: "auto" | "link" | "ioctl";
}

/**
 * A `perf_event` program attached to a sampling event. Through a link ({@link
 * PerfEventAttachment.link}: info, pin, update…) or, on kernels without perf-event links, held
 * by the event's fd itself. `close()` (or `using`) detaches it and frees the event.
 *
 * @example
 * ```ts
 * import type { Program } from "@tsbpf/core";
 * import { attachPerfEvent } from "@tsbpf/core/link";
 * declare const prog: Program; // loaded, of the type this attach point takes
 * using a = attachPerfEvent(prog, { type: "software", config: 0, sampleFreq: 99, cpu: 0 });
 * console.log(a.method, a.link?.info().typeName); // "link" "perf_event"
 * ```
 */
export class PerfEventAttachment implements Disposable {
  /** The perf-event link, when attached through one. */
  readonly link: Link | undefined;
  /** How the program was attached. */
  readonly method: "link" | "ioctl";
  #eventFd: number;

  /** Wraps what {@link attachPerfEvent} made. */
  constructor(link: Link | undefined, eventFd: number) {
    this.link = link;
    this.method = link === undefined ? "ioctl" : "link";
    this.#eventFd = eventFd;
  }

  /** Whether {@link PerfEventAttachment.close} has run. */
  get closed(): boolean {
    return this.#eventFd < 0;
  }

  /**
   * The link's information (`BPF_OBJ_GET_INFO_BY_FD`).
   *
   * @throws {TypeError} for an ioctl attachment, which has no link.
   */
  info(): LinkInfo {
    if (this.link === undefined) {
      throw new TypeError("an attachment made with PERF_EVENT_IOC_SET_BPF has no link to describe");
    }
    return this.link.info();
  }

  /** Detaches the program and closes the event; later calls do nothing. */
  close(): void {
    if (this.#eventFd < 0) return;
    this.link?.close();
    if (this.link === undefined) perfIoctl(this.#eventFd, PerfIoctl.DISABLE, 0);
    closeQuietly(this.#eventFd);
    this.#eventFd = -1;
  }

  /** Closes at the end of a `using` block. */
  [Symbol.dispose](): void {
    this.close();
  }
}

function eventType(t: PerfEventTarget["type"]): number {
  if (t === "software") return PerfType.SOFTWARE;
  if (t === "hardware") return PerfType.HARDWARE;
  if (!Number.isInteger(t) || t < 0) throw new RangeError(`invalid perf event type ${t}`);
  return t;
}

/**
 * Attaches a `perf_event` program to a sampling event: opens it with `perf_event_open` (per CPU,
 * per task, or both), then links the program to it (`BPF_LINK_CREATE`, `BPF_PERF_EVENT`) or,
 * where the kernel has no perf-event links, sets it with `PERF_EVENT_IOC_SET_BPF` and enables
 * the event. The program runs on every sample, with `struct bpf_perf_event_data` as context.
 *
 * @throws {AttachError} naming the event: e.g. `ENOENT`/`EOPNOTSUPP` from `perf_event_open` for a
 *   hardware event the machine has no PMU for (common in VMs), `EACCES`/`EPERM` without
 *   `CAP_PERFMON`.
 * @throws {TypeError} for a program of another type, or an event with neither `cpu` nor `pid`.
 * @example
 * ```ts
 * import type { Program } from "@tsbpf/core";
 * import { attachPerfEvent } from "@tsbpf/core/link";
 * import { PerfSwConfig } from "@tsbpf/core/perf";
 * declare const prog: Program; // loaded, of the type this attach point takes
 * using a = attachPerfEvent(prog, {
 *   type: "software",
 *   config: PerfSwConfig.CPU_CLOCK,
 *   sampleFreq: 49,
 *   cpu: 0,
 * });
 * ```
 */
export function attachPerfEvent(
  program: AttachableProgram,
  event: PerfEventTarget,
): PerfEventAttachment {
  const cpu = event.cpu ?? -1;
  const pid = event.pid ?? -1;
  const target = `attachPerfEvent(type ${event.type} config ${event.config}, ` +
    (pid >= 0 ? `pid ${pid}` : `cpu ${cpu}`) + ")";
  const progFd = programFd(program, target, [ProgType.PERF_EVENT]);
  if (cpu < 0 && pid < 0) {
    throw new TypeError(`${target}: give a cpu (every task on it) or a pid (that task), or both`);
  }
  if (event.samplePeriod === undefined && event.sampleFreq === undefined) {
    throw new TypeError(`${target}: give samplePeriod or sampleFreq`);
  }
  const mode = event.mode ?? "auto";
  if (mode === "ioctl" && event.cookie !== undefined) {
    throw new TypeError(`${target}: a cookie needs a link (mode "link" or "auto")`);
  }
  let fd: number;
  try {
    fd = perfEventOpen({
      type: eventType(event.type),
      config: event.config,
      samplePeriod: event.samplePeriod,
      sampleFreq: event.sampleFreq,
      disabled: mode === "ioctl",
    }, { pid, cpu });
  } catch (e) {
    if (e instanceof BpfError) {
      const why = e.errnoName === "ENOENT" || e.errnoName === "EOPNOTSUPP"
        ? "the kernel has no such event here (no PMU for hardware events in many VMs)"
        : undefined;
      throw new AttachError(target, "perf_event_open", e.errno, why);
    }
    throw e;
  }
  // Whether the kernel has perf-event links (5.15), as its profile answers.
  const links = perfEventLinks();
  if (links.state === "no" && (mode === "link" || event.cookie !== undefined)) {
    closeQuietly(fd);
    throw new AttachError(
      target,
      BpfCmd.LINK_CREATE,
      Errno.EOPNOTSUPP,
      `${mode === "link" ? 'mode "link"' : "a cookie"} needs a perf-event link: ${links.reason}`,
    );
  }
  try {
    if (mode !== "ioctl" && links.state !== "no") {
      const attr = new Attr(LINK_CREATE_PERF_EVENT_ATTR)
        .set("prog_fd", progFd)
        .set("target_fd", fd)
        .set("attach_type", AttachType.PERF_EVENT);
      if (event.cookie !== undefined) attr.set("perf_event.bpf_cookie", event.cookie);
      const lfd = linkCreate(attr);
      if (lfd >= 0) return new PerfEventAttachment(new Link(lfd), fd);
      // EINVAL where the profile could not decide: a kernel before perf-event links (5.15).
      if (
        mode === "link" || links.state === "yes" || -lfd !== Errno.EINVAL ||
        event.cookie !== undefined
      ) {
        throw new AttachError(target, BpfCmd.LINK_CREATE, -lfd);
      }
    }
    let r = perfIoctl(fd, PerfIoctl.SET_BPF, progFd);
    if (r < 0) throw new AttachError(target, "ioctl(PERF_EVENT_IOC_SET_BPF)", -r);
    r = perfIoctl(fd, PerfIoctl.ENABLE, 0);
    if (r < 0) throw new AttachError(target, "ioctl(PERF_EVENT_IOC_ENABLE)", -r);
    return new PerfEventAttachment(undefined, fd);
  } catch (e) {
    closeQuietly(fd);
    throw e;
  }
}
