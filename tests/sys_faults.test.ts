/**
 * Fault injection at the syscall seam: `withSys()` swaps in a backend that makes chosen calls fail
 * (EINTR, EAGAIN, ENOMEM, EPERM, EMFILE) and passes every other call to the real kernel. Each
 * object's create, load and attach path must then throw a typed error and release everything it
 * had opened, or retry where the kernel asks (EINTR on any command, EAGAIN on BPF_PROG_LOAD).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { AttachType } from "../types/attach_type.ts";
import { BpfCmd, bpfCmdName } from "../types/cmd.ts";
import { Errno } from "../types/errno.ts";
import { BpfError } from "../lib/errors.ts";
import { asm } from "../lib/insn/mod.ts";
import { Program } from "../lib/program/program.ts";
import { BpfMap } from "../lib/map/mod.ts";
import { spinLock, struct, u32, u64 } from "../lib/codec/mod.ts";
import {
  AttachError,
  attachIter,
  attachRawTracepoint,
  attachSocketFilter,
  attachTracepoint,
  attachUprobe,
} from "../lib/link/mod.ts";
import { loadObject } from "../lib/elf/mod.ts";
import { kernelBtf } from "../lib/elf/vmlinux.ts";
import { RingBuffer, UserRingBuffer } from "../lib/ringbuf/mod.ts";
import { sys, withSys } from "../lib/sys/mod.ts";
import { PROG_LOAD_ATTEMPTS } from "../lib/sys/bpf_cmds.ts";
import { kernelSkip, repoRoot, unlessProfile } from "./util.ts";
import { MapType } from "../types/map_type.ts";
import {
  assertReleased,
  FAILURES,
  type Fault,
  faultySys,
  inject,
  resources,
} from "./fault_util.ts";
import { closeAll, unixDgramPair } from "./link_util.ts";

function returnsErrno(errno: number, cmd?: number) {
  return (e: unknown): boolean => {
    assert.ok(e instanceof BpfError, `not a BpfError: ${e}`);
    assert.equal(e.errno, errno, e.message);
    if (cmd !== undefined) assert.equal(e.command, bpfCmdName(cmd));
    return true;
  };
}

const xdpPass = { type: "xdp" as const, license: "GPL", insns: asm`r0 = 2\nexit` };

test("fault seam: withSys restores the real backend, also when fn throws", () => {
  const real = sys();
  const fake = faultySys(real, []);
  assert.equal(withSys(fake, () => sys()), fake);
  assert.equal(sys(), real);
  assert.throws(() =>
    withSys(fake, () => {
      throw new Error("boom");
    }), /boom/);
  assert.equal(sys(), real);
});

test("Program.load retries EAGAIN (as libbpf does) and EINTR, and gives up after the limit", {
  skip: kernelSkip,
}, () => {
  const before = resources();
  {
    const { result, calls } = inject(
      [{ cmd: BpfCmd.PROG_LOAD, times: PROG_LOAD_ATTEMPTS - 1, errno: Errno.EAGAIN }],
      () => Program.load(xdpPass),
    );
    using prog = result;
    assert.equal(prog.testRun({ data: new Uint8Array(64) }).retval, 2);
    assert.equal(calls.get(BpfCmd.PROG_LOAD), PROG_LOAD_ATTEMPTS);
  }
  {
    const { result, calls } = inject(
      [{ cmd: BpfCmd.PROG_LOAD, times: 3, errno: Errno.EINTR }],
      () => Program.load(xdpPass),
    );
    using _prog = result;
    assert.equal(calls.get(BpfCmd.PROG_LOAD), 4);
  }
  assert.throws(
    () =>
      inject(
        [{ cmd: BpfCmd.PROG_LOAD, times: Infinity, errno: Errno.EAGAIN }],
        () => Program.load(xdpPass),
      ),
    returnsErrno(Errno.EAGAIN, BpfCmd.PROG_LOAD),
  );
  assertReleased(before);
});

test("Program.load: ENOMEM, EPERM, EMFILE are typed errors and leak nothing", {
  skip: kernelSkip,
}, () => {
  const before = resources();
  for (const errno of FAILURES) {
    assert.throws(
      () =>
        inject(
          [{ cmd: BpfCmd.PROG_LOAD, times: Infinity, errno }],
          () => Program.load(xdpPass),
        ),
      returnsErrno(errno, BpfCmd.PROG_LOAD),
    );
    // Failing only the first attempt: the second (with a log) succeeds, and the program works.
    const { result } = inject([{ cmd: BpfCmd.PROG_LOAD, errno }], () => Program.load(xdpPass));
    using prog = result;
    assert.equal(prog.testRun({ data: new Uint8Array(64) }).retval, 2);
  }
  assertReleased(before);
});

test("BpfMap.create: failures leak neither the map nor the BTF loaded for it; EINTR retried", {
  skip: kernelSkip,
}, () => {
  const before = resources();
  // A spin-lock value makes create() load BTF first: a failed MAP_CREATE must close it.
  const locked = {
    type: "hash" as const,
    key: u32,
    value: struct({ lock: spinLock, hits: u32, n: u64 }),
    maxEntries: 4,
  };
  for (const errno of FAILURES) {
    assert.throws(
      () =>
        inject(
          [{ cmd: BpfCmd.MAP_CREATE, errno }],
          () => BpfMap.create({ type: "array", key: u32, value: u64, maxEntries: 1 }),
        ),
      returnsErrno(errno, BpfCmd.MAP_CREATE),
    );
    assert.throws(
      () => inject([{ cmd: BpfCmd.MAP_CREATE, errno }], () => BpfMap.create(locked)),
      returnsErrno(errno, BpfCmd.MAP_CREATE),
    );
    assert.throws(
      () => inject([{ cmd: BpfCmd.BTF_LOAD, times: Infinity, errno }], () => BpfMap.create(locked)),
      (e: unknown) => e instanceof BpfError && e.errno === errno,
    );
  }
  const { result, calls } = inject(
    [{ cmd: BpfCmd.MAP_CREATE, times: 2, errno: Errno.EINTR }],
    () => BpfMap.create({ type: "array", key: u32, value: u64, maxEntries: 1 }),
  );
  using map = result;
  map.set(0, 7n);
  assert.equal(map.get(0), 7n);
  assert.equal(calls.get(BpfCmd.MAP_CREATE), 3);
  // A failed element operation reports its errno and leaves the map usable.
  assert.throws(
    () => inject([{ cmd: BpfCmd.MAP_UPDATE_ELEM, errno: Errno.ENOMEM }], () => map.set(0, 8n)),
    returnsErrno(Errno.ENOMEM, BpfCmd.MAP_UPDATE_ELEM),
  );
  assert.equal(map.get(0), 7n);
  map.close();
  assertReleased(before);
});

test("attach: a failed RAW_TRACEPOINT_OPEN or LINK_CREATE leaves no link; EINTR retried", {
  skip: kernelSkip,
}, () => {
  const before = resources();
  {
    using prog = Program.load({
      type: "raw_tracepoint",
      license: "GPL",
      insns: asm`r0 = 0\nexit`,
    });
    for (const errno of FAILURES) {
      assert.throws(
        () =>
          inject(
            [{ cmd: BpfCmd.RAW_TRACEPOINT_OPEN, errno }],
            () => attachRawTracepoint(prog, "sys_enter"),
          ),
        (e: unknown) => e instanceof AttachError && e.errno === errno,
      );
    }
    const { result, calls } = inject(
      [{ cmd: BpfCmd.RAW_TRACEPOINT_OPEN, errno: Errno.EINTR }],
      () => attachRawTracepoint(prog, "sys_enter"),
    );
    using _link = result;
    assert.equal(calls.get(BpfCmd.RAW_TRACEPOINT_OPEN), 2);
  }
  {
    using iter = Program.load({
      type: "tracing",
      license: "GPL",
      expectedAttachType: AttachType.TRACE_ITER,
      attachBtfId: kernelBtf().get("func", "bpf_iter_task").id,
      insns: asm`r0 = 0\nexit`,
    });
    for (const errno of FAILURES) {
      assert.throws(
        () => inject([{ cmd: BpfCmd.LINK_CREATE, errno }], () => attachIter(iter)),
        (e: unknown) => e instanceof AttachError && e.errno === errno,
      );
    }
  }
  assertReleased(before);
});

test("loadObject: a failure at any map or program closes everything created before it", {
  // globals.bpf.o calls bpf_loop (#181).
  skip: unlessProfile((p) => p.helperKnown(181)),
}, () => {
  const file = join(repoRoot, "tests", "fixtures", "elf", "globals.bpf.o");
  // Count the commands a clean load makes, then fail each MAP_CREATE and PROG_LOAD in turn.
  const clean = inject([], () => loadObject(file));
  clean.result.close();
  const before = resources();
  for (const cmd of [BpfCmd.MAP_CREATE, BpfCmd.PROG_LOAD, BpfCmd.MAP_UPDATE_ELEM]) {
    const n = clean.calls.get(cmd) ?? 0;
    assert.ok(cmd === BpfCmd.MAP_UPDATE_ELEM || n > 0, `a clean load makes command ${cmd}`);
    for (let nth = 1; nth <= n; nth++) {
      for (const errno of FAILURES) {
        assert.throws(
          () => inject([{ cmd, nth, times: Infinity, errno }], () => loadObject(file)),
          (e: unknown) => e instanceof Error,
          `command ${cmd}, call ${nth}, errno ${errno}`,
        );
        assertReleased(before, `command ${cmd}, call ${nth}, errno ${errno}`);
      }
    }
  }
});

test("RingBuffer: a failed mmap or epoll setup unmaps what was mapped and closes its fds", {
  skip: kernelSkip,
}, () => {
  using map = BpfMap.create({ type: "ringbuf", maxEntries: 4096 });
  const before = resources();
  const nr = sys().nr;
  const faults: Fault[] = [
    { nr: nr.mmap, nth: 1, errno: Errno.ENOMEM },
    { nr: nr.mmap, nth: 2, errno: Errno.ENOMEM },
    { nr: nr.epoll_create1, errno: Errno.EMFILE },
    { nr: nr.epoll_ctl, errno: Errno.ENOMEM },
  ];
  for (const f of faults) {
    assert.throws(
      () => inject([f], () => new RingBuffer(map)),
      (e: unknown) => e instanceof Error,
      JSON.stringify(f),
    );
    assertReleased(before, JSON.stringify(f));
  }
  const rb = new RingBuffer(map);
  assert.equal(rb.consume(() => {}), 0);
  rb.close();
  assertReleased(before);
});

test("perf-event attach (tracepoint, uprobe): a failed open or LINK_CREATE closes the event fd", {
  skip: kernelSkip,
}, () => {
  const nr = sys().nr;
  using tp = Program.load({ type: "tracepoint", license: "GPL", insns: asm`r0 = 0\nexit` });
  using up = Program.load({ type: "kprobe", license: "GPL", insns: asm`r0 = 0\nexit` });
  const attaches: [string, () => { close(): void }][] = [
    ["tracepoint", () => attachTracepoint(tp, "syscalls", "sys_enter_getpid")],
    ["uprobe", () => attachUprobe(up, { path: "libc.so.6", symbol: "syscall" })],
  ];
  const before = resources();
  for (const [what, attach] of attaches) {
    for (
      const f of [
        { nr: nr.perf_event_open, times: Infinity, errno: Errno.EMFILE },
        { cmd: BpfCmd.LINK_CREATE, times: Infinity, errno: Errno.EPERM },
      ] as Fault[]
    ) {
      // A failure may be answered by a fallback (the legacy perf-event ioctl); either way nothing
      // may stay open once the returned link (if any) is closed.
      try {
        inject([f], attach).result.close();
      } catch (e) {
        assert.ok(e instanceof BpfError, `${what}: ${e}`);
      }
      assertReleased(before, `${what} ${JSON.stringify(f)}`);
    }
  }
});

test("attachSocketFilter: a failed setsockopt is an AttachError and leaves the socket as it was", {
  skip: kernelSkip,
}, () => {
  const [a, b] = unixDgramPair();
  try {
    using filter = Program.load({
      type: "socket_filter",
      license: "GPL",
      insns: asm`r0 = 0\nexit`,
    });
    const before = resources();
    assert.throws(
      () =>
        inject(
          [{ nr: sys().nr.setsockopt, errno: Errno.ENOMEM }],
          () => attachSocketFilter(b, filter),
        ),
      (e: unknown) => e instanceof AttachError && e.errno === Errno.ENOMEM,
    );
    assertReleased(before);
    using _f = attachSocketFilter(b, filter); // the socket still takes a filter
  } finally {
    closeAll(a, b);
  }
});

test("opening by id or pin: a failed info read closes the fd just opened", {
  skip: kernelSkip,
}, () => {
  using map = BpfMap.create({ type: "array", key: u32, value: u64, maxEntries: 1 });
  using prog = Program.load(xdpPass);
  const before = resources();
  for (const errno of FAILURES) {
    const fail = [{ cmd: BpfCmd.OBJ_GET_INFO_BY_FD, errno }];
    assert.throws(() => inject(fail, () => BpfMap.fromId(map.id)), returnsErrno(errno));
    assert.throws(() => inject(fail, () => Program.fromId(prog.id)), returnsErrno(errno));
    assertReleased(before, `errno ${errno}`);
  }
});

test("UserRingBuffer: a failed mmap leaves nothing mapped", {
  skip: unlessProfile((p) => p.mapType(MapType.USER_RINGBUF)),
}, () => {
  using map = BpfMap.create({ type: "user_ringbuf", maxEntries: 4096 });
  const before = resources();
  const nr = sys().nr;
  for (const nth of [1, 2]) {
    assert.throws(
      () => inject([{ nr: nr.mmap, nth, errno: Errno.ENOMEM }], () => new UserRingBuffer(map)),
      Error,
    );
    assertReleased(before, `mmap ${nth}`);
  }
  using _urb = new UserRingBuffer(map);
});
