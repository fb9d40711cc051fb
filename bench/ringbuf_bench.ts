/**
 * Ring buffer consumer throughput of `RingBuffer` beside libbpf's `ring_buffer__consume`, both in
 * the same process on the same ring, round after round in turn (`bench/c/inproc.c`, loaded
 * through FFI): the C figure of every row is measured right beside the TypeScript one.
 *
 * Same producer and shape as the C serial figures of `../shared/bench/ringbuf_bench`:
 * `ringbuf_emit.bpf.o` (loaded with the repo's ELF loader), a 16 MiB ring, one BPF_PROG_TEST_RUN
 * emits 32,768 records (16 or 256 bytes, each with a sequence number), then one consume drains
 * them, its callback checking the sequence number and the size of every record as the C callback
 * does. Each round runs C (emit, `ring_buffer__consume`) and TypeScript (emit, consume), in
 * alternating order. Rows:
 * - `consume, commit batch`: consumer_pos stored once per consume() (the default);
 * - `consume, commit record`: stored after every record, as libbpf does;
 * - `consume, empty callback`: the floor, no checks;
 * - `consume, raw, …`: the same through `consumeRaw()` (one reused view, offset and length).
 * The ratio is the median of the per-round ratios.
 *
 *   deno run -A bench/ringbuf_bench.ts        bun bench/ringbuf_bench.ts
 *
 * BENCH_RB_MODES=plain runs only the consume() rows. BENCH_ROUNDS (default 21) sets the rounds.
 */
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { loadObject } from "../lib/elf/mod.ts";
import { RingBuffer } from "../lib/ringbuf/mod.ts";
import type { Program } from "../lib/program/program.ts";
import { clockName, clockNs, type InProcC, inProcC, median, runtime, sharedBench } from "./_c.ts";

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 21);
const BATCH = 32_768;
const OBJ = join(sharedBench, "bpf", "ringbuf_emit.bpf.o");

/** The producer's context: `struct args { u32 count; u32 dropped; u64 seq; u64 flags; }`. */
function emitBatch(prog: Program, seq: number, count: number): void {
  const ctx = new Uint8Array(new ArrayBuffer(24));
  const v = new DataView(ctx.buffer);
  v.setUint32(0, count, true);
  v.setBigUint64(8, BigInt(seq), true);
  const { retval } = prog.testRun({ ctx, ctxOutSize: 0 });
  if (retval !== 0) throw new Error(`producer returned ${retval}`);
}

type Mode =
  | "commit batch"
  | "commit record"
  | "empty callback"
  | "raw, commit batch"
  | "raw, commit record"
  | "raw, empty callback";
const ALL_MODES: Mode[] = [
  "commit batch",
  "commit record",
  "empty callback",
  "raw, commit batch",
  "raw, commit record",
  "raw, empty callback",
];
/** BENCH_RB_MODES=plain leaves out the consumeRaw rows (for a library without it). */
const MODES = process.env.BENCH_RB_MODES === "plain"
  ? ALL_MODES.filter((m) => !m.startsWith("raw"))
  : ALL_MODES;

interface Sample {
  ts: number;
  c: number;
}

const TARGET: Record<number, number> = { 16: 2, 256: 1.2 };

function measure(
  prog: Program,
  rb: RingBuffer,
  c: InProcC,
  size: number,
  mode: Mode,
): Sample[] {
  let seq = 0;
  let next = 0;
  let errors = 0;
  const check = (r: Uint8Array): void => {
    const s = (r[0] | (r[1] << 8) | (r[2] << 16) | (r[3] << 24)) >>> 0;
    if (s !== next || r.length !== size) errors++;
    next = s + 1;
  };
  const checkRaw = (d: Uint8Array, o: number, length: number): void => {
    const s = (d[o] | (d[o + 1] << 8) | (d[o + 2] << 16) | (d[o + 3] << 24)) >>> 0;
    if (s !== next || length !== size) errors++;
    next = s + 1;
  };
  const empty = (): void => {};
  const raw = mode.startsWith("raw");
  const cb = mode.endsWith("empty callback") ? empty : raw ? checkRaw : check;
  const samples: Sample[] = [];
  const runTs = (): number => {
    next = seq;
    emitBatch(prog, seq, BATCH);
    const t1 = clockNs();
    const n = raw ? rb.consumeRaw(cb) : rb.consume(cb as (r: Uint8Array) => void);
    const t2 = clockNs();
    seq += BATCH;
    if (n !== BATCH || errors !== 0) {
      throw new Error(`${mode}: consumed ${n} of ${BATCH}, ${errors} sequence/size errors`);
    }
    return (t2 - t1) / BATCH;
  };
  const runC = (): number => {
    emitBatch(prog, seq, BATCH);
    const t1 = clockNs();
    const ns = c.rbConsume(seq, size, BATCH);
    const t2 = clockNs();
    if (ns < 0) throw new Error(`C ring_buffer__consume: wrong records`);
    seq += BATCH;
    return (t2 - t1) / BATCH;
  };
  for (let round = -2; round < ROUNDS; round++) { // two warm-up rounds (JIT)
    let ts: number, cNs: number;
    if (round & 1) {
      ts = runTs();
      cNs = runC();
    } else {
      cNs = runC();
      ts = runTs();
    }
    if (round >= 0) samples.push({ ts, c: cNs });
  }
  return samples;
}

/** Runs one (size, mode) in this process and prints its medians as JSON (a child's job). */
function child(spec: string): void {
  const [sizeText, mode] = spec.split("|") as [string, Mode];
  const size = Number(sizeText);
  const c = inProcC();
  if (c === undefined) throw new Error("no C baseline");
  const obj = loadObject(OBJ);
  try {
    const prog = obj.programs[size === 16 ? "emit_16" : "emit_256"];
    const rb = new RingBuffer(obj.maps.rb, {
      commit: mode.endsWith("commit record") ? "record" : "batch",
    });
    if (c.rbOpen(obj.maps.rb.fd) < 0) throw new Error("ring_buffer__new failed");
    try {
      const samples = measure(prog, rb, c, size, mode);
      console.log(JSON.stringify({
        ts: median(samples.map((s) => s.ts)),
        c: median(samples.map((s) => s.c)),
        ratio: median(samples.map((s) => s.ts / s.c)),
      }));
    } finally {
      c.rbClose();
      rb.close();
    }
  } finally {
    obj.close();
  }
}

/**
 * Each (size, mode) runs in a fresh process: one callback per process, as in an application
 * (a loop that has seen several callbacks calls them all more slowly).
 */
function inChild(size: number, mode: Mode): { ts: number; c: number; ratio: number } {
  const self = fileURLToPath(import.meta.url);
  const cmd = runtime === "deno" ? [process.execPath, "run", "-A", self] : [process.execPath, self];
  const r = spawnSync(cmd[0], cmd.slice(1), {
    encoding: "utf8",
    env: { ...process.env, RB_BENCH_CHILD: `${size}|${mode}` },
  });
  if (r.status !== 0) throw new Error(`${size}-byte ${mode}: ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split("\n").pop()!);
}

if (process.env.RB_BENCH_CHILD !== undefined) {
  child(process.env.RB_BENCH_CHILD);
} else {
  console.log(
    `# ringbuf_bench (${runtime}): ring 16 MiB, ${BATCH} records per round, ${ROUNDS} rounds, C (libbpf ring_buffer__consume) and TS in turn in the same process, ${clockName}, each row in a fresh process`,
  );
  const num = (x: number): string => x.toFixed(2).padStart(9);
  for (const size of [16, 256]) {
    console.log(`\n## ${size}-byte records`);
    console.log(
      `${"consumer".padEnd(28)} ${"ns/rec".padStart(9)} ${"C ns/rec".padStart(9)} ${
        "ratio".padStart(7)
      }  target`,
    );
    for (const mode of MODES) {
      const { ts, c, ratio } = inChild(size, mode);
      const target = mode.endsWith("empty callback")
        ? ""
        : `≤${TARGET[size]}× ${ratio <= TARGET[size] ? "ok" : "MISS"}`;
      console.log(
        `${`consume, ${mode}`.padEnd(28)} ${num(ts)} ${num(c)} ${
          `${ratio.toFixed(2)}×`.padStart(7)
        }  ${target}`,
      );
    }
  }
}
