/* SPDX-License-Identifier: MIT */
/* ftx.h -- nanomsg transports over fabtx (internal; docs/nanomsg.md).
 *
 * Three state machines in nanomsg's model (aio/fsm.h), all in the
 * socket's context:
 *   nn_ftx_conn   one fabtx connection: connect completion, the SP
 *                 protocol header exchange, then the pipe (nn_pipebase):
 *                 one SP message = one fabtx message.  Its fd is in the
 *                 nanomsg worker's poller, level triggered, kept armed
 *                 with fabtx_conn_arm_mask (the eventfd bridge).
 *   nn_ftx_bound  nn_bind: a fabtx listener whose fd is in the worker;
 *                 fabtx_accept(l, &c, 0) until -EAGAIN.
 *   nn_ftx_cnct   nn_connect: fabtx_connect_start + fabtx_connect_poll,
 *                 reconnect after NN_RECONNECT_IVL(_MAX) (nn_backoff). */
#ifndef NN_FTX_INCLUDED
#define NN_FTX_INCLUDED

#include "../../transport.h"
#include "../../aio/fsm.h"
#include "../../aio/worker.h"
#include "../../utils/list.h"
#include "../../utils/msg.h"

#include "ftx_vendor.h"

/*  Events an nn_ftx_conn raises to its owner. */
#define NN_FTX_CONN_UP 1      /*  SP headers exchanged, pipe started     */
#define NN_FTX_CONN_ERROR 2   /*  failed or ended: stop it              */
#define NN_FTX_CONN_STOPPED 3 /*  stopped, may be started again or freed */

struct nn_ftx_conn {
    struct nn_fsm fsm;
    int state;
    struct nn_ep *ep;
    struct nn_worker *worker;
    fabtx_conn *conn;

    /*  The fd in the worker's poller (-1: none yet). */
    int fd;
    struct nn_worker_fd wfd;
    struct nn_worker_timer tick;
    struct nn_worker_task task_start;
    struct nn_worker_task task_stop;
    struct nn_worker_task task_resume;
    int resume_posted;
    /*  Input paused: the fd was taken out of IN polling (worker only)
        when it woke the worker while nothing was awaited (a received
        message waits for the core); a pass in a user thread that must
        wait again has the worker put it back (task_resume). */
    int in_paused;

    /*  SP header exchange. */
    uint64_t hs_deadline_ms;
    int hs_sent;

    struct nn_pipebase pipebase;
    int pipe_started;

    /*  Inbound: 0 nothing, 1 allocated and being filled, 2 complete and
        waiting for the core. */
    int instate;
    size_t inlen;
    struct nn_msg inmsg;

    /*  Outbound: a message waiting for credits. */
    int outpending;
    struct nn_msg outmsg;
    /*  The most send room seen (the ring's credits when idle): a large
        message waits for min (its size, half of it), see pump. */
    size_t max_room;

    /*  shm:// and ofi:// (keep_arm): the fd stays armed across what does
        not run fabtx's slow path, so a pass in a user thread that armed
        for the same events before need not arm again.  armed: the mask
        of the last fabtx_conn_arm_mask that returned 0, -1 unknown. */
    int keep_arm;
    /*  Bytes one cell carries: a longer message may run fabtx's slow path
        even when its receive succeeds. */
    size_t cell_payload;
    int armed;
    /*  Period of the tick (NN_FTX_TICK_MS in the environment: tests that
        no wakeup depends on it). */
    int tick_ms;

    int failing;
    int err;
    struct nn_fsm_event ev_fail;
    struct nn_fsm_event ev_up;
    struct nn_fsm_event ev_error;

    /*  For the bound endpoint's list of accepted connections. */
    struct nn_list_item item;
};

void nn_ftx_conn_init (struct nn_ftx_conn *self, int src, struct nn_ep *ep,
    struct nn_fsm *owner);
void nn_ftx_conn_term (struct nn_ftx_conn *self);
int nn_ftx_conn_isidle (struct nn_ftx_conn *self);
/*  Takes conn in any case (closed when the machine stops).  connecting:
    conn comes from fabtx_connect_start and is not connected yet. */
void nn_ftx_conn_start (struct nn_ftx_conn *self, fabtx_conn *conn,
    int connecting);
void nn_ftx_conn_stop (struct nn_ftx_conn *self);

/*  The process-wide fabtx context (created on first use, destroyed when
    nanomsg terminates). NULL with *err set on failure. */
fabtx_ctx *nn_ftx_ctx (int *err);
/*  "scheme://" + the endpoint's address, into buf. */
int nn_ftx_url (struct nn_ep *ep, const char *scheme, char *buf, size_t cap);

int nn_ftx_bound_create (struct nn_ep *ep, const char *scheme);
int nn_ftx_cnct_create (struct nn_ep *ep, const char *scheme);

#endif
