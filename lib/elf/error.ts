/**
 * Errors of the ELF object layer.
 *
 * @module
 */

/**
 * A malformed or unsupported ELF file: the message names the problem and, when it is about bytes,
 * the file offset where it was found (also in `offset`, `-1` when not about a byte position).
 *
 * @example
 * ```ts
 * import { ElfError, parseElf } from "@tsbpf/core/elf";
 * try {
 *   parseElf(new Uint8Array(10));
 * } catch (e) {
 *   if (e instanceof ElfError) console.log(e.offset); // 0
 * }
 * ```
 */
export class ElfError extends Error {
  /** File offset of the problem, or -1. */
  readonly offset: number;

  /** Creates an error; with `offset >= 0`, " (at file offset N)" is appended to the message. */
  constructor(message: string, offset = -1) {
    super(`ELF: ${message}${offset >= 0 ? ` (at file offset ${offset})` : ""}`);
    this.name = "ElfError";
    this.offset = offset;
  }
}

/**
 * A BPF object that parses as ELF but cannot be turned into programs and maps: an unknown program
 * section, no license, an unsupported map definition or relocation, a CO-RE relocation that cannot
 * be applied. The message names the section, symbol or relocation.
 *
 * @example
 * ```ts
 * import { ObjectError } from "@tsbpf/core/elf";
 * const e = new ObjectError('section "foo/bar": no program type claims it');
 * e.message; // 'section "foo/bar": no program type claims it'
 * ```
 */
export class ObjectError extends Error {
  /** Creates the error. */
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "ObjectError";
  }
}
