/**
 * The option and value types of `BpfMap`: how a map is created (type, sizes, codecs, BTF), how it
 * is iterated and batched, and the shape the kernel reports.
 *
 * @module
 */
import type { Codec } from "../codec/codec.ts";
import type { FdLike } from "../codec/special.ts";
import type { MapTypeInput } from "./map_types.ts";
/**
 * Map type names (and numbers) whose values are per-CPU.
 *
 * @example
 * ```ts
 * import type { PerCpuMapType } from "@tsbpf/core";
 * const t: PerCpuMapType = "percpu_hash";
 * ```
 */
export type PerCpuMapType =
  | "percpu_hash"
  | "percpu_array"
  | "lru_percpu_hash"
  | "percpu_cgroup_storage"
  | 5
  | 6
  | 10
  | 21;

/**
 * The value type a map of type `T` with value codec type `V` reads and writes: `V[]` (one per
 * possible CPU) for per-CPU types given as a literal, `V` otherwise.
 *
 * @example
 * ```ts
 * import type { MapValue } from "@tsbpf/core";
 * type A = MapValue<"percpu_array", bigint>; // bigint[]
 * type B = MapValue<"hash", bigint>; // bigint
 * ```
 */
export type MapValue<T, V> = T extends PerCpuMapType ? V[] : V;

/**
 * BTF to create a map with: a loaded BTF object and the type ids of key and value.
 *
 * @example
 * ```ts
 * import { BpfMap, loadBtf, type MapBtfRef, u32, u64 } from "@tsbpf/core";
 * import { mapBtf } from "@tsbpf/core/map";
 * const described = mapBtf(u32, u64);
 * using btfHandle = loadBtf(described.blob);
 * const btf: MapBtfRef = { fd: btfHandle, keyTypeId: described.keyTypeId, valueTypeId: described.valueTypeId };
 * using map = BpfMap.create({ type: "hash", key: u32, value: u64, maxEntries: 4, btf });
 * ```
 */
export interface MapBtfRef {
  /** The BTF object (an fd or anything with `.fd`). */
  fd: FdLike;
  /** Type id of the key (0 for keyless maps). */
  keyTypeId: number;
  /** Type id of the value. */
  valueTypeId: number;
}

/**
 * Options of {@link BpfMap.create}.
 *
 * @example
 * ```ts
 * import { type MapCreateOptions, u32, u64 } from "@tsbpf/core";
 * const o: MapCreateOptions<number, bigint> = { type: "hash", key: u32, value: u64, maxEntries: 1024 };
 * ```
 */
export interface MapCreateOptions<K, V> {
  /** Map type: a number or a kernel name such as `"hash"`, `"percpu_array"`. */
  type: MapTypeInput;
  /** Key size in bytes. Default: the key codec's size, or the size the type requires. */
  keySize?: number;
  /** Value size in bytes (one CPU's, for per-CPU maps). Default: the value codec's size. */
  valueSize?: number;
  /** max_entries (bytes for ring buffers, pages for an arena; 0 or left out for local storage). */
  maxEntries?: number;
  /** map_flags (`MapFlag`); flags the type requires (`NO_PREALLOC`, `MMAPABLE`) are added. */
  flags?: number;
  /** Name shown by introspection: up to 15 letters, digits, `_` or `.`. */
  name?: string;
  /** Inner map template of `array_of_maps` / `hash_of_maps`. */
  innerMap?: FdLike;
  /** NUMA node to allocate on (sets `BPF_F_NUMA_NODE`). */
  numaNode?: number;
  /** map_extra: bloom filter hash function count, arena user address. */
  mapExtra?: bigint | number;
  /** Device to offload the map to. */
  ifindex?: number;
  /**
   * A `BpfToken` (or its fd holder): create the map under the rights a delegating BPF filesystem
   * grants in a user namespace (`map_token_fd`, `BPF_F_TOKEN_FD`; Linux 6.9+).
   */
  token?: { readonly fd: number };
  /**
   * BTF for key and value: a loaded object with type ids, `true` to generate it from the codecs
   * (or sizes), `false` for none. Default: generated when the type requires BTF (local storage) or
   * the value codec holds a `spinLock`.
   */
  btf?: MapBtfRef | boolean;
  /** Codec of keys; without one keys are `Uint8Array`s of exactly `keySize` bytes. */
  key?: Codec<K>;
  /** Codec of values; without one values are `Uint8Array`s of exactly `valueSize` bytes. */
  value?: Codec<V>;
}

/**
 * Codecs for a map opened by id, pin or fd.
 *
 * @example
 * ```ts
 * import { type MapCodecs, u32 } from "@tsbpf/core";
 * const c: MapCodecs<number, Uint8Array> = { key: u32 };
 * ```
 */
export interface MapCodecs<K, V> {
  /** Codec of keys. */
  key?: Codec<K>;
  /** Codec of values (of one CPU's value, for per-CPU maps). */
  value?: Codec<V>;
}

/**
 * Options of {@link BpfMap.keys}, {@link BpfMap.values} and {@link BpfMap.entries}.
 *
 * @example
 * ```ts
 * import { BpfMap, u32, u64 } from "@tsbpf/core";
 * using map = BpfMap.create({ type: "hash", key: u32, value: u64, maxEntries: 4 });
 * map.set(1, 1n);
 * for (const k of map.keys({ batch: false })) console.log(k); // walk with get_next_key
 * ```
 */
export interface IterateOptions {
  /**
   * Whether hash maps are read with `BPF_MAP_LOOKUP_BATCH` (default `true`); `false` walks with
   * `BPF_MAP_GET_NEXT_KEY`, in kernel order, remembering the keys seen.
   */
  batch?: boolean;
  /** Entries per batch system call. Default 1024 (or max_entries, when smaller). */
  chunk?: number;
}

/** Options of {@link BpfMap.batchLookup} and the other whole-map batch reads. */
export interface BatchOptions {
  /** Entries per system call. Default 1024 (or max_entries, when smaller). */
  chunk?: number;
}

/** The shape of a map, as created or reported by the kernel. */
export interface Shape {
  type: number;
  keySize: number;
  valueSize: number;
  maxEntries: number;
  flags: number;
  name: string;
}
