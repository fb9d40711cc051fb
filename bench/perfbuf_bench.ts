/**
 * Perf buffer consumer throughput of `PerfBuffer` beside libbpf's `perf_buffer__consume`
 * (`bench/c/perfbuf_bench.c`, built here with gcc and libbpf-dev and run first, in the same
 * invocation).
 *
 * Same producer and shape on both sides: the XDP program of `bench/c/perfbuf_emit.bpf.o`, run
 * through BPF_PROG_TEST_RUN, emits 32,768 records (16 or 256 bytes, each with a sequence number)
 * with `bpf_perf_event_output` into rings of 4096 pages per CPU; then one `consume()` reads them,
 * its callback checking the sequence number and size of every record as the C callback does.
 * Rows: `consume` (a zero-copy view per record), `consume, empty callback` (its floor) and
 * `consumeRaw` (no view: the ring's bytes, offset and length). The C side pins
 * itself to CPU 0; both read every CPU's ring.
 *
 *   deno run -A bench/perfbuf_bench.ts        bun bench/perfbuf_bench.ts
 *
 * BENCH_ROUNDS (default 11) sets the rounds of both sides.
 */
import { spawnSync } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { loadObject } from "../lib/object/mod.ts";
import { PerfBuffer } from "../lib/perf/mod.ts";
import type { Program } from "../lib/program/program.ts";
import { median, nowNs, runtime } from "./_c.ts";

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 11);
const BATCH = 32_768;
const PAGES = 4096;
const here = dirname(fileURLToPath(import.meta.url));
const OBJ = join(here, "c", "perfbuf_emit.bpf.o");
const C_SRC = join(here, "c", "perfbuf_bench.c");
const C_BIN = join(process.env.BENCH_C_BUILD ?? "/tmp/bench-c", "perfbuf_bench");

/** Builds and runs the C baseline; returns record size → consume ns/record. */
function runC(): Map<number, number> {
  const out = new Map<number, number>();
  spawnSync("mkdir", ["-p", dirname(C_BIN)]);
  const cc = spawnSync("gcc", ["-O2", "-Wall", "-o", C_BIN, C_SRC, "-lbpf"], { encoding: "utf8" });
  if (cc.status !== 0) {
    console.log(`# C baseline could not be built (gcc + libbpf-dev): ${cc.stderr || cc.error}`);
    return out;
  }
  const r = spawnSync(C_BIN, [OBJ, String(ROUNDS), String(BATCH), String(PAGES)], {
    encoding: "utf8",
  });
  if (r.status !== 0) {
    console.log(`# C baseline failed: ${r.stderr}`);
    return out;
  }
  for (const line of r.stdout.split("\n")) {
    const m = /^libbpf (\d+) consume median ([\d.]+)/.exec(line);
    if (m) out.set(Number(m[1]), Number(m[2]));
  }
  console.log(r.stdout.trim().split("\n").map((l) => `# C: ${l}`).join("\n"));
  return out;
}

const packet = new Uint8Array(new ArrayBuffer(64));
const pv = new DataView(packet.buffer);

/** Emits `count` records of `size` bytes from `seq`; returns the next sequence number. */
function emit(prog: Program, seq: number, count: number, size: number): number {
  pv.setUint32(0, count, true);
  pv.setUint32(4, 0, true);
  pv.setBigUint64(8, BigInt(seq), true);
  pv.setUint32(16, size, true);
  const r = prog.testRun({ data: packet });
  const out = new DataView(r.dataOut!.buffer, r.dataOut!.byteOffset);
  const dropped = out.getUint32(4, true);
  if (dropped !== 0) throw new Error(`${dropped} records dropped`);
  return Number(out.getBigUint64(8, true));
}

const c = runC();
const obj = loadObject(OBJ);
try {
  const prog = obj.programs.emit;
  using pb = new PerfBuffer(obj.maps.events, { pages: PAGES });
  console.log(
    `# perfbuf_bench (${runtime}): ${PAGES} pages per CPU (${pb.cpus.length} CPUs), ${BATCH} records per round, median of ${ROUNDS} rounds`,
  );
  console.log(
    `${"consumer".padEnd(26)} ${"size".padStart(5)} ${"ns/rec".padStart(9)} ${
      "C ns/rec".padStart(9)
    } ${"ratio".padStart(7)}`,
  );
  for (const size of [16, 256]) {
    const rawSize = ((size + 4 + 7) & ~7) - 4;
    for (const mode of ["consume", "consume, empty callback", "consumeRaw"]) {
      let seq = 0;
      let next = 0;
      let errors = 0;
      const check = (data: Uint8Array): void => {
        const s = (data[0] | (data[1] << 8) | (data[2] << 16) | (data[3] << 24)) >>> 0;
        if (s !== next || data.length !== rawSize) errors++;
        next = s + 1;
      };
      const cb = mode === "consume" ? check : () => {};
      const inPlace = (b: Uint8Array, o: number, len: number): void => {
        const s = (b[o] | (b[o + 1] << 8) | (b[o + 2] << 16) | (b[o + 3] << 24)) >>> 0;
        if (s !== next || len !== rawSize) errors++;
        next = s + 1;
      };
      const samples: number[] = [];
      for (let round = -2; round < ROUNDS; round++) {
        next = seq;
        const after = emit(prog, seq, BATCH, size);
        const t0 = nowNs();
        const n = mode === "consumeRaw" ? pb.consumeRaw(inPlace) : pb.consume(cb);
        const t1 = nowNs();
        if (n !== BATCH || errors !== 0) {
          throw new Error(`${mode}: read ${n} of ${BATCH}, ${errors} sequence/size errors`);
        }
        seq = after;
        if (round >= 0) samples.push((t1 - t0) / BATCH);
      }
      const ns = median(samples);
      const base = c.get(size);
      console.log(
        `${mode.padEnd(26)} ${String(size).padStart(5)} ${ns.toFixed(2).padStart(9)} ${
          (base?.toFixed(2) ?? "-").padStart(9)
        } ${(base === undefined ? "-" : `${(ns / base).toFixed(2)}×`).padStart(7)}`,
      );
    }
  }
} finally {
  obj.close();
}
