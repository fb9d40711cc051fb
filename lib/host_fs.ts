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
  readDirSync(path: string): Iterable<{ name: string }>;
  readLinkSync(path: string): string;
  statSync(path: string): unknown;
  removeSync(path: string): void;
}

interface NodeFs {
  readFileSync(path: string): Uint8Array;
  readFileSync(path: string, encoding: "utf8"): string;
  readdirSync(path: string): string[];
  readlinkSync(path: string): string;
  existsSync(path: string): boolean;
  unlinkSync(path: string): void;
}

const deno = (globalThis as { Deno?: DenoFs }).Deno;
let node: NodeFs | undefined;

function nodeFs(): NodeFs {
  if (node === undefined) {
    const p = (globalThis as {
      process?: { getBuiltinModule?(name: string): unknown };
    }).process;
    const fs = p?.getBuiltinModule?.("node:fs") as NodeFs | undefined;
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
 * ```ts ignore
 * import { removeFile } from "./host_fs.ts";
 * removeFile("/sys/fs/bpf/my_pin");
 * ```
 */
export function removeFile(path: string): void {
  if (deno !== undefined) deno.removeSync(path);
  else nodeFs().unlinkSync(path);
}
