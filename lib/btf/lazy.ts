/**
 * The pieces of lazy BTF: a name → type index built from the records' name offsets alone (a
 * hash of the name bytes, in typed arrays: no string is made and no type decoded), and a string
 * reader that decodes one string at a time.
 *
 * Pure: works on bytes, runs in any JS runtime.
 *
 * @module
 */
import type { BtfIndex, SplitBase } from "./parse.ts";
import { BTF_KIND } from "./types.ts";

/** Where the bytes of a string live: the blob and the index of its first byte there. */
export type StringLocator = (offset: number) => { bytes: Uint8Array; at: number };

/** FNV-1a over the NUL-terminated bytes at `at`. */
function hashBytes(bytes: Uint8Array, at: number): number {
  let h = 0x811c9dc5;
  for (let i = at;; i++) {
    const b = bytes[i];
    if (b === 0 || b === undefined) return h >>> 0;
    h = Math.imul(h ^ b, 0x01000193);
  }
}

const encoder = new TextEncoder();

/** The UTF-8 bytes of `s` (a fast path for ASCII names). */
function utf8(s: string): Uint8Array {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x80) return encoder.encode(s);
    out[i] = c;
  }
  return out;
}

/** Lookups answered by scanning the names before the hash table is built. */
const SCANS_BEFORE_TABLE = 8;

/**
 * Type ids by name. The first few lookups scan the records' names, comparing bytes (a process that
 * asks for a handful of names, like one CO-RE load, never pays for a table); after that, one open
 * hash table (`heads`, by hash of the name bytes) with chains through `next`, built in one pass over
 * the records' name offsets. No name is decoded either way.
 *
 * @example
 * ```ts
 * import { indexBtf } from "./parse.ts";
 * import { NameIndex } from "./lazy.ts";
 * const bytes = new Uint8Array([0x9f, 0xeb, 1, 0, 24, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0]); // an empty BTF blob
 * const ix = indexBtf(bytes);
 * const names = new NameIndex(ix, (o) => ({ bytes, at: ix.strStart + o }), false);
 * names.ids("task_struct");
 * ```
 */
export class NameIndex {
  readonly #ix: BtfIndex;
  readonly #locate: StringLocator;
  readonly #funcs: boolean;
  #heads: Int32Array | undefined;
  #next: Int32Array | undefined;
  #mask = 0;
  /** The indexed types (id − firstId); chains link positions in this list. */
  #list: Int32Array | undefined;
  #scans = 0;

  /**
   * An index of the named types of `ix`: the functions when `funcs`, else every other named
   * type. `locate` finds a string's bytes. Nothing is built until asked.
   */
  constructor(ix: BtfIndex, locate: StringLocator, funcs: boolean) {
    this.#ix = ix;
    this.#locate = locate;
    this.#funcs = funcs;
  }

  /** The positions (id − firstId) of the types this index covers. */
  #types(): Int32Array {
    if (this.#list !== undefined) return this.#list;
    const ix = this.#ix;
    if (!this.#funcs) return this.#list = ix.namedOther;
    const { words, offsets, typeStart } = ix;
    const list = new Int32Array(ix.count - ix.namedOther.length);
    let n = 0;
    for (let i = 0; i < ix.count; i++) {
      const w = (offsets[i] - typeStart) >>> 2;
      if (((words[w + 1] >>> 24) & 0x1f) === BTF_KIND.func && words[w] !== 0) list[n++] = i;
    }
    return this.#list = list.subarray(0, n);
  }

  #build(list: Int32Array): void {
    const { words, offsets, typeStart, strStart, baseStrLen } = this.#ix;
    let cap = 64;
    while (cap < list.length * 2) cap *= 2;
    const heads = new Int32Array(cap).fill(-1);
    const next = new Int32Array(list.length);
    const mask = cap - 1;
    const own = this.#ix.bytes;
    const locate = this.#locate;
    for (let j = 0; j < list.length; j++) {
      const nameOff = words[(offsets[list[j]] - typeStart) >>> 2];
      let h: number;
      if (nameOff >= baseStrLen) h = hashBytes(own, strStart + nameOff - baseStrLen);
      else {
        const l = locate(nameOff);
        h = hashBytes(l.bytes, l.at);
      }
      const slot = h & mask;
      next[j] = heads[slot];
      heads[slot] = j;
    }
    this.#heads = heads;
    this.#next = next;
    this.#mask = mask;
  }

  /** Ids of the types named `name`, in id order. */
  ids(name: string): number[] {
    if (name === "") return [];
    const want = utf8(name);
    const list = this.#types();
    if (this.#heads === undefined && this.#scans++ < SCANS_BEFORE_TABLE) {
      return this.#scan(list, want);
    }
    if (this.#heads === undefined) this.#build(list);
    const heads = this.#heads!;
    const next = this.#next!;
    let h = 0x811c9dc5;
    for (let i = 0; i < want.length; i++) h = Math.imul(h ^ want[i], 0x01000193);
    const { words, offsets, typeStart, firstId } = this.#ix;
    const out: number[] = [];
    for (let j = heads[(h >>> 0) & this.#mask]; j >= 0; j = next[j]) {
      const i = list[j];
      const l = this.#locate(words[(offsets[i] - typeStart) >>> 2]);
      const bytes = l.bytes;
      let k = 0;
      while (k < want.length && bytes[l.at + k] === want[k]) k++;
      if (k === want.length && bytes[l.at + k] === 0) out.push(firstId + i);
    }
    // Chains run from the last inserted: newest first.
    return out.reverse();
  }

  /** One pass over the names, comparing the first byte, then the rest. */
  #scan(list: Int32Array, want: Uint8Array): number[] {
    const { words, offsets, typeStart, strStart, baseStrLen, firstId } = this.#ix;
    const own = this.#ix.bytes;
    const first = want[0];
    const n = want.length;
    const out: number[] = [];
    for (let j = 0; j < list.length; j++) {
      const i = list[j];
      const nameOff = words[(offsets[i] - typeStart) >>> 2];
      let bytes = own;
      let at = strStart + nameOff - baseStrLen;
      if (nameOff < baseStrLen) {
        const l = this.#locate(nameOff);
        bytes = l.bytes;
        at = l.at;
      }
      if (bytes[at] !== first) continue;
      let k = 1;
      while (k < n && bytes[at + k] === want[k]) k++;
      if (k === n && bytes[at + k] === 0) out.push(firstId + i);
    }
    return out;
  }

  /** Bytes held by the index's tables (0 until the hash table is built). */
  get byteLength(): number {
    return (this.#heads?.byteLength ?? 0) + (this.#next?.byteLength ?? 0) +
      (this.#list?.byteLength ?? 0);
  }
}

const decoder = new TextDecoder();

/**
 * A string reader that decodes only the string asked for (ASCII without TextDecoder), for blobs
 * where few strings are ever read (the kernel's BTF).
 *
 * @example
 * ```ts
 * import { lazyStringReader } from "./lazy.ts";
 * const bytes = new Uint8Array([0x9f, 0xeb, 1, 0, 24, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0]); // an empty BTF blob
 * lazyStringReader(bytes, 24, bytes.length, undefined)(0); // ""
 * ```
 */
export function lazyStringReader(
  bytes: Uint8Array,
  start: number,
  end: number,
  base: SplitBase | undefined,
): (offset: number) => string {
  const baseLen = base?.strLen ?? 0;
  return (offset: number): string => {
    if (offset < baseLen) return base!.string(offset);
    const from = start + offset - baseLen;
    let stop = bytes.indexOf(0, from);
    if (stop < 0 || stop > end) stop = end;
    const slice = bytes.subarray(from, stop);
    if (slice.length <= 128) {
      let ascii = true;
      for (let i = 0; i < slice.length; i++) {
        if (slice[i] >= 0x80) {
          ascii = false;
          break;
        }
      }
      if (ascii) return String.fromCharCode.apply(null, slice as unknown as number[]);
    }
    return decoder.decode(slice);
  };
}
