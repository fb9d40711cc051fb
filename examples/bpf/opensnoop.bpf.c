// SPDX-License-Identifier: GPL-2.0
/* examples/opensnoop.ts: every openat() on the machine, from the syscalls/sys_enter_openat
 * tracepoint, through a perf event array (one ring per CPU). Rebuild with ./build.sh. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

/* The tracepoint's record, as /sys/kernel/tracing/events/syscalls/sys_enter_openat/format says. */
struct sys_enter_openat {
	__u64 common;
	__s32 syscall_nr;
	__u32 pad;
	__s64 dfd;
	const char *filename; /* a user-space pointer */
	__s64 flags;
	__s64 mode;
};

struct event {
	__u32 pid;
	__s32 flags;
	char comm[16];
	char filename[256];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	__uint(key_size, sizeof(int));
	__uint(value_size, sizeof(int));
} events SEC(".maps");

SEC("tracepoint/syscalls/sys_enter_openat")
int on_openat(struct sys_enter_openat *ctx)
{
	struct event e = {};

	e.pid = bpf_get_current_pid_tgid() >> 32;
	e.flags = (__s32)ctx->flags;
	bpf_get_current_comm(e.comm, sizeof(e.comm));
	bpf_probe_read_user_str(e.filename, sizeof(e.filename), ctx->filename);
	bpf_perf_event_output(ctx, &events, BPF_F_CURRENT_CPU, &e, sizeof(e));
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
