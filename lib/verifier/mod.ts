/**
 * The deep checker: an abstract interpreter that predicts the kernel verifier's verdict before
 * load, in pure TypeScript (no system calls, any runtime). It follows the kernel's model of
 * register and stack state path by path, and never refuses what the kernel would accept: where it
 * cannot be sure, it says nothing.
 *
 * @example
 * ```ts
 * import { checkProgram } from "@tsbpf/core/check";
 * import { assemble } from "@tsbpf/core/insn";
 * const findings = checkProgram({
 *   type: "xdp",
 *   license: "GPL",
 *   depth: "deep",
 *   maps: { 3: { type: "hash", keySize: 4, valueSize: 8, maxEntries: 16 } },
 *   insns: assemble(`
 *     *(u32 *)(r10 - 4) = 0
 *     r1 = map[fd:3] ll
 *     r2 = r10
 *     r2 += -4
 *     call bpf_map_lookup_elem
 *     r0 = *(u64 *)(r0 + 0)
 *     exit`),
 * });
 * findings[0].message; // "R0 invalid mem access 'map_value_or_null'"
 * ```
 * @module
 */
export { deepCheck } from "./interp.ts";
export type { DeepCheckOptions, DeepCheckResult, DeepFinding } from "./interp.ts";
export { type MapDescription, type ResolvedMap, resolveMapDescription } from "./maps.ts";
export { alu32, alu64, constScalar, type Scalar, sync, unknownScalar } from "./scalar.ts";
