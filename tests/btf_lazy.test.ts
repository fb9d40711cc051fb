// Lazy BTF (parseBtf(bytes, { lazy: true })) gives the same types as eager parsing: every type of
// the running kernel's BTF compared, hand-built blobs of every kind in both byte orders, split
// BTF, name lookups (including functions and duplicate names), and malformed types reported when
// first decoded. kernelBtf() is lazy and shared by the process.
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { BTF_KIND, BtfError, type BtfKindName, parseBtf } from "../lib/btf/mod.ts";
import { kernelBtf, kernelModuleBtf, ObjectError } from "../lib/elf/mod.ts";

const VMLINUX = "/sys/kernel/btf/vmlinux";
const vmlinuxSkip: string | false = existsSync(VMLINUX) ? false : `${VMLINUX} not present`;
const K = BTF_KIND;

/** Builds BTF blobs word by word. */
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
  build(le = true, pad = 0): Uint8Array {
    const typeLen = this.words.length * 4;
    // `pad` bytes before the blob: an unaligned view, as a file read into a shared buffer gives.
    const backing = new Uint8Array(pad + 24 + typeLen + this.strs.length);
    const out = backing.subarray(pad);
    const v = new DataView(out.buffer, out.byteOffset);
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

/** One type of every kind, some names shared between kinds, a function, a non-ASCII name. */
function blob(): Builder {
  const b = new Builder();
  b.type(K.int, "unsigned int", 0, 4, false, 32); // 1
  b.type(K.int, "char", 0, 1, false, (1 << 24) | 8); // 2
  b.type(K.ptr, "", 0, 5); // 3
  b.type(K.array, "", 0, 0, false, 2, 1, 16); // 4
  b.type(K.struct, "pair", 2, 8, true, b.str("a"), 1, 0, b.str("bits"), 1, (3 << 24) | 32); // 5
  b.type(K.union, "pair", 1, 4, false, b.str("x"), 1, 0); // 6: same name, other kind
  b.type(K.enum, "color", 2, 4, true, b.str("RED"), -1, b.str("BLUE"), 7); // 7
  b.type(K.fwd, "pair", 0, 0, false); // 8
  b.type(K.typedef, "größe_t", 0, 1); // 9
  b.type(K.volatile, "", 0, 9); // 10
  b.type(K.const, "", 0, 10); // 11
  b.type(K.restrict, "", 0, 3); // 12
  b.type(K.func_proto, "", 2, 1, false, b.str("p"), 3, 0, 0); // 13
  b.type(K.func, "pair", 1, 13); // 14: a function named like the struct
  b.type(K.func, "f", 0, 13); // 15
  b.type(K.var, "counter", 0, 1, false, 1); // 16
  b.type(K.datasec, ".bss", 1, 4, false, 16, 0, 4); // 17
  b.type(K.float, "double", 0, 8); // 18
  b.type(K.decl_tag, "tag", 0, 5, false, 1); // 19
  b.type(K.type_tag, "user", 0, 1); // 20
  b.type(K.enum64, "big", 1, 8, false, b.str("B1"), 1, 1); // 21
  return b;
}

const KINDS = Object.keys(BTF_KIND) as BtfKindName[];

function sameBtf(
  eager: ReturnType<typeof parseBtf>,
  lazy: ReturnType<typeof parseBtf>,
  names: string[],
): void {
  assert.equal(lazy.typeCount, eager.typeCount);
  assert.equal(lazy.decodedCount, 0, "nothing decoded before the first question");
  for (let id = 0; id < eager.typeCount; id++) {
    assert.deepEqual(lazy.typeById(id), eager.typeById(id));
  }
  for (const name of names) {
    assert.deepEqual(lazy.lookup(name), eager.lookup(name), name);
    for (const kind of KINDS) assert.deepEqual(lazy.lookup(name, kind), eager.lookup(name, kind));
  }
  assert.deepEqual(lazy.types, eager.types);
}

test("lazy BTF: every kind, both byte orders, aligned or not, same types and lookups as eager", () => {
  const names = ["pair", "f", "größe_t", "color", "counter", ".bss", "missing", "", "pai", "pairs"];
  for (const le of [true, false]) {
    for (const pad of [0, 1, 2]) {
      const bytes = blob().build(le, pad);
      sameBtf(parseBtf(bytes), parseBtf(bytes, { lazy: true }), names);
    }
  }
  const lazy = parseBtf(blob().build(), { lazy: true });
  assert.deepEqual(lazy.lookup("pair").map((t) => [t.id, t.kind]), [
    [5, "struct"],
    [6, "union"],
    [8, "fwd"],
    [14, "func"],
  ]);
  assert.deepEqual(lazy.lookup("pair", "func").map((t) => t.id), [14]);
  assert.equal(lazy.get("typedef", "größe_t").id, 9);
  assert.ok(lazy.indexBytes > 0);
});

test("lazy BTF: the first lookups scan the names, later ones use the table: same answers", () => {
  const bytes = blob().build();
  const lazy = parseBtf(bytes, { lazy: true });
  const names = ["pair", "größe_t", "f", "pai"];
  const ids = () => names.map((n) => lazy.lookup(n).map((t) => `${t.id} ${t.kind}`));
  const scanned = ids();
  const before = lazy.indexBytes; // the function list, no hash table yet
  assert.deepEqual(ids(), scanned);
  assert.equal(lazy.indexBytes, before, "no table after a few lookups");
  for (let i = 0; i < 16; i++) lazy.lookup(`nothing${i}`);
  assert.ok(lazy.indexBytes > before, "the table is built once lookups are many");
  assert.deepEqual(ids(), scanned);
  assert.deepEqual(scanned, [
    ["5 struct", "6 union", "8 fwd", "14 func"],
    ["9 typedef"],
    [...parseBtf(bytes).lookup("f").map((t) => `${t.id} ${t.kind}`)],
    [],
  ]);
});

test("lazy BTF: split on a lazy base, names in the base's strings", () => {
  const baseBytes = blob().build();
  const base = parseBtf(baseBytes);
  const lazyBase = parseBtf(baseBytes, { lazy: true });
  const b = new Builder();
  b.strs = [];
  const own = base.stringsLength;
  for (const c of new TextEncoder().encode("mod_t")) b.strs.push(c);
  b.strs.push(0);
  b.words.push(own, (K.typedef << 24) >>> 0, 5); // 22: typedef struct pair mod_t
  b.words.push(0, (K.ptr << 24) >>> 0, 22); // 23
  b.words.push(1, (K.struct << 24) >>> 0, 0); // 24: a struct named with a base string ("unsigned int")
  const eager = parseBtf(b.build(), { base });
  const lazy = parseBtf(b.build(), { base: lazyBase, lazy: true });
  assert.equal(lazy.firstId, 22);
  sameBtf(eager, lazy, ["mod_t", "pair", "unsigned int", "f", "nope"]);
  assert.deepEqual(lazy.lookup("unsigned int").map((t) => [t.id, t.kind]), [[1, "int"], [
    24,
    "struct",
  ]]);
});

test("lazy BTF: record problems at parse time, a type's own problems when it is decoded", () => {
  // A record that runs past the section: found by the one pass, like eager parsing.
  const b1 = new Builder();
  b1.type(K.int, "int", 0, 4, false, 32);
  b1.type(K.struct, "s", 5, 4, false, b1.str("a"), 1, 0);
  assert.throws(() => parseBtf(b1.build(), { lazy: true }), /type \[2\] struct: needs 60 bytes/);
  // A dangling reference and a bad member name: the blob opens, the type throws when decoded,
  // with the same error and offset as eager parsing gives.
  const b2 = new Builder();
  b2.type(K.int, "int", 0, 4, false, 32);
  b2.type(K.ptr, "", 0, 42);
  b2.type(K.struct, "s", 1, 4, false, 7777, 1, 0);
  const bytes = b2.build();
  const lazy = parseBtf(bytes, { lazy: true });
  assert.equal(lazy.typeById(1).name, "int");
  const sameError = (id: number, re: RegExp, offset: number): void => {
    assert.throws(() => lazy.typeById(id), (e: unknown) => {
      assert.ok(e instanceof BtfError);
      assert.match(e.message, re);
      assert.equal(e.offset, offset);
      return true;
    });
  };
  sameError(2, /type \[2\] ptr: type refers to type id 42, but the last id is 3/, 24 + 16);
  sameError(3, /name offset 7777 is outside/, 24 + 16 + 12 + 12);
  assert.throws(() => parseBtf(bytes), /type refers to type id 42/);
  assert.throws(() => lazy.typeById(4), BtfError);
  assert.throws(() => lazy.typeById(-1), BtfError);
});

test("lazy BTF: every type of the running kernel's BTF equals the eager parse", {
  skip: vmlinuxSkip,
}, () => {
  const bytes = readFileSync(VMLINUX);
  const eager = parseBtf(bytes);
  const lazy = parseBtf(bytes, { lazy: true });
  assert.equal(lazy.typeCount, eager.typeCount);
  assert.equal(lazy.decodedCount, 0);
  // Lookups first (only the types they name get decoded), then every id.
  const named = eager.types.filter((t, i) => t.name !== "" && i % 97 === 0);
  for (const t of named) {
    assert.deepEqual(lazy.lookup(t.name).map((x) => x.id), eager.lookup(t.name).map((x) => x.id));
    assert.deepEqual(lazy.lookup(t.name, t.kind), eager.lookup(t.name, t.kind));
  }
  assert.ok(lazy.decodedCount < eager.typeCount / 10, `${lazy.decodedCount} decoded by lookups`);
  for (let id = 0; id < eager.typeCount; id++) {
    assert.deepEqual(lazy.typeById(id), eager.typeById(id));
  }
  assert.equal(lazy.decodedCount, eager.typeCount - 1);
});

test("kernelBtf() is one lazy Btf per process; module BTF is refused clearly when absent", {
  skip: vmlinuxSkip,
}, () => {
  const k = kernelBtf();
  assert.equal(kernelBtf(), k);
  assert.equal(k.get("struct", "bpf_insn").size, 8);
  assert.throws(() => kernelModuleBtf("no_such_module_tsbpf"), (e: unknown) => {
    assert.ok(e instanceof ObjectError);
    assert.match(e.message, /kernel module no_such_module_tsbpf has no BTF/);
    return true;
  });
  assert.throws(() => kernelModuleBtf("../vmlinux"), /is not a kernel module name/);
  assert.throws(() => kernelModuleBtf("vmlinux"), /is not a kernel module name/);
});
