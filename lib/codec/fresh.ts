/**
 * Fresh byte arrays for decoded values, allocated the cheap way for the runtime: Deno gives every
 * `ArrayBuffer` its own backing store (≈0.4 µs each), so there small arrays are carved out of a
 * shared 16 KiB slab (like Node's `Buffer` pool); elsewhere each array gets its own small buffer.
 *
 * @module
 */
import { kindOf } from "../args.ts";
import { ArgumentError } from "../errors.ts";

const SLAB = 16 * 1024;
/** Arrays up to this size come from the slab. */
const SMALL = 256;

const useSlab = typeof (globalThis as { Deno?: unknown }).Deno !== "undefined";
let slab = new ArrayBuffer(0);
let used = 0;

/**
 * A copy of `length` bytes of `source` from `offset`, in a new array nobody else writes. Under
 * Deno a small result may share its `ArrayBuffer` with other results (`byteOffset` is then not
 * 0): view it through the array, not through `.buffer` alone.
 *
 * @example
 * ```ts
 * import { freshBytes } from "@tsbpf/core";
 * const copy = freshBytes(new Uint8Array([1, 2, 3, 4]), 1, 2); // Uint8Array [2, 3]
 * ```
 */
export function freshBytes(source: Uint8Array, offset: number, length: number): Uint8Array {
  if (
    typeof offset !== "number" || typeof length !== "number" || !(source instanceof Uint8Array) ||
    !(length >= 0 && length <= source.length) || !(offset >= 0 && offset <= source.length - length)
  ) badFresh(source, offset, length);
  let out: Uint8Array;
  if (useSlab && length <= SMALL) {
    if (used + length > slab.byteLength) {
      slab = new ArrayBuffer(SLAB);
      used = 0;
    }
    out = new Uint8Array(slab, used, length);
    used += (length + 7) & ~7;
  } else {
    out = new Uint8Array(length);
  }
  if (length <= 64) { for (let i = 0; i < length; i++) out[i] = source[offset + i]; }
  else out.set(source.subarray(offset, offset + length));
  return out;
}

function badFresh(source: unknown, offset: unknown, length: unknown): never {
  throw new ArgumentError(
    "source",
    `freshBytes: ${kindOf(offset)} + ${kindOf(length)} is not a range of ${kindOf(source)}`,
  );
}
