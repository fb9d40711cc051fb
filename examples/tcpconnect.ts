/**
 * tcpconnect: outgoing IPv4 TCP connections (pid, command, addresses, time to establish), from
 * the sock/inet_sock_set_state tracepoint through a ring buffer. BPF side: bpf/tcpconnect.bpf.c.
 * (On kernels that allow trampolines, an fentry on tcp_v4_connect would do the same; this one
 * works where they are refused.)
 *
 *   deno run -A examples/tcpconnect.ts [seconds]      bun examples/tcpconnect.ts [seconds]   (root)
 *
 * Traces for `seconds` (default 5) or until Ctrl-C; connects once to a local server of its own
 * after attaching, so that at least one line shows. Needs tracefs (see examples/execsnoop.ts).
 */
import { connect, createServer } from "node:net";
import process from "node:process";
import { loadObject } from "../lib/elf/mod.ts";
import { RingBuffer } from "../lib/ringbuf/mod.ts";

const seconds = Number(process.argv[2] ?? 5);
const text = (b: Uint8Array) => new TextDecoder().decode(b.subarray(0, b.indexOf(0)));

using obj = loadObject(new URL("./bpf/tcpconnect.bpf.o", import.meta.url).pathname);
using links = obj.attach(); // SEC("tracepoint/sock/inet_sock_set_state")
using events = new RingBuffer(obj.maps.events);
console.log(`Tracing TCP connects for ${seconds} s (${Object.keys(links.links)}); Ctrl-C to end.`);
console.log("PID      COMM             SOURCE                DESTINATION           LAT(ms)");

let shown = 0;
const print = (r: Uint8Array) => {
  const v = new DataView(r.buffer, r.byteOffset, r.byteLength);
  const pid = v.getUint32(0, true);
  const src = `${r.subarray(8, 12).join(".")}:${v.getUint16(4, true)}`;
  const dst = `${r.subarray(12, 16).join(".")}:${v.getUint16(6, true)}`;
  const ms = (Number(v.getBigUint64(16, true)) / 1e6).toFixed(3);
  console.log(
    `${String(pid).padEnd(8)} ${text(r.subarray(24, 40)).padEnd(16)} ${src.padEnd(21)} ${
      dst.padEnd(21)
    } ${ms}`,
  );
  shown++;
};

// One connection of our own: a server on a free port of 127.0.0.1, a client that connects.
const server = createServer((socket) => socket.end());
await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
const { port } = server.address() as { port: number };
await new Promise<void>((resolve, reject) => {
  const c = connect(port, "127.0.0.1", () => (c.end(), resolve()));
  c.on("error", reject);
});
server.close();
console.log(`(connected to our own server on 127.0.0.1:${port})`);

let stop = false;
const onInt = () => (stop = true);
process.on("SIGINT", onInt);
const end = Date.now() + seconds * 1000;
do await events.poll(100, print); while (!stop && Date.now() < end);
process.off("SIGINT", onInt);
console.log(`${shown} connections seen`);
