/* SPDX-License-Identifier: MIT */
/* fuzz_backend.h -- for the backend targets: an open fz connection whose
 * control channel and progress are handed to a real backend's parser
 * (c->be swapped for a copy of fz with those ops replaced, c->bdata for
 * the backend's own per-connection record), and a peer that has written
 * one whole message into the ring so that doorbells have something to
 * reveal. */
#ifndef FUZZ_BACKEND_H
#define FUZZ_BACKEND_H
#include "fz.h"

typedef struct fzb {
	fabtx_ctx *ctx;
	fabtx_conn *c;
	fabtx__hs req;
	fabtx_backend be;
	const fabtx_backend *saved_be;
	void *saved_bdata;
	int rewrote; /* the peer wrote cells through doorbell footers */
} fzb;

/* n cells of 128 bytes; a 40-byte message in cell 0 (seq n), not yet
 * announced */
FZ_FN int fzb_open(fzb *b, uint32_t n)
{
	fabtx_footer *f;
	uint8_t *cell;
	memset(b, 0, sizeof *b);
	fz_reset();
	b->ctx = fz_ctx_cached(n, 128, 4096);
	if (!b->ctx) return -1;
	b->c = fz_open(b->ctx, 0, &b->req);
	FZ_CHECK(b->c);
	cell = (uint8_t *)b->c->rx_win.base + FABTX_WIN_HDR_SIZE;
	memset(cell + fabtx_ring_payload_off(128, 40), 0xab, 40);
	f = (fabtx_footer *)(void *)(cell + 128 - FABTX_FOOTER_SIZE);
	f->total_len = 40;
	f->len = 40;
	f->flags = FABTX_F_FIRST | FABTX_F_LAST;
	f->conn_tag = (uint16_t)b->req.nonce;
	f->seq = n;
	b->be = fz_be;
	b->saved_be = b->c->be;
	b->saved_bdata = b->c->bdata;
	b->c->be = &b->be;
	return 0;
}

/* receive until nothing more comes; the one message, if it comes, is
 * whole and right (unless the peer rewrote the cell through a
 * doorbell-borne footer: then a length within the cell) */
FZ_FN void fzb_drain(fzb *b)
{
	uint8_t buf[256];
	int i;
	for (i = 0; i < 8; i++) {
		ssize_t r = fabtx_recv(b->c, buf, sizeof buf, 0);
		if (r >= 0) {
			int k;
			FZ_CHECK(r <= (ssize_t)fabtx_ring_payload(128));
			FZ_CHECK(b->rewrote || r == 40);
			if (!b->rewrote)
				for (k = 0; k < 40; k++) FZ_CHECK(buf[k] == 0xab);
		} else if (r != -EAGAIN) {
			break;
		}
	}
	(void)fabtx_conn_poll(b->c);
}

FZ_FN void fzb_close(fzb *b)
{
	b->c->be = b->saved_be;
	b->c->bdata = b->saved_bdata;
	fz_close(b->c);
	FZ_CHECK(fz.conns == 0);
	fz_reset();
}
#endif
