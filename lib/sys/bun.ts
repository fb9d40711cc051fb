/**
 * The Bun backend: `bun:ffi` `dlopen` of libc, `syscall()` on the fast path.
 *
 * @module
 */
import type * as BunFfi from "bun:ffi";
import type { Sys, SyscallNumbers } from "./types.ts";

/** How many events one `epoll_pwait` may return; the caller only needs to know that one is ready. */
const EPOLL_EVENTS_MAX = 8;
/** How often {@link Sys.epollWait} polls in Bun, which has no nonblocking FFI calls. */
const POLL_INTERVAL_MS = 2;

/**
 * Opens libc and returns the Bun implementation of {@link Sys}.
 *
 * @example
 * ```ts
 * import { createBunSys } from "./bun.ts";
 * const s = createBunSys({ bpf: 321 } as never);
 * ```
 */
export function createBunSys(nr: SyscallNumbers): Sys {
  // `bun:ffi` is loaded here, at first use, so that this module imports in every runtime.
  const ffi = (import.meta as unknown as { require(id: string): unknown }).require(
    "bun:ffi",
  ) as typeof BunFfi;
  const { FFIType } = ffi;
  const lib = ffi.dlopen("libc.so.6", {
    syscall: {
      args: [FFIType.i64, FFIType.i32, FFIType.ptr, FFIType.u32],
      returns: FFIType.i32,
    },
    close: { args: [FFIType.i32], returns: FFIType.i32 },
    __errno_location: { args: [], returns: FFIType.ptr },
  });
  // More handles of libc, so that syscall() can have other signatures (bun:ffi binds one
  // signature per symbol name and handle).
  // bpf(cmd, attr, size) plus two buffers that the kernel ignores and the runtime keeps alive:
  const libKeep = ffi.dlopen("libc.so.6", {
    syscall: {
      args: [FFIType.i64, FFIType.i32, FFIType.ptr, FFIType.u32, FFIType.ptr, FFIType.ptr],
      returns: FFIType.i32,
    },
  });
  // The generic six-argument call:
  const lib6 = ffi.dlopen("libc.so.6", {
    syscall: {
      args: [
        FFIType.i64,
        FFIType.i64,
        FFIType.i64,
        FFIType.i64,
        FFIType.i64,
        FFIType.i64,
        FFIType.i64,
      ],
      returns: FFIType.i64,
    },
  });
  const sym = lib.symbols;
  const syscall6 = lib6.symbols.syscall;
  const syscallKeep = libKeep.symbols.syscall;
  const errnoAddress = sym.__errno_location();
  if (errnoAddress === null) throw new Error("__errno_location() returned NULL");
  // errno of this thread, seen through a zero-copy Int32Array: reading it is a plain array read.
  const errnoCell = new Int32Array(ffi.toArrayBuffer(errnoAddress, 0, 4));
  const bpfNr = nr.bpf;
  const epollPwaitNr = BigInt(nr.epoll_pwait);
  // One events buffer for every wait, referenced by epollWait() so that it lives as long as this
  // backend: the kernel writes it during the synchronous call only, and nothing reads it after.
  const events = new Uint8Array(new ArrayBuffer(EPOLL_EVENTS_MAX * 16));
  void events.buffer;
  const eventsAddress = BigInt(ffi.ptr(events));
  return {
    runtime: "bun",
    nr,
    bpf(
      cmd: number,
      attr: Uint8Array,
      size: number,
      keepA?: Uint8Array,
      keepB?: Uint8Array,
    ): number {
      const r = keepA === undefined
        ? sym.syscall(bpfNr, cmd, attr, size)
        : syscallKeep(bpfNr, cmd, attr, size, keepA, keepB ?? keepA);
      if (r < 0) return -errnoCell[0];
      return r;
    },
    close(fd: number): number {
      const r = sym.close(fd);
      if (r < 0) return -errnoCell[0];
      return r;
    },
    syscall(n: number, ...args: bigint[]): bigint {
      const r = BigInt(
        syscall6(
          BigInt(n),
          args[0] ?? 0n,
          args[1] ?? 0n,
          args[2] ?? 0n,
          args[3] ?? 0n,
          args[4] ?? 0n,
          args[5] ?? 0n,
        ),
      );
      if (r === -1n) return -BigInt(errnoCell[0]);
      return r;
    },
    addressOf(buf: Uint8Array): bigint {
      // bun:ffi has no address for empty memory; nothing may be read or written there anyway.
      if (buf.byteLength === 0) throw new RangeError("an empty buffer has no address to pass");
      // Reading `.buffer` first moves inline storage out of the object for good.
      void buf.buffer;
      return BigInt(ffi.ptr(buf));
    },
    view(address: bigint, length: number): ArrayBuffer {
      return ffi.toArrayBuffer(Number(address) as BunFfi.Pointer, 0, length);
    },
    async epollWait(
      epfd: number,
      timeoutMs: number,
      ready?: () => boolean,
      out?: Uint8Array,
    ): Promise<number> {
      if (!(timeoutMs >= 0) || !Number.isFinite(timeoutMs)) {
        throw new RangeError(`timeoutMs must be a finite number ≥ 0, got ${timeoutMs}`);
      }
      if (out !== undefined && out.byteLength < 16) {
        throw new RangeError("events must have room for one event (16 bytes)");
      }
      // The caller keeps `out` referenced until this settles; read `.buffer` first so that its
      // storage cannot move (see addressOf).
      if (out !== undefined) void out.buffer;
      const address = out === undefined ? eventsAddress : BigInt(ffi.ptr(out));
      const max = BigInt((out ?? events).byteLength >>> 4);
      const deadline = performance.now() + timeoutMs;
      for (;;) {
        if (ready?.()) return 1;
        // epoll_pwait(epfd, events, max, timeout 0, sigmask NULL, sigsetsize 0): never blocks.
        const r = Number(syscall6(
          epollPwaitNr,
          BigInt(epfd),
          address,
          max,
          0n,
          0n,
          0n,
        ));
        if (r !== 0) return r === -1 ? -errnoCell[0] : r;
        const left = deadline - performance.now();
        if (left <= 0) return 0;
        await new Promise((resolve) => setTimeout(resolve, Math.min(POLL_INTERVAL_MS, left)));
      }
    },
  };
}
