/** Socket-map programs on a loopback TCP pair: stream verdicts count, msg verdicts drop. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { AttachType } from "../types/attach_type.ts";
import { LinkType } from "../types/link_type.ts";
import { ProgType } from "../types/prog_type.ts";
import { asm } from "../lib/insn/mod.ts";
import { Program } from "../lib/program/program.ts";
import { BpfMap } from "../lib/map/mod.ts";
import { fd64, u32 } from "../lib/codec/mod.ts";
import { liveProfile, reasonOf } from "../lib/profile/mod.ts";
import { AttachError, attachSockMap, queryAttached } from "../lib/link/mod.ts";
import type { SockMapAttachment } from "../lib/link/mod.ts";
import { kernelSkip } from "./util.ts";
import {
  assertClean,
  closeAll,
  counterMap,
  counterProgram,
  snapshot,
  untyped,
} from "./link_util.ts";
import { recvExactly, sendData, tcpPair } from "./sock_util.ts";

const sockmapSkip: string | false = kernelSkip ||
  (reasonOf(liveProfile().progType(ProgType.SK_SKB)) ?? false) ||
  (reasonOf(liveProfile().progType(ProgType.SK_MSG)) ?? false);
/** Whether the running kernel has sockmap links (6.10+). */
const hasSockmapLinks = liveProfile().linkType(LinkType.SOCKMAP).state === "yes";

const EACCES = -13;

const sockmap = () => BpfMap.create({ type: "sockmap", key: u32, value: fd64, maxEntries: 4 });
const bytes = (s: string) => new TextEncoder().encode(s);

test("attachSockMap stream_verdict: data received by a socket in the map runs the program", {
  skip: sockmapSkip,
}, () => {
  const before = snapshot();
  const counts = counterMap();
  const map = sockmap();
  const prog = counterProgram("sk_skb", counts, 1); // SK_PASS
  const [client, server] = tcpPair();
  const ids = { links: [] as number[], progs: [prog.id] };
  let a: SockMapAttachment | undefined;
  try {
    a = attachSockMap(prog, map, "stream_verdict");
    assert.equal(a.method, hasSockmapLinks ? "link" : "prog_attach");
    if (a.link !== undefined) ids.links.push(a.link.id);
    const info = a.info();
    assert.equal(info.type, LinkType.SOCKMAP);
    assert.equal(info.progId, prog.id);
    assert.deepEqual(info.sockmap, {
      mapId: map.id,
      attachType: AttachType.SK_SKB_STREAM_VERDICT,
    });
    if (hasSockmapLinks) {
      const q = queryAttached({ mapFd: map.fd }, AttachType.SK_SKB_STREAM_VERDICT);
      assert.deepEqual(q.progIds, [prog.id]);
    }
    // Programs apply to sockets added after the attach.
    map.set(0, server);
    assert.equal(sendData(client, bytes("hello")), 5);
    assert.deepEqual(recvExactly(server, 5), bytes("hello"));
    const seen = counts.get(0)!;
    assert.ok(seen >= 1n, "the verdict program ran on the received data");

    a.close();
    assert.equal(a.closed, true);
    if (hasSockmapLinks) {
      const q = queryAttached({ mapFd: map.fd }, AttachType.SK_SKB_STREAM_VERDICT);
      assert.deepEqual(q.progIds, []);
    }
  } finally {
    a?.close();
    closeAll(client, server);
    prog.close();
    map.close();
    counts.close();
  }
  assertClean(before, ids);
});

for (const mode of ["link", "prog_attach"] as const) {
  test(`attachSockMap msg_verdict (${mode}): SK_DROP fails sendmsg with EACCES; close undoes it`, {
    skip: sockmapSkip ||
      (mode === "link" && !hasSockmapLinks && "this kernel has no sockmap links (6.10+)"),
  }, () => {
    const before = snapshot();
    const counts = counterMap();
    const map = sockmap();
    const drop = counterProgram("sk_msg", counts, 0); // SK_DROP
    const [client, server] = tcpPair();
    const ids = { links: [] as number[], progs: [drop.id] };
    let a: SockMapAttachment | undefined;
    try {
      a = attachSockMap(drop, map, "msg_verdict", { mode });
      assert.equal(a.method, mode);
      if (a.link !== undefined) ids.links.push(a.link.id);
      assert.equal(a.info().sockmap?.attachType, AttachType.SK_MSG_VERDICT);
      map.set(0, client);
      assert.equal(sendData(client, bytes("dropped")), EACCES);
      assert.equal(counts.get(0), 1n);
      // The socket keeps the verdict for what follows (the kernel caches SK_DROP).
      assert.equal(sendData(client, bytes("dropped")), EACCES);
      const judged = counts.get(0);

      a.close();
      map.delete(0);
      map.set(0, client); // re-added: no program now
      assert.equal(sendData(client, bytes("kept")), 4);
      assert.deepEqual(recvExactly(server, 4), bytes("kept"));
      assert.equal(counts.get(0), judged, "no program runs once detached");
    } finally {
      a?.close();
      closeAll(client, server);
      drop.close();
      map.close();
      counts.close();
    }
    assertClean(before, ids);
  });
}

test("attachSockMap update: sockets added afterwards get the new program", {
  skip: sockmapSkip,
}, () => {
  const before = snapshot();
  const counts = counterMap();
  const map = sockmap();
  const pass = counterProgram("sk_msg", counts, 1);
  const drop = counterProgram("sk_msg", counts, 0);
  const [client, server] = tcpPair();
  const ids = { links: [] as number[], progs: [pass.id, drop.id] };
  const attachments: SockMapAttachment[] = [];
  try {
    for (
      const mode of hasSockmapLinks ? ["link", "prog_attach"] as const : ["prog_attach"] as const
    ) {
      const a = attachSockMap(pass, map, "msg_verdict", { mode });
      attachments.push(a);
      if (a.link !== undefined) ids.links.push(a.link.id);
      a.update(drop);
      assert.equal(a.progId, drop.id);
      assert.equal(a.info().progId, drop.id);
      map.set(0, client);
      assert.equal(sendData(client, bytes("x")), EACCES, `${mode}: the new program judged`);
      map.delete(0);
      a.close();
    }
  } finally {
    for (const a of attachments) a.close();
    closeAll(client, server);
    pass.close();
    drop.close();
    map.close();
    counts.close();
  }
  assertClean(before, ids);
});

test("attachSockMap errors: wrong program or map type, EBUSY, closed objects; nothing leaks", {
  skip: sockmapSkip,
}, () => {
  const before = snapshot();
  const counts = counterMap();
  const map = sockmap();
  const array = BpfMap.create({ type: "array", key: u32, value: u32, maxEntries: 1 });
  const msg = counterProgram("sk_msg", counts, 1);
  const skb = counterProgram("sk_skb", counts, 1);
  const xdp = Program.load({ type: "xdp", license: "GPL", insns: asm`r0 = 2\nexit` });
  const ids = { progs: [msg.id, skb.id, xdp.id], links: [] as number[] };
  try {
    assert.throws(
      () => attachSockMap(xdp, map, "stream_verdict"),
      (e) => e instanceof TypeError && /needs a program of type sk_skb, got xdp/.test(e.message),
    );
    assert.throws(
      () => attachSockMap(msg, map, "stream_parser"),
      (e) => e instanceof TypeError && /needs a program of type sk_skb, got sk_msg/.test(e.message),
    );
    assert.throws(
      () => attachSockMap(skb, array, "stream_verdict"),
      (e) => e instanceof TypeError && /needs a sockmap or sockhash, got array/.test(e.message),
    );
    assert.throws(
      () => attachSockMap(skb, map, "verdict" as "skb_verdict"),
      (e) => e instanceof RangeError && /attach type must be/.test(e.message),
    );
    // Left to the kernel: an sk_msg program at a stream verdict.
    assert.throws(() => attachSockMap(untyped(msg), map, "stream_verdict"), (e) => {
      assert.ok(e instanceof AttachError);
      assert.equal(e.errnoName, "EINVAL");
      assert.match(e.message, /sk_skb for the others/);
      return true;
    });
    if (hasSockmapLinks) {
      using first = attachSockMap(skb, map, "stream_verdict", { mode: "link" });
      ids.links.push(first.link!.id);
      assert.throws(() => attachSockMap(skb, map, "skb_verdict", { mode: "link" }), (e) => {
        assert.ok(e instanceof AttachError);
        assert.equal(e.errnoName, "EBUSY");
        assert.match(e.message, /exclude each other/);
        return true;
      });
    }
    const closedMap = sockmap();
    closedMap.close();
    assert.throws(() => attachSockMap(skb, closedMap, "stream_verdict"), (e) => {
      assert.ok(e instanceof AttachError);
      assert.equal(e.errnoName, "EBADF");
      assert.match(e.message, /the map is closed/);
      return true;
    });
    const closed = counterProgram("sk_skb", counts, 1);
    closed.close();
    assert.throws(() => attachSockMap(closed, map, "stream_verdict"), (e) => {
      assert.ok(e instanceof AttachError);
      assert.equal(e.errnoName, "EBADF");
      return true;
    });
  } finally {
    msg.close();
    skb.close();
    xdp.close();
    array.close();
    map.close();
    counts.close();
  }
  assertClean(before, ids);
});
