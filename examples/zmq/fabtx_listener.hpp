/* SPDX-License-Identifier: MIT */
/* fabtx_listener.hpp -- bound side of a fabtx transport.
 *
 * Driven by the I/O thread alone, like tcp_listener_t: the poller watches
 * fabtx_listener_fd() (the core's epoll set over the backend's listener,
 * every handshake in flight, its ready signal and its timer; level-
 * triggered), and in_event takes what fabtx_accept(l, &c, 0) hands out
 * until -EAGAIN.  The core runs the handshakes (up to 64 at once, each
 * bounded by handshake_ms) without waiting, so a silent client delays
 * nobody: neither the sockets this I/O thread serves nor the clients
 * behind it.  Each connection gets an engine and a session; a client whose
 * handshake failed (-ECONNABORTED) or an accept error is reported as
 * ZMQ_EVENT_ACCEPT_FAILED. */
#ifndef __ZMQ_FABTX_LISTENER_HPP_INCLUDED__
#define __ZMQ_FABTX_LISTENER_HPP_INCLUDED__

#include "stream_listener_base.hpp"

struct fabtx_listener;
struct fabtx_conn;

namespace zmq
{
class fabtx_listener_t ZMQ_FINAL : public stream_listener_base_t
{
  public:
    fabtx_listener_t (zmq::io_thread_t *io_thread_,
                      zmq::socket_base_t *socket_,
                      const options_t &options_);
    ~fabtx_listener_t ();

    //  protocol_ is "shm", "ofi", ...; address_ what follows "://".
    int set_local_address (const std::string &protocol_,
                           const std::string &address_);

  protected:
    std::string get_socket_name (fd_t fd_,
                                 socket_end_t socket_end_) const ZMQ_OVERRIDE;
    //  Closes the fabtx listener (its fd is fabtx's, not ours to close);
    //  the base's process_term calls it, after taking the fd out of the
    //  poller.
    int close () ZMQ_OVERRIDE;

  private:
    void in_event () ZMQ_OVERRIDE;
    void out_event () ZMQ_OVERRIDE {}
    void timer_event (int id_) ZMQ_OVERRIDE;

    //  Give an accepted connection an engine and a session.
    void attach (fabtx_conn *conn_);

    enum
    {
        //  Accept errors of our own (not a client's failed handshake) in a
        //  row before the listener pauses, and for how long: an error that
        //  repeats at once (EMFILE) must not spin the I/O thread.
        max_failures = 8,
        pause_ms = 100,
        pause_timer_id = 0x92,
        //  Connections taken per in_event (the fd is level-triggered: the
        //  rest come on the next pass, after the other sockets' events).
        batch = 64
    };

    ::fabtx_listener *_listener;
    int _failures;
    bool _paused;

    ZMQ_NON_COPYABLE_NOR_MOVABLE (fabtx_listener_t)
};
}

#endif
