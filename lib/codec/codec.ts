/**
 * The `Codec` contract: a fixed-size binary layout that turns JavaScript values into the bytes a
 * BPF map stores, and back.
 *
 * @module
 */

/**
 * What a codec looks like to a BTF encoder: enough to describe its C type, so that maps whose
 * kernel side needs BTF (local storage, `bpf_spin_lock` values) can be created from codecs alone.
 *
 * @example
 * ```ts
 * import type { BtfShape } from "@tsbpf/core";
 * const shape: BtfShape = { kind: "int", signed: false };
 * ```
 */
export type BtfShape =
  | { readonly kind: "int"; readonly signed: boolean }
  | { readonly kind: "float" }
  | { readonly kind: "bytes" }
  | { readonly kind: "spin_lock" }
  | { readonly kind: "array"; readonly element: Codec<unknown>; readonly length: number }
  | {
    readonly kind: "struct";
    readonly fields: readonly StructFieldInfo[];
  };

/**
 * One field of a struct codec, with its resolved byte offset.
 *
 * @example
 * ```ts
 * import { struct, u32, u64 } from "@tsbpf/core";
 * const s = struct({ a: u32, b: u64 });
 * const info = s.fields[1]; // { name: "b", offset: 8, codec: u64 }
 * ```
 */
export interface StructFieldInfo {
  /** Field name, the property of the decoded object. */
  readonly name: string;
  /** Byte offset from the start of the struct. */
  readonly offset: number;
  /** The field's codec. */
  readonly codec: Codec<unknown>;
}

/**
 * A fixed-size binary layout for values of type `T`.
 *
 * `encode` writes exactly `size` bytes at `offset` (or throws a {@link CodecError} before the
 * value is used, when it does not fit); `decode` reads them back. Both work on a `DataView`, so
 * that a map can encode straight into its preallocated scratch memory.
 *
 * @example
 * ```ts
 * import { u32 } from "@tsbpf/core";
 * const view = new DataView(new ArrayBuffer(4));
 * u32.encode(7, view, 0);
 * u32.decode(view, 0); // 7
 * ```
 */
export interface Codec<T> {
  /** Size in bytes. */
  readonly size: number;
  /** Alignment in bytes, as a C compiler would align the type. */
  readonly align: number;
  /** A short C-like description, e.g. `"u32"`, `"u64[4]"`, `"struct { pkts: u64, … }"`. */
  readonly name: string;
  /** The C type behind the codec, for BTF generation. */
  readonly btf: BtfShape;
  /**
   * Writes `value` at `offset`.
   *
   * @throws {CodecError} when `value` has the wrong type or does not fit.
   */
  encode(value: T, view: DataView, offset: number): void;
  /** Reads a value at `offset`. */
  decode(view: DataView, offset: number): T;
}

/**
 * The JavaScript type a codec produces and accepts.
 *
 * @example
 * ```ts
 * import { type CodecValue, u64 } from "@tsbpf/core";
 * const v: CodecValue<typeof u64> = 3n;
 * ```
 */
export type CodecValue<C> = C extends Codec<infer T> ? T : never;

/**
 * A value that a codec cannot encode: wrong type, out of range, wrong length. `path` says where
 * inside a nested value the problem is (`"stats.bytes"`, `"[3]"`).
 *
 * @example
 * ```ts
 * import { CodecError, u8 } from "@tsbpf/core";
 * try {
 *   u8.encode(300, new DataView(new ArrayBuffer(1)), 0);
 * } catch (e) {
 *   (e as CodecError).message; // "300 does not fit u8 (0..255)"
 * }
 * ```
 */
export class CodecError extends RangeError {
  /** Location inside the value (empty for the value itself). */
  readonly path: string;
  /** The problem, without the path. */
  readonly problem: string;

  /** Creates the error; `path` is prefixed to the message when not empty. */
  constructor(problem: string, path = "") {
    super(path === "" ? problem : `${path}: ${problem}`);
    this.name = "CodecError";
    this.problem = problem;
    this.path = path;
  }

  /** The same problem one level further out, e.g. inside field `name` of a struct. */
  within(segment: string): CodecError {
    const path = this.path === ""
      ? segment
      : this.path.startsWith("[")
      ? segment + this.path
      : `${segment}.${this.path}`;
    return new CodecError(this.problem, path);
  }
}

/**
 * Describes a JavaScript value briefly for error messages.
 *
 * @example
 * ```ts
 * import { describeValue } from "@tsbpf/core";
 * describeValue("x"); // 'string "x"'
 * ```
 */
export function describeValue(value: unknown): string {
  if (value === null) return "null";
  if (value === undefined) return "undefined";
  if (typeof value === "bigint") return `${value}n`;
  if (typeof value === "string") {
    return `string ${JSON.stringify(value.length > 40 ? value.slice(0, 40) + "…" : value)}`;
  }
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  if (value instanceof Uint8Array) return `Uint8Array(${value.length})`;
  if (Array.isArray(value)) return `array of ${value.length}`;
  return typeof value;
}
