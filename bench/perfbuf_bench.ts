/**
 * Perf buffer consumer throughput of `PerfBuffer` beside libbpf's `perf_buffer__consume`, both in
 * the same process, round after round in turn (`bench/c/inproc.c`, loaded through FFI): the C
 * figure of every row is measured right beside the TypeScript one.
 *
 * Same producer and shape on both sides: the XDP program of `bench/c/perfbuf_emit.bpf.o`, run
 * through BPF_PROG_TEST_RUN, emits 32,768 records (16 or 256 bytes, each with a sequence number)
 * with `bpf_perf_event_output` into rings of 4096 pages per CPU; then one consume reads them, its
 * callback checking the sequence number and size of every record as the C callback does. The
 * object is loaded twice, one copy per reader (each perf event array has one reader). Rows:
 * `consume` (small samples copied into a reused buffer), `consume, empty callback` (its floor)
 * and `consumeRaw` (the ring's bytes, offset and length). The ratio is the median of the
 * per-round ratios.
 *
 *   deno run -A bench/perfbuf_bench.ts        bun bench/perfbuf_bench.ts
 *
 * BENCH_ROUNDS (default 21) sets the rounds.
 */
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { loadObject } from "../lib/object/mod.ts";
import { PerfBuffer } from "../lib/perf/mod.ts";
import type { Program } from "../lib/program/program.ts";
import { clockName, clockNs, inProcC, median, runtime } from "./_c.ts";

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 21);
const BATCH = 32_768;
const PAGES = 4096;
const here = dirname(fileURLToPath(import.meta.url));
const OBJ = join(here, "c", "perfbuf_emit.bpf.o");

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

const c = inProcC();
if (c === undefined) throw new Error("no C baseline");
const obj = loadObject(OBJ);
const objC = loadObject(OBJ);
try {
  const prog = obj.programs.emit;
  const progC = objC.programs.emit;
  using pb = new PerfBuffer(obj.maps.events, { pages: PAGES });
  if (c.pbOpen(objC.maps.events.fd, PAGES) < 0) throw new Error("perf_buffer__new failed");
  console.log(
    `# perfbuf_bench (${runtime}): ${PAGES} pages per CPU (${pb.cpus.length} CPUs), ${BATCH} records per round, ${ROUNDS} rounds, C (libbpf perf_buffer__consume) and TS in turn in the same process, ${clockName}`,
  );
  console.log(
    `${"consumer".padEnd(26)} ${"size".padStart(5)} ${"ns/rec".padStart(9)} ${
      "C ns/rec".padStart(9)
    } ${"ratio".padStart(7)}`,
  );
  let seqC = 0;
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
      const runTs = (): number => {
        next = seq;
        const after = emit(prog, seq, BATCH, size);
        const t0 = clockNs();
        const n = mode === "consumeRaw" ? pb.consumeRaw(inPlace) : pb.consume(cb);
        const t1 = clockNs();
        if (n !== BATCH || errors !== 0) {
          throw new Error(`${mode}: read ${n} of ${BATCH}, ${errors} sequence/size errors`);
        }
        seq = after;
        return (t1 - t0) / BATCH;
      };
      const runCRound = (): number => {
        const after = emit(progC, seqC, BATCH, size);
        const t0 = clockNs();
        const ns = c.pbConsume(seqC, rawSize, BATCH);
        const t1 = clockNs();
        if (ns < 0) throw new Error("C perf_buffer__consume: wrong records");
        seqC = after;
        return (t1 - t0) / BATCH;
      };
      const samples: { ts: number; c: number }[] = [];
      for (let round = -2; round < ROUNDS; round++) {
        let ts: number, cNs: number;
        if (round & 1) {
          ts = runTs();
          cNs = runCRound();
        } else {
          cNs = runCRound();
          ts = runTs();
        }
        if (round >= 0) samples.push({ ts, c: cNs });
      }
      const ns = median(samples.map((x) => x.ts));
      const base = median(samples.map((x) => x.c));
      const ratio = median(samples.map((x) => x.ts / x.c));
      console.log(
        `${mode.padEnd(26)} ${String(size).padStart(5)} ${ns.toFixed(2).padStart(9)} ${
          base.toFixed(2).padStart(9)
        } ${`${ratio.toFixed(2)}×`.padStart(7)}`,
      );
    }
  }
} finally {
  c.pbClose();
  obj.close();
  objC.close();
}
