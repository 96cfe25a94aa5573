/* SPDX-License-Identifier: MIT */
/* ftx.c -- the transports shm://, ofi://, rio://, scif:// for nanomsg
 * (entries of nanomsg's transport table, src/core/global.c), the bound
 * and the connecting endpoint, and the process-wide fabtx context.  See
 * ftx.h and docs/nanomsg.md. */
#include "ftx.h"
#include "../../fabtx_nn.h"

#include "../utils/backoff.h"
#include "../../nn.h"
#include "../../utils/err.h"
#include "../../utils/cont.h"
#include "../../utils/alloc.h"
#include "../../utils/fast.h"
#include "../../utils/attr.h"
#include "../../utils/mutex.h"
#include "../../utils/chunk.h"

#include <errno.h>
#include <string.h>

/* ------------------------------------------------- the fabtx context -- */

static struct nn_mutex nn_ftx_ctx_sync;
static fabtx_ctx *nn_ftx_ctx_shared;

static void nn_ftx_init (void)
{
    nn_mutex_init (&nn_ftx_ctx_sync);
}

/*  nanomsg's last socket is gone (every endpoint has stopped, so every
    connection is closed). */
static void nn_ftx_term (void)
{
    if (nn_ftx_ctx_shared)
        fabtx_ctx_destroy (nn_ftx_ctx_shared);
    nn_ftx_ctx_shared = NULL;
    nn_mutex_term (&nn_ftx_ctx_sync);
}

/*  fabtx allocates nanomsg chunks: a large message fabtx has assembled
    (fabtx_recv_msg) becomes a message's body as it is (ftx_conn.c). */
static void *nn_ftx_alloc (size_t size, NN_UNUSED void *user)
{
    void *p;
    if (nn_chunk_alloc (size, 0, &p) < 0)
        return NULL;
    return p;
}

static void nn_ftx_free (void *p, NN_UNUSED void *user)
{
    if (p)
        nn_chunk_free (p);
}

fabtx_ctx *nn_ftx_ctx (int *err)
{
    fabtx_ctx *ctx = NULL;
    fabtx_ctx_config cfg;
    int rc = 0;

    nn_mutex_lock (&nn_ftx_ctx_sync);
    if (!nn_ftx_ctx_shared) {
        cfg = fabtx_ctx_config_init ();
        cfg.allocator.alloc = nn_ftx_alloc;
        cfg.allocator.free = nn_ftx_free;
        cfg.allocator.user = NULL;
        rc = fabtx_ctx_create (&ctx, &cfg);
        /*  A backend that cannot be added takes only its own scheme
            away (fabtx then refuses its URLs); shm:// stays. */
#if FTX_HAVE_OFI
        if (rc == 0)
            (void) fabtx_ctx_add_backend (ctx, fabtx_ofi_backend ());
#endif
#if FTX_HAVE_RIO
        if (rc == 0)
            (void) fabtx_ctx_add_backend (ctx, fabtx_rio_backend ());
#endif
#if FTX_HAVE_SCIF
        if (rc == 0)
            (void) fabtx_ctx_add_backend (ctx, fabtx_scif_backend ());
#endif
        if (rc < 0) {
            if (ctx)
                fabtx_ctx_destroy (ctx);
            ctx = NULL;
        }
        nn_ftx_ctx_shared = ctx;
    }
    ctx = nn_ftx_ctx_shared;
    nn_mutex_unlock (&nn_ftx_ctx_sync);
    if (!ctx)
        *err = rc < 0 ? rc : -ENOMEM;
    return ctx;
}

int nn_ftx_url (struct nn_ep *ep, const char *scheme, char *buf, size_t cap)
{
    const char *addr = nn_ep_getaddr (ep);
    size_t sl = strlen (scheme);
    size_t al = strlen (addr);
    if (sl + 3 + al + 1 > cap)
        return -ENAMETOOLONG;
    memcpy (buf, scheme, sl);
    memcpy (buf + sl, "://", 3);
    memcpy (buf + sl + 3, addr, al + 1);
    return 0;
}

/*  Errors of a connect that say the URL itself is wrong, or that this
    process cannot use it at all: nn_connect reports them at once.  Any
    other failure (nobody listening yet, a peer that went away) is what
    reconnecting is for. */
static int nn_ftx_local_error (int rc)
{
    switch (-rc) {
    case ECONNREFUSED:
    case ECONNRESET:
    case ECONNABORTED:
    case ETIMEDOUT:
    case EAGAIN:
    case EHOSTUNREACH:
    case ENETUNREACH:
    case ENOENT:
    case EPIPE:
    case ESHUTDOWN:
    case EPROTO:
    case ENOBUFS:
    case ENOMEM:
    case EMFILE:
    case ENFILE:
    case ENOSPC:
        return 0;
    default:
        return 1;
    }
}

/* ------------------------------------------------- the bound endpoint -- */

#define NN_FTX_BOUND_STATE_IDLE 1
#define NN_FTX_BOUND_STATE_ACTIVE 2
#define NN_FTX_BOUND_STATE_STOPPING_LISTENER 3
#define NN_FTX_BOUND_STATE_STOPPING_CONNS 4

#define NN_FTX_BOUND_SRC_FD 1
#define NN_FTX_BOUND_SRC_TASK_START 2
#define NN_FTX_BOUND_SRC_TASK_STOP 3
#define NN_FTX_BOUND_SRC_CONN 4

struct nn_ftx_bound {
    struct nn_fsm fsm;
    int state;
    struct nn_ep *ep;
    struct nn_worker *worker;
    fabtx_listener *listener;
    int fd;
    int fd_added;
    struct nn_worker_fd wfd;
    struct nn_worker_task task_start;
    struct nn_worker_task task_stop;
    struct nn_list conns;
};

static void nn_ftx_bound_stop (void *self);
static void nn_ftx_bound_destroy (void *self);
static const struct nn_ep_ops nn_ftx_bound_ep_ops = {
    nn_ftx_bound_stop,
    nn_ftx_bound_destroy
};

static void nn_ftx_bound_handler (struct nn_fsm *self, int src, int type,
    void *srcptr);
static void nn_ftx_bound_shutdown (struct nn_fsm *self, int src, int type,
    void *srcptr);

int nn_ftx_bound_create (struct nn_ep *ep, const char *scheme)
{
    struct nn_ftx_bound *self;
    char url [NN_SOCKADDR_MAX + 16];
    fabtx_ctx *ctx;
    fabtx_listener *l = NULL;
    int rc = 0;
    int fd;

    rc = nn_ftx_url (ep, scheme, url, sizeof (url));
    if (rc < 0)
        return rc;
    ctx = nn_ftx_ctx (&rc);
    if (!ctx)
        return rc;
    rc = fabtx_listen (ctx, url, &l);
    if (rc < 0)
        return rc;
    fd = fabtx_listener_fd (l);
    if (fd < 0) {
        fabtx_listener_close (l);
        return fd;
    }

    self = nn_alloc (sizeof (struct nn_ftx_bound), "ftx bound");
    alloc_assert (self);
    self->ep = ep;
    nn_ep_tran_setup (ep, &nn_ftx_bound_ep_ops, self);
    nn_fsm_init_root (&self->fsm, nn_ftx_bound_handler,
        nn_ftx_bound_shutdown, nn_ep_getctx (ep));
    self->state = NN_FTX_BOUND_STATE_IDLE;
    self->worker = nn_fsm_choose_worker (&self->fsm);
    self->listener = l;
    self->fd = fd;
    self->fd_added = 0;
    nn_worker_fd_init (&self->wfd, NN_FTX_BOUND_SRC_FD, &self->fsm);
    nn_worker_task_init (&self->task_start, NN_FTX_BOUND_SRC_TASK_START,
        &self->fsm);
    nn_worker_task_init (&self->task_stop, NN_FTX_BOUND_SRC_TASK_STOP,
        &self->fsm);
    nn_list_init (&self->conns);
    nn_fsm_start (&self->fsm);
    nn_worker_execute (self->worker, &self->task_start);
    return 0;
}

static void nn_ftx_bound_stop (void *self)
{
    struct nn_ftx_bound *b = self;
    nn_fsm_stop (&b->fsm);
}

static void nn_ftx_bound_destroy (void *self)
{
    struct nn_ftx_bound *b = self;

    nn_assert_state (b, NN_FTX_BOUND_STATE_IDLE);
    nn_assert (b->listener == NULL);
    nn_list_term (&b->conns);
    nn_worker_cancel (b->worker, &b->task_stop);
    nn_worker_cancel (b->worker, &b->task_start);
    nn_worker_task_term (&b->task_stop);
    nn_worker_task_term (&b->task_start);
    nn_worker_fd_term (&b->wfd);
    nn_fsm_term (&b->fsm);
    nn_free (b);
}

/*  Worker thread: take every connection that is ready. */
static void nn_ftx_bound_accept (struct nn_ftx_bound *self)
{
    struct nn_ftx_conn *c;
    fabtx_conn *conn;
    int rc;
    int i;

    for (i = 0; i < 64; i++) {
        conn = NULL;
        rc = fabtx_accept (self->listener, &conn, 0);
        if (rc == -EAGAIN)
            return;
        if (rc < 0) {
            /*  -ECONNABORTED: a client's handshake failed (its fault);
                anything else is the listener's own trouble */
            nn_ep_stat_increment (self->ep, NN_STAT_ACCEPT_ERRORS, 1);
            nn_ep_set_error (self->ep, -rc);
            if (rc == -ECONNABORTED)
                continue;
            return;
        }
        c = nn_alloc (sizeof (struct nn_ftx_conn), "ftx conn");
        alloc_assert (c);
        nn_ftx_conn_init (c, NN_FTX_BOUND_SRC_CONN, self->ep, &self->fsm);
        nn_list_insert (&self->conns, &c->item, nn_list_end (&self->conns));
        nn_ep_stat_increment (self->ep, NN_STAT_ACCEPTED_CONNECTIONS, 1);
        nn_ftx_conn_start (c, conn, 0);
    }
}

static void nn_ftx_bound_free_conn (struct nn_ftx_bound *self,
    struct nn_ftx_conn *c)
{
    nn_list_erase (&self->conns, &c->item);
    nn_ftx_conn_term (c);
    nn_free (c);
}

static void nn_ftx_bound_shutdown (struct nn_fsm *self, int src, int type,
    void *srcptr)
{
    struct nn_ftx_bound *b = nn_cont (self, struct nn_ftx_bound, fsm);
    struct nn_list_item *it;
    struct nn_ftx_conn *c;

    if (nn_slow (src == NN_FSM_ACTION && type == NN_FSM_STOP)) {
        b->state = NN_FTX_BOUND_STATE_STOPPING_LISTENER;
        nn_worker_execute (b->worker, &b->task_stop);
        return;
    }
    if (src == NN_FTX_BOUND_SRC_CONN) {
        c = (struct nn_ftx_conn *) srcptr;
        if (type == NN_FTX_CONN_ERROR) {
            nn_ftx_conn_stop (c);
            return;
        }
        if (type == NN_FTX_CONN_STOPPED)
            nn_ftx_bound_free_conn (b, c);
        /*  NN_FTX_CONN_UP: nothing */
        if (b->state == NN_FTX_BOUND_STATE_STOPPING_CONNS)
            goto conns_stopping;
        return;
    }
    if (b->state == NN_FTX_BOUND_STATE_STOPPING_LISTENER) {
        if (src != NN_FTX_BOUND_SRC_TASK_STOP)
            return; /*  fd or start task still under way */
        if (b->fd_added)
            nn_worker_rm_fd (b->worker, &b->wfd);
        b->fd_added = 0;
        fabtx_listener_close (b->listener);
        b->listener = NULL;
        for (it = nn_list_begin (&b->conns); it != nn_list_end (&b->conns);
              it = nn_list_next (&b->conns, it)) {
            c = nn_cont (it, struct nn_ftx_conn, item);
            nn_ftx_conn_stop (c);
        }
        b->state = NN_FTX_BOUND_STATE_STOPPING_CONNS;
        goto conns_stopping;
    }
    if (b->state == NN_FTX_BOUND_STATE_STOPPING_CONNS)
        return;
    nn_fsm_bad_state (b->state, src, type);

conns_stopping:
    /*  A connection that never started (or has stopped and whose event
        is processed) is idle; the others report STOPPED. */
    for (it = nn_list_begin (&b->conns); it != nn_list_end (&b->conns);) {
        c = nn_cont (it, struct nn_ftx_conn, item);
        it = nn_list_next (&b->conns, it);
        if (nn_ftx_conn_isidle (c))
            nn_ftx_bound_free_conn (b, c);
    }
    if (nn_list_empty (&b->conns)) {
        b->state = NN_FTX_BOUND_STATE_IDLE;
        nn_fsm_stopped_noevent (&b->fsm);
        nn_ep_stopped (b->ep);
    }
}

static void nn_ftx_bound_handler (struct nn_fsm *self, int src, int type,
    void *srcptr)
{
    struct nn_ftx_bound *b = nn_cont (self, struct nn_ftx_bound, fsm);
    struct nn_ftx_conn *c;

    switch (b->state) {
    case NN_FTX_BOUND_STATE_IDLE:
        nn_assert (src == NN_FSM_ACTION && type == NN_FSM_START);
        b->state = NN_FTX_BOUND_STATE_ACTIVE;
        return;
    case NN_FTX_BOUND_STATE_ACTIVE:
        switch (src) {
        case NN_FTX_BOUND_SRC_TASK_START:
            nn_worker_add_fd (b->worker, b->fd, &b->wfd);
            nn_worker_set_in (b->worker, &b->wfd);
            b->fd_added = 1;
            nn_ftx_bound_accept (b);
            return;
        case NN_FTX_BOUND_SRC_FD:
            nn_ftx_bound_accept (b);
            return;
        case NN_FTX_BOUND_SRC_CONN:
            c = (struct nn_ftx_conn *) srcptr;
            switch (type) {
            case NN_FTX_CONN_UP:
                return;
            case NN_FTX_CONN_ERROR:
                nn_ep_stat_increment (b->ep, NN_STAT_BROKEN_CONNECTIONS, 1);
                nn_ftx_conn_stop (c);
                return;
            case NN_FTX_CONN_STOPPED:
                nn_ftx_bound_free_conn (b, c);
                return;
            default:
                nn_fsm_bad_action (b->state, src, type);
            }
        default:
            nn_fsm_bad_source (b->state, src, type);
        }
    default:
        nn_fsm_bad_state (b->state, src, type);
    }
}

/* -------------------------------------------- the connecting endpoint -- */

#define NN_FTX_CNCT_STATE_IDLE 1
#define NN_FTX_CNCT_STATE_ACTIVE 2
#define NN_FTX_CNCT_STATE_STOPPING_CONN 3
#define NN_FTX_CNCT_STATE_WAITING 4
#define NN_FTX_CNCT_STATE_STOPPING_BACKOFF 5
#define NN_FTX_CNCT_STATE_STOPPING_CONN_FINAL 6
#define NN_FTX_CNCT_STATE_STOPPING 7

#define NN_FTX_CNCT_SRC_CONN 1
#define NN_FTX_CNCT_SRC_RECONNECT_TIMER 2

struct nn_ftx_cnct {
    struct nn_fsm fsm;
    int state;
    struct nn_ep *ep;
    const char *scheme;
    /*  The first attempt, begun by nn_connect itself, or its error. */
    fabtx_conn *first;
    int first_rc;
    struct nn_backoff retry;
    struct nn_ftx_conn conn;
};

static void nn_ftx_cnct_stop (void *self);
static void nn_ftx_cnct_destroy (void *self);
static const struct nn_ep_ops nn_ftx_cnct_ep_ops = {
    nn_ftx_cnct_stop,
    nn_ftx_cnct_destroy
};

static void nn_ftx_cnct_handler (struct nn_fsm *self, int src, int type,
    void *srcptr);
static void nn_ftx_cnct_shutdown (struct nn_fsm *self, int src, int type,
    void *srcptr);

/*  0 with *out a connection under way; < 0: the error. */
static int nn_ftx_cnct_begin (struct nn_ep *ep, const char *scheme,
    fabtx_conn **out)
{
    char url [NN_SOCKADDR_MAX + 16];
    fabtx_ctx *ctx;
    int rc = 0;

    *out = NULL;
    rc = nn_ftx_url (ep, scheme, url, sizeof (url));
    if (rc < 0)
        return rc;
    ctx = nn_ftx_ctx (&rc);
    if (!ctx)
        return rc;
    rc = fabtx_connect_start (ctx, url, out);
    if (rc < 0)
        *out = NULL;
    return rc;
}

int nn_ftx_cnct_create (struct nn_ep *ep, const char *scheme)
{
    struct nn_ftx_cnct *self;
    fabtx_conn *first = NULL;
    int reconnect_ivl;
    int reconnect_ivl_max;
    size_t sz;
    int rc;

    /*  A wrong URL (or one this build cannot serve) fails nn_connect at
        once, with the error fabtx found; nobody listening is no error. */
    rc = nn_ftx_cnct_begin (ep, scheme, &first);
    if (rc == 0) {
        /*  Some local errors (ofi: an unknown provider) show only once
            the connect goes on: one step of it now, which never waits. */
        rc = fabtx_connect_poll (first);
        if (rc < 0 && rc != -EAGAIN) {
            fabtx_conn_close (first, 0);
            first = NULL;
        }
        else
            rc = 0;
    }
    if (rc < 0 && nn_ftx_local_error (rc))
        return rc;

    self = nn_alloc (sizeof (struct nn_ftx_cnct), "ftx cnct");
    alloc_assert (self);
    self->ep = ep;
    self->scheme = scheme;
    self->first = first;
    self->first_rc = rc;
    nn_ep_tran_setup (ep, &nn_ftx_cnct_ep_ops, self);
    nn_fsm_init_root (&self->fsm, nn_ftx_cnct_handler, nn_ftx_cnct_shutdown,
        nn_ep_getctx (ep));
    self->state = NN_FTX_CNCT_STATE_IDLE;
    sz = sizeof (reconnect_ivl);
    nn_ep_getopt (ep, NN_SOL_SOCKET, NN_RECONNECT_IVL, &reconnect_ivl, &sz);
    nn_assert (sz == sizeof (reconnect_ivl));
    sz = sizeof (reconnect_ivl_max);
    nn_ep_getopt (ep, NN_SOL_SOCKET, NN_RECONNECT_IVL_MAX,
        &reconnect_ivl_max, &sz);
    nn_assert (sz == sizeof (reconnect_ivl_max));
    if (reconnect_ivl_max == 0)
        reconnect_ivl_max = reconnect_ivl;
    nn_backoff_init (&self->retry, NN_FTX_CNCT_SRC_RECONNECT_TIMER,
        reconnect_ivl, reconnect_ivl_max, &self->fsm);
    nn_ftx_conn_init (&self->conn, NN_FTX_CNCT_SRC_CONN, ep, &self->fsm);
    nn_fsm_start (&self->fsm);
    return 0;
}

static void nn_ftx_cnct_stop (void *self)
{
    struct nn_ftx_cnct *c = self;
    nn_fsm_stop (&c->fsm);
}

static void nn_ftx_cnct_destroy (void *self)
{
    struct nn_ftx_cnct *c = self;

    nn_assert (c->first == NULL);
    nn_ftx_conn_term (&c->conn);
    nn_backoff_term (&c->retry);
    nn_fsm_term (&c->fsm);
    nn_free (c);
}

static void nn_ftx_cnct_shutdown (struct nn_fsm *self, int src, int type,
    NN_UNUSED void *srcptr)
{
    struct nn_ftx_cnct *c = nn_cont (self, struct nn_ftx_cnct, fsm);

    if (nn_slow (src == NN_FSM_ACTION && type == NN_FSM_STOP)) {
        if (c->first) {
            fabtx_conn_close (c->first, 0);
            c->first = NULL;
        }
        if (!nn_ftx_conn_isidle (&c->conn)) {
            nn_ep_stat_increment (c->ep, NN_STAT_DROPPED_CONNECTIONS, 1);
            nn_ftx_conn_stop (&c->conn);
        }
        c->state = NN_FTX_CNCT_STATE_STOPPING_CONN_FINAL;
    }
    if (nn_slow (c->state == NN_FTX_CNCT_STATE_STOPPING_CONN_FINAL)) {
        if (src == NN_FTX_CNCT_SRC_CONN && type == NN_FTX_CONN_ERROR)
            nn_ftx_conn_stop (&c->conn); /*  already stopping: no-op */
        if (!nn_ftx_conn_isidle (&c->conn))
            return;
        nn_backoff_stop (&c->retry);
        c->state = NN_FTX_CNCT_STATE_STOPPING;
    }
    if (nn_slow (c->state == NN_FTX_CNCT_STATE_STOPPING)) {
        if (!nn_backoff_isidle (&c->retry))
            return;
        c->state = NN_FTX_CNCT_STATE_IDLE;
        nn_fsm_stopped_noevent (&c->fsm);
        nn_ep_stopped (c->ep);
        return;
    }
    nn_fsm_bad_state (c->state, src, type);
}

static void nn_ftx_cnct_start_connecting (struct nn_ftx_cnct *self)
{
    fabtx_conn *conn;
    int rc;

    if (self->first || self->first_rc < 0) {
        conn = self->first;
        rc = self->first_rc;
        self->first = NULL;
        self->first_rc = 0;
    }
    else
        rc = nn_ftx_cnct_begin (self->ep, self->scheme, &conn);
    if (rc < 0) {
        nn_ep_set_error (self->ep, -rc);
        nn_ep_stat_increment (self->ep, NN_STAT_CONNECT_ERRORS, 1);
        nn_backoff_start (&self->retry);
        self->state = NN_FTX_CNCT_STATE_WAITING;
        return;
    }
    nn_ep_stat_increment (self->ep, NN_STAT_INPROGRESS_CONNECTIONS, 1);
    nn_ftx_conn_start (&self->conn, conn, 1);
    self->state = NN_FTX_CNCT_STATE_ACTIVE;
}

static void nn_ftx_cnct_handler (struct nn_fsm *self, int src, int type,
    NN_UNUSED void *srcptr)
{
    struct nn_ftx_cnct *c = nn_cont (self, struct nn_ftx_cnct, fsm);

    switch (c->state) {
    case NN_FTX_CNCT_STATE_IDLE:
        nn_assert (src == NN_FSM_ACTION && type == NN_FSM_START);
        nn_ftx_cnct_start_connecting (c);
        return;

    case NN_FTX_CNCT_STATE_ACTIVE:
        nn_assert (src == NN_FTX_CNCT_SRC_CONN);
        switch (type) {
        case NN_FTX_CONN_UP:
            nn_ep_stat_increment (c->ep, NN_STAT_INPROGRESS_CONNECTIONS, -1);
            nn_ep_stat_increment (c->ep, NN_STAT_ESTABLISHED_CONNECTIONS, 1);
            nn_ep_clear_error (c->ep);
            nn_backoff_reset (&c->retry);
            return;
        case NN_FTX_CONN_ERROR:
            nn_ep_stat_increment (c->ep, NN_STAT_BROKEN_CONNECTIONS, 1);
            nn_ftx_conn_stop (&c->conn);
            c->state = NN_FTX_CNCT_STATE_STOPPING_CONN;
            return;
        default:
            nn_fsm_bad_action (c->state, src, type);
        }

    case NN_FTX_CNCT_STATE_STOPPING_CONN:
        nn_assert (src == NN_FTX_CNCT_SRC_CONN);
        if (type != NN_FTX_CONN_STOPPED)
            return;
        nn_backoff_start (&c->retry);
        c->state = NN_FTX_CNCT_STATE_WAITING;
        return;

    case NN_FTX_CNCT_STATE_WAITING:
        nn_assert (src == NN_FTX_CNCT_SRC_RECONNECT_TIMER);
        nn_assert (type == NN_BACKOFF_TIMEOUT);
        nn_backoff_stop (&c->retry);
        c->state = NN_FTX_CNCT_STATE_STOPPING_BACKOFF;
        return;

    case NN_FTX_CNCT_STATE_STOPPING_BACKOFF:
        nn_assert (src == NN_FTX_CNCT_SRC_RECONNECT_TIMER);
        nn_assert (type == NN_BACKOFF_STOPPED);
        nn_ftx_cnct_start_connecting (c);
        return;

    default:
        nn_fsm_bad_state (c->state, src, type);
    }
}

/* ---------------------------------------------------- the transports -- */

#define NN_FTX_TRANSPORT(name, id, scheme, init, term)                       \
    static int nn_##name##_bind (struct nn_ep *ep)                           \
    {                                                                        \
        return nn_ftx_bound_create (ep, scheme);                             \
    }                                                                        \
    static int nn_##name##_connect (struct nn_ep *ep)                        \
    {                                                                        \
        return nn_ftx_cnct_create (ep, scheme);                              \
    }                                                                        \
    struct nn_transport nn_##name = {                                        \
        scheme, id, init, term, nn_##name##_bind, nn_##name##_connect, NULL  \
    };

/*  shm:// is always there and carries the context's life; the others are
    in the table only when their backend was built in. */
NN_FTX_TRANSPORT (shm, NN_SHM, "shm", nn_ftx_init, nn_ftx_term)
#if FTX_HAVE_OFI
NN_FTX_TRANSPORT (ofi, NN_OFI, "ofi", NULL, NULL)
#endif
#if FTX_HAVE_RIO
NN_FTX_TRANSPORT (rio, NN_RIO, "rio", NULL, NULL)
#endif
#if FTX_HAVE_SCIF
NN_FTX_TRANSPORT (scif, NN_SCIF, "scif", NULL, NULL)
#endif
