/**
 * Seeded random generators of valid instructions for the property tests of lib/insn (not a test
 * file itself). Every kind of instruction of RFC 9669 and Linux 6.18 is drawn, with field values
 * biased towards boundaries.
 */
import type { Insn } from "../lib/insn/insn.ts";

/** A small, fast, seeded PRNG (xorshift128+ on two 32-bit halves is overkill; this is sfc32). */
export class Rng {
  #a: number;
  #b: number;
  #c: number;
  #d: number;
  constructor(seed: number) {
    this.#a = 0x9e3779b9;
    this.#b = 0x243f6a88;
    this.#c = 0xb7e15162;
    this.#d = seed >>> 0;
    for (let i = 0; i < 16; i++) this.u32();
  }
  /** A uniform 32-bit unsigned integer. */
  u32(): number {
    const t = (((this.#a + this.#b) | 0) + this.#d) | 0;
    this.#d = (this.#d + 1) | 0;
    this.#a = this.#b ^ (this.#b >>> 9);
    this.#b = (this.#c + (this.#c << 3)) | 0;
    this.#c = (this.#c << 21) | (this.#c >>> 11);
    this.#c = (this.#c + t) | 0;
    return t >>> 0;
  }
  /** An integer in [0, n). */
  int(n: number): number {
    return this.u32() % n;
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)];
  }
}

const S32_EDGES = [
  0,
  1,
  -1,
  2,
  16,
  31,
  32,
  63,
  64,
  255,
  -256,
  0x7fffffff,
  -0x80000000,
  0x10000,
  0xffff,
];
const S16_EDGES = [0, 1, -1, 2, -2, 8, -8, 0x7fff, -0x8000, 512, -512];

function s32(r: Rng): number {
  switch (r.int(4)) {
    case 0:
      return r.pick(S32_EDGES);
    case 1:
      return (r.int(512) - 256) | 0;
    default:
      return r.u32() | 0;
  }
}

function s16(r: Rng): number {
  switch (r.int(3)) {
    case 0:
      return r.pick(S16_EDGES);
    case 1:
      return r.int(64) - 32;
    default:
      return (r.u32() << 16) >> 16;
  }
}

function reg(r: Rng): number {
  return r.int(11);
}

function i(code: number, dst: number, src: number, off: number, imm: number): Insn {
  return { code, dst, src, off, imm };
}

const ALU_OPS = [0x00, 0x10, 0x20, 0x30, 0x40, 0x50, 0x60, 0x70, 0x90, 0xa0, 0xb0, 0xc0];
const JMP_OPS = [0x10, 0x20, 0x30, 0x40, 0x50, 0x60, 0x70, 0xa0, 0xb0, 0xc0, 0xd0];
const SIZES = [0x00, 0x08, 0x10, 0x18];
const ATOMIC_IMMS = [0x00, 0x01, 0x40, 0x41, 0x50, 0x51, 0xa0, 0xa1, 0xe1, 0xf1];

/** The kinds the generator draws, with weights. */
const KINDS: Array<[number, (r: Rng) => Insn[]]> = [
  [12, (r) => { // ALU imm / reg, 32 / 64, sdiv/smod
    const cls = r.int(2) ? 0x07 : 0x04;
    const op = r.pick(ALU_OPS);
    const off = (op === 0x30 || op === 0x90) && r.int(2) ? 1 : 0;
    return r.int(2)
      ? [i(cls | 0x08 | op, reg(r), reg(r), off, 0)]
      : [i(cls | op, reg(r), 0, off, s32(r))];
  }],
  [1, (r) => [i(r.int(2) ? 0x87 : 0x84, reg(r), 0, 0, 0)]], // neg
  [2, (r) => { // movsx
    const wide = r.int(2) === 1;
    return [i(wide ? 0xbf : 0xbc, reg(r), reg(r), r.pick(wide ? [8, 16, 32] : [8, 16]), 0)];
  }],
  [2, (r) => [i(r.pick([0xd4, 0xdc, 0xd7]), reg(r), 0, 0, r.pick([16, 32, 64]))]], // endian
  [1, (r) => [i(0xbf, reg(r), reg(r), 1, r.pick([1, 0x10000]))]], // addr_space_cast
  [6, (r) => [i(0x61 | r.pick(SIZES), reg(r), reg(r), s16(r), 0)]], // ldx
  [2, (r) => [i(0x81 | r.pick([0x00, 0x08, 0x10]), reg(r), reg(r), s16(r), 0)]], // ldxs
  [4, (r) => [i(0x62 | r.pick(SIZES), reg(r), 0, s16(r), s32(r))]], // st
  [5, (r) => [i(0x63 | r.pick(SIZES), reg(r), reg(r), s16(r), 0)]], // stx
  [4, (r) => [i(0xc3 | r.pick([0x00, 0x18]), reg(r), reg(r), s16(r), r.pick(ATOMIC_IMMS))]], // atomics
  [2, (r) => [i(0xc3 | r.pick(SIZES), reg(r), reg(r), s16(r), r.pick([0x100, 0x110]))]], // acquire/release
  [6, (r) => { // ld_imm64, every src kind
    const src = r.int(7);
    let hi = s32(r);
    if (src === 1 || src === 4 || src === 5) hi = 0;
    if (src === 3 && r.int(2)) hi = 0;
    return [i(0x18, reg(r), src, 0, s32(r)), i(0, 0, 0, 0, hi)];
  }],
  [1, (r) => [i(0x20 | r.pick([0x00, 0x08, 0x10]), 0, 0, 0, s32(r))]], // ld_abs
  [1, (r) => [i(0x40 | r.pick([0x00, 0x08, 0x10]), 0, reg(r), 0, s32(r))]], // ld_ind
  [2, (r) => [i(0x05, 0, 0, s16(r), 0)]], // ja
  [1, (r) => [i(0x06, 0, 0, 0, s32(r))]], // gotol
  [1, (r) => [i(0xe5, 0, 0, s16(r), 0)]], // may_goto
  [10, (r) => { // conditional jumps
    const cls = r.int(2) ? 0x05 : 0x06;
    const op = r.pick(JMP_OPS);
    return r.int(2)
      ? [i(cls | 0x08 | op, reg(r), reg(r), s16(r), 0)]
      : [i(cls | op, reg(r), 0, s16(r), s32(r))];
  }],
  [3, (r) => [i(0x85, 0, 0, 0, r.int(4) ? r.int(220) : s32(r))]], // helper call
  [1, (r) => [i(0x85, 0, 1, 0, s32(r))]], // local call
  [1, (r) => [i(0x85, 0, 2, r.int(2) ? 0 : s16(r), s32(r))]], // kfunc call
  [2, () => [i(0x95, 0, 0, 0, 0)]], // exit
];
const TOTAL = KINDS.reduce((n, [w]) => n + w, 0);

/** One random valid instruction (two slots for `ld_imm64`). */
export function randomInsn(r: Rng): Insn[] {
  let x = r.int(TOTAL);
  for (const [w, f] of KINDS) {
    if (x < w) return f(r);
    x -= w;
  }
  throw new Error("unreachable");
}

/** A random program of at least `count` instructions (slots may be more: `ld_imm64` takes two). */
export function randomProgram(
  seed: number,
  count: number,
): { insns: Insn[]; instructions: number } {
  const r = new Rng(seed);
  const insns: Insn[] = [];
  for (let n = 0; n < count; n++) for (const x of randomInsn(r)) insns.push(x);
  return { insns, instructions: count };
}

/** Random slots: arbitrary bytes, mostly not instructions. */
export function randomSlots(seed: number, count: number): Insn[] {
  const r = new Rng(seed);
  const out: Insn[] = [];
  for (let n = 0; n < count; n++) {
    const lo = r.u32();
    out.push({
      code: r.int(3) === 0 ? r.pick([0x18, 0x00, 0x95, 0x85, 0xc3, 0xdb, 0x8d]) : lo & 0xff,
      dst: (lo >>> 8) & 0xf,
      src: (lo >>> 12) & 0xf,
      off: lo >> 16,
      imm: r.int(2) ? r.u32() | 0 : r.int(5) - 2,
    });
  }
  return out;
}
