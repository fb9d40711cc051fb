/**
 * The pre-load checker: what the kernel's `BPF_PROG_LOAD` would refuse, found in userspace before
 * the system call, each with the instruction index and the verifier's own words.
 *
 * It follows the verifier's passes (kernel/bpf/verifier.c, Linux 6.18): `add_subprog_and_kfunc()`,
 * `check_subprogs()`, `resolve_pseudo_ldimm64()`, `check_cfg()`, then the per-instruction checks of
 * `do_check()` that need no register state (reserved fields, registers, constant divisors and
 * shifts, helper availability and licensing). Unlike the kernel, which stops at the first error, it
 * reports every finding. Given a profile, it words each finding as that kernel does: an ISA level
 * the kernel lacks in its words, `may_goto` as 6.9-6.12 check it, `gotox` where the kernel knows it,
 * and a 7.x verifier's early pass that checks every instruction's registers, opcode and fields
 * before the control flow (`early_insn_checks`).
 *
 * One file per pass: `load_attrs.ts` (load attributes), `subprogs.ts` (subprograms and jumps),
 * `encodings.ts` (`ld_imm64` pairs, opcodes, ISA level through `isa_level.ts`), `cfg.ts` (control
 * flow), `fields.ts` (per-instruction fields), `helpers.ts` (helper calls); `columns.ts` holds the
 * program as field columns. This file runs them in the kernel's order, then the deep checker
 * (`lib/verifier/`) when asked.
 *
 * @module
 */
import { requireInsns, requireObject } from "../args.ts";
import { ProgLoadFlag } from "../../types/flags.ts";
import { getProgType } from "../progtype/registry.ts";
import type { LoadContext, ProgTypeDef } from "../progtype/types.ts";
import { isGplCompatible } from "./license.ts";
import { reachableFrom, runDeepCheck } from "../verifier/hook.ts";
import type { DeepFinding } from "../verifier/interp.ts";
import type { CheckOptions, Finding, SourceLine } from "./types.ts";
import { type Report, toColumns } from "./columns.ts";
import { checkSubprogs, findSubprogs } from "./subprogs.ts";
import { checkEncodings } from "./encodings.ts";
import { walkCfg } from "./cfg.ts";
import { checkInsns, verifierTraits } from "./fields.ts";
import { type ProfileQuery, profileQuery } from "./helpers.ts";
import { checkLoadAttrs } from "./load_attrs.ts";

/**
 * `BPF_COMPLEXITY_LIMIT_INSNS`: the most instructions a privileged load may have.
 *
 * @example
 * ```ts
 * import { MAX_INSNS_PRIVILEGED } from "@tsbpf/core/check";
 * MAX_INSNS_PRIVILEGED; // 1000000
 * ```
 */
export const MAX_INSNS_PRIVILEGED = 1_000_000;
/**
 * `BPF_MAXINSNS`: the most instructions an unprivileged load may have.
 *
 * @example
 * ```ts
 * import { MAX_INSNS_UNPRIVILEGED } from "@tsbpf/core/check";
 * MAX_INSNS_UNPRIVILEGED; // 4096
 * ```
 */
export const MAX_INSNS_UNPRIVILEGED = 4096;

/**
 * Checks a program before load: everything the verifier's structural passes and its
 * state-independent per-instruction checks would refuse, with the kernel's messages.
 *
 * Findings are sorted by instruction index. An empty array means the checker found nothing — the
 * verifier may still refuse the program for reasons that depend on register state (an
 * uninitialised register, an out-of-bounds access, wrong helper arguments).
 *
 * @example
 * ```ts
 * import { checkProgram } from "@tsbpf/core/check";
 * const findings = checkProgram({
 *   type: "socket_filter",
 *   license: "MIT",
 *   insns: [
 *     { code: 0x85, dst: 0, src: 0, off: 0, imm: 6 }, // call bpf_trace_printk
 *     { code: 0xb7, dst: 0, src: 0, off: 0, imm: 0 }, // r0 = 0
 *     { code: 0x95, dst: 0, src: 0, off: 0, imm: 0 }, // exit
 *   ],
 * });
 * findings[0].message; // "cannot call GPL-restricted function from non-GPL compatible program"
 * ```
 */
export function checkProgram(options: CheckOptions): Finding[] {
  requireObject("checkProgram", "options", options);
  requireInsns("checkProgram", "options.insns", options.insns);
  const findings: Finding[] = [];
  const err: Report = (index, code, message) => {
    findings.push({ index, code, message, severity: "error" });
  };

  const def: ProgTypeDef | undefined = getProgType(options.type);
  const privileged = options.privileged ?? true;
  const caps = options.capabilities;
  // CAP_BPF (or CAP_SYS_ADMIN) decides the instruction limit, loops and BPF-to-BPF calls.
  const bpfCapable = (caps?.sysAdmin ?? privileged) || (caps?.bpf ?? privileged);
  const flags = options.flags ?? 0;
  const sleepable = (flags & ProgLoadFlag.SLEEPABLE) !== 0;
  const c = toColumns(options.insns);
  const n = c.n;

  if (def === undefined) {
    err(
      -1,
      "unknown-prog-type",
      `unknown program type ${JSON.stringify(options.type)} (the kernel refuses it with EINVAL)`,
    );
  } else {
    checkLoadAttrs(def, options, sleepable, err);
  }
  if (n === 0) {
    err(-1, "no-insns", "the program has no instructions (the kernel refuses it with EINVAL)");
    return findings;
  }
  const limit = bpfCapable ? MAX_INSNS_PRIVILEGED : MAX_INSNS_UNPRIVILEGED;
  if (n > limit) {
    err(
      -1,
      "too-large",
      `BPF program is too large: ${n} insns, the limit is ${limit} (the kernel refuses it with E2BIG)`,
    );
    return findings;
  }

  // add_subprog_and_kfunc(), check_subprogs(), resolve_pseudo_ldimm64()
  const subStart = findSubprogs(c, bpfCapable, err);
  checkSubprogs(c, subStart, err);
  const verifier = verifierTraits(options.profile);
  const bad = checkEncodings(c, err, options.profile, verifier, (f) => findings.push(f));

  // ---- check_cfg(): depth-first walk from instruction 0 (and each pseudo-func target).
  walkCfg(c, bpfCapable, err);

  // ---- do_check(): per-instruction checks that need no register state.
  const ctx: LoadContext = {
    license: options.license,
    gplCompatible: isGplCompatible(options.license),
    privileged,
    ...(caps !== undefined ? { capabilities: caps } : {}),
    ...(options.expectedAttachType !== undefined
      ? { expectedAttachType: options.expectedAttachType }
      : {}),
    ...(sleepable ? { sleepable } : {}),
    ...(options.attachTo !== undefined ? { attachTo: options.attachTo } : {}),
    ...(options.kernelConfig !== undefined ? { config: options.kernelConfig } : {}),
  };
  const firstDoCheck = findings.length;
  const asked: ProfileQuery | undefined = def === undefined || options.profile === undefined
    ? undefined
    : profileQuery(def, options, privileged, sleepable);
  const warn: Report = (index, code, message) => {
    findings.push({ index, code, message, severity: "warning" });
  };
  checkInsns(c, bad, def, ctx, asked, verifier, err, warn);

  if (
    options.depth === "deep" && def !== undefined &&
    !findings.slice(0, firstDoCheck).some((f) => f.severity === "error")
  ) {
    // The kernel reports do_check() findings only where its walk reaches them: code it proves
    // dead is not checked. The interpreter reports those it reaches; one it never reached stands
    // only if an abandoned path could reach it.
    const later = findings.splice(firstDoCheck);
    const stops = new Map<number, Finding & DeepFinding>();
    for (const f of later) {
      if (f.severity === "error" && !stops.has(f.index)) {
        stops.set(f.index, {
          ...f,
          explanation: f.explanation ??
            "The verifier refuses this instruction where it reaches it.",
          registers: f.registers ?? {},
        });
      }
    }
    const r = runDeepCheck(def, options.insns, ctx, options.maps, stops);
    const live = r.abandoned.length > 0 ? reachableFrom(options.insns, r.abandoned) : undefined;
    const deepErr = r.findings.find((f) => f.severity === "error");
    for (const f of later) {
      if (f.severity !== "error") findings.push(f);
      else if (deepErr === undefined && live !== undefined && live[f.index]) findings.push(f);
    }
    findings.push(...r.findings);
  }

  if (options.lines !== undefined && options.lines.length > 0) {
    attachSource(findings, options.lines);
  }
  // Stable order: by index (program-wide findings first), then in pass order.
  return findings.map((f, i) => [f, i] as const).sort((a, b) =>
    a[0].index - b[0].index || a[1] - b[1]
  ).map((
    [f],
  ) => f);
}

/** Gives each instruction finding the source line that covers its instruction. */
function attachSource(findings: Finding[], lines: readonly SourceLine[]): void {
  const sorted = [...lines].sort((a, b) => a.insn - b.insn);
  for (const f of findings) {
    if (f.index < 0) continue;
    let lo = 0, hi = sorted.length - 1, at = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (sorted[mid].insn <= f.index) {
        at = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    if (at >= 0) f.source = sorted[at];
  }
}
