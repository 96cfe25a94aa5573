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
#include <signal.h>
#include <stdint.h>
#include <sys/eventfd.h>
#include <unistd.h>

namespace
{
//  fabtx_accept includes the fabtx handshake, so a connection gets a
//  bounded wait for its client (the connecting side runs it from its own
//  thread); 0 would abort a handshake still in flight.
const int accept_timeout_ms = 1000;
//  Without a listener fd (rio://) the accept thread blocks in fabtx_accept
//  and looks at its stop flag this often.
const int accept_slice_ms = 100;
}

zmq::fabtx_listener_t::fabtx_listener_t (io_thread_t *io_thread_,
                                         socket_base_t *socket_,
                                         const options_t &options_) :
    stream_listener_base_t (io_thread_, socket_, options_),
    _listener (NULL),
    _lfd (-1),
    _stop_fd (-1),
    _running (false)
{
    pthread_mutex_init (&_mutex, NULL);
}

zmq::fabtx_listener_t::~fabtx_listener_t ()
{
    //  Normally closed by process_term; a failed bind never got this far.
    stop_worker ();
    if (_listener) {
        fabtx_listener_close (_listener);
        _listener = NULL;
        fabtx_ctx_unref ();
    }
    pthread_mutex_destroy (&_mutex);
}

std::string zmq::fabtx_listener_t::get_socket_name (fd_t,
                                                    socket_end_t) const
{
    return _endpoint;
}

void *zmq::fabtx_listener_t::accept_worker (void *arg_)
{
    fabtx_listener_t *self = static_cast<fabtx_listener_t *> (arg_);
    const bool has_fd = self->_lfd >= 0;
    int failures = 0; //  in a row
    for (;;) {
        //  One wait: the stop eventfd always; with a listener fd, sleep
        //  until a client knocks (or the socket closes), then give its
        //  handshake the full bound; without one (rio://), only look and
        //  block in fabtx_accept for a slice.  A listener that fails at
        //  once, again and again, is not looped on at full speed: a pause
        //  (or the stop) first.
        const bool pause = failures >= 8;
        struct pollfd pfd[2];
        nfds_t n = 0;
        pfd[n].fd = self->_stop_fd;
        pfd[n].events = POLLIN;
        pfd[n++].revents = 0;
        if (has_fd && !pause) {
            pfd[n].fd = self->_lfd;
            pfd[n].events = POLLIN;
            pfd[n++].revents = 0;
        }
        const int wait = pause ? accept_slice_ms : has_fd ? -1 : 0;
        if (poll (pfd, n, wait) < 0 && errno != EINTR)
            return NULL; //  EFAULT/ENOMEM: nothing sane left to do
        if (pfd[0].revents)
            return NULL; //  stop_worker() is waiting for us
        if (pause) {
            failures = 0;
            continue;
        }
        if (has_fd && !pfd[1].revents)
            continue;
        fabtx_conn *conn = NULL;
        const int rc = fabtx_accept (
          self->_listener, &conn, has_fd ? accept_timeout_ms : accept_slice_ms);
        if (rc == -EAGAIN || rc == -ETIMEDOUT)
            continue; //  nothing came (or it was gone before accept)
        failures = rc == 0 ? 0 : failures + 1;
        pthread_mutex_lock (&self->_mutex);
        if (rc == 0)
            self->_queue.push_back (conn);
        else
            self->_failed.push_back (fabtx_errno (rc));
        pthread_mutex_unlock (&self->_mutex);
        const uint64_t one = 1;
        const ssize_t wn = ::write (self->_s, &one, sizeof one);
        LIBZMQ_UNUSED (wn);
    }
}

void zmq::fabtx_listener_t::stop_worker ()
{
    if (!_running)
        return;
    const uint64_t one = 1;
    const ssize_t n = ::write (_stop_fd, &one, sizeof one);
    LIBZMQ_UNUSED (n);
    //  At once from poll(); within one slice (rio://); within the handshake
    //  bound if a client's handshake is in flight right now.
    pthread_join (_thread, NULL);
    _running = false;
    for (size_t i = 0; i < _queue.size (); i++)
        fabtx_conn_close (_queue[i], 0);
    _queue.clear ();
    _failed.clear ();
    ::close (_stop_fd);
    _stop_fd = -1;
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
    fabtx_ctx *ctx = fabtx_ctx_ref ();
    if (!ctx)
        return -1;
    const std::string url = protocol_ + "://" + addr;
    int rc = fabtx_listen (ctx, url.c_str (), &_listener);
    if (rc < 0) {
        _listener = NULL;
        fabtx_ctx_unref ();
        errno = fabtx_errno (rc);
        return -1;
    }
    //  (before the accept thread uses the listener)
    char bound[512];
    _endpoint = fabtx_listener_url (_listener, bound, sizeof bound) > 0
                  ? std::string (bound)
                  : url;
    _lfd = fabtx_listener_fd (_listener); //  < 0: none (rio://)
    int err = 0;
    _stop_fd = eventfd (0, EFD_CLOEXEC | EFD_NONBLOCK);
    _s = eventfd (0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (_stop_fd < 0 || _s < 0) {
        err = errno;
    } else {
        sigset_t all, old;
        sigfillset (&all);
        pthread_sigmask (SIG_BLOCK, &all, &old);
        err = pthread_create (&_thread, NULL, accept_worker, this);
        pthread_sigmask (SIG_SETMASK, &old, NULL);
        _running = err == 0;
    }
    if (!_running) {
        if (_stop_fd >= 0)
            ::close (_stop_fd);
        if (_s >= 0)
            ::close (_s);
        _stop_fd = -1;
        _s = retired_fd;
        fabtx_listener_close (_listener);
        _listener = NULL;
        fabtx_ctx_unref ();
        errno = err;
        return -1;
    }
    _socket->event_listening (make_unconnected_bind_endpoint_pair (_endpoint),
                              _s);
    return 0;
}

int zmq::fabtx_listener_t::close ()
{
    zmq_assert (_s != retired_fd);
    const fd_t fd = _s;
    stop_worker ();
    ::close (_s); //  our eventfd (the listener's fd belongs to fabtx)
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
    uint64_t v;
    if (::read (_s, &v, sizeof v) != static_cast<ssize_t> (sizeof v))
        return;
    std::vector<fabtx_conn *> conns;
    std::vector<int> failed;
    pthread_mutex_lock (&_mutex);
    conns.swap (_queue);
    failed.swap (_failed);
    pthread_mutex_unlock (&_mutex);
    for (size_t i = 0; i < failed.size (); i++)
        _socket->event_accept_failed (
          make_unconnected_bind_endpoint_pair (_endpoint), failed[i]);
    for (size_t i = 0; i < conns.size (); i++)
        attach (conns[i]);
}
