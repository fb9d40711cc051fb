/**
 * Instructions newer than the kernel a profile describes, refused in that kernel's verifier's
 * words (part of the encoding pass in `subprogs.ts`). Internal to `lib/check/`.
 *
 * @module
 */
import type { IsaFeature } from "../insn/isa.ts";
import type { KernelProfile } from "../profile/types.ts";
import { CLS_ALU, CLS_ALU64, CLS_LDX, hex2 } from "./columns.ts";

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
export function isaRefusal(
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
export function olderVerifierMessage(feature: IsaFeature, op: number, k: number): string {
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
