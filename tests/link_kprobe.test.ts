// Kprobes, multi-kprobes and multi-uprobes against the kernel. Kernels built without kprobes
// (CONFIG_KPROBES off) or fprobes (CONFIG_FPROBE off) get the error path tested, and the success
// tests skip with the kernel's answer.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { AttachType } from "../types/attach_type.ts";
import { asm } from "../lib/insn/mod.ts";
import { Program } from "../lib/program/program.ts";
import { BpfMap } from "../lib/map/mod.ts";
import { u32, u64 } from "../lib/codec/mod.ts";
import { sys } from "../lib/sys/mod.ts";
import {
  AttachError,
  attachKprobe,
  attachKprobeMulti,
  attachUprobeMulti,
  KPROBES_OFF,
  kprobesUnavailable,
} from "../lib/link/mod.ts";
import { fdsOpenedSince, kernelSkip, openFds } from "./util.ts";
import { liveProfile, reasonOf } from "../lib/profile/mod.ts";
import { LinkType } from "../types/link_type.ts";
import { counterMap, counterProgram, getpidTimes, perfLinkInfo } from "./link_util.ts";

// As the running kernel's profile answers (the library's own check must agree: see below).
const noKprobes = kernelSkip ? undefined : reasonOf(liveProfile().feature("kprobes"));

/** The kernel's answer to a multi-kprobe attach, probed once: undefined when it works. */
function probeKprobeMulti(): AttachError | undefined {
  if (kernelSkip) return undefined;
  using counts = counterMap();
  using prog = counterProgram("kprobe", counts, 0, {
    expectedAttachType: AttachType.TRACE_KPROBE_MULTI,
  });
  try {
    attachKprobeMulti(prog, { symbols: ["do_sys_openat2"] }).close();
    return undefined;
  } catch (e) {
    if (e instanceof AttachError) return e;
    throw e;
  }
}
const multiError = probeKprobeMulti();

/** Counts into slot `bpf_get_attach_cookie()` of `map`. */
function cookieCounter(map: BpfMap<number, bigint>, expectedAttachType: number): Program {
  return Program.load({
    type: "kprobe",
    license: "GPL",
    expectedAttachType,
    insns: asm`
      call bpf_get_attach_cookie
      *(u32 *)(r10 - 4) = r0
      r1 = map[fd:${map.fd}] ll
      r2 = r10
      r2 += -4
      call bpf_map_lookup_elem
      if r0 == 0 goto out
      r1 = 1
      lock *(u64 *)(r0 + 0) += r1
    out:
      r0 = 0
      exit`,
  });
}

test("the profile and attachKprobe agree on whether this kernel has kprobes", {
  skip: kernelSkip,
}, () => {
  assert.equal(noKprobes === undefined, kprobesUnavailable() === undefined, String(noKprobes));
});

test("attachKprobe on a kernel without kprobes says CONFIG_KPROBES is off", {
  skip: kernelSkip ||
    (noKprobes ? false : "this kernel has kprobes: the error is for kernels without"),
}, () => {
  using counts = counterMap();
  using prog = counterProgram("kprobe", counts, 0);
  for (const options of [{}, { retprobe: true, maxactive: 8 }]) {
    assert.throws(() => attachKprobe(prog, "do_sys_openat2", options), (e: unknown) => {
      assert.ok(e instanceof AttachError);
      assert.equal(e.errnoName, "EOPNOTSUPP");
      assert.ok(e.message.includes("CONFIG_KPROBES is off"), e.message);
      assert.ok(e.message.includes(KPROBES_OFF));
      return true;
    });
  }
});

test("attachKprobe: a kprobe and a kretprobe count calls of do_sys_openat2", {
  skip: kernelSkip || noKprobes || false,
}, () => {
  using counts = counterMap();
  using prog = counterProgram("kprobe", counts, 0);
  for (const options of [{}, { retprobe: true }, { retprobe: true, maxactive: 16 }]) {
    const before = counts.get(0)!;
    using link = attachKprobe(prog, "do_sys_openat2", options);
    const info = perfLinkInfo(link, prog.id, { links: [] });
    if (info !== undefined) assert.equal(info.typeName, "perf_event");
    for (let i = 0; i < 5; i++) readFileSync("/proc/self/stat");
    assert.ok(counts.get(0)! - before >= 5n);
  }
});

test("attachKprobe refuses bad arguments before the kernel", { skip: kernelSkip }, () => {
  using counts = counterMap();
  using prog = counterProgram("kprobe", counts, 0);
  assert.throws(() => attachKprobe(prog, "not a symbol"), /not a kernel symbol name/);
  assert.throws(() => attachKprobe(prog, "f", { retprobe: true, offset: 4 }), /takes no offset/);
  assert.throws(() => attachKprobe(prog, "f", { maxactive: 4 }), /for kretprobes only/);
});

test("attachKprobeMulti: the kernel's refusal names the missing fprobe support", {
  skip: kernelSkip || (multiError ? false : "this kernel has multi-kprobes"),
}, () => {
  assert.equal(multiError!.errnoName, "EOPNOTSUPP");
  assert.match(multiError!.message, /attachKprobeMulti\(do_sys_openat2\): BPF_LINK_CREATE failed/);
  // A kernel before multi-kprobes is refused with its profile's answer, before the kernel is asked.
  const links = liveProfile().linkType(LinkType.KPROBE_MULTI);
  if (links.state === "no") assert.ok(multiError!.message.includes(links.reason));
  else assert.match(multiError!.message, /no multi-kprobes \(built without CONFIG_FPROBE\)/);
});

test("attachKprobeMulti: symbols and patterns with cookies count calls", {
  skip: kernelSkip ||
    (multiError ? `the kernel refuses multi-kprobes: ${multiError.message}` : false),
}, () => {
  using counts = BpfMap.create({ type: "array", key: u32, value: u64, maxEntries: 4 });
  using prog = cookieCounter(counts, AttachType.TRACE_KPROBE_MULTI);
  {
    using _l = attachKprobeMulti(prog, { symbols: ["do_sys_openat2"], cookies: [1n] });
    for (let i = 0; i < 5; i++) readFileSync("/proc/self/stat");
    assert.ok(counts.get(1)! >= 5n);
  }
  using _p = attachKprobeMulti(prog, { pattern: "do_sys_openat*", cookies: undefined });
  const before = counts.get(0)!;
  readFileSync("/proc/self/stat");
  assert.ok(counts.get(0)! > before);
});

test("attachKprobeMulti refuses bad arguments", { skip: kernelSkip }, () => {
  using counts = counterMap();
  using prog = counterProgram("kprobe", counts, 0);
  assert.throws(() => attachKprobeMulti(prog, {}), /exactly one of symbols, pattern or addresses/);
  assert.throws(
    () => attachKprobeMulti(prog, { symbols: ["a", "b"], cookies: [1n] }),
    /1 cookies for 2 functions/,
  );
});

test("attachUprobeMulti: two libc functions of this process, told apart by cookie", {
  skip: kernelSkip || (reasonOf(liveProfile().linkType(LinkType.UPROBE_MULTI)) ?? false),
}, () => {
  const fds0 = openFds();
  {
    using counts = BpfMap.create({ type: "array", key: u32, value: u64, maxEntries: 4 });
    using prog = cookieCounter(counts, AttachType.TRACE_UPROBE_MULTI);
    using link = attachUprobeMulti(prog, {
      path: "libc.so.6",
      symbols: ["syscall", "close"],
      cookies: [1n, 2n],
      pid: process.pid,
    });
    assert.equal(link.info().typeName, "uprobe_multi");
    getpidTimes(50);
    const s = sys();
    for (let i = 0; i < 30; i++) s.close(-1);
    assert.ok(counts.get(1)! >= 50n, `syscall: ${counts.get(1)}`);
    assert.ok(counts.get(2)! >= 30n, `close: ${counts.get(2)}`);
    assert.equal(counts.get(3), 0n);
    link.close();
    const before = counts.get(1)!;
    getpidTimes(5);
    assert.equal(counts.get(1), before, "counted after close()");
  }
  assert.deepEqual(fdsOpenedSince(fds0), []);
});

test("attachUprobeMulti errors: unknown symbol, mismatched arrays, wrong attach type", {
  skip: kernelSkip,
}, () => {
  using counts = counterMap();
  using plain = counterProgram("kprobe", counts, 0);
  using prog = counterProgram("kprobe", counts, 0, {
    expectedAttachType: AttachType.TRACE_UPROBE_MULTI,
  });
  assert.throws(
    () => attachUprobeMulti(prog, { path: "libc.so.6", symbols: ["no_such_fn_xyz"] }),
    (e: unknown) => e instanceof AttachError && e.errnoName === "ENOENT",
  );
  assert.throws(
    () => attachUprobeMulti(prog, { path: "libc.so.6", symbols: ["close"], cookies: [1n, 2n] }),
    /2 cookies for 1 probes/,
  );
  assert.throws(
    () => attachUprobeMulti(plain, { path: "libc.so.6", symbols: ["close"] }),
    /attachUprobeMulti\(libc.so.6:close\): BPF_LINK_CREATE failed: EINVAL/,
  );
});
