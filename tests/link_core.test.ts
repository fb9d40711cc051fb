/** Link basics on raw tracepoints: counting, info, list, pin, fromId, update, detach, errors. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { LinkType } from "../types/link_type.ts";
import { asm } from "../lib/insn/mod.ts";
import { Program } from "../lib/program/program.ts";
import { sys } from "../lib/sys/mod.ts";
import { AttachError, attachRawTracepoint, Link } from "../lib/link/mod.ts";
import { kernelSkip } from "./util.ts";
import {
  assertClean,
  counterMap,
  counterProgram,
  getpidTimes,
  snapshot,
  untyped,
  waitLinkGone,
} from "./link_util.ts";

test("attachRawTracepoint counts system calls; info, list, fromId; close detaches", {
  skip: kernelSkip,
}, () => {
  const before = snapshot();
  const counts = counterMap();
  const prog = counterProgram("raw_tracepoint", counts, 0);
  let link: Link | undefined;
  const ids = { links: [] as number[], progs: [prog.id] };
  try {
    link = attachRawTracepoint(prog, "sys_enter");
    ids.links.push(link.id);
    getpidTimes(100);
    assert.ok(counts.get(0)! >= 100n, `counted ${counts.get(0)}`);
    const info = link.info();
    assert.equal(info.type, LinkType.RAW_TRACEPOINT);
    assert.equal(info.typeName, "raw_tracepoint");
    assert.equal(info.progId, prog.id);
    assert.equal(info.tracepointName, "sys_enter");
    assert.ok(Link.list().includes(link.id));
    {
      using again = Link.fromId(link.id);
      assert.equal(again.info().progId, prog.id);
    }
    link.close();
    const stopped = counts.get(0)!;
    getpidTimes(50);
    assert.equal(counts.get(0), stopped, "no counting after close");
  } finally {
    link?.close();
    prog.close();
    counts.close();
  }
  assertClean(before, ids);
});

test("Link pin, fromPin, unpin; update refused on a raw tracepoint link", {
  skip: kernelSkip,
}, () => {
  const before = snapshot();
  const path = `/sys/fs/bpf/tsbpf_link_${sys().syscall(sys().nr.getpid)}`;
  const a = counterMap();
  const b = counterMap();
  const progA = counterProgram("raw_tracepoint", a, 0);
  const progB = counterProgram("raw_tracepoint", b, 0);
  const ids = { links: [] as number[], progs: [progA.id, progB.id] };
  let link: Link | undefined;
  try {
    link = attachRawTracepoint(progA, "sys_enter");
    ids.links.push(link.id);
    link.pin(path);
    {
      using pinned = Link.fromPin(path);
      assert.equal(pinned.id, link.id);
    }
    assert.throws(() => Program.fromPin(path), TypeError);
    assert.equal(link.pinnedPath, path);
    link.unpin();
    assert.equal(link.pinnedPath, undefined);
    assert.ok(!existsSync(path));

    // Raw tracepoint links cannot swap their program.
    assert.throws(() => link!.update(progB), /BPF_LINK_UPDATE failed: EINVAL/);
    link.close();
    waitLinkGone(ids.links[0]);
    const stopped = a.get(0)!;
    getpidTimes(20);
    assert.equal(a.get(0), stopped);
  } finally {
    if (existsSync(path)) Link.unpin(path);
    link?.close();
    progA.close();
    progB.close();
    a.close();
    b.close();
  }
  assertClean(before, ids);
});

test("attachRawTracepoint errors: unknown tracepoint, wrong program type, closed program", {
  skip: kernelSkip,
}, () => {
  const before = snapshot();
  const counts = counterMap();
  const prog = counterProgram("raw_tracepoint", counts, 0);
  const xdp = Program.load({ type: "xdp", license: "GPL", insns: asm`r0 = 2\nexit` });
  try {
    assert.throws(() => attachRawTracepoint(prog, "no_such_tracepoint_xyz"), (e) => {
      assert.ok(e instanceof AttachError);
      assert.equal(e.errnoName, "ENOENT");
      assert.match(
        e.message,
        /^attachRawTracepoint\(no_such_tracepoint_xyz\): BPF_RAW_TRACEPOINT_OPEN failed: ENOENT/,
      );
      return true;
    });
    assert.throws(
      () => attachRawTracepoint(xdp, "sys_enter"),
      /needs a program of type raw_tracepoint or raw_tracepoint_writable, got xdp/,
    );
    assert.throws(() => attachRawTracepoint(untyped(xdp), "sys_enter"), (e) => {
      assert.ok(e instanceof AttachError);
      assert.equal(e.errnoName, "EINVAL");
      return true;
    });
    assert.throws(() => attachRawTracepoint(prog, "bad name"), RangeError);
  } finally {
    prog.close();
    xdp.close();
    counts.close();
  }
  assert.throws(() => attachRawTracepoint(prog, "sys_enter"), (e) => {
    assert.ok(e instanceof AttachError);
    assert.equal(e.errnoName, "EBADF");
    assert.match(e.message, /program is closed/);
    return true;
  });
  assert.throws(() => Link.fromId(0x7ffffff0), /ENOENT/);
  assertClean(before);
});
