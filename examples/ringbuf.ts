/**
 * A ring buffer from TypeScript: a socket filter reports every packet it sees (length and
 * protocol) through `bpf_ringbuf_output`, and user space reads the records in place with
 * `consume()`, waits for them with `poll()`, and streams them with `for await`.
 *
 *   deno run -A examples/ringbuf.ts        bun examples/ringbuf.ts        (as root)
 */
import { asm, Program } from "../mod.ts";
import { BpfMap } from "../lib/map/mod.ts";
import { RingBuffer } from "../lib/ringbuf/mod.ts";

using events = BpfMap.create({ type: "ringbuf", maxEntries: 1 << 16, name: "events" });

// struct event { u32 len; u32 protocol; }: skb->len (a test run's skb starts after the Ethernet
// header) and skb->protocol (big-endian ethertype in the low 16 bits).
using prog = Program.load({
  type: "socket_filter",
  license: "GPL",
  insns: asm`
    r2 = *(u32 *)(r1 + 0)       # skb->len
    *(u32 *)(r10 - 8) = r2
    r2 = *(u32 *)(r1 + 16)      # skb->protocol
    *(u32 *)(r10 - 4) = r2
    r1 = map[fd:${events.fd}] ll
    r2 = r10
    r2 += -8
    r3 = 8
    r4 = 0
    call bpf_ringbuf_output
    r0 = 0
    exit`,
});

/** Runs the filter on an Ethernet frame of `size` bytes (an IPv4 ethertype). */
function packet(size: number): void {
  const frame = new Uint8Array(size);
  frame[12] = 0x08; // ETH_P_IP
  prog.testRun({ data: frame });
}

const describe = (r: Uint8Array): string => {
  const v = new DataView(r.buffer, r.byteOffset, r.byteLength);
  return `len ${v.getUint32(0, true)}, protocol 0x${v.getUint16(4, false).toString(16)}`;
};

using rb = new RingBuffer(events);

// 1. consume(): drain what is there, reading each record in place.
for (const size of [60, 128, 1500]) packet(size);
console.log("1. consume()");
const n = rb.consume((record) => console.log(`   ${describe(record)}`));
console.log(`   ${n} records`);

// 2. poll(): wait without blocking the event loop; a timer sends a packet 100 ms later.
console.log("2. poll()");
let ticks = 0;
const ticker = setInterval(() => ticks++, 10);
setTimeout(() => packet(90), 100);
const t0 = performance.now();
const got = await rb.poll(2000, (record) => console.log(`   ${describe(record)}`));
console.log(
  `   ${got} record after ${
    (performance.now() - t0).toFixed(0)
  } ms; a 10 ms timer ticked ${ticks}×`,
);
console.log(`   poll(50) with nothing sent: ${await rb.poll(50, () => {})} records`);
clearInterval(ticker);

// 3. for await: copies, one at a time, as they arrive.
console.log("3. for await");
let sent = 0;
const sender = setInterval(() => sent < 3 ? packet(200 + 100 * sent++) : clearInterval(sender), 20);
let seen = 0;
for await (const record of rb) {
  console.log(`   ${describe(record)}`);
  if (++seen === 3) break;
}
clearInterval(sender);
