import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import process from "node:process";
import {
  BpfError,
  BpfMap,
  ClosedError,
  type Insn,
  Link,
  Program,
  registerProgType,
  resolveAttachType,
  VerifierError,
} from "../mod.ts";
import { getProgType, unregisterProgType } from "../lib/progtype/mod.ts";
import { sys } from "../lib/sys/mod.ts";
import { kernelBtf } from "../lib/elf/vmlinux.ts";
import { BPF_FDS, fdinfo, fdsOpenedSince, forceGc, kernelSkip, openFds, repoRoot } from "./util.ts";

const MOV_R0_0: Insn = { code: 0xb7, dst: 0, src: 0, off: 0, imm: 0 };
const EXIT: Insn = { code: 0x95, dst: 0, src: 0, off: 0, imm: 0 };
const RETURN_0 = [MOV_R0_0, EXIT];

/** Whether the running kernel's `struct bpf_prog_info` has `verified_insns` (from its BTF). */
const kernelCountsVerifiedInsns: boolean | undefined = (() => {
  if (kernelSkip || !existsSync("/sys/kernel/btf/vmlinux")) return undefined;
  const btf = kernelBtf();
  const info = btf.find("struct", "bpf_prog_info");
  return info !== undefined && btf.fields(info.id).some((f) => f.name === "verified_insns");
})();

const TYPES = [
  "socket_filter",
  "xdp",
  "sched_cls",
  "tracepoint",
  "cgroup_skb",
  "raw_tracepoint",
  "sched_act",
  "perf_event",
  "cgroup_sock",
  "sk_msg",
] as const;

for (const type of TYPES) {
  test(`load and unload a ${type} program`, { skip: kernelSkip }, () => {
    const prog = Program.load({
      type,
      insns: RETURN_0,
      license: "GPL",
      name: `t_${type}`.slice(0, 15),
    });
    try {
      const info = prog.info();
      assert.equal(info.typeName, type);
      assert.equal(prog.typeName, type);
      assert.ok(prog.id > 0);
      assert.match(prog.tag, /^[0-9a-f]{16}$/);
      assert.equal(prog.name, `t_${type}`.slice(0, 15));
      // A kernel without the field reports nothing, rather than a made-up 0.
      if (kernelCountsVerifiedInsns === false) assert.equal(info.verifiedInsns, undefined);
      else assert.equal(info.verifiedInsns, 2);
      assert.equal(info.xlatedProgLen > 0, true);
      // The kernel's own view through /proc agrees with info().
      const fi = fdinfo(prog.fd);
      assert.equal(Number(fi.prog_type), info.type);
      assert.equal(fi.prog_tag, info.tag);
      assert.equal(Number(fi.prog_id), info.id);
      assert.ok(Program.list().includes(prog.id));
    } finally {
      const id = prog.id;
      prog.close();
      assert.ok(!Program.list().includes(id), "the id is gone after close()");
    }
  });
}

test("raw bytes as llvm emits them load like Insn objects", { skip: kernelSkip }, () => {
  const bytes = new Uint8Array([0xb7, 0, 0, 0, 7, 0, 0, 0, 0x95, 0, 0, 0, 0, 0, 0, 0]);
  using prog = Program.load({ type: 6, insns: bytes, license: "GPL" });
  assert.equal(prog.typeName, "xdp");
  assert.equal(prog.testRun({ data: new Uint8Array(64) }).retval, 7);
});

test("close() is idempotent and the handle refuses use afterwards", { skip: kernelSkip }, () => {
  const prog = Program.load({ type: "socket_filter", insns: RETURN_0, license: "GPL" });
  const fd = prog.fd;
  prog.close();
  prog.close();
  assert.equal(prog.closed, true);
  assert.throws(() => prog.fd, (e: unknown) => {
    assert.ok(e instanceof ClosedError, "every closed handle throws ClosedError");
    assert.equal(e.kind, "program");
    assert.match(e.message, /program is closed/);
    return true;
  });
  // The fd number is free again: a new program may get it, and the old handle must not close it.
  const again = Program.load({ type: "socket_filter", insns: RETURN_0, license: "GPL" });
  try {
    prog.close();
    assert.equal(again.info().type, 1, `fd ${again.fd} (was ${fd}) still open`);
  } finally {
    again.close();
  }
});

test("`using` closes the program at the end of the block", { skip: kernelSkip }, () => {
  let id = 0;
  {
    using prog = Program.load({ type: "xdp", insns: RETURN_0, license: "GPL" });
    id = prog.id;
    assert.ok(Program.list().includes(id));
  }
  assert.ok(!Program.list().includes(id));
});

test("Program.fromId opens a loaded program and sees the same info", { skip: kernelSkip }, () => {
  using prog = Program.load({
    type: "sched_cls",
    insns: RETURN_0,
    license: "GPL",
    name: "from_id",
  });
  using other = Program.fromId(prog.id);
  assert.notEqual(other.fd, prog.fd);
  assert.equal(other.tag, prog.tag);
  assert.equal(other.name, "from_id");
  assert.equal(other.typeName, "sched_cls");
  assert.throws(
    () => Program.fromId(0x7fffffff),
    (e: unknown) => e instanceof BpfError && e.errnoName === "ENOENT",
  );
});

test("a rejected program surfaces the verifier log", { skip: kernelSkip }, () => {
  // `exit` alone returns r0 before anything wrote it.
  assert.throws(
    () => Program.load({ type: "socket_filter", insns: [EXIT], license: "GPL", check: false }),
    (e: unknown) => {
      assert.ok(e instanceof VerifierError);
      assert.equal(e.errnoName, "EACCES");
      // The classic wording ("R0 !read_ok"), or 7.x's structured report ("R0 is not readable").
      const said = /R0 !read_ok|R0 is not readable/.exec(e.log);
      assert.ok(said !== null, `the log names neither wording: ${e.log}`);
      assert.ok(e.message.includes(said[0]), "the message shows the kernel's reason");
      assert.equal(e.insn, 0, "the refused instruction is the exit");
      assert.ok(e.tail.length > 0);
      return true;
    },
  );
});

test("logLevel keeps the verifier log of a successful load", { skip: kernelSkip }, () => {
  using prog = Program.load({
    type: "socket_filter",
    insns: RETURN_0,
    license: "GPL",
    logLevel: 1 | 4,
  });
  assert.match(prog.verifierLog ?? "", /processed 2 insns/);
});

test("a log that does not fit grows until it does", { skip: kernelSkip }, () => {
  // 3000 instructions of verbose log do not fit in 1 KiB.
  const insns: Insn[] = [MOV_R0_0];
  for (let i = 0; i < 3000; i++) insns.push({ code: 0x07, dst: 0, src: 0, off: 0, imm: 1 });
  insns.push(EXIT);
  using prog = Program.load({
    type: "socket_filter",
    insns,
    license: "GPL",
    logLevel: 2,
    logSize: 1024,
  });
  const log = prog.verifierLog ?? "";
  assert.ok(log.length > 64 * 1024, `log is ${log.length} bytes`);
  assert.match(log, /processed 3002 insns/);
});

test("without CAP_BPF and CAP_SYS_ADMIN the load fails with EPERM and says why", {
  skip: kernelSkip,
}, () => {
  const setpriv = ["/usr/bin/setpriv", "/bin/setpriv"].find((p) => existsSync(p));
  assert.ok(setpriv, "setpriv (util-linux) is needed to drop capabilities");
  const g = globalThis as { Bun?: unknown; Deno?: { execPath(): string } };
  const child = `${repoRoot}/tests/fixtures/eperm_child.ts`;
  const runtime = g.Bun !== undefined
    ? [(globalThis as unknown as { process: { execPath: string } }).process.execPath, child]
    : [g.Deno!.execPath(), "run", "--allow-all", "--no-check", child];
  const r = spawnSync(setpriv, [
    "--bounding-set=-all",
    "--inh-caps=-all",
    "--ambient-caps=-all",
    "--",
    ...runtime,
  ], { encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout.trim().split("\n").pop()!);
  assert.equal(out.name, "BpfError");
  assert.equal(out.errnoName, "EPERM");
  assert.match(out.message, /BPF_PROG_LOAD failed: EPERM/);
  assert.match(out.message, /CAP_BPF and CAP_SYS_ADMIN/);
  assert.match(out.message, /it has none of them/, "says what the process lacks");
});

test(
  "10,000 load/close cycles leave no fd open and the program list unchanged",
  { skip: kernelSkip },
  () => {
    const fdsBefore = openFds();
    // Ids of a sample of the programs: other processes load programs concurrently, so only
    // this test's own are checked.
    const sample: number[] = [];
    for (let i = 0; i < 10_000; i++) {
      const p = Program.load({ type: "socket_filter", insns: RETURN_0, license: "GPL" });
      if (i % 1000 === 0) sample.push(p.id);
      p.close();
    }
    assert.deepEqual(fdsOpenedSince(fdsBefore, BPF_FDS), []);
    // The runtime's own fds may close meanwhile, but 10,000 cycles must not open any.
    assert.deepEqual(fdsOpenedSince(fdsBefore), []);
    const live = new Set(Program.list());
    assert.deepEqual(sample.filter((id) => live.has(id)), [], "no program left behind");
  },
);

test("a leaked program is unloaded after garbage collection", { skip: kernelSkip }, async () => {
  const leak = (): number => {
    const p = Program.load({
      type: "socket_filter",
      insns: RETURN_0,
      license: "GPL",
      name: "leaked",
    });
    return p.id;
  };
  const id = leak();
  assert.ok(Program.list().includes(id));
  for (let i = 0; i < 50 && Program.list().includes(id); i++) {
    assert.ok(forceGc(), "the runtime exposes a GC (deno: --v8-flags=--expose-gc)");
    await new Promise((r) => setTimeout(r, 10));
  }
  assert.ok(!Program.list().includes(id), "finalizer closed the leaked fd");
});

test("bad input is refused before any system call", () => {
  const cases: [string, () => unknown, RegExp][] = [
    ["empty", () => Program.load({ type: "xdp", insns: [], license: "GPL" }), /no instructions/],
    [
      "too many",
      () => Program.load({ type: "xdp", insns: new Uint8Array(8 * 1_000_001), license: "GPL" }),
      /at most 1000000/,
    ],
    [
      "odd bytes",
      () => Program.load({ type: "xdp", insns: new Uint8Array(12), license: "GPL" }),
      /multiple of 8/,
    ],
    [
      "long license",
      () => Program.load({ type: "xdp", insns: RETURN_0, license: "G".repeat(128) }),
      /at most 127/,
    ],
    [
      "NUL license",
      () => Program.load({ type: "xdp", insns: RETURN_0, license: "GPL\0x" }),
      /NUL byte at position 3/,
    ],
    [
      "unknown type number",
      () => Program.load({ type: 999, insns: RETURN_0, license: "GPL" }),
      /does not exist/,
    ],
    [
      "unknown type name",
      () => Program.load({ type: "nope", insns: RETURN_0, license: "GPL" }),
      /unknown program type "nope"/,
    ],
    [
      "half ld_imm64",
      () =>
        Program.load({
          type: "xdp",
          insns: [{ code: 0x18, dst: 0, src: 0, off: 0, imm: 1 }, EXIT],
          license: "GPL",
          check: false,
        }),
      /instruction 0: ld_imm64 is missing its second half/,
    ],
    [
      "ld_imm64 last",
      () =>
        Program.load({
          type: "xdp",
          insns: [MOV_R0_0, { code: 0x18, dst: 0, src: 0, off: 0, imm: 1 }],
          license: "GPL",
          check: false,
        }),
      /instruction 1: ld_imm64 is missing its second half/,
    ],
    [
      "long name",
      () => Program.load({ type: "xdp", insns: RETURN_0, license: "GPL", name: "a".repeat(16) }),
      /at most 15/,
    ],
    [
      "bad name",
      () => Program.load({ type: "xdp", insns: RETURN_0, license: "GPL", name: "my-prog" }),
      /"-" at position 2/,
    ],
    [
      "bad logLevel",
      () => Program.load({ type: "xdp", insns: RETURN_0, license: "GPL", logLevel: 99 }),
      /logLevel 99/,
    ],
  ];
  // Count the system calls made meanwhile: there must be none. (Where no backend can be opened,
  // nothing can reach the kernel anyway.)
  let backend: ReturnType<typeof sys> | undefined;
  try {
    backend = sys();
  } catch { /* no FFI here */ }
  const realBpf = backend?.bpf;
  let calls = 0;
  if (backend && realBpf) {
    (backend as { bpf: typeof realBpf }).bpf = (...args: Parameters<typeof realBpf>) => {
      calls++;
      return realBpf.apply(backend, args);
    };
  }
  try {
    for (const [what, fn, re] of cases) {
      assert.throws(fn, (e: unknown) => {
        assert.ok(e instanceof RangeError || e instanceof TypeError, `${what}: ${e}`);
        assert.match((e as Error).message, re, what);
        return true;
      });
    }
  } finally {
    if (backend && realBpf) (backend as { bpf: typeof realBpf }).bpf = realBpf;
  }
  assert.equal(calls, 0, "no bpf() call was made for bad input");
});

test("xlated(), jited() and dump() show what the kernel made of the program", {
  skip: kernelSkip,
}, () => {
  using prog = Program.load({
    type: "socket_filter",
    insns: [{ code: 0xb7, dst: 0, src: 0, off: 0, imm: 7 }, EXIT],
    license: "GPL",
  });
  const xlated = prog.xlated();
  assert.deepEqual(xlated, [{ code: 0xb7, dst: 0, src: 0, off: 0, imm: 7 }, EXIT]);
  assert.ok(prog.jited().byteLength > 0, "the JIT is on in this kernel");
  assert.equal(prog.jited().byteLength, prog.info().jitedProgLen);
  assert.equal(prog.dump(), "   0: r0 = 7\n   1: exit");
  assert.equal(prog.dump({ syntax: "classic" }), "   0: mov %r0, 7\n   1: exit");
});

test("pin, fromPin and unpin a program; a pin of another kind is refused", {
  skip: kernelSkip,
}, () => {
  const path = `/sys/fs/bpf/tsbpf_test_prog_${process.pid}`;
  const mapPath = `${path}_map`;
  const before = openFds();
  const prog = Program.load({ type: "xdp", insns: RETURN_0, license: "GPL", name: "pinned" });
  const map = BpfMap.create({ type: "array", keySize: 4, valueSize: 4, maxEntries: 1 });
  try {
    prog.pin(path);
    map.pin(mapPath);
    const id = prog.id;
    prog.close();
    assert.ok(Program.list().includes(id), "the pin keeps the program loaded");
    using again = Program.fromPin(path);
    assert.equal(again.id, id);
    assert.equal(again.name, "pinned");
    assert.throws(() => Program.fromPin(mapPath), /is a BPF map, not a program/);
    assert.throws(() => BpfMap.fromPin(path), /is a BPF prog, not a map/);
    assert.throws(
      () => Program.fromPin(`${path}_absent`),
      (e: unknown) => e instanceof BpfError && e.errnoName === "ENOENT",
    );
    assert.throws(
      () => prog.pin("/tmp/not_bpffs"),
      /program is closed/,
    );
    assert.throws(
      () => again.pin("/tmp/tsbpf_not_bpffs"),
      (e: unknown) => e instanceof BpfError && /not inside a bpf filesystem/.test(e.message),
    );
    Program.unpin(path);
    again.close();
    // The kernel may drop the last reference after a grace period (the bpffs inode's release):
    // poll, up to a bound far beyond it.
    const sleeper = new Int32Array(new SharedArrayBuffer(4));
    for (let i = 0; i < 500 && Program.list().includes(id); i++) Atomics.wait(sleeper, 0, 0, 20);
    assert.ok(!Program.list().includes(id), "unpinned and closed: unloaded");
  } finally {
    prog.close();
    map.close();
    for (const p of [path, mapPath]) {
      try {
        Program.unpin(p);
      } catch { /* already gone */ }
    }
  }
  assert.deepEqual(fdsOpenedSince(before, BPF_FDS), [], "no fd left open by the refused opens");
});

test("a type the registry lacks cannot be loaded, checked or not, before any system call", () => {
  const xdp = getProgType("xdp")!;
  assert.ok(unregisterProgType("xdp"));
  try {
    for (const check of [true, false]) {
      assert.throws(
        () => Program.load({ type: "xdp", insns: RETURN_0, license: "GPL", check }),
        (e: unknown) =>
          e instanceof RangeError &&
          /xdp \(6\) is not in the program-type registry/.test(e.message),
      );
    }
  } finally {
    registerProgType(xdp);
  }
  assert.equal(getProgType(6), xdp);
});

test("attach types are accepted by name, and unknown names are refused clearly", {
  skip: kernelSkip,
}, () => {
  assert.equal(resolveAttachType("cgroup_inet_egress"), 1);
  assert.equal(resolveAttachType("CGROUP_INET_EGRESS"), 1);
  assert.throws(() => resolveAttachType("cgroup_nowhere"), /unknown attach type "cgroup_nowhere"/);
  assert.throws(() => resolveAttachType(10_000), /does not exist in this kernel ABI/);
  using prog = Program.load({
    type: "cgroup_skb",
    expectedAttachType: "cgroup_inet_egress",
    insns: [{ code: 0xb7, dst: 0, src: 0, off: 0, imm: 1 }, EXIT],
    license: "GPL",
  });
  assert.equal(prog.typeName, "cgroup_skb");
  assert.throws(
    () =>
      Program.load({
        type: "cgroup_skb",
        expectedAttachType: "nope",
        insns: RETURN_0,
        license: "GPL",
      }),
    RangeError,
  );
});

test("a program unpins what it pinned; pinnedPath tracks it", { skip: kernelSkip }, () => {
  const path = `/sys/fs/bpf/tsbpf_test_unpin_${process.pid}`;
  using prog = Program.load({ type: "xdp", insns: RETURN_0, license: "GPL" });
  assert.throws(() => prog.unpin(), /was not pinned by this handle/);
  prog.pin(path);
  try {
    assert.equal(prog.pinnedPath, path);
    prog.unpin();
    assert.equal(prog.pinnedPath, undefined);
    assert.throws(() => Program.fromPin(path), /ENOENT/);
  } finally {
    try {
      Program.unpin(path);
    } catch { /* already gone */ }
  }
});

test("handles print their id, type and name", { skip: kernelSkip }, () => {
  const prog = Program.load({ type: "xdp", insns: RETURN_0, license: "GPL", name: "shown" });
  const map = BpfMap.create({ type: "array", keySize: 4, valueSize: 8, maxEntries: 2, name: "m" });
  try {
    assert.equal(
      String(prog),
      `Program { id: ${prog.id}, type: "xdp", name: "shown", fd: ${prog.fd} }`,
    );
    assert.match(
      String(map),
      /^BpfMap \{ id: \d+, type: "array", name: "m", keySize: 4, valueSize: 8/,
    );
    const inspect = (prog as unknown as Record<symbol, () => string>)[
      Symbol.for("nodejs.util.inspect.custom")
    ];
    assert.equal(inspect.call(prog), String(prog));
  } finally {
    prog.close();
    map.close();
  }
  assert.equal(String(prog), "Program { closed }");
  assert.equal(String(map), "BpfMap { closed }");
});

test("fromId refuses ids that cannot exist the same way for every kind", () => {
  for (const open of [Program.fromId, BpfMap.fromId, Link.fromId]) {
    for (const bad of [0, -1, 1.5, 2 ** 32]) {
      assert.throws(() => open(bad), /id must be a positive 32-bit integer/);
    }
  }
});
