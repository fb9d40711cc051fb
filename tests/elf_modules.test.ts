// Objects whose kfuncs, ksyms or attach targets are not in vmlinux: kernel modules' BTF (kfunc
// calls index fd_array, ld_imm64 carries the module BTF fd, attach_btf_obj_fd) and loaded BPF
// programs (freplace, fentry/fexit of a BPF function: attach_prog_fd). Module tests run where the
// module is loaded (distribution kernels build nf_conntrack as one), trampoline tests where the
// kernel allows trampolines; elsewhere they skip naming what is missing, and the refusals are
// tested instead.
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { BpfCmd } from "../types/cmd.ts";
import { BpfMap } from "../lib/map/map.ts";
import { Program } from "../lib/program/program.ts";
import { VerifierError } from "../lib/errors.ts";
import { openById } from "../lib/ids.ts";
import { sys } from "../lib/sys/mod.ts";
import { liveProfile } from "../lib/profile/mod.ts";
import { kernelBtf, loadObject, ObjectError, ObjectSpec } from "../lib/elf/mod.ts";
import { relocateExterns, resolveKsyms } from "../lib/elf/ksyms.ts";
import { listKernelBtfObjects } from "../lib/object/btf_objects.ts";
import { BPF_FDS, fdsOpenedSince, kernelSkip, openFds, repoRoot, unlessProfile } from "./util.ts";

const dir = join(repoRoot, "tests", "fixtures", "objects");
const path = (name: string): string => join(dir, name);
const parse = (name: string): ObjectSpec =>
  ObjectSpec.parse(readFileSync(path(name)), { name: name.split(".")[0] });
const KEY0 = new Uint8Array(4);
const symOff = (spec: ObjectSpec, name: string): number =>
  spec.elf.symbols.find((s) => s.name === name)!.value;
const u64 = (b: Uint8Array, off: number): bigint =>
  new DataView(b.buffer, b.byteOffset).getBigUint64(off, true);

const trampolines = kernelSkip ? undefined : liveProfile().feature("trampolines");
const trampolineSkip: string | false = kernelSkip ||
  (trampolines?.state === "yes"
    ? false
    : `no trampolines here: ${
      trampolines && "reason" in trampolines ? trampolines.reason : "unknown"
    }`);
const trampolinesRefused: string | false = kernelSkip ||
  (trampolines?.state === "yes" ? "this kernel allows trampolines" : false);
const conntrackSkip: string | false = kernelSkip ||
  (existsSync("/sys/kernel/btf/nf_conntrack")
    ? false
    : "nf_conntrack is not a loaded module with BTF here (/sys/kernel/btf/nf_conntrack): its " +
      "kfuncs are built in or absent");

// ---- fd_array ---------------------------------------------------------------------------------

/** `r0 = 0; call <kfunc btfId> with off; exit` as raw instructions. */
function kfuncCall(btfId: number, off: number): Uint8Array {
  const b = new Uint8Array(24);
  const v = new DataView(b.buffer);
  b[0] = 0xb7; // r0 = 0
  b[8] = 0x85; // call
  b[9] = 2 << 4; // src_reg BPF_PSEUDO_KFUNC_CALL
  v.setInt16(10, off, true);
  v.setInt32(12, btfId, true);
  b[16] = 0x95; // exit
  return b;
}

function verifierLog(f: () => unknown): string {
  try {
    const p = f() as Program;
    p.close();
  } catch (e) {
    if (e instanceof VerifierError) return e.log;
    throw e;
  }
  assert.fail("the kernel loaded it");
}

/** Module kfuncs through fd_array came in 5.18 (as multi-kprobes did). */
const moduleKfuncsSkip: string | false = kernelSkip ||
  (kernelBtf().find("func", "bpf_kprobe_multi_link_attach") !== undefined
    ? false
    : "kfunc calls into module BTF through fd_array came in 5.18; this kernel is older");

test("Program.load fdArray: a kfunc call's off indexes fd_array, read as a module BTF fd", {
  skip: moduleKfuncsSkip,
}, () => {
  const vmlinux = listKernelBtfObjects().find((o) => o.name === "vmlinux");
  assert.ok(vmlinux, "the vmlinux BTF object is listed");
  const btfFd = openById(BpfCmd.BTF_GET_FD_BY_ID, vmlinux.id, "vmlinux BTF");
  using map = BpfMap.create({ type: "array", keySize: 4, valueSize: 4, maxEntries: 1 });
  try {
    const load = (fdArray?: number[]) => () =>
      Program.load({
        type: "socket_filter",
        insns: kfuncCall(1, 1),
        license: "GPL",
        check: false,
        ...(fdArray ? { fdArray } : {}),
      });
    // The kernel reads fd_array[1] only when given: each answer shows what it found there.
    assert.match(verifierLog(load()), /without fd_array is invalid/);
    assert.match(verifierLog(load([0, btfFd])), /not a module BTF/);
    assert.match(verifierLog(load([0, map.fd])), /invalid module BTF fd/);
    assert.throws(load([0, -1]), /fdArray\[1\]: -1 is not a file descriptor/);
  } finally {
    sys().close(btfFd);
  }
});

test("kfuncs and ksyms in a module: calls index fd_array after a reserved 0, ld_imm64 get the fd", () => {
  const spec = parse("module_kfunc.bpf.o");
  const noKfuncs = parse("freplace_target.bpf.o").types!; // a BTF without the nf_conntrack kfuncs
  const asked: string[] = [];
  const resolved = resolveKsyms(
    spec.externs,
    spec.types,
    () => noKfuncs,
    () => undefined,
    (k, n) => {
      asked.push(`${k} ${n}`);
      if (!n.startsWith("bpf_") || n.includes("no_such")) return undefined;
      return { btfId: 90000 + asked.length, fd: 42, module: "nf_conntrack" };
    },
  );
  assert.equal(resolved.get("bpf_ct_release")?.module, "nf_conntrack");
  assert.equal(resolved.get("bpf_tsbpf_no_such_kfunc")?.found, false);
  const p = spec.program("ct_xdp");
  const insns = p.insns.slice();
  const fdArray: number[] = [];
  relocateExterns(insns, p.externRelocations, spec.externs, resolved, undefined, p.name, fdArray);
  assert.deepEqual(fdArray, [0, 42]);
  const v = new DataView(insns.buffer);
  const calls = p.externRelocations.filter((r) => r.call && resolved.get(r.name)!.found);
  assert.equal(calls.length, 2);
  for (const r of calls) {
    assert.equal(insns[r.insn * 8 + 1] >> 4, 2, `${r.name}: BPF_PSEUDO_KFUNC_CALL`);
    assert.equal(v.getInt16(r.insn * 8 + 2, true), 1, `${r.name}: off indexes fd_array`);
    assert.equal(v.getInt32(r.insn * 8 + 4, true), resolved.get(r.name)!.btfId);
  }
  // bpf_ksym_exists() of a module kfunc: BPF_PSEUDO_BTF_ID with the module's BTF fd.
  const tc = spec.program("ct_exists");
  const tcInsns = tc.insns.slice();
  const tcFds: number[] = [];
  relocateExterns(tcInsns, tc.externRelocations, spec.externs, resolved, undefined, tc.name, tcFds);
  const ld = tc.externRelocations.find((r) => !r.call && r.name === "bpf_ct_set_timeout")!;
  const tv = new DataView(tcInsns.buffer);
  assert.equal(tcInsns[ld.insn * 8 + 1] >> 4, 3, "BPF_PSEUDO_BTF_ID");
  assert.equal(tv.getInt32(ld.insn * 8 + 4, true), resolved.get("bpf_ct_set_timeout")!.btfId);
  assert.equal(tv.getInt32(ld.insn * 8 + 12, true), 42);
  assert.deepEqual(tcFds, []); // no call: fd_array is not needed
});

test("kfuncs of a loaded module (nf_conntrack): loaded from its BTF, and they run", {
  skip: conntrackSkip,
}, () => {
  const before = openFds();
  {
    using obj = loadObject(path("module_kfunc.bpf.o"));
    const r = obj.programs.ct_xdp.testRun({ data: new Uint8Array(64) });
    assert.equal(r.retval, 2); // XDP_PASS
    const spec = obj.spec;
    const bss = obj.maps[".bss"].get(KEY0)!;
    assert.equal(u64(bss, symOff(spec, "lookups")), 1n);
    assert.equal(u64(bss, symOff(spec, "found")), 0n);
    // bpf_ksym_exists() of a module kfunc: true.
    assert.equal(obj.programs.ct_exists.testRun({ data: new Uint8Array(64) }).retval, 0);
  }
  assert.deepEqual(fdsOpenedSince(before, BPF_FDS), []);
});

test("fentry on a module's function: attach_btf_obj_fd names the module's BTF", {
  skip: conntrackSkip || trampolineSkip,
}, () => {
  const spec = parse("module_kfunc.bpf.o");
  spec.program("ct_delete").autoload = true;
  using obj = loadObject(spec);
  assert.ok(obj.programs.ct_delete.fd > 0);
});

// ---- freplace and fentry/fexit of BPF functions -----------------------------------------------

test("freplace without attachProgram: an error naming the program, before anything is created", {
  skip: kernelSkip,
}, () => {
  const before = openFds();
  assert.throws(
    () => loadObject(path("freplace.bpf.o")),
    (e: unknown) =>
      e instanceof ObjectError && /program new_verdict \(section "freplace\/verdict"\)/.test(
        e.message,
      ) && /attachProgram/.test(e.message),
  );
  assert.deepEqual(fdsOpenedSince(before, BPF_FDS), []);
});

test("attachProgram: a target without that function, or no function named, is an ObjectError", {
  skip: kernelSkip,
}, () => {
  using target = loadObject(path("freplace_target.bpf.o"));
  const spec = parse("freplace.bpf.o");
  for (const p of spec.programs) p.attachProgram = target.programs.dispatch;
  spec.program("new_verdict").attachTarget = "tsbpf_no_such_function";
  assert.throws(() => loadObject(spec), /new_verdict.*has no function tsbpf_no_such_function/);
  spec.program("new_verdict").attachTarget = undefined;
  assert.throws(() => loadObject(spec), /new_verdict.*attachTarget names no function/);
});

test("freplace replaces the target's function; fentry/fexit trace it (attach_prog_fd)", {
  skip: trampolineSkip,
}, () => {
  using target = loadObject(path("freplace_target.bpf.o"));
  const dispatch = target.programs.dispatch;
  const data = new Uint8Array(64);
  assert.equal(dispatch.testRun({ data }).retval, 2); // XDP_PASS from verdict()
  {
    const spec = parse("freplace.bpf.o");
    for (const p of spec.programs) p.attachProgram = dispatch;
    spec.program("trace_verdict").autoload = false;
    spec.program("trace_verdict_exit").autoload = false;
    using obj = loadObject(spec);
    using links = obj.attach();
    assert.deepEqual(Object.keys(links.links), ["new_verdict"]);
    assert.equal(dispatch.testRun({ data }).retval, 1); // XDP_DROP from new_verdict()
  }
  assert.equal(dispatch.testRun({ data }).retval, 2); // replaced no more
  {
    const spec = parse("freplace.bpf.o");
    for (const p of spec.programs) p.attachProgram = dispatch;
    spec.program("new_verdict").autoload = false;
    using obj = loadObject(spec);
    using links = obj.attach();
    assert.deepEqual(Object.keys(links.links).sort(), ["trace_verdict", "trace_verdict_exit"]);
    dispatch.testRun({ data });
    const bss = obj.maps[".bss"].get(KEY0)!;
    assert.equal(u64(bss, symOff(obj.spec, "entered")), 1n);
    assert.equal(u64(bss, symOff(obj.spec, "exited")), 1n);
    assert.equal(
      new DataView(bss.buffer, bss.byteOffset).getInt32(symOff(obj.spec, "last_ret"), true),
      2,
    );
  }
});

test("freplace where the kernel refuses trampolines: the error names the program and says so", {
  skip: trampolinesRefused,
}, () => {
  using target = loadObject(path("freplace_target.bpf.o"));
  const spec = parse("freplace.bpf.o");
  for (const p of spec.programs) p.attachProgram = target.programs.dispatch;
  const before = openFds();
  assert.throws(
    () => loadObject(spec),
    (e: unknown) =>
      e instanceof ObjectError &&
      /program new_verdict \(section "freplace\/verdict"\): this kernel refuses BPF trampolines/
        .test(e.message),
  );
  assert.deepEqual(fdsOpenedSince(before, BPF_FDS), []);
});

test(
  "a kfunc whose prototype does not fit the kernel's: an error naming it; a weak one is absent",
  {
    // bpf_task_acquire came in Linux 6.2: where the kernel lacks it, there is no prototype to miss.
    skip: unlessProfile((p) => p.kfunc("bpf_task_acquire")),
  },
  () => {
    const before = openFds();
    assert.throws(
      () => loadObject(path("kfunc_proto.bpf.o")),
      /kfunc bpf_task_acquire: its prototype in the object does not fit the kernel's/,
    );
    assert.deepEqual(fdsOpenedSince(before, BPF_FDS), []);
    // The weak bpf_task_from_pid(void) does not fit the kernel's (s32 pid): unresolved.
    const spec = parse("kfunc_proto.bpf.o");
    const weak = spec.externs.filter((e) => e.weak);
    assert.deepEqual(weak.map((e) => e.name), ["bpf_task_from_pid"]);
    const resolved = resolveKsyms(weak, spec.types, kernelBtf, () => undefined);
    assert.equal(resolved.get("bpf_task_from_pid")?.found, false);
  },
);

// ---- auto-attach of kprobe sections ------------------------------------------------------------

const kprobes = kernelSkip ? undefined : liveProfile().feature("kprobes");
const kprobesSkip: string | false = kernelSkip ||
  (kprobes?.state === "yes"
    ? false
    : `no kprobes here: ${kprobes && "reason" in kprobes ? kprobes.reason : "unknown"}`);

test("obj.attach(): kprobe, kretprobe, ksyscall and kprobe.multi sections attach by name", {
  skip: kprobesSkip,
}, () => {
  const before = openFds();
  {
    // kprobe.multi (5.18+) where the kernel has it.
    const multi = kernelBtf().find("func", "bpf_kprobe_multi_link_attach") !== undefined;
    const spec = parse("kprobes.bpf.o");
    spec.program("on_open_multi").autoload = multi;
    using obj = loadObject(spec);
    using links = obj.attach();
    const names = ["on_getpid", "on_open", ...(multi ? ["on_open_multi"] : []), "on_open_return"];
    assert.deepEqual(Object.keys(links.links).sort(), names);
    readFileSync(path("kprobes.bpf.c"));
    sys().syscall(sys().nr.getpid);
    const bss = obj.maps[".bss"].get(KEY0)!;
    for (const v of ["opens", "open_returns", "getpids", ...(multi ? ["multi"] : [])]) {
      assert.ok(u64(bss, symOff(obj.spec, v)) >= 1n, v);
    }
  }
  assert.deepEqual(fdsOpenedSince(before, BPF_FDS), []);
});

test("obj.attach() where the kernel has no kprobes: the error names the program and says so", {
  skip: kernelSkip || (kprobes?.state === "yes" ? "this kernel has kprobes" : false),
}, () => {
  const before = openFds();
  {
    using obj = loadObject(path("kprobes.bpf.o"));
    assert.throws(
      () => obj.attach(),
      (e: unknown) =>
        e instanceof ObjectError &&
        /program on_open \(section "kprobe\/do_sys_openat2"\): cannot attach: .*CONFIG_KPROBES/
          .test(e.message),
    );
  }
  assert.deepEqual(fdsOpenedSince(before, BPF_FDS), []);
});
