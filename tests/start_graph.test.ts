/**
 * What `import "@tsbpf/core"` loads. Every module on the graph of `mod.ts` is read, transpiled and
 * evaluated by every process that imports the package, before its first line runs; the start
 * (bench/start_bench.ts) grows with the graph. These tests keep the heavy modules that only
 * their own entry points need off it, and keep the graph free of `node:` and `npm:` modules
 * (Deno starts its whole Node compatibility layer, about 20 ms, on the first one). Read from the
 * sources (tests/import_graph.ts), not timed.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { importGraph, tsFiles } from "./import_graph.ts";
import { repoRoot } from "./util.ts";

const files = [...tsFiles(repoRoot, "types"), ...tsFiles(repoRoot, "lib"), "mod.ts"];
const graph = importGraph(repoRoot, files);

/**
 * The modules `from` loads at run time (type-only imports are erased), with, for each, the
 * module that imported it first: the chain to print when one should not be there.
 */
function loaded(from: string): Map<string, string> {
  const by = new Map<string, string>([[from, ""]]);
  const queue = [from];
  while (queue.length > 0) {
    const f = queue.shift()!;
    for (const e of graph.get(f) ?? []) {
      if (e.typeOnly || by.has(e.to)) continue;
      by.set(e.to, f);
      if (graph.has(e.to)) queue.push(e.to);
    }
  }
  return by;
}

function chain(by: Map<string, string>, to: string): string {
  const path = [to];
  for (let f = by.get(to); f; f = by.get(f)) path.unshift(f);
  return path.join(" -> ");
}

/** Modules (or folders) that `mod.ts` must not load, each with the entry point that has them. */
const NOT_FROM_MOD: Record<string, string> = {
  "lib/profile/kernels/": "recorded kernel profiles (~10k lines of data): @tsbpf/core/profile",
  "lib/profile/static.ts": "profiles from recorded data: @tsbpf/core/profile",
  "lib/profile/upstream.ts": "the upstream kernel timeline: @tsbpf/core/profile",
  "lib/verifier/mod.ts": "the deep checker's own API: @tsbpf/core/verifier",
  "scripts/": "repository tooling",
  "tests/": "tests",
  "bench/": "benchmarks",
  "examples/": "examples",
};

test("importing mod.ts does not load the recorded kernel profiles, tooling or other entry points", () => {
  const by = loaded("mod.ts");
  const found: string[] = [];
  for (const [prefix, why] of Object.entries(NOT_FROM_MOD)) {
    for (const f of by.keys()) {
      if (prefix.endsWith("/") ? f.startsWith(prefix) : f === prefix) {
        found.push(`${chain(by, f)}  (${why})`);
      }
    }
  }
  assert.deepEqual(found, [], `mod.ts loads:\n${found.join("\n")}`);
});

test("importing mod.ts loads no node:, npm:, jsr: or bun: module", () => {
  const by = loaded("mod.ts");
  const bare = [...by.keys()].filter((f) => !graph.has(f));
  assert.deepEqual(bare.map((f) => chain(by, f)), []);
});

test("the graph walk sees mod.ts's modules and follows value imports only", () => {
  const by = loaded("mod.ts");
  // The loader itself is on the graph (a walk that stopped early would pass the tests above).
  for (const f of ["lib/object/load.ts", "lib/elf/spec.ts", "lib/btf/btf.ts", "lib/sys/mod.ts"]) {
    assert.ok(by.has(f), `${f} is not on mod.ts's graph`);
  }
  // `import type` edges are seen, and not followed: they are erased at run time.
  const typeEdges = [...graph.values()].flat().filter((e) => e.typeOnly && graph.has(e.to));
  assert.ok(typeEdges.length > 0, "no `import type` edge found in lib/");
  // The profile entry point does load the recorded kernels: the walk finds them where they are.
  assert.ok(
    [...loaded("lib/profile/mod.ts").keys()].some((f) => f.startsWith("lib/profile/kernels/")),
  );
});
