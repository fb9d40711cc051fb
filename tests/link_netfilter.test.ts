/** Netfilter links: a program hooked into IPv4 output drops this test's marked packets. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { AttachType } from "../types/attach_type.ts";
import { LinkType } from "../types/link_type.ts";
import { ProgType } from "../types/prog_type.ts";
import { NfInetHook, NfIpPriority, NfProto } from "../types/netfilter.ts";
import { asm } from "../lib/insn/mod.ts";
import { Program } from "../lib/program/program.ts";
import { kernelBtf } from "../lib/elf/vmlinux.ts";
import { liveProfile, reasonOf } from "../lib/profile/mod.ts";
import { BpfError } from "../lib/errors.ts";
import { AttachError, attachNetfilter, type Link } from "../lib/link/mod.ts";
import { alloc, retain } from "../lib/sys/memory.ts";
import { sys } from "../lib/sys/mod.ts";
import { kernelSkip } from "./util.ts";
import {
  assertClean,
  closeAll,
  counterMap,
  sendToLoopback,
  snapshot,
  udpSocket,
  untyped,
} from "./link_util.ts";

const netfilterSkip: string | false = kernelSkip ||
  (reasonOf(liveProfile().progType(ProgType.NETFILTER)) ?? false);

/** `SO_MARK` (asm-generic/socket.h). */
const SO_MARK = 36n;
const EPERM = -1;

/** A mark no other process uses: it carries this process's pid. */
function ownMark(): number {
  const s = sys();
  return 0x7b500000 | (Number(s.syscall(s.nr.getpid)) & 0xfffff);
}

function setMark(fd: number, mark: number): void {
  const s = sys();
  const buf = alloc(4);
  new DataView(buf.buffer).setUint32(0, mark, true);
  const r = s.syscall(s.nr.setsockopt, BigInt(fd), 1n, SO_MARK, s.addressOf(buf), 4n);
  retain(buf);
  assert.equal(r, 0n, `setsockopt(SO_MARK) failed: errno ${-r}`);
}

/** Offset of `sk_buff.mark` in the running kernel, from its BTF. */
function skbMarkOffset(): number {
  const btf = kernelBtf();
  const skb = btf.get("struct", "sk_buff");
  const mark = btf.fields(skb.id).find((f) => f.name === "mark");
  assert.ok(mark !== undefined, "struct sk_buff has no mark in this kernel's BTF");
  return mark.bitOffset / 8;
}

/**
 * Counts and drops packets whose `skb->mark` is `mark`; accepts everything else. The context is
 * `struct bpf_nf_ctx { state, skb }`.
 */
function markDropper(counts: ReturnType<typeof counterMap>, mark: number): Program {
  return Program.load({
    type: "netfilter",
    expectedAttachType: AttachType.NETFILTER,
    license: "GPL",
    insns: asm`
      r6 = *(u64 *)(r1 + 8)
      r2 = *(u32 *)(r6 + ${skbMarkOffset()})
      if r2 != ${mark} goto accept
      *(u32 *)(r10 - 4) = 0
      r1 = map[fd:${counts.fd}] ll
      r2 = r10
      r2 += -4
      call bpf_map_lookup_elem
      if r0 == 0 goto drop
      r1 = 1
      lock *(u64 *)(r0 + 0) += r1
    drop:
      r0 = 0
      exit
    accept:
      r0 = 1
      exit`,
  });
}

const accept = (): Program =>
  Program.load({
    type: "netfilter",
    expectedAttachType: AttachType.NETFILTER,
    license: "GPL",
    insns: asm`r0 = 1\nexit`,
  });

test("attachNetfilter on IPv4 output: marked packets are counted and dropped, unhooked on close", {
  skip: netfilterSkip,
}, () => {
  const before = snapshot();
  const counts = counterMap();
  const mark = ownMark();
  const prog = markDropper(counts, mark);
  const sock = udpSocket();
  const ids = { links: [] as number[], progs: [prog.id] };
  let link: Link | undefined;
  try {
    setMark(sock, mark);
    const data = new Uint8Array([1, 2, 3, 4]);
    assert.equal(sendToLoopback(sock, 9, data), 4, "sent before the hook");
    link = attachNetfilter(prog, { pf: "ipv4", hooknum: "output", priority: -50 });
    ids.links.push(link.id);
    const info = link.info();
    assert.equal(info.type, LinkType.NETFILTER);
    assert.equal(info.typeName, "netfilter");
    assert.equal(info.progId, prog.id);
    assert.deepEqual(info.netfilter, {
      pf: NfProto.IPV4,
      hooknum: NfInetHook.LOCAL_OUT,
      priority: -50,
      flags: 0,
    });
    // NF_DROP at LOCAL_OUT fails the send with EPERM: the program ran on each of our packets.
    for (let i = 0; i < 3; i++) assert.equal(sendToLoopback(sock, 9, data), EPERM);
    assert.equal(counts.get(0), 3n);

    // Netfilter links take no new program.
    const other = accept();
    try {
      assert.throws(() => link!.update(other), (e) => {
        assert.ok(e instanceof BpfError);
        assert.equal(e.errnoName, "EOPNOTSUPP");
        return true;
      });
    } finally {
      other.close();
    }

    link.close();
    assert.equal(sendToLoopback(sock, 9, data), 4, "sent after the link closed");
    assert.equal(counts.get(0), 3n);
  } finally {
    link?.close();
    closeAll(sock);
    prog.close();
    counts.close();
  }
  assertClean(before, ids);
});

test("attachNetfilter: detach() unhooks while the link stays open; defrag on IPv6 prerouting", {
  skip: netfilterSkip,
}, () => {
  const before = snapshot();
  const counts = counterMap();
  const mark = ownMark();
  const prog = markDropper(counts, mark);
  const prog6 = accept();
  const sock = udpSocket();
  const ids = { links: [] as number[], progs: [prog.id, prog6.id] };
  const links: Link[] = [];
  try {
    setMark(sock, mark);
    const link = attachNetfilter(prog, {
      pf: NfProto.IPV4,
      hooknum: NfInetHook.LOCAL_OUT,
      priority: NfIpPriority.FILTER + 7,
    });
    links.push(link);
    ids.links.push(link.id);
    assert.equal(sendToLoopback(sock, 9, new Uint8Array(8)), EPERM);
    link.detach();
    assert.equal(sendToLoopback(sock, 9, new Uint8Array(8)), 8);
    assert.equal(counts.get(0), 1n);

    const six = attachNetfilter(prog6, {
      pf: "ipv6",
      hooknum: "prerouting",
      priority: NfIpPriority.CONNTRACK_DEFRAG + 1,
      defrag: true,
    });
    links.push(six);
    ids.links.push(six.id);
    const info = six.info().netfilter!;
    assert.equal(info.pf, NfProto.IPV6);
    assert.equal(info.hooknum, NfInetHook.PRE_ROUTING);
    assert.equal(info.priority, -399);
  } finally {
    for (const l of links) l.close();
    closeAll(sock);
    prog.close();
    prog6.close();
    counts.close();
  }
  assertClean(before, ids);
});

test("attachNetfilter errors: wrong program type, bad options, closed program; nothing leaks", {
  skip: netfilterSkip,
}, () => {
  const before = snapshot();
  const xdp = Program.load({ type: "xdp", license: "GPL", insns: asm`r0 = 2\nexit` });
  const prog = accept();
  const ids = { progs: [xdp.id, prog.id] };
  const where = { pf: "ipv4", hooknum: "input", priority: 10 } as const;
  try {
    assert.throws(
      () => attachNetfilter(xdp, where),
      /attachNetfilter\(pf ipv4, hook input, priority 10\): needs a program of type netfilter, got xdp/,
    );
    // Without its type the kernel judges, and the error says what it wants.
    assert.throws(() => attachNetfilter(untyped(xdp), where), (e) => {
      assert.ok(e instanceof AttachError);
      assert.equal(e.errnoName, "EINVAL");
      assert.match(e.message, /BPF_LINK_CREATE failed: EINVAL.*type netfilter/);
      return true;
    });
    assert.throws(
      () => attachNetfilter(prog, { ...where, pf: 7 }),
      (e) => e instanceof RangeError && /pf must be "ipv4"/.test(e.message),
    );
    assert.throws(
      () => attachNetfilter(prog, { ...where, hooknum: 5 }),
      (e) => e instanceof RangeError && /hooknum must be one of prerouting/.test(e.message),
    );
    assert.throws(
      () => attachNetfilter(prog, { ...where, priority: NfIpPriority.LAST }),
      (e) => e instanceof RangeError && /reserved/.test(e.message),
    );
    assert.throws(
      () => attachNetfilter(prog, { ...where, priority: -400, defrag: true }),
      (e) => e instanceof RangeError && /above NF_IP_PRI_CONNTRACK_DEFRAG/.test(e.message),
    );
    const closed = accept();
    closed.close();
    assert.throws(() => attachNetfilter(closed, where), (e) => {
      assert.ok(e instanceof AttachError);
      assert.equal(e.errnoName, "EBADF");
      return true;
    });
  } finally {
    xdp.close();
    prog.close();
  }
  assertClean(before, ids);
});
