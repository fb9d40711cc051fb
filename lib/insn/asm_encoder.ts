/**
 * The assembler's encoder: the instructions emitted so far, labels, and the fixups that turn label
 * references into jump offsets once every label is known. Internal to `lib/insn/`.
 *
 * @module
 */
import { helperIdByName } from "../../types/helpers.ts";
import { AsmError } from "./asm_error.ts";
import type { Tok } from "./asm_lexer.ts";
import type { Insn } from "./insn.ts";

/** A reference to a label, resolved after the last line. */
interface Fixup {
  index: number;
  field: "off" | "imm" | "call";
  label: string;
  line: number;
  tok: Tok;
  source: string;
}

/** Instructions, labels and fixups of one assembly, and the line being assembled. */
export class AsmEncoder {
  out: Insn[] = [];
  labels: Map<string, { index: number; line: number }> = new Map();
  fixups: Fixup[] = [];
  /** Index of the first `exit` (the conformance suite's `exit` label), -1 before it. */
  firstExit = -1;
  /** 1-based number and text of the current line. */
  lineNo = 0;
  src = "";

  emit(code: number, dst: number, src: number, off: number, imm: number): number {
    this.out.push({ code, dst, src, off, imm });
    return this.out.length - 1;
  }

  defineLabel(tok: Tok): void {
    const prev = this.labels.get(tok.v);
    if (prev !== undefined) {
      throw new AsmError(
        this.lineNo,
        tok.s + 1,
        tok.v,
        "a new label name",
        this.src,
        `duplicate label "${tok.v}" (first defined on line ${prev.line})`,
      );
    }
    this.labels.set(tok.v, { index: this.out.length, line: this.lineNo });
  }

  addFixup(index: number, field: "off" | "imm" | "call", label: string, tok: Tok): void {
    this.fixups.push({ index, field, label, line: this.lineNo, tok, source: this.src });
  }

  /**
   * A relocation printed by `llvm-objdump -dr` after the instruction it applies to. llvm emits
   * calls of BPF functions (and of kfuncs, before libbpf resolves them) as `call` with src 1 and an
   * `R_BPF_64_32` relocation, which llvm-objdump prints like a helper call: the relocation says
   * which it is. Other relocations leave the instruction as printed.
   */
  relocation(type: string): void {
    const last = this.out[this.out.length - 1];
    if (type === "R_BPF_64_32" && last !== undefined && last.code === 0x85 && last.src === 0) {
      last.src = 1;
    }
  }

  resolve(): void {
    for (const f of this.fixups) {
      let target = this.labels.get(f.label)?.index;
      if (target === undefined && f.field === "call") {
        const id = helperIdByName(f.label);
        if (id !== undefined) {
          this.out[f.index].imm = id;
          continue;
        }
        throw new AsmError(
          f.line,
          f.tok.s + 1,
          f.label,
          "a label or a helper name",
          f.source,
          `"${f.label}" is neither a label of this program nor a helper name`,
        );
      }
      if (target === undefined && f.label === "exit" && this.firstExit >= 0) {
        target = this.firstExit; // conformance-suite convention: "exit" is the first exit
      }
      if (target === undefined) {
        throw new AsmError(
          f.line,
          f.tok.s + 1,
          f.label,
          "a defined label",
          f.source,
          `unknown label "${f.label}"`,
        );
      }
      const rel = target - (f.index + 1);
      const insn = this.out[f.index];
      if (f.field === "off") {
        if (rel < -0x8000 || rel > 0x7fff) {
          throw new AsmError(
            f.line,
            f.tok.s + 1,
            f.label,
            "a label within 32767 slots",
            f.source,
            `label "${f.label}" is ${rel} slots away; a 16-bit jump offset reaches -32768..32767 (use gotol)`,
          );
        }
        insn.off = rel;
      } else {
        if (f.field === "call") insn.src = 1;
        insn.imm = rel;
      }
    }
  }
}
