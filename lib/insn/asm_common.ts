/**
 * Instruction forms the llvm and classic syntaxes share: calls, jumps and their targets, `.raw`
 * words, the `ld_imm64` pseudo loads (`map[...]`, `map_value[...]`, `btf_var[...]`, `func[...]`),
 * 64-bit constants and atomics. Internal to `lib/insn/`.
 *
 * @module
 */
import { helperIdByName } from "../../types/helpers.ts";
import { IDENT, isLabelName, isRegName, NUM, OP, type Tok } from "./asm_lexer.ts";
import type { AsmParser, Reg } from "./asm_parser.ts";
import * as opc from "./opcodes.ts";

/** A jump target: a relative offset in slots, or a label to resolve. */
export type Target = { rel: number } | { label: string; tok: Tok };

/** The atomic operations by name (the `imm` of a BPF_ATOMIC instruction, without BPF_FETCH). */
export const ATOMIC_OPS: Record<string, number> = {
  add: opc.ADD,
  or: opc.OR,
  and: opc.AND,
  xor: opc.XOR,
};

export function call(a: AsmParser): void {
  const t = a.peek();
  if (t === undefined) {
    return a.fail("a helper id or name, pc+N, local LABEL, kfunc[ID] or a register");
  }
  if (t.t === NUM || (t.t === OP && (t.v === "-" || t.v === "+"))) {
    const imm = a.imm32();
    a.expectEnd();
    a.emit(0x85, 0, 0, 0, imm);
    return;
  }
  if (t.t !== IDENT) {
    return a.fail("a helper id or name, pc+N, local LABEL, kfunc[ID] or a register");
  }
  if (isRegName(t.v)) {
    const r = a.reg("r");
    a.expectEnd();
    a.emit(0x8d, r.n, 0, 0, 0);
    return;
  }
  if (t.v === "pc" || t.v === "local") {
    if (t.v === "local") a.p++;
    jump(a, 0x85, 0, 1, 0, "imm");
    return;
  }
  if (t.v === "helper") {
    a.p++;
    const imm = a.imm32();
    a.expectEnd();
    a.emit(0x85, 0, 0, 0, imm);
    return;
  }
  if (t.v === "runtime") {
    a.p++;
    const imm = a.imm32();
    a.expectEnd();
    a.emit(0x85, 0, 2, 0, imm);
    return;
  }
  if (t.v === "kfunc" && a.toks[a.p + 1]?.v === "[") {
    a.p += 2;
    const imm = a.imm32();
    let off = 0;
    if (a.tryOp(",")) {
      a.ident("idx");
      a.op(":");
      off = a.intIn(-0x8000, 0x7fff, "an fd_array index -32768..32767");
    }
    a.op("]");
    a.expectEnd();
    a.emit(0x85, 0, 2, off, imm);
    return;
  }
  a.p++;
  if (a.tryOp("#")) {
    // verifier style: bpf_map_lookup_elem#1
    const idTok = a.peek();
    const imm = a.imm32();
    a.expectEnd();
    const known = helperIdByName(t.v);
    if (known !== undefined && known !== imm) {
      a.failAt(idTok, `#${known}`, `${t.v} is helper #${known}, not #${imm}`);
    }
    a.emit(0x85, 0, 0, 0, imm);
    return;
  }
  a.expectEnd();
  const index = a.emit(0x85, 0, 0, 0, 0);
  a.addFixup(index, "call", t.v, t);
}

/** Emits a jump-like instruction whose target (offset or label) follows. */
export function jump(
  a: AsmParser,
  code: number,
  dst: number,
  src: number,
  imm: number,
  field: "off" | "imm",
): void {
  const tTok = a.peek();
  const tg = target(a);
  a.expectEnd();
  if ("rel" in tg) {
    if (field === "off") {
      if (tg.rel < -0x8000 || tg.rel > 0x7fff) {
        a.failAt(
          tTok,
          "a jump offset -32768..32767",
          `jump offset ${tg.rel} does not fit in 16 bits (use gotol)`,
        );
      }
      a.emit(code, dst, src, tg.rel, imm);
    } else {
      a.emit(code, dst, src, 0, a.toImm32(tg.rel, tTok!, true));
    }
    return;
  }
  const index = a.emit(code, dst, src, 0, imm);
  a.addFixup(index, field, tg.label, tg.tok);
}

/** `+3`, `-3`, `3`, `pc+3`, `pc-3`, or a label. */
export function target(a: AsmParser): Target {
  const t = a.peek();
  if (t === undefined) return a.fail("a jump target (+N, -N or a label)");
  if (t.t === IDENT) {
    if (t.v === "pc") {
      const n = a.toks[a.p + 1];
      if (n !== undefined && n.t === OP && (n.v === "+" || n.v === "-")) {
        a.p++;
        const v = a.signedInt();
        return { rel: typeof v === "number" ? v : Number(v) };
      }
    }
    if (isRegName(t.v) || !isLabelName(t.v)) {
      return a.fail("a jump target (+N, -N or a label)");
    }
    a.p++;
    return { label: t.v, tok: t };
  }
  if (t.t === NUM || (t.t === OP && (t.v === "+" || t.v === "-"))) {
    const v = a.signedInt();
    return { rel: typeof v === "number" ? v : Number(v) };
  }
  return a.fail("a jump target (+N, -N or a label)");
}

export function raw(a: AsmParser): void {
  const t = a.peek();
  if (t === undefined || t.t !== NUM) return a.fail("a 64-bit instruction word (0x…)");
  a.p++;
  const v = BigInt(t.v);
  if (v >= 1n << 64n) {
    return a.failAt(t, "a 64-bit instruction word (0x…)", "value does not fit in 64 bits");
  }
  a.expectEnd();
  const lo = Number(v & 0xffffffffn);
  a.emit(
    lo & 0xff,
    (lo >> 8) & 0xf,
    (lo >> 12) & 0xf,
    lo >> 16,
    Number(BigInt.asIntN(32, v >> 32n)),
  );
}

/** `map[fd:N]`, `map[NAME]`, `map_value[...]+OFF`, `map[idx:N]`, `btf_var[ID(, fd:N)]`, `func[T]`. */
export function ldPseudo(a: AsmParser, d: Reg, llvm: boolean): void {
  const kindTok = a.next();
  if (d.w) a.fail("an r register (ld_imm64 loads 64 bits)");
  a.op("[");
  let src = 0;
  let lo = 0;
  let hi = 0;
  let label: string | undefined;
  let labelTok: Tok | undefined;
  switch (kindTok.v) {
    case "map":
    case "map_value": {
      const value = kindTok.v === "map_value";
      const t = a.peek();
      if (
        t !== undefined && t.t === IDENT && (t.v === "fd" || t.v === "id" || t.v === "idx") &&
        a.toks[a.p + 1]?.v === ":"
      ) {
        a.p += 2;
        lo = a.imm32();
        src = t.v === "idx" ? (value ? 6 : 5) : (value ? 2 : 1);
      } else if (t !== undefined && t.t === IDENT) {
        a.p++;
        lo = mapFd(a, t);
        src = value ? 2 : 1;
      } else {
        return a.fail("fd:N, id:N, idx:N or a map name");
      }
      a.op("]");
      if (value) {
        a.op("+");
        const offTok = a.peek();
        const off = a.signedInt();
        if (typeof off !== "number" || off < 0 || off > 0xffffffff) {
          a.failAt(offTok, "a value offset 0-4294967295");
        }
        hi = (off as number) | 0;
      }
      break;
    }
    case "btf_var":
      src = 3;
      lo = a.imm32();
      if (a.tryOp(",")) {
        a.ident("fd");
        a.op(":");
        hi = a.imm32();
      }
      a.op("]");
      break;
    default: { // func
      src = 4;
      const tg = target(a);
      if ("rel" in tg) lo = a.toImm32(tg.rel, kindTok);
      else {
        label = tg.label;
        labelTok = tg.tok;
      }
      a.op("]");
    }
  }
  if (llvm) a.tryIdent("ll");
  a.expectEnd();
  const index = a.emit(0x18, d.n, src, 0, lo);
  a.emit(0, 0, 0, 0, hi);
  if (label !== undefined) a.addFixup(index, "imm", label, labelTok!);
}

export function mapFd(a: AsmParser, t: Tok): number {
  const maps = a.maps;
  let fd: number | undefined;
  if (typeof maps === "function") fd = maps(t.v);
  else if (maps !== undefined && Object.hasOwn(maps, t.v)) {
    const m = maps[t.v];
    fd = typeof m === "number" ? m : m?.fd;
  }
  if (fd === undefined || !Number.isInteger(fd) || (fd | 0) !== fd) {
    return a.failAt(
      t,
      "fd:N, id:N, idx:N or the name of a map given in options.maps",
      maps === undefined
        ? `map name "${t.v}" needs the maps option of assemble()`
        : `unknown map "${t.v}"`,
    );
  }
  return fd;
}

export function emitLdImm64(a: AsmParser, dst: number, v: number | bigint, tok: Tok): void {
  const big = typeof v === "bigint" ? v : BigInt(v);
  if (big < -(1n << 63n) || big >= (1n << 64n)) {
    a.failAt(tok, "a 64-bit value", "value does not fit in 64 bits");
  }
  const u = BigInt.asUintN(64, big);
  a.emit(0x18, dst, 0, 0, Number(BigInt.asIntN(32, u)));
  a.emit(0, 0, 0, 0, Number(BigInt.asIntN(32, u >> 32n)));
}

export function emitAtomic(
  a: AsmParser,
  tok: Tok,
  size: number,
  dst: number,
  src: number,
  off: number,
  imm: number,
): void {
  if (size !== 0x00 && size !== 0x18) a.failAt(tok, "an atomic operation of 32 or 64 bits");
  a.emit(0xc3 | size, dst, src, off, imm);
}
