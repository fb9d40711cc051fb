/**
 * `ObjectSpec`: everything a clang-compiled BPF object says, decoded without the kernel — license,
 * maps (BTF-defined `.maps` and legacy `maps`), global data sections, programs with their
 * subprograms linked in, relocations still to apply, BTF and `.BTF.ext`. Pure.
 *
 * @module
 */
import { requireBytes, requireObject } from "../args.ts";
import { type Btf, parseBtf } from "../btf/btf.ts";
import { BtfError } from "../btf/error.ts";
import { type BtfExt, parseBtfExt } from "./btf_ext.ts";
import {
  type ElfFile,
  type ElfSection,
  type ElfSymbol,
  parseElf,
  SHF_EXECINSTR,
  SHF_WRITE,
  SHN,
  SHT,
  STT,
} from "./elf.ts";
import { ElfError, ObjectError } from "./error.ts";
import { collectExterns, type ExternSpec, kconfigSize } from "./externs.ts";
import { programTypeOfSection } from "./sections.ts";
import { MapFlag } from "../../types/flags.ts";
import { MapType } from "../../types/map_type.ts";
import { encodeVariable, type VariableValue } from "./variables.ts";
import { ArgumentError } from "../errors.ts";

const INSN = 8;
const LD_IMM64 = 0x18;
const CALL = 0x85;
const PSEUDO_CALL = 1;
const PSEUDO_FUNC = 4;
/** `BTF_VAR_STATIC`. */
const VAR_STATIC = 0;

/**
 * Options of `ObjectSpec.parse`.
 *
 * @example
 * ```ts
 * import type { ParseOptions } from "@tsbpf/core/elf";
 * const o: ParseOptions = { name: "execsnoop" };
 * ```
 */
export interface ParseOptions {
  /**
   * The object's name, which prefixes the kernel names of its internal maps (`execsnoo.rodata`)
   * as libbpf does. Default: "" (`loadObject(path)` uses the file name up to its first dot).
   */
  name?: string;
}

/**
 * A map the object defines, or a global data section (`.rodata`, `.data`, `.bss`, `.rodata.*`…)
 * that becomes a one-element array map.
 *
 * @example
 * ```ts
 * import type { MapSpec } from "@tsbpf/core/elf";
 * const m: MapSpec = {
 *   name: "counts", kind: "btf", section: ".maps", type: 1, keySize: 4, valueSize: 8,
 *   maxEntries: 256, flags: 0, keyTypeId: 3, valueTypeId: 5,
 * };
 * ```
 */
export interface MapSpec {
  /** Name: the C variable (`counts`), or the section name for global data (`.rodata`). */
  readonly name: string;
  /**
   * Where it comes from: a BTF `.maps` definition, a legacy `maps` struct, global data, the
   * `.kconfig` externs, or a `.struct_ops` variable.
   */
  readonly kind: "btf" | "legacy" | "global" | "kconfig" | "struct_ops";
  /** The ELF section that defines it. */
  readonly section: string;
  /** `enum bpf_map_type` number. */
  readonly type: number;
  /** Key size in bytes (may be changed before load). */
  keySize: number;
  /** Value size in bytes (may be changed before load). */
  valueSize: number;
  /**
   * max_entries (may be changed before load). A perf event array left at 0 gets the number of
   * possible CPUs at load, and a ring buffer's size is rounded up to a power-of-2 number of pages,
   * as libbpf does.
   */
  maxEntries: number;
  /** map_flags (may be changed before load). */
  flags: number;
  /** BTF type id (in the object's `.BTF`) of the key; 0 when none. */
  readonly keyTypeId?: number;
  /** BTF type id of the value (the DATASEC, for global data); 0 when none. */
  readonly valueTypeId?: number;
  /** numa_node (`__uint(numa_node, …)`). */
  readonly numaNode?: number;
  /** map_extra (`__uint(map_extra, …)`). */
  readonly mapExtra?: number;
  /**
   * `__uint(pinning, …)`: 1 (`LIBBPF_PIN_BY_NAME`) pins the map under the pin root by its name,
   * reusing a compatible map already pinned there. May be changed before load.
   */
  pinning?: number;
  /**
   * Initial contents of global data (`undefined` for `.bss`: all zeros). `ObjectSpec.setVariable`
   * writes into it.
   */
  data?: Uint8Array;
  /**
   * Initial entries from `__array(values, …)` in the definition: for a map of maps, the names of
   * the maps to put at each index; for a program array, the names of the programs.
   */
  readonly initValues?: readonly { readonly index: number; readonly name: string }[];
  /** The inner map template of a map of maps (`__array(values, struct inner_def)`). */
  readonly inner?: MapSpec;
  /** For a `.struct_ops` / `.struct_ops.link` map: the struct type and what the data holds. */
  readonly structOps?: StructOpsSpec;
  /** Global data the program only reads (`.rodata*`): frozen after it is filled. */
  readonly readonly?: boolean;
}

/**
 * An instruction that refers to a map: `ld_imm64` to rewrite to `BPF_PSEUDO_MAP_FD` (`offset`
 * undefined) or `BPF_PSEUDO_MAP_VALUE` with `offset` into the value (global data).
 *
 * @example
 * ```ts
 * import type { MapRelocation } from "@tsbpf/core/elf";
 * const r: MapRelocation = { insn: 12, map: ".rodata", offset: 8 };
 * ```
 */
export interface MapRelocation {
  /** Instruction index in the linked program. */
  readonly insn: number;
  /** Map name (a `MapSpec.name`). */
  readonly map: string;
  /** Offset into the value for global data; undefined for a map reference. */
  readonly offset?: number;
}

/**
 * `.BTF.ext` records of one linked program, with instruction indices (not byte offsets) into
 * `ProgramSpec.insns`.
 *
 * @example
 * ```ts
 * import type { ProgramBtfExt } from "@tsbpf/core/elf";
 * const e: ProgramBtfExt = { funcInfo: [], lineInfo: [], coreRelos: [] };
 * ```
 */
export interface ProgramBtfExt {
  /** `{ insn, typeId }` per function (the program and each linked subprogram). */
  readonly funcInfo: readonly { readonly insn: number; readonly typeId: number }[];
  /** Line info, sorted by instruction. */
  readonly lineInfo: readonly {
    readonly insn: number;
    readonly fileNameOff: number;
    readonly lineOff: number;
    readonly line: number;
    readonly column: number;
  }[];
  /** CO-RE relocations. */
  readonly coreRelos: readonly {
    readonly insn: number;
    readonly typeId: number;
    readonly access: string;
    readonly kind: number;
  }[];
}

/**
 * A program: its entry function with every subprogram it calls appended and the calls fixed.
 *
 * @example
 * ```ts
 * import { ObjectSpec } from "@tsbpf/core/elf";
 * declare const bytes: Uint8Array;
 * const p = ObjectSpec.parse(bytes).programs[0];
 * console.log(p.name, p.section, p.typeName, p.insns.length / 8);
 * ```
 */
export interface ProgramSpec {
  /** Function name. */
  readonly name: string;
  /** ELF section, e.g. `"tracepoint/syscalls/sys_enter_execve"`. */
  readonly section: string;
  /** `enum bpf_prog_type` number, from the section name. */
  readonly type: number;
  /** Program type name, e.g. `"tracepoint"`. */
  readonly typeName: string;
  /** `expected_attach_type` to pass at load, when the section implies one. */
  readonly expectedAttachType: number | undefined;
  /** `prog_flags` the section implies. */
  readonly flags: number;
  /** The section needs `attach_btf_id` (fentry, lsm, tp_btf, iter, struct_ops…). */
  readonly needsAttachBtf: boolean;
  /**
   * Whether `loadObject` loads this program (libbpf's autoload): true unless the section starts
   * with `?`. Set it to false before load to leave the program out.
   */
  autoload: boolean;
  /**
   * The attach target: the part of the section after `prefix/` (`sched_switch` of
   * `tp_btf/sched_switch`, `do_unlinkat` of `fentry/do_unlinkat`). May be changed before load;
   * for BTF-attached sections it is the kernel function or type looked up for `attach_btf_id`.
   */
  attachTarget: string | undefined;
  /**
   * A loaded program (a `Program`, or anything with its `fd`) whose function `attachTarget`
   * this program attaches to, instead of a kernel function: what an `freplace/` program needs
   * (libbpf's `bpf_program__set_attach_target(prog, fd, name)`), and what makes `fentry/` or
   * `fexit/` trace a BPF function. The target must have been loaded with BTF. Set it before
   * load.
   */
  attachProgram: { readonly fd: number } | undefined;
  /** Extern references (kconfig, ksym, kfunc) still to resolve, by instruction. */
  readonly externRelocations: readonly ExternRelocation[];
  /** Linked instructions, raw `bpf_insn` bytes (calls to subprograms already fixed). */
  readonly insns: Uint8Array;
  /** Map and global-data references still to relocate. */
  readonly relocations: readonly MapRelocation[];
  /** func_info / line_info / CO-RE records at linked instruction indices. */
  readonly btfExt: ProgramBtfExt;
  /** The object's license ("" when the object has no `license` section). */
  readonly license: string;
}

/**
 * An instruction that refers to an extern: an `ld_imm64` of a kconfig value or ksym address, or
 * a `call` of a kfunc.
 *
 * @example
 * ```ts
 * import type { ExternRelocation } from "@tsbpf/core/elf";
 * const r: ExternRelocation = { insn: 4, name: "LINUX_KERNEL_VERSION", call: false, offset: 0 };
 * ```
 */
export interface ExternRelocation {
  /** Instruction index in the linked program. */
  readonly insn: number;
  /** The extern's name (an `ExternSpec.name`). */
  readonly name: string;
  /** A `call` (kfunc) rather than an `ld_imm64`. */
  readonly call: boolean;
  /** The addend clang left in the instruction (an offset into the extern). */
  readonly offset: number;
}

/**
 * A `.struct_ops` / `.struct_ops.link` variable: the kernel struct it fills and, for each member
 * that points at a program, that program's name.
 *
 * @example
 * ```ts
 * import type { StructOpsSpec } from "@tsbpf/core/elf";
 * const s: StructOpsSpec = { typeName: "tcp_congestion_ops", typeId: 12, programs: {}, link: true };
 * ```
 */
export interface StructOpsSpec {
  /** The struct's name (`tcp_congestion_ops`), looked up in the kernel's BTF. */
  readonly typeName: string;
  /** Its type id in the object's BTF. */
  readonly typeId: number;
  /** Member name -> program name, for function-pointer members set in the initializer. */
  readonly programs: Readonly<Record<string, string>>;
  /** From `.struct_ops.link`: registered through a link (`BPF_F_LINK`). */
  readonly link: boolean;
}

interface Func {
  readonly sym: ElfSymbol;
  readonly section: ElfSection;
  readonly start: number; // byte offset in section
  readonly end: number;
}

function i32(bytes: Uint8Array, at: number): number {
  return (bytes[at] | (bytes[at + 1] << 8) | (bytes[at + 2] << 16) | (bytes[at + 3] << 24));
}

function setI32(bytes: Uint8Array, at: number, v: number): void {
  bytes[at] = v & 0xff;
  bytes[at + 1] = (v >> 8) & 0xff;
  bytes[at + 2] = (v >> 16) & 0xff;
  bytes[at + 3] = (v >>> 24) & 0xff;
}

function isDataSection(s: ElfSection): boolean {
  return /^\.(rodata|data|bss)(\..*)?$/.test(s.name) &&
    (s.type === SHT.PROGBITS || s.type === SHT.NOBITS);
}

/**
 * A parsed BPF object. `ObjectSpec.parse(bytes)` decodes it; `loadObject` turns it into kernel
 * objects.
 *
 * @example
 * ```ts
 * import { ObjectSpec } from "@tsbpf/core/elf";
 * const spec = ObjectSpec.parse(Deno.readFileSync("prog.bpf.o"));
 * console.log(spec.license, spec.maps.map((m) => m.name), spec.programs.map((p) => p.name));
 * ```
 */
export class ObjectSpec {
  /**
   * The object's name (prefix of its internal maps' kernel names, see `ParseOptions.name`). May be
   * changed before load.
   */
  name: string;
  /** The license string of the `license` section ("" when there is none, as libbpf allows). */
  readonly license: string;
  /**
   * Maps defined in `.maps` (BTF) or `maps` (legacy), in section order, then `.struct_ops`
   * variables.
   */
  readonly maps: readonly MapSpec[];
  /** Global data sections as one-element array maps, and `.kconfig` when externs need it. */
  readonly globals: readonly MapSpec[];
  /** Externs (kconfig, ksym, kfunc) the programs refer to. */
  readonly externs: readonly ExternSpec[];
  /** Programs (entry functions of non-`.text` executable sections). */
  readonly programs: readonly ProgramSpec[];
  /** The raw `.BTF` section, if any. */
  readonly btf: Uint8Array | undefined;
  /** `.BTF` parsed. */
  readonly types: Btf | undefined;
  /** `.BTF.ext` decoded. */
  readonly btfExt: BtfExt | undefined;
  /** The parsed ELF file. */
  readonly elf: ElfFile;
  /** Global-data specs whose `data` is a copy this spec may write. */
  readonly #owned = new WeakSet<MapSpec>();

  private constructor(
    elf: ElfFile,
    license: string,
    maps: MapSpec[],
    globals: MapSpec[],
    programs: ProgramSpec[],
    btf: Uint8Array | undefined,
    types: Btf | undefined,
    btfExt: BtfExt | undefined,
    externs: ExternSpec[],
    name: string,
  ) {
    this.name = name;
    this.externs = externs;
    this.elf = elf;
    this.license = license;
    this.maps = maps;
    this.globals = globals;
    this.programs = programs;
    this.btf = btf;
    this.types = types;
    this.btfExt = btfExt;
  }

  /**
   * Parses a BPF object file.
   *
   * @throws {ElfError} for malformed ELF, BTF or `.BTF.ext` (with the file offset).
   * @throws {ObjectError} for a valid file that cannot be used: a program section no program type
   * claims, a map definition or relocation that is not supported.
   * @example
   * ```ts
   * import { ObjectSpec } from "@tsbpf/core/elf";
   * const spec = ObjectSpec.parse(Deno.readFileSync("prog.bpf.o"));
   * spec.programs[0].typeName; // e.g. "socket_filter"
   * ```
   */
  static parse(bytes: Uint8Array, options: ParseOptions = {}): ObjectSpec {
    requireBytes("ObjectSpec.parse", "bytes", bytes);
    requireObject("ObjectSpec.parse", "options", options);
    const elf = parseElf(bytes);
    const lic = elf.section("license");
    let license = "";
    if (lic !== undefined) {
      const nul = lic.data.indexOf(0);
      license = new TextDecoder().decode(lic.data.subarray(0, nul < 0 ? lic.data.length : nul));
    }

    const btfSec = elf.section(".BTF");
    let types: Btf | undefined;
    if (btfSec !== undefined) {
      try {
        types = parseBtf(btfSec.data);
      } catch (e) {
        if (e instanceof BtfError) throw new ElfError(e.message, btfSec.offset + e.offset);
        throw e;
      }
    }
    const extSec = elf.section(".BTF.ext");
    const btfExt = extSec !== undefined && types !== undefined
      ? parseBtfExt(extSec.data, types, extSec.offset)
      : undefined;

    const externs = collectExterns(elf, types);
    const maps = [...btfMaps(elf, types), ...legacyMaps(elf), ...structOpsMaps(elf, types)];
    const globals = globalMaps(elf, types);
    const kcSize = kconfigSize(externs);
    if (kcSize > 0) {
      globals.push({
        name: ".kconfig",
        kind: "kconfig",
        section: ".kconfig",
        type: MapType.ARRAY,
        keySize: 4,
        valueSize: kcSize,
        maxEntries: 1,
        flags: MapFlag.RDONLY_PROG | MapFlag.MMAPABLE,
        keyTypeId: 0,
        valueTypeId: types?.find("datasec", ".kconfig")?.id ?? 0,
        readonly: true,
      });
    }
    const programs = buildPrograms(
      elf,
      license,
      btfExt,
      new Set(maps.filter((m) => m.kind === "btf" || m.kind === "legacy").map((m) => m.section)),
    );
    return new ObjectSpec(
      elf,
      license,
      maps,
      globals,
      programs,
      btfSec?.data,
      types,
      btfExt,
      externs,
      options.name ?? "",
    );
  }

  /**
   * The program named `name`.
   *
   * @throws {ObjectError} when the object has no such program.
   * @example
   * ```ts
   * import { ObjectSpec } from "@tsbpf/core/elf";
   * const spec = ObjectSpec.parse(Deno.readFileSync("prog.bpf.o"));
   * spec.program("handle_exec").autoload = false;
   * ```
   */
  program(name: string): ProgramSpec {
    const p = this.programs.find((x) => x.name === name);
    if (p === undefined) {
      throw new ObjectError(
        `no program named ${name} (the object has: ${
          this.programs.map((x) => x.name).join(", ") || "none"
        })`,
      );
    }
    return p;
  }

  /**
   * The map (or global-data section, `.rodata`, `.bss`…) named `name`.
   *
   * @throws {ObjectError} when the object has no such map.
   * @example
   * ```ts
   * import { ObjectSpec } from "@tsbpf/core/elf";
   * const spec = ObjectSpec.parse(Deno.readFileSync("prog.bpf.o"));
   * spec.map("events").maxEntries = 1 << 16;
   * ```
   */
  map(name: string): MapSpec {
    const m = this.maps.find((x) => x.name === name) ?? this.globals.find((x) => x.name === name);
    if (m === undefined) {
      throw new ObjectError(
        `no map named ${name} (the object has: ${
          [...this.maps, ...this.globals].map((x) => x.name).join(", ") || "none"
        })`,
      );
    }
    return m;
  }

  /**
   * Sets a global variable (in `.rodata*`, `.data*` or `.bss*`) before load, typed from its BTF:
   * integers and enums take a number or bigint in their type's range, `bool` a boolean, char
   * arrays a string that fits with its NUL; any variable takes exactly its size in bytes.
   *
   * @throws {ObjectError} naming the variable when the object has no such global variable.
   * @throws {ArgumentError} when the value does not fit the variable's type.
   * @throws {ArgumentError} when the value's kind does not match the type.
   * @example
   * ```ts
   * import { ObjectSpec } from "@tsbpf/core/elf";
   * const spec = ObjectSpec.parse(Deno.readFileSync("prog.bpf.o"));
   * spec.setVariable("targ_pid", 1234);
   * spec.setVariable("targ_comm", "bash");
   * ```
   */
  setVariable(name: string, value: VariableValue): void {
    const sym = this.elf.symbols.find((s) =>
      s.name === name && s.type === STT.OBJECT && s.section !== SHN.UNDEF &&
      this.globals.some((g) =>
        g.kind === "global" && g.section === this.elf.sections[s.section]?.name
      )
    );
    if (sym === undefined) {
      throw new ObjectError(
        `variable ${name}: no such global variable in .rodata, .data or .bss (is it static and ` +
          "unused, or optimized out?)",
      );
    }
    const secName = this.elf.sections[sym.section].name;
    const g = this.globals.find((m) => m.section === secName)!;
    let typeId = 0;
    const ds = this.types?.find("datasec", secName);
    if (ds !== undefined) {
      for (const v of ds.vars) {
        const t = this.types!.typeById(v.type);
        if (t.kind === "var" && t.name === name) typeId = t.type;
      }
    }
    const bytes = encodeVariable(name, secName, value, sym.size, this.types, typeId);
    if (sym.value + bytes.length > g.valueSize) {
      throw new ArgumentError(
        "variable",
        `variable ${name}: it lies outside ${secName} (${g.valueSize} bytes)`,
      );
    }
    if (!this.#owned.has(g) || g.data === undefined) {
      // The parsed data is a view into the file: copy it before the first write.
      const d = new Uint8Array(g.valueSize);
      if (g.data !== undefined) d.set(g.data.subarray(0, g.valueSize));
      g.data = d;
      this.#owned.add(g);
    }
    g.data.set(bytes, sym.value);
  }
}

/**
 * The kernel name libbpf gives an internal map (`.rodata`, `.bss`, `.kconfig`…) of object `obj`:
 * as much of the object name as fits before the section name in 15 characters, no prefix for
 * custom sections with a second dot (`.rodata.str1.1`), other characters replaced by `_`.
 *
 * @example
 * ```ts
 * import { internalMapName } from "@tsbpf/core/elf";
 * internalMapName("bootstrap", ".rodata"); // "bootstra.rodata"
 * ```
 */
export function internalMapName(obj: string, section: string): string {
  const sfx = Math.max(7, section.length);
  const pfx = section.indexOf(".", 1) >= 0 ? 0 : Math.max(0, Math.min(15 - sfx, obj.length));
  return (obj.slice(0, pfx) + section).slice(0, 15).replace(/[^A-Za-z0-9_.]/g, "_");
}

interface MapDef {
  readonly fields: Record<string, number>;
  readonly keyTypeId: number;
  readonly valueTypeId: number;
  /** `__array(values, …)`: byte offset of the member, and what its pointers point at. */
  readonly values?: { readonly offset: number; readonly target: number };
}

/** Decodes one BTF map definition struct (`struct { __uint(type, …); … }`). */
function mapDef(btf: Btf, name: string, typeId: number): MapDef {
  const def = btf.resolve(typeId);
  if (def.kind !== "struct") {
    throw new ObjectError(`map ${name}: its definition is a ${def.kind}, not a struct`);
  }
  const m: Record<string, number> = {};
  let keyTypeId = 0;
  let valueTypeId = 0;
  let values: MapDef["values"];
  for (const member of def.members) {
    if (member.name === "values") {
      const arr = btf.resolve(member.type);
      const ptr = arr.kind === "array" ? btf.resolve(arr.type) : arr;
      if (arr.kind !== "array" || ptr.kind !== "ptr") {
        throw new ObjectError(`map ${name}: "values" is not an __array(values, …)`);
      }
      values = { offset: member.bitOffset / 8, target: ptr.type };
      continue;
    }
    const ptr = btf.resolve(member.type);
    if (ptr.kind !== "ptr") {
      throw new ObjectError(
        `map ${name}: member "${member.name}" is a ${ptr.kind}; expected __uint() or __type()`,
      );
    }
    switch (member.name) {
      case "type":
      case "max_entries":
      case "map_flags":
      case "key_size":
      case "value_size":
      case "numa_node":
      case "map_extra":
      case "pinning": {
        const arr = btf.resolve(ptr.type);
        if (arr.kind !== "array") {
          throw new ObjectError(`map ${name}: "${member.name}" is not a __uint()`);
        }
        m[member.name] = arr.nelems;
        break;
      }
      case "key":
        keyTypeId = ptr.type;
        m.key_size = btf.sizeOf(ptr.type);
        break;
      case "value":
        valueTypeId = ptr.type;
        m.value_size = btf.sizeOf(ptr.type);
        break;
      default:
        throw new ObjectError(`map ${name}: unknown map attribute "${member.name}"`);
    }
  }
  if (m.type === undefined) throw new ObjectError(`map ${name}: no __uint(type, …)`);
  return { fields: m, keyTypeId, valueTypeId, ...(values ? { values } : {}) };
}

function mapSpecOf(name: string, d: MapDef, extra: Partial<MapSpec> = {}): MapSpec {
  const m = d.fields;
  // As libbpf: maps of maps and program arrays declared with __array(values, …) hold 4-byte fds.
  if (d.values !== undefined) {
    m.key_size ??= 4;
    m.value_size ??= 4;
  }
  return {
    name,
    kind: "btf",
    section: ".maps",
    type: m.type,
    keySize: m.key_size ?? 0,
    valueSize: m.value_size ?? 0,
    maxEntries: m.max_entries ?? 0,
    flags: m.map_flags ?? 0,
    keyTypeId: d.keyTypeId,
    valueTypeId: d.valueTypeId,
    ...(m.numa_node !== undefined ? { numaNode: m.numa_node } : {}),
    ...(m.map_extra !== undefined ? { mapExtra: m.map_extra } : {}),
    ...(m.pinning !== undefined ? { pinning: m.pinning } : {}),
    ...extra,
  };
}

function btfMaps(elf: ElfFile, btf: Btf | undefined): MapSpec[] {
  const sec = elf.section(".maps");
  if (sec === undefined) return [];
  if (btf === undefined) throw new ObjectError('section ".maps" needs BTF, but there is no .BTF');
  const datasec = btf.find("datasec", ".maps");
  if (datasec === undefined) throw new ObjectError('.BTF has no DATASEC ".maps"');
  const syms = elf.symbols.filter((s) => s.section === sec.index && s.type !== STT.SECTION)
    .sort((a, b) => a.value - b.value);
  const relocs = elf.relocations.get(sec.index) ?? [];
  const out: MapSpec[] = [];
  for (const sym of syms) {
    const v = datasec.vars.map((x) => btf.typeById(x.type)).find((t) => t.name === sym.name);
    if (v === undefined || v.kind !== "var") {
      throw new ObjectError(`map ${sym.name}: no VAR in the .maps DATASEC of .BTF`);
    }
    const d = mapDef(btf, sym.name, v.type);
    const extra: { inner?: MapSpec; initValues?: { index: number; name: string }[] } = {};
    if (d.values !== undefined) {
      const target = btf.resolve(d.values.target);
      const isProgArray = d.fields.type === MapType.PROG_ARRAY;
      if (!isProgArray) {
        if (target.kind !== "struct") {
          throw new ObjectError(
            `map ${sym.name}: __array(values, …) of a map of maps must name a map definition struct`,
          );
        }
        extra.inner = mapSpecOf(`${sym.name}.inner`, mapDef(btf, `${sym.name}.inner`, target.id));
      } else if (target.kind !== "func_proto") {
        throw new ObjectError(
          `map ${sym.name}: __array(values, …) of a program array must name a function type`,
        );
      }
      const init: { index: number; name: string }[] = [];
      const base = sym.value + d.values.offset;
      for (const r of relocs) {
        if (r.offset < base || r.offset >= sym.value + sym.size) continue;
        if ((r.offset - base) % 8 !== 0) {
          throw new ElfError(
            `map ${sym.name}: relocation at offset ${r.offset} of ".maps" is not on a values slot`,
            r.fileOffset,
          );
        }
        const target = elf.symbols[r.symbol];
        init.push({ index: (r.offset - base) / 8, name: target?.name ?? "" });
      }
      init.sort((a, b) => a.index - b.index);
      for (const e of init) {
        if (e.index >= (d.fields.max_entries ?? 0)) {
          throw new ObjectError(
            `map ${sym.name}: initial value ${e.name} at index ${e.index} is past max_entries ` +
              `${d.fields.max_entries ?? 0}`,
          );
        }
      }
      extra.initValues = init;
    }
    out.push(mapSpecOf(sym.name, d, extra));
  }
  return out;
}

/** `.struct_ops` and `.struct_ops.link` variables: one struct_ops map each. */
function structOpsMaps(elf: ElfFile, btf: Btf | undefined): MapSpec[] {
  const out: MapSpec[] = [];
  for (const sec of elf.sections) {
    if (sec.name !== ".struct_ops" && sec.name !== ".struct_ops.link") continue;
    if (btf === undefined) {
      throw new ObjectError(`section "${sec.name}" needs BTF, but there is no .BTF`);
    }
    const link = sec.name === ".struct_ops.link";
    const relocs = elf.relocations.get(sec.index) ?? [];
    const syms = elf.symbols.filter((s) =>
      s.section === sec.index && s.type === STT.OBJECT && s.size > 0
    );
    const ds = btf.find("datasec", sec.name);
    for (const sym of syms) {
      const v = ds?.vars.map((x) => btf.typeById(x.type)).find((t) => t.name === sym.name);
      if (v === undefined || v.kind !== "var") {
        throw new ObjectError(
          `struct_ops map ${sym.name} (section "${sec.name}"): no VAR in its DATASEC of .BTF`,
        );
      }
      const st = btf.resolve(v.type);
      if (st.kind !== "struct") {
        throw new ObjectError(
          `struct_ops map ${sym.name} (section "${sec.name}"): its type is a ${st.kind}, not a struct`,
        );
      }
      const programs: Record<string, string> = {};
      for (const r of relocs) {
        if (r.offset < sym.value || r.offset >= sym.value + sym.size) continue;
        const member = st.members.find((m) => m.bitOffset / 8 === r.offset - sym.value);
        const target = elf.symbols[r.symbol];
        if (member === undefined || target === undefined) {
          throw new ElfError(
            `struct_ops map ${sym.name}: relocation at offset ${r.offset - sym.value} is not ` +
              `on a member of struct ${st.name}`,
            r.fileOffset,
          );
        }
        programs[member.name] = target.name;
      }
      out.push({
        name: sym.name,
        kind: "struct_ops",
        section: sec.name,
        type: MapType.STRUCT_OPS,
        keySize: 4,
        valueSize: st.size,
        maxEntries: 1,
        flags: link ? MapFlag.LINK : 0,
        keyTypeId: 0,
        valueTypeId: st.id,
        data: sec.data.subarray(sym.value, sym.value + sym.size),
        structOps: { typeName: st.name, typeId: st.id, programs, link },
      });
    }
  }
  return out;
}

function legacyMaps(elf: ElfFile): MapSpec[] {
  const sec = elf.section("maps");
  if (sec === undefined) return [];
  if (sec.type === SHT.NOBITS) {
    throw new ElfError(
      `section "maps" is SHT_NOBITS (${sec.size} bytes, no contents): legacy map definitions ` +
        "(struct bpf_map_def) must be initialized data",
      sec.offset,
    );
  }
  const syms = elf.symbols.filter((s) => s.section === sec.index && s.type !== STT.SECTION)
    .sort((a, b) => a.value - b.value);
  const v = new DataView(sec.data.buffer, sec.data.byteOffset, sec.data.byteLength);
  return syms.map((sym): MapSpec => {
    const size = sym.size || 20;
    if (size < 16) {
      throw new ElfError(
        `legacy map ${sym.name}: ${size}-byte definition is shorter than struct bpf_map_def`,
        sec.offset + sym.value,
      );
    }
    // type, key_size, value_size, max_entries and (when the definition has it) map_flags.
    const read = size >= 20 ? 20 : 16;
    if (sym.value + read > sec.data.length) {
      throw new ElfError(
        `legacy map ${sym.name}: its ${read}-byte definition at offset ${sym.value} runs past ` +
          `the end of section "maps" (${sec.data.length} bytes)`,
        sec.offset + sym.value,
      );
    }
    const at = sym.value;
    return {
      name: sym.name,
      kind: "legacy",
      section: "maps",
      type: v.getUint32(at, true),
      keySize: v.getUint32(at + 4, true),
      valueSize: v.getUint32(at + 8, true),
      maxEntries: v.getUint32(at + 12, true),
      flags: size >= 20 ? v.getUint32(at + 16, true) : 0,
    };
  });
}

function globalMaps(elf: ElfFile, btf: Btf | undefined): MapSpec[] {
  const out: MapSpec[] = [];
  for (const s of elf.sections) {
    if (!isDataSection(s) || s.size === 0) continue;
    const ro = s.name.startsWith(".rodata");
    const datasec = btf?.find("datasec", s.name);
    // As libbpf: mmapable when the section holds a variable that is not static.
    const mmapable = datasec !== undefined && datasec.vars.some((x) => {
      const t = btf!.typeById(x.type);
      return t.kind === "var" && t.linkage !== VAR_STATIC;
    });
    out.push({
      name: s.name,
      kind: "global",
      section: s.name,
      type: MapType.ARRAY,
      keySize: 4,
      valueSize: s.size,
      maxEntries: 1,
      flags: (ro ? MapFlag.RDONLY_PROG : 0) | (mmapable ? MapFlag.MMAPABLE : 0),
      keyTypeId: 0,
      valueTypeId: datasec?.id ?? 0,
      ...(s.type === SHT.NOBITS ? {} : { data: s.data }),
      readonly: ro || (s.flags & SHF_WRITE) === 0,
    });
  }
  return out;
}

function functionsOf(elf: ElfFile): Map<number, Func[]> {
  const bySection = new Map<number, Func[]>();
  for (const sym of elf.symbols) {
    if (sym.type !== STT.FUNC || sym.section === SHN.UNDEF || sym.section >= elf.sections.length) {
      continue;
    }
    const section = elf.sections[sym.section];
    if ((section.flags & SHF_EXECINSTR) === 0) continue;
    if (section.data.length !== section.size) {
      throw new ElfError(
        `function ${sym.name}: its section "${section.name}" has no contents in the file ` +
          "(SHT_NOBITS)",
        section.offset,
      );
    }
    if (sym.size % INSN !== 0) {
      const symtab = elf.sections.find((s) => s.type === SHT.SYMTAB);
      throw new ElfError(
        `function ${sym.name} (symbol ${sym.index}, at offset ${sym.value} of section ` +
          `"${section.name}"): st_size ${sym.size} is not a multiple of the 8-byte instruction`,
        symtab === undefined ? -1 : symtab.offset + sym.index * 24 + 16,
      );
    }
    let list = bySection.get(section.index);
    if (list === undefined) bySection.set(section.index, list = []);
    list.push({ sym, section, start: sym.value, end: sym.value + sym.size });
  }
  for (const list of bySection.values()) {
    list.sort((a, b) => a.start - b.start);
    // Functions without a size (hand-written assembly) run to the next function.
    for (let i = 0; i < list.length; i++) {
      const f = list[i];
      if (f.end === f.start) {
        const next = i + 1 < list.length ? list[i + 1].start : f.section.size;
        list[i] = { ...f, end: next };
      }
      if (f.start % INSN !== 0 || list[i].end > f.section.size || list[i].end < f.start) {
        throw new ElfError(
          `function ${f.sym.name} (${f.start}..${
            list[i].end
          }) is not within section "${f.section.name}" (${f.section.size} bytes)`,
          symtabAt(elf, f.sym.index, 8),
        );
      }
    }
  }
  return bySection;
}

/** File offset of field `field` of symbol `index` in `.symtab` (-1 without one). */
function symtabAt(elf: ElfFile, index: number, field: number): number {
  const symtab = elf.sections.find((s) => s.type === SHT.SYMTAB);
  return symtab === undefined ? -1 : symtab.offset + index * 24 + field;
}

/** `R_BPF_64_64` (ld_imm64) and `R_BPF_64_32` (call): the relocations clang puts on code. */
const CODE_RELOCATION_TYPES: ReadonlyMap<number, string> = new Map([
  [1, "R_BPF_64_64"],
  [10, "R_BPF_64_32"],
]);

/**
 * Rejects relocations of executable sections that `link` could not apply (as libbpf does: "invalid
 * offset … for relo"): a type other than R_BPF_64_64/R_BPF_64_32, an offset that is not on an
 * instruction boundary, past the section, outside every function, or relocated twice.
 */
function checkProgramRelocations(elf: ElfFile, funcs: Map<number, Func[]>): void {
  for (const index of elf.relocations.keys()) {
    const section = elf.sections[index];
    if ((section.flags & SHF_EXECINSTR) === 0) continue; // debug sections: never decoded
    const list = elf.relocations.get(index)!;
    const fs = funcs.get(index) ?? [];
    const seen = new Set<number>();
    list.forEach((r, n) => {
      const what = `relocation #${n} of section "${section.name}" (r_offset ${r.offset})`;
      if (!CODE_RELOCATION_TYPES.has(r.type)) {
        throw new ElfError(
          `${what}: type ${r.type} is not a code relocation (R_BPF_64_64 = 1, R_BPF_64_32 = 10)`,
          r.fileOffset + 8,
        );
      }
      if (r.offset % INSN !== 0) {
        throw new ElfError(`${what}: offset is not a multiple of 8`, r.fileOffset);
      }
      if (r.offset + INSN > section.size) {
        throw new ElfError(
          `${what}: offset is past the end of the section (${section.size} bytes)`,
          r.fileOffset,
        );
      }
      if (!fs.some((f) => f.start <= r.offset && r.offset < f.end)) {
        throw new ElfError(`${what}: offset is not inside any function`, r.fileOffset);
      }
      if (seen.has(r.offset)) {
        throw new ElfError(`${what}: the instruction is already relocated`, r.fileOffset);
      }
      seen.add(r.offset);
    });
  }
}

function buildPrograms(
  elf: ElfFile,
  license: string,
  ext: BtfExt | undefined,
  mapSections: Set<string>,
): ProgramSpec[] {
  const funcs = functionsOf(elf);
  checkProgramRelocations(elf, funcs);
  const funcAt = (sectionIndex: number, off: number, why: string): Func => {
    const f = funcs.get(sectionIndex)?.find((x) => x.start <= off && off < x.end);
    if (f === undefined) {
      const s = elf.sections[sectionIndex];
      throw new ElfError(
        `${why}: no function at offset ${off} of section "${s?.name}"`,
        s?.offset ?? -1,
      );
    }
    return f;
  };
  const programs: ProgramSpec[] = [];
  for (const [index, list] of funcs) {
    const section = elf.sections[index];
    if (section.name === ".text") continue;
    // libbpf: a section starting with "?" is not loaded unless turned on.
    const optional = section.name.startsWith("?");
    const t = programTypeOfSection(optional ? section.name.slice(1) : section.name);
    for (const entry of list) {
      programs.push(link(elf, entry, funcAt, license, ext, mapSections, {
        type: t.type,
        typeName: t.typeName,
        expectedAttachType: t.expectedAttachType,
        flags: t.flags,
        needsAttachBtf: t.prefix.attachBtf === true || t.typeName === "struct_ops",
        autoload: !optional,
        attachTarget: t.target,
        attachProgram: undefined,
      }));
    }
  }
  return programs;
}

function link(
  elf: ElfFile,
  entry: Func,
  funcAt: (section: number, off: number, why: string) => Func,
  license: string,
  ext: BtfExt | undefined,
  mapSections: Set<string>,
  kind: Pick<
    ProgramSpec,
    | "type"
    | "typeName"
    | "expectedAttachType"
    | "flags"
    | "needsAttachBtf"
    | "autoload"
    | "attachTarget"
    | "attachProgram"
  >,
): ProgramSpec {
  const layout: Func[] = [entry];
  const base = new Map<Func, number>([[entry, 0]]);
  let total = (entry.end - entry.start) / INSN;
  const place = (f: Func): number => {
    let b = base.get(f);
    if (b === undefined) {
      b = total;
      base.set(f, b);
      layout.push(f);
      total += (f.end - f.start) / INSN;
    }
    return b;
  };
  const fixups: { at: number; target: Func; targetInsn: number }[] = [];
  const relocations: MapRelocation[] = [];
  const externRelocations: ExternRelocation[] = [];
  const where = (f: Func, i: number): string =>
    `${f.sym.name}${f === entry ? "" : ` (called from ${entry.sym.name})`} instruction ${i}`;

  for (let k = 0; k < layout.length; k++) {
    const f = layout[k];
    const fb = base.get(f)!;
    const data = f.section.data;
    const relocs = new Map<number, number>(); // byte offset -> symbol index
    for (const r of elf.relocations.get(f.section.index) ?? []) {
      if (r.offset >= f.start && r.offset < f.end) relocs.set(r.offset, r.symbol);
    }
    for (let off = f.start; off < f.end; off += INSN) {
      const i = (off - f.start) / INSN;
      const op = data[off];
      const src = data[off + 1] >> 4;
      const imm = i32(data, off + 4);
      const symIndex = relocs.get(off);
      if (symIndex === undefined) {
        // Unrelocated pc-relative calls stay within the section.
        if ((op === CALL && src === PSEUDO_CALL) || (op === LD_IMM64 && src === PSEUDO_FUNC)) {
          const targetOff = off + (imm + 1) * INSN;
          const target = funcAt(f.section.index, targetOff, where(f, i));
          fixups.push({ at: fb + i, target, targetInsn: (targetOff - target.start) / INSN });
          place(target);
        }
        continue;
      }
      const sym = elf.symbols[symIndex];
      if (sym.section === SHN.UNDEF) {
        if (op !== LD_IMM64 && op !== CALL) {
          throw new ObjectError(
            `${where(f, i)}: extern ${sym.name} is used by opcode 0x${
              op.toString(16)
            }, not ld_imm64 or call`,
          );
        }
        externRelocations.push({
          insn: fb + i,
          name: sym.name,
          call: op === CALL,
          offset: op === CALL ? 0 : imm,
        });
        continue;
      }
      const target = elf.sections[sym.section];
      if (op === CALL && src === PSEUDO_CALL) {
        const targetOff = sym.value + (imm + 1) * INSN;
        const t = funcAt(sym.section, targetOff, where(f, i));
        fixups.push({ at: fb + i, target: t, targetInsn: (targetOff - t.start) / INSN });
        place(t);
      } else if (op === LD_IMM64 && target !== undefined && (target.flags & SHF_EXECINSTR) !== 0) {
        const targetOff = sym.value + imm;
        const t = funcAt(sym.section, targetOff, where(f, i));
        fixups.push({ at: fb + i, target: t, targetInsn: (targetOff - t.start) / INSN });
        place(t);
      } else if (op === LD_IMM64 && target !== undefined && mapSections.has(target.name)) {
        const mapSym = sym.type === STT.SECTION
          ? elf.symbols.find((s) =>
            s.section === sym.section && s.type !== STT.SECTION && s.value === imm
          )
          : sym;
        if (mapSym === undefined) {
          throw new ObjectError(`${where(f, i)}: no map at offset ${imm} of "${target.name}"`);
        }
        relocations.push({ insn: fb + i, map: mapSym.name });
      } else if (op === LD_IMM64 && target !== undefined && isDataSection(target)) {
        relocations.push({
          insn: fb + i,
          map: target.name,
          offset: (sym.type === STT.SECTION ? 0 : sym.value) + imm,
        });
      } else {
        throw new ObjectError(
          `${where(f, i)}: unsupported relocation against "${sym.name}" in section "${
            target?.name ?? sym.section
          }" (opcode 0x${op.toString(16)})`,
        );
      }
    }
  }

  const insns = new Uint8Array(total * INSN);
  for (const f of layout) insns.set(f.section.data.subarray(f.start, f.end), base.get(f)! * INSN);
  for (const x of fixups) {
    // clang leaves src_reg 0 on a relocated callback address: mark it BPF_PSEUDO_FUNC.
    if (insns[x.at * INSN] === LD_IMM64) {
      insns[x.at * INSN + 1] = (insns[x.at * INSN + 1] & 0x0f) | (PSEUDO_FUNC << 4);
    }
    setI32(insns, x.at * INSN + 4, base.get(x.target)! + x.targetInsn - (x.at + 1));
  }

  const funcInfo: { insn: number; typeId: number }[] = [];
  const lineInfo: ProgramBtfExt["lineInfo"][number][] = [];
  const coreRelos: ProgramBtfExt["coreRelos"][number][] = [];
  if (ext !== undefined) {
    for (const f of layout) {
      const b = base.get(f)!;
      const name = f.section.name;
      const inF = (r: { section: string; insnOff: number }): boolean =>
        r.section === name && r.insnOff >= f.start && r.insnOff < f.end;
      const at = (off: number): number => b + (off - f.start) / INSN;
      for (const r of ext.funcInfo) {
        if (inF(r)) funcInfo.push({ insn: at(r.insnOff), typeId: r.typeId });
      }
      for (const r of ext.lineInfo) {
        if (inF(r)) {
          lineInfo.push({
            insn: at(r.insnOff),
            fileNameOff: r.fileNameOff,
            lineOff: r.lineOff,
            line: r.line,
            column: r.column,
          });
        }
      }
      for (const r of ext.coreRelos) {
        if (inF(r)) {
          coreRelos.push({ insn: at(r.insnOff), typeId: r.typeId, access: r.access, kind: r.kind });
        }
      }
    }
  }
  return {
    name: entry.sym.name,
    section: entry.section.name,
    ...kind,
    insns,
    relocations,
    externRelocations,
    btfExt: { funcInfo, lineInfo, coreRelos },
    license,
  };
}
