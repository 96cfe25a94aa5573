/* SPDX-License-Identifier: MIT */
/* fuzz_scif -- the SCIF backend's inbound byte stream: records of
 * {u32 type<<24 | len} + payload, doorbell records (4 bytes: data hints,
 * credit doorbells, anything) and control records (handshake-framed core
 * messages or garbage), split anywhere, after which the peer has closed.
 * The records are parsed by fabtx__scif_pump and delivered through the
 * backend's progress and ctrl_recv, as the core calls them.
 * Structure-aware: most records are well-formed with chosen values; raw
 * bytes in between cover the framing.  Checks: no crash, leak or
 * overrun; the message a data doorbell reveals is delivered whole. */
#define FZ_WITH_SCIF
#include "fuzz_backend.h"

static void rec(uint8_t *o, size_t *len, size_t cap, uint32_t type,
                const uint8_t *p, uint32_t n)
{
	if (*len + 4 + n > cap) return;
	fabtx__scif_le32(o + *len, type << 24 | n);
	if (n) memcpy(o + *len + 4, p, n);
	*len += 4 + n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fz_in in;
	fzb b;
	fabtx__scif_conn *sc;
	uint8_t *s, pl[FABTX__SCIF_CTRL_MAX + 16];
	size_t sl = 0, cap = 16384;
	uint8_t mode;
	int k;
	in.p = data;
	in.n = size;
	in.o = 0;
	mode = fz_u8(&in);
	if (fzb_open(&b, 4u << (mode & 3)) < 0) return 0;
	s = (uint8_t *)malloc(cap);
	FZ_CHECK(s);
	for (k = 0; k < 64 && fz_more(&in); k++) {
		uint8_t op = fz_u8(&in);
		switch (op % 4) {
		case 0: { /* a doorbell record */
			uint32_t v;
			switch ((op >> 2) % 4) {
			case 0: v = b.req.db_base + (fz_u8(&in) % b.req.db_count); break;
			case 1: v = fz_u8(&in) % FABTX_DB_RESERVED; break;
			default: v = fz_u32(&in); break;
			}
			fabtx__scif_le32(pl, v);
			/* a doorbell of the wrong length now and then */
			rec(s, &sl, cap, FABTX__SCIF_REC_DB, pl,
			    (op & 0x80) ? fz_u8(&in) % 9 : 4);
			break;
		}
		case 1: { /* a control record: a core message */
			fabtx__hs x;
			memset(&x, 0, sizeof x);
			x.major = FABTX_WIRE_MAJOR;
			x.minor = FABTX_WIRE_MINOR;
			x.type = fz_u8(&in) % 6;
			x.status = fz_u8(&in) % 2;
			fabtx__hs_pack(&x, pl);
			rec(s, &sl, cap, FABTX__SCIF_REC_CTRL, pl, FABTX__HS_LEN);
			break;
		}
		case 2: { /* a control record of any length and bytes */
			uint32_t n = fz_u16(&in) % (FABTX__SCIF_CTRL_MAX + 8), i;
			for (i = 0; i < n; i++) pl[i] = fz_u8(&in);
			rec(s, &sl, cap, (op & 0x80) ? fz_u8(&in) : FABTX__SCIF_REC_CTRL,
			    pl, n);
			break;
		}
		default: { /* raw bytes */
			uint32_t n = fz_u8(&in) % 16, i;
			for (i = 0; i < n && sl < cap; i++) s[sl++] = fz_u8(&in);
			break;
		}
		}
	}
	sc = (fabtx__scif_conn *)calloc(1, sizeof *sc);
	FZ_CHECK(sc);
	sc->fd = -1;
	sc->eof = 1; /* everything the peer sent is in `in` */
	sc->in = s;
	sc->in_len = sl;
	sc->in_cap = cap;
	sc->db_pos[0] = sc->db_pos[1] = (size_t)-1;
	b.be.notify.progress = fabtx__scif_progress;
	b.be.setup.ctrl_recv = fabtx__scif_ctrl_recv;
	b.c->bdata = sc;
	fzb_drain(&b);
	/* the backend's allocations came from the ctx allocator */
	free(sc->in);
	free(sc->dbq);
	free(sc);
	fzb_close(&b);
	return 0;
}
