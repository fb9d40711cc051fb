// attachTracing: fentry/fexit/fmod_ret/lsm/freplace through BPF_LINK_CREATE. Kernels that refuse
// trampolines get their refusal tested and the success tests skip with the kernel's answer.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { AttachType } from "../types/attach_type.ts";
import { BpfError } from "../lib/errors.ts";
import type { Program } from "../lib/program/program.ts";
import { attachTracing, kernelFunctionBtfId, TRACING_ATTACH_TYPES } from "../lib/link/mod.ts";
import { kernelSkip, unlessProfile } from "./util.ts";
import { counterMap, counterProgram } from "./link_util.ts";

/** Loads an fentry counter on do_sys_openat2, or returns the kernel's refusal. */
function loadFentry(map: ReturnType<typeof counterMap>): Program | BpfError {
  try {
    return counterProgram("tracing", map, 0, {
      expectedAttachType: AttachType.TRACE_FENTRY,
      attachBtfId: kernelFunctionBtfId("do_sys_openat2"),
    });
  } catch (e) {
    if (e instanceof BpfError) return e;
    throw e;
  }
}

/** Whether this kernel runs trampoline programs, as its profile answers (with the reason). */
const trampolineSkip = unlessProfile((p) => p.feature("trampolines"));

test("a kernel that refuses trampolines answers EPERM to a privileged process", {
  skip: kernelSkip || (trampolineSkip ? false : "this kernel allows trampolines"),
}, () => {
  using counts = counterMap();
  const p = loadFentry(counts);
  if (p instanceof BpfError) {
    // This build refuses already at BPF_PROG_LOAD.
    assert.equal(p.errnoName, "EPERM");
    assert.equal(p.command, "BPF_PROG_LOAD");
  } else {
    try {
      assert.throws(() => attachTracing(p, { kind: "fentry" }), /refuses BPF trampolines/);
    } finally {
      p.close();
    }
  }
});

test("attachTracing(fentry) counts calls of do_sys_openat2, with info()", {
  skip: trampolineSkip,
}, () => {
  using counts = counterMap();
  using prog = loadFentry(counts) as Program;
  using link = attachTracing(prog, { kind: "fentry" });
  assert.equal(link.info().typeName, "tracing");
  for (let i = 0; i < 3; i++) readFileSync("/proc/self/stat");
  assert.ok(counts.get(0)! >= 3n);
});

test("attachTracing refuses the wrong program type and unknown kinds", {
  skip: kernelSkip,
}, () => {
  using counts = counterMap();
  using xdp = counterProgram("xdp", counts, 2);
  assert.throws(() => attachTracing(xdp, { kind: "fentry" }), /needs a program of type tracing/);
  assert.throws(() => attachTracing(xdp, { kind: "freplace" }), /needs a program of type ext/);
  assert.throws(() => attachTracing(xdp, { kind: "nope" as never }), /unknown kind "nope"/);
  assert.equal(TRACING_ATTACH_TYPES.fexit, AttachType.TRACE_FEXIT);
  assert.throws(
    () => kernelFunctionBtfId("no_such_kernel_fn_xyz"),
    /no function no_such_kernel_fn_xyz/,
  );
});
