// RingBuffer.consumeRaw against the kernel: the same records as consume() through one reused
// view (offset and length per record), wrap-around through a small ring, early stops, the view
// emptied by close(), and the consumer position carried past 2^32 bytes.
import { test } from "node:test";
import assert from "node:assert/strict";
import { BpfMap } from "../lib/map/mod.ts";
import { Program } from "../lib/program/program.ts";
import { asm } from "../lib/insn/mod.ts";
import { RingBuffer, RingBufferClosedError } from "../lib/ringbuf/mod.ts";
import { mmapMap, munmap, pageSize } from "../lib/ringbuf/mmap.ts";
import { sys } from "../lib/sys/mod.ts";
import { kernelSkip } from "./util.ts";
import { emit, expectedPayload, loadProducer, Mode } from "./ringbuf_helpers.ts";

function setup(maxEntries = 4096): { map: BpfMap; prog: Program; close(): void } {
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

test("consumeRaw: one reused view, the same records as consume(), across wrap-around", {
  skip: kernelSkip,
}, () => {
  const env = setup(4096);
  try {
    using raw = new RingBuffer(env.map);
    let seq = 0;
    const sent: [number, number][] = [];
    const views = new Set<Uint8Array>();
    const dataViews = new Set<DataView>();
    // 12 rounds of 40 records (about 1 KiB each) go round a 4 KiB ring several times, so some
    // records straddle its end.
    for (let round = 0; round < 12; round++) {
      for (let i = 0; i < 40; i++, seq++) {
        if (seq % 7 === 3) {
          assert.equal(emit(env.prog, seq, 16, Mode.discard), 0);
          continue;
        }
        const len = (seq % 32) + 1;
        assert.equal(emit(env.prog, seq, len, Mode.output), 0);
        sent.push([seq, len]);
      }
      const got: Uint8Array[] = [];
      const n = raw.consumeRaw((data, offset, length, view) => {
        views.add(data);
        dataViews.add(view);
        assert.equal(view.buffer, data.buffer);
        assert.equal(view.byteOffset, data.byteOffset);
        assert.ok(offset >= 0 && offset + length <= data.length);
        if (length >= 8) {
          assert.equal(view.getBigUint64(offset, true), BigInt(sent[got.length][0]));
        }
        got.push(data.slice(offset, offset + length));
      });
      assert.equal(n, got.length);
      for (const record of got) {
        const [s, len] = sent.shift()!;
        assert.deepEqual(record, expectedPayload(s, len));
      }
      assert.equal(sent.length, 0);
      assert.equal(raw.available, false);
    }
    assert.equal(views.size, 1, "one Uint8Array for every record");
    assert.equal(dataViews.size, 1, "one DataView for every record");
    const [data] = views;
    assert.equal(data.length, 2 * 4096, "the data area, mapped twice");
    raw.close();
    assert.equal(data.length, 0, "emptied by close()");
    assert.throws(() => raw.consumeRaw(() => {}), RingBufferClosedError);
  } finally {
    env.close();
  }
});

test("consumeRaw: false stops after that record, the rest stays; bad calls are TypeErrors", {
  skip: kernelSkip,
}, () => {
  const env = setup();
  try {
    using rb = new RingBuffer(env.map, { commit: "record" });
    for (let seq = 0; seq < 5; seq++) assert.equal(emit(env.prog, seq, 8), 0);
    const first: bigint[] = [];
    assert.equal(
      rb.consumeRaw((_d, offset, _l, view) => {
        first.push(view.getBigUint64(offset, true));
        return first.length < 2 ? undefined : false;
      }),
      2,
    );
    assert.deepEqual(first, [0n, 1n]);
    const rest: bigint[] = [];
    assert.equal(
      rb.consume((r) => void rest.push(new DataView(r.buffer, r.byteOffset).getBigUint64(0, true))),
      3,
    );
    assert.deepEqual(rest, [2n, 3n, 4n]);
    assert.throws(() => rb.consumeRaw(undefined as never), TypeError);
    emit(env.prog, 5, 8);
    assert.throws(
      () => rb.consumeRaw(() => void rb.consumeRaw(() => {})),
      /cannot be called from its own callback/,
    );
    // The record whose callback threw counts as consumed.
    assert.equal(rb.available, false);
  } finally {
    env.close();
  }
});

/**
 * A socket filter that reserves and submits one record of `len` bytes (contents left as the
 * kernel gives them), returning 0, or 1 when the ring is full.
 */
function loadBigProducer(ringFd: number, len: number): Program {
  return Program.load({
    type: "socket_filter",
    license: "GPL",
    insns: asm`
      r1 = map[fd:${ringFd}] ll
      r2 = ${len}
      r3 = 0
      call bpf_ringbuf_reserve
      if r0 == 0 goto full
      r1 = r0
      r2 = 0
      call bpf_ringbuf_submit
      r0 = 0
      exit
    full:
      r0 = 1
      exit`,
  });
}

test("consumeRaw: the consumer position carries past 2^32 bytes (4 GiB consumed)", {
  skip: kernelSkip,
}, () => {
  const RING = 1 << 20;
  const LEN = (1 << 18) - 8; // + 8-byte header: a quarter of the ring per record
  const map = BpfMap.create({ type: "ringbuf", maxEntries: RING });
  try {
    using prog = loadBigProducer(map.fd, LEN);
    using rb = new RingBuffer(map);
    // A second, read-only mapping of the consumer page: consumer_pos as the kernel sees it.
    const page = pageSize();
    const address = mmapMap(map.fd, page, 0, false);
    try {
      const positions = new BigUint64Array(sys().view(address, 8), 0, 1);
      const packet = new Uint8Array(64);
      const total = 2 ** 32 + 3 * (1 << 18); // past the carry, by a few records
      let consumed = 0;
      let records = 0;
      while (consumed < total) {
        for (let i = 0; i < 3; i++) assert.equal(prog.testRun({ data: packet }).retval, 0);
        records += rb.consumeRaw((_d, _o, length) => {
          assert.equal(length, LEN);
          consumed += 1 << 18;
        });
        assert.equal(positions[0], BigInt(consumed), "consumer_pos as the kernel reads it");
      }
      assert.equal(records, consumed / (1 << 18));
      assert.ok(consumed > 2 ** 32);
      assert.equal(rb.available, false);
      // The ring still works after the carry: the producer sees the space freed.
      assert.equal(prog.testRun({ data: packet }).retval, 0);
      assert.equal(rb.consumeRaw(() => {}), 1);
      assert.equal(positions[0], BigInt(consumed + (1 << 18)));
    } finally {
      munmap(address, page);
    }
  } finally {
    map.close();
  }
});
