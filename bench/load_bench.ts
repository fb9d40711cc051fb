/**
 * Load+close latency of a 2-instruction socket filter, beside the C raw-syscall loop of
 * `../shared/bench/prog_load_bench` run in the same invocation.
 *
 *   deno run -A bench/load_bench.ts        bun bench/load_bench.ts
 */
import { Program } from "../mod.ts";
import { buildC, median, nowNs, runC, runtime } from "./_c.ts";

const RETURN_0 = [
  { code: 0xb7, dst: 0, src: 0, off: 0, imm: 0 },
  { code: 0x95, dst: 0, src: 0, off: 0, imm: 0 },
];
const ITERS = 10_000;
const ROUNDS = 5;

function round(): number {
  const t0 = nowNs();
  for (let i = 0; i < ITERS; i++) {
    Program.load({ type: "socket_filter", insns: RETURN_0, license: "GPL" }).close();
  }
  return (nowNs() - t0) / ITERS;
}

round(); // warm-up
const ts: number[] = [];
for (let r = 0; r < ROUNDS; r++) ts.push(round());
const tsNs = median(ts);
console.log(
  `${runtime}: load+close ${(tsNs / 1000).toFixed(2)} µs/cycle = ${
    (1e9 / tsNs).toFixed(0)
  } cycles/s (median of ${ROUNDS}×${ITERS})`,
);

if (buildC()) {
  const out = runC("prog_load_bench");
  const rates = [...out.matchAll(/= (\d+) cycles\/s \(([\d.]+) us\/cycle\)/g)].map((m) =>
    +m[2] * 1000
  );
  if (rates.length > 0) {
    const cNs = median(rates);
    console.log(
      `C raw bpf(2): load+close ${
        (cNs / 1000).toFixed(2)
      } µs/cycle (${rates.length} runs of 10000)`,
    );
    console.log(`ratio ${runtime}/C: ${(tsNs / cNs).toFixed(3)}×`);
  }
}
