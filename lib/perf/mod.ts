/**
 * Perf events: {@link PerfBuffer} reads the samples BPF programs write with
 * `bpf_perf_event_output` into a `BPF_MAP_TYPE_PERF_EVENT_ARRAY` (one mmapped ring per CPU), and
 * {@link perfEventOpen} opens software, hardware and tracepoint events through the FFI layer.
 *
 * ```ts
 * import { BpfMap } from "@tsbpf/core";
 * import { PerfBuffer } from "@tsbpf/core/perf";
 * using events = BpfMap.create({ type: "perf_event_array", maxEntries: 4 });
 * using pb = new PerfBuffer(events);
 * for await (const ev of pb) console.log(ev.cpu, ev.type === "sample" ? ev.data : ev.lost);
 * ```
 *
 * @module
 */
export {
  cpuListNumbers,
  onlineCpus,
  PERF_SAMPLE_RAW,
  type PerfEventAttr,
  perfEventOpen,
  PerfHwConfig,
  PerfIoctl,
  perfIoctl,
  type PerfScope,
  PerfSwConfig,
  PerfType,
} from "./event.ts";
export {
  PerfBuffer,
  PerfBufferClosedError,
  type PerfBufferOptions,
  type PerfEvent,
  type PerfLostCallback,
  type PerfRawCallback,
  type PerfRecordCallback,
} from "./perf_buffer.ts";
export type { BpfError, ClosedError } from "../errors.ts";
