/**
 * Iterating a map (`keys()`, `values()`, `entries()`, `count()`): batch chunks for hash maps,
 * increasing indices for array-like maps, and a get_next_key walk one key ahead for the rest, which
 * never yields an entry twice and never loops forever under concurrent deletes (see `BpfMap`).
 * Internal to `lib/map/`.
 *
 * @module
 */
import { BpfCmd } from "../../types/cmd.ts";
import { Errno } from "../../types/errno.ts";
import { freshBytes } from "../codec/fresh.ts";
import { BpfError } from "../errors.ts";
import { requireObject } from "../args.ts";
import { alloc } from "../sys/memory.ts";
import { mapGetNextKey, mapLookupElem } from "../sys/bpf_cmds.ts";
import { decodeKey, decodeValue } from "./encode.ts";
import { MapOpNotSupportedError } from "./errors.ts";
import {
  ELEM_SIZE,
  type MapHandle,
  N,
  NEXT_SIZE,
  OFF_FD,
  OFF_FLAGS,
  OFF_KEY,
  OFF_VALUE,
} from "./handle.ts";
import type { IterateOptions } from "./types.ts";

const ENOENT = Errno.ENOENT;

/**
 * Walks the map: batch chunks, or a get_next_key walk. Returns the generator that does the walk
 * itself (no generator in between: each entry costs one resumption). The checks run at the first
 * step, as generators do.
 */
export function walk<K, V>(
  h: MapHandle,
  operation: string,
  withValues: boolean,
  options: IterateOptions,
): Generator<[K, V | undefined], void, undefined> {
  const mode = h.spec.iterate;
  const batch = typeof options === "object" && options !== null ? options.batch : undefined;
  if (mode === "batch" && batch !== false && !h.batchOff) {
    return walkBatch<K, V>(h, operation, withValues, options);
  }
  if (withValues && mode !== "index" && mode !== "none" && h.spec.key !== "none") {
    return walkNextKeyValues<K, V>(h, operation, options);
  }
  return walkOther<K, V>(h, operation, withValues, options);
}

/** The checks of every walk, at its first step; returns the map's iteration mode. */
function prologue(
  h: MapHandle,
  operation: string,
  withValues: boolean,
  options: IterateOptions,
): string {
  h.openFd(operation);
  requireObject(operation, "options", options);
  if (options.chunk !== undefined) h.defaultChunk(options.chunk);
  if (withValues) h.require("lookup", operation);
  const mode = h.spec.iterate;
  if (mode === "none" || h.spec.key === "none") {
    h.require("getNextKey", operation);
    throw new MapOpNotSupportedError(operation, "getNextKey", h.spec.name, {
      errno: "EINVAL",
      why: "this map type has no keys to iterate",
    }, h.shape.name);
  }
  return mode;
}

/**
 * Receives each entry of a scan ({@link scanEntries}); `false` stops the scan. Raw keys and
 * values are views reused for every entry.
 */
export type ScanCallback<K, V> = (key: K, value: V) => void | boolean;

/**
 * Calls `cb` for each entry, the way `entries()` walks (batch chunks for hash maps, a get_next_key
 * walk otherwise, with the same guarantees under concurrent deletes), with no allocation per
 * entry for raw keys and values: each is copied into a view reused for every entry, valid until
 * the callback returns. Returns the number of entries passed to `cb`.
 */
export function scanEntries<K, V>(
  h: MapHandle,
  cb: ScanCallback<K, V>,
  options: IterateOptions,
): number {
  const counter = { n: 0 };
  const mode = h.spec.iterate;
  const batch = typeof options === "object" && options !== null ? options.batch : undefined;
  const g = mode === "batch" && batch !== false && !h.batchOff
    ? walkBatch<K, V>(h, "scan", true, options, cb, counter)
    : mode !== "index" && mode !== "none" && h.spec.key !== "none"
    ? walkNextKeyValues<K, V>(h, "scan", options, cb, counter)
    : undefined;
  if (g === undefined) {
    // Index walks (arrays, fd arrays) and the errors of maps without keys.
    for (const [k, v] of walkOther<K, V>(h, "scan", true, options)) {
      counter.n++;
      if (cb(k, v as V) === false) break;
    }
  } else {
    g.next(); // with a callback the walk never yields: it runs to its end
  }
  return counter.n;
}

/** Hands one entry to a scan callback, counting it; false when the callback says stop. */
function handOut<K, V>(cb: ScanCallback<K, V>, counter: { n: number }, k: K, v: V): boolean {
  counter.n++;
  return cb(k, v) !== false;
}

/** Copies `n` bytes of `from` at `at` into `to` (a reused view). */
function copyInto(to: Uint8Array, from: Uint8Array, at: number, n: number): void {
  if (n <= 64) { for (let i = 0; i < n; i++) to[i] = from[at + i]; }
  else to.set(from.subarray(at, at + n));
}

/**
 * Batch chunks decoded in this generator; a get_next_key walk when the kernel has no batch. With
 * `cb`, entries go to it (raw ones in reused views) and nothing is yielded.
 */
function* walkBatch<K, V>(
  h: MapHandle,
  operation: string,
  withValues: boolean,
  options: IterateOptions,
  cb?: ScanCallback<K, V>,
  counter?: { n: number },
): Generator<[K, V | undefined], void, undefined> {
  prologue(h, operation, withValues, options);
  const reader = h.tryBatchReader(h.defaultChunk(options.chunk), false);
  if (reader === undefined) {
    if (withValues) yield* walkNextKeyValues<K, V>(h, operation, undefined, cb, counter);
    else yield* walkNextKey<K, V>(h, false, false, operation);
    return;
  }
  const ks = h.shape.keySize;
  const vb = h.vb;
  const vs = h.shape.valueSize;
  const rawKey = h.keyCodec === undefined;
  const rawValue = h.valueCodec === undefined && !h.pcpu;
  // A scan's reused views: its own memory, so that the callback may use the map freely.
  const keyOut = cb !== undefined && rawKey ? new Uint8Array(ks) : undefined;
  const valueOut = cb !== undefined && rawValue ? new Uint8Array(vs) : undefined;
  // The reader already holds the first chunk. Its buffers are its own: the loop body may use the
  // map freely, and they change only when the next chunk is fetched, after the last entry of
  // this one was decoded.
  for (let n = reader.count; n > 0 || !reader.done; n = reader.next()) {
    const keys = reader.keys;
    const values = reader.values;
    const kv = new DataView(keys.buffer);
    const vv = new DataView(values.buffer);
    if (cb !== undefined) {
      for (let i = 0; i < n; i++) {
        let key: K, value: V;
        if (keyOut !== undefined) {
          copyInto(keyOut, keys, i * ks, ks);
          key = keyOut as K;
        } else key = decodeKey<K>(h, kv, keys, i * ks);
        if (valueOut !== undefined) {
          copyInto(valueOut, values, i * vb, vs);
          value = valueOut as V;
        } else value = decodeValue<V>(h, vv, i * vb);
        if (!handOut(cb, counter!, key, value)) return;
      }
      continue;
    }
    for (let i = 0; i < n; i++) {
      const key = rawKey ? freshBytes(keys, i * ks, ks) as K : decodeKey<K>(h, kv, keys, i * ks);
      yield [
        key,
        rawValue ? freshBytes(values, i * vb, vs) as V : decodeValue<V>(h, vv, i * vb),
      ];
    }
  }
}

/** Index walks, key-only walks, and the errors of maps without keys. */
function* walkOther<K, V>(
  h: MapHandle,
  operation: string,
  withValues: boolean,
  options: IterateOptions,
): Generator<[K, V | undefined], void, undefined> {
  const mode = prologue(h, operation, withValues, options);
  if (withValues && mode !== "index") yield* walkNextKeyValues<K, V>(h, operation);
  else yield* walkNextKey<K, V>(h, mode === "index", withValues, operation);
}

/**
 * Number of entries, by iterating: for arrays max_entries, for other array-like maps (prog_array,
 * devmap, …) the occupied slots.
 */
export function countEntries(h: MapHandle): number {
  // Slots of fd arrays, devmaps, cpumaps… may be empty: count only those with a value.
  const spec = h.spec;
  const sparse = spec.key === "index" && spec.name !== "array" && spec.name !== "percpu_array" &&
    spec.ops.lookup === true;
  let n = 0;
  for (const _ of walk(h, "count", sparse, {})) n++;
  return n;
}

/**
 * get_next_key walk of a hash-ordered map with values, one key ahead, paying for concurrent
 * deletes only when one happens. For each key: fetch its successor, then read its value. A
 * value that is still there proves the key existed when its successor was fetched, so the
 * successor is genuine (not a restart from the first key): no set of yielded keys is needed,
 * only a log of their bytes. When a value is gone (the key vanished, so its successor may be a
 * restart), the walk hands over to {@link walkNextKey}, with the set of yielded keys built from
 * the log, which resumes without yielding anything twice.
 */
function* walkNextKeyValues<K, V>(
  h: MapHandle,
  operation: string,
  options?: IterateOptions,
  cb?: ScanCallback<K, V>,
  counter?: { n: number },
): Generator<[K, V], void, undefined> {
  if (options !== undefined) prologue(h, operation, true, options);
  const ks = h.shape.keySize;
  const room = Math.max(8, ks);
  // Two key buffers in turn: attrs[i] asks for the successor of bufs[i], into bufs[1 - i].
  const bufs = [alloc(room), alloc(room)];
  const views = [new DataView(bufs[0].buffer), new DataView(bufs[1].buffer)];
  const attrs = [alloc(NEXT_SIZE), alloc(NEXT_SIZE), alloc(NEXT_SIZE)];
  const attrViews = attrs.map((a) => new DataView(a.buffer));
  for (let i = 0; i < 2; i++) {
    attrViews[i].setBigUint64(N.key.offset, h.s.addressOf(bufs[i]), true);
    attrViews[i].setBigUint64(N.next_key.offset, h.s.addressOf(bufs[1 - i]), true);
  }
  // attrs[2]: the first key (key NULL), into bufs[0].
  attrViews[2].setBigUint64(N.next_key.offset, h.s.addressOf(bufs[0]), true);
  // lookups[i]: the value of bufs[i], into this walk's own value buffer (the loop body may use
  // the map's scratch).
  const value = alloc(Math.max(8, h.vb));
  const valueView = new DataView(value.buffer);
  const rawKey = h.keyCodec === undefined;
  const rawValue = h.valueCodec === undefined && !h.pcpu;
  const vs = h.shape.valueSize;
  // A scan's reused views of the key (in turn, each key buffer) and of the value.
  const keyOut = [new Uint8Array(bufs[0].buffer, 0, ks), new Uint8Array(bufs[1].buffer, 0, ks)];
  const valueOut = new Uint8Array(value.buffer, 0, vs);
  const lookups = [alloc(ELEM_SIZE), alloc(ELEM_SIZE)];
  const lookupViews = lookups.map((a) => new DataView(a.buffer));
  const valueAddr = h.s.addressOf(value);
  for (let i = 0; i < 2; i++) {
    lookupViews[i].setBigUint64(OFF_KEY, h.s.addressOf(bufs[i]), true);
    lookupViews[i].setBigUint64(OFF_VALUE, valueAddr, true);
  }
  const fdOff = N.map_fd.offset;
  let log = new Uint8Array(ks * 256);
  let logged = 0;
  let calls = 0;
  const budget = 1024 + 8 * (h.shape.maxEntries + 1);

  let fd = h.openFd(operation);
  attrViews[2].setUint32(fdOff, fd, true);
  let r = mapGetNextKey(attrs[2]);
  if (r === -ENOENT) return;
  if (r < 0) nextKeyFailed(h, -r, operation);
  let cur = 0;
  for (;;) {
    fd = h.openFd(operation);
    if (++calls > budget) walkGaveUp(h, operation, calls);
    const key = bufs[cur];
    // The successor first: the loop body may delete this key.
    attrViews[cur].setUint32(fdOff, fd, true);
    r = mapGetNextKey(attrs[cur]); // bufs and attrs live as long as this generator
    if (r < 0 && r !== -ENOENT) nextKeyFailed(h, -r, operation);
    const more = r === 0;
    lookupViews[cur].setUint32(OFF_FD, fd, true);
    const lr = mapLookupElem(lookups[cur]);
    if (lr === -ENOENT) {
      // The key vanished: its successor may be a restart. Resume with the set of yielded keys.
      const idOf = ks <= 6 ? bytesToNumber : bytesToString;
      const seen = new Set<number | string>();
      const history: Uint8Array[] = [];
      for (let off = 0; off < logged; off += ks) {
        const k = log.subarray(off, off + ks);
        seen.add(idOf(k, ks));
        if (off >= logged - 32 * ks) history.push(k.slice());
      }
      history.push(key.slice(0, ks)); // the vanished key: where the walk resumes from
      const rest = walkNextKey<K, V>(h, false, true, operation, {
        seen,
        history,
        from: key.slice(0, ks),
        calls,
      }) as Generator<[K, V], void, undefined>;
      if (cb === undefined) yield* rest;
      else {
        for (const [k, v] of rest) if (!handOut(cb, counter!, k, v)) return;
      }
      return;
    }
    if (lr < 0) h.fail(BpfCmd.MAP_LOOKUP_ELEM, -lr, operation);
    if (logged + ks > log.length) {
      const grown = new Uint8Array(log.length * 2);
      grown.set(log);
      log = grown;
    }
    for (let i = 0; i < ks; i++) log[logged + i] = key[i];
    logged += ks;
    if (cb !== undefined) {
      const k = rawKey ? keyOut[cur] as K : decodeKey<K>(h, views[cur], key);
      const v = rawValue ? valueOut as V : decodeValue<V>(h, valueView, 0);
      if (!handOut(cb, counter!, k, v)) return;
    } else {
      yield [
        rawKey ? freshBytes(key, 0, ks) as K : decodeKey<K>(h, views[cur], key),
        rawValue ? freshBytes(value, 0, vs) as V : decodeValue<V>(h, valueView, 0),
      ];
    }
    if (!more) return;
    cur = 1 - cur;
  }
}

function nextKeyFailed(h: MapHandle, errno: number, operation: string): never {
  throw new BpfError(BpfCmd.MAP_GET_NEXT_KEY, errno, `${operation}() on ${h.label()}`);
}

function walkGaveUp(h: MapHandle, operation: string, calls: number): never {
  throw new Error(
    `${operation}() on ${h.label()} gave up after ${calls} get_next_key calls: keys are deleted faster than the walk advances`,
  );
}

/** Where a walk that lost its key resumes: the keys it yielded, the recent ones, and the key. */
interface Resume {
  seen: Set<number | string>;
  history: Uint8Array[];
  from: Uint8Array;
  calls: number;
}

/**
 * get_next_key walk with one key of lookahead: the successor of a key is fetched before the key
 * is handed out, so deleting the current key in the loop body costs nothing. When a fetch
 * restarts (its key was deleted meanwhile, and the kernel answers with its first key):
 * - indexed maps: keys only grow, so anything not above the last index is skipped;
 * - hash-ordered maps: the yielded keys are remembered (`seen`), which recognises the restart;
 *   the walk then resumes from the newest recently yielded key that still exists (`history`),
 *   and only when none is left does it re-walk from the start, skipping what it has seen.
 */
function* walkNextKey<K, V>(
  h: MapHandle,
  indexed: boolean,
  withValues: boolean,
  operation: string,
  resume?: Resume,
): Generator<[K, V | undefined], void, undefined> {
  const s = h.s;
  const ks = h.shape.keySize;
  // Own buffers: the loop body may call get/set/delete, which use the map's scratch.
  const from = alloc(Math.max(8, ks));
  const out = alloc(Math.max(8, ks));
  const outView = new DataView(out.buffer);
  const attr = alloc(NEXT_SIZE);
  const av = new DataView(attr.buffer);
  av.setBigUint64(N.next_key.offset, s.addressOf(out), true);
  const fromAddr = s.addressOf(from);
  const seen = indexed ? undefined : resume?.seen ?? new Set<number | string>();
  const idOf = ks <= 6 ? bytesToNumber : bytesToString;
  const HISTORY = 32;
  const history: Uint8Array[] = resume?.history ?? [];
  let last = -1; // last index accepted (indexed maps)
  let calls = resume?.calls ?? 0;
  const budget = 1024 + 8 * (h.shape.maxEntries + 1);
  const label = h.label();

  /** get_next_key from `key` (or the first key); the answer lands in `out`. */
  const fetch = (key: Uint8Array | null): boolean => {
    if (++calls > budget) {
      throw new Error(
        `${operation}() on ${label} gave up after ${calls} get_next_key calls: keys are deleted faster than the walk advances`,
      );
    }
    av.setUint32(N.map_fd.offset, h.openFd("fd"), true);
    if (key === null) av.setBigUint64(N.key.offset, 0n, true);
    else {
      from.set(key);
      av.setBigUint64(N.key.offset, fromAddr, true);
    }
    const r = mapGetNextKey(attr, from, out);
    if (r === -ENOENT) return false;
    if (r < 0) throw new BpfError(BpfCmd.MAP_GET_NEXT_KEY, -r, `${operation}() on ${label}`);
    return true;
  };

  /** Whether the key in `out` is new; if so, remembers it. */
  const accept = (): boolean => {
    if (indexed) {
      const index = outView.getUint32(0, true);
      if (index <= last) return false;
      last = index;
      return true;
    }
    const id = idOf(out, ks);
    if (seen!.has(id)) return false;
    seen!.add(id);
    while (history.length >= HISTORY) history.shift();
    history.push(out.slice(0, ks));
    return true;
  };

  /** The first new key after `key` (null: the first key), or null at the end. */
  const advance = (key: Uint8Array | null): Uint8Array | null => {
    if (!fetch(key)) return null;
    if (accept()) return out.slice(0, ks);
    // A restart (or a key seen before): resume from a recent key that still exists.
    if (!indexed) {
      for (let j = history.length - 2; j >= 0; j--) {
        if (!fetch(history[j])) return null;
        if (accept()) return out.slice(0, ks);
      }
    }
    // Walk on from where the kernel put us, skipping what was already yielded.
    for (;;) {
      if (!fetch(out.slice(0, ks))) return null;
      if (accept()) return out.slice(0, ks);
    }
  };

  let current = advance(resume?.from ?? null);
  while (current !== null) {
    const following = advance(current); // lookahead, before the loop body can delete `current`
    const keyView = new DataView(current.buffer);
    const key = decodeKey<K>(h, keyView, current);
    if (!withValues) {
      yield [key, undefined];
    } else {
      // Read the value through the map's scratch (the key bytes are copied there).
      h.key.set(current);
      h.elemView.setUint32(OFF_FLAGS, 0, true);
      const lr = mapLookupElem(h.elem);
      if (lr >= 0) yield [key, decodeValue<V>(h)];
      else if (lr !== -ENOENT) h.fail(BpfCmd.MAP_LOOKUP_ELEM, -lr, operation);
      // ENOENT: deleted since its key was read (or an empty fd-array slot): skipped.
    }
    current = following;
  }
}

function bytesToNumber(b: Uint8Array, n: number): number {
  let v = 0;
  for (let i = n - 1; i >= 0; i--) v = v * 256 + b[i];
  return v;
}

function bytesToString(b: Uint8Array, n: number): string {
  let s = "";
  for (let i = 0; i < n; i++) s += String.fromCharCode(b[i]);
  return s;
}
