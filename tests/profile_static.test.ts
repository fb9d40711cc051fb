// Static profiles: recorded answers of named kernels, answering offline. The checker given the 6.1
// profile predicts what 6.1 refuses and upstream accepts; inside a recorded kernel (the qemu
// matrix), the recorded answers are the live ones.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import {
  KNOWN_PROFILES,
  LiveProfile,
  ProfileCache,
  StaticProfile,
  UPSTREAM_PROFILE,
} from "../lib/profile/mod.ts";
import { decodeIds, encodeIds } from "../lib/profile/stored.ts";
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
  const live = new LiveProfile(new ProfileCache(null));
  const p = here!;
  const diffs: string[] = [];
  const same = (what: string, a: { state: string }, b: { state: string }) => {
    if (a.state !== "unknown" && b.state !== "unknown" && a.state !== b.state) {
      diffs.push(`${what}: recorded ${a.state}, live ${b.state}`);
    }
  };
  for (let t = 0; t < 40; t++) same(`prog ${t}`, p.progType(t), live.progType(t));
  for (let t = 0; t < 40; t++) same(`map ${t}`, p.mapType(t), live.mapType(t));
  for (const f of ["v2", "v3", "atomic_fetch", "v4", "may_goto", "load_acquire"] as const) {
    same(`insn ${f}`, p.insn(f), live.insn(f));
  }
  for (let id = 0; id < HELPER_COUNT + 8; id++) {
    same(
      `helper ${id} (socket filter)`,
      p.helper({ type: 1 }, id, "admin"),
      live.helper({ type: 1 }, id, "admin"),
    );
  }
  assert.deepEqual(diffs, []);
});
