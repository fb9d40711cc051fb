/**
 * Hand-written cases for each rejection class of the deep checker: the checker reports the
 * kernel's reason, and the running kernel refuses the program with the same words; accepted
 * variants are accepted by both.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { BpfMap } from "../lib/map/map.ts";
import { Program } from "../lib/program/program.ts";
import { checkProgram } from "../lib/check/check.ts";
import { assemble } from "../lib/insn/asm.ts";
import { deepCheck } from "../lib/verifier/interp.ts";
import { getProgType } from "../lib/progtype/registry.ts";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { kernelSkip, repoRoot } from "./util.ts";

interface Case {
  name: string;
  type: string;
  src: (fd: { hash: number; array: number; ringbuf: number }) => string;
  /** Finding code and the kernel's message (a substring of both); absent: accepted. */
  code?: string;
  message?: string;
  /** The kernel's wording where it differs between versions (default: `message`). */
  kernelMessage?: RegExp;
  privileged?: boolean;
}

const LOOKUP = (fd: number) => `
  *(u32 *)(r10 - 4) = 0
  r1 = map[fd:${fd}] ll
  r2 = r10
  r2 += -4
  call bpf_map_lookup_elem`;

const CASES: Case[] = [
  {
    name: "map value used before its NULL check",
    type: "xdp",
    src: (m) =>
      `${LOOKUP(m.hash)}
      r0 = *(u64 *)(r0 + 0)
      exit`,
    code: "null-deref",
    message: "R0 invalid mem access 'map_value_or_null'",
  },
  {
    name: "map value after its NULL check",
    type: "xdp",
    src: (m) =>
      `${LOOKUP(m.hash)}
      if r0 == 0 goto out
      r1 = *(u64 *)(r0 + 8)
    out:
      r0 = 2
      exit`,
  },
  {
    name: "map value read past its end",
    type: "xdp",
    src: (m) =>
      `${LOOKUP(m.hash)}
      if r0 == 0 goto out
      r1 = *(u64 *)(r0 + 12)
    out:
      r0 = 2
      exit`,
    code: "map-bounds",
    message: "invalid access to map value, value_size=16 off=12 size=8",
  },
  {
    name: "map value indexed by an unbounded scalar",
    type: "xdp",
    src: (m) =>
      `${LOOKUP(m.hash)}
      if r0 == 0 goto out
      r6 = r0
      r1 = *(u32 *)(r0 + 0)
      r6 += r1
      r1 = *(u8 *)(r6 + 0)
    out:
      r0 = 2
      exit`,
    code: "map-bounds",
    message: "R6 unbounded memory access",
  },
  {
    name: "map value indexed by a possibly negative scalar",
    type: "xdp",
    src: (m) =>
      `${LOOKUP(m.hash)}
      if r0 == 0 goto out
      r6 = r0
      call bpf_get_prandom_u32
      r6 += r0
      r1 = *(u8 *)(r6 + 0)
    out:
      r0 = 2
      exit`,
    code: "ptr-arith",
    message: "math between map_value pointer and register with unbounded min value is not allowed",
  },
  {
    name: "map value indexed by a bounded scalar",
    type: "xdp",
    src: (m) =>
      `${LOOKUP(m.hash)}
      if r0 == 0 goto out
      r6 = r0
      call bpf_get_prandom_u32
      if r0 > 15 goto out
      r6 += r0
      r1 = *(u8 *)(r6 + 0)
    out:
      r0 = 2
      exit`,
  },
  {
    name: "packet read past data_end",
    type: "xdp",
    src: () => `
      r2 = *(u32 *)(r1 + 0)
      r3 = *(u32 *)(r1 + 4)
      r4 = r2
      r4 += 14
      if r4 > r3 goto out
      r0 = *(u8 *)(r2 + 14)
    out:
      r0 = 2
      exit`,
    code: "pkt-bounds",
    message: "invalid access to packet, off=14 size=1",
  },
  {
    name: "packet read without a bounds check",
    type: "sched_cls",
    src: () => `
      r2 = *(u32 *)(r1 + 76)
      r0 = *(u8 *)(r2 + 0)
      r0 = 0
      exit`,
    code: "pkt-bounds",
    message: "invalid access to packet, off=0 size=1",
  },
  {
    name: "packet read inside its checked range",
    type: "sched_cls",
    src: () => `
      r2 = *(u32 *)(r1 + 76)
      r3 = *(u32 *)(r1 + 80)
      r4 = r2
      r4 += 14
      if r4 > r3 goto out
      r0 = *(u16 *)(r2 + 12)
    out:
      r0 = 0
      exit`,
  },
  {
    name: "uninitialised stack read (without CAP_PERFMON)",
    type: "socket_filter",
    privileged: false,
    src: () => `
      r0 = *(u64 *)(r10 - 8)
      r0 = 0
      exit`,
    code: "uninit-stack",
    message: "invalid read from stack off -8+0 size 8",
  },
  {
    name: "uninitialised register read",
    type: "socket_filter",
    src: () => `
      r0 = r5
      exit`,
    code: "uninit-reg",
    message: "R5 !read_ok",
  },
  {
    name: "exit without setting r0",
    type: "xdp",
    src: () => `exit`,
    code: "uninit-reg",
    message: "R0 !read_ok",
  },
  {
    name: "socket filter reading skb->data",
    type: "socket_filter",
    src: () => `
      r0 = *(u32 *)(r1 + 76)
      r0 = 0
      exit`,
    code: "ctx-access",
    message: "invalid bpf_context access off=76 size=4",
  },
  {
    name: "xdp writing its context",
    type: "xdp",
    src: () => `
      r2 = 0
      *(u32 *)(r1 + 12) = r2
      r0 = 2
      exit`,
    code: "ctx-access",
    message: "invalid bpf_context access off=12 size=4",
  },
  {
    name: "modified context pointer dereferenced",
    type: "socket_filter",
    src: () => `
      r1 += 4
      r0 = *(u32 *)(r1 + 0)
      exit`,
    code: "ctx-modified",
    message: "dereference of modified ctx ptr R1 off=4 disallowed",
  },
  {
    name: "ring buffer record never submitted",
    type: "xdp",
    src: (m) => `
      r1 = map[fd:${m.ringbuf}] ll
      r2 = 8
      r3 = 0
      call bpf_ringbuf_reserve
      if r0 == 0 goto out
      r1 = 1
      *(u64 *)(r0 + 0) = r1
    out:
      r0 = 2
      exit`,
    code: "unreleased-ref",
    message: "Unreleased reference id=",
  },
  {
    name: "ring buffer record submitted",
    type: "xdp",
    src: (m) => `
      r1 = map[fd:${m.ringbuf}] ll
      r2 = 8
      r3 = 0
      call bpf_ringbuf_reserve
      if r0 == 0 goto out
      r1 = 1
      *(u64 *)(r0 + 0) = r1
      r1 = r0
      r2 = 0
      call bpf_ringbuf_submit
    out:
      r0 = 2
      exit`,
  },
  {
    name: "helper given a number for its map",
    type: "xdp",
    src: () => `
      r1 = 0
      r2 = r10
      r2 += -8
      *(u64 *)(r10 - 8) = r1
      call bpf_map_lookup_elem
      r0 = 2
      exit`,
    code: "helper-arg",
    message: "R1 type=scalar expected=map_ptr",
    // Before 5.18 the kernel called a scalar "inv".
    kernelMessage: /R1 type=(scalar|inv) expected=map_ptr/,
  },
  {
    name: "ring buffer helper given a hash map",
    type: "xdp",
    src: (m) => `
      r1 = map[fd:${m.hash}] ll
      r2 = 8
      r3 = 0
      call bpf_ringbuf_reserve
      r0 = 2
      exit`,
    code: "map-func",
    message: "cannot pass map_type 1 into func bpf_ringbuf_reserve#131",
  },
  {
    name: "pointer stored into a map (without CAP_PERFMON)",
    type: "socket_filter",
    privileged: false,
    src: (m) =>
      `${LOOKUP(m.hash)}
      if r0 == 0 goto out
      *(u64 *)(r0 + 0) = r0
    out:
      r0 = 0
      exit`,
    code: "ptr-leak",
    message: "R0 leaks addr into map",
  },
  {
    name: "cgroup skb returning 5",
    type: "cgroup_skb",
    src: () => `
      r0 = 5
      exit`,
    code: "return-range",
    message: "should have been in [0, 1]",
    // Before 6.x the kernel printed the range as (0x0; 0x1).
    kernelMessage: /should have been in (\[0, 1\]|\(0x0; 0x1\))/,
  },
  {
    name: "32-bit arithmetic on a pointer",
    type: "socket_filter",
    src: () => `
      r2 = r10
      w2 += 4
      r0 = 0
      exit`,
    code: "ptr-arith",
    message: "R2 32-bit pointer arithmetic prohibited",
  },
  {
    name: "stack write below the frame",
    type: "socket_filter",
    src: () => `
      r1 = 0
      *(u64 *)(r10 - 520) = r1
      r0 = 0
      exit`,
    code: "stack-bounds",
    message: "invalid write to stack R10 off=-520 size=8",
  },
  {
    name: "dead branch with an error is not flagged",
    type: "socket_filter",
    src: () => `
      r1 = 3
      if r1 > 5 goto bad
      r0 = 0
      exit
    bad:
      r0 = *(u64 *)(r5 + 0)
      exit`,
  },
];

function withMaps<T>(
  f: (
    m: { hash: number; array: number; ringbuf: number },
    maps: Record<number, ReturnType<BpfMap["describe"]>>,
  ) => T,
): T {
  using hash = BpfMap.create({ type: "hash", keySize: 4, valueSize: 16, maxEntries: 8 });
  using array = BpfMap.create({ type: "array", keySize: 4, valueSize: 48, maxEntries: 4 });
  using ringbuf = BpfMap.create({ type: "ringbuf", keySize: 0, valueSize: 0, maxEntries: 4096 });
  return f(
    { hash: hash.fd, array: array.fd, ringbuf: ringbuf.fd },
    { [hash.fd]: hash.describe(), [array.fd]: array.describe(), [ringbuf.fd]: ringbuf.describe() },
  );
}

for (const c of CASES) {
  test(`deep checker: ${c.name} (${c.code ?? "accepted"}), as the kernel says`, {
    skip: kernelSkip,
  }, () => {
    withMaps((fds, maps) => {
      const insns = assemble(c.src(fds));
      const priv = c.privileged ?? true;
      const findings = checkProgram({
        type: c.type,
        insns,
        license: "GPL",
        depth: "deep",
        maps,
        privileged: priv,
      });
      const err = findings.find((f) => f.severity === "error");
      if (c.code === undefined) {
        assert.equal(err, undefined, `unexpected finding ${JSON.stringify(err)}`);
      } else {
        assert.ok(err, "no finding");
        assert.equal(err.code, c.code);
        assert.ok(err.message.includes(c.message!), `${err.message} lacks ${c.message}`);
        assert.ok((err.explanation ?? "").length > 0);
      }
      if (!priv) return; // the kernel half runs as root here; the unprivileged verdicts come from the kernel's rules
      let log: string | undefined;
      try {
        Program.load({ type: c.type, insns, license: "GPL", check: false }).close();
      } catch (e) {
        log = (e as { log?: string }).log ?? String(e);
      }
      if (c.code === undefined) assert.equal(log, undefined, `kernel refused: ${log}`);
      else {assert.ok(
          c.kernelMessage ? c.kernelMessage.test(log ?? "") : log?.includes(c.message!),
          `kernel log lacks "${c.message}": ${log?.slice(-400)}`,
        );}
    });
  });
}

test("deep checker: an undescribed map gives a warning, not an error", () => {
  const insns = assemble(`${LOOKUP(77)}
    r0 = *(u64 *)(r0 + 0)
    exit`);
  const findings = checkProgram({ type: "xdp", insns, license: "GPL", depth: "deep" });
  assert.equal(findings.length, 1);
  assert.equal(findings[0].code, "map-undescribed");
  assert.equal(findings[0].severity, "warning");
});

test("deep checker: trace mode shows the path to the finding", () => {
  const insns = assemble(`
    r1 = 3
    r2 = r1
    r0 = *(u32 *)(r2 + 0)
    exit`);
  const r = deepCheck({
    def: getProgType("socket_filter")!,
    insns,
    loadContext: { license: "GPL", gplCompatible: true, privileged: true },
    trace: true,
  });
  assert.equal(r.findings[0].message, "R2 invalid mem access 'scalar'");
  assert.deepEqual(r.trace, ["0: R1=ctx()", "1: R1=3", "2: R1=3 R2=3"]);
});

test("deep checker: basic depth stays as it was", () => {
  const insns = assemble("exit");
  assert.deepEqual(checkProgram({ type: "xdp", insns, license: "GPL" }), []);
});

test(
  "Program.load: checkDepth 'deep' refuses before the kernel; the default leaves it to the kernel",
  { skip: kernelSkip },
  () => {
    withMaps((fds, maps) => {
      const insns = assemble(`${LOOKUP(fds.hash)}
      r0 = *(u64 *)(r0 + 0)
      exit`);
      assert.throws(
        () => Program.load({ type: "xdp", insns, license: "GPL", checkDepth: "deep", maps }),
        (e: Error) =>
          e.name === "PreloadCheckError" &&
          e.message.includes("R0 invalid mem access 'map_value_or_null'"),
      );
      assert.throws(
        () => Program.load({ type: "xdp", insns, license: "GPL" }),
        (e: Error) => e.name === "VerifierError",
      );
    });
  },
);

test("deep checker: the stored corpus keeps its verdicts (no kernel needed)", () => {
  const corpus = JSON.parse(
    readFileSync(join(repoRoot, "tests/fixtures/verifier/corpus.json"), "utf8"),
  ) as {
    seed: number;
    type: string;
    insns: string;
    kernel: string;
    checker: { code: string } | null;
  }[];
  const maps = {
    1: { type: "hash", keySize: 4, valueSize: 16, maxEntries: 8 },
    2: { type: "array", keySize: 4, valueSize: 48, maxEntries: 4 },
    3: { type: "ringbuf", keySize: 0, valueSize: 0, maxEntries: 4096 },
  };
  assert.ok(corpus.length >= 40);
  for (const c of corpus) {
    const bytes = new Uint8Array(c.insns.match(/../g)!.map((h) => parseInt(h, 16)));
    const err = checkProgram({ type: c.type, insns: bytes, license: "GPL", depth: "deep", maps })
      .find((f) => f.severity === "error");
    if (c.kernel === "accepted") assert.equal(err, undefined, `seed ${c.seed}: ${err?.message}`);
    if (c.checker) assert.equal(err?.code, c.checker.code, `seed ${c.seed}`);
  }
});
