// Property tests of lib/insn: seeded random valid instructions round-trip through encode/decode
// and through disassemble/assemble in both syntaxes; arbitrary bytes round-trip through .raw.
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  assemble,
  decodeInsns,
  describeInsn,
  disassemble,
  disassembleLines,
  encodeInsns,
  type Insn,
  insnError,
} from "../lib/insn/mod.ts";
import { randomProgram, randomSlots } from "./insn_gen.ts";

const SEED = 0x5eed_2025;
const COUNT = 200_000;
const { insns: PROGRAM } = randomProgram(SEED, COUNT);

function firstDifference(a: readonly Insn[], b: readonly Insn[]): string {
  const n = Math.max(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a[i];
    const y = b[i];
    if (
      !x || !y || x.code !== y.code || x.dst !== y.dst || x.src !== y.src || x.off !== y.off ||
      x.imm !== y.imm
    ) {
      return `slot ${i}: expected ${JSON.stringify(x)}, got ${JSON.stringify(y)}`;
    }
  }
  return "none";
}

function sameInsns(actual: readonly Insn[], expected: readonly Insn[], what: string): void {
  if (actual.length !== expected.length) {
    assert.fail(
      `${what}: ${actual.length} slots instead of ${expected.length}; ${
        firstDifference(expected, actual)
      }`,
    );
  }
  for (let i = 0; i < expected.length; i++) {
    const x = expected[i];
    const y = actual[i];
    if (
      x.code !== y.code || x.dst !== y.dst || x.src !== y.src || x.off !== y.off || x.imm !== y.imm
    ) {
      assert.fail(`${what}: ${firstDifference(expected, actual)}`);
    }
  }
}

test(`generator: ${COUNT} seeded random instructions are all valid`, () => {
  for (let i = 0; i < PROGRAM.length;) {
    const err = insnError(PROGRAM, i);
    if (err !== undefined) assert.fail(`slot ${i} ${JSON.stringify(PROGRAM[i])}: ${err}`);
    i += describeInsn(PROGRAM, i).slots;
  }
});

test(`encode/decode: ${COUNT} random instructions round-trip`, () => {
  const bytes = encodeInsns(PROGRAM);
  assert.equal(bytes.length, PROGRAM.length * 8);
  sameInsns(decodeInsns(bytes), PROGRAM, "decode(encode(x))");
  assert.deepEqual(encodeInsns(decodeInsns(bytes)), bytes);
});

test(`llvm syntax: ${COUNT} random instructions round-trip through disassemble/assemble`, () => {
  const text = disassemble(PROGRAM);
  assert.equal(text.split("\n").length, COUNT);
  assert.ok(!text.includes(".raw"), "a valid instruction printed as .raw");
  sameInsns(assemble(text, { syntax: "llvm" }), PROGRAM, "assemble(disassemble(x))");
});

test(`llvm syntax, hex immediates: ${COUNT} random instructions round-trip`, () => {
  const text = disassemble(PROGRAM, { hex: true, helperName: false });
  sameInsns(assemble(text, { syntax: "llvm" }), PROGRAM, "assemble(disassemble(x, hex))");
});

test(`classic syntax: ${COUNT} random instructions round-trip through disassemble/assemble`, () => {
  const text = disassemble(PROGRAM, { syntax: "classic" });
  assert.ok(!text.includes(".raw"), "a valid instruction printed as .raw");
  sameInsns(assemble(text, { syntax: "classic" }), PROGRAM, "assemble(disassemble(x, classic))");
  const hex = disassemble(PROGRAM, { syntax: "classic", hex: true });
  sameInsns(assemble(hex, { syntax: "classic" }), PROGRAM, "assemble(disassemble(x, classic hex))");
});

test("auto syntax: a mix of llvm and classic lines assembles like either alone", () => {
  const llvm = disassembleLines(PROGRAM.slice(0, 20_000));
  const classic = disassembleLines(PROGRAM.slice(0, 20_000), { syntax: "classic" });
  const mixed = llvm.map((l, k) => (k % 2 ? l.text : classic[k].text)).join("\n");
  sameInsns(assemble(mixed), PROGRAM.slice(0, 20_000), "assemble(mixed)");
});

test("arbitrary bytes: 50,000 random slots round-trip through disassemble/assemble (.raw)", () => {
  const slots = randomSlots(SEED ^ 0xabcdef, 50_000);
  const bytes = encodeInsns(slots);
  for (const syntax of ["llvm", "classic"] as const) {
    const text = disassemble(bytes, { syntax });
    assert.deepEqual(encodeInsns(assemble(text, { syntax })), bytes, `${syntax}: bytes changed`);
  }
});

test("disassembleLines reports the slot index of each instruction", () => {
  const lines = disassembleLines(PROGRAM.slice(0, 1000));
  let slot = 0;
  for (const line of lines) {
    assert.equal(line.index, slot);
    slot += PROGRAM[slot].code === 0x18 ? 2 : 1;
  }
});
