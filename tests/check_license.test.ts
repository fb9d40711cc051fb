// Licenses: the kernel's license_is_gpl_compatible() list, near misses, and a non-GPL program that
// calls a GPL-only helper — refused by the checker before load and by the kernel itself.
import { test } from "node:test";
import assert from "node:assert/strict";
import { kernelSkip } from "./util.ts";
import {
  checkProgram,
  GPL_COMPATIBLE_LICENSES,
  isGplCompatible,
  PreloadCheckError,
} from "../lib/check/mod.ts";
import { Program } from "../lib/program/program.ts";
import { VerifierError } from "../lib/errors.ts";
import type { Insn } from "../lib/insn/insn.ts";
import { HelperId } from "../types/helpers.ts";

const GPL_MSG = "cannot call GPL-restricted function from non-GPL compatible program";
const NEAR_MISSES = [
  "GPL ",
  " GPL",
  "gpl",
  "GPLv2",
  "GPL v3",
  "Proprietary",
  "BSD",
  "MIT",
  "",
  "Dual BSD/GPL ",
  "Dual GPL/BSD",
];

/** `r1 = 0; r2 = 0; call bpf_trace_printk; r0 = 0; exit`. */
const PRINTK: Insn[] = [
  { code: 0xb7, dst: 1, src: 0, off: 0, imm: 0 },
  { code: 0xb7, dst: 2, src: 0, off: 0, imm: 0 },
  { code: 0x85, dst: 0, src: 0, off: 0, imm: HelperId.trace_printk },
  { code: 0xb7, dst: 0, src: 0, off: 0, imm: 0 },
  { code: 0x95, dst: 0, src: 0, off: 0, imm: 0 },
];

test("isGplCompatible: exactly the six strings of license_is_gpl_compatible()", () => {
  assert.deepEqual(GPL_COMPATIBLE_LICENSES, [
    "GPL",
    "GPL v2",
    "GPL and additional rights",
    "Dual BSD/GPL",
    "Dual MIT/GPL",
    "Dual MPL/GPL",
  ]);
  for (const l of GPL_COMPATIBLE_LICENSES) assert.equal(isGplCompatible(l), true, l);
  for (const l of NEAR_MISSES) assert.equal(isGplCompatible(l), false, JSON.stringify(l));
  assert.equal(isGplCompatible("GPL\0anything"), true, "the kernel's string ends at the first NUL");
});

test("checker: a non-GPL program calling bpf_trace_printk is refused before load", () => {
  for (const license of NEAR_MISSES) {
    const f = checkProgram({ type: "socket_filter", insns: PRINTK, license });
    assert.deepEqual(
      f.map((x) => [x.index, x.code, x.message]),
      [[2, "gpl-only", GPL_MSG]],
      JSON.stringify(license),
    );
    const e = new PreloadCheckError(f, PRINTK, "socket_filter");
    assert.match(e.message, /cannot call GPL-restricted function/);
    assert.match(e.message, />\s+2: call bpf_trace_printk#6/);
  }
  for (const license of GPL_COMPATIBLE_LICENSES) {
    assert.deepEqual(checkProgram({ type: "socket_filter", insns: PRINTK, license }), [], license);
  }
  // A helper that is not GPL-only is fine under any license.
  const ktime = PRINTK.map((x) => x.code === 0x85 ? { ...x, imm: HelperId.ktime_get_ns } : x);
  assert.deepEqual(
    checkProgram({ type: "socket_filter", insns: ktime, license: "Proprietary" }),
    [],
  );
});

/** Loads PRINTK with `license` (no pre-load check); returns the verifier log. */
function kernelLog(license: string): string {
  try {
    Program.load({ type: "socket_filter", insns: PRINTK, license, check: false }).close();
    return "";
  } catch (e) {
    if (e instanceof VerifierError) return e.log;
    throw e;
  }
}

test(
  "kernel: refuses the same non-GPL programs with the same message",
  { skip: kernelSkip },
  () => {
    for (const license of NEAR_MISSES) {
      const log = kernelLog(license);
      assert.ok(log.includes(GPL_MSG), `${JSON.stringify(license)}: ${log}`);
    }
    for (const license of GPL_COMPATIBLE_LICENSES) {
      // Accepted as GPL: the verifier goes on to complain about the zero arguments instead.
      const log = kernelLog(license);
      assert.ok(!log.includes(GPL_MSG), `${license}: ${log}`);
      assert.match(log, /R1 type=(scalar|inv) expected=/, license); // "inv" before 5.18
    }
  },
);

test(
  "Program.load refuses it before the system call with PreloadCheckError",
  { skip: kernelSkip },
  () => {
    assert.throws(
      () => Program.load({ type: "socket_filter", insns: PRINTK, license: "Proprietary" }),
      (e: unknown) => {
        assert.equal((e as Error).name, "PreloadCheckError");
        const findings = (e as PreloadCheckError).findings;
        assert.equal(findings[0].message, GPL_MSG);
        assert.equal(findings[0].index, 2);
        return true;
      },
    );
  },
);
