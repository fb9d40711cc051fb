// CO-RE field relocations find members through anonymous structs and unions of the target at
// any depth, the first of a name in member order, the same on every call (the member index is
// built once per target type and reused, and candidates once per local type).
import { test } from "node:test";
import assert from "node:assert/strict";
import { parseBtf } from "../lib/btf/mod.ts";
import { resolveCoreRelo } from "../lib/elf/mod.ts";
import { BtfBuilder, K } from "./btf_builder.ts";

function localBtf(): ReturnType<typeof parseBtf> {
  const b = new BtfBuilder();
  const u32 = b.u32(); // 1
  b.struct("", 8, [["c", u32, 0], ["d", u32, 4]]); // 2
  b.struct("s", 16, [["a", u32, 0], ["", 2, 4], ["e", u32, 12]]); // 3
  return parseBtf(b.build());
}

function targetBtf(): ReturnType<typeof parseBtf> {
  const b = new BtfBuilder();
  const u32 = b.u32(); // 1
  b.struct("", 8, [["d", u32, 0], ["c", u32, 4]]); // 2: anonymous
  // 3: an anonymous union holding x and the anonymous struct 2
  b.type(K.union, "", 2, 8, false, b.str("x"), u32, 0, 0, 2, 0);
  // 4: s with a later "c" that the walk in member order never reaches
  b.struct("s", 40, [["e", u32, 0], ["", 3, 8], ["a", u32, 20], ["c", u32, 32]]);
  return parseBtf(b.build());
}

test("CO-RE: members through nested anonymous structs and unions, first in member order", () => {
  const local = localBtf();
  const target = targetBtf();
  const cache = new Map();
  const offset = (access: string) =>
    resolveCoreRelo({ insn: 0, typeId: 3, access, kind: 0 }, local, target, undefined, cache)
      .value;
  for (let round = 0; round < 2; round++) {
    assert.equal(offset("0:0"), 20); // a
    assert.equal(offset("0:1:0"), 12); // c: union at 8, struct at 8, c at 4
    assert.equal(offset("0:1:1"), 8); // d
    assert.equal(offset("0:2"), 0); // e
  }
  assert.equal(cache.size, 1, "one candidate list for the one local type");
  // Without a cache, and against a fresh parse of the target: the same answers.
  const fresh = targetBtf();
  assert.equal(
    resolveCoreRelo({ insn: 0, typeId: 3, access: "0:1:0", kind: 0 }, local, fresh)
      .value,
    12,
  );
  // A field the target lacks: FIELD_EXISTS says 0, an offset cannot be resolved.
  const b = new BtfBuilder();
  const u32 = b.u32();
  b.struct("s", 4, [["a", u32, 0]]);
  const small = parseBtf(b.build());
  assert.equal(
    resolveCoreRelo({ insn: 0, typeId: 3, access: "0:2", kind: 2 }, local, small).value,
    0,
  );
  const r = resolveCoreRelo({ insn: 0, typeId: 3, access: "0:1:0", kind: 0 }, local, small);
  assert.equal(r.value, undefined);
  assert.match(r.reason!, /not in 1 candidate/);
});
