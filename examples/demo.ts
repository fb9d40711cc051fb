/**
 * The tsbpf demo: loads real programs of several types into the kernel, runs them, shows how a
 * bad program is refused (first by tsbpf's own checker, then by the kernel's verifier), and
 * unloads everything.
 *
 *   deno run -A examples/demo.ts        bun examples/demo.ts        (as root)
 */
import { dirname, join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import {
  asm,
  attachRawTracepoint,
  BpfMap,
  loadObject,
  PreloadCheckError,
  Program,
  u32,
  u64,
  VerifierError,
} from "../mod.ts";
import { sys } from "../lib/sys/mod.ts";

const here = dirname(fileURLToPath(import.meta.url));

const line = (s = "") => console.log(s);
line(`tsbpf demo on ${sys().runtime}`);
line();

// 1. Programs of several types: each returns a constant.
const programs: Program[] = [];
const kinds: [string, number][] = [
  ["socket_filter", 0],
  ["xdp", 2], // XDP_PASS
  ["sched_cls", 0], // TC_ACT_OK
  ["tracepoint", 0],
  ["raw_tracepoint", 0],
  ["cgroup_skb", 1], // allow
];
line("1. Loading programs");
for (const [type, ret] of kinds) {
  const prog = Program.load({
    type,
    name: `demo_${type}`.slice(0, 15),
    insns: asm`
      r0 = ${ret}
      exit`,
    license: "GPL",
  });
  programs.push(prog);
  const info = prog.info();
  line(
    `   ${type.padEnd(15)} id ${String(info.id).padStart(5)}  tag ${info.tag}  ` +
      `verified ${
        info.verifiedInsns ?? "(not reported)"
      } insns, ${info.xlatedProgLen} B xlated, ${info.jitedProgLen} B jited`,
  );
}
line();

// 2. A program that does something: an XDP program that drops packets shorter than 100
//    bytes, and counts every packet in a map by verdict, which TypeScript then reads.
line("2. Running an XDP program with BPF_PROG_TEST_RUN");
using verdicts = BpfMap.create({
  type: "array",
  key: u32,
  value: u64,
  maxEntries: 4,
  name: "verdicts",
});
using xdp = Program.load({
  type: "xdp",
  name: "drop_short",
  license: "GPL",
  insns: asm`
    r2 = *(u32 *)(r1 + 0)        # ctx->data
    r3 = *(u32 *)(r1 + 4)        # ctx->data_end
    r3 -= r2                     # packet length
    r6 = 2                       # XDP_PASS
    if r3 >= 100 goto count
    r6 = 1                       # XDP_DROP
  count:
    *(u32 *)(r10 - 4) = r6       # key = verdict
    r1 = map[fd:${verdicts.fd}] ll
    r2 = r10
    r2 += -4
    call bpf_map_lookup_elem
    if r0 == 0 goto out
    r1 = 1
    lock *(u64 *)(r0 + 0) += r1  # count it
  out:
    r0 = r6
    exit`,
});
for (const size of [64, 1500, 60, 200, 99]) {
  const { retval, duration } = xdp.testRun({ data: new Uint8Array(size) });
  line(
    `   ${String(size).padStart(4)}-byte packet -> ${
      retval === 2 ? "XDP_PASS" : "XDP_DROP"
    } (${duration} ns)`,
  );
}
line(
  `   map "verdicts" read from TypeScript: XDP_DROP ${verdicts.get(1)}, XDP_PASS ${
    verdicts.get(2)
  }`,
);
line(`   what the kernel made of it (${xdp.info().xlatedProgLen / 8} insns after its rewrites):`);
for (const l of xdp.dump().split("\n").slice(0, 9)) line(`     ${l}`);
line("     …");
line();

// 3. Attached for real: a program compiled by clang from examples/bpf/syscalls.bpf.c, loaded from
//    its ELF object (BTF-defined map typed from BTF, .rodata set before load), counts this process's system calls
//    on the sys_enter raw tracepoint while TypeScript makes some.
line("3. A clang-compiled object attached to a tracepoint");
{
  const pid = process.pid;
  using obj = loadObject(join(here, "bpf", "syscalls.bpf.o"), {
    constants: { target_tgid: pid },
    typed: true, // map keys and values decoded from the object's BTF: __u32 -> __u64
  });
  const prog = obj.programs.count_syscalls;
  const calls = obj.maps.calls as BpfMap<unknown, unknown> as BpfMap<number, bigint>;
  line(
    `   loaded ${prog.typeName} program "${prog.name}" (id ${prog.id}) and map "calls" from ELF`,
  );
  {
    using link = attachRawTracepoint(prog, "sys_enter");
    const s = sys();
    for (let i = 0; i < 100; i++) s.syscall(s.nr.getpid);
    line(`   attached: link ${link.id} (${link.info().typeName} "sys_enter")`);
  }
  const getpid = calls.get(sys().nr.getpid) ?? 0n;
  const total = [...calls.values()].reduce((a, b) => a + b, 0n);
  line(
    `   while attached, pid ${pid} made ${total} system calls, ${getpid} of them getpid (100 asked)`,
  );
}
line();

// 4. Refusals: tsbpf's pre-load checker, then the kernel's verifier.
line("4. Refusals");
const gplOnly = asm`
  r1 = r10
  r1 += -8
  r2 = 8
  call bpf_trace_printk
  r0 = 0
  exit`;
try {
  Program.load({ type: "socket_filter", insns: gplOnly, license: "Proprietary" });
} catch (e) {
  if (!(e instanceof PreloadCheckError)) throw e;
  line("   refused before load by tsbpf's checker (no system call made):");
  for (const l of e.message.split("\n").filter((l) => l.trim() !== "")) line(`     ${l}`);
}
try {
  // Reads beyond the XDP context: only the verifier, which knows the context's layout, sees it.
  Program.load({
    type: "xdp",
    insns: asm`
      r0 = *(u32 *)(r1 + 64)
      exit`,
    license: "GPL",
  }).close();
  line("   (unexpectedly loaded)");
} catch (e) {
  if (!(e instanceof VerifierError)) throw e;
  line(`   refused by the kernel's verifier with ${e.errnoName}; the log's last lines:`);
  for (const l of e.tail) line(`     | ${l}`);
}
line();

// 5. Unloading: closing the fd drops the program; the kernel forgets its id.
line("5. Unloading");
const ids = programs.map((p) => p.id);
for (const p of programs) p.close();
const still = Program.list();
line(
  `   closed ${ids.length} programs; ids still loaded: ${
    ids.filter((id) => still.includes(id)).length
  }`,
);
line("   (the XDP program and its map close at the end of their `using` scope)");
