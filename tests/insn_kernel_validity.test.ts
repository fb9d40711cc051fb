// insnError against the Linux verifier: seeded random encodings (valid instructions, and ones with
// one field mutated) are loaded, each after ten register initialisations, as a socket filter.
// - Whenever the verifier refuses the encoding itself (unknown opcode, reserved fields, bad
//   ld_imm64, bad atomic, bad register...), insnError must call it invalid too; the one exception
//   is a shift by a constant outside 0..width-1, a valid encoding (RFC 9669 masks the amount) that
//   Linux refuses.
// - A valid encoding of an instruction newer than the running kernel (cpu v4 before 6.6...), as its
//   live profile says, must be refused for its encoding.
// - The kernel must never accept a program whose instruction insnError calls invalid (it may
//   refuse it for another reason first: its reserved-field checks run after other passes), with
//   one known exception: `exit` with a nonzero `off`, which RFC 9669 reserves and Linux ignores.
import { test } from "node:test";
import assert from "node:assert/strict";
import { type Insn, insnError, isaFeaturesOf, rawWord } from "../lib/insn/mod.ts";
import { liveProfile } from "../lib/profile/mod.ts";
import { VerifierError } from "../lib/errors.ts";
import { Program } from "../lib/program/program.ts";
import { randomInsn, Rng } from "./insn_gen.ts";
import { kernelSkip } from "./util.ts";

const COUNT = 4000;

/** Verifier messages about the encoding of an instruction (not about program state). */
const ENCODING_ERRORS = new RegExp(
  [
    "unknown opcode",
    "uses reserved fields",
    "invalid BPF_LD_IMM",
    "invalid bpf_ld_imm64",
    "unrecognized bpf_ld_imm64",
    "invalid atomic operand size",
    "BPF_ATOMIC uses invalid atomic opcode",
    "R\\d+ is invalid",
    "invalid BPF_ALU opcode",
    "invalid BPF_JMP",
    "unknown insn class",
    "invalid shift",
    "invalid may_goto",
    "addr_space_cast insn can only convert",
  ].join("|"),
);

function candidate(r: Rng): Insn[] {
  let cand = randomInsn(r).map((x) => ({ ...x }));
  const c = cand[0];
  switch (r.int(6)) { // mutate one field, or none
    case 0:
      c.src = r.int(16);
      break;
    case 1:
      c.dst = r.int(16);
      break;
    case 2:
      c.off = r.pick([0, 1, 2, 8, 16, 32, -1]);
      break;
    case 3:
      c.imm = r.pick([0, 1, 16, 32, 64, 0x100, 0x110, 0xe1, 0xf1, 0x41, 7, 0x10000]);
      break;
    case 4:
      c.code = r.int(256);
      break;
  }
  // jumps stay inside the program
  const cls = c.code & 7;
  const op = c.code & 0xf0;
  if ((cls === 5 || cls === 6) && op !== 0x80 && op !== 0x90) {
    if (op === 0 && cls === 6) c.imm = r.int(2); // gotol
    else c.off = r.int(2);
  }
  if (c.code === 0x85 && c.src === 1) c.imm = 2; // a subprogram follows
  if (c.code === 0x18 && c.src === 4) c.imm = 2;
  if (c.code === 0x18 && cand.length === 1) cand.push({ code: 0, dst: 0, src: 0, off: 0, imm: 0 });
  if (c.code !== 0x18 && cand.length === 2) cand = [c];
  return cand;
}

test(
  `insnError agrees with the Linux verifier on ${COUNT} random encodings`,
  { skip: kernelSkip },
  () => {
    const r = new Rng(0xc0ffee);
    const counts = {
      validAccepted: 0,
      validRefusedOtherwise: 0,
      invalidRefusedForEncoding: 0,
      invalidRefusedOtherwise: 0,
      shift: 0,
      exitOff: 0,
      newer: 0,
    };
    const problems: string[] = [];
    for (let n = 0; n < COUNT; n++) {
      const cand = candidate(r);
      const prog: Insn[] = [];
      for (const k of [0, 2, 3, 4, 5, 6, 7, 8, 9]) {
        prog.push({
          code: 0xb7,
          dst: k,
          src: 0,
          off: 0,
          imm: 0,
        });
      }
      prog.push({ code: 0x55, dst: 0, src: 0, off: cand.length, imm: 0 }); // if r0 != 0 skip: keeps the rest reachable
      const at = prog.length;
      prog.push(...cand);
      prog.push({ code: 0xb7, dst: 0, src: 0, off: 0, imm: 0 }, {
        code: 0x95,
        dst: 0,
        src: 0,
        off: 0,
        imm: 0,
      });
      const sub = cand[0].code === 0x85 && cand[0].src === 1 ||
        cand[0].code === 0x18 && cand[0].src === 4;
      if (sub) {
        prog.push({ code: 0xb7, dst: 0, src: 0, off: 0, imm: 0 }, {
          code: 0x95,
          dst: 0,
          src: 0,
          off: 0,
          imm: 0,
        });
      }
      const ours = insnError(prog, at);
      let log: string | undefined;
      try {
        Program.load({ type: "socket_filter", insns: prog, license: "GPL", check: false }).close();
      } catch (e) {
        if (!(e instanceof VerifierError)) throw e;
        log = e.log;
      }
      const what = `${cand.map(rawWord).join(" ")} (insnError: ${ours ?? "valid"})`;
      const encodingLine = log?.split("\n").find((l) => ENCODING_ERRORS.test(l));
      // A valid encoding of an instruction newer than this kernel (its profile says it lacks the
      // feature): the verifier must refuse its encoding.
      const lacking = [...isaFeaturesOf(cand).keys()].find((f) =>
        liveProfile().insn(f).state === "no"
      ) ??
        // may_goto +0: an encoding 6.9-6.12 refuse (the profile's may_goto_zero).
        (cand[0].code === 0xe5 && cand[0].off === 0 &&
            liveProfile().feature("may_goto_zero").state === "no"
          ? "may_goto_zero"
          : undefined);
      // gotol (JMP32 ja, target in imm): a kernel without v4 reads it as `ja +off` and may load
      // it, with another meaning; the checker warns.
      const gotol = cand[0].code === 0x06;
      if (ours === undefined && lacking !== undefined && gotol && log === undefined) counts.newer++;
      else if (ours === undefined && lacking !== undefined) {
        if (encodingLine === undefined) {
          problems.push(
            `${what}: needs ${lacking}, which this kernel lacks, yet ${log ?? "loads"}`,
          );
        } else counts.newer++;
      } else if (ours === undefined) {
        if (encodingLine?.startsWith("invalid shift")) counts.shift++;
        else if (encodingLine !== undefined) {
          problems.push(
            `${what}: the verifier says "${encodingLine}"`,
          );
        } else if (log === undefined) counts.validAccepted++;
        else counts.validRefusedOtherwise++;
      } else {
        if (log === undefined) {
          const c = cand[0];
          if (c.code === 0x95 && c.dst === 0 && c.src === 0 && c.imm === 0 && c.off !== 0) {
            counts
              .exitOff++;
          } else problems.push(`${what}: the verifier accepted it`);
        } else if (encodingLine !== undefined) counts.invalidRefusedForEncoding++;
        else counts.invalidRefusedOtherwise++;
      }
    }
    console.log(
      `valid: ${counts.validAccepted} accepted, ${counts.validRefusedOtherwise} refused for the program's state, ` +
        `${counts.shift} refused as out-of-range shifts; invalid: ${counts.invalidRefusedForEncoding} refused for ` +
        `their encoding, ${counts.invalidRefusedOtherwise} refused earlier for another reason, ` +
        `${counts.exitOff} exits with a nonzero off accepted (RFC 9669 reserves off, Linux ignores it); ` +
        `${counts.newer} valid but newer than this kernel, refused for their encoding`,
    );
    assert.deepEqual(problems, []);
    assert.ok(counts.validAccepted > COUNT / 10 && counts.invalidRefusedForEncoding > COUNT / 10);
  },
);
