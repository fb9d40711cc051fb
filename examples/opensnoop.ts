/**
 * opensnoop: every openat() on the machine (pid, command, flags, path), from the
 * syscalls/sys_enter_openat tracepoint through the perf buffer (one ring per CPU). BPF side:
 * bpf/opensnoop.bpf.c.
 *
 *   deno run -A examples/opensnoop.ts [seconds]      bun examples/opensnoop.ts [seconds]   (root)
 *
 * Traces for `seconds` (default 5) or until Ctrl-C; opens a file of its own once attached, so
 * that at least one line shows. Needs tracefs (see examples/execsnoop.ts).
 */
import { rmSync, writeFileSync } from "node:fs";
import process from "node:process";
import { loadObject } from "../lib/elf/mod.ts";
import { PerfBuffer } from "../lib/perf/mod.ts";

const seconds = Number(process.argv[2] ?? 5);
const text = (b: Uint8Array) => new TextDecoder().decode(b.subarray(0, b.indexOf(0)));

using obj = loadObject(new URL("./bpf/opensnoop.bpf.o", import.meta.url).pathname);
using links = obj.attach(); // SEC("tracepoint/syscalls/sys_enter_openat")
using events = new PerfBuffer(obj.maps.events, { pages: 16 });
console.log(`Tracing openat() for ${seconds} s (${Object.keys(links.links)}); Ctrl-C to end.`);
console.log("CPU PID      COMM             FLAGS    PATH");

let shown = 0;
let lost = 0;
const print = (r: Uint8Array, cpu: number) => {
  const v = new DataView(r.buffer, r.byteOffset, r.byteLength);
  const [pid, flags] = [v.getUint32(0, true), v.getInt32(4, true)];
  const comm = text(r.subarray(8, 24)).padEnd(16);
  const octal = `0${flags.toString(8)}`.padEnd(8);
  console.log(
    `${String(cpu).padEnd(3)} ${String(pid).padEnd(8)} ${comm} ${octal} ${text(r.subarray(24))}`,
  );
  shown++;
};

// One open of our own (the runtime opens it with openat), then trace.
writeFileSync(`/tmp/tsbpf-opensnoop-${process.pid}`, "");
rmSync(`/tmp/tsbpf-opensnoop-${process.pid}`);
let stop = false;
const onInt = () => (stop = true);
process.on("SIGINT", onInt);
const end = Date.now() + seconds * 1000;
do await events.poll(100, print, { onLost: (n) => void (lost += n) }); while (
  !stop && Date.now() < end
);
process.off("SIGINT", onInt);
console.log(`${shown} openat() calls seen, ${lost} lost`);
