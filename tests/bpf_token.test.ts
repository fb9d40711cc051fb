/**
 * BpfToken: the refusals on the host (initial user namespace), and the whole delegation inside a
 * new user namespace: the child opens a BPF filesystem context, this process (root) sets the
 * delegation options on it through pidfd_getfd, the child mounts it, makes a token, and creates a
 * map and loads a program that it could not without the token.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { join } from "node:path";
import { BpfToken } from "../lib/token.ts";
import { BpfError } from "../lib/errors.ts";
import { cString, retain } from "../lib/sys/memory.ts";
import { sys } from "../lib/sys/mod.ts";
import { BPF_FDS, fdsOpenedSince, openFds, repoRoot, unlessProfile } from "./util.ts";

/** BPF tokens came with Linux 6.9: the kernel's BTF then has bpf_token_create. */
const tokenSkip: string | false = unlessProfile((p) => p.kfunc("bpf_token_create"));

const isDeno = typeof (globalThis as { Deno?: unknown }).Deno !== "undefined";
const CHILD = join(repoRoot, "tests", "fixtures", "token_child.ts");

test("BpfToken.create on the host's bpffs: EOPNOTSUPP (no token in the initial namespace)", {
  skip: tokenSkip,
}, () => {
  const before = openFds();
  assert.throws(() => BpfToken.create("/sys/fs/bpf"), (e) => {
    assert.ok(e instanceof BpfError);
    assert.equal(e.errnoName, "EOPNOTSUPP");
    assert.match(e.message, /BPF_TOKEN_CREATE failed: EOPNOTSUPP.*made inside a user namespace/);
    return true;
  });
  assert.throws(() => BpfToken.create("/proc"), (e) => {
    assert.ok(e instanceof BpfError);
    assert.equal(e.errnoName, "EINVAL");
    assert.match(e.message, /not the root of a BPF filesystem/);
    return true;
  });
  assert.throws(() => BpfToken.create("/tsbpf/no/such/dir"), (e) => {
    assert.ok(e instanceof BpfError);
    assert.equal(e.errnoName, "ENOENT");
    return true;
  });
  assert.throws(() => BpfToken.create(-1), RangeError);
  assert.deepEqual(fdsOpenedSince(before, BPF_FDS), []);
});

/** Why the test cannot make a user namespace here, or false. */
const usernsSkip: string | false = tokenSkip || (() => {
  const r = spawnSync("unshare", ["-Urm", "true"], { encoding: "utf8" });
  if (r.error) return `unshare(1) is not available: ${r.error.message}`;
  if (r.status !== 0) return `cannot make a user namespace here: ${r.stderr.trim()}`;
  return false;
})();

function setDelegation(pid: number, childFd: number): void {
  const s = sys();
  const pidfd = s.syscall(s.nr.pidfd_open, BigInt(pid), 0n);
  assert.ok(pidfd >= 0n, `pidfd_open: errno ${-pidfd}`);
  const fd = s.syscall(s.nr.pidfd_getfd, pidfd, BigInt(childFd), 0n);
  s.close(Number(pidfd));
  assert.ok(fd >= 0n, `pidfd_getfd: errno ${-fd}`);
  try {
    for (const key of ["delegate_cmds", "delegate_maps", "delegate_progs", "delegate_attachs"]) {
      const k = cString(key), v = cString("any");
      const r = s.syscall(
        s.nr.fsconfig,
        fd,
        1n, /* SET_STRING */
        s.addressOf(k),
        s.addressOf(v),
        0n,
      );
      retain(k, v);
      assert.equal(r, 0n, `fsconfig ${key}: errno ${-r}`);
    }
    const r = s.syscall(s.nr.fsconfig, fd, 6n, /* CMD_CREATE */ 0n, 0n, 0n);
    assert.equal(r, 0n, `fsconfig create: errno ${-r}`);
  } finally {
    s.close(Number(fd));
  }
}

test("BpfToken in a user namespace: a delegating bpffs lets it create a map and load a program", {
  skip: usernsSkip,
}, async () => {
  const runtime = isDeno
    ? [process.execPath, "run", "--allow-all", "--no-check", CHILD]
    : [process.execPath, CHILD];
  const child = spawn("unshare", ["-Urm", ...runtime], { stdio: ["pipe", "pipe", "pipe"] });
  let out = "", err = "", sent = false;
  const done = new Promise<number | null>((resolve) => child.on("close", resolve));
  child.stderr.on("data", (d) => err += String(d));
  child.stdout.on("data", (d) => {
    out += String(d);
    if (!sent && out.includes("\n")) {
      sent = true;
      try {
        setDelegation(child.pid!, JSON.parse(out.split("\n")[0]).fsfd);
      } finally {
        child.stdin.end("go\n");
      }
    }
  });
  const code = await done;
  assert.equal(code, 0, `child failed: ${err}`);
  const result = JSON.parse(out.trim().split("\n").at(-1)!);
  assert.deepEqual(result, { withoutToken: "EPERM", mapValue: "42", retval: 7 });
});
