/**
 * The eBPF instruction toolkit: the `Insn` model and its encoding, opcode constants, typed
 * registers, a builder with labels, a validity check, a disassembler and an assembler for the
 * llvm / verifier syntax and the classic mnemonic syntax of the BPF conformance suite.
 *
 * @example
 * ```ts
 * import { assemble, disassemble, InsnBuilder, R0 } from "@tsbpf/core/insn";
 * const insns = new InsnBuilder().mov64(R0, 0).exit().build();
 * disassemble(insns); // "r0 = 0\nexit"
 * assemble("r0 = 0\nexit"); // the same instructions
 * ```
 * @module
 */
export { decodeInsns, encodeInsns, type Insn, INSN_SIZE } from "./insn.ts";
export {
  ABS,
  ADD,
  ADDR_SPACE_CAST,
  ALU,
  ALU64,
  AND,
  ARSH,
  ATOMIC,
  B,
  CALL,
  CMPXCHG,
  DIV,
  DW,
  END,
  EXIT,
  FETCH,
  H,
  IMM,
  IND,
  JA,
  JCOND,
  JEQ,
  JGE,
  JGT,
  JLE,
  JLT,
  JMP,
  JMP32,
  JNE,
  JSET,
  JSGE,
  JSGT,
  JSLE,
  JSLT,
  K,
  LD,
  LDX,
  LOAD_ACQ,
  LSH,
  MAX_INSNS,
  MAY_GOTO,
  MEM,
  MEMSX,
  MOD,
  MOV,
  MUL,
  NEG,
  opClass,
  OR,
  PSEUDO_BTF_ID,
  PSEUDO_CALL,
  PSEUDO_FUNC,
  PSEUDO_HELPER_CALL,
  PSEUDO_KFUNC_CALL,
  PSEUDO_MAP_FD,
  PSEUDO_MAP_IDX,
  PSEUDO_MAP_IDX_VALUE,
  PSEUDO_MAP_VALUE,
  RSH,
  ST,
  STORE_REL,
  STX,
  SUB,
  TO_BE,
  TO_LE,
  W,
  X,
  XCHG,
  XOR,
} from "./opcodes.ts";
export {
  FP,
  R0,
  R1,
  R10,
  R2,
  R3,
  R4,
  R5,
  R6,
  R7,
  R8,
  R9,
  Reg,
  regIndex,
  type RegNum,
  REGS,
} from "./regs.ts";
export {
  ATOMIC_RMW_OPS,
  decodeSemantics,
  LD_IMM64_KINDS,
  type Semantics,
  SIZE_BYTES,
} from "./semantics.ts";
export {
  describeInsn,
  type InsnDescription,
  insnError,
  type InsnKind,
  isValidInsn,
} from "./validate.ts";
export {
  type AluOp,
  type AtomicOp,
  type JmpOp,
  type MapRef,
  type Size,
  type Target,
} from "./fields.ts";
export {
  addrSpaceCast,
  alu32Imm,
  alu32Reg,
  alu64Imm,
  alu64Reg,
  be,
  bswap,
  le,
  mov32Imm,
  mov32Reg,
  mov64Imm,
  mov64Reg,
  movsx32,
  movsx64,
  neg32,
  neg64,
} from "./alu.ts";
export { atomicOp, ldxMem, ldxMemSx, loadAcquire, stMem, storeRelease, stxMem } from "./memory.ts";
export {
  ldAbs,
  ldBtfVar,
  ldFunc,
  ldImm64,
  ldInd,
  ldMapFd,
  ldMapIdx,
  ldMapIdxValue,
  ldMapValue,
} from "./ld_imm64.ts";
export {
  callHelper,
  callKfunc,
  callLocal,
  exit,
  gotol,
  ja,
  jmp32Imm,
  jmp32Reg,
  jmpImm,
  jmpReg,
  mayGoto,
  rawInsn,
} from "./jumps.ts";
export { Asm, InsnBuilder } from "./builder.ts";
export {
  disassemble,
  type DisassembledLine,
  disassembleInsn,
  disassembleLines,
  type DisassembleOptions,
  rawWord,
} from "./disasm.ts";
export { asm, assemble, type AssembleOptions } from "./asm.ts";
export { AsmError } from "./asm_error.ts";
export { ISA_FEATURES, type IsaFeature, isaFeatureOf, isaFeaturesOf } from "./isa.ts";
