/**
 * The checker's input and output.
 *
 * @module
 */
import type { Insn } from "../insn/insn.ts";
import type { KernelConfig } from "../progtype/kconfig.ts";
import type { KernelProfile } from "../profile/types.ts";
import type { MapDescription } from "../verifier/maps.ts";

/**
 * One problem found in a program before load.
 *
 * @example
 * ```ts
 * import type { Finding } from "@tsbpf/core/check";
 * const f: Finding = { index: 3, code: "div-by-zero", message: "div by zero", severity: "error" };
 * ```
 */
export interface Finding {
  /** Instruction (slot) index; `-1` for findings about the program as a whole. */
  index: number;
  /** Stable machine-readable code, e.g. `"helper-unavailable"`, `"invalid-shift"`. */
  code: string;
  /** What is wrong, in the kernel verifier's words where it has some. */
  message: string;
  /** `"error"`: the kernel would refuse the program; `"warning"`: it may load but is suspect. */
  severity: "error" | "warning";
  /** Deep findings: what is wrong, in plain words. */
  explanation?: string;
  /** Deep findings: the abstract state of the registers involved (`{ R0: "map_value_or_null(…)" }`). */
  registers?: Record<string, string>;
  /** The C source line of the instruction, when the check was given BTF line info. */
  source?: SourceLine;
}

/**
 * The source position of an instruction (a `bpf_line_info` record with its strings resolved), as
 * an object's `.BTF.ext` gives it.
 *
 * @example
 * ```ts
 * import type { SourceLine } from "@tsbpf/core/check";
 * const l: SourceLine = { insn: 4, file: "prog.bpf.c", line: 12, column: 9, text: "return *v;" };
 * ```
 */
export interface SourceLine {
  /** First instruction the line covers (until the next record). */
  insn: number;
  /** Source file name. */
  file: string;
  /** Line number. */
  line: number;
  /** Column. */
  column: number;
  /** The line's text, when the object carries it. */
  text: string;
}

/**
 * What {@link checkProgram} checks.
 *
 * @example
 * ```ts
 * import type { CheckOptions } from "@tsbpf/core/check";
 * const o: CheckOptions = { type: "xdp", insns: [], license: "GPL" };
 * ```
 */
export interface CheckOptions {
  /** Program type: number or name (`"socket_filter"`), looked up in the program-type registry. */
  type: number | string;
  /** Instructions, or little-endian `bpf_insn` bytes. */
  insns: readonly Insn[] | Uint8Array;
  /** License string, as given to the kernel. */
  license: string;
  /** `expected_attach_type`. */
  expectedAttachType?: number;
  /** Whether the loader has `CAP_BPF` and `CAP_PERFMON` (root does). Default `true`. */
  privileged?: boolean;
  /** Finer-grained capabilities, overriding `privileged` for each one given (see `LoadContext`). */
  capabilities?: { bpf?: boolean; perfmon?: boolean; sysAdmin?: boolean };
  /** `prog_flags` (`BPF_F_SLEEPABLE` = 16 matters here). */
  flags?: number;
  /** Attach target name, for types whose helpers depend on it (see `LoadContext.attachTo`). */
  attachTo?: string;
  /** Kernel configuration to assume (default: everything on). */
  kernelConfig?: KernelConfig;
  /**
   * The kernel to check against: which helpers each program type may call at the loader's
   * capability tier come from it (`Program.load` passes the live profile of the running kernel;
   * a static profile answers "would this load on that kernel?"). Where it answers `unknown`, and
   * without a profile, the registry's upstream tables decide.
   */
  profile?: KernelProfile;
  /**
   * `"deep"` also runs the abstract interpreter of `lib/verifier/` (register and stack state,
   * NULL checks, packet and map bounds, references, helper arguments, context access). Default
   * `"basic"`.
   */
  depth?: "basic" | "deep";
  /** Maps by the fd number in `ld_imm64` map references, for the deep checker. */
  maps?: Readonly<Record<number, MapDescription>>;
  /** Source positions of the instructions (BTF line info): findings then name their C line. */
  lines?: readonly SourceLine[];
}
