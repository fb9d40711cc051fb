/**
 * Fault injection on the attach paths `sys_faults.test.ts` leaves out: every link kind this kernel
 * offers (XDP, TCX, cgroup, netfilter, sk_lookup, flow dissector, sockmap, BTF tracepoint, perf
 * event, uprobe_multi), the perf buffer reader, and an object's BTF load and `attach()`. Each
 * system call the path makes fails in turn (ENOMEM, EPERM, EMFILE): the attach throws a typed error
 * or falls back, and nothing it opened stays open. EINTR is retried.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, rmdirSync } from "node:fs";
import { join } from "node:path";
import { AttachType } from "../types/attach_type.ts";
import { BpfCmd, bpfCmdName } from "../types/cmd.ts";
import { Errno } from "../types/errno.ts";
import { LinkType } from "../types/link_type.ts";
import { ProgType } from "../types/prog_type.ts";
import { BpfError } from "../lib/errors.ts";
import { BpfMap } from "../lib/map/mod.ts";
import { possibleCpus } from "../lib/map/cpus.ts";
import { fd64, u32 } from "../lib/codec/mod.ts";
import {
  attachBtfTracepoint,
  attachCgroup,
  AttachError,
  attachFlowDissector,
  attachNetfilter,
  attachPerfEvent,
  attachSkLookup,
  attachSockMap,
  attachTcx,
  attachUprobeMulti,
  attachXdp,
  btfTracepointId,
} from "../lib/link/mod.ts";
import { PerfBuffer } from "../lib/perf/mod.ts";
import { PerfSwConfig } from "../lib/perf/event.ts";
import { loadObject } from "../lib/elf/mod.ts";
import { liveProfile, reasonOf } from "../lib/profile/mod.ts";
import { sys } from "../lib/sys/mod.ts";
import { kernelSkip, repoRoot, unlessProfile } from "./util.ts";
import { cgroup2Root, counterMap, counterProgram, createVeth, ensureTracefs } from "./link_util.ts";
import { assertReleased, FAILURES, type Fault, inject, resources } from "./fault_util.ts";

type Closable = { close(): void };

const skipUnlessProg = (t: number): string | false =>
  kernelSkip || (reasonOf(liveProfile().progType(t)) ?? false);

/**
 * Runs `attach` clean (counting the bpf commands it makes), then with each of `cmds` it made
 * failing, every time, with each of `FAILURES`, and with each of `extra`: the attach must throw
 * an `AttachError` or `BpfError` (or, where `fallback` says so, answer through another path), and
 * leave nothing open once its result is closed. Last, an EINTR on the first command is retried.
 */
function checkFaults(
  what: string,
  attach: () => Closable,
  cmds: readonly number[],
  opts: { extra?: readonly Fault[]; fallback?: boolean } = {},
): void {
  const before = resources();
  const clean = inject([], attach);
  clean.result.close();
  assertReleased(before, `${what}: a clean attach and close`);
  const made = cmds.filter((c) => (clean.calls.get(c) ?? 0) > 0);
  // A path may make none of `cmds` on an older kernel (a perf event attached by ioctl): then only
  // the `extra` faults apply.
  assert.ok(
    made.length > 0 || (opts.extra ?? []).length > 0,
    `${what} makes none of ${cmds.map(bpfCmdName).join(", ")}`,
  );
  const faults: Fault[] = [
    ...made.flatMap((cmd) => FAILURES.map((errno) => ({ cmd, times: Infinity, errno }))),
    ...(opts.extra ?? []),
  ];
  let threw = 0;
  for (const f of faults) {
    const label = `${what}: ${f.cmd !== undefined ? bpfCmdName(f.cmd) : `syscall ${f.nr}`} ` +
      `call ${f.nth ?? 1} fails with errno ${f.errno}`;
    try {
      inject([f], attach).result.close();
      assert.ok(opts.fallback, `${label}: the attach succeeded anyway`);
    } catch (e) {
      if (e instanceof assert.AssertionError) throw e;
      assert.ok(e instanceof AttachError || e instanceof BpfError, `${label}: ${e}`);
      assert.equal((e as BpfError).errno, f.errno, `${label}: ${(e as Error).message}`);
      threw++;
    }
    assertReleased(before, label);
  }
  assert.ok(threw > 0, `${what}: no injected failure reached the caller`);
  if (made.length === 0) return;
  const retried = inject([{ cmd: made[0], errno: Errno.EINTR }], attach);
  retried.result.close();
  assert.equal(retried.calls.get(made[0]), clean.calls.get(made[0])! + 1, `${what}: EINTR retried`);
  assertReleased(before, `${what}: after the retry`);
}

test("attachXdp and attachTcx on a veth: a failed LINK_CREATE leaves no link", {
  skip: kernelSkip,
}, () => {
  const veth = createVeth("f");
  try {
    using counts = counterMap();
    using xdp = counterProgram("xdp", counts, 2);
    checkFaults("attachXdp", () => attachXdp(xdp, veth.ifindex, { mode: "generic" }), [
      BpfCmd.LINK_CREATE,
    ]);
    if (liveProfile().attachType(AttachType.TCX_INGRESS).state === "yes") {
      using tc = counterProgram("sched_cls", counts, 0);
      checkFaults("attachTcx", () => attachTcx(tc, veth.ifindex, "ingress"), [
        BpfCmd.LINK_CREATE,
      ]);
    }
  } finally {
    veth.remove();
  }
});

test("attachCgroup: a failed LINK_CREATE leaves no link and the cgroup as it was", {
  skip: kernelSkip,
}, () => {
  const dir = `${cgroup2Root()}/tsbpf_f${sys().syscall(sys().nr.getpid)}`;
  mkdirSync(dir);
  try {
    using counts = counterMap();
    using prog = counterProgram("cgroup_skb", counts, 1);
    checkFaults(
      "attachCgroup",
      () => attachCgroup(prog, dir, AttachType.CGROUP_INET_EGRESS),
      [BpfCmd.LINK_CREATE, BpfCmd.PROG_ATTACH],
    );
  } finally {
    rmdirSync(dir);
  }
});

test("attachNetfilter: a failed LINK_CREATE leaves no hook", {
  skip: skipUnlessProg(ProgType.NETFILTER),
}, () => {
  using counts = counterMap();
  using prog = counterProgram("netfilter", counts, 1, {
    expectedAttachType: AttachType.NETFILTER,
  }); // NF_ACCEPT
  checkFaults(
    "attachNetfilter",
    () => attachNetfilter(prog, { pf: "ipv4", hooknum: "output", priority: -60 }),
    [BpfCmd.LINK_CREATE],
  );
});

test(
  "attachSkLookup and attachFlowDissector in a private netns: a failed LINK_CREATE leaves no link",
  {
    skip: skipUnlessProg(ProgType.SK_LOOKUP) || skipUnlessProg(ProgType.FLOW_DISSECTOR),
  },
  () => {
    const veth = createVeth("n");
    try {
      const netns = `/run/netns/${veth.netns}`;
      using counts = counterMap();
      using lookup = counterProgram("sk_lookup", counts, 1, {
        expectedAttachType: AttachType.SK_LOOKUP,
      }); // SK_PASS
      checkFaults("attachSkLookup", () => attachSkLookup(lookup, netns), [BpfCmd.LINK_CREATE]);
      using flow = counterProgram("flow_dissector", counts, 0);
      checkFaults("attachFlowDissector", () => attachFlowDissector(flow, netns), [
        BpfCmd.LINK_CREATE,
        BpfCmd.PROG_ATTACH,
      ]);
    } finally {
      veth.remove();
    }
  },
);

test("attachSockMap: a failed LINK_CREATE or PROG_ATTACH leaves the map without a program", {
  skip: skipUnlessProg(ProgType.SK_SKB),
}, () => {
  using counts = counterMap();
  using prog = counterProgram("sk_skb", counts, 1); // SK_PASS
  using map = BpfMap.create({ type: "sockmap", key: u32, value: fd64, maxEntries: 4 });
  checkFaults("attachSockMap", () => attachSockMap(prog, map, "stream_verdict"), [
    BpfCmd.LINK_CREATE,
    BpfCmd.PROG_ATTACH,
  ]);
});

test("attachBtfTracepoint: a failed RAW_TRACEPOINT_OPEN leaves no link", {
  skip: kernelSkip,
}, () => {
  using counts = counterMap();
  using prog = counterProgram("tracing", counts, 0, {
    expectedAttachType: AttachType.TRACE_RAW_TP,
    attachBtfId: btfTracepointId("sys_enter"),
  });
  checkFaults("attachBtfTracepoint", () => attachBtfTracepoint(prog), [
    BpfCmd.RAW_TRACEPOINT_OPEN,
    BpfCmd.LINK_CREATE,
  ]);
});

test("attachPerfEvent: a failed perf_event_open or LINK_CREATE closes the event", {
  skip: kernelSkip,
}, () => {
  using counts = counterMap();
  using prog = counterProgram("perf_event", counts, 0);
  const nr = sys().nr;
  checkFaults(
    "attachPerfEvent",
    () =>
      attachPerfEvent(prog, {
        type: "software",
        config: PerfSwConfig.TASK_CLOCK,
        samplePeriod: 1_000_000,
        pid: 0,
      }),
    [BpfCmd.LINK_CREATE],
    {
      // Without a perf link the kernel's older way (PERF_EVENT_IOC_SET_BPF) answers.
      fallback: true,
      extra: [
        { nr: nr.perf_event_open, times: Infinity, errno: Errno.EMFILE },
        { nr: nr.ioctl, times: Infinity, errno: Errno.ENOMEM },
      ],
    },
  );
});

test("attachUprobeMulti: a failed LINK_CREATE leaves no probe", {
  skip: unlessProfile((p) => p.linkType(LinkType.UPROBE_MULTI)),
}, () => {
  using counts = counterMap();
  using prog = counterProgram("kprobe", counts, 0, {
    expectedAttachType: AttachType.TRACE_UPROBE_MULTI,
  });
  checkFaults(
    "attachUprobeMulti",
    () => attachUprobeMulti(prog, { path: "libc.so.6", symbols: ["getpid"] }),
    [BpfCmd.LINK_CREATE],
  );
});

test("PerfBuffer: a failed open, mmap, epoll or map update closes every event and mapping", {
  skip: kernelSkip,
}, () => {
  using map = BpfMap.create({
    type: "perf_event_array",
    keySize: 4,
    valueSize: 4,
    maxEntries: possibleCpus(),
  });
  const before = resources();
  let cpus: number;
  {
    using pb = new PerfBuffer(map, { pages: 1 });
    cpus = pb.cpus.length;
  }
  assertReleased(before, "a PerfBuffer, closed");
  const nr = sys().nr;
  const faults: Fault[] = [
    { nr: nr.perf_event_open, nth: 1, errno: Errno.EMFILE },
    { nr: nr.perf_event_open, nth: 2, errno: Errno.EMFILE },
    { nr: nr.mmap, nth: 1, errno: Errno.ENOMEM },
    { nr: nr.mmap, nth: 2, errno: Errno.ENOMEM },
    { nr: nr.epoll_create1, errno: Errno.EMFILE },
    { nr: nr.epoll_ctl, nth: 2, errno: Errno.ENOMEM },
    { nr: nr.ioctl, errno: Errno.ENOMEM },
    { cmd: BpfCmd.MAP_UPDATE_ELEM, nth: 2, errno: Errno.ENOMEM },
  ];
  for (const f of faults) {
    if ((f.nth ?? 1) > cpus) continue; // one CPU: no second event, mapping or update
    const label = JSON.stringify(f);
    assert.throws(() => inject([f], () => new PerfBuffer(map, { pages: 1 })), Error, label);
    assertReleased(before, label);
  }
  using pb = new PerfBuffer(map, { pages: 1 });
  assert.equal(pb.cpus.length, cpus);
});

test("loadObject: a failed BTF_LOAD or obj.attach() leaves nothing open", {
  skip: kernelSkip,
}, () => {
  const undoTracefs = ensureTracefs();
  try {
    faultObject(join(repoRoot, "tests", "fixtures", "objects", "events.bpf.o"));
  } finally {
    undoTracefs();
  }
});

/** BTF_LOAD fails: the object loads without BTF or fails clean. Then attach() fails clean. */
function faultObject(file: string): void {
  const before = resources();
  for (const errno of FAILURES) {
    try {
      inject([{ cmd: BpfCmd.BTF_LOAD, times: Infinity, errno }], () => loadObject(file)).result
        .close();
    } catch (e) {
      assert.ok(e instanceof Error, `BTF_LOAD errno ${errno}: ${e}`);
    }
    assertReleased(before, `BTF_LOAD errno ${errno}`);
  }
  using obj = loadObject(file);
  const objBefore = resources();
  const nr = sys().nr;
  const faults: Fault[] = [
    { nr: nr.perf_event_open, times: Infinity, errno: Errno.EMFILE },
    { cmd: BpfCmd.LINK_CREATE, times: Infinity, errno: Errno.EPERM },
  ];
  for (const f of faults) {
    // The tracepoint program attaches through a perf event: a link, or the ioctl where links fail.
    try {
      inject([f], () => obj.attach()).result.close();
    } catch (e) {
      assert.ok(e instanceof Error, `${JSON.stringify(f)}: ${e}`);
    }
    assertReleased(objBefore, JSON.stringify(f));
  }
  using links = obj.attach();
  assert.ok(Object.keys(links.links).length > 0);
}
