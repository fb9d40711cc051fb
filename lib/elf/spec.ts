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
import { type ElfFile, parseElf, SHN, STT } from "./elf.ts";
import { ElfError, ObjectError } from "./error.ts";
import { collectExterns, type ExternSpec, kconfigSize } from "./externs.ts";
import { MapFlag } from "../../types/flags.ts";
import { MapType } from "../../types/map_type.ts";
import { encodeVariable, type VariableValue } from "./variables.ts";
import { ArgumentError } from "../errors.ts";
import { btfMaps, globalMaps, legacyMaps, type MapSpec, structOpsMaps } from "./map_spec.ts";
import { buildPrograms, type ProgramSpec } from "./program_spec.ts";

export type { ExternRelocation, ProgramBtfExt, ProgramSpec } from "./program_spec.ts";
export {
  internalMapName,
  type MapRelocation,
  type MapSpec,
  type StructOpsSpec,
} from "./map_spec.ts";

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
