/**
 * The running kernel's BTF, read once per process and decoded lazily (a type when first asked
 * for), and the BTF of kernel modules on top of it, the same way.
 *
 * @module
 */
import { readFileBytes } from "../host_fs.ts";
import { type Btf, parseBtf } from "../btf/btf.ts";
import { ObjectError } from "./error.ts";

/**
 * Where the kernel publishes its BTF.
 *
 * @example
 * ```ts
 * import { VMLINUX_BTF_PATH } from "@tsbpf/core/elf";
 * VMLINUX_BTF_PATH; // "/sys/kernel/btf/vmlinux"
 * ```
 */
export const VMLINUX_BTF_PATH = "/sys/kernel/btf/vmlinux";

let cached: Btf | undefined;

/** How the kernel's BTF file is read: a plain read here; the object layer maps it instead. */
let readVmlinux: (path: string) => Uint8Array = readFileBytes;

/**
 * Replaces how {@link kernelBtf} reads `/sys/kernel/btf/vmlinux` (the object layer maps the file,
 * which the pure layer cannot); `read` must return the file's bytes or throw. Not exported from
 * the package.
 *
 * @example
 * ```ts
 * import { setKernelBtfReader } from "./vmlinux.ts";
 * setKernelBtfReader((path) => Deno.readFileSync(path));
 * ```
 */
export function setKernelBtfReader(read: (path: string) => Uint8Array): void {
  readVmlinux = read;
}

/**
 * The running kernel's BTF (`/sys/kernel/btf/vmlinux`), read on first use and cached for the
 * life of the process (the kernel's types do not change while it runs), shared by every object
 * and program. Lazy: the first call checks the blob and finds its records (a few ms); a type is
 * decoded when CO-RE, a codec or a lookup first asks for it.
 *
 * @throws {ObjectError} when the kernel has no BTF (`CONFIG_DEBUG_INFO_BTF` off).
 * @example
 * ```ts
 * import { kernelBtf } from "@tsbpf/core/elf";
 * kernelBtf().get("struct", "task_struct").size;
 * ```
 */
export function kernelBtf(): Btf {
  if (cached === undefined) {
    let bytes: Uint8Array;
    try {
      bytes = readVmlinux(VMLINUX_BTF_PATH);
    } catch (e) {
      throw new ObjectError(
        `CO-RE needs the kernel's BTF, but ${VMLINUX_BTF_PATH} cannot be read (${
          (e as Error).message
        })`,
        { cause: e },
      );
    }
    cached = parseBtf(bytes, { lazy: true });
  }
  return cached;
}

const modules = new Map<string, Btf>();

/**
 * The BTF of a loaded kernel module (`/sys/kernel/btf/<module>`), split on top of
 * {@link kernelBtf}: read on first use, lazily (types decoded when asked for), and cached for the
 * life of the process like the kernel's own.
 *
 * @throws {ObjectError} when the module has no BTF there (not loaded, or built without BTF), or
 *   the name is not a plain module name.
 * @example
 * ```ts
 * import { kernelModuleBtf } from "@tsbpf/core/elf";
 * kernelModuleBtf("nf_conntrack").find("struct", "nf_conn");
 * ```
 */
export function kernelModuleBtf(module: string): Btf {
  let btf = modules.get(module);
  if (btf === undefined) {
    if (!/^[A-Za-z0-9_-]+$/.test(module) || module === "vmlinux") {
      throw new ObjectError(`${JSON.stringify(module)} is not a kernel module name`);
    }
    const path = `/sys/kernel/btf/${module}`;
    let bytes: Uint8Array;
    try {
      bytes = readFileBytes(path);
    } catch (e) {
      throw new ObjectError(
        `kernel module ${module} has no BTF: ${path} cannot be read (${(e as Error).message})`,
        { cause: e },
      );
    }
    btf = parseBtf(bytes, { base: kernelBtf(), lazy: true });
    modules.set(module, btf);
  }
  return btf;
}
