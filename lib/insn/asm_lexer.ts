/**
 * The assembler's lexer: one source line to tokens (identifiers, numbers, operators), comments
 * dropped, and the character classes of register and label names. Internal to `lib/insn/`.
 *
 * @module
 */

/** Token kinds. */
export const IDENT = 0;
/** A decimal or `0x` number. */
export const NUM = 1;
/** An operator or punctuation. */
export const OP = 2;

/** A token: kind, text and column (0-based) in its line. */
export interface Tok {
  t: number;
  v: string;
  s: number;
}

export function trimmedEnd(src: string): number {
  let end = src.length;
  const c = commentStart(src);
  if (c >= 0) end = c;
  while (end > 0 && (src[end - 1] === " " || src[end - 1] === "\t")) end--;
  return end;
}

export function commentStart(src: string): number {
  for (let i = 0; i < src.length; i++) {
    const c = src.charCodeAt(i);
    if (c === 0x3b) return i; // ;
    if (c === 0x2f && src.charCodeAt(i + 1) === 0x2f) return i; // //
    if (
      c === 0x23 && (i === 0 || src.charCodeAt(i - 1) === 0x20 || src.charCodeAt(i - 1) === 0x09)
    ) return i; // #
  }
  return -1;
}

export function isRegName(v: string): boolean {
  return regNumber(v) >= -1;
}

/**
 * Parses `r0`..`r10`, `w0`..`w10`, with or without `%`: the number, -1 for a register-like name
 * that is out of range (`r11`, `r01`), -2 for anything else.
 */
export function regNumber(v: string): number {
  let i = v.charCodeAt(0) === 0x25 ? 1 : 0;
  const c = v.charCodeAt(i);
  if (c !== 0x72 && c !== 0x77) return -2;
  i++;
  const n = v.length - i;
  if (n < 1) return -2;
  let x = 0;
  for (let k = i; k < v.length; k++) {
    const d = v.charCodeAt(k) - 0x30;
    if (d < 0 || d > 9) return -2;
    x = x * 10 + d;
  }
  if (n > 2 || x > 10 || (n === 2 && x < 10)) return -1;
  return x;
}

export function isLabelName(v: string): boolean {
  return /^[A-Za-z_.$][A-Za-z0-9_.$]*$/.test(v) && !isRegName(v);
}

/** An `llvm-objdump -dr` relocation line: `0000000000000050:  R_BPF_64_32  .text`. */
export const RELOC_LINE: RegExp = /^\s*[0-9a-fA-F]+:\s+(R_BPF_\w+)\s+\S+\s*$/;
/** First characters of the two-character operators ending in `=`. */
const OPS2_FIRST = "+-*/|&%^=!<>";
const OPS1 = "=<>&*()[],+-:#";

/** Splits a line into tokens, dropping comments. */
export function tokenize(
  src: string,
  a: { failAt(t: Tok, expected: string, detail?: string): never },
): Tok[] {
  const toks: Tok[] = [];
  const n = src.length;
  let i = 0;
  while (i < n) {
    const c = src.charCodeAt(i);
    if (c === 0x20 || c === 0x09) {
      i++;
      continue;
    }
    if (c === 0x3b) break; // ;
    if (c === 0x2f && src.charCodeAt(i + 1) === 0x2f) break; // //
    if (
      c === 0x23 && (i === 0 || src.charCodeAt(i - 1) === 0x20 || src.charCodeAt(i - 1) === 0x09)
    ) break; // #
    if (isIdentStart(c) && (c !== 0x25 || isLetter(src.charCodeAt(i + 1)))) {
      let j = i + 1;
      while (j < n && isIdentChar(src.charCodeAt(j))) j++;
      const v = src.slice(i, j);
      // s>>=, s/=, s%=, s<, s<=, s>, s>=
      if (v === "s" && j < n) {
        const d = src[j];
        if (d === "<" || d === ">" || d === "/" || d === "%") {
          let op = "";
          if (src.startsWith(">>=", j)) op = ">>=";
          else if (
            src.startsWith("/=", j) || src.startsWith("%=", j) || src.startsWith("<=", j) ||
            src.startsWith(">=", j)
          ) {
            op = src.slice(j, j + 2);
          } else if (d === "<" || d === ">") op = d;
          if (op !== "") {
            toks.push({ t: OP, v: "s" + op, s: i });
            i = j + op.length;
            continue;
          }
        }
      }
      toks.push({ t: IDENT, v, s: i });
      i = j;
      continue;
    }
    if (c >= 0x30 && c <= 0x39) {
      let j = i + 1;
      if (c === 0x30 && (src.charCodeAt(j) | 0x20) === 0x78) {
        j++;
        const h = j;
        while (j < n && isHex(src.charCodeAt(j))) j++;
        if (j === h) a.failAt({ t: NUM, v: src.slice(i, j + 1), s: i }, "hex digits after 0x");
      } else {
        while (j < n && src.charCodeAt(j) >= 0x30 && src.charCodeAt(j) <= 0x39) j++;
      }
      if (j < n && isIdentChar(src.charCodeAt(j))) {
        let k = j;
        while (k < n && isIdentChar(src.charCodeAt(k))) k++;
        a.failAt(
          { t: NUM, v: src.slice(i, k), s: i },
          "a decimal or 0x hexadecimal number",
          `malformed number "${src.slice(i, k)}"`,
        );
      }
      toks.push({ t: NUM, v: src.slice(i, j), s: i });
      i = j;
      continue;
    }
    let op = "";
    const c2 = src.charCodeAt(i + 1);
    if ((c === 0x3c || c === 0x3e) && c2 === c && src.charCodeAt(i + 2) === 0x3d) {
      op = src.slice(i, i + 3); // <<= >>=
    } else if (c2 === 0x3d && OPS2_FIRST.includes(src[i])) op = src.slice(i, i + 2); // += -= ... == != >= <=
    else if ((c === 0x3c || c === 0x3e) && c2 === c) op = src.slice(i, i + 2); // << >>
    else if (OPS1.includes(src[i])) op = src[i];
    if (op === "") {
      a.failAt(
        { t: OP, v: src[i], s: i },
        "an instruction, operand or comment",
        `unexpected character ${JSON.stringify(src[i])}`,
      );
    }
    toks.push({ t: OP, v: op, s: i });
    i += op.length;
  }
  return toks;
}

function isIdentStart(c: number): boolean {
  return (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || c === 0x5f || c === 0x2e ||
    c === 0x24 || c === 0x25;
}

function isLetter(c: number): boolean {
  return (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a);
}

function isIdentChar(c: number): boolean {
  return (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || (c >= 0x30 && c <= 0x39) ||
    c === 0x5f || c === 0x2e ||
    c === 0x24;
}

function isHex(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || ((c | 0x20) >= 0x61 && (c | 0x20) <= 0x66);
}
