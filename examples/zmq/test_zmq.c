/* SPDX-License-Identifier: MIT */
/* test_zmq.c -- ZeroMQ semantics over one transport, through the public
 * zmq API only.  The transport comes from the environment:
 *     ZT_TRANSPORT=shm | ofi-tcp | ofi-shm | rio | scif | tcp | ipc
 * (tcp and ipc are libzmq's own: they check the test itself).  Each test
 * runs in a forked child (test/tt.h).  No sleeps: waits are zmq_poll /
 * poll with deadlines, pipes and waitpid. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <zmq.h>
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "tt.h"

#define DEADLINE_MS 20000

static int ep_counter;

/* A fresh endpoint of the transport under test. */
static void ep(char *buf, size_t cap)
{
	const char *t = getenv("ZT_TRANSPORT") ? getenv("ZT_TRANSPORT") : "shm";
	int n = ep_counter++;
	/* 20000..27999: below Linux's ephemeral range (32768..60999), so no
	 * connection here holds it as its source port and a connect to an
	 * unbound port cannot connect to itself (TCP simultaneous open) */
	int port = 20000 + (int)(((unsigned)getpid() * 37u + (unsigned)n) % 8000u);
	if (strcmp(t, "shm") == 0)
		snprintf(buf, cap, "shm://zt-%d-%d", (int)getpid(), n);
	else if (strcmp(t, "ofi-tcp") == 0)
		snprintf(buf, cap, "ofi://127.0.0.1:%d?provider=tcp", port);
	else if (strcmp(t, "ofi-shm") == 0)
		snprintf(buf, cap, "ofi://127.0.0.1:%d?provider=shm", port);
	else if (strcmp(t, "rio") == 0)
		snprintf(buf, cap, "rio://*:%d", 1 + port % 60000);
	else if (strcmp(t, "scif") == 0)
		snprintf(buf, cap, "scif://%d", 1024 + port % 30000);
	else if (strcmp(t, "tcp") == 0)
		snprintf(buf, cap, "tcp://127.0.0.1:%d", port);
	else if (strcmp(t, "ipc") == 0)
		snprintf(buf, cap, "ipc:///tmp/zt-%d-%d", (int)getpid(), n);
	else
		TT_FAIL("unknown ZT_TRANSPORT %s", t);
}

/* The address a peer connects to for bind address e: the same, except
 * rio://STAR:CH (connect to our own destID) and scif://PORT (our node). */
static const char *cep_node(const char *e, const char *d)
{
	static char buf[128];
	if (strncmp(e, "rio://*:", 8) == 0) {
		snprintf(buf, sizeof buf, "rio://%s:%s", d ? d : "1", e + 8);
		return buf;
	}
	if (strncmp(e, "scif://", 7) == 0 && !strchr(e + 7, ':')) {
		const char *n = getenv("FABTX_SCIFEMU_NODE");
		snprintf(buf, sizeof buf, "scif://%s:%s", n ? n : "0", e + 7);
		return buf;
	}
	return e;
}

static const char *cep(const char *e)
{
	return cep_node(e, getenv("FABTX_RIOEMU_DESTID"));
}

/* rio_cm has no loopback: a forked peer becomes another node (destID 2) */
#define CHILD_DESTID "2"
static void become_other_node(void)
{
	if (getenv("FABTX_RIOEMU_DESTID"))
		setenv("FABTX_RIOEMU_DESTID", CHILD_DESTID, 1);
}

static void *sock(void *ctx, int type)
{
	void *s = zmq_socket(ctx, type);
	int linger = 1000, tmo = DEADLINE_MS;
	TT_ASSERT(s != NULL);
	zmq_setsockopt(s, ZMQ_LINGER, &linger, sizeof linger);
	zmq_setsockopt(s, ZMQ_RCVTIMEO, &tmo, sizeof tmo);
	zmq_setsockopt(s, ZMQ_SNDTIMEO, &tmo, sizeof tmo);
	return s;
}

/* Bind to e (a 128-byte buffer from ep()); a port someone else holds
 * (tcp, ofi) is swapped for a fresh endpoint, in place. */
static void bind_ok(void *s, char *e)
{
	int tries;
	for (tries = 0; zmq_bind(s, e) != 0; tries++) {
		if (zmq_errno() != EADDRINUSE || tries == 20 ||
		    (strncmp(e, "tcp://", 6) != 0 && strncmp(e, "ofi://", 6) != 0))
			TT_FAIL("zmq_bind(%s): %s", e, zmq_strerror(zmq_errno()));
		ep(e, 128);
	}
}

/* An endpoint from ep() nobody holds now: for a connect made before
 * anyone binds it (tcp and ofi ports are probed with a bind). */
static void ep_unbound(char *e, size_t cap)
{
	int tries;
	for (tries = 0; tries < 20; tries++) {
		struct sockaddr_in sa;
		const char *c;
		int fd, ok;
		ep(e, cap);
		if (strncmp(e, "tcp://", 6) != 0 && strncmp(e, "ofi://", 6) != 0)
			return;
		c = strrchr(e, ':');
		memset(&sa, 0, sizeof sa);
		sa.sin_family = AF_INET;
		sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		sa.sin_port = htons((uint16_t)atoi(c + 1));
		fd = socket(AF_INET, SOCK_STREAM, 0);
		TT_ASSERT(fd >= 0);
		ok = bind(fd, (struct sockaddr *)&sa, sizeof sa) == 0;
		close(fd);
		if (ok)
			return;
	}
	TT_FAIL("no unbound port found for %s", e);
}

static void connect_ok(void *s, const char *e)
{
	e = cep(e);
	if (zmq_connect(s, e) != 0)
		TT_FAIL("zmq_connect(%s): %s", e, zmq_strerror(zmq_errno()));
}

static void send_str(void *s, const char *str, int flags)
{
	if (zmq_send(s, str, strlen(str), flags) != (int)strlen(str))
		TT_FAIL("zmq_send(%s): %s", str, zmq_strerror(zmq_errno()));
}

static void recv_str(void *s, const char *want)
{
	char buf[256];
	int n = zmq_recv(s, buf, sizeof buf - 1, 0);
	if (n < 0) TT_FAIL("zmq_recv (want %s): %s", want, zmq_strerror(zmq_errno()));
	buf[n < (int)sizeof buf - 1 ? n : (int)sizeof buf - 1] = 0;
	if (strcmp(buf, want) != 0) TT_FAIL("got '%s', want '%s'", buf, want);
}

/* x asks, y answers */
static void ping_pong(void *x, void *y)
{
	send_str(x, "ping", 0);
	recv_str(y, "ping");
	send_str(y, "pong", 0);
	recv_str(x, "pong");
}

static void fill(unsigned char *p, size_t n, unsigned seed)
{
	size_t i;
	uint32_t x = seed * 2654435761u + 1;
	for (i = 0; i < n; i++) {
		x = x * 1103515245u + 12345u;
		p[i] = (unsigned char)(x >> 16);
	}
}

/* ------------------------------------------------------------ pairings */
TT_TEST(pair_both_ways)
{
	char e[128], b[64];
	int i;
	void *ctx = zmq_ctx_new(), *a, *c;
	ep(e, sizeof e);
	a = sock(ctx, ZMQ_PAIR);
	c = sock(ctx, ZMQ_PAIR);
	bind_ok(a, e);
	connect_ok(c, e);
	for (i = 0; i < 200; i++) {
		snprintf(b, sizeof b, "c2a %d", i);
		send_str(c, b, 0);
		snprintf(b, sizeof b, "a2c %d", i);
		send_str(a, b, 0);
	}
	for (i = 0; i < 200; i++) {
		snprintf(b, sizeof b, "c2a %d", i);
		recv_str(a, b);
		snprintf(b, sizeof b, "a2c %d", i);
		recv_str(c, b);
	}
	zmq_close(a);
	zmq_close(c);
	zmq_ctx_term(ctx);
}

TT_TEST(push_pull_order)
{
	char e[128], b[64];
	int i;
	void *ctx = zmq_ctx_new(), *push, *pull;
	ep(e, sizeof e);
	pull = sock(ctx, ZMQ_PULL);
	push = sock(ctx, ZMQ_PUSH);
	bind_ok(pull, e);
	connect_ok(push, e);
	for (i = 0; i < 5000; i++) {
		snprintf(b, sizeof b, "msg %d", i);
		send_str(push, b, 0);
	}
	for (i = 0; i < 5000; i++) {
		snprintf(b, sizeof b, "msg %d", i);
		recv_str(pull, b);
	}
	zmq_close(push);
	zmq_close(pull);
	zmq_ctx_term(ctx);
}

TT_TEST(req_rep)
{
	char e[128], b[64];
	int i;
	void *ctx = zmq_ctx_new(), *req, *rep;
	ep(e, sizeof e);
	rep = sock(ctx, ZMQ_REP);
	req = sock(ctx, ZMQ_REQ);
	bind_ok(rep, e);
	connect_ok(req, e);
	for (i = 0; i < 500; i++) {
		snprintf(b, sizeof b, "q%d", i);
		send_str(req, b, 0);
		recv_str(rep, b);
		snprintf(b, sizeof b, "r%d", i);
		send_str(rep, b, 0);
		recv_str(req, b);
	}
	zmq_close(req);
	zmq_close(rep);
	zmq_ctx_term(ctx);
}

/* REQ binds, REP connects: the connecting side answers */
TT_TEST(req_bind_rep_connect)
{
	char e[128];
	void *ctx = zmq_ctx_new(), *req, *rep;
	ep(e, sizeof e);
	req = sock(ctx, ZMQ_REQ);
	rep = sock(ctx, ZMQ_REP);
	bind_ok(req, e);
	connect_ok(rep, e);
	ping_pong(req, rep);
	zmq_close(req);
	zmq_close(rep);
	zmq_ctx_term(ctx);
}

TT_TEST(dealer_router)
{
	char e[128], id[32], b[64];
	int i, n;
	void *ctx = zmq_ctx_new(), *router, *dealer;
	ep(e, sizeof e);
	router = sock(ctx, ZMQ_ROUTER);
	dealer = sock(ctx, ZMQ_DEALER);
	TT_OK(zmq_setsockopt(dealer, ZMQ_ROUTING_ID, "D-one", 5));
	bind_ok(router, e);
	connect_ok(dealer, e);
	for (i = 0; i < 100; i++) {
		snprintf(b, sizeof b, "job %d", i);
		send_str(dealer, b, 0);
	}
	for (i = 0; i < 100; i++) {
		int more = 0;
		size_t ml = sizeof more;
		n = zmq_recv(router, id, sizeof id, 0);
		TT_EQ(n, 5);
		TT_ASSERT(memcmp(id, "D-one", 5) == 0);
		TT_OK(zmq_getsockopt(router, ZMQ_RCVMORE, &more, &ml));
		TT_EQ(more, 1);
		snprintf(b, sizeof b, "job %d", i);
		recv_str(router, b);
		TT_OK(zmq_send(router, id, 5, ZMQ_SNDMORE));
		snprintf(b, sizeof b, "done %d", i);
		send_str(router, b, 0);
	}
	for (i = 0; i < 100; i++) {
		snprintf(b, sizeof b, "done %d", i);
		recv_str(dealer, b);
	}
	zmq_close(router);
	zmq_close(dealer);
	zmq_ctx_term(ctx);
}

/* wait until `sub` receives a message starting with prefix, while pub keeps
 * publishing probes (subscriptions travel asynchronously) */
static void sync_sub(void *pub, void *sub, const char *probe)
{
	char buf[64];
	int i;
	for (i = 0; i < DEADLINE_MS / 10; i++) {
		zmq_pollitem_t it = {sub, 0, ZMQ_POLLIN, 0};
		send_str(pub, probe, 0);
		if (zmq_poll(&it, 1, 10) == 1) {
			int n = zmq_recv(sub, buf, sizeof buf, 0);
			TT_ASSERT(n == (int)strlen(probe));
			/* drain further probes */
			while (zmq_recv(sub, buf, sizeof buf, ZMQ_DONTWAIT) >= 0) {
			}
			return;
		}
	}
	TT_FAIL("subscription never arrived");
}

TT_TEST(pub_sub_filter)
{
	char e[128], b[64];
	int i;
	void *ctx = zmq_ctx_new(), *pub, *sub;
	ep(e, sizeof e);
	pub = sock(ctx, ZMQ_PUB);
	sub = sock(ctx, ZMQ_SUB);
	bind_ok(pub, e);
	TT_OK(zmq_setsockopt(sub, ZMQ_SUBSCRIBE, "A", 1));
	connect_ok(sub, e);
	sync_sub(pub, sub, "A-probe");
	for (i = 0; i < 300; i++) {
		snprintf(b, sizeof b, "%c %d", i % 2 ? 'B' : 'A', i);
		send_str(pub, b, 0);
	}
	send_str(pub, "A end", 0);
	for (i = 0; i < 300; i += 2) {
		snprintf(b, sizeof b, "A %d", i);
		recv_str(sub, b);
	}
	recv_str(sub, "A end"); /* no B in between */
	zmq_close(pub);
	zmq_close(sub);
	zmq_ctx_term(ctx);
}

TT_TEST(xpub_xsub)
{
	char e[128], b[64];
	int n;
	void *ctx = zmq_ctx_new(), *xpub, *xsub;
	ep(e, sizeof e);
	xpub = sock(ctx, ZMQ_XPUB);
	xsub = sock(ctx, ZMQ_XSUB);
	bind_ok(xpub, e);
	connect_ok(xsub, e);
	/* subscription goes connect -> bind side */
	TT_OK(zmq_send(xsub, "\001topic", 6, 0));
	n = zmq_recv(xpub, b, sizeof b, 0);
	TT_EQ(n, 6);
	TT_ASSERT(memcmp(b, "\001topic", 6) == 0);
	/* data goes bind -> connect side */
	send_str(xpub, "other", 0);
	send_str(xpub, "topic data", 0);
	recv_str(xsub, "topic data");
	/* unsubscribe arrives too */
	TT_OK(zmq_send(xsub, "\000topic", 6, 0));
	n = zmq_recv(xpub, b, sizeof b, 0);
	TT_EQ(n, 6);
	TT_ASSERT(memcmp(b, "\000topic", 6) == 0);
	zmq_close(xpub);
	zmq_close(xsub);
	zmq_ctx_term(ctx);
}

/* ---------------------------------------------------------- multipart */
TT_TEST(multipart)
{
	static const size_t sizes[] = {0, 1, 100, 0, 70000, 5};
	char e[128];
	unsigned char *buf = malloc(70000), *want = malloc(70000);
	int round, k;
	void *ctx = zmq_ctx_new(), *a, *c;
	TT_ASSERT(buf && want);
	ep(e, sizeof e);
	a = sock(ctx, ZMQ_DEALER);
	c = sock(ctx, ZMQ_DEALER);
	bind_ok(a, e);
	connect_ok(c, e);
	for (round = 0; round < 2; round++) {
		void *from = round ? a : c, *to = round ? c : a;
		for (k = 0; k < 6; k++) {
			fill(buf, sizes[k], (unsigned)(k + 10 * round));
			TT_EQ(zmq_send(from, buf, sizes[k], k < 5 ? ZMQ_SNDMORE : 0),
			      (int)sizes[k]);
		}
		for (k = 0; k < 6; k++) {
			int more = 0;
			size_t ml = sizeof more;
			int n = zmq_recv(to, buf, 70000, 0);
			TT_EQ(n, (int)sizes[k]);
			fill(want, sizes[k], (unsigned)(k + 10 * round));
			TT_ASSERT(memcmp(buf, want, sizes[k]) == 0);
			TT_OK(zmq_getsockopt(to, ZMQ_RCVMORE, &more, &ml));
			TT_EQ(more, k < 5);
		}
	}
	free(buf);
	free(want);
	zmq_close(a);
	zmq_close(c);
	zmq_ctx_term(ctx);
}

/* ------------------------------------------------------------- sizes */
static void size_round(void *from, void *to, size_t len, unsigned seed)
{
	zmq_msg_t m;
	unsigned char *want;
	TT_OK(zmq_msg_init_size(&m, len));
	fill((unsigned char *)zmq_msg_data(&m), len, seed);
	if (zmq_msg_send(&m, from, 0) != (int)len)
		TT_FAIL("send %zu: %s", len, zmq_strerror(zmq_errno()));
	TT_OK(zmq_msg_init(&m));
	if (zmq_msg_recv(&m, to, 0) != (int)len)
		TT_FAIL("recv %zu: %s", len, zmq_strerror(zmq_errno()));
	want = malloc(len ? len : 1);
	TT_ASSERT(want != NULL);
	fill(want, len, seed);
	if (memcmp(zmq_msg_data(&m), want, len) != 0)
		TT_FAIL("content of a %zu-byte message differs", len);
	free(want);
	zmq_msg_close(&m);
}

TT_TEST(sizes_0_to_64MiB)
{
	static const size_t sizes[] = {0,      1,       7,        8,
	                               255,    256,     8191,     8192,
	                               8193,   65535,   65536,    1 << 20,
	                               (1 << 20) + 3, 8 << 20, 64 << 20};
	char e[128];
	size_t k;
	void *ctx = zmq_ctx_new(), *a, *c;
	ep(e, sizeof e);
	a = sock(ctx, ZMQ_PAIR);
	c = sock(ctx, ZMQ_PAIR);
	bind_ok(a, e);
	connect_ok(c, e);
	for (k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
		size_round(c, a, sizes[k], (unsigned)k);
		size_round(a, c, sizes[k], (unsigned)k + 100);
	}
	zmq_close(a);
	zmq_close(c);
	zmq_ctx_term(ctx);
}

/* Large bodies the application gives away (zmq_msg_init_data) and libzmq
 * frees once the last reference goes: the free function scribbles over
 * the body first.  Over ofi:// the engine sends bodies in place
 * (fabtx_send_zc) and holds a reference until fabtx has read them; a
 * reference dropped early lets the scribble reach the wire, and the
 * receiver sees it.  40 messages of about 1 MiB queued at once, over
 * ofi:// with 32 MiB rings: more than the socket buffers take, so writes
 * are still in flight when bodies are let go. */
static int zc_freed;
static void scribble_free(void *data, void *hint)
{
	memset(data, 0xee, (size_t)(uintptr_t)hint);
	free(data);
	__atomic_add_fetch(&zc_freed, 1, __ATOMIC_RELAXED);
}
TT_TEST(given_away_bodies_arrive_intact)
{
	enum { N = 40 };
	char e[128];
	int i;
	const char *t = getenv("ZT_TRANSPORT");
	void *ctx, *push, *pull;
	unsigned char *want = malloc((1 << 20) + N * 4099);
	if (t && strncmp(t, "ofi", 3) == 0) /* before fabtx's context exists */
		setenv("FABTX_CELL_COUNT", "4096", 1);
	ctx = zmq_ctx_new();
	TT_ASSERT(want != NULL);
	ep(e, sizeof e);
	pull = sock(ctx, ZMQ_PULL);
	push = sock(ctx, ZMQ_PUSH);
	bind_ok(pull, e);
	connect_ok(push, e);
	for (i = 0; i < N; i++) {
		size_t len = (1 << 20) + (size_t)i * 4099;
		unsigned char *body = malloc(len);
		zmq_msg_t m;
		TT_ASSERT(body != NULL);
		fill(body, len, (unsigned)i + 7);
		TT_OK(zmq_msg_init_data(&m, body, len, scribble_free,
		                        (void *)(uintptr_t)len));
		TT_EQ(zmq_msg_send(&m, push, 0), (int)len);
	}
	for (i = 0; i < N; i++) {
		size_t len = (1 << 20) + (size_t)i * 4099;
		zmq_msg_t m;
		TT_OK(zmq_msg_init(&m));
		TT_EQ(zmq_msg_recv(&m, pull, 0), (int)len);
		fill(want, len, (unsigned)i + 7);
		if (memcmp(zmq_msg_data(&m), want, len) != 0)
			TT_FAIL("message %d of %zu bytes arrived changed", i, len);
		zmq_msg_close(&m);
	}
	zmq_close(push);
	zmq_close(pull);
	zmq_ctx_term(ctx);
	TT_EQ(zc_freed, N); /* every body freed once, by the end */
	free(want);
}

/* many messages in flight both ways at once (ring wrap, credits) */
TT_TEST(stream_both_ways)
{
	char e[128];
	int i, sent[2] = {0, 0}, got[2] = {0, 0};
	const int N = 3000;
	const size_t L = 3000;
	unsigned char *buf = malloc(L), *want = malloc(L);
	void *ctx = zmq_ctx_new(), *s[2];
	TT_ASSERT(buf && want);
	ep(e, sizeof e);
	s[0] = sock(ctx, ZMQ_PAIR);
	s[1] = sock(ctx, ZMQ_PAIR);
	bind_ok(s[0], e);
	connect_ok(s[1], e);
	while (got[0] < N || got[1] < N) {
		zmq_pollitem_t it[2] = {{s[0], 0, ZMQ_POLLIN | ZMQ_POLLOUT, 0},
		                        {s[1], 0, ZMQ_POLLIN | ZMQ_POLLOUT, 0}};
		TT_ASSERT(zmq_poll(it, 2, DEADLINE_MS) > 0);
		for (i = 0; i < 2; i++) {
			if ((it[i].revents & ZMQ_POLLOUT) && sent[i] < N) {
				fill(buf, L, (unsigned)(sent[i] * 2 + i));
				TT_EQ(zmq_send(s[i], buf, L, ZMQ_DONTWAIT), (int)L);
				sent[i]++;
			}
			if (it[i].revents & ZMQ_POLLIN) {
				TT_EQ(zmq_recv(s[i], buf, L, 0), (int)L);
				fill(want, L, (unsigned)(got[i] * 2 + (1 - i)));
				TT_ASSERT(memcmp(buf, want, L) == 0);
				got[i]++;
			}
		}
	}
	free(buf);
	free(want);
	zmq_close(s[0]);
	zmq_close(s[1]);
	zmq_ctx_term(ctx);
}

/* --------------------------------------------------------- many peers */
TT_TEST(eight_peers_one_socket)
{
	char e[128], b[64], id[16];
	int i, r, n, seen[8] = {0};
	void *ctx = zmq_ctx_new(), *router, *d[8];
	ep(e, sizeof e);
	router = sock(ctx, ZMQ_ROUTER);
	bind_ok(router, e);
	for (i = 0; i < 8; i++) {
		d[i] = sock(ctx, ZMQ_DEALER);
		snprintf(id, sizeof id, "peer%d", i);
		TT_OK(zmq_setsockopt(d[i], ZMQ_ROUTING_ID, id, strlen(id)));
		connect_ok(d[i], e);
	}
	for (r = 0; r < 50; r++)
		for (i = 0; i < 8; i++) {
			snprintf(b, sizeof b, "from %d round %d", i, r);
			send_str(d[i], b, 0);
		}
	for (n = 0; n < 8 * 50; n++) {
		int who;
		int len = zmq_recv(router, id, sizeof id - 1, 0);
		TT_ASSERT(len > 4);
		id[len] = 0;
		who = atoi(id + 4);
		TT_ASSERT(who >= 0 && who < 8);
		snprintf(b, sizeof b, "from %d round %d", who, seen[who]);
		recv_str(router, b); /* per-peer order holds */
		seen[who]++;
		/* answer the peer that spoke */
		TT_OK(zmq_send(router, id, (size_t)len, ZMQ_SNDMORE));
		snprintf(b, sizeof b, "to %d #%d", who, seen[who] - 1);
		send_str(router, b, 0);
	}
	for (i = 0; i < 8; i++) {
		TT_EQ(seen[i], 50);
		for (r = 0; r < 50; r++) {
			snprintf(b, sizeof b, "to %d #%d", i, r);
			recv_str(d[i], b);
		}
		zmq_close(d[i]);
	}
	zmq_close(router);
	zmq_ctx_term(ctx);
}

/* ---------------------------------------------------------------- HWM */
TT_TEST(hwm_holds_and_drains)
{
	char e[128];
	const size_t L = 64 * 1024;
	unsigned char *buf = malloc(L), *want = malloc(L);
	int hwm = 10, sent = 0, i, stalls = 0;
	void *ctx = zmq_ctx_new(), *push, *pull;
	TT_ASSERT(buf && want);
	ep(e, sizeof e);
	push = sock(ctx, ZMQ_PUSH);
	pull = sock(ctx, ZMQ_PULL);
	TT_OK(zmq_setsockopt(push, ZMQ_SNDHWM, &hwm, sizeof hwm));
	TT_OK(zmq_setsockopt(pull, ZMQ_RCVHWM, &hwm, sizeof hwm));
	bind_ok(pull, e);
	connect_ok(push, e);
	/* the receiver does not read: sends must stop after the HWMs plus
	 * what the transport buffers, not go on forever */
	for (;;) {
		zmq_pollitem_t it = {push, 0, ZMQ_POLLOUT, 0};
		if (zmq_poll(&it, 1, 200) == 0) { /* blocked for 200 ms: held */
			if (++stalls == 3) break;
			continue;
		}
		fill(buf, L, (unsigned)sent);
		if (zmq_send(push, buf, L, ZMQ_DONTWAIT) == (int)L) {
			sent++;
			stalls = 0;
		}
		TT_ASSERT(sent < 2000); /* 128 MiB buffered: the HWM did not hold */
	}
	TT_ASSERT(sent >= hwm);
	/* now drain: everything arrives, in order, and the sender resumes */
	for (i = 0; i < sent; i++) {
		TT_EQ(zmq_recv(pull, buf, L, 0), (int)L);
		fill(want, L, (unsigned)i);
		TT_ASSERT(memcmp(buf, want, L) == 0);
	}
	for (i = 0; i < 50; i++) {
		fill(buf, L, (unsigned)(sent + i));
		TT_EQ(zmq_send(push, buf, L, 0), (int)L);
		TT_EQ(zmq_recv(pull, buf, L, 0), (int)L);
		fill(want, L, (unsigned)(sent + i));
		TT_ASSERT(memcmp(buf, want, L) == 0);
	}
	printf("  hwm: %d x 64 KiB accepted before the sender blocked\n", sent);
	free(buf);
	free(want);
	zmq_close(push);
	zmq_close(pull);
	zmq_ctx_term(ctx);
}

/* ------------------------------------------------------------- restarts */
static int wait_byte(int fd, int ms)
{
	struct pollfd p = {fd, POLLIN, 0};
	char c;
	if (poll(&p, 1, ms) != 1) return -1;
	return read(fd, &c, 1) == 1 ? c : -1;
}

static int child_status(pid_t p)
{
	int st = 0;
	if (waitpid(p, &st, 0) != p) return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* Children are forked before the parent starts any libzmq thread (a
 * child forked from a threaded process can deadlock in a lock another
 * thread held, seen under ASan), and wait for their go byte. */
static void wait_go(int pfd[2])
{
	char g;
	close(pfd[1]); /* a parent that dies means EOF here, not a hang */
	if (read(pfd[0], &g, 1) != 1) _exit(9);
}
static void go(int fd) { TT_EQ(write(fd, "g", 1), 1); }

/* child: bind PULL at e, say 'r', receive until a message starting with
 * `want` arrives (or `count` exact messages), say 'd', exit */
static void pull_child(const char *e, int wfd, const char *want, int count)
{
	void *ctx, *pull;
	become_other_node();
	ctx = zmq_ctx_new();
	pull = zmq_socket(ctx, ZMQ_PULL);
	char b[64];
	int tmo = DEADLINE_MS, linger = 0, i;
	zmq_setsockopt(pull, ZMQ_RCVTIMEO, &tmo, sizeof tmo);
	zmq_setsockopt(pull, ZMQ_LINGER, &linger, sizeof linger);
	/* the previous owner of the address has exited, but a transport may
	 * release the address a moment later (the scif emulator once did,
	 * under load): retry EADDRINUSE until the deadline, like a server
	 * restarting on a TCP port */
	for (i = 0; zmq_bind(pull, e) != 0; i++) {
		struct timespec ts = {0, 10 * 1000 * 1000};
		if (zmq_errno() != EADDRINUSE || i >= DEADLINE_MS / 10) _exit(2);
		nanosleep(&ts, NULL);
	}
	if (write(wfd, "r", 1) != 1) _exit(3);
	for (i = 0; count ? i < count : 1; i++) {
		int n = zmq_recv(pull, b, sizeof b - 1, 0);
		if (n < 0) _exit(4);
		b[n] = 0;
		if (!count && strncmp(b, want, strlen(want)) == 0) break;
		if (count) {
			char exp[64];
			snprintf(exp, sizeof exp, "%s%d", want, i);
			if (strcmp(b, exp) != 0) _exit(5);
		}
	}
	if (write(wfd, "d", 1) != 1) _exit(3);
	zmq_close(pull);
	zmq_ctx_term(ctx);
	_exit(0);
}

TT_TEST(reconnect_after_bound_peer_restarts)
{
	char e[128], b[64];
	int fds[2], i, c = -1;
	pid_t p;
	void *ctx, *push;
	int g1[2], g2[2];
	pid_t p2;
	ep(e, sizeof e);
	TT_OK(pipe(fds));
	TT_OK(pipe(g1));
	p = fork();
	if (p == 0) {
		wait_go(g1);
		pull_child(e, fds[1], "first ", 10);
	}
	TT_OK(pipe(g2)); /* after: the first child holds no end of it */
	p2 = fork();
	if (p2 == 0) {
		wait_go(g2);
		pull_child(e, fds[1], "again", 0);
	}
	go(g1[1]);
	TT_EQ(wait_byte(fds[0], DEADLINE_MS), 'r');
	ctx = zmq_ctx_new();
	push = sock(ctx, ZMQ_PUSH);
	i = 100;
	TT_OK(zmq_setsockopt(push, ZMQ_RECONNECT_IVL, &i, sizeof i));
	/* the child bound it: on rio that is node CHILD_DESTID */
	if (zmq_connect(push, cep_node(e, CHILD_DESTID)) != 0)
		TT_FAIL("connect: %s", zmq_strerror(zmq_errno()));
	for (i = 0; i < 10; i++) {
		snprintf(b, sizeof b, "first %d", i);
		send_str(push, b, 0);
	}
	TT_EQ(wait_byte(fds[0], DEADLINE_MS), 'd');
	TT_EQ(child_status(p), 0);
	/* the peer is gone; a new one binds the same address */
	p = p2;
	go(g2[1]);
	TT_EQ(wait_byte(fds[0], DEADLINE_MS), 'r');
	/* keep sending until the new peer has one (messages sent while the
	 * pipe still pointed at the dead connection may be lost, as on tcp) */
	for (i = 0; i < DEADLINE_MS / 10; i++) {
		snprintf(b, sizeof b, "again %d", i);
		TT_ASSERT(zmq_send(push, b, strlen(b), ZMQ_DONTWAIT) >= 0 ||
		          zmq_errno() == EAGAIN);
		c = wait_byte(fds[0], 10);
		if (c == 'd') break;
	}
	TT_EQ(c, 'd');
	TT_EQ(child_status(p), 0);
	zmq_close(push);
	zmq_ctx_term(ctx);
}

/* the connecting peer restarts: the bound socket takes the new one */
TT_TEST(bound_socket_takes_restarted_peer)
{
	char e[128];
	int round, g[3][2];
	pid_t kid[3];
	void *ctx, *rep;
	ep(e, sizeof e);
	for (round = 0; round < 3; round++) {
		TT_OK(pipe(g[round]));
		kid[round] = fork();
		if (kid[round] == 0) {
			const char *to = cep(e);
			void *c2, *req;
			char b[32];
			int tmo = DEADLINE_MS, lg = 0, n;
			wait_go(g[round]);
			become_other_node();
			c2 = zmq_ctx_new();
			req = zmq_socket(c2, ZMQ_REQ);
			zmq_setsockopt(req, ZMQ_RCVTIMEO, &tmo, sizeof tmo);
			zmq_setsockopt(req, ZMQ_LINGER, &lg, sizeof lg);
			if (zmq_connect(req, to) != 0) _exit(2);
			if (zmq_send(req, "hi", 2, 0) != 2) _exit(3);
			n = zmq_recv(req, b, sizeof b, 0);
			if (n != 3 || memcmp(b, "ho!", 3) != 0) _exit(4);
			zmq_close(req);
			zmq_ctx_term(c2);
			_exit(0);
		}
	}
	ctx = zmq_ctx_new();
	rep = sock(ctx, ZMQ_REP);
	bind_ok(rep, e);
	for (round = 0; round < 3; round++) {
		go(g[round][1]);
		recv_str(rep, "hi");
		send_str(rep, "ho!", 0);
		TT_EQ(child_status(kid[round]), 0);
	}
	zmq_close(rep);
	zmq_ctx_term(ctx);
}

/* a peer killed with SIGKILL is noticed (monitor: disconnected) */
TT_TEST(killed_peer_is_noticed)
{
	char e[128], mon[64];
	int fds[2];
	pid_t p;
	void *ctx, *router, *m;
	int accepted = 0, gone = 0, g[2];
	ep(e, sizeof e);
	TT_OK(pipe(fds));
	TT_OK(pipe(g));
	p = fork();
	if (p == 0) {
		const char *to = cep(e);
		void *c2, *d;
		wait_go(g);
		become_other_node();
		c2 = zmq_ctx_new();
		d = zmq_socket(c2, ZMQ_DEALER);
		if (zmq_connect(d, to) != 0) _exit(2);
		if (zmq_send(d, "x", 1, 0) != 1) _exit(3);
		if (write(fds[1], "s", 1) != 1) _exit(4);
		for (;;) pause(); /* until killed */
	}
	ctx = zmq_ctx_new();
	router = sock(ctx, ZMQ_ROUTER);
	snprintf(mon, sizeof mon, "inproc://mon-%d", (int)getpid());
	TT_OK(zmq_socket_monitor(router, mon,
	                         ZMQ_EVENT_ACCEPTED | ZMQ_EVENT_DISCONNECTED));
	m = sock(ctx, ZMQ_PAIR);
	connect_ok(m, mon);
	bind_ok(router, e);
	go(g[1]);
	TT_EQ(wait_byte(fds[0], DEADLINE_MS), 's');
	{
		char id[64];
		TT_ASSERT(zmq_recv(router, id, sizeof id, 0) > 0);
		recv_str(router, "x");
	}
	kill(p, SIGKILL);
	TT_EQ(child_status(p), 128 + SIGKILL);
	while (!gone) {
		zmq_msg_t ev;
		uint16_t code;
		zmq_msg_init(&ev);
		if (zmq_msg_recv(&ev, m, 0) < 0)
			TT_FAIL("no monitor event: %s", zmq_strerror(zmq_errno()));
		memcpy(&code, zmq_msg_data(&ev), 2);
		if (code == ZMQ_EVENT_ACCEPTED) accepted = 1;
		if (code == ZMQ_EVENT_DISCONNECTED) gone = 1;
		zmq_msg_close(&ev);
		zmq_msg_init(&ev);
		zmq_msg_recv(&ev, m, 0); /* endpoint frame */
		zmq_msg_close(&ev);
	}
	TT_ASSERT(accepted);
	zmq_close(m);
	zmq_close(router);
	zmq_ctx_term(ctx);
}

/* ZMTP heartbeats run over the transport: an idle connection with a short
 * heartbeat timeout stays up (the PONGs come back), and still carries data */
TT_TEST(heartbeats_keep_idle_connection)
{
	char e[128];
	int ivl = 20, tmo = 200, i, events = 0;
	char mon[64];
	void *ctx = zmq_ctx_new(), *a, *c, *m;
	ep(e, sizeof e);
	a = sock(ctx, ZMQ_DEALER);
	c = sock(ctx, ZMQ_DEALER);
	TT_OK(zmq_setsockopt(c, ZMQ_HEARTBEAT_IVL, &ivl, sizeof ivl));
	TT_OK(zmq_setsockopt(c, ZMQ_HEARTBEAT_TIMEOUT, &tmo, sizeof tmo));
	snprintf(mon, sizeof mon, "inproc://hb-%d", (int)getpid());
	TT_OK(zmq_socket_monitor(c, mon, ZMQ_EVENT_DISCONNECTED));
	m = sock(ctx, ZMQ_PAIR);
	connect_ok(m, mon);
	bind_ok(a, e);
	connect_ok(c, e);
	send_str(c, "one", 0);
	recv_str(a, "one");
	/* idle for 5 heartbeat timeouts: no disconnect may be reported */
	for (i = 0; i < 5; i++) {
		zmq_pollitem_t it = {m, 0, ZMQ_POLLIN, 0};
		if (zmq_poll(&it, 1, tmo) == 1) events++;
	}
	TT_EQ(events, 0);
	send_str(a, "two", 0);
	recv_str(c, "two");
	zmq_close(m);
	zmq_close(a);
	zmq_close(c);
	zmq_ctx_term(ctx);
}

/* ------------------------------------------------------------ bad input */
TT_TEST(bad_endpoints)
{
	const char *t = getenv("ZT_TRANSPORT") ? getenv("ZT_TRANSPORT") : "shm";
	char e[128];
	void *ctx = zmq_ctx_new(), *s = sock(ctx, ZMQ_PAIR), *s2;
	if (strncmp(t, "shm", 3) == 0) {
		TT_EQ(zmq_bind(s, "shm://"), -1);
		TT_EQ(zmq_errno(), EINVAL);
		TT_EQ(zmq_bind(s, "shm://bad name!"), -1);
		TT_EQ(zmq_errno(), EINVAL);
		TT_EQ(zmq_connect(s, "shm://bad/name"), -1);
		TT_EQ(zmq_errno(), EINVAL);
	} else if (strncmp(t, "ofi", 3) == 0) {
		TT_EQ(zmq_bind(s, "ofi://nohostport"), -1);
		TT_EQ(zmq_errno(), EINVAL);
		TT_EQ(zmq_connect(s, "ofi://"), -1);
		TT_EQ(zmq_errno(), EINVAL);
	}
	/* the same address twice */
	ep(e, sizeof e);
	bind_ok(s, e);
	s2 = sock(ctx, ZMQ_PAIR);
	TT_EQ(zmq_bind(s2, e), -1);
	TT_EQ(zmq_errno(), EADDRINUSE);
	zmq_close(s2);
	zmq_close(s);
	zmq_ctx_term(ctx);
}

/* unbind and rebind the same address; the connecter finds it again */
TT_TEST(unbind_rebind)
{
	char e[128], last[256];
	size_t ll = sizeof last;
	int i;
	void *ctx = zmq_ctx_new(), *a = sock(ctx, ZMQ_PAIR), *c;
	ep(e, sizeof e);
	bind_ok(a, e);
	TT_OK(zmq_getsockopt(a, ZMQ_LAST_ENDPOINT, last, &ll));
	TT_ASSERT(strcmp(last, e) == 0 || strncmp(e, "tcp", 3) == 0);
	TT_OK(zmq_unbind(a, e));
	zmq_close(a);
	a = sock(ctx, ZMQ_PAIR);
	/* the old listener is torn down asynchronously by its I/O thread:
	 * retry on EADDRINUSE, with a deadline */
	for (i = 0; zmq_bind(a, e) != 0; i++) {
		TT_EQ(zmq_errno(), EADDRINUSE);
		TT_ASSERT(i < DEADLINE_MS / 10);
		zmq_poll(NULL, 0, 10);
	}
	c = sock(ctx, ZMQ_PAIR);
	connect_ok(c, e);
	send_str(c, "after rebind", 0);
	recv_str(a, "after rebind");
	zmq_close(a);
	zmq_close(c);
	zmq_ctx_term(ctx);
}

/* ZMQ_LAST_ENDPOINT is an address peers connect to.  Transports with
 * ports: HOST:* binds any free port, as with tcp://, and the option names
 * the port the system chose (not "*" or 0).  Others: the URL as bound. */
TT_TEST(last_endpoint_connects)
{
	char e[128], w[128], last[256], *colon, *end;
	size_t ll = sizeof last;
	long port;
	int ports;
	void *ctx, *a, *c;
	ep(e, sizeof e);
	ports = strncmp(e, "ofi://", 6) == 0 || strncmp(e, "tcp://", 6) == 0;
	snprintf(w, sizeof w, "%s", e);
	if (ports) { /* e with its port swapped for '*' */
		colon = strrchr(e, ':');
		end = colon + 1 + strspn(colon + 1, "0123456789");
		snprintf(w, sizeof w, "%.*s:*%s", (int)(colon - e), e, end);
	}
	ctx = zmq_ctx_new();
	a = sock(ctx, ZMQ_PAIR);
	if (zmq_bind(a, w) != 0)
		TT_FAIL("zmq_bind(%s): %s", w, zmq_strerror(zmq_errno()));
	TT_OK(zmq_getsockopt(a, ZMQ_LAST_ENDPOINT, last, &ll));
	if (ports) {
		colon = strrchr(last, ':');
		TT_ASSERT(colon != NULL);
		port = strtol(colon + 1, &end, 10);
		if (port <= 0 || port > 65535 || strlen(end) > strlen(w) ||
		    strcmp(end, w + strlen(w) - strlen(end)) != 0)
			TT_FAIL("bound %s, ZMQ_LAST_ENDPOINT %s", w, last);
	} else if (strcmp(last, w) != 0) {
		TT_FAIL("bound %s, ZMQ_LAST_ENDPOINT %s", w, last);
	}
	c = sock(ctx, ZMQ_PAIR);
	connect_ok(c, last);
	ping_pong(c, a);
	zmq_close(a);
	zmq_close(c);
	zmq_ctx_term(ctx);
}

/* ZMTP security mechanisms run unchanged over the transport (CURVE: the
 * handshake commands and then encrypted frames, both ways) */
TT_TEST(curve_encrypted)
{
	char e[128], spub[41], ssec[41], cpub[41], csec[41];
	void *ctx, *srv, *cli;
	int one = 1;
	if (!zmq_has("curve")) TT_SKIP("libzmq built without CURVE");
	TT_OK(zmq_curve_keypair(spub, ssec));
	TT_OK(zmq_curve_keypair(cpub, csec));
	ctx = zmq_ctx_new();
	ep(e, sizeof e);
	srv = sock(ctx, ZMQ_DEALER);
	cli = sock(ctx, ZMQ_DEALER);
	TT_OK(zmq_setsockopt(srv, ZMQ_CURVE_SERVER, &one, sizeof one));
	TT_OK(zmq_setsockopt(srv, ZMQ_CURVE_SECRETKEY, ssec, 40));
	TT_OK(zmq_setsockopt(cli, ZMQ_CURVE_SERVERKEY, spub, 40));
	TT_OK(zmq_setsockopt(cli, ZMQ_CURVE_PUBLICKEY, cpub, 40));
	TT_OK(zmq_setsockopt(cli, ZMQ_CURVE_SECRETKEY, csec, 40));
	bind_ok(srv, e);
	connect_ok(cli, e);
	send_str(cli, "secret hello", 0);
	recv_str(srv, "secret hello");
	send_str(srv, "secret reply", 0);
	recv_str(cli, "secret reply");
	zmq_close(srv);
	zmq_close(cli);
	zmq_ctx_term(ctx);
}

/* several I/O threads: connections, sessions and the listener are spread
 * over threads (an accepted engine runs on another thread than its
 * listener) */
TT_TEST(four_io_threads)
{
	char e[128], b[64];
	int i, k;
	void *ctx = zmq_ctx_new(), *pull, *push[6];
	TT_OK(zmq_ctx_set(ctx, ZMQ_IO_THREADS, 4));
	ep(e, sizeof e);
	pull = sock(ctx, ZMQ_PULL);
	bind_ok(pull, e);
	for (k = 0; k < 6; k++) {
		push[k] = sock(ctx, ZMQ_PUSH);
		connect_ok(push[k], e);
	}
	for (i = 0; i < 200; i++)
		for (k = 0; k < 6; k++) {
			snprintf(b, sizeof b, "%d:%d", k, i);
			send_str(push[k], b, 0);
		}
	{
		int next[6] = {0};
		for (i = 0; i < 1200; i++) {
			int n = zmq_recv(pull, b, sizeof b - 1, 0), who, seq;
			TT_ASSERT(n > 0);
			b[n] = 0;
			TT_EQ(sscanf(b, "%d:%d", &who, &seq), 2);
			TT_ASSERT(who >= 0 && who < 6);
			TT_EQ(seq, next[who]); /* per-connection order */
			next[who]++;
		}
	}
	for (k = 0; k < 6; k++) zmq_close(push[k]);
	zmq_close(pull);
	zmq_ctx_term(ctx);
}

/* both directions full at once: neither side reads until both senders are
 * blocked (input stopped and no credit on each engine), then both drain;
 * nothing may be lost or stuck */
TT_TEST(both_ways_blocked_then_drain)
{
	char e[128];
	const size_t L = 64 * 1024;
	unsigned char *buf = malloc(L), *want = malloc(L);
	int hwm = 4, sent[2] = {0, 0}, got[2] = {0, 0}, i, idle = 0;
	void *ctx = zmq_ctx_new(), *s[2];
	TT_ASSERT(buf && want);
	ep(e, sizeof e);
	for (i = 0; i < 2; i++) {
		s[i] = sock(ctx, ZMQ_DEALER);
		TT_OK(zmq_setsockopt(s[i], ZMQ_SNDHWM, &hwm, sizeof hwm));
		TT_OK(zmq_setsockopt(s[i], ZMQ_RCVHWM, &hwm, sizeof hwm));
	}
	bind_ok(s[0], e);
	connect_ok(s[1], e);
	while (idle < 3) { /* 3 rounds of 100 ms with neither side able to send */
		int moved = 0;
		for (i = 0; i < 2; i++) {
			zmq_pollitem_t it = {s[i], 0, ZMQ_POLLOUT, 0};
			if (zmq_poll(&it, 1, 50) == 1) {
				fill(buf, L, (unsigned)(sent[i] * 2 + i));
				if (zmq_send(s[i], buf, L, ZMQ_DONTWAIT) == (int)L) {
					sent[i]++;
					moved = 1;
				}
			}
			TT_ASSERT(sent[i] < 2000);
		}
		idle = moved ? 0 : idle + 1;
	}
	for (i = 0; i < 2; i++) TT_ASSERT(sent[i] >= hwm);
	/* drain both, interleaved, content and order checked */
	while (got[0] < sent[1] || got[1] < sent[0]) {
		zmq_pollitem_t it[2] = {{s[0], 0, ZMQ_POLLIN, 0},
		                        {s[1], 0, ZMQ_POLLIN, 0}};
		TT_ASSERT(zmq_poll(it, 2, DEADLINE_MS) > 0);
		for (i = 0; i < 2; i++)
			if (it[i].revents & ZMQ_POLLIN) {
				TT_EQ(zmq_recv(s[i], buf, L, 0), (int)L);
				fill(want, L, (unsigned)(got[i] * 2 + (1 - i)));
				TT_ASSERT(memcmp(buf, want, L) == 0);
				got[i]++;
			}
	}
	/* and the flow goes on both ways */
	send_str(s[0], "still", 0);
	send_str(s[1], "alive", 0);
	recv_str(s[1], "still");
	recv_str(s[0], "alive");
	printf("  blocked at %d / %d messages of 64 KiB\n", sent[0], sent[1]);
	free(buf);
	free(want);
	zmq_close(s[0]);
	zmq_close(s[1]);
	zmq_ctx_term(ctx);
}

/* The next event of a socket monitor (its endpoint frame skipped). */
static uint16_t next_event(void *m)
{
	unsigned char f[64];
	uint16_t ev;
	int more = 0;
	size_t ml = sizeof more;
	TT_ASSERT(zmq_recv(m, f, sizeof f, 0) >= 6);
	memcpy(&ev, f, 2);
	do {
		TT_OK(zmq_getsockopt(m, ZMQ_RCVMORE, &more, &ml));
		if (more) TT_ASSERT(zmq_recv(m, f, sizeof f, 0) >= 0);
	} while (more);
	return ev;
}

/* The connecting socket's monitor events until its ZMTP handshake is
 * done, into ev (at most cap); returns how many. */
static int connect_events(void *m, uint16_t *ev, int cap)
{
	int n = 0;
	do {
		TT_ASSERT(n < cap);
		ev[n] = next_event(m);
	} while (ev[n++] != ZMQ_EVENT_HANDSHAKE_SUCCEEDED);
	return n;
}

/* The events of the attempt that succeeded (those after the last
 * CONNECT_RETRIED before CONNECTED) are tcp://'s: CONNECT_DELAYED while
 * the connect is under way (tcp:// may also connect at once and skip it;
 * fabtx's always waits for the server's answer), then CONNECTED, and no
 * CLOSED in between (issue 17: the connecter closed its helper's eventfd
 * before it reported the connection). */
static void check_connect_events(const uint16_t *ev, int n)
{
	const char *t = getenv("ZT_TRANSPORT") ? getenv("ZT_TRANSPORT") : "shm";
	int i, from = 0, conn = -1, delayed = 0;
	for (i = 0; i < n && conn < 0; i++) {
		if (ev[i] == ZMQ_EVENT_CONNECT_RETRIED) from = i + 1;
		if (ev[i] == ZMQ_EVENT_CONNECTED) conn = i;
	}
	TT_ASSERT(conn >= 0);
	for (i = from; i < conn; i++) {
		if (ev[i] == ZMQ_EVENT_CLOSED)
			TT_FAIL("CLOSED (event %d) before CONNECTED (event %d)", i, conn);
		if (ev[i] == ZMQ_EVENT_CONNECT_DELAYED) delayed = 1;
	}
	if (strcmp(t, "tcp") != 0 && strcmp(t, "ipc") != 0) TT_ASSERT(delayed);
	for (i = conn + 1; i < n; i++)
		TT_ASSERT(ev[i] != ZMQ_EVENT_CONNECTED && ev[i] != ZMQ_EVENT_CLOSED);
}

/* Monitor events of a connect as over tcp://: first to a bound socket
 * (one attempt: no CLOSED, no retry at all), then one whose first
 * attempts find nobody listening (retried on the reconnect timer, and the
 * attempt that reaches the new listener is reported like the first). */
TT_TEST(connect_events_like_tcp)
{
	char e[128], mon[64];
	uint16_t ev[256];
	int n, i, ivl = 20;
	void *ctx = zmq_ctx_new(), *a, *c, *m;
	ep(e, sizeof e);
	a = sock(ctx, ZMQ_PAIR);
	bind_ok(a, e);
	c = sock(ctx, ZMQ_PAIR);
	snprintf(mon, sizeof mon, "inproc://cev-%d", (int)getpid());
	TT_OK(zmq_socket_monitor(c, mon, ZMQ_EVENT_ALL));
	m = sock(ctx, ZMQ_PAIR);
	TT_OK(zmq_connect(m, mon));
	connect_ok(c, e);
	n = connect_events(m, ev, 256);
	for (i = 0; i < n; i++)
		TT_ASSERT(ev[i] != ZMQ_EVENT_CONNECT_RETRIED &&
		          ev[i] != ZMQ_EVENT_CLOSED);
	check_connect_events(ev, n);
	ping_pong(c, a);
	zmq_close(c);
	while (next_event(m) != ZMQ_EVENT_MONITOR_STOPPED) {}
	zmq_close(m);
	zmq_close(a);

	/* nobody listens yet */
	ep_unbound(e, sizeof e);
	c = sock(ctx, ZMQ_PAIR);
	TT_OK(zmq_setsockopt(c, ZMQ_RECONNECT_IVL, &ivl, sizeof ivl));
	snprintf(mon, sizeof mon, "inproc://cev2-%d", (int)getpid());
	TT_OK(zmq_socket_monitor(c, mon, ZMQ_EVENT_ALL));
	m = sock(ctx, ZMQ_PAIR);
	TT_OK(zmq_connect(m, mon));
	connect_ok(c, e);
	n = 0;
	do {
		TT_ASSERT(n < 256);
		ev[n] = next_event(m);
		TT_ASSERT(ev[n] != ZMQ_EVENT_CONNECTED);
	} while (ev[n++] != ZMQ_EVENT_CONNECT_RETRIED);
	a = sock(ctx, ZMQ_PAIR);
	if (zmq_bind(a, e) != 0)
		TT_FAIL("zmq_bind(%s): %s", e, zmq_strerror(zmq_errno()));
	n += connect_events(m, ev + n, 256 - n);
	check_connect_events(ev, n);
	ping_pong(c, a);
	zmq_close(c);
	zmq_close(m);
	zmq_close(a);
	zmq_ctx_term(ctx);
}

/* A socket closed while the rest of its last message waits for credits
 * (the peer reads nothing yet) must not hold up the other sockets of its
 * I/O thread, and the message is still delivered whole once the peer
 * reads.  libzmq ends the engine when ZMQ_LINGER is up (its session waits
 * for the message in progress); the rest then has a linger time of its
 * own.  The old engine blocked its I/O thread for that time: the pair's
 * ping-pong waited, and the message's tail was lost.  libzmq's tcp:// and
 * ipc:// drop an engine's unwritten bytes at close, so they are not run. */
TT_TEST(lingering_close_blocks_no_other_socket)
{
	enum { N = 3 };
	const size_t L = 8u << 20; /* several rings' worth */
	const char *t = getenv("ZT_TRANSPORT") ? getenv("ZT_TRANSPORT") : "shm";
	char e[128], e2[128], mon[64];
	unsigned char *buf = malloc(L), *want = malloc(L);
	void *ca = zmq_ctx_new(), *cb = zmq_ctx_new(), *x, *p, *y, *z, *m;
	int one = 1, lg = 3000, i;
	TT_ASSERT(buf && want);
	if (strcmp(t, "tcp") == 0 || strcmp(t, "ipc") == 0)
		TT_SKIP("libzmq's own transport drops unwritten bytes at close");
	/* the peer, reading nothing for now, in a context of its own */
	p = sock(cb, ZMQ_PULL);
	TT_OK(zmq_setsockopt(p, ZMQ_RCVHWM, &one, sizeof one));
	ep(e, sizeof e);
	bind_ok(p, e);
	/* the closing socket and a pair, all on ca's one I/O thread; x is
	 * watched from the start: sending begins once its ZMTP handshake is
	 * done (else the session's linger could end before it connects) */
	x = sock(ca, ZMQ_PUSH);
	TT_OK(zmq_setsockopt(x, ZMQ_LINGER, &lg, sizeof lg));
	snprintf(mon, sizeof mon, "inproc://linger-mon-%d", (int)getpid());
	TT_OK(zmq_socket_monitor(x, mon, ZMQ_EVENT_ALL));
	m = sock(ca, ZMQ_PAIR);
	TT_OK(zmq_connect(m, mon));
	connect_ok(x, e);
	while (next_event(m) != ZMQ_EVENT_HANDSHAKE_SUCCEEDED) {}
	y = sock(ca, ZMQ_PAIR);
	z = sock(ca, ZMQ_PAIR);
	ep(e2, sizeof e2);
	bind_ok(y, e2);
	connect_ok(z, e2);
	ping_pong(z, y);
	/* p's pipe takes one, its decoder one; the third fills the ring and
	 * the rest of it stays with x's engine */
	for (i = 0; i < N; i++) {
		fill(buf, L, (unsigned)i + 40);
		TT_EQ(zmq_send(x, buf, L, 0), (int)L);
	}
	/* once x is gone for good (its engines ended), the pair runs */
	zmq_close(x);
	while (next_event(m) != ZMQ_EVENT_MONITOR_STOPPED) {}
	zmq_close(m);
	for (i = 0; i < 3; i++) ping_pong(z, y);
	for (i = 0; i < N; i++) {
		int n = zmq_recv(p, buf, L, 0);
		if (n != (int)L)
			TT_FAIL("message %d of %d: %d bytes (%s)", i + 1, N, n,
			        n < 0 ? zmq_strerror(zmq_errno()) : "short");
		fill(want, L, (unsigned)i + 40);
		TT_ASSERT(memcmp(buf, want, L) == 0);
	}
	zmq_close(y);
	zmq_close(z);
	zmq_close(p);
	zmq_ctx_term(ca);
	zmq_ctx_term(cb);
	free(buf);
	free(want);
}

/* A hostile client of shm://E: it connects to the listener's control
 * socket (fabtx.h: SOCK_SEQPACKET, abstract name "\0fabtx-shm:NAME") and
 * never says a word, so fabtx's handshake waits for it (up to its bound). */
static int silent_shm_client(const char *e)
{
	static const char pfx[] = "fabtx-shm:";
	struct sockaddr_un sa;
	const char *name = e + 6;
	size_t n = strlen(name);
	int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0 || n + sizeof pfx > sizeof sa.sun_path) return -1;
	memset(&sa, 0, sizeof sa);
	sa.sun_family = AF_UNIX;
	memcpy(sa.sun_path + 1, pfx, sizeof pfx - 1);
	memcpy(sa.sun_path + sizeof pfx, name, n);
	if (connect(fd, (struct sockaddr *)&sa,
	            (socklen_t)(offsetof(struct sockaddr_un, sun_path) + sizeof pfx + n)) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Keeps SILENT silent clients knocking at e until stop_fd is readable:
 * one the server drops (handshake bound) is replaced at once. */
enum { SILENT = 8 };
struct silence {
	const char *e;
	int stop_fd, ready_fd;
	int fds[SILENT];
	int first; /* clients connected at the start (set once, before ready) */
};

static void *keep_silent(void *arg)
{
	struct silence *s = arg;
	int i;
	for (i = 0; i < SILENT; i++) {
		s->fds[i] = silent_shm_client(s->e);
		s->first += s->fds[i] >= 0;
	}
	if (write(s->ready_fd, "r", 1) != 1) return NULL;
	for (;;) {
		struct pollfd p[SILENT + 1];
		p[0].fd = s->stop_fd;
		p[0].events = POLLIN;
		for (i = 0; i < SILENT; i++) {
			p[i + 1].fd = s->fds[i];
			p[i + 1].events = POLLIN;
		}
		if (poll(p, SILENT + 1, -1) < 0) continue;
		if (p[0].revents) break;
		for (i = 0; i < SILENT; i++) {
			char junk[256];
			if (!p[i + 1].revents) continue;
			/* whatever the server says goes unanswered; its hang-up
			 * (or error) gets the next silent client in line */
			if ((p[i + 1].revents & POLLIN) &&
			    recv(s->fds[i], junk, sizeof junk, MSG_DONTWAIT) > 0)
				continue;
			close(s->fds[i]);
			s->fds[i] = silent_shm_client(s->e);
		}
	}
	for (i = 0; i < SILENT; i++)
		if (s->fds[i] >= 0) close(s->fds[i]);
	return NULL;
}

/* Clients that connect and then say nothing must not stall the I/O
 * thread.  A blocking fabtx_accept waited for a client's handshake (1 s
 * each), and the listener once accepted in the I/O thread, looping while
 * connections were pending: with eight silent clients always in line, a
 * PUSH/PULL pair on the same context got nothing through (the I/O thread
 * never came back).  Now the listener runs in the I/O thread with
 * fabtx_accept(..., 0), which never waits (the core runs the handshakes
 * side by side, each bounded); the pair runs meanwhile, the listener
 * takes a real client while the silent ones hold their places, and
 * another once they are gone.  The
 * silent client is made with shm://'s control socket; other transports
 * are skipped. */
TT_TEST(silent_clients_block_no_other_socket)
{
	const char *t = getenv("ZT_TRANSPORT") ? getenv("ZT_TRANSPORT") : "shm";
	char e[128];
	void *ctx = zmq_ctx_new(), *p, *a, *b;
	struct silence s;
	pthread_t th;
	int sp[2], rp[2], i;
	if (strcmp(t, "shm") != 0)
		TT_SKIP("a silent client is made with shm://'s control socket");
	p = sock(ctx, ZMQ_PULL);
	ep(e, sizeof e);
	bind_ok(p, e);
	a = sock(ctx, ZMQ_PUSH);
	connect_ok(a, e);
	send_str(a, "before", 0);
	recv_str(p, "before");
	TT_OK(pipe(sp));
	TT_OK(pipe(rp));
	memset(&s, 0, sizeof s);
	s.e = e;
	s.stop_fd = sp[0];
	s.ready_fd = rp[1];
	TT_OK(pthread_create(&th, NULL, keep_silent, &s));
	TT_EQ(wait_byte(rp[0], DEADLINE_MS), 'r');
	TT_EQ(s.first, SILENT);
	for (i = 0; i < 20; i++) {
		char m[32];
		snprintf(m, sizeof m, "while silent %d", i);
		send_str(a, m, 0);
		recv_str(p, m);
	}
	/* a client that does talk gets in past the silent ones */
	b = sock(ctx, ZMQ_PUSH);
	connect_ok(b, e);
	send_str(b, "during", 0);
	recv_str(p, "during");
	zmq_close(b);
	TT_EQ(write(sp[1], "s", 1), 1);
	TT_OK(pthread_join(th, NULL));
	/* and after they are gone */
	b = sock(ctx, ZMQ_PUSH);
	connect_ok(b, e);
	send_str(b, "after", 0);
	recv_str(p, "after");
	zmq_close(a);
	zmq_close(b);
	zmq_close(p);
	zmq_ctx_term(ctx);
	close(sp[0]);
	close(sp[1]);
	close(rp[0]);
	close(rp[1]);
}

/* A server that takes the connection and never answers must not hold a
 * connecter (nor its I/O thread): ZMQ_CONNECT_TIMEOUT ends each attempt
 * (CLOSED, then CONNECT_RETRIED), and without it the fabtx handshake's
 * own bound (handshake_ms) does, noticed by the connecter's tick.  The
 * silent server is a shm:// control socket that listens and never
 * accepts; other transports are skipped. */
TT_TEST(silent_server_is_given_up)
{
	static const char pfx[] = "fabtx-shm:";
	const char *t = getenv("ZT_TRANSPORT") ? getenv("ZT_TRANSPORT") : "shm";
	char e[128], e2[128], mon[64], mon2[64];
	struct sockaddr_un sa;
	int fd, tmo = 200, ivl = 50, retried = 0, closed = 0, delayed = 0;
	size_t n;
	void *ctx, *c, *m, *y, *z;
	uint16_t ev;
	if (strcmp(t, "shm") != 0)
		TT_SKIP("the silent server is made with shm://'s control socket");
	ep(e, sizeof e);
	n = strlen(e + 6);
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	TT_ASSERT(fd >= 0 && n + sizeof pfx <= sizeof sa.sun_path);
	memset(&sa, 0, sizeof sa);
	sa.sun_family = AF_UNIX;
	memcpy(sa.sun_path + 1, pfx, sizeof pfx - 1);
	memcpy(sa.sun_path + sizeof pfx, e + 6, n);
	TT_OK(bind(fd, (struct sockaddr *)&sa,
	           (socklen_t)(offsetof(struct sockaddr_un, sun_path) + sizeof pfx + n)));
	TT_OK(listen(fd, 64));
	ctx = zmq_ctx_new();
	c = sock(ctx, ZMQ_DEALER);
	TT_OK(zmq_setsockopt(c, ZMQ_CONNECT_TIMEOUT, &tmo, sizeof tmo));
	TT_OK(zmq_setsockopt(c, ZMQ_RECONNECT_IVL, &ivl, sizeof ivl));
	snprintf(mon, sizeof mon, "inproc://silent-srv-%d", (int)getpid());
	TT_OK(zmq_socket_monitor(c, mon, ZMQ_EVENT_ALL));
	m = sock(ctx, ZMQ_PAIR);
	TT_OK(zmq_connect(m, mon));
	connect_ok(c, e);
	/* a pair on the same I/O thread runs meanwhile */
	y = sock(ctx, ZMQ_PAIR);
	z = sock(ctx, ZMQ_PAIR);
	ep(e2, sizeof e2);
	bind_ok(y, e2);
	connect_ok(z, e2);
	while (retried < 2) {
		ev = next_event(m);
		TT_ASSERT(ev != ZMQ_EVENT_CONNECTED);
		if (ev == ZMQ_EVENT_CONNECT_DELAYED) delayed++;
		if (ev == ZMQ_EVENT_CLOSED) closed++;
		if (ev == ZMQ_EVENT_CONNECT_RETRIED) {
			TT_EQ(closed, retried + 1); /* the attempt was closed first */
			retried++;
			ping_pong(z, y);
		}
	}
	TT_ASSERT(delayed >= 2);
	zmq_close(c);
	while (next_event(m) != ZMQ_EVENT_MONITOR_STOPPED) {}
	zmq_close(m);
	/* no ZMQ_CONNECT_TIMEOUT: the handshake's own bound (5 s) */
	c = sock(ctx, ZMQ_DEALER);
	snprintf(mon2, sizeof mon2, "inproc://silent-srv2-%d", (int)getpid());
	TT_OK(zmq_socket_monitor(c, mon2, ZMQ_EVENT_ALL));
	m = sock(ctx, ZMQ_PAIR);
	TT_OK(zmq_connect(m, mon2));
	connect_ok(c, e);
	do {
		ev = next_event(m);
		TT_ASSERT(ev != ZMQ_EVENT_CONNECTED);
	} while (ev != ZMQ_EVENT_CLOSED);
	TT_EQ(next_event(m), ZMQ_EVENT_CONNECT_RETRIED);
	ping_pong(z, y);
	zmq_close(c);
	zmq_close(m);
	zmq_close(y);
	zmq_close(z);
	zmq_ctx_term(ctx);
	close(fd);
}

/* A peer that sends a message over ZMQ_MAXMSGSIZE is dropped: libzmq's
 * decoder refuses it and the engine ends with a protocol error (the fabtx
 * connection goes through the engine's error path and teardown).  The
 * connecting side notices, reconnects, and messages within the limit flow
 * again, in order; the oversized one is gone.  (What the sender writes
 * before it has noticed goes down with the old connection, on tcp:// as
 * here, so it sends again only once it has reconnected.)  Also run over
 * tcp://, the reference. */
TT_TEST(oversized_message_drops_the_peer)
{
	char e[128], mon[64], mon2[64];
	unsigned char big[2000];
	int64_t maxmsg = 1000;
	int accepted = 0, state = 0;
	void *ctx = zmq_ctx_new(), *pull, *push, *m, *m2;
	memset(big, 0x5a, sizeof big);
	pull = sock(ctx, ZMQ_PULL);
	TT_OK(zmq_setsockopt(pull, ZMQ_MAXMSGSIZE, &maxmsg, sizeof maxmsg));
	snprintf(mon, sizeof mon, "inproc://maxmsg-pull-%d", (int)getpid());
	TT_OK(zmq_socket_monitor(pull, mon,
	                         ZMQ_EVENT_ACCEPTED | ZMQ_EVENT_DISCONNECTED));
	m = sock(ctx, ZMQ_PAIR);
	TT_OK(zmq_connect(m, mon));
	ep(e, sizeof e);
	bind_ok(pull, e);
	push = sock(ctx, ZMQ_PUSH);
	snprintf(mon2, sizeof mon2, "inproc://maxmsg-push-%d", (int)getpid());
	TT_OK(zmq_socket_monitor(push, mon2,
	                         ZMQ_EVENT_DISCONNECTED |
	                             ZMQ_EVENT_HANDSHAKE_SUCCEEDED));
	m2 = sock(ctx, ZMQ_PAIR);
	TT_OK(zmq_connect(m2, mon2));
	connect_ok(push, e);
	send_str(push, "before", 0);
	recv_str(pull, "before");
	TT_EQ(zmq_send(push, big, sizeof big, 0), (int)sizeof big);
	/* the bound side drops the peer it had accepted once */
	for (;;) {
		uint16_t ev = next_event(m);
		if (ev == ZMQ_EVENT_ACCEPTED) accepted++;
		if (ev == ZMQ_EVENT_DISCONNECTED) break;
	}
	TT_EQ(accepted, 1);
	/* the sender: handshake, disconnect, handshake again */
	while (state < 3) {
		uint16_t ev = next_event(m2);
		if (ev == ZMQ_EVENT_HANDSHAKE_SUCCEEDED && state != 1) state++;
		else if (ev == ZMQ_EVENT_DISCONNECTED && state == 1) state++;
	}
	send_str(push, "after 1", 0);
	send_str(push, "after 2", 0);
	recv_str(pull, "after 1"); /* not the 2000 bytes: they were refused */
	recv_str(pull, "after 2");
	zmq_close(push);
	zmq_close(pull);
	zmq_close(m);
	zmq_close(m2);
	zmq_ctx_term(ctx);
}

/* the same size ladder with the peer in another process (the only form
 * rio:// and ofi://?provider=shm can run): the child echoes every message
 * back, the parent checks content both ways */
TT_TEST(xproc_sizes_echo)
{
	static const size_t sizes[] = {0, 1, 8191, 8193, 65536, 1 << 20,
	                               (8 << 20) + 5, 64 << 20};
	const int ns = (int)(sizeof sizes / sizeof sizes[0]);
	char e[128];
	int fds[2], k;
	pid_t p;
	void *ctx, *s;
	ep(e, sizeof e);
	TT_OK(pipe(fds));
	p = fork();
	if (p == 0) {
		void *c2, *echo;
		int tmo = DEADLINE_MS, lg = 1000, i;
		become_other_node();
		c2 = zmq_ctx_new();
		echo = zmq_socket(c2, ZMQ_PAIR);
		zmq_setsockopt(echo, ZMQ_RCVTIMEO, &tmo, sizeof tmo);
		zmq_setsockopt(echo, ZMQ_LINGER, &lg, sizeof lg);
		if (zmq_bind(echo, e) != 0) _exit(2);
		if (write(fds[1], "r", 1) != 1) _exit(3);
		for (i = 0; i < ns; i++) {
			zmq_msg_t m;
			zmq_msg_init(&m);
			if (zmq_msg_recv(&m, echo, 0) != (int)sizes[i]) _exit(4);
			if (zmq_msg_send(&m, echo, 0) != (int)sizes[i]) _exit(5);
		}
		zmq_close(echo);
		zmq_ctx_term(c2);
		_exit(0);
	}
	TT_EQ(wait_byte(fds[0], DEADLINE_MS), 'r');
	ctx = zmq_ctx_new();
	s = sock(ctx, ZMQ_PAIR);
	if (zmq_connect(s, cep_node(e, CHILD_DESTID)) != 0)
		TT_FAIL("connect: %s", zmq_strerror(zmq_errno()));
	for (k = 0; k < ns; k++)
		size_round(s, s, sizes[k], (unsigned)k + 7);
	TT_EQ(child_status(p), 0);
	zmq_close(s);
	zmq_ctx_term(ctx);
}

static const char *transport(void)
{
	return getenv("ZT_TRANSPORT") ? getenv("ZT_TRANSPORT") : "shm";
}

/* ZMQ_STREAM exchanges raw bytes with a non-ZeroMQ TCP peer: over a fabtx
 * transport it is refused at once (ENOCOMPATPROTO, as libzmq refuses udp://
 * for a PUSH), not accepted and then retried forever (issue 17) */
TT_TEST(stream_socket_refused)
{
	char e[128];
	void *ctx = zmq_ctx_new(), *raw = sock(ctx, ZMQ_STREAM);
	void *raw2 = sock(ctx, ZMQ_STREAM), *pair = sock(ctx, ZMQ_PAIR);
	int tcp = strcmp(transport(), "tcp") == 0 ||
	          strcmp(transport(), "ipc") == 0;
	ep(e, sizeof e);
	if (tcp) {
		bind_ok(raw, e); /* the reference: libzmq's own transports */
	} else {
		TT_EQ(zmq_bind(raw, e), -1);
		TT_EQ(zmq_errno(), ENOCOMPATPROTO);
		bind_ok(pair, e);
		TT_EQ(zmq_connect(raw2, cep(e)), -1);
		TT_EQ(zmq_errno(), ENOCOMPATPROTO);
	}
	zmq_close(pair);
	zmq_close(raw2);
	zmq_close(raw);
	zmq_ctx_term(ctx);
}

/* ofi://STAR:PORT as tcp://STAR:PORT: the bind takes every address,
 * ZMQ_LAST_ENDPOINT names one a peer can connect to (0.0.0.0) and unbinds
 * it, and connecting to the wildcard host is refused at
 * zmq_connect (EINVAL) instead of retrying forever (issue 17) */
TT_TEST(wildcard_host_like_tcp)
{
	char e[128], wild[160], last[256], bad[160];
	size_t len = sizeof last;
	void *ctx, *pull, *push, *push2;
	if (strcmp(transport(), "tcp") != 0 && strncmp(transport(), "ofi", 3) != 0)
		TT_SKIP("host addresses are tcp:// and ofi:// only");
	ep_unbound(e, sizeof e);
	/* tcp://127.0.0.1:PORT -> tcp://STAR:PORT, same for ofi:// + query */
	snprintf(wild, sizeof wild, "%.6s*%s", e, strrchr(e, ':'));
	snprintf(bad, sizeof bad, "%s", wild);
	ctx = zmq_ctx_new();
	pull = sock(ctx, ZMQ_PULL);
	push = sock(ctx, ZMQ_PUSH);
	push2 = sock(ctx, ZMQ_PUSH);
	if (zmq_bind(pull, wild) != 0)
		TT_FAIL("bind %s: %s", wild, zmq_strerror(zmq_errno()));
	TT_OK(zmq_getsockopt(pull, ZMQ_LAST_ENDPOINT, last, &len));
	TT_ASSERT(strstr(last, "://0.0.0.0:") != NULL);
	TT_EQ(zmq_connect(push2, bad), -1);
	TT_EQ(zmq_errno(), EINVAL);
	connect_ok(push, last);
	send_str(push, "through 0.0.0.0", 0);
	recv_str(pull, "through 0.0.0.0");
	TT_OK(zmq_unbind(pull, last)); /* as tcp://: not the * form */
	zmq_close(push2);
	zmq_close(push);
	zmq_close(pull);
	zmq_ctx_term(ctx);
}

/* Message metadata a ZeroMQ user reads about the peer (issue 17): over
 * ofi:// the peer's IP address, as tcp://; over shm:// its credentials,
 * as ipc:// gives them ("localhost:uid:gid:pid"); with it ZMQ_SRCFD (the
 * engine's fd). */
TT_TEST(peer_metadata)
{
	char e[128], want[64];
	const char *t = transport(), *got;
	void *ctx = zmq_ctx_new(), *a = sock(ctx, ZMQ_PAIR), *b = sock(ctx, ZMQ_PAIR);
	zmq_msg_t m;
	if (strcmp(t, "rio") == 0 || strcmp(t, "scif") == 0)
		TT_SKIP("no peer address on %s yet", t);
	if (strncmp(t, "ofi", 3) == 0 || strcmp(t, "tcp") == 0)
		snprintf(want, sizeof want, "127.0.0.1");
	else /* as libzmq reports an ipc:// peer: its credentials */
		snprintf(want, sizeof want, "localhost:%u:%u:%ld",
		         (unsigned)getuid(), (unsigned)getgid(), (long)getpid());
	ep(e, sizeof e);
	bind_ok(a, e);
	connect_ok(b, cep(e));
	send_str(b, "who", 0);
	zmq_msg_init(&m);
	TT_EQ(zmq_msg_recv(&m, a, 0), 3);
	got = zmq_msg_gets(&m, "Peer-Address");
	if (!got || strcmp(got, want) != 0)
		TT_FAIL("Peer-Address %s, want %s", got ? got : "(none)", want);
	TT_ASSERT(zmq_msg_get(&m, ZMQ_SRCFD) >= 0);
	zmq_msg_close(&m);
	zmq_close(b);
	zmq_close(a);
	zmq_ctx_term(ctx);
}

/* Peers that connect one after the other while the bound side is busy
 * are all attached, each exactly once, as over tcp:// (issue 17: over
 * ofi:// a round-robin sender's order was far from connect order and
 * libzmq's test_spec_req hung).  Per round: a bound PUSH, 8 PULLs connect
 * in turn; once the PUSH's monitor has seen all 8 handshakes, 8 messages
 * reach 8 different PULLs.  Which PULL gets which is libzmq's attach
 * order, the order in which the ZMTP handshakes finish on the bound side:
 * connect order on a quiet machine, on every transport, but not a
 * promise of libzmq even over tcp:// (under ASan it was not, on tcp://
 * and shm:// alike), so it is counted and printed, not asserted.  The
 * core's own order (fabtx_accept hands out in arrival order) is asserted
 * in test_hostile's accept_hands_out_in_arrival_order.  rio:// has no
 * loopback. */
TT_TEST(concurrent_connects_each_attached_once)
{
	enum { PEERS = 8, ROUNDS = 6 };
	int r, i, in_order = 0;
	void *ctx = zmq_ctx_new();
	if (strcmp(transport(), "rio") == 0) TT_SKIP("no loopback on rio://");
	for (r = 0; r < ROUNDS; r++) {
		char e[128], mep[64], want[16];
		void *push = sock(ctx, ZMQ_PUSH), *m = sock(ctx, ZMQ_PAIR);
		void *pull[PEERS];
		int seen = 0, ordered = 1;
		unsigned got_mask = 0;
		snprintf(mep, sizeof mep, "inproc://order-%d", r);
		TT_OK(zmq_socket_monitor(push, mep, ZMQ_EVENT_HANDSHAKE_SUCCEEDED));
		TT_OK(zmq_connect(m, mep));
		ep(e, sizeof e);
		bind_ok(push, e);
		for (i = 0; i < PEERS; i++) {
			pull[i] = sock(ctx, ZMQ_PULL);
			connect_ok(pull[i], cep(e));
		}
		while (seen < PEERS)
			if (next_event(m) == ZMQ_EVENT_HANDSHAKE_SUCCEEDED) seen++;
		for (i = 0; i < PEERS; i++) {
			snprintf(want, sizeof want, "to %d", i);
			send_str(push, want, 0);
		}
		for (i = 0; i < PEERS; i++) {
			char got[16];
			int n = zmq_recv(pull[i], got, sizeof got - 1, 0), k = -1;
			TT_ASSERT(n > 0);
			got[n] = 0;
			if (sscanf(got, "to %d", &k) != 1 || k < 0 || k >= PEERS ||
			    (got_mask & (1u << k)))
				TT_FAIL("round %d: PULL %d got '%s' (a second "
				        "message, or not one that was sent)",
				        r, i, got);
			got_mask |= 1u << k;
			ordered &= k == i;
		}
		TT_EQ(got_mask, (1u << PEERS) - 1);
		in_order += ordered;
		for (i = 0; i < PEERS; i++) zmq_close(pull[i]);
		zmq_socket_monitor(push, NULL, 0);
		zmq_close(m);
		zmq_close(push);
	}
	printf("  attached in connect order in %d of %d rounds\n", in_order,
	       ROUNDS);
	zmq_ctx_term(ctx);
}

TT_MAIN()
