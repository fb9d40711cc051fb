/**
 * Real-world-shaped objects (tests/fixtures/objects, built in the styles of libbpf-tools): each
 * loads whole, its programs run or attach, and its xlated instructions equal libbpf's for the same
 * object (a libbpf reference loader built from tests/fixtures/objects/ref_loader.c, as
 * `bpftool prog loadall` loads). Also the libbpf fix-ups (perf event array sizing, ring buffer
 * rounding, internal map names, mmapable global data), the mutable spec, externs, BTF-attached
 * sections, struct_ops, initial map values, pin by name and auto-attach.
 */
import { ArgumentError } from "../lib/errors.ts";
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { release, tmpdir } from "node:os";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { readIter } from "../lib/link/iter.ts";
import type { IterLink } from "../lib/link/iter.ts";
import { BpfMap } from "../lib/map/map.ts";
import { possibleCpus } from "../lib/map/cpus.ts";
import { readProgramInfoArrays } from "../lib/program/info.ts";
import { parseBtf } from "../lib/btf/mod.ts";
import { fixupBtf } from "../lib/btf/elf_fixup.ts";
import { kernelBtf } from "../lib/elf/vmlinux.ts";
import { uprobeMultiLinks } from "../lib/object/features.ts";
import {
  internalMapName,
  loadObject,
  ObjectError,
  ObjectSpec,
  parseKernelConfig,
} from "../lib/elf/mod.ts";
import { BPF_FDS, fdsOpenedSince, kernelSkip, openFds, repoRoot } from "./util.ts";
import { liveProfile, reasonOf } from "../lib/profile/mod.ts";

/**
 * Skipped where a kfunc an object calls is absent (as the live profile answers): externs.bpf.o
 * calls bpf_task_acquire/release (Linux 6.2), module_kfunc.bpf.o nf_conntrack's bpf_ct_*.
 */
function kfuncSkip(
  names = ["bpf_task_acquire", "bpf_task_release"],
  object = "externs.bpf.o",
): string | false {
  if (kernelSkip) return kernelSkip;
  for (const name of names) {
    const a = liveProfile().kfunc(name);
    if (a.state === "no") return `${object} calls ${name}: ${a.reason}`;
  }
  return false;
}
import { ensureTracefs } from "./link_util.ts";

const dir = join(repoRoot, "tests", "fixtures", "objects");
const path = (name: string): string => join(dir, name);
const parse = (name: string): ObjectSpec =>
  ObjectSpec.parse(readFileSync(path(name)), { name: name.split(".")[0] });
const KEY0 = new Uint8Array(4);
const u64 = (b: Uint8Array, off: number): bigint =>
  new DataView(b.buffer, b.byteOffset).getBigUint64(off, true);
const u32 = (b: Uint8Array, off: number): number =>
  new DataView(b.buffer, b.byteOffset).getUint32(off, true);
/** Offset of a global variable in its section, from the object's symbol table. */
const varOff = (spec: ObjectSpec, name: string): number =>
  spec.elf.symbols.find((s) => s.name === name)!.value;
const PIN_PARENT = "/sys/fs/bpf";

/** nf_conntrack's kfuncs (6.0+) are in vmlinux, or nf_conntrack is a loaded module with BTF. */
function conntrackKfuncsSkip(): string | false {
  if (kernelSkip) return kernelSkip;
  if (kernelBtf().find("func", "bpf_xdp_ct_lookup") !== undefined) return false;
  if (existsSync("/sys/kernel/btf/nf_conntrack")) return false;
  return "no nf_conntrack kfuncs here (bpf_xdp_ct_lookup: 6.0+, built in or the module loaded)";
}

// ---- libbpf reference loader ----------------------------------------------------------------

function buildRefLoader(): { bin?: string; skip: string | false } {
  if (kernelSkip) return { skip: kernelSkip };
  if (!existsSync("/usr/include/bpf/libbpf.h")) {
    return { skip: "libbpf headers (/usr/include/bpf, libbpf-dev) are not installed" };
  }
  const out = join(mkdtempSync(join(tmpdir(), "tsbpf-ref-")), "ref_loader");
  const r = spawnSync("cc", [path("ref_loader.c"), "-lbpf", "-o", out], { encoding: "utf8" });
  if (r.error !== undefined || r.status !== 0) {
    return { skip: `cannot build the libbpf reference loader: ${r.error?.message ?? r.stderr}` };
  }
  return { bin: out, skip: false };
}
const ref = buildRefLoader();

interface RefResult {
  progs: Map<string, string[]>;
}

/** Hex of each instruction, ld_imm64 map references shown as the map's name instead of its id. */
function normalize(xlated: Uint8Array, mapName: (id: number) => string): string[] {
  const out: string[] = [];
  const hex = (b: Uint8Array): string =>
    [...b].map((x) => x.toString(16).padStart(2, "0")).join("");
  for (let at = 0; at < xlated.length; at += 8) {
    const insn = xlated.subarray(at, at + 8);
    const src = insn[1] >> 4;
    if (insn[0] === 0x18 && (src === 1 || src === 2)) {
      out.push(`${hex(insn.subarray(0, 4))} map:${mapName(u32(insn, 4))}`);
      out.push(hex(xlated.subarray(at + 8, at + 16)));
      at += 8;
      continue;
    }
    out.push(hex(insn));
  }
  return out;
}

function refLoad(object: string, off: string[] = [], usdtMulti = false): RefResult {
  const pinRoot = join(PIN_PARENT, `tsbpf_ref_${process.pid}`);
  mkdirSync(pinRoot, { recursive: true });
  try {
    const r = spawnSync(ref.bin!, [path(object), ...off.map((p) => `${p}=off`)], {
      encoding: "utf8",
      env: {
        ...process.env,
        REF_PIN_ROOT: pinRoot,
        ...(usdtMulti && uprobeMultiLinks() ? { REF_USDT_MULTI: "1" } : {}),
      },
    });
    assert.equal(r.status, 0, `reference loader failed on ${object}: ${r.stderr}`);
    const maps = new Map<number, string>();
    const progs = new Map<string, string[]>();
    const lines = r.stdout.trim().split("\n");
    for (const l of lines) {
      const [kind, a, b] = l.split(" ");
      if (kind === "map") maps.set(Number(a), b);
    }
    for (const l of lines) {
      const [kind, a, b] = l.split(" ");
      if (kind !== "prog") continue;
      const bytes = new Uint8Array((b ?? "").match(/../g)!.map((h) => parseInt(h, 16)));
      progs.set(a, normalize(bytes, (id) => maps.get(id) ?? `id${id}`));
    }
    return { progs };
  } finally {
    rmSync(pinRoot, { recursive: true, force: true });
  }
}

/** tsbpf loads `object`, libbpf loads it too: same programs, same xlated instructions. */
function assertSameAsLibbpf(object: string, off: string[] = [], usdtUprobeMulti = false): void {
  const expected = refLoad(object, off, usdtUprobeMulti);
  const spec = parse(object);
  for (const p of off) spec.program(p).autoload = false;
  const pinRoot = mkdtempSync(join(PIN_PARENT, `tsbpf_objects_${process.pid}_`));
  try {
    using obj = loadObject(spec, { pinRoot, usdtUprobeMulti });
    const names = new Map<number, string>();
    for (const m of Object.values(obj.maps)) {
      const info = m.info();
      names.set(info.id, info.name);
    }
    assert.deepEqual(Object.keys(obj.programs).sort(), [...expected.progs.keys()].sort());
    for (const [name, prog] of Object.entries(obj.programs)) {
      const xlated = readProgramInfoArrays(prog.fd, { xlated: true }).xlated!;
      const got = normalize(xlated, (id) => names.get(id) ?? `id${id}`);
      assert.deepEqual(got, expected.progs.get(name), `${object}: program ${name}`);
    }
  } finally {
    rmSync(pinRoot, { recursive: true, force: true });
  }
}

/**
 * core_matches.bpf.c's `bitfields` reads `sk_buff`'s `tstamp_type` (6.x) or, failing that,
 * `mono_delivery_time` (5.18): on a kernel whose BTF has neither it cannot load (libbpf's
 * neither), so it is left out there.
 */
const bitfieldsOff: string[] = (() => {
  if (kernelSkip || !existsSync("/sys/kernel/btf/vmlinux")) return [];
  const btf = kernelBtf();
  const skb = btf.find("struct", "sk_buff");
  if (skb === undefined) return [];
  const names = btf.fields(skb.id).map((f) => f.name);
  return names.includes("tstamp_type") || names.includes("mono_delivery_time") ? [] : ["bitfields"];
})();

for (
  const [object, off, skip = false] of [
    ["events.bpf.o", []],
    ["btf_sections.bpf.o", []],
    ["externs.bpf.o", []],
    ["maps_init.bpf.o", []],
    ["no_license.bpf.o", []],
    ["kconfig_unused.bpf.o", []],
    ["usdt_syscall.bpf.o", []],
    ["core_matches.bpf.o", bitfieldsOff],
    // ct_exists: libbpf before 1.2 leaves bpf_ksym_exists() of a module kfunc without its fd.
    ["module_kfunc.bpf.o", ["ct_exists"], conntrackKfuncsSkip()],
    ["freplace_target.bpf.o", []],
    ["kprobes.bpf.o", []],
    ["events.bpf.o", ["tp_getpid"]],
  ] as [string, string[], (string | false)?][]
) {
  test(`${object}${off.length ? ` without ${off}` : ""}: xlated instructions equal libbpf's`, {
    skip: ref.skip || skip ||
      (object === "externs.bpf.o"
        ? kfuncSkip()
        : object === "module_kfunc.bpf.o"
        ? kfuncSkip(["bpf_ct_release"], "module_kfunc.bpf.o")
        : false),
  }, () => {
    const before = openFds();
    assertSameAsLibbpf(object, off);
    assert.deepEqual(fdsOpenedSince(before, BPF_FDS), []);
  });
}

/** A loaded program's attach_btf_id is set, where the kernel reports it (6.0 on; else undefined). */
function assertAttachBtfId(id: number | undefined): void {
  if (id !== undefined) assert.ok(id > 0, `attach_btf_id ${id}`);
}

test("usdtUprobeMulti: usdt programs load as uprobe_multi, as libbpf 1.3+ loads them", {
  skip: ref.skip ||
    (uprobeMultiLinks() ? false : "the kernel has no uprobe_multi links that filter by process"),
}, () => {
  const before = openFds();
  assertSameAsLibbpf("usdt_syscall.bpf.o", [], true);
  assert.deepEqual(fdsOpenedSince(before, BPF_FDS), []);
});

/** Whether the running kernel's BTF `char` is signed (BTF_INT_SIGNED in its encoding). */
function kernelCharSigned(): boolean {
  const chars = kernelBtf().lookup("char", "int");
  assert.equal(chars.length, 1, "the kernel's BTF has one int named char");
  const c = chars[0];
  assert.ok(c.kind === "int" && c.size === 1);
  return (c.encoding & 1) !== 0;
}

test(
  "bpf_core_type_matches: subsets, pointers and prototypes match; other sizes, signs, members do not",
  {
    skip: kernelSkip,
  },
  () => {
    const spec = ObjectSpec.parse(readFileSync(path("core_matches.bpf.o")));
    for (const p of bitfieldsOff) spec.program(p).autoload = false;
    using obj = loadObject(spec);
    const got = obj.core.matches.filter((r) => r.kind === "TYPE_MATCHES").map((r) =>
      `${r.description.replace(/^TYPE_MATCHES /, "")}=${r.value}`
    );
    assert.deepEqual(got, [
      "struct task_struct___subset=1",
      "struct list_head___same=1",
      "enum bpf_map_type___subset=1",
      "struct file___ptr=1",
      "struct task_struct___wrong_size=0",
      "struct task_struct___wrong_sign=0",
      "struct task_struct___missing=0",
      "struct bpf_prog_info___array_len=0",
      "enum bpf_map_type___extra=0",
      "struct tsbpf_no_such_struct=0",
      "union bpf_attr___as_struct=0",
      "struct file_operations___subset=1",
      "struct file_operations___wrong_proto=0",
      "typedef u32=1",
      "struct bpf_prog_info___tag=1",
      // Integers match by size and sign. The local char (clang, x86) is signed; the kernel's is
      // unsigned from Linux 6.2 (-funsigned-char) and signed before: read it from the kernel.
      `struct task_struct___char=${kernelCharSigned() ? 1 : 0}`,
    ]);
  },
);

// ---- map fix-ups and names -------------------------------------------------------------------

test(
  "perf event array sized to the possible CPUs, ring buffer rounded to pages, libbpf names and flags",
  {
    skip: kernelSkip,
  },
  () => {
    using obj = loadObject(path("events.bpf.o"));
    assert.equal(obj.maps.events.info().maxEntries, possibleCpus());
    assert.equal(obj.spec.map("events").maxEntries, 0); // the spec keeps what the object says
    const rb = obj.maps.rb.info().maxEntries;
    assert.ok(rb >= 10000 && rb % 4096 === 0 && Number.isInteger(Math.log2(rb / 4096)), `${rb}`);
    assert.equal(obj.maps[".rodata"].info().name, "events.rodata");
    assert.equal(obj.maps[".bss"].info().name, "events.bss");
    const MMAPABLE = 1 << 10, RDONLY_PROG = 1 << 7;
    assert.equal(obj.maps[".bss"].info().flags, MMAPABLE);
    assert.equal(obj.maps[".rodata"].info().flags, MMAPABLE | RDONLY_PROG);
    assert.equal(obj.spec.license, "GPL");
  },
);

test("internalMapName follows libbpf's prefix rule", () => {
  assert.equal(internalMapName("bootstrap", ".rodata"), "bootstra.rodata");
  assert.equal(internalMapName("bootstrap", ".bss"), "bootstra.bss");
  assert.equal(internalMapName("a", ".data"), "a.data");
  assert.equal(internalMapName("execsnoop", ".rodata.str1.1"), ".rodata.str1.1");
  assert.equal(internalMapName("", ".kconfig"), ".kconfig");
  assert.equal(internalMapName("my-tool", ".data"), "my_tool.data");
});

// ---- mutable spec ----------------------------------------------------------------------------

test("a mutable spec: autoload, max_entries, variables typed from BTF, run and attach", {
  skip: kernelSkip,
}, () => {
  const before = openFds();
  {
    const spec = parse("events.bpf.o");
    assert.equal(spec.program("tp_getppid").autoload, false); // SEC("?…")
    assert.equal(spec.program("tp_getpid").autoload, true);
    spec.program("tp_getppid").autoload = true;
    spec.program("tp_getpid").autoload = false;
    spec.map("lens").maxEntries = 512;
    spec.setVariable("targ_min_len", 10);
    spec.setVariable("targ_ringbuf", true);
    spec.setVariable("targ_delta", -5);
    using obj = loadObject(spec);
    assert.deepEqual(Object.keys(obj.programs).sort(), ["count_packets", "tp_getppid"]);
    assert.equal(obj.maps.lens.info().maxEntries, 512);
    const ro = obj.maps[".rodata"].get(KEY0)!;
    assert.equal(u32(ro, varOff(spec, "targ_min_len")), 10);
    assert.equal(ro[varOff(spec, "targ_ringbuf")], 1);
    // skb->len of a test run excludes the 14-byte Ethernet header.
    assert.equal(obj.programs.count_packets.testRun({ data: new Uint8Array(20) }).retval, 0);
    assert.equal(obj.programs.count_packets.testRun({ data: new Uint8Array(64) }).retval, 1);
    const bss = obj.maps[".bss"].get(KEY0)!;
    assert.equal(u64(bss, varOff(spec, "seen")), 1n);
    assert.equal(u32(bss, varOff(spec, "last_len")), 45); // 50 + targ_delta
    // Auto-attach: the tracepoint program runs on getppid(2) (a child calls it; ours may cache).
    const undoMount = ensureTracefs();
    try {
      using links = obj.attach();
      assert.deepEqual(Object.keys(links.links), ["tp_getppid"]);
      assert.match(links.skipped.count_packets, /no automatic attachment/);
      spawnSync("sh", ["-c", "echo $PPID"]);
      const seen = u64(obj.maps[".bss"].get(KEY0)!, varOff(spec, "seen"));
      assert.ok(seen >= 101n, `seen ${seen}`);
    } finally {
      undoMount();
    }
  }
  assert.deepEqual(fdsOpenedSince(before, BPF_FDS), []);
});

test(
  "a global-data section resized before load keeps its initial values",
  { skip: kfuncSkip() },
  () => {
    const spec = parse("externs.bpf.o");
    const data = spec.map(".data");
    const before = data.valueSize;
    data.valueSize = before + 64;
    using obj = loadObject(spec);
    const value = obj.maps[".data"].get(KEY0)!;
    assert.equal(value.length, before + 64);
    assert.equal(u64(value, varOff(spec, "missing_addr")), 1n); // the initializer, kept
  },
);

test("setVariable: range and type checks name the variable", () => {
  const spec = parse("events.bpf.o");
  assert.throws(() => spec.setVariable("targ_min_len", -1), (e: unknown) => {
    assert.ok(e instanceof RangeError);
    assert.match(e.message, /variable targ_min_len \(\.rodata\): -1 is outside .*unsigned 4-byte/);
    return true;
  });
  assert.throws(() => spec.setVariable("targ_delta", 40000), /targ_delta.*signed 2-byte/);
  assert.throws(() => spec.setVariable("targ_min_len", 1.5), /not an integer/);
  assert.throws(() => spec.setVariable("targ_ringbuf", "yes"), ArgumentError);
  assert.throws(() => spec.setVariable("targ_min_len", new Uint8Array(3)), /3 bytes given/);
  assert.throws(() => spec.setVariable("nope", 1), (e: unknown) => {
    assert.ok(e instanceof ObjectError);
    assert.match(e.message, /variable nope: no such global variable/);
    return true;
  });
  assert.throws(() => spec.program("nope"), /no program named nope .*count_packets/);
  assert.throws(() => spec.map("nope"), /no map named nope .*events/);
  // Setting a variable does not write into the parsed file's bytes.
  const bytes = readFileSync(path("events.bpf.o"));
  const copy = bytes.slice();
  ObjectSpec.parse(bytes).setVariable("targ_min_len", 7);
  assert.deepEqual(bytes, copy);
  const ext = parse("externs.bpf.o");
  ext.setVariable("hostname", "abc");
  assert.throws(() => ext.setVariable("hostname", "a".repeat(16)), /char\[16\] holds 15/);
});

test("map reuse: a replacement map is used and left open", { skip: kernelSkip }, () => {
  using mine = BpfMap.create({ type: "hash", keySize: 4, valueSize: 8, maxEntries: 1 });
  {
    using obj = loadObject(path("events.bpf.o"), { mapReplacements: { lens: mine } });
    assert.equal(obj.maps.lens, mine);
    obj.programs.count_packets.testRun({ data: new Uint8Array(64) });
    assert.equal(u64(mine.get(new Uint8Array([50, 0, 0, 0]))!, 0), 1n); // 64 - 14 bytes
  }
  assert.equal(mine.closed, false);
  using wrong = BpfMap.create({ type: "hash", keySize: 4, valueSize: 4, maxEntries: 1 });
  assert.throws(
    () => loadObject(path("events.bpf.o"), { mapReplacements: { lens: wrong } }),
    /map lens \(section "\.maps"\): the replacement map is not compatible: value size 4, the spec 8/,
  );
});

// ---- BTF-attached sections -------------------------------------------------------------------

/** A kernel function with two or more parameters for fentry/fexit, from the kernel's BTF. */
function twoArgFunction(): string | undefined {
  const btf = kernelBtf();
  for (const name of ["do_unlinkat", "do_rmdir", "do_mkdirat", "vfs_unlink", "do_sys_openat2"]) {
    const f = btf.find("func", name);
    const proto = f === undefined ? undefined : btf.typeById(f.type);
    if (proto?.kind === "func_proto" && proto.params.length >= 2) return name;
  }
  return undefined;
}

test(
  "tp_btf and iter/task load with attach_btf_id and attach; trampolines say the kernel refuses them",
  {
    skip: kernelSkip,
  },
  () => {
    const before = openFds();
    {
      using obj = loadObject(path("btf_sections.bpf.o"));
      assert.deepEqual(Object.keys(obj.programs).sort(), ["dump_task", "on_switch"]);
      assertAttachBtfId(obj.programs.on_switch.info().attachBtfId);
      using links = obj.attach();
      const out = readIter(links.links.dump_task as IterLink);
      assert.match(out, new RegExp(`^${process.pid}$`, "m")); // this process's main thread
      const tasks = u64(obj.maps[".bss"].get(KEY0)!, varOff(obj.spec, "tasks"));
      assert.ok(tasks > 1n, `tasks ${tasks}`);
    }
    // do_unlinkat is gone from newer kernels: fentry/fexit attach to a function of two or more
    // parameters that this kernel's BTF has.
    const target = twoArgFunction();
    for (const p of ["enter_unlinkat", "exit_unlinkat", "modret_file_open", "lsm_file_open"]) {
      const spec = parse("btf_sections.bpf.o");
      spec.program(p).autoload = true;
      if (p.endsWith("_unlinkat")) {
        if (target === undefined) continue; // no candidate in this kernel's BTF
        spec.program(p).attachTarget = target;
      }
      try {
        loadObject(spec).close(); // a kernel that allows trampolines loads it
      } catch (e) {
        assert.ok(e instanceof ObjectError, String(e));
        assert.match(
          e.message,
          new RegExp(
            `^program ${p} \\(section "\\?[a-z_]+/[a-z_]+"\\): this kernel refuses BPF trampolines \\(EPERM\\)`,
          ),
        );
      }
    }
    const spec = parse("btf_sections.bpf.o");
    spec.program("missing_target").autoload = true;
    assert.throws(() => loadObject(spec), (e: unknown) => {
      assert.ok(e instanceof ObjectError);
      assert.match(
        e.message,
        /program missing_target .*has no typedef btf_trace_no_such_tracepoint_xyz/,
      );
      return true;
    });
    // A changed attach target is looked up instead.
    spec.program("missing_target").attachTarget = "sched_wakeup";
    spec.program("on_switch").autoload = false;
    spec.program("dump_task").autoload = false;
    {
      using obj = loadObject(spec);
      assertAttachBtfId(obj.programs.missing_target.info().attachBtfId);
    }
    assert.deepEqual(fdsOpenedSince(before, BPF_FDS), []);
  },
);

// ---- externs ---------------------------------------------------------------------------------

function kernelConfig(): Map<string, string> | undefined {
  const boot = `/boot/config-${release()}`;
  if (existsSync("/proc/config.gz")) {
    return parseKernelConfig(
      new TextDecoder().decode(gunzipSync(readFileSync("/proc/config.gz"))),
    ) as Map<
      string,
      string
    >;
  }
  if (existsSync(boot)) return parseKernelConfig(readFileSync(boot, "utf8")) as Map<string, string>;
  return undefined;
}

test("kconfig, ksym and kfunc externs resolve from the kernel's config, kallsyms and BTF", {
  skip: kfuncSkip(),
}, () => {
  const before = openFds();
  {
    using obj = loadObject(path("externs.bpf.o"));
    assert.equal(obj.btfError, undefined); // extern DATASECs no longer drop the BTF
    assert.equal(obj.maps[".kconfig"].info().name, "externs.kconfig");
    assert.equal(obj.programs.read_config.testRun({ data: new Uint8Array(64) }).retval, 1);
    const spec = obj.spec;
    const bss = obj.maps[".bss"].get(KEY0)!;
    const [maj, min, patch] = /^(\d+)\.(\d+)(?:\.(\d+))?/.exec(release())!.slice(1).map((x) =>
      Number(x ?? 0)
    );
    assert.equal(
      u64(bss, varOff(spec, "version")),
      BigInt((maj << 16) + (min << 8) + Math.min(patch, 255)),
    );
    const config = kernelConfig();
    if (config !== undefined) {
      assert.equal(u64(bss, varOff(spec, "hz")), BigInt(config.get("CONFIG_HZ") ?? 0));
      assert.equal(
        u64(bss, varOff(spec, "has_syscall")),
        config.get("CONFIG_BPF_SYSCALL") === "y" ? 1n : 0n,
      );
      const host = JSON.parse(config.get("CONFIG_DEFAULT_HOSTNAME") ?? '""') as string;
      const at = varOff(spec, "hostname");
      assert.equal(new TextDecoder().decode(bss.subarray(at, at + host.length)), host);
    }
    assert.equal(u64(bss, varOff(spec, "missing")), 0n); // weak, unknown: zero
    using _links = obj.attach();
    spawnSync("true"); // a context switch or two
    const kallsyms = readFileSync("/proc/kallsyms", "utf8");
    const sched = /^([0-9a-f]+) T schedule$/m.exec(kallsyms)![1];
    const data = obj.maps[".data"].get(KEY0)!;
    const after = obj.maps[".bss"].get(KEY0)!;
    assert.equal(u64(after, varOff(spec, "sched_addr")), BigInt("0x" + sched));
    assert.equal(u64(data, varOff(spec, "missing_addr")), 0n); // weak ksym absent: 0
    assert.ok(u64(after, varOff(spec, "acquired")) > 0n); // bpf_task_acquire/release kfuncs ran
  }
  // A typed per-CPU ksym needs the variable's address, which kallsyms lists only with
  // CONFIG_KALLSYMS_ALL: either it loads or the kernel's reason names the symbol.
  const spec = parse("externs.bpf.o");
  spec.program("percpu_ksym").autoload = true;
  try {
    loadObject(spec).close();
  } catch (e) {
    assert.match((e as Error).message, /kernel symbol 'runqueues'/);
  }
  assert.deepEqual(fdsOpenedSince(before, BPF_FDS), []);
});

test(
  "a kconfig extern only an off program uses keeps the object's BTF",
  { skip: kernelSkip },
  () => {
    using obj = loadObject(path("kconfig_unused.bpf.o"));
    assert.equal(obj.btfError, undefined);
    assert.deepEqual(Object.keys(obj.programs), ["plain"]);
    assert.ok(obj.programs.plain.info().btfId > 0); // loaded with the object's BTF
    assert.equal(obj.maps[".kconfig"].info().name, "kconfig.kconfig"); // 7 characters of the object name fit
    const spec = parse("kconfig_unused.bpf.o");
    spec.program("uses_config").autoload = true;
    using both = loadObject(spec);
    const config = kernelConfig();
    const hz = Number(config?.get("CONFIG_HZ") ?? 0);
    assert.equal(both.programs.uses_config.testRun({ data: new Uint8Array(20) }).retval, hz);
  },
);

test(
  "usdt.bpf.h and BPF_KSYSCALL: hidden helpers verified as static, LINUX_HAS_* as libbpf probes them",
  {
    skip: kernelSkip,
  },
  () => {
    const spec = parse("usdt_syscall.bpf.o");
    // __hidden global functions become static in the BTF given to the kernel, as libbpf does.
    assert.equal(spec.types!.find("func", "bpf_usdt_arg")!.linkage, 1);
    const fixed = parseBtf(fixupBtf(spec.btf!, spec.elf, spec.externs));
    assert.equal(fixed.find("func", "bpf_usdt_arg")!.linkage, 0);
    using obj = loadObject(spec);
    assert.equal(obj.btfError, undefined);
    assert.deepEqual(Object.keys(obj.programs).sort(), [
      "enter_kill",
      "handle_gc_end",
      "handle_gc_start",
    ]);
    const kernel = kernelBtf();
    const cookie = kernel.find("enum", "bpf_func_id")!.values.some((v) =>
      v.name === "BPF_FUNC_get_attach_cookie"
    );
    const kprobes = existsSync("/sys/bus/event_source/devices/kprobe/type") ||
      existsSync("/sys/kernel/tracing/kprobe_events") ||
      existsSync("/sys/kernel/debug/tracing/kprobe_events");
    const wrapper = kernel.find("func", "__x64_sys_bpf") !== undefined ||
      kernel.find("func", "__arm64_sys_bpf") !== undefined;
    const off = (n: string): number => spec.externs.find((e) => e.name === n)!.offset;
    const kc = obj.maps[".kconfig"].get(KEY0)!;
    assert.equal(kc[off("LINUX_HAS_BPF_COOKIE")], cookie ? 1 : 0);
    assert.equal(kc[off("LINUX_HAS_SYSCALL_WRAPPER")], wrapper && kprobes ? 1 : 0);
    assert.equal(obj.maps.__bpf_usdt_specs.info().name, "__bpf_usdt_spec"); // 15 characters kept
  },
);

test("kconfig values: parseKernelConfig reads set, unset and string options", () => {
  const c = parseKernelConfig('CONFIG_A=y\n# CONFIG_B is not set\nCONFIG_C=0x10\nCONFIG_D="x y"\n');
  assert.deepEqual([...c], [["CONFIG_A", "y"], ["CONFIG_B", "n"], ["CONFIG_C", "0x10"], [
    "CONFIG_D",
    '"x y"',
  ]]);
  const spec = parse("externs.bpf.o");
  const kc = spec.externs.filter((e) => e.kind === "kconfig").map((e) => [e.name, e.offset]);
  // libbpf's layout: by alignment, then size, then name.
  assert.deepEqual(kc.sort((a, b) => (a[1] as number) - (b[1] as number)), [
    ["CONFIG_HZ", 0],
    ["LINUX_KERNEL_VERSION", 4],
    ["CONFIG_BPF_SYSCALL", 8],
    ["CONFIG_TSBPF_NOT_A_REAL_OPTION", 9],
    ["CONFIG_DEFAULT_HOSTNAME", 10],
  ]);
  assert.deepEqual(
    spec.externs.filter((e) => e.kind === "kfunc").map((e) => [e.name, e.weak]),
    [["bpf_task_acquire", false], ["bpf_task_release", false], ["tsbpf_no_such_kfunc", true]],
  );
});

// ---- initial values, pinning, license, struct_ops -------------------------------------------

test("map-in-map and prog-array initial values; a map pinned by name is reused", {
  skip: kernelSkip,
}, () => {
  const before = openFds();
  const pinRoot = mkdtempSync(join(PIN_PARENT, `tsbpf_pins_${process.pid}_`));
  try {
    {
      using obj = loadObject(path("maps_init.bpf.o"), { pinRoot });
      const run = (len: number): number =>
        obj.programs.entry.testRun({ data: new Uint8Array(len) }).retval;
      // slot = skb->len & 3, and skb->len excludes the 14-byte Ethernet header.
      assert.equal(run(15), 10); // slot 1: tail_a
      assert.equal(run(17), 30); // slot 3: tail_b
      assert.equal(run(18), 99); // slot 0: no program
      assert.equal(run(16), 99); // slot 2: no program
      assert.equal(u64(obj.maps.inner_a.get(KEY0)!, 0), 1n); // outer[0] = inner_a
      assert.equal(u64(obj.maps.inner_b.get(KEY0)!, 0), 1n); // outer[2] = inner_b
      assert.ok(existsSync(join(pinRoot, "pinned_counts")));
      const id = obj.maps.pinned_counts.id;
      using again = loadObject(path("maps_init.bpf.o"), { pinRoot });
      assert.equal(again.maps.pinned_counts.id, id);
      assert.equal(u64(again.maps.pinned_counts.get(new Uint8Array([0, 0, 0, 0]))!, 0), 1n);
      const spec = parse("maps_init.bpf.o");
      spec.map("pinned_counts").maxEntries = 16;
      assert.throws(() => loadObject(spec, { pinRoot }), (e: unknown) => {
        assert.ok(e instanceof ObjectError);
        assert.match(
          e.message,
          /map pinned_counts .*pinned at .* is not compatible: max_entries 8, the spec 16/,
        );
        return true;
      });
    }
    assert.deepEqual(fdsOpenedSince(before, BPF_FDS), []);
  } finally {
    rmSync(pinRoot, { recursive: true, force: true });
  }
});

test("no license section: loads with an empty license; a GPL-only helper is refused saying why", {
  skip: kernelSkip,
}, () => {
  using obj = loadObject(path("no_license.bpf.o"));
  assert.equal(obj.spec.license, "");
  assert.equal(obj.programs.plain.testRun({ data: new Uint8Array(20) }).retval, 6); // 20 - 14
  assert.equal(obj.programs.plain.info().gplCompatible, false);
  const spec = parse("no_license.bpf.o");
  spec.program("gpl_only").autoload = true;
  assert.throws(() => loadObject(spec), (e: unknown) => {
    assert.ok(e instanceof ObjectError);
    assert.match(e.message, /program gpl_only .*GPL-only helper .*no "license" section/);
    return true;
  });
});

test(
  "struct_ops: programs load as STRUCT_OPS for their member, the .struct_ops.link map registers",
  {
    // A .struct_ops.link map registers through a struct_ops link (Linux 6.4).
    skip: kernelSkip || (reasonOf(liveProfile().feature("struct_ops_link")) ?? false),
  },
  () => {
    const before = openFds();
    {
      let obj;
      try {
        obj = loadObject(path("struct_ops.bpf.o"));
      } catch (e) {
        // A kernel without struct_ops trampolines says so, naming the program.
        assert.match((e as Error).message, /program tsbpf_\w+ \(section "struct_ops\/.*struct_ops/);
        return;
      }
      using o = obj;
      const spec = o.spec;
      assert.equal(spec.map("tsbpf_ca").structOps?.typeName, "tcp_congestion_ops");
      assert.deepEqual(spec.map("tsbpf_ca").structOps?.programs, {
        init: "tsbpf_init",
        ssthresh: "tsbpf_ssthresh",
        cong_avoid: "tsbpf_cong_avoid",
        undo_cwnd: "tsbpf_undo_cwnd",
      });
      assert.equal(o.programs.tsbpf_init.info().typeName, "struct_ops");
      assertAttachBtfId(o.programs.tsbpf_init.info().attachBtfId);
      const info = o.maps.tsbpf_ca.info();
      assert.equal(info.typeName, "struct_ops");
      assert.ok(info.btfVmlinuxValueTypeId > 0);
      using links = o.attach();
      assert.ok(links.links.tsbpf_ca !== undefined);
      const ca = readFileSync("/proc/sys/net/ipv4/tcp_available_congestion_control", "utf8");
      assert.match(ca, /\btsbpf_ca\b/);
    }
    assert.deepEqual(fdsOpenedSince(before, BPF_FDS), []);
  },
);

test("struct_ops of a struct the kernel does not know: an error naming the map and struct", {
  skip: kernelSkip,
}, () => {
  const before = openFds();
  assert.throws(() => loadObject(path("struct_ops_unknown.bpf.o")), (e: unknown) => {
    assert.ok(e instanceof ObjectError);
    assert.match(
      e.message,
      /^struct_ops map unknown_ops \(section "\.struct_ops"\): the kernel does not know struct_ops type struct tsbpf_unknown_ops/,
    );
    return true;
  });
  assert.deepEqual(fdsOpenedSince(before, BPF_FDS), []);
});
