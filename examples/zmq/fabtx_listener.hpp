/* SPDX-License-Identifier: MIT */
/* fabtx_listener.hpp -- bound side of a fabtx transport.
 *
 * fabtx_accept() includes the fabtx handshake, which waits for the client:
 * a client that connects and then says nothing holds it up to the
 * handshake bound.  So the I/O thread never accepts itself.  An accept
 * thread per listener does it: it sleeps in poll() on fabtx_listener_fd()
 * and a stop eventfd (a backend without a pollable listener, rio://, blocks
 * in fabtx_accept() in 100 ms slices instead) and passes each connection,
 * or each failed accept, to the I/O thread through an eventfd that the
 * base polls.  A silent client then delays only the connections queued
 * behind it, never the traffic of the sockets the I/O thread serves. */
#ifndef __ZMQ_FABTX_LISTENER_HPP_INCLUDED__
#define __ZMQ_FABTX_LISTENER_HPP_INCLUDED__

#include "stream_listener_base.hpp"

#include <pthread.h>
#include <vector>

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
    int close () ZMQ_OVERRIDE;

  private:
    void in_event () ZMQ_OVERRIDE;
    void out_event () ZMQ_OVERRIDE {}

    //  Give an accepted connection an engine and a session.
    void attach (fabtx_conn *conn_);
    void stop_worker ();

    static void *accept_worker (void *arg_);

    ::fabtx_listener *_listener; //  used by the accept thread while it runs
    int _lfd;                    //  fabtx_listener_fd(), or -1 (rio://)
    int _stop_fd;                //  eventfd: stops the accept thread
    bool _running;
    pthread_t _thread;
    pthread_mutex_t _mutex;
    std::vector<fabtx_conn *> _queue; //  under _mutex: accepted
    std::vector<int> _failed;         //  under _mutex: errno of failed ones

    ZMQ_NON_COPYABLE_NOR_MOVABLE (fabtx_listener_t)
};
}

#endif
