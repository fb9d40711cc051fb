/**
 * Issue 10 leftovers: bad arguments to public functions end in an `ArgumentError` naming the
 * parameter (never a raw TypeError from deep inside); CO-RE access strings are bounded; a batch
 * chunk is checked wherever it is given; the bpf(2) wrappers check the attr size against the
 * command before calling.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { BTF_LIMITS, parseBtf } from "../lib/btf/mod.ts";
import { array, codecFromBtf, freshBytes, lpmKey, u32 } from "../lib/codec/mod.ts";
import { checkProgram } from "../lib/check/mod.ts";
import { parseBtfExt } from "../lib/elf/btf_ext.ts";
import { resolveCoreRelo } from "../lib/elf/core.ts";
import { ElfError, ObjectError } from "../lib/elf/error.ts";
import { parseElf } from "../lib/elf/elf.ts";
import { ObjectSpec } from "../lib/elf/spec.ts";
import {
  asm,
  assemble,
  callHelper,
  decodeInsns,
  disassemble,
  encodeInsns,
  InsnBuilder,
  mov64Imm,
} from "../lib/insn/mod.ts";
import { ArgumentError } from "../lib/errors.ts";
import { Attr } from "../lib/attr.ts";
import { LINK_CREATE_TCX_ATTR, MAP_LOOKUP_ELEM_ATTR, PROG_LOAD_ATTR } from "../types/attr.ts";
import { BpfCmd } from "../types/cmd.ts";
import { Errno } from "../types/errno.ts";
import { linkCreate, mapCreate, mapLookupElem } from "../lib/sys/bpf_cmds.ts";
import { sys, withSys } from "../lib/sys/mod.ts";
import { raiseMemlockIfCharged } from "../lib/sys/memlock.ts";
import type { Sys } from "../lib/sys/types.ts";
import { BpfMap } from "../lib/map/map.ts";
import { kernelSkip, repoRoot } from "./util.ts";

/** Calls that used to throw a raw TypeError or RangeError, with the parameter now named. */
const BAD_CALLS: [string, string, () => unknown][] = [
  ["assemble(5)", "text", () => assemble(5 as never)],
  ["asm called as a function", "strings", () => asm("r0 = 1" as never)],
  ["decodeInsns('x')", "bytes", () => decodeInsns("x" as never)],
  ["encodeInsns(5)", "insns", () => encodeInsns(5 as never)],
  ["disassemble(undefined)", "insns", () => disassemble(undefined as never)],
  ["disassemble([null])", "insns", () => disassemble([null] as never)],
  ["parseBtf(null)", "bytes", () => parseBtf(null as never)],
  ["parseElf({})", "bytes", () => parseElf({} as never)],
  ["ObjectSpec.parse(undefined)", "bytes", () => ObjectSpec.parse(undefined as never)],
  ["checkProgram(undefined)", "options", () => checkProgram(undefined as never)],
  ["checkProgram without insns", "options.insns", () => checkProgram({ type: "xdp" } as never)],
  ["mov64Imm(undefined, 1)", "dst", () => mov64Imm(undefined as never, 1)],
  ["callHelper(undefined)", "helper", () => callHelper(undefined as never)],
  ["array(u32, -1)", "length", () => array(u32, -1)],
  ["array(5, 2)", "element", () => array(5 as never, 2)],
  ["codecFromBtf({}, 1)", "btf", () => codecFromBtf({} as never, 1)],
  ["freshBytes past the end", "source", () => freshBytes(new Uint8Array(2), 1, 5)],
  ["lpmKey(Symbol())", "dataSize", () => lpmKey(Symbol() as never)],
  ["InsnBuilder.label('')", "label", () => new InsnBuilder().label("")],
];

for (const [what, argument, call] of BAD_CALLS) {
  test(`typed errors: ${what} is an ArgumentError naming ${argument}`, () => {
    assert.throws(call, (e: unknown) => {
      assert.ok(e instanceof ArgumentError, `${what}: ${(e as Error)?.stack ?? e}`);
      assert.equal(e.argument, argument, e.message);
      return true;
    });
  });
}

/** The BTF of core.bpf.o with `extra` appended to its string section, and where it starts. */
function btfWithString(extra: string): { btf: ReturnType<typeof parseBtf>; off: number } {
  const elf = parseElf(
    new Uint8Array(readFileSync(join(repoRoot, "tests/fixtures/elf/core.bpf.o"))),
  );
  const raw = elf.section(".BTF")!.data;
  const v = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const hdrLen = v.getUint32(4, true);
  const strOff = v.getUint32(16, true);
  const strLen = v.getUint32(20, true);
  assert.equal(hdrLen + strOff + strLen, raw.length, "the string section ends the blob");
  const add = new TextEncoder().encode(extra + "\0");
  const out = new Uint8Array(raw.length + add.length);
  out.set(raw);
  out.set(add, raw.length);
  new DataView(out.buffer).setUint32(20, strLen + add.length, true);
  return { btf: parseBtf(out), off: strLen };
}

/** A .BTF.ext with one CO-RE relocation whose access string is at string offset `accessOff`. */
function extWithAccess(accessOff: number): Uint8Array {
  const b = new Uint8Array(32 + 4 + 8 + 16);
  const v = new DataView(b.buffer);
  v.setUint16(0, 0xeb9f, true);
  b[2] = 1;
  v.setUint32(4, 32, true); // hdr_len
  v.setUint32(24, 0, true); // core_relo_off
  v.setUint32(28, 28, true); // core_relo_len
  v.setUint32(32, 16, true); // record size
  v.setUint32(36, 0, true); // section name: ""
  v.setUint32(40, 1, true); // one record
  v.setUint32(44, 0, true); // insn_off
  v.setUint32(48, 1, true); // type id
  v.setUint32(52, accessOff, true);
  v.setUint32(56, 0, true); // FIELD_BYTE_OFFSET
  return b;
}

test("CO-RE access strings: over coreAccessDepth steps is an ElfError at the record's offset", () => {
  const access = Array(BTF_LIMITS.coreAccessDepth + 1).fill("0").join(":");
  const { btf, off } = btfWithString(access);
  assert.throws(() => parseBtfExt(extWithAccess(off), btf, 1000), (e: unknown) => {
    assert.ok(e instanceof ElfError, String(e));
    assert.match(e.message, /65 steps, over BTF_LIMITS\.coreAccessDepth \(64\)/);
    assert.equal(e.offset, 1000 + 52);
    return true;
  });
  // At the limit it parses.
  const ok = Array(BTF_LIMITS.coreAccessDepth).fill("0").join(":");
  const at = btfWithString(ok);
  assert.equal(parseBtfExt(extWithAccess(at.off), at.btf).coreRelos[0].access, ok);
});

test("CO-RE access strings: longer than coreAccessLength is refused, also given directly", () => {
  const access = "1".repeat(BTF_LIMITS.coreAccessLength + 1);
  const { btf, off } = btfWithString(access);
  assert.throws(
    () => parseBtfExt(extWithAccess(off), btf),
    (e: unknown) =>
      e instanceof ElfError && /over BTF_LIMITS\.coreAccessLength \(1024\)/.test(e.message),
  );
  const input = { insn: 0, typeId: 1, access, kind: 0 };
  assert.throws(
    () => resolveCoreRelo(input, btf, btf),
    (e: unknown) => e instanceof ObjectError && /BTF_LIMITS\.coreAccessLength/.test(e.message),
  );
  const deep = { ...input, access: Array(65).fill("0").join(":") };
  assert.throws(
    () => resolveCoreRelo(deep, btf, btf),
    (e: unknown) => e instanceof ObjectError && /BTF_LIMITS\.coreAccessDepth/.test(e.message),
  );
});

/** A backend that records bpf() calls and answers EBADF without calling the kernel. */
function recordingSys(): Sys & { calls: { cmd: number; size: number }[] } {
  const real = sys();
  const calls: { cmd: number; size: number }[] = [];
  return {
    runtime: real.runtime,
    nr: real.nr,
    calls,
    bpf(cmd, _attr, size) {
      calls.push({ cmd, size });
      return -Errno.EBADF;
    },
    close: (fd) => real.close(fd),
    syscall: (nr, ...args) => real.syscall(nr, ...args),
    addressOf: (buf) => real.addressOf(buf),
    view: (address, length) => real.view(address, length),
    epollWait: (epfd, timeoutMs, ready, events) => real.epollWait(epfd, timeoutMs, ready, events),
  };
}

test("bpf wrappers: raw bytes shorter than the command's layout never reach the kernel", () => {
  const fake = recordingSys();
  withSys(fake, () => {
    assert.throws(
      () => mapLookupElem(new Uint8Array(8)),
      (e: unknown) =>
        e instanceof ArgumentError && e.argument === "attr" &&
        /BPF_MAP_LOOKUP_ELEM: the attr buffer holds 8 bytes, the command's layout needs 32/.test(
          e.message,
        ),
    );
    assert.equal(fake.calls.length, 0);
    assert.equal(mapLookupElem(new Uint8Array(MAP_LOOKUP_ELEM_ATTR.size)), -Errno.EBADF);
    assert.deepEqual(fake.calls, [{ cmd: BpfCmd.MAP_LOOKUP_ELEM, size: 32 }]);
  });
});

test("bpf wrappers: an Attr larger than the command's layout is refused before the call", () => {
  // Decided first with the real kernel: before 5.11 the first map or program probes whether BPF
  // memory is charged to RLIMIT_MEMLOCK, a load the fake would record.
  raiseMemlockIfCharged();
  const fake = recordingSys();
  withSys(fake, () => {
    assert.throws(
      () => mapCreate(new Attr(PROG_LOAD_ATTR) as never),
      (e: unknown) =>
        e instanceof ArgumentError &&
        /BPF_MAP_CREATE takes at most 80 bytes of attr, got 152 \(an attr built from BPF_PROG_LOAD\)/
          .test(
            e.message,
          ),
    );
    assert.equal(fake.calls.length, 0);
    // BPF_LINK_CREATE takes each of its attach kinds' layouts, at that layout's size.
    assert.equal(linkCreate(new Attr(LINK_CREATE_TCX_ATTR)), -Errno.EBADF);
    assert.deepEqual(fake.calls, [{ cmd: BpfCmd.LINK_CREATE, size: LINK_CREATE_TCX_ATTR.size }]);
  });
});

test("batch chunk: checked wherever it is given, also where no batch command runs", {
  skip: kernelSkip,
}, () => {
  using hash = BpfMap.create({ type: "hash", key: u32, value: u32, maxEntries: 4 });
  hash.set(1, 2);
  using trie = BpfMap.create({
    type: "lpm_trie",
    keySize: 8,
    valueSize: 4,
    maxEntries: 4,
    flags: 1, // BPF_F_NO_PREALLOC, which LPM tries require
  });
  const isChunk = (e: unknown) => e instanceof ArgumentError && e.argument === "chunk";
  for (const chunk of [2 ** 40, 0, 1.5, -3, NaN]) {
    assert.throws(() => hash.batchLookup({ chunk }), isChunk);
    assert.throws(() => [...hash.entries({ chunk })], isChunk);
    assert.throws(() => [...hash.entries({ chunk, batch: false })], isChunk);
    assert.throws(() => hash.batchReader(chunk), isChunk);
    assert.throws(() => trie.batchLookup({ chunk }), isChunk);
    assert.throws(() => trie.batchLookupAndDelete({ chunk }), isChunk);
  }
  assert.throws(() => hash.batchLookup(null as never), (e: unknown) => e instanceof ArgumentError);
  assert.deepEqual(hash.batchLookup({ chunk: 1 }), [[1, 2]]);
  assert.deepEqual(trie.batchLookup({ chunk: 1 }), []);
});

test("object entry points refuse a null options or program with ArgumentError, before any system call", async () => {
  const { Program } = await import("../lib/program/program.ts");
  const { BpfMap } = await import("../lib/map/mod.ts");
  const { attachTracepoint } = await import("../lib/link/mod.ts");
  const { ArgumentError } = await import("../lib/errors.ts");
  const cases: [() => unknown, RegExp][] = [
    [() => Program.load(null as never), /Program\.load: options must be an object, got null/],
    [() => BpfMap.create(null as never), /BpfMap\.create: options must be an object, got null/],
    [
      () => attachTracepoint(null as never, "syscalls", "sys_enter_getpid"),
      /program must be an object, got null/,
    ],
  ];
  for (const [f, re] of cases) {
    assert.throws(f, (e: unknown) => e instanceof ArgumentError && re.test((e as Error).message));
  }
});
