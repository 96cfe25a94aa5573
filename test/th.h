/* Test helpers shared by the core tests: unique names, connected pairs in
 * one process (an accept thread for the handshake), patterns. */
#ifndef TH_H
#define TH_H
#include <glob.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>
#include "fabtx.h"
#include "tt.h"

/* fn on each /dev/shm file of pid's libfabric shm regions (fabtx names
 * them fabtx.<pid>.*, fabtx_ofi.h); how many there were */
static inline size_t th_ofi_shm_each(pid_t pid,
                                     void (*fn)(const char *path, void *arg),
                                     void *arg)
{
	char pat[64];
	glob_t g;
	size_t i, n = 0;
	snprintf(pat, sizeof pat, "/dev/shm/fabtx.%ld.*", (long)pid);
	if (glob(pat, 0, NULL, &g) == 0) {
		for (i = 0; i < g.gl_pathc; i++) fn(g.gl_pathv[i], arg);
		n = g.gl_pathc;
		globfree(&g);
	}
	return n;
}

static inline void th_unlink_path(const char *path, void *arg)
{
	(void)arg;
	unlink(path);
}

/* libfabric's shm provider leaves a SIGKILLed process's regions in
 * /dev/shm (16 MiB each): a test that kills a peer over ofi-shm removes
 * them */
static inline void th_unlink_ofi_shm_of(pid_t pid)
{
	(void)th_ofi_shm_each(pid, th_unlink_path, NULL);
}

static inline void th_name(char *buf, size_t cap, const char *tag)
{
	static int seq;
	snprintf(buf, cap, "shm://t-%s-%d-%d", tag, (int)getpid(), seq++);
}

struct th_acc {
	fabtx_listener *l;
	fabtx_conn *c;
	int rc;
};
static void *th_acc_fn(void *p)
{
	struct th_acc *a = (struct th_acc *)p;
	a->rc = fabtx_accept(a->l, &a->c, 10000);
	return NULL;
}

/* a: connecting side (ctx ca), b: accepted side (ctx cb), through a
 * listener on url (its bound URL is what a connects to: port 0 works) */
static inline void th_pair_url(fabtx_ctx *ca, fabtx_ctx *cb, const char *url,
                               fabtx_conn **a, fabtx_conn **b)
{
	char bound[256];
	struct th_acc acc;
	pthread_t t;
	memset(&acc, 0, sizeof acc);
	TT_OK(fabtx_listen(cb, url, &acc.l));
	TT_ASSERT(fabtx_listener_url(acc.l, bound, sizeof bound) > 0);
	TT_EQ(pthread_create(&t, NULL, th_acc_fn, &acc), 0);
	TT_OK(fabtx_connect(ca, bound, a, 10000));
	pthread_join(t, NULL);
	TT_OK(acc.rc);
	*b = acc.c;
	fabtx_listener_close(acc.l);
}

static inline void th_pair(fabtx_ctx *ca, fabtx_ctx *cb, fabtx_conn **a,
                           fabtx_conn **b)
{
	char url[96];
	th_name(url, sizeof url, "pair");
	th_pair_url(ca, cb, url, a, b);
}

/* the port of a listener's URL (scheme://HOST:PORT[?...|@...]) */
static inline int th_listener_port(fabtx_listener *l)
{
	char u[300], *e, *c;
	TT_ASSERT(fabtx_listener_url(l, u, sizeof u) > 6);
	e = u + 6 + strcspn(u + 6, "?@");
	*e = 0;
	c = strrchr(u, ':');
	TT_ASSERT(c);
	return atoi(c + 1);
}

static inline fabtx_ctx *th_ctx(uint32_t cells, uint32_t cell_size)
{
	fabtx_ctx *ctx;
	fabtx_ctx_config cfg = fabtx_ctx_config_init();
	cfg.cell_count = cells;
	cfg.cell_size = cell_size;
	TT_OK(fabtx_ctx_create(&ctx, &cfg));
	return ctx;
}

/* deterministic content: byte i of message m */
static inline uint8_t th_byte(uint64_t m, uint64_t i)
{
	uint64_t x = (m + 1) * 0x9E3779B97F4A7C15ull ^ (i * 0xBF58476D1CE4E5B9ull);
	x ^= x >> 29;
	return (uint8_t)(x ^ (x >> 8) ^ (i >> 12));
}
static inline void th_fill(uint8_t *p, size_t n, uint64_t m)
{
	size_t i;
	for (i = 0; i < n; i++) p[i] = th_byte(m, i);
}
static inline int th_check(const uint8_t *p, size_t n, uint64_t m)
{
	size_t i;
	for (i = 0; i < n; i++)
		if (p[i] != th_byte(m, i)) return (int)(i < 0x7fffffff ? i : 0x7fffffff) + 1;
	return 0;
}
static inline uint64_t th_rand(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}
/* Serve a listener with fabtx_accept(l, &x, 0) from a poll loop: echo on
 * the one good connection until it ends, count the handshakes reported
 * failed; until `until_aborted` of them and the good one are done, or
 * 15 s (the rio and scif hostile-listener tests). */
static inline fabtx_conn *th_serve_loop(fabtx_listener *l, int until_aborted,
                                        int *aborted, int *echoed,
                                        int *aborted_at_good)
{
	static unsigned char buf[70000];
	fabtx_conn *good = NULL;
	uint64_t dl = fabtx_now_ms() + 15000;
	int done = 0;
	while ((!done || *aborted < until_aborted) && fabtx_now_ms() < dl) {
		struct pollfd pf[2];
		fabtx_conn *x = NULL;
		int rc = fabtx_accept(l, &x, 0);
		if (rc == 0) {
			TT_ASSERT(good == NULL);
			good = x;
			*aborted_at_good = *aborted;
		} else if (rc == -ECONNABORTED) {
			(*aborted)++;
		} else if (rc != -EAGAIN) {
			TT_FAIL("accept: %s", fabtx_strerror(rc));
		}
		while (good && !done) {
			ssize_t n = fabtx_recv(good, buf, sizeof buf, 0);
			if (n == -EAGAIN) break;
			if (n == -ESHUTDOWN) {
				done = 1;
				break;
			}
			if (n < 0) TT_FAIL("good recv: %s", fabtx_strerror((int)n));
			TT_EQ(fabtx_send(good, buf, (size_t)n, 5000), n);
			(*echoed)++;
		}
		pf[0].fd = fabtx_listener_fd(l);
		pf[0].events = POLLIN;
		pf[0].revents = 0;
		pf[1].fd = good && !done ? fabtx_conn_fd(good) : -1;
		pf[1].events = POLLIN;
		pf[1].revents = 0;
		if (good && !done && fabtx_conn_arm(good) == -EAGAIN) continue;
		(void)poll(pf, 2, 10);
	}
	TT_ASSERT(done);
	return good;
}

#endif
