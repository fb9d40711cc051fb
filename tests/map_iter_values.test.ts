/**
 * entries({ batch: false }) on hash maps reads each value right after fetching the next key, and
 * needs no set of yielded keys until a key vanishes; these tests make keys vanish in the ways that
 * send the kernel's get_next_key back to its first key, and check exactly-once for every key
 * that was never deleted, and at-most-once for the rest.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { BpfMap } from "../lib/map/mod.ts";
import { u32, u64 } from "../lib/codec/mod.ts";
import { kernelSkip } from "./util.ts";

function filled(n: number): BpfMap<number, bigint> {
  const m = BpfMap.create({ type: "hash", key: u32, value: u64, maxEntries: 4096 });
  for (let k = 0; k < n; k++) m.set(k, BigInt(k) * 7n);
  return m;
}

function check(seen: Map<number, number>, gone: Set<number>, n: number): void {
  for (const [k, times] of seen) assert.equal(times, 1, `key ${k} seen ${times} times`);
  for (let k = 0; k < n; k++) if (!gone.has(k)) assert.ok(seen.has(k), `survivor ${k} missed`);
}

test("entries({ batch: false }): the prefetched key deleted each time, values still right", {
  skip: kernelSkip,
}, () => {
  using m = filled(2000);
  const seen = new Map<number, number>();
  const gone = new Set<number>();
  for (const [k, v] of m.entries({ batch: false })) {
    assert.equal(v, BigInt(k) * 7n);
    seen.set(k, (seen.get(k) ?? 0) + 1);
    // Delete the key the walk has already fetched as the next one: its value is gone when read.
    const next = m.nextKey(k);
    if (next !== undefined && gone.size < 400) {
      assert.ok(m.delete(next));
      gone.add(next);
    }
  }
  check(seen, gone, 2000);
  assert.equal(gone.size, 400);
});

test("entries({ batch: false }): recent keys and the first key deleted, then a restart", {
  skip: kernelSkip,
}, () => {
  using m = filled(3000);
  const order: number[] = [];
  const seen = new Map<number, number>();
  const gone = new Set<number>();
  const del = (k: number): void => {
    if (m.delete(k)) gone.add(k);
  };
  let i = 0;
  for (const [k] of m.entries({ batch: false })) {
    seen.set(k, (seen.get(k) ?? 0) + 1);
    order.push(k);
    if (++i % 250 === 0) {
      // Every recently yielded key (more than the walk remembers), the first key of the walk,
      // and the prefetched next key: the next fetch restarts, and no recent key is left to
      // resume from.
      for (const old of order.slice(-40)) del(old);
      del(order[0]);
      const next = m.nextKey(k);
      if (next !== undefined) del(next);
    }
  }
  check(seen, gone, 3000);
  assert.ok(gone.size > 300, `${gone.size} deleted`);
});

test("entries({ batch: false }): an empty map, one entry, and a map emptied by the loop body", {
  skip: kernelSkip,
}, () => {
  using m = filled(0);
  assert.deepEqual([...m.entries({ batch: false })], []);
  m.set(5, 1n);
  assert.deepEqual([...m.entries({ batch: false })], [[5, 1n]]);
  for (let k = 0; k < 100; k++) m.set(k, 2n);
  let n = 0;
  for (const [k] of m.entries({ batch: false })) {
    n++;
    if (n === 1) { for (let j = 0; j < 100; j++) if (j !== k) m.delete(j); }
  }
  assert.equal(n, 1);
  assert.equal(m.count(), 1);
});
