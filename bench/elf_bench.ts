/**
 * Open (parse) + load + close of the three shared ELF objects, beside libbpf's
 * `../shared/bench/elf_load_bench` run in the same invocation (warm, same process).
 *
 *   deno run -A bench/elf_bench.ts        bun bench/elf_bench.ts        (as root)
 *
 * The first load of the CO-RE object also parses the kernel's BTF (once per process; libbpf
 * re-parses it on every load). That first ("cold") load is reported on its own.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { loadObject, ObjectSpec } from "../lib/elf/mod.ts";
import { buildC, median, nowNs, runC, runtime, sharedBench } from "./_c.ts";

const OBJECTS = ["sockfilter_count.bpf.o", "xdp_pcpu.bpf.o", "tp_execve.bpf.o"];
const REPS = 31;
/** Untimed rounds first, so the JIT has compiled the parser (libbpf's warm runs are warm too). */
const WARMUP = 30;

if (!existsSync(join(sharedBench, "bpf"))) {
  console.log(`# ${sharedBench}/bpf is absent: nothing to benchmark`);
} else {
  const ours = new Map<string, { open: number; load: number; close: number; total: number }>();
  for (const name of OBJECTS) {
    const bytes = readFileSync(join(sharedBench, "bpf", name));
    if (name.startsWith("tp_")) {
      const t0 = nowNs();
      loadObject(bytes).close();
      console.log(
        `${runtime} cold ${name} (parses vmlinux BTF once): ${
          ((nowNs() - t0) / 1000).toFixed(0)
        } µs`,
      );
    }
    const open: number[] = [];
    const load: number[] = [];
    const close: number[] = [];
    const total: number[] = [];
    for (let i = 0; i < REPS + WARMUP; i++) {
      const t0 = nowNs();
      const spec = ObjectSpec.parse(bytes);
      const t1 = nowNs();
      const obj = loadObject(spec);
      const t2 = nowNs();
      obj.close();
      const t3 = nowNs();
      if (i < WARMUP) continue;
      open.push((t1 - t0) / 1000);
      load.push((t2 - t1) / 1000);
      close.push((t3 - t2) / 1000);
      total.push((t3 - t0) / 1000);
    }
    const r = {
      open: median(open),
      load: median(load),
      close: median(close),
      total: median(total),
    };
    ours.set(name, r);
    console.log(
      `${runtime} ${name.padEnd(24)} open ${r.open.toFixed(1)} load ${r.load.toFixed(1)} close ${
        r.close.toFixed(1)
      } total ${r.total.toFixed(1)} µs (median of ${REPS})`,
    );
  }
  if (buildC()) {
    const out = runC("elf_load_bench", [
      String(REPS),
      ...OBJECTS.map((o) => join(sharedBench, "bpf", o)),
    ]);
    for (const name of OBJECTS) {
      const m = new RegExp(
        `^libbpf\\s+${name.replace(/\./g, "\\.")} total.*median\\s+([\\d.]+)`,
        "m",
      )
        .exec(out);
      if (m === null) continue;
      const c = +m[1];
      const t = ours.get(name)!.total;
      console.log(
        `${name.padEnd(24)} libbpf ${c.toFixed(1)} µs, ${runtime} ${
          t.toFixed(1)
        } µs: ratio ${runtime}/libbpf ${(t / c).toFixed(3)}×`,
      );
    }
  }
}
