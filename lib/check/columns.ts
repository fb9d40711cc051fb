/**
 * The program as the kernel sees it after copying it in: one typed array per instruction field,
 * from pooled scratch for programs of up to 4096 instructions. Shared by the checker's passes.
 * Internal to `lib/check/`.
 *
 * @module
 */
import type { Insn } from "../insn/insn.ts";
import { ArgumentError } from "../errors.ts";

export const CLS_LD = 0,
  CLS_LDX = 1,
  CLS_ST = 2,
  CLS_STX = 3,
  CLS_ALU = 4,
  CLS_JMP = 5,
  CLS_JMP32 = 6,
  CLS_ALU64 = 7;
export const OP_CALL = 0x80, OP_EXIT = 0x90, OP_JA = 0x00, OP_JCOND = 0xe0;
export const LD_IMM64 = 0x18;
export const PSEUDO_CALL = 1, PSEUDO_KFUNC_CALL = 2, PSEUDO_FUNC = 4;

/** The program as columns of its fields (what the kernel sees after its copy from userspace). */
export interface Columns {
  n: number;
  code: Uint8Array;
  dst: Uint8Array;
  src: Uint8Array;
  off: Int16Array;
  imm: Int32Array;
}

/**
 * Reusable zeroed scratch arrays for programs of up to `POOL_LIMIT` instructions: allocating
 * typed arrays is what a check of a small program costs most (about 0.4 µs each in Deno), and
 * `checkProgram` runs on every `Program.load`. The checker is synchronous, so one set suffices.
 */
const POOL_LIMIT = 4096;
const pools: Record<string, Uint8Array | Int16Array | Int32Array> = {};

export function pooled<T extends Uint8Array | Int16Array | Int32Array>(
  slot: string,
  make: (n: number) => T,
  n: number,
): T {
  if (n > POOL_LIMIT) return make(n);
  let a = pools[slot] as T | undefined;
  if (a === undefined) {
    a = make(POOL_LIMIT + 1);
    pools[slot] = a;
  } else {
    a.fill(0, 0, n);
  }
  return a;
}

export const u8 = (n: number): Uint8Array => new Uint8Array(n);
export const i16 = (n: number): Int16Array => new Int16Array(n);
export const i32 = (n: number): Int32Array => new Int32Array(n);

export function toColumns(insns: readonly Insn[] | Uint8Array): Columns {
  if (insns instanceof Uint8Array) {
    if (insns.length % 8 !== 0) {
      throw new ArgumentError(
        "instruction",
        `instruction bytes must be a multiple of 8, got ${insns.length} (${
          insns.length % 8
        } trailing bytes at offset ${insns.length - (insns.length % 8)})`,
      );
    }
    const n = insns.length >>> 3;
    const code = pooled("code", u8, n), dst = pooled("dst", u8, n), src = pooled("src", u8, n);
    const off = pooled("off", i16, n), imm = pooled("imm", i32, n);
    const b = insns;
    for (let i = 0, o = 0; i < n; i++, o += 8) {
      code[i] = b[o];
      const r = b[o + 1];
      dst[i] = r & 0x0f;
      src[i] = r >>> 4;
      off[i] = b[o + 2] | (b[o + 3] << 8);
      imm[i] = b[o + 4] | (b[o + 5] << 8) | (b[o + 6] << 16) | (b[o + 7] << 24);
    }
    return { n, code, dst, src, off, imm };
  }
  if (!Array.isArray(insns)) {
    throw new ArgumentError("insns", "insns must be an array of instructions or a Uint8Array");
  }
  const n = insns.length;
  const code = pooled("code", u8, n), dst = pooled("dst", u8, n), src = pooled("src", u8, n);
  const off = pooled("off", i16, n), imm = pooled("imm", i32, n);
  for (let i = 0; i < n; i++) {
    const x = insns[i];
    // The same truncation the encoder applies: what the kernel would see.
    code[i] = x.code;
    dst[i] = x.dst & 0x0f;
    src[i] = x.src & 0x0f;
    off[i] = x.off;
    imm[i] = x.imm;
  }
  return { n, code, dst, src, off, imm };
}

/** How a pass reports an error: instruction index (-1: the whole program), code, message. */
export type Report = (index: number, code: string, message: string) => void;

/** Two hex digits. */
export function hex2(n: number): string {
  return (n & 0xff).toString(16).padStart(2, "0");
}
