// SPDX-License-Identifier: GPL-2.0
/* examples/execsnoop.ts: every exec() on the machine, from the sched/sched_process_exec
 * tracepoint, as one ring buffer record (pid, uid, comm, filename). Rebuild with ./build.sh. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

/* The tracepoint's record, as /sys/kernel/tracing/events/sched/sched_process_exec/format says. */
struct sched_process_exec {
	__u64 common;         /* common_type, flags, preempt_count, pid */
	__u32 filename_loc;   /* __data_loc char[]: offset (low 16 bits) and length of the name */
	__s32 pid;
	__s32 old_pid;
};

struct event {
	__u32 pid;
	__u32 uid;
	char comm[16];
	char filename[256];
};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
} events SEC(".maps");

SEC("tracepoint/sched/sched_process_exec")
int on_exec(struct sched_process_exec *ctx)
{
	struct event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);

	if (!e)
		return 0;
	e->pid = ctx->pid;
	e->uid = (__u32)bpf_get_current_uid_gid();
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	bpf_probe_read_kernel_str(e->filename, sizeof(e->filename),
				  (void *)ctx + (ctx->filename_loc & 0xffff));
	bpf_ringbuf_submit(e, 0);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
