/**
 * The BTF type model: one plain, read-only object per type record, discriminated by `kind`.
 *
 * Type ids index `Btf.types`; id 0 is `void`. Fields that name another type hold its id
 * (`type`, `indexType`, members' `type`, ...), never the object, so a parsed blob stays a flat
 * array and cycles (a struct pointing to itself) need no special care.
 *
 * @module
 */

/**
 * BTF kind numbers (`BTF_KIND_*` of `include/uapi/linux/btf.h`), by lower-case kind name.
 *
 * @example
 * ```ts
 * import { BTF_KIND } from "@tsbpf/core/btf";
 * BTF_KIND.struct; // 4
 * ```
 */
export const BTF_KIND = {
  void: 0,
  int: 1,
  ptr: 2,
  array: 3,
  struct: 4,
  union: 5,
  enum: 6,
  fwd: 7,
  typedef: 8,
  volatile: 9,
  const: 10,
  restrict: 11,
  func: 12,
  func_proto: 13,
  var: 14,
  datasec: 15,
  float: 16,
  decl_tag: 17,
  type_tag: 18,
  enum64: 19,
} as const;

/**
 * A BTF kind name: `"struct"`, `"enum64"`, ... (`"void"` only for type id 0).
 *
 * @example
 * ```ts
 * import type { BtfKindName } from "@tsbpf/core";
 * const k: BtfKindName = "typedef";
 * ```
 */
export type BtfKindName = keyof typeof BTF_KIND;

/**
 * Kind names by kind number; index = `BTF_KIND_*` value.
 *
 * @example
 * ```ts
 * import { BTF_KIND_NAMES } from "@tsbpf/core/btf";
 * BTF_KIND_NAMES[8]; // "typedef"
 * ```
 */
export const BTF_KIND_NAMES: readonly BtfKindName[] = Object.keys(BTF_KIND) as BtfKindName[];

/** `BTF_INT_SIGNED` bit of an INT's encoding. */
export const BTF_INT_SIGNED = 1;
/** `BTF_INT_CHAR` bit of an INT's encoding. */
export const BTF_INT_CHAR = 2;
/** `BTF_INT_BOOL` bit of an INT's encoding. */
export const BTF_INT_BOOL = 4;

/**
 * Linkage of a FUNC (`BTF_FUNC_STATIC` 0, `BTF_FUNC_GLOBAL` 1, `BTF_FUNC_EXTERN` 2) or a VAR
 * (`BTF_VAR_STATIC` 0, `BTF_VAR_GLOBAL_ALLOCATED` 1, `BTF_VAR_GLOBAL_EXTERN` 2).
 *
 * @example
 * ```ts
 * import { BTF_LINKAGE } from "@tsbpf/core/btf";
 * BTF_LINKAGE.global; // 1
 * ```
 */
export const BTF_LINKAGE = { static: 0, global: 1, extern: 2 } as const;

/**
 * Fields every BTF type has.
 *
 * @example
 * ```ts
 * import type { BtfTypeBase } from "@tsbpf/core";
 * const v: BtfTypeBase<"void"> = { id: 0, kind: "void", name: "" };
 * ```
 */
export interface BtfTypeBase<K extends BtfKindName> {
  /** Type id (index into `Btf.types`). */
  readonly id: number;
  /** Kind name. */
  readonly kind: K;
  /** Type name; `""` for anonymous types. */
  readonly name: string;
}

/**
 * Type id 0: `void`.
 *
 * @example
 * ```ts
 * import type { BtfVoid } from "@tsbpf/core";
 * const v: BtfVoid = { id: 0, kind: "void", name: "" };
 * ```
 */
export type BtfVoid = BtfTypeBase<"void">;

/**
 * `BTF_KIND_INT`: an integer of `size` bytes whose value occupies `bits` bits starting at
 * `bitOffset`.
 *
 * @example
 * ```ts
 * import type { BtfInt } from "@tsbpf/core";
 * const u32: BtfInt = { id: 1, kind: "int", name: "unsigned int", size: 4, bits: 32, bitOffset: 0, encoding: 0 };
 * ```
 */
export interface BtfInt extends BtfTypeBase<"int"> {
  /** Size in bytes. */
  readonly size: number;
  /** Number of value bits (`BTF_INT_BITS`). */
  readonly bits: number;
  /** Bit offset of the value (`BTF_INT_OFFSET`), 0 in all modern BTF. */
  readonly bitOffset: number;
  /** `BTF_INT_SIGNED` | `BTF_INT_CHAR` | `BTF_INT_BOOL` bits. */
  readonly encoding: number;
}

/**
 * `BTF_KIND_PTR`: pointer to `type`.
 *
 * @example
 * ```ts
 * import type { BtfPtr } from "@tsbpf/core";
 * const p: BtfPtr = { id: 2, kind: "ptr", name: "", type: 0 }; // void *
 * ```
 */
export interface BtfPtr extends BtfTypeBase<"ptr"> {
  /** Pointee type id. */
  readonly type: number;
}

/**
 * `BTF_KIND_ARRAY`: `nelems` elements of `type`.
 *
 * @example
 * ```ts
 * import type { BtfArray } from "@tsbpf/core";
 * const a: BtfArray = { id: 3, kind: "array", name: "", type: 1, indexType: 1, nelems: 16 };
 * ```
 */
export interface BtfArray extends BtfTypeBase<"array"> {
  /** Element type id. */
  readonly type: number;
  /** Index type id. */
  readonly indexType: number;
  /** Number of elements. */
  readonly nelems: number;
}

/**
 * A STRUCT or UNION member.
 *
 * @example
 * ```ts
 * import type { BtfMember } from "@tsbpf/core";
 * const m: BtfMember = { name: "code", type: 1, bitOffset: 0, bitfieldSize: 0 };
 * ```
 */
export interface BtfMember {
  /** Member name; `""` for an anonymous struct/union member. */
  readonly name: string;
  /** Member type id. */
  readonly type: number;
  /** Offset from the start of the struct, in bits. */
  readonly bitOffset: number;
  /** Bitfield width in bits; 0 when the member is not a bitfield. */
  readonly bitfieldSize: number;
}

/**
 * `BTF_KIND_STRUCT`.
 *
 * @example
 * ```ts
 * import type { BtfStruct } from "@tsbpf/core";
 * const s: BtfStruct = { id: 4, kind: "struct", name: "pair", size: 8, members: [] };
 * ```
 */
export interface BtfStruct extends BtfTypeBase<"struct"> {
  /** Size in bytes. */
  readonly size: number;
  /** Members in declaration order. */
  readonly members: readonly BtfMember[];
}

/**
 * `BTF_KIND_UNION`.
 *
 * @example
 * ```ts
 * import type { BtfUnion } from "@tsbpf/core";
 * const u: BtfUnion = { id: 5, kind: "union", name: "", size: 8, members: [] };
 * ```
 */
export interface BtfUnion extends BtfTypeBase<"union"> {
  /** Size in bytes. */
  readonly size: number;
  /** Members in declaration order. */
  readonly members: readonly BtfMember[];
}

/**
 * One enumerator of a `BTF_KIND_ENUM`.
 *
 * @example
 * ```ts
 * import type { BtfEnumValue } from "@tsbpf/core";
 * const v: BtfEnumValue = { name: "BPF_MAP_CREATE", value: 0 };
 * ```
 */
export interface BtfEnumValue {
  /** Enumerator name. */
  readonly name: string;
  /** Value (signed when the enum is signed, else unsigned 32-bit). */
  readonly value: number;
}

/**
 * `BTF_KIND_ENUM`: enumerators of at most 32 bits.
 *
 * @example
 * ```ts
 * import type { BtfEnum } from "@tsbpf/core";
 * const e: BtfEnum = { id: 6, kind: "enum", name: "color", size: 4, signed: false, values: [{ name: "RED", value: 0 }] };
 * ```
 */
export interface BtfEnum extends BtfTypeBase<"enum"> {
  /** Size in bytes. */
  readonly size: number;
  /** Whether the values are signed (the kind flag). */
  readonly signed: boolean;
  /** Enumerators in declaration order. */
  readonly values: readonly BtfEnumValue[];
}

/**
 * One enumerator of a `BTF_KIND_ENUM64`.
 *
 * @example
 * ```ts
 * import type { BtfEnum64Value } from "@tsbpf/core";
 * const v: BtfEnum64Value = { name: "BIG", value: 1n << 40n };
 * ```
 */
export interface BtfEnum64Value {
  /** Enumerator name. */
  readonly name: string;
  /** Value (signed when the enum is signed, else unsigned 64-bit). */
  readonly value: bigint;
}

/**
 * `BTF_KIND_ENUM64`: enumerators of up to 64 bits.
 *
 * @example
 * ```ts
 * import type { BtfEnum64 } from "@tsbpf/core";
 * const e: BtfEnum64 = { id: 7, kind: "enum64", name: "", size: 8, signed: false, values: [] };
 * ```
 */
export interface BtfEnum64 extends BtfTypeBase<"enum64"> {
  /** Size in bytes. */
  readonly size: number;
  /** Whether the values are signed (the kind flag). */
  readonly signed: boolean;
  /** Enumerators in declaration order. */
  readonly values: readonly BtfEnum64Value[];
}

/**
 * `BTF_KIND_FWD`: forward declaration of a struct (or a union when `union` is set).
 *
 * @example
 * ```ts
 * import type { BtfFwd } from "@tsbpf/core";
 * const f: BtfFwd = { id: 8, kind: "fwd", name: "sock", union: false };
 * ```
 */
export interface BtfFwd extends BtfTypeBase<"fwd"> {
  /** True for `union x;`, false for `struct x;`. */
  readonly union: boolean;
}

/**
 * `BTF_KIND_TYPEDEF`.
 *
 * @example
 * ```ts
 * import type { BtfTypedef } from "@tsbpf/core";
 * const t: BtfTypedef = { id: 9, kind: "typedef", name: "__u32", type: 1 };
 * ```
 */
export interface BtfTypedef extends BtfTypeBase<"typedef"> {
  /** Aliased type id. */
  readonly type: number;
}

/**
 * `BTF_KIND_VOLATILE`.
 *
 * @example
 * ```ts
 * import type { BtfVolatile } from "@tsbpf/core";
 * const t: BtfVolatile = { id: 10, kind: "volatile", name: "", type: 1 };
 * ```
 */
export interface BtfVolatile extends BtfTypeBase<"volatile"> {
  /** Qualified type id. */
  readonly type: number;
}

/**
 * `BTF_KIND_CONST`.
 *
 * @example
 * ```ts
 * import type { BtfConst } from "@tsbpf/core";
 * const t: BtfConst = { id: 11, kind: "const", name: "", type: 1 };
 * ```
 */
export interface BtfConst extends BtfTypeBase<"const"> {
  /** Qualified type id. */
  readonly type: number;
}

/**
 * `BTF_KIND_RESTRICT`.
 *
 * @example
 * ```ts
 * import type { BtfRestrict } from "@tsbpf/core";
 * const t: BtfRestrict = { id: 12, kind: "restrict", name: "", type: 2 };
 * ```
 */
export interface BtfRestrict extends BtfTypeBase<"restrict"> {
  /** Qualified type id. */
  readonly type: number;
}

/**
 * `BTF_KIND_FUNC`: a function; `type` is its FUNC_PROTO.
 *
 * @example
 * ```ts
 * import type { BtfFunc } from "@tsbpf/core";
 * const f: BtfFunc = { id: 13, kind: "func", name: "main", type: 14, linkage: 1 };
 * ```
 */
export interface BtfFunc extends BtfTypeBase<"func"> {
  /** FUNC_PROTO type id. */
  readonly type: number;
  /** `BTF_LINKAGE` value (static 0, global 1, extern 2). */
  readonly linkage: number;
}

/**
 * A FUNC_PROTO parameter.
 *
 * @example
 * ```ts
 * import type { BtfParam } from "@tsbpf/core";
 * const p: BtfParam = { name: "ctx", type: 2 };
 * ```
 */
export interface BtfParam {
  /** Parameter name, often `""`. */
  readonly name: string;
  /** Parameter type id. */
  readonly type: number;
}

/**
 * `BTF_KIND_FUNC_PROTO`: a function signature. A trailing `...` is reported as `variadic` and is
 * not listed in `params`.
 *
 * @example
 * ```ts
 * import type { BtfFuncProto } from "@tsbpf/core";
 * const p: BtfFuncProto = { id: 14, kind: "func_proto", name: "", returnType: 1, params: [], variadic: false };
 * ```
 */
export interface BtfFuncProto extends BtfTypeBase<"func_proto"> {
  /** Return type id (0 = void). */
  readonly returnType: number;
  /** Parameters, without the variadic marker. */
  readonly params: readonly BtfParam[];
  /** Whether the last raw parameter was the `...` marker (name 0, type 0). */
  readonly variadic: boolean;
}

/**
 * `BTF_KIND_VAR`: a global or static variable.
 *
 * @example
 * ```ts
 * import type { BtfVar } from "@tsbpf/core";
 * const v: BtfVar = { id: 15, kind: "var", name: "counter", type: 1, linkage: 1 };
 * ```
 */
export interface BtfVar extends BtfTypeBase<"var"> {
  /** Variable type id. */
  readonly type: number;
  /** `BTF_LINKAGE` value (static 0, global allocated 1, extern 2). */
  readonly linkage: number;
}

/**
 * One variable placed in a DATASEC.
 *
 * @example
 * ```ts
 * import type { BtfVarSecinfo } from "@tsbpf/core";
 * const v: BtfVarSecinfo = { type: 15, offset: 0, size: 4 };
 * ```
 */
export interface BtfVarSecinfo {
  /** VAR (or FUNC, for `.ksyms`) type id. */
  readonly type: number;
  /** Byte offset in the section. */
  readonly offset: number;
  /** Size in bytes. */
  readonly size: number;
}

/**
 * `BTF_KIND_DATASEC`: an ELF data section (`.data`, `.bss`, `.maps`, ...) and its variables.
 *
 * @example
 * ```ts
 * import type { BtfDatasec } from "@tsbpf/core";
 * const d: BtfDatasec = { id: 16, kind: "datasec", name: ".bss", size: 4, vars: [{ type: 15, offset: 0, size: 4 }] };
 * ```
 */
export interface BtfDatasec extends BtfTypeBase<"datasec"> {
  /** Section size in bytes (0 in object files before the loader fills it). */
  readonly size: number;
  /** Variables in the section. */
  readonly vars: readonly BtfVarSecinfo[];
}

/**
 * `BTF_KIND_FLOAT`.
 *
 * @example
 * ```ts
 * import type { BtfFloat } from "@tsbpf/core";
 * const f: BtfFloat = { id: 17, kind: "float", name: "double", size: 8 };
 * ```
 */
export interface BtfFloat extends BtfTypeBase<"float"> {
  /** Size in bytes. */
  readonly size: number;
}

/**
 * `BTF_KIND_DECL_TAG`: `__attribute__((btf_decl_tag(name)))` on `type`, or on its member or
 * parameter number `componentIdx` (-1 = the type itself).
 *
 * @example
 * ```ts
 * import type { BtfDeclTag } from "@tsbpf/core";
 * const t: BtfDeclTag = { id: 18, kind: "decl_tag", name: "user", type: 4, componentIdx: -1, attr: false };
 * ```
 */
export interface BtfDeclTag extends BtfTypeBase<"decl_tag"> {
  /** Tagged type id. */
  readonly type: number;
  /** Member/parameter index, or -1 for the declaration itself. */
  readonly componentIdx: number;
  /** Kind flag: the tag is an `__attribute__` string rather than a btf_decl_tag. */
  readonly attr: boolean;
}

/**
 * `BTF_KIND_TYPE_TAG`: `__attribute__((btf_type_tag(name)))`, e.g. `__user`, `__rcu`.
 *
 * @example
 * ```ts
 * import type { BtfTypeTag } from "@tsbpf/core";
 * const t: BtfTypeTag = { id: 19, kind: "type_tag", name: "user", type: 1, attr: false };
 * ```
 */
export interface BtfTypeTag extends BtfTypeBase<"type_tag"> {
  /** Tagged type id. */
  readonly type: number;
  /** Kind flag: the tag is an `__attribute__` string rather than a btf_type_tag. */
  readonly attr: boolean;
}

/**
 * Any BTF type.
 *
 * @example
 * ```ts
 * import type { BtfType } from "@tsbpf/core";
 * function describe(t: BtfType): string {
 *   return t.kind === "struct" ? `struct ${t.name} (${t.size} bytes)` : t.kind;
 * }
 * ```
 */
export type BtfType =
  | BtfVoid
  | BtfInt
  | BtfPtr
  | BtfArray
  | BtfStruct
  | BtfUnion
  | BtfEnum
  | BtfFwd
  | BtfTypedef
  | BtfVolatile
  | BtfConst
  | BtfRestrict
  | BtfFunc
  | BtfFuncProto
  | BtfVar
  | BtfDatasec
  | BtfFloat
  | BtfDeclTag
  | BtfTypeTag
  | BtfEnum64;

/**
 * The type interface for one kind name: `BtfTypeOf<"struct">` is `BtfStruct`.
 *
 * @example
 * ```ts
 * import type { BtfTypeOf } from "@tsbpf/core";
 * type S = BtfTypeOf<"struct">; // BtfStruct
 * ```
 */
export type BtfTypeOf<K extends BtfKindName> = Extract<BtfType, { kind: K }>;
