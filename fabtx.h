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
 *   In exactly one C or C++ translation unit, before any other #include
 *   (the implementation sets _GNU_SOURCE; or compile that file with
 *   -D_GNU_SOURCE and include it anywhere):
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
 *   shm://NAME             NAME: 1..97 chars of [A-Za-z0-9._-]
 *   ofi://HOST:PORT[?provider=P&fabric=F&domain=D] | ofi://HOST:PORT@FABRIC:PROV
 *   rio://DESTID:CHANNEL (connect); bind with "*" as the DESTID
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
 *     -ENOBUFS     zero-copy messages the application still holds block the
 *                  ring (the sender has no credit): release some, retry
 *     -EINVAL      bad argument or malformed URL
 *     -EADDRINUSE, -ECONNREFUSED, -ENOMEM, -ENOSPC (no doorbell range) ...
 *   fabtx_strerror(rc) names them.  Nothing is thread-local or global.
 *
 * TIMEOUTS
 *   timeout_ms == 0: non-blocking; < 0: forever; > 0: at most that long.
 *
 * PEERS ARE NOT TRUSTED
 *   Whatever a peer sends, writes into shared memory or does to its file
 *   descriptors, the worst outcome here is that its own connection ends
 *   with a clear error: every handshake field, footer, credit and doorbell
 *   is validated; shm:// windows are sealed memfds (a peer's unsealed one
 *   is refused) mapped only as far as the ring needs; no file description
 *   is shared for wakeups; handshakes are bounded (handshake_ms) and run
 *   concurrently; every wait ends by its deadline or the peer's failure.
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
 *   Connecting without blocking the loop: fabtx_connect_start(), then
 *   fabtx_connect_poll(c) whenever fabtx_conn_fd(c) is readable (and on a
 *   timer) until it returns 0 (connected; take fabtx_conn_fd(c) again) or
 *   an error.  Accepting: put fabtx_listener_fd(l) in the loop and call
 *   fabtx_accept(l, &c, 0) when it is readable until -EAGAIN; handshakes
 *   run concurrently inside the listener, a silent client holds nobody.
 *   Closing without blocking the loop: call fabtx_conn_shutdown(c) whenever
 *   the fd is readable (and on a timer: keepalive) until it returns other
 *   than -EAGAIN, then fabtx_conn_close(c, 0); give up after your linger
 *   time with fabtx_conn_close(c, 0) too.
 *
 * ENVIRONMENT (read by fabtx_ctx_create for config fields left at 0)
 *   FABTX_CELL_SIZE, FABTX_CELL_COUNT, FABTX_SPIN_US, FABTX_LOG (1..4),
 *   FABTX_ZC_SEND_MIN
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
 *   FABTX_MAX_HANDSHAKES handshakes in flight on one listener (default 64)
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
 *   Runs (flag SPAN, wire minor 1, RDMA backends only): the footer cell is
 *   followed by ceil(len / C) whole cells of contiguous payload, no footers
 *   in between and no wrap; one write carries footer and payload (or the
 *   footer then a zero-copy user buffer) and one doorbell for its last
 *   cell, so a large message is one operation and can be lent in place.
 *   Doorbell footers (wire minor 2, backends with write_imm): a message
 *   that fits one cell may travel as its payload alone, straight from the
 *   caller's buffer, with len and flags in the doorbell (ofi: 64-bit CQ
 *   data); the receiving core writes the footer itself after validating it
 *   (fabtx_conn_chunk_in).  Such chunks carry no ack.  FABTX_IMM=0: off.
 * ===========================================================================
 */
/* The implementation uses Linux interfaces that glibc declares only under
 * _GNU_SOURCE (accept4, memfd_create, POLLRDHUP, ...).  Feature macros work
 * only if set before the first system header, so in the implementation's
 * translation unit include fabtx.h first (it sets _GNU_SOURCE then), or
 * compile that file with -D_GNU_SOURCE; otherwise the implementation stops
 * with an #error that says so. */
#if defined(FABTX_IMPLEMENTATION) && !defined(_GNU_SOURCE)
#define _GNU_SOURCE 1
#endif

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
	FABTX_VERSION_PACK(FABTX_VERSION_MAJOR, FABTX_VERSION_MINOR,           \
	                   FABTX_VERSION_PATCH)
#define FABTX_VERSION_STRING "0.1.0"
#define FABTX_WIRE_MAJOR 1
#define FABTX_WIRE_MINOR 2 /* 1: SPAN chunks; 2: footers in doorbells */

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
#ifndef FABTX_MAX_HANDSHAKES
#define FABTX_MAX_HANDSHAKES 64 /* handshakes in flight on one listener */
#endif

#ifdef __cplusplus
extern "C" {
#endif

typedef struct fabtx_ctx fabtx_ctx;
typedef struct fabtx_conn fabtx_conn;
typedef struct fabtx_listener fabtx_listener;
typedef struct fabtx_backend fabtx_backend;

/* ------------------------------------------------------------------ config */
/* Called from whichever thread is inside a fabtx call on the context's
 * objects: thread-safe where the context is shared by threads. */
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
	uint32_t cell_size;  /* bytes per cell; 0 = 8192                   */
	uint32_t cell_count; /* cells per ring; 0 = 256                    */
	uint64_t max_msg;    /* largest message accepted; 0 = 1 GiB        */
	int spin_us;         /* busy-poll before sleeping; 0 = env or 0    */
	int keepalive_ms;    /* idle ping interval; 0 = 1000, <0 off       */
	int keepalive_timeout_ms; /* silence that fails a conn; 0 = 10000       */
	uint32_t zc_max_held; /* zero-copy cells an app may hold; 0 = N/2   */
	int quarantine_ms;    /* doorbell range reuse delay; 0 = 100, <0 = 0 */
	uint64_t zc_send_min; /* RDMA backends: blocking sends of at least
	                            this many bytes are written straight from
	                            the caller's buffer (MR cache); 0 = off   */
	int handshake_ms;     /* time one handshake may take: an accepted
	                            client that has not completed it by then
	                            is dropped, as is a fabtx_connect_start
	                            whose server has not answered; 0 = 5000  */
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
	uint64_t _seq;   /* internal */
	void *_owned;    /* internal */
	uint32_t _kind;  /* internal */
	uint32_t _cells; /* internal */
} fabtx_msg;

typedef struct fabtx_conn_stats {
	uint64_t msgs_sent, msgs_recv, bytes_sent, bytes_recv;
	uint64_t chunks_sent, chunks_recv;
	uint64_t credit_stalls;  /* sends that found no credit          */
	uint64_t credit_reports; /* credit updates sent to the peer     */
	uint64_t doorbells_sent, doorbells_recv, doorbells_spurious;
	uint64_t zc_lent, zc_copied; /* zero-copy lends / capped copies */
	uint64_t zc_chunks_sent;     /* chunks written from user memory   */
	uint64_t wakeups;            /* eventfd wakeups sent             */
	uint32_t cell_size, cell_count;
	uint64_t max_msg;
	uint16_t db_base, db_count; /* my inbound doorbell range */
	uint16_t peer_db_base, peer_db_count;
	uint64_t msgs_discarded; /* arrived while closing, released unread */
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
/* Readable (level-triggered) when fabtx_accept has something to do: a new
 * client, a handshake that can progress, a connection ready to be taken,
 * or a handshake's time limit.  Every listener has one (backends whose
 * fabric has no pollable source are looked at on a short timer). */
FABTX_API int fabtx_listener_fd(fabtx_listener *l);
/* The URL peers connect to: the one given to fabtx_listen, with an
 * ephemeral port (ofi://HOST:0) replaced by the one the system chose.
 * Returns its length, or -ENOSPC (cap too small), -EINVAL. */
FABTX_API int fabtx_listener_url(fabtx_listener *l, char *buf, size_t cap);
/* Take the next connection whose handshake is complete.  Handshakes run
 * concurrently inside the listener, up to FABTX_MAX_HANDSHAKES at once,
 * each bounded by the config's handshake_ms: a silent or slow client
 * delays nobody else, and when the table is full the oldest unfinished
 * handshake makes room.  Connections are handed out in the order their
 * clients arrived among those that are complete.  timeout_ms == 0 never
 * waits and never aborts a client: -EAGAIN, and the handshakes in flight
 * go on (call again when fabtx_listener_fd is readable).  -ECONNABORTED
 * reports, once each, a client whose handshake failed (after every
 * complete connection has been taken); -ETIMEDOUT: nothing within a
 * timeout > 0. */
FABTX_API int fabtx_accept(fabtx_listener *l, fabtx_conn **out, int timeout_ms);
FABTX_API void fabtx_listener_close(fabtx_listener *l);

/* Connect and run the handshake, waiting at most timeout_ms (0: one
 * non-blocking try, -ETIMEDOUT if it cannot complete at once; < 0: as long
 * as it takes, but a server that does not answer the handshake within the
 * config's handshake_ms fails it with -ETIMEDOUT). */
FABTX_API int fabtx_connect(fabtx_ctx *ctx, const char *url, fabtx_conn **out,
                            int timeout_ms);
/* Non-blocking connect, for event loops.  fabtx_connect_start begins it
 * and returns at once: 0 with *out a connection being set up, or the
 * error known locally (bad URL, unknown scheme, ...).  Then call
 * fabtx_connect_poll(c) whenever fabtx_conn_fd(c) is readable, and on a
 * timer (as for keepalive): 0 once connected, -EAGAIN while not yet,
 * any other < 0 when it failed (-ECONNREFUSED, -ETIMEDOUT after the
 * config's handshake_ms, -EPROTO, ...).  Either way end it with
 * fabtx_conn_close(c, 0) when done with it.  The fd may change once the
 * connection is up: call fabtx_conn_fd again after 0. */
FABTX_API int fabtx_connect_start(fabtx_ctx *ctx, const char *url,
                                  fabtx_conn **out);
FABTX_API int fabtx_connect_poll(fabtx_conn *c);

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
/* Zero-copy, non-blocking send: as fabtx_send(c, buf, len, 0), but the
 * payload is written to the peer from buf itself, not copied first.  buf
 * must stay valid and unchanged until fabtx_send_zc_done(c) >= *ticket, or
 * until fabtx_conn_close() has returned (a part the credits at hand did
 * not cover is copied aside, as fabtx_send does).  Offered where the
 * fabric reads unregistered memory in place (ofi:// over providers that
 * do not need local registration: tcp, shm, sockets); elsewhere -ENOTSUP:
 * use fabtx_send. */
FABTX_API ssize_t fabtx_send_zc(fabtx_conn *c, const void *buf, size_t len,
                                uint64_t *ticket);
/* The highest ticket of fabtx_send_zc whose buffer is free again (0 if
 * none, or no zero-copy path).  Progress comes from the calls that drive
 * the connection (receives, fabtx_conn_arm, fabtx_conn_poll); its fd turns
 * readable when writes complete. */
FABTX_API uint64_t fabtx_send_zc_done(fabtx_conn *c);
/* Receive one whole message into buf.  Returns its length; -EMSGSIZE (the
 * message stays queued) if cap is too small. */
FABTX_API ssize_t fabtx_recv(fabtx_conn *c, void *buf, size_t cap,
                             int timeout_ms);
/* Length of the next message if it is (at least partly) here, else -EAGAIN. */
FABTX_API ssize_t fabtx_peek_len(fabtx_conn *c);
/* Like fabtx_peek_len, but -EAGAIN until all of the next message is here,
 * so that a receive would not stop half way (and copy what it has aside).
 * No system call; sees what the backend has made visible (RDMA backends:
 * after a progress call).  A message longer than half the ring is reported
 * as soon as it starts (its sender may need the credits of its own
 * first cells).  For busy-poll loops. */
FABTX_API ssize_t fabtx_peek_whole(fabtx_conn *c);
/* Zero-copy receive.  Release every message with fabtx_msg_release. */
FABTX_API int fabtx_recv_msg(fabtx_conn *c, fabtx_msg *msg, int timeout_ms);
FABTX_API void fabtx_msg_release(fabtx_conn *c, fabtx_msg *msg);
/* Take over a received message's buffer instead of releasing it: when
 * msg->data is a buffer of fabtx's own (a message assembled from several
 * chunks, or copied out of the ring), returns it; the caller owns it and
 * frees it with the free of the context's allocator (fabtx_config's
 * allocator: a messaging library can give fabtx its own, so the buffer
 * becomes a message body as it is).  msg is then empty (releasing it does
 * nothing).  NULL when the data is lent in place in the ring: copy it and
 * call fabtx_msg_release. */
FABTX_API void *fabtx_msg_detach(fabtx_msg *msg);

FABTX_API int fabtx_conn_fd(fabtx_conn *c);
/* The fds behind fabtx_conn_fd, to poll instead of it: the connection
 * needs attention when any of them is readable (arming covers them all).
 * Where fabtx_conn_fd is an epoll set holding a provider's own wait fd
 * (ofi:// with a CQ wait fd), an event loop that polls these saves a
 * level of epoll nesting on every wakeup.  Returns how many went into
 * fds (1 to cap; 1 = fabtx_conn_fd's own) or < 0.  Fixed once the
 * connection is open; valid until it is closed. */
FABTX_API int fabtx_conn_fds(fabtx_conn *c, int *fds, int cap);
FABTX_API int fabtx_conn_arm(fabtx_conn *c); /* 0 armed, -EAGAIN: work */
/* Arm for some events only: FABTX_POLLIN (messages, end of stream,
 * errors) and/or FABTX_POLLOUT (credits returned).  fabtx_conn_arm is
 * FABTX_POLLIN | FABTX_POLLOUT.  A caller with nothing to send arms for
 * POLLIN alone and is not told about credits (the fd may still wake). */
FABTX_API int fabtx_conn_arm_mask(fabtx_conn *c, unsigned events);
FABTX_API int fabtx_conn_poll(fabtx_conn *c); /* FABTX_POLL* bits or <0 */
/* Push queued data, send FIN and wait (at most linger_ms) until everything
 * is written -- where the backend can tell (ofi: FI_DELIVERY_COMPLETE on
 * the FIN), until the peer's side has taken it, which over a provider with
 * manual progress needs the peer to call into fabtx once more; then tear
 * down.  Returns 0 or the error that lost data (-ETIMEDOUT: the linger
 * time ran out; what was left is dropped and the peer is not told the
 * close was graceful; -ECONNRESET: the peer went away without closing
 * before it had acknowledged everything we wrote -- data may be lost,
 * and a peer that reads everything and exits before its last
 * acknowledgement reaches us looks the same).
 * A closing connection receives nothing more: what the peer sends from
 * then on is released unread (counted in msgs_discarded), so a peer that
 * closes at the same time gets the credits for its own data and FIN.  If
 * the peer's FIN comes first, data still queued here is lost (-EPIPE). */
FABTX_API int fabtx_conn_close(fabtx_conn *c, int linger_ms);
/* The same close in two steps, for event loops that must not block.
 * fabtx_conn_shutdown() does what can be done now (queued data out, FIN,
 * the backend's writes completed) and returns 0 when all is done, -EAGAIN
 * when not yet (the fd is armed: call again when it is readable, and on a
 * timer as for any connection), or the error that lost data.  The
 * connection sends and receives no more from the first call on.  Then
 * fabtx_conn_close(c, 0) frees it; before 0 came, that drops what is
 * left (the linger time is up). */
FABTX_API int fabtx_conn_shutdown(fabtx_conn *c);
FABTX_API int fabtx_conn_stats_get(fabtx_conn *c, fabtx_conn_stats *st);
FABTX_API const char *fabtx_conn_backend_name(fabtx_conn *c);
/* The connection's URL: the one given to fabtx_connect, or the listener's
 * (as given to fabtx_listen) for an accepted one.  "" for NULL. */
FABTX_API const char *fabtx_conn_url(const fabtx_conn *c);
/* The context the connection belongs to. */
FABTX_API fabtx_ctx *fabtx_conn_ctx(fabtx_conn *c);
/* Bytes fabtx_send() can put straight into the peer's ring now, with the
 * credits known so far (a larger message is still taken; its remainder is
 * copied aside until credits come). */
FABTX_API size_t fabtx_conn_send_room(fabtx_conn *c);
/* 1 when new data can be seen in place, without a system call (the
 * backend's writes land in order: fabtx_peek_whole() suffices), 0 when
 * fabtx_conn_poll() must collect completions first. */
FABTX_API int fabtx_conn_in_place(fabtx_conn *c);
/* The peer process's credentials, where its control channel is a local
 * socket that tells them (shm://); -ENOTSUP elsewhere. */
typedef struct fabtx_peer_cred {
	long pid;
	unsigned uid, gid;
} fabtx_peer_cred;
FABTX_API int fabtx_conn_peer_cred(fabtx_conn *c, fabtx_peer_cred *out);

/* =========================================================================
 * BACKEND API (for fabtx_ofi.h, fabtx_rio.h, fabtx_scif.h and new backends)
 *
 * A backend is one header that fills a fabtx_backend table and uses only
 * what this section lists (scripts/check_backend_api.sh checks that in
 * `make test-core`).  docs/core.md walks through the data path; the shm
 * backend at the end of this file is the reference implementation.
 *
 * WHAT A BACKEND MAY USE
 *   of a fabtx_conn: c->ctx, c->url (read), c->be (read), c->bdata (its own:
 *     set it in accept/connect, free it in disconnect); of a fabtx_listener:
 *     l->ctx, l->url (read), l->bdata (its own).  Every other member of
 *     fabtx_conn, fabtx_listener and fabtx_ctx is the core's.  (The
 *     structs are defined in CORE INTERNALS, after this public half, and
 *     only where FABTX_IMPLEMENTATION is defined, as it is wherever a
 *     backend's implementation is compiled; to users they are opaque.)
 *   the accessors below (fabtx_conn_rx_pos, ..., fabtx_ctx_handshake_ms),
 *   the upcalls (fabtx_conn_data_in, fabtx_conn_credit_in,
 *   fabtx_conn_doorbell_in, fabtx_conn_chunk_in, fabtx_conn_rx_scan,
 *   fabtx_conn_fail, fabtx_conn_write_dropped), the services
 *   (fabtx_ctx_zalloc / _free / _allocator / _backend_data, fabtx_log,
 *   fabtx_now_ms / _ns, fabtx_url_hostport / _query, the MR cache
 *   fabtx_mr_*), the wire
 *   types and constants (fabtx_win_hdr, fabtx_footer, FABTX_WIN_HDR_SIZE,
 *   FABTX_FOOTER_SIZE, FABTX_DB_*, fabtx_db_range), and FABTX__DEF /
 *   FABTX__PRIV to decorate its definitions.
 *
 * WHAT A BACKEND PROVIDES: a fabtx_backend, its members named by concern:
 *   setup (listen, accept, connect, the control channel, windows,
 *   disconnect), data (remote writes, flush, zero-copy registration),
 *   notify (doorbells out, progress in) and wait (arm, fd).  Build the
 *   table member by member in a function (C++11 has no designated
 *   initialisers; see fabtx_shm_backend()); members left NULL are absent.
 *   Required: scheme, setup.connect, setup.ctrl_send, setup.ctrl_recv,
 *   setup.win_open, setup.win_import, setup.disconnect, wait.arm, wait.fd,
 *   and data.write unless caps has FABTX_BCAP_DIRECT; a listener needs
 *   setup.listen, setup.accept and setup.listener_close.
 *
 * MEMORY ORDERING AND WAKEUPS (the whole contract, once)
 *   Positions are absolute chunk numbers (a ring of N cells starts at N).
 *   - DIRECT backends map the peer's window (win_import returns it in
 *     fabtx_win_limits.peer_base); the core stores the cells and publishes
 *     each chunk by a seq_cst store of its footer seq, then calls
 *     notify.ring: the backend wakes the peer if it sleeps (armed).
 *     The owner's wait.arm must make "peer stores after arm" visible to the
 *     core's seq_cst re-check that follows, or return -EAGAIN.
 *   - Other backends get data.write calls; with FABTX_WRITE_DATA the
 *     peer's backend may deliver the notification only once every byte of
 *     that write (and of every earlier write on the connection) is visible
 *     in its window.  The receiving backend hands notifications to the core
 *     from notify.progress: fabtx_conn_data_in (chunks before pos are
 *     visible), fabtx_conn_credit_in (the peer released up to pos, or 0:
 *     read the credit word), or the core's own 16-bit value verbatim with
 *     fabtx_conn_doorbell_in.  Duplicates and stale values are harmless.
 *   - FABTX_BCAP_ORDERED: writes land in order, so the core may poll
 *     footers instead of waiting for data notifications.
 *   - wait.fd is readable (level) whenever progress or ctrl_recv has work;
 *     wait.arm returns 0 only if anything arriving after it makes the fd
 *     readable (with wait.fds: one of those fds).  The core may call
 *     notify.progress between wait.arm and sleeping (looking for
 *     credits): progress must not undo the arming.
 *     A peer that goes away: progress or ctrl_recv says -ECONNRESET only
 *     after every notification it sent was handed over.
 * ========================================================================= */

/* ---- the wire format (see THE RING at the top) ----------------------- */
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
/* SPAN: a run of cells.  This cell holds only the footer; the chunk's len
 * payload bytes start at the next cell and fill ceil(len / cell_size)
 * whole cells after it, contiguously, with no footers between them and
 * without wrapping past the ring's end.  One write (footer + payload) or,
 * with zero-copy, one contiguous user buffer; the receiver sees the bytes
 * as one block.  Not-LAST span chunks are whole cells (len % c == 0).  The
 * receiver zeroes the footer slots inside a run when it releases it, so
 * payload never lingers where a later lap looks for a footer. */
#define FABTX_F_SPAN 0x20u
/* SKIP (wire minor 2, backends with runs): a footer-only chunk covering its
 * cell and every cell after it to the ring's end (len = (cells - 1) * c,
 * total_len 0, outside a message): the next message's run starts whole at
 * cell 0 instead of being split at the ring's end.  Consumed silently. */
#define FABTX_F_SKIP 0x80u
#define FABTX_F_ALL 0xbfu

typedef struct fabtx_footer {
	uint64_t ack; /* reverse ring's released position (if ACK_VALID) */
	uint64_t total_len; /* whole message length                          */
	uint32_t len;       /* payload bytes in this cell                     */
	uint16_t flags;    /* FABTX_F_*                                       */
	uint16_t conn_tag; /* low 16 bits of the handshake nonce             */
	uint64_t seq;      /* chunk number; written last                      */
} fabtx_footer;

/* Header at offset 0 of every RX window (remote-writable). */
typedef struct fabtx_win_hdr {
	uint64_t credit; /* peer's released position of MY tx ring         */
	uint32_t armed;  /* direct-mapped backends: owner sleeps, wake it   */
	uint32_t closed; /* backends may set it: the writer has closed      */
	uint64_t reserved[5];
	uint64_t spare; /* backends: target of doorbell-only writes       */
} fabtx_win_hdr;

/* ---- doorbells --------------------------------------------------------- */
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

#define FABTX_BCAP_DIRECT 0x1u  /* peer window is mapped: core stores into it */
#define FABTX_BCAP_ORDERED 0x2u /* footers may be polled (ordered placement) */

/* A window: my RX window (base is my mapping) or the peer's (base NULL). */
typedef struct fabtx_win {
	void *base;
	uint64_t len;
	uint64_t addr; /* what the peer names in writes (address or offset) */
	uint64_t key;  /* remote key / handle                                */
	void *desc;    /* local descriptor for my TX staging                  */
} fabtx_win;

/* What win_import tells the core about this connection (the core fills in
 * the defaults before the call). */
typedef struct fabtx_win_limits {
	uint8_t *peer_base; /* DIRECT: my mapping of the peer's RX window     */
	uint32_t imm_max;   /* largest payload write_imm takes (0: none;
	                       default UINT32_MAX)                             */
	int no_span;        /* 1: the transport cannot be trusted to place a
	                       whole run before the run's doorbell: no runs   */
} fabtx_win_limits;

/* One piece of a remote write: local memory plus its descriptor (NULL: the
 * TX staging area's own). */
typedef struct fabtx_seg {
	const void *addr;
	size_t len;
	void *desc;
} fabtx_seg;

#define FABTX_WRITE_DATA 0x1u /* then notify: chunks < pos are visible */
#define FABTX_WRITE_CREDIT                                                     \
	0x8u /* then notify: credits up to pos (the write
                                   is the credit word of the peer's header) */
#define FABTX_WRITE_MORE                                                       \
	0x2u /* another chunk follows at once: the
                                     backend may coalesce this doorbell if
                                     its writes complete in order */
#define FABTX_WRITE_LAST                                                       \
	0x4u /* the connection's last write (FIN):
                                     if the backend can, its completion
                                     (flush) waits until the peer has it,
                                     not only until it left */

/* ---- connection setup ---------------------------------------------- */
typedef struct fabtx_be_setup_ops {
	/* optional: per-ctx state, reached with fabtx_ctx_backend_data */
	int (*ctx_init)(fabtx_ctx *ctx, void **state);
	void (*ctx_fini)(fabtx_ctx *ctx, void *state);
	/* listener: addr is the URL after "scheme://" */
	int (*listen)(fabtx_listener *l, const char *addr);
	/* optional: a pollable fd, readable when accept may progress (else
	 * the core looks on a short timer) */
	int (*listener_fd)(fabtx_listener *l);
	/* optional: the address (what follows "scheme://") a peer connects
	 * to, with what the system chose filled in (an ephemeral port).
	 * Returns 0, or -ENOSPC when cap is too small. */
	int (*listener_addr)(fabtx_listener *l, char *buf, size_t cap);
	/* transport-level accept of one pending connection (sets c->bdata).
	 * The core calls accept(l, c, 0): it must not wait.  It may return a
	 * connection whose transport setup is not finished: its ctrl_recv
	 * says -EAGAIN until it is (the backend finishes it there). */
	int (*accept)(fabtx_listener *l, fabtx_conn *c, int timeout_ms);
	void (*listener_close)(fabtx_listener *l);
	/* connect(c, addr, 0) (backends with connect_poll) returns 0 (the
	 * control channel is up), -EINPROGRESS (call connect_poll) or an
	 * error; without connect_poll the core calls it with the handshake
	 * timeout and it may block that long. */
	int (*connect)(fabtx_conn *c, const char *addr, int timeout_ms);
	/* optional: 0 up, -EAGAIN not yet, < 0 failed; never waits */
	int (*connect_poll)(fabtx_conn *c);
	/* optional: a pollable fd, readable when ctrl_recv or connect_poll
	 * may progress, or < 0 for none (the core then looks on a timer) */
	int (*ctrl_fd)(fabtx_conn *c);
	/* the reliable control channel: whole messages of <= 512 bytes.
	 * While a handshake is in flight the core calls ctrl_recv(.., 0). */
	int (*ctrl_send)(fabtx_conn *c, const void *msg, size_t len,
	                 int timeout_ms);
	int (*ctrl_recv)(fabtx_conn *c, void *buf, size_t cap, int timeout_ms);
	/* my RX window (zeroed, remote-writable, rx_len bytes) and TX staging
	 * (tx_len bytes, registered for local reads; 0 if DIRECT). */
	int (*win_open)(fabtx_conn *c, uint64_t rx_len, uint64_t tx_len,
	                fabtx_win *rx, fabtx_win *tx);
	/* the peer's RX window as advertised (validated by the core: len,
	 * wrap); the backend says what it can do towards it in *lim. */
	int (*win_import)(fabtx_conn *c, const fabtx_win *peer_rx,
	                  fabtx_win_limits *lim);
	/* graceful: the FIN is sent and every write completed (or the peer
	 * is gone); 0: the close drops what is left (the peer should learn
	 * it was not told everything).  Must not wait beyond what graceful
	 * makes instant.  Frees c->bdata. */
	void (*disconnect)(fabtx_conn *c, int graceful);
} fabtx_be_setup_ops;

/* ---- data movement (backends that are not DIRECT) ------------------ */
typedef struct fabtx_be_data_ops {
	/* write segs back to back into peer window [off, off+sum(len)); with
	 * FABTX_WRITE_DATA / _CREDIT the peer's core gets the notification
	 * (pos) only after the data is visible.  -EAGAIN: queue full, the
	 * core calls progress and retries. */
	int (*write)(fabtx_conn *c, const fabtx_seg *segs, int nseg,
	             uint64_t off, uint64_t pos, unsigned flags);
	/* optional: write a one-cell message's payload alone to offset off,
	 * its footer (len, flags) carried by the notification of data up to
	 * pos; the peer's backend gives them to fabtx_conn_chunk_in.  Used towards peers of wire
	 * minor >= 2.  -ENOTSUP: not this one (too big, queue busy), the core
	 * writes the cell with write(). */
	int (*write_imm)(fabtx_conn *c, const fabtx_seg *seg, uint64_t off,
	                 uint64_t pos, uint32_t len, uint16_t flags);
	/* optional: wait until all writes issued so far have completed */
	int (*flush)(fabtx_conn *c, int timeout_ms);
	/* optional: zero-copy sends (register user memory in place) */
	int (*mr_cache)(fabtx_conn *c, fabtx_mr_cache **out);
	/* optional: non-blocking zero-copy sends (fabtx_send_zc).  write()
	 * may then get segs in the caller's memory with desc NULL (neither
	 * staging nor registered): the backend reads them in place, so the
	 * fabric must not need local registration.  *issued: writes accepted
	 * so far (issued or queued, numbered from 1); *done: every write up
	 * to this number no longer reads its source (completed, copied, or
	 * cancelled by a failure; done may be NULL: only asking whether the
	 * connection has the path).  -ENOTSUP: in-place writes of
	 * unregistered memory are not possible here. */
	int (*written)(fabtx_conn *c, uint64_t *issued, uint64_t *done);
} fabtx_be_data_ops;

/* ---- notification ---------------------------------------------------- */
typedef struct fabtx_be_notify_ops {
	/* a notification with no data: kind FABTX_DB_KIND_DATA (chunks < pos
	 * are visible: DIRECT backends, after the core's seq_cst publish, and
	 * any backend re-ringing for a credit-starved sender) or
	 * FABTX_DB_KIND_CREDIT (DIRECT: the credit word says pos).  DIRECT
	 * backends only wake the peer if it is armed. */
	int (*ring)(fabtx_conn *c, fabtx_db_kind kind, uint64_t pos);
	/* drain completions and incoming notifications (the upcalls below).
	 * A peer that went away: return -ECONNRESET (here or from ctrl_recv)
	 * only after every notification it sent has been handed to the core;
	 * the core then delivers what is in the ring before reporting it.
	 * fabtx_conn_fail() is for errors that lose data (sticky at once).
	 * Other < 0: the connection failed. */
	int (*progress)(fabtx_conn *c);
} fabtx_be_notify_ops;

/* ---- waiting --------------------------------------------------------- */
typedef struct fabtx_be_wait_ops {
	int (*arm)(fabtx_conn *c); /* 0 armed, -EAGAIN: events pending */
	int (*fd)(fabtx_conn *c);
	/* optional: up to cap fds whose readability together is fd()'s (fd()
	 * is an epoll set of them); callers may poll these instead.  Returns
	 * how many (>= 1) or < 0. */
	int (*fds)(fabtx_conn *c, int *fds, int cap);
} fabtx_be_wait_ops;

struct fabtx_backend {
	const char *scheme;
	uint32_t caps; /* FABTX_BCAP_* */
	fabtx_be_setup_ops setup;
	fabtx_be_data_ops data;
	fabtx_be_notify_ops notify;
	fabtx_be_wait_ops wait;
};

/* ---- what a backend calls: upcalls (from notify.progress or ctrl_recv) */
/* Every chunk with position < pos is visible in my RX window (stale or
 * duplicate values are harmless; values beyond one ring are ignored). */
FABTX_API void fabtx_conn_data_in(fabtx_conn *c, uint64_t pos);
/* The peer released my chunks up to pos and wrote that into my window's
 * credit word before this notification; pos 0: position unknown (the core
 * reads the word).  A credit the ring cannot have fails the connection. */
FABTX_API void fabtx_conn_credit_in(fabtx_conn *c, uint64_t pos);
/* A doorbell value the core encoded (a backend that carries the core's
 * 16-bit values verbatim, see fabtx_conn_db_value): decoded here. */
FABTX_API void fabtx_conn_doorbell_in(fabtx_conn *c, uint32_t value);
/* The peer wrote a one-cell message with write_imm: chunk pos - 1 (pos as
 * for fabtx_conn_data_in) holds len payload bytes with `flags`; the core
 * writes its footer into the RX window and takes pos as a data position.
 * A stale pos is ignored; anything invalid (beyond the credits, len,
 * flags) fails the connection: -EPROTO. */
FABTX_API int fabtx_conn_chunk_in(fabtx_conn *c, uint64_t pos, uint32_t len,
                                  uint16_t flags);
/* A peer that is gone sends no more notifications: the position after the
 * last chunk whose valid footer is in my window (beyond what is known
 * visible), for a backend that may have lost the last notifications.
 * Give it to fabtx_conn_data_in.  Only for a peer that finished every
 * write before it left (it said goodbye after them): a footer proves
 * nothing about the payload of a write cut short. */
FABTX_API uint64_t fabtx_conn_rx_scan(fabtx_conn *c);
/* The same for a peer that died, on a backend whose writes land one after
 * another (each complete before the next begins): its last write may have
 * been cut short, a footer landing without all of its payload (a SPAN's
 * footer goes first), so the last chunk found is left out.  Every chunk
 * before it is complete: a later write's footer follows it. */
FABTX_API uint64_t fabtx_conn_rx_scan_died(fabtx_conn *c);
/* Count a notification that meant nothing (connection statistics). */
FABTX_API void fabtx_conn_spurious(fabtx_conn *c);
/* The transport failed (negative errno); sticky. */
FABTX_API void fabtx_conn_fail(fabtx_conn *c, int err);
/* A write that write() answered with 0 went nowhere: the peer had gone
 * (closed, failed).  The close then reports it: 0 if the peer had closed
 * first (its FIN is in our ring) or had acknowledged everything before
 * our FIN, else -ECONNRESET.  Data writes and the FIN must be reported; a
 * backend may report credit writes too (harmless for the same reason). */
FABTX_API void fabtx_conn_write_dropped(fabtx_conn *c);

/* ---- what a backend may read ------------------------------------------ */
/* Ring cells (each direction has the same geometry); 0 before the
 * handshake has set the ring up. */
FABTX_API uint32_t fabtx_conn_cells(const fabtx_conn *c);
FABTX_API uint32_t fabtx_conn_cell_size(const fabtx_conn *c);
/* receive side: the next chunk the core takes; chunks below
 * fabtx_conn_rx_visible are known visible; the peer may not write at or
 * beyond fabtx_conn_rx_limit (its credits) */
FABTX_API uint64_t fabtx_conn_rx_pos(const fabtx_conn *c);
FABTX_API uint64_t fabtx_conn_rx_visible(const fabtx_conn *c);
FABTX_API uint64_t fabtx_conn_rx_limit(const fabtx_conn *c);
/* send side: the next chunk the core writes (all below are written) */
FABTX_API uint64_t fabtx_conn_tx_pos(const fabtx_conn *c);
/* the peer's FIN has been consumed */
FABTX_API int fabtx_conn_fin_seen(const fabtx_conn *c);
/* my inbound doorbell range and the peer's (allocated by the core) */
FABTX_API fabtx_db_range fabtx_conn_db(const fabtx_conn *c);
FABTX_API fabtx_db_range fabtx_conn_peer_db(const fabtx_conn *c);
/* the core's 16-bit doorbell value, in the peer's range, for a data
 * (kind FABTX_DB_KIND_DATA: chunks < pos visible) or credit notification */
FABTX_API uint32_t fabtx_conn_db_value(const fabtx_conn *c, fabtx_db_kind kind,
                                       uint64_t pos);
/* when the handshake in flight gives up (fabtx_now_ms() clock), or 0 */
FABTX_API uint64_t fabtx_conn_setup_deadline_ms(const fabtx_conn *c);
/* Inside wait.arm: what the core waits for, FABTX_POLLIN (data: chunks,
 * FIN) and/or FABTX_POLLOUT (credits); one kind only in the core's own
 * blocking waits, both for fabtx_conn_arm / fabtx_conn_arm_mask.  A backend whose peer can tell a
 * data notification from a credit one may let the peer skip the wakeup
 * for the kind not asked for (shm://: the armed word); waking anyway is
 * always correct. */
FABTX_API unsigned fabtx_conn_arm_events(const fabtx_conn *c);

/* ---- services ---------------------------------------------------------- */
FABTX_API void *fabtx_ctx_backend_data(fabtx_ctx *ctx, const fabtx_backend *be);
/* The busy-poll time in effect (config or FABTX_SPIN_US), for backends. */
FABTX_API int fabtx_ctx_spin_us(const fabtx_ctx *ctx);
/* The handshake timeout in effect (config handshake_ms or 5000). */
FABTX_API int fabtx_ctx_handshake_ms(const fabtx_ctx *ctx);
FABTX_API const fabtx_allocator *fabtx_ctx_allocator(fabtx_ctx *ctx);
/* For backends: zeroed memory from the ctx's allocator, and its release. */
FABTX_API void *fabtx_ctx_zalloc(fabtx_ctx *ctx, size_t size);
FABTX_API void fabtx_ctx_free(fabtx_ctx *ctx, void *p);
FABTX_API void fabtx_log(fabtx_ctx *ctx, fabtx_log_level lvl, const char *fmt,
                         ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
FABTX_API uint64_t fabtx_now_ms(void);
FABTX_API uint64_t fabtx_now_ns(void);
/* A deadline (fabtx_now_ns() clock) from a timeout in ms (0: now, < 0:
 * never), and the ms left to it for poll() (-1: forever, 0: passed). */
FABTX_API uint64_t fabtx_deadline(int timeout_ms);
FABTX_API int fabtx_remaining_ms(uint64_t deadline);
/* END OF THE BACKEND API */

#ifndef FABTX_NO_SHM
FABTX_API const fabtx_backend *fabtx_shm_backend(void);
#endif

#ifdef __cplusplus
}
#endif
#endif /* FABTX_H_INCLUDED */

/* =========================================================================
 * CORE INTERNALS: not API.  Defined only in a translation unit that
 * defines FABTX_IMPLEMENTATION (the core's own, a backend's
 * implementation, the tests), so a program that just includes fabtx.h
 * sees fabtx_conn, fabtx_listener and fabtx_ctx as opaque types and none
 * of what follows (test/compile_headers.sh checks that).  The protocol
 * units (credit ring, doorbell-range allocator) are here so that their
 * tests (test_ring, test_db, fuzz_ring) can drive them on their own; of
 * struct fabtx_conn and fabtx_listener a backend may use only the members
 * the BACKEND API names (scripts/check_backend_api.sh checks that).
 * ========================================================================= */
#if defined(FABTX_IMPLEMENTATION) && !defined(FABTX_INTERNALS_INCLUDED)
#define FABTX_INTERNALS_INCLUDED
#ifdef __cplusplus
extern "C" {
#endif

/* ---- the credit ring --------------------------------------------------- */
/* One direction of the ring as the sender sees it. */
typedef struct fabtx_ring_tx {
	uint32_t n, c;        /* cell count (pow2), cell size            */
	uint64_t seq;         /* next chunk to write (starts at n)       */
	uint64_t peer_ack;    /* peer has released everything < this    */
	uint64_t last_db_seq; /* last chunk a doorbell was rung for      */
	uint16_t conn_tag;
} fabtx_ring_tx;

/* The receiver's state over its own RX window. */
typedef struct fabtx_ring_rx {
	uint32_t n, c;
	uint8_t *cells;      /* local mapping of cell 0                  */
	uint64_t seq;        /* next chunk to consume                    */
	uint64_t rel;        /* contiguous released prefix               */
	uint64_t reported;   /* last rel told to the peer                */
	uint64_t hint;       /* cells < hint are visible (doorbells)     */
	uint64_t credit_req; /* a CREDIT_REQ cell was seen below this    */
	uint8_t *released;   /* n flags: consumed and released            */
	uint32_t held;       /* zero-copy cells held by the application  */
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
/* Cells a chunk takes: 1, or 1 + the data cells of a SPAN chunk. */
static inline uint32_t fabtx_ring_chunk_cells(uint16_t flags, uint32_t len,
                                              uint32_t cell_size)
{
	if (!(flags & (FABTX_F_SPAN | FABTX_F_SKIP))) return 1;
	return 1u + (uint32_t)(((uint64_t)len + cell_size - 1) / cell_size);
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
/* Decode a credit doorbell index (pos mod n) against the ring.  Exact
 * only while doorbells are the sole source of credits (N-1 cap); the core
 * itself reads the absolute credit word instead. */
FABTX_API int fabtx_ring_tx_credit_idx(fabtx_ring_tx *t, uint32_t idx);
FABTX_API int fabtx_ring_rx_init(fabtx_ring_rx *r, uint32_t n, uint32_t c,
                                 uint8_t *cells, uint16_t tag, uint64_t max_msg,
                                 const fabtx_allocator *a);
FABTX_API void fabtx_ring_rx_fini(fabtx_ring_rx *r, const fabtx_allocator *a);
/* Validate the footer of cell r->seq.  Returns 1 and a stable copy of the
 * footer if it is ready, 0 if not written yet, -EPROTO if it is invalid. */
FABTX_API int fabtx_ring_rx_peek(fabtx_ring_rx *r, fabtx_footer *out);
/* Mark chunk seq released; returns how far rel advanced. */
FABTX_API uint64_t fabtx_ring_rx_release(fabtx_ring_rx *r, uint64_t seq);
/* Should rel be reported now (R7)? */
FABTX_API int fabtx_ring_rx_should_report(const fabtx_ring_rx *r);

/* ---- doorbell range allocation ---------------------------------------- */
typedef struct fabtx_db_alloc fabtx_db_alloc;
FABTX_API int fabtx_db_alloc_create(fabtx_db_alloc **out,
                                    const fabtx_allocator *a);
FABTX_API void fabtx_db_alloc_destroy(fabtx_db_alloc *d);
/* Allocate a range of 2*cells values (cells halved down to min_cells if the
 * space is fragmented) for owner slot (1..65535).  Returns the cells granted
 * (> 0) or -ENOSPC (every value owned).  now_ms is the caller's clock
 * (quarantine). */
FABTX_API int fabtx_db_alloc_range(fabtx_db_alloc *d, uint32_t cells,
                                   uint32_t min_cells, uint16_t owner,
                                   uint64_t now_ms, fabtx_db_range *out);
/* Free a range; it is not reused before now_ms + quarantine_ms unless
 * nothing else is free (then the range whose quarantine ends first).
 * -EINVAL on a range that is not allocated with these exact bounds. */
FABTX_API int fabtx_db_free_range(fabtx_db_alloc *d, fabtx_db_range r,
                                  uint64_t now_ms, uint32_t quarantine_ms);
/* O(1) decode of any 16-bit value.  *owner gets the slot, *off the offset. */
FABTX_API fabtx_db_kind fabtx_db_decode(const fabtx_db_alloc *d, uint32_t value,
                                        uint16_t *owner, uint32_t *off);
FABTX_API uint32_t fabtx_db_in_use(const fabtx_db_alloc *d); /* values */

#define FABTX__HOT_CELLS 4 /* staging cells past the ring (not DIRECT) */

/* What the core keeps per connection.  A backend uses ctx, be, bdata and
 * url only (see BACKEND API); everything else is the core's. */
struct fabtx_conn {
	fabtx_ctx *ctx;
	const fabtx_backend *be;
	void *bdata;        /* backend private                          */
	uint8_t *peer_base; /* DIRECT: mapping of the peer RX window     */
	fabtx_win rx_win, tx_win, peer_win;
	fabtx_ring_tx tx;
	fabtx_ring_rx rx;
	fabtx_db_range db;      /* my inbound range                 */
	fabtx_db_range peer_db; /* the peer's inbound range         */
	uint16_t slot;          /* owner slot in the ctx allocator  */
	uint16_t conn_tag;
	int state; /* internal FABTX__ST_*             */
	int err;   /* sticky error                     */
	int fin_recv, fin_sent, peer_gone;
	int tx_dropped;  /* a write of ours went nowhere: the peer was gone */
	uint64_t fin_at; /* tx.seq before our FIN: the data the peer owes us
	                    an acknowledgement for */
	/* send runs (SPAN chunks): the peer reads them (wire minor >= 1) and
	 * the backend did not say no_span in win_import */
	int peer_span;
	/* one-cell messages may go as payload + doorbell-borne footer: the
	 * backend has write_imm (so is not DIRECT), the peer is of wire minor
	 * >= 2, and FABTX_IMM=0 does not turn it off */
	int peer_imm;
	/* the largest payload the backend's write_imm takes on this
	 * connection (fabtx_win_limits.imm_max), so sends above it do not
	 * ask to be declined */
	uint32_t imm_max;
	/* SKIP chunks: the peer reads them (wire minor >= 2) */
	int peer_skip;
	uint64_t max_msg;
	uint64_t last_rx_ms;
	/* pending remainder of a non-blocking send */
	uint8_t *pend_buf;
	uint64_t pend_len, pend_off, pend_total;
	/* reassembly buffer of a multi-cell message */
	uint8_t *asm_buf;
	uint8_t *asm_user; /* caller buffer being filled directly */
	uint64_t asm_cap;
	fabtx_conn_stats st;
	uint64_t seen_credit; /* last header credit word seen */
	uint64_t ping_out_ms, ka_rx_seq;
	int credit_event; /* credits arrived since the last arm/poll */
	unsigned arm_ev;  /* what be->wait.arm arms for (FABTX_POLL* bits) */
	/* the footer fabtx__rx_next last validated, while rx.seq == pk_seq - 1
	 * (a blocking receive peeks once to wake and once to take) */
	fabtx_footer pk;
	uint64_t pk_seq;
	/* when a non-blocking receive that found nothing last ran the slow
	 * path (ORDERED backends: at most every 50 us, fabtx__recv_common) */
	uint64_t nb_slow_ns;
	/* fabtx_conn_shutdown's outcome, once it has one */
	int close_done, close_rc;
	/* backends that are not DIRECT: the staging cells past the ring's
	 * (fabtx__stage_cell), each with 1 + the seq of the chunk it holds */
	uint64_t hot_seq[FABTX__HOT_CELLS];
	/* the handshake while it is in flight (FABTX__HS_* phase; 0 when
	 * none), its deadline, and the nonce of a client's request (the rest
	 * of it is the config and the doorbell range: db.count / 2 cells) */
	int hs_phase;
	int hs_tfd; /* timer for a backend without ctrl_fd, or -1 */
	uint64_t hs_dl, hs_nonce;
	char url[128];
};

struct fabtx_listener {
	fabtx_ctx *ctx;
	const fabtx_backend *be;
	void *bdata;
	char url[128];
	/* the core's part: fabtx_listener_fd (an epoll set over the backend's
	 * listener fd, every handshake's control fd, the ready signal and
	 * the timer), and the handshakes in flight in arrival order */
	int epfd, evfd, tfd;
	int nhs, signalled;
	fabtx_conn *hs[FABTX_MAX_HANDSHAKES];
	int hsfd[FABTX_MAX_HANDSHAKES]; /* the fd each is in the set with */
	uint32_t aborted; /* handshakes that failed, not yet reported */
	int lerr;         /* an error of the backend's accept to report */
};

#ifdef __cplusplus
}
#endif
#endif /* FABTX_INTERNALS_INCLUDED */

/* ======================================================================= */
/* ============================ IMPLEMENTATION =========================== */
/* ======================================================================= */
#if defined(FABTX_IMPLEMENTATION) && !defined(FABTX_IMPLEMENTATION_INCLUDED)
#define FABTX_IMPLEMENTATION_INCLUDED
#include <stdarg.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <poll.h>
#include <pthread.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <sys/socket.h> /* fabtx_conn_peer_cred */
#if defined(__GLIBC__) && !defined(__USE_GNU)
#error                                                                         \
    "fabtx: the implementation needs _GNU_SOURCE: in the FABTX_IMPLEMENTATION file include fabtx.h before any other header, or compile it with -D_GNU_SOURCE"
#endif

#ifndef FABTX_ASSERT
#include <assert.h>
#define FABTX_ASSERT(x) assert(x)
#endif
#if defined(FABTX_MALLOC) != defined(FABTX_FREE)
#error "Define both FABTX_MALLOC and FABTX_FREE, or neither."
#endif
#ifndef FABTX_MALLOC
#define FABTX_MALLOC(sz, u) ((void)(u), malloc(sz))
#define FABTX_FREE(p, u) ((void)(u), free(p))
#endif
#if !defined(FABTX_DEBUG) && !defined(NDEBUG)
#define FABTX_DEBUG 1
#endif

#if defined(__GNUC__)
#define FABTX__UNUSED __attribute__((unused))
#define FABTX__LIKELY(x) __builtin_expect(!!(x), 1)
#define FABTX__UNLIKELY(x) __builtin_expect(!!(x), 0)
#else
#define FABTX__UNUSED
#define FABTX__LIKELY(x) (x)
#define FABTX__UNLIKELY(x) (x)
#endif

#ifdef FABTX_STATIC
#define FABTX__DEF static FABTX__UNUSED
#else
#define FABTX__DEF
#endif
#define FABTX__PRIV static FABTX__UNUSED

/* The remote-writable structures are an ABI: pin their layout. */
typedef char
    fabtx__footer_size_ok[sizeof(fabtx_footer) == FABTX_FOOTER_SIZE ? 1 : -1];
typedef char
    fabtx__hdr_size_ok[sizeof(fabtx_win_hdr) == FABTX_WIN_HDR_SIZE ? 1 : -1];
typedef char fabtx__spare_at_56[offsetof(fabtx_win_hdr, spare) == 56 ? 1 : -1];
typedef char fabtx__seq_at_end[offsetof(fabtx_footer, seq) == 24 ? 1 : -1];

/* ------------------------------------------------------------- atomics */
/* Publishing a cell or a credit and then checking the peer's armed flag
 * (and arming then re-checking) is a Dekker pattern: both sides use
 * sequentially consistent stores and loads (no standalone fences, which
 * ThreadSanitizer cannot model).  On x86 the loads are plain moves. */
#define fabtx__load_acq64(p) __atomic_load_n((p), __ATOMIC_SEQ_CST)
#define fabtx__store_sc(p, v) __atomic_store_n((p), (v), __ATOMIC_SEQ_CST)
#define fabtx__store_rel64(p, v) __atomic_store_n((p), (v), __ATOMIC_RELEASE)
#define fabtx__load_relaxed(p) __atomic_load_n((p), __ATOMIC_RELAXED)
#define fabtx__store_relaxed(p, v) __atomic_store_n((p), (v), __ATOMIC_RELAXED)

/* ---------------------------------------------------------- allocation */
static void *fabtx__default_alloc(size_t sz, void *u)
{
	(void)u;
	return FABTX_MALLOC(sz, u);
}
static void fabtx__default_free(void *p, void *u)
{
	(void)u;
	FABTX_FREE(p, u);
}
static const fabtx_allocator fabtx__default_allocator = {
    fabtx__default_alloc, fabtx__default_free, NULL};

static void *fabtx__alloc(const fabtx_allocator *a, size_t sz)
{
	if (!a || !a->alloc) a = &fabtx__default_allocator;
	return a->alloc(sz, a->user);
}
static void *fabtx__zalloc(const fabtx_allocator *a, size_t sz)
{
	void *p = fabtx__alloc(a, sz);
	if (p) memset(p, 0, sz);
	return p;
}
static void fabtx__free(const fabtx_allocator *a, void *p)
{
	if (!p) return;
	if (!a || !a->free) a = &fabtx__default_allocator;
	a->free(p, a->user);
}

/* ---------------------------------------------------------------- time */
FABTX__DEF uint64_t fabtx_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}
FABTX__DEF uint64_t fabtx_now_ms(void)
{
	return fabtx_now_ns() / 1000000u;
}

/* deadline in ns from a timeout in ms (0: now, <0: never) */
static uint64_t fabtx__deadline(int timeout_ms)
{
	if (timeout_ms < 0) return UINT64_MAX;
	return fabtx_now_ns() + (uint64_t)timeout_ms * 1000000u;
}
/* remaining ms to a deadline, for poll(): -1 forever */
static int fabtx__remaining_ms(uint64_t deadline)
{
	uint64_t now;
	if (deadline == UINT64_MAX) return -1;
	now = fabtx_now_ns();
	if (now >= deadline) return 0;
	return (int)((deadline - now + 999999u) / 1000000u);
}

FABTX__DEF uint64_t fabtx_deadline(int timeout_ms)
{
	return fabtx__deadline(timeout_ms);
}
FABTX__DEF int fabtx_remaining_ms(uint64_t deadline)
{
	return fabtx__remaining_ms(deadline);
}

/* ------------------------------------------------------------- version */
FABTX__DEF uint32_t fabtx_version(void)
{
	return FABTX_VERSION;
}

FABTX__DEF const char *fabtx_strerror(int rc)
{
	if (rc >= 0) return "success";
	switch (-rc) {
	case EAGAIN:
		return "would block (no credits or no message yet)";
	case ETIMEDOUT:
		return "timed out (or keepalive found the peer silent)";
	case EMSGSIZE:
		return "message too large (negotiated maximum or buffer)";
	case ECONNRESET:
		return "connection reset: the peer failed or aborted";
	case ESHUTDOWN:
		return "end of stream: the peer closed cleanly";
	case EPROTO:
		return "protocol violation by the peer";
	case EINVAL:
		return "invalid argument or malformed URL";
	case ENOMEM:
		return "out of memory";
	case ENOSPC:
		return "doorbell space exhausted";
	case ECONNREFUSED:
		return "connection refused (nobody listening, or rejected)";
	case ECONNABORTED:
		return "incoming connection aborted during handshake";
	case EADDRINUSE:
		return "address already in use";
	case EPROTONOSUPPORT:
		return "unknown URL scheme (backend not added?)";
	case ENOSYS:
		return "operation not supported by this backend";
	case ENODEV:
		return "fabric device or provider not available";
	case EBUSY:
		return "resource busy (in use)";
	case ENOTCONN:
		return "not connected";
	case EPIPE:
		return "connection closed locally";
	case ENAMETOOLONG:
		return "name too long";
	case ENOENT:
		return "not found";
	case ENOBUFS:
		return "ring stalled by held zero-copy messages: release some";
	default:
		return strerror(-rc);
	}
}

/* ------------------------------------------------------ little endian */
static void fabtx__put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}
static void fabtx__put32(uint8_t *p, uint32_t v)
{
	fabtx__put16(p, (uint16_t)v);
	fabtx__put16(p + 2, (uint16_t)(v >> 16));
}
static void fabtx__put64(uint8_t *p, uint64_t v)
{
	fabtx__put32(p, (uint32_t)v);
	fabtx__put32(p + 4, (uint32_t)(v >> 32));
}
static uint16_t fabtx__get16(const uint8_t *p)
{
	return (uint16_t)(p[0] | (p[1] << 8));
}
static uint32_t fabtx__get32(const uint8_t *p)
{
	return (uint32_t)fabtx__get16(p) |
	       ((uint32_t)fabtx__get16(p + 2) << 16);
}
static uint64_t fabtx__get64(const uint8_t *p)
{
	return (uint64_t)fabtx__get32(p) |
	       ((uint64_t)fabtx__get32(p + 4) << 32);
}
static uint32_t fabtx__crc32c(const uint8_t *p, size_t n)
{
	uint32_t crc = 0xffffffffu;
	size_t i;
	int k;
	for (i = 0; i < n; i++) {
		crc ^= p[i];
		for (k = 0; k < 8; k++)
			crc = (crc >> 1) ^ (0x82f63b78u & (0u - (crc & 1u)));
	}
	return ~crc;
}
static int fabtx__is_pow2(uint64_t v)
{
	return v && !(v & (v - 1));
}

/* ===================================================== the credit ring */
FABTX__DEF int fabtx_ring_geometry_ok(uint32_t n, uint32_t c)
{
	if (!fabtx__is_pow2(n) || n < FABTX_MIN_CELLS || n > FABTX_MAX_CELLS)
		return -EINVAL;
	if (c < FABTX_MIN_CELL_SIZE || c > FABTX_MAX_CELL_SIZE || (c % 64u))
		return -EINVAL;
	return 0;
}

FABTX__DEF void fabtx_ring_tx_init(fabtx_ring_tx *t, uint32_t n, uint32_t c,
                                   uint16_t tag)
{
	memset(t, 0, sizeof *t);
	t->n = n;
	t->c = c;
	t->seq = n;
	t->peer_ack = n;
	t->last_db_seq = n;
	t->conn_tag = tag;
}

FABTX__DEF int fabtx_ring_tx_credit(fabtx_ring_tx *t, uint64_t pos)
{
	if (pos > t->seq) return -EPROTO; /* credits for cells never sent */
	if (pos <= t->peer_ack) return 0; /* stale or duplicate */
	t->peer_ack = pos;
	return 1;
}

FABTX__DEF int fabtx_ring_tx_credit_idx(fabtx_ring_tx *t, uint32_t idx)
{
	uint64_t pos;
	if (idx >= t->n) return -EPROTO;
	pos = t->peer_ack + ((idx - t->peer_ack) & (uint64_t)(t->n - 1));
	if (pos > t->seq)
		return 0; /* not decodable against this window: drop */
	return fabtx_ring_tx_credit(t, pos);
}

FABTX__DEF int fabtx_ring_rx_init(fabtx_ring_rx *r, uint32_t n, uint32_t c,
                                  uint8_t *cells, uint16_t tag,
                                  uint64_t max_msg, const fabtx_allocator *a)
{
	if (fabtx_ring_geometry_ok(n, c) < 0) return -EINVAL;
	memset(r, 0, sizeof *r);
	r->released = (uint8_t *)fabtx__zalloc(a, n);
	if (!r->released) return -ENOMEM;
	r->n = n;
	r->c = c;
	r->cells = cells;
	r->seq = r->rel = r->reported = r->hint = n;
	r->conn_tag = tag;
	r->max_msg = max_msg;
	return 0;
}

FABTX__DEF void fabtx_ring_rx_fini(fabtx_ring_rx *r, const fabtx_allocator *a)
{
	fabtx__free(a, r->released);
	r->released = NULL;
}

static fabtx_footer *fabtx__footer_at(uint8_t *cells, uint32_t c, uint64_t idx)
{
	return (fabtx_footer *)(void *)(cells + idx * c + c -
	                                FABTX_FOOTER_SIZE);
}

/* fabtx_ring_rx_peek: the rules for a footer v read at r->seq (tag and
 * flag bits checked): 0, or -EPROTO */
static int fabtx__rx_rules(const fabtx_ring_rx *r, const fabtx_footer *v)
{
	uint32_t p = fabtx_ring_payload(r->c);
	int full;
	if (v->flags & FABTX_F_SKIP) { /* exactly to the ring's end */
		uint64_t idx = r->seq & (r->n - 1);
		if ((v->flags & ~(uint16_t)(FABTX_F_SKIP | FABTX_F_ACK_VALID |
		                            FABTX_F_CREDIT_REQ)) ||
		    v->total_len || r->asm_active || v->len % r->c ||
		    idx + 1 + v->len / r->c != r->n)
			return -EPROTO;
		return 0;
	}
	if (v->flags & FABTX_F_SPAN) {
		/* a run of whole cells after this one, before the ring's end,
		 * leaving a cell free (N-1 credits) */
		uint64_t idx = r->seq & (r->n - 1);
		uint64_t k = ((uint64_t)v->len + r->c - 1) / r->c;
		if (v->len == 0 || (v->flags & FABTX_F_FIN) ||
		    idx + 1 + k > r->n || 1 + k > (uint64_t)r->n - 1)
			return -EPROTO;
		full = (v->len % r->c) == 0;
	} else {
		if (v->len > p) return -EPROTO;
		full = v->len == p;
	}
	if (v->flags & FABTX_F_FIN) {
		if (v->len != 0 || v->total_len != 0 || r->asm_active)
			return -EPROTO;
	} else if (!r->asm_active) {
		if (!(v->flags & FABTX_F_FIRST) || v->total_len > r->max_msg)
			return -EPROTO;
		if (v->flags & FABTX_F_LAST) {
			if (v->len != v->total_len) return -EPROTO;
		} else if (!full || v->total_len <= v->len) {
			return -EPROTO;
		}
	} else {
		if ((v->flags & FABTX_F_FIRST) || v->total_len != r->asm_total)
			return -EPROTO;
		if (v->flags & FABTX_F_LAST) {
			if (r->asm_got + v->len != r->asm_total) return -EPROTO;
		} else if (!full || r->asm_got + v->len >= r->asm_total) {
			return -EPROTO;
		}
	}
	return 0;
}

FABTX__DEF int fabtx_ring_rx_peek(fabtx_ring_rx *r, fabtx_footer *out)
{
	fabtx_footer *f = fabtx__footer_at(r->cells, r->c, r->seq & (r->n - 1));
	uint64_t s = fabtx__load_acq64(&f->seq);
	uint32_t p = fabtx_ring_payload(r->c);
	fabtx_footer v;
	if (s != r->seq) {
		if (s == r->seq - r->n || s == 0)
			return 0; /* not written yet */
		return -EPROTO;
	}
	/* one stable copy: the peer cannot make us re-read a changed field */
	v.ack = fabtx__load_relaxed(&f->ack);
	v.total_len = fabtx__load_relaxed(&f->total_len);
	v.len = fabtx__load_relaxed(&f->len);
	v.flags = fabtx__load_relaxed(&f->flags);
	v.conn_tag = fabtx__load_relaxed(&f->conn_tag);
	v.seq = s;
	if (v.conn_tag != r->conn_tag || (v.flags & ~FABTX_F_ALL))
		return -EPROTO;
	/* the common chunk, a whole message in one cell, checked as the
	 * general rules below would */
	if ((v.flags & ~(uint16_t)(FABTX_F_ACK_VALID | FABTX_F_CREDIT_REQ)) ==
	        (FABTX_F_FIRST | FABTX_F_LAST) &&
	    !r->asm_active) {
		if (v.len > p || v.len != v.total_len ||
		    v.total_len > r->max_msg)
			return -EPROTO;
		*out = v;
		return 1;
	}
	/* the next one-cell chunk of a message being assembled, likewise */
	if (r->asm_active && !(v.flags & (FABTX_F_FIRST | FABTX_F_FIN |
	                                  FABTX_F_SPAN | FABTX_F_SKIP))) {
		uint64_t got = r->asm_got + v.len;
		if (v.len > p || v.total_len != r->asm_total) return -EPROTO;
		if (v.flags & FABTX_F_LAST) {
			if (got != r->asm_total) return -EPROTO;
		} else if (v.len != p || got >= r->asm_total) {
			return -EPROTO;
		}
		*out = v;
		return 1;
	}
	if (fabtx__rx_rules(r, &v) < 0) return -EPROTO;
	*out = v;
	return 1;
}

FABTX__DEF uint64_t fabtx_ring_rx_release(fabtx_ring_rx *r, uint64_t seq)
{
	uint64_t before = r->rel;
	uint32_t mask = r->n - 1;
	if (seq < r->rel || seq >= r->seq) return 0; /* not consumed, or done */
	if (seq == r->rel &&
	    (seq + 1 == r->seq || !r->released[(seq + 1) & mask])) {
		/* the oldest, with nothing released behind it waiting: the
		 * common in-order release, no mark to set and clear */
		r->rel++;
		return 1;
	}
	r->released[seq & mask] = 1;
	while (r->rel < r->seq && r->released[r->rel & mask]) {
		r->released[r->rel & mask] = 0;
		r->rel++;
	}
	return r->rel - before;
}

FABTX__DEF int fabtx_ring_rx_should_report(const fabtx_ring_rx *r)
{
	if (r->rel == r->reported) return 0;
	if (r->rel - r->reported >= r->n / 4) return 1;
	if (r->credit_req && r->rel >= r->credit_req) return 1;
	return 0;
}

/* ======================================================= doorbell ranges */
#define FABTX__DB_MAXSLOT 8192u
struct fabtx_db_alloc {
	uint16_t owner[FABTX_DB_SPACE];    /* value -> slot, 0 = free       */
	uint64_t quar[FABTX_DB_SPACE / 8]; /* per 8 values: reusable at ms   */
	uint16_t sbase[FABTX__DB_MAXSLOT];
	uint32_t scount[FABTX__DB_MAXSLOT];
	uint32_t in_use;
	fabtx_allocator a;
};

FABTX__DEF int fabtx_db_alloc_create(fabtx_db_alloc **out,
                                     const fabtx_allocator *a)
{
	fabtx_db_alloc *d = (fabtx_db_alloc *)fabtx__zalloc(a, sizeof *d);
	if (!d) return -ENOMEM;
	d->a = a && a->alloc ? *a : fabtx__default_allocator;
	*out = d;
	return 0;
}
FABTX__DEF void fabtx_db_alloc_destroy(fabtx_db_alloc *d)
{
	fabtx_allocator a;
	if (!d) return;
	a = d->a;
	fabtx__free(&a, d);
}

/* 1 if [base, base + cnt) is unowned; *quar_end: when the last of its
 * values leaves quarantine */
static int fabtx__db_free_at(const fabtx_db_alloc *d, uint32_t base,
                             uint32_t cnt, uint64_t *quar_end)
{
	uint32_t v;
	uint64_t q = 0;
	for (v = base; v < base + cnt; v++)
		if (d->owner[v]) return 0;
	for (v = base; v < base + cnt; v += 8)
		if (d->quar[v / 8] > q) q = d->quar[v / 8];
	*quar_end = q;
	return 1;
}

static int fabtx__db_take(fabtx_db_alloc *d, uint32_t base, uint32_t cnt,
                          uint16_t owner, fabtx_db_range *out)
{
	uint32_t v;
	for (v = base; v < base + cnt; v++)
		d->owner[v] = owner;
	d->sbase[owner] = (uint16_t)base;
	d->scount[owner] = cnt;
	d->in_use += cnt;
	out->base = (uint16_t)base;
	out->count = (uint16_t)cnt;
	return (int)(cnt / 2);
}

/* The largest size that fits, outside quarantine if it can.  Only where
 * every free range of that size is in quarantine (a client that opens and
 * closes connections as fast as it can gets there in ~128 connections) is
 * a quarantined one reused early, the one whose quarantine ends first: a
 * stale doorbell is harmless to the connection that gets it (the backend
 * contract); a connection refused or shrunk for want of values is not.
 * Sizes halve only where live ranges fill the space. */
FABTX__DEF int fabtx_db_alloc_range(fabtx_db_alloc *d, uint32_t cells,
                                    uint32_t min_cells, uint16_t owner,
                                    uint64_t now_ms, fabtx_db_range *out)
{
	uint32_t n, cnt, base, best = 0;
	uint64_t q, best_q = 0;
	if (!owner || owner >= FABTX__DB_MAXSLOT || d->scount[owner] ||
	    !fabtx__is_pow2(cells) || !fabtx__is_pow2(min_cells) ||
	    min_cells < FABTX_MIN_CELLS || cells > FABTX_MAX_CELLS / 2 * 2 ||
	    min_cells > cells)
		return -EINVAL;
	for (n = cells; n >= min_cells; n /= 2) {
		cnt = 2 * n;
		if (cnt >= FABTX_DB_SPACE) continue;
		/* aligned; the reserved block [0,16) is never used */
		base = cnt < FABTX_DB_RESERVED ? FABTX_DB_RESERVED : cnt;
		for (; base + cnt <= FABTX_DB_SPACE; base += cnt) {
			if (!fabtx__db_free_at(d, base, cnt, &q)) continue;
			if (q <= now_ms)
				return fabtx__db_take(d, base, cnt, owner, out);
			if (!best || q < best_q) {
				best = base;
				best_q = q;
			}
		}
		if (best) return fabtx__db_take(d, best, cnt, owner, out);
	}
	return -ENOSPC;
}

FABTX__DEF int fabtx_db_free_range(fabtx_db_alloc *d, fabtx_db_range r,
                                   uint64_t now_ms, uint32_t quarantine_ms)
{
	uint32_t v, base = r.base, cnt = r.count;
	uint16_t o;
	if (base < FABTX_DB_RESERVED || !cnt || base + cnt > FABTX_DB_SPACE)
		return -EINVAL;
	o = d->owner[base];
	if (!o || d->sbase[o] != base || d->scount[o] != cnt) return -EINVAL;
	for (v = base; v < base + cnt; v++)
		d->owner[v] = 0;
	for (v = base; v < base + cnt; v += 8)
		d->quar[v / 8] = now_ms + quarantine_ms;
	d->sbase[o] = 0;
	d->scount[o] = 0;
	d->in_use -= cnt;
	return 0;
}

FABTX__DEF fabtx_db_kind fabtx_db_decode(const fabtx_db_alloc *d,
                                         uint32_t value, uint16_t *owner,
                                         uint32_t *off)
{
	uint16_t o;
	uint32_t half;
	if (value >= FABTX_DB_SPACE) return FABTX_DB_KIND_SPURIOUS;
	if (value < FABTX_DB_RESERVED) {
		if (owner) *owner = 0;
		if (off) *off = value;
		return value == FABTX_DB_NONE ? FABTX_DB_KIND_SPURIOUS
		                              : FABTX_DB_KIND_CONTROL;
	}
	o = d->owner[value];
	if (!o) return FABTX_DB_KIND_SPURIOUS;
	half = d->scount[o] / 2;
	if (owner) *owner = o;
	if (value - d->sbase[o] < half) {
		if (off) *off = value - d->sbase[o];
		return FABTX_DB_KIND_DATA;
	}
	if (off) *off = value - d->sbase[o] - half;
	return FABTX_DB_KIND_CREDIT;
}

FABTX__DEF uint32_t fabtx_db_in_use(const fabtx_db_alloc *d)
{
	return d->in_use;
}

/* ============================================================ MR cache */
#define FABTX__MR_CACHED 0
#define FABTX__MR_INVALID 1  /* out of the index; dereg at last put   */
#define FABTX__MR_UNCACHED 2 /* never indexed (cache full); dereg at put */

struct fabtx_mr_entry {
	uintptr_t start, end; /* page aligned [start, end) */
	unsigned access;
	uint32_t refs;
	int state;
	fabtx_mr_reg reg;
	fabtx_mr_entry *lru_prev, *lru_next; /* idle entries only */
	fabtx_mr_entry *dead_next;
};

struct fabtx_mr_cache {
	pthread_mutex_t lock;
	fabtx_mr_ops ops;
	fabtx_allocator a;
	uint32_t max_count;
	uint64_t max_bytes;
	fabtx_mr_entry **idx; /* sorted by start, non-overlapping */
	uint32_t n, cap;
	fabtx_mr_entry *lru_head, *lru_tail; /* head = least recently used */
	fabtx_mr_cache_stats st;
	uintptr_t page;
};

FABTX__DEF int fabtx_mr_cache_create(fabtx_mr_cache **out,
                                     const fabtx_mr_cache_config *cfg,
                                     const fabtx_mr_ops *ops,
                                     const fabtx_allocator *a)
{
	fabtx_mr_cache *mc;
	long pg = sysconf(_SC_PAGESIZE);
	if (!ops || !ops->reg || !ops->dereg) return -EINVAL;
	mc = (fabtx_mr_cache *)fabtx__zalloc(a, sizeof *mc);
	if (!mc) return -ENOMEM;
	mc->a = a && a->alloc ? *a : fabtx__default_allocator;
	mc->ops = *ops;
	mc->max_count = cfg && cfg->max_count ? cfg->max_count : 1024u;
	mc->max_bytes = cfg && cfg->max_bytes ? cfg->max_bytes : (1ull << 30);
	mc->page = pg > 0 ? (uintptr_t)pg : 4096u;
	pthread_mutex_init(&mc->lock, NULL);
	*out = mc;
	return 0;
}

static void fabtx__lru_unlink(fabtx_mr_cache *mc, fabtx_mr_entry *e)
{
	if (e->lru_prev)
		e->lru_prev->lru_next = e->lru_next;
	else if (mc->lru_head == e)
		mc->lru_head = e->lru_next;
	if (e->lru_next)
		e->lru_next->lru_prev = e->lru_prev;
	else if (mc->lru_tail == e)
		mc->lru_tail = e->lru_prev;
	e->lru_prev = e->lru_next = NULL;
}
static void fabtx__lru_push(fabtx_mr_cache *mc, fabtx_mr_entry *e)
{
	e->lru_next = NULL;
	e->lru_prev = mc->lru_tail;
	if (mc->lru_tail)
		mc->lru_tail->lru_next = e;
	else
		mc->lru_head = e;
	mc->lru_tail = e;
}
/* first index position whose entry ends after addr */
static uint32_t fabtx__mr_lower(fabtx_mr_cache *mc, uintptr_t addr)
{
	uint32_t lo = 0, hi = mc->n;
	while (lo < hi) {
		uint32_t mid = (lo + hi) / 2;
		if (mc->idx[mid]->end <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}
static void fabtx__mr_idx_remove(fabtx_mr_cache *mc, uint32_t i)
{
	fabtx_mr_entry *e = mc->idx[i];
	memmove(&mc->idx[i], &mc->idx[i + 1],
	        (mc->n - i - 1) * sizeof(*mc->idx));
	mc->n--;
	mc->st.entries--;
	mc->st.bytes -= e->end - e->start;
}
/* take entry i out of the index: idle ones go to *dead, used ones are
 * marked INVALID and freed by their last put */
static void fabtx__mr_detach(fabtx_mr_cache *mc, uint32_t i,
                             fabtx_mr_entry **dead)
{
	fabtx_mr_entry *e = mc->idx[i];
	fabtx__mr_idx_remove(mc, i);
	if (e->refs == 0) {
		fabtx__lru_unlink(mc, e);
		e->dead_next = *dead;
		*dead = e;
	} else {
		e->state = FABTX__MR_INVALID;
		mc->st.in_use--;
	}
}
static void fabtx__mr_reap(fabtx_mr_cache *mc, fabtx_mr_entry *dead)
{
	while (dead) {
		fabtx_mr_entry *nx = dead->dead_next;
		mc->ops.dereg(mc->ops.user, &dead->reg);
		fabtx__free(&mc->a, dead);
		dead = nx;
	}
}
static void fabtx__mr_evict(fabtx_mr_cache *mc, fabtx_mr_entry **dead)
{
	while (
	    (mc->st.entries > mc->max_count || mc->st.bytes > mc->max_bytes) &&
	    mc->lru_head) {
		fabtx_mr_entry *v = mc->lru_head;
		uint32_t i = fabtx__mr_lower(mc, v->start);
		FABTX_ASSERT(i < mc->n && mc->idx[i] == v);
		fabtx__mr_detach(mc, i, dead);
		mc->st.evictions++;
	}
}

/* the cached entry that covers [s, e) with access, taken; or NULL (under
 * the lock) */
static fabtx_mr_entry *fabtx__mr_lookup(fabtx_mr_cache *mc, uintptr_t s,
                                        uintptr_t e, unsigned access)
{
	uint32_t i = fabtx__mr_lower(mc, s);
	fabtx_mr_entry *ne;
	if (i >= mc->n || mc->idx[i]->start > s || mc->idx[i]->end < e ||
	    (mc->idx[i]->access & access) != access)
		return NULL;
	ne = mc->idx[i];
	if (ne->refs++ == 0) {
		fabtx__lru_unlink(mc, ne);
		mc->st.in_use++;
	}
	mc->st.hits++;
	return ne;
}
/* put a new entry (in use) into the index, growing it if need be (under
 * the lock); -ENOMEM: it cannot grow, nothing changed */
static int fabtx__mr_insert(fabtx_mr_cache *mc, fabtx_mr_entry *ne)
{
	uint32_t i;
	if (mc->n == mc->cap) {
		uint32_t nc = mc->cap ? mc->cap * 2 : 16;
		fabtx_mr_entry **ni =
		    (fabtx_mr_entry **)fabtx__alloc(&mc->a, nc * sizeof(*ni));
		if (!ni) return -ENOMEM;
		if (mc->n) memcpy(ni, mc->idx, mc->n * sizeof(*ni));
		fabtx__free(&mc->a, mc->idx);
		mc->idx = ni;
		mc->cap = nc;
	}
	i = fabtx__mr_lower(mc, ne->start);
	memmove(&mc->idx[i + 1], &mc->idx[i], (mc->n - i) * sizeof(*mc->idx));
	mc->idx[i] = ne;
	mc->n++;
	mc->st.entries++;
	mc->st.bytes += ne->end - ne->start;
	mc->st.in_use++;
	return 0;
}

FABTX__DEF int fabtx_mr_get(fabtx_mr_cache *mc, const void *addr, size_t len,
                            unsigned access, fabtx_mr_entry **out)
{
	uintptr_t s, e;
	uint32_t i;
	fabtx_mr_entry *ne, *dead = NULL;
	int rc;
	if (!mc || !out || !len || (uintptr_t)addr + len < (uintptr_t)addr)
		return -EINVAL;
	s = (uintptr_t)addr & ~(mc->page - 1);
	e = ((uintptr_t)addr + len + mc->page - 1) & ~(mc->page - 1);
	pthread_mutex_lock(&mc->lock);
	ne = fabtx__mr_lookup(mc, s, e, access);
	if (!ne) mc->st.misses++;
	pthread_mutex_unlock(&mc->lock);
	if (ne) {
		*out = ne;
		return 0;
	}

	/* register outside the lock, then re-check the index */
	ne = (fabtx_mr_entry *)fabtx__zalloc(&mc->a, sizeof *ne);
	if (!ne) return -ENOMEM;
	ne->start = s;
	ne->end = e;
	ne->access = access;
	ne->refs = 1;
	rc = mc->ops.reg(mc->ops.user, (void *)s, e - s, access, &ne->reg);
	if (rc < 0) {
		fabtx__free(&mc->a, ne);
		return rc;
	}
	pthread_mutex_lock(&mc->lock);
	/* overlapping entries are uncached, not merged */
	i = fabtx__mr_lower(mc, s);
	while (i < mc->n && mc->idx[i]->start < e)
		fabtx__mr_detach(mc, i, &dead);
	/* full of entries in use: hand out an uncached registration */
	if (mc->st.in_use >= mc->max_count ||
	    mc->st.bytes + (e - s) > mc->max_bytes) {
		fabtx__mr_evict(mc, &dead);
	}
	if (mc->st.in_use >= mc->max_count) {
		ne->state = FABTX__MR_UNCACHED;
		mc->st.uncached++;
	} else if (fabtx__mr_insert(mc, ne) < 0) {
		pthread_mutex_unlock(&mc->lock);
		fabtx__mr_reap(mc, dead);
		mc->ops.dereg(mc->ops.user, &ne->reg);
		fabtx__free(&mc->a, ne);
		return -ENOMEM;
	} else {
		fabtx__mr_evict(mc, &dead);
	}
	pthread_mutex_unlock(&mc->lock);
	fabtx__mr_reap(mc, dead);
	*out = ne;
	return 0;
}

FABTX__DEF const fabtx_mr_reg *fabtx_mr_entry_reg(const fabtx_mr_entry *e)
{
	return &e->reg;
}

FABTX__DEF void fabtx_mr_put(fabtx_mr_cache *mc, fabtx_mr_entry *e)
{
	fabtx_mr_entry *dead = NULL;
	if (!mc || !e) return;
	pthread_mutex_lock(&mc->lock);
	FABTX_ASSERT(e->refs > 0);
	if (--e->refs == 0) {
		if (e->state == FABTX__MR_CACHED) {
			mc->st.in_use--;
			fabtx__lru_push(mc, e);
			fabtx__mr_evict(mc, &dead);
		} else {
			e->dead_next = NULL;
			dead = e;
		}
	}
	pthread_mutex_unlock(&mc->lock);
	fabtx__mr_reap(mc, dead);
}

FABTX__DEF int fabtx_mr_invalidate(fabtx_mr_cache *mc, const void *addr,
                                   size_t len)
{
	uintptr_t s = (uintptr_t)addr, e = (uintptr_t)addr + len;
	uint32_t i;
	int n = 0;
	fabtx_mr_entry *dead = NULL;
	if (!mc || e < s) return -EINVAL;
	pthread_mutex_lock(&mc->lock);
	i = fabtx__mr_lower(mc, s);
	while (i < mc->n && mc->idx[i]->start < e) {
		fabtx__mr_detach(mc, i, &dead);
		mc->st.invalidations++;
		n++;
	}
	pthread_mutex_unlock(&mc->lock);
	fabtx__mr_reap(mc, dead);
	return n;
}

FABTX__DEF void fabtx_mr_cache_stats_get(fabtx_mr_cache *mc,
                                         fabtx_mr_cache_stats *st)
{
	pthread_mutex_lock(&mc->lock);
	*st = mc->st;
	pthread_mutex_unlock(&mc->lock);
}

FABTX__DEF int fabtx_mr_cache_destroy(fabtx_mr_cache *mc)
{
	fabtx_mr_entry *dead = NULL;
	if (!mc) return 0;
	pthread_mutex_lock(&mc->lock);
	if (mc->st.in_use) {
		pthread_mutex_unlock(&mc->lock);
		return -EBUSY;
	}
	while (mc->n)
		fabtx__mr_detach(mc, mc->n - 1, &dead);
	pthread_mutex_unlock(&mc->lock);
	fabtx__mr_reap(mc, dead);
	pthread_mutex_destroy(&mc->lock);
	fabtx__free(&mc->a, mc->idx);
	{
		fabtx_allocator a = mc->a;
		fabtx__free(&a, mc);
	}
	return 0;
}

/* ========================================================== URL helpers */
FABTX__DEF int fabtx_url_hostport(const char *addr, char *host, size_t hostcap,
                                  char *port, size_t portcap,
                                  const char **query)
{
	const char *p = addr, *hs, *he, *ps, *pe;
	size_t i;
	if (!addr || !host || !port || !hostcap || !portcap) return -EINVAL;
	if (*p == '[') {
		hs = ++p;
		while (*p && *p != ']')
			p++;
		if (*p != ']' || p == hs) return -EINVAL;
		he = p++;
	} else {
		hs = p;
		while (*p && *p != ':' && *p != '?' && *p != '@' && *p != '/')
			p++;
		he = p;
		if (he == hs) return -EINVAL;
	}
	if (*p != ':') return -EINVAL;
	ps = ++p;
	while (*p >= '0' && *p <= '9')
		p++;
	pe = p;
	if (pe == ps || pe - ps > 5) return -EINVAL;
	if (*p && *p != '?' && *p != '@') return -EINVAL;
	if ((size_t)(he - hs) >= hostcap || (size_t)(pe - ps) >= portcap)
		return -ENAMETOOLONG;
	for (i = 0; hs + i < he; i++) {
		char ch = hs[i];
		if (ch <= ' ' || ch == '[' || ch == ']' || ch == '/' ||
		    ch == '\\' || (unsigned char)ch >= 127)
			return -EINVAL;
	}
	memcpy(host, hs, (size_t)(he - hs));
	host[he - hs] = 0;
	memcpy(port, ps, (size_t)(pe - ps));
	port[pe - ps] = 0;
	if (atoi(port) > 65535) return -EINVAL;
	if (query) *query = *p ? p : NULL;
	return 0;
}

FABTX__DEF int fabtx_url_query(const char *query, const char *key, char *val,
                               size_t cap)
{
	size_t kl;
	const char *p;
	if (!query || !key || !val || !cap) return -ENOENT;
	kl = strlen(key);
	p = (*query == '?') ? query + 1 : query;
	while (*p) {
		const char *e = strchr(p, '&');
		size_t n = e ? (size_t)(e - p) : strlen(p);
		if (n > kl && strncmp(p, key, kl) == 0 && p[kl] == '=') {
			size_t vl = n - kl - 1;
			if (vl >= cap) return -ENAMETOOLONG;
			memcpy(val, p + kl + 1, vl);
			val[vl] = 0;
			return (int)vl;
		}
		if (!e) break;
		p = e + 1;
	}
	return -ENOENT;
}

/* ================================================================= ctx */
struct fabtx_ctx {
	fabtx_ctx_config cfg;
	fabtx_allocator a;
	const fabtx_backend *be[FABTX_MAX_BACKENDS];
	void *bstate[FABTX_MAX_BACKENDS];
	int nbe;
	pthread_mutex_t lock;
	fabtx_db_alloc *db;
	uint8_t slot_used[FABTX__DB_MAXSLOT];
	uint64_t nonce;
	int log_level;
};

enum { FABTX__ST_NEW = 0, FABTX__ST_OPEN = 1, FABTX__ST_CLOSING = 2 };

FABTX__DEF void fabtx_log(fabtx_ctx *ctx, fabtx_log_level lvl, const char *fmt,
                          ...)
{
	char buf[512];
	va_list ap;
	int lim = ctx ? ctx->log_level : FABTX_LOG_WARN;
	if ((int)lvl > lim) return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	if (ctx && ctx->cfg.logger.func) {
		ctx->cfg.logger.func(lvl, buf, ctx->cfg.logger.user);
		return;
	}
#ifndef FABTX_NO_STDIO
	fprintf(stderr, "fabtx: %s\n", buf);
#endif
}

FABTX__DEF fabtx_ctx_config fabtx_ctx_config_init(void)
{
	fabtx_ctx_config c;
	memset(&c, 0, sizeof c);
	return c;
}

FABTX__DEF int fabtx_ctx_spin_us(const fabtx_ctx *ctx)
{
	return ctx->cfg.spin_us;
}

FABTX__DEF int fabtx_ctx_handshake_ms(const fabtx_ctx *ctx)
{
	return ctx->cfg.handshake_ms > 0 ? ctx->cfg.handshake_ms : 5000;
}

FABTX__DEF const fabtx_allocator *fabtx_ctx_allocator(fabtx_ctx *ctx)
{
	return &ctx->a;
}

FABTX__DEF void *fabtx_ctx_zalloc(fabtx_ctx *ctx, size_t size)
{
	return fabtx__zalloc(ctx ? &ctx->a : NULL, size);
}

FABTX__DEF void fabtx_ctx_free(fabtx_ctx *ctx, void *p)
{
	fabtx__free(ctx ? &ctx->a : NULL, p);
}

FABTX__DEF void *fabtx_ctx_backend_data(fabtx_ctx *ctx, const fabtx_backend *be)
{
	int i;
	for (i = 0; i < ctx->nbe; i++)
		if (ctx->be[i] == be) return ctx->bstate[i];
	return NULL;
}

FABTX__DEF int fabtx_ctx_create(fabtx_ctx **out, const fabtx_ctx_config *cfg)
{
	fabtx_ctx *ctx;
	fabtx_ctx_config c = cfg ? *cfg : fabtx_ctx_config_init();
	const fabtx_allocator *a = c.allocator.alloc && c.allocator.free
	                               ? &c.allocator
	                               : &fabtx__default_allocator;
	const char *env;
	int rc;
	if (!out) return -EINVAL;
	*out = NULL;
	if (!c.cell_size && (env = getenv("FABTX_CELL_SIZE")) != NULL)
		c.cell_size = (uint32_t)atoi(env);
	if (!c.cell_count && (env = getenv("FABTX_CELL_COUNT")) != NULL)
		c.cell_count = (uint32_t)atoi(env);
	if (!c.cell_size) c.cell_size = 8192;
	if (!c.cell_count) c.cell_count = 256;
	if (!c.max_msg) c.max_msg = 1ull << 30;
	if (fabtx_ring_geometry_ok(c.cell_count, c.cell_size) < 0)
		return -EINVAL;
	if (c.max_msg > (1ull << 40)) return -EINVAL;
	if (!c.spin_us && (env = getenv("FABTX_SPIN_US")) != NULL)
		c.spin_us = atoi(env);
	if (c.spin_us < 0) c.spin_us = 0;
	if (!c.keepalive_ms) c.keepalive_ms = 1000;
	if (!c.keepalive_timeout_ms) c.keepalive_timeout_ms = 10000;
	if (!c.zc_max_held || c.zc_max_held > c.cell_count / 2)
		c.zc_max_held = c.cell_count / 2;
	if (!c.quarantine_ms) c.quarantine_ms = 100;
	if (!c.zc_send_min && (env = getenv("FABTX_ZC_SEND_MIN")) != NULL)
		c.zc_send_min = strtoull(env, NULL, 10);
	if (c.quarantine_ms < 0) c.quarantine_ms = 0;
	if (c.handshake_ms <= 0) c.handshake_ms = 5000;
	ctx = (fabtx_ctx *)fabtx__zalloc(a, sizeof *ctx);
	if (!ctx) return -ENOMEM;
	ctx->cfg = c;
	ctx->a = *a;
	ctx->log_level = c.logger.level ? c.logger.level : FABTX_LOG_WARN;
	if ((env = getenv("FABTX_LOG")) != NULL) ctx->log_level = atoi(env);
	rc = fabtx_db_alloc_create(&ctx->db, &ctx->a);
	if (rc < 0) {
		fabtx__free(&ctx->a, ctx);
		return rc;
	}
	pthread_mutex_init(&ctx->lock, NULL);
	ctx->nonce = fabtx_now_ns() ^ ((uint64_t)getpid() << 32) ^
	             (uint64_t)(uintptr_t)ctx;
#ifndef FABTX_NO_SHM
	rc = fabtx_ctx_add_backend(ctx, fabtx_shm_backend());
	if (rc < 0) {
		fabtx_ctx_destroy(ctx);
		return rc;
	}
#endif
	*out = ctx;
	return 0;
}

FABTX__DEF void fabtx_ctx_destroy(fabtx_ctx *ctx)
{
	int i;
	fabtx_allocator a;
	if (!ctx) return;
	for (i = 0; i < ctx->nbe; i++)
		if (ctx->be[i]->setup.ctx_fini)
			ctx->be[i]->setup.ctx_fini(ctx, ctx->bstate[i]);
	fabtx_db_alloc_destroy(ctx->db);
	pthread_mutex_destroy(&ctx->lock);
	a = ctx->a;
	fabtx__free(&a, ctx);
}

FABTX__DEF int fabtx_ctx_add_backend(fabtx_ctx *ctx, const fabtx_backend *be)
{
	int i, rc;
	void *st = NULL;
	/* the required members (BACKEND API) */
	if (!ctx || !be || !be->scheme || !be->setup.connect ||
	    !be->setup.ctrl_send || !be->setup.ctrl_recv ||
	    !be->setup.win_open || !be->setup.win_import || !be->wait.fd ||
	    !be->wait.arm || !be->setup.disconnect)
		return -EINVAL;
	if (!(be->caps & FABTX_BCAP_DIRECT) && !be->data.write) return -EINVAL;
	for (i = 0; i < ctx->nbe; i++)
		if (strcmp(ctx->be[i]->scheme, be->scheme) == 0) return -EEXIST;
	if (ctx->nbe == FABTX_MAX_BACKENDS) return -ENOSPC;
	if (be->setup.ctx_init && (rc = be->setup.ctx_init(ctx, &st)) < 0)
		return rc;
	ctx->be[ctx->nbe] = be;
	ctx->bstate[ctx->nbe] = st;
	ctx->nbe++;
	return 0;
}

/* "scheme://rest": find the backend, return rest */
static int fabtx__resolve(fabtx_ctx *ctx, const char *url,
                          const fabtx_backend **be, const char **rest)
{
	const char *p;
	size_t n;
	int i;
	if (!url) return -EINVAL;
	p = strstr(url, "://");
	if (!p || p == url || strlen(url) >= 128) return -EINVAL;
	n = (size_t)(p - url);
	for (i = 0; i < ctx->nbe; i++) {
		if (strlen(ctx->be[i]->scheme) == n &&
		    strncmp(ctx->be[i]->scheme, url, n) == 0) {
			*be = ctx->be[i];
			*rest = p + 3;
			return 0;
		}
	}
	fabtx_log(ctx, FABTX_LOG_INFO, "no backend for URL scheme of '%s'",
	          url);
	return -EPROTONOSUPPORT;
}

/* ========================================================== handshake */
#define FABTX__HS_LEN 96u
#define FABTX__MAGIC 0x58544246u /* "FBTX" */
enum {
	FABTX__MSG_REQ = 1,
	FABTX__MSG_RESP = 2,
	FABTX__MSG_PING = 3,
	FABTX__MSG_RESET = 4
};
enum {
	FABTX__HS_OK = 0,
	FABTX__HS_VERSION = 1,
	FABTX__HS_DB_EXHAUSTED = 2,
	FABTX__HS_RING_EXHAUSTED = 3,
	FABTX__HS_NOMEM = 4,
	FABTX__HS_INVALID = 5
};

typedef struct fabtx__hs {
	uint16_t major, minor;
	uint32_t type, status, caps;
	uint64_t nonce;
	uint32_t cell_size, cell_count;
	uint64_t max_msg, win_addr, win_len, rkey;
	uint16_t db_base, db_count;
	uint32_t flags;
} fabtx__hs;

static void fabtx__hs_pack(const fabtx__hs *h, uint8_t *b)
{
	memset(b, 0, FABTX__HS_LEN);
	fabtx__put32(b + 0, FABTX__MAGIC);
	fabtx__put16(b + 4, h->major);
	fabtx__put16(b + 6, h->minor);
	fabtx__put32(b + 8, FABTX__HS_LEN);
	fabtx__put32(b + 12, h->type);
	fabtx__put32(b + 16, h->status);
	fabtx__put32(b + 20, h->caps);
	fabtx__put64(b + 24, h->nonce);
	fabtx__put32(b + 32, h->cell_size);
	fabtx__put32(b + 36, h->cell_count);
	fabtx__put64(b + 40, h->max_msg);
	fabtx__put64(b + 48, h->win_addr);
	fabtx__put64(b + 56, h->win_len);
	fabtx__put64(b + 64, h->rkey);
	fabtx__put16(b + 72, h->db_base);
	fabtx__put16(b + 74, h->db_count);
	fabtx__put32(b + 76, h->flags);
	fabtx__put32(b + 92, fabtx__crc32c(b, 92));
}

/* parse the envelope: 0, or -EPROTO (garbage) / -EPROTONOSUPPORT (major) */
static int fabtx__hs_unpack(const uint8_t *b, size_t len, fabtx__hs *h)
{
	if (len != FABTX__HS_LEN || fabtx__get32(b) != FABTX__MAGIC ||
	    fabtx__get32(b + 8) != FABTX__HS_LEN ||
	    fabtx__get32(b + 92) != fabtx__crc32c(b, 92))
		return -EPROTO;
	memset(h, 0, sizeof *h);
	h->major = fabtx__get16(b + 4);
	h->minor = fabtx__get16(b + 6);
	h->type = fabtx__get32(b + 12);
	h->status = fabtx__get32(b + 16);
	h->caps = fabtx__get32(b + 20);
	h->nonce = fabtx__get64(b + 24);
	h->cell_size = fabtx__get32(b + 32);
	h->cell_count = fabtx__get32(b + 36);
	h->max_msg = fabtx__get64(b + 40);
	h->win_addr = fabtx__get64(b + 48);
	h->win_len = fabtx__get64(b + 56);
	h->rkey = fabtx__get64(b + 64);
	h->db_base = fabtx__get16(b + 72);
	h->db_count = fabtx__get16(b + 74);
	h->flags = fabtx__get32(b + 76);
	if (h->major != FABTX_WIRE_MAJOR) return -EPROTONOSUPPORT;
	return 0;
}

static uint64_t fabtx__win_need(uint32_t n, uint32_t c)
{
	return FABTX_WIN_HDR_SIZE + (uint64_t)n * c;
}

/* The staging window of a backend that is not DIRECT: the ring's mirror
 * plus the hot cells (fabtx__stage_cell); DIRECT backends have none. */
static uint64_t fabtx__tx_win_need(const fabtx_backend *be, uint32_t n,
                                   uint32_t c)
{
	if (be->caps & FABTX_BCAP_DIRECT) return 0;
	return fabtx__win_need(n, c) + (uint64_t)FABTX__HOT_CELLS * c;
}

/* Values a peer advertises about its window and doorbell range, for ring
 * geometry (n, c).  0 or -EPROTO. */
static int fabtx__hs_check_peer(const fabtx__hs *h, uint32_t n, uint32_t c,
                                uint32_t db_cells)
{
	if (fabtx_ring_geometry_ok(n, c) < 0) return -EPROTO;
	if (h->win_len < fabtx__win_need(n, c)) return -EPROTO;
	if (h->win_addr + h->win_len < h->win_addr) return -EPROTO;
	if ((uint32_t)h->db_count != 2u * db_cells || db_cells < n)
		return -EPROTO;
	if (h->db_base < FABTX_DB_RESERVED || (h->db_base % h->db_count) ||
	    (uint32_t)h->db_base + h->db_count > FABTX_DB_SPACE)
		return -EPROTO;
	if (!h->max_msg || h->max_msg > (1ull << 40)) return -EPROTO;
	if (h->flags) return -EPROTO; /* unknown flags are rejected */
	return 0;
}

/* Record what a validated handshake message says about the peer: its RX
 * window, its inbound doorbell range, and the connection tag (low 16 bits
 * of the nonce both sides share). */
/* NAME=0 in the environment turns a wire feature off (A/B measurements) */
static int fabtx__env_on(const char *name)
{
	const char *e = getenv(name);
	return !(e && e[0] == '0');
}
/* FABTX_SPAN=0: send no runs */
static int fabtx__span_on(void)
{
	return fabtx__env_on("FABTX_SPAN");
}

static void fabtx__take_peer(fabtx_conn *c, const fabtx__hs *h)
{
	c->peer_win.addr = h->win_addr;
	c->peer_win.len = h->win_len;
	c->peer_win.key = h->rkey;
	c->peer_db.base = h->db_base;
	c->peer_db.count = h->db_count;
	c->conn_tag = (uint16_t)h->nonce;
	c->peer_span = h->minor >= 1 && fabtx__span_on();
	c->peer_imm = h->minor >= 2 && c->be->data.write_imm &&
	              !(c->be->caps & FABTX_BCAP_DIRECT) &&
	              fabtx__env_on("FABTX_IMM");
	c->peer_skip = h->minor >= 2 && fabtx__env_on("FABTX_SKIP");
}

/* The peer's window to the backend (after fabtx__take_peer), and what the
 * backend says it can do towards it. */
static int fabtx__win_import(fabtx_conn *c)
{
	fabtx_win_limits lim;
	int rc;
	memset(&lim, 0, sizeof lim);
	lim.imm_max = UINT32_MAX;
	rc = c->be->setup.win_import(c, &c->peer_win, &lim);
	if (rc < 0) return rc;
	c->peer_base = lim.peer_base;
	c->imm_max = lim.imm_max;
	if (lim.no_span) c->peer_span = 0;
	if (!lim.imm_max) c->peer_imm = 0;
	return 0;
}

static int fabtx__slot_get(fabtx_ctx *ctx)
{
	int i;
	for (i = 1; i < (int)FABTX__DB_MAXSLOT; i++)
		if (!ctx->slot_used[i]) {
			ctx->slot_used[i] = 1;
			return i;
		}
	return -ENOSPC;
}

/* allocate this connection's inbound doorbell range (<= cells, >= 4) */
static int fabtx__db_get(fabtx_conn *c, uint32_t cells)
{
	fabtx_ctx *ctx = c->ctx;
	int rc, slot;
	pthread_mutex_lock(&ctx->lock);
	slot = fabtx__slot_get(ctx);
	if (slot < 0) {
		pthread_mutex_unlock(&ctx->lock);
		return slot;
	}
	rc = fabtx_db_alloc_range(ctx->db, cells, FABTX_MIN_CELLS,
	                          (uint16_t)slot, fabtx_now_ms(), &c->db);
	if (rc < 0)
		ctx->slot_used[slot] = 0;
	else
		c->slot = (uint16_t)slot;
	pthread_mutex_unlock(&ctx->lock);
	return rc;
}

static void fabtx__db_put(fabtx_conn *c, int aborted)
{
	fabtx_ctx *ctx = c->ctx;
	uint32_t q = (uint32_t)ctx->cfg.quarantine_ms * (aborted ? 10u : 1u);
	if (!c->slot) return;
	pthread_mutex_lock(&ctx->lock);
	fabtx_db_free_range(ctx->db, c->db, fabtx_now_ms(), q);
	ctx->slot_used[c->slot] = 0;
	pthread_mutex_unlock(&ctx->lock);
	c->slot = 0;
}

static fabtx_conn *fabtx__conn_new(fabtx_ctx *ctx, const fabtx_backend *be)
{
	fabtx_conn *c = (fabtx_conn *)fabtx__zalloc(&ctx->a, sizeof *c);
	if (!c) return NULL;
	c->ctx = ctx;
	c->be = be;
	c->hs_tfd = -1;
	return c;
}

/* set up rings once geometry, windows and ranges are agreed */
static int fabtx__conn_ready(fabtx_conn *c, uint32_t n, uint32_t cs,
                             uint64_t max_msg)
{
	int rc = fabtx_ring_rx_init(
	    &c->rx, n, cs, (uint8_t *)c->rx_win.base + FABTX_WIN_HDR_SIZE,
	    c->conn_tag, max_msg, &c->ctx->a);
	if (rc < 0) return rc;
	fabtx_ring_tx_init(&c->tx, n, cs, c->conn_tag);
	c->max_msg = max_msg;
	c->state = FABTX__ST_OPEN;
	c->last_rx_ms = fabtx_now_ms();
	c->st.cell_size = cs;
	c->st.cell_count = n;
	c->st.max_msg = max_msg;
	c->st.db_base = c->db.base;
	c->st.db_count = c->db.count;
	c->st.peer_db_base = c->peer_db.base;
	c->st.peer_db_count = c->peer_db.count;
	return 0;
}

static void fabtx__conn_free(fabtx_conn *c, int aborted)
{
	if (c->be && c->bdata) c->be->setup.disconnect(c, !aborted);
	c->peer_base = NULL;
	if (c->hs_tfd >= 0) close(c->hs_tfd);
	fabtx__db_put(c, aborted);
	fabtx_ring_rx_fini(&c->rx, &c->ctx->a);
	fabtx__free(&c->ctx->a, c->pend_buf);
	fabtx__free(&c->ctx->a, c->asm_buf);
	fabtx__free(&c->ctx->a, c);
}

static int fabtx__send_reject(fabtx_conn *c, const fabtx__hs *req,
                              uint32_t status)
{
	fabtx__hs h;
	uint8_t b[FABTX__HS_LEN];
	memset(&h, 0, sizeof h);
	h.major = FABTX_WIRE_MAJOR;
	h.minor = FABTX_WIRE_MINOR;
	h.type = FABTX__MSG_RESP;
	h.status = status;
	h.nonce = req ? req->nonce : 0;
	fabtx__hs_pack(&h, b);
	return c->be->setup.ctrl_send(c, b, sizeof b, 100);
}

/* ---- connection setup, never waiting (fabtx_connect_start / _poll and
 * the listener's handshakes); the blocking calls wait on top of it ---- */
enum {
	FABTX__HSP_NONE = 0,
	FABTX__HSP_TRANSPORT =
	    1,               /* client: the backend's connect in progress */
	FABTX__HSP_SEND = 2, /* client: the request is to be sent        */
	FABTX__HSP_RESP = 3, /* client: waiting for the response         */
	FABTX__HSP_REQ = 4,  /* server: waiting for the client's request */
	FABTX__HSP_DONE = 5, /* server: complete, not yet taken          */
	FABTX__HSP_FAILED = 6
};
/* how often a handshake or listener without a pollable fd is looked at */
#define FABTX__TICK_MS 5
/* A handshake message (96 bytes) goes whole into a fresh control channel
 * at once; a channel that does not take it this soon has failed.  Never
 * 0: a stream-based channel (ofi's bootstrap socket) would be left with
 * half a message. */
#define FABTX__SEND_MS 100

static int fabtx__poll1(int fd, short ev, int ms)
{
	struct pollfd p;
	int rc;
	p.fd = fd;
	p.events = ev;
	p.revents = 0;
	rc = poll(&p, 1, ms);
	return rc < 0 && errno != EINTR ? -errno : rc;
}

static void fabtx__drain_fd(int fd)
{
	uint64_t x;
	ssize_t r = read(fd, &x, sizeof x);
	(void)r; /* our own non-blocking eventfd or timerfd */
}

/* arm timerfd fd to fire every FABTX__TICK_MS */
static int fabtx__tick(int fd)
{
	struct itimerspec it;
	memset(&it, 0, sizeof it);
	it.it_value.tv_nsec = FABTX__TICK_MS * 1000000L;
	it.it_interval = it.it_value;
	return timerfd_settime(fd, 0, &it, NULL) < 0 ? -errno : 0;
}

/* The fd a handshake in flight waits on: the backend's control fd, or a
 * periodic timer of ours where the backend has none. */
static int fabtx__hs_fd(fabtx_conn *c)
{
	int fd = c->be->setup.ctrl_fd ? c->be->setup.ctrl_fd(c) : -1;
	if (fd >= 0) return fd;
	if (c->hs_tfd < 0) {
		int rc;
		c->hs_tfd =
		    timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
		if (c->hs_tfd < 0) return -errno;
		if ((rc = fabtx__tick(c->hs_tfd)) < 0) return rc;
	}
	return c->hs_tfd;
}

/* client: the inbound doorbell range and the windows, then the request */
static int fabtx__connect_setup(fabtx_conn *c)
{
	fabtx_ctx *ctx = c->ctx;
	uint32_t n, cs = ctx->cfg.cell_size;
	int rc, cells = fabtx__db_get(c, ctx->cfg.cell_count);
	if (cells < 0) return cells;
	n = (uint32_t)cells;
	rc = c->be->setup.win_open(c, fabtx__win_need(n, cs),
	                           fabtx__tx_win_need(c->be, n, cs), &c->rx_win,
	                           &c->tx_win);
	if (rc < 0) return rc;
	pthread_mutex_lock(&ctx->lock);
	ctx->nonce =
	    ctx->nonce * 6364136223846793005ull + 1442695040888963407ull;
	c->hs_nonce = ctx->nonce ^ (fabtx_now_ns() << 17);
	pthread_mutex_unlock(&ctx->lock);
	c->hs_phase = FABTX__HSP_SEND;
	return 0;
}

static int fabtx__connect_send(fabtx_conn *c, int wait_ms)
{
	fabtx__hs h;
	uint8_t b[FABTX__HS_LEN];
	int rc;
	memset(&h, 0, sizeof h);
	h.major = FABTX_WIRE_MAJOR;
	h.minor = FABTX_WIRE_MINOR;
	h.type = FABTX__MSG_REQ;
	h.nonce = c->hs_nonce;
	h.cell_size = c->ctx->cfg.cell_size;
	h.cell_count = c->db.count / 2u;
	h.max_msg = c->ctx->cfg.max_msg;
	h.win_addr = c->rx_win.addr;
	h.win_len = c->rx_win.len;
	h.rkey = c->rx_win.key;
	h.db_base = c->db.base;
	h.db_count = c->db.count;
	fabtx__hs_pack(&h, b);
	rc = c->be->setup.ctrl_send(c, b, sizeof b, wait_ms);
	if (rc < 0) return rc == -EAGAIN ? -ETIMEDOUT : rc; /* FABTX__SEND_MS */
	c->hs_phase = FABTX__HSP_RESP;
	return 0;
}

/* client: the server's response */
static int fabtx__connect_resp(fabtx_conn *c, const uint8_t *b, int len)
{
	fabtx_ctx *ctx = c->ctx;
	const char *url = c->url;
	fabtx__hs r;
	int rc = fabtx__hs_unpack(b, (size_t)len, &r);
	if (rc < 0 || r.type != FABTX__MSG_RESP || r.nonce != c->hs_nonce) {
		fabtx_log(ctx, FABTX_LOG_WARN, "%s: bad handshake response",
		          url);
		return rc == -EPROTONOSUPPORT ? rc : -EPROTO;
	}
	if (r.status != FABTX__HS_OK) {
		fabtx_log(ctx, FABTX_LOG_WARN,
		          "%s: peer rejected connection (%u)", url,
		          (unsigned)r.status);
		return r.status == FABTX__HS_DB_EXHAUSTED ? -ENOSPC
		       : r.status == FABTX__HS_VERSION    ? -EPROTONOSUPPORT
		       : r.status == FABTX__HS_NOMEM      ? -ENOMEM
		                                          : -ECONNREFUSED;
	}
	if (r.cell_count > c->db.count / 2u ||
	    r.cell_size > ctx->cfg.cell_size || r.max_msg > ctx->cfg.max_msg ||
	    fabtx__hs_check_peer(&r, r.cell_count, r.cell_size, r.cell_count) <
	        0) {
		fabtx_log(ctx, FABTX_LOG_WARN,
		          "%s: response values out of range", url);
		return -EPROTO;
	}
	fabtx__take_peer(c, &r); /* r echoes our nonce */
	/* map (or name) only what the ring needs, whatever the peer claims */
	c->peer_win.len = fabtx__win_need(r.cell_count, r.cell_size);
	rc = fabtx__win_import(c);
	if (rc < 0) return rc;
	return fabtx__conn_ready(c, r.cell_count, r.cell_size, r.max_msg);
}

/* begin a connection: the backend's connect (blocking only for backends
 * that cannot do otherwise), then the request as far as it goes */
static int fabtx__connect_begin(fabtx_ctx *ctx, const char *url,
                                fabtx_conn **out, uint64_t dl, int send_ms)
{
	const fabtx_backend *be;
	const char *rest;
	fabtx_conn *c;
	int rc;
	if (!ctx || !out) return -EINVAL;
	*out = NULL;
	rc = fabtx__resolve(ctx, url, &be, &rest);
	if (rc < 0) return rc;
	c = fabtx__conn_new(ctx, be);
	if (!c) return -ENOMEM;
	snprintf(c->url, sizeof c->url, "%s", url);
	c->hs_dl = dl;
	c->hs_phase = FABTX__HSP_TRANSPORT;
	if (be->setup.connect_poll)
		rc = be->setup.connect(c, rest, 0);
	else
		rc = be->setup.connect(c, rest, fabtx__remaining_ms(dl));
	if (rc == 0) rc = fabtx__connect_setup(c);
	if (rc == 0) rc = fabtx__connect_send(c, send_ms); /* the request now */
	if (rc == -EINPROGRESS) rc = 0;
	if (rc < 0) {
		fabtx__conn_free(c, 1);
		return rc;
	}
	*out = c;
	return 0;
}

FABTX__DEF int fabtx_connect_start(fabtx_ctx *ctx, const char *url,
                                   fabtx_conn **out)
{
	return fabtx__connect_begin(
	    ctx, url, out, ctx ? fabtx__deadline(ctx->cfg.handshake_ms) : 0,
	    FABTX__SEND_MS);
}

static int fabtx__connect_step(fabtx_conn *c, int wait_ms)
{
	uint8_t b[FABTX__HS_LEN];
	int rc;
	if (c->hs_tfd >= 0) fabtx__drain_fd(c->hs_tfd);
	for (;;) {
		switch (c->hs_phase) {
		case FABTX__HSP_TRANSPORT:
			rc = c->be->setup.connect_poll(c);
			if (rc == 0) rc = fabtx__connect_setup(c);
			break;
		case FABTX__HSP_SEND:
			rc = fabtx__connect_send(c, wait_ms);
			break;
		case FABTX__HSP_RESP:
			rc = c->be->setup.ctrl_recv(c, b, sizeof b, 0);
			if (rc >= 0) rc = fabtx__connect_resp(c, b, rc);
			if (rc == 0) c->hs_phase = FABTX__HSP_NONE;
			return rc;
		default:
			return -EINVAL;
		}
		if (rc < 0) return rc;
	}
}

static int fabtx__connect_poll(fabtx_conn *c, int wait_ms)
{
	int rc;
	if (!c) return -EINVAL;
	if (c->state != FABTX__ST_NEW) return c->err ? c->err : 0;
	if (c->hs_phase == FABTX__HSP_FAILED) return c->err;
	rc = fabtx__connect_step(c, wait_ms);
	if (rc == -EAGAIN && fabtx_now_ns() >= c->hs_dl) rc = -ETIMEDOUT;
	if (rc < 0 && rc != -EAGAIN) {
		fabtx_log(c->ctx, FABTX_LOG_INFO, "%s: connect failed: %s",
		          c->url, fabtx_strerror(rc));
		c->hs_phase = FABTX__HSP_FAILED;
		c->err = rc;
	}
	return rc;
}

FABTX__DEF int fabtx_connect_poll(fabtx_conn *c)
{
	return fabtx__connect_poll(c, FABTX__SEND_MS);
}

FABTX__DEF int fabtx_connect(fabtx_ctx *ctx, const char *url, fabtx_conn **out,
                             int timeout_ms)
{
	uint64_t dl = fabtx__deadline(timeout_ms);
	fabtx_conn *c;
	int rc;
	if (out) *out = NULL; /* also on every error */
	rc = fabtx__connect_begin(ctx, url, &c, dl, fabtx__remaining_ms(dl));
	if (rc < 0) return rc;
	/* forever means as long as the server lives, not past a server that
	 * took the connection and never answers */
	if (timeout_ms < 0) c->hs_dl = fabtx__deadline(ctx->cfg.handshake_ms);
	for (;;) {
		int fd;
		rc = fabtx__connect_poll(c, fabtx__remaining_ms(dl));
		if (rc != -EAGAIN) break;
		fd = fabtx__hs_fd(c);
		if (fd < 0) {
			rc = fd;
			break;
		}
		rc = fabtx__poll1(fd, POLLIN, fabtx__remaining_ms(c->hs_dl));
		if (rc < 0) break;
	}
	if (rc < 0) {
		fabtx__conn_free(c, 1);
		return rc;
	}
	*out = c;
	return 0;
}

static int fabtx__lis_init(fabtx_listener *l);
FABTX__DEF int fabtx_listen(fabtx_ctx *ctx, const char *url,
                            fabtx_listener **out)
{
	const fabtx_backend *be;
	const char *rest;
	fabtx_listener *l;
	int rc;
	if (!ctx || !out) return -EINVAL;
	*out = NULL;
	rc = fabtx__resolve(ctx, url, &be, &rest);
	if (rc < 0) return rc;
	if (!be->setup.listen || !be->setup.accept || !be->setup.listener_close)
		return -ENOSYS;
	l = (fabtx_listener *)fabtx__zalloc(&ctx->a, sizeof *l);
	if (!l) return -ENOMEM;
	l->ctx = ctx;
	l->be = be;
	l->epfd = l->evfd = l->tfd = -1;
	snprintf(l->url, sizeof l->url, "%s", url);
	rc = be->setup.listen(l, rest);
	if (rc < 0) {
		fabtx__free(&ctx->a, l);
		return rc;
	}
	rc = fabtx__lis_init(l);
	if (rc < 0) {
		fabtx_listener_close(l);
		return rc;
	}
	*out = l;
	return 0;
}

FABTX__DEF int fabtx_listener_url(fabtx_listener *l, char *buf, size_t cap)
{
	const fabtx_backend *be;
	size_t n;
	if (!l || !buf || !cap) return -EINVAL;
	be = l->be;
	if (be->setup.listener_addr) {
		size_t sl = strlen(be->scheme);
		int rc;
		if (cap < sl + 4) return -ENOSPC;
		memcpy(buf, be->scheme, sl);
		memcpy(buf + sl, "://", 4);
		rc = be->setup.listener_addr(l, buf + sl + 3, cap - sl - 3);
		if (rc < 0) {
			buf[0] = 0;
			return rc;
		}
		return (int)strlen(buf);
	}
	n = strlen(l->url);
	if (n + 1 > cap) return -ENOSPC;
	memcpy(buf, l->url, n + 1);
	return (int)n;
}

FABTX__DEF int fabtx_listener_fd(fabtx_listener *l)
{
	if (!l) return -EINVAL;
	return l->epfd;
}

FABTX__DEF void fabtx_listener_close(fabtx_listener *l)
{
	int i;
	if (!l) return;
	for (i = 0; i < l->nhs; i++)
		fabtx__conn_free(l->hs[i], 1);
	l->be->setup.listener_close(l);
	if (l->epfd >= 0) close(l->epfd);
	if (l->evfd >= 0) close(l->evfd);
	if (l->tfd >= 0) close(l->tfd);
	fabtx__free(&l->ctx->a, l);
}

/* server half of the handshake: the client's request b (len bytes) */
static int fabtx__accept_req(fabtx_conn *c, const uint8_t *b0, int len)
{
	fabtx_ctx *ctx = c->ctx;
	const fabtx_backend *be = c->be;
	uint8_t b[FABTX__HS_LEN];
	fabtx__hs q, r;
	uint32_t n, cs;
	uint64_t mm;
	int rc, cells;
	rc = fabtx__hs_unpack(b0, (size_t)len, &q);
	if (rc == -EPROTONOSUPPORT) {
		fabtx__send_reject(c, &q, FABTX__HS_VERSION);
		return -EPROTONOSUPPORT;
	}
	if (rc < 0 || q.type != FABTX__MSG_REQ ||
	    fabtx__hs_check_peer(&q, q.cell_count, q.cell_size, q.cell_count) <
	        0) {
		fabtx_log(ctx, FABTX_LOG_WARN,
		          "rejecting connection: invalid handshake request");
		fabtx__send_reject(c, rc < 0 ? NULL : &q, FABTX__HS_INVALID);
		return -EPROTO;
	}
	n = q.cell_count < ctx->cfg.cell_count ? q.cell_count
	                                       : ctx->cfg.cell_count;
	cs =
	    q.cell_size < ctx->cfg.cell_size ? q.cell_size : ctx->cfg.cell_size;
	mm = q.max_msg < ctx->cfg.max_msg ? q.max_msg : ctx->cfg.max_msg;
	cells = fabtx__db_get(c, n);
	if (cells < 0) {
		fabtx_log(ctx, FABTX_LOG_WARN, "rejecting connection: %s",
		          fabtx_strerror(cells));
		fabtx__send_reject(c, &q, FABTX__HS_DB_EXHAUSTED);
		return cells;
	}
	n = (uint32_t)cells;
	rc = be->setup.win_open(c, fabtx__win_need(n, cs),
	                        fabtx__tx_win_need(be, n, cs), &c->rx_win,
	                        &c->tx_win);
	if (rc < 0) {
		fabtx__send_reject(c, &q, FABTX__HS_NOMEM);
		return rc;
	}
	fabtx__take_peer(c, &q);
	/* map (or name) only what the ring needs, whatever the peer claims */
	c->peer_win.len = fabtx__win_need(n, cs);
	memset(&r, 0, sizeof r);
	r.major = FABTX_WIRE_MAJOR;
	r.minor = FABTX_WIRE_MINOR;
	r.type = FABTX__MSG_RESP;
	r.status = FABTX__HS_OK;
	r.nonce = q.nonce;
	r.cell_size = cs;
	r.cell_count = n;
	r.max_msg = mm;
	r.win_addr = c->rx_win.addr;
	r.win_len = c->rx_win.len;
	r.rkey = c->rx_win.key;
	r.db_base = c->db.base;
	r.db_count = c->db.count;
	/* the peer's window must really be there before we say yes */
	rc = fabtx__win_import(c);
	if (rc < 0) {
		fabtx_log(ctx, FABTX_LOG_WARN,
		          "rejecting connection: peer window unusable (%s)",
		          fabtx_strerror(rc));
		fabtx__send_reject(c, &q, FABTX__HS_INVALID);
		return -EPROTO;
	}
	fabtx__hs_pack(&r, b);
	rc = be->setup.ctrl_send(c, b, sizeof b, FABTX__SEND_MS);
	if (rc < 0) return rc == -EAGAIN ? -ETIMEDOUT : rc;
	return fabtx__conn_ready(c, n, cs, mm);
}

/* one look at a client's handshake: 0 complete, -EAGAIN not yet */
static int fabtx__accept_step(fabtx_conn *c)
{
	uint8_t b[FABTX__HS_LEN];
	int rc;
	if (c->hs_tfd >= 0) fabtx__drain_fd(c->hs_tfd);
	rc = c->be->setup.ctrl_recv(c, b, sizeof b, 0);
	if (rc == -EAGAIN)
		return fabtx_now_ns() >= c->hs_dl ? -ETIMEDOUT : -EAGAIN;
	if (rc < 0) return rc;
	return fabtx__accept_req(c, b, rc);
}

static int fabtx__lis_watch(fabtx_listener *l, int fd)
{
	struct epoll_event ev;
	memset(&ev, 0, sizeof ev);
	ev.events = EPOLLIN;
	ev.data.fd = fd;
	return epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ev) < 0 ? -errno : 0;
}

/* the listener's own fds: the set, the ready signal, the timer */
static int fabtx__lis_init(fabtx_listener *l)
{
	int fd = l->be->setup.listener_fd ? l->be->setup.listener_fd(l) : -1,
	    rc;
	l->epfd = epoll_create1(EPOLL_CLOEXEC);
	l->evfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	l->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (l->epfd < 0 || l->evfd < 0 || l->tfd < 0) return -errno;
	if ((rc = fabtx__lis_watch(l, l->evfd)) < 0 ||
	    (rc = fabtx__lis_watch(l, l->tfd)) < 0)
		return rc;
	if (fd >= 0) return fabtx__lis_watch(l, fd);
	return fabtx__tick(l->tfd); /* no pollable source: look on a timer */
}

/* take handshake i out of the table (and its fd out of the set) */
static fabtx_conn *fabtx__lis_take(fabtx_listener *l, int i)
{
	fabtx_conn *c = l->hs[i];
	if (l->hsfd[i] >= 0)
		epoll_ctl(l->epfd, EPOLL_CTL_DEL, l->hsfd[i], NULL);
	memmove(&l->hs[i], &l->hs[i + 1],
	        (size_t)(l->nhs - i - 1) * sizeof l->hs[0]);
	memmove(&l->hsfd[i], &l->hsfd[i + 1],
	        (size_t)(l->nhs - i - 1) * sizeof l->hsfd[0]);
	l->nhs--;
	return c;
}

/* A handshake failed.  The client's fault (silence, garbage, a reset) is
 * reported as -ECONNABORTED; what failed here (-ENOSPC: no doorbell
 * range, -ENOMEM, ...) as itself. */
static void fabtx__lis_drop(fabtx_listener *l, fabtx_conn *c, int rc)
{
	fabtx_log(l->ctx, FABTX_LOG_INFO, "%s: a client's handshake failed: %s",
	          l->url, fabtx_strerror(rc));
	fabtx__conn_free(c, 1);
	if (rc == -ETIMEDOUT || rc == -EPROTO || rc == -ECONNRESET ||
	    rc == -EPROTONOSUPPORT || rc == -EPIPE || rc == -ENOTCONN)
		l->aborted++;
	else
		l->lerr = rc;
}

/* the ready signal (a connection to take, or a failure to report) and
 * the timer (the earliest handshake deadline; a backend without a
 * listener fd is looked at every tick anyway) */
static void fabtx__lis_signal(fabtx_listener *l)
{
	uint64_t next = UINT64_MAX;
	int i, ready = l->aborted || l->lerr;
	for (i = 0; i < l->nhs; i++) {
		if (l->hs[i]->hs_phase == FABTX__HSP_DONE)
			ready = 1;
		else if (l->hs[i]->hs_dl < next)
			next = l->hs[i]->hs_dl;
	}
	if (ready && !l->signalled) {
		uint64_t one = 1;
		ssize_t r = write(l->evfd, &one, sizeof one);
		(void)r;
		l->signalled = 1;
	} else if (!ready && l->signalled) {
		fabtx__drain_fd(l->evfd);
		l->signalled = 0;
	}
	if (l->be->setup.listener_fd && l->be->setup.listener_fd(l) >= 0) {
		struct itimerspec it;
		memset(&it, 0, sizeof it);
		if (next != UINT64_MAX) {
			next += 1000000u; /* just past it */
			it.it_value.tv_sec = (time_t)(next / 1000000000u);
			it.it_value.tv_nsec = (long)(next % 1000000000u);
		}
		timerfd_settime(l->tfd, TFD_TIMER_ABSTIME, &it, NULL);
	}
}

/* make room for a new client: the oldest unfinished handshake goes */
static int fabtx__lis_evict(fabtx_listener *l)
{
	int i;
	for (i = 0; i < l->nhs; i++)
		if (l->hs[i]->hs_phase == FABTX__HSP_REQ) {
			fabtx_log(
			    l->ctx, FABTX_LOG_WARN,
			    "%s: %d handshakes in flight: dropping the oldest",
			    l->url, l->nhs);
			fabtx__lis_drop(l, fabtx__lis_take(l, i), -ETIMEDOUT);
			return 1;
		}
	return 0; /* all complete, waiting to be taken */
}

/* Everything the listener can do without waiting: drive the handshakes
 * in flight (and expire them), take in new clients. */
static void fabtx__lis_step(fabtx_listener *l)
{
	int i, k, rc;
	fabtx__drain_fd(l->tfd);
	for (i = 0; i < l->nhs; i++) {
		fabtx_conn *c = l->hs[i];
		if (c->hs_phase != FABTX__HSP_REQ) continue;
		rc = fabtx__accept_step(c);
		if (rc == 0) {
			c->hs_phase =
			    FABTX__HSP_DONE; /* its fd is the user's now */
			if (l->hsfd[i] >= 0)
				epoll_ctl(l->epfd, EPOLL_CTL_DEL, l->hsfd[i],
				          NULL);
			l->hsfd[i] = -1;
		} else if (rc != -EAGAIN) {
			fabtx__lis_drop(l, fabtx__lis_take(l, i--), rc);
		}
	}
	for (k = 0; k < 16; k++) { /* a bounded batch of new clients */
		fabtx_conn *c;
		int fd;
		if (l->nhs == FABTX_MAX_HANDSHAKES && !fabtx__lis_evict(l))
			break;
		c = fabtx__conn_new(l->ctx, l->be);
		if (!c) {
			l->lerr = -ENOMEM;
			break;
		}
		rc = l->be->setup.accept(l, c, 0);
		if (rc < 0) {
			fabtx__free(&l->ctx->a, c);
			if (rc != -EAGAIN && rc != -ETIMEDOUT) l->lerr = rc;
			break;
		}
		snprintf(c->url, sizeof c->url, "%s", l->url);
		c->hs_phase = FABTX__HSP_REQ;
		c->hs_dl = fabtx__deadline(l->ctx->cfg.handshake_ms);
		rc =
		    fabtx__accept_step(c); /* its request may be here already */
		fd = -1;
		if (rc == -EAGAIN) {
			fd = fabtx__hs_fd(c);
			rc = fd < 0 ? fd : fabtx__lis_watch(l, fd);
			if (rc == 0)
				rc = -EAGAIN;
			else
				fd = -1;
		}
		if (rc == 0)
			c->hs_phase = FABTX__HSP_DONE;
		else if (rc != -EAGAIN) {
			fabtx__lis_drop(l, c, rc);
			continue;
		}
		l->hs[l->nhs] = c;
		l->hsfd[l->nhs++] = fd;
	}
	fabtx__lis_signal(l);
}

FABTX__DEF int fabtx_accept(fabtx_listener *l, fabtx_conn **out, int timeout_ms)
{
	uint64_t dl = fabtx__deadline(timeout_ms);
	int i, rc, ms;
	if (!l || !out) return -EINVAL;
	*out = NULL;
	for (;;) {
		fabtx__lis_step(l);
		for (i = 0; i < l->nhs; i++)
			if (l->hs[i]->hs_phase == FABTX__HSP_DONE) {
				fabtx_conn *c = fabtx__lis_take(l, i);
				c->hs_phase = FABTX__HSP_NONE;
				fabtx__lis_signal(l);
				*out = c;
				return 0;
			}
		rc = 0;
		if (l->lerr) {
			rc = l->lerr;
			l->lerr = 0;
		} else if (l->aborted) {
			l->aborted--;
			rc = -ECONNABORTED;
		}
		if (rc) {
			fabtx__lis_signal(l);
			return rc;
		}
		ms = fabtx__remaining_ms(dl);
		if (ms == 0) return timeout_ms ? -ETIMEDOUT : -EAGAIN;
		rc = fabtx__poll1(l->epfd, POLLIN, ms);
		if (rc < 0) return rc;
	}
}

/* ========================================================== data path */
static fabtx_win_hdr *fabtx__my_hdr(fabtx_conn *c)
{
	return (fabtx_win_hdr *)c->rx_win.base;
}

FABTX__DEF void fabtx_conn_write_dropped(fabtx_conn *c)
{
	c->tx_dropped = 1;
}

FABTX__DEF void fabtx_conn_fail(fabtx_conn *c, int err)
{
	if (!c->err) {
		c->err = err < 0 ? err : -ECONNRESET;
		fabtx_log(c->ctx, FABTX_LOG_INFO, "%s: connection failed: %s",
		          c->url, fabtx_strerror(c->err));
	}
}

static void fabtx__credit_in(fabtx_conn *c, int rc)
{
	if (rc > 0) {
		c->credit_event = 1;
		c->last_rx_ms = 0; /* a sign of life; the slow path stamps it */
	} else if (rc < 0) {
		fabtx_conn_fail(c, -EPROTO);
	}
}

/* header credit word written by the peer */
static void fabtx__credit_refresh(fabtx_conn *c)
{
	uint64_t v = fabtx__load_acq64(&fabtx__my_hdr(c)->credit);
	if (v != c->seen_credit) {
		c->seen_credit = v;
		fabtx__credit_in(c, fabtx_ring_tx_credit(&c->tx, v));
	}
}

FABTX__DEF void fabtx_conn_doorbell_in(fabtx_conn *c, uint32_t v)
{
	uint32_t n = c->rx.n, off;
	c->st.doorbells_recv++;
	if (v < FABTX_DB_RESERVED && v != FABTX_DB_NONE) return; /* control */
	off = v - c->db.base;
	if (v < c->db.base || off >= 2u * n) {
		c->st.doorbells_spurious++;
		return;
	}
	if (off < n) { /* data hint: cells up to this index are visible */
		uint64_t s =
		    c->rx.seq + ((off - c->rx.seq) & (uint64_t)(n - 1)) + 1;
		if (s > c->rx.hint) c->rx.hint = s;
	} else {
		/* A credit doorbell only says "look at the credit word": decoding
		 * its index against peer_ack is ambiguous once the word or a
		 * footer ack has moved peer_ack past the position it reports (an
		 * old index would alias up to N-1 cells ahead).  The absolute word
		 * arrives with the doorbell, so read that. */
		fabtx__credit_refresh(c);
	}
}

static void fabtx__data_in(fabtx_conn *c, uint64_t pos)
{
	if (pos > c->rx.hint && pos <= c->rx.seq + c->rx.n) c->rx.hint = pos;
}

FABTX__DEF void fabtx_conn_data_in(fabtx_conn *c, uint64_t pos)
{
	c->st.doorbells_recv++;
	fabtx__data_in(c, pos);
}

FABTX__DEF void fabtx_conn_credit_in(fabtx_conn *c, uint64_t pos)
{
	c->st.doorbells_recv++;
	/* the word is at least as new as the notification */
	(void)pos;
	fabtx__credit_refresh(c);
}

FABTX__DEF void fabtx_conn_spurious(fabtx_conn *c)
{
	c->st.doorbells_spurious++;
}

/* the footers' walk of fabtx_conn_rx_scan; *last: where the last chunk it
 * took begins (the start, if none) */
static uint64_t fabtx__rx_scan(fabtx_conn *c, uint64_t *last)
{
	const fabtx_ring_rx *r = &c->rx;
	uint64_t s, end;
	*last = 0;
	if (!r->n || !r->cells) return 0;
	s = r->hint > r->seq ? r->hint : r->seq;
	*last = s;
	end = r->seq + r->n - 1;
	while (s < end) {
		const fabtx_footer *f =
		    fabtx__footer_at(r->cells, r->c, s & (r->n - 1));
		uint32_t cells;
		if (fabtx__load_acq64(&f->seq) != s) break;
		/* a SPAN footer stands for its whole run (no footers inside) */
		cells =
		    fabtx_ring_chunk_cells(fabtx__load_relaxed(&f->flags),
		                           fabtx__load_relaxed(&f->len), r->c);
		if (s + cells > end) break;
		*last = s;
		s += cells;
	}
	return s;
}

FABTX__DEF uint64_t fabtx_conn_rx_scan(fabtx_conn *c)
{
	uint64_t last;
	return fabtx__rx_scan(c, &last);
}

FABTX__DEF uint64_t fabtx_conn_rx_scan_died(fabtx_conn *c)
{
	uint64_t last;
	(void)fabtx__rx_scan(c, &last);
	return last;
}

FABTX__DEF uint32_t fabtx_conn_cells(const fabtx_conn *c)
{
	return c->rx.n;
}
FABTX__DEF uint32_t fabtx_conn_cell_size(const fabtx_conn *c)
{
	return c->rx.c;
}
FABTX__DEF uint64_t fabtx_conn_rx_pos(const fabtx_conn *c)
{
	return c->rx.seq;
}
FABTX__DEF uint64_t fabtx_conn_rx_visible(const fabtx_conn *c)
{
	return c->rx.hint;
}
FABTX__DEF uint64_t fabtx_conn_rx_limit(const fabtx_conn *c)
{
	return c->rx.n ? c->rx.rel + c->rx.n : 0;
}
FABTX__DEF uint64_t fabtx_conn_tx_pos(const fabtx_conn *c)
{
	return c->tx.seq;
}
FABTX__DEF int fabtx_conn_fin_seen(const fabtx_conn *c)
{
	return c->fin_recv;
}
FABTX__DEF fabtx_db_range fabtx_conn_db(const fabtx_conn *c)
{
	return c->db;
}
FABTX__DEF fabtx_db_range fabtx_conn_peer_db(const fabtx_conn *c)
{
	return c->peer_db;
}
FABTX__DEF uint32_t fabtx_conn_db_value(const fabtx_conn *c, fabtx_db_kind kind,
                                        uint64_t pos)
{
	uint32_t n = c->tx.n;
	if (kind == FABTX_DB_KIND_CREDIT)
		return (uint32_t)c->peer_db.base + n +
		       (uint32_t)(pos & (n - 1));
	return (uint32_t)c->peer_db.base + (uint32_t)((pos - 1) & (n - 1));
}
FABTX__DEF uint64_t fabtx_conn_setup_deadline_ms(const fabtx_conn *c)
{
	return c->hs_dl && c->hs_dl != UINT64_MAX ? c->hs_dl / 1000000u + 1 : 0;
}

FABTX__DEF unsigned fabtx_conn_arm_events(const fabtx_conn *c)
{
	return c->arm_ev ? c->arm_ev : FABTX_POLLIN | FABTX_POLLOUT;
}

FABTX__DEF int fabtx_conn_chunk_in(fabtx_conn *c, uint64_t pos, uint32_t len,
                                   uint16_t flags)
{
	fabtx_ring_rx *r = &c->rx;
	const uint16_t whole = FABTX_F_FIRST | FABTX_F_LAST;
	fabtx_footer *f;
	if (pos <= r->seq) return 0; /* consumed already: a stale repeat */
	/* the sender holds credits up to rel + n only; one whole cell */
	if (pos > r->rel + r->n || len > fabtx_ring_payload(r->c) ||
	    (flags & ~(uint16_t)(whole | FABTX_F_CREDIT_REQ)) ||
	    (flags & whole) != whole) {
		fabtx_log(
		    c->ctx, FABTX_LOG_WARN,
		    "%s: invalid doorbell footer (pos %llu len %u flags 0x%x)",
		    c->url, (unsigned long long)pos, len, flags);
		fabtx_conn_fail(c, -EPROTO);
		return -EPROTO;
	}
	f = (fabtx_footer *)(void *)(r->cells +
	                             ((pos - 1) & (r->n - 1)) * r->c + r->c -
	                             FABTX_FOOTER_SIZE);
	f->ack = 0;
	f->total_len = len;
	f->len = len;
	f->flags = flags;
	f->conn_tag = r->conn_tag;
	f->seq = pos - 1;
	c->st.doorbells_recv++;
	fabtx__data_in(c, pos);
	if (pos - 1 == r->seq && !r->asm_active && len <= r->max_msg) {
		/* the next chunk to take, and valid as fabtx_ring_rx_peek would
		 * find it: the receive that follows need not look again */
		c->pk = *f;
		c->pk_seq = pos;
	}
	return 0;
}

/* write segs to peer window offset off (non-DIRECT backends), retrying
 * while the backend's queue is full */
static int fabtx__bwrite(fabtx_conn *c, const fabtx_seg *segs, int nseg,
                         uint64_t off, uint64_t pos, unsigned flags)
{
	uint64_t until = 0;
	uint32_t spins = 0;
	int rc;
	for (;;) {
		rc = c->be->data.write(c, segs, nseg, off, pos, flags);
		if (rc != -EAGAIN) break;
		if (c->be->notify.progress &&
		    (rc = c->be->notify.progress(c)) < 0)
			break;
		/* The chunk's seq is taken: the write cannot be given up without
		 * leaving a hole in the peer's ring.  A queue that does not drain
		 * within the keepalive timeout means the fabric or the peer has
		 * stopped: the connection fails. */
		if ((++spins & 255u) == 0) {
			uint64_t now = fabtx_now_ns();
			if (!until)
				until =
				    now +
				    (uint64_t)c->ctx->cfg.keepalive_timeout_ms *
				        1000000u;
			else if (now >= until) {
				rc = -ETIMEDOUT;
				break;
			}
		}
	}
	if (rc < 0) fabtx_conn_fail(c, rc);
	return rc;
}

/* tell the peer how far we have released its cells */
static int fabtx__report(fabtx_conn *c)
{
	uint64_t rel = c->rx.rel;
	c->rx.reported = rel;
	c->rx.credit_req = 0;
	c->st.credit_reports++;
	if (c->be->caps & FABTX_BCAP_DIRECT) {
		fabtx_win_hdr *ph = (fabtx_win_hdr *)(void *)c->peer_base;
		fabtx__store_sc(&ph->credit, rel);
		return c->be->notify.ring
		           ? c->be->notify.ring(c, FABTX_DB_KIND_CREDIT, rel)
		           : 0;
	} else {
		fabtx_win_hdr *sh = (fabtx_win_hdr *)c->tx_win.base;
		fabtx_seg sg;
		sh->credit = rel;
		sg.addr = &sh->credit;
		sg.len = sizeof sh->credit;
		sg.desc = NULL;
		c->st.doorbells_sent++;
		return fabtx__bwrite(c, &sg, 1, 0, rel, FABTX_WRITE_CREDIT);
	}
}

static void fabtx__maybe_report(fabtx_conn *c)
{
	if (!c->fin_recv && fabtx_ring_rx_should_report(&c->rx))
		fabtx__report(c);
}

/* gather len bytes from an iov cursor into dst */
typedef struct fabtx__cur {
	const fabtx_iov *iov;
	int n, i;
	size_t off;
} fabtx__cur;

static void fabtx__cur_init(fabtx__cur *k, const fabtx_iov *iov, int n)
{
	k->iov = iov;
	k->n = n;
	k->i = 0;
	k->off = 0;
}

static void fabtx__gather(fabtx__cur *k, uint8_t *dst, size_t len)
{
	if (k->iov[k->i].len - k->off > len) { /* within this piece */
		memcpy(dst, (const uint8_t *)k->iov[k->i].base + k->off, len);
		k->off += len;
		return;
	}
	while (len) {
		size_t take = k->iov[k->i].len - k->off;
		if (take > len) take = len;
		if (take)
			memcpy(dst, (const uint8_t *)k->iov[k->i].base + k->off,
			       take);
		dst += take;
		len -= take;
		k->off += take;
		if (k->off == k->iov[k->i].len && k->i + 1 < k->n) {
			k->i++;
			k->off = 0;
		}
	}
}

/* Every field of an outgoing footer but seq (which publishes it); open
 * connections piggyback the reverse ring's released position. */
static void fabtx__fill_footer(fabtx_conn *c, fabtx_footer *f, uint32_t len,
                               uint64_t total, uint16_t flags)
{
	if (c->state == FABTX__ST_OPEN || c->state == FABTX__ST_CLOSING) {
		flags |= FABTX_F_ACK_VALID;
		c->rx.reported = c->rx.rel;
		c->rx.credit_req = 0;
	}
	fabtx__store_relaxed(&f->ack, c->rx.rel);
	fabtx__store_relaxed(&f->total_len, total);
	fabtx__store_relaxed(&f->len, len);
	fabtx__store_relaxed(&f->flags, flags);
	fabtx__store_relaxed(&f->conn_tag, c->tx.conn_tag);
}

/* A whole message in one cell (the caller checked for a credit): its
 * payload alone from src, the footer in the doorbell (backend write_imm:
 * no staging copy, no footer bytes, no ack).  -ENOTSUP: not taken, nothing
 * changed; other errors fail the connection. */
static int fabtx__put_imm(fabtx_conn *c, const void *src, uint32_t len)
{
	fabtx_ring_tx *t = &c->tx;
	uint64_t idx = t->seq & (t->n - 1);
	uint32_t credits_after = fabtx_ring_tx_credits(t) - 1;
	uint16_t fl = FABTX_F_FIRST | FABTX_F_LAST;
	fabtx_seg sg;
	int rc;
	if (credits_after == 0 || credits_after == t->n / 4)
		fl |= FABTX_F_CREDIT_REQ;
	sg.addr = src;
	sg.len = len;
	sg.desc = NULL;
	t->seq++;
	rc = c->be->data.write_imm(c, &sg,
	                           FABTX_WIN_HDR_SIZE + idx * t->c +
	                               fabtx_ring_payload_off(t->c, len),
	                           t->seq, len, fl);
	if (rc < 0) {
		t->seq--;
		if (rc != -ENOTSUP) fabtx_conn_fail(c, rc);
		return rc;
	}
	t->last_db_seq = t->seq;
	c->st.doorbells_sent++;
	c->st.chunks_sent++;
	return 0;
}

/* Where a one-chunk message is staged on a backend that is not DIRECT.
 * Each cell of the window mirrors a ring cell, so staging there walks the
 * whole window (4 MiB for 512 8 KiB cells), cold in the cache and the TLB
 * at every message of a ping-pong.  A chunk's staging may be reused once
 * the peer has released that chunk (the same rule that frees a mirror
 * cell: credits), so a few hot cells past the ring serve every message
 * whose predecessor in that cell is released (one or two messages in
 * flight: request/reply), the first free one first; the mirror cell
 * otherwise.  Messages of several chunks keep the mirror cells: the
 * backend coalesces consecutive chunks that are contiguous there. */
static uint8_t *fabtx__stage_cell(fabtx_conn *c, uint64_t coff)
{
	fabtx_ring_tx *t = &c->tx;
	int j;
	for (j = 0; j < FABTX__HOT_CELLS; j++) {
		if (c->hot_seq[j] <= t->peer_ack) {
			c->hot_seq[j] = t->seq + 1;
			return (uint8_t *)c->tx_win.base +
			       fabtx__win_need(t->n, t->c) + (uint64_t)j * t->c;
		}
	}
	return (uint8_t *)c->tx_win.base + coff;
}

/* fabtx__put_chunk on a backend with write_imm: a one-piece message
 * straight from the caller, else gathered into a staging cell first
 * (*staged: that cell, which the write that follows reuses when the
 * backend declines with -ENOTSUP). */
static int fabtx__put_chunk_imm(fabtx_conn *c, fabtx__cur *k, uint32_t len,
                                uint64_t coff, uint32_t poff, uint8_t **staged)
{
	const uint8_t *src;
	int rc;
	if (k->iov[k->i].len - k->off >= len) {
		src = (const uint8_t *)k->iov[k->i].base + k->off;
	} else {
		*staged = fabtx__stage_cell(c, coff); /* not DIRECT */
		fabtx__gather(k, *staged + poff, len);
		src = *staged + poff;
	}
	rc = fabtx__put_imm(c, src, len);
	if (rc == 0 && !*staged) k->off += len;
	return rc;
}

/* The cell a chunk is written into: the peer's ring itself (DIRECT), a
 * staging cell for a one-chunk message, else the mirror cell. */
static uint8_t *fabtx__chunk_cell(fabtx_conn *c, uint64_t coff, uint16_t flags)
{
	if (c->be->caps & FABTX_BCAP_DIRECT) return c->peer_base + coff;
	if ((flags & (FABTX_F_FIRST | FABTX_F_LAST)) ==
	    (FABTX_F_FIRST | FABTX_F_LAST))
		return fabtx__stage_cell(c, coff);
	return (uint8_t *)c->tx_win.base + coff;
}

/* DIRECT: publish the chunk whose footer f is filled in the peer's ring.
 * more: another chunk follows at once, whose publication covers this one
 * (a release store); the last is stored seq_cst, then the backend checks
 * whether the peer sleeps (the Dekker pattern with its arm). */
static int fabtx__publish_direct(fabtx_conn *c, fabtx_footer *f, int more)
{
	fabtx_ring_tx *t = &c->tx;
	int rc = 0;
	c->st.chunks_sent++;
	if (more) {
		fabtx__store_rel64(&f->seq, t->seq);
		t->seq++;
		return 0;
	}
	fabtx__store_sc(&f->seq, t->seq);
	t->seq++;
	t->last_db_seq = t->seq;
	if (c->be->notify.ring)
		rc = c->be->notify.ring(c, FABTX_DB_KIND_DATA, t->seq);
	return rc < 0 ? rc : 0;
}

/* zdesc for a zero-copy payload that is not registered (fabtx_send_zc:
 * the backend reads the caller's memory in place); segs carry desc NULL */
static char fabtx__zc_inplace_tag;
#define FABTX__ZC_INPLACE ((void *)&fabtx__zc_inplace_tag)
#define FABTX__ZC_DESC(d) ((d) == FABTX__ZC_INPLACE ? NULL : (d))

/* Not DIRECT: write the staged chunk (cell: its cell, payload at poff)
 * to the peer, the payload from user memory when zsrc (zero-copy). */
static int fabtx__publish_write(fabtx_conn *c, uint8_t *cell, uint32_t poff,
                                uint32_t len, const uint8_t *zsrc, void *zdesc,
                                uint16_t flags, int more)
{
	fabtx_ring_tx *t = &c->tx;
	uint64_t coff = FABTX_WIN_HDR_SIZE + (t->seq & (t->n - 1)) * t->c;
	fabtx_footer *f =
	    (fabtx_footer *)(void *)(cell + t->c - FABTX_FOOTER_SIZE);
	fabtx_seg sg[2];
	int rc, nseg = 1;
	f->seq = t->seq;
	sg[0].addr = cell + poff;
	sg[0].len = t->c - poff;
	sg[0].desc = NULL;
	if (zsrc) { /* user payload, then pad + footer from staging */
		sg[0].addr = zsrc;
		sg[0].len = len;
		sg[0].desc = FABTX__ZC_DESC(zdesc);
		sg[1].addr = cell + poff + len;
		sg[1].len = t->c - poff - len;
		sg[1].desc = NULL;
		nseg = 2;
		c->st.zc_chunks_sent++;
	}
	t->seq++;
	t->last_db_seq = t->seq;
	c->st.doorbells_sent++;
	c->st.chunks_sent++;
	rc = fabtx__bwrite(c, sg, nseg, coff + poff, t->seq,
	                   FABTX_WRITE_DATA | (more ? FABTX_WRITE_MORE : 0u) |
	                       ((flags & FABTX_F_FIN) ? FABTX_WRITE_LAST : 0u));
	return rc < 0 ? rc : 0;
}

/* Write one chunk (the caller checked for a credit).  more: another chunk
 * follows at once (the doorbell may be coalesced). */
static int fabtx__put_chunk(fabtx_conn *c, fabtx__cur *k, uint32_t len,
                            uint64_t total, uint16_t flags, int more,
                            void *zdesc)
{
	fabtx_ring_tx *t = &c->tx;
	uint32_t poff = fabtx_ring_payload_off(t->c, len);
	uint64_t coff = FABTX_WIN_HDR_SIZE + (t->seq & (t->n - 1)) * t->c;
	uint32_t credits_after = fabtx_ring_tx_credits(t) - 1;
	uint8_t *cell = NULL;
	fabtx_footer *f;
	const uint8_t *zsrc = NULL;
	if (c->peer_imm && !zdesc && len && len <= c->imm_max && total == len &&
	    (flags & (FABTX_F_FIRST | FABTX_F_LAST | FABTX_F_FIN)) ==
	        (FABTX_F_FIRST | FABTX_F_LAST)) {
		int rc = fabtx__put_chunk_imm(c, k, len, coff, poff, &cell);
		if (rc != -ENOTSUP) return rc;
	}
	if (!cell) { /* (unless the payload was gathered above) */
		cell = fabtx__chunk_cell(c, coff, flags);
		if (zdesc) { /* zero-copy: straight from user memory */
			zsrc = (const uint8_t *)k->iov[k->i].base + k->off;
			k->off += len;
		} else if (len) {
			fabtx__gather(k, cell + poff, len);
		}
	}
	f = (fabtx_footer *)(void *)(cell + t->c - FABTX_FOOTER_SIZE);
	if (credits_after == 0 || credits_after == t->n / 4)
		flags |= FABTX_F_CREDIT_REQ;
	fabtx__fill_footer(c, f, len, total, flags);
	if (c->be->caps & FABTX_BCAP_DIRECT)
		return fabtx__publish_direct(c, f, more);
	return fabtx__publish_write(c, cell, poff, len, zsrc, zdesc, flags,
	                            more);
}

/* fabtx_sendv on a DIRECT backend: as many chunks of the message as the
 * cr credits allow, one after the other straight into the peer's ring
 * (what fabtx__put_chunk does chunk by chunk, without its choices); the
 * last chunk written is published seq_cst and rung.  *took: the bytes. */
static int fabtx__put_cells_direct(fabtx_conn *c, fabtx__cur *k, uint64_t left,
                                   uint64_t total, uint64_t sent,
                                   uint64_t *took)
{
	fabtx_ring_tx *t = &c->tx;
	uint32_t p = fabtx_ring_payload(t->c);
	uint64_t done = 0;
	int rc;
	for (;;) {
		uint64_t rest = left - done;
		uint32_t len = rest > p ? p : (uint32_t)rest;
		uint8_t *cell = c->peer_base + FABTX_WIN_HDR_SIZE +
		                (t->seq & (t->n - 1)) * t->c;
		fabtx_footer *f =
		    (fabtx_footer *)(void *)(cell + t->c - FABTX_FOOTER_SIZE);
		uint32_t credits_after = fabtx_ring_tx_credits(t) - 1;
		uint16_t fl =
		    (uint16_t)((sent + done == 0 ? FABTX_F_FIRST : 0) |
		               (rest == len ? FABTX_F_LAST : 0));
		int more = credits_after > 0 && rest > len;
		if (len)
			fabtx__gather(
			    k, cell + fabtx_ring_payload_off(t->c, len), len);
		if (credits_after == 0 || credits_after == t->n / 4)
			fl |= FABTX_F_CREDIT_REQ;
		fabtx__fill_footer(c, f, len, total, fl);
		done += len;
		rc = fabtx__publish_direct(c, f, more);
		if (rc < 0) return rc;
		if (!more) break;
	}
	*took = done;
	return 0;
}

/* fabtx_send's common case on a DIRECT backend (the caller checked it: a
 * one-cell message, a credit at hand, nothing queued): payload and footer
 * straight into the peer's ring, then published. */
static int fabtx__send_cell_direct(fabtx_conn *c, const void *buf, uint32_t len)
{
	fabtx_ring_tx *t = &c->tx;
	uint8_t *cell =
	    c->peer_base + FABTX_WIN_HDR_SIZE + (t->seq & (t->n - 1)) * t->c;
	fabtx_footer *f =
	    (fabtx_footer *)(void *)(cell + t->c - FABTX_FOOTER_SIZE);
	uint32_t credits_after = fabtx_ring_tx_credits(t) - 1;
	uint16_t fl = FABTX_F_FIRST | FABTX_F_LAST;
	if (len) memcpy(cell + fabtx_ring_payload_off(t->c, len), buf, len);
	if (credits_after == 0 || credits_after == t->n / 4)
		fl |= FABTX_F_CREDIT_REQ;
	fabtx__fill_footer(c, f, len, len, fl);
	return fabtx__publish_direct(c, f, 0);
}

/* Write a SKIP chunk of `cells` cells: this one to the ring's end. */
static int fabtx__put_skip(fabtx_conn *c, uint32_t cells)
{
	fabtx_ring_tx *t = &c->tx;
	uint64_t idx = t->seq & (t->n - 1);
	uint64_t foff =
	    FABTX_WIN_HDR_SIZE + idx * t->c + t->c - FABTX_FOOTER_SIZE;
	fabtx_footer *f =
	    (fabtx_footer *)(void *)((uint8_t *)c->tx_win.base + foff);
	fabtx_seg sg;
	fabtx__fill_footer(c, f, (cells - 1) * t->c, 0, FABTX_F_SKIP);
	f->seq = t->seq;
	t->seq += cells;
	t->last_db_seq = t->seq;
	c->st.doorbells_sent++;
	c->st.chunks_sent++;
	sg.addr = f;
	sg.len = FABTX_FOOTER_SIZE;
	sg.desc = NULL;
	return fabtx__bwrite(c, &sg, 1, foff, t->seq, FABTX_WRITE_DATA);
}

/* A message that would fit one run but not before the ring's end: skip to
 * cell 0 when the credits allow (a split message cannot be lent and costs
 * the receiver a reassembly).  Returns the skip's cells or 0. */
static uint32_t fabtx__skip_cells(fabtx_conn *c, uint64_t len, uint32_t cr)
{
	fabtx_ring_tx *t = &c->tx;
	uint64_t room = t->n - (t->seq & (t->n - 1));
	uint64_t need = 1 + (len + t->c - 1) / t->c;
	if (!c->peer_skip || !c->peer_span ||
	    (c->be->caps & FABTX_BCAP_DIRECT) ||
	    len <= fabtx_ring_payload(t->c) || need <= room ||
	    need > t->n / 2 || (uint64_t)cr < room + need ||
	    (room - 1) * t->c > 0xffffffffu)
		return 0;
	return (uint32_t)room;
}

/* Write one SPAN chunk (backends that are not DIRECT): its footer in cell
 * seq, len payload bytes in the `cells - 1` cells after it (the caller
 * checked credits and that the run ends before the ring does).  Payload
 * into the staging run, then footer + payload as one write; zero-copy:
 * footer from staging, payload from the caller's registered buffer, still
 * one write.  The doorbell names the run's last cell. */
static int fabtx__put_span(fabtx_conn *c, fabtx__cur *k, uint32_t len,
                           uint64_t total, uint16_t flags, int more,
                           void *zdesc)
{
	fabtx_ring_tx *t = &c->tx;
	uint64_t idx = t->seq & (t->n - 1);
	uint32_t cells = fabtx_ring_chunk_cells(FABTX_F_SPAN, len, t->c);
	uint64_t coff = FABTX_WIN_HDR_SIZE + idx * t->c;
	uint32_t cr = fabtx_ring_tx_credits(t), credits_after = cr - cells;
	uint8_t *cell = (uint8_t *)c->tx_win.base + coff;
	fabtx_footer *f =
	    (fabtx_footer *)(void *)(cell + t->c - FABTX_FOOTER_SIZE);
	const uint8_t *zsrc = NULL;
	fabtx_seg sg[2];
	int rc, nseg = 1;
	if (zdesc) {
		zsrc = (const uint8_t *)k->iov[k->i].base + k->off;
		k->off += len;
	} else {
		fabtx__gather(k, cell + t->c, len);
	}
	flags |= FABTX_F_SPAN;
	if (credits_after == 0 || (credits_after <= t->n / 4 && cr > t->n / 4))
		flags |= FABTX_F_CREDIT_REQ;
	fabtx__fill_footer(c, f, len, total, flags);
	f->seq = t->seq;
	sg[0].addr = f;
	sg[0].len = FABTX_FOOTER_SIZE + (size_t)len;
	sg[0].desc = NULL;
	if (zsrc) {
		sg[0].len = FABTX_FOOTER_SIZE;
		sg[1].addr = zsrc;
		sg[1].len = len;
		sg[1].desc = FABTX__ZC_DESC(zdesc);
		nseg = 2;
		c->st.zc_chunks_sent++;
	}
	t->seq += cells;
	t->last_db_seq = t->seq;
	c->st.doorbells_sent++;
	c->st.chunks_sent++;
	rc = fabtx__bwrite(c, sg, nseg, coff + t->c - FABTX_FOOTER_SIZE, t->seq,
	                   FABTX_WRITE_DATA | (more ? FABTX_WRITE_MORE : 0u));
	return rc < 0 ? rc : 0;
}

/* Can the next chunk of `left` bytes go as a run?  Returns its length (0:
 * use a single cell).  A run needs the peer's consent (wire minor >= 1),
 * more than one cell's payload, at least two whole cells before the
 * ring's end and credits for them plus the footer cell, and a backend
 * that is not DIRECT.  A run that is not the message's last chunk is whole
 * cells. */
static uint32_t fabtx__span_len(fabtx_conn *c, uint64_t left, uint32_t cr)
{
	fabtx_ring_tx *t = &c->tx;
	uint64_t idx = t->seq & (t->n - 1), room, cap;
	/* DIRECT backends publish every cell as it is copied, so the reader
	 * copies out behind the writer; a run would make it wait for the
	 * whole run (1 MiB streams over shm:// lost 40%).  Runs are for
	 * backends whose writes become visible as a whole anyway. */
	if ((c->be->caps & FABTX_BCAP_DIRECT) || !c->peer_span ||
	    left <= fabtx_ring_payload(t->c) || cr < 3)
		return 0;
	room = t->n - 1 - idx; /* whole cells after this one, before the end */
	if (room > cr - 1) room = cr - 1;
	if (room > 0xffffffffu / t->c) room = 0xffffffffu / t->c;
	if (room < 2) return 0;
	cap = room * t->c;
	return (uint32_t)(left <= cap ? left : cap);
}

static uint32_t fabtx__credits(fabtx_conn *c)
{
	uint32_t cr = fabtx_ring_tx_credits(&c->tx);
	if (!cr) {
		fabtx__credit_refresh(c);
		cr = fabtx_ring_tx_credits(&c->tx);
		/* fabrics with manual progress land credits only when driven */
		if (!cr && !(c->be->caps & FABTX_BCAP_DIRECT) &&
		    c->be->notify.progress) {
			int rc = c->be->notify.progress(c);
			if (rc < 0 && rc != -ECONNRESET)
				fabtx_conn_fail(c, rc);
			else if (rc == -ECONNRESET)
				c->peer_gone = 1;
			fabtx__credit_refresh(c);
			cr = fabtx_ring_tx_credits(&c->tx);
		}
	}
	return cr;
}

/* push the pending remainder of a non-blocking send; 0 when all out */
static int fabtx__push_pending(fabtx_conn *c)
{
	uint32_t p = fabtx_ring_payload(c->tx.c);
	fabtx_iov v;
	fabtx__cur k;
	int rc;
	if (!c->pend_buf) return 0;
	while (c->pend_off < c->pend_len) {
		uint64_t left = c->pend_len - c->pend_off;
		uint32_t len = left > p ? p : (uint32_t)left;
		uint32_t cr = fabtx__credits(c);
		if (!cr) return -EAGAIN;
		v.base = c->pend_buf + c->pend_off;
		v.len = len;
		fabtx__cur_init(&k, &v, 1);
		rc = fabtx__put_chunk(c, &k, len, c->pend_total,
		                      left == len ? FABTX_F_LAST : 0,
		                      cr > 1 && left > len, NULL);
		if (rc < 0) return rc;
		c->pend_off += len;
	}
	fabtx__free(&c->ctx->a, c->pend_buf);
	c->pend_buf = NULL;
	c->pend_len = c->pend_off = 0;
	return 0;
}

static int fabtx__send_ping(fabtx_conn *c, uint32_t pong);
static int fabtx__ctrl_handle(fabtx_conn *c, const uint8_t *b, int len)
{
	fabtx__hs h;
	if (fabtx__hs_unpack(b, (size_t)len, &h) < 0) return -EPROTO;
	if (h.type == FABTX__MSG_RESET) return -ECONNRESET;
	if (h.type == FABTX__MSG_PING && h.status == 0) fabtx__send_ping(c, 1);
	return 0; /* PING/PONG and unknown-but-valid types: liveness only */
}

static int fabtx__send_ping(fabtx_conn *c, uint32_t pong)
{
	fabtx__hs h;
	uint8_t b[FABTX__HS_LEN];
	memset(&h, 0, sizeof h);
	h.major = FABTX_WIRE_MAJOR;
	h.minor = FABTX_WIRE_MINOR;
	h.type = FABTX__MSG_PING;
	h.status = pong;
	fabtx__hs_pack(&h, b);
	return c->be->setup.ctrl_send(c, b, sizeof b, 0);
}

/* The slow path: backend progress, control channel, timers, credits.
 * ctrl 0: not the control channel (a system call), for a caller that
 * sleeps next on an fd that the channel's messages make readable. */
static void fabtx__slow_opt(fabtx_conn *c, int ctrl)
{
	uint8_t b[FABTX__HS_LEN + 8];
	uint64_t now;
	int rc, i;
	if (c->be->notify.progress && (rc = c->be->notify.progress(c)) < 0) {
		if (rc == -ECONNRESET)
			c->peer_gone = 1;
		else
			fabtx_conn_fail(c, rc);
	}
	for (i = 0; i < 16 && ctrl && !c->peer_gone; i++) {
		rc = c->be->setup.ctrl_recv(c, b, sizeof b, 0);
		if (rc == -EAGAIN) break;
		if (rc == -ECONNRESET || rc == -EPIPE || rc == -ENOTCONN) {
			c->peer_gone =
			    1; /* EOF: deliver what is in the ring first */
			break;
		}
		if (rc < 0) {
			fabtx_conn_fail(c, rc);
			break;
		}
		c->last_rx_ms = fabtx_now_ms();
		rc = fabtx__ctrl_handle(c, b, rc);
		if (rc < 0) fabtx_conn_fail(c, rc);
	}
	fabtx__credit_refresh(c);
	if (c->pend_buf && !c->err) {
		rc = fabtx__push_pending(c);
		if (rc < 0 && rc != -EAGAIN) fabtx_conn_fail(c, rc);
	}
	now = fabtx_now_ms();
	if (c->last_rx_ms == 0 || c->rx.seq != c->ka_rx_seq) {
		c->last_rx_ms = now; /* data counts as a sign of life */
		c->ka_rx_seq = c->rx.seq;
	}
	if (c->ctx->cfg.keepalive_ms > 0 && !c->err && !c->peer_gone) {
		uint64_t ka = (uint64_t)c->ctx->cfg.keepalive_ms;
		if (now - c->last_rx_ms >= ka &&
		    (!c->ping_out_ms || now - c->ping_out_ms >= ka)) {
			if (!c->ping_out_ms || c->last_rx_ms >= c->ping_out_ms)
				c->ping_out_ms =
				    now; /* start of this silence probe */
			fabtx__send_ping(c, 0);
			/* a credit-starved sender re-rings its last doorbell (R10) */
			if (!(c->be->caps & FABTX_BCAP_DIRECT) &&
			    c->tx.seq != c->tx.peer_ack && c->be->notify.ring)
				c->be->notify.ring(c, FABTX_DB_KIND_DATA,
				                   c->tx.last_db_seq);
		}
		/* silent for a whole timeout since we started asking: dead */
		if (c->ping_out_ms && c->last_rx_ms < c->ping_out_ms &&
		    now - c->ping_out_ms >=
		        (uint64_t)c->ctx->cfg.keepalive_timeout_ms)
			fabtx_conn_fail(c, -ETIMEDOUT);
	}
}

static void fabtx__slow(fabtx_conn *c)
{
	fabtx__slow_opt(c, 1);
}

/* Next footer if visible and valid: 1, 0 (nothing), < 0 (failed). */
static void fabtx__consume(fabtx_conn *c, const fabtx_footer *f, int release);
static int fabtx__rx_next(fabtx_conn *c, fabtx_footer *f)
{
	int rc;
again:
	if (c->pk_seq == c->rx.seq + 1) { /* seen and validated already */
		*f = c->pk;
		/* a reply sent since may have cleared the request */
		if (f->flags & FABTX_F_CREDIT_REQ)
			c->rx.credit_req = f->seq + 1;
		return 1;
	}
	if (!(c->be->caps & FABTX_BCAP_ORDERED) && c->rx.seq >= c->rx.hint)
		return 0;
	rc = fabtx_ring_rx_peek(&c->rx, f);
	if (FABTX__UNLIKELY(rc < 0)) {
		fabtx_log(c->ctx, FABTX_LOG_WARN, "%s: invalid cell from peer",
		          c->url);
		fabtx_conn_fail(c, -EPROTO);
		return -EPROTO;
	}
	/* a run's footer comes with its data (one write, one doorbell for
	 * its last cell); a hint short of the run's end: not yet */
	if (rc > 0 && (f->flags & (FABTX_F_SPAN | FABTX_F_SKIP)) &&
	    !(c->be->caps & FABTX_BCAP_ORDERED) &&
	    c->rx.seq + fabtx_ring_chunk_cells(f->flags, f->len, c->rx.c) >
	        c->rx.hint)
		return 0;
	if (rc > 0) {
		if (f->flags & FABTX_F_ACK_VALID) {
			int r = fabtx_ring_tx_credit(&c->tx, f->ack);
			if (r < 0) {
				fabtx_conn_fail(c, -EPROTO);
				return -EPROTO;
			}
			if (r > 0) c->credit_event = 1;
		}
		if (f->flags & FABTX_F_CREDIT_REQ)
			c->rx.credit_req = f->seq + 1;
		if (f->flags & FABTX_F_SKIP) { /* nothing to deliver */
			fabtx__consume(c, f, 1);
			goto again;
		}
		c->pk = *f;
		c->pk_seq = c->rx.seq + 1;
	}
	return rc;
}

/* where the payload of the chunk with footer f is */
static uint8_t *fabtx__chunk_data(fabtx_conn *c, const fabtx_footer *f)
{
	uint64_t idx = f->seq & (c->rx.n - 1);
	if (f->flags & FABTX_F_SPAN) return c->rx.cells + (idx + 1) * c->rx.c;
	return c->rx.cells + idx * c->rx.c +
	       fabtx_ring_payload_off(c->rx.c, f->len);
}

/* Release the `cells` cells of the chunk at seq.  A run's footer slots
 * held payload: zero them first, so a later lap finds "not written" there
 * (fabtx_ring_rx_peek) until the peer writes a real footer. */
static void fabtx__release_chunk(fabtx_conn *c, uint64_t seq, uint32_t cells)
{
	uint32_t i;
	for (i = 1; i < cells; i++)
		memset(c->rx.cells + ((seq + i) & (c->rx.n - 1)) * c->rx.c +
		           c->rx.c - FABTX_FOOTER_SIZE,
		       0, FABTX_FOOTER_SIZE);
	for (i = 0; i < cells; i++)
		fabtx_ring_rx_release(&c->rx, seq + i);
}

/* consume the current chunk (after peek) and release it unless lent */
static void fabtx__consume(fabtx_conn *c, const fabtx_footer *f, int release)
{
	uint64_t s = c->rx.seq;
	uint32_t cells = fabtx_ring_chunk_cells(f->flags, f->len, c->rx.c);
	c->rx.seq += cells;
	c->st.chunks_recv++;
	if (release) {
		if (cells == 1 && s == c->rx.rel)
			c->rx
			    .rel++; /* in order: fabtx_ring_rx_release's first case */
		else
			fabtx__release_chunk(c, s, cells);
		fabtx__maybe_report(c);
	}
}

/* Zero-copy holds block the credit tail: once the oldest held cell has
 * N-1 consumed cells behind it the sender has no credit and never will
 * until the application releases something. */
static int fabtx__rx_stalled(const fabtx_conn *c)
{
	return c->rx.held && c->rx.seq - c->rx.rel >= (uint64_t)c->rx.n - 1;
}

/* terminal state when no message is available */
static int fabtx__rx_end(fabtx_conn *c)
{
	if (c->fin_recv) return -ESHUTDOWN;
	if (c->err) return c->err;
	if (fabtx__rx_stalled(c)) return -ENOBUFS;
	if (c->peer_gone) {
		fabtx_conn_fail(c, -ECONNRESET);
		return -ECONNRESET;
	}
	if (c->state != FABTX__ST_OPEN) return -ENOTCONN;
	return -EAGAIN;
}

/* Move as many chunks of the message being assembled as are here into
 * dst (asm_got bytes already there).  1 when complete, 0 if more to come. */
static int fabtx__assemble(fabtx_conn *c, uint8_t *dst)
{
	fabtx_footer f;
	int rc;
	while ((rc = fabtx__rx_next(c, &f)) > 0) {
		if (f.flags & FABTX_F_FIN) return -EPROTO;
		if (f.len)
			memcpy(dst + c->rx.asm_got, fabtx__chunk_data(c, &f),
			       f.len);
		c->rx.asm_got += f.len;
		fabtx__consume(c, &f, 1);
		if (f.flags & FABTX_F_LAST) {
			c->rx.asm_active = 0;
			return 1;
		}
	}
	return rc < 0 ? rc : 0;
}

/* A message assembled from several chunks is complete: deliver it
 * (msg mode assembles into asm_buf, never asm_user). */
static ssize_t fabtx__asm_done(fabtx_conn *c, void *buf, fabtx_msg *msg)
{
	c->st.msgs_recv++;
	c->st.bytes_recv += c->rx.asm_total;
	if (msg) {
		msg->data = c->asm_buf;
		msg->_owned = c->asm_buf;
		msg->len = (size_t)c->rx.asm_total;
		msg->_kind = 2;
		c->asm_buf = NULL;
	} else if (c->asm_user) {
		c->asm_user = NULL;
	} else {
		memcpy(buf, c->asm_buf, (size_t)c->rx.asm_total);
		fabtx__free(&c->ctx->a, c->asm_buf);
		c->asm_buf = NULL;
	}
	return (ssize_t)c->rx.asm_total;
}

/* A whole message in one chunk (one cell or a run): copied into buf, or
 * into msg: lent in place within the cap of held cells, else copied. */
static ssize_t fabtx__take_single(fabtx_conn *c, const fabtx_footer *f,
                                  void *buf, size_t cap, fabtx_msg *msg)
{
	uint8_t *p = fabtx__chunk_data(c, f);
	if (!msg) {
		if (f->len > cap) return -EMSGSIZE;
		/* buf may be NULL (cap 0) for an empty message */
		if (f->len) memcpy(buf, p, f->len);
		fabtx__consume(c, f, 1);
	} else {
		uint32_t cells =
		    fabtx_ring_chunk_cells(f->flags, f->len, c->rx.c);
		msg->len = f->len;
		msg->_seq = f->seq;
		/* within the cap only: a held run larger than half the ring
		 * would leave too few credits for the next message of its size
		 * (-ENOBUFS) */
		if (c->rx.held + cells <= c->ctx->cfg.zc_max_held) {
			msg->data = p;
			msg->_owned = NULL;
			msg->_kind = 1;
			msg->_cells = cells;
			c->rx.held += cells;
			c->st.zc_lent++;
			fabtx__consume(c, f, 0);
		} else {
			msg->_owned =
			    fabtx__alloc(&c->ctx->a, f->len ? f->len : 1);
			if (!msg->_owned) return -ENOMEM;
			memcpy(msg->_owned, p, f->len);
			msg->data = msg->_owned;
			msg->_kind = 2;
			c->st.zc_copied++;
			fabtx__consume(c, f, 1);
		}
	}
	c->st.msgs_recv++;
	c->st.bytes_recv += f->len;
	return (ssize_t)f->len;
}

/* The first chunk of a message of several: start assembling it into buf
 * (or a buffer of ours for msg) and take what else of it is here. */
static ssize_t fabtx__take_first(fabtx_conn *c, const fabtx_footer *f,
                                 void *buf, size_t cap, fabtx_msg *msg)
{
	uint8_t *dst;
	int rc;
	if (!msg && f->total_len > cap) return -EMSGSIZE;
	c->rx.asm_active = 1;
	c->rx.asm_total = f->total_len;
	c->rx.asm_got = 0;
	if (!msg) {
		c->asm_user = (uint8_t *)buf;
	} else {
		c->asm_buf =
		    (uint8_t *)fabtx__alloc(&c->ctx->a, (size_t)f->total_len);
		if (!c->asm_buf) {
			c->rx.asm_active = 0;
			return -ENOMEM;
		}
	}
	dst = c->asm_user ? c->asm_user : c->asm_buf;
	memcpy(dst, fabtx__chunk_data(c, f), f->len);
	c->rx.asm_got = f->len;
	fabtx__consume(c, f, 1);
	rc = fabtx__assemble(c, dst);
	if (rc < 0) return rc;
	if (rc == 0) return fabtx__rx_end(c);
	return fabtx__asm_done(c, buf, msg);
}

/* Try to take a whole message.  mode 0: copy into buf; mode 1: fill msg.
 * Returns length, -EAGAIN, or an error. */
static ssize_t fabtx__recv_try(fabtx_conn *c, void *buf, size_t cap,
                               fabtx_msg *msg)
{
	fabtx_footer f;
	int rc;
	if (c->rx.asm_active) {
		uint8_t *dst = c->asm_user ? c->asm_user : c->asm_buf;
		if (!msg && !c->asm_user && c->rx.asm_total > cap)
			return -EMSGSIZE; /* queued: a failed conn says so on the retry */
		rc = fabtx__assemble(c, dst);
		if (rc < 0) return rc;
		if (rc == 0) return fabtx__rx_end(c);
		return fabtx__asm_done(c, buf, msg);
	}
	rc = fabtx__rx_next(c, &f);
	if (rc < 0) return rc;
	if (rc == 0) return fabtx__rx_end(c);
	if (f.flags & FABTX_F_FIN) {
		/* the peer has closed: it reads no credits any more, and its
		 * window may be gone (RDMA backends), so none are reported */
		c->fin_recv = 1;
		fabtx__consume(c, &f, 1);
		return -ESHUTDOWN;
	}
	if (f.flags & FABTX_F_LAST) /* single chunk (one cell or a run) */
		return fabtx__take_single(c, &f, buf, cap, msg);
	return fabtx__take_first(c, &f, buf, cap, msg);
}

/* a receive into the caller's buffer is being abandoned mid-message: keep
 * what arrived in our own buffer */
static int fabtx__stash(fabtx_conn *c)
{
	if (!c->asm_user) return 0;
	c->asm_buf =
	    (uint8_t *)fabtx__alloc(&c->ctx->a, (size_t)c->rx.asm_total);
	if (!c->asm_buf) {
		fabtx_conn_fail(c, -ENOMEM);
		c->asm_user = NULL;
		return -ENOMEM;
	}
	memcpy(c->asm_buf, c->asm_user, (size_t)c->rx.asm_got);
	c->asm_user = NULL;
	return 0;
}

enum { FABTX__WANT_RX = 1, FABTX__WANT_TX = 2 };

static int fabtx__ready(fabtx_conn *c, int want)
{
	fabtx_footer f;
	if (c->err) return 1;
	if (want & FABTX__WANT_RX) {
		if (c->fin_recv || c->peer_gone || fabtx__rx_stalled(c))
			return 1;
		if (fabtx__rx_next(c, &f) != 0) return 1;
	}
	if (want & FABTX__WANT_TX) {
		if (c->peer_gone) return 1;
		if (!c->pend_buf && fabtx__credits(c)) return 1;
	}
	return 0;
}

static inline void fabtx__cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ __volatile__("yield");
#endif
}

/* Busy-polling a receive on an ORDERED backend: nothing new while the
 * next cell's footer is unwritten (one load, where fabtx__ready looks at
 * every state a receive can end in). */
static int fabtx__rx_quiet(fabtx_conn *c)
{
	const fabtx_footer *f =
	    fabtx__footer_at(c->rx.cells, c->rx.c, c->rx.seq & (c->rx.n - 1));
	return c->pk_seq != c->rx.seq + 1 &&
	       fabtx__load_acq64(&f->seq) != c->rx.seq;
}

/* Block until `want` is ready or the deadline passes. */
static int fabtx__wait(fabtx_conn *c, uint64_t dl, int want)
{
	uint64_t spin_ns = (uint64_t)c->ctx->cfg.spin_us * 1000u, now,
	         spin_end = 0;
	uint32_t i = 0;
	int rc, ctrl,
	    pollcq =
	        !(c->be->caps & FABTX_BCAP_ORDERED) && c->be->notify.progress;
	int quick = want == FABTX__WANT_RX &&
	            (c->be->caps & FABTX_BCAP_ORDERED) && c->rx.cells;
	/* The clock is read only after the first 64 rounds (a vDSO call costs
	 * tens of ns in a VM; a busy-polled reply usually comes sooner), so
	 * the spin lasts spin_us from then.  A receive looks at the ring
	 * alone in between, and at everything every 64th round (after the
	 * slow path, too). */
	while (spin_ns) {
		if (!(quick && (i & 63u) && fabtx__rx_quiet(c)) &&
		    fabtx__ready(c, want))
			return 0;
		/* busy-polling an RDMA backend means polling its completions
		 * (a call into the provider: no pause needed between them) */
		if (pollcq) {
			if (c->be->notify.progress(c) < 0) fabtx__slow(c);
		} else {
			fabtx__cpu_relax();
		}
		if ((++i & 63u) == 0) {
			if ((i & 1023u) == 0) fabtx__slow(c);
			now = fabtx_now_ns();
			if (!spin_end) {
				spin_end = now + spin_ns;
				if (spin_end > dl) spin_end = dl;
			}
			if (now >= spin_end) break;
		}
	}
	/* Before the first sleep the control channel need not be read where
	 * it is the fd slept on and read straight from it (shm://, the one
	 * ORDERED backend): a message there makes the poll return at once,
	 * and the next round reads it (a system call less per sleep). */
	ctrl = !((c->be->caps & FABTX_BCAP_ORDERED) && c->be->setup.ctrl_fd &&
	         c->be->setup.ctrl_fd(c) == c->be->wait.fd(c));
	for (;;) {
		struct pollfd pfd;
		int ms, ka = c->ctx->cfg.keepalive_ms;
		fabtx__slow_opt(c, ctrl);
		ctrl = 1;
		if (fabtx__ready(c, want)) return 0;
		/* a receive is not woken by credit reports (the peer's
		 * releases while we wait for its reply), a send not by data;
		 * a remainder waiting for credits streams from the slow path */
		c->arm_ev =
		    (want & FABTX__WANT_RX ? FABTX_POLLIN : 0u) |
		    (want & FABTX__WANT_TX || c->pend_buf ? FABTX_POLLOUT : 0u);
		rc = c->be->wait.arm(c);
		if (rc == -EAGAIN) continue;
		if (rc < 0) {
			fabtx_conn_fail(c, rc);
			return 0;
		}
		if (fabtx__ready(c, want)) return 0;
		ms = fabtx__remaining_ms(dl);
		if (ms == 0) return -ETIMEDOUT;
		if (ka > 0 && (ms < 0 || ms > ka)) ms = ka;
		/* one fd, the epoll set: poll() on wait.fds' two instead
		 * measured no better (bench/ab.sh, ofi tcp, event-driven 64 B
		 * 1.016x, 4 KiB 1.105x of this) */
		pfd.fd = c->be->wait.fd(c);
		pfd.events = POLLIN;
		pfd.revents = 0;
		rc = poll(&pfd, 1, ms);
		if (rc < 0 && errno != EINTR) {
			fabtx_conn_fail(c, -errno);
			return 0;
		}
		c->st.wakeups++;
	}
}

static int fabtx__check_open(fabtx_conn *c)
{
	if (!c) return -EINVAL;
	if (c->err) return c->err;
	if (c->state != FABTX__ST_OPEN) return -ENOTCONN;
	return 0;
}

/* fabtx_sendv: push the remainder of an earlier non-blocking send first
 * (0 when it is all out) */
static int fabtx__send_pending(fabtx_conn *c, int timeout_ms, uint64_t dl)
{
	int rc;
	while (c->pend_buf) {
		rc = fabtx__push_pending(c);
		if (rc == 0) break;
		if (rc != -EAGAIN) return rc;
		/* no credit will ever come from a peer that is gone */
		if (!timeout_ms && !c->peer_gone && !c->err) fabtx__slow(c);
		if (c->err) return c->err;
		if (c->peer_gone) return -ECONNRESET;
		if (!timeout_ms) {
			c->st.credit_stalls++;
			return -EAGAIN;
		}
		rc = fabtx__wait(c, dl, FABTX__WANT_TX);
		if (rc < 0) return rc;
		if (c->err) return c->err;
	}
	return 0;
}

/* fabtx_sendv: no credit for the next chunk.  1: try again; otherwise the
 * send ends with that value (0: the remainder is taken and streams later
 * from fabtx__push_pending). */
static int fabtx__send_stall(fabtx_conn *c, fabtx__cur *k, uint64_t left,
                             uint64_t total, uint64_t sent, int timeout_ms,
                             uint64_t dl, int *timed_out)
{
	c->st.credit_stalls++;
	if (!timeout_ms || *timed_out) {
		c->credit_event = 0; /* the caller has seen the state */
		if (sent == 0) return *timed_out ? -ETIMEDOUT : -EAGAIN;
		/* taken: copy the remainder and stream it later */
		c->pend_buf = (uint8_t *)fabtx__alloc(&c->ctx->a, (size_t)left);
		if (!c->pend_buf) {
			fabtx_conn_fail(c, -ENOMEM);
			return -ENOMEM;
		}
		fabtx__gather(k, c->pend_buf, (size_t)left);
		c->pend_len = left;
		c->pend_off = 0;
		c->pend_total = total;
		return 0;
	}
	if (fabtx__wait(c, dl, FABTX__WANT_TX) < 0) {
		/* mid-message: the rest is taken and streams later */
		*timed_out = 1;
		return 1;
	}
	if (c->err || c->peer_gone) return c->err ? c->err : -ECONNRESET;
	return 1;
}

/* fabtx_sendv: the next chunk of a message with cr credits: a skip to cell
 * 0 (returns 1: nothing of the message written), a run or one cell (0,
 * *len: the bytes it took), or < 0. */
static int fabtx__put_next(fabtx_conn *c, fabtx__cur *k, uint64_t left,
                           uint64_t total, uint64_t sent, uint32_t cr,
                           void *zdesc, uint32_t *len)
{
	uint16_t fl;
	uint32_t sl;
	if (sent == 0) {
		uint32_t sk = fabtx__skip_cells(c, left, cr);
		if (sk) {
			int rc = fabtx__put_skip(c, sk);
			return rc < 0 ? rc : 1;
		}
	}
	sl = fabtx__span_len(c, left, cr);
	if (sl) *len = sl;
	fl = (uint16_t)((sent == 0 ? FABTX_F_FIRST : 0) |
	                (left == *len ? FABTX_F_LAST : 0));
	if (sl) {
		uint32_t cells =
		    fabtx_ring_chunk_cells(FABTX_F_SPAN, sl, c->tx.c);
		return fabtx__put_span(c, k, sl, total, fl,
		                       cr > cells && left > sl, zdesc);
	}
	return fabtx__put_chunk(c, k, *len, total, fl, cr > 1 && left > *len,
	                        zdesc);
}

/* fabtx_sendv's arguments and state: 0 and the message's length, or why
 * it cannot be sent */
static int fabtx__sendv_check(fabtx_conn *c, const fabtx_iov *iov, int iovcnt,
                              uint64_t *total_out)
{
	uint64_t total = 0;
	int i, rc = fabtx__check_open(c);
	if (rc < 0) return rc;
	if (iovcnt < 0 || (iovcnt > 0 && !iov)) return -EINVAL;
	for (i = 0; i < iovcnt; i++) {
		if (!iov[i].base && iov[i].len) return -EINVAL;
		if (total + iov[i].len < total) return -EMSGSIZE;
		total += iov[i].len;
	}
	if (total > c->max_msg || total > (uint64_t)SSIZE_MAX) return -EMSGSIZE;
	if (c->fin_recv) return -ESHUTDOWN;
	if (c->peer_gone)
		return fabtx__rx_end(c) == -ESHUTDOWN ? -ESHUTDOWN
		                                      : -ECONNRESET;
	*total_out = total;
	return 0;
}

/* fabtx_sendv; inplace: fabtx_send_zc's non-blocking zero-copy send (one
 * buffer, timeout 0, the payload read in place, no flush) */
static ssize_t fabtx__sendv(fabtx_conn *c, const fabtx_iov *iov, int iovcnt,
                            int timeout_ms, int inplace)
{
	uint64_t total = 0, sent = 0, dl = 0;
	uint32_t p;
	fabtx__cur k;
	int rc = 0, timed_out = 0;
	fabtx_mr_cache *zmc = NULL;
	fabtx_mr_entry *zc = NULL;
	void *zdesc;
	fabtx_iov empty;
	rc = fabtx__sendv_check(c, iov, iovcnt, &total);
	if (rc < 0) return rc;
	if (iovcnt == 0) {
		empty.base = NULL;
		empty.len = 0;
		iov = &empty;
		iovcnt = 1;
	}
	fabtx__cur_init(&k, iov, iovcnt);
	p = fabtx_ring_payload(c->tx.c);
	if (timeout_ms) dl = fabtx__deadline(timeout_ms);
	/* earlier remainder first */
	if (c->pend_buf && (rc = fabtx__send_pending(c, timeout_ms, dl)) < 0)
		return rc;
	/* Large blocking sends on RDMA backends go zero-copy: the payload is
	 * written from the caller's registered buffer (MR cache), only the
	 * footers come from staging. */
	if (timeout_ms && iovcnt == 1 && c->ctx->cfg.zc_send_min &&
	    total >= c->ctx->cfg.zc_send_min &&
	    !(c->be->caps & FABTX_BCAP_DIRECT) && c->be->data.mr_cache &&
	    c->be->data.mr_cache(c, &zmc) == 0 && zmc &&
	    fabtx_mr_get(zmc, iov[0].base, (size_t)total, 0, &zc) < 0)
		zc = NULL;
	zdesc = zc        ? fabtx_mr_entry_reg(zc)->desc
	        : inplace ? FABTX__ZC_INPLACE
	                  : NULL;
	for (;;) {
		uint64_t left = total - sent;
		uint32_t len = left > p ? p : (uint32_t)left;
		uint32_t cr = fabtx__credits(c);
		if (!cr) {
			rc = fabtx__send_stall(c, &k, left, total, sent,
			                       timeout_ms, dl, &timed_out);
			if (rc == 1) continue;
			break;
		}
		if ((c->be->caps & FABTX_BCAP_DIRECT) && !c->peer_imm) {
			/* (never zero-copy: that is for backends not DIRECT) */
			uint64_t took = 0;
			rc = fabtx__put_cells_direct(c, &k, left, total, sent,
			                             &took);
			if (rc < 0) break;
			sent += took;
			if (sent >= total) break;
			continue;
		}
		rc = fabtx__put_next(c, &k, left, total, sent, cr, zdesc, &len);
		if (rc < 0) break;
		if (rc == 1) continue; /* a skip: nothing of the message yet */
		sent += len;
		if (sent >= total) break; /* (a 0-byte message is one chunk) */
	}
	if (zc) { /* user memory must not be reused before the writes are done */
		int frc = c->be->data.flush ? c->be->data.flush(c, 30000) : 0;
		fabtx_mr_put(zmc, zc);
		if (frc < 0 && rc >= 0) {
			fabtx_conn_fail(c, frc);
			rc = frc;
		}
	}
	if (rc < 0) return rc;
	c->st.msgs_sent++;
	c->st.bytes_sent += total;
	return (ssize_t)total;
}

FABTX__DEF ssize_t fabtx_sendv(fabtx_conn *c, const fabtx_iov *iov, int iovcnt,
                               int timeout_ms)
{
	return fabtx__sendv(c, iov, iovcnt, timeout_ms, 0);
}

FABTX__DEF ssize_t fabtx_send_zc(fabtx_conn *c, const void *buf, size_t len,
                                 uint64_t *ticket)
{
	fabtx_iov v;
	uint64_t issued = 0;
	ssize_t rc;
	if (!c || !ticket || (!buf && len)) return -EINVAL;
	if (c->state == FABTX__ST_NEW) return -ENOTCONN;
	if ((c->be->caps & FABTX_BCAP_DIRECT) || !c->be->data.written)
		return -ENOTSUP;
	rc = c->be->data.written(c, &issued, NULL);
	if (rc < 0) return rc;
	v.base = buf;
	v.len = len;
	rc = fabtx__sendv(c, &v, 1, 0, 1);
	if (rc < 0) return rc;
	/* every write of this message has a number <= issued now (should
	 * the backend not say, the buffer is free only after the close) */
	if (c->be->data.written(c, &issued, NULL) < 0) issued = UINT64_MAX;
	*ticket = issued;
	return rc;
}

FABTX__DEF uint64_t fabtx_send_zc_done(fabtx_conn *c)
{
	uint64_t issued = 0, done = 0;
	if (!c || c->state == FABTX__ST_NEW || !c->be->data.written ||
	    c->be->data.written(c, &issued, &done) < 0)
		return 0;
	return done;
}

FABTX__DEF ssize_t fabtx_send(fabtx_conn *c, const void *buf, size_t len,
                              int timeout_ms)
{
	fabtx_iov v;
	v.base = buf;
	v.len = len;
	/* The common message, one chunk, when nothing is queued and a credit
	 * is at hand: straight to the backend's write_imm when it fits, else
	 * to fabtx__put_chunk (one write), what fabtx_sendv does after its
	 * general checks. */
	if (c && buf && c->state == FABTX__ST_OPEN && !c->err && !c->fin_recv &&
	    !c->peer_gone && !c->pend_buf &&
	    len <= fabtx_ring_payload(c->tx.c) && len <= c->max_msg &&
	    fabtx_ring_tx_credits(&c->tx) &&
	    (!timeout_ms || !c->ctx->cfg.zc_send_min ||
	     len < c->ctx->cfg.zc_send_min)) {
		int rc = -ENOTSUP;
		if (c->peer_imm && len && len <= c->imm_max)
			rc = fabtx__put_imm(c, buf, (uint32_t)len);
		else if (c->be->caps & FABTX_BCAP_DIRECT)
			rc = fabtx__send_cell_direct(c, buf, (uint32_t)len);
		if (rc == -ENOTSUP) {
			fabtx__cur k;
			fabtx__cur_init(&k, &v, 1);
			rc = fabtx__put_chunk(c, &k, (uint32_t)len, len,
			                      FABTX_F_FIRST | FABTX_F_LAST, 0,
			                      NULL);
		}
		if (rc < 0) return rc;
		c->st.msgs_sent++;
		c->st.bytes_sent += len;
		return (ssize_t)len;
	}
	return fabtx_sendv(c, &v, 1, timeout_ms);
}

/* a non-blocking receive found nothing: run the slow path now? */
static int fabtx__nb_slow_due(fabtx_conn *c)
{
	uint64_t now;
	if (!(c->be->caps & FABTX_BCAP_ORDERED))
		return 1; /* data comes there */
	now = fabtx_now_ns();
	if (now - c->nb_slow_ns < 50000u) return 0;
	c->nb_slow_ns = now;
	return 1;
}

/* A non-blocking receive on a DIRECT backend takes a message of several
 * cells only once all of it is there, so that a caller polling faster
 * than the peer writes does not copy it aside half-received
 * (fabtx__stash: an allocation and a second copy; the fan-in server did
 * that once it polled without a system call).  Only a message of at most
 * N/4 cells waits so, with no cells held: the sender has room for all of
 * it whatever credits are still unreported.  1: take what is there now. */
static int fabtx__nb_whole_check(fabtx_conn *c)
{
	fabtx_footer f;
	const fabtx_footer *lf;
	uint64_t cells, last;
	uint32_t p = fabtx_ring_payload(c->rx.c);
	if (c->rx.asm_active || c->rx.held || c->err || c->peer_gone) return 1;
	if (fabtx__rx_next(c, &f) <= 0 ||
	    (f.flags & (FABTX_F_LAST | FABTX_F_FIN)))
		return 1;
	cells = (f.total_len + p - 1) / p;
	if (cells > c->rx.n / 4) return 1;
	/* one chunk per cell, published in order: the last one there means
	 * all are (each is still checked when it is taken) */
	last = c->rx.seq + cells - 1;
	lf = fabtx__footer_at(c->rx.cells, c->rx.c, last & (c->rx.n - 1));
	return fabtx__load_acq64(&lf->seq) == last;
}

static inline int fabtx__nb_whole(fabtx_conn *c)
{
	const fabtx_footer *nf;
	if (!(c->be->caps & FABTX_BCAP_DIRECT)) return 1;
	/* Most messages are one cell: its raw flags say so without the checks
	 * (taking what is there is always allowed; only a wait needs them) */
	nf = fabtx__footer_at(c->rx.cells, c->rx.c, c->rx.seq & (c->rx.n - 1));
	if (fabtx__load_acq64(&nf->seq) != c->rx.seq ||
	    (fabtx__load_relaxed(&nf->flags) & FABTX_F_LAST))
		return 1;
	return fabtx__nb_whole_check(c);
}

/* fabtx__recv_common with timeout 0: a look, and one more after the slow
 * path when that is due */
static ssize_t fabtx__recv_nb(fabtx_conn *c, void *buf, size_t cap,
                              fabtx_msg *msg)
{
	ssize_t rc;
	rc = fabtx__nb_whole(c) ? fabtx__recv_try(c, buf, cap, msg) : -EAGAIN;
	if (rc < 0 && rc != -EMSGSIZE) fabtx__stash(c);
	/* Look at the slow sources once: a system call (the control
	 * channel).  Where data is seen in place (ORDERED), a busy poller's
	 * empty looks run it at most every 50 us (a fan-in server polling 16
	 * connections spent a third of its time there); fabtx_conn_arm and
	 * fabtx_conn_poll always run it, so an event loop sees every event as
	 * before. */
	if (rc == -EAGAIN && fabtx__nb_slow_due(c)) {
		fabtx__slow(c);
		rc = fabtx__nb_whole(c) ? fabtx__recv_try(c, buf, cap, msg)
		                        : -EAGAIN;
		if (rc < 0 && rc != -EMSGSIZE) fabtx__stash(c);
	}
	return rc;
}

static ssize_t fabtx__recv_common(fabtx_conn *c, void *buf, size_t cap,
                                  fabtx_msg *msg, int timeout_ms)
{
	uint64_t dl;
	ssize_t rc;
	if (!c) return -EINVAL;
	if (c->state == FABTX__ST_NEW) return -ENOTCONN;
	if (timeout_ms == 0) return fabtx__recv_nb(c, buf, cap, msg);
	rc = fabtx__recv_try(c, buf, cap, msg);
	if (rc != -EAGAIN) {
		if (rc < 0 && rc != -EMSGSIZE) fabtx__stash(c);
		return rc;
	}
	dl = fabtx__deadline(timeout_ms);
	for (;;) {
		int w = fabtx__wait(c, dl, FABTX__WANT_RX);
		rc = fabtx__recv_try(c, buf, cap, msg);
		if (rc != -EAGAIN) break;
		if (w < 0) {
			rc = w;
			break;
		}
	}
	if (rc < 0 && rc != -EMSGSIZE) fabtx__stash(c);
	return rc;
}

FABTX__DEF ssize_t fabtx_recv(fabtx_conn *c, void *buf, size_t cap,
                              int timeout_ms)
{
	if (!buf && cap) return -EINVAL;
	return fabtx__recv_common(c, buf, cap, NULL, timeout_ms);
}

FABTX__DEF int fabtx_recv_msg(fabtx_conn *c, fabtx_msg *msg, int timeout_ms)
{
	ssize_t rc;
	if (!msg) return -EINVAL;
	memset(msg, 0, sizeof *msg);
	rc = fabtx__recv_common(c, NULL, 0, msg, timeout_ms);
	return rc < 0 ? (int)rc : 0;
}

FABTX__DEF void fabtx_msg_release(fabtx_conn *c, fabtx_msg *msg)
{
	if (!c || !msg) return;
	if (msg->_kind == 1) {
		uint32_t cells = msg->_cells ? msg->_cells : 1;
		c->rx.held -= cells <= c->rx.held ? cells : c->rx.held;
		fabtx__release_chunk(c, msg->_seq, cells);
		if (c->state == FABTX__ST_OPEN && !c->err)
			fabtx__maybe_report(c);
	} else if (msg->_kind == 2) {
		fabtx__free(&c->ctx->a, msg->_owned);
	}
	memset(msg, 0, sizeof *msg);
}

FABTX__DEF void *fabtx_msg_detach(fabtx_msg *msg)
{
	void *p;
	if (!msg || msg->_kind != 2 || msg->_owned != msg->data) return NULL;
	p = msg->_owned;
	memset(msg, 0, sizeof *msg);
	return p;
}

FABTX__DEF ssize_t fabtx_peek_len(fabtx_conn *c)
{
	fabtx_footer f;
	int rc;
	if (!c) return -EINVAL;
	if (c->rx.asm_active) return (ssize_t)c->rx.asm_total;
	rc = fabtx__rx_next(c, &f);
	if (rc < 0) return rc;
	if (rc == 0) return fabtx__rx_end(c);
	if (f.flags & FABTX_F_FIN) return -ESHUTDOWN;
	return (ssize_t)f.total_len;
}

FABTX__DEF int fabtx_conn_fd(fabtx_conn *c)
{
	if (!c) return -EINVAL;
	if (c->state == FABTX__ST_NEW) /* connecting: the handshake's fd */
		return c->hs_phase ? fabtx__hs_fd(c) : -EINVAL;
	return c->be->wait.fd(c);
}

FABTX__DEF int fabtx_conn_fds(fabtx_conn *c, int *fds, int cap)
{
	int n;
	if (!c || !fds || cap < 1) return -EINVAL;
	if (c->state == FABTX__ST_OPEN && c->be->wait.fds) {
		n = c->be->wait.fds(c, fds, cap);
		if (n != 0) return n;
	}
	n = fabtx_conn_fd(c);
	if (n < 0) return n;
	fds[0] = n;
	return 1;
}

FABTX__DEF ssize_t fabtx_peek_whole(fabtx_conn *c)
{
	ssize_t len = fabtx_peek_len(c);
	uint64_t rem, cells, last;
	uint32_t p;
	fabtx_footer *f;
	if (len < 0) return len;
	p = fabtx_ring_payload(c->rx.c);
	/* every cell but the last of a message carries a full payload */
	rem =
	    c->rx.asm_active ? c->rx.asm_total - c->rx.asm_got : (uint64_t)len;
	cells = rem ? (rem + p - 1) / p : 1;
	if (cells > c->rx.n / 2) return len;
	if (c->be->caps & FABTX_BCAP_DIRECT) {
		/* one chunk per cell (no runs), placed in order: the last
		 * cell there means all are */
		last = c->rx.seq + cells - 1;
		f = fabtx__footer_at(c->rx.cells, c->rx.c,
		                     last & (c->rx.n - 1));
		return fabtx__load_acq64(&f->seq) == last ? len : -EAGAIN;
	}
	/* chunks may be runs: walk the footers of what is visible (below the
	 * hint, or written so far on ordered backends) to the message's end */
	{
		int ordered = (c->be->caps & FABTX_BCAP_ORDERED) != 0;
		uint64_t s = c->rx.seq,
		         end = ordered ? s + c->rx.n - 1 : c->rx.hint;
		uint32_t i;
		for (i = 0; i < c->rx.n && s < end; i++) {
			uint16_t fl;
			f = fabtx__footer_at(c->rx.cells, c->rx.c,
			                     s & (c->rx.n - 1));
			if (fabtx__load_acq64(&f->seq) != s) return -EAGAIN;
			fl = fabtx__load_relaxed(&f->flags);
			s += fabtx_ring_chunk_cells(
			    fl, fabtx__load_relaxed(&f->len), c->rx.c);
			if (s > end)
				return -EAGAIN; /* a run not all here yet */
			if (fl & FABTX_F_LAST) return len;
		}
		return -EAGAIN;
	}
}

FABTX__DEF int fabtx_conn_poll(fabtx_conn *c)
{
	int ev = 0;
	if (!c || c->state == FABTX__ST_NEW) return -EINVAL;
	fabtx__slow(c);
	if (fabtx__ready(c, FABTX__WANT_RX)) ev |= FABTX_POLLIN;
	if (!c->err && !c->peer_gone && !c->pend_buf && fabtx__credits(c))
		ev |= FABTX_POLLOUT;
	if (c->err || c->peer_gone || c->fin_recv) ev |= FABTX_POLLERR;
	c->credit_event = 0;
	return ev;
}

/* is anything the caller armed for pending? */
static int fabtx__arm_pending(fabtx_conn *c, unsigned events)
{
	if ((events & FABTX_POLLOUT) && c->credit_event) return 1;
	if (c->pend_buf && fabtx__credits(c)) return 1; /* we stream it */
	if ((events & FABTX_POLLIN) || c->err || c->peer_gone)
		return fabtx__ready(c, FABTX__WANT_RX);
	return 0;
}

FABTX__DEF int fabtx_conn_arm_mask(fabtx_conn *c, unsigned events)
{
	int rc;
	if (!c || c->state == FABTX__ST_NEW) return -EINVAL;
	fabtx__slow(c); /* always: the fd may be readable for a slow source */
	if (fabtx__arm_pending(c, events)) {
		c->credit_event = 0;
		return -EAGAIN;
	}
	/* Armed for any event, whatever the mask: event loops written against
	 * the old one-flag arm rely on it (libzmq's engine: a send that finds
	 * no credit outside its pump, with the fd armed for POLLIN, was woken
	 * by the credit report; armed for data only it stalled to the tick,
	 * zmq 64 B over shm:// 2300 -> 20-50 Mb/s).  Only the core's own
	 * blocking waits (fabtx__wait) arm for one kind. */
	c->arm_ev = FABTX_POLLIN | FABTX_POLLOUT;
	rc = c->be->wait.arm(c);
	if (rc < 0) return rc;
	/* re-check after arming: anything that raced in is reported now */
	fabtx__credit_refresh(c);
	if (fabtx__arm_pending(c, events)) {
		c->credit_event = 0;
		return -EAGAIN;
	}
	if (!(events & FABTX_POLLOUT)) c->credit_event = 0;
	return 0;
}

FABTX__DEF int fabtx_conn_arm(fabtx_conn *c)
{
	return fabtx_conn_arm_mask(c, FABTX_POLLIN | FABTX_POLLOUT);
}

/* A closing connection delivers nothing more: release what the peer has
 * written unread (its cells, and credits back, so a peer closing at the
 * same time can send the rest and its FIN), keeping the ring's message
 * framing checked, until the peer's FIN. */
static void fabtx__rx_discard(fabtx_conn *c)
{
	fabtx_footer f;
	c->asm_user = NULL; /* a receive abandoned mid-message: never filled */
	while (!c->fin_recv && !c->err && fabtx__rx_next(c, &f) > 0) {
		if (f.flags & FABTX_F_FIN) {
			c->fin_recv = 1;
			fabtx__consume(c, &f, 1);
			break;
		}
		if (!c->rx.asm_active && !(f.flags & FABTX_F_LAST)) {
			c->rx.asm_active = 1; /* first chunk of a longer one */
			c->rx.asm_total = f.total_len;
			c->rx.asm_got = 0;
		}
		if (c->rx.asm_active) c->rx.asm_got += f.len;
		if (f.flags & FABTX_F_LAST) {
			c->rx.asm_active = 0;
			c->st.msgs_discarded++;
		}
		fabtx__consume(c, &f, 1);
	}
}

/* The FIN is written and flushed.  If the backend dropped a write of ours
 * (fabtx_conn_write_dropped: the peer was gone), the close is clean only
 * where the peer had closed first (its FIN is in our ring) or had
 * acknowledged everything we sent before the FIN: as when the departure
 * is seen before the FIN (fabtx__close_try). */
static int fabtx__fin_verdict(fabtx_conn *c)
{
	if (!c->tx_dropped) return 0;
	if (!c->err) fabtx__slow(c); /* its last notifications (its FIN's) */
	fabtx__rx_discard(c);
	return c->fin_recv || c->tx.peer_ack >= c->fin_at ? 0 : -ECONNRESET;
}

/* One step of a graceful close that never waits: push what is queued,
 * send FIN once there is a credit for it, then see the backend's writes
 * complete.  0 done, -EAGAIN not yet (credits or write completions to come,
 * which make the fd readable), other < 0 the error that lost data. */
static int fabtx__close_try(fabtx_conn *c)
{
	int rc;
	if (c->state != FABTX__ST_OPEN && c->state != FABTX__ST_CLOSING)
		return 0; /* never opened */
	/* is the peer still there? (its departure is news to a sender that
	 * never receives; a FIN written to a departed shm peer cannot tell) */
	if (c->state == FABTX__ST_OPEN && !c->err && !c->peer_gone)
		fabtx__slow(c); /* once: later steps follow the armed fd */
	if (c->state == FABTX__ST_OPEN && !c->err && c->fin_recv) {
		/* the peer closed first and is gone: nobody reads a FIN now */
		c->fin_sent = 1;
		c->state = FABTX__ST_CLOSING;
		return c->pend_buf ? -EPIPE : 0;
	}
	if (c->err) return c->err == -ESHUTDOWN ? 0 : c->err;
	c->state = FABTX__ST_CLOSING; /* no sends or receives from now on */
	fabtx__rx_discard(c);
	if (c->err) return c->err;
	if (c->fin_recv && !c->fin_sent) {
		/* the peer closed too: it reads nothing more (nor a FIN) */
		c->fin_sent = 1;
		return c->pend_buf ? -EPIPE : 0;
	}
	/* the peer is gone without a FIN (it failed or aborted): a FIN would
	 * reach nobody; what is queued, and what it had not acknowledged, may
	 * be lost */
	if (c->peer_gone && !c->fin_sent)
		return c->pend_buf || c->tx.seq != c->tx.peer_ack ? -ECONNRESET
		                                                  : 0;
	if (!c->fin_sent) {
		rc = fabtx__push_pending(c);
		if (c->err) return c->err;
		if (c->peer_gone) return -ECONNRESET;
		if (rc < 0) return rc;
		if (!fabtx__credits(c)) {
			if (c->err) return c->err;
			return c->peer_gone ? -ECONNRESET : -EAGAIN;
		}
		{
			fabtx__cur k;
			fabtx_iov v;
			v.base = NULL;
			v.len = 0;
			fabtx__cur_init(&k, &v, 1);
			c->fin_at = c->tx.seq;
			rc = fabtx__put_chunk(c, &k, 0, 0,
			                      FABTX_F_FIN | FABTX_F_FIRST |
			                          FABTX_F_LAST,
			                      0, NULL);
		}
		if (rc < 0) return rc;
		c->fin_sent = 1;
	}
	if (!c->be->data.flush) return fabtx__fin_verdict(c);
	rc = c->be->data.flush(c, 0);
	if (rc == -ETIMEDOUT) return -EAGAIN;
	return rc ? rc : fabtx__fin_verdict(c);
}

/* fabtx__close_try, its outcome kept once it has one */
static int fabtx__close_step(fabtx_conn *c)
{
	int rc;
	if (c->close_done) return c->close_rc;
	rc = fabtx__close_try(c);
	if (rc != -EAGAIN) {
		c->close_done = 1;
		c->close_rc = rc;
	}
	return rc;
}

FABTX__DEF int fabtx_conn_shutdown(fabtx_conn *c)
{
	int rc, i, armed = 0;
	if (!c || c->state == FABTX__ST_NEW) return -EINVAL;
	for (i = 0; i < 64; i++) {
		rc = fabtx__close_step(c);
		if (rc != -EAGAIN || armed) return rc;
		/* arm, then look once more: what raced in before the arm is
		 * seen now, anything after it makes the fd readable (credits,
		 * and messages to release unread) */
		rc = fabtx_conn_arm_mask(c, FABTX_POLLIN | FABTX_POLLOUT);
		if (rc == 0)
			armed = 1;
		else if (rc != -EAGAIN)
			fabtx_conn_fail(c, rc);
	}
	return -EAGAIN; /* events keep coming: the fd is readable */
}

FABTX__DEF int fabtx_conn_close(fabtx_conn *c, int linger_ms)
{
	uint64_t dl = fabtx__deadline(linger_ms);
	int rc;
	if (!c) return -EINVAL;
	for (;;) {
		rc = fabtx__close_step(c);
		if (rc != -EAGAIN) break;
		if (c->fin_sent) { /* the backend's writes still completing */
			rc = c->be->data.flush(c, fabtx__remaining_ms(dl));
			if (rc == 0) rc = fabtx__fin_verdict(c);
			break;
		}
		/* credits, or messages to release unread (not while the
		 * application's held messages block the ring: none can come) */
		rc = fabtx__wait(
		    c, dl,
		    FABTX__WANT_TX |
		        (fabtx__rx_stalled(c) ? 0 : FABTX__WANT_RX));
		if (rc < 0) break;
	}
	/* the linger time is up with writes outstanding: what is left is
	 * dropped, not waited for again in the backend's disconnect */
	fabtx__conn_free(c, !c->fin_sent || rc == -ETIMEDOUT);
	return rc;
}

FABTX__DEF int fabtx_conn_stats_get(fabtx_conn *c, fabtx_conn_stats *st)
{
	if (!c || !st) return -EINVAL;
	*st = c->st;
	return 0;
}

FABTX__DEF const char *fabtx_conn_backend_name(fabtx_conn *c)
{
	return c ? c->be->scheme : "";
}

FABTX__DEF const char *fabtx_conn_url(const fabtx_conn *c)
{
	return c ? c->url : "";
}

FABTX__DEF fabtx_ctx *fabtx_conn_ctx(fabtx_conn *c)
{
	return c ? c->ctx : NULL;
}

FABTX__DEF size_t fabtx_conn_send_room(fabtx_conn *c)
{
	if (!c) return 0;
	return (size_t)fabtx_ring_tx_credits(&c->tx) *
	       fabtx_ring_payload(c->tx.c);
}

FABTX__DEF int fabtx_conn_in_place(fabtx_conn *c)
{
	return c && (c->be->caps & FABTX_BCAP_ORDERED) != 0;
}

FABTX__DEF int fabtx_conn_peer_cred(fabtx_conn *c, fabtx_peer_cred *out)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof ss;
	struct ucred u;
	socklen_t ul = sizeof u;
	int fd;
	if (!c || !out) return -EINVAL;
	fd = c->be->setup.ctrl_fd ? c->be->setup.ctrl_fd(c) : -1;
	if (fd < 0) return -ENOTSUP;
	if (getsockname(fd, (struct sockaddr *)&ss, &sl) != 0 ||
	    ss.ss_family != AF_UNIX)
		return -ENOTSUP;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &u, &ul) != 0)
		return -errno;
	out->pid = (long)u.pid;
	out->uid = (unsigned)u.uid;
	out->gid = (unsigned)u.gid;
	return 0;
}

/* ====================================================== shm:// backend */
#ifndef FABTX_NO_SHM
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <fcntl.h>

/* shm://NAME.  Control channel: a SOCK_SEQPACKET Unix socket in the
 * abstract namespace ("\0fabtx-shm:NAME"), which also carries the window
 * memfd (SCM_RIGHTS, once, with the handshake), the wakeups, and reports a
 * dead peer as EOF.  Windows: memfds mapped by both sides; "remote writes"
 * are stores into the peer's mapping (FABTX_BCAP_DIRECT), published by a
 * release store of the footer seq.  Doorbells: the owner of a window sets
 * hdr->armed before it sleeps; a writer that finds it set (after a full
 * fence) clears it and sends a one-byte WAKE datagram on the control
 * socket, which is the fd the owner polls.  A spinning peer costs no
 * system calls.
 *
 * Copy mode (FABTX_SHM_MODE=copy in the environment when the ctx is
 * created): the same channel and windows, but the backend is not DIRECT:
 * the core stages cells and calls data.write, which copies into the peer's
 * mapping and then publishes the data position (seq_cst) in the peer's
 * header word reserved[0], the way an RDMA backend's write delivers its
 * notification after the data; the peer's progress() hands it to
 * fabtx_conn_data_in.  It runs the core's whole RDMA path (staging, runs,
 * skips, hints, credits by write) without a fabric.  Both sides must use
 * the same mode: the window key says which (a mismatch is refused).
 *
 * The peer is not trusted with anything that could hurt this process:
 *  - windows are sealed against shrinking and growing (F_SEAL_SHRINK |
 *    F_SEAL_GROW | F_SEAL_SEAL) before they are sent, and a peer window
 *    that is not sealed against shrinking, or smaller than the ring, is
 *    refused: no ftruncate can turn an access into SIGBUS;
 *  - only what the ring needs is mapped, whatever size the peer claims;
 *  - no file description is shared for wakeups: each side's socket end is
 *    its own, sent to and read from with MSG_DONTWAIT | MSG_NOSIGNAL, so
 *    nothing the peer does to its fds can block this process or raise
 *    SIGPIPE; a flood of wakeups costs a bounded number of reads a call. */
#define FABTX__SHM_WAKE 'W'
/* The armed word (fabtx_win_hdr.armed, in the sleeper's window): 0 awake;
 * otherwise what wakes it.  ANY is what a sleeper waiting for both stores
 * (and all that older versions stored); DATA or CREDIT alone let the
 * writer skip the wakeup for the other kind: a side waiting for a reply
 * is not woken by the credit reports of the peer reading its message (a
 * 1 MiB message carries two, a 4 MiB one eight).  A peer's word is only
 * a hint: a wrong value costs that peer its wakeups or an extra one. */
#define FABTX__SHM_ARM_ANY 1u
#define FABTX__SHM_ARM_DATA 2u
#define FABTX__SHM_ARM_CREDIT 4u
#define FABTX__SHM_KEY_COPY 1u /* the window key of a copy-mode peer */
/* copy mode: not DIRECT (the table says) */
#define fabtx__shm_copy(c) (!((c)->be->caps & FABTX_BCAP_DIRECT))
#define FABTX__SHM_SEALS (F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL)
typedef struct fabtx__shm_conn {
	int sock;
	int win_fd;
	void *win;
	size_t win_len;
	void *tx; /* copy mode: the TX staging area */
	size_t tx_len;
	uint64_t seen_pos; /* copy mode: the last data position delivered */
	void *peer_win;
	size_t peer_win_len;
	int rfd; /* the peer's window memfd, as it arrived */
	int fds_sent;
	int connecting; /* a non-blocking connect found the backlog full */
	struct sockaddr_un sa;
	socklen_t salen;
} fabtx__shm_conn;

typedef struct fabtx__shm_listener {
	int sock;
} fabtx__shm_listener;

#ifdef FABTX_FAULTS
/* Fault knobs for fault trials (compiled in only with FABTX_FAULTS; off
 * unless FABTX_SHM_FAULT_SEED is set; read per process, again after a
 * fork).  Per mille: FABTX_SHM_EAGAIN (control sends and receives move
 * nothing: storms of -EAGAIN), FABTX_SHM_DROP_DB / FABTX_SHM_DUP_DB
 * (wakeups lost / sent twice); FABTX_SHM_VANISH_AFTER=N: the process is
 * SIGKILLed at its N-th backend operation; FABTX_SHM_WRITE_EAGAIN (copy
 * mode: writes find the queue full and do nothing).  DIRECT stores into
 * the peer's mapping cannot fail or be short. */
#include <signal.h>
static struct {
	pid_t pid;
	int on;
	uint64_t rnd, ops, vanish;
	unsigned eagain, drop_db, dup_db, write_eagain;
} fabtx__shm_fk;
static unsigned fabtx__shm_knob(const char *e)
{
	return e ? (unsigned)strtoul(e, NULL, 10) : 0u;
}
static void fabtx__shm_fault_init(void)
{
	const char *seed;
	if (fabtx__shm_fk.pid == getpid()) return;
	memset(&fabtx__shm_fk, 0, sizeof fabtx__shm_fk);
	fabtx__shm_fk.pid = getpid();
	seed = getenv("FABTX_SHM_FAULT_SEED");
	if (!seed) return;
	fabtx__shm_fk.on = 1;
	fabtx__shm_fk.rnd =
	    strtoull(seed, NULL, 10) * 2654435761u + (uint64_t)getpid() + 1;
	fabtx__shm_fk.eagain = fabtx__shm_knob(getenv("FABTX_SHM_EAGAIN"));
	fabtx__shm_fk.drop_db = fabtx__shm_knob(getenv("FABTX_SHM_DROP_DB"));
	fabtx__shm_fk.dup_db = fabtx__shm_knob(getenv("FABTX_SHM_DUP_DB"));
	fabtx__shm_fk.write_eagain =
	    fabtx__shm_knob(getenv("FABTX_SHM_WRITE_EAGAIN"));
	fabtx__shm_fk.vanish =
	    fabtx__shm_knob(getenv("FABTX_SHM_VANISH_AFTER"));
}
/* one backend operation: count it (vanish at the N-th); 1 with the
 * given per-mille chance */
static int fabtx__shm_fault(unsigned permille)
{
	uint64_t x;
	fabtx__shm_fault_init();
	if (!fabtx__shm_fk.on) return 0;
	if (fabtx__shm_fk.vanish && ++fabtx__shm_fk.ops >= fabtx__shm_fk.vanish)
		raise(SIGKILL);
	x = fabtx__shm_fk.rnd;
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	fabtx__shm_fk.rnd = x;
	return permille && x % 1000u < permille;
}
#define FABTX__SHM_FAULT(k) fabtx__shm_fault(fabtx__shm_fk.k)
#define FABTX__SHM_OP() ((void)fabtx__shm_fault(0))
#else
#define FABTX__SHM_FAULT(k) 0
#define FABTX__SHM_OP() ((void)0)
#endif

static int fabtx__shm_addr(const char *name, struct sockaddr_un *sa,
                           socklen_t *len)
{
	size_t n = strlen(name), i;
	static const char pfx[] = "fabtx-shm:";
	/* abstract address: NUL, prefix, name (no terminator) in sun_path */
	if (n == 0 || n > sizeof sa->sun_path - sizeof pfx) return -EINVAL;
	for (i = 0; i < n; i++) {
		char ch = name[i];
		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		      (ch >= '0' && ch <= '9') || ch == '.' || ch == '_' ||
		      ch == '-'))
			return -EINVAL;
	}
	memset(sa, 0, sizeof *sa);
	sa->sun_family = AF_UNIX;
	memcpy(sa->sun_path + 1, pfx, sizeof pfx - 1);
	memcpy(sa->sun_path + sizeof pfx, name, n);
	*len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + sizeof pfx +
	                   n);
	return 0;
}

static fabtx__shm_conn *fabtx__shm_new(fabtx_conn *c, int sock)
{
	fabtx__shm_conn *s =
	    (fabtx__shm_conn *)fabtx__zalloc(&c->ctx->a, sizeof *s);
	if (!s) return NULL;
	s->sock = sock;
	s->win_fd = s->rfd = -1;
	c->bdata = s;
	return s;
}

static int fabtx__shm_listen(fabtx_listener *l, const char *addr)
{
	struct sockaddr_un sa;
	socklen_t sl;
	fabtx__shm_listener *sl_;
	int fd, rc = fabtx__shm_addr(addr, &sa, &sl);
	if (rc < 0) return rc;
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) return -errno;
	if (bind(fd, (struct sockaddr *)&sa, sl) < 0 || listen(fd, 128) < 0) {
		rc = -errno;
		close(fd);
		return rc;
	}
	sl_ = (fabtx__shm_listener *)fabtx__zalloc(&l->ctx->a, sizeof *sl_);
	if (!sl_) {
		close(fd);
		return -ENOMEM;
	}
	sl_->sock = fd;
	l->bdata = sl_;
	return 0;
}

static int fabtx__shm_listener_fd(fabtx_listener *l)
{
	return ((fabtx__shm_listener *)l->bdata)->sock;
}

static int fabtx__shm_accept(fabtx_listener *l, fabtx_conn *c, int timeout_ms)
{
	fabtx__shm_listener *sl = (fabtx__shm_listener *)l->bdata;
	uint64_t dl = fabtx__deadline(timeout_ms);
	int fd;
	for (;;) {
		fd =
		    accept4(sl->sock, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
		if (fd >= 0) break;
		if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
			return -errno;
		if (fabtx__remaining_ms(dl) == 0)
			return timeout_ms ? -ETIMEDOUT : -EAGAIN;
		fabtx__poll1(sl->sock, POLLIN, fabtx__remaining_ms(dl));
	}
	if (!fabtx__shm_new(c, fd)) {
		close(fd);
		return -ENOMEM;
	}
	return 0;
}

static void fabtx__shm_listener_close(fabtx_listener *l)
{
	fabtx__shm_listener *sl = (fabtx__shm_listener *)l->bdata;
	if (!sl) return;
	close(sl->sock);
	fabtx__free(&l->ctx->a, sl);
	l->bdata = NULL;
}

/* one connect(): 0 connected, -EAGAIN the backlog is full, or an error */
static int fabtx__shm_try_connect(fabtx__shm_conn *s)
{
	for (;;) {
		if (connect(s->sock, (struct sockaddr *)&s->sa, s->salen) ==
		    0) {
			s->connecting = 0;
			return 0;
		}
		if (errno == EINTR) continue;
		if (errno == EAGAIN) return -EAGAIN;
		return errno == ENOENT ? -ECONNREFUSED
		                       : -errno; /* nobody listens */
	}
}

/* timeout 0: never waits (-EINPROGRESS while the server's backlog is
 * full: connect_poll tries again); otherwise retries until the deadline */
static int fabtx__shm_connect(fabtx_conn *c, const char *addr, int timeout_ms)
{
	uint64_t dl = fabtx__deadline(timeout_ms);
	fabtx__shm_conn *s;
	struct sockaddr_un sa;
	socklen_t sl;
	int fd, rc = fabtx__shm_addr(addr, &sa, &sl);
	if (rc < 0) return rc;
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) return -errno;
	s = fabtx__shm_new(c, fd);
	if (!s) {
		close(fd);
		return -ENOMEM;
	}
	s->sa = sa;
	s->salen = sl;
	s->connecting = 1;
	while ((rc = fabtx__shm_try_connect(s)) == -EAGAIN) {
		if (timeout_ms == 0) return -EINPROGRESS;
		if (fabtx__remaining_ms(dl) == 0) return -ETIMEDOUT;
		fabtx__poll1(fd, POLLOUT, 1);
	}
	return rc; /* on error the core's free closes the socket */
}

static int fabtx__shm_connect_poll(fabtx_conn *c)
{
	FABTX__SHM_OP();
	return fabtx__shm_try_connect((fabtx__shm_conn *)c->bdata);
}

/* the socket, once connected (a full backlog says nothing on it) */
static int fabtx__shm_ctrl_fd(fabtx_conn *c)
{
	fabtx__shm_conn *s = (fabtx__shm_conn *)c->bdata;
	return s && !s->connecting ? s->sock : -1;
}

static int fabtx__shm_ctrl_send(fabtx_conn *c, const void *msg, size_t len,
                                int timeout_ms)
{
	fabtx__shm_conn *s = (fabtx__shm_conn *)c->bdata;
	struct msghdr mh;
	struct iovec iv;
	union {
		struct cmsghdr h;
		char b[CMSG_SPACE(sizeof(int))];
	} cm;
	uint64_t dl = fabtx__deadline(timeout_ms);
	ssize_t n;
	if (FABTX__SHM_FAULT(eagain)) return -EAGAIN;
	memset(&mh, 0, sizeof mh);
	iv.iov_base = (void *)(uintptr_t)msg;
	iv.iov_len = len;
	mh.msg_iov = &iv;
	mh.msg_iovlen = 1;
	if (!s->fds_sent && s->win_fd >= 0) { /* the window rides along */
		struct cmsghdr *h;
		memset(&cm, 0, sizeof cm);
		mh.msg_control = cm.b;
		mh.msg_controllen = sizeof cm.b;
		h = CMSG_FIRSTHDR(&mh);
		h->cmsg_level = SOL_SOCKET;
		h->cmsg_type = SCM_RIGHTS;
		h->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(h), &s->win_fd, sizeof(int));
	}
	for (;;) {
		n = sendmsg(s->sock, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n >= 0) break;
		if (errno == EINTR) continue;
		if (errno == EPIPE || errno == ECONNRESET) return -ECONNRESET;
		if (errno != EAGAIN) return -errno;
		if (fabtx__remaining_ms(dl) == 0) return -EAGAIN;
		fabtx__poll1(s->sock, POLLOUT, fabtx__remaining_ms(dl));
	}
	if (mh.msg_control) s->fds_sent = 1;
	return 0;
}

/* keep the one window fd a handshake may carry; close anything else */
static void fabtx__shm_take_fds(fabtx__shm_conn *s, struct msghdr *mh)
{
	struct cmsghdr *h;
	for (h = CMSG_FIRSTHDR(mh); h; h = CMSG_NXTHDR(mh, h)) {
		int fds[4], k, nf;
		if (h->cmsg_level != SOL_SOCKET || h->cmsg_type != SCM_RIGHTS)
			continue;
		nf = (int)((h->cmsg_len - CMSG_LEN(0)) / sizeof(int));
		if (nf > 4) nf = 4;
		memcpy(fds, CMSG_DATA(h), (size_t)nf * sizeof(int));
		for (k = 0; k < nf; k++) {
			if (nf == 1 && s->rfd < 0 && !s->peer_win)
				s->rfd = fds[k];
			else
				close(fds[k]); /* unexpected: never leak */
		}
	}
}

static int fabtx__shm_ctrl_recv(fabtx_conn *c, void *buf, size_t cap,
                                int timeout_ms)
{
	fabtx__shm_conn *s = (fabtx__shm_conn *)c->bdata;
	struct msghdr mh;
	struct iovec iv;
	union {
		struct cmsghdr h;
		char b[CMSG_SPACE(4 * sizeof(int))];
	} cm;
	uint64_t dl = fabtx__deadline(timeout_ms);
	ssize_t n;
	int wakes = 0;
	if (FABTX__SHM_FAULT(eagain)) return -EAGAIN;
	for (;;) {
		memset(&mh, 0, sizeof mh);
		iv.iov_base = buf;
		iv.iov_len = cap;
		mh.msg_iov = &iv;
		mh.msg_iovlen = 1;
		mh.msg_control = cm.b;
		mh.msg_controllen = sizeof cm.b;
		n = recvmsg(s->sock, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
		if (n > 0) {
			fabtx__shm_take_fds(s, &mh);
			if (n == 1 && cap &&
			    *(const char *)buf == FABTX__SHM_WAKE &&
			    !(mh.msg_flags & MSG_TRUNC)) {
				/* a wakeup: it has done its work by waking us; a
				 * flood of them is read 64 at a time per call */
				if (++wakes < 64) continue;
				return -EAGAIN;
			}
			break;
		}
		if (n == 0) return -ECONNRESET; /* EOF: the peer is gone */
		if (errno == EINTR) continue;
		if (errno == ECONNRESET) return -ECONNRESET;
		if (errno != EAGAIN) return -errno;
		if (fabtx__remaining_ms(dl) == 0) return -EAGAIN;
		fabtx__poll1(s->sock, POLLIN, fabtx__remaining_ms(dl));
	}
	if (mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) return -EPROTO;
	return (int)n;
}

static int fabtx__shm_win_open(fabtx_conn *c, uint64_t rx_len, uint64_t tx_len,
                               fabtx_win *rx, fabtx_win *tx)
{
	fabtx__shm_conn *s = (fabtx__shm_conn *)c->bdata;
	(void)tx_len;
	FABTX__SHM_OP();
	s->win_fd =
	    memfd_create("fabtx-shm-ring", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (s->win_fd < 0) return -errno;
	/* sealed before the peer ever holds it: it can neither shrink it
	 * (SIGBUS here) nor unseal it */
	if (ftruncate(s->win_fd, (off_t)rx_len) < 0 ||
	    fcntl(s->win_fd, F_ADD_SEALS, FABTX__SHM_SEALS) < 0)
		return -errno;
	s->win = mmap(NULL, (size_t)rx_len, PROT_READ | PROT_WRITE, MAP_SHARED,
	              s->win_fd, 0);
	if (s->win == MAP_FAILED) {
		s->win = NULL;
		return -errno;
	}
	s->win_len = (size_t)rx_len;
	rx->base = s->win;
	rx->len = rx_len;
	rx->addr = 0;
	rx->key = fabtx__shm_copy(c) ? FABTX__SHM_KEY_COPY : 0u;
	rx->desc = NULL;
	memset(tx, 0, sizeof *tx);
	if (tx_len) { /* copy mode: the staging area */
		s->tx = mmap(NULL, (size_t)tx_len, PROT_READ | PROT_WRITE,
		             MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (s->tx == MAP_FAILED) {
			s->tx = NULL;
			return -errno;
		}
		s->tx_len = (size_t)tx_len;
		tx->base = s->tx;
		tx->len = tx_len;
	}
	return 0;
}

/* The peer's window: a memfd sealed against shrinking, at least as long
 * as the ring (peer->len: the core asks for that much, never more). */
static int fabtx__shm_win_import(fabtx_conn *c, const fabtx_win *peer,
                                 fabtx_win_limits *lim)
{
	fabtx__shm_conn *s = (fabtx__shm_conn *)c->bdata;
	struct stat stt;
	int seals;
	FABTX__SHM_OP();
	if (s->rfd < 0 || peer->addr != 0) return -EPROTO;
	if (peer->key != (fabtx__shm_copy(c) ? FABTX__SHM_KEY_COPY : 0u)) {
		fabtx_log(c->ctx, FABTX_LOG_WARN,
		          "%s: the peer's shm mode (FABTX_SHM_MODE) differs",
		          c->url);
		return -EPROTO;
	}
	seals = fcntl(s->rfd, F_GET_SEALS);
	if (seals < 0 || !(seals & F_SEAL_SHRINK)) {
		fabtx_log(
		    c->ctx, FABTX_LOG_WARN,
		    "%s: peer window is not a memfd sealed against shrinking",
		    c->url);
		return -EPROTO;
	}
	if (fstat(s->rfd, &stt) < 0) return -errno;
	if (!S_ISREG(stt.st_mode) || (uint64_t)stt.st_size < peer->len)
		return -EPROTO;
	s->peer_win = mmap(NULL, (size_t)peer->len, PROT_READ | PROT_WRITE,
	                   MAP_SHARED, s->rfd, 0);
	if (s->peer_win == MAP_FAILED) {
		s->peer_win = NULL;
		return -errno;
	}
	s->peer_win_len = (size_t)peer->len;
	close(s->rfd);
	s->rfd = -1;
	if (!fabtx__shm_copy(c)) lim->peer_base = (uint8_t *)s->peer_win;
	return 0;
}

/* wake the peer if it sleeps (armed); the caller published with seq_cst */
static void fabtx__shm_wake(fabtx_conn *c, uint32_t kind)
{
	fabtx__shm_conn *s = (fabtx__shm_conn *)c->bdata;
	fabtx_win_hdr *ph = (fabtx_win_hdr *)s->peer_win;
	if ((__atomic_load_n(&ph->armed, __ATOMIC_SEQ_CST) &
	     (FABTX__SHM_ARM_ANY | kind)) &&
	    __atomic_exchange_n(&ph->armed, 0u, __ATOMIC_SEQ_CST)) {
		static const char w = FABTX__SHM_WAKE;
		ssize_t n = 0;
		/* EAGAIN: its socket is full, so readable: it wakes anyway;
		 * a peer that is gone is seen on the control channel */
		if (!FABTX__SHM_FAULT(drop_db))
			n = send(s->sock, &w, 1, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (FABTX__SHM_FAULT(dup_db))
			n = send(s->sock, &w, 1, MSG_DONTWAIT | MSG_NOSIGNAL);
		(void)n;
		c->st.doorbells_sent++;
	}
}

/* copy mode: data up to pos is in the peer's window (positions only grow:
 * one thread drives a connection) */
static void fabtx__shm_publish(fabtx_conn *c, uint64_t pos)
{
	fabtx__shm_conn *s = (fabtx__shm_conn *)c->bdata;
	fabtx_win_hdr *ph = (fabtx_win_hdr *)s->peer_win;
	__atomic_store_n(&ph->reserved[0], pos, __ATOMIC_SEQ_CST);
}

static int fabtx__shm_ring(fabtx_conn *c, fabtx_db_kind kind, uint64_t pos)
{
	/* DIRECT: the core published (footer seq, credit word) with seq_cst;
	 * copy mode re-rings a data position (a credit-starved sender) */
	if (fabtx__shm_copy(c) && kind == FABTX_DB_KIND_DATA)
		fabtx__shm_publish(c, pos);
	fabtx__shm_wake(c, kind == FABTX_DB_KIND_DATA ? FABTX__SHM_ARM_DATA
	                   : kind == FABTX_DB_KIND_CREDIT
	                       ? FABTX__SHM_ARM_CREDIT
	                       : FABTX__SHM_ARM_DATA | FABTX__SHM_ARM_CREDIT);
	return 0;
}

/* copy mode: the core's remote write, then its notification */
static int fabtx__shm_write(fabtx_conn *c, const fabtx_seg *segs, int nseg,
                            uint64_t off, uint64_t pos, unsigned flags)
{
	fabtx__shm_conn *s = (fabtx__shm_conn *)c->bdata;
	uint8_t *pw = (uint8_t *)s->peer_win;
	int i;
	FABTX__SHM_OP();
	if (FABTX__SHM_FAULT(write_eagain)) return -EAGAIN; /* nothing done */
	if ((flags & FABTX_WRITE_CREDIT) && nseg == 1 && off == 0 &&
	    segs[0].len == 8) { /* the credit word, read with atomic loads */
		uint64_t v;
		memcpy(&v, segs[0].addr, 8);
		__atomic_store_n((uint64_t *)(void *)pw, v, __ATOMIC_SEQ_CST);
		fabtx__shm_wake(c, FABTX__SHM_ARM_CREDIT);
		return 0;
	}
	for (i = 0; i < nseg; i++) {
		if (off > s->peer_win_len ||
		    segs[i].len > s->peer_win_len - off)
			return -EINVAL;
		memcpy(pw + off, segs[i].addr, segs[i].len);
		off += segs[i].len;
	}
	/* writes land in order: a following chunk's notification covers
	 * this one */
	if ((flags & (FABTX_WRITE_DATA | FABTX_WRITE_CREDIT)) &&
	    !(flags & FABTX_WRITE_MORE)) {
		if (flags & FABTX_WRITE_DATA) fabtx__shm_publish(c, pos);
		fabtx__shm_wake(
		    c, (flags & FABTX_WRITE_DATA ? FABTX__SHM_ARM_DATA : 0u) |
		           (flags & FABTX_WRITE_CREDIT ? FABTX__SHM_ARM_CREDIT
		                                       : 0u));
	}
	return 0;
}

static int fabtx__shm_progress(fabtx_conn *c)
{
	fabtx__shm_conn *s = (fabtx__shm_conn *)c->bdata;
	fabtx_win_hdr *h = (fabtx_win_hdr *)s->win;
	FABTX__SHM_OP();
	/* awake: nobody need send a wakeup (they are read by ctrl_recv).  Not
	 * in copy mode: a core that is not DIRECT may call progress between
	 * arming and sleeping (fabtx__credits); the waker clears the flag. */
	if (!fabtx__shm_copy(c) && fabtx__load_relaxed(&h->armed))
		fabtx__store_relaxed(&h->armed, 0u);
	if (fabtx__shm_copy(c)) { /* the peer's data notification */
		uint64_t pos =
		    __atomic_load_n(&h->reserved[0], __ATOMIC_ACQUIRE);
		if (pos != s->seen_pos) {
			s->seen_pos = pos;
			fabtx_conn_data_in(c, pos);
		}
	}
	return 0;
}

static int fabtx__shm_arm(fabtx_conn *c)
{
	fabtx__shm_conn *s = (fabtx__shm_conn *)c->bdata;
	fabtx_win_hdr *h = (fabtx_win_hdr *)s->win;
	unsigned ev = fabtx_conn_arm_events(c);
	FABTX__SHM_OP();
	__atomic_store_n(&h->armed,
	                 ev == FABTX_POLLIN    ? FABTX__SHM_ARM_DATA
	                 : ev == FABTX_POLLOUT ? FABTX__SHM_ARM_CREDIT
	                                       : FABTX__SHM_ARM_ANY,
	                 __ATOMIC_SEQ_CST);
	/* copy mode: a notification that came before the flag was seen */
	if (fabtx__shm_copy(c) &&
	    __atomic_load_n(&h->reserved[0], __ATOMIC_SEQ_CST) != s->seen_pos)
		return -EAGAIN;
	return 0; /* the core re-checks with seq_cst loads after this */
}

static int fabtx__shm_fd(fabtx_conn *c)
{
	return ((fabtx__shm_conn *)c->bdata)->sock;
}

static int fabtx__shm_flush(fabtx_conn *c, int timeout_ms)
{
	(void)c;
	(void)timeout_ms;
	return 0; /* stores are complete when they retire */
}

static void fabtx__shm_disconnect(fabtx_conn *c, int graceful)
{
	fabtx__shm_conn *s = (fabtx__shm_conn *)c->bdata;
	(void)graceful;
	if (!s) return;
	if (s->win) munmap(s->win, s->win_len);
	if (s->tx) munmap(s->tx, s->tx_len);
	if (s->peer_win) munmap(s->peer_win, s->peer_win_len);
	if (s->sock >= 0) close(s->sock);
	if (s->win_fd >= 0) close(s->win_fd);
	if (s->rfd >= 0) close(s->rfd);
	fabtx__free(&c->ctx->a, s);
	c->bdata = NULL;
}

/* The tables, member by member (C and C++11 alike), built once: DIRECT,
 * and copy mode (FABTX_SHM_MODE=copy: not DIRECT, not ORDERED). */
static fabtx_backend fabtx__shm_be, fabtx__shm_copy_be;
static void fabtx__shm_be_init(void)
{
	fabtx_backend *b = &fabtx__shm_be;
	b->scheme = "shm";
	b->caps = FABTX_BCAP_DIRECT | FABTX_BCAP_ORDERED;
	b->setup.listen = fabtx__shm_listen;
	b->setup.listener_fd = fabtx__shm_listener_fd;
	b->setup.accept = fabtx__shm_accept;
	b->setup.listener_close = fabtx__shm_listener_close;
	b->setup.connect = fabtx__shm_connect;
	b->setup.connect_poll = fabtx__shm_connect_poll;
	b->setup.ctrl_fd = fabtx__shm_ctrl_fd;
	b->setup.ctrl_send = fabtx__shm_ctrl_send;
	b->setup.ctrl_recv = fabtx__shm_ctrl_recv;
	b->setup.win_open = fabtx__shm_win_open;
	b->setup.win_import = fabtx__shm_win_import;
	b->setup.disconnect = fabtx__shm_disconnect;
	b->data.flush = fabtx__shm_flush;
	b->notify.ring = fabtx__shm_ring;
	b->notify.progress = fabtx__shm_progress;
	b->wait.arm = fabtx__shm_arm;
	b->wait.fd = fabtx__shm_fd;
	fabtx__shm_copy_be = *b;
	fabtx__shm_copy_be.caps = 0u;
	fabtx__shm_copy_be.data.write = fabtx__shm_write;
}

FABTX__DEF const fabtx_backend *fabtx_shm_backend(void)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	const char *m = getenv("FABTX_SHM_MODE");
	pthread_once(&once, fabtx__shm_be_init);
	return m && strcmp(m, "copy") == 0 ? &fabtx__shm_copy_be
	                                   : &fabtx__shm_be;
}
#endif /* FABTX_NO_SHM */
#endif
