/**
 * The process-wide waiter of the ring buffers: ONE shared epoll instance and at most one wait in
 * flight, however many rings wait.
 *
 * Every {@link RingBuffer} owns a small epoll instance watching its map fd (see `epollWatch` in
 * `mmap.ts`). The first time it waits, that fd (not the map fd: the caller may close the map fd
 * while the ring lives on, and then it could no longer be removed) is added to the shared epoll
 * instance, with the ring's id in `epoll_event.data`, `EPOLLIN | EPOLLONESHOT`; every later wait
 * re-arms it with `EPOLL_CTL_MOD`. One wait on the shared instance serves all rings:
 *
 * - Deno: one nonblocking `epoll_wait` (a worker thread), re-issued while anyone waits. A
 *   socketpair in the same set interrupts it when nobody waits any more or the instance has to
 *   close, so that no call stays pending and the process can exit.
 * - Bun (no nonblocking FFI): one timer that calls `epoll_pwait(…, 0)`, every 1 ms after activity
 *   and backing off to 16 ms while idle.
 *
 * Per-wait deadlines are JavaScript timers. The shared instance exists while some ring is in it
 * and is closed when the last one leaves, but never while a call on it is in flight: then the
 * close waits until that call settles.
 *
 * @module
 */
import { BpfError } from "../errors.ts";
import { alloc, retain } from "../sys/memory.ts";
import { sys } from "../sys/mod.ts";
import { SYSCALL_NUMBERS } from "../sys/types.ts";
import { Epoll, SocketFlag } from "../../types/os.ts";

const EPOLL_CLOEXEC = BigInt(Epoll.CLOEXEC);
const EPOLL_CTL_ADD = BigInt(Epoll.CTL_ADD);
const EPOLL_CTL_DEL = BigInt(Epoll.CTL_DEL);
const EPOLL_CTL_MOD = BigInt(Epoll.CTL_MOD);
const EPOLLIN = Epoll.IN;
const EPOLLONESHOT = Epoll.ONESHOT;
const AF_UNIX = BigInt(SocketFlag.AF_UNIX);
const SOCK_STREAM_NONBLOCK_CLOEXEC = BigInt(
  SocketFlag.SOCK_STREAM | SocketFlag.SOCK_NONBLOCK | SocketFlag.SOCK_CLOEXEC,
);
const MSG_DONTWAIT = BigInt(SocketFlag.MSG_DONTWAIT);
/** Events one wait returns at most (16 bytes each covers both layouts). */
const MAX_EVENTS = 64;
/** `epoll_event.data` of the wake-up socket (Deno); ring ids start at 1. */
const WAKE_ID = 0;
/** Timeout of one Deno wait: long, since the wake-up socket interrupts it. */
const DENO_SLICE_MS = 60_000;
/** Bun's poll interval after activity, and its ceiling while idle. */
const BUN_MIN_MS = 1;
const BUN_MAX_MS = 16;

/** The shared epoll instance and what a wait on it needs. */
interface Shared {
  epfd: number;
  /** Deno: the socketpair whose second end wakes the wait; -1 in Bun. */
  wakeRead: number;
  wakeWrite: number;
  /** The events buffer of the waits; referenced here until the instance closes. */
  events: Uint8Array<ArrayBuffer>;
  eventsAddress: bigint;
  /** One byte to send, and room to drain the wake-up socket. */
  scratch: Uint8Array<ArrayBuffer>;
  scratchAddress: bigint;
}

let shared: Shared | undefined;
/** Rings whose fd is in the shared instance. */
let members = 0;
/** Deno: a wait on the shared instance has not settled yet. */
let inFlight = false;
/** Whether a wake-up byte was sent since the last drain. */
let woken = false;
/** Bun: the poll timer, its due time, and the current back-off. */
let timer: ReturnType<typeof setTimeout> | undefined;
let timerDue = 0;
let delay = BUN_MIN_MS;
let nextId = 1;
/** Waiting rings: id → the resolvers of their pending waits. */
const waiting = new Map<number, Array<(ready: boolean) => void>>();

/**
 * A ring's membership in the shared waiter: its id, the epoll fd it owns, whether that fd is in
 * the shared instance. Held by the ring (and its finalizer), never the ring itself.
 */
export interface WaitSlot {
  /** The ring's id: `epoll_event.data` in the shared instance. */
  readonly id: number;
  /** The ring's own epoll fd (watching its map fd); -1 once released. */
  epfd: number;
  /** Whether {@link WaitSlot.epfd} is in the shared instance. */
  added: boolean;
}

/**
 * A slot for a ring that owns the epoll fd `epfd`. Nothing is registered until it first waits.
 *
 * @example
 * ```ts
 * import { BpfMap } from "@tsbpf/core";
 * using map = BpfMap.create({ type: "ringbuf", maxEntries: 4096 });
 * import { epollWatch } from "./mmap.ts";
 * import { newSlot, releaseSlot } from "./waiter.ts";
 * const slot = newSlot(epollWatch(map.fd));
 * releaseSlot(slot);
 * ```
 */
export function newSlot(epfd: number): WaitSlot {
  return { id: nextId++, epfd, added: false };
}

function ctl(op: bigint, fd: number, events: number, id: number): number {
  const s = sys();
  const ev = alloc(16);
  const v = new DataView(ev.buffer);
  v.setUint32(0, events, true);
  // data: at 4 on x86_64 (packed), at 8 on aarch64.
  v.setBigUint64(dataOffset(), BigInt(id), true);
  const r = Number(
    s.syscall(s.nr.epoll_ctl, BigInt(shared!.epfd), op, BigInt(fd), s.addressOf(ev)),
  );
  retain(ev);
  return r;
}

let cachedStride = 0;
function stride(): number {
  if (cachedStride === 0) {
    const nr = sys().nr;
    cachedStride = nr === SYSCALL_NUMBERS.x86_64 || nr.bpf === SYSCALL_NUMBERS.x86_64.bpf ? 12 : 16;
  }
  return cachedStride;
}
function dataOffset(): number {
  return stride() === 12 ? 4 : 8;
}

function openShared(): Shared {
  const s = sys();
  const epfd = Number(s.syscall(s.nr.epoll_create1, EPOLL_CLOEXEC));
  if (epfd < 0) throw new BpfError("epoll_create1", -epfd);
  const events = alloc(MAX_EVENTS * 16);
  const scratch = alloc(64);
  const sh: Shared = {
    epfd,
    wakeRead: -1,
    wakeWrite: -1,
    events,
    eventsAddress: s.addressOf(events),
    scratch,
    scratchAddress: s.addressOf(scratch),
  };
  if (s.runtime === "deno") {
    const pair = alloc(8);
    const r = Number(
      s.syscall(s.nr.socketpair, AF_UNIX, SOCK_STREAM_NONBLOCK_CLOEXEC, 0n, s.addressOf(pair)),
    );
    retain(pair);
    if (r < 0) {
      s.close(epfd);
      throw new BpfError("socketpair", -r, "the wake-up socket of the ring buffer waiter");
    }
    const fds = new Int32Array(pair.buffer);
    sh.wakeRead = fds[0];
    sh.wakeWrite = fds[1];
    shared = sh;
    const c = ctl(EPOLL_CTL_ADD, sh.wakeRead, EPOLLIN, WAKE_ID);
    if (c < 0) {
      closeShared();
      throw new BpfError("epoll_ctl", -c, "EPOLL_CTL_ADD of the wake-up socket");
    }
  }
  shared = sh;
  return sh;
}

function closeShared(): void {
  const sh = shared;
  if (sh === undefined) return;
  shared = undefined;
  woken = false;
  const s = sys();
  s.close(sh.epfd);
  if (sh.wakeRead >= 0) s.close(sh.wakeRead);
  if (sh.wakeWrite >= 0) s.close(sh.wakeWrite);
}

/** Closes the shared instance when nobody is in it, unless a call on it is in flight. */
function maybeCloseShared(): void {
  if (members !== 0 || shared === undefined) return;
  if (inFlight) wake();
  else closeShared();
}

/** Deno: makes the in-flight wait return (it sees the wake-up socket readable). */
function wake(): void {
  const sh = shared;
  if (sh === undefined || sh.wakeWrite < 0 || woken) return;
  woken = true;
  const s = sys();
  s.syscall(s.nr.sendto, BigInt(sh.wakeWrite), sh.scratchAddress, 1n, MSG_DONTWAIT, 0n, 0n);
}

function drainWake(sh: Shared): void {
  const s = sys();
  woken = false;
  for (let i = 0; i < 16; i++) {
    const r = s.syscall(s.nr.recvfrom, BigInt(sh.wakeRead), sh.scratchAddress, 64n, MSG_DONTWAIT);
    if (r < 64n) break;
  }
}

/** Resolves the waits of the rings named by the first `n` events. */
function dispatch(sh: Shared, n: number): void {
  const step = stride();
  const at = dataOffset();
  const v = new DataView(sh.events.buffer);
  for (let i = 0; i < n; i++) {
    const id = Number(v.getBigUint64(i * step + at, true));
    if (id === WAKE_ID) {
      drainWake(sh);
      continue;
    }
    const resolvers = waiting.get(id);
    if (resolvers === undefined) continue; // woke after its waits ended: the next wait re-arms
    waiting.delete(id);
    for (const resolve of resolvers) resolve(true);
  }
}

/** Starts the one wait on the shared instance when someone waits and none is going. */
function pump(): void {
  const sh = shared;
  if (sh === undefined || waiting.size === 0) return;
  const s = sys();
  if (s.runtime === "deno") {
    if (inFlight) return;
    inFlight = true;
    s.epollWait(sh.epfd, DENO_SLICE_MS, undefined, sh.events).then(
      (n) => settle(sh, n),
      () => settle(sh, -1),
    );
    return;
  }
  schedule(BUN_MIN_MS);
}

function settle(sh: Shared, n: number): void {
  inFlight = false;
  if (n > 0) dispatch(sh, n);
  if (members === 0) {
    closeShared();
    return;
  }
  if (n < 0 && waiting.size !== 0) {
    // EINTR, or an error Deno cannot name: try again after a pause, so that it cannot spin.
    setTimeout(pump, 1);
    return;
  }
  pump();
}

/** Bun: (re)schedules the poll timer `ms` from now, unless it is due sooner already. */
function schedule(ms: number): void {
  const due = performance.now() + ms;
  if (timer !== undefined) {
    if (timerDue <= due) return;
    clearTimeout(timer);
  }
  delay = ms;
  timerDue = due;
  timer = setTimeout(tick, ms);
}

function tick(): void {
  timer = undefined;
  const sh = shared;
  if (sh === undefined || waiting.size === 0) return;
  const s = sys();
  // epoll_pwait(epfd, events, max, timeout 0, sigmask NULL, 0): never blocks.
  const n = Number(
    s.syscall(
      s.nr.epoll_pwait,
      BigInt(sh.epfd),
      sh.eventsAddress,
      BigInt(MAX_EVENTS),
      0n,
      0n,
      0n,
    ),
  );
  if (n > 0) {
    dispatch(sh, n);
    delay = BUN_MIN_MS;
  } else {
    delay = Math.min(delay * 2, BUN_MAX_MS);
  }
  if (waiting.size !== 0) {
    timerDue = performance.now() + delay;
    timer = setTimeout(tick, delay);
  }
}

function stopIfIdle(): void {
  if (waiting.size !== 0) return;
  if (timer !== undefined) {
    clearTimeout(timer);
    timer = undefined;
  }
  if (inFlight) wake();
}

function removeWaiter(id: number, resolve: (ready: boolean) => void): void {
  const list = waiting.get(id);
  if (list === undefined) return;
  const i = list.indexOf(resolve);
  if (i >= 0) list.splice(i, 1);
  if (list.length === 0) waiting.delete(id);
  stopIfIdle();
}

/**
 * Waits until the slot's ring may be readable, up to `timeoutMs` (finite, or `Infinity`), through
 * the shared waiter. Resolves `true` on readiness and `false` on timeout or {@link releaseSlot}.
 *
 * @throws {BpfError} when the shared instance cannot be set up or the ring's fd added to it.
 * @example
 * ```ts
 * import { BpfMap } from "@tsbpf/core";
 * using map = BpfMap.create({ type: "ringbuf", maxEntries: 4096 });
 * import { epollWatch } from "./mmap.ts";
 * import { newSlot, releaseSlot, waitSlot } from "./waiter.ts";
 * const slot = newSlot(epollWatch(map.fd));
 * await waitSlot(slot, 10); // false: nothing was written
 * releaseSlot(slot);
 * ```
 */
export function waitSlot(slot: WaitSlot, timeoutMs: number): Promise<boolean> {
  if (slot.epfd < 0) return Promise.resolve(false);
  if (shared === undefined) openShared();
  const events = EPOLLIN | EPOLLONESHOT;
  if (!slot.added) {
    const r = ctl(EPOLL_CTL_ADD, slot.epfd, events, slot.id);
    if (r < 0) {
      maybeCloseShared();
      throw new BpfError("epoll_ctl", -r, `EPOLL_CTL_ADD of a ring buffer's epoll fd ${slot.epfd}`);
    }
    slot.added = true;
    members++;
  } else if (!waiting.has(slot.id)) {
    // Re-arm: the one-shot registration is disabled once it has reported.
    const r = ctl(EPOLL_CTL_MOD, slot.epfd, events, slot.id);
    if (r < 0) throw new BpfError("epoll_ctl", -r, `EPOLL_CTL_MOD of epoll fd ${slot.epfd}`);
  }
  return new Promise<boolean>((resolve) => {
    let deadline: ReturnType<typeof setTimeout> | undefined;
    const done = (ready: boolean): void => {
      if (deadline !== undefined) clearTimeout(deadline);
      resolve(ready);
    };
    let list = waiting.get(slot.id);
    if (list === undefined) waiting.set(slot.id, list = []);
    list.push(done);
    if (Number.isFinite(timeoutMs)) {
      deadline = setTimeout(() => {
        deadline = undefined;
        removeWaiter(slot.id, done);
        resolve(false);
      }, Math.max(0, Math.min(timeoutMs, 0x7fffffff)));
    }
    pump();
  });
}

/**
 * Ends the slot: its pending waits resolve `false`, its fd leaves the shared instance and is
 * closed, and the shared instance closes when it was the last one (once no call is in flight on
 * it). Never throws; later calls do nothing.
 *
 * @example
 * ```ts
 * import { BpfMap } from "@tsbpf/core";
 * using map = BpfMap.create({ type: "ringbuf", maxEntries: 4096 });
 * import { epollWatch } from "./mmap.ts";
 * import { newSlot, releaseSlot } from "./waiter.ts";
 * const slot = newSlot(epollWatch(map.fd));
 * releaseSlot(slot);
 * ```
 */
export function releaseSlot(slot: WaitSlot): void {
  if (slot.epfd < 0) return;
  const resolvers = waiting.get(slot.id);
  if (resolvers !== undefined) {
    waiting.delete(slot.id);
    for (const resolve of resolvers) resolve(false);
  }
  if (slot.added && shared !== undefined) {
    ctl(EPOLL_CTL_DEL, slot.epfd, 0, slot.id);
    slot.added = false;
    members--;
  }
  // No call is ever made on a ring's own epoll fd (only on the shared one): close it now.
  sys().close(slot.epfd);
  slot.epfd = -1;
  stopIfIdle();
  maybeCloseShared();
}

/**
 * State of the shared waiter, for tests: whether the shared instance is open, how many rings are
 * in it, how many are waiting, and whether a call or timer is pending.
 *
 * @example
 * ```ts
 * import { waiterState } from "./waiter.ts";
 * waiterState().pending; // false when nobody waits
 * ```
 */
export function waiterState(): {
  open: boolean;
  members: number;
  waiting: number;
  pending: boolean;
} {
  return {
    open: shared !== undefined,
    members,
    waiting: waiting.size,
    pending: inFlight || timer !== undefined,
  };
}
