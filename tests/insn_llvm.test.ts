// lib/insn against llvm 19: the committed outputs of tests/fixtures/insn/build.sh (clang-19 objects,
// their code sections as raw bytes, llvm-objdump-19 text). No clang is needed to run these tests.
//
// For every code section: assembling llvm-objdump's text gives clang's bytes, and disassembling the
// bytes gives llvm-objdump's text (whitespace normalised, llvm's `<sym+0x18>` branch annotations
// dropped). The one place the two texts differ by design: a call with src 1 (a BPF-to-BPF call, or
// a kfunc before libbpf resolves it), which llvm-objdump prints like a helper call (`call 0x8`,
// made distinct only by the R_BPF_64_32 relocation line after it) and we print `call pc+8`.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  assemble,
  disassemble,
  disassembleLines,
  encodeInsns,
  type Insn,
} from "../lib/insn/mod.ts";

const DIR = join(dirname(fileURLToPath(import.meta.url)), "fixtures", "insn");
const FIXTURES = readdirSync(DIR).filter((f) => f.endsWith(".c")).map((f) => f.slice(0, -2)).sort();

interface Section {
  name: string;
  /** Instruction lines: slot index and text. */
  lines: { index: number; text: string }[];
  /** The section's lines as llvm-objdump printed them (instructions and relocations). */
  raw: string[];
}

/** Splits llvm-objdump -dr output into code sections. */
function parseObjdump(text: string): Section[] {
  const sections: Section[] = [];
  let cur: Section | undefined;
  for (const line of text.split("\n")) {
    const s = /^Disassembly of section (.+):$/.exec(line);
    if (s) {
      cur = { name: s[1], lines: [], raw: [] };
      sections.push(cur);
      continue;
    }
    if (!cur || line.trim() === "" || /^[0-9a-f]{16} <.*>:$/.test(line)) continue;
    const m = /^\s+(\d+):\t(.*)$/.exec(line);
    if (m) cur.lines.push({ index: Number(m[1]), text: m[2] });
    else if (!/^\s+[0-9a-f]+:\s+R_BPF_\w+\s+\S+$/.test(line)) {
      throw new Error(`unexpected objdump line: ${line}`);
    }
    cur.raw.push(line);
  }
  return sections;
}

/** The bytes of a section of a 64-bit little-endian ELF object (minimal reader). */
function elfSection(elf: Uint8Array, name: string): Uint8Array {
  const v = new DataView(elf.buffer, elf.byteOffset, elf.byteLength);
  assert.equal(v.getUint32(0), 0x7f454c46, "not an ELF file");
  const shoff = Number(v.getBigUint64(0x28, true));
  const shentsize = v.getUint16(0x3a, true);
  const shnum = v.getUint16(0x3c, true);
  const shstrndx = v.getUint16(0x3e, true);
  const sh = (i: number) => shoff + i * shentsize;
  const strOff = Number(v.getBigUint64(sh(shstrndx) + 0x18, true));
  for (let i = 0; i < shnum; i++) {
    let p = strOff + v.getUint32(sh(i), true);
    let n = "";
    while (elf[p] !== 0) n += String.fromCharCode(elf[p++]);
    if (n === name) {
      const off = Number(v.getBigUint64(sh(i) + 0x18, true));
      const size = Number(v.getBigUint64(sh(i) + 0x20, true));
      return elf.subarray(off, off + size);
    }
  }
  throw new Error(`no section ${name}`);
}

function normalise(llvmText: string): string {
  return llvmText.replace(/ <[^<>]*>$/, "").replace(/\s+/g, " ").trim();
}

function hexByte(b: Uint8Array, i: number): string {
  return Array.from(b.subarray(i - (i % 8), i - (i % 8) + 8)).map((x) =>
    x.toString(16).padStart(2, "0")
  ).join(" ");
}

function compareBytes(actual: Uint8Array, expected: Uint8Array, what: string): void {
  assert.equal(
    actual.length,
    expected.length,
    `${what}: ${actual.length} bytes instead of ${expected.length}`,
  );
  for (let i = 0; i < expected.length; i++) {
    if (actual[i] !== expected[i]) {
      assert.fail(
        `${what}: slot ${Math.floor(i / 8)} differs: got ${hexByte(actual, i)}, clang has ${
          hexByte(expected, i)
        }`,
      );
    }
  }
}

/** Our llvm-syntax line for slot `index`, mapped to llvm's wording where they differ by design. */
function asLlvmPrints(insns: readonly Insn[], index: number, text: string, hex: boolean): string {
  const insn = insns[index];
  if (insn.code === 0x85 && insn.src === 1) {
    assert.match(text, /^call pc[+-]/);
    const n = insn.imm;
    return `call ${n < 0 ? "-" : ""}${hex ? "0x" + Math.abs(n).toString(16) : String(Math.abs(n))}`;
  }
  if (insn.code === 0x18 && insn.src === 0 && !hex) {
    // A 64-bit immediate is always printed in hex (as the kernel does); --no-print-imm-hex
    // prints it in decimal.
    const m = /^(r\d+ = )(-?)0x([0-9a-f]+) ll$/.exec(text);
    assert.ok(m !== null, text);
    return `${m[1]}${m[2]}${BigInt("0x" + m[3])} ll`;
  }
  return text;
}

function checkSections(
  file: string,
  binName: (section: string) => string,
  elf?: Uint8Array,
): number {
  let checked = 0;
  for (const [suffix, hex] of [["objdump.txt", true], ["objdump-dec.txt", false]] as const) {
    const sections = parseObjdump(readFileSync(join(DIR, `${file}.${suffix}`), "utf8"));
    assert.ok(sections.length > 0, `${file}.${suffix} has no code section`);
    for (const sec of sections) {
      const bytes = new Uint8Array(readFileSync(join(DIR, binName(sec.name))));
      if (elf) {
        compareBytes(
          elfSection(elf, sec.name),
          bytes,
          `${file}.o section ${sec.name} vs ${binName(sec.name)}`,
        );
      }
      // llvm-objdump text → our assembler → clang's bytes
      const assembled = assemble(sec.raw.join("\n"), { syntax: "llvm" });
      compareBytes(encodeInsns(assembled), bytes, `${file} ${sec.name} (${suffix}) assembled`);
      // clang's bytes → our disassembler → llvm-objdump's text
      const insns = assembled;
      const ours = disassembleLines(bytes, { hex, helperName: false });
      assert.equal(ours.length, sec.lines.length, `${file} ${sec.name}: instruction count`);
      for (let k = 0; k < ours.length; k++) {
        assert.equal(ours[k].index, sec.lines[k].index, `${file} ${sec.name}: slot of line ${k}`);
        assert.equal(
          asLlvmPrints(insns, ours[k].index, ours[k].text, hex),
          normalise(sec.lines[k].text),
          `${file} ${sec.name} (${suffix}) slot ${ours[k].index}`,
        );
      }
      checked += ours.length;
    }
  }
  return checked;
}

for (const name of FIXTURES) {
  test(`llvm fixture ${name}.c: objdump text assembles to clang's bytes and disassembles back`, () => {
    const elf = new Uint8Array(readFileSync(join(DIR, `${name}.o`)));
    const n = checkSections(name, (s) => `${name}.${s.replace(/^\./, "")}.bin`, elf);
    assert.ok(n > 0);
  });
}

test("llvm corpus: 3,000 random instructions match llvm-objdump-19 both ways (hex and decimal)", () => {
  const n = checkSections("random", () => "random.bin");
  assert.ok(n >= 6000, `${n} lines checked`);
});

test("our default llvm syntax names helpers as the verifier does and marks local calls", () => {
  const bytes = new Uint8Array(readFileSync(join(DIR, "calls.tc.bin")));
  const text = disassemble(bytes);
  assert.match(text, /^call bpf_loop#181$/m);
  assert.match(text, /^call bpf_ktime_get_ns#5$/m);
  assert.match(text, /^call bpf_tail_call#12$/m);
  assert.match(text, /^call pc\+8$/m);
  assert.match(text, /^call pc-1$/m);
  compareBytes(encodeInsns(assemble(text)), bytes, "named helpers re-assembled");
});
