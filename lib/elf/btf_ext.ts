/**
 * Decoding of the `.BTF.ext` section (Documentation/bpf/btf.rst §4.2, llvm_reloc.rst): func_info,
 * line_info and CO-RE relocation records, grouped by the ELF section they describe. Pure.
 *
 * @module
 */
import { kindOf, requireBytes, requireInt } from "../args.ts";
import { Btf, BTF_LIMITS } from "../btf/btf.ts";
import { ArgumentError } from "../errors.ts";
import { ElfError } from "./error.ts";

/**
 * A `bpf_func_info` record: the function starting at `insnOff` has BTF FUNC type `typeId`.
 *
 * @example
 * ```ts
 * import type { SectionFuncInfo } from "@tsbpf/core/elf";
 * const f: SectionFuncInfo = { section: "xdp", insnOff: 0, typeId: 12 };
 * ```
 */
export interface SectionFuncInfo {
  /** ELF section of the instruction. */
  readonly section: string;
  /** Byte offset of the instruction in its section. */
  readonly insnOff: number;
  /** BTF FUNC type id. */
  readonly typeId: number;
}

/**
 * A `bpf_line_info` record: the C source line of the instruction at `insnOff`.
 *
 * @example
 * ```ts
 * import type { SectionLineInfo } from "@tsbpf/core/elf";
 * const l: SectionLineInfo = { section: "xdp", insnOff: 0, fileNameOff: 1, lineOff: 20, line: 7, column: 2 };
 * ```
 */
export interface SectionLineInfo {
  /** ELF section of the instruction. */
  readonly section: string;
  /** Byte offset of the instruction in its section. */
  readonly insnOff: number;
  /** BTF string offset of the file name. */
  readonly fileNameOff: number;
  /** BTF string offset of the source line's text. */
  readonly lineOff: number;
  /** Line number. */
  readonly line: number;
  /** Column. */
  readonly column: number;
}

/**
 * A `bpf_core_relo` record: instruction `insnOff` depends on `access` of local BTF type `typeId`.
 *
 * @example
 * ```ts
 * import type { CoreRelo } from "@tsbpf/core/elf";
 * const r: CoreRelo = { section: "tp/x", insnOff: 8, typeId: 5, access: "0:1", kind: 0 };
 * ```
 */
export interface CoreRelo {
  /** ELF section of the instruction. */
  readonly section: string;
  /** Byte offset of the instruction in its section. */
  readonly insnOff: number;
  /** Local (object BTF) root type id. */
  readonly typeId: number;
  /** Accessor string, e.g. `"0:1:2"`, or `"0"` for type-based relocations. */
  readonly access: string;
  /** `enum bpf_core_relo_kind` (0 = FIELD_BYTE_OFFSET … 12 = TYPE_MATCHES). */
  readonly kind: number;
}

/**
 * The decoded `.BTF.ext` section.
 *
 * @example
 * ```ts
 * import { ObjectSpec } from "@tsbpf/core/elf";
 * declare const bytes: Uint8Array;
 * ObjectSpec.parse(bytes).btfExt?.lineInfo.length;
 * ```
 */
export interface BtfExt {
  /** All func_info records. */
  readonly funcInfo: readonly SectionFuncInfo[];
  /** All line_info records. */
  readonly lineInfo: readonly SectionLineInfo[];
  /** All CO-RE relocation records. */
  readonly coreRelos: readonly CoreRelo[];
}

const FUNC_INFO_MIN = 8;
const LINE_INFO_MIN = 16;
const CORE_RELO_MIN = 16;

/**
 * Decodes a `.BTF.ext` section; `btf` is the object's parsed `.BTF` (for names). `fileOffset` is
 * where the section starts in the ELF file, for error messages.
 *
 * @throws {ElfError} for a malformed section, a record whose type id is not in `btf` (or a
 * func_info type that is not a FUNC), or an instruction offset that is not a multiple of 8; the
 * offset is `fileOffset` plus the offending field's position.
 * @example
 * ```ts
 * import { parseBtf } from "@tsbpf/core/btf";
 * import { parseBtfExt } from "@tsbpf/core/elf";
 * declare const btfBytes: Uint8Array, extBytes: Uint8Array;
 * const ext = parseBtfExt(extBytes, parseBtf(btfBytes));
 * ```
 */
export function parseBtfExt(bytes: Uint8Array, btf: Btf, fileOffset = 0): BtfExt {
  requireBytes("parseBtfExt", "bytes", bytes);
  if (!(btf instanceof Btf)) {
    throw new ArgumentError(
      "btf",
      `parseBtfExt: btf must be a Btf (from parseBtf), got ${kindOf(btf)}`,
    );
  }
  requireInt("parseBtfExt", "fileOffset", fileOffset, 0, Number.MAX_SAFE_INTEGER);
  const fail = (msg: string, at: number): never => {
    throw new ElfError(`.BTF.ext: ${msg}`, fileOffset + at);
  };
  if (bytes.length < 24) fail(`${bytes.length} bytes is too short for the header`, 0);
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (v.getUint16(0, true) !== 0xeb9f) fail("bad magic (expected 0xeb9f little-endian)", 0);
  const hdrLen = v.getUint32(4, true);
  if (hdrLen < 24 || hdrLen > bytes.length) fail(`header length ${hdrLen} is invalid`, 4);
  const name = (off: number, at: number): string => {
    try {
      return btf.string(off);
    } catch {
      return fail(`string offset ${off} is outside the .BTF string section`, at);
    }
  };
  /** A CO-RE access string, within `BTF_LIMITS.coreAccessLength` and `.coreAccessDepth`. */
  const access = (off: number, at: number): string => {
    const s = name(off, at);
    if (s.length > BTF_LIMITS.coreAccessLength) {
      fail(
        `core_relo access string of ${s.length} characters is over BTF_LIMITS.coreAccessLength (${BTF_LIMITS.coreAccessLength})`,
        at,
      );
    }
    let steps = 1;
    for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) === 0x3a) steps++;
    if (steps > BTF_LIMITS.coreAccessDepth) {
      fail(
        `core_relo access string "${
          s.slice(0, 40)
        }…" has ${steps} steps, over BTF_LIMITS.coreAccessDepth (${BTF_LIMITS.coreAccessDepth})`,
        at,
      );
    }
    return s;
  };
  // Each part: u32 record size, then { u32 sec_name_off; u32 num_info; records[num_info] }...
  const part = <T>(
    off: number,
    len: number,
    min: number,
    what: string,
    read: (section: string, at: number) => T,
  ): T[] => {
    const out: T[] = [];
    if (len === 0) return out;
    const start = hdrLen + off;
    const end = start + len;
    if (end > bytes.length || len < 4) {
      fail(`${what} (${len} bytes at ${start}) is out of bounds`, start);
    }
    const recSize = v.getUint32(start, true);
    if (recSize < min || recSize % 4 !== 0) {
      fail(`${what} record size ${recSize} is invalid`, start);
    }
    let at = start + 4;
    while (at < end) {
      if (at + 8 > end) fail(`${what}: truncated section header`, at);
      const section = name(v.getUint32(at, true), at);
      const n = v.getUint32(at + 4, true);
      at += 8;
      if (at + n * recSize > end) {
        fail(`${what}: ${n} records for "${section}" run past the end`, at);
      }
      for (let i = 0; i < n; i++, at += recSize) out.push(read(section, at));
    }
    return out;
  };
  const typeCount = btf.types.length;
  const typeId = (what: string, section: string, at: number): number => {
    const id = v.getUint32(at, true);
    if (id >= typeCount) {
      fail(
        `${what} record for "${section}" names type id ${id}, but .BTF has ids 0..${typeCount - 1}`,
        at,
      );
    }
    return id;
  };
  const insnOff = (what: string, section: string, at: number): number => {
    const off = v.getUint32(at, true);
    if (off % 8 !== 0) {
      fail(`${what} record for "${section}": instruction offset ${off} is not a multiple of 8`, at);
    }
    return off;
  };
  const funcInfo = part(
    v.getUint32(8, true),
    v.getUint32(12, true),
    FUNC_INFO_MIN,
    "func_info",
    (section, at): SectionFuncInfo => {
      const id = typeId("func_info", section, at + 4);
      const kind = btf.types[id].kind;
      if (kind !== "func") {
        fail(`func_info record for "${section}" names type [${id}], a ${kind}, not a FUNC`, at + 4);
      }
      return { section, insnOff: insnOff("func_info", section, at), typeId: id };
    },
  );
  const lineInfo = part(
    v.getUint32(16, true),
    v.getUint32(20, true),
    LINE_INFO_MIN,
    "line_info",
    (section, at): SectionLineInfo => {
      const col = v.getUint32(at + 12, true);
      return {
        section,
        insnOff: insnOff("line_info", section, at),
        fileNameOff: v.getUint32(at + 4, true),
        lineOff: v.getUint32(at + 8, true),
        line: col >>> 10,
        column: col & 0x3ff,
      };
    },
  );
  const coreRelos = hdrLen >= 32
    ? part(
      v.getUint32(24, true),
      v.getUint32(28, true),
      CORE_RELO_MIN,
      "core_relo",
      (section, at): CoreRelo => ({
        section,
        insnOff: insnOff("core_relo", section, at),
        typeId: typeId("core_relo", section, at + 4),
        access: access(v.getUint32(at + 8, true), at + 8),
        kind: v.getUint32(at + 12, true),
      }),
    )
    : [];
  return { funcInfo, lineInfo, coreRelos };
}
