/**
 * Codecs from BTF (`codecFromBtf`) and `loadObject(…, { typed: true })`: maps read and written as
 * JavaScript values described by the object's BTF.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { type Btf, BTF_KIND, parseBtf } from "../lib/btf/mod.ts";
import { codecFromBtf, type StructCodec } from "../lib/codec/mod.ts";
import { loadObject, ObjectError, ObjectSpec } from "../lib/elf/mod.ts";
import type { BpfMap } from "../lib/map/mod.ts";
import { BPF_FDS, fdsOpenedSince, kernelSkip, openFds, repoRoot, unlessProfile } from "./util.ts";

const fixture = (name: string): string => join(repoRoot, "tests", "fixtures", "elf", name);
const SYSCALLS = join(repoRoot, "examples", "bpf", "syscalls.bpf.o");
const globals = ObjectSpec.parse(readFileSync(fixture("globals.bpf.o")));
const core = ObjectSpec.parse(readFileSync(fixture("core.bpf.o")));

function typeId(btf: Btf, kind: keyof typeof BTF_KIND, name: string): number {
  return btf.get(kind, name).id;
}

function roundTrip(codec: ReturnType<typeof codecFromBtf>, value: unknown): unknown {
  const view = new DataView(new ArrayBuffer(codec.size));
  codec.encode(value, view, 0);
  return codec.decode(view, 0);
}

test("codecFromBtf: struct stats round-trips with the C layout", () => {
  const btf = globals.types!;
  const stats = codecFromBtf(btf, typeId(btf, "struct", "stats")) as StructCodec<unknown>;
  assert.equal(stats.name, "struct stats");
  assert.equal(stats.size, 24);
  assert.equal(stats.align, 8);
  assert.deepEqual(stats.fields.map((f) => [f.name, f.offset, f.codec.name]), [
    ["packets", 0, "u64"],
    ["bytes", 8, "u64"],
    ["last_len", 16, "u32"],
    ["pad", 20, "u32"],
  ]);
  const value = { packets: 3n, bytes: 1500n, last_len: 64, pad: 0 };
  assert.deepEqual(roundTrip(stats, value), value);
  const view = new DataView(new ArrayBuffer(24));
  stats.encode(value, view, 0);
  assert.equal(view.getBigUint64(8, true), 1500n);
  assert.equal(view.getUint32(16, true), 64);
});

test("codecFromBtf: map key/value ids, typedefs and qualifiers resolve to integers", () => {
  const btf = globals.types!;
  const counters = globals.maps.find((m) => m.name === "counters")!;
  assert.equal(codecFromBtf(btf, counters.keyTypeId!).name, "u32"); // __u32
  assert.equal(codecFromBtf(btf, counters.valueTypeId!).name, "u64"); // __u64
  const scale = btf.get("var", "scale"); // const volatile __u32
  assert.equal(codecFromBtf(btf, scale.type).name, "u32");
  assert.equal(codecFromBtf(btf, typeId(btf, "int", "int")).name, "i32");
  assert.equal(codecFromBtf(btf, typeId(btf, "int", "long")).name, "i64");
  // A pointer is its 64-bit address.
  const ptr = btf.types.find((t) => t.kind === "ptr")!;
  assert.equal(codecFromBtf(btf, ptr.id).name, "u64");
});

test("codecFromBtf: arrays, char arrays as strings, anonymous unions as _N", () => {
  const btf = globals.types!;
  const skb = codecFromBtf(btf, typeId(btf, "struct", "__sk_buff")) as StructCodec<unknown>;
  assert.equal(skb.size, 192);
  const cb = skb.fields.find((f) => f.name === "cb")!;
  assert.equal(cb.codec.name, "u32[5]");
  assert.deepEqual(roundTrip(cb.codec, [1, 2, 3, 4, 5]), [1, 2, 3, 4, 5]);
  // `union { struct bpf_flow_keys *flow_keys; }` (anonymous): raw bytes named by member index.
  const anon = skb.fields.filter((f) => /^_\d+$/.test(f.name));
  assert.ok(anon.length >= 1);
  for (const f of anon) assert.equal(f.codec.name, "u8[8]");
  // A decoded value encodes and decodes back to itself.
  const raw = new Uint8Array(192).map((_, i) => i);
  const decoded = skb.decode(new DataView(raw.buffer), 0);
  assert.deepEqual(roundTrip(skb, decoded), decoded);

  const task = codecFromBtf(core.types!, typeId(core.types!, "struct", "task_struct"));
  const comm = (task as StructCodec<unknown>).fields.find((f) => f.name === "comm")!;
  assert.equal(comm.codec.name, "char[16]");
  assert.equal(roundTrip(comm.codec, "tsbpf"), "tsbpf");
  const license = globals.types!.get("var", "LICENSE");
  assert.equal(codecFromBtf(globals.types!, license.id).name, "char[4]");
});

test("codecFromBtf: enums are integers of their size and signedness", () => {
  const btf = core.types!;
  const e = codecFromBtf(btf, typeId(btf, "enum", "bpf_map_type___local"));
  assert.equal(e.name, "u32");
  assert.equal(roundTrip(e, 27), 27);
});

test("codecFromBtf: unknown ids and sizeless types are refused", () => {
  const btf = globals.types!;
  assert.throws(() => codecFromBtf(btf, 9999), {
    name: "CodecError",
    message: new RegExp(
      `codecFromBtf: no BTF type with id 9999 \\(ids are 0\\.\\.${btf.types.length - 1}\\)`,
    ),
  });
  assert.throws(() => codecFromBtf(btf, 0), /\[0\] void has no size/);
  assert.throws(
    () => codecFromBtf(btf, typeId(btf, "fwd", "bpf_sock")),
    /\[\d+\] fwd bpf_sock has no size/,
  );
});

/** A BTF blob built by hand: ids 1 u32, 2 bool, 3 float, 4 signed enum64, 5 flags (bitfield). */
function synthetic(): Btf {
  const strs: number[] = [0];
  const str = (s: string): number => {
    const off = strs.length;
    for (const b of new TextEncoder().encode(s)) strs.push(b);
    strs.push(0);
    return off;
  };
  const words: number[] = [];
  const type = (kind: number, name: string, vlen: number, size: number, kflag: boolean) => {
    words.push(name === "" ? 0 : str(name), ((kflag ? 1 << 31 : 0) | (kind << 24) | vlen) >>> 0);
    words.push(size);
  };
  const K = BTF_KIND;
  type(K.int, "unsigned int", 0, 4, false), words.push(32); // 1
  type(K.int, "_Bool", 0, 1, false), words.push((4 << 24) | 8); // 2 BTF_INT_BOOL
  type(K.float, "float", 0, 4, false); // 3
  type(K.enum64, "big", 1, 8, true), words.push(str("NEG"), 0xffffffff, 0xffffffff); // 4
  type(K.struct, "flags", 2, 8, true); // 5: { u32 a; u32 mode:3; }
  words.push(str("a"), 1, 0, str("mode"), 1, ((3 << 24) | 32) >>> 0);
  const typeLen = words.length * 4;
  const out = new Uint8Array(24 + typeLen + strs.length);
  const v = new DataView(out.buffer);
  v.setUint16(0, 0xeb9f, true);
  v.setUint8(2, 1);
  v.setUint32(4, 24, true);
  v.setUint32(12, typeLen, true);
  v.setUint32(16, typeLen, true);
  v.setUint32(20, strs.length, true);
  words.forEach((w, i) => v.setUint32(24 + 4 * i, w, true));
  out.set(strs, 24 + typeLen);
  return parseBtf(out);
}

test("codecFromBtf: bool, float, signed enum64; a bitfield is refused naming the member", () => {
  const btf = synthetic();
  assert.equal(codecFromBtf(btf, 2).name, "bool");
  assert.equal(roundTrip(codecFromBtf(btf, 2), true), true);
  assert.equal(codecFromBtf(btf, 3).name, "f32");
  assert.equal(codecFromBtf(btf, 4).name, "i64");
  assert.equal(roundTrip(codecFromBtf(btf, 4), -1n), -1n);
  assert.throws(() => codecFromBtf(btf, 5), {
    name: "BtfError",
    message: /struct flags member "mode" is a bitfield \(3 bits at bit 32\)/,
  });
});

test("loadObject { typed: true }: a bitfield map type is an ObjectError before any syscall", () => {
  // Pure: the codecs are built before the first BPF_BTF_LOAD / BPF_MAP_CREATE.
  const spec = ObjectSpec.parse(readFileSync(fixture("globals.bpf.o")));
  const broken = Object.create(spec, {
    types: { value: synthetic() },
    maps: { value: [{ ...spec.maps[0], keyTypeId: 1, valueTypeId: 5, valueSize: 8 }] },
  });
  assert.throws(() => loadObject(broken, { typed: true }), (e: unknown) => {
    assert.ok(e instanceof ObjectError);
    assert.match(e.message, /^map stats_by_key: no value codec for \{ typed: true \}: .*"mode"/);
    return true;
  });
});

test("loadObject { typed: true }: globals.bpf.o maps read as objects and bigints", {
  // globals.bpf.o calls bpf_loop (#181).
  skip: unlessProfile((p) => p.helperKnown(181)),
}, () => {
  const before = openFds();
  {
    using obj = loadObject(fixture("globals.bpf.o"), { typed: true, constants: { scale: 3 } });
    const r = obj.programs.count_packets.testRun({ data: new Uint8Array(64) });
    assert.equal(r.retval, 42 * 3 + 3);
    const stats = obj.maps.stats_by_key as BpfMap<unknown, unknown> as BpfMap<
      number,
      { packets: bigint; bytes: bigint; last_len: number; pad: number }
    >;
    // The program stores skb->len in .bss; the key is its low 4 bits.
    const bss = obj.maps[".bss"].get(new Uint8Array(4))!;
    const len = new DataView(bss.buffer, bss.byteOffset).getUint32(8, true);
    assert.ok(len > 0 && len <= 64);
    assert.deepEqual([...stats.keys()], [len & 0xf]);
    assert.deepEqual(stats.get(len & 0xf), {
      packets: 1n,
      bytes: BigInt(len),
      last_len: len,
      pad: 0,
    });
    stats.set(5, { packets: 2n, bytes: 3n, last_len: 4, pad: 0 });
    assert.deepEqual(stats.get(5), { packets: 2n, bytes: 3n, last_len: 4, pad: 0 });
    const counters = obj.maps.counters as BpfMap<unknown, unknown> as BpfMap<number, bigint>;
    assert.deepEqual([...counters.values()], [1n, 0n, 0n, 0n]);
    // Global data stays raw.
    // Without { typed: true }: raw bytes, as before.
    using raw = loadObject(fixture("globals.bpf.o"));
    assert.ok(raw.maps.counters.get(new Uint8Array(4)) instanceof Uint8Array);
  }
  assert.deepEqual(fdsOpenedSince(before, BPF_FDS), []);
});

test("loadObject { typed: true }: syscalls.bpf.o calls map is u32 -> u64", {
  skip: kernelSkip,
}, () => {
  using obj = loadObject(SYSCALLS, { typed: true });
  const calls = obj.maps.calls as BpfMap<unknown, unknown> as BpfMap<number, bigint>;
  calls.set(3, 12n);
  assert.equal(calls.get(3), 12n);
  assert.deepEqual([...calls.entries()], [[3, 12n]]);
  assert.equal(calls.get(4), undefined);
});
