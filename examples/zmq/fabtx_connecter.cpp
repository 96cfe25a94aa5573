/* SPDX-License-Identifier: MIT */
#include "precompiled.hpp"
#include "fabtx_connecter.hpp"
#include "fabtx_address.hpp"
#include "fabtx_engine.hpp"
#include "address.hpp"
#include "session_base.hpp"
#include "socket_base.hpp"
#include "err.hpp"

#include <signal.h>
#include <stdint.h>
#include <sys/eventfd.h>
#include <unistd.h>

zmq::fabtx_connecter_t::fabtx_connecter_t (zmq::io_thread_t *io_thread_,
                                           zmq::session_base_t *session_,
                                           const options_t &options_,
                                           address_t *addr_,
                                           bool delayed_start_) :
    stream_connecter_base_t (
      io_thread_, session_, options_, addr_, delayed_start_),
    _url (addr_->protocol + "://" + addr_->address),
    _waits (fabtx_connect_waits (addr_->protocol)),
    _ctx (NULL),
    _conn (NULL),
    _fd (retired_fd),
    _connect_timer (false),
    _tick_timer (false),
    _running (false),
    _timeout (1000),
    _evfd (retired_fd),
    _hconn (NULL),
    _hrc (0)
{
    //  The helper's fabtx_connect includes the fabtx handshake: bound it
    //  (process_term waits for the thread).
    if (options.connect_timeout > 0 && options.connect_timeout < _timeout)
        _timeout = options.connect_timeout;
}

zmq::fabtx_connecter_t::~fabtx_connecter_t ()
{
    zmq_assert (!_running);
    zmq_assert (!_conn);
    zmq_assert (!_ctx);
    zmq_assert (!_connect_timer && !_tick_timer);
}

void zmq::fabtx_connecter_t::start_connecting ()
{
    zmq_assert (!_conn && !_running && !_handle);
    _ctx = fabtx_ctx_ref ();
    if (!_ctx) {
        add_reconnect_timer ();
        return;
    }
    if (_waits) {
        start_helper ();
        return;
    }
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
    connected (conn);
}

void zmq::fabtx_connecter_t::connected (fabtx_conn *conn_)
{
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
    //  What was polled for this connect (its fd, or the helper's eventfd).
    const fd_t fd = _evfd != retired_fd ? _evfd : _fd;
    unwatch ();
    if (_conn) {
        fabtx_conn_close (_conn, 0);
        _conn = NULL;
    }
    if (_evfd != retired_fd) {
        ::close (_evfd);
        _evfd = retired_fd;
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
    if (_conn) {
        step ();
        return;
    }
    if (!_running)
        return; //  stale
    //  The helper thread signalled: its connect is over.
    uint64_t v;
    if (::read (_evfd, &v, sizeof v) != static_cast<ssize_t> (sizeof v))
        return; //  spurious
    join_helper ();
    if (_hrc < 0) {
        failed (_hrc, true);
        return;
    }
    fabtx_conn *conn = _hconn;
    _hconn = NULL;
    unwatch ();
    ::close (_evfd);
    _evfd = retired_fd;
    connected (conn);
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
        if (_conn)
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
    const fd_t fd = _evfd != retired_fd ? _evfd : _fd;
    const bool opened = _conn || _running;
    unwatch ();
    if (_running) {
        //  Bounded by the helper's connect timeout.
        join_helper ();
        if (_hconn)
            fabtx_conn_close (_hconn, 0);
        _hconn = NULL;
    }
    if (_evfd != retired_fd) {
        ::close (_evfd);
        _evfd = retired_fd;
    }
    if (_conn) {
        fabtx_conn_close (_conn, 0);
        _conn = NULL;
    }
    if (opened)
        _socket->event_closed (
          make_unconnected_connect_endpoint_pair (_endpoint), fd);
    if (_ctx) {
        fabtx_ctx_unref ();
        _ctx = NULL;
    }
    stream_connecter_base_t::process_term (linger_);
}

// ---- the helper thread, for backends whose transport connect blocks ----

void *zmq::fabtx_connecter_t::helper (void *arg_)
{
    fabtx_connecter_t *self = static_cast<fabtx_connecter_t *> (arg_);
    fabtx_conn *conn = NULL;
    const int rc =
      fabtx_connect (self->_ctx, self->_url.c_str (), &conn, self->_timeout);
    self->_hconn = rc == 0 ? conn : NULL;
    self->_hrc = rc;
    //  The I/O thread joins the thread before it looks at the results.
    const uint64_t one = 1;
    const ssize_t n = ::write (self->_evfd, &one, sizeof one);
    LIBZMQ_UNUSED (n);
    return NULL;
}

void zmq::fabtx_connecter_t::start_helper ()
{
    _evfd = eventfd (0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (_evfd < 0) {
        _evfd = retired_fd;
        failed (-errno, false);
        return;
    }
    _hconn = NULL;
    _hrc = 0;
    //  The helper must not take the application's signals.
    sigset_t all, old;
    sigfillset (&all);
    pthread_sigmask (SIG_BLOCK, &all, &old);
    const int rc = pthread_create (&_thread, NULL, helper, this);
    pthread_sigmask (SIG_SETMASK, &old, NULL);
    if (rc != 0) {
        failed (-rc, false);
        return;
    }
    _running = true;
    _handle = add_fd (_evfd);
    set_pollin (_handle);
    _socket->event_connect_delayed (
      make_unconnected_connect_endpoint_pair (_endpoint), EINPROGRESS);
}

void zmq::fabtx_connecter_t::join_helper ()
{
    zmq_assert (_running);
    pthread_join (_thread, NULL);
    _running = false;
}
