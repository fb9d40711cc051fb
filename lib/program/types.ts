/**
 * The option and result types of `Program`: what `Program.load` and `Program.testRun` take and
 * return. Kept apart from the class so that the pre-load check step (`check.ts`) can name them
 * without importing `program.ts`.
 *
 * @module
 */
import type { MapDescription } from "../verifier/maps.ts";
import type { SourceLine } from "../check/types.ts";
import type { Insn } from "../insn/insn.ts";
import type { AttachTypeInput, ProgTypeInput } from "../progtype/type_names.ts";
import type { KernelProfile } from "../profile/types.ts";

/** Options of {@link Program.load}. */
export interface ProgramLoadOptions {
  /** Program type: a number or a kernel name such as `"socket_filter"`, `"xdp"`, `"sched_cls"`. */
  type: ProgTypeInput;
  /** Instructions, or raw little-endian `bpf_insn` bytes as llvm emits them. */
  insns: readonly Insn[] | Uint8Array;
  /** License string, e.g. `"GPL"`; decides which helpers may be called. */
  license: string;
  /** Object name shown by introspection: up to 15 letters, digits, `_` or `.`. */
  name?: string;
  /**
   * Verifier log level (`1` normal, `2` verbose, `4` statistics; may be or-ed). When set, the log
   * is kept on success too, in {@link Program.verifierLog}.
   */
  logLevel?: number;
  /** Size of the first log buffer; it grows on `ENOSPC` up to the kernel's maximum. */
  logSize?: number;
  /** `expected_attach_type`: an `AttachType` number or name (`"cgroup_inet_ingress"`). */
  expectedAttachType?: AttachTypeInput;
  /** `attach_btf_id`: BTF id of the attach target (BTF tracepoints, iterators, struct_ops…). */
  attachBtfId?: number;
  /**
   * `attach_btf_obj_fd` / `attach_prog_fd`: the BTF object (a kernel module's) that
   * `attachBtfId` is in, or the program (freplace, fentry/fexit of a BPF function) whose BTF it is
   * in. Unset: vmlinux.
   */
  attachBtfObjFd?: number;
  /**
   * `fd_array`: file descriptors the instructions refer to by index. A kfunc call
   * (`BPF_PSEUDO_KFUNC_CALL`) whose `off` is not 0 takes its function from the BTF object at
   * `fdArray[off]`: a kernel module's BTF (index 0 is never read for kfuncs). The array is only
   * read during the load; the fds stay the caller's.
   */
  fdArray?: readonly number[];
  /** `kern_version` (only kprobes on old kernels check it). */
  kernVersion?: number;
  /** `prog_flags` (`BPF_F_*`). */
  flags?: number;
  /** `prog_ifindex`, for device-bound programs. */
  ifindex?: number;
  /**
   * A `BpfToken` (or its fd holder): load under the rights a delegating BPF filesystem grants in
   * a user namespace (`prog_token_fd`, `BPF_F_TOKEN_FD`; Linux 6.9+).
   */
  token?: { readonly fd: number };
  /** BTF object fd with the program's func and line info. */
  btfFd?: number;
  /**
   * `bpf_func_info` records (instruction index → BTF `FUNC` type id) of the program's functions,
   * in the BTF of `btfFd`.
   */
  funcInfo?: readonly FuncInfo[];
  /**
   * `bpf_line_info` records mapping instructions to source lines in the BTF of `btfFd`, so that
   * verifier logs show the C source.
   */
  lineInfo?: readonly LineInfo[];
  /**
   * Attach target name (a BTF function, tracepoint or struct_ops member) for the pre-load
   * checker, where the helpers a program may call depend on it.
   */
  attachTo?: string;
  /**
   * Whether to run the pre-load checker (`checkProgram`) before the kernel sees the program.
   * Default `true`.
   */
  check?: boolean;
  /**
   * The kernel the pre-load checker checks against. Default: the live profile of the running
   * kernel (`liveProfile()`), so the checker's helper verdicts are this kernel's.
   */
  profile?: KernelProfile;
  /**
   * `"deep"` also runs the deep checker (`lib/verifier/`: register and stack state, NULL checks,
   * packet and map bounds, references, helper arguments) before the kernel sees the program. Off
   * (`"basic"`) by default.
   */
  checkDepth?: "basic" | "deep";
  /** The maps the program references, by fd, for the deep checker (`BpfMap#describe()`). */
  maps?: Readonly<Record<number, MapDescription>>;
  /**
   * Source positions of the instructions (an object's BTF line info, strings resolved), so that
   * pre-load findings name their C line.
   */
  sourceLines?: readonly SourceLine[];
}

/** One `struct bpf_func_info`: where a function starts and its BTF `FUNC` type. */
export interface FuncInfo {
  /** Instruction index of the function's first instruction. */
  insn: number;
  /** BTF type id of its `FUNC`. */
  typeId: number;
}

/** One `struct bpf_line_info`: the source position of an instruction. */
export interface LineInfo {
  /** Instruction index. */
  insn: number;
  /** Offset of the file name in the BTF string section. */
  fileNameOff: number;
  /** Offset of the source line's text in the BTF string section. */
  lineOff: number;
  /** Line number (up to 2^22 − 1). */
  line: number;
  /** Column (up to 1023). */
  column: number;
}

/** Options of {@link Program.testRun}. */
export interface TestRunOptions {
  /** Packet or input data (`data_in`). */
  data?: Uint8Array;
  /** Size of the `data_out` buffer; default the input size plus 512 bytes when `data` is set. */
  dataOutSize?: number;
  /** Context (`ctx_in`), e.g. a `struct __sk_buff` or `struct xdp_md`. */
  ctx?: Uint8Array;
  /** Size of the `ctx_out` buffer; default the size of `ctx`. */
  ctxOutSize?: number;
  /** How many times to run (the kernel reports the mean duration). */
  repeat?: number;
  /** `BPF_F_TEST_*` flags. */
  flags?: number;
  /** CPU to run on, with `BPF_F_TEST_RUN_ON_CPU`. */
  cpu?: number;
  /** `batch_size` for XDP live frames. */
  batchSize?: number;
}

/** What {@link Program.testRun} reports. */
export interface TestRunResult {
  /** The program's return value (the low 32 bits of r0). */
  retval: number;
  /** Mean run time in nanoseconds, as measured by the kernel. */
  duration: number;
  /** Output data, when `data` was given. */
  dataOut?: Uint8Array;
  /** Output context, when `ctx` was given. */
  ctxOut?: Uint8Array;
}
