// PreloadCheckError: every finding in the message, each with the disassembly around it.
import { test } from "node:test";
import assert from "node:assert/strict";
import { checkProgram, findingSnippet, PreloadCheckError } from "../lib/check/mod.ts";
import { encodeInsns, type Insn } from "../lib/insn/insn.ts";

const I = (code: number, dst = 0, src = 0, off = 0, imm = 0): Insn => ({
  code,
  dst,
  src,
  off,
  imm,
});

const PROG: Insn[] = [
  I(0xb7, 0, 0, 0, 0), // 0: r0 = 0
  I(0x18, 1, 0, 0, 5), // 1: r1 = 0x5 ll
  I(0x00), //            2: (second half)
  I(0x85, 0, 0, 0, 6), // 3: call bpf_trace_printk#6
  I(0x37, 0, 0, 0, 0), // 4: r0 /= 0
  I(0xb7, 10, 0, 0, 0), // 5: r10 = 0
  I(0x95), //            6: exit
];

test("the message lists each finding with index, code, kernel wording and a ±2 disassembly", () => {
  const findings = checkProgram({ type: "xdp", insns: PROG, license: "Proprietary" });
  assert.deepEqual(findings.map((f) => f.code), ["gpl-only", "div-by-zero", "fp-write"]);
  const e = new PreloadCheckError(findings, PROG, "xdp");
  assert.equal(e.name, "PreloadCheckError");
  assert.ok(e instanceof Error);
  assert.equal(e.findings, findings);
  const expected = [
    "pre-load check refused the xdp program: 3 errors",
    "",
    "error [gpl-only] at insn 3: cannot call GPL-restricted function from non-GPL compatible program",
    "    1: r1 = 0x5 ll",
    ">   3: call bpf_trace_printk#6",
    "    4: r0 /= 0",
    "    5: r10 = 0",
    "",
    "error [div-by-zero] at insn 4: div by zero",
    "    1: r1 = 0x5 ll",
    "    3: call bpf_trace_printk#6",
    ">   4: r0 /= 0",
    "    5: r10 = 0",
    "    6: exit",
    "",
    "error [fp-write] at insn 5: frame pointer is read only",
    "    3: call bpf_trace_printk#6",
    "    4: r0 /= 0",
    ">   5: r10 = 0",
    "    6: exit",
  ].join("\n");
  assert.equal(e.message, expected);
});

test("snippets work on bytes, at the edges, on the second slot of ld_imm64, and on huge programs", () => {
  assert.equal(findingSnippet(encodeInsns(PROG), 0), ">   0: r0 = 0\n    1: r1 = 0x5 ll");
  assert.equal(findingSnippet(PROG, 6), "    4: r0 /= 0\n    5: r10 = 0\n>   6: exit");
  assert.match(findingSnippet(PROG, 2), />\s+1: r1 = 0x5 ll/);
  assert.equal(findingSnippet(PROG, -1), "");
  assert.equal(findingSnippet(PROG, 99), "");
  const big = new Uint8Array(1_000_000 * 8);
  for (let i = 0; i < 1_000_000; i++) big[i * 8] = 0xb7;
  big[500_000 * 8 + 1] = 10; // r10 = 0
  const t0 = performance.now();
  const s = findingSnippet(big, 500_000);
  assert.ok(performance.now() - t0 < 50, "only the window is decoded");
  assert.match(s, />\s+500000: r10 = 0/);
  assert.equal(s.split("\n").length, 5);
});

test("program-wide findings have no snippet; more than 20 findings are counted", () => {
  const f = checkProgram({ type: "syscall", insns: [I(0x95)], license: "GPL" });
  const e = new PreloadCheckError(f, [I(0x95)]);
  assert.match(
    e.message,
    /^pre-load check refused the program: 1 error\n\nerror \[not-sleepable\] at program: Syscall programs/,
  );
  const many = Array.from({ length: 30 }, () => I(0x00));
  many.push(I(0x95));
  const g = checkProgram({ type: "xdp", insns: many, license: "GPL" });
  assert.equal(g.length, 30);
  const m = new PreloadCheckError(g, many).message;
  assert.match(m, /… and 10 more findings$/);
  assert.match(m, /unknown opcode 00/);
});

test("a poisoned CO-RE relocation is a warning, not an error", () => {
  const insns = [
    { code: 0xb7, dst: 0, src: 0, off: 0, imm: 0 },
    { code: 0x15, dst: 0, src: 0, off: 1, imm: 0 }, // if r0 == 0 goto +1: skips the poison
    { code: 0x85, dst: 0, src: 0, off: 0, imm: 0xbad2310 },
    { code: 0x95, dst: 0, src: 0, off: 0, imm: 0 },
  ];
  const findings = checkProgram({ type: "socket_filter", insns, license: "GPL" });
  assert.equal(findings.length, 1);
  assert.equal(findings[0].code, "core-poison");
  assert.equal(findings[0].severity, "warning");
  assert.equal(findings[0].index, 2);
});
