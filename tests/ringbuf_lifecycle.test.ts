// RingBuffer lifetime and errors: close() unmaps both areas and closes the epoll fd, `using`,
// the map closed first, fds as sources, non-ringbuf maps, use after close.
import { liveProfile } from "../lib/profile/live.ts";
import { MapType } from "../types/map_type.ts";
import { test } from "node:test";
import assert from "node:assert/strict";
import { BpfMap } from "../lib/map/mod.ts";
import { RingBuffer, RingBufferClosedError } from "../lib/ringbuf/mod.ts";
import { BpfError, ClosedError } from "../lib/errors.ts";
import { BPF_FDS, fdsOpenedSince, forceGc, kernelSkip, openFds, unlessProfile } from "./util.ts";
import { UserRingBuffer } from "../lib/ringbuf/mod.ts";
import {
  bpfMapMappings,
  emit,
  epollFdsSince,
  loadProducer,
  mappingsSince,
  Mode,
} from "./ringbuf_helpers.ts";

test("close() unmaps the consumer and producer areas and closes the epoll fd", {
  skip: kernelSkip,
}, () => {
  const maps0 = bpfMapMappings();
  const fds0 = openFds();
  const map = BpfMap.create({ type: "ringbuf", maxEntries: 1 << 14 });
  try {
    const rb = new RingBuffer(map);
    assert.equal(mappingsSince(maps0).length, 2);
    assert.equal(epollFdsSince(fds0).length, 1);
    assert.equal(fdsOpenedSince(fds0).length, 2); // the map and the epoll instance
    rb.close();
    rb.close(); // idempotent
    assert.equal(rb.closed, true);
    assert.deepEqual(mappingsSince(maps0), []);
    assert.deepEqual(epollFdsSince(fds0), []);
    assert.equal(fdsOpenedSince(fds0).length, 1);
    {
      using scoped = new RingBuffer(map);
      assert.equal(mappingsSince(maps0).length, 2);
      assert.equal(scoped.available, false);
    }
    assert.deepEqual(mappingsSince(maps0), []);
    assert.deepEqual(epollFdsSince(fds0), []);
  } finally {
    map.close();
  }
  assert.deepEqual(fdsOpenedSince(fds0), []);
});

test("use after close throws RingBufferClosedError", { skip: kernelSkip }, async () => {
  using map = BpfMap.create({ type: "ringbuf", maxEntries: 4096 });
  const rb = new RingBuffer(map);
  rb.close();
  assert.throws(() => rb.consume(() => {}), RingBufferClosedError);
  assert.throws(() => rb.available, /available on a RingBuffer that is closed/);
  assert.throws(() => rb.available, ClosedError);
  await assert.rejects(rb.poll(10, () => {}), RingBufferClosedError);
  await assert.rejects(rb.wait(10), RingBufferClosedError);
  assert.equal(rb.size, 4096);
});

test("the ring keeps working after its map is closed; an fd or { fd } opens it too", {
  skip: kernelSkip,
}, () => {
  const before = openFds();
  const maps0 = bpfMapMappings();
  const map = BpfMap.create({ type: "ringbuf", maxEntries: 4096 });
  const prog = loadProducer(map.fd);
  const byFd = new RingBuffer(map.fd);
  const byObject = new RingBuffer({ fd: map.fd });
  try {
    map.close();
    emit(prog, 5, 8);
    assert.equal(byFd.consume((r) => assert.equal(r[0], 5)), 1);
    // Two readers share consumer_pos: the record is consumed for both.
    assert.equal(byObject.available, false);
  } finally {
    byFd.close();
    byObject.close();
    prog.close();
  }
  assert.deepEqual(fdsOpenedSince(before, BPF_FDS), []);
  assert.deepEqual(mappingsSince(maps0), []);
});

test("non-ringbuf maps and bad sources are refused with a clear error", {
  skip: kernelSkip,
}, () => {
  const epoll0 = openFds();
  const maps0 = bpfMapMappings();
  using hash = BpfMap.create({ type: "hash", keySize: 4, valueSize: 4, maxEntries: 4 });
  assert.throws(
    () => new RingBuffer(hash),
    (e: unknown) =>
      e instanceof TypeError && /needs a ringbuf map .*got a hash map/.test(e.message),
  );
  assert.throws(() => new RingBuffer(hash.fd), /got a hash map/);
  using array = BpfMap.create({ type: "array", keySize: 4, valueSize: 4, maxEntries: 1 });
  assert.throws(() => new RingBuffer(array), /got an array map/);
  if (liveProfile().mapType(MapType.USER_RINGBUF).state !== "no") {
    using user = BpfMap.create({ type: "user_ringbuf", maxEntries: 4096 });
    assert.throws(() => new RingBuffer(user), /user_ringbuf map is written by user space/);
  }
  assert.throws(() => new RingBuffer(-1), TypeError);
  assert.throws(() => new RingBuffer("3" as never), TypeError);
  assert.throws(() => new RingBuffer(0), BpfError); // stdin is no map
  assert.deepEqual(epollFdsSince(epoll0), []);
  assert.deepEqual(mappingsSince(maps0), []);
});

/** Why the GC test cannot run: no kernel, or no way to force a collection. */
const gcSkip: string | false = kernelSkip ||
  (canForceGc()
    ? false
    : "cannot force a garbage collection (run Deno with --v8-flags=--expose-gc)");

test("a RingBuffer dropped without close() is unmapped after garbage collection", {
  skip: gcSkip,
}, async () => {
  using map = BpfMap.create({ type: "ringbuf", maxEntries: 4096 });
  const maps0 = bpfMapMappings();
  const epoll0 = openFds();
  (() => {
    new RingBuffer(map);
  })();
  assert.equal(mappingsSince(maps0).length, 2);
  // Finalizers run after a collection, on a later turn.
  for (let i = 0; i < 50 && mappingsSince(maps0).length > 0; i++) {
    forceGc();
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  assert.deepEqual(mappingsSince(maps0), []);
  assert.deepEqual(epollFdsSince(epoll0), []);
});

/** Whether this runtime lets a test force a full collection (checked at load time). */
function canForceGc(): boolean {
  const g = globalThis as { gc?: unknown; Bun?: { gc?: unknown } };
  return typeof g.Bun?.gc === "function" || typeof g.gc === "function";
}

test("record views and reservations kept past close() are emptied, not left dangling", {
  skip: kernelSkip,
}, () => {
  // Before the fix, reading `kept` after close() read unmapped memory (SIGSEGV).
  using map = BpfMap.create({ type: "ringbuf", maxEntries: 4096 });
  using prog = loadProducer(map.fd);
  const maps0 = bpfMapMappings();
  const rb = new RingBuffer(map);
  emit(prog, 7, 8);
  emit(prog, 8, 0, Mode.big);
  let small: Uint8Array | undefined;
  let kept: Uint8Array | undefined;
  assert.equal(rb.consume((r) => void (r.length === 8 ? small = r : kept = r)), 2);
  assert.equal(small![0], 7);
  assert.equal(kept!.length, 512);
  assert.equal(kept![0], 8);
  rb.close();
  // A small record is a copy in a buffer of its own: it stays readable (stale), not mapped memory.
  assert.equal(small!.length, 8);
  assert.equal(small![0], 7);
  // A large one is a view of the ring: emptied.
  assert.equal(kept!.length, 0);
  assert.equal(kept!.buffer.byteLength, 0);
  assert.equal(kept![0], undefined);
  kept![0] = 1; // a no-op on a detached buffer
  assert.equal(kept![0], undefined);

  assert.deepEqual(mappingsSince(maps0), []);
});

test("UserRingBuffer reservations kept past close() are emptied, not left dangling", {
  skip: unlessProfile((p) => p.mapType(MapType.USER_RINGBUF)),
}, () => {
  using umap = BpfMap.create({ type: "user_ringbuf", maxEntries: 4096 });
  const maps0 = bpfMapMappings();
  const urb = new UserRingBuffer(umap);
  const rec = urb.reserve(16)!;
  rec[0] = 5;
  urb.close();
  assert.equal(rec.length, 0);
  rec[0] = 1; // a no-op
  assert.equal(rec[0], undefined);
  assert.deepEqual(mappingsSince(maps0), []);
});

test("a view kept from a RingBuffer dropped without close() is emptied by the finalizer", {
  skip: gcSkip,
}, async () => {
  using map = BpfMap.create({ type: "ringbuf", maxEntries: 4096 });
  using prog = loadProducer(map.fd);
  const maps0 = bpfMapMappings();
  emit(prog, 9, 0, Mode.big);
  const kept = ((): Uint8Array => {
    let view: Uint8Array | undefined;
    new RingBuffer(map).consume((r) => void (view = r));
    return view!;
  })();
  assert.equal(kept[0], 9);
  for (let i = 0; i < 50 && mappingsSince(maps0).length > 0; i++) {
    forceGc();
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  assert.deepEqual(mappingsSince(maps0), []);
  assert.equal(kept.length, 0);
  assert.equal(kept[0], undefined);
});
