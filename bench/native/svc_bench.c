// Traffic for the service benchmark (ServiceBench), run inside a pod netns with `ip netns exec`.
//
//   svc_bench serve PORT
//       single-threaded epoll server: reads a connection until it sees '\n' (a request line), then
//       answers "ok\n" and closes (the server closes first, so TIME_WAIT stays on the server side);
//       bytes other than '\n' are discarded, so a stream of zeros is a sink until EOF.
//   svc_bench rr IP[,IP...] PORT THREADS SECONDS
//       short connections: each thread loops connect, send "GET\n", read until EOF, close; thread
//       i connects to the (i mod k)-th address, so a direct run can spread over the server pods.
//       Prints {"connections": N, "per_s": R, "p50_us": A, "p99_us": B, "errors": E}; latency is
//       one whole connection (connect -> response read -> EOF).
//   svc_bench stream IP PORT SECONDS
//       one TCP stream of zeros for SECONDS; prints {"bytes": N, "gbit_per_s": R}.
//   svc_bench mix SLICE_MS SECONDS THREADS TARGET...
//       the rr load against several targets, interleaved in time slices: each cycle of k slices
//       gives one slice to every target, in a random order, so slow noise on a shared machine
//       hits every target alike. Every target has THREADS client threads of its own, which enter
//       its netns (and cgroup) once and sleep outside its slices: moving threads between
//       cgroups costs an RCU grace period, which would land in the measured slices. A target is
//       NETNS_PATH,IP[+IP...],PORT[,CGROUP]; each connection goes to one of the IPs at random.
//       With CGROUP (a threaded cgroup v2 directory under the one this process runs in), the
//       thread also moves into it (cgroup.threads) with the netns: that target's sockets meet the
//       cgroup programs attached there (socket load balancing) and no other target's do. Prints one rr line per target (with "target": i), counting the
//       connections that started in its slices over the time of its slices.
//   svc_bench mixstream SLICE_MS SECONDS TARGET...
//       one stream at a time, a new one per slice, in the target of the slice; one line per target.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static double now_s(void) {
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int serve(int port) {
	int ls = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	int one = 1;
	setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
	if (bind(ls, (struct sockaddr *)&a, sizeof a) < 0 || listen(ls, 4096) < 0) {
		perror("bind/listen");
		return 1;
	}
	int ep = epoll_create1(0);
	struct epoll_event ev = {.events = EPOLLIN, .data.fd = ls};
	epoll_ctl(ep, EPOLL_CTL_ADD, ls, &ev);
	printf("listening\n");
	fflush(stdout);
	static char buf[256 * 1024];
	struct epoll_event evs[256];
	for (;;) {
		int n = epoll_wait(ep, evs, 256, -1);
		for (int i = 0; i < n; i++) {
			int fd = evs[i].data.fd;
			if (fd == ls) {
				int c;
				while ((c = accept4(ls, NULL, NULL, SOCK_NONBLOCK)) >= 0) {
					struct epoll_event cev = {.events = EPOLLIN, .data.fd = c};
					epoll_ctl(ep, EPOLL_CTL_ADD, c, &cev);
				}
				continue;
			}
			for (;;) {
				ssize_t r = read(fd, buf, sizeof buf);
				if (r > 0) {
					if (memchr(buf, '\n', r)) {
						(void)!write(fd, "ok\n", 3);
						close(fd);
						break;
					}
					continue;
				}
				if (r < 0 && errno == EAGAIN)
					break;
				close(fd); // EOF or error
				break;
			}
		}
	}
}

struct rr_args {
	struct sockaddr_in dst;
	double until;
	uint32_t *lat_us; // per-thread samples
	size_t n, cap;
	long errors;
};

// One short connection; returns 0 on success.
static int one_rr(const struct sockaddr_in *dst) {
	char buf[64];
	int s = socket(AF_INET, SOCK_STREAM, 0);
	int ok = s >= 0 && connect(s, (const struct sockaddr *)dst, sizeof *dst) == 0 &&
		 write(s, "GET\n", 4) == 4;
	int got = 0;
	while (ok) {
		ssize_t r = read(s, buf, sizeof buf);
		if (r > 0) {
			got += r;
			continue;
		}
		ok = r == 0 && got == 3;
		break;
	}
	if (s >= 0)
		close(s);
	return ok ? 0 : -1;
}

static void *rr_thread(void *p) {
	struct rr_args *a = p;
	while (now_s() < a->until) {
		double t0 = now_s();
		int ok = one_rr(&a->dst) == 0;
		if (!ok) {
			a->errors++;
			continue;
		}
		if (a->n == a->cap) {
			a->cap = a->cap ? a->cap * 2 : 65536;
			a->lat_us = realloc(a->lat_us, a->cap * sizeof *a->lat_us);
		}
		a->lat_us[a->n++] = (uint32_t)((now_s() - t0) * 1e6);
	}
	return NULL;
}

static int cmp_u32(const void *x, const void *y) {
	uint32_t a = *(const uint32_t *)x, b = *(const uint32_t *)y;
	return a < b ? -1 : a > b;
}

static int rr(const char *ip, int port, int threads, double seconds) {
	struct rr_args *args = calloc(threads, sizeof *args);
	pthread_t *t = calloc(threads, sizeof *t);
	double start = now_s();
	for (int i = 0; i < threads; i++) {
		args[i].dst.sin_family = AF_INET;
		args[i].dst.sin_port = htons(port);
		char list[256], *save = NULL, *tok;
		snprintf(list, sizeof list, "%s", ip);
		int nips = 0;
		for (tok = strtok_r(list, ",", &save); tok; tok = strtok_r(NULL, ",", &save))
			nips++;
		snprintf(list, sizeof list, "%s", ip);
		save = NULL;
		tok = strtok_r(list, ",", &save);
		for (int j = 0; j < i % nips; j++)
			tok = strtok_r(NULL, ",", &save);
		if (inet_pton(AF_INET, tok, &args[i].dst.sin_addr) != 1) {
			fprintf(stderr, "bad address %s\n", tok);
			return 2;
		}
		args[i].until = start + seconds;
		pthread_create(&t[i], NULL, rr_thread, &args[i]);
	}
	size_t total = 0;
	long errors = 0;
	for (int i = 0; i < threads; i++) {
		pthread_join(t[i], NULL);
		total += args[i].n;
		errors += args[i].errors;
	}
	double elapsed = now_s() - start;
	uint32_t *all = malloc((total ? total : 1) * sizeof *all);
	size_t k = 0;
	for (int i = 0; i < threads; i++) {
		memcpy(all + k, args[i].lat_us, args[i].n * sizeof *all);
		k += args[i].n;
	}
	qsort(all, total, sizeof *all, cmp_u32);
	uint32_t p50 = total ? all[total / 2] : 0;
	uint32_t p99 = total ? all[(size_t)(total * 0.99)] : 0;
	printf("{\"connections\": %zu, \"per_s\": %.1f, \"p50_us\": %u, \"p99_us\": %u, "
	       "\"errors\": %ld}\n",
	       total, total / elapsed, p50, p99, errors);
	return total ? 0 : 1;
}

static int stream(const char *ip, int port, double seconds) {
	struct sockaddr_in dst = {.sin_family = AF_INET, .sin_port = htons(port)};
	inet_pton(AF_INET, ip, &dst.sin_addr);
	int s = socket(AF_INET, SOCK_STREAM, 0);
	if (connect(s, (struct sockaddr *)&dst, sizeof dst) < 0) {
		perror("connect");
		return 1;
	}
	static char buf[128 * 1024];
	memset(buf, 0, sizeof buf);
	double start = now_s(), end = start + seconds;
	long long bytes = 0;
	while (now_s() < end) {
		ssize_t w = write(s, buf, sizeof buf);
		if (w <= 0) {
			perror("write");
			return 1;
		}
		bytes += w;
	}
	double elapsed = now_s() - start;
	close(s);
	printf("{\"bytes\": %lld, \"gbit_per_s\": %.3f}\n", bytes, bytes * 8 / elapsed / 1e9);
	return 0;
}

struct target {
	int nsfd;
	int cgfd; // cgroup.threads of the target's threaded cgroup, or -1
	struct sockaddr_in dst[8];
	int ndst;
};

static int parse_target(const char *spec, struct target *t) {
	char buf[512], *save = NULL;
	snprintf(buf, sizeof buf, "%s", spec);
	char *path = strtok_r(buf, ",", &save), *ips = strtok_r(NULL, ",", &save),
	     *port = strtok_r(NULL, ",", &save), *cgroup = strtok_r(NULL, ",", &save);
	if (!path || !ips || !port)
		return -1;
	t->cgfd = -1;
	if (cgroup) {
		char threads[600];
		snprintf(threads, sizeof threads, "%s/cgroup.threads", cgroup);
		t->cgfd = open(threads, O_WRONLY | O_CLOEXEC);
		if (t->cgfd < 0) {
			perror(threads);
			return -1;
		}
	}
	t->nsfd = open(path, O_RDONLY | O_CLOEXEC);
	if (t->nsfd < 0) {
		perror(path);
		return -1;
	}
	t->ndst = 0;
	char *save2 = NULL;
	for (char *ip = strtok_r(ips, "+", &save2); ip && t->ndst < 8; ip = strtok_r(NULL, "+", &save2)) {
		struct sockaddr_in *a = &t->dst[t->ndst++];
		memset(a, 0, sizeof *a);
		a->sin_family = AF_INET;
		a->sin_port = htons(atoi(port));
		if (inet_pton(AF_INET, ip, &a->sin_addr) != 1)
			return -1;
	}
	return 0;
}

struct samples {
	uint32_t *v;
	size_t n, cap;
};

static void add_sample(struct samples *s, uint32_t x) {
	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 65536;
		s->v = realloc(s->v, s->cap * sizeof *s->v);
	}
	s->v[s->n++] = x;
}

static struct target *targets;
static int ntargets;
static double mix_start, mix_slice, mix_end;

struct mix_thread {
	int idx;
	int target; // the only target this thread serves
	struct samples lat[16];
	long errors[16];
	long long bytes[16];
};

// Moves the calling thread into target k: its netns, and its cgroup when it has one.
static void enter_target(int k) {
	if (setns(targets[k].nsfd, CLONE_NEWNET) < 0) {
		perror("setns");
		exit(1);
	}
	if (targets[k].cgfd >= 0) {
		char tid[24];
		int n = snprintf(tid, sizeof tid, "%d", gettid());
		if (pwrite(targets[k].cgfd, tid, n, 0) != n) {
			perror("cgroup.threads");
			exit(1);
		}
	}
}

// Every thread has entered its target before the clock of the slices starts (two phases:
// entered, then the main thread set mix_start).
static pthread_barrier_t entered, started;

static void enter_and_wait(int k) {
	enter_target(k);
	pthread_barrier_wait(&entered);
	pthread_barrier_wait(&started);
}

static int *slice_order; // target of each slice: a fresh random permutation per cycle of k

static int slice_target(double t) {
	return slice_order[(long)((t - mix_start) / mix_slice)];
}

// Sleeps until the start of the slice after the one that contains t.
static void sleep_to_next_slice(double t) {
	double next = mix_start + ((long)((t - mix_start) / mix_slice) + 1) * mix_slice;
	double d = next - now_s();
	if (d > 0) {
		struct timespec ts = {(time_t)d, (long)((d - (time_t)d) * 1e9)};
		nanosleep(&ts, NULL);
	}
}

static void *mix_rr_thread(void *p) {
	struct mix_thread *m = p;
	int k = m->target;
	uint64_t rng = 0x9E3779B97F4A7C15ull * (m->idx + 1) ^ (uint64_t)(now_s() * 1e9);
	enter_and_wait(k);
	for (;;) {
		double t0 = now_s();
		if (t0 >= mix_end)
			break;
		if (slice_target(t0) != k) {
			sleep_to_next_slice(t0);
			continue;
		}
		struct target *t = &targets[k];
		// A random destination per connection, as a service picks a random backend: direct
		// traffic then spreads over the server pods the same way service traffic does.
		rng ^= rng << 13;
		rng ^= rng >> 7;
		rng ^= rng << 17;
		if (one_rr(&t->dst[rng % t->ndst]) < 0) {
			m->errors[k]++;
			continue;
		}
		add_sample(&m->lat[k], (uint32_t)((now_s() - t0) * 1e6));
	}
	return NULL;
}

static void *mix_stream_thread(void *p) {
	struct mix_thread *m = p;
	static char buf[128 * 1024];
	int k = m->target;
	enter_and_wait(k);
	for (;;) {
		double t0 = now_s();
		if (t0 >= mix_end)
			break;
		if (slice_target(t0) != k) {
			sleep_to_next_slice(t0);
			continue;
		}
		double slice_end = mix_start + ((int)((t0 - mix_start) / mix_slice) + 1) * mix_slice;
		int s = socket(AF_INET, SOCK_STREAM, 0);
		if (connect(s, (struct sockaddr *)&targets[k].dst[0], sizeof targets[k].dst[0]) < 0) {
			m->errors[k]++;
			close(s);
			continue;
		}
		while (now_s() < slice_end) {
			ssize_t w = write(s, buf, sizeof buf);
			if (w <= 0) {
				m->errors[k]++;
				break;
			}
			m->bytes[k] += w;
		}
		close(s);
	}
	return NULL;
}

static int mix(int stream_mode, double slice_ms, double seconds, int threads, int argc,
	       char **argv) {
	ntargets = argc;
	if (ntargets < 1 || ntargets > 16)
		return 2;
	targets = calloc(ntargets, sizeof *targets);
	for (int i = 0; i < ntargets; i++)
		if (parse_target(argv[i], &targets[i]) < 0) {
			fprintf(stderr, "bad target %s\n", argv[i]);
			return 2;
		}
	mix_slice = slice_ms / 1000;
	long nslices = (long)(seconds / mix_slice / ntargets + 0.5) * ntargets;
	threads *= ntargets; // THREADS per target
	struct mix_thread *m = calloc(threads, sizeof *m);
	pthread_t *t = calloc(threads, sizeof *t);
	// Random order within each cycle: no configuration always follows the same other one.
	slice_order = calloc(nslices + ntargets, sizeof *slice_order);
	srand48(time(NULL));
	for (long c = 0; c < nslices / ntargets + 1; c++) {
		int *o = slice_order + c * ntargets;
		for (int i = 0; i < ntargets; i++)
			o[i] = i;
		for (int i = ntargets - 1; i > 0; i--) {
			int j = lrand48() % (i + 1), x = o[i];
			o[i] = o[j];
			o[j] = x;
		}
	}
	pthread_barrier_init(&entered, NULL, threads + 1);
	pthread_barrier_init(&started, NULL, threads + 1);
	for (int i = 0; i < threads; i++) {
		m[i].idx = i;
		m[i].target = i % ntargets;
		pthread_create(&t[i], NULL, stream_mode ? mix_stream_thread : mix_rr_thread, &m[i]);
	}
	pthread_barrier_wait(&entered);
	mix_start = now_s() + 0.01;
	mix_end = mix_start + nslices * mix_slice;
	pthread_barrier_wait(&started);
	for (int i = 0; i < threads; i++)
		pthread_join(t[i], NULL);
	double per_target = nslices / ntargets * mix_slice;
	for (int k = 0; k < ntargets; k++) {
		long errors = 0;
		long long bytes = 0;
		size_t total = 0;
		for (int i = 0; i < threads; i++) {
			errors += m[i].errors[k];
			bytes += m[i].bytes[k];
			total += m[i].lat[k].n;
		}
		if (stream_mode) {
			printf("{\"target\": %d, \"bytes\": %lld, \"gbit_per_s\": %.3f, \"errors\": %ld}\n",
			       k, bytes, bytes * 8 / per_target / 1e9, errors);
			continue;
		}
		uint32_t *all = malloc((total ? total : 1) * sizeof *all);
		size_t j = 0;
		for (int i = 0; i < threads; i++) {
			memcpy(all + j, m[i].lat[k].v, m[i].lat[k].n * sizeof *all);
			j += m[i].lat[k].n;
		}
		qsort(all, total, sizeof *all, cmp_u32);
		printf("{\"target\": %d, \"connections\": %zu, \"per_s\": %.1f, \"p50_us\": %u, "
		       "\"p99_us\": %u, \"errors\": %ld}\n",
		       k, total, total / per_target, total ? all[total / 2] : 0,
		       total ? all[(size_t)(total * 0.99)] : 0, errors);
		free(all);
	}
	return 0;
}

int main(int argc, char **argv) {
	signal(SIGPIPE, SIG_IGN);
	if (argc == 3 && !strcmp(argv[1], "serve"))
		return serve(atoi(argv[2]));
	if (argc == 6 && !strcmp(argv[1], "rr"))
		return rr(argv[2], atoi(argv[3]), atoi(argv[4]), atof(argv[5]));
	if (argc == 5 && !strcmp(argv[1], "stream"))
		return stream(argv[2], atoi(argv[3]), atof(argv[4]));
	if (argc >= 6 && !strcmp(argv[1], "mix"))
		return mix(0, atof(argv[2]), atof(argv[3]), atoi(argv[4]), argc - 5, argv + 5);
	if (argc >= 5 && !strcmp(argv[1], "mixstream"))
		return mix(1, atof(argv[2]), atof(argv[3]), 1, argc - 4, argv + 4);
	fprintf(stderr, "usage: svc_bench serve PORT | rr IP PORT THREADS SECONDS | "
			"stream IP PORT SECONDS\n");
	return 2;
}
