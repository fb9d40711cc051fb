/**
 * The checker's encoding pass, after the kernel's `resolve_pseudo_ldimm64()`: reserved LDX
 * fields, `ld_imm64` pairs, known opcodes and, with a profile, instructions newer than its kernel.
 * Internal to `lib/check/`.
 *
 * @module
 */
import { CLS_LDX, type Columns, hex2, LD_IMM64, pooled, type Report, u8 } from "./columns.ts";
import { VALID_OPCODES } from "./opcodes.ts";
import { type IsaFeature, isaFeatureOfFields } from "../insn/isa.ts";
import type { KernelProfile } from "../profile/types.ts";
import { isaRefusal, olderVerifierMessage } from "./isa_level.ts";
import type { Finding } from "./types.ts";
import { codeOfMessage, fieldsMessage, type VerifierTraits } from "./fields.ts";

/** `BPF_JMP | BPF_JA | BPF_X`: an indirect jump (gotox), known to the kernels whose profile says so. */
const GOTOX = 0x0d;

/**
 * `resolve_pseudo_ldimm64()`: LDX fields, `ld_imm64` pairs, known opcodes. Returns per slot 1
 * (structurally bad: the per-instruction pass skips it), 2 (second slot of an `ld_imm64`), or 0.
 *
 * A 7.x verifier (`verifier.early`) checks more here, in program order, for every instruction:
 * registers first, then the `ld_imm64` pair and offset, then the opcode, then the fields. Older
 * ones check the LDX fields before the opcode, and leave registers and the other fields to
 * `do_check()`.
 */
export function checkEncodings(
  c: Columns,
  err: Report,
  profile: KernelProfile | undefined,
  verifier: VerifierTraits,
  add: (f: Finding) => void,
): Uint8Array {
  const { n, code, dst, src, off, imm } = c;
  const isaAnswers = new Map<IsaFeature, string | null>();
  const bad = pooled("bad", u8, n);
  for (let i = 0; i < n; i++) {
    const op = code[i];
    const badReg = verifier.early && (dst[i] >= 11 || src[i] >= 11);
    if (badReg) {
      err(i, "invalid-reg", `R${dst[i] >= 11 ? dst[i] : src[i]} is invalid`);
      bad[i] = 1;
      // An ld_imm64 still gets its pair checked: a missing second half is a fault of its own.
      if (op !== LD_IMM64) continue;
    }
    if (!verifier.early && (op & 7) === CLS_LDX) {
      const m = fieldsMessage(op, dst[i], src[i], off[i], imm[i], verifier.oldMayGoto);
      if (m !== undefined) {
        err(i, "reserved-fields", m);
        bad[i] = 1;
        continue;
      }
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
      // (With a bad register, that is this instruction's finding.)
      if (!badReg && verifier.early && off[i] !== 0) {
        // A 7.x verifier checks the offset before what the source register asks for.
        err(i, "reserved-fields", "BPF_LD_IMM64 uses reserved fields");
        bad[i] = 1;
      } else if (!badReg && (s > 6 || ((s === 1 || s === 5) && imm[i + 1] !== 0))) {
        err(i, "ld-imm64", "unrecognized bpf_ld_imm64 insn");
        bad[i] = 1;
      }
      bad[i + 1] = 2;
      i++;
      continue;
    }
    if (!VALID_OPCODES[op] && !(op === GOTOX && verifier.gotox)) {
      err(i, "unknown-opcode", `unknown opcode ${hex2(op)}`);
      bad[i] = 1;
      continue;
    }
    // An instruction newer than the kernel the profile describes: refused in that kernel's words.
    const feature = profile === undefined ? undefined : isaFeatureOfFields(op, off[i], imm[i]);
    if (feature !== undefined) {
      const refusal = isaRefusal(profile!, feature, isaAnswers);
      if (refusal !== undefined && op === 0x06 && dst[i] === 0 && src[i] === 0) {
        // gotol: a kernel without cpu v4 takes JMP32 ja as `ja +off` (6.1 loads it), so the
        // jump goes elsewhere than the program means. It loads: a warning, not an error.
        add({
          index: i,
          code: "isa-feature",
          message: `gotol ${imm[i]}: this kernel reads JMP32 ja by its off (${off[i]}), not imm`,
          severity: "warning",
          explanation: refusal,
        });
      } else if (refusal !== undefined) {
        add({
          index: i,
          code: "isa-feature",
          message: olderVerifierMessage(feature, op, imm[i]),
          severity: "error",
          explanation: refusal,
        });
        bad[i] = 1;
      }
    }
    if (verifier.early && !bad[i]) {
      const m = fieldsMessage(op, dst[i], src[i], off[i], imm[i], verifier.oldMayGoto);
      if (m !== undefined) {
        err(i, codeOfMessage(m), m);
        bad[i] = 1;
      }
    }
  }
  return bad;
}
