/* bench/irmsg.c -- the instructions fabtx spends per message, without the
 * polling (issue 19's profiles).  Both ends of one connection live in
 * this process and are driven from one thread, so every receive finds its
 * message there: what callgrind counts inside the measured loop is the
 * send and receive path alone, the same on a loaded machine as on a quiet
 * one.
 *
 *   irmsg <url> pingpong <size> <round-trips>  a sends, b receives, b
 *       sends it back, a receives (the latency path, one way = half)
 *   irmsg <url> stream <size> <messages>       a sends while it has credits
 *       (timeout 0), then b takes everything there (the throughput path)
 *
 * Run it as
 *   valgrind --tool=callgrind --toggle-collect=irmsg_run build/bench_irmsg ...
 * and divide the Ir of irmsg_run by the messages (bench/ir.sh does it).  It
 * prints the connection counters (doorbells, wakeups, credit reports) per
 * message, which the instruction count does not show. */
#include <pthread.h>
#include "perf_common.h"

struct acc {
	fabtx_listener *l;
	fabtx_conn *c;
	int rc;
};

static void *acc_fn(void *p)
{
	struct acc *a = (struct acc *)p;
	a->rc = fabtx_accept(a->l, &a->c, 10000);
	return NULL;
}

/* the loop */
__attribute__((noinline)) static long irmsg_loop(fabtx_conn *a, fabtx_conn *b,
                                         int stream, char *buf, size_t size,
                                         long n)
{
	long i = 0, got = 0;
	ssize_t r;
	if (!stream) {
		for (i = 0; i < n; i++) {
			if (fabtx_send(a, buf, size, -1) < 0) return -1;
			if (fabtx_recv(b, buf, size, -1) != (ssize_t)size) return -1;
			if (fabtx_send(b, buf, size, -1) < 0) return -1;
			if (fabtx_recv(a, buf, size, -1) != (ssize_t)size) return -1;
		}
		return 2 * n;
	}
	while (got < n) {
		long i0 = i, g0 = got;
		while (i < n && (r = fabtx_send(a, buf, size, 0)) >= 0) i++;
		if (i < n && r != -EAGAIN) return -1;
		while (got < i && (r = fabtx_recv(b, buf, size, 0)) >= 0) {
			if ((size_t)r != size) return -1;
			got++;
		}
		if (got < i && r != -EAGAIN) return -1;
		/* the rest of a message taken by a non-blocking send streams
		 * from the sender's slow path: drive it when stuck */
		if (i == i0 && got == g0) fabtx_conn_poll(a);
	}
	return n;
}

/* the measured run: not inlined, so callgrind can toggle on it (the
 * warm-up calls irmsg_loop directly) */
__attribute__((noinline)) long irmsg_run(fabtx_conn *a, fabtx_conn *b,
                                         int stream, char *buf, size_t size,
                                         long n)
{
	return irmsg_loop(a, b, stream, buf, size, n);
}

int main(int argc, char **argv)
{
	fabtx_ctx *ca = NULL, *cb = NULL;
	fabtx_conn *a = NULL, *b = NULL;
	struct acc acc;
	pthread_t t;
	fabtx_conn_stats sa, sb;
	char *buf, *e;
	size_t size;
	long n, msgs;
	int stream, rc;
	if (argc != 5 || (strcmp(argv[2], "pingpong") && strcmp(argv[2], "stream"))) {
		fprintf(stderr, "usage: %s <url> pingpong|stream <size> <count>\n", argv[0]);
		return 1;
	}
	stream = argv[2][0] == 's';
	size = (size_t)strtoul(argv[3], &e, 10);
	n = strtol(argv[4], &e, 10);
	if (n <= 0) return 1;
	buf = (char *)calloc(1, size ? size : 1);
	memset(&acc, 0, sizeof acc);
	if (!buf || perf_ctx_create(&ca) < 0 || perf_ctx_create(&cb) < 0 ||
	    fabtx_listen(cb, argv[1], &acc.l) < 0 ||
	    pthread_create(&t, NULL, acc_fn, &acc) != 0) {
		fprintf(stderr, "irmsg: setup failed\n");
		return 1;
	}
	rc = fabtx_connect(ca, argv[1], &a, 10000);
	pthread_join(t, NULL);
	if (rc < 0 || acc.rc < 0) {
		fprintf(stderr, "irmsg: connect %s / accept %s\n",
		        fabtx_strerror(rc), fabtx_strerror(acc.rc));
		return 1;
	}
	b = acc.c;
	/* warm-up: a lap of the ring each way, outside the measured loop */
	if (irmsg_loop(a, b, stream, buf, size, stream ? 2048 : 1024) < 0) {
		fprintf(stderr, "irmsg: warm-up failed\n");
		return 1;
	}
	fabtx_conn_stats_get(a, &sa);
	fabtx_conn_stats_get(b, &sb);
	msgs = irmsg_run(a, b, stream, buf, size, n);
	if (msgs < 0) {
		fprintf(stderr, "irmsg: run failed\n");
		return 1;
	}
	{
		fabtx_conn_stats ea, eb;
		double m = (double)msgs;
		fabtx_conn_stats_get(a, &ea);
		fabtx_conn_stats_get(b, &eb);
		printf("messages: %ld\n", msgs);
		printf("per message: chunks %.3f doorbells_sent %.3f "
		       "credit_reports %.3f credit_stalls %.3f wakeups %.3f\n",
		       (double)(ea.chunks_sent - sa.chunks_sent +
		                eb.chunks_sent - sb.chunks_sent) / m,
		       (double)(ea.doorbells_sent - sa.doorbells_sent +
		                eb.doorbells_sent - sb.doorbells_sent) / m,
		       (double)(ea.credit_reports - sa.credit_reports +
		                eb.credit_reports - sb.credit_reports) / m,
		       (double)(ea.credit_stalls - sa.credit_stalls +
		                eb.credit_stalls - sb.credit_stalls) / m,
		       (double)(ea.wakeups - sa.wakeups + eb.wakeups - sb.wakeups) / m);
	}
	fabtx_conn_close(a, 0);
	fabtx_conn_close(b, 0);
	fabtx_listener_close(acc.l);
	fabtx_ctx_destroy(ca);
	fabtx_ctx_destroy(cb);
	free(buf);
	return 0;
}
