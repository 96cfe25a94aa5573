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
 * Backends whose transport connect still blocks (no connect_poll in their
 * fabtx_backend: ofi, rio, scif as of 5a17fbe) would block the I/O thread
 * in fabtx_connect_start, possibly waiting for a listener served by that
 * same thread.  For them alone the connect runs in a short-lived helper
 * thread (fabtx_connect, bounded), which signals an eventfd this connecter
 * polls; it goes away by itself once a backend gets connect_poll. */
#ifndef __ZMQ_FABTX_CONNECTER_HPP_INCLUDED__
#define __ZMQ_FABTX_CONNECTER_HPP_INCLUDED__

#include "stream_connecter_base.hpp"

#include <pthread.h>

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

    //  The helper thread (backends whose connect blocks).
    void start_helper ();
    static void *helper (void *arg_);
    void join_helper ();

    enum
    {
        connect_timer_id = 2, //  ZMQ_CONNECT_TIMEOUT
        tick_timer_id = 3,
        tick_ms = 5 //  the core's own tick for fd-less handshakes
    };

    const std::string _url;
    //  fabtx_connect_start would block: use the helper thread.
    const bool _waits;
    //  Our context reference, from start_connecting to connected/failed.
    fabtx_ctx *_ctx;
    //  The connection being set up, and the fd polled for it (fabtx's).
    fabtx_conn *_conn;
    fd_t _fd;
    bool _connect_timer;
    bool _tick_timer;

    //  Helper thread: _evfd is ours (polled); _hconn and _hrc are written
    //  by the thread before it signals _evfd, read after the join.
    bool _running;
    pthread_t _thread;
    int _timeout;
    fd_t _evfd;
    fabtx_conn *_hconn;
    int _hrc;

    ZMQ_NON_COPYABLE_NOR_MOVABLE (fabtx_connecter_t)
};
}

#endif
