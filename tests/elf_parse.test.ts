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

test("an unknown section is an ObjectError naming it; a missing license is allowed (empty)", () => {
  assert.throws(() => ObjectSpec.parse(fixture("unknown_section.bpf.o")), (e: unknown) => {
    assert.ok(e instanceof ObjectError);
    assert.match(e.message, /section "not_a_program_type\/foo": no program type claims it/);
    return true;
  });
  // As libbpf: no license section means an empty license (GPL-only helpers are then refused).
  assert.equal(ObjectSpec.parse(fixture("no_license.bpf.o")).license, "");
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
  // The values are written into the instructions: clobber every relocated field first, so an
  // instruction left as compiled cannot pass.
  const clobbered = p.insns.slice();
  const cv = new DataView(clobbered.buffer);
  for (const r of p.btfExt.coreRelos) {
    const cls = clobbered[r.insn * 8] & 7;
    if (cls === 1 || cls === 2 || cls === 3) cv.setInt16(r.insn * 8 + 2, 0x5a5, true);
    else cv.setInt32(r.insn * 8 + 4, 0x5a5a5a5, true);
    if (clobbered[r.insn * 8] === 0x18) cv.setInt32(r.insn * 8 + 12, 0x5a5a5a5, true);
  }
  const again = applyCoreRelocations(clobbered, p.btfExt.coreRelos, spec.types!, spec.types!);
  assert.deepEqual(again, results);
  const patched = decodeInsns(clobbered);
  const compiled = decodeInsns(p.insns);
  assert.equal(results.length, p.btfExt.coreRelos.length);
  for (const r of results) {
    assert.equal(r.poisoned, false, r.description);
    const insn = patched[r.insn];
    const { code, dst, src } = compiled[r.insn];
    assert.deepEqual([insn.code, insn.dst, insn.src], [code, dst, src], r.description);
    const cls = insn.code & 7;
    if (insn.code === 0x18) {
      const value = BigInt.asUintN(32, BigInt(insn.imm)) |
        (BigInt.asUintN(32, BigInt(patched[r.insn + 1].imm)) << 32n);
      assert.equal(value, BigInt(r.value!), r.description);
    } else if (cls === 1 || cls === 2 || cls === 3) {
      assert.equal(insn.off, Number(r.value), r.description); // load/store: the offset
    } else {
      assert.equal(insn.imm, Number(r.value), r.description); // ALU: the immediate
    }
  }
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

/** Asserts that `f` throws an `ElfError` at file offset `offset` whose message matches `re`. */
const throwsElf = (f: () => unknown, offset: number, re: RegExp): void => {
  assert.throws(f, (e: unknown) => {
    assert.ok(e instanceof ElfError, `expected ElfError, got ${e}`);
    assert.match(e.message, re);
    assert.equal(e.offset, offset);
    return true;
  });
};

test("legacy maps: a definition past the section or a NOBITS section is an ElfError", () => {
  const orig = fixture("tc_legacy.bpf.o");
  const elf = parseElf(orig);
  const maps = elf.section("maps")!;
  const symtab = elf.sections.find((s) => s.type === 2)!;
  const seen = elf.symbols.find((s) => s.name === "seen")!;
  // st_value 4, st_size 20: 16 bytes would fit, the 20 read do not.
  const past = orig.slice();
  const pv = new DataView(past.buffer);
  pv.setBigUint64(symtab.offset + seen.index * 24 + 8, BigInt(maps.size - 16), true);
  pv.setBigUint64(symtab.offset + seen.index * 24 + 16, 20n, true);
  throwsElf(
    () => ObjectSpec.parse(past),
    maps.offset + maps.size - 16,
    /legacy map seen: its 20-byte definition at offset 4 runs past the end of section "maps"/,
  );
  // sh_type SHT_NOBITS: no contents to read.
  const nobits = orig.slice();
  const nv = new DataView(nobits.buffer);
  const shoff = Number(nv.getBigUint64(40, true));
  nv.setUint32(shoff + maps.index * 64 + 4, 8, true);
  throwsElf(() => ObjectSpec.parse(nobits), maps.offset, /section "maps" is SHT_NOBITS/);
});

test(".BTF.ext records with an out-of-range type id or misaligned offset are ElfErrors", () => {
  const orig = fixture("core.bpf.o");
  const elf = parseElf(orig);
  const ext = elf.section(".BTF.ext")!;
  const v = new DataView(orig.buffer, orig.byteOffset);
  const hdrLen = v.getUint32(ext.offset + 4, true);
  // First record of a part: part start + u32 record size + u32 sec_name_off + u32 num_info.
  const firstRecord = (partOffField: number): number =>
    ext.offset + hdrLen + v.getUint32(ext.offset + partOffField, true) + 12;
  const core = firstRecord(24);
  const func = firstRecord(8);
  const patched = (at: number, value: number): Uint8Array => {
    const b = orig.slice();
    new DataView(b.buffer).setUint32(at, value, true);
    return b;
  };
  throwsElf(
    () => ObjectSpec.parse(patched(core + 4, 0x7777)),
    core + 4,
    /core_relo record for "tracepoint\/syscalls\/sys_enter_getpid" names type id 30583, but \.BTF has ids 0\.\.\d+/,
  );
  throwsElf(
    () => ObjectSpec.parse(patched(func + 4, 0xffffffff)),
    func + 4,
    /func_info record .* names type id 4294967295/,
  );
  throwsElf(
    () => ObjectSpec.parse(patched(func + 4, 1)),
    func + 4,
    /func_info record .* names type \[1\], a \w+, not a FUNC/,
  );
  throwsElf(
    () => ObjectSpec.parse(patched(core, v.getUint32(core, true) + 4)),
    core,
    /core_relo record .*: instruction offset \d+ is not a multiple of 8/,
  );
});

test("program relocations: misaligned, past the section, outside functions, bad type", () => {
  const orig = fixture("globals.bpf.o");
  const elf = parseElf(orig);
  const rel = elf.section(".relsocket")!;
  const socket = elf.section("socket")!;
  const first = elf.relocations.get(socket.index)![0];
  assert.equal(first.fileOffset, rel.offset);
  const patched = (edit: (v: DataView) => void): Uint8Array => {
    const b = orig.slice();
    edit(new DataView(b.buffer));
    return b;
  };
  const what = `relocation #0 of section "socket"`;
  throwsElf(
    () =>
      ObjectSpec.parse(patched((v) => v.setBigUint64(rel.offset, BigInt(first.offset + 1), true))),
    rel.offset,
    new RegExp(`${what} \\(r_offset ${first.offset + 1}\\): offset is not a multiple of 8`),
  );
  throwsElf(
    () => ObjectSpec.parse(patched((v) => v.setBigUint64(rel.offset, 0x100000n, true))),
    rel.offset,
    /relocation #0 of section "socket" \(r_offset 1048576\): offset is past the end of the section \(648 bytes\)/,
  );
  throwsElf(
    () => ObjectSpec.parse(patched((v) => v.setUint32(rel.offset + 8, 2, true))), // R_BPF_64_ABS64
    rel.offset + 8,
    /relocation #0 of section "socket" .*: type 2 is not a code relocation/,
  );
  // count_packets shrunk so that the first relocated instruction is past its end.
  const symtab = elf.sections.find((s) => s.type === 2)!;
  const prog = elf.symbols.find((s) => s.name === "count_packets")!;
  throwsElf(
    () =>
      ObjectSpec.parse(
        patched((v) =>
          v.setBigUint64(symtab.offset + prog.index * 24 + 16, BigInt(first.offset), true)
        ),
      ),
    rel.offset,
    /relocation #0 of section "socket" .*: offset is not inside any function/,
  );
  // Two relocations of one instruction.
  const second = elf.relocations.get(socket.index)![1];
  throwsElf(
    () =>
      ObjectSpec.parse(
        patched((v) => v.setBigUint64(second.fileOffset, BigInt(first.offset), true)),
      ),
    second.fileOffset,
    /relocation #1 of section "socket" .*: the instruction is already relocated/,
  );
  // Relocations of debug sections keep their own types (R_BPF_64_ABS32 …) and are not checked.
  assert.ok(elf.relocations.get(elf.section(".debug_info")!.index)!.every((r) => r.type === 3));
});

test("a function whose st_size is not a multiple of 8 is an ElfError naming it", () => {
  const orig = fixture("globals.bpf.o");
  const elf = parseElf(orig);
  const symtab = elf.sections.find((s) => s.type === 2)!;
  for (const name of ["count_packets", "times_scale"]) {
    const sym = elf.symbols.find((s) => s.name === name)!;
    const b = orig.slice();
    const at = symtab.offset + sym.index * 24 + 16;
    new DataView(b.buffer).setBigUint64(at, BigInt(sym.size - 4), true);
    throwsElf(
      () => ObjectSpec.parse(b),
      at,
      new RegExp(
        `function ${name} \\(symbol ${sym.index}, at offset ${sym.value} of section "${
          elf.sections[sym.section].name
        }"\\): st_size ${sym.size - 4} is not a multiple of the 8-byte instruction`,
      ),
    );
  }
});
