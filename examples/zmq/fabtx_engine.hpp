/* SPDX-License-Identifier: MIT */
/* fabtx_engine.hpp -- ZMTP over a fabtx connection.
 *
 * The engine is libzmq's own zmtp_engine_t (greeting, mechanisms, multipart,
 * heartbeats) with read()/write() going to fabtx messages instead of a byte
 * stream, and with in_event/out_event driving the fabtx eventfd bridge:
 * drain, then fabtx_conn_arm(); -EAGAIN from arm means "more work, go
 * again" before returning to the poller.  See docs/zmq.md. */
#ifndef __ZMQ_FABTX_ENGINE_HPP_INCLUDED__
#define __ZMQ_FABTX_ENGINE_HPP_INCLUDED__

#include <deque>
#include <vector>

#include "zmtp_engine.hpp"
#include "poller.hpp"
#include "fabtx_vendor.h"

namespace zmq
{
//  A message body fabtx_send_zc may still be reading, and its ticket.
struct fabtx_zc_hold_t
{
    uint64_t ticket;
    msg_t msg;
};

class fabtx_engine_t ZMQ_FINAL : public zmtp_engine_t, public i_spinner
{
  public:
    //  Takes ownership of conn_ (closed with the engine).  Returns NULL
    //  with errno set (and conn_ closed) on failure.
    static fabtx_engine_t *create (fabtx_conn *conn_,
                                   const options_t &options_,
                                   const endpoint_uri_pair_t &endpoint_pair_);
    ~fabtx_engine_t ();

    fd_t fd () const { return _fd; }

    //  i_poll_events / i_engine
    void terminate () ZMQ_OVERRIDE;
    void in_event () ZMQ_OVERRIDE;
    void out_event () ZMQ_OVERRIDE;
    void timer_event (int id_) ZMQ_OVERRIDE;
    bool restart_input () ZMQ_OVERRIDE;

    //  i_spinner: busy-poll pass (only with FABTX_SPIN_US / spin_us > 0)
    bool spin_event (bool stop_) ZMQ_OVERRIDE;

  protected:
    void plug_internal () ZMQ_OVERRIDE;
    void error (error_reason_t reason_) ZMQ_OVERRIDE;
    int read (void *data_, size_t size_) ZMQ_OVERRIDE;
    int write (const void *data_, size_t size_) ZMQ_OVERRIDE;

  private:
    fabtx_engine_t (fabtx_conn *conn_,
                    fd_t fd_,
                    const options_t &options_,
                    const endpoint_uri_pair_t &endpoint_pair_);

    //  Send what can be sent, receive what can be received, then arm.
    //  Returns false if the engine was destroyed.
    bool pump ();
    //  Runs one base-class entry point that may destroy the engine.
    //  Returns false if it did.
    bool guarded_in_event ();
    void cancel_stall_timer ();
    void flush_output ();
    //  Busy-poll window open: traffic less than spin_us ago.
    bool spin_active (uint64_t now_ns_) const
    {
        return _spin_ns != 0 && now_ns_ - _last_active_ns < _spin_ns;
    }
    void stop_spin ();

    enum
    {
        //  Polls credits while input is stopped (the fd cannot be armed
        //  while messages are waiting) and output is blocked.
        stall_timer_id = 0x90,
        //  Periodic look at an idle connection (keepalive, dead peers).
        tick_timer_id = 0x91,
        tick_ms = 500
    };

    fabtx_conn *_conn;
    fd_t _fd;
    //  A message read only in part (zero-copy lend or fabtx's buffer).
    fabtx_msg _held;
    size_t _held_off;
    bool _holding;
    size_t _max_write;
    bool _out_blocked;
    bool _tx_error;
    int _tx_errno;
    bool _rx_progress;
    bool _tx_progress;
    bool _stall_timer;
    bool _tick_timer;
    //  read() may first try the syscall-free fabtx_peek_len().
    bool _cheap;
    bool *_dead;
    //  Busy-poll (opt-in): while traffic is recent the poller loop does
    //  not sleep and spin_event () looks at the ring; the fd is then left
    //  unarmed, so the peer rings no doorbell (no eventfd write).
    uint64_t _spin_ns;
    uint64_t _last_active_ns;
    bool _spin_registered;
    bool _unarmed;
    //  The backend makes ring writes visible without a progress call
    //  (shm://): the spin pass can peek without a system call.
    bool _direct;
    //  The poller we were plugged into: a lingering close finishes there.
    zmq::poller_t *_poller_kept;
    //  fabtx_conn_fds' second fd, when the connection has two (ofi://
    //  with a CQ wait fd: the fd registered by the base is the provider's
    //  own, this one the bootstrap socket and the rest), and its handle.
    fd_t _ctl_fd;
    handle_t _ctl_handle;
    void rm_ctl_fd ();
    //  The encoder's unsent bytes at terminate() (flush_output), for the
    //  closer.
    std::vector<unsigned char> _tail;
    //  Zero copy (fabtx_send_zc: ofi:// where the provider reads the
    //  caller's memory in place): large message bodies go to the peer
    //  from the message itself, which the encoder would close when it
    //  moves on; a reference to each is held here until
    //  fabtx_send_zc_done passes its ticket (and handed to the closer with
    //  the connection).  Off after -ENOTSUP, or by FABTX_ZMQ_ZC=0.
    std::deque<fabtx_zc_hold_t> _zc_held;
    bool _zc_ok;
    ssize_t send_zc (const void *data_, size_t n_);
    void zc_release ();

    ZMQ_NON_COPYABLE_NOR_MOVABLE (fabtx_engine_t)
};
}

#endif
