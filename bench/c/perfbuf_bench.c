/* Perf buffer consumer throughput of libbpf's perf_buffer__consume, the C baseline of
 * bench/perfbuf_bench.ts. The XDP program of perfbuf_emit.bpf.o, run through
 * BPF_PROG_TEST_RUN, emits a batch of records with bpf_perf_event_output (timed: producer
 * cost); then one perf_buffer__consume() reads them all (timed: consumer cost), its callback
 * checking each record's sequence number and size.
 *
 * usage: perfbuf_bench OBJ.o [rounds] [batch] [pages]
 * prints, per record size: "libbpf <size> consume median <ns/rec> produce median <ns/rec>"
 *
 * Build: gcc -O2 -Wall -o perfbuf_bench perfbuf_bench.c -lbpf */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

struct args {
	uint32_t count;
	uint32_t dropped;
	uint64_t seq;
	uint32_t size;
	uint32_t pad;
	uint8_t rest[40]; /* the packet: 64 bytes */
};

struct consumer {
	uint64_t count, next_seq, seq_errors, bad_size, lost;
	uint32_t size;
};

static void die(const char *what)
{
	fprintf(stderr, "perfbuf_bench: %s: %s\n", what, strerror(errno));
	exit(1);
}

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

static void on_sample(void *ctx, int cpu, void *data, uint32_t size)
{
	struct consumer *c = ctx;
	uint64_t seq;
	memcpy(&seq, data, sizeof(seq));
	if (seq != c->next_seq)
		c->seq_errors++;
	if (size != c->size)
		c->bad_size++;
	c->next_seq = seq + 1;
	c->count++;
}

static void on_lost(void *ctx, int cpu, __u64 n)
{
	((struct consumer *)ctx)->lost += n;
}

static int quiet(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	return level == LIBBPF_WARN ? vfprintf(stderr, fmt, ap) : 0;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: %s OBJ.o [rounds] [batch] [pages]\n", argv[0]);
		return 2;
	}
	int rounds = argc > 2 ? atoi(argv[2]) : 11;
	uint32_t batch = argc > 3 ? atoi(argv[3]) : 32768;
	size_t pages = argc > 4 ? atoi(argv[4]) : 4096;
	libbpf_set_print(quiet);

	cpu_set_t set;
	CPU_ZERO(&set);
	CPU_SET(0, &set);
	sched_setaffinity(0, sizeof(set), &set);

	struct bpf_object *obj = bpf_object__open_file(argv[1], NULL);
	if (!obj || bpf_object__load(obj))
		die("load object");
	int map_fd = bpf_object__find_map_fd_by_name(obj, "events");
	struct bpf_program *prog = bpf_object__find_program_by_name(obj, "emit");
	if (map_fd < 0 || !prog)
		die("find map/program");
	int prog_fd = bpf_program__fd(prog);

	struct consumer c = { 0 };
	struct perf_buffer *pb = perf_buffer__new(map_fd, pages, on_sample, on_lost, &c, NULL);
	if (!pb)
		die("perf_buffer__new");

	double *cons = calloc(rounds, sizeof(double)), *prod = calloc(rounds, sizeof(double));
	uint32_t sizes[] = { 16, 256 };
	printf("# perfbuf_bench (C, libbpf perf_buffer__consume): %zu pages per CPU, %u records per round, median of %d rounds\n",
	       pages, batch, rounds);
	for (int s = 0; s < 2; s++) {
		uint32_t size = sizes[s];
		uint64_t seq = 0;
		c.size = ((size + 4 + 7) & ~7u) - 4; /* the kernel pads the raw sample */
		for (int r = -2; r < rounds; r++) {
			struct args a = { .count = batch, .seq = seq, .size = size };
			struct args out;
			LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = &a, .data_size_in = sizeof(a),
				    .data_out = &out, .data_size_out = sizeof(out));
			c.next_seq = seq;
			c.count = 0;
			uint64_t t0 = now_ns();
			if (bpf_prog_test_run_opts(prog_fd, &opts))
				die("test_run");
			uint64_t t1 = now_ns();
			int n = perf_buffer__consume(pb);
			uint64_t t2 = now_ns();
			if (n < 0)
				die("perf_buffer__consume");
			if (out.dropped || c.count != batch || c.seq_errors || c.bad_size || c.lost) {
				fprintf(stderr, "perfbuf_bench: %u dropped, %lu of %u read, %lu seq errors, %lu bad sizes, %lu lost\n",
					out.dropped, c.count, batch, c.seq_errors, c.bad_size, c.lost);
				return 1;
			}
			seq = out.seq;
			if (r >= 0) {
				prod[r] = (double)(t1 - t0) / batch;
				cons[r] = (double)(t2 - t1) / batch;
			}
		}
		qsort(cons, rounds, sizeof(double), cmp);
		qsort(prod, rounds, sizeof(double), cmp);
		printf("libbpf %u consume median %.2f produce median %.2f\n", size, cons[rounds / 2],
		       prod[rounds / 2]);
	}
	perf_buffer__free(pb);
	bpf_object__close(obj);
	return 0;
}
