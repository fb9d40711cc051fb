/**
 * Program specifications of a BPF object: functions found in its code sections, relocations checked
 * and sorted, subprograms linked into each program with their `.BTF.ext` records. Pure.
 *
 * @module
 */
import type { BtfExt } from "./btf_ext.ts";
import {
  type ElfFile,
  type ElfSection,
  type ElfSymbol,
  SHF_EXECINSTR,
  SHN,
  SHT,
  STT,
} from "./elf.ts";
import { ElfError, ObjectError } from "./error.ts";
import { programTypeOfSection } from "./sections.ts";
import { isDataSection, type MapRelocation } from "./map_spec.ts";

const INSN = 8;
const LD_IMM64 = 0x18;
const CALL = 0x85;
const PSEUDO_CALL = 1;
const PSEUDO_FUNC = 4;

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

export function buildPrograms(
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

export function link(
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
