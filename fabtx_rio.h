/* SPDX-License-Identifier: MIT */
/* fabtx_rio.h -- fabtx backend for RapidIO over the Linux kernel's user
 * interface (/dev/rio_mport<N>, linux/rio_mport_cdev.h, and /dev/rio_cm,
 * linux/rio_cm_cdev.h).  No vendor library.
 *
 * DO THIS
 *   #define FABTX_IMPLEMENTATION      (in one translation unit)
 *   #include "fabtx.h"
 *   #include "fabtx_rio.h"
 *   ...
 *   fabtx_ctx_add_backend(ctx, fabtx_rio_backend());
 *
 * URLS
 *   rio://DESTID:CHANNEL[?mport=N]   connect to rio_cm channel CHANNEL
 *                                    (1..65535) of node DESTID (decimal or
 *                                    0x..; small systems: < 0xff)
 *   rio://ANY:CHANNEL with ANY = "*"  listen on channel CHANNEL; channels
 *                                    below 256 are the well-known ones
 *   mport: the query, else env FABTX_RIO_MPORT, else 0.
 *
 * HOW IT MAPS (spec/rio-uapi.md section 4)
 *   control  one rio_cm channel per connection (a listener ACCEPTs each
 *            connection on a fresh /dev/rio_cm fd so it outlives the
 *            listener); whole messages <= 512 B behind a 32-byte frame
 *            header (20 bytes the kernel owns + 12 of ours).
 *   RX ring  RIO_MAP_INBOUND(RIO_MAP_ANY_ADDR, power of two) + mmap.
 *   TX       RIO_ALLOC_DMA staging + mmap; chunks go out by RIO_TRANSFER
 *            {WRITE, SYNC, NWRITE_R} (the last packet is acknowledged), so
 *            the data is in the peer's window before the doorbell is
 *            written (spec 2.7).  Other memory goes by user address.
 *   doorbells  one /dev/rio_mport fd per connection (its own 14-event FIFO
 *            and filter, rioid = the peer): write() of struct rio_event to
 *            send, non-blocking read() to receive; fd() is that fd.  The
 *            core's doorbell values are translated to a wire range that
 *            the kernel grants (RIO_ENABLE_DOORBELL_RANGE is the system
 *            wide allocator; a leaked or foreign range is skipped) of 2N+3
 *            values: data hints carrying seq mod 2N (one lap bit more than
 *            the core's, so stale hints are recognised and dropped), then
 *            "credit" (a wake-up: the credit is the header word), "control
 *            message queued" and "bye".
 *   loss     the event FIFO drops silently beyond 14 events, so doorbells
 *            are hints: a drain that finds the FIFO full asks the peer
 *            (control message) for its absolute written position.
 *   close    the `closed` word of the peer's window header is written
 *            (SYNC, after our FIN) before the channel closes and the bye
 *            doorbell goes out; a peer that sees it stops writing, and
 *            scans its ring once for a FIN whose doorbell was dropped.
 *   caps     not ORDERED: the uapi orders nothing between DMA placement
 *            and a reader polling footers (spec 2.7), only "completion
 *            before doorbell"; so cells are consumed only up to a doorbell.
 *
 * SETUP (never waiting: the core's connect_poll / ctrl_fd contract)
 *   rio_cm has no pollable fd (spec 3.1), and CONNECT (up to 3 s for the
 *   ACK) and RECEIVE block.  So a connection in setup has a setup thread
 *   that makes exactly those calls and writes an eventfd (ctrl_fd) when it
 *   moves on: the client's thread CREATEs + CONNECTs (a new channel per
 *   try) until the ACK or the handshake deadline, then RECEIVEs the
 *   channel's first message (the response); the server's RECEIVEs the
 *   client's request.  connect(c, addr, 0) returns -EINPROGRESS at once,
 *   connect_poll reports the channel, ctrl_recv(c, ..., 0) hands over the
 *   first message once the thread has it (-EAGAIN before).  The thread
 *   ends with that message, so an established connection has none.  It
 *   is stopped early by closing the channel it blocks on (CONNECT -> EPERM,
 *   RECEIVE -> ECONNRESET).  Signals are blocked in it.
 *   accept(l, c, 0) is ACCEPT with wait_to 0, which the kernel defines as
 *   non-blocking (EAGAIN); it ACKs the client at once.  The listener has
 *   no fd (no bridge thread: ACCEPT 0 is one cheap ioctl on a kept fd), so
 *   the core looks on its 5 ms timer (FABTX__TICK_MS): <= 5 ms added to
 *   a connect, ~0.6% of a CPU for an idle listener on the emulator.
 *
 * ERRORS (kernel errno -> fabtx)
 *   open: no device (ENOENT/ENODEV/ENXIO) -> -ENODEV; hdid 0xffff (port
 *   not enumerated) -> -ENODEV; no DMA / TRANSFER mode -> -ENOTSUP;
 *   CONNECT ETIME (nobody listens: rio_cm has no NACK) -> -ECONNREFUSED
 *   (also when the deadline falls in a later CONNECT after an ETIME);
 *   CONNECT ENODEV (destID not a rio_cm peer) -> -EHOSTUNREACH;
 *   CHAN_CREATE EBUSY on listen -> -EADDRINUSE; RECEIVE ECONNRESET/ENODEV
 *   (peer closed) -> -ECONNRESET; every doorbell range EBUSY ->
 *   -EADDRINUSE; RIO_TRANSFER ETIMEDOUT/EIO (peer window gone) ->
 *   -ECONNRESET; bad URL -> -EINVAL.
 */
#ifndef FABTX_RIO_H_INCLUDED
#define FABTX_RIO_H_INCLUDED
#include "fabtx.h"

#ifdef __cplusplus
extern "C" {
#endif

FABTX_API const fabtx_backend *fabtx_rio_backend(void);

#ifdef __cplusplus
}
#endif
#endif /* FABTX_RIO_H_INCLUDED */

/* ======================================================================= */
#if defined(FABTX_IMPLEMENTATION) && !defined(FABTX_RIO_IMPLEMENTATION_INCLUDED)
#define FABTX_RIO_IMPLEMENTATION_INCLUDED

#include <errno.h>
#include <fcntl.h>
#include <linux/rio_cm_cdev.h>
#include <linux/rio_mport_cdev.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <pthread.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

/* constants the uapi headers do not provide (spec 1.2) */
#define FABTX__RIO_ANY_DESTID 0xffffu
#define FABTX__RIO_MAX_MSG 4096u
#define FABTX__RIO_CM_HDR 20u
#define FABTX__RIO_MPORT_DMA 1u
#define FABTX__RIO_FIFO 14 /* per-fd event FIFO (spec 2.6.4) */
/* our frame: kernel header, then kind, version, payload length, wire range */
#define FABTX__RIO_FRAME 32u
#define FABTX__RIO_CTRL_MAX 512u
#define FABTX__RIO_K_MSG 1u    /* a core control message */
#define FABTX__RIO_K_RESYNC 2u /* "tell me how far you have written" */
#define FABTX__RIO_K_POS 3u    /* reply: u64 tx.seq, absolute          */
#define FABTX__RIO_VERSION 1u
#define FABTX__RIO_QMAX 64

typedef struct fabtx__rio_listener {
	int cfd;
	uint16_t ch;
	int mport;
	int spare; /* a /dev/rio_cm fd for the next ACCEPT, or -1 */
} fabtx__rio_listener;

typedef struct fabtx__rio_conn {
	int mfd, cfd;
	int mport;
	uint16_t ch;
	uint16_t me, peer; /* destIDs; peer 0xffff until known */
	uint64_t dma_max;
	/* my RX window */
	void *rx_map;
	uint64_t rx_map_len, rx_handle;
	/* TX staging */
	void *tx_map;
	uint64_t tx_map_len, tx_handle;
	/* the peer's window */
	uint64_t peer_addr, peer_len;
	/* wire doorbell ranges: [base, base + count); count = 2N + 2, the
	 * last two values are "control" and "bye" */
	uint16_t wbase, wcount, pwbase, pwcount;
	int wenabled;
	/* events drained outside progress() */
	uint16_t q[FABTX__RIO_QMAX];
	int nq, qlost;
	int ctrl_pending, bye, peer_closed, dma_failed, resync_asked;
	int resync_due;     /* the peer asked for our position: answer owed */
	uint64_t closed_ms; /* when rio_cm said the peer closed */
	int final_done;     /* the tail of a closed peer was scanned */
	uint64_t last_probe_ms;
	/* doorbell-led looks that found nothing, in a row (not counting the
	 * look a resync adds), and when the last third one of them was */
	int empty_looks, resync_look;
	uint64_t empty_probe_ms;
	/* the setup thread ("SETUP" at the top): it owns msg, ch (client)
	 * and th_rc until it has published th_conn / th_done */
	pthread_t th;
	pthread_mutex_t th_mu;
	int th_on;      /* started and not yet joined */
	int th_client;  /* CONNECT first, then the first RECEIVE */
	int efd;        /* eventfd the thread signals, or -1 (ctrl_fd) */
	int th_stop;    /* th_mu: give up */
	uint16_t th_ch; /* th_mu: the channel the thread may block on */
	uint16_t th_rch;
	int th_conn;    /* atomic: 1 CONNECTED, < 0 the connect failed */
	int th_done;    /* atomic: finished, th_rc says how */
	int th_refused; /* atomic: a CONNECT got no ACK (ETIME) */
	int th_rc;      /* 0: msg holds the channel's first message */
	uint64_t th_dl; /* fabtx_now_ms() deadline of the whole setup */
	uint8_t msg[FABTX__RIO_MAX_MSG];
} fabtx__rio_conn;

static int fabtx__rio_errno(void)
{
	return errno ? -errno : -EIO;
}

static void fabtx__rio_nap(void)
{
	struct timespec ts;
	ts.tv_sec = 0;
	ts.tv_nsec = 100000; /* retry pacing, not synchronisation */
	nanosleep(&ts, NULL);
}

/* remaining milliseconds to a deadline (0 = none left); dl 0 = forever */
static int fabtx__rio_left(uint64_t dl)
{
	uint64_t now = fabtx_now_ms();
	if (!dl) return -1;
	return now >= dl ? 0 : (int)(dl - now);
}

static void fabtx__rio_st16(uint8_t *b, uint16_t v)
{
	b[0] = (uint8_t)v;
	b[1] = (uint8_t)(v >> 8);
}

static uint16_t fabtx__rio_ld16(const uint8_t *b)
{
	return (uint16_t)(b[0] | (b[1] << 8));
}

/* "DESTID:CHANNEL[?mport=N]"; *destid = -1 for "*". */
static int fabtx__rio_parse(const char *addr, long *destid, uint16_t *ch,
                            int *mport)
{
	char host[32], port[16], val[16], *end;
	const char *query = NULL, *env;
	unsigned long v;
	if (fabtx_url_hostport(addr, host, sizeof host, port, sizeof port,
	                       &query) < 0)
		return -EINVAL;
	if (strcmp(host, "*") == 0) {
		*destid = -1;
	} else {
		if (!host[0] || host[0] == '-') return -EINVAL;
		v = strtoul(host, &end, 0);
		if (*end || v >= FABTX__RIO_ANY_DESTID) return -EINVAL;
		*destid = (long)v;
	}
	if (!port[0] || port[0] == '-') return -EINVAL;
	v = strtoul(port, &end, 10);
	if (*end || v == 0 || v > 65535) return -EINVAL;
	*ch = (uint16_t)v;
	*mport = 0;
	env = getenv("FABTX_RIO_MPORT");
	if (query && fabtx_url_query(query, "mport", val, sizeof val) >= 0)
		env = val;
	if (env && *env) {
		v = strtoul(env, &end, 10);
		if (*end || v > 7) return -EINVAL;
		*mport = (int)v;
	}
	return 0;
}

static int fabtx__rio_open_cm(fabtx_ctx *ctx)
{
	int fd = open("/dev/rio_cm", O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		int e = errno;
		fabtx_log(ctx, FABTX_LOG_INFO, "rio: /dev/rio_cm: %s",
		          strerror(e));
		return (e == ENOENT || e == ENODEV || e == ENXIO) ? -ENODEV
		                                                  : -e;
	}
	return fd;
}

/* Open the connection's mport fd: properties checked, doorbells on. */
static int fabtx__rio_open_mport(fabtx_ctx *ctx, fabtx__rio_conn *r)
{
	struct rio_mport_properties p;
	char path[32];
	int fd, e;
	snprintf(path, sizeof path, "/dev/rio_mport%d", r->mport);
	fd = open(path, O_RDWR | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0) {
		e = errno;
		fabtx_log(ctx, FABTX_LOG_INFO, "rio: %s: %s", path,
		          strerror(e));
		return (e == ENOENT || e == ENODEV || e == ENXIO) ? -ENODEV
		                                                  : -e;
	}
	memset(&p, 0, sizeof p);
	if (ioctl(fd, RIO_MPORT_GET_PROPERTIES, &p) < 0) {
		e = fabtx__rio_errno();
		close(fd);
		return e;
	}
	if (!(p.transfer_mode & RIO_TRANSFER_MODE_TRANSFER) ||
	    !(p.flags & FABTX__RIO_MPORT_DMA)) {
		fabtx_log(ctx, FABTX_LOG_WARN,
		          "rio: %s has no DMA transfer support", path);
		close(fd);
		return -ENOTSUP;
	}
	if (p.hdid == FABTX__RIO_ANY_DESTID) {
		fabtx_log(ctx, FABTX_LOG_WARN,
		          "rio: %s has no destID (port not enumerated)", path);
		close(fd);
		return -ENODEV;
	}
	if (ioctl(fd, RIO_SET_EVENT_MASK, (unsigned long)RIO_DOORBELL) < 0) {
		e = fabtx__rio_errno();
		close(fd);
		return e;
	}
	r->mfd = fd;
	r->me = p.hdid;
	r->dma_max = p.dma_max_size ? p.dma_max_size : (64u << 20);
	return 0;
}

static fabtx__rio_conn *fabtx__rio_new(fabtx_ctx *ctx, int mport)
{
	fabtx__rio_conn *r =
	    (fabtx__rio_conn *)fabtx_ctx_zalloc(ctx, sizeof *r);
	if (!r) return NULL;
	r->mfd = r->cfd = r->efd = -1;
	r->mport = mport;
	r->peer = FABTX__RIO_ANY_DESTID;
	pthread_mutex_init(&r->th_mu, NULL);
	return r;
}

/* ------------------------------------------------------------ doorbells */
static int fabtx__rio_ring_wire(fabtx__rio_conn *r, uint16_t wire)
{
	struct rio_event ev;
	memset(&ev, 0, sizeof ev);
	ev.header = RIO_DOORBELL;
	ev.u.doorbell.rioid = r->peer;
	ev.u.doorbell.payload = wire;
	if (write(r->mfd, &ev, sizeof ev) != (ssize_t)sizeof ev)
		return fabtx__rio_errno();
	return 0;
}

/* Wire layout of a connection's range (count = the core's 2N' + 3, N' the
 * cells it asked for, N <= N' the ring's): [0, 2N) data hints carrying the
 * chunk's seq mod 2N (one lap bit more than the core's seq mod N, so a
 * delayed or repeated hint is recognised as stale instead of being read
 * as a position a whole lap ahead), then "credit", "control", "bye".
 * Credit doorbells only wake: the credit itself is the header word the
 * DMA wrote before the doorbell (a delayed credit index decoded against a
 * newer position would over-credit the sender). */
#define FABTX__RIO_W_CREDIT 3u
#define FABTX__RIO_W_CTRL 2u
#define FABTX__RIO_W_BYE 1u

/* Map a notification onto the peer's wire range and send it. */
static int fabtx__rio_ring(fabtx_conn *c, fabtx_db_kind kind, uint64_t pos)
{
	fabtx__rio_conn *r = (fabtx__rio_conn *)c->bdata;
	fabtx_db_range pdb = fabtx_conn_peer_db(c);
	uint32_t n = fabtx_conn_cells(c), wire;
	if (n == 0 || pos == 0 ||
	    (uint32_t)r->pwcount != (uint32_t)pdb.count + 3u ||
	    2u * n + 3u > r->pwcount)
		return -EINVAL;
	if (kind == FABTX_DB_KIND_DATA) /* the last chunk: its seq mod 2N */
		wire = (uint32_t)((pos - 1) & (uint64_t)(2u * n - 1u));
	else
		wire = r->pwcount - FABTX__RIO_W_CREDIT;
	return fabtx__rio_ring_wire(r, (uint16_t)(r->pwbase + wire));
}

/* ring one of the peer's special values (FABTX__RIO_W_CTRL / _BYE) */
static void fabtx__rio_ring_special(fabtx__rio_conn *r, unsigned k)
{
	if (r->pwcount > k && r->peer != FABTX__RIO_ANY_DESTID && r->mfd >= 0)
		(void)fabtx__rio_ring_wire(
		    r, (uint16_t)(r->pwbase + r->pwcount - k));
}

/* one event from the mport FIFO (the ring is set up: rx.n != 0) */
static void fabtx__rio_event(fabtx_conn *c, uint16_t w)
{
	fabtx__rio_conn *r = (fabtx__rio_conn *)c->bdata;
	uint32_t off = (uint32_t)(uint16_t)(w - r->wbase),
	         n = fabtx_conn_cells(c);
	if (!r->wenabled || w < r->wbase || off >= r->wcount) {
		fabtx_conn_spurious(c);
		return;
	}
	if (off == r->wcount - FABTX__RIO_W_CTRL) {
		r->ctrl_pending++;
	} else if (off == r->wcount - FABTX__RIO_W_BYE) {
		r->bye = 1;
	} else if (off == r->wcount - FABTX__RIO_W_CREDIT) {
		fabtx_conn_credit_in(c, 0); /* the header word says how far */
	} else if (off < 2u * n) {
		/* the seq congruent to off (mod 2N) in [rx.seq - N, rx.seq + N)
		 */
		uint64_t rx = fabtx_conn_rx_pos(c), lo = rx - n;
		uint64_t seq = lo + ((off - lo) & (uint64_t)(2u * n - 1u));
		if (seq + 1 <= fabtx_conn_rx_visible(c) || seq < rx) {
			fabtx_conn_spurious(c); /* stale: already covered */
			return;
		}
		fabtx_conn_data_in(c, seq + 1);
	} else {
		fabtx_conn_spurious(c);
	}
}

/* Read what the FIFO holds (non-blocking).  Into the queue when deliver
 * is 0 (only the specials act at once).  Returns events read or < 0. */
static int fabtx__rio_drain(fabtx_conn *c, int deliver)
{
	fabtx__rio_conn *r = (fabtx__rio_conn *)c->bdata;
	struct rio_event ev;
	int i, n = 0;
	if (deliver) {
		/* events drained earlier first: keep the arrival order */
		for (i = 0; i < r->nq; i++)
			fabtx__rio_event(c, r->q[i]);
		r->nq = 0;
	}
	/* bounded: a peer ringing as fast as we read must not keep us
	 * here (what is left keeps the fd readable) */
	while (n < 4 * FABTX__RIO_FIFO) {
		ssize_t k = read(r->mfd, &ev, sizeof ev);
		if (k < 0) {
			if (errno == EINTR) continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK) break;
			return fabtx__rio_errno();
		}
		if (k != (ssize_t)sizeof ev) return -EIO;
		n++;
		if (ev.header != RIO_DOORBELL || ev.u.doorbell.rioid != r->peer)
			continue;
		if (deliver) {
			fabtx__rio_event(c, ev.u.doorbell.payload);
		} else {
			uint32_t off =
			    (uint32_t)(uint16_t)(ev.u.doorbell.payload -
			                         r->wbase);
			if (r->wenabled && off == r->wcount - FABTX__RIO_W_BYE)
				r->bye = 1;
			if (r->nq < FABTX__RIO_QMAX)
				r->q[r->nq++] = ev.u.doorbell.payload;
			else
				r->qlost = 1;
		}
	}
	if (n >= FABTX__RIO_FIFO) r->qlost = 1; /* the FIFO was full */
	return n;
}

/* The peer's last act before closing is a SYNC write of the `closed` word
 * of our window header (after its FIN): unlike the "bye" doorbell it cannot
 * be dropped by a full FIFO. */
static int fabtx__rio_peer_wrote_closed(fabtx_conn *c)
{
	const fabtx_win_hdr *h =
	    (const fabtx_win_hdr *)((fabtx__rio_conn *)c->bdata)->rx_map;
	return h && __atomic_load_n(&h->closed, __ATOMIC_ACQUIRE) != 0;
}

/* Has the peer said goodbye ("bye", or the `closed` word)?  Latched in
 * r->bye. */
static int fabtx__rio_said_bye(fabtx_conn *c)
{
	fabtx__rio_conn *r = (fabtx__rio_conn *)c->bdata;
	if (!r->bye && fabtx__rio_peer_wrote_closed(c)) r->bye = 1;
	return r->bye;
}

/* The peer closed its channel (rio_cm said so).  Its last data doorbells
 * and "bye" travel another path and may still be on the way: the closing
 * is final once "bye" is here or after a short grace period. */
static void fabtx__rio_closed(fabtx_conn *c)
{
	fabtx__rio_conn *r = (fabtx__rio_conn *)c->bdata;
	if (!r->peer_closed) {
		r->peer_closed = 1;
		r->closed_ms = fabtx_now_ms();
	}
	if (fabtx_conn_cells(c)) (void)fabtx__rio_drain(c, 1);
}

static int fabtx__rio_gone(fabtx__rio_conn *r)
{
	return r->bye || r->dma_failed ||
	       (r->peer_closed && fabtx_now_ms() - r->closed_ms >= 100);
}

/* The peer is gone: it writes nothing any more, and its last doorbells
 * (the FIN's among them) may have been dropped by a full FIFO, with no one
 * left to ask for its position.  With no writer the cells are stable, so
 * the footers themselves say how far it wrote: hint up to the last
 * contiguous written cell (at most N - 1 ahead of the reader), a SPAN
 * footer covering its run.  That holds where it said goodbye (the `closed`
 * word or "bye" come after its last SYNC write).  A peer that died may
 * have died in the middle of a DMA, its footer in our window and not all
 * of its payload (a SPAN's footer is its first cell; the emulator's copy
 * is a memcpy by the writer, cut anywhere by SIGKILL): its SYNC writes
 * complete one after another, so all but the last chunk found are whole. */
static void fabtx__rio_final(fabtx_conn *c)
{
	fabtx__rio_conn *r = (fabtx__rio_conn *)c->bdata;
	uint64_t s;
	if (r->final_done || !fabtx__rio_gone(r) || fabtx_conn_cells(c) == 0)
		return;
	r->final_done = 1;
	(void)fabtx__rio_said_bye(c);
	fabtx_log(c->ctx, FABTX_LOG_INFO, "rio: %s: the peer is gone (%s)",
	          c->url,
	          r->bye          ? "it said so"
	          : r->dma_failed ? "a write to it failed"
	                          : "rio_cm closed its channel");
	(void)fabtx__rio_drain(c, 1);
	s = r->bye ? fabtx_conn_rx_scan(c) : fabtx_conn_rx_scan_died(c);
	if (s > fabtx_conn_rx_visible(c) && s > fabtx_conn_rx_pos(c))
		fabtx_conn_data_in(c, s);
}

/* ----------------------------------------------------- control channel */
static int fabtx__rio_send_frame(fabtx_conn *c, unsigned kind, const void *msg,
                                 size_t len, int timeout_ms)
{
	fabtx__rio_conn *r = (fabtx__rio_conn *)c->bdata;
	uint8_t b[FABTX__RIO_FRAME + FABTX__RIO_CTRL_MAX];
	struct rio_cm_msg m;
	uint64_t dl =
	    timeout_ms > 0 ? fabtx_now_ms() + (uint64_t)timeout_ms : 0;
	if (len > FABTX__RIO_CTRL_MAX) return -EMSGSIZE;
	if (r->peer_closed || r->bye) return -ECONNRESET;
	memset(b, 0, FABTX__RIO_FRAME);
	b[FABTX__RIO_CM_HDR] = (uint8_t)kind;
	b[FABTX__RIO_CM_HDR + 1] = FABTX__RIO_VERSION;
	fabtx__rio_st16(b + 22, (uint16_t)len);
	fabtx__rio_st16(b + 24, r->wenabled ? r->wbase : 0);
	fabtx__rio_st16(b + 26, r->wenabled ? r->wcount : 0);
	if (len) memcpy(b + FABTX__RIO_FRAME, msg, len);
	memset(&m, 0, sizeof m);
	m.ch_num = r->ch;
	m.size = (uint16_t)(FABTX__RIO_FRAME + len);
	m.msg = (uint64_t)(uintptr_t)b;
	for (;;) {
		if (ioctl(r->cfd, RIO_CM_CHAN_SEND, &m) == 0) break;
		if (errno == EINTR) continue;
		if (errno == EBUSY) { /* mport TX ring full: not queued */
			if (timeout_ms == 0 || (dl && fabtx_now_ms() >= dl))
				return -EAGAIN;
			fabtx__rio_nap();
			continue;
		}
		if (errno == ENODEV || errno == ECONNRESET) {
			fabtx__rio_closed(c);
			return -ECONNRESET;
		}
		if (errno == EAGAIN) return -ENOTCONN;
		return fabtx__rio_errno();
	}
	fabtx__rio_ring_special(r, FABTX__RIO_W_CTRL); /* "read it" */
	return 0;
}

static int fabtx__rio_ctrl_send(fabtx_conn *c, const void *msg, size_t len,
                                int timeout_ms)
{
	return fabtx__rio_send_frame(c, FABTX__RIO_K_MSG, msg, len, timeout_ms);
}

/* The peer lost doorbells: tell it, as an absolute position, how far our
 * writes are complete (every write is SYNC, so all chunks < tx.seq are in
 * its window).  A re-rung doorbell would not do: its value is an index mod
 * N, and a stale one would make the peer read cells still being written. */
static void fabtx__rio_resync_out(fabtx_conn *c)
{
	fabtx__rio_conn *r = (fabtx__rio_conn *)c->bdata;
	uint8_t b[8];
	uint64_t v = fabtx_conn_tx_pos(c);
	int i;
	if (!r->resync_due) return;
	for (i = 0; i < 8; i++)
		b[i] = (uint8_t)(v >> (8 * i));
	/* the peer relies on it: if the mport TX ring is full it stays owed
	 * (arm says -EAGAIN) and goes with the next call, never waiting */
	if (fabtx__rio_send_frame(c, FABTX__RIO_K_POS, b, sizeof b, 0) !=
	    -EAGAIN)
		r->resync_due = 0;
}

/* Requests are answered once per call, with the position at that time:
 * a peer sending many costs one reply, not one (or a wait) each. */
static void fabtx__rio_resync_in(fabtx_conn *c)
{
	((fabtx__rio_conn *)c->bdata)->resync_due = 1;
}

/* The peer's written position: a data hint if it is news (never stale). */
static void fabtx__rio_pos_in(fabtx_conn *c, const uint8_t *b, uint16_t len)
{
	uint64_t v = 0;
	int i;
	uint64_t rx = fabtx_conn_rx_pos(c);
	if (len != 8 || fabtx_conn_cells(c) == 0) return;
	for (i = 0; i < 8; i++)
		v |= (uint64_t)b[i] << (8 * i);
	if (v > rx && v - rx <= fabtx_conn_cells(c)) fabtx_conn_data_in(c, v);
}

/* One frame RECEIVE put in r->msg: a core message (its length), one of
 * ours handled here (-EINPROGRESS), or -EPROTO / -EMSGSIZE. */
static int fabtx__rio_frame_in(fabtx_conn *c, void *buf, size_t cap)
{
	fabtx__rio_conn *r = (fabtx__rio_conn *)c->bdata;
	uint16_t plen, wb, wc;
	uint32_t src, mlen;
	/* the kernel's header: big-endian src_id, msg_len */
	src = (uint32_t)r->msg[0] << 24 | (uint32_t)r->msg[1] << 16 |
	      (uint32_t)r->msg[2] << 8 | r->msg[3];
	mlen = (uint32_t)r->msg[16] << 8 | r->msg[17];
	if (mlen < FABTX__RIO_FRAME ||
	    r->msg[FABTX__RIO_CM_HDR + 1] != FABTX__RIO_VERSION)
		return -EPROTO;
	plen = fabtx__rio_ld16(r->msg + 22);
	wb = fabtx__rio_ld16(r->msg + 24);
	wc = fabtx__rio_ld16(r->msg + 26);
	if (plen > FABTX__RIO_CTRL_MAX || mlen != FABTX__RIO_FRAME + plen)
		return -EPROTO;
	if (r->peer == FABTX__RIO_ANY_DESTID) {
		/* ACCEPT does not say who connected; the header does */
		if (src >= FABTX__RIO_ANY_DESTID) return -EPROTO;
		r->peer = (uint16_t)src;
	}
	if (wc) {
		if (wc < 4 || wb < FABTX_DB_RESERVED ||
		    (uint32_t)wb + wc > FABTX_DB_SPACE ||
		    (r->pwcount && (wb != r->pwbase || wc != r->pwcount)))
			return -EPROTO; /* announced once, never moved */
		r->pwbase = wb;
		r->pwcount = wc;
	}
	switch (r->msg[FABTX__RIO_CM_HDR]) {
	case FABTX__RIO_K_MSG:
		if (plen > cap) return -EMSGSIZE;
		memcpy(buf, r->msg + FABTX__RIO_FRAME, plen);
		return (int)plen;
	case FABTX__RIO_K_RESYNC:
		fabtx__rio_resync_in(c);
		break;
	case FABTX__RIO_K_POS:
		fabtx__rio_pos_in(c, r->msg + FABTX__RIO_FRAME, plen);
		break;
	default:
		break; /* unknown kinds of a later version: skip */
	}
	return -EINPROGRESS;
}

/* ------------------------------------------------------ the setup thread
 * rio_cm has no pollable fd and its CONNECT and RECEIVE block: a thread
 * per connection in setup makes those calls, and signals an eventfd (the
 * connection's ctrl_fd) when it moves on.  It ends after the channel's
 * first message (the handshake's request or response), after which
 * the connection needs no thread.  To stop it early, the channel it
 * blocks on is closed (CONNECT then fails with EPERM, RECEIVE with
 * ECONNRESET, spec 3.3). */
static void fabtx__rio_kick(fabtx__rio_conn *r)
{
	uint64_t one = 1;
	ssize_t k = write(r->efd, &one, sizeof one);
	(void)k; /* EAGAIN: already readable */
}

/* the ms left until the thread's deadline, as an rio_cm timeout (>= 1;
 * 0 would mean forever) */
static uint32_t fabtx__rio_th_left(fabtx__rio_conn *r)
{
	uint64_t now = fabtx_now_ms();
	uint64_t left = r->th_dl > now ? r->th_dl - now : 1;
	return left > 0x7fffffffu ? 0x7fffffffu : (uint32_t)left;
}

/* the channel the thread is about to block on (0 if told to stop) */
static int fabtx__rio_th_enter(fabtx__rio_conn *r, uint16_t ch)
{
	int stop;
	pthread_mutex_lock(&r->th_mu);
	stop = r->th_stop;
	r->th_ch = stop ? 0 : ch;
	pthread_mutex_unlock(&r->th_mu);
	return !stop;
}

/* client: CREATE + CONNECT, a new channel for each try (spec 3.3), until
 * an ACK or the deadline */
static int fabtx__rio_th_connect(fabtx__rio_conn *r)
{
	struct rio_cm_channel cc;
	for (;;) {
		uint16_t v = 0;
		int e;
		pthread_mutex_lock(&r->th_mu);
		if (r->th_stop) {
			pthread_mutex_unlock(&r->th_mu);
			return -ECANCELED;
		}
		if (ioctl(r->cfd, RIO_CM_CHAN_CREATE, &v) < 0) {
			e = fabtx__rio_errno();
			pthread_mutex_unlock(&r->th_mu);
			return e;
		}
		r->th_ch = v; /* from here a stop closes it */
		pthread_mutex_unlock(&r->th_mu);
		memset(&cc, 0, sizeof cc);
		cc.id = v;
		cc.remote_destid = r->peer;
		cc.remote_channel = r->th_rch;
		cc.mport_id = (uint8_t)r->mport;
		if (ioctl(r->cfd, RIO_CM_CHAN_CONNECT, &cc) == 0) {
			r->ch = v;
			return 0;
		}
		e = errno;
		pthread_mutex_lock(&r->th_mu);
		r->th_ch = 0;
		pthread_mutex_unlock(&r->th_mu);
		(void)ioctl(r->cfd, RIO_CM_CHAN_CLOSE, &v);
		if (e == EINTR) continue;
		if (e == ETIME) { /* nobody answered: no NACK in rio_cm */
			__atomic_store_n(&r->th_refused, 1, __ATOMIC_RELEASE);
			if (fabtx_now_ms() < r->th_dl) continue;
			return -ECONNREFUSED;
		}
		if (e == ENODEV) return -EHOSTUNREACH;
		if (e == EPERM) return -ECANCELED; /* closed by a stop */
		return e ? -e : -EIO;
	}
}

/* the channel's first message into r->msg, within the deadline */
static int fabtx__rio_th_recv(fabtx__rio_conn *r)
{
	struct rio_cm_msg m;
	for (;;) {
		if (!fabtx__rio_th_enter(r, r->ch)) return -ECANCELED;
		memset(&m, 0, sizeof m);
		m.ch_num = r->ch;
		m.size = FABTX__RIO_MAX_MSG;
		m.rxto = fabtx__rio_th_left(r);
		m.msg = (uint64_t)(uintptr_t)r->msg;
		if (ioctl(r->cfd, RIO_CM_CHAN_RECEIVE, &m) == 0) return 0;
		if (errno == EINTR) continue;
		if (errno == ETIME) return -ETIMEDOUT;
		if (errno == ECONNRESET || errno == ENODEV) return -ECONNRESET;
		if (errno == EAGAIN) return -ENOTCONN;
		return fabtx__rio_errno();
	}
}

static void *fabtx__rio_th_main(void *arg)
{
	fabtx__rio_conn *r = (fabtx__rio_conn *)arg;
	int rc = 0;
	if (r->th_client) {
		rc = fabtx__rio_th_connect(r);
		__atomic_store_n(&r->th_conn, rc == 0 ? 1 : rc,
		                 __ATOMIC_RELEASE);
		fabtx__rio_kick(r);
	}
	if (rc == 0) rc = fabtx__rio_th_recv(r);
	pthread_mutex_lock(&r->th_mu);
	r->th_ch = 0;
	pthread_mutex_unlock(&r->th_mu);
	r->th_rc = rc;
	__atomic_store_n(&r->th_done, 1, __ATOMIC_RELEASE);
	fabtx__rio_kick(r);
	return NULL;
}

static int fabtx__rio_th_start(fabtx__rio_conn *r, int client, uint64_t dl)
{
	sigset_t all, old;
	int rc;
	r->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (r->efd < 0) return fabtx__rio_errno();
	r->th_client = client;
	r->th_dl = dl;
	/* signals stay with the application's threads */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	rc = pthread_create(&r->th, NULL, fabtx__rio_th_main, r);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc) return -rc;
	r->th_on = 1;
	return 0;
}

/* Stop the thread (if it still runs) and join it.  A channel closed to
 * wake it is gone: r->ch is cleared when it was that one. */
static void fabtx__rio_th_stop(fabtx__rio_conn *r)
{
	uint16_t ch;
	if (!r->th_on) return;
	pthread_mutex_lock(&r->th_mu);
	r->th_stop = 1;
	ch = r->th_ch;
	pthread_mutex_unlock(&r->th_mu);
	if (ch) (void)ioctl(r->cfd, RIO_CM_CHAN_CLOSE, &ch);
	pthread_join(r->th, NULL);
	r->th_on = 0;
	if (ch && ch == r->ch) r->ch = 0;
}

/* Wait up to timeout_ms for the thread's `*flag` (th_conn or th_done) to
 * be set: its value, or -EAGAIN (timeout 0) / -ETIMEDOUT. */
static int fabtx__rio_th_wait(fabtx__rio_conn *r, int *flag, int timeout_ms)
{
	uint64_t dl =
	    timeout_ms > 0 ? fabtx_now_ms() + (uint64_t)timeout_ms : 0;
	for (;;) {
		uint64_t x;
		struct pollfd pf;
		int v, left;
		ssize_t k = read(r->efd, &x, sizeof x); /* before the look */
		(void)k;
		v = __atomic_load_n(flag, __ATOMIC_ACQUIRE);
		if (v) return v;
		if (timeout_ms == 0) return -EAGAIN;
		left = timeout_ms < 0 ? -1 : fabtx__rio_left(dl);
		if (left == 0) return -ETIMEDOUT;
		pf.fd = r->efd;
		pf.events = POLLIN;
		pf.revents = 0;
		if (poll(&pf, 1, left) < 0 && errno != EINTR)
			return fabtx__rio_errno();
	}
}

/* The setup thread's outcome, once it has one: 0 and r->msg holds the
 * channel's first frame, or the thread's error; -EAGAIN not yet. */
static int fabtx__rio_th_first(fabtx_conn *c, int timeout_ms)
{
	fabtx__rio_conn *r = (fabtx__rio_conn *)c->bdata;
	int rc = fabtx__rio_th_wait(r, &r->th_done, timeout_ms);
	if (rc < 0) return rc;
	pthread_join(r->th, NULL);
	r->th_on = 0;
	if (r->th_rc == -ECONNRESET) {
		fabtx__rio_closed(c);
		r->closed_ms = 0; /* no doorbells can be on the way yet */
	}
	return r->th_rc;
}

/* ctrl_recv with timeout 0: whether to look at rio_cm now (1) or say
 * -EAGAIN (0) */
static int fabtx__rio_look_now(fabtx__rio_conn *r, int *frames)
{
	/* rio_cm cannot be polled: look only when the peer rang
	 * our control doorbell, or now and then (a doorbell may
	 * have been dropped, or overtaken the message); such a
	 * look waits at most 1 ms (rxto 0 would be forever) */
	uint64_t now = fabtx_now_ms();
	int led = r->ctrl_pending && !r->bye;
	/* a peer that rings "control" with nothing queued
	 * would make every call wait: after three doorbell-led
	 * looks in a row found nothing, such doorbells count
	 * for nothing for 10 ms (the 250 ms look still runs;
	 * a doorbell that overtook its message, the one way a
	 * well-behaved peer causes an empty look, is rare) */
	if (led && now - r->empty_probe_ms < 10) {
		r->ctrl_pending = 0;
		led = 0;
	}
	if (!led && !r->bye && now - r->last_probe_ms < 250) return 0;
	/* and a peer that keeps sending frames of ours must
	 * not keep one call here */
	if (++*frames > 64) return 0;
	r->last_probe_ms = now;
	return 1;
}

static int fabtx__rio_ctrl_recv1(fabtx_conn *c, void *buf, size_t cap,
                                 int timeout_ms)
{
	fabtx__rio_conn *r = (fabtx__rio_conn *)c->bdata;
	uint64_t dl =
	    timeout_ms > 0 ? fabtx_now_ms() + (uint64_t)timeout_ms : 0;
	struct rio_cm_msg m;
	int rc, frames = 0;
	if (r->th_on) {
		/* setup: the first message comes from the thread */
		rc = fabtx__rio_th_first(c, timeout_ms);
		if (rc < 0) return rc;
		rc = fabtx__rio_frame_in(c, buf, cap);
		/* the first frame of a channel is the handshake's */
		if (rc != -EINPROGRESS) return rc;
		r->resync_due = 0;
		return -EPROTO;
	}
	for (;;) {
		uint32_t rxto;
		if (r->peer_closed) {
			if (timeout_ms == 0 && !fabtx__rio_gone(r))
				return -EAGAIN;
			r->closed_ms = 0; /* blocking caller: final now */
			fabtx__rio_final(c);
			return -ECONNRESET;
		}
		if (timeout_ms == 0) {
			if (!fabtx__rio_look_now(r, &frames)) return -EAGAIN;
			rxto = 1;
		} else if (timeout_ms < 0) {
			rxto = 0; /* forever */
		} else {
			int left = fabtx__rio_left(dl);
			if (left == 0) return -ETIMEDOUT;
			rxto = (uint32_t)left;
		}
		memset(&m, 0, sizeof m);
		m.ch_num = r->ch;
		m.size = FABTX__RIO_MAX_MSG;
		m.rxto = rxto;
		m.msg = (uint64_t)(uintptr_t)r->msg;
		if (ioctl(r->cfd, RIO_CM_CHAN_RECEIVE, &m) < 0) {
			if (errno == EINTR) continue;
			if (errno == ETIME) {
				if (timeout_ms == 0) {
					if (r->ctrl_pending &&
					    !r->resync_look &&
					    ++r->empty_looks >= 3)
						r->empty_probe_ms =
						    fabtx_now_ms();
					r->resync_look = 0;
					r->ctrl_pending = 0;
					return -EAGAIN;
				}
				return -ETIMEDOUT;
			}
			if (errno == ECONNRESET || errno == ENODEV) {
				fabtx__rio_closed(c);
				continue; /* final now, or after the grace
				             period */
			}
			if (errno == EAGAIN) return -ENOTCONN;
			return fabtx__rio_errno();
		}
		if (r->ctrl_pending) r->ctrl_pending--;
		r->empty_looks = r->resync_look = 0;
		rc = fabtx__rio_frame_in(c, buf, cap);
		if (rc != -EINPROGRESS) return rc;
	}
}

static int fabtx__rio_ctrl_recv(fabtx_conn *c, void *buf, size_t cap,
                                int timeout_ms)
{
	int rc = fabtx__rio_ctrl_recv1(c, buf, cap, timeout_ms);
	fabtx__rio_resync_out(c);
	return rc;
}

static int fabtx__rio_ctrl_fd(fabtx_conn *c)
{
	fabtx__rio_conn *r = (fabtx__rio_conn *)c->bdata;
	return r && r->efd >= 0 ? r->efd : -1;
}

/* --------------------------------------------------------- connections */
static int fabtx__rio_listen(fabtx_listener *l, const char *addr)
{
	fabtx__rio_listener *s;
	struct rio_cm_channel cc;
	long destid;
	uint16_t ch, v;
	int mport, rc, fd;
	rc = fabtx__rio_parse(addr, &destid, &ch, &mport);
	if (rc < 0) return rc;
	fd = fabtx__rio_open_cm(l->ctx);
	if (fd < 0) return fd;
	v = ch;
	if (ioctl(fd, RIO_CM_CHAN_CREATE, &v) < 0) {
		rc = errno == EBUSY ? -EADDRINUSE : fabtx__rio_errno();
		fabtx_log(l->ctx, FABTX_LOG_WARN, "rio: channel %u: %s",
		          (unsigned)ch, strerror(errno));
		close(fd);
		return rc;
	}
	memset(&cc, 0, sizeof cc);
	cc.id = ch;
	cc.mport_id = (uint8_t)mport;
	if (ioctl(fd, RIO_CM_CHAN_BIND, &cc) < 0 ||
	    ioctl(fd, RIO_CM_CHAN_LISTEN, &v) < 0) {
		rc = errno == ENODEV ? -ENODEV : fabtx__rio_errno();
		(void)ioctl(fd, RIO_CM_CHAN_CLOSE, &v);
		close(fd);
		return rc;
	}
	if (destid >= 0) {
		/* an explicit destID must be ours: entries are
		 * (mport_id << 16) | host destID */
		uint32_t a[9], i, mine = 0;
		memset(a, 0, sizeof a);
		a[0] = 8;
		if (ioctl(fd, RIO_CM_MPORT_GET_LIST, a) == 0)
			for (i = 0; i < a[0] && i < 8; i++)
				if ((a[1 + i] >> 16) == (uint32_t)mport &&
				    (long)(a[1 + i] & 0xffffu) == destid)
					mine = 1;
		if (!mine) {
			(void)ioctl(fd, RIO_CM_CHAN_CLOSE, &v);
			close(fd);
			return -EADDRNOTAVAIL;
		}
	}
	s = (fabtx__rio_listener *)fabtx_ctx_zalloc(l->ctx, sizeof *s);
	if (!s) {
		(void)ioctl(fd, RIO_CM_CHAN_CLOSE, &v);
		close(fd);
		return -ENOMEM;
	}
	s->cfd = fd;
	s->ch = ch;
	s->mport = mport;
	s->spare = -1;
	l->bdata = s;
	return 0;
}

static void fabtx__rio_listener_close(fabtx_listener *l)
{
	fabtx__rio_listener *s = (fabtx__rio_listener *)l->bdata;
	if (!s) return;
	(void)ioctl(s->cfd, RIO_CM_CHAN_CLOSE, &s->ch);
	close(s->cfd);
	if (s->spare >= 0) close(s->spare);
	fabtx_ctx_free(l->ctx, s);
	l->bdata = NULL;
}

static void fabtx__rio_conn_free(fabtx_ctx *ctx, fabtx__rio_conn *r)
{
	fabtx__rio_th_stop(r);
	if (r->efd >= 0) close(r->efd);
	pthread_mutex_destroy(&r->th_mu);
	if (r->cfd >= 0) {
		if (r->ch) (void)ioctl(r->cfd, RIO_CM_CHAN_CLOSE, &r->ch);
		close(r->cfd);
	}
	if (r->mfd >= 0) close(r->mfd);
	fabtx_ctx_free(ctx, r);
}

/* ACCEPT with wait_to 0 never waits (spec 3.3: EAGAIN when nothing is
 * pending); it makes the channel CONNECTED and ACKs the client at once.
 * The client's first message is then waited for by the setup thread, so
 * the core's ctrl_recv(c, ..., 0) never blocks on a silent client. */
static int fabtx__rio_accept(fabtx_listener *l, fabtx_conn *c, int timeout_ms)
{
	fabtx__rio_listener *s = (fabtx__rio_listener *)l->bdata;
	fabtx__rio_conn *r;
	struct rio_cm_accept a;
	uint64_t dl =
	    timeout_ms > 0 ? fabtx_now_ms() + (uint64_t)timeout_ms : 0;
	int rc;
	if (!s) return -EINVAL;
	/* a fresh fd owns the accepted channel: it outlives the listener
	 * (kept from one look to the next, so an empty look is one ioctl) */
	if (s->spare < 0) {
		rc = fabtx__rio_open_cm(l->ctx);
		if (rc < 0) return rc;
		s->spare = rc;
	}
	for (;;) {
		memset(&a, 0, sizeof a);
		a.ch_num = s->ch;
		if (timeout_ms == 0)
			a.wait_to = 0; /* non-blocking */
		else if (timeout_ms < 0)
			a.wait_to = 60000;
		else {
			int left = fabtx__rio_left(dl);
			if (left == 0) return -ETIMEDOUT;
			a.wait_to = (uint32_t)left;
		}
		if (ioctl(s->spare, RIO_CM_CHAN_ACCEPT, &a) == 0) break;
		if (errno == EINTR) continue;
		if (errno == ETIME && timeout_ms != 0) continue;
		return errno == EAGAIN      ? -EAGAIN
		       : errno == ECANCELED ? -ECONNABORTED
		       : errno == ETIME     ? -EAGAIN
		                            : fabtx__rio_errno();
	}
	r = fabtx__rio_new(l->ctx, s->mport);
	if (!r) {
		/* the channel is ours (the spare fd owns it): let it go */
		(void)ioctl(s->spare, RIO_CM_CHAN_CLOSE, &a.ch_num);
		return -ENOMEM;
	}
	r->cfd = s->spare;
	s->spare = -1;
	r->ch = a.ch_num;
	rc = fabtx__rio_open_mport(l->ctx, r);
	if (rc == 0)
		rc = fabtx__rio_th_start(
		    r, 0,
		    fabtx_now_ms() + (uint64_t)fabtx_ctx_handshake_ms(l->ctx) +
		        1000u);
	if (rc < 0) {
		fabtx__rio_conn_free(l->ctx, r);
		return rc;
	}
	c->bdata = r;
	return 0;
}

/* The connect runs in the setup thread (CONNECT blocks until the ACK or
 * 3 s, spec 3.3): timeout 0 returns -EINPROGRESS at once, and
 * connect_poll says when the channel is up.  A timeout other than 0
 * waits for that here. */
static int fabtx__rio_connect_poll(fabtx_conn *c);
static int fabtx__rio_connect(fabtx_conn *c, const char *addr, int timeout_ms)
{
	fabtx__rio_conn *r;
	uint64_t dl;
	long destid;
	uint16_t ch;
	int mport, rc;
	rc = fabtx__rio_parse(addr, &destid, &ch, &mport);
	if (rc < 0) return rc;
	if (destid < 0) return -EINVAL; /* "*" only for listen */
	r = fabtx__rio_new(c->ctx, mport);
	if (!r) return -ENOMEM;
	rc = fabtx__rio_open_mport(c->ctx, r);
	if (rc < 0) goto fail;
	rc = fabtx__rio_open_cm(c->ctx);
	if (rc < 0) goto fail;
	r->cfd = rc;
	r->peer = (uint16_t)destid;
	r->th_rch = ch;
	/* the core's deadline for the whole handshake (ns; none: the
	 * caller's timeout, else the config's) */
	if (fabtx_conn_setup_deadline_ms(c))
		dl = fabtx_conn_setup_deadline_ms(c);
	else if (timeout_ms > 0)
		dl = fabtx_now_ms() + (uint64_t)timeout_ms;
	else
		dl = fabtx_now_ms() + (uint64_t)fabtx_ctx_handshake_ms(c->ctx);
	rc = fabtx__rio_th_start(r, 1, dl);
	if (rc < 0) goto fail;
	c->bdata = r;
	if (timeout_ms == 0) return -EINPROGRESS;
	rc = fabtx__rio_th_wait(r, &r->th_conn, timeout_ms);
	if (rc > 0 || rc < 0) rc = fabtx__rio_connect_poll(c);
	if (rc == -EAGAIN) rc = -ETIMEDOUT;
	if (rc < 0) {
		c->bdata = NULL;
		goto fail;
	}
	return 0;
fail:
	fabtx__rio_conn_free(c->ctx, r);
	return rc;
}

static int fabtx__rio_connect_poll(fabtx_conn *c)
{
	fabtx__rio_conn *r = (fabtx__rio_conn *)c->bdata;
	int v;
	if (!r) return -EINVAL;
	v = fabtx__rio_th_wait(r, &r->th_conn, 0);
	/* at the deadline, a CONNECT that got no ACK says nobody listens */
	if (v == -EAGAIN && fabtx_now_ms() + 1 >= r->th_dl &&
	    __atomic_load_n(&r->th_refused, __ATOMIC_ACQUIRE))
		v = -ECONNREFUSED;
	if (v == -EAGAIN) return -EAGAIN;
	if (v > 0) return 0;
	fabtx__rio_th_stop(r); /* ended, or in a CONNECT that is over */
	if (v == -ECONNREFUSED)
		fabtx_log(c->ctx, FABTX_LOG_INFO,
		          "%s: no listener answered (ETIME)", c->url);
	else if (v == -EHOSTUNREACH)
		fabtx_log(c->ctx, FABTX_LOG_INFO,
		          "%s: destID is not a rio_cm peer", c->url);
	return v;
}

/* ------------------------------------------------------------- windows */
static uint64_t fabtx__rio_pow2(uint64_t n)
{
	uint64_t p = 4096;
	while (p < n)
		p <<= 1;
	return p;
}

/* Reserve a wire doorbell range of count values (system-wide EBUSY on
 * overlap): the core's own range first, then the next free one. */
static int fabtx__rio_wire_range(fabtx_conn *c, fabtx__rio_conn *r)
{
	struct rio_doorbell_filter f;
	fabtx_db_range db = fabtx_conn_db(c);
	uint32_t count = (uint32_t)db.count + 3u;
	uint32_t base = db.base, tries;
	if (count > FABTX_DB_SPACE - FABTX_DB_RESERVED) return -EINVAL;
	for (tries = 0; tries <= FABTX_DB_SPACE / count + 1; tries++) {
		if (base + count > FABTX_DB_SPACE) base = FABTX_DB_RESERVED;
		memset(&f, 0, sizeof f);
		f.rioid = r->peer;
		f.low = (uint16_t)base;
		f.high = (uint16_t)(base + count - 1);
		if (ioctl(r->mfd, RIO_ENABLE_DOORBELL_RANGE, &f) == 0) {
			r->wbase = (uint16_t)base;
			r->wcount = (uint16_t)count;
			r->wenabled = 1;
			return 0;
		}
		if (errno != EBUSY) return fabtx__rio_errno();
		base += count;
	}
	fabtx_log(
	    c->ctx, FABTX_LOG_WARN,
	    "rio: no free doorbell range of %u values on mport %d (EBUSY)",
	    (unsigned)count, r->mport);
	return -EADDRINUSE;
}

static int fabtx__rio_win_open(fabtx_conn *c, uint64_t rx_len, uint64_t tx_len,
                               fabtx_win *rx, fabtx_win *tx)
{
	fabtx__rio_conn *r = (fabtx__rio_conn *)c->bdata;
	struct rio_mmap mm;
	struct rio_dma_mem dm;
	void *p;
	int rc;
	if (!r || r->rx_map) return -EINVAL;
	if (r->peer == FABTX__RIO_ANY_DESTID) return -EPROTO;
	if (rx_len == 0 || rx_len > 0x80000000ull || tx_len > 0xffffffffull)
		return -EINVAL;
	memset(&mm, 0, sizeof mm);
	mm.rio_addr = RIO_MAP_ANY_ADDR;
	mm.length = fabtx__rio_pow2(rx_len);
	if (ioctl(r->mfd, RIO_MAP_INBOUND, &mm) < 0) {
		rc = fabtx__rio_errno();
		fabtx_log(c->ctx, FABTX_LOG_WARN, "rio: RIO_MAP_INBOUND: %s",
		          strerror(-rc));
		return rc == -EBUSY ? -ENOSPC : rc;
	}
	r->rx_handle = mm.handle;
	p = mmap(NULL, (size_t)mm.length, PROT_READ | PROT_WRITE, MAP_SHARED,
	         r->mfd, (off_t)mm.handle);
	if (p == MAP_FAILED) {
		rc = fabtx__rio_errno();
		(void)ioctl(r->mfd, RIO_UNMAP_INBOUND, &r->rx_handle);
		return rc;
	}
	r->rx_map = p;
	r->rx_map_len = mm.length;
	memset(p, 0, (size_t)rx_len); /* contents are not defined (spec 2.4) */
	rx->base = p;
	rx->len = rx_len;
	rx->addr = mm.rio_addr;
	rx->key = 0;
	rx->desc = NULL;
	if (tx_len) {
		memset(&dm, 0, sizeof dm);
		dm.length = (tx_len + 4095u) & ~(uint64_t)4095u;
		if (ioctl(r->mfd, RIO_ALLOC_DMA, &dm) < 0)
			return fabtx__rio_errno();
		r->tx_handle = dm.dma_handle;
		p = mmap(NULL, (size_t)dm.length, PROT_READ | PROT_WRITE,
		         MAP_SHARED, r->mfd, (off_t)dm.dma_handle);
		if (p == MAP_FAILED) {
			rc = fabtx__rio_errno();
			(void)ioctl(r->mfd, RIO_FREE_DMA, &r->tx_handle);
			r->tx_handle = 0;
			return rc;
		}
		r->tx_map = p;
		r->tx_map_len = dm.length;
		tx->base = p;
		tx->len = tx_len;
		tx->addr = 0;
		tx->key = 0;
		tx->desc = NULL;
	}
	return fabtx__rio_wire_range(c, r);
}

static int fabtx__rio_win_import(fabtx_conn *c, const fabtx_win *peer_rx,
                                 fabtx_win_limits *lim)
{
	fabtx__rio_conn *r = (fabtx__rio_conn *)c->bdata;
	(void)lim; /* defaults: runs (SYNC writes), no write_imm */
	if (!r || !peer_rx) return -EINVAL;
	if ((uint32_t)r->pwcount !=
	    (uint32_t)fabtx_conn_peer_db(c).count + 3u) {
		fabtx_log(c->ctx, FABTX_LOG_WARN,
		          "rio: peer sent no usable doorbell range");
		return -EPROTO;
	}
	r->peer_addr = peer_rx->addr;
	r->peer_len = peer_rx->len;
	return 0;
}

/* ------------------------------------------------------------ data path */
static int fabtx__rio_dma(fabtx__rio_conn *r, const uint8_t *src, size_t len,
                          uint64_t rio_addr)
{
	struct rio_transfer_io x;
	struct rio_transaction t;
	memset(&x, 0, sizeof x);
	memset(&t, 0, sizeof t);
	x.rio_addr = rio_addr;
	x.length = len;
	x.rioid = r->peer;
	x.method = RIO_EXCHANGE_NWRITE_R; /* acknowledged: complete = there */
	if (r->tx_map && src >= (const uint8_t *)r->tx_map &&
	    src + len <= (const uint8_t *)r->tx_map + r->tx_map_len) {
		x.handle = r->tx_handle; /* the kernel DMA buffer */
		x.offset = (uint64_t)(src - (const uint8_t *)r->tx_map);
	} else {
		x.loc_addr = (uint64_t)(uintptr_t)src; /* pinned user pages */
	}
	t.block = (uint64_t)(uintptr_t)&x;
	t.count = 1;
	t.transfer_mode = RIO_TRANSFER_MODE_TRANSFER;
	t.sync = RIO_TRANSFER_SYNC;
	t.dir = RIO_TRANSFER_DIR_WRITE;
	for (;;) {
		if (ioctl(r->mfd, RIO_TRANSFER, &t) == 0) return 0;
		if (errno == EINTR) continue;
		if (errno == EBUSY) return -EAGAIN; /* no free descriptor */
		if (errno == ETIMEDOUT || errno == EIO) {
			/* Tsi721 reports a failed write as a timeout (spec 2.5)
			 */
			r->dma_failed = 1;
			return -ECONNRESET;
		}
		return fabtx__rio_errno();
	}
}

/* a write to a peer that has gone is dropped, not failed (what it sent
 * first is still delivered); the close says so, unless the peer FIN'd */
static int fabtx__rio_dropped(fabtx_conn *c, unsigned flags)
{
	if (!(flags & FABTX_WRITE_CREDIT)) fabtx_conn_write_dropped(c);
	return 0;
}

static int fabtx__rio_write(fabtx_conn *c, const fabtx_seg *segs, int nseg,
                            uint64_t off, uint64_t pos, unsigned flags)
{
	fabtx__rio_conn *r = (fabtx__rio_conn *)c->bdata;
	int i, rc;
	if (!r || nseg < 0 || (nseg > 0 && !segs)) return -EINVAL;
	if (r->dma_failed) return -ECONNRESET;
	/* a peer that said bye may have unmapped its window: do not stall on
	 * a DMA that can only time out.  The write is dropped (like a send
	 * into a socket whose peer just closed); progress() reports the peer
	 * gone, so the core delivers what arrived and then fails. */
	rc = fabtx__rio_drain(c, 0);
	if (rc < 0) return rc;
	if (fabtx__rio_said_bye(c) || r->peer_closed)
		return fabtx__rio_dropped(c, flags);
	for (i = 0; i < nseg; i++) {
		const uint8_t *p = (const uint8_t *)segs[i].addr;
		size_t left = segs[i].len;
		if (off > r->peer_len || left > r->peer_len - off)
			return -EINVAL;
		while (left) {
			size_t k =
			    left > r->dma_max ? (size_t)r->dma_max : left;
			rc = fabtx__rio_dma(r, p, k, r->peer_addr + off);
			if (rc == -ECONNRESET &&
			    fabtx__rio_peer_wrote_closed(c)) {
				/* it closed between our check and the DMA: the
				 * `closed` word precedes its window teardown */
				r->dma_failed = 0;
				r->bye = 1;
				return fabtx__rio_dropped(c, flags);
			}
			if (rc < 0) return rc;
			p += k;
			off += k;
			left -= k;
		}
	}
	/* SYNC writes complete in order: a following chunk's doorbell covers
	 * this one (doorbells are cumulative) */
	if ((flags & (FABTX_WRITE_DATA | FABTX_WRITE_CREDIT)) &&
	    !(flags & FABTX_WRITE_MORE))
		return fabtx__rio_ring(c,
		                       (flags & FABTX_WRITE_CREDIT)
		                           ? FABTX_DB_KIND_CREDIT
		                           : FABTX_DB_KIND_DATA,
		                       pos);
	return 0;
}

static int fabtx__rio_notify(fabtx_conn *c, fabtx_db_kind kind, uint64_t pos)
{
	fabtx__rio_conn *r = (fabtx__rio_conn *)c->bdata;
	if (!r) return -EINVAL;
	if (r->dma_failed) return -ECONNRESET;
	if (r->peer_closed || r->bye) return 0; /* nobody to wake */
	return fabtx__rio_ring(c, kind, pos);
}

static int fabtx__rio_progress(fabtx_conn *c)
{
	fabtx__rio_conn *r = (fabtx__rio_conn *)c->bdata;
	int rc;
	if (!r) return -EINVAL;
	if (fabtx_conn_cells(c) == 0) return 0; /* handshake: events wait */
	rc = fabtx__rio_drain(c, 1);
	if (rc < 0) return rc;
	fabtx__rio_resync_out(c); /* one owed and not sent yet */
	(void)fabtx__rio_said_bye(c);
	if (r->qlost && !r->bye && !r->peer_closed) {
		/* the FIFO overflowed (or may have): doorbells were lost */
		r->qlost = 0;
		r->resync_asked++;
		r->ctrl_pending++; /* a dropped event may have been "control" */
		r->resync_look = 1;
		if (fabtx__rio_send_frame(c, FABTX__RIO_K_RESYNC, NULL, 0, 0) ==
		    -EAGAIN)
			r->qlost = 1; /* TX ring full: ask again next time */
	}
	if (fabtx__rio_gone(r)) {
		fabtx__rio_final(c);
		return -ECONNRESET;
	}
	return 0;
}

static int fabtx__rio_arm(fabtx_conn *c)
{
	fabtx__rio_conn *r = (fabtx__rio_conn *)c->bdata;
	struct pollfd pf;
	if (!r) return -EINVAL;
	if (r->nq || r->ctrl_pending || r->bye || r->peer_closed ||
	    r->resync_due)
		return -EAGAIN;
	pf.fd = r->mfd;
	pf.events = POLLIN;
	pf.revents = 0;
	if (poll(&pf, 1, 0) > 0) return -EAGAIN;
	return 0;
}

static int fabtx__rio_fd(fabtx_conn *c)
{
	fabtx__rio_conn *r = (fabtx__rio_conn *)c->bdata;
	return r ? r->mfd : -EINVAL;
}

static void fabtx__rio_disconnect(fabtx_conn *c, int graceful)
{
	fabtx__rio_conn *r = (fabtx__rio_conn *)c->bdata;
	(void)graceful;
	if (!r) return;
	fabtx__rio_th_stop(r); /* a handshake given up */
	/* tell the peer, reliably and after everything we wrote (our FIN),
	 * that we are gone: the `closed` word of its window header; then the
	 * close notification and "bye", so a sleeping peer wakes and finds
	 * its channel gone; only then may our window disappear */
	if (r->peer_len >= FABTX_WIN_HDR_SIZE && !r->peer_closed &&
	    !r->dma_failed && !fabtx__rio_said_bye(c)) {
		/* no free DMA descriptor (EBUSY) is retried, as the core
		 * retries a data write, for up to a second (a ring that stays
		 * full that long has stopped): without this word a peer whose
		 * doorbells (our FIN's, bye) were lost must take us for dead
		 * and leave out our last chunk, the FIN */
		uint32_t one = 1;
		uint64_t dl = fabtx_now_ms() + 1000;
		while (fabtx__rio_dma(r, (const uint8_t *)&one, sizeof one,
		                      r->peer_addr +
		                          offsetof(fabtx_win_hdr, closed)) ==
		           -EAGAIN &&
		       fabtx_now_ms() < dl)
			fabtx__rio_nap();
	}
	if (r->cfd >= 0 && r->ch) {
		(void)ioctl(r->cfd, RIO_CM_CHAN_CLOSE, &r->ch);
		r->ch = 0;
	}
	if (!r->peer_closed) fabtx__rio_ring_special(r, FABTX__RIO_W_BYE);
	if (r->wenabled) {
		/* close() would leak the reservation (spec 2.6.8) */
		struct rio_doorbell_filter f;
		memset(&f, 0, sizeof f);
		f.rioid = r->peer;
		f.low = r->wbase;
		f.high = (uint16_t)(r->wbase + r->wcount - 1);
		if (ioctl(r->mfd, RIO_DISABLE_DOORBELL_RANGE, &f) < 0)
			fabtx_log(c->ctx, FABTX_LOG_WARN,
			          "rio: RIO_DISABLE_DOORBELL_RANGE: %s",
			          strerror(errno));
		r->wenabled = 0;
	}
	if (r->rx_map) {
		munmap(r->rx_map, (size_t)r->rx_map_len);
		(void)ioctl(r->mfd, RIO_UNMAP_INBOUND, &r->rx_handle);
	}
	if (r->tx_map) {
		munmap(r->tx_map, (size_t)r->tx_map_len);
		(void)ioctl(r->mfd, RIO_FREE_DMA, &r->tx_handle);
	}
	fabtx__rio_conn_free(c->ctx, r);
	c->bdata = NULL;
}

/* The table, member by member (C and C++11 alike), built once.  Not
 * DIRECT, not ORDERED (see the top of this file); no listener fd (rio_cm
 * cannot be polled); nothing to flush (writes are SYNC); no write_imm
 * (doorbells carry 16 bits: no room for a footer); the listener's URL is
 * the one given. */
static fabtx_backend fabtx__rio_be;
static void fabtx__rio_be_init(void)
{
	fabtx_backend *b = &fabtx__rio_be;
	b->scheme = "rio";
	b->caps = 0u;
	b->setup.listen = fabtx__rio_listen;
	b->setup.accept = fabtx__rio_accept;
	b->setup.listener_close = fabtx__rio_listener_close;
	b->setup.connect = fabtx__rio_connect;
	b->setup.connect_poll = fabtx__rio_connect_poll; /* the setup thread */
	b->setup.ctrl_fd = fabtx__rio_ctrl_fd; /* its eventfd while it runs */
	b->setup.ctrl_send = fabtx__rio_ctrl_send;
	b->setup.ctrl_recv = fabtx__rio_ctrl_recv;
	b->setup.win_open = fabtx__rio_win_open;
	b->setup.win_import = fabtx__rio_win_import;
	b->setup.disconnect = fabtx__rio_disconnect;
	b->data.write = fabtx__rio_write; /* split at dma_max_size inside */
	b->notify.ring = fabtx__rio_notify;
	b->notify.progress = fabtx__rio_progress;
	b->wait.arm = fabtx__rio_arm;
	b->wait.fd = fabtx__rio_fd;
}

FABTX__DEF const fabtx_backend *fabtx_rio_backend(void)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	pthread_once(&once, fabtx__rio_be_init);
	return &fabtx__rio_be;
}

#endif /* FABTX_IMPLEMENTATION && !FABTX_RIO_IMPLEMENTATION_INCLUDED */
