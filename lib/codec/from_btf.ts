/**
 * `codecFromBtf`: a codec built from a BTF type, so that maps described by an object's BTF read
 * and write JavaScript values without hand-written codecs.
 *
 * @module
 */
import { kindOf } from "../args.ts";
import { Btf, BTF_LIMITS } from "../btf/btf.ts";
import { ArgumentError } from "../errors.ts";
import { BtfError } from "../btf/error.ts";
import { BTF_INT_BOOL, BTF_INT_CHAR, BTF_INT_SIGNED, type BtfType } from "../btf/types.ts";
import { bytes, cstring } from "./bytes.ts";
import { type Codec, CodecError } from "./codec.ts";
import { array, type FieldAt, struct } from "./compound.ts";
import { bool, f32, f64, i16, i32, i64, i8, u16, u32, u64, u8 } from "./int.ts";

/** Nesting deeper than this (arrays of arrays, structs in structs) is refused. */
const MAX_DEPTH = BTF_LIMITS.nesting;
/** Longest generated name of an anonymous struct's codec; longer ones are `struct [id]`. */
const MAX_NAME = 200;

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
 * Bitfields are refused: a struct with a bitfield member throws a `BtfError` naming the struct
 * and the member (read such a map without codecs, as raw bytes).
 *
 * Hostile BTF is refused, not followed: a type that contains itself, nesting deeper than
 * `BTF_LIMITS.nesting`, a struct with more than `BTF_LIMITS.fields` fields (anonymous members
 * flattened) or a size over `BTF_LIMITS.typeSize` is a `BtfError` naming the limit and the type
 * id. Each type's codec is built once, so a type used many times costs nothing more.
 *
 * @throws {CodecError} when `typeId` is not a type of `btf`.
 * @throws {BtfError} for a bitfield member, a type without a size (void, FWD, FUNC, FUNC_PROTO),
 * or BTF over a limit.
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
  if (!(btf instanceof Btf)) {
    throw new ArgumentError(
      "btf",
      `codecFromBtf: btf must be a Btf (from parseBtf), got ${kindOf(btf)}`,
    );
  }
  if (!Number.isInteger(typeId) || typeId < 0 || typeId >= btf.typeCount) {
    throw new CodecError(
      `codecFromBtf: no BTF type with id ${typeId} (ids are 0..${btf.typeCount - 1})`,
    );
  }
  return new Builder(btf).build(typeId, 0);
}

/** Codecs of one `codecFromBtf` call: each type built once, loops detected. */
class Builder {
  readonly #btf: Btf;
  readonly #done = new Map<number, Codec<unknown>>();
  readonly #building = new Set<number>();

  constructor(btf: Btf) {
    this.#btf = btf;
  }

  build(typeId: number, depth: number): Codec<unknown> {
    const btf = this.#btf;
    const t = btf.resolve(typeId);
    const known = this.#done.get(t.id);
    if (known !== undefined) return known;
    if (depth > MAX_DEPTH) {
      throw new BtfError(
        `codecFromBtf: type ${
          describe(t)
        } is nested more than ${MAX_DEPTH} deep (BTF_LIMITS.nesting)`,
        -1,
        t.id,
      );
    }
    if (this.#building.has(t.id)) {
      throw new BtfError(`codecFromBtf: type ${describe(t)} contains itself`, -1, t.id);
    }
    this.#building.add(t.id);
    try {
      const c = this.#make(t, depth);
      if (c.size > BTF_LIMITS.typeSize) {
        throw new BtfError(
          `codecFromBtf: type ${describe(t)} is ${c.size} bytes, over BTF_LIMITS.typeSize`,
          -1,
          t.id,
        );
      }
      this.#done.set(t.id, c);
      return c;
    } finally {
      this.#building.delete(t.id);
    }
  }

  #make(t: BtfType, depth: number): Codec<unknown> {
    const btf = this.#btf;
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
        const e = this.build(t.type, depth + 1);
        if (t.nelems > BTF_LIMITS.fields && e.size === 0) {
          // Zero-size elements: the size check below cannot bound the decoded array.
          throw new BtfError(
            `codecFromBtf: type ${describe(t)} has ${t.nelems} zero-size elements, over ` +
              `BTF_LIMITS.fields (${BTF_LIMITS.fields})`,
            -1,
            t.id,
          );
        }
        if (e.size * t.nelems > BTF_LIMITS.typeSize) {
          throw new BtfError(
            `codecFromBtf: type ${describe(t)} is ${e.size * t.nelems} bytes, over ` +
              `BTF_LIMITS.typeSize (${BTF_LIMITS.typeSize})`,
            -1,
            t.id,
          );
        }
        return array(e, t.nelems);
      }
      case "struct":
        return this.#struct(t, depth);
      case "union":
      case "datasec":
        return bytes(t.size);
      case "var":
        return this.build(t.type, depth + 1);
      default:
        throw new BtfError(`codecFromBtf: type ${describe(t)} has no size, so no codec`, -1, t.id);
    }
  }

  #struct(t: Extract<BtfType, { kind: "struct" }>, depth: number): Codec<unknown> {
    const btf = this.#btf;
    const fields: Record<string, FieldAt<unknown>> = {};
    let count = 0;
    let packed = false;
    const where = `struct ${t.name === "" ? `[${t.id}]` : t.name}`;
    const add = (
      s: Extract<BtfType, { kind: "struct" }>,
      base: number,
      level: number,
      inside: readonly number[],
    ): void => {
      if (level > MAX_DEPTH) {
        throw new BtfError(
          `codecFromBtf: ${where}: anonymous members nested more than ${MAX_DEPTH} deep ` +
            "(BTF_LIMITS.nesting)",
          -1,
          s.id,
        );
      }
      count += s.members.length;
      if (count > BTF_LIMITS.fields) {
        throw new BtfError(
          `codecFromBtf: ${where} has more than ${BTF_LIMITS.fields} fields (BTF_LIMITS.fields)`,
          -1,
          t.id,
        );
      }
      s.members.forEach((m, i) => {
        if (m.bitfieldSize !== 0 || m.bitOffset % 8 !== 0) {
          throw new BtfError(
            `codecFromBtf: ${where} member ${m.name === "" ? `#${i}` : `"${m.name}"`} is a ` +
              `bitfield (${m.bitfieldSize || "?"} bits at bit ${base * 8 + m.bitOffset}); ` +
              "bitfields have no codec: use raw bytes for this type",
            -1,
            s.id,
          );
        }
        const offset = base + m.bitOffset / 8;
        const r = btf.resolve(m.type);
        if (m.name === "" && r.kind === "struct") {
          if (r.id === t.id || inside.includes(r.id)) {
            throw new BtfError(
              `codecFromBtf: ${where}: anonymous member #${i} is struct [${r.id}], which contains itself`,
              -1,
              r.id,
            );
          }
          add(r, offset, level + 1, [...inside, r.id]);
          return;
        }
        const name = m.name === "" ? `_${i}` : m.name;
        if (Object.hasOwn(fields, name)) {
          throw new BtfError(`codecFromBtf: ${where} has two members named "${name}"`, -1, s.id);
        }
        const codec = this.build(m.type, depth + 1);
        if (offset % codec.align !== 0) packed = true;
        fields[name] = { codec, offset };
      });
    };
    add(t, 0, 0, [t.id]);
    const codecs = Object.values(fields).map((f) => f.codec);
    const natural = codecs.reduce((a, c) => Math.max(a, c.align), 1);
    const align = packed || t.size % natural !== 0 ? 1 : natural;
    // Members sorted by offset, as `struct` lays them out (BTF lists them in declaration order).
    const entries = Object.entries(fields).sort(([, a], [, b]) => a.offset - b.offset);
    // An anonymous struct is named by its members, unless that would be long (nested types).
    const described = entries.map(([n, f]) => `${n}: ${f.codec.name}`).join(", ");
    const name = t.name !== ""
      ? `struct ${t.name}`
      : described.length > MAX_NAME
      ? `struct [${t.id}]`
      : undefined;
    try {
      return struct(Object.fromEntries(entries), { size: t.size, align, name }) as Codec<unknown>;
    } catch (e) {
      // Members that overlap or run past the struct's size: the BTF is inconsistent.
      throw new BtfError(`codecFromBtf: ${where}: ${(e as Error).message}`, -1, t.id);
    }
  }
}
