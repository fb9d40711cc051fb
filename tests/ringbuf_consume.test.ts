// RingBuffer.consume against the kernel: records from bpf_ringbuf_output and reserve/submit in
// order with their lengths and payloads, discarded records skipped, wrap-around through a small
// ring, early stops, errors from callbacks, and both commit modes.
import { test } from "node:test";
import assert from "node:assert/strict";
import { BpfMap } from "../lib/map/mod.ts";
import { RingBuffer, SMALL_RECORD_BYTES } from "../lib/ringbuf/mod.ts";
import { kernelSkip } from "./util.ts";
import { emit, expectedPayload, loadProducer, Mode } from "./ringbuf_helpers.ts";

function setup(maxEntries = 4096): {
  map: BpfMap;
  prog: ReturnType<typeof loadProducer>;
  close(): void;
} {
  const map = BpfMap.create({ type: "ringbuf", maxEntries });
  try {
    const prog = loadProducer(map.fd);
    return {
      map,
      prog,
      close() {
        prog.close();
        map.close();
      },
    };
  } catch (e) {
    map.close();
    throw e;
  }
}

test("consume: output and reserve/submit records in order, lengths and payloads", {
  skip: kernelSkip,
}, () => {
  const env = setup();
  try {
    using rb = new RingBuffer(env.map);
    assert.equal(rb.size, 4096);
    assert.equal(rb.available, false);
    assert.equal(rb.consume(() => assert.fail("no record expected")), 0);
    const sent: [number, number][] = [];
    for (let seq = 0; seq < 40; seq++) {
      const len = (seq % 32) + 1; // 1 … 32 bytes: every alignment
      if (seq % 5 === 4) {
        assert.equal(emit(env.prog, seq, 16, Mode.submit), 0);
        sent.push([seq, 16]);
      } else {
        assert.equal(emit(env.prog, seq, len, Mode.output), 0);
        sent.push([seq, len]);
      }
    }
    assert.equal(rb.available, true);
    const got: Uint8Array[] = [];
    const n = rb.consume((record) => {
      got.push(record.slice());
    });
    assert.equal(n, 40);
    assert.equal(rb.available, false);
    for (let i = 0; i < sent.length; i++) {
      const [seq, len] = sent[i];
      assert.equal(got[i].length, len, `record ${i} length`);
      assert.deepEqual(got[i], expectedPayload(seq, len), `record ${i} payload`);
    }
    assert.equal(rb.consume(() => assert.fail("drained")), 0);
  } finally {
    env.close();
  }
});

test("consume: discarded records are skipped", { skip: kernelSkip }, () => {
  const env = setup();
  try {
    using rb = new RingBuffer(env.map);
    const kept: number[] = [];
    for (let seq = 0; seq < 30; seq++) {
      const mode = seq % 3 === 1 ? Mode.discard : Mode.submit;
      assert.equal(emit(env.prog, seq, 16, mode), 0);
      if (mode === Mode.submit) kept.push(seq);
    }
    // Only discarded records left: available, but nothing to deliver.
    const seqs: number[] = [];
    const n = rb.consume((r) => {
      seqs.push(Number(new DataView(r.buffer, r.byteOffset).getBigUint64(0, true)));
    });
    assert.equal(n, kept.length);
    assert.deepEqual(seqs, kept);
    for (let seq = 0; seq < 3; seq++) emit(env.prog, seq, 16, Mode.discard);
    assert.equal(rb.available, true);
    assert.equal(rb.consume(() => assert.fail("discarded")), 0);
    assert.equal(rb.available, false);
  } finally {
    env.close();
  }
});

test("consume: wrap-around through a 4096-byte ring, records straddling the end", {
  skip: kernelSkip,
}, () => {
  const env = setup(4096);
  try {
    using rb = new RingBuffer(env.map);
    // 32-byte payload + 8-byte header = 40 bytes: 4096 is no multiple of 40, so records straddle
    // the end of the data area and are read through the second mapping.
    let seq = 0;
    let next = 0;
    let straddled = 0;
    let pos = 0;
    for (let round = 0; round < 60; round++) {
      const batch = 50 + (round % 40); // up to 89 × 40 = 3560 bytes: fits
      for (let i = 0; i < batch; i++) assert.equal(emit(env.prog, seq++, 32), 0);
      const n = rb.consume((record) => {
        assert.equal(record.length, 32);
        assert.deepEqual(record, expectedPayload(next, 32));
        const start = pos % 4096;
        if (start + 8 + 32 > 4096) straddled++;
        pos += 40;
        next++;
      });
      assert.equal(n, batch);
    }
    assert.equal(next, seq);
    assert.ok(seq * 40 > 4096 * 20, "went round the ring many times");
    assert.ok(straddled > 10, `records straddled the end ${straddled} times`);
    // A full ring refuses more, and draining makes room again.
    let full = 0;
    while (emit(env.prog, seq, 32) === 0) seq++;
    full = seq - next;
    assert.ok(full > 90 && full <= 4096 / 40, `${full} records fit`);
    assert.equal(rb.consume(() => {}), full);
    assert.equal(emit(env.prog, seq++, 32), 0);
    assert.equal(rb.consume(() => {}), 1);
  } finally {
    env.close();
  }
});

test(
  "consume: returning false stops after that record; the rest stay",
  { skip: kernelSkip },
  () => {
    const env = setup();
    try {
      using rb = new RingBuffer(env.map);
      for (let seq = 0; seq < 10; seq++) emit(env.prog, seq, 8);
      const first: number[] = [];
      assert.equal(
        rb.consume((r) => {
          first.push(r[0]);
          return first.length < 3 ? true : false;
        }),
        3,
      );
      assert.deepEqual(first, [0, 1, 2]);
      assert.equal(rb.available, true);
      const rest: number[] = [];
      assert.equal(rb.consume((r) => void rest.push(r[0])), 7);
      assert.deepEqual(rest, [3, 4, 5, 6, 7, 8, 9]);
    } finally {
      env.close();
    }
  },
);

test("consume: a throwing callback propagates; that record counts as consumed", {
  skip: kernelSkip,
}, () => {
  const env = setup();
  try {
    using rb = new RingBuffer(env.map);
    for (let seq = 0; seq < 4; seq++) emit(env.prog, seq, 8);
    assert.throws(
      () =>
        rb.consume((r) => {
          if (r[0] === 1) throw new Error("boom");
        }),
      /boom/,
    );
    const rest: number[] = [];
    rb.consume((r) => void rest.push(r[0]));
    assert.deepEqual(rest, [2, 3]);
  } finally {
    env.close();
  }
});

test("consume: commit 'record' and the onRecord option read the same stream", {
  skip: kernelSkip,
}, () => {
  const env = setup();
  try {
    const seen: number[] = [];
    using rb = new RingBuffer(env.map, { commit: "record", onRecord: (r) => void seen.push(r[0]) });
    for (let round = 0; round < 20; round++) {
      for (let i = 0; i < 50; i++) emit(env.prog, (round * 50 + i) & 0xff, 24);
      assert.equal(rb.consume(), 50);
    }
    assert.equal(seen.length, 1000);
    assert.ok(seen.every((v, i) => v === (i & 0xff)));
    assert.throws(() => new RingBuffer(env.map, { commit: "often" as never }), TypeError);
  } finally {
    env.close();
  }
});

test("consume: needs a callback; cannot re-enter; close() inside a callback", {
  skip: kernelSkip,
}, () => {
  const env = setup();
  try {
    const rb = new RingBuffer(env.map);
    assert.throws(() => rb.consume(), /needs a callback/);
    for (let seq = 0; seq < 3; seq++) emit(env.prog, seq, 8);
    assert.throws(() => rb.consume(() => void rb.consume(() => {})), /its own callback/);
    let calls = 0;
    assert.equal(
      rb.consume(() => {
        calls++;
        rb.close();
      }),
      1,
    );
    assert.equal(calls, 1);
    assert.equal(rb.closed, true);
    assert.throws(() => rb.consume(() => {}), /closed/);
  } finally {
    env.close();
  }
});

test("consume: { copy: true } passes writable copies that outlive close()", {
  skip: kernelSkip,
}, () => {
  using map = BpfMap.create({ type: "ringbuf", maxEntries: 4096 });
  using prog = loadProducer(map.fd);
  const kept: Uint8Array[] = [];
  {
    using rb = new RingBuffer(map);
    emit(prog, 1, 8);
    emit(prog, 2, 16);
    assert.equal(
      rb.consume((r) => {
        r[0] = 0xee; // a copy: writing is allowed (the ring itself is read-only)
        kept.push(r);
      }, { copy: true }),
      2,
    );
  }
  assert.deepEqual(kept.map((r) => r.length), [8, 16]);
  assert.equal(kept[0][0], 0xee);
  assert.deepEqual(kept[1].subarray(1), expectedPayload(2, 16).subarray(1));
  // The option on the RingBuffer, and poll() passing it on.
  using rb2 = new RingBuffer(map, { copy: true });
  emit(prog, 3, 8);
  let got: Uint8Array | undefined;
  rb2.consume((r) => void (got = r));
  rb2.close();
  assert.deepEqual(got, expectedPayload(3, 8));
});

test("consume: small records come in one reused buffer per length, large ones as ring views", {
  skip: kernelSkip,
}, () => {
  using map = BpfMap.create({ type: "ringbuf", maxEntries: 4096 });
  using prog = loadProducer(map.fd);
  using rb = new RingBuffer(map);
  assert.equal(SMALL_RECORD_BYTES, 256);
  // Lengths 8, 8, 13, 8, 13 and one of 512 bytes, twice over (the buffers persist across calls).
  const lengths = [8, 8, 13, 8, 13];
  for (let pass = 0; pass < 2; pass++) {
    const seqs = lengths.map((_, i) => pass * 100 + i);
    lengths.forEach((len, i) => assert.equal(emit(prog, seqs[i], len), 0));
    assert.equal(emit(prog, pass * 100 + 50, 0, Mode.big), 0);
    const seen: Uint8Array[] = [];
    const contents: Uint8Array[] = [];
    assert.equal(
      rb.consume((r) => {
        seen.push(r);
        contents.push(r.slice()); // valid during the callback: copied here
      }),
      6,
    );
    lengths.forEach((len, i) => assert.deepEqual(contents[i], expectedPayload(seqs[i], len)));
    // The same object for every record of one length, another for another length.
    assert.equal(seen[0], seen[1]);
    assert.equal(seen[0], seen[3]);
    assert.equal(seen[2], seen[4]);
    assert.notEqual(seen[0], seen[2]);
    // So a kept small record shows the last record of its length: the contract is "copy to keep".
    assert.deepEqual(seen[0], expectedPayload(seqs[3], 8));
    // The 512-byte record: a view of the ring itself, seq at byte 0 and seq+1 at byte 504.
    const big = seen[5];
    assert.equal(big.length, 512);
    assert.notEqual(big.buffer, seen[0].buffer);
    const v = new DataView(big.buffer, big.byteOffset, big.length);
    assert.equal(v.getBigUint64(0, true), BigInt(pass * 100 + 50));
    assert.equal(v.getBigUint64(504, true), BigInt(pass * 100 + 51));
    assert.ok(big.buffer.byteLength > 4096, "a view over the mapping, not a copy");
  }
});

test("consume: 200-byte records through the reused buffer, across the ring's end", {
  skip: kernelSkip,
}, () => {
  using map = BpfMap.create({ type: "ringbuf", maxEntries: 4096 });
  using prog = loadProducer(map.fd);
  using rb = new RingBuffer(map);
  // 208 bytes a record with its header: 4096 is not a multiple, so records straddle the end.
  let seq = 0;
  const objects = new Set<Uint8Array>();
  for (let round = 0; round < 6; round++) {
    const sent: number[] = [];
    for (let i = 0; i < 7; i++, seq += 2) {
      assert.equal(emit(prog, seq, 0, Mode.medium), 0);
      sent.push(seq);
    }
    const got: [number, number, number][] = [];
    assert.equal(
      rb.consume((r) => {
        objects.add(r);
        const v = new DataView(r.buffer, r.byteOffset, r.length);
        got.push([r.length, Number(v.getBigUint64(0, true)), Number(v.getBigUint64(192, true))]);
      }),
      7,
    );
    assert.deepEqual(got, sent.map((s) => [200, s, s + 1]));
  }
  assert.equal(objects.size, 1, "one reused buffer for every 200-byte record");
});
