/* SPDX-License-Identifier: MIT */
/* fabtx_listener.hpp -- bound side of a fabtx transport: polls
 * fabtx_listener_fd() in the I/O thread and accepts without blocking. */
#ifndef __ZMQ_FABTX_LISTENER_HPP_INCLUDED__
#define __ZMQ_FABTX_LISTENER_HPP_INCLUDED__

#include "stream_listener_base.hpp"

struct fabtx_listener;

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

    ::fabtx_listener *_listener;

    ZMQ_NON_COPYABLE_NOR_MOVABLE (fabtx_listener_t)
};
}

#endif
