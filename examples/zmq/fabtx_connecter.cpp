/* SPDX-License-Identifier: MIT */
#include "precompiled.hpp"
#include "fabtx_connecter.hpp"
#include "fabtx_address.hpp"
#include "fabtx_engine.hpp"
#include "address.hpp"
#include "session_base.hpp"
#include "socket_base.hpp"
#include "err.hpp"

#include <pthread.h>
#include <time.h>
#include <map>

namespace
{
//  The connects under way in this process, by URL (all I/O threads).
pthread_mutex_t order_mutex = PTHREAD_MUTEX_INITIALIZER;
std::multimap<std::string, uint64_t> order_pending;
uint64_t order_last;

uint64_t order_enter (const std::string &url_)
{
    pthread_mutex_lock (&order_mutex);
    const uint64_t seq = ++order_last;
    order_pending.insert (std::make_pair (url_, seq));
    pthread_mutex_unlock (&order_mutex);
    return seq;
}

void order_leave (const std::string &url_, uint64_t seq_)
{
    pthread_mutex_lock (&order_mutex);
    typedef std::multimap<std::string, uint64_t>::iterator it_t;
    const std::pair<it_t, it_t> r = order_pending.equal_range (url_);
    for (it_t it = r.first; it != r.second; ++it)
        if (it->second == seq_) {
            order_pending.erase (it);
            break;
        }
    pthread_mutex_unlock (&order_mutex);
}

//  Is a connect to url_ that started before seq_ still under way?
bool order_behind (const std::string &url_, uint64_t seq_)
{
    bool behind = false;
    pthread_mutex_lock (&order_mutex);
    typedef std::multimap<std::string, uint64_t>::iterator it_t;
    const std::pair<it_t, it_t> r = order_pending.equal_range (url_);
    for (it_t it = r.first; it != r.second && !behind; ++it)
        behind = it->second < seq_;
    pthread_mutex_unlock (&order_mutex);
    return behind;
}

uint64_t now_ms ()
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return static_cast<uint64_t> (ts.tv_sec) * 1000u
           + static_cast<uint64_t> (ts.tv_nsec) / 1000000u;
}
}

zmq::fabtx_connecter_t::fabtx_connecter_t (zmq::io_thread_t *io_thread_,
                                           zmq::session_base_t *session_,
                                           const options_t &options_,
                                           address_t *addr_,
                                           bool delayed_start_) :
    stream_connecter_base_t (
      io_thread_, session_, options_, addr_, delayed_start_),
    _url (addr_->protocol + "://" + addr_->address),
    _ctx (NULL),
    _conn (NULL),
    _fd (retired_fd),
    _connect_timer (false),
    _tick_timer (false),
    _seq (0),
    _held (NULL),
    _held_until_ms (0),
    _deferred (false),
    _defer_until_ms (0)
{
}

zmq::fabtx_connecter_t::~fabtx_connecter_t ()
{
    zmq_assert (!_conn && !_held && !_seq);
    zmq_assert (!_ctx);
    zmq_assert (!_connect_timer && !_tick_timer);
}

void zmq::fabtx_connecter_t::start_connecting ()
{
    zmq_assert (!_conn && !_handle);
    _ctx = fabtx_ctx_ref (get_ctx ());
    if (!_ctx) {
        add_reconnect_timer ();
        return;
    }
    _seq = order_enter (_url);
    _defer_until_ms = now_ms () + order_hold_ms;
    begin ();
}

void zmq::fabtx_connecter_t::begin ()
{
    //  An earlier connect to the same URL is still setting up: its
    //  request goes to the server first (which hands out connections as
    //  their handshakes complete).  Looked at again on the tick.
    if (order_behind (_url, _seq) && now_ms () < _defer_until_ms) {
        _deferred = true;
        if (!_tick_timer) {
            add_timer (tick_ms, tick_timer_id);
            _tick_timer = true;
        }
        return;
    }
    _deferred = false;
    //  Begins the connect and sends the fabtx request as far as it goes;
    //  what is known at once (bad URL, nobody listening: -ECONNREFUSED)
    //  fails here, with nothing opened.
    const int rc = fabtx_connect_start (_ctx, _url.c_str (), &_conn);
    if (rc < 0) {
        _conn = NULL;
        failed (rc, false);
        return;
    }
    //  The server's answer is still to come (as for tcp:// after a
    //  connect() with EINPROGRESS).
    _socket->event_connect_delayed (
      make_unconnected_connect_endpoint_pair (_endpoint), EINPROGRESS);
    if (options.connect_timeout > 0) {
        add_timer (options.connect_timeout, connect_timer_id);
        _connect_timer = true;
    }
    wait_more ();
}

void zmq::fabtx_connecter_t::wait_more ()
{
    //  While connecting the fd is the handshake's (the backend's control
    //  fd, or a timer of the core's); it may change between passes.
    const int fd = fabtx_conn_fd (_conn);
    if (fd != _fd) {
        if (_handle)
            rm_handle ();
        _fd = retired_fd;
        if (fd >= 0) {
            _fd = fd;
            _handle = add_fd (_fd);
            set_pollin (_handle);
        }
    }
    //  Also on a tick: a backend's fd may say nothing until the transport
    //  is up, and the handshake's deadline (handshake_ms) is noticed only
    //  by a call to fabtx_connect_poll.
    if (!_tick_timer) {
        add_timer (tick_ms, tick_timer_id);
        _tick_timer = true;
    }
}

void zmq::fabtx_connecter_t::unwatch ()
{
    if (_handle)
        rm_handle ();
    _fd = retired_fd;
    if (_tick_timer) {
        cancel_timer (tick_timer_id);
        _tick_timer = false;
    }
    if (_connect_timer) {
        cancel_timer (connect_timer_id);
        _connect_timer = false;
    }
}

void zmq::fabtx_connecter_t::step ()
{
    zmq_assert (_conn);
    const int rc = fabtx_connect_poll (_conn);
    if (rc == -EAGAIN) {
        wait_more ();
        return;
    }
    if (rc < 0) {
        failed (rc, true);
        return;
    }
    fabtx_conn *conn = _conn;
    _conn = NULL;
    unwatch ();
    if (!hold (conn))
        connected (conn);
}

bool zmq::fabtx_connecter_t::hold (fabtx_conn *conn_)
{
    if (!_held)
        _held_until_ms = now_ms () + order_hold_ms;
    if (order_behind (_url, _seq) && now_ms () < _held_until_ms) {
        _held = conn_;
        add_timer (tick_ms, tick_timer_id);
        _tick_timer = true;
        return true;
    }
    _held = NULL;
    return false;
}

void zmq::fabtx_connecter_t::connected (fabtx_conn *conn_)
{
    order_leave (_url, _seq);
    _seq = 0;
    const endpoint_uri_pair_t endpoint_pair (_url, _endpoint,
                                             endpoint_type_connect);
    fabtx_engine_t *engine =
      fabtx_engine_t::create (conn_, options, endpoint_pair);
    fabtx_ctx_unref (); //  the engine holds its own reference
    _ctx = NULL;
    if (!engine) { //  conn_ is closed
        add_reconnect_timer ();
        return;
    }
    const fd_t fd = engine->fd ();
    send_attach (_session, engine);
    terminate ();
    _socket->event_connected (endpoint_pair, fd);
}

void zmq::fabtx_connecter_t::failed (int rc_, bool opened_)
{
    const fd_t fd = _fd; //  what was polled for this connect
    unwatch ();
    if (_seq) {
        order_leave (_url, _seq);
        _seq = 0;
    }
    if (_conn) {
        fabtx_conn_close (_conn, 0);
        _conn = NULL;
    }
    if (opened_)
        _socket->event_closed (
          make_unconnected_connect_endpoint_pair (_endpoint), fd);
    if (_ctx) {
        fabtx_ctx_unref ();
        _ctx = NULL;
    }
    errno = fabtx_errno (rc_);
    if (rc_ == -ECONNREFUSED
        && (options.reconnect_stop & ZMQ_RECONNECT_STOP_CONN_REFUSED)) {
        send_conn_failed (_session);
        terminate ();
        return;
    }
    add_reconnect_timer ();
}

void zmq::fabtx_connecter_t::in_event ()
{
    if (_conn)
        step ();
}

void zmq::fabtx_connecter_t::out_event ()
{
    //  Never polled for output; an error condition lands here too.
    in_event ();
}

void zmq::fabtx_connecter_t::timer_event (int id_)
{
    if (id_ == tick_timer_id) {
        _tick_timer = false;
        if (_deferred)
            begin ();
        else if (_held) {
            fabtx_conn *conn = _held;
            if (!hold (conn))
                connected (conn);
        } else if (_conn)
            step ();
    } else if (id_ == connect_timer_id) {
        _connect_timer = false;
        failed (-ETIMEDOUT, true); //  ZMQ_CONNECT_TIMEOUT, as tcp://
    } else {
        stream_connecter_base_t::timer_event (id_); //  reconnect
    }
}

void zmq::fabtx_connecter_t::process_term (int linger_)
{
    const fd_t fd = _fd;
    unwatch ();
    if (_seq) {
        order_leave (_url, _seq);
        _seq = 0;
    }
    if (_held) { //  up, but never handed to an engine
        _conn = _held;
        _held = NULL;
    }
    if (_conn) {
        //  a connect under way: closed, as tcp:// closes its socket
        fabtx_conn_close (_conn, 0);
        _conn = NULL;
        _socket->event_closed (
          make_unconnected_connect_endpoint_pair (_endpoint), fd);
    }
    if (_ctx) {
        fabtx_ctx_unref ();
        _ctx = NULL;
    }
    stream_connecter_base_t::process_term (linger_);
}
