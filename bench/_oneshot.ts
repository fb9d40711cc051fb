/**
 * One cold step in a fresh process, for `start_bench.ts`: the time from this script's first
 * statement (the runtime has booted) to the end of the step, printed as one JSON line.
 *
 *   deno run -A bench/_oneshot.ts import            bun bench/_oneshot.ts import
 *   deno run -A bench/_oneshot.ts load OBJ.o        (import mod.ts, read, parse, load, close)
 *   deno run -A bench/_oneshot.ts empty             (nothing: the floor of the measurement)
 */
const t0 = performance.now();
const g = globalThis as {
  Deno?: { args: string[]; readFileSync(p: string): Uint8Array };
  Bun?: { argv: string[] };
  process?: { getBuiltinModule(n: string): { readFileSync(p: string): Uint8Array } };
};
const args = g.Deno !== undefined ? g.Deno.args : g.Bun!.argv.slice(2);
const [mode, path] = args;
const out: Record<string, number> = {};
if (mode === "import" || mode === "load") {
  const mod = await import("../mod.ts");
  out.importMs = performance.now() - t0;
  if (mode === "load") {
    // The runtime's own file API, as the library uses (node:fs costs Deno ~20 ms to start).
    const t1 = performance.now();
    const bytes = g.Deno !== undefined
      ? g.Deno.readFileSync(path)
      : g.process!.getBuiltinModule("node:fs").readFileSync(path);
    const spec = mod.ObjectSpec.parse(bytes);
    const t2 = performance.now();
    const obj = mod.loadObject(spec);
    const t3 = performance.now();
    obj.close();
    const t4 = performance.now();
    out.parseMs = t2 - t1;
    out.loadMs = t3 - t2;
    out.closeMs = t4 - t3;
  }
} else if (mode !== "empty") {
  throw new Error(`unknown mode ${mode}`);
}
out.totalMs = performance.now() - t0;
console.log(JSON.stringify(out));
