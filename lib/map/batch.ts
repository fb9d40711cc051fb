/**
 * `BatchReader`: a preallocated cursor over `BPF_MAP_LOOKUP_BATCH` (or
 * `BPF_MAP_LOOKUP_AND_DELETE_BATCH`), reading a map chunk by chunk into fixed buffers with no
 * allocation per call.
 *
 * @module
 */
import { MAP_BATCH_ATTR } from "../../types/attr.ts";
import { BpfCmd } from "../../types/cmd.ts";
import { ArgumentError, BpfError } from "../errors.ts";
import { alloc } from "../sys/memory.ts";
import { mapBatch } from "../sys/bpf_cmds.ts";
import { sys } from "../sys/mod.ts";
import type { Sys } from "../sys/types.ts";
import { Errno } from "../../types/errno.ts";

const ENOENT = Errno.ENOENT;
const ENOSPC = Errno.ENOSPC;

const F = MAP_BATCH_ATTR.fields;
const OFF_IN = F.in_batch.offset;
const OFF_OUT = F.out_batch.offset;
const OFF_KEYS = F.keys.offset;
const OFF_VALUES = F.values.offset;
const OFF_COUNT = F.count.offset;
const OFF_FD = F.map_fd.offset;
const OFF_ELEM_FLAGS = F.elem_flags.offset;
const ATTR_SIZE = MAP_BATCH_ATTR.size;

/** What a {@link BatchReader} needs from its map. */
export interface BatchSource {
  /** The map's fd; throws once the map is closed. */
  readonly fd: number;
  /** Key size in bytes. */
  readonly keySize: number;
  /** Bytes of one entry's value as the kernel copies it (all CPUs for per-CPU maps). */
  readonly valueBytes: number;
  /** For messages. */
  readonly label: string;
}

/** Most entries one batch call may move (`count` is a u32; larger chunks only waste memory). */
const MAX_BATCH_CHUNK = 1 << 20;
/** Most bytes of key and value buffers one batch reader may allocate. */
const MAX_BATCH_BYTES = 1 << 30;

/**
 * Checks a batch chunk size (entries per call): an integer 1..2^20 whose key and value buffers
 * (`entryBytes` per entry) stay under 1 GiB. Every call that takes a `chunk` checks it, also
 * where the map has no batch command and the chunk would go unused.
 *
 * @throws {ArgumentError} naming `chunk` otherwise.
 */
export function checkBatchChunk(capacity: number, entryBytes: number): void {
  if (!Number.isInteger(capacity) || capacity < 1 || capacity > MAX_BATCH_CHUNK) {
    throw new ArgumentError(
      "chunk",
      `batch capacity (chunk) must be an integer 1..${MAX_BATCH_CHUNK}, got ${String(capacity)}`,
    );
  }
  const bytes = capacity * entryBytes;
  if (bytes > MAX_BATCH_BYTES) {
    throw new ArgumentError(
      "chunk",
      `a batch chunk of ${capacity} entries needs ${bytes} bytes of buffers, over ` +
        `${MAX_BATCH_BYTES}: use a smaller chunk`,
    );
  }
}

/**
 * Reads a map with `BPF_MAP_LOOKUP_BATCH` (or `BPF_MAP_LOOKUP_AND_DELETE_BATCH`, with
 * `drain: true`) into preallocated `keys`/`values` buffers. Each {@link BatchReader.next} fetches
 * up to `capacity` entries; the cursor is the kernel's (a bucket index for hash maps, so
 * concurrent deletes never make it restart). Get one from `BpfMap.batchReader()`.
 *
 * @example
 * ```ts
 * import { BpfMap, u32 } from "@tsbpf/core";
 * using map = BpfMap.create({ type: "hash", key: u32, value: u32, maxEntries: 16 });
 * map.set(1, 10).set(2, 20);
 * const reader = map.batchReader(1024);
 * for (let n = reader.next(); n > 0; n = reader.next()) {
 *   const keys = new Uint32Array(reader.keys.buffer, 0, n); // [1, 2] in hash order
 * }
 * ```
 */
export class BatchReader {
  readonly #src: BatchSource;
  readonly #s: Sys;
  readonly #cmd: typeof BpfCmd.MAP_LOOKUP_BATCH | typeof BpfCmd.MAP_LOOKUP_AND_DELETE_BATCH;
  readonly #attr: Uint8Array<ArrayBuffer>;
  readonly #view: DataView;
  readonly #tokIn: Uint8Array<ArrayBuffer>;
  readonly #tokOut: Uint8Array<ArrayBuffer>;
  readonly #tokInAddr: bigint;
  #keys: Uint8Array<ArrayBuffer>;
  #values: Uint8Array<ArrayBuffer>;
  #capacity: number;
  #count = 0;
  #done = false;
  #started = false;

  /** Allocates buffers for `capacity` entries. Prefer `BpfMap.batchReader()`. */
  constructor(source: BatchSource, capacity: number, drain = false) {
    checkBatchChunk(capacity, source.keySize + source.valueBytes);
    this.#src = source;
    this.#s = sys();
    this.#cmd = drain ? BpfCmd.MAP_LOOKUP_AND_DELETE_BATCH : BpfCmd.MAP_LOOKUP_BATCH;
    this.#attr = alloc(ATTR_SIZE);
    this.#view = new DataView(this.#attr.buffer);
    // The cursor is a u32 bucket index for hash maps and a key for the generic implementation.
    const tok = Math.max(8, Math.ceil(source.keySize / 8) * 8);
    this.#tokIn = alloc(tok);
    this.#tokOut = alloc(tok);
    this.#tokInAddr = this.#s.addressOf(this.#tokIn);
    this.#capacity = capacity;
    this.#keys = alloc(Math.max(1, capacity * source.keySize));
    this.#values = alloc(Math.max(1, capacity * source.valueBytes));
    this.#bind();
  }

  /** Touches every page once, so that the kernel's first copy into them takes no page faults. */
  static #prefault(buf: Uint8Array): void {
    for (let i = 0; i < buf.length; i += 4096) buf[i] = 0;
  }

  #bind(): void {
    BatchReader.#prefault(this.#keys);
    BatchReader.#prefault(this.#values);
    const v = this.#view;
    v.setBigUint64(OFF_OUT, this.#s.addressOf(this.#tokOut), true);
    v.setBigUint64(OFF_KEYS, this.#s.addressOf(this.#keys), true);
    v.setBigUint64(OFF_VALUES, this.#s.addressOf(this.#values), true);
    v.setBigUint64(OFF_ELEM_FLAGS, 0n, true);
  }

  /** Keys of the last chunk: `count × keySize` bytes at the start. */
  get keys(): Uint8Array<ArrayBuffer> {
    return this.#keys;
  }

  /** Values of the last chunk: `count × valueBytes` bytes at the start. */
  get values(): Uint8Array<ArrayBuffer> {
    return this.#values;
  }

  /** Entries in the last chunk. */
  get count(): number {
    return this.#count;
  }

  /** Whether the end of the map was reached. */
  get done(): boolean {
    return this.#done;
  }

  /** Entries the buffers hold (grows when a hash bucket does not fit). */
  get capacity(): number {
    return this.#capacity;
  }

  /** Starts again from the beginning of the map. */
  reset(): void {
    this.#done = false;
    this.#started = false;
    this.#count = 0;
  }

  /**
   * Fetches the next chunk into {@link BatchReader.keys} / {@link BatchReader.values}. Returns the
   * number of entries (0 once the map is exhausted).
   *
   * @throws {BpfError} when the kernel refuses (e.g. `ENOTSUPP` for a map type without batch ops).
   */
  next(): number {
    if (this.#done) return (this.#count = 0);
    const v = this.#view;
    const fd = this.#src.fd;
    for (;;) {
      v.setUint32(OFF_FD, fd, true);
      v.setUint32(OFF_COUNT, this.#capacity, true);
      v.setBigUint64(OFF_IN, this.#started ? this.#tokInAddr : 0n, true);
      const r = mapBatch(this.#cmd, this.#attr);
      const n = v.getUint32(OFF_COUNT, true);
      if (r < 0) {
        if (r === -ENOENT) {
          this.#done = true;
          return (this.#count = n);
        }
        if (r === -ENOSPC && n === 0) {
          // One hash bucket holds more entries than the buffers: grow and retry.
          this.#grow(this.#capacity * 2);
          continue;
        }
        throw new BpfError(this.#cmd, -r, this.#src.label);
      }
      this.#tokIn.set(this.#tokOut);
      this.#started = true;
      if (n === 0) this.#done = true;
      return (this.#count = n);
    }
  }

  #grow(capacity: number): void {
    this.#capacity = capacity;
    this.#keys = alloc(capacity * this.#src.keySize);
    this.#values = alloc(capacity * this.#src.valueBytes);
    this.#bind();
  }
}

/** How a {@link TypedBatchReader} decodes one key or value: from a DataView at a byte offset. */
export type EntryDecoder<T> = (view: DataView, bytes: Uint8Array, offset: number) => T;

/**
 * A {@link BatchReader} that also decodes, on demand, the entries of the chunk it holds, with
 * its map's codecs: a columnar view, where `key(i)` and `value(i)` decode one field of entry `i`
 * and nothing else is allocated (no `[key, value]` pairs, no arrays). Get one from
 * `BpfMap.batchReader()`; the raw `keys`/`values` bytes stay available.
 *
 * @example
 * ```ts
 * import { BpfMap, u32, u64 } from "@tsbpf/core";
 * using map = BpfMap.create({ type: "hash", key: u32, value: u64, maxEntries: 64 });
 * map.set(1, 5n).set(2, 7n);
 * const r = map.batchReader(4096);
 * let sum = 0n;
 * for (let n = r.next(); n > 0 || !r.done; n = r.next()) {
 *   for (let i = 0; i < n; i++) sum += r.value(i);
 * }
 * ```
 */
export class TypedBatchReader<K, V> extends BatchReader {
  readonly #keySize: number;
  readonly #valueBytes: number;
  readonly #decodeKey: EntryDecoder<K>;
  readonly #decodeValue: EntryDecoder<V>;
  #keyBytes: Uint8Array = new Uint8Array(0);
  #keyView: DataView = new DataView(new ArrayBuffer(0));
  #valueBytesView: Uint8Array = new Uint8Array(0);
  #valueView: DataView = new DataView(new ArrayBuffer(0));

  /** Prefer `BpfMap.batchReader()`. */
  constructor(
    source: BatchSource,
    capacity: number,
    drain: boolean,
    decodeKey: EntryDecoder<K>,
    decodeValue: EntryDecoder<V>,
  ) {
    super(source, capacity, drain);
    this.#keySize = source.keySize;
    this.#valueBytes = source.valueBytes;
    this.#decodeKey = decodeKey;
    this.#decodeValue = decodeValue;
    this.#sync();
  }

  /** Views over the current buffers (they are replaced when a bucket does not fit). */
  #sync(): void {
    const k = this.keys;
    if (k !== this.#keyBytes) {
      this.#keyBytes = k;
      this.#keyView = new DataView(k.buffer, k.byteOffset, k.byteLength);
    }
    const v = this.values;
    if (v !== this.#valueBytesView) {
      this.#valueBytesView = v;
      this.#valueView = new DataView(v.buffer, v.byteOffset, v.byteLength);
    }
  }

  /** Fetches the next chunk ({@link BatchReader.next}). */
  override next(): number {
    const n = super.next();
    this.#sync();
    return n;
  }

  /**
   * The key of entry `i` of the chunk held, decoded (a fresh `Uint8Array` copy for a map without
   * a key codec).
   *
   * @throws {ArgumentError} when `i` is not an entry of the chunk held.
   */
  key(i: number): K {
    if (!(i >= 0 && i < this.count) || !Number.isInteger(i)) this.#outOfRange(i);
    return this.#decodeKey(this.#keyView, this.#keyBytes, i * this.#keySize);
  }

  /**
   * The value of entry `i` of the chunk held, decoded (an array of one value per CPU for per-CPU
   * maps; a fresh `Uint8Array` copy without a value codec).
   *
   * @throws {ArgumentError} when `i` is not an entry of the chunk held.
   */
  value(i: number): V {
    if (!(i >= 0 && i < this.count) || !Number.isInteger(i)) this.#outOfRange(i);
    return this.#decodeValue(this.#valueView, this.#valueBytesView, i * this.#valueBytes);
  }

  #outOfRange(i: number): never {
    throw new ArgumentError("i", `entry ${i} is not in the chunk held (${this.count} entries)`);
  }
}
