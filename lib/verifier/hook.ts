/**
 * The bridge from `checkProgram(…, depth: "deep")` to the deep checker.
 *
 * @module
 */
import { decodeInsns, type Insn } from "../insn/insn.ts";
import type { LoadContext, ProgTypeDef } from "../progtype/types.ts";
import { deepCheck, type DeepFinding } from "./interp.ts";
import type { MapDescription } from "./maps.ts";

/**
 * Runs the deep checker for `checkProgram`, returning its findings in the checker's shape.
 *
 * @example
 * ```ts ignore
 * runDeepCheck(def, insns, ctx, maps);
 * ```
 */
export function runDeepCheck(
  def: ProgTypeDef,
  insns: readonly Insn[] | Uint8Array,
  ctx: LoadContext,
  maps: Readonly<Record<number, MapDescription>> | undefined,
): DeepFinding[] {
  const list = insns instanceof Uint8Array ? decodeInsns(insns) : insns;
  return deepCheck({ def, insns: list, loadContext: ctx, ...(maps ? { maps } : {}) }).findings;
}
