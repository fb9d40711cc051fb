/**
 * The public API, reduced to `kind name` lines per entry point of `deno.json`, from
 * `deno doc --json`. `tests/api_snapshot.test.ts` compares it with `tests/fixtures/api/*.txt`.
 *
 *   deno task api:update            rewrite the snapshot after a deliberate API change
 *   deno run -A scripts/api_snapshot.ts --count    runtime values per entry point
 */
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** The repository root. */
export const root: string = join(dirname(fileURLToPath(import.meta.url)), "..");
/** Where the snapshot lives. */
export const snapshotDir: string = join(root, "tests", "fixtures", "api");

/** Declaration kinds that exist at run time (the rest are types only). */
const RUNTIME_KINDS = new Set(["function", "variable", "class", "enum", "namespace"]);

/** One entry point's exports: `kind name` lines, sorted, and the number of runtime values. */
export interface EntrySnapshot {
  /** Lines `kind name` (`typeAlias+variable ProgType` when a name is both). */
  lines: string[];
  /** Exported names that exist at run time. */
  runtimeValues: number;
}

/** The snapshot file name of an export key: `"."` → `root.txt`, `"./map"` → `map.txt`. */
export function snapshotName(key: string): string {
  return key === "." ? "root.txt" : `${key.slice(2).replaceAll("/", "_")}.txt`;
}

/** The package's entry points, `export key → file`, from `deno.json`. */
export function entryPoints(): Record<string, string> {
  const cfg = JSON.parse(readFileSync(join(root, "deno.json"), "utf8"));
  return cfg.exports as Record<string, string>;
}

interface DocSymbol {
  name: string;
  declarations: { kind: string }[];
}

async function docSymbols(deno: string, file: string): Promise<DocSymbol[]> {
  // One process per entry point: given several files, deno doc shares declarations between them
  // and leaves `reference` entries in all but one.
  const out = await new Deno.Command(deno, {
    args: ["doc", "--json", "--no-npm", file],
    cwd: root,
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!out.success) {
    throw new Error(`deno doc ${file} failed:\n${new TextDecoder().decode(out.stderr)}`);
  }
  const doc = JSON.parse(new TextDecoder().decode(out.stdout)) as {
    nodes: Record<string, { symbols: DocSymbol[] }>;
  };
  const symbols = doc.nodes[new URL(`file://${join(root, file)}`).href]?.symbols;
  if (symbols === undefined) throw new Error(`deno doc returned nothing for ${file}`);
  return symbols;
}

/** Runs `deno doc --json` on every entry point and reduces the result. */
export async function apiSnapshot(deno: string): Promise<Map<string, EntrySnapshot>> {
  const entries = Object.entries(entryPoints());
  const docs = await Promise.all(entries.map(([, file]) => docSymbols(deno, file)));
  const result = new Map<string, EntrySnapshot>();
  entries.forEach(([key], i) => {
    const lines: string[] = [];
    let runtimeValues = 0;
    for (const s of docs[i]) {
      const kinds = [...new Set(s.declarations.map((d) => d.kind))].sort();
      if (kinds.some((k) => RUNTIME_KINDS.has(k))) runtimeValues++;
      lines.push(`${kinds.join("+")} ${s.name}`);
    }
    const byName = (l: string) => `${l.slice(l.indexOf(" ") + 1)} ${l}`;
    lines.sort((a, b) => byName(a) < byName(b) ? -1 : byName(a) > byName(b) ? 1 : 0);
    result.set(snapshotName(key), { lines, runtimeValues });
  });
  return result;
}

/** The text of one snapshot file. */
export function snapshotText(key: string, s: EntrySnapshot): string {
  return `# ${key}: ${s.lines.length} exports, ${s.runtimeValues} runtime values\n` +
    s.lines.join("\n") + "\n";
}

if (import.meta.main) {
  const snap = await apiSnapshot(Deno.execPath());
  const keys = new Map(Object.keys(entryPoints()).map((k) => [snapshotName(k), k]));
  if (Deno.args.includes("--update")) {
    mkdirSync(snapshotDir, { recursive: true });
    for (const f of readdirSync(snapshotDir)) {
      if (!snap.has(f)) rmSync(join(snapshotDir, f));
    }
    for (const [file, s] of snap) {
      writeFileSync(join(snapshotDir, file), snapshotText(keys.get(file)!, s));
    }
    console.log(`wrote ${snap.size} files to tests/fixtures/api/`);
  }
  for (const [file, s] of snap) {
    console.log(`${keys.get(file)}: ${s.lines.length} exports, ${s.runtimeValues} runtime values`);
  }
}
