/**
 * Helpers of the map tests: kernel objects to put in fd-valued maps and to key local storage
 * (sockets, files, pidfds, cgroups, perf events), through raw system calls so that the fds are
 * real in both runtimes (Deno's node:fs hands out resource ids, not fds).
 */
import { BpfCmd } from "../types/cmd.ts";
import { alloc, cString, retain } from "../lib/sys/memory.ts";
import { sys } from "../lib/sys/mod.ts";

function check(what: string, r: bigint): number {
  if (r < 0n) throw new Error(`${what} failed: errno ${-r}`);
  return Number(r);
}

const AF_UNIX = 1n;
const AF_INET = 2n;
const SOCK_STREAM = 1n;
const SOCK_DGRAM = 2n;
const SOCK_CLOEXEC = 0o2000000n;
const O_RDONLY = 0n;
const O_DIRECTORY = 0o200000n;
const O_CLOEXEC = 0o2000000n;
const AT_FDCWD = BigInt.asUintN(64, -100n);
const SOL_SOCKET = 1n;
const SO_REUSEPORT = 15n;

/** A connected pair of unix stream sockets. */
export function unixSocketPair(type: "stream" | "dgram" = "stream"): [number, number] {
  const s = sys();
  const fds = alloc(8);
  const r = s.syscall(
    sys().nr.socketpair,
    AF_UNIX,
    (type === "stream" ? SOCK_STREAM : SOCK_DGRAM) | SOCK_CLOEXEC,
    0n,
    s.addressOf(fds),
  );
  retain(fds);
  check("socketpair", r);
  const v = new DataView(fds.buffer);
  return [v.getInt32(0, true), v.getInt32(4, true)];
}

/** An unbound UDP socket. */
export function udpSocket(): number {
  const s = sys();
  return check("socket", s.syscall(s.nr.socket, AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0n));
}

/** A TCP socket with SO_REUSEPORT, bound to 127.0.0.1 on an ephemeral port and listening. */
export function reuseportListener(): number {
  const s = sys();
  const fd = check("socket", s.syscall(s.nr.socket, AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0n));
  try {
    const one = alloc(4);
    new DataView(one.buffer).setInt32(0, 1, true);
    check(
      "setsockopt",
      s.syscall(s.nr.setsockopt, BigInt(fd), SOL_SOCKET, SO_REUSEPORT, s.addressOf(one), 4n),
    );
    const addr = alloc(16); // struct sockaddr_in: family, port 0, 127.0.0.1
    const v = new DataView(addr.buffer);
    v.setUint16(0, 2, true);
    v.setUint32(4, 0x7f000001, false);
    check("bind", s.syscall(s.nr.bind, BigInt(fd), s.addressOf(addr), 16n));
    check("listen", s.syscall(s.nr.listen, BigInt(fd), 8n));
    retain(one, addr);
    return fd;
  } catch (e) {
    s.close(fd);
    throw e;
  }
}

/** Opens a path read-only (a directory with `directory`), returning a real fd. */
export function openPath(path: string, directory = false): number {
  const s = sys();
  const p = cString(path);
  const r = s.syscall(
    s.nr.openat,
    AT_FDCWD,
    s.addressOf(p),
    O_RDONLY | O_CLOEXEC | (directory ? O_DIRECTORY : 0n),
  );
  retain(p);
  return check(`open ${path}`, r);
}

/** A pidfd of this process. */
export function selfPidfd(): number {
  const s = sys();
  const pid = s.syscall(s.nr.getpid);
  return check("pidfd_open", s.syscall(s.nr.pidfd_open, pid, 0n));
}

/** A cgroup v2 directory fd (the unified hierarchy), or undefined when none is mounted. */
export function cgroupFd(): number | undefined {
  for (const path of ["/sys/fs/cgroup/unified", "/sys/fs/cgroup"]) {
    try {
      const fd = openPath(path, true);
      return fd;
    } catch {
      // try the next
    }
  }
  return undefined;
}

/** A `PERF_COUNT_SW_BPF_OUTPUT` software event on CPU `cpu`, for perf event arrays. */
export function bpfOutputEvent(cpu = 0): number {
  const s = sys();
  const attr = alloc(128); // struct perf_event_attr, PERF_ATTR_SIZE_VER7
  const v = new DataView(attr.buffer);
  v.setUint32(0, 1, true); // type = PERF_TYPE_SOFTWARE
  v.setUint32(4, 128, true); // size
  v.setBigUint64(8, 10n, true); // config = PERF_COUNT_SW_BPF_OUTPUT
  v.setBigUint64(16, 1n, true); // sample_period
  v.setBigUint64(24, 1n << 10n, true); // sample_type = PERF_SAMPLE_RAW
  const r = s.syscall(
    s.nr.perf_event_open,
    s.addressOf(attr),
    BigInt.asUintN(64, -1n), // pid -1: any task on that CPU
    BigInt(cpu),
    BigInt.asUintN(64, -1n), // no group
    8n, // PERF_FLAG_FD_CLOEXEC
  );
  retain(attr);
  return check("perf_event_open", r);
}

/** Closes fds opened by these helpers. */
export function closeFds(...fds: (number | undefined)[]): void {
  for (const fd of fds) if (fd !== undefined && fd >= 0) sys().close(fd);
}

/** Ids of all maps in the kernel. */
export function mapIds(): Set<number> {
  const s = sys();
  const attr = alloc(16);
  const v = new DataView(attr.buffer);
  const ids = new Set<number>();
  let start = 0;
  for (;;) {
    v.setUint32(0, start, true);
    const r = s.bpf(BpfCmd.MAP_GET_NEXT_ID, attr, 8);
    if (r < 0) return ids;
    start = v.getUint32(4, true);
    ids.add(start);
  }
}

/**
 * Small valid creation options for every standalone map type (sizes only; `array_of_maps` and
 * `hash_of_maps` get `innerMap` from the caller).
 */
export const CREATE_PARAMS: Record<string, Record<string, number>> = {
  hash: { keySize: 4, valueSize: 8, maxEntries: 4 },
  array: { valueSize: 8, maxEntries: 4 },
  prog_array: { maxEntries: 4 },
  perf_event_array: { maxEntries: 2 },
  percpu_hash: { keySize: 4, valueSize: 8, maxEntries: 4 },
  percpu_array: { valueSize: 8, maxEntries: 4 },
  stack_trace: { valueSize: 64, maxEntries: 4 },
  cgroup_array: { maxEntries: 4 },
  lru_hash: { keySize: 4, valueSize: 8, maxEntries: 4 },
  lru_percpu_hash: { keySize: 4, valueSize: 8, maxEntries: 4 },
  lpm_trie: { keySize: 8, valueSize: 8, maxEntries: 4 },
  array_of_maps: { maxEntries: 4 },
  hash_of_maps: { keySize: 4, maxEntries: 4 },
  devmap: { maxEntries: 4 },
  sockmap: { maxEntries: 4 },
  cpumap: { maxEntries: 2 },
  xskmap: { maxEntries: 4 },
  sockhash: { keySize: 4, maxEntries: 4 },
  reuseport_sockarray: { maxEntries: 4 },
  queue: { valueSize: 4, maxEntries: 4 },
  stack: { valueSize: 4, maxEntries: 4 },
  sk_storage: { valueSize: 8 },
  devmap_hash: { maxEntries: 4 },
  ringbuf: { maxEntries: 4096 },
  inode_storage: { valueSize: 8 },
  task_storage: { valueSize: 8 },
  bloom_filter: { valueSize: 4, maxEntries: 16 },
  user_ringbuf: { maxEntries: 4096 },
  cgrp_storage: { valueSize: 8 },
  arena: { maxEntries: 1 },
};
