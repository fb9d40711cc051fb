/**
 * `Btf`: a parsed BTF blob with lookup by id, by name and kind, qualifier/typedef resolution and
 * type sizes.
 *
 * @module
 */

import { requireBytes, requireInt, requireObject } from "../args.ts";
import { BtfError } from "./error.ts";
import type { BtfHeader, BtfIndex } from "./parse.ts";
import { decodeBtfType, indexBtf, nameReader, stringReader } from "./parse.ts";
import { lazyStringReader, NameIndex, type StringLocator } from "./lazy.ts";
import type { BtfKindName, BtfMember, BtfType, BtfTypeOf } from "./types.ts";

/**
 * The limits of walking a BTF type graph. Input over a limit is refused with a `BtfError` naming
 * the limit and the type id, never walked further (hostile BTF cannot make a walk loop, recurse
 * without end or allocate without bound).
 *
 * @example
 * ```ts
 * import { BTF_LIMITS } from "@tsbpf/core";
 * BTF_LIMITS.resolveDepth; // 32
 * ```
 */
export const BTF_LIMITS: {
  /** Longest chain of qualifiers, typedefs and arrays followed (the kernel's `MAX_RESOLVE_DEPTH`). */
  readonly resolveDepth: number;
  /** Most fields `Btf.fields` and `codecFromBtf` flatten out of one struct (anonymous members included). */
  readonly fields: number;
  /** Deepest nesting of structs, unions and arrays inside one another. */
  readonly nesting: number;
  /** Largest type size in bytes (BTF sizes are `u32`). */
  readonly typeSize: number;
  /** Longest CO-RE access string (`0:1:2`) read from `.BTF.ext` or given to CO-RE, in characters. */
  readonly coreAccessLength: number;
  /** Most steps in a CO-RE access string (the kernel's `BPF_CORE_SPEC_MAX_LEN`). */
  readonly coreAccessDepth: number;
} = {
  resolveDepth: 32,
  fields: 65536,
  nesting: 64,
  typeSize: 0xffffffff,
  coreAccessLength: 1024,
  coreAccessDepth: 64,
};

/** Chains longer than this are treated as loops (the kernel's `MAX_RESOLVE_DEPTH`). */
const MAX_RESOLVE_DEPTH = BTF_LIMITS.resolveDepth;

/**
 * Options of `parseBtf`.
 *
 * @example
 * ```ts
 * import { parseBtf } from "@tsbpf/core/btf";
 * declare const vmlinux: Uint8Array, moduleBtf: Uint8Array;
 * const base = parseBtf(vmlinux);
 * const mod = parseBtf(moduleBtf, { base });
 * ```
 */
export interface ParseBtfOptions {
  /** Base BTF for split BTF (a kernel module's BTF is split on top of vmlinux). */
  readonly base?: Btf;
  /** Pointer size in bytes for `sizeOf`; BTF does not record it. Default 8. */
  readonly pointerSize?: number;
  /**
   * Decode types only when asked for (`typeById`, `lookup`, …) instead of all up front. Parsing
   * then checks the header and every record's kind, length and name offset, and builds the name
   * index from the raw names, in one pass; a type's member names and referenced ids are checked
   * when it is first decoded (a malformed one throws `BtfError` then). For large blobs of which
   * little is read, such as the kernel's 5 MB BTF. Default false.
   */
  readonly lazy?: boolean;
}

/** Where the string bytes of each Btf live (for the name index of split BTF on top of it). */
const locators = new WeakMap<Btf, StringLocator>();
const VOID: BtfType = Object.freeze({ id: 0, kind: "void", name: "" }) as BtfType;

/**
 * A member of a struct or union with anonymous struct/union members flattened into their parent,
 * as returned by `Btf.fields`.
 *
 * @example
 * ```ts
 * import type { BtfField } from "@tsbpf/core";
 * const f: BtfField = { name: "insn_cnt", type: 9, bitOffset: 32, bitfieldSize: 0, path: ["insn_cnt"] };
 * ```
 */
export interface BtfField extends BtfMember {
  /** Bit offset from the start of the outer struct (anonymous parents' offsets added). */
  readonly bitOffset: number;
  /** Member indices from the outer struct down to this member (anonymous parents first). */
  readonly path: readonly (string | number)[];
}

/**
 * A parsed BTF blob. Build one with `parseBtf`.
 *
 * @example
 * ```ts
 * import { parseBtf } from "@tsbpf/core/btf";
 * const btf = parseBtf(Deno.readFileSync("/sys/kernel/btf/vmlinux"));
 * btf.get("struct", "bpf_insn").size; // 8
 * ```
 */
export class Btf {
  /** The blob's header. */
  readonly header: BtfHeader;
  /** Whether the blob is little-endian. */
  readonly littleEndian: boolean;
  /** Id of this blob's first type: 1, or the base's type count for split BTF. */
  readonly firstId: number;
  /** The base BTF, for split BTF. */
  readonly base: Btf | undefined;
  /** Pointer size used by `sizeOf`. */
  readonly pointerSize: number;
  readonly #string: (offset: number) => string;
  readonly #name: (off: number, at: number) => string;
  readonly #ix: BtfIndex;
  /** This blob's types, decoded on first use (all of them at once unless lazy). */
  readonly #own: (BtfType | undefined)[];
  /** Name index of functions (most of the kernel's named types), built on first use. */
  #funcNames: NameIndex | undefined;
  /** Name index of every other named type, built on first use. */
  #otherNames: NameIndex | undefined;
  #all: BtfType[] | undefined;

  /** Parses `bytes`; prefer `parseBtf`. Throws `BtfError` on malformed input. */
  constructor(bytes: Uint8Array, options: ParseBtfOptions = {}) {
    requireBytes("Btf", "bytes", bytes);
    requireObject("Btf", "options", options);
    const base = options.base;
    const split = base && {
      typeCount: base.typeCount,
      strLen: base.stringsLength,
      string: (o: number): string => base.string(o),
    };
    const ix = indexBtf(bytes, split);
    this.#ix = ix;
    this.header = ix.header;
    this.littleEndian = ix.littleEndian;
    this.firstId = ix.firstId;
    this.base = base;
    this.pointerSize = options.pointerSize ?? base?.pointerSize ?? 8;
    this.#string = (options.lazy ? lazyStringReader : stringReader)(
      bytes,
      ix.strStart,
      ix.strEnd,
      split,
    );
    this.#name = nameReader(ix, this.#string);
    const baseLocate = base && locators.get(base);
    const baseStrLen = ix.baseStrLen;
    locators.set(
      this,
      (o) =>
        o < baseStrLen && baseLocate !== undefined
          ? baseLocate(o)
          : { bytes, at: ix.strStart + o - baseStrLen },
    );
    this.#own = new Array(ix.count);
    if (!options.lazy) {
      // Decode (and so check) everything now.
      for (let i = 0; i < ix.count; i++) this.#own[i] = decodeBtfType(ix, i, this.#name);
    }
  }

  /**
   * All types by id; `types[0]` is void. For split BTF the base's types come first. A lazy Btf
   * decodes every type on first access: prefer `typeById` and `lookup`.
   */
  get types(): readonly BtfType[] {
    if (this.#all === undefined) {
      const all: BtfType[] = this.base ? this.base.types.slice() : [VOID];
      for (let i = 0; i < this.#ix.count; i++) all.push(this.#decode(i));
      this.#all = all;
    }
    return this.#all;
  }

  /**
   * Number of type ids, void and (for split BTF) the base's included: ids are
   * `0 .. typeCount - 1`. Decodes nothing.
   *
   * @example
   * ```ts
   * import { parseBtf } from "@tsbpf/core/btf";
   * declare const btf: ReturnType<typeof parseBtf>;
   * btf.typeCount > 0; // true
   * ```
   */
  get typeCount(): number {
    return this.firstId + this.#ix.count;
  }

  /**
   * How many of this blob's types have been decoded so far (all of them unless the Btf is
   * lazy).
   *
   * @example
   * ```ts
   * import { parseBtf } from "@tsbpf/core/btf";
   * declare const bytes: Uint8Array;
   * const btf = parseBtf(bytes, { lazy: true });
   * btf.decodedCount; // 0
   * ```
   */
  get decodedCount(): number {
    let n = 0;
    for (const t of this.#own) if (t !== undefined) n++;
    return n;
  }

  #decode(i: number): BtfType {
    let t = this.#own[i];
    if (t === undefined) this.#own[i] = t = decodeBtfType(this.#ix, i, this.#name);
    return t;
  }

  /**
   * Total string-section length, including the base's for split BTF (where split string offsets
   * start).
   *
   * @example
   * ```ts
   * import { parseBtf } from "@tsbpf/core/btf";
   * declare const btf: ReturnType<typeof parseBtf>;
   * btf.stringsLength > 0; // true
   * ```
   */
  get stringsLength(): number {
    return (this.base?.stringsLength ?? 0) + this.header.strLen;
  }

  /**
   * The NUL-terminated string at `offset` of the string section.
   *
   * @example
   * ```ts
   * import { parseBtf } from "@tsbpf/core/btf";
   * declare const btf: ReturnType<typeof parseBtf>;
   * btf.string(0); // ""
   * ```
   */
  string(offset: number): string {
    if (!Number.isInteger(offset) || offset < 0 || offset >= this.stringsLength) {
      throw new BtfError(
        `string offset ${offset} is outside the string section (${this.stringsLength} bytes)`,
        -1,
      );
    }
    return this.#string(offset);
  }

  /**
   * The type with id `id`; throws `BtfError` when there is none.
   *
   * @example
   * ```ts
   * import { parseBtf } from "@tsbpf/core/btf";
   * declare const btf: ReturnType<typeof parseBtf>;
   * btf.typeById(0).kind; // "void"
   * ```
   */
  typeById(id: number): BtfType {
    if (typeof id !== "number") requireInt("typeById", "id", id, 0, 0xffffffff);
    const i = id - this.firstId;
    if (i >= 0 && i < this.#ix.count && Number.isInteger(i)) return this.#decode(i);
    if (id === 0 && this.base === undefined) return VOID;
    if (this.base !== undefined && Number.isInteger(id) && id >= 0 && id < this.firstId) {
      return this.base.typeById(id);
    }
    throw new BtfError(`no type with id ${id} (ids are 0..${this.typeCount - 1})`, -1);
  }

  /**
   * All types named `name`, optionally of one kind, in id order.
   *
   * @example
   * ```ts
   * import { parseBtf } from "@tsbpf/core/btf";
   * declare const btf: ReturnType<typeof parseBtf>;
   * btf.lookup("bpf_attr").map((t) => t.kind); // ["union"]
   * ```
   */
  lookup(name: string, kind?: BtfKindName): BtfType[] {
    const out = this.base ? this.base.lookup(name, kind) : [];
    let ids: number[];
    if (kind === "func") ids = this.#funcIndex().ids(name);
    else if (kind !== undefined) ids = this.#otherIndex().ids(name);
    else {
      ids = [...this.#funcIndex().ids(name), ...this.#otherIndex().ids(name)];
      ids.sort((a, b) => a - b);
    }
    for (const id of ids) {
      const t = this.#decode(id - this.firstId);
      if (kind === undefined || t.kind === kind) out.push(t);
    }
    return out;
  }

  #funcIndex(): NameIndex {
    return this.#funcNames ??= new NameIndex(this.#ix, locators.get(this)!, true);
  }

  #otherIndex(): NameIndex {
    return this.#otherNames ??= new NameIndex(this.#ix, locators.get(this)!, false);
  }

  /**
   * Bytes held by the name index (built on the first `lookup`, 0 before) and the record
   * offsets: the index's own memory, beside the blob itself and the decoded types.
   *
   * @example
   * ```ts
   * import { parseBtf } from "@tsbpf/core/btf";
   * declare const btf: ReturnType<typeof parseBtf>;
   * btf.indexBytes > 0; // true
   * ```
   */
  get indexBytes(): number {
    return this.#ix.offsets.byteLength + (this.#funcNames?.byteLength ?? 0) +
      (this.#otherNames?.byteLength ?? 0);
  }

  /**
   * The first type of kind `kind` named `name`, or `undefined`.
   *
   * @example
   * ```ts
   * import { parseBtf } from "@tsbpf/core/btf";
   * declare const btf: ReturnType<typeof parseBtf>;
   * btf.find("enum", "bpf_cmd")?.values[0].name; // "BPF_MAP_CREATE"
   * ```
   */
  find<K extends BtfKindName>(kind: K, name: string): BtfTypeOf<K> | undefined {
    return this.lookup(name, kind)[0] as BtfTypeOf<K> | undefined;
  }

  /**
   * Like `find`, but throws `BtfError` when the type does not exist.
   *
   * @example
   * ```ts
   * import { parseBtf } from "@tsbpf/core/btf";
   * declare const btf: ReturnType<typeof parseBtf>;
   * btf.get("struct", "bpf_insn").size; // 8
   * ```
   */
  get<K extends BtfKindName>(kind: K, name: string): BtfTypeOf<K> {
    const t = this.find(kind, name);
    if (t === undefined) throw new BtfError(`no ${kind} named ${JSON.stringify(name)}`, -1);
    return t;
  }

  /**
   * Follows `const`, `volatile`, `restrict` and `type_tag` and (unless `typedefs` is false)
   * `typedef` links from `id` to the underlying type.
   *
   * @example
   * ```ts
   * import { parseBtf } from "@tsbpf/core/btf";
   * declare const btf: ReturnType<typeof parseBtf>;
   * btf.resolve(btf.get("typedef", "__u32").id).name; // "unsigned int"
   * ```
   */
  resolve(id: number, options: { readonly typedefs?: boolean } = {}): BtfType {
    const typedefs = options.typedefs ?? true;
    let t = this.typeById(id);
    for (let depth = 0;; depth++) {
      switch (t.kind) {
        case "const":
        case "volatile":
        case "restrict":
        case "type_tag":
          break;
        case "typedef":
          if (typedefs) break;
          return t;
        default:
          return t;
      }
      if (depth >= MAX_RESOLVE_DEPTH) {
        throw new BtfError(
          `type [${id}]: qualifier/typedef chain longer than ${MAX_RESOLVE_DEPTH} ` +
            "(BTF_LIMITS.resolveDepth; a loop?)",
          -1,
          id,
        );
      }
      t = this.typeById(t.type);
    }
  }

  /**
   * Size in bytes of type `id` (through typedefs and qualifiers; arrays multiply). Throws
   * `BtfError` for types without a size (void, func, func_proto, fwd), a chain longer than
   * `BTF_LIMITS.resolveDepth` or a size over `BTF_LIMITS.typeSize`.
   *
   * @example
   * ```ts
   * import { parseBtf } from "@tsbpf/core/btf";
   * declare const btf: ReturnType<typeof parseBtf>;
   * btf.sizeOf(btf.get("union", "bpf_attr").id); // e.g. 168
   * ```
   */
  sizeOf(id: number): number {
    let mult = 1;
    let t = this.resolve(id);
    const total = (size: number): number => {
      const n = mult * size;
      if (n > BTF_LIMITS.typeSize) {
        throw new BtfError(
          `type [${id}] is ${n} bytes, over BTF_LIMITS.typeSize (${BTF_LIMITS.typeSize})`,
          -1,
          id,
        );
      }
      return n;
    };
    for (let depth = 0;; depth++) {
      switch (t.kind) {
        case "int":
        case "struct":
        case "union":
        case "enum":
        case "enum64":
        case "float":
        case "datasec":
          return total(t.size);
        case "ptr":
          return total(this.pointerSize);
        case "array":
          mult *= t.nelems;
          break;
        case "var":
        case "decl_tag":
          break;
        default:
          throw new BtfError(
            `type [${t.id}] ${t.kind} ${JSON.stringify(t.name)} has no size`,
            -1,
            t.id,
          );
      }
      if (depth >= MAX_RESOLVE_DEPTH) {
        throw new BtfError(
          `type [${id}]: type chain longer than ${MAX_RESOLVE_DEPTH} (BTF_LIMITS.resolveDepth)`,
          -1,
          id,
        );
      }
      t = this.resolve(t.type);
    }
  }

  /**
   * Members of struct/union `id` (through typedefs and qualifiers) with anonymous struct/union
   * members replaced by their own members, offsets made relative to the outer type. Throws
   * `BtfError` for a type that is not a struct or union, anonymous members nested deeper than
   * `BTF_LIMITS.nesting`, or more than `BTF_LIMITS.fields` fields (counting anonymous members).
   *
   * @example
   * ```ts
   * import { parseBtf } from "@tsbpf/core/btf";
   * declare const btf: ReturnType<typeof parseBtf>;
   * btf.fields(btf.get("struct", "bpf_prog_info").id).map((f) => f.name);
   * ```
   */
  fields(id: number): BtfField[] {
    const out: BtfField[] = [];
    let visited = 0;
    const walk = (
      tid: number,
      base: number,
      path: readonly (string | number)[],
      depth: number,
    ): void => {
      const t = this.resolve(tid);
      if (t.kind !== "struct" && t.kind !== "union") {
        throw new BtfError(
          `type [${t.id}] ${t.kind} ${JSON.stringify(t.name)} is not a struct or union`,
          -1,
          t.id,
        );
      }
      if (depth > BTF_LIMITS.nesting) {
        throw new BtfError(
          `type [${id}]: anonymous members nested deeper than ${BTF_LIMITS.nesting} ` +
            "(BTF_LIMITS.nesting; a loop?)",
          -1,
          id,
        );
      }
      visited += t.members.length;
      if (visited > BTF_LIMITS.fields) {
        throw new BtfError(
          `type [${id}] has more than ${BTF_LIMITS.fields} fields (BTF_LIMITS.fields)`,
          -1,
          id,
        );
      }
      t.members.forEach((m, i) => {
        const r = m.name === "" ? this.resolve(m.type) : undefined;
        if (r !== undefined && (r.kind === "struct" || r.kind === "union")) {
          walk(r.id, base + m.bitOffset, [...path, i], depth + 1);
        } else {
          out.push({ ...m, bitOffset: base + m.bitOffset, path: [...path, m.name || i] });
        }
      });
    };
    walk(id, 0, [], 0);
    return out;
  }
}

/**
 * Parses a raw BTF blob (`/sys/kernel/btf/vmlinux`, the `.BTF` section of an object file). Throws
 * `BtfError`, whose message and `offset` give the byte offset, on malformed input.
 *
 * @example
 * ```ts
 * import { parseBtf } from "@tsbpf/core/btf";
 * const btf = parseBtf(Deno.readFileSync("/sys/kernel/btf/vmlinux"));
 * btf.get("struct", "bpf_insn").size; // 8
 * ```
 */
export function parseBtf(bytes: Uint8Array, options?: ParseBtfOptions): Btf {
  requireBytes("parseBtf", "bytes", bytes);
  requireObject("parseBtf", "options", options, true);
  return new Btf(bytes, options);
}
