/* SPDX-License-Identifier: MIT */
/* test_ofi_stall.c -- 64 MiB round trips over ofi:// (sockets, msg), the
 * zero-copy sends and event mode of test_ofi's integrity test, several in
 * a row.  Run by test/ofi_sockets_stall.sh inside a network namespace with
 * small TCP receive buffers, where sockets (libfabric 1.17) stalled for
 * good when a message header was split at a closed TCP window
 * (fabtx__ofi_want_bufs, docs/ofi.md): a stall is a timeout here.
 * FXO_STALL_ROUNDS sets the round trips (default 4). */
#define FABTX_IMPLEMENTATION
#include "fabtx.h"
#include "fabtx_ofi.h"
#include "th.h"
#include <stdlib.h>
#include <sys/wait.h>

#define STALL_MSG (64u << 20)
#define STALL_URL "ofi://127.0.0.1:0?provider=sockets&ep=msg"

static fabtx_ctx *stall_ctx(uint64_t zc_send_min)
{
	fabtx_ctx *ctx;
	fabtx_ctx_config cfg = fabtx_ctx_config_init();
	cfg.zc_send_min = zc_send_min;
	TT_OK(fabtx_ctx_create(&ctx, &cfg));
	TT_OK(fabtx_ctx_add_backend(ctx, fabtx_ofi_backend()));
	return ctx;
}

/* the child: connect (the port comes through the pipe), echo every round */
static void stall_echo(int rfd, int rounds, uint8_t *buf)
{
	char url[160];
	fabtx_conn *s;
	fabtx_ctx *cc;
	int port, i;
	if (read(rfd, &port, sizeof port) != (ssize_t)sizeof port) _exit(2);
	cc = stall_ctx(0);
	snprintf(url, sizeof url,
	         "ofi://127.0.0.1:%d?provider=sockets&ep=msg", port);
	if (fabtx_connect(cc, url, &s, 10000) < 0) _exit(3);
	for (i = 0; i < rounds; i++) {
		ssize_t n = fabtx_recv(s, buf, STALL_MSG, -1);
		if (n != (ssize_t)STALL_MSG) _exit(4);
		if (th_check(buf, (size_t)n, (uint64_t)i)) _exit(5);
		if (fabtx_send(s, buf, (size_t)n, -1) != n) _exit(6);
	}
	if (fabtx_recv(s, buf, 1, -1) != -ESHUTDOWN) _exit(7);
	_exit(fabtx_conn_close(s, 5000) == 0 ? 0 : 8);
}

TT_TEST(sockets_msg_64MiB_round_trips_event_mode)
{
	const char *r = getenv("FXO_STALL_ROUNDS");
	int rounds = r ? atoi(r) : 4, pfd[2], port, i, st;
	uint8_t *buf = (uint8_t *)malloc(STALL_MSG);
	fabtx_ctx *ctx;
	fabtx_listener *l;
	fabtx_conn *c;
	pid_t p;
	TT_ASSERT(buf && rounds > 0);
	TT_OK(pipe(pfd));
	fflush(NULL);
	p = fork(); /* before this process touches libfabric */
	TT_ASSERT(p >= 0);
	if (p == 0) {
		close(pfd[1]);
		stall_echo(pfd[0], rounds, buf);
	}
	close(pfd[0]);
	ctx = stall_ctx(64 * 1024); /* zero-copy sends from 64 KiB */
	if (fabtx_listen(ctx, STALL_URL, &l) < 0) {
		kill(p, SIGKILL);
		waitpid(p, &st, 0);
		TT_SKIP("sockets (msg) not available");
	}
	port = th_listener_port(l);
	TT_EQ(write(pfd[1], &port, sizeof port), (ssize_t)sizeof port);
	TT_OK(fabtx_accept(l, &c, 20000));
	for (i = 0; i < rounds; i++) {
		th_fill(buf, STALL_MSG, (uint64_t)i);
		TT_EQ(fabtx_send(c, buf, STALL_MSG, -1), (ssize_t)STALL_MSG);
		memset(buf, 0, STALL_MSG);
		TT_EQ(fabtx_recv(c, buf, STALL_MSG, -1), (ssize_t)STALL_MSG);
		TT_EQ(th_check(buf, STALL_MSG, (uint64_t)i), 0);
	}
	TT_EQ(fabtx_conn_close(c, 5000), 0);
	TT_EQ(waitpid(p, &st, 0), p);
	TT_ASSERT(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	fabtx_listener_close(l);
	fabtx_ctx_destroy(ctx);
	free(buf);
}

__attribute__((constructor)) static void setup_env(void)
{
	setenv("FI_SOCKETS_PE_WAITTIME", "0", 0);
	/* the fix under test (FI_SOCKETS_MAX_BUF_SZ=0 in the environment
	 * takes it away: the stall comes back) */
	setenv("FI_SOCKETS_MAX_BUF_SZ", "4194304", 0);
}

TT_MAIN()
