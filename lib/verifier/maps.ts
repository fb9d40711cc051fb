/**
 * Maps described as data, so that a program can be checked without the kernel: what the verifier
 * knows of a map from its fd (`bpf_map` type, key and value sizes, flags, inner map).
 *
 * @module
 */
import { mapTypeByName } from "../../types/map_type.ts";

/**
 * A map as the verifier sees it, keyed in {@link DeepCheckOptions.maps} by the fd number that
 * `ld_imm64` map references carry.
 *
 * @example
 * ```ts
 * import type { MapDescription } from "@tsbpf/core/verifier";
 * const m: MapDescription = { type: "hash", keySize: 4, valueSize: 8, maxEntries: 16 };
 * ```
 */
export interface MapDescription {
  /** Map type: a number (`MapType`) or a name (`"hash"`, `"array"`, `"ringbuf"`). */
  type: number | string;
  /** Key size in bytes. */
  keySize: number;
  /** Value size in bytes. */
  valueSize: number;
  /** Maximum number of entries. */
  maxEntries: number;
  /** `map_flags`. */
  flags?: number;
  /** For map-in-map types: the inner map. */
  innerMap?: MapDescription;
  /** BTF of the map (key/value type ids), when it has some; maps with BTF are not fully modelled. */
  btf?: { keyTypeId?: number; valueTypeId?: number };
  /**
   * Offset of the value's `struct bpf_spin_lock`, when it has one (such maps have BTF). Giving it
   * says the value has no other special fields (timers, kptrs…): describe maps that have some with
   * `btf` alone, and the checker leaves their values to the kernel.
   */
  spinLock?: number;
  /** The map's name, for messages. */
  name?: string;
}

/**
 * A map description with its type resolved to a number.
 *
 * @example
 * ```ts
 * import type { ResolvedMap } from "@tsbpf/core/verifier";
 * const m: ResolvedMap = {
 *   type: 1, keySize: 4, valueSize: 8, maxEntries: 1, flags: 0, hasBtf: false, spinLock: -1,
 *   name: "",
 * };
 * ```
 */
export interface ResolvedMap {
  /** Map type number. */
  type: number;
  /** Key size in bytes. */
  keySize: number;
  /** Value size in bytes. */
  valueSize: number;
  /** Maximum number of entries. */
  maxEntries: number;
  /** `map_flags`. */
  flags: number;
  /** Inner map of a map-in-map. */
  inner?: ResolvedMap;
  /** Described with BTF. */
  hasBtf: boolean;
  /** Offset of the value's `struct bpf_spin_lock`; `-1`: none. */
  spinLock: number;
  /** The map's name (`""` when not given). */
  name: string;
}

/**
 * Resolves a description's type name; `undefined` when the name is unknown or a size is not a
 * non-negative integer.
 *
 * @example
 * ```ts
 * import { resolveMapDescription } from "@tsbpf/core/verifier";
 * resolveMapDescription({ type: "array", keySize: 4, valueSize: 8, maxEntries: 1 })?.type; // 2
 * ```
 */
export function resolveMapDescription(d: MapDescription): ResolvedMap | undefined {
  if (d === null || typeof d !== "object") return undefined;
  const type = typeof d.type === "number"
    ? d.type
    : mapTypeByName(String(d.type)) ?? mapTypeByName(String(d.type).toLowerCase());
  if (type === undefined) return undefined;
  const ok = (n: unknown) => typeof n === "number" && Number.isInteger(n) && n >= 0;
  if (!ok(d.keySize) || !ok(d.valueSize) || !ok(d.maxEntries)) return undefined;
  const r: ResolvedMap = {
    type,
    keySize: d.keySize,
    valueSize: d.valueSize,
    maxEntries: d.maxEntries,
    flags: d.flags ?? 0,
    hasBtf: d.btf !== undefined,
    spinLock: ok(d.spinLock) ? d.spinLock! : -1,
    name: typeof d.name === "string" ? d.name : "",
  };
  if (d.innerMap !== undefined) {
    const inner = resolveMapDescription(d.innerMap);
    if (inner !== undefined) r.inner = inner;
  }
  return r;
}
