/**
 * The error thrown for malformed BTF.
 *
 * @module
 */

/**
 * Malformed BTF: the message names the problem and the byte offset in the blob where it was found
 * (also in `offset`).
 *
 * @example
 * ```ts
 * import { BtfError } from "@tsbpf/core";
 * import { parseBtf } from "@tsbpf/core/btf";
 * try {
 *   parseBtf(new Uint8Array(4));
 * } catch (e) {
 *   if (e instanceof BtfError) console.log(e.offset); // 0
 * }
 * ```
 */
export class BtfError extends Error {
  /** Byte offset in the BTF blob where the problem was detected. */
  readonly offset: number;

  /** Creates an error; `message` gets " (at byte offset N)" appended. */
  constructor(message: string, offset: number) {
    super(`BTF: ${message} (at byte offset ${offset})`);
    this.name = "BtfError";
    this.offset = offset;
  }
}
