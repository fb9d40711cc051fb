/**
 * The layers are one-way (CONTRIBUTING.md): pure modules (`types/`, instructions, BTF, codecs, the
 * program-type registry, the checker, ELF parsing) never reach `lib/sys/`, the objects that own
 * file descriptors, or the host (files, `/proc`), neither directly nor through another file.
 *
 * `ALLOWED` lists today's violations, edge by edge. It only shrinks: fix a violation and delete its
 * line (the test prints stale lines); a new violation fails the test.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type ImportEdge, importGraph, stripComments, tsFiles } from "./import_graph.ts";
import { repoRoot } from "./util.ts";

/** Modules that must stay pure: they run in any JS runtime, with no kernel and no host. */
const PURE = [
  "types/",
  "lib/insn/",
  "lib/btf/",
  "lib/codec/",
  "lib/progtype/",
  "lib/check/",
  "lib/verifier/",
  "lib/elf/",
  "lib/attr.ts",
  "lib/args.ts",
  "lib/errors.ts",
];

/** What a pure module may not reach: the FFI, the fd-owning object layer, and host I/O. */
const FORBIDDEN = [
  "lib/sys/",
  "lib/program/",
  "lib/object/",
  "lib/map/",
  "lib/link/",
  "lib/perf/",
  "lib/ringbuf/",
  "lib/fd.ts",
  "lib/pin.ts",
  "lib/ids.ts",
  "lib/caps.ts",
  "lib/host_fs.ts",
  "node:fs",
  "node:child_process",
  "node:net",
];

/** Today's violations, `from -> to`, each with why it is still here. Only ever delete lines. */
const ALLOWED: Record<string, string> = {
  "lib/elf/mod.ts -> lib/map/mod.ts": "the ./elf entry point re-exports the object model",
  "lib/elf/mod.ts -> lib/object/mod.ts": "the ./elf entry point re-exports loadObject",
  "lib/elf/mod.ts -> lib/program/program.ts": "the ./elf entry point re-exports the object model",
  "lib/elf/mod.ts -> lib/program/info.ts": "the ./elf entry point re-exports the object model",
  "lib/elf/vmlinux.ts -> lib/host_fs.ts": "kernel BTF is read from /sys/kernel/btf",
};

const isIn = (f: string, list: string[]) =>
  list.some((p) => p.endsWith("/") ? f.startsWith(p) : f === p);

interface Violation {
  edge: ImportEdge;
  /** A pure module that reaches the edge, and the files between. */
  path: string[];
}

function findViolations(): Violation[] {
  const files = [...tsFiles(repoRoot, "types"), ...tsFiles(repoRoot, "lib"), "mod.ts"];
  const graph = importGraph(repoRoot, files);
  const found = new Map<string, Violation>();
  for (const root of files.filter((f) => isIn(f, PURE))) {
    // Breadth-first from one pure module, not walking through forbidden modules or allowed edges.
    const prev = new Map<string, string>([[root, ""]]);
    const queue = [root];
    while (queue.length > 0) {
      const f = queue.shift()!;
      for (const e of graph.get(f) ?? []) {
        const key = `${e.from} -> ${e.to}`;
        if (isIn(e.to, FORBIDDEN)) {
          if (!found.has(key)) {
            const path = [f];
            for (let p = prev.get(f)!; p !== ""; p = prev.get(p)!) path.unshift(p);
            found.set(key, { edge: e, path });
          }
          continue;
        }
        if (key in ALLOWED || prev.has(e.to) || !graph.has(e.to)) continue;
        prev.set(e.to, f);
        queue.push(e.to);
      }
    }
  }
  return [...found.values()];
}

test("layering: no pure module reaches lib/sys, the object layer or the host", () => {
  const violations = findViolations();
  const keys = new Set(violations.map((v) => `${v.edge.from} -> ${v.edge.to}`));
  const allowed = violations.filter((v) => `${v.edge.from} -> ${v.edge.to}` in ALLOWED);
  const fresh = violations.filter((v) => !(`${v.edge.from} -> ${v.edge.to}` in ALLOWED));
  const stale = Object.keys(ALLOWED).filter((k) => !keys.has(k));
  console.log(`layering: ${allowed.length} allowed violation(s) left to fix:`);
  for (const v of allowed) {
    const why = ALLOWED[`${v.edge.from} -> ${v.edge.to}`];
    console.log(`  ${v.edge.from} -> ${v.edge.to}${why ? ` (${why})` : ""}`);
  }
  for (const k of stale) {
    console.log(`layering: "${k}" is fixed: delete it from ALLOWED in tests/layering.test.ts`);
  }
  assert.deepEqual(
    fresh.map((v) =>
      `${[...v.path, v.edge.to].join(" -> ")}${v.edge.typeOnly ? " (import type)" : ""}`
    ),
    [],
    "pure modules reach lib/sys, the object layer or the host (see CONTRIBUTING.md, Layers)",
  );
});

test("layering: the library imports no node: built-in and reads `process` only in host_fs", () => {
  // In Deno the first node: import, or the first touch of the global `process`, starts the Node
  // compatibility layer (15-25 ms at start-up); lib/host_fs.ts goes through Deno.* there.
  const files = [...tsFiles(repoRoot, "types"), ...tsFiles(repoRoot, "lib"), "mod.ts"];
  const graph = importGraph(repoRoot, files);
  const nodeImports = [...graph.values()].flat().filter((e) =>
    e.to.startsWith("node:") && !e.typeOnly
  )
    .map((e) => `${e.from} -> ${e.to}`);
  assert.deepEqual(nodeImports, []);
  const processUse = files.filter((f) =>
    f !== "lib/host_fs.ts" && f !== "lib/object/host.ts" && f !== "lib/sys/mod.ts" &&
    /\bprocess\s*\.\s*(pid|env|getuid|argv|platform|arch|getBuiltinModule)\b/.test(
      stripComments(readFileSync(join(repoRoot, f), "utf8")),
    )
  );
  assert.deepEqual(processUse, []);
});

test("layering: types/ imports nothing outside types/", () => {
  const graph = importGraph(repoRoot, tsFiles(repoRoot, "types"));
  const out = [...graph.values()].flat().filter((e) => !e.to.startsWith("types/"));
  assert.deepEqual(out.map((e) => `${e.from} -> ${e.to}`), []);
});

test("layering: the import reader sees imports and exports, not JSDoc examples", () => {
  const dir = mkdtempSync(join(tmpdir(), "tsbpf-layering-"));
  try {
    mkdirSync(join(dir, "lib", "x"), { recursive: true });
    writeFileSync(
      join(dir, "lib", "x", "a.ts"),
      [
        "/**",
        " * ```ts",
        ' * import { BpfMap } from "@tsbpf/core";',
        " * ```",
        " */",
        'import { b } from "./b.ts";',
        'import type { C } from "../c.ts";',
        'export * from "../../types/cmd.ts";',
        "export {",
        "  d,",
        '} from "./d.ts";',
        'const url = "http://example.org"; // import { e } from "./e.ts";',
        'const m = await import("node:fs");',
      ].join("\n"),
    );
    const edges = importGraph(dir, ["lib/x/a.ts"]).get("lib/x/a.ts")!;
    assert.deepEqual(edges.map((e) => `${e.to}${e.typeOnly ? " (type)" : ""}`), [
      "lib/x/b.ts",
      "lib/c.ts (type)",
      "types/cmd.ts",
      "lib/x/d.ts",
      "node:fs",
    ]);
  } finally {
    rmSync(dir, { recursive: true });
  }
});

test("layering: no import cycle in lib/ or types/", () => {
  const files = [...tsFiles(repoRoot, "types"), ...tsFiles(repoRoot, "lib")];
  const graph = importGraph(repoRoot, files);
  // Tarjan's strongly connected components: any component of more than one file is a cycle.
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const cycles: string[][] = [];
  const visit = (v: string): void => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    onStack.add(v);
    for (const { to } of graph.get(v) ?? []) {
      if (!graph.has(to)) continue;
      if (!index.has(to)) {
        visit(to);
        low.set(v, Math.min(low.get(v)!, low.get(to)!));
      } else if (onStack.has(to)) low.set(v, Math.min(low.get(v)!, index.get(to)!));
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1) cycles.push(component.sort());
    }
  };
  for (const f of files) if (!index.has(f)) visit(f);
  assert.deepEqual(cycles, [], "files that import each other (directly or through others)");
});

test("layering: only lib/sys/ calls bpf(2); kernel flags come from types/, never literals", () => {
  const offenders: string[] = [];
  // A flag, command or pseudo-register constant spelt as a number in lib/ (alias from types/).
  const literalFlag =
    /\bconst\s+(BPF_[A-Z_]+|PERF_(FLAG|TYPE)_[A-Z_]+|EPOLL(IN|OUT|ET|ONESHOT|_CLOEXEC|_CTL_[A-Z]+)|PROT_[A-Z]+|MAP_(SHARED|PRIVATE)|SOL?_[A-Z_]+|O_[A-Z_]+|AF_[A-Z]+|SOCK_[A-Z_]+|MSG_[A-Z]+)\s*(:[^=]+)?=\s*[-(]*(0[xob])?[0-9]/;
  for (const file of tsFiles(repoRoot, "lib")) {
    const code = stripComments(readFileSync(join(repoRoot, file), "utf8"));
    if (!file.startsWith("lib/sys/") && /\.bpf\(/.test(code)) {
      offenders.push(`${file}: calls bpf() (use the wrappers of lib/sys/bpf_cmds.ts)`);
    }
    const m = literalFlag.exec(code);
    if (m) offenders.push(`${file}: defines ${m[1]} as a number (take it from types/)`);
  }
  assert.deepEqual(offenders, []);
});
