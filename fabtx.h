/* SPDX-License-Identifier: MIT */
/* fabtx.h -- socket-style messaging at fabric speed (header-only transport core)
 *
 * Version 0.1.0 (FABTX_VERSION_*), wire protocol 1.0 (FABTX_WIRE_*).
 *
 * fabtx moves whole messages over a connection whose data path is a
 * credit-based ring of remote-writable cells plus doorbells, the way RDMA
 * fabrics want it, behind an API that feels like sockets: listen / accept /
 * connect by URL, send / recv whole messages, one pollable fd per connection.
 * Backends: shm:// (built in, this file), ofi:// (fabtx_ofi.h, libfabric),
 * rio:// (fabtx_rio.h, Linux RapidIO), scif:// (fabtx_scif.h, Intel SCIF).
 *
 * ===========================================================================
 * DO THIS
 *   In exactly one C or C++ translation unit:
 *       #define FABTX_IMPLEMENTATION
 *       #include "fabtx.h"        (and any backend headers after it)
 *   Everywhere else just #include "fabtx.h".  A backend header includes
 *   fabtx.h itself; FABTX_IMPLEMENTATION turns on the implementation of every
 *   fabtx header included after it in that translation unit.
 *
 * QUICK START (ping-pong over shared memory; error checks left out)
 *       fabtx_ctx *ctx; fabtx_listener *l; fabtx_conn *c; char buf[64];
 *       ssize_t n;
 *       fabtx_ctx_create(&ctx, NULL);
 *     server:
 *       fabtx_listen(ctx, "shm://pp", &l);
 *       fabtx_accept(l, &c, -1);
 *       n = fabtx_recv(c, buf, sizeof buf, -1);
 *       fabtx_send(c, buf, (size_t)n, -1);
 *       fabtx_conn_close(c, 1000);
 *       fabtx_listener_close(l);
 *     client:
 *       fabtx_connect(ctx, "shm://pp", &c, 5000);
 *       fabtx_send(c, "ping", 4, -1);
 *       n = fabtx_recv(c, buf, sizeof buf, -1);
 *       fabtx_conn_close(c, 1000);
 *       fabtx_ctx_destroy(ctx);
 *
 * URLS
 *   shm://NAME             NAME: 1..100 chars of [A-Za-z0-9._-]
 *   ofi://HOST:PORT[?provider=P&fabric=F&domain=D] | ofi://HOST:PORT@FABRIC:PROV
 *   rio://DESTID:CHANNEL, rio://*:CHANNEL
 *   scif://NODE:PORT, scif://PORT
 *
 * RETURN CONVENTION
 *   >= 0 on success (0, a byte count or a bitmask), else a negative errno:
 *     -EAGAIN      would block (e.g. no credits); nothing was sent or taken
 *     -ETIMEDOUT   a timeout expired, or keepalive found the peer silent
 *     -EMSGSIZE    message larger than the negotiated maximum, or than the
 *                  receive buffer (the message stays queued; retry bigger)
 *     -ECONNRESET  the peer died, reset, or vanished before a clean close
 *     -ESHUTDOWN   the peer closed cleanly and everything it sent has been
 *                  delivered (end of stream; a 0-byte message is just 0)
 *     -EPROTO      the peer broke the wire protocol (connection is dead)
 *     -EINVAL      bad argument or malformed URL
 *     -EADDRINUSE, -ECONNREFUSED, -ENOMEM, -ENOSPC (no doorbell range) ...
 *   fabtx_strerror(rc) names them.  Nothing is thread-local or global.
 *
 * TIMEOUTS
 *   timeout_ms == 0: non-blocking; < 0: forever; > 0: at most that long.
 *
 * THREADING
 *   A fabtx_ctx may be shared by threads: its shared parts (doorbell
 *   allocator, MR caches) are locked.  A connection or listener is used by one
 *   thread at a time (like a ZeroMQ socket); different connections may be
 *   driven by different threads at once.
 *
 * EVENT LOOPS (the eventfd bridge)
 *   fabtx_conn_fd(c) is one fd that a poll/epoll loop can wait on (level
 *   triggered).  The loop body is:
 *       for (;;) {
 *           drain: fabtx_recv(..., 0) until -EAGAIN, send what you can;
 *           if (fabtx_conn_arm(c) == -EAGAIN) continue;  // work raced in
 *           poll(fabtx_conn_fd(c), POLLIN);             // safe to sleep
 *       }
 *   fabtx_conn_arm() returns 0 only when the fd will become readable for any
 *   message, credit or connection event that arrives after the call, so a
 *   wakeup cannot be lost.  Busy-poll: ctx config spin_us (or the environment
 *   variable FABTX_SPIN_US) makes blocking calls spin that long before arming.
 *
 * CONFIG MACROS (define before including)
 *   FABTX_API            decoration of public functions (default: extern)
 *   FABTX_STATIC         make every function static (for vendoring)
 *   FABTX_ASSERT(x)      default assert(x)
 *   FABTX_MALLOC(sz,u) / FABTX_FREE(p,u)   default allocator: both or neither
 *   FABTX_NO_SHM         leave out the built-in shm:// backend
 *   FABTX_NO_STDIO       no default stderr logger
 *   FABTX_DEBUG          extra internal checks (default: on unless NDEBUG)
 *   FABTX_MAX_BACKENDS   backends one ctx can hold (default 8)
 *
 * THE RING (wire format; all little-endian, see FABTX_WIRE_*)
 *   Each side owns an RX window: a 64-byte header then N cells of C bytes
 *   (N a power of two in [4, 32768], C a multiple of 64 in [128, 1 MiB]).
 *   A cell ends in a 32-byte footer {u64 ack; u64 total_len; u32 len;
 *   u16 flags; u16 conn_tag; u64 seq} with seq at the highest address; the
 *   payload is right-aligned against it at C - 32 - roundup8(len).  Chunk s
 *   goes to cell s & (N-1); seq starts at N, so a zeroed footer is "empty".
 *   The sender holds at most N-1 credits; the receiver validates every footer
 *   before use and returns credits (absolute position) in the header word of
 *   the sender's RX window, in footer acks of reverse traffic, and in credit
 *   doorbells.  Memory-ordering contract: a cell is published by a release
 *   store of its footer seq (direct-mapped backends) or by a doorbell that the
 *   backend delivers only after the data is visible (RDMA backends).
 * ===========================================================================
 */
#ifndef FABTX_H_INCLUDED
#define FABTX_H_INCLUDED

#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <sys/types.h>

#define FABTX_VERSION_MAJOR 0
#define FABTX_VERSION_MINOR 1
#define FABTX_VERSION_PATCH 0
#define FABTX_VERSION_PACK(a, b, c) (((a) << 16) | ((b) << 8) | (c))
#define FABTX_VERSION                                                          \
	FABTX_VERSION_PACK(FABTX_VERSION_MAJOR, FABTX_VERSION_MINOR,               \
	                   FABTX_VERSION_PATCH)
#define FABTX_VERSION_STRING "0.1.0"
#define FABTX_WIRE_MAJOR 1
#define FABTX_WIRE_MINOR 0

#ifndef FABTX_API
#ifdef FABTX_STATIC
#define FABTX_API static
#else
#define FABTX_API extern
#endif
#endif

#ifndef FABTX_MAX_BACKENDS
#define FABTX_MAX_BACKENDS 8
#endif

#ifdef __cplusplus
extern "C" {
#endif

typedef struct fabtx_ctx fabtx_ctx;
typedef struct fabtx_conn fabtx_conn;
typedef struct fabtx_listener fabtx_listener;
typedef struct fabtx_backend fabtx_backend;

/* ------------------------------------------------------------------ config */
typedef struct fabtx_allocator {
	void *(*alloc)(size_t size, void *user);
	void (*free)(void *ptr, void *user);
	void *user;
} fabtx_allocator;

typedef enum fabtx_log_level {
	FABTX_LOG_ERROR = 1,
	FABTX_LOG_WARN = 2,
	FABTX_LOG_INFO = 3,
	FABTX_LOG_DEBUG = 4
} fabtx_log_level;

typedef struct fabtx_logger {
	void (*func)(fabtx_log_level level, const char *msg, void *user);
	void *user;
	int level; /* 0 = default (WARN; FABTX_LOG env overrides) */
} fabtx_logger;

/* An all-zero config means defaults.  C++ callers: fabtx_ctx_config_init(). */
typedef struct fabtx_ctx_config {
	uint32_t cell_size;      /* bytes per cell; 0 = 8192                   */
	uint32_t cell_count;     /* cells per ring; 0 = 256                    */
	uint64_t max_msg;        /* largest message accepted; 0 = 1 GiB        */
	int spin_us;             /* busy-poll before sleeping; 0 = env or 0    */
	int keepalive_ms;        /* idle ping interval; 0 = 1000, <0 off       */
	int keepalive_timeout_ms;/* silence that fails a conn; 0 = 10000       */
	uint32_t zc_max_held;    /* zero-copy cells an app may hold; 0 = N/2   */
	int quarantine_ms;       /* doorbell range reuse delay; 0 = 100, <0 = 0 */
	fabtx_allocator allocator;
	fabtx_logger logger;
} fabtx_ctx_config;

/* ------------------------------------------------------------- messages */
typedef struct fabtx_iov {
	const void *base;
	size_t len;
} fabtx_iov;

/* A received message.  data/len are valid until fabtx_msg_release().  A
 * message that fit in one cell is lent in place (zero-copy); others are in a
 * buffer fabtx owns. */
typedef struct fabtx_msg {
	void *data;
	size_t len;
	uint64_t _seq;  /* internal */
	void *_owned;   /* internal */
	uint32_t _kind; /* internal */
	uint32_t _pad;
} fabtx_msg;

typedef struct fabtx_conn_stats {
	uint64_t msgs_sent, msgs_recv, bytes_sent, bytes_recv;
	uint64_t chunks_sent, chunks_recv;
	uint64_t credit_stalls;  /* sends that found no credit          */
	uint64_t credit_reports; /* credit updates sent to the peer     */
	uint64_t doorbells_sent, doorbells_recv, doorbells_spurious;
	uint64_t zc_lent, zc_copied; /* zero-copy lends / capped copies */
	uint64_t wakeups;            /* eventfd wakeups sent             */
	uint32_t cell_size, cell_count;
	uint64_t max_msg;
	uint16_t db_base, db_count; /* my inbound doorbell range */
	uint16_t peer_db_base, peer_db_count;
} fabtx_conn_stats;

/* Readiness bits returned by fabtx_conn_poll(). */
#define FABTX_POLLIN 0x1u  /* a message (or end of stream) can be received */
#define FABTX_POLLOUT 0x2u /* a send of one cell would not block         */
#define FABTX_POLLERR 0x4u /* the connection failed or the peer closed    */

/* ----------------------------------------------------------------- API */
FABTX_API uint32_t fabtx_version(void);
FABTX_API const char *fabtx_strerror(int rc);

FABTX_API fabtx_ctx_config fabtx_ctx_config_init(void);
FABTX_API int fabtx_ctx_create(fabtx_ctx **out, const fabtx_ctx_config *cfg);
FABTX_API void fabtx_ctx_destroy(fabtx_ctx *ctx);
/* Make a backend (e.g. fabtx_ofi_backend()) available for its URL scheme. */
FABTX_API int fabtx_ctx_add_backend(fabtx_ctx *ctx, const fabtx_backend *be);

FABTX_API int fabtx_listen(fabtx_ctx *ctx, const char *url,
                           fabtx_listener **out);
FABTX_API int fabtx_listener_fd(fabtx_listener *l); /* readable: accept */
FABTX_API int fabtx_accept(fabtx_listener *l, fabtx_conn **out,
                           int timeout_ms);
FABTX_API void fabtx_listener_close(fabtx_listener *l);

FABTX_API int fabtx_connect(fabtx_ctx *ctx, const char *url,
                            fabtx_conn **out, int timeout_ms);

/* Send one whole message.  Returns len.  With timeout 0 a message is either
 * taken whole or refused with -EAGAIN; a message larger than the free
 * credits is taken if at least one credit is free, and its remainder is
 * copied and streamed as credits return (further sends get -EAGAIN until
 * it is out; fabtx_conn_poll reports POLLOUT again). */
FABTX_API ssize_t fabtx_send(fabtx_conn *c, const void *buf, size_t len,
                             int timeout_ms);
/* Scatter-gather: several buffers, one message. */
FABTX_API ssize_t fabtx_sendv(fabtx_conn *c, const fabtx_iov *iov, int iovcnt,
                              int timeout_ms);
/* Receive one whole message into buf.  Returns its length; -EMSGSIZE (the
 * message stays queued) if cap is too small. */
FABTX_API ssize_t fabtx_recv(fabtx_conn *c, void *buf, size_t cap,
                             int timeout_ms);
/* Length of the next message if it is (at least partly) here, else -EAGAIN. */
FABTX_API ssize_t fabtx_peek_len(fabtx_conn *c);
/* Zero-copy receive.  Release every message with fabtx_msg_release. */
FABTX_API int fabtx_recv_msg(fabtx_conn *c, fabtx_msg *msg, int timeout_ms);
FABTX_API void fabtx_msg_release(fabtx_conn *c, fabtx_msg *msg);

FABTX_API int fabtx_conn_fd(fabtx_conn *c);
FABTX_API int fabtx_conn_arm(fabtx_conn *c);  /* 0 armed, -EAGAIN: work */
FABTX_API int fabtx_conn_poll(fabtx_conn *c); /* FABTX_POLL* bits or <0 */
/* Push queued data, send FIN and wait (at most linger_ms) until everything
 * is written; then tear down.  Returns 0 or the error that lost data. */
FABTX_API int fabtx_conn_close(fabtx_conn *c, int linger_ms);
FABTX_API int fabtx_conn_stats_get(fabtx_conn *c, fabtx_conn_stats *st);
FABTX_API const char *fabtx_conn_backend_name(fabtx_conn *c);

/* =========================================================================
 * Mechanism units (public so they can be tested and reused by backends)
 * ========================================================================= */

/* ---- the credit ring --------------------------------------------------- */
#define FABTX_FOOTER_SIZE 32u
#define FABTX_WIN_HDR_SIZE 64u
#define FABTX_MIN_CELLS 4u
#define FABTX_MAX_CELLS 32768u
#define FABTX_MIN_CELL_SIZE 128u
#define FABTX_MAX_CELL_SIZE (1u << 20)

#define FABTX_F_FIRST 0x01u
#define FABTX_F_LAST 0x02u
#define FABTX_F_CREDIT_REQ 0x04u
#define FABTX_F_FIN 0x08u
#define FABTX_F_ACK_VALID 0x10u
#define FABTX_F_ALL 0x1fu

typedef struct fabtx_footer {
	uint64_t ack;       /* reverse ring's released position (if ACK_VALID) */
	uint64_t total_len; /* whole message length                          */
	uint32_t len;       /* payload bytes in this cell                     */
	uint16_t flags;     /* FABTX_F_*                                       */
	uint16_t conn_tag;  /* low 16 bits of the handshake nonce             */
	uint64_t seq;       /* chunk number; written last                      */
} fabtx_footer;

/* Header at offset 0 of every RX window (remote-writable). */
typedef struct fabtx_win_hdr {
	uint64_t credit;   /* peer's released position of MY tx ring         */
	uint32_t armed;    /* direct-mapped backends: owner sleeps, wake it   */
	uint32_t closed;   /* direct-mapped backends: writer has closed       */
	uint64_t reserved[6];
} fabtx_win_hdr;

/* One direction of the ring as the sender sees it. */
typedef struct fabtx_ring_tx {
	uint32_t n, c;         /* cell count (pow2), cell size            */
	uint64_t seq;          /* next chunk to write (starts at n)       */
	uint64_t peer_ack;     /* peer has released everything < this    */
	uint64_t last_db_seq;  /* last chunk a doorbell was rung for      */
	uint16_t conn_tag;
} fabtx_ring_tx;

/* The receiver's state over its own RX window. */
typedef struct fabtx_ring_rx {
	uint32_t n, c;
	uint8_t *cells;     /* local mapping of cell 0                  */
	uint64_t seq;       /* next chunk to consume                    */
	uint64_t rel;       /* contiguous released prefix               */
	uint64_t reported;  /* last rel told to the peer                */
	uint64_t hint;      /* cells < hint are visible (doorbells)     */
	uint64_t credit_req;/* a CREDIT_REQ cell was seen below this    */
	uint8_t *released;  /* n flags: consumed and released            */
	uint32_t held;      /* zero-copy cells held by the application  */
	uint16_t conn_tag;
	uint64_t max_msg;
	/* reassembly of the message in progress */
	uint64_t asm_total, asm_got;
	int asm_active;
} fabtx_ring_rx;

/* Geometry check shared by the handshake and the rings: 0 or -EINVAL. */
FABTX_API int fabtx_ring_geometry_ok(uint32_t cell_count, uint32_t cell_size);
static inline uint32_t fabtx_ring_payload(uint32_t cell_size)
{
	return cell_size - FABTX_FOOTER_SIZE;
}
/* Number of cells a message of len bytes takes. */
static inline uint64_t fabtx_ring_cells_for(uint64_t len, uint32_t cell_size)
{
	uint64_t p = fabtx_ring_payload(cell_size);
	return len == 0 ? 1 : (len + p - 1) / p;
}
static inline uint32_t fabtx_ring_tx_credits(const fabtx_ring_tx *t)
{
	return (uint32_t)((uint64_t)(t->n - 1) - (t->seq - t->peer_ack));
}
/* Offset of the payload of a len-byte chunk inside its cell. */
static inline uint32_t fabtx_ring_payload_off(uint32_t cell_size, uint32_t len)
{
	return cell_size - FABTX_FOOTER_SIZE - ((len + 7u) & ~7u);
}
FABTX_API void fabtx_ring_tx_init(fabtx_ring_tx *t, uint32_t n, uint32_t c,
                                  uint16_t tag);
/* Accept an absolute credit position; returns 1 if it advanced peer_ack, 0
 * if stale, -EPROTO if it claims more than was sent. */
FABTX_API int fabtx_ring_tx_credit(fabtx_ring_tx *t, uint64_t pos);
/* Decode a credit doorbell index (pos mod n) against the ring. */
FABTX_API int fabtx_ring_tx_credit_idx(fabtx_ring_tx *t, uint32_t idx);
FABTX_API int fabtx_ring_rx_init(fabtx_ring_rx *r, uint32_t n, uint32_t c,
                                 uint8_t *cells, uint16_t tag,
                                 uint64_t max_msg, const fabtx_allocator *a);
FABTX_API void fabtx_ring_rx_fini(fabtx_ring_rx *r, const fabtx_allocator *a);
/* Validate the footer of cell r->seq.  Returns 1 and a stable copy of the
 * footer if it is ready, 0 if not written yet, -EPROTO if it is invalid. */
FABTX_API int fabtx_ring_rx_peek(fabtx_ring_rx *r, fabtx_footer *out);
/* Mark chunk seq released; returns how far rel advanced. */
FABTX_API uint64_t fabtx_ring_rx_release(fabtx_ring_rx *r, uint64_t seq);
/* Should rel be reported now (R7)? */
FABTX_API int fabtx_ring_rx_should_report(const fabtx_ring_rx *r);

/* ---- doorbell range allocation ---------------------------------------- */
#define FABTX_DB_RESERVED 16u /* values [0, 16) are control doorbells */
#define FABTX_DB_NONE 0x0000u
#define FABTX_DB_CONN_REQ 0x0001u
#define FABTX_DB_CONN_ACCEPT 0x0002u
#define FABTX_DB_CONN_REJECT 0x0003u
#define FABTX_DB_RESET 0x0004u
#define FABTX_DB_PING 0x0005u
#define FABTX_DB_CTRL 0x0006u /* "read your control channel" */
#define FABTX_DB_SPACE 65536u

typedef struct fabtx_db_range {
	uint16_t base;  /* first value; aligned to count  */
	uint16_t count; /* 2N: [base,base+N) data, [base+N,base+2N) credit */
} fabtx_db_range;

typedef enum fabtx_db_kind {
	FABTX_DB_KIND_SPURIOUS = 0,
	FABTX_DB_KIND_CONTROL = 1,
	FABTX_DB_KIND_DATA = 2,
	FABTX_DB_KIND_CREDIT = 3
} fabtx_db_kind;

typedef struct fabtx_db_alloc fabtx_db_alloc;
FABTX_API int fabtx_db_alloc_create(fabtx_db_alloc **out,
                                    const fabtx_allocator *a);
FABTX_API void fabtx_db_alloc_destroy(fabtx_db_alloc *d);
/* Allocate a range of 2*cells values (cells halved down to min_cells if the
 * space is fragmented) for owner slot (1..65535).  Returns the cells granted
 * (> 0) or -ENOSPC.  now_ms is the caller's clock (quarantine). */
FABTX_API int fabtx_db_alloc_range(fabtx_db_alloc *d, uint32_t cells,
                                   uint32_t min_cells, uint16_t owner,
                                   uint64_t now_ms, fabtx_db_range *out);
/* Free a range; it is reused only after now_ms + quarantine_ms.  -EINVAL on
 * a range that is not allocated with these exact bounds. */
FABTX_API int fabtx_db_free_range(fabtx_db_alloc *d, fabtx_db_range r,
                                  uint64_t now_ms, uint32_t quarantine_ms);
/* O(1) decode of any 16-bit value.  *owner gets the slot, *off the offset. */
FABTX_API fabtx_db_kind fabtx_db_decode(const fabtx_db_alloc *d,
                                        uint32_t value, uint16_t *owner,
                                        uint32_t *off);
FABTX_API uint32_t fabtx_db_in_use(const fabtx_db_alloc *d); /* values */

/* ---- memory-registration cache ---------------------------------------- */
typedef struct fabtx_mr_reg {
	void *mr;      /* backend handle (e.g. struct fid_mr *) */
	void *desc;    /* local descriptor for data transfers   */
	uint64_t key;  /* remote key, if any                     */
	uint64_t addr; /* registered start                       */
	uint64_t len;
} fabtx_mr_reg;

typedef struct fabtx_mr_ops {
	int (*reg)(void *user, void *addr, size_t len, unsigned access,
	           fabtx_mr_reg *out);
	void (*dereg)(void *user, fabtx_mr_reg *reg);
	void *user;
} fabtx_mr_ops;

typedef struct fabtx_mr_cache_config {
	uint32_t max_count; /* idle+used entries before eviction; 0 = 1024 */
	uint64_t max_bytes; /* registered bytes before eviction; 0 = 1 GiB */
} fabtx_mr_cache_config;

typedef struct fabtx_mr_cache_stats {
	uint64_t hits, misses, evictions, invalidations, uncached;
	uint32_t entries, in_use;
	uint64_t bytes;
} fabtx_mr_cache_stats;

typedef struct fabtx_mr_cache fabtx_mr_cache;
typedef struct fabtx_mr_entry fabtx_mr_entry;
FABTX_API int fabtx_mr_cache_create(fabtx_mr_cache **out,
                                    const fabtx_mr_cache_config *cfg,
                                    const fabtx_mr_ops *ops,
                                    const fabtx_allocator *a);
/* Destroy; returns -EBUSY (and destroys nothing) while entries are in use. */
FABTX_API int fabtx_mr_cache_destroy(fabtx_mr_cache *mc);
/* Find or register a region covering [addr, addr+len) with at least
 * `access`.  The entry stays in use (never evicted) until fabtx_mr_put. */
FABTX_API int fabtx_mr_get(fabtx_mr_cache *mc, const void *addr, size_t len,
                           unsigned access, fabtx_mr_entry **out);
FABTX_API const fabtx_mr_reg *fabtx_mr_entry_reg(const fabtx_mr_entry *e);
FABTX_API void fabtx_mr_put(fabtx_mr_cache *mc, fabtx_mr_entry *e);
/* The application says [addr, addr+len) is going away (or changed). */
FABTX_API int fabtx_mr_invalidate(fabtx_mr_cache *mc, const void *addr,
                                  size_t len);
FABTX_API void fabtx_mr_cache_stats_get(fabtx_mr_cache *mc,
                                        fabtx_mr_cache_stats *st);

/* ---- URL helpers ------------------------------------------------------- */
/* Split "HOST:PORT[?query]" / "[v6]:PORT" / "*:PORT".  Returns 0 or -EINVAL. */
FABTX_API int fabtx_url_hostport(const char *addr, char *host, size_t hostcap,
                                 char *port, size_t portcap,
                                 const char **query);
/* Find key=value in a "k=v&k=v" query.  Returns value length or -ENOENT. */
FABTX_API int fabtx_url_query(const char *query, const char *key, char *val,
                              size_t cap);

/* =========================================================================
 * Backend interface (for fabtx_ofi.h, fabtx_rio.h, fabtx_scif.h)
 * ========================================================================= */
#define FABTX_BCAP_DIRECT 0x1u  /* peer window is mapped: core stores into it */
#define FABTX_BCAP_ORDERED 0x2u /* footers may be polled (ordered placement) */
#define FABTX_BCAP_CTRL_FD 0x4u /* ctrl_recv is pollable through fd()        */

/* A window: my RX window (base is my mapping) or the peer's (base NULL). */
typedef struct fabtx_win {
	void *base;
	uint64_t len;
	uint64_t addr; /* what the peer names in writes (address or offset) */
	uint64_t key;  /* remote key / handle                                */
	void *desc;    /* local descriptor for my TX staging                  */
} fabtx_win;

/* One piece of a remote write: local memory plus its descriptor (NULL: the
 * TX staging area's own). */
typedef struct fabtx_seg {
	const void *addr;
	size_t len;
	void *desc;
} fabtx_seg;

#define FABTX_WRITE_DOORBELL 0x1u /* deliver `doorbell` after the data */

struct fabtx_backend {
	size_t size; /* sizeof(fabtx_backend) the backend was built with */
	const char *scheme;
	uint32_t caps;
	/* optional: per-ctx state, reached with fabtx_ctx_backend_data */
	int (*ctx_init)(fabtx_ctx *ctx, void **state);
	void (*ctx_fini)(fabtx_ctx *ctx, void *state);
	/* listener: addr is the URL after "scheme://" */
	int (*listen)(fabtx_listener *l, const char *addr);
	int (*listener_fd)(fabtx_listener *l);
	/* transport-level accept of one pending connection (sets c->bdata) */
	int (*accept)(fabtx_listener *l, fabtx_conn *c, int timeout_ms);
	void (*listener_close)(fabtx_listener *l);
	int (*connect)(fabtx_conn *c, const char *addr, int timeout_ms);
	/* the reliable control channel: whole messages of <= 512 bytes */
	int (*ctrl_send)(fabtx_conn *c, const void *msg, size_t len,
	                 int timeout_ms);
	int (*ctrl_recv)(fabtx_conn *c, void *buf, size_t cap, int timeout_ms);
	/* my RX window (zeroed, remote-writable, rx_len bytes) and TX staging
	 * (tx_len bytes, registered for local reads; unused if DIRECT). */
	int (*win_open)(fabtx_conn *c, uint64_t rx_len, uint64_t tx_len,
	                fabtx_win *rx, fabtx_win *tx);
	/* the peer's RX window as advertised (validated by the core: len,
	 * wrap).  DIRECT backends set c->peer_base here. */
	int (*win_import)(fabtx_conn *c, const fabtx_win *peer_rx);
	/* write segs back to back into peer window [off, off+sum(len)); with
	 * FABTX_WRITE_DOORBELL the peer gets `doorbell` only after the data is
	 * visible.  -EAGAIN: queue full, call progress and retry. */
	int (*write)(fabtx_conn *c, const fabtx_seg *segs, int nseg,
	             uint64_t off, uint32_t doorbell, unsigned flags);
	/* ring a doorbell with no data (DIRECT backends: wake if armed) */
	int (*doorbell)(fabtx_conn *c, uint32_t value);
	/* drain completions and incoming doorbells (fabtx_conn_doorbell_in);
	 * < 0: the connection failed. */
	int (*progress)(fabtx_conn *c);
	/* wait until all writes issued so far have completed locally */
	int (*flush)(fabtx_conn *c, int timeout_ms);
	int (*arm)(fabtx_conn *c); /* 0 armed, -EAGAIN: events pending */
	int (*fd)(fabtx_conn *c);
	void (*disconnect)(fabtx_conn *c, int graceful);
	/* optional: zero-copy sends (register user memory in place) */
	int (*mr_cache)(fabtx_conn *c, fabtx_mr_cache **out);
	/* optional: largest single write (0 = no limit) */
	uint64_t max_write;
};

/* What the core keeps per connection.  Backends may read the public part
 * and set bdata / peer_base; everything else is the core's. */
struct fabtx_conn {
	fabtx_ctx *ctx;
	const fabtx_backend *be;
	void *bdata;     /* backend private                          */
	uint8_t *peer_base;  /* DIRECT: mapping of the peer RX window     */
	fabtx_win rx_win, tx_win, peer_win;
	fabtx_ring_tx tx;
	fabtx_ring_rx rx;
	fabtx_db_range db;      /* my inbound range                 */
	fabtx_db_range peer_db; /* the peer's inbound range         */
	uint16_t slot;          /* owner slot in the ctx allocator  */
	uint16_t conn_tag;
	int state;              /* internal FABTX__ST_*             */
	int err;                /* sticky error                     */
	int fin_recv, fin_sent, peer_gone;
	uint64_t max_msg;
	uint64_t last_rx_ms, last_tx_ms;
	/* pending remainder of a non-blocking send */
	uint8_t *pend_buf;
	uint64_t pend_len, pend_off, pend_total;
	/* reassembly buffer of a multi-cell message */
	uint8_t *asm_buf;
	uint8_t *asm_user; /* caller buffer being filled directly */
	uint64_t asm_cap;
	fabtx_conn_stats st;
	uint64_t seen_credit; /* last header credit word seen */
	char url[128];
};

struct fabtx_listener {
	fabtx_ctx *ctx;
	const fabtx_backend *be;
	void *bdata;
	char url[128];
};

/* Called by backends from progress(): a doorbell value arrived. */
FABTX_API void fabtx_conn_doorbell_in(fabtx_conn *c, uint32_t value);
/* Called by backends: the transport failed (negative errno). */
FABTX_API void fabtx_conn_fail(fabtx_conn *c, int err);
FABTX_API void *fabtx_ctx_backend_data(fabtx_ctx *ctx, const fabtx_backend *be);
FABTX_API const fabtx_allocator *fabtx_ctx_allocator(fabtx_ctx *ctx);
FABTX_API void fabtx_log(fabtx_ctx *ctx, fabtx_log_level lvl, const char *fmt,
                         ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
FABTX_API uint64_t fabtx_now_ms(void);
FABTX_API uint64_t fabtx_now_ns(void);

#ifndef FABTX_NO_SHM
FABTX_API const fabtx_backend *fabtx_shm_backend(void);
#endif

#ifdef __cplusplus
}
#endif
#endif /* FABTX_H_INCLUDED */

/* ======================================================================= */
/* ============================ IMPLEMENTATION =========================== */
/* ======================================================================= */
#if defined(FABTX_IMPLEMENTATION) && !defined(FABTX_IMPLEMENTATION_INCLUDED)
#define FABTX_IMPLEMENTATION_INCLUDED
#include "fabtx_impl_placeholder.h"
#endif
