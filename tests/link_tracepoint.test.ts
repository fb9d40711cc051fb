/** Tracepoints through perf events, and BTF tracepoints (tp_btf). */
import { test } from "node:test";
import assert from "node:assert/strict";
import { AttachType } from "../types/attach_type.ts";
import { LinkType } from "../types/link_type.ts";
import { asm } from "../lib/insn/mod.ts";
import { Program } from "../lib/program/program.ts";
import {
  attachBtfTracepoint,
  AttachError,
  attachTracepoint,
  btfTracepointId,
  type Link,
} from "../lib/link/mod.ts";
import { kernelSkip } from "./util.ts";
import {
  assertClean,
  counterMap,
  counterProgram,
  ensureTracefs,
  getpidTimes,
  kernelDescribesPerfLinks,
  perfAttachStep,
  perfLinkInfo,
  snapshot,
  untyped,
} from "./link_util.ts";

test(
  "attachTracepoint(syscalls/sys_enter_getpid) counts getpid calls",
  { skip: kernelSkip },
  () => {
    const undoMount = ensureTracefs();
    const before = snapshot();
    const counts = counterMap();
    const prog = counterProgram("tracepoint", counts, 0);
    const ids = { links: [] as number[], progs: [prog.id] };
    let link: Link | undefined;
    try {
      link = attachTracepoint(prog, "syscalls", "sys_enter_getpid");
      const info = perfLinkInfo(link, prog.id, ids);
      getpidTimes(200);
      assert.ok(counts.get(0)! >= 200n, `counted ${counts.get(0)}`);
      if (info === undefined) {
        // Attached with PERF_EVENT_IOC_SET_BPF: no bpf_link to describe.
      } else if (kernelDescribesPerfLinks) {
        assert.equal(info.perfEvent?.type, 5); // BPF_PERF_EVENT_TRACEPOINT
        assert.equal(info.perfEvent?.tracepointName, "sys_enter_getpid");
      } else {
        assert.equal(info.perfEvent, undefined, "this kernel's bpf_link_info has no perf_event");
      }
      link.close();
      const stopped = counts.get(0)!;
      getpidTimes(50);
      assert.equal(counts.get(0), stopped);
    } finally {
      link?.close();
      prog.close();
      counts.close();
      undoMount();
    }
    assertClean(before, ids);
  },
);

test("attachTracepoint errors: unknown tracepoint names the paths; wrong program type", {
  skip: kernelSkip,
}, () => {
  const undoMount = ensureTracefs();
  const before = snapshot();
  const xdp = Program.load({ type: "xdp", license: "GPL", insns: asm`r0 = 2\nexit` });
  const tp = Program.load({ type: "tracepoint", license: "GPL", insns: asm`r0 = 0\nexit` });
  try {
    assert.throws(() => attachTracepoint(tp, "syscalls", "sys_enter_nothing_here"), (e) => {
      assert.ok(e instanceof AttachError);
      assert.equal(e.errnoName, "ENOENT");
      assert.match(e.message, /^attachTracepoint\(syscalls\/sys_enter_nothing_here\)/);
      assert.match(
        e.message,
        /\/sys\/kernel\/tracing\/events\/syscalls\/sys_enter_nothing_here\/id/,
      );
      return true;
    });
    assert.throws(
      () => attachTracepoint(xdp, "syscalls", "sys_enter_getpid"),
      /needs a program of type tracepoint, got xdp/,
    );
    assert.throws(() => attachTracepoint(untyped(xdp), "syscalls", "sys_enter_getpid"), (e) => {
      assert.ok(e instanceof AttachError);
      assert.equal(e.errnoName, "EINVAL");
      assert.match(e.message, perfAttachStep());
      return true;
    });
    assert.throws(() => attachTracepoint(tp, "../etc", "x"), RangeError);
  } finally {
    xdp.close();
    tp.close();
    undoMount();
  }
  assertClean(before); // no perf event fd left behind either
});

test("attachBtfTracepoint: a tp_btf program on sys_enter counts system calls", {
  skip: kernelSkip,
}, () => {
  const before = snapshot();
  const counts = counterMap();
  const prog = counterProgram("tracing", counts, 0, {
    expectedAttachType: AttachType.TRACE_RAW_TP,
    attachBtfId: btfTracepointId("sys_enter"),
  });
  const ids = { links: [] as number[], progs: [prog.id] };
  let link: Link | undefined;
  try {
    link = attachBtfTracepoint(prog);
    ids.links.push(link.id);
    getpidTimes(100);
    assert.ok(counts.get(0)! >= 100n);
    const info = link.info();
    assert.equal(info.progId, prog.id);
    // Attached through BPF_RAW_TRACEPOINT_OPEN, a tp_btf program gets a raw tracepoint link.
    assert.equal(info.type, LinkType.RAW_TRACEPOINT);
    assert.equal(info.tracepointName, "sys_enter");
  } finally {
    link?.close();
    prog.close();
    counts.close();
  }
  assert.throws(() => btfTracepointId("no_such_tp_xyz"), /ENOENT.*btf_trace_no_such_tp_xyz/);
  assertClean(before, ids);
});
