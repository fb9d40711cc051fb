/** XDP and tcx links on a veth pair whose peer lives in a private network namespace. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { AttachType } from "../types/attach_type.ts";
import { LinkType } from "../types/link_type.ts";
import { asm } from "../lib/insn/mod.ts";
import { Program } from "../lib/program/program.ts";
import { AttachError, attachTcx, attachXdp, Link, queryAttached } from "../lib/link/mod.ts";
import { kernelSkip, unlessProfile } from "./util.ts";
import { assertClean, createVeth, run, snapshot, untyped } from "./link_util.ts";

test("attachXdp on a veth: listed, info shows the ifindex, update swaps, close detaches", {
  skip: kernelSkip,
}, () => {
  const before = snapshot();
  const veth = createVeth("x");
  const pass = Program.load({ type: "xdp", license: "GPL", insns: asm`r0 = 2\nexit` });
  const pass2 = Program.load({ type: "xdp", license: "GPL", insns: asm`r0 = 2\nexit` });
  const ids = { links: [] as number[], progs: [pass.id, pass2.id] };
  let link: Link | undefined;
  try {
    link = attachXdp(pass, veth.host, { mode: "generic" });
    ids.links.push(link.id);
    assert.ok(Link.list().includes(link.id));
    const info = link.info();
    assert.equal(info.type, LinkType.XDP);
    assert.equal(info.typeName, "xdp");
    assert.equal(info.progId, pass.id);
    assert.deepEqual(info.xdp, { ifindex: veth.ifindex });
    assert.match(run("ip", "-d", "link", "show", "dev", veth.host), /xdpgeneric/);

    // A second XDP link on the same device is refused while the first holds it.
    assert.throws(() => attachXdp(pass2, veth.ifindex, { mode: "generic" }), (e) => {
      assert.ok(e instanceof AttachError);
      assert.equal(e.errnoName, "EBUSY");
      assert.match(
        e.message,
        new RegExp(`^attachXdp\\(ifindex ${veth.ifindex}\\): BPF_LINK_CREATE failed: EBUSY`),
      );
      return true;
    });

    link.update(pass2);
    assert.equal(link.info().progId, pass2.id);

    link.close();
    assert.doesNotMatch(run("ip", "-d", "link", "show", "dev", veth.host), /xdp/);
  } finally {
    link?.close();
    pass.close();
    pass2.close();
    veth.remove();
  }
  assertClean(before, ids);
});

test("attachTcx ingress and egress on a veth: PROG_QUERY lists them, detach empties it", {
  skip: unlessProfile((p) => p.attachType(AttachType.TCX_INGRESS)),
}, () => {
  const before = snapshot();
  const veth = createVeth("t");
  const prog = Program.load({ type: "sched_cls", license: "GPL", insns: asm`r0 = -1\nexit` });
  const ids = { links: [] as number[], progs: [prog.id] };
  const links: Link[] = [];
  try {
    const ingress = attachTcx(prog, veth.ifindex, "ingress");
    links.push(ingress);
    const egress = attachTcx(prog, veth.host, "egress");
    links.push(egress);
    ids.links.push(ingress.id, egress.id);
    assert.deepEqual(ingress.info().tcx, {
      ifindex: veth.ifindex,
      attachType: AttachType.TCX_INGRESS,
    });
    assert.equal(egress.info().tcx?.attachType, AttachType.TCX_EGRESS);
    assert.equal(egress.info().typeName, "tcx");
    const q = queryAttached({ ifindex: veth.ifindex }, AttachType.TCX_INGRESS);
    assert.deepEqual(q.progIds, [prog.id]);
    assert.deepEqual(q.linkIds, [ingress.id]);
    ingress.detach();
    assert.deepEqual(queryAttached({ ifindex: veth.host }, AttachType.TCX_INGRESS).progIds, []);
    assert.equal(ingress.info().tcx?.ifindex, 0, "a detached link has no interface");
  } finally {
    for (const l of links) l.close();
    prog.close();
    veth.remove();
  }
  assertClean(before, ids);
});

test("attachXdp/attachTcx errors: nonexistent interface, wrong program type", {
  skip: kernelSkip,
}, () => {
  const before = snapshot();
  const tc = Program.load({ type: "sched_cls", license: "GPL", insns: asm`r0 = 0\nexit` });
  const xdp = Program.load({ type: "xdp", license: "GPL", insns: asm`r0 = 2\nexit` });
  try {
    // The kernel answers EINVAL for an ifindex that names no device; the message says why.
    assert.throws(() => attachXdp(xdp, 0x7ffffff0), (e) => {
      assert.ok(e instanceof AttachError);
      assert.equal(e.errnoName, "EINVAL");
      assert.match(e.message, /^attachXdp\(ifindex 2147483632\): BPF_LINK_CREATE failed: EINVAL/);
      assert.match(e.message, /no interface has ifindex 2147483632 in this network namespace/);
      return true;
    });
    assert.throws(() => attachXdp(xdp, "tsbpf_nope0"), (e) => {
      assert.ok(e instanceof AttachError);
      assert.equal(e.errnoName, "ENODEV");
      assert.match(e.message, /no interface named tsbpf_nope0/);
      return true;
    });
    assert.throws(() => attachTcx(tc, 0x7ffffff0, "ingress"), /no interface has ifindex/);
    // Wrong program type for the hook: an xdp program on tcx, a sched_cls program on XDP (lo).
    assert.throws(
      () => attachTcx(xdp, "lo", "ingress"),
      /needs a program of type sched_cls, got xdp/,
    );
    assert.throws(() => attachTcx(untyped(xdp), "lo", "ingress"), (e) => {
      assert.ok(e instanceof AttachError);
      assert.equal(e.errnoName, "EINVAL");
      assert.match(e.message, /^attachTcx\(ifindex 1 lo ingress\): BPF_LINK_CREATE failed: EINVAL/);
      return true;
    });
    assert.throws(() => attachXdp(tc, "lo"), /needs a program of type xdp, got sched_cls/);
    assert.throws(() => attachXdp(untyped(tc), "lo"), /EINVAL/);
    assert.throws(() => attachXdp(xdp, 1, { mode: "turbo" as "native" }), RangeError);
    assert.throws(() => attachTcx(tc, 1, "sideways" as "ingress"), RangeError);
  } finally {
    tc.close();
    xdp.close();
  }
  assertClean(before);
});
