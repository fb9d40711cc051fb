/** Codecs: sizes, layouts, round trips and clear errors. No kernel needed. */
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  array,
  bool,
  bytes,
  CodecError,
  cstring,
  f32,
  f64,
  fd32,
  fd64,
  i16,
  i32,
  i64,
  i8,
  lpmKey,
  pad,
  spinLock,
  struct,
  u16,
  u32,
  u64,
  u8,
} from "../lib/codec/mod.ts";
import type { Codec } from "../lib/codec/mod.ts";

function roundTrip<T>(codec: Codec<T>, value: T): T {
  const view = new DataView(new ArrayBuffer(codec.size + 8), 4);
  codec.encode(value, view, 0);
  return codec.decode(view, 0);
}

function bytesOf<T>(codec: Codec<T>, value: T): number[] {
  const view = new DataView(new ArrayBuffer(codec.size));
  new Uint8Array(view.buffer).fill(0xee);
  codec.encode(value, view, 0);
  return [...new Uint8Array(view.buffer)];
}

test("integers round-trip at their limits, little-endian", () => {
  assert.equal(roundTrip(u8, 255), 255);
  assert.equal(roundTrip(i8, -128), -128);
  assert.equal(roundTrip(u16, 65535), 65535);
  assert.equal(roundTrip(i16, -32768), -32768);
  assert.equal(roundTrip(u32, 0xffffffff), 0xffffffff);
  assert.equal(roundTrip(i32, -2147483648), -2147483648);
  assert.equal(roundTrip(u64, 0xffff_ffff_ffff_ffffn), 0xffff_ffff_ffff_ffffn);
  assert.equal(roundTrip(i64, -0x8000_0000_0000_0000n), -0x8000_0000_0000_0000n);
  assert.equal(roundTrip(u64, 42 as unknown as bigint), 42n, "a safe-integer number is accepted");
  assert.equal(roundTrip(f64, 1.5), 1.5);
  assert.equal(roundTrip(f32, 0.25), 0.25);
  assert.equal(roundTrip(bool, true), true);
  assert.deepEqual(bytesOf(u32, 0x01020304), [4, 3, 2, 1]);
  assert.deepEqual(bytesOf(u16, 0xabcd), [0xcd, 0xab]);
});

test("integers out of range or of the wrong type are clear errors", () => {
  const view = new DataView(new ArrayBuffer(8));
  assert.throws(() => u8.encode(256, view, 0), {
    name: "CodecError",
    message: "256 does not fit u8 (0..255)",
  });
  assert.throws(() => u32.encode(-1, view, 0), /-1 does not fit u32 \(0\.\.4294967295\)/);
  assert.throws(() => u32.encode(1.5, view, 0), /u32 needs an integer, got 1.5/);
  assert.throws(() => i32.encode(2 ** 31, view, 0), /does not fit i32/);
  assert.throws(() => u64.encode(-1n, view, 0), /-1n does not fit u64/);
  assert.throws(() => u64.encode(2n ** 64n, view, 0), /does not fit u64/);
  assert.throws(() => u64.encode(2 ** 60 as unknown as bigint, view, 0), /u64 needs a bigint/);
  assert.throws(
    () => i64.encode("3" as unknown as bigint, view, 0),
    /i64 needs a bigint .* got string "3"/,
  );
  assert.throws(() => bool.encode(1 as unknown as boolean, view, 0), /bool needs true or false/);
});

test("structs: natural C alignment, explicit offsets, padding, trailing size", () => {
  const S = struct({ a: u8, b: u32, c: u16, d: u64 });
  assert.deepEqual(S.fields.map((f) => [f.name, f.offset]), [["a", 0], ["b", 4], ["c", 8], [
    "d",
    16,
  ]]);
  assert.equal(S.size, 24);
  assert.equal(S.align, 8);
  const v = { a: 1, b: 2, c: 3, d: 4n };
  assert.deepEqual(roundTrip(S, v), v);
  // gaps are zeroed, whatever the buffer held before
  assert.deepEqual(bytesOf(S, v), [
    1,
    0,
    0,
    0,
    2,
    0,
    0,
    0,
    3,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    4,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
  ]);

  const E = struct({ proto: u8, port: { codec: u16, offset: 6 } }, { size: 12 });
  assert.equal(E.size, 12);
  assert.deepEqual(bytesOf(E, { proto: 6, port: 0x1f90 }), [
    6,
    0,
    0,
    0,
    0,
    0,
    0x90,
    0x1f,
    0,
    0,
    0,
    0,
  ]);

  const P = struct({ a: u32, _pad: pad(4), b: u64 });
  assert.equal(P.size, 16);
  assert.deepEqual(roundTrip(P, { a: 1, b: 2n }), { a: 1, b: 2n }, "padding is left out");
  assert.throws(
    () => struct({ a: u64, b: { codec: u32, offset: 4 } }),
    /field b at offset 4 overlaps/,
  );
  assert.throws(() => struct({ a: u64 }, { size: 4 }), /struct size 4 is smaller than its fields/);
});

test("struct errors name the field", () => {
  const Stats = struct({ pkts: u64, bytes: u64 });
  const view = new DataView(new ArrayBuffer(Stats.size));
  assert.throws(
    () => Stats.encode({ pkts: 1n } as never, view, 0),
    (e: unknown) =>
      e instanceof CodecError && e.path === "bytes" && /missing field/.test(e.message),
  );
  assert.throws(
    () => Stats.encode({ pkts: -1n, bytes: 0n }, view, 0),
    /^RangeError|pkts: -1n does not fit u64/,
  );
  const Nested = struct({ hdr: struct({ len: u16 }), items: array(u32, 2) });
  assert.throws(
    () =>
      Nested.encode({ hdr: { len: 70000 }, items: [1, 2] }, new DataView(new ArrayBuffer(12)), 0),
    {
      message: "hdr.len: 70000 does not fit u16 (0..65535)",
    },
  );
  assert.throws(
    () => Nested.encode({ hdr: { len: 1 }, items: [1, -2] }, new DataView(new ArrayBuffer(12)), 0),
    {
      message: "items[1]: -2 does not fit u32 (0..4294967295)",
    },
  );
  assert.throws(() => Stats.encode(5 as never, view, 0), /needs an object, got 5/);
});

test("arrays, bytes and strings have exact sizes", () => {
  const A = array(u16, 3);
  assert.equal(A.size, 6);
  assert.deepEqual(roundTrip(A, [1, 2, 3]), [1, 2, 3]);
  assert.throws(
    () => A.encode([1, 2], new DataView(new ArrayBuffer(6)), 0),
    /u16\[3\] needs exactly 3 elements, got 2/,
  );
  const mac = bytes(6);
  assert.deepEqual(
    roundTrip(mac, new Uint8Array([1, 2, 3, 4, 5, 6])),
    new Uint8Array([1, 2, 3, 4, 5, 6]),
  );
  assert.throws(
    () => mac.encode(new Uint8Array(7), new DataView(new ArrayBuffer(7)), 0),
    /u8\[6\] needs exactly 6 bytes, got 7/,
  );
  const comm = cstring(8);
  assert.equal(roundTrip(comm, "bash"), "bash");
  assert.equal(roundTrip(comm, "12345678"), "12345678");
  assert.deepEqual(bytesOf(comm, "ab"), [97, 98, 0, 0, 0, 0, 0, 0]);
  assert.throws(
    () => comm.encode("123456789", new DataView(new ArrayBuffer(8)), 0),
    /9 UTF-8 bytes does not fit char\[8\]/,
  );
});

test("special codecs: LPM keys, fds, spin locks", () => {
  const k = lpmKey(4);
  assert.equal(k.size, 8);
  assert.deepEqual(bytesOf(k, { prefixLen: 24, data: new Uint8Array([192, 168, 1, 0]) }), [
    24,
    0,
    0,
    0,
    192,
    168,
    1,
    0,
  ]);
  assert.deepEqual(bytesOf(k, "10.0.0.0/8" as never), [8, 0, 0, 0, 10, 0, 0, 0]);
  assert.throws(
    () => bytesOf(k, { prefixLen: 33, data: new Uint8Array(4) }),
    /prefixLen: prefix length 33 is not in 0\.\.32/,
  );
  assert.throws(() => bytesOf(k, "10.0.0.300/8" as never), /octet above 255/);
  assert.deepEqual(bytesOf(fd32, 7), [7, 0, 0, 0]);
  assert.deepEqual(bytesOf(fd32, { fd: 9 }), [9, 0, 0, 0]);
  assert.throws(() => bytesOf(fd32, -1), /needs a file descriptor/);
  assert.deepEqual(bytesOf(fd64, 5), [5, 0, 0, 0, 0, 0, 0, 0]);
  const Locked = struct({ lock: spinLock, hits: u32, total: u64 });
  assert.equal(Locked.size, 16);
  assert.deepEqual(roundTrip(Locked, { hits: 1, total: 2n } as never), { hits: 1, total: 2n });
});

test("codec edge cases are CodecErrors or RangeErrors, never crashes from inside", () => {
  const view = new DataView(new ArrayBuffer(16));
  for (const c of [u8, i8, u16, i16, u32, i32]) {
    assert.throws(() => c.encode(7n as unknown as number, view, 0), CodecError, c.name);
  }
  assert.throws(() => f32.encode(1e40, view, 0), /does not fit f32/);
  f32.encode(Infinity, view, 0); // an explicit infinity is a value
  assert.equal(f32.decode(view, 0), Infinity);
  fd64.encode(3n, view, 0);
  assert.equal(fd64.decode(view, 0), 3n);
  assert.throws(() => struct({ a: u32 }, { align: 0 }), /power of two/);
  assert.throws(() => struct({ a: u32 }, { size: 2.5 }), /non-negative integer/);
});
