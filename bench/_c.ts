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

const cpuClock = (process.env.BENCH_CLOCK ?? "cpu") === "cpu";

/**
 * The clock the in-process comparisons use: the process's CPU time (user + system, every thread,
 * in ns) unless `BENCH_CLOCK=wall`. On a shared machine CPU time leaves out the time the process
 * waited for a CPU, which wall time counts at random against either side.
 */
export function clockNs(): number {
  if (!cpuClock) return performance.now() * 1e6;
  const u = process.cpuUsage();
  return (u.user + u.system) * 1000;
}

/** What {@link clockNs} measures, for the bench headers. */
export const clockName: string = cpuClock ? "process CPU time" : "wall time";

/**
 * The C baselines called in this process (`bench/c/inproc.c`, built into `cBuild` with gcc and
 * libbpf-dev): each figure is measured right beside the TypeScript one, on the same kernel
 * objects.
 */
export interface InProcC {
  /** ns per op of a raw bpf(2) loop over u32 keys 0..nkeys-1 ({@link CMapOp}). */
  map(op: number, fd: number, nkeys: number, passes: number): number;
  rbOpen(mapFd: number): number;
  /** ring_buffer__consume: ns per record, or -1 when the records were wrong. */
  rbConsume(seq: number, size: number, expect: number): number;
  rbClose(): void;
  pbOpen(mapFd: number, pages: number): number;
  /** perf_buffer__consume: ns per record, or -1 when the records were wrong. */
  pbConsume(seq: number, size: number, expect: number): number;
  pbClose(): void;
}

/** The loops of {@link InProcC.map}. */
export const CMapOp = {
  updateNew: 0,
  updateExisting: 1,
  lookupHit: 2,
  lookupMiss: 3,
  dump: 4,
  batchAll: 5,
  batch256: 6,
  delete: 7,
} as const;

/** Builds and loads `bench/c/inproc.c`; undefined (with a message) when it cannot. */
export function inProcC(): InProcC | undefined {
  const src = join(dirname(fileURLToPath(import.meta.url)), "c", "inproc.c");
  const lib = join(cBuild, "libtsbpf_inproc.so");
  spawnSync("mkdir", ["-p", cBuild]);
  const cc = spawnSync("gcc", ["-O2", "-Wall", "-shared", "-fPIC", "-o", lib, src, "-lbpf"], {
    encoding: "utf8",
  });
  if (cc.status !== 0) {
    console.log(`# in-process C baseline could not be built: ${cc.stderr || cc.error}`);
    return undefined;
  }
  const sig = {
    tsbpf_c_map: [["i32", "i32", "i32", "i32"], "f64"],
    tsbpf_c_rb_open: [["i32"], "i32"],
    tsbpf_c_rb_consume: [["f64", "i32", "i32"], "f64"],
    tsbpf_c_rb_close: [[], "void"],
    tsbpf_c_pb_open: [["i32", "i32"], "i32"],
    tsbpf_c_pb_consume: [["f64", "i32", "i32"], "f64"],
    tsbpf_c_pb_close: [[], "void"],
  } as const;
  // deno-lint-ignore no-explicit-any
  let f: Record<keyof typeof sig, (...a: any[]) => any>;
  const bun = (globalThis as { Bun?: unknown }).Bun !== undefined;
  if (bun) {
    const ffi = (import.meta as unknown as { require(id: string): unknown }).require(
      "bun:ffi",
    ) as {
      dlopen(
        path: string,
        s: Record<string, { args: readonly string[]; returns: string }>,
      ): { symbols: typeof f };
    };
    const defs: Record<string, { args: readonly string[]; returns: string }> = {};
    for (const [name, [args, returns]] of Object.entries(sig)) defs[name] = { args, returns };
    f = ffi.dlopen(lib, defs).symbols;
  } else {
    const defs: Record<string, { parameters: readonly string[]; result: string }> = {};
    for (const [name, [parameters, result]] of Object.entries(sig)) {
      defs[name] = { parameters, result };
    }
    const D = (globalThis as unknown as {
      Deno: { dlopen(p: string, d: unknown): { symbols: typeof f } };
    }).Deno;
    f = D.dlopen(lib, defs).symbols;
  }
  return {
    map: (op, fd, nkeys, passes) => f.tsbpf_c_map(op, fd, nkeys, passes),
    rbOpen: (fd) => f.tsbpf_c_rb_open(fd),
    rbConsume: (seq, size, expect) => f.tsbpf_c_rb_consume(seq, size, expect),
    rbClose: () => f.tsbpf_c_rb_close(),
    pbOpen: (fd, pages) => f.tsbpf_c_pb_open(fd, pages),
    pbConsume: (seq, size, expect) => f.tsbpf_c_pb_consume(seq, size, expect),
    pbClose: () => f.tsbpf_c_pb_close(),
  };
}
