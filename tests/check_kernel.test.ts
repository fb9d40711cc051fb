// The checker against the running kernel, on hand-made and on random programs: whenever the
// checker reports an error the kernel refuses the program, and whenever the kernel refuses one with
// a message the checker knows, the checker reported that message.
import { test } from "node:test";
import assert from "node:assert/strict";
import { kernelSkip } from "./util.ts";
import { checkProgram, VALID_OPCODES } from "../lib/check/mod.ts";
import { BpfError, VerifierError } from "../lib/errors.ts";
import type { Insn } from "../lib/insn/insn.ts";
import { Program } from "../lib/program/program.ts";
import { liveProfile } from "../lib/profile/mod.ts";

/** Messages of state-independent checks: those the checker must reproduce. */
const STATIC = new RegExp(
  [
    "uses reserved fields",
    "is invalid$",
    "^frame pointer is read only",
    "^div by zero",
    "^invalid shift",
    "^invalid func",
    "cannot use helper",
    "GPL-restricted",
    "^unknown opcode",
    "^jump out of range",
    "^last insn is not",
    "^unreachable insn",
    "ld_imm64 insn",
    "^call to invalid destination",
    "invalid atomic",
    "BPF_LD_\\[ABS",
    "^invalid may_goto",
    "^jump into the middle",
    "might sleep",
  ].join("|"),
);

/** The kernel's last meaningful log line, or `""` when it accepted the program. */
function kernelVerdict(
  type: number,
  insns: Insn[],
  license: string,
  expectedAttachType: number,
): string {
  try {
    Program.load({ type, insns, license, expectedAttachType, check: false }).close();
    return "";
  } catch (e) {
    if (e instanceof VerifierError) {
      // A 7.x structured report follows the verifier's own message: the message is before it.
      const at = e.log.indexOf("\nVerification failed:");
      const lines = (at < 0 ? e.log : e.log.slice(0, at)).split("\n").filter((l) =>
        l !== "" &&
        !/^(processed|verification time|stack depth|\d+: |from \d+ to|; |func#|Validating)/.test(l)
      );
      return lines[lines.length - 1] ?? `errno ${e.errno}`;
    }
    if (e instanceof BpfError) return `errno ${e.errno}`;
    // Program.load itself refuses some encodings (an ld_imm64 without its second half).
    if (e instanceof RangeError) return "refused by Program.load";
    throw e;
  }
}

/** A small seeded generator (mulberry32). */
function rng(seed: number): () => number {
  let s = seed | 0;
  return () => {
    s = (s + 0x6d2b79f5) | 0;
    let t = Math.imul(s ^ (s >>> 15), 1 | s);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const VALID = [...VALID_OPCODES].flatMap((v, i) => (v ? [i] : []));

function randomProgram(r: () => number): Insn[] {
  const pick = <T>(a: readonly T[]): T => a[Math.floor(r() * a.length)];
  const reg = () => (r() < 0.85 ? Math.floor(r() * 11) : Math.floor(r() * 16));
  const small = () =>
    pick([0, 0, 0, 1, -1, 2, 8, 16, 32, 64, 3, -8, 0x100, 0x110, 0xe1, 0xf1, 0x51, 6, 200]);
  const I = (code: number, dst: number, src: number, off: number, imm: number): Insn => ({
    code,
    dst,
    src,
    off,
    imm,
  });
  const len = Math.floor(r() * 8);
  const out: Insn[] = [];
  while (out.length < len) {
    const roll = r();
    if (roll < 0.12) {
      out.push(
        I(
          pick([0x05, 0x15, 0x25, 0x06, 0x1d, 0xe5]),
          Math.floor(r() * 3),
          0,
          Math.floor(r() * 9) - 4,
          pick([0, 0, 1, 3, -2]),
        ),
      );
    } else if (roll < 0.22) {
      out.push(
        I(
          0x85,
          0,
          pick([0, 0, 0, 1]),
          0,
          pick([1, 6, 35, 14, 113, 114, 0, 212, Math.floor(r() * 212)]),
        ),
      );
    } else if (roll < 0.28) {
      out.push(I(0x18, Math.floor(r() * 11), pick([0, 0, 4, 7]), 0, pick([0, 1, -3, 2])));
      out.push(I(pick([0, 0, 0, 0x95]), 0, 0, 0, pick([0, 5])));
    } else {
      const code = r() < 0.9 ? pick(VALID) : Math.floor(r() * 256);
      out.push(I(code, reg(), r() < 0.7 ? 0 : reg(), r() < 0.6 ? 0 : small(), small()));
    }
  }
  out.push(I(0xb7, 0, 0, 0, 0), I(0x95, 0, 0, 0, 0));
  return out;
}

test(
  "random programs: no false positives, and every static refusal found",
  { skip: kernelSkip },
  () => {
    const r = rng(20261125);
    const TYPES: [number, number][] = [[1, 0], [3, 0], [6, 0], [5, 0], [13, 0], [30, 36], [15, 0]];
    const LICENSES = ["GPL", "MIT", "Dual BSD/GPL"];
    let staticRefusals = 0, accepted = 0;
    const problems: string[] = [];
    const N = 3000;
    for (let k = 0; k < N; k++) {
      const insns = randomProgram(r);
      const [type, eat] = TYPES[Math.floor(r() * TYPES.length)];
      const license = LICENSES[Math.floor(r() * LICENSES.length)];
      const kernel = kernelVerdict(type, insns, license, eat);
      // Checked against the running kernel's profile, as Program.load does: a kernel without an
      // instruction-set feature refuses it in its own words, which the checker then predicts.
      const findings = checkProgram({
        type,
        insns,
        license,
        expectedAttachType: eat,
        profile: liveProfile(),
      });
      const text = JSON.stringify(insns.map((x) => [x.code, x.dst, x.src, x.off, x.imm]));
      if (kernel === "refused by Program.load") {
        if (!findings.some((f) => f.code === "ld-imm64")) {
          problems.push(
            `no ld-imm64 finding: ${text}`,
          );
        }
      } else if (kernel === "") {
        accepted++;
        if (findings.some((f) => f.severity === "error")) {
          problems.push(
            `false positive (type ${type}): ${text}: ${findings[0].message}`,
          );
        }
      } else if (STATIC.test(kernel)) {
        staticRefusals++;
        if (!findings.some((f) => f.message === kernel)) {
          problems.push(
            `missed (type ${type}): ${text}: kernel "${kernel}", checker ${
              JSON.stringify(findings.map((f) => f.message))
            }`,
          );
        }
      }
    }
    console.log(
      `${N} random programs: ${accepted} accepted, ${staticRefusals} refused for static reasons, ${problems.length} problems`,
    );
    assert.deepEqual(problems.slice(0, 10), []);
    assert.ok(staticRefusals > N / 3, "the generator exercises the static checks");
  },
);

test(
  "hand-made refusals: the checker's first message is the kernel's",
  { skip: kernelSkip },
  () => {
    const I = (code: number, dst = 0, src = 0, off = 0, imm = 0): Insn => ({
      code,
      dst,
      src,
      off,
      imm,
    });
    const M = I(0xb7), E = I(0x95);
    const cases: [string, number, Insn[]][] = [
      ["ld_imm64 with a bad second half", 1, [I(0x18, 0, 0, 0, 1), I(0, 1), M, E]],
      ["byte-sized atomic add", 1, [M, I(0xd3, 10, 0, -8, 0), E]],
      ["call to nowhere", 1, [I(0x85, 0, 1, 0, 100), M, E]],
      ["r11", 1, [I(0xb7, 11), E]],
      ["write to r10", 1, [I(0xb7, 10), M, E]],
      ["jump past the end", 1, [M, I(0x05, 0, 0, 5), E]],
      ["unreachable", 1, [M, E, M, E]],
      ["no exit", 1, [M]],
      ["shift by 64", 1, [M, I(0x67, 0, 0, 0, 64), E]],
      ["div by zero", 1, [M, I(0x37), E]],
      ["unknown helper", 1, [I(0x85, 0, 0, 0, 999), M, E]],
      ["opcode 0", 1, [I(0x00), M, E]],
      ["exit with imm", 1, [M, I(0x95, 0, 0, 0, 1)]],
      ["ld_abs in XDP", 6, [I(0xbf, 6, 1), I(0x30), E]],
      ["xdp helper in socket filter", 1, [I(0x85, 0, 0, 0, 44), M, E]],
    ];
    for (const [what, type, insns] of cases) {
      const kernel = kernelVerdict(type, insns, "GPL", 0);
      const findings = checkProgram({ type, insns, license: "GPL", profile: liveProfile() });
      assert.ok(kernel !== "", `${what}: the kernel accepted it`);
      assert.equal(findings[0]?.message, kernel, what);
    }
  },
);
