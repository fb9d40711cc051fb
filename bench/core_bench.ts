/**
 * Warm CO-RE loads by relocation count, beside libbpf (`../shared/bench/elf_load_bench`, warm
 * rows) in the same invocation.
 *
 * Generates tracepoint programs with N CO-RE relocations (`bpf_core_field_offset` over N
 * struct/field pairs of the running kernel, repeated when the kernel has fewer), compiles them
 * with clang-19 against a `vmlinux.h` dumped by bpftool, then times parse + load + close in this
 * process after warm-up (the kernel BTF is already read), beside libbpf's warm total (which
 * re-reads the kernel BTF on every load).
 *
 *   deno run -A bench/core_bench.ts        bun bench/core_bench.ts
 *
 * BENCH_RELOCS (default "10,100,400") sets the counts, BENCH_REPS (default 15) the samples.
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { kernelBtf, loadObject, ObjectSpec } from "../lib/elf/mod.ts";
import { buildC, median, nowNs, runC, runtime } from "./_c.ts";

const COUNTS = (process.env.BENCH_RELOCS ?? "10,100,400").split(",").map(Number);
const REPS = Number(process.env.BENCH_REPS ?? 15);
const WARMUP = 5;
const DIR = process.env.BENCH_CORE_DIR ?? "/tmp/tsbpf-core-bench";
const STRUCTS = [
  "task_struct",
  "mm_struct",
  "file",
  "inode",
  "dentry",
  "super_block",
  "sk_buff",
  "sock",
  "net_device",
  "cred",
  "vm_area_struct",
  "signal_struct",
];

/** (struct, field) pairs: named, non-bitfield members of common kernel structs. */
function fieldPairs(): [string, string][] {
  const btf = kernelBtf();
  const out: [string, string][] = [];
  for (const s of STRUCTS) {
    let t;
    try {
      t = btf.get("struct", s);
    } catch {
      continue;
    }
    for (const m of t.members) {
      if (m.name !== "" && m.bitfieldSize === 0) out.push([s, m.name]);
    }
  }
  return out;
}

function objectFor(n: number, pairs: [string, string][]): string {
  mkdirSync(DIR, { recursive: true });
  const header = join(DIR, "vmlinux.h");
  if (!existsSync(header)) {
    writeFileSync(
      header,
      execFileSync("bpftool", ["btf", "dump", "file", "/sys/kernel/btf/vmlinux", "format", "c"], {
        maxBuffer: 1 << 30,
      }),
    );
  }
  const src = join(DIR, `core_${n}.bpf.c`);
  const obj = join(DIR, `core_${n}.bpf.o`);
  if (!existsSync(obj)) {
    const lines = [
      '#include "vmlinux.h"',
      "#include <bpf/bpf_helpers.h>",
      "#include <bpf/bpf_core_read.h>",
      'SEC("tracepoint/syscalls/sys_enter_execve")',
      "int core_relocs(void *ctx)",
      "{",
      "\tunsigned long s = 0;",
    ];
    for (let i = 0; i < n; i++) {
      const [st, f] = pairs[i % pairs.length];
      lines.push(`\ts += bpf_core_field_offset(struct ${st}, ${f});`);
    }
    lines.push("\treturn s & 1;", "}", 'char LICENSE[] SEC("license") = "GPL";', "");
    writeFileSync(src, lines.join("\n"));
    execFileSync("clang-19", ["-O2", "-g", "-target", "bpf", "-I", DIR, "-c", src, "-o", obj]);
  }
  return obj;
}

const pairs = fieldPairs();
const objects = COUNTS.map((n) => ({ n, path: objectFor(n, pairs) }));
console.log(
  `# core_bench (${runtime}): warm parse+load+close, median of ${REPS} after ${WARMUP} warm-up; µs`,
);
const ours = new Map<number, { parse: number; load: number; total: number; relocs: number }>();
for (const { n, path } of objects) {
  const bytes = readFileSync(path);
  const parse: number[] = [];
  const load: number[] = [];
  const total: number[] = [];
  let relocs = 0;
  for (let i = 0; i < REPS + WARMUP; i++) {
    const t0 = nowNs();
    const spec = ObjectSpec.parse(bytes);
    const t1 = nowNs();
    const obj = loadObject(spec);
    const t2 = nowNs();
    relocs = Object.values(obj.core).reduce((a, r) => a + r.length, 0);
    obj.close();
    const t3 = nowNs();
    if (i < WARMUP) continue;
    parse.push((t1 - t0) / 1e3);
    load.push((t2 - t1) / 1e3);
    total.push((t3 - t0) / 1e3);
  }
  ours.set(n, { parse: median(parse), load: median(load), total: median(total), relocs });
}
const c = new Map<number, number>();
if (buildC()) {
  const out = runC("elf_load_bench", [String(REPS), ...objects.map((o) => o.path)]);
  for (const { n } of objects) {
    const m = new RegExp(`^libbpf\\s+core_${n}\\.bpf\\.o total.*median\\s+([\\d.]+)`, "m").exec(
      out,
    );
    if (m) c.set(n, +m[1]);
  }
}
console.log(
  `${"relocations".padEnd(12)} ${"parse".padStart(9)} ${"load".padStart(9)} ${
    "total".padStart(9)
  } ${"libbpf".padStart(9)}  libbpf/ours  (relocations applied)`,
);
for (const { n } of objects) {
  const r = ours.get(n)!;
  const cf = c.get(n);
  console.log(
    `${String(n).padEnd(12)} ${r.parse.toFixed(1).padStart(9)} ${r.load.toFixed(1).padStart(9)} ${
      r.total.toFixed(1).padStart(9)
    } ${(cf?.toFixed(1) ?? "-").padStart(9)}  ${
      cf === undefined ? "-" : `${(cf / r.total).toFixed(2)}× faster`
    }  (${r.relocs})`,
  );
}
