/**
 * Programs and maps: a program run with BPF_PROG_TEST_RUN writes a map that TypeScript reads; a
 * loaded program keeps the maps it uses alive after their handles are closed.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { BpfMap } from "../lib/map/mod.ts";
import { u32, u64 } from "../lib/codec/mod.ts";
import type { Insn } from "../lib/insn/insn.ts";
import { Program } from "../lib/program/program.ts";
import { ldMapFd as builderLdMapFd, R1 } from "../lib/insn/mod.ts";
import { fdsOpenedSince, kernelSkip, openFds } from "./util.ts";
import { mapIds } from "./map_helpers.ts";

const i = (code: number, dst = 0, src = 0, off = 0, imm = 0): Insn => ({
  code,
  dst,
  src,
  off,
  imm,
});
/** ld_imm64 of a map fd (BPF_PSEUDO_MAP_FD): two slots. */
const ldMapFd = (
  dst: number,
  map: { fd: number },
): Insn[] => [i(0x18, dst, 1, 0, map.fd), i(0, 0, 0, 0, 0)];

/** map[0] += 1 (atomic) on an array u32 → u64. */
function countingProgram(map: { fd: number }): Insn[] {
  return [
    i(0xb7, 1, 0, 0, 0), // r1 = 0
    i(0x63, 10, 1, -4, 0), // *(u32 *)(r10 - 4) = r1
    i(0xbf, 2, 10), // r2 = r10
    i(0x07, 2, 0, 0, -4), // r2 += -4
    ...ldMapFd(1, map), // r1 = map
    i(0x85, 0, 0, 0, 1), // call bpf_map_lookup_elem
    i(0x15, 0, 0, 2, 0), // if r0 == 0 goto +2
    i(0xb7, 1, 0, 0, 1), // r1 = 1
    i(0xdb, 0, 1, 0, 0), // lock *(u64 *)(r0 + 0) += r1
    i(0xb7, 0, 0, 0, 0), // r0 = 0
    i(0x95), // exit
  ];
}

/** map[7] = skb->len, with bpf_map_update_elem. */
function lengthProgram(map: { fd: number }): Insn[] {
  return [
    i(0xbf, 6, 1), // r6 = ctx
    i(0xb7, 1, 0, 0, 7), // r1 = 7
    i(0x63, 10, 1, -4, 0), // *(u32 *)(r10 - 4) = r1
    i(0x61, 1, 6, 0, 0), // r1 = *(u32 *)(r6 + 0): skb->len
    i(0x7b, 10, 1, -16, 0), // *(u64 *)(r10 - 16) = r1
    i(0xbf, 2, 10), // r2 = r10
    i(0x07, 2, 0, 0, -4), // r2 += -4
    i(0xbf, 3, 10), // r3 = r10
    i(0x07, 3, 0, 0, -16), // r3 += -16
    ...ldMapFd(1, map), // r1 = map
    i(0xb7, 4, 0, 0, 0), // r4 = BPF_ANY
    i(0x85, 0, 0, 0, 2), // call bpf_map_update_elem
    i(0xb7, 0, 0, 0, 0), // r0 = 0
    i(0x95), // exit
  ];
}

test("a program run with BPF_PROG_TEST_RUN updates maps that TypeScript reads", {
  skip: kernelSkip,
}, () => {
  using counts = BpfMap.create({
    type: "array",
    key: u32,
    value: u64,
    maxEntries: 1,
    name: "counts",
  });
  using lengths = BpfMap.create({
    type: "hash",
    key: u32,
    value: u64,
    maxEntries: 8,
    name: "lengths",
  });
  using counter = Program.load({
    type: "socket_filter",
    insns: countingProgram(counts),
    license: "GPL",
  });
  using measure = Program.load({
    type: "socket_filter",
    insns: lengthProgram(lengths),
    license: "GPL",
  });
  assert.equal(counts.get(0), 0n);
  counter.testRun({ data: new Uint8Array(64), repeat: 5 });
  assert.equal(counts.get(0), 5n);
  counter.testRun({ data: new Uint8Array(64) });
  assert.equal(counts.get(0), 6n);
  assert.equal(lengths.get(7), undefined);
  measure.testRun({ data: new Uint8Array(100) });
  // A socket filter sees the packet after its 14-byte Ethernet header was pulled.
  assert.equal(lengths.get(7), 86n);
  assert.deepEqual([...lengths], [[7, 86n]]);
  assert.ok(counter.info().mapIds.includes(counts.id));
});

test(
  "closing a map handle that a loaded program uses breaks nothing",
  { skip: kernelSkip },
  async () => {
    const fds = openFds();
    const counts = BpfMap.create({
      type: "array",
      key: u32,
      value: u64,
      maxEntries: 1,
      name: "kept_alive",
    });
    const id = counts.id;
    const prog = Program.load({
      type: "socket_filter",
      insns: countingProgram(counts),
      license: "GPL",
    });
    counts.close(); // the program holds the map (used_maps), as the kernel counts references
    assert.throws(() => counts.get(0), /closed/);
    assert.ok(BpfMap.list().includes(id), "the map still exists");
    prog.testRun({ data: new Uint8Array(64), repeat: 3 });
    {
      using again = BpfMap.fromId(id, { key: u32, value: u64 });
      assert.equal(again.name, "kept_alive");
      assert.equal(again.get(0), 3n, "the program kept counting into it");
    }
    prog.close(); // the last reference: the kernel frees the map (asynchronously)
    const deadline = Date.now() + 3000;
    while (mapIds().has(id) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    assert.ok(!mapIds().has(id), "the map is gone once the program is");
    assert.deepEqual(fdsOpenedSince(fds), []);
  },
);

test("the instruction builder's ldMapFd takes a BpfMap", { skip: kernelSkip }, () => {
  using counts = BpfMap.create({ type: "array", key: u32, value: u64, maxEntries: 1 });
  const insns = countingProgram(counts);
  const load = builderLdMapFd(R1, counts); // the same two slots as the hand-written ld_imm64
  assert.deepEqual(load, insns.slice(4, 6));
  using prog = Program.load({
    type: "socket_filter",
    insns: [...insns.slice(0, 4), ...load, ...insns.slice(6)],
    license: "GPL",
  });
  prog.testRun({ data: new Uint8Array(64), repeat: 2 });
  assert.equal(counts.get(0), 2n);
});
