/**
 * Deep findings name the C source line when the program comes with BTF line info: from
 * `checkProgram({ lines })`, and from `loadObject(…, { checkDepth: "deep" })` on a clang object
 * (tests/fixtures/objects/no_null_check.bpf.c), where the kernel's own log names the same line.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { checkProgram } from "../lib/check/check.ts";
import { PreloadCheckError } from "../lib/check/error.ts";
import { assemble } from "../lib/insn/asm.ts";
import { loadObject } from "../lib/object/load.ts";
import { VerifierError } from "../lib/errors.ts";
import { kernelSkip, repoRoot } from "./util.ts";

const OBJECT = join(repoRoot, "tests/fixtures/objects/no_null_check.bpf.o");

test("deep checker: a finding carries the source line that covers its instruction", () => {
  const insns = assemble(`
    r1 = 1
    r2 = 2
    r0 = *(u64 *)(r1 + 0)
    exit`);
  const lines = [
    { insn: 0, file: "prog.c", line: 10, column: 2, text: "int a = 1, b = 2;" },
    { insn: 2, file: "prog.c", line: 11, column: 9, text: "return *(long *)a;" },
  ];
  const findings = checkProgram({ type: "xdp", insns, license: "GPL", depth: "deep", lines });
  assert.equal(findings.length, 1);
  assert.equal(findings[0].message, "R1 invalid mem access 'scalar'");
  assert.deepEqual(findings[0].source, lines[1]);
  const e = new PreloadCheckError(findings, insns, "xdp");
  assert.match(e.message, /at insn 2 \(prog\.c:11\): R1 invalid mem access 'scalar'/);
  assert.match(e.message, /; return \*\(long \*\)a;/);
});

test("loadObject with checkDepth 'deep': the finding names the C line the kernel names", {
  skip: kernelSkip,
}, () => {
  let deep: PreloadCheckError | undefined;
  try {
    loadObject(OBJECT, { checkDepth: "deep" }).close();
  } catch (e) {
    if (e instanceof PreloadCheckError) deep = e;
    else throw e;
  }
  assert.ok(deep, "the deep check refused the object");
  const f = deep.findings.find((x) => x.severity === "error")!;
  assert.equal(f.message, "R0 invalid mem access 'map_value_or_null'");
  assert.ok(f.source, "the finding has a source line");
  assert.match(f.source.file, /no_null_check\.bpf\.c$/);
  assert.match(f.source.text, /\*n \+= 1;/);
  // The kernel refuses the same program at the same line: its log names file:line, or (kernels
  // whose log shows only the source text) its VerifierError's source, from line_info, does.
  assert.throws(
    () => loadObject(OBJECT).close(),
    (e: unknown) =>
      e instanceof VerifierError &&
      e.log.includes("R0 invalid mem access 'map_value_or_null'") &&
      (e.log.includes(`no_null_check.bpf.c:${f.source!.line}`) ||
        (e.source?.line === f.source!.line && /no_null_check\.bpf\.c$/.test(e.source.file))),
  );
});

test("loadObject with checkDepth 'deep' loads every fixture object the kernel loads", {
  skip: kernelSkip,
}, () => {
  const dir = join(repoRoot, "tests/fixtures/objects");
  // Maps pinned by name go to a directory of this test's own, removed at the end.
  const pinRoot = mkdtempSync(join("/sys/fs/bpf", `tsbpf_deep_${process.pid}_`));
  let loaded = 0;
  const refused: string[] = [];
  try {
    for (const f of readdirSync(dir).filter((n) => n.endsWith(".bpf.o")).sort()) {
      let ok = false;
      try {
        loadObject(join(dir, f), { pinRoot }).close();
        ok = true;
      } catch {
        // the kernel (or the loader) refuses it as it is: nothing to compare
      }
      if (!ok) continue;
      try {
        loadObject(join(dir, f), { checkDepth: "deep", pinRoot }).close();
        loaded++;
      } catch (e) {
        refused.push(`${f}: ${(e as Error).message.split("\n").slice(0, 3).join(" | ")}`);
      }
    }
  } finally {
    rmSync(pinRoot, { recursive: true, force: true });
  }
  assert.deepEqual(refused, []);
  assert.ok(loaded > 0);
  console.log(`deep-checked fixture objects loaded: ${loaded}`);
});
