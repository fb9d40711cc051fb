/**
 * `__ksym` externs: kernel variables (typed, by BTF id; untyped, by address from
 * `/proc/kallsyms`) and kfuncs (by BTF id), and the instruction rewrites libbpf makes for each.
 * Pure: the loader passes the kallsyms lookup.
 *
 * @module
 */
import type { Btf } from "../btf/btf.ts";
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
 * ```ts ignore
 * resolveKsyms(spec.externs, spec.types, kernelBtf, lookup).get("bpf_task_acquire")?.btfId;
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
}

/**
 * Resolves the ksym and kfunc externs against the kernel's BTF (and kallsyms for untyped
 * ksyms). A weak extern that the kernel lacks resolves as not found.
 *
 * @throws {ObjectError} naming the extern when a non-weak one is absent.
 * @example
 * ```ts ignore
 * const resolved = resolveKsyms(spec.externs, spec.types, kernelBtf, (name) => undefined);
 * ```
 */
export function resolveKsyms(
  externs: readonly ExternSpec[],
  objBtf: Btf | undefined,
  kernel: () => Btf,
  kallsyms: (name: string) => bigint | undefined,
): Map<string, ResolvedExtern> {
  const out = new Map<string, ResolvedExtern>();
  for (const e of externs) {
    if (e.kind === "kconfig") continue;
    if (e.kind === "kfunc") {
      const f = kernel().find("func", e.name);
      if (f === undefined && !e.weak) {
        throw new ObjectError(
          `kfunc ${e.name}: the kernel's BTF has no such function (is the kernel too old, or is it ` +
            "in a module?)",
        );
      }
      out.set(e.name, { spec: e, btfId: f?.id ?? 0, addr: 0n, found: f !== undefined });
      continue;
    }
    const typed = objBtf !== undefined && e.typeId !== 0 &&
      objBtf.resolve(e.typeId).kind !== "void";
    if (typed) {
      const v = kernel().find("var", e.name);
      if (v === undefined && !e.weak) {
        throw new ObjectError(`ksym ${e.name}: the kernel's BTF has no variable of that name`);
      }
      out.set(e.name, { spec: e, btfId: v?.id ?? 0, addr: 0n, found: v !== undefined });
    } else {
      const addr = kallsyms(e.name);
      if (addr === undefined && !e.weak) {
        throw new ObjectError(
          `ksym ${e.name}: not in /proc/kallsyms (only functions are listed unless the kernel ` +
            "has CONFIG_KALLSYMS_ALL)",
        );
      }
      out.set(e.name, { spec: e, btfId: 0, addr: addr ?? 0n, found: addr !== undefined });
    }
  }
  return out;
}

/**
 * Rewrites the extern references of one program in place, as libbpf does: kconfig loads point at
 * the `.kconfig` map value, typed ksyms become `BPF_PSEUDO_BTF_ID`, untyped ones their address,
 * kfunc calls `BPF_PSEUDO_KFUNC_CALL` with the BTF id; absent weak externs read 0, and calls of
 * absent weak kfuncs are poisoned (refused if reachable). Returns whether a call was poisoned.
 *
 * @throws {ObjectError} naming the program when an instruction does not fit its extern.
 * @example
 * ```ts ignore
 * relocateExterns(insns, prog.externRelocations, spec.externs, resolved, kconfigMap.fd, prog.name);
 * ```
 */
export function relocateExterns(
  insns: Uint8Array,
  relos: readonly ExternRelocation[],
  externs: readonly ExternSpec[],
  resolved: ReadonlyMap<string, ResolvedExtern>,
  kconfigFd: number | undefined,
  program: string,
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
        insns[at + 1] = (insns[at + 1] & 0x0f) | (BPF_PSEUDO_KFUNC_CALL << 4);
        v.setInt16(at + 2, 0, true);
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
    if (e.kind === "ksym" && res.btfId !== 0 && res.found) {
      insns[at + 1] = (insns[at + 1] & 0x0f) | (BPF_PSEUDO_BTF_ID << 4);
      v.setInt32(at + 4, res.btfId, true);
      v.setInt32(at + 12, 0, true);
    } else if (e.kind === "kfunc" && res.found) {
      // bpf_ksym_exists(kfunc): the kernel resolves the function's BTF id.
      insns[at + 1] = (insns[at + 1] & 0x0f) | (BPF_PSEUDO_BTF_ID << 4);
      v.setInt32(at + 4, res.btfId, true);
      v.setInt32(at + 12, 0, true);
    } else {
      insns[at + 1] &= 0x0f;
      v.setInt32(at + 4, Number(res.addr & 0xffffffffn) | 0, true);
      v.setInt32(at + 12, Number((res.addr >> 32n) & 0xffffffffn) | 0, true);
    }
  }
  return poisoned;
}
