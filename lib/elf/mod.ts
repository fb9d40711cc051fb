/**
 * Loading clang-compiled BPF objects. Two layers: the pure object layer (`parseElf`,
 * `ObjectSpec.parse`, `parseBtfExt`, `fixupBtf`, `applyCoreRelocations`) decodes an object without
 * the kernel and runs in any JS runtime; `loadObject` creates its BTF, maps and programs and owns
 * their file descriptors.
 *
 * @example
 * ```ts
 * import { loadObject, ObjectSpec } from "@tsbpf/core/elf";
 * const bytes = Deno.readFileSync("prog.bpf.o");
 * console.log(ObjectSpec.parse(bytes).programs.map((p) => `${p.name} (${p.typeName})`));
 * using obj = loadObject(bytes);
 * ```
 *
 * @module
 */
export { ElfError, ObjectError } from "./error.ts";
export {
  type ElfFile,
  type ElfRelocation,
  type ElfSection,
  type ElfSymbol,
  EM_BPF,
  parseElf,
  SHF_ALLOC,
  SHF_EXECINSTR,
  SHF_WRITE,
  SHN,
  SHT,
  STB,
  STT,
} from "./elf.ts";
export {
  EM_AARCH64,
  EM_X86_64,
  type NativeElf,
  type NativeSegment,
  type NativeSymbol,
  parseNativeElf,
  PF,
  PT_LOAD,
  resolveSymbol,
  SymbolError,
  type SymbolLocation,
} from "./native.ts";
export {
  encodeUsdtSpec,
  NT_STAPSDT,
  parseUsdtArgs,
  parseUsdtNotes,
  USDT_MAX_ARGS,
  USDT_SPEC_SIZE,
  type UsdtArg,
  UsdtArgType,
  type UsdtNotes,
  type UsdtProbe,
  UsdtSpecError,
} from "./usdt.ts";
export {
  type BtfExt,
  type CoreRelo,
  parseBtfExt,
  type SectionFuncInfo,
  type SectionLineInfo,
} from "./btf_ext.ts";
export { programTypeOfSection, type SectionProgramType } from "./sections.ts";
export {
  type ExternRelocation,
  internalMapName,
  type MapRelocation,
  type MapSpec,
  ObjectSpec,
  type ParseOptions,
  type ProgramBtfExt,
  type ProgramSpec,
  type StructOpsSpec,
} from "./spec.ts";
export { collectExterns, type ExternSpec, kconfigSize } from "./externs.ts";
export { encodeVariable, type VariableValue } from "./variables.ts";
export { type KernelConfig, kernelVersionCode, parseKernelConfig } from "./kconfig.ts";
export { type AttachBtfTarget, attachBtfTarget } from "./attach_btf.ts";
export { fixupBtf } from "../btf/elf_fixup.ts";
export {
  applyCoreRelocations,
  CORE_POISON_IMM,
  CORE_RELO_KINDS,
  type CoreReloInput,
  type CoreResult,
  resolveCoreRelo,
} from "./core.ts";
export { kernelBtf, kernelModuleBtf, VMLINUX_BTF_PATH } from "./vmlinux.ts";
// The object layer (lib/object/): loading into the kernel and attaching.
export {
  type LoadedObject,
  loadObject,
  type LoadObjectOptions,
  type ObjectLinks,
  readKernelConfig,
} from "../object/mod.ts";
// Types the API above refers to (BTF, maps, programs and what they refer to), so that this entry
// point documents on its own. Types only: the values live in their own modules.
export type * from "../btf/mod.ts";
export type * from "../map/mod.ts";
export type * from "../codec/mod.ts";
export type { Insn } from "../insn/insn.ts";
export type { DisassembleOptions } from "../insn/disasm.ts";
export type { ProgTypeInput } from "../progtype/type_names.ts";
export type { ProgramInfo } from "../program/info.ts";
export type {
  FuncInfo,
  LineInfo,
  Program,
  ProgramLoadOptions,
  TestRunOptions,
  TestRunResult,
} from "../program/program.ts";
export type { SectionPrefix } from "../progtype/types.ts";
