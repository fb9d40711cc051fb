/** Pinning maps in bpffs: pin, open from the pin, unpin; nothing left behind. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, unlinkSync } from "node:fs";
import { BpfMap } from "../lib/map/mod.ts";
import { u32, u64 } from "../lib/codec/mod.ts";
import { BpfError } from "../lib/errors.ts";
import { fdsOpenedSince, kernelSkip, openFds } from "./util.ts";

const PATH = `/sys/fs/bpf/tsbpf_map_pin_test_${Date.now()}`;

test("pin, fromPin, unpin under /sys/fs/bpf", { skip: kernelSkip }, () => {
  const before = openFds();
  try {
    let id: number;
    {
      using m = BpfMap.create({
        type: "hash",
        key: u32,
        value: u64,
        maxEntries: 8,
        name: "pinned",
      });
      m.set(1, 11n);
      m.pin(PATH);
      assert.equal(m.pinnedPath, PATH);
      assert.ok(existsSync(PATH));
      id = m.id;
    }
    // The handle is closed; the pin keeps the map.
    assert.ok(BpfMap.list().includes(id));
    {
      using again = BpfMap.fromPin(PATH, { key: u32, value: u64 });
      assert.equal(again.id, id);
      assert.equal(again.name, "pinned");
      assert.equal(again.typeName, "hash");
      assert.equal(again.get(1), 11n);
      again.set(2, 22n);
      assert.throws(
        () => again.pin(PATH),
        (e: unknown) => e instanceof BpfError && e.errnoName === "EEXIST",
      );
    }
    {
      using byId = BpfMap.fromId(id, { key: u32, value: u64 });
      assert.equal(byId.get(2), 22n);
      assert.throws(
        () => BpfMap.fromId(id, { key: u64 }),
        /has 4-byte keys; key codec u64 is 8 bytes/,
      );
    }
    BpfMap.unpin(PATH);
    assert.ok(!existsSync(PATH));
    assert.throws(
      () => BpfMap.fromPin(PATH),
      (e: unknown) => e instanceof BpfError && e.errnoName === "ENOENT",
    );
  } finally {
    if (existsSync(PATH)) unlinkSync(PATH);
  }
  assert.deepEqual(fdsOpenedSince(before), []);
});

test("unpin() removes the pin made by this handle", { skip: kernelSkip }, () => {
  const path = PATH + "_2";
  try {
    using m = BpfMap.create({ type: "array", key: u32, value: u32, maxEntries: 1 });
    assert.throws(() => m.unpin(), /was not pinned by this handle/);
    m.pin(path);
    m.unpin();
    assert.equal(m.pinnedPath, undefined);
    assert.ok(!existsSync(path));
  } finally {
    if (existsSync(path)) unlinkSync(path);
  }
});
