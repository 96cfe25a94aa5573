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
    _running (false),
    _ctx (NULL),
    _timeout (1000),
    _conn (NULL),
    _rc (0)
{
    _url = _addr->protocol + "://" + _addr->address;
    //  fabtx_connect includes the fabtx handshake; bound it.
    if (options.connect_timeout > 0 && options.connect_timeout < _timeout)
        _timeout = options.connect_timeout;
}

zmq::fabtx_connecter_t::~fabtx_connecter_t ()
{
    zmq_assert (!_running);
    zmq_assert (!_conn);
}

void *zmq::fabtx_connecter_t::worker (void *arg_)
{
    fabtx_connecter_t *self = static_cast<fabtx_connecter_t *> (arg_);
    fabtx_conn *conn = NULL;
    self->_rc = fabtx_connect (self->_ctx, self->_url.c_str (), &conn,
                               self->_timeout);
    self->_conn = self->_rc == 0 ? conn : NULL;
    const uint64_t one = 1;
    //  The eventfd write orders the stores above before the I/O thread's
    //  read of them (it joins the thread before looking anyway).
    const ssize_t n = ::write (self->_s, &one, sizeof one);
    LIBZMQ_UNUSED (n);
    return NULL;
}

int zmq::fabtx_connecter_t::join ()
{
    zmq_assert (_running);
    pthread_join (_thread, NULL);
    _running = false;
    return _rc;
}

void zmq::fabtx_connecter_t::start_connecting ()
{
    zmq_assert (!_running && _s == retired_fd);
    _ctx = fabtx_ctx_ref ();
    if (!_ctx) {
        add_reconnect_timer ();
        return;
    }
    _s = eventfd (0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (_s < 0) {
        _s = retired_fd;
        fabtx_ctx_unref ();
        add_reconnect_timer ();
        return;
    }
    //  The helper must not take the application's signals.
    sigset_t all, old;
    sigfillset (&all);
    pthread_sigmask (SIG_BLOCK, &all, &old);
    const int rc = pthread_create (&_thread, NULL, worker, this);
    pthread_sigmask (SIG_SETMASK, &old, NULL);
    if (rc != 0) {
        close ();
        fabtx_ctx_unref ();
        add_reconnect_timer ();
        return;
    }
    _running = true;
    _handle = add_fd (_s);
    set_pollin (_handle);
}

void zmq::fabtx_connecter_t::out_event ()
{
    //  The base's in_event lands here: the helper thread signalled.
    uint64_t v;
    if (::read (_s, &v, sizeof v) != static_cast<ssize_t> (sizeof v))
        return; //  spurious
    const int rc = join ();
    rm_handle ();
    close ();
    fabtx_conn *conn = _conn;
    _conn = NULL;
    if (rc < 0) {
        fabtx_ctx_unref ();
        errno = fabtx_errno (rc);
        add_reconnect_timer ();
        return;
    }
    const endpoint_uri_pair_t endpoint_pair (_url, _endpoint,
                                             endpoint_type_connect);
    fabtx_engine_t *engine =
      fabtx_engine_t::create (conn, options, endpoint_pair);
    fabtx_ctx_unref (); //  the engine holds its own reference
    if (!engine) {
        add_reconnect_timer ();
        return;
    }
    const fd_t fd = engine->fd ();
    send_attach (_session, engine);
    terminate ();
    _socket->event_connected (endpoint_pair, fd);
}

void zmq::fabtx_connecter_t::process_term (int linger_)
{
    if (_running) {
        //  Bounded by the connect timeout.
        join ();
        if (_conn) {
            fabtx_conn_close (_conn, 0);
            _conn = NULL;
        }
        fabtx_ctx_unref ();
    }
    stream_connecter_base_t::process_term (linger_);
}
