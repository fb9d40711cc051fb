/**
 * The running kernel's BTF, parsed once per process.
 *
 * @module
 */
import { readFileSync } from "node:fs";
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

/**
 * The running kernel's BTF (`/sys/kernel/btf/vmlinux`), parsed on first use and cached for the
 * life of the process (the kernel's types do not change while it runs).
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
      bytes = readFileSync(VMLINUX_BTF_PATH);
    } catch (e) {
      throw new ObjectError(
        `CO-RE needs the kernel's BTF, but ${VMLINUX_BTF_PATH} cannot be read (${
          (e as Error).message
        })`,
        { cause: e },
      );
    }
    cached = parseBtf(bytes);
  }
  return cached;
}
