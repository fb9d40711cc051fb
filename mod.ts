/**
 * tsbpf — eBPF for TypeScript on Deno and Bun, through the `bpf(2)` system call, with no native
 * addon.
 *
 * ```ts
 * import { Program, asm } from "@tsbpf/core";
 *
 * using prog = Program.load({
 *   type: "xdp",
 *   insns: asm`
 *     r0 = 2 # XDP_PASS
 *     exit`,
 *   license: "GPL",
 * });
 * console.log(prog.id, prog.tag, prog.testRun({ data: new Uint8Array(64) }).retval); // … 2
 * ```
 *
 * @module
 */

export * from "./types/cmd.ts";
export * from "./types/prog_type.ts";
export * from "./types/map_type.ts";
export * from "./types/attach_type.ts";
export * from "./types/link_type.ts";
export * from "./types/helpers.ts";
export * from "./types/flags.ts";
export * from "./types/errno.ts";
export * from "./lib/btf/mod.ts";
export { BpfError, ClosedError, meaningfulTail, VerifierError } from "./lib/errors.ts";
export { bpfObjectKind } from "./lib/fd.ts";
export {
  type FuncInfo,
  type LineInfo,
  Program,
  type ProgramLoadOptions,
  type TestRunOptions,
  type TestRunResult,
} from "./lib/program/program.ts";
export { validateObjectName } from "./lib/ids.ts";
export {
  type ProgramInfo,
  type ProgramInfoArrays,
  readProgramInfo,
  readProgramInfoArrays,
} from "./lib/program/info.ts";
export {
  type AttachTypeInput,
  type ProgTypeInput,
  progTypeLabel,
  resolveAttachType,
  resolveProgType,
} from "./lib/progtype/type_names.ts";
export { BPFFS_PATH, ensureBpffs } from "./lib/pin.ts";
export { UnsupportedPlatformError } from "./lib/sys/mod.ts";
export {
  type AluOp,
  Asm,
  asm,
  AsmError,
  assemble,
  type AssembleOptions,
  type AtomicOp,
  decodeInsns,
  describeInsn,
  disassemble,
  type DisassembledLine,
  disassembleInsn,
  disassembleLines,
  type DisassembleOptions,
  encodeInsns,
  FP,
  type Insn,
  INSN_SIZE,
  type InsnDescription,
  insnError,
  type InsnKind,
  isValidInsn,
  type JmpOp,
  type MapRef,
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
  type RegNum,
  type Size,
  type Target,
} from "./lib/insn/mod.ts";
export {
  type ArgType,
  type ExpectedAttach,
  type FuncProto,
  getProgType,
  type KernelConfig,
  type LoadContext,
  type ProgTypeDef,
  type ProgTypeOps,
  progTypes,
  type RegisterOptions,
  registerProgType,
  resetProgTypes,
  type RetType,
  type SectionPrefix,
  type TypeFlag,
  unregisterProgType,
} from "./lib/progtype/mod.ts";
export {
  type CheckOptions,
  checkProgram,
  type Finding,
  findingSnippet,
  GPL_COMPATIBLE_LICENSES,
  isGplCompatible,
  PreloadCheckError,
} from "./lib/check/mod.ts";
export { Capability, effectiveCapabilities, isBpfPrivileged } from "./lib/caps.ts";
export * from "./lib/map/mod.ts";
export * from "./lib/codec/mod.ts";
export * from "./lib/link/mod.ts";
export * from "./lib/ringbuf/mod.ts";
export {
  applyCoreRelocations,
  type BtfExt,
  type CoreRelo,
  type CoreReloInput,
  type CoreResult,
  ElfError,
  type ElfFile,
  type ElfRelocation,
  type ElfSection,
  type ElfSymbol,
  kernelBtf,
  type LoadedObject,
  loadObject,
  type LoadObjectOptions,
  type MapRelocation,
  type MapSpec,
  type NativeElf,
  type NativeSegment,
  type NativeSymbol,
  ObjectError,
  ObjectSpec,
  parseElf,
  parseNativeElf,
  type ProgramBtfExt,
  type ProgramSpec,
  programTypeOfSection,
  resolveCoreRelo,
  resolveSymbol,
  type SectionFuncInfo,
  type SectionLineInfo,
  type SectionProgramType,
  SymbolError,
  type SymbolLocation,
} from "./lib/elf/mod.ts";
