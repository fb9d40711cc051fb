/**
 * Loading clang-compiled BPF objects: inspect an object without the kernel (`ObjectSpec`), then
 * load it (`loadObject`), run its programs with BPF_PROG_TEST_RUN and read its maps and globals.
 *
 *   deno run -A examples/elf.ts        bun examples/elf.ts        (as root)
 *
 * Uses the test fixtures of tests/fixtures/elf (rebuild them with their build.sh).
 */
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { decodeInsns, disassemble } from "../lib/insn/mod.ts";
import { VerifierError } from "../lib/errors.ts";
import { loadObject, ObjectSpec } from "../lib/elf/mod.ts";
import type { BpfMap } from "../lib/map/mod.ts";

const fixtures = join(dirname(fileURLToPath(import.meta.url)), "..", "tests", "fixtures", "elf");
const line = (s = ""): void => console.log(s);
const u64 = (b: Uint8Array, off = 0): bigint =>
  new DataView(b.buffer, b.byteOffset).getBigUint64(off, true);

// 1. The pure layer: what the object contains, no kernel involved.
line("1. ObjectSpec.parse(globals.bpf.o)");
const bytes = new Uint8Array(readFileSync(join(fixtures, "globals.bpf.o")));
const spec = ObjectSpec.parse(bytes);
line(`   license ${spec.license}`);
for (const m of [...spec.maps, ...spec.globals]) {
  line(
    `   map ${m.name}: type ${m.type}, key ${m.keySize} B, value ${m.valueSize} B, ${m.maxEntries} entries`,
  );
}
for (const p of spec.programs) {
  line(
    `   program ${p.name} (section ${p.section}, ${p.typeName}), ${
      p.insns.length / 8
    } insns linked`,
  );
  line(
    `   relocations: ${
      p.relocations.map((r) => r.offset === undefined ? r.map : `${r.map}+${r.offset}`).join(", ")
    }`,
  );
  const text = disassemble(decodeInsns(p.insns)).split("\n");
  line(`   first instructions:\n     ${text.slice(0, 4).join("\n     ")}`);
}

// 2. Load it, with a .rodata constant set before verification, and run it.
line("\n2. loadObject(globals.bpf.o, { constants: { scale: 3 } })");
{
  using obj = loadObject(spec, { constants: { scale: 3 } });
  const r = obj.programs.count_packets.testRun({ data: new Uint8Array(64) });
  line(`   testRun retval ${r.retval} (42 * scale + bpf_loop sum / 2)`);
  const zero = new Uint8Array(4);
  line(`   .bss bss_loop_sum = ${u64(obj.maps[".bss"].get(zero)!)}`);
  line(`   .data data_counter = ${u64(obj.maps[".data"].get(zero)!)}`);
}

// 3. The same object with { typed: true }: map keys and values decoded with codecs built from the
//    object's BTF (struct stats, __u64), no offsets by hand.
line("\n3. loadObject(globals.bpf.o, { typed: true })");
{
  using obj = loadObject(spec, { typed: true });
  obj.programs.count_packets.testRun({ data: new Uint8Array(64) });
  type Stats = { packets: bigint; bytes: bigint; last_len: number; pad: number };
  const stats = obj.maps.stats_by_key as BpfMap<unknown, unknown> as BpfMap<number, Stats>;
  for (const [k, v] of stats) {
    line(`   stats_by_key[${k}] = { packets: ${v.packets}, bytes: ${v.bytes} }`);
  }
  const counters = obj.maps.counters as BpfMap<unknown, unknown> as BpfMap<number, bigint>;
  line(`   counters = [${[...counters.values()].join(", ")}]`);
}

// 4. CO-RE: offsets of struct task_struct fields in the running kernel.
line("\n4. loadObject(core.bpf.o): CO-RE relocations against /sys/kernel/btf/vmlinux");
{
  using obj = loadObject(join(fixtures, "core.bpf.o"));
  for (const r of obj.core.core_reads) line(`   ${r.description} = ${r.value}`);
}

// 5. A verifier refusal names the C line, thanks to BTF line_info.
line("\n5. loadObject(unverifiable.bpf.o)");
try {
  loadObject(join(fixtures, "unverifiable.bpf.o")).close();
} catch (e) {
  if (!(e instanceof VerifierError)) throw e;
  line(`   ${e.tail.join("\n   ")}`);
}
