/**
 * The object layer: loading a parsed BPF object (`ObjectSpec`) into the kernel — BTF, maps,
 * externs, programs — owning their file descriptors, and attaching its programs by section
 * name. Re-exported by the `./elf` entry point.
 *
 * @example
 * ```ts
 * import { loadObject } from "@tsbpf/core/elf";
 * using obj = loadObject("prog.bpf.o");
 * using links = obj.attach();
 * ```
 *
 * @module
 */
export { type LoadedObject, loadObject, type LoadObjectOptions } from "./load.ts";
export { attachObject, type ObjectLinks } from "./attach.ts";
export { readKernelConfig } from "./host.ts";
