/**
 * The assembler: text in the llvm / kernel-verifier syntax or in the classic mnemonic syntax of
 * the BPF conformance suite, to instructions.
 *
 * Each line holds at most one instruction, optionally preceded by labels (`loop:`), by an
 * llvm-objdump or verifier-log index (`12:`) and by a verifier-log opcode (`(b7)`). Comments start
 * with `;`, `//`, or `#` at the start of a line or after a blank (`#` right after a name is part
 * of a verifier-style call, `call bpf_map_lookup_elem#1`). Numbers are decimal or `0x` hex, with
 * an optional sign. Registers are `r0`–`r10` (`w0`–`w10` for 32-bit operations), with or
 * without `%`. Jump targets are relative offsets (`+3`, `-3`, `pc+3`) or labels.
 *
 * The output of `llvm-objdump -d --no-show-raw-insn` (or `-dr`) assembles as it is, instruction
 * lines with their `12:` indices, `<sym+0x18>` branch annotations and relocation lines; so do
 * lines of the kernel verifier log (`12: (b7) r0 = 1`).
 *
 * The work is split by stage: `asm_lexer.ts` (tokens), `asm_parser.ts` (operands),
 * `asm_encoder.ts` (instructions, labels, fixups), `asm_common.ts` (forms both syntaxes share),
 * `asm_llvm.ts` and `asm_classic.ts` (the two syntaxes). This file holds the public entry points
 * and the line driver.
 *
 * @module
 */
import { kindOf } from "../args.ts";
import { AsmError } from "./asm_error.ts";
import { IDENT, isLabelName, NUM, OP, RELOC_LINE, type Tok, tokenize } from "./asm_lexer.ts";
import { AsmParser } from "./asm_parser.ts";
import { call, jump, raw } from "./asm_common.ts";
import { isLlvmStart, llvmInstruction, llvmLock, llvmStore } from "./asm_llvm.ts";
import { classicInstruction, classicLock } from "./asm_classic.ts";
import type { Insn } from "./insn.ts";
import { ArgumentError } from "../errors.ts";

/**
 * Options of {@link assemble}.
 *
 * @example
 * ```ts
 * import { assemble, type AssembleOptions } from "@tsbpf/core/insn";
 * const options: AssembleOptions = { syntax: "classic", maps: { events: 5 } };
 * assemble("lddw %r1, map[events]\nexit", options);
 * ```
 */
export interface AssembleOptions {
  /**
   * `"auto"` (default) recognises the syntax of each line; `"llvm"` or `"classic"` accept only
   * that one (`exit`, `call`, `lock`, `may_goto` and `.raw` lines are shared).
   */
  syntax?: "llvm" | "classic" | "auto";
  /**
   * Resolves map names in `map[NAME]` and `map_value[NAME]+OFF` to file descriptors: a record of
   * fds or objects with an `fd` (such as a `BpfMap`), or a function. (`map[fd:5]` and
   * `map[id:5]` need nothing: both put 5 in `imm`.)
   */
  maps?:
    | Readonly<Record<string, number | { readonly fd: number }>>
    | ((name: string) => number | undefined);
}

/**
 * Assembles text into instructions (an `ld_imm64` becomes two slots).
 *
 * @throws {AsmError} on malformed text, with the line, column, offending text and what was
 * expected; also for unknown or duplicate labels and out-of-range jumps.
 * @example
 * ```ts
 * import { assemble } from "@tsbpf/core/insn";
 * const insns = assemble(`
 *   r0 = 0
 *   if r1 == 0 goto out   # llvm syntax
 *   mov %r0, 1            ; classic syntax
 * out:
 *   exit
 * `);
 * insns.length; // 4
 * ```
 */
export function assemble(text: string, options?: AssembleOptions): Insn[] {
  if (typeof text !== "string") {
    throw new ArgumentError("text", `assemble() takes a string, got ${typeof text}`);
  }
  const syntax = options?.syntax ?? "auto";
  if (syntax !== "auto" && syntax !== "llvm" && syntax !== "classic") {
    throw new ArgumentError(
      "syntax",
      `syntax must be "llvm", "classic" or "auto", got ${JSON.stringify(syntax)}`,
    );
  }
  return new Assembler(syntax, options?.maps).run(text);
}

/**
 * A tagged template for {@link assemble}: numbers, bigints and registers are interpolated as
 * text, and an object with a numeric `fd` (a map) as its fd.
 *
 * @example
 * ```ts
 * import { asm } from "@tsbpf/core/insn";
 * const value = 42;
 * const insns = asm`
 *   r0 = ${value}
 *   exit
 * `;
 * ```
 */
export function asm(strings: TemplateStringsArray, ...values: unknown[]): Insn[] {
  if (!Array.isArray(strings) || strings.some((s) => typeof s !== "string")) {
    throw new ArgumentError(
      "strings",
      `asm is a tag for template literals (asm\`…\`), got ${kindOf(strings)}`,
    );
  }
  let text = strings[0];
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    let s: string;
    if (typeof v === "number" || typeof v === "bigint") s = String(v);
    else if (typeof v === "string") s = v;
    else if (
      v !== null && typeof v === "object" && typeof (v as { fd?: unknown }).fd === "number"
    ) {
      s = String((v as { fd: number }).fd);
    } else if (
      v !== null && typeof v === "object" && typeof (v as { index?: unknown }).index === "number"
    ) {
      s = String(v); // a Reg prints as "rN"
    } else {
      throw new ArgumentError(
        "values",
        `asm\`\`: value #${
          i + 1
        } must be a number, bigint, string, register or object with an fd, got ${typeof v}`,
      );
    }
    text += s + strings[i + 1];
  }
  return assemble(text);
}

/** One assembly: splits lines, reads prefixes and labels, and dispatches on the syntax. */
class Assembler extends AsmParser {
  readonly syntax: "llvm" | "classic" | "auto";

  constructor(syntax: "llvm" | "classic" | "auto", maps: AssembleOptions["maps"]) {
    super(maps);
    this.syntax = syntax;
  }

  run(text: string): Insn[] {
    let start = 0;
    const n = text.length;
    while (start <= n) {
      let end = text.indexOf("\n", start);
      if (end < 0) end = n;
      this.lineNo++;
      let line = text.slice(start, end);
      if (line.endsWith("\r")) line = line.slice(0, -1);
      this.line(line);
      start = end + 1;
    }
    this.resolve();
    return this.out;
  }

  line(src: string): void {
    this.src = src;
    // an `llvm-objdump -dr` relocation line: `0000000000000050:  R_BPF_64_32  .text`
    const reloc = src.includes("R_BPF_") ? RELOC_LINE.exec(src) : null;
    if (reloc !== null) {
      this.relocation(reloc[1]);
      return;
    }
    this.toks = tokenize(src, this);
    this.p = 0;
    this.opcodePrefix = -1;
    const toks = this.toks;
    if (toks.length === 0) return;
    // `12:` index prefix (llvm-objdump, verifier log) and `label:` definitions
    for (;;) {
      const a = toks[this.p];
      const b = toks[this.p + 1];
      if (a === undefined || b === undefined || b.t !== OP || b.v !== ":") break;
      if (a.t === NUM) {
        this.p += 2;
        continue;
      }
      if (a.t === IDENT && isLabelName(a.v)) {
        this.defineLabel(a);
        this.p += 2;
        continue;
      }
      break;
    }
    // `(b7)` verifier opcode prefix
    const a = toks[this.p];
    if (
      a !== undefined && a.t === OP && a.v === "(" && toks[this.p + 2]?.v === ")" &&
      /^[0-9a-fA-F]{2}$/.test(toks[this.p + 1].v) && this.p + 3 < toks.length
    ) {
      this.opcodeTok = toks[this.p + 1];
      this.opcodePrefix = parseInt(toks[this.p + 1].v, 16);
      this.p += 3;
    }
    if (this.p >= toks.length) {
      if (this.opcodePrefix >= 0) this.fail("an instruction");
      return;
    }
    const first = this.out.length;
    this.instruction();
    if (
      this.opcodePrefix >= 0 && this.out.length > first &&
      this.out[first].code !== this.opcodePrefix
    ) {
      const t = this.opcodeTok!;
      throw new AsmError(
        this.lineNo,
        t.s + 1,
        t.v,
        `opcode 0x${this.out[first].code.toString(16).padStart(2, "0")}`,
        this.src,
        `opcode prefix (${t.v}) does not match the instruction, which encodes as (${
          this.out[first].code.toString(16).padStart(2, "0")
        })`,
      );
    }
  }

  instruction(): void {
    const t = this.toks[this.p];
    if (t.t === IDENT) {
      switch (t.v) {
        case "exit":
          this.p++;
          this.expectEnd();
          if (this.firstExit < 0) this.firstExit = this.out.length;
          this.emit(0x95, 0, 0, 0, 0);
          return;
        case "call":
          this.p++;
          call(this);
          return;
        case "may_goto":
          this.p++;
          jump(this, 0xe5, 0, 0, 0, "off");
          return;
        case ".raw":
          this.p++;
          raw(this);
          return;
        case "lock": {
          const n = this.toks[this.p + 1];
          if (n !== undefined && n.t === OP && n.v === "*") {
            this.needSyntax("llvm", t);
            this.p++;
            llvmLock(this);
          } else {
            this.needSyntax("classic", t);
            this.p++;
            classicLock(this);
          }
          return;
        }
      }
      if (isLlvmStart(t, this.toks[this.p + 1])) {
        this.needSyntax("llvm", t);
        llvmInstruction(this);
      } else {
        this.needSyntax("classic", t);
        classicInstruction(this);
      }
      return;
    }
    if (t.t === OP && t.v === "*") {
      this.needSyntax("llvm", t);
      llvmStore(this);
      return;
    }
    this.fail("an instruction");
  }

  needSyntax(kind: "llvm" | "classic", t: Tok): void {
    if (this.syntax !== "auto" && this.syntax !== kind) {
      throw new AsmError(
        this.lineNo,
        t.s + 1,
        t.v,
        `an instruction in ${this.syntax} syntax`,
        this.src,
        `this is ${kind} syntax, but the assembler was asked for ${this.syntax} syntax only`,
      );
    }
  }
}
