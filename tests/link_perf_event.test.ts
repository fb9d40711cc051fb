// attachPerfEvent against the kernel: a perf_event program counting samples into a map, per task
// (task-clock by period) and per CPU (cpu-clock by frequency), through a link and through the
// PERF_EVENT_IOC_SET_BPF ioctl; hardware events where the machine has a PMU; errors.
import { test } from "node:test";
import assert from "node:assert/strict";
import { AttachError, attachPerfEvent, Link } from "../lib/link/mod.ts";
import { LinkType } from "../types/link_type.ts";
import {
  onlineCpus,
  perfEventOpen,
  PerfHwConfig,
  PerfSwConfig,
  PerfType,
} from "../lib/perf/mod.ts";
import { sys } from "../lib/sys/mod.ts";
import { fdsOpenedSince, kernelSkip, openFds, unlessProfile } from "./util.ts";
import { counterMap, counterProgram } from "./link_util.ts";

/** Burns CPU in this task until `done()` or `max` rounds (no wall-clock limit). */
function spinUntil(done: () => boolean, max = 200_000): number {
  let rounds = 0;
  let x = 0;
  while (!done() && rounds < max) {
    for (let i = 0; i < 20_000; i++) x = (x * 31 + i) | 0;
    rounds++;
  }
  return x & 0 | rounds;
}

/** Why hardware events cannot be tested here (the kernel's answer), or false. */
function hardwareSkip(): string | false {
  if (kernelSkip) return kernelSkip;
  try {
    const fd = perfEventOpen({
      type: PerfType.HARDWARE,
      config: PerfHwConfig.CPU_CYCLES,
      samplePeriod: 1_000_000,
    }, { pid: 0, cpu: -1 });
    sys().close(fd);
    return false;
  } catch (e) {
    return `no hardware perf events on this machine: ${(e as Error).message}`;
  }
}

/** Perf-event links (5.15), as the running kernel's profile answers. */
const perfLinkSkip = unlessProfile((p) => p.linkType(LinkType.PERF_EVENT));

test("per task, by period: the program counts task-clock samples of this process (link)", {
  skip: perfLinkSkip,
}, () => {
  const fds0 = openFds();
  {
    using counts = counterMap();
    using prog = counterProgram("perf_event", counts, 0);
    using a = attachPerfEvent(prog, {
      type: "software",
      config: PerfSwConfig.TASK_CLOCK,
      samplePeriod: 100_000, // every 100 µs of this task's CPU time
      pid: 0,
    });
    assert.equal(a.method, "link");
    const info = a.info();
    assert.equal(info.typeName, "perf_event");
    assert.equal(info.progId, prog.id);
    assert.ok(Link.list().includes(info.id));
    spinUntil(() => counts.get(0)! >= 5n);
    assert.ok(counts.get(0)! >= 5n, `only ${counts.get(0)} samples`);
    a.close();
    const after = counts.get(0)!;
    spinUntil(() => false, 200);
    assert.equal(counts.get(0), after, "samples counted after close()");
  }
  assert.deepEqual(fdsOpenedSince(fds0), []);
});

test("per CPU, by frequency: cpu-clock samples on every online CPU (ioctl and link)", {
  skip: kernelSkip,
}, () => {
  using counts = counterMap();
  using prog = counterProgram("perf_event", counts, 0);
  if (perfLinkSkip) {
    // No perf-event links here: mode "link" is refused with the profile's reason.
    assert.throws(
      () =>
        attachPerfEvent(prog, {
          type: "software",
          config: 0,
          sampleFreq: 10,
          cpu: 0,
          mode: "link",
        }),
      (e: unknown) =>
        e instanceof AttachError && e.errnoName === "EOPNOTSUPP" &&
        e.message.includes(perfLinkSkip as string),
    );
  }
  for (const mode of perfLinkSkip ? ["ioctl"] as const : ["ioctl", "link"] as const) {
    const before = counts.get(0)!;
    const attached = onlineCpus().map((cpu) =>
      attachPerfEvent(prog, {
        type: "software",
        config: PerfSwConfig.CPU_CLOCK,
        sampleFreq: 1000,
        cpu,
        mode,
      })
    );
    try {
      for (const a of attached) assert.equal(a.method, mode);
      spinUntil(() => counts.get(0)! - before >= 3n);
      assert.ok(counts.get(0)! - before >= 3n, `${mode}: ${counts.get(0)! - before} samples`);
    } finally {
      for (const a of attached) a.close();
    }
    if (mode === "ioctl") {
      assert.throws(() => attached[0].info(), /PERF_EVENT_IOC_SET_BPF has no link/);
    }
  }
});

test("hardware events: cpu-cycles samples counted", { skip: hardwareSkip() }, () => {
  using counts = counterMap();
  using prog = counterProgram("perf_event", counts, 0);
  using _a = attachPerfEvent(prog, {
    type: "hardware",
    config: PerfHwConfig.CPU_CYCLES,
    samplePeriod: 1_000_000,
    pid: 0,
  });
  spinUntil(() => counts.get(0)! >= 3n);
  assert.ok(counts.get(0)! >= 3n);
});

test("attachPerfEvent errors name the event and the kernel's answer", { skip: kernelSkip }, () => {
  const fds0 = openFds();
  {
    using counts = counterMap();
    using prog = counterProgram("perf_event", counts, 0);
    using xdp = counterProgram("xdp", counts, 2);
    const ev = { type: "software" as const, config: PerfSwConfig.CPU_CLOCK, sampleFreq: 10 };
    assert.throws(() => attachPerfEvent(xdp, { ...ev, cpu: 0 }), /needs a program of type/);
    assert.throws(() => attachPerfEvent(prog, ev), /give a cpu .* or a pid/);
    assert.throws(
      () => attachPerfEvent(prog, { type: "software", config: 0, cpu: 0 }),
      /give samplePeriod or sampleFreq/,
    );
    // A software event number the kernel does not have.
    assert.throws(
      () => attachPerfEvent(prog, { ...ev, config: 999, cpu: 0 }),
      /attachPerfEvent\(type software config 999, cpu 0\): perf_event_open failed: ENOENT/,
    );
    // A CPU that does not exist.
    assert.throws(
      () => attachPerfEvent(prog, { ...ev, cpu: 4096 }),
      /perf_event_open failed: (EINVAL|ENODEV)/,
    );
    assert.throws(
      () => attachPerfEvent(prog, { ...ev, cpu: 0, mode: "ioctl", cookie: 1n }),
      /a cookie needs a link/,
    );
  }
  assert.deepEqual(fdsOpenedSince(fds0), []);
});
