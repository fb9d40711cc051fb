// The committed types/ against the running kernel's BTF. On a kernel of the same version as the one
// types/ was generated from, regenerating must give the committed files exactly. On any other
// kernel, the enums differ by what one kernel has and the other lacks (reported, not failed), but a
// name both have must have the same value: the uapi never renumbers.
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { parseBtf } from "../lib/btf/mod.ts";
import { GENERATED_FILES, generateTypes, RELEASE_LINE_PREFIX } from "../scripts/gen_types.ts";

const VMLINUX = "/sys/kernel/btf/vmlinux";
const vmlinuxSkip: string | false = existsSync(VMLINUX) ? false : `${VMLINUX} not present`;
const root = new URL("../", import.meta.url);

/** The kernel release differs between machines with the same ABI: compare without it. */
function withoutRelease(text: string): string {
  return text.split("\n").map((l) => (l.startsWith(RELEASE_LINE_PREFIX) ? RELEASE_LINE_PREFIX : l))
    .join("\n");
}

/** `major.minor` of the release a generated file names, or of the running kernel. */
function versionOf(text: string): string | undefined {
  return /(\d+\.\d+)/.exec(text)?.[1];
}

/** `Const.NAME` -> value of every `export const Const = { NAME: value, ... }` of a generated file. */
function enumEntries(text: string): Map<string, string> {
  const out = new Map<string, string>();
  let block: string | undefined;
  for (const line of text.split("\n")) {
    const open = /^export const (\w+) = \{$/.exec(line);
    if (open) block = open[1];
    else if (/^\}/.test(line)) block = undefined;
    else if (block !== undefined) {
      const m = /^ {2}(\w+): (-?\w+),$/.exec(line);
      if (m && !m[1].startsWith("UNUSED_")) out.set(`${block}.${m[1]}`, m[2]);
    }
  }
  return out;
}

/** Differences between two generated files: conflicting values, and names only one side has. */
function enumDiff(committed: string, kernel: string): {
  conflicts: string[];
  onlyCommitted: string[];
  onlyKernel: string[];
} {
  const a = enumEntries(committed), b = enumEntries(kernel);
  const conflicts: string[] = [], onlyCommitted: string[] = [], onlyKernel: string[] = [];
  for (const [k, v] of a) {
    const w = b.get(k);
    if (w === undefined) onlyCommitted.push(k);
    else if (w !== v) conflicts.push(`${k}: ${v} in types/, ${w} in this kernel`);
  }
  for (const k of b.keys()) if (!a.has(k)) onlyKernel.push(k);
  return { conflicts, onlyCommitted, onlyKernel };
}

test("enumDiff: renumbered names conflict, added and missing names are differences", () => {
  const committed = "export const E = {\n  A: 0,\n  B: 1,\n  C: 2,\n} as const;\n";
  const kernel = "export const E = {\n  A: 0,\n  B: 3,\n  UNUSED_1: 1,\n  D: 4,\n} as const;\n";
  assert.deepEqual(enumDiff(committed, kernel), {
    conflicts: ["E.B: 1 in types/, 3 in this kernel"],
    onlyCommitted: ["E.C"],
    onlyKernel: ["E.D"],
  });
});

test("committed types/ match the running kernel's BTF", { skip: vmlinuxSkip }, () => {
  const files = generateTypes(parseBtf(readFileSync(VMLINUX)), "(release)");
  assert.deepEqual([...files.keys()].sort(), [...GENERATED_FILES].sort());
  const running = versionOf(readFileSync("/proc/sys/kernel/osrelease", "utf8"));
  const report: string[] = [];
  for (const [path, text] of files) {
    const committed = readFileSync(new URL(path, root), "utf8");
    const from = versionOf(committed.split("\n")[0]);
    if (from !== undefined && from === running) {
      assert.equal(
        withoutRelease(committed),
        withoutRelease(text),
        `${path} differs from the running kernel's BTF: run deno run --allow-all scripts/gen_types.ts`,
      );
      continue;
    }
    const d = enumDiff(committed, text);
    assert.deepEqual(d.conflicts, [], `${path}: values that differ from this kernel's`);
    if (d.onlyCommitted.length > 0) {
      report.push(`${path}: Linux ${running} lacks ${d.onlyCommitted.join(", ")}`);
    }
    if (d.onlyKernel.length > 0) {
      report.push(`${path}: Linux ${running} adds ${d.onlyKernel.join(", ")}`);
    }
  }
  if (report.length > 0) {
    const from = versionOf(readFileSync(new URL("types/cmd.ts", root), "utf8").split("\n")[0]);
    console.log(`types/ (generated from Linux ${from ?? "?"}) against this kernel:`);
    console.log(report.join("\n"));
  }
});
