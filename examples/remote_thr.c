/* remote_thr <connect-to> <message-size> <message-count>
 * Sends message-count messages as fast as credits allow, then closes
 * (close delivers everything before it returns). */
#include "perf_common.h"

int main(int argc, char **argv)
{
	fabtx_ctx *ctx;
	fabtx_conn *c;
	size_t size;
	long count, i;
	char *buf;
	int rc;
	if (perf_args(argc, argv, "connect-to", &size, &count) < 0) return 1;
	buf = (char *)calloc(1, size ? size : 1);
	if (!buf) return 1;
	if ((rc = perf_ctx_create(&ctx)) < 0) return perf_fail("ctx", rc);
	if ((rc = perf_connect(ctx, argv[1], &c)) < 0) return perf_fail("connect", rc);
	for (i = 0; i < count; i++) {
		ssize_t n = fabtx_send(c, buf, size, -1);
		if (n < 0) return perf_fail("send", n);
	}
	rc = fabtx_conn_close(c, 60000);
	if (rc < 0) return perf_fail("close", rc);
	fabtx_ctx_destroy(ctx);
	free(buf);
	return 0;
}
