/**
 * BpfMap.scan(): every entry handed to a callback, raw keys and values in views reused for every
 * entry (valid until the callback returns), through batch chunks and through the get_next_key
 * walk; the same guarantees as entries() under deletes made by the callback (no entry twice,
 * every survivor once, an end), early stops, and errors.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { BpfMap, MapClosedError, MapOpNotSupportedError } from "../lib/map/mod.ts";
import { ArgumentError } from "../lib/errors.ts";
import { u32, u64 } from "../lib/codec/mod.ts";
import { kernelSkip } from "./util.ts";

function rawFilled(n: number): BpfMap<Uint8Array, Uint8Array> {
  const m = BpfMap.create({ type: "hash", keySize: 4, valueSize: 12, maxEntries: 4096 });
  const k = new Uint8Array(4);
  const v = new Uint8Array(12);
  for (let i = 0; i < n; i++) {
    new DataView(k.buffer).setUint32(0, i, true);
    new DataView(v.buffer).setUint32(8, i * 3, true);
    m.set(k, v);
  }
  return m;
}

const u32At = (b: Uint8Array, o: number): number =>
  new DataView(b.buffer, b.byteOffset, b.byteLength).getUint32(o, true);

for (const batch of [true, false]) {
  test(`scan({ batch: ${batch} }): raw keys and values in views reused for every entry`, {
    skip: kernelSkip,
  }, () => {
    using m = rawFilled(700);
    const keyObjects = new Set<Uint8Array>();
    const valueObjects = new Set<Uint8Array>();
    const seen: number[] = [];
    const n = m.scan((key, value) => {
      assert.equal(key.length, 4);
      assert.equal(value.length, 12);
      const k = u32At(key, 0);
      assert.equal(u32At(value, 8), k * 3, `value of ${k}, read during the callback`);
      // The callback may use the map: a lookup goes through the map's own scratch, not the views.
      assert.equal(u32At(m.get(key)!, 8), k * 3);
      assert.equal(u32At(key, 0), k, "the key view is unchanged by the lookup");
      keyObjects.add(key);
      valueObjects.add(value);
      seen.push(k);
    }, { batch });
    assert.equal(n, 700);
    assert.deepEqual(seen.sort((a, b) => a - b), Array.from({ length: 700 }, (_, i) => i));
    // Reused: one value object, and one key object (two in turn for the get_next_key walk).
    assert.equal(valueObjects.size, 1);
    assert.ok(keyObjects.size <= 2, `${keyObjects.size} key objects`);
    // A kept view shows a later entry (the contract is "copy to keep"); writing to it is harmless.
    const [kept] = valueObjects;
    kept.fill(0xff);
    const one = new Uint8Array([5, 0, 0, 0]);
    assert.equal(u32At(m.get(one)!, 8), 15);
  });

  test(`scan({ batch: ${batch} }): deletes from the callback: survivors once, none twice`, {
    skip: kernelSkip,
  }, () => {
    using m = BpfMap.create({ type: "hash", key: u32, value: u64, maxEntries: 4096 });
    for (let k = 0; k < 3000; k++) m.set(k, BigInt(k) * 7n);
    const seen = new Map<number, number>();
    const gone = new Set<number>();
    let i = 0;
    const n = m.scan((k, v) => {
      assert.equal(v, BigInt(k) * 7n);
      seen.set(k, (seen.get(k) ?? 0) + 1);
      // The key itself, the key the walk fetched next, and keys far ahead or behind.
      if (++i % 3 === 0 && m.delete(k)) gone.add(k);
      const next = m.nextKey(k);
      if (i % 5 === 0 && next !== undefined && m.delete(next)) gone.add(next);
      const far = (k * 7919) % 3000;
      if (i % 11 === 0 && m.delete(far)) gone.add(far);
    }, { batch });
    assert.equal(n, seen.size);
    for (const [k, times] of seen) assert.equal(times, 1, `key ${k} seen ${times} times`);
    for (let k = 0; k < 3000; k++) {
      if (!gone.has(k)) assert.ok(seen.has(k), `survivor ${k} missed`);
    }
    assert.ok(gone.size > 500, `${gone.size} deleted`);
  });

  test(`scan({ batch: ${batch} }): false stops; an empty map; a throwing callback propagates`, {
    skip: kernelSkip,
  }, () => {
    using m = BpfMap.create({ type: "hash", key: u32, value: u64, maxEntries: 64 });
    assert.equal(m.scan(() => assert.fail("no entries"), { batch }), 0);
    for (let k = 0; k < 40; k++) m.set(k, 1n);
    let calls = 0;
    assert.equal(m.scan(() => ++calls < 10 ? undefined : false, { batch }), 10);
    assert.equal(calls, 10);
    assert.throws(
      () =>
        m.scan(() => {
          throw new Error("boom");
        }, { batch }),
      /boom/,
    );
  });
}

test("scan: arrays by index, per-CPU values decoded, bad arguments and closed maps", {
  skip: kernelSkip,
}, () => {
  {
    using a = BpfMap.create({ type: "array", key: u32, value: u32, maxEntries: 5 });
    a.set(3, 9);
    const got: [number, number][] = [];
    assert.equal(a.scan((k, v) => void got.push([k, v])), 5);
    assert.deepEqual(got, [[0, 0], [1, 0], [2, 0], [3, 9], [4, 0]]);
  }
  {
    using p = BpfMap.create({ type: "percpu_hash", key: u32, value: u32, maxEntries: 8 });
    p.set(1, Array.from({ length: p.cpus }, (_, i) => i + 1));
    const values: number[][] = [];
    p.scan((_k, v) => void values.push(v));
    assert.deepEqual(values, [Array.from({ length: p.cpus }, (_, i) => i + 1)]);
  }
  using q = BpfMap.create({ type: "queue", valueSize: 4, maxEntries: 4 });
  assert.throws(() => q.scan(() => {}), MapOpNotSupportedError);
  using m = BpfMap.create({ type: "hash", key: u32, value: u64, maxEntries: 4 });
  assert.throws(() => m.scan(undefined as never), ArgumentError);
  assert.throws(() => m.scan(() => {}, null as never), /options/);
  assert.throws(() => m.scan(() => {}, { chunk: 0 }), ArgumentError);
  m.close();
  assert.throws(() => m.scan(() => {}), MapClosedError);
});
