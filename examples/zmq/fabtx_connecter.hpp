/* SPDX-License-Identifier: MIT */
/* fabtx_connecter.hpp -- connecting side of a fabtx transport.
 *
 * Driven by the I/O thread, the way tcp_connecter_t drives a non-blocking
 * connect(): fabtx_connect_start begins it (ZMQ_EVENT_CONNECT_DELAYED),
 * the poller watches fabtx_conn_fd() (it may change while connecting, it
 * is looked up again after every pass) and a short tick timer stands in
 * for backends whose fd says nothing until connected and for the
 * handshake's time limit; each in_event / tick calls fabtx_connect_poll.
 * 0: the connection goes to a fabtx_engine_t (ZMQ_EVENT_CONNECTED); a
 * failure or ZMQ_CONNECT_TIMEOUT closes it (ZMQ_EVENT_CLOSED) and
 * libzmq's reconnect timer (reconnect_ivl, backoff) tries again.
 *
 * Order: connects of one process to the same URL are attached in the order
 * they were started, at both ends, as over TCP (the kernel accepts in SYN
 * order and the ZMTP handshakes follow; round-robin users count on it).
 * The server hands connections out as their handshakes complete, so a
 * connect starts only once the earlier ones to the same URL are done (or
 * after order_hold_ms): its request then reaches the server after theirs.
 * A fabtx setup can take several round trips (ofi://), so a later connect
 * may still finish first here: it then waits, its connection up but no
 * engine yet, until the earlier ones have an engine or have failed, at
 * most order_hold_ms.
 *
 * No thread: every backend connects without waiting (connect_poll in its
 * fabtx_backend; rio and scif from main d6aaee7, ofi from branch ofi
 * 8aa239c).  A backend without it would run a blocking transport connect
 * inside fabtx_connect_start, in this I/O thread (the core's contract). */
#ifndef __ZMQ_FABTX_CONNECTER_HPP_INCLUDED__
#define __ZMQ_FABTX_CONNECTER_HPP_INCLUDED__

#include "stream_connecter_base.hpp"

struct fabtx_conn;
struct fabtx_ctx;

namespace zmq
{
class fabtx_connecter_t ZMQ_FINAL : public stream_connecter_base_t
{
  public:
    fabtx_connecter_t (zmq::io_thread_t *io_thread_,
                       zmq::session_base_t *session_,
                       const options_t &options_,
                       address_t *addr_,
                       bool delayed_start_);
    ~fabtx_connecter_t ();

  private:
    void in_event () ZMQ_OVERRIDE;
    void out_event () ZMQ_OVERRIDE;
    void timer_event (int id_) ZMQ_OVERRIDE;
    void start_connecting () ZMQ_OVERRIDE;
    void process_term (int linger_) ZMQ_OVERRIDE;

    //  Start the connect (fabtx_connect_start), or wait on the tick for
    //  an earlier connect to the same URL, until _defer_until_ms.
    void begin ();
    //  One look at the connect in progress (fabtx_connect_poll).
    void step ();
    //  Poll the connection's current fd, keep the tick going.
    void wait_more ();
    //  The connect is over: stop polling and the timers.
    void unwatch ();
    //  Connected: hand conn_ to an engine, end this connecter.
    void connected (fabtx_conn *conn_);
    //  Failed (rc_ < 0): close what was opened (ZMQ_EVENT_CLOSED if
    //  opened_: the connect had been under way), retry on libzmq's timer.
    void failed (int rc_, bool opened_);

    //  Connected, but an earlier connect of this process to the same
    //  URL is still under way: wait for it (see order_*), at most
    //  order_hold_ms.  True if conn_ was kept for later.
    bool hold (fabtx_conn *conn_);

    enum
    {
        connect_timer_id = 2, //  ZMQ_CONNECT_TIMEOUT
        tick_timer_id = 3,
        tick_ms = 5, //  the core's own tick for fd-less handshakes
        order_hold_ms = 100
    };

    const std::string _url;
    //  Our context reference, from start_connecting to connected/failed.
    fabtx_ctx *_ctx;
    //  The connection being set up, and the fd polled for it (fabtx's).
    fabtx_conn *_conn;
    fd_t _fd;
    bool _connect_timer;
    bool _tick_timer;
    //  Our place among this process's connects to _url (0: none), the
    //  connection held back for an earlier one, and until when.
    uint64_t _seq;
    fabtx_conn *_held;
    uint64_t _held_until_ms;
    //  Not started yet: an earlier connect to _url is under way.
    bool _deferred;
    uint64_t _defer_until_ms;

    ZMQ_NON_COPYABLE_NOR_MOVABLE (fabtx_connecter_t)
};
}

#endif
