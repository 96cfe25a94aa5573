/* SPDX-License-Identifier: MIT */
/* fuzz_handshake -- both directions of the versioned handshake: the
 * connector reading the acceptor's response, the acceptor reading a
 * connector's request.  Structure-aware: most inputs start from a valid
 * message (the one a real peer would send) and change fields to chosen
 * values, then fix the CRC, so that the checks behind the CRC are what
 * gets exercised; raw inputs (CRC fixed up or not) cover the envelope.
 * An accepted handshake must leave a usable connection whose geometry
 * both sides allow; a refused one must leave nothing behind (LSan, and
 * the fz backend's count of open connections). */
#include "fz.h"

static fz_in in;
static uint8_t mode;

static const uint64_t vals[] = {0,     1,     2,     3,      4,      8,
                                15,    16,    17,    31,     32,     64,
                                127,   128,   129,   192,    255,    256,
                                4096,  8192,  32768, 65535,  65536,  1u << 20,
                                (1u << 20) + 64,   0xffffffffu, 1ull << 40,
                                (1ull << 40) + 1,  ~0ull, ~0ull - 63};

/* field offsets and widths in the 96-byte message (fabtx__hs_pack) */
static const uint8_t foff[] = {4, 6, 8, 12, 16, 20, 24, 32, 36, 40,
                               48, 56, 64, 72, 74, 76, 80, 88};
static const uint8_t fw[] = {2, 2, 4, 4, 4, 4, 8, 4, 4, 8,
                             8, 8, 8, 2, 2, 4, 8, 4};

static void put(uint8_t *b, int w, uint64_t v)
{
	int i;
	for (i = 0; i < w; i++) b[i] = (uint8_t)(v >> (8 * i));
}

/* change the message as the input says, then fix the envelope */
static int mutate(uint8_t *b, int len)
{
	int k, nf = fz_u8(&in) % 6;
	if (mode & 2) {
		/* raw: the input is the message */
		len = fz_u8(&in) % (FABTX__HS_LEN + 9);
		for (k = 0; k < len; k++) b[k] = fz_u8(&in);
		if (len == FABTX__HS_LEN && (mode & 4)) {
			fabtx__put32(b, FABTX__MAGIC);
			fabtx__put32(b + 8, FABTX__HS_LEN);
			fabtx__put32(b + 92, fabtx__crc32c(b, 92));
		}
		return len;
	}
	for (k = 0; k < nf; k++) {
		uint8_t f = fz_u8(&in) % sizeof foff, v = fz_u8(&in);
		uint64_t x = (v & 0x80) ? vals[v % (sizeof vals / sizeof vals[0])]
		                        : (uint64_t)fz_u32(&in);
		if (v & 0x40) { /* relative to what is there */
			uint64_t cur = 0;
			int i;
			for (i = fw[f] - 1; i >= 0; i--) cur = cur << 8 | b[foff[f] + i];
			x = cur + (uint64_t)(int8_t)fz_u8(&in);
		}
		put(b + foff[f], fw[f], x);
	}
	if (!(mode & 4)) fabtx__put32(b + 92, fabtx__crc32c(b, 92));
	return len;
}

static void answer(void)
{
	uint8_t b[FABTX__HS_LEN + 8];
	int len;
	fz.on_send = NULL;
	fz_answer(b, NULL);
	len = mutate(b, FABTX__HS_LEN);
	if (mode & 8) fz.gone = 1; /* and the peer leaves right after */
	fz_queue(b, len);
}

/* a connection the handshake produced: use it a little */
static void exercise(fabtx_conn *c, uint32_t n, uint32_t cs, uint64_t mm)
{
	uint8_t buf[512];
	ssize_t r;
	FZ_CHECK(c->rx.n <= n && c->rx.c <= cs && c->max_msg <= mm);
	FZ_CHECK(fabtx_ring_geometry_ok(c->rx.n, c->rx.c) == 0);
	memset(buf, 1, sizeof buf);
	r = fabtx_send(c, buf, fz_u8(&in), 0);
	FZ_CHECK(r >= 0 || r == -EAGAIN || r == -EMSGSIZE || r == -ECONNRESET);
	r = fabtx_recv(c, buf, sizeof buf, 0);
	(void)r;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static fabtx_listener *ls[4];
	fabtx_ctx *ctx;
	fabtx_conn *c = NULL;
	uint32_t n, cs;
	uint64_t mm;
	int rc, g;
	in.p = data;
	in.n = size;
	in.o = 0;
	fz_reset();
	mode = fz_u8(&in);
	g = (mode >> 4) & 3;
	n = 4u << g;
	cs = 128u << g;
	mm = 1u << (12 + g);
	ctx = fz_ctx_cached(n, cs, mm);
	if (!ctx) return 0;
	if (!(mode & 1)) {
		/* connector: our request goes out, the fuzzed answer comes back */
		fz.on_send = answer;
		rc = fabtx_connect(ctx, (mode & 0x40) ? "fzo://p" : "fz://p", &c, 0);
		fz.on_send = NULL;
		if (rc == 0) {
			exercise(c, n, cs, mm);
			fz_close(c);
		} else {
			FZ_CHECK(c == NULL);
		}
	} else {
		/* acceptor: a fuzzed request; a valid one starts from ours */
		fabtx__hs q;
		uint8_t b[FABTX__HS_LEN + 8];
		int len;
		memset(&q, 0, sizeof q);
		q.major = FABTX_WIRE_MAJOR;
		q.minor = FABTX_WIRE_MINOR;
		q.type = FABTX__MSG_REQ;
		q.nonce = 0x1234567890abcdefull;
		q.cell_size = cs;
		q.cell_count = n;
		q.max_msg = mm;
		q.win_addr = 0x30000;
		q.win_len = fabtx__win_need(n, cs);
		q.db_count = (uint16_t)(2 * n);
		q.db_base = (uint16_t)(q.db_count < 16 ? 16 : q.db_count);
		fabtx__hs_pack(&q, b);
		len = mutate(b, FABTX__HS_LEN);
		fz_queue(b, len);
		if (mode & 8) fz.gone = 1;
		if (!ls[g] && fabtx_listen(ctx, "fz://l", &ls[g]) < 0) return 0;
		rc = fabtx_accept(ls[g], &c, 0);
		if (rc == 0) {
			fabtx__hs r;
			/* the answer the core sent: valid, our nonce back,
			 * geometry within what both allow */
			FZ_CHECK(fabtx__hs_unpack(fz.sent, (size_t)fz.sent_len, &r) == 0);
			FZ_CHECK(r.type == FABTX__MSG_RESP && r.status == FABTX__HS_OK);
			FZ_CHECK(fabtx__hs_unpack(b, (size_t)len, &q) == 0);
			FZ_CHECK(r.nonce == q.nonce);
			FZ_CHECK(r.cell_count <= q.cell_count && r.cell_size <= q.cell_size);
			FZ_CHECK(r.max_msg <= q.max_msg);
			exercise(c, n, cs, mm);
			fz_close(c);
		} else {
			FZ_CHECK(c == NULL);
		}
	}
	FZ_CHECK(fz.conns == 0);
	fz_reset();
	return 0;
}
