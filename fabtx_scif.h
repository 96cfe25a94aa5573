/* SPDX-License-Identifier: MIT */
/* fabtx_scif.h -- Intel SCIF backend for fabtx: scif:// URLs
 *
 * DO THIS
 *   #define FABTX_IMPLEMENTATION      (in the one implementation TU)
 *   #include "fabtx.h"
 *   #include "fabtx_scif.h"
 *   ... fabtx_ctx_add_backend(ctx, fabtx_scif_backend());
 *   No library: the backend talks to /dev/scif through the kernel's
 *   linux/scif_ioctl.h (Linux 4.4 .. 5.9; Xeon Phi hosts and cards).
 *
 * URLS
 *   scif://PORT          listen on PORT (1..65535) of this node
 *   scif://NODE:PORT     connect to PORT on NODE (0 = host, 1.. = cards)
 *
 * HOW IT WORKS (docs/scif.md)
 *   - One SCIF endpoint per connection: listen = BIND + LISTEN; accept =
 *     ACCEPTREQ on the listener, then ACCEPTREG on a freshly opened fd;
 *     connect = non-blocking CONNECT (connect(c, addr, 0) returns
 *     -EINPROGRESS), then connect_poll issues CONNECT again (EINPROGRESS
 *     until the driver has the outcome).  ctrl_fd is the endpoint fd
 *     once connected; while the connect is pending none (the driver says
 *     "done" with POLLOUT only, and the core waits for POLLIN), so the
 *     core looks on its 5 ms timer then.
 *   - accept(l, c, 0): ACCEPTREQ without SYNC (EAGAIN when nothing is
 *     pending; the driver's own wait for the connecting node's
 *     confirmation is kernel to kernel), then ACCEPTREG.
 *   - Control messages and doorbells travel over SCIF_SEND/SCIF_RECV, a
 *     byte stream of at most 4095 unread bytes per direction: each is a
 *     record {u32 le: type << 24 | len} + payload, buffered on both sides
 *     (a non-blocking send may take 0 bytes).  Data and credit doorbells are
 *     cumulative, so an unsent one is overwritten by the next of its kind.
 *   - The RX window (and the TX staging area) are page-aligned anonymous
 *     mappings registered with SCIF_REG; data goes by SCIF_WRITETO from the
 *     registered staging window (SCIF_VWRITETO for memory outside it) into
 *     the peer's RX window.  The write that carries a doorbell uses
 *     SCIF_RMA_SYNC, which returns once every RMA queued before it on the
 *     endpoint has landed, and only then is the doorbell sent (spec §7.1,
 *     recipe 2): the notification never overtakes the data.  Writes marked
 *     FABTX_WRITE_MORE are left asynchronous and their doorbell is folded
 *     into the next one.  ORDERED placement is not claimed: SCIF_RMA_ORDERED
 *     orders only the last cache line of a single transfer.
 *   - fd() is the endpoint fd itself: POLLIN when SCIF_RECV has bytes,
 *     POLLHUP when the peer closed.  A peer close surfaces as -ECONNRESET
 *     from progress()/ctrl_recv() after every doorbell that arrived before
 *     it has been delivered, so nothing already written is lost.
 */
#ifndef FABTX_SCIF_H_INCLUDED
#define FABTX_SCIF_H_INCLUDED
#include "fabtx.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The scif:// backend (one static instance). */
FABTX_API const fabtx_backend *fabtx_scif_backend(void);

/* SCIF flag values that linux/scif_ioctl.h does not define (include/
 * linux/scif.h of the kernel). */
#define FABTX_SCIF_ACCEPT_SYNC 1
#define FABTX_SCIF_SEND_BLOCK 1
#define FABTX_SCIF_RECV_BLOCK 1
#define FABTX_SCIF_PROT_READ 0x1
#define FABTX_SCIF_PROT_WRITE 0x2
#define FABTX_SCIF_MAP_FIXED 0x10
#define FABTX_SCIF_RMA_USECPU 0x1
#define FABTX_SCIF_RMA_USECACHE 0x2
#define FABTX_SCIF_RMA_SYNC 0x4
#define FABTX_SCIF_RMA_ORDERED 0x8
#define FABTX_SCIF_FENCE_INIT_SELF 0x1
#define FABTX_SCIF_FENCE_INIT_PEER 0x2
#define FABTX_SCIF_SIGNAL_LOCAL 0x10
#define FABTX_SCIF_SIGNAL_REMOTE 0x20

/* The device node and the listen backlog. */
#ifndef FABTX_SCIF_DEV
#define FABTX_SCIF_DEV "/dev/scif"
#endif
#ifndef FABTX_SCIF_BACKLOG
#define FABTX_SCIF_BACKLOG 64
#endif

#ifdef __cplusplus
}
#endif
#endif /* FABTX_SCIF_H_INCLUDED */

/* ======================================================================= */
#if defined(FABTX_IMPLEMENTATION) &&                                           \
    !defined(FABTX_SCIF_IMPLEMENTATION_INCLUDED)
#define FABTX_SCIF_IMPLEMENTATION_INCLUDED

#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#if defined(__has_include)
#if __has_include(<linux/scif_ioctl.h>)
#include <linux/scif_ioctl.h>
#define FABTX__SCIF_HAVE_UAPI 1
#endif
#endif
#ifndef FABTX__SCIF_HAVE_UAPI
/* The uapi layout (include/uapi/linux/scif_ioctl.h), for systems without
 * the header. */
#include <linux/ioctl.h>
#include <linux/types.h>
struct scif_port_id {
	__u16 node;
	__u16 port;
};
struct scifioctl_connect {
	struct scif_port_id self;
	struct scif_port_id peer;
};
struct scifioctl_accept {
	__s32 flags;
	struct scif_port_id peer;
	__u64 endpt;
};
struct scifioctl_msg {
	__u64 msg;
	__s32 len;
	__s32 flags;
	__s32 out_len;
};
struct scifioctl_reg {
	__u64 addr;
	__u64 len;
	__s64 offset;
	__s32 prot;
	__s32 flags;
	__s64 out_offset;
};
struct scifioctl_unreg {
	__s64 offset;
	__u64 len;
};
struct scifioctl_copy {
	__s64 loffset;
	__u64 len;
	__s64 roffset;
	__u64 addr;
	__s32 flags;
};
struct scifioctl_fence_mark {
	__s32 flags;
	__u64 mark;
};
#define SCIF_BIND _IOWR('s', 1, __u64)
#define SCIF_LISTEN _IOW('s', 2, __s32)
#define SCIF_CONNECT _IOWR('s', 3, struct scifioctl_connect)
#define SCIF_ACCEPTREQ _IOWR('s', 4, struct scifioctl_accept)
#define SCIF_ACCEPTREG _IOWR('s', 5, __u64)
#define SCIF_SEND _IOWR('s', 6, struct scifioctl_msg)
#define SCIF_RECV _IOWR('s', 7, struct scifioctl_msg)
#define SCIF_REG _IOWR('s', 8, struct scifioctl_reg)
#define SCIF_UNREG _IOWR('s', 9, struct scifioctl_unreg)
#define SCIF_WRITETO _IOWR('s', 11, struct scifioctl_copy)
#define SCIF_VWRITETO _IOWR('s', 13, struct scifioctl_copy)
#define SCIF_FENCE_MARK _IOWR('s', 15, struct scifioctl_fence_mark)
#define SCIF_FENCE_WAIT _IOWR('s', 16, __s32)
#endif

typedef char
    fabtx__scif_msg_size_ok[sizeof(struct scifioctl_msg) == 24 ? 1 : -1];
typedef char
    fabtx__scif_reg_size_ok[sizeof(struct scifioctl_reg) == 40 ? 1 : -1];
typedef char
    fabtx__scif_copy_size_ok[sizeof(struct scifioctl_copy) == 40 ? 1 : -1];

/* stream records: u32 little-endian header (type << 24 | len) + payload */
#define FABTX__SCIF_REC_CTRL 1u
#define FABTX__SCIF_REC_DB 2u
#define FABTX__SCIF_CTRL_MAX 512u
#define FABTX__SCIF_CQ 16 /* control messages buffered before ctrl_recv */
#define FABTX__SCIF_OUT_MAX (256u * 1024u) /* unsent bytes before -EAGAIN */
#define FABTX__SCIF_CHUNK 4096u            /* bytes per SCIF_RECV */
/* what a peer can make us hold that the core has not taken yet: read no
 * further (its bytes wait in the SCIF ring) */
#define FABTX__SCIF_IN_MAX (64u * 1024u)
#define FABTX__SCIF_DBQ_MAX 4096u

typedef struct fabtx__scif_ctrl {
	uint32_t len;
	uint8_t b[FABTX__SCIF_CTRL_MAX];
} fabtx__scif_ctrl;

typedef struct fabtx__scif_conn {
	int fd;
	/* a non-blocking connect not yet collected (SCIF_CONNECT again
	 * with the same peer says how it went) */
	int connecting;
	struct scif_port_id peer;
	int eof; /* SCIF_RECV reported the peer closed and the ring empty */
	int err; /* sticky protocol error */
	/* inbound bytes not yet parsed */
	uint8_t *in;
	size_t in_len, in_cap;
	/* outbound records; [out_off, out_len) still to be sent */
	uint8_t *out;
	size_t out_off, out_len, out_cap;
	size_t db_pos[2]; /* unsent data/credit doorbell record, or SIZE_MAX */
	/* parsed doorbells and control messages */
	uint32_t *dbq;
	size_t dbq_len, dbq_cap;
	fabtx__scif_ctrl cq[FABTX__SCIF_CQ];
	int cq_head, cq_n;
	/* windows */
	void *rx_mem, *tx_mem;
	size_t rx_map, tx_map;
	int64_t rx_off, tx_off;
	int rx_reg, tx_reg;
	int64_t peer_off;
	uint64_t peer_len;
	int async; /* RMAs issued without SYNC since the last fence */
} fabtx__scif_conn;

typedef struct fabtx__scif_listener {
	int fd;
} fabtx__scif_listener;

FABTX__PRIV int fabtx__scif_ioctl(int fd, unsigned long cmd, void *arg)
{
	int rc;
	do
		rc = ioctl(fd, cmd, arg);
	while (rc < 0 && errno == EINTR);
	return rc < 0 ? -errno : 0;
}

FABTX__PRIV int fabtx__scif_open(int flags)
{
	int fd = open(FABTX_SCIF_DEV, O_RDWR | O_CLOEXEC | flags);
	if (fd >= 0) return fd;
	/* no driver (kernels >= 5.10, no card): report it as such */
	return (errno == ENOENT || errno == ENXIO || errno == ENODEV) ? -ENODEV
	                                                              : -errno;
}

/* parse a decimal number in [lo, hi] that fills [s, end) */
FABTX__PRIV int fabtx__scif_num(const char *s, const char *end, long lo,
                                long hi, long *out)
{
	long v = 0;
	if (s == end || end - s > 6) return -EINVAL;
	for (; s < end; s++) {
		if (*s < '0' || *s > '9') return -EINVAL;
		v = v * 10 + (*s - '0');
	}
	if (v < lo || v > hi) return -EINVAL;
	*out = v;
	return 0;
}

FABTX__PRIV int fabtx__scif_poll(int fd, short ev, int timeout_ms)
{
	struct pollfd p;
	int rc;
	p.fd = fd;
	p.events = ev;
	p.revents = 0;
	rc = poll(&p, 1, timeout_ms);
	if (rc < 0) return errno == EINTR ? 0 : -errno;
	return rc;
}

/* ------------------------------------------------------------ listener */
static int fabtx__scif_listen(fabtx_listener *l, const char *addr)
{
	fabtx__scif_listener *sl;
	long port;
	int fd, p, rc;
	if (fabtx__scif_num(addr, addr + strlen(addr), 1, 65535, &port) < 0)
		return -EINVAL;
	fd = fabtx__scif_open(0);
	if (fd < 0) return fd;
	p = (int)port; /* SCIF_BIND reads and writes a 4-byte int */
	rc = fabtx__scif_ioctl(fd, SCIF_BIND, &p);
	if (rc == -EINVAL) rc = -EADDRINUSE; /* the driver's "port in use" */
	if (rc == 0) {
		do
			rc =
			    ioctl(fd, SCIF_LISTEN, (long)FABTX_SCIF_BACKLOG) < 0
			        ? -errno
			        : 0;
		while (rc == -EINTR);
	}
	if (rc < 0) {
		close(fd);
		return rc;
	}
	sl = (fabtx__scif_listener *)fabtx_ctx_zalloc(l->ctx, sizeof *sl);
	if (!sl) {
		close(fd);
		return -ENOMEM;
	}
	sl->fd = fd;
	l->bdata = sl;
	return 0;
}

static int fabtx__scif_listener_fd(fabtx_listener *l)
{
	return ((fabtx__scif_listener *)l->bdata)->fd;
}

static void fabtx__scif_listener_close(fabtx_listener *l)
{
	fabtx__scif_listener *sl = (fabtx__scif_listener *)l->bdata;
	if (!sl) return;
	close(sl->fd);
	fabtx_ctx_free(l->ctx, sl);
	l->bdata = NULL;
}

static int fabtx__scif_new(fabtx_conn *c, int fd)
{
	fabtx__scif_conn *s =
	    (fabtx__scif_conn *)fabtx_ctx_zalloc(c->ctx, sizeof *s);
	if (!s) return -ENOMEM;
	s->fd = fd;
	s->db_pos[0] = s->db_pos[1] = (size_t)-1;
	c->bdata = s;
	return 0;
}

static int fabtx__scif_accept(fabtx_listener *l, fabtx_conn *c, int timeout_ms)
{
	fabtx__scif_listener *sl = (fabtx__scif_listener *)l->bdata;
	uint64_t dl = fabtx_deadline(timeout_ms);
	struct scifioctl_accept a;
	int nfd, rc;
	nfd = fabtx__scif_open(0);
	if (nfd < 0) return nfd;
	for (;;) {
		memset(&a, 0, sizeof a);
		a.flags = 0; /* non-blocking: the deadline is ours */
		rc = fabtx__scif_ioctl(sl->fd, SCIF_ACCEPTREQ, &a);
		if (rc == 0) break;
		if (rc != -EAGAIN) goto fail;
		if (fabtx_remaining_ms(dl) == 0) {
			rc = timeout_ms ? -ETIMEDOUT : -EAGAIN;
			goto fail;
		}
		rc = fabtx__scif_poll(sl->fd, POLLIN, fabtx_remaining_ms(dl));
		if (rc < 0) goto fail;
	}
	/* the accepted endpoint lives on a freshly opened fd */
	rc = fabtx__scif_ioctl(nfd, SCIF_ACCEPTREG, &a.endpt);
	if (rc < 0) goto fail;
	rc = fabtx__scif_new(c, nfd);
	if (rc < 0) goto fail;
	return 0;
fail:
	close(nfd);
	return rc;
}

/* connect(c, addr, 0) starts the connect and returns -EINPROGRESS (the
 * endpoint is O_NONBLOCK, spec: SCIF_CONNECT); connect_poll collects it.
 * A timeout other than 0 waits here for POLLOUT, which is how the driver
 * signals that a connect is over. */
static int fabtx__scif_connect_poll(fabtx_conn *c);
static int fabtx__scif_connect(fabtx_conn *c, const char *addr, int timeout_ms)
{
	fabtx__scif_conn *s;
	struct scifioctl_connect cc;
	uint64_t dl = fabtx_deadline(timeout_ms);
	const char *colon = strchr(addr, ':');
	long node, port;
	int fd, rc;
	if (!colon || fabtx__scif_num(addr, colon, 0, 65535, &node) < 0 ||
	    fabtx__scif_num(colon + 1, colon + strlen(colon), 1, 65535, &port) <
	        0)
		return -EINVAL;
	/* O_NONBLOCK only changes SCIF_CONNECT: EINPROGRESS, then POLLOUT */
	fd = fabtx__scif_open(O_NONBLOCK);
	if (fd < 0) return fd;
	memset(&cc, 0, sizeof cc);
	cc.peer.node = (uint16_t)node;
	cc.peer.port = (uint16_t)port;
	rc = fabtx__scif_ioctl(fd, SCIF_CONNECT, &cc);
	if (rc < 0 && rc != -EINPROGRESS) {
		close(fd);
		return rc;
	}
	rc = fabtx__scif_new(c, fd);
	if (rc < 0) {
		close(fd);
		return rc;
	}
	s = (fabtx__scif_conn *)c->bdata;
	s->peer = cc.peer;
	s->connecting = 1;
	for (;;) {
		int ms;
		rc = fabtx__scif_connect_poll(c);
		if (rc != -EAGAIN) break;
		if (timeout_ms == 0) return -EINPROGRESS;
		ms = fabtx_remaining_ms(dl);
		if (ms == 0) {
			rc = -ETIMEDOUT;
			break;
		}
		rc = fabtx__scif_poll(fd, POLLOUT, ms);
		if (rc < 0) break;
	}
	if (rc < 0) {
		fabtx_ctx_free(c->ctx, s);
		c->bdata = NULL;
		close(fd);
	}
	return rc;
}

/* 0 connected, -EAGAIN not yet, or why it failed (-ECONNREFUSED, ...) */
static int fabtx__scif_connect_poll(fabtx_conn *c)
{
	fabtx__scif_conn *s = (fabtx__scif_conn *)c->bdata;
	struct scifioctl_connect cc;
	int rc;
	if (!s) return -EINVAL;
	if (!s->connecting) return 0;
	memset(&cc, 0, sizeof cc);
	cc.peer = s->peer;
	rc = fabtx__scif_ioctl(s->fd, SCIF_CONNECT, &cc);
	if (rc == -EINPROGRESS) return -EAGAIN;
	if (rc == 0 || rc == -EISCONN) {
		s->connecting = 0;
		return 0;
	}
	return rc;
}

/* The handshake's fd: the endpoint once connected (POLLIN: bytes or a
 * hang-up).  A connect in progress is signalled by POLLOUT only, which a
 * POLLIN waiter never sees: none then (the core looks on its timer). */
static int fabtx__scif_ctrl_fd(fabtx_conn *c)
{
	fabtx__scif_conn *s = (fabtx__scif_conn *)c->bdata;
	return s && !s->connecting ? s->fd : -1;
}

/* ----------------------------------------------------- the byte stream */
static int fabtx__scif_grow(fabtx_conn *c, uint8_t **buf, size_t *cap,
                            size_t need)
{
	fabtx_ctx *a = c->ctx;
	size_t ncap = *cap ? *cap : 1024;
	uint8_t *nb;
	if (need <= *cap) return 0;
	while (ncap < need)
		ncap *= 2;
	nb = (uint8_t *)fabtx_ctx_zalloc(a, ncap);
	if (!nb) return -ENOMEM;
	if (*buf) {
		memcpy(nb, *buf, *cap);
		fabtx_ctx_free(a, *buf);
	}
	*buf = nb;
	*cap = ncap;
	return 0;
}

/* Send what SCIF takes now.  0, or -ECONNRESET if the peer is gone. */
static int fabtx__scif_flush_out(fabtx__scif_conn *s)
{
	while (s->out_off < s->out_len) {
		struct scifioctl_msg m;
		size_t left = s->out_len - s->out_off;
		int rc;
		memset(&m, 0, sizeof m);
		m.msg = (uint64_t)(uintptr_t)(s->out + s->out_off);
		m.len = left > 65536 ? 65536 : (int)left;
		m.flags = 0; /* non-blocking: may take 0 bytes */
		rc = fabtx__scif_ioctl(s->fd, SCIF_SEND, &m);
		if (rc < 0) return rc == -ENOTCONN ? -ECONNRESET : rc;
		if (m.out_len <= 0) break;
		s->out_off += (size_t)m.out_len;
	}
	if (s->out_off == s->out_len) {
		s->out_off = s->out_len = 0;
		s->db_pos[0] = s->db_pos[1] = (size_t)-1;
	}
	return 0;
}

static int fabtx__scif_put(fabtx_conn *c, uint32_t type, const void *p,
                           size_t len)
{
	fabtx__scif_conn *s = (fabtx__scif_conn *)c->bdata;
	uint32_t h = type << 24 | (uint32_t)len;
	uint8_t hb[4];
	int rc;
	if (s->out_len - s->out_off + 4 + len > FABTX__SCIF_OUT_MAX) {
		fabtx__scif_flush_out(s);
		if (s->out_len - s->out_off + 4 + len > FABTX__SCIF_OUT_MAX)
			return -EAGAIN;
	}
	rc = fabtx__scif_grow(c, &s->out, &s->out_cap, s->out_len + 4 + len);
	if (rc < 0) return rc;
	hb[0] = (uint8_t)h;
	hb[1] = (uint8_t)(h >> 8);
	hb[2] = (uint8_t)(h >> 16);
	hb[3] = (uint8_t)(h >> 24);
	memcpy(s->out + s->out_len, hb, 4);
	if (len) memcpy(s->out + s->out_len + 4, p, len);
	s->out_len += 4 + len;
	return 0;
}

static void fabtx__scif_le32(uint8_t *b, uint32_t v)
{
	b[0] = (uint8_t)v;
	b[1] = (uint8_t)(v >> 8);
	b[2] = (uint8_t)(v >> 16);
	b[3] = (uint8_t)(v >> 24);
}
static uint32_t fabtx__scif_rd32(const uint8_t *b)
{
	return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 |
	       (uint32_t)b[3] << 24;
}

/* queue a notification (the core's 16-bit value on the wire); data hints
 * and credit reports are cumulative, so an unsent one of the same kind is
 * overwritten instead of appended */
static int fabtx__scif_db(fabtx_conn *c, fabtx_db_kind kind, uint64_t pos)
{
	fabtx__scif_conn *s = (fabtx__scif_conn *)c->bdata;
	uint32_t v = fabtx_conn_db_value(c, kind, pos);
	int k = kind == FABTX_DB_KIND_CREDIT, rc;
	if (s->db_pos[k] != (size_t)-1 && s->db_pos[k] >= s->out_off) {
		fabtx__scif_le32(s->out + s->db_pos[k] + 4, v);
	} else {
		uint8_t b[4];
		size_t at = s->out_len;
		fabtx__scif_le32(b, v);
		rc = fabtx__scif_put(c, FABTX__SCIF_REC_DB, b, 4);
		if (rc < 0) return rc;
		s->db_pos[k] = at;
	}
	rc = fabtx__scif_flush_out(s);
	return rc == -ECONNRESET ? 0 : rc; /* seen by progress() */
}

/* Read what SCIF has and split it into doorbells and control messages. */
static int fabtx__scif_pump(fabtx_conn *c)
{
	fabtx__scif_conn *s = (fabtx__scif_conn *)c->bdata;
	fabtx_ctx *a = c->ctx;
	size_t off = 0;
	int rc;
	if (s->err) return s->err;
	while (!s->eof && s->in_len < FABTX__SCIF_IN_MAX) {
		struct scifioctl_msg m;
		rc = fabtx__scif_grow(c, &s->in, &s->in_cap,
		                      s->in_len + FABTX__SCIF_CHUNK);
		if (rc < 0) return rc;
		memset(&m, 0, sizeof m);
		m.msg = (uint64_t)(uintptr_t)(s->in + s->in_len);
		m.len = (int)FABTX__SCIF_CHUNK;
		m.flags = 0;
		rc = fabtx__scif_ioctl(s->fd, SCIF_RECV, &m);
		if (rc == -ECONNRESET || rc == -ENOTCONN) {
			s->eof =
			    1; /* the peer closed and the ring is drained */
			break;
		}
		if (rc < 0) return rc;
		if (m.out_len <= 0) break;
		s->in_len += (size_t)m.out_len;
	}
	while (s->in_len - off >= 4 && s->cq_n < FABTX__SCIF_CQ &&
	       s->dbq_len < FABTX__SCIF_DBQ_MAX) {
		uint32_t h = fabtx__scif_rd32(s->in + off);
		uint32_t type = h >> 24, len = h & 0xffffffu;
		if ((type == FABTX__SCIF_REC_DB && len != 4) ||
		    (type == FABTX__SCIF_REC_CTRL &&
		     len > FABTX__SCIF_CTRL_MAX) ||
		    (type != FABTX__SCIF_REC_DB &&
		     type != FABTX__SCIF_REC_CTRL)) {
			fabtx_log(c->ctx, FABTX_LOG_WARN,
			          "%s: malformed SCIF control stream", c->url);
			s->err = -EPROTO;
			return s->err;
		}
		if (s->in_len - off < 4 + len) break;
		if (type == FABTX__SCIF_REC_DB) {
			if (s->dbq_len == s->dbq_cap) {
				size_t ncap = s->dbq_cap ? 2 * s->dbq_cap : 64;
				uint32_t *nq = (uint32_t *)fabtx_ctx_zalloc(
				    a, ncap * sizeof *nq);
				if (!nq) return -ENOMEM;
				if (s->dbq) {
					memcpy(nq, s->dbq,
					       s->dbq_len * sizeof *nq);
					fabtx_ctx_free(a, s->dbq);
				}
				s->dbq = nq;
				s->dbq_cap = ncap;
			}
			s->dbq[s->dbq_len++] =
			    fabtx__scif_rd32(s->in + off + 4);
		} else {
			fabtx__scif_ctrl *q =
			    &s->cq[(s->cq_head + s->cq_n) % FABTX__SCIF_CQ];
			q->len = len;
			memcpy(q->b, s->in + off + 4, len);
			s->cq_n++;
		}
		off += 4 + len;
	}
	if (off) {
		memmove(s->in, s->in + off, s->in_len - off);
		s->in_len -= off;
	}
	return 0;
}

static int fabtx__scif_ctrl_send(fabtx_conn *c, const void *msg, size_t len,
                                 int timeout_ms)
{
	fabtx__scif_conn *s = (fabtx__scif_conn *)c->bdata;
	uint64_t dl = fabtx_deadline(timeout_ms);
	int rc;
	if (len > FABTX__SCIF_CTRL_MAX) return -EMSGSIZE;
	if (s->err) return s->err;
	rc = fabtx__scif_put(c, FABTX__SCIF_REC_CTRL, msg, len);
	if (rc < 0) return rc;
	/* the message is queued (reliable); push it out within the timeout,
	 * reading meanwhile so that two full rings cannot deadlock */
	for (;;) {
		int ms;
		rc = fabtx__scif_flush_out(s);
		if (rc < 0) return rc;
		if (s->out_len == 0) return 0;
		ms = fabtx_remaining_ms(dl);
		if (ms == 0) return 0;
		rc = fabtx__scif_pump(c);
		if (rc < 0) return rc;
		if (s->eof) return -ECONNRESET;
		rc = fabtx__scif_poll(s->fd, POLLOUT, ms);
		if (rc < 0) return rc;
	}
}

static int fabtx__scif_ctrl_recv(fabtx_conn *c, void *buf, size_t cap,
                                 int timeout_ms)
{
	fabtx__scif_conn *s = (fabtx__scif_conn *)c->bdata;
	uint64_t dl = fabtx_deadline(timeout_ms);
	int rc;
	for (;;) {
		int ms;
		rc = fabtx__scif_pump(c);
		if (rc < 0) return rc;
		if (s->cq_n) {
			fabtx__scif_ctrl *q = &s->cq[s->cq_head];
			if (q->len > cap) return -EMSGSIZE;
			memcpy(buf, q->b, q->len);
			s->cq_head = (s->cq_head + 1) % FABTX__SCIF_CQ;
			s->cq_n--;
			return (int)q->len;
		}
		/* the peer is gone: but doorbells that arrived before its close
		 * must reach the core (progress) before the loss is reported */
		if (s->eof) return s->dbq_len ? -EAGAIN : -ECONNRESET;
		ms = fabtx_remaining_ms(dl);
		if (ms == 0) return -EAGAIN;
		fabtx__scif_flush_out(s);
		rc = fabtx__scif_poll(s->fd, POLLIN, ms);
		if (rc < 0) return rc;
	}
}

/* ------------------------------------------------------------- windows */
static int fabtx__scif_map(fabtx_conn *c, uint64_t len, int prot, void **mem,
                           size_t *map, int64_t *off)
{
	fabtx__scif_conn *s = (fabtx__scif_conn *)c->bdata;
	long pg = sysconf(_SC_PAGESIZE);
	struct scifioctl_reg r;
	size_t n;
	void *p;
	int rc;
	if (pg <= 0) pg = 4096;
	if (len == 0 || len > (uint64_t)SIZE_MAX / 2) return -EINVAL;
	n = ((size_t)len + (size_t)pg - 1) / (size_t)pg * (size_t)pg;
	p = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
	         -1, 0);
	if (p == MAP_FAILED) return -ENOMEM;
#ifdef MADV_DONTFORK
	madvise(p, n, MADV_DONTFORK); /* registered pages and fork don't mix */
#endif
	memset(&r, 0, sizeof r);
	r.addr = (uint64_t)(uintptr_t)p;
	r.len = n;
	r.prot = prot;
	r.flags = 0;
	rc = fabtx__scif_ioctl(s->fd, SCIF_REG, &r);
	if (rc < 0) {
		munmap(p, n);
		return rc;
	}
	*mem = p;
	*map = n;
	*off = r.out_offset;
	return 0;
}

static int fabtx__scif_win_open(fabtx_conn *c, uint64_t rx_len, uint64_t tx_len,
                                fabtx_win *rx, fabtx_win *tx)
{
	fabtx__scif_conn *s = (fabtx__scif_conn *)c->bdata;
	int rc;
	rc = fabtx__scif_map(c, rx_len,
	                     FABTX_SCIF_PROT_READ | FABTX_SCIF_PROT_WRITE,
	                     &s->rx_mem, &s->rx_map, &s->rx_off);
	if (rc < 0) return rc;
	s->rx_reg = 1;
	memset(rx, 0, sizeof *rx);
	rx->base = s->rx_mem;
	rx->len = rx_len;
	rx->addr = (uint64_t)s->rx_off;
	memset(tx, 0, sizeof *tx);
	if (tx_len) {
		rc = fabtx__scif_map(c, tx_len, FABTX_SCIF_PROT_READ,
		                     &s->tx_mem, &s->tx_map, &s->tx_off);
		if (rc < 0) return rc;
		s->tx_reg = 1;
		tx->base = s->tx_mem;
		tx->len = tx_len;
		tx->addr = (uint64_t)s->tx_off;
	}
	return 0;
}

static int fabtx__scif_win_import(fabtx_conn *c, const fabtx_win *peer,
                                  fabtx_win_limits *lim)
{
	fabtx__scif_conn *s = (fabtx__scif_conn *)c->bdata;
	(void)lim; /* defaults: runs, no write_imm */
	if (peer->addr > (uint64_t)INT64_MAX ||
	    peer->len > (uint64_t)INT64_MAX - peer->addr)
		return -EPROTO;
	s->peer_off = (int64_t)peer->addr;
	s->peer_len = peer->len;
	return 0;
}

/* An RMA error.  Once the peer has closed its endpoint (ECONNRESET), a
 * write into its unregistered window is dropped, as a store into the
 * mapping of a departed shm peer would be: the departure itself reaches the
 * core through progress()/ctrl_recv() (-ECONNRESET after everything the
 * peer sent has been delivered), which fails later sends and receives.  So
 * a credit report racing the peer's close, or two sides closing at once,
 * is not an error here; the close is told (fabtx_conn_write_dropped) and
 * says -ECONNRESET unless the peer had closed first. */
static int fabtx__scif_gone(fabtx_conn *c, int rc)
{
	if (rc != -ECONNRESET && rc != -ENOTCONN) return rc;
	fabtx_conn_write_dropped(c); /* the close says so, unless it FIN'd */
	return 0;
}

static int fabtx__scif_write(fabtx_conn *c, const fabtx_seg *segs, int nseg,
                             uint64_t off, uint64_t npos, unsigned flags)
{
	fabtx__scif_conn *s = (fabtx__scif_conn *)c->bdata;
	const uint8_t *tb = (const uint8_t *)s->tx_mem;
	uint64_t total = 0, pos = off;
	int i, rc,
	    ring = (flags & (FABTX_WRITE_DATA | FABTX_WRITE_CREDIT)) &&
	           !(flags & FABTX_WRITE_MORE);
	if (s->err) return s->err;
	for (i = 0; i < nseg; i++)
		total += segs[i].len;
	if (off > s->peer_len || total > s->peer_len - off) return -EINVAL;
	for (i = 0; i < nseg; i++) {
		struct scifioctl_copy cp;
		const uint8_t *a = (const uint8_t *)segs[i].addr;
		if (!segs[i].len) continue;
		memset(&cp, 0, sizeof cp);
		cp.len = segs[i].len;
		cp.roffset = s->peer_off + (int64_t)pos;
		/* the doorbell's write is synchronous: SYNC returns once every
		 * RMA queued before it on this endpoint has landed */
		cp.flags = (ring && i == nseg - 1) ? FABTX_SCIF_RMA_SYNC : 0;
		if (tb && a >= tb && a + segs[i].len <= tb + s->tx_map) {
			cp.loffset = s->tx_off + (int64_t)(a - tb);
			rc = fabtx__scif_ioctl(s->fd, SCIF_WRITETO, &cp);
		} else {
			cp.addr = (uint64_t)(uintptr_t)a;
			rc = fabtx__scif_ioctl(s->fd, SCIF_VWRITETO, &cp);
		}
		if (rc < 0) return fabtx__scif_gone(c, rc);
		s->async = cp.flags == 0;
		pos += segs[i].len;
	}
	if (ring && s->async) {
		/* an empty last segment: fence what is in flight */
		int mark = 0;
		struct scifioctl_fence_mark fm;
		memset(&fm, 0, sizeof fm);
		fm.flags = FABTX_SCIF_FENCE_INIT_SELF;
		fm.mark = (uint64_t)(uintptr_t)&mark;
		rc = fabtx__scif_ioctl(s->fd, SCIF_FENCE_MARK, &fm);
		if (rc == 0) {
			do
				rc = ioctl(s->fd, SCIF_FENCE_WAIT, (long)mark) <
				             0
				         ? -errno
				         : 0;
			while (rc == -EINTR);
		}
		if (rc < 0) return fabtx__scif_gone(c, rc);
		s->async = 0;
	}
	if (ring)
		return fabtx__scif_db(c,
		                      (flags & FABTX_WRITE_CREDIT)
		                          ? FABTX_DB_KIND_CREDIT
		                          : FABTX_DB_KIND_DATA,
		                      npos);
	return 0;
}

static int fabtx__scif_ring(fabtx_conn *c, fabtx_db_kind kind, uint64_t pos)
{
	fabtx__scif_conn *s = (fabtx__scif_conn *)c->bdata;
	if (s->err) return s->err;
	return fabtx__scif_db(c, kind, pos);
}

static int fabtx__scif_progress(fabtx_conn *c)
{
	fabtx__scif_conn *s = (fabtx__scif_conn *)c->bdata;
	fabtx_db_range db = fabtx_conn_db(c);
	size_t i, n;
	int rc;
	rc = fabtx__scif_flush_out(s);
	if (rc < 0 && rc != -ECONNRESET) return rc;
	rc = fabtx__scif_pump(c);
	if (rc < 0) return rc;
	/* deliver in arrival order; the core may ring doorbells meanwhile */
	n = s->dbq_len;
	for (i = 0; i < n; i++) {
		uint32_t v = s->dbq[i], half = db.count / 2u;
		/* A credit notification is a wake-up for the credit word the
		 * peer wrote (SYNC) into my window header before sending it: the
		 * core reads the word (an old index decoded against a newer word
		 * would alias ahead by up to N-1 cells). */
		if (half && v >= (uint32_t)db.base + half &&
		    v < (uint32_t)db.base + 2u * half)
			fabtx_conn_credit_in(c, 0);
		else
			fabtx_conn_doorbell_in(c, v);
	}
	if (s->dbq_len > n)
		memmove(s->dbq, s->dbq + n, (s->dbq_len - n) * sizeof *s->dbq);
	s->dbq_len -= n;
	/* the peer is gone once everything it sent has been handed over */
	if (s->eof && !s->cq_n && !s->dbq_len) return -ECONNRESET;
	return 0;
}

static int fabtx__scif_flush(fabtx_conn *c, int timeout_ms)
{
	fabtx__scif_conn *s = (fabtx__scif_conn *)c->bdata;
	uint64_t dl = fabtx_deadline(timeout_ms);
	int rc;
	if (s->async) {
		int mark = 0;
		struct scifioctl_fence_mark fm;
		memset(&fm, 0, sizeof fm);
		fm.flags = FABTX_SCIF_FENCE_INIT_SELF;
		fm.mark = (uint64_t)(uintptr_t)&mark;
		rc = fabtx__scif_ioctl(s->fd, SCIF_FENCE_MARK, &fm);
		if (rc == 0) {
			do
				rc = ioctl(s->fd, SCIF_FENCE_WAIT, (long)mark) <
				             0
				         ? -errno
				         : 0;
			while (rc == -EINTR);
		}
		if (rc < 0 && (rc = fabtx__scif_gone(c, rc)) < 0) return rc;
		s->async = 0;
	}
	/* queued doorbells are part of what was written */
	for (;;) {
		int ms;
		rc = fabtx__scif_flush_out(s);
		if (rc < 0) return fabtx__scif_gone(c, rc);
		if (s->out_len == 0) return 0;
		ms = fabtx_remaining_ms(dl);
		if (ms == 0) return -ETIMEDOUT;
		rc = fabtx__scif_pump(c);
		if (rc < 0) return rc;
		rc = fabtx__scif_poll(s->fd, POLLOUT, ms);
		if (rc < 0) return rc;
	}
}

static int fabtx__scif_arm(fabtx_conn *c)
{
	fabtx__scif_conn *s = (fabtx__scif_conn *)c->bdata;
	int rc = fabtx__scif_flush_out(s);
	if (rc < 0 && rc != -ECONNRESET) return rc;
	rc = fabtx__scif_pump(c);
	if (rc < 0) return rc;
	/* buffered work, or bytes SCIF would not take (no POLLIN will come
	 * for those): not armed */
	if (s->dbq_len || s->cq_n || s->out_len) return -EAGAIN;
	return 0; /* new bytes or a hang-up make the endpoint fd readable */
}

static int fabtx__scif_fd(fabtx_conn *c)
{
	return ((fabtx__scif_conn *)c->bdata)->fd;
}

static void fabtx__scif_disconnect(fabtx_conn *c, int graceful)
{
	fabtx__scif_conn *s = (fabtx__scif_conn *)c->bdata;
	fabtx_ctx *a = c->ctx;
	if (!s) return;
	if (graceful) fabtx__scif_flush(c, 1000);
	/* close() unregisters the windows after in-flight RMAs complete */
	close(s->fd);
	if (s->rx_mem) munmap(s->rx_mem, s->rx_map);
	if (s->tx_mem) munmap(s->tx_mem, s->tx_map);
	fabtx_ctx_free(a, s->in);
	fabtx_ctx_free(a, s->out);
	fabtx_ctx_free(a, s->dbq);
	fabtx_ctx_free(a, s);
	c->bdata = NULL;
}

/* The table, member by member (C and C++11 alike), built once. */
static fabtx_backend fabtx__scif_be;
static void fabtx__scif_be_init(void)
{
	fabtx_backend *b = &fabtx__scif_be;
	b->scheme = "scif";
	b->setup.listen = fabtx__scif_listen;
	b->setup.listener_fd = fabtx__scif_listener_fd;
	b->setup.accept = fabtx__scif_accept;
	b->setup.listener_close = fabtx__scif_listener_close;
	b->setup.connect = fabtx__scif_connect;
	b->setup.ctrl_send = fabtx__scif_ctrl_send;
	b->setup.ctrl_recv = fabtx__scif_ctrl_recv;
	b->setup.win_open = fabtx__scif_win_open;
	b->setup.win_import = fabtx__scif_win_import;
	b->data.write = fabtx__scif_write;
	b->notify.ring = fabtx__scif_ring;
	b->notify.progress = fabtx__scif_progress;
	b->data.flush = fabtx__scif_flush;
	b->wait.arm = fabtx__scif_arm;
	b->wait.fd = fabtx__scif_fd;
	b->setup.disconnect = fabtx__scif_disconnect;
	b->setup.connect_poll = fabtx__scif_connect_poll;
	b->setup.ctrl_fd = fabtx__scif_ctrl_fd;
}

FABTX__DEF const fabtx_backend *fabtx_scif_backend(void)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	pthread_once(&once, fabtx__scif_be_init);
	return &fabtx__scif_be;
}

#endif /* FABTX_IMPLEMENTATION && !FABTX_SCIF_IMPLEMENTATION_INCLUDED */
