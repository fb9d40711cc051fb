/**
 * The few synchronous file operations tsbpf needs (`/proc`, `/sys`, object files, bpffs), through
 * the runtime's own API: `Deno.*` in Deno, where the first `node:` import starts the whole Node
 * compatibility layer (about 20 ms, more than everything else tsbpf does at start), and `node:fs`
 * (a built-in, fetched when first used) in Bun. Errors carry the errno name in `code`
 * (`"ENOENT"`, `"EACCES"`, …) in both.
 *
 * @module
 */

interface DenoFs {
  readFileSync(path: string): Uint8Array;
  readTextFileSync(path: string): string;
  writeTextFileSync(
    path: string,
    data: string,
    options?: { append?: boolean; mode?: number },
  ): void;
  readDirSync(path: string): Iterable<{ name: string }>;
  readLinkSync(path: string): string;
  statSync(path: string): { uid: number | null; size: number };
  removeSync(path: string): void;
  mkdirSync(path: string, options?: { recursive?: boolean; mode?: number }): void;
  renameSync(from: string, to: string): void;
  pid: number;
  uid(): number | null;
  env: { get(name: string): string | undefined };
}

interface NodeFs {
  readFileSync(path: string): Uint8Array;
  readFileSync(path: string, encoding: "utf8"): string;
  writeFileSync(path: string, data: string, options?: { flag?: string; mode?: number }): void;
  readdirSync(path: string): string[];
  readlinkSync(path: string): string;
  existsSync(path: string): boolean;
  statSync(path: string): { uid: number; size: number };
  unlinkSync(path: string): void;
  mkdirSync(path: string, options?: { recursive?: boolean; mode?: number }): void;
  renameSync(from: string, to: string): void;
}

interface NodeProcess {
  getBuiltinModule?(name: string): unknown;
  pid: number;
  getuid?(): number;
  env: Record<string, string | undefined>;
}

const deno = (globalThis as { Deno?: DenoFs }).Deno;
let node: NodeFs | undefined;

/** Node's `process`: only touched outside Deno (Deno starts its Node layer on first access). */
function nodeProcess(): NodeProcess {
  const p = (globalThis as { process?: NodeProcess }).process;
  if (p === undefined) throw new Error("no process API in this runtime");
  return p;
}

function nodeFs(): NodeFs {
  if (node === undefined) {
    const fs = nodeProcess().getBuiltinModule?.("node:fs") as NodeFs | undefined;
    if (fs === undefined) throw new Error("no file system API in this runtime");
    node = fs;
  }
  return node;
}

/**
 * The bytes of a file.
 *
 * @example
 * ```ts
 * import { readFileBytes } from "./host_fs.ts";
 * readFileBytes("/proc/self/auxv").length > 0; // true
 * ```
 */
export function readFileBytes(path: string): Uint8Array {
  return deno !== undefined ? deno.readFileSync(path) : nodeFs().readFileSync(path);
}

/**
 * The text of a file (UTF-8).
 *
 * @example
 * ```ts
 * import { readFileText } from "./host_fs.ts";
 * readFileText("/proc/self/status").includes("CapEff"); // true
 * ```
 */
export function readFileText(path: string): string {
  return deno !== undefined ? deno.readTextFileSync(path) : nodeFs().readFileSync(path, "utf8");
}

/**
 * The names in a directory.
 *
 * @example
 * ```ts
 * import { readDirNames } from "./host_fs.ts";
 * readDirNames("/proc/self/fd").length > 0; // true
 * ```
 */
export function readDirNames(path: string): string[] {
  if (deno === undefined) return nodeFs().readdirSync(path);
  const out: string[] = [];
  for (const e of deno.readDirSync(path)) out.push(e.name);
  return out;
}

/**
 * The target of a symbolic link.
 *
 * @example
 * ```ts
 * import { readLink } from "./host_fs.ts";
 * readLink("/proc/self/fd/0");
 * ```
 */
export function readLink(path: string): string {
  return deno !== undefined ? deno.readLinkSync(path) : nodeFs().readlinkSync(path);
}

/**
 * Whether a path exists (following symbolic links).
 *
 * @example
 * ```ts
 * import { pathExists } from "./host_fs.ts";
 * pathExists("/proc"); // true
 * ```
 */
export function pathExists(path: string): boolean {
  if (deno === undefined) return nodeFs().existsSync(path);
  try {
    deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * Removes a file (a pin in bpffs).
 *
 * @example
 * ```ts
 * import { pathExists, removeFile, writeFileText } from "./host_fs.ts";
 * const path = `/tmp/tsbpf-doc-${Deno.pid}.tmp`;
 * writeFileText(path, "x");
 * removeFile(path);
 * pathExists(path); // false
 * ```
 */
export function removeFile(path: string): void {
  if (deno !== undefined) deno.removeSync(path);
  else nodeFs().unlinkSync(path);
}

/**
 * Writes `text` to a file (UTF-8), replacing it, or appended with `append`; a new file gets `mode`.
 *
 * @example
 * ```ts
 * import { makeDirs, readFileText, writeFileText } from "./host_fs.ts";
 * const dir = `/tmp/tsbpf-doc-${Deno.pid}`;
 * makeDirs(dir);
 * writeFileText(`${dir}/log`, "one\n");
 * writeFileText(`${dir}/log`, "two\n", { append: true });
 * readFileText(`${dir}/log`); // "one\ntwo\n"
 * Deno.removeSync(dir, { recursive: true });
 * ```
 */
export function writeFileText(
  path: string,
  text: string,
  options: { append?: boolean; mode?: number } = {},
): void {
  if (deno !== undefined) deno.writeTextFileSync(path, text, options);
  else nodeFs().writeFileSync(path, text, { flag: options.append ? "a" : "w", mode: options.mode });
}

/**
 * Creates a directory and its missing parents; an existing directory is not an error.
 *
 * @example
 * ```ts
 * import { makeDirs } from "./host_fs.ts";
 * const dir = `/tmp/tsbpf-doc-${Deno.pid}`;
 * makeDirs(`${dir}/a/b`, 0o700);
 * makeDirs(`${dir}/a/b`); // already there: not an error
 * Deno.removeSync(dir, { recursive: true });
 * ```
 */
export function makeDirs(path: string, mode?: number): void {
  if (deno !== undefined) deno.mkdirSync(path, { recursive: true, mode });
  else nodeFs().mkdirSync(path, { recursive: true, mode });
}

/**
 * Renames a file (atomically replacing `to` on the same file system).
 *
 * @example
 * ```ts
 * import { makeDirs, pathExists, renameFile, writeFileText } from "./host_fs.ts";
 * const dir = `/tmp/tsbpf-doc-${Deno.pid}`;
 * makeDirs(dir);
 * writeFileText(`${dir}/x.tmp`, "state");
 * renameFile(`${dir}/x.tmp`, `${dir}/x`);
 * pathExists(`${dir}/x`); // true
 * Deno.removeSync(dir, { recursive: true });
 * ```
 */
export function renameFile(from: string, to: string): void {
  if (deno !== undefined) deno.renameSync(from, to);
  else nodeFs().renameSync(from, to);
}

/**
 * The user id owning a file (following symbolic links).
 *
 * @example
 * ```ts
 * import { fileOwner } from "./host_fs.ts";
 * typeof fileOwner("/proc/self/status"); // "number"
 * ```
 */
export function fileOwner(path: string): number | undefined {
  if (deno !== undefined) return deno.statSync(path).uid ?? undefined;
  return nodeFs().statSync(path).uid;
}

/**
 * This process's id.
 *
 * @example
 * ```ts
 * import { processId } from "./host_fs.ts";
 * processId() > 0; // true
 * ```
 */
export function processId(): number {
  return deno !== undefined ? deno.pid : nodeProcess().pid;
}

/**
 * This process's real user id, `undefined` where the runtime cannot tell.
 *
 * @example
 * ```ts
 * import { processUid } from "./host_fs.ts";
 * processUid(); // 0 for root
 * ```
 */
export function processUid(): number | undefined {
  if (deno !== undefined) {
    try {
      return deno.uid() ?? undefined;
    } catch {
      return undefined; // no permission to ask
    }
  }
  return nodeProcess().getuid?.();
}

/**
 * An environment variable, `undefined` when unset or when the runtime does not let the process read
 * it (Deno without `--allow-env`).
 *
 * @example
 * ```ts
 * import { envVar } from "./host_fs.ts";
 * envVar("PATH") !== undefined; // true
 * ```
 */
export function envVar(name: string): string | undefined {
  if (deno !== undefined) {
    try {
      return deno.env.get(name);
    } catch {
      return undefined;
    }
  }
  return nodeProcess().env[name];
}

/**
 * The size of a file in bytes, as `stat(2)` reports it.
 *
 * @example
 * ```ts
 * import { fileSize } from "./host_fs.ts";
 * fileSize("/sys/kernel/btf/vmlinux") > 0; // true where the kernel has BTF
 * ```
 */
export function fileSize(path: string): number {
  return deno !== undefined ? deno.statSync(path).size : nodeFs().statSync(path).size;
}
