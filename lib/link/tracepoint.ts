/**
 * Tracepoints through `perf_event_open` and perf-event links.
 *
 * @module
 */
import { pathExists, readFileText } from "../host_fs.ts";
import { alloc, retain } from "../sys/memory.ts";
import { sys } from "../sys/mod.ts";
import { ProgType } from "../../types/prog_type.ts";
import { AttachError } from "./errors.ts";
import type { Link } from "./link.ts";
import { type AttachableProgram, programFd } from "./os.ts";
import { linkPerfEvent } from "./perf_link.ts";
import { Errno } from "../../types/errno.ts";
import { PerfFlag, PerfType } from "../../types/os.ts";

/** Where tracefs is mounted, in the order they are tried. */
export const TRACEFS_PATHS: readonly string[] = [
  "/sys/kernel/tracing",
  "/sys/kernel/debug/tracing",
];

/** `sizeof(struct perf_event_attr)` up to `PERF_ATTR_SIZE_VER7`. */
const PERF_ATTR_SIZE = 128;
const PERF_FLAG_FD_CLOEXEC = BigInt(PerfFlag.FD_CLOEXEC);
/** `ENOENT`. */
const ENOENT = Errno.ENOENT;

const NAME = /^[A-Za-z0-9_.-]+$/;

/**
 * The id of a tracepoint, from `events/<category>/<name>/id` in tracefs.
 *
 * @throws {AttachError} `ENOENT`, naming every path looked in (and saying when tracefs is not
 *   mounted at all).
 * @example
 * ```ts
 * import { tracepointId } from "@tsbpf/core/link";
 * tracepointId("syscalls", "sys_enter_getpid"); // e.g. 1234
 * ```
 */
export function tracepointId(category: string, name: string): number {
  const target = `attachTracepoint(${category}/${name})`;
  if (!NAME.test(category) || !NAME.test(name)) {
    throw new RangeError(`${target}: category and name must be [A-Za-z0-9_.-]+`);
  }
  const tried: string[] = [];
  let mounted = false;
  for (const root of TRACEFS_PATHS) {
    if (pathExists(`${root}/events`)) mounted = true;
    const path = `${root}/events/${category}/${name}/id`;
    tried.push(path);
    try {
      return Number(readFileText(path).trim());
    } catch {
      // Try the next location.
    }
  }
  throw new AttachError(
    target,
    "open",
    ENOENT,
    mounted
      ? `no such tracepoint (looked in ${tried.join(", ")})`
      : `tracefs is not mounted (looked in ${tried.join(", ")}); mount it with ` +
        "`mount -t tracefs nodev /sys/kernel/tracing`",
  );
}

/** Opens a perf event for tracepoint `id` on CPU 0 for all processes; the caller owns the fd. */
function openTracepointEvent(id: number, target: string): number {
  const s = sys();
  const attr = alloc(PERF_ATTR_SIZE);
  const dv = new DataView(attr.buffer);
  dv.setUint32(0, PerfType.TRACEPOINT, true); // type
  dv.setUint32(4, PERF_ATTR_SIZE, true); // size
  dv.setBigUint64(8, BigInt(id), true); // config
  dv.setBigUint64(16, 1n, true); // sample_period
  dv.setUint32(48, 1, true); // wakeup_events
  const fd = s.syscall(s.nr.perf_event_open, s.addressOf(attr), -1n, 0n, -1n, PERF_FLAG_FD_CLOEXEC);
  retain(attr);
  if (fd < 0n) throw new AttachError(target, "perf_event_open", Number(-fd), `tracepoint id ${id}`);
  return Number(fd);
}

/**
 * Attaches a `tracepoint` program to a kernel tracepoint: `perf_event_open` of the tracepoint,
 * then a perf-event link (`BPF_LINK_CREATE`, `BPF_PERF_EVENT`). The link holds the perf event;
 * closing the link detaches the program and frees the event.
 *
 * @throws {AttachError} `ENOENT` for an unknown tracepoint (with the paths looked in), `EINVAL`
 *   for a program of another type.
 * @example
 * ```ts
 * import { asm, Program } from "@tsbpf/core";
 * import { attachTracepoint } from "@tsbpf/core/link";
 * using prog = Program.load({ type: "tracepoint", insns: asm`r0 = 0\nexit`, license: "GPL" });
 * using link = attachTracepoint(prog, "syscalls", "sys_enter_getpid");
 * ```
 */
export function attachTracepoint(program: AttachableProgram, category: string, name: string): Link {
  const target = `attachTracepoint(${category}/${name})`;
  const progFd = programFd(program, target, [ProgType.TRACEPOINT]);
  const id = tracepointId(category, name);
  return linkPerfEvent(target, progFd, openTracepointEvent(id, target));
}
