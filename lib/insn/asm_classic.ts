/**
 * The classic mnemonic syntax of the BPF conformance suite: `mov %r0, 1`, `add32 %r1, %r2`,
 * `jeq %r1, 0, +2`, `ldxw %r0, [%r1+4]`, `lock fetch add [%r1+0], %r2`. Internal to `lib/insn/`.
 *
 * @module
 */
import { IDENT, isRegName } from "./asm_lexer.ts";
import type { AsmParser } from "./asm_parser.ts";
import { ATOMIC_OPS, emitLdImm64, jump, ldPseudo } from "./asm_common.ts";
import * as opc from "./opcodes.ts";

const ALU_OPS: Record<string, number> = { ...opc.ALU_BY_NAME };
const JMP_OPS: Record<string, number> = { ...opc.JMP_BY_NAME };
/** Size field by suffix. */
const SIZES: Record<string, number> = { w: opc.W, h: opc.H, b: opc.B, dw: opc.DW };

export function classicInstruction(a: AsmParser): void {
  const t = a.next();
  const name = t.v;
  // ALU: add, add32, add64, sdiv, smod, neg, mov, movsx832 ...
  let m = /^(add|sub|mul|div|sdiv|or|and|lsh|rsh|mod|smod|xor|mov|arsh|neg)(32|64)?$/.exec(name);
  if (m !== null) {
    const cls = m[2] === "32" ? 0x04 : 0x07;
    const d = a.reg();
    if (m[1] === "neg") {
      a.expectEnd();
      a.emit(cls | 0x80, d.n, 0, 0, 0);
      return;
    }
    a.op(",");
    let base = m[1];
    let off = 0;
    if (base === "sdiv" || base === "smod") {
      base = base.slice(1);
      off = 1;
    }
    const op = ALU_OPS[base];
    const n = a.peek();
    if (n !== undefined && n.t === IDENT && isRegName(n.v)) {
      const s = a.reg();
      a.expectEnd();
      a.emit(cls | 0x08 | op, d.n, s.n, off, 0);
    } else {
      const imm = a.imm32();
      a.expectEnd();
      a.emit(cls | op, d.n, 0, off, imm);
    }
    return;
  }
  m = /^movsx(8|16|32)(32|64)$/.exec(name);
  if (m !== null) {
    if (m[1] === "32" && m[2] === "32") {
      a.failAt(t, "movsx832, movsx1632, movsx864, movsx1664 or movsx3264");
    }
    const d = a.reg();
    a.op(",");
    const s = a.reg();
    a.expectEnd();
    a.emit((m[2] === "32" ? 0x04 : 0x07) | 0x08 | 0xb0, d.n, s.n, Number(m[1]), 0);
    return;
  }
  m = /^(le|be|bswap|swap)(16|32|64)$/.exec(name);
  if (m !== null) {
    const d = a.reg();
    a.expectEnd();
    const code = m[1] === "le" ? 0xd4 : m[1] === "be" ? 0xdc : 0xd7;
    a.emit(code, d.n, 0, 0, Number(m[2]));
    return;
  }
  m = /^(ldx|ldxs|st|stx|ldacq|strel)(b|h|w|dw)$/.exec(name);
  if (m !== null) {
    const size = SIZES[m[2]];
    switch (m[1]) {
      case "ldx":
      case "ldxs":
      case "ldacq": {
        if (m[1] === "ldxs" && size === 0x18) a.failAt(t, "ldxsb, ldxsh or ldxsw");
        const d = a.reg();
        a.op(",");
        const mm = memClassic(a);
        a.expectEnd();
        if (m[1] === "ldacq") a.emit(0xc3 | size, d.n, mm.reg, mm.off, 0x100);
        else a.emit((m[1] === "ldxs" ? 0x81 : 0x61) | size, d.n, mm.reg, mm.off, 0);
        return;
      }
      case "st": {
        const mm = memClassic(a);
        a.op(",");
        const imm = a.imm32();
        a.expectEnd();
        a.emit(0x62 | size, mm.reg, 0, mm.off, imm);
        return;
      }
      default: {
        const mm = memClassic(a);
        a.op(",");
        const s = a.reg();
        a.expectEnd();
        a.emit(
          m[1] === "strel" ? 0xc3 | size : 0x63 | size,
          mm.reg,
          s.n,
          mm.off,
          m[1] === "strel" ? 0x110 : 0,
        );
        return;
      }
    }
  }
  m = /^(ldabs|ldind)(b|h|w)$/.exec(name);
  if (m !== null) {
    const size = SIZES[m[2]];
    if (m[1] === "ldind") {
      const s = a.reg();
      a.op(",");
      const imm = a.imm32();
      a.expectEnd();
      a.emit(0x40 | size, 0, s.n, 0, imm);
    } else {
      const imm = a.imm32();
      a.expectEnd();
      a.emit(0x20 | size, 0, 0, 0, imm);
    }
    return;
  }
  if (name === "lddw") {
    const d = a.reg("r");
    a.op(",");
    const n = a.peek();
    if (
      n !== undefined && n.t === IDENT &&
      (n.v === "map" || n.v === "map_value" || n.v === "btf_var" || n.v === "func")
    ) {
      ldPseudo(a, d, false);
      return;
    }
    const vTok = a.peek()!;
    const v = a.signedInt();
    a.expectEnd();
    emitLdImm64(a, d.n, v, vTok);
    return;
  }
  if (name === "ja") return jump(a, 0x05, 0, 0, 0, "off");
  if (name === "ja32") return jump(a, 0x06, 0, 0, 0, "imm");
  m = /^(jeq|jgt|jge|jset|jne|jsgt|jsge|jlt|jle|jslt|jsle)(32)?$/.exec(name);
  if (m !== null) {
    const cls = m[2] === "32" ? 0x06 : 0x05;
    const op = JMP_OPS[m[1]];
    const d = a.reg();
    a.op(",");
    const n = a.peek();
    if (n !== undefined && n.t === IDENT && isRegName(n.v)) {
      const s = a.reg();
      a.op(",");
      jump(a, cls | 0x08 | op, d.n, s.n, 0, "off");
    } else {
      const imm = a.imm32();
      a.op(",");
      jump(a, cls | op, d.n, 0, imm, "off");
    }
    return;
  }
  if (name === "addr_space_cast") {
    const d = a.reg();
    a.op(",");
    const s = a.reg();
    a.op(",");
    const from = a.intIn(0, 0xffff, "an address space 0-65535");
    a.op(",");
    const to = a.intIn(0, 0xffff, "an address space 0-65535");
    a.expectEnd();
    a.emit(0xbf, d.n, s.n, 1, ((from << 16) | to) | 0);
    return;
  }
  a.failAt(t, "an instruction", `unknown instruction "${name}"`);
}

export function classicLock(a: AsmParser): void {
  // lock [fetch] add[32] [%r1+0], %r2 ; lock xchg[32] ...; lock cmpxchg[32] ...
  let fetch = 0;
  let t = a.next();
  if (t.v === "fetch") {
    fetch = 1;
    t = a.next();
  }
  const m = /^(add|or|and|xor|xchg|cmpxchg)(32|64)?$/.exec(t.v);
  if (t.t !== IDENT || m === null || (fetch && (m[1] === "xchg" || m[1] === "cmpxchg"))) {
    return a.failAt(
      t,
      fetch ? "add, or, and or xor" : "fetch, add, or, and, xor, xchg or cmpxchg",
    );
  }
  const size = m[2] === "32" ? 0x00 : 0x18;
  const mm = memClassic(a);
  a.op(",");
  const s = a.reg();
  a.expectEnd();
  const imm = m[1] === "xchg" ? 0xe1 : m[1] === "cmpxchg" ? 0xf1 : ATOMIC_OPS[m[1]] | fetch;
  a.emit(0xc3 | size, mm.reg, s.n, mm.off, imm);
}

/** `[%r1+4]`, `[%r1-4]`, `[%r1]`, `[r1 + 4]`. */
function memClassic(a: AsmParser): { reg: number; off: number } {
  a.op("[");
  const r = a.reg("r");
  const off = a.addrOffset();
  a.op("]");
  return { reg: r.n, off };
}
