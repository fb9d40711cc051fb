import { test } from "node:test";
import assert from "node:assert/strict";
import { BpfCmd, BpfError, meaningfulTail, VerifierError } from "../mod.ts";

test("BpfError names the command and errno and gives a hint", () => {
  const e = new BpfError(BpfCmd.PROG_LOAD, 1);
  assert.equal(e.command, "BPF_PROG_LOAD");
  assert.equal(e.errno, 1);
  assert.equal(e.errnoName, "EPERM");
  assert.match(e.message, /^BPF_PROG_LOAD failed: EPERM \(1, Operation not permitted\)/);
  assert.match(e.message, /CAP_BPF and CAP_SYS_ADMIN/);
  // Hints depend on the command where the same errno means different things.
  assert.match(new BpfError(BpfCmd.PROG_LOAD, 28).message, /log buffer was too small/);
  assert.match(new BpfError(BpfCmd.PROG_TEST_RUN, 28).message, /data_out or ctx_out/);
  assert.match(new BpfError(BpfCmd.OBJ_PIN, 17).message, /already pinned at this path/);
  // As root here, the EPERM hint lists what the process holds.
  assert.match(new BpfError(BpfCmd.PROG_LOAD, 1).message, /it has (only CAP_|none of them)/);
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
