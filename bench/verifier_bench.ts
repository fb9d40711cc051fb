/**
 * Deep checker time against the kernel verifier's own time for the same programs: straight-line
 * code, branchy code and a bounded loop, and the sum over the selftest-like corpus. The kernel's figure is the "verification time N usec" of
 * its statistics log (log level 4); ours is the median of repeated `deepCheck` runs after a warm-up
 * of 30 runs
 * (the whole program, as `checkProgram(…, { depth: "deep" })` runs it). Needs root for the kernel
 * half. Run with `deno run -A bench/verifier_bench.ts` or `bun bench/verifier_bench.ts`.
 *
 * @module
 */
import type { Insn } from "../lib/insn/insn.ts";
import { Program } from "../lib/program/program.ts";
import { getProgType } from "../lib/progtype/registry.ts";
import { deepCheck } from "../lib/verifier/interp.ts";
import { checkProgram } from "../lib/check/check.ts";
import {
  assembleCase,
  createMaps,
  describedMaps,
  loadCases,
  loadInKernel,
  loadVerdicts,
} from "../tests/verifier_selftest_like.ts";

const I = (code: number, dst = 0, src = 0, off = 0, imm = 0): Insn => ({
  code,
  dst,
  src,
  off,
  imm,
});

/** ALU, stack spills and fills, no branches. */
function straight(n: number): Insn[] {
  const p: Insn[] = [I(0xb7, 6, 0, 0, 1)];
  while (p.length < n - 2) {
    p.push(I(0x07, 6, 0, 0, 3), I(0x7b, 10, 6, -8), I(0x79, 7, 10, -8), I(0x57, 7, 0, 0, 0xff));
  }
  p.push(I(0xb7, 0), I(0x95));
  return p;
}

/** Blocks of: an unknown value, a branch on it, both sides joining again. */
function branchy(blocks: number): Insn[] {
  const p: Insn[] = [];
  for (let i = 0; i < blocks; i++) {
    p.push(I(0x85, 0, 0, 0, 7)); // call bpf_get_prandom_u32
    p.push(I(0x25, 0, 0, 2, 100)); // if r0 > 100 goto +2
    p.push(I(0xb7, 2, 0, 0, 1), I(0x05, 0, 0, 1)); // r2 = 1; goto +1
    p.push(I(0xb7, 2, 0, 0, 2)); // r2 = 2
    p.push(I(0x7b, 10, 2, -8)); // *(u64 *)(r10 - 8) = r2
  }
  p.push(I(0xb7, 0), I(0x95));
  return p;
}

/** A bounded loop of `n` iterations over a stack slot. */
function loop(n: number): Insn[] {
  return [
    I(0xb7, 1, 0, 0, 0), // r1 = 0
    I(0xb7, 2, 0, 0, 0), // r2 = 0
    I(0x0f, 2, 1), // loop: r2 += r1
    I(0x7b, 10, 2, -8), // *(u64 *)(r10 - 8) = r2
    I(0x07, 1, 0, 0, 1), // r1 += 1
    I(0xa5, 1, 0, -4, n), // if r1 < n goto loop
    I(0xb7, 0),
    I(0x95),
  ];
}

function kernelUsec(insns: Insn[]): number | undefined {
  try {
    using p = Program.load({ type: "socket_filter", insns, license: "GPL", logLevel: 4 });
    const m = /verification time (\d+) usec/.exec(p.verifierLog ?? "");
    return m ? Number(m[1]) : undefined;
  } catch (e) {
    console.log(`  kernel: ${(e as Error).message.split("\n")[0]}`);
    return undefined;
  }
}

const def = getProgType("socket_filter")!;
const lc = { license: "GPL", gplCompatible: true, privileged: true };

function ours(insns: Insn[]): { usec: number; processed: number; complete: boolean } {
  const r0 = deepCheck({ def, insns, loadContext: lc, budget: 1_000_000 });
  if (r0.findings.some((f) => f.severity === "error")) throw new Error("unexpected finding");
  // Steady state: let the JIT compile the interpreter first.
  for (let i = 0; i < 30; i++) deepCheck({ def, insns, loadContext: lc, budget: 1_000_000 });
  const times: number[] = [];
  for (let i = 0; i < 9; i++) {
    const t0 = performance.now();
    deepCheck({ def, insns, loadContext: lc, budget: 1_000_000 });
    times.push((performance.now() - t0) * 1000);
  }
  times.sort((a, b) => a - b);
  return { usec: times[4], processed: r0.processed, complete: r0.complete };
}

const runtime = "Bun" in globalThis ? "bun" : "deno";
console.log(
  `deep checker vs kernel verifier (${runtime}); times in usec, kernel = median of 5 loads`,
);
for (
  const [name, insns] of [
    ["straight-line 1000", straight(1000)],
    ["straight-line 10000", straight(10000)],
    ["branchy 100 blocks", branchy(100)],
    ["loop 100 iterations", loop(100)],
    ["loop 1000 iterations", loop(1000)],
  ] as [string, Insn[]][]
) {
  const k: number[] = [];
  for (let i = 0; i < 5; i++) {
    const u = kernelUsec(insns);
    if (u !== undefined) k.push(u);
  }
  k.sort((a, b) => a - b);
  const o = ours(insns);
  const kt = k.length ? k[k.length >> 1] : NaN;
  console.log(
    `${name.padEnd(22)} ${String(insns.length).padStart(6)} insns  checker ${
      o.usec.toFixed(0).padStart(7)
    }  kernel ${String(kt).padStart(7)}  ratio ${
      (o.usec / kt).toFixed(2).padStart(6)
    }  (${o.processed} insns interpreted${o.complete ? "" : ", gave up"})`,
  );
}

// The selftest-like corpus (tests/fixtures/verifier/selftest_like.txt): the whole checkProgram
// (structural and deep) per program against the kernel's verification time of the same program,
// summed over the corpus (the kernel's rejections included: it reports their time too).
{
  const cases = loadCases();
  const { kfuncs } = loadVerdicts();
  const maps = createMaps();
  try {
    const fds = Object.fromEntries(Object.entries(maps).map(([n, m]) => [n, m.fd]));
    const described = describedMaps(fds);
    let kernelTotal = 0, oursTotal = 0, timed = 0;
    for (const c of cases) {
      const insns = assembleCase(c, fds, kfuncs);
      let ku: number | undefined;
      try {
        using p = loadInKernel(c, insns, 4);
        ku = Number(/verification time (\d+) usec/.exec(p.verifierLog ?? "")?.[1]);
      } catch (e) {
        const m = /verification time (\d+) usec/.exec((e as { log?: string }).log ?? "");
        ku = m ? Number(m[1]) : undefined;
      }
      if (ku === undefined || Number.isNaN(ku)) continue;
      const check = () =>
        checkProgram({ type: c.type, insns, license: "GPL", depth: "deep", maps: described });
      for (let i = 0; i < 3; i++) check();
      const times: number[] = [];
      for (let i = 0; i < 5; i++) {
        const t0 = performance.now();
        check();
        times.push((performance.now() - t0) * 1000);
      }
      times.sort((a, b) => a - b);
      kernelTotal += ku;
      oursTotal += times[2];
      timed++;
    }
    console.log(
      `${"selftest-like corpus".padEnd(22)} ${String(timed).padStart(6)} progs  checker ${
        oursTotal.toFixed(0).padStart(7)
      }  kernel ${String(kernelTotal).padStart(7)}  ratio ${
        (oursTotal / kernelTotal).toFixed(2).padStart(6)
      }  (sums over the programs the kernel timed)`,
    );
  } finally {
    for (const m of Object.values(maps)) m.close();
  }
}
