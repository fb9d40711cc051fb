/**
 * The fuzz-crash minimiser (tests/fuzz_minimize.ts, `deno task fuzz --minimize <file>`): shrinks
 * an input while the same untyped error, thrown from the same place, persists.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { failureOf, minimize } from "./fuzz_minimize.ts";
import type { FuzzTarget } from "./fuzz_targets.ts";
import { ArgumentError } from "../lib/errors.ts";
import { prng } from "./fuzz_harness.ts";
import { repoRoot } from "./util.ts";

function readsField(x: unknown): number {
  return (x as { field: number }).field; // a TypeError when x is null
}

function checksRange(n: number): void {
  new Uint8Array(1).subarray(0, 1).set([1], n); // a RangeError when n > 0
}

/** Fails with a TypeError at readsField when a 0x99 byte is present, else a RangeError at checksRange when 0x42 then 0x17 appear, else a library error for long inputs. */
const synthetic: FuzzTarget = {
  name: "synthetic",
  corpus: () => [],
  run(input) {
    if (input.includes(0x99)) readsField(null);
    const a = input.indexOf(0x42);
    if (a >= 0 && input.indexOf(0x17, a) > a) checksRange(5);
    if (input.length > 100) throw new ArgumentError("input", "too long");
  },
};

function randomWith(n: number, seed: number, inserts: [number, number][]): Uint8Array {
  const rnd = prng(seed);
  const out = Uint8Array.from({ length: n }, () => {
    let b = Math.floor(rnd() * 256);
    while (b === 0x99 || b === 0x42 || b === 0x17) b = Math.floor(rnd() * 256);
    return b;
  });
  for (const [at, v] of inserts) out[at] = v;
  return out;
}

test("minimize: a 2000-byte crasher shrinks to the two bytes that make it fail", () => {
  const input = randomWith(2000, 7, [[700, 0x42], [1500, 0x17]]);
  const before = failureOf(synthetic, input)!;
  assert.equal(before.name, "RangeError");
  assert.match(before.where, /fuzz_minimize\.test\.ts:\d+/);
  const r = minimize(synthetic, input);
  assert.deepEqual([...r.input], [0x42, 0x17]);
  assert.deepEqual(failureOf(synthetic, r.input), before);
  assert.deepEqual(r.signature, before);
  assert.ok(r.runs > 1);
});

test("minimize: keeps the original failure, never drifts to another error or place", () => {
  // Both failures are present; the TypeError (checked first) is the one to keep.
  const input = randomWith(500, 9, [[10, 0x42], [20, 0x17], [300, 0x99]]);
  const before = failureOf(synthetic, input)!;
  assert.equal(before.name, "TypeError");
  const r = minimize(synthetic, input);
  assert.deepEqual([...r.input], [0x99]);
  assert.equal(failureOf(synthetic, r.input)!.name, "TypeError");
  // Removing the 0x42/0x17 pair was fine; removing 0x99 would have changed the failure.
  assert.notDeepEqual(failureOf(synthetic, new Uint8Array([0x42, 0x17])), before);
});

test("minimize: text targets lose whole lines first", () => {
  const lines = Array.from({ length: 60 }, (_, i) => `r${i % 10} = ${i}`);
  lines.splice(37, 0, "boom here");
  const text: FuzzTarget = {
    name: "text",
    text: true,
    corpus: () => [],
    run(input) {
      const s = new TextDecoder().decode(input);
      if (s.includes("boom")) readsField(undefined);
    },
  };
  const r = minimize(text, new TextEncoder().encode(lines.join("\n")));
  assert.equal(new TextDecoder().decode(r.input), "boom");
});

test("minimize: an input that does not fail is an error that says so", () => {
  assert.throws(
    () => minimize(synthetic, new Uint8Array(200)),
    /does not fail target synthetic: it ends in a result or a library error/,
  );
});

const isDeno = (globalThis as { Deno?: unknown }).Deno !== undefined;

test("deno task fuzz --minimize: refuses an input that does not fail, writes nothing", {
  skip: isDeno ? false : "scripts/fuzz.ts is a Deno script; the Deno run of this suite runs it",
}, async () => {
  const dir = mkdtempSync(join(tmpdir(), "tsbpf-min-"));
  try {
    const file = join(dir, "asm-sample.bin");
    writeFileSync(file, new TextEncoder().encode("r0 = 1\nexit\n"));
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", join(repoRoot, "scripts/fuzz.ts"), "--minimize", file],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const err = new TextDecoder().decode(out.stderr);
    assert.equal(out.code, 1, err);
    assert.match(err, /does not fail target asm/);
    assert.throws(() => readFileSync(file + ".min"), /ENOENT/);
  } finally {
    rmSync(dir, { recursive: true });
  }
});
