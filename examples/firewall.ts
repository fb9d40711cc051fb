/**
 * A cgroup egress firewall: a `cgroup_skb/egress` program drops what processes of a cgroup send
 * to blocked TCP/UDP ports (a hash map of ports the program reads; drops counted per port).
 * BPF side: bpf/firewall.bpf.c.
 *
 *   deno run -A examples/firewall.ts [port]      bun examples/firewall.ts [port]   (root)
 *
 * It makes a cgroup of its own (under its current cgroup v2), moves itself into it, attaches the
 * firewall there and blocks `port` (default: a local server's port), then shows a TCP connect to
 * the blocked port failing (its SYNs dropped: no answer) and a connect to another port working.
 * It moves back and removes the cgroup on the way out.
 */
import { mkdirSync, readFileSync, rmdirSync, writeFileSync } from "node:fs";
import { connect, createServer, type Server } from "node:net";
import process from "node:process";
import { AttachType } from "../mod.ts";
import { loadObject } from "../lib/elf/mod.ts";
import { attachCgroup } from "../lib/link/mod.ts";

const mounts = readFileSync("/proc/self/mounts", "utf8").split("\n").map((l) => l.split(" "));
const root = mounts.find((m) => m[2] === "cgroup2")?.[1];
if (root === undefined) throw new Error("cgroup v2 is not mounted");
const own = readFileSync("/proc/self/cgroup", "utf8").match(/^0::(.*)$/m)![1];
const home = `${root}${own === "/" ? "" : own}`;
const jail = `${home}/tsbpf-firewall-${process.pid}`;

const listen = async (): Promise<[Server, number]> => {
  const s = createServer((c) => c.end());
  await new Promise<void>((resolve) => s.listen(0, "127.0.0.1", resolve));
  return [s, (s.address() as { port: number }).port];
};
/** Connects to 127.0.0.1:port: "connected", the error code, or no answer within 1 s. */
const tryConnect = (port: number) =>
  new Promise<string>((resolve) => {
    const c = connect(
      { port, host: "127.0.0.1", timeout: 1000 },
      () => (c.end(), resolve("connected")),
    );
    c.on("timeout", () => (c.destroy(), resolve("failed: no answer in 1 s (SYNs dropped)")));
    c.on("error", (e: NodeJS.ErrnoException) => resolve(`failed: ${e.code ?? e.message}`));
  });
const [blockedServer, blockedPort] = await listen();
const [openServer, openPort] = await listen();
const port = Number(process.argv[2] ?? blockedPort);

using obj = loadObject(new URL("./bpf/firewall.bpf.o", import.meta.url).pathname);
const blocked = obj.maps.blocked;
const u16 = (n: number) => new Uint8Array(new Uint16Array([n]).buffer);
blocked.set(u16(port), new Uint8Array(8));

mkdirSync(jail);
try {
  writeFileSync(`${jail}/cgroup.procs`, String(process.pid)); // this process, all its threads
  using link = attachCgroup(obj.programs.egress, jail, AttachType.CGROUP_INET_EGRESS);
  console.log(`Firewall on ${jail} (link ${link.id}): TCP/UDP to port ${port} dropped.`);
  console.log(`connect to blocked port ${port}: ${await tryConnect(port)}`);
  console.log(`connect to open port ${openPort}: ${await tryConnect(openPort)}`);
  const drops = new DataView(blocked.get(u16(port))!.buffer).getBigUint64(0, true);
  console.log(`packets dropped for port ${port}: ${drops}`);
} finally {
  writeFileSync(`${home}/cgroup.procs`, String(process.pid));
  rmdirSync(jail);
  blockedServer.close();
  openServer.close();
}
