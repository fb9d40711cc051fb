/**
 * `perf_event_open(2)` and the perf-event `ioctl`s, through the FFI layer: the perf buffer and
 * `attachPerfEvent` build on these.
 *
 * @module
 */
import { readFileText } from "../host_fs.ts";
import { BpfError } from "../errors.ts";
import { alloc, retain } from "../sys/memory.ts";
import { sys } from "../sys/mod.ts";
import { PerfFlag, PerfType } from "../../types/os.ts";

export { PerfType };

/** `perf_sw_ids`: `config` of `PERF_TYPE_SOFTWARE` events. */
export const PerfSwConfig = {
  CPU_CLOCK: 0,
  TASK_CLOCK: 1,
  PAGE_FAULTS: 2,
  CONTEXT_SWITCHES: 3,
  CPU_MIGRATIONS: 4,
  PAGE_FAULTS_MIN: 5,
  PAGE_FAULTS_MAJ: 6,
  ALIGNMENT_FAULTS: 7,
  EMULATION_FAULTS: 8,
  DUMMY: 9,
  BPF_OUTPUT: 10,
  CGROUP_SWITCHES: 11,
} as const;

/** `perf_hw_id`: `config` of `PERF_TYPE_HARDWARE` events. */
export const PerfHwConfig = {
  CPU_CYCLES: 0,
  INSTRUCTIONS: 1,
  CACHE_REFERENCES: 2,
  CACHE_MISSES: 3,
  BRANCH_INSTRUCTIONS: 4,
  BRANCH_MISSES: 5,
  BUS_CYCLES: 6,
  STALLED_CYCLES_FRONTEND: 7,
  STALLED_CYCLES_BACKEND: 8,
  REF_CPU_CYCLES: 9,
} as const;

/** `PERF_SAMPLE_RAW`. */
export const PERF_SAMPLE_RAW = 1n << 10n;
/** `sizeof(struct perf_event_attr)` (`PERF_ATTR_SIZE_VER5`; every kernel since 4.1 takes it). */
const ATTR_SIZE = 112;
const FD_CLOEXEC = BigInt(PerfFlag.FD_CLOEXEC);
/** Bits of the flags word at offset 40. */
const FLAG_DISABLED = 1n << 0n;
const FLAG_FREQ = 1n << 10n;
const FLAG_WATERMARK = 1n << 14n;

/** `_IO('$', 0)`, `_IO('$', 1)`, `_IOW('$', 8, u32)`, `_IOW('$', 9, u32)`. */
export const PerfIoctl = {
  ENABLE: 0x2400n,
  DISABLE: 0x2401n,
  SET_BPF: 0x40042408n,
  PAUSE_OUTPUT: 0x40042409n,
} as const;

/**
 * What {@link perfEventOpen} opens: the fields of `struct perf_event_attr` that tsbpf sets.
 *
 * @example
 * ```ts
 * import type { PerfEventAttr } from "@tsbpf/core/perf";
 * const attr: PerfEventAttr = { type: 1, config: 10, samplePeriod: 1, sampleType: 1n << 10n };
 * ```
 */
export interface PerfEventAttr {
  /** `type` (`PerfType`). */
  type: number;
  /** `config`: which event of the type (`PerfSwConfig`, `PerfHwConfig`, a tracepoint id…). */
  config: number | bigint;
  /** `sample_period`: one sample every this many events. Exclusive with `sampleFreq`. */
  samplePeriod?: number | bigint;
  /** `sample_freq` (sets `freq`): about this many samples per second. */
  sampleFreq?: number;
  /** `sample_type` bits (`PERF_SAMPLE_*`). */
  sampleType?: bigint;
  /** `wakeup_events`: wake readers every this many samples. Exclusive with `wakeupWatermark`. */
  wakeupEvents?: number;
  /** `wakeup_watermark` (sets `watermark`): wake readers when this many bytes are waiting. */
  wakeupWatermark?: number;
  /** `config1` (kprobe/uprobe PMUs: the address of the function or path name). */
  config1?: bigint;
  /** `config2` (kprobe/uprobe PMUs: the offset). */
  config2?: bigint;
  /** Open the event disabled (`disabled`): it counts only after `PERF_EVENT_IOC_ENABLE`. */
  disabled?: boolean;
}

/**
 * Where a perf event counts: `pid` -1 with a CPU (every task on that CPU), or a pid with CPU -1
 * (that task on any CPU), as `perf_event_open(2)` takes them.
 *
 * @example
 * ```ts
 * import type { PerfScope } from "@tsbpf/core/perf";
 * const scope: PerfScope = { pid: -1, cpu: 0 };
 * ```
 */
export interface PerfScope {
  /** Process or thread id; -1 for all. */
  pid: number;
  /** CPU number; -1 for any. */
  cpu: number;
}

/**
 * Opens a perf event (`perf_event_open(2)`, close-on-exec) and returns its fd, owned by the
 * caller.
 *
 * @throws {BpfError} with the errno and what was opened, e.g. `ENOENT` for a hardware event the
 *   machine has no PMU for, `EACCES` without `CAP_PERFMON`.
 * @example
 * ```ts
 * import { perfEventOpen, PerfSwConfig, PerfType } from "@tsbpf/core/perf";
 * const fd = perfEventOpen({ type: PerfType.SOFTWARE, config: PerfSwConfig.CPU_CLOCK,
 *   sampleFreq: 99 }, { pid: -1, cpu: 0 });
 * ```
 */
export function perfEventOpen(attr: PerfEventAttr, scope: PerfScope): number {
  const s = sys();
  const buf = alloc(ATTR_SIZE);
  const v = new DataView(buf.buffer);
  let flags = attr.disabled ? FLAG_DISABLED : 0n;
  v.setUint32(0, attr.type, true);
  v.setUint32(4, ATTR_SIZE, true);
  v.setBigUint64(8, BigInt(attr.config), true);
  if (attr.sampleFreq !== undefined) {
    if (attr.samplePeriod !== undefined) {
      throw new TypeError("perf event: give samplePeriod or sampleFreq, not both");
    }
    if (!Number.isInteger(attr.sampleFreq) || attr.sampleFreq <= 0) {
      throw new RangeError(`sampleFreq must be a positive integer, got ${attr.sampleFreq}`);
    }
    v.setBigUint64(16, BigInt(attr.sampleFreq), true);
    flags |= FLAG_FREQ;
  } else if (attr.samplePeriod !== undefined) {
    const p = BigInt(attr.samplePeriod);
    if (p <= 0n) throw new RangeError(`samplePeriod must be positive, got ${attr.samplePeriod}`);
    v.setBigUint64(16, p, true);
  }
  v.setBigUint64(24, attr.sampleType ?? 0n, true);
  if (attr.wakeupWatermark !== undefined) {
    if (attr.wakeupEvents !== undefined) {
      throw new TypeError("perf event: give wakeupEvents or wakeupWatermark, not both");
    }
    v.setUint32(48, attr.wakeupWatermark, true);
    flags |= FLAG_WATERMARK;
  } else if (attr.wakeupEvents !== undefined) {
    v.setUint32(48, attr.wakeupEvents, true);
  }
  v.setBigUint64(40, flags, true);
  v.setBigUint64(56, attr.config1 ?? 0n, true);
  v.setBigUint64(64, attr.config2 ?? 0n, true);
  const fd = s.syscall(
    s.nr.perf_event_open,
    s.addressOf(buf),
    BigInt(scope.pid),
    BigInt(scope.cpu),
    -1n,
    FD_CLOEXEC,
  );
  retain(buf);
  if (fd < 0n) {
    throw new BpfError(
      "perf_event_open",
      Number(-fd),
      `type ${attr.type} config ${attr.config}, pid ${scope.pid} cpu ${scope.cpu}`,
    );
  }
  return Number(fd);
}

/**
 * `ioctl(fd, request, arg)` with an integer argument; returns 0 or `-errno` (never throws).
 *
 * @example
 * ```ts
 * import { perfEventOpen, perfIoctl, PerfIoctl, PerfSwConfig, PerfType } from "@tsbpf/core/perf";
 * const fd = perfEventOpen({ type: PerfType.SOFTWARE, config: PerfSwConfig.CPU_CLOCK }, { pid: 0, cpu: -1 });
 * perfIoctl(fd, PerfIoctl.ENABLE, 0);
 * ```
 */
export function perfIoctl(fd: number, request: bigint, arg: number): number {
  const s = sys();
  return Number(s.syscall(s.nr.ioctl, BigInt(fd), request, BigInt(arg)));
}

/**
 * Parses a kernel CPU list (`"0-3,8"`) into the CPU numbers it names, ascending.
 *
 * @throws {RangeError} on text that is not a CPU list.
 * @example
 * ```ts
 * import { cpuListNumbers } from "@tsbpf/core/perf";
 * cpuListNumbers("0-2,5\n"); // [0, 1, 2, 5]
 * ```
 */
export function cpuListNumbers(text: string): number[] {
  const out: number[] = [];
  const trimmed = text.trim();
  if (trimmed === "") return out;
  for (const part of trimmed.split(",")) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part);
    if (m === null) throw new RangeError(`"${part}" in CPU list "${trimmed}" is not N or N-M`);
    const lo = Number(m[1]);
    const hi = m[2] === undefined ? lo : Number(m[2]);
    if (hi < lo) throw new RangeError(`range "${part}" in CPU list "${trimmed}" is reversed`);
    for (let c = lo; c <= hi; c++) out.push(c);
  }
  return out;
}

/**
 * The CPUs that are online now (`/sys/devices/system/cpu/online`).
 *
 * @example
 * ```ts
 * import { onlineCpus } from "@tsbpf/core/perf";
 * onlineCpus().includes(0); // true
 * ```
 */
export function onlineCpus(): number[] {
  return cpuListNumbers(readFileText("/sys/devices/system/cpu/online"));
}
