/**
 * The pre-load checker: finds, in userspace and before any system call, what the kernel verifier
 * would refuse without running the program's state machine — invalid encodings, jumps out of
 * range, unreachable code, division by a constant zero, helpers the program type cannot call,
 * GPL-only helpers from non-GPL programs — with the instruction index and the kernel's own words.
 *
 * @example
 * ```ts
 * import { checkProgram, PreloadCheckError } from "@tsbpf/core/check";
 * const insns = [
 *   { code: 0xb7, dst: 0, src: 0, off: 0, imm: 1 },
 *   { code: 0x37, dst: 0, src: 0, off: 0, imm: 0 }, // r0 /= 0
 *   { code: 0x95, dst: 0, src: 0, off: 0, imm: 0 },
 * ];
 * const findings = checkProgram({ type: "socket_filter", insns, license: "GPL" });
 * findings.some((f) => f.severity === "error"); // true: r0 /= 0
 * new PreloadCheckError(findings, insns).message; // "…error [div-by-zero] at insn 1…"
 * ```
 * @module
 */
export { checkProgram, MAX_INSNS_PRIVILEGED, MAX_INSNS_UNPRIVILEGED } from "./check.ts";
export { findingSnippet, PreloadCheckError } from "./error.ts";
export { GPL_COMPATIBLE_LICENSES, isGplCompatible } from "./license.ts";
export { VALID_OPCODES } from "./opcodes.ts";
export type { CheckOptions, Finding, SourceLine } from "./types.ts";
export type { Insn } from "../insn/insn.ts";
export type { KernelConfig } from "../progtype/kconfig.ts";
