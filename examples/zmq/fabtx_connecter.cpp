/* SPDX-License-Identifier: MIT */
#include "precompiled.hpp"
#include "fabtx_connecter.hpp"
#include "fabtx_address.hpp"
#include "fabtx_engine.hpp"
#include "address.hpp"
#include "session_base.hpp"
#include "socket_base.hpp"
#include "err.hpp"

zmq::fabtx_connecter_t::fabtx_connecter_t (zmq::io_thread_t *io_thread_,
                                           zmq::session_base_t *session_,
                                           const options_t &options_,
                                           address_t *addr_,
                                           bool delayed_start_) :
    stream_connecter_base_t (
      io_thread_, session_, options_, addr_, delayed_start_)
{
}

void zmq::fabtx_connecter_t::out_event ()
{
    //  Never polled: the connect completes inside start_connecting().
}

void zmq::fabtx_connecter_t::start_connecting ()
{
    fabtx_ctx *ctx = fabtx_ctx_ref ();
    if (!ctx) {
        add_reconnect_timer ();
        return;
    }
    //  fabtx_connect includes the fabtx handshake; bound the time the I/O
    //  thread can spend in it.
    int timeout = 1000;
    if (options.connect_timeout > 0 && options.connect_timeout < timeout)
        timeout = options.connect_timeout;
    const std::string url = _addr->protocol + "://" + _addr->address;
    fabtx_conn *conn = NULL;
    const int rc = fabtx_connect (ctx, url.c_str (), &conn, timeout);
    if (rc < 0) {
        fabtx_ctx_unref ();
        errno = fabtx_errno (rc);
        add_reconnect_timer ();
        return;
    }
    const endpoint_uri_pair_t endpoint_pair (url, _endpoint,
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
