/**
 * `BpfMap`: a BPF map handle — create, read, write, iterate, batch, pin — with optional typed keys
 * and values (codecs) and no allocation per call on the hot path. The class is built in layers, one
 * file each: `map_base.ts` (the handle: fd, shape, info, pin, close), `map_elements.ts` (element
 * operations), `map_iteration.ts`, `map_batch.ts`, and this file (creating and opening maps). The
 * work is done by one module per concept: `open.ts` (create, adopt by fd, id or pin), `handle.ts`
 * (fd, shape, scratch memory), `encode.ts` and `percpu.ts` (keys and values), `crud.ts` (element
 * operations), `iterate.ts`, `batch_ops.ts`.
 *
 * @module
 */
import { requireObject } from "../args.ts";
import { unpinPath } from "../pin.ts";
import { listIds } from "../ids.ts";
import { BpfCmd } from "../../types/cmd.ts";
import type { MapHandle } from "./handle.ts";
import type { MapTypeInput } from "./map_types.ts";
import { BpfMapBatch } from "./map_batch.ts";
import { adoptMap, createMap, openMapById, openPinnedMap } from "./open.ts";
import type { MapCodecs, MapCreateOptions, MapValue } from "./types.ts";

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
export class BpfMap<K = Uint8Array, V = Uint8Array> extends BpfMapBatch<K, V> {
  /** Wraps a map handle (which owns the fd). Use the static constructors. */
  private constructor(handle: MapHandle) {
    super(handle);
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
}
