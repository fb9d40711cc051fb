/** Every example runs to completion on the runtime running the tests, and says what it shows. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import process from "node:process";
import { kernelSkip, repoRoot } from "./util.ts";

/** Each example and a line its output must contain. */
const EXAMPLES: [string, RegExp][] = [
  ["demo.ts", /closed 6 programs; ids still loaded: 0/],
  ["maps.ts", /Typed hash map/],
  ["attach.ts", /needs a program of type raw_tracepoint/],
  ["elf.ts", /CO-RE/],
  ["ringbuf.ts", /len 386, protocol 0x800/],
  ["plugin_progtype.ts", /the plugin refused it before load/],
];

function command(file: string): [string, string[]] {
  const g = globalThis as { Bun?: unknown; Deno?: { execPath(): string } };
  const path = `${repoRoot}/examples/${file}`;
  if (g.Bun !== undefined) {
    return [(globalThis as unknown as { process: { execPath: string } }).process.execPath, [path]];
  }
  return [g.Deno!.execPath(), ["run", "--allow-all", "--no-check", path]];
}

for (const [file, expected] of EXAMPLES) {
  test(`examples/${file} runs`, { skip: kernelSkip }, () => {
    const [cmd, args] = command(file);
    const r = spawnSync(cmd, args, {
      encoding: "utf8",
      timeout: 120_000,
      env: { ...process.env, NO_COLOR: "1" },
    });
    assert.equal(r.status, 0, `exit ${r.status}\n${r.stdout}\n${r.stderr}`);
    assert.match(r.stdout, expected);
  });
}
