/** The minimal BTF encoder, and the maps that need BTF: spin-lock values and BPF_F_LOCK. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { BpfMap, BtfBuilder, hasSpinLock, loadBtf, mapBtf } from "../lib/map/mod.ts";
import { array, spinLock, struct, u32, u64, u8 } from "../lib/codec/mod.ts";
import { BpfError } from "../lib/errors.ts";
import { parseBtf } from "../lib/btf/mod.ts";
import { ElemFlag } from "../types/flags.ts";
import { fdsOpenedSince, kernelSkip, openFds } from "./util.ts";

test("BtfBuilder output parses back (header, ints, structs, arrays, strings)", () => {
  const b = new BtfBuilder();
  const u = b.int("u32", 4);
  const lock = b.spinLock();
  const arr = b.array(b.int("u8", 1), 3);
  const s = b.struct("value", 12, [{ name: "lock", type: lock, offset: 0 }, {
    name: "n",
    type: u,
    offset: 4,
  }, { name: "tag", type: arr, offset: 8 }]);
  const blob = b.encode();
  const v = new DataView(blob.buffer);
  assert.equal(v.getUint16(0, true), 0xeb9f);
  assert.equal(v.getUint32(4, true), 24);
  const btf = parseBtf(blob);
  const value = btf.get("struct", "value");
  assert.equal(value.size, 12);
  assert.deepEqual(value.members.map((m: { name: string }) => m.name), ["lock", "n", "tag"]);
  assert.equal(btf.get("struct", "bpf_spin_lock").size, 4);
  assert.equal(s, b.count);
});

test("mapBtf from codecs: a struct with a spinLock member", () => {
  const V = struct({ lock: spinLock, hits: u32, total: u64, tag: array(u8, 4) });
  assert.equal(hasSpinLock(V), true);
  assert.equal(hasSpinLock(u64), false);
  const d = mapBtf(u32, V);
  const btf = parseBtf(d.blob);
  const value = btf.typeById(d.valueTypeId) as unknown as {
    kind: string;
    size: number;
    members: { name: string }[];
  };
  assert.equal(value.kind, "struct");
  assert.equal(value.size, V.size);
  assert.deepEqual(value.members.map((m) => m.name), ["lock", "hits", "total", "tag"]);
});

test("loadBtf: the kernel accepts the encoder's blobs; a bad blob reports the kernel's log", {
  skip: kernelSkip,
}, () => {
  const fds = openFds();
  {
    using h = loadBtf(mapBtf(u32, struct({ lock: spinLock, n: u32 })).blob);
    assert.ok(h.fd > 0);
  }
  const bad = new BtfBuilder();
  bad.struct("broken", 4, [{ name: "x", type: 99, offset: 0 }]);
  assert.throws(() => loadBtf(bad.encode()), (e: unknown) => {
    assert.ok(e instanceof BpfError);
    assert.equal(e.command, "BPF_BTF_LOAD");
    assert.match(e.message, /BTF log:\n {2}.+/s);
    return true;
  });
  assert.deepEqual(fdsOpenedSince(fds), []);
});

test("BPF_F_LOCK on hash and array values with a bpf_spin_lock", { skip: kernelSkip }, () => {
  const Counter = struct({ lock: spinLock, hits: u32, total: u64 });
  for (const type of ["hash", "array"] as const) {
    using m = BpfMap.create({ type, key: u32, value: Counter, maxEntries: 4 });
    assert.ok(m.info().btfId > 0, "BTF was generated for the spin lock");
    m.set(1, { hits: 1, total: 10n }, ElemFlag.LOCK);
    assert.deepEqual(m.get(1, ElemFlag.LOCK), { hits: 1, total: 10n });
    m.set(1, { hits: 2, total: 20n }, ElemFlag.LOCK | ElemFlag.EXIST);
    assert.deepEqual(m.get(1), { hits: 2, total: 20n });
    // Freezing a map with a spin lock: refused by newer kernels; 6.1 freezes it, and then
    // the map is read-only for the syscall side.
    let frozen = false;
    try {
      m.freeze();
      frozen = true;
    } catch (e) {
      assert.match(String(e), /spin lock or timer cannot be frozen/);
    }
    if (frozen) {
      assert.throws(
        () => m.set(1, { hits: 3, total: 30n }),
        (e) => e instanceof BpfError && e.errnoName === "EPERM",
      );
    }
  }
  using plain = BpfMap.create({ type: "hash", key: u32, value: u64, maxEntries: 4 });
  assert.throws(
    () => plain.set(1, 1n, ElemFlag.LOCK),
    /BPF_F_LOCK needs a value with a bpf_spin_lock described by BTF/,
  );
});
