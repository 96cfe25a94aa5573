/* SPDX-License-Identifier: MIT */
#include "precompiled.hpp"
#include "fabtx_listener.hpp"
#include "fabtx_address.hpp"
#include "fabtx_engine.hpp"
#include "fabtx_vendor.h"
#include "io_thread.hpp"
#include "session_base.hpp"
#include "socket_base.hpp"
#include "err.hpp"

#include <poll.h>

namespace
{
const int accept_timeout_ms = 1000;
}

zmq::fabtx_listener_t::fabtx_listener_t (io_thread_t *io_thread_,
                                         socket_base_t *socket_,
                                         const options_t &options_) :
    stream_listener_base_t (io_thread_, socket_, options_),
    _listener (NULL)
{
}

zmq::fabtx_listener_t::~fabtx_listener_t ()
{
    //  Normally closed by process_term; a failed bind never got a fd.
    if (_listener) {
        fabtx_listener_close (_listener);
        _listener = NULL;
        fabtx_ctx_unref ();
    }
}

std::string zmq::fabtx_listener_t::get_socket_name (fd_t,
                                                    socket_end_t) const
{
    return _endpoint;
}

int zmq::fabtx_listener_t::set_local_address (const std::string &protocol_,
                                              const std::string &address_)
{
    if (fabtx_check_address (protocol_, address_) != 0)
        return -1;
    fabtx_ctx *ctx = fabtx_ctx_ref ();
    if (!ctx)
        return -1;
    const std::string url = protocol_ + "://" + address_;
    int rc = fabtx_listen (ctx, url.c_str (), &_listener);
    if (rc < 0) {
        _listener = NULL;
        fabtx_ctx_unref ();
        errno = fabtx_errno (rc);
        return -1;
    }
    rc = fabtx_listener_fd (_listener);
    if (rc < 0) {
        fabtx_listener_close (_listener);
        _listener = NULL;
        fabtx_ctx_unref ();
        errno = fabtx_errno (rc);
        return -1;
    }
    //  The base polls _s and, at the end, hands it to close() below, which
    //  gives it back to fabtx instead of close()ing it.
    _s = rc;
    _endpoint = url;
    _socket->event_listening (make_unconnected_bind_endpoint_pair (_endpoint),
                              _s);
    return 0;
}

int zmq::fabtx_listener_t::close ()
{
    zmq_assert (_s != retired_fd);
    const fd_t fd = _s;
    fabtx_listener_close (_listener);
    _listener = NULL;
    fabtx_ctx_unref ();
    _s = retired_fd;
    _socket->event_closed (make_unconnected_bind_endpoint_pair (_endpoint),
                           fd);
    return 0;
}

void zmq::fabtx_listener_t::in_event ()
{
    //  Accept everything that is pending; each connection gets a session
    //  and a fabtx engine, like stream_listener_base_t::create_engine.
    //  fabtx_accept includes the fabtx handshake (the connecting side runs
    //  it from its own thread), so a pending connection is given a bounded
    //  wait rather than 0, which would abort it.
    for (;;) {
        struct pollfd pfd;
        pfd.fd = _s;
        pfd.events = POLLIN;
        pfd.revents = 0;
        if (poll (&pfd, 1, 0) <= 0)
            return;
        fabtx_conn *conn = NULL;
        const int rc = fabtx_accept (_listener, &conn, accept_timeout_ms);
        if (rc == -EAGAIN || rc == -ETIMEDOUT)
            return;
        if (rc < 0) {
            _socket->event_accept_failed (
              make_unconnected_bind_endpoint_pair (_endpoint),
              fabtx_errno (rc));
            continue;
        }
        const endpoint_uri_pair_t endpoint_pair (_endpoint, _endpoint,
                                                 endpoint_type_bind);
        fabtx_engine_t *engine =
          fabtx_engine_t::create (conn, options, endpoint_pair);
        if (!engine) {
            _socket->event_accept_failed (
              make_unconnected_bind_endpoint_pair (_endpoint), errno);
            continue;
        }
        const fd_t fd = engine->fd ();
        io_thread_t *io_thread = choose_io_thread (options.affinity);
        zmq_assert (io_thread);
        session_base_t *session =
          session_base_t::create (io_thread, false, _socket, options, NULL);
        errno_assert (session);
        session->inc_seqnum ();
        launch_child (session);
        send_attach (session, engine, false);
        _socket->event_accepted (endpoint_pair, fd);
    }
}
