/**
 * attachUsdt on the real kernel: a program written against libbpf's usdt.bpf.h (fixture
 * tests/fixtures/usdt/usdt.bpf.c) reads the arguments of the committed target's probes.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Buffer } from "node:buffer";
import { arch, pid } from "node:process";
import { asm } from "../lib/insn/mod.ts";
import { Program } from "../lib/program/program.ts";
import { BpfMap } from "../lib/map/mod.ts";
import { AttachError, attachUsdt, type UsdtAttachment } from "../lib/link/mod.ts";
import { kernelBtf, loadObject, ObjectSpec } from "../lib/elf/mod.ts";
import { UsdtSpecError } from "../lib/elf/usdt.ts";
import { RingBuffer } from "../lib/ringbuf/mod.ts";
import { kernelSkip, repoRoot } from "./util.ts";
import { assertClean, snapshot } from "./link_util.ts";
import { makeElf } from "./usdt_util.ts";

const FIXTURES = `${repoRoot}/tests/fixtures/usdt`;
const TARGET = `${FIXTURES}/usdt_target`;
const ENOENT = 2;

interface Hit {
  kind: number;
  argCnt: number;
  cookie: bigint;
  args: bigint[];
  errs: number[];
}

/** Runs the target with argument `n`; returns its stdout. */
function runTarget(n: number, path = TARGET): string {
  return execFileSync(path, [String(n)], { encoding: "utf8" });
}

/** The records of the fixture's ring buffer (struct event). */
function drain(events: BpfMap): Hit[] {
  const hits: Hit[] = [];
  using rb = new RingBuffer(events);
  rb.consume((r) => {
    const v = new DataView(r.buffer, r.byteOffset, r.byteLength);
    const args: bigint[] = [];
    const errs: number[] = [];
    for (let i = 0; i < 12; i++) {
      args.push(v.getBigInt64(16 + 8 * i, true));
      errs.push(v.getInt32(112 + 4 * i, true));
    }
    hits.push({
      kind: v.getUint32(0, true),
      argCnt: v.getInt32(4, true),
      cookie: v.getBigUint64(8, true),
      args,
      errs,
    });
  });
  return hits;
}

function load(): ReturnType<typeof loadObject> {
  return loadObject(`${FIXTURES}/usdt.bpf.o`);
}

function usdt(
  obj: ReturnType<typeof loadObject>,
  prog: string,
  name: string,
  cookie?: bigint,
  path = TARGET,
): UsdtAttachment {
  return attachUsdt(obj.programs[prog], {
    path,
    provider: "tsbpf",
    name,
    cookie,
    specs: obj.maps.__bpf_usdt_specs,
    ipToSpecId: obj.maps.__bpf_usdt_ip_to_spec_id,
  });
}

/** Tests that run the committed target, an x86_64 binary. */
const targetSkip: string | false = kernelSkip ||
  (arch !== "x64" ? `the committed USDT target is an x86_64 binary (this is ${arch})` : false);

function kernelHasCookies(): boolean {
  try {
    return kernelBtf().find("enum", "bpf_func_id")?.values.some((v) =>
      v.name === "BPF_FUNC_get_attach_cookie"
    ) ?? false;
  } catch {
    return false;
  }
}

/**
 * Tests that attach for every process: without BPF cookies, a position-independent target's
 * probe addresses are known only in a given process (the pid test covers that path).
 */
const allSkip: string | false = targetSkip ||
  (kernelHasCookies() ? false : "this kernel has no BPF cookies (before 5.15): a PIE target's " +
    "USDT probes can only be attached per process (see the pid test)");

const N = 3;
/** The values usdt_target.c passes for N (see its fire_args). */
const ARGS = [
  BigInt(N),
  BigInt(-N),
  BigInt(-N), // (signed char)-n
  BigInt(N * 3),
  BigInt.asIntN(64, 0xfedcba9876543210n ^ BigInt(N)),
  BigInt(N * 1000),
  BigInt(-N * 10),
  5n,
];

test(
  "attachUsdt: usdt.bpf.h reads register, narrow signed, stack and constant arguments and the cookie",
  { skip: allSkip },
  () => {
    const before = snapshot();
    const ids: number[] = [];
    {
      using obj = load();
      using a = usdt(obj, "generic", "args", 77n);
      using s = usdt(obj, "generic", "stack", 78n);
      using t = usdt(obj, "generic", "twice", 79n);
      for (const x of [a, s, t]) ids.push(...x.links.map((l) => l.id));
      assert.equal(a.sites.length, 1);
      assert.equal(t.sites.length, 2); // one probe, two sites with different argument strings
      const specIds = [a, s, t].flatMap((x) => x.sites.map((site) => site.specId));
      assert.equal(new Set(specIds).size, 4, "each argument string has its own spec id");
      assert.ok(a.links.every((l) => l.info().typeName === "perf_event"));
      assert.equal(runTarget(N), "semaphore=0\n");
      const hits = drain(obj.maps.events).filter((h) => h.kind === 1);
      const by = (c: bigint): Hit[] => hits.filter((h) => h.cookie === c);

      const [args] = by(77n);
      assert.ok(args, `no tsbpf:args record in ${JSON.stringify(hits, (_, x) => String(x))}`);
      assert.equal(args.argCnt, 8);
      assert.deepEqual(args.args.slice(0, 8), ARGS);
      assert.deepEqual(args.errs.slice(0, 8), Array(8).fill(0));
      // Past arg_cnt: -ENOENT and a zeroed result, as bpf_usdt_arg documents.
      assert.deepEqual(args.errs.slice(8), Array(4).fill(-ENOENT));
      assert.deepEqual(args.args.slice(8), Array(4).fill(0n));

      const [stack] = by(78n);
      assert.equal(stack.argCnt, 3);
      assert.deepEqual(stack.args.slice(0, 3), [BigInt(N), BigInt(-N), BigInt(N + 100)]);

      const twice = by(79n).map((h) => [h.argCnt, h.args[0], h.args[1]]);
      assert.deepEqual(twice.sort((x, y) => Number(x[1]) - Number(y[1])), [
        [2, 1n, BigInt(N)],
        [2, 2n, BigInt(N + 1)],
      ]);
    }
    assertClean(before, { links: ids });
  },
);

test(
  "attachUsdt: a BPF_USDT(...) handler gets typed arguments unchanged",
  { skip: allSkip },
  () => {
    using obj = load();
    using a = usdt(obj, "typed", "args", 5n);
    runTarget(N);
    const hits = drain(obj.maps.events).filter((h) => h.kind === 2);
    assert.equal(hits.length, 1);
    assert.equal(hits[0].cookie, 5n);
    assert.deepEqual(hits[0].args.slice(0, 8), ARGS);
    assert.equal(a.closed, false);
    a.close();
    assert.equal(a.closed, true);
    a.close(); // twice is fine
    runTarget(N);
    assert.equal(drain(obj.maps.events).length, 0, "detached: no more records");
  },
);

test(
  "attachUsdt: a probe's semaphore is incremented while attached (ref_ctr_offset), and reset",
  { skip: allSkip },
  () => {
    using obj = load();
    assert.equal(runTarget(N), "semaphore=0\n");
    {
      using g = usdt(obj, "generic", "guarded", 9n);
      assert.ok(g.sites[0].probe.semaphoreOffset > 0);
      assert.equal(runTarget(N), "semaphore=1\n");
      const hits = drain(obj.maps.events);
      assert.equal(hits.length, 1);
      assert.deepEqual([hits[0].cookie, hits[0].argCnt, hits[0].args[0]], [9n, 1, BigInt(2 * N)]);
    }
    assert.equal(runTarget(N), "semaphore=0\n");
  },
);

test(
  "attachUsdt: no such probe, no notes, no file, bad spec, wrong program or map: typed errors, nothing leaked",
  { skip: allSkip },
  () => {
    const dir = mkdtempSync(join(tmpdir(), `tsbpf-usdt-${pid}-`));
    try {
      using obj = load();
      const before = snapshot();
      assert.throws(
        () => usdt(obj, "generic", "nope"),
        (e: unknown) =>
          e instanceof AttachError && e.errno === ENOENT &&
          /has no probe tsbpf:nope; it has tsbpf:args, tsbpf:guarded, tsbpf:stack, tsbpf:twice/
            .test(e.message),
      );
      const bare = join(dir, "bare");
      writeFileSync(bare, makeElf([]));
      assert.throws(
        () => usdt(obj, "generic", "args", undefined, bare),
        (e: unknown) =>
          e instanceof AttachError && e.errno === ENOENT &&
          /has no USDT probes \(no \.note\.stapsdt notes\)/.test(e.message),
      );
      assert.throws(
        () => usdt(obj, "generic", "args", undefined, join(dir, "missing")),
        (e: unknown) => e instanceof AttachError && e.errno === ENOENT,
      );
      const text = join(dir, "text");
      writeFileSync(text, "#!/bin/sh\n".padEnd(100, "#"));
      assert.throws(
        () => usdt(obj, "generic", "args", undefined, text),
        (e: unknown) =>
          e instanceof AttachError && e.errnoName === "ENOEXEC" && /bad magic/.test(e.message),
      );
      // A copy of the target whose tsbpf:args spec says size 3: refused before any system call.
      const bytes = readFileSync(TARGET);
      const at = Buffer.from(bytes).indexOf("-4@$5");
      assert.ok(at > 0);
      bytes[at + 1] = "3".charCodeAt(0);
      const badSpec = join(dir, "bad_spec");
      writeFileSync(badSpec, bytes);
      assert.throws(
        () => usdt(obj, "generic", "args", undefined, badSpec),
        (e: unknown) => e instanceof UsdtSpecError && e.index === 7 && /size 3/.test(e.message),
      );
      assertClean(before); // nothing opened by the failures above
      using xdp = Program.load({ type: "xdp", insns: asm`r0 = 0\nexit`, license: "GPL" });
      assert.throws(
        () =>
          attachUsdt(xdp, {
            path: TARGET,
            provider: "tsbpf",
            name: "args",
            specs: obj.maps.__bpf_usdt_specs,
          }),
        /needs a program of type kprobe/,
      );
      assert.throws(
        () =>
          attachUsdt(obj.programs.generic, {
            path: TARGET,
            provider: "tsbpf",
            name: "args",
            specs: obj.maps.events,
          }),
        (e: unknown) => e instanceof TypeError && /specs must be usdt.bpf.h's map/.test(e.message),
      );
      // A spec id that cannot be had: a one-entry specs map, and a probe needing two.
      using tiny = BpfMap.create({ type: "array", keySize: 4, valueSize: 208, maxEntries: 1 });
      const beforeSpace = snapshot();
      assert.throws(
        () =>
          attachUsdt(obj.programs.generic, {
            path: TARGET,
            provider: "tsbpf",
            name: "twice",
            specs: tiny,
            ipToSpecId: obj.maps.__bpf_usdt_ip_to_spec_id,
          }),
        (e: unknown) => e instanceof AttachError && e.errnoName === "ENOSPC",
      );
      assertClean(beforeSpace); // the first site's link and event were closed on the way out
      // The ids released: the next attachment takes spec id 0 again.
      using again = attachUsdt(obj.programs.generic, {
        path: TARGET,
        provider: "tsbpf",
        name: "args",
        specs: tiny,
        ipToSpecId: obj.maps.__bpf_usdt_ip_to_spec_id,
      });
      assert.equal(again.sites[0].specId, 0);
      // A copy is another inode: probes there fire only for the copy.
      const copy = join(dir, "copy");
      copyFileSync(TARGET, copy);
      execFileSync("chmod", ["+x", copy]);
      assert.equal(runTarget(N, copy), "semaphore=0\n");
      assert.equal(drain(obj.maps.events).length, 0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
);

test(
  'LoadedObject.attach(): SEC("usdt/<path>:<provider>:<name>") attaches with the object\'s maps',
  { skip: allSkip },
  () => {
    const spec = ObjectSpec.parse(readFileSync(`${FIXTURES}/usdt.bpf.o`));
    const auto = spec.program("auto_guarded");
    assert.equal(auto.attachTarget, "usdt_target:tsbpf:guarded");
    auto.attachTarget = `${TARGET}:tsbpf:guarded`;
    using obj = loadObject(spec);
    {
      using links = obj.attach();
      assert.deepEqual(Object.keys(links.usdt), ["auto_guarded"]);
      assert.match(links.skipped.generic, /names no <path>:<provider>:<name>/);
      assert.equal(runTarget(N), "semaphore=1\n");
      const hits = drain(obj.maps.events);
      assert.deepEqual(hits.map((h) => [h.kind, h.argCnt, h.args[0]]), [[3, 1, BigInt(2 * N)]]);
    }
    assert.equal(runTarget(N), "semaphore=0\n");
  },
);

test(
  "attachUsdt with a pid: only that process's probes fire (the ip map path on cookie-less kernels)",
  { skip: targetSkip },
  async () => {
    using obj = load();
    const child = spawn(TARGET, [String(N), "wait"], { stdio: ["pipe", "pipe", "inherit"] });
    let out = "";
    const exit = new Promise<number | null>((resolve, reject) => {
      child.on("error", reject);
      child.on("exit", (code) => resolve(code));
    });
    await new Promise<void>((resolve, reject) => {
      child.stdout!.on("data", (d) => {
        out += d;
        if (out.includes("ready")) resolve();
      });
      exit.then((code) => reject(new Error(`target exited (${code}) before ready: ${out}`)));
    });
    let sites = 0;
    {
      using a = attachUsdt(obj.programs.generic, {
        path: TARGET,
        provider: "tsbpf",
        name: "args",
        pid: child.pid!,
        cookie: 11n,
        specs: obj.maps.__bpf_usdt_specs,
        ipToSpecId: obj.maps.__bpf_usdt_ip_to_spec_id,
      });
      sites = a.sites.length;
      runTarget(N); // another process: not traced
      assert.equal(drain(obj.maps.events).length, 0);
      child.stdin!.end("go\n");
      assert.equal(await exit, 0);
      const hits = drain(obj.maps.events);
      assert.equal(hits.length, 1);
      assert.equal(hits[0].cookie, 11n);
      assert.deepEqual(hits[0].args.slice(0, 8), ARGS);
    }
    assert.equal(sites, 1);
    assert.equal(out.trim(), "ready\nsemaphore=0");
  },
);
