/* SPDX-License-Identifier: MIT */
/* fuzz_ring -- the receive side of a connection as a state machine driven
 * by a peer that writes cells: footers (FIRST/LAST/SPAN/SKIP/FIN,
 * CREDIT_REQ, acks), doorbells and data positions, doorbell-borne footers
 * (fabtx_conn_chunk_in), the credit word, control messages, a peer that
 * vanishes; interleaved with recv / recv_msg / release / peek / send.
 *
 * The harness is a structure-aware peer: it writes well-formed messages
 * (right-aligned payload, runs that do not wrap, SKIP to the ring's end,
 * within the credits the receiver has given) unless the input asks it to
 * corrupt one field.  While nothing was corrupted ("clean") it checks the
 * receiver like a test would: every message arrives whole, in order, with
 * its bytes; a visible message is never lost to -ECONNRESET or FIN; no
 * error appears that the peer did not cause.  Once something is
 * corrupted, only memory safety, bounds (writes stay inside the peer
 * window, recv never exceeds cap) and termination are checked. */
#include "fz.h"

#define MAXQ 64
typedef struct expect {
	uint32_t id, len;
	uint64_t end; /* pseq after its last chunk */
} expect;

typedef struct h {
	fabtx_conn *c;
	fabtx_ctx *ctx;
	fz_in in;
	uint32_t n, cs, p;
	uint16_t tag, dbase;
	int ordered, skip_ok;
	uint64_t pseq;  /* next seq the peer writes */
	uint64_t vis;   /* the receiver may see every chunk below this */
	int clean;      /* nothing corrupted yet: the oracle holds */
	int fin;        /* the peer wrote FIN (at seq fin_seq) */
	uint64_t fin_seq;
	int gone;       /* the peer vanished */
	int ended;      /* recv reported end of stream or an error */
	expect q[MAXQ];
	int qh, qn;
	uint32_t next_id;
	uint8_t *buf;
	size_t bufcap;
	fabtx_msg held[4];
	int nheld;
	uint32_t sends;
	int trace; /* FZ_TRACE=1: print the ops (debugging a finding) */
} h;

static uint8_t pat(uint32_t id, uint64_t i)
{
	return (uint8_t)(id * 131u + (uint32_t)i * 7u + (uint32_t)(i >> 8));
}

static uint8_t *cell(h *s, uint64_t seq)
{
	return (uint8_t *)s->c->rx_win.base + FABTX_WIN_HDR_SIZE +
	       (seq & (s->n - 1)) * s->cs;
}

static void put_footer(h *s, uint64_t seq, uint64_t ack, uint64_t total,
                       uint32_t len, uint16_t flags, uint16_t tag,
                       uint64_t wseq)
{
	fabtx_footer *f =
	    (fabtx_footer *)(void *)(cell(s, seq) + s->cs - FABTX_FOOTER_SIZE);
	f->ack = ack;
	f->total_len = total;
	f->len = len;
	f->flags = flags;
	f->conn_tag = tag;
	__atomic_store_n(&f->seq, wseq, __ATOMIC_RELEASE);
}

/* the receiver has released everything below this (its credit limit) */
static uint64_t room(h *s)
{
	uint64_t lim = s->c->rx.rel + s->n - 1;
	return lim > s->pseq ? lim - s->pseq : 0;
}

static void ring_data(h *s)
{
	if (s->pseq <= s->vis) return;
	if (s->ordered) {
		s->vis = s->pseq;
		return;
	}
	switch (fz_u8(&s->in) % 3) {
	case 0: /* index doorbell for the last chunk's last cell */
		fabtx_conn_doorbell_in(s->c, (uint32_t)s->dbase +
		                                 (uint32_t)((s->pseq - 1) & (s->n - 1)));
		break;
	case 1: /* absolute position */
		fabtx_conn_data_in(s->c, s->pseq);
		break;
	default: /* not yet */
		return;
	}
	s->vis = s->pseq;
}

static void check_msg(h *s, const uint8_t *d, ssize_t len)
{
	expect *e;
	uint64_t i;
	FZ_CHECK(len >= 0);
	if (!s->clean) return;
	FZ_CHECK(s->qn > 0);
	e = &s->q[s->qh];
	FZ_CHECK((uint64_t)len == e->len);
	for (i = 0; i < (uint64_t)len; i++) FZ_CHECK(d[i] == pat(e->id, i));
	s->qh = (s->qh + 1) % MAXQ;
	s->qn--;
}

/* an error or end of stream from a receive: is it one the peer caused? */
static void check_end(h *s, ssize_t rc)
{
	if (rc == -EAGAIN || rc == -EMSGSIZE || rc == -ENOBUFS) {
		if (rc == -EMSGSIZE && s->clean) FZ_CHECK(s->qn > 0);
		if (rc == -ENOBUFS) FZ_CHECK(s->nheld > 0);
		return;
	}
	s->ended = 1;
	if (!s->clean) return;
	if (rc == -ESHUTDOWN) {
		/* only after the FIN, and after every message before it */
		FZ_CHECK(s->fin);
		FZ_CHECK(s->qn == 0);
		return;
	}
	if (rc == -ECONNRESET) {
		FZ_CHECK(s->gone);
		/* what the peer made visible before it went is delivered */
		FZ_CHECK(s->qn == 0 || s->q[s->qh].end > s->vis);
		return;
	}
	fprintf(stderr, "unexpected receive error %zd on a clean stream\n", rc);
	FZ_CHECK(0);
}

static void do_recv(h *s, size_t cap)
{
	ssize_t rc;
	if (cap > s->bufcap) cap = s->bufcap;
	rc = fabtx_recv(s->c, s->buf, cap, 0);
	if (s->trace) fprintf(stderr, "  recv(%zu) = %zd\n", cap, rc);
	FZ_CHECK(rc < 0 || (size_t)rc <= cap);
	if (rc >= 0) check_msg(s, s->buf, rc);
	else check_end(s, rc);
}

static void do_recv_msg(h *s)
{
	fabtx_msg m;
	int rc;
	memset(&m, 0, sizeof m);
	if (s->nheld == 4) {
		fabtx_msg_release(s->c, &s->held[0]);
		memmove(&s->held[0], &s->held[1], 3 * sizeof m);
		s->nheld--;
	}
	rc = fabtx_recv_msg(s->c, &m, 0);
	if (rc < 0) {
		check_end(s, rc);
		return;
	}
	FZ_CHECK(m.len <= s->c->max_msg);
	check_msg(s, (const uint8_t *)m.data, (ssize_t)m.len);
	s->held[s->nheld++] = m;
}

static void release_all(h *s)
{
	while (s->nheld) fabtx_msg_release(s->c, &s->held[--s->nheld]);
}

/* make room for `need` more cells by receiving (clean mode): 1 if there */
static int make_room(h *s, uint64_t need)
{
	int tries;
	for (tries = 0; room(s) < need && tries < 4; tries++) {
		ring_data(s);
		release_all(s);
		if (s->vis < s->pseq) { /* the receiver must see what is there */
			if (s->ordered) s->vis = s->pseq;
			else {
				fabtx_conn_data_in(s->c, s->pseq);
				s->vis = s->pseq;
			}
		}
		do_recv(s, s->bufcap);
		if (s->ended) return 0;
	}
	return room(s) >= need;
}

/* a SKIP from the current cell to the ring's end */
static int put_skip(h *s)
{
	uint64_t idx = s->pseq & (s->n - 1);
	uint32_t cells = (uint32_t)(s->n - idx);
	if (!s->skip_ok || (s->clean && !make_room(s, cells))) return -1;
	put_footer(s, s->pseq, 0, 0, (cells - 1) * s->cs, FABTX_F_SKIP, s->tag,
	           s->pseq);
	s->pseq += cells;
	return 0;
}

/* corrupt one footer field as the input says; clears clean */
static void corrupt(h *s, uint64_t *total, uint32_t *len, uint16_t *flags,
                    uint16_t *tag, uint64_t *wseq)
{
	switch (fz_u8(&s->in) % 6) {
	case 0: *flags ^= (uint16_t)(1u << (fz_u8(&s->in) % 16)); break;
	case 1: *len += (uint32_t)(int8_t)fz_u8(&s->in); break;
	case 2: *total += (uint64_t)(int8_t)fz_u8(&s->in); break;
	case 3: *tag ^= (uint16_t)(1u + fz_u8(&s->in)); break;
	case 4: *wseq += (uint64_t)(int8_t)fz_u8(&s->in) * s->n; break;
	default: *len = fz_u32(&s->in); break;
	}
	s->clean = 0;
}

/* the peer sends one message of len bytes */
static void peer_msg(h *s, uint32_t len, uint8_t mode)
{
	uint32_t id = s->next_id++;
	uint64_t off = 0;
	int first = 1, bad = (mode & 0x80) != 0;
	int imm = (mode & 0x40) != 0;
	uint32_t badchunk = (uint32_t)(mode & 7);
	uint32_t k = 0;
	if (s->fin || s->gone) {
		if (!(mode & 0x20)) return;
		s->clean = 0; /* writes after FIN / death: garbage */
	}
	if (s->clean && s->qn == MAXQ) return;
	/* one cell, footer in a doorbell (fabtx_conn_chunk_in) */
	if (imm && len <= s->p && !bad) {
		uint8_t *d;
		int rc;
		if (s->clean && !make_room(s, 1)) return;
		d = cell(s, s->pseq) + fabtx_ring_payload_off(s->cs, len);
		for (off = 0; off < len; off++) d[off] = pat(id, off);
		rc = fabtx_conn_chunk_in(s->c, s->pseq + 1, len,
		                         FABTX_F_FIRST | FABTX_F_LAST |
		                             (mode & 8 ? FABTX_F_CREDIT_REQ : 0));
		if (s->clean) FZ_CHECK(rc == 0);
		s->pseq++;
		if (s->pseq > s->vis) s->vis = s->pseq; /* chunk_in says so */
		goto queued;
	}
	do {
		uint32_t clen = 0, cells;
		uint16_t fl = 0, tag = s->tag;
		uint64_t total = len, wseq;
		int span = (fz_u8(&s->in) & 1) && len - off > s->p;
		if (span) {
			/* a run: k data cells, no wrap, one cell left free */
			uint64_t idx = s->pseq & (s->n - 1);
			uint64_t maxk = s->n - 2;
			uint64_t left = len - off, kk;
			if (idx + 1 + 1 > s->n) { /* no room before the end */
				/* SKIP only between messages */
				if (!first || put_skip(s) < 0) span = 0;
				idx = s->pseq & (s->n - 1);
				if (s->ended) return;
			}
			if (span) {
				if (s->n - idx - 1 < maxk) maxk = s->n - idx - 1;
				kk = (left + s->cs - 1) / s->cs;
				if (kk > maxk) kk = maxk;
				if (kk == 0) span = 0;
				else {
					clen = left <= kk * s->cs ? (uint32_t)left
					                          : (uint32_t)(kk * s->cs);
				}
			}
		}
		if (!span) clen = len - off > s->p ? s->p : (uint32_t)(len - off);
		if (first) fl |= FABTX_F_FIRST;
		if (off + clen == len) fl |= FABTX_F_LAST;
		if (span) fl |= FABTX_F_SPAN;
		cells = fabtx_ring_chunk_cells(fl, clen, s->cs);
		if (s->clean && !make_room(s, cells)) {
			/* a half-written message can never be finished cleanly
			 * now; the rest of the stream is unchecked */
			if (!first) s->clean = 0;
			if (first) {
				s->next_id--;
				return;
			}
		}
		if (s->ended) return;
		/* payload, then the footer (published last) */
		{
			uint8_t *d = span ? cell(s, s->pseq + 1)
			                  : cell(s, s->pseq) +
			                        fabtx_ring_payload_off(s->cs, clen);
			uint32_t i;
			for (i = 0; i < clen; i++) d[i] = pat(id, off + i);
		}
		if (fz_u8(&s->in) & 0x10) fl |= FABTX_F_CREDIT_REQ;
		wseq = s->pseq;
		if (bad && k == badchunk) corrupt(s, &total, &clen, &fl, &tag, &wseq);
		put_footer(s, s->pseq, 0, total, clen, fl, tag, wseq);
		s->pseq += cells;
		off += clen;
		first = 0;
		k++;
		if (fz_u8(&s->in) & 0x20) ring_data(s); /* mid-message hint */
	} while (off < len && k < 4096);
queued:
	if (s->clean) {
		expect *e = &s->q[(s->qh + s->qn) % MAXQ];
		e->id = id;
		e->len = len;
		e->end = s->pseq;
		s->qn++;
	}
	if (mode & 0x10) ring_data(s);
}

static void ctrl_msg(h *s, uint8_t k)
{
	fabtx__hs x;
	uint8_t b[FABTX__HS_LEN + 8];
	memset(&x, 0, sizeof x);
	x.major = FABTX_WIRE_MAJOR;
	x.minor = FABTX_WIRE_MINOR;
	switch (k % 5) {
	case 0: x.type = FABTX__MSG_PING; break;
	case 1: x.type = FABTX__MSG_PING; x.status = 1; break; /* pong */
	case 2: /* RESET: an abort, data may be lost */
		x.type = FABTX__MSG_RESET;
		s->clean = 0;
		break;
	case 3: x.type = 77; break; /* unknown, valid: liveness only */
	default: { /* garbage */
		int i, len = fz_u8(&s->in) % (FABTX__HS_LEN + 8);
		for (i = 0; i < len; i++) b[i] = fz_u8(&s->in);
		fz_queue(b, len);
		s->clean = 0;
		return;
	}
	}
	fabtx__hs_pack(&x, b);
	fz_queue(b, FABTX__HS_LEN);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	h st, *s = &st;
	fabtx__hs req;
	uint8_t g;
	int steps = 0;
	static int trace = -1;
	if (trace < 0) trace = getenv("FZ_TRACE") != NULL;
	memset(s, 0, sizeof *s);
	s->in.p = data;
	s->in.n = size;
	s->trace = trace;
	fz_reset();
	g = fz_u8(&s->in);
	s->n = 4u << (g & 3);
	s->cs = 128u << ((g >> 2) & 1);
	s->ordered = (g >> 3) & 1;
	fz.imm_ok = (g >> 4) & 1;
	s->p = s->cs - FABTX_FOOTER_SIZE;
	s->ctx = fz_ctx_cached(s->n, s->cs, 1u << (10 + ((g >> 5) & 7)));
	if (!s->ctx) return 0;
	s->c = fz_open(s->ctx, s->ordered, &req);
	FZ_CHECK(s->c != NULL);
	s->tag = (uint16_t)req.nonce;
	s->dbase = req.db_base;
	s->skip_ok = 1; /* the fz acceptor says wire minor 2 */
	s->pseq = s->vis = s->n;
	s->clean = 1;
	s->bufcap = (size_t)s->c->max_msg + 64;
	s->buf = (uint8_t *)malloc(s->bufcap);
	FZ_CHECK(s->buf);
	while (fz_more(&s->in) && steps++ < 2000 && !s->ended) {
		uint8_t op = fz_u8(&s->in);
		if (trace)
			fprintf(stderr, "op %u/%u pseq %llu vis %llu rx.seq %llu rel %llu hint %llu qn %d clean %d\n",
			        op % 16, op, (unsigned long long)s->pseq,
			        (unsigned long long)s->vis,
			        (unsigned long long)s->c->rx.seq,
			        (unsigned long long)s->c->rx.rel,
			        (unsigned long long)s->c->rx.hint, s->qn, s->clean);
		switch (op % 16) {
		case 0:
		case 1:
		case 2: { /* a message: small, around a cell, or large */
			uint32_t len = fz_u16(&s->in);
			uint32_t lim = (uint32_t)s->c->max_msg;
			if (op & 0x10) len %= s->p + 2;
			else if (op & 0x20) len = len % (4 * s->n * s->cs);
			if (len > lim) len = lim;
			peer_msg(s, len, fz_u8(&s->in));
			break;
		}
		case 3:
		case 4:
			do_recv(s, (op & 0x10) ? fz_u16(&s->in) : s->bufcap);
			break;
		case 5:
			do_recv_msg(s);
			break;
		case 6:
			if (s->nheld) {
				int i = fz_u8(&s->in) % s->nheld;
				fabtx_msg_release(s->c, &s->held[i]);
				s->held[i] = s->held[--s->nheld];
			}
			break;
		case 7: { /* peek: a length, never a lie on a clean stream */
			ssize_t r = (op & 0x10) ? fabtx_peek_whole(s->c)
			                        : fabtx_peek_len(s->c);
			if (r >= 0 && s->clean && s->qn) FZ_CHECK((uint64_t)r == s->q[s->qh].len);
			(void)fabtx_conn_poll(s->c);
			(void)fabtx_conn_arm(s->c);
			break;
		}
		case 8: /* a doorbell value: data, credit, control or noise */
			if (op & 0x10) fabtx_conn_doorbell_in(s->c, fz_u16(&s->in));
			else ring_data(s);
			if (op & 0x20) {
				/* a stale/duplicate index doorbell: harmless */
				fabtx_conn_doorbell_in(s->c, (uint32_t)s->dbase +
				                                 (fz_u8(&s->in) % (2 * s->n)));
			}
			break;
		case 9: /* a data position, maybe far off (ignored) */
			fabtx_conn_data_in(s->c, s->pseq - s->n + fz_u16(&s->in) % (3 * s->n));
			break;
		case 10: { /* the credit word of my TX ring */
			fabtx_win_hdr *hd = (fabtx_win_hdr *)s->c->rx_win.base;
			uint64_t v = s->c->tx.seq - (fz_u8(&s->in) % s->n);
			if (op & 0x10) {
				v = s->c->tx.seq + 1 + fz_u8(&s->in); /* a lie */
				s->clean = 0;
			}
			if (v < s->n) v = s->n;
			__atomic_store_n(&hd->credit, v, __ATOMIC_RELEASE);
			if (op & 0x20)
				fabtx_conn_doorbell_in(s->c, (uint32_t)s->dbase + s->n +
				                                 (uint32_t)(v & (s->n - 1)));
			break;
		}
		case 11:
			ctrl_msg(s, fz_u8(&s->in));
			break;
		case 12: { /* send: credits, pending remainders, imm */
			uint32_t len = fz_u16(&s->in) % (s->n * s->p + 1);
			ssize_t r;
			if (len > s->c->max_msg) len = (uint32_t)s->c->max_msg;
			memset(s->buf, 0x5a, len);
			r = fabtx_send(s->c, s->buf, len, 0);
			if (r >= 0) FZ_CHECK((uint64_t)r == len);
			if (s->clean && !s->gone && !s->fin)
				FZ_CHECK(r >= 0 || r == -EAGAIN);
			s->sends++;
			break;
		}
		case 13: /* FIN (clean close of the peer's sending side) */
			if (s->fin || s->gone) break;
			if (s->clean && !make_room(s, 1)) break;
			if (s->ended) break;
			put_footer(s, s->pseq, 0, 0, 0, FABTX_F_FIN, s->tag, s->pseq);
			s->fin = 1;
			s->fin_seq = s->pseq++;
			if (op & 0x10) ring_data(s);
			break;
		case 14: /* a SKIP where the peer likes (valid or not) */
			if (op & 0x10) {
				put_footer(s, s->pseq, 0, 0, fz_u32(&s->in),
				           FABTX_F_SKIP, s->tag, s->pseq);
				s->pseq++;
				s->clean = 0;
			} else if (!s->fin && !s->gone) {
				(void)put_skip(s);
			}
			break;
		case 15: /* the peer vanishes (everything it rang is handed) */
			if (op & 0x10) {
				fz.write_fail = -ECONNRESET;
				s->clean = 0; /* a failed write fails the conn */
			} else if (op & 0x20) {
				fz.write_eagain = fz_u8(&s->in) % 8;
			} else {
				s->gone = 1;
				fz.gone = 1;
			}
			break;
		}
	}
	/* drain: a clean stream delivers everything visible, then ends as
	 * the peer made it end (FIN, gone) or says -EAGAIN */
	if (!s->ended) {
		int i;
		ring_data(s);
		for (i = 0; i < 4096 && !s->ended; i++) {
			uint64_t before = s->c->rx.seq;
			int q = s->qn;
			release_all(s);
			do_recv(s, s->bufcap);
			if (s->c->rx.seq == before && s->qn == q) break;
		}
		if (s->clean && !s->ended && s->vis == s->pseq && !s->gone &&
		    !s->fin)
			FZ_CHECK(s->qn == 0);
	}
	release_all(s);
	fz_close(s->c);
	FZ_CHECK(fz.conns == 0);
	free(s->buf);
	fz_reset();
	return 0;
}
