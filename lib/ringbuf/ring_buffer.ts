/**
 * The consumer side of a `BPF_MAP_TYPE_RINGBUF` map: records read in place from the shared
 * mapping, waiting through epoll without blocking the event loop.
 *
 * @module
 */
import { ClosedError } from "../errors.ts";
import { BpfMap } from "../map/mod.ts";
import { readMapInfo } from "../map/info.ts";
import { MapType } from "../../types/map_type.ts";
import { sys, SYSCALL_NUMBERS } from "../sys/mod.ts";
import { epollWatch, type HeldRing, mapRing, releaseRing } from "./mmap.ts";
import { newSlot, releaseSlot, type WaitSlot, waitSlot } from "./waiter.ts";

/** `BPF_RINGBUF_BUSY_BIT`: the record is reserved but not yet committed (sign bit of the i32). */
const BUSY_BIT = 1 << 31;
/** `BPF_RINGBUF_DISCARD_BIT`: the record was discarded; skip it. */
const DISCARD_BIT = 1 << 30;
/** `BPF_RINGBUF_HDR_SZ`: `u32 len` (with the two bits above) and `u32 pg_off`. */
const HDR_SZ = 8;
const LEN_MASK = ~(BUSY_BIT | DISCARD_BIT);

/**
 * Receives one record. Returning `false` stops the current {@link RingBuffer.consume} after this
 * record.
 *
 * **`record` is valid only until the callback returns. Copy it to keep it** (`record.slice()`, or
 * the `copy` option of {@link RingBuffer.consume}). A record of up to
 * {@link SMALL_RECORD_BYTES} bytes comes in a buffer the RingBuffer reuses: the same `Uint8Array`
 * object, holding a copy of the record, for every record of that length, so the next record
 * overwrites it (no allocation per record). A larger record is a zero-copy view into the ring,
 * which the kernel maps read-only: **writing to it crashes the process** (SIGSEGV, no exception
 * can be raised); such a view is emptied (length 0) by `close()`.
 *
 * @example
 * ```ts
 * import type { RecordCallback } from "@tsbpf/core/ringbuf";
 * const seen: number[] = [];
 * const onRecord: RecordCallback = (record) => {
 *   seen.push(record.length);
 * };
 * ```
 */
export type RecordCallback = (record: Uint8Array) => void | boolean;

/**
 * Receives one record of {@link RingBuffer.consumeRaw}, with no allocation: the record is
 * `data[offset]` … `data[offset + length - 1]`. `data` (and `view`, a DataView over the same
 * bytes, for multi-byte fields) is one reusable read-only view over the ring's whole data area,
 * the same object for every record of the ring; a record that wraps around the end of the ring
 * is still contiguous there (the data area is mapped twice in a row). Returning `false` stops the
 * drain after this record.
 *
 * **The record's bytes are valid only until the callback returns** (the producer may overwrite
 * them once the consumer position moves on): read what you need, or copy it
 * (`data.slice(offset, offset + length)`). Writing through `data` or `view` crashes the process
 * (SIGSEGV: the mapping is read-only). After `close()` both are empty (length 0).
 *
 * @example
 * ```ts
 * import type { RawRecordCallback } from "@tsbpf/core/ringbuf";
 * let sum = 0;
 * const onRecord: RawRecordCallback = (data, offset, length, view) => {
 *   if (length >= 4) sum += view.getUint32(offset, true);
 * };
 * ```
 */
export type RawRecordCallback = (
  data: Uint8Array,
  offset: number,
  length: number,
  view: DataView,
) => void | boolean;

/**
 * What a {@link RingBuffer} reads: a ring buffer `BpfMap` (or any object with the `fd` of a ring
 * buffer map), or the fd itself. For anything but a `BpfMap` the map type and size are read from
 * the kernel (`BPF_OBJ_GET_INFO_BY_FD`).
 *
 * @example
 * ```ts ignore
 * import type { RingBufferSource } from "@tsbpf/core/ringbuf";
 * const source: RingBufferSource = map; // or map.fd
 * ```
 */
export type RingBufferSource = { readonly fd: number } | number;

/**
 * Options of {@link RingBuffer}.
 *
 * @example
 * ```ts
 * import type { RingBufferOptions } from "@tsbpf/core/ringbuf";
 * const options: RingBufferOptions = { onRecord: (r) => console.log(r.length), commit: "batch" };
 * ```
 */
export interface RingBufferOptions {
  /** The callback of {@link RingBuffer.consume} and {@link RingBuffer.poll} when they get none. */
  onRecord?: RecordCallback;
  /**
   * When the consumer position is published to the kernel (which frees the space for the
   * producer): `"batch"` (default) once per `consume()` call, when it returns, stops or throws;
   * `"record"` after every record's callback as well, as libbpf does. `"batch"` is faster from
   * JavaScript (one store per call); `"record"` frees space sooner for a producer that runs
   * concurrently on another CPU.
   */
  commit?: "batch" | "record";
  /**
   * Pass a fresh copy of each record (an ordinary, writable `Uint8Array` that the callback may
   * keep) instead of a reused buffer or read-only view valid only during the callback. Default
   * `false`. Also settable per call ({@link ConsumeOptions}).
   */
  copy?: boolean;
}

/**
 * Options of one {@link RingBuffer.consume} or {@link RingBuffer.poll} call.
 *
 * @example
 * ```ts ignore
 * import type { ConsumeOptions } from "@tsbpf/core/ringbuf";
 * const options: ConsumeOptions = { copy: true };
 * rb.consume((record) => { record[0] = 0; kept.push(record); }, options);
 * ```
 */
export interface ConsumeOptions {
  /**
   * Pass a fresh copy of each record (writable, may be kept) instead of a reused buffer or
   * read-only view valid only during the callback. Defaults to the `copy` option of the
   * RingBuffer.
   */
  copy?: boolean;
}

/**
 * Thrown by every operation of a {@link RingBuffer} after `close()`.
 *
 * @example
 * ```ts ignore
 * import { RingBuffer, RingBufferClosedError } from "@tsbpf/core/ringbuf";
 * rb.close();
 * try { rb.consume(() => {}); } catch (e) { e instanceof RingBufferClosedError; } // true
 * ```
 */
export class RingBufferClosedError extends ClosedError {
  /** Creates the error for the named operation (`what` names the ring, e.g. `"UserRingBuffer"`). */
  constructor(operation: string, what: string = "RingBuffer") {
    super("ring buffer", operation, `${operation} on a ${what} that is closed`);
    this.name = "RingBufferClosedError";
  }
}

/** What the finalizer needs to release: never the RingBuffer itself. */
type Held = HeldRing & { slot: WaitSlot | undefined };

function release(held: Held): void {
  // Views handed out (records kept past their callback) become empty before the unmap.
  releaseRing(held);
  if (held.slot !== undefined) {
    releaseSlot(held.slot);
    held.slot = undefined;
  }
}

const finalizer = new FinalizationRegistry<Held>((held) => {
  try {
    release(held);
  } catch {
    // Nothing can be reported from a finalizer.
  }
});

/**
 * Records up to this many bytes reach a {@link RecordCallback} as a copy in a reused buffer (one
 * per length), larger ones as a zero-copy view: copying a few words costs less than making a
 * view, in both runtimes.
 *
 * @example
 * ```ts
 * import { SMALL_RECORD_BYTES } from "@tsbpf/core/ringbuf";
 * SMALL_RECORD_BYTES; // 256
 * ```
 */
export const SMALL_RECORD_BYTES = 256;

const EMPTY_I64 = new BigInt64Array(0);
const EMPTY_U32 = new Uint32Array(0);
const EMPTY_I32 = new Int32Array(0);
const EMPTY_U8 = new Uint8Array(0);
const EMPTY_VIEW = new DataView(new ArrayBuffer(0));
const EMPTY_BUFFER = new ArrayBuffer(0);
/** Index of the low 32-bit half of a u64 position in a Uint32Array (0 on little-endian). */
const LO = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1 ? 0 : 1;
const TWO_32 = 4294967296;

function sourceFd(source: RingBufferSource): { fd: number; type: number; size: number } {
  if (source instanceof BpfMap) {
    return { fd: source.fd, type: source.type, size: source.maxEntries };
  }
  let fd: number;
  if (typeof source === "number") fd = source;
  else if (typeof source === "object" && source !== null && typeof source.fd === "number") {
    fd = source.fd;
  } else {
    throw new TypeError(
      `RingBuffer needs a ringbuf BpfMap, an object with an fd, or an fd; got ${typeof source}`,
    );
  }
  if (!Number.isInteger(fd) || fd < 0) throw new TypeError(`invalid map file descriptor ${fd}`);
  const info = readMapInfo(fd);
  return { fd, type: info.type, size: info.maxEntries };
}

/** "a hash", "an array". */
function withArticle(word: string): string {
  return (/^[aeiou]/.test(word) ? "an " : "a ") + word;
}

function typeName(type: number): string {
  for (const [name, value] of Object.entries(MapType)) {
    if (value === type) return name.toLowerCase();
  }
  return `type ${type}`;
}

/**
 * Copies `words.length` words of `from` starting at word `at` into `words`: a loop, which beats
 * `set(subarray())` (a view per call) up to the largest small record in both runtimes.
 */
function copyWords(words: Int32Array, from: Int32Array, at: number): void {
  const n = words.length;
  // Four words per step: the JITs (JavaScriptCore most) spend less per word than in a plain loop.
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    words[i] = from[at + i];
    words[i + 1] = from[at + i + 1];
    words[i + 2] = from[at + i + 2];
    words[i + 3] = from[at + i + 3];
  }
  for (; i < n; i++) words[i] = from[at + i];
}

/**
 * A reader of a `BPF_MAP_TYPE_RINGBUF` map. It maps the consumer page (read-write) and the
 * producer page plus the data area twice over (read-only, so a record that wraps around the end
 * is contiguous), and reads records in place: no allocation and no system call per record.
 *
 * - {@link RingBuffer.consume} drains what is there now, synchronously.
 * - {@link RingBuffer.poll} waits (epoll on the map fd; the event loop keeps running) and then
 *   consumes.
 * - `for await (const record of rb)` yields copies, one at a time, until `close()`.
 *
 * Busy records (reserved, not yet submitted) end a drain; discarded ones are skipped. `close()`
 * unmaps both areas and closes the epoll fd; a RingBuffer that is never closed is released after
 * garbage collection. The map itself stays the caller's, and the RingBuffer keeps working if it is
 * closed first (the mapping holds the map).
 *
 * @example
 * ```ts ignore
 * import { BpfMap } from "@tsbpf/core";
 * import { RingBuffer } from "@tsbpf/core/ringbuf";
 * using map = BpfMap.create({ type: "ringbuf", maxEntries: 1 << 16 });
 * using rb = new RingBuffer(map);
 * // … a program writes records with bpf_ringbuf_output() …
 * const n = rb.consume((record) => console.log(record.length));
 * await rb.poll(100, (record) => console.log(record[0]));
 * ```
 */
export class RingBuffer implements Disposable, AsyncIterable<Uint8Array> {
  readonly #held: Held;
  readonly #size: number;
  readonly #mask: number;
  readonly #onRecord: RecordCallback | undefined;
  readonly #perRecord: boolean;
  readonly #copy: boolean;
  /**
   * Read the read-only producer mapping with plain loads instead of `Atomics.load`: on x86-64
   * loads are not reordered with each other, so plain loads keep the acquire order the kernel's
   * release stores pair with, at about half the cost per record in V8; the JIT keeps typed-array
   * loads in program order around the callback (a call). On Bun they are used everywhere: its JIT
   * (JavaScriptCore) compiles a hot `Atomics.load` into an atomic read-modify-write, which faults
   * (SIGSEGV, not an exception) on a read-only page.
   */
  readonly #plainLoads: boolean;
  /** Store consumer_pos with a plain store (x86-64 only: its stores are release stores). */
  readonly #plainStores: boolean;
  #closed = false;
  #busy = false;
  /**
   * consumer_pos as two u32 halves, in the read-write consumer page. Positions are handled as
   * 32-bit numbers: the data area is at most 2^31 bytes, so `producer - consumer` fits in the
   * low halves' difference; a store of the low half alone is a whole, atomic position update
   * while the high half does not change (the 64-bit store runs only when it does, every 4 GiB).
   */
  #consumer: Uint32Array = EMPTY_U32;
  /** The same 8 bytes as one u64, for the store that carries into the high half. */
  #consumer64: BigInt64Array = EMPTY_I64;
  /** producer_pos as two u32 halves, in the read-only producer page. */
  #producer: Uint32Array = EMPTY_U32;
  /** The producer mapping: the producer page, then the data area twice in a row. */
  #mapping: ArrayBuffer = EMPTY_BUFFER;
  /** Where the data area starts in {@link RingBuffer.#mapping}: one page in. */
  #dataStart = 0;
  /** The data area (twice), as 32-bit words, for record headers. */
  #headers: Int32Array = EMPTY_I32;
  /** The data area (twice), bytes: the reusable view of {@link RingBuffer.consumeRaw}. */
  #data: Uint8Array = EMPTY_U8;
  /** The data area (twice), as a DataView over the same bytes. */
  #view: DataView = EMPTY_VIEW;
  /** The reused buffers of small records, by length, and 32-bit words over each. */
  readonly #small: (Uint8Array | undefined)[] = [];
  readonly #smallWords: (Int32Array | undefined)[] = [];

  /**
   * Opens a reader on a ring buffer map.
   *
   * @throws {TypeError} when `source` is not a `BPF_MAP_TYPE_RINGBUF` map.
   * @throws {BpfError} when `mmap(2)` or epoll setup fails, or `source` is an fd that is not a
   *   map.
   */
  constructor(source: RingBufferSource, options: RingBufferOptions = {}) {
    const { fd, type, size } = sourceFd(source);
    if (type !== MapType.RINGBUF) {
      const hint = type === MapType.USER_RINGBUF
        ? " (a user_ringbuf map is written by user space, not read)"
        : "";
      throw new TypeError(
        `RingBuffer needs a ringbuf map (BPF_MAP_TYPE_RINGBUF), got ${
          withArticle(typeName(type))
        } map` +
          hint,
      );
    }
    const commit = options.commit ?? "batch";
    if (commit !== "batch" && commit !== "record") {
      throw new TypeError(`commit must be "batch" or "record", got ${JSON.stringify(commit)}`);
    }
    if (options.onRecord !== undefined && typeof options.onRecord !== "function") {
      throw new TypeError("onRecord must be a function");
    }
    this.#onRecord = options.onRecord;
    this.#perRecord = commit === "record";
    this.#copy = options.copy === true;
    const s = sys();
    const x86 = s.nr.bpf === SYSCALL_NUMBERS.x86_64.bpf;
    this.#plainLoads = s.runtime === "bun" || x86;
    this.#plainStores = x86;
    this.#size = size;
    this.#mask = size - 1;
    const ring = mapRing(fd, size, true);
    const held: Held = Object.assign(ring.held, { slot: undefined as WaitSlot | undefined });
    try {
      held.slot = newSlot(epollWatch(fd));
    } catch (e) {
      release(held);
      throw e;
    }
    const { consumer: consumerBuffer, producer, page } = ring;
    this.#held = held;
    this.#consumer = new Uint32Array(consumerBuffer, 0, 2);
    this.#consumer64 = new BigInt64Array(consumerBuffer, 0, 1);
    this.#producer = new Uint32Array(producer, 0, 2);
    this.#mapping = producer;
    this.#dataStart = page;
    this.#headers = new Int32Array(producer, page, (2 * size) >>> 2);
    this.#data = new Uint8Array(producer, page, 2 * size);
    this.#view = new DataView(producer, page, 2 * size);
    finalizer.register(this, held, this);
  }

  /** Size of the data area in bytes (the map's `max_entries`). */
  get size(): number {
    return this.#size;
  }

  /** Whether {@link RingBuffer.close} has run. */
  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Whether unconsumed records may be waiting (`producer_pos !== consumer_pos`): one atomic load
   * of each, no system call. True also while the oldest record is still reserved (busy) or when
   * only discarded records remain.
   *
   * @throws {RingBufferClosedError} once closed.
   */
  get available(): boolean {
    if (this.#closed) throw new RingBufferClosedError("available");
    return this.#hasData();
  }

  /**
   * Reads every committed record that is there now, in order, calling `callback` (or the
   * `onRecord` option) with a zero-copy view of each; discarded records are skipped, and the drain
   * ends at a record that is still reserved. Records submitted while it runs are read too. Stops
   * after a record whose callback returns `false`; if a callback throws, that record counts as
   * consumed and the error propagates.
   *
   * **A record is valid only until its callback returns**: small records
   * ({@link SMALL_RECORD_BYTES} bytes at most) come in a buffer reused for every record of that
   * length, larger ones as a read-only view of the ring (writing to it crashes the process,
   * SIGSEGV). Copy one to keep it, or pass `{ copy: true }` to get a fresh, writable copy of each.
   *
   * @returns the number of records passed to the callback.
   * @throws {RingBufferClosedError} once closed.
   * @throws {TypeError} without a callback, or when called from its own callback.
   * @example
   * ```ts ignore
   * const lengths: number[] = [];
   * rb.consume((record) => {
   *   lengths.push(record.length);
   * });
   * const kept: Uint8Array[] = [];
   * rb.consume((record) => void kept.push(record), { copy: true }); // copies: keep, modify
   * ```
   */
  consume(callback?: RecordCallback, options?: ConsumeOptions): number {
    if (this.#closed) throw new RingBufferClosedError("consume()");
    const cb = callback ?? this.#onRecord;
    if (typeof cb !== "function") {
      throw new TypeError("consume() needs a callback, or the onRecord option");
    }
    if (this.#busy) throw new TypeError("consume() cannot be called from its own callback");
    return this.#drainRecords(cb, options?.copy ?? this.#copy);
  }

  /**
   * Reads every committed record that is there now, as {@link RingBuffer.consume} does, but with
   * no allocation per record: `callback` gets one reusable read-only view over the ring's data
   * area, the record's offset and its length ({@link RawRecordCallback}). The fastest way to
   * read a ring; **the bytes are valid only until the callback returns**.
   *
   * @returns the number of records passed to the callback.
   * @throws {RingBufferClosedError} once closed.
   * @throws {TypeError} without a callback, or when called from its own callback.
   * @example
   * ```ts ignore
   * let bytes = 0;
   * rb.consumeRaw((data, offset, length, view) => {
   *   bytes += length;
   *   const pid = view.getUint32(offset, true); // a field at the record's start
   * });
   * ```
   */
  consumeRaw(callback: RawRecordCallback): number {
    if (this.#closed) throw new RingBufferClosedError("consumeRaw()");
    if (typeof callback !== "function") throw new TypeError("consumeRaw() needs a callback");
    if (this.#busy) throw new TypeError("consumeRaw() cannot be called from its own callback");
    return this.#drain(callback);
  }

  #drain(cb: RawRecordCallback): number {
    this.#busy = true;
    const consumer = this.#consumer;
    const producer = this.#producer;
    const headers = this.#headers;
    const data = this.#data;
    const view = this.#view;
    const mask = this.#mask;
    const perRecord = this.#perRecord;
    const plain = this.#plainLoads;
    // Only this reader writes consumer_pos: a plain load sees its own last store.
    const base = consumer[LO];
    const high = consumer[1 - LO];
    let offset = base & mask;
    // Bytes consumed since `base`, and bytes available since `base`, as plain numbers.
    let done = 0;
    let count = 0;
    let avail = ((plain ? producer[LO] : Atomics.load(producer, LO)) - base) >>> 0;
    try {
      while (done < avail) {
        do {
          // The kernel publishes the header with smp_store_release; Atomics.load pairs with it.
          const len = plain ? headers[offset >>> 2] : Atomics.load(headers, offset >>> 2);
          if (len < 0) return count; // BUSY: not committed yet; records after it wait too.
          const size = len & LEN_MASK;
          const start = offset + HDR_SZ;
          const total = (size + HDR_SZ + 7) & ~7;
          done += total;
          offset = (offset + total) & mask;
          if ((len & DISCARD_BIT) === 0) {
            count++;
            if (cb(data, start, size, view) === false || this.#closed) return count;
          }
          if (perRecord) this.#commit(high, base, done);
        } while (done < avail);
        avail = ((plain ? producer[LO] : Atomics.load(producer, LO)) - base) >>> 0;
      }
      return count;
    } finally {
      this.#busy = false;
      if (this.#closed) {
        // close() ran inside the callback: it left the memory mapped for this loop.
        this.#release();
      } else if (done !== 0) {
        this.#commit(high, base, done);
      }
    }
  }

  /**
   * {@link RingBuffer.#drain} for {@link RingBuffer.consume}: the same loop with the record's
   * copy (or view) made inline, so that each record costs one call, the user's.
   */
  #drainRecords(cb: RecordCallback, copy: boolean): number {
    this.#busy = true;
    const consumer = this.#consumer;
    const producer = this.#producer;
    const headers = this.#headers;
    const data = this.#data;
    const mapping = this.#mapping;
    const dataStart = this.#dataStart;
    const small = this.#small;
    const smallWords = this.#smallWords;
    const mask = this.#mask;
    const perRecord = this.#perRecord;
    const plain = this.#plainLoads;
    // The buffer of the last length seen: records of one stream are mostly of one length.
    let lastLength = -1;
    let lastRecord: Uint8Array = EMPTY_U8;
    let lastWords: Int32Array = EMPTY_I32;
    const base = consumer[LO];
    const high = consumer[1 - LO];
    let offset = base & mask;
    let done = 0;
    let count = 0;
    let avail = ((plain ? producer[LO] : Atomics.load(producer, LO)) - base) >>> 0;
    try {
      while (done < avail) {
        do {
          const len = plain ? headers[offset >>> 2] : Atomics.load(headers, offset >>> 2);
          if (len < 0) return count; // BUSY: not committed yet; records after it wait too.
          const size = len & LEN_MASK;
          const start = offset + HDR_SZ;
          const total = (size + HDR_SZ + 7) & ~7;
          done += total;
          offset = (offset + total) & mask;
          if ((len & DISCARD_BIT) === 0) {
            count++;
            let record: Uint8Array;
            if (size !== lastLength) {
              if (copy) record = data.slice(start, start + size);
              else if (size > SMALL_RECORD_BYTES) {
                // A view made with the constructor costs less than subarray() in V8.
                record = new Uint8Array(mapping, dataStart + start, size);
              } else {
                let words = smallWords[size];
                if (words === undefined) {
                  const buffer = new ArrayBuffer((size + 3) & ~3);
                  small[size] = new Uint8Array(buffer, 0, size);
                  words = smallWords[size] = new Int32Array(buffer);
                }
                lastLength = size;
                lastWords = words;
                record = lastRecord = small[size]!;
                copyWords(words, headers, start >>> 2);
              }
            } else {
              // Records start 8-byte aligned and are padded to 8 bytes: whole 32-bit words.
              copyWords(lastWords, headers, start >>> 2);
              record = lastRecord;
            }
            if (cb(record) === false || this.#closed) return count;
          }
          if (perRecord) this.#commit(high, base, done);
        } while (done < avail);
        avail = ((plain ? producer[LO] : Atomics.load(producer, LO)) - base) >>> 0;
      }
      return count;
    } finally {
      this.#busy = false;
      if (this.#closed) this.#release();
      else if (done !== 0) this.#commit(high, base, done);
    }
  }

  /** Publishes consumer_pos = `high` · 2^32 + `base` + `done` (the halves read at the start). */
  #commit(high: number, base: number, done: number): void {
    const next = base + done;
    if (next < TWO_32) {
      // x86-64 orders a store after every earlier load and store, which is all the release
      // the kernel's acquire of consumer_pos pairs with; elsewhere an atomic store.
      if (this.#plainStores) this.#consumer[LO] = next;
      else Atomics.store(this.#consumer, LO, next);
    } else {
      // The low half carries into the high half: one 64-bit store (every 4 GiB consumed).
      Atomics.store(this.#consumer64, 0, (BigInt(high + 1) << 32n) + BigInt(next - TWO_32));
    }
  }

  /**
   * Waits until records may be available ({@link RingBuffer.available}) or `timeoutMs` passes,
   * without blocking the event loop. All rings of the process share one waiter: one epoll
   * instance with one wait in flight (a nonblocking FFI call in Deno; in Bun a timer poll every
   * 1 ms after activity, backing off to 16 ms while idle), which stops when nobody waits.
   * Resolves to `false` on timeout, or at once when the RingBuffer is closed meanwhile.
   *
   * @param timeoutMs milliseconds, ≥ 0; `Infinity` waits until data or `close()`.
   * @throws {RingBufferClosedError} when already closed.
   * @throws {RangeError} for a negative or NaN timeout.
   * @example
   * ```ts ignore
   * if (await rb.wait(1000)) rb.consume((r) => console.log(r));
   * ```
   */
  async wait(timeoutMs: number): Promise<boolean> {
    if (this.#closed) throw new RingBufferClosedError("wait()");
    if (typeof timeoutMs !== "number" || !(timeoutMs >= 0)) {
      throw new RangeError(`timeoutMs must be a number ≥ 0 (or Infinity), got ${timeoutMs}`);
    }
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      if (this.#closed) return false;
      if (this.#hasData()) return true;
      const left = deadline - performance.now();
      if (left <= 0) return false;
      const slot = this.#held.slot;
      if (slot === undefined) return false;
      await waitSlot(slot, left);
    }
  }

  /**
   * Waits up to `timeoutMs` for records ({@link RingBuffer.wait}), then consumes them
   * ({@link RingBuffer.consume}) with `callback` or the `onRecord` option.
   *
   * The records are read-only views, as in `consume()`: pass `{ copy: true }` to get copies.
   *
   * @returns the number of records consumed: 0 on timeout, or when closed while waiting.
   * @throws {RingBufferClosedError} when already closed.
   * @throws {TypeError} without a callback.
   * @example
   * ```ts ignore
   * const n = await rb.poll(100, (record) => console.log(record.length));
   * ```
   */
  async poll(
    timeoutMs: number,
    callback?: RecordCallback,
    options?: ConsumeOptions,
  ): Promise<number> {
    if (this.#closed) throw new RingBufferClosedError("poll()");
    const cb = callback ?? this.#onRecord;
    if (typeof cb !== "function") {
      throw new TypeError("poll() needs a callback, or the onRecord option");
    }
    if (!(await this.wait(timeoutMs))) return 0;
    if (this.#closed) return 0;
    return this.consume(cb, options);
  }

  /**
   * Yields a copy of each record, in order, waiting when the ring is empty; ends when the
   * RingBuffer is closed. Records are consumed one at a time, so breaking out of the loop loses
   * none.
   *
   * @throws {RingBufferClosedError} when already closed at the first step.
   * @example
   * ```ts ignore
   * for await (const record of rb) {
   *   console.log(record.length);
   *   if (record[0] === 0xff) break;
   * }
   * ```
   */
  async *[Symbol.asyncIterator](): AsyncGenerator<Uint8Array, void, undefined> {
    if (this.#closed) throw new RingBufferClosedError("iteration");
    let record: Uint8Array | undefined;
    const take = (r: Uint8Array): boolean => {
      record = r.slice();
      return false;
    };
    while (!this.#closed) {
      record = undefined;
      this.consume(take);
      if (record !== undefined) yield record;
      else if (!this.#closed) await this.wait(Infinity);
    }
  }

  /**
   * Unmaps the ring, removes it from the shared waiter and closes its epoll fd; later calls do
   * nothing. Views of large records handed to callbacks and kept are emptied (length 0; reads
   * give `undefined`, writes do nothing); the reused buffers of small records hold stale copies. Called from a callback, it takes effect when `consume()` returns; a
   * pending `wait()` or `poll()` resolves with `false`/0 at once.
   *
   * @example
   * ```ts ignore
   * rb.close();
   * rb.closed; // true
   * ```
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    finalizer.unregister(this);
    if (!this.#busy) this.#release();
    else if (this.#held.slot !== undefined) {
      // Called from a callback: the memory stays mapped until consume() returns, but pending
      // waits end now.
      releaseSlot(this.#held.slot);
      this.#held.slot = undefined;
    }
  }

  /** Closes at the end of a `using` block. */
  [Symbol.dispose](): void {
    this.close();
  }

  #hasData(): boolean {
    // producer - consumer < 2^32: the low halves differ exactly when the positions do.
    const produced = this.#plainLoads ? this.#producer[LO] : Atomics.load(this.#producer, LO);
    return produced !== this.#consumer[LO];
  }

  #release(): void {
    // Drop the views first: any later access reads an empty array instead of unmapped memory
    // (and release() detaches the buffers, for views held elsewhere).
    this.#consumer = EMPTY_U32;
    this.#consumer64 = EMPTY_I64;
    this.#producer = EMPTY_U32;
    this.#mapping = EMPTY_BUFFER;
    this.#headers = EMPTY_I32;
    this.#data = EMPTY_U8;
    this.#view = EMPTY_VIEW;
    release(this.#held);
  }
}
