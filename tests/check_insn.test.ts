// The checker's instruction-validity findings: each with a case it must report (the kernel's
// message, the instruction index) and a close case it must not.
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  checkProgram,
  type Finding,
  MAX_INSNS_PRIVILEGED,
  VALID_OPCODES,
} from "../lib/check/mod.ts";
import { encodeInsns, type Insn } from "../lib/insn/insn.ts";

const I = (code: number, dst = 0, src = 0, off = 0, imm = 0): Insn => ({
  code,
  dst,
  src,
  off,
  imm,
});
const MOV0 = I(0xb7); // r0 = 0
const EXIT = I(0x95);

function check(insns: Insn[], extra: Partial<Parameters<typeof checkProgram>[0]> = {}): Finding[] {
  return checkProgram({ type: "socket_filter", insns, license: "GPL", ...extra });
}
/** `[index, message]` of every finding. */
function found(
  insns: Insn[],
  extra: Partial<Parameters<typeof checkProgram>[0]> = {},
): [number, string][] {
  return check(insns, extra).map((f) => [f.index, f.message]);
}
/** The program `body; r0 = 0; exit` is accepted by the checker. */
function clean(body: Insn[], extra: Partial<Parameters<typeof checkProgram>[0]> = {}): void {
  assert.deepEqual(found([...body, MOV0, EXIT], extra), []);
}

test("unknown opcode", () => {
  assert.deepEqual(found([I(0x00), MOV0, EXIT]), [[0, "unknown opcode 00"]]);
  assert.deepEqual(found([MOV0, I(0xdf, 0, 0, 0, 16), EXIT]), [[1, "unknown opcode df"]]); // ALU64 END TO_BE
  assert.deepEqual(found([MOV0, I(0x8d), EXIT]), [[1, "unknown opcode 8d"]]); // callx
  clean([I(0xd7, 1, 0, 0, 64)]); // bswap64
  assert.equal(VALID_OPCODES.reduce((a, b) => a + b, 0), 128);
});

test("reserved fields, in the kernel's words for each class", () => {
  const cases: [Insn, string][] = [
    [I(0x87, 0, 1), "BPF_NEG uses reserved fields"],
    [I(0xd4, 0, 0, 0, 8), "BPF_END uses reserved fields"],
    [I(0xbf, 0, 1, 3), "BPF_MOV uses reserved fields"],
    [I(0xb7, 0, 1), "BPF_MOV uses reserved fields"],
    [I(0x0f, 0, 1, 0, 5), "BPF_ALU uses reserved fields"],
    [I(0x07, 0, 0, 1, 5), "BPF_ALU uses reserved fields"], // off 1 only for sdiv/smod
    [I(0x7b, 10, 0, -8, 1), "BPF_STX uses reserved fields"],
    [I(0x7a, 10, 1, -8, 1), "BPF_ST uses reserved fields"],
    [I(0x79, 0, 10, -8, 1), "BPF_LDX uses reserved fields"],
    [I(0x85, 1, 0, 0, 1), "BPF_CALL uses reserved fields"],
    [I(0x05, 0, 1, 0, 0), "BPF_JA uses reserved fields"],
    [I(0x1d, 0, 0, 0, 1), "BPF_JMP/JMP32 uses reserved fields"],
    [I(0x15, 0, 1, 0, 1), "BPF_JMP/JMP32 uses reserved fields"],
    [I(0x30, 1, 0, 0, 0), "BPF_LD_[ABS|IND] uses reserved fields"],
  ];
  for (const [insn, msg] of cases) {
    const f = check([MOV0, insn, MOV0, EXIT]);
    assert.deepEqual(
      f.map((x) => [x.index, x.code, x.message]),
      [[1, "reserved-fields", msg]],
      msg,
    );
  }
  assert.deepEqual(found([MOV0, I(0x95, 0, 0, 0, 1)]), [[1, "BPF_EXIT uses reserved fields"]]);
  assert.deepEqual(found([I(0x18, 1, 0, 1, 1), I(0), MOV0, EXIT]), [[
    0,
    "BPF_LD_IMM64 uses reserved fields",
  ]]);
  // Close but valid: signed division (off 1), sign-extending moves (off 8/16/32), ja with off.
  clean([
    MOV0,
    I(0x3f, 0, 0, 1, 0),
    I(0x37, 0, 0, 1, 3),
    I(0xbf, 1, 0, 8),
    I(0xbf, 1, 0, 32),
    I(0x05, 0, 0, 0),
  ]);
});

test("registers above r10 and writes to the frame pointer", () => {
  assert.deepEqual(found([I(0xb7, 11), MOV0, EXIT]), [[0, "R11 is invalid"]]);
  assert.deepEqual(found([I(0xbf, 1, 15), MOV0, EXIT]), [[0, "R15 is invalid"]]);
  assert.deepEqual(found([MOV0, I(0x15, 12, 0, 0, 0), EXIT]), [[1, "R12 is invalid"]]);
  assert.deepEqual(found([I(0xb7, 10), MOV0, EXIT]), [[0, "frame pointer is read only"]]);
  assert.deepEqual(found([I(0x79, 10, 10, -8), MOV0, EXIT]), [[0, "frame pointer is read only"]]);
  assert.deepEqual(found([I(0x07, 10, 0, 0, -8), MOV0, EXIT]), [[0, "frame pointer is read only"]]);
  assert.deepEqual(found([MOV0, I(0xdb, 1, 10, 0, 0xe1), EXIT]), [[
    1,
    "frame pointer is read only",
  ]]); // xchg into r10
  const f = check([I(0xb7, 10), MOV0, EXIT]);
  assert.equal(f[0].code, "fp-write");
  assert.equal(check([I(0xb7, 11), MOV0, EXIT])[0].code, "invalid-reg");
  // Reading r10, storing through it, copying it: fine.
  clean([I(0xbf, 1, 10), I(0x7b, 10, 1, -8), I(0x7a, 10, 0, -16, 1), I(0x79, 2, 10, -8)]);
});

test("jumps out of range, out of a subprogram, into the middle of ld_imm64", () => {
  assert.deepEqual(found([MOV0, I(0x05, 0, 0, 5), EXIT]), [[
    1,
    "jump out of range from insn 1 to 7",
  ], [
    2,
    "unreachable insn 2",
  ]]);
  assert.deepEqual(found([MOV0, I(0x15, 0, 0, -3, 0), EXIT]), [[
    1,
    "jump out of range from insn 1 to -1",
  ]]);
  assert.deepEqual(found([MOV0, I(0x06, 0, 0, 0, 9), EXIT]), [[
    1,
    "jump out of range from insn 1 to 11",
  ], [
    2,
    "unreachable insn 2",
  ]]); // gotol
  // main: call +2 (subprog at 3); a jump from main to 4 leaves main.
  const sub = [I(0x85, 0, 1, 0, 2), I(0x15, 0, 0, 2, 0), EXIT, MOV0, EXIT];
  assert.deepEqual(found(sub), [[1, "jump out of range from insn 1 to 4"]]);
  const mid = [MOV0, I(0x05, 0, 0, 1), I(0x18, 1, 0, 0, 1), I(0), EXIT];
  assert.deepEqual(found(mid), [[2, "unreachable insn 2"]]);
  const mid2 = [MOV0, I(0x15, 0, 0, 1, 0), I(0x18, 1, 0, 0, 1), I(0), EXIT];
  assert.deepEqual(found(mid2), [[2, "jump into the middle of ldimm64 insn 2"]]);
  assert.equal(check(mid2)[0].code, "ldimm64-middle");
  clean([I(0x15, 0, 0, 1, 0), I(0x05, 0, 0, 0), I(0x18, 1, 0, 0, 1), I(0)]);
});

test("ld_imm64 without its second half, and unknown pseudo sources", () => {
  assert.deepEqual(found([I(0x18, 1, 0, 0, 1), MOV0, EXIT]), [[0, "invalid bpf_ld_imm64 insn"]]);
  assert.deepEqual(found([I(0x18, 1, 0, 0, 1), I(0, 1), MOV0, EXIT]), [[
    0,
    "invalid bpf_ld_imm64 insn",
  ]]);
  assert.deepEqual(found([MOV0, EXIT, I(0x18, 1, 0, 0, 1)]).map((x) => x[1]), [
    "last insn is not an exit or jmp",
    "invalid bpf_ld_imm64 insn",
    "unreachable insn 2",
  ]);
  assert.deepEqual(found([I(0x18, 1, 7, 0, 1), I(0), MOV0, EXIT]), [[
    0,
    "unrecognized bpf_ld_imm64 insn",
  ]]);
  assert.deepEqual(found([I(0x18, 1, 1, 0, 3), I(0, 0, 0, 0, 1), MOV0, EXIT]), [[
    0,
    "unrecognized bpf_ld_imm64 insn",
  ]]);
  // A map fd, a map value with an offset: encodings the checker accepts (the fds are the kernel's to check).
  clean([I(0x18, 1, 1, 0, 3), I(0), I(0x18, 2, 2, 0, 3), I(0, 0, 0, 0, 16)]);
});

test("falling off the end, and off the end of a subprogram", () => {
  assert.deepEqual(found([MOV0]), [[0, "last insn is not an exit or jmp"]]);
  assert.deepEqual(found([I(0x85, 0, 1, 0, 1), EXIT, MOV0, I(0x07)]), [[
    3,
    "last insn is not an exit or jmp",
  ]]);
  assert.deepEqual(found([I(0x85, 0, 1, 0, 1), MOV0, MOV0, EXIT]), [[
    1,
    "last insn is not an exit or jmp",
  ]]);
  assert.deepEqual(found([MOV0, I(0x15, 0, 0, 1, 0), EXIT, I(0x05, 0, 0, -2)]), []); // ends with a jump
});

test("unreachable code: one finding per unreachable run", () => {
  assert.deepEqual(found([MOV0, EXIT, MOV0, MOV0, EXIT]), [[2, "unreachable insn 2"]]);
  assert.deepEqual(found([MOV0, I(0x05, 0, 0, 1), MOV0, I(0x05, 0, 0, 1), MOV0, EXIT]), [[
    2,
    "unreachable insn 2",
  ], [
    4,
    "unreachable insn 4",
  ]]);
  clean([I(0x15, 0, 0, 1, 0), MOV0]);
});

test("shifts by an immediate out of range", () => {
  assert.deepEqual(found([MOV0, I(0x67, 0, 0, 0, 64), EXIT]), [[1, "invalid shift 64"]]);
  assert.deepEqual(found([MOV0, I(0x64, 0, 0, 0, 32), EXIT]), [[1, "invalid shift 32"]]);
  assert.deepEqual(found([MOV0, I(0xc7, 0, 0, 0, -1), EXIT]), [[1, "invalid shift -1"]]);
  assert.equal(check([MOV0, I(0x77, 0, 0, 0, 99), EXIT])[0].code, "invalid-shift");
  clean([I(0x67, 0, 0, 0, 63), I(0x64, 0, 0, 0, 31), I(0x6f, 0, 0, 0, 0)]); // by a register: any value
});

test("division and modulo by an immediate zero; by a register is legal", () => {
  for (const code of [0x37, 0x97, 0x34, 0x94]) {
    assert.deepEqual(found([MOV0, I(code, 0, 0, 0, 0), EXIT]), [[1, "div by zero"]]);
  }
  assert.deepEqual(found([MOV0, I(0x37, 0, 0, 1, 0), EXIT]), [[1, "div by zero"]]); // sdiv
  assert.equal(check([MOV0, I(0x37), EXIT])[0].code, "div-by-zero");
  clean([I(0xb7, 1), I(0x3f, 0, 1), I(0x9f, 0, 1), I(0x37, 0, 0, 0, 7)]);
});

test("too many instructions, and none at all", () => {
  const tooBig = new Uint8Array((MAX_INSNS_PRIVILEGED + 1) * 8);
  const f = checkProgram({ type: "xdp", insns: tooBig, license: "GPL" });
  assert.deepEqual(f.map((x) => x.code), ["too-large"]);
  assert.match(f[0].message, /BPF program is too large: 1000001 insns, the limit is 1000000/);
  const unpriv = Array.from({ length: 4097 }, () => MOV0);
  assert.equal(check(unpriv, { privileged: false })[0].code, "too-large");
  assert.deepEqual(check([]).map((x) => x.code), ["no-insns"]);
  // Exactly the limit is allowed.
  const max = new Uint8Array(MAX_INSNS_PRIVILEGED * 8);
  for (let i = 0; i < MAX_INSNS_PRIVILEGED - 1; i++) max[i * 8] = 0xb7;
  max[(MAX_INSNS_PRIVILEGED - 1) * 8] = 0x95;
  assert.deepEqual(checkProgram({ type: "xdp", insns: max, license: "GPL" }), []);
});

test("calls: invalid destinations, unknown and unavailable helpers", () => {
  assert.deepEqual(found([I(0x85, 0, 1, 0, 50), MOV0, EXIT]), [[0, "call to invalid destination"]]);
  assert.deepEqual(found([I(0x85, 0, 0, 0, 212), MOV0, EXIT]), [[0, "invalid func unknown#212"]]);
  assert.deepEqual(found([I(0x85, 0, 0, 0, -7), MOV0, EXIT]), [[0, "invalid func unknown#-7"]]);
  assert.deepEqual(found([I(0x85, 0, 0, 0, 0), MOV0, EXIT]), [[
    0,
    "program of this type cannot use helper bpf_unspec#0",
  ]]);
  assert.deepEqual(found([I(0x85, 0, 0, 0, 44), MOV0, EXIT]), [[
    0,
    "program of this type cannot use helper bpf_xdp_adjust_head#44",
  ]]);
  clean([I(0x85, 0, 0, 0, 44)], { type: "xdp" });
  assert.deepEqual(
    found([I(0x85, 0, 0, 0, 148), MOV0, EXIT], {
      type: "tracing",
      expectedAttachType: 28,
      attachTo: "task",
    }),
    [[0, "helper call might sleep in a non-sleepable prog"]],
  );
  clean([I(0x85, 0, 0, 0, 148)], {
    type: "tracing",
    expectedAttachType: 28,
    attachTo: "task",
    flags: 16,
  });
});

test("legacy packet loads only where the kernel allows them", () => {
  const ld = [I(0xbf, 6, 1), I(0x30, 0, 0, 0, 12), EXIT];
  assert.deepEqual(found(ld), []);
  assert.deepEqual(found(ld, { type: "xdp" }), [[
    1,
    "BPF_LD_[ABS|IND] instructions not allowed for this program type",
  ]]);
  assert.deepEqual(found([I(0xbf, 6, 1), I(0x40, 0, 11, 0, 0), EXIT]), [[1, "R11 is invalid"]]);
});

test("atomics: opcodes and operand sizes", () => {
  assert.deepEqual(found([MOV0, I(0xdb, 10, 0, -8, 0x77), EXIT]), [[
    1,
    "BPF_ATOMIC uses invalid atomic opcode 77",
  ]]);
  assert.deepEqual(found([MOV0, I(0xdb, 10, 0, -8, -8), EXIT]), [[
    1,
    "BPF_ATOMIC uses invalid atomic opcode fffffff8",
  ]]);
  assert.deepEqual(found([MOV0, I(0xd3, 10, 0, -8, 0x00), EXIT]), [[
    1,
    "invalid atomic operand size",
  ]]);
  clean([
    I(0xdb, 10, 1, -8, 0x01),
    I(0xd3, 0, 10, -8, 0x100),
    I(0xcb, 10, 1, -8, 0x110),
    I(0xdb, 10, 1, -8, 0xf1),
  ]);
});

test("may_goto", () => {
  assert.deepEqual(found([MOV0, I(0xe5, 0, 0, 0, 1), EXIT]), [[1, "invalid may_goto imm 1"]]);
  assert.deepEqual(found([MOV0, I(0xe5, 1, 0, 0, 0), EXIT]), [[1, "invalid may_goto imm 0"]]);
  clean([I(0xe5, 0, 0, 0, 0), I(0xe5, 0, 0, 1, 0)]);
});

test("unprivileged loads: loops and BPF-to-BPF calls need CAP_BPF", () => {
  const loop = [MOV0, I(0x07, 0, 0, 0, 1), I(0xa5, 0, 0, -2, 10), EXIT];
  assert.deepEqual(found(loop), []);
  assert.deepEqual(found(loop, { privileged: false }), [[2, "back-edge from insn 2 to 1"]]);
  const call = [I(0x85, 0, 1, 0, 1), EXIT, MOV0, EXIT];
  assert.deepEqual(found(call), []);
  assert.deepEqual(found(call, { privileged: false }), [[
    0,
    "loading/calling other bpf or kernel functions are allowed for CAP_BPF and CAP_SYS_ADMIN",
  ]]);
});

test("bytes and Insn objects give the same findings; every finding says where", () => {
  const prog = [I(0x00), I(0xb7, 10), I(0x67, 0, 0, 0, 70), I(0x85, 0, 0, 0, 999), MOV0];
  const a = check(prog);
  const b = checkProgram({ type: "socket_filter", insns: encodeInsns(prog), license: "GPL" });
  assert.deepEqual(a, b);
  assert.deepEqual(a.map((f) => f.index), [0, 1, 2, 3, 4]);
  for (const f of a) {
    assert.equal(f.severity, "error");
    assert.match(f.code, /^[a-z0-9-]+$/);
  }
  assert.throws(
    () => checkProgram({ type: "xdp", insns: new Uint8Array(12), license: "GPL" }),
    /multiple of 8/,
  );
});
