/**
 * The import graph of the repository's TypeScript sources, read from the files themselves (no
 * runtime import): used by the layering test.
 */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, normalize, relative } from "node:path";

/** One `import`/`export … from`/`import()` of a module. */
export interface ImportEdge {
  /** The importing file, relative to the repository root (`lib/elf/load.ts`). */
  from: string;
  /** The imported file relative to the root, or the bare specifier (`node:fs`). */
  to: string;
  /** `true` for `import type`/`export type` (erased at run time). */
  typeOnly: boolean;
}

/**
 * Removes comments from TypeScript source, keeping string and template literals (a `//` or
 * `/*` inside a string is not a comment). JSDoc examples, which import `@tsbpf/core`, vanish.
 */
export function stripComments(src: string): string {
  let out = "";
  let i = 0;
  const n = src.length;
  while (i < n) {
    const c = src[i];
    const d = src[i + 1];
    if (c === "/" && d === "/") {
      while (i < n && src[i] !== "\n") i++;
    } else if (c === "/" && d === "*") {
      const end = src.indexOf("*/", i + 2);
      i = end < 0 ? n : end + 2;
      out += " ";
    } else if (c === '"' || c === "'" || c === "`") {
      let j = i + 1;
      while (j < n && src[j] !== c) {
        if (src[j] === "\\") j++;
        else if (c !== "`" && src[j] === "\n") break;
        j++;
      }
      out += src.slice(i, j + 1);
      i = j + 1;
    } else {
      out += c;
      i++;
    }
  }
  return out;
}

const IMPORT_RE =
  /(?:^|[;\n}])\s*(import|export)\s+(type\s+)?(?:[\w*{}\s,$]+?\s+from\s+)?["']([^"']+)["']/g;
const DYNAMIC_RE = /\bimport\(\s*["']([^"']+)["']\s*\)/g;

/** The imports of one file (`file` relative to `root`). */
export function importsOf(root: string, file: string): ImportEdge[] {
  const src = stripComments(readFileSync(join(root, file), "utf8"));
  const edges: ImportEdge[] = [];
  const add = (spec: string, typeOnly: boolean) => {
    const to = spec.startsWith(".") ? normalize(join(dirname(file), spec)) : spec;
    edges.push({ from: file, to, typeOnly });
  };
  for (const m of src.matchAll(IMPORT_RE)) add(m[3], m[2] !== undefined);
  for (const m of src.matchAll(DYNAMIC_RE)) add(m[1], false);
  return edges;
}

/** Every `.ts` file under `dir` (relative to `root`), sorted. */
export function tsFiles(root: string, dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    const abs = join(root, d);
    if (!existsSync(abs)) return;
    for (const name of readdirSync(abs).sort()) {
      const rel = join(d, name);
      if (statSync(join(root, rel)).isDirectory()) walk(rel);
      else if (name.endsWith(".ts")) out.push(relative(root, join(root, rel)));
    }
  };
  walk(dir);
  return out;
}

/** The import graph of the given files: file → its imports. */
export function importGraph(root: string, files: string[]): Map<string, ImportEdge[]> {
  const g = new Map<string, ImportEdge[]>();
  for (const f of files) g.set(f, importsOf(root, f));
  return g;
}
