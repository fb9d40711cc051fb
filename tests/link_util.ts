/**
 * Helpers of the link tests: a counting program, raw sockets, a veth pair in a private network
 * namespace, tracefs, and a check that nothing is left in the kernel.
 */
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import assert from "node:assert/strict";
import { BpfMap } from "../lib/map/mod.ts";
import { u32, u64 } from "../lib/codec/mod.ts";
import { asm } from "../lib/insn/mod.ts";
import { Program } from "../lib/program/program.ts";
import type { AttachableProgram } from "../lib/link/mod.ts";
import type { ProgTypeInput } from "../lib/progtype/type_names.ts";
import { alloc } from "../lib/sys/memory.ts";
import { sys } from "../lib/sys/mod.ts";
import { Link, type LinkInfo, PerfEventIoctlLink } from "../lib/link/mod.ts";
import { LinkType } from "../types/link_type.ts";
import { BpfError } from "../lib/errors.ts";
import { liveProfile } from "../lib/profile/live.ts";
import { parseBtf } from "../lib/btf/mod.ts";
import { BPF_FDS, fdsOpenedSince, openFds } from "./util.ts";

/**
 * Whether the running kernel describes perf-event links in `bpf_link_info` (it has the
 * `perf_event` member there; 6.6 on), asked of its BTF. Without vmlinux BTF: false.
 */
export const kernelDescribesPerfLinks: boolean = (() => {
  const path = "/sys/kernel/btf/vmlinux";
  if (!existsSync(path)) return false;
  const btf = parseBtf(readFileSync(path));
  const info = btf.lookup("bpf_link_info", "struct")[0];
  return info !== undefined && btf.fields(info.id).some((f) => f.name === "perf_event");
})();

/**
 * Checks an attachment to a perf event (tracepoint, kprobe, uprobe) as the running kernel's
 * profile says it is made: where the kernel has perf-event links, a `perf_event` link to
 * `progId` (its id is added to `ids.links`, its info returned); where it has none, a
 * `PerfEventIoctlLink` whose link-only operations fail with `EOPNOTSUPP`, naming the profile's
 * reason (`undefined` is returned).
 */
export function perfLinkInfo(
  link: Link,
  progId: number,
  ids: { links: number[] },
): LinkInfo | undefined {
  const links = liveProfile().linkType(LinkType.PERF_EVENT);
  if (links.state === "no") {
    assert.ok(link instanceof PerfEventIoctlLink, `${link}: expected an ioctl attachment`);
    for (const op of [() => link.info(), () => link.pin("/sys/fs/bpf/never"), () => link.id]) {
      assert.throws(op, (e: unknown) => {
        assert.ok(e instanceof BpfError);
        assert.equal(e.errnoName, "EOPNOTSUPP");
        assert.ok(e.message.includes(links.reason), e.message);
        return true;
      });
    }
    return undefined;
  }
  assert.ok(!(link instanceof PerfEventIoctlLink), "the kernel has perf-event links");
  const info = link.info();
  assert.equal(info.type, LinkType.PERF_EVENT);
  assert.equal(info.progId, progId);
  ids.links.push(info.id);
  return info;
}

/**
 * The step that refuses a program of the wrong type at a perf event: `BPF_LINK_CREATE` where the
 * kernel's profile says it has perf-event links, else `ioctl(PERF_EVENT_IOC_SET_BPF)`.
 */
export function perfAttachStep(): RegExp {
  return liveProfile().linkType(LinkType.PERF_EVENT).state === "no"
    ? /ioctl\(PERF_EVENT_IOC_SET_BPF\) failed: EINVAL/
    : /BPF_LINK_CREATE failed: EINVAL/;
}

/**
 * Waits until link `id` has left the kernel: a link unpinned from bpffs is released with the
 * file's inode, which some kernels free after an RCU grace period. Bounded (10 s); fails after.
 */
export function waitLinkGone(id: number): void {
  const sleeper = new Int32Array(new SharedArrayBuffer(4));
  for (let waited = 0; Link.list().includes(id); waited += 20) {
    if (waited >= 10_000) assert.fail(`link ${id} is still in the kernel`);
    Atomics.wait(sleeper, 0, 0, 20);
  }
}

/** A one-slot u64 counter map. */
export function counterMap(): BpfMap<number, bigint> {
  return BpfMap.create({ type: "array", key: u32, value: u64, maxEntries: 1 });
}

/** A program that adds 1 to slot 0 of `map` and returns `ret`. */
export function counterProgram(
  type: ProgTypeInput,
  map: BpfMap<number, bigint>,
  ret: number,
  extra: { expectedAttachType?: number; attachBtfId?: number } = {},
): Program {
  return Program.load({
    type,
    license: "GPL",
    ...extra,
    insns: asm`
      *(u32 *)(r10 - 4) = 0
      r1 = map[fd:${map.fd}] ll
      r2 = r10
      r2 += -4
      call bpf_map_lookup_elem
      if r0 == 0 goto out
      r1 = 1
      lock *(u64 *)(r0 + 0) += r1
    out:
      r0 = ${ret}
      exit`,
  });
}

/** Calls getpid(2) `n` times. */
export function getpidTimes(n: number): void {
  const s = sys();
  for (let i = 0; i < n; i++) s.syscall(s.nr.getpid);
}

/** The fds attach functions open: BPF objects, perf events, cgroup directories. */
const TRACKED_FDS = new RegExp(`${BPF_FDS.source}|perf_event|^/sys/fs/cgroup`);

/**
 * A snapshot of this process's open fds, to tell after a test which BPF, perf-event and cgroup
 * fds it left open (a set, not counts: another test file's finalizer may close fds meanwhile).
 */
export function snapshot(): { fds: Set<string> } {
  return { fds: openFds() };
}

/** Asserts that no BPF, perf-event or cgroup fd opened since `before` is open, and the ids are gone. */
export function assertClean(
  before: { fds: ReadonlySet<string> },
  ids: { links?: number[]; progs?: number[] } = {},
): void {
  assert.deepEqual(fdsOpenedSince(before.fds, TRACKED_FDS), []);
  // The kernel frees links and programs after an RCU grace period: wait up to 3 s.
  const sleeper = new Int32Array(new SharedArrayBuffer(4));
  for (let waited = 0;; waited += 20) {
    const links = new Set(Link.list());
    const progs = new Set(Program.list());
    const left = [
      ...(ids.links ?? []).filter((id) => links.has(id)).map((id) => `link ${id}`),
      ...(ids.progs ?? []).filter((id) => progs.has(id)).map((id) => `program ${id}`),
    ];
    if (left.length === 0) return;
    if (waited >= 3000) assert.fail(`still in the kernel: ${left.join(", ")}`);
    Atomics.wait(sleeper, 0, 0, 20);
  }
}

/** Runs a command; returns its stdout. */
export function run(cmd: string, ...args: string[]): string {
  return execFileSync(cmd, args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
}

const AF_UNIX = 1n;
const SOCK_DGRAM = 2n;
const SOCK_CLOEXEC = 0x80000n;
const MSG_DONTWAIT = 0x40n;

/** A connected AF_UNIX datagram socket pair, made with socketpair(2). */
export function unixDgramPair(): [number, number] {
  const s = sys();
  const fds = alloc(8);
  const r = s.syscall(s.nr.socketpair, AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0n, s.addressOf(fds));
  assert.ok(r >= 0n, `socketpair failed: errno ${-r}`);
  const dv = new DataView(fds.buffer);
  return [dv.getInt32(0, true), dv.getInt32(4, true)];
}

/** Sends `data` on a connected socket without blocking; returns bytes sent or -errno. */
export function send(fd: number, data: Uint8Array): number {
  const s = sys();
  const buf = alloc(data.length);
  buf.set(data);
  return Number(
    s.syscall(s.nr.sendto, BigInt(fd), s.addressOf(buf), BigInt(buf.length), MSG_DONTWAIT, 0n, 0n),
  );
}

/** Receives one datagram without blocking; `undefined` when none is queued (EAGAIN). */
export function recv(fd: number, max = 2048): Uint8Array | undefined {
  const s = sys();
  const buf = alloc(max);
  const r = s.syscall(
    s.nr.recvfrom,
    BigInt(fd),
    s.addressOf(buf),
    BigInt(max),
    MSG_DONTWAIT,
    0n,
    0n,
  );
  if (r === -11n) return undefined;
  assert.ok(r >= 0n, `recvfrom failed: errno ${-r}`);
  return buf.slice(0, Number(r));
}

/** Closes fds, ignoring errors. */
export function closeAll(...fds: number[]): void {
  for (const fd of fds) if (fd >= 0) sys().close(fd);
}

/** A veth pair whose host end is in this namespace and whose peer is in a private netns. */
export interface Veth {
  /** Name of the end in this namespace. */
  host: string;
  /** Its ifindex. */
  ifindex: number;
  /** The private namespace. */
  netns: string;
  /** Deletes the namespace (and with it the pair). */
  remove(): void;
}

/** Creates a veth pair `tsv<pid>`/`tsp<pid>`, the peer moved into netns `tsbpf_<pid>`. */
export function createVeth(tag: string): Veth {
  const pid = String(sys().syscall(sys().nr.getpid));
  const netns = `tsbpf_${tag}${pid}`;
  const host = `tsv${tag}${pid}`.slice(0, 15);
  const peer = `tsp${tag}${pid}`.slice(0, 15);
  run("ip", "netns", "add", netns);
  try {
    run("ip", "link", "add", host, "type", "veth", "peer", "name", peer, "netns", netns);
    run("ip", "link", "set", host, "up");
  } catch (e) {
    run("ip", "netns", "del", netns);
    throw e;
  }
  const ifindex = Number(readFileSync(`/sys/class/net/${host}/ifindex`, "utf8").trim());
  return {
    host,
    ifindex,
    netns,
    remove(): void {
      try {
        run("ip", "link", "del", host);
      } catch {
        // Gone with the namespace already.
      }
      run("ip", "netns", "del", netns);
    },
  };
}

/** Mounts tracefs at /sys/kernel/tracing when no tracefs is mounted; returns an undo. */
export function ensureTracefs(): () => void {
  if (
    existsSync("/sys/kernel/tracing/events") || existsSync("/sys/kernel/debug/tracing/events")
  ) return () => {};
  run("mount", "-t", "tracefs", "nodev", "/sys/kernel/tracing");
  return () => {
    try {
      run("umount", "/sys/kernel/tracing");
    } catch {
      // Busy: leave it mounted (harmless).
    }
  };
}

/** Where cgroup v2 is mounted (from /proc/self/mounts). */
export function cgroup2Root(): string {
  for (const line of readFileSync("/proc/self/mounts", "utf8").split("\n")) {
    const [, dir, fs] = line.split(" ");
    if (fs === "cgroup2") return dir;
  }
  throw new Error("cgroup v2 is not mounted");
}

/** This process's cgroup v2 directory. */
export function ownCgroup(): string {
  const line = readFileSync("/proc/self/cgroup", "utf8").split("\n").find((l) =>
    l.startsWith("0::")
  );
  const rel = line?.slice(3) ?? "/";
  return cgroup2Root() + (rel === "/" ? "" : rel);
}

const AF_INET = 2n;

/** A UDP socket (created by the socket(2) system call). */
export function udpSocket(): number {
  const s = sys();
  const r = s.syscall(s.nr.socket, AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0n);
  assert.ok(r >= 0n, `socket failed: errno ${-r}`);
  return Number(r);
}

/** Sends `data` to 127.0.0.1:`port`; returns bytes sent or -errno. */
export function sendToLoopback(fd: number, port: number, data: Uint8Array): number {
  const s = sys();
  const addr = alloc(16);
  const dv = new DataView(addr.buffer);
  dv.setUint16(0, 2, true); // AF_INET
  dv.setUint16(2, port, false);
  dv.setUint32(4, 0x7f000001, false);
  const buf = alloc(data.length);
  buf.set(data);
  const r = s.syscall(
    s.nr.sendto,
    BigInt(fd),
    s.addressOf(buf),
    BigInt(buf.length),
    MSG_DONTWAIT,
    s.addressOf(addr),
    16n,
  );
  return Number(r);
}

/**
 * A view of a program without its type, so that an attach function cannot refuse it up front
 * and the kernel's own refusal (EINVAL) is what the test sees.
 */
export function untyped(program: Program): AttachableProgram {
  return {
    get fd() {
      return program.fd;
    },
    get closed() {
      return program.closed;
    },
    get id() {
      return program.id;
    },
  };
}
