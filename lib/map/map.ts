/**
 * `BpfMap`: a BPF map handle — create, read, write, iterate, batch, pin — with optional typed keys
 * and values (codecs) and no allocation per call on the hot path. The class is the public face;
 * the work is done by one module per concept: `open.ts` (create, adopt by fd, id or pin),
 * `handle.ts` (fd, shape, scratch memory), `encode.ts` and `percpu.ts` (keys and values),
 * `crud.ts` (element operations), `iterate.ts`, `batch_ops.ts`.
 *
 * @module
 */
import { describeHandle, INSPECT_SYMBOLS } from "../fd.ts";
import { requireObject } from "../args.ts";
import { ArgumentError } from "../errors.ts";
import { pinFd, unpinPath } from "../pin.ts";
import { listIds } from "../ids.ts";
import { BpfCmd } from "../../types/cmd.ts";
import type { TypedBatchReader } from "./batch.ts";
import {
  batchDelete,
  batchLookup,
  batchLookupAndDelete,
  batchUpdate,
  clear,
  typedBatchReader,
} from "./batch_ops.ts";
import {
  contains,
  freeze,
  isFrozen,
  lookup,
  lookupAndDelete,
  lookupInto,
  nextKey,
  peek,
  pop,
  push,
  remove,
  update,
} from "./crud.ts";
import type { MapDescription } from "../verifier/maps.ts";
import type { Codec } from "../codec/codec.ts";
import type { MapHandle } from "./handle.ts";
import { type MapInfo, readMapInfo } from "./info.ts";
import { countEntries, scanEntries, walk } from "./iterate.ts";
import type { MapTypeInfo, MapTypeInput } from "./map_types.ts";
import { adoptMap, createMap, openMapById, openPinnedMap } from "./open.ts";
import type {
  BatchOptions,
  IterateOptions,
  MapCodecs,
  MapCreateOptions,
  MapValue,
} from "./types.ts";

export type {
  BatchOptions,
  IterateOptions,
  MapBtfRef,
  MapCodecs,
  MapCreateOptions,
  MapValue,
  PerCpuMapType,
} from "./types.ts";

/**
 * A BPF map. Keys and values are raw `Uint8Array`s of exactly `keySize`/`valueSize` bytes, or
 * typed through codecs (`key: u32, value: struct({ pkts: u64, bytes: u64 })`). Per-CPU maps read
 * and write one value per possible CPU.
 *
 * Every operation reuses scratch memory allocated with the map (attr, key and value buffers whose
 * addresses are computed once), so reads and writes allocate nothing but the values they return.
 *
 * Iteration (`keys()`, `values()`, `entries()`, `for…of`) never yields an entry twice and never
 * loops forever, also when entries are deleted meanwhile (by the loop body, other code or BPF
 * programs): every entry present for the whole iteration is seen exactly once; an entry deleted
 * meanwhile is seen at most once. The kernel's `BPF_MAP_GET_NEXT_KEY` restarts from its first key
 * when the key it is given no longer exists; how that is handled depends on the type
 * (`MapTypeInfo.iterate`):
 * - hash maps (`hash`, `lru_hash`, their per-CPU forms, `hash_of_maps`) are read in chunks with
 *   `BPF_MAP_LOOKUP_BATCH`, whose cursor is a bucket index: a deleted key cannot send the walk
 *   back, and a chunk costs one system call (`{ batch: false }` walks with get_next_key instead);
 * - array-like maps walk increasing indices; a restart shows as a smaller index and is skipped;
 * - other maps (`lpm_trie`, `sockhash`, `devmap_hash`, and hash maps with `batch: false`) walk
 *   with get_next_key one key ahead: the successor of a key is fetched before the key is handed
 *   out, so deleting the current key never causes a restart. When a restart happens anyway (the
 *   prefetched key was deleted), the iterator recognises it by its set of yielded keys (memory
 *   proportional to the number of keys), resumes from the newest recently yielded key that still
 *   exists, and only if none is left re-walks from the start, skipping what it has yielded. The
 *   walk gives up with an error after 8 × max_entries calls, which only a map whose keys are
 *   deleted and re-added faster than it advances can reach.
 *
 * Without a codec, keys and values are `Uint8Array`s of exactly `keySize`/`valueSize` bytes;
 * returned arrays are fresh copies (under Deno small ones share a slab: mind `byteOffset`, and do
 * not transfer or detach their `.buffer`, which other returned values share).
 * `getInto()` reads into a caller's buffer without allocating.
 *
 * @example
 * ```ts
 * import { BpfMap, struct, u32, u64 } from "@tsbpf/core";
 * using counts = BpfMap.create({
 *   type: "hash",
 *   key: u32,
 *   value: struct({ pkts: u64, bytes: u64 }),
 *   maxEntries: 1024,
 * });
 * counts.set(42, { pkts: 3n, bytes: 120n });
 * counts.get(42); // { pkts: 3n, bytes: 120n }
 * for (const [k, v] of counts) console.log(k, v.pkts);
 * ```
 */
export class BpfMap<K = Uint8Array, V = Uint8Array> {
  readonly #h: MapHandle;

  /** Wraps a map handle (which owns the fd). Use the static constructors. */
  private constructor(handle: MapHandle) {
    this.#h = handle;
  }

  // ---------------------------------------------------------------------------------------------
  // Creation and opening

  /**
   * Creates a map (`BPF_MAP_CREATE`). Sizes default to the codecs' sizes and to what the type
   * requires; flags the type requires are added; BTF is generated where the kernel needs it.
   * Arguments are checked against the map type table before the system call.
   *
   * @throws {ArgumentError} for arguments the kernel would refuse (wrong sizes, a name it
   * rejects, a missing `innerMap`…).
   * @throws {BpfError} when the kernel refuses (e.g. `EPERM` without privileges).
   * @example
   * ```ts
   * import { BpfMap, u32, u64 } from "@tsbpf/core";
   * using m = BpfMap.create({ type: "percpu_array", key: u32, value: u64, maxEntries: 4 });
   * m.get(0); // [0n, 0n, …] one per possible CPU
   * ```
   */
  static create<K = Uint8Array, V = Uint8Array, const T extends MapTypeInput = MapTypeInput>(
    options: MapCreateOptions<K, V> & { type: T },
  ): BpfMap<K, MapValue<T, V>> {
    requireObject("BpfMap.create", "options", options);
    return new BpfMap<K, MapValue<T, V>>(createMap(options));
  }

  /**
   * Wraps a map fd that the caller opened, reading its shape with `BPF_OBJ_GET_INFO_BY_FD`.
   *
   * Ownership: the fd is checked first (an integer, open, a BPF map, codecs that fit). If a check
   * fails, the error is thrown and the fd is left exactly as it was, still owned by the caller.
   * Only on success does the returned map own it: `close()` (or `using`, or garbage collection of
   * an unclosed map) closes it, so the caller must not close it as well.
   *
   * @throws {BpfError} `EBADF` when `fd` is not an open fd of a BPF map (with the fd left open);
   * `BPF_OBJ_GET_INFO_BY_FD` failures.
   * @throws {CodecError} when a codec's size does not match the map's key or value size.
   * @example
   * ```ts
   * import { BpfMap, u32, u64 } from "@tsbpf/core";
   * using map = BpfMap.create({ type: "hash", key: u32, value: u64, maxEntries: 64 });
   * import { openPinned, pinFd, unpinPath } from "../pin.ts";
   * const path = `/sys/fs/bpf/doc_map_${Deno.pid}`;
   * pinFd(map.fd, path);
   * const fdFromElsewhere = openPinned(path);
   * unpinPath(path);
   * using m = BpfMap.fromFd(fdFromElsewhere); // m owns the fd from here on
   * m.maxEntries; // 64
   * ```
   */
  static fromFd<K = Uint8Array, V = Uint8Array>(
    fd: number,
    codecs: MapCodecs<K, V> = {},
  ): BpfMap<K, V> {
    return new BpfMap<K, V>(adoptMap(fd, codecs, false));
  }

  /**
   * Opens the map with the given id (`BPF_MAP_GET_FD_BY_ID`). For a per-CPU map, values are
   * arrays: type it as `BpfMap<K, V[]>`. The fd is opened here and owned by the returned map; if
   * the map cannot be wrapped, it is closed before the error is thrown.
   *
   * @throws {BpfError} `ENOENT` when no map has that id.
   * @example
   * ```ts
   * import { BpfMap, u32, u64 } from "@tsbpf/core";
   * using map = BpfMap.create({ type: "hash", key: u32, value: u64, maxEntries: 64 });
   * map.set(1, 2n);
   * using m = BpfMap.fromId(map.id, { key: u32, value: u64 });
   * m.get(1); // 2n
   * ```
   */
  static fromId<K = Uint8Array, V = Uint8Array>(
    id: number,
    codecs: MapCodecs<K, V> = {},
  ): BpfMap<K, V> {
    return new BpfMap<K, V>(openMapById(id, codecs));
  }

  /**
   * Opens a map pinned in bpffs (`BPF_OBJ_GET`). The fd is opened here and owned by the returned
   * map (closed before the error is thrown when the pinned object is not a usable map).
   *
   * @throws {BpfError} `ENOENT` when nothing is pinned there.
   * @example
   * ```ts
   * import { BpfMap, u32, u64 } from "@tsbpf/core";
   * using map = BpfMap.create({ type: "hash", key: u32, value: u64, maxEntries: 64 });
   * const path = `/sys/fs/bpf/doc_map_${Deno.pid}`;
   * map.pin(path);
   * using m = BpfMap.fromPin(path, { key: u32 });
   * BpfMap.unpin(path);
   * ```
   */
  static fromPin<K = Uint8Array, V = Uint8Array>(
    path: string,
    codecs: MapCodecs<K, V> = {},
  ): BpfMap<K, V> {
    return new BpfMap<K, V>(openPinnedMap(path, codecs));
  }

  /**
   * Ids of every map in the kernel (`BPF_MAP_GET_NEXT_ID`), ascending.
   *
   * @example
   * ```ts
   * import { BpfMap } from "@tsbpf/core";
   * console.log(BpfMap.list().length);
   * ```
   */
  static list(): number[] {
    return listIds(BpfCmd.MAP_GET_NEXT_ID);
  }

  /**
   * Removes a bpffs pin (the map lives on while anything else holds it).
   *
   * @example
   * ```ts
   * import { BpfMap, u32, u64 } from "@tsbpf/core";
   * using map = BpfMap.create({ type: "hash", key: u32, value: u64, maxEntries: 64 });
   * const path = `/sys/fs/bpf/doc_map_${Deno.pid}`;
   * map.pin(path);
   * BpfMap.unpin(path);
   * ```
   */
  static unpin(path: string): void {
    unpinPath(path);
  }

  // ---------------------------------------------------------------------------------------------
  // Properties

  /** The file descriptor. @throws {MapClosedError} once closed. */
  get fd(): number {
    return this.#h.openFd("fd");
  }

  /** Whether {@link BpfMap.close} has run. */
  get closed(): boolean {
    return this.#h.fd < 0;
  }

  /** Map type number. */
  get type(): number {
    return this.#h.shape.type;
  }

  /** Map type name, e.g. `"hash"`. */
  get typeName(): string {
    return this.#h.spec.name;
  }

  /** The map type's row of the table: supported operations, key and value kinds. */
  get typeInfo(): MapTypeInfo {
    return this.#h.spec;
  }

  /** Key size in bytes. */
  get keySize(): number {
    return this.#h.shape.keySize;
  }

  /** Value size in bytes (one CPU's value, for per-CPU maps). */
  get valueSize(): number {
    return this.#h.shape.valueSize;
  }

  /** max_entries. */
  get maxEntries(): number {
    return this.#h.shape.maxEntries;
  }

  /** map_flags the map was created with. */
  get flags(): number {
    return this.#h.shape.flags;
  }

  /** The name given at creation. */
  get name(): string {
    return this.#h.shape.name;
  }

  /** Whether values are per-CPU arrays. */
  get perCpu(): boolean {
    return this.#h.spec.perCpu;
  }

  /** Values per key: the number of possible CPUs for per-CPU maps, else 1. */
  get cpus(): number {
    return this.#h.ncpu;
  }

  /** The kernel's id of the map. */
  get id(): number {
    if (this.#h.id === 0) this.#h.id = this.info().id;
    return this.#h.id;
  }

  /** Where {@link BpfMap.pin} last pinned the map, if it is still pinned there. */
  get pinnedPath(): string | undefined {
    return this.#h.pinnedAt;
  }

  /**
   * This map as the deep checker's data (`checkProgram({ maps: { [fd]: m.describe() } })`).
   *
   * @example
   * ```ts
   * import { BpfMap, u32, u64 } from "@tsbpf/core";
   * using counts = BpfMap.create({ type: "hash", key: u32, value: u64, maxEntries: 64 });
   * const maps = { [counts.fd]: counts.describe() }; // { type: 1, keySize: 4, … }
   * ```
   */
  describe(): MapDescription {
    const s = this.#h.shape;
    const d: MapDescription = {
      type: s.type,
      keySize: s.keySize,
      valueSize: s.valueSize,
      maxEntries: s.maxEntries,
      flags: s.flags,
      ...(s.name ? { name: s.name } : {}),
    };
    const lock = spinLockOffset(this.#h.valueCodec, 0);
    if (lock !== undefined) {
      d.btf = {};
      d.spinLock = lock;
    } else if (this.#h.valueCodec === undefined && this.#h.fd >= 0) {
      // A codec's BTF has no special field but a spin lock. Without a codec, the map may have
      // been created with BTF elsewhere (an object, another process) whose value holds special
      // fields this map does not know of: the checker is told there is BTF and nothing more.
      const info = readMapInfo(this.#h.fd);
      if (info.btfValueTypeId !== 0) {
        d.btf = { keyTypeId: info.btfKeyTypeId, valueTypeId: info.btfValueTypeId };
      }
    }
    return d;
  }

  /**
   * Fresh `struct bpf_map_info` from the kernel.
   *
   * @example
   * ```ts
   * import { BpfMap, u32, u64 } from "@tsbpf/core";
   * using map = BpfMap.create({ type: "hash", key: u32, value: u64, maxEntries: 64 });
   * const { id, maxEntries, name } = map.info(); // …, 64, ""
   * ```
   */
  info(): MapInfo {
    const info = readMapInfo(this.#h.openFd("info"));
    this.#h.id = info.id;
    return info;
  }

  // ---------------------------------------------------------------------------------------------
  // Element operations

  /**
   * Looks a key up (`BPF_MAP_LOOKUP_ELEM`). Returns `undefined` when the key is absent. `flags`
   * may be `ElemFlag.LOCK` (copy under the value's `bpf_spin_lock`).
   *
   * @example
   * ```ts
   * import { BpfMap, u32, u64 } from "@tsbpf/core";
   * using map = BpfMap.create({ type: "hash", key: u32, value: u64, maxEntries: 64 });
   * map.set(42, 1n);
   * const v = map.get(42); // 1n (undefined when absent)
   * ```
   */
  get(key: K, flags = 0): V | undefined {
    return lookup<K, V>(this.#h, key, flags);
  }

  /**
   * Looks a key up into `out` without allocating: raw value bytes (all CPUs' values for per-CPU
   * maps, each rounded up to 8 bytes). Returns false when the key is absent.
   *
   * @example
   * ```ts
   * import { BpfMap, u32, u64 } from "@tsbpf/core";
   * using map = BpfMap.create({ type: "hash", key: u32, value: u64, maxEntries: 64 });
   * map.set(7, 5n);
   * const out = new Uint8Array(map.valueSize);
   * if (map.getInto(7, out)) console.log(out[0]); // 5
   * ```
   */
  getInto(key: K, out: Uint8Array, flags = 0): boolean {
    return lookupInto(this.#h, key, out, flags);
  }

  /**
   * Writes a value (`BPF_MAP_UPDATE_ELEM`). `flags`: `ElemFlag.ANY` (default), `NOEXIST` (only a
   * new key), `EXIST` (only an existing key), optionally or-ed with `LOCK`.
   *
   * @throws {BpfError} e.g. `EEXIST` with NOEXIST, `ENOENT` with EXIST, `E2BIG` when full.
   * @example
   * ```ts
   * import { BpfMap, u32, u64 } from "@tsbpf/core";
   * using map = BpfMap.create({ type: "hash", key: u32, value: u64, maxEntries: 64 });
   * import { ElemFlag } from "@tsbpf/core";
   * map.set(42, 7n);
   * map.set(43, 1n, ElemFlag.NOEXIST);
   * ```
   */
  set(key: K, value: V, flags = 0): this {
    update(this.#h, key, value, flags);
    return this;
  }

  /**
   * Deletes a key (`BPF_MAP_DELETE_ELEM`). Returns false when it was absent.
   *
   * @example
   * ```ts
   * import { BpfMap, u32, u64 } from "@tsbpf/core";
   * using map = BpfMap.create({ type: "hash", key: u32, value: u64, maxEntries: 64 });
   * map.set(42, 1n);
   * map.delete(42); // true
   * ```
   */
  delete(key: K): boolean {
    return remove(this.#h, key);
  }

  /**
   * Whether a key is present. For a bloom filter, whether a value may have been pushed (`false`:
   * certainly not).
   *
   * @example
   * ```ts
   * import { BpfMap, u32, u64 } from "@tsbpf/core";
   * using map = BpfMap.create({ type: "hash", key: u32, value: u64, maxEntries: 64 });
   * map.set(42, 1n);
   * map.has(42); // true
   * using bloom = BpfMap.create({ type: "bloom_filter", value: u64, maxEntries: 64 });
   * bloom.push(5n);
   * bloom.has(6n); // false means never pushed
   * ```
   */
  has(keyOrValue: K | V): boolean {
    return contains(this.#h, keyOrValue);
  }

  /**
   * Looks a key up and deletes it in one step (`BPF_MAP_LOOKUP_AND_DELETE_ELEM`; hash maps).
   * Returns `undefined` when the key was absent.
   *
   * @example
   * ```ts
   * import { BpfMap, u32, u64 } from "@tsbpf/core";
   * using map = BpfMap.create({ type: "hash", key: u32, value: u64, maxEntries: 64 });
   * map.set(42, 9n);
   * const last = map.getAndDelete(42); // 9n
   * ```
   */
  getAndDelete(key: K, flags = 0): V | undefined {
    return lookupAndDelete<K, V>(this.#h, key, flags);
  }

  /**
   * The key after `key` in the kernel's order (`BPF_MAP_GET_NEXT_KEY`), the first key when `key`
   * is `undefined`, or `undefined` at the end. Note the kernel's rule: when `key` is not in the
   * map (e.g. just deleted), hash maps answer with their first key.
   *
   * @example
   * ```ts
   * import { BpfMap, u32, u64 } from "@tsbpf/core";
   * using map = BpfMap.create({ type: "hash", key: u32, value: u64, maxEntries: 64 });
   * map.set(1, 1n).set(2, 2n);
   * for (let k = map.nextKey(); k !== undefined; k = map.nextKey(k)) console.log(k);
   * ```
   */
  nextKey(key?: K): K | undefined {
    return nextKey<K>(this.#h, key);
  }

  // ---------------------------------------------------------------------------------------------
  // Queue, stack, bloom filter

  /**
   * Pushes a value onto a queue, stack or bloom filter (`BPF_MAP_UPDATE_ELEM` with no key). With
   * `ElemFlag.EXIST`, a full queue or stack drops its oldest element instead of failing.
   *
   * @throws {BpfError} `E2BIG` when a queue or stack is full (without EXIST).
   * @example
   * ```ts
   * import { BpfMap, u64 } from "@tsbpf/core";
   * using queue = BpfMap.create({ type: "queue", value: u64, maxEntries: 8 });
   * queue.push(1n);
   * using bloom = BpfMap.create({ type: "bloom_filter", value: u64, maxEntries: 64 });
   * bloom.push(5n);
   * ```
   */
  push(value: V, flags = 0): void {
    push(this.#h, value, flags);
  }

  /**
   * Removes and returns the next element of a queue (oldest) or stack (newest)
   * (`BPF_MAP_LOOKUP_AND_DELETE_ELEM`); `undefined` when empty.
   *
   * @example
   * ```ts
   * import { BpfMap, u64 } from "@tsbpf/core";
   * using queue = BpfMap.create({ type: "queue", value: u64, maxEntries: 8 });
   * queue.push(1n);
   * const v = queue.pop(); // 1n
   * ```
   */
  pop(): V | undefined {
    return pop<V>(this.#h);
  }

  /**
   * Returns the element {@link BpfMap.pop} would remove, without removing it; `undefined` when
   * empty.
   *
   * @example
   * ```ts
   * import { BpfMap, u64 } from "@tsbpf/core";
   * using stack = BpfMap.create({ type: "stack", value: u64, maxEntries: 8 });
   * stack.push(3n);
   * const next = stack.peek(); // 3n, still in the stack
   * ```
   */
  peek(): V | undefined {
    return peek<V>(this.#h);
  }

  // ---------------------------------------------------------------------------------------------
  // Freeze

  /**
   * Makes the map read-only for user space from now on (`BPF_MAP_FREEZE`); programs may still
   * write unless the map has `BPF_F_RDONLY_PROG`. Cannot be undone.
   *
   * @throws {BpfError} `EBUSY` when already frozen or writably mapped; `ENOTSUPP` for values with a
   * spin lock or timer.
   * @example
   * ```ts
   * import { BpfMap, u32, u64 } from "@tsbpf/core";
   * using config = BpfMap.create({ type: "array", key: u32, value: u64, maxEntries: 1 });
   * config.set(0, 42n);
   * config.freeze(); // programs still read it; user space can no longer write
   * ```
   */
  freeze(): void {
    freeze(this.#h);
  }

  /**
   * Whether the map is frozen (from `/proc/self/fdinfo`).
   *
   * @example
   * ```ts
   * import { BpfMap, u32, u64 } from "@tsbpf/core";
   * using map = BpfMap.create({ type: "hash", key: u32, value: u64, maxEntries: 64 });
   * map.freeze();
   * map.frozen; // true
   * ```
   */
  get frozen(): boolean {
    return isFrozen(this.#h);
  }

  // ---------------------------------------------------------------------------------------------
  // Iteration

  /**
   * Keys, in the kernel's order. See the class documentation for behaviour under concurrent
   * deletes: no entry twice, no endless loop. For array-like maps every index is a key.
   *
   * @example
   * ```ts
   * import { BpfMap, u32, u64 } from "@tsbpf/core";
   * using map = BpfMap.create({ type: "hash", key: u32, value: u64, maxEntries: 64 });
   * map.set(1, 1n);
   * for (const k of map.keys()) console.log(k);
   * ```
   */
  *keys(options: IterateOptions = {}): Generator<K, void, undefined> {
    for (const e of walk<K, V>(this.#h, "keys", false, options)) yield e[0];
  }

  /**
   * Values, in the kernel's order of their keys.
   *
   * @example
   * ```ts
   * import { BpfMap, u32, u64 } from "@tsbpf/core";
   * using map = BpfMap.create({ type: "hash", key: u32, value: u64, maxEntries: 64 });
   * map.set(1, 1n).set(2, 2n);
   * let total = 0n;
   * for (const v of map.values()) total += v; // 3n
   * ```
   */
  *values(options: IterateOptions = {}): Generator<V, void, undefined> {
    for (const e of walk<K, V>(this.#h, "values", true, options)) yield e[1] as V;
  }

  /**
   * `[key, value]` pairs, in the kernel's order. An entry deleted between reading its key and its
   * value is skipped; for fd arrays (`prog_array`, devmap…) only occupied slots are listed.
   *
   * @example
   * ```ts
   * import { BpfMap, u32, u64 } from "@tsbpf/core";
   * using map = BpfMap.create({ type: "hash", key: u32, value: u64, maxEntries: 64 });
   * map.set(1, 1n);
   * for (const [k, v] of map.entries()) console.log(k, v);
   * ```
   */
  entries(options: IterateOptions = {}): Generator<[K, V], void, undefined> {
    return walk<K, V>(this.#h, "entries", true, options) as Generator<[K, V], void, undefined>;
  }

  /**
   * Calls `callback` with each entry, in the kernel's order, as {@link BpfMap.entries} walks
   * (batch chunks for hash maps, `{ batch: false }` for a get_next_key walk; the same guarantees
   * under concurrent deletes: no entry twice, none after its deletion was seen, always an end),
   * but with no allocation per entry for raw keys and values: **a raw key or value is a
   * `Uint8Array` reused for every entry, valid only until the callback returns** (copy it with
   * `slice()` to keep it; writing to it changes nothing in the map). Keys and values with a codec
   * are decoded for each entry, as `entries()` does. The callback may read, update and delete
   * entries of the map; returning `false` stops the scan.
   *
   * @returns the number of entries passed to the callback.
   * @throws {MapClosedError} once closed; {@link MapOpNotSupportedError} for map types without
   *   keys or lookups.
   * @example
   * ```ts
   * import { BpfMap } from "@tsbpf/core";
   * using map = BpfMap.create({ type: "hash", keySize: 4, valueSize: 8, maxEntries: 64 });
   * map.set(new Uint8Array([1, 0, 0, 0]), new Uint8Array(8).fill(7));
   * let bytes = 0;
   * map.scan((key, value) => {
   *   bytes += key.length + value[0]; // read here; key.slice() to keep it
   * }); // 1
   * ```
   */
  scan(callback: (key: K, value: V) => void | boolean, options: IterateOptions = {}): number {
    if (typeof callback !== "function") {
      throw new ArgumentError("callback", "scan(): callback must be a function");
    }
    return scanEntries<K, V>(this.#h, callback, options);
  }

  /**
   * Same as {@link BpfMap.entries}.
   *
   * @example
   * ```ts
   * import { BpfMap, u32, u64 } from "@tsbpf/core";
   * using map = BpfMap.create({ type: "hash", key: u32, value: u64, maxEntries: 64 });
   * map.set(1, 1n);
   * for (const [k, v] of map) console.log(k, v);
   * ```
   */
  [Symbol.iterator](): Generator<[K, V], void, undefined> {
    return this.entries();
  }

  /**
   * Number of entries, counted by iterating (maps keep no count); for arrays, max_entries, for
   * other array-like maps (prog_array, devmap, …) the occupied slots.
   *
   * @example
   * ```ts
   * import { BpfMap, u32, u64 } from "@tsbpf/core";
   * using map = BpfMap.create({ type: "hash", key: u32, value: u64, maxEntries: 64 });
   * map.set(1, 1n).set(2, 2n).set(3, 3n);
   * map.count(); // 3
   * ```
   */
  count(): number {
    return countEntries(this.#h);
  }

  // ---------------------------------------------------------------------------------------------
  // Batch operations

  /**
   * A preallocated reader over `BPF_MAP_LOOKUP_BATCH` (or `BPF_MAP_LOOKUP_AND_DELETE_BATCH` with
   * `drain`): raw keys and values, chunk by chunk, with no allocation per call, and a columnar
   * view of each chunk through the map's codecs (`key(i)`, `value(i)`: only what is read is
   * decoded, into nothing but the decoded values).
   *
   * @throws {MapOpNotSupportedError} for map types without batch lookup.
   * @example
   * ```ts
   * import { BpfMap, u32, u64 } from "@tsbpf/core";
   * using map = BpfMap.create({ type: "hash", key: u32, value: u64, maxEntries: 64 });
   * map.set(1, 1n);
   * const r = map.batchReader(4096);
   * let total = 0;
   * for (let n = r.next(); n > 0 || !r.done; n = r.next()) total += n; // 1
   * let sum = 0n; // a map with a u64 value codec
   * for (let n = (r.reset(), r.next()); n > 0 || !r.done; n = r.next()) {
   *   for (let i = 0; i < n; i++) sum += r.value(i);
   * }
   * ```
   */
  batchReader(capacity?: number, drain = false): TypedBatchReader<K, V> {
    return typedBatchReader<K, V>(this.#h, capacity, drain);
  }

  /**
   * Reads the whole map, chunk by chunk with `BPF_MAP_LOOKUP_BATCH`; falls back to iteration for
   * map types (or kernels) without it.
   *
   * @example
   * ```ts
   * import { BpfMap, u32, u64 } from "@tsbpf/core";
   * using map = BpfMap.create({ type: "hash", key: u32, value: u64, maxEntries: 64 });
   * map.set(1, 10n);
   * const all = map.batchLookup(); // [[1, 10n]]
   * ```
   */
  batchLookup(options: BatchOptions = {}): [K, V][] {
    return batchLookup<K, V>(this.#h, options);
  }

  /**
   * Reads and removes every entry (`BPF_MAP_LOOKUP_AND_DELETE_BATCH`); falls back to reading and
   * deleting entry by entry where the type has no such batch (LPM tries).
   *
   * @throws {MapOpNotSupportedError} for types whose elements cannot be deleted (arrays).
   * @example
   * ```ts
   * import { BpfMap, u32, u64 } from "@tsbpf/core";
   * using map = BpfMap.create({ type: "hash", key: u32, value: u64, maxEntries: 64 });
   * map.set(1, 10n);
   * const drained = map.batchLookupAndDelete(); // [[1, 10n]], and the map is empty
   * ```
   */
  batchLookupAndDelete(options: BatchOptions = {}): [K, V][] {
    return batchLookupAndDelete<K, V>(this.#h, options);
  }

  /**
   * Writes many entries with `BPF_MAP_UPDATE_BATCH` (one system call for all), or one by one for
   * types without it. Returns the number written.
   *
   * @throws {BpfError} on the first entry the kernel refuses; the message says how many were
   * written before it.
   * @example
   * ```ts
   * import { BpfMap, u32, u64 } from "@tsbpf/core";
   * using map = BpfMap.create({ type: "hash", key: u32, value: u64, maxEntries: 64 });
   * map.batchUpdate([[1, 10n], [2, 20n]]); // 2
   * ```
   */
  batchUpdate(entries: Iterable<readonly [K, V]>, flags = 0): number {
    return batchUpdate(this.#h, entries, flags);
  }

  /**
   * Deletes many keys with `BPF_MAP_DELETE_BATCH`, or one by one for types without it. Keys that
   * are absent are skipped. Returns the number deleted.
   *
   * @example
   * ```ts
   * import { BpfMap, u32, u64 } from "@tsbpf/core";
   * using map = BpfMap.create({ type: "hash", key: u32, value: u64, maxEntries: 64 });
   * map.batchUpdate([[1, 10n], [2, 20n], [3, 30n]]);
   * map.batchDelete([1, 2, 3]); // 3
   * ```
   */
  batchDelete(keys: Iterable<K>): number {
    return batchDelete(this.#h, keys);
  }

  /**
   * Deletes every entry (batch delete where available). Returns the number deleted.
   *
   * @throws {MapOpNotSupportedError} for types whose elements cannot be deleted (arrays).
   * @example
   * ```ts
   * import { BpfMap, u32, u64 } from "@tsbpf/core";
   * using map = BpfMap.create({ type: "hash", key: u32, value: u64, maxEntries: 64 });
   * map.set(1, 1n);
   * map.clear(); // 1
   * ```
   */
  clear(): number {
    return clear(this.#h);
  }

  // ---------------------------------------------------------------------------------------------
  // Pinning and lifetime

  /**
   * Pins the map in bpffs so that it outlives this process (`BPF_OBJ_PIN`); bpffs is mounted at
   * /sys/fs/bpf first when needed.
   *
   * @throws {BpfError} e.g. `EEXIST` when the path exists.
   * @example
   * ```ts
   * import { BpfMap, u32, u64 } from "@tsbpf/core";
   * using map = BpfMap.create({ type: "hash", key: u32, value: u64, maxEntries: 64 });
   * map.pin(`/sys/fs/bpf/doc_map_${Deno.pid}`);
   * map.unpin();
   * ```
   */
  pin(path: string): void {
    pinFd(this.fd, path);
    this.#h.pinnedAt = path;
  }

  /**
   * Removes the pin made by {@link BpfMap.pin} (or the given path).
   *
   * @example
   * ```ts
   * import { BpfMap, u32, u64 } from "@tsbpf/core";
   * using map = BpfMap.create({ type: "hash", key: u32, value: u64, maxEntries: 64 });
   * map.pin(`/sys/fs/bpf/doc_map_${Deno.pid}`);
   * map.unpin();
   * ```
   */
  unpin(path: string | undefined = this.#h.pinnedAt): void {
    if (path === undefined) {
      throw new Error(`unpin(): ${this.#h.label()} was not pinned by this handle`);
    }
    unpinPath(path);
    if (path === this.#h.pinnedAt) this.#h.pinnedAt = undefined;
  }

  /**
   * Closes this handle (idempotent). The map lives on while a program, pin or other fd holds it.
   *
   * @example
   * ```ts
   * import { BpfMap, u32, u64 } from "@tsbpf/core";
   * using map = BpfMap.create({ type: "hash", key: u32, value: u64, maxEntries: 64 });
   * map.close(); // later calls throw MapClosedError; close() again is a no-op
   * ```
   */
  close(): void {
    this.#h.close();
  }

  /** `console.log` rendering: BpfMap { id, type, name }. */
  toString(): string {
    return describeHandle(
      "BpfMap",
      () =>
        this.closed ? undefined : {
          id: this.id,
          type: this.typeName,
          name: this.name,
          keySize: this.keySize,
          valueSize: this.valueSize,
          maxEntries: this.maxEntries,
          fd: this.fd,
        },
    );
  }

  /** Closes the map at the end of a `using` block. */
  [Symbol.dispose](): void {
    this.close();
  }
}

for (const symbol of INSPECT_SYMBOLS) {
  Object.defineProperty(BpfMap.prototype, symbol, {
    value(this: BpfMap): string {
      return this.toString();
    },
  });
}

/** Byte offset of the first `spinLock` in a value codec, if it has one. */
function spinLockOffset(codec: Codec<unknown> | undefined, base: number): number | undefined {
  if (codec === undefined) return undefined;
  const shape = codec.btf;
  if (shape.kind === "spin_lock") return base;
  if (shape.kind === "struct") {
    for (const f of shape.fields) {
      const o = spinLockOffset(f.codec, base + f.offset);
      if (o !== undefined) return o;
    }
  }
  return undefined;
}
