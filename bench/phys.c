/* bench/phys.c -- the physical floors that make bench (bench/run.sh) sets
 * fabtx against, measured in the same run:
 *
 *   phys hop ITERS          one cache line bounced between two threads on
 *                           two CPUs: ns per one-way hop (half a round trip)
 *                           -- the least any shared-memory message can take
 *   phys wakeup ITERS       eventfd write -> the other thread, asleep in
 *                           poll(), wakes and answers: us one-way -- what a
 *                           transport that sleeps on an fd pays per message
 *   phys memcpy MS SIZE...  one thread copying SIZE bytes from one buffer to
 *                           another, for about MS ms per size: MB/s (1e6 B/s)
 *                           of bytes copied -- the copy every two-sided
 *                           shared-memory transport makes at least once
 *
 * Output, one line per figure: "hop_ns X", "wakeup_us X",
 * "memcpy_MBps SIZE X".  The two threads of hop and wakeup are pinned to
 * the first two CPUs the process may use (left unpinned with fewer).
 * Exit 0, or 1 after saying what failed. */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* the idx-th CPU this process may run on, or -1 */
static int cpu_nth(int idx)
{
	cpu_set_t set;
	int i, k = 0;
	if (sched_getaffinity(0, sizeof set, &set) != 0) return -1;
	if (CPU_COUNT(&set) < 2) return -1;
	for (i = 0; i < CPU_SETSIZE; i++)
		if (CPU_ISSET(i, &set) && k++ == idx) return i;
	return -1;
}

static void pin_me(int cpu)
{
	cpu_set_t set;
	if (cpu < 0) return;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	pthread_setaffinity_np(pthread_self(), sizeof set, &set);
}

/* ------------------------------------------------------------ hop */
struct hop {
	_Alignas(64) volatile uint64_t flag;
	char pad[64 - sizeof(uint64_t)];
	long iters;
	int cpu;
};

static void relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#endif
}

static void *hop_peer(void *arg)
{
	struct hop *h = (struct hop *)arg;
	long i;
	pin_me(h->cpu);
	for (i = 0; i < h->iters; i++) {
		uint64_t want = 2 * (uint64_t)i + 1;
		while (__atomic_load_n(&h->flag, __ATOMIC_ACQUIRE) != want) relax();
		__atomic_store_n(&h->flag, want + 1, __ATOMIC_RELEASE);
	}
	return NULL;
}

static int do_hop(long iters)
{
	static struct hop h;
	pthread_t th;
	double t0, t1;
	long i;
	h.flag = 0;
	h.iters = iters;
	h.cpu = cpu_nth(1);
	pin_me(cpu_nth(0));
	if (pthread_create(&th, NULL, hop_peer, &h) != 0) {
		fprintf(stderr, "phys hop: pthread_create failed\n");
		return 1;
	}
	t0 = now_s();
	for (i = 0; i < iters; i++) {
		uint64_t v = 2 * (uint64_t)i + 1;
		__atomic_store_n(&h.flag, v, __ATOMIC_RELEASE);
		while (__atomic_load_n(&h.flag, __ATOMIC_ACQUIRE) != v + 1) relax();
	}
	t1 = now_s();
	pthread_join(th, NULL);
	printf("hop_ns %.2f\n", (t1 - t0) / (double)iters / 2 * 1e9);
	return 0;
}

/* --------------------------------------------------------- wakeup */
struct wk {
	int to_peer, to_me;
	long iters;
	int cpu;
};

/* sleep in poll() until fd is readable, then consume its count */
static int wk_wait(int fd)
{
	struct pollfd p;
	uint64_t v;
	p.fd = fd;
	p.events = POLLIN;
	p.revents = 0;
	while (poll(&p, 1, -1) != 1)
		if (errno != EINTR) return -1;
	return read(fd, &v, sizeof v) == (ssize_t)sizeof v ? 0 : -1;
}

static int wk_post(int fd)
{
	uint64_t one = 1;
	return write(fd, &one, sizeof one) == (ssize_t)sizeof one ? 0 : -1;
}

static void *wk_peer(void *arg)
{
	struct wk *w = (struct wk *)arg;
	long i;
	pin_me(w->cpu);
	for (i = 0; i < w->iters; i++)
		if (wk_wait(w->to_peer) < 0 || wk_post(w->to_me) < 0) break;
	return NULL;
}

static int do_wakeup(long iters)
{
	struct wk w;
	pthread_t th;
	double t0 = 0, t1;
	long i, warm = iters / 10;
	w.to_peer = eventfd(0, 0);
	w.to_me = eventfd(0, 0);
	w.iters = iters + warm;
	w.cpu = cpu_nth(1);
	if (w.to_peer < 0 || w.to_me < 0) {
		perror("phys wakeup: eventfd");
		return 1;
	}
	pin_me(cpu_nth(0));
	if (pthread_create(&th, NULL, wk_peer, &w) != 0) {
		fprintf(stderr, "phys wakeup: pthread_create failed\n");
		return 1;
	}
	for (i = -warm; i < iters; i++) {
		if (i == 0) t0 = now_s();
		if (wk_post(w.to_peer) < 0 || wk_wait(w.to_me) < 0) {
			perror("phys wakeup: eventfd");
			return 1;
		}
	}
	t1 = now_s();
	pthread_join(th, NULL);
	close(w.to_peer);
	close(w.to_me);
	printf("wakeup_us %.3f\n", (t1 - t0) / (double)iters / 2 * 1e6);
	return 0;
}

/* --------------------------------------------------------- memcpy */
/* the copy through a pointer the compiler cannot see through, so that
 * no iteration is left out */
static void *(*volatile copy_fn)(void *, const void *, size_t) = memcpy;

static int do_memcpy(double ms, int nsizes, char **sizes)
{
	int k;
	for (k = 0; k < nsizes; k++) {
		char *e;
		size_t sz = (size_t)strtoull(sizes[k], &e, 10);
		char *src, *dst;
		long n = 1, i;
		double t0, dt;
		if (*e || sz == 0) {
			fprintf(stderr, "phys memcpy: bad size '%s'\n", sizes[k]);
			return 1;
		}
		src = (char *)malloc(sz);
		dst = (char *)malloc(sz);
		if (!src || !dst) {
			fprintf(stderr, "phys memcpy: no memory for %zu B\n", sz);
			return 1;
		}
		memset(src, 0x5a, sz);
		memset(dst, 0xa5, sz);
		/* calibrate: double the count until a run takes a tenth of ms */
		for (;;) {
			t0 = now_s();
			for (i = 0; i < n; i++) copy_fn(dst, src, sz);
			dt = now_s() - t0;
			if (dt * 1e3 >= ms / 10 || n > (1L << 40)) break;
			n *= 2;
		}
		n = (long)((double)n * (ms / 1e3) / (dt > 0 ? dt : 1e-9)) + 1;
		t0 = now_s();
		for (i = 0; i < n; i++) copy_fn(dst, src, sz);
		dt = now_s() - t0;
		printf("memcpy_MBps %zu %.1f\n", sz, (double)sz * (double)n / dt / 1e6);
		free(src);
		free(dst);
	}
	return 0;
}

int main(int argc, char **argv)
{
	long n = argc > 2 ? atol(argv[2]) : 0;
	if (argc >= 3 && strcmp(argv[1], "hop") == 0 && n > 0) return do_hop(n);
	if (argc >= 3 && strcmp(argv[1], "wakeup") == 0 && n > 0)
		return do_wakeup(n);
	if (argc >= 4 && strcmp(argv[1], "memcpy") == 0 && n > 0)
		return do_memcpy((double)n, argc - 3, argv + 3);
	fprintf(stderr, "usage: %s hop ITERS | wakeup ITERS | memcpy MS SIZE...\n",
	        argv[0]);
	return 1;
}
