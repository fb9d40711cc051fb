/**
 * Records the running kernel's verdicts on the selftest-like corpus
 * (tests/fixtures/verifier/selftest_like.txt) into selftest_like.verdicts.json: `null` for an
 * accepted program, else the last three lines of the verifier log. Run as root:
 * `deno run -A scripts/verifier_selftest_like.ts`.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseBtf } from "../lib/btf/mod.ts";
import {
  assembleCase,
  createMaps,
  kfuncNames,
  loadCases,
  loadInKernel,
  type Verdicts,
} from "../tests/verifier_selftest_like.ts";
import { repoRoot } from "../tests/util.ts";

const cases = loadCases();
const btf = parseBtf(readFileSync("/sys/kernel/btf/vmlinux"));
const kfuncs: Record<string, number> = {};
for (const n of kfuncNames(cases)) {
  const t = btf.lookup(n, "func")[0];
  if (t === undefined) throw new Error(`no kfunc ${n} in this kernel's BTF`);
  kfuncs[n] = t.id;
}
const maps = createMaps();
const fds = Object.fromEntries(Object.entries(maps).map(([n, m]) => [n, m.fd]));
const verdicts: Verdicts = {};
let rejected = 0;
try {
  for (const c of cases) {
    if (c.name in verdicts) throw new Error(`duplicate case name: ${c.name}`);
    const insns = assembleCase(c, fds, kfuncs);
    try {
      loadInKernel(c, insns).close();
      verdicts[c.name] = null;
    } catch (e) {
      const log = ((e as { log?: string }).log ?? "").trim().split("\n")
        .filter((l) =>
          l !== "" && !l.startsWith("processed ") && !l.startsWith("verification time")
        );
      verdicts[c.name] = log.length > 0
        ? log.slice(-3).join("\n")
        : `(no log) ${(e as Error).message.split("\n")[0]}`;
      rejected++;
    }
  }
} finally {
  for (const m of Object.values(maps)) m.close();
}
const kernel = readFileSync("/proc/sys/kernel/osrelease", "utf8").trim();
writeFileSync(
  join(repoRoot, "tests/fixtures/verifier/selftest_like.verdicts.json"),
  JSON.stringify({ kernel, kfuncs, verdicts }, null, 1) + "\n",
);
console.log(`${cases.length} programs, ${rejected} rejected by ${kernel}`);
