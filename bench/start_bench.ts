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
 * - `process wall` columns: fork to exit as the parent sees it, runtime boot included.
 *
 *   deno run -A bench/start_bench.ts        bun bench/start_bench.ts
 *
 * BENCH_RUNS (default 11) sets the processes per row.
 */
import { spawnSync } from "node:child_process";
import { join } from "node:path";
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

const rows: Row[] = [
  measure("empty script", ["empty"]),
  measure("import mod.ts", ["import"]),
  ...OBJECTS.map((o) => measure(`first load ${o}`, ["load", join(sharedBench, "bpf", o)])),
];

/** C: whole one-shot process (exec_timer) and in-process cold total, ms. */
const c = new Map<string, { wall: number; cold: number }>();
if (buildC()) {
  for (const o of OBJECTS) {
    const path = join(sharedBench, "bpf", o);
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
    c.set(o, { wall: w ? +w[1] / 1000 : NaN, cold: cold ? +cold[1] / 1000 : NaN });
  }
}

console.log(`# start_bench (${runtime}): fresh processes, median of ${RUNS}; ms`);
console.log(
  `${"row".padEnd(34)} ${"in-proc".padStart(8)} ${"wall".padStart(8)}  ${"C 1-shot".padStart(8)} ${
    "C cold".padStart(7)
  }  ratio(in-proc/C 1-shot)  parts`,
);
for (const r of rows) {
  const o = OBJECTS.find((x) => r.name.endsWith(x));
  const cf = o === undefined ? undefined : c.get(o);
  const parts = Object.entries(r.parts).filter(([k]) => k !== "totalMs").map(([k, v]) =>
    `${k.replace(/Ms$/, "")} ${v.toFixed(2)}`
  ).join(", ");
  console.log(
    `${r.name.padEnd(34)} ${r.ms.toFixed(2).padStart(8)} ${r.wallMs.toFixed(1).padStart(8)}  ${
      (cf?.wall.toFixed(2) ?? "-").padStart(8)
    } ${(cf?.cold.toFixed(2) ?? "-").padStart(7)}  ${
      cf === undefined ? "-" : `${(r.ms / cf.wall).toFixed(2)}×`
    }  ${parts}`,
  );
}
