/**
 * `PreloadCheckError`: the checker refused a program; its message shows each finding with the
 * disassembly around it.
 *
 * @module
 */
import { decodeInsns, type Insn } from "../insn/insn.ts";
import { disassembleLines } from "../insn/mod.ts";
import type { Finding } from "./types.ts";

/** Instructions shown before and after each finding. */
const CONTEXT = 2;
/** Findings shown in full in the message; the rest are counted. */
const MAX_SHOWN = 20;

function slot(insns: readonly Insn[] | Uint8Array, i: number): Insn {
  if (insns instanceof Uint8Array) return decodeInsns(insns.subarray(i * 8, i * 8 + 8))[0];
  return insns[i];
}

function count(insns: readonly Insn[] | Uint8Array): number {
  return insns instanceof Uint8Array ? insns.length >>> 3 : insns.length;
}

/**
 * The disassembly of instructions `index - 2` … `index + 2`, one per line, `index` marked with
 * `>`. Only those slots are decoded, so it costs the same on a program of a million instructions.
 *
 * @example
 * ```ts
 * import { findingSnippet } from "@tsbpf/core/check";
 * const insns = [
 *   { code: 0xb7, dst: 0, src: 0, off: 0, imm: 0 },
 *   { code: 0x37, dst: 0, src: 0, off: 0, imm: 0 },
 *   { code: 0x95, dst: 0, src: 0, off: 0, imm: 0 },
 * ];
 * findingSnippet(insns, 1);
 * // "    0: r0 = 0\n>   1: r0 /= 0\n    2: exit"
 * ```
 */
export function findingSnippet(insns: readonly Insn[] | Uint8Array, index: number): string {
  const n = count(insns);
  if (index < 0 || index >= n) return "";
  let from = Math.max(0, index - CONTEXT);
  // Do not start on the second slot of an ld_imm64.
  if (from > 0 && slot(insns, from - 1).code === 0x18 && slot(insns, from).code === 0) from--;
  let to = Math.min(n, index + CONTEXT + 1);
  if (to < n && slot(insns, to - 1).code === 0x18) to++;
  const window: Insn[] = [];
  for (let i = from; i < to; i++) window.push(slot(insns, i));
  const width = String(to - 1).length;
  let lines: { index: number; text: string }[];
  try {
    lines = disassembleLines(window).map((l) => ({ index: l.index + from, text: l.text }));
  } catch {
    lines = window.map((x, k) => ({
      index: from + k,
      text: `.raw ${[x.code, x.dst, x.src, x.off, x.imm].join(" ")}`,
    }));
  }
  return lines
    .map((l, k) => {
      const next = k + 1 < lines.length ? lines[k + 1].index : to;
      const mark = index >= l.index && index < next ? ">" : " ";
      return `${mark} ${String(l.index).padStart(width + 2)}: ${l.text}`;
    })
    .join("\n");
}

/**
 * The pre-load checker refused a program. `findings` lists every problem; the message shows each
 * (up to 20) with its instruction index, code and the disassembly around it.
 *
 * @example
 * ```ts
 * import { checkProgram, PreloadCheckError } from "@tsbpf/core/check";
 * const insns = [{ code: 0x37, dst: 0, src: 0, off: 0, imm: 0 }, { code: 0x95, dst: 0, src: 0, off: 0, imm: 0 }];
 * const findings = checkProgram({ type: "xdp", insns, license: "GPL" });
 * const e = new PreloadCheckError(findings, insns, "xdp");
 * e.findings[0].code; // "div-by-zero"
 * ```
 */
export class PreloadCheckError extends Error {
  /** Every finding, errors and warnings, by instruction index. */
  readonly findings: Finding[];

  /**
   * Creates the error. `insns` is the checked program (for the disassembly snippets); `type` names
   * the program type in the message.
   */
  constructor(findings: Finding[], insns?: readonly Insn[] | Uint8Array, type?: number | string) {
    const errors = findings.filter((f) => f.severity === "error").length;
    const head =
      `pre-load check refused the ${type !== undefined ? `${type} ` : ""}program: ${errors} error${
        errors === 1 ? "" : "s"
      }` + (findings.length > errors
        ? `, ${findings.length - errors} warning${findings.length - errors === 1 ? "" : "s"}`
        : "");
    const parts: string[] = [head];
    for (const f of findings.slice(0, MAX_SHOWN)) {
      const where = f.index >= 0 ? `insn ${f.index}` : "program";
      const src = f.source ? ` (${f.source.file}:${f.source.line})` : "";
      parts.push(`\n${f.severity} [${f.code}] at ${where}${src}: ${f.message}`);
      if (f.source?.text) parts.push(`  ; ${f.source.text.trim()}`);
      if (insns !== undefined && f.index >= 0) {
        const snippet = findingSnippet(insns, f.index);
        if (snippet) parts.push(snippet);
      }
    }
    if (findings.length > MAX_SHOWN) {
      parts.push(`\n… and ${findings.length - MAX_SHOWN} more findings`);
    }
    super(parts.join("\n"));
    this.name = "PreloadCheckError";
    this.findings = findings;
  }
}
