/**
 * Ownership of kernel file descriptors: close once, `using`, and a garbage-collection backstop.
 *
 * @module
 */
import { readLink } from "./host_fs.ts";
import { effectiveCapabilities } from "./caps.ts";
import { ArgumentError, ClosedError, setCapabilityReader } from "./errors.ts";
import { pinFd, unpinPath } from "./pin.ts";
import { sys } from "./sys/mod.ts";

// Errors raised by objects name the capabilities the process holds (lib/errors.ts stays pure).
setCapabilityReader(effectiveCapabilities);

interface Held {
  fd: number;
}

const finalizer = new FinalizationRegistry<Held>((held) => {
  if (held.fd >= 0) {
    const fd = held.fd;
    held.fd = -1;
    try {
      sys().close(fd);
    } catch {
      // Nothing can be reported from a finalizer.
    }
  }
});

/**
 * One owned file descriptor. `close()` is idempotent and never closes a number twice (the kernel
 * may have given it to another object since); an `FdHandle` that is dropped without `close()` is
 * closed after garbage collection.
 *
 * @example
 * ```ts
 * import { BpfMap, u32 } from "@tsbpf/core";
 * import { FdHandle } from "./fd.ts";
 * import { openPinned, pinFd, unpinPath } from "./pin.ts";
 * using map = BpfMap.create({ type: "array", key: u32, value: u32, maxEntries: 1 });
 * const path = `/sys/fs/bpf/doc_fd_${Deno.pid}`;
 * pinFd(map.fd, path);
 * using h = new FdHandle(openPinned(path), "map"); // closed at the end of the scope
 * unpinPath(path);
 * ```
 */
export class FdHandle {
  #held: Held;
  #pinnedAt: string | undefined;
  /** What the descriptor refers to, for error messages: `"program"`, `"map"`, `"link"`… */
  readonly kind: string;

  /** Takes ownership of `fd`. */
  constructor(fd: number, kind: string) {
    if (!Number.isInteger(fd) || fd < 0) {
      throw new ArgumentError("fd", `invalid file descriptor ${fd}`);
    }
    this.#held = { fd };
    this.kind = kind;
    finalizer.register(this, this.#held, this);
  }

  /**
   * The descriptor number.
   *
   * @throws {Error} when the handle is closed.
   */
  get fd(): number {
    const fd = this.#held.fd;
    if (fd < 0) throw new ClosedError(this.kind, "fd");
    return fd;
  }

  /** Whether `close()` has run. */
  get closed(): boolean {
    return this.#held.fd < 0;
  }

  /** Pins the object at `path` in bpffs (`BPF_OBJ_PIN`) and remembers where. */
  pin(path: string): void {
    pinFd(this.fd, path);
    this.#pinnedAt = path;
  }

  /** Where {@link FdHandle.pin} last pinned the object, until unpinned. */
  get pinnedPath(): string | undefined {
    return this.#pinnedAt;
  }

  /**
   * Removes a pin: by default the one made through this handle.
   *
   * @throws {Error} when no path is given and this handle pinned nothing.
   */
  unpin(path: string | undefined = this.#pinnedAt): void {
    if (path === undefined) {
      throw new Error(`unpin(): this ${this.kind} was not pinned by this handle`);
    }
    unpinPath(path);
    if (path === this.#pinnedAt) this.#pinnedAt = undefined;
  }

  /** Closes the descriptor; later calls do nothing. */
  close(): void {
    const fd = this.#held.fd;
    if (fd < 0) return;
    this.#held.fd = -1;
    finalizer.unregister(this);
    sys().close(fd);
  }

  /** Closes the descriptor at the end of a `using` block. */
  [Symbol.dispose](): void {
    this.close();
  }
}

/**
 * What kind of BPF object an fd of this process refers to, from `/proc/self/fd`: `"prog"`,
 * `"map"`, `"link"`, `"btf"`, another anon-inode name, or `undefined` when it is not an
 * anonymous inode (or /proc cannot be read).
 *
 * @example
 * ```ts
 * import { asm, bpfObjectKind, Program } from "@tsbpf/core";
 * using prog = Program.load({ type: "xdp", insns: asm`r0 = 2\nexit`, license: "GPL" });
 * bpfObjectKind(prog.fd); // "prog"
 * ```
 */
export function bpfObjectKind(fd: number): string | undefined {
  let target: string;
  try {
    target = readLink(`/proc/self/fd/${fd}`);
  } catch {
    return undefined;
  }
  const m = /^anon_inode:\[?([^\]]+)\]?$/.exec(target);
  if (!m) return undefined;
  const name = m[1];
  switch (name) {
    case "bpf-prog":
      return "prog";
    case "bpf-map":
      return "map";
    case "bpf-link": // the kernel's name for link fds
    case "bpf_link":
      return "link";
    default:
      return name;
  }
}

/** The symbols that Node (and Bun) and Deno consult for a custom `console.log` rendering. */
export const INSPECT_SYMBOLS: readonly symbol[] = [
  Symbol.for("nodejs.util.inspect.custom"),
  Symbol.for("Deno.customInspect"),
];

/**
 * A one-line description of a kernel object handle for `console.log`:
 * `Program { id: 12, type: "xdp", name: "pass" }`, or `Program { closed }`.
 *
 * @example
 * ```ts
 * import { describeHandle } from "./fd.ts";
 * describeHandle("Program", () => ({ id: 12, type: "xdp" })); // 'Program { id: 12, type: "xdp" }'
 * ```
 */
export function describeHandle(
  kind: string,
  fields: () => Record<string, string | number | undefined> | undefined,
): string {
  let f: Record<string, string | number | undefined> | undefined;
  try {
    f = fields();
  } catch (e) {
    return `${kind} { ${(e as Error).message} }`;
  }
  if (f === undefined) return `${kind} { closed }`;
  const parts = Object.entries(f).filter(([, v]) => v !== undefined && v !== "").map((
    [k, v],
  ) => `${k}: ${typeof v === "string" ? JSON.stringify(v) : v}`);
  return `${kind} { ${parts.join(", ")} }`;
}
