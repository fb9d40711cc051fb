/**
 * The producer side of a `BPF_MAP_TYPE_USER_RINGBUF` map: user space reserves and submits
 * records in the shared mapping; BPF programs drain them with `bpf_user_ringbuf_drain()`.
 *
 * @module
 */
import { BpfMap } from "../map/mod.ts";
import { readMapInfo } from "../map/info.ts";
import { MapType } from "../../types/map_type.ts";
import { sys } from "../sys/mod.ts";
import { type HeldRing, mapRing, releaseRing } from "./mmap.ts";
import { RingBufferClosedError, type RingBufferSource } from "./ring_buffer.ts";

const BUSY_BIT = 1 << 31;
const DISCARD_BIT = 1 << 30;
const HDR_SZ = 8;

const finalizer = new FinalizationRegistry<HeldRing>((held) => {
  try {
    // Reserved views kept by the caller become empty before the unmap.
    releaseRing(held);
  } catch {
    // Nothing can be reported from a finalizer.
  }
});

const EMPTY_I64 = new BigInt64Array(0);
const EMPTY_I32 = new Int32Array(0);
const EMPTY_BUFFER = new ArrayBuffer(0);

/**
 * A writer of a `BPF_MAP_TYPE_USER_RINGBUF` map. It maps the consumer page (read-only: the kernel
 * advances it) and the producer page plus the data area twice over (read-write), and writes
 * records in place.
 *
 * {@link UserRingBuffer.reserve} returns a zero-copy view of `size` bytes, which stays invisible
 * to BPF until {@link UserRingBuffer.submit} (or is dropped by {@link UserRingBuffer.discard});
 * {@link UserRingBuffer.write} copies bytes in one step. When the ring is full, `reserve()` and
 * `write()` return `undefined`/`false`: a BPF program has to drain it first (there is no waiting
 * for space). Records are drained in reservation order, and a reserved record that is not yet
 * submitted holds back the ones after it. One producer at a time: the class is not meant to be
 * shared between threads.
 *
 * @example
 * ```ts
 * import { BpfMap } from "@tsbpf/core";
 * import { UserRingBuffer } from "@tsbpf/core/ringbuf";
 * using map = BpfMap.create({ type: "user_ringbuf", maxEntries: 1 << 16 });
 * using urb = new UserRingBuffer(map);
 * urb.write(new Uint8Array([1, 2, 3, 4]));
 * const rec = urb.reserve(16);
 * if (rec) {
 *   rec.fill(7);
 *   urb.submit(rec);
 * }
 * // … a program calls bpf_user_ringbuf_drain(&map, callback, ctx, 0) …
 * ```
 */
export class UserRingBuffer implements Disposable {
  readonly #held: HeldRing;
  readonly #size: number;
  readonly #mask: number;
  readonly #plainLoads: boolean;
  #closed = false;
  /** consumer_pos, in the read-only consumer page. */
  #consumer: BigInt64Array = EMPTY_I64;
  /** producer_pos, in the read-write producer page. */
  #producer: BigInt64Array = EMPTY_I64;
  /** The producer mapping: the producer page, then the data area twice in a row. */
  #mapping: ArrayBuffer = EMPTY_BUFFER;
  /** The producer mapping as 32-bit words, for record headers. */
  #words: Int32Array = EMPTY_I32;
  #dataStart = 0;

  /**
   * Opens a writer on a user ring buffer map.
   *
   * @throws {TypeError} when `source` is not a `BPF_MAP_TYPE_USER_RINGBUF` map.
   * @throws {BpfError} when `mmap(2)` fails, or `source` is an fd that is not a map.
   */
  constructor(source: RingBufferSource) {
    let fd: number;
    let type: number;
    let size: number;
    if (source instanceof BpfMap) {
      fd = source.fd;
      type = source.type;
      size = source.maxEntries;
    } else {
      const f = typeof source === "number"
        ? source
        : typeof source === "object" && source !== null
        ? source.fd
        : undefined;
      if (typeof f !== "number" || !Number.isInteger(f) || f < 0) {
        throw new TypeError(
          "UserRingBuffer needs a user_ringbuf BpfMap, an object with an fd, or an fd",
        );
      }
      const info = readMapInfo(f);
      fd = f;
      type = info.type;
      size = info.maxEntries;
    }
    if (type !== MapType.USER_RINGBUF) {
      const hint = type === MapType.RINGBUF ? " (read a ringbuf map with RingBuffer)" : "";
      throw new TypeError(
        `UserRingBuffer needs a user_ringbuf map (BPF_MAP_TYPE_USER_RINGBUF), got map type ${type}` +
          hint,
      );
    }
    this.#size = size;
    this.#mask = size - 1;
    // See RingBuffer: Bun's JIT turns Atomics.load into a read-modify-write, which faults on the
    // read-only consumer page.
    this.#plainLoads = sys().runtime === "bun";
    const { held, consumer: consumerBuffer, producer: mapping, page } = mapRing(fd, size, false);
    this.#held = held;
    this.#consumer = new BigInt64Array(consumerBuffer);
    this.#mapping = mapping;
    this.#producer = new BigInt64Array(this.#mapping, 0, 1);
    this.#words = new Int32Array(this.#mapping);
    this.#dataStart = page;
    finalizer.register(this, held, this);
  }

  /** Size of the data area in bytes (the map's `max_entries`). */
  get size(): number {
    return this.#size;
  }

  /** Whether {@link UserRingBuffer.close} has run. */
  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Bytes free for new records now (each record takes its size plus an 8-byte header, rounded
   * up to 8).
   *
   * @throws {RingBufferClosedError} once closed.
   */
  get free(): number {
    if (this.#closed) throw new RingBufferClosedError("free", "UserRingBuffer");
    return this.#size - Number(this.#producer[0] - this.#consumed());
  }

  /**
   * Reserves a record of `size` bytes and returns a zero-copy view of it to fill, or `undefined`
   * when the ring has no room. The record reaches BPF only after {@link UserRingBuffer.submit}.
   *
   * @throws {RangeError} for a size that is not an integer ≥ 0 or can never fit.
   * @throws {RingBufferClosedError} once closed.
   * @example
   * ```ts
   * import { BpfMap } from "@tsbpf/core";
   * import { UserRingBuffer } from "@tsbpf/core/ringbuf";
   * using map = BpfMap.create({ type: "user_ringbuf", maxEntries: 1 << 16 });
   * using urb = new UserRingBuffer(map);
   * const rec = urb.reserve(8);
   * if (rec) {
   *   new DataView(rec.buffer, rec.byteOffset, 8).setBigUint64(0, 42n, true);
   *   urb.submit(rec);
   * }
   * ```
   */
  reserve(size: number): Uint8Array | undefined {
    if (this.#closed) throw new RingBufferClosedError("reserve()", "UserRingBuffer");
    const total = (size + HDR_SZ + 7) & ~7;
    if (!Number.isInteger(size) || size < 0 || total > this.#size || size > 0x3fffffff) {
      throw new RangeError(
        `a record of ${size} bytes cannot fit in a ${this.#size}-byte user ring buffer`,
      );
    }
    const prod = this.#producer[0]; // only this producer writes it
    const used = Number(prod - this.#consumed());
    if (used + total > this.#size) return undefined;
    const offset = Number(prod & BigInt(this.#mask));
    const word = (this.#dataStart + offset) >>> 2;
    // Header: len with the busy bit, pg_off 0; published before producer_pos moves past it.
    this.#words[word + 1] = 0;
    Atomics.store(this.#words, word, size | BUSY_BIT);
    Atomics.store(this.#producer, 0, prod + BigInt(total));
    return new Uint8Array(this.#mapping, this.#dataStart + offset + HDR_SZ, size);
  }

  /**
   * Makes a reserved record visible to BPF.
   *
   * @throws {TypeError} when `record` is not a view from {@link UserRingBuffer.reserve} of this
   *   ring that is still reserved.
   * @throws {RingBufferClosedError} once closed.
   * @example
   * ```ts
   * import { BpfMap } from "@tsbpf/core";
   * import { UserRingBuffer } from "@tsbpf/core/ringbuf";
   * using map = BpfMap.create({ type: "user_ringbuf", maxEntries: 1 << 16 });
   * using urb = new UserRingBuffer(map);
   * const rec = urb.reserve(4);
   * if (rec) { rec.set([1, 2, 3, 4]); urb.submit(rec); }
   * ```
   */
  submit(record: Uint8Array): void {
    this.#commit(record, 0, "submit()");
  }

  /**
   * Drops a reserved record: BPF skips it.
   *
   * @throws {TypeError} when `record` is not a view from {@link UserRingBuffer.reserve} of this
   *   ring that is still reserved.
   * @throws {RingBufferClosedError} once closed.
   * @example
   * ```ts
   * import { BpfMap } from "@tsbpf/core";
   * import { UserRingBuffer } from "@tsbpf/core/ringbuf";
   * using map = BpfMap.create({ type: "user_ringbuf", maxEntries: 1 << 16 });
   * using urb = new UserRingBuffer(map);
   * const rec = urb.reserve(4);
   * if (rec) urb.discard(rec);
   * ```
   */
  discard(record: Uint8Array): void {
    this.#commit(record, DISCARD_BIT, "discard()");
  }

  /**
   * Copies `bytes` into a new record and submits it. Returns `false` when the ring has no room.
   *
   * @throws {RangeError} when `bytes` can never fit.
   * @throws {RingBufferClosedError} once closed.
   * @example
   * ```ts
   * import { BpfMap } from "@tsbpf/core";
   * import { UserRingBuffer } from "@tsbpf/core/ringbuf";
   * using map = BpfMap.create({ type: "user_ringbuf", maxEntries: 1 << 16 });
   * using urb = new UserRingBuffer(map);
   * urb.write(new TextEncoder().encode("hello"));
   * ```
   */
  write(bytes: Uint8Array): boolean {
    const rec = this.reserve(bytes.byteLength);
    if (rec === undefined) return false;
    rec.set(bytes);
    this.submit(rec);
    return true;
  }

  /**
   * Unmaps the ring; later calls do nothing. Views from `reserve()` kept past it are emptied
   * (length 0: reads give `undefined`, writes do nothing).
   *
   * @example
   * ```ts
   * import { BpfMap } from "@tsbpf/core";
   * import { UserRingBuffer } from "@tsbpf/core/ringbuf";
   * using map = BpfMap.create({ type: "user_ringbuf", maxEntries: 1 << 16 });
   * const urb = new UserRingBuffer(map);
   * urb.close();
   * ```
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    finalizer.unregister(this);
    this.#consumer = EMPTY_I64;
    this.#producer = EMPTY_I64;
    this.#mapping = EMPTY_BUFFER;
    this.#words = EMPTY_I32;
    releaseRing(this.#held);
  }

  /** Closes at the end of a `using` block. */
  [Symbol.dispose](): void {
    this.close();
  }

  #consumed(): bigint {
    return this.#plainLoads ? this.#consumer[0] : Atomics.load(this.#consumer, 0);
  }

  #commit(record: Uint8Array, bit: number, what: string): void {
    if (this.#closed) throw new RingBufferClosedError(what, "UserRingBuffer");
    const at = record.byteOffset - HDR_SZ;
    const offset = at - this.#dataStart;
    if (
      !(record instanceof Uint8Array) || record.buffer !== this.#mapping || offset < 0 ||
      offset >= this.#size || (at & 7) !== 0
    ) {
      throw new TypeError(`${what} takes a record returned by reserve() of this ring`);
    }
    const word = at >>> 2;
    const len = Atomics.load(this.#words, word);
    if ((len & BUSY_BIT) === 0 || (len & ~(BUSY_BIT | DISCARD_BIT)) !== record.byteLength) {
      throw new TypeError(`${what}: this record is not reserved (submitted or discarded already?)`);
    }
    Atomics.store(this.#words, word, record.byteLength | bit);
  }
}
