/* Test helpers shared by the core tests: unique names, connected pairs in
 * one process (an accept thread for the handshake), patterns. */
#ifndef TH_H
#define TH_H
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "fabtx.h"
#include "tt.h"

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
#endif
