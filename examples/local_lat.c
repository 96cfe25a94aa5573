/* local_lat <bind-to> <message-size> <roundtrip-count>
 * Listens, accepts one peer, echoes every message back (libzmq perf tool). */
#include "perf_common.h"

int main(int argc, char **argv)
{
	fabtx_ctx *ctx = NULL;
	fabtx_listener *l = NULL;
	fabtx_conn *c = NULL;
	size_t size;
	long count, i, total;
	char *buf;
	int rc, ret = 1, zc = perf_zc();
	if (perf_args(argc, argv, "bind-to", &size, &count) < 0) return 1;
	buf = (char *)malloc(size ? size : 1);
	if (!buf) return 1;
	if ((rc = perf_ctx_create(&ctx)) < 0) { perf_fail("ctx", rc); goto out; }
	if ((rc = fabtx_listen(ctx, argv[1], &l)) < 0) { perf_url_fail(ctx, argv[0], "listen", argv[1], rc); goto out; }
	if ((rc = fabtx_accept(l, &c, -1)) < 0) { perf_fail("accept", rc); goto out; }
	total = count + perf_warmup(count);
	for (i = 0; i < total; i++) {
		fabtx_msg m;
		ssize_t n;
		if (perf_recv(c, buf, size, zc ? &m : NULL)) goto out;
		n = fabtx_send(c, zc ? m.data : buf, size, -1);
		if (zc) fabtx_msg_release(c, &m);
		if (n < 0) { perf_fail("send", n); goto out; }
	}
	rc = fabtx_conn_close(c, 10000);
	c = NULL;
	if (rc < 0) { perf_fail("close", rc); goto out; }
	ret = 0;
out:
	if (c) fabtx_conn_close(c, 0); /* after an error: drop what is left */
	fabtx_listener_close(l);
	fabtx_ctx_destroy(ctx);
	free(buf);
	return ret;
}
