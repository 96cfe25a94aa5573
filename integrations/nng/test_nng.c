/* SPDX-License-Identifier: MIT */
/* test_nng.c -- nng over the fabtx transports (make test-nng; docs/nng.md).
 *
 * Public nng API only.  NT_TRANSPORT picks the scheme: shm (default),
 * ofi-tcp (ofi://127.0.0.1:PORT?provider=tcp), scif (scif://PORT, on the
 * emulator), rio (rio://DESTID:CH: peers in other processes only).  Each
 * test runs in a forked child (test/tt.h).  Waits are nng's own, bounded by
 * receive timeouts and pipe events with deadlines; there are no sleeps.
 */
/* fabtx itself, for peers that do not speak SP (shm:// only) */
#define FABTX_IMPLEMENTATION
#include "fabtx.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <nng/nng.h>
#include <nng/supplemental/util/platform.h>
#include <nng/protocol/bus0/bus.h>
#include <nng/protocol/pair0/pair.h>
#include <nng/protocol/pair1/pair.h>
#include <nng/protocol/pipeline0/pull.h>
#include <nng/protocol/pipeline0/push.h>
#include <nng/protocol/pubsub0/pub.h>
#include <nng/protocol/pubsub0/sub.h>
#include <nng/protocol/reqrep0/rep.h>
#include <nng/protocol/reqrep0/req.h>
#include <nng/protocol/survey0/respond.h>
#include <nng/protocol/survey0/survey.h>

#include "tt.h"

#define NT_OK(expr)                                                            \
	do {                                                                   \
		int nt_rv_ = (expr);                                           \
		if (nt_rv_ != 0)                                               \
			TT_FAIL("%s: %s", #expr, nng_strerror(nt_rv_));        \
	} while (0)
#define NT_TIMEOUT_MS 20000 /* bounds every wait; never reached when well */

/* ---------------------------------------------------------------- URLs */
static const char *nt_transport(void)
{
	const char *t = getenv("NT_TRANSPORT");
	return t && *t ? t : "shm";
}

static int nt_seq;

static int nt_is_rio(void)
{
	return strcmp(nt_transport(), "rio") == 0;
}

/* a fresh endpoint: where to listen and where to dial */
static void nt_urls(char *lurl, char *durl, size_t cap)
{
	const char *t = nt_transport();
	unsigned    n = (unsigned) nt_seq++;
	unsigned    base =
	    (unsigned) (getpid() % 1000) * 4 + 24000; /* < 32768: not ephemeral */
	if (strcmp(t, "ofi-tcp") == 0) {
		snprintf(lurl, cap, "ofi://127.0.0.1:%u?provider=tcp",
		    base + n % 4);
		snprintf(durl, cap, "%s", lurl);
	} else if (strcmp(t, "scif") == 0) {
		snprintf(lurl, cap, "scif://%u", 2000 + (base + n % 4) % 20000);
		snprintf(durl, cap, "scif://0:%u", 2000 + (base + n % 4) % 20000);
	} else if (strcmp(t, "rio") == 0) {
		snprintf(lurl, cap, "rio://*:%u", 20 + (base + n) % 200);
		snprintf(durl, cap, "rio://%s:%u",
		    getenv("NT_RIO_PEER") ? getenv("NT_RIO_PEER") : "1",
		    20 + (base + n) % 200);
	} else {
		snprintf(lurl, cap, "shm://nt-%d-%u", (int) getpid(), n);
		snprintf(durl, cap, "%s", lurl);
	}
}

/* the URL a peer process dials to reach a listener of this process */
static void nt_durl_to_me(char *durl, size_t cap, const char *lurl)
{
	if (nt_is_rio()) {
		const char *ch = strrchr(lurl, ':');
		snprintf(durl, cap, "rio://%s%s",
		    getenv("NT_RIO_SELF") ? getenv("NT_RIO_SELF") : "1", ch);
	}
}

static int nt_is(const char *t)
{
	return strcmp(nt_transport(), t) == 0;
}

/* rio_cm has no loopback: only tests whose peer is another process */
static void nt_need_loopback(void)
{
	if (nt_is("rio"))
		TT_SKIP("rio:// has no loopback (peer in this process)");
}

/* -------------------------------------------------------- pipe events */
typedef struct {
	nng_mtx *mtx;
	nng_cv * cv;
	int      added;
	int      removed;
} nt_watch;

static void nt_pipe_cb(nng_pipe p, nng_pipe_ev ev, void *arg)
{
	nt_watch *w = arg;
	(void) p;
	nng_mtx_lock(w->mtx);
	if (ev == NNG_PIPE_EV_ADD_POST)
		w->added++;
	else if (ev == NNG_PIPE_EV_REM_POST)
		w->removed++;
	nng_cv_wake(w->cv);
	nng_mtx_unlock(w->mtx);
}

/* watches live as long as the process: nng calls them until the sockets
 * are gone */
static nt_watch nt_watches[32];
static int      nt_nwatches;

static nt_watch *nt_watch_new(nng_socket s)
{
	nt_watch *w;
	TT_ASSERT(nt_nwatches < 32);
	w = &nt_watches[nt_nwatches++];
	NT_OK(nng_mtx_alloc(&w->mtx));
	NT_OK(nng_cv_alloc(&w->cv, w->mtx));
	NT_OK(nng_pipe_notify(s, NNG_PIPE_EV_ADD_POST, nt_pipe_cb, w));
	NT_OK(nng_pipe_notify(s, NNG_PIPE_EV_REM_POST, nt_pipe_cb, w));
	return w;
}

/* wait until at least `added` pipes came and `removed` went */
static void nt_watch_wait(nt_watch *w, int added, int removed)
{
	nng_time dl = nng_clock() + NT_TIMEOUT_MS;
	nng_mtx_lock(w->mtx);
	while (w->added < added || w->removed < removed) {
		if (nng_cv_until(w->cv, dl) == NNG_ETIMEDOUT) {
			int a = w->added, r = w->removed;
			nng_mtx_unlock(w->mtx);
			TT_FAIL("pipes: %d added (want %d), %d removed (want %d)",
			    a, added, r, removed);
		}
	}
	nng_mtx_unlock(w->mtx);
}

static void nt_timeouts(nng_socket s)
{
	NT_OK(nng_socket_set_ms(s, NNG_OPT_RECVTIMEO, NT_TIMEOUT_MS));
	NT_OK(nng_socket_set_ms(s, NNG_OPT_SENDTIMEO, NT_TIMEOUT_MS));
	NT_OK(nng_socket_set_size(s, NNG_OPT_RECVMAXSZ, 0)); /* unlimited */
	NT_OK(nng_socket_set_ms(s, NNG_OPT_RECONNMINT, 10));
	NT_OK(nng_socket_set_ms(s, NNG_OPT_RECONNMAXT, 100));
}

/* listen on a, dial from b, wait for both ends of the pipe */
static void nt_connect(nng_socket a, nng_socket b)
{
	char     lurl[256], durl[256];
	nt_watch *wa, *wb;
	nt_urls(lurl, durl, sizeof lurl);
	wa = nt_watch_new(a);
	wb = nt_watch_new(b);
	NT_OK(nng_listen(a, lurl, NULL, 0));
	NT_OK(nng_dial(b, durl, NULL, 0));
	nt_watch_wait(wa, 1, 0);
	nt_watch_wait(wb, 1, 0);
}

/* -------------------------------------------------------- messages */
static void nt_fill(uint8_t *p, size_t n, unsigned seed)
{
	uint32_t x = seed * 2654435761u + 1;
	for (size_t i = 0; i < n; i++) {
		x = x * 1103515245u + 12345u;
		p[i] = (uint8_t) (x >> 24);
	}
}

static void nt_send(nng_socket s, size_t n, unsigned seed)
{
	nng_msg *m;
	NT_OK(nng_msg_alloc(&m, n));
	nt_fill(nng_msg_body(m), n, seed);
	NT_OK(nng_sendmsg(s, m, 0));
}

static void nt_recv_check(nng_socket s, size_t n, unsigned seed)
{
	nng_msg *m;
	uint8_t *want;
	NT_OK(nng_recvmsg(s, &m, 0));
	if (nng_msg_len(m) != n)
		TT_FAIL("got %zu bytes, want %zu (seed %u)", nng_msg_len(m), n,
		    seed);
	want = malloc(n ? n : 1);
	TT_ASSERT(want != NULL);
	nt_fill(want, n, seed);
	if (n && memcmp(want, nng_msg_body(m), n) != 0)
		TT_FAIL("content differs (%zu bytes, seed %u)", n, seed);
	free(want);
	nng_msg_free(m);
}

/* ---------------------------------------------------- every protocol */
TT_TEST(pair0_both_ways)
{
	nng_socket a, b;
	nt_need_loopback();
	NT_OK(nng_pair0_open(&a));
	NT_OK(nng_pair0_open(&b));
	nt_timeouts(a);
	nt_timeouts(b);
	nt_connect(a, b);
	for (unsigned i = 0; i < 20; i++) {
		nt_send(a, 10 + i, i);
		nt_recv_check(b, 10 + i, i);
		nt_send(b, 100 + i, 1000 + i);
		nt_recv_check(a, 100 + i, 1000 + i);
	}
	NT_OK(nng_close(a));
	NT_OK(nng_close(b));
}

TT_TEST(pair1_both_ways)
{
	nng_socket a, b;
	nt_need_loopback();
	NT_OK(nng_pair1_open(&a));
	NT_OK(nng_pair1_open(&b));
	nt_timeouts(a);
	nt_timeouts(b);
	nt_connect(a, b);
	for (unsigned i = 0; i < 20; i++) {
		nt_send(a, 10 + i, i);
		nt_send(b, 100 + i, 1000 + i);
	}
	for (unsigned i = 0; i < 20; i++) {
		nt_recv_check(b, 10 + i, i);
		nt_recv_check(a, 100 + i, 1000 + i);
	}
	NT_OK(nng_close(a));
	NT_OK(nng_close(b));
}

static void nt_req_rep(int req_listens)
{
	nng_socket req, rep;
	nt_need_loopback();
	NT_OK(nng_req0_open(&req));
	NT_OK(nng_rep0_open(&rep));
	nt_timeouts(req);
	nt_timeouts(rep);
	if (req_listens)
		nt_connect(req, rep);
	else
		nt_connect(rep, req);
	for (unsigned i = 0; i < 20; i++) {
		nt_send(req, 64 + i, i);
		nt_recv_check(rep, 64 + i, i);
		nt_send(rep, 200 + i, 500 + i);
		nt_recv_check(req, 200 + i, 500 + i);
	}
	NT_OK(nng_close(req));
	NT_OK(nng_close(rep));
}

TT_TEST(req_rep)
{
	nt_req_rep(0);
}

TT_TEST(req_rep_req_listens)
{
	nt_req_rep(1);
}

TT_TEST(pub_sub)
{
	nng_socket pub, sub;
	nng_msg *  m;
	nt_need_loopback();
	NT_OK(nng_pub0_open(&pub));
	NT_OK(nng_sub0_open(&sub));
	nt_timeouts(pub);
	nt_timeouts(sub);
	NT_OK(nng_socket_set(sub, NNG_OPT_SUB_SUBSCRIBE, "A", 1));
	/* pub drops the oldest when its queue is full: room for all */
	NT_OK(nng_socket_set_int(pub, NNG_OPT_SENDBUF, 64));
	nt_connect(pub, sub);
	for (unsigned i = 0; i < 20; i++) {
		NT_OK(nng_msg_alloc(&m, 0));
		NT_OK(nng_msg_append(m, i % 2 ? "B" : "A", 1));
		NT_OK(nng_msg_append_u32(m, i));
		NT_OK(nng_sendmsg(pub, m, 0));
	}
	for (unsigned i = 0; i < 20; i += 2) { /* only the "A" ones */
		uint32_t v;
		NT_OK(nng_recvmsg(sub, &m, 0));
		TT_EQ(nng_msg_len(m), 5);
		TT_EQ(((char *) nng_msg_body(m))[0], 'A');
		NT_OK(nng_msg_trim(m, 1));
		NT_OK(nng_msg_trim_u32(m, &v));
		TT_EQ(v, i);
		nng_msg_free(m);
	}
	NT_OK(nng_close(pub));
	NT_OK(nng_close(sub));
}

static void nt_push_pull(int push_listens)
{
	nng_socket push, pull;
	nt_need_loopback();
	NT_OK(nng_push0_open(&push));
	NT_OK(nng_pull0_open(&pull));
	nt_timeouts(push);
	nt_timeouts(pull);
	if (push_listens)
		nt_connect(push, pull);
	else
		nt_connect(pull, push);
	for (unsigned i = 0; i < 50; i++)
		nt_send(push, 1000 + i, i);
	for (unsigned i = 0; i < 50; i++)
		nt_recv_check(pull, 1000 + i, i);
	NT_OK(nng_close(push));
	NT_OK(nng_close(pull));
}

TT_TEST(push_pull)
{
	nt_push_pull(0);
}

TT_TEST(push_pull_push_listens)
{
	nt_push_pull(1);
}

TT_TEST(surveyor_respondent)
{
	nng_socket sv, rs;
	nt_need_loopback();
	NT_OK(nng_surveyor0_open(&sv));
	NT_OK(nng_respondent0_open(&rs));
	nt_timeouts(sv);
	nt_timeouts(rs);
	NT_OK(nng_socket_set_ms(sv, NNG_OPT_SURVEYOR_SURVEYTIME, NT_TIMEOUT_MS));
	nt_connect(sv, rs);
	for (unsigned i = 0; i < 10; i++) {
		nt_send(sv, 32 + i, i);
		nt_recv_check(rs, 32 + i, i);
		nt_send(rs, 48 + i, 100 + i);
		nt_recv_check(sv, 48 + i, 100 + i);
	}
	NT_OK(nng_close(sv));
	NT_OK(nng_close(rs));
}

TT_TEST(bus)
{
	nng_socket a, b, c;
	char       lurl[256], durl[256];
	nt_watch   *wa, *wb, *wc;
	nt_need_loopback();
	NT_OK(nng_bus0_open(&a));
	NT_OK(nng_bus0_open(&b));
	NT_OK(nng_bus0_open(&c));
	nt_timeouts(a);
	nt_timeouts(b);
	nt_timeouts(c);
	wa = nt_watch_new(a);
	wb = nt_watch_new(b);
	wc = nt_watch_new(c);
	nt_urls(lurl, durl, sizeof lurl);
	NT_OK(nng_listen(a, lurl, NULL, 0));
	NT_OK(nng_dial(b, durl, NULL, 0));
	NT_OK(nng_dial(c, durl, NULL, 0));
	nt_watch_wait(wa, 2, 0);
	nt_watch_wait(wb, 1, 0);
	nt_watch_wait(wc, 1, 0);
	/* a reaches both; b and c reach a (a bus does not forward) */
	nt_send(a, 77, 1);
	nt_recv_check(b, 77, 1);
	nt_recv_check(c, 77, 1);
	nt_send(b, 78, 2);
	nt_recv_check(a, 78, 2);
	nt_send(c, 79, 3);
	nt_recv_check(a, 79, 3);
	NT_OK(nng_close(a));
	NT_OK(nng_close(b));
	NT_OK(nng_close(c));
}

/* ------------------------------------------------------------- sizes */
TT_TEST(sizes_0_to_64MiB)
{
	static const size_t sizes[] = { 0, 1, 7, 100, 4064, 8160, 8161, 8192,
		65536, 1048576, 1048576 + 13, 8u << 20, 64u << 20 };
	nng_socket a, b;
	nt_need_loopback();
	NT_OK(nng_pair1_open(&a));
	NT_OK(nng_pair1_open(&b));
	nt_timeouts(a);
	nt_timeouts(b);
	nt_connect(a, b);
	for (unsigned i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
		nt_send(a, sizes[i], i);
		nt_recv_check(b, sizes[i], i);
		nt_send(b, sizes[i], 100 + i);
		nt_recv_check(a, sizes[i], 100 + i);
	}
	NT_OK(nng_close(a));
	NT_OK(nng_close(b));
}

/* both directions at once, large messages: each side sends and receives
 * in threads of its own */
typedef struct {
	nng_socket s;
	int        send;
	unsigned   seed;
	int        count;
	size_t     size;
	int        rv;
} nt_job;

static void *nt_job_run(void *arg)
{
	nt_job *j = arg;
	for (int i = 0; i < j->count && j->rv == 0; i++) {
		size_t n = j->size + (size_t) i * 4099;
		if (j->send) {
			nng_msg *m;
			if ((j->rv = nng_msg_alloc(&m, n)) != 0)
				break;
			nt_fill(nng_msg_body(m), n, j->seed + (unsigned) i);
			if ((j->rv = nng_sendmsg(j->s, m, 0)) != 0)
				nng_msg_free(m);
		} else {
			nng_msg *m;
			uint8_t *want = malloc(n ? n : 1);
			if ((j->rv = nng_recvmsg(j->s, &m, 0)) != 0) {
				free(want);
				break;
			}
			nt_fill(want, n, j->seed + (unsigned) i);
			if (nng_msg_len(m) != n ||
			    memcmp(want, nng_msg_body(m), n) != 0)
				j->rv = -1;
			free(want);
			nng_msg_free(m);
		}
	}
	return NULL;
}

TT_TEST(both_ways_at_once)
{
	nng_socket a, b;
	pthread_t  t[4];
	nt_job     j[4];
	nt_need_loopback();
	NT_OK(nng_pair1_open(&a));
	NT_OK(nng_pair1_open(&b));
	nt_timeouts(a);
	nt_timeouts(b);
	nt_connect(a, b);
	memset(j, 0, sizeof j);
	j[0] = (nt_job){ a, 1, 10, 40, 300000, 0 };
	j[1] = (nt_job){ b, 0, 10, 40, 300000, 0 };
	j[2] = (nt_job){ b, 1, 90, 40, 200000, 0 };
	j[3] = (nt_job){ a, 0, 90, 40, 200000, 0 };
	for (int i = 0; i < 4; i++)
		TT_ASSERT(pthread_create(&t[i], NULL, nt_job_run, &j[i]) == 0);
	for (int i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	for (int i = 0; i < 4; i++)
		if (j[i].rv != 0)
			TT_FAIL("job %d: %s", i,
			    j[i].rv < 0 ? "content" : nng_strerror(j[i].rv));
	NT_OK(nng_close(a));
	NT_OK(nng_close(b));
}

/* No wakeup may depend on the transport's 500 ms tick: with the tick at
 * an hour (NNG_FX_TICK_MS, read when a pipe starts), an echo thread and
 * the main thread each sleep in nng_recvmsg while the other sends, round
 * after round, in sizes that take each receive path (one cell; 20 KiB
 * and 1 MiB + 1, assembled by fabtx and adopted), then a burst each way.
 * A lost wakeup leaves a message in the ring until NT_TIMEOUT_MS: the
 * receive fails.  PAIR1 and REQ/REP (a header: two iovecs). */
typedef struct nt_echo {
	nng_socket s;
	int        count;
	int        rv;
} nt_echo;

static void *nt_echo_run(void *arg)
{
	nt_echo *x = arg;
	for (int i = 0; i < x->count && x->rv == 0; i++) {
		nng_msg *m;
		if ((x->rv = nng_recvmsg(x->s, &m, 0)) != 0)
			break;
		if ((x->rv = nng_sendmsg(x->s, m, 0)) != 0)
			nng_msg_free(m);
	}
	return NULL;
}

static void nt_wake_rounds(nng_socket a, nng_socket b, int burst)
{
	static const size_t sz[] = { 8, 4096, 20000, (1u << 20) + 1, 100 };
	pthread_t           t;
	nt_echo             x = { a, 40 + burst, 0 };
	nt_timeouts(a);
	nt_timeouts(b);
	nt_connect(a, b);
	TT_ASSERT(pthread_create(&t, NULL, nt_echo_run, &x) == 0);
	for (unsigned i = 0; i < 40; i++) {
		nt_send(b, sz[i % 5], i);
		nt_recv_check(b, sz[i % 5], i);
	}
	for (int i = 0; i < burst; i++)
		nt_send(b, 64, 1000u + (unsigned) i);
	for (int i = 0; i < burst; i++)
		nt_recv_check(b, 64, 1000u + (unsigned) i);
	pthread_join(t, NULL);
	if (x.rv != 0)
		TT_FAIL("echo thread: %s", nng_strerror(x.rv));
	NT_OK(nng_close(a));
	NT_OK(nng_close(b));
}

TT_TEST(wakeups_without_the_tick)
{
	nng_socket a, b;
	nt_need_loopback();
	setenv("NNG_FX_TICK_MS", "3600000", 1);
	NT_OK(nng_pair1_open(&a));
	NT_OK(nng_pair1_open(&b));
	nt_wake_rounds(a, b, 200);
	NT_OK(nng_rep0_open(&a));
	NT_OK(nng_req0_open(&b));
	nt_wake_rounds(a, b, 0);
	unsetenv("NNG_FX_TICK_MS");
}

/* ------------------------------------------------------ many peers */
TT_TEST(eight_dialers_one_listener)
{
	nng_socket rep, req[8];
	char       lurl[256], durl[256];
	nt_watch   *w;
	nt_need_loopback();
	NT_OK(nng_rep0_open(&rep));
	nt_timeouts(rep);
	w = nt_watch_new(rep);
	nt_urls(lurl, durl, sizeof lurl);
	NT_OK(nng_listen(rep, lurl, NULL, 0));
	for (int i = 0; i < 8; i++) {
		NT_OK(nng_req0_open(&req[i]));
		nt_timeouts(req[i]);
		NT_OK(nng_dial(req[i], durl, NULL, 0));
	}
	nt_watch_wait(w, 8, 0);
	for (unsigned r = 0; r < 5; r++) {
		for (unsigned i = 0; i < 8; i++)
			nt_send(req[i], 100 + i, r * 8 + i);
		for (unsigned i = 0; i < 8; i++) {
			/* echo: the reply carries the request back */
			nng_msg *m;
			NT_OK(nng_recvmsg(rep, &m, 0));
			NT_OK(nng_sendmsg(rep, m, 0));
		}
		for (unsigned i = 0; i < 8; i++)
			nt_recv_check(req[i], 100 + i, r * 8 + i);
	}
	for (int i = 0; i < 8; i++)
		NT_OK(nng_close(req[i]));
	NT_OK(nng_close(rep));
}

/* -------------------------------------------- peers in other processes */
/* Peers in other processes are this program again (nng cannot be used
 * in a forked child once the parent has started it): main() below runs
 *   --echo URL FD    a REP echo server on URL, "r" written to FD once bound
 *   --push URL TEXT  dials URL with PUSH, sends TEXT, waits to be killed */
static pid_t nt_spawn(const char *mode, const char *url, const char *arg)
{
	pid_t pid = fork();
	TT_ASSERT(pid >= 0);
	if (pid == 0) {
		/* rio://: the peer is another port of the emulated fabric */
		if (getenv("NT_PEER_ENV") != NULL)
			putenv(strdup(getenv("NT_PEER_ENV")));
		execl("/proc/self/exe", "test_nng", mode, url, arg, (char *) NULL);
		_exit(127);
	}
	return pid;
}

static int nt_peer_main(int argc, char **argv)
{
	nng_socket s;
	nng_msg *  m;
	if (argc < 4)
		return 2;
	if (strcmp(argv[1], "--echo") == 0) {
		int fd = atoi(argv[3]);
		if (nng_rep0_open(&s) != 0 || nng_listen(s, argv[2], NULL, 0) != 0)
			return 3;
		if (write(fd, "r", 1) != 1)
			return 4;
		for (;;) {
			if (nng_recvmsg(s, &m, 0) != 0)
				continue;
			if (nng_sendmsg(s, m, 0) != 0)
				nng_msg_free(m);
		}
	}
	if (strcmp(argv[1], "--push") == 0) {
		size_t n = strlen(argv[3]);
		if (nng_push0_open(&s) != 0 || nng_dial(s, argv[2], NULL, 0) != 0 ||
		    nng_msg_alloc(&m, n) != 0)
			return 3;
		memcpy(nng_msg_body(m), argv[3], n);
		if (nng_sendmsg(s, m, 0) != 0)
			return 4;
		for (;;)
			pause(); /* killed by the test */
	}
	return 2;
}

static pid_t nt_echo_server(const char *lurl, int ready_fd)
{
	char fd[16];
	snprintf(fd, sizeof fd, "%d", ready_fd);
	return nt_spawn("--echo", lurl, fd);
}

static void nt_wait_ready(int fd)
{
	char c;
	TT_ASSERT(read(fd, &c, 1) == 1);
}

static void nt_kill(pid_t pid)
{
	int st;
	kill(pid, SIGKILL);
	TT_ASSERT(waitpid(pid, &st, 0) == pid);
}

TT_TEST(reconnect_after_listener_restarts)
{
	char       lurl[256], durl[256];
	nng_socket req;
	nt_watch   *w;
	int        fds[2];
	pid_t      srv;
	TT_ASSERT(pipe(fds) == 0);
	nt_urls(lurl, durl, sizeof lurl);
	srv = nt_echo_server(lurl, fds[1]);
	nt_wait_ready(fds[0]);
	NT_OK(nng_req0_open(&req));
	nt_timeouts(req);
	w = nt_watch_new(req);
	NT_OK(nng_dial(req, durl, NULL, 0));
	nt_watch_wait(w, 1, 0);
	nt_send(req, 1000, 1);
	nt_recv_check(req, 1000, 1);
	/* the server is killed: noticed as the pipe going away */
	nt_kill(srv);
	nt_watch_wait(w, 1, 1);
	/* another one on the same address: the dialer reconnects */
	srv = nt_echo_server(lurl, fds[1]);
	nt_wait_ready(fds[0]);
	nt_watch_wait(w, 2, 1);
	nt_send(req, 3000, 2);
	nt_recv_check(req, 3000, 2);
	nt_kill(srv);
	NT_OK(nng_close(req));
}

/* sizes through a peer in another process (an echo server) */
TT_TEST(xproc_echo_sizes)
{
	static const size_t sizes[] = { 0, 1, 8160, 8161, 100000, 1048576,
		8u << 20 };
	char       lurl[256], durl[256];
	nng_socket req;
	nt_watch * w;
	int        fds[2];
	pid_t      srv;
	TT_ASSERT(pipe(fds) == 0);
	nt_urls(lurl, durl, sizeof lurl);
	srv = nt_echo_server(lurl, fds[1]);
	nt_wait_ready(fds[0]);
	NT_OK(nng_req0_open(&req));
	nt_timeouts(req);
	w = nt_watch_new(req);
	NT_OK(nng_dial(req, durl, NULL, 0));
	nt_watch_wait(w, 1, 0);
	for (unsigned i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
		nt_send(req, sizes[i], 40 + i);
		nt_recv_check(req, sizes[i], 40 + i);
	}
	nt_kill(srv);
	NT_OK(nng_close(req));
}

TT_TEST(killed_dialer_noticed)
{
	char       lurl[256], durl[256];
	nng_socket pull;
	nt_watch   *w;
	pid_t      pid;
	nt_urls(lurl, durl, sizeof lurl);
	nt_durl_to_me(durl, sizeof durl, lurl);
	NT_OK(nng_pull0_open(&pull));
	nt_timeouts(pull);
	w = nt_watch_new(pull);
	NT_OK(nng_listen(pull, lurl, NULL, 0));
	pid = nt_spawn("--push", durl, "alive");
	{
		nng_msg *m;
		NT_OK(nng_recvmsg(pull, &m, 0));
		TT_EQ(nng_msg_len(m), 5);
		TT_ASSERT(memcmp(nng_msg_body(m), "alive", 5) == 0);
		nng_msg_free(m);
	}
	nt_kill(pid);
	nt_watch_wait(w, 1, 1);
	/* and the listener takes the next one */
	pid = nt_spawn("--push", durl, "next");
	{
		nng_msg *m;
		NT_OK(nng_recvmsg(pull, &m, 0));
		TT_EQ(nng_msg_len(m), 4);
		nng_msg_free(m);
	}
	nt_kill(pid);
	NT_OK(nng_close(pull));
}

/* ------------------------------------------------------- dial first */
TT_TEST(dial_before_listen_reconnects)
{
	nng_socket a, b;
	char       lurl[256], durl[256];
	nt_watch   *wb;
	nt_need_loopback();
	NT_OK(nng_pair1_open(&a));
	NT_OK(nng_pair1_open(&b));
	nt_timeouts(a);
	nt_timeouts(b);
	wb = nt_watch_new(b);
	nt_urls(lurl, durl, sizeof lurl);
	/* nobody listens yet: the dialer keeps trying (NNG_OPT_RECONNMINT) */
	NT_OK(nng_dial(b, durl, NULL, NNG_FLAG_NONBLOCK));
	NT_OK(nng_listen(a, lurl, NULL, 0));
	nt_watch_wait(wb, 1, 0);
	nt_send(b, 12, 5);
	nt_recv_check(a, 12, 5);
	NT_OK(nng_close(a));
	NT_OK(nng_close(b));
}

TT_TEST(dial_refused_without_listener)
{
	nng_socket s;
	char       lurl[256], durl[256];
	int        rv;
	nt_need_loopback();
	NT_OK(nng_pair1_open(&s));
	nt_urls(lurl, durl, sizeof lurl);
	rv = nng_dial(s, durl, NULL, 0);
	TT_ASSERT(rv != 0);
	if (rv != NNG_ECONNREFUSED && rv != NNG_ETIMEDOUT)
		TT_FAIL("dial: %s", nng_strerror(rv));
	NT_OK(nng_close(s));
}

/* ------------------------------------------------- local user errors */
TT_TEST(bad_urls_refused)
{
	static const char *bad[] = { "shm://", "shm://has space",
		"shm://slash/no", "ofi://", "ofi://nohostport", "ofi://:",
		"rio://x:1", "rio://1", "rio://1:x", "scif://", "scif://a",
		"scif://0:b",
		("shm://aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa") /* too long */ };
	nng_socket s;
	NT_OK(nng_pair1_open(&s));
	for (unsigned i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		int rl = nng_listen(s, bad[i], NULL, 0);
		int rd = nng_dial(s, bad[i], NULL, NNG_FLAG_NONBLOCK);
		if (rl != NNG_EADDRINVAL && rl != NNG_EINVAL)
			TT_FAIL("listen %s: %s", bad[i], nng_strerror(rl));
		if (rd != NNG_EADDRINVAL && rd != NNG_EINVAL)
			TT_FAIL("dial %s: %s", bad[i], nng_strerror(rd));
	}
	NT_OK(nng_close(s));
}

TT_TEST(unknown_provider_refused)
{
	nng_socket s;
	int        rl, rd;
	if (!nt_is("ofi-tcp"))
		TT_SKIP("ofi:// only");
	NT_OK(nng_pair1_open(&s));
	rl = nng_listen(s, "ofi://127.0.0.1:23999?provider=nosuchprov", NULL, 0);
	rd = nng_dial(s, "ofi://127.0.0.1:23999?provider=nosuchprov", NULL, 0);
	TT_ASSERT(rl != 0);
	TT_ASSERT(rd != 0);
	NT_OK(nng_close(s));
}

TT_TEST(address_in_use)
{
	nng_socket a, b;
	char       lurl[256], durl[256];
	nt_need_loopback();
	NT_OK(nng_pair1_open(&a));
	NT_OK(nng_pair1_open(&b));
	nt_urls(lurl, durl, sizeof lurl);
	NT_OK(nng_listen(a, lurl, NULL, 0));
	TT_EQ(nng_listen(b, lurl, NULL, 0), NNG_EADDRINUSE);
	NT_OK(nng_close(a));
	NT_OK(nng_close(b));
}

/* ------------------------------------------------------------ options */
TT_TEST(recvmaxsz_closes_pipe)
{
	nng_socket a, b;
	char       lurl[256], durl[256];
	nng_listener l;
	nt_watch     *wa;
	size_t       z;
	nt_need_loopback();
	NT_OK(nng_pair0_open(&a));
	NT_OK(nng_pair0_open(&b));
	nt_timeouts(a);
	nt_timeouts(b);
	wa = nt_watch_new(a);
	nt_urls(lurl, durl, sizeof lurl);
	NT_OK(nng_listener_create(&l, a, lurl));
	NT_OK(nng_listener_set_size(l, NNG_OPT_RECVMAXSZ, 1000));
	NT_OK(nng_listener_get_size(l, NNG_OPT_RECVMAXSZ, &z));
	TT_EQ(z, 1000);
	NT_OK(nng_listener_start(l, 0));
	NT_OK(nng_dial(b, durl, NULL, 0));
	nt_watch_wait(wa, 1, 0);
	/* pair0 messages have no SP header: the limit is the body's */
	nt_send(b, 1000, 1); /* the limit itself passes */
	nt_recv_check(a, 1000, 1);
	nt_send(b, 1001, 2); /* one more: the pipe is closed */
	nt_watch_wait(wa, 1, 1);
	NT_OK(nng_close(a));
	NT_OK(nng_close(b));
}

TT_TEST(addresses_and_url)
{
	nng_socket   a, b;
	char         lurl[256], durl[256];
	nng_listener l;
	nng_sockaddr sa;
	nng_msg *    m;
	char *       url;
	nt_need_loopback();
	NT_OK(nng_pair1_open(&a));
	NT_OK(nng_pair1_open(&b));
	nt_timeouts(a);
	nt_timeouts(b);
	nt_urls(lurl, durl, sizeof lurl);
	if (nt_is("ofi-tcp")) /* port 0: the system picks one */
		snprintf(lurl, sizeof lurl, "ofi://127.0.0.1:0?provider=tcp");
	NT_OK(nng_listen(a, lurl, &l, 0));
	NT_OK(nng_listener_get_string(l, NNG_OPT_URL, &url));
	NT_OK(nng_listener_get_addr(l, NNG_OPT_LOCADDR, &sa));
	if (nt_is("ofi-tcp")) {
		TT_ASSERT(strstr(url, ":0?") == NULL);
		TT_EQ(sa.s_family, NNG_AF_INET);
		TT_ASSERT(sa.s_in.sa_port != 0);
		snprintf(durl, sizeof durl, "%s", url);
	} else {
		TT_EQ(sa.s_family, NNG_AF_IPC);
		TT_ASSERT(strcmp(sa.s_ipc.sa_path, lurl) == 0);
	}
	nng_strfree(url);
	NT_OK(nng_dial(b, durl, NULL, 0));
	nt_send(b, 3, 1);
	NT_OK(nng_recvmsg(a, &m, 0));
	NT_OK(nng_pipe_get_addr(nng_msg_get_pipe(m), NNG_OPT_LOCADDR, &sa));
	TT_EQ(sa.s_family, nt_is("ofi-tcp") ? NNG_AF_INET : NNG_AF_IPC);
	NT_OK(nng_pipe_get_addr(nng_msg_get_pipe(m), NNG_OPT_REMADDR, &sa));
	/* ofi://: the dialer's address is not known to the listener */
	TT_EQ(sa.s_family, nt_is("ofi-tcp") ? NNG_AF_UNSPEC : NNG_AF_IPC);
	nng_msg_free(m);
	nt_send(a, 3, 2);
	NT_OK(nng_recvmsg(b, &m, 0));
	NT_OK(nng_pipe_get_addr(nng_msg_get_pipe(m), NNG_OPT_REMADDR, &sa));
	TT_EQ(sa.s_family, nt_is("ofi-tcp") ? NNG_AF_INET : NNG_AF_IPC);
	nng_msg_free(m);
	NT_OK(nng_close(a));
	NT_OK(nng_close(b));
}

/* ------------------------------------------------- untrusted peers */
/* A fabtx client that is not SP: whatever it sends instead of the SP
 * header, only its own connection ends, and the listener serves others. */
static void nt_raw_peer(const void *hdr, size_t len, int silent)
{
	nng_socket   a, b;
	char         lurl[256], durl[256];
	nt_watch *   wa;
	fabtx_ctx *  ctx;
	fabtx_conn * c;
	char         buf[64];
	ssize_t      n;
	if (!nt_is("shm"))
		TT_SKIP("raw fabtx peer: shm:// only");
	NT_OK(nng_pair1_open(&a));
	NT_OK(nng_pair1_open(&b));
	nt_timeouts(a);
	nt_timeouts(b);
	wa = nt_watch_new(a);
	nt_urls(lurl, durl, sizeof lurl);
	NT_OK(nng_listen(a, lurl, NULL, 0));
	TT_EQ(fabtx_ctx_create(&ctx, NULL), 0);
	TT_EQ(fabtx_connect(ctx, durl, &c, 10000), 0);
	/* nng's side of the exchange comes first: a valid SP header */
	n = fabtx_recv(c, buf, sizeof buf, 10000);
	TT_EQ(n, 8);
	TT_ASSERT(buf[1] == 'S' && buf[2] == 'P');
	if (!silent) {
		TT_EQ(fabtx_send(c, hdr, len, 10000), (long long) len);
		/* the transport drops the connection: end of stream or reset */
		n = fabtx_recv(c, buf, sizeof buf, 15000);
		TT_ASSERT(n == -ESHUTDOWN || n == -ECONNRESET);
	}
	/* meanwhile (the silent one still connected) a real peer gets in */
	NT_OK(nng_dial(b, durl, NULL, 0));
	nt_watch_wait(wa, 1, 0);
	nt_send(b, 50, 7);
	nt_recv_check(a, 50, 7);
	nng_mtx_lock(wa->mtx);
	TT_EQ(wa->added, 1); /* the raw peer never became a pipe */
	nng_mtx_unlock(wa->mtx);
	fabtx_conn_close(c, 0);
	fabtx_ctx_destroy(ctx);
	NT_OK(nng_close(a));
	NT_OK(nng_close(b));
}

TT_TEST(raw_peer_bad_sp_header)
{
	static const unsigned char bad[8] = { 0, 'S', 'Q', 0, 0, 0x10, 0, 0 };
	nt_raw_peer(bad, sizeof bad, 0);
}

TT_TEST(raw_peer_long_sp_header)
{
	static const unsigned char bad[40] = { 0, 'S', 'P', 0, 0, 0x11 };
	nt_raw_peer(bad, sizeof bad, 0);
}

TT_TEST(raw_peer_empty_message)
{
	nt_raw_peer("", 0, 0);
}

TT_TEST(raw_peer_silent)
{
	nt_raw_peer(NULL, 0, 1);
}

int main(int argc, char **argv)
{
	if (argc > 1 && strncmp(argv[1], "--", 2) == 0)
		return nt_peer_main(argc, argv);
	return tt_main(argc, argv);
}
