/**
 * The element layer of `BpfMap`: one system call per operation through the handle's scratch
 * memory (`crud.ts` does the work): get, set, delete, has, lookup-and-delete, next key; push, pop
 * and peek for queues, stacks and bloom filters; freeze.
 *
 * @module
 */
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
import { BpfMapBase, handleOf } from "./map_base.ts";

/**
 * The element operations of {@link BpfMap} (`get`, `set`, `delete`, `has`, `getAndDelete`,
 * `nextKey`, `push`, `pop`, `peek`, `freeze`), on top of {@link BpfMapBase}. Not constructed
 * directly: use `BpfMap`'s static constructors.
 *
 * @example
 * ```ts
 * import { BpfMap, u32, u64 } from "@tsbpf/core";
 * using map = BpfMap.create({ type: "hash", key: u32, value: u64, maxEntries: 64 });
 * map.set(1, 2n).get(1); // 2n
 * ```
 */
export class BpfMapElements<K = Uint8Array, V = Uint8Array> extends BpfMapBase {
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
    return lookup<K, V>(handleOf(this), key, flags);
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
    return lookupInto(handleOf(this), key, out, flags);
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
    update(handleOf(this), key, value, flags);
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
    return remove(handleOf(this), key);
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
    return contains(handleOf(this), keyOrValue);
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
    return lookupAndDelete<K, V>(handleOf(this), key, flags);
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
    return nextKey<K>(handleOf(this), key);
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
    push(handleOf(this), value, flags);
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
    return pop<V>(handleOf(this));
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
    return peek<V>(handleOf(this));
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
    freeze(handleOf(this));
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
    return isFrozen(handleOf(this));
  }
}
