/**
 * The system-call interface that every FFI backend implements. Nothing outside `lib/sys/` calls
 * FFI; everything above goes through {@link Sys}.
 *
 * @module
 */

/**
 * A runtime's bridge to the kernel: `bpf(2)` on the fast path, a few other system calls, and
 * access to memory the kernel maps into the process.
 *
 * Results are never thrown: a failed call returns the negated errno, read on the line after the
 * call so that nothing can overwrite it.
 *
 * @example
 * ```ts
 * import { sys } from "./mod.ts";
 * const r = sys().bpf(99, new Uint8Array(8), 8); // an unknown command
 * r < 0; // true: -EINVAL
 * ```
 */
export interface Sys {
  /** Which runtime the backend serves. */
  readonly runtime: "deno" | "bun";
  /**
   * Calls `bpf(cmd, attr, size)`. Returns the result (≥ 0) or `-errno`.
   *
   * Every buffer whose address is stored inside `attr` must come from `alloc()` and stay alive
   * until this returns: pass it (or a view of the same `ArrayBuffer`) as `keepA`/`keepB`, which
   * the runtime holds for the duration of the call and the kernel ignores, unless a long-lived
   * object owns it.
   */
  bpf(cmd: number, attr: Uint8Array, size: number, keepA?: Uint8Array, keepB?: Uint8Array): number;
  /** Closes a file descriptor. Returns 0 or `-errno`. */
  close(fd: number): number;
  /**
   * A general system call with up to six integer or address arguments. Returns the result, or
   * `-errno` as a negative bigint.
   */
  syscall(nr: number, ...args: bigint[]): bigint;
  /** The address of the first byte of `buf`. The buffer must come from {@link alloc}. */
  addressOf(buf: Uint8Array): bigint;
  /** A zero-copy `ArrayBuffer` over `length` bytes of process memory at `address`. */
  view(address: bigint, length: number): ArrayBuffer;
  /**
   * Waits until the epoll instance `epfd` has a ready event or `timeoutMs` milliseconds pass,
   * without blocking the event loop (timers and I/O keep running). Resolves to the number of ready
   * events (0 on timeout), or a negative errno; `-1` when the runtime cannot tell which errno.
   *
   * - Deno: `epoll_wait` declared `nonblocking`, run on a worker thread. Its errno is lost there,
   *   so every failure (EINTR included) resolves to `-1`.
   * - Bun (no nonblocking FFI): a timer loop that calls `ready()` (when given) and then
   *   `epoll_pwait(epfd, …, 0)` every 2 ms until an event or the deadline; the latency is at
   *   most that interval.
   *
   * `ready` is a cheap user-space check (for a ring buffer, `producer_pos !== consumer_pos`):
   * when it returns true the wait resolves to 1 without a system call. `timeoutMs` must be a
   * finite number ≥ 0; callers wait longer by calling again.
   *
   * `events`, when given (from `alloc()`, kept referenced by the caller until the promise
   * settles), receives the ready `struct epoll_event`s: room for `byteLength / 16` of them, 12
   * bytes each on x86_64 (packed) and 16 on aarch64. Without it the events are discarded.
   */
  epollWait(
    epfd: number,
    timeoutMs: number,
    ready?: () => boolean,
    events?: Uint8Array,
  ): Promise<number>;
  /** System call numbers of this machine. */
  readonly nr: SyscallNumbers;
}

/** System call numbers that tsbpf uses, for the running architecture. */
export interface SyscallNumbers {
  /** `bpf(2)`. */
  readonly bpf: number;
  /** `close(2)`. */
  readonly close: number;
  /** `mmap(2)`. */
  readonly mmap: number;
  /** `munmap(2)`. */
  readonly munmap: number;
  /** `ioctl(2)`. */
  readonly ioctl: number;
  /** `socket(2)`. */
  readonly socket: number;
  /** `setsockopt(2)`. */
  readonly setsockopt: number;
  /** `perf_event_open(2)`. */
  readonly perf_event_open: number;
  /** `epoll_create1(2)`. */
  readonly epoll_create1: number;
  /** `epoll_ctl(2)`. */
  readonly epoll_ctl: number;
  /** `epoll_pwait(2)`. */
  readonly epoll_pwait: number;
  /** `mount(2)`. */
  readonly mount: number;
  /** `sched_setaffinity(2)`. */
  readonly sched_setaffinity: number;
  /** `sched_getaffinity(2)`. */
  readonly sched_getaffinity: number;
  /** `getpid(2)`. */
  readonly getpid: number;
  /** `openat(2)`. */
  readonly openat: number;
  /** `read(2)`. */
  readonly read: number;
  /** `bind(2)`. */
  readonly bind: number;
  /** `sendto(2)`. */
  readonly sendto: number;
  /** `recvfrom(2)`. */
  readonly recvfrom: number;
  /** `socketpair(2)`. */
  readonly socketpair: number;
  /** `listen(2)`. */
  readonly listen: number;
  /** `pidfd_open(2)`. */
  readonly pidfd_open: number;
  /** `capget(2)`. */
  readonly capget: number;
  /** `capset(2)`. */
  readonly capset: number;
  /** `prlimit64(2)`. */
  readonly prlimit64: number;
  /** `connect(2)`. */
  readonly connect: number;
  /** `accept4(2)`. */
  readonly accept4: number;
  /** `getsockname(2)`. */
  readonly getsockname: number;
  /** `fsopen(2)`. */
  readonly fsopen: number;
  /** `fsconfig(2)`. */
  readonly fsconfig: number;
  /** `fsmount(2)`. */
  readonly fsmount: number;
  /** `pidfd_getfd(2)`. */
  readonly pidfd_getfd: number;
}

/** The system call numbers of x86_64 and aarch64 Linux. */
export const SYSCALL_NUMBERS: Readonly<Record<"x86_64" | "aarch64", SyscallNumbers>> = {
  x86_64: {
    bpf: 321,
    close: 3,
    mmap: 9,
    munmap: 11,
    ioctl: 16,
    socket: 41,
    setsockopt: 54,
    perf_event_open: 298,
    epoll_create1: 291,
    epoll_ctl: 233,
    epoll_pwait: 281,
    mount: 165,
    sched_setaffinity: 203,
    sched_getaffinity: 204,
    getpid: 39,
    openat: 257,
    read: 0,
    bind: 49,
    sendto: 44,
    recvfrom: 45,
    socketpair: 53,
    listen: 50,
    pidfd_open: 434,
    capget: 125,
    capset: 126,
    prlimit64: 302,
    connect: 42,
    accept4: 288,
    getsockname: 51,
    fsopen: 430,
    fsconfig: 431,
    fsmount: 432,
    pidfd_getfd: 438,
  },
  aarch64: {
    bpf: 280,
    close: 57,
    mmap: 222,
    munmap: 215,
    ioctl: 29,
    socket: 198,
    setsockopt: 208,
    perf_event_open: 241,
    epoll_create1: 20,
    epoll_ctl: 21,
    epoll_pwait: 22,
    mount: 40,
    sched_setaffinity: 122,
    sched_getaffinity: 123,
    getpid: 172,
    openat: 56,
    read: 63,
    bind: 200,
    sendto: 206,
    recvfrom: 207,
    socketpair: 199,
    listen: 201,
    pidfd_open: 434,
    capget: 90,
    capset: 91,
    prlimit64: 261,
    connect: 203,
    accept4: 242,
    getsockname: 204,
    fsopen: 430,
    fsconfig: 431,
    fsmount: 432,
    pidfd_getfd: 438,
  },
};
