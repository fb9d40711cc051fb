/**
 * What a kernel supports, as data: the {@link KernelProfile} interface and its tri-state
 * {@link Answer}. Pure: no system calls. The live profile (probed from the running kernel) and the
 * static profiles (named kernels, the upstream tables) implement it.
 *
 * @module
 */
import type { IsaFeature } from "../insn/isa.ts";

/**
 * One answer of a profile. Every question has three possible answers:
 *
 * - `yes`: the kernel supports it;
 * - `no`: it does not — `absent` (this kernel has no such thing) or `refused` (it has it, but
 *   refuses it here: a policy, a missing privilege, a configuration option that is off);
 * - `unknown`: the profile cannot decide (it never guesses).
 *
 * @example
 * ```ts
 * import type { Answer } from "@tsbpf/core/profile";
 * const a: Answer = { state: "no", why: "refused", reason: "this kernel refuses arena maps for this process" };
 * ```
 */
export type Answer =
  | { readonly state: "yes" }
  | { readonly state: "no"; readonly why: "absent" | "refused"; readonly reason: string }
  | { readonly state: "unknown"; readonly reason: string };

/** The one `yes` answer (answers are immutable and may be shared). */
const YES: Answer = Object.freeze({ state: "yes" });

/**
 * `yes`.
 *
 * @example
 * ```ts
 * import { yes } from "@tsbpf/core/profile";
 * yes().state; // "yes"
 * ```
 */
export function yes(): Answer {
  return YES;
}

/**
 * `no`, with why and a reason a person can act on.
 *
 * @example
 * ```ts
 * import { no } from "@tsbpf/core/profile";
 * no("absent", "this kernel has no arena maps").state; // "no"
 * ```
 */
export function no(why: "absent" | "refused", reason: string): Answer {
  return Object.freeze({ state: "no", why, reason });
}

/**
 * `unknown`: the profile cannot decide, and says why.
 *
 * @example
 * ```ts
 * import { unknown } from "@tsbpf/core/profile";
 * unknown("the process lacks CAP_SYS_ADMIN, so it cannot ask the kernel").state; // "unknown"
 * ```
 */
export function unknown(reason: string): Answer {
  return Object.freeze({ state: "unknown", reason });
}

/**
 * A reason string for a test skip or a message: `undefined` for `yes`, the reason otherwise.
 *
 * @example
 * ```ts
 * import { no, reasonOf, yes } from "@tsbpf/core/profile";
 * reasonOf(yes()); // undefined
 * reasonOf(no("absent", "no arena maps")); // "no arena maps"
 * ```
 */
export function reasonOf(a: Answer): string | undefined {
  return a.state === "yes" ? undefined : a.reason;
}

/**
 * A capability tier at which the kernel is asked (ordered from least to most privileged):
 *
 * - `unprivileged`: no capability;
 * - `bpf`: `CAP_BPF` and `CAP_NET_ADMIN`;
 * - `perfmon`: `CAP_BPF`, `CAP_PERFMON` and `CAP_NET_ADMIN`;
 * - `admin`: `CAP_SYS_ADMIN` as well (root).
 *
 * The kernel's helper checks are `bpf_token_capable(CAP_BPF)`, then `(CAP_PERFMON)`, then
 * `(CAP_SYS_ADMIN)`: a helper offered at one tier is offered at every higher one.
 *
 * @example
 * ```ts
 * import type { CapTier } from "@tsbpf/core/profile";
 * const t: CapTier = "perfmon";
 * ```
 */
export type CapTier = "unprivileged" | "bpf" | "perfmon" | "admin";

/**
 * Every tier, least privileged first.
 *
 * @example
 * ```ts
 * import { CAP_TIERS } from "@tsbpf/core/profile";
 * CAP_TIERS.indexOf("bpf") < CAP_TIERS.indexOf("perfmon"); // true
 * ```
 */
export const CAP_TIERS: readonly CapTier[] = Object.freeze([
  "unprivileged",
  "bpf",
  "perfmon",
  "admin",
]);

/**
 * The tier of a set of capabilities (as `LoadContext.capabilities` gives them), or `undefined`
 * where no tier matches (`CAP_PERFMON` without `CAP_BPF`).
 *
 * @example
 * ```ts
 * import { tierOf } from "@tsbpf/core/profile";
 * tierOf({ bpf: true, perfmon: false, sysAdmin: false }); // "bpf"
 * tierOf({ sysAdmin: true }); // "admin"
 * ```
 */
export function tierOf(
  caps: { bpf?: boolean; perfmon?: boolean; sysAdmin?: boolean },
): CapTier | undefined {
  if (caps.sysAdmin === true) return "admin";
  const bpf = caps.bpf === true, perfmon = caps.perfmon === true;
  if (bpf && perfmon) return "perfmon";
  if (bpf) return "bpf";
  if (perfmon) return undefined;
  return "unprivileged";
}

/**
 * A program load as far as its helper set depends on it: the type, the `expected_attach_type`,
 * the attach target and whether it is sleepable.
 *
 * @example
 * ```ts
 * import type { ProgVariant } from "@tsbpf/core/profile";
 * const v: ProgVariant = { type: 28, expectedAttachType: 28, attachTo: "task" }; // iter/task
 * ```
 */
export interface ProgVariant {
  /** `enum bpf_prog_type` number. */
  readonly type: number;
  /** `expected_attach_type` (0 or absent: none given). */
  readonly expectedAttachType?: number;
  /**
   * The attach target where the helpers depend on it: an iterator target (`"task"`), an LSM hook
   * (`"file_open"`), a struct_ops member (`"tcp_congestion_ops.release"`), a BTF tracepoint.
   */
  readonly attachTo?: string;
  /** `BPF_F_SLEEPABLE`. */
  readonly sleepable?: boolean;
}

/**
 * An instruction-set feature: the cpu levels of llvm's `-mcpu` (`v2`: `JLT`/`JLE`…, `v3`: `JMP32`,
 * `v4`: signed division, sign extension, byte swap, `gotol`), the atomics that fetch (5.12), the
 * load-acquire and store-release atomics (Linux 6.15) and `may_goto` (6.9). The same as
 * `IsaFeature` of `@tsbpf/core/insn`, whose `isaFeatureOf` says which one an instruction needs.
 *
 * @example
 * ```ts
 * import type { InsnFeature } from "./types.ts";
 * const f: InsnFeature = "v4";
 * ```
 */
export type InsnFeature = IsaFeature;

/**
 * A kernel feature that configuration, policy or the version can take away: `btf`
 * (`/sys/kernel/btf/vmlinux`), `kprobes` (`CONFIG_KPROBES`, the kprobe PMU), `trampolines`
 * (fentry/fexit/fmod_ret/LSM/freplace programs load), `struct_ops_link` (struct_ops maps created
 * with `BPF_F_LINK`, registered through a link: `.struct_ops.link` sections; Linux 6.4),
 * `hash_lookup_and_delete` (`BPF_MAP_LOOKUP_AND_DELETE_ELEM` on hash maps, not only queues and
 * stacks; Linux 5.14), `bpf_lsm` (the BPF LSM is active, in the kernel's `lsm=` list: inodes carry
 * BPF storage, `inode_storage` maps can be written).
 * `early_insn_checks` is verifier behaviour rather than a capability: the verifier checks every
 * instruction's registers and reserved fields in one pass, in program order, before it walks the
 * control flow (Linux 7.x); older verifiers check them as `do_check()` reaches each instruction.
 * It decides which message a program with several faults gets, and the checker follows it.
 * `may_goto_zero`: the verifier accepts `may_goto +0` and words a bad `may_goto` as
 * `invalid may_goto imm N` (after 6.12); 6.9 to 6.12 refuse an offset of 0 and say
 * `invalid may_goto off N imm M`. `gotox`: the verifier knows the indirect jump
 * `BPF_JMP | BPF_JA | BPF_X` (through an instruction-array map; newer than 6.18).
 *
 * @example
 * ```ts
 * import type { KernelFeature } from "./types.ts";
 * const f: KernelFeature = "trampolines";
 * ```
 */
export type KernelFeature =
  | "btf"
  | "kprobes"
  | "trampolines"
  | "struct_ops_link"
  | "hash_lookup_and_delete"
  | "bpf_lsm"
  | "early_insn_checks"
  | "may_goto_zero"
  | "gotox";

/**
 * Every {@link KernelFeature}, in the order the profile dump records them.
 *
 * @example
 * ```ts
 * import { KERNEL_FEATURES } from "@tsbpf/core/profile";
 * KERNEL_FEATURES.includes("trampolines"); // true
 * ```
 */
export const KERNEL_FEATURES: readonly KernelFeature[] = Object.freeze([
  "btf",
  "kprobes",
  "trampolines",
  "struct_ops_link",
  "hash_lookup_and_delete",
  "bpf_lsm",
  "early_insn_checks",
  "may_goto_zero",
  "gotox",
]);

/**
 * What a kernel supports, as data. Every question answers `yes`, `no` (absent or refused, with a
 * reason) or `unknown` (cannot decide, with a reason); a profile never guesses.
 *
 * Implementations: `liveProfile()` asks the running kernel (lazily, one answer at a time, cached
 * per boot); `UPSTREAM_PROFILE` answers from tsbpf's tables of upstream Linux 6.18.
 *
 * @example
 * ```ts
 * import { UPSTREAM_PROFILE } from "@tsbpf/core/profile";
 * import { checkProgram } from "@tsbpf/core/check";
 * // Would bpf_per_cpu_ptr (#153) load in a socket filter with only CAP_BPF on upstream 6.18?
 * UPSTREAM_PROFILE.helper({ type: 1 }, 153, "bpf").state; // "yes"
 * const findings = checkProgram({
 *   type: "socket_filter", license: "GPL", profile: UPSTREAM_PROFILE,
 *   insns: [{ code: 0xb7, dst: 0, src: 0, off: 0, imm: 0 }, { code: 0x95, dst: 0, src: 0, off: 0, imm: 0 }],
 * });
 * findings.length; // 0
 * ```
 */
export interface KernelProfile {
  /** What the profile describes, e.g. `"live: Linux 6.18.44"` or `"upstream 6.18"`. */
  readonly name: string;
  /** Whether the kernel has program type `type` (`enum bpf_prog_type`) and lets this loader use it. */
  progType(type: number): Answer;
  /** Whether the kernel creates maps of type `type` (`enum bpf_map_type`) for this process. */
  mapType(type: number): Answer;
  /** Whether helper `id` exists at all in this kernel (`invalid func` otherwise). */
  helperKnown(id: number): Answer;
  /**
   * Whether a program of `variant`, loaded at capability `tier`, may call helper `id` (the
   * kernel's `get_func_proto()` returns a prototype for it).
   */
  helper(variant: ProgVariant, id: number, tier: CapTier): Answer;
  /** Whether the verifier accepts instructions of `feature`. */
  insn(feature: InsnFeature): Answer;
  /** Whether `feature` is there and allowed for this process. */
  feature(feature: KernelFeature): Answer;
  /** Whether the kernel knows attach type `type` (`enum bpf_attach_type`). */
  attachType(type: number): Answer;
  /** Whether the kernel knows link type `type` (`enum bpf_link_type`). */
  linkType(type: number): Answer;
  /**
   * Whether the kernel's BTF has a function `name`, as a kfunc call needs (whether the kernel
   * registered it as a kfunc for a given program type shows only at load).
   */
  kfunc(name: string): Answer;
}
