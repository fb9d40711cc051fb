/**
 * execsnoop: every exec() on the machine (pid, uid, command, file), from the
 * sched/sched_process_exec tracepoint through a ring buffer. BPF side: bpf/execsnoop.bpf.c.
 *
 *   deno run -A examples/execsnoop.ts [seconds]      bun examples/execsnoop.ts [seconds]   (root)
 *
 * Traces for `seconds` (default 5) or until Ctrl-C. It runs `/bin/echo` once itself after
 * attaching, so that at least one line shows. Needs tracefs (mounted by systemd; otherwise
 * `mount -t tracefs nodev /sys/kernel/tracing`).
 */
import { spawnSync } from "node:child_process";
import process from "node:process";
import { loadObject } from "../lib/elf/mod.ts";
import { RingBuffer } from "../lib/ringbuf/mod.ts";

const seconds = Number(process.argv[2] ?? 5);
const text = (b: Uint8Array) => new TextDecoder().decode(b.subarray(0, b.indexOf(0)));

using obj = loadObject(new URL("./bpf/execsnoop.bpf.o", import.meta.url).pathname);
using links = obj.attach(); // SEC("tracepoint/sched/sched_process_exec")
using events = new RingBuffer(obj.maps.events);
console.log(`Tracing exec() for ${seconds} s (${Object.keys(links.links)}); Ctrl-C to end.`);
console.log("PID      UID    COMM             FILE");

let shown = 0;
const print = (r: Uint8Array) => {
  const v = new DataView(r.buffer, r.byteOffset, r.byteLength);
  const [pid, uid] = [v.getUint32(0, true), v.getUint32(4, true)];
  const comm = text(r.subarray(8, 24));
  console.log(
    `${String(pid).padEnd(8)} ${String(uid).padEnd(6)} ${comm.padEnd(16)} ${text(r.subarray(24))}`,
  );
  shown++;
};

spawnSync("/bin/echo", ["tsbpf-execsnoop"], { stdio: "ignore" }); // one exec of our own
let stop = false;
const onInt = () => (stop = true);
process.on("SIGINT", onInt);
const end = Date.now() + seconds * 1000;
do await events.poll(100, print); while (!stop && Date.now() < end);
process.off("SIGINT", onInt);
console.log(`${shown} exec() calls seen`);
