/**
 * Helpers of the perf buffer tests: the producer of bench/c/perfbuf_emit.bpf.c (an XDP program
 * run through BPF_PROG_TEST_RUN whose packet is `struct args { u32 count; u32 dropped; u64 seq;
 * u32 size; u32 pad; }`; an asm equivalent on kernels without `bpf_loop`), and counts of this
 * process's perf mappings.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { loadObject } from "../lib/object/mod.ts";
import { BpfMap } from "../lib/map/mod.ts";
import { u32 } from "../lib/codec/mod.ts";
import { asm } from "../lib/insn/mod.ts";
import { Program, type TestRunResult } from "../lib/program/program.ts";
import { liveProfile } from "../lib/profile/live.ts";
import { repoRoot } from "./util.ts";
import { alloc, sys } from "../lib/sys/mod.ts";

/** `bpf_loop`'s helper id. */
const BPF_LOOP = 181;

/** The producer: its `events` map and a run of its program on a packet. */
export interface Emitter extends Disposable {
  readonly maps: { readonly events: { readonly fd: number; readonly maxEntries: number } };
  /** One BPF_PROG_TEST_RUN over `data` emitting `count` records (count > 0). */
  run(data: Uint8Array, count: number): TestRunResult;
}

/**
 * The same producer for kernels without `bpf_loop` (before 5.17), as their profile answers: one
 * record per run, run `count` times over the same packet with BPF_PROG_TEST_RUN's `repeat` (the
 * packet keeps what each run wrote). The loop index lives in the packet's `pad`.
 */
function loadRepeatEmitter(): Emitter {
  const events = BpfMap.create({ type: "perf_event_array", key: u32, value: u32, maxEntries: 64 });
  let zero = "";
  for (let off = 8; off <= 256; off += 8) zero += `*(u64 *)(r10 - ${off}) = 0\n`;
  let prog: Program;
  try {
    prog = Program.load({
      type: "xdp",
      license: "GPL",
      insns: asm`
        r6 = r1
        r7 = *(u32 *)(r6 + 0)
        r3 = *(u32 *)(r6 + 4)
        r2 = r7
        r2 += 24
        if r2 > r3 goto abort
        ${zero}
        r1 = *(u64 *)(r7 + 8)
        *(u64 *)(r10 - 256) = r1
        r1 = *(u32 *)(r7 + 20)
        *(u64 *)(r10 - 248) = r1
        r5 = *(u32 *)(r7 + 16)
        if r5 <= 256 goto small
        r5 = 256
      small:
        if r5 >= 8 goto sized
        r5 = 8
      sized:
        r1 = r6
        r2 = map[fd:${events.fd}] ll
        r3 = 0xffffffff ll
        r4 = r10
        r4 += -256
        call bpf_perf_event_output
        r1 = *(u32 *)(r7 + 20)
        r1 += 1
        *(u32 *)(r7 + 20) = r1
        if r0 != 0 goto dropped
        r1 = *(u64 *)(r7 + 8)
        r1 += 1
        *(u64 *)(r7 + 8) = r1
        r0 = 2
        exit
      dropped:
        r1 = *(u32 *)(r7 + 4)
        r1 += 1
        *(u32 *)(r7 + 4) = r1
        r0 = 2
        exit
      abort:
        r0 = 0
        exit`,
    });
  } catch (e) {
    events.close();
    throw e;
  }
  return {
    maps: { events },
    run: (data, count) => prog.testRun({ data, repeat: count }),
    [Symbol.dispose]() {
      prog.close();
      events.close();
    },
  };
}

/**
 * The producer: bench/c/perfbuf_emit.bpf.o (map `events`, program `emit`, a `bpf_loop` of
 * outputs) where the kernel has `bpf_loop`, else the same records from {@link loadRepeatEmitter}.
 */
export function loadEmitter(): Emitter {
  if (liveProfile().helperKnown(BPF_LOOP).state === "no") return loadRepeatEmitter();
  const obj = loadObject(join(repoRoot, "bench", "c", "perfbuf_emit.bpf.o"));
  return {
    maps: { events: obj.maps.events },
    run: (data) => obj.programs.emit.testRun({ data }),
    [Symbol.dispose]() {
      obj.close();
    },
  };
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
  obj: Emitter,
  seq: number,
  count: number,
  size: number,
): EmitResult {
  if (count === 0) return { dropped: 0, next: seq };
  const data = new Uint8Array(new ArrayBuffer(64));
  const v = new DataView(data.buffer);
  v.setUint32(0, count, true);
  v.setBigUint64(8, BigInt(seq), true);
  v.setUint32(16, size, true);
  const r = obj.run(data, count);
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

/**
 * Runs `fn` with this thread pinned to one CPU (the first it may run on), then restores its CPU
 * mask, also when `fn` throws. The perf buffer's producer writes to the ring of the CPU it runs
 * on, so a test that overflows one ring and then waits for that ring's lost record must produce
 * on that same CPU: on a busy machine the scheduler can keep a thread off a CPU for a long time.
 */
export async function onOneCpu<T>(fn: () => Promise<T>): Promise<T> {
  const s = sys();
  const saved = alloc(128); // cpu_set_t: 1024 CPUs
  const got = s.syscall(s.nr.sched_getaffinity, 0n, 128n, s.addressOf(saved));
  if (got < 0n) throw new Error(`sched_getaffinity failed: errno ${-got}`);
  let first = -1;
  for (let i = 0; i < Number(got) * 8 && first < 0; i++) {
    if (saved[i >> 3] & (1 << (i & 7))) first = i;
  }
  const one = alloc(128);
  one[first >> 3] = 1 << (first & 7);
  const set = s.syscall(s.nr.sched_setaffinity, 0n, 128n, s.addressOf(one));
  if (set < 0n) throw new Error(`sched_setaffinity failed: errno ${-set}`);
  try {
    return await fn();
  } finally {
    s.syscall(s.nr.sched_setaffinity, 0n, 128n, s.addressOf(saved));
  }
}
