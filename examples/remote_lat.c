/* remote_lat <connect-to> <message-size> <roundtrip-count>
 * Ping-pongs with local_lat and prints the one-way latency (half a round
 * trip), as libzmq's remote_lat does. */
#include "perf_common.h"

int main(int argc, char **argv)
{
	fabtx_ctx *ctx;
	fabtx_conn *c;
	size_t size;
	long count, i, warm;
	char *buf;
	double t0 = 0, t1;
	int rc, zc = perf_zc();
	if (perf_args(argc, argv, "connect-to", &size, &count) < 0) return 1;
	buf = (char *)calloc(1, size ? size : 1);
	if (!buf) return 1;
	if ((rc = perf_ctx_create(&ctx)) < 0) return perf_fail("ctx", rc);
	if ((rc = perf_connect(ctx, argv[1], &c)) < 0) return perf_fail("connect", rc);
	warm = perf_warmup(count);
	for (i = -warm; i < count; i++) {
		ssize_t n;
		if (i == 0) t0 = perf_now_us();
		n = fabtx_send(c, buf, size, -1);
		if (n < 0) return perf_fail("send", n);
		{
			fabtx_msg m;
			if (perf_recv(c, buf, size, zc ? &m : NULL)) return 1;
			if (zc) fabtx_msg_release(c, &m);
		}
	}
	t1 = perf_now_us();
	printf("message size: %d [B]\n", (int)size);
	printf("roundtrip count: %d\n", (int)count);
	printf("average latency: %.3f [us]\n", (t1 - t0) / ((double)count * 2));
	rc = fabtx_conn_close(c, 10000);
	if (rc < 0) return perf_fail("close", rc);
	fabtx_ctx_destroy(ctx);
	free(buf);
	return 0;
}
