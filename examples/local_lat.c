/* local_lat <bind-to> <message-size> <roundtrip-count>
 * Listens, accepts one peer, echoes every message back (libzmq perf tool). */
#include "perf_common.h"

int main(int argc, char **argv)
{
	fabtx_ctx *ctx;
	fabtx_listener *l;
	fabtx_conn *c;
	size_t size;
	long count, i, total;
	char *buf;
	int rc, zc = perf_zc();
	if (perf_args(argc, argv, "bind-to", &size, &count) < 0) return 1;
	buf = (char *)malloc(size ? size : 1);
	if (!buf) return 1;
	if ((rc = perf_ctx_create(&ctx)) < 0) return perf_fail("ctx", rc);
	if ((rc = fabtx_listen(ctx, argv[1], &l)) < 0) return perf_fail("listen", rc);
	if ((rc = fabtx_accept(l, &c, -1)) < 0) return perf_fail("accept", rc);
	total = count + perf_warmup(count);
	for (i = 0; i < total; i++) {
		fabtx_msg m;
		ssize_t n;
		if (perf_recv(c, buf, size, zc ? &m : NULL)) return 1;
		n = fabtx_send(c, zc ? m.data : buf, size, -1);
		if (zc) fabtx_msg_release(c, &m);
		if (n < 0) return perf_fail("send", n);
	}
	rc = fabtx_conn_close(c, 10000);
	if (rc < 0) return perf_fail("close", rc);
	fabtx_listener_close(l);
	fabtx_ctx_destroy(ctx);
	free(buf);
	return 0;
}
