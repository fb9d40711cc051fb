// The program-type registry: built-in definitions, register / replace / unregister / wrap, and
// unknown types refused before any system call.
import { ArgumentError } from "../lib/errors.ts";
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  BUILTIN_PROG_TYPES,
  type FuncProto,
  getProgType,
  type LoadContext,
  type ProgTypeDef,
  progTypes,
  registerProgType,
  resetProgTypes,
  unregisterProgType,
} from "../lib/progtype/mod.ts";
import { checkProgram } from "../lib/check/mod.ts";
import { programTypeOfSection } from "../lib/elf/sections.ts";
import { ObjectError } from "../lib/elf/error.ts";
import { PROG_TYPE_COUNT, progTypeName } from "../types/prog_type.ts";
import { AttachType } from "../types/attach_type.ts";
import { HelperId } from "../types/helpers.ts";

const GPL: LoadContext = { license: "GPL", gplCompatible: true, privileged: true };
const CALL_EXIT = (id: number) => [
  { code: 0x85, dst: 0, src: 0, off: 0, imm: id },
  { code: 0xb7, dst: 0, src: 0, off: 0, imm: 0 },
  { code: 0x95, dst: 0, src: 0, off: 0, imm: 0 },
];

test("every program type of the kernel ABI has a built-in definition, with the kernel's name", () => {
  assert.equal(BUILTIN_PROG_TYPES.length, PROG_TYPE_COUNT - 1);
  for (let t = 1; t < PROG_TYPE_COUNT; t++) {
    const def = getProgType(t);
    assert.ok(def, `type ${t}`);
    assert.equal(def.name, progTypeName(t));
    assert.equal(getProgType(def.name), def);
  }
  assert.equal(getProgType(0), undefined, "BPF_PROG_TYPE_UNSPEC is not a program type");
  assert.equal(getProgType("BPF_PROG_TYPE_XDP")?.type, 6);
  assert.equal(getProgType("XDP")?.type, 6);
  assert.equal(getProgType("no_such_type"), undefined);
  assert.deepEqual(progTypes().map((d) => d.type), BUILTIN_PROG_TYPES.map((d) => d.type));
});

test("section prefixes follow libbpf, with the attach type each implies", () => {
  const sec = (type: string, prefix: string) =>
    getProgType(type)!.sectionPrefixes.find((s) => s.prefix === prefix);
  assert.ok(sec("socket_filter", "socket"));
  assert.equal(sec("xdp", "xdp")?.expectedAttachType, AttachType.XDP);
  assert.equal(sec("xdp", "xdp.frags")?.xdpFrags, true);
  assert.equal(sec("xdp", "xdp/devmap")?.expectedAttachType, AttachType.XDP_DEVMAP);
  assert.ok(sec("sched_cls", "tc") && sec("sched_cls", "classifier"));
  assert.equal(sec("sched_cls", "tcx/ingress")?.expectedAttachType, AttachType.TCX_INGRESS);
  assert.equal(sec("tracepoint", "tracepoint")?.takesTarget, true);
  assert.ok(sec("tracepoint", "tp"));
  assert.ok(sec("raw_tracepoint", "raw_tracepoint") && sec("raw_tracepoint", "raw_tp"));
  assert.equal(sec("tracing", "tp_btf")?.expectedAttachType, AttachType.TRACE_RAW_TP);
  assert.equal(sec("tracing", "tp_btf")?.attachBtf, true);
  assert.equal(sec("tracing", "fentry.s")?.sleepable, true);
  assert.equal(
    sec("cgroup_skb", "cgroup_skb/ingress")?.expectedAttachType,
    AttachType.CGROUP_INET_INGRESS,
  );
  assert.equal(
    sec("cgroup_sock", "cgroup/sock_create")?.expectedAttachType,
    AttachType.CGROUP_INET_SOCK_CREATE,
  );
  assert.equal(sec("cgroup_sock_addr", "cgroup/connect4")?.attachTypeAtLoad, "required");
  assert.equal(sec("lsm", "lsm_cgroup")?.expectedAttachType, AttachType.LSM_CGROUP);
  assert.equal(sec("syscall", "syscall")?.sleepable, true);
  // No prefix is claimed by two types.
  const seen = new Map<string, string>();
  for (const d of BUILTIN_PROG_TYPES) {
    for (const s of d.sectionPrefixes) {
      assert.ok(!seen.has(s.prefix), `${s.prefix} claimed by ${seen.get(s.prefix)} and ${d.name}`);
      seen.set(s.prefix, d.name);
    }
  }
});

test("attach types the kernel enforces at load", () => {
  const sa = getProgType("cgroup_sock_addr")!;
  assert.equal(sa.attachTypeEnforced, true);
  assert.equal(sa.expectedAttachTypes.length, 17);
  assert.ok(sa.expectedAttachTypes.every((a) => a.requiredAtLoad));
  assert.equal(getProgType("cgroup_sock")!.defaultAttachType, AttachType.CGROUP_INET_SOCK_CREATE);
  const f = checkProgram({
    type: "sk_lookup",
    insns: CALL_EXIT(HelperId.map_lookup_elem),
    license: "GPL",
  });
  assert.ok(
    f.some((x) => x.code === "attach-type" && x.index === -1),
    "sk_lookup without BPF_SK_LOOKUP",
  );
  const g = checkProgram({
    type: "sk_lookup",
    insns: CALL_EXIT(HelperId.ktime_get_ns),
    license: "GPL",
    expectedAttachType: AttachType.SK_LOOKUP,
  });
  assert.deepEqual(g, []);
  const h = checkProgram({
    type: "syscall",
    insns: CALL_EXIT(HelperId.ktime_get_ns),
    license: "GPL",
  });
  assert.deepEqual(h.map((x) => x.message), ["Syscall programs can only be sleepable"]);
});

test("register a new type, refuse a duplicate, replace it, unregister it", () => {
  try {
    const mine: ProgTypeDef = {
      type: 4000,
      name: "my_filter",
      sectionPrefixes: [{ prefix: "my_filter", attachTypeAtLoad: "none" }],
      expectedAttachTypes: [],
      ops: getProgType("socket_filter")!.ops,
    };
    registerProgType(mine);
    assert.equal(getProgType(4000), mine);
    assert.equal(getProgType("my_filter"), mine);
    assert.throws(
      () => registerProgType(mine),
      /already registered as "my_filter"; pass \{ replace: true \}/,
    );
    assert.throws(
      () => registerProgType({ ...mine, type: 4001 }),
      /name "my_filter" is already registered as type 4000/,
    );
    assert.throws(
      () => registerProgType({ ...getProgType("xdp")! }),
      /program type 6 is already registered as "xdp"/,
    );
    const renamed = { ...mine, name: "my_filter2" };
    registerProgType(renamed, { replace: true });
    assert.equal(getProgType(4000), renamed);
    assert.equal(getProgType("my_filter"), undefined, "the old name went with the old definition");
    assert.equal(unregisterProgType("my_filter2"), true);
    assert.equal(unregisterProgType(4000), false);
    assert.equal(getProgType(4000), undefined);
    assert.throws(() => registerProgType({ ...mine, type: -1 }), RangeError);
    assert.throws(() => registerProgType({ ...mine, name: "Bad Name" }), ArgumentError);
    assert.throws(
      () => registerProgType({ ...mine, ops: {} as ProgTypeDef["ops"] }),
      /ops\.getFuncProto/,
    );
  } finally {
    resetProgTypes();
  }
});

test("section names follow the registry: a type registered, replaced, unregistered, reset", () => {
  // The section lookup keeps the registry's types sorted between changes: every change shows.
  try {
    assert.throws(() => programTypeOfSection("my_sec/target"), ObjectError);
    const mine: ProgTypeDef = {
      type: 4002,
      name: "my_sec_type",
      sectionPrefixes: [{ prefix: "my_sec", takesTarget: true, attachTypeAtLoad: "none" }],
      expectedAttachTypes: [],
      ops: getProgType("socket_filter")!.ops,
    };
    registerProgType(mine);
    const t = programTypeOfSection("my_sec/target");
    assert.equal(t.type, 4002);
    assert.equal(t.target, "target");
    assert.equal(programTypeOfSection("my_sec").target, undefined);
    assert.throws(() => programTypeOfSection("my_secx/target"), ObjectError, "not a prefix + /");
    assert.equal(progTypes().at(-1), mine, "progTypes() is sorted by number");
    progTypes().pop(); // a copy: the registry's own list is not touched
    assert.equal(progTypes().at(-1), mine);
    registerProgType({ ...mine, name: "my_sec_type2" }, { replace: true });
    assert.equal(programTypeOfSection("my_sec/x").typeName, "my_sec_type2");
    unregisterProgType(4002);
    assert.throws(() => programTypeOfSection("my_sec/target"), ObjectError);
    registerProgType(mine);
    resetProgTypes();
    assert.throws(() => programTypeOfSection("my_sec/target"), ObjectError);
    // Longest prefix still wins among built-ins.
    assert.equal(programTypeOfSection("cgroup/connect4").typeName, "cgroup_sock_addr");
  } finally {
    resetProgTypes();
  }
});

test("wrap a built-in type's ops: forbid one helper, add another", () => {
  try {
    const xdp = getProgType("xdp")!;
    const ktime = xdp.ops.getFuncProto(HelperId.ktime_get_ns, GPL)!;
    registerProgType({
      ...xdp,
      ops: {
        getFuncProto(id: number, ctx: LoadContext): FuncProto | undefined {
          if (id === HelperId.redirect) return undefined; // forbidden by policy
          if (id === HelperId.get_current_comm && !ctx.privileged) return undefined;
          if (id === HelperId.jiffies64) return { ...ktime, id, name: "bpf_jiffies64" };
          return xdp.ops.getFuncProto(id, ctx);
        },
      },
    }, { replace: true });
    const prog = (id: number) =>
      checkProgram({ type: "xdp", insns: CALL_EXIT(id), license: "GPL" });
    assert.deepEqual(prog(HelperId.redirect).map((f) => f.message), [
      "program of this type cannot use helper bpf_redirect#23",
    ]);
    assert.deepEqual(prog(HelperId.jiffies64), []);
    assert.deepEqual(prog(HelperId.xdp_adjust_head), []);
  } finally {
    resetProgTypes();
  }
  assert.equal(
    getProgType("xdp")!.ops.getFuncProto(HelperId.redirect, GPL)?.proto,
    "bpf_xdp_redirect_proto",
  );
});

test("an unknown or unregistered type is refused before any system call", () => {
  try {
    unregisterProgType("lirc_mode2");
    assert.equal(getProgType(20), undefined);
    const f = checkProgram({ type: 20, insns: CALL_EXIT(HelperId.ktime_get_ns), license: "GPL" });
    assert.equal(f[0].code, "unknown-prog-type");
    assert.equal(f[0].index, -1);
    assert.match(f[0].message, /unknown program type 20 \(the kernel refuses it with EINVAL\)/);
    const g = checkProgram({ type: "warp_drive", insns: CALL_EXIT(1), license: "GPL" });
    assert.equal(g[0].code, "unknown-prog-type");
  } finally {
    resetProgTypes();
  }
  assert.ok(getProgType("lirc_mode2"));
});
