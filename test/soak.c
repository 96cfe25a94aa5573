/* SPDX-License-Identifier: MIT */
/* soak.c -- long runs with every byte checked (issue 16).
 *
 *   soak pair  SCHEME N     one sender process, one receiver: N messages
 *   soak fanin SCHEME N     16 client processes into one listener, each
 *                           opening and closing connections throughout
 *                           (1..2000 messages per connection), N in all
 *   SCHEME: shm (shm://) or ofi (ofi://127.0.0.1:0?provider=tcp)
 *
 * Sizes are random from 0 B to 3 ring sizes (16 cells of 1 KiB: many
 * wraps; mostly small, 1% past the ring); the size and every byte of
 * message k of a connection follow from (connection seed, k), so the
 * receiver checks length and content of each message, their order, that
 * none is missing (a connection's first message says how many follow)
 * and that each stream ends in a clean -ESHUTDOWN.  Prints messages,
 * bytes, errors and the receiver's resident memory at start, middle and
 * end, and the tt.h summary line (one test). */
#define FABTX_IMPLEMENTATION
#include "fabtx.h"
#include "fabtx_ofi.h"
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define CELLS 16u
#define CELL 1024u
#define RING (CELLS * CELL)
#define MAXLEN (3u * RING)
#define NCLIENTS 16

static uint64_t rng_next(uint64_t *s)
{
	uint64_t x = *s;
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return *s = x;
}

/* the size of message k of the stream with seed sd */
static uint32_t msg_len(uint64_t sd, uint64_t k)
{
	uint64_t s = sd * 0x9e3779b97f4a7c15ull + k * 0xbf58476d1ce4e5b9ull + 1;
	uint64_t r = rng_next(&s), u = r % 1000;
	rng_next(&s);
	if (u < 900) return (uint32_t)(rng_next(&s) % 257);  /* 0..256 B */
	if (u < 990) return (uint32_t)(rng_next(&s) % 4097); /* .. 4 KiB */
	return (uint32_t)(rng_next(&s) % (MAXLEN + 1));      /* .. 3 rings */
}

static void msg_fill(uint8_t *b, uint32_t len, uint64_t sd, uint64_t k)
{
	uint64_t s = (sd + 1) * 0x94d049bb133111ebull ^ (k + 1), v = 0;
	uint32_t i;
	for (i = 0; i < len; i++) {
		if ((i & 7) == 0) v = rng_next(&s);
		b[i] = (uint8_t)(v >> (8 * (i & 7)));
	}
}

static long rss_kb(void)
{
	char line[256];
	long kb = -1;
	FILE *f = fopen("/proc/self/status", "r");
	if (!f) return -1;
	while (fgets(line, sizeof line, f))
		if (sscanf(line, "VmRSS: %ld", &kb) == 1) break;
	fclose(f);
	return kb;
}

static fabtx_ctx *mkctx(void)
{
	fabtx_ctx *ctx;
	fabtx_ctx_config cfg = fabtx_ctx_config_init();
	cfg.cell_count = CELLS;
	cfg.cell_size = CELL;
	if (fabtx_ctx_create(&ctx, &cfg) < 0) return NULL;
	if (fabtx_ctx_add_backend(ctx, fabtx_ofi_backend()) < 0) {
		fabtx_ctx_destroy(ctx);
		return NULL;
	}
	return ctx;
}

/* one connection's stream: a header {seed, count}, then count messages */
static int send_stream(fabtx_conn *c, uint64_t sd, uint64_t count, uint8_t *b)
{
	uint64_t k, hdr[2];
	ssize_t r;
	hdr[0] = sd;
	hdr[1] = count;
	if ((r = fabtx_send(c, hdr, sizeof hdr, -1)) != (ssize_t)sizeof hdr) {
		fprintf(stderr, "soak: send header: %s\n", fabtx_strerror((int)r));
		return -1;
	}
	for (k = 0; k < count; k++) {
		uint32_t len = msg_len(sd, k);
		msg_fill(b, len, sd, k);
		r = fabtx_send(c, b, len, -1);
		if (r != (ssize_t)len) {
			fprintf(stderr, "soak: send %llu: %s\n", (unsigned long long)k,
			        fabtx_strerror((int)r));
			return -1;
		}
	}
	return 0;
}

/* the receiving side of one stream */
typedef struct rx {
	fabtx_conn *c;
	uint64_t sd, count, k;
	int have_hdr, done;
} rx;

typedef struct totals {
	uint64_t msgs, bytes, errors, conns;
	uint64_t target;
	long rss[3];
} totals;

static uint8_t *expbuf;

/* take what is there (timeout_ms as for fabtx_recv); 1: stream ended */
static int rx_step(rx *x, uint8_t *b, int timeout_ms, totals *t)
{
	for (;;) {
		ssize_t r = fabtx_recv(x->c, b, MAXLEN, timeout_ms);
		if (r == -EAGAIN) return 0;
		if (r == -ESHUTDOWN) {
			if (!x->have_hdr || x->k != x->count) {
				fprintf(stderr, "soak: stream ended after %llu of %llu\n",
				        (unsigned long long)x->k,
				        (unsigned long long)x->count);
				t->errors++;
			}
			x->done = 1;
			return 1;
		}
		if (r < 0) {
			fprintf(stderr, "soak: recv: %s (message %llu of %llu)\n",
			        fabtx_strerror((int)r), (unsigned long long)x->k,
			        (unsigned long long)x->count);
			t->errors++;
			x->done = 1;
			return 1;
		}
		if (!x->have_hdr) {
			if (r != 16) {
				t->errors++;
				x->done = 1;
				return 1;
			}
			memcpy(&x->sd, b, 8);
			memcpy(&x->count, b + 8, 8);
			x->have_hdr = 1;
			continue;
		}
		{
			uint32_t len = msg_len(x->sd, x->k);
			if ((uint64_t)r != len || x->k >= x->count) {
				fprintf(stderr, "soak: message %llu: %zd bytes, want %u\n",
				        (unsigned long long)x->k, r, len);
				t->errors++;
			} else {
				msg_fill(expbuf, len, x->sd, x->k);
				if (memcmp(b, expbuf, len) != 0) {
					fprintf(stderr, "soak: message %llu: bytes differ\n",
					        (unsigned long long)x->k);
					t->errors++;
				}
			}
		}
		x->k++;
		t->msgs++;
		t->bytes += (uint64_t)r;
		if (t->msgs == t->target / 2) t->rss[1] = rss_kb();
		if (timeout_ms) return 0;
	}
}

static int listen_on(fabtx_ctx *ctx, const char *scheme, fabtx_listener **l,
                     char *url, size_t cap)
{
	int rc;
	if (strcmp(scheme, "shm") == 0) {
		snprintf(url, cap, "shm://soak-%ld", (long)getpid());
		rc = fabtx_listen(ctx, url, l);
	} else {
		rc = fabtx_listen(ctx, "ofi://127.0.0.1:0?provider=tcp", l);
		if (rc == 0 && fabtx_listener_url(*l, url, cap) < 0) rc = -ENOSPC;
	}
	if (rc < 0) fprintf(stderr, "soak: listen %s: %s\n", scheme, fabtx_strerror(rc));
	return rc;
}

/* a client process: connections of 1..2000 messages until `total` sent */
static int client(const char *url, int id, uint64_t total, int one_conn)
{
	fabtx_ctx *ctx = mkctx();
	uint8_t *b = (uint8_t *)malloc(MAXLEN);
	uint64_t sent = 0, rs = 0x1234567ull + (uint64_t)id * 7919, n = 0;
	int rc = 0;
	if (!ctx || !b) return 1;
	while (sent < total || (one_conn && n == 0)) {
		fabtx_conn *c;
		uint64_t cnt = one_conn ? total : 1 + rng_next(&rs) % 2000;
		int r;
		if (cnt > total - sent) cnt = total - sent;
		r = fabtx_connect(ctx, url, &c, 10000);
		if (r < 0) {
			fprintf(stderr, "soak: client %d connect: %s\n", id, fabtx_strerror(r));
			rc = 1;
			break;
		}
		if (send_stream(c, ((uint64_t)id << 32) | n, cnt, b) < 0) rc = 1;
		r = fabtx_conn_close(c, 30000);
		if (r < 0) {
			fprintf(stderr, "soak: client %d close: %s\n", id, fabtx_strerror(r));
			rc = 1;
		}
		if (rc) break;
		sent += cnt;
		n++;
	}
	if (one_conn) printf("soak: sender RSS end %ld kB\n", rss_kb());
	fflush(stdout);
	free(b);
	fabtx_ctx_destroy(ctx);
	return rc;
}

int main(int argc, char **argv)
{
	const char *mode, *scheme;
	uint64_t n;
	fabtx_ctx *ctx;
	fabtx_listener *l;
	char url[160];
	uint8_t *b;
	totals t;
	pid_t kids[NCLIENTS];
	int nk, i, st, failed = 0;
	uint64_t t0, t1;
	if (argc != 4) {
		fprintf(stderr, "usage: soak pair|fanin shm|ofi MESSAGES\n");
		return 2;
	}
	mode = argv[1];
	scheme = argv[2];
	n = strtoull(argv[3], NULL, 10);
	memset(&t, 0, sizeof t);
	t.target = n;
	b = (uint8_t *)malloc(MAXLEN);
	expbuf = (uint8_t *)malloc(MAXLEN);
	ctx = mkctx();
	if (!b || !expbuf || !ctx) return 1;
	if (listen_on(ctx, scheme, &l, url, sizeof url) < 0) {
		printf("SKIP soak %s %s: no listener\n0 passed, 0 failed, 1 skipped\n",
		       mode, scheme);
		return 77;
	}
	t.rss[0] = rss_kb();
	t0 = fabtx_now_ms();
	nk = strcmp(mode, "pair") == 0 ? 1 : NCLIENTS;
	for (i = 0; i < nk; i++) {
		kids[i] = fork();
		if (kids[i] == 0) {
			_exit(client(url, i, nk == 1 ? n : n / NCLIENTS + (i < (int)(n % NCLIENTS)),
			             nk == 1));
		}
	}
	if (nk == 1) {
		rx x;
		memset(&x, 0, sizeof x);
		if (fabtx_accept(l, &x.c, 30000) < 0) {
			t.errors++;
		} else {
			t.conns++;
			while (!x.done) rx_step(&x, b, 30000, &t);
			fabtx_conn_close(x.c, 1000);
		}
	} else {
		/* an event loop over the listener and every open connection */
		rx xs[64];
		int nx = 0, ended = 0;
		memset(xs, 0, sizeof xs);
		while (ended < nk || nx) {
			struct pollfd p[65];
			int np = 0, now = 0;
			for (i = 0; i < nx; i++) {
				rx_step(&xs[i], b, 0, &t);
				if (xs[i].done) {
					fabtx_conn_close(xs[i].c, 1000);
					xs[i--] = xs[--nx];
					continue;
				}
			}
			for (i = 0; i < nx; i++) {
				if (fabtx_conn_arm(xs[i].c) == -EAGAIN) now = 1;
				p[np].fd = fabtx_conn_fd(xs[i].c);
				p[np++].events = POLLIN;
			}
			p[np].fd = fabtx_listener_fd(l);
			p[np++].events = POLLIN;
			poll(p, (nfds_t)np, now ? 0 : 100);
			if ((p[np - 1].revents & POLLIN) && nx < 64) {
				if (fabtx_accept(l, &xs[nx].c, 1000) == 0) {
					memset(&xs[nx].sd, 0, sizeof xs[nx] - sizeof xs[nx].c);
					nx++;
					t.conns++;
				}
			}
			/* children that exited: all their connections were
			 * accepted (they closed them) */
			while (ended < nk && waitpid(-1, &st, WNOHANG) > 0) {
				ended++;
				if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) failed = 1;
			}
		}
	}
	for (i = 0; nk == 1 && i < nk; i++) {
		if (waitpid(kids[i], &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st))
			failed = 1;
	}
	t1 = fabtx_now_ms();
	t.rss[2] = rss_kb();
	if (!t.rss[1]) t.rss[1] = t.rss[2];
	fabtx_listener_close(l);
	fabtx_ctx_destroy(ctx);
	if (t.msgs != n) t.errors++;
	printf("soak %s %s: %llu messages, %llu bytes, %llu connections, %llu errors, "
	       "%.1f s; receiver RSS start %ld kB, middle %ld kB, end %ld kB\n",
	       mode, scheme, (unsigned long long)t.msgs, (unsigned long long)t.bytes,
	       (unsigned long long)t.conns, (unsigned long long)t.errors,
	       (double)(t1 - t0) / 1000.0, t.rss[0], t.rss[1], t.rss[2]);
	if (t.errors || failed) {
		printf("FAIL soak %s %s\n0 passed, 1 failed, 0 skipped\n", mode, scheme);
		return 1;
	}
	printf("PASS soak %s %s\n1 passed, 0 failed, 0 skipped\n", mode, scheme);
	free(b);
	free(expbuf);
	return 0;
}
