/**
 * The pure ELF object layer: no kernel needed.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parseBtf } from "../lib/btf/mod.ts";
import { decodeInsns } from "../lib/insn/mod.ts";
import {
  applyCoreRelocations,
  CORE_POISON_IMM,
  ElfError,
  fixupBtf,
  ObjectError,
  ObjectSpec,
  parseElf,
  programTypeOfSection,
} from "../lib/elf/mod.ts";
import { repoRoot } from "./util.ts";

const fixture = (name: string): Uint8Array =>
  new Uint8Array(readFileSync(join(repoRoot, "tests", "fixtures", "elf", name)));

test("parseElf reads sections, symbols and relocations", () => {
  const elf = parseElf(fixture("globals.bpf.o"));
  const names = elf.sections.map((s) => s.name);
  for (const n of [".text", "socket", ".rodata", ".data", ".bss", ".maps", "license", ".BTF"]) {
    assert.ok(names.includes(n), n);
  }
  assert.equal(elf.section(".bss")!.size, 12);
  const sym = elf.symbols.find((s) => s.name === "count_packets")!;
  assert.equal(elf.sections[sym.section].name, "socket");
  assert.ok((elf.relocations.get(sym.section) ?? []).length >= 9);
});

test("truncated and garbage ELF throw ElfError with the file offset", () => {
  const bytes = fixture("globals.bpf.o");
  assert.throws(() => parseElf(bytes.subarray(0, 20)), (e: unknown) => {
    assert.ok(e instanceof ElfError);
    assert.equal(e.offset, 20);
    return true;
  });
  assert.throws(() => parseElf(new Uint8Array(100).fill(0x41)), (e: unknown) => {
    assert.ok(e instanceof ElfError);
    assert.match(e.message, /bad magic.*file offset 0/);
    return true;
  });
  // Cut before the section header table (at the end of the file).
  assert.throws(() => parseElf(bytes.subarray(0, bytes.length - 100)), (e: unknown) => {
    assert.ok(e instanceof ElfError);
    assert.ok(e.offset >= 0);
    assert.match(e.message, /past the end of the file/);
    return true;
  });
  const wrongMachine = bytes.slice();
  wrongMachine[18] = 62; // EM_X86_64
  assert.throws(() => parseElf(wrongMachine), /e_machine 62 is not EM_BPF.*offset 18/);
  // A section whose contents run past the end.
  const badSection = bytes.slice();
  const v = new DataView(badSection.buffer);
  const shoff = Number(v.getBigUint64(40, true));
  v.setBigUint64(shoff + 2 * 64 + 32, 1n << 40n, true); // section 2's sh_size
  assert.throws(() => parseElf(badSection), (e: unknown) => {
    assert.ok(e instanceof ElfError);
    assert.equal(e.offset, shoff + 2 * 64 + 24);
    return true;
  });
});

test("ObjectSpec: BTF maps, global data, license", () => {
  const spec = ObjectSpec.parse(fixture("globals.bpf.o"));
  assert.equal(spec.license, "GPL");
  const byName = Object.fromEntries(spec.maps.map((m) => [m.name, m]));
  assert.deepEqual(
    [byName.stats_by_key.type, byName.stats_by_key.keySize, byName.stats_by_key.valueSize],
    [1, 4, 24],
  );
  assert.equal(byName.stats_by_key.maxEntries, 16);
  const value = spec.types!.resolve(byName.stats_by_key.valueTypeId!);
  assert.equal(value.kind === "struct" && value.name, "stats");
  assert.deepEqual([byName.counters.type, byName.counters.valueSize, byName.counters.maxEntries], [
    2,
    8,
    4,
  ]);
  const g = Object.fromEntries(spec.globals.map((m) => [m.name, m]));
  assert.deepEqual(Object.keys(g).sort(), [".bss", ".data", ".rodata"]);
  assert.equal(g[".rodata"].readonly, true);
  assert.equal(g[".bss"].data, undefined);
  assert.equal(g[".data"].valueSize, 8);
  assert.equal(
    new DataView(g[".data"].data!.buffer, g[".data"].data!.byteOffset).getBigUint64(0, true),
    7n,
  );
});

test("ObjectSpec links subprograms: BPF-to-BPF call and bpf_loop callback", () => {
  const spec = ObjectSpec.parse(fixture("globals.bpf.o"));
  assert.equal(spec.programs.length, 1);
  const p = spec.programs[0];
  assert.equal(p.name, "count_packets");
  assert.equal(p.typeName, "socket_filter");
  const insns = decodeInsns(p.insns);
  const funcStarts = p.btfExt.funcInfo.map((f) => f.insn);
  assert.equal(funcStarts.length, 3); // program, loop_cb, times_scale
  const names = p.btfExt.funcInfo.map((f) => spec.types!.typeById(f.typeId).name);
  assert.deepEqual(names, ["count_packets", "loop_cb", "times_scale"]);
  const raw = new DataView(p.insns.buffer, p.insns.byteOffset);
  let calls = 0;
  let callbacks = 0;
  for (let i = 0; i < p.insns.length / 8; i++) {
    const op = p.insns[i * 8];
    const src = p.insns[i * 8 + 1] >> 4;
    const imm = raw.getInt32(i * 8 + 4, true);
    if (op === 0x85 && src === 1) {
      calls++;
      assert.equal(names[funcStarts.indexOf(i + imm + 1)], "times_scale");
    }
    if (op === 0x18 && src === 4) {
      callbacks++;
      assert.equal(names[funcStarts.indexOf(i + imm + 1)], "loop_cb");
    }
  }
  assert.equal(calls, 1);
  assert.equal(callbacks, 1);
  assert.ok(insns.length === p.insns.length / 8);
  // Map and global-data references, the latter with offsets.
  const rel = p.relocations.map((r) => `${r.map}${r.offset === undefined ? "" : `+${r.offset}`}`);
  assert.deepEqual(
    new Set(rel),
    new Set(["stats_by_key", "counters", ".rodata+8", ".rodata+0", ".bss+0", ".bss+8", ".data+0"]),
  );
  // Line info is sorted and covers the subprograms.
  const li = p.btfExt.lineInfo.map((l) => l.insn);
  assert.deepEqual(li, [...li].sort((a, b) => a - b));
  assert.ok(li.includes(funcStarts[1]) && li.includes(funcStarts[2]));
});

test("section names pick the program type through the registry", () => {
  assert.equal(programTypeOfSection("socket").typeName, "socket_filter");
  assert.equal(programTypeOfSection("xdp").typeName, "xdp");
  assert.equal(programTypeOfSection("tc").typeName, "sched_cls");
  const tp = programTypeOfSection("tracepoint/syscalls/sys_enter_execve");
  assert.equal(tp.typeName, "tracepoint");
  assert.equal(tp.target, "syscalls/sys_enter_execve");
  const spec = ObjectSpec.parse(fixture("tc_legacy.bpf.o"));
  assert.equal(spec.programs[0].typeName, "sched_cls");
  assert.equal(spec.license, "Dual MIT/GPL");
  assert.deepEqual(
    spec.maps.map((m) => [m.name, m.kind, m.type, m.keySize, m.valueSize, m.maxEntries]),
    [["seen", "legacy", 2, 4, 8, 2]],
  );
});

test("unknown section and missing license are ObjectErrors naming the problem", () => {
  assert.throws(() => ObjectSpec.parse(fixture("unknown_section.bpf.o")), (e: unknown) => {
    assert.ok(e instanceof ObjectError);
    assert.match(e.message, /section "not_a_program_type\/foo": no program type claims it/);
    return true;
  });
  assert.throws(() => ObjectSpec.parse(fixture("no_license.bpf.o")), (e: unknown) => {
    assert.ok(e instanceof ObjectError);
    assert.match(e.message, /no "license" section/);
    return true;
  });
});

test(".BTF.ext is decoded and fixupBtf fills DATASEC sizes and offsets", () => {
  const spec = ObjectSpec.parse(fixture("globals.bpf.o"));
  assert.ok(spec.btfExt!.funcInfo.length === 3);
  assert.ok(spec.btfExt!.lineInfo.length > 10);
  assert.equal(spec.types!.find("datasec", ".rodata")!.size, 0); // as clang leaves it
  const fixed = parseBtf(fixupBtf(spec.btf!, spec.elf));
  const ro = fixed.find("datasec", ".rodata")!;
  assert.equal(ro.size, 16);
  const offsets = Object.fromEntries(ro.vars.map((v) => [fixed.typeById(v.type).name, v.offset]));
  assert.deepEqual(offsets, { scale: 0, magic: 8 });
  assert.equal(fixed.find("datasec", ".bss")!.size, 12);
});

test("CO-RE: relocations resolve against a target BTF; missing fields poison", () => {
  const spec = ObjectSpec.parse(fixture("core.bpf.o"));
  const p = spec.programs[0];
  const kinds = new Set(p.btfExt.coreRelos.map((r) => r.kind));
  for (const k of [0, 1, 2, 8, 9, 10]) assert.ok(kinds.has(k), `kind ${k}`);
  // Against the object's own BTF, offsets are the compiled ones; the ___old flavor matches
  // nothing named task_struct___old, its missing field reads as "does not exist".
  const insns = p.insns.slice();
  const results = applyCoreRelocations(insns, p.btfExt.coreRelos, spec.types!, spec.types!);
  const byDesc = Object.fromEntries(results.map((r) => [r.description, r.value]));
  assert.equal(byDesc["FIELD_BYTE_OFFSET struct task_struct::tgid (0:1)"], 4);
  assert.equal(byDesc["FIELD_BYTE_OFFSET struct task_struct::comm[3] (0:2:3)"], 11);
  assert.equal(byDesc["FIELD_BYTE_OFFSET struct task_struct::tasks.prev (0:4:1)"], 40);
  assert.equal(byDesc["FIELD_BYTE_SIZE struct task_struct::comm (0:2)"], 16);
  assert.equal(
    byDesc["FIELD_EXISTS struct task_struct___old::no_such_field_in_any_kernel (0:1)"],
    0,
  );
  assert.equal(byDesc["TYPE_SIZE struct task_struct"], 48);
  // An unresolvable field offset poisons the instruction as libbpf does.
  const bad = ObjectSpec.parse(fixture("core_bad.bpf.o"));
  const bp = bad.programs[0];
  const target = parseBtf(fixupBtf(spec.btf!, spec.elf));
  const binsns = bp.insns.slice();
  const [r] = applyCoreRelocations(binsns, bp.btfExt.coreRelos, bad.types!, target);
  assert.equal(r.poisoned, true);
  assert.match(r.reason!, /not in 1 candidate/);
  const at = r.insn * 8;
  assert.equal(binsns[at], 0x85);
  assert.equal(new DataView(binsns.buffer).getInt32(at + 4, true), CORE_POISON_IMM);
});
