/**
 * Makes an object's `.BTF` acceptable to `BPF_BTF_LOAD`: clang leaves DATASEC sizes and variable
 * offsets at 0 (they are known only once the ELF is laid out), and the kernel refuses that. Sizes
 * come from the ELF section sizes, offsets from the symbols' values, as libbpf does. Pure.
 *
 * @module
 */
import type { ElfFile } from "../elf/elf.ts";
import { STT } from "../elf/elf.ts";
import { ElfError } from "../elf/error.ts";

const KIND_DATASEC = 15;

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
 * @example
 * ```ts
 * import { fixupBtf, parseElf } from "@tsbpf/core/elf";
 * declare const bytes: Uint8Array;
 * const elf = parseElf(bytes);
 * const kernelReady = fixupBtf(elf.section(".BTF")!.data, elf);
 * ```
 */
export function fixupBtf(btf: Uint8Array, elf: ElfFile): Uint8Array {
  const out = btf.slice();
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
  for (let id = 1; id < starts.length; id++) {
    const at = starts[id];
    const info = v.getUint32(at + 4, true);
    if (((info >>> 24) & 0x1f) !== KIND_DATASEC) continue;
    const name = str(v.getUint32(at, true));
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
