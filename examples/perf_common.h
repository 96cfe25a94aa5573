/* Shared bits of the perf examples: libzmq perf-tool command lines
 * (<url> <message-size> <count>), any fabtx URL, every compiled backend. */
#ifndef PERF_COMMON_H
#define PERF_COMMON_H
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "fabtx.h"

/* examples/fabtx_impl.c (the implementation's translation unit) */
int perf_ctx_create(fabtx_ctx **ctx);
/* Errors known here before any peer is asked: a string that is no URL, a
 * scheme no backend of this build serves, an ofi:// provider (or endpoint
 * type) libfabric does not have or that cannot carry fabtx.  0, or a
 * negative errno after saying on stderr what was found instead. */
int perf_url_check(fabtx_ctx *ctx, const char *prog, const char *url);
/* After listen/connect failed with rc: what this machine has instead
 * (devices of rio:// and scif://, the backends of this build). */
void perf_url_explain(fabtx_ctx *ctx, const char *prog, const char *url,
                      long rc);

static inline double perf_now_us(void)
{
	return (double)fabtx_now_ns() / 1000.0;
}

static inline int perf_args(int argc, char **argv, const char *what,
                            size_t *size, long *count)
{
	char *e1, *e2;
	if (argc != 4) {
		fprintf(stderr, "usage: %s <%s> <message-size> <%s>\n", argv[0], what,
		        strstr(argv[0], "lat") ? "roundtrip-count" : "message-count");
		return -1;
	}
	*size = (size_t)strtoull(argv[2], &e1, 10);
	*count = strtol(argv[3], &e2, 10);
	if (*e1 || *e2 || argv[2][0] == '-' || *count <= 0) {
		fprintf(stderr, "%s: bad message size or count\n", argv[0]);
		return -1;
	}
	return 0;
}

static inline int perf_fail(const char *what, long rc)
{
	fprintf(stderr, "error in %s: %s\n", what, fabtx_strerror((int)rc));
	return 1;
}

/* "error in WHAT: ...", then what this machine has instead; returns 1 */
static inline int perf_url_fail(fabtx_ctx *ctx, const char *prog,
                                const char *what, const char *url, long rc)
{
	perf_fail(what, rc);
	if (ctx) perf_url_explain(ctx, prog, url, rc);
	return 1;
}

/* Connect, retrying while nobody listens yet (the listener may start
 * later, as with zmq's perf tools), for up to 20 s.  What can never work
 * fails at once (perf_url_check); the wait is announced once on stderr. */
static inline int perf_connect(fabtx_ctx *ctx, const char *prog,
                               const char *url, fabtx_conn **c)
{
	uint64_t until = fabtx_now_ms() + 20000;
	int rc, said = 0;
	if ((rc = perf_url_check(ctx, prog, url)) < 0) return rc;
	for (;;) {
		rc = fabtx_connect(ctx, url, c, 5000);
		if (rc != -ECONNREFUSED && rc != -ETIMEDOUT) return rc;
		if (fabtx_now_ms() > until) return rc;
		if (!said) {
			fprintf(stderr, "%s: waiting for a listener at %s (%s; "
			                "retrying for 20 s)\n",
			        prog, url, fabtx_strerror(rc));
			said = 1;
		}
		{
			struct timespec ts = {0, 10 * 1000 * 1000};
			nanosleep(&ts, NULL); /* back off between connect attempts */
		}
	}
}

/* FABTX_PERF_ZC=1: receive like zmq_recvmsg does, with fabtx_recv_msg,
 * which lends the message in place where it can (a single cell; a run on
 * RDMA backends) and copies otherwise; local_lat then echoes that very
 * message.  Default: fabtx_recv into the program's buffer. */
static inline int perf_zc(void)
{
	const char *e = getenv("FABTX_PERF_ZC");
	return e && e[0] == '1';
}

/* one message of exactly `size` bytes: 0, or 1 after printing why not */
static inline int perf_recv(fabtx_conn *c, char *buf, size_t size,
                            fabtx_msg *m)
{
	ssize_t n;
	if (m) {
		int rc = fabtx_recv_msg(c, m, -1);
		if (rc < 0) return perf_fail("recv", rc);
		n = (ssize_t)m->len;
	} else {
		n = fabtx_recv(c, buf, size, -1);
		if (n < 0) return perf_fail("recv", n);
	}
	if ((size_t)n != size) {
		fprintf(stderr, "message of incorrect size received\n");
		return 1;
	}
	return 0;
}

/* warm-up round trips not counted in latency (caches, page faults) */
static inline long perf_warmup(long count)
{
	return count < 10000 ? count / 10 : 1000;
}
#endif
