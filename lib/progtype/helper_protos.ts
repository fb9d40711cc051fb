/**
 * Every helper prototype (`const struct bpf_func_proto bpf_…_proto = { … }`) that a Linux 6.18
 * program type can be given, by kernel symbol: `gpl_only`, `ret_type` and `arg1_type`…`arg5_type`
 * as the kernel writes them (modifier bits or-ed in with ` | `), `might_sleep` and `pkt_access`.
 * Where one helper has several prototypes (`bpf_get_stackid_proto` for kprobes,
 * `bpf_get_stackid_proto_tp` for tracepoints…), each is listed; the `*_func_proto()` functions
 * pick one per context.
 *
 * @module
 */

/**
 * One `struct bpf_func_proto`, as written in the kernel.
 *
 * @example
 * ```ts
 * import type { ProtoSpec } from "@tsbpf/core/progtype";
 * const s: ProtoSpec = { gpl: false, ret: "RET_INTEGER", args: ["ARG_PTR_TO_CTX"] };
 * ```
 */
export interface ProtoSpec {
  /** `gpl_only`. */
  readonly gpl: boolean;
  /** `ret_type` (with modifier bits, e.g. `"RET_PTR_TO_MEM_OR_BTF_ID | MEM_RDONLY"`). */
  readonly ret: string;
  /** `arg1_type`… up to the last used one. */
  readonly args: readonly string[];
  /** `might_sleep`. */
  readonly sleep?: boolean;
  /** `pkt_access`. */
  readonly pkt?: boolean;
}

const ANY = "ARG_ANYTHING";
const CTX = "ARG_PTR_TO_CTX";
const MAP = "ARG_CONST_MAP_PTR";
const INT = "RET_INTEGER";
const MEM_RO = "ARG_PTR_TO_MEM | MEM_RDONLY";
const SIZE = "ARG_CONST_SIZE";
const SIZE0 = "ARG_CONST_SIZE_OR_ZERO";
const UNINIT = "ARG_PTR_TO_UNINIT_MEM";

/**
 * The prototypes, by kernel symbol.
 *
 * @example
 * ```ts
 * import { PROTOS } from "@tsbpf/core/progtype";
 * PROTOS.bpf_trace_printk_proto.gpl; // true
 * ```
 */
export const PROTOS: Readonly<Record<string, ProtoSpec>> = {
  bpf_bind_proto: { gpl: false, ret: INT, args: [CTX, MEM_RO, SIZE] },
  bpf_bprm_opts_set_proto: { gpl: false, ret: INT, args: ["ARG_PTR_TO_BTF_ID", ANY] },
  bpf_btf_find_by_name_kind_proto: {
    gpl: false,
    ret: INT,
    args: [MEM_RO, SIZE, ANY, ANY],
    sleep: true,
  },
  bpf_cgrp_storage_delete_proto: { gpl: false, ret: INT, args: [MAP, "ARG_PTR_TO_BTF_ID_OR_NULL"] },
  bpf_cgrp_storage_get_proto: {
    gpl: false,
    ret: "RET_PTR_TO_MAP_VALUE_OR_NULL",
    args: [MAP, "ARG_PTR_TO_BTF_ID_OR_NULL", "ARG_PTR_TO_MAP_VALUE_OR_NULL", ANY],
  },
  bpf_clone_redirect_proto: { gpl: false, ret: INT, args: [CTX, ANY, ANY] },
  bpf_copy_from_user_proto: { gpl: false, ret: INT, args: [UNINIT, SIZE0, ANY], sleep: true },
  bpf_copy_from_user_task_proto: {
    gpl: true,
    ret: INT,
    args: [UNINIT, SIZE0, ANY, "ARG_PTR_TO_BTF_ID", ANY],
    sleep: true,
  },
  bpf_csum_diff_proto: {
    gpl: false,
    ret: INT,
    args: [
      "ARG_PTR_TO_MEM | PTR_MAYBE_NULL | MEM_RDONLY",
      SIZE0,
      "ARG_PTR_TO_MEM | PTR_MAYBE_NULL | MEM_RDONLY",
      SIZE0,
      ANY,
    ],
    pkt: true,
  },
  bpf_csum_level_proto: { gpl: false, ret: INT, args: [CTX, ANY] },
  bpf_csum_update_proto: { gpl: false, ret: INT, args: [CTX, ANY] },
  bpf_current_task_under_cgroup_proto: { gpl: false, ret: INT, args: [MAP, ANY] },
  bpf_d_path_proto: { gpl: false, ret: INT, args: ["ARG_PTR_TO_BTF_ID", "ARG_PTR_TO_MEM", SIZE0] },
  bpf_dynptr_data_proto: {
    gpl: false,
    ret: "RET_PTR_TO_DYNPTR_MEM_OR_NULL",
    args: ["ARG_PTR_TO_DYNPTR | MEM_RDONLY", ANY, "ARG_CONST_ALLOC_SIZE_OR_ZERO"],
  },
  bpf_dynptr_from_mem_proto: {
    gpl: false,
    ret: INT,
    args: [UNINIT, SIZE0, ANY, "ARG_PTR_TO_DYNPTR | DYNPTR_TYPE_LOCAL | MEM_UNINIT | MEM_WRITE"],
  },
  bpf_dynptr_read_proto: {
    gpl: false,
    ret: INT,
    args: [UNINIT, SIZE0, "ARG_PTR_TO_DYNPTR | MEM_RDONLY", ANY, ANY],
  },
  bpf_dynptr_write_proto: {
    gpl: false,
    ret: INT,
    args: ["ARG_PTR_TO_DYNPTR | MEM_RDONLY", ANY, MEM_RO, SIZE0, ANY],
  },
  bpf_event_output_data_proto: { gpl: true, ret: INT, args: [CTX, MAP, ANY, MEM_RO, SIZE0] },
  bpf_find_vma_proto: {
    gpl: false,
    ret: INT,
    args: ["ARG_PTR_TO_BTF_ID", ANY, "ARG_PTR_TO_FUNC", "ARG_PTR_TO_STACK_OR_NULL", ANY],
  },
  bpf_flow_dissector_load_bytes_proto: { gpl: false, ret: INT, args: [CTX, ANY, UNINIT, SIZE] },
  bpf_for_each_map_elem_proto: {
    gpl: false,
    ret: INT,
    args: [MAP, "ARG_PTR_TO_FUNC", "ARG_PTR_TO_STACK_OR_NULL", ANY],
  },
  bpf_get_attach_cookie_proto: { gpl: false, ret: INT, args: [CTX] },
  bpf_get_attach_cookie_proto_kmulti: { gpl: false, ret: INT, args: [CTX] },
  bpf_get_attach_cookie_proto_pe: { gpl: false, ret: INT, args: [CTX] },
  bpf_get_attach_cookie_proto_trace: { gpl: false, ret: INT, args: [CTX] },
  bpf_get_attach_cookie_proto_tracing: { gpl: false, ret: INT, args: [CTX] },
  bpf_get_attach_cookie_proto_umulti: { gpl: false, ret: INT, args: [CTX] },
  bpf_get_branch_snapshot_proto: { gpl: true, ret: INT, args: [UNINIT, SIZE0] },
  bpf_get_cgroup_classid_curr_proto: { gpl: false, ret: INT, args: [] },
  bpf_get_cgroup_classid_proto: { gpl: false, ret: INT, args: [CTX] },
  bpf_get_current_ancestor_cgroup_id_proto: { gpl: false, ret: INT, args: [ANY] },
  bpf_get_current_cgroup_id_proto: { gpl: false, ret: INT, args: [] },
  bpf_get_current_comm_proto: { gpl: false, ret: INT, args: [UNINIT, SIZE] },
  bpf_get_current_pid_tgid_proto: { gpl: false, ret: INT, args: [] },
  bpf_get_current_task_btf_proto: { gpl: true, ret: "RET_PTR_TO_BTF_ID_TRUSTED", args: [] },
  bpf_get_current_task_proto: { gpl: true, ret: INT, args: [] },
  bpf_get_current_uid_gid_proto: { gpl: false, ret: INT, args: [] },
  bpf_get_func_arg_cnt_proto: { gpl: false, ret: INT, args: [CTX] },
  bpf_get_func_arg_proto: {
    gpl: false,
    ret: INT,
    args: [CTX, ANY, "ARG_PTR_TO_FIXED_SIZE_MEM | MEM_UNINIT | MEM_WRITE | MEM_ALIGNED"],
  },
  bpf_get_func_ip_proto_kprobe: { gpl: true, ret: INT, args: [CTX] },
  bpf_get_func_ip_proto_kprobe_multi: { gpl: false, ret: INT, args: [CTX] },
  bpf_get_func_ip_proto_tracing: { gpl: true, ret: INT, args: [CTX] },
  bpf_get_func_ip_proto_uprobe_multi: { gpl: false, ret: INT, args: [CTX] },
  bpf_get_func_ret_proto: {
    gpl: false,
    ret: INT,
    args: [CTX, "ARG_PTR_TO_FIXED_SIZE_MEM | MEM_UNINIT | MEM_WRITE | MEM_ALIGNED"],
  },
  bpf_get_hash_recalc_proto: { gpl: false, ret: INT, args: [CTX] },
  bpf_get_listener_sock_proto: {
    gpl: false,
    ret: "RET_PTR_TO_SOCKET_OR_NULL",
    args: ["ARG_PTR_TO_SOCK_COMMON"],
  },
  bpf_get_local_storage_proto: { gpl: false, ret: "RET_PTR_TO_MAP_VALUE", args: [MAP, ANY] },
  bpf_get_netns_cookie_proto: { gpl: false, ret: INT, args: ["ARG_PTR_TO_CTX_OR_NULL"] },
  bpf_get_netns_cookie_sk_msg_proto: { gpl: false, ret: INT, args: ["ARG_PTR_TO_CTX_OR_NULL"] },
  bpf_get_netns_cookie_sock_addr_proto: { gpl: false, ret: INT, args: ["ARG_PTR_TO_CTX_OR_NULL"] },
  bpf_get_netns_cookie_sock_ops_proto: { gpl: false, ret: INT, args: ["ARG_PTR_TO_CTX_OR_NULL"] },
  bpf_get_netns_cookie_sock_proto: { gpl: false, ret: INT, args: ["ARG_PTR_TO_CTX_OR_NULL"] },
  bpf_get_netns_cookie_sockopt_proto: { gpl: false, ret: INT, args: ["ARG_PTR_TO_CTX_OR_NULL"] },
  bpf_get_ns_current_pid_tgid_proto: { gpl: false, ret: INT, args: [ANY, ANY, UNINIT, SIZE] },
  bpf_get_numa_node_id_proto: { gpl: false, ret: INT, args: [] },
  bpf_get_prandom_u32_proto: { gpl: false, ret: INT, args: [] },
  bpf_get_raw_smp_processor_id_proto: { gpl: false, ret: INT, args: [] },
  bpf_get_retval_proto: { gpl: false, ret: INT, args: [] },
  bpf_get_route_realm_proto: { gpl: false, ret: INT, args: [CTX] },
  bpf_get_smp_processor_id_proto: { gpl: false, ret: INT, args: [] },
  bpf_get_socket_cookie_proto: { gpl: false, ret: INT, args: [CTX] },
  bpf_get_socket_cookie_sock_addr_proto: { gpl: false, ret: INT, args: [CTX] },
  bpf_get_socket_cookie_sock_ops_proto: { gpl: false, ret: INT, args: [CTX] },
  bpf_get_socket_cookie_sock_proto: { gpl: false, ret: INT, args: [CTX] },
  bpf_get_socket_ptr_cookie_proto: {
    gpl: false,
    ret: INT,
    args: ["ARG_PTR_TO_BTF_ID_SOCK_COMMON | PTR_MAYBE_NULL"],
  },
  bpf_get_socket_uid_proto: { gpl: false, ret: INT, args: [CTX] },
  bpf_get_stack_proto: { gpl: true, ret: INT, args: [CTX, UNINIT, SIZE0, ANY] },
  bpf_get_stack_proto_pe: { gpl: true, ret: INT, args: [CTX, UNINIT, SIZE0, ANY] },
  bpf_get_stack_proto_raw_tp: { gpl: true, ret: INT, args: [CTX, MEM_RO, SIZE0, ANY] },
  bpf_get_stack_proto_tp: { gpl: true, ret: INT, args: [CTX, UNINIT, SIZE0, ANY] },
  bpf_get_stack_sleepable_proto: {
    gpl: true,
    ret: INT,
    args: [CTX, UNINIT, SIZE0, ANY],
    sleep: true,
  },
  bpf_get_stackid_proto: { gpl: true, ret: INT, args: [CTX, MAP, ANY] },
  bpf_get_stackid_proto_pe: { gpl: false, ret: INT, args: [CTX, MAP, ANY] },
  bpf_get_stackid_proto_raw_tp: { gpl: true, ret: INT, args: [CTX, MAP, ANY] },
  bpf_get_stackid_proto_tp: { gpl: true, ret: INT, args: [CTX, MAP, ANY] },
  bpf_get_task_stack_proto: {
    gpl: false,
    ret: INT,
    args: ["ARG_PTR_TO_BTF_ID", UNINIT, SIZE0, ANY],
  },
  bpf_get_task_stack_sleepable_proto: {
    gpl: false,
    ret: INT,
    args: ["ARG_PTR_TO_BTF_ID", UNINIT, SIZE0, ANY],
    sleep: true,
  },
  bpf_ima_file_hash_proto: {
    gpl: false,
    ret: INT,
    args: ["ARG_PTR_TO_BTF_ID", UNINIT, SIZE],
    sleep: true,
  },
  bpf_ima_inode_hash_proto: {
    gpl: false,
    ret: INT,
    args: ["ARG_PTR_TO_BTF_ID", UNINIT, SIZE],
    sleep: true,
  },
  bpf_inode_storage_delete_proto: {
    gpl: false,
    ret: INT,
    args: [MAP, "ARG_PTR_TO_BTF_ID_OR_NULL"],
  },
  bpf_inode_storage_get_proto: {
    gpl: false,
    ret: "RET_PTR_TO_MAP_VALUE_OR_NULL",
    args: [MAP, "ARG_PTR_TO_BTF_ID_OR_NULL", "ARG_PTR_TO_MAP_VALUE_OR_NULL", ANY],
  },
  bpf_jiffies64_proto: { gpl: false, ret: INT, args: [] },
  bpf_kallsyms_lookup_name_proto: {
    gpl: false,
    ret: INT,
    args: [
      "ARG_PTR_TO_MEM",
      SIZE0,
      ANY,
      "ARG_PTR_TO_FIXED_SIZE_MEM | MEM_UNINIT | MEM_WRITE | MEM_ALIGNED",
    ],
  },
  bpf_kptr_xchg_proto: {
    gpl: false,
    ret: "RET_PTR_TO_BTF_ID_OR_NULL",
    args: ["ARG_KPTR_XCHG_DEST", "ARG_PTR_TO_BTF_ID_OR_NULL | OBJ_RELEASE"],
  },
  bpf_ktime_get_boot_ns_proto: { gpl: false, ret: INT, args: [] },
  bpf_ktime_get_coarse_ns_proto: { gpl: false, ret: INT, args: [] },
  bpf_ktime_get_ns_proto: { gpl: false, ret: INT, args: [] },
  bpf_ktime_get_tai_ns_proto: { gpl: false, ret: INT, args: [] },
  bpf_l3_csum_replace_proto: { gpl: false, ret: INT, args: [CTX, ANY, ANY, ANY, ANY] },
  bpf_l4_csum_replace_proto: { gpl: false, ret: INT, args: [CTX, ANY, ANY, ANY, ANY] },
  bpf_loop_proto: {
    gpl: false,
    ret: INT,
    args: ["ARG_SCALAR", "ARG_PTR_TO_FUNC", "ARG_PTR_TO_STACK_OR_NULL", ANY],
  },
  bpf_lwt_in_push_encap_proto: { gpl: false, ret: INT, args: [CTX, ANY, MEM_RO, SIZE] },
  bpf_lwt_seg6_action_proto: { gpl: false, ret: INT, args: [CTX, ANY, MEM_RO, SIZE] },
  bpf_lwt_seg6_adjust_srh_proto: { gpl: false, ret: INT, args: [CTX, ANY, ANY] },
  bpf_lwt_seg6_store_bytes_proto: { gpl: false, ret: INT, args: [CTX, ANY, MEM_RO, SIZE] },
  bpf_lwt_xmit_push_encap_proto: { gpl: false, ret: INT, args: [CTX, ANY, MEM_RO, SIZE] },
  bpf_map_delete_elem_proto: { gpl: false, ret: INT, args: [MAP, "ARG_PTR_TO_MAP_KEY"], pkt: true },
  bpf_map_lookup_elem_proto: {
    gpl: false,
    ret: "RET_PTR_TO_MAP_VALUE_OR_NULL",
    args: [MAP, "ARG_PTR_TO_MAP_KEY"],
    pkt: true,
  },
  bpf_map_lookup_percpu_elem_proto: {
    gpl: false,
    ret: "RET_PTR_TO_MAP_VALUE_OR_NULL",
    args: [MAP, "ARG_PTR_TO_MAP_KEY", ANY],
    pkt: true,
  },
  bpf_map_peek_elem_proto: {
    gpl: false,
    ret: INT,
    args: [MAP, "ARG_PTR_TO_MAP_VALUE | MEM_UNINIT | MEM_WRITE"],
  },
  bpf_map_pop_elem_proto: {
    gpl: false,
    ret: INT,
    args: [MAP, "ARG_PTR_TO_MAP_VALUE | MEM_UNINIT | MEM_WRITE"],
  },
  bpf_map_push_elem_proto: {
    gpl: false,
    ret: INT,
    args: [MAP, "ARG_PTR_TO_MAP_VALUE", ANY],
    pkt: true,
  },
  bpf_map_update_elem_proto: {
    gpl: false,
    ret: INT,
    args: [MAP, "ARG_PTR_TO_MAP_KEY", "ARG_PTR_TO_MAP_VALUE", ANY],
    pkt: true,
  },
  bpf_msg_apply_bytes_proto: { gpl: false, ret: INT, args: [CTX, ANY] },
  bpf_msg_cork_bytes_proto: { gpl: false, ret: INT, args: [CTX, ANY] },
  bpf_msg_pop_data_proto: { gpl: false, ret: INT, args: [CTX, ANY, ANY, ANY] },
  bpf_msg_pull_data_proto: { gpl: false, ret: INT, args: [CTX, ANY, ANY, ANY] },
  bpf_msg_push_data_proto: { gpl: false, ret: INT, args: [CTX, ANY, ANY, ANY] },
  bpf_msg_redirect_hash_proto: {
    gpl: false,
    ret: INT,
    args: [CTX, MAP, "ARG_PTR_TO_MAP_KEY", ANY],
  },
  bpf_msg_redirect_map_proto: { gpl: false, ret: INT, args: [CTX, MAP, ANY, ANY] },
  bpf_override_return_proto: { gpl: true, ret: INT, args: [CTX, ANY] },
  bpf_per_cpu_ptr_proto: {
    gpl: false,
    ret: "RET_PTR_TO_MEM_OR_BTF_ID | PTR_MAYBE_NULL | MEM_RDONLY",
    args: ["ARG_PTR_TO_PERCPU_BTF_ID", ANY],
  },
  bpf_perf_event_output_proto: { gpl: true, ret: INT, args: [CTX, MAP, ANY, MEM_RO, SIZE0] },
  bpf_perf_event_output_proto_raw_tp: { gpl: true, ret: INT, args: [CTX, MAP, ANY, MEM_RO, SIZE0] },
  bpf_perf_event_output_proto_tp: { gpl: true, ret: INT, args: [CTX, MAP, ANY, MEM_RO, SIZE0] },
  bpf_perf_event_read_proto: { gpl: true, ret: INT, args: [MAP, ANY] },
  bpf_perf_event_read_value_proto: { gpl: true, ret: INT, args: [MAP, ANY, UNINIT, SIZE] },
  bpf_perf_prog_read_value_proto: { gpl: true, ret: INT, args: [CTX, UNINIT, SIZE] },
  bpf_probe_read_compat_proto: { gpl: true, ret: INT, args: [UNINIT, SIZE0, ANY] },
  bpf_probe_read_compat_str_proto: { gpl: true, ret: INT, args: [UNINIT, SIZE0, ANY] },
  bpf_probe_read_kernel_proto: { gpl: true, ret: INT, args: [UNINIT, SIZE0, ANY] },
  bpf_probe_read_kernel_str_proto: { gpl: true, ret: INT, args: [UNINIT, SIZE0, ANY] },
  bpf_probe_read_user_proto: { gpl: true, ret: INT, args: [UNINIT, SIZE0, ANY] },
  bpf_probe_read_user_str_proto: { gpl: true, ret: INT, args: [UNINIT, SIZE0, ANY] },
  bpf_probe_write_user_proto: { gpl: true, ret: INT, args: [ANY, MEM_RO, SIZE] },
  bpf_read_branch_records_proto: {
    gpl: true,
    ret: INT,
    args: [CTX, "ARG_PTR_TO_MEM_OR_NULL", SIZE0, ANY],
  },
  bpf_redirect_neigh_proto: {
    gpl: false,
    ret: INT,
    args: [ANY, "ARG_PTR_TO_MEM | PTR_MAYBE_NULL | MEM_RDONLY", SIZE0, ANY],
  },
  bpf_redirect_peer_proto: { gpl: false, ret: INT, args: [ANY, ANY] },
  bpf_redirect_proto: { gpl: false, ret: INT, args: [ANY, ANY] },
  bpf_ringbuf_discard_dynptr_proto: {
    gpl: false,
    ret: "RET_VOID",
    args: ["ARG_PTR_TO_DYNPTR | DYNPTR_TYPE_RINGBUF | OBJ_RELEASE", ANY],
  },
  bpf_ringbuf_discard_proto: {
    gpl: false,
    ret: "RET_VOID",
    args: ["ARG_PTR_TO_RINGBUF_MEM | OBJ_RELEASE", ANY],
  },
  bpf_ringbuf_output_proto: { gpl: false, ret: INT, args: [MAP, MEM_RO, SIZE0, ANY] },
  bpf_ringbuf_query_proto: { gpl: false, ret: INT, args: [MAP, ANY] },
  bpf_ringbuf_reserve_dynptr_proto: {
    gpl: false,
    ret: INT,
    args: [MAP, ANY, ANY, "ARG_PTR_TO_DYNPTR | DYNPTR_TYPE_RINGBUF | MEM_UNINIT | MEM_WRITE"],
  },
  bpf_ringbuf_reserve_proto: {
    gpl: false,
    ret: "RET_PTR_TO_RINGBUF_MEM_OR_NULL",
    args: [MAP, "ARG_CONST_ALLOC_SIZE_OR_ZERO", ANY],
  },
  bpf_ringbuf_submit_dynptr_proto: {
    gpl: false,
    ret: "RET_VOID",
    args: ["ARG_PTR_TO_DYNPTR | DYNPTR_TYPE_RINGBUF | OBJ_RELEASE", ANY],
  },
  bpf_ringbuf_submit_proto: {
    gpl: false,
    ret: "RET_VOID",
    args: ["ARG_PTR_TO_RINGBUF_MEM | OBJ_RELEASE", ANY],
  },
  bpf_send_signal_proto: { gpl: false, ret: INT, args: [ANY] },
  bpf_send_signal_thread_proto: { gpl: false, ret: INT, args: [ANY] },
  bpf_seq_printf_btf_proto: {
    gpl: true,
    ret: INT,
    args: ["ARG_PTR_TO_BTF_ID", MEM_RO, SIZE0, ANY],
  },
  bpf_seq_printf_proto: {
    gpl: true,
    ret: INT,
    args: [
      "ARG_PTR_TO_BTF_ID",
      MEM_RO,
      SIZE,
      "ARG_PTR_TO_MEM | PTR_MAYBE_NULL | MEM_RDONLY",
      SIZE0,
    ],
  },
  bpf_seq_write_proto: { gpl: true, ret: INT, args: ["ARG_PTR_TO_BTF_ID", MEM_RO, SIZE0] },
  bpf_set_hash_invalid_proto: { gpl: false, ret: INT, args: [CTX] },
  bpf_set_hash_proto: { gpl: false, ret: INT, args: [CTX, ANY] },
  bpf_set_retval_proto: { gpl: false, ret: INT, args: [ANY] },
  bpf_sk_ancestor_cgroup_id_proto: {
    gpl: false,
    ret: INT,
    args: ["ARG_PTR_TO_BTF_ID_SOCK_COMMON", ANY],
  },
  bpf_sk_assign_proto: { gpl: false, ret: INT, args: [CTX, "ARG_PTR_TO_BTF_ID_SOCK_COMMON", ANY] },
  bpf_sk_cgroup_id_proto: { gpl: false, ret: INT, args: ["ARG_PTR_TO_BTF_ID_SOCK_COMMON"] },
  bpf_sk_fullsock_proto: {
    gpl: false,
    ret: "RET_PTR_TO_SOCKET_OR_NULL",
    args: ["ARG_PTR_TO_SOCK_COMMON"],
  },
  bpf_sk_getsockopt_proto: {
    gpl: false,
    ret: INT,
    args: ["ARG_PTR_TO_BTF_ID_SOCK_COMMON", ANY, ANY, UNINIT, SIZE],
  },
  bpf_sk_lookup_assign_proto: {
    gpl: false,
    ret: INT,
    args: [CTX, "ARG_PTR_TO_SOCKET_OR_NULL", ANY],
  },
  bpf_sk_lookup_tcp_proto: {
    gpl: false,
    ret: "RET_PTR_TO_SOCKET_OR_NULL",
    args: [CTX, MEM_RO, SIZE0, ANY, ANY],
    pkt: true,
  },
  bpf_sk_lookup_udp_proto: {
    gpl: false,
    ret: "RET_PTR_TO_SOCKET_OR_NULL",
    args: [CTX, MEM_RO, SIZE0, ANY, ANY],
    pkt: true,
  },
  bpf_sk_redirect_hash_proto: { gpl: false, ret: INT, args: [CTX, MAP, "ARG_PTR_TO_MAP_KEY", ANY] },
  bpf_sk_redirect_map_proto: { gpl: false, ret: INT, args: [CTX, MAP, ANY, ANY] },
  bpf_sk_release_proto: {
    gpl: false,
    ret: INT,
    args: ["ARG_PTR_TO_BTF_ID_SOCK_COMMON | OBJ_RELEASE"],
  },
  bpf_sk_setsockopt_proto: {
    gpl: false,
    ret: INT,
    args: ["ARG_PTR_TO_BTF_ID_SOCK_COMMON", ANY, ANY, MEM_RO, SIZE],
  },
  bpf_sk_storage_delete_proto: {
    gpl: false,
    ret: INT,
    args: [MAP, "ARG_PTR_TO_BTF_ID_SOCK_COMMON"],
  },
  bpf_sk_storage_delete_tracing_proto: {
    gpl: false,
    ret: INT,
    args: [MAP, "ARG_PTR_TO_BTF_ID_OR_NULL"],
  },
  bpf_sk_storage_get_cg_sock_proto: {
    gpl: false,
    ret: "RET_PTR_TO_MAP_VALUE_OR_NULL",
    args: [MAP, CTX, "ARG_PTR_TO_MAP_VALUE_OR_NULL", ANY],
  },
  bpf_sk_storage_get_proto: {
    gpl: false,
    ret: "RET_PTR_TO_MAP_VALUE_OR_NULL",
    args: [MAP, "ARG_PTR_TO_BTF_ID_SOCK_COMMON", "ARG_PTR_TO_MAP_VALUE_OR_NULL", ANY],
  },
  bpf_sk_storage_get_tracing_proto: {
    gpl: false,
    ret: "RET_PTR_TO_MAP_VALUE_OR_NULL",
    args: [MAP, "ARG_PTR_TO_BTF_ID_OR_NULL", "ARG_PTR_TO_MAP_VALUE_OR_NULL", ANY],
  },
  bpf_skb_adjust_room_proto: { gpl: false, ret: INT, args: [CTX, ANY, ANY, ANY] },
  bpf_skb_ancestor_cgroup_id_proto: { gpl: false, ret: INT, args: [CTX, ANY] },
  bpf_skb_cgroup_classid_proto: { gpl: false, ret: INT, args: [CTX] },
  bpf_skb_cgroup_id_proto: { gpl: false, ret: INT, args: [CTX] },
  bpf_skb_change_head_proto: { gpl: false, ret: INT, args: [CTX, ANY, ANY] },
  bpf_skb_change_proto_proto: { gpl: false, ret: INT, args: [CTX, ANY, ANY] },
  bpf_skb_change_tail_proto: { gpl: false, ret: INT, args: [CTX, ANY, ANY] },
  bpf_skb_change_type_proto: { gpl: false, ret: INT, args: [CTX, ANY] },
  bpf_skb_check_mtu_proto: {
    gpl: true,
    ret: INT,
    args: [CTX, ANY, "ARG_PTR_TO_FIXED_SIZE_MEM | MEM_WRITE | MEM_ALIGNED", ANY, ANY],
  },
  bpf_skb_ecn_set_ce_proto: { gpl: false, ret: INT, args: [CTX] },
  bpf_skb_event_output_proto: { gpl: true, ret: INT, args: [CTX, MAP, ANY, MEM_RO, SIZE0] },
  bpf_skb_fib_lookup_proto: { gpl: true, ret: INT, args: [CTX, "ARG_PTR_TO_MEM", SIZE, ANY] },
  bpf_skb_get_tunnel_key_proto: { gpl: false, ret: INT, args: [CTX, UNINIT, SIZE, ANY] },
  bpf_skb_get_tunnel_opt_proto: { gpl: false, ret: INT, args: [CTX, UNINIT, SIZE] },
  bpf_skb_get_xfrm_state_proto: { gpl: false, ret: INT, args: [CTX, ANY, UNINIT, SIZE, ANY] },
  bpf_skb_load_bytes_proto: { gpl: false, ret: INT, args: [CTX, ANY, UNINIT, SIZE] },
  bpf_skb_load_bytes_relative_proto: { gpl: false, ret: INT, args: [CTX, ANY, UNINIT, SIZE, ANY] },
  bpf_skb_output_proto: {
    gpl: true,
    ret: INT,
    args: ["ARG_PTR_TO_BTF_ID", MAP, ANY, MEM_RO, SIZE0],
  },
  bpf_skb_pull_data_proto: { gpl: false, ret: INT, args: [CTX, ANY] },
  bpf_skb_set_tstamp_proto: { gpl: false, ret: INT, args: [CTX, ANY, ANY] },
  bpf_skb_set_tunnel_key_proto: { gpl: false, ret: INT, args: [CTX, MEM_RO, SIZE, ANY] },
  bpf_skb_set_tunnel_opt_proto: { gpl: false, ret: INT, args: [CTX, MEM_RO, SIZE] },
  bpf_skb_store_bytes_proto: { gpl: false, ret: INT, args: [CTX, ANY, MEM_RO, SIZE, ANY] },
  bpf_skb_under_cgroup_proto: { gpl: false, ret: INT, args: [CTX, MAP, ANY] },
  bpf_skb_vlan_pop_proto: { gpl: false, ret: INT, args: [CTX] },
  bpf_skb_vlan_push_proto: { gpl: false, ret: INT, args: [CTX, ANY, ANY] },
  bpf_skc_lookup_tcp_proto: {
    gpl: false,
    ret: "RET_PTR_TO_SOCK_COMMON_OR_NULL",
    args: [CTX, MEM_RO, SIZE0, ANY, ANY],
    pkt: true,
  },
  bpf_skc_to_mptcp_sock_proto: {
    gpl: false,
    ret: "RET_PTR_TO_BTF_ID_OR_NULL",
    args: ["ARG_PTR_TO_SOCK_COMMON"],
  },
  bpf_skc_to_tcp6_sock_proto: {
    gpl: false,
    ret: "RET_PTR_TO_BTF_ID_OR_NULL",
    args: ["ARG_PTR_TO_BTF_ID_SOCK_COMMON"],
  },
  bpf_skc_to_tcp_request_sock_proto: {
    gpl: false,
    ret: "RET_PTR_TO_BTF_ID_OR_NULL",
    args: ["ARG_PTR_TO_BTF_ID_SOCK_COMMON"],
  },
  bpf_skc_to_tcp_sock_proto: {
    gpl: false,
    ret: "RET_PTR_TO_BTF_ID_OR_NULL",
    args: ["ARG_PTR_TO_BTF_ID_SOCK_COMMON"],
  },
  bpf_skc_to_tcp_timewait_sock_proto: {
    gpl: false,
    ret: "RET_PTR_TO_BTF_ID_OR_NULL",
    args: ["ARG_PTR_TO_BTF_ID_SOCK_COMMON"],
  },
  bpf_skc_to_udp6_sock_proto: {
    gpl: false,
    ret: "RET_PTR_TO_BTF_ID_OR_NULL",
    args: ["ARG_PTR_TO_BTF_ID_SOCK_COMMON"],
  },
  bpf_skc_to_unix_sock_proto: {
    gpl: false,
    ret: "RET_PTR_TO_BTF_ID_OR_NULL",
    args: ["ARG_PTR_TO_BTF_ID_SOCK_COMMON"],
  },
  bpf_snprintf_btf_proto: {
    gpl: false,
    ret: INT,
    args: ["ARG_PTR_TO_MEM", SIZE, MEM_RO, SIZE, ANY],
  },
  bpf_snprintf_proto: {
    gpl: true,
    ret: INT,
    args: [
      "ARG_PTR_TO_MEM_OR_NULL",
      SIZE0,
      "ARG_PTR_TO_CONST_STR",
      "ARG_PTR_TO_MEM | PTR_MAYBE_NULL | MEM_RDONLY",
      SIZE0,
    ],
  },
  bpf_sock_addr_getsockopt_proto: { gpl: false, ret: INT, args: [CTX, ANY, ANY, UNINIT, SIZE] },
  bpf_sock_addr_setsockopt_proto: { gpl: false, ret: INT, args: [CTX, ANY, ANY, MEM_RO, SIZE] },
  bpf_sock_addr_sk_lookup_tcp_proto: {
    gpl: false,
    ret: "RET_PTR_TO_SOCKET_OR_NULL",
    args: [CTX, MEM_RO, SIZE0, ANY, ANY],
  },
  bpf_sock_addr_sk_lookup_udp_proto: {
    gpl: false,
    ret: "RET_PTR_TO_SOCKET_OR_NULL",
    args: [CTX, MEM_RO, SIZE0, ANY, ANY],
  },
  bpf_sock_addr_skc_lookup_tcp_proto: {
    gpl: false,
    ret: "RET_PTR_TO_SOCK_COMMON_OR_NULL",
    args: [CTX, MEM_RO, SIZE0, ANY, ANY],
  },
  bpf_sock_from_file_proto: {
    gpl: false,
    ret: "RET_PTR_TO_BTF_ID_OR_NULL",
    args: ["ARG_PTR_TO_BTF_ID"],
  },
  bpf_sock_hash_update_proto: {
    gpl: false,
    ret: INT,
    args: [CTX, MAP, "ARG_PTR_TO_MAP_KEY", ANY],
    pkt: true,
  },
  bpf_sock_map_update_proto: {
    gpl: false,
    ret: INT,
    args: [CTX, MAP, "ARG_PTR_TO_MAP_KEY", ANY],
    pkt: true,
  },
  bpf_sock_ops_cb_flags_set_proto: { gpl: false, ret: INT, args: [CTX, ANY] },
  bpf_sock_ops_getsockopt_proto: { gpl: false, ret: INT, args: [CTX, ANY, ANY, UNINIT, SIZE] },
  bpf_sock_ops_load_hdr_opt_proto: {
    gpl: false,
    ret: INT,
    args: [CTX, "ARG_PTR_TO_MEM | MEM_WRITE", SIZE, ANY],
  },
  bpf_sock_ops_reserve_hdr_opt_proto: { gpl: false, ret: INT, args: [CTX, ANY, ANY] },
  bpf_sock_ops_setsockopt_proto: { gpl: false, ret: INT, args: [CTX, ANY, ANY, MEM_RO, SIZE] },
  bpf_sock_ops_store_hdr_opt_proto: { gpl: false, ret: INT, args: [CTX, MEM_RO, SIZE, ANY] },
  bpf_spin_lock_proto: { gpl: false, ret: "RET_VOID", args: ["ARG_PTR_TO_SPIN_LOCK"] },
  bpf_spin_unlock_proto: { gpl: false, ret: "RET_VOID", args: ["ARG_PTR_TO_SPIN_LOCK"] },
  bpf_strncmp_proto: { gpl: false, ret: INT, args: [MEM_RO, SIZE, "ARG_PTR_TO_CONST_STR"] },
  bpf_strtol_proto: {
    gpl: false,
    ret: INT,
    args: [MEM_RO, SIZE, ANY, "ARG_PTR_TO_FIXED_SIZE_MEM | MEM_UNINIT | MEM_WRITE | MEM_ALIGNED"],
  },
  bpf_strtoul_proto: {
    gpl: false,
    ret: INT,
    args: [MEM_RO, SIZE, ANY, "ARG_PTR_TO_FIXED_SIZE_MEM | MEM_UNINIT | MEM_WRITE | MEM_ALIGNED"],
  },
  bpf_sys_bpf_proto: { gpl: false, ret: INT, args: [ANY, MEM_RO, SIZE], sleep: true },
  bpf_sys_close_proto: { gpl: false, ret: INT, args: [ANY], sleep: true },
  bpf_sysctl_get_current_value_proto: { gpl: false, ret: INT, args: [CTX, UNINIT, SIZE] },
  bpf_sysctl_get_name_proto: { gpl: false, ret: INT, args: [CTX, "ARG_PTR_TO_MEM", SIZE, ANY] },
  bpf_sysctl_get_new_value_proto: { gpl: false, ret: INT, args: [CTX, UNINIT, SIZE] },
  bpf_sysctl_set_new_value_proto: { gpl: false, ret: INT, args: [CTX, MEM_RO, SIZE] },
  bpf_tail_call_proto: { gpl: false, ret: "RET_VOID", args: [CTX, MAP, ANY] },
  bpf_task_pt_regs_proto: { gpl: true, ret: "RET_PTR_TO_BTF_ID", args: ["ARG_PTR_TO_BTF_ID"] },
  bpf_task_storage_delete_proto: { gpl: false, ret: INT, args: [MAP, "ARG_PTR_TO_BTF_ID_OR_NULL"] },
  bpf_task_storage_delete_recur_proto: {
    gpl: false,
    ret: INT,
    args: [MAP, "ARG_PTR_TO_BTF_ID_OR_NULL"],
  },
  bpf_task_storage_get_proto: {
    gpl: false,
    ret: "RET_PTR_TO_MAP_VALUE_OR_NULL",
    args: [MAP, "ARG_PTR_TO_BTF_ID_OR_NULL", "ARG_PTR_TO_MAP_VALUE_OR_NULL", ANY],
  },
  bpf_task_storage_get_recur_proto: {
    gpl: false,
    ret: "RET_PTR_TO_MAP_VALUE_OR_NULL",
    args: [MAP, "ARG_PTR_TO_BTF_ID_OR_NULL", "ARG_PTR_TO_MAP_VALUE_OR_NULL", ANY],
  },
  bpf_tc_sk_lookup_tcp_proto: {
    gpl: false,
    ret: "RET_PTR_TO_SOCKET_OR_NULL",
    args: [CTX, MEM_RO, SIZE0, ANY, ANY],
    pkt: true,
  },
  bpf_tc_sk_lookup_udp_proto: {
    gpl: false,
    ret: "RET_PTR_TO_SOCKET_OR_NULL",
    args: [CTX, MEM_RO, SIZE0, ANY, ANY],
    pkt: true,
  },
  bpf_tc_skc_lookup_tcp_proto: {
    gpl: false,
    ret: "RET_PTR_TO_SOCK_COMMON_OR_NULL",
    args: [CTX, MEM_RO, SIZE0, ANY, ANY],
    pkt: true,
  },
  bpf_tcp_check_syncookie_proto: {
    gpl: true,
    ret: INT,
    args: ["ARG_PTR_TO_BTF_ID_SOCK_COMMON", MEM_RO, SIZE, MEM_RO, SIZE],
    pkt: true,
  },
  bpf_tcp_gen_syncookie_proto: {
    gpl: true,
    ret: INT,
    args: ["ARG_PTR_TO_BTF_ID_SOCK_COMMON", MEM_RO, SIZE, MEM_RO, SIZE],
    pkt: true,
  },
  bpf_tcp_raw_check_syncookie_ipv4_proto: {
    gpl: true,
    ret: INT,
    args: ["ARG_PTR_TO_FIXED_SIZE_MEM", "ARG_PTR_TO_FIXED_SIZE_MEM"],
    pkt: true,
  },
  bpf_tcp_raw_check_syncookie_ipv6_proto: {
    gpl: true,
    ret: INT,
    args: ["ARG_PTR_TO_FIXED_SIZE_MEM", "ARG_PTR_TO_FIXED_SIZE_MEM"],
    pkt: true,
  },
  bpf_tcp_raw_gen_syncookie_ipv4_proto: {
    gpl: true,
    ret: INT,
    args: ["ARG_PTR_TO_FIXED_SIZE_MEM", "ARG_PTR_TO_MEM", SIZE0],
    pkt: true,
  },
  bpf_tcp_raw_gen_syncookie_ipv6_proto: {
    gpl: true,
    ret: INT,
    args: ["ARG_PTR_TO_FIXED_SIZE_MEM", "ARG_PTR_TO_MEM", SIZE0],
    pkt: true,
  },
  bpf_tcp_send_ack_proto: { gpl: false, ret: INT, args: ["ARG_PTR_TO_BTF_ID", ANY] },
  bpf_tcp_sock_proto: {
    gpl: false,
    ret: "RET_PTR_TO_TCP_SOCK_OR_NULL",
    args: ["ARG_PTR_TO_SOCK_COMMON"],
  },
  bpf_this_cpu_ptr_proto: {
    gpl: false,
    ret: "RET_PTR_TO_MEM_OR_BTF_ID | MEM_RDONLY",
    args: ["ARG_PTR_TO_PERCPU_BTF_ID"],
  },
  bpf_timer_cancel_proto: { gpl: true, ret: INT, args: ["ARG_PTR_TO_TIMER"] },
  bpf_timer_init_proto: { gpl: true, ret: INT, args: ["ARG_PTR_TO_TIMER", MAP, ANY] },
  bpf_timer_set_callback_proto: {
    gpl: true,
    ret: INT,
    args: ["ARG_PTR_TO_TIMER", "ARG_PTR_TO_FUNC"],
  },
  bpf_timer_start_proto: { gpl: true, ret: INT, args: ["ARG_PTR_TO_TIMER", ANY, ANY] },
  bpf_trace_printk_proto: { gpl: true, ret: INT, args: [MEM_RO, SIZE] },
  bpf_trace_vprintk_proto: {
    gpl: true,
    ret: INT,
    args: [MEM_RO, SIZE, "ARG_PTR_TO_MEM | PTR_MAYBE_NULL | MEM_RDONLY", SIZE0],
  },
  bpf_unlocked_sk_getsockopt_proto: {
    gpl: false,
    ret: INT,
    args: ["ARG_PTR_TO_BTF_ID_SOCK_COMMON", ANY, ANY, UNINIT, SIZE],
  },
  bpf_unlocked_sk_setsockopt_proto: {
    gpl: false,
    ret: INT,
    args: ["ARG_PTR_TO_BTF_ID_SOCK_COMMON", ANY, ANY, MEM_RO, SIZE],
  },
  bpf_user_ringbuf_drain_proto: {
    gpl: false,
    ret: INT,
    args: [MAP, "ARG_PTR_TO_FUNC", "ARG_PTR_TO_STACK_OR_NULL", ANY],
  },
  bpf_xdp_adjust_head_proto: { gpl: false, ret: INT, args: [CTX, ANY] },
  bpf_xdp_adjust_meta_proto: { gpl: false, ret: INT, args: [CTX, ANY] },
  bpf_xdp_adjust_tail_proto: { gpl: false, ret: INT, args: [CTX, ANY] },
  bpf_xdp_check_mtu_proto: {
    gpl: true,
    ret: INT,
    args: [CTX, ANY, "ARG_PTR_TO_FIXED_SIZE_MEM | MEM_WRITE | MEM_ALIGNED", ANY, ANY],
  },
  bpf_xdp_event_output_proto: { gpl: true, ret: INT, args: [CTX, MAP, ANY, MEM_RO, SIZE0] },
  bpf_xdp_fib_lookup_proto: { gpl: true, ret: INT, args: [CTX, "ARG_PTR_TO_MEM", SIZE, ANY] },
  bpf_xdp_get_buff_len_proto: { gpl: false, ret: INT, args: [CTX] },
  bpf_xdp_get_buff_len_trace_proto: { gpl: false, ret: INT, args: ["ARG_PTR_TO_BTF_ID"] },
  bpf_xdp_load_bytes_proto: { gpl: false, ret: INT, args: [CTX, ANY, UNINIT, SIZE] },
  bpf_xdp_output_proto: {
    gpl: true,
    ret: INT,
    args: ["ARG_PTR_TO_BTF_ID", MAP, ANY, MEM_RO, SIZE0],
  },
  bpf_xdp_redirect_map_proto: { gpl: false, ret: INT, args: [MAP, ANY, ANY] },
  bpf_xdp_redirect_proto: { gpl: false, ret: INT, args: [ANY, ANY] },
  bpf_xdp_sk_lookup_tcp_proto: {
    gpl: false,
    ret: "RET_PTR_TO_SOCKET_OR_NULL",
    args: [CTX, MEM_RO, SIZE0, ANY, ANY],
    pkt: true,
  },
  bpf_xdp_sk_lookup_udp_proto: {
    gpl: false,
    ret: "RET_PTR_TO_SOCKET_OR_NULL",
    args: [CTX, MEM_RO, SIZE0, ANY, ANY],
    pkt: true,
  },
  bpf_xdp_skc_lookup_tcp_proto: {
    gpl: false,
    ret: "RET_PTR_TO_SOCK_COMMON_OR_NULL",
    args: [CTX, MEM_RO, SIZE0, ANY, ANY],
    pkt: true,
  },
  bpf_xdp_store_bytes_proto: { gpl: false, ret: INT, args: [CTX, ANY, MEM_RO, SIZE] },
  rc_keydown_proto: { gpl: true, ret: INT, args: [CTX, ANY, ANY, ANY] },
  rc_pointer_rel_proto: { gpl: true, ret: INT, args: [CTX, ANY, ANY] },
  rc_repeat_proto: { gpl: true, ret: INT, args: [CTX] },
  sk_reuseport_load_bytes_proto: { gpl: false, ret: INT, args: [CTX, ANY, UNINIT, SIZE] },
  sk_reuseport_load_bytes_relative_proto: {
    gpl: false,
    ret: INT,
    args: [CTX, ANY, UNINIT, SIZE, ANY],
  },
  sk_select_reuseport_proto: { gpl: false, ret: INT, args: [CTX, MAP, "ARG_PTR_TO_MAP_KEY", ANY] },
  sk_skb_adjust_room_proto: { gpl: false, ret: INT, args: [CTX, ANY, ANY, ANY] },
  sk_skb_change_head_proto: { gpl: false, ret: INT, args: [CTX, ANY, ANY] },
  sk_skb_change_tail_proto: { gpl: false, ret: INT, args: [CTX, ANY, ANY] },
  sk_skb_pull_data_proto: { gpl: false, ret: INT, args: [CTX, ANY] },
};
