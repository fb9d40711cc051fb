/**
 * The assembler's parser state: the tokens of the current line and a cursor over them, with the
 * operand readers both syntaxes share (registers, numbers, immediates, memory offsets) and the
 * errors that point at a token. Internal to `lib/insn/`.
 *
 * @module
 */
import { AsmError } from "./asm_error.ts";
import { AsmEncoder } from "./asm_encoder.ts";
import { IDENT, NUM, OP, regNumber, type Tok, trimmedEnd } from "./asm_lexer.ts";

/** A register operand: its number, and whether it was written as `wN` (32-bit). */
export interface Reg {
  n: number;
  w: boolean;
}

/** Map names for `map[NAME]`: a record of fds (or objects with an fd), or a function. */
export type AsmMaps =
  | Readonly<Record<string, number | { readonly fd: number }>>
  | ((name: string) => number | undefined);

/** The cursor over the current line's tokens, on top of the encoder. */
export class AsmParser extends AsmEncoder {
  readonly maps: AsmMaps | undefined;
  toks: Tok[] = [];
  p = 0;
  /** The verifier-log opcode prefix of the line (`(b7)`), -1 without one. */
  opcodePrefix = -1;
  opcodeTok: Tok | undefined;

  constructor(maps: AsmMaps | undefined) {
    super();
    this.maps = maps;
  }

  peek(): Tok | undefined {
    return this.toks[this.p];
  }

  next(): Tok {
    const t = this.toks[this.p];
    if (t === undefined) return this.fail("more operands");
    this.p++;
    return t;
  }

  op(v: string): void {
    const t = this.toks[this.p];
    if (t === undefined || t.t !== OP || t.v !== v) this.fail(`"${v}"`);
    this.p++;
  }

  tryOp(v: string): boolean {
    const t = this.toks[this.p];
    if (t !== undefined && t.t === OP && t.v === v) {
      this.p++;
      return true;
    }
    return false;
  }

  ident(v: string): void {
    const t = this.toks[this.p];
    if (t === undefined || t.t !== IDENT || t.v !== v) this.fail(`"${v}"`);
    this.p++;
  }

  tryIdent(v: string): boolean {
    const t = this.toks[this.p];
    if (t !== undefined && t.t === IDENT && t.v === v) {
      this.p++;
      return true;
    }
    return false;
  }

  reg(width: "r" | "w" | "any" = "any"): Reg {
    const t = this.toks[this.p];
    const expected = width === "w"
      ? "a register w0-w10"
      : width === "r"
      ? "a register r0-r10"
      : "a register r0-r10";
    if (t === undefined || t.t !== IDENT) return this.fail(expected);
    const n = regNumber(t.v);
    if (n < 0) return this.fail(expected);
    const w = t.v.charCodeAt(t.v.charCodeAt(0) === 0x25 ? 1 : 0) === 0x77;
    if ((width === "r" && w) || (width === "w" && !w)) return this.fail(expected);
    this.p++;
    return { n, w };
  }

  /** An optionally signed integer: a number when it is safe, else a bigint. */
  signedInt(): number | bigint {
    let neg = false;
    let t = this.toks[this.p];
    if (t !== undefined && t.t === OP && (t.v === "-" || t.v === "+")) {
      neg = t.v === "-";
      this.p++;
      t = this.toks[this.p];
    }
    if (t === undefined || t.t !== NUM) return this.fail("a number");
    this.p++;
    const v = t.v;
    if (v.length <= 13) {
      const n = v.length > 2 && (v.charCodeAt(1) | 0x20) === 0x78
        ? parseInt(v.slice(2), 16)
        : parseInt(v, 10);
      return neg ? -n : n;
    }
    const b = BigInt(v);
    return neg ? -b : b;
  }

  /** A 32-bit immediate: -2^31 .. 2^32-1 (values from 2^31 are stored as their two's complement). */
  imm32(): number {
    const t = this.toks[this.p];
    const v = this.signedInt();
    return this.toImm32(v, t!);
  }

  toImm32(v: number | bigint, t: Tok, signedOnly = false): number {
    const n = typeof v === "bigint" ? NaN : v;
    const max = signedOnly ? 0x7fffffff : 0xffffffff;
    if (!(n >= -0x80000000 && n <= max)) {
      this.failAt(
        t,
        signedOnly ? "a 32-bit signed value" : "a 32-bit value",
        `${v} does not fit in a 32-bit immediate${
          signedOnly ? "" : " (use ld_imm64: `rN = VALUE ll` or lddw)"
        }`,
      );
    }
    return n | 0;
  }

  intIn(lo: number, hi: number, expected: string): number {
    const t = this.toks[this.p];
    const v = this.signedInt();
    if (typeof v !== "number" || v < lo || v > hi) return this.failAt(t, expected);
    return v;
  }

  /** The `+ 4` / `- 4` after a base register (nothing means 0). */
  addrOffset(): number {
    const t = this.peek();
    if (t === undefined || t.t !== OP || (t.v !== "+" && t.v !== "-")) return 0;
    this.p++;
    const neg = t.v === "-";
    const vTok = this.peek();
    const v = this.signedInt();
    const off = typeof v === "number" ? (neg ? -v : v) : NaN;
    if (!(off >= -0x8000 && off <= 0x7fff)) {
      this.failAt(
        vTok,
        "an offset -32768..32767",
        `offset ${
          typeof v === "bigint" ? String(neg ? -v : v) : String(off)
        } does not fit in 16 bits`,
      );
    }
    return off;
  }

  expectEnd(): void {
    const t = this.toks[this.p];
    if (t === undefined) return;
    // llvm-objdump's branch annotation: <sym+0x18>
    if (t.t === OP && t.v === "<" && this.toks[this.toks.length - 1].v === ">") return;
    this.fail("end of line");
  }

  fail(expected: string): never {
    return this.failAt(this.toks[this.p], expected);
  }

  failAt(t: Tok | undefined, expected: string, detail?: string): never {
    const column = t === undefined ? trimmedEnd(this.src) + 1 : t.s + 1;
    throw new AsmError(this.lineNo, column, t?.v ?? "", expected, this.src, detail);
  }
}
