// Which instruction-set feature an instruction needs, and the checker refusing it, in the words of
// a kernel that lacks it, when the profile it is given says so.
import { test } from "node:test";
import assert from "node:assert/strict";
import { type Insn, isaFeatureOf, isaFeaturesOf } from "../lib/insn/mod.ts";
import { checkProgram } from "../lib/check/mod.ts";
import { type InsnFeature, type KernelProfile, no, UPSTREAM_PROFILE } from "../lib/profile/mod.ts";

const I = (code: number, dst = 0, src = 0, off = 0, imm = 0): Insn => ({
  code,
  dst,
  src,
  off,
  imm,
});

test("isaFeatureOf: each level's instructions, and the base set needs none", () => {
  const cases: [Insn, string | undefined][] = [
    [I(0xb7), undefined], // r0 = 0
    [I(0x3f, 0, 1, 0), undefined], // r0 /= r1
    [I(0x3f, 0, 1, 1), "v4"], // r0 s/= r1
    [I(0x97, 0, 0, 1, 3), "v4"], // r0 s%= 3
    [I(0xbf, 0, 1, 8), "v4"], // r0 = (s8)r1
    [I(0xd7, 0, 0, 0, 16), "v4"], // bswap16 r0
    [I(0xd4, 0, 0, 0, 16), undefined], // le16 r0
    [I(0x91, 0, 1, 0), "v4"], // ldxsb
    [I(0x06, 0, 0, 0, 1), "v4"], // gotol
    [I(0x06, 0, 0, 0, 0), "v4"], // JMP32 ja even with imm 0: unknown before v4 (6.6)
    [I(0x16, 0, 0, 1, 0), "v3"], // if w0 == 0
    [I(0xa5, 0, 0, 1, 0), "v2"], // if r0 < 0
    [I(0x15, 0, 0, 1, 0), undefined], // if r0 == 0
    [I(0xdb, 10, 1, -8, 0), undefined], // atomic add
    [I(0xdb, 10, 1, -8, 1), "atomic_fetch"], // atomic_fetch_add
    [I(0xc3, 10, 1, -8, 0xe1), "atomic_fetch"], // xchg
    [I(0xdb, 0, 10, -8, 0x100), "load_acquire"],
    [I(0xd3, 10, 1, -8, 0x110), "load_acquire"], // store_release, byte
    [I(0xd3, 10, 1, -8, 0), "load_acquire"], // byte atomics exist only with load-acquire
    [I(0xe5, 0, 0, 0, 0), "may_goto"],
  ];
  for (const [insn, want] of cases) assert.equal(isaFeatureOf(insn), want, JSON.stringify(insn));
  const prog = [I(0x18, 1, 0, 0, 1), I(0x3f, 0, 0, 1, 0), I(0xb7), I(0x3f, 0, 1, 1), I(0x95)];
  assert.deepEqual([...isaFeaturesOf(prog)], [["v4", 3]], "ld_imm64's second slot is skipped");
});

/** Upstream, except for the instruction features `lacks`. */
function without(...lacks: InsnFeature[]): KernelProfile {
  return {
    ...UPSTREAM_PROFILE,
    name: "test kernel",
    insn: (f: InsnFeature) =>
      lacks.includes(f) ? no("absent", `the verifier refuses ${f}`) : UPSTREAM_PROFILE.insn(f),
  };
}

test("gotol on a kernel without cpu v4: it loads there as ja +off, so a warning", () => {
  // if r1 == 0 goto +1; gotol +1; r0 = 0; r0 = 0; exit (every instruction reachable)
  const insns = [I(0x15, 1, 0, 1, 0), I(0x06, 0, 0, 0, 1), I(0xb7), I(0xb7), I(0x95)];
  const f = checkProgram({ type: "socket_filter", license: "GPL", insns, profile: without("v4") });
  assert.deepEqual(f.map((x) => [x.code, x.severity, x.index]), [["isa-feature", "warning", 1]]);
  assert.match(f[0].message, /reads JMP32 ja by its off/);
});

test("checkProgram with a profile that lacks a feature: refused as that kernel words it", () => {
  const ret = [I(0xb7), I(0x95)];
  const cases: [InsnFeature, Insn, string][] = [
    ["v4", I(0x3f, 0, 1, 1), "BPF_ALU uses reserved fields"],
    ["v4", I(0xbf, 0, 1, 16), "BPF_MOV uses reserved fields"],
    ["v4", I(0xd7, 0, 0, 0, 32), "unknown opcode d7"],
    ["v4", I(0x91, 0, 10, -8), "BPF_LDX uses reserved fields"],
    ["v4", I(0x06, 1, 0, 0, 1), "BPF_JA uses reserved fields"],
    ["may_goto", I(0xe5, 0, 0, 0, 0), "unknown opcode e5"],
    ["load_acquire", I(0xdb, 0, 10, -8, 0x100), "BPF_ATOMIC uses invalid atomic opcode 100"],
    ["load_acquire", I(0xd3, 10, 0, -8, 0), "unknown opcode d3"],
    ["atomic_fetch", I(0xdb, 10, 0, -8, 1), "BPF_XADD uses reserved fields"],
  ];
  for (const [feature, insn, message] of cases) {
    const insns = [I(0x7a, 10, 0, -8, 0), I(0xb7, 1, 0, 0, 1), insn, ...ret];
    const found = checkProgram({
      type: "socket_filter",
      license: "GPL",
      insns,
      profile: without(feature),
    })
      .filter((f) => f.code === "isa-feature");
    assert.equal(found.length, 1, `${feature}: ${JSON.stringify(found)}`);
    assert.equal(found[0].index, 2);
    assert.equal(found[0].message, message);
    assert.match(
      found[0].explanation ?? "",
      new RegExp(`test kernel has no .*: the verifier refuses ${feature}`),
    );
    // The same program against upstream: no such finding.
    const up = checkProgram({
      type: "socket_filter",
      license: "GPL",
      insns,
      profile: UPSTREAM_PROFILE,
    });
    assert.deepEqual(up.filter((f) => f.code === "isa-feature"), []);
  }
});
