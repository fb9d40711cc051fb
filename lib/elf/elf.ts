/**
 * A reader of 64-bit little-endian ELF relocatable files for BPF (`e_machine` = `EM_BPF`, 247):
 * sections, the symbol table and `SHT_REL` relocation sections. Pure: works on bytes.
 *
 * @module
 */
import { requireBytes } from "../args.ts";
import { readCString, readElfHeader, u64 } from "./ehdr.ts";
import { ElfError } from "./error.ts";

/**
 * `EM_BPF`: the `e_machine` of BPF objects.
 *
 * @example
 * ```ts
 * import { EM_BPF } from "@tsbpf/core/elf";
 * EM_BPF; // 247
 * ```
 */
export const EM_BPF = 247;
/**
 * Section types used here (`SHT_*`).
 *
 * @example
 * ```ts
 * import { SHT } from "@tsbpf/core/elf";
 * SHT.REL; // 9
 * ```
 */
export const SHT = {
  NULL: 0,
  PROGBITS: 1,
  SYMTAB: 2,
  STRTAB: 3,
  RELA: 4,
  NOBITS: 8,
  REL: 9,
} as const;
/**
 * `SHF_EXECINSTR`: the section holds code.
 *
 * @example
 * ```ts
 * import { SHF_EXECINSTR } from "@tsbpf/core/elf";
 * SHF_EXECINSTR; // 4
 * ```
 */
export const SHF_EXECINSTR = 0x4;
/**
 * `SHF_ALLOC`: the section occupies memory at run time.
 *
 * @example
 * ```ts
 * import { SHF_ALLOC } from "@tsbpf/core/elf";
 * SHF_ALLOC; // 2
 * ```
 */
export const SHF_ALLOC = 0x2;
/**
 * `SHF_WRITE`: the section is writable.
 *
 * @example
 * ```ts
 * import { SHF_WRITE } from "@tsbpf/core/elf";
 * SHF_WRITE; // 1
 * ```
 */
export const SHF_WRITE = 0x1;
/**
 * Symbol types (`STT_*`).
 *
 * @example
 * ```ts
 * import { STT } from "@tsbpf/core/elf";
 * STT.FUNC; // 2
 * ```
 */
export const STT = { NOTYPE: 0, OBJECT: 1, FUNC: 2, SECTION: 3, FILE: 4 } as const;
/**
 * Symbol bindings (`STB_*`).
 *
 * @example
 * ```ts
 * import { STB } from "@tsbpf/core/elf";
 * STB.GLOBAL; // 1
 * ```
 */
export const STB = { LOCAL: 0, GLOBAL: 1, WEAK: 2 } as const;
/**
 * Special section indices: `SHN_UNDEF`, `SHN_ABS`, `SHN_COMMON`.
 *
 * @example
 * ```ts
 * import { SHN } from "@tsbpf/core/elf";
 * SHN.UNDEF; // 0
 * ```
 */
export const SHN = { UNDEF: 0, ABS: 0xfff1, COMMON: 0xfff2 } as const;

/**
 * One section header with its name resolved and its contents (empty for `SHT_NOBITS`).
 *
 * @example
 * ```ts
 * import { parseElf } from "@tsbpf/core/elf";
 * declare const bytes: Uint8Array;
 * const text = parseElf(bytes).sections.find((s) => s.name === ".text");
 * ```
 */
export interface ElfSection {
  /** Section index. */
  readonly index: number;
  /** Name from the section-header string table. */
  readonly name: string;
  /** `sh_type`. */
  readonly type: number;
  /** `sh_flags`. */
  readonly flags: number;
  /** `sh_offset`: where the contents start in the file. */
  readonly offset: number;
  /** `sh_size` (also for `SHT_NOBITS`, whose `data` is empty). */
  readonly size: number;
  /** `sh_link`. */
  readonly link: number;
  /** `sh_info` (for `SHT_REL`: the section the relocations apply to). */
  readonly info: number;
  /** `sh_addralign`. */
  readonly align: number;
  /** `sh_entsize`. */
  readonly entsize: number;
  /** The contents (a view into the file bytes). */
  readonly data: Uint8Array;
}

/**
 * One symbol of `.symtab`.
 *
 * @example
 * ```ts
 * import { parseElf, STT } from "@tsbpf/core/elf";
 * declare const bytes: Uint8Array;
 * const funcs = parseElf(bytes).symbols.filter((s) => s.type === STT.FUNC);
 * ```
 */
export interface ElfSymbol {
  /** Index in the symbol table. */
  readonly index: number;
  /** Name (for `STT_SECTION` symbols: the section's name). */
  readonly name: string;
  /** `STT_*`. */
  readonly type: number;
  /** `STB_*`. */
  readonly bind: number;
  /** `st_other` visibility bits. */
  readonly visibility: number;
  /** `st_shndx`: the section the symbol is defined in (`SHN_UNDEF` for externs). */
  readonly section: number;
  /** `st_value`: byte offset in its section. */
  readonly value: number;
  /** `st_size`. */
  readonly size: number;
}

/**
 * One `Elf64_Rel` entry (BPF objects use REL, the addend is in the instruction).
 *
 * @example
 * ```ts
 * import type { ElfRelocation } from "@tsbpf/core/elf";
 * const r: ElfRelocation = { offset: 96, symbol: 5, type: 1, fileOffset: 4120 }; // R_BPF_64_64
 * ```
 */
export interface ElfRelocation {
  /** `r_offset`: byte offset in the target section. */
  readonly offset: number;
  /** Where this `Elf64_Rel` entry is in the file (for error messages). */
  readonly fileOffset: number;
  /** Symbol index (`ELF64_R_SYM`). */
  readonly symbol: number;
  /** Relocation type (`ELF64_R_TYPE`): 1 `R_BPF_64_64`, 2 `R_BPF_64_ABS64`, 3 `R_BPF_64_ABS32`, 4 `R_BPF_64_NODYLD32`, 10 `R_BPF_64_32`. */
  readonly type: number;
}

/**
 * A parsed ELF file.
 *
 * @example
 * ```ts
 * import { parseElf } from "@tsbpf/core/elf";
 * declare const bytes: Uint8Array;
 * const elf = parseElf(bytes);
 * elf.section("license");
 * ```
 */
export interface ElfFile {
  /** `e_type` (1 = `ET_REL`). */
  readonly type: number;
  /** All sections by index (index 0 is the null section). */
  readonly sections: readonly ElfSection[];
  /** All symbols by index (index 0 is the null symbol); empty without `.symtab`. */
  readonly symbols: readonly ElfSymbol[];
  /** Relocations by the index of the section they apply to. */
  readonly relocations: ReadonlyMap<number, readonly ElfRelocation[]>;
  /** The first section with this name. */
  section(name: string): ElfSection | undefined;
}

const SHDR_SIZE = 64;
const SYM_SIZE = 24;
const REL_SIZE = 16;

/**
 * Relocation lists by target section, each decoded when first asked for: an object's debug
 * sections carry thousands of relocations (`.rel.debug_str_offsets`) that loading never reads.
 */
class Relocations implements ReadonlyMap<number, readonly ElfRelocation[]> {
  readonly #view: DataView;
  readonly #symbolCount: number;
  readonly #sections = new Map<number, ElfSection>();
  readonly #decoded = new Map<number, ElfRelocation[]>();

  constructor(view: DataView, symbolCount: number) {
    this.#view = view;
    this.#symbolCount = symbolCount;
  }

  add(target: number, rel: ElfSection): void {
    this.#sections.set(target, rel);
  }

  get size(): number {
    return this.#sections.size;
  }

  has(target: number): boolean {
    return this.#sections.has(target);
  }

  get(target: number): readonly ElfRelocation[] | undefined {
    let list = this.#decoded.get(target);
    if (list !== undefined) return list;
    const s = this.#sections.get(target);
    if (s === undefined) return undefined;
    const v = this.#view;
    list = [];
    for (let at = s.offset; at + REL_SIZE <= s.offset + s.size; at += REL_SIZE) {
      // r_info: symbol index in the high 32 bits, type in the low 32.
      const symbol = v.getUint32(at + 12, true);
      if (symbol >= this.#symbolCount) {
        throw new ElfError(`relocation in "${s.name}" names missing symbol ${symbol}`, at + 8);
      }
      list.push({ offset: u64(v, at), symbol, type: v.getUint32(at + 8, true), fileOffset: at });
    }
    this.#decoded.set(target, list);
    return list;
  }

  keys(): MapIterator<number> {
    return this.#sections.keys();
  }

  *values(): MapIterator<readonly ElfRelocation[]> {
    for (const k of this.#sections.keys()) yield this.get(k)!;
  }

  *entries(): MapIterator<[number, readonly ElfRelocation[]]> {
    for (const k of this.#sections.keys()) yield [k, this.get(k)!];
  }

  [Symbol.iterator](): MapIterator<[number, readonly ElfRelocation[]]> {
    return this.entries();
  }

  forEach(
    callback: (
      value: readonly ElfRelocation[],
      key: number,
      map: ReadonlyMap<number, readonly ElfRelocation[]>,
    ) => void,
    thisArg?: unknown,
  ): void {
    for (const [k, list] of this.entries()) callback.call(thisArg, list, k, this);
  }
}

/** Throws unless `s` has contents in the file (is not `SHT_NOBITS`/`SHT_NULL`). */
function needContents(s: Omit<ElfSection, "data">, what: string, where: number): void {
  if (s.type === SHT.NOBITS || s.type === SHT.NULL) {
    throw new ElfError(
      `${what} is section ${s.index}, of type ${
        s.type === SHT.NOBITS ? "SHT_NOBITS" : "SHT_NULL"
      }: it has no contents in the file`,
      where,
    );
  }
}

function cstr(bytes: Uint8Array, table: ElfSection, off: number, where: number): string {
  if (off >= table.size) {
    throw new ElfError(
      `string offset ${off} is outside string table "${table.name}" (${table.size} bytes)`,
      where,
    );
  }
  return readCString(
    bytes,
    table.offset + off,
    table.offset + table.size,
    `string at offset ${off} is not NUL-terminated`,
  );
}

/**
 * Parses a 64-bit little-endian ELF file for BPF. Throws `ElfError` with the file offset on
 * malformed input: a short file, a wrong magic/class/byte order/machine, a section, symbol or
 * string outside the file.
 *
 * @example
 * ```ts
 * import { parseElf } from "@tsbpf/core/elf";
 * const elf = parseElf(Deno.readFileSync("prog.bpf.o"));
 * console.log(elf.sections.map((s) => s.name));
 * ```
 */
export function parseElf(bytes: Uint8Array): ElfFile {
  requireBytes("parseElf", "bytes", bytes);
  const { view: v, type } = readElfHeader(bytes, { EM_BPF });
  const shoff = u64(v, 40);
  const shentsize = v.getUint16(58, true);
  let shnum = v.getUint16(60, true);
  let shstrndx = v.getUint16(62, true);
  if (shoff === 0) throw new ElfError("no section header table", 40);
  if (shentsize !== SHDR_SIZE) {
    throw new ElfError(`e_shentsize ${shentsize} is not ${SHDR_SIZE}`, 58);
  }
  if (shoff + SHDR_SIZE > bytes.length) {
    throw new ElfError(`section header table at ${shoff} is past the end of the file`, 40);
  }
  if (shnum === 0) shnum = u64(v, shoff + 32); // extended numbering: count in section 0's sh_size
  if (shstrndx === 0xffff) shstrndx = v.getUint32(shoff + 40, true);
  if (shoff + shnum * SHDR_SIZE > bytes.length) {
    throw new ElfError(
      `${shnum} section headers at ${shoff} run past the end of the file (${bytes.length} bytes)`,
      shoff,
    );
  }
  const raw: Omit<ElfSection, "name" | "data">[] = [];
  for (let i = 0; i < shnum; i++) {
    const at = shoff + i * SHDR_SIZE;
    const s = {
      index: i,
      type: v.getUint32(at + 4, true),
      flags: u64(v, at + 8),
      offset: u64(v, at + 24),
      size: u64(v, at + 32),
      link: v.getUint32(at + 40, true),
      info: v.getUint32(at + 44, true),
      align: u64(v, at + 48),
      entsize: u64(v, at + 56),
      nameOff: v.getUint32(at, true),
    };
    if (s.type !== SHT.NOBITS && s.type !== SHT.NULL && s.offset + s.size > bytes.length) {
      throw new ElfError(
        `section ${i} (${s.size} bytes at ${s.offset}) runs past the end of the file (${bytes.length} bytes)`,
        at + 24,
      );
    }
    raw.push(s);
  }
  if (shstrndx >= shnum) throw new ElfError(`e_shstrndx ${shstrndx} is not a section`, 62);
  const shstr = { ...raw[shstrndx], name: "shstrtab" } as ElfSection;
  needContents(shstr, "the section-header string table (e_shstrndx)", 62);
  const sections: ElfSection[] = raw.map((s, i) => {
    const r = s as typeof s & { nameOff: number };
    return {
      index: r.index,
      type: r.type,
      flags: r.flags,
      offset: r.offset,
      size: r.size,
      link: r.link,
      info: r.info,
      align: r.align,
      entsize: r.entsize,
      name: i === 0 ? "" : cstr(bytes, shstr, r.nameOff, shoff + i * SHDR_SIZE),
      data: s.type === SHT.NOBITS || s.type === SHT.NULL
        ? new Uint8Array(0)
        : bytes.subarray(s.offset, s.offset + s.size),
    };
  });

  const symbols: ElfSymbol[] = [];
  const symtab = sections.find((s) => s.type === SHT.SYMTAB);
  if (symtab !== undefined) {
    if (symtab.link >= sections.length) {
      throw new ElfError(`.symtab links to missing string table ${symtab.link}`, shoff);
    }
    needContents(symtab, ".symtab", shoff + symtab.index * SHDR_SIZE + 4);
    const strtab = sections[symtab.link];
    needContents(strtab, "the string table of .symtab", shoff + symtab.index * SHDR_SIZE + 40);
    const count = Math.floor(symtab.size / SYM_SIZE);
    for (let i = 0; i < count; i++) {
      const at = symtab.offset + i * SYM_SIZE;
      const info = bytes[at + 4];
      const section = v.getUint16(at + 6, true);
      const stype = info & 0xf;
      let name = i === 0 ? "" : cstr(bytes, strtab, v.getUint32(at, true), at);
      if (stype === STT.SECTION && name === "" && section < sections.length) {
        name = sections[section].name;
      }
      symbols.push({
        index: i,
        name,
        type: stype,
        bind: info >> 4,
        visibility: bytes[at + 5] & 3,
        section,
        value: u64(v, at + 8),
        size: u64(v, at + 16),
      });
    }
  }

  const relocations = new Relocations(v, symbols.length);
  for (const s of sections) {
    if (s.type === SHT.RELA) {
      throw new ElfError(`section "${s.name}": SHT_RELA relocations are not used by BPF`, s.offset);
    }
    if (s.type !== SHT.REL) continue;
    needContents(s, `relocation section "${s.name}"`, shoff + s.index * SHDR_SIZE + 4);
    if (s.info >= sections.length) {
      throw new ElfError(
        `relocation section "${s.name}" applies to missing section ${s.info}`,
        s.offset,
      );
    }
    if (relocations.has(s.info)) {
      throw new ElfError(
        `relocation section "${s.name}" applies to section ${s.info}, which already has one`,
        s.offset,
      );
    }
    relocations.add(s.info, s);
  }

  return {
    type,
    sections,
    symbols,
    relocations,
    section(name: string): ElfSection | undefined {
      return sections.find((s) => s.name === name);
    },
  };
}
