/**
 * Regression tests for hostile input: each case here once hung, crashed or let a raw
 * TypeError/RangeError out of a public function (issue 10). Every one must now end with one of
 * the library's own errors.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { BTF_LIMITS, BtfError, parseBtf } from "../lib/btf/mod.ts";
import { array, bytes, CodecError, cstring, struct, u32, u64, u8 } from "../lib/codec/mod.ts";
import { codecFromBtf } from "../lib/codec/from_btf.ts";
import { ElfError, ObjectError } from "../lib/elf/error.ts";
import { ObjectSpec } from "../lib/elf/spec.ts";
import { BtfBuilder, K } from "./btf_builder.ts";
import { isLibraryError, objectFiles } from "./fuzz_targets.ts";
import { loadObject } from "../lib/object/load.ts";
import { assemble } from "../lib/insn/asm.ts";
import { disassemble } from "../lib/insn/disasm.ts";
import { attachUprobe } from "../lib/link/uprobe.ts";
import { BpfMap } from "../lib/map/map.ts";
import { Program } from "../lib/program/program.ts";
import { ArgumentError, BpfError } from "../lib/errors.ts";
import { bpfObjectKind } from "../lib/fd.ts";
import { fdinfo, kernelSkip, repoRoot } from "./util.ts";

const fixture = (name: string): Uint8Array =>
  new Uint8Array(readFileSync(join(repoRoot, "tests/fixtures/elf", name)));

/** Section header `i` of an ELF file: [offset of the header, DataView]. */
function shdr(bytes: Uint8Array, i: number): [number, DataView] {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return [Number(v.getBigUint64(40, true)) + i * 64, v];
}

test("ELF: a SHT_NOBITS section-header string table of 1 TiB is refused, not scanned", () => {
  const bytes = fixture("globals.bpf.o").slice();
  const v = new DataView(bytes.buffer);
  const [at] = shdr(bytes, v.getUint16(62, true));
  v.setUint32(at + 4, 8, true); // SHT_NOBITS
  v.setBigUint64(at + 32, 1n << 40n, true); // sh_size 1 TiB
  assert.throws(() => ObjectSpec.parse(bytes), {
    name: "ElfError",
    message: /section-header string table \(e_shstrndx\) is section \d+, of type SHT_NOBITS/,
  });
});

test("ELF: a string table that runs to the end of the file stops at the end", () => {
  const bytes = fixture("globals.bpf.o").slice();
  const v = new DataView(bytes.buffer);
  const [at] = shdr(bytes, v.getUint16(62, true));
  // The string table now covers the rest of the file, and its last byte is not NUL.
  const off = Number(v.getBigUint64(at + 24, true));
  v.setBigUint64(at + 32, BigInt(bytes.length - off), true);
  bytes[bytes.length - 1] = 0x41;
  try {
    ObjectSpec.parse(bytes);
  } catch (e) {
    assert.ok(isLibraryError(e), String(e));
  }
});

test("ELF: every truncation of every fixture is refused with an ElfError or ObjectError", () => {
  for (const name of ["globals.bpf.o", "core.bpf.o", "bad_map.bpf.o"]) {
    const full = fixture(name);
    for (let n = 0; n < full.length; n += n < 256 ? 1 : 7) {
      assert.throws(
        () => ObjectSpec.parse(full.subarray(0, n)),
        (e: unknown) => e instanceof ElfError || e instanceof ObjectError,
        `${name} cut at ${n}`,
      );
    }
  }
});

test("BTF: a struct whose anonymous member is itself is a BtfError, not a stack overflow", () => {
  const b = new BtfBuilder();
  b.u32();
  const s = b.struct("s", 4, [["", 2, 0]]); // id 2: struct s { struct s; }
  const btf = parseBtf(b.build());
  assert.throws(() => codecFromBtf(btf, s), { name: "BtfError", message: /contains itself/ });
  assert.throws(() => btf.fields(s), { name: "BtfError", message: /BTF_LIMITS\.nesting/ });
});

test("BTF: a struct holding itself through a named member or an array is a BtfError", () => {
  const b = new BtfBuilder();
  const u = b.u32();
  // id 2: struct a { u32 x; struct a y[2]; } (id 3 is the array)
  b.struct("a", 8, [["x", u, 0], ["y", 3, 4]]);
  b.array(2, u, 2);
  const btf = parseBtf(b.build());
  assert.throws(() => codecFromBtf(btf, 2), (e: unknown) => e instanceof BtfError);
  const c = new BtfBuilder();
  const cu = c.u32();
  c.struct("loop", 8, [["x", cu, 0], ["self", 3, 4]]); // 2
  c.array(2, cu, 1); // 3: struct loop[1]
  assert.throws(() => codecFromBtf(parseBtf(c.build()), 2), {
    name: "BtfError",
    message: /contains itself/,
  });
});

test("BTF: a type used 2^30 times over (each struct holds two of the last) builds once each", () => {
  const b = new BtfBuilder();
  const u = b.u32();
  let t = b.struct("l0", 8, [["a", u, 0], ["b", u, 4]]);
  let size = 8;
  for (let i = 1; i <= 24; i++) {
    t = b.struct(`l${i}`, size * 2, [["a", t, 0], ["b", t, size]]);
    size *= 2;
  }
  const c = codecFromBtf(parseBtf(b.build()), t);
  assert.equal(c.size, 8 * 2 ** 24);
  assert.equal(c.name, "struct l24");
  // Anonymous ones: the name stays short.
  const a = new BtfBuilder();
  const au = a.u32();
  let at = a.struct("", 8, [["a", au, 0], ["b", au, 4]]);
  size = 8;
  for (let i = 1; i <= 24; i++) {
    at = a.struct("", size * 2, [["a", at, 0], ["b", at, size]]);
    size *= 2;
  }
  const anon = codecFromBtf(parseBtf(a.build()), at);
  assert.ok(anon.name.length < 300, anon.name.slice(0, 100));
});

test("BTF: anonymous unions nested 2^40 ways are refused over BTF_LIMITS.fields", () => {
  const b = new BtfBuilder();
  const u = b.u32();
  let t = b.type(K.union, "", 2, 4, false, b.str("x"), u, 0, b.str("y"), u, 0);
  for (let i = 0; i < 40; i++) t = b.type(K.union, "", 2, 4, false, 0, t, 0, 0, t, 0);
  const outer = b.struct("bomb", 4, [["", t, 0]]);
  const btf = parseBtf(b.build());
  assert.throws(() => btf.fields(outer), {
    name: "BtfError",
    message: new RegExp(`more than ${BTF_LIMITS.fields} fields \\(BTF_LIMITS\\.fields\\)`),
  });
});

test("BTF: nested arrays of structs of 10^9 elements: a size over the limit, not 10^9 fields", () => {
  const b = new BtfBuilder();
  const u = b.u32();
  let t = b.struct("leaf", 8, [["a", u, 0], ["b", u, 4]]);
  let size = 8;
  for (let i = 0; i < 3; i++) {
    const arr = b.array(t, u, 1000);
    size *= 1000;
    t = b.struct(`n${i}`, size >>> 0, [["v", arr, 0]]);
  }
  const btf = parseBtf(b.build());
  assert.throws(() => codecFromBtf(btf, t), {
    name: "BtfError",
    message: /over BTF_LIMITS\.typeSize/,
  });
  assert.throws(() => btf.sizeOf(t - 1), { name: "BtfError", message: /BTF_LIMITS\.typeSize/ });
});

test("codecs: NaN, negative and fractional offsets and short views are CodecErrors", () => {
  const view = new DataView(new ArrayBuffer(8), 0, 6);
  for (
    const c of [u8, u32, u64, bytes(4), cstring(4), array(u32, 2), struct({ a: u32, b: u8 })]
  ) {
    for (const off of [NaN, -1, 1.5, 2 ** 32, Infinity]) {
      assert.throws(() => c.decode(view, off), CodecError, `${c.name} decode at ${off}`);
    }
    // The view is 6 bytes inside an 8-byte buffer: nothing may be read past its end.
    assert.throws(() => c.decode(view, 6 - c.size + 1), CodecError, `${c.name} past the end`);
  }
  assert.throws(() => u32.encode(1, view, NaN), { name: "CodecError", message: /offset NaN/ });
  assert.throws(() => bytes(4).encode(new Uint8Array(4), view, 4), CodecError);
  assert.throws(() => u64.decode(new DataView(new ArrayBuffer(4)), 0), {
    name: "CodecError",
    message: /u64 needs 8 bytes at offset 0, but the view is 4 bytes/,
  });
});

test("loadObject constants: range, integer-ness and sign checked against the BTF type", () => {
  // Pure: constants are checked before the first system call.
  const obj = join(repoRoot, "tests/fixtures/elf/globals.bpf.o");
  for (
    const [value, re] of [
      [
        2 ** 40,
        /constant scale: 1099511627776 does not fit the variable, unsigned int \(0\.\.4294967295\)/,
      ],
      [-1, /constant scale: -1 does not fit the variable, unsigned int/],
      [NaN, /constant scale: NaN is not an integer, and the variable is unsigned int/],
      [1.5, /constant scale: 1\.5 is not an integer/],
      [2n ** 32n, /constant scale: 4294967296 does not fit/],
      ["3", /constant scale: a number, bigint or Uint8Array is needed, got string/],
    ] as const
  ) {
    assert.throws(
      () => loadObject(obj, { constants: { scale: value as number } }),
      { name: "ObjectError", message: re },
      String(value),
    );
  }
  assert.throws(() => loadObject(obj, { constants: { magic: -1n } }), /does not fit/);
});

test("assembler: an offset out of range names the value, whatever its signs", () => {
  assert.throws(() => assemble("*(u32 *)(r10 - -99999) = r1"), {
    name: "AsmError",
    message: /line 1, column 16: offset 99999 does not fit in 16 bits/,
  });
  assert.throws(() => assemble("*(u32 *)(r10 + -99999999999999999999) = r1"), {
    message: /offset -99999999999999999999 does not fit/,
  });
});

test("disassembler: a 64-bit immediate is hex like the kernel's; the assembler reads both", () => {
  const insns = assemble("r1 = 1234605616436508552 ll\nr2 = -1 ll\nr3 = 0 ll");
  assert.equal(disassemble(insns), "r1 = 0x1122334455667788 ll\nr2 = -0x1 ll\nr3 = 0x0 ll");
  assert.deepEqual(assemble(disassemble(insns)), insns);
  assert.deepEqual(assemble("r1 = 0x1122334455667788 ll"), insns.slice(0, 2));
});

test("attachUprobe: a bad offset is an ArgumentError that prints it as given, not 0x-1", () => {
  assert.throws(
    () => attachUprobe({} as never, { path: "/bin/true", offset: -1 }),
    (e: unknown) =>
      e instanceof ArgumentError && /offset -1 is not/.test(e.message) &&
      !e.message.includes("0x-1") && e.message.includes("/bin/true:-1"),
  );
});

test("BpfMap.fromFd: a refused fd is left open, never closed (fd 1 stays stdout)", {
  skip: kernelSkip,
}, () => {
  const before = fdinfo(1);
  assert.throws(() => BpfMap.fromFd(1), (e: unknown) => e instanceof BpfError);
  assert.deepEqual(fdinfo(1), before, "stdout is still open");
  for (const bad of [-1, 1.5, NaN, 2 ** 40]) {
    assert.throws(() => BpfMap.fromFd(bad), { name: "BpfError", message: /EBADF/ });
  }
  using prog = Program.load({
    type: "socket_filter",
    insns: assemble("r0 = 0\nexit"),
    license: "GPL",
  });
  assert.throws(() => BpfMap.fromFd(prog.fd), {
    name: "BpfError",
    message: /is a BPF prog, not a map \(left open: it still belongs to the caller\)/,
  });
  assert.equal(bpfObjectKind(prog.fd), "prog", "the program fd is still open");
  // A codec that does not fit is refused before ownership, too.
  using m = BpfMap.create({ type: "array", keySize: 4, valueSize: 8, maxEntries: 1 });
  assert.throws(() => BpfMap.fromFd(m.fd, { value: u32 }), CodecError);
  assert.equal(bpfObjectKind(m.fd), "map");
});

test("batchLookup: a chunk of 2**40 is an ArgumentError before anything is allocated", {
  skip: kernelSkip,
}, () => {
  using m = BpfMap.create({ type: "hash", keySize: 4, valueSize: 4, maxEntries: 4 });
  m.set(new Uint8Array(4), new Uint8Array(4));
  for (const chunk of [2 ** 40, 0, 1.5, -3]) {
    assert.throws(() => m.batchLookup({ chunk }), (e: unknown) => e instanceof ArgumentError);
  }
  assert.equal(m.batchLookup({ chunk: 2 }).length, 1);
});

test("EMFILE is a ResourceError saying to raise ulimit -n, not a VerifierError", {
  skip: kernelSkip || (existsSync("/usr/bin/prlimit") ? false : "prlimit(1) is not installed"),
}, () => {
  const g = globalThis as { Bun?: unknown; Deno?: { execPath(): string } };
  const child = join(repoRoot, "tests/fixtures/emfile_child.ts");
  const [cmd, args] = g.Bun !== undefined
    ? [(globalThis as unknown as { process: { execPath: string } }).process.execPath, [child]]
    : [g.Deno!.execPath(), ["run", "--allow-all", "--no-check", child]];
  const r = spawnSync("/usr/bin/prlimit", ["--nofile=128:128", cmd, ...args], {
    encoding: "utf8",
    timeout: 120_000,
  });
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout.trim().split("\n").pop()!);
  for (const what of ["load", "loadWithLog", "map"]) {
    assert.equal(out[what].name, "ResourceError", `${what}: ${JSON.stringify(out[what])}`);
    assert.equal(out[what].errnoName, "EMFILE");
    assert.equal(out[what].resource, "fds");
    assert.match(out[what].message, /raise ulimit -n \(RLIMIT_NOFILE\)/);
  }
});

test("committed objects embed no absolute build path (built with -fdebug-prefix-map)", () => {
  const dec = new TextDecoder("latin1");
  for (const f of objectFiles()) {
    const text = dec.decode(readFileSync(f));
    assert.ok(!text.includes(repoRoot), `${f} contains ${repoRoot}`);
    assert.ok(!/\/(work|home|tmp)\//.test(text), `${f} contains an absolute path`);
  }
});
