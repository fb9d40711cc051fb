/**
 * Map specifications of a BPF object: BTF-defined `.maps`, legacy `maps`, `.struct_ops` maps and the
 * global data sections (`.data`, `.rodata`, `.bss`, `.kconfig`), decoded without the kernel. Pure.
 *
 * @module
 */
import type { Btf } from "../btf/btf.ts";
import { type ElfFile, type ElfSection, SHF_WRITE, SHT, STT } from "./elf.ts";
import { ElfError, ObjectError } from "./error.ts";
import { MapFlag } from "../../types/flags.ts";
import { MapType } from "../../types/map_type.ts";

/** `BTF_VAR_STATIC`. */
const VAR_STATIC = 0;

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

export function isDataSection(s: ElfSection): boolean {
  return /^\.(rodata|data|bss)(\..*)?$/.test(s.name) &&
    (s.type === SHT.PROGBITS || s.type === SHT.NOBITS);
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

export function btfMaps(elf: ElfFile, btf: Btf | undefined): MapSpec[] {
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
export function structOpsMaps(elf: ElfFile, btf: Btf | undefined): MapSpec[] {
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

export function legacyMaps(elf: ElfFile): MapSpec[] {
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

export function globalMaps(elf: ElfFile, btf: Btf | undefined): MapSpec[] {
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
