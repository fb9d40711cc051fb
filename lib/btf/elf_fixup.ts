/**
 * Makes an object's `.BTF` acceptable to `BPF_BTF_LOAD`: clang leaves DATASEC sizes and variable
 * offsets at 0 (they are known only once the ELF is laid out), and the kernel refuses that. Sizes
 * come from the ELF section sizes, offsets from the symbols' values, as libbpf does. Pure.
 *
 * @module
 */
import type { ElfFile } from "../elf/elf.ts";
import { STB, STT } from "../elf/elf.ts";
import { ElfError } from "../elf/error.ts";
import type { ExternSpec } from "../elf/externs.ts";

const KIND_INT = 1;
const KIND_FUNC = 12;
const KIND_FUNC_PROTO = 13;
const KIND_VAR = 14;
const KIND_DATASEC = 15;
const VAR_GLOBAL_ALLOCATED = 1;
const FUNC_GLOBAL = 1;

/** Extra bytes after the 12-byte `struct btf_type` for kind `kind` with `vlen` entries. */
function extraSize(kind: number, vlen: number): number {
  switch (kind) {
    case 1: // int
    case 14: // var
    case 17: // decl_tag
      return 4;
    case 3: // array
      return 12;
    case 4: // struct
    case 5: // union
    case 15: // datasec
    case 19: // enum64
      return 12 * vlen;
    case 6: // enum
    case 13: // func_proto
      return 8 * vlen;
    default:
      return 0;
  }
}

/**
 * Returns a copy of `btf` (the object's raw `.BTF`) with every DATASEC's size set to its ELF
 * section's size and each variable's offset set to its symbol's value, variables sorted by offset.
 * A DATASEC without an ELF section (all its variables were optimized out) is left alone.
 *
 * Global functions with hidden visibility become static (verified in their caller's context), as
 * libbpf makes them. Extern DATASECs are made loadable as libbpf makes them: `.kconfig` variables become allocated
 * at their offsets in the `.kconfig` map (from `externs`); `.ksyms` variables become allocated
 * 4-byte ints, and kfunc entries point at an added `dummy_ksym` variable, their FUNCs made global
 * and their unnamed parameters named (the kernel refuses extern linkage and unnamed parameters).
 *
 * @example
 * ```ts
 * import { fixupBtf, parseElf } from "@tsbpf/core/elf";
 * declare const bytes: Uint8Array;
 * const elf = parseElf(bytes);
 * const kernelReady = fixupBtf(elf.section(".BTF")!.data, elf);
 * ```
 */
export function fixupBtf(
  btf: Uint8Array,
  elf: ElfFile,
  externs: readonly ExternSpec[] = [],
): Uint8Array {
  const hasDummy = externs.some((e) => e.kind !== "kconfig");
  const out = hasDummy ? withDummyKsym(btf) : btf.slice();
  const v = new DataView(out.buffer, out.byteOffset, out.byteLength);
  const hdrLen = v.getUint32(4, true);
  const typeOff = hdrLen + v.getUint32(8, true);
  const typeEnd = typeOff + v.getUint32(12, true);
  const strOff = hdrLen + v.getUint32(16, true);
  const strEnd = strOff + v.getUint32(20, true);
  const str = (off: number): string => {
    let e = strOff + off;
    while (e < strEnd && out[e] !== 0) e++;
    return new TextDecoder().decode(out.subarray(strOff + off, e));
  };
  // First pass: where each type record starts (ids from 1), and VAR names by id.
  const starts: number[] = [0];
  for (let at = typeOff; at < typeEnd;) {
    if (at + 12 > typeEnd) throw new ElfError(".BTF: truncated type record", at);
    starts.push(at);
    const info = v.getUint32(at + 4, true);
    at += 12 + extraSize((info >>> 24) & 0x1f, info & 0xffff);
  }
  const symbolsBySection = new Map<string, Map<string, number>>();
  for (const s of elf.symbols) {
    if (s.type === STT.SECTION || s.type === STT.FILE || s.section >= elf.sections.length) continue;
    const name = elf.sections[s.section]?.name;
    if (name === undefined) continue;
    let m = symbolsBySection.get(name);
    if (m === undefined) symbolsBySection.set(name, m = new Map());
    m.set(s.name, s.value);
  }
  // As libbpf: a global function with hidden or internal visibility (`__hidden`, as libbpf's
  // usdt.bpf.h helpers) is verified as static, in its caller's context.
  const hidden = new Set<string>();
  for (const s of elf.symbols) {
    if (s.type === STT.FUNC && s.bind !== STB.LOCAL && (s.visibility === 1 || s.visibility === 2)) {
      hidden.add(s.name);
    }
  }
  for (let id = 1; id < starts.length; id++) {
    const at = starts[id];
    const info = v.getUint32(at + 4, true);
    const kind = (info >>> 24) & 0x1f;
    if (kind === KIND_FUNC && hidden.size > 0 && (info & 0xffff) === FUNC_GLOBAL) {
      if (hidden.has(str(v.getUint32(at, true)))) v.setUint32(at + 4, info & ~0xffff, true);
      continue;
    }
    if (kind !== KIND_DATASEC) continue;
    const name = str(v.getUint32(at, true));
    if (name === ".kconfig" || name === ".ksyms") {
      fixupExternDatasec(v, at, name, starts, str, externs, hasDummy);
      continue;
    }
    const section = elf.section(name);
    if (section === undefined) continue;
    v.setUint32(at + 8, section.size, true);
    const syms = symbolsBySection.get(name);
    const vlen = info & 0xffff;
    const entries: [number, number, number][] = [];
    for (let i = 0; i < vlen; i++) {
      const e = at + 12 + i * 12;
      const varId = v.getUint32(e, true);
      let offset = v.getUint32(e + 4, true);
      const varAt = starts[varId];
      if (varAt !== undefined) {
        const value = syms?.get(str(v.getUint32(varAt, true)));
        if (value !== undefined) offset = value;
      }
      entries.push([varId, offset, v.getUint32(e + 8, true)]);
    }
    entries.sort((a, b) => a[1] - b[1]);
    entries.forEach(([t, o, s], i) => {
      const e = at + 12 + i * 12;
      v.setUint32(e, t, true);
      v.setUint32(e + 4, o, true);
      v.setUint32(e + 8, s, true);
    });
  }
  return out;
}

/** Name of the variable added for kfunc entries of `.ksyms` (libbpf's name for it). */
const DUMMY_KSYM = "dummy_ksym";

/**
 * Appends an int (when there is no 4-byte int) and a VAR `dummy_ksym` to the BTF; its id is the
 * last type id, the int's the one before it or an existing one.
 */
function withDummyKsym(btf: Uint8Array): Uint8Array {
  const v = new DataView(btf.buffer, btf.byteOffset, btf.byteLength);
  const hdrLen = v.getUint32(4, true);
  const typeOff = hdrLen + v.getUint32(8, true);
  const typeLen = v.getUint32(12, true);
  const strOff = hdrLen + v.getUint32(16, true);
  const strLen = v.getUint32(20, true);
  let intId = 0;
  let id = 1;
  for (let at = typeOff; at < typeOff + typeLen; id++) {
    const info = v.getUint32(at + 4, true);
    const kind = (info >>> 24) & 0x1f;
    if (intId === 0 && kind === KIND_INT && v.getUint32(at + 8, true) === 4) {
      const enc = v.getUint32(at + 12, true);
      if ((enc & 0xff) === 32 && ((enc >>> 16) & 0xff) === 0) intId = id;
    }
    at += 12 + extraSize(kind, info & 0xffff);
  }
  const nameBytes = new TextEncoder().encode(DUMMY_KSYM + "\0");
  const intName = new TextEncoder().encode("int\0");
  const addInt = intId === 0;
  const extraTypes = (addInt ? 16 : 0) + 16;
  const extraStr = nameBytes.length + (addInt ? intName.length : 0);
  const out = new Uint8Array(hdrLen + typeLen + extraTypes + strLen + extraStr);
  const o = new DataView(out.buffer);
  out.set(btf.subarray(0, hdrLen), 0);
  out.set(btf.subarray(typeOff, typeOff + typeLen), hdrLen);
  out.set(btf.subarray(strOff, strOff + strLen), hdrLen + typeLen + extraTypes);
  const newStr = hdrLen + typeLen + extraTypes + strLen;
  out.set(nameBytes, newStr);
  if (addInt) out.set(intName, newStr + nameBytes.length);
  let at = hdrLen + typeLen;
  if (addInt) {
    intId = id++;
    o.setUint32(at, strLen + nameBytes.length, true);
    o.setUint32(at + 4, KIND_INT << 24, true);
    o.setUint32(at + 8, 4, true);
    o.setUint32(at + 12, (1 << 24) | 32, true); // signed, 32 bits
    at += 16;
  }
  o.setUint32(at, strLen, true);
  o.setUint32(at + 4, KIND_VAR << 24, true);
  o.setUint32(at + 8, intId, true);
  o.setUint32(at + 12, VAR_GLOBAL_ALLOCATED, true);
  o.setUint32(8, 0, true); // type_off
  o.setUint32(12, typeLen + extraTypes, true);
  o.setUint32(16, typeLen + extraTypes, true); // str_off
  o.setUint32(20, strLen + extraStr, true);
  return out;
}

function fixupExternDatasec(
  v: DataView,
  at: number,
  name: string,
  starts: readonly number[],
  str: (off: number) => string,
  externs: readonly ExternSpec[],
  hasDummy: boolean,
): void {
  const vlen = v.getUint32(at + 4, true) & 0xffff;
  if (name === ".kconfig") {
    let size = 0;
    const entries: [number, number, number][] = [];
    for (let i = 0; i < vlen; i++) {
      const e = at + 12 + i * 12;
      const id = v.getUint32(e, true);
      let offset = v.getUint32(e + 4, true);
      const varAt = starts[id];
      const ext = varAt === undefined
        ? undefined
        : externs.find((x) => x.kind === "kconfig" && x.name === str(v.getUint32(varAt, true)));
      if (ext !== undefined) {
        v.setUint32(varAt + 12, VAR_GLOBAL_ALLOCATED, true);
        offset = ext.offset;
        size = Math.max(size, ext.offset + ext.size);
      }
      entries.push([id, offset, v.getUint32(e + 8, true)]);
    }
    // The kernel wants the variables in offset order.
    entries.sort((a, b) => a[1] - b[1]);
    entries.forEach(([t, o, sz], i) => {
      v.setUint32(at + 12 + i * 12, t, true);
      v.setUint32(at + 12 + i * 12 + 4, o, true);
      v.setUint32(at + 12 + i * 12 + 8, sz, true);
    });
    v.setUint32(at + 8, size, true);
    return;
  }
  // .ksyms
  const dummyId = starts.length - 1;
  const dummyAt = starts[dummyId];
  const dummyIsVar = hasDummy && ((v.getUint32(dummyAt + 4, true) >>> 24) & 0x1f) === KIND_VAR;
  const intId = dummyIsVar ? v.getUint32(dummyAt + 8, true) : 0;
  for (let i = 0; i < vlen; i++) {
    const e = at + 12 + i * 12;
    const tid = v.getUint32(e, true);
    const tAt = starts[tid];
    if (tAt === undefined || !dummyIsVar) continue;
    const kind = (v.getUint32(tAt + 4, true) >>> 24) & 0x1f;
    if (kind === KIND_FUNC) {
      const protoAt = starts[v.getUint32(tAt + 8, true)];
      if (protoAt !== undefined) {
        const pinfo = v.getUint32(protoAt + 4, true);
        if (((pinfo >>> 24) & 0x1f) === KIND_FUNC_PROTO) {
          for (let j = 0; j < (pinfo & 0xffff); j++) {
            const p = protoAt + 12 + j * 8;
            if (v.getUint32(p + 4, true) !== 0 && v.getUint32(p, true) === 0) {
              v.setUint32(p, v.getUint32(dummyAt, true), true);
            }
          }
        }
      }
      v.setUint32(tAt + 4, (v.getUint32(tAt + 4, true) & ~0xffff) | FUNC_GLOBAL, true);
      v.setUint32(e, dummyId, true);
    } else if (kind === KIND_VAR) {
      v.setUint32(tAt + 12, VAR_GLOBAL_ALLOCATED, true);
      v.setUint32(tAt + 8, intId, true);
    }
    v.setUint32(e + 4, i * 4, true);
    v.setUint32(e + 8, 4, true);
  }
  v.setUint32(at + 8, vlen * 4, true);
}
