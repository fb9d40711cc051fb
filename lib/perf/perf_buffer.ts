/**
 * The reader of a `BPF_MAP_TYPE_PERF_EVENT_ARRAY`: one `PERF_COUNT_SW_BPF_OUTPUT` event per CPU,
 * each with its own mmapped ring, waited on through one epoll instance in the shared waiter of
 * the ring buffers.
 *
 * @module
 */
import { MAP_UPDATE_ELEM_ATTR } from "../../types/attr.ts";
import { BpfCmd } from "../../types/cmd.ts";
import { MapType } from "../../types/map_type.ts";
import { Epoll } from "../../types/os.ts";
import { mapUpdateElem } from "../sys/bpf_cmds.ts";
import { Attr } from "../attr.ts";
import { BpfError, ClosedError } from "../errors.ts";
import { openById } from "../ids.ts";
import { readMapInfo } from "../map/info.ts";
import { detachAll, mmapMap, munmap, pageSize } from "../ringbuf/mmap.ts";
import { newSlot, releaseSlot, type WaitSlot, waitSlot } from "../ringbuf/waiter.ts";
import { alloc, retain } from "../sys/memory.ts";
import { sys } from "../sys/mod.ts";
import {
  onlineCpus,
  PERF_SAMPLE_RAW,
  perfEventOpen,
  PerfIoctl,
  perfIoctl,
  PerfSwConfig,
  PerfType,
} from "./event.ts";

/** `PERF_RECORD_LOST`: `{ header; u64 id; u64 lost; }`. */
const RECORD_LOST = 2;
/** `PERF_RECORD_SAMPLE` with `PERF_SAMPLE_RAW`: `{ header; u32 size; u8 data[size]; }`. */
const RECORD_SAMPLE = 9;
/** Offsets in `struct perf_event_mmap_page`, as indexes of 64-bit words. */
const HEAD_WORD = 1024 / 8;
const TAIL_WORD = 1032 / 8;
const EPOLL_CLOEXEC = BigInt(Epoll.CLOEXEC);
const EPOLL_CTL_ADD = BigInt(Epoll.CTL_ADD);
const EPOLLIN = Epoll.IN;
/** A record's `size` is a u16: no record is longer. */
const MAX_RECORD = 0x10000;
/**
 * Samples up to this many bytes reach a {@link PerfRecordCallback} as a copy in a reused buffer
 * (one per length), larger ones as a view of the ring (copying a few words costs less than
 * making a view).
 */
const SMALL_SAMPLE_BYTES = 1024;

/**
 * Receives one sample: the raw bytes the program passed to `bpf_perf_event_output` (the kernel
 * pads them with zeros so that the record ends on 8 bytes: the length is
 * `ceil((n + 4) / 8) * 8 - 4`), and the CPU it was written on. Returning `false` stops the
 * current {@link PerfBuffer.consume} after this record.
 *
 * **`data` is valid only until the callback returns: copy it (`data.slice()`) to keep it.** A
 * sample of up to 256 bytes comes in a buffer the PerfBuffer reuses: the same `Uint8Array`
 * object, holding a copy of the sample, for every sample of that length, so the next one
 * overwrites it (no allocation per sample). A larger sample is a view of the ring, whose memory
 * the kernel reuses once it is consumed. Writing to either changes nothing the kernel reads.
 *
 * @example
 * ```ts
 * import type { PerfRecordCallback } from "@tsbpf/core/perf";
 * const onRecord: PerfRecordCallback = (data, cpu) => console.log(cpu, data.length);
 * ```
 */
export type PerfRecordCallback = (data: Uint8Array, cpu: number) => void | boolean;

/**
 * Receives one sample of {@link PerfBuffer.consumeRaw}, in place, with no allocation: the sample
 * is `data[offset .. offset + length)` (and the same bytes through `view`), written on `cpu`.
 * `data` is the CPU's whole ring (or, for a sample that wraps around the ring's end, a scratch
 * buffer holding it whole); read it only until the callback returns. Returning `false` stops the
 * current `consumeRaw()` after this sample. Same shape as the ring buffer's `RawRecordCallback`,
 * plus the CPU.
 *
 * @example
 * ```ts
 * import type { PerfRawCallback } from "@tsbpf/core/perf";
 * let sum = 0;
 * const onSample: PerfRawCallback = (data, offset, length, view) => {
 *   if (length >= 4) sum += view.getUint32(offset, true);
 * };
 * ```
 */
export type PerfRawCallback = (
  data: Uint8Array,
  offset: number,
  length: number,
  view: DataView,
  cpu: number,
) => void | boolean;

/**
 * Receives a lost-sample record: `count` samples were dropped on `cpu` because its ring was full
 * (or output was paused).
 *
 * @example
 * ```ts
 * import type { PerfLostCallback } from "@tsbpf/core/perf";
 * let lost = 0;
 * const onLost: PerfLostCallback = (count) => { lost += count; };
 * ```
 */
export type PerfLostCallback = (count: number, cpu: number) => void;

/**
 * What the async iterator of a {@link PerfBuffer} yields: a sample (a copy of its bytes) or a
 * count of lost samples, each with its CPU.
 *
 * @example
 * ```ts ignore
 * for await (const ev of perfBuffer) {
 *   if (ev.type === "sample") console.log(ev.cpu, ev.data);
 *   else console.log(`${ev.lost} lost on CPU ${ev.cpu}`);
 * }
 * ```
 */
export type PerfEvent =
  | { type: "sample"; cpu: number; data: Uint8Array }
  | { type: "lost"; cpu: number; lost: number };

/**
 * Options of {@link PerfBuffer}.
 *
 * @example
 * ```ts
 * import type { PerfBufferOptions } from "@tsbpf/core/perf";
 * const options: PerfBufferOptions = { pages: 16, wakeupEvents: 8 };
 * ```
 */
export interface PerfBufferOptions {
  /** Data pages of each CPU's ring: a power of two (default 8). */
  pages?: number;
  /** Wake a waiting reader after this many samples on a CPU (default 1). */
  wakeupEvents?: number;
  /** Wake a waiting reader once this many bytes wait on a CPU (instead of `wakeupEvents`). */
  watermark?: number;
  /** Which CPUs to read (default: every online CPU below the map's `max_entries`). */
  cpus?: readonly number[];
  /** The sample callback of {@link PerfBuffer.consume} and {@link PerfBuffer.poll}. */
  onRecord?: PerfRecordCallback;
  /** Called for every lost-sample record (ignored when not given). */
  onLost?: PerfLostCallback;
}

/**
 * Thrown by the operations of a {@link PerfBuffer} after `close()`.
 *
 * @example
 * ```ts ignore
 * import { PerfBufferClosedError } from "@tsbpf/core/perf";
 * pb.close();
 * try { pb.consume(); } catch (e) { e instanceof PerfBufferClosedError; } // true
 * ```
 */
export class PerfBufferClosedError extends ClosedError {
  /** Creates the error for the named operation. */
  constructor(operation: string) {
    super("perf buffer", operation, `${operation} on a PerfBuffer that is closed`);
    this.name = "PerfBufferClosedError";
  }
}

/** One CPU's ring. */
interface Ring {
  readonly cpu: number;
  /** The control page: data_head and data_tail as 64-bit words. */
  ctl: BigInt64Array;
  /** The data area, as bytes and as 32-bit words. */
  bytes: Uint8Array;
  words: Uint32Array;
  view: DataView;
  readonly size: number;
  readonly mask: number;
  /** data_tail, as this reader last wrote it. */
  tail: number;
  /** Where a record that wraps around the end is made contiguous. */
  readonly scratch: Uint8Array;
  readonly scratchView: DataView;
}

/** What close and the finalizer release: never the PerfBuffer itself. */
interface Held {
  fds: number[];
  maps: { address: bigint; length: number }[];
  buffers: ArrayBuffer[];
  mapFd: number;
  slot: WaitSlot | undefined;
}

function release(held: Held): void {
  const s = sys();
  if (held.slot !== undefined) {
    releaseSlot(held.slot);
    held.slot = undefined;
  }
  // Closing our map fd removes the entries set through it (the kernel's map_release of
  // perf_event_array), so the program no longer writes into rings about to go.
  if (held.mapFd >= 0) {
    s.close(held.mapFd);
    held.mapFd = -1;
  }
  const detached = detachAll(held.buffers);
  held.buffers = [];
  if (detached) {
    for (const m of held.maps) munmap(m.address, m.length);
    held.maps = [];
  }
  for (const fd of held.fds) s.close(fd);
  held.fds = [];
}

const finalizer = new FinalizationRegistry<Held>((held) => {
  try {
    release(held);
  } catch {
    // Nothing can be reported from a finalizer.
  }
});

const EMPTY_U8 = new Uint8Array(0);
const EMPTY_U32 = new Uint32Array(0);
const EMPTY_I64 = new BigInt64Array(0);
const EMPTY_VIEW = new DataView(new ArrayBuffer(0));

/** Sets `map[key] = value` for a 4-byte key and value. */
function setEntry(mapFd: number, key: number, value: number): void {
  const s = sys();
  const k = alloc(4);
  const v = alloc(4);
  new DataView(k.buffer).setUint32(0, key, true);
  new DataView(v.buffer).setUint32(0, value, true);
  const attr = new Attr(MAP_UPDATE_ELEM_ATTR)
    .set("map_fd", mapFd)
    .setU64("key", s.addressOf(k))
    .setU64("value", s.addressOf(v));
  const r = mapUpdateElem(attr, k, v);
  if (r < 0) {
    throw new BpfError(BpfCmd.MAP_UPDATE_ELEM, -r, `perf_event_array entry ${key} (CPU ${key})`);
  }
}

function epollAdd(epfd: number, fd: number): void {
  const s = sys();
  const ev = alloc(16);
  new DataView(ev.buffer).setUint32(0, EPOLLIN, true);
  const r = Number(
    s.syscall(s.nr.epoll_ctl, BigInt(epfd), EPOLL_CTL_ADD, BigInt(fd), s.addressOf(ev)),
  );
  retain(ev);
  if (r < 0) throw new BpfError("epoll_ctl", -r, `EPOLL_CTL_ADD of perf event fd ${fd}`);
}

function sourceFd(source: { readonly fd: number } | number): number {
  const fd = typeof source === "number" ? source : source?.fd;
  if (!Number.isInteger(fd) || fd < 0) {
    throw new TypeError(
      "PerfBuffer needs a perf_event_array BpfMap, an object with an fd, or an fd",
    );
  }
  return fd;
}

/**
 * A reader of a `BPF_MAP_TYPE_PERF_EVENT_ARRAY` map, the output of `bpf_perf_event_output`.
 *
 * For each CPU it opens a `PERF_COUNT_SW_BPF_OUTPUT` software event with `PERF_SAMPLE_RAW`,
 * maps its ring (one control page and `pages` data pages), and stores the event in the map at
 * the CPU's index, through its own map fd: closing the PerfBuffer (or the process ending)
 * removes those entries, so the program's output then fails with `ENOENT`. The rings are read in
 * place; a record that wraps around the end of a ring is copied into a scratch buffer first.
 *
 * - {@link PerfBuffer.consume} drains every CPU now, synchronously (callback form, no
 *   allocation per sample of up to 256 bytes: see {@link PerfRecordCallback}).
 * - {@link PerfBuffer.poll} waits (one epoll instance over the CPUs' events, in the process-wide
 *   waiter of the ring buffers; the event loop keeps running), then consumes.
 * - `for await (const ev of pb)` yields {@link PerfEvent}s (copies), samples and lost counts.
 * - {@link PerfBuffer.pause} / {@link PerfBuffer.resume} stop and restart output
 *   (`PERF_EVENT_IOC_PAUSE_OUTPUT`): samples written meanwhile are counted as lost.
 *
 * @example
 * ```ts ignore
 * import { BpfMap } from "@tsbpf/core";
 * import { PerfBuffer } from "@tsbpf/core/perf";
 * using events = BpfMap.create({ type: "perf_event_array", maxEntries: 2 });
 * using pb = new PerfBuffer(events, { onLost: (n, cpu) => console.warn(`${n} lost on ${cpu}`) });
 * // … a program calls bpf_perf_event_output(ctx, &events, BPF_F_CURRENT_CPU, &data, size) …
 * await pb.poll(1000, (data, cpu) => console.log(cpu, data.length));
 * ```
 */
export class PerfBuffer implements Disposable, AsyncIterable<PerfEvent> {
  readonly #held: Held;
  readonly #rings: Ring[];
  readonly #cpus: readonly number[];
  readonly #fds: readonly number[];
  readonly #pages: number;
  readonly #onRecord: PerfRecordCallback | undefined;
  readonly #onLost: PerfLostCallback | undefined;
  #closed = false;
  #busy = false;
  #paused = false;
  /** The reused buffers of small samples, by length (bytes and words over each). */
  readonly #small: (Uint8Array | undefined)[] = [];
  readonly #smallWords: (Uint32Array | undefined)[] = [];
  /** Ring where {@link PerfBuffer.#takeOne} looks first, so that no CPU starves. */
  #next = 0;

  /**
   * Opens a reader on a perf event array map.
   *
   * @throws {TypeError} when `source` is not a perf_event_array map, or for bad options.
   * @throws {BpfError} when `perf_event_open`, `mmap`, the map update or epoll fails (e.g.
   *   `E2BIG` from the map update for a CPU at or past `max_entries`).
   */
  constructor(source: { readonly fd: number } | number, options: PerfBufferOptions = {}) {
    const fd = sourceFd(source);
    const info = readMapInfo(fd);
    if (info.type !== MapType.PERF_EVENT_ARRAY) {
      throw new TypeError(
        `PerfBuffer needs a perf_event_array map (BPF_MAP_TYPE_PERF_EVENT_ARRAY), got map type ${info.typeName}`,
      );
    }
    const pages = options.pages ?? 8;
    if (!Number.isInteger(pages) || pages < 1 || (pages & (pages - 1)) !== 0) {
      throw new RangeError(`pages must be a power of two ≥ 1, got ${pages}`);
    }
    if (options.wakeupEvents !== undefined && options.watermark !== undefined) {
      throw new TypeError("give wakeupEvents or watermark, not both");
    }
    const wakeupEvents = options.wakeupEvents ?? (options.watermark === undefined ? 1 : undefined);
    if (wakeupEvents !== undefined && (!Number.isInteger(wakeupEvents) || wakeupEvents < 1)) {
      throw new RangeError(`wakeupEvents must be an integer ≥ 1, got ${wakeupEvents}`);
    }
    const page = pageSize();
    const dataSize = pages * page;
    if (
      options.watermark !== undefined &&
      (!Number.isInteger(options.watermark) || options.watermark < 1 ||
        options.watermark > dataSize)
    ) {
      throw new RangeError(
        `watermark must be an integer in 1..${dataSize} (the ring's bytes), got ${options.watermark}`,
      );
    }
    for (const cb of [options.onRecord, options.onLost]) {
      if (cb !== undefined && typeof cb !== "function") {
        throw new TypeError("onRecord and onLost must be functions");
      }
    }
    const cpus = options.cpus ?? onlineCpus().filter((c) => c < info.maxEntries);
    for (const c of cpus) {
      if (!Number.isInteger(c) || c < 0) throw new RangeError(`invalid CPU number ${c}`);
      if (c >= info.maxEntries) {
        throw new RangeError(
          `CPU ${c} has no slot in the perf_event_array (max_entries ${info.maxEntries})`,
        );
      }
    }
    if (cpus.length === 0) throw new RangeError("PerfBuffer needs at least one CPU to read");
    this.#onRecord = options.onRecord;
    this.#onLost = options.onLost;
    this.#pages = pages;
    this.#cpus = [...cpus];
    const s = sys();
    const held: Held = { fds: [], maps: [], buffers: [], mapFd: -1, slot: undefined };
    const rings: Ring[] = [];
    try {
      // Our own fd of the map: the entries set through it go away when it is closed.
      held.mapFd = openById(BpfCmd.MAP_GET_FD_BY_ID, info.id, "map");
      const epfd = Number(s.syscall(s.nr.epoll_create1, EPOLL_CLOEXEC));
      if (epfd < 0) throw new BpfError("epoll_create1", -epfd);
      held.slot = newSlot(epfd);
      const length = page + dataSize;
      for (const cpu of cpus) {
        const efd = perfEventOpen({
          type: PerfType.SOFTWARE,
          config: PerfSwConfig.BPF_OUTPUT,
          samplePeriod: 1,
          sampleType: PERF_SAMPLE_RAW,
          wakeupEvents,
          wakeupWatermark: options.watermark,
        }, { pid: -1, cpu });
        held.fds.push(efd);
        const address = mmapMap(efd, length, 0, true);
        held.maps.push({ address, length });
        const buffer = s.view(address, length);
        held.buffers.push(buffer);
        const r = perfIoctl(efd, PerfIoctl.ENABLE, 0);
        if (r < 0) throw new BpfError("ioctl", -r, `PERF_EVENT_IOC_ENABLE on CPU ${cpu}`);
        epollAdd(epfd, efd);
        const ctl = new BigInt64Array(buffer, 0, page / 8);
        const scratch = new Uint8Array(new ArrayBuffer(Math.min(MAX_RECORD, dataSize)));
        rings.push({
          cpu,
          ctl,
          bytes: new Uint8Array(buffer, page, dataSize),
          words: new Uint32Array(buffer, page, dataSize / 4),
          size: dataSize,
          mask: dataSize - 1,
          tail: Number(ctl[TAIL_WORD]),
          view: new DataView(buffer, page, dataSize),
          scratch,
          scratchView: new DataView(scratch.buffer),
        });
        setEntry(held.mapFd, cpu, efd);
      }
    } catch (e) {
      release(held);
      throw e;
    }
    this.#held = held;
    this.#rings = rings;
    this.#fds = [...held.fds];
    finalizer.register(this, held, this);
  }

  /** The CPUs read, in ring order. */
  get cpus(): readonly number[] {
    return this.#cpus;
  }

  /** Data pages of each CPU's ring. */
  get pages(): number {
    return this.#pages;
  }

  /** Whether {@link PerfBuffer.close} has run. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Whether output is paused ({@link PerfBuffer.pause}). */
  get paused(): boolean {
    return this.#paused;
  }

  /**
   * Whether some CPU's ring holds unread records: two loads per CPU, no system call.
   *
   * @throws {PerfBufferClosedError} once closed.
   */
  get available(): boolean {
    if (this.#closed) throw new PerfBufferClosedError("available");
    return this.#hasData();
  }

  /**
   * Reads every record waiting in every CPU's ring now, CPU by CPU: samples go to `onRecord`
   * (the argument, or the option), valid until the callback returns (a sample of up to 256 bytes
   * in a buffer reused for its length, a larger one as a view of the ring: see
   * {@link PerfRecordCallback}), lost-sample records to `onLost`. The
   * kernel gets the space back when each CPU's ring is drained. Stops after a sample whose
   * callback returns `false`; when a callback throws, its record counts as read and the error
   * propagates.
   *
   * @returns the number of samples passed to the callback.
   * @throws {PerfBufferClosedError} once closed.
   * @throws {TypeError} without a sample callback, or when called from its own callback.
   * @example
   * ```ts ignore
   * const n = pb.consume((data, cpu) => console.log(cpu, data[0]), (lost) => console.warn(lost));
   * ```
   */
  consume(onRecord?: PerfRecordCallback, onLost?: PerfLostCallback): number {
    if (this.#closed) throw new PerfBufferClosedError("consume()");
    const cb = onRecord ?? this.#onRecord;
    if (typeof cb !== "function") {
      throw new TypeError("consume() needs a callback, or the onRecord option");
    }
    if (this.#busy) throw new TypeError("consume() cannot be called from its own callback");
    const lost = onLost ?? this.#onLost;
    this.#busy = true;
    let count = 0;
    try {
      for (const ring of this.#rings) {
        const n = this.#drain(ring, cb, lost, -1);
        if (n < 0) return count - n - 1;
        count += n;
        if (this.#closed) break;
      }
      return count;
    } finally {
      this.#busy = false;
      if (this.#closed) this.#release();
    }
  }

  /**
   * Like {@link PerfBuffer.consume}, without copying or creating a view per sample: `onSample`
   * gets the ring's bytes (and a DataView over them) with the sample's offset and length. The
   * fastest form.
   *
   * @returns the number of samples passed to the callback.
   * @throws {PerfBufferClosedError} once closed.
   * @throws {TypeError} when called from a callback.
   * @example
   * ```ts ignore
   * const seqs: number[] = [];
   * pb.consumeRaw((data, offset, length, view, cpu) => void seqs.push(view.getUint32(offset, true)));
   * ```
   */
  consumeRaw(onSample: PerfRawCallback, onLost?: PerfLostCallback): number {
    if (this.#closed) throw new PerfBufferClosedError("consumeRaw()");
    if (typeof onSample !== "function") throw new TypeError("consumeRaw() needs a callback");
    if (this.#busy) throw new TypeError("consumeRaw() cannot be called from its own callback");
    const lost = onLost ?? this.#onLost;
    this.#busy = true;
    let count = 0;
    try {
      for (const ring of this.#rings) {
        const n = this.#drainRaw(ring, onSample, lost);
        if (n < 0) return count - n - 1;
        count += n;
        if (this.#closed) break;
      }
      return count;
    } finally {
      this.#busy = false;
      if (this.#closed) this.#release();
    }
  }

  /** {@link PerfBuffer.#drain} for {@link PerfBuffer.consumeRaw}. */
  #drainRaw(ring: Ring, cb: PerfRawCallback, lost: PerfLostCallback | undefined): number {
    const ctl = ring.ctl;
    const head = Number(Atomics.load(ctl, HEAD_WORD));
    let tail = ring.tail;
    if (tail === head) return 0;
    const words = ring.words;
    const bytes = ring.bytes;
    const ringSize = ring.size;
    const mask = ring.mask;
    const wordMask = mask >>> 2;
    const cpu = ring.cpu;
    const view = ring.view;
    let count = 0;
    let stop = false;
    try {
      while (tail < head) {
        const off = tail & mask;
        const w = off >>> 2;
        const type = words[w];
        const size = words[w + 1] >>> 16;
        if (size === 0) break;
        tail += size;
        if (type === RECORD_SAMPLE) {
          const rawSize = words[(w + 2) & wordMask];
          const start = (off + 12) & mask;
          count++;
          if (start + rawSize <= ringSize) {
            if (cb(bytes, start, rawSize, view, cpu) === false) stop = true;
          } else {
            const first = ringSize - start;
            const sc = ring.scratch;
            sc.set(bytes.subarray(start), 0);
            sc.set(bytes.subarray(0, rawSize - first), first);
            if (cb(sc, 0, rawSize, ring.scratchView, cpu) === false) stop = true;
          }
        } else if (type === RECORD_LOST) {
          lost?.(words[(w + 5) & wordMask] * 0x1_0000_0000 + words[(w + 4) & wordMask], cpu);
        }
        if (stop || this.#closed) break;
      }
    } finally {
      ring.tail = tail;
      if (!this.#closed) Atomics.store(ctl, TAIL_WORD, BigInt(tail));
    }
    return stop ? -(count + 1) : count;
  }

  /**
   * Drains one ring; returns the samples passed on, or `-(samples + 1)` when a callback asked to
   * stop. `limit` ≥ 0 stops after that many records of any kind.
   */
  #drain(
    ring: Ring,
    cb: PerfRecordCallback,
    lost: PerfLostCallback | undefined,
    limit: number,
  ): number {
    const ctl = ring.ctl;
    const head = Number(Atomics.load(ctl, HEAD_WORD));
    let tail = ring.tail;
    if (tail === head) return 0;
    const words = ring.words;
    const bytes = ring.bytes;
    const buffer = bytes.buffer;
    const base = bytes.byteOffset;
    const ringSize = ring.size;
    const mask = ring.mask;
    const wordMask = mask >>> 2;
    const cpu = ring.cpu;
    const small = this.#small;
    const smallWords = this.#smallWords;
    let lastLength = -1;
    let lastRecord: Uint8Array = EMPTY_U8;
    let lastWords: Uint32Array = EMPTY_U32;
    let count = 0;
    let records = 0;
    let stop = false;
    try {
      while (tail < head) {
        const off = tail & mask;
        // Records are 8-byte aligned and the ring a multiple of 8: a header never wraps.
        const w = off >>> 2;
        const type = words[w];
        const size = words[w + 1] >>> 16;
        if (size === 0) break; // cannot happen for a well-formed ring; never loop forever
        tail += size;
        if (type === RECORD_SAMPLE) {
          const rawSize = words[(w + 2) & wordMask];
          const start = (off + 12) & mask;
          let data: Uint8Array;
          if (rawSize <= SMALL_SAMPLE_BYTES) {
            // A copy in the buffer reused for this length: no allocation per sample. The
            // sample starts 4-byte aligned and its length is a multiple of 4: whole words.
            if (rawSize !== lastLength) {
              let lw = smallWords[rawSize];
              if (lw === undefined) {
                const b = new ArrayBuffer(rawSize);
                small[rawSize] = new Uint8Array(b);
                lw = smallWords[rawSize] = new Uint32Array(b);
              }
              lastLength = rawSize;
              lastWords = lw;
              lastRecord = small[rawSize]!;
            }
            const from = start >>> 2;
            const n = rawSize >>> 2;
            const lw = lastWords;
            if (start + rawSize <= ringSize) {
              // Four words per step: the JITs (JavaScriptCore most) spend less per word.
              let i = 0;
              for (; i + 4 <= n; i += 4) {
                lw[i] = words[from + i];
                lw[i + 1] = words[from + i + 1];
                lw[i + 2] = words[from + i + 2];
                lw[i + 3] = words[from + i + 3];
              }
              for (; i < n; i++) lw[i] = words[from + i];
            } else for (let i = 0; i < n; i++) lw[i] = words[(from + i) & wordMask];
            data = lastRecord;
          } else if (start + rawSize <= ringSize) {
            data = new Uint8Array(buffer, base + start, rawSize);
          } else {
            // Wraps around the end of the ring: join the two pieces.
            const first = ringSize - start;
            const sc = ring.scratch;
            sc.set(bytes.subarray(start), 0);
            sc.set(bytes.subarray(0, rawSize - first), first);
            data = new Uint8Array(sc.buffer, 0, rawSize);
          }
          count++;
          if (cb(data, cpu) === false) stop = true;
        } else if (type === RECORD_LOST) {
          const lo = words[(w + 4) & wordMask];
          const hi = words[(w + 5) & wordMask];
          lost?.(hi * 0x1_0000_0000 + lo, cpu);
        }
        records++;
        if (stop || this.#closed || records === limit) break;
      }
    } finally {
      ring.tail = tail;
      if (!this.#closed) Atomics.store(ctl, TAIL_WORD, BigInt(tail));
    }
    return stop ? -(count + 1) : count;
  }

  /**
   * Waits until some CPU's ring holds records, a wake-up arrives (after `wakeupEvents` samples
   * or `watermark` bytes on a CPU), `timeoutMs` passes or `signal` aborts, without blocking the
   * event loop. Resolves `false` on timeout, abort, or `close()` meanwhile.
   *
   * @param timeoutMs milliseconds, ≥ 0; `Infinity` waits until data, abort or `close()`.
   * @throws {PerfBufferClosedError} when already closed.
   * @throws {RangeError} for a negative or NaN timeout.
   * @example
   * ```ts ignore
   * if (await pb.wait(1000)) pb.consume((data) => console.log(data));
   * ```
   */
  async wait(timeoutMs: number, signal?: AbortSignal): Promise<boolean> {
    if (this.#closed) throw new PerfBufferClosedError("wait()");
    if (typeof timeoutMs !== "number" || !(timeoutMs >= 0)) {
      throw new RangeError(`timeoutMs must be a number ≥ 0 (or Infinity), got ${timeoutMs}`);
    }
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      if (this.#closed || signal?.aborted) return false;
      if (this.#hasData()) return true;
      const left = deadline - performance.now();
      if (left <= 0) return false;
      const slot = this.#held.slot;
      if (slot === undefined) return false;
      if (signal === undefined) {
        await waitSlot(slot, left);
        continue;
      }
      let onAbort: (() => void) | undefined;
      const aborted = new Promise<void>((resolve) => {
        onAbort = () => resolve();
        signal.addEventListener("abort", onAbort, { once: true });
      });
      try {
        await Promise.race([waitSlot(slot, left), aborted]);
      } finally {
        signal.removeEventListener("abort", onAbort!);
      }
      if (signal.aborted) {
        // The wait is still registered in the shared waiter: end it by replacing the slot.
        this.#renewSlot();
        return false;
      }
    }
  }

  /**
   * Waits ({@link PerfBuffer.wait}) up to `timeoutMs`, then consumes ({@link PerfBuffer.consume}).
   *
   * @returns the number of samples consumed: 0 on timeout, abort or `close()` meanwhile.
   * @throws {PerfBufferClosedError} when already closed.
   * @example
   * ```ts ignore
   * const n = await pb.poll(100, (data, cpu) => console.log(cpu, data.length));
   * ```
   */
  async poll(
    timeoutMs: number,
    onRecord?: PerfRecordCallback,
    options?: { onLost?: PerfLostCallback; signal?: AbortSignal },
  ): Promise<number> {
    if (this.#closed) throw new PerfBufferClosedError("poll()");
    const cb = onRecord ?? this.#onRecord;
    if (typeof cb !== "function") {
      throw new TypeError("poll() needs a callback, or the onRecord option");
    }
    if (!(await this.wait(timeoutMs, options?.signal))) return 0;
    if (this.#closed) return 0;
    return this.consume(cb, options?.onLost);
  }

  /**
   * Yields samples (copies) and lost counts, one record at a time, taking the CPUs in turn;
   * waits when every ring is empty. Ends when the PerfBuffer is closed or `signal` aborts;
   * breaking out of the loop loses no record.
   *
   * @throws {PerfBufferClosedError} when already closed at the first step.
   * @example
   * ```ts ignore
   * const ac = new AbortController();
   * setTimeout(() => ac.abort(), 1000);
   * for await (const ev of pb.events(ac.signal)) console.log(ev);
   * ```
   */
  async *events(signal?: AbortSignal): AsyncGenerator<PerfEvent, void, undefined> {
    if (this.#closed) throw new PerfBufferClosedError("iteration");
    while (!this.#closed && signal?.aborted !== true) {
      const ev = this.#takeOne();
      if (ev !== undefined) yield ev;
      else if (!this.#closed) await this.wait(Infinity, signal);
    }
  }

  /** Same as {@link PerfBuffer.events} without a signal. */
  [Symbol.asyncIterator](): AsyncGenerator<PerfEvent, void, undefined> {
    return this.events();
  }

  #takeOne(): PerfEvent | undefined {
    if (this.#busy) throw new TypeError("cannot read the PerfBuffer from its own callback");
    const rings = this.#rings;
    let out: PerfEvent | undefined;
    const onSample = (data: Uint8Array, cpu: number): void => {
      out = { type: "sample", cpu, data: data.slice() };
    };
    const onLost = (lost: number, cpu: number): void => {
      out = { type: "lost", cpu, lost };
    };
    this.#busy = true;
    try {
      for (let i = 0; i < rings.length && out === undefined; i++) {
        const ring = rings[(this.#next + i) % rings.length];
        this.#drain(ring, onSample, onLost, 1);
      }
    } finally {
      this.#busy = false;
      if (this.#closed) this.#release();
    }
    this.#next = (this.#next + 1) % rings.length;
    return out;
  }

  /**
   * Stops output on every CPU (`PERF_EVENT_IOC_PAUSE_OUTPUT`): `bpf_perf_event_output` then
   * fails with `ENOSPC` and the kernel counts the samples as lost, reported after
   * {@link PerfBuffer.resume}. Records already in the rings stay readable.
   *
   * @throws {BpfError} when the ioctl fails (kernels before 4.7 lack it).
   * @example
   * ```ts ignore
   * pb.pause();
   * // … output is dropped and counted …
   * pb.resume();
   * ```
   */
  pause(): void {
    this.#setPaused(true);
  }

  /**
   * Restarts output after {@link PerfBuffer.pause}.
   *
   * @example
   * ```ts ignore
   * pb.resume();
   * ```
   */
  resume(): void {
    this.#setPaused(false);
  }

  #setPaused(on: boolean): void {
    if (this.#closed) throw new PerfBufferClosedError(on ? "pause()" : "resume()");
    for (let i = 0; i < this.#fds.length; i++) {
      const r = perfIoctl(this.#fds[i], PerfIoctl.PAUSE_OUTPUT, on ? 1 : 0);
      if (r < 0) {
        throw new BpfError("ioctl", -r, `PERF_EVENT_IOC_PAUSE_OUTPUT on CPU ${this.#cpus[i]}`);
      }
    }
    this.#paused = on;
  }

  /**
   * Removes the map entries (the program's output then fails with `ENOENT`), unmaps every ring
   * and closes the events and the epoll instance; later calls do nothing. A pending wait
   * resolves `false`. Called from a callback, it takes effect when `consume()` returns.
   *
   * @example
   * ```ts ignore
   * pb.close();
   * ```
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    finalizer.unregister(this);
    if (!this.#busy) this.#release();
    else if (this.#held.slot !== undefined) {
      releaseSlot(this.#held.slot);
      this.#held.slot = undefined;
    }
  }

  /** Closes at the end of a `using` block. */
  [Symbol.dispose](): void {
    this.close();
  }

  #hasData(): boolean {
    for (const ring of this.#rings) {
      if (Number(Atomics.load(ring.ctl, HEAD_WORD)) !== ring.tail) return true;
    }
    return false;
  }

  /** Replaces the wait slot (after an abort left a wait registered in the shared waiter). */
  #renewSlot(): void {
    const held = this.#held;
    if (held.slot !== undefined) releaseSlot(held.slot);
    held.slot = undefined;
    const s = sys();
    const epfd = Number(s.syscall(s.nr.epoll_create1, EPOLL_CLOEXEC));
    if (epfd < 0) throw new BpfError("epoll_create1", -epfd);
    held.slot = newSlot(epfd);
    for (const fd of this.#fds) epollAdd(epfd, fd);
  }

  #release(): void {
    for (const ring of this.#rings) {
      ring.ctl = EMPTY_I64;
      ring.bytes = EMPTY_U8;
      ring.words = EMPTY_U32;
      ring.view = EMPTY_VIEW;
    }
    release(this.#held);
  }
}
