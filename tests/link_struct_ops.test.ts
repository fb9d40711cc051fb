/**
 * struct_ops links: a TCP congestion control (tests/fixtures/objects/struct_ops_counted.bpf.c)
 * registered through attachStructOps, chosen by a socket, its callbacks counted; link.update()
 * swaps in a second copy; closing unregisters it.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { LinkType } from "../types/link_type.ts";
import { MapType } from "../types/map_type.ts";
import { ProgType } from "../types/prog_type.ts";
import { BpfMap } from "../lib/map/mod.ts";
import { u32 } from "../lib/codec/mod.ts";
import { kernelBtf, loadObject } from "../lib/elf/mod.ts";
import type { LoadedObject } from "../lib/elf/mod.ts";
import { structOpsValue } from "../lib/elf/struct_ops.ts";
import { liveProfile, reasonOf } from "../lib/profile/mod.ts";
import { BpfError } from "../lib/errors.ts";
import { AttachError, attachStructOps, type Link } from "../lib/link/mod.ts";
import { alloc, retain } from "../lib/sys/memory.ts";
import { sys } from "../lib/sys/mod.ts";
import { BPF_FDS, fdsOpenedSince, kernelSkip, openFds, repoRoot } from "./util.ts";
import { closeAll } from "./link_util.ts";
import { tcpAccept, tcpConnect, tcpListener } from "./sock_util.ts";

const FIXTURE = join(repoRoot, "tests", "fixtures", "objects", "struct_ops_counted.bpf.o");
const MAP = "tsbpf_ev_ca";

/** struct_ops maps cannot be probed alone (the profile answers "unknown"): only a "no" skips. */
const mapAnswer = liveProfile().mapType(MapType.STRUCT_OPS);
const linkAnswer = liveProfile().feature("struct_ops_link");
const structOpsSkip: string | false = kernelSkip ||
  (reasonOf(liveProfile().progType(ProgType.STRUCT_OPS)) ?? false) ||
  (mapAnswer.state === "no" && mapAnswer.reason) ||
  (linkAnswer.state === "no" && linkAnswer.reason);

/** A congestion-control name of this process (names are global in the kernel). */
function caName(): string {
  const s = sys();
  return `tsev${Number(s.syscall(s.nr.getpid))}`;
}

/**
 * Loads the fixture and writes its struct_ops map's value (programs in place), renamed to
 * `name`, without registering it: that is attachStructOps' part.
 */
function prepared(name: string): LoadedObject {
  const obj = loadObject(FIXTURE);
  try {
    const spec = obj.spec;
    const m = spec.map(MAP);
    const kernel = kernelBtf();
    const value = structOpsValue(m, spec.types!, kernel, (p) => obj.programs[p].fd);
    // bpf_struct_ops_tcp_congestion_ops { …; struct tcp_congestion_ops data { …; char name[16] } }
    const outer = kernel.get("struct", "bpf_struct_ops_tcp_congestion_ops");
    const data = kernel.fields(outer.id).find((f) => f.name === "data")!;
    const ops = kernel.get("struct", "tcp_congestion_ops");
    const nameField = kernel.fields(ops.id).find((f) => f.name === "name")!;
    const at = (data.bitOffset + nameField.bitOffset) / 8;
    value.fill(0, at, at + 16);
    value.set(new TextEncoder().encode(name), at);
    obj.maps[MAP].set(new Uint8Array(4), value);
    return obj;
  } catch (e) {
    obj.close();
    throw e;
  }
}

/** A global variable of the object's .bss, by symbol name. */
function counter(obj: LoadedObject, name: string): bigint {
  const sym = obj.spec.elf.symbols.find((s) => s.name === name)!;
  const bss = obj.maps[".bss"].get(new Uint8Array(4)) as Uint8Array;
  return new DataView(bss.buffer, bss.byteOffset).getBigUint64(sym.value, true);
}

function available(): string[] {
  return readFileSync("/proc/sys/net/ipv4/tcp_available_congestion_control", "utf8").trim()
    .split(/\s+/);
}

/** Waits (bounded) until the kernel has unregistered `name` after its link closed. */
function awaitUnregistered(name: string): void {
  const sleeper = new Int32Array(new SharedArrayBuffer(4));
  for (let i = 0; i < 150 && available().includes(name); i++) Atomics.wait(sleeper, 0, 0, 20);
  assert.ok(!available().includes(name), `${name} is still registered`);
}

/** Opens a loopback TCP connection whose client uses congestion control `ca`. */
function connectWith(ca: string): void {
  const s = sys();
  const l = tcpListener();
  let client = -1, server = -1;
  try {
    client = tcpConnect(l.port, (fd) => {
      const buf = alloc(ca.length);
      buf.set(new TextEncoder().encode(ca));
      // setsockopt(IPPROTO_TCP, TCP_CONGESTION)
      const r = s.syscall(
        s.nr.setsockopt,
        BigInt(fd),
        6n,
        13n,
        s.addressOf(buf),
        BigInt(ca.length),
      );
      retain(buf);
      assert.equal(r, 0n, `setsockopt(TCP_CONGESTION, ${ca}): errno ${-r}`);
    });
    server = tcpAccept(l.fd);
  } finally {
    closeAll(client, server, l.fd);
  }
}

test(
  "attachStructOps: a TCP congestion control registers, runs, is swapped by update, unregisters",
  {
    skip: structOpsSkip,
  },
  () => {
    const before = openFds();
    const name = caName();
    const first = prepared(name);
    let second: LoadedObject | undefined;
    let link: Link | undefined;
    try {
      second = prepared(name);
      link = attachStructOps(first.maps[MAP]);
      const info = link.info();
      assert.equal(info.type, LinkType.STRUCT_OPS);
      assert.equal(info.typeName, "struct_ops");
      assert.deepEqual(info.structOps, { mapId: first.maps[MAP].id });
      assert.ok(available().includes(name), `${name} in tcp_available_congestion_control`);

      connectWith(name);
      assert.ok(counter(first, "inits") >= 1n, "ev_init ran for the new connection");

      // Same name, taken: the second copy cannot register beside the first.
      assert.throws(() => attachStructOps(second!.maps[MAP]), (e) => {
        assert.ok(e instanceof AttachError);
        assert.equal(e.errnoName, "EEXIST");
        assert.match(e.message, /registered already/);
        return true;
      });

      link.update(second.maps[MAP]);
      assert.deepEqual(link.info().structOps, { mapId: second.maps[MAP].id });
      const firstInits = counter(first, "inits");
      connectWith(name);
      assert.ok(counter(second, "inits") >= 1n, "the new map's ev_init ran");
      assert.equal(counter(first, "inits"), firstInits, "the old map no longer runs");

      link.close();
      awaitUnregistered(name);
    } finally {
      link?.close();
      second?.close();
      first.close();
    }
    assert.deepEqual(fdsOpenedSince(before, BPF_FDS), []);
  },
);

test("attachStructOps errors: not a struct_ops map, no value yet, closed map; nothing leaks", {
  skip: structOpsSkip,
}, () => {
  const before = openFds();
  const array = BpfMap.create({ type: "array", key: u32, value: u32, maxEntries: 1 });
  const bare = loadObject(FIXTURE); // its struct_ops map has no value yet
  try {
    assert.throws(
      () => attachStructOps(array),
      (e) => e instanceof TypeError && /needs a struct_ops map, got array/.test(e.message),
    );
    assert.throws(() => attachStructOps({ fd: array.fd }), (e) => {
      assert.ok(e instanceof AttachError);
      assert.equal(e.errnoName, "EINVAL");
      assert.match(e.message, /BPF_LINK_CREATE failed: EINVAL.*created with BPF_F_LINK/);
      return true;
    });
    assert.throws(() => attachStructOps(bare.maps[MAP]), (e) => {
      assert.ok(e instanceof BpfError);
      assert.equal(e.errnoName, "EINVAL");
      assert.match(e.message, /whose value is set/);
      return true;
    });
    const closed = BpfMap.create({ type: "array", key: u32, value: u32, maxEntries: 1 });
    closed.close();
    assert.throws(() => attachStructOps(closed), (e) => {
      assert.ok(e instanceof AttachError);
      assert.equal(e.errnoName, "EBADF");
      return true;
    });
  } finally {
    bare.close();
    array.close();
  }
  assert.deepEqual(fdsOpenedSince(before, BPF_FDS), []);
});
