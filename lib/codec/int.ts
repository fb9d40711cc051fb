/**
 * Integer and floating-point codecs, little-endian (the byte order of the machines tsbpf runs on,
 * x86_64 and aarch64). 8-, 16- and 32-bit integers are numbers; 64-bit integers are bigints (a
 * safe-integer number is accepted when encoding).
 *
 * @module
 */
import { checkSpan } from "./span.ts";
import { type Codec, CodecError, describeValue } from "./codec.ts";

/** The largest finite 32-bit float. */
const F32_MAX = 3.4028234663852886e38;

function notInteger(name: string, value: unknown): CodecError {
  return new CodecError(`${name} needs an integer, got ${describeValue(value)}`);
}

function outOfRange(
  name: string,
  value: unknown,
  lo: number | bigint,
  hi: number | bigint,
): CodecError {
  return new CodecError(`${describeValue(value)} does not fit ${name} (${lo}..${hi})`);
}

/**
 * Unsigned 8-bit integer.
 *
 * @example
 * ```ts
 * import { u8 } from "@tsbpf/core";
 * u8.size; // 1
 * ```
 */
export const u8: Codec<number> = {
  size: 1,
  align: 1,
  name: "u8",
  btf: { kind: "int", signed: false },
  encode(value: number, view: DataView, offset: number): void {
    checkSpan(view, offset, 1, "u8");
    // Bigints and other non-numbers would make the bit test itself throw.
    if (typeof value !== "number" || (value & 0xff) !== value) {
      if (!Number.isInteger(value)) throw notInteger("u8", value);
      throw outOfRange("u8", value, 0, 255);
    }
    view.setUint8(offset, value);
  },
  decode(view: DataView, offset: number): number {
    checkSpan(view, offset, 1, "u8");
    return view.getUint8(offset);
  },
};

/**
 * Signed 8-bit integer.
 *
 * @example
 * ```ts
 * import { i8 } from "@tsbpf/core";
 * i8.name; // "i8"
 * ```
 */
export const i8: Codec<number> = {
  size: 1,
  align: 1,
  name: "i8",
  btf: { kind: "int", signed: true },
  encode(value: number, view: DataView, offset: number): void {
    checkSpan(view, offset, 1, "i8");
    // Bigints and other non-numbers would make the bit test itself throw.
    if (typeof value !== "number" || ((value << 24) >> 24) !== value) {
      if (!Number.isInteger(value)) throw notInteger("i8", value);
      throw outOfRange("i8", value, -128, 127);
    }
    view.setInt8(offset, value);
  },
  decode(view: DataView, offset: number): number {
    checkSpan(view, offset, 1, "i8");
    return view.getInt8(offset);
  },
};

/**
 * Unsigned 16-bit integer.
 *
 * @example
 * ```ts
 * import { u16 } from "@tsbpf/core";
 * u16.size; // 2
 * ```
 */
export const u16: Codec<number> = {
  size: 2,
  align: 2,
  name: "u16",
  btf: { kind: "int", signed: false },
  encode(value: number, view: DataView, offset: number): void {
    checkSpan(view, offset, 2, "u16");
    // Bigints and other non-numbers would make the bit test itself throw.
    if (typeof value !== "number" || (value & 0xffff) !== value) {
      if (!Number.isInteger(value)) throw notInteger("u16", value);
      throw outOfRange("u16", value, 0, 65535);
    }
    view.setUint16(offset, value, true);
  },
  decode(view: DataView, offset: number): number {
    checkSpan(view, offset, 2, "u16");
    return view.getUint16(offset, true);
  },
};

/**
 * Signed 16-bit integer.
 *
 * @example
 * ```ts
 * import { i16 } from "@tsbpf/core";
 * i16.size; // 2
 * ```
 */
export const i16: Codec<number> = {
  size: 2,
  align: 2,
  name: "i16",
  btf: { kind: "int", signed: true },
  encode(value: number, view: DataView, offset: number): void {
    checkSpan(view, offset, 2, "i16");
    // Bigints and other non-numbers would make the bit test itself throw.
    if (typeof value !== "number" || ((value << 16) >> 16) !== value) {
      if (!Number.isInteger(value)) throw notInteger("i16", value);
      throw outOfRange("i16", value, -32768, 32767);
    }
    view.setInt16(offset, value, true);
  },
  decode(view: DataView, offset: number): number {
    checkSpan(view, offset, 2, "i16");
    return view.getInt16(offset, true);
  },
};

/**
 * Unsigned 32-bit integer.
 *
 * @example
 * ```ts
 * import { u32 } from "@tsbpf/core";
 * u32.size; // 4
 * ```
 */
export const u32: Codec<number> = {
  size: 4,
  align: 4,
  name: "u32",
  btf: { kind: "int", signed: false },
  encode(value: number, view: DataView, offset: number): void {
    checkSpan(view, offset, 4, "u32");
    // Bigints and other non-numbers would make the bit test itself throw.
    if (typeof value !== "number" || (value >>> 0) !== value) {
      if (!Number.isInteger(value)) throw notInteger("u32", value);
      throw outOfRange("u32", value, 0, 4294967295);
    }
    view.setUint32(offset, value, true);
  },
  decode(view: DataView, offset: number): number {
    checkSpan(view, offset, 4, "u32");
    return view.getUint32(offset, true);
  },
};

/**
 * Signed 32-bit integer.
 *
 * @example
 * ```ts
 * import { i32 } from "@tsbpf/core";
 * i32.name; // "i32"
 * ```
 */
export const i32: Codec<number> = {
  size: 4,
  align: 4,
  name: "i32",
  btf: { kind: "int", signed: true },
  encode(value: number, view: DataView, offset: number): void {
    checkSpan(view, offset, 4, "i32");
    // Bigints and other non-numbers would make the bit test itself throw.
    if (typeof value !== "number" || (value | 0) !== value) {
      if (!Number.isInteger(value)) throw notInteger("i32", value);
      throw outOfRange("i32", value, -2147483648, 2147483647);
    }
    view.setInt32(offset, value, true);
  },
  decode(view: DataView, offset: number): number {
    checkSpan(view, offset, 4, "i32");
    return view.getInt32(offset, true);
  },
};

const U64_MAX = 0xffff_ffff_ffff_ffffn;
const I64_MIN = -0x8000_0000_0000_0000n;
const I64_MAX = 0x7fff_ffff_ffff_ffffn;

function toBigInt(name: string, value: bigint | number): bigint {
  if (typeof value === "bigint") return value;
  if (typeof value === "number" && Number.isSafeInteger(value)) return BigInt(value);
  throw new CodecError(
    `${name} needs a bigint (or a safe-integer number), got ${describeValue(value)}`,
  );
}

/**
 * Unsigned 64-bit integer: decodes to a bigint; encodes a bigint or a safe-integer number.
 *
 * @example
 * ```ts
 * import { u64 } from "@tsbpf/core";
 * const view = new DataView(new ArrayBuffer(8));
 * u64.encode(5n, view, 0);
 * u64.decode(view, 0); // 5n
 * ```
 */
export const u64: Codec<bigint> = {
  size: 8,
  align: 8,
  name: "u64",
  btf: { kind: "int", signed: false },
  encode(value: bigint | number, view: DataView, offset: number): void {
    checkSpan(view, offset, 8, "u64");
    const v = typeof value === "bigint" ? value : toBigInt("u64", value);
    if (v < 0n || v > U64_MAX) throw outOfRange("u64", value, 0, U64_MAX);
    view.setBigUint64(offset, v, true);
  },
  decode(view: DataView, offset: number): bigint {
    checkSpan(view, offset, 8, "u64");
    return view.getBigUint64(offset, true);
  },
};

/**
 * Signed 64-bit integer: decodes to a bigint; encodes a bigint or a safe-integer number.
 *
 * @example
 * ```ts
 * import { i64 } from "@tsbpf/core";
 * i64.size; // 8
 * ```
 */
export const i64: Codec<bigint> = {
  size: 8,
  align: 8,
  name: "i64",
  btf: { kind: "int", signed: true },
  encode(value: bigint | number, view: DataView, offset: number): void {
    checkSpan(view, offset, 8, "i64");
    const v = typeof value === "bigint" ? value : toBigInt("i64", value);
    if (v < I64_MIN || v > I64_MAX) throw outOfRange("i64", value, I64_MIN, I64_MAX);
    view.setBigInt64(offset, v, true);
  },
  decode(view: DataView, offset: number): bigint {
    checkSpan(view, offset, 8, "i64");
    return view.getBigInt64(offset, true);
  },
};

/**
 * 32-bit IEEE float.
 *
 * @example
 * ```ts
 * import { f32 } from "@tsbpf/core";
 * f32.size; // 4
 * ```
 */
export const f32: Codec<number> = {
  size: 4,
  align: 4,
  name: "f32",
  btf: { kind: "float" },
  encode(value: number, view: DataView, offset: number): void {
    checkSpan(view, offset, 4, "f32");
    if (typeof value !== "number") {
      throw new CodecError(`f32 needs a number, got ${describeValue(value)}`);
    }
    if (Number.isFinite(value) && Math.abs(value) > F32_MAX) {
      throw new CodecError(`${value} does not fit f32 (it would become Infinity)`);
    }
    view.setFloat32(offset, value, true);
  },
  decode(view: DataView, offset: number): number {
    checkSpan(view, offset, 4, "f32");
    return view.getFloat32(offset, true);
  },
};

/**
 * 64-bit IEEE float.
 *
 * @example
 * ```ts
 * import { f64 } from "@tsbpf/core";
 * f64.size; // 8
 * ```
 */
export const f64: Codec<number> = {
  size: 8,
  align: 8,
  name: "f64",
  btf: { kind: "float" },
  encode(value: number, view: DataView, offset: number): void {
    checkSpan(view, offset, 8, "f64");
    if (typeof value !== "number") {
      throw new CodecError(`f64 needs a number, got ${describeValue(value)}`);
    }
    view.setFloat64(offset, value, true);
  },
  decode(view: DataView, offset: number): number {
    checkSpan(view, offset, 8, "f64");
    return view.getFloat64(offset, true);
  },
};

/**
 * A C `bool` in one byte: encodes `true`/`false`, decodes any non-zero byte as `true`.
 *
 * @example
 * ```ts
 * import { bool } from "@tsbpf/core";
 * bool.size; // 1
 * ```
 */
export const bool: Codec<boolean> = {
  size: 1,
  align: 1,
  name: "bool",
  btf: { kind: "int", signed: false },
  encode(value: boolean, view: DataView, offset: number): void {
    checkSpan(view, offset, 1, "bool");
    if (typeof value !== "boolean") {
      throw new CodecError(`bool needs true or false, got ${describeValue(value)}`);
    }
    view.setUint8(offset, value ? 1 : 0);
  },
  decode(view: DataView, offset: number): boolean {
    checkSpan(view, offset, 1, "bool");
    return view.getUint8(offset) !== 0;
  },
};
