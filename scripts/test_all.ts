/**
 * Runs the whole test suite under Deno and under Bun, then prints one line
 * `N passed, N failed, N skipped` summing both. Exit status 1 on any failure.
 *
 *   deno run -A scripts/test_all.ts [test files…]
 */
import { existsSync } from "node:fs";

const files = Deno.args.length > 0 ? Deno.args : ["tests/"];

function bunPath(): string {
  for (
    const p of ["node_modules/bun/bin/bun.exe", "node_modules/@oven/bun-linux-x64/bin/bun"]
  ) {
    if (existsSync(p)) return p;
  }
  return "bun";
}

interface Counts {
  passed: number;
  failed: number;
  skipped: number;
}

async function run(
  label: string,
  cmd: string,
  args: string[],
): Promise<Counts & { text: string; code: number }> {
  console.log(`\n=== ${label}: ${cmd} ${args.join(" ")}`);
  const child = new Deno.Command(cmd, {
    args,
    stdout: "piped",
    stderr: "piped",
    // Deno treats any FORCE_COLOR as "force colour", even over NO_COLOR: set only NO_COLOR.
    env: { NO_COLOR: "1" },
  }).spawn();
  const decoder = new TextDecoder();
  let text = "";
  const pump = async (stream: ReadableStream<Uint8Array>, out: typeof Deno.stdout) => {
    for await (const chunk of stream) {
      text += decoder.decode(chunk, { stream: true });
      await out.write(chunk);
    }
  };
  const [status] = await Promise.all([
    child.status,
    pump(child.stdout, Deno.stdout),
    pump(child.stderr, Deno.stderr),
  ]);
  return { ...parse(label, text), text, code: status.code };
}

function parse(label: string, raw: string): Counts {
  // Colour codes, should any runner add them anyway, would hide the summary.
  // deno-lint-ignore no-control-regex
  const text = raw.replace(/\x1b\[[0-9;]*m/g, "");
  if (label === "deno") {
    // "ok | 5 passed (1 step) | 0 failed | 2 ignored (1 step) (68ms)"
    const summaries = [
      ...text.matchAll(
        /^(?:ok|FAILED) \| (\d+) passed(?: \([^)]*\))? \| (\d+) failed(?: \([^)]*\))?(?: \| (\d+) ignored)?/gm,
      ),
    ];
    const m = summaries.at(-1);
    if (!m) return { passed: 0, failed: 1, skipped: 0 };
    return { passed: +m[1], failed: +m[2], skipped: +(m[3] ?? 0) };
  }
  const num = (re: RegExp) => +(re.exec(text)?.[1] ?? 0);
  const ran = /Ran \d+ tests? across/.test(text);
  if (!ran) return { passed: 0, failed: 1, skipped: 0 };
  return {
    passed: num(/^\s*(\d+) pass$/m),
    failed: num(/^\s*(\d+) fail$/m),
    skipped: num(/^\s*(\d+) skip$/m) + num(/^\s*(\d+) todo$/m),
  };
}

const deno = await run("deno", Deno.execPath(), [
  "test",
  "--allow-all",
  "--no-check",
  "--v8-flags=--expose-gc",
  ...files,
]);
const bun = await run("bun", bunPath(), ["test", "--timeout", "600000", ...files]);

let failed = deno.failed + bun.failed;
// A runner that exits non-zero while reporting no failure still failed.
if (deno.code !== 0 && deno.failed === 0) failed++;
if (bun.code !== 0 && bun.failed === 0) failed++;
const passed = deno.passed + bun.passed;
const skipped = deno.skipped + bun.skipped;
console.log(
  `\ndeno: ${deno.passed} passed, ${deno.failed} failed, ${deno.skipped} skipped (exit ${deno.code})`,
);
console.log(
  `bun: ${bun.passed} passed, ${bun.failed} failed, ${bun.skipped} skipped (exit ${bun.code})`,
);
console.log(`${passed} passed, ${failed} failed, ${skipped} skipped`);
Deno.exit(failed > 0 ? 1 : 0);
