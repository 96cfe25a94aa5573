/* The credit-based circular buffer: unit tests of the ring functions on
 * hand-made cells, and property tests through real shm:// connections. */
#define FABTX_IMPLEMENTATION
#include "fabtx.h"
#include "th.h"
#include <poll.h>
#include <stdlib.h>

TT_TEST(ring_geometry_bounds)
{
	TT_EQ(fabtx_ring_geometry_ok(4, 128), 0);
	TT_EQ(fabtx_ring_geometry_ok(32768, 1u << 20), 0);
	TT_EQ(fabtx_ring_geometry_ok(2, 128), -EINVAL);
	TT_EQ(fabtx_ring_geometry_ok(65536, 128), -EINVAL);
	TT_EQ(fabtx_ring_geometry_ok(12, 128), -EINVAL);  /* not a power of 2 */
	TT_EQ(fabtx_ring_geometry_ok(8, 64), -EINVAL);    /* too small */
	TT_EQ(fabtx_ring_geometry_ok(8, 200), -EINVAL);   /* not 64-multiple */
	TT_EQ(fabtx_ring_geometry_ok(8, (1u << 20) + 64), -EINVAL);
	TT_EQ(fabtx_ring_cells_for(0, 128), 1);
	TT_EQ(fabtx_ring_cells_for(96, 128), 1);
	TT_EQ(fabtx_ring_cells_for(97, 128), 2);
	TT_EQ(fabtx_ring_payload_off(128, 1), 128 - 32 - 8);
	TT_EQ(fabtx_ring_payload_off(128, 96), 0);
}

TT_TEST(ring_tx_credit_cap_and_validation)
{
	fabtx_ring_tx t;
	fabtx_ring_tx_init(&t, 8, 128, 7);
	TT_EQ(fabtx_ring_tx_credits(&t), 7); /* N-1 */
	t.seq += 7;
	TT_EQ(fabtx_ring_tx_credits(&t), 0);
	TT_EQ(fabtx_ring_tx_credit(&t, t.seq + 1), -EPROTO); /* never sent */
	TT_EQ(fabtx_ring_tx_credit(&t, 8 + 3), 1);
	TT_EQ(fabtx_ring_tx_credits(&t), 3);
	TT_EQ(fabtx_ring_tx_credit(&t, 8 + 2), 0); /* stale: never goes back */
	TT_EQ(t.peer_ack, 11);
	TT_EQ(fabtx_ring_tx_credit(&t, 8 + 3), 0); /* duplicate */
}

TT_TEST(ring_tx_credit_index_decode_across_wraps)
{
	fabtx_ring_tx t;
	uint64_t s = 1;
	int i;
	fabtx_ring_tx_init(&t, 16, 128, 1);
	for (i = 0; i < 20000; i++) {
		/* send a random number of chunks within credits, then get a
		 * credit doorbell carrying pos mod N for a random released pos */
		uint32_t cr = fabtx_ring_tx_credits(&t);
		uint64_t pos, before;
		if (cr) t.seq += th_rand(&s) % (cr + 1);
		pos = t.peer_ack + th_rand(&s) % (t.seq - t.peer_ack + 1);
		before = t.peer_ack;
		TT_ASSERT(fabtx_ring_tx_credit_idx(&t, (uint32_t)(pos & 15)) >= 0);
		TT_EQ(t.peer_ack, pos); /* decoded exactly, as N-1 cap promises */
		TT_ASSERT(t.peer_ack >= before);
		TT_ASSERT(t.seq - t.peer_ack <= 15);
	}
	TT_EQ(fabtx_ring_tx_credit_idx(&t, 16), -EPROTO);
}

/* write a chunk into a local ring the way a sender would */
static void put(uint8_t *cells, uint32_t c, uint32_t n, uint64_t seq,
                uint32_t len, uint64_t total, uint16_t flags, uint16_t tag)
{
	uint8_t *cell = cells + (seq & (n - 1)) * c;
	fabtx_footer *f = (fabtx_footer *)(void *)(cell + c - 32);
	if (len <= c - 32) memset(cell + fabtx_ring_payload_off(c, len), 0xab, len);
	f->ack = 0;
	f->total_len = total;
	f->len = len;
	f->flags = flags;
	f->conn_tag = tag;
	f->seq = seq;
}

TT_TEST(ring_rx_peek_validates_every_field)
{
	enum { N = 8, C = 256, P = C - 32 };
	static uint8_t cells[N * C];
	fabtx_ring_rx r;
	fabtx_footer f;
	TT_OK(fabtx_ring_rx_init(&r, N, C, cells, 0x55, 10000, NULL));
	TT_EQ(fabtx_ring_rx_peek(&r, &f), 0); /* zeroed: nothing yet */
	put(cells, C, N, N, 5, 5, FABTX_F_FIRST | FABTX_F_LAST, 0x55);
	TT_EQ(fabtx_ring_rx_peek(&r, &f), 1);
	TT_EQ(f.len, 5);
	put(cells, C, N, N, 5, 5, FABTX_F_FIRST | FABTX_F_LAST, 0x56);
	TT_EQ(fabtx_ring_rx_peek(&r, &f), -EPROTO); /* foreign tag */
	put(cells, C, N, N, P + 1, P + 1, FABTX_F_FIRST | FABTX_F_LAST, 0x55);
	TT_EQ(fabtx_ring_rx_peek(&r, &f), -EPROTO); /* len > P */
	put(cells, C, N, N, 5, 5, FABTX_F_FIRST | FABTX_F_LAST | 0x100, 0x55);
	TT_EQ(fabtx_ring_rx_peek(&r, &f), -EPROTO); /* unknown flag */
	put(cells, C, N, N + N, 5, 5, FABTX_F_FIRST | FABTX_F_LAST, 0x55);
	TT_EQ(fabtx_ring_rx_peek(&r, &f), -EPROTO); /* future lap */
	put(cells, C, N, N + 1, 5, 5, FABTX_F_FIRST | FABTX_F_LAST, 0x55);
	TT_EQ(fabtx_ring_rx_peek(&r, &f), -EPROTO); /* wrong cell */
	put(cells, C, N, N, 5, 6, FABTX_F_FIRST | FABTX_F_LAST, 0x55);
	TT_EQ(fabtx_ring_rx_peek(&r, &f), -EPROTO); /* len != total */
	put(cells, C, N, N, P, 20000, FABTX_F_FIRST, 0x55);
	TT_EQ(fabtx_ring_rx_peek(&r, &f), -EPROTO); /* total > max_msg */
	put(cells, C, N, N, 7, 2 * P, FABTX_F_FIRST, 0x55);
	TT_EQ(fabtx_ring_rx_peek(&r, &f), -EPROTO); /* short non-last chunk */
	put(cells, C, N, N, P, 2 * P, FABTX_F_LAST, 0x55);
	TT_EQ(fabtx_ring_rx_peek(&r, &f), -EPROTO); /* middle without FIRST */
	put(cells, C, N, N, 1, 0, FABTX_F_FIN | FABTX_F_FIRST | FABTX_F_LAST, 0x55);
	TT_EQ(fabtx_ring_rx_peek(&r, &f), -EPROTO); /* FIN with payload */
	/* a proper two-chunk message */
	put(cells, C, N, N, P, P + 3, FABTX_F_FIRST, 0x55);
	TT_EQ(fabtx_ring_rx_peek(&r, &f), 1);
	r.asm_active = 1;
	r.asm_total = P + 3;
	r.asm_got = P;
	r.seq++;
	put(cells, C, N, N + 1, 4, P + 3, FABTX_F_LAST, 0x55);
	TT_EQ(fabtx_ring_rx_peek(&r, &f), -EPROTO); /* overruns total */
	put(cells, C, N, N + 1, 3, P + 3, FABTX_F_FIRST | FABTX_F_LAST, 0x55);
	TT_EQ(fabtx_ring_rx_peek(&r, &f), -EPROTO); /* FIRST inside a message */
	put(cells, C, N, N + 1, 3, P + 3, FABTX_F_LAST, 0x55);
	TT_EQ(fabtx_ring_rx_peek(&r, &f), 1);
	fabtx_ring_rx_fini(&r, NULL);
}

/* SKIP chunks: exactly to the ring's end, no payload, outside a message */
TT_TEST(ring_rx_peek_validates_skips)
{
	enum { N = 8, C = 256, K = FABTX_F_SKIP };
	static uint8_t cells[N * C];
	fabtx_ring_rx r;
	fabtx_footer f;
	TT_OK(fabtx_ring_rx_init(&r, N, C, cells, 0x55, 100000, NULL));
	r.seq = N + 5; /* cell 5: cells 5, 6, 7 to the end */
	put(cells, C, N, N + 5, 2 * C, 0, K, 0x55);
	TT_EQ(fabtx_ring_rx_peek(&r, &f), 1);
	TT_EQ(fabtx_ring_chunk_cells(f.flags, f.len, C), 3);
	put(cells, C, N, N + 5, 2 * C, 0, K | FABTX_F_ACK_VALID | FABTX_F_CREDIT_REQ,
	    0x55);
	TT_EQ(fabtx_ring_rx_peek(&r, &f), 1);
	put(cells, C, N, N + 5, 1 * C, 0, K, 0x55);
	TT_EQ(fabtx_ring_rx_peek(&r, &f), -EPROTO); /* short of the end */
	put(cells, C, N, N + 5, 3 * C, 0, K, 0x55);
	TT_EQ(fabtx_ring_rx_peek(&r, &f), -EPROTO); /* past the end */
	put(cells, C, N, N + 5, 2 * C - 8, 0, K, 0x55);
	TT_EQ(fabtx_ring_rx_peek(&r, &f), -EPROTO); /* not whole cells */
	put(cells, C, N, N + 5, 2 * C, 1, K, 0x55);
	TT_EQ(fabtx_ring_rx_peek(&r, &f), -EPROTO); /* a total length */
	put(cells, C, N, N + 5, 2 * C, 0, K | FABTX_F_FIRST, 0x55);
	TT_EQ(fabtx_ring_rx_peek(&r, &f), -EPROTO); /* message flags */
	put(cells, C, N, N + 5, 2 * C, 0, K | FABTX_F_SPAN, 0x55);
	TT_EQ(fabtx_ring_rx_peek(&r, &f), -EPROTO);
	put(cells, C, N, N + 5, 2 * C, 0, K | FABTX_F_FIN, 0x55);
	TT_EQ(fabtx_ring_rx_peek(&r, &f), -EPROTO);
	r.asm_active = 1; /* inside a message */
	r.asm_total = 1000;
	put(cells, C, N, N + 5, 2 * C, 0, K, 0x55);
	TT_EQ(fabtx_ring_rx_peek(&r, &f), -EPROTO);
	r.asm_active = 0;
	r.seq = N + 7; /* the last cell alone: len 0 */
	put(cells, C, N, N + 7, 0, 0, K, 0x55);
	TT_EQ(fabtx_ring_rx_peek(&r, &f), 1);
	TT_EQ(fabtx_ring_chunk_cells(f.flags, f.len, C), 1);
	fabtx_ring_rx_fini(&r, NULL);
}

/* Footers carried by a doorbell (backends' write_imm): the core writes
 * them into the RX window only within the sender's credits, for one whole
 * cell with known flags; stale positions are ignored. */
static fabtx_conn *imm_conn(fabtx_ctx *ctx, uint8_t *cells, uint32_t n,
                            uint32_t c)
{
	fabtx_conn *k = (fabtx_conn *)calloc(1, sizeof *k);
	TT_ASSERT(k);
	k->ctx = ctx;
	snprintf(k->url, sizeof k->url, "test://imm");
	TT_OK(fabtx_ring_rx_init(&k->rx, n, c, cells, 0x77, 100000, NULL));
	return k;
}
static void imm_conn_free(fabtx_conn *k)
{
	fabtx_ring_rx_fini(&k->rx, NULL);
	free(k);
}

TT_TEST(ring_doorbell_footer_in)
{
	enum { N = 8, C = 256, P = C - 32, FL = FABTX_F_FIRST | FABTX_F_LAST };
	static uint8_t cells[N * C];
	static const struct { uint64_t pos; uint32_t len; uint16_t fl; } bad[] = {
	    {N + 1, 5, FL},                          /* beyond the credits */
	    {1, P + 1, FL},                          /* len > payload */
	    {1, 5, FABTX_F_FIRST},                   /* not a whole message */
	    {1, 5, FABTX_F_LAST},
	    {1, 5, FL | FABTX_F_SPAN},               /* runs have footers */
	    {1, 0, FL | FABTX_F_FIN},                /* so does FIN */
	    {1, 5, FL | FABTX_F_ACK_VALID},          /* no ack to carry */
	    {1, 5, FL | 0x80},                       /* unknown flag */
	};
	fabtx_ctx *ctx;
	fabtx_conn *k;
	fabtx_footer f;
	unsigned i;
	TT_OK(fabtx_ctx_create(&ctx, NULL));
	memset(cells, 0, sizeof cells);
	k = imm_conn(ctx, cells, N, C);
	/* the first chunk lives in cell 0 with seq N (a ring's positions
	 * start at N: fabtx_ring_rx_init) */
	TT_OK(fabtx_conn_chunk_in(k, N + 1, 5, FL | FABTX_F_CREDIT_REQ));
	TT_EQ(k->rx.hint, N + 1);
	TT_EQ(fabtx_ring_rx_peek(&k->rx, &f), 1);
	TT_EQ(f.len, 5);
	TT_EQ(f.total_len, 5);
	TT_EQ(f.flags, FL | FABTX_F_CREDIT_REQ);
	TT_EQ(f.seq, N);
	/* the next chunk to take is kept for the receive, as peek found it */
	TT_EQ(k->pk_seq, N + 1);
	TT_ASSERT(memcmp(&k->pk, &f, sizeof f) == 0);
	/* the last cell the credits allow (seq rel + N - 1 = 2N - 1) */
	TT_OK(fabtx_conn_chunk_in(k, 2 * N, P, FL));
	TT_EQ(k->rx.hint, 2 * N);
	TT_EQ(k->pk_seq, N + 1); /* not the next one: not kept */
	memcpy(&f, cells + (N - 1) * C + C - 32, sizeof f);
	TT_EQ(f.seq, 2 * N - 1);
	TT_EQ(f.len, P);
	TT_EQ(f.conn_tag, 0x77);
	TT_EQ(k->err, 0);
	/* consumed already: ignored, cell 0's footer untouched */
	k->rx.seq = N + 1;
	TT_OK(fabtx_conn_chunk_in(k, N + 1, 9, FL));
	TT_OK(fabtx_conn_chunk_in(k, 3, 9, FL));
	memcpy(&f, cells + C - 32, sizeof f);
	TT_EQ(f.len, 5);
	TT_EQ(f.seq, N);
	TT_EQ(k->err, 0);
	imm_conn_free(k);
	/* Valid for chunk_in, but not for the ring's state: a whole message
	 * in the middle of another one's cells, or over max_msg.  Not kept,
	 * so the receive peeks and refuses it. */
	for (i = 0; i < 2; i++) {
		memset(cells, 0, sizeof cells);
		k = imm_conn(ctx, cells, N, C);
		if (i == 0) {
			k->rx.asm_active = 1;
			k->rx.asm_total = 3 * P;
			k->rx.asm_got = P;
		} else {
			k->rx.max_msg = 4;
		}
		TT_OK(fabtx_conn_chunk_in(k, N + 1, 5, FL));
		TT_EQ(k->pk_seq, 0);
		TT_EQ(fabtx_ring_rx_peek(&k->rx, &f), -EPROTO);
		imm_conn_free(k);
	}
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		memset(cells, 0, sizeof cells);
		k = imm_conn(ctx, cells, N, C);
		TT_EQ(fabtx_conn_chunk_in(k, N + bad[i].pos, bad[i].len, bad[i].fl),
		      -EPROTO);
		TT_EQ(k->err, -EPROTO);
		TT_EQ(k->rx.hint, N); /* nothing made visible */
		imm_conn_free(k);
	}
	fabtx_ctx_destroy(ctx);
}

/* SPAN chunks: the footer cell, then whole cells of payload up to the
 * ring's end, N-1 cells at most; hostile runs are refused. */
TT_TEST(ring_rx_peek_validates_spans)
{
	enum { N = 8, C = 256, S = FABTX_F_SPAN, FL = FABTX_F_FIRST | FABTX_F_LAST };
	static uint8_t cells[N * C];
	fabtx_ring_rx r;
	fabtx_footer f;
	TT_OK(fabtx_ring_rx_init(&r, N, C, cells, 0x55, 100000, NULL));
	TT_EQ(fabtx_ring_chunk_cells(0, 5, C), 1);
	TT_EQ(fabtx_ring_chunk_cells(S, 1, C), 2);
	TT_EQ(fabtx_ring_chunk_cells(S, C, C), 2);
	TT_EQ(fabtx_ring_chunk_cells(S, C + 1, C), 3);
	/* at cell 0: up to 6 data cells (7 of 8 cells) */
	put(cells, C, N, N, 6 * C, 6 * C, FL | S, 0x55);
	TT_EQ(fabtx_ring_rx_peek(&r, &f), 1);
	TT_EQ(f.len, 6 * C);
	put(cells, C, N, N, 6 * C + 1, 6 * C + 1, FL | S, 0x55);
	TT_EQ(fabtx_ring_rx_peek(&r, &f), -EPROTO); /* would take all N cells */
	put(cells, C, N, N, 0, 0, FL | S, 0x55);
	TT_EQ(fabtx_ring_rx_peek(&r, &f), -EPROTO); /* empty run */
	put(cells, C, N, N, 0, 0, FABTX_F_FIN | S, 0x55);
	TT_EQ(fabtx_ring_rx_peek(&r, &f), -EPROTO); /* FIN as a run */
	put(cells, C, N, N, 2 * C - 1, 5 * C, FABTX_F_FIRST | S, 0x55);
	TT_EQ(fabtx_ring_rx_peek(&r, &f), -EPROTO); /* not-last, not whole cells */
	put(cells, C, N, N, 2 * C, 2 * C, FABTX_F_FIRST | S, 0x55);
	TT_EQ(fabtx_ring_rx_peek(&r, &f), -EPROTO); /* not-last but all of it */
	put(cells, C, N, N, 2 * C, 5 * C, FABTX_F_FIRST | S, 0x55);
	TT_EQ(fabtx_ring_rx_peek(&r, &f), 1); /* first of two runs */
	/* at cell 5 (seq N+5): two cells left before the end */
	r.seq = N + 5;
	put(cells, C, N, N + 5, 2 * C, 2 * C, FL | S, 0x55);
	TT_EQ(fabtx_ring_rx_peek(&r, &f), 1);
	put(cells, C, N, N + 5, 2 * C + 1, 2 * C + 1, FL | S, 0x55);
	TT_EQ(fabtx_ring_rx_peek(&r, &f), -EPROTO); /* runs past the end */
	/* inside a message: a middle run of whole cells, a last run */
	r.seq = N;
	r.asm_active = 1;
	r.asm_total = 10 * C;
	r.asm_got = 5 * C;
	put(cells, C, N, N, 3 * C, 10 * C, S, 0x55);
	TT_EQ(fabtx_ring_rx_peek(&r, &f), 1);
	put(cells, C, N, N, 3 * C + 8, 10 * C, S, 0x55);
	TT_EQ(fabtx_ring_rx_peek(&r, &f), -EPROTO); /* middle, not whole */
	put(cells, C, N, N, 4 * C, 10 * C, FABTX_F_LAST | S, 0x55);
	TT_EQ(fabtx_ring_rx_peek(&r, &f), -EPROTO); /* last, short of total */
	put(cells, C, N, N, 5 * C, 10 * C, FABTX_F_LAST | S, 0x55);
	TT_EQ(fabtx_ring_rx_peek(&r, &f), 1);
	fabtx_ring_rx_fini(&r, NULL);
}

TT_TEST(ring_rx_previous_lap_is_not_ready)
{
	enum { N = 4, C = 128 };
	static uint8_t cells[N * C];
	fabtx_ring_rx r;
	fabtx_footer f;
	TT_OK(fabtx_ring_rx_init(&r, N, C, cells, 1, 1000, NULL));
	put(cells, C, N, N, 1, 1, FABTX_F_FIRST | FABTX_F_LAST, 1);
	r.seq = 2 * N; /* second lap: cell 0 still holds seq N */
	TT_EQ(fabtx_ring_rx_peek(&r, &f), 0);
	fabtx_ring_rx_fini(&r, NULL);
}

TT_TEST(ring_rx_release_out_of_order)
{
	enum { N = 64 };
	static uint8_t cells[N * 128];
	fabtx_ring_rx r;
	uint64_t s = 99, order[N], i, j, k;
	TT_OK(fabtx_ring_rx_init(&r, N, 128, cells, 1, 1000, NULL));
	for (k = 0; k < 200; k++) {
		uint64_t base = r.seq, cnt = 1 + th_rand(&s) % (N - 1);
		r.seq += cnt; /* consumed, held */
		for (i = 0; i < cnt; i++) order[i] = base + i;
		for (i = cnt - 1; i > 0; i--) { /* shuffle */
			uint64_t t;
			j = th_rand(&s) % (i + 1);
			t = order[i];
			order[i] = order[j];
			order[j] = t;
		}
		for (i = 0; i < cnt; i++) {
			uint64_t low = UINT64_MAX;
			fabtx_ring_rx_release(&r, order[i]);
			for (j = i + 1; j < cnt; j++)
				if (order[j] < low) low = order[j];
			/* rel is exactly the lowest still-held cell */
			TT_EQ(r.rel, low == UINT64_MAX ? r.seq : low);
		}
		TT_EQ(fabtx_ring_rx_release(&r, base), 0); /* double release */
	}
	fabtx_ring_rx_fini(&r, NULL);
}

TT_TEST(ring_rx_report_thresholds)
{
	enum { N = 16 };
	static uint8_t cells[N * 128];
	fabtx_ring_rx r;
	TT_OK(fabtx_ring_rx_init(&r, N, 128, cells, 1, 1000, NULL));
	r.seq += 8;
	fabtx_ring_rx_release(&r, N);
	TT_EQ(fabtx_ring_rx_should_report(&r), 0);
	fabtx_ring_rx_release(&r, N + 1);
	fabtx_ring_rx_release(&r, N + 2);
	TT_EQ(fabtx_ring_rx_should_report(&r), 0);
	fabtx_ring_rx_release(&r, N + 3);
	TT_EQ(fabtx_ring_rx_should_report(&r), 1); /* N/4 released */
	r.reported = r.rel;
	r.credit_req = N + 5; /* a CREDIT_REQ cell at seq N+4 */
	fabtx_ring_rx_release(&r, N + 4);
	TT_EQ(fabtx_ring_rx_should_report(&r), 1);
	fabtx_ring_rx_fini(&r, NULL);
}

/* ---- property tests over real connections, one thread, non-blocking ---- */

/* Send msgs[] from a to b with non-blocking calls only, verifying every
 * byte; sizes chosen by the caller. */
static void stream_sizes(uint32_t n, uint32_t cs, const uint64_t *sizes,
                         int count)
{
	fabtx_ctx *ctx = th_ctx(n, cs);
	fabtx_conn *a, *b;
	uint64_t maxsz = 0;
	uint8_t *tx, *rx;
	int sent = 0, got = 0, i;
	for (i = 0; i < count; i++)
		if (sizes[i] > maxsz) maxsz = sizes[i];
	tx = (uint8_t *)malloc(maxsz + 1);
	rx = (uint8_t *)malloc(maxsz + 1);
	TT_ASSERT(tx && rx);
	th_pair(ctx, ctx, &a, &b);
	while (got < count) {
		if (sent < count) {
			ssize_t r;
			th_fill(tx, sizes[sent], (uint64_t)sent);
			r = fabtx_send(a, tx, sizes[sent], 0);
			if (r >= 0) {
				TT_EQ(r, sizes[sent]);
				sent++;
			} else {
				TT_EQ(r, -EAGAIN);
			}
		} else {
			fabtx_conn_poll(a); /* pushes a pending remainder */
		}
		for (;;) {
			ssize_t r = fabtx_recv(b, rx, maxsz + 1, 0);
			if (r == -EAGAIN) break;
			TT_EQ(r, sizes[got]);
			TT_EQ(th_check(rx, (size_t)r, (uint64_t)got), 0);
			got++;
		}
	}
	TT_EQ(fabtx_conn_close(a, 1000), 0);
	TT_EQ(fabtx_recv(b, rx, 1, 1000), -ESHUTDOWN);
	TT_EQ(fabtx_conn_close(b, 1000), 0);
	fabtx_ctx_destroy(ctx);
	free(tx);
	free(rx);
}

static void edge_sizes(uint32_t n)
{
	uint32_t cs = 256, p = cs - 32;
	uint64_t s[] = {0, 1, p - 1, p, p + 1, 2 * p, 3 * p, (uint64_t)(n - 1) * p,
	                (uint64_t)3 * n * p + 7, 5, 0, (uint64_t)n * p};
	stream_sizes(n, cs, s, (int)(sizeof s / sizeof s[0]));
}
TT_TEST(ring_edge_sizes_n4) { edge_sizes(4); }
TT_TEST(ring_edge_sizes_n8) { edge_sizes(8); }
TT_TEST(ring_edge_sizes_n1024) { edge_sizes(1024); }

TT_TEST(ring_random_sizes_many_wraps)
{
	uint64_t s = 12345, sizes[3000];
	int i;
	for (i = 0; i < 3000; i++) {
		uint64_t r = th_rand(&s);
		sizes[i] = (r & 3) == 0 ? r % 5000 : (r & 3) == 1 ? r % 300 : r % 40;
	}
	stream_sizes(8, 256, sizes, 3000);
}

/* a's armed fd must wake (credits back, the peer gone); then shutdown
 * goes on from there */
static int wake_then_shutdown(fabtx_conn *a)
{
	struct pollfd pf;
	pf.fd = fabtx_conn_fd(a);
	pf.events = POLLIN;
	pf.revents = 0;
	TT_EQ(poll(&pf, 1, 10000), 1);
	return fabtx_conn_shutdown(a);
}

/* b sees the end of a's stream; both close clean */
static void end_then_close(fabtx_ctx *ctx, fabtx_conn *a, fabtx_conn *b)
{
	uint8_t r[8];
	TT_EQ(fabtx_recv(b, r, sizeof r, 0), -ESHUTDOWN);
	TT_EQ(fabtx_conn_close(a, 0), 0);
	TT_EQ(fabtx_conn_close(b, 0), 0);
	fabtx_ctx_destroy(ctx);
}

/* Two-step close: fabtx_conn_shutdown never waits, arms the fd, and each
 * time the peer's reading returns credits the fd wakes and the next call
 * goes further; all of the queued message and then FIN arrive. */
TT_TEST(ring_shutdown_two_steps_wakes_on_credit_delivers_all)
{
	fabtx_ctx *ctx = th_ctx(16, 256);
	fabtx_conn *a, *b;
	static uint8_t m[20000], r[20000];
	ssize_t got = -EAGAIN;
	int rc, rounds = 0;
	th_pair(ctx, ctx, &a, &b);
	th_fill(m, sizeof m, 7);
	/* far more than the 16 cells: most of it is queued in a */
	TT_EQ(fabtx_send(a, m, sizeof m, 0), (ssize_t)sizeof m);
	rc = fabtx_conn_shutdown(a);
	TT_EQ(rc, -EAGAIN);
	/* closing: no more sends or receives */
	TT_EQ(fabtx_send(a, m, 1, 0), -ENOTCONN);
	TT_EQ(fabtx_recv(a, r, sizeof r, 0), -ENOTCONN);
	while (rc == -EAGAIN) {
		ssize_t n = fabtx_recv(b, r, sizeof r, 0); /* frees cells */
		if (n != -EAGAIN) {
			TT_EQ(got, -EAGAIN);
			got = n;
		}
		/* the credits b returned make a's armed fd readable */
		rc = wake_then_shutdown(a);
		TT_ASSERT(rc == 0 || rc == -EAGAIN);
		TT_ASSERT(++rounds < 1000);
	}
	TT_ASSERT(rounds > 1);            /* it did have to wait for credits */
	TT_EQ(fabtx_conn_shutdown(a), 0); /* the outcome stays */
	if (got == -EAGAIN) got = fabtx_recv(b, r, sizeof r, 0);
	TT_EQ(got, (ssize_t)sizeof m);
	TT_EQ(th_check(r, sizeof r, 7), 0);
	end_then_close(ctx, a, b);
}

/* Nothing queued: done at the first call, the peer sees the end. */
TT_TEST(ring_shutdown_idle_is_immediate)
{
	fabtx_ctx *ctx = th_ctx(16, 256);
	fabtx_conn *a, *b;
	uint8_t r[8];
	th_pair(ctx, ctx, &a, &b);
	TT_EQ(fabtx_send(a, "abc", 3, 0), 3);
	TT_EQ(fabtx_conn_shutdown(a), 0);
	TT_EQ(fabtx_recv(b, r, sizeof r, 0), 3);
	TT_EQ(memcmp(r, "abc", 3), 0);
	end_then_close(ctx, a, b);
}

/* The peer goes away while a shutdown waits for its credits: the fd wakes
 * and the next call reports the loss instead of waiting on. */
TT_TEST(ring_shutdown_peer_gone_reports_loss)
{
	fabtx_ctx *ctx = th_ctx(16, 256);
	fabtx_conn *a, *b;
	static uint8_t m[20000];
	int rc, rounds = 0;
	th_pair(ctx, ctx, &a, &b);
	TT_EQ(fabtx_send(a, m, sizeof m, 0), (ssize_t)sizeof m);
	TT_EQ(fabtx_conn_shutdown(a), -EAGAIN);
	fabtx_conn_close(b, 0); /* reads nothing, just goes */
	do {
		rc = wake_then_shutdown(a);
		TT_ASSERT(++rounds < 1000);
	} while (rc == -EAGAIN);
	TT_ASSERT(rc < 0); /* data was lost: said so */
	TT_EQ(fabtx_conn_shutdown(a), rc);
	TT_EQ(fabtx_conn_close(a, 0), rc);
	fabtx_ctx_destroy(ctx);
}

/* Both ends close at once, each with most of a message queued behind the
 * other's full ring and nobody reading.  A closing connection releases
 * what arrives unread, so each gets the other's credits (and FIN) instead
 * of waiting for ever; an end that sees the other's FIN first gives up
 * what it still had queued (-EPIPE).  Before, neither fd ever woke. */
TT_TEST(ring_shutdown_both_ends_at_once_ends)
{
	fabtx_ctx *ctx = th_ctx(16, 256);
	fabtx_conn *a, *b;
	fabtx_conn_stats sa, sb;
	static uint8_t m[20000];
	int ra, rb, rounds = 0;
	th_pair(ctx, ctx, &a, &b);
	TT_EQ(fabtx_send(a, m, sizeof m, 0), (ssize_t)sizeof m);
	TT_EQ(fabtx_send(b, m, sizeof m, 0), (ssize_t)sizeof m);
	ra = fabtx_conn_shutdown(a);
	rb = fabtx_conn_shutdown(b);
	TT_ASSERT(ra == -EAGAIN || rb == -EAGAIN); /* the rings are full */
	while (ra == -EAGAIN || rb == -EAGAIN) {
		struct pollfd pf[2];
		int n = 0;
		if (ra == -EAGAIN) {
			pf[n].fd = fabtx_conn_fd(a);
			pf[n].events = POLLIN;
			pf[n++].revents = 0;
		}
		if (rb == -EAGAIN) {
			pf[n].fd = fabtx_conn_fd(b);
			pf[n].events = POLLIN;
			pf[n++].revents = 0;
		}
		/* an armed fd must wake: the other end released cells */
		TT_ASSERT(poll(pf, (nfds_t)n, 10000) > 0);
		if (ra == -EAGAIN) ra = fabtx_conn_shutdown(a);
		if (rb == -EAGAIN) rb = fabtx_conn_shutdown(b);
		TT_ASSERT(++rounds < 1000);
	}
	TT_ASSERT(ra == 0 || ra == -EPIPE);
	TT_ASSERT(rb == 0 || rb == -EPIPE);
	TT_OK(fabtx_conn_stats_get(a, &sa));
	TT_OK(fabtx_conn_stats_get(b, &sb));
	/* an end that finished clean had all of its message taken by the
	 * other, which released it unread */
	TT_ASSERT(ra == 0 || rb == 0);
	if (ra == 0) TT_EQ(sb.msgs_discarded, 1);
	if (rb == 0) TT_EQ(sa.msgs_discarded, 1);
	TT_EQ(fabtx_conn_close(a, 0), ra);
	TT_EQ(fabtx_conn_close(b, 0), rb);
	fabtx_ctx_destroy(ctx);
}

TT_TEST(ring_credit_exhaustion_and_recovery)
{
	fabtx_ctx *ctx = th_ctx(16, 256);
	fabtx_conn *a, *b;
	fabtx_conn_stats st;
	memset(&st, 0, sizeof st);
	char m[8] = "x";
	int i, sent = 0;
	th_pair(ctx, ctx, &a, &b);
	while (fabtx_send(a, m, 1, 0) == 1) sent++;
	TT_EQ(sent, 15); /* N-1 credits, never a silent drop */
	TT_EQ(fabtx_send(a, m, 1, 0), -EAGAIN);
	TT_EQ(fabtx_conn_poll(a) & FABTX_POLLOUT, 0);
	for (i = 0; i < 3; i++) TT_EQ(fabtx_recv(b, m, 8, 0), 1);
	TT_EQ(fabtx_send(a, m, 1, 0), -EAGAIN); /* reported in batches of N/4 */
	TT_EQ(fabtx_recv(b, m, 8, 0), 1);
	TT_ASSERT(fabtx_conn_poll(a) & FABTX_POLLOUT);
	for (i = 0; i < 4; i++) TT_EQ(fabtx_send(a, m, 1, 0), 1);
	TT_EQ(fabtx_send(a, m, 1, 0), -EAGAIN);
	fabtx_conn_stats_get(a, &st);
	TT_ASSERT(st.credit_stalls >= 3);
	while (fabtx_recv(b, m, 8, 0) == 1) sent--;
	TT_EQ(sent, 0); /* the 15 left in the ring arrive intact */
	fabtx_conn_close(a, 0);
	fabtx_conn_close(b, 0);
	fabtx_ctx_destroy(ctx);
}

TT_TEST(ring_zero_copy_out_of_order_release_and_cap)
{
	fabtx_ctx *ctx = th_ctx(16, 256);
	fabtx_conn *a, *b;
	fabtx_msg m[16];
	fabtx_conn_stats st;
	memset(&st, 0, sizeof st);
	uint8_t buf[64];
	int i, order[] = {3, 0, 7, 1, 2, 6, 4, 5, 8, 9};
	th_pair(ctx, ctx, &a, &b);
	for (i = 0; i < 10; i++) {
		th_fill(buf, 40, (uint64_t)i);
		TT_EQ(fabtx_send(a, buf, 40, 0), 40);
	}
	for (i = 0; i < 10; i++) {
		TT_OK(fabtx_recv_msg(b, &m[i], 0));
		TT_EQ(m[i].len, 40);
		TT_EQ(th_check((uint8_t *)m[i].data, 40, (uint64_t)i), 0);
	}
	fabtx_conn_stats_get(b, &st);
	TT_EQ(st.zc_lent, 8); /* H = N/2 cells lent in place */
	TT_EQ(st.zc_copied, 2); /* beyond the cap: copied, ring not stalled */
	for (i = 0; i < 10; i++) fabtx_msg_release(b, &m[order[i]]);
	/* every credit came back: the sender can fill the ring again */
	for (i = 0; i < 15; i++) TT_EQ(fabtx_send(a, buf, 1, 0), 1);
	TT_EQ(fabtx_send(a, buf, 1, 0), -EAGAIN);
	fabtx_conn_close(a, 0);
	fabtx_conn_close(b, 0);
	fabtx_ctx_destroy(ctx);
}

/* One side of a bidirectional stream: sends small (lent on receipt) and
 * multi-ring messages alternately; receives with zero-copy, keeping up to
 * two messages held, and releases them all when told the ring stalled. */
struct side {
	fabtx_conn *c;
	int sent, got;
	fabtx_msg held[4];
	int nheld;
	uint64_t tag;
	int enobufs;
};
static size_t side_size(int i) { return (i & 1) ? 4000 : 1 + (size_t)i % 90; }
static void side_step(struct side *s, uint64_t peer_tag, int total)
{
	static uint8_t buf[4000];
	fabtx_msg m;
	int rc;
	if (s->sent < total) {
		th_fill(buf, side_size(s->sent), s->tag + (uint64_t)s->sent);
		if (fabtx_send(s->c, buf, side_size(s->sent), 0) >= 0) s->sent++;
	} else {
		fabtx_conn_poll(s->c);
	}
	rc = fabtx_recv_msg(s->c, &m, 0);
	if (rc == -ENOBUFS) { /* told, not hung: release what we hold */
		s->enobufs++;
		while (s->nheld) fabtx_msg_release(s->c, &s->held[--s->nheld]);
		return;
	}
	if (rc == -EAGAIN) return;
	TT_OK(rc);
	TT_EQ(m.len, side_size(s->got));
	TT_EQ(th_check((uint8_t *)m.data, m.len, peer_tag + (uint64_t)s->got), 0);
	s->got++;
	if (s->nheld < 2) s->held[s->nheld++] = m; /* keep it a while */
	else fabtx_msg_release(s->c, &m);
}

TT_TEST(ring_both_directions_max_messages_with_held_cells)
{
	/* two peers streaming multi-ring messages at N=4 while holding
	 * zero-copy cells: both finish, a stall is reported, never a hang */
	fabtx_ctx *ctx = th_ctx(4, 128);
	struct side a, b;
	memset(&a, 0, sizeof a);
	memset(&b, 0, sizeof b);
	a.tag = 0;
	b.tag = 1000;
	th_pair(ctx, ctx, &a.c, &b.c);
	while (a.got < 40 || b.got < 40) {
		side_step(&a, b.tag, 40);
		side_step(&b, a.tag, 40);
	}
	TT_ASSERT(a.enobufs + b.enobufs > 0);
	while (a.nheld) fabtx_msg_release(a.c, &a.held[--a.nheld]);
	while (b.nheld) fabtx_msg_release(b.c, &b.held[--b.nheld]);
	fabtx_conn_close(a.c, 0);
	fabtx_conn_close(b.c, 0);
	fabtx_ctx_destroy(ctx);
}

TT_TEST(ring_sendv_gathers_one_message)
{
	fabtx_ctx *ctx = th_ctx(32, 256);
	fabtx_conn *a, *b;
	static uint8_t src[3000], out[3000];
	fabtx_iov v[5];
	th_fill(src, sizeof src, 7);
	v[0].base = src;        v[0].len = 1;
	v[1].base = src + 1;    v[1].len = 0;
	v[2].base = src + 1;    v[2].len = 250;
	v[3].base = src + 251;  v[3].len = 2000;
	v[4].base = src + 2251; v[4].len = 749;
	th_pair(ctx, ctx, &a, &b);
	TT_EQ(fabtx_sendv(a, v, 5, 1000), 3000);
	TT_EQ(fabtx_recv(b, out, sizeof out, 1000), 3000);
	TT_EQ(th_check(out, 3000, 7), 0);
	TT_EQ(fabtx_sendv(a, NULL, 0, 1000), 0); /* an empty message */
	TT_EQ(fabtx_recv(b, out, sizeof out, 1000), 0);
	fabtx_conn_close(a, 0);
	fabtx_conn_close(b, 0);
	fabtx_ctx_destroy(ctx);
}

TT_TEST(ring_small_buffer_keeps_message_queued)
{
	fabtx_ctx *ctx = th_ctx(8, 256);
	fabtx_conn *a, *b;
	uint8_t src[1000], out[1000];
	th_fill(src, sizeof src, 3);
	th_pair(ctx, ctx, &a, &b);
	TT_EQ(fabtx_send(a, src, 10, 0), 10);
	TT_EQ(fabtx_send(a, src, 1000, 0), 1000);
	TT_EQ(fabtx_recv(b, out, 9, 0), -EMSGSIZE);
	TT_EQ(fabtx_peek_len(b), 10);
	TT_EQ(fabtx_recv(b, out, 10, 0), 10);
	TT_EQ(fabtx_recv(b, out, 999, 0), -EMSGSIZE);
	TT_EQ(fabtx_recv(b, out, 1000, 0), 1000);
	TT_EQ(th_check(out, 1000, 3), 0);
	fabtx_conn_close(a, 0);
	fabtx_conn_close(b, 0);
	fabtx_ctx_destroy(ctx);
}

TT_TEST(ring_peek_whole_waits_for_the_last_cell)
{
	/* 16 cells of 224 B payload: A takes 10, B (8 cells, half the ring)
	 * gets 6 now and the rest only once A's cells come back */
	fabtx_ctx *ctx = th_ctx(16, 256);
	fabtx_conn *a, *b;
	uint8_t src[10 * 224], out[10 * 224];
	const size_t la = 10 * 224, lb = 8 * 224 - 7;
	th_fill(src, sizeof src, 9);
	th_pair(ctx, ctx, &a, &b);
	TT_EQ(fabtx_peek_whole(b), -EAGAIN);
	TT_EQ(fabtx_send(a, src, la, 0), (ssize_t)la);
	TT_EQ(fabtx_send(a, src, lb, 0), (ssize_t)lb); /* remainder pending */
	TT_EQ(fabtx_peek_whole(b), (ssize_t)la);
	TT_EQ(fabtx_recv(b, out, sizeof out, 0), (ssize_t)la);
	TT_EQ(fabtx_peek_len(b), (ssize_t)lb); /* it has started ...     */
	TT_EQ(fabtx_peek_whole(b), -EAGAIN);   /* ... but is not all here */
	TT_OK(fabtx_conn_poll(a));             /* credits in, rest out    */
	TT_EQ(fabtx_peek_whole(b), (ssize_t)lb);
	TT_EQ(fabtx_recv(b, out, sizeof out, 0), (ssize_t)lb);
	TT_EQ(th_check(out, lb, 9), 0);
	TT_EQ(fabtx_send(a, src, 0, 0), 0);
	TT_EQ(fabtx_peek_whole(b), 0);
	TT_EQ(fabtx_recv(b, out, sizeof out, 0), 0);
	TT_EQ(fabtx_peek_whole(b), -EAGAIN);
	fabtx_conn_close(a, 0);
	fabtx_conn_close(b, 0);
	fabtx_ctx_destroy(ctx);
}

TT_TEST(ring_empty_message_waits_for_credit)
{
	/* a 0-byte message that must wait for a credit is sent, not dropped */
	fabtx_ctx *ctx = th_ctx(4, 128);
	fabtx_conn *a, *b;
	char m[4];
	int i;
	th_pair(ctx, ctx, &a, &b);
	for (i = 0; i < 3; i++) TT_EQ(fabtx_send(a, "abc", 3, 0), 3);
	TT_EQ(fabtx_send(a, m, 0, 0), -EAGAIN);
	TT_EQ(fabtx_send(a, m, 0, 50), -ETIMEDOUT); /* blocking: times out */
	for (i = 0; i < 3; i++) TT_EQ(fabtx_recv(b, m, sizeof m, 0), 3);
	TT_EQ(fabtx_send(a, m, 0, 1000), 0);
	TT_EQ(fabtx_recv(b, m, sizeof m, 1000), 0); /* it arrived */
	TT_EQ(fabtx_recv(b, m, sizeof m, 0), -EAGAIN);
	fabtx_conn_close(a, 0);
	fabtx_conn_close(b, 0);
	fabtx_ctx_destroy(ctx);
}

TT_TEST(ring_oversized_message_refused)
{
	fabtx_ctx_config cfg = fabtx_ctx_config_init();
	fabtx_ctx *ctx;
	fabtx_conn *a, *b;
	static uint8_t big[5000];
	cfg.cell_count = 32; /* the message fits: one thread sends and receives */
	cfg.cell_size = 256;
	cfg.max_msg = 4096;
	TT_OK(fabtx_ctx_create(&ctx, &cfg));
	th_pair(ctx, ctx, &a, &b);
	TT_EQ(fabtx_send(a, big, 4097, 0), -EMSGSIZE);
	TT_EQ(fabtx_send(a, big, 4097, 1000), -EMSGSIZE);
	TT_EQ(fabtx_send(a, big, 4096, 1000), 4096);
	TT_EQ(fabtx_recv(b, big, sizeof big, 1000), 4096);
	fabtx_conn_close(a, 0);
	fabtx_conn_close(b, 0);
	fabtx_ctx_destroy(ctx);
}

TT_MAIN()
