/** BPF iterators: an iter/task program printing pids with bpf_seq_printf, read as text. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { AttachType } from "../types/attach_type.ts";
import { LinkType } from "../types/link_type.ts";
import { MapFlag } from "../types/flags.ts";
import { BpfMap } from "../lib/map/mod.ts";
import { u32 } from "../lib/codec/mod.ts";
import { asm } from "../lib/insn/mod.ts";
import { Program } from "../lib/program/program.ts";
import { sys } from "../lib/sys/mod.ts";
import {
  AttachError,
  attachIter,
  attachRawTracepoint,
  IterLink,
  Link,
  readIter,
} from "../lib/link/mod.ts";
import { kernelBtf } from "../lib/elf/vmlinux.ts";
import { kernelSkip } from "./util.ts";
import { assertClean, snapshot, untyped } from "./link_util.ts";

/** Loads an iter/task program printing "<pid> <tgid>\n" per task; returns it with its fmt map. */
function taskIterProgram(): { prog: Program; fmt: BpfMap<number, Uint8Array> } {
  const btf = kernelBtf();
  const fields = btf.fields(btf.get("struct", "task_struct").id);
  const offset = (name: string): number => fields.find((f) => f.name === name)!.bitOffset / 8;
  const text = new TextEncoder().encode("%d %d\n\0");
  // bpf_seq_printf takes its format from read-only memory: a frozen, RDONLY_PROG map value.
  const fmt = BpfMap.create({
    type: "array",
    key: u32,
    valueSize: text.length,
    maxEntries: 1,
    flags: MapFlag.RDONLY_PROG,
  });
  try {
    fmt.set(0, text);
    fmt.freeze();
    const prog = Program.load({
      type: "tracing",
      license: "GPL",
      expectedAttachType: AttachType.TRACE_ITER,
      attachBtfId: btf.get("func", "bpf_iter_task").id,
      insns: asm`
        r6 = *(u64 *)(r1 + 0)
        r7 = *(u64 *)(r1 + 8)
        if r7 == 0 goto out
        r8 = *(u32 *)(r7 + ${offset("pid")})
        *(u64 *)(r10 - 16) = r8
        r8 = *(u32 *)(r7 + ${offset("tgid")})
        *(u64 *)(r10 - 8) = r8
        r1 = *(u64 *)(r6 + 0)
        r2 = map_value[fd:${fmt.fd}]+0 ll
        r3 = ${text.length}
        r4 = r10
        r4 += -16
        r5 = 16
        call bpf_seq_printf
      out:
        r0 = 0
        exit`,
    });
    return { prog, fmt };
  } catch (e) {
    fmt.close();
    throw e;
  }
}

test("attachIter(iter/task) prints every task; this process's pid is among them", {
  skip: kernelSkip,
}, () => {
  const before = snapshot();
  const { prog, fmt } = taskIterProgram();
  const ids = { links: [] as number[], progs: [prog.id] };
  let link: IterLink | undefined;
  try {
    link = attachIter(prog);
    ids.links.push(link.id);
    const info = link.info();
    assert.equal(info.type, LinkType.ITER);
    assert.equal(info.iterTarget, "task");
    const text = readIter(link);
    const rows = text.trim().split("\n").map((l) => l.split(" ").map(Number));
    assert.ok(rows.length > 2, `only ${rows.length} tasks`);
    const pid = Number(sys().syscall(sys().nr.getpid));
    assert.ok(rows.some(([p, tgid]) => p === pid && tgid === pid), `pid ${pid} not listed`);
    assert.ok(rows.every(([p, tgid]) => Number.isInteger(p) && Number.isInteger(tgid)));
    // Each open() is a fresh pass; reading in small chunks gives the same kind of output.
    {
      using reader = link.open();
      const first = reader.read(64);
      assert.ok(first.length > 0 && first.length <= 64);
    }
  } finally {
    link?.close();
    prog.close();
    fmt.close();
  }
  assertClean(before, ids);
});

test("attachIter errors: a program that is not an iterator, a closed program", {
  skip: kernelSkip,
}, () => {
  const before = snapshot();
  const xdp = Program.load({ type: "xdp", license: "GPL", insns: asm`r0 = 2\nexit` });
  try {
    assert.throws(() => attachIter(xdp), /needs a program of type tracing, got xdp/);
    assert.throws(() => attachIter(untyped(xdp)), (e) => {
      assert.ok(e instanceof AttachError);
      assert.equal(e.errnoName, "EINVAL");
      assert.match(e.message, /^attachIter\(program \d+\): BPF_LINK_CREATE failed: EINVAL/);
      return true;
    });
  } finally {
    xdp.close();
  }
  assert.throws(() => attachIter(xdp), /EBADF.*program is closed/);
  assertClean(before);
});

test("a pinned iterator link is read through IterLink.fromPin; read(max) checks max", {
  skip: kernelSkip,
}, () => {
  const { prog, fmt } = taskIterProgram();
  const path = `/sys/fs/bpf/tsbpf_iter_${sys().syscall(sys().nr.getpid)}`;
  try {
    using link = attachIter(prog);
    link.pin(path);
    using again = IterLink.fromPin(path);
    assert.match(again.readText(), new RegExp(`^${sys().syscall(sys().nr.getpid)} `, "m"));
    using reader = again.open();
    for (const bad of [0, -1, 1.5]) assert.throws(() => reader.read(bad), RangeError);
    assert.ok(reader.read(4096).length > 0);
    Link.unpin(path);
    // A link of another kind is refused, and its fd closed.
    using raw = Program.load({ type: "raw_tracepoint", license: "GPL", insns: asm`r0 = 0\nexit` });
    using rawLink = attachRawTracepoint(raw, "sys_enter");
    rawLink.pin(path);
    assert.throws(() => IterLink.fromPin(path), /is a raw_tracepoint link, not an iterator link/);
  } finally {
    try {
      Link.unpin(path);
    } catch { /* already gone */ }
    prog.close();
    fmt.close();
  }
});
