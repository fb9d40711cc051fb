/**
 * Differential test of the deep checker against the running kernel: seeded random programs go to
 * both; a program the checker refuses and the kernel accepts is a failure.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { BpfMap } from "../lib/map/map.ts";
import { Program } from "../lib/program/program.ts";
import { checkProgram } from "../lib/check/check.ts";
import { generate } from "./verifier_gen.ts";
import { kernelSkip } from "./util.ts";

function env(name: string): string | undefined {
  const g = globalThis as { process?: { env: Record<string, string | undefined> } };
  return g.process?.env[name];
}

export interface DiffStats {
  programs: number;
  kernelRejected: number;
  caught: number;
  falseRejections: { seed: number; message: string; kernelLog: string }[];
}

export function runDifferential(first: number, count: number): DiffStats {
  using hash = BpfMap.create({ type: "hash", keySize: 4, valueSize: 16, maxEntries: 8 });
  using array = BpfMap.create({ type: "array", keySize: 4, valueSize: 48, maxEntries: 4 });
  using ringbuf = BpfMap.create({ type: "ringbuf", keySize: 0, valueSize: 0, maxEntries: 4096 });
  const fds = { hash: hash.fd, array: array.fd, ringbuf: ringbuf.fd };
  const maps = {
    [hash.fd]: hash.describe(),
    [array.fd]: array.describe(),
    [ringbuf.fd]: ringbuf.describe(),
  };
  const stats: DiffStats = { programs: 0, kernelRejected: 0, caught: 0, falseRejections: [] };
  for (let seed = first; seed < first + count; seed++) {
    const g = generate(seed, fds);
    const findings = checkProgram({
      type: g.type,
      insns: g.insns,
      license: "GPL",
      depth: "deep",
      maps,
    });
    const err = findings.find((f) => f.severity === "error");
    let kernelLog: string | undefined;
    try {
      Program.load({ type: g.type, insns: g.insns, license: "GPL", check: false }).close();
    } catch (e) {
      kernelLog = (e as { log?: string }).log ?? String(e);
    }
    stats.programs++;
    if (kernelLog !== undefined) {
      stats.kernelRejected++;
      if (err) stats.caught++;
    } else if (err) {
      stats.falseRejections.push({ seed, message: `${err.index}: ${err.message}`, kernelLog: "" });
    }
  }
  return stats;
}

test("deep checker: no false rejection on seeded random programs (kernel differential)", {
  skip: kernelSkip,
}, () => {
  const count = Number(env("VERIFIER_DIFF_COUNT") ?? "1500");
  const first = Number(env("VERIFIER_DIFF_SEED") ?? "1");
  const s = runDifferential(first, count);
  console.log(
    `differential: ${s.programs} programs, kernel rejected ${s.kernelRejected}, checker caught ${s.caught} (${
      (100 * s.caught / Math.max(1, s.kernelRejected)).toFixed(1)
    }%), false rejections ${s.falseRejections.length}`,
  );
  assert.deepEqual(s.falseRejections, []);
  assert.ok(s.kernelRejected > 0 && s.caught > 0);
});
