/**
 * A small reader of native 64-bit little-endian ELF executables and shared objects (x86_64 and
 * aarch64): program headers and the `.dynsym`/`.symtab` symbols, and the conversion of a
 * function's virtual address to the file offset that uprobes take. Pure: works on bytes.
 *
 * @module
 */
import { readCString, readElfHeader, u64 } from "./ehdr.ts";
import { ElfError } from "./error.ts";

/**
 * `EM_X86_64`: the `e_machine` of x86_64 objects.
 *
 * @example
 * ```ts
 * import { EM_X86_64 } from "@tsbpf/core/elf";
 * EM_X86_64; // 62
 * ```
 */
export const EM_X86_64 = 62;
/**
 * `EM_AARCH64`: the `e_machine` of aarch64 objects.
 *
 * @example
 * ```ts
 * import { EM_AARCH64 } from "@tsbpf/core/elf";
 * EM_AARCH64; // 183
 * ```
 */
export const EM_AARCH64 = 183;
/**
 * `PT_LOAD`: a program header describing a loadable segment.
 *
 * @example
 * ```ts
 * import { PT_LOAD } from "@tsbpf/core/elf";
 * PT_LOAD; // 1
 * ```
 */
export const PT_LOAD = 1;
/**
 * Segment permission flags (`PF_*`).
 *
 * @example
 * ```ts
 * import { PF } from "@tsbpf/core/elf";
 * PF.X; // 1
 * ```
 */
export const PF = { X: 1, W: 2, R: 4 } as const;

/** `SHT_SYMTAB`, `SHT_DYNSYM`, `SHT_GNU_verdef`, `SHT_GNU_versym`. */
const SHT_SYMTAB = 2;
const SHT_DYNSYM = 11;
const SHT_GNU_VERDEF = 0x6ffffffd;
const SHT_GNU_VERSYM = 0x6fffffff;
/** `VER_FLG_BASE`: the verdef entry that names the file itself, not a version. */
const VER_FLG_BASE = 1;
/** `sizeof(Elf64_Verdef)`, `sizeof(Elf64_Verdaux)`. */
const VERDEF_SIZE = 20;
const VERDAUX_SIZE = 8;
/** `STT_FUNC`, `STT_GNU_IFUNC`. */
const STT_FUNC = 2;
const STT_GNU_IFUNC = 10;
/** The "hidden" bit of a `.gnu.version` entry: not the default version of the name. */
const VERSYM_HIDDEN = 0x8000;
/** The version index bits of a `.gnu.version` entry. */
const VERSYM_INDEX = 0x7fff;
const PHDR_SIZE = 56;
const SHDR_SIZE = 64;
const SYM_SIZE = 24;

/**
 * One program header (`Elf64_Phdr`).
 *
 * @example
 * ```ts
 * import { parseNativeElf, PF, PT_LOAD } from "@tsbpf/core/elf";
 * declare const bytes: Uint8Array;
 * const code = parseNativeElf(bytes).segments.filter((s) => s.type === PT_LOAD && s.flags & PF.X);
 * ```
 */
export interface NativeSegment {
  /** `p_type` (`PT_LOAD` = 1). */
  readonly type: number;
  /** `p_flags` (`PF.X`, `PF.W`, `PF.R`). */
  readonly flags: number;
  /** `p_offset`: where the segment starts in the file. */
  readonly offset: number;
  /** `p_vaddr`. */
  readonly vaddr: number;
  /** `p_filesz`. */
  readonly filesz: number;
  /** `p_memsz`. */
  readonly memsz: number;
}

/**
 * One defined symbol of `.dynsym` or `.symtab`.
 *
 * @example
 * ```ts
 * import { parseNativeElf } from "@tsbpf/core/elf";
 * declare const bytes: Uint8Array;
 * parseNativeElf(bytes).symbols.find((s) => s.baseName === "getpid")?.value;
 * ```
 */
export interface NativeSymbol {
  /** The name as stored, e.g. `"getpid"` or (in some `.symtab`s) `"getpid@@GLIBC_2.2.5"`. */
  readonly name: string;
  /** The name without a version suffix: `"getpid"`. */
  readonly baseName: string;
  /**
   * The version: from `.gnu.version` and `.gnu.version_d` for `.dynsym` (e.g. `"GLIBC_2.3"`), or
   * the `@VER`/`@@VER` suffix of a `.symtab` name; `undefined` for an unversioned symbol.
   */
  readonly version: string | undefined;
  /**
   * The name as `nm -D` and `readelf --dyn-syms` show it: `"realpath@@GLIBC_2.3"` for the default
   * version, `"realpath@GLIBC_2.2.5"` for a hidden one, the bare name when unversioned (or when
   * the symbol is the version's own, `"GLIBC_2.3"`).
   */
  readonly versionedName: string;
  /** False for a non-default version (`name@VER`, or hidden in `.gnu.version`). */
  readonly defaultVersion: boolean;
  /** `STT_*` (2 = `STT_FUNC`, 10 = `STT_GNU_IFUNC`). */
  readonly type: number;
  /** `STB_*`. */
  readonly bind: number;
  /** `st_shndx`. */
  readonly section: number;
  /** `st_value`: the virtual address. */
  readonly value: number;
  /** `st_size`. */
  readonly size: number;
  /** The table it came from. */
  readonly table: ".dynsym" | ".symtab";
}

/**
 * A parsed native ELF file: its header fields, program headers and defined symbols.
 *
 * @example
 * ```ts
 * import { parseNativeElf } from "@tsbpf/core/elf";
 * declare const bytes: Uint8Array;
 * parseNativeElf(bytes).machine; // 62 on x86_64
 * ```
 */
export interface NativeElf {
  /** `e_type` (2 = `ET_EXEC`, 3 = `ET_DYN`). */
  readonly type: number;
  /** `e_machine` (`EM_X86_64` or `EM_AARCH64`). */
  readonly machine: number;
  /** All program headers. */
  readonly segments: readonly NativeSegment[];
  /** Defined symbols (`st_shndx` ≠ `SHN_UNDEF`) of `.dynsym`, then of `.symtab`. */
  readonly symbols: readonly NativeSymbol[];
}

/**
 * Why {@link resolveSymbol} failed: `"not-found"`, `"not-function"` or `"not-loaded"` (no
 * `PT_LOAD` segment holds the symbol's address in the file).
 *
 * @example
 * ```ts
 * import { SymbolError } from "@tsbpf/core/elf";
 * const e = new SymbolError("not-found", 'symbol "x" not found in /bin/true');
 * e.reason; // "not-found"
 * ```
 */
export class SymbolError extends ElfError {
  /** What went wrong. */
  readonly reason: "not-found" | "not-function" | "not-loaded";

  /** Creates the error. */
  constructor(reason: "not-found" | "not-function" | "not-loaded", message: string) {
    super(message);
    this.name = "SymbolError";
    this.reason = reason;
  }
}

function cstr(bytes: Uint8Array, start: number, limit: number, where: number): string {
  if (start >= limit) throw new ElfError(`string offset is outside its string table`, where);
  return readCString(bytes, start, limit, "string is not NUL-terminated");
}

/**
 * Parses a 64-bit little-endian ELF executable or shared object for x86_64 or aarch64. Throws
 * `ElfError` with the file offset for a short file, a wrong magic/class/byte order/machine, or
 * headers and tables outside the file.
 *
 * @example
 * ```ts
 * import { parseNativeElf } from "@tsbpf/core/elf";
 * const elf = parseNativeElf(Deno.readFileSync("/usr/lib/x86_64-linux-gnu/libc.so.6"));
 * console.log(elf.symbols.length);
 * ```
 */
export function parseNativeElf(bytes: Uint8Array): NativeElf {
  const { view: v, type, machine } = readElfHeader(bytes, { EM_X86_64, EM_AARCH64 });

  const phoff = u64(v, 32);
  const phentsize = v.getUint16(54, true);
  const phnum = v.getUint16(56, true);
  const segments: NativeSegment[] = [];
  if (phnum > 0) {
    if (phentsize !== PHDR_SIZE) throw new ElfError(`e_phentsize ${phentsize} is not 56`, 54);
    if (phoff + phnum * PHDR_SIZE > bytes.length) {
      throw new ElfError(`${phnum} program headers at ${phoff} run past the end of the file`, 32);
    }
    for (let i = 0; i < phnum; i++) {
      const at = phoff + i * PHDR_SIZE;
      segments.push({
        type: v.getUint32(at, true),
        flags: v.getUint32(at + 4, true),
        offset: u64(v, at + 8),
        vaddr: u64(v, at + 16),
        filesz: u64(v, at + 32),
        memsz: u64(v, at + 40),
      });
    }
  }

  const shoff = u64(v, 40);
  const shentsize = v.getUint16(58, true);
  let shnum = v.getUint16(60, true);
  const symbols: NativeSymbol[] = [];
  if (shoff === 0) return { type, machine, segments, symbols };
  if (shentsize !== SHDR_SIZE) throw new ElfError(`e_shentsize ${shentsize} is not 64`, 58);
  if (shoff + SHDR_SIZE > bytes.length) {
    throw new ElfError(`section header table at ${shoff} is past the end of the file`, 40);
  }
  if (shnum === 0) shnum = u64(v, shoff + 32);
  if (shoff + shnum * SHDR_SIZE > bytes.length) {
    throw new ElfError(`${shnum} section headers at ${shoff} run past the end of the file`, shoff);
  }
  const header = (i: number): { type: number; offset: number; size: number; link: number } => {
    const at = shoff + i * SHDR_SIZE;
    const h = {
      type: v.getUint32(at + 4, true),
      offset: u64(v, at + 24),
      size: u64(v, at + 32),
      link: v.getUint32(at + 40, true),
    };
    if (h.type !== 8 /* SHT_NOBITS */ && h.offset + h.size > bytes.length) {
      throw new ElfError(`section ${i} runs past the end of the file`, at + 24);
    }
    return h;
  };

  let versym: { offset: number; size: number } | undefined;
  let versions = new Map<number, string>();
  for (let i = 0; i < shnum; i++) {
    const h = header(i);
    if (h.type === SHT_GNU_VERSYM) versym = h;
    if (h.type === SHT_GNU_VERDEF) {
      if (h.link >= shnum) {
        throw new ElfError(`version definitions link to missing section`, h.offset);
      }
      versions = verdefs(bytes, v, h, header(h.link));
    }
  }
  for (const wanted of [SHT_DYNSYM, SHT_SYMTAB]) {
    for (let i = 0; i < shnum; i++) {
      const h = header(i);
      if (h.type !== wanted) continue;
      if (h.link >= shnum) throw new ElfError(`symbol table links to missing section`, h.offset);
      const str = header(h.link);
      const table = wanted === SHT_DYNSYM ? ".dynsym" : ".symtab";
      const count = Math.floor(h.size / SYM_SIZE);
      for (let n = 1; n < count; n++) {
        const at = h.offset + n * SYM_SIZE;
        const section = v.getUint16(at + 6, true);
        if (section === 0) continue; // SHN_UNDEF: an import
        const nameOff = v.getUint32(at, true);
        if (nameOff === 0) continue;
        const name = cstr(bytes, str.offset + nameOff, str.offset + str.size, at);
        const marker = name.indexOf("@");
        let defaultVersion = marker < 0 || name.startsWith("@@", marker);
        const baseName = marker < 0 ? name : name.slice(0, marker);
        let version = marker < 0 ? undefined : name.slice(marker + (defaultVersion ? 2 : 1));
        if (table === ".dynsym" && versym !== undefined && (n + 1) * 2 <= versym.size) {
          const entry = v.getUint16(versym.offset + n * 2, true);
          if (entry & VERSYM_HIDDEN) defaultVersion = false;
          version ??= versions.get(entry & VERSYM_INDEX);
        }
        const info = bytes[at + 4];
        symbols.push({
          name,
          baseName,
          version,
          // A version's own ABS symbol (`GLIBC_2.3`) shows bare, as in readelf and nm.
          versionedName: version === undefined || version === baseName
            ? baseName
            : `${baseName}${defaultVersion ? "@@" : "@"}${version}`,
          defaultVersion,
          type: info & 0xf,
          bind: info >> 4,
          section,
          value: u64(v, at + 8),
          size: u64(v, at + 16),
          table,
        });
      }
    }
  }
  return { type, machine, segments, symbols };
}

/**
 * The version names of `.gnu.version_d` (`SHT_GNU_verdef`) by version index, without the base
 * entry (`VER_FLG_BASE`, the file's own name).
 */
function verdefs(
  bytes: Uint8Array,
  v: DataView,
  h: { offset: number; size: number },
  str: { offset: number; size: number },
): Map<number, string> {
  const out = new Map<number, string>();
  let at = h.offset;
  const end = h.offset + h.size;
  for (let guard = 0; guard <= h.size / VERDEF_SIZE; guard++) {
    if (at + VERDEF_SIZE > end) {
      throw new ElfError("version definition runs past the end of its section", at);
    }
    const flags = v.getUint16(at + 2, true);
    const index = v.getUint16(at + 4, true);
    const count = v.getUint16(at + 6, true);
    const aux = v.getUint32(at + 12, true);
    const next = v.getUint32(at + 16, true);
    if (count > 0 && !(flags & VER_FLG_BASE)) {
      const a = at + aux;
      if (aux < VERDEF_SIZE || a + VERDAUX_SIZE > end) {
        throw new ElfError("version definition's name runs past the end of its section", at + 12);
      }
      const name = v.getUint32(a, true);
      out.set(index & VERSYM_INDEX, cstr(bytes, str.offset + name, str.offset + str.size, a));
    }
    if (next === 0) return out;
    at += next;
  }
  throw new ElfError("version definitions do not end (vd_next loops)", h.offset);
}

/**
 * Where a function symbol is: the symbol, the `PT_LOAD` segment holding it, and its file offset
 * (`vaddr − p_vaddr + p_offset`).
 *
 * @example
 * ```ts
 * import type { SymbolLocation } from "@tsbpf/core/elf";
 * declare const loc: SymbolLocation;
 * loc.offset; // what a uprobe's config2 takes
 * ```
 */
export interface SymbolLocation {
  /** The symbol chosen. */
  readonly symbol: NativeSymbol;
  /** The loadable segment containing it. */
  readonly segment: NativeSegment;
  /** Its file offset. */
  readonly offset: number;
}

/** Whether `s` answers to `name`: bare, `name@VER` (either version) or `name@@VER` (default). */
function answersTo(s: NativeSymbol, name: string): boolean {
  if (s.name === name || s.versionedName === name) return true;
  const marker = name.indexOf("@");
  if (marker < 0) return s.baseName === name;
  if (s.version === undefined || s.baseName !== name.slice(0, marker)) return false;
  if (name.startsWith("@@", marker)) {
    return s.defaultVersion && s.version === name.slice(marker + 2);
  }
  return s.version === name.slice(marker + 1);
}

/**
 * The file offset of a function: looks `name` up in `.dynsym` and `.symtab`, then converts its
 * address through the `PT_LOAD` segment that contains it. `file` names the file in messages.
 *
 * A bare name takes the default version (`name@@VER`, or the unversioned symbol) and only falls
 * back to a non-default version (`name@VER`) when the name has no default version. `name@VER`
 * takes version `VER` (hidden or default), `name@@VER` only the default version `VER`; versions
 * come from `.gnu.version`/`.gnu.version_d` for `.dynsym` and from the name in `.symtab`.
 *
 * @throws {SymbolError} `not-found`, `not-function` (the symbol is data, or the chosen version is
 *   an IFUNC, whose address is its resolver's), or `not-loaded` (no segment holds the address in
 *   the file).
 * @example
 * ```ts
 * import { parseNativeElf, resolveSymbol } from "@tsbpf/core/elf";
 * const path = "/usr/lib/x86_64-linux-gnu/libc.so.6";
 * const elf = parseNativeElf(Deno.readFileSync(path));
 * resolveSymbol(elf, "getpid", path).offset;
 * resolveSymbol(elf, "realpath@GLIBC_2.2.5", path).symbol.versionedName; // the old version
 * ```
 */
export function resolveSymbol(elf: NativeElf, name: string, file = "the file"): SymbolLocation {
  const candidates = elf.symbols.filter((s) => answersTo(s, name));
  if (candidates.length === 0) {
    throw new SymbolError(
      "not-found",
      `symbol "${name}" not found in ${file} (looked in .dynsym and .symtab)`,
    );
  }
  const code = (s: NativeSymbol): boolean => s.type === STT_FUNC || s.type === STT_GNU_IFUNC;
  // The default version first (what a caller linking against `name` gets); older versions only
  // when there is no default one. Within a group, .dynsym comes before .symtab.
  const defaults = candidates.filter((s) => s.defaultVersion);
  const group = defaults.length > 0 ? defaults : candidates;
  const symbol = group.find(code);
  if (symbol === undefined) {
    throw new SymbolError(
      "not-function",
      `symbol "${name}" in ${file} is not a function (symbol type ${group[0].type})`,
    );
  }
  if (symbol.type === STT_GNU_IFUNC) {
    throw new SymbolError(
      "not-function",
      `symbol "${name}" in ${file} is an IFUNC (${symbol.versionedName}): its resolver picks the ` +
        "implementation at run time, and its address is the resolver's; probe the " +
        "implementation's symbol instead (e.g. \"__memmove_avx_unaligned_erms\" for glibc's " +
        "memcpy on x86_64)",
    );
  }
  const segment = elf.segments.find((p) =>
    p.type === PT_LOAD && symbol.value >= p.vaddr && symbol.value < p.vaddr + p.filesz
  );
  if (segment === undefined) {
    throw new SymbolError(
      "not-loaded",
      `symbol "${name}" in ${file}: no PT_LOAD segment holds address 0x${
        symbol.value.toString(16)
      } in the file`,
    );
  }
  return { symbol, segment, offset: symbol.value - segment.vaddr + segment.offset };
}
