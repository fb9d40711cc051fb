/**
 * Opcode fields of the eBPF instruction set (RFC 9669, Linux uapi `bpf_common.h` and `bpf.h`).
 *
 * An opcode byte is `class | size/source | mode/op`. These constants are the kernel's `BPF_*`
 * macros, without the prefix.
 *
 * @example
 * ```ts
 * import { ALU64, MOV, K } from "@tsbpf/core/insn";
 * const code = ALU64 | MOV | K; // 0xb7: r0 = imm
 * ```
 * @module
 */

// Instruction classes (low 3 bits).
/** Class: 32-bit immediate loads, `ld_imm64`, legacy packet loads. */
export const LD = 0x00;
/** Class: loads into a register. */
export const LDX = 0x01;
/** Class: stores of an immediate. */
export const ST = 0x02;
/** Class: stores of a register, atomics. */
export const STX = 0x03;
/** Class: 32-bit arithmetic. */
export const ALU = 0x04;
/** Class: 64-bit jumps, calls, exit. */
export const JMP = 0x05;
/** Class: 32-bit jumps. */
export const JMP32 = 0x06;
/** Class: 64-bit arithmetic. */
export const ALU64 = 0x07;

// Size field of loads and stores (bits 3-4).
/** Size: 32 bits. */
export const W = 0x00;
/** Size: 16 bits. */
export const H = 0x08;
/** Size: 8 bits. */
export const B = 0x10;
/** Size: 64 bits. */
export const DW = 0x18;

// Mode field of loads and stores (bits 5-7).
/** Mode: immediate (`ld_imm64`). */
export const IMM = 0x00;
/** Mode: legacy absolute packet load. */
export const ABS = 0x20;
/** Mode: legacy indirect packet load. */
export const IND = 0x40;
/** Mode: regular memory access. */
export const MEM = 0x60;
/** Mode: sign-extending load. */
export const MEMSX = 0x80;
/** Mode: atomic operation. */
export const ATOMIC = 0xc0;

// Source field of ALU and JMP (bit 3).
/** Source: the 32-bit immediate. */
export const K = 0x00;
/** Source: the source register. */
export const X = 0x08;

// ALU operations (bits 4-7).
/** ALU: add. */
export const ADD = 0x00;
/** ALU: subtract. */
export const SUB = 0x10;
/** ALU: multiply. */
export const MUL = 0x20;
/** ALU: divide (signed when `off` is 1). */
export const DIV = 0x30;
/** ALU: bitwise or. */
export const OR = 0x40;
/** ALU: bitwise and. */
export const AND = 0x50;
/** ALU: left shift. */
export const LSH = 0x60;
/** ALU: logical right shift. */
export const RSH = 0x70;
/** ALU: negate. */
export const NEG = 0x80;
/** ALU: modulo (signed when `off` is 1). */
export const MOD = 0x90;
/** ALU: bitwise exclusive or. */
export const XOR = 0xa0;
/** ALU: move (sign-extending when `off` is 8, 16 or 32). */
export const MOV = 0xb0;
/** ALU: arithmetic right shift. */
export const ARSH = 0xc0;
/** ALU: byte swap (`le`/`be` in class ALU, `bswap` in ALU64). */
export const END = 0xd0;

/** Byte swap source flag: to little endian. */
export const TO_LE = 0x00;
/** Byte swap source flag: to big endian. */
export const TO_BE = 0x08;

// Jump operations (bits 4-7).
/** Jump: always (`goto`). */
export const JA = 0x00;
/** Jump: equal. */
export const JEQ = 0x10;
/** Jump: unsigned greater than. */
export const JGT = 0x20;
/** Jump: unsigned greater or equal. */
export const JGE = 0x30;
/** Jump: bits set (`&`). */
export const JSET = 0x40;
/** Jump: not equal. */
export const JNE = 0x50;
/** Jump: signed greater than. */
export const JSGT = 0x60;
/** Jump: signed greater or equal. */
export const JSGE = 0x70;
/** Call: helper, BPF-to-BPF or kfunc (by `src`). */
export const CALL = 0x80;
/** Exit the program (or return from a BPF-to-BPF call). */
export const EXIT = 0x90;
/** Jump: unsigned less than. */
export const JLT = 0xa0;
/** Jump: unsigned less or equal. */
export const JLE = 0xb0;
/** Jump: signed less than. */
export const JSLT = 0xc0;
/** Jump: signed less or equal. */
export const JSLE = 0xd0;
/** Conditional pseudo-jump (`may_goto`). */
export const JCOND = 0xe0;

// Atomic operations (in `imm`).
/** Atomic modifier: also fetch the old value into the source register. */
export const FETCH = 0x01;
/** Atomic: exchange. */
export const XCHG = 0xe0 | FETCH;
/** Atomic: compare and exchange (compares with r0). */
export const CMPXCHG = 0xf0 | FETCH;
/** Atomic: load-acquire. */
export const LOAD_ACQ = 0x100;
/** Atomic: store-release. */
export const STORE_REL = 0x110;

// src_reg values with special meanings.
/** `ld_imm64` src: `imm` is a map fd. */
export const PSEUDO_MAP_FD = 1;
/** `ld_imm64` src: `imm` is a map fd, the second `imm` an offset into its value. */
export const PSEUDO_MAP_VALUE = 2;
/** `ld_imm64` src: `imm` is a BTF id of a kernel variable. */
export const PSEUDO_BTF_ID = 3;
/** `ld_imm64` src: `imm` is a pc-relative offset to a BPF function. */
export const PSEUDO_FUNC = 4;
/** `ld_imm64` src: `imm` is an index into `fd_array` (a map). */
export const PSEUDO_MAP_IDX = 5;
/** `ld_imm64` src: `imm` is an index into `fd_array`, the second `imm` a value offset. */
export const PSEUDO_MAP_IDX_VALUE = 6;
/** `call` src: `imm` is a pc-relative offset to a BPF function. */
export const PSEUDO_CALL = 1;
/** `call` src: `imm` is a kernel function's BTF id. */
export const PSEUDO_KFUNC_CALL = 2;

/** `call` src: `imm` is a helper function id. */
export const PSEUDO_HELPER_CALL = 0;
/** `jcond` src: `may_goto` (the only conditional pseudo-jump). */
export const MAY_GOTO = 0;
/** `mov` (ALU64, X) `off`: `addr_space_cast`, converting between arena and kernel pointers. */
export const ADDR_SPACE_CAST = 1;

/** Register index of the frame pointer (read only). */
export const R10 = 10;
/** Maximum number of instruction slots in one program (`BPF_COMPLEXITY_LIMIT_INSNS`). */
export const MAX_INSNS = 1_000_000;

/**
 * The class bits of an opcode.
 *
 * @example
 * ```ts
 * import { ALU64, opClass } from "@tsbpf/core/insn";
 * opClass(0xb7) === ALU64; // true
 * ```
 */
export function opClass(code: number): number {
  return (typeof code === "number" ? code : 0) & 0x07;
}

/**
 * The two-operand ALU operations by their classic mnemonic (`neg`, `end` and the signed forms are
 * not here), the one table behind the assembler, the builder and the disassembler.
 *
 * @example
 * ```ts
 * import { ALU_BY_NAME, MOV } from "./opcodes.ts";
 * ALU_BY_NAME.mov === MOV; // true
 * ```
 */
export const ALU_BY_NAME: {
  readonly add: number;
  readonly sub: number;
  readonly mul: number;
  readonly div: number;
  readonly or: number;
  readonly and: number;
  readonly lsh: number;
  readonly rsh: number;
  readonly mod: number;
  readonly xor: number;
  readonly mov: number;
  readonly arsh: number;
} = {
  add: ADD,
  sub: SUB,
  mul: MUL,
  div: DIV,
  or: OR,
  and: AND,
  lsh: LSH,
  rsh: RSH,
  mod: MOD,
  xor: XOR,
  mov: MOV,
  arsh: ARSH,
};

/**
 * The conditional jumps by their classic mnemonic, the one table behind the assembler, the builder
 * and the disassembler.
 *
 * @example
 * ```ts
 * import { JMP_BY_NAME, JSGT } from "./opcodes.ts";
 * JMP_BY_NAME.jsgt === JSGT; // true
 * ```
 */
export const JMP_BY_NAME: {
  readonly jeq: number;
  readonly jgt: number;
  readonly jge: number;
  readonly jset: number;
  readonly jne: number;
  readonly jsgt: number;
  readonly jsge: number;
  readonly jlt: number;
  readonly jle: number;
  readonly jslt: number;
  readonly jsle: number;
} = {
  jeq: JEQ,
  jgt: JGT,
  jge: JGE,
  jset: JSET,
  jne: JNE,
  jsgt: JSGT,
  jsge: JSGE,
  jlt: JLT,
  jle: JLE,
  jslt: JSLT,
  jsle: JSLE,
};
