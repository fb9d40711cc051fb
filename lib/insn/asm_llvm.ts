/**
 * The llvm syntax (also the kernel verifier log's): `r0 = 1`, `w1 += w2`, `if r1 > 5 goto +2`,
 * `*(u32 *)(r10 - 4) = r1`, `r0 = atomic_fetch_add((u64 *)(r1 + 0), r0)`, `lock *(u32 *)(r1 + 0)
 * += w2`. Internal to `lib/insn/`.
 *
 * @module
 */
import { IDENT, isRegName, NUM, OP, type Tok } from "./asm_lexer.ts";
import type { AsmParser, Reg } from "./asm_parser.ts";
import { ATOMIC_OPS, emitAtomic, emitLdImm64, jump, ldPseudo } from "./asm_common.ts";
import * as opc from "./opcodes.ts";

const ALU_ASSIGN: Record<string, [number, number]> = {
  "+=": [opc.ADD, 0],
  "-=": [opc.SUB, 0],
  "*=": [opc.MUL, 0],
  "/=": [opc.DIV, 0],
  "s/=": [opc.DIV, 1],
  "|=": [opc.OR, 0],
  "&=": [opc.AND, 0],
  "<<=": [opc.LSH, 0],
  ">>=": [opc.RSH, 0],
  "%=": [opc.MOD, 0],
  "s%=": [opc.MOD, 1],
  "^=": [opc.XOR, 0],
  "s>>=": [opc.ARSH, 0],
};
const JMP_SYMS: Record<string, number> = {
  "==": opc.JEQ,
  ">": opc.JGT,
  ">=": opc.JGE,
  "&": opc.JSET,
  "!=": opc.JNE,
  "s>": opc.JSGT,
  "s>=": opc.JSGE,
  "<": opc.JLT,
  "<=": opc.JLE,
  "s<": opc.JSLT,
  "s<=": opc.JSLE,
};
const LOCK_SYMS: Record<string, number> = {
  "+=": opc.ADD,
  "|=": opc.OR,
  "&=": opc.AND,
  "^=": opc.XOR,
};
const TYPE_SIZES: Record<string, number> = { u32: opc.W, u16: opc.H, u8: opc.B, u64: opc.DW };
const SX_SIZES: Record<string, number> = { s32: opc.W, s16: opc.H, s8: opc.B };

/** Whether a line starting with `t`, `next` is in llvm syntax. */
export function isLlvmStart(t: Tok, next: Tok | undefined): boolean {
  switch (t.v) {
    case "goto":
    case "gotol":
    case "callx":
    case "if":
    case "store_release":
    case "ld_pseudo":
      return true;
  }
  return isRegName(t.v) && !t.v.startsWith("%") && next !== undefined && next.t === OP;
}

export function llvmInstruction(a: AsmParser): void {
  const t = a.toks[a.p];
  switch (t.v) {
    case "goto":
      a.p++;
      jump(a, 0x05, 0, 0, 0, "off");
      return;
    case "gotol":
      a.p++;
      jump(a, 0x06, 0, 0, 0, "imm");
      return;
    case "callx": {
      a.p++;
      const r = a.reg();
      a.expectEnd();
      a.emit(0x8d, r.n, 0, 0, 0);
      return;
    }
    case "if":
      a.p++;
      llvmIf(a);
      return;
    case "store_release": {
      a.p++;
      a.op("(");
      const size = typeCast(a, TYPE_SIZES, "a type u8, u16, u32 or u64");
      const m = memLlvm(a);
      a.op(",");
      const r = a.reg();
      a.op(")");
      a.expectEnd();
      a.emit(0xc3 | size, m.reg, r.n, m.off, 0x110);
      return;
    }
    case "ld_pseudo": {
      a.p++;
      const d = a.reg();
      a.op(",");
      const srcTok = a.peek();
      const src = a.intIn(0, 15, "a pseudo source 0-15");
      if (src < 1 || src > 6) a.failAt(srcTok, "a pseudo source 1-6");
      a.op(",");
      const imm = a.imm32();
      let hi = 0;
      if (a.tryOp(",")) hi = a.imm32();
      a.expectEnd();
      a.emit(0x18, d.n, src, 0, imm);
      a.emit(0, 0, 0, 0, hi);
      return;
    }
  }
  // register assignment
  const dstTok = t;
  const d = a.reg();
  const opTok = a.peek();
  if (opTok === undefined || opTok.t !== OP) {
    return a.fail("an assignment operator (=, +=, ...)");
  }
  if (opTok.v === "=") {
    a.p++;
    llvmAssign(a, d, dstTok);
    return;
  }
  const alu = ALU_ASSIGN[opTok.v];
  if (alu === undefined) return a.fail("an assignment operator (=, +=, -=, ..., s>>=)");
  a.p++;
  const cls = d.w ? 0x04 : 0x07;
  const next = a.peek();
  if (next !== undefined && next.t === IDENT && isRegName(next.v)) {
    const s = a.reg(d.w ? "w" : "r");
    a.expectEnd();
    a.emit(cls | 0x08 | alu[0], d.n, s.n, alu[1], 0);
  } else {
    const imm = a.imm32();
    a.expectEnd();
    a.emit(cls | alu[0], d.n, 0, alu[1], imm);
  }
}

function llvmAssign(a: AsmParser, d: Reg, dstTok: Tok): void {
  const t = a.peek();
  if (t === undefined) return a.fail("a value, register or expression");
  const cls = d.w ? 0x04 : 0x07;
  if (t.t === OP) {
    if (t.v === "-") {
      const n = a.toks[a.p + 1];
      if (n !== undefined && n.t === IDENT && isRegName(n.v)) {
        a.p++;
        const sTok = a.peek()!;
        const s = a.reg(d.w ? "w" : "r");
        if (s.n !== d.n) {
          a.failAt(sTok, `${d.w ? "w" : "r"}${d.n} (neg negates its destination)`);
        }
        a.expectEnd();
        a.emit(cls | 0x80, d.n, 0, 0, 0);
        return;
      }
      immOrLdImm64(a, d, dstTok);
      return;
    }
    if (t.v === "+") {
      immOrLdImm64(a, d, dstTok);
      return;
    }
    if (t.v === "(") {
      // (s8)r2 movsx
      a.p++;
      const tyTok = a.peek();
      const bits = tyTok?.t === IDENT
        ? ({ s8: 8, s16: 16, s32: 32 } as Record<string, number>)[tyTok.v]
        : undefined;
      if (bits === undefined || (bits === 32 && d.w)) {
        return a.fail(d.w ? "s8 or s16" : "s8, s16 or s32");
      }
      a.p++;
      a.op(")");
      const s = a.reg(d.w ? "w" : "r");
      a.expectEnd();
      a.emit(cls | 0x08 | 0xb0, d.n, s.n, bits, 0);
      return;
    }
    if (t.v === "*") {
      a.p++;
      a.op("(");
      const tyTok = a.peek();
      if (tyTok === undefined || tyTok.t !== IDENT) {
        return a.fail("a type u8, u16, u32, u64, s8, s16 or s32");
      }
      let size = TYPE_SIZES[tyTok.v];
      let mode = 0x60;
      if (size === undefined) {
        size = SX_SIZES[tyTok.v];
        mode = 0x80;
      }
      if (size === undefined) return a.fail("a type u8, u16, u32, u64, s8, s16 or s32");
      a.p++;
      a.op("*");
      a.op(")");
      const n = a.peek();
      if (n !== undefined && n.t === IDENT && n.v === "skb") {
        if (mode !== 0x60 || size === 0x18) {
          a.failAt(tyTok, "a type u8, u16 or u32 (legacy packet loads)");
        }
        if (d.n !== 0) a.failAt(dstTok, "r0 (legacy packet loads write r0)");
        a.p++;
        a.op("[");
        const r = a.peek();
        if (r !== undefined && r.t === IDENT && isRegName(r.v)) {
          const s = a.reg();
          let imm = 0;
          if (a.tryOp("+")) imm = a.imm32();
          else if (a.tryOp("-")) imm = -a.imm32() | 0;
          a.op("]");
          a.expectEnd();
          a.emit(0x40 | size, 0, s.n, 0, imm);
        } else {
          const imm = a.imm32();
          a.op("]");
          a.expectEnd();
          a.emit(0x20 | size, 0, 0, 0, imm);
        }
        return;
      }
      const m = memLlvm(a);
      a.expectEnd();
      a.emit(0x01 | mode | size, d.n, m.reg, m.off, 0);
      return;
    }
    return a.fail("a value, register or expression");
  }
  if (t.t === NUM) {
    immOrLdImm64(a, d, dstTok);
    return;
  }
  // identifiers
  if (isRegName(t.v)) {
    const s = a.reg(d.w ? "w" : "r");
    a.expectEnd();
    a.emit(cls | 0x08 | 0xb0, d.n, s.n, 0, 0);
    return;
  }
  const m = /^(le|be|bswap)(16|32|64)$/.exec(t.v);
  if (m !== null) {
    a.p++;
    const sTok = a.peek();
    const s = a.reg();
    if (s.n !== d.n) a.failAt(sTok, `r${d.n} (byte swaps work in place)`);
    a.expectEnd();
    const code = m[1] === "bswap" ? 0xd7 : m[1] === "be" ? 0xdc : 0xd4;
    a.emit(code, d.n, 0, 0, Number(m[2]));
    return;
  }
  switch (t.v) {
    case "map":
    case "map_value":
    case "btf_var":
    case "func":
      ldPseudo(a, d, true);
      return;
    case "load_acquire": {
      a.p++;
      a.op("(");
      const size = typeCast(a, TYPE_SIZES, "a type u8, u16, u32 or u64");
      const mm = memLlvm(a);
      a.op(")");
      a.expectEnd();
      a.emit(0xc3 | size, d.n, mm.reg, mm.off, 0x100);
      return;
    }
    case "addr_space_cast": {
      a.p++;
      a.op("(");
      const s = a.reg("r");
      a.op(",");
      const from = a.intIn(0, 0xffff, "an address space 0-65535");
      a.op(",");
      const to = a.intIn(0, 0xffff, "an address space 0-65535");
      a.op(")");
      a.expectEnd();
      a.emit(0xbf, d.n, s.n, 1, ((from << 16) | to) | 0);
      return;
    }
    case "xchg_64":
    case "xchg32_32":
    case "cmpxchg_64":
    case "cmpxchg32_32": {
      // llvm: r2 = xchg_64(r1 + 0, r2); r0 = cmpxchg_64(r1 + 0, r0, r2)
      const size = t.v.endsWith("_64") ? 0x18 : 0x00;
      const cmp = t.v.startsWith("cmp");
      a.p++;
      a.op("(");
      const base = a.reg("r");
      const off = a.addrOffset();
      a.op(",");
      atomicTail(a, d, dstTok, size, base.n, off, cmp);
      return;
    }
  }
  // kernel forms: atomic_fetch_add(...), atomic64_fetch_or(...), atomic64_xchg(...), atomic_cmpxchg(...)
  const k = /^atomic(64)?_(fetch_(add|and|or|xor)|xchg|cmpxchg)$/.exec(t.v);
  if (k !== null) {
    a.p++;
    a.op("(");
    const size = typeCast(a, TYPE_SIZES, "a type u32 or u64");
    const mm = memLlvm(a);
    a.op(",");
    if (k[2] === "xchg" || k[2] === "cmpxchg") {
      atomicTail(a, d, dstTok, size, mm.reg, mm.off, k[2] === "cmpxchg");
      return;
    }
    const sTok = a.peek();
    const s = a.reg();
    a.op(")");
    a.expectEnd();
    if (s.n !== d.n) a.failAt(sTok, `r${d.n} (the fetched value goes to the source register)`);
    emitAtomic(a, sTok!, size, mm.reg, s.n, mm.off, ATOMIC_OPS[k[3]] | 1);
    return;
  }
  a.fail("a value, register or expression");
}

function atomicTail(
  a: AsmParser,
  d: Reg,
  dstTok: Tok,
  size: number,
  base: number,
  off: number,
  cmp: boolean,
): void {
  if (cmp) {
    const r0Tok = a.peek();
    const r0 = a.reg();
    if (r0.n !== 0) a.failAt(r0Tok, "r0 (cmpxchg compares with r0)");
    if (d.n !== 0) a.failAt(dstTok, "r0 (cmpxchg loads the old value into r0)");
    a.op(",");
  }
  const sTok = a.peek();
  const s = a.reg();
  a.op(")");
  a.expectEnd();
  if (!cmp && s.n !== d.n) {
    a.failAt(sTok, `r${d.n} (xchg loads the old value into the source register)`);
  }
  emitAtomic(a, sTok!, size, base, s.n, off, cmp ? 0xf1 : 0xe1);
}

function immOrLdImm64(a: AsmParser, d: Reg, dstTok: Tok): void {
  const valTok = a.peek()!;
  const v = a.signedInt();
  if (a.tryIdent("ll") || a.opcodePrefix === 0x18) {
    if (d.w) a.failAt(dstTok, "an r register (ld_imm64 loads 64 bits)");
    a.expectEnd();
    emitLdImm64(a, d.n, v, valTok);
    return;
  }
  a.expectEnd();
  a.emit(d.w ? 0xb4 : 0xb7, d.n, 0, 0, a.toImm32(v, valTok));
}

function llvmIf(a: AsmParser): void {
  const d = a.reg();
  const opTok = a.peek();
  const op = opTok !== undefined && opTok.t === OP ? JMP_SYMS[opTok.v] : undefined;
  if (op === undefined) {
    return a.fail("a comparison (==, !=, >, >=, <, <=, s>, s>=, s<, s<=, &)");
  }
  a.p++;
  const cls = d.w ? 0x06 : 0x05;
  const n = a.peek();
  if (n !== undefined && n.t === IDENT && isRegName(n.v)) {
    const s = a.reg(d.w ? "w" : "r");
    a.ident("goto");
    jump(a, cls | 0x08 | op, d.n, s.n, 0, "off");
  } else {
    const imm = a.imm32();
    a.ident("goto");
    jump(a, cls | op, d.n, 0, imm, "off");
  }
}

export function llvmLock(a: AsmParser): void {
  // lock *(u32 *)(r1 + 0) += w2
  a.op("*");
  const size = typeCast(a, TYPE_SIZES, "a type u32 or u64");
  const m = memLlvm(a);
  const opTok = a.peek();
  const op = opTok !== undefined && opTok.t === OP ? LOCK_SYMS[opTok.v] : undefined;
  if (op === undefined) return a.fail("+=, |=, &= or ^=");
  a.p++;
  const s = a.reg();
  a.expectEnd();
  emitAtomic(a, opTok!, size, m.reg, s.n, m.off, op);
}

export function llvmStore(a: AsmParser): void {
  // *(u32 *)(r10 - 4) = w1   |   *(u32 *)(r10 - 4) = 5
  a.p++;
  const size = typeCast(a, TYPE_SIZES, "a type u8, u16, u32 or u64");
  const m = memLlvm(a);
  a.op("=");
  const t = a.peek();
  if (t !== undefined && t.t === IDENT && isRegName(t.v)) {
    const s = a.reg();
    a.expectEnd();
    a.emit(0x63 | size, m.reg, s.n, m.off, 0);
  } else {
    const imm = a.imm32();
    a.expectEnd();
    a.emit(0x62 | size, m.reg, 0, m.off, imm);
  }
}

/** `(u32 *)` after the opening parenthesis was consumed by the caller's syntax: reads `(TYPE *)`. */
function typeCast(a: AsmParser, table: Record<string, number>, expected: string): number {
  a.op("(");
  const t = a.peek();
  const size = t !== undefined && t.t === IDENT ? table[t.v] : undefined;
  if (size === undefined) return a.fail(expected);
  a.p++;
  a.op("*");
  a.op(")");
  return size;
}

/** `(r1 + 4)`, `(r1 - 4)`, `(r1 +4)`, `(r1)`. */
function memLlvm(a: AsmParser): { reg: number; off: number } {
  a.op("(");
  const r = a.reg("r");
  const off = a.addrOffset();
  a.op(")");
  return { reg: r.n, off };
}
