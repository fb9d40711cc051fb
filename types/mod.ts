/**
 * The kernel ABI as data: bpf(2) command numbers, program/map/attach/link types, helper ids
 * (generated from the running kernel's BTF by `scripts/gen_types.ts`), flag values, errno names,
 * and the `bpf_attr` / info struct layouts. No code here makes a syscall.
 *
 * @example
 * ```ts
 * import { BpfCmd, PROG_LOAD_ATTR, ProgType, progTypeName } from "@tsbpf/core/types";
 * BpfCmd.PROG_LOAD; // 5
 * progTypeName(ProgType.XDP); // "xdp"
 * PROG_LOAD_ATTR.fields.insn_cnt.offset; // 4
 * ```
 *
 * @module
 */

export * from "./cmd.ts";
export * from "./prog_type.ts";
export * from "./map_type.ts";
export * from "./attach_type.ts";
export * from "./link_type.ts";
export * from "./helpers.ts";
export * from "./flags.ts";
export * from "./errno.ts";
export * from "./attr.ts";
export * from "./info.ts";
export * from "./os.ts";
export * from "./netfilter.ts";
