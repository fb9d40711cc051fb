/**
 * Regenerates tests/fixtures/verifier/corpus.json: programs from the differential generator with
 * the running kernel's verdict (accepted, or the last line of its log), chosen to cover every
 * finding code and a sample of accepted programs and of rejections the checker does not catch yet.
 * Run as root: `deno run -A scripts/verifier_corpus.ts`.
 */
import { BpfMap } from "../lib/map/map.ts";
import { Program } from "../lib/program/program.ts";
import { checkProgram } from "../lib/check/check.ts";
import { encodeInsns } from "../lib/insn/insn.ts";
import { generate } from "../tests/verifier_gen.ts";

using hash = BpfMap.create({ type: "hash", keySize: 4, valueSize: 16, maxEntries: 8 });
using array = BpfMap.create({ type: "array", keySize: 4, valueSize: 48, maxEntries: 4 });
using ringbuf = BpfMap.create({ type: "ringbuf", keySize: 0, valueSize: 0, maxEntries: 4096 });
// The corpus stores fds as 1, 2, 3 (hash, array, ringbuf); real fds are used to ask the kernel.
const fake = { hash: 1, array: 2, ringbuf: 3 };
const real = { hash: hash.fd, array: array.fd, ringbuf: ringbuf.fd };
const maps = {
  [real.hash]: hash.describe(),
  [real.array]: array.describe(),
  [real.ringbuf]: ringbuf.describe(),
};
const out: unknown[] = [];
const perCode = new Map<string, number>();
let accepted = 0, missed = 0;
for (let seed = 1; seed < 4000 && out.length < 80; seed++) {
  const g = generate(seed, real);
  let kernel = "accepted";
  try {
    Program.load({ type: g.type, insns: g.insns, license: "GPL", check: false }).close();
  } catch (e) {
    const log = ((e as { log?: string }).log ?? "").trim().split("\n");
    kernel = log.filter((l) => !l.startsWith("processed ")).pop() ?? "rejected";
  }
  const f = checkProgram({ type: g.type, insns: g.insns, license: "GPL", depth: "deep", maps })
    .find((x) => x.severity === "error");
  const code = f?.code ?? (kernel === "accepted" ? "accepted" : "missed");
  const n = perCode.get(code) ?? 0;
  if (code === "accepted" ? accepted++ >= 20 : code === "missed" ? missed++ >= 20 : n >= 4) {
    continue;
  }
  perCode.set(code, n + 1);
  const stored = generate(seed, fake);
  out.push({
    seed,
    type: g.type,
    insns: Array.from(encodeInsns(stored.insns), (b) => b.toString(16).padStart(2, "0")).join(""),
    kernel,
    checker: f ? { code: f.code, message: f.message } : null,
  });
}
Deno.writeTextFileSync("tests/fixtures/verifier/corpus.json", JSON.stringify(out, null, 1) + "\n");
console.log(`${out.length} cases`, Object.fromEntries(perCode));
