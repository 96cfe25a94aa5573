/* SPDX-License-Identifier: MIT */
/* setup_lat.c -- connection setup latency of libzmq over one endpoint:
 * the time from zmq_connect() on a fresh socket to the connecting side's
 * ZMQ_EVENT_CONNECTED (the transport is up, the engine exists) and to its
 * ZMQ_EVENT_HANDSHAKE_SUCCEEDED (ZMTP greeting and mechanism done), with a
 * bound PULL in another process.  Prints percentiles; asserts nothing about
 * time (a measuring tool, docs/zmq.md "Connection setup").
 *
 *   zmq_setup_lat BIND_URL CONNECT_URL [ROUNDS [WARMUP]]
 *
 * Each round: a new PUSH with a monitor, zmq_connect, wait for the two
 * events, close with linger 0.  One message is sent and received in the
 * last round (the connection carries data).  ZS_DUMP=1: every round's two
 * times on stderr.  ZS_GAP_US=N: a pause of N us before each connect, so
 * that both I/O threads have finished the previous round's close (a
 * connect from idle threads; without it each connect also waits for the
 * teardown of the connection closed just before). */
#include <zmq.h>

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void die(const char *what)
{
	fprintf(stderr, "zmq_setup_lat: %s: %s\n", what, zmq_strerror(zmq_errno()));
	exit(2);
}

/* the next monitor event (number), waiting at most 10 s */
static int next_event(void *mon)
{
	zmq_pollitem_t it;
	zmq_msg_t m;
	uint16_t ev;
	it.socket = mon;
	it.fd = 0;
	it.events = ZMQ_POLLIN;
	it.revents = 0;
	if (zmq_poll(&it, 1, 10000) != 1) return -1;
	zmq_msg_init(&m);
	if (zmq_msg_recv(&m, mon, 0) < 6) die("monitor frame");
	memcpy(&ev, zmq_msg_data(&m), 2);
	zmq_msg_close(&m);
	zmq_msg_init(&m); /* the endpoint frame */
	if (zmq_msg_recv(&m, mon, 0) < 0) die("monitor endpoint");
	zmq_msg_close(&m);
	return ev;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

static void report(const char *what, uint64_t *v, int n)
{
	double sum = 0;
	int i;
	qsort(v, (size_t)n, sizeof *v, cmp_u64);
	for (i = 0; i < n; i++) sum += (double)v[i];
	printf("%-22s median %8.1f us  p10 %8.1f  p90 %8.1f  min %8.1f  "
	       "max %9.1f  mean %8.1f  (%d rounds)\n",
	       what, v[n / 2] / 1e3, v[n / 10] / 1e3, v[n * 9 / 10] / 1e3,
	       v[0] / 1e3, v[n - 1] / 1e3, sum / n / 1e3, n);
}

int main(int argc, char **argv)
{
	int rounds, warm, i, lingr = 0, one = 1, gap_us;
	int go[2], done[2];
	uint64_t *tc, *th;
	pid_t pid;
	void *ctx;
	char c;
	if (argc < 3) {
		fprintf(stderr,
		        "usage: zmq_setup_lat BIND_URL CONNECT_URL [ROUNDS [WARMUP]]\n");
		return 2;
	}
	rounds = argc > 3 ? atoi(argv[3]) : 200;
	warm = argc > 4 ? atoi(argv[4]) : 20;
	if (rounds < 1 || warm < 0) return 2;
	if (pipe(go) || pipe(done)) return 2;
	pid = fork();
	if (pid < 0) return 2;
	if (pid == 0) { /* the bound side */
		void *sctx = zmq_ctx_new(), *s = zmq_socket(sctx, ZMQ_PULL);
		char buf[16];
		close(go[0]);
		close(done[1]);
		if (zmq_bind(s, argv[1]) < 0) die(argv[1]);
		if (write(go[1], "g", 1) != 1) _exit(2);
		/* the last round's message, then wait for the end */
		if (zmq_recv(s, buf, sizeof buf, 0) < 0) die("recv");
		if (read(done[0], &c, 1) < 0) _exit(2);
		zmq_setsockopt(s, ZMQ_LINGER, &lingr, sizeof lingr);
		zmq_close(s);
		zmq_ctx_term(sctx);
		_exit(0);
	}
	close(go[1]);
	close(done[0]);
	if (read(go[0], &c, 1) != 1) {
		fprintf(stderr, "zmq_setup_lat: the bound side failed\n");
		return 2;
	}
	tc = (uint64_t *)calloc((size_t)rounds, sizeof *tc);
	th = (uint64_t *)calloc((size_t)rounds, sizeof *th);
	if (!tc || !th) return 2;
	gap_us = getenv("ZS_GAP_US") ? atoi(getenv("ZS_GAP_US")) : 0;
	ctx = zmq_ctx_new();
	for (i = -warm; i < rounds; i++) {
		char mep[64];
		void *s = zmq_socket(ctx, ZMQ_PUSH), *mon;
		uint64_t t0, t_conn = 0, t_hs = 0;
		if (!s) die("socket");
		snprintf(mep, sizeof mep, "inproc://setup-lat-%d", i + warm);
		if (zmq_socket_monitor(s, mep,
		                       ZMQ_EVENT_CONNECTED |
		                           ZMQ_EVENT_HANDSHAKE_SUCCEEDED |
		                           ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL |
		                           ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL) < 0)
			die("monitor");
		mon = zmq_socket(ctx, ZMQ_PAIR);
		if (!mon || zmq_connect(mon, mep) < 0) die("monitor connect");
		zmq_setsockopt(s, ZMQ_LINGER, i == rounds - 1 ? &one : &lingr,
		               sizeof lingr);
		if (gap_us > 0) usleep((useconds_t)gap_us);
		t0 = now_ns();
		if (zmq_connect(s, argv[2]) < 0) die(argv[2]);
		while (!t_hs) {
			int ev = next_event(mon);
			uint64_t t = now_ns();
			if (ev < 0) {
				fprintf(stderr, "zmq_setup_lat: round %d: no "
				                "handshake within 10 s\n", i);
				return 1;
			}
			if (ev == ZMQ_EVENT_CONNECTED && !t_conn) t_conn = t;
			else if (ev == ZMQ_EVENT_HANDSHAKE_SUCCEEDED) t_hs = t;
			else if (ev != ZMQ_EVENT_CONNECTED) {
				fprintf(stderr, "zmq_setup_lat: round %d: "
				                "handshake failed (event %d)\n", i, ev);
				return 1;
			}
		}
		if (i >= 0) {
			tc[i] = (t_conn ? t_conn : t_hs) - t0;
			th[i] = t_hs - t0;
		}
		if (i == rounds - 1 && zmq_send(s, "x", 1, 0) != 1) die("send");
		zmq_socket_monitor(s, NULL, 0);
		zmq_close(mon);
		zmq_close(s);
	}
	zmq_ctx_term(ctx);
	if (write(done[1], "d", 1) != 1) return 2;
	{
		int st = 0;
		if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) ||
		    WEXITSTATUS(st) != 0) {
			fprintf(stderr, "zmq_setup_lat: the bound side failed\n");
			return 1;
		}
	}
	if (getenv("ZS_DUMP")) /* each round, in order: connected handshake (us) */
		for (i = 0; i < rounds; i++)
			fprintf(stderr, "%d %.1f %.1f\n", i, tc[i] / 1e3, th[i] / 1e3);
	printf("%s\n", argv[2]);
	report("connect -> CONNECTED", tc, rounds);
	report("connect -> HANDSHAKE", th, rounds);
	free(tc);
	free(th);
	return 0;
}
