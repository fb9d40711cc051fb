import { test } from "node:test";
import assert from "node:assert/strict";
import { BpfError, BpfMap, ElemFlag, MapFlag, u32, u64 } from "../mod.ts";
import { kernelSkip } from "./util.ts";

test("batchUpdate refuses NOEXIST/EXIST before the kernel does", { skip: kernelSkip }, () => {
  using m = BpfMap.create({ type: "hash", key: u32, value: u64, maxEntries: 16 });
  assert.throws(() => m.batchUpdate([[1, 1n]], ElemFlag.NOEXIST), /takes only ElemFlag\.LOCK/);
  assert.throws(() => m.batchUpdate([[1, 1n]], ElemFlag.EXIST), /got flags EXIST/);
  assert.equal(m.count(), 0);
  assert.equal(m.batchUpdate([[1, 1n], [2, 2n]]), 2);
  assert.equal(m.get(2), 2n);
});

test("a batch refused before the kernel's loop reports nothing written", {
  skip: kernelSkip,
}, () => {
  using m = BpfMap.create({ type: "hash", key: u32, value: u64, maxEntries: 16 });
  m.batchUpdate([[1, 1n], [2, 2n]]);
  m.freeze();
  assert.throws(
    () => m.batchUpdate([[3, 3n], [4, 4n]]),
    (e: unknown) =>
      e instanceof BpfError && e.errnoName === "EPERM" &&
      /after writing 0 of 2/.test(e.message),
  );
  assert.throws(
    () => m.batchDelete([1, 2]),
    (e: unknown) =>
      e instanceof BpfError && e.errnoName === "EPERM" && /after deleting 0 of 2/.test(e.message),
  );
  assert.equal(m.count(), 2, "nothing was deleted from the frozen map");
  assert.throws(() => m.set(9, 9n), /the map is frozen, or this handle is read-only/);
});

test("batchDelete skips absent keys without copying the rest", { skip: kernelSkip }, () => {
  using m = BpfMap.create({ type: "hash", key: u32, value: u64, maxEntries: 4096 });
  for (let k = 0; k < 1000; k += 2) m.set(k, BigInt(k));
  // Every other key is absent: 500 ENOENT restarts inside one buffer.
  const keys = Array.from({ length: 1000 }, (_, k) => k);
  assert.equal(m.batchDelete(keys), 500);
  assert.equal(m.count(), 0);
});

test("a read-only handle refuses writes with a clear reason", { skip: kernelSkip }, () => {
  using m = BpfMap.create({
    type: "array",
    key: u32,
    value: u64,
    maxEntries: 4,
    flags: MapFlag.RDONLY,
  });
  assert.throws(() => m.set(0, 1n), /read-only or write-only/);
});

test("an array index past the end says so", { skip: kernelSkip }, () => {
  using m = BpfMap.create({ type: "array", key: u32, value: u64, maxEntries: 1 });
  assert.throws(
    () => m.set(5, 1n),
    (e: unknown) =>
      e instanceof BpfError && e.errnoName === "E2BIG" &&
      /the index is past the end \(max_entries 1\)/.test(e.message) &&
      !/larger than this kernel accepts/.test(e.message),
  );
});
