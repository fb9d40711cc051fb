/**
 * From a {@link ProgVariant} to what a probe load needs: the `expected_attach_type`, the
 * `attach_btf_id` of its target in the kernel's BTF, and the flags. Pure: the BTF is given.
 *
 * @module
 */
import { AttachType as A } from "../../types/attach_type.ts";
import { ProgType as T } from "../../types/prog_type.ts";
import { ProgLoadFlag } from "../../types/flags.ts";
import type { Btf } from "../btf/btf.ts";
import type { ProgVariant } from "./types.ts";

/**
 * Load attributes of a probe of one variant.
 *
 * @example
 * ```ts
 * import type { ProbeTarget } from "./variant.ts";
 * const t: ProbeTarget = { type: 6, expectedAttachType: 0, attachBtfId: 0, flags: 0 };
 * ```
 */
export interface ProbeTarget {
  /** `prog_type`. */
  type: number;
  /** `expected_attach_type` (0: none). */
  expectedAttachType: number;
  /** `attach_btf_id` (0: none). */
  attachBtfId: number;
  /** `prog_flags`. */
  flags: number;
}

/** Whether loading `variant` needs the kernel's BTF (an `attach_btf_id`). */
export function needsBtf(variant: ProgVariant): boolean {
  return variant.type === T.TRACING || variant.type === T.LSM || variant.type === T.STRUCT_OPS ||
    variant.type === T.EXT;
}

/**
 * The probe's load attributes for `variant`, or why it cannot be probed (a string). `btf` is
 * called only for variants with a BTF attach target.
 *
 * @example
 * ```ts
 * import { probeTargetOf } from "./variant.ts";
 * probeTargetOf({ type: 6 }, () => undefined); // { type: 6, expectedAttachType: 0, attachBtfId: 0, flags: 0 }
 * ```
 */
export function probeTargetOf(
  variant: ProgVariant,
  btf: () => Btf | undefined,
): ProbeTarget | string {
  const eat = variant.expectedAttachType ?? 0;
  const flags = variant.sleepable ? ProgLoadFlag.SLEEPABLE : 0;
  const base = { type: variant.type, expectedAttachType: eat, attachBtfId: 0, flags };
  if (!needsBtf(variant)) return base;
  if (variant.type === T.EXT) {
    return "the helpers of an ext (freplace) program are those of the program it replaces";
  }
  const b = btf();
  if (b === undefined) {
    return "the kernel has no BTF (/sys/kernel/btf/vmlinux), so no attach target";
  }
  const at = variant.attachTo;
  const byName = (kind: "func" | "typedef", name: string): ProbeTarget | string => {
    const t = b.find(kind, name);
    return t === undefined
      ? `the kernel's BTF has no ${kind} ${name}`
      : { ...base, attachBtfId: t.id };
  };
  if (variant.type === T.STRUCT_OPS) {
    if (at === undefined || !at.includes(".")) {
      return 'a struct_ops program\'s helpers depend on its member (attachTo "ops.member")';
    }
    const [struct, member] = at.split(".", 2);
    const t = b.find("struct", struct);
    if (t === undefined || t.kind !== "struct") return `the kernel's BTF has no struct ${struct}`;
    const idx = t.members.findIndex((m) => m.name === member);
    if (idx < 0) return `struct ${struct} has no member ${member} in this kernel`;
    return { ...base, attachBtfId: t.id, expectedAttachType: idx };
  }
  if (variant.type === T.LSM) {
    if (at === undefined) return "an LSM program's helpers depend on its hook (attachTo)";
    return byName("func", `bpf_lsm_${at}`);
  }
  // Tracing.
  switch (eat) {
    case A.TRACE_RAW_TP:
      return byName("typedef", `btf_trace_${at ?? "sched_switch"}`);
    case A.TRACE_FENTRY:
    case A.TRACE_FEXIT:
      return byName("func", at ?? "bpf_fentry_test1");
    case A.MODIFY_RETURN:
      return byName("func", at ?? "bpf_modify_return_test");
    case A.TRACE_ITER:
      if (at === undefined) return "an iterator's helpers depend on its target (attachTo)";
      return byName("func", `bpf_iter_${at}`);
    default:
      return `tracing programs with expected_attach_type ${eat} are not probed`;
  }
}
