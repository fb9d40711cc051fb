/**
 * `attach_btf_id` of programs whose sections name a kernel function or type (`tp_btf/`, `iter/`,
 * `fentry/`, `fexit/`, `fmod_ret/`, `lsm/`, `struct_ops`): which kernel BTF type the section's
 * target names, as libbpf looks it up. Pure.
 *
 * @module
 */
import type { Btf } from "../btf/btf.ts";
import { ObjectError } from "./error.ts";

/**
 * The kernel BTF type a program attaches to.
 *
 * @example
 * ```ts
 * import type { AttachBtfTarget } from "@tsbpf/core/elf";
 * const t: AttachBtfTarget = { btfId: 1234, typeName: "btf_trace_sched_switch", kind: "typedef" };
 * ```
 */
export interface AttachBtfTarget {
  /** Type id in the kernel's BTF. */
  readonly btfId: number;
  /** The name looked up (`btf_trace_sched_switch`, `bpf_lsm_file_open`, `do_unlinkat`). */
  readonly typeName: string;
  /** Its BTF kind (`typedef` for tp_btf, `func` otherwise). */
  readonly kind: "typedef" | "func";
  /** The kernel module whose BTF has it (`attach_btf_obj_fd`); undefined for vmlinux. */
  readonly module?: string;
  /** fd of that module's BTF object; 0 for vmlinux. */
  readonly btfObjFd?: number;
}

/** How each section prefix names its target in kernel BTF. */
const LOOKUP: Readonly<Record<string, { prefix: string; kind: "typedef" | "func" }>> = {
  tp_btf: { prefix: "btf_trace_", kind: "typedef" },
  iter: { prefix: "bpf_iter_", kind: "func" },
  "iter.s": { prefix: "bpf_iter_", kind: "func" },
  lsm: { prefix: "bpf_lsm_", kind: "func" },
  "lsm.s": { prefix: "bpf_lsm_", kind: "func" },
  lsm_cgroup: { prefix: "bpf_lsm_", kind: "func" },
  fentry: { prefix: "", kind: "func" },
  "fentry.s": { prefix: "", kind: "func" },
  fexit: { prefix: "", kind: "func" },
  "fexit.s": { prefix: "", kind: "func" },
  fmod_ret: { prefix: "", kind: "func" },
  "fmod_ret.s": { prefix: "", kind: "func" },
};

/**
 * Finds the kernel BTF type that section prefix `sectionPrefix` with target `target` attaches
 * to: `tp_btf/X` the typedef `btf_trace_X`, `iter/X` the function `bpf_iter_X`, `lsm/X`
 * `bpf_lsm_X`, `fentry|fexit|fmod_ret/X` the function `X`. A function or tracepoint vmlinux
 * lacks is looked up in the loaded modules' BTF through `modules`, when given.
 *
 * @throws {ObjectError} naming the program, section and looked-up name when the kernel has no
 * such type, or when the section takes no BTF target.
 * @example
 * ```ts
 * import { attachBtfTarget, kernelBtf } from "@tsbpf/core/elf";
 * attachBtfTarget("tp_btf", "sched_switch", kernelBtf(), "on_switch").typeName; // "btf_trace_sched_switch"
 * ```
 */
export function attachBtfTarget(
  sectionPrefix: string,
  target: string | undefined,
  kernel: Btf,
  program: string,
  modules?: (
    kind: "typedef" | "func",
    name: string,
  ) => { readonly btfId: number; readonly fd: number; readonly module: string } | undefined,
): AttachBtfTarget {
  const how = LOOKUP[sectionPrefix];
  if (how === undefined) {
    throw new ObjectError(
      `program ${program} (section "${sectionPrefix}/…"): no kernel BTF lookup for this section`,
    );
  }
  if (target === undefined || target === "") {
    throw new ObjectError(
      `program ${program} (section "${sectionPrefix}"): the section names no attach target; ` +
        `use SEC("${sectionPrefix}/<name>") or set ProgramSpec.attachTarget`,
    );
  }
  const name = how.prefix + target;
  const t = kernel.find(how.kind, name);
  if (t === undefined) {
    // fentry/fexit/fmod_ret and tp_btf may target a module's function or tracepoint.
    const inModule = how.prefix === "bpf_iter_" || how.prefix === "bpf_lsm_"
      ? undefined
      : modules?.(how.kind, name);
    if (inModule !== undefined) {
      return {
        btfId: inModule.btfId,
        typeName: name,
        kind: how.kind,
        module: inModule.module,
        btfObjFd: inModule.fd,
      };
    }
    throw new ObjectError(
      `program ${program} (section "${sectionPrefix}/${target}"): the kernel's BTF has no ` +
        `${how.kind} ${name} (nor has a loaded module's), so the attach target does not exist ` +
        "in this kernel",
    );
  }
  return { btfId: t.id, typeName: name, kind: how.kind };
}
