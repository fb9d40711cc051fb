/**
 * Ring buffer consumer throughput of `RingBuffer` beside the C `../shared/bench/ringbuf_bench`
 * (libbpf's `ring_buffer__consume`), run in the same invocation (before the TypeScript rounds).
 *
 * Same producer and shape as the C serial figures: `ringbuf_emit.bpf.o` (loaded with the repo's
 * ELF loader), a 16 MiB ring, one BPF_PROG_TEST_RUN emits 32,768 records (16 or 256 bytes, each
 * with a sequence number), then one `consume()` drains them, its callback checking the sequence
 * number and the size of every record as the C callback does. Rows:
 * - `consume, commit batch`: consumer_pos stored once per consume() (the default);
 * - `consume, commit record`: stored after every record, as libbpf does;
 * - `consume, empty callback`: the floor, no checks;
 * - `consume, raw, …`: the same through `consumeRaw()` (one reused view, offset and length; no
 *   allocation per record).
 * The C concurrent (two-thread) figures have no TypeScript counterpart here.
 *
 *   deno run -A bench/ringbuf_bench.ts        bun bench/ringbuf_bench.ts
 *
 * BENCH_RB_MODES=plain runs only the consume() rows. BENCH_ROUNDS (default 11) sets the
 * TypeScript rounds; BENCH_C_REPS (default 5) the C repetitions, BENCH_C_RECORDS (default 400000)
 * the records of each C concurrent run.
 */
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { loadObject } from "../lib/elf/mod.ts";
import { RingBuffer } from "../lib/ringbuf/mod.ts";
import type { Program } from "../lib/program/program.ts";
import { buildC, median, nowNs, runC, runtime, sharedBench } from "./_c.ts";

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 11);
const C_REPS = process.env.BENCH_C_REPS ?? "5";
const C_RECORDS = process.env.BENCH_C_RECORDS ?? "400000";
const BATCH = 32_768;
const OBJ = join(sharedBench, "bpf", "ringbuf_emit.bpf.o");

/** Parses `ringbuf_bench` output into "size|name" → median. */
function parseC(out: string): Map<string, number> {
  const m = new Map<string, number>();
  let size = 0;
  for (const line of out.split("\n")) {
    const h = /^## (\d+)-byte records/.exec(line);
    if (h) size = Number(h[1]);
    const r = /^libbpf\s+(.+?)\s{2,}\S+\s+min\s+[\d.]+\s+median\s+([\d.]+)/.exec(line);
    if (r) m.set(`${size}|${r[1].trim()}`, Number(r[2]));
  }
  return m;
}

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
  produceNs: number;
  consumeNs: number;
  rate: number;
}

function measure(prog: Program, rb: RingBuffer, size: number, mode: Mode): Sample[] {
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
  for (let round = -2; round < ROUNDS; round++) { // two warm-up rounds (JIT)
    next = seq;
    const t0 = nowNs();
    emitBatch(prog, seq, BATCH);
    const t1 = nowNs();
    const n = raw ? rb.consumeRaw(cb) : rb.consume(cb as (r: Uint8Array) => void);
    const t2 = nowNs();
    seq += BATCH;
    if (n !== BATCH || errors !== 0) {
      throw new Error(`${mode}: consumed ${n} of ${BATCH}, ${errors} sequence/size errors`);
    }
    if (round >= 0) {
      samples.push({
        produceNs: (t1 - t0) / BATCH,
        consumeNs: (t2 - t1) / BATCH,
        rate: BATCH / ((t2 - t0) / 1e9) / 1e6,
      });
    }
  }
  return samples;
}

/** Runs one (size, mode) in this process and prints its medians as JSON (a child's job). */
function child(spec: string): void {
  const [sizeText, mode] = spec.split("|") as [string, Mode];
  const size = Number(sizeText);
  const obj = loadObject(OBJ);
  try {
    const prog = obj.programs[size === 16 ? "emit_16" : "emit_256"];
    const rb = new RingBuffer(obj.maps.rb, {
      commit: mode.endsWith("commit record") ? "record" : "batch",
    });
    try {
      const samples = measure(prog, rb, size, mode);
      console.log(JSON.stringify({
        cons: median(samples.map((s) => s.consumeNs)),
        rate: median(samples.map((s) => s.rate)),
        prod: median(samples.map((s) => s.produceNs)),
      }));
    } finally {
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
function inChild(size: number, mode: Mode): { cons: number; rate: number; prod: number } {
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
  const haveC = buildC();
  const c = haveC ? parseC(runC("ringbuf_bench", [OBJ, C_REPS, C_RECORDS])) : new Map();
  console.log(
    `# ringbuf_bench (${runtime}): ring 16 MiB, ${BATCH} records per round, median of ${ROUNDS} rounds, each row in a fresh process; C: ${C_REPS} reps`,
  );
  const pad = (s: string, n: number): string => s.padEnd(n);
  const num = (x: number | undefined): string => (x === undefined ? "-" : x.toFixed(2)).padStart(9);
  for (const size of [16, 256]) {
    const cConsume = c.get(`${size}|serial: ring_buffer__consume`);
    const cRate = c.get(`${size}|serial: produce+consume`);
    const cProduce = c.get(`${size}|serial: produce (BPF, per rec)`);
    console.log(`\n## ${size}-byte records`);
    console.log(
      `${pad("consumer", 26)} ${"ns/rec".padStart(9)} ${"C ns/rec".padStart(9)} ${
        "ratio".padStart(7)
      }  ${"M rec/s".padStart(9)} ${"prod+cons".padStart(9)} ${"C".padStart(7)} ${
        "ratio".padStart(7)
      }`,
    );
    for (const mode of MODES) {
      const { cons, rate, prod } = inChild(size, mode);
      const ratio = cConsume === undefined ? "-" : `${(cons / cConsume).toFixed(2)}×`;
      const rateRatio = cRate === undefined ? "-" : `${(rate / cRate).toFixed(2)}×`;
      console.log(
        `${pad(`consume, ${mode}`, 26)} ${num(cons)} ${num(cConsume)} ${ratio.padStart(7)}  ${
          num(1e3 / cons)
        } ${num(rate)} ${num(cRate).slice(2)} ${rateRatio.padStart(7)}`,
      );
      if (mode === "commit batch") {
        console.log(
          `${pad("(BPF producer, per rec)", 26)} ${num(prod)} ${num(cProduce)} ${
            cProduce === undefined ? "      -" : `${(prod / cProduce).toFixed(2)}×`.padStart(7)
          }`,
        );
      }
    }
  }
  if (haveC) {
    for (const size of [16, 256]) {
      const poll = c.get(`${size}|poll (epoll): consumed`);
      console.log(
        `# C concurrent (no TS counterpart), ${size} B: epoll consumer ${
          poll?.toFixed(1) ?? "-"
        } M rec/s`,
      );
    }
  }
}
