/**
 * `__kconfig` externs: the kernel's configuration (as `/proc/config.gz` holds it),
 * `LINUX_KERNEL_VERSION` and `LINUX_HAS_*`, encoded into the `.kconfig` map value the way libbpf
 * fills it. Pure: the loader reads the files.
 *
 * @module
 */
import type { Btf } from "../btf/btf.ts";
import { ObjectError } from "./error.ts";
import type { ExternSpec } from "./externs.ts";

/**
 * Kernel config values by option name (`CONFIG_HZ` -> `"250"`, `CONFIG_BPF` -> `"y"`, options
 * "is not set" -> `"n"`; strings keep their quotes).
 *
 * @example
 * ```ts
 * import type { KernelConfig } from "@tsbpf/core/elf";
 * const c: KernelConfig = new Map([["CONFIG_HZ", "250"]]);
 * ```
 */
export type KernelConfig = ReadonlyMap<string, string>;

/**
 * Parses kernel config text (`.config` format).
 *
 * @example
 * ```ts
 * import { parseKernelConfig } from "@tsbpf/core/elf";
 * parseKernelConfig("CONFIG_HZ=250\n# CONFIG_KPROBES is not set\n").get("CONFIG_KPROBES"); // "n"
 * ```
 */
export function parseKernelConfig(text: string): KernelConfig {
  const out = new Map<string, string>();
  for (const line of text.split("\n")) {
    const unset = /^# (CONFIG_\w+) is not set$/.exec(line);
    if (unset !== null) {
      out.set(unset[1], "n");
      continue;
    }
    const eq = line.indexOf("=");
    if (line.startsWith("CONFIG_") && eq > 0) out.set(line.slice(0, eq), line.slice(eq + 1));
  }
  return out;
}

/**
 * `LINUX_KERNEL_VERSION` of a release string (`"6.18.44-foo"` -> `KERNEL_VERSION(6, 18, 44)`,
 * the patch level capped at 255).
 *
 * @throws {ObjectError} when the release does not start with a version.
 * @example
 * ```ts
 * import { kernelVersionCode } from "@tsbpf/core/elf";
 * kernelVersionCode("6.18.44"); // 0x6122c
 * ```
 */
export function kernelVersionCode(rel: string): number {
  const m = /^(\d+)\.(\d+)(?:\.(\d+))?/.exec(rel);
  if (m === null) throw new ObjectError(`LINUX_KERNEL_VERSION: cannot parse release "${rel}"`);
  return (Number(m[1]) << 16) + (Number(m[2]) << 8) + Math.min(Number(m[3] ?? 0), 255);
}

/**
 * `LINUX_HAS_*` as libbpf decides it; undefined when unknown. `LINUX_HAS_SYSCALL_WRAPPER` is, as
 * libbpf probes it, whether a kprobe can be placed on the arch's `__<arch>_sys_bpf`: the function
 * exists in the kernel's BTF and `kprobes()` says the kernel can make kprobes.
 */
function linuxHas(
  name: string,
  kernel: () => Btf | undefined,
  kprobes: () => boolean,
): boolean | undefined {
  switch (name) {
    case "LINUX_HAS_BPF_COOKIE": {
      const e = kernel()?.find("enum", "bpf_func_id");
      return e === undefined
        ? undefined
        : e.values.some((v) => v.name === "BPF_FUNC_get_attach_cookie");
    }
    case "LINUX_HAS_SYSCALL_WRAPPER": {
      const btf = kernel();
      if (btf === undefined) return undefined;
      return ["__x64_sys_bpf", "__arm64_sys_bpf", "__s390x_sys_bpf", "__riscv_sys_bpf"]
        .some((f) => btf.find("func", f) !== undefined) && kprobes();
    }
    default:
      return undefined;
  }
}

function putInt(out: Uint8Array, at: number, size: number, n: bigint): void {
  let u = BigInt.asUintN(size * 8, n);
  for (let i = 0; i < size; i++, u >>= 8n) out[at + i] = Number(u & 0xffn);
}

/**
 * Fills the `.kconfig` map value for `externs`: each kconfig extern at its offset, from the
 * kernel config (`y`/`n`/`m` as bool, tristate or char; numbers in the type's range; quoted
 * strings into char arrays), `LINUX_KERNEL_VERSION` from the release, `LINUX_HAS_*` from the
 * kernel's BTF (and, for the syscall wrapper, `kprobes()`: whether kprobes can be made). A weak
 * extern the kernel does not know stays zero.
 *
 * @throws {ObjectError} naming the extern when a non-weak one is unknown, or its value does not
 * fit its type.
 * @example
 * ```ts
 * import { fillKconfig, parseKernelConfig } from "./kconfig.ts";
 * import { kernelBtf } from "./vmlinux.ts";
 * import { ObjectSpec } from "@tsbpf/core/elf";
 * const spec = ObjectSpec.parse(Deno.readFileSync("kconfig.bpf.o"));
 * const config = parseKernelConfig("CONFIG_BPF_SYSCALL=y\nCONFIG_HZ=250\n");
 * const kconfig = spec.globals.find((m) => m.kind === "kconfig")!;
 * const value = fillKconfig(
 *   spec.externs,
 *   kconfig.valueSize,
 *   spec.types,
 *   kernelBtf,
 *   () => ({ config, from: "the example" }),
 *   "6.18.0",
 *   () => true,
 * );
 * ```
 */
export function fillKconfig(
  externs: readonly ExternSpec[],
  size: number,
  btf: Btf | undefined,
  kernel: () => Btf | undefined,
  config: () => { config: KernelConfig | undefined; from: string },
  rel: string,
  kprobes: () => boolean,
): Uint8Array {
  const out = new Uint8Array(size);
  for (const e of externs) {
    if (e.kind !== "kconfig") continue;
    const what = `kconfig extern ${e.name}`;
    const t = btf !== undefined && e.typeId !== 0 ? btf.resolve(e.typeId) : undefined;
    let value: string | undefined;
    if (e.name === "LINUX_KERNEL_VERSION") value = String(kernelVersionCode(rel));
    else if (e.name.startsWith("LINUX_HAS_")) {
      const has = linuxHas(e.name, kernel, kprobes);
      value = has === undefined ? undefined : has ? "y" : "n";
    } else if (e.name.startsWith("CONFIG_")) {
      const c = config();
      if (c.config === undefined && !e.weak) {
        throw new ObjectError(`${what}: the kernel config is not readable (${c.from} are absent)`);
      }
      value = c.config?.get(e.name);
    } else if (!e.weak) {
      throw new ObjectError(
        `${what}: not a kernel config option (CONFIG_*), LINUX_KERNEL_VERSION or a known LINUX_HAS_*`,
      );
    }
    if (value === undefined) {
      if (e.weak) continue; // stays zero, as libbpf
      throw new ObjectError(`${what}: the running kernel's config does not define it`);
    }
    const tristate = t?.kind === "enum" && t.name === "libbpf_tristate";
    if (value === "y" || value === "n" || value === "m") {
      if (t?.kind === "int" && t.size === 1 && (t.encoding & 4) !== 0) { // bool
        if (value === "m") throw new ObjectError(`${what}: value "m" does not fit a bool`);
        out[e.offset] = value === "y" ? 1 : 0;
      } else if (tristate) {
        putInt(out, e.offset, e.size, value === "y" ? 1n : value === "m" ? 2n : 0n);
      } else if (t?.kind === "int" && t.size === 1 && (t.encoding & 2) !== 0) { // char
        out[e.offset] = value.charCodeAt(0);
      } else if (value === "n" && (t?.kind === "int" || t?.kind === "enum")) {
        // "is not set" reads as zero for numbers.
      } else {
        throw new ObjectError(`${what}: value "${value}" does not fit its type`);
      }
    } else if (value.startsWith('"')) {
      const str = value.slice(1, value.endsWith('"') ? -1 : undefined).replace(/\\(.)/g, "$1");
      const enc = new TextEncoder().encode(str);
      const arr = t?.kind === "array" ? t : undefined;
      if (arr === undefined) throw new ObjectError(`${what}: a string value needs a char array`);
      out.set(enc.subarray(0, Math.max(0, e.size - 1)), e.offset);
    } else {
      let n: bigint;
      try {
        n = BigInt(value);
      } catch {
        throw new ObjectError(`${what}: value "${value}" is not a number`);
      }
      if (t?.kind !== "int" && t?.kind !== "enum" && t?.kind !== "enum64") {
        throw new ObjectError(`${what}: numeric value ${value} needs an integer type`);
      }
      const signed = t.kind === "int" ? (t.encoding & 1) !== 0 : t.signed;
      const bits = BigInt(e.size * 8);
      const min = signed ? -(1n << (bits - 1n)) : 0n;
      const max = signed ? (1n << (bits - 1n)) - 1n : (1n << bits) - 1n;
      if (n < min || n > max) {
        throw new ObjectError(`${what}: value ${value} does not fit its ${e.size}-byte type`);
      }
      putInt(out, e.offset, e.size, n);
    }
  }
  return out;
}
