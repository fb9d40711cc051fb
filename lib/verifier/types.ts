/**
 * The deep checker's public shapes: its options, its findings and its result.
 *
 * @module
 */
import type { Insn } from "../insn/insn.ts";
import type { LoadContext, ProgTypeDef } from "../progtype/types.ts";
import type { MapDescription } from "./maps.ts";

/**
 * One finding of the deep checker.
 *
 * @example
 * ```ts
 * import type { DeepFinding } from "@tsbpf/core/verifier";
 * const f: DeepFinding = {
 *   index: 4, code: "null-deref", message: "R0 invalid mem access 'map_value_or_null'",
 *   severity: "error", explanation: "…", registers: { R0: "map_value_or_null(id=1)" },
 * };
 * ```
 */
export interface DeepFinding {
  /** Instruction index (`-1`: the program as a whole). */
  index: number;
  /** Stable code, e.g. `"null-deref"`, `"pkt-bounds"`, `"uninit-reg"`. */
  code: string;
  /** The kernel verifier's message. */
  message: string;
  /** `"error"`: the kernel refuses the program; `"warning"`: the checker could not tell. */
  severity: "error" | "warning";
  /** What is wrong, in plain words. */
  explanation: string;
  /** The abstract state of the registers involved, as the kernel would print it. */
  registers: Record<string, string>;
}

/**
 * What {@link deepCheck} checks.
 *
 * @example
 * ```ts
 * import type { DeepCheckOptions } from "@tsbpf/core/verifier";
 * const o: DeepCheckOptions = { def: undefined as never, insns: [], loadContext: { license: "GPL", gplCompatible: true, privileged: true } };
 * ```
 */
export interface DeepCheckOptions {
  /** The program type's definition (from the registry). */
  def: ProgTypeDef;
  /** The program. */
  insns: readonly Insn[];
  /** License, capabilities and attach type, as the helper prototypes see them. */
  loadContext: LoadContext;
  /** Maps by the fd number in `ld_imm64` map references. */
  maps?: Readonly<Record<number, MapDescription>>;
  /** The most instructions to interpret before giving up (default 250,000). */
  budget?: number;
  /** Keep the steps of each path, to explain the finding (slower). */
  trace?: boolean;
  /**
   * Findings of the structural checker that the kernel reports only when its walk reaches the
   * instruction (`do_check()` time: reserved fields, the frame pointer, helper availability…):
   * the interpreter reports one when a path reaches its index, and says which it never reached.
   */
  stops?: ReadonlyMap<number, DeepFinding>;
}

/**
 * What {@link deepCheck} found.
 *
 * @example
 * ```ts
 * import type { DeepCheckResult } from "@tsbpf/core/verifier";
 * const r: DeepCheckResult = {
 *   findings: [], complete: true, processed: 3, notes: [], visited: new Uint8Array(3), abandoned: [],
 * };
 * ```
 */
export interface DeepCheckResult {
  /** Findings: at most one error (the first the kernel would report), plus warnings. */
  findings: DeepFinding[];
  /** Every path was followed to its end (nothing abandoned as unmodelled). */
  complete: boolean;
  /** Instructions interpreted. */
  processed: number;
  /** Why paths were abandoned (first few), for curiosity and debugging. */
  notes: string[];
  /** In trace mode: the steps of the path that led to the error. */
  trace?: string[];
  /** Per instruction: 1 when a path reached it. */
  visited: Uint8Array;
  /**
   * Where paths were abandoned (instruction indexes; `-1`: anywhere, e.g. inside a subprogram or
   * when the budget ran out). Code reachable from these may be live in the kernel.
   */
  abandoned: number[];
}
