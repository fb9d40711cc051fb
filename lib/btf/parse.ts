/**
 * Decoding of a raw BTF blob (header, string section, type section) into `BtfType` objects.
 *
 * Pure: works on bytes, runs in any JS runtime. Both byte orders are accepted (the magic tells).
 *
 * @module
 */

import { BtfError } from "./error.ts";
import type {
  BtfEnum64Value,
  BtfEnumValue,
  BtfMember,
  BtfParam,
  BtfType,
  BtfVarSecinfo,
} from "./types.ts";
import { BTF_KIND, BTF_KIND_NAMES } from "./types.ts";

/** `BTF_MAGIC`. */
export const BTF_MAGIC = 0xeb9f;
/** `BTF_VERSION`. */
const BTF_VERSION = 1;
/** Size of `struct btf_header` as of kernel 6.18. */
const BTF_HEADER_SIZE = 24;
/** Size of `struct btf_type` (name_off, info, size/type). */
const TYPE_SIZE = 12;

/** Whether this machine is little-endian. */
const HOST_LE = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
const KIND_COUNT = BTF_KIND_NAMES.length;
/** Words after a record's 3-word header, fixed, by kind. */
const EXTRA_FIXED = new Uint8Array(32);
/** Words after a record's header per `vlen` entry, by kind. */
const EXTRA_PER_VLEN = new Uint8Array(32);
EXTRA_FIXED[BTF_KIND.int] = EXTRA_FIXED[BTF_KIND.var] = EXTRA_FIXED[BTF_KIND.decl_tag] = 1;
EXTRA_FIXED[BTF_KIND.array] = 3;
for (const k of [BTF_KIND.struct, BTF_KIND.union, BTF_KIND.datasec, BTF_KIND.enum64]) {
  EXTRA_PER_VLEN[k] = 3;
}
EXTRA_PER_VLEN[BTF_KIND.enum] = EXTRA_PER_VLEN[BTF_KIND.func_proto] = 2;
/**
 * A record's length rule by the top byte of its info word (kflag, 2 reserved bits, 5 kind bits):
 * low byte the words up to the vlen entries (header included), high byte the words per entry; 0
 * for a reserved bit set or an unknown kind. One lookup per record in `indexBtf`.
 */
const RECORD_WORDS = new Uint16Array(256);
for (let kind = 1; kind < KIND_COUNT; kind++) {
  const rule = (3 + EXTRA_FIXED[kind]) | (EXTRA_PER_VLEN[kind] << 8);
  RECORD_WORDS[kind] = RECORD_WORDS[kind | 0x80] = rule;
}

/**
 * `struct btf_header`. Section offsets are relative to the end of the header (`hdrLen`).
 *
 * @example
 * ```ts
 * import { parseBtf } from "@tsbpf/core/btf";
 * declare const bytes: Uint8Array;
 * const { typeLen, strLen } = parseBtf(bytes).header;
 * ```
 */
export interface BtfHeader {
  /** Format version (1). */
  readonly version: number;
  /** Header flags (none defined). */
  readonly flags: number;
  /** Header length in bytes. */
  readonly hdrLen: number;
  /** Offset of the type section after the header. */
  readonly typeOff: number;
  /** Length of the type section. */
  readonly typeLen: number;
  /** Offset of the string section after the header. */
  readonly strOff: number;
  /** Length of the string section. */
  readonly strLen: number;
}

/** What a base BTF contributes to parsing split BTF (kernel module BTF on top of vmlinux). */
export interface SplitBase {
  /** Number of type ids the base uses, including id 0. */
  readonly typeCount: number;
  /** Length of the base's string section; split string offsets start there. */
  readonly strLen: number;
  /** Reads a base string. */
  string(offset: number): string;
}

/** The decoded parts of a blob, before they are wrapped in a `Btf`. */
export interface RawBtf {
  /** The header. */
  readonly header: BtfHeader;
  /** Whether the blob is little-endian. */
  readonly littleEndian: boolean;
  /** The types of this blob, the first with id `firstId`. */
  readonly types: BtfType[];
  /** Id of the first type of this blob: 1, or the base's type count for split BTF. */
  readonly firstId: number;
  /** Reads a string by offset (base strings included for split BTF). */
  readonly string: (offset: number) => string;
}

/** One decoder for every blob (making one costs more than decoding a small string section). */
const decoder = new TextDecoder();

/**
 * Builds a string reader over the string section `[start, end)` of `bytes` (base strings first
 * for split BTF).
 *
 * @example
 * ```ts
 * import { stringReader } from "./parse.ts";
 * const bytes = new Uint8Array([0x9f, 0xeb, 1, 0, 24, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0]); // an empty BTF blob
 * const read = stringReader(bytes, 24, bytes.length, undefined);
 * ```
 */
export function stringReader(
  bytes: Uint8Array,
  start: number,
  end: number,
  base: SplitBase | undefined,
): (offset: number) => string {
  const sec = bytes.subarray(start, end);
  const baseLen = base?.strLen ?? 0;
  let ascii = true;
  for (let i = 0; i < sec.length; i++) {
    if (sec[i] >= 0x80) {
      ascii = false;
      break;
    }
  }
  if (ascii) {
    // One decode of the whole section; byte offsets equal character offsets.
    const text = decoder.decode(sec);
    return (offset: number): string => {
      if (offset < baseLen) return base!.string(offset);
      const o = offset - baseLen;
      return text.slice(o, text.indexOf("\0", o));
    };
  }
  const cache = new Map<number, string>();
  return (offset: number): string => {
    if (offset < baseLen) return base!.string(offset);
    const o = offset - baseLen;
    let s = cache.get(o);
    if (s === undefined) {
      s = decoder.decode(sec.subarray(o, sec.indexOf(0, o)));
      cache.set(o, s);
    }
    return s;
  };
}

/**
 * The result of one pass over a BTF blob's type section: where each type's record starts, with
 * every header check done (magic, version, section bounds, each record's kind, reserved bits,
 * length and name offset) but no type decoded. {@link decodeBtfType} decodes one type from it.
 */
export interface BtfIndex {
  /** The header. */
  readonly header: BtfHeader;
  /** Whether the blob is little-endian. */
  readonly littleEndian: boolean;
  /** Id of the first type of this blob: 1, or the base's type count for split BTF. */
  readonly firstId: number;
  /** Number of types in this blob. */
  readonly count: number;
  /** Byte offset in `bytes` of the record of type `firstId + i`. */
  readonly offsets: Int32Array;
  /** The blob. */
  readonly bytes: Uint8Array;
  /** The blob, as a DataView. */
  readonly view: DataView;
  /**
   * The type section as 32-bit words in host byte order, signed (a view over `bytes` when the
   * blob is aligned and in host order, else a converted copy); word `(offsets[i] - typeStart) / 4`
   * is type i's name offset.
   */
  readonly words: Int32Array;
  /** Where the type section starts in `bytes`. */
  readonly typeStart: number;
  /** Indices (id − firstId) of the named types that are not functions, in id order. */
  readonly namedOther: Int32Array;
  /** Where the string section starts and ends in `bytes`. */
  readonly strStart: number;
  /** End of the string section in `bytes`. */
  readonly strEnd: number;
  /** String offsets below this belong to the base (0 without a base). */
  readonly baseStrLen: number;
  /** One past the last valid string offset (base strings included). */
  readonly strLimit: number;
}

/**
 * Checks the header of a BTF blob and finds the record of every type in one pass, without
 * decoding any. Throws `BtfError` (with the byte offset) on malformed input.
 *
 * @example
 * ```ts
 * import { indexBtf } from "./parse.ts";
 * const bytes = new Uint8Array([0x9f, 0xeb, 1, 0, 24, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0]); // an empty BTF blob
 * indexBtf(bytes).count; // 0
 * ```
 */
export function indexBtf(bytes: Uint8Array, base?: SplitBase): BtfIndex {
  if (bytes.length < 8) {
    throw new BtfError(`blob of ${bytes.length} bytes is too short for a BTF header`, 0);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let le: boolean;
  if (view.getUint16(0, true) === BTF_MAGIC) le = true;
  else if (view.getUint16(0, false) === BTF_MAGIC) le = false;
  else {
    const got = view.getUint16(0, true).toString(16).padStart(4, "0");
    throw new BtfError(`bad magic 0x${got} (expected 0xeb9f)`, 0);
  }
  const version = view.getUint8(2);
  if (version !== BTF_VERSION) throw new BtfError(`unsupported version ${version}`, 2);
  const flags = view.getUint8(3);
  const hdrLen = view.getUint32(4, le);
  if (hdrLen < BTF_HEADER_SIZE) {
    throw new BtfError(`header length ${hdrLen} is less than ${BTF_HEADER_SIZE}`, 4);
  }
  if (hdrLen > bytes.length) {
    throw new BtfError(`header length ${hdrLen} exceeds blob size ${bytes.length}`, 4);
  }
  const header: BtfHeader = {
    version,
    flags,
    hdrLen,
    typeOff: view.getUint32(8, le),
    typeLen: view.getUint32(12, le),
    strOff: view.getUint32(16, le),
    strLen: view.getUint32(20, le),
  };
  const typeStart = hdrLen + header.typeOff;
  const typeEnd = typeStart + header.typeLen;
  const strStart = hdrLen + header.strOff;
  const strEnd = strStart + header.strLen;
  if (typeEnd > bytes.length) {
    throw new BtfError(
      `type section [${typeStart}, ${typeEnd}) exceeds blob size ${bytes.length}`,
      8,
    );
  }
  if (strEnd > bytes.length) {
    throw new BtfError(
      `string section [${strStart}, ${strEnd}) exceeds blob size ${bytes.length}`,
      16,
    );
  }
  if (header.typeOff % 4 !== 0) {
    throw new BtfError(`type section offset ${header.typeOff} is not 4-byte aligned`, 8);
  }
  if (typeStart < strEnd && strStart < typeEnd) {
    throw new BtfError("type and string sections overlap", 8);
  }
  if (base === undefined) {
    if (header.strLen === 0) throw new BtfError("string section is empty", 20);
    if (bytes[strStart] !== 0) {
      throw new BtfError("string section does not start with a NUL byte", strStart);
    }
  }
  if (header.strLen > 0 && bytes[strEnd - 1] !== 0) {
    throw new BtfError("string section does not end with a NUL byte", strEnd - 1);
  }
  const baseStrLen = base?.strLen ?? 0;
  const strLimit = baseStrLen + header.strLen;
  const firstId = base?.typeCount ?? 1;

  // The type section as host-order words: records are whole words (12 bytes + 4·n). Signed
  // words: an info word with kflag set stays a small integer in every JIT tier.
  const nWords = header.typeLen >>> 2;
  let words: Int32Array;
  if (le === HOST_LE && (bytes.byteOffset + typeStart) % 4 === 0) {
    words = new Int32Array(bytes.buffer, bytes.byteOffset + typeStart, nWords);
  } else {
    words = new Int32Array(nWords);
    for (let i = 0; i < nWords; i++) words[i] = view.getInt32(typeStart + 4 * i, le);
  }
  // Every record is at least 12 bytes: enough room for the largest possible count.
  const most = Math.max(1, Math.floor(header.typeLen / TYPE_SIZE));
  let offsets = new Int32Array(most);
  const named = new Int32Array(most);
  let nNamed = 0;
  let count = 0;
  let w = 0;
  const endWord = header.typeLen / 4; // a trailing partial word counts as truncation below
  // The one pass over every record (the kernel's 125k at a cold start, mostly before the JIT has
  // compiled this loop): as few operations per record as the checks allow. A record cut short
  // reads past `words` (undefined: kind 0) or ends past `endWord`; either way `recordError`
  // says which.
  const rules = RECORD_WORDS; // locals: a module binding costs more per read in the interpreter
  const funcMask = FUNC_MASK;
  const funcInfo = FUNC_INFO;
  while (w < endWord) {
    const nameOff = words[w];
    const info = words[w + 1];
    const rule = rules[info >>> 24];
    // Words: the header and fixed part, plus vlen entries of some words each.
    const next = w + (rule & 0xff) + (rule >>> 8) * (info & 0xffff);
    if (
      rule === 0 || (info & 0xff0000) !== 0 || next > endWord || nameOff < 0 ||
      nameOff >= strLimit
    ) {
      recordError(words, w, firstId + count, typeStart, typeEnd, strLimit);
    }
    if (nameOff !== 0 && (info & funcMask) !== funcInfo) named[nNamed++] = count;
    offsets[count++] = typeStart + 4 * w;
    w = next;
  }
  const namedOther = named.slice(0, nNamed);
  if (count < offsets.length) offsets = offsets.slice(0, count);
  return {
    header,
    littleEndian: le,
    firstId,
    count,
    offsets,
    bytes,
    view,
    words,
    typeStart,
    namedOther,
    strStart,
    strEnd,
    baseStrLen,
    strLimit,
  };
}

/** The kind bits of an info word, and their value for a function. */
const FUNC_MASK = 0x1f000000;
const FUNC_INFO = BTF_KIND.func << 24;

/** Throws the error of the malformed record at word `w` of the type section. */
function recordError(
  words: Int32Array,
  w: number,
  id: number,
  typeStart: number,
  typeEnd: number,
  strLimit: number,
): never {
  const pos = typeStart + 4 * w;
  if (pos + TYPE_SIZE > typeEnd) {
    throw new BtfError(`type [${id}]: record truncated (${typeEnd - pos} bytes left)`, pos);
  }
  const nameOff = words[w] >>> 0;
  const info = words[w + 1] >>> 0;
  const kind = (info >>> 24) & 0x1f;
  if ((info & 0x60ff0000) !== 0) {
    throw new BtfError(`type [${id}]: reserved bits set in info 0x${info.toString(16)}`, pos + 4);
  }
  if (kind === 0 || kind >= KIND_COUNT) {
    throw new BtfError(`type [${id}]: unknown kind ${kind}`, pos + 4);
  }
  if (nameOff >= strLimit) {
    throw new BtfError(
      `name offset ${nameOff} is outside the string section (${strLimit} bytes)`,
      pos,
    );
  }
  const extra = EXTRA_FIXED[kind] + EXTRA_PER_VLEN[kind] * (info & 0xffff);
  throw new BtfError(
    `type [${id}] ${BTF_KIND_NAMES[kind]}: needs ${4 * extra} bytes after its header, only ${
      typeEnd - pos - TYPE_SIZE
    } left`,
    pos,
  );
}

/**
 * Decodes type `firstId + i` of an indexed blob. `name` reads a string by offset (checked
 * against the string section); every type id the type refers to is checked against the blob's
 * last id. Throws `BtfError` (with the byte offset) on malformed input.
 *
 * @example
 * ```ts
 * import { decodeBtfType, indexBtf } from "./parse.ts";
 * declare const bytes: Uint8Array, name: (off: number, at: number) => string;
 * const ix = indexBtf(bytes);
 * decodeBtfType(ix, 0, name).kind;
 * ```
 */
export function decodeBtfType(
  ix: BtfIndex,
  i: number,
  name: (off: number, at: number) => string,
): BtfType {
  const view = ix.view;
  const le = ix.littleEndian;
  const pos = ix.offsets[i];
  const id = ix.firstId + i;
  const nameOff = view.getUint32(pos, le);
  const info = view.getUint32(pos + 4, le);
  const sizeOrType = view.getUint32(pos + 8, le);
  const kind = (info >>> 24) & 0x1f;
  const vlen = info & 0xffff;
  const kflag = info >>> 31 === 1;
  const tname = name(nameOff, pos);
  const data = pos + TYPE_SIZE;
  let t: BtfType;
  switch (kind) {
    case BTF_KIND.int: {
      const enc = view.getUint32(data, le);
      t = {
        id,
        kind: "int",
        name: tname,
        size: sizeOrType,
        bits: enc & 0xff,
        bitOffset: (enc >>> 16) & 0xff,
        encoding: (enc >>> 24) & 0x0f,
      };
      break;
    }
    case BTF_KIND.ptr:
      t = { id, kind: "ptr", name: tname, type: sizeOrType };
      break;
    case BTF_KIND.array:
      t = {
        id,
        kind: "array",
        name: tname,
        type: view.getUint32(data, le),
        indexType: view.getUint32(data + 4, le),
        nelems: view.getUint32(data + 8, le),
      };
      break;
    case BTF_KIND.struct:
    case BTF_KIND.union: {
      const members: BtfMember[] = new Array(vlen);
      for (let i = 0, p = data; i < vlen; i++, p += 12) {
        const off = view.getUint32(p + 8, le);
        members[i] = {
          name: name(view.getUint32(p, le), p),
          type: view.getUint32(p + 4, le),
          bitOffset: kflag ? off & 0xffffff : off,
          bitfieldSize: kflag ? off >>> 24 : 0,
        };
      }
      t = kind === BTF_KIND.struct
        ? { id, kind: "struct", name: tname, size: sizeOrType, members }
        : { id, kind: "union", name: tname, size: sizeOrType, members };
      break;
    }
    case BTF_KIND.enum: {
      const values: BtfEnumValue[] = new Array(vlen);
      for (let i = 0, p = data; i < vlen; i++, p += 8) {
        values[i] = {
          name: name(view.getUint32(p, le), p),
          value: kflag ? view.getInt32(p + 4, le) : view.getUint32(p + 4, le),
        };
      }
      t = { id, kind: "enum", name: tname, size: sizeOrType, signed: kflag, values };
      break;
    }
    case BTF_KIND.enum64: {
      const values: BtfEnum64Value[] = new Array(vlen);
      for (let i = 0, p = data; i < vlen; i++, p += 12) {
        const raw = (BigInt(view.getUint32(p + 8, le)) << 32n) |
          BigInt(view.getUint32(p + 4, le));
        values[i] = {
          name: name(view.getUint32(p, le), p),
          value: kflag ? BigInt.asIntN(64, raw) : raw,
        };
      }
      t = { id, kind: "enum64", name: tname, size: sizeOrType, signed: kflag, values };
      break;
    }
    case BTF_KIND.fwd:
      t = { id, kind: "fwd", name: tname, union: kflag };
      break;
    case BTF_KIND.typedef:
      t = { id, kind: "typedef", name: tname, type: sizeOrType };
      break;
    case BTF_KIND.volatile:
      t = { id, kind: "volatile", name: tname, type: sizeOrType };
      break;
    case BTF_KIND.const:
      t = { id, kind: "const", name: tname, type: sizeOrType };
      break;
    case BTF_KIND.restrict:
      t = { id, kind: "restrict", name: tname, type: sizeOrType };
      break;
    case BTF_KIND.func:
      t = { id, kind: "func", name: tname, type: sizeOrType, linkage: vlen };
      break;
    case BTF_KIND.func_proto: {
      const params: BtfParam[] = [];
      let variadic = false;
      for (let i = 0, p = data; i < vlen; i++, p += 8) {
        const pn = view.getUint32(p, le);
        const pt = view.getUint32(p + 4, le);
        if (i === vlen - 1 && pn === 0 && pt === 0) variadic = true;
        else params.push({ name: name(pn, p), type: pt });
      }
      t = { id, kind: "func_proto", name: tname, returnType: sizeOrType, params, variadic };
      break;
    }
    case BTF_KIND.var:
      t = { id, kind: "var", name: tname, type: sizeOrType, linkage: view.getUint32(data, le) };
      break;
    case BTF_KIND.datasec: {
      const vars: BtfVarSecinfo[] = new Array(vlen);
      for (let i = 0, p = data; i < vlen; i++, p += 12) {
        vars[i] = {
          type: view.getUint32(p, le),
          offset: view.getUint32(p + 4, le),
          size: view.getUint32(p + 8, le),
        };
      }
      t = { id, kind: "datasec", name: tname, size: sizeOrType, vars };
      break;
    }
    case BTF_KIND.float:
      t = { id, kind: "float", name: tname, size: sizeOrType };
      break;
    case BTF_KIND.decl_tag:
      t = {
        id,
        kind: "decl_tag",
        name: tname,
        type: sizeOrType,
        componentIdx: view.getInt32(data, le),
        attr: kflag,
      };
      break;
    default: // BTF_KIND.type_tag
      t = { id, kind: "type_tag", name: tname, type: sizeOrType, attr: kflag };
  }
  checkRefs(t, ix.firstId + ix.count, pos);
  return t;
}

/** Throws when a type id that `t` refers to is past the last id (`limit - 1`). */
function checkRefs(t: BtfType, limit: number, at: number): void {
  // This runs for every decoded type: no closure, and the message is built only for the error.
  switch (t.kind) {
    case "ptr":
    case "typedef":
    case "volatile":
    case "const":
    case "restrict":
    case "func":
    case "var":
    case "decl_tag":
    case "type_tag":
      if (t.type >= limit) refError(t, limit, at, t.type, "type");
      break;
    case "array":
      if (t.type >= limit) refError(t, limit, at, t.type, "element type");
      if (t.indexType >= limit) refError(t, limit, at, t.indexType, "index type");
      break;
    case "struct":
    case "union":
      for (const m of t.members) {
        if (m.type >= limit) refError(t, limit, at, m.type, `member ${JSON.stringify(m.name)}`);
      }
      break;
    case "func_proto":
      if (t.returnType >= limit) refError(t, limit, at, t.returnType, "return type");
      for (const p of t.params) {
        if (p.type >= limit) refError(t, limit, at, p.type, `parameter ${JSON.stringify(p.name)}`);
      }
      break;
    case "datasec":
      for (const v of t.vars) if (v.type >= limit) refError(t, limit, at, v.type, "variable");
      break;
  }
}

function refError(t: BtfType, limit: number, at: number, ref: number, what: string): never {
  throw new BtfError(
    `type [${t.id}] ${t.kind}: ${what} refers to type id ${ref}, but the last id is ${limit - 1}`,
    at,
  );
}

/**
 * A string reader for an indexed blob that throws `BtfError` for offsets outside the string
 * section (`at`: the byte offset to report); offset 0 is the empty string.
 *
 * @example
 * ```ts
 * import { indexBtf, nameReader, stringReader } from "./parse.ts";
 * const bytes = new Uint8Array([0x9f, 0xeb, 1, 0, 24, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0]); // an empty BTF blob
 * const ix = indexBtf(bytes);
 * const name = nameReader(ix, stringReader(bytes, ix.strStart, ix.strEnd, undefined));
 * ```
 */
export function nameReader(
  ix: BtfIndex,
  string: (offset: number) => string,
): (off: number, at: number) => string {
  const strLimit = ix.strLimit;
  return (off: number, at: number): string => {
    if (off >= strLimit) {
      throw new BtfError(
        `name offset ${off} is outside the string section (${strLimit} bytes)`,
        at,
      );
    }
    return off === 0 ? "" : string(off);
  };
}

/**
 * Decodes a BTF blob. Throws `BtfError` (with the byte offset) on malformed input.
 *
 * @example
 * ```ts
 * import { parseBtfRaw } from "./parse.ts";
 * const bytes = new Uint8Array([0x9f, 0xeb, 1, 0, 24, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0]); // an empty BTF blob
 * const raw = parseBtfRaw(bytes);
 * raw.types.length; // 1: void
 * ```
 */
export function parseBtfRaw(bytes: Uint8Array, base?: SplitBase): RawBtf {
  const ix = indexBtf(bytes, base);
  const string = stringReader(bytes, ix.strStart, ix.strEnd, base);
  const name = nameReader(ix, string);
  const types: BtfType[] = new Array(ix.count);
  for (let i = 0; i < ix.count; i++) types[i] = decodeBtfType(ix, i, name);
  return { header: ix.header, littleEndian: ix.littleEndian, types, firstId: ix.firstId, string };
}
