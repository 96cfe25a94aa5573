/* SPDX-License-Identifier: MIT */
/* fuzz_rio -- the RapidIO backend's inbound records: rio_cm control frames
 * (the kernel's 20-byte header, then {kind, version, len, wire doorbell
 * range} and a payload: core messages, RESYNC, POS) as ctrl_recv reads
 * them, and wire doorbells from the mport event FIFO as
 * fabtx__rio_event decodes them (data hints mod 2N, credit, control,
 * bye, foreign values).  rio_cm is stood in for by this file's ioctl():
 * RIO_CM_CHAN_RECEIVE hands out the fuzzed frames, RIO_CM_CHAN_SEND
 * (the POS reply) succeeds.  Structure-aware: frames are well-formed
 * with chosen fields unless the input says raw.  Checks: no crash or
 * overrun, a frame's payload never exceeds the caller's cap, the
 * message a doorbell reveals is delivered whole. */
#define FZ_WITH_RIO
#include "fuzz_backend.h"
#include <stdarg.h>

#define NFR 16
static uint8_t frames[NFR][FABTX__RIO_MAX_MSG];
static uint16_t flen[NFR];
static int nfr, cur;
static int cm_fd = -1;

int ioctl(int fd, unsigned long req, ...);
int ioctl(int fd, unsigned long req, ...)
{
	va_list ap;
	void *arg;
	va_start(ap, req);
	arg = va_arg(ap, void *);
	va_end(ap);
	if (fd == cm_fd && req == RIO_CM_CHAN_RECEIVE) {
		struct rio_cm_msg *m = (struct rio_cm_msg *)arg;
		if (cur == nfr) {
			errno = ETIME;
			return -1;
		}
		FZ_CHECK(m->size >= flen[cur]);
		memcpy((void *)(uintptr_t)m->msg, frames[cur], flen[cur]);
		cur++;
		return 0;
	}
	if (fd == cm_fd && req == RIO_CM_CHAN_SEND) {
		struct rio_cm_msg *m = (struct rio_cm_msg *)arg;
		FZ_CHECK(m->size <= FABTX__RIO_FRAME + FABTX__RIO_CTRL_MAX);
		return 0;
	}
	errno = ENOTTY;
	return -1;
}

static void st16be(uint8_t *b, uint16_t v)
{
	b[0] = (uint8_t)(v >> 8);
	b[1] = (uint8_t)v;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fz_in in;
	fzb b;
	fabtx__rio_conn *r;
	uint8_t mode, buf[FABTX__RIO_CTRL_MAX];
	uint32_t n;
	int k;
	in.p = data;
	in.n = size;
	in.o = 0;
	mode = fz_u8(&in);
	n = 4u << (mode & 3);
	if (cm_fd < 0) cm_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (fzb_open(&b, n) < 0) return 0;
	r = (fabtx__rio_conn *)calloc(1, sizeof *r);
	FZ_CHECK(r);
	r->mfd = -1;
	r->cfd = cm_fd;
	r->ch = 7;
	r->me = 1;
	r->peer = (mode & 4) ? FABTX__RIO_ANY_DESTID : 2;
	r->wbase = 0x100;
	r->wcount = (uint16_t)(2 * n + 2);
	r->wenabled = 1;
	r->last_probe_ms = fabtx_now_ms();
	b.c->bdata = r;
	nfr = cur = 0;
	while (nfr < NFR && fz_more(&in)) {
		uint8_t op = fz_u8(&in), *f = frames[nfr];
		uint16_t plen;
		if (op & 1) { /* a wire doorbell from the FIFO */
			uint16_t w;
			switch ((op >> 1) % 4) {
			case 0: w = (uint16_t)(r->wbase + fz_u8(&in) % (2 * n)); break;
			case 1: w = (uint16_t)(r->wbase + r->wcount - 1 - fz_u8(&in) % 3); break;
			default: w = fz_u16(&in); break;
			}
			fabtx__rio_event(b.c, w);
			if (op & 0x80) {
				uint8_t p[8];
				uint64_t v = b.c->rx.seq + fz_u8(&in) % (2 * n);
				int i;
				for (i = 0; i < 8; i++) p[i] = (uint8_t)(v >> (8 * i));
				fabtx__rio_pos_in(b.c, p, (op & 0x40) ? 8 : fz_u8(&in) % 9);
			}
			continue;
		}
		memset(f, 0, FABTX__RIO_FRAME);
		if (op & 2) { /* raw */
			uint16_t i, l = fz_u16(&in) % (FABTX__RIO_MAX_MSG + 1);
			for (i = 0; i < l; i++) f[i] = fz_u8(&in);
			flen[nfr++] = l;
			continue;
		}
		/* the kernel's header: src id, then the length at 16 */
		f[3] = (op & 4) ? fz_u8(&in) : 2;
		f[FABTX__RIO_CM_HDR] = (uint8_t)((op >> 3) % 5);
		f[FABTX__RIO_CM_HDR + 1] = (op & 0x40) ? fz_u8(&in) : FABTX__RIO_VERSION;
		switch ((op >> 5) % 2) {
		case 0: { /* a core message */
			fabtx__hs x;
			memset(&x, 0, sizeof x);
			x.major = FABTX_WIRE_MAJOR;
			x.minor = FABTX_WIRE_MINOR;
			x.type = fz_u8(&in) % 6;
			fabtx__hs_pack(&x, f + FABTX__RIO_FRAME);
			plen = FABTX__HS_LEN;
			break;
		}
		default: {
			uint16_t i;
			plen = fz_u16(&in) % (FABTX__RIO_CTRL_MAX + 8);
			for (i = 0; i < plen; i++) f[FABTX__RIO_FRAME + i] = fz_u8(&in);
			break;
		}
		}
		fabtx__rio_st16(f + 22, plen);
		if (op & 0x80) { /* a wire doorbell range announcement */
			fabtx__rio_st16(f + 24, fz_u16(&in));
			fabtx__rio_st16(f + 26, fz_u16(&in));
		}
		st16be(f + 16, (uint16_t)(FABTX__RIO_FRAME + plen +
		                          ((op & 0x10) ? (int8_t)fz_u8(&in) : 0)));
		flen[nfr++] = (uint16_t)(FABTX__RIO_FRAME + plen);
	}
	/* the backend's own reader, then the core's use of it */
	for (k = 0; k < NFR + 2 && cur < nfr; k++) {
		int rc;
		r->ctrl_pending = 1;
		rc = fabtx__rio_ctrl_recv(b.c, buf, (mode & 8) ? 40 : sizeof buf, 0);
		FZ_CHECK(rc <= (int)sizeof buf);
		if (rc == -EAGAIN) break;
	}
	b.be.setup.ctrl_recv = fabtx__rio_ctrl_recv;
	fzb_drain(&b);
	free(r);
	fzb_close(&b);
	return 0;
}
