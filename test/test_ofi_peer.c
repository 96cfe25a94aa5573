/* SPDX-License-Identifier: MIT */
/* test_ofi_peer.c -- one side of an ofi:// exchange, for runs across
 * network namespaces (test/ofi_netns.sh).
 *   test_ofi_peer server URL    accept one peer, echo every message
 *   test_ofi_peer client URL    connect (retrying while refused, 20 s),
 *                               send messages 0 B..16 MiB, check echoes
 * The client prints "N passed, N failed, 0 skipped" (one per size). */
#define FABTX_IMPLEMENTATION
#include "fabtx.h"
#include "fabtx_ofi.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const size_t sizes[] = {0, 1, 8, 100, 4096, 8161, 65536, 1 << 20,
                               (3 << 20) + 5, 16 << 20};
#define NS (int)(sizeof sizes / sizeof sizes[0])

static unsigned char byte_of(size_t m, size_t i)
{
	return (unsigned char)((i * 2654435761u) >> 13 ^ m * 97u ^ i);
}

int main(int argc, char **argv)
{
	fabtx_ctx *ctx;
	fabtx_conn *c = NULL;
	unsigned char *buf = (unsigned char *)malloc(16 << 20);
	int rc, i, pass = 0, fail = 0;
	if (argc != 3 || !buf) {
		fprintf(stderr, "usage: %s server|client URL\n", argv[0]);
		return 2;
	}
	if ((rc = fabtx_ctx_create(&ctx, NULL)) < 0 ||
	    (rc = fabtx_ctx_add_backend(ctx, fabtx_ofi_backend())) < 0)
		return 2;
	if (strcmp(argv[1], "server") == 0) {
		fabtx_listener *l;
		ssize_t n;
		if ((rc = fabtx_listen(ctx, argv[2], &l)) < 0) {
			fprintf(stderr, "listen %s: %s\n", argv[2], fabtx_strerror(rc));
			return 2;
		}
		printf("listening\n");
		fflush(stdout);
		if ((rc = fabtx_accept(l, &c, 30000)) < 0) {
			fprintf(stderr, "accept: %s\n", fabtx_strerror(rc));
			return 2;
		}
		while ((n = fabtx_recv(c, buf, 16 << 20, -1)) >= 0)
			if (fabtx_send(c, buf, (size_t)n, -1) != n) return 3;
		rc = fabtx_conn_close(c, 5000);
		fabtx_listener_close(l);
		fabtx_ctx_destroy(ctx);
		free(buf);
		return n == -ESHUTDOWN && rc == 0 ? 0 : 4;
	}
	{
		uint64_t end = fabtx_now_ms() + 20000;
		do {
			rc = fabtx_connect(ctx, argv[2], &c, 5000);
		} while (rc == -ECONNREFUSED && fabtx_now_ms() < end);
		if (rc < 0) {
			fprintf(stderr, "connect %s: %s\n", argv[2], fabtx_strerror(rc));
			return 2;
		}
	}
	for (i = 0; i < NS; i++) {
		size_t j, n = sizes[i];
		ssize_t got;
		int ok = 1;
		for (j = 0; j < n; j++) buf[j] = byte_of((size_t)i, j);
		if (fabtx_send(c, buf, n, -1) != (ssize_t)n) ok = 0;
		memset(buf, 0, n);
		got = fabtx_recv(c, buf, 16 << 20, -1);
		if (got != (ssize_t)n) ok = 0;
		for (j = 0; ok && j < n; j++)
			if (buf[j] != byte_of((size_t)i, j)) ok = 0;
		printf("%s echo_%zu\n", ok ? "PASS" : "FAIL", n);
		pass += ok;
		fail += !ok;
	}
	{
		fabtx_ofi_info oi;
		if (fabtx_ofi_conn_info(c, &oi) == 0)
			printf("provider %s/%s domain %s\n", oi.provider,
			       oi.ep_rdm ? "rdm" : "msg", oi.domain);
	}
	if (fabtx_conn_close(c, 5000) != 0) fail++;
	printf("%d passed, %d failed, 0 skipped\n", pass, fail);
	fabtx_ctx_destroy(ctx);
	free(buf);
	return fail ? 1 : 0;
}
