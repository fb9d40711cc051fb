/**
 * `Btf`: a parsed BTF blob with lookup by id, by name and kind, qualifier/typedef resolution and
 * type sizes.
 *
 * @module
 */

import type { BtfHeader } from "./parse.ts";
import { parseBtfRaw } from "./parse.ts";
import type { BtfKindName, BtfMember, BtfType, BtfTypeOf } from "./types.ts";

/** Chains longer than this are treated as loops (the kernel's `MAX_RESOLVE_DEPTH`). */
const MAX_RESOLVE_DEPTH = 32;

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
}

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
  /** All types by id; `types[0]` is void. For split BTF the base's types come first. */
  readonly types: readonly BtfType[];
  /** Id of this blob's first type: 1, or the base's type count for split BTF. */
  readonly firstId: number;
  /** The base BTF, for split BTF. */
  readonly base: Btf | undefined;
  /** Pointer size used by `sizeOf`. */
  readonly pointerSize: number;
  readonly #string: (offset: number) => string;
  #byName: Map<string, number[]> | undefined;

  /** Parses `bytes`; prefer `parseBtf`. Throws `BtfError` on malformed input. */
  constructor(bytes: Uint8Array, options: ParseBtfOptions = {}) {
    const base = options.base;
    const raw = parseBtfRaw(
      bytes,
      base && {
        typeCount: base.types.length,
        strLen: base.stringsLength,
        string: (o: number): string => base.string(o),
      },
    );
    this.header = raw.header;
    this.littleEndian = raw.littleEndian;
    this.firstId = raw.firstId;
    this.base = base;
    this.pointerSize = options.pointerSize ?? base?.pointerSize ?? 8;
    this.#string = raw.string;
    const types: BtfType[] = base ? base.types.slice() : [{ id: 0, kind: "void", name: "" }];
    for (const t of raw.types) types.push(t);
    this.types = types;
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
      throw new RangeError(`string offset ${offset} is outside the string section`);
    }
    return this.#string(offset);
  }

  /**
   * The type with id `id`; throws `RangeError` when there is none.
   *
   * @example
   * ```ts
   * import { parseBtf } from "@tsbpf/core/btf";
   * declare const btf: ReturnType<typeof parseBtf>;
   * btf.typeById(0).kind; // "void"
   * ```
   */
  typeById(id: number): BtfType {
    const t = this.types[id];
    if (t === undefined) {
      throw new RangeError(`no BTF type with id ${id} (ids are 0..${this.types.length - 1})`);
    }
    return t;
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
    if (this.#byName === undefined) {
      const index = new Map<string, number[]>();
      for (const t of this.types) {
        if (t.name === "") continue;
        const ids = index.get(t.name);
        if (ids === undefined) index.set(t.name, [t.id]);
        else ids.push(t.id);
      }
      this.#byName = index;
    }
    const ids = this.#byName.get(name);
    if (ids === undefined) return [];
    const out: BtfType[] = [];
    for (const id of ids) {
      const t = this.types[id];
      if (kind === undefined || t.kind === kind) out.push(t);
    }
    return out;
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
   * Like `find`, but throws `RangeError` when the type does not exist.
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
    if (t === undefined) throw new RangeError(`BTF has no ${kind} named ${JSON.stringify(name)}`);
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
        throw new RangeError(
          `type [${id}]: qualifier/typedef chain longer than ${MAX_RESOLVE_DEPTH}`,
        );
      }
      t = this.typeById(t.type);
    }
  }

  /**
   * Size in bytes of type `id` (through typedefs and qualifiers; arrays multiply). Throws
   * `TypeError` for types without a size (void, func, func_proto, fwd).
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
    for (let depth = 0;; depth++) {
      switch (t.kind) {
        case "int":
        case "struct":
        case "union":
        case "enum":
        case "enum64":
        case "float":
        case "datasec":
          return mult * t.size;
        case "ptr":
          return mult * this.pointerSize;
        case "array":
          mult *= t.nelems;
          break;
        case "var":
        case "decl_tag":
          break;
        default:
          throw new TypeError(`type [${t.id}] ${t.kind} ${JSON.stringify(t.name)} has no size`);
      }
      if (depth >= MAX_RESOLVE_DEPTH) {
        throw new RangeError(`type [${id}]: type chain longer than ${MAX_RESOLVE_DEPTH}`);
      }
      t = this.resolve(t.type);
    }
  }

  /**
   * Members of struct/union `id` (through typedefs and qualifiers) with anonymous struct/union
   * members replaced by their own members, offsets made relative to the outer type.
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
    const walk = (
      tid: number,
      base: number,
      path: readonly (string | number)[],
      depth: number,
    ): void => {
      const t = this.resolve(tid);
      if (t.kind !== "struct" && t.kind !== "union") {
        throw new TypeError(
          `type [${t.id}] ${t.kind} ${JSON.stringify(t.name)} is not a struct or union`,
        );
      }
      if (depth > MAX_RESOLVE_DEPTH) {
        throw new RangeError(`type [${id}]: anonymous members nested too deep`);
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
  return new Btf(bytes, options);
}
