/**
 * A minimal BTF encoder: just enough type information for maps whose kernel side needs
 * BTF — local storage (`sk_storage`, `inode_storage`, `task_storage`, `cgrp_storage`), and values
 * holding a `bpf_spin_lock` (for `BPF_F_LOCK`). Types come from codecs or from sizes.
 *
 * @module
 */
import { BTF_INT_SIGNED, BTF_KIND } from "./types.ts";
import type { Codec } from "../codec/codec.ts";
import { BTF_MAGIC } from "./parse.ts";

const HEADER_LEN = 24;

/**
 * A member of a struct being encoded.
 *
 * @example
 * ```ts
 * import type { BtfMemberSpec } from "@tsbpf/core";
 * const m: BtfMemberSpec = { name: "hits", type: 1, offset: 4 };
 * ```
 */
export interface BtfMemberSpec {
  /** Member name (a C identifier). */
  name: string;
  /** Type id of the member. */
  type: number;
  /** Byte offset inside the struct. */
  offset: number;
}

function identifier(name: string): string {
  const cleaned = name.replace(/[^A-Za-z0-9_]/g, "_");
  return /^[0-9]/.test(cleaned) || cleaned === "" ? `_${cleaned}` : cleaned;
}

/**
 * Builds a BTF blob (header, type section, string section) type by type; ids start at 1.
 *
 * @example
 * ```ts
 * import { BtfBuilder } from "@tsbpf/core";
 * const b = new BtfBuilder();
 * const u32 = b.int("u32", 4);
 * const value = b.struct("value", 8, [{ name: "lock", type: b.spinLock(), offset: 0 }, { name: "n", type: u32, offset: 4 }]);
 * b.encode().length > 24; // true
 * ```
 */
export class BtfBuilder {
  #words: number[] = [];
  #strings: number[] = [0];
  #stringOffsets = new Map<string, number>([["", 0]]);
  #count = 0;
  #ints = new Map<string, number>();
  #spinLock = 0;

  /** Number of types added. */
  get count(): number {
    return this.#count;
  }

  #string(text: string): number {
    let off = this.#stringOffsets.get(text);
    if (off === undefined) {
      off = this.#strings.length;
      for (const b of new TextEncoder().encode(text)) this.#strings.push(b);
      this.#strings.push(0);
      this.#stringOffsets.set(text, off);
    }
    return off;
  }

  #add(nameOff: number, kind: number, vlen: number, sizeOrType: number, extra: number[]): number {
    this.#words.push(nameOff, ((kind & 0x1f) << 24) | (vlen & 0xffff), sizeOrType, ...extra);
    return ++this.#count;
  }

  /** An integer type of `size` bytes (1, 2, 4, 8 or 16); the same name and shape is added once. */
  int(name: string, size: number, signed = false): number {
    const key = `${name}/${size}/${signed}`;
    let id = this.#ints.get(key);
    if (id === undefined) {
      id = this.#add(this.#string(name), BTF_KIND.int, 0, size, [
        ((signed ? BTF_INT_SIGNED : 0) << 24) | (size * 8),
      ]);
      this.#ints.set(key, id);
    }
    return id;
  }

  /** A floating-point type of `size` bytes (4 or 8). */
  float(name: string, size: number): number {
    return this.#add(this.#string(name), BTF_KIND.float, 0, size, []);
  }

  /** An array of `length` elements of type `element`. */
  array(element: number, length: number): number {
    const index = this.int("u32", 4);
    return this.#add(0, BTF_KIND.array, 0, 0, [element, index, length]);
  }

  /** A struct of `size` bytes with the given members (byte offsets). */
  struct(name: string, size: number, members: readonly BtfMemberSpec[]): number {
    const extra: number[] = [];
    for (const m of members) extra.push(this.#string(identifier(m.name)), m.type, m.offset * 8);
    return this.#add(
      name === "" ? 0 : this.#string(identifier(name)),
      BTF_KIND.struct,
      members.length,
      size,
      extra,
    );
  }

  /** `struct bpf_spin_lock { u32 val; }`, added once. */
  spinLock(): number {
    if (this.#spinLock === 0) {
      this.#spinLock = this.struct("bpf_spin_lock", 4, [
        { name: "val", type: this.int("u32", 4), offset: 0 },
      ]);
    }
    return this.#spinLock;
  }

  /** `u8[size]`: the type of bytes without further structure. */
  bytes(size: number): number {
    return this.array(this.int("u8", 1), size);
  }

  /** The type of a codec's values (see `Codec.btf`); `name` names a struct. */
  fromCodec(codec: Codec<unknown>, name = ""): number {
    const shape = codec.btf;
    switch (shape.kind) {
      case "int":
        if ([1, 2, 4, 8, 16].includes(codec.size)) {
          return this.int(`${shape.signed ? "s" : "u"}${codec.size * 8}`, codec.size, shape.signed);
        }
        return this.bytes(codec.size);
      case "float":
        return codec.size === 4 || codec.size === 8
          ? this.float(codec.size === 4 ? "float" : "double", codec.size)
          : this.bytes(codec.size);
      case "spin_lock":
        return this.spinLock();
      case "array":
        return this.array(this.fromCodec(shape.element), shape.length);
      case "struct": {
        const members: BtfMemberSpec[] = [];
        for (const f of shape.fields) {
          if (f.codec.name.startsWith("pad[") || f.codec.size === 0) continue;
          members.push({ name: f.name, type: this.fromCodec(f.codec), offset: f.offset });
        }
        return this.struct(name, codec.size, members);
      }
      default:
        return this.bytes(codec.size);
    }
  }

  /** The BTF blob: header, types, strings. */
  encode(): Uint8Array<ArrayBuffer> {
    const typeLen = this.#words.length * 4;
    const strLen = this.#strings.length;
    const out = new Uint8Array(new ArrayBuffer(HEADER_LEN + typeLen + strLen));
    const v = new DataView(out.buffer);
    v.setUint16(0, BTF_MAGIC, true);
    v.setUint8(2, 1); // version
    v.setUint8(3, 0); // flags
    v.setUint32(4, HEADER_LEN, true);
    v.setUint32(8, 0, true); // type_off
    v.setUint32(12, typeLen, true);
    v.setUint32(16, typeLen, true); // str_off
    v.setUint32(20, strLen, true);
    for (let i = 0; i < this.#words.length; i++) {
      v.setUint32(HEADER_LEN + i * 4, this.#words[i] >>> 0, true);
    }
    out.set(this.#strings, HEADER_LEN + typeLen);
    return out;
  }
}

/**
 * BTF describing a map's key and value, ready for `BPF_MAP_CREATE`.
 *
 * @example
 * ```ts
 * import { mapBtf } from "@tsbpf/core/map";
 * const { blob, keyTypeId, valueTypeId } = mapBtf(4, 16);
 * [keyTypeId, valueTypeId]; // [1, 4]
 * ```
 */
export interface MapBtf {
  /** The encoded blob. */
  blob: Uint8Array<ArrayBuffer>;
  /** Type id of the key (0 for keyless maps). */
  keyTypeId: number;
  /** Type id of the value. */
  valueTypeId: number;
}

/**
 * Encodes BTF for a map's key and value, from codecs when given (a struct codec with a
 * `spinLock` field becomes a struct with a `struct bpf_spin_lock` member), from sizes otherwise
 * (a 4-byte key is `u32`; other keys and values are `struct { u8 data[n]; }`).
 *
 * @example
 * ```ts
 * import { mapBtf } from "@tsbpf/core/map";
 * import { spinLock, struct, u32, u64 } from "@tsbpf/core";
 * const btf = mapBtf(u32, struct({ lock: spinLock, n: u32, total: u64 }));
 * btf.valueTypeId > 0; // true
 * ```
 */
export function mapBtf(key: Codec<unknown> | number, value: Codec<unknown> | number): MapBtf {
  const b = new BtfBuilder();
  let keyTypeId = 0;
  const keySize = typeof key === "number" ? key : key.size;
  if (keySize > 0) {
    if (typeof key !== "number" && key.btf.kind !== "bytes") keyTypeId = b.fromCodec(key, "key");
    else if (keySize === 4) keyTypeId = b.int("u32", 4);
    else {keyTypeId = b.struct("key", keySize, [{
        name: "data",
        type: b.bytes(keySize),
        offset: 0,
      }]);}
  }
  let valueTypeId: number;
  if (typeof value !== "number" && value.btf.kind !== "bytes") {
    valueTypeId = b.fromCodec(value, "value");
  } else {
    const size = typeof value === "number" ? value : value.size;
    valueTypeId = b.struct("value", size, [{ name: "data", type: b.bytes(size), offset: 0 }]);
  }
  return { blob: b.encode(), keyTypeId, valueTypeId };
}

/**
 * Whether a codec's values contain a `bpf_spin_lock` (directly, in a struct, or in an array).
 *
 * @example
 * ```ts
 * import { hasSpinLock } from "@tsbpf/core/map";
 * import { spinLock, struct, u32 } from "@tsbpf/core";
 * hasSpinLock(struct({ lock: spinLock, n: u32 })); // true
 * ```
 */
export function hasSpinLock(codec: Codec<unknown> | undefined): boolean {
  if (codec === undefined) return false;
  const shape = codec.btf;
  if (shape.kind === "spin_lock") return true;
  if (shape.kind === "struct") return shape.fields.some((f) => hasSpinLock(f.codec));
  if (shape.kind === "array") return hasSpinLock(shape.element);
  return false;
}
