/**
 * Questions the tests ask the running kernel's BTF (`/sys/kernel/btf/vmlinux`) about what it
 * has, so that a test of a feature the kernel lacks skips with a reason naming what is missing,
 * whatever the version number says. Parsed once, lazily.
 */
import { existsSync, readFileSync } from "node:fs";
import { type Btf, parseBtf } from "../lib/btf/mod.ts";

const VMLINUX = "/sys/kernel/btf/vmlinux";
let cached: Btf | null | undefined;

function vmlinux(): Btf | null {
  if (cached === undefined) cached = existsSync(VMLINUX) ? parseBtf(readFileSync(VMLINUX)) : null;
  return cached;
}

/** Whether enum `enumName` of the running kernel has the value `valueName`; undefined without BTF. */
export function kernelEnumHas(enumName: string, valueName: string): boolean | undefined {
  const btf = vmlinux();
  if (btf === null) return undefined;
  return btf.lookup(enumName).some((t) =>
    (t.kind === "enum" || t.kind === "enum64") && t.values.some((v) => v.name === valueName)
  );
}

/**
 * A skip reason when the running kernel lacks `valueName` in enum `enumName` (e.g. no
 * `BPF_TCX_INGRESS` in `bpf_attach_type`), or `false` when it has it. Without vmlinux BTF the
 * test runs (and a kernel that lacks the feature fails it).
 */
export function unlessKernelEnumHas(enumName: string, valueName: string): string | false {
  return kernelEnumHas(enumName, valueName) === false
    ? `this kernel has no ${valueName} (enum ${enumName} in its BTF)`
    : false;
}
