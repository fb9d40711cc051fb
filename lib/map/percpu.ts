/**
 * Per-CPU map values: the kernel hands user space one value per possible CPU, each rounded up to 8
 * bytes, back to back. `BpfMap` shows them as arrays of `cpus` values. Internal to `lib/map/`.
 *
 * @module
 */
import { describeValue } from "../codec/codec.ts";
import { ArgumentError } from "../errors.ts";
import { possibleCpus } from "./cpus.ts";

/** How one key's value is laid out in the kernel's buffer. */
export interface ValueLayout {
  /** Values per key: the number of possible CPUs for per-CPU maps, else 1. */
  ncpu: number;
  /** Bytes from one CPU's value to the next. */
  stride: number;
  /** Bytes of one key's value, all CPUs. */
  bytes: number;
}

/** The layout of a map's values: one value, or one per possible CPU with an 8-byte stride. */
export function perCpuLayout(perCpu: boolean, valueSize: number): ValueLayout {
  const ncpu = perCpu ? possibleCpus() : 1;
  const stride = perCpu ? Math.ceil(valueSize / 8) * 8 : valueSize;
  return { ncpu, stride, bytes: stride * ncpu };
}

/**
 * Writes an array of one value per CPU at `base`, each through `encodeOne(value, offset, what)`.
 *
 * @throws {ArgumentError} when `value` is not an array of exactly `layout.ncpu` values.
 */
export function encodePerCpu(
  value: unknown,
  layout: ValueLayout,
  base: number,
  where: { operation: string; typeName: string },
  encodeOne: (value: unknown, offset: number, what: string) => void,
): void {
  if (!Array.isArray(value) || value.length !== layout.ncpu) {
    throw new ArgumentError(
      "value",
      `${where.operation}(): ${where.typeName} values are arrays of one value per possible CPU (${layout.ncpu}), got ${
        describeValue(value)
      }`,
    );
  }
  for (let c = 0; c < layout.ncpu; c++) {
    encodeOne(value[c], base + c * layout.stride, `value[${c}]`);
  }
}

/** Reads one value per CPU from `base`, each through `decodeOne(offset)`. */
export function decodePerCpu<T>(
  layout: ValueLayout,
  base: number,
  decodeOne: (offset: number) => T,
): T[] {
  const out = new Array<T>(layout.ncpu);
  for (let c = 0; c < layout.ncpu; c++) out[c] = decodeOne(base + c * layout.stride);
  return out;
}
