/**
 * The opcodes the Linux 6.18 verifier accepts (`bpf_opcode_in_insntable()`, kernel/bpf/core.c):
 * the interpreter's `BPF_INSN_MAP` plus the legacy packet loads and `may_goto`.
 *
 * @module
 */

import * as opc from "../insn/opcodes.ts";

const ALU_OPS = [
  opc.ADD,
  opc.SUB,
  opc.AND,
  opc.OR,
  opc.LSH,
  opc.RSH,
  opc.XOR,
  opc.MUL,
  opc.MOV,
  opc.ARSH,
  opc.DIV,
  opc.MOD,
];
const JMP_OPS = [
  opc.JEQ,
  opc.JNE,
  opc.JGT,
  opc.JLT,
  opc.JGE,
  opc.JLE,
  opc.JSGT,
  opc.JSLT,
  opc.JSGE,
  opc.JSLE,
  opc.JSET,
];

function build(): Uint8Array {
  const t = new Uint8Array(256);
  const on = (c: number): void => {
    t[c] = 1;
  };
  for (const cls of [opc.ALU, opc.ALU64]) {
    for (const op of ALU_OPS) {
      on(cls | op | opc.X);
      on(cls | op | opc.K);
    }
    on(cls | opc.NEG);
  }
  on(opc.ALU | opc.END | opc.TO_BE);
  on(opc.ALU | opc.END | opc.TO_LE);
  on(opc.ALU64 | opc.END | opc.TO_LE); // bswap
  on(opc.JMP | opc.CALL);
  on(opc.JMP | opc.EXIT);
  for (const cls of [opc.JMP, opc.JMP32]) {
    for (const op of JMP_OPS) {
      on(cls | op | opc.X);
      on(cls | op | opc.K);
    }
    on(cls | opc.JA);
  }
  for (const size of [opc.B, opc.H, opc.W, opc.DW]) {
    on(opc.STX | opc.MEM | size);
    on(opc.ST | opc.MEM | size);
    on(opc.LDX | opc.MEM | size);
    on(opc.STX | opc.ATOMIC | size); // B and H: load-acquire / store-release (6.15+)
  }
  for (const size of [opc.B, opc.H, opc.W]) {
    on(opc.LDX | opc.MEMSX | size);
    on(opc.LD | opc.ABS | size);
    on(opc.LD | opc.IND | size);
  }
  on(opc.LD | opc.IMM | opc.DW);
  on(opc.JMP | opc.JCOND);
  return t;
}

/**
 * `VALID_OPCODES[code]` is 1 when the verifier knows opcode `code` (128 of the 256).
 *
 * @example
 * ```ts
 * import { VALID_OPCODES } from "@tsbpf/core/check";
 * VALID_OPCODES[0xb7]; // 1 (r0 = imm)
 * VALID_OPCODES[0x00]; // 0
 * ```
 */
export const VALID_OPCODES: Readonly<Uint8Array> = build();
