// SPDX-License-Identifier: Apache-2.0
/*
 * Baseline for the bridge benchmark: the same map operations as MapBench, as raw bpf(2)
 * syscalls from C through libbpf's thin wrappers (what bpftool does per element).
 * Usage: map_bench N ROUNDS  -> one JSON object on stdout.
 */
#include <bpf/bpf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

struct backend { unsigned int addr; unsigned short port; unsigned char proto, state; };

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 100000;
	int rounds = argc > 2 ? atoi(argv[2]) : 5;
	LIBBPF_OPTS(bpf_map_create_opts, opts, .map_flags = BPF_F_NO_PREALLOC);
	int fd = bpf_map_create(BPF_MAP_TYPE_HASH, "bench_backends", 4, sizeof(struct backend), n, &opts);
	if (fd < 0) {
		fprintf(stderr, "bpf_map_create: %s\n", strerror(-fd));
		return 1;
	}
	unsigned int *keys = calloc(n, sizeof(*keys));
	struct backend *vals = calloc(n, sizeof(*vals));
	for (int i = 0; i < n; i++) {
		keys[i] = i + 1;
		vals[i] = (struct backend){ .addr = 0xC6120000u | i, .port = 8080, .proto = 6 };
	}
	double best_update = 0, best_lookup = 0, best_batch = 0;
	for (int r = 0; r < rounds; r++) {
		double t0 = now();
		for (int i = 0; i < n; i++)
			if (bpf_map_update_elem(fd, &keys[i], &vals[i], BPF_ANY)) return 1;
		double t1 = now();
		struct backend out;
		for (int i = 0; i < n; i++)
			if (bpf_map_lookup_elem(fd, &keys[i], &out)) return 1;
		double t2 = now();
		__u32 count = n;
		LIBBPF_OPTS(bpf_map_batch_opts, bopts);
		if (bpf_map_update_batch(fd, keys, vals, &count, &bopts)) return 1;
		double t3 = now();
		double u = n / (t1 - t0), l = n / (t2 - t1), b = n / (t3 - t2);
		if (u > best_update) best_update = u;
		if (l > best_lookup) best_lookup = l;
		if (b > best_batch) best_batch = b;
	}
	printf("{\"update_ops_per_s\": %.0f, \"lookup_ops_per_s\": %.0f, \"batch_update_ops_per_s\": %.0f}\n",
	       best_update, best_lookup, best_batch);
	close(fd);
	return 0;
}
