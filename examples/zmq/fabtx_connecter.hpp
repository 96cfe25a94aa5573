/* SPDX-License-Identifier: MIT */
/* fabtx_connecter.hpp -- connecting side of a fabtx transport.  Connects
 * (with a bounded timeout: fabtx has no asynchronous connect yet), hands the
 * connection to a fabtx_engine_t, and retries on libzmq's reconnect timer. */
#ifndef __ZMQ_FABTX_CONNECTER_HPP_INCLUDED__
#define __ZMQ_FABTX_CONNECTER_HPP_INCLUDED__

#include "stream_connecter_base.hpp"

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

  private:
    void out_event () ZMQ_OVERRIDE;
    void start_connecting () ZMQ_OVERRIDE;

    ZMQ_NON_COPYABLE_NOR_MOVABLE (fabtx_connecter_t)
};
}

#endif
