/**
 * What loading an object reads from the host, each read once per process: the kernel config
 * (`/proc/config.gz` or `/boot/config-$(uname -r)`), `/proc/kallsyms`, the page size.
 *
 * @module
 */
import { fileSize, pathExists, readFileBytes, readFileText } from "../host_fs.ts";
import { ObjectError } from "../elf/error.ts";
import { type KernelConfig, parseKernelConfig } from "../elf/kconfig.ts";
import { setKernelBtfReader } from "../elf/vmlinux.ts";
import { cString, retain } from "../sys/memory.ts";
import { sys } from "../sys/mod.ts";
import { MmapFlag, OpenFlag } from "../../types/os.ts";

/** `AT_FDCWD`. */
const AT_FDCWD = -100n;

/**
 * The bytes of a file as a private read-only mapping of it, or `undefined` when the file cannot
 * be mapped (the kernel's BTF can be since Linux 6.16; sysfs files before it cannot). No copy:
 * the kernel maps its own pages. The mapping is never unmapped, so use it only for files read
 * once per process and kept (the kernel's BTF).
 *
 * @example
 * ```ts
 * import { mapFileReadOnly } from "./host.ts";
 * mapFileReadOnly("/sys/kernel/btf/vmlinux")?.length; // 5480506
 * ```
 */
export function mapFileReadOnly(path: string): Uint8Array | undefined {
  let size: number;
  try {
    size = fileSize(path);
  } catch {
    return undefined;
  }
  if (size <= 0) return undefined;
  const s = sys();
  const name = cString(path);
  const fd = s.syscall(
    s.nr.openat,
    AT_FDCWD,
    s.addressOf(name),
    BigInt(OpenFlag.RDONLY | OpenFlag.CLOEXEC),
    0n,
  );
  retain(name);
  if (fd < 0n) return undefined;
  try {
    const address = s.syscall(
      s.nr.mmap,
      0n,
      BigInt(size),
      BigInt(MmapFlag.PROT_READ),
      BigInt(MmapFlag.MAP_PRIVATE),
      fd,
      0n,
    );
    if (address < 0n) return undefined;
    return new Uint8Array(s.view(address, size));
  } finally {
    s.close(Number(fd));
  }
}

// The kernel's BTF, read once per process and kept: mapped where the kernel allows it (no 5 MB
// copy on a cold start), read otherwise.
setKernelBtfReader((path) => mapFileReadOnly(path) ?? readFileBytes(path));

/** gunzip through the runtime's `node:zlib`, fetched only when a kernel config is read. */
function gunzip(bytes: Uint8Array): Uint8Array {
  const p = (globalThis as { process?: { getBuiltinModule?(name: string): unknown } }).process;
  const zlib = p?.getBuiltinModule?.("node:zlib") as
    | { gunzipSync(b: Uint8Array): Uint8Array }
    | undefined;
  if (zlib === undefined) throw new Error("this runtime has no node:zlib to gunzip with");
  return zlib.gunzipSync(bytes);
}

let rel: string | undefined;

/**
 * The running kernel's release (`uname -r`, from `/proc/sys/kernel/osrelease`), read once.
 *
 * @example
 * ```ts
 * import { kernelRelease } from "./host.ts";
 * kernelRelease(); // "6.18.44-..."
 * ```
 */
export function kernelRelease(): string {
  return rel ??= readFileText("/proc/sys/kernel/osrelease").trim();
}

let config: { config: KernelConfig | undefined; from: string } | undefined;

/**
 * The running kernel's config, read once from `/proc/config.gz` or `/boot/config-$(uname -r)`;
 * `config` is undefined (and `from` says where it looked) when neither exists.
 *
 * @throws {ObjectError} when the file exists but cannot be read.
 * @example
 * ```ts
 * import { readKernelConfig } from "@tsbpf/core/elf";
 * readKernelConfig().config?.get("CONFIG_BPF_SYSCALL"); // "y"
 * ```
 */
export function readKernelConfig(): { config: KernelConfig | undefined; from: string } {
  if (config !== undefined) return config;
  const boot = `/boot/config-${kernelRelease()}`;
  let from = `/proc/config.gz and ${boot}`;
  let parsed: KernelConfig | undefined;
  try {
    if (pathExists("/proc/config.gz")) {
      from = "/proc/config.gz";
      parsed = parseKernelConfig(new TextDecoder().decode(gunzip(readFileBytes(from))));
    } else if (pathExists(boot)) {
      from = boot;
      parsed = parseKernelConfig(readFileText(boot));
    }
  } catch (e) {
    throw new ObjectError(`kconfig externs: cannot read ${from}: ${(e as Error).message}`, {
      cause: e,
    });
  }
  return config = { config: parsed, from };
}

let kallsyms: Map<string, bigint> | undefined;

/**
 * The address of kernel symbol `name` from `/proc/kallsyms` (read once), or undefined.
 *
 * @throws {ObjectError} when `/proc/kallsyms` cannot be read.
 * @example
 * ```ts
 * import { kallsymsAddress } from "./host.ts";
 * kallsymsAddress("schedule"); // e.g. 0xffffffff822477d0n
 * ```
 */
export function kallsymsAddress(name: string): bigint | undefined {
  if (kallsyms === undefined) {
    let text: string;
    try {
      text = readFileText("/proc/kallsyms");
    } catch (e) {
      throw new ObjectError(
        `untyped __ksym externs: cannot read /proc/kallsyms: ${(e as Error).message}`,
        { cause: e },
      );
    }
    const out = new Map<string, bigint>();
    for (const line of text.split("\n")) {
      const a = line.indexOf(" ");
      const b = line.indexOf(" ", a + 1);
      if (a < 0 || b < 0) continue;
      let end = line.indexOf("\t", b + 1);
      if (end < 0) end = line.length;
      const sym = line.slice(b + 1, end);
      if (!out.has(sym)) out.set(sym, BigInt("0x" + line.slice(0, a)));
    }
    kallsyms = out;
  }
  return kallsyms.get(name);
}

let page: number | undefined;

/**
 * The page size (`AT_PAGESZ` of `/proc/self/auxv`; 4096 when it cannot be read).
 *
 * @example
 * ```ts
 * import { pageSize } from "./host.ts";
 * pageSize(); // 4096
 * ```
 */
export function pageSize(): number {
  if (page !== undefined) return page;
  try {
    const auxv = readFileBytes("/proc/self/auxv");
    const v = new DataView(auxv.buffer, auxv.byteOffset, auxv.byteLength);
    for (let at = 0; at + 16 <= auxv.length; at += 16) {
      if (v.getBigUint64(at, true) === 6n) return page = Number(v.getBigUint64(at + 8, true));
    }
  } catch {
    // not Linux procfs: the common page size
  }
  return page = 4096;
}

let kprobes: boolean | undefined;

/**
 * Whether the kernel can make kprobes: the `kprobe` PMU, or tracefs `kprobe_events` (the two ways
 * libbpf creates them). Read once.
 *
 * @example
 * ```ts
 * import { kprobesAvailable } from "./host.ts";
 * kprobesAvailable(); // false on a kernel built without CONFIG_KPROBES
 * ```
 */
export function kprobesAvailable(): boolean {
  return kprobes ??= pathExists("/sys/bus/event_source/devices/kprobe/type") ||
    pathExists("/sys/kernel/tracing/kprobe_events") ||
    pathExists("/sys/kernel/debug/tracing/kprobe_events");
}
