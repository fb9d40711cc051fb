/**
 * Constants of the Linux system calls that tsbpf makes besides bpf(2) — `perf_event_open(2)`,
 * `setsockopt(2)`, `openat(2)` — from the uapi headers (`linux/perf_event.h`,
 * `asm-generic/socket.h`, `asm-generic/fcntl.h`; the same values on x86_64 and aarch64).
 *
 * @module
 */

/**
 * `perf_event_attr.type` (`enum perf_type_id`).
 *
 * @example
 * ```ts
 * import { PerfType } from "@tsbpf/core/types";
 * PerfType.TRACEPOINT; // 2
 * ```
 */
export const PerfType = {
  /** `PERF_TYPE_HARDWARE`. */
  HARDWARE: 0,
  /** `PERF_TYPE_SOFTWARE`. */
  SOFTWARE: 1,
  /** `PERF_TYPE_TRACEPOINT`. */
  TRACEPOINT: 2,
  /** `PERF_TYPE_HW_CACHE`. */
  HW_CACHE: 3,
  /** `PERF_TYPE_RAW`. */
  RAW: 4,
  /** `PERF_TYPE_BREAKPOINT`. */
  BREAKPOINT: 5,
} as const;

/**
 * `flags` of `perf_event_open(2)` (`PERF_FLAG_*`).
 *
 * @example
 * ```ts
 * import { PerfFlag } from "@tsbpf/core/types";
 * PerfFlag.FD_CLOEXEC; // 8
 * ```
 */
export const PerfFlag = {
  /** `PERF_FLAG_FD_NO_GROUP`. */
  FD_NO_GROUP: 1,
  /** `PERF_FLAG_FD_OUTPUT`. */
  FD_OUTPUT: 2,
  /** `PERF_FLAG_PID_CGROUP`. */
  PID_CGROUP: 4,
  /** `PERF_FLAG_FD_CLOEXEC`. */
  FD_CLOEXEC: 8,
} as const;

/**
 * Socket option levels and names for attaching BPF to sockets with `setsockopt(2)`.
 *
 * @example
 * ```ts
 * import { SocketOption } from "@tsbpf/core/types";
 * SocketOption.SO_ATTACH_BPF; // 50
 * ```
 */
export const SocketOption = {
  /** `SOL_SOCKET`: the socket level. */
  SOL_SOCKET: 1,
  /** `SO_ATTACH_BPF`: attach a `socket_filter` program by fd. */
  SO_ATTACH_BPF: 50,
  /** `SO_DETACH_BPF` (= `SO_DETACH_FILTER`). */
  SO_DETACH_BPF: 27,
} as const;

/**
 * `flags` of `openat(2)` (`O_*`) that tsbpf uses.
 *
 * @example
 * ```ts
 * import { OpenFlag } from "@tsbpf/core/types";
 * OpenFlag.RDONLY | OpenFlag.CLOEXEC; // 0x80000
 * ```
 */
export const OpenFlag = {
  /** `O_RDONLY`. */
  RDONLY: 0,
  /** `O_CLOEXEC`. */
  CLOEXEC: 0x80000,
} as const;

/**
 * `prot` and `flags` of `mmap(2)` that tsbpf uses (`PROT_*`, `MAP_*`).
 *
 * @example
 * ```ts
 * import { MmapFlag } from "@tsbpf/core/types";
 * MmapFlag.PROT_READ | MmapFlag.PROT_WRITE; // 3
 * ```
 */
export const MmapFlag = {
  /** `PROT_READ`. */
  PROT_READ: 1,
  /** `PROT_WRITE`. */
  PROT_WRITE: 2,
  /** `MAP_SHARED`. */
  MAP_SHARED: 1,
  /** `MAP_PRIVATE`. */
  MAP_PRIVATE: 2,
} as const;

/**
 * `epoll_create1(2)` flags, `epoll_ctl(2)` operations and event bits (`EPOLL*`).
 *
 * @example
 * ```ts
 * import { Epoll } from "@tsbpf/core/types";
 * Epoll.CTL_ADD; // 1
 * ```
 */
export const Epoll = {
  /** `EPOLL_CLOEXEC` (= `O_CLOEXEC`). */
  CLOEXEC: 0x80000,
  /** `EPOLL_CTL_ADD`. */
  CTL_ADD: 1,
  /** `EPOLL_CTL_DEL`. */
  CTL_DEL: 2,
  /** `EPOLL_CTL_MOD`. */
  CTL_MOD: 3,
  /** `EPOLLIN`. */
  IN: 1,
  /** `EPOLLONESHOT`. */
  ONESHOT: 0x40000000,
} as const;

/**
 * `socket(2)`/`socketpair(2)` domain and type bits and `send(2)` flags that tsbpf uses.
 *
 * @example
 * ```ts
 * import { SocketFlag } from "@tsbpf/core/types";
 * SocketFlag.SOCK_STREAM | SocketFlag.SOCK_NONBLOCK | SocketFlag.SOCK_CLOEXEC; // 0x80801
 * ```
 */
export const SocketFlag = {
  /** `AF_UNIX`. */
  AF_UNIX: 1,
  /** `SOCK_STREAM`. */
  SOCK_STREAM: 1,
  /** `SOCK_NONBLOCK` (= `O_NONBLOCK`). */
  SOCK_NONBLOCK: 0x800,
  /** `SOCK_CLOEXEC` (= `O_CLOEXEC`). */
  SOCK_CLOEXEC: 0x80000,
  /** `MSG_DONTWAIT`. */
  MSG_DONTWAIT: 0x40,
} as const;

/**
 * Entry types of the auxiliary vector (`/proc/self/auxv`, `linux/auxvec.h`).
 *
 * @example
 * ```ts
 * import { AuxvType } from "@tsbpf/core/types";
 * AuxvType.PAGESZ; // 6
 * ```
 */
export const AuxvType = {
  /** `AT_PAGESZ`: the system page size. */
  PAGESZ: 6,
} as const;
