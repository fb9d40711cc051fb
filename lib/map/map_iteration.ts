/**
 * The iteration layer of `BpfMap`: `keys()`, `values()`, `entries()`, `for…of`, `scan()` and
 * `count()` (`iterate.ts` does the work).
 *
 * @module
 */
import { ArgumentError } from "../errors.ts";
import { countEntries, scanEntries, walk } from "./iterate.ts";
import { handleOf } from "./map_base.ts";
import { BpfMapElements } from "./map_elements.ts";
import type { IterateOptions } from "./types.ts";

/**
 * The iteration methods of {@link BpfMap} (`keys`, `values`, `entries`, `scan`, `count`,
 * `for…of`), on top of {@link BpfMapElements}. See `BpfMap` for the guarantees under concurrent
 * deletes. Not constructed directly: use `BpfMap`'s static constructors.
 *
 * @example
 * ```ts
 * import { BpfMap, u32, u64 } from "@tsbpf/core";
 * using map = BpfMap.create({ type: "hash", key: u32, value: u64, maxEntries: 64 });
 * map.set(1, 1n);
 * for (const [k, v] of map) console.log(k, v);
 * ```
 */
export class BpfMapIteration<K = Uint8Array, V = Uint8Array> extends BpfMapElements<K, V> {
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
    for (const e of walk<K, V>(handleOf(this), "keys", false, options)) yield e[0];
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
    for (const e of walk<K, V>(handleOf(this), "values", true, options)) yield e[1] as V;
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
    return walk<K, V>(handleOf(this), "entries", true, options) as Generator<
      [K, V],
      void,
      undefined
    >;
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
    return scanEntries<K, V>(handleOf(this), callback, options);
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
    return countEntries(handleOf(this));
  }
}
