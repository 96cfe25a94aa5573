/* SPDX-License-Identifier: MIT */
/* fz.h -- shared parts of fabtx's fuzz targets (test/fuzz/fuzz_*.c).
 *
 * Each target is one translation unit that defines FABTX_IMPLEMENTATION
 * (through this header) and LLVMFuzzerTestOneInput.  Built with clang
 * -fsanitize=fuzzer,address,undefined it is a libFuzzer binary (make fuzz);
 * built with test/fuzz/replay.c instead it replays a corpus directory
 * (make test).
 *
 * The "fz" backend is an in-memory transport the harness plays the peer
 * of: ctrl_recv hands out messages the harness queued, write() copies into
 * a peer window the harness owns (and checks that the core never writes
 * outside what the peer advertised), progress reports the peer gone when
 * the harness says so.  Everything runs in one thread without blocking:
 * every core call is made with timeout 0.  Two schemes: fz:// (doorbells
 * tell the core what is visible) and fzo:// (ordered placement: footers
 * may be polled). */
#ifndef FZ_H
#define FZ_H
#ifndef FABTX_IMPLEMENTATION
#define FABTX_IMPLEMENTATION
#endif
#include "fabtx.h"
#ifdef FZ_WITH_OFI
#include "fabtx_ofi.h"
#endif
#ifdef FZ_WITH_RIO
#include "fabtx_rio.h"
#endif
#ifdef FZ_WITH_SCIF
#include "fabtx_scif.h"
#endif
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#define FZ_FN static __attribute__((unused))

/* a violated invariant: a finding, as loud as a sanitizer report */
#define FZ_CHECK(x)                                                            \
	do {                                                                   \
		if (!(x)) {                                                    \
			fprintf(stderr, "%s:%d: invariant failed: %s\n",       \
			        __FILE__, __LINE__, #x);                       \
			abort();                                               \
		}                                                              \
	} while (0)

/* ---- reading the fuzz input: bytes run out as zeros ------------------- */
typedef struct fz_in {
	const uint8_t *p;
	size_t n, o;
} fz_in;
FZ_FN uint8_t fz_u8(fz_in *in) { return in->o < in->n ? in->p[in->o++] : 0; }
FZ_FN uint16_t fz_u16(fz_in *in)
{
	uint16_t v = fz_u8(in);
	return (uint16_t)(v | (uint16_t)fz_u8(in) << 8);
}
FZ_FN uint32_t fz_u32(fz_in *in)
{
	uint32_t v = fz_u16(in);
	return v | (uint32_t)fz_u16(in) << 16;
}
FZ_FN uint64_t fz_u64(fz_in *in)
{
	uint64_t v = fz_u32(in);
	return v | (uint64_t)fz_u32(in) << 32;
}
FZ_FN int fz_more(const fz_in *in) { return in->o < in->n; }

/* ---- the fz backend ----------------------------------------------------- */
#define FZ_QMAX 8
typedef struct fz_state {
	/* control messages for ctrl_recv, in order */
	uint8_t q[FZ_QMAX][FABTX__HS_LEN + 8];
	int qlen[FZ_QMAX], qh, qn;
	/* the last control message the core sent */
	uint8_t sent[FABTX__HS_LEN];
	int sent_len, nsent;
	/* the peer's RX window (what the core writes into) */
	uint8_t *peer;
	uint64_t peer_len;
	int gone;         /* progress / ctrl_recv: the peer is gone */
	int clients;      /* clients waiting at the listener (one per input) */
	int write_fail;   /* write(): fail with this once (then 0) */
	int write_eagain; /* write(): -EAGAIN this many times */
	int imm_ok;       /* write_imm takes it (else -ENOTSUP) */
	uint64_t writes, imms, doorbells;
	int efd;
	int conns; /* open fz connections (bdata set, not disconnected) */
	/* called after each ctrl_send (the harness answers a request) */
	void (*on_send)(void);
} fz_state;
static fz_state fz;

FZ_FN void fz_reset(void)
{
	int efd = fz.efd;
	free(fz.peer);
	memset(&fz, 0, sizeof fz);
	fz.efd = efd;
	if (!fz.efd) fz.efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	fz.clients = 1;
}

FZ_FN void fz_queue(const void *b, int len)
{
	int i;
	if (fz.qn == FZ_QMAX || len < 0 || len > (int)sizeof fz.q[0]) return;
	i = (fz.qh + fz.qn) % FZ_QMAX;
	memcpy(fz.q[i], b, (size_t)len);
	fz.qlen[i] = len;
	fz.qn++;
}

FZ_FN int fz_connect(fabtx_conn *c, const char *addr, int t)
{
	(void)addr;
	(void)t;
	c->bdata = &fz;
	fz.conns++;
	return 0;
}
FZ_FN int fz_listen(fabtx_listener *l, const char *addr)
{
	(void)addr;
	l->bdata = &fz;
	return 0;
}
FZ_FN int fz_listener_fd(fabtx_listener *l)
{
	(void)l;
	return fz.efd;
}
FZ_FN int fz_accept(fabtx_listener *l, fabtx_conn *c, int t)
{
	(void)l;
	(void)t;
	if (!fz.clients) return -EAGAIN; /* the core asks until nobody waits */
	fz.clients--;
	c->bdata = &fz;
	fz.conns++;
	return 0;
}
FZ_FN void fz_listener_close(fabtx_listener *l) { (void)l; }
FZ_FN int fz_ctrl_send(fabtx_conn *c, const void *m, size_t len, int t)
{
	(void)c;
	(void)t;
	FZ_CHECK(len <= 512);
	if (fz.gone) return -ECONNRESET;
	fz.sent_len = len < sizeof fz.sent ? (int)len : (int)sizeof fz.sent;
	memcpy(fz.sent, m, (size_t)fz.sent_len);
	fz.nsent++;
	if (fz.on_send) fz.on_send();
	return (int)len;
}
FZ_FN int fz_ctrl_recv(fabtx_conn *c, void *buf, size_t cap, int t)
{
	int len;
	(void)c;
	(void)t;
	if (!fz.qn) return fz.gone ? -ECONNRESET : -EAGAIN;
	len = fz.qlen[fz.qh];
	if ((size_t)len > cap) return -EMSGSIZE;
	memcpy(buf, fz.q[fz.qh], (size_t)len);
	fz.qh = (fz.qh + 1) % FZ_QMAX;
	fz.qn--;
	return len;
}
FZ_FN int fz_win_open(fabtx_conn *c, uint64_t rx_len, uint64_t tx_len,
                       fabtx_win *rx, fabtx_win *tx)
{
	(void)c;
	memset(rx, 0, sizeof *rx);
	memset(tx, 0, sizeof *tx);
	rx->base = calloc(1, (size_t)rx_len);
	tx->base = tx_len ? calloc(1, (size_t)tx_len) : NULL;
	if (!rx->base || (tx_len && !tx->base)) {
		free(rx->base);
		free(tx->base);
		rx->base = tx->base = NULL;
		return -ENOMEM;
	}
	rx->len = rx_len;
	tx->len = tx_len;
	rx->addr = 0x10000; /* anything: the peer names it back */
	return 0;
}
FZ_FN int fz_win_import(fabtx_conn *c, const fabtx_win *p,
                        fabtx_win_limits *lim)
{
	(void)c;
	(void)lim;
	/* the peer window exists only if it is small enough to hold here */
	if (p->len > (64u << 20)) return -ENOMEM;
	free(fz.peer);
	fz.peer = (uint8_t *)calloc(1, (size_t)p->len);
	if (!fz.peer) return -ENOMEM;
	fz.peer_len = p->len;
	return 0;
}
FZ_FN int fz_write(fabtx_conn *c, const fabtx_seg *segs, int nseg,
                    uint64_t off, uint64_t pos, unsigned flags)
{
	uint64_t o = off;
	int i, rc;
	(void)c;
	(void)pos;
	(void)flags;
	FZ_CHECK(nseg >= 1);
	if (fz.write_eagain > 0) {
		fz.write_eagain--;
		return -EAGAIN;
	}
	if (fz.write_fail) {
		rc = fz.write_fail;
		fz.write_fail = 0;
		return rc;
	}
	if (fz.gone) return -ECONNRESET;
	for (i = 0; i < nseg; i++) {
		/* never outside the window the peer advertised */
		FZ_CHECK(o + segs[i].len <= fz.peer_len && o + segs[i].len >= o);
		if (segs[i].len) memcpy(fz.peer + o, segs[i].addr, segs[i].len);
		o += segs[i].len;
	}
	fz.writes++;
	return 0;
}
FZ_FN int fz_write_imm(fabtx_conn *c, const fabtx_seg *seg, uint64_t off,
                        uint64_t pos, uint32_t len, uint16_t flags)
{
	(void)pos;
	(void)flags;
	if (!fz.imm_ok) return -ENOTSUP;
	FZ_CHECK(len <= fabtx_ring_payload(c->tx.c));
	FZ_CHECK(seg->len == len);
	FZ_CHECK(off + len <= fz.peer_len);
	if (fz.gone) return -ECONNRESET;
	if (len) memcpy(fz.peer + off, seg->addr, len);
	fz.imms++;
	return 0;
}
FZ_FN int fz_ring(fabtx_conn *c, fabtx_db_kind kind, uint64_t pos)
{
	(void)c;
	(void)kind;
	(void)pos;
	fz.doorbells++;
	return fz.gone ? -ECONNRESET : 0;
}
FZ_FN int fz_progress(fabtx_conn *c)
{
	(void)c;
	return fz.gone && !fz.qn ? -ECONNRESET : 0;
}
FZ_FN int fz_flush(fabtx_conn *c, int t)
{
	(void)c;
	(void)t;
	return 0;
}
FZ_FN int fz_arm(fabtx_conn *c)
{
	(void)c;
	return fz.qn || fz.gone ? -EAGAIN : 0;
}
FZ_FN int fz_fd(fabtx_conn *c)
{
	(void)c;
	return fz.efd;
}
FZ_FN void fz_disconnect(fabtx_conn *c, int graceful)
{
	(void)graceful;
	if (c->bdata) fz.conns--;
	c->bdata = NULL;
	/* the windows are the backend's */
	free(c->rx_win.base);
	free(c->tx_win.base);
	c->rx_win.base = c->tx_win.base = NULL;
}

static fabtx_backend fz_be, fzo_be;
FZ_FN void fz_backend_fill(fabtx_backend *b, const char *name, uint32_t caps)
{
	memset(b, 0, sizeof *b);
	b->scheme = name;
	b->caps = caps;
	b->setup.listen = fz_listen;
	b->setup.listener_fd = fz_listener_fd;
	b->setup.accept = fz_accept;
	b->setup.listener_close = fz_listener_close;
	b->setup.connect = fz_connect;
	b->setup.ctrl_send = fz_ctrl_send;
	b->setup.ctrl_recv = fz_ctrl_recv;
	b->setup.win_open = fz_win_open;
	b->setup.win_import = fz_win_import;
	b->setup.disconnect = fz_disconnect;
	b->data.write = fz_write;
	b->data.write_imm = fz_write_imm;
	b->data.flush = fz_flush;
	b->notify.ring = fz_ring;
	b->notify.progress = fz_progress;
	b->wait.arm = fz_arm;
	b->wait.fd = fz_fd;
}
/* the tables (single-threaded fuzzers: filled before the first ctx) */
FZ_FN void fz_backends_init(void)
{
	if (fz_be.scheme) return;
	fz_backend_fill(&fz_be, "fz", 0);
	fz_backend_fill(&fzo_be, "fzo", FABTX_BCAP_ORDERED);
}

/* a context with the fz backends and the given ring; quiet logger */
FZ_FN void fz_quiet(fabtx_log_level l, const char *m, void *u)
{
	(void)l;
	(void)m;
	(void)u;
}
FZ_FN fabtx_ctx *fz_ctx(uint32_t n, uint32_t cs, uint64_t max_msg)
{
	fabtx_ctx *ctx = NULL;
	fabtx_ctx_config cfg = fabtx_ctx_config_init();
	cfg.cell_count = n;
	cfg.cell_size = cs;
	cfg.max_msg = max_msg;
	cfg.keepalive_ms = 1000000000; /* no timers: replays are exact */
	cfg.keepalive_timeout_ms = 1000000000;
	cfg.logger.func = fz_quiet;
	cfg.logger.level = FABTX_LOG_ERROR;
	cfg.quarantine_ms = -1; /* ranges are reusable at once */
	if (fabtx_ctx_create(&ctx, &cfg) < 0) return NULL;
	fz_backends_init();
	if (fabtx_ctx_add_backend(ctx, &fz_be) < 0 ||
	    fabtx_ctx_add_backend(ctx, &fzo_be) < 0) {
		fabtx_ctx_destroy(ctx);
		return NULL;
	}
	return ctx;
}

/* contexts are costly to make (the doorbell space): one per geometry for
 * the whole run; every connection on them is closed after each input */
#define FZ_NCTX 64
FZ_FN fabtx_ctx *fz_ctx_cached(uint32_t n, uint32_t cs, uint64_t max_msg)
{
	static struct {
		uint32_t n, cs;
		uint64_t mm;
		fabtx_ctx *ctx;
	} cache[FZ_NCTX];
	static int ncache;
	int i;
	for (i = 0; i < ncache; i++)
		if (cache[i].n == n && cache[i].cs == cs && cache[i].mm == max_msg)
			return cache[i].ctx;
	if (ncache == FZ_NCTX) return fz_ctx(n, cs, max_msg);
	cache[ncache].n = n;
	cache[ncache].cs = cs;
	cache[ncache].mm = max_msg;
	cache[ncache].ctx = fz_ctx(n, cs, max_msg);
	return cache[ncache++].ctx;
}

/* The acceptor's answer to the request the core just sent (fz.sent), as
 * fabtx__accept_hs would give it with the same geometry. */
FZ_FN void fz_answer(uint8_t *b, fabtx__hs *req_out)
{
	fabtx__hs q, r;
	int rc = fabtx__hs_unpack(fz.sent, (size_t)fz.sent_len, &q);
	FZ_CHECK(rc == 0);
	memset(&r, 0, sizeof r);
	r.major = FABTX_WIRE_MAJOR;
	r.minor = FABTX_WIRE_MINOR;
	r.type = FABTX__MSG_RESP;
	r.nonce = q.nonce;
	r.cell_size = q.cell_size;
	r.cell_count = q.cell_count;
	r.max_msg = q.max_msg;
	r.win_addr = 0x20000;
	r.win_len = fabtx__win_need(q.cell_count, q.cell_size);
	r.db_count = (uint16_t)(2u * q.cell_count);
	r.db_base = r.db_count >= FABTX_DB_RESERVED ? r.db_count
	                                            : (uint16_t)FABTX_DB_RESERVED;
	fabtx__hs_pack(&r, b);
	if (req_out) *req_out = q;
}

FZ_FN void fz_auto_answer(void)
{
	uint8_t b[FABTX__HS_LEN];
	fz.on_send = NULL;
	fz_answer(b, NULL);
	fz_queue(b, sizeof b);
}

/* connect over fz:// or fzo:// with a well-formed answer; NULL if the
 * core refused it (it must not) */
FZ_FN fabtx_conn *fz_open(fabtx_ctx *ctx, int ordered, fabtx__hs *req)
{
	fabtx_conn *c = NULL;
	int rc;
	fz.qn = 0;
	fz.on_send = fz_auto_answer;
	rc = fabtx_connect(ctx, ordered ? "fzo://peer" : "fz://peer", &c, 0);
	fz.on_send = NULL;
	if (rc < 0) return NULL;
	if (req) FZ_CHECK(fabtx__hs_unpack(fz.sent, (size_t)fz.sent_len, req) == 0);
	return c;
}

/* close without linger */
FZ_FN void fz_close(fabtx_conn *c)
{
	if (c) (void)fabtx_conn_close(c, 0);
}
#endif
