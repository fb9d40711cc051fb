/**
 * The batch layer of `BpfMap`: batch readers, `batchLookup()`, `batchLookupAndDelete()`,
 * `batchUpdate()`, `batchDelete()` and `clear()` (`batch_ops.ts` does the work).
 *
 * @module
 */
import type { TypedBatchReader } from "./batch.ts";
import {
  batchDelete,
  batchLookup,
  batchLookupAndDelete,
  batchUpdate,
  clear,
  typedBatchReader,
} from "./batch_ops.ts";
import { handleOf } from "./map_base.ts";
import { BpfMapIteration } from "./map_iteration.ts";
import type { BatchOptions } from "./types.ts";

/**
 * The batch operations of {@link BpfMap} (`batchReader`, `batchLookup`, `batchLookupAndDelete`,
 * `batchUpdate`, `batchDelete`, `clear`), on top of {@link BpfMapIteration}. Not constructed
 * directly: use `BpfMap`'s static constructors.
 *
 * @example
 * ```ts
 * import { BpfMap, u32, u64 } from "@tsbpf/core";
 * using map = BpfMap.create({ type: "hash", key: u32, value: u64, maxEntries: 64 });
 * map.batchUpdate([[1, 10n], [2, 20n]]); // 2
 * ```
 */
export class BpfMapBatch<K = Uint8Array, V = Uint8Array> extends BpfMapIteration<K, V> {
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
    return typedBatchReader<K, V>(handleOf(this), capacity, drain);
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
    return batchLookup<K, V>(handleOf(this), options);
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
    return batchLookupAndDelete<K, V>(handleOf(this), options);
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
    return batchUpdate(handleOf(this), entries, flags);
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
    return batchDelete(handleOf(this), keys);
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
    return clear(handleOf(this));
  }
}
