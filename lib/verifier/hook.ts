/**
 * The bridge from `checkProgram(…, depth: "deep")` to the deep checker.
 *
 * @module
 */
import { decodeInsns, type Insn } from "../insn/insn.ts";
import type { LoadContext, ProgTypeDef } from "../progtype/types.ts";
import { deepCheck, type DeepCheckResult, type DeepFinding } from "./interp.ts";
import type { MapDescription } from "./maps.ts";

/**
 * Runs the deep checker for `checkProgram`. `stops` are the structural checker's `do_check()`-time
 * findings by instruction: they stand only where a path reaches them.
 *
 * @example
 * ```ts
 * import { getProgType } from "../progtype/registry.ts";
 * import { runDeepCheck } from "./hook.ts";
 * const r = runDeepCheck(
 *   getProgType("socket_filter")!,
 *   [{ code: 0x95, dst: 0, src: 0, off: 0, imm: 0 }], // exit with r0 unset
 *   { license: "GPL", gplCompatible: true, privileged: true },
 *   undefined,
 *   new Map(),
 * );
 * r.findings[0].message; // "R0 !read_ok"
 * ```
 */
export function runDeepCheck(
  def: ProgTypeDef,
  insns: readonly Insn[] | Uint8Array,
  ctx: LoadContext,
  maps: Readonly<Record<number, MapDescription>> | undefined,
  stops: ReadonlyMap<number, DeepFinding>,
): DeepCheckResult {
  const list = insns instanceof Uint8Array ? decodeInsns(insns) : insns;
  return deepCheck({
    def,
    insns: list,
    loadContext: ctx,
    ...(maps ? { maps } : {}),
    ...(stops.size > 0 ? { stops } : {}),
  });
}

/**
 * Instructions reachable in the control-flow graph from any of `from` (`-1`: all), following
 * jumps, fall-through and calls, for deciding whether unvisited code might be live in the kernel.
 *
 * @example
 * ```ts
 * import { reachableFrom } from "./hook.ts";
 * const insns = [
 *   { code: 0x05, dst: 0, src: 0, off: 1, imm: 0 }, // goto +1
 *   { code: 0xb7, dst: 0, src: 0, off: 0, imm: 1 }, // r0 = 1 (dead)
 *   { code: 0x95, dst: 0, src: 0, off: 0, imm: 0 }, // exit
 * ];
 * [...reachableFrom(insns, [0])]; // [1, 0, 1]
 * ```
 */
export function reachableFrom(
  insns: readonly Insn[] | Uint8Array,
  from: readonly number[],
): Uint8Array {
  const list = insns instanceof Uint8Array ? decodeInsns(insns) : insns;
  const n = list.length;
  const seen = new Uint8Array(n);
  if (from.includes(-1)) return seen.fill(1);
  const work = from.filter((i) => i >= 0 && i < n);
  while (work.length > 0) {
    const i = work.pop()!;
    if (i < 0 || i >= n || seen[i]) continue;
    seen[i] = 1;
    const x = list[i];
    const cls = x.code & 7;
    if (x.code === 0x18) {
      if (x.src === 4) work.push(i + 1 + x.imm);
      work.push(i + 2);
      continue;
    }
    if (cls !== 5 && cls !== 6) {
      work.push(i + 1);
      continue;
    }
    const op = x.code & 0xf0;
    if (op === 0x90) continue; // exit
    if (op === 0x80) { // call
      if (x.src === 1) work.push(i + 1 + x.imm);
      work.push(i + 1);
      continue;
    }
    if (op === 0x00) { // ja
      work.push(i + 1 + (cls === 6 ? x.imm : x.off));
      continue;
    }
    work.push(i + 1, i + 1 + x.off);
  }
  return seen;
}
