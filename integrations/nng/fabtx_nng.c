/* SPDX-License-Identifier: MIT */
/* fabtx_nng.c -- shm://, ofi://, rio:// and scif:// as nng transports, with
 * fabtx as the engine (issue 18; docs/nng.md).
 *
 * Copied by integrations/nng/build.sh into nng's src/sp/transport/fabtx/
 * and registered by nng-fabtx.patch (src/sp/transport.c).  This file is the
 * one translation unit of libnng that carries fabtx's implementation; every
 * fabtx symbol gets hidden visibility, so none leaks out of libnng.so.
 *
 * The model is nng's own (ipc/tcp): a dialer and a listener per endpoint, a
 * pipe per connection, and nng's poller thread (nni_posix_pfd) watching each
 * fabtx object's fd.  Nothing here blocks: connects run on
 * fabtx_connect_start / fabtx_connect_poll, accepts on fabtx_listener_fd and
 * fabtx_accept(l, &c, 0), sends and receives with timeout 0.
 *
 * Wire: after fabtx's own handshake each side sends the 8-byte SP header
 * {0, 'S', 'P', 0, proto (big-endian u16), 0, 0} as one fabtx message, as
 * nng's ipc/tcp do on their byte streams; then every SP message (protocol
 * header followed by body) is one fabtx message.  No length prefix: fabtx
 * delivers whole messages.
 */
#define FABTX_IMPLEMENTATION
#if defined(__GNUC__)
#define FABTX_API __attribute__((visibility("hidden"))) extern
#endif
#include "fabtx_nng_config.h"
#include "fabtx.h"
#if FABTX_NNG_HAVE_OFI
#include "fabtx_ofi.h"
#endif
#if FABTX_NNG_HAVE_RIO
#include "fabtx_rio.h"
#endif
#if FABTX_NNG_HAVE_SCIF
#include "fabtx_scif.h"
#endif

#include <arpa/inet.h>
#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "core/nng_impl.h"
#include "platform/posix/posix_pollq.h"

#define FX_NEG_MS 10000     /* SP header exchange, as nng's ipc:// */
#define FX_PIPE_TICK_MS 500 /* keepalive and slow sources of an idle pipe */
#define FX_DIAL_TICK_MS 5   /* a connect's progress and its deadline */
#define FX_CLOSE_LINGER_MS 2000

typedef struct fx_ep   fx_ep;
typedef struct fx_pipe fx_pipe;

/* ------------------------------------------------------------ the context */
/* One fabtx context for the library, made on first use (after fork() a
 * child makes its own: the parent's eventfds and mappings are not its). */
static pthread_mutex_t fx_ctx_lk  = PTHREAD_MUTEX_INITIALIZER;
static fabtx_ctx *     fx_ctx     = NULL;
static pid_t           fx_ctx_pid = 0;
/* busy-poll window (opt-in: FABTX_SPIN_US, fabtx's spin_us); 0: off */
static uint64_t fx_spin_ns = 0;

static int fx_err(int rc);

/* fabtx allocates with nng's allocator, so that a large message fabtx has
 * assembled can become an nng message's body as it is (nni_msg_adopt) */
static void *
fx_alloc(size_t size, void *user)
{
	(void) user;
	return (nni_alloc(size ? size : 1));
}

static void
fx_free(void *ptr, void *user)
{
	(void) user;
	nni_free(ptr, 0); /* POSIX: free(), the size is not used */
}

static int
fx_ctx_get(fabtx_ctx **out)
{
	int rc = 0;
	pthread_mutex_lock(&fx_ctx_lk);
	if (fx_ctx != NULL && fx_ctx_pid != getpid()) {
		fx_ctx = NULL; /* the parent's: left alone */
	}
	if (fx_ctx == NULL) {
		fabtx_ctx *      ctx = NULL;
		fabtx_ctx_config cfg = fabtx_ctx_config_init();
		cfg.allocator.alloc  = fx_alloc;
		cfg.allocator.free   = fx_free;
		rc                   = fabtx_ctx_create(&ctx, &cfg);
#if FABTX_NNG_HAVE_OFI
		if (rc == 0)
			rc = fabtx_ctx_add_backend(ctx, fabtx_ofi_backend());
#endif
#if FABTX_NNG_HAVE_RIO
		if (rc == 0)
			rc = fabtx_ctx_add_backend(ctx, fabtx_rio_backend());
#endif
#if FABTX_NNG_HAVE_SCIF
		if (rc == 0)
			rc = fabtx_ctx_add_backend(ctx, fabtx_scif_backend());
#endif
		if (rc < 0 && ctx != NULL) {
			fabtx_ctx_destroy(ctx);
		} else if (rc == 0) {
			fx_ctx     = ctx;
			fx_ctx_pid = getpid();
			fx_spin_ns = fabtx_ctx_spin_us(ctx) > 0
			    ? (uint64_t) fabtx_ctx_spin_us(ctx) * 1000u
			    : 0;
		}
	}
	*out = fx_ctx;
	pthread_mutex_unlock(&fx_ctx_lk);
	return (rc < 0 ? fx_err(rc) : 0);
}

/* fabtx's negative errno to nng's error codes */
static int
fx_err(int rc)
{
	switch (-rc) {
	case 0:
		return (0);
	case EAGAIN:
		return (NNG_EAGAIN);
	case ETIMEDOUT:
		return (NNG_ETIMEDOUT);
	case EMSGSIZE:
		return (NNG_EMSGSIZE);
	case ECONNRESET:
		return (NNG_ECONNRESET);
	case ESHUTDOWN:
	case EPIPE:
		return (NNG_ECONNSHUT);
	case EPROTO:
		return (NNG_EPROTO);
	case ECONNREFUSED:
		return (NNG_ECONNREFUSED);
	case ECONNABORTED:
		return (NNG_ECONNABORTED);
	case EADDRINUSE:
		return (NNG_EADDRINUSE);
	case ENOMEM:
		return (NNG_ENOMEM);
	case EINVAL:
		return (NNG_EINVAL);
	case ENOTCONN:
		return (NNG_ECLOSED);
	case EMFILE:
	case ENFILE:
		return (NNG_ENOFILES);
	case EACCES:
	case EPERM:
		return (NNG_EPERM);
	case EPROTONOSUPPORT:
	case ENOTSUP:
		return (NNG_ENOTSUP);
	case ENOENT:
	case ENODATA:
	case ENODEV:
	case EADDRNOTAVAIL:
		return (NNG_EADDRINVAL);
	default:
		return (nni_plat_errno(-rc));
	}
}

/* ------------------------------------------------------- address checks */
static bool
fx_digits(const char *s, size_t n)
{
	if (n == 0 || n > 10)
		return (false);
	for (size_t i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return (false);
	return (true);
}

/* The part after "scheme://" of each scheme's URL, checked before anything
 * is opened: a bad URL is refused at nng_dial/nng_listen, with
 * NNG_EADDRINVAL, not later by a dialer's retries. */
static int
fx_check_url(const char *raw)
{
	const char *a = strstr(raw, "://");
	size_t      n;
	if (a == NULL)
		return (NNG_EADDRINVAL);
	a += 3;
	n = strlen(a);
	if (strncmp(raw, "shm://", 6) == 0) {
		/* shm://NAME, NAME: 1..97 characters of [A-Za-z0-9._-] */
		if (n == 0 || n > 97)
			return (NNG_EADDRINVAL);
		for (size_t i = 0; i < n; i++) {
			char ch = a[i];
			if (!((ch >= 'a' && ch <= 'z') ||
			        (ch >= 'A' && ch <= 'Z') ||
			        (ch >= '0' && ch <= '9') || ch == '.' ||
			        ch == '_' || ch == '-'))
				return (NNG_EADDRINVAL);
		}
		return (0);
	}
	if (strncmp(raw, "ofi://", 6) == 0) {
		/* ofi://HOST:PORT[?query] or ofi://HOST:PORT@FABRIC:PROV */
		char        hp[512], host[256], port[64];
		const char *q = NULL;
		size_t      m = strcspn(a, "@");
		if (m == 0 || m >= sizeof(hp))
			return (NNG_EADDRINVAL);
		memcpy(hp, a, m);
		hp[m] = '\0';
		if (fabtx_url_hostport(hp, host, sizeof(host), port,
		        sizeof(port), &q) != 0)
			return (NNG_EADDRINVAL);
		return (0);
	}
	if (strncmp(raw, "rio://", 6) == 0) {
		/* rio://DESTID:CHANNEL, rio://\*:CHANNEL */
		const char *c = strchr(a, ':');
		if (c == NULL || !fx_digits(c + 1, strlen(c + 1)))
			return (NNG_EADDRINVAL);
		if (!(c - a == 1 && a[0] == '*') &&
		    !fx_digits(a, (size_t) (c - a)))
			return (NNG_EADDRINVAL);
		return (0);
	}
	if (strncmp(raw, "scif://", 7) == 0) {
		/* scif://NODE:PORT, scif://PORT */
		const char *c = strchr(a, ':');
		if (c == NULL)
			return (fx_digits(a, n) ? 0 : NNG_EADDRINVAL);
		if (!fx_digits(a, (size_t) (c - a)) ||
		    !fx_digits(c + 1, strlen(c + 1)))
			return (NNG_EADDRINVAL);
		return (0);
	}
	return (NNG_EADDRINVAL);
}

/* NNG_OPT_LOCADDR / NNG_OPT_REMADDR: ofi:// with a numeric IP host is an
 * NNG_AF_INET(6) address; the other schemes have no family of their own,
 * so they are NNG_AF_IPC with the URL as the path. */
static void
fx_url_sockaddr(const char *url, nng_sockaddr *sa)
{
	memset(sa, 0, sizeof(*sa));
	if (strncmp(url, "ofi://", 6) == 0) {
		char        hp[512], host[256], port[64];
		const char *q = NULL;
		size_t      m = strcspn(url + 6, "@");
		if (m < sizeof(hp)) {
			memcpy(hp, url + 6, m);
			hp[m] = '\0';
			if (fabtx_url_hostport(hp, host, sizeof(host), port,
			        sizeof(port), &q) == 0) {
				unsigned long pn = strtoul(port, NULL, 10);
				if (inet_pton(AF_INET, host,
				        &sa->s_in.sa_addr) == 1) {
					sa->s_in.sa_family = NNG_AF_INET;
					sa->s_in.sa_port =
					    htons((uint16_t) pn);
					return;
				}
				if (inet_pton(AF_INET6, host,
				        sa->s_in6.sa_addr) == 1) {
					sa->s_in6.sa_family = NNG_AF_INET6;
					sa->s_in6.sa_port =
					    htons((uint16_t) pn);
					return;
				}
			}
		}
		memset(sa, 0, sizeof(*sa));
	}
	sa->s_ipc.sa_family = NNG_AF_IPC;
	(void) snprintf(
	    sa->s_ipc.sa_path, sizeof(sa->s_ipc.sa_path), "%s", url);
}

/* ------------------------------------------------------ the poller link */
/* nng's poller shutdown()s and close()s the fds it is given, and sets them
 * non-blocking; fabtx's fds are fabtx's.  So each object gives the poller
 * an epoll set of its own that watches the fabtx fd (level-triggered): it
 * is readable exactly when the fabtx fd is, and only it is closed. */
typedef struct fx_wait {
	int            epfd;
	int            target;
	nni_posix_pfd *pfd;
} fx_wait;

static int
fx_wait_init(fx_wait *w, nni_posix_pfd_cb cb, void *arg)
{
	int rv;
	w->pfd    = NULL;
	w->target = -1;
	if ((w->epfd = epoll_create1(EPOLL_CLOEXEC)) < 0)
		return (nni_plat_errno(errno));
	if ((rv = nni_posix_pfd_init(&w->pfd, w->epfd)) != 0) {
		(void) close(w->epfd);
		w->epfd = -1;
		return (rv);
	}
	nni_posix_pfd_set_cb(w->pfd, cb, arg);
	return (0);
}

/* watch fd (again: the number may be the same as before with another file
 * behind it, so the old entry is always dropped first) */
static int
fx_wait_target(fx_wait *w, int fd)
{
	struct epoll_event ev;
	memset(&ev, 0, sizeof(ev));
	if (w->target >= 0)
		(void) epoll_ctl(w->epfd, EPOLL_CTL_DEL, w->target, &ev);
	w->target = -1;
	if (fd < 0)
		return (0);
	ev.events = EPOLLIN;
	if (epoll_ctl(w->epfd, EPOLL_CTL_ADD, fd, &ev) != 0)
		return (nni_plat_errno(errno));
	w->target = fd;
	return (0);
}

static void
fx_wait_arm(fx_wait *w)
{
	if (w->pfd != NULL)
		(void) nni_posix_pfd_arm(w->pfd, NNI_POLL_IN);
}

static void
fx_wait_close(fx_wait *w)
{
	if (w->pfd != NULL)
		nni_posix_pfd_close(w->pfd);
}

/* Not on the poller's thread (nng's reaper runs it).  The pfd is taken
 * out under the owner's lock (mtx, when given), which every other use of
 * it holds: a concurrent close or arm then finds none.  After
 * nni_posix_pfd_fini no callback of it runs any more. */
static void
fx_wait_fini(fx_wait *w, nni_mtx *mtx)
{
	nni_posix_pfd *pfd;
	if (mtx != NULL)
		nni_mtx_lock(mtx);
	pfd    = w->pfd;
	w->pfd = NULL;
	if (mtx != NULL)
		nni_mtx_unlock(mtx);
	if (pfd != NULL) {
		nni_posix_pfd_fini(pfd); /* closes epfd */
	} else if (w->epfd >= 0) {
		(void) close(w->epfd);
	}
	w->epfd   = -1;
	w->target = -1;
}

/* ------------------------------------------------------------ structures */
struct fx_pipe {
	nni_mtx         mtx;
	fabtx_conn *    conn;
	fx_wait         w;
	fx_ep *         ep;
	nni_pipe *      npipe;
	uint16_t        proto;
	uint16_t        peer;
	size_t          rcv_max;
	size_t          cell_payload; /* a send larger may leave a tail */
	bool            closed;
	bool            hdr_sent;
	bool            hdr_recv;
	bool            tx_tail; /* fabtx may still stream a send's tail */
	int             err;     /* sticky: the connection is dead */
	nni_atomic_bool ready;   /* SP headers exchanged */
	nni_time        neg_deadline;
	uint8_t         tx_hdr[8];
	nni_list        send_q;
	nni_list        recv_q;
	nni_msg *       rx_msg; /* a receive in progress (partly here) */
	bool            rx_big; /* ... taken with fabtx_recv_msg */
	nni_aio         tick;
	nng_sockaddr    laddr;
	nng_sockaddr    raddr;
	nni_list_node   node;
	nni_atomic_flag reaped;
	nni_reap_node   reap;
	/* busy-poll: last message in or out (p->mtx), the spinner's list
	 * (fx_spin_lk) */
	uint64_t last_io_ns;
	bool     direct; /* shm://: the ring shows what arrived, no progress */
	/* p->mtx: the events fabtx and the poller are armed for since the
	 * last arm (-1: unknown).  shm:// and ofi:// stay armed across what
	 * does not run fabtx's slow path (sends with credits, receives that
	 * find a message, peeks), and the poller's one-shot registration
	 * until its callback runs: a pass that wants the same need not arm
	 * again (a system call each, per message).  keep_arm: the backend
	 * is one of the two. */
	int  armed_ev;
	bool keep_arm;
	int  tick_ms; /* FX_PIPE_TICK_MS, or NNG_FX_TICK_MS (environment) */
	bool     spin_hint; /* p->mtx: spin_wanted as this pipe last set it */
	bool     spin_wanted;
	bool     spin_linked;
	int      spin_ref;
	fx_pipe *spin_next;
	fx_pipe *spin_prev;
};

struct fx_ep {
	nni_mtx         mtx;
	char *          url; /* as given (fabtx's URL) */
	char            bound[512];
	bool            is_dialer;
	uint16_t        proto;
	size_t          rcv_max;
	bool            closed;
	bool            fini;
	int             ref_cnt;
	fabtx_ctx *     ctx;
	nni_aio *       user_aio;
	fabtx_conn *    dconn;   /* dialer: a connect in progress */
	fabtx_listener *lis;     /* listener */
	fx_wait         w;       /* dconn's or lis's fd */
	nni_aio *       tick;    /* dialer: connect tick; listener: backoff */
	bool            tick_on; /* tick is scheduled */
	nni_list        busy_pipes;
	nni_list        wait_pipes;
	nni_list        neg_pipes;
	nng_sockaddr    sa;
	nni_reap_node   reap;
};

static void fx_pipe_fini(void *);

/* The tick's period for a pipe: FX_PIPE_TICK_MS, or NNG_FX_TICK_MS from
 * the environment (a test sets it to an hour: then nothing the poller
 * should have woken can have been rescued by the tick). */
static int
fx_tick_period(void)
{
	const char *e = getenv("NNG_FX_TICK_MS");
	char *      end;
	long        v;
	if (e == NULL || *e == 0)
		return (FX_PIPE_TICK_MS);
	v = strtol(e, &end, 10);
	if (*end != 0 || v < 1 || v > 24L * 3600 * 1000)
		return (FX_PIPE_TICK_MS);
	return ((int) v);
}
static void fx_ep_fini(void *);
static void fx_pipe_cb(nni_posix_pfd *, unsigned, void *);
static void fx_pipe_tick_cb(void *);

static nni_reap_list fx_ep_reap_list = {
	.rl_offset = offsetof(fx_ep, reap),
	.rl_func   = fx_ep_fini,
};

static nni_reap_list fx_pipe_reap_list = {
	.rl_offset = offsetof(fx_pipe, reap),
	.rl_func   = fx_pipe_fini,
};

/* Completions found by the poller's callback are finished after the pipe's
 * lock is let go, in that thread (nni_aio_finish_sync, as nng's ipc:// does
 * from its stream callbacks): the protocol's callback runs at once, not
 * after a hop through nng's taskq; so does the spinner.  Elsewhere
 * (p_send/p_recv, which the protocol may call from its own callbacks, and
 * the tick) they are finished through the taskq (nni_aio_finish), so
 * nothing recurses. */
#define FX_DONE_MAX 16
typedef struct fx_done {
	int      n;
	nni_aio *aio[FX_DONE_MAX];
	size_t   len[FX_DONE_MAX];
} fx_done;

/* aio is off every list (a cancel now finds it inactive and leaves it) */
static void
fx_finish(fx_done *d, nni_aio *aio, size_t len)
{
	if (d == NULL || d->n == FX_DONE_MAX) {
		nni_aio_finish(aio, 0, len);
		return;
	}
	d->aio[d->n] = aio;
	d->len[d->n] = len;
	d->n++;
}

/* with no lock held */
static void
fx_finish_done(fx_done *d)
{
	for (int i = 0; i < d->n; i++)
		nni_aio_finish_sync(d->aio[i], 0, d->len[i]);
	d->n = 0;
}

/* ------------------------------------------------------------- busy-poll */
/* Opt-in (FABTX_SPIN_US, as in libzmq's integration).  A pipe that had
 * traffic less than spin_us ago and now only waits for messages is not
 * armed: fabtx's fd stays quiet (the peer rings no doorbell) and one
 * spinner thread per process looks at its ring (fabtx_peek_whole; RDMA
 * backends: a progress call), running the pump when a whole message is
 * there.  When the window closes the pump arms as usual.  Off by default:
 * then none of this runs and no thread spins. */
static pthread_mutex_t fx_spin_lk      = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t  fx_spin_cv      = PTHREAD_COND_INITIALIZER;
static pthread_cond_t  fx_spin_done_cv = PTHREAD_COND_INITIALIZER;
static fx_pipe *       fx_spin_head    = NULL;
static bool            fx_spin_running = false;
static bool            fx_spin_stop    = false;
static pthread_t       fx_spin_thr;

static void fx_pipe_pump(fx_pipe *p, fx_done *d);

static void
fx_spin_unlink(fx_pipe *p) /* fx_spin_lk held */
{
	if (!p->spin_linked)
		return;
	if (p->spin_prev != NULL)
		p->spin_prev->spin_next = p->spin_next;
	else
		fx_spin_head = p->spin_next;
	if (p->spin_next != NULL)
		p->spin_next->spin_prev = p->spin_prev;
	p->spin_next = p->spin_prev = NULL;
	p->spin_linked               = false;
}

/* fx_spin_lk held: p (linked) goes to the end of the list */
static void
fx_spin_rotate(fx_pipe *p)
{
	fx_pipe *t;
	if (p->spin_next == NULL)
		return;
	fx_spin_unlink(p);
	for (t = fx_spin_head; t->spin_next != NULL; t = t->spin_next)
		;
	t->spin_next   = p;
	p->spin_prev   = t;
	p->spin_next   = NULL;
	p->spin_linked = true;
}

/* One pipe per pass, round robin.  Its completions are finished with no
 * lock and no reference held (the protocol may close the pipe from its
 * callback). */
static void *
fx_spin_main(void *arg)
{
	(void) arg;
	pthread_mutex_lock(&fx_spin_lk);
	for (;;) {
		fx_pipe *p;
		fx_done  d;
		while (fx_spin_head == NULL && !fx_spin_stop)
			pthread_cond_wait(&fx_spin_cv, &fx_spin_lk);
		if (fx_spin_stop)
			break;
		p = fx_spin_head;
		p->spin_ref++;
		pthread_mutex_unlock(&fx_spin_lk);
		d.n = 0;
		nni_mtx_lock(&p->mtx);
		if (!p->closed && p->conn != NULL && p->err == 0) {
			bool go = fabtx_now_ns() - p->last_io_ns >=
			    fx_spin_ns; /* window closed: arm */
			if (!go && fabtx_peek_whole(p->conn) != -EAGAIN)
				go = true;
			if (!go && !p->direct) {
				int ev = fabtx_conn_poll(p->conn);
				p->armed_ev = -1;
				go     = ev < 0 ||
				    (ev & (FABTX_POLLIN | FABTX_POLLERR));
			}
			if (go)
				fx_pipe_pump(p, &d);
		}
		nni_mtx_unlock(&p->mtx);
		pthread_mutex_lock(&fx_spin_lk);
		if (!p->spin_wanted)
			fx_spin_unlink(p);
		else if (p->spin_linked)
			fx_spin_rotate(p);
		if (--p->spin_ref == 0)
			pthread_cond_broadcast(&fx_spin_done_cv);
		pthread_mutex_unlock(&fx_spin_lk);
		fx_finish_done(&d);
		sched_yield(); /* 2 CPUs: let the application threads run */
		pthread_mutex_lock(&fx_spin_lk);
	}
	pthread_mutex_unlock(&fx_spin_lk);
	return (NULL);
}

/* p->mtx held: this pipe wants (or no longer wants) the spinner */
static void
fx_spin_want(fx_pipe *p, bool on)
{
	if (on == p->spin_hint && !on)
		return; /* the common case: busy-poll off, nothing to do */
	pthread_mutex_lock(&fx_spin_lk);
	p->spin_wanted = on;
	if (on && !p->spin_linked) {
		p->spin_prev = NULL;
		p->spin_next = fx_spin_head;
		if (fx_spin_head != NULL)
			fx_spin_head->spin_prev = p;
		fx_spin_head   = p;
		p->spin_linked = true;
	}
	if (on && !fx_spin_running) {
		fx_spin_stop = false;
		if (pthread_create(&fx_spin_thr, NULL, fx_spin_main, NULL) == 0)
			fx_spin_running = true;
	}
	if (on)
		pthread_cond_signal(&fx_spin_cv);
	pthread_mutex_unlock(&fx_spin_lk);
	p->spin_hint = on;
}

/* p->mtx not held: out of the spinner's list, and not in its hands */
static void
fx_spin_del(fx_pipe *p)
{
	pthread_mutex_lock(&fx_spin_lk);
	p->spin_wanted = false;
	fx_spin_unlink(p);
	while (p->spin_ref > 0)
		pthread_cond_wait(&fx_spin_done_cv, &fx_spin_lk);
	pthread_mutex_unlock(&fx_spin_lk);
}

static void
fx_spin_fini(void)
{
	bool join;
	pthread_mutex_lock(&fx_spin_lk);
	fx_spin_stop = true;
	join         = fx_spin_running;
	pthread_cond_broadcast(&fx_spin_cv);
	pthread_mutex_unlock(&fx_spin_lk);
	if (join)
		pthread_join(fx_spin_thr, NULL);
	pthread_mutex_lock(&fx_spin_lk);
	fx_spin_running = false;
	fx_spin_stop    = false;
	pthread_mutex_unlock(&fx_spin_lk);
}

/* ------------------------------------------------------------------ pipe */
static int
fx_pipe_alloc(fx_pipe **pp, fabtx_conn *conn)
{
	fx_pipe *        p;
	fabtx_conn_stats st;
	int              rv;

	if ((p = NNI_ALLOC_STRUCT(p)) == NULL)
		return (NNG_ENOMEM);
	nni_mtx_init(&p->mtx);
	nni_aio_init(&p->tick, fx_pipe_tick_cb, p);
	nni_aio_list_init(&p->send_q);
	nni_aio_list_init(&p->recv_q);
	nni_atomic_flag_reset(&p->reaped);
	nni_atomic_init_bool(&p->ready);
	p->conn   = conn;
	p->direct = strcmp(fabtx_conn_backend_name(conn), "shm") == 0;
	p->keep_arm = p->direct || fabtx_conn_in_place(conn) ||
	    strcmp(fabtx_conn_backend_name(conn), "ofi") == 0;
	p->armed_ev = -1;
	p->tick_ms  = fx_tick_period();
	p->cell_payload =
	    fabtx_conn_stats_get(conn, &st) == 0 && st.cell_size > 64
	    ? st.cell_size - FABTX_FOOTER_SIZE
	    : 0;
	if ((rv = fx_wait_init(&p->w, fx_pipe_cb, p)) != 0 ||
	    (rv = fx_wait_target(&p->w, fabtx_conn_fd(conn))) != 0) {
		p->conn = NULL; /* the caller still owns conn */
		fx_wait_fini(&p->w, NULL);
		nni_aio_fini(&p->tick);
		nni_mtx_fini(&p->mtx);
		NNI_FREE_STRUCT(p);
		return (rv);
	}
	*pp = p;
	return (0);
}

static void
fx_pipe_reap(fx_pipe *p)
{
	if (!nni_atomic_flag_test_and_set(&p->reaped))
		nni_reap(&fx_pipe_reap_list, p);
}

/* fail every queued operation (p->mtx held) */
static void
fx_pipe_fail_all(fx_pipe *p, int rv)
{
	nni_aio *aio;
	while ((aio = nni_list_first(&p->send_q)) != NULL) {
		nni_aio_list_remove(aio);
		nni_aio_finish_error(aio, rv);
	}
	while ((aio = nni_list_first(&p->recv_q)) != NULL) {
		nni_aio_list_remove(aio);
		nni_aio_finish_error(aio, rv);
	}
}

static void
fx_pipe_set_err(fx_pipe *p, int rv)
{
	if (p->err == 0) {
		p->err = rv;
		if (p->npipe != NULL)
			nni_pipe_bump_error(p->npipe, rv);
	}
}

/* send what has credit (p->mtx held); *want_out when output waits */
static void
fx_pipe_do_send(fx_pipe *p, bool *want_out, fx_done *d)
{
	nni_aio *aio;
	while ((aio = nni_list_first(&p->send_q)) != NULL) {
		nni_msg * msg = nni_aio_get_msg(aio);
		fabtx_iov iov[2];
		int       n = 0;
		size_t    len;
		ssize_t   rc;
		if (nni_msg_header_len(msg) > 0) {
			iov[n].base = nni_msg_header(msg);
			iov[n].len  = nni_msg_header_len(msg);
			n++;
		}
		if (nni_msg_len(msg) > 0) {
			iov[n].base = nni_msg_body(msg);
			iov[n].len  = nni_msg_len(msg);
			n++;
		}
		if (n == 0) { /* a 0-byte message: no NULL base either */
			static const uint8_t none = 0;
			iov[0].base = &none;
			iov[0].len  = 0;
			n           = 1;
		}
		len = nni_msg_header_len(msg) + nni_msg_len(msg);
		/* out of credits on the way, fabtx looks for more (its
		 * progress on the backends that are not in place) */
		if (len >= fabtx_conn_send_room(p->conn))
			p->armed_ev = -1;
		rc = fabtx_sendv(p->conn, iov, n, 0);
		if (rc == -EAGAIN) {
			p->armed_ev = -1;
			*want_out = true;
			return;
		}
		if (rc == -EMSGSIZE) {
			/* larger than the connection takes: this message's
			 * error alone, the pipe goes on */
			nni_aio_list_remove(aio);
			nni_aio_finish_error(aio, NNG_EMSGSIZE);
			continue;
		}
		if (rc < 0) {
			fx_pipe_set_err(p, fx_err((int) rc));
			return;
		}
		if (len > p->cell_payload)
			p->tx_tail = true;
		if (fx_spin_ns)
			p->last_io_ns = fabtx_now_ns();
		nni_aio_list_remove(aio);
		nni_aio_set_msg(aio, NULL);
		nni_msg_free(msg);
		if (p->npipe != NULL)
			nni_pipe_bump_tx(p->npipe, len);
		fx_finish(d, aio, len);
	}
}

/* receive into waiting operations (p->mtx held).  true: a message is
 * partly here and small enough to wait for the rest (its sender does not
 * need our credits for it), so that it is copied once, straight into the
 * nng message, instead of being taken in parts (fabtx would keep the
 * parts aside and copy them again).  eager: take what is there anyway. */
static bool
fx_pipe_do_recv(fx_pipe *p, bool eager, fx_done *d)
{
	nni_aio *aio;
	while ((aio = nni_list_first(&p->recv_q)) != NULL) {
		nni_msg *msg;
		size_t   len;
		ssize_t  rc;
		int      rv;
		if (p->rx_msg == NULL) {
			rc = fabtx_peek_len(p->conn);
			if (rc == -EAGAIN)
				return (false);
			if (rc < 0) {
				fx_pipe_set_err(p, fx_err((int) rc));
				return (false);
			}
			if (p->rcv_max > 0 && (size_t) rc > p->rcv_max) {
				/* as nng's ipc/tcp: the pipe is closed */
				fx_pipe_set_err(p, NNG_EMSGSIZE);
				return (false);
			}
			if (!eager && fabtx_peek_whole(p->conn) == -EAGAIN)
				return (true);
			/* more than a cell: fabtx assembles it in a buffer
			 * of nng's allocator, which becomes the body (one
			 * copy, ring to body, however it arrives) */
			p->rx_big = (size_t) rc > p->cell_payload;
			if (!p->rx_big &&
			    (rv = nni_msg_alloc(&p->rx_msg, (size_t) rc)) != 0) {
				fx_pipe_set_err(p, rv);
				return (false);
			}
		}
		if (p->rx_big) {
			fabtx_msg fm;
			void     *own;
			size_t    fm_len;
			int       r = fabtx_recv_msg(p->conn, &fm, 0);
			/* a message in several chunks that was not all here
			 * when fabtx looked first runs fabtx's slow path, and
			 * may then be complete: arm again either way */
			p->armed_ev = -1;
			if (r == -EAGAIN)
				return (false); /* fabtx keeps what came */
			if (r < 0) {
				fx_pipe_set_err(p, fx_err(r));
				return (false);
			}
			p->rx_big = false;
			fm_len = fm.len;
			if (fm_len > 0 &&
			    (own = fabtx_msg_detach(&fm)) != NULL) {
				/* fabtx's own buffer (fx_alloc): adopted */
				rv = nni_msg_adopt(&p->rx_msg, own, fm_len);
				if (rv != 0)
					fx_free(own, NULL);
			} else if ((rv = nni_msg_alloc(&p->rx_msg, fm.len)) ==
			    0) {
				/* lent ring cells: copied, given back */
				memcpy(nni_msg_body(p->rx_msg), fm.data, fm.len);
			}
			fabtx_msg_release(p->conn, &fm);
			if (rv != 0) {
				fx_pipe_set_err(p, rv);
				return (false);
			}
			len = nni_msg_len(p->rx_msg);
		} else {
			uint8_t none; /* a 0-byte message: never NULL to memcpy */
			len = nni_msg_len(p->rx_msg);
			rc  = fabtx_recv(p->conn,
			     len ? nni_msg_body(p->rx_msg) : (void *) &none, len, 0);
			if (rc == -EAGAIN) {
				p->armed_ev = -1; /* fabtx's slow path ran */
				return (false); /* fabtx keeps what came so far */
			}
			if (rc < 0) {
				fx_pipe_set_err(p, fx_err((int) rc));
				return (false);
			}
			if ((size_t) rc != len) {
				fx_pipe_set_err(p, NNG_EPROTO);
				return (false);
			}
		}
		msg       = p->rx_msg;
		p->rx_msg = NULL;
		nni_aio_list_remove(aio);
		if (fx_spin_ns)
			p->last_io_ns = fabtx_now_ns();
		if (p->npipe != NULL)
			nni_pipe_bump_rx(p->npipe, len);
		nni_aio_set_msg(aio, msg);
		fx_finish(d, aio, len);
	}
	return (false);
}

/* The pump (p->mtx held): send, receive, then arm fabtx and the poller for
 * what is still wanted.  An arm that finds work raced in goes around. */
static void
fx_pipe_pump(fx_pipe *p, fx_done *d)
{
	bool eager = false;
	for (int round = 0; round < 64; round++) {
		bool     want_out  = false;
		bool     wait_rest = false;
		unsigned ev        = 0;
		int      rc;
		if (p->closed || p->conn == NULL) {
			fx_spin_want(p, false);
			return;
		}
		if (p->err == 0) {
			fx_pipe_do_send(p, &want_out, d);
		}
		if (p->err == 0) {
			wait_rest = fx_pipe_do_recv(p, eager, d);
		}
		if (p->err == 0 && p->tx_tail) {
			/* a large send's tail is streamed by fabtx as credits
			 * come back; POLLOUT once it is all out */
			rc          = fabtx_conn_poll(p->conn);
			p->armed_ev = -1;
			if (rc < 0)
				fx_pipe_set_err(p, fx_err(rc));
			else if (rc & (FABTX_POLLOUT | FABTX_POLLERR))
				p->tx_tail = false; /* out, or never will be */
			else
				want_out = true;
		}
		if (p->err != 0) {
			fx_spin_want(p, false);
			fx_pipe_fail_all(p, p->err);
			return;
		}
		if (!nni_list_empty(&p->recv_q) && !wait_rest)
			ev |= FABTX_POLLIN;
		if (want_out)
			ev |= FABTX_POLLOUT;
		if (ev == 0 && !wait_rest) {
			fx_spin_want(p, false);
			return; /* idle: the tick keeps keepalive going */
		}
		/* busy-poll: only messages awaited, traffic recent */
		if (fx_spin_ns && !(ev & FABTX_POLLOUT) &&
		    fabtx_now_ns() - p->last_io_ns < fx_spin_ns) {
			fx_spin_want(p, true);
			return;
		}
		fx_spin_want(p, false);
		if (p->keep_arm && !wait_rest && ev == FABTX_POLLIN &&
		    p->armed_ev == (int) ev)
			return; /* still armed (see armed_ev) */
		/* waiting for the rest of a message: armed for any event
		 * (the next chunk's doorbell) but not for "a chunk is here",
		 * which is already true */
		rc          = fabtx_conn_arm_mask(p->conn, ev);
		p->armed_ev = -1;
		if (rc == -EAGAIN) {
			/* something is pending; if it is not the rest of the
			 * message (the peer failed, ...), take the message as
			 * it comes next round: fabtx reports the error then */
			eager = wait_rest;
			continue;
		}
		if (rc < 0) {
			fx_pipe_set_err(p, fx_err(rc));
			continue;
		}
		if (wait_rest && fabtx_peek_whole(p->conn) != -EAGAIN)
			continue; /* the rest came before the arm */
		fx_wait_arm(&p->w);
		if (!wait_rest)
			p->armed_ev = (int) ev;
		return;
	}
	fx_wait_arm(&p->w); /* still busy: come back through the poller */
}

static void fx_ep_match(fx_ep *ep);

/* The SP header exchange (ep->mtx and p->mtx held).  true: done, the pipe
 * waits in ep->wait_pipes (the caller runs fx_ep_match once it has let go
 * of p->mtx). */
static bool
fx_pipe_negotiate(fx_pipe *p)
{
	fx_ep * ep = p->ep;
	uint8_t rx[16];
	int     rv = 0;
	ssize_t rc;

	for (int round = 0; round < 16; round++) {
		unsigned ev = 0;
		if (p->closed || ep->closed) {
			rv = NNG_ECLOSED;
			break;
		}
		if (!p->hdr_sent) {
			rc = fabtx_send(p->conn, p->tx_hdr, sizeof(p->tx_hdr), 0);
			if (rc >= 0) {
				p->hdr_sent = true;
			} else if (rc != -EAGAIN) {
				rv = fx_err((int) rc);
				break;
			}
		}
		if (!p->hdr_recv) {
			rc = fabtx_recv(p->conn, rx, sizeof(rx), 0);
			if (rc >= 0) {
				if (rc != 8 || rx[0] != 0 || rx[1] != 'S' ||
				    rx[2] != 'P' || rx[3] != 0 || rx[6] != 0 ||
				    rx[7] != 0) {
					rv = NNG_EPROTO;
					break;
				}
				NNI_GET16(&rx[4], p->peer);
				p->hdr_recv = true;
			} else if (rc == -EMSGSIZE) {
				rv = NNG_EPROTO; /* not an SP header */
				break;
			} else if (rc != -EAGAIN) {
				rv = fx_err((int) rc);
				break;
			}
		}
		if (p->hdr_sent && p->hdr_recv) {
			nni_list_remove(&ep->neg_pipes, p);
			nni_list_append(&ep->wait_pipes, p);
			nni_atomic_set_bool(&p->ready, true);
			/* messages behind the header wait for p_recv */
			return (true);
		}
		if (nni_clock() >= p->neg_deadline) {
			rv = NNG_ETIMEDOUT;
			break;
		}
		ev = FABTX_POLLIN | (p->hdr_sent ? 0u : FABTX_POLLOUT);
		rc = fabtx_conn_arm_mask(p->conn, ev);
		if (rc == -EAGAIN)
			continue;
		if (rc < 0) {
			rv = fx_err((int) rc);
			break;
		}
		fx_wait_arm(&p->w);
		return (false);
	}
	if (rv == 0) {
		fx_wait_arm(&p->w);
		return (false);
	}
	/* failed: a dialer reports it (nng retries); a listener goes on */
	p->closed = true;
	fx_wait_close(&p->w);
	nni_aio_close(&p->tick);
	if (ep->is_dialer && ep->user_aio != NULL) {
		nni_aio *aio = ep->user_aio;
		ep->user_aio = NULL;
		nni_aio_finish_error(aio, rv);
	}
	fx_pipe_reap(p);
	return (false);
}

static void
fx_pipe_cb(nni_posix_pfd *pfd, unsigned events, void *arg)
{
	fx_pipe *p = arg;
	fx_done  d;
	d.n = 0;
	NNI_ARG_UNUSED(pfd);
	NNI_ARG_UNUSED(events);
	if (!nni_atomic_get_bool(&p->ready)) {
		fx_ep *ep = p->ep;
		nni_mtx_lock(&ep->mtx);
		nni_mtx_lock(&p->mtx);
		if (!nni_atomic_get_bool(&p->ready)) {
			bool done = !p->closed && fx_pipe_negotiate(p);
			nni_mtx_unlock(&p->mtx);
			if (done)
				fx_ep_match(ep);
			nni_mtx_unlock(&ep->mtx);
			return;
		}
		nni_mtx_unlock(&ep->mtx);
	} else {
		nni_mtx_lock(&p->mtx);
	}
	p->armed_ev = -1; /* the poller fired (or the tick): arm again */
	fx_pipe_pump(p, &d);
	nni_mtx_unlock(&p->mtx);
	fx_finish_done(&d);
}

static void
fx_pipe_tick_cb(void *arg)
{
	fx_pipe *p = arg;
	if (nni_aio_result(&p->tick) != 0)
		return;
	if (!nni_atomic_get_bool(&p->ready)) {
		fx_pipe_cb(NULL, 0, p); /* also checks the deadline */
	} else {
		nni_mtx_lock(&p->mtx);
		if (!p->closed && p->err == 0 && p->conn != NULL) {
			/* fabtx's slow path: keepalive, the slow sources */
			int rc      = fabtx_conn_poll(p->conn);
			p->armed_ev = -1;
			if (rc < 0)
				fx_pipe_set_err(p, fx_err(rc));
			fx_pipe_pump(p, NULL);
		}
		nni_mtx_unlock(&p->mtx);
	}
	nni_mtx_lock(&p->mtx);
	if (!p->closed)
		nni_sleep_aio(
		    nni_atomic_get_bool(&p->ready) ? p->tick_ms : 100, &p->tick);
	nni_mtx_unlock(&p->mtx);
}

/* a connection is up: exchange SP headers (ep->mtx held) */
static void
fx_pipe_start(fx_pipe *p, fx_ep *ep)
{
	bool done;
	ep->ref_cnt++;
	p->ep      = ep;
	p->proto   = ep->proto;
	p->rcv_max = ep->rcv_max;
	p->tx_hdr[0] = 0;
	p->tx_hdr[1] = 'S';
	p->tx_hdr[2] = 'P';
	p->tx_hdr[3] = 0;
	NNI_PUT16(&p->tx_hdr[4], p->proto);
	p->tx_hdr[6]    = 0;
	p->tx_hdr[7]    = 0;
	p->neg_deadline = nni_clock() + FX_NEG_MS;
	/* ofi://: the address of the side that listens; the other side's is
	 * not known here.  The other schemes name one rendezvous (the URL),
	 * which is both ends' address, as a socket path is for ipc:// */
	if (ep->is_dialer) {
		fx_url_sockaddr(ep->url, &p->raddr);
		p->laddr.s_family = NNG_AF_UNSPEC;
	} else {
		fx_url_sockaddr(ep->bound[0] ? ep->bound : ep->url, &p->laddr);
		p->raddr.s_family = NNG_AF_UNSPEC;
	}
	if (strncmp(ep->url, "ofi://", 6) != 0) {
		if (ep->is_dialer)
			p->laddr = p->raddr;
		else
			p->raddr = p->laddr;
	}
	nni_list_append(&ep->neg_pipes, p);
	nni_mtx_lock(&p->mtx);
	done = fx_pipe_negotiate(p);
	if (!p->closed)
		nni_sleep_aio(100, &p->tick);
	nni_mtx_unlock(&p->mtx);
	if (done)
		fx_ep_match(ep);
}

static int
fx_pipe_init(void *arg, nni_pipe *npipe)
{
	fx_pipe *p = arg;
	p->npipe   = npipe;
	return (0);
}

static void
fx_pipe_close(void *arg)
{
	fx_pipe *p = arg;
	fx_spin_del(p);
	nni_mtx_lock(&p->mtx);
	p->closed = true;
	fx_pipe_fail_all(p, NNG_ECLOSED);
	fx_wait_close(&p->w);
	nni_mtx_unlock(&p->mtx);
	nni_aio_close(&p->tick);
}

static void
fx_pipe_stop(void *arg)
{
	fx_pipe *p = arg;
	nni_aio_stop(&p->tick);
}

static void
fx_pipe_fini(void *arg)
{
	fx_pipe *p = arg;
	fx_ep *  ep;

	fx_pipe_stop(p);
	fx_spin_del(p);
	fx_wait_fini(&p->w, &p->mtx); /* no poller callback from here on */
	if ((ep = p->ep) != NULL) {
		nni_mtx_lock(&ep->mtx);
		nni_list_node_remove(&p->node);
		ep->ref_cnt--;
		if (ep->fini && ep->ref_cnt == 0)
			nni_reap(&fx_ep_reap_list, ep);
		nni_mtx_unlock(&ep->mtx);
	}
	if (p->conn != NULL) {
		/* what the credits took is in the peer's window or on its
		 * way: send the rest and FIN (bounded; a dead peer ends it
		 * at once) */
		(void) fabtx_conn_close(p->conn, FX_CLOSE_LINGER_MS);
		p->conn = NULL;
	}
	if (p->rx_msg != NULL)
		nni_msg_free(p->rx_msg);
	nni_aio_fini(&p->tick);
	nni_mtx_fini(&p->mtx);
	NNI_FREE_STRUCT(p);
}

static void
fx_pipe_send_cancel(nni_aio *aio, void *arg, int rv)
{
	fx_pipe *p = arg;
	nni_mtx_lock(&p->mtx);
	if (nni_aio_list_active(aio)) {
		/* not taken by fabtx yet (a taken message is whole) */
		nni_aio_list_remove(aio);
		nni_aio_finish_error(aio, rv);
	}
	nni_mtx_unlock(&p->mtx);
}

static void
fx_pipe_send(void *arg, nni_aio *aio)
{
	fx_pipe *p = arg;
	int      rv;
	if (nni_aio_begin(aio) != 0)
		return;
	nni_mtx_lock(&p->mtx);
	if (p->closed) {
		nni_mtx_unlock(&p->mtx);
		nni_aio_finish_error(aio, NNG_ECLOSED);
		return;
	}
	if (p->err != 0) {
		rv = p->err;
		nni_mtx_unlock(&p->mtx);
		nni_aio_finish_error(aio, rv);
		return;
	}
	if ((rv = nni_aio_schedule(aio, fx_pipe_send_cancel, p)) != 0) {
		nni_mtx_unlock(&p->mtx);
		nni_aio_finish_error(aio, rv);
		return;
	}
	nni_list_append(&p->send_q, aio);
	fx_pipe_pump(p, NULL);
	nni_mtx_unlock(&p->mtx);
}

static void
fx_pipe_recv_cancel(nni_aio *aio, void *arg, int rv)
{
	fx_pipe *p = arg;
	nni_mtx_lock(&p->mtx);
	if (nni_aio_list_active(aio)) {
		/* a message partly here stays for the next receive */
		nni_aio_list_remove(aio);
		nni_aio_finish_error(aio, rv);
	}
	nni_mtx_unlock(&p->mtx);
}

static void
fx_pipe_recv(void *arg, nni_aio *aio)
{
	fx_pipe *p = arg;
	int      rv;
	if (nni_aio_begin(aio) != 0)
		return;
	nni_mtx_lock(&p->mtx);
	if (p->closed) {
		nni_mtx_unlock(&p->mtx);
		nni_aio_finish_error(aio, NNG_ECLOSED);
		return;
	}
	if (p->err != 0) {
		rv = p->err;
		nni_mtx_unlock(&p->mtx);
		nni_aio_finish_error(aio, rv);
		return;
	}
	if ((rv = nni_aio_schedule(aio, fx_pipe_recv_cancel, p)) != 0) {
		nni_mtx_unlock(&p->mtx);
		nni_aio_finish_error(aio, rv);
		return;
	}
	nni_list_append(&p->recv_q, aio);
	fx_pipe_pump(p, NULL);
	nni_mtx_unlock(&p->mtx);
}

static uint16_t
fx_pipe_peer(void *arg)
{
	fx_pipe *p = arg;
	return (p->peer);
}

static int
fx_pipe_get_locaddr(void *arg, void *v, size_t *szp, nni_type t)
{
	fx_pipe *p = arg;
	return (nni_copyout_sockaddr(&p->laddr, v, szp, t));
}

static int
fx_pipe_get_remaddr(void *arg, void *v, size_t *szp, nni_type t)
{
	fx_pipe *p = arg;
	return (nni_copyout_sockaddr(&p->raddr, v, szp, t));
}

static int
fx_pipe_get_recvmaxsz(void *arg, void *v, size_t *szp, nni_type t)
{
	fx_pipe *p = arg;
	size_t   val;
	nni_mtx_lock(&p->mtx);
	val = p->rcv_max;
	nni_mtx_unlock(&p->mtx);
	return (nni_copyout_size(val, v, szp, t));
}

static const nni_option fx_pipe_options[] = {
	{ .o_name = NNG_OPT_LOCADDR, .o_get = fx_pipe_get_locaddr },
	{ .o_name = NNG_OPT_REMADDR, .o_get = fx_pipe_get_remaddr },
	{ .o_name = NNG_OPT_RECVMAXSZ, .o_get = fx_pipe_get_recvmaxsz },
	{ .o_name = NULL },
};

static int
fx_pipe_getopt(void *arg, const char *name, void *buf, size_t *szp, nni_type t)
{
	return (nni_getopt(fx_pipe_options, name, arg, buf, szp, t));
}

/* ------------------------------------------------------------- endpoints */
/* hand a negotiated pipe to a waiting connect/accept (ep->mtx held) */
static void
fx_ep_match(fx_ep *ep)
{
	nni_aio *aio;
	fx_pipe *p;
	if ((aio = ep->user_aio) == NULL ||
	    (p = nni_list_first(&ep->wait_pipes)) == NULL)
		return;
	nni_list_remove(&ep->wait_pipes, p);
	nni_list_append(&ep->busy_pipes, p);
	ep->user_aio = NULL;
	nni_mtx_lock(&p->mtx);
	p->rcv_max = ep->rcv_max;
	nni_mtx_unlock(&p->mtx);
	nni_aio_set_output(aio, 0, p);
	nni_aio_finish(aio, 0, 0);
}

static void
fx_ep_cb(nni_posix_pfd *, unsigned, void *);
static void
fx_ep_tick_cb(void *);

/* (ep->mtx held) one sleep at a time on ep->tick */
static void
fx_ep_tick_start(fx_ep *ep, nng_duration ms)
{
	if (!ep->tick_on && !ep->closed) {
		ep->tick_on = true;
		nni_sleep_aio(ms, ep->tick);
	}
}

static int
fx_ep_init(fx_ep **epp, nni_url *url, nni_sock *sock, bool dialer)
{
	fx_ep *ep;
	int    rv;

	if ((rv = fx_check_url(url->u_rawurl)) != 0)
		return (rv);
	if ((ep = NNI_ALLOC_STRUCT(ep)) == NULL)
		return (NNG_ENOMEM);
	nni_mtx_init(&ep->mtx);
	NNI_LIST_INIT(&ep->busy_pipes, fx_pipe, node);
	NNI_LIST_INIT(&ep->wait_pipes, fx_pipe, node);
	NNI_LIST_INIT(&ep->neg_pipes, fx_pipe, node);
	ep->is_dialer = dialer;
	ep->proto     = nni_sock_proto_id(sock);
	ep->w.epfd    = -1;
	if ((ep->url = nni_strdup(url->u_rawurl)) == NULL ||
	    (rv = fx_ctx_get(&ep->ctx)) != 0 ||
	    (rv = nni_aio_alloc(&ep->tick, fx_ep_tick_cb, ep)) != 0 ||
	    (rv = fx_wait_init(&ep->w, fx_ep_cb, ep)) != 0) {
		if (rv == 0)
			rv = NNG_ENOMEM;
		fx_wait_fini(&ep->w, NULL);
		nni_aio_free(ep->tick);
		nni_strfree(ep->url);
		nni_mtx_fini(&ep->mtx);
		NNI_FREE_STRUCT(ep);
		return (rv);
	}
	fx_url_sockaddr(ep->url, &ep->sa);
	*epp = ep;
	return (0);
}

static int
fx_dialer_init(void **dp, nni_url *url, nni_dialer *d)
{
	return (fx_ep_init((fx_ep **) dp, url, nni_dialer_sock(d), true));
}

static int
fx_listener_init(void **lp, nni_url *url, nni_listener *l)
{
	return (fx_ep_init((fx_ep **) lp, url, nni_listener_sock(l), false));
}

static void
fx_ep_close(void *arg)
{
	fx_ep *  ep = arg;
	fx_pipe *p;

	nni_mtx_lock(&ep->mtx);
	ep->closed = true;
	fx_wait_close(&ep->w);
	nni_aio_close(ep->tick);
	if (ep->dconn != NULL) {
		(void) fabtx_conn_close(ep->dconn, 0);
		ep->dconn = NULL;
	}
	if (ep->lis != NULL) {
		fabtx_listener_close(ep->lis);
		ep->lis = NULL;
	}
	NNI_LIST_FOREACH (&ep->neg_pipes, p) {
		fx_pipe_close(p);
		fx_pipe_reap(p);
	}
	NNI_LIST_FOREACH (&ep->wait_pipes, p) {
		fx_pipe_close(p);
		fx_pipe_reap(p);
	}
	NNI_LIST_FOREACH (&ep->busy_pipes, p) {
		fx_pipe_close(p);
	}
	if (ep->user_aio != NULL) {
		nni_aio_finish_error(ep->user_aio, NNG_ECLOSED);
		ep->user_aio = NULL;
	}
	nni_mtx_unlock(&ep->mtx);
}

static void
fx_ep_fini(void *arg)
{
	fx_ep *ep = arg;
	nni_mtx_lock(&ep->mtx);
	ep->fini = true;
	if (ep->ref_cnt != 0) {
		nni_mtx_unlock(&ep->mtx);
		return;
	}
	nni_mtx_unlock(&ep->mtx);
	nni_aio_stop(ep->tick);
	fx_wait_fini(&ep->w, &ep->mtx);
	if (ep->dconn != NULL)
		(void) fabtx_conn_close(ep->dconn, 0);
	if (ep->lis != NULL)
		fabtx_listener_close(ep->lis);
	nni_aio_free(ep->tick);
	nni_strfree(ep->url);
	nni_mtx_fini(&ep->mtx);
	NNI_FREE_STRUCT(ep);
}

static void
fx_ep_cancel(nni_aio *aio, void *arg, int rv)
{
	fx_ep *ep = arg;
	nni_mtx_lock(&ep->mtx);
	if (aio == ep->user_aio) {
		ep->user_aio = NULL;
		if (ep->dconn != NULL) { /* a connect in progress ends */
			(void) fx_wait_target(&ep->w, -1);
			(void) fabtx_conn_close(ep->dconn, 0);
			ep->dconn = NULL;
		}
		nni_aio_finish_error(aio, rv);
	}
	nni_mtx_unlock(&ep->mtx);
}

/* a connection of ours is up (dialer) or accepted (listener) */
static void
fx_ep_new_conn(fx_ep *ep, fabtx_conn *c)
{
	fx_pipe *p;
	int      rv;
	if ((rv = fx_pipe_alloc(&p, c)) != 0) {
		(void) fabtx_conn_close(c, 0);
		if (ep->is_dialer && ep->user_aio != NULL) {
			nni_aio *aio = ep->user_aio;
			ep->user_aio = NULL;
			nni_aio_finish_error(aio, rv);
		}
		return;
	}
	fx_pipe_start(p, ep);
}

/* dialer: one step of the connect in progress (ep->mtx held) */
static void
fx_dial_step(fx_ep *ep)
{
	fabtx_conn *c = ep->dconn;
	int         rc;
	if (c == NULL || ep->closed)
		return;
	rc = fabtx_connect_poll(c);
	if (rc == -EAGAIN) {
		/* the fd may change while connecting: watch the current */
		(void) fx_wait_target(&ep->w, fabtx_conn_fd(c));
		fx_wait_arm(&ep->w);
		return;
	}
	(void) fx_wait_target(&ep->w, -1);
	ep->dconn = NULL;
	if (rc == 0) {
		fx_ep_new_conn(ep, c);
		return;
	}
	(void) fabtx_conn_close(c, 0);
	if (ep->user_aio != NULL) {
		nni_aio *aio = ep->user_aio;
		ep->user_aio = NULL;
		nni_aio_finish_error(aio, fx_err(rc));
	}
}

/* listener: take what fabtx has accepted (ep->mtx held) */
static void
fx_accept_step(fx_ep *ep)
{
	for (int i = 0; i < 64; i++) {
		fabtx_conn *c = NULL;
		int         rc;
		if (ep->closed || ep->lis == NULL)
			return;
		rc = fabtx_accept(ep->lis, &c, 0);
		if (rc == -EAGAIN)
			break;
		if (rc == 0) {
			fx_ep_new_conn(ep, c);
			continue;
		}
		if (rc == -ECONNABORTED)
			continue; /* that client's handshake failed: its fault */
		/* our own trouble (-EMFILE, -ENOMEM): back off a little */
		fx_ep_tick_start(ep, 10);
		return;
	}
	fx_wait_arm(&ep->w);
}

static void
fx_ep_cb(nni_posix_pfd *pfd, unsigned events, void *arg)
{
	fx_ep *ep = arg;
	NNI_ARG_UNUSED(pfd);
	NNI_ARG_UNUSED(events);
	nni_mtx_lock(&ep->mtx);
	if (ep->is_dialer)
		fx_dial_step(ep);
	else
		fx_accept_step(ep);
	nni_mtx_unlock(&ep->mtx);
}

static void
fx_ep_tick_cb(void *arg)
{
	fx_ep *ep = arg;
	nni_mtx_lock(&ep->mtx);
	ep->tick_on = false;
	if (nni_aio_result(ep->tick) != 0) {
		nni_mtx_unlock(&ep->mtx);
		return;
	}
	if (ep->is_dialer) {
		fx_dial_step(ep);
		/* a backend whose fd says nothing until the transport is
		 * up, and the handshake's deadline, need the tick */
		if (ep->dconn != NULL)
			fx_ep_tick_start(ep, FX_DIAL_TICK_MS);
	} else {
		fx_accept_step(ep);
	}
	nni_mtx_unlock(&ep->mtx);
}

static void
fx_ep_connect(void *arg, nni_aio *aio)
{
	fx_ep *     ep = arg;
	fabtx_conn *c  = NULL;
	int         rv;

	if (nni_aio_begin(aio) != 0)
		return;
	nni_mtx_lock(&ep->mtx);
	if (ep->closed) {
		nni_mtx_unlock(&ep->mtx);
		nni_aio_finish_error(aio, NNG_ECLOSED);
		return;
	}
	if (ep->user_aio != NULL || ep->dconn != NULL) {
		nni_mtx_unlock(&ep->mtx);
		nni_aio_finish_error(aio, NNG_EBUSY);
		return;
	}
	if ((rv = nni_aio_schedule(aio, fx_ep_cancel, ep)) != 0) {
		nni_mtx_unlock(&ep->mtx);
		nni_aio_finish_error(aio, rv);
		return;
	}
	ep->user_aio = aio;
	fx_ep_match(ep); /* a connection whose earlier connect gave up */
	if (ep->user_aio == NULL) {
		nni_mtx_unlock(&ep->mtx);
		return;
	}
	rv = fabtx_connect_start(ep->ctx, ep->url, &c);
	if (rv < 0) {
		/* known at once (nobody listens on shm://, bad provider) */
		ep->user_aio = NULL;
		nni_mtx_unlock(&ep->mtx);
		nni_aio_finish_error(aio,
		    rv == -EINVAL ? NNG_EADDRINVAL : fx_err(rv));
		return;
	}
	ep->dconn = c;
	fx_dial_step(ep);
	if (ep->dconn != NULL)
		fx_ep_tick_start(ep, FX_DIAL_TICK_MS);
	nni_mtx_unlock(&ep->mtx);
}

static int
fx_ep_bind(void *arg)
{
	fx_ep *ep = arg;
	int    rc;

	nni_mtx_lock(&ep->mtx);
	if (ep->closed) {
		nni_mtx_unlock(&ep->mtx);
		return (NNG_ECLOSED);
	}
	if (ep->lis != NULL) {
		nni_mtx_unlock(&ep->mtx);
		return (NNG_EBUSY);
	}
	rc = fabtx_listen(ep->ctx, ep->url, &ep->lis);
	if (rc == 0) {
		rc = fabtx_listener_fd(ep->lis);
		if (rc >= 0)
			rc = fx_wait_target(&ep->w, rc) == 0 ? 0 : -ENOMEM;
		if (rc < 0) {
			fabtx_listener_close(ep->lis);
			ep->lis = NULL;
		}
	}
	if (rc < 0) {
		nni_mtx_unlock(&ep->mtx);
		return (rc == -EINVAL ? NNG_EADDRINVAL : fx_err(rc));
	}
	if (fabtx_listener_url(ep->lis, ep->bound, sizeof(ep->bound)) <= 0)
		ep->bound[0] = '\0';
	fx_url_sockaddr(ep->bound[0] ? ep->bound : ep->url, &ep->sa);
	/* clients are taken (and their SP headers exchanged) from now on,
	 * as a kernel's listen queue would */
	fx_accept_step(ep);
	nni_mtx_unlock(&ep->mtx);
	return (0);
}

static void
fx_ep_accept(void *arg, nni_aio *aio)
{
	fx_ep *ep = arg;
	int    rv;

	if (nni_aio_begin(aio) != 0)
		return;
	nni_mtx_lock(&ep->mtx);
	if (ep->closed) {
		nni_mtx_unlock(&ep->mtx);
		nni_aio_finish_error(aio, NNG_ECLOSED);
		return;
	}
	if (ep->user_aio != NULL) {
		nni_mtx_unlock(&ep->mtx);
		nni_aio_finish_error(aio, NNG_EBUSY);
		return;
	}
	if ((rv = nni_aio_schedule(aio, fx_ep_cancel, ep)) != 0) {
		nni_mtx_unlock(&ep->mtx);
		nni_aio_finish_error(aio, rv);
		return;
	}
	ep->user_aio = aio;
	fx_ep_match(ep);
	nni_mtx_unlock(&ep->mtx);
}

static int
fx_ep_get_recvmaxsz(void *arg, void *v, size_t *szp, nni_type t)
{
	fx_ep *ep = arg;
	int    rv;
	nni_mtx_lock(&ep->mtx);
	rv = nni_copyout_size(ep->rcv_max, v, szp, t);
	nni_mtx_unlock(&ep->mtx);
	return (rv);
}

static int
fx_ep_set_recvmaxsz(void *arg, const void *v, size_t sz, nni_type t)
{
	fx_ep * ep = arg;
	size_t  val;
	int     rv;
	fx_pipe *p;
	if ((rv = nni_copyin_size(&val, v, sz, 0, NNI_MAXSZ, t)) != 0)
		return (rv);
	nni_mtx_lock(&ep->mtx);
	ep->rcv_max = val;
	NNI_LIST_FOREACH (&ep->neg_pipes, p) {
		nni_mtx_lock(&p->mtx);
		p->rcv_max = val;
		nni_mtx_unlock(&p->mtx);
	}
	NNI_LIST_FOREACH (&ep->wait_pipes, p) {
		nni_mtx_lock(&p->mtx);
		p->rcv_max = val;
		nni_mtx_unlock(&p->mtx);
	}
	NNI_LIST_FOREACH (&ep->busy_pipes, p) {
		nni_mtx_lock(&p->mtx);
		p->rcv_max = val;
		nni_mtx_unlock(&p->mtx);
	}
	nni_mtx_unlock(&ep->mtx);
	return (0);
}

static int
fx_ep_get_addr(void *arg, void *v, size_t *szp, nni_type t)
{
	fx_ep *      ep = arg;
	nng_sockaddr sa;
	nni_mtx_lock(&ep->mtx);
	sa = ep->sa;
	nni_mtx_unlock(&ep->mtx);
	return (nni_copyout_sockaddr(&sa, v, szp, t));
}

static int
fx_ep_get_url(void *arg, void *v, size_t *szp, nni_type t)
{
	fx_ep *ep = arg;
	char   url[512];
	nni_mtx_lock(&ep->mtx);
	(void) snprintf(
	    url, sizeof(url), "%s", ep->bound[0] ? ep->bound : ep->url);
	nni_mtx_unlock(&ep->mtx);
	return (nni_copyout_str(url, v, szp, t));
}

static const nni_option fx_dialer_options[] = {
	{
	    .o_name = NNG_OPT_RECVMAXSZ,
	    .o_get  = fx_ep_get_recvmaxsz,
	    .o_set  = fx_ep_set_recvmaxsz,
	},
	{ .o_name = NNG_OPT_REMADDR, .o_get = fx_ep_get_addr },
	{ .o_name = NULL },
};

static const nni_option fx_listener_options[] = {
	{
	    .o_name = NNG_OPT_RECVMAXSZ,
	    .o_get  = fx_ep_get_recvmaxsz,
	    .o_set  = fx_ep_set_recvmaxsz,
	},
	{ .o_name = NNG_OPT_LOCADDR, .o_get = fx_ep_get_addr },
	/* ofi://HOST:0 binds a port the system picks: the URL says which */
	{ .o_name = NNG_OPT_URL, .o_get = fx_ep_get_url },
	{ .o_name = NULL },
};

static int
fx_dialer_getopt(void *arg, const char *name, void *buf, size_t *szp, nni_type t)
{
	return (nni_getopt(fx_dialer_options, name, arg, buf, szp, t));
}

static int
fx_dialer_setopt(
    void *arg, const char *name, const void *buf, size_t sz, nni_type t)
{
	return (nni_setopt(fx_dialer_options, name, arg, buf, sz, t));
}

static int
fx_listener_getopt(
    void *arg, const char *name, void *buf, size_t *szp, nni_type t)
{
	return (nni_getopt(fx_listener_options, name, arg, buf, szp, t));
}

static int
fx_listener_setopt(
    void *arg, const char *name, const void *buf, size_t sz, nni_type t)
{
	return (nni_setopt(fx_listener_options, name, arg, buf, sz, t));
}

/* ------------------------------------------------------------ transports */
static void
fx_tran_init(void)
{
}

static void
fx_tran_fini(void)
{
	/* nng_fini: every endpoint and pipe is gone */
	fx_spin_fini();
	pthread_mutex_lock(&fx_ctx_lk);
	if (fx_ctx != NULL && fx_ctx_pid == getpid())
		fabtx_ctx_destroy(fx_ctx);
	fx_ctx = NULL;
	pthread_mutex_unlock(&fx_ctx_lk);
}

static nni_sp_pipe_ops fx_pipe_ops = {
	.p_init   = fx_pipe_init,
	.p_fini   = fx_pipe_fini,
	.p_stop   = fx_pipe_stop,
	.p_send   = fx_pipe_send,
	.p_recv   = fx_pipe_recv,
	.p_close  = fx_pipe_close,
	.p_peer   = fx_pipe_peer,
	.p_getopt = fx_pipe_getopt,
};

static nni_sp_dialer_ops fx_dialer_ops = {
	.d_init    = fx_dialer_init,
	.d_fini    = fx_ep_fini,
	.d_connect = fx_ep_connect,
	.d_close   = fx_ep_close,
	.d_getopt  = fx_dialer_getopt,
	.d_setopt  = fx_dialer_setopt,
};

static nni_sp_listener_ops fx_listener_ops = {
	.l_init   = fx_listener_init,
	.l_fini   = fx_ep_fini,
	.l_bind   = fx_ep_bind,
	.l_accept = fx_ep_accept,
	.l_close  = fx_ep_close,
	.l_getopt = fx_listener_getopt,
	.l_setopt = fx_listener_setopt,
};

#define FX_TRAN(name, scheme)                                    \
	static nni_sp_tran name = {                              \
		.tran_scheme   = scheme,                         \
		.tran_dialer   = &fx_dialer_ops,                 \
		.tran_listener = &fx_listener_ops,               \
		.tran_pipe     = &fx_pipe_ops,                   \
		.tran_init     = fx_tran_init,                   \
		.tran_fini     = fx_tran_fini,                   \
	}

FX_TRAN(fx_tran_shm, "shm");
#if FABTX_NNG_HAVE_OFI
FX_TRAN(fx_tran_ofi, "ofi");
#endif
#if FABTX_NNG_HAVE_RIO
FX_TRAN(fx_tran_rio, "rio");
#endif
#if FABTX_NNG_HAVE_SCIF
FX_TRAN(fx_tran_scif, "scif");
#endif

void nni_sp_fabtx_register(void);

void
nni_sp_fabtx_register(void)
{
	nni_sp_tran_register(&fx_tran_shm);
#if FABTX_NNG_HAVE_OFI
	nni_sp_tran_register(&fx_tran_ofi);
#endif
#if FABTX_NNG_HAVE_RIO
	nni_sp_tran_register(&fx_tran_rio);
#endif
#if FABTX_NNG_HAVE_SCIF
	nni_sp_tran_register(&fx_tran_scif);
#endif
}
