/**
 * Batch operations of a map: whole-map reads (`BPF_MAP_LOOKUP_BATCH`, `…_AND_DELETE_BATCH`),
 * `BPF_MAP_UPDATE_BATCH` and `BPF_MAP_DELETE_BATCH`, each falling back to element operations for
 * map types (or kernels) without the batch command, and `clear()`. The chunked readers themselves
 * are in `batch.ts`. Internal to `lib/map/`.
 *
 * @module
 */
import { MAP_BATCH_ATTR } from "../../types/attr.ts";
import { BpfCmd } from "../../types/cmd.ts";
import { Errno } from "../../types/errno.ts";
import { ElemFlag } from "../../types/flags.ts";
import { freshBytes } from "../codec/fresh.ts";
import { ArgumentError, BpfError } from "../errors.ts";
import { requireObject } from "../args.ts";
import { alloc } from "../sys/memory.ts";
import { mapBatch, type MapBatchCmd } from "../sys/bpf_cmds.ts";
import { type BatchReader, type EntryDecoder, TypedBatchReader } from "./batch.ts";
import { remove, update } from "./crud.ts";
import { decodeValue, encodeKey, encodeValue } from "./encode.ts";
import { flagName, type MapHandle } from "./handle.ts";
import { walk } from "./iterate.ts";
import type { BatchOptions } from "./types.ts";

const B = MAP_BATCH_ATTR.fields;

/** A typed reader over `BPF_MAP_LOOKUP_BATCH` (or lookup-and-delete with `drain`). */
export function typedBatchReader<K, V>(
  h: MapHandle,
  capacity: number | undefined,
  drain: boolean,
): TypedBatchReader<K, V> {
  h.openFd("batchReader");
  h.require(drain ? "lookupAndDeleteBatch" : "lookupBatch", "batchReader");
  const ks = h.shape.keySize;
  const vs = h.shape.valueSize;
  const keyCodec = h.keyCodec;
  const valueCodec = h.valueCodec;
  const decodeKey: EntryDecoder<K> = keyCodec !== undefined
    ? (v, _b, o) => keyCodec.decode(v, o) as K
    : (_v, b, o) => freshBytes(b, o, ks) as K;
  const decodeOne: EntryDecoder<V> = h.pcpu
    ? (v, _b, o) => decodeValue<V>(h, v, o)
    : valueCodec !== undefined
    ? (v, _b, o) => valueCodec.decode(v, o) as V
    : (_v, b, o) => freshBytes(b, o, vs) as V;
  return new TypedBatchReader(
    h.batchSource(),
    h.defaultChunk(capacity),
    drain,
    decodeKey,
    decodeOne,
  );
}

/** All entries of a batch reader (which holds its first chunk), decoded into one array. */
function collectBatch<K, V>(h: MapHandle, reader: BatchReader): [K, V][] {
  const ks = h.shape.keySize;
  const vb = h.vb;
  const vs = h.shape.valueSize;
  const keyCodec = h.keyCodec;
  const valueCodec = h.pcpu ? undefined : h.valueCodec;
  const rawValue = h.valueCodec === undefined && !h.pcpu;
  const out: [K, V][] = [];
  for (let n = reader.count; n > 0 || !reader.done; n = reader.next()) {
    const keys = reader.keys;
    const values = reader.values;
    const kv = new DataView(keys.buffer);
    const vv = new DataView(values.buffer);
    for (let i = 0; i < n; i++) {
      const key = keyCodec !== undefined
        ? keyCodec.decode(kv, i * ks) as K
        : freshBytes(keys, i * ks, ks) as K;
      const value = valueCodec !== undefined
        ? valueCodec.decode(vv, i * vb) as V
        : rawValue
        ? freshBytes(values, i * vb, vs) as V
        : decodeValue<V>(h, vv, i * vb);
      out.push([key, value]);
    }
  }
  return out;
}

/** Every entry, chunk by chunk with `BPF_MAP_LOOKUP_BATCH`, or by iterating. */
export function batchLookup<K, V>(h: MapHandle, options: BatchOptions): [K, V][] {
  h.openFd("batchLookup");
  requireObject("batchLookup", "options", options);
  if (options.chunk !== undefined) h.defaultChunk(options.chunk);
  if (h.spec.ops.lookupBatch === true && !h.batchOff) {
    const reader = h.tryBatchReader(h.defaultChunk(options.chunk), false);
    if (reader !== undefined) return collectBatch<K, V>(h, reader);
  }
  return [...walk<K, V>(h, "entries", true, {})] as [K, V][];
}

/** Every entry, read and removed (`BPF_MAP_LOOKUP_AND_DELETE_BATCH`, or entry by entry). */
export function batchLookupAndDelete<K, V>(h: MapHandle, options: BatchOptions): [K, V][] {
  h.openFd("batchLookupAndDelete");
  requireObject("batchLookupAndDelete", "options", options);
  if (options.chunk !== undefined) h.defaultChunk(options.chunk);
  if (h.spec.ops.lookupAndDeleteBatch === true && !h.batchOff) {
    const reader = h.tryBatchReader(h.defaultChunk(options.chunk), true);
    if (reader !== undefined) return collectBatch<K, V>(h, reader);
  }
  h.require("delete", "batchLookupAndDelete");
  const out: [K, V][] = [];
  for (const [k, v] of walk<K, V>(h, "entries", true, {})) {
    if (remove(h, k)) out.push([k, v as V]);
  }
  return out;
}

/** Writes many entries (`BPF_MAP_UPDATE_BATCH`, or one by one); returns the number written. */
export function batchUpdate<K, V>(
  h: MapHandle,
  entries: Iterable<readonly [K, V]>,
  flags: number,
): number {
  h.openFd("batchUpdate");
  h.keyedOnly("batchUpdate", "update");
  if ((flags & ~ElemFlag.LOCK) !== 0) {
    throw new ArgumentError(
      "batchUpdate",
      `batchUpdate() takes only ElemFlag.LOCK (the kernel's batch update has no NOEXIST or ` +
        `EXIST); got flags ${flagName(flags)} — use set() per key for those`,
    );
  }
  const list = Array.isArray(entries) ? entries as (readonly [K, V])[] : [...entries];
  if (list.length === 0) return 0;
  if (h.spec.ops.updateBatch !== true || h.batchOff) {
    for (const [k, v] of list) update(h, k, v, flags);
    return list.length;
  }
  const ks = h.shape.keySize;
  const keys = alloc(list.length * ks);
  const values = alloc(Math.max(8, list.length * h.vb));
  const vv = new DataView(values.buffer);
  for (let i = 0; i < list.length; i++) {
    const [k, v] = list[i];
    encodeKey(h, k, new DataView(keys.buffer, i * ks, ks), keys.subarray(i * ks), "batchUpdate");
    encodeValue(h, v, "batchUpdate", vv, i * h.vb);
  }
  const r = batchWrite(h, BpfCmd.MAP_UPDATE_BATCH, keys, values, list.length, flags);
  if (r.errno === Errno.ENOTSUPP && r.count === 0) {
    h.batchOff = true;
    for (const [k, v] of list) update(h, k, v, flags);
    return list.length;
  }
  if (r.errno !== 0) {
    throw new BpfError(
      BpfCmd.MAP_UPDATE_BATCH,
      r.errno,
      `batchUpdate() on ${h.label()}: refused entry ${r.count} after writing ${r.count} of ${list.length}` +
        (r.errno === Errno.E2BIG ? ` (the map is full, max_entries ${h.shape.maxEntries})` : ""),
    );
  }
  return r.count;
}

/** Deletes many keys (`BPF_MAP_DELETE_BATCH`, or one by one); absent keys are skipped. */
export function batchDelete<K>(h: MapHandle, keys: Iterable<K>): number {
  h.openFd("batchDelete");
  h.keyedOnly("batchDelete", "delete");
  const list = Array.isArray(keys) ? keys as K[] : [...keys];
  if (list.length === 0) return 0;
  if (h.spec.ops.deleteBatch !== true || h.batchOff) return deleteEach(h, list);
  const ks = h.shape.keySize;
  const buf = alloc(list.length * ks);
  for (let i = 0; i < list.length; i++) {
    encodeKey(
      h,
      list[i],
      new DataView(buf.buffer, i * ks, ks),
      buf.subarray(i * ks),
      "batchDelete",
    );
  }
  let deleted = 0;
  let start = 0;
  while (start < list.length) {
    // Continue after an absent key from inside the same buffer (no copy).
    const r = batchWrite(
      h,
      BpfCmd.MAP_DELETE_BATCH,
      buf,
      undefined,
      list.length - start,
      0,
      start * ks,
    );
    deleted += r.count;
    if (r.errno === 0) break;
    if (r.errno === Errno.ENOENT) {
      start += r.count + 1; // skip the absent key
      continue;
    }
    if (r.errno === Errno.ENOTSUPP && r.count === 0 && deleted === 0) {
      h.batchOff = true;
      return deleteEach(h, list);
    }
    throw new BpfError(
      BpfCmd.MAP_DELETE_BATCH,
      r.errno,
      `batchDelete() on ${h.label()} after deleting ${deleted} of ${list.length}`,
    );
  }
  return deleted;
}

function deleteEach<K>(h: MapHandle, list: K[]): number {
  let n = 0;
  for (const k of list) if (remove(h, k)) n++;
  return n;
}

/** One batch write command; the count the kernel processed and its errno (0: all done). */
function batchWrite(
  h: MapHandle,
  cmd: MapBatchCmd,
  keys: Uint8Array<ArrayBuffer>,
  values: Uint8Array<ArrayBuffer> | undefined,
  count: number,
  elemFlags: number,
  keyOffset = 0,
): { count: number; errno: number } {
  const s = h.s;
  const attr = alloc(MAP_BATCH_ATTR.size);
  const v = new DataView(attr.buffer);
  v.setBigUint64(B.keys.offset, s.addressOf(keys) + BigInt(keyOffset), true);
  if (values !== undefined) v.setBigUint64(B.values.offset, s.addressOf(values), true);
  v.setUint32(B.count.offset, count, true);
  v.setUint32(B.map_fd.offset, h.fd, true);
  v.setBigUint64(B.elem_flags.offset, BigInt(elemFlags), true);
  const r = mapBatch(cmd, attr, keys, values);
  const written = v.getUint32(B.count.offset, true);
  // The kernel writes the count back only once it has entered its loop, where a failure always
  // leaves it below the input; an unchanged count with an error means nothing was processed.
  return { count: r < 0 && written === count ? 0 : written, errno: r < 0 ? -r : 0 };
}

/** Deletes every entry (batch delete where available); returns the number deleted. */
export function clear(h: MapHandle): number {
  h.openFd("clear");
  h.keyedOnly("clear", "delete");
  let total = 0;
  for (;;) {
    const keys = [...walk(h, "keys", false, {})].map((e) => e[0]);
    if (keys.length === 0) return total;
    const n = batchDelete(h, keys);
    total += n;
    if (n === 0) return total;
  }
}
