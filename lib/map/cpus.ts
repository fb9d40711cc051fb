/**
 * Possible CPUs: per-CPU map values hold one slot per possible CPU.
 *
 * @module
 */
import { readFileText } from "../host_fs.ts";
import { ArgumentError } from "../errors.ts";

/** Where the kernel lists the possible CPUs, e.g. `0-3` or `0,2-5`. */
const POSSIBLE = "/sys/devices/system/cpu/possible";

let cached: number | undefined;

/**
 * Parses a kernel CPU list (`"0-3,8"`) into the number of CPUs it names.
 *
 * @throws {ArgumentError} on text that is not a CPU list.
 * @example
 * ```ts
 * import { parseCpuList } from "@tsbpf/core/map";
 * parseCpuList("0-3,8\n"); // 5
 * ```
 */
export function parseCpuList(text: string): number {
  let count = 0;
  const trimmed = text.trim();
  if (trimmed === "") throw new ArgumentError("empty", "empty CPU list");
  for (const part of trimmed.split(",")) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part);
    if (m === null) {
      throw new ArgumentError("text", `"${part}" in CPU list "${trimmed}" is not N or N-M`);
    }
    const lo = Number(m[1]);
    const hi = m[2] === undefined ? lo : Number(m[2]);
    if (hi < lo) {
      throw new ArgumentError("text", `range "${part}" in CPU list "${trimmed}" is reversed`);
    }
    count += hi - lo + 1;
  }
  return count;
}

/**
 * Number of possible CPUs (from `/sys/devices/system/cpu/possible`, read once): the number of
 * values a per-CPU map holds per key.
 *
 * @example
 * ```ts
 * import { possibleCpus } from "@tsbpf/core/map";
 * console.log(possibleCpus()); // e.g. 2
 * ```
 */
export function possibleCpus(): number {
  return cached ??= parseCpuList(readFileText(POSSIBLE));
}
