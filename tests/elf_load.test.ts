/**
 * Loading objects into the kernel: maps, global data, subprograms, BTF line info, CO-RE, and
 * cleanup on every failure path.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parseBtf } from "../lib/btf/mod.ts";
import { VerifierError } from "../lib/errors.ts";
import { decodeInsns, type Insn } from "../lib/insn/mod.ts";
import { loadObject, ObjectError, ObjectSpec } from "../lib/elf/mod.ts";
import { BPF_FDS, fdsOpenedSince, kernelSkip, openFds, repoRoot, unlessProfile } from "./util.ts";

const path = (name: string): string => join(repoRoot, "tests", "fixtures", "elf", name);
const u64 = (b: Uint8Array, off: number): bigint =>
  new DataView(b.buffer, b.byteOffset).getBigUint64(off, true);
const u32 = (b: Uint8Array, off: number): number =>
  new DataView(b.buffer, b.byteOffset).getUint32(off, true);
const KEY0 = new Uint8Array(4);

/**
 * For each compiled instruction, the index of the translated one it became (-1: none): the longest
 * common subsequence by opcode and registers, so that instructions the kernel inserted are skipped.
 */
function alignInsns(a: readonly Insn[], b: readonly Insn[]): number[] {
  const same = (x: Insn, y: Insn) => x.code === y.code && x.dst === y.dst && x.src === y.src;
  const n = a.length, m = b.length;
  const len = Array.from({ length: n + 1 }, () => new Array<number>(m + 1).fill(0));
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      len[i][j] = same(a[i], b[j]) ? len[i + 1][j + 1] + 1 : Math.max(len[i + 1][j], len[i][j + 1]);
    }
  }
  const out = new Array<number>(n).fill(-1);
  for (let i = 0, j = 0; i < n && j < m;) {
    if (same(a[i], b[j]) && len[i][j] === len[i + 1][j + 1] + 1) out[i++] = j++;
    else if (len[i + 1][j] >= len[i][j + 1]) i++;
    else j++;
  }
  return out;
}

/** globals.bpf.o calls bpf_loop (#181): loading it needs a kernel that has it. */
const loopSkip = unlessProfile((p) => p.helperKnown(181));

test("globals, BTF maps, BPF-to-BPF call and bpf_loop run under BPF_PROG_TEST_RUN", {
  skip: loopSkip,
}, () => {
  const before = openFds();
  {
    using obj = loadObject(path("globals.bpf.o"), { constants: { scale: 3 } });
    assert.equal(obj.btfError, undefined);
    const prog = obj.programs.count_packets;
    const r = prog.testRun({ data: new Uint8Array(64) });
    assert.equal(r.retval, 42 * 3 + 3);
    const len = u32(obj.maps[".bss"].get(KEY0)!, 8);
    assert.ok(len > 0 && len <= 64);
    assert.equal(u64(obj.maps[".bss"].get(KEY0)!, 0), 6n); // 0+1+2+3 from bpf_loop
    assert.equal(u64(obj.maps[".data"].get(KEY0)!, 0), 8n); // 7, incremented once
    assert.equal(u32(obj.maps[".rodata"].get(KEY0)!, 0), 3);
    const stats = obj.maps.stats_by_key.get(new Uint8Array([len & 0xf, 0, 0, 0]))!;
    assert.deepEqual([u64(stats, 0), u64(stats, 8), u32(stats, 16)], [1n, BigInt(len), len]);
    assert.equal(u64(obj.maps.counters.get(KEY0)!, 0), 1n);
    // The map carries the BTF of struct stats.
    assert.ok(obj.maps.stats_by_key.info().btfValueTypeId > 0);
    // Without the constant, the .rodata default (scale = 1) applies.
    using again = loadObject(readFileSync(path("globals.bpf.o")));
    assert.equal(again.programs.count_packets.testRun({ data: new Uint8Array(64) }).retval, 45);
  }
  assert.deepEqual(fdsOpenedSince(before, BPF_FDS), []);
});

test("legacy maps section and a tc program", { skip: kernelSkip }, () => {
  using obj = loadObject(path("tc_legacy.bpf.o"));
  const r = obj.programs.classify.testRun({ data: new Uint8Array(100) });
  assert.equal(r.retval, 0); // TC_ACT_OK
  assert.equal(u64(obj.maps.seen.get(new Uint8Array([1, 0, 0, 0]))!, 0), 100n);
});

test("a verifier refusal shows the C source line from BTF line_info", { skip: kernelSkip }, () => {
  const before = openFds();
  assert.throws(() => loadObject(path("unverifiable.bpf.o")), (e: unknown) => {
    assert.ok(e instanceof VerifierError);
    assert.match(e.message, /@ unverifiable\.bpf\.c:11/);
    assert.match(e.message, /invalid access to packet/);
    return true;
  });
  assert.deepEqual(fdsOpenedSince(before, BPF_FDS), []);
});

test(
  "a map the kernel refuses: ObjectError naming it, nothing leaked",
  { skip: kernelSkip },
  () => {
    const before = openFds();
    assert.throws(() => loadObject(path("bad_map.bpf.o")), (e: unknown) => {
      assert.ok(e instanceof ObjectError);
      assert.match(e.message, /^map refused \(section "\.maps"\): BPF_MAP_CREATE failed: EINVAL/);
      return true;
    });
    assert.deepEqual(fdsOpenedSince(before, BPF_FDS), []);
  },
);

test("an unresolvable CO-RE relocation is poisoned and named when refused", {
  skip: kernelSkip,
}, () => {
  const before = openFds();
  assert.throws(() => loadObject(path("core_bad.bpf.o")), (e: unknown) => {
    assert.ok(e instanceof ObjectError);
    assert.match(
      e.message,
      /program bad_core: .*FIELD_BYTE_OFFSET struct task_struct::field_that_does_not_exist/,
    );
    assert.ok(e.cause instanceof VerifierError);
    return true;
  });
  assert.deepEqual(fdsOpenedSince(before, BPF_FDS), []);
});

test(
  "CO-RE against the running kernel: offsets equal the kernel's BTF",
  { skip: kernelSkip },
  () => {
    const before = openFds();
    {
      using obj = loadObject(path("core.bpf.o"));
      assert.ok(obj.programs.core_reads.fd > 0);
      const vm = parseBtf(readFileSync("/sys/kernel/btf/vmlinux"));
      const task = vm.get("struct", "task_struct");
      const field = (name: string): { bitOffset: number; type: number } =>
        vm.fields(task.id).find((f) => f.name === name)!;
      const lh = vm.get("struct", "list_head");
      const r = Object.fromEntries(obj.core.core_reads.map((x) => [x.description, x.value]));
      assert.equal(
        r["FIELD_BYTE_OFFSET struct task_struct::pid (0:0)"],
        field("pid").bitOffset / 8,
      );
      assert.equal(
        r["FIELD_BYTE_OFFSET struct task_struct::tgid (0:1)"],
        field("tgid").bitOffset / 8,
      );
      assert.equal(
        r["FIELD_BYTE_OFFSET struct task_struct::comm (0:2)"],
        field("comm").bitOffset / 8,
      );
      assert.equal(
        r["FIELD_BYTE_OFFSET struct task_struct::comm[3] (0:2:3)"],
        field("comm").bitOffset / 8 + 3,
      );
      assert.equal(
        r["FIELD_BYTE_SIZE struct task_struct::comm (0:2)"],
        vm.sizeOf(field("comm").type),
      );
      assert.equal(
        r["FIELD_BYTE_OFFSET struct task_struct::tasks.prev (0:4:1)"],
        field("tasks").bitOffset / 8 + lh.members[1].bitOffset / 8,
      );
      assert.equal(r["FIELD_EXISTS struct task_struct::tgid (0:1)"], 1);
      assert.equal(
        r["FIELD_EXISTS struct task_struct___old::no_such_field_in_any_kernel (0:1)"],
        0,
      );
      assert.equal(r["TYPE_SIZE struct task_struct"], task.size);
      assert.equal(r["TYPE_EXISTS struct task_struct"], 1);
      assert.equal(
        r["ENUMVAL_EXISTS enum bpf_map_type___local::BPF_MAP_TYPE_RINGBUF___local"],
        1,
      );
      assert.ok(obj.core.core_reads.every((x) => !x.poisoned));
      // The loaded program carries the values: read back the kernel's translated instructions at
      // each relocated instruction.
      const expected: Record<string, number> = {
        "FIELD_BYTE_OFFSET struct task_struct::pid (0:0)": field("pid").bitOffset / 8,
        "FIELD_BYTE_OFFSET struct task_struct::tgid (0:1)": field("tgid").bitOffset / 8,
        "FIELD_BYTE_OFFSET struct task_struct::comm (0:2)": field("comm").bitOffset / 8,
        "FIELD_BYTE_OFFSET struct task_struct::comm[3] (0:2:3)": field("comm").bitOffset / 8 + 3,
        "FIELD_BYTE_SIZE struct task_struct::comm (0:2)": vm.sizeOf(field("comm").type),
        "FIELD_BYTE_OFFSET struct task_struct::tasks.prev (0:4:1)": field("tasks").bitOffset / 8 +
          lh.members[1].bitOffset / 8,
        "FIELD_BYTE_OFFSET struct task_struct::real_parent (0:3)": field("real_parent").bitOffset /
          8,
        "FIELD_EXISTS struct task_struct::tgid (0:1)": 1,
        "FIELD_EXISTS struct task_struct___old::no_such_field_in_any_kernel (0:1)": 0,
        "TYPE_SIZE struct task_struct": task.size,
        "TYPE_EXISTS struct task_struct": 1,
        "ENUMVAL_EXISTS enum bpf_map_type___local::BPF_MAP_TYPE_RINGBUF___local": 1,
      };
      const xlated = obj.programs.core_reads.xlated();
      const compiled = decodeInsns(obj.spec.programs[0].insns);
      // Some kernels patch in instructions of their own (7.3 adds two here): compiled
      // instructions are matched to translated ones by opcode and registers, in order.
      const at = alignInsns(compiled, xlated);
      assert.deepEqual(
        obj.core.core_reads.map((x) => x.description).sort(),
        Object.keys(expected).sort(),
      );
      let changed = 0;
      for (const x of obj.core.core_reads) {
        assert.ok(at[x.insn] >= 0, `${x.description}: no translated instruction matches`);
        const insn = xlated[at[x.insn]];
        const want = expected[x.description];
        const cls = insn.code & 7;
        assert.equal(insn.code, compiled[x.insn].code, x.description);
        if (insn.code === 0x18) {
          assert.deepEqual([insn.imm, xlated[at[x.insn] + 1].imm], [want, 0], x.description);
        } else if (cls === 1 || cls === 2 || cls === 3) {
          assert.equal(insn.off, want, x.description);
        } else {
          assert.equal(insn.imm, want, x.description);
        }
        if (insn.imm !== compiled[x.insn].imm || insn.off !== compiled[x.insn].off) changed++;
      }
      assert.ok(changed >= 6, `${changed} instructions differ from the compiled ones`);
    }
    assert.deepEqual(fdsOpenedSince(before, BPF_FDS), []);
  },
);

test("a program refused after maps were created closes the maps", { skip: kernelSkip }, () => {
  // core_bad.bpf.o's .bss map is created (and its BTF loaded) before its program is refused.
  const spec = ObjectSpec.parse(readFileSync(path("core_bad.bpf.o")));
  assert.ok(spec.globals.length > 0); // .bss is created before the program is refused
  const before = openFds();
  assert.throws(() => loadObject(spec), ObjectError);
  assert.deepEqual(fdsOpenedSince(before, BPF_FDS), []);
  assert.throws(
    () => loadObject(path("globals.bpf.o"), { constants: { nope: 1 } }),
    /constant nope: no such variable in \.rodata/,
  );
  assert.throws(
    () => loadObject(path("globals.bpf.o"), { constants: { scale: new Uint8Array(2) } }),
    /constant scale: 2 bytes given, the variable has 4/,
  );
  assert.deepEqual(fdsOpenedSince(before, BPF_FDS), []);
});

test("close() is idempotent and releases every fd", { skip: loopSkip }, () => {
  const before = openFds();
  const obj = loadObject(path("globals.bpf.o"));
  assert.notDeepEqual(fdsOpenedSince(before, BPF_FDS), []);
  obj.close();
  obj.close();
  assert.deepEqual(fdsOpenedSince(before, BPF_FDS), []);
});
