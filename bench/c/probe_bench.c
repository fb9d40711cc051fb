// C baseline for bench/profile_bench.ts: libbpf's feature probes over the same questions, timed
// with CLOCK_MONOTONIC. Usage: probe_bench <prog types> <map types> <helper ids>
// (the counts of tsbpf's tables). Prints one line per measurement, in milliseconds.
#include <bpf/libbpf.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

int main(int argc, char **argv)
{
	if (argc != 4) {
		fprintf(stderr, "usage: %s <prog types> <map types> <helper ids>\n", argv[0]);
		return 2;
	}
	int progs = atoi(argv[1]), maps = atoi(argv[2]), helpers = atoi(argv[3]);
	int yes = 0;
	double t0 = now_ms();
	for (int t = 1; t <= progs; t++)
		yes += libbpf_probe_bpf_prog_type(t, NULL) == 1;
	for (int t = 1; t <= maps; t++)
		yes += libbpf_probe_bpf_map_type(t, NULL) == 1;
	double types = now_ms() - t0;
	printf("libbpf prog and map types (%d + %d, %d yes): %.2f ms\n", progs, maps, yes, types);

	t0 = now_ms();
	yes = 0;
	for (int id = 1; id < helpers; id++)
		yes += libbpf_probe_bpf_helper(BPF_PROG_TYPE_XDP, id, NULL) == 1;
	printf("libbpf helpers of one type (xdp, %d ids, %d yes): %.2f ms\n", helpers - 1, yes,
	       now_ms() - t0);
	return 0;
}
