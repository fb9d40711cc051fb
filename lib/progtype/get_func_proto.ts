/**
 * The kernel's `*_func_proto()` functions (Linux 6.18), one per verifier-ops family, written as
 * data with the {@link cases} vocabulary. Each answers, for a helper name, the symbol of the
 * `bpf_func_proto` the kernel returns (looked up in `PROTOS`), or `undefined` where the kernel
 * returns `NULL`.
 *
 * Sources: `kernel/bpf/helpers.c` (`bpf_base_func_proto`), `net/core/filter.c`,
 * `kernel/trace/bpf_trace.c`, `kernel/bpf/cgroup.c`, `kernel/bpf/bpf_lsm.c`,
 * `kernel/bpf/syscall.c`, `net/netfilter/nf_bpf_link.c`, `net/ipv4/bpf_tcp_ca.c`,
 * `net/ipv4/tcp_ipv4.c`, `net/unix/af_unix.c`, `drivers/media/rc/bpf-lirc.c`.
 *
 * @module
 */
import { AttachType as A } from "../../types/attach_type.ts";
import { ProgType as T } from "../../types/prog_type.ts";
import {
  cases,
  exceptAttach,
  first,
  forAttach,
  guard,
  ifdef,
  type ProtoCtx,
  type ProtoFn,
} from "./dsl.ts";

const capBpf = (c: ProtoCtx): boolean => c.capBpf;
const capPerfmon = (c: ProtoCtx): boolean => c.capPerfmon;
const readKernelAllowed = (c: ProtoCtx): boolean => c.config.LOCKDOWN !== "confidentiality";
const writeUserAllowed = (c: ProtoCtx): boolean => c.config.LOCKDOWN === "none";
/** `security_locked_down(LOCKDOWN_BPF_READ_KERNEL) < 0 ? NULL : sym`. */
const readKernel = (sym: string) => (c: ProtoCtx): string | undefined =>
  readKernelAllowed(c) ? sym : undefined;

// ---------------------------------------------------------------------------------------------
// kernel/bpf/helpers.c

/** `bpf_base_func_proto()`: unprivileged, then `CAP_BPF`, then `CAP_PERFMON` helpers. */
const baseFuncProto: ProtoFn = first(
  cases({
    map_lookup_elem: "bpf_map_lookup_elem_proto",
    map_update_elem: "bpf_map_update_elem_proto",
    map_delete_elem: "bpf_map_delete_elem_proto",
    map_push_elem: "bpf_map_push_elem_proto",
    map_pop_elem: "bpf_map_pop_elem_proto",
    map_peek_elem: "bpf_map_peek_elem_proto",
    map_lookup_percpu_elem: "bpf_map_lookup_percpu_elem_proto",
    get_prandom_u32: "bpf_get_prandom_u32_proto",
    get_smp_processor_id: "bpf_get_raw_smp_processor_id_proto",
    get_numa_node_id: "bpf_get_numa_node_id_proto",
    tail_call: "bpf_tail_call_proto",
    ktime_get_ns: "bpf_ktime_get_ns_proto",
    ktime_get_boot_ns: "bpf_ktime_get_boot_ns_proto",
    ktime_get_tai_ns: "bpf_ktime_get_tai_ns_proto",
    ringbuf_output: "bpf_ringbuf_output_proto",
    ringbuf_reserve: "bpf_ringbuf_reserve_proto",
    ringbuf_submit: "bpf_ringbuf_submit_proto",
    ringbuf_discard: "bpf_ringbuf_discard_proto",
    ringbuf_query: "bpf_ringbuf_query_proto",
    strncmp: "bpf_strncmp_proto",
    strtol: "bpf_strtol_proto",
    strtoul: "bpf_strtoul_proto",
    get_current_pid_tgid: "bpf_get_current_pid_tgid_proto",
    get_ns_current_pid_tgid: "bpf_get_ns_current_pid_tgid_proto",
    get_current_uid_gid: "bpf_get_current_uid_gid_proto",
  }),
  guard(
    capBpf,
    cases({
      spin_lock: "bpf_spin_lock_proto",
      spin_unlock: "bpf_spin_unlock_proto",
      jiffies64: "bpf_jiffies64_proto",
      per_cpu_ptr: "bpf_per_cpu_ptr_proto",
      this_cpu_ptr: "bpf_this_cpu_ptr_proto",
      timer_init: "bpf_timer_init_proto",
      timer_set_callback: "bpf_timer_set_callback_proto",
      timer_start: "bpf_timer_start_proto",
      timer_cancel: "bpf_timer_cancel_proto",
      kptr_xchg: "bpf_kptr_xchg_proto",
      for_each_map_elem: "bpf_for_each_map_elem_proto",
      loop: "bpf_loop_proto",
      user_ringbuf_drain: "bpf_user_ringbuf_drain_proto",
      ringbuf_reserve_dynptr: "bpf_ringbuf_reserve_dynptr_proto",
      ringbuf_submit_dynptr: "bpf_ringbuf_submit_dynptr_proto",
      ringbuf_discard_dynptr: "bpf_ringbuf_discard_dynptr_proto",
      dynptr_from_mem: "bpf_dynptr_from_mem_proto",
      dynptr_read: "bpf_dynptr_read_proto",
      dynptr_write: "bpf_dynptr_write_proto",
      dynptr_data: "bpf_dynptr_data_proto",
      task_storage_get: (c) =>
        progCheckRecur(c) ? "bpf_task_storage_get_recur_proto" : "bpf_task_storage_get_proto",
      task_storage_delete: (c) =>
        progCheckRecur(c) ? "bpf_task_storage_delete_recur_proto" : "bpf_task_storage_delete_proto",
      ...ifdef("CGROUP_NET_CLASSID", { get_cgroup_classid: "bpf_get_cgroup_classid_curr_proto" }),
      ...ifdef("CGROUPS", {
        cgrp_storage_get: "bpf_cgrp_storage_get_proto",
        cgrp_storage_delete: "bpf_cgrp_storage_delete_proto",
        get_current_cgroup_id: "bpf_get_current_cgroup_id_proto",
        get_current_ancestor_cgroup_id: "bpf_get_current_ancestor_cgroup_id_proto",
        current_task_under_cgroup: "bpf_current_task_under_cgroup_proto",
      }),
    }),
  ),
  guard(
    (c) => c.capBpf && c.capPerfmon,
    cases({
      trace_printk: "bpf_trace_printk_proto",
      get_current_task: "bpf_get_current_task_proto",
      get_current_task_btf: "bpf_get_current_task_btf_proto",
      get_current_comm: "bpf_get_current_comm_proto",
      probe_read_user: "bpf_probe_read_user_proto",
      probe_read_kernel: readKernel("bpf_probe_read_kernel_proto"),
      probe_read_user_str: "bpf_probe_read_user_str_proto",
      probe_read_kernel_str: readKernel("bpf_probe_read_kernel_str_proto"),
      copy_from_user: "bpf_copy_from_user_proto",
      copy_from_user_task: "bpf_copy_from_user_task_proto",
      snprintf_btf: "bpf_snprintf_btf_proto",
      snprintf: "bpf_snprintf_proto",
      task_pt_regs: "bpf_task_pt_regs_proto",
      trace_vprintk: "bpf_trace_vprintk_proto",
      perf_event_read_value: "bpf_perf_event_read_value_proto",
      perf_event_read: "bpf_perf_event_read_proto",
      send_signal: "bpf_send_signal_proto",
      send_signal_thread: "bpf_send_signal_thread_proto",
      get_task_stack: (c) =>
        c.sleepable ? "bpf_get_task_stack_sleepable_proto" : "bpf_get_task_stack_proto",
      get_branch_snapshot: "bpf_get_branch_snapshot_proto",
      find_vma: "bpf_find_vma_proto",
    }),
  ),
);

// ---------------------------------------------------------------------------------------------
// net/core/filter.c

/** `bpf_sk_base_func_proto()`: the `skc_to_*` casts (for `CAP_PERFMON`) on top of the base. */
const skBaseFuncProto: ProtoFn = cases({
  skc_to_tcp6_sock: (c) => capPerfmon(c) ? "bpf_skc_to_tcp6_sock_proto" : undefined,
  skc_to_tcp_sock: (c) => capPerfmon(c) ? "bpf_skc_to_tcp_sock_proto" : undefined,
  skc_to_tcp_timewait_sock: (c) => capPerfmon(c) ? "bpf_skc_to_tcp_timewait_sock_proto" : undefined,
  skc_to_tcp_request_sock: (c) => capPerfmon(c) ? "bpf_skc_to_tcp_request_sock_proto" : undefined,
  skc_to_udp6_sock: (c) => capPerfmon(c) ? "bpf_skc_to_udp6_sock_proto" : undefined,
  skc_to_unix_sock: (c) => capPerfmon(c) ? "bpf_skc_to_unix_sock_proto" : undefined,
  skc_to_mptcp_sock: (c) => capPerfmon(c) ? "bpf_skc_to_mptcp_sock_proto" : undefined,
  ktime_get_coarse_ns: "bpf_ktime_get_coarse_ns_proto",
}, baseFuncProto);

/** Attach types where `bpf_get_retval`/`bpf_set_retval` make no sense. */
const NO_RETVAL = [
  A.CGROUP_INET_INGRESS,
  A.CGROUP_INET_EGRESS,
  A.CGROUP_SOCK_OPS,
  A.CGROUP_UDP4_RECVMSG,
  A.CGROUP_UDP6_RECVMSG,
  A.CGROUP_UNIX_RECVMSG,
  A.CGROUP_INET4_GETPEERNAME,
  A.CGROUP_INET6_GETPEERNAME,
  A.CGROUP_UNIX_GETPEERNAME,
  A.CGROUP_INET4_GETSOCKNAME,
  A.CGROUP_INET6_GETSOCKNAME,
  A.CGROUP_UNIX_GETSOCKNAME,
];

/** `cgroup_common_func_proto()` (kernel/bpf/cgroup.c). */
const cgroupCommonFuncProto: ProtoFn = cases({
  get_local_storage: "bpf_get_local_storage_proto",
  get_retval: exceptAttach(NO_RETVAL, "bpf_get_retval_proto"),
  set_retval: exceptAttach(NO_RETVAL, "bpf_set_retval_proto"),
});

/** `sk_filter_func_proto()`: socket filters. */
const skFilterFuncProto: ProtoFn = cases({
  skb_load_bytes: "bpf_skb_load_bytes_proto",
  skb_load_bytes_relative: "bpf_skb_load_bytes_relative_proto",
  get_socket_cookie: "bpf_get_socket_cookie_proto",
  get_netns_cookie: "bpf_get_netns_cookie_proto",
  get_socket_uid: "bpf_get_socket_uid_proto",
  perf_event_output: "bpf_skb_event_output_proto",
}, skBaseFuncProto);

/** `cg_skb_func_proto()`: cgroup skb programs. */
const cgSkbFuncProto: ProtoFn = first(
  cgroupCommonFuncProto,
  cases({
    sk_fullsock: "bpf_sk_fullsock_proto",
    sk_storage_get: "bpf_sk_storage_get_proto",
    sk_storage_delete: "bpf_sk_storage_delete_proto",
    perf_event_output: "bpf_skb_event_output_proto",
    ...ifdef("SOCK_CGROUP_DATA", {
      skb_cgroup_id: "bpf_skb_cgroup_id_proto",
      skb_ancestor_cgroup_id: "bpf_skb_ancestor_cgroup_id_proto",
      sk_cgroup_id: "bpf_sk_cgroup_id_proto",
      sk_ancestor_cgroup_id: "bpf_sk_ancestor_cgroup_id_proto",
    }),
    ...ifdef("INET", {
      sk_lookup_tcp: "bpf_sk_lookup_tcp_proto",
      sk_lookup_udp: "bpf_sk_lookup_udp_proto",
      sk_release: "bpf_sk_release_proto",
      skc_lookup_tcp: "bpf_skc_lookup_tcp_proto",
      tcp_sock: "bpf_tcp_sock_proto",
      get_listener_sock: "bpf_get_listener_sock_proto",
      skb_ecn_set_ce: "bpf_skb_ecn_set_ce_proto",
    }),
  }, skFilterFuncProto),
);

/** The raw-syncookie helpers of tc and XDP (`#ifdef CONFIG_SYN_COOKIES` inside `CONFIG_INET`). */
const RAW_SYNCOOKIES = {
  tcp_raw_gen_syncookie_ipv4: (c: ProtoCtx) =>
    c.config.SYN_COOKIES ? "bpf_tcp_raw_gen_syncookie_ipv4_proto" : undefined,
  tcp_raw_gen_syncookie_ipv6: (c: ProtoCtx) =>
    c.config.SYN_COOKIES ? "bpf_tcp_raw_gen_syncookie_ipv6_proto" : undefined,
  tcp_raw_check_syncookie_ipv4: (c: ProtoCtx) =>
    c.config.SYN_COOKIES ? "bpf_tcp_raw_check_syncookie_ipv4_proto" : undefined,
  tcp_raw_check_syncookie_ipv6: (c: ProtoCtx) =>
    c.config.SYN_COOKIES ? "bpf_tcp_raw_check_syncookie_ipv6_proto" : undefined,
};

/** `tc_cls_act_func_proto()`: tc classifiers and actions. */
const tcClsActFuncProto: ProtoFn = cases({
  skb_store_bytes: "bpf_skb_store_bytes_proto",
  skb_load_bytes: "bpf_skb_load_bytes_proto",
  skb_load_bytes_relative: "bpf_skb_load_bytes_relative_proto",
  skb_pull_data: "bpf_skb_pull_data_proto",
  csum_diff: "bpf_csum_diff_proto",
  csum_update: "bpf_csum_update_proto",
  csum_level: "bpf_csum_level_proto",
  l3_csum_replace: "bpf_l3_csum_replace_proto",
  l4_csum_replace: "bpf_l4_csum_replace_proto",
  clone_redirect: "bpf_clone_redirect_proto",
  get_cgroup_classid: "bpf_get_cgroup_classid_proto",
  skb_vlan_push: "bpf_skb_vlan_push_proto",
  skb_vlan_pop: "bpf_skb_vlan_pop_proto",
  skb_change_proto: "bpf_skb_change_proto_proto",
  skb_change_type: "bpf_skb_change_type_proto",
  skb_adjust_room: "bpf_skb_adjust_room_proto",
  skb_change_tail: "bpf_skb_change_tail_proto",
  skb_change_head: "bpf_skb_change_head_proto",
  skb_get_tunnel_key: "bpf_skb_get_tunnel_key_proto",
  skb_set_tunnel_key: "bpf_skb_set_tunnel_key_proto",
  skb_get_tunnel_opt: "bpf_skb_get_tunnel_opt_proto",
  skb_set_tunnel_opt: "bpf_skb_set_tunnel_opt_proto",
  redirect: "bpf_redirect_proto",
  redirect_neigh: "bpf_redirect_neigh_proto",
  redirect_peer: "bpf_redirect_peer_proto",
  get_route_realm: "bpf_get_route_realm_proto",
  get_hash_recalc: "bpf_get_hash_recalc_proto",
  set_hash_invalid: "bpf_set_hash_invalid_proto",
  set_hash: "bpf_set_hash_proto",
  perf_event_output: "bpf_skb_event_output_proto",
  get_smp_processor_id: "bpf_get_smp_processor_id_proto",
  skb_under_cgroup: "bpf_skb_under_cgroup_proto",
  get_socket_cookie: "bpf_get_socket_cookie_proto",
  get_netns_cookie: "bpf_get_netns_cookie_proto",
  get_socket_uid: "bpf_get_socket_uid_proto",
  fib_lookup: "bpf_skb_fib_lookup_proto",
  check_mtu: "bpf_skb_check_mtu_proto",
  sk_fullsock: "bpf_sk_fullsock_proto",
  sk_storage_get: "bpf_sk_storage_get_proto",
  sk_storage_delete: "bpf_sk_storage_delete_proto",
  ...ifdef("XFRM", { skb_get_xfrm_state: "bpf_skb_get_xfrm_state_proto" }),
  ...ifdef("CGROUP_NET_CLASSID", { skb_cgroup_classid: "bpf_skb_cgroup_classid_proto" }),
  ...ifdef("SOCK_CGROUP_DATA", {
    skb_cgroup_id: "bpf_skb_cgroup_id_proto",
    skb_ancestor_cgroup_id: "bpf_skb_ancestor_cgroup_id_proto",
  }),
  ...ifdef("INET", {
    sk_lookup_tcp: "bpf_tc_sk_lookup_tcp_proto",
    sk_lookup_udp: "bpf_tc_sk_lookup_udp_proto",
    sk_release: "bpf_sk_release_proto",
    tcp_sock: "bpf_tcp_sock_proto",
    get_listener_sock: "bpf_get_listener_sock_proto",
    skc_lookup_tcp: "bpf_tc_skc_lookup_tcp_proto",
    tcp_check_syncookie: "bpf_tcp_check_syncookie_proto",
    skb_ecn_set_ce: "bpf_skb_ecn_set_ce_proto",
    tcp_gen_syncookie: "bpf_tcp_gen_syncookie_proto",
    sk_assign: "bpf_sk_assign_proto",
    skb_set_tstamp: "bpf_skb_set_tstamp_proto",
    ...RAW_SYNCOOKIES,
  }),
}, skBaseFuncProto);

/** `xdp_func_proto()`: XDP programs. */
const xdpFuncProto: ProtoFn = cases({
  perf_event_output: "bpf_xdp_event_output_proto",
  get_smp_processor_id: "bpf_get_smp_processor_id_proto",
  csum_diff: "bpf_csum_diff_proto",
  xdp_adjust_head: "bpf_xdp_adjust_head_proto",
  xdp_adjust_meta: "bpf_xdp_adjust_meta_proto",
  redirect: "bpf_xdp_redirect_proto",
  redirect_map: "bpf_xdp_redirect_map_proto",
  xdp_adjust_tail: "bpf_xdp_adjust_tail_proto",
  xdp_get_buff_len: "bpf_xdp_get_buff_len_proto",
  xdp_load_bytes: "bpf_xdp_load_bytes_proto",
  xdp_store_bytes: "bpf_xdp_store_bytes_proto",
  fib_lookup: "bpf_xdp_fib_lookup_proto",
  check_mtu: "bpf_xdp_check_mtu_proto",
  ...ifdef("INET", {
    sk_lookup_udp: "bpf_xdp_sk_lookup_udp_proto",
    sk_lookup_tcp: "bpf_xdp_sk_lookup_tcp_proto",
    sk_release: "bpf_sk_release_proto",
    skc_lookup_tcp: "bpf_xdp_skc_lookup_tcp_proto",
    tcp_check_syncookie: "bpf_tcp_check_syncookie_proto",
    tcp_gen_syncookie: "bpf_tcp_gen_syncookie_proto",
    ...RAW_SYNCOOKIES,
  }),
}, skBaseFuncProto);

/** `sock_filter_func_proto()`: cgroup sock programs. */
const sockFilterFuncProto: ProtoFn = first(
  cgroupCommonFuncProto,
  cases({
    get_socket_cookie: "bpf_get_socket_cookie_sock_proto",
    get_netns_cookie: "bpf_get_netns_cookie_sock_proto",
    perf_event_output: "bpf_event_output_data_proto",
    sk_storage_get: "bpf_sk_storage_get_cg_sock_proto",
    ktime_get_coarse_ns: "bpf_ktime_get_coarse_ns_proto",
  }, baseFuncProto),
);

/** Attach types of cgroup sock_addr programs that may call `bpf_{g,s}etsockopt`. */
const SOCK_ADDR_SOCKOPT = [
  A.CGROUP_INET4_BIND,
  A.CGROUP_INET6_BIND,
  A.CGROUP_INET4_CONNECT,
  A.CGROUP_INET6_CONNECT,
  A.CGROUP_UNIX_CONNECT,
  A.CGROUP_UDP4_RECVMSG,
  A.CGROUP_UDP6_RECVMSG,
  A.CGROUP_UNIX_RECVMSG,
  A.CGROUP_UDP4_SENDMSG,
  A.CGROUP_UDP6_SENDMSG,
  A.CGROUP_UNIX_SENDMSG,
  A.CGROUP_INET4_GETPEERNAME,
  A.CGROUP_INET6_GETPEERNAME,
  A.CGROUP_UNIX_GETPEERNAME,
  A.CGROUP_INET4_GETSOCKNAME,
  A.CGROUP_INET6_GETSOCKNAME,
  A.CGROUP_UNIX_GETSOCKNAME,
];

/** `sock_addr_func_proto()`: cgroup sock_addr programs. */
const sockAddrFuncProto: ProtoFn = first(
  cgroupCommonFuncProto,
  cases({
    bind: forAttach([A.CGROUP_INET4_CONNECT, A.CGROUP_INET6_CONNECT], "bpf_bind_proto"),
    get_socket_cookie: "bpf_get_socket_cookie_sock_addr_proto",
    get_netns_cookie: "bpf_get_netns_cookie_sock_addr_proto",
    perf_event_output: "bpf_event_output_data_proto",
    ...ifdef("INET", {
      sk_lookup_tcp: "bpf_sock_addr_sk_lookup_tcp_proto",
      sk_lookup_udp: "bpf_sock_addr_sk_lookup_udp_proto",
      sk_release: "bpf_sk_release_proto",
      skc_lookup_tcp: "bpf_sock_addr_skc_lookup_tcp_proto",
    }),
    sk_storage_get: "bpf_sk_storage_get_proto",
    sk_storage_delete: "bpf_sk_storage_delete_proto",
    setsockopt: forAttach(SOCK_ADDR_SOCKOPT, "bpf_sock_addr_setsockopt_proto"),
    getsockopt: forAttach(SOCK_ADDR_SOCKOPT, "bpf_sock_addr_getsockopt_proto"),
  }, skBaseFuncProto),
);

/** `sock_ops_func_proto()`: sock_ops programs. */
const sockOpsFuncProto: ProtoFn = first(
  cgroupCommonFuncProto,
  cases({
    setsockopt: "bpf_sock_ops_setsockopt_proto",
    getsockopt: "bpf_sock_ops_getsockopt_proto",
    sock_ops_cb_flags_set: "bpf_sock_ops_cb_flags_set_proto",
    sock_map_update: "bpf_sock_map_update_proto",
    sock_hash_update: "bpf_sock_hash_update_proto",
    get_socket_cookie: "bpf_get_socket_cookie_sock_ops_proto",
    perf_event_output: "bpf_event_output_data_proto",
    sk_storage_get: "bpf_sk_storage_get_proto",
    sk_storage_delete: "bpf_sk_storage_delete_proto",
    get_netns_cookie: "bpf_get_netns_cookie_sock_ops_proto",
    ...ifdef("INET", {
      load_hdr_opt: "bpf_sock_ops_load_hdr_opt_proto",
      store_hdr_opt: "bpf_sock_ops_store_hdr_opt_proto",
      reserve_hdr_opt: "bpf_sock_ops_reserve_hdr_opt_proto",
      tcp_sock: "bpf_tcp_sock_proto",
    }),
  }, skBaseFuncProto),
);

/** `sk_msg_func_proto()`: sk_msg programs. */
const skMsgFuncProto: ProtoFn = cases({
  msg_redirect_map: "bpf_msg_redirect_map_proto",
  msg_redirect_hash: "bpf_msg_redirect_hash_proto",
  msg_apply_bytes: "bpf_msg_apply_bytes_proto",
  msg_cork_bytes: "bpf_msg_cork_bytes_proto",
  msg_pull_data: "bpf_msg_pull_data_proto",
  msg_push_data: "bpf_msg_push_data_proto",
  msg_pop_data: "bpf_msg_pop_data_proto",
  perf_event_output: "bpf_event_output_data_proto",
  sk_storage_get: "bpf_sk_storage_get_proto",
  sk_storage_delete: "bpf_sk_storage_delete_proto",
  get_netns_cookie: "bpf_get_netns_cookie_sk_msg_proto",
  ...ifdef("CGROUP_NET_CLASSID", { get_cgroup_classid: "bpf_get_cgroup_classid_curr_proto" }),
}, skBaseFuncProto);

/** `sk_skb_func_proto()`: sk_skb programs. */
const skSkbFuncProto: ProtoFn = cases({
  skb_store_bytes: "bpf_skb_store_bytes_proto",
  skb_load_bytes: "bpf_skb_load_bytes_proto",
  skb_pull_data: "sk_skb_pull_data_proto",
  skb_change_tail: "sk_skb_change_tail_proto",
  skb_change_head: "sk_skb_change_head_proto",
  skb_adjust_room: "sk_skb_adjust_room_proto",
  get_socket_cookie: "bpf_get_socket_cookie_proto",
  get_socket_uid: "bpf_get_socket_uid_proto",
  sk_redirect_map: "bpf_sk_redirect_map_proto",
  sk_redirect_hash: "bpf_sk_redirect_hash_proto",
  perf_event_output: "bpf_skb_event_output_proto",
  ...ifdef("INET", {
    sk_lookup_tcp: "bpf_sk_lookup_tcp_proto",
    sk_lookup_udp: "bpf_sk_lookup_udp_proto",
    sk_release: "bpf_sk_release_proto",
    skc_lookup_tcp: "bpf_skc_lookup_tcp_proto",
  }),
}, skBaseFuncProto);

/** `flow_dissector_func_proto()`. */
const flowDissectorFuncProto: ProtoFn = cases({
  skb_load_bytes: "bpf_flow_dissector_load_bytes_proto",
}, skBaseFuncProto);

/** `lwt_out_func_proto()`. */
const lwtOutFuncProto: ProtoFn = cases({
  skb_load_bytes: "bpf_skb_load_bytes_proto",
  skb_pull_data: "bpf_skb_pull_data_proto",
  csum_diff: "bpf_csum_diff_proto",
  get_cgroup_classid: "bpf_get_cgroup_classid_proto",
  get_route_realm: "bpf_get_route_realm_proto",
  get_hash_recalc: "bpf_get_hash_recalc_proto",
  perf_event_output: "bpf_skb_event_output_proto",
  get_smp_processor_id: "bpf_get_smp_processor_id_proto",
  skb_under_cgroup: "bpf_skb_under_cgroup_proto",
}, skBaseFuncProto);

/** `lwt_in_func_proto()`. */
const lwtInFuncProto: ProtoFn = cases({
  lwt_push_encap: "bpf_lwt_in_push_encap_proto",
}, lwtOutFuncProto);

/** `lwt_xmit_func_proto()`. */
const lwtXmitFuncProto: ProtoFn = cases({
  skb_get_tunnel_key: "bpf_skb_get_tunnel_key_proto",
  skb_set_tunnel_key: "bpf_skb_set_tunnel_key_proto",
  skb_get_tunnel_opt: "bpf_skb_get_tunnel_opt_proto",
  skb_set_tunnel_opt: "bpf_skb_set_tunnel_opt_proto",
  redirect: "bpf_redirect_proto",
  clone_redirect: "bpf_clone_redirect_proto",
  skb_change_tail: "bpf_skb_change_tail_proto",
  skb_change_head: "bpf_skb_change_head_proto",
  skb_store_bytes: "bpf_skb_store_bytes_proto",
  csum_update: "bpf_csum_update_proto",
  csum_level: "bpf_csum_level_proto",
  l3_csum_replace: "bpf_l3_csum_replace_proto",
  l4_csum_replace: "bpf_l4_csum_replace_proto",
  set_hash_invalid: "bpf_set_hash_invalid_proto",
  lwt_push_encap: "bpf_lwt_xmit_push_encap_proto",
}, lwtOutFuncProto);

/** `lwt_seg6local_func_proto()`. */
const lwtSeg6localFuncProto: ProtoFn = cases({
  ...ifdef("IPV6_SEG6_BPF", {
    lwt_seg6_store_bytes: "bpf_lwt_seg6_store_bytes_proto",
    lwt_seg6_action: "bpf_lwt_seg6_action_proto",
    lwt_seg6_adjust_srh: "bpf_lwt_seg6_adjust_srh_proto",
  }),
}, lwtOutFuncProto);

/** `sk_reuseport_func_proto()`. */
const skReuseportFuncProto: ProtoFn = cases({
  sk_select_reuseport: "sk_select_reuseport_proto",
  skb_load_bytes: "sk_reuseport_load_bytes_proto",
  skb_load_bytes_relative: "sk_reuseport_load_bytes_relative_proto",
  get_socket_cookie: "bpf_get_socket_ptr_cookie_proto",
  ktime_get_coarse_ns: "bpf_ktime_get_coarse_ns_proto",
}, baseFuncProto);

/** `sk_lookup_func_proto()`. */
const skLookupFuncProto: ProtoFn = cases({
  perf_event_output: "bpf_event_output_data_proto",
  sk_assign: "bpf_sk_lookup_assign_proto",
  sk_release: "bpf_sk_release_proto",
}, skBaseFuncProto);

// ---------------------------------------------------------------------------------------------
// kernel/bpf/cgroup.c

/** `cgroup_dev_func_proto()`. */
const cgroupDevFuncProto: ProtoFn = first(
  cgroupCommonFuncProto,
  cases({ perf_event_output: "bpf_event_output_data_proto" }, baseFuncProto),
);

/** `sysctl_func_proto()`. */
const sysctlFuncProto: ProtoFn = first(
  cgroupCommonFuncProto,
  cases({
    sysctl_get_name: "bpf_sysctl_get_name_proto",
    sysctl_get_current_value: "bpf_sysctl_get_current_value_proto",
    sysctl_get_new_value: "bpf_sysctl_get_new_value_proto",
    sysctl_set_new_value: "bpf_sysctl_set_new_value_proto",
    ktime_get_coarse_ns: "bpf_ktime_get_coarse_ns_proto",
    perf_event_output: "bpf_event_output_data_proto",
  }, baseFuncProto),
);

/** `cg_sockopt_func_proto()`. */
const cgSockoptFuncProto: ProtoFn = first(
  cgroupCommonFuncProto,
  cases({
    ...ifdef("NET", {
      get_netns_cookie: "bpf_get_netns_cookie_sockopt_proto",
      sk_storage_get: "bpf_sk_storage_get_proto",
      sk_storage_delete: "bpf_sk_storage_delete_proto",
      setsockopt: forAttach([A.CGROUP_SETSOCKOPT], "bpf_sk_setsockopt_proto"),
      getsockopt: forAttach([A.CGROUP_SETSOCKOPT], "bpf_sk_getsockopt_proto"),
    }),
    ...ifdef("INET", { tcp_sock: "bpf_tcp_sock_proto" }),
    perf_event_output: "bpf_event_output_data_proto",
  }, baseFuncProto),
);

// ---------------------------------------------------------------------------------------------
// kernel/trace/bpf_trace.c

/** `bpf_prog_check_recur()` (include/linux/bpf_verifier.h). */
function progCheckRecur(c: ProtoCtx): boolean {
  switch (c.progType) {
    case T.TRACING:
      return c.eat !== A.TRACE_ITER;
    case T.STRUCT_OPS:
    case T.LSM:
      return false;
    default:
      return true;
  }
}

/** `bpf_prog_has_trampoline()` (kernel/bpf/trampoline.c). */
function progHasTrampoline(c: ProtoCtx): boolean {
  return (c.progType === T.TRACING &&
    (c.eat === A.TRACE_FENTRY || c.eat === A.TRACE_FEXIT || c.eat === A.MODIFY_RETURN)) ||
    (c.progType === T.LSM && c.eat === A.LSM_MAC);
}

/**
 * `bpf_tracing_func_proto()`: what tracing types add to the base (which they get whole), then
 * `bpf_probe_write_user` for `CAP_SYS_ADMIN`.
 */
const tracingFuncProto: ProtoFn = first(
  cases({
    get_smp_processor_id: "bpf_get_smp_processor_id_proto",
    ...ifdef("ARCH_HAS_NON_OVERLAPPING_ADDRESS_SPACE", {
      probe_read: readKernel("bpf_probe_read_compat_proto"),
      probe_read_str: readKernel("bpf_probe_read_compat_str_proto"),
    }),
    get_func_ip: "bpf_get_func_ip_proto_tracing",
  }, baseFuncProto),
  guard(
    (c) => c.capSysAdmin,
    cases({
      probe_write_user: (c) => writeUserAllowed(c) ? "bpf_probe_write_user_proto" : undefined,
    }),
  ),
);

const isKprobeMulti = (c: ProtoCtx): boolean =>
  c.eat === A.TRACE_KPROBE_MULTI || c.eat === A.TRACE_KPROBE_SESSION;
const isUprobeMulti = (c: ProtoCtx): boolean =>
  c.eat === A.TRACE_UPROBE_MULTI || c.eat === A.TRACE_UPROBE_SESSION;

/** `kprobe_prog_func_proto()`: kprobes, uprobes and their multi/session variants. */
const kprobeFuncProto: ProtoFn = cases({
  perf_event_output: "bpf_perf_event_output_proto",
  get_stackid: "bpf_get_stackid_proto",
  get_stack: (c) => c.sleepable ? "bpf_get_stack_sleepable_proto" : "bpf_get_stack_proto",
  ...ifdef("BPF_KPROBE_OVERRIDE", { override_return: "bpf_override_return_proto" }),
  get_func_ip: (c) =>
    isKprobeMulti(c)
      ? "bpf_get_func_ip_proto_kprobe_multi"
      : isUprobeMulti(c)
      ? "bpf_get_func_ip_proto_uprobe_multi"
      : "bpf_get_func_ip_proto_kprobe",
  get_attach_cookie: (c) =>
    isKprobeMulti(c)
      ? "bpf_get_attach_cookie_proto_kmulti"
      : isUprobeMulti(c)
      ? "bpf_get_attach_cookie_proto_umulti"
      : "bpf_get_attach_cookie_proto_trace",
}, tracingFuncProto);

/** `tp_prog_func_proto()`: tracepoints. */
const tpFuncProto: ProtoFn = cases({
  perf_event_output: "bpf_perf_event_output_proto_tp",
  get_stackid: "bpf_get_stackid_proto_tp",
  get_stack: "bpf_get_stack_proto_tp",
  get_attach_cookie: "bpf_get_attach_cookie_proto_trace",
}, tracingFuncProto);

/** `pe_prog_func_proto()`: perf events. */
const peFuncProto: ProtoFn = cases({
  perf_event_output: "bpf_perf_event_output_proto_tp",
  get_stackid: "bpf_get_stackid_proto_pe",
  get_stack: "bpf_get_stack_proto_pe",
  perf_prog_read_value: "bpf_perf_prog_read_value_proto",
  read_branch_records: "bpf_read_branch_records_proto",
  get_attach_cookie: "bpf_get_attach_cookie_proto_pe",
}, tracingFuncProto);

/** `raw_tp_prog_func_proto()`: raw tracepoints (writable ones too). */
const rawTpFuncProto: ProtoFn = cases({
  perf_event_output: "bpf_perf_event_output_proto_raw_tp",
  get_stackid: "bpf_get_stackid_proto_raw_tp",
  get_stack: "bpf_get_stack_proto_raw_tp",
  get_attach_cookie: "bpf_get_attach_cookie_proto_tracing",
}, tracingFuncProto);

/** Iterator targets that add helpers (`bpf_iter_reg.get_func_proto`): `tcp` and `unix`. */
const iterTargetFuncProto: ProtoFn = (helper, c) => {
  // With no target named, assume one that offers them (no false refusals).
  const target = c.attachTo ?? "tcp";
  const known = target === "tcp" ? c.config.INET : target === "unix" ? c.config.UNIX : false;
  if (!known) return undefined;
  // bpf_iter_tcp_get_func_proto() and bpf_iter_unix_get_func_proto() are the same.
  return helper === "setsockopt"
    ? "bpf_sk_setsockopt_proto"
    : helper === "getsockopt"
    ? "bpf_sk_getsockopt_proto"
    : undefined;
};

/** `tracing_prog_func_proto()`: `tp_btf`, `fentry`/`fexit`/`fmod_ret` and iterators. */
const tracingProgFuncProto: ProtoFn = (helper, c) => {
  const r = tracingProgCases(helper, c);
  if (r !== undefined || tracingProgHasCase(helper, c)) return r;
  const fn = rawTpFuncProto(helper, c);
  if (fn === undefined && c.eat === A.TRACE_ITER) return iterTargetFuncProto(helper, c);
  return fn;
};

const TRACING_NET: Readonly<Record<string, string>> = {
  skb_output: "bpf_skb_output_proto",
  xdp_output: "bpf_xdp_output_proto",
  skc_to_tcp6_sock: "bpf_skc_to_tcp6_sock_proto",
  skc_to_tcp_sock: "bpf_skc_to_tcp_sock_proto",
  skc_to_tcp_timewait_sock: "bpf_skc_to_tcp_timewait_sock_proto",
  skc_to_tcp_request_sock: "bpf_skc_to_tcp_request_sock_proto",
  skc_to_udp6_sock: "bpf_skc_to_udp6_sock_proto",
  skc_to_unix_sock: "bpf_skc_to_unix_sock_proto",
  skc_to_mptcp_sock: "bpf_skc_to_mptcp_sock_proto",
  sk_storage_get: "bpf_sk_storage_get_tracing_proto",
  sk_storage_delete: "bpf_sk_storage_delete_tracing_proto",
  sock_from_file: "bpf_sock_from_file_proto",
  get_socket_cookie: "bpf_get_socket_ptr_cookie_proto",
  xdp_get_buff_len: "bpf_xdp_get_buff_len_trace_proto",
};

const TRACING_OWN: Readonly<Record<string, (c: ProtoCtx) => string | undefined>> = {
  seq_printf: (c) => c.eat === A.TRACE_ITER ? "bpf_seq_printf_proto" : undefined,
  seq_write: (c) => c.eat === A.TRACE_ITER ? "bpf_seq_write_proto" : undefined,
  seq_printf_btf: (c) => c.eat === A.TRACE_ITER ? "bpf_seq_printf_btf_proto" : undefined,
  d_path: () => "bpf_d_path_proto",
  get_func_arg: (c) => progHasTrampoline(c) ? "bpf_get_func_arg_proto" : undefined,
  get_func_ret: (c) => progHasTrampoline(c) ? "bpf_get_func_ret_proto" : undefined,
  get_func_arg_cnt: (c) => progHasTrampoline(c) ? "bpf_get_func_arg_cnt_proto" : undefined,
  get_attach_cookie: (c) =>
    (c.progType === T.TRACING && c.eat === A.TRACE_RAW_TP) || progHasTrampoline(c)
      ? "bpf_get_attach_cookie_proto_tracing"
      : undefined,
};

function tracingProgHasCase(helper: string, c: ProtoCtx): boolean {
  return helper in TRACING_OWN || (c.config.NET && helper in TRACING_NET);
}

function tracingProgCases(helper: string, c: ProtoCtx): string | undefined {
  if (c.config.NET && helper in TRACING_NET) return TRACING_NET[helper];
  const own = TRACING_OWN[helper];
  return own ? own(c) : undefined;
}

// ---------------------------------------------------------------------------------------------
// kernel/bpf/bpf_lsm.c, kernel/bpf/syscall.c, net/netfilter, net/ipv4/bpf_tcp_ca.c, lirc

/** LSM hooks where the socket is locked (`bpf_lsm_locked_sockopt_hooks`). */
const LSM_LOCKED_SOCKOPT = new Set(["sock_graft", "inet_csk_clone", "inet_conn_established"]);
/** LSM hooks where the socket is not yet visible (`bpf_lsm_unlocked_sockopt_hooks`). */
const LSM_UNLOCKED_SOCKOPT = new Set(["socket_post_create", "socket_socketpair"]);

function lsmHook(c: ProtoCtx): string | undefined {
  const t = c.attachTo;
  return t?.startsWith("bpf_lsm_") ? t.slice("bpf_lsm_".length) : t;
}

/** `bpf_lsm_func_proto()`: LSM programs (`lsm/…` and `lsm_cgroup/…`). */
const lsmFuncProto: ProtoFn = (helper, c) => {
  if (c.eat === A.LSM_CGROUP) {
    const fp = cgroupCommonFuncProto(helper, c);
    if (fp !== undefined) return fp;
  }
  return lsmCases(helper, c);
};

const lsmCases: ProtoFn = cases({
  inode_storage_get: "bpf_inode_storage_get_proto",
  inode_storage_delete: "bpf_inode_storage_delete_proto",
  ...ifdef("NET", {
    sk_storage_get: "bpf_sk_storage_get_proto",
    sk_storage_delete: "bpf_sk_storage_delete_proto",
  }),
  spin_lock: "bpf_spin_lock_proto",
  spin_unlock: "bpf_spin_unlock_proto",
  bprm_opts_set: "bpf_bprm_opts_set_proto",
  ima_inode_hash: "bpf_ima_inode_hash_proto",
  ima_file_hash: "bpf_ima_file_hash_proto",
  get_attach_cookie: (c) => progHasTrampoline(c) ? "bpf_get_attach_cookie_proto" : undefined,
  ...ifdef("NET", {
    setsockopt: (c) => lsmSockopt(c, "bpf_sk_setsockopt_proto", "bpf_unlocked_sk_setsockopt_proto"),
    getsockopt: (c) => lsmSockopt(c, "bpf_sk_getsockopt_proto", "bpf_unlocked_sk_getsockopt_proto"),
  }),
}, tracingProgFuncProto);

function lsmSockopt(c: ProtoCtx, locked: string, unlocked: string): string | undefined {
  if (c.eat !== A.LSM_CGROUP || !c.config.SECURITY_NETWORK) return undefined;
  const hook = lsmHook(c);
  if (hook === undefined) return locked; // no hook named: do not refuse what some hooks allow
  if (LSM_LOCKED_SOCKOPT.has(hook)) return locked;
  if (LSM_UNLOCKED_SOCKOPT.has(hook)) return unlocked;
  return undefined;
}

/** `syscall_prog_func_proto()`: syscall programs. */
const syscallFuncProto: ProtoFn = cases({
  sys_bpf: (c) => c.capPerfmon ? "bpf_sys_bpf_proto" : undefined,
  btf_find_by_name_kind: "bpf_btf_find_by_name_kind_proto",
  sys_close: "bpf_sys_close_proto",
  kallsyms_lookup_name: "bpf_kallsyms_lookup_name_proto",
}, tracingProgFuncProto);

/** `bpf_nf_func_proto()`: netfilter programs. */
const nfFuncProto: ProtoFn = baseFuncProto;

/** The struct_ops member a load is for: `"tcp_congestion_ops.release"` → `["tcp_congestion_ops", "release"]`. */
function structOpsMember(c: ProtoCtx): [string | undefined, string | undefined] {
  const t = c.attachTo;
  if (t === undefined) return [undefined, undefined];
  const dot = t.indexOf(".");
  return dot < 0 ? [t, undefined] : [t.slice(0, dot), t.slice(dot + 1)];
}

/** `bpf_tcp_ca_get_func_proto()`: `tcp_congestion_ops` members. */
const tcpCaFuncProto: ProtoFn = cases({
  tcp_send_ack: "bpf_tcp_send_ack_proto",
  sk_storage_get: "bpf_sk_storage_get_proto",
  sk_storage_delete: "bpf_sk_storage_delete_proto",
  setsockopt: (c) => structOpsMember(c)[1] !== "release" ? "bpf_sk_setsockopt_proto" : undefined,
  getsockopt: (c) => structOpsMember(c)[1] !== "release" ? "bpf_sk_getsockopt_proto" : undefined,
  ktime_get_coarse_ns: "bpf_ktime_get_coarse_ns_proto",
}, baseFuncProto);

/**
 * struct_ops programs take the verifier ops of their struct (`check_struct_ops_btf_id()`):
 * `tcp_congestion_ops` offers `bpf_tcp_ca_get_func_proto()`; `bpf_dummy_ops` offers none. With
 * no struct named, `tcp_congestion_ops` is assumed.
 */
const structOpsFuncProto: ProtoFn = (helper, c) => {
  const [st] = structOpsMember(c);
  if (st === undefined || st === "tcp_congestion_ops") return tcpCaFuncProto(helper, c);
  return undefined;
};

/** `lirc_mode2_func_proto()`: infrared decoders. */
const lircMode2FuncProto: ProtoFn = cases({
  rc_repeat: "rc_repeat_proto",
  rc_keydown: "rc_keydown_proto",
  rc_pointer_rel: "rc_pointer_rel_proto",
  map_lookup_elem: "bpf_map_lookup_elem_proto",
  map_update_elem: "bpf_map_update_elem_proto",
  map_delete_elem: "bpf_map_delete_elem_proto",
  map_push_elem: "bpf_map_push_elem_proto",
  map_pop_elem: "bpf_map_pop_elem_proto",
  map_peek_elem: "bpf_map_peek_elem_proto",
  ktime_get_ns: "bpf_ktime_get_ns_proto",
  ktime_get_boot_ns: "bpf_ktime_get_boot_ns_proto",
  tail_call: "bpf_tail_call_proto",
  get_prandom_u32: "bpf_get_prandom_u32_proto",
  trace_printk: (c) => c.capPerfmon ? "bpf_trace_printk_proto" : undefined,
});

/**
 * The kernel's `*_func_proto()` functions of Linux 6.18, by their TypeScript names
 * (`sk_filter_func_proto()` is `skFilterFuncProto`, `bpf_base_func_proto()` is `baseFuncProto`…).
 * Each maps a helper name (without `bpf_`) and a {@link ProtoCtx} to the kernel symbol of the
 * prototype it returns, or `undefined`. Plugins compose them with {@link cases} and
 * {@link first} to build the ops of new or modified program types.
 *
 * @example
 * ```ts
 * import { cases, KERNEL_FUNC_PROTOS, opsFromProtoFn } from "@tsbpf/core/progtype";
 * // XDP, plus bpf_get_current_comm:
 * const fn = cases({ get_current_comm: "bpf_get_current_comm_proto" }, KERNEL_FUNC_PROTOS.xdpFuncProto);
 * const ops = opsFromProtoFn(6, fn);
 * ```
 */
export const KERNEL_FUNC_PROTOS: Readonly<Record<string, ProtoFn>> & {
  readonly baseFuncProto: ProtoFn;
  readonly skBaseFuncProto: ProtoFn;
  readonly cgroupCommonFuncProto: ProtoFn;
  readonly skFilterFuncProto: ProtoFn;
  readonly cgSkbFuncProto: ProtoFn;
  readonly tcClsActFuncProto: ProtoFn;
  readonly xdpFuncProto: ProtoFn;
  readonly sockFilterFuncProto: ProtoFn;
  readonly sockAddrFuncProto: ProtoFn;
  readonly sockOpsFuncProto: ProtoFn;
  readonly skMsgFuncProto: ProtoFn;
  readonly skSkbFuncProto: ProtoFn;
  readonly flowDissectorFuncProto: ProtoFn;
  readonly lwtOutFuncProto: ProtoFn;
  readonly lwtInFuncProto: ProtoFn;
  readonly lwtXmitFuncProto: ProtoFn;
  readonly lwtSeg6localFuncProto: ProtoFn;
  readonly skReuseportFuncProto: ProtoFn;
  readonly skLookupFuncProto: ProtoFn;
  readonly cgroupDevFuncProto: ProtoFn;
  readonly sysctlFuncProto: ProtoFn;
  readonly cgSockoptFuncProto: ProtoFn;
  readonly tracingFuncProto: ProtoFn;
  readonly kprobeFuncProto: ProtoFn;
  readonly tpFuncProto: ProtoFn;
  readonly peFuncProto: ProtoFn;
  readonly rawTpFuncProto: ProtoFn;
  readonly tracingProgFuncProto: ProtoFn;
  readonly lsmFuncProto: ProtoFn;
  readonly syscallFuncProto: ProtoFn;
  readonly nfFuncProto: ProtoFn;
  readonly tcpCaFuncProto: ProtoFn;
  readonly structOpsFuncProto: ProtoFn;
  readonly lircMode2FuncProto: ProtoFn;
} = Object.freeze({
  baseFuncProto,
  skBaseFuncProto,
  cgroupCommonFuncProto,
  skFilterFuncProto,
  cgSkbFuncProto,
  tcClsActFuncProto,
  xdpFuncProto,
  sockFilterFuncProto,
  sockAddrFuncProto,
  sockOpsFuncProto,
  skMsgFuncProto,
  skSkbFuncProto,
  flowDissectorFuncProto,
  lwtOutFuncProto,
  lwtInFuncProto,
  lwtXmitFuncProto,
  lwtSeg6localFuncProto,
  skReuseportFuncProto,
  skLookupFuncProto,
  cgroupDevFuncProto,
  sysctlFuncProto,
  cgSockoptFuncProto,
  tracingFuncProto,
  kprobeFuncProto,
  tpFuncProto,
  peFuncProto,
  rawTpFuncProto,
  tracingProgFuncProto,
  lsmFuncProto,
  syscallFuncProto,
  nfFuncProto,
  tcpCaFuncProto,
  structOpsFuncProto,
  lircMode2FuncProto,
});
