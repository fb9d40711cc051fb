/**
 * Cold start: what a fresh process pays for its first load, beside libbpf's one-shot process
 * (`../shared/bench/elf_load_bench 0 OBJ` timed whole by `exec_timer`, and libbpf's in-process
 * cold open+load+close in a fresh forked child), all in the same invocation.
 *
 * Each TypeScript sample is a fresh runtime process running `bench/_oneshot.ts`, which times from
 * its first statement (runtime boot excluded) through `import("../mod.ts")`, reading, parsing,
 * loading and closing the object. Rows:
 * - `import mod.ts`: the import alone;
 * - `first load <obj>`: import + parse + load + close (tp_execve has CO-RE relocations, so this
 *   includes reading the kernel BTF);
 * - `wall`: fork to exit as the parent sees it, runtime boot included.
 *
 * Times are given twice. Wall time (`in-proc`, `wall`) is what a user waits on a quiet machine;
 * CPU time (`cpu`: the main thread's, from the first statement on; `proc cpu`: every thread of
 * the process, boot included, from `getrusage`) is what the work costs, and stays comparable on a
 * loaded machine, where wall time mostly measures the other processes. The C one-shot process gets
 * both too (`C cpu`: its CPU time, user + system, the mean of BENCH_RUNS runs).
 *
 *   deno run -A bench/start_bench.ts        bun bench/start_bench.ts
 *
 * BENCH_RUNS (default 11) sets the processes per row.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { buildC, median, nowNs, runC, runtime, sharedBench } from "./_c.ts";

const RUNS = Number(process.env.BENCH_RUNS ?? 11);
const ONESHOT = fileURLToPath(new URL("./_oneshot.ts", import.meta.url));
const OBJECTS = ["sockfilter_count.bpf.o", "tp_execve.bpf.o"];

function spawnOnce(args: string[]): { inProc: Record<string, number>; wallMs: number } {
  const cmd = runtime === "deno"
    ? [process.execPath, "run", "-A", ONESHOT, ...args]
    : [process.execPath, ONESHOT, ...args];
  const t0 = nowNs();
  const r = spawnSync(cmd[0], cmd.slice(1), { encoding: "utf8" });
  const wallMs = (nowNs() - t0) / 1e6;
  if (r.status !== 0) throw new Error(`${cmd.join(" ")} failed: ${r.stderr}`);
  const line = r.stdout.trim().split("\n").pop()!;
  return { inProc: JSON.parse(line), wallMs };
}

interface Row {
  name: string;
  ms: number;
  wallMs: number;
  parts: Record<string, number>;
}

function measure(name: string, args: string[]): Row {
  spawnOnce(args); // warm the runtime's caches (Deno's transpile cache, page cache)
  const samples = Array.from({ length: RUNS }, () => spawnOnce(args));
  const keys = Object.keys(samples[0].inProc);
  const parts: Record<string, number> = {};
  for (const k of keys) parts[k] = median(samples.map((s) => s.inProc[k]));
  return { name, ms: parts.totalMs, wallMs: median(samples.map((s) => s.wallMs)), parts };
}

/**
 * mod.ts bundled into one JavaScript file by the runtime's own bundler (`deno bundle`,
 * `bun build`): what the import would cost if the package shipped one module instead of ~170.
 */
function bundle(): string | undefined {
  const dir = mkdtempSync(join(tmpdir(), "tsbpf-start-"));
  const out = join(dir, "mod.js");
  const root = fileURLToPath(new URL("../mod.ts", import.meta.url));
  const r = runtime === "deno"
    ? spawnSync(process.execPath, ["bundle", "--quiet", root, "-o", out], { encoding: "utf8" })
    : spawnSync(process.execPath, ["build", root, "--target=bun", "--outfile", out], {
      encoding: "utf8",
    });
  if (r.status !== 0) {
    console.log(`# could not bundle mod.ts: ${r.stderr}`);
    return undefined;
  }
  return out;
}
const bundled = bundle();

const rows: Row[] = [
  measure("empty script", ["empty"]),
  measure("import mod.ts", ["import"]),
  ...(bundled === undefined
    ? []
    : [measure("import mod.ts bundled (1 file)", ["import", bundled])]),
  ...OBJECTS.map((o) => measure(`first load ${o}`, ["load", join(sharedBench, "bpf", o)])),
];

if (bundled !== undefined) rmSync(dirname(bundled), { recursive: true, force: true });

/**
 * CPU time (user + system) of one run of `cmd`, ms: the mean over `runs` runs inside one bash,
 * whose `times` reports its children's CPU (getrusage) to the millisecond.
 */
function processCpuMs(cmd: string[], runs: number): number {
  const r = spawnSync("bash", [
    "-c",
    `for ((i = 0; i < ${runs}; i++)); do "$@" > /dev/null || exit 1; done; times`,
    "bash",
    ...cmd,
  ], { encoding: "utf8" });
  // `times` prints the shell's user/system time, then its children's: "0m0.123s 0m0.045s".
  const m = /(\d+)m([\d.]+)s\s+(\d+)m([\d.]+)s\s*$/.exec(r.stdout.trim());
  if (r.status !== 0 || m === null) return NaN;
  return ((+m[1] + +m[3]) * 60 + +m[2] + +m[4]) * 1000 / runs;
}

/** C: whole one-shot process (exec_timer wall; CPU per process) and in-process cold total, ms. */
const c = new Map<string, { wall: number; cold: number; cpu: number }>();
if (buildC()) {
  for (const o of OBJECTS) {
    const path = join(sharedBench, "bpf", o);
    const elfLoad = join(process.env.BENCH_C_BUILD ?? "/tmp/bench-c", "elf_load_bench");
    const cpu = processCpuMs([elfLoad, "0", path], RUNS);
    const w = /median\s+([\d.]+)/.exec(
      runC("exec_timer", [
        String(RUNS),
        "2",
        "-",
        "--",
        join(process.env.BENCH_C_BUILD ?? "/tmp/bench-c", "elf_load_bench"),
        "0",
        path,
      ]),
    );
    const cold = new RegExp(`cold ${o.replace(/\./g, "\\.")} total.*median\\s+([\\d.]+)`).exec(
      runC("elf_load_bench", [String(RUNS), path]),
    );
    c.set(o, { wall: w ? +w[1] / 1000 : NaN, cold: cold ? +cold[1] / 1000 : NaN, cpu });
  }
}

console.log(`# start_bench (${runtime}): fresh processes, median of ${RUNS}; ms`);
console.log(
  `${"row".padEnd(34)} ${"in-proc".padStart(8)} ${"cpu".padStart(7)} ${"wall".padStart(7)} ${
    "proc cpu".padStart(8)
  }  ${"C 1-shot".padStart(8)} ${"C cpu".padStart(6)} ${"C cold".padStart(7)}  ${
    "in-proc/C".padStart(9)
  } ${"cpu/C cpu".padStart(9)}  parts (wall / main-thread cpu)`,
);
const f = (x: number | undefined, d = 2) => x === undefined || Number.isNaN(x) ? "-" : x.toFixed(d);
for (const r of rows) {
  const o = OBJECTS.find((x) => r.name.endsWith(x));
  const cf = o === undefined ? undefined : c.get(o);
  const parts = Object.entries(r.parts).filter(([k]) =>
    k.endsWith("Ms") && !k.endsWith("CpuMs") && k !== "totalMs"
  ).map(([k, v]) => {
    const name = k.replace(/Ms$/, "");
    return `${name} ${v.toFixed(2)}/${(r.parts[`${name}CpuMs`] ?? NaN).toFixed(2)}`;
  }).join(", ");
  console.log(
    `${r.name.padEnd(34)} ${f(r.ms).padStart(8)} ${f(r.parts.totalCpuMs).padStart(7)} ${
      f(r.wallMs, 1).padStart(7)
    } ${f(r.parts.processCpuMs, 1).padStart(8)}  ${f(cf?.wall).padStart(8)} ${
      f(cf?.cpu, 1).padStart(6)
    } ${f(cf?.cold).padStart(7)}  ${
      (cf === undefined ? "-" : `${(r.ms / cf.wall).toFixed(2)}×`).padStart(9)
    } ${
      (cf === undefined ? "-" : `${(r.parts.totalCpuMs / cf.cpu).toFixed(2)}×`).padStart(9)
    }  ${parts}`,
  );
}
