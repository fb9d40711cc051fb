import { test } from "node:test";
import assert from "node:assert/strict";
import {
  BpfCmd,
  BpfError,
  effectiveCapabilities,
  meaningfulTail,
  refusedInsn,
  VerifierError,
} from "../mod.ts";

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

test("the refused instruction and its C source line, when the kernel's log lacks it", () => {
  // A 6.1 log prints the source line without " @ file:line"; the caller's line_info adds it.
  const old = "0: R1=ctx(off=0,imm=0) R10=fp0\n; return data[14];\n0: (61) r1 = *(u32 *)(r1 +0)\n" +
    "1: (71) r1 = *(u8 *)(r1 +14)\ninvalid access to packet, off=14 size=1\nprocessed 2 insns\n";
  assert.equal(refusedInsn(old), 1);
  const source = { file: "prog.bpf.c", line: 11, column: 9, text: "  return data[14];" };
  const e = new VerifierError(13, old, false, source);
  assert.equal(e.insn, 1);
  assert.deepEqual(e.source, source);
  assert.match(e.message, /; return data\[14\]; @ prog\.bpf\.c:11:9/);
  // A log that already names the position is not repeated.
  const now = old.replace("; return data[14];", "; return data[14]; @ prog.bpf.c:11");
  assert.doesNotMatch(new VerifierError(13, now, false, source).message, /refused instruction/);
  // A structured report names the instruction under "At:"; a log without a walk names none.
  assert.equal(refusedInsn("Verification failed: x\nAt:\n    insn 7\n    >>> 7 | (95) exit\n"), 7);
  assert.equal(refusedInsn("unknown opcode 00\nprocessed 0 insns\n"), undefined);
  assert.equal(new VerifierError(22, "unknown opcode 00\n").insn, undefined);
});

test("a structured (7.x) report: the verifier's message, the headline and the suggestion", () => {
  const log = "0: R1=ctx() R10=fp0\n0: (95) exit\nR0 !read_ok\n\n" +
    "Verification failed: Register Type Safety: Unreadable register\n\nReason:\n" +
    "  R0 has never been initialized on this path.\n\nAt:\n  insn 0\n" +
    "       | ^-- error: R0 is not readable\n  Instruction context:\n  >>> 0 | (95) exit\n\n" +
    "Suggestion:\n  Initialize R0 on every path before this instruction.\n\n" +
    "processed 1 insns (limit 1000000)\n";
  assert.deepEqual(meaningfulTail(log), [
    "0: R1=ctx() R10=fp0",
    "0: (95) exit",
    "R0 !read_ok",
    "Verification failed: Register Type Safety: Unreadable register",
    "Suggestion: Initialize R0 on every path before this instruction.",
  ]);
  const e = new VerifierError(13, log);
  assert.match(e.message, /R0 !read_ok/);
  assert.equal(e.insn, 0);
});
