/**
 * The fault-injection seam for tests: a `Sys` that fails chosen calls (EINTR, EAGAIN, ENOMEM, EPERM,
 * EMFILE) and passes the rest to the real kernel, and a census of this process's kernel objects
 * (anon-inode fds by kind, BPF map mappings) to show that a failed call released everything.
 */
import assert from "node:assert/strict";
import { Errno } from "../types/errno.ts";
import { sys, withSys } from "../lib/sys/mod.ts";
import type { Sys } from "../lib/sys/types.ts";
import { fdsOpenedSince, openFds } from "./util.ts";
import { bpfMapMappings, mappingsSince } from "./ringbuf_helpers.ts";

/** One injected failure: which calls it hits and what they return instead. */
export interface Fault {
  /** A bpf(2) command, or… */
  cmd?: number;
  /** …a system call number (`sys().nr.mmap`). */
  nr?: number;
  /** The first matching call that fails (1-based; default 1). */
  nth?: number;
  /** How many matching calls in a row fail from there (default 1; `Infinity` for all). */
  times?: number;
  /** The errno returned (as `-errno`). */
  errno: number;
}

/** A backend that fails the calls `faults` select and passes the rest to `real`. */
export function faultySys(real: Sys, faults: Fault[]): Sys & { calls: Map<number, number> } {
  const seen = new Map<Fault, number>();
  const calls = new Map<number, number>();
  const hit = (match: (f: Fault) => boolean): Fault | undefined => {
    for (const f of faults) {
      if (!match(f)) continue;
      const n = (seen.get(f) ?? 0) + 1;
      seen.set(f, n);
      const first = f.nth ?? 1;
      if (n >= first && n < first + (f.times ?? 1)) return f;
    }
    return undefined;
  };
  return {
    runtime: real.runtime,
    nr: real.nr,
    calls,
    bpf(cmd, attr, size, keepA, keepB) {
      calls.set(cmd, (calls.get(cmd) ?? 0) + 1);
      const f = hit((f) => f.cmd === cmd);
      return f ? -f.errno : real.bpf(cmd, attr, size, keepA, keepB);
    },
    close: (fd) => real.close(fd),
    syscall(nr, ...args) {
      const f = hit((f) => f.nr === nr);
      return f ? BigInt(-f.errno) : real.syscall(nr, ...args);
    },
    addressOf: (buf) => real.addressOf(buf),
    view: (address, length) => real.view(address, length),
    epollWait: (epfd, timeoutMs, ready, events) => real.epollWait(epfd, timeoutMs, ready, events),
  };
}

/** Runs `fn` with the faults injected; returns the fake to inspect its call counts. */
export function inject<T>(faults: Fault[], fn: () => T): { result: T; calls: Map<number, number> } {
  const fake = faultySys(sys(), faults);
  return { result: withSys(fake, fn), calls: fake.calls };
}

export const FAILURES: readonly [number, number, number] = [
  Errno.ENOMEM,
  Errno.EPERM,
  Errno.EMFILE,
] as const;

/** A snapshot of this process's fds and BPF map mappings, for {@link assertReleased}. */
export interface Resources {
  fds: Set<string>;
  mappings: Set<string>;
}

/** A snapshot of this process's open fds and BPF map mappings, taken before a faulted call. */
export function resources(): Resources {
  return { fds: openFds(), mappings: bpfMapMappings() };
}

/**
 * This process's kernel-object fds (`anon_inode:` bpf-prog, bpf-map, bpf_link, btf, eventpoll,
 * perf_event…) opened since `before` and still open, and BPF map mappings made since and still
 * mapped: both must be empty after a failed call. Plain file and socket fds are left out: the
 * runtimes open and close their own at any time. Sets, not counts: under Bun another test
 * file's finalizer may close its objects meanwhile.
 */
export function leftOpen(before: Resources): { fds: string[]; mappings: string[] } {
  return {
    fds: fdsOpenedSince(before.fds, /^anon_inode:/),
    mappings: mappingsSince(before.mappings),
  };
}

/** Asserts that nothing {@link leftOpen} reports is open or mapped. */
export function assertReleased(before: Resources, label = "nothing left open"): void {
  assert.deepEqual(leftOpen(before), { fds: [], mappings: [] }, label);
}
