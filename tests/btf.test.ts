import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { BTF_KIND, BtfError, parseBtf } from "../lib/btf/mod.ts";

const VMLINUX = "/sys/kernel/btf/vmlinux";
const vmlinuxSkip: string | false = existsSync(VMLINUX) ? false : `${VMLINUX} not present`;

/** Builds BTF blobs word by word for tests. */
class Builder {
  strs: number[] = [0];
  words: number[] = [];
  str(s: string): number {
    if (s === "") return 0;
    const off = this.strs.length;
    for (const b of new TextEncoder().encode(s)) this.strs.push(b);
    this.strs.push(0);
    return off;
  }
  type(
    kind: number,
    name: string,
    vlen: number,
    sizeOrType: number,
    kflag = false,
    ...extra: number[]
  ): this {
    const info = ((kflag ? 1 : 0) << 31) | (kind << 24) | vlen;
    this.words.push(this.str(name), info >>> 0, sizeOrType >>> 0, ...extra.map((w) => w >>> 0));
    return this;
  }
  build(le = true): Uint8Array {
    const typeLen = this.words.length * 4;
    const out = new Uint8Array(24 + typeLen + this.strs.length);
    const v = new DataView(out.buffer);
    v.setUint16(0, 0xeb9f, le);
    v.setUint8(2, 1);
    v.setUint32(4, 24, le);
    v.setUint32(8, 0, le);
    v.setUint32(12, typeLen, le);
    v.setUint32(16, typeLen, le);
    v.setUint32(20, this.strs.length, le);
    this.words.forEach((w, i) => v.setUint32(24 + 4 * i, w, le));
    out.set(this.strs, 24 + typeLen);
    return out;
  }
}

const K = BTF_KIND;

/** One of every kind. Ids in comments. */
function allKinds(): Builder {
  const b = new Builder();
  b.type(K.int, "unsigned int", 0, 4, false, 32); // 1
  b.type(K.int, "char", 0, 1, false, (1 << 24) | (2 << 24) | 8); // 2 signed char
  b.type(K.ptr, "", 0, 4); // 3 -> struct pair
  b.type(K.array, "", 0, 0, false, 2, 1, 16); // 4 char[16]
  b.type(
    K.struct,
    "pair",
    3,
    12,
    true,
    b.str("a"),
    1,
    0,
    b.str("bits"),
    1,
    (3 << 24) | 32,
    0,
    12,
    64,
  ); // 5
  b.type(K.union, "", 2, 4, false, b.str("x"), 1, 0, b.str("y"), 2, 0); // 6
  b.type(K.enum, "color", 2, 4, true, b.str("RED"), -1, b.str("BLUE"), 7); // 7 signed
  b.type(K.fwd, "later", 0, 0, true); // 8 union fwd
  b.type(K.typedef, "u32_t", 0, 1); // 9
  b.type(K.volatile, "", 0, 9); // 10
  b.type(K.const, "", 0, 10); // 11 const volatile u32_t
  b.type(K.restrict, "", 0, 3); // 12
  b.type(K.func_proto, "", 3, 1, false, b.str("p"), 3, 0, 2, 0, 0); // 13 int (pair *p, char, ...)
  b.type(K.func, "f", 1, 13); // 14 global
  b.type(K.var, "counter", 0, 1, false, 1); // 15
  b.type(K.datasec, ".bss", 1, 4, false, 15, 0, 4); // 16
  b.type(K.float, "double", 0, 8); // 17
  b.type(K.decl_tag, "tag", 0, 5, false, 1); // 18 on member 1 of pair
  b.type(K.type_tag, "user", 0, 1); // 19
  b.type(K.enum64, "big", 2, 8, false, b.str("B1"), 1, 1, b.str("B2"), 0xffffffff, 0xffffffff); // 20
  b.type(K.struct, "outer", 2, 16, false, b.str("head"), 1, 0, 0, 6, 64); // 21, anon union at byte 8
  b.type(K.array, "", 0, 11, false, 11, 1, 3); // 22 const volatile u32_t[3]
  return b;
}

test("parses every kind from a hand-built blob", () => {
  const btf = parseBtf(allKinds().build());
  assert.equal(btf.types.length, 23);
  assert.deepEqual(btf.typeById(0), { id: 0, kind: "void", name: "" });
  assert.deepEqual(btf.typeById(1), {
    id: 1,
    kind: "int",
    name: "unsigned int",
    size: 4,
    bits: 32,
    bitOffset: 0,
    encoding: 0,
  });
  const ch = btf.typeById(2);
  assert.equal(ch.kind === "int" && ch.encoding, 3);
  assert.deepEqual(btf.typeById(3), { id: 3, kind: "ptr", name: "", type: 4 });
  assert.deepEqual(btf.typeById(4), {
    id: 4,
    kind: "array",
    name: "",
    type: 2,
    indexType: 1,
    nelems: 16,
  });
  assert.deepEqual(btf.typeById(5), {
    id: 5,
    kind: "struct",
    name: "pair",
    size: 12,
    members: [
      { name: "a", type: 1, bitOffset: 0, bitfieldSize: 0 },
      { name: "bits", type: 1, bitOffset: 32, bitfieldSize: 3 },
      { name: "", type: 12, bitOffset: 64, bitfieldSize: 0 },
    ],
  });
  assert.equal(btf.typeById(6).kind, "union");
  assert.deepEqual(btf.typeById(7), {
    id: 7,
    kind: "enum",
    name: "color",
    size: 4,
    signed: true,
    values: [{ name: "RED", value: -1 }, { name: "BLUE", value: 7 }],
  });
  assert.deepEqual(btf.typeById(8), { id: 8, kind: "fwd", name: "later", union: true });
  assert.deepEqual(btf.typeById(9), { id: 9, kind: "typedef", name: "u32_t", type: 1 });
  assert.equal(btf.typeById(10).kind, "volatile");
  assert.equal(btf.typeById(11).kind, "const");
  assert.equal(btf.typeById(12).kind, "restrict");
  assert.deepEqual(btf.typeById(13), {
    id: 13,
    kind: "func_proto",
    name: "",
    returnType: 1,
    params: [{ name: "p", type: 3 }, { name: "", type: 2 }],
    variadic: true,
  });
  assert.deepEqual(btf.typeById(14), { id: 14, kind: "func", name: "f", type: 13, linkage: 1 });
  assert.deepEqual(btf.typeById(15), { id: 15, kind: "var", name: "counter", type: 1, linkage: 1 });
  assert.deepEqual(btf.typeById(16), {
    id: 16,
    kind: "datasec",
    name: ".bss",
    size: 4,
    vars: [{ type: 15, offset: 0, size: 4 }],
  });
  assert.deepEqual(btf.typeById(17), { id: 17, kind: "float", name: "double", size: 8 });
  assert.deepEqual(btf.typeById(18), {
    id: 18,
    kind: "decl_tag",
    name: "tag",
    type: 5,
    componentIdx: 1,
    attr: false,
  });
  assert.deepEqual(btf.typeById(19), {
    id: 19,
    kind: "type_tag",
    name: "user",
    type: 1,
    attr: false,
  });
  assert.deepEqual(btf.typeById(20), {
    id: 20,
    kind: "enum64",
    name: "big",
    size: 8,
    signed: false,
    values: [{ name: "B1", value: (1n << 32n) | 1n }, { name: "B2", value: 0xffffffffffffffffn }],
  });
});

test("lookup, find, get, resolve, sizeOf, fields", () => {
  const btf = parseBtf(allKinds().build());
  assert.equal(btf.find("struct", "pair")?.id, 5);
  assert.equal(btf.find("union", "pair"), undefined);
  assert.deepEqual(btf.lookup("pair").map((t) => t.id), [5]);
  assert.deepEqual(btf.lookup("nope"), []);
  assert.equal(btf.get("enum", "color").values[1].name, "BLUE");
  assert.throws(() => btf.get("struct", "nope"), BtfError);
  assert.throws(() => btf.typeById(23), BtfError);
  assert.equal(btf.resolve(11).id, 1);
  assert.equal(btf.resolve(11, { typedefs: false }).id, 9);
  assert.equal(btf.resolve(19).id, 1);
  assert.equal(btf.sizeOf(1), 4);
  assert.equal(btf.sizeOf(3), 8);
  assert.equal(btf.sizeOf(4), 16);
  assert.equal(btf.sizeOf(11), 4);
  assert.equal(btf.sizeOf(22), 12);
  assert.equal(btf.sizeOf(5), 12);
  assert.equal(btf.sizeOf(15), 4);
  assert.equal(parseBtf(allKinds().build(), { pointerSize: 4 }).sizeOf(3), 4);
  assert.throws(() => btf.sizeOf(0), BtfError);
  assert.throws(() => btf.sizeOf(14), BtfError);
  assert.throws(() => btf.sizeOf(8), BtfError);
  assert.deepEqual(btf.fields(21), [
    { name: "head", type: 1, bitOffset: 0, bitfieldSize: 0, path: ["head"] },
    { name: "x", type: 1, bitOffset: 64, bitfieldSize: 0, path: [1, "x"] },
    { name: "y", type: 2, bitOffset: 64, bitfieldSize: 0, path: [1, "y"] },
  ]);
  assert.throws(() => btf.fields(1), BtfError);
  assert.equal(btf.string(0), "");
  assert.throws(() => btf.string(btf.stringsLength), BtfError);
});

test("big-endian blobs parse to the same types", () => {
  const le = parseBtf(allKinds().build(true));
  const be = parseBtf(allKinds().build(false));
  assert.equal(be.littleEndian, false);
  assert.deepEqual(be.types, le.types);
});

test("non-ASCII names decode as UTF-8", () => {
  const b = new Builder();
  b.type(K.int, "größe", 0, 4, false, 32);
  b.type(K.typedef, "größe_t", 0, 1);
  const btf = parseBtf(b.build());
  assert.equal(btf.typeById(1).name, "größe");
  assert.equal(btf.find("typedef", "größe_t")?.id, 2);
});

test("split BTF continues the base's type ids and string offsets", () => {
  const base = parseBtf(allKinds().build());
  const b = new Builder();
  b.strs = []; // split string section starts at base.stringsLength
  const nameOff = base.stringsLength;
  for (const c of new TextEncoder().encode("mod_t")) b.strs.push(c);
  b.strs.push(0);
  b.words.push(nameOff, (K.typedef << 24) >>> 0, 5); // typedef struct pair mod_t
  b.words.push(0, (K.ptr << 24) >>> 0, 23); // mod_t *
  const split = parseBtf(b.build(), { base });
  assert.equal(split.firstId, 23);
  assert.equal(split.types.length, 25);
  assert.deepEqual(split.typeById(23), { id: 23, kind: "typedef", name: "mod_t", type: 5 });
  assert.equal(split.sizeOf(23), 12);
  assert.equal(split.find("struct", "pair")?.id, 5);
  assert.equal(split.string(nameOff), "mod_t");
});

function expectBtfError(bytes: Uint8Array, offset: number, re: RegExp): void {
  assert.throws(() => parseBtf(bytes), (e: unknown) => {
    assert.ok(e instanceof BtfError, `expected BtfError, got ${e}`);
    assert.equal(e.offset, offset);
    assert.match(e.message, re);
    assert.match(e.message, new RegExp(`byte offset ${offset}\\b`));
    return true;
  });
}

test("malformed blobs: header problems name the offset", () => {
  expectBtfError(new Uint8Array(4), 0, /too short/);
  const good = allKinds().build();
  const badMagic = good.slice();
  badMagic[0] = 0x12;
  expectBtfError(badMagic, 0, /bad magic 0xeb12/);
  const badVersion = good.slice();
  badVersion[2] = 2;
  expectBtfError(badVersion, 2, /unsupported version 2/);
  const shortHdr = good.slice();
  new DataView(shortHdr.buffer).setUint32(4, 16, true);
  expectBtfError(shortHdr, 4, /header length 16/);
  expectBtfError(good.subarray(0, good.length - 3), 16, /string section .* exceeds blob size/);
  const typeTooLong = good.slice();
  new DataView(typeTooLong.buffer).setUint32(12, 1 << 20, true);
  expectBtfError(typeTooLong, 8, /type section .* exceeds/);
  const noNulEnd = good.slice();
  noNulEnd[noNulEnd.length - 1] = 0x41;
  expectBtfError(noNulEnd, noNulEnd.length - 1, /does not end with a NUL/);
  const noNulStart = good.slice();
  const strStart = 24 + new DataView(good.buffer).getUint32(16, true);
  noNulStart[strStart] = 0x41;
  expectBtfError(noNulStart, strStart, /does not start with a NUL/);
});

test("malformed blobs: type records name the offset", () => {
  // Truncated record: type section length not a multiple of the record.
  const b1 = new Builder();
  b1.type(K.int, "int", 0, 4, true, 32);
  b1.words.push(0, 0); // 8 stray bytes
  expectBtfError(b1.build(), 24 + 16, /type \[2\]: record truncated/);
  // Struct claiming more members than present.
  const b2 = new Builder();
  b2.type(K.int, "int", 0, 4, false, 32);
  b2.type(K.struct, "s", 5, 4, false, b2.str("a"), 1, 0);
  expectBtfError(b2.build(), 24 + 16, /type \[2\] struct: needs 60 bytes/);
  // Unknown kind.
  const b3 = new Builder();
  b3.type(K.int, "int", 0, 4, false, 32);
  b3.type(25, "x", 0, 0);
  expectBtfError(b3.build(), 24 + 16 + 4, /type \[2\]: unknown kind 25/);
  // Name offset outside the string section.
  const b4 = new Builder();
  b4.words.push(9999, (K.int << 24) >>> 0, 4, 32);
  expectBtfError(b4.build(), 24, /name offset 9999 is outside/);
  // Member name outside the string section: offset of the member record.
  const b5 = new Builder();
  b5.type(K.int, "int", 0, 4, false, 32);
  b5.type(K.struct, "s", 1, 4, false, 7777, 1, 0);
  expectBtfError(b5.build(), 24 + 16 + 12, /name offset 7777/);
  // Dangling type reference.
  const b6 = new Builder();
  b6.type(K.int, "int", 0, 4, false, 32);
  b6.type(K.ptr, "", 0, 42);
  expectBtfError(
    b6.build(),
    24 + 16,
    /type \[2\] ptr: type refers to type id 42, but the last id is 2/,
  );
  const b7 = new Builder();
  b7.type(K.struct, "s", 1, 4, false, b7.str("m"), 9, 0);
  expectBtfError(b7.build(), 24, /member "m" refers to type id 9/);
  // Reserved info bits.
  const b8 = new Builder();
  b8.words.push(0, ((K.int << 24) | (1 << 16)) >>> 0, 4, 32);
  expectBtfError(b8.build(), 28, /reserved bits/);
  // Kind 0 inside the type section.
  const b9 = new Builder();
  b9.words.push(0, 0, 0);
  expectBtfError(b9.build(), 28, /unknown kind 0/);
});

test("typedef loops are detected", () => {
  const b = new Builder();
  b.type(K.typedef, "a", 0, 2);
  b.type(K.typedef, "b", 0, 1);
  const btf = parseBtf(b.build());
  assert.throws(() => btf.resolve(1), /chain longer than 32/);
});

test("parses the running kernel's vmlinux BTF", { skip: vmlinuxSkip }, () => {
  const bytes = readFileSync(VMLINUX);
  const t0 = performance.now();
  const btf = parseBtf(bytes);
  const ms = performance.now() - t0;
  console.log(
    `vmlinux BTF: ${bytes.length} bytes, ${btf.types.length} types, parsed in ${ms.toFixed(1)} ms`,
  );
  const insn = btf.get("struct", "bpf_insn");
  assert.equal(insn.size, 8);
  assert.deepEqual(insn.members.map((m) => [m.name, m.bitOffset, m.bitfieldSize]), [
    ["code", 0, 0],
    ["dst_reg", 8, 4],
    ["src_reg", 12, 4],
    ["off", 16, 0],
    ["imm", 32, 0],
  ]);
  assert.equal(btf.resolve(insn.members[0].type).name, "unsigned char");
  assert.equal(btf.sizeOf(btf.get("typedef", "__u64").id), 8);
  const cmd = btf.get("enum", "bpf_cmd");
  assert.equal(cmd.values.find((v) => v.name === "BPF_PROG_LOAD")?.value, 5);
  const attr = btf.get("union", "bpf_attr");
  // A union is as large as its largest member, padded to its alignment (kernels differ in
  // which commands, so which members, it has).
  const largest = Math.max(...attr.members.map((m) => btf.sizeOf(m.type)));
  assert.ok(attr.size >= largest && attr.size - largest < 8, `${attr.size} vs ${largest}`);
  const load = btf.fields(attr.id).find((f) => f.name === "insn_cnt");
  assert.equal(load?.bitOffset, 32);
  assert.ok(btf.find("func", "bpf_prog_load") !== undefined);
});
