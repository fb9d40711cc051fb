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

export { BpfCmd } from "./types/cmd.ts";
export { ProgType, progTypeName } from "./types/prog_type.ts";
export { MapType, mapTypeName } from "./types/map_type.ts";
export { AttachType, attachTypeName } from "./types/attach_type.ts";
export { LinkType, linkTypeName } from "./types/link_type.ts";
export { HelperId, helperName } from "./types/helpers.ts";
export {
  AttachFlag,
  BPF_OBJ_NAME_LEN,
  BPF_TAG_SIZE,
  ElemFlag,
  KprobeMultiFlag,
  LogLevel,
  MapFlag,
  NetfilterFlag,
  ProgLoadFlag,
  QueryFlag,
  StatsType,
  TestRunFlag,
  UprobeMultiFlag,
} from "./types/flags.ts";
export { Errno, errnoName } from "./types/errno.ts";
export {
  Btf,
  BTF_LIMITS,
  type BtfArray,
  type BtfConst,
  type BtfDatasec,
  type BtfDeclTag,
  type BtfEnum,
  type BtfEnum64,
  type BtfEnum64Value,
  type BtfEnumValue,
  BtfError,
  type BtfField,
  type BtfFloat,
  type BtfFunc,
  type BtfFuncProto,
  type BtfFwd,
  type BtfHeader,
  type BtfInt,
  type BtfKindName,
  type BtfMember,
  type BtfParam,
  type BtfPtr,
  type BtfRestrict,
  type BtfStruct,
  type BtfType,
  type BtfTypeBase,
  type BtfTypedef,
  type BtfTypeOf,
  type BtfTypeTag,
  type BtfUnion,
  type BtfVar,
  type BtfVarSecinfo,
  type BtfVoid,
  type BtfVolatile,
  type ParseBtfOptions,
} from "./lib/btf/mod.ts";
export {
  ArgumentError,
  BpfError,
  ClosedError,
  isResourceErrno,
  meaningfulTail,
  ResourceError,
  VerifierError,
} from "./lib/errors.ts";
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
  disassemble,
  type DisassembledLine,
  type DisassembleOptions,
  type Insn,
  type InsnDescription,
  type InsnKind,
  type JmpOp,
  type MapRef,
  type RegNum,
  type Size,
  type Target,
} from "./lib/insn/mod.ts";
export {
  type ArgType,
  type ExpectedAttach,
  type FuncProto,
  type KernelConfig,
  type LoadContext,
  type ProgTypeDef,
  type ProgTypeOps,
  type RegisterOptions,
  registerProgType,
  type RetType,
  type SectionPrefix,
  type TypeFlag,
} from "./lib/progtype/mod.ts";
export {
  type CheckOptions,
  checkProgram,
  type Finding,
  PreloadCheckError,
} from "./lib/check/mod.ts";
export { Capability, effectiveCapabilities, isBpfPrivileged } from "./lib/caps.ts";
export {
  type BatchOptions,
  BatchReader,
  type BatchSource,
  BpfMap,
  BtfBuilder,
  type BtfMemberSpec,
  type EntryDecoder,
  type FdHandle,
  type IterateOptions,
  loadBtf,
  type MapBtf,
  type MapBtfRef,
  MapClosedError,
  type MapCodecs,
  type MapCreateOptions,
  type MapInfo,
  type MapIteration,
  type MapKeyKind,
  type MapOp,
  MapOpNotSupportedError,
  type MapTypeInfo,
  type MapTypeInput,
  type MapValue,
  type MapValueKind,
  type PerCpuMapType,
  readMapInfo,
  type Refusal,
  TypedBatchReader,
} from "./lib/map/mod.ts";
export {
  array,
  bool,
  type BtfShape,
  bytes,
  type Codec,
  CodecError,
  codecFromBtf,
  type CodecValue,
  cstring,
  describeValue,
  f32,
  f64,
  fd32,
  fd64,
  type FdLike,
  type FieldAt,
  freshBytes,
  i16,
  i32,
  i64,
  i8,
  isPadding,
  type LpmKey,
  lpmKey,
  pad,
  spinLock,
  struct,
  type StructCodec,
  type StructFieldInfo,
  type StructFields,
  type StructFieldValue,
  type StructHiddenKeys,
  type StructOptions,
  type StructValue,
  u16,
  u32,
  u64,
  u8,
} from "./lib/codec/mod.ts";
export {
  type AttachableProgram,
  attachBtfTracepoint,
  attachCgroup,
  type AttachedPrograms,
  AttachError,
  attachIter,
  attachRawTracepoint,
  attachSocketFilter,
  attachTcx,
  attachTracepoint,
  attachUprobe,
  attachXdp,
  IterLink,
  IterReader,
  Link,
  type LinkInfo,
  queryAttached,
  readIter,
  SocketFilterAttachment,
  type TcxDirection,
  type UprobeTarget,
  type XdpMode,
  type XdpOptions,
} from "./lib/link/mod.ts";
export {
  type ConsumeOptions,
  type RawRecordCallback,
  type RecordCallback,
  RingBuffer,
  RingBufferClosedError,
  type RingBufferOptions,
  type RingBufferSource,
  UserRingBuffer,
} from "./lib/ringbuf/mod.ts";
export {
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
  kernelModuleBtf,
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
  type ProgramBtfExt,
  type ProgramSpec,
  type SectionFuncInfo,
  type SectionLineInfo,
  type SectionProgramType,
  SymbolError,
  type SymbolLocation,
} from "./lib/elf/mod.ts";
