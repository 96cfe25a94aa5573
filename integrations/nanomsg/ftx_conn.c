/* SPDX-License-Identifier: MIT */
/* ftx_conn.c -- one fabtx connection as a nanomsg pipe (see ftx.h).
 *
 * Threads: the machine runs in the socket's context (its lock held), from
 * the worker thread (fd, timer and task events) and from user threads
 * (the pipe's send and recv).  fabtx calls happen in both, never at once
 * (the context lock); the poller is touched only in the worker thread, as
 * nanomsg's own usock does. */
#include "ftx.h"

#include "../../nn.h"
#include "../../aio/ctx.h"
#include "../../utils/err.h"
#include "../../utils/cont.h"
#include "../../utils/fast.h"
#include "../../utils/attr.h"
#include "../../utils/wire.h"
#include "../../utils/chunk.h"

#include <stdlib.h>
#include <string.h>

#define NN_FTX_CONN_STATE_IDLE 1
#define NN_FTX_CONN_STATE_CONNECTING 2
#define NN_FTX_CONN_STATE_PROTOHDR 3
#define NN_FTX_CONN_STATE_ACTIVE 4
#define NN_FTX_CONN_STATE_DONE 5
#define NN_FTX_CONN_STATE_STOPPING 6

#define NN_FTX_CONN_SRC_FD 1
#define NN_FTX_CONN_SRC_TASK_START 2
#define NN_FTX_CONN_SRC_TASK_STOP 3
#define NN_FTX_CONN_SRC_TASK_RESUME 4
#define NN_FTX_CONN_SRC_FAIL 5
/*  nn_worker_timer events come with source -1. */
#define NN_FTX_CONN_SRC_TICK -1

#define NN_FTX_IN_NONE 0
#define NN_FTX_IN_PARTIAL 1
#define NN_FTX_IN_COMPLETE 2

/*  Period of the look at slow sources the fd does not cover (keepalive,
    a silent peer, the handshake's deadline). */
#define NN_FTX_TICK_MS 500
/*  Time for the SP header exchange once the fabtx connection is up. */
#define NN_FTX_PROTOHDR_MS 5000

static int nn_ftx_conn_send (struct nn_pipebase *self, struct nn_msg *msg);
static int nn_ftx_conn_recv (struct nn_pipebase *self, struct nn_msg *msg);
static const struct nn_pipebase_vfptr nn_ftx_conn_pipebase_vfptr = {
    nn_ftx_conn_send,
    nn_ftx_conn_recv
};

static void nn_ftx_conn_handler (struct nn_fsm *self, int src, int type,
    void *srcptr);
static void nn_ftx_conn_shutdown (struct nn_fsm *self, int src, int type,
    void *srcptr);
static void nn_ftx_conn_step (struct nn_ftx_conn *self);
static void nn_ftx_conn_pump (struct nn_ftx_conn *self, int in_worker);

/*  The tick's period: NN_FTX_TICK_MS, or the environment variable of
    that name (a test sets it very long: then nothing the fd should have
    woken can have been rescued by the tick). */
static int nn_ftx_tick_period (void)
{
    const char *e = getenv ("NN_FTX_TICK_MS");
    long v;
    char *end;
    if (!e || !*e)
        return NN_FTX_TICK_MS;
    v = strtol (e, &end, 10);
    if (*end || v < 1 || v > 24L * 3600 * 1000)
        return NN_FTX_TICK_MS;
    return (int) v;
}

static int nn_ftx_errno (int rc)
{
    if (rc == -ESHUTDOWN)
        return ECONNRESET;
    return rc < 0 ? -rc : EIO;
}

void nn_ftx_conn_init (struct nn_ftx_conn *self, int src, struct nn_ep *ep,
    struct nn_fsm *owner)
{
    nn_fsm_init (&self->fsm, nn_ftx_conn_handler, nn_ftx_conn_shutdown,
        src, self, owner);
    self->state = NN_FTX_CONN_STATE_IDLE;
    self->ep = ep;
    self->worker = nn_fsm_choose_worker (&self->fsm);
    self->conn = NULL;
    self->fd = -1;
    nn_worker_fd_init (&self->wfd, NN_FTX_CONN_SRC_FD, &self->fsm);
    nn_worker_timer_init (&self->tick, &self->fsm);
    nn_worker_task_init (&self->task_start, NN_FTX_CONN_SRC_TASK_START,
        &self->fsm);
    nn_worker_task_init (&self->task_stop, NN_FTX_CONN_SRC_TASK_STOP,
        &self->fsm);
    nn_worker_task_init (&self->task_resume, NN_FTX_CONN_SRC_TASK_RESUME,
        &self->fsm);
    self->resume_posted = 0;
    self->in_paused = 0;
    nn_pipebase_init (&self->pipebase, &nn_ftx_conn_pipebase_vfptr, ep);
    self->pipe_started = 0;
    self->instate = NN_FTX_IN_NONE;
    self->inlen = 0;
    nn_msg_init (&self->inmsg, 0);
    self->outpending = 0;
    nn_msg_init (&self->outmsg, 0);
    self->max_room = 0;
    self->keep_arm = 0;
    self->cell_payload = 0;
    self->armed = -1;
    self->tick_ms = NN_FTX_TICK_MS;
    self->failing = 0;
    self->err = 0;
    nn_fsm_event_init (&self->ev_fail);
    nn_fsm_event_init (&self->ev_up);
    nn_fsm_event_init (&self->ev_error);
    nn_list_item_init (&self->item);
}

void nn_ftx_conn_term (struct nn_ftx_conn *self)
{
    nn_assert_state (self, NN_FTX_CONN_STATE_IDLE);
    nn_assert (self->conn == NULL);
    nn_list_item_term (&self->item);
    nn_fsm_event_term (&self->ev_error);
    nn_fsm_event_term (&self->ev_up);
    nn_fsm_event_term (&self->ev_fail);
    nn_msg_term (&self->outmsg);
    nn_msg_term (&self->inmsg);
    nn_pipebase_term (&self->pipebase);
    nn_worker_cancel (self->worker, &self->task_resume);
    nn_worker_cancel (self->worker, &self->task_stop);
    nn_worker_cancel (self->worker, &self->task_start);
    nn_worker_task_term (&self->task_resume);
    nn_worker_task_term (&self->task_stop);
    nn_worker_task_term (&self->task_start);
    nn_worker_timer_term (&self->tick);
    nn_worker_fd_term (&self->wfd);
    nn_fsm_term (&self->fsm);
}

int nn_ftx_conn_isidle (struct nn_ftx_conn *self)
{
    return nn_fsm_isidle (&self->fsm);
}

void nn_ftx_conn_start (struct nn_ftx_conn *self, fabtx_conn *conn,
    int connecting)
{
    nn_assert (self->conn == NULL);
    self->conn = conn;
    self->fd = -1;
    self->hs_sent = 0;
    self->hs_deadline_ms = 0;
    self->instate = NN_FTX_IN_NONE;
    self->outpending = 0;
    self->failing = 0;
    self->err = 0;
    self->in_paused = 0;
    self->resume_posted = 0;
    self->max_room = 0;
    self->keep_arm = 0;
    self->cell_payload = 0;
    self->armed = -1;
    self->tick_ms = nn_ftx_tick_period ();
    nn_fsm_start (&self->fsm);
    self->state = connecting ? NN_FTX_CONN_STATE_CONNECTING
                             : NN_FTX_CONN_STATE_PROTOHDR;
    /*  The poller is the worker's: register there. */
    nn_worker_execute (self->worker, &self->task_start);
}

void nn_ftx_conn_stop (struct nn_ftx_conn *self)
{
    nn_fsm_stop (&self->fsm);
}

/*  A failure found anywhere (also inside the pipe's send/recv, called by
    the protocol): reported through an event to ourselves, so the pipe is
    taken out of the socket from a safe place. */
static void nn_ftx_conn_fail (struct nn_ftx_conn *self, int rc)
{
    if (self->failing)
        return;
    self->failing = 1;
    self->err = rc;
    nn_fsm_raise_from_src (&self->fsm, &self->ev_fail, NN_FTX_CONN_SRC_FAIL,
        1);
}

/*  Worker thread: put the connection's current fd in the poller (while
    connecting it may change). */
static void nn_ftx_conn_watch (struct nn_ftx_conn *self)
{
    int fd = fabtx_conn_fd (self->conn);
    if (fd == self->fd)
        return;
    if (self->fd >= 0)
        nn_worker_rm_fd (self->worker, &self->wfd);
    self->fd = -1;
    if (fd >= 0) {
        self->fd = fd;
        nn_worker_add_fd (self->worker, fd, &self->wfd);
        nn_worker_set_in (self->worker, &self->wfd);
    }
}

static void nn_ftx_conn_unwatch (struct nn_ftx_conn *self)
{
    if (self->fd >= 0)
        nn_worker_rm_fd (self->worker, &self->wfd);
    self->fd = -1;
    nn_worker_rm_timer (self->worker, &self->tick);
}

/*  Worker thread: closes the fabtx connection.  Whatever can go now goes
    (queued data, FIN), without waiting: a peer in this process may need
    this very worker thread to make progress.  Data already written into
    the peer's ring is delivered before it sees the end. */
static void nn_ftx_conn_close (struct nn_ftx_conn *self)
{
    if (!self->conn)
        return;
    (void) fabtx_conn_shutdown (self->conn);
    fabtx_conn_close (self->conn, 0);
    self->conn = NULL;
}

static void nn_ftx_conn_shutdown (struct nn_fsm *self, int src, int type,
    NN_UNUSED void *srcptr)
{
    struct nn_ftx_conn *c = nn_cont (self, struct nn_ftx_conn, fsm);

    if (nn_slow (src == NN_FSM_ACTION && type == NN_FSM_STOP)) {
        /*  also a pipe whose start failed (nn_sock_add refused it) */
        nn_pipebase_stop (&c->pipebase);
        c->pipe_started = 0;
        c->state = NN_FTX_CONN_STATE_STOPPING;
        nn_worker_execute (c->worker, &c->task_stop);
        return;
    }
    if (nn_slow (c->state == NN_FTX_CONN_STATE_STOPPING)) {
        if (src != NN_FTX_CONN_SRC_TASK_STOP) {
            /*  fd, timer, start/resume tasks and our own failure event
                that were under way: nothing to do any more. */
            if (src == NN_FTX_CONN_SRC_TASK_RESUME)
                c->resume_posted = 0;
            return;
        }
        nn_ftx_conn_unwatch (c);
        nn_ftx_conn_close (c);
        nn_msg_term (&c->inmsg);
        nn_msg_init (&c->inmsg, 0);
        nn_msg_term (&c->outmsg);
        nn_msg_init (&c->outmsg, 0);
        c->instate = NN_FTX_IN_NONE;
        c->outpending = 0;
        c->state = NN_FTX_CONN_STATE_IDLE;
        nn_fsm_stopped (&c->fsm, NN_FTX_CONN_STOPPED);
        return;
    }
    nn_fsm_bad_state (c->state, src, type);
}

/*  Messages of at least this size are taken with fabtx_recv_msg: fabtx
    assembles a message that arrives in pieces into a buffer of its own,
    allocated as a nanomsg chunk (nn_ftx_ctx's allocator), which becomes
    the message's body as it is.  fabtx_recv into our own chunk would copy
    twice once a pass ends half way (the core keeps what came so far in a
    buffer of its own, then copies it over).  Smaller ones fit a few cells
    and come whole. */
#define NN_FTX_ADOPT_MIN 16384

/*  fabtx's buffer in fm (a message it assembled or copied out of the ring,
    fabtx_recv_msg) becomes msg's body when it is one of our chunks of
    exactly its length; else the bytes are copied (a message lent in place
    in the ring).  fm is released either way. */
static void nn_ftx_conn_take (struct nn_ftx_conn *self, fabtx_msg *fm,
    struct nn_msg *msg)
{
    nn_msg_term (msg);
    /*  fabtx_msg_detach hands over fabtx's own buffer (allocated with our
        allocator: an nn chunk); NULL for a message lent in the ring. */
    if (fm->len > 0) {
        size_t len = fm->len;
        void *own = fabtx_msg_detach (fm);
        if (own && nn_chunk_size (own) == len) {
            nn_msg_init_chunk (msg, own);
            return;
        }
        if (own) {
            /*  ours, but not a chunk of exactly its length: copied */
            nn_msg_init (msg, len);
            memcpy (nn_chunkref_data (&msg->body), own, len);
            nn_chunk_free (own);
            return;
        }
    }
    nn_msg_init (msg, fm->len);
    if (fm->len)
        memcpy (nn_chunkref_data (&msg->body), fm->data, fm->len);
    fabtx_msg_release (self->conn, fm);
}

/*  Inbound: 1 a message is complete in inmsg, 0 nothing yet, < 0 error. */
static int nn_ftx_conn_try_recv (struct nn_ftx_conn *self)
{
    ssize_t n;
    int opt;
    size_t optsz;
    fabtx_msg fm;

    if (self->instate == NN_FTX_IN_NONE) {
        /*  No system call: on shm:// new messages are seen in place; on
            the other backends the arm below runs fabtx's progress and
            says -EAGAIN when something came. */
        n = fabtx_peek_len (self->conn);
        if (n < 0)
            return n == -EAGAIN ? 0 : (int) n;

        /*  NN_RCVMAXSIZE, as the stream transports: a larger message ends
            the connection. */
        optsz = sizeof (opt);
        nn_pipebase_getopt (&self->pipebase, NN_SOL_SOCKET, NN_RCVMAXSIZE,
            &opt, &optsz);
        if (opt >= 0 && (uint64_t) n > (uint64_t) opt)
            return -EMSGSIZE;
        self->inlen = (size_t) n;
        if (self->inlen < NN_FTX_ADOPT_MIN) {
            nn_msg_term (&self->inmsg);
            nn_msg_init (&self->inmsg, (size_t) n);
        }
        self->instate = NN_FTX_IN_PARTIAL;
    }
    if (self->inlen >= NN_FTX_ADOPT_MIN) {
        n = fabtx_recv_msg (self->conn, &fm, 0);
        /*  A message in several chunks that was not all here when fabtx
            looked first runs fabtx's slow path, and may then be
            complete: arm again either way. */
        self->armed = -1;
        if (n < 0)
            return n == -EAGAIN ? 0 : (int) n;
        if (fm.len != self->inlen) {
            fabtx_msg_release (self->conn, &fm);
            return -EPROTO;
        }
        nn_ftx_conn_take (self, &fm, &self->inmsg);
        return 1;
    }
    n = fabtx_recv (self->conn, nn_chunkref_data (&self->inmsg.body),
        self->inlen, 0);
    if (self->inlen > self->cell_payload)
        self->armed = -1; /*  (as above) */
    if (n >= 0) {
        if ((size_t) n != self->inlen)
            return -EPROTO;
        return 1;
    }
    self->armed = -1;
    return n == -EAGAIN ? 0 : (int) n;
}

/*  Outbound: 1 sent (taken by fabtx), 0 not yet, < 0 error. */
static int nn_ftx_conn_try_send (struct nn_ftx_conn *self)
{
    fabtx_iov iov [2];
    size_t hlen = nn_chunkref_size (&self->outmsg.sphdr);
    size_t blen = nn_chunkref_size (&self->outmsg.body);
    size_t room = fabtx_conn_send_room (self->conn);
    ssize_t rc;

    if (room > self->max_room)
        self->max_room = room;
    /*  A message larger than the room now waits for the credits of as
        much of it as the ring can ever give (up to half of it): fabtx
        would take it at once and copy all that does not fit yet into a
        buffer of its own (an allocation and a copy per message).  Half:
        a reader that has taken everything has reported all but a
        quarter of the ring's credits, so this never waits for good. */
    if (hlen + blen > room && room < self->max_room / 2)
        return 0;
    /*  Out of credits on the way fabtx looks for more (its progress, on
        the backends that are not in place): the fd must be armed again. */
    if (hlen + blen > room || room == 0)
        self->armed = -1;
    if (hlen == 0) {
        /*  fabtx_send's fast path (one chunk, nothing queued) */
        rc = fabtx_send (self->conn, nn_chunkref_data (&self->outmsg.body),
            blen, 0);
    }
    else {
        iov [0].base = nn_chunkref_data (&self->outmsg.sphdr);
        iov [0].len = hlen;
        iov [1].base = nn_chunkref_data (&self->outmsg.body);
        iov [1].len = blen;
        rc = fabtx_sendv (self->conn, iov, 2, 0);
    }
    if (rc >= 0)
        return 1;
    self->armed = -1; /*  a stalled send may have run the slow path */
    return rc == -EAGAIN ? 0 : (int) rc;
}

/*  Moves messages both ways as far as they go, then arms the fd for what
    we wait for.  Any thread (context lock held). */
static void nn_ftx_conn_pump (struct nn_ftx_conn *self, int in_worker)
{
    int rc;
    unsigned mask;
    int moved = 0;

    /*  An fd event or the tick: the peer's wakeup disarmed us, or the
        slow sources want a look. */
    if (in_worker)
        self->armed = -1;
    for (;;) {
        int progress = 0;
        if (self->failing || self->state != NN_FTX_CONN_STATE_ACTIVE)
            return;
        if (self->outpending) {
            rc = nn_ftx_conn_try_send (self);
            if (rc < 0) {
                nn_ftx_conn_fail (self, rc);
                return;
            }
            if (rc > 0) {
                nn_msg_term (&self->outmsg);
                nn_msg_init (&self->outmsg, 0);
                self->outpending = 0;
                progress = 1;
                nn_pipebase_sent (&self->pipebase);
            }
        }
        if (self->instate != NN_FTX_IN_COMPLETE) {
            rc = nn_ftx_conn_try_recv (self);
            if (rc < 0) {
                nn_ftx_conn_fail (self, rc);
                return;
            }
            if (rc > 0) {
                self->instate = NN_FTX_IN_COMPLETE;
                moved = 1;
                nn_pipebase_received (&self->pipebase);
                continue;
            }
        }
        if (progress) {
            moved = 1;
            continue;
        }
        mask = (self->instate != NN_FTX_IN_COMPLETE ? FABTX_POLLIN : 0u) |
            (self->outpending ? FABTX_POLLOUT : 0u);
        if (mask == 0) {
            /*  Nothing awaited: a message waits for the core to take it
                (its recv pumps again) and nothing waits to go.  Not
                armed, so the peer sends no wakeups meanwhile (shm://).
                In the worker the fd said something: fabtx's slow sources
                are looked at (wakeup bytes read, keepalive); an event
                that brought nothing takes the fd out of IN polling until
                a pass needs it again: ofi://'s fd is readable whenever
                data comes, armed or not, and a connection that has ended
                stays readable (what is left is to be delivered first). */
            if (in_worker) {
                (void) fabtx_conn_poll (self->conn);
                self->armed = -1;
                if (!moved && self->fd >= 0 && !self->in_paused) {
                    nn_worker_reset_in (self->worker, &self->wfd);
                    self->in_paused = 1;
                }
            }
            return;
        }
        /*  The fd is out of the worker's IN polling: the worker puts it
            back and arms (a user thread that keeps finding messages
            never needs it: no wakeups, no contention for the lock). */
        if (!in_worker && self->in_paused) {
            if (!self->resume_posted) {
                self->resume_posted = 1;
                nn_worker_execute (self->worker, &self->task_resume);
            }
            return;
        }
        if (in_worker && self->in_paused && self->fd >= 0) {
            /*  (the tick, while paused) */
            nn_worker_set_in (self->worker, &self->wfd);
            self->in_paused = 0;
        }
        /*  shm://, ofi:// (keep_arm): armed for the same before, and
            nothing since ran the slow path (which is what disarms):
            still armed. */
        if (!in_worker && self->keep_arm && self->armed == (int) mask &&
              mask == FABTX_POLLIN)
            return;
        rc = fabtx_conn_arm_mask (self->conn, mask);
        if (rc == 0) {
            self->armed = (int) mask;
            return;
        }
        self->armed = -1;
        if (rc != -EAGAIN) {
            nn_ftx_conn_fail (self, rc);
            return;
        }
        /*  Work raced in (or a long message is streaming): go again. */
    }
}

/*  Worker thread: the SP protocol header, 8 bytes as one fabtx message
    each way: 0x00 'S' 'P' 0x00, the protocol (16 bits, big endian), two
    reserved zero bytes. */
static void nn_ftx_conn_protohdr (struct nn_ftx_conn *self)
{
    uint8_t hdr [8];
    int protocol;
    size_t sz;
    ssize_t rc;

    for (;;) {
        if (!self->hs_sent) {
            sz = sizeof (protocol);
            nn_pipebase_getopt (&self->pipebase, NN_SOL_SOCKET, NN_PROTOCOL,
                &protocol, &sz);
            nn_assert (sz == sizeof (protocol));
            memcpy (hdr, "\0SP\0\0\0\0\0", 8);
            nn_puts (hdr + 4, (uint16_t) protocol);
            rc = fabtx_send (self->conn, hdr, sizeof (hdr), 0);
            if (rc == (ssize_t) sizeof (hdr))
                self->hs_sent = 1;
            else if (rc != -EAGAIN) {
                nn_ftx_conn_fail (self, (int) (rc < 0 ? rc : -EPROTO));
                return;
            }
        }
        rc = fabtx_recv (self->conn, hdr, sizeof (hdr), 0);
        if (rc == -EAGAIN) {
            rc = fabtx_conn_arm_mask (self->conn,
                FABTX_POLLIN | (self->hs_sent ? 0u : FABTX_POLLOUT));
            if (rc == -EAGAIN)
                continue;
            if (rc < 0)
                nn_ftx_conn_fail (self, (int) rc);
            return;
        }
        if (rc == -EMSGSIZE || (rc >= 0 && rc != (ssize_t) sizeof (hdr))) {
            nn_ftx_conn_fail (self, -EPROTO);
            return;
        }
        if (rc < 0) {
            nn_ftx_conn_fail (self, (int) rc);
            return;
        }
        if (!self->hs_sent)
            continue; /*  ours goes first */
        break;
    }
    if (memcmp (hdr, "\0SP\0", 4) != 0 || hdr [6] != 0 || hdr [7] != 0 ||
          !nn_pipebase_ispeer (&self->pipebase, nn_gets (hdr + 4))) {
        nn_ftx_conn_fail (self, -EPROTO);
        return;
    }
    rc = nn_pipebase_start (&self->pipebase);
    if (rc < 0) {
        /*  e.g. a pair socket that has its peer already */
        nn_ftx_conn_fail (self, (int) rc);
        return;
    }
    self->pipe_started = 1;
    self->state = NN_FTX_CONN_STATE_ACTIVE;
    /*  shm:// (in place: nothing but fabtx's slow path disarms) and ofi://
        (fi_trywait and the epoll set: only progress, which sends that
        have credits do not run, consumes what would wake it). */
    {
        fabtx_conn_stats st;
        /*  what surely fits one cell: its size less the footer (32)
            and some slack */
        self->cell_payload = fabtx_conn_stats_get (self->conn, &st) == 0 &&
            st.cell_size > 64 ? st.cell_size - 64 : 0;
    }
    self->keep_arm = fabtx_conn_in_place (self->conn) ||
        strcmp (fabtx_conn_backend_name (self->conn), "ofi") == 0;
    self->armed = -1;
    nn_fsm_raise (&self->fsm, &self->ev_up, NN_FTX_CONN_UP);
    nn_ftx_conn_pump (self, 1);
}

/*  Worker thread: whatever the state needs now. */
static void nn_ftx_conn_step (struct nn_ftx_conn *self)
{
    int rc;

    if (self->failing)
        return;
    switch (self->state) {
    case NN_FTX_CONN_STATE_CONNECTING:
        rc = fabtx_connect_poll (self->conn);
        if (rc == -EAGAIN) {
            nn_ftx_conn_watch (self);
            return;
        }
        if (rc < 0) {
            nn_ftx_conn_fail (self, rc);
            return;
        }
        nn_ftx_conn_watch (self); /*  the fd may have changed */
        self->state = NN_FTX_CONN_STATE_PROTOHDR;
        self->hs_deadline_ms = fabtx_now_ms () + NN_FTX_PROTOHDR_MS;
        nn_ftx_conn_protohdr (self);
        return;
    case NN_FTX_CONN_STATE_PROTOHDR:
        if (fabtx_now_ms () >= self->hs_deadline_ms) {
            nn_ftx_conn_fail (self, -ETIMEDOUT);
            return;
        }
        nn_ftx_conn_protohdr (self);
        return;
    case NN_FTX_CONN_STATE_ACTIVE:
        nn_ftx_conn_pump (self, 1);
        return;
    default:
        return;
    }
}

static int nn_ftx_conn_send (struct nn_pipebase *self, struct nn_msg *msg)
{
    struct nn_ftx_conn *c = nn_cont (self, struct nn_ftx_conn, pipebase);

    nn_assert_state (c, NN_FTX_CONN_STATE_ACTIVE);
    nn_assert (!c->outpending);
    nn_msg_term (&c->outmsg);
    nn_msg_mv (&c->outmsg, msg);
    c->outpending = 1;
    nn_ftx_conn_pump (c, 0);
    return 0;
}

static int nn_ftx_conn_recv (struct nn_pipebase *self, struct nn_msg *msg)
{
    struct nn_ftx_conn *c = nn_cont (self, struct nn_ftx_conn, pipebase);

    nn_assert_state (c, NN_FTX_CONN_STATE_ACTIVE);
    nn_assert (c->instate == NN_FTX_IN_COMPLETE);
    nn_msg_mv (msg, &c->inmsg);
    nn_msg_init (&c->inmsg, 0);
    c->instate = NN_FTX_IN_NONE;
    nn_ftx_conn_pump (c, 0);
    return 0;
}

static void nn_ftx_conn_handler (struct nn_fsm *self, int src, int type,
    NN_UNUSED void *srcptr)
{
    struct nn_ftx_conn *c = nn_cont (self, struct nn_ftx_conn, fsm);

    if (c->state == NN_FTX_CONN_STATE_IDLE) {
        nn_assert (src == NN_FSM_ACTION && type == NN_FSM_START);
        return;
    }

    switch (src) {
    case NN_FTX_CONN_SRC_TASK_START:
        if (c->failing || c->state == NN_FTX_CONN_STATE_DONE)
            return;
        nn_ftx_conn_watch (c);
        nn_worker_add_timer (c->worker, c->tick_ms, &c->tick);
        if (c->state == NN_FTX_CONN_STATE_PROTOHDR)
            c->hs_deadline_ms = fabtx_now_ms () + NN_FTX_PROTOHDR_MS;
        nn_ftx_conn_step (c);
        return;

    case NN_FTX_CONN_SRC_TASK_RESUME:
        c->resume_posted = 0;
        if (c->state != NN_FTX_CONN_STATE_ACTIVE || c->failing)
            return;
        if (c->in_paused && c->fd >= 0)
            nn_worker_set_in (c->worker, &c->wfd);
        c->in_paused = 0;
        nn_ftx_conn_pump (c, 1);
        return;

    case NN_FTX_CONN_SRC_FD:
        if (c->state == NN_FTX_CONN_STATE_DONE || c->failing) {
            /*  ended: the owner stops us; do not spin on the fd */
            if (c->fd >= 0)
                nn_worker_reset_in (c->worker, &c->wfd);
            return;
        }
        nn_ftx_conn_step (c);
        return;

    case NN_FTX_CONN_SRC_TICK:
        nn_assert (type == NN_WORKER_TIMER_TIMEOUT);
        if (c->state == NN_FTX_CONN_STATE_DONE || c->failing)
            return;
        nn_ftx_conn_step (c);
        if (!c->failing)
            nn_worker_add_timer (c->worker, c->tick_ms, &c->tick);
        return;

    case NN_FTX_CONN_SRC_FAIL:
        if (c->state == NN_FTX_CONN_STATE_DONE)
            return;
        if (c->pipe_started) {
            nn_pipebase_stop (&c->pipebase);
            c->pipe_started = 0;
        }
        nn_ep_set_error (c->ep, nn_ftx_errno (c->err));
        c->state = NN_FTX_CONN_STATE_DONE;
        nn_fsm_raise (&c->fsm, &c->ev_error, NN_FTX_CONN_ERROR);
        return;

    default:
        nn_fsm_bad_source (c->state, src, type);
    }
}
