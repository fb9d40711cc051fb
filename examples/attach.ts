/**
 * Attaching programs: a raw tracepoint and a BTF tracepoint counting system calls, a task
 * iterator printing processes with bpf_seq_printf, links listed and inspected, and a refusal.
 *
 *   deno run -A examples/attach.ts        bun examples/attach.ts        (as root)
 */
import { asm, AttachType, MapFlag, Program } from "../mod.ts";
import { sys } from "../lib/sys/mod.ts";
import { BpfMap } from "../lib/map/mod.ts";
import { u32, u64 } from "../lib/codec/mod.ts";
import {
  attachBtfTracepoint,
  AttachError,
  attachIter,
  attachRawTracepoint,
  btfTracepointId,
  Link,
} from "../lib/link/mod.ts";
import { kernelBtf } from "../lib/elf/vmlinux.ts";

const line = (s = "") => console.log(s);
const s = sys();

function counter(type: "raw_tracepoint" | "tracing", map: BpfMap<number, bigint>, extra = {}) {
  return Program.load({
    type,
    license: "GPL",
    ...extra,
    insns: asm`
      *(u32 *)(r10 - 4) = 0
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

// 1. Raw tracepoint sys_enter: counts every system call on the machine.
line("1. Raw tracepoint sys_enter");
using rawCounts = BpfMap.create({ type: "array", key: u32, value: u64, maxEntries: 1 });
using rawProg = counter("raw_tracepoint", rawCounts);
{
  using link = attachRawTracepoint(rawProg, "sys_enter");
  for (let i = 0; i < 1000; i++) s.syscall(s.nr.getpid);
  const info = link.info();
  line(`   link ${info.id}: ${info.typeName} "${info.tracepointName}", program ${info.progId}`);
  line(`   system calls seen while attached: ${rawCounts.get(0)} (≥ 1000 getpid calls)`);
  line(`   listed by Link.list(): ${Link.list().includes(info.id)}`);
}
line(`   after close: still counting? ${
  (() => {
    const n = rawCounts.get(0);
    s.syscall(s.nr.getpid);
    return rawCounts.get(0) !== n;
  })()
}`);

// 2. The same through a BTF tracepoint (tp_btf), checked against the kernel's types.
line("2. BTF tracepoint sys_enter (tp_btf)");
using btfCounts = BpfMap.create({ type: "array", key: u32, value: u64, maxEntries: 1 });
using btfProg = counter("tracing", btfCounts, {
  expectedAttachType: AttachType.TRACE_RAW_TP,
  attachBtfId: btfTracepointId("sys_enter"),
});
{
  using _link = attachBtfTracepoint(btfProg);
  for (let i = 0; i < 1000; i++) s.syscall(s.nr.getpid);
  line(`   system calls seen: ${btfCounts.get(0)}`);
}

// 3. A task iterator: one line per task, written by the program with bpf_seq_printf.
line("3. Task iterator (iter/task)");
const btf = kernelBtf();
const fields = btf.fields(btf.get("struct", "task_struct").id);
const off = (name: string) => fields.find((f) => f.name === name)!.bitOffset / 8;
const fmtText = new TextEncoder().encode("%d %s\n\0");
using fmt = BpfMap.create({
  type: "array",
  key: u32,
  valueSize: fmtText.length,
  maxEntries: 1,
  flags: MapFlag.RDONLY_PROG,
});
fmt.set(0, fmtText);
fmt.freeze();
using iterProg = Program.load({
  type: "tracing",
  license: "GPL",
  expectedAttachType: AttachType.TRACE_ITER,
  attachBtfId: btf.get("func", "bpf_iter_task").id,
  insns: asm`
    r6 = *(u64 *)(r1 + 0)
    r7 = *(u64 *)(r1 + 8)
    if r7 == 0 goto out
    r8 = *(u32 *)(r7 + ${off("pid")})
    *(u64 *)(r10 - 16) = r8
    r8 = r7
    r8 += ${off("comm")}
    *(u64 *)(r10 - 8) = r8
    r1 = *(u64 *)(r6 + 0)
    r2 = map_value[fd:${fmt.fd}]+0 ll
    r3 = ${fmtText.length}
    r4 = r10
    r4 += -16
    r5 = 16
    call bpf_seq_printf
  out:
    r0 = 0
    exit`,
});
{
  using link = attachIter(iterProg);
  const rows = link.readText().trim().split("\n");
  line(`   ${rows.length} tasks; the first five:`);
  for (const row of rows.slice(0, 5)) line(`     ${row}`);
  line(`   this process: ${rows.find((r) => r.startsWith(`${s.syscall(s.nr.getpid)} `))}`);
}

// 4. A refusal, with what was being attached where: tsbpf knows the program's type and says so
//    before the kernel would answer EINVAL.
line("4. A program of the wrong type");
try {
  attachRawTracepoint(iterProg, "sys_enter");
} catch (e) {
  if (!(e instanceof TypeError || e instanceof AttachError)) throw e;
  line(`   ${e.message}`);
}
