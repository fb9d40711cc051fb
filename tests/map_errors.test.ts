/**
 * Clear errors for bad keys and values, missing keys, closed maps and refused creation; no file
 * descriptor leaks.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { BpfMap, MapClosedError, MapOpNotSupportedError } from "../lib/map/mod.ts";
import { CodecError, struct, u16, u32, u64 } from "../lib/codec/mod.ts";
import { BpfError, ClosedError } from "../lib/errors.ts";
import { fdsOpenedSince, forceGc, kernelSkip, openFds } from "./util.ts";

test(
  "raw keys and values of the wrong size are refused before the syscall",
  { skip: kernelSkip },
  () => {
    const before = openFds();
    {
      using m = BpfMap.create({ type: "hash", keySize: 4, valueSize: 8, maxEntries: 4 });
      assert.throws(() => m.get(new Uint8Array(3)), {
        name: "ArgumentError",
        message: "get(): key must be exactly 4 bytes for hash map (key 4 B, value 8 B), got 3",
      });
      assert.throws(
        () => m.set(new Uint8Array(4), new Uint8Array(9)),
        /set\(\): value must be exactly 8 bytes .* got 9/,
      );
      assert.throws(
        () => m.set(new Uint8Array(4), new Uint8Array(7)),
        /value must be exactly 8 bytes .* got 7/,
      );
      assert.throws(
        () => m.get(5 as never),
        /key must be a Uint8Array of 4 bytes \(or give the map a key codec\), got 5/,
      );
      assert.equal(m.get(new Uint8Array(4)), undefined, "missing key: undefined, not an exception");
      assert.equal(m.count(), 0);
    }
    assert.deepEqual(fdsOpenedSince(before), []);
  },
);

test(
  "typed keys and values that do not fit are CodecErrors naming the field",
  { skip: kernelSkip },
  () => {
    using m = BpfMap.create({
      type: "hash",
      key: u16,
      value: struct({ pkts: u64, bytes: u32 }),
      maxEntries: 4,
    });
    assert.throws(() => m.get(70000), (e: unknown) => {
      assert.ok(e instanceof CodecError);
      assert.equal(e.path, "key");
      assert.match(
        e.message,
        /^key: 70000 does not fit u16 \(0\.\.65535\) — in get\(\) on hash map/,
      );
      return true;
    });
    assert.throws(
      () => m.set(1, { pkts: 1n, bytes: 2 ** 32 }),
      /value\.bytes: 4294967296 does not fit u32/,
    );
    assert.throws(() => m.set(1, { pkts: 1n } as never), /value\.bytes: missing field/);
    assert.equal(m.count(), 0, "nothing written");
  },
);

test("creation arguments are checked against the type table", { skip: kernelSkip }, () => {
  assert.throws(
    () => BpfMap.create({ type: "array", keySize: 8, valueSize: 4, maxEntries: 1 }),
    /array maps need 4-byte keys \(a u32 index\), got keySize 8/,
  );
  assert.throws(
    () => BpfMap.create({ type: "hash", key: u32, keySize: 8, valueSize: 4, maxEntries: 1 }),
    /keySize 8 does not match the key codec u32 \(4 bytes\)/,
  );
  assert.throws(
    () => BpfMap.create({ type: "hash", keySize: 4, valueSize: 4 }),
    /hash maps need a positive maxEntries/,
  );
  assert.throws(
    () => BpfMap.create({ type: "hash", valueSize: 4, maxEntries: 1 }),
    /give keySize or a key codec/,
  );
  assert.throws(
    () => BpfMap.create({ type: "queue", keySize: 4, valueSize: 4, maxEntries: 1 }),
    /queue maps have no keys: keySize must be 0/,
  );
  assert.throws(
    () => BpfMap.create({ type: "prog_array", keySize: 4, valueSize: 8, maxEntries: 1 }),
    /prog_array maps need valueSize 4, got 8/,
  );
  assert.throws(
    () => BpfMap.create({ type: "sk_storage", valueSize: 4, maxEntries: 5 }),
    /take no maxEntries/,
  );
  assert.throws(
    () => BpfMap.create({ type: "ringbuf", maxEntries: 5000 }),
    /must be a power of two/,
  );
  assert.throws(
    () =>
      BpfMap.create({ type: "hash", keySize: 4, valueSize: 4, maxEntries: 1, name: "bad name!" }),
    /has " " at position 3/,
  );
  assert.throws(
    () => BpfMap.create({ type: "hashtable", keySize: 4, valueSize: 4, maxEntries: 1 }),
    /unknown map type "hashtable"/,
  );
  // A refusal by the kernel: a BpfError with command, errno and what was asked.
  const before = openFds();
  assert.throws(
    () =>
      BpfMap.create({ type: "hash", keySize: 4, valueSize: 4, maxEntries: 1, flags: 0x40000000 }),
    (e: unknown) => {
      assert.ok(e instanceof BpfError);
      assert.equal(e.command, "BPF_MAP_CREATE");
      assert.equal(e.errnoName, "EINVAL");
      assert.match(e.message, /hash map \(key 4 B, value 4 B, max_entries 1, flags 0x40000000\)/);
      return true;
    },
  );
  assert.deepEqual(fdsOpenedSince(before), []);
});

test("unsupported operations are refused with the table's reason", { skip: kernelSkip }, () => {
  using a = BpfMap.create({ type: "array", key: u32, value: u32, maxEntries: 2, name: "arr" });
  assert.throws(() => a.delete(0), (e: unknown) => {
    assert.ok(e instanceof MapOpNotSupportedError);
    assert.equal(
      e.message,
      'delete() is not supported by array maps (map "arr"): array elements always exist and cannot be deleted; overwrite them with zeros (the kernel answers EINVAL)',
    );
    return true;
  });
  assert.throws(() => a.push(1), /push\/pop\/peek belong to queue, stack and bloom filter maps/);
  assert.throws(() => a.getAndDelete(0), /lookup-and-delete exists only for/);
});

test("operations on a closed map throw MapClosedError; close is idempotent; no fd leaks", {
  skip: kernelSkip,
}, () => {
  const before = openFds();
  const m = BpfMap.create({ type: "hash", key: u32, value: u32, maxEntries: 4, name: "closing" });
  m.set(1, 1);
  assert.equal(fdsOpenedSince(before).length, 1);
  m.close();
  m.close();
  assert.equal(m.closed, true);
  assert.deepEqual(fdsOpenedSince(before), []);
  for (
    const op of [
      () => m.get(1),
      () => m.set(1, 2),
      () => m.delete(1),
      () => m.fd,
      () => m.info(),
      () => [...m.keys()],
      () => m.batchLookup(),
      () => m.freeze(),
    ]
  ) {
    assert.throws(op, (e: unknown) => {
      assert.ok(e instanceof MapClosedError, String(e));
      assert.ok(e instanceof ClosedError && e.kind === "map");
      assert.match(e.message, /on hash map "closing" \(key 4 B, value 4 B\), which is closed/);
      return true;
    });
  }
});

test(
  "many maps created and closed, and errors in between, leak no fds",
  { skip: kernelSkip },
  () => {
    const before = openFds();
    for (let i = 0; i < 200; i++) {
      using m = BpfMap.create({ type: "hash", key: u32, value: u64, maxEntries: 8 });
      m.set(i, 1n);
      try {
        m.set(i, -1n);
      } catch {
        // expected
      }
      try {
        BpfMap.create({ type: "hash", key: u32, value: u64, maxEntries: 8, flags: 0x40000000 });
      } catch {
        // expected
      }
    }
    assert.deepEqual(fdsOpenedSince(before), []);
  },
);

const g = globalThis as { gc?: unknown; Bun?: unknown };
const gcSkip = typeof g.gc === "function" || g.Bun !== undefined
  ? false
  : "this runtime cannot force a garbage collection (run Deno with --v8-flags=--expose-gc)";

test(
  "a dropped map is closed by the finalization backstop",
  { skip: kernelSkip || gcSkip },
  async () => {
    const before = openFds();
    (() => {
      for (let i = 0; i < 20; i++) {
        BpfMap.create({
          type: "array",
          key: u32,
          value: u32,
          maxEntries: 1,
        });
      }
    })();
    assert.ok(fdsOpenedSince(before).length >= 20);
    for (let i = 0; i < 50 && fdsOpenedSince(before).length > 0; i++) {
      forceGc();
      await new Promise((r) => setTimeout(r, 10));
    }
    assert.deepEqual(fdsOpenedSince(before), []);
  },
);
