// SPDX-License-Identifier: GPL-2.0
/* examples/tcpconnect.ts: outgoing IPv4 TCP connections and how long they took to establish,
 * from the sock/inet_sock_set_state tracepoint: CLOSE -> SYN_SENT (in the connecting process)
 * remembers who and when, SYN_SENT -> ESTABLISHED (often in softirq) reports it through a ring
 * buffer. Rebuild with ./build.sh. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#define AF_INET 2
#define IPPROTO_TCP 6
#define TCP_ESTABLISHED 1
#define TCP_SYN_SENT 2
#define TCP_CLOSE 7

/* As /sys/kernel/tracing/events/sock/inet_sock_set_state/format says. */
struct inet_sock_set_state {
	__u64 common;
	const void *skaddr;
	__s32 oldstate;
	__s32 newstate;
	__u16 sport;
	__u16 dport;
	__u16 family;
	__u16 protocol;
	__u8 saddr[4];
	__u8 daddr[4];
	__u8 saddr_v6[16];
	__u8 daddr_v6[16];
};

struct start {
	__u64 ts;
	__u32 pid;
	char comm[16];
};

struct event {
	__u32 pid;
	__u16 sport;
	__u16 dport;
	__u8 saddr[4];
	__u8 daddr[4];
	__u64 latency_ns;
	char comm[16];
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u64); /* the socket's address */
	__type(value, struct start);
} starts SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 64 * 1024);
} events SEC(".maps");

SEC("tracepoint/sock/inet_sock_set_state")
int on_state(struct inet_sock_set_state *ctx)
{
	__u64 sk = (__u64)ctx->skaddr;

	if (ctx->protocol != IPPROTO_TCP || ctx->family != AF_INET)
		return 0;
	if (ctx->oldstate == TCP_CLOSE && ctx->newstate == TCP_SYN_SENT) {
		struct start s = { .ts = bpf_ktime_get_ns(), .pid = bpf_get_current_pid_tgid() >> 32 };

		bpf_get_current_comm(s.comm, sizeof(s.comm));
		bpf_map_update_elem(&starts, &sk, &s, BPF_ANY);
		return 0;
	}
	if (ctx->oldstate != TCP_SYN_SENT)
		return 0;
	struct start *s = bpf_map_lookup_elem(&starts, &sk);
	if (!s)
		return 0;
	if (ctx->newstate == TCP_ESTABLISHED) {
		struct event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);

		if (e) {
			e->pid = s->pid;
			e->sport = ctx->sport;
			e->dport = ctx->dport;
			__builtin_memcpy(e->saddr, ctx->saddr, 4);
			__builtin_memcpy(e->daddr, ctx->daddr, 4);
			e->latency_ns = bpf_ktime_get_ns() - s->ts;
			__builtin_memcpy(e->comm, s->comm, sizeof(e->comm));
			bpf_ringbuf_submit(e, 0);
		}
	}
	bpf_map_delete_elem(&starts, &sk);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
