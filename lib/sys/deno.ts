/**
 * The Deno backend: `Deno.dlopen` of libc, `syscall()` on the fast path.
 *
 * @module
 */
import type { Sys, SyscallNumbers } from "./types.ts";

const LIBC_SYMBOLS = {
  // bpf(cmd, attr, size): the fast path. `i64` number is passed as a bigint constant.
  syscall: { parameters: ["i64", "i32", "buffer", "u32"], result: "i32" },
  // bpf(cmd, attr, size) plus two buffers that the kernel ignores and the runtime keeps alive.
  syscallKeep: {
    name: "syscall",
    parameters: ["i64", "i32", "buffer", "u32", "buffer", "buffer"],
    result: "i32",
  },
  syscall6: {
    name: "syscall",
    parameters: ["i64", "i64", "i64", "i64", "i64", "i64", "i64"],
    result: "i64",
  },
  close: { parameters: ["i32"], result: "i32" },
  // epoll_wait(epfd, events, maxevents, timeout) on a worker thread: the event loop keeps running.
  epoll_wait: { parameters: ["i32", "buffer", "i32", "i32"], result: "i32", nonblocking: true },
  __errno_location: { parameters: [], result: "pointer" },
} as const;

/** How many events one `epoll_wait` may return; the caller only needs to know that one is ready. */
const EPOLL_EVENTS_MAX = 8;

/** A timeout in whole milliseconds for `epoll_wait`: finite, ≥ 0, at most 2^31 − 1. */
function waitMs(timeoutMs: number): number {
  if (!(timeoutMs >= 0) || !Number.isFinite(timeoutMs)) {
    throw new RangeError(`timeoutMs must be a finite number ≥ 0, got ${timeoutMs}`);
  }
  return Math.min(Math.ceil(timeoutMs), 0x7fffffff);
}

/**
 * Opens libc and returns the Deno implementation of {@link Sys}.
 *
 * @example
 * ```ts
 * import { createDenoSys } from "./deno.ts";
 * const s = createDenoSys({ bpf: 321 } as never);
 * ```
 */
export function createDenoSys(nr: SyscallNumbers): Sys {
  const lib = Deno.dlopen("libc.so.6", LIBC_SYMBOLS);
  const sym = lib.symbols;
  const errnoPointer = sym.__errno_location();
  if (errnoPointer === null) throw new Error("__errno_location() returned NULL");
  // errno of this thread, seen through a zero-copy Int32Array: reading it is a plain array read,
  // with no FFI call between the system call and the read.
  const errnoCell = new Int32Array(Deno.UnsafePointerView.getArrayBuffer(errnoPointer, 4));
  const bpfNr = BigInt(nr.bpf);
  const zero = 0n;
  return {
    runtime: "deno",
    nr,
    bpf(
      cmd: number,
      attr: Uint8Array,
      size: number,
      keepA?: Uint8Array,
      keepB?: Uint8Array,
    ): number {
      const r = keepA === undefined
        ? sym.syscall(bpfNr, cmd, attr as Uint8Array<ArrayBuffer>, size)
        : sym.syscallKeep(
          bpfNr,
          cmd,
          attr as Uint8Array<ArrayBuffer>,
          size,
          keepA as Uint8Array<ArrayBuffer>,
          (keepB ?? keepA) as Uint8Array<ArrayBuffer>,
        );
      if (r < 0) return -errnoCell[0];
      return r;
    },
    close(fd: number): number {
      const r = sym.close(fd);
      if (r < 0) return -errnoCell[0];
      return r;
    },
    syscall(n: number, ...args: bigint[]): bigint {
      const r = sym.syscall6(
        BigInt(n),
        args[0] ?? zero,
        args[1] ?? zero,
        args[2] ?? zero,
        args[3] ?? zero,
        args[4] ?? zero,
        args[5] ?? zero,
      );
      if (r === -1n) return -BigInt(errnoCell[0]);
      return r;
    },
    addressOf(buf: Uint8Array): bigint {
      if (buf.byteLength === 0) throw new RangeError("an empty buffer has no address to pass");
      const p = Deno.UnsafePointer.of(buf as Uint8Array<ArrayBuffer>);
      return BigInt(Deno.UnsafePointer.value(p));
    },
    view(address: bigint, length: number): ArrayBuffer {
      const p = Deno.UnsafePointer.create(address);
      if (p === null) throw new RangeError("cannot view memory at address 0");
      return Deno.UnsafePointerView.getArrayBuffer(p, length);
    },
    async epollWait(
      epfd: number,
      timeoutMs: number,
      ready?: () => boolean,
      events?: Uint8Array,
    ): Promise<number> {
      if (ready?.()) return 1;
      // Room for EPOLL_EVENTS_MAX events (16 bytes covers both the packed x86_64 layout and the
      // 16-byte aarch64 one). The call retains its argument's backing store until it settles.
      const buf = events ?? new Uint8Array(new ArrayBuffer(EPOLL_EVENTS_MAX * 16));
      const max = buf.byteLength >>> 4;
      if (max === 0) throw new RangeError("events must have room for one event (16 bytes)");
      const r = await sym.epoll_wait(
        epfd,
        buf as Uint8Array<ArrayBuffer>,
        max,
        waitMs(timeoutMs),
      );
      // errno belongs to the worker thread that ran the call: it cannot be read here.
      return r < 0 ? -1 : r;
    },
  };
}
