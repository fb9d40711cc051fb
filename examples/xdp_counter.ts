/**
 * A per-CPU XDP packet counter on `lo` with a live rate display. The program is written with
 * the assembler: per CPU, no atomics needed, it counts packets and bytes in a per-CPU array;
 * TypeScript sums the CPUs once a second.
 *
 *   deno run -A examples/xdp_counter.ts [seconds] [iface]      bun examples/xdp_counter.ts   (root)
 *
 * Counts for `seconds` (default 5) or until Ctrl-C on `iface` (default lo, in generic mode: lo
 * has no driver XDP). It sends 100 UDP datagrams to itself over lo first, so that the count moves.
 */
import { createSocket } from "node:dgram";
import process from "node:process";
import { asm, BpfMap, Program, u32, u64 } from "../mod.ts";
import { attachXdp } from "../lib/link/mod.ts";

const seconds = Number(process.argv[2] ?? 5);
const iface = process.argv[3] ?? "lo";

// Key 0: packets, key 1: bytes; one slot per CPU.
using counts = BpfMap.create({ type: "percpu_array", key: u32, value: u64, maxEntries: 2 });
using prog = Program.load({
  type: "xdp",
  license: "GPL",
  insns: asm`
    r6 = r1
    *(u32 *)(r10 - 4) = 0
    r1 = map[fd:${counts.fd}] ll
    r2 = r10
    r2 += -4
    call bpf_map_lookup_elem
    if r0 == 0 goto pass
    r1 = *(u64 *)(r0 + 0)
    r1 += 1
    *(u64 *)(r0 + 0) = r1
    *(u32 *)(r10 - 4) = 1
    r1 = map[fd:${counts.fd}] ll
    r2 = r10
    r2 += -4
    call bpf_map_lookup_elem
    if r0 == 0 goto pass
    r2 = *(u32 *)(r6 + 4)
    r3 = *(u32 *)(r6 + 0)
    r2 -= r3
    r1 = *(u64 *)(r0 + 0)
    r1 += r2
    *(u64 *)(r0 + 0) = r1
  pass:
    r0 = 2
    exit`, // XDP_PASS
});
using link = attachXdp(prog, iface, { mode: "generic" });
const total = (key: number) => counts.get(key)!.reduce((a, b) => a + b, 0n);
console.log(`Counting packets on ${iface} for ${seconds} s (link ${link.id}); Ctrl-C to end.`);

// Our own traffic: 100 datagrams of 64 bytes to a socket of ours, all received.
const rx = createSocket("udp4");
const tx = createSocket("udp4");
await new Promise<void>((resolve) => rx.bind(0, "127.0.0.1", resolve));
let received = 0;
const all = new Promise<void>((resolve) => rx.on("message", () => ++received === 100 && resolve()));
for (let i = 0; i < 100; i++) tx.send(new Uint8Array(64), rx.address().port, "127.0.0.1");
await all;
rx.close();
tx.close();
console.log(`sent and received 100 UDP datagrams over lo: ${total(0)} packets counted so far`);

let stop = false;
const onInt = () => (stop = true);
process.on("SIGINT", onInt);
let [lastPackets, lastBytes] = [total(0), total(1)];
for (let s = 0; s < seconds && !stop; s++) {
  await new Promise((r) => setTimeout(r, 1000));
  const [packets, bytes] = [total(0), total(1)];
  console.log(
    `${iface}: ${packets} packets, ${bytes} bytes; ${packets - lastPackets} pkt/s, ${
      bytes - lastBytes
    } B/s`,
  );
  [lastPackets, lastBytes] = [packets, bytes];
}
process.off("SIGINT", onInt);
console.log(`per CPU: ${counts.get(0)!.join(" ")} packets`);
