/**
 * The FFI boundary. {@link sys} returns the backend of the running runtime, opened on first use.
 *
 * @module
 */
import { createBunSys } from "./bun.ts";
import { createDenoSys } from "./deno.ts";
import { type Sys, SYSCALL_NUMBERS, type SyscallNumbers } from "./types.ts";

export type { Sys, SyscallNumbers } from "./types.ts";
export { SYSCALL_NUMBERS } from "./types.ts";
export { alloc, cString, pinnedCopy, readCString, retain } from "./memory.ts";

/**
 * Thrown by the first system call when no backend fits: a runtime other than Deno or Bun (Node),
 * an OS other than Linux, or an architecture without known syscall numbers.
 *
 * @example
 * ```ts
 * import { sys, UnsupportedPlatformError } from "./mod.ts";
 * try { sys(); } catch (e) { if (e instanceof UnsupportedPlatformError) console.log(e.message); }
 * ```
 */
export class UnsupportedPlatformError extends Error {
  /** Creates the error with a reason. */
  constructor(reason: string) {
    super(`tsbpf cannot call bpf(2) here: ${reason}`);
    this.name = "UnsupportedPlatformError";
  }
}

let backend: Sys | undefined;

/** The globals that decide which backend serves this process. */
export interface RuntimeGlobals {
  /** Deno's namespace, when running in Deno. */
  Deno?: { build: { os: string; arch: string } };
  /** Bun's namespace, when running in Bun. */
  Bun?: unknown;
  /** Node-compatible `process`, present in Bun (and Node). */
  process?: { platform: string; arch: string };
}

/** Which backend {@link selectBackend} picked, and for which syscall numbers. */
export interface BackendChoice {
  /** `"deno"` or `"bun"`. */
  runtime: "deno" | "bun";
  /** Syscall numbers of the architecture. */
  nr: SyscallNumbers;
}

/**
 * Decides which backend fits the given runtime globals, without opening anything.
 *
 * @throws {UnsupportedPlatformError} outside Deno and Bun, off Linux, or on an unknown
 *   architecture.
 * @example
 * ```ts
 * import { selectBackend } from "./mod.ts";
 * selectBackend({ Deno: { build: { os: "linux", arch: "x86_64" } } }).nr.bpf; // 321
 * ```
 */
export function selectBackend(g: RuntimeGlobals): BackendChoice {
  let os: string;
  let arch: string;
  let runtime: "deno" | "bun";
  if (g.Bun !== undefined && g.process) {
    runtime = "bun";
    os = g.process.platform;
    arch = g.process.arch === "x64"
      ? "x86_64"
      : g.process.arch === "arm64"
      ? "aarch64"
      : g.process.arch;
  } else if (g.Deno !== undefined) {
    runtime = "deno";
    os = g.Deno.build.os;
    arch = g.Deno.build.arch;
  } else {
    throw new UnsupportedPlatformError(
      "this runtime has no FFI that tsbpf supports (use Deno with --allow-ffi, or Bun)",
    );
  }
  if (os !== "linux") throw new UnsupportedPlatformError(`bpf(2) exists only on Linux, not ${os}`);
  if (arch !== "x86_64" && arch !== "aarch64") {
    throw new UnsupportedPlatformError(`no syscall numbers for architecture ${arch}`);
  }
  return { runtime, nr: SYSCALL_NUMBERS[arch] };
}

function detect(): Sys {
  const { runtime, nr } = selectBackend(globalThis as RuntimeGlobals);
  return runtime === "bun" ? createBunSys(nr) : createDenoSys(nr);
}

/**
 * The system-call backend of this runtime, chosen and opened on first use.
 *
 * @throws {UnsupportedPlatformError} outside Deno and Bun, or off Linux.
 * @example
 * ```ts
 * import { sys } from "./mod.ts";
 * console.log(sys().runtime); // "deno" or "bun"
 * ```
 */
export function sys(): Sys {
  return backend ??= detect();
}

/**
 * Test seam: runs `fn` with `fake` as the backend that {@link sys} returns, then restores the
 * previous one (after the promise settles, when `fn` is async). Used by the fault-injection tests
 * (`tests/sys_faults.test.ts`) to make chosen calls fail; not for production code. Objects
 * created inside keep calling through {@link sys}, so they see the fake only while it is set.
 *
 * @example
 * ```ts
 * import { sys, withSys } from "./mod.ts";
 * const real = sys();
 * const fake = { ...real, runtime: real.runtime, nr: real.nr, bpf: () => -1 };
 * withSys(fake, () => sys().bpf(0, new Uint8Array(8), 8)); // -1 (EPERM)
 * ```
 */
export function withSys<T>(fake: Sys, fn: () => T): T {
  const prev = backend;
  backend = fake;
  let result: T;
  try {
    result = fn();
  } catch (e) {
    backend = prev;
    throw e;
  }
  if (result instanceof Promise) {
    return result.finally(() => {
      backend = prev;
    }) as T;
  }
  backend = prev;
  return result;
}
