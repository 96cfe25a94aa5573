/* test_hostile.c -- shm:// against a hostile peer, written from the
 * attacker's side: a raw peer speaks the wire format through the shm
 * backend's own socket and window operations (never through fabtx's
 * connect, accept or send paths) and tries what a buggy or malicious
 * process could: shrinking shared windows (SIGBUS), turning shared file
 * descriptors into traps (blocking reads and writes, SIGPIPE), holding
 * accept hostage with silent clients, claiming huge windows, dying with a
 * send half done.  Throughout, a well-behaved connection on the same
 * listener must keep working, and the worst outcome for this process is
 * that the attacker's own connection ends with a clear error.  Every test
 * runs in both shm modes (test-core runs it again with FABTX_SHM_MODE=copy):
 * the raw peer takes the process's mode (its window key and its
 * notifications), and in copy mode it still holds the windows' memfds, so
 * every attack applies as it is. */
#define FABTX_IMPLEMENTATION
#include "fabtx.h"
#include "th.h"
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>

/* ---- the raw peer ------------------------------------------------------ */
struct raw {
	fabtx_conn c;
};
static fabtx__shm_conn *rs(struct raw *r) { return (fabtx__shm_conn *)r->c.bdata; }

static void raw_init(fabtx_ctx *ctx, struct raw *r)
{
	memset(r, 0, sizeof *r);
	r->c.ctx = ctx;
	r->c.be = fabtx_shm_backend();
	r->c.hs_tfd = -1;
	snprintf(r->c.url, sizeof r->c.url, "raw");
}
/* a transport connection and nothing else (url: "shm://NAME") */
static void raw_connect(fabtx_ctx *ctx, struct raw *r, const char *url)
{
	raw_init(ctx, r);
	TT_OK(r->c.be->setup.connect(&r->c, url + 6, 1000));
}
static void raw_close(struct raw *r)
{
	if (r->c.bdata) r->c.be->setup.disconnect(&r->c, 0);
}
/* a request for an n-cell ring of cs-byte cells, for r's own window; in
 * the shm mode of the process (FABTX_SHM_MODE), which the window key
 * tells, as the backend's win_open sets it: a raw peer in the other mode
 * would be refused before any attack began */
static fabtx__hs raw_req(uint32_t n, uint32_t cs)
{
	fabtx__hs h;
	memset(&h, 0, sizeof h);
	if (!(fabtx_shm_backend()->caps & FABTX_BCAP_DIRECT))
		h.rkey = FABTX__SHM_KEY_COPY;
	h.major = FABTX_WIRE_MAJOR;
	h.minor = FABTX_WIRE_MINOR;
	h.type = FABTX__MSG_REQ;
	h.nonce = 0x5eed;
	h.cell_size = cs;
	h.cell_count = n;
	h.max_msg = 1 << 20;
	h.win_len = 64 + (uint64_t)n * cs;
	h.db_count = (uint16_t)(2 * n);
	h.db_base = (uint16_t)(2 * n < 16 ? 16 : 2 * n);
	return h;
}
static void raw_send_hs(struct raw *r, const fabtx__hs *h)
{
	uint8_t b[FABTX__HS_LEN];
	fabtx__hs_pack(h, b);
	TT_OK(r->c.be->setup.ctrl_send(&r->c, b, sizeof b, 1000));
}
static int raw_recv_hs(struct raw *r, fabtx__hs *h, int ms)
{
	uint8_t b[FABTX__HS_LEN];
	int n = r->c.be->setup.ctrl_recv(&r->c, b, sizeof b, ms);
	if (n < 0) return n;
	return fabtx__hs_unpack(b, (size_t)n, h);
}
/* the raw peer's window as the handshake expects it (the backend's own
 * win_open: a sealed memfd that rides along with the request) */
static void raw_window(struct raw *r, uint32_t n, uint32_t cs)
{
	TT_OK(r->c.be->setup.win_open(&r->c, 64 + (uint64_t)n * cs, 0, &r->c.rx_win,
	                        &r->c.tx_win));
}
/* map the server's window (an 8 x 256 ring) with the backend's
 * win_import, with the key the server's response carries (its shm mode) */
static void raw_import(struct raw *r, const fabtx__hs *resp)
{
	fabtx_win_limits lim;
	memset(&lim, 0, sizeof lim);
	r->c.peer_win.len = 64 + 8 * 256;
	r->c.peer_win.key = resp->rkey;
	TT_OK(r->c.be->setup.win_import(&r->c, &r->c.peer_win, &lim));
	/* the backend's mapping (lim.peer_base is set in DIRECT mode only):
	 * a peer holding the memfd can store into it in either mode */
	r->c.peer_base = (uint8_t *)rs(r)->peer_win;
}
/* the first message (8 bytes), stored into the server's cell 0 as a
 * DIRECT writer does, then notified as the backend does (copy mode: the
 * data position in the header; either mode: a wakeup if the server
 * sleeps) */
static void raw_put_first(struct raw *r, const fabtx__hs *h,
                          const fabtx__hs *resp, const char *msg8)
{
	fabtx_footer *f =
	    (fabtx_footer *)(void *)(r->c.peer_base + 64 + 256 - 32);
	memcpy(r->c.peer_base + 64 + 256 - 32 - 8, msg8, 8);
	f->len = 8;
	f->total_len = 8;
	f->flags = FABTX_F_FIRST | FABTX_F_LAST;
	f->conn_tag = (uint16_t)h->nonce;
	__atomic_store_n(&f->seq, (uint64_t)resp->cell_count, __ATOMIC_RELEASE);
	TT_OK(r->c.be->notify.ring(&r->c, FABTX_DB_KIND_DATA,
	                           (uint64_t)resp->cell_count + 1));
}
/* replace the window the raw peer will send by a memfd of its own making */
static int raw_evil_window(struct raw *r, uint64_t len, unsigned seals)
{
	int fd = memfd_create("evil", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	TT_ASSERT(fd >= 0);
	TT_EQ(ftruncate(fd, (off_t)len), 0);
	if (seals) TT_EQ(fcntl(fd, F_ADD_SEALS, seals), 0);
	close(rs(r)->win_fd);
	rs(r)->win_fd = fd;
	return fd;
}

/* accept until a connection comes, driving a raw peer's side meanwhile
 * is the caller's business: here the request is already sent */
static int accept_now(fabtx_listener *l, fabtx_conn **c)
{
	return fabtx_accept(l, c, 2000);
}

/* a whole handshake as a raw peer: its request h (an 8 x 256 ring of its
 * own window), the listener's accept, the response; OK expected */
static void raw_handshake(fabtx_ctx *ctx, fabtx_listener *l, const char *url,
                          struct raw *r, const fabtx__hs *h, fabtx_conn **c,
                          fabtx__hs *resp)
{
	raw_connect(ctx, r, url);
	raw_window(r, 8, 256);
	raw_send_hs(r, h);
	TT_OK(accept_now(l, c));
	TT_OK(raw_recv_hs(r, resp, 1000));
	TT_EQ(resp->status, FABTX__HS_OK);
}

/* a good client on the same listener, connected without waiting: both
 * ends driven from this thread */
static void good_open(fabtx_ctx *ctx, fabtx_listener *l, const char *url,
                      fabtx_conn **pa, fabtx_conn **pb)
{
	fabtx_conn *a, *b = NULL;
	int rc, i;
	TT_OK(fabtx_connect_start(ctx, url, &a));
	for (i = 0; i < 100000; i++) { /* both ends in this thread */
		struct pollfd p[2];
		rc = fabtx_connect_poll(a);
		if (!b) {
			int ar = fabtx_accept(l, &b, 0);
			if (ar < 0 && ar != -EAGAIN && ar != -ECONNABORTED)
				TT_FAIL("accept: %s", fabtx_strerror(ar));
			if (ar < 0) b = NULL;
		}
		if (rc == 0 && b) break;
		TT_ASSERT(rc == 0 || rc == -EAGAIN);
		p[0].fd = fabtx_conn_fd(a);
		p[0].events = POLLIN;
		p[1].fd = fabtx_listener_fd(l);
		p[1].events = POLLIN;
		poll(p, 2, 100);
	}
	TT_ASSERT(b);
	*pa = a;
	*pb = b;
}
/* one echo over a good pair */
static void good_echo(fabtx_conn *a, fabtx_conn *b)
{
	char m[8];
	TT_EQ(fabtx_send(a, "ok", 2, 1000), 2);
	TT_EQ(fabtx_recv(b, m, sizeof m, 1000), 2);
	TT_EQ(fabtx_send(b, m, 2, 1000), 2);
	TT_EQ(fabtx_recv(a, m, sizeof m, 1000), 2);
}
static void good_close(fabtx_conn *a, fabtx_conn *b)
{
	TT_EQ(fabtx_conn_close(a, 1000), 0);
	TT_EQ(fabtx_conn_close(b, 1000), 0);
}
/* a client that connects after the attack, as well */
static void good_client_roundtrip(fabtx_ctx *ctx, fabtx_listener *l,
                                  const char *url)
{
	fabtx_conn *a, *b;
	good_open(ctx, l, url, &a, &b);
	good_echo(a, b);
	good_close(a, b);
}

/* ---- shared memory: SIGBUS ---------------------------------------------- */

TT_TEST(hostile_unsealed_window_refused)
{
	fabtx_conn *ga, *gb;
	char url[96];
	fabtx_ctx *ctx;
	fabtx_listener *l;
	fabtx_conn *c;
	int k;
	TT_OK(fabtx_ctx_create(&ctx, NULL));
	th_name(url, sizeof url, "unsealed");
	TT_OK(fabtx_listen(ctx, url, &l));
	good_open(ctx, l, url, &ga, &gb); /* kept open throughout */
	for (k = 0; k < 3; k++) {
		struct raw r;
		fabtx__hs h = raw_req(8, 256), resp;
		raw_connect(ctx, &r, url);
		raw_window(&r, 8, 256);
		/* no seal; sealed against growing only; a pipe, not a memfd */
		if (k == 0) raw_evil_window(&r, h.win_len, 0);
		if (k == 1) raw_evil_window(&r, h.win_len, F_SEAL_GROW);
		if (k == 2) {
			int p[2];
			TT_EQ(pipe(p), 0);
			close(p[1]);
			close(rs(&r)->win_fd);
			rs(&r)->win_fd = p[0];
		}
		raw_send_hs(&r, &h);
		TT_EQ(accept_now(l, &c), -ECONNABORTED);
		TT_OK(raw_recv_hs(&r, &resp, 1000));
		TT_EQ(resp.status, FABTX__HS_INVALID);
		raw_close(&r);
	}
	good_echo(ga, gb);
	good_close(ga, gb);
	good_client_roundtrip(ctx, l, url);
	fabtx_listener_close(l);
	fabtx_ctx_destroy(ctx);
}

/* A peer holding both windows' fds tries to shrink them (its own after
 * sending it, and ours): the seals refuse, and this process goes on
 * reading and writing both windows.  Unsealed, the next access here
 * would have been SIGBUS (the test's process would die). */
TT_TEST(hostile_peer_cannot_shrink_either_window)
{
	fabtx_conn *ga, *gb;
	char url[96];
	fabtx_ctx *ctx;
	fabtx_listener *l;
	fabtx_conn *c;
	struct raw r;
	fabtx__hs h = raw_req(8, 256), resp;
	uint8_t m[64];
	TT_OK(fabtx_ctx_create(&ctx, NULL));
	th_name(url, sizeof url, "shrink");
	TT_OK(fabtx_listen(ctx, url, &l));
	good_open(ctx, l, url, &ga, &gb); /* kept open throughout */
	raw_handshake(ctx, l, url, &r, &h, &c, &resp);
	TT_ASSERT(rs(&r)->rfd >= 0); /* the server's window, as the peer holds it */
	/* exactly one fd came: the window; no eventfd or other shared state */
	TT_ASSERT(fcntl(rs(&r)->rfd, F_GET_SEALS) & F_SEAL_SHRINK);
	TT_EQ(ftruncate(rs(&r)->rfd, 0), -1);
	TT_EQ(errno, EPERM);
	TT_EQ(ftruncate(rs(&r)->win_fd, 0), -1); /* its own, already sent */
	TT_EQ(errno, EPERM);
	TT_EQ(fcntl(rs(&r)->rfd, F_ADD_SEALS, 0), -1); /* nor unseal */
	/* map the server's window as a raw peer would and publish a message */
	raw_import(&r, &resp);
	raw_put_first(&r, &h, &resp, "hostile!");
	/* the server reads its window and writes the peer's: no SIGBUS */
	TT_EQ(fabtx_recv(c, m, sizeof m, 1000), 8);
	TT_EQ(memcmp(m, "hostile!", 8), 0);
	TT_EQ(fabtx_send(c, "reply", 5, 1000), 5);
	raw_close(&r);
	TT_EQ(fabtx_recv(c, m, sizeof m, 1000), -ECONNRESET);
	fabtx_conn_close(c, 0);
	good_echo(ga, gb);
	good_close(ga, gb);
	good_client_roundtrip(ctx, l, url);
	fabtx_listener_close(l);
	fabtx_ctx_destroy(ctx);
}

/* A peer that lies in its data notifications (copy mode: the position in
 * the header word it writes; DIRECT mode ignores that word, and the test
 * holds there too): far beyond the ring, zero, backwards, and ahead of
 * what it wrote.  Nothing is delivered that was not written, the
 * connection goes on, and a message it then really writes arrives. */
TT_TEST(hostile_lying_data_notifications)
{
	fabtx_conn *ga, *gb;
	char url[96];
	fabtx_ctx *ctx;
	fabtx_listener *l;
	fabtx_conn *c;
	struct raw r;
	fabtx__hs h = raw_req(8, 256), resp;
	uint8_t m[64];
	uint64_t lie[5];
	int i;
	TT_OK(fabtx_ctx_create(&ctx, NULL));
	th_name(url, sizeof url, "lie");
	TT_OK(fabtx_listen(ctx, url, &l));
	good_open(ctx, l, url, &ga, &gb); /* kept open throughout */
	raw_handshake(ctx, l, url, &r, &h, &c, &resp);
	raw_import(&r, &resp);
	lie[0] = UINT64_MAX;
	lie[1] = (uint64_t)resp.cell_count + 1000;
	lie[2] = 0;
	lie[3] = (uint64_t)resp.cell_count + 5; /* within the ring, unwritten */
	lie[4] = 1;
	for (i = 0; i < 5; i++) {
		TT_OK(r.c.be->notify.ring(&r.c, FABTX_DB_KIND_DATA, lie[i]));
		TT_EQ(fabtx_recv(c, m, sizeof m, 0), -EAGAIN);
		TT_EQ(fabtx_peek_len(c), -EAGAIN);
		TT_EQ(fabtx_conn_poll(c) & (FABTX_POLLIN | FABTX_POLLERR), 0);
	}
	raw_put_first(&r, &h, &resp, "at last!");
	TT_EQ(fabtx_recv(c, m, sizeof m, 1000), 8);
	TT_EQ(memcmp(m, "at last!", 8), 0);
	TT_EQ(fabtx_recv(c, m, sizeof m, 0), -EAGAIN);
	raw_close(&r);
	TT_EQ(fabtx_recv(c, m, sizeof m, 1000), -ECONNRESET);
	fabtx_conn_close(c, 0);
	good_echo(ga, gb);
	good_close(ga, gb);
	fabtx_listener_close(l);
	fabtx_ctx_destroy(ctx);
}

/* A peer that claims a window far larger than its ring: accepted, but
 * only the ring is mapped here. */
TT_TEST(hostile_claimed_window_size_not_mapped)
{
	char url[96];
	fabtx_ctx *ctx;
	fabtx_listener *l;
	fabtx_conn *c;
	struct raw r;
	fabtx__hs h = raw_req(8, 256), resp;
	TT_OK(fabtx_ctx_create(&ctx, NULL));
	th_name(url, sizeof url, "claim");
	TT_OK(fabtx_listen(ctx, url, &l));
	h.win_len = 1ull << 40; /* 1 TiB, says the peer */
	raw_handshake(ctx, l, url, &r, &h, &c, &resp);
	TT_EQ(((fabtx__shm_conn *)c->bdata)->peer_win_len, 64 + 8 * 256);
	TT_EQ(c->peer_win.len, 64 + 8 * 256);
	raw_close(&r);
	fabtx_conn_close(c, 0);
	fabtx_listener_close(l);
	fabtx_ctx_destroy(ctx);
}

/* ---- file descriptors as traps ------------------------------------------ */

/* The peer stops reading (shuts its socket for reading), sleeps with its
 * armed flag set, and floods us with wakeups.  Our wakeups to it must not
 * raise SIGPIPE (default disposition: death), nothing may block, and a
 * flood costs a bounded amount of work per call. */
TT_TEST(hostile_wake_channel_no_sigpipe_no_block)
{
	fabtx_conn *ga, *gb;
	char url[96];
	fabtx_ctx *ctx;
	fabtx_listener *l;
	fabtx_conn *c;
	struct raw r;
	fabtx__hs h = raw_req(8, 256), resp;
	fabtx_conn_stats st;
	uint8_t m[64];
	int i, n = 0, k;
	signal(SIGPIPE, SIG_DFL);
	TT_OK(fabtx_ctx_create(&ctx, NULL));
	th_name(url, sizeof url, "wake");
	TT_OK(fabtx_listen(ctx, url, &l));
	good_open(ctx, l, url, &ga, &gb); /* kept open throughout */
	raw_handshake(ctx, l, url, &r, &h, &c, &resp);
	raw_import(&r, &resp);
	/* the flood: as many wakeups as its socket takes */
	for (i = 0; i < 100000; i++) {
		if (send(rs(&r)->sock, "W", 1, MSG_DONTWAIT | MSG_NOSIGNAL) != 1) break;
		n++;
	}
	TT_ASSERT(n > 64);
	/* the peer "sleeps" (armed) and will read nothing, ever */
	__atomic_store_n(&((fabtx_win_hdr *)r.c.rx_win.base)->armed, 1u,
	                 __ATOMIC_SEQ_CST);
	TT_EQ(shutdown(rs(&r)->sock, SHUT_RD), 0);
	/* each non-blocking call returns at once, with the flood being read
	 * a bounded batch at a time, until it is gone */
	for (k = 0; k < n; k++) {
		TT_EQ(fabtx_recv(c, m, sizeof m, 0), -EAGAIN);
		if (fabtx_conn_poll(c) == FABTX_POLLOUT) {
			struct pollfd p;
			p.fd = fabtx_conn_fd(c);
			p.events = POLLIN;
			if (poll(&p, 1, 0) == 0) break; /* drained */
		}
	}
	TT_ASSERT(k < n); /* batches, not one read per call */
	/* our sends wake a peer that reads nothing: no SIGPIPE, no block */
	for (i = 0; i < 4; i++) {
		__atomic_store_n(&((fabtx_win_hdr *)r.c.rx_win.base)->armed, 1u,
		                 __ATOMIC_SEQ_CST);
		TT_EQ(fabtx_send(c, "x", 1, 0), 1);
	}
	TT_OK(fabtx_conn_stats_get(c, &st));
	TT_ASSERT(st.doorbells_sent >= 4);
	raw_close(&r);
	fabtx_conn_close(c, 0);
	good_echo(ga, gb);
	good_close(ga, gb);
	good_client_roundtrip(ctx, l, url);
	fabtx_listener_close(l);
	fabtx_ctx_destroy(ctx);
}

/* ---- a send that never returns ------------------------------------------ */

/* A sender with a queued remainder whose receiver dies: the next send
 * (blocking forever, or not) ends with -ECONNRESET instead of spinning. */
TT_TEST(hostile_receiver_dies_under_queued_remainder)
{
	fabtx_ctx *ctx = th_ctx(8, 256);
	fabtx_conn *a, *b;
	uint8_t big[4096];
	int to;
	for (to = -1; to <= 0; to++) {
		th_pair(ctx, ctx, &a, &b);
		memset(big, 7, sizeof big);
		/* more than the ring: taken, the remainder queued */
		TT_EQ(fabtx_send(a, big, sizeof big, 0), (ssize_t)sizeof big);
		TT_ASSERT(a->pend_buf);
		fabtx__conn_free(b, 1); /* dies: no FIN, windows gone */
		TT_EQ(fabtx_send(a, big, 1, to), -ECONNRESET);
		fabtx_conn_close(a, 0);
	}
	fabtx_ctx_destroy(ctx);
}

/* ---- accept held hostage --------------------------------------------------- */

/* More silent clients than handshakes may be in flight: a good client
 * connecting after them is accepted, and the silent ones are reported
 * (-ECONNABORTED) only after it. */
TT_TEST(hostile_silent_clients_do_not_hold_accept)
{
	fabtx_conn *ga, *gb;
	char url[96];
	fabtx_ctx *ctx;
	fabtx_listener *l;
	fabtx_conn *c;
	struct raw *r = (struct raw *)calloc(100, sizeof *r);
	int i, aborted = 0, rc;
	TT_ASSERT(r);
	TT_OK(fabtx_ctx_create(&ctx, NULL));
	th_name(url, sizeof url, "silent");
	TT_OK(fabtx_listen(ctx, url, &l));
	good_open(ctx, l, url, &ga, &gb); /* kept open throughout */
	for (i = 0; i < 100; i++) { /* connect and say nothing */
		raw_connect(ctx, &r[i], url);
		if (i % 10 == 9) {
			/* nothing to take; once the table is full, the oldest go */
			rc = fabtx_accept(l, &c, 0);
			TT_ASSERT(rc == -EAGAIN || (rc == -ECONNABORTED && i >= 64));
			aborted += rc == -ECONNABORTED;
		}
	}
	good_echo(ga, gb);
	good_close(ga, gb);
	good_client_roundtrip(ctx, l, url);
	/* the oldest made room for the newer: reported now, once each */
	while ((rc = fabtx_accept(l, &c, 0)) == -ECONNABORTED) aborted++;
	TT_EQ(rc, -EAGAIN);
	TT_ASSERT(aborted >= 100 - FABTX_MAX_HANDSHAKES);
	TT_ASSERT(l->nhs <= FABTX_MAX_HANDSHAKES);
	for (i = 0; i < 100; i++) raw_close(&r[i]);
	free(r);
	fabtx_listener_close(l);
	fabtx_ctx_destroy(ctx);
}

/* accept(l, &c, 0) before the client's request has arrived: -EAGAIN, and
 * the handshake goes on (it used to be aborted: 0 ms for the handshake) */
TT_TEST(hostile_accept_timeout_zero_keeps_slow_client)
{
	char url[96];
	fabtx_ctx *ctx;
	fabtx_listener *l;
	fabtx_conn *c;
	struct raw r;
	fabtx__hs h = raw_req(8, 256), resp;
	int i;
	TT_OK(fabtx_ctx_create(&ctx, NULL));
	th_name(url, sizeof url, "slow");
	TT_OK(fabtx_listen(ctx, url, &l));
	raw_connect(ctx, &r, url);
	for (i = 0; i < 5; i++) TT_EQ(fabtx_accept(l, &c, 0), -EAGAIN);
	raw_window(&r, 8, 256);
	raw_send_hs(&r, &h);
	{ /* the listener fd says there is something to do */
		struct pollfd p;
		p.fd = fabtx_listener_fd(l);
		p.events = POLLIN;
		TT_EQ(poll(&p, 1, 5000), 1);
	}
	TT_OK(fabtx_accept(l, &c, 0));
	TT_OK(raw_recv_hs(&r, &resp, 1000));
	TT_EQ(resp.status, FABTX__HS_OK);
	raw_close(&r);
	fabtx_conn_close(c, 0);
	fabtx_listener_close(l);
	fabtx_ctx_destroy(ctx);
}

/* A silent client is dropped at its handshake deadline: the listener fd
 * wakes for it, accept reports it, and the client sees its end close. */
TT_TEST(hostile_silent_client_expires)
{
	fabtx_conn *ga, *gb;
	char url[96];
	fabtx_ctx_config cfg = fabtx_ctx_config_init();
	fabtx_ctx *ctx;
	fabtx_listener *l;
	fabtx_conn *c;
	struct raw r;
	uint8_t b[FABTX__HS_LEN];
	struct pollfd p;
	cfg.handshake_ms = 50;
	TT_OK(fabtx_ctx_create(&ctx, &cfg));
	th_name(url, sizeof url, "expire");
	TT_OK(fabtx_listen(ctx, url, &l));
	good_open(ctx, l, url, &ga, &gb); /* kept open throughout */
	raw_connect(ctx, &r, url);
	TT_EQ(fabtx_accept(l, &c, 0), -EAGAIN); /* in flight */
	p.fd = fabtx_listener_fd(l);
	p.events = POLLIN;
	TT_EQ(poll(&p, 1, 10000), 1); /* the deadline timer */
	TT_EQ(fabtx_accept(l, &c, 0), -ECONNABORTED);
	TT_EQ(r.c.be->setup.ctrl_recv(&r.c, b, sizeof b, 5000), -ECONNRESET);
	raw_close(&r);
	good_echo(ga, gb);
	good_close(ga, gb);
	good_client_roundtrip(ctx, l, url);
	fabtx_listener_close(l);
	fabtx_ctx_destroy(ctx);
}

/* ---- a hostile server facing a fabtx client ------------------------------ */

static int fake_listen(fabtx_ctx *ctx, fabtx_listener *fl, const char *url)
{
	memset(fl, 0, sizeof *fl);
	fl->ctx = ctx;
	fl->be = fabtx_shm_backend();
	return fl->be->setup.listen(fl, url + 6);
}

/* the server answers with an unsealed window, or never answers */
TT_TEST(hostile_server_unsealed_window_or_silence)
{
	char url[96];
	fabtx_ctx_config cfg = fabtx_ctx_config_init();
	fabtx_ctx *ctx;
	fabtx_listener fl;
	int k;
	cfg.handshake_ms = 100;
	TT_OK(fabtx_ctx_create(&ctx, &cfg));
	th_name(url, sizeof url, "hsrv");
	TT_OK(fake_listen(ctx, &fl, url));
	for (k = 0; k < 2; k++) {
		fabtx_conn *a;
		struct raw s;
		fabtx__hs q;
		int rc, i;
		TT_OK(fabtx_connect_start(ctx, url, &a));
		raw_init(ctx, &s);
		TT_OK(fl.be->setup.accept(&fl, &s.c, 1000));
		TT_OK(raw_recv_hs(&s, &q, 1000));
		if (k == 0) { /* answer, with a window it can still shrink */
			fabtx__hs r = q;
			r.type = FABTX__MSG_RESP;
			r.cell_count = 4;
			r.cell_size = 128;
			r.win_len = 64 + 4 * 128;
			r.db_base = 16;
			r.db_count = 8;
			raw_window(&s, 4, 128);
			raw_evil_window(&s, r.win_len, 0);
			raw_send_hs(&s, &r);
		}
		for (i = 0; i < 1000; i++) {
			struct pollfd p;
			rc = fabtx_connect_poll(a);
			if (rc != -EAGAIN) break;
			p.fd = fabtx_conn_fd(a);
			p.events = POLLIN;
			poll(&p, 1, 50);
		}
		TT_EQ(rc, k == 0 ? -EPROTO : -ETIMEDOUT);
		TT_EQ(fabtx_connect_poll(a), rc); /* sticky */
		TT_EQ(fabtx_conn_close(a, 0), 0);
		raw_close(&s);
	}
	{ /* a blocking connect "forever" still ends at the handshake limit */
		fabtx_conn *a;
		TT_EQ(fabtx_connect(ctx, url, &a, -1), -ETIMEDOUT);
	}
	fl.be->setup.listener_close(&fl);
	fabtx_ctx_destroy(ctx);
}

/* ---- non-blocking connect, as an event loop uses it ---------------------- */

TT_TEST(nonblocking_connect_and_accept_one_thread)
{
	char url[96];
	fabtx_ctx *ctx;
	fabtx_listener *l;
	fabtx_conn *a;
	int i;
	TT_OK(fabtx_ctx_create(&ctx, NULL));
	th_name(url, sizeof url, "nbc");
	/* nobody listening: known at once */
	TT_EQ(fabtx_connect_start(ctx, url, &a), -ECONNREFUSED);
	TT_EQ(fabtx_connect_start(ctx, "shm://bad name", &a), -EINVAL);
	TT_EQ(fabtx_connect_start(ctx, "nosuch://x", &a), -EPROTONOSUPPORT);
	TT_OK(fabtx_listen(ctx, url, &l));
	for (i = 0; i < 3; i++) good_client_roundtrip(ctx, l, url);
	fabtx_listener_close(l);
	fabtx_ctx_destroy(ctx);
}

/* More clients at once than the server's backlog holds (128) and than its
 * handshake table (FABTX_MAX_HANDSHAKES): a client's connect() finds the
 * backlog full (-EINPROGRESS: connect_poll tries again), and every one of
 * them gets in; each is handed out once, with the byte its client sent. */
TT_TEST(shm_clients_beyond_the_backlog_all_get_in)
{
	enum { N = 150 };
	char url[96];
	fabtx_ctx *ctx = th_ctx(16, 256), *sx = th_ctx(16, 256);
	fabtx_listener *l;
	static fabtx_conn *a[N], *b[N];
	static int up[N], seen[N];
	int i, nup = 0, nb = 0;
	uint64_t dl = fabtx_now_ms() + 60000;
	th_name(url, sizeof url, "backlog");
	TT_OK(fabtx_listen(sx, url, &l));
	for (i = 0; i < N; i++) TT_OK(fabtx_connect_start(ctx, url, &a[i]));
	while ((nup < N || nb < N) && fabtx_now_ms() < dl) {
		fabtx_conn *c;
		int rc = fabtx_accept(l, &c, nb < N ? 1 : 0);
		if (rc == 0) b[nb++] = c;
		else TT_ASSERT(rc == -EAGAIN || rc == -ETIMEDOUT);
		for (i = 0; i < N; i++) {
			if (up[i]) continue;
			rc = fabtx_connect_poll(a[i]);
			TT_ASSERT(rc == 0 || rc == -EAGAIN);
			if (rc == 0) {
				uint8_t v = (uint8_t)i;
				up[i] = 1;
				nup++;
				TT_EQ(fabtx_send(a[i], &v, 1, 1000), 1);
			}
		}
	}
	TT_EQ(nup, N);
	TT_EQ(nb, N);
	for (i = 0; i < N; i++) {
		uint8_t v;
		TT_EQ(fabtx_recv(b[i], &v, 1, 5000), 1);
		TT_EQ(seen[v], 0);
		seen[v] = 1;
	}
	for (i = 0; i < N; i++) {
		fabtx_conn_close(a[i], 0);
		fabtx_conn_close(b[i], 0);
	}
	fabtx_listener_close(l);
	fabtx_ctx_destroy(ctx);
	fabtx_ctx_destroy(sx);
}

/* Clients that connect one after another are handed out in that order. */
TT_TEST(accept_hands_out_in_arrival_order)
{
	char url[96];
	fabtx_ctx *ctx;
	fabtx_listener *l;
	fabtx_conn *a[8], *b;
	int i, k, done;
	char m[4];
	TT_OK(fabtx_ctx_create(&ctx, NULL));
	th_name(url, sizeof url, "order");
	TT_OK(fabtx_listen(ctx, url, &l));
	for (i = 0; i < 8; i++) TT_OK(fabtx_connect_start(ctx, url, &a[i]));
	for (k = 0; k < 1000; k++) { /* requests are all sent: let them land */
		done = 0;
		for (i = 0; i < 8; i++) {
			int rc = fabtx_connect_poll(a[i]);
			TT_ASSERT(rc == 0 || rc == -EAGAIN);
			done += rc == 0;
		}
		if (done == 8) break;
		fabtx__lis_step(l); /* answers, takes none */
	}
	TT_EQ(done, 8);
	for (i = 0; i < 8; i++) {
		char c = (char)('0' + i);
		TT_EQ(fabtx_send(a[i], &c, 1, 1000), 1);
	}
	for (i = 0; i < 8; i++) {
		TT_OK(fabtx_accept(l, &b, 1000));
		TT_EQ(fabtx_recv(b, m, sizeof m, 1000), 1);
		TT_EQ(m[0], '0' + i);
		fabtx_conn_close(b, 0);
	}
	for (i = 0; i < 8; i++) fabtx_conn_close(a[i], 0);
	fabtx_listener_close(l);
	fabtx_ctx_destroy(ctx);
}

TT_MAIN()
