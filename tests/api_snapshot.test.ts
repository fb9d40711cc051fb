/**
 * The public API is checked in (`tests/fixtures/api/*.txt`, one file per entry point of
 * `deno.json`): a change of exports fails here until the snapshot is regenerated with
 * `deno task api:update` and committed with the change.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { repoRoot } from "./util.ts";

const isDeno = (globalThis as { Deno?: unknown }).Deno !== undefined;
const denoSkip: string | false = isDeno
  ? false
  : "`deno doc` runs only under Deno; the Deno run of this suite checks the snapshot";

test("api: the public exports match tests/fixtures/api (deno task api:update)", {
  skip: denoSkip,
}, async () => {
  const { apiSnapshot, entryPoints, snapshotDir, snapshotName, snapshotText } = await import(
    "../scripts/api_snapshot.ts"
  );
  const snap = await apiSnapshot(
    (globalThis as unknown as { Deno: typeof Deno }).Deno.execPath(),
  );
  const keys = Object.keys(entryPoints());
  const files = existsSync(snapshotDir) ? readdirSync(snapshotDir).sort() : [];
  assert.deepEqual(
    files,
    keys.map(snapshotName).sort(),
    "one snapshot file per entry point: run `deno task api:update`",
  );
  for (const key of keys) {
    const file = snapshotName(key);
    const want = readFileSync(join(snapshotDir, file), "utf8");
    assert.equal(
      snapshotText(key, snap.get(file)!),
      want,
      `the exports of "${key}" changed: run \`deno task api:update\` and commit ` +
        `tests/fixtures/api/${file} with the change`,
    );
  }
});

/** The most runtime values the root export may hold (issue 11: about 150). */
const ROOT_RUNTIME_LIMIT = 150;

test(`api: the root export holds at most ${ROOT_RUNTIME_LIMIT} runtime values`, () => {
  const first = readFileSync(join(repoRoot, "tests", "fixtures", "api", "root.txt"), "utf8")
    .split("\n")[0];
  const m = /(\d+) runtime values/.exec(first);
  assert.ok(m, `root.txt starts with its counts: ${first}`);
  assert.ok(Number(m[1]) <= ROOT_RUNTIME_LIMIT, `the root exports ${m[1]} runtime values`);
});
