/**
 * Builds BTF blobs word by word, for tests that need hand-made (often hostile) BTF.
 */
import { BTF_KIND } from "../lib/btf/mod.ts";

/** Kind numbers, re-exported for builders. */
export const K = BTF_KIND;

/** A BTF blob under construction: strings and type records, ids from 1 in call order. */
export class BtfBuilder {
  strs: number[] = [0];
  words: number[] = [];
  count = 0;
  str(s: string): number {
    if (s === "") return 0;
    const off = this.strs.length;
    for (const b of new TextEncoder().encode(s)) this.strs.push(b);
    this.strs.push(0);
    return off;
  }
  /** Adds a type record; returns its id. */
  type(
    kind: number,
    name: string,
    vlen: number,
    sizeOrType: number,
    kflag = false,
    ...extra: number[]
  ): number {
    const info = ((kflag ? 1 : 0) << 31) | (kind << 24) | vlen;
    this.words.push(this.str(name), info >>> 0, sizeOrType >>> 0, ...extra.map((w) => w >>> 0));
    return ++this.count;
  }
  /** `unsigned int` (4 bytes); returns its id. */
  u32(): number {
    return this.type(K.int, "unsigned int", 0, 4, false, 32);
  }
  /** An array of `n` elements of `elem`, indexed by `index`. */
  array(elem: number, index: number, n: number): number {
    return this.type(K.array, "", 0, 0, false, elem, index, n);
  }
  /** A struct with members `[name, type, byteOffset]`. */
  struct(name: string, size: number, members: [string, number, number][]): number {
    const extra: number[] = [];
    for (const [n, t, off] of members) extra.push(this.str(n), t, off * 8);
    return this.type(K.struct, name, members.length, size, false, ...extra);
  }
  /** The blob. */
  build(): Uint8Array {
    const typeLen = this.words.length * 4;
    const out = new Uint8Array(24 + typeLen + this.strs.length);
    const v = new DataView(out.buffer);
    v.setUint16(0, 0xeb9f, true);
    v.setUint8(2, 1);
    v.setUint32(4, 24, true);
    v.setUint32(8, 0, true);
    v.setUint32(12, typeLen, true);
    v.setUint32(16, typeLen, true);
    v.setUint32(20, this.strs.length, true);
    this.words.forEach((w, i) => v.setUint32(24 + 4 * i, w, true));
    out.set(this.strs, 24 + typeLen);
    return out;
  }
}
