// PerfBuffer against the kernel: records read in order with their CPU, none lost below capacity,
// records that wrap around the ring end, honest lost counts on overflow, waiting, the async
// iterator with AbortSignal, pause/resume, and release of every event, mapping and map entry.
import { test } from "node:test";
import assert from "node:assert/strict";
import { BpfMap } from "../lib/map/mod.ts";
import { onlineCpus, PerfBuffer, PerfBufferClosedError } from "../lib/perf/mod.ts";
import { ClosedError } from "../lib/errors.ts";
import { asm } from "../lib/insn/mod.ts";
import { Program } from "../lib/program/program.ts";
import { fdsOpenedSince, kernelSkip, openFds } from "./util.ts";
import { emitRecords, loadEmitter, onOneCpu, perfMappings, u64At } from "./perf_helpers.ts";

const PAGE = 4096;

test("no record is lost below capacity; each arrives once, in order per CPU, with its CPU", {
  skip: kernelSkip,
}, () => {
  using obj = loadEmitter();
  using pb = new PerfBuffer(obj.maps.events, { pages: 2 });
  const online = onlineCpus();
  assert.deepEqual([...pb.cpus], online.filter((c) => c < obj.maps.events.maxEntries));
  const seen: number[] = [];
  const lastPerCpu = new Map<number, number>();
  let lost = 0;
  let seq = 0;
  // 48-byte records (8 header + 4 size + 36 data), 150 per round: 7200 of 8192 bytes.
  for (let round = 0; round < 20; round++) {
    const r = emitRecords(obj, seq, 150, 36);
    assert.equal(r.dropped, 0);
    assert.equal(r.next, seq + 150);
    seq = r.next;
    const n = pb.consume((data, cpu) => {
      assert.equal(data.length, 36);
      assert.ok(pb.cpus.includes(cpu));
      const s = u64At(data, 0);
      const prev = lastPerCpu.get(cpu);
      if (prev !== undefined) assert.ok(s > prev, `CPU ${cpu}: ${s} after ${prev}`);
      lastPerCpu.set(cpu, s);
      seen.push(s);
    }, (count) => lost += count);
    assert.equal(n, 150);
  }
  assert.equal(lost, 0);
  seen.sort((a, b) => a - b);
  assert.deepEqual(seen, Array.from({ length: seq }, (_, i) => i));
  assert.equal(pb.available, false);
});

test("records that wrap around the end of a ring arrive whole", { skip: kernelSkip }, () => {
  using obj = loadEmitter();
  using pb = new PerfBuffer(obj.maps.events, { pages: 1 });
  // 8 + 4 + 60 = 72-byte records: 4096 is not a multiple, so records straddle the end.
  const SIZE = 60;
  const TOTAL = 8 + 4 + SIZE;
  let seq = 0;
  const position = new Map<number, number>(); // per CPU: bytes written so far
  let wrapped = 0;
  for (let round = 0; round < 12; round++) {
    const r = emitRecords(obj, seq, 50, SIZE);
    assert.equal(r.dropped, 0);
    let next = seq;
    pb.consume((data, cpu) => {
      assert.equal(data.length, SIZE);
      assert.equal(u64At(data, 0), next);
      assert.equal(u64At(data, 8), next - seq); // the loop index
      for (let i = 16; i < SIZE; i++) assert.equal(data[i], 0, `byte ${i} of record ${next}`);
      const pos = position.get(cpu) ?? 0;
      // The data starts 12 bytes in; it wraps when it crosses the ring's end.
      const start = (pos + 12) % PAGE;
      if (start + SIZE > PAGE) wrapped++;
      position.set(cpu, pos + TOTAL);
      next++;
    });
    assert.equal(next, r.next);
    seq = r.next;
  }
  assert.ok(wrapped >= 2, `only ${wrapped} records wrapped`);
});

test("the kernel's padding is part of the record: 33 bytes arrive as 36", {
  skip: kernelSkip,
}, () => {
  using obj = loadEmitter();
  using pb = new PerfBuffer(obj.maps.events, { pages: 1 });
  emitRecords(obj, 7, 1, 33);
  const lengths: number[] = [];
  pb.consume((data) => void lengths.push(data.length, u64At(data, 0)));
  assert.deepEqual(lengths, [36, 7]);
});

test("overflow: the lost-sample records count exactly what the program could not write", {
  skip: kernelSkip,
}, () => {
  using obj = loadEmitter();
  using pb = new PerfBuffer(obj.maps.events, { pages: 1 });
  const r = emitRecords(obj, 0, 500, 36); // 48-byte records: 85 fit in 4096 bytes
  assert.ok(r.dropped > 0);
  assert.equal(r.next + r.dropped, 500);
  let received = 0;
  let lost = 0;
  const lostCpus = new Set<number>();
  const onLost = (count: number, cpu: number): void => {
    lost += count;
    lostCpus.add(cpu);
  };
  received += pb.consume(() => {}, onLost);
  assert.equal(received, r.next);
  // The kernel writes the lost record before the next sample that fits on that CPU.
  let seq = r.next;
  let extra = 0;
  for (let i = 0; i < 100 && lost < r.dropped; i++) {
    const e = emitRecords(obj, seq, 1, 8);
    assert.equal(e.dropped, 0);
    seq = e.next;
    extra++;
    received += pb.consume(() => {}, onLost);
  }
  assert.equal(lost, r.dropped);
  assert.equal(lostCpus.size, 1);
  assert.equal(received, r.next + extra);
});

test("poll() waits through epoll without blocking the event loop; wakeupEvents batches wake-ups", {
  skip: kernelSkip,
}, async () => {
  using obj = loadEmitter();
  using pb = new PerfBuffer(obj.maps.events, { pages: 2 });
  assert.equal(await pb.poll(0, () => {}), 0);
  let ticks = 0;
  const ticker = setInterval(() => ticks++, 5);
  try {
    setTimeout(() => emitRecords(obj, 40, 3, 16), 60);
    const got: number[] = [];
    const n = await pb.poll(10_000, (data) => void got.push(u64At(data, 0)));
    assert.equal(n, 3);
    assert.deepEqual(got, [40, 41, 42]);
    assert.ok(ticks > 0, "timers ran while waiting");
  } finally {
    clearInterval(ticker);
  }
  // wakeupEvents: 4 — three samples do not wake a waiter (the kernel counts samples per ring
  // since it opened); four more in one run (on one CPU) do.
  using batched = new PerfBuffer(obj.maps.events, { pages: 1, wakeupEvents: 4 });
  let woke = false;
  const waiting = batched.wait(10_000).then((r) => woke = r);
  await new Promise((resolve) => setTimeout(resolve, 20));
  emitRecords(obj, 100, 3, 16);
  await new Promise((resolve) => setTimeout(resolve, 100));
  assert.equal(woke, false, "three samples woke a wakeupEvents: 4 reader");
  assert.equal(batched.available, true);
  emitRecords(obj, 103, 4, 16);
  await waiting;
  assert.equal(woke, true);
  assert.equal(batched.consume(() => {}), 7);
});

test("the async iterator yields samples and lost counts with their CPU; an AbortSignal ends it", {
  skip: kernelSkip,
}, () =>
  onOneCpu(async () => {
    using obj = loadEmitter();
    using pb = new PerfBuffer(obj.maps.events, { pages: 1 });
    const r = emitRecords(obj, 0, 200, 36);
    const ac = new AbortController();
    const samples: number[] = [];
    let lost = 0;
    let seq = r.next;
    let refills = 0;
    let refillsSeen = 0;
    for await (const ev of pb.events(ac.signal)) {
      assert.ok(pb.cpus.includes(ev.cpu));
      if (ev.type === "sample") {
        const s = u64At(ev.data, 0);
        ev.data[0] ^= 0xff; // a copy: writable, kept
        if (s < r.next) samples.push(s);
        else refillsSeen++;
      } else lost += ev.lost;
      if ((lost === r.dropped && samples.length === r.next) || refills >= 1000) {
        ac.abort();
        continue;
      }
      // The kernel writes a CPU's lost record before the next sample that fits on that CPU. The
      // producer runs on the CPU this thread is pinned to (onOneCpu), the one whose ring
      // overflowed: refill one record at a time until the lost record comes.
      if (samples.length === r.next && refillsSeen === refills) {
        seq = emitRecords(obj, seq, 1, 8).next;
        refills++;
      }
    }
    assert.equal(lost, r.dropped, `lost records reported after ${refills} refills`);
    assert.equal(samples.length, r.next);
    assert.deepEqual(samples.slice(0, r.next).sort((a, b) => a - b), [
      ...Array.from({ length: r.next }, (_, i) => i),
    ]);
    // An abort while waiting ends the wait at once, and the reader keeps working afterwards.
    pb.consume(() => {});
    const ac2 = new AbortController();
    setTimeout(() => ac2.abort(), 20);
    const events: unknown[] = [];
    for await (const ev of pb.events(ac2.signal)) events.push(ev);
    assert.deepEqual(events, []);
    emitRecords(obj, 9, 1, 8);
    assert.equal(await pb.poll(10_000, () => {}), 1);
  }));

test("pause() drops output into lost counts; resume() reports them", { skip: kernelSkip }, () => {
  using obj = loadEmitter();
  using pb = new PerfBuffer(obj.maps.events, { pages: 1 });
  pb.pause();
  assert.equal(pb.paused, true);
  const r = emitRecords(obj, 0, 5, 16);
  assert.equal(r.dropped, 5); // ENOSPC: output is paused
  assert.equal(pb.consume(() => {}), 0);
  pb.resume();
  assert.equal(pb.paused, false);
  let lost = 0;
  let received = 0;
  let seq = 0;
  for (let i = 0; i < 100 && lost < 5; i++) {
    seq = emitRecords(obj, seq, 1, 16).next;
    received += pb.consume(() => {}, (n) => lost += n);
  }
  assert.equal(lost, 5);
  assert.equal(received, seq);
});

test("close() removes the map entries and releases every event fd, mapping and epoll fd", {
  skip: kernelSkip,
}, () => {
  using obj = loadEmitter();
  const fds0 = openFds();
  const maps0 = perfMappings();
  const pb = new PerfBuffer(obj.maps.events, { pages: 1 });
  const n = pb.cpus.length;
  assert.equal(perfMappings(), maps0 + n);
  // One perf event per CPU, our own map fd, one epoll instance.
  assert.equal(fdsOpenedSince(fds0).length, n + 2);
  assert.equal(emitRecords(obj, 0, 1, 8).dropped, 0);
  pb.close();
  pb.close();
  assert.equal(pb.closed, true);
  assert.equal(perfMappings(), maps0);
  assert.deepEqual(fdsOpenedSince(fds0), []);
  assert.equal(emitRecords(obj, 0, 3, 8).dropped, 3); // ENOENT: no event in the map any more
  assert.throws(() => pb.consume(() => {}), PerfBufferClosedError);
  assert.throws(() => pb.available, ClosedError);
  assert.throws(() => pb.pause(), /pause\(\) on a PerfBuffer that is closed/);
});

test("close() from a callback takes effect when consume() returns", { skip: kernelSkip }, () => {
  using obj = loadEmitter();
  const pb = new PerfBuffer(obj.maps.events, { pages: 1 });
  emitRecords(obj, 0, 5, 8);
  let calls = 0;
  const n = pb.consume(() => {
    calls++;
    pb.close();
  });
  assert.equal(n, 1);
  assert.equal(calls, 1);
  assert.equal(pb.closed, true);
});

test("bad sources and options are refused before anything is opened", {
  skip: kernelSkip,
}, () => {
  const fds0 = openFds();
  {
    using hash = BpfMap.create({ type: "hash", keySize: 4, valueSize: 4, maxEntries: 1 });
    assert.throws(() => new PerfBuffer(hash), /needs a perf_event_array map.*got map type hash/);
    using arr = BpfMap.create({ type: "perf_event_array", maxEntries: 1 });
    assert.throws(() => new PerfBuffer(arr, { pages: 3 }), /pages must be a power of two/);
    assert.throws(
      () => new PerfBuffer(arr, { wakeupEvents: 2, watermark: 100 }),
      /wakeupEvents or watermark, not both/,
    );
    assert.throws(() => new PerfBuffer(arr, { watermark: 1 << 30 }), /watermark must be/);
    assert.throws(() => new PerfBuffer(arr, { cpus: [5] }), /CPU 5 has no slot.*max_entries 1/);
    assert.throws(() => new PerfBuffer(-1 as never), TypeError);
    // One slot: only CPU 0 is read.
    using one = new PerfBuffer(arr, { watermark: 64 });
    assert.deepEqual([...one.cpus], [0]);
    assert.throws(() => one.consume(), /needs a callback/);
  }
  assert.deepEqual(fdsOpenedSince(fds0), []);
});

test("consume: small samples come in one reused buffer per length, valid during the callback", {
  skip: kernelSkip,
}, () => {
  using obj = loadEmitter();
  using pb = new PerfBuffer(obj.maps.events, { pages: 2 });
  // Payloads of 16 and 36 bytes arrive as 20 and 36 (the kernel's padding).
  let seq = 0;
  for (const size of [16, 36, 16, 36, 16]) seq = emitRecords(obj, seq, 2, size).next;
  const byLength = new Map<number, Set<Uint8Array>>();
  const seqs: number[] = [];
  const last = new Map<number, number>(); // length → seq of the last sample of that length
  for (let pass = 0; pass < 2; pass++) {
    assert.equal(
      pb.consume((data) => {
        const s = u64At(data, 0); // valid during the callback
        seqs.push(s);
        last.set(data.length, s);
        if (!byLength.has(data.length)) byLength.set(data.length, new Set());
        byLength.get(data.length)!.add(data);
      }),
      pass === 0 ? 10 : 4,
    );
    if (pass === 0) seq = emitRecords(obj, seq, 4, 16).next; // the buffers persist across calls
  }
  assert.deepEqual(seqs.sort((a, b) => a - b), Array.from({ length: 14 }, (_, i) => i));
  assert.deepEqual([...byLength.keys()].sort((a, b) => a - b), [20, 36]);
  const [b20] = byLength.get(20)!;
  const [b36] = byLength.get(36)!;
  assert.equal(byLength.get(20)!.size, 1, "one object for every 20-byte sample");
  assert.equal(byLength.get(36)!.size, 1, "one object for every 36-byte sample");
  assert.notEqual(b20, b36);
  // A kept small sample shows the last sample of its length: the contract is "copy to keep".
  assert.equal(u64At(b20, 0), last.get(20));
  assert.equal(u64At(b36, 0), last.get(36));
  b20[0] ^= 0xff; // a private copy: writing to it is harmless
});

test("consume: a sample above 1 KiB is a view of the ring, another object per sample", {
  skip: kernelSkip,
}, () => {
  // An XDP program that outputs the 2000-byte value of an array map (seq at byte 0, seq+1 at
  // byte 1992) and then bumps seq.
  using events = BpfMap.create({ type: "perf_event_array", maxEntries: 64 });
  using values = BpfMap.create({ type: "array", keySize: 4, valueSize: 2000, maxEntries: 1 });
  const init = new Uint8Array(2000);
  values.set(new Uint8Array(4), init);
  using prog = Program.load({
    type: "xdp",
    license: "GPL",
    insns: asm`
      r6 = r1
      r1 = 0
      *(u32 *)(r10 - 4) = r1
      r2 = r10
      r2 += -4
      r1 = map[fd:${values.fd}] ll
      call bpf_map_lookup_elem
      if r0 == 0 goto out
      r7 = r0
      r1 = *(u64 *)(r7 + 0)
      r1 += 1
      *(u64 *)(r7 + 1992) = r1
      r1 = r6
      r2 = map[fd:${events.fd}] ll
      r3 = 0xffffffff ll
      r4 = r7
      r5 = 2000
      call bpf_perf_event_output
      r1 = *(u64 *)(r7 + 0)
      r1 += 1
      *(u64 *)(r7 + 0) = r1
    out:
      r0 = 2
      exit`,
  });
  using pb = new PerfBuffer(events, { pages: 4 });
  const packet = new Uint8Array(new ArrayBuffer(64));
  for (let i = 0; i < 3; i++) assert.equal(prog.testRun({ data: packet }).retval, 2);
  const seen: Uint8Array[] = [];
  const seqs: number[] = [];
  assert.equal(
    pb.consume((data) => {
      seen.push(data);
      assert.equal(data.length, 2004); // padded: (2000 + 4) is a multiple of 8
      const s = u64At(data, 0);
      assert.equal(u64At(data, 1992), s + 1);
      seqs.push(s);
    }),
    3,
  );
  assert.deepEqual(seqs.sort(), [0, 1, 2]);
  assert.equal(new Set(seen).size, 3, "a view per large sample");
  for (const v of seen) {
    assert.ok(v.buffer.byteLength > 2004, "a view over the mapping, not a copy");
  }
});
