// RingBuffer waiting: poll() resolves when a record arrives later (a timer triggers the producer)
// and times out otherwise, while a 10 ms interval keeps ticking; wait(); the async iterator.
import { test } from "node:test";
import assert from "node:assert/strict";
import { BpfMap } from "../lib/map/mod.ts";
import { RingBuffer } from "../lib/ringbuf/mod.ts";
import { waiterState } from "../lib/ringbuf/waiter.ts";
import { epollFdsSince } from "./ringbuf_helpers.ts";
import { kernelSkip, openFds } from "./util.ts";
import { emit, expectedPayload, loadProducer } from "./ringbuf_helpers.ts";

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function setup(): { map: BpfMap; prog: ReturnType<typeof loadProducer>; close(): void } {
  const map = BpfMap.create({ type: "ringbuf", maxEntries: 1 << 16 });
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

test("poll: resolves when a record arrives later; timers keep ticking meanwhile", {
  skip: kernelSkip,
}, async () => {
  const env = setup();
  let ticks = 0;
  const interval = setInterval(() => ticks++, 10);
  try {
    using rb = new RingBuffer(env.map);
    const t0 = performance.now();
    const trigger = setTimeout(() => emit(env.prog, 7, 16), 200);
    const got: Uint8Array[] = [];
    const n = await rb.poll(5000, (r) => void got.push(r.slice()));
    const elapsed = performance.now() - t0;
    clearTimeout(trigger);
    assert.equal(n, 1);
    assert.deepEqual(got[0], expectedPayload(7, 16));
    // No upper bound: correctness tests do not time things (an emulator is 10x slower).
    assert.ok(elapsed >= 190, `resolved after ${elapsed} ms, before the record was written`);
    assert.ok(ticks >= 1, "the 10 ms interval never ticked: the wait blocked the event loop");
  } finally {
    clearInterval(interval);
    env.close();
  }
});

test("poll: times out with 0 when nothing arrives; timers keep ticking", {
  skip: kernelSkip,
}, async () => {
  const env = setup();
  let ticks = 0;
  const interval = setInterval(() => ticks++, 10);
  try {
    using rb = new RingBuffer(env.map);
    const t0 = performance.now();
    assert.equal(await rb.poll(150, () => assert.fail("no record")), 0);
    const elapsed = performance.now() - t0;
    assert.ok(elapsed >= 140, `timed out after ${elapsed} ms`);
    assert.ok(ticks >= 1, "the 10 ms interval never ticked: the wait blocked the event loop");
    assert.equal(await rb.poll(0, () => assert.fail("no record")), 0);
  } finally {
    clearInterval(interval);
    env.close();
  }
});

test("poll and wait: data already there resolves at once; argument errors", {
  skip: kernelSkip,
}, async () => {
  const env = setup();
  try {
    using rb = new RingBuffer(env.map);
    emit(env.prog, 1, 8);
    emit(env.prog, 2, 8);
    assert.equal(await rb.wait(0), true);
    const seen: number[] = [];
    assert.equal(await rb.poll(1000, (r) => void seen.push(r[0])), 2);
    assert.deepEqual(seen, [1, 2]);
    assert.equal(await rb.wait(20), false);
    await assert.rejects(rb.wait(-1), RangeError);
    await assert.rejects(rb.wait(Number.NaN), RangeError);
    await assert.rejects(rb.poll(10), /needs a callback/);
  } finally {
    env.close();
  }
});

test("close() during a pending wait resolves it with false", { skip: kernelSkip }, async () => {
  const env = setup();
  try {
    const rb = new RingBuffer(env.map);
    const t0 = performance.now();
    const pending = rb.wait(Infinity);
    setTimeout(() => rb.close(), 50);
    assert.equal(await pending, false);
    assert.ok(performance.now() - t0 < 1500);
  } finally {
    env.close();
  }
});

test("for await yields copies in order, across waits, and ends at close()", {
  skip: kernelSkip,
}, async () => {
  const env = setup();
  try {
    const rb = new RingBuffer(env.map);
    for (let seq = 0; seq < 3; seq++) emit(env.prog, seq, 24);
    let seq = 3;
    const producer = setInterval(() => {
      if (seq < 6) emit(env.prog, seq++, 24);
    }, 20);
    const got: Uint8Array[] = [];
    try {
      for await (const record of rb) {
        got.push(record);
        if (got.length === 6) break;
      }
    } finally {
      clearInterval(producer);
    }
    assert.equal(got.length, 6);
    got.forEach((r, i) => assert.deepEqual(r, expectedPayload(i, 24)));
    // Copies: they outlive the ring's memory.
    const copy = got[0];
    // Breaking out lost nothing: a record emitted now is the next one.
    emit(env.prog, 100, 8);
    const it = rb[Symbol.asyncIterator]();
    const next = await it.next();
    assert.deepEqual(next.value, expectedPayload(100, 8));
    setTimeout(() => rb.close(), 30);
    assert.equal((await it.next()).done, true);
    assert.deepEqual(copy, expectedPayload(0, 24));
    await assert.rejects(rb[Symbol.asyncIterator]().next(), /closed/);
  } finally {
    env.close();
  }
});

test(
  "two rings wait at once; each resolves for its own records",
  { skip: kernelSkip },
  async () => {
    const a = setup();
    const b = setup();
    try {
      using ra = new RingBuffer(a.map);
      using rbb = new RingBuffer(b.map);
      const pa = ra.poll(3000, () => {});
      const pb = rbb.poll(3000, () => {});
      await sleep(30);
      emit(b.prog, 1, 8);
      assert.equal(await pb, 1);
      emit(a.prog, 1, 8);
      emit(a.prog, 2, 8);
      assert.equal(await pa, 2);
    } finally {
      a.close();
      b.close();
    }
  },
);

test("150 rings wait at once: a record into the last wakes it; close() settles all", {
  skip: kernelSkip,
}, async () => {
  // Before the shared waiter, Deno queued one nonblocking epoll_wait per ring on a small worker
  // pool (≈ 500 ms for 100 rings), and close() left calls running on closed fds.
  const N = 150;
  const epoll0 = openFds();
  const maps: BpfMap[] = [];
  const rings: RingBuffer[] = [];
  let prog: ReturnType<typeof loadProducer> | undefined;
  try {
    for (let i = 0; i < N; i++) maps.push(BpfMap.create({ type: "ringbuf", maxEntries: 4096 }));
    for (const m of maps) rings.push(new RingBuffer(m));
    prog = loadProducer(maps[N - 1].fd);
    const waits = rings.map((rb) => rb.wait(Infinity));
    const timed = rings.slice(0, 10).map((rb) => rb.wait(50));
    await sleep(200);
    assert.deepEqual(await Promise.all(timed), timed.map(() => false));
    assert.equal(waiterState().waiting, N);
    emit(prog, 1, 8);
    assert.equal(await waits[N - 1], true);
    assert.equal(rings[N - 1].consume(() => {}), 1);
    for (const rb of rings) rb.close();
    const settled = await Promise.all(waits.slice(0, N - 1));
    assert.ok(settled.every((r) => r === false));
    // Nobody waits: no call in flight or timer left, the shared instance closed (at once, or
    // when its interrupted call settles), and no epoll fd left behind.
    assert.equal(waiterState().waiting, 0);
    for (let i = 0; i < 5000 && waiterState().open; i++) await sleep(2);
    assert.deepEqual(waiterState(), { open: false, members: 0, waiting: 0, pending: false });
    assert.deepEqual(epollFdsSince(epoll0), []);
  } finally {
    for (const rb of rings) rb.close();
    prog?.close();
    for (const m of maps) m.close();
  }
});

test("the shared waiter stops when a wait times out, and restarts for the next", {
  skip: kernelSkip,
}, async () => {
  const env = setup();
  try {
    using rb = new RingBuffer(env.map);
    assert.equal(await rb.wait(30), false);
    await sleep(5);
    assert.equal(waiterState().pending, false);
    const p = rb.wait(2000);
    assert.equal(waiterState().pending, true);
    emit(env.prog, 3, 8);
    assert.equal(await p, true);
    assert.equal(rb.consume(() => {}), 1);
    // A ring readable but not waited on must not make the shared wait spin for another.
    emit(env.prog, 4, 8);
    const other = setup();
    try {
      using idle = new RingBuffer(other.map);
      const t0 = performance.now();
      assert.equal(await idle.wait(100), false);
      assert.ok(performance.now() - t0 >= 95);
    } finally {
      other.close();
    }
  } finally {
    env.close();
  }
});
