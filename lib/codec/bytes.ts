/**
 * Byte codecs: raw fixed-size bytes, NUL-padded strings and padding.
 *
 * @module
 */
import { kindOf } from "../args.ts";
import { checkSpan } from "./span.ts";
import { type Codec, CodecError, describeValue } from "./codec.ts";
import { freshBytes } from "./fresh.ts";
import { ArgumentError } from "../errors.ts";

function checkSize(what: string, n: number): void {
  if (!Number.isInteger(n) || n < 0) {
    throw new ArgumentError(what, `${what} size must be a non-negative integer, got ${kindOf(n)}`);
  }
}

/**
 * Exactly `n` raw bytes. Encoding anything but a `Uint8Array` of length `n` is an error; decoding
 * returns a copy.
 *
 * @example
 * ```ts
 * import { bytes } from "@tsbpf/core";
 * const mac = bytes(6);
 * mac.size; // 6
 * ```
 */
export function bytes(n: number): Codec<Uint8Array> {
  checkSize("bytes", n);
  return {
    size: n,
    align: 1,
    name: `u8[${n}]`,
    btf: { kind: "bytes" },
    encode(value: Uint8Array, view: DataView, offset: number): void {
      checkSpan(view, offset, n, `u8[${n}]`);
      if (!(value instanceof Uint8Array)) {
        throw new CodecError(`u8[${n}] needs a Uint8Array, got ${describeValue(value)}`);
      }
      if (value.length !== n) {
        throw new CodecError(`u8[${n}] needs exactly ${n} bytes, got ${value.length}`);
      }
      if (n <= 32) { for (let i = 0; i < n; i++) view.setUint8(offset + i, value[i]); }
      else new Uint8Array(view.buffer, view.byteOffset + offset, n).set(value);
    },
    decode(view: DataView, offset: number): Uint8Array {
      checkSpan(view, offset, n, `u8[${n}]`);
      return freshBytes(new Uint8Array(view.buffer, view.byteOffset, view.byteLength), offset, n);
    },
  };
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * A C `char[n]` holding UTF-8 text: encoded NUL-padded (a string of `n` bytes, without a NUL,
 * fills it exactly), decoded up to the first NUL. A longer string is an error.
 *
 * @example
 * ```ts
 * import { cstring } from "@tsbpf/core";
 * const comm = cstring(16); // like TASK_COMM_LEN
 * comm.size; // 16
 * ```
 */
export function cstring(n: number): Codec<string> {
  checkSize("cstring", n);
  return {
    size: n,
    align: 1,
    name: `char[${n}]`,
    btf: { kind: "bytes" },
    encode(value: string, view: DataView, offset: number): void {
      checkSpan(view, offset, n, `char[${n}]`);
      if (typeof value !== "string") {
        throw new CodecError(`char[${n}] needs a string, got ${describeValue(value)}`);
      }
      const target = new Uint8Array(view.buffer, view.byteOffset + offset, n);
      const { read, written } = encoder.encodeInto(value, target);
      if (read !== value.length) {
        throw new CodecError(
          `string of ${encoder.encode(value).length} UTF-8 bytes does not fit char[${n}]`,
        );
      }
      target.fill(0, written);
    },
    decode(view: DataView, offset: number): string {
      checkSpan(view, offset, n, `char[${n}]`);
      const b = new Uint8Array(view.buffer, view.byteOffset + offset, n);
      const end = b.indexOf(0);
      return decoder.decode(end < 0 ? b : b.subarray(0, end));
    },
  };
}

/**
 * `n` bytes of explicit padding inside a struct: written as zeros, left out of decoded objects.
 *
 * @example
 * ```ts
 * import { pad, struct, u32, u64 } from "@tsbpf/core";
 * const s = struct({ a: u32, _pad: pad(4), b: u64 });
 * s.size; // 16
 * ```
 */
export function pad(n: number): Codec<undefined> {
  checkSize("pad", n);
  return {
    size: n,
    align: 1,
    name: `pad[${n}]`,
    btf: { kind: "bytes" },
    encode(_value: undefined, view: DataView, offset: number): void {
      checkSpan(view, offset, n, `pad[${n}]`);
      new Uint8Array(view.buffer, view.byteOffset + offset, n).fill(0);
    },
    decode(): undefined {
      return undefined;
    },
  };
}

/**
 * Whether `codec` is padding made by {@link pad}.
 *
 * @example
 * ```ts
 * import { isPadding, pad, u8 } from "@tsbpf/core";
 * isPadding(pad(2)); // true
 * isPadding(u8); // false
 * ```
 */
export function isPadding(codec: Codec<unknown>): boolean {
  return typeof codec?.name === "string" && codec.name.startsWith("pad[");
}
