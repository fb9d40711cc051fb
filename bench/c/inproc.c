/* C baselines called from the TypeScript benches through FFI, in the same process and on the
 * same kernel objects, so that each C figure is measured right beside the TypeScript one (the
 * machine is shared: figures from separate runs minutes apart are not comparable).
 *
 * - tsbpf_c_map(op, fd, nkeys, passes): ns per op of one raw bpf(2) loop over u32 keys
 *   0..nkeys-1 (u64 values) on the caller's hash map; the same loops as shared/bench/map_ops.inc
 *   (raw syscall, attr on the stack).
 * - tsbpf_c_rb_*: libbpf's ring_buffer__consume over the caller's ringbuf map, its callback
 *   checking each record's u64 sequence number and size (as shared/bench/ringbuf_bench.c).
 * - tsbpf_c_pb_*: libbpf's perf_buffer__consume over the caller's perf event array (as
 *   bench/c/perfbuf_bench.c).
 *
 * Build: gcc -O2 -Wall -shared -fPIC -o libtsbpf_inproc.so inproc.c -lbpf */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include <linux/bpf.h>
#include <bpf/libbpf.h>

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

struct elem_attr {
	uint32_t map_fd;
	uint32_t pad;
	uint64_t key;
	uint64_t value; /* or next_key */
	uint64_t flags;
};

struct batch_attr {
	uint64_t in_batch;
	uint64_t out_batch;
	uint64_t keys;
	uint64_t values;
	uint32_t count;
	uint32_t map_fd;
	uint64_t elem_flags;
	uint64_t flags;
};

static inline int elem(int cmd, int fd, const void *k, void *v, uint64_t flags)
{
	struct elem_attr a = {
		.map_fd = fd,
		.key = (uint64_t)(uintptr_t)k,
		.value = (uint64_t)(uintptr_t)v,
		.flags = flags,
	};
	return syscall(SYS_bpf, cmd, &a, sizeof(a));
}

static inline int batch(int fd, void *in, void *out, void *keys, void *vals, uint32_t *count)
{
	struct batch_attr a = {
		.in_batch = (uint64_t)(uintptr_t)in,
		.out_batch = (uint64_t)(uintptr_t)out,
		.keys = (uint64_t)(uintptr_t)keys,
		.values = (uint64_t)(uintptr_t)vals,
		.count = *count,
		.map_fd = fd,
	};
	int r = syscall(SYS_bpf, BPF_MAP_LOOKUP_BATCH, &a, sizeof(a));
	*count = a.count;
	return r;
}

enum {
	OP_UPDATE_NEW,
	OP_UPDATE_EXISTING,
	OP_LOOKUP_HIT,
	OP_LOOKUP_MISS,
	OP_DUMP,
	OP_BATCH_ALL,
	OP_BATCH_256,
	OP_DELETE,
};

#define MAX_KEYS 65536
static uint32_t bkeys[2 * MAX_KEYS];
static uint64_t bvals[2 * MAX_KEYS];

/* ns per op (per entry for OP_DUMP and the batches); a negative errno on failure. */
double tsbpf_c_map(int op, int fd, int nkeys, int passes)
{
	uint32_t k, next;
	uint64_t v = 0;
	int i, p, n, rc;
	if (nkeys <= 0 || nkeys > MAX_KEYS || passes <= 0)
		return -EINVAL;
	uint64_t t0 = now_ns();
	switch (op) {
	case OP_UPDATE_NEW: /* one pass: the keys must be absent */
		passes = 1;
		/* fall through */
	case OP_UPDATE_EXISTING:
		for (p = 0; p < passes; p++)
			for (i = 0; i < nkeys; i++) {
				k = i;
				v = i + p;
				if (elem(BPF_MAP_UPDATE_ELEM, fd, &k, &v, BPF_ANY))
					return -errno;
			}
		break;
	case OP_LOOKUP_HIT:
		for (p = 0; p < passes; p++)
			for (i = 0; i < nkeys; i++) {
				k = i;
				if (elem(BPF_MAP_LOOKUP_ELEM, fd, &k, &v, 0))
					return -errno;
			}
		break;
	case OP_LOOKUP_MISS:
		for (p = 0; p < passes; p++)
			for (i = 0; i < nkeys; i++) {
				k = nkeys + i;
				if (elem(BPF_MAP_LOOKUP_ELEM, fd, &k, &v, 0) == 0 || errno != ENOENT)
					return -EEXIST;
			}
		break;
	case OP_DUMP: /* get_next_key + lookup per key */
		for (p = 0; p < passes; p++) {
			n = 0;
			rc = elem(BPF_MAP_GET_NEXT_KEY, fd, NULL, &next, 0);
			while (rc == 0) {
				if (elem(BPF_MAP_LOOKUP_ELEM, fd, &next, &v, 0))
					return -errno;
				n++;
				k = next;
				rc = elem(BPF_MAP_GET_NEXT_KEY, fd, &k, &next, 0);
			}
			if (errno != ENOENT || n != nkeys)
				return -EIO;
		}
		break;
	case OP_BATCH_ALL:
	case OP_BATCH_256: {
		uint32_t chunk = op == OP_BATCH_ALL ? (uint32_t)nkeys : 256;
		for (p = 0; p < passes; p++) {
			uint32_t out_batch = 0, in_batch = 0, count;
			int first = 1, total = 0;
			do {
				count = chunk;
				rc = batch(fd, first ? NULL : &in_batch, &out_batch, bkeys + total,
					   bvals + total, &count);
				if (rc && errno != ENOENT)
					return -errno;
				total += count;
				in_batch = out_batch;
				first = 0;
			} while (rc == 0);
			if (total != nkeys)
				return -EIO;
		}
		break;
	}
	case OP_DELETE: /* one pass: the keys must be present */
		passes = 1;
		for (i = 0; i < nkeys; i++) {
			k = i;
			if (elem(BPF_MAP_DELETE_ELEM, fd, &k, NULL, 0))
				return -errno;
		}
		break;
	default:
		return -EINVAL;
	}
	return (double)(now_ns() - t0) / ((double)nkeys * passes);
}

/* ---- ring buffer ---- */

struct consumer {
	uint64_t count, next_seq, errors;
	size_t size;
};

static struct consumer rb_c;
static struct ring_buffer *rb;

static int on_record(void *ctx, void *data, size_t size)
{
	struct consumer *c = ctx;
	uint64_t seq = *(const uint64_t *)data;
	if (seq != c->next_seq || size != c->size)
		c->errors++;
	c->next_seq = seq + 1;
	c->count++;
	return 0;
}

/* Opens libbpf's reader of the ringbuf map; 0 or a negative errno. */
int tsbpf_c_rb_open(int map_fd)
{
	if (rb)
		ring_buffer__free(rb);
	rb = ring_buffer__new(map_fd, on_record, &rb_c, NULL);
	return rb ? 0 : -errno;
}

/* Drains the ring with ring_buffer__consume, expecting `expect` records of `size` bytes
 * numbered from `seq`: ns per record, or -1 when the records or their count are wrong. */
double tsbpf_c_rb_consume(double seq, int size, int expect)
{
	rb_c = (struct consumer){ .next_seq = (uint64_t)seq, .size = (size_t)size };
	uint64_t t0 = now_ns();
	int n = ring_buffer__consume(rb);
	uint64_t t1 = now_ns();
	if (n != expect || rb_c.count != (uint64_t)expect || rb_c.errors)
		return -1;
	return (double)(t1 - t0) / expect;
}

void tsbpf_c_rb_close(void)
{
	if (rb)
		ring_buffer__free(rb);
	rb = NULL;
}

/* ---- perf buffer ---- */

static struct consumer pb_c;
static uint64_t pb_lost;
static struct perf_buffer *pb;

static void on_sample(void *ctx, int cpu, void *data, uint32_t size)
{
	struct consumer *c = ctx;
	uint64_t seq;
	memcpy(&seq, data, sizeof(seq));
	if (seq != c->next_seq || size != c->size)
		c->errors++;
	c->next_seq = seq + 1;
	c->count++;
}

static void on_lost(void *ctx, int cpu, __u64 n)
{
	pb_lost += n;
}

/* Opens libbpf's reader of the perf event array (taking its slots); 0 or a negative errno. */
int tsbpf_c_pb_open(int map_fd, int pages)
{
	if (pb)
		perf_buffer__free(pb);
	pb = perf_buffer__new(map_fd, pages, on_sample, on_lost, &pb_c, NULL);
	return pb ? 0 : -errno;
}

/* As tsbpf_c_rb_consume, for perf_buffer__consume (`size` is the padded raw sample size). */
double tsbpf_c_pb_consume(double seq, int size, int expect)
{
	pb_c = (struct consumer){ .next_seq = (uint64_t)seq, .size = (size_t)size };
	pb_lost = 0;
	uint64_t t0 = now_ns();
	int n = perf_buffer__consume(pb);
	uint64_t t1 = now_ns();
	if (n < 0 || pb_c.count != (uint64_t)expect || pb_c.errors || pb_lost)
		return -1;
	return (double)(t1 - t0) / expect;
}

void tsbpf_c_pb_close(void)
{
	if (pb)
		perf_buffer__free(pb);
	pb = NULL;
}
