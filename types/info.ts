/**
 * Layouts of the structs BPF_OBJ_GET_INFO_BY_FD fills: `struct bpf_prog_info`, `bpf_map_info`,
 * `bpf_link_info` (common part) and `bpf_btf_info`, in the `AttrLayout` shape of `attr.ts`.
 *
 * `size` is the end of the last field listed (what to pass as `info_len`); the C `sizeof` can be
 * larger because of tail padding. Checked against the running kernel's BTF by
 * `tests/attr_layout.test.ts`.
 *
 * @module
 */

import { type AttrField, type AttrLayout, defineLayout } from "./attr.ts";

const u32 = (offset: number): AttrField => ({ offset, size: 4, kind: "u32" });
const u64 = (offset: number): AttrField => ({ offset, size: 8, kind: "u64" });
const ptr = (offset: number): AttrField => ({ offset, size: 8, kind: "ptr" });
const bytes = (offset: number, size: number): AttrField => ({ offset, size, kind: "bytes" });

/**
 * `struct bpf_prog_info`. `gpl_compatible` is bit 0 of the u32 at offset 84 (a 1-bit bitfield; the
 * other 31 bits are padding).
 *
 * @example
 * ```ts
 * import { PROG_INFO_LAYOUT } from "@tsbpf/core/types";
 * PROG_INFO_LAYOUT.fields.name.offset; // 64
 * ```
 */
export const PROG_INFO_LAYOUT: AttrLayout<
  | "type"
  | "id"
  | "tag"
  | "jited_prog_len"
  | "xlated_prog_len"
  | "jited_prog_insns"
  | "xlated_prog_insns"
  | "load_time"
  | "created_by_uid"
  | "nr_map_ids"
  | "map_ids"
  | "name"
  | "ifindex"
  | "gpl_compatible"
  | "netns_dev"
  | "netns_ino"
  | "nr_jited_ksyms"
  | "nr_jited_func_lens"
  | "jited_ksyms"
  | "jited_func_lens"
  | "btf_id"
  | "func_info_rec_size"
  | "func_info"
  | "nr_func_info"
  | "nr_line_info"
  | "line_info"
  | "jited_line_info"
  | "nr_jited_line_info"
  | "line_info_rec_size"
  | "jited_line_info_rec_size"
  | "nr_prog_tags"
  | "prog_tags"
  | "run_time_ns"
  | "run_cnt"
  | "recursion_misses"
  | "verified_insns"
  | "attach_btf_obj_id"
  | "attach_btf_id"
> = defineLayout("bpf_prog_info", {
  type: u32(0),
  id: u32(4),
  tag: bytes(8, 8),
  jited_prog_len: u32(16),
  xlated_prog_len: u32(20),
  jited_prog_insns: ptr(24),
  xlated_prog_insns: ptr(32),
  load_time: u64(40),
  created_by_uid: u32(48),
  nr_map_ids: u32(52),
  map_ids: ptr(56),
  name: bytes(64, 16),
  ifindex: u32(80),
  gpl_compatible: u32(84),
  netns_dev: u64(88),
  netns_ino: u64(96),
  nr_jited_ksyms: u32(104),
  nr_jited_func_lens: u32(108),
  jited_ksyms: ptr(112),
  jited_func_lens: ptr(120),
  btf_id: u32(128),
  func_info_rec_size: u32(132),
  func_info: ptr(136),
  nr_func_info: u32(144),
  nr_line_info: u32(148),
  line_info: ptr(152),
  jited_line_info: ptr(160),
  nr_jited_line_info: u32(168),
  line_info_rec_size: u32(172),
  jited_line_info_rec_size: u32(176),
  nr_prog_tags: u32(180),
  prog_tags: ptr(184),
  run_time_ns: u64(192),
  run_cnt: u64(200),
  recursion_misses: u64(208),
  verified_insns: u32(216),
  attach_btf_obj_id: u32(220),
  attach_btf_id: u32(224),
});

/**
 * `struct bpf_map_info`.
 *
 * @example
 * ```ts
 * import { MAP_INFO_LAYOUT } from "@tsbpf/core/types";
 * MAP_INFO_LAYOUT.fields.max_entries.offset; // 16
 * ```
 */
export const MAP_INFO_LAYOUT: AttrLayout<
  | "type"
  | "id"
  | "key_size"
  | "value_size"
  | "max_entries"
  | "map_flags"
  | "name"
  | "ifindex"
  | "btf_vmlinux_value_type_id"
  | "netns_dev"
  | "netns_ino"
  | "btf_id"
  | "btf_key_type_id"
  | "btf_value_type_id"
  | "btf_vmlinux_id"
  | "map_extra"
  | "hash"
  | "hash_size"
> = defineLayout("bpf_map_info", {
  type: u32(0),
  id: u32(4),
  key_size: u32(8),
  value_size: u32(12),
  max_entries: u32(16),
  map_flags: u32(20),
  name: bytes(24, 16),
  ifindex: u32(40),
  btf_vmlinux_value_type_id: u32(44),
  netns_dev: u64(48),
  netns_ino: u64(56),
  btf_id: u32(64),
  btf_key_type_id: u32(68),
  btf_value_type_id: u32(72),
  btf_vmlinux_id: u32(76),
  map_extra: u64(80),
  hash: ptr(88),
  hash_size: u32(96),
});

/**
 * `struct bpf_link_info`, the part common to every link type (the per-type union starts at 16).
 *
 * @example
 * ```ts
 * import { LINK_INFO_LAYOUT } from "@tsbpf/core/types";
 * LINK_INFO_LAYOUT.fields.prog_id.offset; // 8
 * ```
 */
export const LINK_INFO_LAYOUT: AttrLayout<"type" | "id" | "prog_id"> = defineLayout(
  "bpf_link_info",
  {
    type: u32(0),
    id: u32(4),
    prog_id: u32(8),
  },
);

/**
 * `struct bpf_btf_info`.
 *
 * @example
 * ```ts
 * import { BTF_INFO_LAYOUT } from "@tsbpf/core/types";
 * BTF_INFO_LAYOUT.size; // 32
 * ```
 */
export const BTF_INFO_LAYOUT: AttrLayout<
  "btf" | "btf_size" | "id" | "name" | "name_len" | "kernel_btf"
> = defineLayout("bpf_btf_info", {
  btf: ptr(0),
  btf_size: u32(8),
  id: u32(12),
  name: ptr(16),
  name_len: u32(24),
  kernel_btf: u32(28),
});

/**
 * The info layouts above.
 *
 * @example
 * ```ts
 * import { INFO_LAYOUTS } from "@tsbpf/core/types";
 * INFO_LAYOUTS.map((l) => l.name); // ["bpf_prog_info", "bpf_map_info", "bpf_link_info", "bpf_btf_info"]
 * ```
 */
export const INFO_LAYOUTS: readonly AttrLayout[] = [
  PROG_INFO_LAYOUT,
  MAP_INFO_LAYOUT,
  LINK_INFO_LAYOUT,
  BTF_INFO_LAYOUT,
];
