/**
 * One cold step in a fresh process, for `start_bench.ts`: the time from this script's first
 * statement (the runtime has booted) to the end of the step, printed as one JSON line.
 *
 *   deno run -A bench/_oneshot.ts import            bun bench/_oneshot.ts import
 *   deno run -A bench/_oneshot.ts load OBJ.o        (import mod.ts, read, parse, load, close)
 *   deno run -A bench/_oneshot.ts empty             (nothing: the floor of the measurement)
 *   deno run -A bench/_oneshot.ts import FILE.js    (import a bundle of mod.ts instead)
 *
 * Each part is reported twice: `…Ms`, wall time, and `…CpuMs`, the main thread's CPU time
 * (`CLOCK_THREAD_CPUTIME_ID`), which a loaded machine inflates far less than the wall (the time
 * other processes run is not counted). `processCpuMs` is the whole process's CPU time at the end
 * (`getrusage`: every thread, the runtime's boot included), comparable with a C process's.
 */
const g = globalThis as {
  Deno?: {
    args: string[];
    readFileSync(p: string): Uint8Array;
    dlopen(
      path: string,
      symbols: Record<string, { parameters: string[]; result: string }>,
    ): { symbols: Record<string, (...a: unknown[]) => number> };
  };
  Bun?: { argv: string[] };
  process?: { getBuiltinModule(n: string): { readFileSync(p: string): Uint8Array } };
};

// The clocks, through the runtime's FFI, set up before the first timestamp.
const ts = new BigInt64Array(new ArrayBuffer(16));
const ru = new BigInt64Array(new ArrayBuffer(144));
let clockGettime: (clock: number, out: BigInt64Array) => number;
let getrusage: (who: number, out: BigInt64Array) => number;
if (g.Deno !== undefined) {
  const libc = g.Deno.dlopen("libc.so.6", {
    clock_gettime: { parameters: ["i32", "buffer"], result: "i32" },
    getrusage: { parameters: ["i32", "buffer"], result: "i32" },
  }).symbols;
  clockGettime = (c, out) => libc.clock_gettime(c, out);
  getrusage = (w, out) => libc.getrusage(w, out);
} else {
  const ffiName = "bun:ffi"; // not a literal: Deno's checker does not resolve it
  const ffi = await import(ffiName);
  const libc = ffi.dlopen("libc.so.6", {
    clock_gettime: { args: ["i32", "ptr"], returns: "i32" },
    getrusage: { args: ["i32", "ptr"], returns: "i32" },
  }).symbols;
  clockGettime = (c, out) => libc.clock_gettime(c, out);
  getrusage = (w, out) => libc.getrusage(w, out);
}
const CLOCK_THREAD_CPUTIME_ID = 3;
const RUSAGE_SELF = 0;
/** The main thread's CPU time, ms. */
function cpuMs(): number {
  if (clockGettime(CLOCK_THREAD_CPUTIME_ID, ts) !== 0) throw new Error("clock_gettime failed");
  return Number(ts[0]) * 1e3 + Number(ts[1]) / 1e6;
}

const t0 = performance.now();
const c0 = cpuMs();
const args = g.Deno !== undefined ? g.Deno.args : g.Bun!.argv.slice(2);
const [mode, path] = args;
const out: Record<string, number> = {};
if (mode === "import" || mode === "load") {
  const mod = mode === "import" && path !== undefined
    ? await import(path) as typeof import("../mod.ts")
    : await import("../mod.ts");
  out.importMs = performance.now() - t0;
  out.importCpuMs = cpuMs() - c0;
  if (mode === "load") {
    // The runtime's own file API, as the library uses (node:fs costs Deno ~20 ms to start).
    const t1 = performance.now();
    const c1 = cpuMs();
    const bytes = g.Deno !== undefined
      ? g.Deno.readFileSync(path)
      : g.process!.getBuiltinModule("node:fs").readFileSync(path);
    const spec = mod.ObjectSpec.parse(bytes);
    const t2 = performance.now();
    const c2 = cpuMs();
    const obj = mod.loadObject(spec);
    const t3 = performance.now();
    const c3 = cpuMs();
    obj.close();
    const t4 = performance.now();
    const c4 = cpuMs();
    out.parseMs = t2 - t1;
    out.parseCpuMs = c2 - c1;
    out.loadMs = t3 - t2;
    out.loadCpuMs = c3 - c2;
    out.closeMs = t4 - t3;
    out.closeCpuMs = c4 - c3;
  }
} else if (mode !== "empty") {
  throw new Error(`unknown mode ${mode}`);
}
out.totalMs = performance.now() - t0;
out.totalCpuMs = cpuMs() - c0;
if (getrusage(RUSAGE_SELF, ru) !== 0) throw new Error("getrusage failed");
// struct rusage starts with ru_utime and ru_stime, each a struct timeval (s, µs).
out.processCpuMs = Number(ru[0] + ru[2]) * 1e3 + Number(ru[1] + ru[3]) / 1e3;
console.log(JSON.stringify(out));
