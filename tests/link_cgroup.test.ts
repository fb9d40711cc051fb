/** cgroup_skb egress links on a fresh cgroup: counting, PROG_QUERY, update, detach, errors. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdirSync, rmdirSync, writeFileSync } from "node:fs";
import { AttachType } from "../types/attach_type.ts";
import { LinkType } from "../types/link_type.ts";
import { asm } from "../lib/insn/mod.ts";
import { Program } from "../lib/program/program.ts";
import { sys } from "../lib/sys/mod.ts";
import { attachCgroup, AttachError, type Link, queryAttached } from "../lib/link/mod.ts";
import { kernelSkip } from "./util.ts";
import {
  assertClean,
  cgroup2Root,
  closeAll,
  counterMap,
  counterProgram,
  ownCgroup,
  sendToLoopback,
  snapshot,
  udpSocket,
  untyped,
} from "./link_util.ts";

const EGRESS = AttachType.CGROUP_INET_EGRESS;

/** A UDP socket created while this process sits in `cgroup` (a socket keeps its cgroup). */
function socketInCgroup(cgroup: string): number {
  const pid = String(sys().syscall(sys().nr.getpid));
  const home = ownCgroup();
  writeFileSync(`${cgroup}/cgroup.procs`, pid);
  try {
    return udpSocket();
  } finally {
    writeFileSync(`${home}/cgroup.procs`, pid);
  }
}

test("attachCgroup(cgroup_skb egress) counts a socket's packets; query, update, detach", {
  skip: kernelSkip,
}, () => {
  const before = snapshot();
  const dir = `${cgroup2Root()}/tsbpf_${sys().syscall(sys().nr.getpid)}`;
  mkdirSync(dir);
  const a = counterMap();
  const b = counterMap();
  const progA = counterProgram("cgroup_skb", a, 1); // 1: let the packet through
  const progB = counterProgram("cgroup_skb", b, 1);
  const ids = { links: [] as number[], progs: [progA.id, progB.id] };
  let link: Link | undefined;
  let sock = -1;
  try {
    link = attachCgroup(progA, dir, EGRESS);
    ids.links.push(link.id);
    const info = link.info();
    assert.equal(info.type, LinkType.CGROUP);
    assert.equal(info.progId, progA.id);
    assert.equal(info.cgroup?.attachType, EGRESS);
    assert.ok(info.cgroup!.cgroupId > 0n);
    assert.deepEqual(queryAttached({ cgroup: dir }, EGRESS).progIds, [progA.id]);

    sock = socketInCgroup(dir);
    const data = new Uint8Array(32);
    for (let i = 0; i < 3; i++) assert.equal(sendToLoopback(sock, 9, data), 32);
    assert.equal(a.get(0), 3n);

    link.update(progB);
    assert.deepEqual(queryAttached({ cgroup: dir }, EGRESS).progIds, [progB.id]);
    assert.equal(sendToLoopback(sock, 9, data), 32);
    assert.equal(b.get(0), 1n);
    assert.equal(a.get(0), 3n);

    link.detach();
    assert.deepEqual(queryAttached({ cgroup: dir }, EGRESS).progIds, []);
    assert.equal(sendToLoopback(sock, 9, data), 32);
    assert.equal(b.get(0), 1n);
  } finally {
    closeAll(sock);
    link?.close();
    progA.close();
    progB.close();
    a.close();
    b.close();
    rmdirSync(dir);
  }
  assertClean(before, ids);
});

test("attachCgroup errors: nonexistent cgroup, wrong program type, closed program", {
  skip: kernelSkip,
}, () => {
  const before = snapshot();
  const dir = `${cgroup2Root()}/tsbpf_e${sys().syscall(sys().nr.getpid)}`;
  mkdirSync(dir);
  const xdp = Program.load({ type: "xdp", license: "GPL", insns: asm`r0 = 2\nexit` });
  const skb = Program.load({ type: "cgroup_skb", license: "GPL", insns: asm`r0 = 1\nexit` });
  const missing = `${cgroup2Root()}/tsbpf_no_such_cgroup`;
  try {
    assert.throws(() => attachCgroup(skb, missing, EGRESS), (e) => {
      assert.ok(e instanceof AttachError);
      assert.equal(e.errnoName, "ENOENT");
      assert.equal(
        e.message.split(" — ")[0],
        `attachCgroup(${missing}, cgroup_inet_egress): openat failed: ENOENT (2, No such file or directory): ${missing}`,
      );
      return true;
    });
    assert.throws(
      () => attachCgroup(xdp, dir, EGRESS),
      /needs a program of type cgroup_skb, got xdp/,
    );
    assert.throws(() => attachCgroup(untyped(xdp), dir, EGRESS), (e) => {
      assert.ok(e instanceof AttachError);
      assert.equal(e.errnoName, "EINVAL");
      assert.match(e.message, /BPF_LINK_CREATE failed: EINVAL/);
      return true;
    });
    assert.throws(() => queryAttached({ cgroup: missing }, EGRESS), /ENOENT/);
  } finally {
    xdp.close();
    skb.close();
    rmdirSync(dir);
  }
  assert.throws(() => attachCgroup(skb, dir, EGRESS), /EBADF.*program is closed/);
  assertClean(before); // no cgroup fd left open on any path
});

test("attachCgroup on a cgroup v1 directory says it is not cgroup v2", { skip: kernelSkip }, () => {
  const v1 = ["/sys/fs/cgroup/cpu", "/sys/fs/cgroup/memory", "/sys/fs/cgroup/pids"].find((d) =>
    existsSync(d)
  );
  const prog = Program.load({
    type: "cgroup_skb",
    expectedAttachType: "cgroup_inet_egress",
    license: "GPL",
    insns: asm`r0 = 1\nexit`,
  });
  try {
    if (v1 === undefined) {
      // A pure cgroup v2 machine: a regular directory stands in (the kernel says EBADF too).
      assert.throws(() => attachCgroup(prog, "/tmp", "cgroup_inet_egress"), /not a cgroup v2/);
    } else {
      assert.throws(
        () => attachCgroup(prog, v1, "cgroup_inet_egress"),
        /not a cgroup v2 directory/,
      );
    }
  } finally {
    prog.close();
  }
});
