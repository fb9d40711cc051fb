// The instruction builder (standalone constructors and the InsnBuilder class), the asm`` template and the
// validity check.
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  addrSpaceCast,
  alu32Imm,
  alu64Reg,
  Asm,
  asm,
  assemble,
  atomicOp,
  be,
  bswap,
  callHelper,
  callKfunc,
  callLocal,
  describeInsn,
  disassemble,
  exit,
  gotol,
  type Insn,
  InsnBuilder,
  insnError,
  isValidInsn,
  ja,
  jmp32Imm,
  jmpReg,
  ldAbs,
  ldBtfVar,
  ldFunc,
  ldImm64,
  ldInd,
  ldMapFd,
  ldMapIdx,
  ldMapIdxValue,
  ldMapValue,
  ldxMem,
  ldxMemSx,
  le,
  loadAcquire,
  mayGoto,
  mov32Imm,
  mov64Imm,
  mov64Reg,
  movsx32,
  movsx64,
  neg32,
  neg64,
  R0,
  R1,
  R10,
  R2,
  R3,
  R6,
  rawInsn,
  type Reg,
  stMem,
  storeRelease,
  stxMem,
} from "../lib/insn/mod.ts";

test("the brief's example: new InsnBuilder().mov64(R0, 0).exit().build()", () => {
  assert.deepEqual(new InsnBuilder().mov64(R0, 0).exit().build(), [
    { code: 0xb7, dst: 0, src: 0, off: 0, imm: 0 },
    { code: 0x95, dst: 0, src: 0, off: 0, imm: 0 },
  ]);
});

test("every standalone constructor encodes what its text says", () => {
  const cases: Array<[Insn | Insn[], string]> = [
    [mov64Imm(R0, -1), "r0 = -1"],
    [mov64Imm(R0, 0xffffffff), "r0 = -1"],
    [mov64Reg(R6, R1), "r6 = r1"],
    [mov32Imm(R0, 7), "w0 = 7"],
    [alu64Reg("sdiv", R1, R2), "r1 s/= r2"],
    [alu32Imm("smod", R1, 3), "w1 s%= 3"],
    [alu32Imm("arsh", R1, 3), "w1 s>>= 3"],
    [neg64(R1), "r1 = -r1"],
    [neg32(R1), "w1 = -w1"],
    [movsx64(R1, R2, 32), "r1 = (s32)r2"],
    [movsx32(R1, R2, 8), "w1 = (s8)w2"],
    [le(R1, 16), "r1 = le16 r1"],
    [be(R1, 64), "r1 = be64 r1"],
    [bswap(R1, 32), "r1 = bswap32 r1"],
    [addrSpaceCast(R1, R2, 1, 0), "r1 = addr_space_cast(r2, 1, 0)"],
    [ldxMem("h", R0, R1, 2), "w0 = *(u16 *)(r1 + 2)"],
    [ldxMemSx("w", R0, R1, -4), "r0 = *(s32 *)(r1 - 4)"],
    [stMem("dw", R10, -8, 5), "*(u64 *)(r10 - 8) = 5"],
    [stxMem("b", R10, R1, -1), "*(u8 *)(r10 - 1) = w1"],
    [atomicOp("w", "fetch_xor", R1, R2, 4), "w2 = atomic_fetch_xor((u32 *)(r1 + 4), w2)"],
    [atomicOp("dw", "cmpxchg", R1, R2, 0), "r0 = cmpxchg_64(r1 + 0, r0, r2)"],
    [atomicOp("dw", "or", R1, R2, 0), "lock *(u64 *)(r1 + 0) |= r2"],
    [loadAcquire("h", R0, R1, 0), "w0 = load_acquire((u16 *)(r1 + 0))"],
    [storeRelease("dw", R1, R2, 8), "store_release((u64 *)(r1 + 8), r2)"],
    [ldImm64(R1, 0x1122334455667788n), "r1 = 0x1122334455667788 ll"],
    [ldImm64(R1, -1), "r1 = -0x1 ll"],
    [ldMapFd(R1, 5), "r1 = map[fd:5] ll"],
    [ldMapFd(R1, { fd: 9 }), "r1 = map[fd:9] ll"],
    [ldMapValue(R1, { fd: 9 }, 16), "r1 = map_value[fd:9]+16 ll"],
    [ldMapIdx(R1, 2), "r1 = map[idx:2] ll"],
    [ldMapIdxValue(R1, 2, 4), "r1 = map_value[idx:2]+4 ll"],
    [ldBtfVar(R1, 1234), "r1 = btf_var[1234] ll"],
    [ldBtfVar(R1, 1234, 7), "r1 = btf_var[1234, fd:7] ll"],
    [ldFunc(R2, 5), "r2 = func[pc+5] ll"],
    [ldAbs("h", 12), "r0 = *(u16 *)skb[12]"],
    [ldInd("b", R6, 0), "r0 = *(u8 *)skb[r6]"],
    [ldInd("w", R6, -2), "r0 = *(u32 *)skb[r6 - 2]"],
    [ja(-2), "goto -2"],
    [gotol(100000), "gotol +100000"],
    [mayGoto(3), "may_goto +3"],
    [jmpReg("jsle", R1, R2, 1), "if r1 s<= r2 goto +1"],
    [jmp32Imm("jset", R1, 8, 0), "if w1 & 8 goto +0"],
    [callHelper("map_lookup_elem"), "call bpf_map_lookup_elem#1"],
    [callHelper("bpf_ktime_get_ns"), "call bpf_ktime_get_ns#5"],
    [callLocal(-7), "call pc-7"],
    [callKfunc(4321, 2), "call kfunc[4321, idx:2]"],
    [exit(), "exit"],
    [rawInsn(0xb7, 0, 0, 0, 1), "r0 = 1"],
  ];
  for (const [insn, text] of cases) {
    const list = Array.isArray(insn) ? insn : [insn];
    assert.equal(disassemble(list), text);
    assert.deepEqual(assemble(text), list, text);
    for (let i = 0; i < list.length; i += describeInsn(list, i).slots) {
      assert.equal(insnError(list, i), undefined, text);
    }
  }
});

test("InsnBuilder: labels resolve forward and backward, helpers by name, maps by object", () => {
  const map = { fd: 42 };
  const insns = new InsnBuilder()
    .st("w", R10, -4, 0)
    .mov64(R2, R10)
    .add64(R2, -4)
    .ldMapFd(R1, map)
    .call("map_lookup_elem")
    .jeq(R0, 0, "out")
    .label("loop")
    .ldx("w", R1, R0, 0)
    .add32(R1, 1)
    .stx("w", R0, R1, 0)
    .jlt(R1, 10, "loop")
    .mov64(R0, R1)
    .ja("done")
    .label("out")
    .mov64(R0, 0)
    .label("done")
    .exit()
    .build();
  assert.equal(
    disassemble(insns),
    [
      "*(u32 *)(r10 - 4) = 0",
      "r2 = r10",
      "r2 += -4",
      "r1 = map[fd:42] ll",
      "call bpf_map_lookup_elem#1",
      "if r0 == 0 goto +6",
      "w1 = *(u32 *)(r0 + 0)",
      "w1 += 1",
      "*(u32 *)(r0 + 0) = w1",
      "if r1 < 10 goto -4",
      "r0 = r1",
      "goto +1",
      "r0 = 0",
      "exit",
    ].join("\n"),
  );
});

test("InsnBuilder: gotol, may_goto, callLocal and ldFunc take labels too", () => {
  const insns = new InsnBuilder()
    .ldFunc(R2, "cb")
    .callLocal("cb")
    .mayGoto("end")
    .gotol("end")
    .label("cb")
    .mov64(R0, 0)
    .label("end")
    .exit()
    .build();
  assert.equal(
    disassemble(insns),
    "r2 = func[pc+4] ll\ncall pc+2\nmay_goto +2\ngotol +1\nr0 = 0\nexit",
  );
});

test("InsnBuilder: unknown and duplicate labels are errors that name the label", () => {
  assert.throws(() => new InsnBuilder().ja("nowhere").exit().build(), (e: unknown) => {
    assert.ok(e instanceof RangeError);
    assert.match(e.message, /unknown label "nowhere" \(used at slot 0\); defined labels: none/);
    return true;
  });
  assert.throws(
    () => new InsnBuilder().label("a").exit().label("a"),
    /duplicate label "a": defined at slot 0 and again at slot 1/,
  );
  const far = new InsnBuilder().ja("end");
  for (let i = 0; i < 40000; i++) far.mov64(R0, 0);
  assert.throws(
    () => far.label("end").exit().build(),
    /40000 slots from the jump at slot 0.*use gotol/,
  );
});

test("builder arguments are checked before anything is built", () => {
  assert.throws(() => mov64Imm(1 as unknown as Reg, 0), /dst must be one of R0..R10, got 1/);
  assert.throws(() => mov64Imm(R0, 2 ** 32), /not a 32-bit integer/);
  assert.throws(() => mov64Imm(R0, 1.5), /not a 32-bit integer/);
  assert.throws(() => ldxMem("w", R0, R1, 40000), /not a signed 16-bit integer/);
  assert.throws(() => ldxMem("q" as "w", R0, R1, 0), /size must be "b", "h", "w" or "dw"/);
  assert.throws(() => callHelper("no_such_helper"), /unknown helper "no_such_helper"/);
  assert.throws(() => ldMapFd(R1, { fd: "3" } as unknown as { fd: number }), /numeric fd/);
  assert.throws(() => ldImm64(R1, 2 ** 60), /pass a bigint/);
  assert.throws(() => ldImm64(R1, 1n << 64n), /does not fit in 64 bits/);
  assert.throws(() => movsx32(R1, R2, 32 as 8), /8 or 16/);
  assert.throws(() => addrSpaceCast(R1, R2, 1, 1), /between spaces 0 and 1/);
  assert.throws(() => new InsnBuilder().mov64(R0, R3).jeq(R0, 1, 1.5), /jump offset 1.5/);
});

test("asm`` interpolates numbers, registers and maps", () => {
  const map = { fd: 11 };
  const insns = asm`
    ${R1} = map[fd:${map}] ll
    r0 = ${-5}
    exit
  `;
  assert.equal(disassemble(insns), "r1 = map[fd:11] ll\nr0 = -5\nexit");
  assert.throws(() => asm`r0 = ${{}}`, /value #1 must be/);
});

test("describeInsn: kinds, slots, targets and reasons", () => {
  const prog = assemble(`
    r0 = 0
    r1 = 1 ll
    if r0 > 3 goto -2
    call pc+1
    call bpf_ktime_get_ns#5
    call kfunc[7]
    exit
  `);
  assert.deepEqual(describeInsn(prog, 0), { valid: true, kind: "alu", slots: 1 });
  assert.deepEqual(describeInsn(prog, 1), { valid: true, kind: "ld_imm64", slots: 2 });
  assert.deepEqual(describeInsn(prog, 3), { valid: true, kind: "jmp", slots: 1, target: 2 });
  assert.deepEqual(describeInsn(prog, 4), { valid: true, kind: "call_local", slots: 1, target: 6 });
  assert.equal(describeInsn(prog, 5).kind, "call_helper");
  assert.equal(describeInsn(prog, 6).kind, "call_kfunc");
  assert.equal(describeInsn(prog, 7).kind, "exit");
  // the second half of an ld_imm64 alone is not an instruction
  assert.equal(describeInsn(prog, 2).valid, false);
  const bad: Array<[Insn, RegExp]> = [
    [{ code: 0x95, dst: 0, src: 0, off: 0, imm: 1 }, /exit uses reserved fields/],
    [{ code: 0xb7, dst: 11, src: 0, off: 0, imm: 0 }, /r11 does not exist/],
    [{ code: 0xb7, dst: 0, src: 1, off: 0, imm: 0 }, /mov of an immediate uses reserved fields/],
    [{ code: 0xbc, dst: 0, src: 1, off: 32, imm: 0 }, /movsx width 32 is not 8, 16/],
    [{ code: 0x0f, dst: 0, src: 1, off: 1, imm: 0 }, /reserved fields \(off 1\)/],
    [{ code: 0xdf, dst: 0, src: 0, off: 0, imm: 16 }, /ALU64 has only bswap/],
    [{ code: 0xd4, dst: 0, src: 0, off: 0, imm: 8 }, /width 8 is not 16, 32 or 64/],
    [{ code: 0x99, dst: 0, src: 1, off: 0, imm: 0 }, /sign-extending load of 64 bits/],
    [{ code: 0xd3, dst: 1, src: 2, off: 0, imm: 0 }, /atomic read-modify-write of 1 bytes/],
    [{ code: 0xdb, dst: 1, src: 2, off: 0, imm: 0x02 }, /unknown atomic operation/],
    [{ code: 0x18, dst: 1, src: 7, off: 0, imm: 0 }, /not a known pseudo source/],
    [{ code: 0x18, dst: 1, src: 0, off: 0, imm: 0 }, /no second slot/],
    [{ code: 0x06, dst: 0, src: 0, off: 1, imm: 5 }, /gotol uses reserved fields \(off 1\)/],
    [{ code: 0x86, dst: 0, src: 0, off: 0, imm: 5 }, /call does not exist in class JMP32/],
    [{ code: 0x85, dst: 0, src: 3, off: 0, imm: 5 }, /call src 3/],
    [{ code: 0x85, dst: 0, src: 0, off: 2, imm: 5 }, /call uses reserved fields \(off 2\)/],
    [{ code: 0xe5, dst: 0, src: 1, off: 2, imm: 0 }, /not may_goto/],
    [{ code: 0xf5, dst: 0, src: 0, off: 0, imm: 0 }, /unknown jump operation/],
    [
      { code: 0x15, dst: 0, src: 1, off: 0, imm: 0 },
      /on an immediate uses reserved fields \(src 1\)/,
    ],
    [{ code: 0x38, dst: 0, src: 0, off: 0, imm: 0 }, /legacy packet load of 8 bytes/],
    [{ code: 0x30, dst: 1, src: 0, off: 0, imm: 0 }, /legacy packet load uses reserved fields/],
    [{ code: 0x62, dst: 1, src: 2, off: 0, imm: 0 }, /store of an immediate uses reserved fields/],
    [{ code: 0x8d, dst: 2, src: 0, off: 0, imm: 0 }, /callx/],
  ];
  for (const [insn, reason] of bad) {
    const d = describeInsn([insn], 0);
    assert.equal(d.valid, false, JSON.stringify(insn));
    assert.match(d.reason!, reason);
    assert.equal(isValidInsn([insn], 0), false);
  }
  assert.equal(describeInsn([{ code: 0x8d, dst: 2, src: 0, off: 0, imm: 0 }], 0).kind, "callx");
});

test("ld_imm64 pseudo sources: which second immediates are allowed", () => {
  const ld = (src: number, hi: number): Insn[] => [
    { code: 0x18, dst: 1, src, off: 0, imm: 3 },
    { code: 0, dst: 0, src: 0, off: 0, imm: hi },
  ];
  for (const src of [0, 2, 3, 6]) assert.equal(insnError(ld(src, 8), 0), undefined, `src ${src}`);
  for (const src of [1, 4, 5]) {
    assert.match(insnError(ld(src, 8), 0)!, /reserved fields \(second imm 8\)/);
  }
});

test("map references: fds by default, ids for instructions read back from the kernel, or names", () => {
  const insns = [...ldMapFd(R1, 5), ...ldMapValue(R2, 5, 16)];
  assert.equal(disassemble(insns), "r1 = map[fd:5] ll\nr2 = map_value[fd:5]+16 ll");
  assert.equal(
    disassemble(insns, { mapIds: true }),
    "r1 = map[id:5] ll\nr2 = map_value[id:5]+16 ll",
  );
  const named = disassemble(insns, { mapName: (fd) => (fd === 5 ? "events" : undefined) });
  assert.equal(named, "r1 = map[events] ll\nr2 = map_value[events]+16 ll");
  assert.equal(
    disassemble(insns, { syntax: "classic", mapIds: true }),
    "lddw %r1, map[id:5]\nlddw %r2, map_value[id:5]+16",
  );
  assert.deepEqual(assemble("r1 = map[id:5] ll\nr2 = map_value[id:5]+16 ll"), insns);
  assert.deepEqual(assemble(named, { maps: { events: { fd: 5 } } }), insns);
});

test("Asm is the deprecated name of InsnBuilder: same class, same programs", () => {
  assert.equal(Asm, InsnBuilder);
  const a = new Asm().mov64(R0, 7).exit().build();
  assert.ok(new Asm() instanceof InsnBuilder);
  assert.deepEqual(a, new InsnBuilder().mov64(R0, 7).exit().build());
});
