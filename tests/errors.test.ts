import { test } from "node:test";
import assert from "node:assert/strict";
import { BpfCmd, BpfError, effectiveCapabilities, meaningfulTail, VerifierError } from "../mod.ts";

/** Whether this process holds CAP_SYS_ADMIN, CAP_BPF, CAP_PERFMON and CAP_NET_ADMIN. */
function holdsAllBpfCaps(): boolean {
  const caps = effectiveCapabilities();
  return caps !== undefined && [21, 39, 38, 12].every((c) => ((caps >> BigInt(c)) & 1n) === 1n);
}

test("BpfError names the command and errno and gives a hint", () => {
  const e = new BpfError(BpfCmd.PROG_LOAD, 1);
  assert.equal(e.command, "BPF_PROG_LOAD");
  assert.equal(e.errno, 1);
  assert.equal(e.errnoName, "EPERM");
  assert.match(e.message, /^BPF_PROG_LOAD failed: EPERM \(1, Operation not permitted\)/);
  // Hints depend on the command where the same errno means different things.
  assert.match(new BpfError(BpfCmd.PROG_LOAD, 28).message, /log buffer was too small/);
  assert.match(new BpfError(BpfCmd.PROG_TEST_RUN, 28).message, /data_out or ctx_out/);
  assert.match(new BpfError(BpfCmd.OBJ_PIN, 17).message, /already pinned at this path/);
  // The EPERM hint never names a capability as missing when the process holds it: holding them
  // all, the refusal is the kernel's policy.
  const eperm = new BpfError(BpfCmd.PROG_LOAD, 1).message;
  if (holdsAllBpfCaps()) {
    assert.match(eperm, /holds CAP_SYS_ADMIN, CAP_BPF, CAP_PERFMON, CAP_NET_ADMIN/);
    assert.match(eperm, /refuses it for this process by policy/);
    assert.doesNotMatch(eperm, /needs CAP_/);
  } else {
    assert.match(eperm, /needs CAP_BPF and CAP_SYS_ADMIN/);
    assert.match(eperm, /it has (only CAP_|none of them)/);
  }
  assert.equal(new BpfError("mount", 2, "/x").message.startsWith("mount failed: ENOENT"), true);
});

test("the verifier log's meaningful tail leaves out blank lines and statistics", () => {
  const log = "0: R1=ctx() R10=fp0\n0: (95) exit\nR0 !read_ok\n\n" +
    "processed 1 insns (limit 1000000) max_states_per_insn 0 total_states 0\n" +
    "verification time 5 usec\nstack depth 0\n";
  assert.deepEqual(meaningfulTail(log), ["0: R1=ctx() R10=fp0", "0: (95) exit", "R0 !read_ok"]);
  const long = Array.from({ length: 40 }, (_, i) => `line ${i}`).join("\n");
  assert.deepEqual(meaningfulTail(long, 3), ["line 37", "line 38", "line 39"]);
  const e = new VerifierError(13, long);
  assert.equal(e.tail.length, 12);
  assert.match(e.message, /last 12 lines, 28 more in \.log/);
  assert.equal(e.log, long);
  assert.equal(e.errnoName, "EACCES");
});
