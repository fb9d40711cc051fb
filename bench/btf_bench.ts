/**
 * The kernel's BTF (`/sys/kernel/btf/vmlinux`): time to parse it and memory it holds, eager
 * (every type decoded, as before lazy parsing) beside lazy (header, records and name index; types
 * decoded on demand), each in a fresh process, beside libbpf's `btf__load_vmlinux_btf` figure of
 * `../shared/bench` (measured by its elf bench as the difference between a CO-RE and a plain
 * warm load, so this bench only prints ours).
 *
 *   deno run -A --v8-flags=--expose-gc bench/btf_bench.ts        bun bench/btf_bench.ts
 *
 * Rows: `eager`, `lazy` (`parseBtf` of bytes read beforehand), `kernelBtf` (what a CO-RE load
 * runs: `kernelBtf()`, which maps the file where the kernel allows it (6.16+) or reads it; its
 * parse time and memory include getting the bytes).
 *
 * Columns: parse ms (read excluded), the first lookup (a scan of the names when lazy), then
 * lookups of 12 common structs with every member type resolved; heap and RSS growth after a full
 * GC, in MB, with the bytes read kept alive in both modes.
 */
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { Btf } from "../lib/btf/btf.ts";
import { median, runtime } from "./_c.ts";

const RUNS = Number(process.env.BENCH_RUNS ?? 7);
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

function gc(): void {
  const g = globalThis as { gc?: () => void; Bun?: { gc(full: boolean): void } };
  if (g.Bun !== undefined) g.Bun.gc(true);
  else g.gc?.();
}

async function child(mode: string): Promise<void> {
  // kernelBtf: what a CO-RE load does (the file mapped where the kernel allows, else read), timed
  // and measured from before the file is touched; the others parse bytes read beforehand.
  const bytes = mode === "kernelBtf" ? new Uint8Array(0) : readFileSync("/sys/kernel/btf/vmlinux");
  gc();
  const m0 = process.memoryUsage();
  const t0 = performance.now();
  const { parseBtf } = await import("../lib/btf/btf.ts");
  let kernelBtf: (() => Btf) | undefined;
  if (mode === "kernelBtf") {
    kernelBtf = (await import("../lib/elf/vmlinux.ts")).kernelBtf;
    await import("../lib/object/host.ts"); // the object layer: maps the kernel's BTF
  }
  const t1 = performance.now();
  const btf = kernelBtf !== undefined ? kernelBtf() : parseBtf(bytes, { lazy: mode === "lazy" });
  const t2 = performance.now();
  btf.lookup("task_struct", "struct");
  const t3 = performance.now();
  let members = 0;
  for (const s of STRUCTS) {
    const t = btf.find("struct", s);
    if (t === undefined) continue;
    for (const m of t.members) {
      btf.resolve(m.type);
      members++;
    }
  }
  const t4 = performance.now();
  gc();
  const m1 = process.memoryUsage();
  console.log(JSON.stringify({
    importMs: t1 - t0,
    parseMs: t2 - t1,
    firstLookupMs: t3 - t2,
    structsMs: t4 - t3,
    heapMB: (m1.heapUsed - m0.heapUsed) / 2 ** 20,
    rssMB: (m1.rss - m0.rss) / 2 ** 20,
    indexMB: btf.indexBytes / 2 ** 20,
    decoded: btf.decodedCount,
    types: btf.typeCount,
    members,
    keep: bytes.length,
  }));
}

if (process.env.BTF_BENCH_CHILD) {
  await child(process.env.BTF_BENCH_CHILD);
} else {
  const self = fileURLToPath(import.meta.url);
  const cmd = runtime === "deno"
    ? [process.execPath, "run", "-A", "--v8-flags=--expose-gc", self]
    : [process.execPath, self];
  console.log(
    `# btf_bench (${runtime}): /sys/kernel/btf/vmlinux, fresh process each, median of ${RUNS}`,
  );
  console.log(
    `${"mode".padEnd(9)} ${"parse ms".padStart(9)} ${"lookup1".padStart(8)} ${
      "12 structs".padStart(10)
    } ${"heap MB".padStart(8)} ${"RSS MB".padStart(7)} ${"index MB".padStart(8)}  decoded/types`,
  );
  for (const m of ["eager", "lazy", "kernelBtf"]) {
    const rows: Record<string, number>[] = [];
    for (let i = 0; i < RUNS; i++) {
      const r = spawnSync(cmd[0], cmd.slice(1), {
        encoding: "utf8",
        env: { ...process.env, BTF_BENCH_CHILD: m },
      });
      if (r.status !== 0) throw new Error(r.stderr);
      rows.push(JSON.parse(r.stdout.trim().split("\n").pop()!));
    }
    const med = (k: string): number => median(rows.map((r) => r[k]));
    console.log(
      `${m.padEnd(9)} ${med("parseMs").toFixed(2).padStart(9)} ${
        med("firstLookupMs").toFixed(2).padStart(8)
      } ${med("structsMs").toFixed(2).padStart(10)} ${med("heapMB").toFixed(1).padStart(8)} ${
        med("rssMB").toFixed(1).padStart(7)
      } ${med("indexMB").toFixed(2).padStart(8)}  ${rows[0].decoded}/${rows[0].types}`,
    );
  }
}
