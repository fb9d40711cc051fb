/** Batch operations: BPF_MAP_*_BATCH where the type has them, clean fallbacks where not. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { BpfMap, MapOpNotSupportedError } from "../lib/map/mod.ts";
import { u32, u64 } from "../lib/codec/mod.ts";
import { BpfError } from "../lib/errors.ts";
import { fdsOpenedSince, kernelSkip, openFds } from "./util.ts";

test("batchUpdate, batchLookup, batchDelete, batchLookupAndDelete on a hash map", {
  skip: kernelSkip,
}, () => {
  // The fds this test opens are all closed at the end. A count would not do: in a runtime that
  // runs every file in one process, another file's object finalized meanwhile closes its fd.
  const before = openFds();
  {
    using m = BpfMap.create({ type: "hash", key: u32, value: u64, maxEntries: 65536 });
    const entries: [number, bigint][] = Array.from(
      { length: 10_000 },
      (_, k) => [k, BigInt(k) * 2n],
    );
    assert.equal(m.batchUpdate(entries), 10_000);
    const all = m.batchLookup({ chunk: 256 });
    assert.equal(all.length, 10_000);
    assert.deepEqual(new Map(all), new Map(entries));
    assert.equal(m.batchDelete([1, 2, 3, 999_999, 4]), 4, "absent keys are skipped");
    assert.equal(m.count(), 9_996);
    const drained = m.batchLookupAndDelete();
    assert.equal(drained.length, 9_996);
    assert.equal(m.count(), 0);
  }
  assert.deepEqual(fdsOpenedSince(before), []);
});

test("batchReader: raw chunks with no allocation per call; grows past a full bucket", {
  skip: kernelSkip,
}, () => {
  using m = BpfMap.create({ type: "hash", key: u32, value: u64, maxEntries: 4096 });
  m.batchUpdate(Array.from({ length: 3000 }, (_, k) => [k, BigInt(k)] as [number, bigint]));
  const r = m.batchReader(1); // a bucket with two entries does not fit one slot: ENOSPC, grow
  let total = 0;
  const keys = new Set<number>();
  for (let n = r.next(); n > 0 || !r.done; n = r.next()) {
    const view = new DataView(r.keys.buffer);
    for (let i = 0; i < n; i++) keys.add(view.getUint32(i * 4, true));
    total += n;
  }
  assert.equal(total, 3000);
  assert.equal(keys.size, 3000);
  r.reset();
  let again = 0;
  for (let n = r.next(); n > 0 || !r.done; n = r.next()) again += n;
  assert.equal(again, 3000);
});

test(
  "batchUpdate reports how far it got when the kernel refuses an entry",
  { skip: kernelSkip },
  () => {
    using m = BpfMap.create({ type: "hash", key: u32, value: u64, maxEntries: 4 });
    assert.throws(
      () => m.batchUpdate(Array.from({ length: 6 }, (_, k) => [k, 0n] as [number, bigint])),
      (e: unknown) => {
        assert.ok(e instanceof BpfError);
        assert.equal(e.errnoName, "E2BIG");
        assert.match(e.message, /after writing 4 of 6 \(the map is full, max_entries 4\)/);
        return true;
      },
    );
    assert.equal(m.count(), 4);
  },
);

test("array batches: lookup and update; delete batches are refused", { skip: kernelSkip }, () => {
  using a = BpfMap.create({ type: "array", key: u32, value: u32, maxEntries: 8 });
  a.batchUpdate([[1, 10], [2, 20]]);
  assert.deepEqual(a.batchLookup({ chunk: 3 }).filter(([, v]) => v !== 0), [[1, 10], [2, 20]]);
  assert.throws(() => a.batchDelete([1]), MapOpNotSupportedError);
  assert.throws(() => a.batchLookupAndDelete(), MapOpNotSupportedError);
});

test(
  "types without batch operations fall back to one call per element",
  { skip: kernelSkip },
  () => {
    using d = BpfMap.create({ type: "devmap_hash", key: u32, value: u32, maxEntries: 8 });
    assert.equal(d.batchUpdate([[5, 1], [6, 1]]), 2);
    assert.deepEqual(new Map(d.batchLookup()), new Map([[5, 1], [6, 1]]));
    assert.equal(d.batchDelete([5, 7]), 1);
    assert.deepEqual(d.batchLookupAndDelete(), [[6, 1]]);
    assert.equal(d.count(), 0);
    assert.throws(
      () => d.batchReader(),
      /batchReader\(\) is not supported by devmap_hash maps: this map type has no batch operations \(the kernel answers ENOTSUPP\)/,
    );
  },
);

test("LPM trie: batch lookup and delete, drain falls back", { skip: kernelSkip }, () => {
  using t = BpfMap.create({ type: "lpm_trie", keySize: 8, value: u32, maxEntries: 16 });
  const key = (n: number) => new Uint8Array([32, 0, 0, 0, 10, 0, 0, n]);
  t.batchUpdate([[key(1), 1], [key(2), 2], [key(3), 3]]);
  assert.equal(t.batchLookup().length, 3);
  assert.equal(t.batchDelete([key(1)]), 1);
  assert.deepEqual(t.batchLookupAndDelete().map(([, v]) => v).sort(), [2, 3]);
  assert.equal(t.count(), 0);
});
