/**
 * netkit links: on a netkit pair made with `ip link add … type netkit` where the kernel has
 * netkit, and the refusal (naming netkit) where it has not.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { AttachType } from "../types/attach_type.ts";
import { LinkType } from "../types/link_type.ts";
import { asm } from "../lib/insn/mod.ts";
import { Program } from "../lib/program/program.ts";
import { AttachError, attachNetkit, type Link, queryAttached } from "../lib/link/mod.ts";
import { sys } from "../lib/sys/mod.ts";
import { kernelSkip } from "./util.ts";
import { assertClean, run, snapshot, untyped } from "./link_util.ts";

const pid = (): number => Number(sys().syscall(sys().nr.getpid));

/**
 * Makes a netkit pair whose primary is `tsnk<pid>` (the kernel names the peer: iproute2 before
 * 6.7 cannot pass a peer name), or says why it cannot.
 */
function netkitPair(): { primary: string; ifindex: number; remove(): void } | string {
  const primary = `tsnk${pid()}`.slice(0, 15);
  try {
    run("ip", "link", "add", primary, "type", "netkit");
  } catch (e) {
    const msg = String((e as { stderr?: string }).stderr ?? (e as Error).message).trim();
    return `this kernel cannot make a netkit device (CONFIG_NETKIT off?): ip link add type netkit: ${msg}`;
  }
  const ifindex = Number(readFileSync(`/sys/class/net/${primary}/ifindex`, "utf8").trim());
  return { primary, ifindex, remove: () => void run("ip", "link", "del", primary) };
}

/** Probed once: a reason to skip, or false when netkit devices can be made. */
const netkitSkip: string | false = kernelSkip || (() => {
  const pair = netkitPair();
  if (typeof pair === "string") return pair;
  pair.remove();
  return false;
})();

const schedCls = (): Program =>
  Program.load({ type: "sched_cls", license: "GPL", insns: asm`r0 = -1\nexit` });

test("attachNetkit on a netkit pair: primary and peer links, info, query, update, close", {
  skip: netkitSkip,
}, () => {
  const before = snapshot();
  const pair = netkitPair();
  assert.ok(typeof pair !== "string", String(pair));
  const a = schedCls();
  const b = schedCls();
  const ids = { links: [] as number[], progs: [a.id, b.id] };
  const links: Link[] = [];
  try {
    const primary = attachNetkit(a, pair.primary, "primary");
    links.push(primary);
    const peer = attachNetkit(a, pair.ifindex, "peer");
    links.push(peer);
    ids.links.push(primary.id, peer.id);
    const info = primary.info();
    assert.equal(info.type, LinkType.NETKIT);
    assert.equal(info.typeName, "netkit");
    assert.deepEqual(info.netkit, {
      ifindex: pair.ifindex,
      attachType: AttachType.NETKIT_PRIMARY,
    });
    assert.equal(peer.info().netkit?.attachType, AttachType.NETKIT_PEER);
    const q = queryAttached({ ifindex: pair.ifindex }, AttachType.NETKIT_PRIMARY);
    assert.deepEqual(q.progIds, [a.id]);
    assert.deepEqual(q.linkIds, [primary.id]);
    primary.update(b);
    assert.deepEqual(
      queryAttached({ ifindex: pair.ifindex }, AttachType.NETKIT_PRIMARY).progIds,
      [b.id],
    );
    primary.close();
    assert.deepEqual(
      queryAttached({ ifindex: pair.ifindex }, AttachType.NETKIT_PRIMARY).progIds,
      [],
    );
  } finally {
    for (const l of links) l.close();
    a.close();
    b.close();
    pair.remove();
  }
  assertClean(before, ids);
});

test("attachNetkit errors: not a netkit device, wrong program type, bad side, no interface", {
  skip: kernelSkip,
}, () => {
  const before = snapshot();
  const prog = schedCls();
  const xdp = Program.load({ type: "xdp", license: "GPL", insns: asm`r0 = 2\nexit` });
  const ids = { progs: [prog.id, xdp.id] };
  try {
    // Loopback is no netkit device; on a kernel without netkit the answer is the same EINVAL.
    assert.throws(() => attachNetkit(prog, "lo", "primary"), (e) => {
      assert.ok(e instanceof AttachError);
      assert.ok(["EINVAL", "ENXIO"].includes(e.errnoName), e.message);
      assert.match(e.message, /^attachNetkit\(ifindex 1 lo primary\): BPF_LINK_CREATE failed/);
      assert.match(e.message, /primary device of a netkit pair.*CONFIG_NETKIT/);
      return true;
    });
    assert.throws(
      () => attachNetkit(xdp, "lo", "peer"),
      (e) => e instanceof TypeError && /needs a program of type sched_cls, got xdp/.test(e.message),
    );
    assert.throws(() => attachNetkit(untyped(xdp), "lo", "peer"), AttachError);
    assert.throws(
      () => attachNetkit(prog, "lo", "egress" as "peer"),
      (e) => e instanceof RangeError && /side must be "primary" or "peer"/.test(e.message),
    );
    assert.throws(() => attachNetkit(prog, "tsbpf-none0", "primary"), (e) => {
      assert.ok(e instanceof AttachError);
      assert.equal(e.errnoName, "ENODEV");
      return true;
    });
    const closed = schedCls();
    closed.close();
    assert.throws(() => attachNetkit(closed, "lo", "primary"), (e) => {
      assert.ok(e instanceof AttachError);
      assert.equal(e.errnoName, "EBADF");
      return true;
    });
  } finally {
    prog.close();
    xdp.close();
  }
  assertClean(before, ids);
});
