/**
 * The deep checker on the selftest-like corpus: hand-written programs in the style of the kernel's
 * verifier selftests (map value NULL checks, packet bounds, stack, pointer arithmetic, helper
 * arguments, references, loops, callbacks, spin locks, kfuncs, dynptrs, 32-bit bounds, context
 * access, subprograms), against the kernel's recorded verdicts and against the running kernel.
 * A program the kernel accepts and the checker refuses is a failure; the catch rate is reported.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { checkProgram } from "../lib/check/check.ts";
import type { Insn } from "../lib/insn/insn.ts";
import {
  assembleCase,
  createMaps,
  describedMaps,
  FAKE_FDS,
  loadCases,
  loadInKernel,
  loadVerdicts,
  type SelftestCase,
} from "./verifier_selftest_like.ts";
import { kernelSkip } from "./util.ts";

interface Tally {
  programs: number;
  rejected: number;
  caught: number;
  sameWords: number;
  falseRejections: string[];
  missed: string[];
}

function deepError(c: SelftestCase, insns: Insn[], fds: Record<string, number>) {
  return checkProgram({
    type: c.type,
    insns,
    license: "GPL",
    depth: "deep",
    maps: describedMaps(fds),
  }).find((f) => f.severity === "error");
}

function report(label: string, t: Tally): void {
  console.log(
    `${label}: ${t.programs} programs, kernel rejected ${t.rejected}, checker caught ${t.caught} (${
      (100 * t.caught / Math.max(1, t.rejected)).toFixed(1)
    }%; kernel's words ${t.sameWords}), false rejections ${t.falseRejections.length}`,
  );
}

test("deep checker: selftest-like corpus, recorded kernel verdicts (no kernel needed)", () => {
  const cases = loadCases();
  const { kfuncs, verdicts } = loadVerdicts();
  assert.ok(cases.length >= 150);
  const t: Tally = {
    programs: 0,
    rejected: 0,
    caught: 0,
    sameWords: 0,
    falseRejections: [],
    missed: [],
  };
  for (const c of cases) {
    assert.ok(c.name in verdicts, `no recorded verdict for "${c.name}"`);
    const kernel = verdicts[c.name];
    const err = deepError(c, assembleCase(c, FAKE_FDS, kfuncs), FAKE_FDS);
    t.programs++;
    if (kernel === null) {
      if (err) t.falseRejections.push(`${c.name}: ${err.index}: ${err.message}`);
      continue;
    }
    t.rejected++;
    if (err) {
      t.caught++;
      if (kernel.includes(err.message)) t.sameWords++;
    } else t.missed.push(`${c.name}: ${kernel}`);
  }
  report("selftest-like (recorded)", t);
  if (t.missed.length > 0) console.log(`  missed:\n    ${t.missed.join("\n    ")}`);
  assert.deepEqual(t.falseRejections, []);
  assert.ok(t.caught > 0);
});

test("deep checker: selftest-like corpus against the running kernel", { skip: kernelSkip }, () => {
  const cases = loadCases();
  const { kfuncs: recorded } = loadVerdicts();
  const maps = createMaps();
  try {
    const fds = Object.fromEntries(Object.entries(maps).map(([n, m]) => [n, m.fd]));
    const t: Tally = {
      programs: 0,
      rejected: 0,
      caught: 0,
      sameWords: 0,
      falseRejections: [],
      missed: [],
    };
    for (const c of cases) {
      // The recorded kfunc ids are this build's; elsewhere a kfunc case is refused or not, which
      // the checker (which leaves kfuncs to the kernel) must not contradict either way.
      const insns = assembleCase(c, fds, recorded);
      let log: string | undefined;
      try {
        loadInKernel(c, insns).close();
      } catch (e) {
        log = (e as { log?: string }).log ?? String(e);
      }
      const err = deepError(c, insns, fds);
      t.programs++;
      if (log === undefined) {
        if (err) t.falseRejections.push(`${c.name}: ${err.index}: ${err.message}`);
      } else {
        t.rejected++;
        if (err) {
          t.caught++;
          if (log.includes(err.message)) t.sameWords++;
        }
      }
    }
    report("selftest-like (kernel)", t);
    assert.deepEqual(t.falseRejections, []);
  } finally {
    for (const m of Object.values(maps)) m.close();
  }
});
