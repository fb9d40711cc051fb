// The BPF conformance suite (../shared/conformance, read in place, never copied):
// 1. pure: every test's `-- asm` (classic syntax) assembles, matches its `-- raw` bytes when there
//    are some, and round-trips through both disassembly syntaxes;
// 2. kernel: every test whose result does not depend on input memory is loaded as a socket filter
//    and run with BPF_PROG_TEST_RUN; the low 32 bits of r0 must equal the expected result.
//    Tests with `-- mem` read their input through r1 (its length in r2), where the kernel passes a
//    context pointer instead: they run as XDP programs behind a short prologue that loads
//    r1 = ctx->data, checks that the packet holds the memory's bytes (so that the verifier allows
//    the accesses) and sets r2 to the memory's length; the packet is the memory, zero-padded to 64
//    bytes.
//
// Classes the kernel part skips, decided before anything runs:
// - shifts by a constant outside 0..width-1: RFC 9669 masks the shift amount, the Linux verifier
//   refuses such constants ("invalid shift");
// - `call %r2` (callx, opcode 0x8d): not an instruction of RFC 9669 nor of Linux;
// - instructions newer than the running kernel (cpu v4 before 6.6, atomics that fetch before
//   5.12...), as its live profile says (`liveProfile().insn(feature)`).
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import {
  assemble,
  disassemble,
  encodeInsns,
  type Insn,
  insnError,
  isaFeatureOf,
  isaFeaturesOf,
  rawWord,
} from "../lib/insn/mod.ts";
import { liveProfile } from "../lib/profile/mod.ts";
import { VerifierError } from "../lib/errors.ts";
import { Program } from "../lib/program/program.ts";
import { kernelSkip, sharedDir } from "./util.ts";

const CONF_DIR = join(sharedDir, "conformance", "tests");
const confSkip: string | false = existsSync(CONF_DIR)
  ? false
  : `the conformance suite is absent (${CONF_DIR}); it exists only beside the project's CI checkout`;

interface ConfTest {
  name: string;
  asm: string;
  mem?: string;
  raw?: string[];
  result: bigint;
}

function parseData(name: string, text: string): ConfTest {
  const sections: Record<string, string[]> = {};
  let cur: string | undefined;
  for (const line of text.split("\n")) {
    const m = /^-- (.*)$/.exec(line);
    if (m) {
      cur = m[1].trim();
      sections[cur] = [];
    } else if (cur !== undefined) {
      sections[cur].push(line);
    }
  }
  if (!sections.asm || !sections.result) throw new Error(`${name}: no -- asm or -- result section`);
  return {
    name,
    asm: sections.asm.join("\n"),
    mem: sections.mem?.join(" ").trim() || undefined,
    raw: sections.raw?.map((l) => l.trim()).filter((l) => l !== ""),
    result: BigInt(sections.result.join("").trim()),
  };
}

const TESTS: ConfTest[] = confSkip
  ? []
  : readdirSync(CONF_DIR).filter((f) => f.endsWith(".data")).sort().map((f) =>
    parseData(f.slice(0, -5), readFileSync(join(CONF_DIR, f), "utf8"))
  );

function tryAssemble(t: ConfTest): Insn[] | Error {
  try {
    return assemble(t.asm, { syntax: "classic" });
  } catch (e) {
    return e as Error;
  }
}

const ASSEMBLED = new Map(TESTS.map((t) => [t.name, tryAssemble(t)]));

/** Why the kernel part skips a test (a class for the summary and the detail), or undefined. */
function staticSkip(insns: Insn[] | Error): { cls: string; detail: string } | undefined {
  if (insns instanceof Error) {
    return { cls: "does not assemble", detail: "does not assemble (see the pure test)" };
  }
  for (let i = 0; i < insns.length; i++) {
    const { code, imm } = insns[i];
    const cls = code & 7;
    const op = code & 0xf0;
    if (
      (cls === 4 || cls === 7) && (code & 8) === 0 && (op === 0x60 || op === 0x70 || op === 0xc0)
    ) {
      const width = cls === 7 ? 64 : 32;
      if (imm < 0 || imm >= width) {
        return {
          cls:
            "shift by a constant outside 0..width-1: RFC 9669 masks it, the Linux verifier refuses it",
          detail: `shift by the constant ${imm} at slot ${i}: RFC 9669 masks it to ${
            imm & (width - 1)
          }, Linux refuses it ("invalid shift")`,
        };
      }
    }
    if (code === 0x8d) {
      const c = "callx (call %r2, opcode 0x8d) is not an instruction of RFC 9669 or Linux";
      return { cls: c, detail: c };
    }
    if (code === 0x18) i++;
  }
  // Instructions newer than the running kernel: skipped where its profile says it lacks them.
  for (const [feature, at] of isaFeaturesOf(insns)) {
    const a = liveProfile().insn(feature);
    if (a.state === "no") {
      return {
        cls: `the running kernel lacks ${feature} instructions`,
        detail: `${feature} instruction at slot ${at}: ${a.reason}`,
      };
    }
  }
  return undefined;
}

test(
  `conformance (pure): all ${TESTS.length || 313} programs assemble, match -- raw and round-trip`,
  { skip: confSkip },
  () => {
    const failures: string[] = [];
    let slots = 0;
    let raws = 0;
    for (const t of TESTS) {
      const insns = ASSEMBLED.get(t.name)!;
      if (insns instanceof Error) {
        failures.push(`${t.name}: ${insns.message}`);
        continue;
      }
      slots += insns.length;
      if (t.raw) {
        raws++;
        const words = insns.map(rawWord);
        if (
          words.join(" ") !==
            t.raw.map((w) => "0x" + w.slice(2).padStart(16, "0").toLowerCase()).join(" ")
        ) {
          failures.push(`${t.name}: -- raw ${t.raw.join(" ")} but assembled ${words.join(" ")}`);
        }
      }
      const bytes = encodeInsns(insns);
      for (const syntax of ["classic", "llvm"] as const) {
        const again = encodeInsns(assemble(disassemble(insns, { syntax }), { syntax }));
        if (again.join() !== bytes.join()) {
          failures.push(`${t.name}: ${syntax} round trip changed the bytes`);
        }
      }
    }
    assert.equal(TESTS.length, 313, "the suite has 313 tests");
    assert.deepEqual(failures, []);
    assert.equal(raws, 1);
    console.log(
      `conformance (pure): ${TESTS.length} programs, ${slots} slots assembled; ${raws} -- raw section matched`,
    );
  },
);

/** XDP prologue for tests with input memory: r1 = packet data of `length` checked bytes, r2 = length. */
function memPrologue(length: number): Insn[] {
  return assemble(`
    r2 = *(u32 *)(r1 + 4)   ; ctx->data_end
    r1 = *(u32 *)(r1 + 0)   ; ctx->data
    r3 = r1
    r3 += ${length}
    if r3 <= r2 goto +2     ; the verifier now knows r1 has ${length} readable bytes
    r0 = 0xbad
    exit
    r2 = ${length}
    r3 = 0
  `);
}

const results = { pass: 0, mem: 0, fail: 0, skip: new Map<string, string[]>() };

for (const t of TESTS) {
  const why = kernelSkip
    ? { cls: kernelSkip, detail: kernelSkip }
    : staticSkip(ASSEMBLED.get(t.name)!);
  const reason: string | false = why?.detail ?? false;
  if (why) {
    const list = results.skip.get(why.cls) ?? [];
    list.push(t.name);
    results.skip.set(why.cls, list);
  }
  test(`conformance (kernel): ${t.name}`, { skip: reason }, () => {
    const insns = ASSEMBLED.get(t.name) as Insn[];
    let ok = false;
    try {
      const mem = t.mem === undefined
        ? undefined
        : new Uint8Array(t.mem.split(/\s+/).map((b) => parseInt(b, 16)));
      const data = new Uint8Array(Math.max(64, mem?.length ?? 0));
      if (mem) data.set(mem);
      using prog = mem
        ? Program.load({
          type: "xdp",
          insns: [...memPrologue(mem.length), ...insns],
          license: "GPL",
          check: false,
        })
        : Program.load({ type: "socket_filter", insns, license: "GPL", check: false });
      const { retval } = prog.testRun({ data });
      const want = Number(t.result & 0xffffffffn);
      assert.equal(
        retval >>> 0,
        want,
        `${t.name}: r0 low 32 bits 0x${(retval >>> 0).toString(16)}, expected 0x${
          want.toString(16)
        }`,
      );
      ok = true;
      if (mem) results.mem++;
    } finally {
      if (ok) results.pass++;
      else results.fail++;
    }
  });
}

test("conformance (kernel): the kernel refuses the skipped programs, for the reason given", {
  skip: confSkip || kernelSkip,
}, () => {
  const expected: Array<[RegExp, RegExp]> = [
    [/^shift by a constant/, /invalid shift -?\d+/],
    [/^callx/, /unknown opcode 8d/],
    // What older verifiers say about a newer instruction.
    [/^the running kernel lacks/, /unknown opcode|uses reserved fields|invalid|unsupported/],
  ];
  let checked = 0;
  for (const [cls, names] of results.skip) {
    const pair = expected.find(([c]) => c.test(cls));
    assert.ok(pair, `no expectation for the skip class "${cls}"`);
    for (const name of names) {
      const insns = ASSEMBLED.get(name) as Insn[];
      // gotol alone: a kernel without v4 reads JMP32 ja as `ja +off` and may load it (with
      // another meaning, hence the skip).
      const v4 = insns.filter((x) => isaFeatureOf(x) === "v4");
      if (/lacks v4/.test(cls) && v4.length > 0 && v4.every((x) => x.code === 0x06)) {
        checked++;
        continue;
      }
      assert.throws(
        () => Program.load({ type: "socket_filter", insns, license: "GPL", check: false }).close(),
        (e: unknown) => e instanceof VerifierError && pair[1].test(e.log),
        `${name}: expected the verifier to say ${pair[1]}`,
      );
      checked++;
    }
  }
  assert.equal(checked, [...results.skip.values()].reduce((n, l) => n + l.length, 0));
});

test("conformance (kernel): summary", { skip: confSkip }, () => {
  const skipped = [...results.skip.values()].reduce((n, l) => n + l.length, 0);
  const lines = [
    `conformance (kernel): ${results.pass} passed (${results.mem} of them with input memory, as XDP), ${skipped} skipped, ${results.fail} failed`,
  ];
  for (const [reason, names] of results.skip) {
    lines.push(
      `  skipped ${names.length}: ${reason}${names.length <= 14 ? ` [${names.join(", ")}]` : ""}`,
    );
  }
  console.log(lines.join("\n"));
  assert.equal(results.fail, 0);
  assert.equal(results.pass + skipped + results.fail, TESTS.length);
  for (const t of TESTS) {
    const insns = ASSEMBLED.get(t.name);
    // every skipped program is still a well-formed encoding apart from callx
    if (insns && !(insns instanceof Error) && !insns.some((i) => i.code === 0x8d)) {
      for (let i = 0; i < insns.length; i++) {
        assert.equal(insnError(insns, i), undefined, `${t.name} slot ${i}`);
        if (insns[i].code === 0x18) i++;
      }
    }
  }
});
