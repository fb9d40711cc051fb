/**
 * `__ksym` externs: kernel variables (typed, by BTF id; untyped, by address from
 * `/proc/kallsyms`) and kfuncs (by BTF id), and the instruction rewrites libbpf makes for each.
 * Pure: the loader passes the kallsyms lookup.
 *
 * @module
 */
import type { Btf } from "../btf/btf.ts";
import type { BtfType } from "../btf/types.ts";
import { ObjectError } from "./error.ts";
import type { ExternSpec } from "./externs.ts";
import type { ExternRelocation } from "./spec.ts";

import {
  PSEUDO_BTF_ID as BPF_PSEUDO_BTF_ID,
  PSEUDO_KFUNC_CALL as BPF_PSEUDO_KFUNC_CALL,
  PSEUDO_MAP_VALUE as BPF_PSEUDO_MAP_VALUE,
} from "../insn/opcodes.ts";

const LD_IMM64 = 0x18;
/** libbpf's poison for a call of an unresolved weak kfunc: the verifier refuses it if reached. */
const KFUNC_POISON_BASE = 2002000000;

/**
 * How one ksym or kfunc extern resolved.
 *
 * @example
 * ```ts
 * import { type ResolvedExtern, resolveKsyms } from "./ksyms.ts";
 * import { kernelBtf } from "./vmlinux.ts";
 * import { ObjectSpec } from "@tsbpf/core/elf";
 * const spec = ObjectSpec.parse(Deno.readFileSync("task_kfuncs.bpf.o"));
 * const r: ResolvedExtern | undefined = resolveKsyms(spec.externs, spec.types, kernelBtf, () => undefined)
 *   .get("bpf_task_acquire");
 * r?.btfId;
 * ```
 */
export interface ResolvedExtern {
  readonly spec: ExternSpec;
  /** Kernel BTF id (typed ksym VAR, kfunc FUNC); 0 when not resolved by BTF. */
  readonly btfId: number;
  /** Address from kallsyms (untyped ksym); 0n when absent. */
  readonly addr: bigint;
  /** Found in the kernel. */
  readonly found: boolean;
  /** fd of the kernel module BTF object it was found in; 0 for vmlinux (or not found). */
  readonly btfObjFd: number;
  /** The kernel module it was found in; undefined for vmlinux. */
  readonly module?: string;
}

/**
 * Looks a function or variable up in the loaded kernel modules' BTF: its type id (in the
 * module's split numbering), the fd of the module's BTF object and the module's name.
 *
 * @example
 * ```ts
 * import type { ModuleLookup } from "./ksyms.ts";
 * const none: ModuleLookup = (_kind, _name) => undefined;
 * ```
 */
export type ModuleLookup = (
  kind: "func" | "var" | "typedef",
  name: string,
) =>
  | { readonly btfId: number; readonly fd: number; readonly module: string; readonly btf?: Btf }
  | undefined;

const isEnum = (t: BtfType): boolean => t.kind === "enum" || t.kind === "enum64";

/**
 * Whether local type `lid` is compatible with target type `tid` as libbpf checks a kfunc's
 * prototype against the kernel's (`bpf_core_types_are_compat`): the same kinds after modifiers
 * and typedefs (enum and enum64 interchangeable), any structs, unions or enums, integers that
 * are not bitfield-like, pointers and arrays to compatible types, prototypes with as many
 * parameters, each compatible, and a compatible return type.
 */
function typesCompat(local: Btf, lid: number, target: Btf, tid: number, level = 32): boolean {
  for (let depth = 0; depth < 32; depth++) {
    const l = local.resolve(lid);
    const t = target.resolve(tid);
    if (l.kind !== t.kind && !(isEnum(l) && isEnum(t))) return false;
    switch (l.kind) {
      case "void":
      case "struct":
      case "union":
      case "enum":
      case "enum64":
      case "fwd":
        return true;
      case "int":
        return l.bitOffset === 0 && (t as typeof l).bitOffset === 0;
      case "ptr":
      case "array":
        lid = l.type;
        tid = (t as typeof l).type;
        continue;
      case "func_proto": {
        const tp = t as typeof l;
        if (l.params.length !== tp.params.length || l.variadic !== tp.variadic) return false;
        for (let i = 0; i < l.params.length; i++) {
          if (level <= 0) return false;
          if (!typesCompat(local, l.params[i].type, target, tp.params[i].type, level - 1)) {
            return false;
          }
        }
        lid = l.returnType;
        tid = tp.returnType;
        continue;
      }
      default:
        return false;
    }
  }
  return false;
}

/**
 * Resolves the ksym and kfunc externs against the kernel's BTF (and kallsyms for untyped
 * ksyms), then the loaded modules' BTF through `modules` for kfuncs and typed ksyms that
 * vmlinux lacks. A weak extern that the kernel lacks resolves as not found.
 *
 * @throws {ObjectError} naming the extern when a non-weak one is absent.
 * @example
 * ```ts
 * import { resolveKsyms } from "./ksyms.ts";
 * import { kernelBtf } from "./vmlinux.ts";
 * import { ObjectSpec } from "@tsbpf/core/elf";
 * const spec = ObjectSpec.parse(Deno.readFileSync("task_kfuncs.bpf.o"));
 * const resolved = resolveKsyms(spec.externs, spec.types, kernelBtf, (_name) => undefined);
 * ```
 */
export function resolveKsyms(
  externs: readonly ExternSpec[],
  objBtf: Btf | undefined,
  kernel: () => Btf,
  kallsyms: (name: string) => bigint | undefined,
  modules: ModuleLookup = () => undefined,
): Map<string, ResolvedExtern> {
  const out = new Map<string, ResolvedExtern>();
  const notFound = (e: ExternSpec): ResolvedExtern => ({
    spec: e,
    btfId: 0,
    addr: 0n,
    found: false,
    btfObjFd: 0,
  });
  // As libbpf: a kfunc whose prototype in the object does not fit the kernel's is not resolved
  // (a weak one reads as absent; a strong one is an error).
  const protoFits = (e: ExternSpec, target: Btf | undefined, targetId: number): boolean => {
    if (e.kind !== "kfunc" || objBtf === undefined || target === undefined || e.typeId === 0) {
      return true;
    }
    const local = objBtf.typeById(e.typeId);
    const kern = target.typeById(targetId);
    if (local.kind !== "func" || kern.kind !== "func") return true;
    if (typesCompat(objBtf, local.type, target, kern.type)) return true;
    if (e.weak) return false;
    throw new ObjectError(
      `kfunc ${e.name}: its prototype in the object does not fit the kernel's (a different ` +
        "number of parameters, or parameters of other kinds)",
    );
  };
  const byBtf = (e: ExternSpec, kind: "func" | "var"): ResolvedExtern => {
    const k = kernel();
    const t = k.find(kind, e.name);
    if (t !== undefined) {
      if (!protoFits(e, k, t.id)) return notFound(e);
      return { spec: e, btfId: t.id, addr: 0n, found: true, btfObjFd: 0 };
    }
    const m = modules(kind, e.name);
    if (m !== undefined) {
      if (!protoFits(e, m.btf, m.btfId)) return notFound(e);
      return { spec: e, btfId: m.btfId, addr: 0n, found: true, btfObjFd: m.fd, module: m.module };
    }
    return notFound(e);
  };
  for (const e of externs) {
    if (e.kind === "kconfig") continue;
    if (e.kind === "kfunc") {
      const r = byBtf(e, "func");
      if (!r.found && !e.weak) {
        throw new ObjectError(
          `kfunc ${e.name}: neither the kernel's BTF nor a loaded module's has such a function ` +
            "(is the kernel too old, or is its module not loaded?)",
        );
      }
      out.set(e.name, r);
      continue;
    }
    const typed = objBtf !== undefined && e.typeId !== 0 &&
      objBtf.resolve(e.typeId).kind !== "void";
    if (typed) {
      const r = byBtf(e, "var");
      if (!r.found && !e.weak) {
        throw new ObjectError(
          `ksym ${e.name}: neither the kernel's BTF nor a loaded module's has a variable of ` +
            "that name",
        );
      }
      out.set(e.name, r);
    } else {
      const addr = kallsyms(e.name);
      if (addr === undefined && !e.weak) {
        throw new ObjectError(
          `ksym ${e.name}: not in /proc/kallsyms (only functions are listed unless the kernel ` +
            "has CONFIG_KALLSYMS_ALL)",
        );
      }
      out.set(e.name, {
        spec: e,
        btfId: 0,
        addr: addr ?? 0n,
        found: addr !== undefined,
        btfObjFd: 0,
      });
    }
  }
  return out;
}

/**
 * Rewrites the extern references of one program in place, as libbpf does: kconfig loads point at
 * the `.kconfig` map value, typed ksyms become `BPF_PSEUDO_BTF_ID`, untyped ones their address,
 * kfunc calls `BPF_PSEUDO_KFUNC_CALL` with the BTF id; absent weak externs read 0, and calls of
 * absent weak kfuncs are poisoned (refused if reachable). Returns whether a call was poisoned.
 * What lives in a kernel module refers to the module's BTF object: a kfunc call by its index in
 * `fdArray` (added there, after a reserved 0 at index 0, as the program's `fd_array`), an
 * `ld_imm64` by the fd in its second immediate.
 *
 * @throws {ObjectError} naming the program when an instruction does not fit its extern.
 * @example
 * ```ts
 * import { relocateExterns, resolveKsyms } from "./ksyms.ts";
 * import { kernelBtf } from "./vmlinux.ts";
 * import { ObjectSpec } from "@tsbpf/core/elf";
 * const spec = ObjectSpec.parse(Deno.readFileSync("task_kfuncs.bpf.o"));
 * const resolved = resolveKsyms(spec.externs, spec.types, kernelBtf, (_name) => undefined);
 * const prog = spec.programs[0];
 * const insns = prog.insns.slice();
 * relocateExterns(insns, prog.externRelocations, spec.externs, resolved, undefined, prog.name);
 * ```
 */
export function relocateExterns(
  insns: Uint8Array,
  relos: readonly ExternRelocation[],
  externs: readonly ExternSpec[],
  resolved: ReadonlyMap<string, ResolvedExtern>,
  kconfigFd: number | undefined,
  program: string,
  fdArray: number[] = [],
): boolean {
  let poisoned = false;
  const v = new DataView(insns.buffer, insns.byteOffset, insns.byteLength);
  for (const r of relos) {
    const at = r.insn * 8;
    const e = externs.find((x) => x.name === r.name);
    if (e === undefined) throw new ObjectError(`program ${program}: unknown extern ${r.name}`);
    if (r.call) {
      const res = resolved.get(r.name)!;
      if (e.kind !== "kfunc") {
        throw new ObjectError(`program ${program}: calls ${r.name}, which is not a kfunc`);
      }
      if (res.found) {
        let slot = 0;
        if (res.btfObjFd !== 0) {
          if (fdArray.length === 0) fdArray.push(0); // index 0 means vmlinux: never read
          slot = fdArray.indexOf(res.btfObjFd, 1);
          if (slot < 0) slot = fdArray.push(res.btfObjFd) - 1;
          if (slot > 0x7fff) {
            throw new ObjectError(`program ${program}: kfuncs from too many modules`);
          }
        }
        insns[at + 1] = (insns[at + 1] & 0x0f) | (BPF_PSEUDO_KFUNC_CALL << 4);
        v.setInt16(at + 2, slot, true);
        v.setInt32(at + 4, res.btfId, true);
      } else {
        insns[at + 1] = 0;
        v.setInt16(at + 2, 0, true);
        v.setInt32(at + 4, KFUNC_POISON_BASE + externs.indexOf(e), true);
        poisoned = true;
      }
      continue;
    }
    if (insns[at] !== LD_IMM64) {
      throw new ObjectError(
        `program ${program}: extern ${r.name} at instruction ${r.insn} is not ld_imm64`,
      );
    }
    if (e.kind === "kconfig") {
      if (kconfigFd === undefined) throw new ObjectError(`program ${program}: no .kconfig map`);
      insns[at + 1] = (insns[at + 1] & 0x0f) | (BPF_PSEUDO_MAP_VALUE << 4);
      v.setInt32(at + 4, kconfigFd, true);
      v.setInt32(at + 12, e.offset + r.offset, true);
      continue;
    }
    const res = resolved.get(r.name)!;
    if ((e.kind === "ksym" && res.btfId !== 0 && res.found) || (e.kind === "kfunc" && res.found)) {
      // A typed ksym, or bpf_ksym_exists(kfunc): the kernel resolves the BTF id, in the module
      // BTF object whose fd is in the second immediate (0: vmlinux).
      insns[at + 1] = (insns[at + 1] & 0x0f) | (BPF_PSEUDO_BTF_ID << 4);
      v.setInt32(at + 4, res.btfId, true);
      v.setInt32(at + 12, res.btfObjFd, true);
    } else {
      insns[at + 1] &= 0x0f;
      v.setInt32(at + 4, Number(res.addr & 0xffffffffn) | 0, true);
      v.setInt32(at + 12, Number((res.addr >> 32n) & 0xffffffffn) | 0, true);
    }
  }
  return poisoned;
}
