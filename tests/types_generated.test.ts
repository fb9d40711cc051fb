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

test("committed types/ match the running kernel's BTF", { skip: vmlinuxSkip }, () => {
  const files = generateTypes(parseBtf(readFileSync(VMLINUX)), "(release)");
  assert.deepEqual([...files.keys()].sort(), [...GENERATED_FILES].sort());
  for (const [path, text] of files) {
    const committed = readFileSync(new URL(path, root), "utf8");
    assert.equal(
      withoutRelease(committed),
      withoutRelease(text),
      `${path} differs from the running kernel's BTF: run deno run --allow-all scripts/gen_types.ts`,
    );
  }
});
