/**
 * Replays the inputs in tests/fixtures/fuzz/: each once made a fuzz target hang, crash or let a
 * raw error out. Files are named `<target>-<origin>.bin` (the target of tests/fuzz_targets.ts).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { isLibraryError, TARGETS } from "./fuzz_targets.ts";
import { repoRoot } from "./util.ts";

const dir = join(repoRoot, "tests/fixtures/fuzz");

for (const file of readdirSync(dir).filter((f) => f.endsWith(".bin")).sort()) {
  test(`fuzz corpus ${file}: ends in a result or a library error`, () => {
    const target = TARGETS[file.split("-")[0]];
    assert.ok(target !== undefined, `${file}: no fuzz target ${file.split("-")[0]}`);
    try {
      target.run(new Uint8Array(readFileSync(join(dir, file))));
    } catch (e) {
      assert.ok(isLibraryError(e), `${file}: ${(e as Error)?.stack ?? e}`);
    }
  });
}
