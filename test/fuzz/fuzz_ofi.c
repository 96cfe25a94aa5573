/* SPDX-License-Identifier: MIT */
/* fuzz_ofi -- what the ofi backend reads from a peer: the bootstrap
 * messages (magic, version, kind, length + payload; REJECT with an errno)
 * through fabtx__ofi_brecv, the control frames on the bootstrap socket
 * ({u32 len} + message, WAKE, BYE with and without the final position,
 * oversized lengths, EOF anywhere) through the backend's ctrl_recv, and
 * the 32-bit doorbells and 64-bit CQ data words through fabtx__ofi_db_in
 * and fabtx__ofi_imm_in (position bit, footer in the upper half).  The
 * socket is a socketpair the harness fills and closes; no libfabric
 * object is opened.  Structure-aware frames with chosen fields, raw bytes
 * in between.  Checks: no crash, overrun or hang; what ctrl_recv returns
 * fits the cap; the message a doorbell reveals is delivered whole. */
#define FZ_WITH_OFI
#include "fuzz_backend.h"
#include <sys/socket.h>

static void w32(uint8_t *b, uint32_t v) { fabtx__ofi_put32(b, v); }

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fz_in in;
	fzb b;
	fabtx__ofi_conn *o;
	uint8_t mode, s[8192], buf[FABTX__OFI_CTRL_MAX + 64];
	size_t sl = 0;
	int sv[2], k;
	uint32_t blen;
	in.p = data;
	in.n = size;
	in.o = 0;
	mode = fz_u8(&in);
	/* 1: one bootstrap message */
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) return 0;
	{
		uint8_t h[12 + 1200];
		uint32_t l = fz_u16(&in) % 1200, i;
		w32(h, (mode & 1) ? fz_u32(&in) : FABTX__OFI_MAGIC);
		w32(h + 4, (mode & 2) ? fz_u32(&in)
		                      : (FABTX__OFI_BOOT_VER << 16) | (fz_u8(&in) % 7));
		w32(h + 8, (mode & 4) ? fz_u32(&in) : l);
		for (i = 0; i < l; i++) h[12 + i] = fz_u8(&in);
		if (write(sv[1], h, 12 + l) < 0) abort();
		shutdown(sv[1], SHUT_WR);
		{ /* the setup's non-blocking frame reader, as a step sees it */
			fabtx__ofi_conn *bo =
			    (fabtx__ofi_conn *)calloc(1, sizeof *bo);
			FZ_CHECK(bo);
			bo->sock = sv[0];
			for (k = 1; k <= 5; k++) {
				int rc = fabtx__ofi_bframe(bo, (uint32_t)k, &blen);
				FZ_CHECK(rc <= 1);
				if (rc == 1) {
					FZ_CHECK(blen <= FABTX__OFI_BMAX - 1);
					FZ_CHECK(bo->bin_have == 12 + blen);
					bo->bin_have = 0;
					continue;
				}
				FZ_CHECK(bo->bin_have <= sizeof bo->bin);
				if (rc != -EPROTO) break; /* consumed, or EOF */
			}
			free(bo);
		}
	}
	close(sv[0]);
	close(sv[1]);
	/* 2: control frames, doorbells and CQ data on a connection */
	if (fzb_open(&b, 4u << ((mode >> 3) & 3)) < 0) return 0;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, sv) < 0) {
		fzb_close(&b);
		return 0;
	}
	o = (fabtx__ofi_conn *)calloc(1, sizeof *o);
	FZ_CHECK(o);
	o->c = b.c;
	o->sock = sv[0];
	o->epfd = -1;
	o->wsock = -1;
	o->eq_fd = -1;
	b.c->bdata = o;
	for (k = 0; k < 64 && fz_more(&in); k++) {
		uint8_t op = fz_u8(&in);
		switch (op % 6) {
		case 0: { /* a core message frame */
			fabtx__hs x;
			if (sl + 4 + FABTX__HS_LEN > sizeof s) break;
			memset(&x, 0, sizeof x);
			x.major = FABTX_WIRE_MAJOR;
			x.minor = FABTX_WIRE_MINOR;
			x.type = fz_u8(&in) % 6;
			w32(s + sl, FABTX__HS_LEN);
			fabtx__hs_pack(&x, s + sl + 4);
			sl += 4 + FABTX__HS_LEN;
			break;
		}
		case 1: /* WAKE */
			if (sl + 4 > sizeof s) break;
			w32(s + sl, FABTX__OFI_WAKE);
			sl += 4;
			break;
		case 2: { /* BYE, with a position near the ring's or not */
			uint64_t pos = b.c->rx.seq + (uint64_t)(int8_t)fz_u8(&in);
			if (sl + 12 > sizeof s) break;
			w32(s + sl, FABTX__OFI_BYE);
			fabtx__ofi_put64(s + sl + 4, (op & 0x80) ? fz_u64(&in) : pos);
			sl += (op & 0x40) ? 4 : 12;
			break;
		}
		case 3: { /* a frame of any length */
			uint32_t l = fz_u16(&in), i, n = l % 600;
			if (sl + 4 + n > sizeof s) break;
			w32(s + sl, (op & 0x80) ? fz_u32(&in) : n);
			for (i = 0; i < n; i++) s[sl + 4 + i] = fz_u8(&in);
			sl += 4 + n;
			break;
		}
		case 4: { /* a doorbell word or CQ data word */
			uint32_t v;
			switch ((op >> 3) % 4) {
			case 0: /* position bit */
				v = FABTX__OFI_POS_BIT |
				    (uint32_t)((b.c->rx.seq + fz_u8(&in) % 64) & 0x7fffffffu);
				break;
			case 1: v = b.req.db_base + fz_u8(&in) % b.req.db_count; break;
			default: v = fz_u32(&in); break;
			}
			if (op & 0x80) {
				uint64_t d = (uint64_t)v | (uint64_t)fz_u32(&in) << 32;
				if (op & 0x40) /* a plausible doorbell footer */
					d = (uint64_t)v | (uint64_t)(fz_u8(&in) % 100) << 32 |
					    (uint64_t)(FABTX_F_FIRST | FABTX_F_LAST) << 48;
				fabtx__ofi_imm_in(b.c, d);
				b.rewrote = 1;
			} else {
				fabtx__ofi_db_in(b.c, v);
			}
			break;
		}
		default: { /* raw */
			uint32_t n = fz_u8(&in) % 16, i;
			for (i = 0; i < n && sl < sizeof s; i++) s[sl++] = fz_u8(&in);
			break;
		}
		}
	}
	if (sl && write(sv[1], s, sl) < 0) abort();
	if (!(mode & 0x40)) close(sv[1]), sv[1] = -1; /* and the peer is gone */
	for (k = 0; k < 80; k++) {
		int rc = fabtx__ofi_ctrl_recv(b.c, buf, (mode & 0x80) ? 40 : sizeof buf, 0);
		FZ_CHECK(rc <= (int)sizeof buf);
		if (rc < 0 && rc != -EMSGSIZE) break;
	}
	b.be.setup.ctrl_recv = fabtx__ofi_ctrl_recv;
	fzb_drain(&b);
	close(sv[0]);
	if (sv[1] >= 0) close(sv[1]);
	free(o);
	fzb_close(&b);
	return 0;
}
