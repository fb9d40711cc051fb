/** USDT notes, argument specs and the __bpf_usdt_spec encoding, without the kernel. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import {
  ElfError,
  EM_AARCH64,
  EM_X86_64,
  encodeUsdtSpec,
  ObjectSpec,
  parseUsdtArgs,
  parseUsdtNotes,
  USDT_MAX_ARGS,
  USDT_SPEC_SIZE,
  UsdtArgType,
  UsdtSpecError,
} from "../lib/elf/mod.ts";
import type { BtfStruct } from "../lib/btf/mod.ts";
import { repoRoot } from "./util.ts";
import { makeElf } from "./usdt_util.ts";

const FIXTURES = `${repoRoot}/tests/fixtures/usdt`;

test("parseUsdtNotes: the fixture target's probes, each at a nop, the semaphore in .probes", () => {
  const bytes = readFileSync(`${FIXTURES}/usdt_target`);
  const notes = parseUsdtNotes(bytes);
  assert.equal(notes.machine, EM_X86_64);
  assert.equal(notes.type, 3); // a PIE
  const names = notes.probes.map((p) => `${p.provider}:${p.name}`).sort();
  assert.deepEqual(names, [
    "tsbpf:args",
    "tsbpf:guarded",
    "tsbpf:stack",
    "tsbpf:twice",
    "tsbpf:twice",
  ]);
  for (const p of notes.probes) {
    assert.equal(bytes[p.fileOffset], 0x90, `${p.name}: no nop at 0x${p.fileOffset.toString(16)}`);
    assert.ok(p.noteOffset > 0);
  }
  const args = notes.probes.find((p) => p.name === "args")!;
  assert.equal(args.args.split(" ").length, 8);
  assert.equal(args.semaphore, 0);
  assert.equal(args.semaphoreOffset, 0);
  const guarded = notes.probes.find((p) => p.name === "guarded")!;
  assert.ok(guarded.semaphore > 0);
  // The semaphore is an initialised u16 of zero in the writable data of the file.
  assert.ok(guarded.semaphoreOffset > guarded.fileOffset);
  assert.equal(bytes[guarded.semaphoreOffset] | bytes[guarded.semaphoreOffset + 1], 0);
  // Both sites of twice, distinct addresses and argument strings.
  const twice = notes.probes.filter((p) => p.name === "twice");
  assert.notEqual(twice[0].fileOffset, twice[1].fileOffset);
  assert.deepEqual(twice.map((p) => p.args.split(" ")[0]).sort(), ["-4@$1", "-4@$2"]);
});

test("parseUsdtNotes: addresses shift by .stapsdt.base's move; offsets through PT_LOAD", () => {
  const probe = { provider: "p", name: "n", args: "-4@%eax" };
  // Not prelinked: the note's base is .stapsdt.base's address.
  const plain = parseUsdtNotes(makeElf([{ ...probe, pc: 0x400100, base: 0x400800, sema: 0 }]));
  assert.equal(plain.probes.length, 1);
  assert.equal(plain.probes[0].address, 0x400100);
  assert.equal(plain.probes[0].fileOffset, 0x100);
  assert.equal(plain.probes[0].args, "-4@%eax");
  // Prelinked by +0x200: the note still says 0x400600, the section now is at 0x400800.
  const moved = parseUsdtNotes(
    makeElf([{ ...probe, pc: 0x400100 - 0x200, base: 0x400600, sema: 0x601010 - 0x200 }]),
  );
  assert.equal(moved.probes[0].address, 0x400100);
  assert.equal(moved.probes[0].fileOffset, 0x100);
  assert.equal(moved.probes[0].semaphore, 0x601010);
  assert.equal(moved.probes[0].semaphoreOffset, 0x1010);
  // No notes at all.
  assert.deepEqual(parseUsdtNotes(makeElf([])).probes, []);
});

test("parseUsdtNotes: malformed notes and unmapped addresses are ElfErrors with offsets", () => {
  const base = { provider: "p", name: "n", args: "", base: 0x400800, sema: 0 };
  assert.throws(
    () => parseUsdtNotes(makeElf([{ ...base, pc: 0x700000 }])),
    (e: unknown) =>
      e instanceof ElfError && /probe p:n: address 0x700000 is in no executable PT_LOAD/.test(
        e.message,
      ) && e.offset > 0,
  );
  assert.throws(
    () => parseUsdtNotes(makeElf([{ ...base, pc: 0x400100, sema: 0x900000 }])),
    /probe p:n: semaphore 0x900000 is in no PT_LOAD segment/,
  );
  // A descriptor size running past the section.
  const bytes = makeElf([{ ...base, pc: 0x400100 }]);
  const v = new DataView(bytes.buffer);
  const noteAt = 0x1140 + 20; // after the GNU note
  v.setUint32(noteAt + 4, 0x1000, true);
  assert.throws(() => parseUsdtNotes(bytes), /note runs past its section/);
  // Strings without their NULs.
  const cut = makeElf([{ ...base, pc: 0x400100 }]);
  new DataView(cut.buffer).setUint32(noteAt + 4, 24 + 2, true);
  assert.throws(() => parseUsdtNotes(cut), ElfError);
  assert.throws(() => parseUsdtNotes(new Uint8Array(10)), ElfError);
});

test("parseUsdtArgs: x86_64 constants, registers of every width, memory", () => {
  const a = parseUsdtArgs("-4@$-9 8@%rax -4@%esi -1@%al -2@%dx 8@%r9 -4@%r10d 1@%sil", EM_X86_64);
  const brief = a.map((x) => [x.size, x.signed, x.type, x.register, x.regOffset, x.value]);
  assert.deepEqual(brief, [
    [4, true, UsdtArgType.CONST, undefined, 0, -9n],
    [8, false, UsdtArgType.REG, "rax", 80, 0n],
    [4, true, UsdtArgType.REG, "rsi", 104, 0n],
    [1, true, UsdtArgType.REG, "rax", 80, 0n],
    [2, true, UsdtArgType.REG, "rdx", 96, 0n],
    [8, false, UsdtArgType.REG, "r9", 64, 0n],
    [4, true, UsdtArgType.REG, "r10", 56, 0n],
    [1, false, UsdtArgType.REG, "rsi", 104, 0n],
  ]);
  const m = parseUsdtArgs("8@-8(%rbp) -4@-1204(%rbp) 8@(%rdi) 4@0x10(%rsp) 8@$0x7fff", EM_X86_64);
  assert.deepEqual(m.map((x) => [x.type, x.register, x.regOffset, x.value]), [
    [UsdtArgType.REG_DEREF, "rbp", 32, -8n],
    [UsdtArgType.REG_DEREF, "rbp", 32, -1204n],
    [UsdtArgType.REG_DEREF, "rdi", 112, 0n],
    [UsdtArgType.REG_DEREF, "rsp", 152, 16n],
    [UsdtArgType.CONST, undefined, 0, 0x7fffn],
  ]);
  assert.equal(m[1].spec, "-4@-1204(%rbp)");
  assert.deepEqual(parseUsdtArgs("", EM_X86_64), []);
  assert.deepEqual(parseUsdtArgs("  ", EM_X86_64), []);
  // Without a size: 8 bytes, unsigned (old sdt.h).
  assert.deepEqual(parseUsdtArgs("%rbx", EM_X86_64).map((x) => [x.size, x.signed, x.register]), [
    [8, false, "rbx"],
  ]);
});

test("parseUsdtArgs: aarch64 registers, [reg, off] memory and constants", () => {
  const a = parseUsdtArgs("-4@w1 8@x29 8@[sp, 16] -4@[x29, -4] 8@[x0] -4@5 8@sp", EM_AARCH64);
  assert.deepEqual(a.map((x) => [x.size, x.type, x.register, x.regOffset, x.value]), [
    [4, UsdtArgType.REG, "x1", 8, 0n],
    [8, UsdtArgType.REG, "x29", 232, 0n],
    [8, UsdtArgType.REG_DEREF, "sp", 248, 16n],
    [4, UsdtArgType.REG_DEREF, "x29", 232, -4n],
    [8, UsdtArgType.REG_DEREF, "x0", 0, 0n],
    [4, UsdtArgType.CONST, undefined, 0, 5n],
    [8, UsdtArgType.REG, "sp", 248, 0n],
  ]);
});

test("parseUsdtArgs: bad specs are UsdtSpecErrors naming the argument and why", () => {
  const bad: [string, number, RegExp][] = [
    ["8@%rax 3@%rbx", 1, /size 3 is not 1, 2, 4 or 8/],
    ["8@%foo", 0, /unknown x86_64 register %foo/],
    ["1@%ah", 0, /%ah \(bits 8-15/],
    ["8@-8(%rbp,%rax,8)", 0, /index register/],
    ["8@counter(%rip)", 0, /%rip-relative/],
    ["8@counter(%rbx)", 0, /offset "counter" is not an integer/],
    ["8@8(%rip)", 0, /%rip-relative/],
    ["4@$x", 0, /"\$x" is not an integer constant/],
    ["4@", 0, /no location/],
    ["4@rax", 0, /cannot read location "rax"/],
    ["8@$99999999999999999999", 0, /is not an integer constant/],
  ];
  for (const [spec, index, why] of bad) {
    assert.throws(
      () => parseUsdtArgs(spec, EM_X86_64),
      (e: unknown) =>
        e instanceof UsdtSpecError && e.spec === spec && e.index === index && why.test(e.message),
      spec,
    );
  }
  assert.throws(() => parseUsdtArgs("8@x31", EM_AARCH64), /cannot read aarch64 location "x31"/);
  assert.throws(() => parseUsdtArgs("8@[q0, 4]", EM_AARCH64), /unknown aarch64 register "q0"/);
  const many = Array.from({ length: USDT_MAX_ARGS + 1 }, () => "8@%rax").join(" ");
  assert.throws(() => parseUsdtArgs(many, EM_X86_64), /13 arguments, more than usdt.bpf.h's 12/);
  assert.throws(() => parseUsdtArgs("8@%rax", 247), /neither x86_64 nor aarch64/);
});

test("encodeUsdtSpec: the layout of struct __bpf_usdt_spec as the fixture's BTF describes it", () => {
  const obj = ObjectSpec.parse(readFileSync(`${FIXTURES}/usdt.bpf.o`));
  const types = obj.types!;
  const spec = types.find("struct", "__bpf_usdt_spec") as BtfStruct;
  const arg = types.find("struct", "__bpf_usdt_arg_spec") as BtfStruct;
  assert.equal(spec.size, USDT_SPEC_SIZE);
  const off = (s: BtfStruct, n: string): number =>
    s.members.find((m) => m.name === n)!.bitOffset / 8;
  assert.equal(arg.size, 16);
  assert.deepEqual(
    ["val_off", "arg_type", "reg_off", "arg_signed", "arg_bitshift"].map((n) => off(arg, n)),
    [0, 8, 12, 14, 15],
  );
  assert.equal(off(spec, "usdt_cookie"), 192);
  assert.equal(off(spec, "arg_cnt"), 200);

  const value = encodeUsdtSpec(parseUsdtArgs("-4@-20(%rbp) 2@%ax 8@$-1", EM_X86_64), 0xabcn);
  const v = new DataView(value.buffer);
  assert.equal(value.length, USDT_SPEC_SIZE);
  assert.equal(v.getBigInt64(0, true), -20n);
  assert.equal(v.getUint32(8, true), UsdtArgType.REG_DEREF);
  assert.equal(v.getInt16(12, true), 32);
  assert.equal(v.getUint8(14), 1);
  assert.equal(v.getInt8(15), 32);
  assert.equal(v.getUint32(16 + 8, true), UsdtArgType.REG);
  assert.equal(v.getInt16(16 + 12, true), 80);
  assert.equal(v.getUint8(16 + 14), 0);
  assert.equal(v.getInt8(16 + 15), 48);
  assert.equal(v.getBigUint64(32, true), (1n << 64n) - 1n);
  assert.equal(v.getInt8(32 + 15), 0);
  assert.equal(v.getBigUint64(192, true), 0xabcn);
  assert.equal(v.getInt16(200, true), 3);
  assert.ok(value.subarray(48, 192).every((b) => b === 0));
  assert.throws(() => encodeUsdtSpec([], -1n), RangeError);
});
