/**
 * Checking a map's shape before `BPF_MAP_CREATE` (sizes, flags and name against the map-type
 * table, with defaults filled in), codecs against an existing map, and what a refused create means.
 *
 * @module
 */
import { MapFlag } from "../../types/flags.ts";
import { type Codec, CodecError } from "../codec/codec.ts";
import { validateObjectName } from "../ids.ts";
import type { MapInfo } from "./info.ts";
import type { MapTypeInfo } from "./map_types.ts";
import type { MapCodecs, MapCreateOptions, Shape } from "./types.ts";
import { ArgumentError } from "../errors.ts";
/** Checks sizes, flags and the name against the table; fills defaults. */
export function resolveShape(spec: MapTypeInfo, o: MapCreateOptions<unknown, unknown>): Shape {
  const where = `${spec.name} map`;
  const size = (
    what: string,
    given: number | undefined,
    codec: Codec<unknown> | undefined,
    fixed?: number,
  ): number => {
    if (given !== undefined && (!Number.isInteger(given) || given < 0)) {
      throw new ArgumentError(
        where,
        `${where}: ${what} must be a non-negative integer, got ${given}`,
      );
    }
    if (given !== undefined && codec !== undefined && codec.size !== given) {
      throw new ArgumentError(
        where,
        `${where}: ${what} ${given} does not match the ${
          what === "keySize" ? "key" : "value"
        } codec ${codec.name} (${codec.size} bytes)`,
      );
    }
    const v = given ?? codec?.size ?? fixed;
    if (v === undefined) {
      throw new ArgumentError(
        where,
        `${where}: give ${what} or a ${what === "keySize" ? "key" : "value"} codec`,
      );
    }
    return v;
  };
  const keySize = size("keySize", o.keySize, o.key as Codec<unknown>, spec.keySize);
  if (spec.keySize !== undefined && keySize !== spec.keySize) {
    throw new ArgumentError(
      "argument",
      spec.keySize === 0
        ? `${where}s have no keys: keySize must be 0 (and no key codec), got ${keySize}`
        : `${where}s need ${spec.keySize}-byte keys (${
          spec.key === "fd" ? "a file descriptor" : "a u32 index"
        }), got keySize ${keySize}`,
    );
  }
  if (spec.key !== "none" && keySize === 0) {
    throw new ArgumentError("keySize", `${where}s need keys: keySize must be at least 1`);
  }
  const valueSize = size(
    "valueSize",
    o.valueSize,
    o.value as Codec<unknown>,
    spec.defaultValueSize,
  );
  if (spec.valueSizes !== undefined && !spec.valueSizes.includes(valueSize)) {
    throw new ArgumentError(
      where,
      `${where}s need valueSize ${spec.valueSizes.join(" or ")}, got ${valueSize}`,
    );
  }
  if (spec.value !== "none" && valueSize === 0) {
    throw new ArgumentError("valueSize", `${where}s need values: valueSize must be at least 1`);
  }
  if (spec.name === "stack_trace" && valueSize % 8 !== 0) {
    throw new ArgumentError(
      where,
      `${where}s need a valueSize that is a multiple of 8 (u64 addresses), got ${valueSize}`,
    );
  }
  let maxEntries = o.maxEntries;
  if (
    maxEntries !== undefined &&
    (!Number.isInteger(maxEntries) || maxEntries < 0 || maxEntries > 0xffffffff)
  ) {
    throw new ArgumentError(
      where,
      `${where}: maxEntries must be a 32-bit unsigned integer, got ${maxEntries}`,
    );
  }
  if (spec.maxEntries === "zero") {
    if (maxEntries !== undefined && maxEntries !== 0) {
      throw new ArgumentError(
        where,
        `${where}s take no maxEntries (0): storage grows with its owners, got ${maxEntries}`,
      );
    }
    maxEntries = 0;
  } else if (maxEntries === undefined || maxEntries === 0) {
    const unit = spec.maxEntries === "pages"
      ? " (the arena size in pages)"
      : spec.maxEntries === "ringbuf-bytes"
      ? " (the buffer size in bytes)"
      : "";
    throw new ArgumentError("maxEntries", `${where}s need a positive maxEntries${unit}`);
  } else if (spec.maxEntries === "ringbuf-bytes" && (maxEntries & (maxEntries - 1)) !== 0) {
    throw new ArgumentError(
      where,
      `${where}: maxEntries ${maxEntries} must be a power of two (bytes, at least a page)`,
    );
  }
  let flags = (o.flags ?? 0) | spec.requiredFlags;
  if (o.numaNode !== undefined) flags |= MapFlag.NUMA_NODE;
  if (o.name !== undefined) validateObjectName(o.name);
  flags >>>= 0;
  return { type: spec.type, keySize, valueSize, maxEntries, flags, name: o.name ?? "" };
}

export function checkCodecs(info: MapInfo, codecs: MapCodecs<unknown, unknown>): void {
  if (codecs.key !== undefined && codecs.key.size !== info.keySize) {
    throw new CodecError(
      `map ${info.id} (${info.typeName}) has ${info.keySize}-byte keys; key codec ${codecs.key.name} is ${codecs.key.size} bytes`,
    );
  }
  if (codecs.value !== undefined && codecs.value.size !== info.valueSize) {
    throw new CodecError(
      `map ${info.id} (${info.typeName}) has ${info.valueSize}-byte values; value codec ${codecs.value.name} is ${codecs.value.size} bytes`,
    );
  }
}

export function createDetail(spec: MapTypeInfo, shape: Shape, errno: number): string {
  const what =
    `${spec.name} map (key ${shape.keySize} B, value ${shape.valueSize} B, max_entries ${shape.maxEntries}, flags 0x${
      shape.flags.toString(16)
    })`;
  switch (errno) {
    case 22:
      return `${what}: the kernel refused this combination of sizes and flags` +
        (spec.note ? ` (${spec.note})` : "");
    case 524:
    case 95:
      return `${what}: not supported by this kernel or configuration` +
        (spec.note ? ` (${spec.note})` : "");
    case 7:
      return `${what}: a size is larger than the kernel allows`;
    case 1:
      return `${what}: this kernel refuses ${spec.name} maps for this process`;
    default:
      return what;
  }
}
