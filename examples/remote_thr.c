/* remote_thr <connect-to> <message-size> <message-count>
 * Sends message-count messages as fast as credits allow, then closes
 * (close delivers everything before it returns). */
#include "perf_common.h"

int main(int argc, char **argv)
{
	fabtx_ctx *ctx = NULL;
	fabtx_conn *c = NULL;
	size_t size;
	long count, i;
	char *buf;
	int rc, ret = 1;
	if (perf_args(argc, argv, "connect-to", &size, &count) < 0) return 1;
	buf = (char *)calloc(1, size ? size : 1);
	if (!buf) return 1;
	if ((rc = perf_ctx_create(&ctx)) < 0) { perf_fail("ctx", rc); goto out; }
	if ((rc = perf_connect(ctx, argv[0], argv[1], &c)) < 0) { perf_url_fail(ctx, argv[0], "connect", argv[1], rc); goto out; }
	for (i = 0; i < count; i++) {
		ssize_t n = fabtx_send(c, buf, size, -1);
		if (n < 0) { perf_fail("send", n); goto out; }
	}
	rc = fabtx_conn_close(c, 60000);
	c = NULL;
	if (rc < 0) { perf_fail("close", rc); goto out; }
	ret = 0;
out:
	if (c) fabtx_conn_close(c, 0); /* after an error: drop what is left */
	fabtx_ctx_destroy(ctx);
	free(buf);
	return ret;
}
