/**
 * Long fuzz runs, for manual use:
 *
 *   deno task fuzz [target|all] [seed] [count]
 *
 * Targets: elf, btf, btf_ext, asm, disasm, codec, checker (tests/fuzz_targets.ts). The seed
 * defaults to a random one (printed); the count to 1,000,000 inputs per target. Failing inputs are
 * printed in base64 and hex; put minimised ones in tests/fixtures/fuzz/ to replay them in the
 * suite. Exit status 1 when any target failed.
 *
 *   deno task fuzz --minimize <file> [target]
 *
 * Shrinks a failing input (raw bytes, or a file holding the printed base64) while the same
 * untyped error, thrown from the same place, persists, and writes it to `<file>.min`. The target
 * defaults to the file name's prefix (`elf-seed11-38500.bin` → elf). Exit status 1 when the input
 * does not fail.
 */
import { describeResult, fromBase64, runFuzz } from "../tests/fuzz_harness.ts";
import { TARGETS } from "../tests/fuzz_targets.ts";
import { minimize } from "../tests/fuzz_minimize.ts";

if (Deno.args[0] === "--minimize") {
  const [, file, targetArg] = Deno.args;
  if (file === undefined) {
    console.error("usage: deno task fuzz --minimize <file> [target]");
    Deno.exit(2);
  }
  const base = file.slice(file.lastIndexOf("/") + 1);
  const name = targetArg ?? base.split("-")[0];
  const target = TARGETS[name];
  if (target === undefined) {
    console.error(`unknown target ${name}; targets: ${Object.keys(TARGETS).join(", ")}`);
    Deno.exit(2);
  }
  let input: Uint8Array = Deno.readFileSync(file);
  const text = new TextDecoder().decode(input).trim();
  if (/^[A-Za-z0-9+/]+={0,2}$/.test(text) && text.length % 4 === 0 && text.length >= 8) {
    input = fromBase64(text);
  }
  try {
    const r = minimize(target, input);
    Deno.writeFileSync(file + ".min", r.input);
    console.log(
      `${name}: ${input.length} → ${r.input.length} bytes in ${r.runs} runs, still ${r.signature.name} at ${r.signature.where}; written to ${file}.min`,
    );
    Deno.exit(0);
  } catch (e) {
    console.error((e as Error).message);
    Deno.exit(1);
  }
}

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
