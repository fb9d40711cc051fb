/**
 * `union bpf_attr` layouts: one declarative layout per bpf(2) command, with the uapi member names.
 *
 * A layout's `size` is the end of its last field, the size libbpf passes for the command (older
 * kernels reject non-zero bytes past the fields they know; zero bytes are accepted). Offsets and
 * sizes are checked against the running kernel's BTF by `tests/attr_layout.test.ts`.
 *
 * Nested members of a per-command struct (the `link_create` variants) are named by their C path
 * below the command's struct: `"tracing.cookie"` is `attr.link_create.tracing.cookie`. Members of
 * an anonymous union all appear, at the same offset (`value` and `next_key`).
 *
 * @module
 */

/**
 * How a field is encoded: unsigned/signed little-endian integers, `ptr` (a user pointer in an
 * `__aligned_u64`), or `bytes` (a fixed `char[]`, e.g. `prog_name`).
 *
 * @example
 * ```ts
 * import type { AttrKind } from "@tsbpf/core/types";
 * const k: AttrKind = "ptr";
 * ```
 */
export type AttrKind = "u8" | "u16" | "u32" | "s32" | "u64" | "ptr" | "bytes";

/**
 * One field of a layout: byte offset, size in bytes and encoding.
 *
 * @example
 * ```ts
 * import { PROG_LOAD_ATTR } from "@tsbpf/core/types";
 * PROG_LOAD_ATTR.fields.insns; // { offset: 8, size: 8, kind: "ptr" }
 * ```
 */
export interface AttrField {
  /** Byte offset from the start of the struct. */
  readonly offset: number;
  /** Size in bytes. */
  readonly size: 1 | 2 | 4 | 8 | number;
  /** Encoding. */
  readonly kind: AttrKind;
}

/**
 * A struct layout: a name (the command, or the C struct name), the size to pass, and the fields
 * by uapi member name.
 *
 * @example
 * ```ts
 * import { PROG_LOAD_ATTR } from "@tsbpf/core/types";
 * PROG_LOAD_ATTR.size; // 152
 * ```
 */
export interface AttrLayout<F extends string = string> {
  /** The bpf(2) command (`BPF_PROG_LOAD`) or struct (`bpf_prog_info`) the layout describes. */
  readonly name: string;
  /** End of the last field, in bytes. */
  readonly size: number;
  /** Fields by uapi member name. */
  readonly fields: Readonly<Record<F, AttrField>>;
}

const u32 = (offset: number): AttrField => ({ offset, size: 4, kind: "u32" });
const s32 = (offset: number): AttrField => ({ offset, size: 4, kind: "s32" });
const u64 = (offset: number): AttrField => ({ offset, size: 8, kind: "u64" });
const ptr = (offset: number): AttrField => ({ offset, size: 8, kind: "ptr" });
const bytes = (offset: number, size: number): AttrField => ({ offset, size, kind: "bytes" });

/**
 * Builds a frozen layout whose size is the end of its last field. Used for the layouts below;
 * exported for layouts of structs not listed here.
 *
 * @example
 * ```ts
 * import { defineLayout } from "@tsbpf/core/types";
 * const L = defineLayout("example", { a: { offset: 0, size: 4, kind: "u32" } });
 * L.size; // 4
 * ```
 */
export function defineLayout<F extends string>(
  name: string,
  fields: Record<F, AttrField>,
): AttrLayout<F> {
  let size = 0;
  for (const f of Object.values<AttrField>(fields)) {
    Object.freeze(f);
    size = Math.max(size, f.offset + f.size);
  }
  return Object.freeze({ name, size, fields: Object.freeze(fields) });
}

/**
 * BPF_MAP_CREATE, through `map_token_fd` (the 6.18 `excl_prog_hash` fields are left out).
 *
 * @example
 * ```ts
 * import { MAP_CREATE_ATTR } from "@tsbpf/core/types";
 * MAP_CREATE_ATTR.fields.max_entries.offset; // 12
 * ```
 */
export const MAP_CREATE_ATTR: AttrLayout<
  | "map_type"
  | "key_size"
  | "value_size"
  | "max_entries"
  | "map_flags"
  | "inner_map_fd"
  | "numa_node"
  | "map_name"
  | "map_ifindex"
  | "btf_fd"
  | "btf_key_type_id"
  | "btf_value_type_id"
  | "btf_vmlinux_value_type_id"
  | "map_extra"
  | "value_type_btf_obj_fd"
  | "map_token_fd"
> = defineLayout("BPF_MAP_CREATE", {
  map_type: u32(0),
  key_size: u32(4),
  value_size: u32(8),
  max_entries: u32(12),
  map_flags: u32(16),
  inner_map_fd: u32(20),
  numa_node: u32(24),
  map_name: bytes(28, 16),
  map_ifindex: u32(44),
  btf_fd: u32(48),
  btf_key_type_id: u32(52),
  btf_value_type_id: u32(56),
  btf_vmlinux_value_type_id: u32(60),
  map_extra: u64(64),
  value_type_btf_obj_fd: s32(72),
  map_token_fd: s32(76),
});

/**
 * BPF_MAP_LOOKUP_ELEM (`flags`: `ElemFlag.LOCK`).
 *
 * @example
 * ```ts
 * import { MAP_LOOKUP_ELEM_ATTR } from "@tsbpf/core/types";
 * MAP_LOOKUP_ELEM_ATTR.size; // 32
 * ```
 */
export const MAP_LOOKUP_ELEM_ATTR: AttrLayout<"map_fd" | "key" | "value" | "flags"> = defineLayout(
  "BPF_MAP_LOOKUP_ELEM",
  {
    map_fd: u32(0),
    key: ptr(8),
    value: ptr(16),
    flags: u64(24),
  },
);

/**
 * BPF_MAP_UPDATE_ELEM (`flags`: `ElemFlag.ANY`/`NOEXIST`/`EXIST`, `LOCK`).
 *
 * @example
 * ```ts
 * import { MAP_UPDATE_ELEM_ATTR } from "@tsbpf/core/types";
 * MAP_UPDATE_ELEM_ATTR.fields.flags.offset; // 24
 * ```
 */
export const MAP_UPDATE_ELEM_ATTR: AttrLayout<"map_fd" | "key" | "value" | "flags"> = defineLayout(
  "BPF_MAP_UPDATE_ELEM",
  {
    map_fd: u32(0),
    key: ptr(8),
    value: ptr(16),
    flags: u64(24),
  },
);

/**
 * BPF_MAP_DELETE_ELEM (the kernel reads through `key`).
 *
 * @example
 * ```ts
 * import { MAP_DELETE_ELEM_ATTR } from "@tsbpf/core/types";
 * MAP_DELETE_ELEM_ATTR.size; // 16
 * ```
 */
export const MAP_DELETE_ELEM_ATTR: AttrLayout<"map_fd" | "key"> = defineLayout(
  "BPF_MAP_DELETE_ELEM",
  {
    map_fd: u32(0),
    key: ptr(8),
  },
);

/**
 * BPF_MAP_GET_NEXT_KEY (`key` null for the first key).
 *
 * @example
 * ```ts
 * import { MAP_GET_NEXT_KEY_ATTR } from "@tsbpf/core/types";
 * MAP_GET_NEXT_KEY_ATTR.fields.next_key.offset; // 16
 * ```
 */
export const MAP_GET_NEXT_KEY_ATTR: AttrLayout<"map_fd" | "key" | "next_key"> = defineLayout(
  "BPF_MAP_GET_NEXT_KEY",
  {
    map_fd: u32(0),
    key: ptr(8),
    next_key: ptr(16),
  },
);

/**
 * BPF_MAP_LOOKUP_AND_DELETE_ELEM.
 *
 * @example
 * ```ts
 * import { MAP_LOOKUP_AND_DELETE_ELEM_ATTR } from "@tsbpf/core/types";
 * MAP_LOOKUP_AND_DELETE_ELEM_ATTR.size; // 32
 * ```
 */
export const MAP_LOOKUP_AND_DELETE_ELEM_ATTR: AttrLayout<"map_fd" | "key" | "value" | "flags"> =
  defineLayout(
    "BPF_MAP_LOOKUP_AND_DELETE_ELEM",
    { map_fd: u32(0), key: ptr(8), value: ptr(16), flags: u64(24) },
  );

/**
 * BPF_MAP_FREEZE.
 *
 * @example
 * ```ts
 * import { MAP_FREEZE_ATTR } from "@tsbpf/core/types";
 * MAP_FREEZE_ATTR.size; // 4
 * ```
 */
export const MAP_FREEZE_ATTR: AttrLayout<"map_fd"> = defineLayout("BPF_MAP_FREEZE", {
  map_fd: u32(0),
});

/**
 * BPF_MAP_LOOKUP_BATCH, BPF_MAP_LOOKUP_AND_DELETE_BATCH, BPF_MAP_UPDATE_BATCH and
 * BPF_MAP_DELETE_BATCH (`attr.batch`).
 *
 * @example
 * ```ts
 * import { MAP_BATCH_ATTR } from "@tsbpf/core/types";
 * MAP_BATCH_ATTR.size; // 56
 * ```
 */
export const MAP_BATCH_ATTR: AttrLayout<
  "in_batch" | "out_batch" | "keys" | "values" | "count" | "map_fd" | "elem_flags" | "flags"
> = defineLayout("BPF_MAP_*_BATCH", {
  in_batch: ptr(0),
  out_batch: ptr(8),
  keys: ptr(16),
  values: ptr(24),
  count: u32(32),
  map_fd: u32(36),
  elem_flags: u64(40),
  flags: u64(48),
});

/**
 * BPF_PROG_LOAD, through `fd_array_cnt` (the 6.18 `signature`, `signature_size` and `keyring_id`
 * fields are left out).
 *
 * @example
 * ```ts
 * import { PROG_LOAD_ATTR } from "@tsbpf/core/types";
 * PROG_LOAD_ATTR.fields.log_buf.offset; // 32
 * ```
 */
export const PROG_LOAD_ATTR: AttrLayout<
  | "prog_type"
  | "insn_cnt"
  | "insns"
  | "license"
  | "log_level"
  | "log_size"
  | "log_buf"
  | "kern_version"
  | "prog_flags"
  | "prog_name"
  | "prog_ifindex"
  | "expected_attach_type"
  | "prog_btf_fd"
  | "func_info_rec_size"
  | "func_info"
  | "func_info_cnt"
  | "line_info_rec_size"
  | "line_info"
  | "line_info_cnt"
  | "attach_btf_id"
  | "attach_prog_fd"
  | "attach_btf_obj_fd"
  | "core_relo_cnt"
  | "fd_array"
  | "core_relos"
  | "core_relo_rec_size"
  | "log_true_size"
  | "prog_token_fd"
  | "fd_array_cnt"
> = defineLayout("BPF_PROG_LOAD", {
  prog_type: u32(0),
  insn_cnt: u32(4),
  insns: ptr(8),
  license: ptr(16),
  log_level: u32(24),
  log_size: u32(28),
  log_buf: ptr(32),
  kern_version: u32(40),
  prog_flags: u32(44),
  prog_name: bytes(48, 16),
  prog_ifindex: u32(64),
  expected_attach_type: u32(68),
  prog_btf_fd: u32(72),
  func_info_rec_size: u32(76),
  func_info: ptr(80),
  func_info_cnt: u32(88),
  line_info_rec_size: u32(92),
  line_info: ptr(96),
  line_info_cnt: u32(104),
  attach_btf_id: u32(108),
  attach_prog_fd: u32(112),
  attach_btf_obj_fd: u32(112),
  core_relo_cnt: u32(116),
  fd_array: ptr(120),
  core_relos: ptr(128),
  core_relo_rec_size: u32(136),
  log_true_size: u32(140),
  prog_token_fd: s32(144),
  fd_array_cnt: u32(148),
});

/**
 * BPF_OBJ_PIN and BPF_OBJ_GET (`file_flags`: `MapFlag.RDONLY`/`WRONLY`, `MapFlag.PATH_FD`).
 *
 * @example
 * ```ts
 * import { OBJ_PIN_ATTR } from "@tsbpf/core/types";
 * OBJ_PIN_ATTR.fields.bpf_fd.offset; // 8
 * ```
 */
export const OBJ_PIN_ATTR: AttrLayout<"pathname" | "bpf_fd" | "file_flags" | "path_fd"> =
  defineLayout("BPF_OBJ_PIN", {
    pathname: ptr(0),
    bpf_fd: u32(8),
    file_flags: u32(12),
    path_fd: s32(16),
  });

/**
 * BPF_OBJ_GET: same struct as BPF_OBJ_PIN.
 *
 * @example
 * ```ts
 * import { OBJ_GET_ATTR } from "@tsbpf/core/types";
 * OBJ_GET_ATTR.size; // 20
 * ```
 */
export const OBJ_GET_ATTR: AttrLayout<"pathname" | "bpf_fd" | "file_flags" | "path_fd"> =
  defineLayout("BPF_OBJ_GET", { ...OBJ_PIN_ATTR.fields });

/**
 * BPF_PROG_ATTACH (`attach_flags`: `AttachFlag`).
 *
 * @example
 * ```ts
 * import { PROG_ATTACH_ATTR } from "@tsbpf/core/types";
 * PROG_ATTACH_ATTR.fields.attach_type.offset; // 8
 * ```
 */
export const PROG_ATTACH_ATTR: AttrLayout<
  | "target_fd"
  | "target_ifindex"
  | "attach_bpf_fd"
  | "attach_type"
  | "attach_flags"
  | "replace_bpf_fd"
  | "relative_fd"
  | "relative_id"
  | "expected_revision"
> = defineLayout("BPF_PROG_ATTACH", {
  target_fd: u32(0),
  target_ifindex: u32(0),
  attach_bpf_fd: u32(4),
  attach_type: u32(8),
  attach_flags: u32(12),
  replace_bpf_fd: u32(16),
  relative_fd: u32(20),
  relative_id: u32(20),
  expected_revision: u64(24),
});

/**
 * BPF_PROG_DETACH: same struct as BPF_PROG_ATTACH.
 *
 * @example
 * ```ts
 * import { PROG_DETACH_ATTR } from "@tsbpf/core/types";
 * PROG_DETACH_ATTR.size; // 32
 * ```
 */
export const PROG_DETACH_ATTR: AttrLayout<
  | "target_fd"
  | "target_ifindex"
  | "attach_bpf_fd"
  | "attach_type"
  | "attach_flags"
  | "replace_bpf_fd"
  | "relative_fd"
  | "relative_id"
  | "expected_revision"
> = defineLayout("BPF_PROG_DETACH", {
  ...PROG_ATTACH_ATTR.fields,
});

/**
 * BPF_PROG_TEST_RUN / BPF_PROG_RUN (`attr.test`; `flags`: `TestRunFlag`).
 *
 * @example
 * ```ts
 * import { PROG_TEST_RUN_ATTR } from "@tsbpf/core/types";
 * PROG_TEST_RUN_ATTR.fields.retval.offset; // 4
 * ```
 */
export const PROG_TEST_RUN_ATTR: AttrLayout<
  | "prog_fd"
  | "retval"
  | "data_size_in"
  | "data_size_out"
  | "data_in"
  | "data_out"
  | "repeat"
  | "duration"
  | "ctx_size_in"
  | "ctx_size_out"
  | "ctx_in"
  | "ctx_out"
  | "flags"
  | "cpu"
  | "batch_size"
> = defineLayout("BPF_PROG_TEST_RUN", {
  prog_fd: u32(0),
  retval: u32(4),
  data_size_in: u32(8),
  data_size_out: u32(12),
  data_in: ptr(16),
  data_out: ptr(24),
  repeat: u32(32),
  duration: u32(36),
  ctx_size_in: u32(40),
  ctx_size_out: u32(44),
  ctx_in: ptr(48),
  ctx_out: ptr(56),
  flags: u32(64),
  cpu: u32(68),
  batch_size: u32(72),
});

/**
 * BPF_PROG_GET_NEXT_ID, BPF_MAP_GET_NEXT_ID, BPF_BTF_GET_NEXT_ID and BPF_LINK_GET_NEXT_ID.
 *
 * @example
 * ```ts
 * import { GET_NEXT_ID_ATTR } from "@tsbpf/core/types";
 * GET_NEXT_ID_ATTR.fields.next_id.offset; // 4
 * ```
 */
export const GET_NEXT_ID_ATTR: AttrLayout<"start_id" | "next_id"> = defineLayout(
  "BPF_*_GET_NEXT_ID",
  {
    start_id: u32(0),
    next_id: u32(4),
  },
);

/**
 * BPF_PROG_GET_FD_BY_ID, BPF_MAP_GET_FD_BY_ID, BPF_BTF_GET_FD_BY_ID and BPF_LINK_GET_FD_BY_ID
 * (`open_flags`: `MapFlag.RDONLY`/`WRONLY`, `MapFlag.TOKEN_FD`).
 *
 * @example
 * ```ts
 * import { GET_FD_BY_ID_ATTR } from "@tsbpf/core/types";
 * GET_FD_BY_ID_ATTR.fields.open_flags.offset; // 8
 * ```
 */
export const GET_FD_BY_ID_ATTR: AttrLayout<
  "prog_id" | "map_id" | "btf_id" | "link_id" | "open_flags" | "fd_by_id_token_fd"
> = defineLayout("BPF_*_GET_FD_BY_ID", {
  prog_id: u32(0),
  map_id: u32(0),
  btf_id: u32(0),
  link_id: u32(0),
  open_flags: u32(8),
  fd_by_id_token_fd: s32(12),
});

/**
 * BPF_OBJ_GET_INFO_BY_FD (`attr.info`).
 *
 * @example
 * ```ts
 * import { OBJ_GET_INFO_BY_FD_ATTR } from "@tsbpf/core/types";
 * OBJ_GET_INFO_BY_FD_ATTR.size; // 16
 * ```
 */
export const OBJ_GET_INFO_BY_FD_ATTR: AttrLayout<"bpf_fd" | "info_len" | "info"> = defineLayout(
  "BPF_OBJ_GET_INFO_BY_FD",
  {
    bpf_fd: u32(0),
    info_len: u32(4),
    info: ptr(8),
  },
);

/**
 * BPF_PROG_QUERY (`attr.query`; `query_flags`: `QueryFlag`).
 *
 * @example
 * ```ts
 * import { PROG_QUERY_ATTR } from "@tsbpf/core/types";
 * PROG_QUERY_ATTR.fields.prog_ids.offset; // 16
 * ```
 */
export const PROG_QUERY_ATTR: AttrLayout<
  | "target_fd"
  | "target_ifindex"
  | "attach_type"
  | "query_flags"
  | "attach_flags"
  | "prog_ids"
  | "prog_cnt"
  | "count"
  | "prog_attach_flags"
  | "link_ids"
  | "link_attach_flags"
  | "revision"
> = defineLayout("BPF_PROG_QUERY", {
  target_fd: u32(0),
  target_ifindex: u32(0),
  attach_type: u32(4),
  query_flags: u32(8),
  attach_flags: u32(12),
  prog_ids: ptr(16),
  prog_cnt: u32(24),
  count: u32(24),
  prog_attach_flags: ptr(32),
  link_ids: ptr(40),
  link_attach_flags: ptr(48),
  revision: u64(56),
});

/**
 * BPF_RAW_TRACEPOINT_OPEN (`attr.raw_tracepoint`).
 *
 * @example
 * ```ts
 * import { RAW_TRACEPOINT_OPEN_ATTR } from "@tsbpf/core/types";
 * RAW_TRACEPOINT_OPEN_ATTR.fields.prog_fd.offset; // 8
 * ```
 */
export const RAW_TRACEPOINT_OPEN_ATTR: AttrLayout<"name" | "prog_fd" | "cookie"> = defineLayout(
  "BPF_RAW_TRACEPOINT_OPEN",
  {
    name: ptr(0),
    prog_fd: u32(8),
    cookie: u64(16),
  },
);

/**
 * BPF_BTF_LOAD.
 *
 * @example
 * ```ts
 * import { BTF_LOAD_ATTR } from "@tsbpf/core/types";
 * BTF_LOAD_ATTR.fields.btf_size.offset; // 16
 * ```
 */
export const BTF_LOAD_ATTR: AttrLayout<
  | "btf"
  | "btf_log_buf"
  | "btf_size"
  | "btf_log_size"
  | "btf_log_level"
  | "btf_log_true_size"
  | "btf_flags"
  | "btf_token_fd"
> = defineLayout("BPF_BTF_LOAD", {
  btf: ptr(0),
  btf_log_buf: ptr(8),
  btf_size: u32(16),
  btf_log_size: u32(20),
  btf_log_level: u32(24),
  btf_log_true_size: u32(28),
  btf_flags: u32(32),
  btf_token_fd: s32(36),
});

/**
 * BPF_TASK_FD_QUERY (`attr.task_fd_query`).
 *
 * @example
 * ```ts
 * import { TASK_FD_QUERY_ATTR } from "@tsbpf/core/types";
 * TASK_FD_QUERY_ATTR.size; // 48
 * ```
 */
export const TASK_FD_QUERY_ATTR: AttrLayout<
  "pid" | "fd" | "flags" | "buf_len" | "buf" | "prog_id" | "fd_type" | "probe_offset" | "probe_addr"
> = defineLayout("BPF_TASK_FD_QUERY", {
  pid: u32(0),
  fd: u32(4),
  flags: u32(8),
  buf_len: u32(12),
  buf: ptr(16),
  prog_id: u32(24),
  fd_type: u32(28),
  probe_offset: u64(32),
  probe_addr: u64(40),
});

const LINK_CREATE_COMMON: Record<
  "prog_fd" | "map_fd" | "target_fd" | "target_ifindex" | "attach_type" | "flags",
  AttrField
> = {
  prog_fd: u32(0),
  map_fd: u32(0),
  target_fd: u32(4),
  target_ifindex: u32(4),
  attach_type: u32(8),
  flags: u32(12),
};

/**
 * BPF_LINK_CREATE, common part plus `target_btf_id` and the iterator fields (`attr.link_create`).
 *
 * @example
 * ```ts
 * import { LINK_CREATE_ATTR } from "@tsbpf/core/types";
 * LINK_CREATE_ATTR.fields.attach_type.offset; // 8
 * ```
 */
export const LINK_CREATE_ATTR: AttrLayout<
  | "prog_fd"
  | "map_fd"
  | "target_fd"
  | "target_ifindex"
  | "attach_type"
  | "flags"
  | "target_btf_id"
  | "iter_info"
  | "iter_info_len"
> = defineLayout("BPF_LINK_CREATE", {
  ...LINK_CREATE_COMMON,
  target_btf_id: u32(16),
  iter_info: ptr(16),
  iter_info_len: u32(24),
});

/**
 * BPF_LINK_CREATE for perf events (kprobe, uprobe, tracepoint via perf_event_open fd).
 *
 * @example
 * ```ts
 * import { LINK_CREATE_PERF_EVENT_ATTR } from "@tsbpf/core/types";
 * LINK_CREATE_PERF_EVENT_ATTR.fields["perf_event.bpf_cookie"].offset; // 16
 * ```
 */
export const LINK_CREATE_PERF_EVENT_ATTR: AttrLayout<
  | "prog_fd"
  | "map_fd"
  | "target_fd"
  | "target_ifindex"
  | "attach_type"
  | "flags"
  | "perf_event.bpf_cookie"
> = defineLayout(
  "BPF_LINK_CREATE (perf_event)",
  { ...LINK_CREATE_COMMON, "perf_event.bpf_cookie": u64(16) },
);

/**
 * BPF_LINK_CREATE for BPF_TRACE_KPROBE_MULTI / BPF_TRACE_KPROBE_SESSION.
 *
 * @example
 * ```ts
 * import { LINK_CREATE_KPROBE_MULTI_ATTR } from "@tsbpf/core/types";
 * LINK_CREATE_KPROBE_MULTI_ATTR.size; // 48
 * ```
 */
export const LINK_CREATE_KPROBE_MULTI_ATTR: AttrLayout<
  | "prog_fd"
  | "map_fd"
  | "target_fd"
  | "target_ifindex"
  | "attach_type"
  | "flags"
  | "kprobe_multi.flags"
  | "kprobe_multi.cnt"
  | "kprobe_multi.syms"
  | "kprobe_multi.addrs"
  | "kprobe_multi.cookies"
> = defineLayout(
  "BPF_LINK_CREATE (kprobe_multi)",
  {
    ...LINK_CREATE_COMMON,
    "kprobe_multi.flags": u32(16),
    "kprobe_multi.cnt": u32(20),
    "kprobe_multi.syms": ptr(24),
    "kprobe_multi.addrs": ptr(32),
    "kprobe_multi.cookies": ptr(40),
  },
);

/**
 * BPF_LINK_CREATE for fentry/fexit/fmod_ret/lsm tracing programs with a cookie.
 *
 * @example
 * ```ts
 * import { LINK_CREATE_TRACING_ATTR } from "@tsbpf/core/types";
 * LINK_CREATE_TRACING_ATTR.fields["tracing.cookie"].offset; // 24
 * ```
 */
export const LINK_CREATE_TRACING_ATTR: AttrLayout<
  | "prog_fd"
  | "map_fd"
  | "target_fd"
  | "target_ifindex"
  | "attach_type"
  | "flags"
  | "tracing.target_btf_id"
  | "tracing.cookie"
> = defineLayout("BPF_LINK_CREATE (tracing)", {
  ...LINK_CREATE_COMMON,
  "tracing.target_btf_id": u32(16),
  "tracing.cookie": u64(24),
});

/**
 * BPF_LINK_CREATE for BPF_PROG_TYPE_NETFILTER (`netfilter.flags`: `NetfilterFlag`).
 *
 * @example
 * ```ts
 * import { LINK_CREATE_NETFILTER_ATTR } from "@tsbpf/core/types";
 * LINK_CREATE_NETFILTER_ATTR.fields["netfilter.priority"].kind; // "s32"
 * ```
 */
export const LINK_CREATE_NETFILTER_ATTR: AttrLayout<
  | "prog_fd"
  | "map_fd"
  | "target_fd"
  | "target_ifindex"
  | "attach_type"
  | "flags"
  | "netfilter.pf"
  | "netfilter.hooknum"
  | "netfilter.priority"
  | "netfilter.flags"
> = defineLayout(
  "BPF_LINK_CREATE (netfilter)",
  {
    ...LINK_CREATE_COMMON,
    "netfilter.pf": u32(16),
    "netfilter.hooknum": u32(20),
    "netfilter.priority": s32(24),
    "netfilter.flags": u32(28),
  },
);

/**
 * BPF_LINK_CREATE for tcx (BPF_TCX_INGRESS/EGRESS; `flags`: `AttachFlag`).
 *
 * @example
 * ```ts
 * import { LINK_CREATE_TCX_ATTR } from "@tsbpf/core/types";
 * LINK_CREATE_TCX_ATTR.fields["tcx.expected_revision"].offset; // 24
 * ```
 */
export const LINK_CREATE_TCX_ATTR: AttrLayout<
  | "prog_fd"
  | "map_fd"
  | "target_fd"
  | "target_ifindex"
  | "attach_type"
  | "flags"
  | "tcx.relative_fd"
  | "tcx.relative_id"
  | "tcx.expected_revision"
> = defineLayout("BPF_LINK_CREATE (tcx)", {
  ...LINK_CREATE_COMMON,
  "tcx.relative_fd": u32(16),
  "tcx.relative_id": u32(16),
  "tcx.expected_revision": u64(24),
});

/**
 * BPF_LINK_CREATE for BPF_TRACE_UPROBE_MULTI / BPF_TRACE_UPROBE_SESSION.
 *
 * @example
 * ```ts
 * import { LINK_CREATE_UPROBE_MULTI_ATTR } from "@tsbpf/core/types";
 * LINK_CREATE_UPROBE_MULTI_ATTR.size; // 60
 * ```
 */
export const LINK_CREATE_UPROBE_MULTI_ATTR: AttrLayout<
  | "prog_fd"
  | "map_fd"
  | "target_fd"
  | "target_ifindex"
  | "attach_type"
  | "flags"
  | "uprobe_multi.path"
  | "uprobe_multi.offsets"
  | "uprobe_multi.ref_ctr_offsets"
  | "uprobe_multi.cookies"
  | "uprobe_multi.cnt"
  | "uprobe_multi.flags"
  | "uprobe_multi.pid"
> = defineLayout(
  "BPF_LINK_CREATE (uprobe_multi)",
  {
    ...LINK_CREATE_COMMON,
    "uprobe_multi.path": ptr(16),
    "uprobe_multi.offsets": ptr(24),
    "uprobe_multi.ref_ctr_offsets": ptr(32),
    "uprobe_multi.cookies": ptr(40),
    "uprobe_multi.cnt": u32(48),
    "uprobe_multi.flags": u32(52),
    "uprobe_multi.pid": u32(56),
  },
);

/**
 * BPF_LINK_CREATE for netkit (BPF_NETKIT_PRIMARY/PEER; `flags`: `AttachFlag`).
 *
 * @example
 * ```ts
 * import { LINK_CREATE_NETKIT_ATTR } from "@tsbpf/core/types";
 * LINK_CREATE_NETKIT_ATTR.size; // 32
 * ```
 */
export const LINK_CREATE_NETKIT_ATTR: AttrLayout<
  | "prog_fd"
  | "map_fd"
  | "target_fd"
  | "target_ifindex"
  | "attach_type"
  | "flags"
  | "netkit.relative_fd"
  | "netkit.relative_id"
  | "netkit.expected_revision"
> = defineLayout("BPF_LINK_CREATE (netkit)", {
  ...LINK_CREATE_COMMON,
  "netkit.relative_fd": u32(16),
  "netkit.relative_id": u32(16),
  "netkit.expected_revision": u64(24),
});

/**
 * BPF_LINK_CREATE for cgroup programs with relative ordering (`flags`: `AttachFlag`).
 *
 * @example
 * ```ts
 * import { LINK_CREATE_CGROUP_ATTR } from "@tsbpf/core/types";
 * LINK_CREATE_CGROUP_ATTR.size; // 32
 * ```
 */
export const LINK_CREATE_CGROUP_ATTR: AttrLayout<
  | "prog_fd"
  | "map_fd"
  | "target_fd"
  | "target_ifindex"
  | "attach_type"
  | "flags"
  | "cgroup.relative_fd"
  | "cgroup.relative_id"
  | "cgroup.expected_revision"
> = defineLayout("BPF_LINK_CREATE (cgroup)", {
  ...LINK_CREATE_COMMON,
  "cgroup.relative_fd": u32(16),
  "cgroup.relative_id": u32(16),
  "cgroup.expected_revision": u64(24),
});

/**
 * BPF_LINK_UPDATE (`flags`: `AttachFlag.REPLACE` with `old_prog_fd`).
 *
 * @example
 * ```ts
 * import { LINK_UPDATE_ATTR } from "@tsbpf/core/types";
 * LINK_UPDATE_ATTR.size; // 16
 * ```
 */
export const LINK_UPDATE_ATTR: AttrLayout<
  "link_fd" | "new_prog_fd" | "new_map_fd" | "flags" | "old_prog_fd" | "old_map_fd"
> = defineLayout("BPF_LINK_UPDATE", {
  link_fd: u32(0),
  new_prog_fd: u32(4),
  new_map_fd: u32(4),
  flags: u32(8),
  old_prog_fd: u32(12),
  old_map_fd: u32(12),
});

/**
 * BPF_LINK_DETACH.
 *
 * @example
 * ```ts
 * import { LINK_DETACH_ATTR } from "@tsbpf/core/types";
 * LINK_DETACH_ATTR.size; // 4
 * ```
 */
export const LINK_DETACH_ATTR: AttrLayout<"link_fd"> = defineLayout("BPF_LINK_DETACH", {
  link_fd: u32(0),
});

/**
 * BPF_ENABLE_STATS (`type`: `StatsType`).
 *
 * @example
 * ```ts
 * import { ENABLE_STATS_ATTR } from "@tsbpf/core/types";
 * ENABLE_STATS_ATTR.size; // 4
 * ```
 */
export const ENABLE_STATS_ATTR: AttrLayout<"type"> = defineLayout("BPF_ENABLE_STATS", {
  type: u32(0),
});

/**
 * BPF_ITER_CREATE.
 *
 * @example
 * ```ts
 * import { ITER_CREATE_ATTR } from "@tsbpf/core/types";
 * ITER_CREATE_ATTR.size; // 8
 * ```
 */
export const ITER_CREATE_ATTR: AttrLayout<"link_fd" | "flags"> = defineLayout("BPF_ITER_CREATE", {
  link_fd: u32(0),
  flags: u32(4),
});

/**
 * BPF_PROG_BIND_MAP.
 *
 * @example
 * ```ts
 * import { PROG_BIND_MAP_ATTR } from "@tsbpf/core/types";
 * PROG_BIND_MAP_ATTR.size; // 12
 * ```
 */
export const PROG_BIND_MAP_ATTR: AttrLayout<"prog_fd" | "map_fd" | "flags"> = defineLayout(
  "BPF_PROG_BIND_MAP",
  {
    prog_fd: u32(0),
    map_fd: u32(4),
    flags: u32(8),
  },
);

/**
 * BPF_TOKEN_CREATE (Linux 6.9+): `bpffs_fd` is a directory fd of a BPF filesystem's root.
 *
 * @example
 * ```ts
 * import { TOKEN_CREATE_ATTR } from "@tsbpf/core/types";
 * TOKEN_CREATE_ATTR.fields.bpffs_fd.offset; // 4
 * ```
 */
export const TOKEN_CREATE_ATTR: AttrLayout<"flags" | "bpffs_fd"> = defineLayout(
  "BPF_TOKEN_CREATE",
  {
    flags: u32(0),
    bpffs_fd: u32(4),
  },
);

/**
 * Every command layout above, in declaration order (for tests and tooling).
 *
 * @example
 * ```ts
 * import { ATTR_LAYOUTS } from "@tsbpf/core/types";
 * ATTR_LAYOUTS.map((l) => l.name);
 * ```
 */
export const ATTR_LAYOUTS: readonly AttrLayout[] = [
  MAP_CREATE_ATTR,
  MAP_LOOKUP_ELEM_ATTR,
  MAP_UPDATE_ELEM_ATTR,
  MAP_DELETE_ELEM_ATTR,
  MAP_GET_NEXT_KEY_ATTR,
  MAP_LOOKUP_AND_DELETE_ELEM_ATTR,
  MAP_FREEZE_ATTR,
  MAP_BATCH_ATTR,
  PROG_LOAD_ATTR,
  OBJ_PIN_ATTR,
  OBJ_GET_ATTR,
  PROG_ATTACH_ATTR,
  PROG_DETACH_ATTR,
  PROG_TEST_RUN_ATTR,
  GET_NEXT_ID_ATTR,
  GET_FD_BY_ID_ATTR,
  OBJ_GET_INFO_BY_FD_ATTR,
  PROG_QUERY_ATTR,
  RAW_TRACEPOINT_OPEN_ATTR,
  BTF_LOAD_ATTR,
  TASK_FD_QUERY_ATTR,
  LINK_CREATE_ATTR,
  LINK_CREATE_PERF_EVENT_ATTR,
  LINK_CREATE_KPROBE_MULTI_ATTR,
  LINK_CREATE_TRACING_ATTR,
  LINK_CREATE_NETFILTER_ATTR,
  LINK_CREATE_TCX_ATTR,
  LINK_CREATE_UPROBE_MULTI_ATTR,
  LINK_CREATE_NETKIT_ATTR,
  LINK_CREATE_CGROUP_ATTR,
  LINK_UPDATE_ATTR,
  LINK_DETACH_ATTR,
  ENABLE_STATS_ATTR,
  ITER_CREATE_ATTR,
  PROG_BIND_MAP_ATTR,
  TOKEN_CREATE_ATTR,
];
