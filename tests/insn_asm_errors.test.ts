// Malformed assembly: an AsmError (a SyntaxError) with the line, the column, the offending text and
// what was expected; never another exception from inside the assembler.
import { test } from "node:test";
import assert from "node:assert/strict";
import { AsmError, assemble, type AssembleOptions, disassembleLines } from "../lib/insn/mod.ts";
import { randomProgram, Rng } from "./insn_gen.ts";

function asmError(text: string, options?: AssembleOptions): AsmError {
  try {
    assemble(text, options);
  } catch (e) {
    if (e instanceof AsmError) return e;
    throw new Error(`expected an AsmError, got ${e}`);
  }
  throw new Error(`expected an AsmError for ${JSON.stringify(text)}, but it assembled`);
}

interface Case {
  text: string;
  line: number;
  column: number;
  found: string;
  expected: RegExp;
  message?: RegExp;
  options?: AssembleOptions;
}

const CASES: Case[] = [
  { text: "r0 = 1\nr11 = 2\nexit", line: 2, column: 1, found: "r11", expected: /register r0-r10/ },
  {
    text: "r0 =\nexit",
    line: 1,
    column: 5,
    found: "",
    expected: /value, register or expression/,
    message: /end of line/,
  },
  { text: "  if r1 >> 3 goto +1", line: 1, column: 9, found: ">>", expected: /comparison/ },
  { text: "if r1 > 3 goto +1 extra", line: 1, column: 19, found: "extra", expected: /end of line/ },
  {
    text: "\n\n  goto nowhere\nexit",
    line: 3,
    column: 8,
    found: "nowhere",
    expected: /defined label/,
    message: /unknown label "nowhere"/,
  },
  {
    text: "out:\nr0 = 0\nout: exit",
    line: 3,
    column: 1,
    found: "out",
    expected: /new label/,
    message: /duplicate label "out" \(first defined on line 1\)/,
  },
  {
    text: "mov %r0, 0x1g",
    line: 1,
    column: 10,
    found: "0x1g",
    expected: /number/,
    message: /malformed number/,
  },
  {
    text: "r0 = 0x123456789",
    line: 1,
    column: 6,
    found: "0x123456789",
    expected: /32-bit value/,
    message: /use ld_imm64/,
  },
  {
    text: "ldxw %r0, [%r1+40000]",
    line: 1,
    column: 16,
    found: "40000",
    expected: /offset -32768\.\.32767/,
  },
  {
    text: "frobnicate %r0",
    line: 1,
    column: 1,
    found: "frobnicate",
    expected: /an instruction/,
    message: /unknown instruction "frobnicate"/,
  },
  {
    text: "jeq %r1, 0, +40000",
    line: 1,
    column: 13,
    found: "+",
    expected: /jump offset/,
    message: /use gotol/,
  },
  {
    text: "lock frob [%r1+0], %r2",
    line: 1,
    column: 6,
    found: "frob",
    expected: /fetch, add, or, and, xor, xchg or cmpxchg/,
  },
  {
    text: "call no_such_helper",
    line: 1,
    column: 6,
    found: "no_such_helper",
    expected: /label or a helper name/,
  },
  {
    text: "mov %r0, 1",
    line: 1,
    column: 1,
    found: "mov",
    expected: /llvm syntax/,
    options: { syntax: "llvm" },
  },
  {
    text: "r0 = 1",
    line: 1,
    column: 1,
    found: "r0",
    expected: /classic syntax/,
    options: { syntax: "classic" },
  },
  { text: "*(u32 *)(r10 - 4) =", line: 1, column: 20, found: "", expected: /a number/ },
  {
    text: "*(u24 *)(r10 - 4) = 1",
    line: 1,
    column: 3,
    found: "u24",
    expected: /u8, u16, u32 or u64/,
  },
  {
    text: "r1 = map[events] ll",
    line: 1,
    column: 10,
    found: "events",
    expected: /options\.maps/,
    message: /needs the maps option/,
  },
  { text: "w1 = r2", line: 1, column: 6, found: "r2", expected: /w0-w10/ },
  { text: "r1 = be16 r2", line: 1, column: 11, found: "r2", expected: /byte swaps work in place/ },
  {
    text: "call bpf_map_lookup_elem#2",
    line: 1,
    column: 26,
    found: "2",
    expected: /#1/,
    message: /is helper #1, not #2/,
  },
  { text: "r0 = 1 @", line: 1, column: 8, found: "@", expected: /instruction, operand or comment/ },
  {
    text: "ldxsdw %r0, [%r1+0]",
    line: 1,
    column: 1,
    found: "ldxsdw",
    expected: /ldxsb, ldxsh or ldxsw/,
  },
  {
    text: "lddw %r0, 0x10000000000000000",
    line: 1,
    column: 11,
    found: "0x10000000000000000",
    expected: /64-bit/,
  },
  {
    text: "\tr0 = *(u8 *)skb[r1 + 4] # fine\n\tr1 = *(u8 *)skb[4]",
    line: 2,
    column: 2,
    found: "r1",
    expected: /r0 \(legacy packet loads write r0\)/,
  },
  {
    text: "0: (b4) r0 = 1",
    line: 1,
    column: 5,
    found: "b4",
    expected: /opcode 0xb7/,
    message: /does not match/,
  },
  { text: "r1 = -r2", line: 1, column: 7, found: "r2", expected: /neg negates its destination/ },
];

for (const c of CASES) {
  test(`malformed assembly: ${JSON.stringify(c.text)} → line ${c.line}, column ${c.column}`, () => {
    const e = asmError(c.text, c.options);
    assert.ok(e instanceof SyntaxError);
    assert.equal(e.name, "AsmError");
    assert.equal(e.line, c.line, e.message);
    assert.equal(e.column, c.column, e.message);
    assert.equal(e.found, c.found, e.message);
    assert.match(e.expected, c.expected, e.message);
    if (c.message) assert.match(e.message, c.message);
    assert.equal(e.source, c.text.split("\n")[c.line - 1]);
    // the message shows the line and a caret under the column
    const lines = e.message.split("\n");
    assert.match(lines[0], new RegExp(`^line ${c.line}, column ${c.column}: `));
    assert.equal(lines[2].indexOf("^"), 2 + c.column - 1);
  });
}

test("map names resolve through options.maps (numbers, objects with fd, functions)", () => {
  const text = "r1 = map[events] ll\nr2 = map_value[stats]+8 ll\nexit";
  const a = assemble(text, { maps: { events: 7, stats: { fd: 9 } } });
  assert.deepEqual([a[0].src, a[0].imm, a[2].src, a[2].imm, a[3].imm], [1, 7, 2, 9, 8]);
  const b = assemble(text, { maps: (n) => (n === "events" ? 7 : n === "stats" ? 9 : undefined) });
  assert.deepEqual(b, a);
  const e = asmError("r1 = map[nope] ll", { maps: { events: 7 } });
  assert.match(e.message, /unknown map "nope"/);
});

test("the conformance convention: a jump to the undefined label exit goes to the first exit", () => {
  const insns = assemble("jne %r0, 1, exit\nmov %r0, 2\nexit\nmov %r0, 3\nexit", {
    syntax: "classic",
  });
  assert.equal(insns[0].off, 1);
  assert.throws(() => assemble("jne %r0, 1, exit\nmov %r0, 2"), /unknown label "exit"/);
});

test("fuzz: 30,000 mutated lines either assemble or throw an AsmError", () => {
  const { insns } = randomProgram(77, 3000);
  const lines = [
    ...disassembleLines(insns).map((l) => l.text),
    ...disassembleLines(insns, { syntax: "classic", hex: true }).map((l) => l.text),
  ];
  const r = new Rng(4242);
  const alphabet = " \t,;#:+-*()[]<>=&|^%sxrw0123456789abcdefl.xkfpgo_";
  let errors = 0;
  for (let n = 0; n < 30_000; n++) {
    let s = lines[r.int(lines.length)];
    const edits = 1 + r.int(3);
    for (let k = 0; k < edits; k++) {
      const at = r.int(s.length + 1);
      switch (r.int(4)) {
        case 0: // delete a character
          s = s.slice(0, at) + s.slice(at + 1);
          break;
        case 1: // insert a character
          s = s.slice(0, at) + alphabet[r.int(alphabet.length)] + s.slice(at);
          break;
        case 2: // truncate
          s = s.slice(0, at);
          break;
        default: // duplicate a chunk
          s = s.slice(0, at) + s.slice(r.int(s.length + 1));
      }
    }
    try {
      assemble(s);
    } catch (e) {
      if (!(e instanceof AsmError)) assert.fail(`${JSON.stringify(s)} threw ${e}`);
      assert.ok(
        e.line === 1 && e.column >= 1 && e.column <= s.length + 1,
        `${JSON.stringify(s)}: ${e.message}`,
      );
      errors++;
    }
  }
  assert.ok(errors > 10_000, `${errors} of 30000 mutations were errors`);
});
