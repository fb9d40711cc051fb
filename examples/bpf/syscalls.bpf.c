// SPDX-License-Identifier: GPL-2.0
/* The demo's clang-compiled object: a raw tracepoint on sys_enter that counts the system calls
 * of one process (its pid set from TypeScript through .rodata before load) by syscall number,
 * in a BTF-defined hash map that TypeScript reads. Rebuild with ./build.sh. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);   /* syscall number */
	__type(value, __u64); /* calls */
} calls SEC(".maps");

const volatile __u32 target_tgid = 0; /* set before load */
__u64 seen = 0;                         /* .bss: every call of the target */

SEC("raw_tp/sys_enter")
int count_syscalls(struct bpf_raw_tracepoint_args *ctx)
{
	if ((bpf_get_current_pid_tgid() >> 32) != target_tgid)
		return 0;
	__u32 nr = (__u32)ctx->args[1]; /* sys_enter(regs, id) */
	__u64 one = 1, *n = bpf_map_lookup_elem(&calls, &nr);
	if (n)
		__sync_fetch_and_add(n, 1);
	else
		bpf_map_update_elem(&calls, &nr, &one, BPF_NOEXIST);
	__sync_fetch_and_add(&seen, 1);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
