/* SPDX-License-Identifier: MIT */
/* fabtx_connecter.hpp -- connecting side of a fabtx transport.
 *
 * fabtx_connect() is blocking (it includes the fabtx handshake), and the
 * listener it talks to may well live in this very I/O thread.  So the
 * connect runs in a short-lived helper thread that blocks (no spinning) and
 * then signals an eventfd that this connecter polls in the I/O thread; the
 * connection is handed to a fabtx_engine_t there.  Failures go through
 * libzmq's reconnect timer. */
#ifndef __ZMQ_FABTX_CONNECTER_HPP_INCLUDED__
#define __ZMQ_FABTX_CONNECTER_HPP_INCLUDED__

#include "stream_connecter_base.hpp"

#include <pthread.h>

struct fabtx_conn;
struct fabtx_ctx;

namespace zmq
{
class fabtx_connecter_t ZMQ_FINAL : public stream_connecter_base_t
{
  public:
    fabtx_connecter_t (zmq::io_thread_t *io_thread_,
                       zmq::session_base_t *session_,
                       const options_t &options_,
                       address_t *addr_,
                       bool delayed_start_);
    ~fabtx_connecter_t ();

  private:
    void out_event () ZMQ_OVERRIDE;
    void start_connecting () ZMQ_OVERRIDE;
    void process_term (int linger_) ZMQ_OVERRIDE;

    static void *worker (void *arg_);
    //  Wait for the helper thread; returns its result.
    int join ();

    bool _running;
    pthread_t _thread;
    fabtx_ctx *_ctx;
    std::string _url;
    int _timeout;
    //  Written by the helper thread before it signals the eventfd.
    fabtx_conn *_conn;
    int _rc;

    ZMQ_NON_COPYABLE_NOR_MOVABLE (fabtx_connecter_t)
};
}

#endif
