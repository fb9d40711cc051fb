/** Network-namespace links: sk_lookup steering a UDP packet to another socket; flow dissector. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { statSync } from "node:fs";
import { AttachType } from "../types/attach_type.ts";
import { LinkType } from "../types/link_type.ts";
import { ProgType } from "../types/prog_type.ts";
import { asm } from "../lib/insn/mod.ts";
import { Program } from "../lib/program/program.ts";
import { BpfMap } from "../lib/map/mod.ts";
import { fd64, u32 } from "../lib/codec/mod.ts";
import { liveProfile, reasonOf } from "../lib/profile/mod.ts";
import {
  AttachError,
  attachFlowDissector,
  attachSkLookup,
  type Link,
  queryAttached,
} from "../lib/link/mod.ts";
import { sys } from "../lib/sys/mod.ts";
import { kernelSkip } from "./util.ts";
import {
  assertClean,
  closeAll,
  counterMap,
  counterProgram,
  run,
  snapshot,
  untyped,
} from "./link_util.ts";
import { boundUdp, freeUdpPort, recvData, sendData } from "./sock_util.ts";

const skLookupSkip: string | false = kernelSkip ||
  (reasonOf(liveProfile().progType(ProgType.SK_LOOKUP)) ?? false);
const flowSkip: string | false = kernelSkip ||
  (reasonOf(liveProfile().progType(ProgType.FLOW_DISSECTOR)) ?? false);

function pid(): number {
  const s = sys();
  return Number(s.syscall(s.nr.getpid));
}

/** A private network namespace made with `ip netns add`, its loopback up. */
function privateNetns(tag: string): { name: string; path: string; remove(): void } {
  const name = `tsbpf_${tag}${pid()}`;
  run("ip", "netns", "add", name);
  try {
    run("ip", "-n", name, "link", "set", "lo", "up");
  } catch (e) {
    run("ip", "netns", "del", name);
    throw e;
  }
  return { name, path: `/run/netns/${name}`, remove: () => void run("ip", "netns", "del", name) };
}

/**
 * For UDP packets to `port`: takes the socket in slot 0 of `sockets`, assigns it as the
 * receiver (`bpf_sk_assign`), counts in `counts`; SK_PASS always. `struct bpf_sk_lookup`:
 * local_port at 60.
 */
function steerer(
  sockets: BpfMap<number, unknown>,
  counts: ReturnType<typeof counterMap>,
  port: number,
): Program {
  return Program.load({
    type: "sk_lookup",
    expectedAttachType: AttachType.SK_LOOKUP,
    license: "GPL",
    insns: asm`
      r6 = r1
      r2 = *(u32 *)(r6 + 60)
      if r2 != ${port} goto pass
      *(u32 *)(r10 - 4) = 0
      r1 = map[fd:${sockets.fd}] ll
      r2 = r10
      r2 += -4
      call bpf_map_lookup_elem
      if r0 == 0 goto pass
      r7 = r0
      r1 = r6
      r2 = r7
      r3 = 0
      call bpf_sk_assign
      r8 = r0
      r1 = r7
      call bpf_sk_release
      if r8 != 0 goto pass
      *(u32 *)(r10 - 4) = 0
      r1 = map[fd:${counts.fd}] ll
      r2 = r10
      r2 += -4
      call bpf_map_lookup_elem
      if r0 == 0 goto pass
      r1 = 1
      lock *(u64 *)(r0 + 0) += r1
    pass:
      r0 = 1
      exit`,
  });
}

test("attachSkLookup: a UDP packet for an unbound port reaches the socket the program picks", {
  skip: skLookupSkip,
}, () => {
  const before = snapshot();
  const counts = counterMap();
  const sockets = BpfMap.create({ type: "sockmap", key: u32, value: fd64, maxEntries: 1 });
  const receiver = boundUdp();
  const sender = boundUdp();
  const nobody = freeUdpPort();
  const prog = steerer(sockets, counts, nobody);
  const ids = { links: [] as number[], progs: [prog.id] };
  let link: Link | undefined;
  try {
    sockets.set(0, receiver.fd);
    link = attachSkLookup(prog);
    ids.links.push(link.id);
    const info = link.info();
    assert.equal(info.type, LinkType.NETNS);
    assert.equal(info.progId, prog.id);
    assert.deepEqual(info.netns, {
      netnsIno: statSync("/proc/self/ns/net").ino,
      attachType: AttachType.SK_LOOKUP,
    });
    assert.ok(
      queryAttached({ netns: "/proc/self/ns/net" }, AttachType.SK_LOOKUP).progIds.includes(
        prog.id,
      ),
    );

    const data = new TextEncoder().encode(`to port ${nobody}`);
    assert.equal(sendData(sender.fd, data, nobody), data.length);
    assert.deepEqual(recvData(receiver.fd), data);
    assert.equal(counts.get(0), 1n);

    link.detach();
    assert.ok(
      !queryAttached({ netns: "/proc/self/ns/net" }, AttachType.SK_LOOKUP).progIds.includes(
        prog.id,
      ),
    );
  } finally {
    link?.close();
    closeAll(receiver.fd, sender.fd);
    prog.close();
    sockets.close();
    counts.close();
  }
  assertClean(before, ids);
});

test("attachSkLookup on a namespace by path: info names it, update swaps the program", {
  skip: skLookupSkip,
}, () => {
  const before = snapshot();
  const ns = privateNetns("skl");
  const pass = () =>
    Program.load({
      type: "sk_lookup",
      expectedAttachType: AttachType.SK_LOOKUP,
      license: "GPL",
      insns: asm`r0 = 1\nexit`,
    });
  const a = pass();
  const b = pass();
  const ids = { links: [] as number[], progs: [a.id, b.id] };
  let link: Link | undefined;
  try {
    link = attachSkLookup(a, ns.path);
    ids.links.push(link.id);
    assert.equal(link.info().netns?.netnsIno, statSync(ns.path).ino);
    assert.deepEqual(queryAttached({ netns: ns.path }, "sk_lookup").progIds, [a.id]);
    link.update(b);
    assert.deepEqual(queryAttached({ netns: ns.path }, "sk_lookup").progIds, [b.id]);
  } finally {
    link?.close();
    a.close();
    b.close();
    ns.remove();
  }
  assertClean(before, ids);
});

test("attachSkLookup errors: wrong type, not a namespace, missing path, closed program", {
  skip: skLookupSkip,
}, () => {
  const before = snapshot();
  const xdp = Program.load({ type: "xdp", license: "GPL", insns: asm`r0 = 2\nexit` });
  const ok = Program.load({
    type: "sk_lookup",
    expectedAttachType: AttachType.SK_LOOKUP,
    license: "GPL",
    insns: asm`r0 = 1\nexit`,
  });
  const ids = { progs: [xdp.id, ok.id] };
  try {
    assert.throws(
      () => attachSkLookup(xdp),
      /attachSkLookup\(own netns\): needs a program of type sk_lookup, got xdp/,
    );
    assert.throws(() => attachSkLookup(untyped(xdp)), (e) => {
      assert.ok(e instanceof AttachError);
      assert.equal(e.errnoName, "EINVAL");
      return true;
    });
    assert.throws(() => attachSkLookup(ok, "/proc/self/exe"), (e) => {
      assert.ok(e instanceof AttachError);
      assert.equal(e.errnoName, "EINVAL");
      assert.match(e.message, /\/proc\/self\/exe must be a network namespace file/);
      return true;
    });
    assert.throws(() => attachSkLookup(ok, "/run/netns/tsbpf-no-such-ns"), (e) => {
      assert.ok(e instanceof AttachError);
      assert.equal(e.errnoName, "ENOENT");
      return true;
    });
    assert.throws(() => attachSkLookup(ok, -3), RangeError);
    const closed = Program.load({
      type: "sk_lookup",
      expectedAttachType: AttachType.SK_LOOKUP,
      license: "GPL",
      insns: asm`r0 = 1\nexit`,
    });
    closed.close();
    assert.throws(() => attachSkLookup(closed), (e) => {
      assert.ok(e instanceof AttachError);
      assert.equal(e.errnoName, "EBADF");
      return true;
    });
  } finally {
    xdp.close();
    ok.close();
  }
  assertClean(before, ids);
});

/**
 * Sends two UDP datagrams to the namespace's loopback from inside it, with receive packet
 * steering on: RPS hashes each received packet, and the hash comes from the flow dissector.
 */
function trafficInNetns(name: string): void {
  run(
    "ip",
    "netns",
    "exec",
    name,
    "bash",
    "-c",
    "echo 1 > /sys/class/net/lo/queues/rx-0/rps_cpus && " +
      "echo a > /dev/udp/127.0.0.1/9 && echo b > /dev/udp/127.0.0.1/9",
  );
}

test("attachFlowDissector on a private namespace: RPS hashing runs it; E2BIG for a second", {
  skip: flowSkip,
}, () => {
  const before = snapshot();
  const ns = privateNetns("fd");
  const counts = counterMap();
  const prog = counterProgram("flow_dissector", counts, 2);
  const other = counterProgram("flow_dissector", counts, 2);
  const ids = { links: [] as number[], progs: [prog.id, other.id] };
  let link: Link | undefined;
  try {
    link = attachFlowDissector(prog, ns.path);
    ids.links.push(link.id);
    const info = link.info();
    assert.equal(info.type, LinkType.NETNS);
    assert.deepEqual(info.netns, {
      netnsIno: statSync(ns.path).ino,
      attachType: AttachType.FLOW_DISSECTOR,
    });
    assert.deepEqual(queryAttached({ netns: ns.path }, "flow_dissector").progIds, [prog.id]);

    trafficInNetns(ns.name);
    const seen = counts.get(0)!;
    assert.ok(seen >= 2n, `the dissector ran ${seen} times for 2 datagrams`);

    assert.throws(() => attachFlowDissector(other, ns.path), (e) => {
      assert.ok(e instanceof AttachError);
      assert.equal(e.errnoName, "E2BIG");
      assert.match(e.message, /a flow dissector is attached already to this namespace/);
      return true;
    });
    link.update(other);
    assert.deepEqual(queryAttached({ netns: ns.path }, "flow_dissector").progIds, [other.id]);

    link.close();
    const after = counts.get(0)!;
    trafficInNetns(ns.name);
    assert.equal(counts.get(0), after, "no dissector runs once the link is closed");
  } finally {
    link?.close();
    prog.close();
    other.close();
    counts.close();
    ns.remove();
  }
  assertClean(before, ids);
});

test("attachFlowDissector errors: wrong program type, closed program, not a namespace", {
  skip: flowSkip,
}, () => {
  const before = snapshot();
  const counts = counterMap();
  const xdp = Program.load({ type: "xdp", license: "GPL", insns: asm`r0 = 2\nexit` });
  const prog = counterProgram("flow_dissector", counts, 0);
  const ids = { progs: [xdp.id, prog.id] };
  try {
    assert.throws(
      () => attachFlowDissector(xdp, "/proc/self/ns/net"),
      /attachFlowDissector\(\/proc\/self\/ns\/net\): needs a program of type flow_dissector, got xdp/,
    );
    assert.throws(() => attachFlowDissector(untyped(xdp), "/proc/self/ns/net"), (e) => {
      assert.ok(e instanceof AttachError);
      assert.equal(e.errnoName, "EINVAL");
      return true;
    });
    assert.throws(() => attachFlowDissector(prog, "/proc/self/exe"), (e) => {
      assert.ok(e instanceof AttachError);
      assert.equal(e.errnoName, "EINVAL");
      return true;
    });
    prog.close();
    assert.throws(() => attachFlowDissector(prog, "/proc/self/ns/net"), (e) => {
      assert.ok(e instanceof AttachError);
      assert.equal(e.errnoName, "EBADF");
      return true;
    });
  } finally {
    xdp.close();
    prog.close();
    counts.close();
  }
  assertClean(before, ids);
});
