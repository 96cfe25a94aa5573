/* local_thr <bind-to> <message-size> <message-count>
 * Receives message-count messages and prints the throughput, as libzmq's
 * local_thr does (timing starts at the first message). */
#include "perf_common.h"

int main(int argc, char **argv)
{
	fabtx_ctx *ctx = NULL;
	fabtx_listener *l = NULL;
	fabtx_conn *c = NULL;
	size_t size;
	long count, i;
	char *buf;
	double t0, t1, us, thr;
	int rc, ret = 1, zc = perf_zc();
	if (perf_args(argc, argv, "bind-to", &size, &count) < 0) return 1;
	buf = (char *)malloc(size ? size : 1);
	if (!buf) return 1;
	if ((rc = perf_ctx_create(&ctx)) < 0) { perf_fail("ctx", rc); goto out; }
	if ((rc = fabtx_listen(ctx, argv[1], &l)) < 0) { perf_url_fail(ctx, argv[0], "listen", argv[1], rc); goto out; }
	if ((rc = fabtx_accept(l, &c, -1)) < 0) { perf_fail("accept", rc); goto out; }
	t0 = 0;
	for (i = 0; i < count; i++) {
		fabtx_msg m;
		if (perf_recv(c, buf, size, zc ? &m : NULL)) goto out;
		if (zc) fabtx_msg_release(c, &m);
		if (i == 0) t0 = perf_now_us(); /* from the first message on */
	}
	t1 = perf_now_us();
	us = t1 - t0;
	if (us <= 0) us = 1;
	thr = (double)count / us * 1000000.0;
	printf("message size: %d [B]\n", (int)size);
	printf("message count: %d\n", (int)count);
	printf("mean throughput: %d [msg/s]\n", (int)thr);
	printf("mean throughput: %.3f [Mb/s]\n", thr * (double)size * 8 / 1000000.0);
	rc = fabtx_conn_close(c, 10000);
	c = NULL;
	if (rc < 0 && rc != -ESHUTDOWN) { perf_fail("close", rc); goto out; }
	ret = 0;
out:
	if (c) fabtx_conn_close(c, 0); /* after an error: drop what is left */
	fabtx_listener_close(l);
	fabtx_ctx_destroy(ctx);
	free(buf);
	return ret;
}
