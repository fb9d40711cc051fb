import { test } from "node:test";
import assert from "node:assert/strict";
import { BpfCmd, BpfError } from "../mod.ts";
import { selectBackend, sys, UnsupportedPlatformError } from "../lib/sys/mod.ts";
import { kernelSkip } from "./util.ts";

test("the backend is chosen from the runtime, OS and architecture", () => {
  assert.equal(selectBackend({ Deno: { build: { os: "linux", arch: "x86_64" } } }).runtime, "deno");
  assert.equal(selectBackend({ Deno: { build: { os: "linux", arch: "aarch64" } } }).nr.bpf, 280);
  const bun = selectBackend({ Bun: {}, process: { platform: "linux", arch: "x64" } });
  assert.equal(bun.runtime, "bun");
  assert.equal(bun.nr.bpf, 321);
});

test("Node, other systems and other architectures get a clear error", () => {
  assert.throws(
    () => selectBackend({ process: { platform: "linux", arch: "x64" } }),
    (e: unknown) =>
      e instanceof UnsupportedPlatformError && /no FFI that tsbpf supports/.test(e.message),
  );
  assert.throws(
    () => selectBackend({ Deno: { build: { os: "darwin", arch: "aarch64" } } }),
    /only on Linux, not darwin/,
  );
  assert.throws(
    () => selectBackend({ Bun: {}, process: { platform: "linux", arch: "riscv64" } }),
    /no syscall numbers for architecture riscv64/,
  );
});

test("the running runtime's backend is opened on first use", { skip: kernelSkip }, () => {
  const s = sys();
  const g = globalThis as { Bun?: unknown };
  assert.equal(s.runtime, g.Bun !== undefined ? "bun" : "deno");
  assert.equal(sys(), s, "one backend per process");
});

test("errno comes back negated, and BpfError names it", { skip: kernelSkip }, () => {
  // An fd that is not open: EBADF.
  const attr = new Uint8Array(new ArrayBuffer(16));
  new DataView(attr.buffer).setUint32(0, 0x7ffffff0, true);
  const r = sys().bpf(BpfCmd.MAP_FREEZE, attr, 4);
  assert.equal(r, -9);
  const e = new BpfError(BpfCmd.MAP_FREEZE, -r);
  assert.equal(e.errnoName, "EBADF");
  assert.match(e.message, /^BPF_MAP_FREEZE failed: EBADF \(9, Bad file descriptor\)/);
  // An unknown command: EINVAL.
  assert.equal(sys().bpf(9999, attr, 16), -22);
});

test("a zero-copy view reads memory at an address", { skip: kernelSkip }, () => {
  const buf = new Uint8Array(new ArrayBuffer(8));
  buf.set([1, 2, 3, 4, 5, 6, 7, 8]);
  const view = new Uint8Array(sys().view(sys().addressOf(buf), 8));
  assert.deepEqual([...view], [1, 2, 3, 4, 5, 6, 7, 8]);
  buf[0] = 42;
  assert.equal(view[0], 42, "the view shares memory");
});

test("generic syscall returns results and -errno", { skip: kernelSkip }, () => {
  const s = sys();
  assert.ok(s.syscall(s.nr.getpid) > 0n);
  assert.equal(s.syscall(s.nr.close, 0x7ffffff0n), -9n);
});
