/**
 * Iteration under concurrent deletes: every entry that is not deleted is seen exactly once, no
 * entry is seen twice, and the walk ends.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { BpfMap } from "../lib/map/mod.ts";
import { lpmKey, u32, u64 } from "../lib/codec/mod.ts";
import { kernelSkip } from "./util.ts";

const N = 100_000;

/** A deterministic pseudo-random sequence (xorshift32). */
function* randoms(seed: number): Generator<number, never, undefined> {
  let x = seed >>> 0 || 1;
  for (;;) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    yield x;
  }
}

/**
 * Walks `iterate()` while a second loop (a generator advanced once per entry) deletes keys: the
 * current key, keys already seen, and keys not reached yet. Checks exactly-once for survivors.
 */
function iterateWhileDeleting(
  map: BpfMap<number, bigint>,
  iterate: () => Iterable<number>,
): { seen: number; deleted: number } {
  const deleted = new Set<number>();
  const seen = new Map<number, number>();
  const rnd = randoms(12345);
  function* deleter(): Generator<void, void, number> {
    for (;;) {
      const current: number = yield;
      const r = rnd.next().value;
      if (r % 7 === 0 && map.delete(current)) deleted.add(current); // the key just handed out
      if (r % 5 === 0) {
        const k = rnd.next().value % N; // anywhere: ahead or behind
        if (map.delete(k)) deleted.add(k);
      }
    }
  }
  const other = deleter();
  other.next();
  for (const k of iterate()) {
    seen.set(k, (seen.get(k) ?? 0) + 1);
    other.next(k);
  }
  for (const [k, n] of seen) assert.equal(n, 1, `key ${k} seen ${n} times`);
  for (let k = 0; k < N; k++) {
    if (!deleted.has(k)) assert.ok(seen.has(k), `key ${k} was never deleted but not seen`);
  }
  assert.ok(deleted.size > N / 10, `${deleted.size} deletes`);
  return { seen: seen.size, deleted: deleted.size };
}

function filled(): BpfMap<number, bigint> {
  const m = BpfMap.create({ type: "hash", key: u32, value: u64, maxEntries: 131072 });
  const entries: [number, bigint][] = [];
  for (let k = 0; k < N; k++) entries.push([k, BigInt(k) * 3n]);
  assert.equal(m.batchUpdate(entries), N);
  return m;
}

test("100,000 entries, batch iteration (default for hash maps) while another loop deletes", {
  skip: kernelSkip,
}, () => {
  using m = filled();
  const r = iterateWhileDeleting(m, () => m.keys());
  assert.ok(r.seen >= N - r.deleted);
});

test(
  "100,000 entries, get_next_key iteration while another loop deletes",
  { skip: kernelSkip },
  () => {
    using m = filled();
    iterateWhileDeleting(m, () => m.keys({ batch: false }));
  },
);

test("100,000 entries: entries() skip what is deleted before its value is read", {
  skip: kernelSkip,
}, () => {
  using m = filled();
  function* keysOfEntries(): Generator<number, void, undefined> {
    for (const [k, v] of m.entries({ batch: false })) {
      assert.equal(v, BigInt(k) * 3n);
      yield k;
    }
  }
  iterateWhileDeleting(m, keysOfEntries);
});

test("get_next_key restarts are survived: deleting the key after the current one", {
  skip: kernelSkip,
}, () => {
  using m = BpfMap.create({ type: "hash", key: u32, value: u64, maxEntries: 4096 });
  for (let k = 0; k < 2000; k++) m.set(k, 0n);
  const seen = new Set<number>();
  const gone = new Set<number>();
  let deleted = 0;
  for (const k of m.keys({ batch: false })) {
    assert.ok(!seen.has(k), `key ${k} twice`);
    seen.add(k);
    // Delete what the kernel will return next (the iterator has fetched it already): the next
    // get_next_key starts from a deleted key, so the kernel restarts from its first key.
    const nextKey = m.nextKey(k);
    if (nextKey !== undefined && deleted < 500) {
      m.delete(nextKey);
      gone.add(nextKey);
      deleted++;
      // The kernel's rule this survives: from a deleted key, get_next_key restarts at the start.
      if (deleted === 1) assert.equal(m.nextKey(nextKey), m.nextKey());
    }
  }
  // Every key that was never deleted was seen (exactly once, checked above).
  for (let k = 0; k < 2000; k++) if (!gone.has(k)) assert.ok(seen.has(k), `survivor ${k} missed`);
  assert.ok(deleted > 100);
});

test("LPM trie walk (hash order, no batch) under deletes", { skip: kernelSkip }, () => {
  using t = BpfMap.create({ type: "lpm_trie", key: lpmKey(4), value: u32, maxEntries: 4096 });
  const key = (i: number) => ({ prefixLen: 32, data: new Uint8Array([10, 0, i >> 8, i & 0xff]) });
  for (let i = 0; i < 3000; i++) t.set(key(i), i);
  const seen = new Map<number, number>();
  const deleted = new Set<number>();
  let step = 0;
  for (const [, v] of t.entries()) {
    seen.set(v, (seen.get(v) ?? 0) + 1);
    if (step++ % 3 === 0 && t.delete(key(v))) deleted.add(v);
    const other = (v * 7919) % 3000;
    if (step % 4 === 0 && t.delete(key(other))) deleted.add(other);
  }
  for (const [v, n] of seen) assert.equal(n, 1, `value ${v} seen ${n} times`);
  for (let i = 0; i < 3000; i++) if (!deleted.has(i)) assert.ok(seen.has(i), `${i} not seen`);
});

test("array iteration yields each index once, in order", { skip: kernelSkip }, () => {
  using a = BpfMap.create({ type: "array", key: u32, value: u32, maxEntries: 1000 });
  const keys = [...a.keys()];
  assert.deepEqual(keys, Array.from({ length: 1000 }, (_, i) => i));
  assert.equal([...a.entries({ batch: false })].length, 1000);
});
