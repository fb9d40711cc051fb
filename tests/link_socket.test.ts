/** Socket filters on an AF_UNIX datagram socket pair made with raw system calls. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { asm } from "../lib/insn/mod.ts";
import { Program } from "../lib/program/program.ts";
import { AttachError, attachSocketFilter } from "../lib/link/mod.ts";
import { kernelSkip } from "./util.ts";
import {
  assertClean,
  closeAll,
  counterMap,
  counterProgram,
  recv,
  send,
  snapshot,
  unixDgramPair,
  untyped,
} from "./link_util.ts";

const payload = new TextEncoder().encode("hello, filter");

test("attachSocketFilter: a counting filter sees datagrams, a zero filter drops them", {
  skip: kernelSkip,
}, () => {
  const before = snapshot();
  const [a, b] = unixDgramPair();
  const counts = counterMap();
  const keep = counterProgram("socket_filter", counts, -1); // keep whole packets
  const drop = Program.load({ type: "socket_filter", license: "GPL", insns: asm`r0 = 0\nexit` });
  const ids = { progs: [keep.id, drop.id] };
  try {
    {
      using _f = attachSocketFilter(b, keep);
      for (let i = 0; i < 5; i++) assert.equal(send(a, payload), payload.length);
      for (let i = 0; i < 5; i++) assert.deepEqual(recv(b), payload);
      assert.equal(counts.get(0), 5n);
    }
    {
      using _f = attachSocketFilter(b, drop);
      assert.equal(send(a, payload), payload.length); // dropped silently at the receiver
      assert.equal(recv(b), undefined);
    }
    // Both detached: datagrams arrive again and are not counted.
    assert.equal(send(a, payload), payload.length);
    assert.deepEqual(recv(b), payload);
    assert.equal(counts.get(0), 5n);
  } finally {
    closeAll(a, b);
    keep.close();
    drop.close();
    counts.close();
  }
  assertClean(before, ids);
});

test("attachSocketFilter errors: not a socket, wrong program type, closed program", {
  skip: kernelSkip,
}, () => {
  const before = snapshot();
  const [a, b] = unixDgramPair();
  const xdp = Program.load({ type: "xdp", license: "GPL", insns: asm`r0 = 2\nexit` });
  const filter = Program.load({ type: "socket_filter", license: "GPL", insns: asm`r0 = 0\nexit` });
  try {
    assert.throws(
      () => attachSocketFilter(b, xdp),
      /needs a program of type socket_filter, got xdp/,
    );
    assert.throws(() => attachSocketFilter(b, untyped(xdp)), (e) => {
      assert.ok(e instanceof AttachError);
      assert.equal(e.errnoName, "EINVAL");
      assert.match(
        e.message,
        /^attachSocketFilter\(socket \d+\): setsockopt\(SO_ATTACH_BPF\) failed/,
      );
      return true;
    });
    assert.throws(() => attachSocketFilter(xdp.fd, filter), /ENOTSOCK/);
    assert.throws(() => attachSocketFilter(-1, filter), RangeError);
  } finally {
    closeAll(a, b);
    xdp.close();
    filter.close();
  }
  assert.throws(() => attachSocketFilter(0, filter), /EBADF.*program is closed/);
  assertClean(before);
});

test("closing an attachment never detaches a filter it does not own", { skip: kernelSkip }, () => {
  const drop = Program.load({ type: "socket_filter", license: "GPL", insns: asm`r0 = 0\nexit` });
  const drop2 = Program.load({ type: "socket_filter", license: "GPL", insns: asm`r0 = 0\nexit` });
  try {
    // A replaced filter: the first attachment is over, and closing it leaves the second alone.
    {
      const [a, b] = unixDgramPair();
      try {
        const first = attachSocketFilter(b, drop);
        const second = attachSocketFilter(b, drop2);
        assert.equal(first.closed, true, "replaced");
        assert.equal(second.closed, false);
        first.close();
        send(a, payload);
        assert.equal(recv(b), undefined, "drop2 still drops");
        second.close();
        send(a, payload);
        assert.notEqual(recv(b), undefined, "detached: delivered");
      } finally {
        closeAll(a, b);
      }
    }
    // A closed socket whose fd number now names another socket: the old attachment keeps off.
    {
      const [a, b] = unixDgramPair();
      const old = attachSocketFilter(b, drop);
      closeAll(a, b);
      const [c, d] = unixDgramPair();
      try {
        const [tx, rx] = c === b ? [d, c] : [c, d];
        using other = attachSocketFilter(rx, drop2);
        old.close();
        assert.equal(other.closed, false);
        send(tx, payload);
        assert.equal(recv(rx), undefined, "the new socket's filter is still attached");
      } finally {
        closeAll(c, d);
      }
    }
  } finally {
    drop.close();
    drop2.close();
  }
});
