/* SPDX-License-Identifier: MIT */
/* fabtx_listener.hpp -- bound side of a fabtx transport.
 *
 * Normally the I/O thread polls fabtx_listener_fd() and accepts there.  A
 * backend whose listener has no pollable fd (rio://: rio_cm cannot be
 * polled) gets a helper thread instead that blocks in fabtx_accept() (with a
 * short timeout, to notice shutdown) and passes each connection to the I/O
 * thread through an eventfd. */
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
    static void *accept_worker (void *arg_);
    void stop_worker ();

    ::fabtx_listener *_listener;

    //  accept-thread mode (no listener fd)
    bool _threaded;
    bool _running;
    pthread_t _thread;
    pthread_mutex_t _mutex;
    bool _stop;                        //  under _mutex
    std::vector<fabtx_conn *> _queue; //  under _mutex

    ZMQ_NON_COPYABLE_NOR_MOVABLE (fabtx_listener_t)
};
}

#endif
