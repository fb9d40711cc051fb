// Static profiles: recorded answers of named kernels, answering offline. The checker given the 6.1
// profile predicts what 6.1 refuses and upstream accepts; inside a recorded kernel (the qemu
// matrix), the recorded answers are the live ones.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { KNOWN_PROFILES, StaticProfile, UPSTREAM_PROFILE } from "../lib/profile/mod.ts";
import { decodeIds, encodeIds } from "../lib/profile/stored.ts";
import { liveProfile, reasonOf } from "../lib/profile/mod.ts";
import { type Answer, CAP_TIERS, KERNEL_FEATURES } from "../lib/profile/types.ts";
import { ISA_FEATURES } from "../lib/insn/isa.ts";
import { MAP_TYPES } from "../lib/map/map_types.ts";
import { PROG_TYPE_COUNT } from "../types/prog_type.ts";
import { ATTACH_TYPE_COUNT } from "../types/attach_type.ts";
import { LINK_TYPE_COUNT } from "../types/link_type.ts";
import { PROBE_VARIANTS } from "../scripts/probe_helpers.ts";
import { variantOf } from "../scripts/profile_dump.ts";
import { checkProgram } from "../lib/check/mod.ts";
import type { Insn } from "../lib/insn/mod.ts";
import { MapType } from "../types/map_type.ts";
import { HELPER_COUNT, HELPER_NAMES } from "../types/helpers.ts";
import { kernelSkip } from "./util.ts";

const I = (code: number, dst = 0, src = 0, off = 0, imm = 0): Insn => ({
  code,
  dst,
  src,
  off,
  imm,
});

test("helper ids as ranges: encoded and decoded", () => {
  for (const ids of [[], [0], [1, 2, 3, 5, 7, 8], [4, 9, 10, 11, 200]]) {
    assert.deepEqual(decodeIds(encodeIds(ids)), ids);
  }
  assert.equal(encodeIds([1, 2, 3, 5]), "1-3,5");
  assert.throws(() => decodeIds("3-1"), /bad helper id range "3-1"/);
});

test("a static profile answers what was recorded, and unknown for the rest", () => {
  const p = new StaticProfile({
    name: "test 6.1",
    release: "6.1.0",
    entries: {
      "insn:v4": { state: "no", why: "absent", reason: "BPF_ALU uses reserved fields" },
      "map:33": { state: "no", why: "absent", reason: "no arena maps" },
      "helpers:1:0::0:admin": { s: "ok", a: "1-3,14", n: 200 },
    },
  });
  assert.equal(p.insn("v4").state, "no");
  assert.equal(p.mapType(33).state, "no");
  assert.equal(p.helper({ type: 1 }, 14, "admin").state, "yes");
  assert.equal(p.helper({ type: 1 }, 5, "admin").state, "no");
  assert.equal(p.helperKnown(199).state, "yes");
  assert.equal(p.helperKnown(200).state, "no");
  const u = p.helper({ type: 6 }, 1, "admin");
  assert.equal(u.state, "unknown");
  assert.match(
    u.state === "unknown" ? u.reason : "",
    /test 6\.1 profile has no record of the helpers of xdp/,
  );
  assert.equal(p.progType(1).state, "unknown");
});

test("the matrix kernels are recorded", () => {
  for (const k of ["5.10", "6.1", "6.12", "6.18", "7.3"]) {
    const p = KNOWN_PROFILES[k];
    assert.ok(p !== undefined, `no profile of ${k}`);
    assert.match(p.name, new RegExp(`Debian ${k.replace(".", "\\.")}\\.`));
    assert.equal(p.progType(1).state, "yes", `${k}: socket filters`);
  }
});

test("offline: the checker with the 6.1 profile refuses what 6.1 lacks and upstream accepts", () => {
  const old = KNOWN_PROFILES["6.1"];
  assert.ok(old !== undefined);
  // cpu v4 (6.6): signed division.
  const sdiv = [I(0xb7, 0, 0, 0, 7), I(0x37, 0, 0, 1, 2), I(0x95)];
  const then = checkProgram({ type: "socket_filter", license: "GPL", insns: sdiv, profile: old });
  assert.deepEqual(then.map((f) => [f.code, f.index, f.message]), [
    ["isa-feature", 1, "BPF_ALU uses reserved fields"],
  ]);
  assert.match(then[0].explanation ?? "", /Debian 6\.1.* has no cpu v4 instructions/);
  for (const profile of [UPSTREAM_PROFILE, KNOWN_PROFILES["6.18"]!]) {
    assert.deepEqual(
      checkProgram({ type: "socket_filter", license: "GPL", insns: sdiv, profile }),
      [],
    );
  }
  // A helper newer than 6.1: the checker says what 6.1's verifier says.
  const newer = [...Array(HELPER_COUNT).keys()].find((id) =>
    old.helperKnown(id).state === "no" && UPSTREAM_PROFILE.helperKnown(id).state === "yes"
  );
  assert.ok(newer !== undefined, "6.1 knows fewer helpers than upstream");
  const call = [I(0x85, 0, 0, 0, newer), I(0xb7), I(0x95)];
  const f = checkProgram({ type: "socket_filter", license: "GPL", insns: call, profile: old });
  assert.equal(f[0]?.message, `invalid func unknown#${newer}`, `bpf_${HELPER_NAMES[newer]}`);
  // A helper the type does not offer, in each kernel's words (6.1 predates "cannot use helper").
  const xdpHelper = [I(0x85, 0, 0, 0, 44), I(0xb7), I(0x95)]; // bpf_xdp_adjust_head
  const words = (profile: typeof old) =>
    checkProgram({ type: "socket_filter", license: "GPL", insns: xdpHelper, profile })[0]?.message;
  assert.equal(words(old), "unknown func bpf_xdp_adjust_head#44");
  assert.equal(
    words(KNOWN_PROFILES["6.18"]!),
    "program of this type cannot use helper bpf_xdp_adjust_head#44",
  );
  // Map and link types 6.1 lacks.
  assert.equal(old.mapType(MapType.ARENA).state, "no");
  assert.equal(old.insn("may_goto").state, "no");
  assert.equal(KNOWN_PROFILES["6.18"]!.insn("v4").state, "yes");
});

test("offline: with the 7.3 profile the checker words each fault as 7.3's early field pass does", () => {
  // A 7.x verifier checks every instruction's registers, then its opcode, then its fields, in one
  // pass before it walks the program; 6.18 checks the LDX fields before the opcode and leaves the
  // rest to do_check(), which meets the fields before the registers. Each row: program type,
  // program, the faulty instruction, what 7.3 says, what 6.18 says (both recorded from the
  // kernels under qemu).
  const M = I(0xb7), E = I(0x95);
  const rows: [number, Insn[], number, string, string][] = [
    [1, [I(0xb7, 0, 11), E], 0, "R11 is invalid", "BPF_MOV uses reserved fields"],
    [1, [I(0xe1, 12), M, E], 0, "R12 is invalid", "BPF_LDX uses reserved fields"],
    [1, [I(0xe9, 8, 9, 64, 16), M, E], 0, "unknown opcode e9", "BPF_LDX uses reserved fields"],
    [
      2,
      [I(0x30, 4), M, E],
      0,
      "BPF_LD_[ABS|IND] uses reserved fields",
      "BPF_LD_[ABS|IND] instructions not allowed for this program type",
    ],
    [1, [I(0xbf, 11, 12), M, E], 0, "R11 is invalid", "R12 is invalid"],
    [1, [M, I(0x1d, 0, 11, 0, 5), E], 1, "R11 is invalid", "BPF_JMP/JMP32 uses reserved fields"],
    [1, [M, I(0x95, 11)], 1, "R11 is invalid", "BPF_EXIT uses reserved fields"],
    [1, [I(0xff, 11), M, E], 0, "R11 is invalid", "unknown opcode ff"],
    [1, [I(0x18, 11, 7, 0, 1), I(0), M, E], 0, "R11 is invalid", "unrecognized bpf_ld_imm64 insn"],
    [
      1,
      [M, I(0xdb, 10, 11, -8, 3), E],
      1,
      "R11 is invalid",
      "BPF_ATOMIC uses invalid atomic opcode 03",
    ],
    [
      1,
      [M, I(0x05, 0, 0, 1), I(0xb7, 0, 1), E],
      2,
      "BPF_MOV uses reserved fields",
      "unreachable insn 2",
    ],
    [
      1,
      [I(0xbf, 6, 1), I(0x20, 0, 11), M, E],
      1,
      "R11 is invalid",
      "BPF_LD_[ABS|IND] uses reserved fields",
    ],
  ];
  // gotox (7.x) with a register in a reserved field; 6.18 does not know the opcode.
  rows.push([
    1,
    [I(0x0d, 7, 0, 0, 272), M, E],
    0,
    "BPF_JA|BPF_X uses reserved fields",
    "unknown opcode 0d",
  ]);
  const k73 = KNOWN_PROFILES["7.3"]!, k618 = KNOWN_PROFILES["6.18"]!;
  assert.equal(k73.feature("early_insn_checks").state, "yes");
  assert.notEqual(k618.feature("early_insn_checks").state, "yes");
  const at = (type: number, insns: Insn[], index: number, profile?: typeof k73) =>
    checkProgram({ type, license: "GPL", insns, ...(profile ? { profile } : {}) })
      .find((f) => f.index === index)?.message;
  for (const [type, insns, index, then, before] of rows) {
    const label = JSON.stringify(insns.map((x) => [x.code, x.dst, x.src, x.off, x.imm]));
    assert.equal(at(type, insns, index, k73), then, `7.3: ${label}`);
    assert.equal(at(type, insns, index, k618), before, `6.18: ${label}`);
    assert.equal(at(type, insns, index, UPSTREAM_PROFILE), before, `upstream: ${label}`);
    assert.equal(at(type, insns, index), before, `no profile: ${label}`);
  }
  // An ld_imm64 with a bad register and no second half: 7.3 names the register, and the missing
  // half (which Program.load refuses before any kernel sees it) is still a finding.
  const half = [I(0x18, 11, 0, 0, 1), M, E];
  assert.deepEqual(
    checkProgram({ type: 1, license: "GPL", insns: half, profile: k73 }).map((f) => f.message),
    ["R11 is invalid", "invalid bpf_ld_imm64 insn"],
  );
  assert.equal(at(1, half, 0, k618), "invalid bpf_ld_imm64 insn");
  // do_check()'s own refusals stay there: a frame-pointer write, a constant division by zero.
  const fp = [I(0xb7, 10), M, I(0xb7, 0, 1), E];
  assert.deepEqual(
    checkProgram({ type: 1, license: "GPL", insns: fp, profile: k73 }).map((f) => f.message),
    ["frame pointer is read only", "BPF_MOV uses reserved fields"],
  );
});

/** The recorded profile of the running kernel (same release), if any. */
function recorded(): StaticProfile | undefined {
  let release: string;
  try {
    release = readFileSync("/proc/sys/kernel/osrelease", "utf8").trim();
  } catch {
    return undefined;
  }
  for (const p of Object.values(KNOWN_PROFILES)) {
    if (p instanceof StaticProfile && p.release === release) return p;
  }
  return undefined;
}
const here = recorded();

test("inside a recorded kernel, its static profile agrees with the live one", {
  skip: kernelSkip ||
    (here === undefined ? "the running kernel is none of the recorded ones" : false),
}, () => {
  // Every question the dump recorded, asked of both: program, map, attach and link types (and a
  // few numbers past tsbpf's tables), instruction features, kernel features, and every probe
  // variant x capability tier x helper id. The live profile's own answers are checked against the
  // kernel in tests/profile.test.ts.
  const live = liveProfile();
  const p = here!;
  const diffs: string[] = [];
  let compared = 0;
  const same = (what: string, a: Answer, b: Answer) => {
    if (a.state === "unknown" || b.state === "unknown") return;
    compared++;
    if (a.state !== b.state) {
      diffs.push(`${what}: recorded ${a.state}, live ${b.state} (${reasonOf(a) ?? reasonOf(b)})`);
    }
  };
  for (let t = 0; t < PROG_TYPE_COUNT + 4; t++) same(`prog ${t}`, p.progType(t), live.progType(t));
  for (const t of MAP_TYPES) same(`map ${t.name}`, p.mapType(t.type), live.mapType(t.type));
  for (let t = 0; t < ATTACH_TYPE_COUNT + 8; t++) {
    same(`attach ${t}`, p.attachType(t), live.attachType(t));
  }
  for (let t = 1; t < LINK_TYPE_COUNT + 4; t++) same(`link ${t}`, p.linkType(t), live.linkType(t));
  for (const f of ISA_FEATURES) same(`insn ${f}`, p.insn(f), live.insn(f));
  for (const f of KERNEL_FEATURES) same(`feature ${f}`, p.feature(f), live.feature(f));
  for (let id = 0; id < HELPER_COUNT + 8; id++) {
    same(`helper ${id} known`, p.helperKnown(id), live.helperKnown(id));
  }
  let pairs = 0;
  for (const v of PROBE_VARIANTS) {
    const variant = variantOf(v);
    for (const tier of CAP_TIERS) {
      for (let id = 0; id < HELPER_COUNT + 8; id++) {
        const before = compared;
        same(
          `${v.label} ${tier} #${id}`,
          p.helper(variant, id, tier),
          live.helper(variant, id, tier),
        );
        pairs += compared - before;
      }
    }
  }
  console.log(
    `${p.name}: ${compared} answers compared (${pairs} type x tier x helper); ${diffs.length} differ`,
  );
  assert.deepEqual(diffs.slice(0, 30), [], `${diffs.length} answers differ`);
  assert.ok(pairs > 10_000, `only ${pairs} helper answers were decided on both sides`);
});
