/**
 * Element operations of a map, one system call each through the handle's scratch memory: lookup,
 * update, delete, lookup-and-delete, get_next_key; push, pop and peek for queues, stacks and
 * bloom filters; freeze. `BpfMap`'s methods call these. Internal to `lib/map/`.
 *
 * @module
 */
import { MAP_FREEZE_ATTR } from "../../types/attr.ts";
import { BpfCmd } from "../../types/cmd.ts";
import { Errno } from "../../types/errno.ts";
import { Attr } from "../attr.ts";
import { describeValue } from "../codec/codec.ts";
import { ArgumentError, BpfError } from "../errors.ts";
import { readFileText } from "../host_fs.ts";
import {
  mapDeleteElem,
  mapFreeze,
  mapGetNextKey,
  mapLookupAndDeleteElem,
  mapLookupElem,
  mapUpdateElem,
} from "../sys/bpf_cmds.ts";
import { decodeKey, decodeValue, encodeValue, putKey, putValue } from "./encode.ts";
import { MapOpNotSupportedError } from "./errors.ts";
import { type MapHandle, N, OFF_FLAGS } from "./handle.ts";

const ENOENT = Errno.ENOENT;

/** `BPF_MAP_LOOKUP_ELEM`; `undefined` when the key is absent. */
export function lookup<K, V>(h: MapHandle, key: K, flags: number): V | undefined {
  h.openFd("get");
  if (!h.canGet) h.keyedOnly("get", "lookup");
  putKey(h, key, "get");
  h.elemView.setUint32(OFF_FLAGS, flags, true);
  const r = mapLookupElem(h.elem);
  if (r < 0) {
    if (r === -ENOENT) return undefined;
    h.fail(BpfCmd.MAP_LOOKUP_ELEM, -r, "get", flags);
  }
  return decodeValue<V>(h);
}

/** `BPF_MAP_LOOKUP_ELEM` into the caller's buffer; false when the key is absent. */
export function lookupInto<K>(h: MapHandle, key: K, out: Uint8Array, flags: number): boolean {
  h.openFd("getInto");
  if (!h.canGet) h.keyedOnly("getInto", "lookup");
  const vb = h.vb;
  if (!(out instanceof Uint8Array)) {
    throw new ArgumentError(
      "getInto",
      `getInto(): out must be a Uint8Array, got ${describeValue(out)}`,
    );
  }
  if (out.length < vb) {
    throw new ArgumentError(
      "getInto",
      `getInto(): out holds ${out.length} bytes, the value needs ${vb}`,
    );
  }
  putKey(h, key, "getInto");
  h.elemView.setUint32(OFF_FLAGS, flags, true);
  const r = mapLookupElem(h.elem);
  if (r < 0) {
    if (r === -ENOENT) return false;
    h.fail(BpfCmd.MAP_LOOKUP_ELEM, -r, "getInto", flags);
  }
  const src = h.value;
  if (vb <= 64) { for (let i = 0; i < vb; i++) out[i] = src[i]; }
  else out.set(src.subarray(0, vb));
  return true;
}

/** `BPF_MAP_UPDATE_ELEM`. */
export function update<K, V>(h: MapHandle, key: K, value: V, flags: number): void {
  h.openFd("set");
  if (!h.canSet) h.keyedOnly("set", "update");
  putKey(h, key, "set");
  putValue(h, value, "set");
  h.elemView.setUint32(OFF_FLAGS, flags, true);
  const r = mapUpdateElem(h.elem);
  if (r < 0) h.fail(BpfCmd.MAP_UPDATE_ELEM, -r, "set", flags);
}

/** `BPF_MAP_DELETE_ELEM`; false when the key was absent. */
export function remove<K>(h: MapHandle, key: K): boolean {
  h.openFd("delete");
  if (!h.canDelete) h.keyedOnly("delete", "delete");
  putKey(h, key, "delete");
  const r = mapDeleteElem(h.elem);
  if (r < 0) {
    if (r === -ENOENT) return false;
    h.fail(BpfCmd.MAP_DELETE_ELEM, -r, "delete");
  }
  return true;
}

/** Whether a key is present (bloom filter: whether the value may have been pushed). */
export function contains(h: MapHandle, keyOrValue: unknown): boolean {
  h.openFd("has");
  if (h.spec.name === "bloom_filter") {
    encodeValue(h, keyOrValue, "has");
  } else {
    if (!h.canGet) h.keyedOnly("has", "lookup");
    putKey(h, keyOrValue, "has");
  }
  h.elemView.setUint32(OFF_FLAGS, 0, true);
  const r = mapLookupElem(h.elem);
  if (r < 0) {
    if (r === -ENOENT) return false;
    h.fail(BpfCmd.MAP_LOOKUP_ELEM, -r, "has");
  }
  return true;
}

/** The map types that got lookup-and-delete together (Linux 5.14). */
const HASH_FAMILY: ReadonlySet<string> = new Set([
  "hash",
  "lru_hash",
  "percpu_hash",
  "lru_percpu_hash",
]);

/** `BPF_MAP_LOOKUP_AND_DELETE_ELEM` on a key; `undefined` when it was absent. */
export function lookupAndDelete<K, V>(h: MapHandle, key: K, flags: number): V | undefined {
  h.openFd("getAndDelete");
  h.keyedOnly("getAndDelete", "lookupAndDelete");
  putKey(h, key, "getAndDelete");
  h.elemView.setUint32(OFF_FLAGS, flags, true);
  const r = mapLookupAndDeleteElem(h.elem);
  if (r < 0) {
    if (r === -ENOENT) return undefined;
    if (r === -Errno.ENOTSUPP && HASH_FAMILY.has(h.spec.name)) {
      // The kernel has the command, but for queues and stacks only (before 5.14).
      throw new MapOpNotSupportedError("getAndDelete", "lookupAndDelete", h.spec.name, {
        errno: "ENOTSUPP",
        why: `this kernel has no lookup-and-delete for ${h.spec.name} maps ` +
          "(BPF_MAP_LOOKUP_AND_DELETE_ELEM takes queues and stacks only before Linux 5.14)",
      }, h.shape.name);
    }
    h.fail(BpfCmd.MAP_LOOKUP_AND_DELETE_ELEM, -r, "getAndDelete", flags);
  }
  return decodeValue<V>(h);
}

/** `BPF_MAP_GET_NEXT_KEY`: the key after `key` (the first without one), `undefined` at the end. */
export function nextKey<K>(h: MapHandle, key: K | undefined): K | undefined {
  h.openFd("nextKey");
  h.keyedOnly("nextKey", "getNextKey");
  if (key === undefined || key === null) {
    h.nextView.setBigUint64(N.key.offset, 0n, true);
  } else {
    putKey(h, key, "nextKey");
    h.nextView.setBigUint64(N.key.offset, h.keyAddr, true);
  }
  const r = mapGetNextKey(h.next);
  if (r < 0) {
    if (r === -ENOENT) return undefined;
    h.fail(BpfCmd.MAP_GET_NEXT_KEY, -r, "nextKey");
  }
  return decodeKey<K>(h, h.key2View, h.key2);
}

/** Pushes onto a queue, stack or bloom filter (`BPF_MAP_UPDATE_ELEM` with no key). */
export function push<V>(h: MapHandle, value: V, flags: number): void {
  h.openFd("push");
  h.keyless("push", "update");
  encodeValue(h, value, "push");
  h.elemView.setUint32(OFF_FLAGS, flags, true);
  const r = mapUpdateElem(h.elem);
  if (r < 0) h.fail(BpfCmd.MAP_UPDATE_ELEM, -r, "push", flags);
}

/** Removes the next element of a queue or stack; `undefined` when empty. */
export function pop<V>(h: MapHandle): V | undefined {
  h.openFd("pop");
  h.keyless("pop", "lookupAndDelete");
  h.elemView.setUint32(OFF_FLAGS, 0, true);
  const r = mapLookupAndDeleteElem(h.elem);
  if (r < 0) {
    if (r === -ENOENT) return undefined;
    h.fail(BpfCmd.MAP_LOOKUP_AND_DELETE_ELEM, -r, "pop");
  }
  return decodeValue<V>(h);
}

/** The element `pop` would remove, left in place; `undefined` when empty. */
export function peek<V>(h: MapHandle): V | undefined {
  h.openFd("peek");
  h.keyless("peek", "lookup");
  if (h.spec.name === "bloom_filter") {
    throw new MapOpNotSupportedError("peek", "lookup", h.spec.name, {
      errno: "EINVAL",
      why: "a bloom filter cannot list its values; use has(value)",
    }, h.shape.name);
  }
  h.elemView.setUint32(OFF_FLAGS, 0, true);
  const r = mapLookupElem(h.elem);
  if (r < 0) {
    if (r === -ENOENT) return undefined;
    h.fail(BpfCmd.MAP_LOOKUP_ELEM, -r, "peek");
  }
  return decodeValue<V>(h);
}

/** `BPF_MAP_FREEZE`: read-only for user space from now on. */
export function freeze(h: MapHandle): void {
  const fd = h.openFd("freeze");
  h.require("freeze", "freeze");
  const attr = new Attr(MAP_FREEZE_ATTR).set("map_fd", fd);
  const r = mapFreeze(attr);
  if (r < 0) {
    const detail = -r === Errno.EBUSY
      ? `${h.label()} is already frozen (or mapped writable)`
      : -r === Errno.ENOTSUPP
      ? `${h.label()}: maps whose values hold a spin lock or timer cannot be frozen`
      : h.label();
    throw new BpfError(BpfCmd.MAP_FREEZE, -r, detail);
  }
}

/** Whether the map is frozen, from `/proc/self/fdinfo`. */
export function isFrozen(h: MapHandle): boolean {
  const fd = h.openFd("frozen");
  const m = /^frozen:\s*(\d+)/m.exec(readFileText(`/proc/self/fdinfo/${fd}`));
  return m !== null && m[1] !== "0";
}
