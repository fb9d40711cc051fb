/**
 * Disassembler and assembler throughput on a 1,000,000-instruction program of seeded random valid
 * instructions (every kind of RFC 9669 and Linux 6.18).
 *
 *   deno run -A bench/insn_bench.ts
 *   bun bench/insn_bench.ts
 */
import { assemble, decodeInsns, disassemble, encodeInsns } from "../lib/insn/mod.ts";
import { randomProgram } from "../tests/insn_gen.ts";

const COUNT = 1_000_000;
const RUNS = 3;

const g = globalThis as { Deno?: { version: { deno: string } }; Bun?: { version: string } };
const runtime = g.Bun
  ? `bun ${g.Bun.version}`
  : g.Deno
  ? `deno ${g.Deno.version.deno}`
  : "unknown runtime";

const { insns } = randomProgram(2025, COUNT);
const bytes = encodeInsns(insns);
console.log(
  `${runtime}: ${COUNT.toLocaleString("en")} instructions (${
    insns.length.toLocaleString("en")
  } slots)`,
);

function bench<T>(name: string, f: () => T): T {
  let out = f(); // warm-up
  let best = Infinity;
  for (let i = 0; i < RUNS; i++) {
    const t0 = performance.now();
    out = f();
    best = Math.min(best, performance.now() - t0);
  }
  const rate = COUNT / (best / 1000);
  console.log(
    `${name.padEnd(30)} ${best.toFixed(0).padStart(6)} ms  ${
      (rate / 1e6).toFixed(2).padStart(6)
    } M instructions/s`,
  );
  return out;
}

const llvm = bench("disassemble (llvm syntax)", () => disassemble(bytes));
const classic = bench(
  "disassemble (classic syntax)",
  () => disassemble(bytes, { syntax: "classic" }),
);
const a = bench("assemble (llvm syntax)", () => assemble(llvm, { syntax: "llvm" }));
const b = bench("assemble (classic syntax)", () => assemble(classic, { syntax: "classic" }));
bench("assemble (auto-detect, llvm)", () => assemble(llvm));
bench("encode", () => encodeInsns(a));
bench("decode", () => decodeInsns(bytes));

// the round trip is exact
const back = encodeInsns(a);
const back2 = encodeInsns(b);
for (let i = 0; i < bytes.length; i++) {
  if (back[i] !== bytes[i] || back2[i] !== bytes[i]) {
    throw new Error(`round trip differs at byte ${i}`);
  }
}
console.log(
  `round trip exact; text sizes: llvm ${(llvm.length / 1e6).toFixed(1)} MB, classic ${
    (classic.length / 1e6).toFixed(1)
  } MB`,
);
