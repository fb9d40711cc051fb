/**
 * The error thrown for malformed BTF.
 *
 * @module
 */

/**
 * Malformed or unusable BTF: the message names the problem and where it was found: the byte
 * offset in the blob (also in `offset`, `-1` when the problem is not about one byte position)
 * and, for problems found while walking the type graph, the type id (also in `typeId`).
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
  /** Byte offset in the BTF blob where the problem was detected, or -1. */
  readonly offset: number;
  /** The type id the problem is about, when it is about one. */
  readonly typeId: number | undefined;

  /**
   * Creates an error; `message` gets " (at byte offset N)" appended when `offset >= 0`, and
   * " (type id N)" when `typeId` is given and the message does not already name `[N]`.
   */
  constructor(message: string, offset: number, typeId?: number) {
    const where = offset >= 0 ? ` (at byte offset ${offset})` : "";
    const id = typeId !== undefined && !message.includes(`[${typeId}]`)
      ? ` (type id ${typeId})`
      : "";
    super(`BTF: ${message}${where}${id}`);
    this.name = "BtfError";
    this.offset = offset;
    this.typeId = typeId;
  }
}
