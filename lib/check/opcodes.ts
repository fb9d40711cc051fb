/**
 * The opcodes the Linux 6.18 verifier accepts (`bpf_opcode_in_insntable()`, kernel/bpf/core.c):
 * the interpreter's `BPF_INSN_MAP` plus the legacy packet loads and `may_goto`.
 *
 * @module
 */

const ALU = 0x04, JMP = 0x05, JMP32 = 0x06, ALU64 = 0x07;
const LD = 0x00, LDX = 0x01, ST = 0x02, STX = 0x03;
const K = 0x00, X = 0x08;
const W = 0x00, H = 0x08, B = 0x10, DW = 0x18;

const ALU_OPS = [0x00, 0x10, 0x50, 0x40, 0x60, 0x70, 0xa0, 0x20, 0xb0, 0xc0, 0x30, 0x90]; // add sub and or lsh rsh xor mul mov arsh div mod
const JMP_OPS = [0x10, 0x50, 0x20, 0xa0, 0x30, 0xb0, 0x60, 0xc0, 0x70, 0xd0, 0x40]; // jeq jne jgt jlt jge jle jsgt jslt jsge jsle jset
const NEG = 0x80, END = 0xd0, TO_LE = 0x00, TO_BE = 0x08;
const CALL = 0x80, EXIT = 0x90, JA = 0x00, JCOND = 0xe0;
const MEM = 0x60, MEMSX = 0x80, ATOMIC = 0xc0, IMM = 0x00, ABS = 0x20, IND = 0x40;

function build(): Uint8Array {
  const t = new Uint8Array(256);
  const on = (c: number): void => {
    t[c] = 1;
  };
  for (const cls of [ALU, ALU64]) {
    for (const op of ALU_OPS) {
      on(cls | op | X);
      on(cls | op | K);
    }
    on(cls | NEG);
  }
  on(ALU | END | TO_BE);
  on(ALU | END | TO_LE);
  on(ALU64 | END | TO_LE); // bswap
  on(JMP | CALL);
  on(JMP | EXIT);
  for (const cls of [JMP, JMP32]) {
    for (const op of JMP_OPS) {
      on(cls | op | X);
      on(cls | op | K);
    }
    on(cls | JA);
  }
  for (const size of [B, H, W, DW]) {
    on(STX | MEM | size);
    on(ST | MEM | size);
    on(LDX | MEM | size);
    on(STX | ATOMIC | size); // B and H: load-acquire / store-release (6.15+)
  }
  for (const size of [B, H, W]) {
    on(LDX | MEMSX | size);
    on(LD | ABS | size);
    on(LD | IND | size);
  }
  on(LD | IMM | DW);
  on(JMP | JCOND);
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
