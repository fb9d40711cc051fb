/**
 * Extern symbols of a BPF object: `__kconfig` values (laid out in the `.kconfig` map) and `__ksym`
 * variables and kfuncs, collected from the symbol table and the `.kconfig` / `.ksyms` DATASECs of
 * `.BTF`. Pure.
 *
 * @module
 */
import type { Btf } from "../btf/btf.ts";
import { type ElfFile, SHN, STB, STT } from "./elf.ts";
import { ObjectError } from "./error.ts";

/**
 * One extern the object's programs refer to.
 *
 * @example
 * ```ts
 * import type { ExternSpec } from "@tsbpf/core/elf";
 * const e: ExternSpec = {
 *   name: "LINUX_KERNEL_VERSION", kind: "kconfig", weak: false, typeId: 3, size: 4, align: 4, offset: 0,
 * };
 * ```
 */
export interface ExternSpec {
  /** Symbol name. */
  readonly name: string;
  /** `kconfig` (`__kconfig`), `ksym` (a kernel variable, `__ksym`) or `kfunc` (a kernel function). */
  readonly kind: "kconfig" | "ksym" | "kfunc";
  /** Declared `__weak`: when the kernel lacks it, it is zero (or the call is poisoned). */
  readonly weak: boolean;
  /**
   * Object-BTF type id: of the variable's type (kconfig, ksym; 0 when there is no BTF) or of the
   * FUNC (kfunc).
   */
  readonly typeId: number;
  /** Size in bytes (kconfig, typed ksym); 0 for untyped ksyms and kfuncs. */
  readonly size: number;
  /** Alignment in bytes (kconfig). */
  readonly align: number;
  /** Offset in the `.kconfig` map value (kconfig only). */
  readonly offset: number;
}

function alignOf(btf: Btf, id: number): number {
  const t = btf.resolve(id);
  switch (t.kind) {
    case "int":
    case "enum":
    case "enum64":
    case "float":
      return Math.min(t.size, 8);
    case "ptr":
      return 8;
    case "array":
      return alignOf(btf, t.type);
    case "struct":
    case "union":
      return t.members.reduce((a, m) => Math.max(a, alignOf(btf, m.type)), 1);
    default:
      return 1;
  }
}

/**
 * Collects the object's externs. kconfig externs get their offsets in the `.kconfig` map the way
 * libbpf lays it out: by alignment (largest first), then size (smallest first), then name.
 *
 * @throws {ObjectError} naming the extern when it is in neither `.kconfig` nor `.ksyms` of `.BTF`.
 * @example
 * ```ts
 * import { collectExterns, parseElf } from "@tsbpf/core/elf";
 * declare const bytes: Uint8Array;
 * collectExterns(parseElf(bytes), undefined).map((e) => e.name);
 * ```
 */
export function collectExterns(elf: ElfFile, btf: Btf | undefined): ExternSpec[] {
  const syms = elf.symbols.filter((s) =>
    s.section === SHN.UNDEF && s.index !== 0 && s.name !== "" && s.type !== STT.FILE &&
    s.type !== STT.SECTION
  );
  if (syms.length === 0) return [];
  const where = new Map<string, { section: string; typeId: number; func: boolean }>();
  for (const secName of [".kconfig", ".ksyms"]) {
    const ds = btf?.find("datasec", secName);
    if (ds === undefined) continue;
    for (const v of ds.vars) {
      const t = btf!.typeById(v.type);
      if (t.kind === "var") where.set(t.name, { section: secName, typeId: t.type, func: false });
      else if (t.kind === "func") where.set(t.name, { section: secName, typeId: t.id, func: true });
    }
  }
  const out: ExternSpec[] = [];
  for (const s of syms) {
    const w = where.get(s.name);
    const weak = s.bind === STB.WEAK;
    if (w === undefined) {
      // Without BTF, a function symbol is a kfunc and anything else an untyped ksym.
      if (btf === undefined) {
        out.push({
          name: s.name,
          kind: s.type === STT.FUNC ? "kfunc" : "ksym",
          weak,
          typeId: 0,
          size: 0,
          align: 1,
          offset: 0,
        });
        continue;
      }
      throw new ObjectError(
        `extern ${s.name}: not in the .kconfig or .ksyms DATASEC of .BTF (declare it with ` +
          "__kconfig or __ksym)",
      );
    }
    if (w.section === ".kconfig") {
      if (w.func) throw new ObjectError(`extern ${s.name}: a function cannot be __kconfig`);
      const size = btf!.sizeOf(w.typeId);
      out.push({
        name: s.name,
        kind: "kconfig",
        weak,
        typeId: w.typeId,
        size,
        align: alignOf(btf!, w.typeId),
        offset: 0,
      });
    } else if (w.func) {
      out.push({
        name: s.name,
        kind: "kfunc",
        weak,
        typeId: w.typeId,
        size: 0,
        align: 1,
        offset: 0,
      });
    } else {
      const t = btf!.resolve(w.typeId);
      const size = t.kind === "void" ? 0 : btf!.sizeOf(w.typeId);
      out.push({ name: s.name, kind: "ksym", weak, typeId: w.typeId, size, align: 1, offset: 0 });
    }
  }
  // kconfig layout.
  const kc = out.filter((e) => e.kind === "kconfig").sort((a, b) =>
    b.align - a.align || a.size - b.size || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)
  );
  let off = 0;
  const offsets = new Map<string, number>();
  for (const e of kc) {
    const at = Math.ceil(off / e.align) * e.align;
    offsets.set(e.name, at);
    off = at + e.size;
  }
  return out.map((e) => e.kind === "kconfig" ? { ...e, offset: offsets.get(e.name)! } : e);
}

/**
 * Size of the `.kconfig` map value for these externs (0 when there are no kconfig externs).
 *
 * @example
 * ```ts
 * import { kconfigSize } from "@tsbpf/core/elf";
 * kconfigSize([]); // 0
 * ```
 */
export function kconfigSize(externs: readonly ExternSpec[]): number {
  let end = 0;
  for (const e of externs) if (e.kind === "kconfig") end = Math.max(end, e.offset + e.size);
  return end;
}
