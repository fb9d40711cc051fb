/**
 * BTF (BPF Type Format) parsing: `parseBtf` turns a raw blob (`/sys/kernel/btf/vmlinux`, an ELF
 * `.BTF` section) into a `Btf` with lookup by id and by name and kind, typedef/qualifier resolution,
 * type sizes and flattened struct fields. Pure TypeScript: no FFI, runs in any JS runtime.
 *
 * @example
 * ```ts
 * import { parseBtf } from "@tsbpf/core/btf";
 * const btf = parseBtf(Deno.readFileSync("/sys/kernel/btf/vmlinux"));
 * const cmd = btf.get("enum", "bpf_cmd");
 * cmd.values.find((v) => v.name === "BPF_PROG_LOAD")?.value; // 5
 * ```
 *
 * @module
 */

export { Btf, BTF_LIMITS, parseBtf } from "./btf.ts";
export type { BtfField, ParseBtfOptions } from "./btf.ts";
export { BtfError } from "./error.ts";
export type { BtfHeader } from "./parse.ts";
export {
  BTF_INT_BOOL,
  BTF_INT_CHAR,
  BTF_INT_SIGNED,
  BTF_KIND,
  BTF_KIND_NAMES,
  BTF_LINKAGE,
} from "./types.ts";
export type {
  BtfArray,
  BtfConst,
  BtfDatasec,
  BtfDeclTag,
  BtfEnum,
  BtfEnum64,
  BtfEnum64Value,
  BtfEnumValue,
  BtfFloat,
  BtfFunc,
  BtfFuncProto,
  BtfFwd,
  BtfInt,
  BtfKindName,
  BtfMember,
  BtfParam,
  BtfPtr,
  BtfRestrict,
  BtfStruct,
  BtfType,
  BtfTypeBase,
  BtfTypedef,
  BtfTypeOf,
  BtfTypeTag,
  BtfUnion,
  BtfVar,
  BtfVarSecinfo,
  BtfVoid,
  BtfVolatile,
} from "./types.ts";
