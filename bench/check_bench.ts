/**
 * Checker throughput: `checkProgram` on a 1,000,000-instruction program, as `Insn[]` and as
 * bytes. Run with `deno run -A bench/check_bench.ts` or `bun bench/check_bench.ts`.
 *
 * @module
 */
import { checkProgram } from "../lib/check/mod.ts";
import { encodeInsns, type Insn } from "../lib/insn/insn.ts";

const N = 1_000_000;

/** A valid program of exactly `n` slots: ALU, stack stores and loads, forward branches, helper calls, ld_imm64. */
function makeProgram(n: number): Insn[] {
  const insns: Insn[] = [];
  const push = (code: number, dst: number, src: number, off: number, imm: number): void => {
    insns.push({ code, dst, src, off, imm });
  };
  push(0xbf, 6, 1, 0, 0); // r6 = r1
  push(0xb7, 7, 0, 0, 0); // r7 = 0
  while (insns.length < n - 16) {
    push(0x07, 7, 0, 0, 3); // r7 += 3
    push(0x7b, 10, 7, -8, 0); // *(u64 *)(r10 - 8) = r7
    push(0x79, 8, 10, -8, 0); // r8 = *(u64 *)(r10 - 8)
    push(0x57, 8, 0, 0, 0xff); // r8 &= 0xff
    push(0x25, 8, 0, 2, 100); // if r8 > 100 goto +2
    push(0x77, 8, 0, 0, 3); // r8 >>= 3
    push(0x0f, 7, 8, 0, 0); // r7 += r8
    push(0x18, 1, 0, 0, 0x1234); // r1 = 0x1234 ll
    push(0x00, 0, 0, 0, 0);
    push(0x85, 0, 0, 0, 7); // call bpf_get_prandom_u32
    push(0xbc, 9, 0, 0, 0); // w9 = w0
    push(0x37, 9, 0, 0, 7); // r9 /= 7
  }
  while (insns.length < n - 2) push(0x07, 7, 0, 0, 1);
  push(0xb7, 0, 0, 0, 0); // r0 = 0
  push(0x95, 0, 0, 0, 0); // exit
  return insns;
}

function bench(label: string, run: () => number, rounds = 7): void {
  run(); // warm up
  const times: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const t0 = performance.now();
    const findings = run();
    times.push(performance.now() - t0);
    if (findings !== 0) throw new Error(`unexpected findings: ${findings}`);
  }
  times.sort((a, b) => a - b);
  const median = times[times.length >> 1];
  const best = times[0];
  console.log(
    `${label.padEnd(28)} median ${median.toFixed(1).padStart(6)} ms  best ${
      best.toFixed(1).padStart(6)
    } ms  ` +
      `${(N / median / 1000).toFixed(1).padStart(6)} M insns/s (median)`,
  );
}

const runtime = "Bun" in globalThis
  ? `bun ${(globalThis as { Bun?: { version: string } }).Bun?.version}`
  : `deno ${Deno.version.deno}`;
console.log(`checkProgram on ${N.toLocaleString("en-US")} instructions (${runtime})`);
const insns = makeProgram(N);
const bytes = encodeInsns(insns);
bench(
  "Insn[] (socket_filter)",
  () => checkProgram({ type: "socket_filter", insns, license: "GPL" }).length,
);
bench(
  "Uint8Array (socket_filter)",
  () => checkProgram({ type: "socket_filter", insns: bytes, license: "GPL" }).length,
);
bench("Uint8Array (xdp)", () => checkProgram({ type: "xdp", insns: bytes, license: "GPL" }).length);
