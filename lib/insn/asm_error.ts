/**
 * The error of the assembler.
 *
 * @module
 */

/**
 * Malformed assembly: where (1-based line and column), the offending text and what was expected.
 * The message shows the line with a caret under the column.
 *
 * @example
 * ```ts
 * import { assemble, AsmError } from "@tsbpf/core/insn";
 * try {
 *   assemble("r0 = 1\nr11 = 2\nexit");
 * } catch (e) {
 *   if (e instanceof AsmError) console.log(e.line, e.column, e.found, e.expected); // 2 1 "r11" "a register r0-r10"
 * }
 * ```
 */
export class AsmError extends SyntaxError {
  /** 1-based line number. */
  readonly line: number;
  /** 1-based column of the offending text. */
  readonly column: number;
  /** The offending text (`""` at the end of a line). */
  readonly found: string;
  /** What the assembler expected there. */
  readonly expected: string;
  /** The whole source line. */
  readonly source: string;

  /** Creates the error; `detail` replaces the "expected …, found …" part of the message. */
  constructor(
    line: number,
    column: number,
    found: string,
    expected: string,
    source: string,
    detail?: string,
  ) {
    const what = detail ??
      `expected ${expected}, found ${found === "" ? "end of line" : JSON.stringify(found)}`;
    super(
      `line ${line}, column ${column}: ${what}\n  ${source.replace(/\t/g, " ")}\n  ${
        " ".repeat(Math.max(0, column - 1))
      }^`,
    );
    this.name = "AsmError";
    this.line = line;
    this.column = column;
    this.found = found;
    this.expected = expected;
    this.source = source;
  }
}
