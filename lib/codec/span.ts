/**
 * The bounds check every codec makes before it reads or writes.
 *
 * @module
 */
import { CodecError } from "./codec.ts";

/**
 * Throws `CodecError` unless `offset` is an integer and `size` bytes from it lie inside `view`
 * (a `NaN`, negative or fractional offset, or a view too short for the value, is refused before
 * any byte is touched; a `DataView` alone would read `NaN` as 0 or throw a raw `RangeError`).
 *
 * @example
 * ```ts
 * import { checkSpan } from "./span.ts";
 * import { CodecError } from "./codec.ts";
 * try {
 *   checkSpan(new DataView(new ArrayBuffer(2)), 0, 4, "u32");
 * } catch (e) {
 *   e instanceof CodecError; // true: 4 bytes do not fit in 2
 * }
 * ```
 */
export function checkSpan(view: DataView, offset: number, size: number, name: string): void {
  // `>>> 0` is the identity exactly for integers 0..2^32-1 (NaN, -1, 1.5 and 2^32 all differ).
  if ((offset >>> 0) !== offset || offset + size > view.byteLength) {
    throw new CodecError(
      `${name} needs ${size} bytes at offset ${offset}, but the view is ${view.byteLength} bytes` +
        (Number.isInteger(offset) && offset >= 0 ? "" : " (the offset is not a valid index)"),
    );
  }
}
