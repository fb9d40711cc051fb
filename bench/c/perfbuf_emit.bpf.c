// SPDX-License-Identifier: GPL-2.0
/* Perf buffer producer for the perf buffer benchmark and tests. An XDP program
 * run through BPF_PROG_TEST_RUN (on the calling CPU) whose packet is struct args:
 * each run emits args->count records with bpf_loop and
 * bpf_perf_event_output(BPF_F_CURRENT_CPU), args->size bytes each (8..256), each
 * starting with a sequence number, and writes back into the packet the next
 * sequence number and how many outputs failed (ring full or no reader).
 *
 * Build: clang-19 -g -O2 -target bpf -fdebug-prefix-map=$PWD=. \
 *          -I/usr/include/$(gcc -dumpmachine) -c perfbuf_emit.bpf.c -o perfbuf_emit.bpf.o */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
	__uint(max_entries, 64);
} events SEC(".maps");

struct args {
	__u32 count;   /* in: records to emit */
	__u32 dropped; /* out: failed outputs (ring full) */
	__u64 seq;     /* in/out: sequence number of the next record */
	__u32 size;    /* in: bytes per record, 8..256 */
	__u32 pad;
};

struct loop_state {
	void *ctx;
	__u64 seq;
	__u32 size;
	__u32 dropped;
	__u64 buf[32];
};

static long emit_one(__u64 i, void *data)
{
	struct loop_state *st = data;
	__u32 size = st->size;

	st->buf[0] = st->seq;
	st->buf[1] = i;
	/* Clamp in two steps the verifier can follow (8..256). */
	if (size > sizeof(st->buf))
		size = sizeof(st->buf);
	asm volatile("" : "+r"(size));
	if (size < 8)
		size = 8;
	if (bpf_perf_event_output(st->ctx, &events, BPF_F_CURRENT_CPU, st->buf, size))
		st->dropped++;
	else
		st->seq++;
	return 0;
}

SEC("xdp")
int emit(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	struct args *a = data;

	if (data + sizeof(*a) > end)
		return XDP_ABORTED;
	struct loop_state st = { .ctx = ctx, .seq = a->seq, .size = a->size };

	bpf_loop(a->count, emit_one, &st, 0);
	a->seq = st.seq;
	a->dropped = st.dropped;
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
