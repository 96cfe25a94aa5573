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

zmq::fabtx_listener_t::fabtx_listener_t (io_thread_t *io_thread_,
                                         socket_base_t *socket_,
                                         const options_t &options_) :
    stream_listener_base_t (io_thread_, socket_, options_),
    _listener (NULL),
    _failures (0),
    _paused (false)
{
}

zmq::fabtx_listener_t::~fabtx_listener_t ()
{
    //  close() ran in process_term; a failed bind never opened one.
    zmq_assert (!_listener);
}

std::string zmq::fabtx_listener_t::get_socket_name (fd_t,
                                                    socket_end_t) const
{
    return _endpoint;
}

int zmq::fabtx_listener_t::set_local_address (const std::string &protocol_,
                                              const std::string &address_)
{
    //  ofi://HOST:* as tcp://HOST:* - any free port (fabtx: port 0); the
    //  port the system chose is reported below (ZMQ_LAST_ENDPOINT)
    std::string addr = address_;
    if (protocol_ == "ofi") {
        size_t end = addr.find_first_of ("?@");
        if (end == std::string::npos)
            end = addr.size ();
        if (end >= 2 && addr.compare (end - 2, 2, ":*") == 0)
            addr.replace (end - 1, 1, "0");
    }
    if (fabtx_check_address (protocol_, addr) != 0)
        return -1;
    fabtx_ctx *ctx = fabtx_ctx_ref (get_ctx ());
    if (!ctx)
        return -1;
    const std::string url = protocol_ + "://" + addr;
    ::fabtx_listener *l = NULL;
    int rc = fabtx_listen (ctx, url.c_str (), &l);
    if (rc == 0) {
        //  the core's epoll set: always there (a timer stands in for a
        //  backend without a pollable listener, rio://)
        rc = fabtx_listener_fd (l);
        if (rc < 0)
            fabtx_listener_close (l);
    }
    if (rc < 0) {
        fabtx_ctx_unref ();
        errno = fabtx_errno (rc);
        return -1;
    }
    _listener = l;
    _s = rc; //  polled by the base (process_plug), closed by fabtx
    char bound[512];
    _endpoint = fabtx_bound_endpoint (
      fabtx_listener_url (_listener, bound, sizeof bound) > 0
        ? std::string (bound)
        : url);
    _socket->event_listening (make_unconnected_bind_endpoint_pair (_endpoint),
                              _s);
    return 0;
}

int zmq::fabtx_listener_t::close ()
{
    zmq_assert (_s != retired_fd && _listener);
    const fd_t fd = _s;
    if (_paused) {
        cancel_timer (pause_timer_id);
        _paused = false;
    }
    //  closes the fd too, and drops the handshakes still in flight
    fabtx_listener_close (_listener);
    _listener = NULL;
    fabtx_ctx_unref ();
    _s = retired_fd;
    _socket->event_closed (make_unconnected_bind_endpoint_pair (_endpoint),
                           fd);
    return 0;
}

void zmq::fabtx_listener_t::attach (fabtx_conn *conn_)
{
    const endpoint_uri_pair_t endpoint_pair (_endpoint, _endpoint,
                                             endpoint_type_bind);
    fabtx_engine_t *engine =
      fabtx_engine_t::create (conn_, options, endpoint_pair);
    if (!engine) {
        _socket->event_accept_failed (
          make_unconnected_bind_endpoint_pair (_endpoint), errno);
        return;
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

void zmq::fabtx_listener_t::in_event ()
{
    //  fabtx_accept with timeout 0 drives the handshakes in flight, takes
    //  in new clients and hands out what is complete, never waiting.
    for (int i = 0; i < batch; i++) {
        fabtx_conn *conn = NULL;
        const int rc = fabtx_accept (_listener, &conn, 0);
        if (rc == -EAGAIN)
            return;
        if (rc == 0) {
            _failures = 0;
            attach (conn);
            continue;
        }
        //  -ECONNABORTED: a client's handshake failed (silence, garbage,
        //  a reset): its fault, reported, nothing to pause for.  Anything
        //  else is the listener's own error (-ENOMEM, -EMFILE, ...).
        _socket->event_accept_failed (
          make_unconnected_bind_endpoint_pair (_endpoint), fabtx_errno (rc));
        if (rc != -ECONNABORTED && ++_failures >= max_failures) {
            _failures = 0;
            reset_pollin (_handle);
            add_timer (pause_ms, pause_timer_id);
            _paused = true;
            return;
        }
    }
}

void zmq::fabtx_listener_t::timer_event (int id_)
{
    zmq_assert (id_ == pause_timer_id);
    _paused = false;
    set_pollin (_handle);
}
