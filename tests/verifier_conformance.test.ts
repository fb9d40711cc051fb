/**
 * The deep checker on the BPF conformance suite (../shared/conformance, read in place): every
 * program the kernel accepts must pass the deep checker too. The programs run as the kernel test
 * of insn_conformance.test.ts runs them (a socket filter, or XDP behind a packet-bounds prologue for
 * tests with input memory); a deep finding is allowed only where the kernel refuses the program.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { assemble, type Insn } from "../lib/insn/mod.ts";
import { checkProgram } from "../lib/check/check.ts";
import { Program } from "../lib/program/program.ts";
import { kernelSkip, sharedDir } from "./util.ts";

function env(name: string): string | undefined {
  const g = globalThis as { process?: { env: Record<string, string | undefined> } };
  return g.process?.env[name];
}

/** The suite's tests directory (`CONFORMANCE_DIR` overrides, e.g. when run from a worktree). */
const DIR = env("CONFORMANCE_DIR") ?? join(sharedDir, "conformance", "tests");
const confSkip: string | false = existsSync(DIR)
  ? false
  : `the conformance suite is absent (${DIR}); it exists only beside the project's CI checkout`;

interface Prog {
  name: string;
  type: "socket_filter" | "xdp";
  insns: Insn[];
}

function section(text: string, name: string): string | undefined {
  const m = new RegExp(`^-- ${name}\\s*\\n([\\s\\S]*?)(?=^-- |(?![\\s\\S]))`, "m").exec(text);
  return m?.[1];
}

function programs(): Prog[] {
  if (confSkip) return [];
  const out: Prog[] = [];
  for (const f of readdirSync(DIR).filter((f) => f.endsWith(".data")).sort()) {
    const text = readFileSync(join(DIR, f), "utf8");
    const asm = section(text, "asm");
    if (asm === undefined) continue;
    let insns: Insn[];
    try {
      insns = assemble(asm, { syntax: "classic" });
    } catch {
      continue; // the assembler's own test covers these
    }
    const mem = section(text, "mem")?.trim();
    if (mem) {
      const len = mem.split(/\s+/).length;
      const prologue = assemble(`
        r2 = *(u32 *)(r1 + 4)
        r1 = *(u32 *)(r1 + 0)
        r3 = r1
        r3 += ${len}
        if r3 <= r2 goto +2
        r0 = 0xbad
        exit
        r2 = ${len}
        r3 = 0`);
      out.push({ name: f.slice(0, -5), type: "xdp", insns: [...prologue, ...insns] });
    } else {
      out.push({ name: f.slice(0, -5), type: "socket_filter", insns });
    }
  }
  return out;
}

const PROGS = programs();

function deepErrors(p: Prog): string[] {
  return checkProgram({ type: p.type, insns: p.insns, license: "GPL", depth: "deep" })
    .filter((f) => f.severity === "error").map((f) => `${f.index}: ${f.message}`);
}

function basicErrors(p: Prog): string[] {
  return checkProgram({ type: p.type, insns: p.insns, license: "GPL" })
    .filter((f) => f.severity === "error").map((f) => `${f.index}: ${f.message}`);
}

test("deep checker: conformance programs get no deep finding beyond the structural ones", {
  skip: confSkip,
}, () => {
  assert.ok(PROGS.length >= 300);
  const extra: string[] = [];
  for (const p of PROGS) {
    const basic = new Set(basicErrors(p));
    for (const e of deepErrors(p)) if (!basic.has(e)) extra.push(`${p.name}: ${e}`);
  }
  assert.deepEqual(extra, []);
});

test("deep checker: every conformance program the kernel accepts passes the deep checker", {
  skip: confSkip || kernelSkip,
}, () => {
  const wrong: string[] = [];
  let accepted = 0;
  for (const p of PROGS) {
    const errs = deepErrors(p);
    let ok = true;
    try {
      Program.load({ type: p.type, insns: p.insns, license: "GPL", check: false }).close();
    } catch {
      ok = false;
    }
    if (ok) accepted++;
    if (ok && errs.length > 0) wrong.push(`${p.name}: ${errs[0]}`);
  }
  console.log(`conformance: ${PROGS.length} programs, ${accepted} accepted by the kernel`);
  assert.deepEqual(wrong, []);
  // Not vacuous: most of the corpus loads (kernels lacking newer instructions refuse more).
  assert.ok(accepted > PROGS.length / 2, `${accepted} of ${PROGS.length}`);
});
