/**
 * Shared bench helpers: build and run the C baselines of `../shared/bench` in the same
 * invocation, and time TypeScript loops.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/**
 * `shared/bench` beside the repository: `BENCH_SHARED`, else `../shared/bench` from the
 * checkout, else one level further up (a worktree under `wt/`).
 */
export const sharedBench: string = (() => {
  const here = dirname(fileURLToPath(import.meta.url));
  const candidates = [
    process.env.BENCH_SHARED,
    join(here, "..", "..", "shared", "bench"),
    join(here, "..", "..", "..", "shared", "bench"),
  ].filter((p): p is string => p !== undefined);
  return candidates.find((p) => existsSync(join(p, "Makefile"))) ?? candidates[0];
})();
/** Where the C baselines are built (the shared folder is read-only). */
export const cBuild: string = process.env.BENCH_C_BUILD ?? "/tmp/bench-c";

/** The runtime running this bench. */
export const runtime: string = (globalThis as { Bun?: unknown }).Bun !== undefined ? "bun" : "deno";

/** Builds the C baselines if needed; returns false (with a message) when it cannot. */
export function buildC(): boolean {
  if (!existsSync(sharedBench)) {
    console.log(`# C baseline unavailable: ${sharedBench} is absent`);
    return false;
  }
  const r = spawnSync("make", ["-s", "-C", sharedBench, `BUILD=${cBuild}`, "all"], {
    encoding: "utf8",
  });
  if (r.status !== 0) {
    console.log(`# C baseline could not be built: ${r.stderr || r.stdout}`);
    return false;
  }
  return true;
}

/** Runs a C baseline binary and returns its stdout. */
export function runC(binary: string, args: string[] = []): string {
  return execFileSync(join(cBuild, binary), args, { encoding: "utf8", maxBuffer: 64 << 20 });
}

/** Median of numbers. */
export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Nanoseconds now (monotonic). */
export function nowNs(): number {
  return performance.now() * 1e6;
}
