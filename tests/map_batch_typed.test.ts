/**
 * TypedBatchReader: the columnar view of batchReader() decodes entry i of the chunk held with the
 * map's codecs (raw copies without codecs, one value per CPU for per-CPU maps), follows the
 * buffers when a hash bucket makes them grow, and refuses indices outside the chunk.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { BpfMap, TypedBatchReader } from "../lib/map/mod.ts";
import { u32, u64 } from "../lib/codec/mod.ts";
import { kernelSkip } from "./util.ts";

test("batchReader key(i)/value(i): the same entries as entries(), typed and raw", {
  skip: kernelSkip,
}, () => {
  using typed = BpfMap.create({ type: "hash", key: u32, value: u64, maxEntries: 4096 });
  using raw = BpfMap.create({ type: "hash", keySize: 4, valueSize: 8, maxEntries: 4096 });
  for (let k = 0; k < 3000; k++) {
    typed.set(k, BigInt(k) * 11n);
    const key = new Uint8Array(4);
    new DataView(key.buffer).setUint32(0, k, true);
    const value = new Uint8Array(8);
    new DataView(value.buffer).setBigUint64(0, BigInt(k) * 11n, true);
    raw.set(key, value);
  }
  const r = typed.batchReader(256);
  assert.ok(r instanceof TypedBatchReader);
  const got = new Map<number, bigint>();
  for (let n = r.next(); n > 0 || !r.done; n = r.next()) {
    for (let i = 0; i < n; i++) got.set(r.key(i), r.value(i));
  }
  assert.deepEqual(got, new Map(typed.entries()));
  assert.equal(got.size, 3000);

  const rr = raw.batchReader(1000);
  const seen: Uint8Array[] = [];
  for (let n = rr.next(); n > 0 || !rr.done; n = rr.next()) {
    for (let i = 0; i < n; i++) {
      const k = rr.key(i);
      const v = rr.value(i);
      assert.ok(k instanceof Uint8Array && k.length === 4);
      const kk = new DataView(k.buffer, k.byteOffset).getUint32(0, true);
      assert.equal(new DataView(v.buffer, v.byteOffset).getBigUint64(0, true), BigInt(kk) * 11n);
      seen.push(k);
    }
  }
  assert.equal(seen.length, 3000);
  // Copies, not views of the reader's buffers: the next chunk does not change them.
  assert.equal(
    new Set(seen.map((k) => new DataView(k.buffer, k.byteOffset).getUint32(0, true))).size,
    3000,
  );
});

test(
  "batchReader key(i)/value(i): capacity 1 grows past full buckets; per-CPU values; bad indices",
  {
    skip: kernelSkip,
  },
  () => {
    using m = BpfMap.create({ type: "hash", key: u32, value: u64, maxEntries: 64 });
    for (let k = 0; k < 64; k++) m.set(k, BigInt(k));
    const r = m.batchReader(1);
    const got = new Map<number, bigint>();
    for (let n = r.next(); n > 0 || !r.done; n = r.next()) {
      for (let i = 0; i < n; i++) got.set(r.key(i), r.value(i));
    }
    assert.equal(got.size, 64);
    for (const [k, v] of got) assert.equal(v, BigInt(k));
    assert.throws(() => r.key(0), RangeError, "nothing held after the end");
    r.reset();
    const n = r.next();
    assert.ok(n > 0);
    assert.throws(() => r.value(n), /entry \d+ is not in the chunk held/);
    assert.throws(() => r.key(-1), RangeError);
    assert.throws(() => r.key(0.5), RangeError);

    using pc = BpfMap.create({ type: "percpu_hash", key: u32, value: u64, maxEntries: 16 });
    const cpus = pc.cpus;
    for (let k = 0; k < 10; k++) {
      pc.set(k, Array.from({ length: cpus }, (_, c) => BigInt(k * 100 + c)));
    }
    const pr = pc.batchReader(16);
    let entries = 0;
    for (let c = pr.next(); c > 0 || !pr.done; c = pr.next()) {
      for (let i = 0; i < c; i++) {
        const k = pr.key(i);
        assert.deepEqual(
          pr.value(i),
          Array.from({ length: cpus }, (_, c) => BigInt(k * 100 + c)),
        );
        entries++;
      }
    }
    assert.equal(entries, 10);
  },
);
