/**
 * Each map type's supported operations against the real kernel, through BpfMap with codecs.
 * (The refused operations of every type are in map_types.test.ts.)
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { BpfMap, MapOpNotSupportedError } from "../lib/map/mod.ts";
import { liveProfile } from "../lib/profile/live.ts";
import { bytes, fd32, fd64, lpmKey, struct, u32, u64 } from "../lib/codec/mod.ts";
import { BpfError } from "../lib/errors.ts";
import { Program } from "../lib/program/program.ts";
import { ElemFlag } from "../types/flags.ts";
import { fdsOpenedSince, kernelSkip, openFds, unlessProfile } from "./util.ts";
import { MapType } from "../types/map_type.ts";
import {
  bpfOutputEvent,
  cgroupFd,
  closeFds,
  openPath,
  reuseportListener,
  selfPidfd,
  udpSocket,
} from "./map_helpers.ts";

const RETURN_0 = [
  { code: 0xb7, dst: 0, src: 0, off: 0, imm: 0 },
  { code: 0x95, dst: 0, src: 0, off: 0, imm: 0 },
];

/** Whether the running kernel's profile says hash maps have no lookup-and-delete (before 5.14). */
function lookupAndDeleteAbsent(): boolean {
  return liveProfile().feature("hash_lookup_and_delete").state === "no";
}

/** getAndDelete() refused with a MapOpNotSupportedError naming what the kernel lacks. */
function assertNoLookupAndDelete(fn: () => unknown, type: string): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof MapOpNotSupportedError);
    assert.equal(e.errnoName, "ENOTSUPP");
    assert.match(e.message, new RegExp(`this kernel has no lookup-and-delete for ${type} maps`));
    return true;
  });
}

function errnoOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    if (e instanceof BpfError) return e.errnoName;
    throw e;
  }
  throw new Error("expected a BpfError");
}

test(
  "hash: set, get, has, delete, getAndDelete, nextKey and update flags",
  { skip: kernelSkip },
  () => {
    const fds = openFds();
    const Stats = struct({ pkts: u64, bytes: u64 });
    using m = BpfMap.create({
      type: "hash",
      key: u32,
      value: Stats,
      maxEntries: 4,
      name: "ops_hash",
    });
    assert.equal(m.keySize, 4);
    assert.equal(m.valueSize, 16);
    assert.equal(m.name, "ops_hash");
    assert.equal(m.set(42, { pkts: 3n, bytes: 120n }), m);
    assert.deepEqual(m.get(42), { pkts: 3n, bytes: 120n });
    assert.equal(m.get(7), undefined, "a missing key is undefined, not an exception");
    assert.equal(m.has(42), true);
    assert.equal(m.has(7), false);
    assert.equal(m.nextKey(), 42);
    assert.equal(m.nextKey(42), undefined);
    // NOEXIST on an existing key, EXIST on a missing one
    assert.equal(errnoOf(() => m.set(42, { pkts: 0n, bytes: 0n }, ElemFlag.NOEXIST)), "EEXIST");
    assert.throws(
      () => m.set(42, { pkts: 0n, bytes: 0n }, ElemFlag.NOEXIST),
      /the key already exists and flags are NOEXIST/,
    );
    assert.equal(errnoOf(() => m.set(9, { pkts: 0n, bytes: 0n }, ElemFlag.EXIST)), "ENOENT");
    m.set(42, { pkts: 4n, bytes: 1n }, ElemFlag.EXIST);
    assert.deepEqual(m.get(42), { pkts: 4n, bytes: 1n });
    // full
    for (const k of [1, 2, 3]) m.set(k, { pkts: BigInt(k), bytes: 0n });
    assert.equal(errnoOf(() => m.set(5, { pkts: 0n, bytes: 0n })), "E2BIG");
    assert.throws(() => m.set(5, { pkts: 0n, bytes: 0n }), /the map is full \(max_entries 4\)/);
    assert.equal(m.count(), 4);
    if (lookupAndDeleteAbsent()) {
      assertNoLookupAndDelete(() => m.getAndDelete(1), "hash");
      assert.equal(m.delete(1), true);
    } else {
      assert.deepEqual(m.getAndDelete(1), { pkts: 1n, bytes: 0n });
      assert.equal(m.getAndDelete(1), undefined);
    }
    assert.equal(m.delete(2), true);
    assert.equal(m.delete(2), false);
    assert.deepEqual(new Set(m.keys()), new Set([3, 42]));
    assert.deepEqual(
      new Map(m.entries()),
      new Map([[3, { pkts: 3n, bytes: 0n }], [42, { pkts: 4n, bytes: 1n }]]),
    );
    assert.equal(m.clear(), 2);
    assert.equal(m.count(), 0);
    m.close();
    assert.deepEqual(fdsOpenedSince(fds), []);
  },
);

test("hash without codecs: raw Uint8Array keys and values", { skip: kernelSkip }, () => {
  using m = BpfMap.create({ type: "hash", keySize: 2, valueSize: 3, maxEntries: 8 });
  m.set(new Uint8Array([1, 2]), new Uint8Array([7, 8, 9]));
  assert.deepEqual(m.get(new Uint8Array([1, 2])), new Uint8Array([7, 8, 9]));
  const out = new Uint8Array(3);
  assert.equal(m.getInto(new Uint8Array([1, 2]), out), true);
  assert.deepEqual(out, new Uint8Array([7, 8, 9]));
  assert.equal(m.getInto(new Uint8Array([2, 2]), out), false);
  assert.deepEqual([...m.keys()], [new Uint8Array([1, 2])]);
});

test("lru_hash evicts instead of failing when full", { skip: kernelSkip }, () => {
  using m = BpfMap.create({ type: "lru_hash", key: u32, value: u64, maxEntries: 64 });
  for (let i = 0; i < 1000; i++) m.set(i, BigInt(i));
  const n = m.count();
  assert.ok(n > 0 && n <= 64, `count ${n}`);
  assert.equal(m.get(999), 999n);
});

test("percpu_hash and lru_percpu_hash: one value per possible CPU", { skip: kernelSkip }, () => {
  for (const type of ["percpu_hash", "lru_percpu_hash"] as const) {
    using m = BpfMap.create({ type, key: u32, value: u32, maxEntries: 8 });
    const ncpu = m.cpus;
    assert.ok(ncpu >= 1);
    const values = Array.from({ length: ncpu }, (_, i) => 100 + i);
    m.set(1, values);
    assert.deepEqual(m.get(1), values);
    assert.throws(
      () => m.set(2, new Array(ncpu + 1).fill(1)),
      new RegExp(`one value per possible CPU \\(${ncpu}\\)`),
    );
    if (lookupAndDeleteAbsent()) {
      assertNoLookupAndDelete(() => m.getAndDelete(1), type);
      assert.equal(m.delete(1), true);
    } else assert.deepEqual(m.getAndDelete(1), values);
    assert.equal(m.get(1), undefined);
    m.batchUpdate([[3, values], [4, values.map((v) => v + 1)]]);
    assert.deepEqual(
      new Map(m.batchLookup()),
      new Map([[3, values], [4, values.map((v) => v + 1)]]),
    );
  }
});

test("array and percpu_array: every index exists; NOEXIST refused", { skip: kernelSkip }, () => {
  using a = BpfMap.create({ type: "array", key: u32, value: u64, maxEntries: 4 });
  assert.equal(a.get(3), 0n);
  assert.equal(a.get(4), undefined, "past max_entries: absent");
  a.set(2, 9n);
  assert.equal(a.get(2), 9n);
  assert.equal(errnoOf(() => a.set(1, 1n, ElemFlag.NOEXIST)), "EEXIST");
  assert.equal(errnoOf(() => a.set(4, 1n)), "E2BIG");
  assert.deepEqual([...a.keys()], [0, 1, 2, 3]);
  assert.deepEqual(a.batchLookup(), [[0, 0n], [1, 0n], [2, 9n], [3, 0n]]);
  assert.equal(a.batchUpdate([[0, 5n], [1, 6n]]), 2);
  assert.deepEqual([...a.values()], [5n, 6n, 9n, 0n]);
  using p = BpfMap.create({ type: "percpu_array", key: u32, value: u64, maxEntries: 2 });
  const zeros = Array.from({ length: p.cpus }, () => 0n);
  assert.deepEqual(p.get(0), zeros);
  const v = zeros.map((_, i) => BigInt(i + 1));
  p.set(1, v);
  assert.deepEqual(p.get(1), v);
});

test("lpm_trie: longest-prefix match", { skip: kernelSkip }, () => {
  using t = BpfMap.create({ type: "lpm_trie", key: lpmKey(4), value: u32, maxEntries: 16 });
  t.set("10.0.0.0/8" as never, 8);
  t.set("10.1.0.0/16" as never, 16);
  t.set({ prefixLen: 24, data: new Uint8Array([10, 1, 2, 0]) }, 24);
  assert.equal(t.get("10.1.2.3" as never), 24);
  assert.equal(t.get("10.1.9.9" as never), 16);
  assert.equal(t.get("10.200.0.1" as never), 8);
  assert.equal(t.get("11.0.0.1" as never), undefined);
  assert.equal(t.delete("10.1.0.0/16" as never), true);
  assert.equal(t.get("10.1.9.9" as never), 8);
  assert.equal(t.count(), 2);
  assert.equal(
    t.batchDelete(["10.0.0.0/8" as never, "10.9.0.0/16" as never]),
    1,
    "absent keys are skipped",
  );
  assert.equal(t.count(), 1);
});

test("array_of_maps and hash_of_maps: inner maps written by fd, read back as ids", {
  skip: kernelSkip,
}, () => {
  using inner1 = BpfMap.create({ type: "array", key: u32, value: u32, maxEntries: 1 });
  using inner2 = BpfMap.create({ type: "array", key: u32, value: u32, maxEntries: 1 });
  assert.throws(
    () => BpfMap.create({ type: "array_of_maps", key: u32, value: fd32, maxEntries: 2 }),
    /needs innerMap/,
  );
  using aom = BpfMap.create({
    type: "array_of_maps",
    key: u32,
    value: fd32,
    maxEntries: 2,
    innerMap: inner1,
  });
  aom.set(0, inner1);
  aom.set(1, inner2.fd);
  assert.equal(aom.get(0), inner1.id);
  assert.equal(aom.get(1), inner2.id);
  assert.equal(aom.delete(1), true);
  assert.equal(aom.get(1), undefined);
  using hom = BpfMap.create({
    type: "hash_of_maps",
    key: u32,
    value: fd32,
    maxEntries: 4,
    innerMap: inner1,
  });
  hom.set(77, inner2);
  assert.equal(hom.get(77), inner2.id);
  assert.deepEqual(hom.batchLookup(), [[77, inner2.id]]);
  assert.equal(hom.delete(77), true);
});

test("prog_array: programs written by fd, read back as ids", { skip: kernelSkip }, () => {
  using prog = Program.load({ type: "socket_filter", insns: RETURN_0, license: "GPL" });
  using jumps = BpfMap.create({ type: "prog_array", key: u32, value: fd32, maxEntries: 4 });
  jumps.set(2, prog);
  assert.equal(jumps.get(2), prog.id);
  assert.equal(jumps.get(0), undefined);
  assert.deepEqual([...jumps.entries()], [[2, prog.id]]);
  assert.equal(jumps.delete(2), true);
  assert.equal(jumps.delete(2), false);
});

test("perf_event_array: perf event fds written, not readable", { skip: kernelSkip }, () => {
  const ev = bpfOutputEvent(0);
  try {
    using m = BpfMap.create({ type: "perf_event_array", key: u32, value: fd32, maxEntries: 1 });
    m.set(0, ev);
    assert.throws(() => m.get(0), /get\(\) is not supported by perf_event_array maps/);
    assert.equal(m.delete(0), true);
    assert.equal(errnoOf(() => m.set(0, 0)), "EBADF");
  } finally {
    closeFds(ev);
  }
});

test("cgroup_array: cgroup fds written", { skip: kernelSkip }, () => {
  const cg = cgroupFd();
  assert.ok(cg !== undefined, "a cgroup v2 hierarchy is mounted");
  try {
    using m = BpfMap.create({ type: "cgroup_array", key: u32, value: fd32, maxEntries: 1 });
    m.set(0, cg);
    assert.equal(m.delete(0), true);
  } finally {
    closeFds(cg);
  }
});

test("stack_trace: read and delete only; empty ids are absent", { skip: kernelSkip }, () => {
  using m = BpfMap.create({ type: "stack_trace", key: u32, valueSize: 127 * 8, maxEntries: 16 });
  assert.equal(m.get(0), undefined);
  assert.equal(m.delete(0), false);
  // Lookup-and-delete on stack_trace maps: ENOENT for an empty id where the kernel supports it;
  // older kernels (6.1) answer ENOTSUPP for the command itself, a typed error naming it.
  try {
    assert.equal(m.getAndDelete(0), undefined);
  } catch (e) {
    assert.ok(e instanceof BpfError, String(e));
    assert.equal(e.errnoName, "ENOTSUPP");
    assert.match(
      e.message,
      /BPF_MAP_LOOKUP_AND_DELETE_ELEM failed: ENOTSUPP .*getAndDelete\(\) on stack_trace map/,
    );
  }
  assert.deepEqual([...m.keys()], []);
  assert.throws(() => m.set(0, new Uint8Array(127 * 8)), /written only by bpf_get_stackid/);
});

test("devmap and devmap_hash: ifindex values", { skip: kernelSkip }, () => {
  for (const type of ["devmap", "devmap_hash"] as const) {
    using m = BpfMap.create({ type, key: u32, value: u32, maxEntries: 4 });
    m.set(1, 1); // ifindex 1: lo
    assert.equal(m.get(1), 1);
    assert.equal(errnoOf(() => m.set(2, 999999)), "EINVAL"); // no such device
    assert.equal(m.delete(1), true);
    assert.equal(m.get(1), undefined);
  }
  using d8 = BpfMap.create({
    type: "devmap",
    key: u32,
    value: struct({ ifindex: u32, prog: u32 }),
    maxEntries: 2,
  });
  d8.set(0, { ifindex: 1, prog: 0 });
  assert.deepEqual(d8.get(0), { ifindex: 1, prog: 0 });
});

test("sockmap and sockhash: socket fds written, cookies read", { skip: kernelSkip }, () => {
  // Listening TCP sockets: every kernel from 5.7 takes them (AF_UNIX ones only from 5.15).
  const a = reuseportListener();
  const b = reuseportListener();
  const file = openPath("/proc/self/exe");
  try {
    using sm = BpfMap.create({ type: "sockmap", key: u32, value: fd64, maxEntries: 4 });
    sm.set(0, a);
    const cookie = sm.get(0) as bigint;
    assert.equal(typeof cookie, "bigint");
    assert.ok(cookie > 0n);
    using sh = BpfMap.create({ type: "sockhash", key: u32, value: fd64, maxEntries: 4 });
    sh.set(1234, b);
    assert.ok((sh.get(1234) as bigint) > 0n);
    assert.notEqual(sh.get(1234), cookie);
    assert.deepEqual([...sh.keys()], [1234]);
    assert.equal(sh.delete(1234), true);
    assert.equal(sm.delete(0), true);
    assert.equal(errnoOf(() => sm.set(1, file)), "ENOTSOCK");
  } finally {
    closeFds(a, b, file);
  }
});

test("cpumap: queue sizes per CPU", { skip: kernelSkip }, () => {
  using m = BpfMap.create({ type: "cpumap", key: u32, value: u32, maxEntries: 1 });
  m.set(0, 192);
  assert.equal(m.get(0), 192);
  assert.equal(m.delete(0), true);
  assert.equal(m.get(0), undefined);
});

test("xskmap: only AF_XDP sockets are accepted; not readable", { skip: kernelSkip }, () => {
  const udp = udpSocket();
  try {
    using m = BpfMap.create({ type: "xskmap", key: u32, value: fd32, maxEntries: 2 });
    assert.equal(errnoOf(() => m.set(0, udp)), "EOPNOTSUPP");
    assert.throws(() => m.get(0), /XSK maps cannot be read from user space/);
    assert.equal(m.delete(0), true);
  } finally {
    closeFds(udp);
  }
});

test(
  "reuseport_sockarray: SO_REUSEPORT sockets written, cookies read",
  { skip: kernelSkip },
  () => {
    const l = reuseportListener();
    const udp = udpSocket();
    try {
      using m = BpfMap.create({
        type: "reuseport_sockarray",
        key: u32,
        value: fd64,
        maxEntries: 2,
      });
      m.set(0, l);
      assert.ok((m.get(0) as bigint) > 0n);
      assert.equal(m.get(1), undefined);
      assert.equal(errnoOf(() => m.set(1, udp)), "EINVAL"); // no SO_REUSEPORT group
      assert.equal(m.delete(0), true);
    } finally {
      closeFds(l, udp);
    }
  },
);

test(
  "queue and stack: push, peek, pop; full; EXIST overwrites the oldest",
  { skip: kernelSkip },
  () => {
    using q = BpfMap.create({ type: "queue", value: u32, maxEntries: 3 });
    assert.equal(q.keySize, 0);
    assert.equal(q.pop(), undefined);
    q.push(1);
    q.push(2);
    q.push(3);
    assert.equal(errnoOf(() => q.push(4)), "E2BIG");
    q.push(4, ElemFlag.EXIST);
    assert.equal(q.peek(), 2);
    assert.deepEqual([q.pop(), q.pop(), q.pop(), q.pop()], [2, 3, 4, undefined]);
    assert.throws(
      () => q.get(0 as never),
      /queues and stacks have no keys; use push\(\), pop\(\) and peek\(\)/,
    );
    using s = BpfMap.create({ type: "stack", value: u64, maxEntries: 3 });
    s.push(1n);
    s.push(2n);
    assert.equal(s.peek(), 2n);
    assert.deepEqual([s.pop(), s.pop(), s.pop()], [2n, 1n, undefined]);
  },
);

test("bloom_filter: push and has", {
  skip: unlessProfile((p) => p.mapType(MapType.BLOOM_FILTER)),
}, () => {
  using b = BpfMap.create({ type: "bloom_filter", value: u32, maxEntries: 100, mapExtra: 3 });
  assert.equal(b.info().mapExtra, 3n);
  for (let i = 0; i < 50; i++) b.push(i * 7);
  for (let i = 0; i < 50; i++) assert.equal(b.has(i * 7), true);
  let falsePositives = 0;
  for (let i = 0; i < 50; i++) if (b.has(100000 + i)) falsePositives++;
  assert.ok(falsePositives < 25, `${falsePositives} false positives of 50`);
  assert.throws(() => b.peek(), /use has\(value\)/);
});

/** Local storage of `type` keyed by `owner`: get, set, NOEXIST, delete, no iteration. */
function storageCase(type: string, owner: number | undefined): void {
  const V = struct({ a: u32, b: u32, c: u64 });
  assert.ok(owner !== undefined);
  using m = BpfMap.create({ type, key: u32, value: V });
  const info = m.info();
  assert.ok(info.btfId > 0, `${type} has BTF`);
  assert.equal(m.get(owner), undefined);
  m.set(owner, { a: 1, b: 2, c: 3n });
  assert.deepEqual(m.get(owner), { a: 1, b: 2, c: 3n });
  assert.equal(errnoOf(() => m.set(owner, { a: 0, b: 0, c: 0n }, ElemFlag.NOEXIST)), "EEXIST");
  assert.equal(m.delete(owner), true);
  assert.equal(m.delete(owner), false);
  assert.throws(() => [...m.keys()], /cannot be iterated/);
}

test("sk_storage: keyed by socket fds, with generated BTF", { skip: kernelSkip }, () => {
  const sock = udpSocket();
  try {
    storageCase("sk_storage", sock);
  } finally {
    closeFds(sock);
  }
});

test("inode_storage: keyed by file fds, with generated BTF", {
  // Inodes carry BPF storage only where the BPF LSM is active.
  skip: unlessProfile((p) => p.feature("bpf_lsm")),
}, () => {
  const file = openPath("/proc/self/exe");
  try {
    storageCase("inode_storage", file);
  } finally {
    closeFds(file);
  }
});

test("task_storage: keyed by pidfds, with generated BTF", {
  skip: unlessProfile((p) => p.mapType(MapType.TASK_STORAGE)),
}, () => {
  const pidfd = selfPidfd();
  try {
    storageCase("task_storage", pidfd);
  } finally {
    closeFds(pidfd);
  }
});

test("cgrp_storage: keyed by cgroup directory fds, with generated BTF", {
  skip: unlessProfile((p) => p.mapType(MapType.CGRP_STORAGE)),
}, () => {
  const cg = cgroupFd();
  try {
    storageCase("cgrp_storage", cg);
  } finally {
    closeFds(cg);
  }
});

test("raw values of an exact size: bytes(n) codec", { skip: kernelSkip }, () => {
  using m = BpfMap.create({ type: "hash", key: bytes(6), value: u32, maxEntries: 4 });
  const mac = new Uint8Array([0, 0x11, 0x22, 0x33, 0x44, 0x55]);
  m.set(mac, 1);
  assert.equal(m.get(mac), 1);
  assert.deepEqual([...m.keys()], [mac]);
});

test("count() and entries() of sparse array-like maps list occupied slots only", {
  skip: kernelSkip,
}, () => {
  using prog = Program.load({ type: "socket_filter", insns: RETURN_0, license: "GPL" });
  using jumps = BpfMap.create({ type: "prog_array", key: u32, value: fd32, maxEntries: 8 });
  assert.equal(jumps.count(), 0);
  jumps.set(5, prog);
  assert.equal(jumps.count(), 1);
  assert.deepEqual(
    [...jumps.keys()],
    [0, 1, 2, 3, 4, 5, 6, 7],
    "keys(): every index, as the kernel walks them",
  );
  const ev = bpfOutputEvent(0);
  try {
    using perf = BpfMap.create({ type: "perf_event_array", key: u32, value: fd32, maxEntries: 2 });
    perf.set(0, ev);
    assert.equal(perf.count(), 2, "write-only: every slot is counted");
    assert.throws(
      () => [...perf.entries()],
      /entries\(\) is not supported by perf_event_array maps/,
    );
  } finally {
    closeFds(ev);
  }
});
