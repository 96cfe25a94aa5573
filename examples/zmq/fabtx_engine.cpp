/* SPDX-License-Identifier: MIT */
#include "precompiled.hpp"
#include "fabtx_engine.hpp"
#include "fabtx_address.hpp"
#include "err.hpp"
#include "ip.hpp"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>
#include <new>
#include <vector>

namespace
{
//  libzmq's stream engine asks getpeername() about its fd in the base
//  constructor and asserts on ENOTSOCK, then polls and finally close()s it.
//  So it gets an unconnected socket (getpeername: ENOTCONN, fine) whose
//  number is then pointed at the fabtx fd with dup3(): the poller watches
//  fabtx's fd, and the engine's close() drops only our duplicate.
zmq::fd_t placeholder_socket ()
{
    return socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
}

//  Connection metadata (Peer-Address, and with it ZMQ_SRCFD, which is the
//  engine's fd): what tcp:// and ipc:// give for their peer socket.
//  ofi:// the peer's IP address (its bootstrap connection), as tcp://;
//  shm:// the peer's credentials from its control socket, exactly as
//  ipc:// gives them ("localhost:uid:gid:pid" on Linux); rio:// and
//  scif:// have no such address yet.
std::string peer_address (fabtx_conn *conn_)
{
#if FABTX_ZMQ_HAVE_OFI
    if (strcmp (fabtx_conn_backend_name (conn_), "ofi") == 0) {
        fabtx_ofi_info info;
        memset (&info, 0, sizeof info);
        if (fabtx_ofi_conn_info (conn_, &info) == 0)
            return std::string (info.peer);
        return std::string ();
    }
#endif
    //  what libzmq's stream engine makes of an ipc:// socket
    fabtx_peer_cred cred;
    if (fabtx_conn_peer_cred (conn_, &cred) == 0) {
        char buf[80];
        snprintf (buf, sizeof buf, "localhost:%u:%u:%ld", cred.uid, cred.gid,
                  cred.pid);
        return std::string (buf);
    }
    return std::string ();
}

//  Largest ZMTP chunk put in one fabtx message: half the ring, so a write
//  never has to wait for more than the credits the peer already owes us.
size_t max_write_for (fabtx_conn *conn_)
{
    fabtx_conn_stats st;
    memset (&st, 0, sizeof st);
    size_t cap = 256 * 1024;
    if (fabtx_conn_stats_get (conn_, &st) == 0 && st.cell_size > 32
        && st.cell_count >= 4) {
        const size_t half =
          static_cast<size_t> (st.cell_size - 32) * (st.cell_count / 2);
        if (half > 0 && half < cap)
            cap = half;
    }
    if (cap > (1u << 30))
        cap = 1u << 30;
    return cap;
}

//  A large ZMTP chunk is usually the body of a message the application has
//  just allocated and never touched: each of its pages would cost a read
//  fault inside the copy into the peer's window (the profile of a 1 MiB
//  stream was one fifth page faults).  One madvise() maps them all first.
//  Harmless if it fails; switched off where the kernel lacks it (< 5.14).
#ifdef MADV_POPULATE_READ
int populate_off; //  I/O threads: relaxed atomics
#endif
void populate_source (const void *data_, size_t len_)
{
#ifdef MADV_POPULATE_READ
    if (len_ < 64 * 1024 || __atomic_load_n (&populate_off, __ATOMIC_RELAXED))
        return;
    static const uintptr_t page = static_cast<uintptr_t> (sysconf (_SC_PAGESIZE));
    const uintptr_t a = reinterpret_cast<uintptr_t> (data_) & ~(page - 1);
    const uintptr_t e = (reinterpret_cast<uintptr_t> (data_) + len_) & ~(page - 1);
    if (e > a && madvise (reinterpret_cast<void *> (a), e - a, MADV_POPULATE_READ) < 0
        && errno == EINVAL)
        __atomic_store_n (&populate_off, 1, __ATOMIC_RELAXED);
#else
    (void) data_;
    (void) len_;
#endif
}

//  Zero-copy sends of message bodies (fabtx_send_zc) from this size on;
//  FABTX_ZMQ_ZC=0 turns them off (for A/B measurements).
const size_t zc_min = 64 * 1024;
bool zc_wanted ()
{
    const char *e = getenv ("FABTX_ZMQ_ZC");
    return e == NULL || strcmp (e, "0") != 0;
}

//  A connection whose engine has gone while its last bytes or its FIN
//  still wait for credits from the peer.  tcp:// leaves those to the
//  kernel; here the I/O thread the engine ran in finishes them, driven by
//  the fabtx fd like an engine, so a lingering close blocks no other
//  socket of that thread.  It ends once all is in the peer's window, when
//  the peer is gone, or when the linger time (ZMQ_LINGER, at most 10 s) is
//  up.  The poller loop ends only once no fds are left in it, so
//  zmq_ctx_term waits for it as it waits for a socket's linger.
class fabtx_closer_t ZMQ_FINAL : public zmq::i_poll_events
{
  public:
    //  Takes conn_ and one context reference (fabtx_ctx_ref) in any case.
    //  held_: message bodies the connection may still be reading
    //  (fabtx_send_zc), released once it is closed.
    static void start (zmq::poller_t *poller_,
                       fabtx_conn *conn_,
                       int linger_ms_,
                       std::vector<unsigned char> &tail_,
                       size_t max_write_,
                       std::deque<zmq::fabtx_zc_hold_t> &held_)
    {
        fabtx_closer_t *c = new (std::nothrow) fabtx_closer_t (conn_, max_write_);
        if (c == NULL) {
            fabtx_conn_close (conn_, linger_ms_); //  blocking, as before
            release_all (held_);
            zmq::fabtx_ctx_unref ();
            return;
        }
        c->_tail.swap (tail_);
        c->_held.swap (held_);
        if (c->step ()) {
            c->finish ();
            return;
        }
        const int fd = fabtx_conn_fd (conn_);
        if (fd < 0) {
            c->finish ();
            return;
        }
        c->_poller = poller_;
        c->_handle = poller_->add_fd (fd, c);
        poller_->set_pollin (c->_handle);
        poller_->add_timer (linger_ms_, c, linger_timer_id);
        poller_->add_timer (tick_ms, c, tick_timer_id);
        c->_timers = linger_timer_id | tick_timer_id;
    }

    void in_event () ZMQ_OVERRIDE
    {
        if (step ())
            finish ();
    }
    void out_event () ZMQ_OVERRIDE { zmq_assert (false); }
    void timer_event (int id_) ZMQ_OVERRIDE
    {
        //  the firing timer is gone from the poller; never cancel it
        _timers &= ~id_;
        if (id_ == linger_timer_id) {
            //  linger is up: drop what is left, and say so
            fabtx_log (fabtx_conn_ctx (_conn), FABTX_LOG_WARN,
                       "zmq: %s: linger time up at close, %zu bytes of "
                       "the last message%s not delivered",
                       fabtx_conn_url (_conn), _tail.size () - _tail_off,
                       _tail_off < _tail.size () ? " and the end of stream"
                                                 : " (end of stream)");
            finish ();
            return;
        }
        //  slow sources the fd does not cover (keepalive, a dead peer)
        if (step ()) {
            finish ();
            return;
        }
        _poller->add_timer (tick_ms, this, tick_timer_id);
        _timers |= tick_timer_id;
    }

  private:
    enum
    {
        linger_timer_id = 1,
        tick_timer_id = 2,
        tick_ms = 500
    };

    fabtx_closer_t (fabtx_conn *conn_, size_t max_write_) :
        _poller (NULL),
        _handle (NULL),
        _conn (conn_),
        _tail_off (0),
        _max_write (max_write_),
        _timers (0)
    {
    }

    //  Go as far as possible; true when finished (or failed for good).
    bool step ()
    {
        while (_tail_off < _tail.size ()) {
            size_t n = _tail.size () - _tail_off;
            if (n > _max_write)
                n = _max_write;
            const ssize_t rc = fabtx_send (_conn, &_tail[_tail_off], n, 0);
            if (rc > 0) {
                _tail_off += static_cast<size_t> (rc);
                continue;
            }
            const int drc = rc == -EAGAIN ? drain () : static_cast<int> (rc);
            if (drc < 0) {
                //  the peer is gone, failed, or closed too (then it
                //  reads nothing more)
                fabtx_log (fabtx_conn_ctx (_conn), FABTX_LOG_WARN,
                           "zmq: %s: at close, %zu bytes of the last "
                           "message not delivered: %s",
                           fabtx_conn_url (_conn), _tail.size () - _tail_off,
                           fabtx_strerror (drc));
                return true;
            }
            if (drc > 0)
                continue; //  released some: credits may be back
            //  credits, and messages to release
            const int arc =
              fabtx_conn_arm_mask (_conn, FABTX_POLLIN | FABTX_POLLOUT);
            if (arc == -EAGAIN)
                continue; //  credits raced in
            return arc < 0;
        }
        const int rc = fabtx_conn_shutdown (_conn);
        if (rc < 0 && rc != -EAGAIN)
            fabtx_log (fabtx_conn_ctx (_conn), FABTX_LOG_WARN,
                       "zmq: %s: close lost data: %s", fabtx_conn_url (_conn),
                       fabtx_strerror (rc));
        return rc != -EAGAIN;
    }

    //  Nobody reads this connection any more: release what the peer sends
    //  unread (a peer closing at the same time needs those credits for the
    //  rest of its own message and its FIN; fabtx_conn_shutdown does the
    //  same from its first call on).  Returns how many it released, or the
    //  error that ends the connection (-ESHUTDOWN: the peer closed too).
    int drain ()
    {
        int n = 0;
        for (;;) {
            fabtx_msg m;
            const int rc = fabtx_recv_msg (_conn, &m, 0);
            if (rc < 0)
                return rc == -EAGAIN ? n : rc;
            fabtx_msg_release (_conn, &m);
            n++;
        }
    }

    void finish ()
    {
        if (_poller) {
            if (_timers & linger_timer_id)
                _poller->cancel_timer (this, linger_timer_id);
            if (_timers & tick_timer_id)
                _poller->cancel_timer (this, tick_timer_id);
            _poller->rm_fd (_handle);
        }
        fabtx_conn_close (_conn, 0);
        release_all (_held);
        zmq::fabtx_ctx_unref ();
        delete this;
    }

  public:
    //  After the connection is closed nothing reads the bodies any more.
    static void release_all (std::deque<zmq::fabtx_zc_hold_t> &held_)
    {
        for (; !held_.empty (); held_.pop_front ()) {
            const int rc = held_.front ().msg.close ();
            errno_assert (rc == 0);
        }
    }

  private:

    zmq::poller_t *_poller;
    zmq::poller_t::handle_t _handle;
    fabtx_conn *_conn;
    std::vector<unsigned char> _tail;
    std::deque<zmq::fabtx_zc_hold_t> _held;
    size_t _tail_off;
    size_t _max_write;
    int _timers;

    ZMQ_NON_COPYABLE_NOR_MOVABLE (fabtx_closer_t)
};
}

zmq::fabtx_engine_t *
zmq::fabtx_engine_t::create (fabtx_conn *conn_,
                             const options_t &options_,
                             const endpoint_uri_pair_t &endpoint_pair_)
{
    const fd_t s = placeholder_socket ();
    if (s < 0 || !fabtx_ctx_ref ()) { //  the engine keeps the context alive
        const int err = errno;
        if (s >= 0)
            ::close (s);
        fabtx_conn_close (conn_, 0);
        errno = err;
        return NULL;
    }
    fabtx_engine_t *engine =
      new (std::nothrow) fabtx_engine_t (conn_, s, options_, endpoint_pair_);
    alloc_assert (engine);
    //  Now that the base constructor has looked at the socket, make its
    //  number refer to the fabtx fd -- to the first of its fds where it
    //  has two (the provider's own wait fd: polled directly, not through
    //  fabtx's epoll set, a level of epoll nesting less per wakeup); the
    //  second is registered by plug_internal.
    int fds[2];
    const int nfd = fabtx_conn_fds (conn_, fds, 2);
    const int cfd = nfd < 0 ? nfd : fds[0];
    if (nfd == 2)
        engine->_ctl_fd = fds[1];
    if (cfd < 0 || dup3 (cfd, s, O_CLOEXEC) < 0) {
        const int err = cfd < 0 ? fabtx_errno (cfd) : errno;
        delete engine; //  closes conn_ and s
        errno = err;
        return NULL;
    }
    return engine;
}

zmq::fabtx_engine_t::fabtx_engine_t (fabtx_conn *conn_,
                                     fd_t fd_,
                                     const options_t &options_,
                                     const endpoint_uri_pair_t &endpoint_pair_) :
    zmtp_engine_t (fd_, options_, endpoint_pair_),
    _conn (conn_),
    _fd (fd_),
    _held_off (0),
    _holding (false),
    _max_write (max_write_for (conn_)),
    _out_blocked (false),
    _tx_error (false),
    _tx_errno (0),
    _rx_progress (false),
    _tx_progress (false),
    _stall_timer (false),
    _tick_timer (false),
    _cheap (true),
    _dead (NULL),
    _spin_ns (static_cast<uint64_t> (fabtx_ctx_spin_us (fabtx_conn_ctx (conn_))) * 1000u),
    _last_active_ns (0),
    _spin_registered (false),
    _unarmed (false),
    _direct (fabtx_conn_in_place (conn_) != 0),
    _poller_kept (NULL),
    _ctl_fd (retired_fd),
    _ctl_handle (static_cast<handle_t> (NULL)),
    _zc_ok (zc_wanted ())
{
    memset (&_held, 0, sizeof _held);
    _peer_address = peer_address (conn_);
}

zmq::fabtx_engine_t::~fabtx_engine_t ()
{
    if (_holding)
        fabtx_msg_release (_conn, &_held);
    //  What ZMTP handed us is in the peer's window, in fabtx's send
    //  remainder or in _tail (see flush_output).  A TCP kernel would deliver
    //  it after close(); here a closer on our I/O thread goes on until the
    //  peer has taken it (ZMQ_LINGER, at most 10 s; -1 = the 10 s), and a
    //  dead peer ends it at once.  Not plugged (never ran): close now.
    int linger = _options.linger.load ();
    if (linger < 0 || linger > 10000)
        linger = 10000;
    if (_poller_kept && linger > 0)
        fabtx_closer_t::start (_poller_kept, _conn, linger, _tail, _max_write,
                               _zc_held);
    else {
        fabtx_conn_close (_conn, linger);
        fabtx_closer_t::release_all (_zc_held);
        zmq::fabtx_ctx_unref ();
    }
    if (_dead)
        *_dead = true;
}

int zmq::fabtx_engine_t::read (void *data_, size_t size_)
{
    if (size_ == 0)
        return 0;
    if (!_holding) {
        //  First look costs no system call; fabtx_recv(..., 0) would also
        //  poll the slow sources (eventfd, control channel), which arm()
        //  does anyway right after.
        if (_cheap) {
            //  Busy-polling sees messages while their cells are still
            //  being written: take one only when all of it is here, or
            //  fabtx would copy the part it has aside.
            const ssize_t len = _spin_ns && spin_active (fabtx_now_ns ())
                                  ? fabtx_peek_whole (_conn)
                                  : fabtx_peek_len (_conn);
            if (len == -EAGAIN) {
                errno = EAGAIN;
                return -1;
            }
        }
        for (;;) {
            const ssize_t n = fabtx_recv (_conn, data_, size_, 0);
            if (n > 0) {
                _rx_progress = true;
                if (_spin_ns)
                    _last_active_ns = fabtx_now_ns ();
                return static_cast<int> (n);
            }
            if (n == 0) //  an empty message carries no ZMTP bytes
                continue;
            if (n != -EMSGSIZE) {
                errno = n == -EAGAIN ? EAGAIN : fabtx_errno (static_cast<int> (n));
                return -1;
            }
            //  Bigger than the decoder's buffer: take it and hand it out
            //  in pieces.
            const int rc = fabtx_recv_msg (_conn, &_held, 0);
            if (rc < 0) {
                errno = rc == -EAGAIN ? EAGAIN : fabtx_errno (rc);
                return -1;
            }
            _holding = true;
            _held_off = 0;
            break;
        }
    }
    size_t n = _held.len - _held_off;
    if (n > size_)
        n = size_;
    memcpy (data_, static_cast<unsigned char *> (_held.data) + _held_off, n);
    _held_off += n;
    if (_held_off == _held.len) {
        fabtx_msg_release (_conn, &_held);
        _holding = false;
    }
    _rx_progress = true;
    return static_cast<int> (n);
}

int zmq::fabtx_engine_t::write (const void *data_, size_t size_)
{
    size_t n = size_ < _max_write ? size_ : _max_write;
    //  A message bigger than the free credits is still taken, but fabtx
    //  then copies its remainder aside: send what fits in the credits we
    //  know of (fabtx_conn_send_room), so bytes are
    //  copied once, straight into the peer's window.
    const size_t fit = fabtx_conn_send_room (_conn);
    if (fit > 0 && fit < n)
        n = fit;
    if (!_zc_held.empty ())
        zc_release ();
    //  (a zero-copy send too: the provider's copy would fault the pages
    //  in one at a time)
    populate_source (data_, n);
    ssize_t rc = _zc_ok && n >= zc_min ? send_zc (data_, n) : -ENOTSUP;
    if (rc == -ENOTSUP)
        rc = fabtx_send (_conn, data_, n, 0);
    if (rc >= 0) {
        _tx_progress = true;
        if (_spin_ns)
            _last_active_ns = fabtx_now_ns ();
        return static_cast<int> (rc);
    }
    if (rc == -EAGAIN) {
        //  No credit: stop polling for output; a returning credit makes
        //  the fabtx fd readable and in_event() resumes output.
        _out_blocked = true;
        reset_pollout ();
        return 0;
    }
    _tx_error = true;
    _tx_errno = fabtx_errno (static_cast<int> (rc));
    errno = _tx_errno;
    return -1;
}

//  A large chunk that is the body of the message being encoded (the
//  encoder hands bodies out in place) goes with fabtx_send_zc, a
//  reference to the message held until fabtx has read it.  -ENOTSUP for
//  anything else (the encoder's batch buffer; no zero copy on this
//  connection): the caller copies it with fabtx_send.
ssize_t zmq::fabtx_engine_t::send_zc (const void *data_, size_t n_)
{
    msg_t *m = _encoder ? _encoder->in_progress_msg () : NULL;
    const unsigned char *p = static_cast<const unsigned char *> (data_);
    const unsigned char *b =
      m ? static_cast<const unsigned char *> (m->data ()) : NULL;
    if (b == NULL || p < b || p + n_ > b + m->size ())
        return -ENOTSUP;
    fabtx_zc_hold_t h;
    int rc = h.msg.init ();
    errno_assert (rc == 0);
    rc = h.msg.copy (*m); //  a reference: the body stays where it is
    errno_assert (rc == 0);
    zmq_assert (h.msg.data () == m->data ());
    const ssize_t r = fabtx_send_zc (_conn, data_, n_, &h.ticket);
    if (r >= 0) {
        _zc_held.push_back (h);
        return r;
    }
    rc = h.msg.close ();
    errno_assert (rc == 0);
    if (r == -ENOTSUP)
        _zc_ok = false; //  not on this connection
    return r;
}

void zmq::fabtx_engine_t::zc_release ()
{
    const uint64_t done = fabtx_send_zc_done (_conn);
    for (; !_zc_held.empty () && _zc_held.front ().ticket <= done;
         _zc_held.pop_front ()) {
        const int rc = _zc_held.front ().msg.close ();
        errno_assert (rc == 0);
    }
}

bool zmq::fabtx_engine_t::guarded_in_event ()
{
    bool dead = false;
    zmq_assert (_dead == NULL);
    _dead = &dead;
    stream_engine_base_t::in_event ();
    if (dead)
        return false;
    _dead = NULL;
    return true;
}

void zmq::fabtx_engine_t::out_event ()
{
    //  The base writes one batch per call (it counts on POLLOUT to come
    //  back); go on while it makes progress, until the session has nothing
    //  more or fabtx runs out of credits.
    do {
        _tx_progress = false;
        stream_engine_base_t::out_event ();
    } while (_tx_progress && !_out_blocked && !_tx_error);
    if (_tx_error && !_stall_timer) {
        //  Report the error from a safe place (the timer), not from deep
        //  inside a caller that still uses this engine.
        add_timer (0, stall_timer_id);
        _stall_timer = true;
    }
}

bool zmq::fabtx_engine_t::pump ()
{
    //  arm() runs fabtx's slow path (doorbells, control channel) before it
    //  answers, so after it the syscall-free peek in read() sees all there
    //  is; -EAGAIN from arm often just means "credits came back".  Should
    //  arm keep saying -EAGAIN while the peek sees nothing, fall back to
    //  the full fabtx_recv.
    int idle_arms = 0;
    _cheap = true;
    if (!_zc_held.empty ())
        zc_release (); //  (writes completing make the fd readable)
    for (;;) {
        if (_out_blocked) {
            const int ev = fabtx_conn_poll (_conn);
            if (ev < 0 || (ev & (FABTX_POLLOUT | FABTX_POLLERR)))
                _out_blocked = false;
        }
        if (!_out_blocked && !_output_stopped && !_tx_error)
            out_event ();
        if (_tx_error) {
            errno = _tx_errno;
            error (connection_error);
            return false;
        }
        if (!_input_stopped) {
            _rx_progress = false;
            if (!guarded_in_event ())
                return false;
            if (_rx_progress) {
                idle_arms = 0;
                _cheap = true;
                continue;
            }
        }
        if (_input_stopped) {
            //  Messages wait in the ring, so arming for input would only
            //  say -EAGAIN.  restart_input() resumes input; if output is
            //  stuck too, arm for returning credits alone.
            if (!_out_blocked)
                return true;
            const int orc = fabtx_conn_arm_mask (_conn, FABTX_POLLOUT);
            if (orc == -EAGAIN)
                continue;
            if (orc < 0) {
                errno = fabtx_errno (orc);
                error (connection_error);
                return false;
            }
            return true;
        }
        //  Busy-polling: leave the fd unarmed (the peer then writes no
        //  eventfd); spin_event () looks at the ring on every poller pass
        //  and arms once the window closes.
        if (_spin_ns && !_out_blocked && spin_active (fabtx_now_ns ())) {
            _unarmed = true;
            return true;
        }
        _unarmed = false;
        //  Credits matter only while output waits for them: otherwise a
        //  credit report is no reason to go round again.
        const int rc = fabtx_conn_arm_mask (
          _conn, FABTX_POLLIN | (_out_blocked ? FABTX_POLLOUT : 0u));
        if (rc == -EAGAIN) {
            //  Work raced in: go again, or the wakeup is lost.
            if (++idle_arms > 1)
                _cheap = false;
            continue;
        }
        if (rc < 0) {
            errno = fabtx_errno (rc);
            error (connection_error);
            return false;
        }
        return true;
    }
}

void zmq::fabtx_engine_t::in_event ()
{
    if (_spin_ns) {
        //  The fd woke us: a doorbell or a control message.  Take it
        //  (the eventfd is drained by the slow path) and open the window.
        _last_active_ns = fabtx_now_ns ();
        fabtx_conn_poll (_conn);
    }
    pump ();
}

bool zmq::fabtx_engine_t::spin_event (bool stop_)
{
    if (!_unarmed)
        return false; //  armed (or never spun): the fd wakes us
    if (stop_)
        _last_active_ns = 0; //  no CPU to spin on: close the window now
    const uint64_t now = fabtx_now_ns ();
    if (!spin_active (now)) {
        //  Window closed: arm and sleep in the poller again -- unless
        //  this last pass found traffic and reopened it (then pump left
        //  the fd unarmed again, and we must go on polling).
        _unarmed = false;
        if (!pump ())
            return false; //  the engine is gone
        return _unarmed;
    }
    bool work;
    if (_direct)
        //  shm://: ring writes are visible at once, no system call
        work = fabtx_peek_whole (_conn) != -EAGAIN;
    else {
        //  RDMA backends: completions need polling
        const int ev = fabtx_conn_poll (_conn);
        work = ev < 0 || (ev & (FABTX_POLLIN | FABTX_POLLERR)) != 0;
    }
    if (work && !_input_stopped && !pump ())
        return false; //  the engine is gone
    //  pump () may have armed (output waits for credits): the fd wakes us
    return _unarmed;
}

void zmq::fabtx_engine_t::stop_spin ()
{
    if (_spin_registered) {
        rm_spinner (this);
        _spin_registered = false;
    }
}

bool zmq::fabtx_engine_t::restart_input ()
{
    bool dead = false;
    zmq_assert (_dead == NULL);
    _dead = &dead;
    const bool ok = stream_engine_base_t::restart_input ();
    if (dead)
        return false;
    _dead = NULL;
    if (!ok)
        return false;
    if (!_input_stopped)
        return pump ();
    return true;
}

void zmq::fabtx_engine_t::cancel_stall_timer ()
{
    if (_stall_timer) {
        cancel_timer (stall_timer_id);
        _stall_timer = false;
    }
    if (_tick_timer) {
        cancel_timer (tick_timer_id);
        _tick_timer = false;
    }
}

void zmq::fabtx_engine_t::plug_internal ()
{
    //  fabtx's keepalive (and a backend's silent-peer detection) runs when
    //  the connection is used; an idle one sleeps in the poller, so look at
    //  it once per tick.  Set before the base's plug_internal, which may
    //  already end the engine.
    add_timer (tick_ms, tick_timer_id);
    _tick_timer = true;
    _poller_kept = get_poller ();
    if (_ctl_fd != retired_fd) {
        _ctl_handle = io_object_t::add_fd (_ctl_fd);
        io_object_t::set_pollin (_ctl_handle);
    }
    if (_spin_ns) {
        add_spinner (this);
        _spin_registered = true;
    }
    zmtp_engine_t::plug_internal ();
}

void zmq::fabtx_engine_t::rm_ctl_fd ()
{
    //  before the base unplugs (the fd is the connection's: not closed)
    if (_ctl_handle) {
        io_object_t::rm_fd (_ctl_handle);
        _ctl_handle = static_cast<handle_t> (NULL);
    }
}

void zmq::fabtx_engine_t::terminate ()
{
    rm_ctl_fd ();
    stop_spin ();
    cancel_stall_timer ();
    flush_output ();
    stream_engine_base_t::terminate ();
}

void zmq::fabtx_engine_t::flush_output ()
{
    //  The session ends the engine once its pipe is drained into the
    //  encoder; bytes the encoder produced but fabtx had no credit for yet
    //  would be lost (TCP parks them in the kernel).  Keep the rest of the
    //  message in progress in _tail: the closer (see the destructor) sends
    //  it as credits come, so nothing here waits.
    int linger = _options.linger.load ();
    if (linger == 0 || _tx_error || _encoder == NULL)
        return;
    for (;;) {
        if (_outsize == 0) {
            //  the rest of a message in progress, never a new one
            _outpos = NULL;
            _outsize = _encoder->encode (&_outpos, 0);
            if (_outsize == 0)
                return;
        }
        _tail.insert (_tail.end (), _outpos, _outpos + _outsize);
        _outsize = 0;
    }
}

void zmq::fabtx_engine_t::error (error_reason_t reason_)
{
    rm_ctl_fd ();
    stop_spin ();
    cancel_stall_timer ();
    stream_engine_base_t::error (reason_);
}

void zmq::fabtx_engine_t::timer_event (int id_)
{
    if (id_ == stall_timer_id) {
        _stall_timer = false;
        pump ();
        return;
    }
    if (id_ == tick_timer_id) {
        add_timer (tick_ms, tick_timer_id);
        if (_unarmed) //  keepalive and control messages (slow path)
            fabtx_conn_poll (_conn);
        pump ();
        return;
    }
    bool dead = false;
    zmq_assert (_dead == NULL);
    _dead = &dead;
    stream_engine_base_t::timer_event (id_);
    if (dead)
        return;
    _dead = NULL;
}
