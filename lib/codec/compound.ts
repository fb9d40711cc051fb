/**
 * Compound codecs: fixed-length arrays and C structs (natural alignment, or explicit offsets and
 * padding).
 *
 * @module
 */
import { kindOf, requireObject } from "../args.ts";
import { checkSpan } from "./span.ts";
import { isPadding } from "./bytes.ts";
import {
  type Codec,
  CodecError,
  type CodecValue,
  describeValue,
  type StructFieldInfo,
} from "./codec.ts";
import { ArgumentError } from "../errors.ts";

/**
 * A C array `T[length]`: an array of exactly `length` elements.
 *
 * @example
 * ```ts
 * import { array, u32 } from "@tsbpf/core";
 * const four = array(u32, 4);
 * four.size; // 16
 * ```
 */
export function array<T>(element: Codec<T>, length: number): Codec<T[]> {
  requireCodec("array", "element", element);
  if (!Number.isInteger(length) || length < 0) {
    throw new ArgumentError(
      "length",
      `array length must be a non-negative integer, got ${String(length)}`,
    );
  }
  const step = element.size;
  const name = `${element.name}[${length}]`;
  return {
    size: step * length,
    align: element.align,
    name,
    btf: { kind: "array", element: element as Codec<unknown>, length },
    encode(value: T[], view: DataView, offset: number): void {
      checkSpan(view, offset, step * length, name);
      if (!Array.isArray(value)) {
        throw new CodecError(`${name} needs an array, got ${describeValue(value)}`);
      }
      if (value.length !== length) {
        throw new CodecError(`${name} needs exactly ${length} elements, got ${value.length}`);
      }
      for (let i = 0; i < length; i++) {
        try {
          element.encode(value[i], view, offset + i * step);
        } catch (e) {
          if (e instanceof CodecError) throw e.within(`[${i}]`);
          throw e;
        }
      }
    },
    decode(view: DataView, offset: number): T[] {
      const out = new Array<T>(length);
      for (let i = 0; i < length; i++) out[i] = element.decode(view, offset + i * step);
      return out;
    },
  };
}

/** Padding and `bpf_spin_lock` fields: written by the codec itself, never part of the value. */
function isHidden(codec: Codec<unknown>): boolean {
  return isPadding(codec) || codec.btf.kind === "spin_lock";
}

/**
 * A struct field given with an explicit byte offset.
 *
 * @example
 * ```ts
 * import { type FieldAt, u16 } from "@tsbpf/core";
 * const port: FieldAt<number> = { codec: u16, offset: 6 };
 * ```
 */
export interface FieldAt<T> {
  /** The field's codec. */
  readonly codec: Codec<T>;
  /** Byte offset from the start of the struct. */
  readonly offset: number;
}

/**
 * Struct field declarations: each a codec (laid out after the previous field with the codec's
 * natural alignment) or a {@link FieldAt} with an explicit offset.
 *
 * @example
 * ```ts
 * import { type StructFields, u32, u64 } from "@tsbpf/core";
 * const fields: StructFields = { pkts: u64, proto: { codec: u32, offset: 12 } };
 * ```
 */
// deno-lint-ignore no-explicit-any
export type StructFields = Record<string, Codec<any> | FieldAt<any>>;

/**
 * The value type of one struct field declaration (a codec or a {@link FieldAt}).
 *
 * @example
 * ```ts
 * import { type StructFieldValue, u16 } from "@tsbpf/core";
 * type Port = StructFieldValue<typeof u16>; // number
 * ```
 */
export type StructFieldValue<F> = F extends FieldAt<infer T> ? T : CodecValue<F>;
/**
 * Names of the fields of a struct declaration that are not part of its values (padding,
 * `spinLock`).
 *
 * @example
 * ```ts
 * import { pad, type StructHiddenKeys, u32 } from "@tsbpf/core";
 * type H = StructHiddenKeys<{ a: typeof u32; _pad: ReturnType<typeof pad> }>; // "_pad"
 * ```
 */
export type StructHiddenKeys<F> = {
  [K in keyof F]: StructFieldValue<F[K]> extends undefined ? K : never;
}[keyof F];

/**
 * The decoded object of a struct codec: one property per field, padding left out.
 *
 * @example
 * ```ts
 * import { type StructValue, u64 } from "@tsbpf/core";
 * type Stats = StructValue<{ pkts: typeof u64; bytes: typeof u64 }>; // { pkts: bigint; bytes: bigint }
 * ```
 */
export type StructValue<F> = {
  [K in Exclude<keyof F, StructHiddenKeys<F>>]: StructFieldValue<F[K]>;
};

/** Options of {@link struct}. */
export interface StructOptions {
  /**
   * Total size in bytes (trailing padding included). Default: the end of the last field rounded
   * up to the struct's alignment, as C does.
   */
  size?: number;
  /** Alignment of the whole struct. Default: the largest field alignment. */
  align?: number;
  /** C name for BTF and messages. */
  name?: string;
}

/** A struct codec, which also exposes its resolved field layout. */
export interface StructCodec<T> extends Codec<T> {
  /** Fields with resolved offsets, in declaration order (padding included). */
  readonly fields: readonly StructFieldInfo[];
}

/**
 * A C struct. Fields are laid out in declaration order with natural alignment, like a C compiler
 * does, unless given an explicit offset (`{ codec, offset }`); gaps between fields are written as
 * zeros. Decoding returns a plain object (padding fields left out); encoding needs every field.
 *
 * @throws {ArgumentError} when explicit offsets overlap, or `size` is smaller than the fields.
 * @example
 * ```ts
 * import { struct, u32, u64 } from "@tsbpf/core";
 * const Stats = struct({ pkts: u64, bytes: u64 });
 * Stats.size; // 16
 * const Pair = struct({ a: u32, b: { codec: u32, offset: 8 } }, { size: 16 });
 * Pair.fields[1].offset; // 8
 * ```
 */
export function struct<F extends StructFields>(
  fields: F,
  options: StructOptions = {},
): StructCodec<StructValue<F>> {
  requireObject("struct", "fields", fields);
  requireObject("struct", "options", options);
  for (const [name, decl] of Object.entries(fields)) {
    if (
      decl === null || typeof decl !== "object" ||
      typeof (decl as { size?: unknown }).size !== "number" && !("codec" in decl)
    ) {
      throw new ArgumentError(
        "fields",
        `struct: field ${name} must be a codec or { offset, codec }, got ${kindOf(decl)}`,
      );
    }
  }
  const infos: StructFieldInfo[] = [];
  let end = 0;
  let maxAlign = 1;
  for (const [name, decl] of Object.entries(fields)) {
    const explicit = "offset" in decl && "codec" in decl;
    const codec = (explicit ? (decl as FieldAt<unknown>).codec : decl) as Codec<unknown>;
    let offset: number;
    if (explicit) {
      offset = (decl as FieldAt<unknown>).offset;
      if (!Number.isInteger(offset) || offset < 0) {
        throw new ArgumentError(
          "field",
          `field ${name}: offset must be a non-negative integer, got ${offset}`,
        );
      }
      if (offset < end) {
        throw new ArgumentError(
          "field",
          `field ${name} at offset ${offset} overlaps the previous field, which ends at ${end}`,
        );
      }
    } else {
      offset = Math.ceil(end / codec.align) * codec.align;
    }
    maxAlign = Math.max(maxAlign, codec.align);
    infos.push({ name, offset, codec });
    end = offset + codec.size;
  }
  const align = options.align ?? maxAlign;
  if (!Number.isInteger(align) || align <= 0 || (align & (align - 1)) !== 0) {
    throw new ArgumentError("align", `struct align must be a power of two, got ${options.align}`);
  }
  const natural = Math.ceil(end / align) * align;
  const size = options.size ?? natural;
  if (!Number.isInteger(size) || size < 0) {
    throw new ArgumentError(
      "struct",
      `struct size must be a non-negative integer, got ${options.size}`,
    );
  }
  if (size < end) {
    throw new ArgumentError(
      "struct",
      `struct size ${size} is smaller than its fields, which end at ${end}`,
    );
  }
  const name = options.name ??
    `struct { ${
      infos.filter((f) => !isHidden(f.codec)).map((f) => `${f.name}: ${f.codec.name}`).join(", ")
    } }`;

  // Byte ranges not covered by any field: zeroed on encode, so no stale scratch bytes leak in.
  const gaps: [number, number][] = [];
  let cursor = 0;
  for (const f of infos) {
    if (f.offset > cursor) gaps.push([cursor, f.offset]);
    cursor = f.offset + f.codec.size;
  }
  if (size > cursor) gaps.push([cursor, size]);

  const data = infos.filter((f) => !isHidden(f.codec));
  const pads = infos.filter((f) => isHidden(f.codec));
  const names = data.map((f) => f.name);
  const codecs = data.map((f) => f.codec);
  const offsets = data.map((f) => f.offset);
  const n = data.length;

  return {
    size,
    align,
    name,
    fields: infos,
    btf: { kind: "struct", fields: infos },
    encode(value: StructValue<F>, view: DataView, offset: number): void {
      checkSpan(view, offset, size, name);
      if (typeof value !== "object" || value === null || Array.isArray(value)) {
        throw new CodecError(`${name} needs an object, got ${describeValue(value)}`);
      }
      const record = value as Record<string, unknown>;
      for (let i = 0; i < n; i++) {
        const v = record[names[i]];
        if (v === undefined) {
          throw new CodecError(`missing field (${codecs[i].name})`, names[i]);
        }
        try {
          codecs[i].encode(v, view, offset + offsets[i]);
        } catch (e) {
          if (e instanceof CodecError) throw e.within(names[i]);
          throw e;
        }
      }
      for (const p of pads) p.codec.encode(undefined, view, offset + p.offset);
      for (const [from, to] of gaps) {
        for (let i = from; i < to; i++) view.setUint8(offset + i, 0);
      }
    },
    decode(view: DataView, offset: number): StructValue<F> {
      checkSpan(view, offset, size, name);
      const out: Record<string, unknown> = {};
      for (let i = 0; i < n; i++) out[names[i]] = codecs[i].decode(view, offset + offsets[i]);
      return out as StructValue<F>;
    },
  };
}

/** Throws unless `value` looks like a codec (an object with a numeric size and encode/decode). */
function requireCodec(fn: string, argument: string, value: unknown): void {
  const c = value as Partial<Codec<unknown>> | null;
  if (
    c === null || typeof c !== "object" || typeof c.size !== "number" ||
    typeof c.encode !== "function" || typeof c.decode !== "function"
  ) {
    throw new ArgumentError(argument, `${fn}: ${argument} must be a codec, got ${kindOf(value)}`);
  }
}
