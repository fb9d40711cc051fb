/** Every example runs to completion on the runtime running the tests, and says what it shows. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import process from "node:process";
import { kernelSkip, repoRoot, unlessProfile } from "./util.ts";
import type { LiveProfile } from "../lib/profile/live.ts";
import type { Answer } from "../lib/profile/types.ts";
import { MapType } from "../types/map_type.ts";

/** Each example and a line its output must contain. */
/** What an example needs of the kernel, as its profile answers (a skip names what is missing). */
const NEEDS: Record<string, (p: LiveProfile) => Answer> = {
  "maps.ts": (p) => p.mapType(MapType.BLOOM_FILTER),
  "elf.ts": (p) => p.helperKnown(BPF_LOOP), // globals.bpf.o calls bpf_loop
};
/** `bpf_loop`'s helper id. */
const BPF_LOOP = 181;

const EXAMPLES: [string, RegExp][] = [
  ["demo.ts", /closed 6 programs; ids still loaded: 0/],
  ["maps.ts", /Typed hash map/],
  ["attach.ts", /needs a program of type raw_tracepoint/],
  ["elf.ts", /CO-RE/],
  ["ringbuf.ts", /len 386, protocol 0x800/],
  ["plugin_progtype.ts", /the plugin refused it before load/],
];

function command(file: string): [string, string[]] {
  const g = globalThis as { Bun?: unknown; Deno?: { execPath(): string } };
  const path = `${repoRoot}/examples/${file}`;
  if (g.Bun !== undefined) {
    return [(globalThis as unknown as { process: { execPath: string } }).process.execPath, [path]];
  }
  return [g.Deno!.execPath(), ["run", "--allow-all", "--no-check", path]];
}

/**
 * The tools of examples/ (issue 14): each traces briefly, makes one event of its own and must
 * show it. `check` gets the output and the example's pid.
 */
const TOOLS: {
  file: string;
  args: string[];
  netns?: boolean;
  tracefs?: boolean;
  check: (out: string, pid: number) => void;
}[] = [
  {
    file: "execsnoop.ts",
    args: ["1"],
    tracefs: true,
    check: (out) => {
      assert.match(out, /^\d+\s+\d+\s+echo\s+\/(usr\/)?bin\/echo$/m);
      assert.match(out, /^[1-9]\d* exec\(\) calls seen$/m);
    },
  },
  {
    file: "opensnoop.ts",
    args: ["1"],
    tracefs: true,
    check: (out, pid) => {
      // The example's own open, from its own pid, with O_CREAT (0100) in the flags.
      const line = out.split("\n").find((l) => l.endsWith(` /tmp/tsbpf-opensnoop-${pid}`));
      assert.ok(line, `no line for /tmp/tsbpf-opensnoop-${pid}:\n${out}`);
      const [, linePid, , flags] = line.trim().split(/\s+/);
      assert.equal(Number(linePid), pid);
      assert.ok(Number.parseInt(flags, 8) & 0o100, `flags ${flags} lack O_CREAT`);
      assert.match(out, /openat\(\) calls seen, \d+ lost/);
    },
  },
  {
    file: "xdp_counter.ts",
    args: ["1"],
    netns: true, // lo of a fresh network namespace: no other XDP program, only our traffic
    check: (out) => {
      const m = /over lo: (\d+) packets counted so far/.exec(out);
      assert.ok(m, out);
      assert.ok(Number(m[1]) >= 100, `counted ${m[1]} of the 100 datagrams`);
      assert.match(out, /^lo: \d+ packets, \d+ bytes; \d+ pkt\/s, \d+ B\/s$/m);
    },
  },
  {
    file: "tcpconnect.ts",
    args: ["1"],
    tracefs: true,
    check: (out, pid) => {
      const port = /our own server on 127\.0\.0\.1:(\d+)/.exec(out)?.[1];
      assert.ok(port, out);
      const re = new RegExp(
        `^${pid}\\s+\\S+\\s+127\\.0\\.0\\.1:\\d+\\s+127\\.0\\.0\\.1:${port}\\s+[\\d.]+$`,
        "m",
      );
      assert.match(out, re);
    },
  },
  {
    file: "firewall.ts",
    args: [],
    check: (out) => {
      const port = /TCP\/UDP to port (\d+) dropped/.exec(out)?.[1];
      assert.ok(port, out);
      assert.match(out, new RegExp(`connect to blocked port ${port}: failed`));
      assert.match(out, /connect to open port \d+: connected/);
      const drops = new RegExp(`packets dropped for port ${port}: (\\d+)`).exec(out)?.[1];
      assert.ok(Number(drops) >= 1, out);
    },
  },
];

for (const tool of TOOLS) {
  test(`examples/${tool.file} shows its own event`, { skip: kernelSkip }, () => {
    let [cmd, args] = command(tool.file);
    args = [...args, ...tool.args];
    // Namespaces of its own: tracefs mounted privately (another process's umount of a shared
    // mount cannot pull it away mid-run), lo of a fresh network namespace.
    const setup = [
      // Mounted already (copied into the new namespace: only a mount there could remove it), or
      // mounted here. Some kernels (5.10) refuse a second mount of tracefs at the same place.
      ...(tool.tracefs
        ? ["{ [ -e /sys/kernel/tracing/events ] || mount -t tracefs nodev /sys/kernel/tracing; }"]
        : []),
      ...(tool.netns ? ["ip link set lo up"] : []),
    ];
    if (setup.length > 0) {
      const flags = [...(tool.tracefs ? ["-m"] : []), ...(tool.netns ? ["-n"] : [])];
      args = [...flags, "sh", "-c", `${setup.join(" && ")} && exec "$0" "$@"`, cmd, ...args];
      cmd = "unshare";
    }
    const r = spawnSync(cmd, args, {
      encoding: "utf8",
      timeout: 120_000,
      env: { ...process.env, NO_COLOR: "1" },
    });
    assert.equal(r.status, 0, `exit ${r.status}\n${r.stdout}\n${r.stderr}`);
    tool.check(r.stdout, r.pid!);
  });
}

for (const [file, expected] of EXAMPLES) {
  const needs = NEEDS[file];
  test(`examples/${file} runs`, { skip: needs ? unlessProfile(needs) : kernelSkip }, () => {
    const [cmd, args] = command(file);
    const r = spawnSync(cmd, args, {
      encoding: "utf8",
      timeout: 120_000,
      env: { ...process.env, NO_COLOR: "1" },
    });
    assert.equal(r.status, 0, `exit ${r.status}\n${r.stdout}\n${r.stderr}`);
    assert.match(r.stdout, expected);
  });
}
