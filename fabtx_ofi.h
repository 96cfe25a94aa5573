/* SPDX-License-Identifier: MIT */
/* fabtx_ofi.h -- libfabric (OFI) backend for fabtx: ofi:// URLs
 *
 * DO THIS
 *   #define FABTX_IMPLEMENTATION      (in the one implementation TU)
 *   #include "fabtx.h"
 *   #include "fabtx_ofi.h"
 *   ... fabtx_ctx_add_backend(ctx, fabtx_ofi_backend());
 *   Link with -lfabric.
 *
 * URLS
 *   ofi://HOST:PORT[?provider=P&fabric=F&domain=D&ep=msg|rdm]
 *   ofi://HOST:PORT@FABRIC:PROVIDER       (nanomsg-ofi form)
 *   ofi://[v6addr]:PORT, and HOST "*" (listen on every address)
 *   The listener chooses the provider: URL option, else the environment
 *   variable FABTX_OFI_PROVIDER, else the first provider fi_getinfo offers
 *   that can do RMA writes with remote CQ data (sockets, udp, ofi_rxd and
 *   ofi_mrail are only used when named; so is shm, which trusts its peers:
 *   a client follows a listener into shm only if it names shm too).  A
 *   connecting client learns the listener's choice over the bootstrap
 *   socket and opens the same provider; if its URL names a different one the
 *   connect fails with -EPROTONOSUPPORT.
 *
 * HOW IT WORKS (see docs/ofi.md)
 *   - Bootstrap/control channel: a TCP socket to HOST:PORT.  It carries the
 *     fabric addresses (FI_EP_RDM: endpoint names for the AV; FI_EP_MSG: the
 *     passive endpoint's name plus a token matched in FI_CONNREQ), then the
 *     core's ctrl_send/ctrl_recv messages (u32 length + payload), and it
 *     doubles as a dead-peer detector: a killed peer's kernel closes it.
 *   - Connection setup never waits (fabtx__ofi_setup): accept(l, c, 0)
 *     returns once the bootstrap socket is accepted and ctrl_recv(c, .., 0)
 *     finishes the setup (-EAGAIN until done); connect(c, addr, 0) returns
 *     -EINPROGRESS and connect_poll finishes it; ctrl_fd is the fd() epoll
 *     set.  A token is 64 bits from getrandom(2), one per client, used
 *     once; a connection request whose token no waiting client holds is
 *     rejected at once (nothing is kept); at most 64 clients wait at a
 *     listener, each for at most the context's handshake_ms.
 *   - Data: one fi_writemsg per core write() into the peer's RX window; the
 *     doorbell is the write's remote CQ data (FI_REMOTE_CQ_DATA), so the
 *     target completion that delivers the doorbell also proves the data is
 *     visible.  Credit-only doorbells: an 8-byte inject write with CQ data
 *     into the reserved word at offset 56 of the peer's window header.
 *     A message that fits one cell and the inject size is one inject of
 *     its payload from the caller's buffer, the footer's len and flags in
 *     the upper half of the 64-bit CQ data (write_imm; FABTX_OFI_NO_IMM or
 *     FABTX_IMM=0 turn it off).
 *   - progress() drains the CQ (manual progress), turns remote CQ data into
 *     fabtx_conn_doorbell_in(), reposts receives under FI_RX_CQ_DATA and
 *     fails the connection on CQ errors, FI_SHUTDOWN or a dead bootstrap
 *     socket.
 *   - fd(): an epoll set of the CQ wait fd (FI_WAIT_FD + FI_GETWAIT; armed by
 *     fi_trywait), the EQ fd (FI_EP_MSG), the bootstrap socket (control
 *     frames, hang-up) and a timerfd.  Providers whose wait fd is not signalled by
 *     remote writes (shm) or that cannot fi_trywait get the timerfd, armed
 *     for FABTX_OFI_TIMER_US (default 1000) by arm(), so a sleeper never
 *     sleeps through work.  Such a sleeper first writes a word into its
 *     peer's window; the peer, once it has written to it, answers with a
 *     WAKE (fabtx__ofi_wake_peer): a datagram on the connection's wake
 *     socket (AF_UNIX, abstract names exchanged in HELLO and READY,
 *     connected to each other), else a frame on the bootstrap socket, so
 *     the timer is only a safety net (set by arm() when it is not set
 *     already, not on every arm).  After the
 *     peer's departure the timer also ends the drain's waits (the drain
 *     never blocks: progress and arm advance it).
 *   - System calls per message in an event loop: arm() with a wait fd is
 *     fi_trywait alone (the core's slow path has just run progress); the
 *     core's look at the control channel reads the bootstrap socket only
 *     after a sleep (the socket is in the fd's set) or once a millisecond
 *     (fabtx__ofi_ctrl_look), reading ahead so a short read ends it; the
 *     progress call right after one that read the CQ empty is skipped.
 *   - Windows of a transparent huge page or more are huge-page aligned and
 *     madvised for huge pages (a walked ring of small pages misses the TLB).
 *   - Memory registration honours mr_mode: FI_MR_LOCAL (descriptors),
 *     FI_MR_VIRT_ADDR (addresses vs offsets), FI_MR_PROV_KEY (provider keys
 *     are sent in the handshake via fabtx_win.key), FI_MR_ALLOCATED,
 *     FI_MR_ENDPOINT (fi_mr_bind + fi_mr_enable).  Zero-copy sends use one
 *     fabtx_mr_cache per domain (mr_cache op).
 *
 * ENVIRONMENT
 *   FABTX_OFI_PROVIDER   provider when the URL names none
 *   FABTX_OFI_WAIT       fd | timer: force the wakeup method
 *   FABTX_OFI_TIMER_US   period of the timer fallback (default 1000)
 *   FABTX_OFI_NO_HUGEPAGE=1  windows in small pages only
 *   (and for measurements: FABTX_OFI_WAKE_SOCK=0, FABTX_OFI_NO_IMM,
 *   FABTX_OFI_NO_COALESCE, FABTX_OFI_NO_SPLIT, FABTX_OFI_STATS; see
 *   docs/ofi.md)
 */
#ifndef FABTX_OFI_H_INCLUDED
#define FABTX_OFI_H_INCLUDED
#include "fabtx.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The ofi:// backend (a static table; add it with fabtx_ctx_add_backend). */
FABTX_API const fabtx_backend *fabtx_ofi_backend(void);

/* Backend details of an ofi:// connection (for tests and diagnostics). */
typedef struct fabtx_ofi_info {
	char provider[64];
	char fabric[64];
	char domain[64];
	int ep_rdm;       /* 1: FI_EP_RDM, 0: FI_EP_MSG             */
	uint64_t mr_mode; /* FI_MR_* bits the provider asked for    */
	uint64_t rx_mode; /* rx_attr->mode (FI_RX_CQ_DATA ...)      */
	int wait_fd;      /* 1: CQ wait fd + fi_trywait; 0: timer    */
	size_t inject_size;
	uint64_t writes, injects, doorbells, cq_data_in, timer_wakeups;
	uint64_t queued; /* writes the provider refused at first (EAGAIN) */
	uint64_t coalesced, coalesced_out; /* chunks merged, merged writes */
	uint64_t split;                    /* writes sent as two injects */
	uint64_t imm; /* one-cell messages with the footer in CQ data */
	/* wakes (timer-polled providers): sleeps announced to the peer,
	 * WAKE frames sent to a sleeping peer, WAKE frames received */
	uint64_t sleeps, wakes_sent, wakes_in;
	/* the peer's numeric host, the other end of the bootstrap
	 * connection ("" if unknown): libzmq's Peer-Address */
	char peer[64];
	/* arm(): times it armed the fd (said 0), times it found work
	 * waiting instead (-EAGAIN: a round that looked too early) */
	uint64_t arms, arms_again;
	/* of wakes_sent: those sent as a datagram on the wake socket (a
	 * timer-polled provider whose peer is on this host: docs/ofi.md) */
	uint64_t wakes_dgram;
	/* client: 1 if its endpoint was opened while the listener read its
	 * HELLO (the listener's offer confirmed the guess), 0 if after */
	int early_ep;
	/* client: 1 if the core's request went before the setup was done
	 * (the listener's OFFER allowed it), 0 if after */
	int early_req;
	/* messages (not writes) that reached the endpoint and were dropped:
	 * nobody sends fabtx messages, but anyone can send an FI_EP_RDM
	 * endpoint some (docs/peers.md) */
	uint64_t strays;
	/* 1 if the endpoint was one made ahead of time (libfabric's shm
	 * provider: fabtx_ofi.h, the spare endpoint), 0 if made for it */
	int spare_ep;
} fabtx_ofi_info;
FABTX_API int fabtx_ofi_conn_info(fabtx_conn *c, fabtx_ofi_info *out);

#ifdef __cplusplus
}
#endif
#endif /* FABTX_OFI_H_INCLUDED */

/* ======================================================================= */
#if defined(FABTX_IMPLEMENTATION) && !defined(FABTX_OFI_IMPLEMENTATION_INCLUDED)
#define FABTX_OFI_IMPLEMENTATION_INCLUDED

#include <rdma/fabric.h>
#include <rdma/fi_cm.h>
#include <rdma/fi_domain.h>
#include <rdma/fi_endpoint.h>
#include <rdma/fi_eq.h>
#include <rdma/fi_errno.h>
#include <rdma/fi_rma.h>

#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <sys/un.h>
#include <unistd.h>

#ifndef FABTX__DEF /* normally from fabtx.h's implementation half */
#if defined(FABTX_STATIC) && defined(__GNUC__)
#define FABTX__DEF static __attribute__((unused))
#elif defined(FABTX_STATIC)
#define FABTX__DEF static
#else
#define FABTX__DEF
#endif
#endif

#define FABTX__OFI_VERSION FI_VERSION(1, 9)
#define FABTX__OFI_MAGIC 0x424f5846u /* "FXOB" little-endian */
#define FABTX__OFI_BOOT_VER 1u
#define FABTX__OFI_NAME_MAX 256u
#define FABTX__OFI_CTRL_MAX 512u
#define FABTX__OFI_BYE 0xffffffffu  /* ctrl frame: closed gracefully */
#define FABTX__OFI_WAKE 0xfffffffeu /* ctrl frame: you have work */
#define FABTX__OFI_HDR_SCRATCH 56u  /* spare of fabtx_win_hdr */
/* reserved[0] of fabtx_win_hdr: a peer that polls its CQ on a timer (no
 * wait fd: shm) writes 1 here in OUR window before it sleeps; we clear it
 * and send it a WAKE frame once we have written to it */
#define FABTX__OFI_HDR_PEER_SLEEPS 16u
/* server, FI_EP_MSG: clients that hold a token and whose connection
 * request has not come yet (more: the oldest is dropped) */
#define FABTX__OFI_MAX_CONNREQ 64
/* a connection being set up looks at what has no fd of its own (the
 * listener's and its own EQ) on a timer: first after 250 us, then at twice
 * the last interval, up to every 2 ms.  The EQ events of a connection
 * setup that goes well come within a few hundred microseconds (tcp over
 * loopback); with a fixed 2 ms tick each of the two EQ waits (server:
 * the request, client: FI_CONNECTED) cost up to a tick, and a zmq
 * connect over ofi-tcp took 5-12 ms.  A silent client that holds a token
 * costs a few fast ticks, then 500 a second as before. */
#define FABTX__OFI_SETUP_TICK_MIN_US 250
#define FABTX__OFI_SETUP_TICK_US 2000
#define FABTX__OFI_BMAX 1100u /* largest bootstrap payload */
/* OFFER, in the high bit of the address format word (which clients before
 * 2026-12-07 never read): this listener takes the core's request on the
 * bootstrap socket before its own setup is done (fabtx__ofi_quiet), so
 * the client may send it as soon as it has asked for the connection */
#define FABTX__OFI_OFFER_EARLY_REQ 0x80000000u

/* ------------------------------------------------------------- helpers */
static int fabtx__ofi_err(ssize_t rc) /* libfabric -FI_E* -> -errno */
{
	if (rc >= 0) return 0;
	if (rc == -FI_EAGAIN) return -EAGAIN;
	if (rc <= -FI_ERRNO_OFFSET) return -EIO;
	return (int)rc;
}

static void fabtx__ofi_put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static uint32_t fabtx__ofi_get32(const uint8_t *p)
{
	return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) |
	       ((uint32_t)p[3] << 24);
}

static void fabtx__ofi_put64(uint8_t *p, uint64_t v)
{
	fabtx__ofi_put32(p, (uint32_t)v);
	fabtx__ofi_put32(p + 4, (uint32_t)(v >> 32));
}

static uint64_t fabtx__ofi_get64(const uint8_t *p)
{
	return (uint64_t)fabtx__ofi_get32(p) |
	       ((uint64_t)fabtx__ofi_get32(p + 4) << 32);
}

static void fabtx__ofi_strlcpy(char *d, const char *s, size_t cap)
{
	size_t n = s ? strlen(s) : 0;
	if (cap == 0) return;
	if (n >= cap) n = cap - 1;
	if (n) memcpy(d, s, n);
	d[n] = 0;
}

/* ------------------------------------------------------------ URL parse */
typedef struct fabtx__ofi_url {
	char host[128];
	char port[16];
	char prov[64];
	char fabric[64];
	char domain[64];
	int ep; /* 0 unspec, 1 msg, 2 rdm */
} fabtx__ofi_url;

/* Parse what follows "ofi://".  0 or -EINVAL. */
static int fabtx__ofi_parse_url(const char *addr, fabtx__ofi_url *u)
{
	char buf[512], hp[512], tmp[64];
	const char *q = NULL, *at, *qm;
	size_t n;
	int rc;
	memset(u, 0, sizeof *u);
	if (!addr || (n = strlen(addr)) == 0 || n >= sizeof buf) return -EINVAL;
	memcpy(buf, addr, n + 1);
	qm = strchr(buf, '?');
	at = strchr(buf, '@');
	if (at && qm && at > qm) at = NULL; /* '@' inside the query */
	if (at) {
		/* HOST:PORT@FABRIC:PROVIDER[?query] */
		size_t hl = (size_t)(at - buf), fl;
		const char *fp = at + 1, *end = qm ? qm : buf + n, *colon;
		memcpy(hp, buf, hl);
		hp[hl] = 0;
		colon = NULL;
		{
			const char *s;
			for (s = fp; s < end; s++)
				if (*s == ':') colon = s;
		}
		if (!colon || colon == fp || colon + 1 >= end) return -EINVAL;
		fl = (size_t)(colon - fp);
		if (fl >= sizeof u->fabric ||
		    (size_t)(end - colon - 1) >= sizeof u->prov)
			return -EINVAL;
		memcpy(u->fabric, fp, fl);
		u->fabric[fl] = 0;
		memcpy(u->prov, colon + 1, (size_t)(end - colon - 1));
		u->prov[end - colon - 1] = 0;
		if (qm) {
			if (strlen(hp) + strlen(qm) >= sizeof hp)
				return -EINVAL;
			strcat(hp, qm);
		}
	} else {
		memcpy(hp, buf, n + 1);
	}
	rc = fabtx_url_hostport(hp, u->host, sizeof u->host, u->port,
	                        sizeof u->port, &q);
	if (rc < 0) return -EINVAL;
	if (!u->port[0] || !u->host[0]) return -EINVAL;
	{
		char *e = NULL;
		long pv = strtol(u->port, &e, 10);
		if (!e || *e || pv < 0 || pv > 65535) return -EINVAL;
	}
	if (q && *q == '?') q++;
	if (q && *q) {
		if (fabtx_url_query(q, "provider", tmp, sizeof tmp) >= 0)
			fabtx__ofi_strlcpy(u->prov, tmp, sizeof u->prov);
		if (fabtx_url_query(q, "prov", tmp, sizeof tmp) >= 0)
			fabtx__ofi_strlcpy(u->prov, tmp, sizeof u->prov);
		if (fabtx_url_query(q, "fabric", tmp, sizeof tmp) >= 0)
			fabtx__ofi_strlcpy(u->fabric, tmp, sizeof u->fabric);
		if (fabtx_url_query(q, "domain", tmp, sizeof tmp) >= 0)
			fabtx__ofi_strlcpy(u->domain, tmp, sizeof u->domain);
		if (fabtx_url_query(q, "ep", tmp, sizeof tmp) >= 0) {
			if (strcmp(tmp, "msg") == 0)
				u->ep = 1;
			else if (strcmp(tmp, "rdm") == 0)
				u->ep = 2;
			else
				return -EINVAL;
		}
	}
	/* "tcp+ofi_rxm" is accepted as a URL-friendly spelling of ';' */
	{
		char *p;
		for (p = u->prov; *p; p++)
			if (*p == '+') *p = ';';
	}
	return 0;
}

static int fabtx__ofi_host_is_loopback(const char *h)
{
	return strncmp(h, "127.", 4) == 0 || strcmp(h, "::1") == 0 ||
	       strcmp(h, "localhost") == 0;
}

/* The provider the user named: the URL's, else FABTX_OFI_PROVIDER's
 * (NULL or "" if neither names one) */
static const char *fabtx__ofi_named_prov(const fabtx__ofi_url *u)
{
	return u->prov[0] ? u->prov : getenv("FABTX_OFI_PROVIDER");
}

/* --------------------------------------------------------- ctx / domain */
typedef struct fabtx__ofi_dom {
	struct fabtx__ofi_dom *next;
	struct fi_info *info; /* as returned; used for keys and attrs */
	struct fid_fabric *fabric;
	struct fid_domain *domain;
	fabtx_mr_cache *mrc;
	int fabric_shared; /* fabric belongs to an older entry */
	/* shm: the endpoint made ahead of time (fabtx__ofi_spare_take) and
	 * the thread that makes it (sp_pid: the process it runs in, 0 none) */
	pthread_mutex_t sp_mu;
	pthread_cond_t sp_cv;
	pthread_t sp_tid;
	long sp_pid;
	int sp_busy, sp_want, sp_stop, sp_failed, sp_eps;
	struct fabtx__ofi_spare *sp;
} fabtx__ofi_dom;

/* fi_getinfo's answers, kept for a while: a client's fi_getinfo costs
 * 150-190 us here (tcp lists the interfaces through netlink each time),
 * about a tenth of a zmq connect over ofi-tcp */
#define FABTX__OFI_GI_N 8
#define FABTX__OFI_GI_MS 2000
typedef struct fabtx__ofi_gi {
	char key[400];
	struct fi_info *info; /* NULL: free slot */
	uint64_t at_ms;
} fabtx__ofi_gi;

typedef struct fabtx__ofi_ctx {
	fabtx_ctx *ctx;
	pthread_mutex_t lock;
	fabtx__ofi_dom *doms;
	fabtx__ofi_gi gi[FABTX__OFI_GI_N];
	unsigned gi_next;
} fabtx__ofi_ctx;

static int fabtx__ofi_ctx_init(fabtx_ctx *ctx, void **state)
{
	fabtx__ofi_ctx *s =
	    (fabtx__ofi_ctx *)fabtx_ctx_zalloc(ctx, sizeof(fabtx__ofi_ctx));
	if (!s) return -ENOMEM;
	s->ctx = ctx;
	pthread_mutex_init(&s->lock, NULL);
	*state = s;
	return 0;
}

/* A destroyed context's domains and fabrics, kept open for its orphans
 * (see fabtx__ofi_unpark_ctx); closed, in the context's order, with the
 * last of them.  Plain malloc: it outlives the context's allocator. */
typedef struct fabtx__ofi_keep {
	int refs, n;
	struct fid_domain **domain;
	struct fid_fabric **fabric; /* NULL where the fabric was shared */
} fabtx__ofi_keep;

/* the parked ends, orphans and keep records (fabtx__ofi_release) */
static pthread_mutex_t fabtx__ofi_park_lock = PTHREAD_MUTEX_INITIALIZER;

/* under the park lock */
static void fabtx__ofi_keep_put(fabtx__ofi_keep *k)
{
	int i;
	if (--k->refs > 0) return;
	for (i = 0; i < k->n; i++) {
		if (k->domain[i]) fi_close(&k->domain[i]->fid);
		if (k->fabric[i]) fi_close(&k->fabric[i]->fid);
	}
	free(k->domain);
	free(k->fabric);
	free(k);
}

static fabtx__ofi_keep *fabtx__ofi_unpark_ctx(fabtx_ctx *ctx);
static void fabtx__ofi_spare_stop(fabtx__ofi_dom *d);

static void fabtx__ofi_ctx_fini(fabtx_ctx *ctx, void *state)
{
	fabtx__ofi_ctx *s = (fabtx__ofi_ctx *)state;
	fabtx__ofi_dom *d, *nx;
	fabtx__ofi_keep *k;
	int n = 0, i;
	if (!s) return;
	k = fabtx__ofi_unpark_ctx(ctx); /* holds a reference of its own */
	if (k) {
		for (d = s->doms; d; d = d->next)
			n++;
		k->domain = (struct fid_domain **)calloc((size_t)n + 1,
		                                         sizeof *k->domain);
		k->fabric = (struct fid_fabric **)calloc((size_t)n + 1,
		                                         sizeof *k->fabric);
		if (!k->domain || !k->fabric) { /* cannot keep them: leak */
			free(k->domain);
			free(k->fabric);
			k->domain = NULL;
			k->fabric = NULL;
		}
	}
	for (d = s->doms; d; d = nx) {
		nx = d->next;
		fabtx__ofi_spare_stop(d); /* before its domain closes */
		if (d->mrc && fabtx_mr_cache_destroy(d->mrc) < 0)
			fabtx_log(ctx, FABTX_LOG_WARN,
			          "ofi: MR cache still in use at ctx destroy");
		if (k) {
			if (k->domain) {
				k->domain[k->n] = d->domain;
				k->fabric[k->n] =
				    d->fabric_shared ? NULL : d->fabric;
				k->n++;
			}
		} else {
			if (d->domain) fi_close(&d->domain->fid);
			if (d->fabric && !d->fabric_shared)
				fi_close(&d->fabric->fid);
		}
		fi_freeinfo(d->info);
		fabtx_ctx_free(ctx, d);
	}
	if (k) {
		pthread_mutex_lock(&fabtx__ofi_park_lock);
		fabtx__ofi_keep_put(k);
		pthread_mutex_unlock(&fabtx__ofi_park_lock);
	}
	for (i = 0; i < FABTX__OFI_GI_N; i++)
		fi_freeinfo(s->gi[i].info);
	pthread_mutex_destroy(&s->lock);
	fabtx_ctx_free(ctx, s);
}

static fabtx__ofi_ctx *fabtx__ofi_state(fabtx_ctx *ctx);

/* Find or open fabric+domain for info (same provider/fabric/domain/ep). */
/* ----------------------------------------------------- provider quirks */
/* Every provider-specific decision, in one table (docs/ofi.md, quirks):
 * the flags of every entry whose name matches (exactly, or contained in
 * the provider name for layered ones such as "tcp;ofi_rxm") apply. */
#define FABTX__OFI_Q_WAW_ORDER 0x001u /* ask for write-after-write order */
#define FABTX__OFI_Q_AUTO_PROGRESS                                             \
	0x002u                         /* auto data progress unless spinning */
#define FABTX__OFI_Q_NO_WAIT_FD 0x004u /* sleep on the timer, not the CQ fd */
#define FABTX__OFI_Q_NO_INJECT 0x008u  /* no injects at all */
#define FABTX__OFI_Q_TX_MAX_32 0x010u  /* at most 32 writes in flight */
#define FABTX__OFI_Q_SPLIT_INJECT 0x020u /* split injects (ordered commands) */
#define FABTX__OFI_Q_LOCAL                                                     \
	0x040u                       /* same host only, names not IPs,
                                            an endpoint name of its own */
#define FABTX__OFI_Q_NO_SPAN 0x080u  /* runs may be read before landing */
#define FABTX__OFI_Q_NOT_AUTO 0x100u /* never picked without being named */
#define FABTX__OFI_Q_RCVBUF 0x200u /* deadlocks on a small TCP receive buffer */
#define FABTX__OFI_Q_TRUSTS_PEER                                               \
	0x400u /* a peer can crash this process through the provider: used only \
	          where named (URL or FABTX_OFI_PROVIDER), on both ends */
static const struct fabtx__ofi_quirk {
	const char *name;
	int contained; /* 1: name is contained in the provider name */
	unsigned flags;
} fabtx__ofi_quirks[] = {
    /* shm: smr fast RMA bypasses the command queue unless WAW is asked
     * for; the peer never signals our wait fd; endpoints named after the
     * PID collide with a dead process's region.  It trusts its peers
     * (docs/peers.md): each endpoint's region is a /dev/shm file the peer
     * opens read-write by name, so a peer that truncates it kills this
     * process with SIGBUS at libfabric's next look (seen), and the
     * commands a peer writes there carry offsets libfabric 1.17 follows
     * unchecked (smr_progress_inject: smr_get_ptr(region, src_data)) */
    {"shm", 0,
     FABTX__OFI_Q_WAW_ORDER | FABTX__OFI_Q_NO_WAIT_FD |
         FABTX__OFI_Q_SPLIT_INJECT | FABTX__OFI_Q_LOCAL |
         FABTX__OFI_Q_TRUSTS_PEER},
    /* sockets: manual progress stalls a writer's flush; a message header
     * split at a closed TCP window stalls for good unless the receive
     * buffer is large (fabtx__ofi_want_bufs); under manual progress a run
     * was read before all its bytes had landed */
    {"sockets", 0,
     FABTX__OFI_Q_AUTO_PROGRESS | FABTX__OFI_Q_TX_MAX_32 |
         FABTX__OFI_Q_NO_SPAN | FABTX__OFI_Q_RCVBUF},
    /* ofi_rxm: its wait fd misses connection requests; injects flushed as
     * context-less error completions crash it (libfabric 1.17) */
    {"ofi_rxm", 1, FABTX__OFI_Q_NO_WAIT_FD | FABTX__OFI_Q_NO_INJECT},
    /* net: its CQ wait fd stays readable after a successful fi_trywait */
    {"net", 0, FABTX__OFI_Q_NO_WAIT_FD},
    /* not picked unless named: slow, unreliable or not for this use */
    {"sockets", 1, FABTX__OFI_Q_NOT_AUTO},
    {"udp", 1, FABTX__OFI_Q_NOT_AUTO},
    {"ofi_rxd", 1, FABTX__OFI_Q_NOT_AUTO},
    {"ofi_mrail", 1, FABTX__OFI_Q_NOT_AUTO},
    {"ofi_hook", 1, FABTX__OFI_Q_NOT_AUTO},
    {"psm", 1, FABTX__OFI_Q_NOT_AUTO},
};

/* does provider prov have quirk q? */
static int fabtx__ofi_quirk(const char *prov, unsigned q)
{
	size_t i;
	unsigned f = 0;
	if (!prov) return 0;
	for (i = 0; i < sizeof fabtx__ofi_quirks / sizeof fabtx__ofi_quirks[0];
	     i++) {
		const struct fabtx__ofi_quirk *k = &fabtx__ofi_quirks[i];
		if (k->contained ? strstr(prov, k->name) != NULL
		                 : strcmp(prov, k->name) == 0)
			f |= k->flags;
	}
	return (f & q) != 0;
}

/* shm applies each peer's commands in FIFO order and offers write
 * ordering, but unless asked for it, it runs writes without CQ data as a
 * process_vm_writev system call by the writer ("fast RMA", libfabric 1.17
 * prov/shm smr_fast_rma_enabled(), decided from the domain's and endpoint's
 * tx_attr->msg_order).  Asking for write-after-write order keeps them
 * commands like the rest, which the split-inject path relies on anyway. */
static void fabtx__ofi_want_order(struct fi_info *fi)
{
	if (fi && fi->fabric_attr && fi->tx_attr &&
	    fabtx__ofi_quirk(fi->fabric_attr->prov_name,
	                     FABTX__OFI_Q_WAW_ORDER))
		fi->tx_attr->msg_order |= FI_ORDER_WAW | FI_ORDER_RMA_WAW;
}

/* a and b name the same provider and fabric */
static int fabtx__ofi_same_fabric(const struct fi_info *a,
                                  const struct fi_info *b)
{
	return strcmp(a->fabric_attr->prov_name, b->fabric_attr->prov_name) ==
	           0 &&
	       strcmp(a->fabric_attr->name, b->fabric_attr->name) == 0;
}

/* the open domain that fi names (provider, fabric, domain, endpoint type,
 * MR mode), or NULL; under s->lock */
static fabtx__ofi_dom *fabtx__ofi_dom_find(fabtx__ofi_ctx *s,
                                           const struct fi_info *fi)
{
	fabtx__ofi_dom *d;
	for (d = s->doms; d; d = d->next)
		if (fabtx__ofi_same_fabric(d->info, fi) &&
		    strcmp(d->info->domain_attr->name, fi->domain_attr->name) ==
		        0 &&
		    d->info->ep_attr->type == fi->ep_attr->type &&
		    d->info->domain_attr->mr_mode == fi->domain_attr->mr_mode)
			return d;
	return NULL;
}

/* one fabric object per provider and fabric name (the sockets provider
 * runs a listener thread per fabric object): share an open one, or open
 * it for d; under s->lock */
static int fabtx__ofi_fabric_open(fabtx__ofi_ctx *s, fabtx__ofi_dom *d,
                                  const struct fi_info *fi)
{
	fabtx__ofi_dom *e;
	for (e = s->doms; e; e = e->next)
		if (fabtx__ofi_same_fabric(e->info, fi)) break;
	if (e) {
		d->fabric = e->fabric;
		d->fabric_shared = 1;
		return 0;
	}
	return fabtx__ofi_err(
	    fi_fabric(d->info->fabric_attr, &d->fabric, NULL));
}

/* sockets: automatic progress, except in busy-polling contexts.  Its
 * RMA writes complete only when the target's progress engine has
 * acknowledged them, so under manual progress a writer's flush (and
 * close) waits for the peer application to call in; its progress
 * thread does that instead.  A context that spins (spin_us > 0)
 * progresses all the time, and a progress thread competing with the
 * spinner for the CPU made its latency 10-40x worse (2 vCPUs): it
 * keeps manual progress.  The thread spins FI_SOCKETS_PE_WAITTIME ms
 * (default 10) after any activity before it sleeps: 0 suits small
 * hosts (docs/ofi.md). */
static void fabtx__ofi_want_progress(fabtx_ctx *ctx, struct fi_info *info)
{
	if (!fabtx__ofi_quirk(info->fabric_attr->prov_name,
	                      FABTX__OFI_Q_AUTO_PROGRESS) ||
	    fabtx_ctx_spin_us(ctx) > 0)
		return;
	info->domain_attr->data_progress = FI_PROGRESS_AUTO;
	if (!getenv("FI_SOCKETS_PE_WAITTIME"))
		fabtx_log(ctx, FABTX_LOG_INFO,
		          "ofi: sockets progress thread spins 10 ms "
		          "after activity; FI_SOCKETS_PE_WAITTIME=0 "
		          "stops that");
}

/* sockets reads a message header (24 bytes) only once all of it can be
 * peeked (libfabric 1.17 sock_pe_peek_hdr), and consumes nothing before.
 * When the peer's TCP window closes inside a header, the bytes before the
 * split are the tail of a socket buffer whose whole size still counts
 * against the receive buffer; while what is free of a small buffer (the
 * autotuned default, 128 KiB to start) is under one MSS (64 KiB on
 * loopback), Linux keeps the window shut, and the header's rest never
 * comes: both ends wait for good, writes neither delivered nor completed
 * (docs/ofi.md).  FI_SOCKETS_MAX_BUF_SZ (read once, when the process opens
 * its first sockets fabric) sets SO_RCVBUF / SO_SNDBUF on its sockets;
 * 4 MiB keeps a window open past any such tail (where net.core.rmem_max,
 * which caps it, allows that much). */
static void fabtx__ofi_want_bufs(fabtx_ctx *ctx, const struct fi_info *info)
{
	if (!fabtx__ofi_quirk(info->fabric_attr->prov_name,
	                      FABTX__OFI_Q_RCVBUF) ||
	    getenv("FI_SOCKETS_MAX_BUF_SZ"))
		return;
	fabtx_log(ctx, FABTX_LOG_WARN,
	          "ofi: sockets can stall for good with small TCP buffers "
	          "(a message header split at a closed window); set "
	          "FI_SOCKETS_MAX_BUF_SZ=4194304 before the first sockets "
	          "fabric is opened");
}

static int fabtx__ofi_dom_get(fabtx_ctx *ctx, const struct fi_info *fi,
                              fabtx__ofi_dom **out)
{
	fabtx__ofi_ctx *s = fabtx__ofi_state(ctx);
	fabtx__ofi_dom *d;
	int rc;
	if (!s) return -EINVAL;
	pthread_mutex_lock(&s->lock);
	d = fabtx__ofi_dom_find(s, fi);
	if (d) {
		pthread_mutex_unlock(&s->lock);
		*out = d;
		return 0;
	}
	d = (fabtx__ofi_dom *)fabtx_ctx_zalloc(ctx, sizeof *d);
	if (!d) {
		pthread_mutex_unlock(&s->lock);
		return -ENOMEM;
	}
	pthread_mutex_init(&d->sp_mu, NULL);
	{
		pthread_condattr_t ca;
		pthread_condattr_init(&ca);
		pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
		pthread_cond_init(&d->sp_cv, &ca);
		pthread_condattr_destroy(&ca);
	}
	d->info = fi_dupinfo(fi);
	if (!d->info) {
		rc = -ENOMEM;
		goto fail;
	}
	fabtx__ofi_want_order(d->info);
	fabtx__ofi_want_bufs(ctx, d->info);
	rc = fabtx__ofi_fabric_open(s, d, fi);
	if (rc < 0) goto fail;
	fabtx__ofi_want_progress(ctx, d->info);
	rc = fabtx__ofi_err(fi_domain(d->fabric, d->info, &d->domain, NULL));
	if (rc < 0) goto fail;
	d->next = s->doms;
	s->doms = d;
	pthread_mutex_unlock(&s->lock);
	*out = d;
	return 0;
fail:
	fabtx_log(ctx, FABTX_LOG_ERROR, "ofi: opening %s domain %s: %s",
	          fi->fabric_attr->prov_name, fi->domain_attr->name,
	          fi_strerror(-rc));
	if (d->fabric && !d->fabric_shared) fi_close(&d->fabric->fid);
	fi_freeinfo(d->info);
	pthread_cond_destroy(&d->sp_cv);
	pthread_mutex_destroy(&d->sp_mu);
	fabtx_ctx_free(ctx, d);
	pthread_mutex_unlock(&s->lock);
	return rc;
}

/* --------------------------------------------------------- fi_getinfo */
static int fabtx__ofi_excluded_auto(const char *prov, const char *host)
{
	if (fabtx__ofi_quirk(prov, FABTX__OFI_Q_TRUSTS_PEER)) return 1;
	if (fabtx__ofi_quirk(prov, FABTX__OFI_Q_LOCAL))
		return !fabtx__ofi_host_is_loopback(host);
	return fabtx__ofi_quirk(prov, FABTX__OFI_Q_NOT_AUTO);
}

static struct fi_info *fabtx__ofi_hints(int ep)
{
	struct fi_info *h = fi_allocinfo();
	if (!h) return NULL;
	h->caps =
	    FI_RMA | FI_WRITE | FI_REMOTE_WRITE | FI_MSG | FI_RECV | FI_SEND;
	h->mode = FI_CONTEXT | FI_CONTEXT2 | FI_RX_CQ_DATA;
	h->ep_attr->type = ep == 1   ? FI_EP_MSG
	                   : ep == 2 ? FI_EP_RDM
	                             : FI_EP_UNSPEC;
	h->domain_attr->mr_mode = FI_MR_LOCAL | FI_MR_VIRT_ADDR |
	                          FI_MR_ALLOCATED | FI_MR_PROV_KEY |
	                          FI_MR_ENDPOINT;
	h->domain_attr->data_progress = FI_PROGRESS_MANUAL;
	h->domain_attr->control_progress = FI_PROGRESS_MANUAL;
	h->tx_attr->op_flags = 0;
	h->addr_format = FI_FORMAT_UNSPEC;
	return h;
}

static int fabtx__ofi_usable(const struct fi_info *fi)
{
	if (fi->ep_attr->type != FI_EP_MSG && fi->ep_attr->type != FI_EP_RDM)
		return 0;
	if (fi->domain_attr->cq_data_size < 4) return 0;
	if (fi->domain_attr->mr_mode &
	    (FI_MR_RAW | FI_MR_MMU_NOTIFY | FI_MR_RMA_EVENT | FI_MR_HMEM))
		return 0;
	if (fi->domain_attr->mr_key_size > 8) return 0;
	return 1;
}

/* Describe what fi_getinfo offers (for error messages). */
static void fabtx__ofi_describe(char *out, size_t cap, int ep)
{
	struct fi_info *h = fabtx__ofi_hints(ep), *all = NULL, *f;
	size_t o = 0;
	out[0] = 0;
	if (!h) return;
	if (fi_getinfo(FABTX__OFI_VERSION, NULL, NULL, 0, h, &all) == 0) {
		for (f = all; f && o + 80 < cap; f = f->next) {
			char one[160];
			int k = snprintf(one, sizeof one, "%s/%s(%s)",
			                 f->fabric_attr->prov_name,
			                 f->ep_attr->type == FI_EP_MSG ? "msg"
			                                               : "rdm",
			                 f->domain_attr->name);
			if (k < 0 || strstr(out, one))
				continue; /* one line per provider/ep/domain */
			k = snprintf(out + o, cap - o, "%s%s/%s(%s)",
			             o ? ", " : "", f->fabric_attr->prov_name,
			             f->ep_attr->type == FI_EP_MSG ? "msg"
			                                           : "rdm",
			             f->domain_attr->name);
			if (k < 0) break;
			o += (size_t)k;
		}
	}
	if (!o) snprintf(out, cap, "nothing with RMA write + remote CQ data");
	fi_freeinfo(all);
	fi_freeinfo(h);
}

/* Resolve the provider for a URL.  src: listener side (FI_SOURCE).  On
 * success *out is a single fi_info (caller frees). */
/* A copy of the kept answer for key if it is fresh, else NULL */
static struct fi_info *fabtx__ofi_gi_get(fabtx__ofi_ctx *s, const char *key)
{
	struct fi_info *r = NULL;
	uint64_t now = fabtx_now_ms();
	int i;
	if (!s) return NULL;
	pthread_mutex_lock(&s->lock);
	for (i = 0; i < FABTX__OFI_GI_N; i++)
		if (s->gi[i].info && strcmp(s->gi[i].key, key) == 0) {
			if (now - s->gi[i].at_ms < FABTX__OFI_GI_MS)
				r = fi_dupinfo(s->gi[i].info);
			break;
		}
	pthread_mutex_unlock(&s->lock);
	return r;
}

/* Keep a copy of info as the answer for key (replacing an older one) */
static void fabtx__ofi_gi_put(fabtx__ofi_ctx *s, const char *key,
                              const struct fi_info *info)
{
	struct fi_info *d;
	int i;
	if (!s || !(d = fi_dupinfo(info))) return;
	pthread_mutex_lock(&s->lock);
	for (i = 0; i < FABTX__OFI_GI_N; i++)
		if (s->gi[i].info && strcmp(s->gi[i].key, key) == 0) break;
	if (i == FABTX__OFI_GI_N) i = (int)(s->gi_next++ % FABTX__OFI_GI_N);
	fi_freeinfo(s->gi[i].info);
	s->gi[i].info = d;
	s->gi[i].at_ms = fabtx_now_ms();
	fabtx__ofi_strlcpy(s->gi[i].key, key, sizeof s->gi[i].key);
	pthread_mutex_unlock(&s->lock);
}

static int fabtx__ofi_resolve(fabtx_ctx *ctx, const fabtx__ofi_url *u, int src,
                              struct fi_info **out)
{
	struct fi_info *h, *all = NULL, *f, *pick = NULL;
	const char *prov = fabtx__ofi_named_prov(u);
	const char *node = NULL, *unnamed = NULL;
	fabtx__ofi_ctx *st = fabtx__ofi_state(ctx);
	char key[400];
	int rc, named = prov && *prov;
	*out = NULL;
	rc = snprintf(key, sizeof key, "%d|%s|%d|%s|%s|%s", src,
	              named ? prov : "", u->ep, u->fabric, u->domain, u->host);
	if (rc < 0 || (size_t)rc >= sizeof key) st = NULL; /* not kept */
	if ((*out = fabtx__ofi_gi_get(st, key)) != NULL) return 0;
	h = fabtx__ofi_hints(u->ep);
	if (!h) return -ENOMEM;
	if (named) {
		h->fabric_attr->prov_name = strdup(prov);
		if (!h->fabric_attr->prov_name) {
			fi_freeinfo(h);
			return -ENOMEM;
		}
	}
	if (strcmp(u->host, "*") != 0 &&
	    !(named && fabtx__ofi_quirk(prov, FABTX__OFI_Q_LOCAL)))
		node = u->host;
	rc = fi_getinfo(FABTX__OFI_VERSION, node, NULL,
	                src && node ? FI_SOURCE : 0, h, &all);
	if (rc != 0 && node) {
		/* providers that do not take IP node names (shm, ...) */
		rc = fi_getinfo(FABTX__OFI_VERSION, NULL, NULL, 0, h, &all);
	}
	fi_freeinfo(h);
	if (rc == 0) {
		for (f = all; f; f = f->next) {
			if (!fabtx__ofi_usable(f)) continue;
			if (u->fabric[0] &&
			    strcmp(f->fabric_attr->name, u->fabric) != 0)
				continue;
			if (u->domain[0] &&
			    strcmp(f->domain_attr->name, u->domain) != 0)
				continue;
			if (!named && fabtx__ofi_excluded_auto(
			                  f->fabric_attr->prov_name, u->host)) {
				if (!unnamed)
					unnamed = f->fabric_attr->prov_name;
				continue;
			}
			if (named && strcmp(f->fabric_attr->prov_name, prov))
				continue;
			pick = f;
			break;
		}
	}
	if (!pick) {
		char found[1024];
		fabtx__ofi_describe(found, sizeof found, u->ep);
		fabtx_log(
		    ctx, FABTX_LOG_ERROR,
		    "ofi: no usable provider for %s%s%s%s%s%s%s (ep %s)%s%s%s: "
		    "fi_getinfo found: %s",
		    u->host, named ? " provider=" : "", named ? prov : "",
		    u->fabric[0] ? " fabric=" : "", u->fabric,
		    u->domain[0] ? " domain=" : "", u->domain,
		    u->ep == 1   ? "msg"
		    : u->ep == 2 ? "rdm"
		                 : "any",
		    unnamed ? "; " : "", unnamed ? unnamed : "",
		    unnamed ? " matches but is used only when named "
		              "(provider=...; docs/ofi.md)"
		            : "",
		    found);
		fi_freeinfo(all);
		return -ENODEV;
	}
	*out = fi_dupinfo(pick);
	if (*out) fabtx__ofi_gi_put(st, key, pick);
	fi_freeinfo(all);
	return *out ? 0 : -ENOMEM;
}

/* ------------------------------------------------------- TCP bootstrap */
static int fabtx__ofi_set_nb(int fd)
{
	int fl = fcntl(fd, F_GETFL);
	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0) return -errno;
	return 0;
}

static int fabtx__ofi_wait_fd(int fd, short ev, uint64_t deadline)
{
	struct pollfd p;
	int rc;
	for (;;) {
		p.fd = fd;
		p.events = ev;
		p.revents = 0;
		rc = poll(&p, 1, fabtx_remaining_ms(deadline));
		if (rc > 0) return 0;
		if (rc == 0) return -ETIMEDOUT;
		if (errno != EINTR) return -errno;
	}
}

/* write all of buf (non-blocking socket) before deadline */
static int fabtx__ofi_send_all(int fd, const void *buf, size_t len,
                               uint64_t deadline)
{
	const uint8_t *p = (const uint8_t *)buf;
	while (len) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
		if (n > 0) {
			p += n;
			len -= (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR) continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			int rc = fabtx__ofi_wait_fd(fd, POLLOUT, deadline);
			if (rc < 0) return rc;
			continue;
		}
		return -ECONNRESET;
	}
	return 0;
}

/* bootstrap message: magic, ver, kind, len(payload) + payload */
#define FABTX__OFI_B_HELLO 1u  /* client -> server: token, [rdm name]   */
#define FABTX__OFI_B_OFFER 2u  /* server -> client: prov/fabric/ep/name */
#define FABTX__OFI_B_ADDR 3u   /* client -> server: rdm ep name         */
#define FABTX__OFI_B_READY 4u  /* either way: fabric link is up         */
#define FABTX__OFI_B_REJECT 5u /* server -> client: errno               */

/* ------------------------------------------------------------ per conn */
typedef struct fabtx__ofi_op {
	struct fi_context2 fctx; /* must be first: FI_CONTEXT(2) */
	uint32_t next;
	uint32_t kind; /* 1 tx write, 2 rx posted recv, 3 sink recv */
	uint64_t wseq; /* kind 1: the write's number (fabtx__ofi_written) */
} fabtx__ofi_op;

#define FABTX__OFI_SINKS 16u     /* receives that swallow strays (RDM) */
#define FABTX__OFI_PQ_MIN 64u    /* queued writes: first size */
#define FABTX__OFI_PQ_MAX 4096u  /* and largest */
typedef struct fabtx__ofi_pend { /* a write waiting for the provider */
	struct iovec iov[8];
	void *desc[8];
	int nseg, complete;
	uint64_t off, total, data, flags;
	uint8_t *copy; /* small writes: the bytes (inject semantics) */
	uint64_t wseq; /* its number (fabtx__ofi_written) */
} fabtx__ofi_pend;

struct fabtx__ofi_listener;
typedef struct fabtx__ofi_conn {
	fabtx_conn *c;
	fabtx__ofi_dom *dom;
	struct fi_info *info;
	struct fid_ep *ep;
	struct fid_cq *cq;
	struct fid_eq *eq;
	struct fid_av *av;
	struct fid_mr *rx_mr, *tx_mr;
	fi_addr_t peer;
	int rdm;
	int sock;     /* bootstrap / control TCP socket */
	int epfd;     /* fd() */
	int ctl_epfd; /* fds(): epfd's items but the CQ wait fd, or -1 */
	int tfd;      /* timerfd fallback */
	int cq_fd;    /* CQ wait fd or -1 */
	int eq_out, sock_out; /* taken out of the epoll sets (drain) */
	int eq_fd;            /* EQ wait fd or -1 */
	int use_timer;        /* 1: timer fallback arms the fd */
	int timer_us;
	int failed;
	int sock_dead; /* peer gone: socket EOF, FI_SHUTDOWN, CQ error */
	/* after sock_dead: the drain's step (FABTX__OFI_DRAIN_*), the end of
	 * the step's wait, its quiet CQ reads, a guard against re-entry (the
	 * drain reads the socket, whose reader starts the drain) */
	int drain_step, drain_quiet, in_drain;
	uint64_t drain_end_ms;
	int sock_eof; /* the bootstrap socket said EOF or failed */
	int peer_bye; /* the peer disconnected gracefully */
	int wrote;    /* doorbells written since the last look for a sleeper */
	int asleep_told; /* the peer holds our sleep word (no WAKE since) */
	/* the wake socket (timer-polled providers, same host): an AF_UNIX
	 * datagram socket of ours in the abstract namespace, connected to
	 * the peer's once its name came (wpeer); a WAKE is then one
	 * datagram instead of a frame on the TCP bootstrap socket.  wdue:
	 * armed since it was last read */
	int wsock, wpeer, wdue;
	int has_bye_pos, bye_short;
	uint64_t bye_pos; /* its final write position, sent with BYE */
	uint32_t slow_tick;
	uint64_t sock_dead_ms;
	uint64_t sock_check_ms;
	uint8_t *rx_buf, *tx_buf;
	size_t rx_len, tx_len, rx_alloc, tx_alloc;
	void *rx_desc, *tx_desc;
	uint64_t peer_addr, peer_key, peer_len;
	int have_peer;
	/* ops */
	fabtx__ofi_op *ops;
	uint32_t nops, free_head, tx_out, tx_max, rx_posted, rx_want;
	uint32_t sink_posted, sink_want; /* receives that swallow strays */
	uint64_t injected;   /* inject ops since the last completing op */
	uint64_t wseq;       /* writes accepted (issued or queued) so far */
	int no_dc;           /* the provider refused FI_DELIVERY_COMPLETE */
	fabtx__ofi_pend *pq; /* ring of queued writes */
	/* a held run of contiguous chunks (FABTX_WRITE_MORE): one write */
	const uint8_t *b_addr;
	void *b_desc;
	uint64_t b_off, b_len, b_data, b_flags;
	int b_on, no_coalesce;
	int split_inject; /* provider applies commands in order (shm) */
	int imm_ok; /* 8-byte CQ data and injects: one-cell footers ride in it */
	uint32_t imm_max; /* what write_imm takes (win_import tells the core) */
	uint32_t pq_cap, pq_head, pq_n;
	size_t iov_limit, inject_size, max_msg;
	int write_fence; /* need FI_FENCE when splitting writes */
	/* ctrl channel receive state */
	uint8_t crx[4 + FABTX__OFI_CTRL_MAX];
	uint32_t crx_have;
	/* the core's looks at the control channel (fabtx__ofi_ctrl_look):
	 * gated once the connection has been armed; due after an arm that
	 * said 0 until the socket is read empty, else once a millisecond
	 * (ctrl_ms: when it was last read empty) */
	int ctrl_gate, ctrl_due;
	uint64_t ctrl_ms;
	int cq_skip; /* the last progress read the CQ empty (see progress) */
	uint64_t eq_try_ms; /* when arm() last put the EQ in fi_trywait */
	int local_progress; /* shm: progress applies the peer's writes, no
	                       system call (see fabtx__ofi_doorbell_out) */
	/* the fallback timer's expiry while it is set (0: not set) */
	uint64_t tfd_due_ns;
	fabtx_ofi_info st;
	/* shm provider with the peer's endpoint in this process (see
	 * fabtx__ofi_release): both endpoint names, and the parked list */
	int peer_local;
	char self_nm[128], peer_nm[128];
	struct fabtx__ofi_lkg
	    *lkg;            /* shm: the lock guard (fabtx__ofi_lkg_add) */
	fabtx_ctx *park_ctx; /* NULL: an orphan (see fabtx__ofi_unpark_ctx) */
	struct fabtx__ofi_conn *park_next;
	fabtx__ofi_keep *keep; /* an orphan's context's domains */
	/* connection setup, never waiting (see fabtx__ofi_setup): its step
	 * (FABTX__OFI_SU_*, 0 once done) and sticky failure; the bootstrap
	 * frame being read and the bytes still to send; the setup timer */
	int su, su_err, tick_on, sock_ev, got_ready;
	long tick_us; /* the setup timer's current interval */
	uint8_t bin[12 + FABTX__OFI_BMAX];
	uint32_t bin_have, bout_len, bout_off;
	uint8_t bout[12 + FABTX__OFI_BMAX];
	/* server, FI_EP_MSG: our token, the listener we wait at for the
	 * connection request carrying it (NULL once it came or we gave up),
	 * when we began to wait, and the request (not yet accepted) */
	uint64_t token, reg_ms;
	struct fabtx__ofi_listener *lis;
	struct fabtx__ofi_conn *lnext;
	struct fi_info *ci;
	int peq_in; /* the listener's EQ fd is in our epoll set */
	/* client: the provider and endpoint type opened before the offer
	 * (fabtx__ofi_cli_early), "" if none */
	char early_prov[64];
	uint32_t early_ep;
	/* client: the listener takes the core's request before its setup is
	 * done (its OFFER said so): connect_poll returns 0 once the
	 * connection is asked for, and the rest of the setup is taken by
	 * ctrl_recv while the core waits for the response.  Server: our
	 * OFFER said so (FABTX_OFI_EARLY_REQ=0 on either end: no) */
	int early_req;
	/* client: the addresses still to try, the URL */
	struct addrinfo *ai_res, *ai_cur;
	fabtx__ofi_url url;
	/* the peer's wake socket name (see wsock), kept by a server from
	 * HELLO until its READY (cold: at the end) */
	uint8_t wname_len;
	char wname[108];
} fabtx__ofi_conn;

typedef struct fabtx__ofi_listener {
	fabtx_listener *l;
	fabtx__ofi_url url;
	struct fi_info *info;
	fabtx__ofi_dom *dom;
	int sock;
	struct fid_pep *pep;
	struct fi_info *pep_info; /* kept until pep is closed (sockets) */
	struct fid_eq *peq;
	int peq_fd; /* its wait fd, or -1 (then the setup tick alone) */
	uint8_t pep_name[FABTX__OFI_NAME_MAX];
	size_t pep_name_len;
	/* FI_EP_MSG: the clients waiting for their connection request,
	 * oldest first (fabtx__ofi_lis_poll) */
	fabtx__ofi_conn *waiting;
	int nwaiting;
	char addr[512]; /* as given to listen (after "ofi://") */
} fabtx__ofi_listener;

static fabtx__ofi_ctx *fabtx__ofi_state(fabtx_ctx *ctx)
{
	return (fabtx__ofi_ctx *)fabtx_ctx_backend_data(ctx,
	                                                fabtx_ofi_backend());
}

/* The peer is gone (or going): the first sign, said at DEBUG level. */
static void fabtx__ofi_dead(fabtx__ofi_conn *o, const char *why, int err)
{
	if (!o->sock_dead)
		fabtx_log(o->c->ctx, FABTX_LOG_DEBUG,
		          "ofi: %s: peer gone: %s (%d)", o->c->url, why, err);
	o->sock_dead = 1;
}

static int fabtx__ofi_drain(fabtx__ofi_conn *o);
static int fabtx__ofi_fail(fabtx__ofi_conn *o, int err, const char *why);
static void fabtx__ofi_doorbell_out(fabtx__ofi_conn *o);
static void fabtx__ofi_wake_in(fabtx__ofi_conn *o);
static int fabtx__ofi_wsock_drain(fabtx__ofi_conn *o);
static int fabtx__ofi_read_bye(fabtx__ofi_conn *o);

static uint32_t fabtx__ofi_op_get(fabtx__ofi_conn *o)
{
	uint32_t i = o->free_head;
	if (i == UINT32_MAX) return i;
	o->free_head = o->ops[i].next;
	return i;
}

static void fabtx__ofi_op_put(fabtx__ofi_conn *o, uint32_t i)
{
	o->ops[i].kind = 0;
	o->ops[i].next = o->free_head;
	o->free_head = i;
}

/* Zero-length receives: for the remote CQ data of writes where the
 * provider consumes a receive for it (FI_RX_CQ_DATA, kind 2), and on an
 * FI_EP_RDM endpoint that needs none, a few sinks (kind 3).  An RDM
 * endpoint takes messages from anyone who has its address, and without a
 * receive posted rxm keeps each one, for ever: 20000 messages of 4 KiB
 * from a stranger grew the listener by 340 MB (docs/peers.md).  A sink
 * takes one (truncated to nothing) and is posted again. */
static int fabtx__ofi_post_recvs(fabtx__ofi_conn *o)
{
	while (o->rx_posted < o->rx_want || o->sink_posted < o->sink_want) {
		uint32_t i = fabtx__ofi_op_get(o);
		int sink = o->rx_posted >= o->rx_want;
		ssize_t rc;
		if (i == UINT32_MAX) return 0;
		o->ops[i].kind = sink ? 3 : 2;
		rc = fi_recv(o->ep, NULL, 0, NULL,
		             o->rdm && !sink ? o->peer : FI_ADDR_UNSPEC,
		             &o->ops[i].fctx);
		if (rc == -FI_EAGAIN) {
			fabtx__ofi_op_put(o, i);
			return 0;
		}
		if (rc) {
			fabtx__ofi_op_put(o, i);
			return fabtx__ofi_err(rc);
		}
		if (sink)
			o->sink_posted++;
		else
			o->rx_posted++;
	}
	return 0;
}

/* the wake socket (see fabtx__ofi_conn.wsock) closed */
static void fabtx__ofi_wsock_close(fabtx__ofi_conn *o)
{
	if (o->wsock < 0) return;
	close(o->wsock);
	o->wsock = -1;
	o->wpeer = 0;
}

/* the connection's fds and queued copies: all a parked end gives back */
static void fabtx__ofi_conn_drop_fds(fabtx_ctx *ctx, fabtx__ofi_conn *o)
{
	if (o->epfd >= 0) close(o->epfd);
	if (o->ctl_epfd >= 0) close(o->ctl_epfd);
	if (o->tfd >= 0) close(o->tfd);
	if (o->sock >= 0) close(o->sock);
	fabtx__ofi_wsock_close(o);
	o->epfd = o->ctl_epfd = o->tfd = o->sock = -1;
	while (o->pq && o->pq_n) {
		free(o->pq[o->pq_head].copy);
		o->pq_head = (o->pq_head + 1) % o->pq_cap;
		o->pq_n--;
	}
	fabtx_ctx_free(ctx, o->pq);
	o->pq = NULL;
}

static void fabtx__ofi_unwait(fabtx__ofi_conn *o);
static void fabtx__ofi_win_free(void *p, size_t alloc);
static void fabtx__ofi_lkg_del(fabtx__ofi_conn *o);
static void fabtx__ofi_conn_free(fabtx_ctx *ctx, fabtx__ofi_conn *o)
{
	if (!o) return;
	fabtx__ofi_unwait(o);
	if (o->ai_res) freeaddrinfo(o->ai_res);
	o->ai_res = NULL;
	fabtx__ofi_conn_drop_fds(ctx, o);
	if (o->ep) fi_close(&o->ep->fid);
	if (o->rx_mr) fi_close(&o->rx_mr->fid);
	if (o->tx_mr) fi_close(&o->tx_mr->fid);
	if (o->av) fi_close(&o->av->fid);
	if (o->cq) fi_close(&o->cq->fid);
	if (o->eq) fi_close(&o->eq->fid);
	fabtx__ofi_lkg_del(o);
	fabtx__ofi_win_free(o->rx_buf, o->rx_alloc);
	fabtx__ofi_win_free(o->tx_buf, o->tx_alloc);
	fi_freeinfo(o->info);
	free(o->ops);
	fabtx_ctx_free(ctx, o);
}

/* libfabric 1.17's shm provider, both endpoints in one process: the
 * writer does not map the peer's region, it uses the peer endpoint's own
 * (found by name), which fi_close unmaps.  A write to a peer that has just
 * closed (a FIN, the last data before its BYE is seen) then faults inside
 * libfabric; between processes the writer's own mapping outlives the peer.
 * So such an end, once disconnected, is parked (endpoint and region kept,
 * never progressed again; fds closed, so the peer sees EOF) until its peer
 * disconnects too or the context is destroyed, and the two are freed
 * together. */
static fabtx__ofi_conn *fabtx__ofi_parked;
static fabtx__ofi_conn *fabtx__ofi_orphans; /* plain malloc, no ops */

/* under the park lock */
static void fabtx__ofi_orphan_free(fabtx__ofi_conn *r)
{
	fabtx__ofi_keep *k = r->keep;
	fabtx__ofi_conn_free(NULL, r); /* NULL: the default allocator */
	fabtx__ofi_keep_put(k);
}

/* under the park lock: o's peer end in list (parked or orphans),
 * unlinked, or NULL */
static fabtx__ofi_conn *fabtx__ofi_take_peer(fabtx__ofi_conn **list,
                                             const fabtx__ofi_conn *o)
{
	fabtx__ofi_conn *p;
	for (; *list; list = &(*list)->park_next)
		if (strcmp((*list)->self_nm, o->peer_nm) == 0 &&
		    strcmp((*list)->peer_nm, o->self_nm) == 0) {
			p = *list;
			*list = p->park_next;
			return p;
		}
	return NULL;
}

static void fabtx__ofi_release(fabtx_ctx *ctx, fabtx__ofi_conn *o)
{
	fabtx__ofi_conn *p;
	if (!o->peer_local) {
		fabtx__ofi_conn_free(ctx, o);
		return;
	}
	fabtx__ofi_conn_drop_fds(ctx, o);
	pthread_mutex_lock(&fabtx__ofi_park_lock);
	if ((p = fabtx__ofi_take_peer(&fabtx__ofi_parked, o)) != NULL) {
		/* under the lock: the parked end's context, being destroyed
		 * in another thread, closes its domains only after this */
		fabtx__ofi_conn_free(ctx, o);
		fabtx__ofi_conn_free(p->park_ctx, p);
	} else if ((p = fabtx__ofi_take_peer(&fabtx__ofi_orphans, o)) != NULL) {
		/* the peer's context is gone: its orphan */
		fabtx__ofi_conn_free(ctx, o);
		fabtx__ofi_orphan_free(p);
	} else {
		o->park_ctx = ctx;
		o->park_next = fabtx__ofi_parked;
		fabtx__ofi_parked = o;
	}
	pthread_mutex_unlock(&fabtx__ofi_park_lock);
}

/* At context destroy.  A parked end's peer is still open (it would have
 * freed the pair on its way out), and in this process: it may write to
 * the parked end until it sees the end gone, into the end's region and
 * window.  So the end's libfabric objects and windows become an orphan
 * (plain malloc), freed when that peer disconnects, and the context's
 * domains and fabrics stay open until the last of its orphans goes (the
 * keep record returned, with a reference for the caller, who fills it).
 * NULL when there are none: the domains close as usual. */
static fabtx__ofi_keep *fabtx__ofi_unpark_ctx(fabtx_ctx *ctx)
{
	fabtx__ofi_conn *p, **pp;
	fabtx__ofi_keep *k = NULL;
	pthread_mutex_lock(&fabtx__ofi_park_lock);
	for (pp = &fabtx__ofi_parked; *pp;) {
		fabtx__ofi_conn *r;
		p = *pp;
		if (p->park_ctx != ctx) {
			pp = &p->park_next;
			continue;
		}
		*pp = p->park_next;
		if (!k) {
			k = (fabtx__ofi_keep *)calloc(1, sizeof *k);
			if (k) k->refs = 1;
		}
		r = k ? (fabtx__ofi_conn *)malloc(sizeof *r) : NULL;
		if (!r) { /* no memory: free it (the old hazard) */
			fabtx__ofi_conn_free(ctx, p);
			continue;
		}
		/* the same objects, in memory of no context's allocator (a
		 * parked end's fds and queue are gone already); the op
		 * contexts stay where the provider was given them */
		*r = *p;
		fabtx_ctx_free(ctx, p);
		r->park_ctx = NULL;
		r->keep = k;
		k->refs++;
		r->park_next = fabtx__ofi_orphans;
		fabtx__ofi_orphans = r;
	}
	pthread_mutex_unlock(&fabtx__ofi_park_lock);
	return k;
}

/* Threads of ours take no signal of the application's: started with all
 * blocked */
static int fabtx__ofi_thread_start(pthread_t *t, void *(*fn)(void *), void *arg)
{
	sigset_t all, old;
	int rc;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	rc = pthread_create(t, NULL, fn, arg);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return rc;
}

/* ------------------------------------------------ shm: the lock guard
 * libfabric 1.17's shm provider guards each endpoint's region with a
 * pthread spin lock that lives in the region, in shared memory: a peer
 * takes ours to queue a command for us, we take theirs to queue one for
 * them, and each takes its own to read its queue.  A peer killed while it
 * holds one (SIGKILL, a crash, the OOM killer) leaves it held for good,
 * and our next call into the provider (fi_cq_read, a write) spins inside
 * libfabric forever, where no deadline of ours can end it (kill_trials
 * ofishm: the survivor's send spun in pthread_spin_lock under fi_cq_read).
 *
 * So each connection between processes is watched by one thread per
 * process, started with the first and gone with the last: it sleeps in
 * poll() on a pidfd of every peer and wakes when one dies.  Once a peer is
 * dead, nobody else takes its connection's two locks but our own thread
 * that uses the connection (one at a time, the API's rule), so a lock
 * seen held at two looks 10 ms apart is the dead peer's and is released
 * (through a mapping of the region of our own); ours only after the
 * commands the peer left in our queue are dropped (fabtx__ofi_lkg_drop).
 * The connection then fails as any other whose peer died (EOF on the
 * bootstrap socket).
 * Never while the peer lives: a live holder is the provider at work.
 *
 * The lock's place is the provider's own layout, so the guard is only set
 * up where it can be checked: libfabric 1.17 at run time, the region's
 * version byte 4, its pid the one in fabtx's endpoint name (fabtx.PID.),
 * its total size the file's, our command queue where its header says
 * (fabtx__ofi_smr_cmdq), and the process of that PID here maps the peer's
 * region (fabtx__ofi_maps_region).  Elsewhere the connection has no guard
 * (a debug log line), as before.  Peers that are not SIGKILLed but hostile
 * are not defended anyway: shm trusts its peers (docs/peers.md). */
typedef struct fabtx__ofi_smr_hdr { /* libfabric 1.17, struct smr_region */
	uint8_t version, resv;
	uint16_t flags;
	int32_t pid;
	uint8_t cma_cap_peer, cma_cap_self;
	uint32_t max_sar_buf_per_peer;
	void *base_addr;
	pthread_spinlock_t lock;
	int32_t signal;
	void *map;
	size_t total_size;
	size_t cmd_cnt, sar_cnt;
	size_t cmd_queue_offset; /* its command queue, a cirque: */
} fabtx__ofi_smr_hdr;
typedef struct fabtx__ofi_smr_cirq { /* libfabric 1.17, OFI_DECLARE_CIRQUE */
	size_t size, size_mask, rcnt, wcnt;
} fabtx__ofi_smr_cirq;
typedef char fabtx__ofi_smr_lock_at_24[offsetof(fabtx__ofi_smr_hdr, lock) == 24
                                           ? 1
                                           : -1];
typedef char
    fabtx__ofi_spin_is_int[sizeof(pthread_spinlock_t) == sizeof(int) ? 1 : -1];
typedef char fabtx__ofi_smr_size_at_40
    [offsetof(fabtx__ofi_smr_hdr, total_size) == 40 ? 1 : -1];
typedef char fabtx__ofi_smr_cmdq_at_64
    [offsetof(fabtx__ofi_smr_hdr, cmd_queue_offset) == 64 ? 1 : -1];

typedef struct fabtx__ofi_lkg {
	struct fabtx__ofi_lkg *next;
	fabtx__ofi_smr_hdr *h[2]; /* our region, the peer's (mapped again) */
	size_t len[2];
	int pidfd, dead, held[2]; /* dead: 1 watching its locks, 2 done */
} fabtx__ofi_lkg;
static pthread_mutex_t fabtx__ofi_lkg_mu = PTHREAD_MUTEX_INITIALIZER;
static fabtx__ofi_lkg *fabtx__ofi_lkg_list;
static int fabtx__ofi_lkg_run, fabtx__ofi_lkg_efd = -1;
/* the running thread, and its generation: a thread whose generation is
 * no longer the current one returns (fabtx__ofi_lkg_del, which joins it:
 * no thread of ours outlives the last guarded connection, so a library
 * built with fabtx_ofi.h can be unloaded once its connections are closed) */
static pthread_t fabtx__ofi_lkg_tid;
static unsigned long fabtx__ofi_lkg_gen;
static int fabtx__ofi_lkg_free_val; /* an unlocked spin lock's word */

/* The command queue of region h (of len bytes) if its place and header
 * make sense, else NULL: read again before each use (shared memory). */
static fabtx__ofi_smr_cirq *fabtx__ofi_smr_cmdq(fabtx__ofi_smr_hdr *h,
                                                size_t len)
{
	size_t off = h->cmd_queue_offset;
	fabtx__ofi_smr_cirq *q;
	if (off < sizeof *h || off % 8 || off > len - sizeof *q) return NULL;
	q = (fabtx__ofi_smr_cirq *)(void *)((uint8_t *)h + off);
	if (!q->size || (q->size & (q->size - 1)) ||
	    q->size_mask != q->size - 1)
		return NULL;
	return q;
}

/* the /dev/shm file of the region named by an shm address ("fi_shm://N"
 * or N): 0, or -1 if it does not fit */
static int fabtx__ofi_smr_path(const char *name, char *path, size_t cap)
{
	const char *n = strstr(name, "://");
	n = n ? n + 3 : name;
	return snprintf(path, cap, "/dev/shm/%s", n) >= (int)cap ? -1 : 0;
}

/* the region in file path, mapped once
 * more (address space only: no page is touched but the header's and, on
 * a release, the queue's), checked as above; pid: what the header must
 * say; own: ours, whose command queue must be found too */
static fabtx__ofi_smr_hdr *fabtx__ofi_smr_map(const char *path, long pid,
                                              int own, size_t *len)
{
	struct stat sb;
	fabtx__ofi_smr_hdr *h;
	void *m;
	int fd;
	fd = open(path, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) return NULL;
	if (fstat(fd, &sb) < 0 || !S_ISREG(sb.st_mode) ||
	    (size_t)sb.st_size < 4096) {
		close(fd);
		return NULL;
	}
	*len = (size_t)sb.st_size;
	m = mmap(NULL, *len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (m == MAP_FAILED) return NULL;
	h = (fabtx__ofi_smr_hdr *)m;
	if (h->version != 4 || h->pid != pid || h->total_size != *len ||
	    (own && !fabtx__ofi_smr_cmdq(h, *len))) {
		munmap(m, *len);
		return NULL;
	}
	return h;
}

/* the PID in a fabtx endpoint name (fabtx.PID.NS.SEQ), or -1 */
static long fabtx__ofi_nm_pid(const char *nm)
{
	const char *p = strstr(nm, "fabtx.");
	char *e;
	long v;
	if (!p) return -1;
	v = strtol(p + 6, &e, 10);
	return (e != p + 6 && *e == '.' && v > 0) ? v : -1;
}

/* The dead peer held our region's lock: it may have died with its
 * queue's bookkeeping half done (an inject buffer taken, a command not
 * all written).  Reading the commands it left made libfabric fault in the
 * survivor (kill_trials ofishm: 10 runs of 15 ended in a SIGSEGV in
 * smr_progress_connreq, each of the 5 looked at right after such a
 * release; with the queue emptied first, 12 of 12 clean).  So they are
 * dropped: the queue's read count set to its write count, its signal
 * cleared.  What they carried
 * were the peer's last posted writes, which over ofi:// a sender's death
 * may lose (a returned send is posted, not placed). */
static void fabtx__ofi_lkg_drop(fabtx__ofi_lkg *e)
{
	fabtx__ofi_smr_cirq *q = fabtx__ofi_smr_cmdq(e->h[0], e->len[0]);
	if (q)
		__atomic_store_n(&q->rcnt,
		                 __atomic_load_n(&q->wcnt, __ATOMIC_ACQUIRE),
		                 __ATOMIC_RELEASE);
	__atomic_store_n(&e->h[0]->signal, 0, __ATOMIC_RELEASE);
}

static void *fabtx__ofi_lkg_thread(void *arg)
{
	const unsigned long gen = (unsigned long)(uintptr_t)arg;
	(void)pthread_setname_np(pthread_self(), "fabtx-lockguard");
	for (;;) {
		struct pollfd pf[65];
		fabtx__ofi_lkg *e;
		int n = 1, any_dead = 0, i;
		pthread_mutex_lock(&fabtx__ofi_lkg_mu);
		if (gen != fabtx__ofi_lkg_gen) { /* told to go (lkg_del) */
			pthread_mutex_unlock(&fabtx__ofi_lkg_mu);
			return NULL;
		}
		pf[0].fd = fabtx__ofi_lkg_efd;
		pf[0].events = POLLIN;
		for (e = fabtx__ofi_lkg_list; e; e = e->next) {
			if (e->dead == 2) continue; /* nothing left to watch */
			if (e->dead) {
				any_dead = 1;
				for (i = 0; i < 2; i++) {
					if (pthread_spin_trylock(
					        &e->h[i]->lock) == 0) {
						pthread_spin_unlock(
						    &e->h[i]->lock);
						e->held[i] = 0;
					} else if (++e->held[i] >= 2) {
						/* ours: what the dead peer
						 * queued for us is dropped
						 * first (below) */
						if (i == 0)
							fabtx__ofi_lkg_drop(e);
						/* not pthread_spin_unlock: the
						 * holder is another process */
						__atomic_store_n(
						    (int *)(void *)&e->h[i]
						        ->lock,
						    fabtx__ofi_lkg_free_val,
						    __ATOMIC_RELEASE);
						e->held[i] = 0;
					}
				}
				/* both free now: a dead process takes no
				 * lock again, so the entry is done (no more
				 * ticks for a connection left open) */
				if (!e->held[0] && !e->held[1]) e->dead = 2;
			} else if (n < 65) {
				pf[n].fd = e->pidfd;
				pf[n].events = POLLIN;
				n++;
			} else {
				any_dead =
				    1; /* more than we poll: look by ticks */
			}
		}
		pthread_mutex_unlock(&fabtx__ofi_lkg_mu);
		(void)poll(pf, (nfds_t)n, any_dead ? 10 : -1);
		/* which peers died, asked again of the entries listed now (a
		 * connection closed meanwhile closed its pidfd, whose number
		 * may be another's already) */
		pthread_mutex_lock(&fabtx__ofi_lkg_mu);
		if (fabtx__ofi_lkg_efd >= 0) {
			uint64_t x;
			if (read(fabtx__ofi_lkg_efd, &x, sizeof x) <
			    0) { /* empty */
			}
		}
		for (e = fabtx__ofi_lkg_list; e; e = e->next) {
			struct pollfd q;
			if (e->dead) continue;
			q.fd = e->pidfd;
			q.events = POLLIN;
			q.revents = 0;
			if (poll(&q, 1, 0) == 1 && (q.revents & POLLIN))
				e->dead = 1;
		}
		pthread_mutex_unlock(&fabtx__ofi_lkg_mu);
	}
}

/* a child of fork() has no guard thread: start afresh (the parent's
 * connections are not the child's to watch; their entries are dropped) */
static void fabtx__ofi_lkg_atfork_prepare(void)
{
	pthread_mutex_lock(&fabtx__ofi_lkg_mu);
}
static void fabtx__ofi_lkg_atfork_parent(void)
{
	pthread_mutex_unlock(&fabtx__ofi_lkg_mu);
}
static void fabtx__ofi_lkg_atfork_child(void)
{
	fabtx__ofi_lkg_list = NULL;
	fabtx__ofi_lkg_run = 0; /* the parent's thread is not ours to join */
	fabtx__ofi_lkg_gen++;
	if (fabtx__ofi_lkg_efd >= 0) close(fabtx__ofi_lkg_efd);
	fabtx__ofi_lkg_efd = -1;
	pthread_mutex_unlock(&fabtx__ofi_lkg_mu);
}
static void fabtx__ofi_lkg_once(void)
{
	pthread_spinlock_t probe; /* what "unlocked" is here (x86: 1) */
	pthread_spin_init(&probe, PTHREAD_PROCESS_SHARED);
	fabtx__ofi_lkg_free_val = (int)probe;
	pthread_spin_destroy(&probe);
	(void)pthread_atfork(fabtx__ofi_lkg_atfork_prepare,
	                     fabtx__ofi_lkg_atfork_parent,
	                     fabtx__ofi_lkg_atfork_child);
}

static void fabtx__ofi_lkg_kick(void)
{
	uint64_t one = 1;
	if (fabtx__ofi_lkg_efd >= 0 &&
	    write(fabtx__ofi_lkg_efd, &one, sizeof one) < 0) { /* full: woken */
	}
}

/* Is pid (in our PID namespace) the process that maps the region in file
 * want (fabtx__ofi_smr_path)?  The
 * pid comes from the peer's name and its region's header, both in the
 * peer's namespace: a peer in another one (a container sharing /dev/shm)
 * would have us watch, and one day release the locks of, whatever process
 * has that number here.  So the guard watches only a process that maps
 * the peer's region (/proc/PID/maps), checked after its pidfd is open. */
static int fabtx__ofi_maps_region(long pid, const char *want)
{
	char path[64], line[512];
	FILE *f;
	int found = 0;
	snprintf(path, sizeof path, "/proc/%ld/maps", pid);
	f = fopen(path, "re");
	if (!f) return 0;
	while (!found && fgets(line, sizeof line, f)) {
		char *e = strchr(line, '\n');
		size_t wl = strlen(want), ll;
		if (e) *e = 0;
		ll = strlen(line);
		found = ll >= wl && strcmp(line + ll - wl, want) == 0 &&
		        (ll == wl || line[ll - wl - 1] == ' ');
	}
	fclose(f);
	return found;
}

/* guard connection o (shm, a peer in another process); quiet on failure */
static void fabtx__ofi_lkg_add(fabtx__ofi_conn *o, const char *peer_nm,
                               const char *self_nm)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	fabtx__ofi_lkg *e;
	long pp = fabtx__ofi_nm_pid(peer_nm);
	const char *why = NULL;
	char sp[160], pp_path[160];
	if (o->lkg || pp < 0 || pp == (long)getpid()) return;
	if (fi_version() != FI_VERSION(1, 17)) {
		why = "not libfabric 1.17";
		goto none;
	}
	if (fabtx__ofi_smr_path(self_nm, sp, sizeof sp) < 0 ||
	    fabtx__ofi_smr_path(peer_nm, pp_path, sizeof pp_path) < 0) {
		why = "a region name too long";
		goto none;
	}
	e = (fabtx__ofi_lkg *)calloc(1, sizeof *e);
	if (!e) return;
	e->pidfd = (int)syscall(SYS_pidfd_open, (pid_t)pp, 0);
	e->h[0] = fabtx__ofi_smr_map(sp, (long)getpid(), 1, &e->len[0]);
	e->h[1] = fabtx__ofi_smr_map(pp_path, pp, 0, &e->len[1]);
	if (e->pidfd < 0 || !e->h[0] || !e->h[1] ||
	    !fabtx__ofi_maps_region(pp, pp_path)) {
		if (e->pidfd >= 0) close(e->pidfd);
		if (e->h[0]) munmap(e->h[0], e->len[0]);
		if (e->h[1]) munmap(e->h[1], e->len[1]);
		free(e);
		why = "a region or the peer's process not found as expected";
		goto none;
	}
	(void)fcntl(e->pidfd, F_SETFD, FD_CLOEXEC);
	pthread_once(&once, fabtx__ofi_lkg_once);
	pthread_mutex_lock(&fabtx__ofi_lkg_mu);
	if (fabtx__ofi_lkg_efd < 0)
		fabtx__ofi_lkg_efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	e->next = fabtx__ofi_lkg_list;
	fabtx__ofi_lkg_list = e;
	o->lkg = e;
	if (!fabtx__ofi_lkg_run && fabtx__ofi_lkg_efd >= 0 &&
	    fabtx__ofi_thread_start(&fabtx__ofi_lkg_tid, fabtx__ofi_lkg_thread,
	                            (void *)(uintptr_t)fabtx__ofi_lkg_gen) == 0)
		fabtx__ofi_lkg_run = 1;
	fabtx__ofi_lkg_kick();
	pthread_mutex_unlock(&fabtx__ofi_lkg_mu);
	return;
none:
	fabtx_log(o->c->ctx, FABTX_LOG_DEBUG,
	          "ofi: shm connection without a lock guard: %s", why);
}

/* after the provider's objects are closed: no call can spin any more.
 * The last one out stops the thread and waits for it. */
static void fabtx__ofi_lkg_del(fabtx__ofi_conn *o)
{
	fabtx__ofi_lkg **pp, *e = o->lkg;
	pthread_t t;
	int join = 0;
	if (!e) return;
	memset(&t, 0, sizeof t);
	o->lkg = NULL;
	pthread_mutex_lock(&fabtx__ofi_lkg_mu);
	for (pp = &fabtx__ofi_lkg_list; *pp; pp = &(*pp)->next)
		if (*pp == e) {
			*pp = e->next;
			break;
		}
	if (!fabtx__ofi_lkg_list && fabtx__ofi_lkg_run) {
		fabtx__ofi_lkg_gen++; /* a new connection starts a new one */
		fabtx__ofi_lkg_run = 0;
		t = fabtx__ofi_lkg_tid;
		join = 1;
	}
	fabtx__ofi_lkg_kick();
	pthread_mutex_unlock(&fabtx__ofi_lkg_mu);
	if (join) pthread_join(t, NULL);
	close(e->pidfd);
	munmap(e->h[0], e->len[0]);
	munmap(e->h[1], e->len[1]);
	free(e);
}

/* After the handshake: is this an shm endpoint whose peer is in this
 * process?  fabtx names shm endpoints "fabtx.PID.…" (see ep_info).  Both
 * names as the handshake exchanged them (fi_getname / the peer's). */
static void fabtx__ofi_note_local(fabtx__ofi_conn *o, const void *peer,
                                  size_t peer_len, const void *me, size_t ml)
{
	char pfx[40];
	int pl;
	if (!fabtx__ofi_quirk(o->info->fabric_attr->prov_name,
	                      FABTX__OFI_Q_LOCAL))
		return;
	while (peer_len && ((const char *)peer)[peer_len - 1] == 0)
		peer_len--;
	while (ml && ((const char *)me)[ml - 1] == 0)
		ml--;
	if (peer_len >= sizeof o->peer_nm || ml >= sizeof o->self_nm) return;
	{
		char pn[sizeof o->peer_nm], sn[sizeof o->self_nm];
		memcpy(pn, peer, peer_len);
		pn[peer_len] = 0;
		memcpy(sn, me, ml);
		sn[ml] = 0;
		fabtx__ofi_lkg_add(o, pn, sn); /* a peer in another process */
	}
	pl = snprintf(pfx, sizeof pfx, "fabtx.%ld.", (long)getpid());
	if (!memmem(peer, peer_len, pfx, (size_t)pl)) return;
	memcpy(o->peer_nm, peer, peer_len);
	o->peer_nm[peer_len] = 0;
	memcpy(o->self_nm, me, ml);
	o->self_nm[ml] = 0;
	o->peer_local = 1;
}

static fabtx__ofi_conn *fabtx__ofi_conn_new(fabtx_conn *c)
{
	fabtx__ofi_conn *o =
	    (fabtx__ofi_conn *)fabtx_ctx_zalloc(c->ctx, sizeof *o);
	if (!o) return NULL;
	o->c = c;
	o->sock = o->epfd = o->ctl_epfd = o->tfd = o->cq_fd = o->eq_fd = -1;
	o->wsock = -1;
	o->free_head = UINT32_MAX;
	return o;
}

/* Which wait method this provider gets (see docs/ofi.md). */
static int fabtx__ofi_want_wait_fd(const struct fi_info *fi, fabtx_ctx *ctx)
{
	const char *e = getenv("FABTX_OFI_WAIT");
	const char *p = fi->fabric_attr->prov_name;
	if (e && strcmp(e, "timer") == 0) return 0;
	if (e && strcmp(e, "fd") == 0) return 1;
	/* Busy-poll contexts (spin_us > 0) poll the CQ themselves: a CQ wait
	 * object would cost a write and a read syscall per completion (util
	 * CQs signal it on every entry), so they sleep on the timer. */
	if (fabtx_ctx_spin_us(ctx) > 0) return 0;
	/* shm: the peer never signals our wait fd (progress is local);
	 * ofi_rxm: its wait fd does not see connection requests, which need
	 * manual progress, so a sleeper would never accept the first write;
	 * net: its CQ wait fd stays readable after a successful fi_trywait
	 * (a sleeper would spin).
	 * sockets (automatic progress unless spinning, see dom_get) signals
	 * its CQ fd from its progress thread: the fd is usable. */
	if (fabtx__ofi_quirk(p, FABTX__OFI_Q_NO_WAIT_FD)) return 0;
	return 1;
}

/* Create endpoint, CQ, EQ/AV, bind and enable.  fi: info for the ep
 * (connreq info on the passive side). */
static int fabtx__ofi_step(fabtx__ofi_conn *o, const char *what, int rc)
{
	fabtx_log(o->c->ctx, FABTX_LOG_WARN, "ofi: %s: %s", what,
	          fi_strerror(rc < 0 ? -rc : rc));
	return fabtx__ofi_err(rc);
}

/* writes in flight at most, receives to post (FI_RX_CQ_DATA) */
static void fabtx__ofi_qsizes(const struct fi_info *fi, uint32_t *tx_max,
                              uint32_t *rx_want)
{
	size_t txs = fi->tx_attr->size ? fi->tx_attr->size : 256;
	size_t rxs = fi->rx_attr->size ? fi->rx_attr->size : 256;
	*tx_max = (uint32_t)(txs > 1024 ? 1024 : txs);
	/* sockets stalls for good (writes neither delivered nor completed,
	 * both sides idle) about one stream in 25 with ~200 writes in flight;
	 * with at most 32 it ran 150 looped streams clean (docs/ofi.md) */
	if (fabtx__ofi_quirk(fi->fabric_attr->prov_name,
	                     FABTX__OFI_Q_TX_MAX_32) &&
	    *tx_max > 32)
		*tx_max = 32;
	*rx_want = (fi->rx_attr->mode & FI_RX_CQ_DATA)
	               ? (uint32_t)(rxs > 1024 ? 1024 : rxs)
	               : 0;
}

/* a connection's CQ: room for every write and receive, and the peer's
 * doorbells */
static size_t fabtx__ofi_cq_size(uint32_t tx_max, uint32_t rx_want)
{
	return (size_t)tx_max + rx_want + 4096;
}

/* ep_open, 1: what the provider's attributes and quirks allow (sizes,
 * injects, write_imm, ordering), and the operation contexts */
static int fabtx__ofi_ep_limits(fabtx__ofi_conn *o, struct fi_info *fi)
{
	const char *tus = getenv("FABTX_OFI_TIMER_US");
	uint32_t i;

	o->rdm = fi->ep_attr->type == FI_EP_RDM;
	o->iov_limit = fi->tx_attr->rma_iov_limit < fi->tx_attr->iov_limit
	                   ? fi->tx_attr->iov_limit
	                   : fi->tx_attr->iov_limit;
	if (o->iov_limit == 0) o->iov_limit = 1;
	if (o->iov_limit > 8) o->iov_limit = 8;
	o->inject_size = fi->tx_attr->inject_size;
	/* tcp;ofi_rxm (libfabric 1.17) hands injects straight to its msg
	 * endpoint.  When the peer goes, the tcp provider flushes those not
	 * yet sent as error completions, which carry no context, and rxm reads
	 * the protocol state through that context (rxm_handle_comp_error): a
	 * SIGSEGV inside fi_cq_read or fi_close(ep), about one close in 40 in
	 * rxm_rdm_close_loses_nothing.  So no injects on rxm: every write takes
	 * a completion and a context of its own (docs/ofi.md, quirks). */
	if (fabtx__ofi_quirk(fi->fabric_attr->prov_name,
	                     FABTX__OFI_Q_NO_INJECT))
		o->inject_size = 0;
	o->imm_ok = fi->domain_attr->cq_data_size >= 8 && o->inject_size &&
	            !getenv("FABTX_OFI_NO_IMM");
	/* what write_imm takes (the core asks for nothing bigger) */
	o->imm_max = !o->imm_ok                 ? 0
	             : o->inject_size > 0xffffu ? 0xffffu
	                                        : (uint32_t)o->inject_size;
	o->max_msg = fi->ep_attr->max_msg_size ? fi->ep_attr->max_msg_size
	                                       : (size_t)1 << 30;
	o->write_fence = !(fi->tx_attr->msg_order & FI_ORDER_WAW) &&
	                 !(fi->tx_attr->msg_order & FI_ORDER_RMA_WAW);
	fabtx__ofi_qsizes(fi, &o->tx_max, &o->rx_want);
	o->sink_want = fi->ep_attr->type == FI_EP_RDM && !o->rx_want
	                   ? FABTX__OFI_SINKS
	                   : 0;
	/* the queue starts small and grows under load (fabtx__ofi_pq_room):
	 * 4096 entries of 248 B (1 MiB) cleared up front were an eighth of
	 * the CPU a zmq connect over ofi-tcp took (perf, both processes) */
	o->pq_cap = FABTX__OFI_PQ_MIN;
	o->pq = (fabtx__ofi_pend *)fabtx_ctx_zalloc(
	    o->c->ctx, sizeof(fabtx__ofi_pend) * o->pq_cap);
	if (!o->pq) return -ENOMEM;
	o->nops = o->tx_max + o->rx_want + o->sink_want + 1;
	/* plain calloc, like the windows: the provider holds these
	 * contexts, and an orphan (fabtx__ofi_unpark_ctx) outlives the
	 * context's allocator */
	o->ops = (fabtx__ofi_op *)calloc(o->nops, sizeof *o->ops);
	if (!o->ops) return -ENOMEM;
	for (i = 0; i < o->nops; i++)
		fabtx__ofi_op_put(o, o->nops - 1 - i);

	o->no_coalesce = getenv("FABTX_OFI_NO_COALESCE") != NULL;
	o->local_progress =
	    fabtx__ofi_quirk(fi->fabric_attr->prov_name, FABTX__OFI_Q_LOCAL);
	o->split_inject = (fabtx__ofi_quirk(fi->fabric_attr->prov_name,
	                                    FABTX__OFI_Q_SPLIT_INJECT) ||
	                   (fi->tx_attr->msg_order & FI_ORDER_WAW)) &&
	                  !getenv("FABTX_OFI_NO_SPLIT");
	o->timer_us = tus ? atoi(tus) : 1000;
	if (o->timer_us < 10) o->timer_us = 10;
	return 0;
}

/* a CQ of entries with CQ data on d */
static int fabtx__ofi_cq_make(fabtx__ofi_dom *d, size_t size,
                              enum fi_wait_obj wait, struct fid_cq **cq)
{
	struct fi_cq_attr cqa;
	memset(&cqa, 0, sizeof cqa);
	cqa.format = FI_CQ_FORMAT_DATA;
	cqa.size = size;
	cqa.wait_obj = wait;
	return fi_cq_open(d->domain, &cqa, cq, NULL);
}

/* ep_open, 2: the CQ, with a wait fd when it is worth having */
static int fabtx__ofi_cq_open(fabtx__ofi_conn *o, struct fi_info *fi)
{
	size_t size = fabtx__ofi_cq_size(o->tx_max, o->rx_want);
	int rc;
	o->use_timer = 1;
	if (fabtx__ofi_want_wait_fd(fi, o->c->ctx)) {
		rc = fabtx__ofi_cq_make(o->dom, size, FI_WAIT_FD, &o->cq);
		if (rc == 0 &&
		    fi_control(&o->cq->fid, FI_GETWAIT, &o->cq_fd) == 0 &&
		    o->cq_fd >= 0) {
			o->use_timer = 0;
		} else {
			if (rc == 0) fi_close(&o->cq->fid);
			o->cq = NULL;
			o->cq_fd = -1;
		}
	}
	if (!o->cq) {
		rc = fabtx__ofi_cq_make(o->dom, size, FI_WAIT_NONE, &o->cq);
		if (rc) return fabtx__ofi_step(o, "fi_cq_open", rc);
	}
	return 0;
}

/* The endpoint of fi on d: with an AV bound (av: RDM) or the EQ eq (MSG),
 * the CQ cq bound both ways, enabled.  *what: the step that failed. */
static int fabtx__ofi_ep_make(fabtx__ofi_dom *d, struct fi_info *fi,
                              struct fid_eq *eq, struct fid_cq *cq,
                              struct fid_ep **ep, struct fid_av **av,
                              const char **what)
{
	struct fi_av_attr ava;
	int rc;
	*what = "fi_endpoint";
	rc = fi_endpoint(d->domain, fi, ep, NULL);
	if (rc) return rc;
	if (av) {
		memset(&ava, 0, sizeof ava);
		ava.type = fi->domain_attr->av_type != FI_AV_UNSPEC
		               ? fi->domain_attr->av_type
		               : FI_AV_TABLE;
		ava.count = 4;
		*what = "fi_av_open";
		rc = fi_av_open(d->domain, &ava, av, NULL);
		if (rc) return rc;
	}
	*what = "fi_ep_bind";
	rc = fi_ep_bind(*ep, av ? &(*av)->fid : &eq->fid, 0);
	if (rc) return rc;
	/* Selective completion on the transmit side only: every receive-side
	 * entry is wanted (our posted receives and remote CQ data), and the
	 * sockets provider applies FI_SELECTIVE_COMPLETION on FI_RECV to
	 * incoming remote writes too, dropping their CQ data (doorbells):
	 * sock_pe_report_recv_cq_completion. */
	rc = fi_ep_bind(*ep, &cq->fid, FI_TRANSMIT | FI_SELECTIVE_COMPLETION);
	if (rc) return rc;
	rc = fi_ep_bind(*ep, &cq->fid, FI_RECV);
	if (rc) return rc;
	*what = "fi_enable";
	return fi_enable(*ep);
}

/* ep_open, 3: EQ (msg endpoints), endpoint, AV (rdm), bindings, enable */
static int fabtx__ofi_ep_bind(fabtx__ofi_conn *o, struct fi_info *fi)
{
	struct fi_eq_attr eqa;
	const char *what;
	int rc;
	if (!o->rdm) {
		memset(&eqa, 0, sizeof eqa);
		eqa.wait_obj = FI_WAIT_FD;
		rc = fi_eq_open(o->dom->fabric, &eqa, &o->eq, NULL);
		if (rc) {
			eqa.wait_obj = FI_WAIT_UNSPEC;
			rc = fi_eq_open(o->dom->fabric, &eqa, &o->eq, NULL);
			if (rc) return fabtx__ofi_err(rc);
		} else if (fi_control(&o->eq->fid, FI_GETWAIT, &o->eq_fd) ||
		           o->eq_fd < 0) {
			o->eq_fd = -1;
		}
	}
	rc = fabtx__ofi_ep_make(o->dom, fi, o->eq, o->cq, &o->ep,
	                        o->rdm ? &o->av : NULL, &what);
	return rc ? fabtx__ofi_step(o, what, rc) : 0;
}

/* ------------------------------------------- shm: the spare endpoint
 * libfabric 1.17's shm provider makes a shared region per endpoint, in
 * fi_enable, and fills most of it (smr_create's strncpy pads the name to
 * the region's end: docs/ofi.md): ~1300 page faults, 13 ms on this VM, in
 * every connect and every accept, the bulk of a zmq connect over ofi-shm.
 * So a domain of shm keeps one endpoint (CQ, AV, enabled) made ahead of
 * time by a thread of its own ("fabtx-spare"), asked for by each
 * connection once its own endpoint is there, from the domain's second
 * connection on: the next connection takes it
 * (or waits for the one being made, sooner done than another, up to
 * FABTX__OFI_SPARE_WAIT_MS, then makes its own), and the thread, under
 * SCHED_IDLE (fabtx__ofi_spare_thread), makes the next.  The provider is FI_THREAD_SAFE.  The thread
 * goes with the context (fabtx_ctx_destroy joins it).  FABTX_OFI_SPARE=0:
 * no spare, every endpoint made by its connection. */
#define FABTX__OFI_SPARE_WAIT_MS 50 /* for one being made, then our own */
/* No spare is begun once the process exits (its regions are removed
 * then: fabtx__ofi_shm_atexit), which waits for those being made: counted
 * with the process that makes them (a fork's child has none of its
 * parent's threads, whatever its copy of the count says) */
static int fabtx__ofi_exiting, fabtx__ofi_making;
static long fabtx__ofi_making_pid;
typedef struct fabtx__ofi_spare {
	struct fi_info *info; /* its own name (fabtx__ofi_ep_info) */
	struct fid_cq *cq;
	struct fid_ep *ep;
	struct fid_av *av;
	size_t cq_size;
	long pid; /* made in this process (not a fork's parent) */
} fabtx__ofi_spare;

static struct fi_info *fabtx__ofi_ep_info(const struct fi_info *fi);

static void fabtx__ofi_spare_free(fabtx__ofi_spare *sp)
{
	if (!sp) return;
	if (sp->ep) fi_close(&sp->ep->fid);
	if (sp->av) fi_close(&sp->av->fid);
	if (sp->cq) fi_close(&sp->cq->fid);
	fi_freeinfo(sp->info);
	free(sp);
}

static fabtx__ofi_spare *fabtx__ofi_spare_make(fabtx__ofi_dom *d)
{
	fabtx__ofi_spare *sp =
	    (fabtx__ofi_spare *)calloc(1, sizeof(fabtx__ofi_spare));
	uint32_t tx, rx;
	const char *what;
	if (!sp) return NULL;
	sp->pid = (long)getpid();
	sp->info = fabtx__ofi_ep_info(d->info);
	if (!sp->info) goto fail;
	fabtx__ofi_qsizes(sp->info, &tx, &rx);
	sp->cq_size = fabtx__ofi_cq_size(tx, rx);
	/* no wait object: shm has none (want_wait_fd, spare_on) */
	if (fabtx__ofi_cq_make(d, sp->cq_size, FI_WAIT_NONE, &sp->cq) == 0 &&
	    fabtx__ofi_ep_make(d, sp->info, NULL, sp->cq, &sp->ep, &sp->av,
	                       &what) == 0)
		return sp;
fail:
	fabtx__ofi_spare_free(sp);
	return NULL;
}

static void *fabtx__ofi_spare_thread(void *arg)
{
	fabtx__ofi_dom *d = (fabtx__ofi_dom *)arg;
	fabtx__ofi_spare *sp;
	(void)pthread_setname_np(pthread_self(), "fabtx-spare");
	/* only on a CPU nobody else wants: beside the threads of a setup
	 * (nice 10 here) its page faults made each of their wakeups
	 * 0.5-2 ms late */
	{
		struct sched_param sp0;
		memset(&sp0, 0, sizeof sp0);
		if (pthread_setschedparam(pthread_self(), SCHED_IDLE, &sp0))
			(void)setpriority(PRIO_PROCESS,
			                  (id_t)syscall(SYS_gettid), 19);
	}
	pthread_mutex_lock(&d->sp_mu);
	for (;;) {
		while (!d->sp_stop && (d->sp || !d->sp_want))
			pthread_cond_wait(&d->sp_cv, &d->sp_mu);
		if (d->sp_stop) break;
		d->sp_want = 0;
		d->sp_busy = 1;
		pthread_mutex_unlock(&d->sp_mu);
		__atomic_store_n(&fabtx__ofi_making_pid, (long)getpid(),
		                 __ATOMIC_SEQ_CST);
		__atomic_add_fetch(&fabtx__ofi_making, 1, __ATOMIC_SEQ_CST);
		sp = __atomic_load_n(&fabtx__ofi_exiting, __ATOMIC_SEQ_CST)
		         ? NULL
		         : fabtx__ofi_spare_make(d);
		__atomic_sub_fetch(&fabtx__ofi_making, 1, __ATOMIC_SEQ_CST);
		pthread_mutex_lock(&d->sp_mu);
		d->sp_busy = 0;
		d->sp = sp;
		pthread_cond_broadcast(&d->sp_cv);
		if (!sp) { /* it would fail again: connections make their own */
			d->sp_failed = 1;
			break;
		}
	}
	pthread_mutex_unlock(&d->sp_mu);
	return NULL;
}

/* Is a spare endpoint the way for o's endpoint of fi? */
static int fabtx__ofi_spare_on(fabtx__ofi_conn *o, const struct fi_info *fi)
{
	const char *e = getenv("FABTX_OFI_SPARE");
	return o->rdm && fi == o->info && !(e && strcmp(e, "0") == 0) &&
	       fabtx__ofi_quirk(fi->fabric_attr->prov_name,
	                        FABTX__OFI_Q_LOCAL) &&
	       !fabtx__ofi_want_wait_fd(fi, o->c->ctx);
}

/* The spare endpoint for o, or NULL (none, or not one that fits: then
 * closed).  A fork's child finds its parent's spare and thread in its
 * copy of the domain: neither is its own (the spare's region is the
 * parent's), so they are forgotten. */
static fabtx__ofi_spare *fabtx__ofi_spare_take(fabtx__ofi_conn *o)
{
	fabtx__ofi_dom *d = o->dom;
	fabtx__ofi_spare *sp;
	pthread_mutex_lock(&d->sp_mu);
	if (d->sp_pid && d->sp_pid != (long)getpid()) {
		d->sp = NULL;
		d->sp_busy = 0;
		d->sp_pid = 0;
	}
	if (!d->sp && d->sp_busy) { /* nearly done, most likely */
		struct timespec until;
		clock_gettime(CLOCK_MONOTONIC, &until);
		until.tv_nsec += FABTX__OFI_SPARE_WAIT_MS * 1000000L;
		until.tv_sec += until.tv_nsec / 1000000000L;
		until.tv_nsec %= 1000000000L;
		while (!d->sp && d->sp_busy &&
		       pthread_cond_timedwait(&d->sp_cv, &d->sp_mu, &until) ==
		           0)
			;
	}
	sp = d->sp;
	d->sp = NULL;
	pthread_mutex_unlock(&d->sp_mu);
	if (sp && sp->cq_size != fabtx__ofi_cq_size(o->tx_max, o->rx_want)) {
		fabtx__ofi_spare_free(sp);
		sp = NULL;
	}
	return sp;
}

/* a connection has its endpoint: have the next one made, from the
 * domain's second on (a process with one connection has no spare: no
 * thread, no region it does not use) */
static void fabtx__ofi_spare_want(fabtx__ofi_dom *d)
{
	pthread_mutex_lock(&d->sp_mu);
	if (d->sp_eps < 2) d->sp_eps++;
	if (!d->sp_failed && !d->sp_stop && d->sp_eps >= 2) {
		d->sp_want = 1;
		if (!d->sp_pid) {
			if (fabtx__ofi_thread_start(
			        &d->sp_tid, fabtx__ofi_spare_thread, d) == 0)
				d->sp_pid = (long)getpid();
			else
				d->sp_failed = 1;
		}
		pthread_cond_broadcast(&d->sp_cv);
	}
	pthread_mutex_unlock(&d->sp_mu);
}

/* the context goes: the thread ends (after the endpoint it may be
 * making), the spare is closed */
static void fabtx__ofi_spare_stop(fabtx__ofi_dom *d)
{
	int join;
	pthread_mutex_lock(&d->sp_mu);
	d->sp_stop = 1;
	join = d->sp_pid == (long)getpid();
	pthread_cond_broadcast(&d->sp_cv);
	pthread_mutex_unlock(&d->sp_mu);
	if (join) pthread_join(d->sp_tid, NULL);
	if (d->sp && d->sp->pid == (long)getpid()) fabtx__ofi_spare_free(d->sp);
	d->sp = NULL;
	d->sp_pid = 0;
	pthread_cond_destroy(&d->sp_cv);
	pthread_mutex_destroy(&d->sp_mu);
}

/* fd into the epoll set ep for events: 0 or -errno */
static int fabtx__ofi_epoll_add(int ep, int fd, uint32_t events)
{
	struct epoll_event ev;
	memset(&ev, 0, sizeof ev);
	ev.events = events;
	ev.data.fd = fd;
	return epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0 ? -errno : 0;
}

/* ep_open, 4: the CQ and EQ fds into the connection's epoll set, and what
 * fabtx_ofi_conn_info reports */
static int fabtx__ofi_ep_publish(fabtx__ofi_conn *o, struct fi_info *fi)
{
	int rc = 0;
	/* the pollable fd (made with the connection: fabtx__ofi_fds_open) */
	if (o->cq_fd >= 0)
		rc = fabtx__ofi_epoll_add(o->epfd, o->cq_fd, EPOLLIN);
	if (rc == 0 && o->eq_fd >= 0)
		rc = fabtx__ofi_epoll_add(o->epfd, o->eq_fd, EPOLLIN);
	if (rc < 0) return rc;

	fabtx__ofi_strlcpy(o->st.provider, fi->fabric_attr->prov_name,
	                   sizeof o->st.provider);
	fabtx__ofi_strlcpy(o->st.fabric, fi->fabric_attr->name,
	                   sizeof o->st.fabric);
	fabtx__ofi_strlcpy(o->st.domain, fi->domain_attr->name,
	                   sizeof o->st.domain);
	o->st.ep_rdm = o->rdm;
	o->st.mr_mode = (uint64_t)fi->domain_attr->mr_mode;
	o->st.rx_mode = fi->rx_attr->mode;
	o->st.wait_fd = !o->use_timer;
	o->st.inject_size = o->inject_size;
	return 0;
}

static int fabtx__ofi_ep_open(fabtx__ofi_conn *o, struct fi_info *fi)
{
	fabtx__ofi_spare *sp = NULL;
	int rc = fabtx__ofi_ep_limits(o, fi), spare = 0;
	if (rc == 0 && fabtx__ofi_spare_on(o, fi)) {
		spare = 1;
		sp = fabtx__ofi_spare_take(o);
	}
	if (sp) { /* its objects, and its name, are the connection's now */
		fi_freeinfo(o->info);
		o->info = fi = sp->info;
		o->cq = sp->cq;
		o->ep = sp->ep;
		o->av = sp->av;
		o->use_timer = 1;
		o->cq_fd = -1;
		o->st.spare_ep = 1;
		free(sp);
	} else {
		if (rc == 0) rc = fabtx__ofi_cq_open(o, fi);
		if (rc == 0) rc = fabtx__ofi_ep_bind(o, fi);
	}
	if (rc == 0) rc = fabtx__ofi_ep_publish(o, fi);
	if (rc == 0 && spare) fabtx__ofi_spare_want(o->dom);
	return rc;
}

/* The bootstrap socket in the epoll set: control messages and hang-up
 * (EPOLLIN | EPOLLRDHUP), during setup also EPOLLOUT while a connect or
 * a frame is on its way out.  ev 0: take it out. */
static int fabtx__ofi_sock_watch(fabtx__ofi_conn *o, uint32_t ev)
{
	struct epoll_event e;
	int op = !ev          ? EPOLL_CTL_DEL
	         : o->sock_ev ? EPOLL_CTL_MOD
	                      : EPOLL_CTL_ADD;
	if (o->sock < 0 || o->epfd < 0 || (uint32_t)o->sock_ev == ev) return 0;
	memset(&e, 0, sizeof e);
	e.events = ev;
	e.data.fd = o->sock;
	if (epoll_ctl(o->epfd, op, o->sock, &e) < 0) return -errno;
	if (o->ctl_epfd >= 0 && epoll_ctl(o->ctl_epfd, op, o->sock, &e) < 0)
		return -errno;
	o->sock_ev = (int)ev;
	return 0;
}

/* Out of the connection's epoll sets (fd() and fds()'s) */
static void fabtx__ofi_unwatch(fabtx__ofi_conn *o, int fd)
{
	(void)epoll_ctl(o->epfd, EPOLL_CTL_DEL, fd, NULL);
	if (o->ctl_epfd >= 0)
		(void)epoll_ctl(o->ctl_epfd, EPOLL_CTL_DEL, fd, NULL);
}

/* The connection's pollable fd (an epoll set) and its timer, made when
 * the connection is: fd() and, while it is being set up, ctrl_fd(). */
static int fabtx__ofi_fds_open(fabtx__ofi_conn *o)
{
	o->epfd = epoll_create1(EPOLL_CLOEXEC);
	o->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (o->epfd < 0 || o->tfd < 0) return -errno;
	return fabtx__ofi_epoll_add(o->epfd, o->tfd, EPOLLIN);
}

/* an on/off setting that is on unless the variable is "0" */
static int fabtx__ofi_env_on(const char *name)
{
	const char *e = getenv(name);
	return !e || strcmp(e, "0") != 0;
}

/* ---- the wake socket (see fabtx__ofi_conn.wsock, docs/ofi.md) */
static int fabtx__ofi_wsock_wanted(void)
{
	return fabtx__ofi_env_on("FABTX_OFI_WAKE_SOCK");
}

/* make ours, bound to a name the kernel picks in the abstract namespace;
 * its name (sun_path bytes, the leading 0 included) into name/len */
static int fabtx__ofi_wsock_open(fabtx__ofi_conn *o, uint8_t *name,
                                 uint32_t *len)
{
	struct sockaddr_un a;
	socklen_t al = (socklen_t)sizeof(sa_family_t);
	*len = 0;
	o->wsock =
	    socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (o->wsock < 0) return -errno;
	memset(&a, 0, sizeof a);
	a.sun_family = AF_UNIX;
	if (bind(o->wsock, (struct sockaddr *)&a, al) < 0) goto fail;
	al = (socklen_t)sizeof a;
	if (getsockname(o->wsock, (struct sockaddr *)&a, &al) < 0) goto fail;
	if (al <= offsetof(struct sockaddr_un, sun_path) + 1 ||
	    a.sun_path[0] != 0) {
		errno = EPROTO;
		goto fail;
	}
	*len = (uint32_t)(al - offsetof(struct sockaddr_un, sun_path));
	memcpy(name, a.sun_path, *len);
	return 0;
fail:
	close(o->wsock);
	o->wsock = -1;
	return -errno;
}

/* the peer's name: an abstract one (never a path in the file system),
 * which fits.  Connected, our socket takes datagrams from that socket
 * only: no other process can wake us through it. */
static void fabtx__ofi_wsock_connect(fabtx__ofi_conn *o, const uint8_t *name,
                                     uint32_t len)
{
	struct sockaddr_un a;
	if (o->wsock < 0 || len < 2 || len > sizeof a.sun_path || name[0])
		return;
	memset(&a, 0, sizeof a);
	a.sun_family = AF_UNIX;
	memcpy(a.sun_path, name, len);
	if (connect(
	        o->wsock, (struct sockaddr *)&a,
	        (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len)) == 0)
		o->wpeer = 1;
}

/* into fd()'s epoll set (a timer-polled connection has no other set) */
static int fabtx__ofi_wsock_watch(fabtx__ofi_conn *o)
{
	int rc = fabtx__ofi_epoll_add(o->epfd, o->wsock, EPOLLIN);
	if (rc < 0) fabtx__ofi_wsock_close(o);
	return rc;
}

/* server, before its READY: a timer-polled connection whose client sent
 * a name gets a socket of ours, connected to the client's, and its name
 * goes in the READY (name/len; len 0: none).  Old clients ignore what
 * READY carries, as old servers ignore what HELLO carries. */
static void fabtx__ofi_wsock_offer(fabtx__ofi_conn *o, uint8_t *name,
                                   uint32_t *len)
{
	*len = 0;
	if (!o->use_timer || !o->wname_len || !fabtx__ofi_wsock_wanted() ||
	    fabtx__ofi_wsock_open(o, name, len) < 0)
		return;
	fabtx__ofi_wsock_connect(o, (const uint8_t *)o->wname, o->wname_len);
	if (fabtx__ofi_wsock_watch(o) < 0) *len = 0;
}

/* client, the READY came (its payload: the server's name, or nothing):
 * keep our socket only where it serves */
static void fabtx__ofi_wsock_ready(fabtx__ofi_conn *o, const uint8_t *name,
                                   uint32_t len)
{
	if (o->wsock < 0) return;
	if (!o->use_timer || len < 2) {
		fabtx__ofi_wsock_close(o);
		return;
	}
	fabtx__ofi_wsock_connect(o, name, len);
	(void)fabtx__ofi_wsock_watch(o);
}

static int fabtx__ofi_getname(struct fid *fid, uint8_t *buf, size_t *len)
{
	size_t l = FABTX__OFI_NAME_MAX;
	int rc = fi_getname(fid, buf, &l);
	if (rc) return rc == -FI_ETOOSMALL ? -ENAMETOOLONG : fabtx__ofi_err(rc);
	*len = l;
	return 0;
}

/* libfabric's shm provider removes an endpoint's region (/dev/shm, 16 MiB
 * here) when the endpoint is closed, and on a fatal signal, but not at a
 * normal exit: a process that exits with connections open, or with a
 * context's spare endpoint (the spare endpoint, below), would leave them
 * behind for good.  So at exit the regions named after this process
 * (fabtx.PID.*) are removed: peers that mapped one keep their mapping. */
static void fabtx__ofi_shm_atexit(void)
{
	char pfx[32];
	size_t pl;
	DIR *d = opendir("/dev/shm");
	struct dirent *de;
	/* no spare is begun from now on; one being made gets its file */
	__atomic_store_n(&fabtx__ofi_exiting, 1, __ATOMIC_SEQ_CST);
	while (__atomic_load_n(&fabtx__ofi_making, __ATOMIC_SEQ_CST) &&
	       __atomic_load_n(&fabtx__ofi_making_pid, __ATOMIC_SEQ_CST) ==
	           (long)getpid())
		(void)poll(NULL, 0, 1); /* (a yield would starve its
		                         * SCHED_IDLE maker of the CPU) */
	if (!d) return;
	pl = (size_t)snprintf(pfx, sizeof pfx, "fabtx.%ld.", (long)getpid());
	while ((de = readdir(d)))
		if (strncmp(de->d_name, pfx, pl) == 0) {
			char path[300];
			snprintf(path, sizeof path, "/dev/shm/%s", de->d_name);
			(void)unlink(path);
		}
	closedir(d);
}
static void fabtx__ofi_shm_atexit_once(void)
{
	(void)atexit(fabtx__ofi_shm_atexit);
}

/* Make a copy of info suitable for a fresh active endpoint. */
static struct fi_info *fabtx__ofi_ep_info(const struct fi_info *fi)
{
	struct fi_info *d = fi_dupinfo(fi);
	if (!d) return NULL;
	fabtx__ofi_want_order(d);
	free(d->dest_addr);
	d->dest_addr = NULL;
	d->dest_addrlen = 0;
	if (d->src_addr && (d->addr_format == FI_SOCKADDR_IN ||
	                    d->addr_format == FI_SOCKADDR)) {
		struct sockaddr *sa = (struct sockaddr *)d->src_addr;
		if (sa->sa_family == AF_INET)
			((struct sockaddr_in *)sa)->sin_port = 0;
		else if (sa->sa_family == AF_INET6)
			((struct sockaddr_in6 *)sa)->sin6_port = 0;
	} else if (d->src_addr && d->addr_format == FI_SOCKADDR_IN6) {
		((struct sockaddr_in6 *)d->src_addr)->sin6_port = 0;
	}
	/* shm names its endpoint after the source name ("fi_shm://PID" plus
	 * an index), and a region left in /dev/shm by a killed process whose
	 * PID comes round again makes fi_endpoint fail with EBUSY: give
	 * every endpoint its own name.  Other formats are kept. */
	if (d->addr_format == FI_ADDR_STR &&
	    fabtx__ofi_quirk(d->fabric_attr->prov_name, FABTX__OFI_Q_LOCAL)) {
		static unsigned seq;
		static pthread_once_t once = PTHREAD_ONCE_INIT;
		char nm[96], *n2;
		int k;
		pthread_once(&once, fabtx__ofi_shm_atexit_once);
		k = snprintf(nm, sizeof nm, "fi_shm://fabtx.%ld.%llx.%u",
		             (long)getpid(), (unsigned long long)fabtx_now_ns(),
		             __atomic_add_fetch(&seq, 1u, __ATOMIC_RELAXED));
		n2 = (char *)malloc((size_t)k + 1);
		if (!n2) {
			fi_freeinfo(d);
			return NULL;
		}
		memcpy(n2, nm, (size_t)k + 1);
		free(d->src_addr);
		d->src_addr = n2;
		d->src_addrlen = (size_t)k + 1;
	}
	return d;
}

/* ---------------------------------------------------------- listener */
static int fabtx__ofi_tcp_listen(const fabtx__ofi_url *u, int *out)
{
	struct addrinfo hints, *res = NULL, *ai;
	int fd = -1, rc, one = 1;
	memset(&hints, 0, sizeof hints);
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	rc = getaddrinfo(strcmp(u->host, "*") == 0 ? NULL : u->host, u->port,
	                 &hints, &res);
	if (rc) return -EINVAL;
	rc = -EADDRNOTAVAIL;
	for (ai = res; ai; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, 0);
		if (fd < 0) continue;
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
		if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 &&
		    listen(fd, 128) == 0) {
			rc = 0;
			break;
		}
		rc = -errno;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd < 0) return rc;
	fabtx__ofi_set_nb(fd);
	*out = fd;
	return 0;
}

static void fabtx__ofi_peq_watch(fabtx__ofi_conn *o, int on);

static void fabtx__ofi_listener_close(fabtx_listener *l)
{
	fabtx__ofi_listener *s = (fabtx__ofi_listener *)l->bdata;
	if (!s) return;
	/* clients still waiting for their connection request (a core
	 * closes these first; direct users of the backend may not) */
	while (s->waiting) {
		fabtx__ofi_conn *o = s->waiting;
		s->waiting = o->lnext;
		fabtx__ofi_peq_watch(o, 0);
		o->lnext = NULL;
		o->lis = NULL;
		if (o->ci) {
			fi_reject(s->pep, o->ci->handle, NULL, 0);
			fi_freeinfo(o->ci);
			o->ci = NULL;
		}
		if (!o->su_err) o->su_err = -ECONNABORTED;
	}
	s->nwaiting = 0;
	if (s->pep) fi_close(&s->pep->fid);
	fi_freeinfo(s->pep_info);
	if (s->peq) fi_close(&s->peq->fid);
	if (s->sock >= 0) close(s->sock);
	fi_freeinfo(s->info);
	fabtx_ctx_free(l->ctx, s);
	l->bdata = NULL;
}

static int fabtx__ofi_listen(fabtx_listener *l, const char *addr)
{
	fabtx__ofi_listener *s;
	int rc;
	s = (fabtx__ofi_listener *)fabtx_ctx_zalloc(l->ctx, sizeof *s);
	if (!s) return -ENOMEM;
	s->l = l;
	s->sock = -1;
	s->peq_fd = -1;
	l->bdata = s;
	rc = fabtx__ofi_parse_url(addr, &s->url);
	if (rc < 0) {
		fabtx_log(l->ctx, FABTX_LOG_ERROR, "ofi: bad URL ofi://%s",
		          addr ? addr : "(null)");
		goto fail;
	}
	fabtx__ofi_strlcpy(s->addr, addr, sizeof s->addr); /* parse: < 512 */
	rc = fabtx__ofi_resolve(l->ctx, &s->url, 1, &s->info);
	if (rc < 0) goto fail;
	rc = fabtx__ofi_dom_get(l->ctx, s->info, &s->dom);
	if (rc < 0) goto fail;
	rc = fabtx__ofi_tcp_listen(&s->url, &s->sock);
	if (rc < 0) goto fail;
	if (s->info->ep_attr->type == FI_EP_MSG) {
		struct fi_eq_attr eqa;
		/* pi lives as long as the pep: the sockets provider keeps a
		 * shallow copy of it (sock_msg_passive_ep: pep->info = *info)
		 * and its CM thread reads pi's domain/ep/tx/rx attributes
		 * through it on every connection request (sock_ep_msg_get_info
		 * -> sock_fi_info), long after fi_passive_ep returned. */
		struct fi_info *pi = s->pep_info = fi_dupinfo(s->info);
		if (!pi) {
			rc = -ENOMEM;
			goto fail;
		}
		if (pi->src_addr &&
		    ((struct sockaddr *)pi->src_addr)->sa_family == AF_INET)
			((struct sockaddr_in *)pi->src_addr)->sin_port = 0;
		else if (pi->src_addr &&
		         ((struct sockaddr *)pi->src_addr)->sa_family ==
		             AF_INET6)
			((struct sockaddr_in6 *)pi->src_addr)->sin6_port = 0;
		rc = fi_passive_ep(s->dom->fabric, pi, &s->pep, NULL);
		if (rc == 0) {
			/* with a wait fd, a client waiting for its connection
			 * request wakes when the request comes
			 * (fabtx__ofi_peq_watch), not at the next setup tick */
			memset(&eqa, 0, sizeof eqa);
			eqa.wait_obj = FI_WAIT_FD;
			rc = fi_eq_open(s->dom->fabric, &eqa, &s->peq, NULL);
			if (rc == 0 &&
			    (fi_control(&s->peq->fid, FI_GETWAIT, &s->peq_fd) ||
			     s->peq_fd < 0))
				s->peq_fd = -1;
			if (rc) {
				eqa.wait_obj = FI_WAIT_UNSPEC;
				rc = fi_eq_open(s->dom->fabric, &eqa, &s->peq,
				                NULL);
			}
		}
		if (rc == 0) rc = fi_pep_bind(s->pep, &s->peq->fid, 0);
		if (rc == 0) rc = fi_listen(s->pep);
		if (rc == 0)
			rc = fabtx__ofi_getname(&s->pep->fid, s->pep_name,
			                        &s->pep_name_len);
		if (rc) {
			rc = fabtx__ofi_err(rc);
			fabtx_log(l->ctx, FABTX_LOG_ERROR,
			          "ofi: passive endpoint on %s: %s",
			          s->info->fabric_attr->prov_name,
			          fi_strerror(-rc));
			goto fail;
		}
	}
	fabtx_log(l->ctx, FABTX_LOG_INFO, "ofi: listening on %s:%s via %s/%s",
	          s->url.host, s->url.port, s->info->fabric_attr->prov_name,
	          s->info->ep_attr->type == FI_EP_MSG ? "msg" : "rdm");
	return 0;
fail:
	fabtx__ofi_listener_close(l);
	return rc;
}

static int fabtx__ofi_listener_fd(fabtx_listener *l)
{
	fabtx__ofi_listener *s = (fabtx__ofi_listener *)l->bdata;
	return s ? s->sock : -EINVAL;
}

/* Offer: token(8) ep(4) addr_format(4) provlen(4) fablen(4) domlen(4)
 * namelen(4) prov fab dom name */
static int fabtx__ofi_pack_offer(const fabtx__ofi_listener *s, uint64_t token,
                                 const uint8_t *name, size_t nlen, int early,
                                 uint8_t *out, uint32_t *olen)
{
	const char *pv = s->info->fabric_attr->prov_name;
	const char *fb = s->info->fabric_attr->name;
	const char *dm = s->info->domain_attr->name;
	size_t lp = strlen(pv), lf = strlen(fb), ld = strlen(dm), o = 0;
	if (40 + lp + lf + ld + nlen > 1024) return -ENAMETOOLONG;
	fabtx__ofi_put64(out, token);
	fabtx__ofi_put32(out + 8, (uint32_t)s->info->ep_attr->type);
	fabtx__ofi_put32(out + 12,
	                 s->info->addr_format |
	                     (early ? FABTX__OFI_OFFER_EARLY_REQ : 0));
	fabtx__ofi_put32(out + 16, (uint32_t)lp);
	fabtx__ofi_put32(out + 20, (uint32_t)lf);
	fabtx__ofi_put32(out + 24, (uint32_t)ld);
	fabtx__ofi_put32(out + 28, (uint32_t)nlen);
	o = 32;
	memcpy(out + o, pv, lp);
	o += lp;
	memcpy(out + o, fb, lf);
	o += lf;
	memcpy(out + o, dm, ld);
	o += ld;
	memcpy(out + o, name, nlen);
	o += nlen;
	*olen = (uint32_t)o;
	return 0;
}

static int fabtx__ofi_sock_setup(int fd)
{
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	return fabtx__ofi_set_nb(fd);
}

/* ------------------------------------------------- connection setup
 * Accept and connect never wait: each is a sequence of steps
 * (FABTX__OFI_SU_*) taken by fabtx__ofi_setup whenever the connection's
 * fd (ctrl_fd: the epoll set of the bootstrap socket, the EQ's fd and a
 * timer ticking while something without an fd is awaited) may have news;
 * accept(l, c, 0) returns once the bootstrap socket is accepted, and the
 * core's ctrl_recv(c, ..., 0) takes the steps (-EAGAIN until done);
 * connect(c, addr, 0) returns -EINPROGRESS and connect_poll takes them.
 * With a timeout, accept and connect take them in a loop bounded by it.
 * A peer can only end its own setup: bytes it should not send are
 * -EPROTO, its hang-up -ECONNRESET, its silence the caller's deadline. */
static int fabtx__ofi_self_connected(int fd);
enum {
	FABTX__OFI_SU_DONE = 0,
	FABTX__OFI_SU_S_HELLO,     /* server: the client's HELLO        */
	FABTX__OFI_SU_S_ADDR,      /* server rdm: its endpoint name     */
	FABTX__OFI_SU_S_CONNREQ,   /* server msg: its connection request */
	FABTX__OFI_SU_S_CONNECTED, /* server msg: fi_accept's CONNECTED */
	FABTX__OFI_SU_FLUSH,       /* either: the last frame going out  */
	FABTX__OFI_SU_C_TCP,       /* client: the bootstrap TCP connect */
	FABTX__OFI_SU_C_OFFER,     /* client: the listener's OFFER      */
	FABTX__OFI_SU_C_CONNECTED, /* client msg: fi_connect's CONNECTED */
	FABTX__OFI_SU_C_READY      /* client: the listener's READY      */
};

/* 64 bits from the kernel's random source (a token a peer cannot guess) */
static int fabtx__ofi_random64(uint64_t *out)
{
	uint8_t b[8];
	size_t got = 0;
	while (got < sizeof b) {
		ssize_t n = getrandom(b + got, sizeof b - got, 0);
		if (n > 0) {
			got += (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR) continue;
		break;
	}
	if (got < sizeof b) { /* no getrandom(2) (old kernel): the device */
		int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
		got = 0;
		while (fd >= 0 && got < sizeof b) {
			ssize_t n = read(fd, b + got, sizeof b - got);
			if (n > 0)
				got += (size_t)n;
			else if (n < 0 && errno == EINTR)
				continue;
			else
				break;
		}
		if (fd >= 0) close(fd);
		if (got < sizeof b) return -EIO; /* no guessable fallback */
	}
	memcpy(out, b, sizeof b);
	return 0;
}

/* the setup timer: ticking (on) while something without an fd is
 * awaited (EQ events), else off, so a silent peer costs no wakeups */
static void fabtx__ofi_tick_set(fabtx__ofi_conn *o, long first_ns)
{
	struct itimerspec it;
	memset(&it, 0, sizeof it);
	it.it_value.tv_nsec = first_ns;
	it.it_interval.tv_nsec = o->tick_us * 1000L;
	timerfd_settime(o->tfd, 0, &it, NULL);
}

static void fabtx__ofi_tick(fabtx__ofi_conn *o, int on)
{
	struct itimerspec it;
	if (o->tfd < 0 || o->tick_on == on) return;
	if (on) {
		o->tick_us = FABTX__OFI_SETUP_TICK_MIN_US;
		fabtx__ofi_tick_set(o, o->tick_us * 1000L);
		o->tick_on = 1;
		return;
	}
	memset(&it, 0, sizeof it);
	timerfd_settime(o->tfd, 0, &it, NULL);
	if (!on) {
		uint64_t x;
		ssize_t r = read(o->tfd, &x, sizeof x);
		(void)r;
	}
	o->tick_on = on;
}

/* Read the next bootstrap frame into o->bin, never waiting: 1 when it is
 * whole (its kind and payload length out; payload at o->bin + 12, which
 * has room for a terminating 0), 0 not yet, < 0 the peer hung up or sent
 * what is no frame.  Reads no byte past the frame. */
static int fabtx__ofi_bread(fabtx__ofi_conn *o, uint32_t *kind, uint32_t *len)
{
	for (;;) {
		uint32_t need = 12, l = 0;
		ssize_t n;
		if (o->bin_have >= 12) {
			if (fabtx__ofi_get32(o->bin) != FABTX__OFI_MAGIC ||
			    (fabtx__ofi_get32(o->bin + 4) >> 16) !=
			        FABTX__OFI_BOOT_VER)
				return -EPROTO;
			l = fabtx__ofi_get32(o->bin + 8);
			if (l > FABTX__OFI_BMAX - 1) return -EPROTO;
			need = 12 + l;
			if (o->bin_have == need) {
				*kind = fabtx__ofi_get32(o->bin + 4) & 0xffff;
				*len = l;
				o->bin[need] = 0;
				return 1;
			}
		}
		n = recv(o->sock, o->bin + o->bin_have, need - o->bin_have,
		         MSG_DONTWAIT);
		if (n > 0) {
			o->bin_have += (uint32_t)n;
			continue;
		}
		if (n == 0) return -ECONNRESET;
		if (errno == EINTR) continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK) return 0;
		return -ECONNRESET;
	}
}

/* The next frame if it is whole and of kind want: 1 (payload at
 * o->bin + 12, *len bytes; the caller sets bin_have = 0 once done with
 * it), 0 not yet; a REJECT is the error it names, another kind -EPROTO */
static int fabtx__ofi_bframe(fabtx__ofi_conn *o, uint32_t want, uint32_t *len)
{
	uint32_t k = 0;
	int rc = fabtx__ofi_bread(o, &k, len);
	if (rc <= 0) return rc;
	if (k == FABTX__OFI_B_REJECT) {
		int e = *len >= 4 ? (int)fabtx__ofi_get32(o->bin + 12) : 0;
		/* the peer's errno, unless it would read as "not yet" */
		if (e == EAGAIN || e == EWOULDBLOCK || e == EINPROGRESS ||
		    e == EINTR || e == EALREADY)
			e = 0;
		return e > 0 && e < 4096 ? -e : -ECONNREFUSED;
	}
	return k == want ? 1 : -EPROTO;
}

/* The peer hung up the bootstrap socket (bytes may still be unread) */
static int fabtx__ofi_hung_up(fabtx__ofi_conn *o)
{
	struct pollfd p;
	p.fd = o->sock;
	p.events = POLLRDHUP;
	p.revents = 0;
	if (poll(&p, 1, 0) < 0) return errno != EINTR;
	return (p.revents & (POLLRDHUP | POLLHUP | POLLERR)) != 0;
}

/* During a server's wait for the fabric (the connection request, its
 * CONNECTED): 0 while the client is quiet, -ECONNRESET once it hung up.
 * Bytes it sent are the core's request, sent early if our OFFER allowed
 * it (FABTX__OFI_OFFER_EARLY_REQ; else -EPROTO); they wait in the socket
 * for the core's ctrl_recv once the setup is done, and the socket is
 * watched for its hang-up only meanwhile (no wakeup per look; restored at
 * the end). */
static int fabtx__ofi_quiet(fabtx__ofi_conn *o)
{
	uint8_t b;
	ssize_t n;
	if (fabtx__ofi_hung_up(o)) return -ECONNRESET;
	n = recv(o->sock, &b, 1, MSG_PEEK | MSG_DONTWAIT);
	if (n == 0) return -ECONNRESET;
	if (n < 0) return errno == EAGAIN || errno == EINTR ? 0 : -ECONNRESET;
	if (!o->early_req) return -EPROTO; /* we did not allow it */
	return fabtx__ofi_sock_watch(o, EPOLLRDHUP);
}

/* Send what is queued in o->bout without waiting: 1 all out, 0 some left
 * (the socket is watched for EPOLLOUT), < 0 the peer is gone. */
static int fabtx__ofi_bflush(fabtx__ofi_conn *o)
{
	while (o->bout_off < o->bout_len) {
		ssize_t n = send(o->sock, o->bout + o->bout_off,
		                 o->bout_len - o->bout_off,
		                 MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n > 0) {
			o->bout_off += (uint32_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR) continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			int rc = fabtx__ofi_sock_watch(o, EPOLLIN | EPOLLRDHUP |
			                                      EPOLLOUT);
			return rc < 0 ? rc : 0;
		}
		return -ECONNRESET;
	}
	o->bout_off = o->bout_len = 0;
	return fabtx__ofi_sock_watch(o, EPOLLIN | EPOLLRDHUP) < 0 ? -EIO : 1;
}

/* Queue one frame (the previous one is out) and send what goes now. */
static int fabtx__ofi_bqueue(fabtx__ofi_conn *o, uint32_t kind, const void *p,
                             uint32_t len)
{
	if (o->bout_len || len > FABTX__OFI_BMAX) return -EINVAL;
	fabtx__ofi_put32(o->bout, FABTX__OFI_MAGIC);
	fabtx__ofi_put32(o->bout + 4, (FABTX__OFI_BOOT_VER << 16) | kind);
	fabtx__ofi_put32(o->bout + 8, len);
	if (len) memmove(o->bout + 12, p, len);
	o->bout_len = 12 + len;
	o->bout_off = 0;
	return fabtx__ofi_bflush(o);
}

/* server: the READY frame, with our wake socket's name if we made one */
static int fabtx__ofi_ready_out(fabtx__ofi_conn *o)
{
	uint8_t wn[108];
	uint32_t wl;
	fabtx__ofi_wsock_offer(o, wn, &wl);
	return fabtx__ofi_bqueue(o, FABTX__OFI_B_READY, wn, wl);
}

/* ---- server: the clients being set up, oldest first, each holding
 * (FI_EP_MSG) the token of the connection request it waits for */
/* make o's fd readable now (its setup timer fires at once; a running
 * tick keeps its period) */
static void fabtx__ofi_kick(fabtx__ofi_conn *o)
{
	struct itimerspec it;
	if (o->tfd < 0) return;
	if (o->tick_on) {
		fabtx__ofi_tick_set(o, 1);
		return;
	}
	memset(&it, 0, sizeof it);
	it.it_value.tv_nsec = 1;
	timerfd_settime(o->tfd, 0, &it, NULL);
}

/* The listener's EQ fd in (on) or out of a waiting client's epoll set:
 * in while the client waits for its connection request.  Every waiting
 * client of a listener has it (a request wakes them all; the first to
 * look hands each request to its client, fabtx__ofi_lis_poll).  The
 * setup tick stays as the fallback (no wait fd, an fd that does not
 * tell). */
static void fabtx__ofi_peq_watch(fabtx__ofi_conn *o, int on)
{
	fabtx__ofi_listener *s = o->lis;
	if (!on) {
		if (o->peq_in && s && s->peq_fd >= 0 && o->epfd >= 0)
			(void)epoll_ctl(o->epfd, EPOLL_CTL_DEL, s->peq_fd,
			                NULL);
		o->peq_in = 0;
		return;
	}
	if (o->peq_in || !s || s->peq_fd < 0 || o->epfd < 0) return;
	o->peq_in = fabtx__ofi_epoll_add(o->epfd, s->peq_fd, EPOLLIN) == 0;
}

static void fabtx__ofi_lis_poll(fabtx__ofi_listener *s);

/* Reset the listener's EQ fd before its clients sleep on it (it stays
 * readable once an event came; fi_trywait resets it), reading the EQ
 * again if an event came meanwhile. */
static void fabtx__ofi_lis_rearm(fabtx__ofi_listener *s)
{
	int i;
	for (i = 0; s->peq_fd >= 0 && i < 4; i++) {
		struct fid *f = &s->peq->fid;
		if (fi_trywait(s->dom->fabric, &f, 1) != -FI_EAGAIN) return;
		fabtx__ofi_lis_poll(s);
	}
}

static void fabtx__ofi_unwait(fabtx__ofi_conn *o)
{
	fabtx__ofi_listener *s = o->lis;
	fabtx__ofi_conn **pp;
	if (!s) return;
	fabtx__ofi_peq_watch(o, 0);
	for (pp = &s->waiting; *pp; pp = &(*pp)->lnext)
		if (*pp == o) {
			*pp = o->lnext;
			s->nwaiting--;
			break;
		}
	o->lnext = NULL;
	o->lis = NULL;
	if (o->ci) { /* came, never accepted */
		fi_reject(s->pep, o->ci->handle, NULL, 0);
		fi_freeinfo(o->ci);
		o->ci = NULL;
	}
}

static int fabtx__ofi_setup_ms(fabtx_ctx *ctx)
{
	return fabtx_ctx_handshake_ms(ctx);
}

/* Read the listener's EQ (never waiting) and give each connection
 * request to the client whose token it carries; one that carries no
 * token we handed out and that is still waiting (a guess, a replay, a
 * latecomer, garbage) is rejected at once: nothing is kept for later.
 * Clients that waited longer than a handshake may take are dropped. */
static void fabtx__ofi_lis_poll(fabtx__ofi_listener *s)
{
	uint8_t buf[sizeof(struct fi_eq_cm_entry) + 64];
	uint64_t now = fabtx_now_ms();
	fabtx__ofi_conn *o, *nx;
	int i;
	for (o = s->waiting; o; o = nx) {
		nx = o->lnext;
		if (!o->ci && now - o->reg_ms >
		                  (uint64_t)fabtx__ofi_setup_ms(s->l->ctx)) {
			fabtx__ofi_unwait(o);
			if (!o->su_err) o->su_err = -ETIMEDOUT;
		}
	}
	for (i = 0; i < 256; i++) { /* a bounded batch */
		struct fi_eq_cm_entry *cm = (struct fi_eq_cm_entry *)buf;
		uint32_t ev;
		uint64_t tk = 0;
		size_t dl;
		ssize_t n = fi_eq_read(s->peq, &ev, buf, sizeof buf, 0);
		if (n == -FI_EAVAIL) {
			struct fi_eq_err_entry ee;
			memset(&ee, 0, sizeof ee);
			fi_eq_readerr(s->peq, &ee, 0);
			continue;
		}
		if (n < 0) return;
		if (ev != FI_CONNREQ) continue;
		dl = (size_t)n > sizeof *cm ? (size_t)n - sizeof *cm : 0;
		if (dl >= 8) tk = fabtx__ofi_get64(cm->data);
		for (o = s->waiting; dl >= 8 && o; o = o->lnext)
			if (o->token && o->token == tk && !o->ci) break;
		if (dl < 8 || !o) {
			fabtx_log(
			    s->l->ctx, FABTX_LOG_INFO,
			    "ofi: %s:%s: connection request with no valid "
			    "token: rejected",
			    s->url.host, s->url.port);
			fi_reject(s->pep, cm->info->handle, NULL, 0);
			fi_freeinfo(cm->info);
			continue;
		}
		o->ci = cm->info;
		o->token = 0; /* used: a second request with it is refused */
		fabtx__ofi_kick(o);
	}
}

/* ---- server steps */
/* the listener takes in a client being set up; the oldest makes room */
static void fabtx__ofi_enwait(fabtx__ofi_listener *s, fabtx__ofi_conn *o)
{
	fabtx__ofi_conn **pp = &s->waiting;
	if (s->nwaiting >= FABTX__OFI_MAX_CONNREQ) {
		fabtx__ofi_conn *old = s->waiting;
		fabtx_log(
		    s->l->ctx, FABTX_LOG_WARN,
		    "ofi: %s:%s: %d clients in setup: dropping the oldest",
		    s->url.host, s->url.port, s->nwaiting);
		fabtx__ofi_unwait(old);
		if (!old->su_err) old->su_err = -ETIMEDOUT;
	}
	while (*pp)
		pp = &(*pp)->lnext;
	*pp = o;
	o->lnext = NULL;
	o->lis = s;
	o->reg_ms = fabtx_now_ms();
	s->nwaiting++;
}

/* a peer's endpoint name: as long as its format says (av_insert reads
 * that much), and no longer than any name */
static int fabtx__ofi_name_ok(const struct fi_info *fi, size_t len)
{
	size_t want = 1;
	switch (fi->addr_format) {
	case FI_SOCKADDR_IN:
		want = sizeof(struct sockaddr_in);
		break;
	case FI_SOCKADDR_IN6:
		want = sizeof(struct sockaddr_in6);
		break;
	case FI_SOCKADDR:
		want = sizeof(struct sockaddr_in);
		break;
	default:
		break;
	}
	return len >= want && len <= FABTX__OFI_NAME_MAX;
}

static int fabtx__ofi_srv_hello(fabtx__ofi_conn *o)
{
	fabtx__ofi_listener *s = o->lis;
	uint8_t name[FABTX__OFI_NAME_MAX], off[1100];
	uint32_t blen;
	size_t nlen = 0;
	int rc = fabtx__ofi_bframe(o, FABTX__OFI_B_HELLO, &blen);
	if (rc <= 0) return rc ? rc : -EAGAIN;
	/* our OFFER lets the client send the core's request early */
	o->early_req = fabtx__ofi_env_on("FABTX_OFI_EARLY_REQ");
	/* what HELLO carries: the client's wake socket name, or nothing */
	if (blen >= 2 && blen <= sizeof o->wname && o->bin[12] == 0) {
		memcpy(o->wname, o->bin + 12, blen);
		o->wname_len = (uint8_t)blen;
	}
	o->bin_have = 0;
	if (!s) return o->su_err ? o->su_err : -ECONNABORTED;
	if (s->info->ep_attr->type == FI_EP_RDM) {
		o->info = fabtx__ofi_ep_info(s->info);
		if (!o->info) return -ENOMEM;
		rc = fabtx__ofi_ep_open(o, o->info);
		if (rc == 0) rc = fabtx__ofi_getname(&o->ep->fid, name, &nlen);
		if (rc == 0)
			rc = fabtx__ofi_pack_offer(s, 0, name, nlen,
			                           o->early_req, off, &blen);
		if (rc == 0)
			rc =
			    fabtx__ofi_bqueue(o, FABTX__OFI_B_OFFER, off, blen);
		if (rc < 0) return rc;
		o->su = FABTX__OFI_SU_S_ADDR;
		fabtx__ofi_unwait(o); /* nothing to match */
		return -EAGAIN;
	}
	rc = fabtx__ofi_random64(&o->token);
	if (rc == 0 && !o->token) o->token = 1; /* 0 means "used" */
	if (rc == 0)
		rc = fabtx__ofi_pack_offer(s, o->token, s->pep_name,
		                           s->pep_name_len, o->early_req, off,
		                           &blen);
	if (rc < 0) return rc;
	rc = fabtx__ofi_bqueue(o, FABTX__OFI_B_OFFER, off, blen);
	if (rc < 0) return rc;
	o->su = FABTX__OFI_SU_S_CONNREQ;
	fabtx__ofi_tick(o, 1);
	fabtx__ofi_peq_watch(o, 1);
	return -EAGAIN;
}

static int fabtx__ofi_srv_addr(fabtx__ofi_conn *o)
{
	uint8_t name[FABTX__OFI_NAME_MAX];
	size_t nlen = 0;
	uint32_t blen;
	int rc = fabtx__ofi_bframe(o, FABTX__OFI_B_ADDR, &blen);
	if (rc <= 0) return rc ? rc : -EAGAIN;
	o->bin_have = 0;
	if (!fabtx__ofi_name_ok(o->info, blen)) return -EPROTO;
	memset(o->bin + 12 + blen, 0, FABTX__OFI_NAME_MAX + 1 - blen);
	if (fi_av_insert(o->av, o->bin + 12, 1, &o->peer, 0, NULL) != 1)
		return -EPROTO; /* a name the provider cannot use */
	rc = fabtx__ofi_getname(&o->ep->fid, name, &nlen);
	if (rc == 0) fabtx__ofi_note_local(o, o->bin + 12, blen, name, nlen);
	if (rc == 0) rc = fabtx__ofi_post_recvs(o);
	if (rc == 0) rc = fabtx__ofi_ready_out(o);
	if (rc < 0) return rc;
	o->su = FABTX__OFI_SU_FLUSH;
	return rc ? 0 : -EAGAIN;
}

static int fabtx__ofi_srv_connreq(fabtx__ofi_conn *o)
{
	fabtx__ofi_listener *s = o->lis;
	struct fi_info *ci;
	int rc;
	if (!s) return o->su_err ? o->su_err : -ECONNABORTED;
	if (!o->ci) fabtx__ofi_lis_poll(s);
	if (!o->ci && !o->su_err) fabtx__ofi_lis_rearm(s);
	if (o->su_err) return o->su_err;
	if (!o->ci) {
		rc = fabtx__ofi_quiet(o);
		return rc < 0 ? rc : -EAGAIN;
	}
	ci = o->ci;
	/* sockets leaves prov_name NULL in connreq infos
	 * (sock_set_fabric_attr); it is the listener's provider */
	if (!ci->fabric_attr->prov_name) {
		ci->fabric_attr->prov_name =
		    strdup(s->info->fabric_attr->prov_name);
		if (!ci->fabric_attr->prov_name) return -ENOMEM;
	}
	rc = fabtx__ofi_ep_open(o, ci);
	if (rc == 0) rc = fabtx__ofi_post_recvs(o);
	if (rc == 0) rc = fabtx__ofi_err(fi_accept(o->ep, NULL, 0));
	if (rc < 0) return rc; /* unwait rejects it */
	o->ci = NULL;          /* accepted: it is the endpoint's info now */
	o->info = ci;
	fabtx__ofi_unwait(o);
	o->su = FABTX__OFI_SU_S_CONNECTED;
	return -EAGAIN;
}

/* a CM event on our own EQ: 1 want came, 0 nothing yet, < 0 failed */
static int fabtx__ofi_cm_event(fabtx__ofi_conn *o, uint32_t want)
{
	uint8_t buf[sizeof(struct fi_eq_cm_entry) + 64];
	int i;
	for (i = 0; i < 16; i++) {
		uint32_t ev;
		ssize_t n = fi_eq_read(o->eq, &ev, buf, sizeof buf, 0);
		if (n >= 0) {
			if (ev == want) return 1;
			if (ev == FI_SHUTDOWN) return -ECONNRESET;
			continue;
		}
		if (n == -FI_EAVAIL) {
			struct fi_eq_err_entry ee;
			memset(&ee, 0, sizeof ee);
			fi_eq_readerr(o->eq, &ee, 0);
			return ee.err == FI_ECONNREFUSED ? -ECONNREFUSED
			                                 : -ECONNRESET;
		}
		if (n == -FI_EAGAIN) return 0;
		return fabtx__ofi_err(n);
	}
	return 0;
}

static int fabtx__ofi_srv_connected(fabtx__ofi_conn *o)
{
	int rc = fabtx__ofi_cm_event(o, FI_CONNECTED);
	if (rc == 0) rc = fabtx__ofi_quiet(o);
	if (rc <= 0) return rc ? rc : -EAGAIN;
	fabtx__ofi_tick(o, 0);
	rc = fabtx__ofi_ready_out(o);
	if (rc < 0) return rc;
	o->su = FABTX__OFI_SU_FLUSH;
	return rc ? 0 : -EAGAIN;
}

/* ---- client steps */
static int fabtx__ofi_cli_try(fabtx__ofi_conn *o, int last); /* next */
static void fabtx__ofi_cli_early(fabtx__ofi_conn *o);

static int fabtx__ofi_cli_tcp(fabtx__ofi_conn *o)
{
	struct pollfd p;
	int err = 0, rc;
	socklen_t el = sizeof err;
	p.fd = o->sock;
	p.events = POLLOUT;
	p.revents = 0;
	if (poll(&p, 1, 0) == 0) return -EAGAIN;
	if (getsockopt(o->sock, SOL_SOCKET, SO_ERROR, &err, &el) < 0)
		err = errno;
	if (err) {
		rc = fabtx__ofi_cli_try(o, -err);
		return rc < 0 ? rc : -EAGAIN;
	}
	if (fabtx__ofi_self_connected(o->sock)) {
		/* nobody listens and the kernel gave us the target port as our
		 * own ephemeral one (TCP simultaneous open with ourselves): we
		 * would read our own HELLO back.  Nobody is there: refused.
		 * Reset rather than close, so the port is not held in TIME_WAIT
		 * against the listener that may be about to bind it. */
		struct linger lg;
		lg.l_onoff = 1;
		lg.l_linger = 0;
		(void)setsockopt(o->sock, SOL_SOCKET, SO_LINGER, &lg,
		                 sizeof lg);
		return -ECONNREFUSED;
	}
	freeaddrinfo(o->ai_res);
	o->ai_res = o->ai_cur = NULL;
	{
		/* our wake socket's name rides along (kept if the READY says
		 * the server has one too and the provider is timer-polled) */
		uint8_t wn[108];
		uint32_t wl = 0;
		if (o->wsock < 0 && fabtx__ofi_wsock_wanted())
			(void)fabtx__ofi_wsock_open(o, wn, &wl);
		rc = fabtx__ofi_bqueue(o, FABTX__OFI_B_HELLO, wn, wl);
	}
	if (rc < 0) return rc;
	o->su = FABTX__OFI_SU_C_OFFER;
	fabtx__ofi_cli_early(o); /* while the listener reads the HELLO */
	return -EAGAIN;
}

/* Start the bootstrap connect to the next address: 0 started (or done),
 * < 0 none left (the last error: last, or the one met here). */
static int fabtx__ofi_cli_try(fabtx__ofi_conn *o, int last)
{
	int rc = last;
	if (o->sock >= 0) {
		(void)fabtx__ofi_sock_watch(o, 0);
		close(o->sock);
		o->sock = -1;
	}
	for (; o->ai_cur; o->ai_cur = o->ai_cur->ai_next) {
		struct addrinfo *ai = o->ai_cur;
		int fd =
		    socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, 0);
		if (fd < 0) {
			rc = -errno;
			continue;
		}
		fabtx__ofi_sock_setup(fd);
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0 ||
		    errno == EINPROGRESS) {
			o->ai_cur = ai->ai_next;
			o->sock = fd;
			o->su = FABTX__OFI_SU_C_TCP;
			rc = fabtx__ofi_sock_watch(o, EPOLLOUT | EPOLLRDHUP);
			return rc;
		}
		rc = -errno;
		close(fd);
	}
	return rc;
}

/* client: open the provider and endpoint type the listener offered */
static int fabtx__ofi_cli_open(fabtx__ofi_conn *o, const char *prov,
                               uint32_t ep)
{
	const fabtx__ofi_url *u = &o->url;
	fabtx__ofi_url cu = *u;
	struct fi_info *fi = NULL;
	int rc;
	fabtx__ofi_strlcpy(cu.prov, prov, sizeof cu.prov);
	cu.ep = ep == FI_EP_MSG ? 1 : 2;
	if (!u->fabric[0] && !fabtx__ofi_quirk(prov, FABTX__OFI_Q_LOCAL))
		cu.fabric[0] = 0;
	rc = fabtx__ofi_resolve(o->c->ctx, &cu, 0, &fi);
	if (rc < 0) return rc;
	rc = fabtx__ofi_dom_get(o->c->ctx, fi, &o->dom);
	if (rc == 0) {
		o->info = fabtx__ofi_ep_info(fi);
		if (!o->info) rc = -ENOMEM;
	}
	fi_freeinfo(fi);
	return rc;
}

/* Undo an early open (fabtx__ofi_cli_early) that the listener's offer
 * did not confirm: back to no endpoint, no domain objects of ours. */
static void fabtx__ofi_ep_discard(fabtx__ofi_conn *o)
{
	if (o->cq_fd >= 0 && o->epfd >= 0)
		(void)epoll_ctl(o->epfd, EPOLL_CTL_DEL, o->cq_fd, NULL);
	if (o->eq_fd >= 0 && o->epfd >= 0)
		(void)epoll_ctl(o->epfd, EPOLL_CTL_DEL, o->eq_fd, NULL);
	o->cq_fd = o->eq_fd = -1;
	if (o->ep) fi_close(&o->ep->fid);
	if (o->av) fi_close(&o->av->fid);
	if (o->cq) fi_close(&o->cq->fid);
	if (o->eq) fi_close(&o->eq->fid);
	o->ep = NULL;
	o->av = NULL;
	o->cq = NULL;
	o->eq = NULL;
	fabtx_ctx_free(o->c->ctx, o->pq);
	o->pq = NULL;
	o->pq_n = o->pq_head = o->pq_cap = 0;
	free(o->ops);
	o->ops = NULL;
	o->nops = 0;
	fi_freeinfo(o->info);
	o->info = NULL;
	o->early_prov[0] = 0;
}

/* Client: open the endpoint while the listener reads our HELLO and opens
 * its own, instead of after its OFFER (the two opens overlap: libfabric's
 * shm provider takes milliseconds per endpoint).  Only when the URL (or
 * FABTX_OFI_PROVIDER) names the provider; the endpoint type is the URL's
 * or the one our own fi_getinfo picks first, as the listener's does.  The
 * offer confirms it or the endpoint is discarded (fabtx__ofi_cli_offer).
 * Failure here is no error: the offer's step opens as before.
 * FABTX_OFI_EARLY_EP=0 turns it off. */
static void fabtx__ofi_cli_early(fabtx__ofi_conn *o)
{
	const char *prov = fabtx__ofi_named_prov(&o->url);
	struct fi_info *fi = NULL;
	uint32_t ep;
	if (!prov || !*prov || !fabtx__ofi_env_on("FABTX_OFI_EARLY_EP") ||
	    o->ep)
		return;
	if (o->url.ep) {
		ep = o->url.ep == 1 ? FI_EP_MSG : FI_EP_RDM;
	} else {
		if (fabtx__ofi_resolve(o->c->ctx, &o->url, 0, &fi) < 0) return;
		ep = fi->ep_attr->type;
		fi_freeinfo(fi);
	}
	if (fabtx__ofi_cli_open(o, prov, ep) < 0 ||
	    fabtx__ofi_ep_open(o, o->info) < 0) {
		fabtx__ofi_ep_discard(o);
		return;
	}
	fabtx__ofi_strlcpy(o->early_prov, prov, sizeof o->early_prov);
	o->early_ep = ep;
}

/* client, msg endpoints: a listener on "*" names 0.0.0.0 in its offer;
 * use the address we reached it at.  -EPROTO: no socket address. */
static int fabtx__ofi_fix_any(fabtx__ofi_conn *o, uint8_t *name, size_t nlen)
{
	struct sockaddr_storage peer;
	socklen_t pl = sizeof peer;
	struct sockaddr *sa = (struct sockaddr *)name;
	if (nlen < sizeof(struct sockaddr_in)) return -EPROTO;
	if (getpeername(o->sock, (struct sockaddr *)&peer, &pl) == 0 &&
	    sa->sa_family == AF_INET &&
	    ((struct sockaddr_in *)sa)->sin_addr.s_addr == 0 &&
	    peer.ss_family == AF_INET)
		((struct sockaddr_in *)sa)->sin_addr =
		    ((struct sockaddr_in *)&peer)->sin_addr;
	return 0;
}

static int fabtx__ofi_cli_offer(fabtx__ofi_conn *o)
{
	fabtx_conn *c = o->c;
	const fabtx__ofi_url *u = &o->url;
	const uint8_t *buf = o->bin + 12;
	uint8_t name[FABTX__OFI_NAME_MAX], me[FABTX__OFI_NAME_MAX];
	uint64_t token;
	uint32_t blen, ep, lp, lf, ld, ln;
	size_t nlen;
	int rc = fabtx__ofi_bframe(o, FABTX__OFI_B_OFFER, &blen);
	char prov[64], fab[128], dom[128];
	if (rc <= 0) return rc ? rc : -EAGAIN;
	o->bin_have = 0;
	memset(name, 0, sizeof name);
	if (blen < 32) return -EPROTO;
	token = fabtx__ofi_get64(buf);
	ep = fabtx__ofi_get32(buf + 8);
	o->early_req =
	    (fabtx__ofi_get32(buf + 12) & FABTX__OFI_OFFER_EARLY_REQ) &&
	    fabtx__ofi_env_on("FABTX_OFI_EARLY_REQ");
	lp = fabtx__ofi_get32(buf + 16);
	lf = fabtx__ofi_get32(buf + 20);
	ld = fabtx__ofi_get32(buf + 24);
	ln = fabtx__ofi_get32(buf + 28);
	if (lp >= sizeof prov || lf >= sizeof fab || ld >= sizeof dom ||
	    ln > FABTX__OFI_NAME_MAX || 32u + lp + lf + ld + ln != blen ||
	    (ep != FI_EP_MSG && ep != FI_EP_RDM))
		return -EPROTO;
	memcpy(prov, buf + 32, lp);
	prov[lp] = 0;
	memcpy(fab, buf + 32 + lp, lf);
	fab[lf] = 0;
	memcpy(dom, buf + 32 + lp + lf, ld);
	dom[ld] = 0;
	memcpy(name, buf + 32 + lp + lf + ld, ln);
	nlen = ln;
	if ((u->prov[0] && strcmp(u->prov, prov) != 0) ||
	    (u->ep == 1 && ep != FI_EP_MSG) ||
	    (u->ep == 2 && ep != FI_EP_RDM)) {
		fabtx_log(c->ctx, FABTX_LOG_ERROR,
		          "ofi: %s: listener uses %s/%s, URL asks %s/%s",
		          c->url, prov, ep == FI_EP_MSG ? "msg" : "rdm",
		          u->prov[0] ? u->prov : "any",
		          u->ep == 1   ? "msg"
		          : u->ep == 2 ? "rdm"
		                       : "any");
		return -EPROTONOSUPPORT;
	}
	if (fabtx__ofi_quirk(prov, FABTX__OFI_Q_TRUSTS_PEER)) {
		/* a server must not talk a client that did not ask for it
		 * into a provider through which the server can crash it */
		const char *want = fabtx__ofi_named_prov(u);
		if (!want || strcmp(want, prov) != 0) {
			fabtx_log(c->ctx, FABTX_LOG_ERROR,
			          "ofi: %s: listener uses %s, which trusts its "
			          "peers (docs/peers.md); name it to use it "
			          "(provider=%s)",
			          c->url, prov, prov);
			return -EPROTONOSUPPORT;
		}
	}
	/* the listener decided: open the same provider / ep type here, if
	 * the early open guessed otherwise */
	if (o->ep && (strcmp(o->early_prov, prov) != 0 || o->early_ep != ep))
		fabtx__ofi_ep_discard(o);
	if (!o->ep) {
		rc = fabtx__ofi_cli_open(o, prov, ep);
		if (rc < 0) return rc;
		/* a listener of another endpoint type than it said */
		if ((o->info->ep_attr->type == FI_EP_RDM) != (ep == FI_EP_RDM))
			return -EPROTO;
		rc = fabtx__ofi_ep_open(o, o->info);
		if (rc < 0) return rc;
	} else {
		o->st.early_ep = 1;
	}
	if (ep == FI_EP_RDM) {
		size_t ml = 0;
		if (!fabtx__ofi_name_ok(o->info, nlen)) return -EPROTO;
		if (fi_av_insert(o->av, name, 1, &o->peer, 0, NULL) != 1)
			return -EPROTO;
		rc = fabtx__ofi_getname(&o->ep->fid, me, &ml);
		if (rc == 0) fabtx__ofi_note_local(o, name, nlen, me, ml);
		if (rc == 0) rc = fabtx__ofi_post_recvs(o);
		if (rc == 0)
			rc = fabtx__ofi_bqueue(o, FABTX__OFI_B_ADDR, me,
			                       (uint32_t)ml);
		if (rc < 0) return rc;
		o->su = FABTX__OFI_SU_C_READY;
		return -EAGAIN;
	} else {
		uint8_t tk[8];
		if (fabtx__ofi_fix_any(o, name, nlen) < 0) return -EPROTO;
		fabtx__ofi_put64(tk, token);
		rc = fabtx__ofi_post_recvs(o);
		if (rc == 0)
			rc = fabtx__ofi_err(
			    fi_connect(o->ep, name, tk, sizeof tk));
		if (rc < 0) return rc;
		o->su = FABTX__OFI_SU_C_CONNECTED;
		fabtx__ofi_tick(o, 1);
		return -EAGAIN;
	}
}

static int fabtx__ofi_cli_connected(fabtx__ofi_conn *o)
{
	uint32_t blen;
	int rc = fabtx__ofi_cm_event(o, FI_CONNECTED);
	if (rc < 0) return rc;
	if (rc == 0) {
		/* the READY may come first: taken now, so the socket does not
		 * stay readable.  What follows it (a server that uses the
		 * backend directly may send at once) waits for the socket's
		 * reader; the CONNECTED is due (the server had its own) */
		if (o->got_ready)
			rc = fabtx__ofi_hung_up(o) ? -ECONNRESET : 0;
		else if ((rc = fabtx__ofi_bframe(o, FABTX__OFI_B_READY,
		                                 &blen)) > 0) {
			fabtx__ofi_wsock_ready(o, o->bin + 12, blen);
			o->bin_have = 0;
			o->got_ready = 1;
			/* until the setup is done the socket is watched for
			 * the hang-up only: bytes behind the READY (a server
			 * that sent more) must not wake us again and again */
			rc = fabtx__ofi_sock_watch(
			    o, EPOLLRDHUP | (o->bout_len ? EPOLLOUT : 0u));
		}
		return rc < 0 ? rc : -EAGAIN;
	}
	fabtx__ofi_tick(o, 0);
	o->su = FABTX__OFI_SU_C_READY;
	return 0;
}

static int fabtx__ofi_cli_ready(fabtx__ofi_conn *o)
{
	uint32_t blen;
	int rc;
	if (!o->got_ready) {
		rc = fabtx__ofi_bframe(o, FABTX__OFI_B_READY, &blen);
		if (rc <= 0) return rc ? rc : -EAGAIN;
		fabtx__ofi_wsock_ready(o, o->bin + 12, blen);
		o->bin_have = 0;
	}
	o->su = FABTX__OFI_SU_FLUSH; /* (our ADDR may still be going out) */
	return 0;
}

/* the setup timer fired: while the wait goes on, back off (up to
 * FABTX__OFI_SETUP_TICK_US) */
static void fabtx__ofi_tick_read(fabtx__ofi_conn *o)
{
	uint64_t x;
	if (!o->tick_on) return;
	if (read(o->tfd, &x, sizeof x) == (ssize_t)sizeof x &&
	    o->tick_us < FABTX__OFI_SETUP_TICK_US) {
		o->tick_us *= 2;
		if (o->tick_us > FABTX__OFI_SETUP_TICK_US)
			o->tick_us = FABTX__OFI_SETUP_TICK_US;
		fabtx__ofi_tick_set(o, o->tick_us * 1000L);
	}
}

/* Reset the EQ's wait fd before waiting on it: it stays readable once an
 * event came (fi_eq_read does not reset it; fi_trywait does, and the data
 * path's arm calls it).  Without this the fd (and a zmq I/O thread polling
 * it) woke again and again from FI_CONNECTED to the end of the setup
 * (strace of a zmq connect over ofi-tcp: an empty pass every 50-100 us);
 * after the setup the core's request/response waits on this fd too.
 * 1: an event came meanwhile (look again), 0: the fd is reset (quiet). */
static int fabtx__ofi_eq_pending(fabtx__ofi_conn *o)
{
	struct fid *f;
	if (!o->eq || o->eq_fd < 0 || !o->dom) return 0;
	f = &o->eq->fid;
	return fi_trywait(o->dom->fabric, &f, 1) == -FI_EAGAIN;
}

/* The setup's steps in order, each as far as it goes now. */
static int fabtx__ofi_setup_steps(fabtx__ofi_conn *o)
{
	int rc = 0;
	while (o->su != FABTX__OFI_SU_DONE) {
		if (o->bout_len && o->su != FABTX__OFI_SU_C_TCP) {
			rc = fabtx__ofi_bflush(o);
			if (rc < 0) break;
			if (rc == 0 && o->su == FABTX__OFI_SU_FLUSH) {
				rc = -EAGAIN;
				break;
			}
		}
		switch (o->su) {
		case FABTX__OFI_SU_S_HELLO:
			rc = fabtx__ofi_srv_hello(o);
			break;
		case FABTX__OFI_SU_S_ADDR:
			rc = fabtx__ofi_srv_addr(o);
			break;
		case FABTX__OFI_SU_S_CONNREQ:
			rc = fabtx__ofi_srv_connreq(o);
			break;
		case FABTX__OFI_SU_S_CONNECTED:
			rc = fabtx__ofi_srv_connected(o);
			break;
		case FABTX__OFI_SU_FLUSH:
			rc = 0;
			if (!o->bout_len) {
				o->su = FABTX__OFI_SU_DONE;
				fabtx__ofi_tick(o, 0);
				fabtx__ofi_unwait(o);
				/* (a request sent early may be waiting) */
				rc = fabtx__ofi_sock_watch(o, EPOLLIN |
				                                  EPOLLRDHUP);
			}
			break;
		case FABTX__OFI_SU_C_TCP:
			rc = fabtx__ofi_cli_tcp(o);
			break;
		case FABTX__OFI_SU_C_OFFER:
			rc = fabtx__ofi_cli_offer(o);
			break;
		case FABTX__OFI_SU_C_CONNECTED:
			rc = fabtx__ofi_cli_connected(o);
			break;
		case FABTX__OFI_SU_C_READY:
			rc = fabtx__ofi_cli_ready(o);
			break;
		default:
			rc = -EINVAL;
			break;
		}
		if (rc < 0) break;
	}
	return rc;
}

/* Take every step that can be taken now: 0 set up, -EAGAIN not yet (the
 * fd will say when), other < 0: failed (sticky; logged once). */
static int fabtx__ofi_setup(fabtx__ofi_conn *o)
{
	int rc, su0 = o->su, eq_looks = 0;
	if (o->su_err) return o->su_err;
	fabtx__ofi_tick_read(o);
	do
		rc = fabtx__ofi_setup_steps(o);
	while (o->su != FABTX__OFI_SU_DONE && rc == -EAGAIN && eq_looks++ < 4 &&
	       fabtx__ofi_eq_pending(o));
	if (o->su == FABTX__OFI_SU_DONE) {
		(void)fabtx__ofi_eq_pending(o);
		return 0;
	}
	if (rc == -EAGAIN) {
		if (o->tick_on && o->su != su0 &&
		    o->tick_us != FABTX__OFI_SETUP_TICK_MIN_US) {
			/* a new wait: fast ticks again */
			o->tick_us = FABTX__OFI_SETUP_TICK_MIN_US;
			fabtx__ofi_tick_set(o, o->tick_us * 1000L);
		}
		return rc;
	}
	o->su_err = rc;
	fabtx__ofi_tick(o, 0);
	fabtx__ofi_unwait(o);
	/* what a peer did (hung up, sent garbage, fell silent) is no
	 * warning: a flood of such peers must not flood the log */
	fabtx_log(o->c->ctx,
	          rc == -ECONNREFUSED || rc == -ECONNRESET || rc == -EPROTO ||
	                  rc == -ETIMEDOUT || rc == -ECONNABORTED
	              ? FABTX_LOG_INFO
	              : FABTX_LOG_WARN,
	          "ofi: %s: connection setup failed: %s", o->c->url,
	          strerror(-rc));
	return rc;
}

/* The steps in a loop, waiting on the connection's fd, until deadline. */
static int fabtx__ofi_setup_wait(fabtx__ofi_conn *o, uint64_t deadline)
{
	for (;;) {
		int rc = fabtx__ofi_setup(o), ms;
		if (rc != -EAGAIN) return rc;
		ms = fabtx_remaining_ms(deadline);
		if (ms == 0) return -ETIMEDOUT;
		rc = fabtx__ofi_wait_fd(o->epfd, POLLIN, deadline);
		if (rc < 0 && rc != -ETIMEDOUT) return rc;
	}
}

static int fabtx__ofi_accept(fabtx_listener *l, fabtx_conn *c, int timeout_ms)
{
	fabtx__ofi_listener *s = (fabtx__ofi_listener *)l->bdata;
	fabtx__ofi_conn *o;
	uint64_t deadline = fabtx_deadline(timeout_ms);
	int fd, rc;
	if (!s) return -EINVAL;
	/* requests nobody waits for are refused here too, not left queued */
	if (s->peq) fabtx__ofi_lis_poll(s);
	for (;;) {
		fd = accept4(s->sock, NULL, NULL, SOCK_CLOEXEC);
		if (fd >= 0) break;
		if (errno == EINTR || errno == ECONNABORTED) continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK) return -errno;
		if (timeout_ms == 0) return -EAGAIN;
		rc = fabtx__ofi_wait_fd(s->sock, POLLIN, deadline);
		if (rc < 0) return rc;
	}
	fabtx__ofi_sock_setup(fd);
	o = fabtx__ofi_conn_new(c);
	if (!o) {
		close(fd);
		return -ENOMEM;
	}
	o->sock = fd;
	o->dom = s->dom;
	c->bdata = o;
	o->su = FABTX__OFI_SU_S_HELLO;
	fabtx__ofi_enwait(s, o);
	rc = fabtx__ofi_fds_open(o);
	if (rc == 0) rc = fabtx__ofi_sock_watch(o, EPOLLIN | EPOLLRDHUP);
	if (rc < 0) goto fail;
	/* timeout 0: the rest comes in ctrl_recv(c, ..., 0) */
	if (timeout_ms != 0) {
		rc = fabtx__ofi_setup_wait(o, deadline);
		if (rc < 0) goto fail;
	}
	return 0;
fail:
	fabtx_log(l->ctx, FABTX_LOG_WARN, "ofi: accept on %s:%s failed: %s",
	          s->url.host, s->url.port, strerror(-rc));
	c->bdata = NULL;
	fabtx__ofi_unwait(o);
	fabtx__ofi_conn_free(c->ctx, o);
	return rc == -EAGAIN ? -ECONNABORTED : rc;
}

/* ----------------------------------------------------------- connect */
/* 1 when fd's two ends are the same address (a self-connect) */
static int fabtx__ofi_self_connected(int fd)
{
	struct sockaddr_storage a, b;
	socklen_t al = sizeof a, bl = sizeof b;
	memset(&a, 0, sizeof a);
	memset(&b, 0, sizeof b);
	if (getsockname(fd, (struct sockaddr *)&a, &al) < 0 ||
	    getpeername(fd, (struct sockaddr *)&b, &bl) < 0)
		return 0;
	return al == bl && memcmp(&a, &b, al) == 0;
}

static int fabtx__ofi_connect(fabtx_conn *c, const char *addr, int timeout_ms)
{
	fabtx__ofi_conn *o;
	struct addrinfo hints;
	uint64_t deadline = fabtx_deadline(timeout_ms);
	int rc;
	o = fabtx__ofi_conn_new(c);
	if (!o) return -ENOMEM;
	c->bdata = o;
	rc = fabtx__ofi_parse_url(addr, &o->url);
	if (rc < 0) {
		fabtx_log(c->ctx, FABTX_LOG_ERROR, "ofi: bad URL ofi://%s",
		          addr ? addr : "(null)");
		goto fail;
	}
	if (!c->url[0]) snprintf(c->url, sizeof c->url, "ofi://%s", addr);
	rc = fabtx__ofi_fds_open(o);
	if (rc < 0) goto fail;
	memset(&hints, 0, sizeof hints);
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV;
	if (strcmp(o->url.host, "*") == 0) {
		rc = -EINVAL;
		goto fail;
	}
	if (getaddrinfo(o->url.host, o->url.port, &hints, &o->ai_res)) {
		o->ai_res = NULL;
		rc = -EHOSTUNREACH;
		goto fail;
	}
	o->ai_cur = o->ai_res;
	rc = fabtx__ofi_cli_try(o, -ECONNREFUSED);
	if (rc < 0) goto fail;
	rc = timeout_ms == 0 ? fabtx__ofi_setup(o)
	                     : fabtx__ofi_setup_wait(o, deadline);
	if (rc == -EAGAIN) return -EINPROGRESS;
	if (rc < 0) goto fail;
	return 0;
fail:
	if (rc == -EAGAIN) rc = -ECONNRESET;
	if (!o->su_err)
		fabtx_log(c->ctx,
		          rc == -ECONNREFUSED ? FABTX_LOG_INFO : FABTX_LOG_WARN,
		          "ofi: connect ofi://%s: %s", addr ? addr : "(null)",
		          strerror(-rc));
	c->bdata = NULL;
	fabtx__ofi_conn_free(c->ctx, o);
	return rc;
}

/* client: the core may send its request now, before the setup is done */
static int fabtx__ofi_req_may_go(const fabtx__ofi_conn *o)
{
	return o->early_req && !o->bout_len &&
	       (o->su == FABTX__OFI_SU_C_CONNECTED ||
	        o->su == FABTX__OFI_SU_C_READY);
}

static int fabtx__ofi_connect_poll(fabtx_conn *c)
{
	fabtx__ofi_conn *o = (fabtx__ofi_conn *)c->bdata;
	int rc;
	if (!o) return -ENOTCONN;
	rc = fabtx__ofi_setup(o);
	if (rc == -EAGAIN && fabtx__ofi_req_may_go(o)) {
		o->st.early_req = 1;
		return 0;
	}
	return rc;
}

static int fabtx__ofi_ctrl_fd(fabtx_conn *c)
{
	fabtx__ofi_conn *o = (fabtx__ofi_conn *)c->bdata;
	return o ? o->epfd : -EINVAL;
}

/* ------------------------------------------------------- ctrl channel */
static int fabtx__ofi_ctrl_send(fabtx_conn *c, const void *msg, size_t len,
                                int timeout_ms)
{
	fabtx__ofi_conn *o = (fabtx__ofi_conn *)c->bdata;
	uint8_t buf[4 + FABTX__OFI_CTRL_MAX];
	int rc;
	if (!o || o->sock < 0 || (o->su && !fabtx__ofi_req_may_go(o)))
		return -ENOTCONN;
	if (len > FABTX__OFI_CTRL_MAX || (!msg && len)) return -EMSGSIZE;
	fabtx__ofi_put32(buf, (uint32_t)len);
	if (len) memcpy(buf + 4, msg, len);
	/* small frames: the socket buffer takes them whole or not at all
	 * in practice; a partial frame is finished within the timeout */
	rc = fabtx__ofi_send_all(
	    o->sock, buf, 4 + len,
	    fabtx_deadline(timeout_ms < 0 ? -1
	                                  : (timeout_ms ? timeout_ms : 1000)));
	return rc < 0 ? rc : 0; /* 0 once sent, as the core expects */
}

/* the control frame (or WAKE) of n bytes at the head of o->crx is taken:
 * what was read past it moves to the front */
static void fabtx__ofi_crx_take(fabtx__ofi_conn *o, uint32_t n)
{
	if (n >= o->crx_have) {
		o->crx_have = 0;
		return;
	}
	memmove(o->crx, o->crx + n, o->crx_have - n);
	o->crx_have -= n;
}

/* a whole frame is in o->crx (read ahead of the one asked for): the
 * socket may be empty, so the fd does not say so; arm() must not sleep
 * and the slow path's look must not be skipped */
static int fabtx__ofi_crx_ready(const fabtx__ofi_conn *o)
{
	uint32_t len;
	if (o->crx_have < 4) return 0;
	len = fabtx__ofi_get32(o->crx);
	if (len == FABTX__OFI_BYE) return o->crx_have >= 12 || o->bye_short;
	if (len == FABTX__OFI_WAKE || len > FABTX__OFI_CTRL_MAX) return 1;
	return o->crx_have >= 4 + len;
}

/* ctrl_recv: the peer's BYE (and, if it said, how far it wrote) is in
 * o->crx: the peer is gone once what is in flight has arrived */
static int fabtx__ofi_bye_in(fabtx__ofi_conn *o, int timeout_ms)
{
	fabtx_conn *c = o->c;
	if (o->crx_have >= 12) {
		uint64_t pos = fabtx__ofi_get64(o->crx + 4);
		uint64_t lim = fabtx_conn_rx_limit(c);
		/* the peer wrote no further than its credits (our released
		 * position plus the ring) and no less than we consumed; a BYE
		 * that says otherwise would keep the drain waiting for data
		 * that never comes */
		if (lim && (pos < fabtx_conn_rx_pos(c) || pos > lim)) {
			o->crx_have = 0;
			return fabtx__ofi_fail(o, -EPROTO,
			                       "BYE names a position the peer "
			                       "cannot have written");
		}
		o->bye_pos = pos;
		o->has_bye_pos = 1;
	}
	o->peer_bye = 1;
	/* (cells past what we consumed: <= the ring) */
	fabtx__ofi_dead(
	    o, "BYE, cells still to come",
	    o->has_bye_pos ? (int)(o->bye_pos - fabtx_conn_rx_pos(c)) : -1);
	/* EOF follows; first what is in flight */
	if (fabtx__ofi_drain(o) > 0 && timeout_ms == 0) return -EAGAIN;
	return -ECONNRESET;
}

static int fabtx__ofi_ctrl_recv(fabtx_conn *c, void *buf, size_t cap,
                                int timeout_ms)
{
	fabtx__ofi_conn *o = (fabtx__ofi_conn *)c->bdata;
	uint64_t deadline = fabtx_deadline(timeout_ms);
	uint32_t wakes = 0;
	int drained = 0; /* a read in this call emptied the socket */
	if (!o || o->sock < 0) return -ENOTCONN;
	if (o->su) { /* an accepted connection still being set up */
		int rc = timeout_ms == 0 ? fabtx__ofi_setup(o)
		                         : fabtx__ofi_setup_wait(o, deadline);
		if (rc < 0) return rc;
	}
	for (;;) {
		uint32_t need = 4, len;
		ssize_t n;
		size_t room;
		if (o->crx_have >= 4) {
			len = fabtx__ofi_get32(o->crx);
			if (len == FABTX__OFI_BYE && o->crx_have < 12 &&
			    !o->bye_short) {
				need = 12; /* BYE + the peer's final position */
			} else if (len == FABTX__OFI_BYE) {
				return fabtx__ofi_bye_in(o, timeout_ms);
			} else if (len == FABTX__OFI_WAKE) {
				fabtx__ofi_crx_take(o, 4); /* its fd woke */
				fabtx__ofi_wake_in(o);
				/* a flood of WAKEs ends by the deadline too */
				if ((++wakes & 255u) == 0 &&
				    fabtx_remaining_ms(deadline) == 0)
					return timeout_ms == 0 ? -EAGAIN
					                       : -ETIMEDOUT;
				continue;
			} else if (len > FABTX__OFI_CTRL_MAX) {
				return -EPROTO;
			} else {
				need = 4 + len;
			}
			if (len != FABTX__OFI_BYE && o->crx_have >= need) {
				if (len > cap) return -EMSGSIZE;
				if (len) memcpy(buf, o->crx + 4, len);
				fabtx__ofi_crx_take(o, need);
				return (int)len;
			}
		}
		if (!drained) {
			/* as much as there is room for: a short read says the
			 * socket is empty, without a recv() that says EAGAIN
			 * (one system call per WAKE frame instead of two) */
			room = sizeof o->crx - o->crx_have;
			n = recv(o->sock, o->crx + o->crx_have, room, 0);
			if (n > 0) {
				o->crx_have += (uint32_t)n;
				if ((size_t)n < room) drained = 1;
				continue;
			}
			if (n < 0 && errno == EINTR) continue;
			if (n == 0 ||
			    (errno != EAGAIN && errno != EWOULDBLOCK)) {
				if (o->crx_have >= 4 &&
				    fabtx__ofi_get32(o->crx) ==
				        FABTX__OFI_BYE &&
				    !o->bye_short) {
					o->bye_short = 1; /* without position */
					continue;
				}
				o->sock_eof = 1;
				fabtx__ofi_dead(o,
				                "bootstrap socket EOF or error",
				                n == 0 ? 0 : errno);
				if (fabtx__ofi_drain(o) > 0 && timeout_ms == 0)
					return -EAGAIN; /* first what is in
					                   flight */
				return -ECONNRESET;
			}
		}
		if (timeout_ms == 0) return -EAGAIN;
		drained = 0;
		{
			int rc = fabtx__ofi_wait_fd(o->sock, POLLIN, deadline);
			if (rc < 0) return rc;
		}
	}
}

/* ctrl_recv as the core calls it from its slow path (timeout 0, after
 * every progress): a recv() there was a system call per pass, two per
 * message in an event loop, nearly always -EAGAIN.  Once the connection
 * has been armed, the socket is read only when it may hold something:
 * after an arm that said 0 (whoever armed sleeps next; the socket is in
 * the fd's epoll set, so its bytes or hang-up wake them, and the first
 * look after the wakeup reads them), until it is read empty; and at least
 * once a millisecond, for callers that never sleep (busy-poll) or never
 * stop (a stream with work all the time).  Bytes that come while the
 * connection is busy are read at its next sleep, which they cut short.
 * Our own readers (close, drain) and waits with a timeout read as ever. */
static int fabtx__ofi_ctrl_look(fabtx_conn *c, void *buf, size_t cap,
                                int timeout_ms)
{
	fabtx__ofi_conn *o = (fabtx__ofi_conn *)c->bdata;
	int rc;
	/* after a sleep: what woke it.  A WAKE datagram explains the wakeup
	 * as a completion does where the CQ has a wait fd (progress): the
	 * bootstrap socket is read at the next wakeup that nothing else
	 * explains (its bytes or hang-up keep the fd readable) and at least
	 * once a millisecond (ctrl_ms), not now: over ofi-shm a recv() that
	 * said -EAGAIN after nearly every wakeup */
	if (o && fabtx__ofi_wsock_drain(o) > 0 && !o->sock_dead)
		o->ctrl_due = 0;
	if (!o || timeout_ms != 0 || !o->ctrl_gate || o->su)
		return fabtx__ofi_ctrl_recv(c, buf, cap, timeout_ms);
	if (!o->ctrl_due && !o->sock_dead && !o->failed &&
	    !fabtx__ofi_crx_ready(o) && fabtx_now_ms() == o->ctrl_ms)
		return -EAGAIN;
	rc = fabtx__ofi_ctrl_recv(c, buf, cap, 0);
	if (rc == -EAGAIN && !o->sock_dead) {
		o->ctrl_due = 0;
		o->ctrl_ms = fabtx_now_ms();
	} else {
		o->ctrl_due = 1; /* a frame (more may follow), or an end */
	}
	return rc;
}

/* ------------------------------------------------------------ windows */
/* Register with a key nobody can guess.  Where the application picks the
 * keys (no FI_MR_PROV_KEY) a registration is domain-wide unless the
 * provider scopes it to an endpoint (FI_MR_ENDPOINT), and every
 * connection of a context shares the domain: over tcp a write names a key
 * and an offset, nothing else.  Keys counted up from one number let a
 * client that knows its own window's key write into the next client's
 * window (seen).  So each key is random, as wide as the provider takes
 * (a collision, -FI_ENOKEY, draws again). */
static int fabtx__ofi_reg_keyed(fabtx__ofi_dom *d, void *buf, size_t len,
                                uint64_t access, struct fid_mr **mr)
{
	size_t ks = d->info->domain_attr->mr_key_size;
	uint64_t key = 0;
	int rc = -FI_ENOKEY, i;
	for (i = 0; i < 8 && rc == -FI_ENOKEY; i++) {
		if (!(d->info->domain_attr->mr_mode & FI_MR_PROV_KEY)) {
			if (fabtx__ofi_random64(&key) < 0) return -EIO;
			if (ks && ks < 8) key &= ((uint64_t)1 << (ks * 8)) - 1;
		}
		rc =
		    fi_mr_reg(d->domain, buf, len, access, 0, key, 0, mr, NULL);
	}
	return rc ? fabtx__ofi_err(rc) : 0;
}

static int fabtx__ofi_mr_reg(fabtx__ofi_conn *o, void *buf, size_t len,
                             uint64_t access, struct fid_mr **mr)
{
	fabtx__ofi_dom *d = o->dom;
	int rc = fabtx__ofi_reg_keyed(d, buf, len, access, mr);
	if (rc) return rc;
	if (d->info->domain_attr->mr_mode & FI_MR_ENDPOINT) {
		rc = fi_mr_bind(*mr, &o->ep->fid, 0);
		if (rc == 0) rc = fi_mr_enable(*mr);
		if (rc) {
			fi_close(&(*mr)->fid);
			*mr = NULL;
			return fabtx__ofi_err(rc);
		}
	}
	return 0;
}

/* Zeroed, page-aligned memory for a window of len bytes; *alloc gets the
 * length allocated.  A window of a transparent huge page or more starts on
 * a huge-page boundary and asks for huge pages (madvise: THP is "madvise"
 * on Debian): a ring is walked cell by cell, 4 MiB of 4 KiB pages cost a
 * TLB miss every other 8 KiB cell, and under virtualisation a miss walks
 * two page tables (a 4 KiB ping-pong over tcp: 3-4 % of its latency).
 * The length is rounded up to whole huge pages only when that adds at most
 * an eighth; the tail past the last whole one keeps small pages.
 * FABTX_OFI_NO_HUGEPAGE=1 turns it off.
 * Fresh anonymous memory (mmap) is zero already and is not written here:
 * a memset of the two windows faulted in and cleared 4-8 MiB per
 * connection on the setup path (about a fifth of a connection's setup
 * CPU, zmq over ofi-tcp); their pages now fault in on first use.  The
 * mapping is over-allocated by one huge page for the alignment and the
 * slack is unmapped; fabtx__ofi_win_free unmaps the rest. */
static size_t fabtx__ofi_thp_size; /* 0: none; read once */
static void fabtx__ofi_thp_read(void)
{
	FILE *f =
	    fopen("/sys/kernel/mm/transparent_hugepage/hpage_pmd_size", "r");
	unsigned long long v = 0;
	if (!f) return;
	if (fscanf(f, "%llu", &v) == 1 && v > 4096 && !(v & (v - 1)) &&
	    v <= ((size_t)1 << 30))
		fabtx__ofi_thp_size = (size_t)v;
	fclose(f);
}

static void *fabtx__ofi_win_alloc(size_t len, size_t ps, size_t *alloc)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	size_t hp = 0, al = ps, a = (len + ps - 1) & ~(ps - 1), map, head;
	uint8_t *p;
	if (!getenv("FABTX_OFI_NO_HUGEPAGE")) {
		/* read once: 8-9 us per window here (fopen of sysfs) */
		pthread_once(&once, fabtx__ofi_thp_read);
		if (fabtx__ofi_thp_size > ps) hp = fabtx__ofi_thp_size;
	}
	if (hp && a >= hp) {
		size_t up = (a + hp - 1) & ~(hp - 1);
		al = hp;
		if (up - a <= a / 8) a = up;
	}
	map = a + (al > ps ? al : 0);
	p = (uint8_t *)mmap(NULL, map, PROT_READ | PROT_WRITE,
	                    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == (uint8_t *)MAP_FAILED) return NULL;
	head = (al - ((uintptr_t)p & (al - 1))) & (al - 1);
	if (head) munmap(p, head);
	if (map - head > a) munmap(p + head + a, map - head - a);
	p += head;
	if (al > ps) (void)madvise(p, a, MADV_HUGEPAGE); /* a hint */
	*alloc = a;
	return p;
}

static void fabtx__ofi_win_free(void *p, size_t alloc)
{
	if (p && alloc) munmap(p, alloc);
}

static int fabtx__ofi_win_open(fabtx_conn *c, uint64_t rx_len, uint64_t tx_len,
                               fabtx_win *rx, fabtx_win *tx)
{
	fabtx__ofi_conn *o = (fabtx__ofi_conn *)c->bdata;
	long pg = sysconf(_SC_PAGESIZE);
	size_t ps = pg > 0 ? (size_t)pg : 4096, ra, ta;
	int rc;
	if (!o || !o->ep || !rx || !tx) return -EINVAL;
	if (o->rx_buf) return -EALREADY;
	if (rx_len < FABTX_WIN_HDR_SIZE || rx_len > ((uint64_t)1 << 40) ||
	    tx_len > ((uint64_t)1 << 40))
		return -EINVAL;
	o->rx_buf = (uint8_t *)fabtx__ofi_win_alloc((size_t)rx_len, ps, &ra);
	if (!o->rx_buf) return -ENOMEM;
	o->rx_alloc = ra;
	o->tx_buf =
	    (uint8_t *)fabtx__ofi_win_alloc((size_t)tx_len + 64, ps, &ta);
	if (!o->tx_buf) return -ENOMEM;
	o->tx_alloc = ta;
	/* past the staging: 8 bytes of 1 (the sleep word, see arm), then 8
	 * of 0 (the flush marker) */
	o->tx_buf[ta - 16] = 1;
	o->rx_len = (size_t)rx_len;
	o->tx_len = (size_t)tx_len;
	o->rx_alloc = ra;
	o->tx_alloc = ta;
	rc = fabtx__ofi_mr_reg(o, o->rx_buf, ra, FI_REMOTE_WRITE, &o->rx_mr);
	if (rc == 0)
		rc = fabtx__ofi_mr_reg(o, o->tx_buf, ta, FI_WRITE | FI_SEND,
		                       &o->tx_mr);
	if (rc < 0) {
		fabtx_log(c->ctx, FABTX_LOG_ERROR,
		          "ofi: registering windows (%llu+%llu B): %s",
		          (unsigned long long)rx_len,
		          (unsigned long long)tx_len, strerror(-rc));
		return rc;
	}
	o->rx_desc = fi_mr_desc(o->rx_mr);
	o->tx_desc = fi_mr_desc(o->tx_mr);
	memset(rx, 0, sizeof *rx);
	memset(tx, 0, sizeof *tx);
	rx->base = o->rx_buf;
	rx->len = rx_len;
	rx->addr = (o->dom->info->domain_attr->mr_mode & FI_MR_VIRT_ADDR)
	               ? (uint64_t)(uintptr_t)o->rx_buf
	               : 0;
	rx->key = fi_mr_key(o->rx_mr);
	rx->desc = o->rx_desc;
	tx->base = o->tx_buf;
	tx->len = tx_len;
	tx->addr = (uint64_t)(uintptr_t)o->tx_buf;
	tx->key = fi_mr_key(o->tx_mr);
	tx->desc = o->tx_desc;
	return 0;
}

static int fabtx__ofi_win_import(fabtx_conn *c, const fabtx_win *peer,
                                 fabtx_win_limits *lim)
{
	fabtx__ofi_conn *o = (fabtx__ofi_conn *)c->bdata;
	if (!o || !peer) return -EINVAL;
	if (peer->len < FABTX_WIN_HDR_SIZE ||
	    peer->addr + peer->len < peer->addr)
		return -EINVAL;
	o->peer_addr = peer->addr;
	o->peer_key = peer->key;
	o->peer_len = peer->len;
	o->have_peer = 1;
	/* sockets under manual progress (busy-polling contexts) let a 1 MiB
	 * ping-pong read a run whose bytes had not all landed (stale data
	 * after ~200 round trips; automatic progress and every other
	 * provider are fine).  Per-cell chunks carry a lap-checked footer in
	 * every cell and wait for late bytes, so sockets gets no runs. */
	if (o->dom && fabtx__ofi_quirk(o->dom->info->fabric_attr->prov_name,
	                               FABTX__OFI_Q_NO_SPAN))
		lim->no_span = 1;
	lim->imm_max = o->imm_max;
	return 0;
}

/* ---------------------------------------------------------- data path */
static int fabtx__ofi_progress(fabtx_conn *c);

static void *fabtx__ofi_seg_desc(fabtx__ofi_conn *o, const fabtx_seg *s)
{
	const uint8_t *a = (const uint8_t *)s->addr;
	if (s->desc) return s->desc;
	if (a >= o->tx_buf && a + s->len <= o->tx_buf + o->tx_alloc)
		return o->tx_desc;
	if (a >= o->rx_buf && a + s->len <= o->rx_buf + o->rx_alloc)
		return o->rx_desc;
	return NULL;
}

static int fabtx__ofi_check_sock(fabtx__ofi_conn *o, int force, int in);

/* A write the provider refused.  A peer that went away may make it refuse
 * before we have noticed (sockets: -FI_ENOENT, it tries to reconnect the
 * FI_EP_MSG endpoint, sock_ep_get_conn): with the bootstrap socket hung up
 * too, that is the peer's departure, which progress reports after the
 * drain, so the write is dropped like any write after it (0). */
static int fabtx__ofi_tx_err(fabtx__ofi_conn *o, ssize_t rc)
{
	int e = fabtx__ofi_err(rc);
	if (e == -EAGAIN || fabtx__ofi_check_sock(o, 1, 0) == 0) return e;
	fabtx_conn_write_dropped(o->c); /* the close says so, unless it FIN'd */
	return 0;
}

/* Issue one fi_writemsg now.  -EAGAIN: the provider (or our op table)
 * is full. */
static int fabtx__ofi_issue(fabtx__ofi_conn *o, const fabtx__ofi_pend *p)
{
	struct iovec cp;
	void *cdesc = NULL;
	struct fi_rma_iov rma;
	struct fi_msg_rma m;
	uint32_t opi = UINT32_MAX;
	uint64_t flags = p->flags;
	ssize_t rc;
	rma.addr = o->peer_addr + p->off;
	rma.len = (size_t)p->total;
	rma.key = o->peer_key;
	/* every field of m (no memset: this is the per-message path) */
	m.msg_iov = p->iov;
	m.desc = (void **)(uintptr_t)p->desc; /* the provider reads them */
	m.iov_count = (size_t)p->nseg;
	if (p->copy) { /* queued small write: its own copy of the bytes */
		cp.iov_base = p->copy;
		cp.iov_len = (size_t)p->total;
		m.msg_iov = &cp;
		m.desc = &cdesc;
		m.iov_count = 1;
	}
	m.addr = o->rdm ? o->peer : 0;
	m.rma_iov = &rma;
	m.rma_iov_count = 1;
	m.context = NULL;
	m.data = p->data;
	if (o->inject_size && p->total <= o->inject_size && !p->complete) {
		/* one contiguous piece: the providers' inject fast path */
		if (m.iov_count == 1 &&
		    !(flags & ~(uint64_t)FI_REMOTE_CQ_DATA)) {
			rc = (flags & FI_REMOTE_CQ_DATA)
			         ? fi_inject_writedata(
			               o->ep, m.msg_iov[0].iov_base,
			               m.msg_iov[0].iov_len, p->data, m.addr,
			               rma.addr, rma.key)
			         : fi_inject_write(o->ep, m.msg_iov[0].iov_base,
			                           m.msg_iov[0].iov_len, m.addr,
			                           rma.addr, rma.key);
			if (rc) return fabtx__ofi_tx_err(o, rc);
			o->st.injects++;
			o->injected++;
			return 0;
		}
		flags |= FI_INJECT;
	} else {
		if (o->tx_out >= o->tx_max) return -EAGAIN;
		opi = fabtx__ofi_op_get(o);
		if (opi == UINT32_MAX) return -EAGAIN;
		o->ops[opi].kind = 1;
		o->ops[opi].wseq = p->wseq;
		m.context = &o->ops[opi].fctx;
		flags |= FI_COMPLETION;
	}
	rc = fi_writemsg(o->ep, &m, flags);
	if (rc && rc != -FI_EAGAIN && (flags & FI_DELIVERY_COMPLETE) &&
	    fabtx__ofi_check_sock(o, 1, 0) == 0) {
		/* the FIN (fabtx__ofi_write): refused, plain then */
		fabtx_log(o->c->ctx, FABTX_LOG_INFO,
		          "ofi: %s: FI_DELIVERY_COMPLETE refused (%s); a close "
		          "waits for local completion only",
		          o->st.provider, fi_strerror((int)-rc));
		o->no_dc = 1;
		flags &= ~(uint64_t)FI_DELIVERY_COMPLETE;
		rc = fi_writemsg(o->ep, &m, flags);
	}
	if (rc) {
		if (opi != UINT32_MAX) fabtx__ofi_op_put(o, opi);
		return fabtx__ofi_tx_err(o, rc);
	}
	if (opi != UINT32_MAX) {
		o->tx_out++;
		o->st.writes++;
		o->injected = 0; /* its completion covers earlier injects */
	} else {
		o->st.injects++;
		o->injected++;
	}
	return 0;
}

/* Issue queued writes in order until the provider pushes back. */
static int fabtx__ofi_pq_run(fabtx__ofi_conn *o)
{
	while (o->pq_n) {
		fabtx__ofi_pend *p = &o->pq[o->pq_head];
		int rc = fabtx__ofi_issue(o, p);
		if (rc == -EAGAIN) return 0;
		free(p->copy);
		p->copy = NULL;
		o->pq_head = (o->pq_head + 1) % o->pq_cap;
		o->pq_n--;
		if (rc < 0) return rc;
	}
	return 0;
}

#define FABTX__OFI_POS_BIT 0x80000000u /* see fabtx__ofi_dbval */
static int fabtx__ofi_post(fabtx__ofi_conn *o, const fabtx_seg *segs, int nseg,
                           uint64_t off, uint64_t total, uint64_t data,
                           uint64_t flags, int complete);

/* Just over the inject size (a 4 KiB message plus its footer): two
 * injects, the tail with the CQ data, instead of one large write (shm: a
 * CMA round trip through the target).  Only where commands are applied in
 * order (split_inject; see docs/ofi.md).  Returns 1 when this write is
 * not split (scattered and too big to gather here), else how posting the
 * two halves went. */
static int fabtx__ofi_post_split(fabtx__ofi_conn *o, const fabtx_seg *segs,
                                 int nseg, uint64_t off, uint64_t total,
                                 uint64_t data, uint64_t flags)
{
	uint8_t tmp[8192];
	fabtx_seg a[2];
	size_t k = 0;
	const uint8_t *src = tmp;
	int i, rc;
	if (nseg > 1 && total > sizeof tmp) return 1;
	if (nseg == 1) /* the usual case: contiguous staging */
		src = (const uint8_t *)segs[0].addr;
	for (i = 0; nseg > 1 && i < nseg; i++) {
		if (segs[i].len) memcpy(tmp + k, segs[i].addr, segs[i].len);
		k += segs[i].len;
	}
	a[0].addr = src;
	a[0].len = (size_t)total - 64;
	a[0].desc = nseg == 1 ? segs[0].desc : NULL;
	a[1].addr = src + total - 64;
	a[1].len = 64;
	a[1].desc = a[0].desc;
	/* Where writes are not ordered by request (see
	 * fabtx__ofi_want_order), shm sends a write without CQ data as a
	 * process_vm_writev system call by the writer (~2 us here): the head
	 * then carries CQ data too, a position 2^29 behind, which the reader
	 * ignores as old. */
	rc = o->write_fence
	         ? fabtx__ofi_post(o, &a[0], 1, off, total - 64,
	                           FABTX__OFI_POS_BIT |
	                               ((data - 0x20000000u) & 0x7fffffffu),
	                           FI_REMOTE_CQ_DATA, 0)
	         : fabtx__ofi_post(o, &a[0], 1, off, total - 64, 0, 0, 0);
	if (rc < 0) return rc;
	o->st.split++;
	return fabtx__ofi_post(o, &a[1], 1, off + total - 64, 64, data, flags,
	                       0);
}

/* Room for need more queued writes: the queue doubles, up to
 * FABTX__OFI_PQ_MAX entries.  0, -EAGAIN (full at its largest) or
 * -ENOMEM. */
static int fabtx__ofi_pq_room(fabtx__ofi_conn *o, uint64_t need)
{
	fabtx__ofi_pend *q;
	uint32_t cap = o->pq_cap, i;
	if (o->pq_cap - o->pq_n >= need) return 0;
	while (cap - o->pq_n < need && cap < FABTX__OFI_PQ_MAX)
		cap *= 2;
	if (cap - o->pq_n < need) return -EAGAIN;
	q = (fabtx__ofi_pend *)fabtx_ctx_zalloc(o->c->ctx,
	                                        sizeof(fabtx__ofi_pend) * cap);
	if (!q) return -ENOMEM;
	for (i = 0; i < o->pq_n; i++)
		q[i] = o->pq[(o->pq_head + i) % o->pq_cap];
	fabtx_ctx_free(o->c->ctx, o->pq);
	o->pq = q;
	o->pq_cap = cap;
	o->pq_head = 0;
	return 0;
}

/* Queue p behind the writes queued before it; an inject-sized write with
 * its own copy of the bytes (inject semantics: the caller may reuse them
 * at once).  -EAGAIN: the queue is full. */
static int fabtx__ofi_enqueue(fabtx__ofi_conn *o, fabtx__ofi_pend *p,
                              const fabtx_seg *segs, int nseg)
{
	int i, rc = fabtx__ofi_pq_room(o, 1);
	if (rc < 0) return rc;
	if (p->total <= o->inject_size && !p->complete) {
		size_t k = 0;
		p->copy = (uint8_t *)malloc(p->total ? (size_t)p->total : 1);
		if (!p->copy) return -ENOMEM;
		for (i = 0; i < nseg; i++) {
			if (segs[i].len)
				memcpy(p->copy + k, segs[i].addr, segs[i].len);
			k += segs[i].len;
		}
	}
	o->pq[(o->pq_head + o->pq_n) % o->pq_cap] = *p;
	o->pq_n++;
	o->st.queued++;
	if (p->flags & FI_REMOTE_CQ_DATA) fabtx__ofi_doorbell_out(o);
	return 0;
}

/* Issue one write now, or queue it behind earlier ones when the provider
 * is busy (an RDM provider may refuse writes until the peer has
 * progressed its side of the connection setup; the core would give up).
 * Queued writes go out from progress() and flush(), in order. */
static int fabtx__ofi_post(fabtx__ofi_conn *o, const fabtx_seg *segs, int nseg,
                           uint64_t off, uint64_t total, uint64_t data,
                           uint64_t flags, int complete)
{
	fabtx__ofi_pend p;
	int i, rc,
	    need_local =
	        (o->dom->info->domain_attr->mr_mode & FI_MR_LOCAL) != 0;
	/* the fields in use (no memset of the 200-byte record: this is the
	 * per-message path; a queued copy carries the unused slots along) */
	p.copy = NULL;
	p.nseg = nseg;
	for (i = 0; i < nseg; i++) {
		p.iov[i].iov_base = (void *)(uintptr_t)segs[i].addr;
		p.iov[i].iov_len = segs[i].len;
		p.desc[i] = fabtx__ofi_seg_desc(o, &segs[i]);
		if (!p.desc[i] && need_local && total > o->inject_size)
			return -EFAULT; /* unregistered memory, FI_MR_LOCAL */
	}
	p.off = off;
	p.total = total;
	p.data = data;
	p.flags = flags;
	p.complete = complete;
	if (o->split_inject && !complete && o->inject_size >= 64 &&
	    total > o->inject_size && total - 64 <= o->inject_size &&
	    !(flags & FI_FENCE) && (flags & FI_REMOTE_CQ_DATA) &&
	    (data & FABTX__OFI_POS_BIT)) {
		rc = fabtx__ofi_post_split(o, segs, nseg, off, total, data,
		                           flags);
		if (rc <= 0) return rc;
	}
	p.wseq = ++o->wseq;
	if (o->pq_n == 0) {
		rc = fabtx__ofi_issue(o, &p);
		if (rc == 0 && (flags & FI_REMOTE_CQ_DATA))
			fabtx__ofi_doorbell_out(o);
		if (rc != -EAGAIN) return rc;
	}
	return fabtx__ofi_enqueue(o, &p, segs, nseg);
}

/* Issue the held run of chunks (if any) as one write. */
static int fabtx__ofi_batch_out(fabtx__ofi_conn *o)
{
	fabtx_seg s;
	if (!o->b_on) return 0;
	o->b_on = 0;
	s.addr = o->b_addr;
	s.len = (size_t)o->b_len;
	s.desc = o->b_desc;
	o->st.coalesced_out++;
	return fabtx__ofi_post(o, &s, 1, o->b_off, o->b_len, o->b_data,
	                       o->b_flags, 0);
}

/* Data doorbells travel as absolute positions.  A 16-bit data hint is
 * decoded modulo N by the core, and a completion that arrives after a
 * later one (providers may complete a large write after a small one that
 * followed it) would alias up to N-1 cells ahead, into cells still being
 * written.  CQ data is at least 32 bits here: bit 31 set means "every
 * chunk before position (low 31 bits) is visible"; credit doorbells keep
 * their 16-bit value. */
static uint32_t fabtx__ofi_dbval(fabtx_conn *c, fabtx_db_kind kind,
                                 uint64_t pos)
{
	if (kind == FABTX_DB_KIND_DATA)
		return FABTX__OFI_POS_BIT | (uint32_t)(pos & 0x7fffffffu);
	return fabtx_conn_db_value(c, kind, pos);
}
/* A position doorbell's 31 bits extended around rx.seq; 0 if it is older
 * than what we consumed (harmless). */
static uint64_t fabtx__ofi_pos_in(fabtx_conn *c, uint32_t v)
{
	uint64_t rx = fabtx_conn_rx_pos(c);
	uint32_t cur = (uint32_t)(rx & 0x7fffffffu);
	uint32_t d = ((v & 0x7fffffffu) - cur) & 0x7fffffffu;
	return d < 0x40000000u ? rx + d : 0;
}
static void fabtx__ofi_db_in(fabtx_conn *c, uint32_t v)
{
	if (v & FABTX__OFI_POS_BIT) {
		uint64_t pos = fabtx__ofi_pos_in(c, v);
		if (pos) fabtx_conn_data_in(c, pos);
		return;
	}
	fabtx_conn_doorbell_in(c, v);
}

/* A peer without a CQ wait fd (shm) polls on a timer when it sleeps; it
 * says so first by writing 1 into our window (FABTX__OFI_HDR_PEER_SLEEPS,
 * see arm).  Once we have written to it since (o->wrote), we clear the
 * word and send a WAKE frame on the bootstrap socket, which is in its fd's
 * epoll set.  Looked at after each write with CQ data (fabtx__ofi_post,
 * write_imm: fabtx__ofi_doorbell_out) and, for good, after
 * the next progress, which applies what the peer wrote (shm places small
 * writes at the target's progress).  No wake is lost: the sleeper writes
 * the word, then polls its CQ once more; we write the doorbell, then
 * progress, then look.  Either it finds our write or we find its word.
 * (Its timer still runs, as before, should a frame be lost.)  A peer that
 * never writes the word (a provider with a wait fd, an older fabtx) gets
 * no frames. */
static void fabtx__ofi_wake_peer(fabtx__ofi_conn *o)
{
	volatile uint64_t *w;
	uint8_t b[4];
	if (!o->rx_buf || o->sock < 0 || o->sock_dead) return;
	w = (volatile uint64_t *)(void *)(o->rx_buf +
	                                  FABTX__OFI_HDR_PEER_SLEEPS);
	if (!*w) return;
	*w = 0;
	o->wrote = 0;
	if (o->wpeer) {
		/* a full queue: the peer has wakes it has not read, so its
		 * fd is readable already; a socket gone: the TCP frame */
		if (send(o->wsock, "W", 1, MSG_NOSIGNAL | MSG_DONTWAIT) == 1 ||
		    errno == EAGAIN || errno == EWOULDBLOCK) {
			o->st.wakes_sent++;
			o->st.wakes_dgram++;
			return;
		}
		o->wpeer = 0;
	}
	fabtx__ofi_put32(b, FABTX__OFI_WAKE);
	if (send(o->sock, b, sizeof b, MSG_NOSIGNAL | MSG_DONTWAIT) ==
	    (ssize_t)sizeof b)
		o->st.wakes_sent++;
}

/* a doorbell (CQ data) is written or queued: look for a sleeper now, and
 * again after the next progress.  shm applies the peer's writes (its
 * sleep word among them) at our progress, and an event loop that writes
 * from a command of its own (zmq: the application's message) goes back to
 * sleep without one: a word the peer wrote after our last progress was
 * then seen only once our own timer or another event woke us, and the
 * peer slept on (zmq over ofi-shm: ~1 round trip in 1000 stalled until a
 * timer; with the timer at 10 s, until zmq's 500 ms tick).  So there, a
 * look that finds no word runs the provider's progress first: a CQ read
 * of no entries applies what the peer wrote and takes nothing (what it
 * queues is read by the next progress); the sleeper wrote its word before
 * its last look at the CQ, so one of us sees the other. */
static void fabtx__ofi_doorbell_out(fabtx__ofi_conn *o)
{
	struct fi_cq_data_entry e;
	o->wrote = 1;
	fabtx__ofi_wake_peer(o);
	if (o->wrote && o->local_progress && o->cq && o->have_peer &&
	    !o->sock_dead) {
		(void)fi_cq_read(o->cq, &e, 0);
		fabtx__ofi_wake_peer(o);
	}
}

/* a WAKE frame came: the peer has cleared our sleep word */
static void fabtx__ofi_wake_in(fabtx__ofi_conn *o)
{
	o->st.wakes_in++;
	o->asleep_told = 0;
}

/* the wake socket's datagrams, after a sleep (wdue): read, at most 16
 * (one system call; more than one is a peer's flood, which only makes it
 * readable at once again) */
static int fabtx__ofi_wsock_drain(fabtx__ofi_conn *o)
{
	struct mmsghdr mm[16];
	struct iovec iv[16];
	uint8_t b[16];
	int i, n;
	if (o->wsock < 0 || !o->wdue) return 0;
	o->wdue = 0;
	memset(mm, 0, sizeof mm);
	for (i = 0; i < 16; i++) {
		iv[i].iov_base = &b[i];
		iv[i].iov_len = 1;
		mm[i].msg_hdr.msg_iov = &iv[i];
		mm[i].msg_hdr.msg_iovlen = 1;
	}
	n = recvmmsg(o->wsock, mm, 16, MSG_DONTWAIT, NULL);
	for (i = 0; i < n; i++)
		fabtx__ofi_wake_in(o);
	return n;
}

/* WAKE frames at the head of the bootstrap socket: read and dropped (they
 * have woken the fd; they are not control messages for the core) */
static void fabtx__ofi_eat_wakes(fabtx__ofi_conn *o)
{
	uint8_t b[4];
	int n = 0; /* a peer that floods WAKEs gets a bounded look */
	fabtx__ofi_wsock_drain(o);
	while (o->crx_have >= 4 &&
	       fabtx__ofi_get32(o->crx) == FABTX__OFI_WAKE) { /* read ahead */
		fabtx__ofi_crx_take(o, 4);
		fabtx__ofi_wake_in(o);
	}
	while (n++ < 256 && o->crx_have == 0 && o->sock >= 0 && !o->sock_dead) {
		if (recv(o->sock, b, sizeof b, MSG_PEEK | MSG_DONTWAIT) !=
		        (ssize_t)sizeof b ||
		    fabtx__ofi_get32(b) != FABTX__OFI_WAKE ||
		    recv(o->sock, b, sizeof b, MSG_DONTWAIT) !=
		        (ssize_t)sizeof b)
			return;
		fabtx__ofi_wake_in(o);
	}
}

/* the length of a write's segments; *zc: one of them is caller memory.
 * A descriptor from the caller means caller memory (zero-copy from the MR
 * cache): such writes always take a completion of their own, so flush()
 * returns only when the provider is done with that memory.  Injecting
 * them, or trusting a later write's completion to cover them, is not
 * enough: tcp;ofi_rxm completed flush's marker write before an earlier
 * zero-copy write had left the caller's buffer (a refilled buffer
 * arrived). */
static int fabtx__ofi_segs_total(fabtx__ofi_conn *o, const fabtx_seg *segs,
                                 int nseg, uint64_t *total, int *zc)
{
	int i;
	for (i = 0; i < nseg; i++) {
		if (!segs[i].addr && segs[i].len) return -EINVAL;
		*total += segs[i].len;
		/* registered user memory, or unregistered (fabtx_send_zc) */
		if (segs[i].desc ||
		    (segs[i].len && !fabtx__ofi_seg_desc(o, &segs[i])))
			*zc = 1;
	}
	return 0;
}

/* a write larger than the provider's message size or iov limit, in
 * pieces */
static int fabtx__ofi_write_split(fabtx__ofi_conn *o, const fabtx_seg *segs,
                                  int nseg, uint64_t off, uint64_t total,
                                  uint32_t doorbell, unsigned flags, int zc)
{
	uint64_t done = 0;
	int rc;
	/* split: every piece but the last without CQ data; the last is
	 * fenced unless the provider orders writes (WAW).  All pieces are
	 * posted or queued, in order. */
	rc = fabtx__ofi_pq_room(o, (uint64_t)nseg + total / o->max_msg + 2);
	if (rc < 0) return rc;
	{
		int si = 0;
		size_t soff = 0;
		for (;;) {
			fabtx_seg piece[8];
			int np = 0;
			uint64_t plen = 0, fl = 0;
			while (si < nseg && np < (int)o->iov_limit &&
			       plen < o->max_msg) {
				size_t take = segs[si].len - soff;
				if (take > o->max_msg - plen)
					take = (size_t)(o->max_msg - plen);
				piece[np].addr =
				    (const uint8_t *)segs[si].addr + soff;
				piece[np].len = take;
				piece[np].desc =
				    fabtx__ofi_seg_desc(o, &segs[si]);
				np++;
				plen += take;
				soff += take;
				if (soff == segs[si].len) {
					si++;
					soff = 0;
				}
			}
			if (si >= nseg) {
				if (flags &
				    (FABTX_WRITE_DATA | FABTX_WRITE_CREDIT))
					fl |= FI_REMOTE_CQ_DATA;
				if (o->write_fence && done) fl |= FI_FENCE;
			}
			rc = fabtx__ofi_post(o, piece, np, off + done, plen,
			                     doorbell, fl, zc);
			if (rc < 0) return rc;
			done += plen;
			if (si >= nseg) break;
		}
	}
	return 0;
}

static int fabtx__ofi_write(fabtx_conn *c, const fabtx_seg *segs, int nseg,
                            uint64_t off, uint64_t pos, unsigned flags)
{
	fabtx__ofi_conn *o = (fabtx__ofi_conn *)c->bdata;
	uint32_t doorbell;
	uint64_t total = 0;
	int rc, zc = 0;
	if (!o || !o->ep) return -ENOTCONN;
	if (o->failed) return o->failed;
	if (!o->have_peer || nseg < 0 || (nseg > 0 && !segs)) return -EINVAL;
	if (o->sock_dead) { /* the peer is gone (progress reports it): drop */
		if (!(flags & FABTX_WRITE_CREDIT))
			fabtx_conn_write_dropped(c); /* the close says so */
		return 0;
	}
	if (fabtx__ofi_segs_total(o, segs, nseg, &total, &zc) < 0)
		return -EINVAL;
	if (off > o->peer_len || total > o->peer_len - off) return -EINVAL;
	doorbell =
	    fabtx__ofi_dbval(c,
	                     (flags & FABTX_WRITE_CREDIT) ? FABTX_DB_KIND_CREDIT
	                                                  : FABTX_DB_KIND_DATA,
	                     pos);
	/* Chunks of one message land in consecutive cells, and full cells
	 * are contiguous in both the staging area and the peer window: a run
	 * announced with FABTX_WRITE_MORE goes out as one write whose CQ data
	 * is the last chunk's (cumulative) doorbell. */
	if (o->b_on) {
		if (nseg == 1 && !(flags & FABTX_WRITE_LAST) &&
		    (const uint8_t *)segs[0].addr == o->b_addr + o->b_len &&
		    off == o->b_off + o->b_len &&
		    fabtx__ofi_seg_desc(o, &segs[0]) == o->b_desc &&
		    o->b_len + total <= o->max_msg) {
			o->b_len += total;
			o->b_data = doorbell;
			o->b_flags =
			    (flags & (FABTX_WRITE_DATA | FABTX_WRITE_CREDIT))
			        ? FI_REMOTE_CQ_DATA
			        : 0;
			o->st.coalesced++;
			if (flags & FABTX_WRITE_MORE) return 0;
			return fabtx__ofi_batch_out(o);
		}
		rc = fabtx__ofi_batch_out(o);
		if (rc < 0) return rc;
	}
	if (o->pq_n) {
		rc = fabtx__ofi_pq_run(o);
		if (rc < 0) return rc;
	}
	if ((flags & FABTX_WRITE_MORE) && nseg == 1 && total <= o->max_msg &&
	    !o->no_coalesce && !zc) {
		o->b_on = 1;
		o->b_addr = (const uint8_t *)segs[0].addr;
		o->b_desc = fabtx__ofi_seg_desc(o, &segs[0]);
		o->b_off = off;
		o->b_len = total;
		o->b_data = doorbell;
		o->b_flags = (flags & (FABTX_WRITE_DATA | FABTX_WRITE_CREDIT))
		                 ? FI_REMOTE_CQ_DATA
		                 : 0;
		return 0;
	}
	/* common case: one operation.  The connection's last write (the
	 * FIN) must complete only once the peer has it: without
	 * FI_DELIVERY_COMPLETE a completion can mean "in this host's socket
	 * buffer" (tcp), and the endpoint's close after it resets the
	 * connection when bytes from the peer sit unread in ours, which throws
	 * away what the peer's kernel has not taken yet (a peer that reads
	 * nothing for a while).  Delivery complete: the peer's provider has
	 * processed this write, and so every write before it (an endpoint's
	 * writes are processed in order).  A refusal is handled where the
	 * write is issued (fabtx__ofi_issue). */
	if (nseg <= (int)o->iov_limit && total <= o->max_msg) {
		int last = (flags & FABTX_WRITE_LAST) && !o->no_dc;
		return fabtx__ofi_post(
		    o, segs, nseg, off, total, doorbell,
		    ((flags & (FABTX_WRITE_DATA | FABTX_WRITE_CREDIT))
		         ? FI_REMOTE_CQ_DATA
		         : 0) |
		        (last ? FI_DELIVERY_COMPLETE : 0),
		    zc || last);
	}
	return fabtx__ofi_write_split(o, segs, nseg, off, total, doorbell,
	                              flags, zc);
}

/* A one-cell message as its payload alone: one inject whose 64-bit CQ data
 * is the data doorbell (bits 0-31, see fabtx__ofi_dbval) plus the footer's
 * len (bits 32-47) and flags (48-55), bit 63 set.  No staging copy, no
 * footer bytes: a 4 KiB message is one inject of 4096 bytes. */
#define FABTX__OFI_IMM_BIT ((uint64_t)1 << 63)
static int fabtx__ofi_write_imm(fabtx_conn *c, const fabtx_seg *seg,
                                uint64_t off, uint64_t pos, uint32_t len,
                                uint16_t flags)
{
	fabtx__ofi_conn *o = (fabtx__ofi_conn *)c->bdata;
	uint64_t data;
	uint32_t db;
	ssize_t rc;
	if (!o || !o->ep) return -ENOTCONN;
	if (o->failed) return o->failed;
	if (!o->imm_ok || !o->have_peer || len > o->inject_size ||
	    len > 0xffffu || flags > 0xffu)
		return -ENOTSUP;
	if (o->sock_dead) { /* the peer is gone: as write() */
		fabtx_conn_write_dropped(c);
		return 0;
	}
	if (off > o->peer_len || len > o->peer_len - off) return -EINVAL;
	if (o->b_on && (rc = fabtx__ofi_batch_out(o)) < 0) return (int)rc;
	if (o->pq_n && (rc = fabtx__ofi_pq_run(o)) < 0) return (int)rc;
	if (o->pq_n) return -ENOTSUP; /* behind queued writes: in order */
	db = fabtx__ofi_dbval(c, FABTX_DB_KIND_DATA, pos);
	if (!(db & FABTX__OFI_POS_BIT)) return -ENOTSUP;
	data = FABTX__OFI_IMM_BIT | ((uint64_t)flags << 48) |
	       ((uint64_t)len << 32) | db;
	rc = fi_inject_writedata(o->ep, seg->addr, len, data,
	                         o->rdm ? o->peer : 0, o->peer_addr + off,
	                         o->peer_key);
	if (rc == -FI_EAGAIN) return -ENOTSUP;
	if (rc) return fabtx__ofi_tx_err(o, rc);
	o->st.injects++;
	o->st.imm++;
	o->injected++;
	fabtx__ofi_doorbell_out(o);
	return 0;
}

static void fabtx__ofi_imm_in(fabtx_conn *c, uint64_t data)
{
	uint32_t v = (uint32_t)data;
	uint64_t pos;
	if (!(v & FABTX__OFI_POS_BIT) || (data & 0x7f00000000000000ull)) {
		fabtx_log(c->ctx, FABTX_LOG_WARN, "ofi: %s: bad CQ data 0x%llx",
		          c->url, (unsigned long long)data);
		fabtx_conn_fail(c, -EPROTO);
		return;
	}
	pos = fabtx__ofi_pos_in(c, v); /* chunk_in ignores consumed ones */
	if (pos)
		fabtx_conn_chunk_in(c, pos, (uint32_t)(data >> 32) & 0xffffu,
		                    (uint16_t)((data >> 48) & 0xffu));
}

/* Credit-only doorbells: 8 zero bytes into the peer's header scratch word
 * with the value as CQ data (injected when the provider can). */
static int fabtx__ofi_ring(fabtx_conn *c, fabtx_db_kind kind, uint64_t pos)
{
	uint32_t value;
	fabtx__ofi_conn *o = (fabtx__ofi_conn *)c->bdata;
	fabtx_seg s;
	int rc;
	if (!o || !o->ep) return -ENOTCONN;
	if (o->failed) return o->failed;
	if (!o->have_peer) return -ENOTCONN;
	if (o->sock_dead) return 0;
	if ((rc = fabtx__ofi_batch_out(o)) < 0) return rc;
	if (o->pq_n && (rc = fabtx__ofi_pq_run(o)) < 0) return rc;
	s.addr = o->tx_buf + o->tx_alloc - 8; /* registered, always zero */
	s.len = 8;
	s.desc = o->tx_desc;
	value = fabtx__ofi_dbval(c, kind, pos);
	rc = fabtx__ofi_post(o, &s, 1, FABTX__OFI_HDR_SCRATCH, 8, value,
	                     FI_REMOTE_CQ_DATA, 0);
	if (rc == 0) o->st.doorbells++;
	return rc;
}

static int fabtx__ofi_fail(fabtx__ofi_conn *o, int err, const char *why)
{
	if (!o->failed) {
		o->failed = err;
		fabtx_log(o->c->ctx, FABTX_LOG_WARN, "ofi: connection %s: %s",
		          o->c->url, why);
		fabtx_conn_fail(o->c, err);
	}
	return err;
}

/* The bootstrap socket hung up (peer closed or died): report -ECONNRESET
 * from progress, after draining the CQ, without failing the connection,
 * so the core still delivers what is in the ring (FIN included).  The core
 * sees the same EOF through ctrl_recv.  in: the same poll() also looks for
 * buffered control bytes (returns 1 if there are some). */
static int fabtx__ofi_check_sock(fabtx__ofi_conn *o, int force, int in)
{
	uint64_t now;
	struct pollfd p;
	if (o->sock_dead) return -ECONNRESET;
	now = fabtx_now_ms();
	if (!force && now == o->sock_check_ms) return 0;
	o->sock_check_ms = now;
	p.fd = o->sock;
	p.events = (short)(POLLRDHUP | (in ? POLLIN : 0));
	p.revents = 0;
	if (poll(&p, 1, 0) <= 0) return 0;
	if (!(p.revents & (POLLRDHUP | POLLHUP | POLLERR)))
		return in && (p.revents & POLLIN) ? 1 : 0;
	fabtx__ofi_dead(o, "bootstrap socket hung up", p.revents);
	o->sock_dead_ms = now;
	return -ECONNRESET;
}

/* A completion's operation is over: its context back to the pool.  Its
 * kind (1 write, 2 receive for CQ data, 3 sink: a stray message, counted),
 * or 0 if it is none of ours. */
static int fabtx__ofi_op_done(fabtx__ofi_conn *o, void *ctx)
{
	fabtx__ofi_op *op = (fabtx__ofi_op *)ctx;
	int k;
	if (!op || op < o->ops || op >= o->ops + o->nops) return 0;
	k = (int)op->kind;
	if (k == 1 && o->tx_out)
		o->tx_out--;
	else if (k == 2 && o->rx_posted)
		o->rx_posted--;
	else if (k == 3 && o->sink_posted) {
		o->sink_posted--;
		o->st.strays++;
	}
	fabtx__ofi_op_put(o, (uint32_t)(op - o->ops));
	return k;
}

/* One pass over the CQ: completions, doorbells, errors.  Returns the
 * number of entries seen, or < 0 if the connection failed. */
static int fabtx__ofi_poll_cq(fabtx__ofi_conn *o)
{
	fabtx_conn *c = o->c;
	struct fi_cq_data_entry e[16];
	int guard = 0, seen = 0;
	for (;;) {
		ssize_t n = fi_cq_read(o->cq, e, 16), i;
		if (n > 0) {
			seen += (int)n;
			for (i = 0; i < n; i++) {
				if (fabtx__ofi_op_done(o, e[i].op_context) == 3)
					continue; /* a stray message */
				/* CQ data only from writes: a message (from
				 * anyone, on RDM) may carry CQ data too */
				if ((e[i].flags &
				     (FI_REMOTE_CQ_DATA | FI_REMOTE_WRITE)) ==
				    (FI_REMOTE_CQ_DATA | FI_REMOTE_WRITE)) {
					o->st.cq_data_in++;
					if (e[i].data >> 63)
						fabtx__ofi_imm_in(c, e[i].data);
					else
						fabtx__ofi_db_in(
						    c, (uint32_t)e[i].data);
				}
			}
			if (o->failed) return o->failed;
			if (n == 16 && ++guard < 64) continue;
			break;
		}
		if (n == -FI_EAGAIN || n == 0) break;
		if (n == -FI_EAVAIL) {
			struct fi_cq_err_entry ee;
			char why[160];
			memset(&ee, 0, sizeof ee);
			fi_cq_readerr(o->cq, &ee, 0);
			seen++;
			snprintf(why, sizeof why, "CQ error %d (%s)", ee.err,
			         fi_strerror(ee.err));
			{
				int k = fabtx__ofi_op_done(o, ee.op_context);
				/* a stray message that did not fit (a sink, or a
				 * receive for CQ data: writes never truncate) */
				if (k == 3 || (k == 2 && ee.err == FI_ETRUNC)) {
					if (++guard < 1024) continue;
					break;
				}
			}
			if (fabtx__ofi_check_sock(o, 1, 0) < 0 ||
			    ee.err == FI_ECANCELED || ee.err == ENOTCONN ||
			    ee.err == ECONNRESET || ee.err == ECONNABORTED ||
			    ee.err == EPIPE || ee.err == ESHUTDOWN ||
			    ee.err == ECONNREFUSED || ee.err == EHOSTUNREACH) {
				/* the peer is gone: handled like a closed
				 * bootstrap socket (see fabtx__ofi_progress) */
				if (!o->sock_dead)
					fabtx_log(c->ctx, FABTX_LOG_INFO,
					          "ofi: %s: %s", c->url, why);
				o->sock_dead = 1;
				continue;
			}
			return fabtx__ofi_fail(o, -EIO, why);
		}
		return fabtx__ofi_fail(o, fabtx__ofi_err(n), "CQ read failed");
	}
	if ((o->rx_posted < o->rx_want || o->sink_posted < o->sink_want) &&
	    !o->sock_dead) {
		int rc = fabtx__ofi_post_recvs(o);
		if (rc < 0) return fabtx__ofi_fail(o, rc, "reposting receives");
	}
	return seen;
}

/* The peer is gone (sock_dead): collect what the fabric still delivers
 * before -ECONNRESET is reported (from progress or ctrl_recv), so every
 * doorbell that made it reaches the core, which then delivers the ring's
 * remains.  In steps that never wait; progress, arm and flush drive them:
 *  WORD: the fabric told first (FI_SHUTDOWN, a cancelled write) and the
 *    bootstrap socket is open: up to 200 ms for its last word, BYE (with
 *    the peer's final position) or EOF;
 *  DATA: a peer that said how far it wrote: its writes up to there, which
 *    may trail the BYE (another connection; its flush knew only that they
 *    had left), up to 5 s; else until the CQ stays quiet (a tcp provider
 *    reads its socket a bit per call): 32 empty reads in a row, 200 ms at
 *    most.
 * Returns 0 once done, 1 while under way, < 0 if the connection failed. */
#define FABTX__OFI_DRAIN_NONE 0
#define FABTX__OFI_DRAIN_WORD 1
#define FABTX__OFI_DRAIN_DATA 2
#define FABTX__OFI_DRAIN_DONE 3
static int fabtx__ofi_drain_steps(fabtx__ofi_conn *o)
{
	uint64_t now = fabtx_now_ms();
	int rc;
	if (o->drain_step == FABTX__OFI_DRAIN_NONE) {
		o->drain_step = FABTX__OFI_DRAIN_WORD;
		o->drain_end_ms = now + 200;
		/* the EQ has nothing more to say that matters (an unread
		 * FI_SHUTDOWN would wake the fd for ever) */
		if (o->eq_fd >= 0) {
			fabtx__ofi_unwatch(o, o->eq_fd);
			o->eq_out = 1;
		}
	}
	if (o->drain_step == FABTX__OFI_DRAIN_WORD) {
		if (!o->peer_bye && !o->sock_eof && o->sock >= 0 &&
		    !fabtx__ofi_read_bye(o) && now < o->drain_end_ms)
			return 1;
		o->drain_step = FABTX__OFI_DRAIN_DATA;
		o->drain_end_ms = now + (o->has_bye_pos ? 5000 : 200);
		o->drain_quiet = 0;
		/* its last word is said: an EOF would wake the fd for ever */
		if (o->sock >= 0) {
			fabtx__ofi_unwatch(o, o->sock);
			o->sock_out = 1;
		}
	}
	if (o->drain_step == FABTX__OFI_DRAIN_DATA) {
		for (;;) {
			if (o->has_bye_pos &&
			    fabtx_conn_rx_visible(o->c) >= o->bye_pos)
				break;
			if (!o->has_bye_pos && o->drain_quiet >= 32) break;
			if (fabtx_now_ms() >= o->drain_end_ms) break;
			rc = fabtx__ofi_poll_cq(o);
			if (rc < 0) return rc;
			if (o->has_bye_pos) {
				if (rc == 0 &&
				    fabtx_conn_rx_visible(o->c) < o->bye_pos)
					return 1; /* not here yet: wait */
			} else {
				o->drain_quiet = rc ? 0 : o->drain_quiet + 1;
			}
		}
		o->drain_step = FABTX__OFI_DRAIN_DONE;
	}
	return 0;
}

static int fabtx__ofi_drain(fabtx__ofi_conn *o)
{
	int rc;
	o->sock_dead = 1;
	if (o->failed || !o->cq) return o->failed;
	if (o->drain_step == FABTX__OFI_DRAIN_DONE) return 0;
	if (o->in_drain) return 1;
	o->in_drain = 1;
	rc = fabtx__ofi_drain_steps(o);
	o->in_drain = 0;
	return rc;
}

static int fabtx__ofi_progress(fabtx_conn *c)
{
	fabtx__ofi_conn *o = (fabtx__ofi_conn *)c->bdata;
	int rc, skipped;
	if (!o || !o->cq) return -ENOTCONN;
	if (o->failed) return o->failed;
	if (o->b_on && (rc = fabtx__ofi_batch_out(o)) < 0)
		return fabtx__ofi_fail(o, rc, "write failed");
	/* With a wait fd, the call right after one that read the CQ empty is
	 * skipped (one in two at most): an event loop's look after its work
	 * (the slow path before arm) found nothing new there but cost a
	 * provider progress (the tcp provider: an epoll_wait of its own),
	 * and fi_trywait in arm() sees what it would have (completions
	 * queued, bytes the provider holds); bytes still in the kernel make
	 * the fd readable.  A poller that never arms reads every other call.
	 * The call after an arm always reads (fabtx__ofi_arm). */
	skipped = o->cq_skip && !o->use_timer && !o->sock_dead;
	if (skipped) {
		o->cq_skip = 0;
	} else {
		rc = fabtx__ofi_poll_cq(o);
		if (rc < 0) return rc;
		o->cq_skip = rc < 16;
		/* the CQ explains this wakeup: the bootstrap socket need not
		 * be read now (fabtx__ofi_ctrl_look); bytes there keep the fd
		 * readable after the next arm, whose wakeup reads them (not
		 * with the timer: there WAKE frames are the wakeups) */
		if (rc > 0 && !o->use_timer) o->ctrl_due = 0;
	}
	if (o->pq_n && !o->sock_dead && (rc = fabtx__ofi_pq_run(o)) < 0)
		return fabtx__ofi_fail(o, rc, "queued write failed");
	if (o->wrote && !skipped) { /* what the peer wrote is applied now */
		fabtx__ofi_wake_peer(o);
		o->wrote = 0;
	}
	/* the connection-level checks (EQ, bootstrap socket) cost syscalls:
	 * at most once a millisecond, looked at every 64 calls */
	if (!o->sock_dead && (++o->slow_tick & 63u) != 0) return 0;
	if (!o->sock_dead) {
		uint64_t now = fabtx_now_ms();
		if (now == o->sock_check_ms) return 0;
	}
	if (o->eq && !o->sock_dead) {
		uint32_t ev;
		uint8_t buf[sizeof(struct fi_eq_cm_entry) + 64];
		ssize_t n = fi_eq_read(o->eq, &ev, buf, sizeof buf, 0);
		if (n >= 0 && ev == FI_SHUTDOWN) {
			/* same rule as the socket */
			fabtx__ofi_dead(o, "FI_SHUTDOWN", 0);
		} else if (n == -FI_EAVAIL) {
			struct fi_eq_err_entry ee;
			memset(&ee, 0, sizeof ee);
			fi_eq_readerr(o->eq, &ee, 0);
			fabtx__ofi_dead(o, "EQ error", ee.err);
		}
	}
	if (!o->sock_dead && fabtx__ofi_check_sock(o, 0, 0) == 0) return 0;
	rc = fabtx__ofi_drain(o);
	if (rc < 0) return rc;
	if (rc > 0) return 0; /* still collecting what is in flight */
	/* a peer that closed cleanly (its FIN is consumed) is not an error */
	return fabtx_conn_fin_seen(c) ? 0 : -ECONNRESET;
}

/* At close: skip the control frames still buffered, looking for BYE.
 * 1 once the bootstrap socket has had its last word (BYE, EOF or an
 * error), 0 while it is open and has said nothing more yet. */
static int fabtx__ofi_read_bye(fabtx__ofi_conn *o)
{
	int i;
	for (i = 0; i < 64 && !o->peer_bye; i++) {
		uint8_t b[FABTX__OFI_CTRL_MAX];
		int rc = fabtx__ofi_ctrl_recv(o->c, b, sizeof b, 0);
		if (rc == -EAGAIN) return o->peer_bye || o->sock_eof;
		if (rc < 0 && rc != -EMSGSIZE) return 1;
	}
	return 1;
}

static int fabtx__ofi_flush(fabtx_conn *c, int timeout_ms)
{
	fabtx__ofi_conn *o = (fabtx__ofi_conn *)c->bdata;
	uint64_t deadline = fabtx_deadline(timeout_ms);
	if (!o) return -ENOTCONN;
	if (!o->sock_dead && !o->failed) {
		int rc = fabtx__ofi_batch_out(o);
		if (rc < 0) return rc;
	}
	/* Injected writes have no completion, and a provider with manual
	 * progress may still hold them: 8 bytes into the peer's scratch word
	 * that do complete, queued behind them, tell when they have left. */
	if ((o->injected || o->pq_n) && o->have_peer && !o->sock_dead &&
	    !o->failed) {
		fabtx_seg s;
		int rc;
		s.addr = o->tx_buf + o->tx_alloc - 8;
		s.len = 8;
		s.desc = o->tx_desc;
		for (;;) {
			rc = fabtx__ofi_post(o, &s, 1, FABTX__OFI_HDR_SCRATCH,
			                     8, 0, 0, 1);
			if (rc != -EAGAIN) break;
			rc = fabtx__ofi_progress(c);
			if (rc < 0) return rc;
			if (fabtx_remaining_ms(deadline) == 0)
				return -ETIMEDOUT;
		}
		if (rc < 0) return rc;
	}
	for (;;) {
		int rc;
		if (o->tx_out == 0 && o->pq_n == 0) return 0;
		rc = fabtx__ofi_progress(c);
		if (o->tx_out == 0 && o->pq_n == 0) return 0;
		if (rc < 0 && rc != -ECONNRESET) return rc;
		if (o->sock_dead && o->drain_step == FABTX__OFI_DRAIN_DONE) {
			/* Only close() flushes.  A peer that said goodbye has
			 * closed after consuming our FIN (or chose not to read
			 * on): nothing of ours is lost that it wanted.  A
			 * vanished peer may have lost the writes in flight.
			 * The fabric can report the peer's endpoint closed
			 * (FI_SHUTDOWN, a cancelled write) before its BYE is
			 * read off the bootstrap socket: the socket's last
			 * word, BYE or EOF, decides, within the deadline. */
			int said = fabtx__ofi_read_bye(o);
			if (o->peer_bye || fabtx_conn_fin_seen(c)) return 0;
			if (said || o->sock < 0) return -ECONNRESET;
			rc = fabtx__ofi_wait_fd(o->sock, POLLIN | POLLRDHUP,
			                        deadline);
			if (rc == -ETIMEDOUT) return rc;
			if (rc < 0) return -ECONNRESET;
			continue;
		}
		if (fabtx_remaining_ms(deadline) == 0) return -ETIMEDOUT;
	}
}

static int fabtx__ofi_fd(fabtx_conn *c)
{
	fabtx__ofi_conn *o = (fabtx__ofi_conn *)c->bdata;
	return o ? o->epfd : -EINVAL;
}

/* fds(): with a CQ wait fd (an epoll set of the provider's), that fd and
 * a second epoll set of ours with the rest of fd()'s items (bootstrap
 * socket, EQ, timer), so an event loop polls the provider's set itself,
 * not through ours: a level of epoll nesting less on each wakeup (libzmq
 * over ofi-tcp: ~5 % of a 64 B round trip).  The CQ's fd stays in fd()'s
 * set too, for callers of fd(). */
static int fabtx__ofi_fds(fabtx_conn *c, int *fds, int cap)
{
	fabtx__ofi_conn *o = (fabtx__ofi_conn *)c->bdata;
	if (!o || o->epfd < 0) return -EINVAL;
	if (cap < 2 || o->use_timer || o->cq_fd < 0) {
		fds[0] = o->epfd;
		return 1;
	}
	if (o->ctl_epfd < 0) {
		int ep = epoll_create1(EPOLL_CLOEXEC);
		int rc =
		    ep < 0 ? -errno : fabtx__ofi_epoll_add(ep, o->tfd, EPOLLIN);
		if (rc == 0 && o->eq_fd >= 0 && !o->eq_out)
			rc = fabtx__ofi_epoll_add(ep, o->eq_fd, EPOLLIN);
		if (rc == 0 && o->sock >= 0 && o->sock_ev && !o->sock_out)
			rc = fabtx__ofi_epoll_add(ep, o->sock,
			                          (uint32_t)o->sock_ev);
		if (rc < 0) {
			if (ep >= 0) close(ep);
			return rc;
		}
		o->ctl_epfd = ep;
	}
	fds[0] = o->cq_fd;
	fds[1] = o->ctl_epfd;
	return 2;
}

/* The fallback timer (providers without a wait fd): set it to fire in us,
 * unless it is set already (it then fires within timer_us of an earlier
 * arm: early is harmless, and a timerfd_settime per arm was a system call
 * per message).  Re-setting a timer clears its expirations, so a fired
 * one needs no read(); old_value says whether it had fired (for the
 * count). */
static void fabtx__ofi_timer_arm(fabtx__ofi_conn *o, uint64_t us, int force)
{
	struct itimerspec its, old;
	uint64_t now = fabtx_now_ns();
	if (!force && o->tfd_due_ns && now < o->tfd_due_ns) return;
	memset(&its, 0, sizeof its);
	memset(&old, 0, sizeof old);
	its.it_value.tv_sec = (time_t)(us / 1000000);
	its.it_value.tv_nsec = (long)(us % 1000000) * 1000;
	if (timerfd_settime(o->tfd, 0, &its, &old) < 0) return;
	if (o->tfd_due_ns && !old.it_value.tv_sec && !old.it_value.tv_nsec)
		o->st.timer_wakeups++;
	o->tfd_due_ns = now + us * 1000u;
}

/* arm: 0 once anything that comes makes the fd readable.  The core's slow
 * path (progress, then the control channel) always runs right before, so
 * with a wait fd there is no progress call here: fi_trywait itself says
 * -FI_EAGAIN while the provider holds completions or bytes it has read.
 * The bootstrap socket is not looked at either: it is in the fd's epoll
 * set (level-triggered), so bytes or a hang-up already there make the fd
 * readable at once, and the look after the wakeup reads them (ctrl_due,
 * fabtx__ofi_ctrl_look). */
static int fabtx__ofi_arm_once(fabtx_conn *c)
{
	fabtx__ofi_conn *o = (fabtx__ofi_conn *)c->bdata;
	uint64_t before, us = 0; /* timer: 0 = none */
	if (!o || !o->cq) return -ENOTCONN;
	if (o->failed) return -EAGAIN; /* the error is an event */
	o->ctrl_gate = 1;
	o->cq_skip = 0;     /* the look below, if any, is a real one */
	if (o->sock_dead) { /* clear a fired drain deadline */
		uint64_t x;
		if (read(o->tfd, &x, sizeof x) == (ssize_t)sizeof x)
			o->st.timer_wakeups++;
		o->tfd_due_ns = 0;
	}
	if (o->use_timer && o->have_peer && !o->sock_dead && o->tx_buf) {
		/* about to sleep on the timer: drop the WAKE frames that woke
		 * us (if the slow path has not read the socket empty since
		 * the last sleep), tell the peer, so its next write comes with
		 * a WAKE (fabtx__ofi_wake_peer), then look at the CQ once more */
		fabtx_seg s1;
		if (o->ctrl_due) fabtx__ofi_eat_wakes(o);
		s1.addr = o->tx_buf + o->tx_alloc - 16;
		s1.len = 8;
		s1.desc = o->tx_desc;
		/* once until a WAKE says the peer cleared the word (it stays
		 * set there until then: no need to write it again) */
		if (!o->asleep_told &&
		    fabtx__ofi_post(o, &s1, 1, FABTX__OFI_HDR_PEER_SLEEPS, 8, 0,
		                    0, 0) == 0) {
			o->asleep_told = 1;
			o->st.sleeps++;
		}
	}
	/* progress here only where the slow path's may not cover it: the
	 * timer's last look (after the sleep word), a drain, writes still
	 * queued, a look for a sleeping peer still owed */
	if (o->use_timer || o->sock_dead || o->pq_n || o->b_on || o->wrote) {
		before = o->st.cq_data_in;
		if (fabtx__ofi_progress(c) < 0 || o->st.cq_data_in != before)
			return -EAGAIN;
	}
	if (o->sock_dead) {
		/* the peer is gone: an event once the drain is done; while
		 * it runs, wake for the CQ and at the end of its wait */
		uint64_t now = fabtx_now_ms();
		if (o->drain_step == FABTX__OFI_DRAIN_DONE || o->failed)
			return -EAGAIN;
		us = o->drain_end_ms > now ? (o->drain_end_ms - now) * 1000
		                           : 1000;
	} else if (o->failed || fabtx__ofi_crx_ready(o)) {
		return -EAGAIN; /* an error, or a frame read ahead */
	}
	if (!o->use_timer) {
		struct fid *f[2];
		int n = 0, rc;
		f[n++] = &o->cq->fid;
		/* the EQ (FI_EP_MSG) says nothing on a live connection but
		 * FI_SHUTDOWN, which the bootstrap socket's hang-up comes
		 * with: its trywait (a system call of the provider's) once a
		 * millisecond; an event makes its fd readable meanwhile */
		if (o->eq && o->eq_fd >= 0 && !o->sock_dead) {
			uint64_t now = fabtx_now_ms();
			if (now != o->eq_try_ms) {
				f[n++] = &o->eq->fid;
				o->eq_try_ms = now;
			}
		}
		rc = fi_trywait(o->dom->fabric, f, n);
		if (rc == 0 && !us) {
			o->ctrl_due = 1;
			return 0;
		}
		if (rc == -FI_EAGAIN) return -EAGAIN;
		if (rc != 0) {
			/* cannot trywait: use the timer from now on */
			fabtx_log(
			    c->ctx, FABTX_LOG_INFO,
			    "ofi: fi_trywait on %s: %s; polling with a timer",
			    o->st.provider, fi_strerror(-rc));
			o->use_timer = 1;
			o->st.wait_fd = 0;
		}
	}
	if (o->use_timer && (!us || us > (uint64_t)o->timer_us)) {
		if (!o->sock_dead) {
			fabtx__ofi_timer_arm(o, (uint64_t)o->timer_us, 0);
			o->ctrl_due = 1;
			return 0;
		}
		us = (uint64_t)o->timer_us;
	}
	fabtx__ofi_timer_arm(o, us, 1);
	o->ctrl_due = 1;
	return 0;
}

/* The progress right after an arm is never the one skipped (see
 * progress): either the caller slept and woke for something, or arm said
 * there is work.  Skipping it cost a wasted round (an fi_trywait that
 * says -FI_EAGAIN, then the progress) on every wakeup. */
static int fabtx__ofi_arm(fabtx_conn *c)
{
	int rc = fabtx__ofi_arm_once(c);
	fabtx__ofi_conn *o = (fabtx__ofi_conn *)c->bdata;
	if (o) {
		o->cq_skip = 0;
		if (rc == 0) {
			o->st.arms++;
			o->wdue = o->wsock >= 0;
		} else if (rc == -EAGAIN) {
			o->st.arms_again++;
		}
	}
	return rc;
}

static void fabtx__ofi_disconnect(fabtx_conn *c, int graceful)
{
	fabtx__ofi_conn *o = (fabtx__ofi_conn *)c->bdata;
	if (!o) return;
	if (o->su) { /* never set up: nothing to flush, nobody to tell */
		fabtx__ofi_unwait(o);
		c->bdata = NULL;
		fabtx__ofi_release(c->ctx, o);
		return;
	}
	/* After the peer's FIN its window may be gone: no flush marker (a new
	 * write) to it.  tcp;ofi_rxm crashed inside fi_cq_read about 1 close
	 * in 40 here, progressing such a marker towards an exited peer. */
	if (graceful && !o->failed && !fabtx_conn_fin_seen(c))
		(void)fabtx__ofi_flush(c, 1000);
	if (getenv("FABTX_OFI_STATS"))
		fabtx_log(c->ctx, FABTX_LOG_ERROR,
		          "ofi stats %s: %s/%s inject %zu writes %llu injects "
		          "%llu doorbells %llu cq_data_in %llu queued %llu "
		          "coalesced %llu/%llu split %llu timer_wakeups %llu "
		          "sleeps %llu wakes %llu/%llu (datagrams %llu) arms "
		          "%llu/%llu again",
		          c->url, o->st.provider, o->rdm ? "rdm" : "msg",
		          o->inject_size, (unsigned long long)o->st.writes,
		          (unsigned long long)o->st.injects,
		          (unsigned long long)o->st.doorbells,
		          (unsigned long long)o->st.cq_data_in,
		          (unsigned long long)o->st.queued,
		          (unsigned long long)o->st.coalesced,
		          (unsigned long long)o->st.coalesced_out,
		          (unsigned long long)o->st.split,
		          (unsigned long long)o->st.timer_wakeups,
		          (unsigned long long)o->st.sleeps,
		          (unsigned long long)o->st.wakes_sent,
		          (unsigned long long)o->st.wakes_in,
		          (unsigned long long)o->st.wakes_dgram,
		          (unsigned long long)o->st.arms,
		          (unsigned long long)o->st.arms_again);
	/* BYE before the endpoint's shutdown: a peer that hears of the
	 * shutdown from its fabric first finds the BYE already there */
	if (o->sock >= 0 && graceful && !o->sock_dead) {
		uint8_t b[12];
		fabtx__ofi_put32(b, FABTX__OFI_BYE);
		fabtx__ofi_put64(b + 4,
		                 fabtx_conn_tx_pos(c)); /* how far we wrote */
		(void)send(o->sock, b, sizeof b, MSG_NOSIGNAL | MSG_DONTWAIT);
	}
	if (o->ep && !o->rdm && !o->failed) fi_shutdown(o->ep, 0);
	if (o->sock >= 0 && graceful && !o->sock_dead)
		shutdown(o->sock, SHUT_WR);
	c->bdata = NULL;
	fabtx__ofi_release(c->ctx, o);
}

/* ----------------------------------------------------------- MR cache */
static int fabtx__ofi_mrc_reg(void *user, void *addr, size_t len,
                              unsigned access, fabtx_mr_reg *out)
{
	fabtx__ofi_dom *d = (fabtx__ofi_dom *)user;
	struct fid_mr *mr = NULL;
	uint64_t acc = FI_WRITE | FI_SEND | FI_READ;
	int rc;
	(void)access;
	rc = fabtx__ofi_reg_keyed(d, addr, len, acc, &mr);
	if (rc) return rc;
	memset(out, 0, sizeof *out);
	out->mr = mr;
	out->desc = fi_mr_desc(mr);
	out->key = fi_mr_key(mr);
	out->addr = (uint64_t)(uintptr_t)addr;
	out->len = len;
	return 0;
}

static void fabtx__ofi_mrc_dereg(void *user, fabtx_mr_reg *reg)
{
	(void)user;
	if (reg && reg->mr) fi_close(&((struct fid_mr *)reg->mr)->fid);
}

/* fabtx_send_zc's bookkeeping.  Writes are numbered as they are accepted
 * (fabtx__ofi_post); one still reads its source while it is in flight
 * with its completion to come, or queued without a copy of its own.
 * Injected writes and queued small ones have their own copies.  In-place
 * reads of unregistered memory need a provider without FI_MR_LOCAL. */
static int fabtx__ofi_written(fabtx_conn *c, uint64_t *issued, uint64_t *done)
{
	fabtx__ofi_conn *o = (fabtx__ofi_conn *)c->bdata;
	uint64_t low;
	uint32_t i;
	if (!o || !o->dom) return -ENOTCONN;
	if (o->dom->info->domain_attr->mr_mode & FI_MR_LOCAL) return -ENOTSUP;
	*issued = low = o->wseq;
	if (!done) return 0;
	for (i = 0; o->ep && i < o->nops; i++)
		if (o->ops[i].kind == 1 && o->ops[i].wseq &&
		    o->ops[i].wseq <= low)
			low = o->ops[i].wseq - 1;
	for (i = 0; o->ep && i < o->pq_n; i++) {
		const fabtx__ofi_pend *p = &o->pq[(o->pq_head + i) % o->pq_cap];
		if (!p->copy && p->wseq && p->wseq <= low) low = p->wseq - 1;
	}
	*done = low;
	return 0;
}

static int fabtx__ofi_mr_cache(fabtx_conn *c, fabtx_mr_cache **out)
{
	fabtx__ofi_conn *o = (fabtx__ofi_conn *)c->bdata;
	fabtx__ofi_ctx *s = fabtx__ofi_state(c->ctx);
	int rc = 0;
	if (!o || !o->dom || !s) return -ENOTCONN;
	if (o->dom->info->domain_attr->mr_mode & FI_MR_ENDPOINT)
		return -ENOTSUP; /* MRs bind to one endpoint: no sharing */
	pthread_mutex_lock(&s->lock);
	if (!o->dom->mrc) {
		fabtx_mr_ops ops;
		ops.reg = fabtx__ofi_mrc_reg;
		ops.dereg = fabtx__ofi_mrc_dereg;
		ops.user = o->dom;
		rc = fabtx_mr_cache_create(&o->dom->mrc, NULL, &ops,
		                           fabtx_ctx_allocator(c->ctx));
	}
	pthread_mutex_unlock(&s->lock);
	if (rc < 0) return rc;
	*out = o->dom->mrc;
	return 0;
}

FABTX__DEF int fabtx_ofi_conn_info(fabtx_conn *c, fabtx_ofi_info *out)
{
	fabtx__ofi_conn *o;
	if (!c || !out || c->be != fabtx_ofi_backend()) return -EINVAL;
	o = (fabtx__ofi_conn *)c->bdata;
	if (!o) return -ENOTCONN;
	*out = o->st;
	out->wait_fd = !o->use_timer;
	out->peer[0] = 0;
	if (o->sock >= 0) {
		struct sockaddr_storage ss;
		socklen_t sl = sizeof ss;
		if (getpeername(o->sock, (struct sockaddr *)&ss, &sl) == 0 &&
		    getnameinfo((struct sockaddr *)&ss, sl, out->peer,
		                sizeof out->peer, NULL, 0, NI_NUMERICHOST) != 0)
			out->peer[0] = 0;
	}
	return 0;
}

/* The listener's URL with the bootstrap socket's real port (bound to 0:
 * the system chose it); host, query or @FABRIC:PROV part as given. */
static int fabtx__ofi_listener_addr(fabtx_listener *l, char *buf, size_t cap)
{
	fabtx__ofi_listener *s = (fabtx__ofi_listener *)l->bdata;
	const char *a, *end, *colon = NULL, *p;
	struct sockaddr_storage ss;
	socklen_t sl = sizeof ss;
	unsigned port;
	int n;
	if (!s || s->sock < 0) return -EINVAL;
	a = s->addr;
	end = a + strcspn(a, "?@");
	for (p = a; p < end; p++) /* the port follows the last ':' */
		if (*p == ':' && (a[0] != '[' || (p > a && p[-1] == ']')))
			colon = p;
	if (!colon) return -EINVAL;
	if (getsockname(s->sock, (struct sockaddr *)&ss, &sl) < 0)
		return -errno;
	if (ss.ss_family == AF_INET)
		port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
	else if (ss.ss_family == AF_INET6)
		port = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	else
		return -EAFNOSUPPORT;
	n = snprintf(buf, cap, "%.*s:%u%s", (int)(colon - a), a, port, end);
	if (n < 0 || (size_t)n >= cap) return -ENOSPC;
	return 0;
}

/* The table, member by member (C and C++11 alike), built once. */
static fabtx_backend fabtx__ofi_be;
static void fabtx__ofi_be_init(void)
{
	fabtx_backend *b = &fabtx__ofi_be;
	b->scheme = "ofi";
	b->setup.ctx_init = fabtx__ofi_ctx_init;
	b->setup.ctx_fini = fabtx__ofi_ctx_fini;
	b->setup.listen = fabtx__ofi_listen;
	b->setup.listener_fd = fabtx__ofi_listener_fd;
	b->setup.accept = fabtx__ofi_accept;
	b->setup.listener_close = fabtx__ofi_listener_close;
	b->setup.connect = fabtx__ofi_connect;
	b->setup.ctrl_send = fabtx__ofi_ctrl_send;
	b->setup.ctrl_recv = fabtx__ofi_ctrl_look;
	b->setup.win_open = fabtx__ofi_win_open;
	b->setup.win_import = fabtx__ofi_win_import;
	b->data.write = fabtx__ofi_write;
	b->notify.ring = fabtx__ofi_ring;
	b->notify.progress = fabtx__ofi_progress;
	b->data.flush = fabtx__ofi_flush;
	b->wait.arm = fabtx__ofi_arm;
	b->wait.fds = fabtx__ofi_fds;
	b->wait.fd = fabtx__ofi_fd;
	b->setup.disconnect = fabtx__ofi_disconnect;
	b->data.mr_cache = fabtx__ofi_mr_cache;
	b->data.written = fabtx__ofi_written;
	b->data.write_imm = fabtx__ofi_write_imm;
	b->setup.listener_addr = fabtx__ofi_listener_addr;
	b->setup.connect_poll = fabtx__ofi_connect_poll;
	b->setup.ctrl_fd = fabtx__ofi_ctrl_fd;
}

FABTX__DEF const fabtx_backend *fabtx_ofi_backend(void)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	pthread_once(&once, fabtx__ofi_be_init);
	return &fabtx__ofi_be;
}

#endif /* FABTX_IMPLEMENTATION && !FABTX_OFI_IMPLEMENTATION_INCLUDED */
