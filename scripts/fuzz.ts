/**
 * Long fuzz runs, for manual use:
 *
 *   deno task fuzz [target|all] [seed] [count]
 *
 * Targets: elf, btf, btf_ext, asm, disasm, codec, checker (tests/fuzz_targets.ts). The seed
 * defaults to a random one (printed); the count to 1,000,000 inputs per target. Failing inputs are
 * printed in base64 and hex; put minimised ones in tests/fixtures/fuzz/ to replay them in the
 * suite. Exit status 1 when any target failed.
 */
import { describeResult, runFuzz } from "../tests/fuzz_harness.ts";
import { TARGETS } from "../tests/fuzz_targets.ts";

const [which = "all", seedArg, countArg] = Deno.args;
const names = which === "all" ? Object.keys(TARGETS) : which.split(",");
for (const n of names) {
  if (TARGETS[n] === undefined) {
    console.error(`unknown target ${n}; targets: ${Object.keys(TARGETS).join(", ")}`);
    Deno.exit(2);
  }
}
const seed = seedArg !== undefined ? Number(seedArg) >>> 0 : (Math.random() * 2 ** 32) >>> 0;
const count = countArg !== undefined ? Number(countArg) : 1_000_000;
let failed = false;
for (const n of names) {
  const r = await runFuzz(n, { seed, count, maxFailures: 20 });
  console.log(describeResult(r));
  if (r.failures.length > 0) failed = true;
}
Deno.exit(failed ? 1 : 0);
