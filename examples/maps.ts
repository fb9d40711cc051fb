/**
 * BPF maps from TypeScript: typed keys and values, a program that counts into a per-CPU map,
 * iteration, batches, queues, bloom filters, LPM tries, spin locks and pinning.
 *
 *   deno run -A examples/maps.ts        bun examples/maps.ts        (as root)
 */
import { asm, Program } from "../mod.ts";
import { BpfMap, MAP_TYPES } from "../lib/map/mod.ts";
import { lpmKey, spinLock, struct, u32, u64 } from "../lib/codec/mod.ts";
import { ElemFlag } from "../types/flags.ts";

const line = (s = "") => console.log(s);

// 1. A typed hash map: u32 keys, { pkts, bytes } values.
line("1. Typed hash map");
const Stats = struct({ pkts: u64, bytes: u64 });
using flows = BpfMap.create({
  type: "hash",
  key: u32,
  value: Stats,
  maxEntries: 1024,
  name: "flows",
});
flows.set(42, { pkts: 3n, bytes: 120n });
flows.set(7, { pkts: 1n, bytes: 60n });
line(
  `   get(42) = ${JSON.stringify(flows.get(42), (_, v) => typeof v === "bigint" ? `${v}n` : v)}`,
);
line(`   get(1)  = ${flows.get(1)}  (absent: undefined)`);
for (const [port, s] of flows) line(`   ${port}: ${s.pkts} packets, ${s.bytes} bytes`);
line();

// 2. A program counts packets into a per-CPU array; TypeScript sums the CPUs.
line("2. An XDP program counting into a per-CPU array");
using perCpu = BpfMap.create({
  type: "percpu_array",
  key: u32,
  value: u64,
  maxEntries: 1,
  name: "pkts",
});
using prog = Program.load({
  type: "xdp",
  license: "GPL",
  insns: asm`
    r1 = 0
    *(u32 *)(r10 - 4) = r1
    r2 = r10
    r2 += -4
    r1 = map[fd:${perCpu.fd}] ll
    call bpf_map_lookup_elem
    if r0 == 0 goto out
    r1 = *(u64 *)(r0 + 0)
    r1 += 1
    *(u64 *)(r0 + 0) = r1
  out:
    r0 = 2
    exit`,
});
prog.testRun({ data: new Uint8Array(64), repeat: 10 });
const values = perCpu.get(0)!;
line(`   per CPU: [${values.join(", ")}], total ${values.reduce((a, b) => a + b, 0n)}`);
perCpu.close(); // the program still holds the map
prog.testRun({ data: new Uint8Array(64) });
line(
  `   after closing our handle the program keeps counting: map id ${
    prog.info().mapIds[0]
  } lives on`,
);
line();

// 3. Batches: one system call for many entries.
line("3. Batches");
using big = BpfMap.create({ type: "hash", key: u32, value: u64, maxEntries: 65536 });
const entries = Array.from({ length: 10_000 }, (_, k) => [k, BigInt(k * k)] as [number, bigint]);
let t = performance.now();
big.batchUpdate(entries);
line(`   batchUpdate of 10,000 entries: ${(performance.now() - t).toFixed(2)} ms`);
t = performance.now();
const dump = big.batchLookup();
line(`   batchLookup: ${dump.length} entries in ${(performance.now() - t).toFixed(2)} ms`);
line(
  `   deleted while iterating: ${
    [...big.keys()].filter((k) => k % 2 === 0 && big.delete(k)).length
  }`,
);
line(`   left: ${big.count()}`);
line();

// 4. Queue, bloom filter, LPM trie.
line("4. Queue, bloom filter, LPM trie");
using queue = BpfMap.create({ type: "queue", value: u32, maxEntries: 8 });
for (const v of [1, 2, 3]) queue.push(v);
line(`   queue: peek ${queue.peek()}, pop ${queue.pop()}, pop ${queue.pop()}`);
using seen = BpfMap.create({ type: "bloom_filter", value: u32, maxEntries: 1000 });
seen.push(1234);
line(`   bloom filter: has(1234) ${seen.has(1234)}, has(99) ${seen.has(99)}`);
using routes = BpfMap.create({ type: "lpm_trie", key: lpmKey(4), value: u32, maxEntries: 64 });
routes.set("10.0.0.0/8" as never, 1);
routes.set("10.1.0.0/16" as never, 2);
line(
  `   LPM: 10.1.2.3 -> ${routes.get("10.1.2.3" as never)}, 10.9.9.9 -> ${
    routes.get("10.9.9.9" as never)
  }`,
);
line();

// 5. A value with a bpf_spin_lock: BTF is generated, BPF_F_LOCK works.
line("5. Spin-locked values (BPF_F_LOCK)");
using locked = BpfMap.create({
  type: "hash",
  key: u32,
  value: struct({ lock: spinLock, hits: u32, total: u64 }),
  maxEntries: 16,
});
locked.set(1, { hits: 5, total: 500n }, ElemFlag.LOCK);
line(
  `   get under the lock: ${
    JSON.stringify(locked.get(1, ElemFlag.LOCK), (_, v) => typeof v === "bigint" ? `${v}n` : v)
  } (BTF id ${locked.info().btfId})`,
);
line();

// 6. Pinning.
line("6. Pinning");
const path = `/sys/fs/bpf/tsbpf_example_${Date.now()}`;
flows.pin(path);
{
  using again = BpfMap.fromPin(path, { key: u32, value: Stats });
  line(`   ${path}: id ${again.id}, ${again.count()} entries`);
}
flows.unpin();
line("   unpinned");
line();

// 7. The map type table.
line("7. What each map type supports (from the table)");
for (const t of MAP_TYPES.filter((m) => m.standalone)) {
  const ops = Object.entries(t.ops).filter(([, v]) => v === true).map(([k]) => k);
  line(
    `   ${t.name.padEnd(20)} key ${t.key.padEnd(5)} ${t.perCpu ? "per-CPU " : ""}${ops.join(" ")}`,
  );
}
