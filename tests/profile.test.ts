// Kernel profiles: the pure answers, the per-boot disk cache, in-process capability tiers, and the
// live profile against the running kernel for every program type x helper pair, every map type and
// every program type (each compared with a fresh probe that does not go through the profile).
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { kernelSkip } from "./util.ts";
import {
  bootKey,
  LiveProfile,
  ProfileCache,
  threadCapabilities,
  tierOf,
  UPSTREAM_PROFILE,
  withEffectiveCapabilities,
} from "../lib/profile/mod.ts";
import { BpfError, VerifierError } from "../lib/errors.ts";
import { Attr } from "../lib/attr.ts";
import { progAttach } from "../lib/sys/bpf_cmds.ts";
import { kernelBtf } from "../lib/elf/vmlinux.ts";
import { PROG_ATTACH_ATTR } from "../types/attr.ts";
import { ATTACH_TYPE_COUNT, attachTypeName } from "../types/attach_type.ts";
import { LINK_TYPE_COUNT } from "../types/link_type.ts";
import { BpfMap, MAP_TYPES } from "../lib/map/mod.ts";
import { Program } from "../lib/program/program.ts";
import { progTypeByName } from "../types/prog_type.ts";
import { PROG_TYPE_COUNT } from "../types/prog_type.ts";
import { HELPER_COUNT } from "../types/helpers.ts";
import { CREATE_PARAMS } from "./map_helpers.ts";
import { PROBE_VARIANTS, probeVariant } from "../scripts/probe_helpers.ts";

test("tiers: capabilities map to the kernel's ordered checks", () => {
  assert.equal(tierOf({}), "unprivileged");
  assert.equal(tierOf({ bpf: true }), "bpf");
  assert.equal(tierOf({ bpf: true, perfmon: true }), "perfmon");
  assert.equal(tierOf({ sysAdmin: true }), "admin");
  assert.equal(tierOf({ perfmon: true }), undefined, "CAP_PERFMON alone is no tier");
});

test("the upstream profile answers from the tables, with reasons", () => {
  assert.equal(UPSTREAM_PROFILE.helper({ type: 1 }, 153, "bpf").state, "yes");
  const a = UPSTREAM_PROFILE.helper({ type: 1 }, 153, "unprivileged");
  assert.equal(a.state, "no");
  assert.match(a.state === "no" ? a.reason : "", /cannot use helper bpf_per_cpu_ptr#153/);
  assert.equal(UPSTREAM_PROFILE.helperKnown(HELPER_COUNT).state, "no");
  assert.equal(UPSTREAM_PROFILE.mapType(33).state, "yes");
  assert.equal(UPSTREAM_PROFILE.mapType(999).state, "no");
  assert.equal(UPSTREAM_PROFILE.progType(999).state, "no");
});

test("disk cache: written atomically, read back, ignored when corrupt or from another boot", {
  skip: bootKey() === undefined ? "/proc has no kernel release or boot id" : false,
}, () => {
  const dir = mkdtempSync(join(tmpdir(), `tsbpf-profile-${process.pid}-`));
  try {
    const path = join(dir, "sub", "profile.json");
    const a = new ProfileCache(path);
    a.set("k", { state: "yes" });
    a.flush();
    assert.deepEqual(new ProfileCache(path).get("k"), { state: "yes" });
    // Another process's entries are merged, not lost.
    const b = new ProfileCache(path);
    b.set("j", 1);
    a.set("m", 2);
    b.flush();
    a.flush();
    const c = new ProfileCache(path);
    assert.deepEqual([c.get("k"), c.get("j"), c.get("m")], [{ state: "yes" }, 1, 2]);
    // Corrupt: ignored, and replaced on the next flush.
    writeFileSync(path, "{ not json");
    assert.equal(new ProfileCache(path).get("k"), undefined);
    // Another boot: ignored.
    writeFileSync(path, JSON.stringify({ boot: "other", entries: { k: 1 } }));
    assert.equal(new ProfileCache(path).get("k"), undefined);
    const d = new ProfileCache(path);
    d.set("x", 3);
    d.flush();
    assert.match(readFileSync(path, "utf8"), /"x":3/);
    assert.equal(new ProfileCache(null).path, undefined, "null: memory only");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("capabilities are lowered for one call and restored, also when it throws", {
  skip: kernelSkip,
}, () => {
  const before = threadCapabilities();
  assert.ok(before !== undefined);
  const inside = withEffectiveCapabilities(1n << 39n, () => threadCapabilities());
  assert.equal(inside?.effective, before.effective & (1n << 39n));
  assert.equal(inside?.permitted, before.permitted, "the permitted set is kept");
  assert.deepEqual(threadCapabilities(), before);
  assert.throws(() =>
    withEffectiveCapabilities(0n, () => {
      throw new Error("inside");
    }), /inside/);
  assert.deepEqual(threadCapabilities(), before);
});

/** A profile that probes afresh (memory-only cache). */
function freshProfile(): LiveProfile {
  return new LiveProfile(new ProfileCache(null));
}

test("every program type x helper pair: the live profile agrees with a fresh probe", {
  skip: kernelSkip,
}, () => {
  const profile = freshProfile();
  let pairs = 0;
  const diffs: string[] = [];
  for (const v of PROBE_VARIANTS) {
    const type = progTypeByName(v.type)!;
    const variant = {
      type,
      ...(v.expectedAttachType !== undefined && v.member === undefined
        ? { expectedAttachType: v.expectedAttachType }
        : {}),
      ...(v.attachTo !== undefined ? { attachTo: v.attachTo } : {}),
      ...((v.flags ?? 0) & 16 ? { sleepable: true } : {}),
    };
    const k = probeVariant(v);
    // A type whose helpers are another program's (ext: those of the program it replaces): the
    // profile says it cannot tell, with the reason, and claims nothing.
    const undecidable = profile.progType(type).state === "unknown";
    if (undecidable) {
      const a = profile.helper(variant, 1, "admin");
      if (a.state !== "unknown") diffs.push(`${v.label}: undecidable type, yet ${a.state}`);
      continue;
    }
    if (k.status === "ok" && k.verdicts.every((x) => x === "available")) {
      // Every id "available", none invalid: the probe program fails for another reason each
      // time (6.1's fmod_ret), so neither probe can tell; the profile must say it cannot.
      const a = profile.helper(variant, 1, "admin");
      if (a.state !== "unknown") diffs.push(`${v.label}: undecidable, yet ${a.state}`);
      continue;
    }
    if (k.status !== "ok") {
      // The kernel refuses even a trivial program: the profile must not claim any helper.
      const a = profile.helper(variant, 1, "admin");
      if (a.state === "yes") diffs.push(`${v.label}: ${k.status}, but the profile says yes`);
      continue;
    }
    for (let id = 0; id < k.verdicts.length; id++) {
      const a = profile.helper(variant, id, "admin");
      const mine = a.state === "yes"
        ? "available"
        : a.state === "no"
        ? (profile.helperKnown(id).state === "no" ? "invalid" : "unavailable")
        : `unknown (${a.reason})`;
      pairs++;
      if (mine !== k.verdicts[id]) {
        diffs.push(`${v.label} #${id}: kernel ${k.verdicts[id]}, ${mine}`);
      }
    }
  }
  console.log(`${pairs} pairs over ${PROBE_VARIANTS.length} variants; ${diffs.length} differ`);
  assert.deepEqual(diffs, []);
  assert.ok(pairs > 1000);
});

test("every map type: the live profile agrees with creating one", { skip: kernelSkip }, () => {
  const profile = freshProfile();
  using inner = BpfMap.create({ type: "array", keySize: 4, valueSize: 4, maxEntries: 1 });
  for (const t of MAP_TYPES) {
    const a = profile.mapType(t.type);
    if (!t.standalone) {
      assert.equal(
        a.state,
        "unknown",
        `${t.name}: cannot be created alone, so the profile cannot tell`,
      );
      continue;
    }
    const extra = t.name.endsWith("_of_maps") ? { innerMap: inner } : {};
    let kernel = "yes";
    try {
      BpfMap.create({ type: t.type, ...CREATE_PARAMS[t.name], ...extra }).close();
    } catch (e) {
      assert.ok(e instanceof BpfError, String(e));
      kernel = e.errnoName;
    }
    if (kernel === "yes") {
      assert.equal(a.state, "yes", `${t.name}: created, but ${JSON.stringify(a)}`);
    } else {
      assert.equal(a.state, "no", `${t.name}: the kernel says ${kernel}, the profile ${a.state}`);
      if (kernel === "EPERM") {
        assert.ok(a.state === "no" && a.why === "refused");
        assert.match(a.reason, new RegExp(`refuses ${t.name} maps for this process`));
      }
    }
  }
});

test("every attach type: the live profile agrees with BPF_PROG_ATTACH's answer", {
  skip: kernelSkip,
}, () => {
  // BPF_PROG_ATTACH maps the attach type to a program type before it looks at any fd: a type it
  // attaches without a link gets EBADF for attach_bpf_fd -1, any other (unknown, or link-only)
  // EINVAL. So EBADF proves the kernel knows the type, and a type the profile calls absent must get
  // EINVAL.
  const profile = freshProfile();
  const attr = new Attr(PROG_ATTACH_ATTR);
  const diffs: string[] = [];
  let known = 0;
  for (let t = 0; t < ATTACH_TYPE_COUNT + 8; t++) {
    const name = attachTypeName(t) ?? `#${t}`;
    const r = progAttach(attr.clear().set("attach_bpf_fd", 0xffff_ffff).set("attach_type", t));
    const a = profile.attachType(t);
    if (r === -9) {
      known++;
      if (a.state !== "yes") diffs.push(`${name}: the kernel knows it, the profile: ${a.state}`);
    } else if (r !== -22) {
      diffs.push(`${name}: BPF_PROG_ATTACH returned ${r}, not EBADF or EINVAL`);
    } else if (a.state === "unknown") diffs.push(`${name}: the profile cannot tell (${a.reason})`);
  }
  assert.deepEqual(diffs, []);
  assert.ok(known >= 10, `only ${known} attach types answered EBADF`);
});

test("every link type: the live profile agrees with the kernel's enum bpf_link_type", {
  skip: kernelSkip ||
    (existsSync("/sys/kernel/btf/vmlinux") ? false : "the kernel has no BTF to read the enum from"),
}, () => {
  // The kernel names its link types only in its BTF: read the enum here, apart from the profile.
  const e = kernelBtf().lookup("bpf_link_type", "enum")[0];
  assert.ok(e !== undefined && e.kind === "enum");
  const profile = freshProfile();
  const diffs: string[] = [];
  for (let t = 1; t < LINK_TYPE_COUNT + 4; t++) {
    // MAX_BPF_LINK_TYPE (and __MAX_BPF_LINK_TYPE) count the types; they are not one.
    const known = e.values.some((v) => Number(v.value) === t && !v.name.includes("MAX_"));
    const a = profile.linkType(t);
    if ((a.state === "yes") !== known) {
      diffs.push(`link type ${t}: kernel ${known}, profile ${a.state}`);
    }
  }
  assert.deepEqual(diffs, []);
});

test("every program type: the live profile agrees with loading a trivial program", {
  skip: kernelSkip,
}, () => {
  const profile = freshProfile();
  const checked: string[] = [];
  for (const v of PROBE_VARIANTS) {
    const type = progTypeByName(v.type)!;
    if (checked.includes(v.type)) continue;
    checked.push(v.type);
    const a = profile.progType(type);
    const k = probeVariant({ ...v, label: `${v.label}/trivial` });
    if (a.state === "unknown") continue; // e.g. ext: needs a program to replace
    if (k.status === "ok") {
      assert.equal(a.state, "yes", `${v.type}: loads, but ${JSON.stringify(a)}`);
    } else assert.equal(a.state, "no", `${v.type}: ${k.status}, but the profile says ${a.state}`);
  }
  assert.equal(profile.progType(PROG_TYPE_COUNT + 100).state, "no");
  // Program.load with a profile that refuses a helper: the checker says so before the kernel.
  const insns = [
    { code: 0x85, dst: 0, src: 0, off: 0, imm: 7 }, // call bpf_get_prandom_u32 (every kernel)
    { code: 0xb7, dst: 0, src: 0, off: 0, imm: 0 },
    { code: 0x95, dst: 0, src: 0, off: 0, imm: 0 },
  ];
  const none = { ...UPSTREAM_PROFILE, helper: () => ({ state: "no", why: "absent", reason: "x" }) };
  assert.throws(
    () => Program.load({ type: "socket_filter", insns, license: "GPL", profile: none as never }),
    /cannot use helper bpf_get_prandom_u32#7/,
  );
  Program.load({ type: "socket_filter", insns, license: "GPL" }).close();
});

test("instruction levels and features: the live profile agrees with loading the same program", {
  skip: kernelSkip,
}, () => {
  const profile = freshProfile();
  const i = (code: number, dst: number, src: number, off: number, imm: number) => ({
    code,
    dst,
    src,
    off,
    imm,
  });
  const ret = [i(0xb7, 0, 0, 0, 0), i(0x95, 0, 0, 0, 0)];
  const programs = {
    v2: [i(0xb7, 0, 0, 0, 7), i(0xa5, 0, 0, 1, 9), i(0xb7, 0, 0, 0, 1), ...ret], // jlt
    v3: [i(0xb4, 0, 0, 0, 7), i(0x26, 0, 0, 1, 9), i(0xb4, 0, 0, 0, 1), ...ret], // jgt32
    v4: [i(0xb7, 0, 0, 0, 9), i(0x3f, 0, 0, 1, 0), ...ret], // r0 s/= r0
    // r1 = atomic_fetch_add((u64 *)(r10 - 8), r1)
    atomic_fetch: [i(0x7a, 10, 0, -8, 0), i(0xb7, 1, 0, 0, 1), i(0xdb, 10, 1, -8, 1), ...ret],
    load_acquire: [i(0x7a, 10, 0, -16, 5), i(0xdb, 1, 10, -16, 0x100), ...ret],
    may_goto: [i(0xe5, 0, 0, 1, 0), i(0xb7, 0, 0, 0, 1), ...ret],
  } as const;
  for (const [feature, insns] of Object.entries(programs)) {
    let loads = true;
    try {
      Program.load({ type: "socket_filter", insns, license: "GPL", check: false }).close();
    } catch {
      loads = false;
    }
    const a = profile.insn(feature as keyof typeof programs);
    assert.equal(a.state, loads ? "yes" : "no", `${feature}: ${JSON.stringify(a)}`);
  }
  // The verifier's order: a frame-pointer write (a do_check() refusal) at 0 and a reserved field
  // at 2. A verifier that checks fields in an early pass names the field.
  let log = "";
  try {
    Program.load({
      type: "socket_filter",
      insns: [i(0xb7, 10, 0, 0, 0), i(0xb7, 0, 0, 0, 0), i(0xb7, 0, 1, 0, 0), i(0x95, 0, 0, 0, 0)],
      license: "GPL",
      check: false,
    }).close();
  } catch (e) {
    assert.ok(e instanceof VerifierError, String(e));
    log = e.log;
  }
  assert.match(log, /uses reserved fields|frame pointer is read only/);
  // may_goto +0: 6.9-6.12 refuse it, later kernels take it (and a kernel without may_goto).
  let zero = true;
  try {
    Program.load({
      type: "socket_filter",
      insns: [i(0xe5, 0, 0, 0, 0), ...ret],
      license: "GPL",
      check: false,
    }).close();
  } catch {
    zero = false;
  }
  assert.equal(profile.feature("may_goto_zero").state, zero ? "yes" : "no");
  // gotox r0 (no jump table): the opcode is unknown, or something else is wrong with it.
  let gotoxLog = "";
  try {
    Program.load({
      type: "socket_filter",
      insns: [i(0xb7, 0, 0, 0, 0), i(0x0d, 0, 0, 0, 0), ...ret],
      license: "GPL",
      check: false,
    }).close();
  } catch (e) {
    assert.ok(e instanceof VerifierError, String(e));
    gotoxLog = e.log;
  }
  assert.equal(
    profile.feature("gotox").state,
    /unknown opcode 0d/.test(gotoxLog) ? "no" : "yes",
    gotoxLog,
  );
  assert.equal(
    profile.feature("early_insn_checks").state,
    /uses reserved fields/.test(log) ? "yes" : "no",
  );
  // Features: each answer has a reason when not yes, and agrees with what the kernel shows.
  const btf = profile.feature("btf");
  assert.equal(btf.state === "yes", existsSync("/sys/kernel/btf/vmlinux"));
  const kprobes = profile.feature("kprobes");
  assert.equal(
    kprobes.state === "yes",
    ["/sys/bus/event_source/devices/kprobe", "/sys/kernel/tracing/kprobe_events"]
      .some((f) => existsSync(f)) || existsSync("/sys/kernel/debug/tracing/kprobe_events"),
  );
  const tramp = profile.feature("trampolines");
  assert.notEqual(tramp.state, "unknown", JSON.stringify(tramp));
  // bpf_map_lookup_elem (1) is offered to fentry programs: probed only where they load.
  const fentryHelper = profile.helper({ type: 26, expectedAttachType: 24 }, 1, "admin");
  assert.equal(tramp.state === "yes", fentryHelper.state === "yes", JSON.stringify(fentryHelper));
});
