/**
 * The per-boot disk cache of live-profile answers: one JSON file per user, keyed by the kernel
 * release, `/proc/version` and the boot id, written atomically (a temporary file renamed over
 * it), and ignored when it is unreadable, corrupt, owned by someone else or from another boot.
 *
 * @module
 */
import {
  envVar,
  fileOwner,
  makeDirs,
  processId,
  processUid,
  readFileText,
  removeFile,
  renameFile,
  writeFileText,
} from "../host_fs.ts";

/** The OS temporary directory, as Node's `os.tmpdir()` answers on Linux. */
function tmpdir(): string {
  const d = envVar("TMPDIR") ?? envVar("TMP") ?? envVar("TEMP") ?? "/tmp";
  return d.length > 1 && d.endsWith("/") ? d.slice(0, -1) : d;
}

function readText(path: string): string | undefined {
  try {
    return readFileText(path).trim();
  } catch {
    return undefined;
  }
}

/**
 * The identity of the running kernel's boot: release, `/proc/version` and boot id; `undefined`
 * where they cannot be read (then nothing is cached on disk).
 *
 * @example
 * ```ts
 * import { bootKey } from "@tsbpf/core/profile";
 * bootKey()?.release; // "6.18.44"
 * ```
 */
export function bootKey(): { release: string; version: string; bootId: string } | undefined {
  const release = readText("/proc/sys/kernel/osrelease");
  const version = readText("/proc/version");
  const bootId = readText("/proc/sys/kernel/random/boot_id");
  if (release === undefined || version === undefined || bootId === undefined) return undefined;
  return { release, version, bootId };
}

/**
 * Where the cache file of this process lives: `/run/tsbpf` for root, `$XDG_RUNTIME_DIR/tsbpf`
 * otherwise, else a per-user directory in the OS temporary directory. `TSBPF_PROFILE_CACHE`
 * overrides the file path (`off` disables the disk cache).
 *
 * @example
 * ```ts
 * import { cachePath } from "@tsbpf/core/profile";
 * cachePath(); // "/run/tsbpf/profile-0.json" for root
 * ```
 */
export function cachePath(): string | undefined {
  const override = envVar("TSBPF_PROFILE_CACHE");
  if (override === "off") return undefined;
  if (override) return override;
  const uid = processUid() ?? -1;
  // Answers can depend on being PID 1 (a policy may exempt init): PID 1 gets its own file.
  const name = `profile-${uid}${processId() === 1 ? "-pid1" : ""}.json`;
  if (uid === 0) return `/run/tsbpf/${name}`;
  const xdg = envVar("XDG_RUNTIME_DIR");
  if (xdg) return `${xdg.replace(/\/+$/, "")}/tsbpf/${name}`;
  return `${tmpdir()}/tsbpf-${uid}/${name}`;
}

/** One cached entry (JSON). */
export type CacheEntry = unknown;

interface CacheFile {
  boot: string;
  entries: Record<string, CacheEntry>;
}

function bootString(): string | undefined {
  const k = bootKey();
  return k === undefined ? undefined : `${k.release}\n${k.version}\n${k.bootId}`;
}

/**
 * A key–value store of answers: in memory, backed by the per-boot file.
 *
 * @example
 * ```ts
 * import { ProfileCache } from "@tsbpf/core/profile";
 * const c = new ProfileCache(null); // memory only
 * c.set("x", 1);
 * c.get("x"); // 1
 * ```
 */
export class ProfileCache {
  readonly #path: string | undefined;
  readonly #boot: string | undefined;
  #entries = new Map<string, CacheEntry>();

  /**
   * Opens the cache at `path` (default {@link cachePath}; `null`: memory only), reading what it
   * holds for this boot.
   */
  constructor(path: string | null = cachePath() ?? null) {
    this.#boot = bootString();
    this.#path = this.#boot === undefined || path === null ? undefined : path;
    const file = this.#read();
    if (file !== undefined) this.#entries = new Map(Object.entries(file.entries));
  }

  /** The file backing the cache, if any. */
  get path(): string | undefined {
    return this.#path;
  }

  /** The cached entry of `key`. */
  get(key: string): CacheEntry | undefined {
    return this.#entries.get(key);
  }

  /** Caches `value` under `key`, in memory only (call {@link ProfileCache.flush} to persist). */
  set(key: string, value: CacheEntry): void {
    this.#entries.set(key, value);
  }

  /** Every entry in memory, as `[key, value]` pairs (a copy). */
  entries(): [string, CacheEntry][] {
    return [...this.#entries];
  }

  /** Forgets everything in memory (the file is left alone). */
  clearMemory(): void {
    this.#entries.clear();
  }

  /**
   * Writes the entries to the file atomically, merged with what other processes wrote meanwhile.
   * Failures are ignored: the cache is an optimisation.
   */
  flush(): void {
    if (this.#path === undefined || this.#boot === undefined) return;
    const merged: Record<string, CacheEntry> = { ...(this.#read()?.entries ?? {}) };
    for (const [k, v] of this.#entries) merged[k] = v;
    const tmp = `${this.#path}.${processId()}.${Math.random().toString(36).slice(2)}.tmp`;
    try {
      const slash = this.#path.lastIndexOf("/");
      if (slash > 0) makeDirs(this.#path.slice(0, slash), 0o700);
      writeFileText(tmp, JSON.stringify({ boot: this.#boot, entries: merged }), { mode: 0o600 });
      renameFile(tmp, this.#path);
    } catch {
      try {
        removeFile(tmp);
      } catch {
        // nothing was written
      }
    }
  }

  #read(): CacheFile | undefined {
    if (this.#path === undefined) return undefined;
    try {
      const owner = fileOwner(this.#path);
      const uid = processUid();
      if (uid !== undefined && owner !== uid) return undefined; // someone else's: not trusted
      const file = JSON.parse(readFileText(this.#path)) as CacheFile;
      if (
        file === null || typeof file !== "object" || file.boot !== this.#boot ||
        file.entries === null || typeof file.entries !== "object"
      ) {
        return undefined;
      }
      return file;
    } catch {
      return undefined;
    }
  }
}
