/**
 * The program-type registry: the userspace counterpart of the kernel's original
 * `bpf_register_prog_type()` / `find_prog_type()`. It starts with the built-in Linux 6.18 types;
 * plugins may add types or replace (wrap) the ops of existing ones.
 *
 * @module
 */
import { BUILTIN_PROG_TYPES } from "./builtin.ts";
import type { ProgTypeDef } from "./types.ts";
import { ArgumentError } from "../errors.ts";

const byNumber = new Map<number, ProgTypeDef>();
const byName = new Map<string, ProgTypeDef>();
/** The registered types by number, sorted once per change of the registry. */
let sorted: readonly ProgTypeDef[] | undefined;

for (const def of BUILTIN_PROG_TYPES) {
  byNumber.set(def.type, def);
  byName.set(def.name, def);
}

/**
 * Options of {@link registerProgType}.
 *
 * @example
 * ```ts
 * import type { RegisterOptions } from "@tsbpf/core/progtype";
 * const o: RegisterOptions = { replace: true };
 * ```
 */
export interface RegisterOptions {
  /** Replace a type already registered under the same number (or name). Default `false`. */
  replace?: boolean;
}

function validate(def: ProgTypeDef): void {
  if (def === null || typeof def !== "object") {
    throw new ArgumentError("def", "a program type definition must be an object");
  }
  if (!Number.isInteger(def.type) || def.type <= 0 || def.type > 0xffff_ffff) {
    throw new ArgumentError(
      "program",
      `program type number must be a positive 32-bit integer, got ${def.type}`,
    );
  }
  if (typeof def.name !== "string" || !/^[a-z0-9_.]+$/.test(def.name)) {
    throw new ArgumentError(
      "program",
      `program type name must be lower case letters, digits, "_" or ".", got ${
        JSON.stringify(def.name)
      }`,
    );
  }
  if (
    def.ops === null || typeof def.ops !== "object" || typeof def.ops.getFuncProto !== "function"
  ) {
    throw new ArgumentError(
      "program",
      `program type "${def.name}" needs ops.getFuncProto(helperId, ctx)`,
    );
  }
  if (!Array.isArray(def.sectionPrefixes)) {
    throw new ArgumentError(
      "program",
      `program type "${def.name}" needs sectionPrefixes (an array, may be empty)`,
    );
  }
  if (!Array.isArray(def.expectedAttachTypes)) {
    throw new ArgumentError(
      "program",
      `program type "${def.name}" needs expectedAttachTypes (an array, may be empty)`,
    );
  }
}

/**
 * Registers a program type. A number (or name) already registered is refused unless
 * `{ replace: true }`; replacing keeps the registry's name index consistent.
 *
 * @throws {Error} when the type number or name is taken and `replace` is not set.
 * @throws {TypeError | RangeError} for a malformed definition.
 * @example
 * ```ts
 * import { getProgType, registerProgType } from "@tsbpf/core/progtype";
 * const xdp = getProgType("xdp")!;
 * // Forbid bpf_redirect (helper 23) in XDP programs:
 * registerProgType({
 *   ...xdp,
 *   ops: { getFuncProto: (id, ctx) => id === 23 ? undefined : xdp.ops.getFuncProto(id, ctx) },
 * }, { replace: true });
 * ```
 */
export function registerProgType(def: ProgTypeDef, options: RegisterOptions = {}): void {
  validate(def);
  const oldByNumber = byNumber.get(def.type);
  const oldByName = byName.get(def.name);
  if (!options.replace) {
    if (oldByNumber !== undefined) {
      throw new Error(
        `program type ${def.type} is already registered as "${oldByNumber.name}"; pass { replace: true } to replace it`,
      );
    }
    if (oldByName !== undefined) {
      throw new Error(
        `program type name "${def.name}" is already registered as type ${oldByName.type}; pass { replace: true } to replace it`,
      );
    }
  } else if (oldByName !== undefined && oldByName.type !== def.type) {
    throw new Error(
      `program type name "${def.name}" belongs to type ${oldByName.type}, not ${def.type}; unregister it first`,
    );
  }
  if (oldByNumber !== undefined) byName.delete(oldByNumber.name);
  byNumber.set(def.type, def);
  byName.set(def.name, def);
  sorted = undefined;
}

/**
 * Removes a program type (by number or name). Returns whether it was registered.
 *
 * @example
 * ```ts
 * import { unregisterProgType } from "@tsbpf/core/progtype";
 * unregisterProgType("lirc_mode2"); // true: this tsbpf will now refuse lirc_mode2 programs
 * ```
 */
export function unregisterProgType(type: number | string): boolean {
  const def = typeof type === "number" ? byNumber.get(type) : byName.get(type.toLowerCase());
  if (def === undefined) return false;
  byNumber.delete(def.type);
  byName.delete(def.name);
  sorted = undefined;
  return true;
}

/**
 * Finds a registered program type by number or by name (`"xdp"`, `"socket_filter"`; case and a
 * `BPF_PROG_TYPE_` prefix are ignored). `undefined` when unknown, as `find_prog_type()` returns
 * `-EINVAL`.
 *
 * @example
 * ```ts
 * import { getProgType } from "@tsbpf/core/progtype";
 * getProgType(6)?.name; // "xdp"
 * getProgType("BPF_PROG_TYPE_XDP")?.type; // 6
 * ```
 */
export function getProgType(type: number | string): ProgTypeDef | undefined {
  if (typeof type === "number") return byNumber.get(type);
  if (typeof type !== "string") return undefined;
  let name = type.toLowerCase();
  if (name.startsWith("bpf_prog_type_")) name = name.slice("bpf_prog_type_".length);
  return byName.get(name);
}

/**
 * All registered program types, by number.
 *
 * @example
 * ```ts
 * import { progTypes } from "@tsbpf/core/progtype";
 * progTypes().map((d) => d.name).includes("sk_lookup"); // true
 * ```
 */
export function progTypes(): ProgTypeDef[] {
  return [...registeredProgTypes()];
}

/**
 * All registered program types, by number: the registry's own list (not a copy), sorted once per
 * change, for the section lookup that runs for every program of every object parsed.
 *
 * @example
 * ```ts
 * import { registeredProgTypes } from "./registry.ts";
 * registeredProgTypes()[0].name; // "socket_filter"
 * ```
 */
export function registeredProgTypes(): readonly ProgTypeDef[] {
  return sorted ??= Object.freeze([...byNumber.values()].sort((a, b) => a.type - b.type));
}

/**
 * Restores the registry to the built-in types only (for tests and plugins that want a clean
 * slate).
 *
 * @example
 * ```ts
 * import { resetProgTypes } from "@tsbpf/core/progtype";
 * resetProgTypes();
 * ```
 */
export function resetProgTypes(): void {
  byNumber.clear();
  byName.clear();
  sorted = undefined;
  for (const def of BUILTIN_PROG_TYPES) {
    byNumber.set(def.type, def);
    byName.set(def.name, def);
  }
}
