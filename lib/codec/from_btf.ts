/**
 * `codecFromBtf`: a codec built from a BTF type, so that maps described by an object's BTF read
 * and write JavaScript values without hand-written codecs.
 *
 * @module
 */
import type { Btf } from "../btf/btf.ts";
import { BTF_INT_BOOL, BTF_INT_CHAR, BTF_INT_SIGNED, type BtfType } from "../btf/types.ts";
import { bytes, cstring } from "./bytes.ts";
import type { Codec } from "./codec.ts";
import { array, type FieldAt, struct } from "./compound.ts";
import { bool, f32, f64, i16, i32, i64, i8, u16, u32, u64, u8 } from "./int.ts";

/** Nesting deeper than this (arrays of arrays, structs in structs) is treated as a loop. */
const MAX_DEPTH = 64;

const INTS: Record<number, [Codec<unknown>, Codec<unknown>]> = {
  1: [u8, i8],
  2: [u16, i16],
  4: [u32, i32],
  8: [u64, i64],
};

function describe(t: BtfType): string {
  return `[${t.id}] ${t.kind}${t.name === "" ? "" : ` ${t.name}`}`;
}

function integer(size: number, signed: boolean): Codec<unknown> {
  const pair = INTS[size];
  return pair === undefined ? bytes(size) : pair[signed ? 1 : 0];
}

/** A C `char`: BTF's char encoding bit, or (as clang emits it) a 1-byte INT named `char`. */
function isChar(t: BtfType): boolean {
  return t.kind === "int" && t.size === 1 && (t.encoding & BTF_INT_BOOL) === 0 &&
    ((t.encoding & BTF_INT_CHAR) !== 0 || t.name === "char");
}

/**
 * The codec of BTF type `typeId` of `btf`, following typedefs and the `const`, `volatile`,
 * `restrict` and `type_tag` qualifiers:
 *
 * - INT: `u8`…`u64` / `i8`…`i64` by size and signedness (64-bit ones decode to bigints), `bool`
 *   for the BTF bool encoding, raw `bytes(n)` for other sizes (`__int128`: `bytes(16)`).
 * - ENUM, ENUM64: the integer codec of their size and signedness (the number, not the name).
 * - FLOAT: `f32`, `f64` (`bytes(n)` for other sizes). PTR: `u64` (the address as a bigint).
 * - ARRAY: of `char` (an INT of 1 byte with the char encoding, or named `char`, as clang emits
 *   it) `cstring(n)`; of anything else `array(element, n)`.
 * - STRUCT: `struct` with each member at the byte offset BTF gives, total size and (natural, or 1
 *   for packed structs) alignment from BTF. Field names are member names; the members of an
 *   anonymous struct member are flattened into the parent (as C reads them); any other anonymous
 *   member (an anonymous union) is the field `_N`, N being its index among the parent's members.
 * - UNION: `bytes(size)` (which member is live is not knowable).
 * - VAR: the codec of the variable's type. Anything else with a size (DATASEC): `bytes(size)`.
 *
 * Bitfields are refused: a struct with a bitfield member throws a `TypeError` naming the struct
 * and the member (read such a map without codecs, as raw bytes).
 *
 * @throws {RangeError} when `typeId` is not a type of `btf`.
 * @throws {TypeError} for a bitfield member, or a type without a size (void, FWD, FUNC,
 * FUNC_PROTO).
 * @example
 * ```ts
 * import { codecFromBtf, ObjectSpec } from "@tsbpf/core";
 * const spec = ObjectSpec.parse(Deno.readFileSync("prog.bpf.o"));
 * const m = spec.maps.find((m) => m.name === "stats_by_key")!;
 * const Stats = codecFromBtf(spec.types!, m.valueTypeId!);
 * Stats.name; // "struct stats"
 * ```
 */
export function codecFromBtf(btf: Btf, typeId: number): Codec<unknown> {
  if (!Number.isInteger(typeId) || typeId < 0 || typeId >= btf.typeCount) {
    throw new RangeError(
      `codecFromBtf: no BTF type with id ${typeId} (ids are 0..${btf.typeCount - 1})`,
    );
  }
  return build(btf, typeId, 0);
}

function build(btf: Btf, typeId: number, depth: number): Codec<unknown> {
  const t = btf.resolve(typeId);
  if (depth > MAX_DEPTH) {
    throw new RangeError(`codecFromBtf: type ${describe(t)} is nested more than ${MAX_DEPTH} deep`);
  }
  switch (t.kind) {
    case "int":
      if ((t.encoding & BTF_INT_BOOL) !== 0 && t.size === 1) return bool;
      return integer(t.size, (t.encoding & BTF_INT_SIGNED) !== 0);
    case "enum":
    case "enum64":
      return integer(t.size, t.signed);
    case "float":
      return t.size === 4 ? f32 : t.size === 8 ? f64 : bytes(t.size);
    case "ptr":
      return u64;
    case "array": {
      const elem = btf.resolve(t.type);
      if (isChar(elem)) return cstring(t.nelems);
      return array(build(btf, t.type, depth + 1), t.nelems);
    }
    case "struct":
      return structOf(btf, t, depth);
    case "union":
    case "datasec":
      return bytes(t.size);
    case "var":
      return build(btf, t.type, depth + 1);
    default:
      throw new TypeError(`codecFromBtf: type ${describe(t)} has no size, so no codec`);
  }
}

function structOf(
  btf: Btf,
  t: Extract<BtfType, { kind: "struct" }>,
  depth: number,
): Codec<unknown> {
  const fields: Record<string, FieldAt<unknown>> = {};
  let packed = false;
  const add = (s: Extract<BtfType, { kind: "struct" }>, base: number, where: string): void => {
    s.members.forEach((m, i) => {
      if (m.bitfieldSize !== 0 || m.bitOffset % 8 !== 0) {
        throw new TypeError(
          `codecFromBtf: ${where} member ${m.name === "" ? `#${i}` : `"${m.name}"`} is a ` +
            `bitfield (${m.bitfieldSize || "?"} bits at bit ${base * 8 + m.bitOffset}); ` +
            "bitfields have no codec: use raw bytes for this type",
        );
      }
      const offset = base + m.bitOffset / 8;
      const r = btf.resolve(m.type);
      if (m.name === "" && r.kind === "struct") {
        add(r, offset, where);
        return;
      }
      const name = m.name === "" ? `_${i}` : m.name;
      if (Object.hasOwn(fields, name)) {
        throw new TypeError(`codecFromBtf: ${where} has two members named "${name}"`);
      }
      const codec = build(btf, m.type, depth + 1);
      if (offset % codec.align !== 0) packed = true;
      fields[name] = { codec, offset };
    });
  };
  const where = `struct ${t.name === "" ? `[${t.id}]` : t.name}`;
  add(t, 0, where);
  const codecs = Object.values(fields).map((f) => f.codec);
  const natural = codecs.reduce((a, c) => Math.max(a, c.align), 1);
  const align = packed || t.size % natural !== 0 ? 1 : natural;
  // Members sorted by offset, as `struct` lays them out (BTF lists them in declaration order).
  const sorted = Object.fromEntries(
    Object.entries(fields).sort(([, a], [, b]) => a.offset - b.offset),
  );
  return struct(sorted, {
    size: t.size,
    align,
    name: t.name === "" ? undefined : `struct ${t.name}`,
  }) as Codec<unknown>;
}
