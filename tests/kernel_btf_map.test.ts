// The kernel's BTF is mapped read-only instead of read where the kernel allows it (Linux 6.16+):
// the same bytes as a read, the same types through kernelBtf(); files that cannot be mapped
// (missing, empty by stat like /proc files) give undefined, and the read is used instead.
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { parseBtf } from "../lib/btf/mod.ts";
import { kernelBtf } from "../lib/elf/mod.ts";
import { mapFileReadOnly } from "../lib/object/host.ts";

const VMLINUX = "/sys/kernel/btf/vmlinux";
const vmlinuxSkip: string | false = existsSync(VMLINUX) ? false : `${VMLINUX} not present`;

test("mapFileReadOnly: the kernel's BTF mapped equals its bytes read; unmappable files", {
  skip: vmlinuxSkip,
}, () => {
  const read = new Uint8Array(readFileSync(VMLINUX));
  const mapped = mapFileReadOnly(VMLINUX);
  if (mapped === undefined) {
    // Kernels before 6.16 do not map it: kernelBtf() reads it instead (checked below).
    console.log("this kernel does not mmap /sys/kernel/btf/vmlinux: read instead");
  } else {
    assert.equal(mapped.length, read.length);
    let differ = -1;
    for (let i = 0; i < read.length && differ < 0; i++) if (mapped[i] !== read[i]) differ = i;
    assert.equal(differ, -1, "mapped bytes differ from read bytes");
  }
  assert.equal(mapFileReadOnly("/nonexistent/tsbpf"), undefined);
  assert.equal(mapFileReadOnly("/proc/self/status"), undefined); // stat size 0
  const k = kernelBtf();
  const eager = parseBtf(read, { lazy: true });
  assert.equal(k.typeCount, eager.typeCount);
  assert.deepEqual(k.get("struct", "task_struct"), eager.get("struct", "task_struct"));
});
