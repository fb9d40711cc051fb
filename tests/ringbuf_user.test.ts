// UserRingBuffer against the kernel: records written from TypeScript (write, reserve + submit,
// reserve + discard) are drained by a program with bpf_user_ringbuf_drain, which echoes them into
// a ring buffer that a RingBuffer reads back; wrap-around, a full ring, lifetime and errors.
import { test } from "node:test";
import assert from "node:assert/strict";
import { BpfMap, loadBtf } from "../lib/map/mod.ts";
import { RingBuffer, RingBufferClosedError, UserRingBuffer } from "../lib/ringbuf/mod.ts";
import { unlessProfile } from "./util.ts";
import { MapType } from "../types/map_type.ts";

/** User ring buffers (Linux 6.1), as the running kernel's profile answers. */
const userRingSkip = unlessProfile((p) => p.mapType(MapType.USER_RINGBUF));
import {
  bpfMapMappings,
  drainBtf,
  loadDrainer,
  mappingsSince,
  runSyscall,
} from "./ringbuf_helpers.ts";
import type { Program } from "../lib/program/program.ts";

function setup(): {
  user: BpfMap;
  out: BpfMap;
  prog: Program;
  close(): void;
} {
  const user = BpfMap.create({ type: "user_ringbuf", maxEntries: 4096 });
  const out = BpfMap.create({ type: "ringbuf", maxEntries: 1 << 16 });
  try {
    using btf = loadBtf(drainBtf());
    const prog = loadDrainer(user.fd, out.fd, btf.fd);
    return {
      user,
      out,
      prog,
      close() {
        prog.close();
        user.close();
        out.close();
      },
    };
  } catch (e) {
    user.close();
    out.close();
    throw e;
  }
}

function record(seq: number, size = 16): Uint8Array {
  const r = new Uint8Array(size);
  const v = new DataView(r.buffer);
  v.setUint32(0, seq, true);
  v.setUint32(4, ~seq >>> 0, true);
  r.fill(seq & 0xff, 8);
  return r;
}

test("UserRingBuffer: write, reserve+submit and reserve+discard reach BPF in order", {
  skip: userRingSkip,
}, () => {
  const env = setup();
  try {
    using urb = new UserRingBuffer(env.user);
    using rb = new RingBuffer(env.out);
    assert.equal(urb.size, 4096);
    assert.equal(urb.free, 4096);
    assert.equal(urb.write(record(0)), true);
    const r1 = urb.reserve(16);
    assert.ok(r1);
    r1.set(record(1));
    assert.equal(runSyscall(env.prog), 1, "a reserved record holds back the drain");
    urb.submit(r1);
    const d = urb.reserve(16);
    assert.ok(d);
    urb.discard(d);
    assert.equal(urb.write(record(2, 24)), true);
    assert.equal(urb.write(new Uint8Array([9, 9, 9, 9])), true); // drained, too short to echo
    assert.equal(urb.free, 4096 - 24 - 24 - 32 - 16); // record 0 is drained already
    assert.equal(runSyscall(env.prog), 3);
    assert.equal(urb.free, 4096);
    const got: Uint8Array[] = [];
    rb.consume((r) => void got.push(r.slice()));
    assert.deepEqual(got, [record(0), record(1), record(2, 24).slice(0, 16)]);
    assert.throws(() => urb.submit(r1), /not reserved/);
    assert.throws(() => urb.submit(new Uint8Array(16)), /returned by reserve/);
    assert.throws(() => urb.reserve(4096), RangeError);
    assert.throws(() => urb.reserve(-1), RangeError);
  } finally {
    env.close();
  }
});

test("UserRingBuffer: a full ring refuses; draining makes room; wrap-around", {
  skip: userRingSkip,
}, () => {
  const env = setup();
  try {
    using urb = new UserRingBuffer(env.user);
    using rb = new RingBuffer(env.out);
    // 40-byte records (32 + header): 4096 is no multiple, so records straddle the end.
    let seq = 0;
    let next = 0;
    for (let round = 0; round < 30; round++) {
      let n = 0;
      while (urb.write(record(seq, 32))) {
        seq++;
        n++;
      }
      assert.ok(n >= 100, `${n} records filled the ring`); // 4096 / 40 = 102.4
      assert.ok(urb.free < 40);
      assert.equal(urb.reserve(32), undefined);
      assert.equal(runSyscall(env.prog), n);
      rb.consume((r) => {
        assert.deepEqual(r, record(next++, 32).slice(0, 16));
      });
    }
    assert.equal(next, seq);
    assert.ok(seq * 40 > 4096 * 25);
  } finally {
    env.close();
  }
});

test("UserRingBuffer: close unmaps; errors for other maps and after close", {
  skip: userRingSkip,
}, () => {
  const maps0 = bpfMapMappings();
  using user = BpfMap.create({ type: "user_ringbuf", maxEntries: 4096 });
  using ring = BpfMap.create({ type: "ringbuf", maxEntries: 4096 });
  const urb = new UserRingBuffer(user.fd);
  assert.equal(mappingsSince(maps0).length, 2);
  urb.close();
  urb.close();
  assert.deepEqual(mappingsSince(maps0), []);
  assert.throws(() => urb.reserve(8), RingBufferClosedError);
  assert.throws(() => urb.write(new Uint8Array(8)), RingBufferClosedError);
  assert.throws(() => urb.free, /closed/);
  assert.throws(() => new UserRingBuffer(ring), /read a ringbuf map with RingBuffer/);
  assert.throws(() => new UserRingBuffer(-3), TypeError);
  assert.deepEqual(mappingsSince(maps0), []);
});
