/**
 * One cold step in a fresh process, for `start_bench.ts`: the time from this script's first
 * statement (the runtime has booted) to the end of the step, printed as one JSON line.
 *
 *   deno run -A bench/_oneshot.ts import            bun bench/_oneshot.ts import
 *   deno run -A bench/_oneshot.ts load OBJ.o        (import mod.ts, read, parse, load, close)
 *   deno run -A bench/_oneshot.ts empty             (nothing: the floor of the measurement)
 */
const t0 = performance.now();
const g = globalThis as { Deno?: { args: string[] }; Bun?: { argv: string[] } };
const args = g.Deno !== undefined ? g.Deno.args : g.Bun!.argv.slice(2);
const [mode, path] = args;
const out: Record<string, number> = {};
if (mode === "import" || mode === "load") {
  const mod = await import("../mod.ts");
  out.importMs = performance.now() - t0;
  if (mode === "load") {
    const { readFileSync } = await import("node:fs");
    const t1 = performance.now();
    const spec = mod.ObjectSpec.parse(readFileSync(path));
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
