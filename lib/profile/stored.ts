/**
 * Answers as they are stored: the per-boot cache of the live profile and the static profiles of
 * named kernels hold the same entries under the same keys, and answer from them the same way.
 * Pure.
 *
 * Keys: `prog:<type>`, `map:<type>`, `attach:<type>`, `link:<type>`, `insn:<feature>`,
 * `feature:<feature>`, `kfunc:<name>` hold an {@link Answer}; `helpers:<type>:<eat>:<attachTo>:
 * <sleepable>:<tier>` holds a helper set (or the answer why there is none).
 *
 * @module
 */
import { HELPER_NAMES } from "../../types/helpers.ts";
import { progTypeName } from "../../types/prog_type.ts";
import { type Answer, type CapTier, no, type ProgVariant, unknown, yes } from "./types.ts";

/**
 * A probed helper set: the ids offered (ascending), and the first id the kernel does not know.
 *
 * @example
 * ```ts
 * import type { HelperSet } from "./stored.ts";
 * const h: HelperSet = { s: "ok", a: [1, 2, 3], n: 212 };
 * ```
 */
export interface HelperSet {
  s: "ok";
  /** Offered helper ids, ascending. */
  a: number[];
  /** The first id answered `invalid func`. */
  n: number;
  /** How the kernel words a helper the type does not offer, where not "program of this type
   * cannot use helper" (kernels before 5.19: "unknown func"). */
  w?: "unknown func";
}

/**
 * Whether `x` is a stored {@link Answer}.
 *
 * @example
 * ```ts
 * import { isAnswer } from "./stored.ts";
 * isAnswer({ state: "yes" }); // true
 * ```
 */
export function isAnswer(x: unknown): x is Answer {
  if (x === null || typeof x !== "object") return false;
  const a = x as Record<string, unknown>;
  if (a.state === "yes") return true;
  if (a.state === "unknown") return typeof a.reason === "string";
  return a.state === "no" && (a.why === "absent" || a.why === "refused") &&
    typeof a.reason === "string";
}

/**
 * Whether `x` is a stored {@link HelperSet}.
 *
 * @example
 * ```ts
 * import { isHelperSet } from "./stored.ts";
 * isHelperSet({ s: "ok", a: [1], n: 212 }); // true
 * ```
 */
export function isHelperSet(x: unknown): x is HelperSet {
  if (x === null || typeof x !== "object") return false;
  const h = x as Record<string, unknown>;
  return h.s === "ok" && Array.isArray(h.a) && h.a.every((i) => Number.isInteger(i)) &&
    Number.isInteger(h.n);
}

/**
 * The key of the helper set of `variant` at `tier`.
 *
 * @example
 * ```ts
 * import { helperSetKey } from "./stored.ts";
 * helperSetKey({ type: 6 }, "admin"); // "helpers:6:0::0:admin"
 * ```
 */
export function helperSetKey(variant: ProgVariant, tier: CapTier): string {
  return `helpers:${variant.type}:${variant.expectedAttachType ?? 0}:${variant.attachTo ?? ""}:${
    variant.sleepable ? 1 : 0
  }:${tier}`;
}

/**
 * A short label of a variant for messages: `xdp`, `cgroup_sock_addr/10`, `lsm/27/file_open`.
 *
 * @example
 * ```ts
 * import { variantLabel } from "./stored.ts";
 * variantLabel({ type: 6 }); // "xdp"
 * ```
 */
export function variantLabel(v: ProgVariant): string {
  return `${progTypeName(v.type) ?? v.type}` +
    (v.expectedAttachType ? `/${v.expectedAttachType}` : "") +
    (v.attachTo ? `/${v.attachTo}` : "") + (v.sleepable ? " (sleepable)" : "");
}

function binaryHas(a: readonly number[], x: number): boolean {
  let lo = 0, hi = a.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    if (a[mid] === x) return true;
    if (a[mid] < x) lo = mid + 1;
    else hi = mid - 1;
  }
  return false;
}

/**
 * Whether a variant may call helper `id`, from its stored helper set (or the answer why there
 * is none).
 *
 * @example
 * ```ts
 * import { helperFromSet } from "./stored.ts";
 * helperFromSet({ s: "ok", a: [1], n: 212 }, { type: 1 }, 1, "admin").state; // "yes"
 * ```
 */
export function helperFromSet(
  set: HelperSet | Answer,
  variant: ProgVariant,
  id: number,
  tier: CapTier,
): Answer {
  if (!isHelperSet(set)) {
    if (set.state === "no" && set.why === "absent") return set;
    return unknown(
      `cannot ask the kernel about the helpers of ${variantLabel(variant)} at tier ${tier}: ${
        set.state === "yes" ? "" : set.reason
      }`,
    );
  }
  if (id < 0 || id >= set.n) {
    return no("absent", `invalid func unknown#${id}: this kernel has no helper ${id}`);
  }
  if (binaryHas(set.a, id)) return yes();
  const name = `bpf_${HELPER_NAMES[id] ?? "unknown"}#${id}`;
  return no(
    "absent",
    (set.w === "unknown func"
      ? `unknown func ${name}`
      : `program of this type cannot use helper ${name}`) +
      ` (${variantLabel(variant)}, tier ${tier}, as this kernel answers)`,
  );
}

/**
 * Whether the kernel knows helper `id`, from the socket-filter helper set at tier `admin`.
 *
 * @example
 * ```ts
 * import { helperKnownFromSet } from "./stored.ts";
 * helperKnownFromSet({ s: "ok", a: [1], n: 212 }, 300).state; // "no"
 * ```
 */
export function helperKnownFromSet(set: HelperSet | Answer, id: number): Answer {
  if (!isHelperSet(set)) {
    return unknown(
      `cannot ask the kernel which helpers exist: ${set.state === "yes" ? "" : set.reason}`,
    );
  }
  return id >= 0 && id < set.n
    ? yes()
    : no("absent", `invalid func unknown#${id}: this kernel's helper ids end at ${set.n - 1}`);
}

/**
 * Helper ids as compact text: ascending ids as ranges (`"1-9,12,14-20"`).
 *
 * @example
 * ```ts
 * import { encodeIds } from "./stored.ts";
 * encodeIds([1, 2, 3, 5]); // "1-3,5"
 * ```
 */
export function encodeIds(ids: readonly number[]): string {
  const out: string[] = [];
  for (let i = 0; i < ids.length;) {
    let j = i;
    while (j + 1 < ids.length && ids[j + 1] === ids[j] + 1) j++;
    out.push(j === i ? `${ids[i]}` : `${ids[i]}-${ids[j]}`);
    i = j + 1;
  }
  return out.join(",");
}

/**
 * The ids of {@link encodeIds} text.
 *
 * @example
 * ```ts
 * import { decodeIds } from "./stored.ts";
 * decodeIds("1-3,5"); // [1, 2, 3, 5]
 * ```
 */
export function decodeIds(text: string): number[] {
  const out: number[] = [];
  if (text === "") return out;
  for (const part of text.split(",")) {
    const [a, b] = part.split("-").map(Number);
    if (!Number.isInteger(a) || (b !== undefined && !(Number.isInteger(b) && b >= a))) {
      throw new RangeError(`bad helper id range "${part}"`);
    }
    for (let i = a; i <= (b ?? a); i++) out.push(i);
  }
  return out;
}
