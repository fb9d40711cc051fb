/**
 * Live kernel profile: time to answer cold (nothing cached: every answer probed), from the disk
 * cache (a new process reading the per-boot file) and from memory. The C baseline
 * (`bench/c/probe_bench.c`, built here with gcc and libbpf-dev, run first in the same invocation)
 * asks libbpf's `libbpf_probe_bpf_prog_type`/`_map_type`/`_helper` the same questions: every
 * program and map type, and every helper id for one program type (xdp). libbpf keeps no cache, so
 * it has no cached column. The budget is the one of the issue: a cached answer under 1 ms, the
 * whole profile (program and map types, the helper ids) under 200 ms cold, helper sets per program
 * type on first use.
 *
 * Run as root: `deno run -A bench/profile_bench.ts` or `bun bench/profile_bench.ts`.
 *
 * @module
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { HELPER_COUNT } from "../types/helpers.ts";
import { LiveProfile, ProfileCache } from "../lib/profile/mod.ts";
import { MAP_TYPE_COUNT } from "../types/map_type.ts";
import { PROG_TYPE_COUNT } from "../types/prog_type.ts";
import { runtime } from "./_c.ts";

function ms(t0: number): string {
  return `${(performance.now() - t0).toFixed(2)} ms`;
}

/** Program and map types, and which helper ids exist: the profile without per-type helper sets. */
function whole(p: LiveProfile): void {
  for (let t = 1; t <= PROG_TYPE_COUNT; t++) p.progType(t);
  for (let t = 1; t <= MAP_TYPE_COUNT; t++) p.mapType(t);
  p.helperKnown(1);
}

/** Builds and runs the libbpf baseline, printing its lines prefixed with `# C:`. */
function runC(): void {
  const src = join(dirname(fileURLToPath(import.meta.url)), "c", "probe_bench.c");
  const bin = join(process.env.BENCH_C_BUILD ?? "/tmp/bench-c", "probe_bench");
  spawnSync("mkdir", ["-p", dirname(bin)]);
  const cc = spawnSync("gcc", ["-O2", "-Wall", "-o", bin, src, "-lbpf"], { encoding: "utf8" });
  if (cc.status !== 0) {
    console.log(`# C baseline could not be built (gcc + libbpf-dev): ${cc.stderr || cc.error}`);
    return;
  }
  const r = spawnSync(bin, [PROG_TYPE_COUNT, MAP_TYPE_COUNT, HELPER_COUNT].map(String), {
    encoding: "utf8",
  });
  if (r.status !== 0) {
    console.log(`# C baseline failed: ${r.stderr}`);
    return;
  }
  console.log(r.stdout.trim().split("\n").map((l) => `# C: ${l}`).join("\n"));
}

runC();
const dir = mkdtempSync(join(tmpdir(), "tsbpf-profile-bench-"));
try {
  const file = join(dir, "profile.json");
  let t0 = performance.now();
  const cold = new LiveProfile(new ProfileCache(file));
  whole(cold);
  await Promise.resolve(); // the disk write happens at the end of the turn
  console.log(`${runtime}: whole profile, cold (probed, written to disk): ${ms(t0)}`);

  t0 = performance.now();
  cold.helper({ type: 6 }, 44, "admin");
  console.log(`${runtime}: one helper set (xdp, admin), cold: ${ms(t0)}`);
  t0 = performance.now();
  cold.helper({ type: 1 }, 153, "bpf");
  console.log(`${runtime}: one helper set (socket_filter, CAP_BPF via capset), cold: ${ms(t0)}`);
  await Promise.resolve();

  t0 = performance.now();
  const warm = new LiveProfile(new ProfileCache(file));
  whole(warm);
  warm.helper({ type: 6 }, 44, "admin");
  console.log(
    `${runtime}: whole profile + a helper set from the disk cache (new instance): ${ms(t0)}`,
  );

  const N = 1_000_000;
  t0 = performance.now();
  for (let i = 0; i < N; i++) warm.helper({ type: 6 }, 44, "admin");
  const per = (performance.now() - t0) * 1e6 / N;
  console.log(`${runtime}: one cached answer from memory: ${per.toFixed(0)} ns`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
