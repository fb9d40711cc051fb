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

export * from "./types/mod.ts";
export * from "./lib/btf/mod.ts";
export { Attr } from "./lib/attr.ts";
export { BpfError, meaningfulTail, VerifierError } from "./lib/errors.ts";
export { FdHandle } from "./lib/fd.ts";
export {
  Program,
  type ProgramLoadOptions,
  type TestRunOptions,
  type TestRunResult,
  validateObjectName,
} from "./lib/program.ts";
export {
  type ProgramInfo,
  type ProgramInfoArrays,
  readProgramInfo,
  readProgramInfoArrays,
} from "./lib/program_info.ts";
export { type ProgTypeInput, progTypeLabel, resolveProgType } from "./lib/program_types.ts";
export { BPFFS_PATH, ensureBpffs, openPinned, pinFd, unpinPath } from "./lib/pin.ts";
export {
  alloc,
  cString,
  pinnedCopy,
  readCString,
  retain,
  type Sys,
  sys,
  SYSCALL_NUMBERS,
  type SyscallNumbers,
  UnsupportedPlatformError,
} from "./lib/sys/mod.ts";
export { decodeInsns, encodeInsns, type Insn, INSN_SIZE } from "./lib/insn/insn.ts";
