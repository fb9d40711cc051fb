/**
 * The pre-load checker: what the kernel's `BPF_PROG_LOAD` would refuse, found in userspace before
 * the system call, each with the instruction index and the verifier's own words.
 *
 * It follows the verifier's passes (kernel/bpf/verifier.c, Linux 6.18): `add_subprog_and_kfunc()`,
 * `check_subprogs()`, `resolve_pseudo_ldimm64()`, `check_cfg()`, then the per-instruction checks of
 * `do_check()` that need no register state (reserved fields, registers, constant divisors and
 * shifts, helper availability and licensing). Unlike the kernel, which stops at the first error, it
 * reports every finding.
 *
 * @module
 */
import type { Insn } from "../insn/insn.ts";
import { requireInsns, requireObject } from "../args.ts";
import { ArgumentError } from "../errors.ts";
import { HELPER_NAMES } from "../../types/helpers.ts";
import { ProgType } from "../../types/prog_type.ts";
import { attachTypeName } from "../../types/attach_type.ts";
import { getProgType } from "../progtype/registry.ts";
import type { FuncProto, LoadContext, ProgTypeDef } from "../progtype/types.ts";
import { isGplCompatible } from "./license.ts";
import { VALID_OPCODES } from "./opcodes.ts";
import { reachableFrom, runDeepCheck } from "../verifier/hook.ts";
import type { DeepFinding } from "../verifier/interp.ts";
import { type IsaFeature, isaFeatureOfFields } from "../insn/isa.ts";
import type { CheckOptions, Finding, SourceLine } from "./types.ts";
import { type CapTier, type KernelProfile, type ProgVariant, tierOf } from "../profile/types.ts";

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
/** `__BPF_FUNC_MAX_ID`: helper ids are below this. */
const FUNC_MAX_ID = HELPER_NAMES.length;
/** `BPF_F_SLEEPABLE`. */
const F_SLEEPABLE = 1 << 4;

const CLS_LD = 0,
  CLS_LDX = 1,
  CLS_ST = 2,
  CLS_STX = 3,
  CLS_ALU = 4,
  CLS_JMP = 5,
  CLS_JMP32 = 6,
  CLS_ALU64 = 7;
const OP_CALL = 0x80, OP_EXIT = 0x90, OP_JA = 0x00, OP_JCOND = 0xe0;
const LD_IMM64 = 0x18;
const PSEUDO_CALL = 1, PSEUDO_KFUNC_CALL = 2, PSEUDO_FUNC = 4;

/** The program as columns of its fields (what the kernel sees after its copy from userspace). */
interface Columns {
  n: number;
  code: Uint8Array;
  dst: Uint8Array;
  src: Uint8Array;
  off: Int16Array;
  imm: Int32Array;
}

/**
 * Reusable zeroed scratch arrays for programs of up to `POOL_LIMIT` instructions: allocating
 * typed arrays is what a check of a small program costs most (about 0.4 µs each in Deno), and
 * `checkProgram` runs on every `Program.load`. The checker is synchronous, so one set suffices.
 */
const POOL_LIMIT = 4096;
const pools: Record<string, Uint8Array | Int16Array | Int32Array> = {};

function pooled<T extends Uint8Array | Int16Array | Int32Array>(
  slot: string,
  make: (n: number) => T,
  n: number,
): T {
  if (n > POOL_LIMIT) return make(n);
  let a = pools[slot] as T | undefined;
  if (a === undefined) {
    a = make(POOL_LIMIT + 1);
    pools[slot] = a;
  } else {
    a.fill(0, 0, n);
  }
  return a;
}

const u8 = (n: number): Uint8Array => new Uint8Array(n);
const i16 = (n: number): Int16Array => new Int16Array(n);
const i32 = (n: number): Int32Array => new Int32Array(n);

function toColumns(insns: readonly Insn[] | Uint8Array): Columns {
  if (insns instanceof Uint8Array) {
    if (insns.length % 8 !== 0) {
      throw new ArgumentError(
        "instruction",
        `instruction bytes must be a multiple of 8, got ${insns.length} (${
          insns.length % 8
        } trailing bytes at offset ${insns.length - (insns.length % 8)})`,
      );
    }
    const n = insns.length >>> 3;
    const code = pooled("code", u8, n), dst = pooled("dst", u8, n), src = pooled("src", u8, n);
    const off = pooled("off", i16, n), imm = pooled("imm", i32, n);
    const b = insns;
    for (let i = 0, o = 0; i < n; i++, o += 8) {
      code[i] = b[o];
      const r = b[o + 1];
      dst[i] = r & 0x0f;
      src[i] = r >>> 4;
      off[i] = b[o + 2] | (b[o + 3] << 8);
      imm[i] = b[o + 4] | (b[o + 5] << 8) | (b[o + 6] << 16) | (b[o + 7] << 24);
    }
    return { n, code, dst, src, off, imm };
  }
  if (!Array.isArray(insns)) {
    throw new ArgumentError("insns", "insns must be an array of instructions or a Uint8Array");
  }
  const n = insns.length;
  const code = pooled("code", u8, n), dst = pooled("dst", u8, n), src = pooled("src", u8, n);
  const off = pooled("off", i16, n), imm = pooled("imm", i32, n);
  for (let i = 0; i < n; i++) {
    const x = insns[i];
    // The same truncation the encoder applies: what the kernel would see.
    code[i] = x.code;
    dst[i] = x.dst & 0x0f;
    src[i] = x.src & 0x0f;
    off[i] = x.off;
    imm[i] = x.imm;
  }
  return { n, code, dst, src, off, imm };
}

/** `may_access_skb()`: the types that may use legacy packet loads. */
function mayAccessSkb(type: number): boolean {
  return type === ProgType.SOCKET_FILTER || type === ProgType.SCHED_CLS ||
    type === ProgType.SCHED_ACT;
}

/** `check_reg_arg(…, SRC_OP)`, the part that needs no state. */
function regCheckRead(r: number): string | undefined {
  return r >= 11 ? `R${r} is invalid` : undefined;
}

/** `check_reg_arg(…, DST_OP)`, the part that needs no state. */
function regCheckWrite(r: number): string | undefined {
  return r >= 11 ? `R${r} is invalid` : r === 10 ? "frame pointer is read only" : undefined;
}

function hex2(n: number): string {
  return (n & 0xff).toString(16).padStart(2, "0");
}

/** Helper verdict cache per run: 0 unknown, 1 ok, 2 unavailable, 3 gpl, 4 sleep. */
const enum HelperState {
  Unknown = 0,
  Ok = 1,
  Unavailable = 2,
  Gpl = 3,
  Sleep = 4,
}

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
  const err = (index: number, code: string, message: string): void => {
    findings.push({ index, code, message, severity: "error" });
  };

  const def: ProgTypeDef | undefined = getProgType(options.type);
  const privileged = options.privileged ?? true;
  const caps = options.capabilities;
  // CAP_BPF (or CAP_SYS_ADMIN) decides the instruction limit, loops and BPF-to-BPF calls.
  const bpfCapable = (caps?.sysAdmin ?? privileged) || (caps?.bpf ?? privileged);
  const flags = options.flags ?? 0;
  const sleepable = (flags & F_SLEEPABLE) !== 0;
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

  const { code, dst, src, off, imm } = c;

  // ---- add_subprog_and_kfunc(): subprogram starts, and calls to nowhere.
  const subStart = pooled("subStart", u8, n + 1);
  subStart[0] = 1;
  subStart[n] = 1;
  let needCap = -1;
  for (let i = 0; i < n; i++) {
    const op = code[i];
    const isPseudoCall = op === 0x85 && src[i] === PSEUDO_CALL;
    const isPseudoFunc = op === LD_IMM64 && src[i] === PSEUDO_FUNC;
    if (!isPseudoCall && !isPseudoFunc && !(op === 0x85 && src[i] === PSEUDO_KFUNC_CALL)) continue;
    if (!bpfCapable && needCap < 0) {
      needCap = i;
      err(
        i,
        "needs-cap-bpf",
        "loading/calling other bpf or kernel functions are allowed for CAP_BPF and CAP_SYS_ADMIN",
      );
    }
    if (isPseudoCall || isPseudoFunc) {
      const t = i + imm[i] + 1;
      if (t < 0 || t >= n) err(i, "call-dest", "call to invalid destination");
      else subStart[t] = 1;
    }
  }

  // ---- check_subprogs(): jumps stay inside their subprogram, which must not fall through.
  let start = 0, end = 0;
  for (let i = 0; i < n; i++) {
    if (subStart[i]) {
      start = i;
      end = i + 1;
      while (!subStart[end]) end++;
    }
    const op = code[i];
    const cls = op & 7;
    if (
      (cls === CLS_JMP || cls === CLS_JMP32) && (op & 0xf0) !== OP_EXIT && (op & 0xf0) !== OP_CALL
    ) {
      const t = op === 0x06 ? i + imm[i] + 1 : i + off[i] + 1;
      if (t < start || t >= end) err(i, "jump-range", `jump out of range from insn ${i} to ${t}`);
    }
    if (subStart[i + 1] && op !== 0x95 && op !== 0x06 && op !== 0x05) {
      err(i, "last-insn", "last insn is not an exit or jmp");
    }
  }

  // ---- resolve_pseudo_ldimm64(): LDX fields, ld_imm64 pairs, opcodes.
  const isaAnswers = new Map<IsaFeature, string | null>();
  const bad = pooled("bad", u8, n); // 1: structurally bad (no do_check finding); 2: second slot of ld_imm64
  for (let i = 0; i < n; i++) {
    const op = code[i];
    if ((op & 7) === CLS_LDX && (((op & 0xe0) !== 0x60 && (op & 0xe0) !== 0x80) || imm[i] !== 0)) {
      err(i, "reserved-fields", "BPF_LDX uses reserved fields");
      bad[i] = 1;
      continue;
    }
    if (op === LD_IMM64) {
      if (
        i === n - 1 || code[i + 1] !== 0 || dst[i + 1] !== 0 || src[i + 1] !== 0 || off[i + 1] !== 0
      ) {
        err(i, "ld-imm64", "invalid bpf_ld_imm64 insn");
        bad[i] = 1;
        // A slot with opcode 0 after it was meant as its second half: no finding of its own.
        if (i + 1 < n && code[i + 1] === 0) bad[++i] = 2;
        continue;
      }
      const s = src[i];
      if (s > 6 || ((s === 1 || s === 5) && imm[i + 1] !== 0)) {
        err(i, "ld-imm64", "unrecognized bpf_ld_imm64 insn");
        bad[i] = 1;
      }
      bad[i + 1] = 2;
      i++;
      continue;
    }
    if (!VALID_OPCODES[op]) {
      err(i, "unknown-opcode", `unknown opcode ${hex2(op)}`);
      bad[i] = 1;
      continue;
    }
    // An instruction newer than the kernel the profile describes: refused in that kernel's words.
    const feature = options.profile === undefined
      ? undefined
      : isaFeatureOfFields(op, off[i], imm[i]);
    if (feature !== undefined) {
      const refusal = isaRefusal(options.profile!, feature, isaAnswers);
      if (refusal !== undefined && op === 0x06 && dst[i] === 0 && src[i] === 0) {
        // gotol: a kernel without cpu v4 takes JMP32 ja as `ja +off` (6.1 loads it), so the
        // jump goes elsewhere than the program means. It loads: a warning, not an error.
        findings.push({
          index: i,
          code: "isa-feature",
          message: `gotol ${imm[i]}: this kernel reads JMP32 ja by its off (${off[i]}), not imm`,
          severity: "warning",
          explanation: refusal,
        });
      } else if (refusal !== undefined) {
        findings.push({
          index: i,
          code: "isa-feature",
          message: olderVerifierMessage(feature, op, imm[i]),
          severity: "error",
          explanation: refusal,
        });
        bad[i] = 1;
      }
    }
  }

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
  const helperState = new Map<number, HelperState>();
  const firstDoCheck = findings.length;
  const asked: ProfileQuery | undefined = def === undefined || options.profile === undefined
    ? undefined
    : profileQuery(def, options, privileged, sleepable);
  for (let i = 0; i < n; i++) {
    if (bad[i]) continue;
    const op = code[i];
    const cls = op & 7;
    let msg: string | undefined;
    let codeName = "reserved-fields";
    const d = dst[i], s = src[i], o = off[i], k = imm[i];
    const isX = (op & 0x08) !== 0;

    switch (cls) {
      case CLS_ALU:
      case CLS_ALU64: {
        const aop = op & 0xf0;
        if (aop === 0x80 || aop === 0xd0) {
          if (aop === 0x80) {
            if (isX || s !== 0 || o !== 0 || k !== 0) msg = "BPF_NEG uses reserved fields";
          } else if (
            s !== 0 || o !== 0 || (k !== 16 && k !== 32 && k !== 64) || (cls === CLS_ALU64 && isX)
          ) {
            msg = "BPF_END uses reserved fields";
          }
          msg ??= regCheckRead(d) ?? regCheckWrite(d);
        } else if (aop === 0xb0) {
          if (isX) {
            if (cls === CLS_ALU) {
              if ((o !== 0 && o !== 8 && o !== 16) || k !== 0) msg = "BPF_MOV uses reserved fields";
            } else if (o === 1) {
              if (k !== 1 && k !== 1 << 16) {
                msg = "addr_space_cast insn can only convert between address space 1 and 0";
              }
            } else if ((o !== 0 && o !== 8 && o !== 16 && o !== 32) || k !== 0) {
              msg = "BPF_MOV uses reserved fields";
            }
            msg ??= regCheckRead(s);
          } else if (s !== 0 || o !== 0) {
            msg = "BPF_MOV uses reserved fields";
          }
          msg ??= regCheckWrite(d);
        } else {
          const divmod = aop === 0x30 || aop === 0x90;
          if (isX) {
            if (k !== 0 || (o !== 0 && o !== 1) || (o === 1 && !divmod)) {
              msg = "BPF_ALU uses reserved fields";
            }
            msg ??= regCheckRead(s);
          } else if (s !== 0 || (o !== 0 && o !== 1) || (o === 1 && !divmod)) {
            msg = "BPF_ALU uses reserved fields";
          }
          msg ??= regCheckRead(d);
          if (msg === undefined && divmod && !isX && k === 0) {
            msg = "div by zero";
            codeName = "div-by-zero";
          }
          if (msg === undefined && !isX && (aop === 0x60 || aop === 0x70 || aop === 0xc0)) {
            const size = cls === CLS_ALU64 ? 64 : 32;
            if (k < 0 || k >= size) {
              msg = `invalid shift ${k}`;
              codeName = "invalid-shift";
            }
          }
          msg ??= regCheckWrite(d);
        }
        break;
      }
      case CLS_LDX:
        msg = regCheckRead(s) ?? regCheckWrite(d);
        break;
      case CLS_STX:
        if ((op & 0xe0) === 0xc0) {
          const size = op & 0x18;
          const rmw = k === 0x00 || k === 0x01 || k === 0x50 || k === 0x51 || k === 0x40 ||
            k === 0x41 ||
            k === 0xa0 || k === 0xa1 || k === 0xe1 || k === 0xf1;
          if (rmw) {
            if (size !== 0x00 && size !== 0x18) msg = "invalid atomic operand size";
            msg ??= regCheckRead(s) ?? regCheckRead(d);
            if (msg === undefined && (k & 1)) msg = regCheckWrite(k === 0xf1 ? 0 : s);
          } else if (k === 0x100) {
            msg = regCheckRead(s) ?? regCheckWrite(d); // load-acquire: dst = *(src + off)
          } else if (k === 0x110) {
            msg = regCheckRead(s) ?? regCheckRead(d); // store-release: *(dst + off) = src
          } else {
            msg = `BPF_ATOMIC uses invalid atomic opcode ${
              (k >>> 0).toString(16).padStart(2, "0")
            }`;
            codeName = "atomic-op";
          }
        } else {
          if (k !== 0) msg = "BPF_STX uses reserved fields";
          msg ??= regCheckRead(s) ?? regCheckRead(d);
        }
        break;
      case CLS_ST:
        if (s !== 0) msg = "BPF_ST uses reserved fields";
        msg ??= regCheckRead(d);
        break;
      case CLS_JMP:
      case CLS_JMP32: {
        const jop = op & 0xf0;
        if (jop === OP_CALL) {
          if (
            isX || (s !== PSEUDO_KFUNC_CALL && o !== 0) ||
            (s !== 0 && s !== PSEUDO_CALL && s !== PSEUDO_KFUNC_CALL) ||
            d !== 0 || cls === CLS_JMP32
          ) {
            msg = "BPF_CALL uses reserved fields";
          } else if (s === 0 && k === CORE_POISON) {
            // libbpf's mark for a CO-RE relocation that did not resolve: the verifier refuses it
            // only where it is reachable, and guarded code often is not.
            findings.push({
              index: i,
              code: "core-poison",
              message: `call 0x${
                CORE_POISON.toString(16)
              } marks an unresolved CO-RE relocation; the kernel refuses it if it is reachable (invalid func unknown#${CORE_POISON})`,
              severity: "warning",
            });
          } else if (s === 0 && def !== undefined) {
            const r = checkHelper(def, k, ctx, helperState, asked);
            if (r !== undefined) [codeName, msg] = r;
          }
        } else if (jop === OP_JA) {
          if (
            isX || s !== 0 || d !== 0 || (cls === CLS_JMP && k !== 0) ||
            (cls === CLS_JMP32 && o !== 0)
          ) {
            msg = "BPF_JA uses reserved fields";
          }
        } else if (jop === OP_EXIT) {
          if (isX || k !== 0 || s !== 0 || d !== 0 || cls === CLS_JMP32) {
            msg = "BPF_EXIT uses reserved fields";
          }
        } else if (jop === OP_JCOND) {
          if (op !== 0xe5 || s !== 0 || d !== 0 || k !== 0) {
            msg = `invalid may_goto imm ${k}`;
          }
        } else {
          msg = regCheckRead(d);
          if (msg === undefined) {
            if (isX) {
              if (k !== 0) msg = "BPF_JMP/JMP32 uses reserved fields";
              msg ??= regCheckRead(s);
            } else if (s !== 0) {
              msg = "BPF_JMP/JMP32 uses reserved fields";
            }
          }
        }
        break;
      }
      case CLS_LD: {
        const mode = op & 0xe0;
        if (op === LD_IMM64) {
          if (o !== 0) msg = "BPF_LD_IMM64 uses reserved fields";
          msg ??= regCheckWrite(d);
        } else if (mode === 0x20 || mode === 0x40) {
          if (def !== undefined && !mayAccessSkb(def.type) && def.type !== ProgType.EXT) {
            msg = "BPF_LD_[ABS|IND] instructions not allowed for this program type";
            codeName = "ld-abs";
          } else if (d !== 0 || o !== 0 || (op & 0x18) === 0x18 || (mode === 0x20 && s !== 0)) {
            msg = "BPF_LD_[ABS|IND] uses reserved fields";
          } else if (mode === 0x40) {
            msg = regCheckRead(s);
          }
        }
        break;
      }
    }
    if (msg !== undefined) {
      if (codeName === "reserved-fields") {
        if (msg.endsWith(" is invalid")) codeName = "invalid-reg";
        else if (msg === "frame pointer is read only") codeName = "fp-write";
        else if (msg.startsWith("invalid may_goto")) codeName = "may-goto";
        else if (msg === "invalid atomic operand size") codeName = "atomic-size";
        else if (msg.startsWith("addr_space_cast")) codeName = "addr-space-cast";
      }
      err(i, codeName, msg);
    }
  }

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

/** The helper id libbpf (and tsbpf's ELF loader) writes over a CO-RE relocation it could not resolve. */
const CORE_POISON = 0xbad2310;

/** The helper-call part of `check_helper_call()`: availability, license, sleepability. */
/** What an ISA feature is, for messages. */
const ISA_LABEL: Readonly<Record<IsaFeature, string>> = {
  v2: "cpu v2 jumps (JLT, JLE, JSLT, JSLE)",
  v3: "cpu v3 instructions (JMP32)",
  atomic_fetch: "atomics that fetch, and atomic and/or/xor",
  v4: "cpu v4 instructions (signed division, sign extension, bswap, gotol)",
  load_acquire: "load-acquire and store-release atomics",
  may_goto: "may_goto",
};

/** The message when the profile says the kernel refuses `feature`, else `undefined` (memoized). */
function isaRefusal(
  profile: KernelProfile,
  feature: IsaFeature,
  memo: Map<IsaFeature, string | null>,
): string | undefined {
  let m = memo.get(feature);
  if (m === undefined) {
    const a = profile.insn(feature);
    m = a.state === "no" ? `${profile.name} has no ${ISA_LABEL[feature]}: ${a.reason}` : null;
    memo.set(feature, m);
  }
  return m ?? undefined;
}

/**
 * What a verifier without `feature` says about an instruction that needs it: it predates the
 * opcode (`unknown opcode`) or the field (`uses reserved fields`, `invalid atomic opcode`).
 */
function olderVerifierMessage(feature: IsaFeature, op: number, k: number): string {
  const cls = op & 7;
  const unknownOpcode = `unknown opcode ${hex2(op)}`;
  switch (feature) {
    case "v4":
      if (cls === CLS_LDX) return "BPF_LDX uses reserved fields";
      if (cls === CLS_ALU || cls === CLS_ALU64) {
        const aop = op & 0xf0;
        if (aop === 0xb0) return "BPF_MOV uses reserved fields";
        if (aop === 0x30 || aop === 0x90) return "BPF_ALU uses reserved fields";
      }
      if (op === 0x06) return "BPF_JA uses reserved fields"; // gotol with registers set
      return unknownOpcode; // ALU64 bswap
    case "atomic_fetch":
      return "BPF_XADD uses reserved fields";
    case "load_acquire":
      // Byte and half-word atomics did not exist before them.
      if ((op & 0x18) === 0x10 || (op & 0x18) === 0x08) return unknownOpcode;
      return `BPF_ATOMIC uses invalid atomic opcode ${(k >>> 0).toString(16).padStart(2, "0")}`;
    default:
      return unknownOpcode; // may_goto, JMP32 before 5.1, JLT and friends before 4.14
  }
}

/** What the checker asks a profile: the load's variant and the loader's capability tier. */
interface ProfileQuery {
  profile: KernelProfile;
  variant: ProgVariant;
  tier: CapTier;
}

function profileQuery(
  def: ProgTypeDef,
  options: CheckOptions,
  privileged: boolean,
  sleepable: boolean,
): ProfileQuery | undefined {
  const caps = options.capabilities;
  const sysAdmin = caps?.sysAdmin ?? privileged;
  const tier = tierOf({
    sysAdmin,
    bpf: sysAdmin || (caps?.bpf ?? privileged),
    perfmon: sysAdmin || (caps?.perfmon ?? privileged),
  });
  if (tier === undefined || options.profile === undefined) return undefined;
  const eat = options.expectedAttachType ?? 0;
  return {
    profile: options.profile,
    tier,
    variant: {
      type: def.type,
      ...(eat !== 0 ? { expectedAttachType: eat } : {}),
      ...(options.attachTo !== undefined ? { attachTo: options.attachTo } : {}),
      ...(sleepable ? { sleepable } : {}),
    },
  };
}

/** Every capability: the prototype (its shape) of a helper the profile says is offered. */
const ALL_CAPS = Object.freeze({ bpf: true, perfmon: true, sysAdmin: true });

/**
 * The helper's state from the profile (`undefined`: the profile cannot decide, the tables do).
 * `"invalid"` when the kernel does not know the id at all.
 */
function stateFromProfile(
  def: ProgTypeDef,
  id: number,
  ctx: LoadContext,
  q: ProfileQuery,
): HelperState | "invalid" | undefined {
  const a = q.profile.helper(q.variant, id, q.tier);
  if (a.state === "unknown") return undefined;
  if (a.state === "no") {
    return q.profile.helperKnown(id).state === "no" ? "invalid" : HelperState.Unavailable;
  }
  const p = id < FUNC_MAX_ID
    ? def.ops.getFuncProto(id, { ...ctx, privileged: true, capabilities: ALL_CAPS })
    : undefined;
  if (p === undefined) return HelperState.Ok; // offered, shape unknown to the tables
  return helperStateOf(p, ctx);
}

function helperStateOf(p: FuncProto, ctx: LoadContext): HelperState {
  if (p.gplOnly && !ctx.gplCompatible) return HelperState.Gpl;
  if (p.mightSleep && !ctx.sleepable) return HelperState.Sleep;
  return HelperState.Ok;
}

function checkHelper(
  def: ProgTypeDef,
  id: number,
  ctx: LoadContext,
  cache: Map<number, HelperState>,
  q: ProfileQuery | undefined,
): [string, string] | undefined {
  let state = cache.get(id);
  if (state === undefined) {
    const fromProfile = q === undefined ? undefined : stateFromProfile(def, id, ctx, q);
    if (fromProfile === "invalid") return ["invalid-func", `invalid func unknown#${id}`];
    if (fromProfile !== undefined) {
      state = fromProfile;
    } else {
      if (id < 0 || id >= FUNC_MAX_ID) return ["invalid-func", `invalid func unknown#${id}`];
      const p: FuncProto | undefined = def.ops.getFuncProto(id, ctx);
      state = p === undefined ? HelperState.Unavailable : helperStateOf(p, ctx);
    }
    cache.set(id, state);
  }
  switch (state) {
    case HelperState.Unavailable: {
      // In the profile's kernel's words: before 5.19 "unknown func bpf_x#n".
      const a = q?.profile.helper(q.variant, id, q.tier);
      const word = a?.state === "no" && a.reason.startsWith("unknown func ")
        ? "unknown func"
        : "program of this type cannot use helper";
      return ["helper-unavailable", `${word} bpf_${HELPER_NAMES[id] ?? "unknown"}#${id}`];
    }
    case HelperState.Gpl:
      return ["gpl-only", "cannot call GPL-restricted function from non-GPL compatible program"];
    case HelperState.Sleep:
      return ["might-sleep", "helper call might sleep in a non-sleepable prog"];
    default:
      return undefined;
  }
}

/** Load attributes the kernel checks before the verifier (`bpf_prog_load_check_attach()` and co). */
function checkLoadAttrs(
  def: ProgTypeDef,
  options: CheckOptions,
  sleepable: boolean,
  err: (index: number, code: string, message: string) => void,
): void {
  const eat = options.expectedAttachType ?? 0;
  if (def.attachTypeEnforced) {
    // An empty list means only 0 (syscall, ext); a default means 0 is replaced by it.
    const ok = (eat === 0 &&
      (def.defaultAttachType !== undefined || def.expectedAttachTypes.length === 0)) ||
      def.expectedAttachTypes.some((a) => a.type === eat);
    if (!ok) {
      const label = (t: number): string => `${t} (${attachTypeName(t) ?? "unknown"})`;
      const accepted = def.expectedAttachTypes.length
        ? `it accepts ${def.expectedAttachTypes.map((a) => label(a.type)).join(", ")}`
        : "it accepts only 0";
      err(
        -1,
        "attach-type",
        `expected_attach_type ${
          label(eat)
        } is not valid for ${def.name} programs; ${accepted} (the kernel refuses it with EINVAL)`,
      );
    }
  }
  if (def.type === ProgType.SYSCALL && !sleepable) {
    err(-1, "not-sleepable", "Syscall programs can only be sleepable");
  }
}

/**
 * `check_cfg()`: an iterative depth-first walk. Reports jumps into the second slot of an
 * `ld_imm64`, unreachable code (once per unreachable run) and, for unprivileged loads, loops.
 */
function walkCfg(
  c: Columns,
  privileged: boolean,
  err: (index: number, code: string, message: string) => void,
): void {
  const { n, code, src, off, imm } = c;
  const DISCOVERED = 1, EXPLORED = 2;
  const state = pooled("state", u8, n);
  const edge = pooled("edge", u8, n);
  const stack = pooled("stack", i32, n + 1);
  let sp = 0;
  const succ = (t: number, e: number): number => {
    const op = code[t];
    const cls = op & 7;
    if (op === LD_IMM64) {
      if (e === 0) return t + 2;
      return src[t] === PSEUDO_FUNC && e === 1 ? t + imm[t] + 1 : -2;
    }
    if (cls !== CLS_JMP && cls !== CLS_JMP32) return e === 0 ? t + 1 : -2;
    const jop = op & 0xf0;
    if (jop === OP_EXIT) return -2;
    if (jop === OP_CALL) {
      if (e === 0) return t + 1;
      return e === 1 && src[t] === PSEUDO_CALL ? t + imm[t] + 1 : -2;
    }
    if (jop === OP_JA) {
      if (e !== 0) return -2;
      return cls === CLS_JMP ? t + off[t] + 1 : t + imm[t] + 1;
    }
    if (e === 0) return t + 1;
    return e === 1 ? t + off[t] + 1 : -2;
  };
  stack[sp++] = 0;
  state[0] = DISCOVERED;
  let reportedLoop = false;
  while (sp > 0) {
    const t = stack[sp - 1];
    const e = edge[t];
    if (e >= 2) {
      state[t] = EXPLORED;
      sp--;
      continue;
    }
    edge[t] = e + 1;
    const w = succ(t, e);
    if (w === -2 || w < 0 || w >= n) continue; // no edge, or out of range (reported by check_subprogs)
    if (state[w] === 0) {
      state[w] = DISCOVERED;
      stack[sp++] = w;
    } else if (state[w] === DISCOVERED && !privileged && !reportedLoop) {
      reportedLoop = true;
      err(t, "back-edge", `back-edge from insn ${t} to ${w}`);
    }
  }
  for (let i = 0; i < n; i++) {
    if (state[i] !== EXPLORED) {
      err(i, "unreachable", `unreachable insn ${i}`);
      while (i + 1 < n && state[i + 1] !== EXPLORED) i++;
      continue;
    }
    if (code[i] === LD_IMM64 && i + 1 < n) {
      if (state[i + 1] !== 0) err(i, "ldimm64-middle", `jump into the middle of ldimm64 insn ${i}`);
      i++;
    }
  }
}
