import { test } from "node:test";
import assert from "node:assert/strict";
import { describeResult, fuzzCount, fuzzSeed, runFuzz } from "./fuzz_harness.ts";

test(
  "fuzz api: seeded mutations end in a library error or a result, never a hang, crash or raw error",
  {
    timeout: 600_000,
  },
  async () => {
    const r = await runFuzz("api", { seed: fuzzSeed(), count: fuzzCount() });
    console.log(describeResult(r));
    assert.equal(r.failures.length, 0, describeResult(r));
    assert.equal(r.count, fuzzCount(), "every input ran");
  },
);
