/* remote_lat <connect-to> <message-size> <roundtrip-count>
 * Ping-pongs with local_lat and prints the one-way latency (half a round
 * trip), as libzmq's remote_lat does. */
#include "perf_common.h"

int main(int argc, char **argv)
{
	fabtx_ctx *ctx = NULL;
	fabtx_conn *c = NULL;
	size_t size;
	long count, i, warm;
	char *buf;
	double t0 = 0, t1;
	int rc, ret = 1, zc = perf_zc();
	if (perf_args(argc, argv, "connect-to", &size, &count) < 0) return 1;
	buf = (char *)calloc(1, size ? size : 1);
	if (!buf) return 1;
	if ((rc = perf_ctx_create(&ctx)) < 0) { perf_fail("ctx", rc); goto out; }
	if ((rc = perf_connect(ctx, argv[0], argv[1], &c)) < 0) { perf_url_fail(ctx, argv[0], "connect", argv[1], rc); goto out; }
	warm = perf_warmup(count);
	for (i = -warm; i < count; i++) {
		fabtx_msg m;
		ssize_t n;
		if (i == 0) t0 = perf_now_us();
		n = fabtx_send(c, buf, size, -1);
		if (n < 0) { perf_fail("send", n); goto out; }
		if (perf_recv(c, buf, size, zc ? &m : NULL)) goto out;
		if (zc) fabtx_msg_release(c, &m);
	}
	t1 = perf_now_us();
	printf("message size: %d [B]\n", (int)size);
	printf("roundtrip count: %d\n", (int)count);
	printf("average latency: %.3f [us]\n", (t1 - t0) / ((double)count * 2));
	rc = fabtx_conn_close(c, 10000);
	c = NULL;
	if (rc < 0) { perf_fail("close", rc); goto out; }
	ret = 0;
out:
	if (c) fabtx_conn_close(c, 0); /* after an error: drop what is left */
	fabtx_ctx_destroy(ctx);
	free(buf);
	return ret;
}
