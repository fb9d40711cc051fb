/**
 * Keys and values between the caller's form (codec values, or raw `Uint8Array`s of the exact size)
 * and a map's memory: its scratch buffers for element operations, or a caller-provided view for
 * batches. Per-CPU values go through `percpu.ts`. Internal to `lib/map/`.
 *
 * @module
 */
import { CodecError, describeValue } from "../codec/codec.ts";
import { freshBytes } from "../codec/fresh.ts";
import type { MapHandle } from "./handle.ts";
import { decodePerCpu, encodePerCpu } from "./percpu.ts";
import { ArgumentError } from "../errors.ts";

/** A codec's error, restated with the operation and the map. */
function badArgument(h: MapHandle, operation: string, e: CodecError): CodecError {
  return new CodecError(`${e.problem} — in ${operation}() on ${h.label()}`, e.path);
}

/** Writes a key into `into`/`bytes` (its view and bytes), with precise errors. */
export function encodeKey<K>(
  h: MapHandle,
  key: K,
  into: DataView,
  bytes: Uint8Array,
  operation: string,
): void {
  const codec = h.keyCodec;
  if (codec !== undefined) {
    try {
      codec.encode(key, into, 0);
    } catch (e) {
      if (e instanceof CodecError) throw badArgument(h, operation, e.within("key"));
      throw e;
    }
    return;
  }
  if (!(key instanceof Uint8Array)) {
    throw new ArgumentError(
      operation,
      `${operation}(): key must be a Uint8Array of ${h.shape.keySize} bytes (or give the map a key codec), got ${
        describeValue(key)
      }`,
    );
  }
  if (key.length !== h.shape.keySize) {
    throw new ArgumentError(
      operation,
      `${operation}(): key must be exactly ${h.shape.keySize} bytes for ${h.label()}, got ${key.length}`,
    );
  }
  bytes.set(key);
}

/** Writes a key into the scratch key buffer (the hot path of get/set/delete). */
export function putKey<K>(h: MapHandle, key: K, operation: string): void {
  const codec = h.keyCodec;
  if (codec !== undefined) {
    try {
      codec.encode(key, h.keyView, 0);
    } catch (e) {
      if (e instanceof CodecError) throw badArgument(h, operation, e.within("key"));
      throw e;
    }
    return;
  }
  const n = h.ks;
  if (!(key instanceof Uint8Array) || key.length !== n) {
    encodeKey(h, key, h.keyView, h.key, operation); // throws the precise error
    return;
  }
  const dst = h.key;
  if (n <= 16) { for (let i = 0; i < n; i++) dst[i] = key[i]; }
  else dst.set(key);
}

/** Writes a value into the scratch value buffer (the hot path of set). */
export function putValue<V>(h: MapHandle, value: V, operation: string): void {
  const codec = h.valueCodec;
  if (codec === undefined && !h.pcpu) {
    const n = h.vs;
    if (value instanceof Uint8Array && value.length === n && n <= 64) {
      const dst = h.value;
      for (let i = 0; i < n; i++) dst[i] = value[i];
      return;
    }
  } else if (codec !== undefined && !h.pcpu) {
    try {
      codec.encode(value, h.valueView, 0);
    } catch (e) {
      if (e instanceof CodecError) throw badArgument(h, operation, e.within("value"));
      throw e;
    }
    return;
  }
  encodeValue(h, value, operation); // per-CPU, large values, or the precise error
}

/** Reads a key at `offset` of `view`/`bytes`: decoded, or a fresh copy of its bytes. */
export function decodeKey<K>(h: MapHandle, view: DataView, bytes: Uint8Array, offset = 0): K {
  const codec = h.keyCodec;
  if (codec !== undefined) return codec.decode(view, offset) as K;
  return freshBytes(bytes, offset, h.shape.keySize) as K;
}

/** Writes a whole value (all CPUs' for per-CPU maps) at `base` of `into` (default: scratch). */
export function encodeValue<V>(
  h: MapHandle,
  value: V,
  operation: string,
  into: DataView = h.valueView,
  base = 0,
): void {
  if (!h.pcpu) {
    encodeOne(h, value, into, base, operation, "value");
    return;
  }
  encodePerCpu(
    value,
    h.layout,
    base,
    { operation, typeName: h.spec.name },
    (v, offset, what) => encodeOne(h, v, into, offset, operation, what),
  );
}

/** Writes one CPU's value (or the value) at `offset` of `into`. */
function encodeOne(
  h: MapHandle,
  value: unknown,
  into: DataView,
  offset: number,
  operation: string,
  what: string,
): void {
  const codec = h.valueCodec;
  if (codec !== undefined) {
    try {
      codec.encode(value, into, offset);
    } catch (e) {
      if (e instanceof CodecError) throw badArgument(h, operation, e.within(what));
      throw e;
    }
    return;
  }
  if (!(value instanceof Uint8Array)) {
    throw new ArgumentError(
      operation,
      `${operation}(): ${what} must be a Uint8Array of ${h.shape.valueSize} bytes (or give the map a value codec), got ${
        describeValue(value)
      }`,
    );
  }
  if (value.length !== h.shape.valueSize) {
    throw new ArgumentError(
      operation,
      `${operation}(): ${what} must be exactly ${h.shape.valueSize} bytes for ${h.label()}, got ${value.length}`,
    );
  }
  if (into === h.valueView && offset === 0 && value.length <= 64) {
    const dst = h.value;
    for (let i = 0; i < value.length; i++) dst[i] = value[i];
  } else {
    new Uint8Array(into.buffer, into.byteOffset + offset, value.length).set(value);
  }
}

/** Reads a whole value at `base` of `view` (default: scratch): decoded, or fresh bytes. */
export function decodeValue<V>(h: MapHandle, view: DataView = h.valueView, base = 0): V {
  const codec = h.valueCodec;
  if (!h.pcpu) {
    if (codec !== undefined) return codec.decode(view, base) as V;
    if (view === h.valueView) return freshBytes(h.value, 0, h.shape.valueSize) as V;
    const src = new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
    return freshBytes(src, base, h.shape.valueSize) as V;
  }
  const layout = h.layout;
  if (codec !== undefined) return decodePerCpu(layout, base, (off) => codec.decode(view, off)) as V;
  const src = new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
  return decodePerCpu(layout, base, (off) => freshBytes(src, off, h.shape.valueSize)) as V;
}
