/**
 * Helpers of the perf buffer tests: the producer of bench/c/perfbuf_emit.bpf.c (an XDP program
 * run through BPF_PROG_TEST_RUN whose packet is `struct args { u32 count; u32 dropped; u64 seq;
 * u32 size; u32 pad; }`), and counts of this process's perf mappings.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { type LoadedObject, loadObject } from "../lib/object/mod.ts";
import { repoRoot } from "./util.ts";

/** The producer object (map `events`, program `emit`). */
export function loadEmitter(): LoadedObject {
  return loadObject(join(repoRoot, "bench", "c", "perfbuf_emit.bpf.o"));
}

/** Result of one producer run. */
export interface EmitResult {
  /** Outputs that failed (ring full, paused, or no reader on the CPU). */
  dropped: number;
  /** The next sequence number: `seq` + the outputs that succeeded. */
  next: number;
}

/** Runs the producer once: `count` records of `size` bytes, numbered from `seq`. */
export function emitRecords(
  obj: LoadedObject,
  seq: number,
  count: number,
  size: number,
): EmitResult {
  const data = new Uint8Array(new ArrayBuffer(64));
  const v = new DataView(data.buffer);
  v.setUint32(0, count, true);
  v.setBigUint64(8, BigInt(seq), true);
  v.setUint32(16, size, true);
  const r = obj.programs.emit.testRun({ data });
  if (r.retval !== 2) throw new Error(`producer returned ${r.retval}, not XDP_PASS`);
  const out = new DataView(r.dataOut!.buffer, r.dataOut!.byteOffset);
  return { dropped: out.getUint32(4, true), next: Number(out.getBigUint64(8, true)) };
}

/** The u64 at `offset` of a record. */
export function u64At(data: Uint8Array, offset: number): number {
  return Number(
    new DataView(data.buffer, data.byteOffset, data.byteLength).getBigUint64(offset, true),
  );
}

/** Number of this process's mappings of perf events. */
export function perfMappings(): number {
  return readFileSync("/proc/self/maps", "utf8").split("\n").filter((l) => l.includes("perf_event"))
    .length;
}
