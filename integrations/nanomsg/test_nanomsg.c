/* SPDX-License-Identifier: MIT */
/* test_nanomsg.c -- nanomsg over the fabtx transports (make test-nanomsg).
 *
 *     NT_TRANSPORT=shm | ofi-tcp | rio | scif | tcp | ipc  test_nanomsg [names]
 *
 * Every SP protocol (pair, reqrep, pubsub, pipeline, survey, bus), traffic
 * both ways, 0 B .. 64 MiB messages with content checks, NN_RCVMAXSIZE,
 * 8 peers on one bound socket, reconnect after the bound peer restarts, a
 * killed peer noticed, bad URLs refused.  tcp:// and ipc:// run the same
 * tests as a reference.  Waiting is bounded by DEADLINE_MS (a failure,
 * never a measurement); where a protocol drops what it sends before its
 * peer is connected (pub, surveyor, bus), probes are sent until one
 * arrives. */
/* the test's own fabtx (a raw peer for the hostile tests); libnanomsg's
   copy is hidden inside it */
#define FABTX_IMPLEMENTATION
#include "fabtx.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <nanomsg/nn.h>
#include <nanomsg/bus.h>
#include <nanomsg/pair.h>
#include <nanomsg/pipeline.h>
#include <nanomsg/pubsub.h>
#include <nanomsg/reqrep.h>
#include <nanomsg/survey.h>
#include <nanomsg/fabtx_nn.h>

#include "tt.h"

#define DEADLINE_MS 20000

static int ep_counter;

static const char *transport (void)
{
    const char *t = getenv ("NT_TRANSPORT");
    return t ? t : "shm";
}

/* A fresh endpoint of the transport under test (bind side). */
static void ep (char *buf, size_t cap)
{
    const char *t = transport ();
    int n = ep_counter++;
    /* below Linux's ephemeral range (32768..): no connection holds it as
       its source port */
    int port = 20000 + (int) (((unsigned) getpid () * 37u + (unsigned) n) %
        8000u);
    if (strcmp (t, "shm") == 0)
        snprintf (buf, cap, "shm://nt-%d-%d", (int) getpid (), n);
    else if (strcmp (t, "ofi-tcp") == 0)
        snprintf (buf, cap, "ofi://127.0.0.1:%d?provider=tcp", port);
    else if (strcmp (t, "rio") == 0)
        snprintf (buf, cap, "rio://*:%d", 1 + port % 60000);
    else if (strcmp (t, "scif") == 0)
        snprintf (buf, cap, "scif://%d", 1024 + port % 30000);
    else if (strcmp (t, "tcp") == 0)
        snprintf (buf, cap, "tcp://127.0.0.1:%d", port);
    else if (strcmp (t, "ipc") == 0)
        snprintf (buf, cap, "ipc:///tmp/nt-%d-%d", (int) getpid (), n);
    else
        TT_FAIL ("unknown NT_TRANSPORT %s", t);
}

/* The address a peer connects to for bind address e: the same, except
   rio://STAR:CH (our destID) and scif://PORT (our node). */
static const char *cep (const char *e)
{
    static char buf [128];
    if (strncmp (e, "rio://*:", 8) == 0) {
        const char *d = getenv ("NT_PEER_DESTID");
        snprintf (buf, sizeof buf, "rio://%s:%s", d ? d : "1", e + 8);
        return buf;
    }
    if (strncmp (e, "scif://", 7) == 0 && !strchr (e + 7, ':')) {
        const char *n = getenv ("FABTX_SCIFEMU_NODE");
        snprintf (buf, sizeof buf, "scif://%s:%s", n ? n : "0", e + 7);
        return buf;
    }
    return e;
}

/* The address to connect to for bind address e held by a forked child
   (rio: the child is destID 2, see become_other_node). */
static const char *cep_child (const char *e)
{
    static char buf [128];
    if (strncmp (e, "rio://*:", 8) == 0 && getenv ("FABTX_RIOEMU_DESTID")) {
        snprintf (buf, sizeof buf, "rio://2:%s", e + 8);
        return buf;
    }
    return cep (e);
}

/* rio_cm has no loopback: a forked peer becomes another node */
static void become_other_node (void)
{
    if (getenv ("FABTX_RIOEMU_DESTID")) {
        setenv ("NT_PEER_DESTID", getenv ("FABTX_RIOEMU_DESTID"), 1);
        setenv ("FABTX_RIOEMU_DESTID", "2", 1);
    }
}

static int sock (int domain_type)
{
    int s = nn_socket (AF_SP, domain_type);
    int tmo = DEADLINE_MS, ivl = 10, max = -1;
    if (s < 0)
        TT_FAIL ("nn_socket: %s", nn_strerror (nn_errno ()));
    TT_OK (nn_setsockopt (s, NN_SOL_SOCKET, NN_RCVTIMEO, &tmo, sizeof tmo));
    TT_OK (nn_setsockopt (s, NN_SOL_SOCKET, NN_SNDTIMEO, &tmo, sizeof tmo));
    TT_OK (nn_setsockopt (s, NN_SOL_SOCKET, NN_RECONNECT_IVL, &ivl,
        sizeof ivl));
    TT_OK (nn_setsockopt (s, NN_SOL_SOCKET, NN_RCVMAXSIZE, &max, sizeof max));
    return s;
}

/* Bind to e (128 bytes from ep()); a tcp/ofi port someone holds is
   swapped for a fresh endpoint, in place. */
static void bind_ok (int s, char *e)
{
    int tries;
    for (tries = 0; nn_bind (s, e) < 0; tries++) {
        if (nn_errno () != EADDRINUSE || tries == 20 ||
              (strncmp (e, "tcp://", 6) != 0 && strncmp (e, "ofi://", 6) != 0))
            TT_FAIL ("nn_bind(%s): %s", e, nn_strerror (nn_errno ()));
        ep (e, 128);
    }
}

static void connect_ok (int s, const char *e)
{
    e = cep (e);
    if (nn_connect (s, e) < 0)
        TT_FAIL ("nn_connect(%s): %s", e, nn_strerror (nn_errno ()));
}

static void send_str (int s, const char *str)
{
    int n = nn_send (s, str, strlen (str), 0);
    if (n != (int) strlen (str))
        TT_FAIL ("nn_send(%s): %d %s", str, n, nn_strerror (nn_errno ()));
}

/* Receives the next message that is not a probe; it must be `want`. */
static void recv_str (int s, const char *want)
{
    char b [256];
    int n;
    do {
        n = nn_recv (s, b, sizeof b - 1, 0);
        if (n < 0)
            TT_FAIL ("nn_recv (want %s): %s", want, nn_strerror (nn_errno ()));
        b [n] = 0;
    } while (strncmp (b, "probe", 5) == 0);
    if (strcmp (b, want) != 0)
        TT_FAIL ("received '%s', want '%s'", b, want);
}

/* For the protocols that drop what goes out before a peer is connected:
   send probes until `to` has one (each wait a short poll; the whole is
   bounded by DEADLINE_MS).  Later probes are skipped by recv_str. */
static void sync_probe (int from, int to)
{
    int i, tmo = 20, back = DEADLINE_MS;
    char b [64];
    TT_OK (nn_setsockopt (to, NN_SOL_SOCKET, NN_RCVTIMEO, &tmo, sizeof tmo));
    for (i = 0; i < DEADLINE_MS / tmo; i++) {
        int n = nn_send (from, "probe", 5, NN_DONTWAIT);
        (void) n;
        n = nn_recv (to, b, sizeof b, 0);
        if (n == 5 && memcmp (b, "probe", 5) == 0)
            break;
        if (n >= 0)
            TT_FAIL ("unexpected message while probing");
        if (nn_errno () != ETIMEDOUT && nn_errno () != EAGAIN)
            TT_FAIL ("probe recv: %s", nn_strerror (nn_errno ()));
    }
    TT_OK (nn_setsockopt (to, NN_SOL_SOCKET, NN_RCVTIMEO, &back, sizeof back));
    if (i == DEADLINE_MS / tmo)
        TT_FAIL ("no probe arrived");
}

static void fill (unsigned char *p, size_t n, unsigned seed)
{
    size_t i;
    uint32_t x = seed * 2654435761u + 1;
    for (i = 0; i < n; i++) {
        x = x * 1103515245u + 12345u;
        p [i] = (unsigned char) (x >> 16);
    }
}

/* ------------------------------------------------------------ protocols */

TT_TEST (pair_both_ways)
{
    char e [128], b [64], w [64];
    int a = sock (NN_PAIR), c = sock (NN_PAIR), i;
    ep (e, sizeof e);
    bind_ok (a, e);
    connect_ok (c, e);
    for (i = 0; i < 1000; i++) {
        snprintf (b, sizeof b, "c->a %d", i);
        send_str (c, b);
        recv_str (a, b);
        snprintf (w, sizeof w, "a->c %d", i);
        send_str (a, w);
        recv_str (c, w);
    }
    /* a burst each way at once: both rings and credits in use */
    for (i = 0; i < 200; i++) {
        snprintf (b, sizeof b, "burst %d", i);
        send_str (a, b);
        send_str (c, b);
    }
    for (i = 0; i < 200; i++) {
        snprintf (b, sizeof b, "burst %d", i);
        recv_str (a, b);
        recv_str (c, b);
    }
    TT_OK (nn_close (c));
    TT_OK (nn_close (a));
}

TT_TEST (reqrep)
{
    char e [128], b [64], r [64];
    int rep = sock (NN_REP), req = sock (NN_REQ), i;
    ep (e, sizeof e);
    bind_ok (rep, e);
    connect_ok (req, e);
    for (i = 0; i < 500; i++) {
        snprintf (b, sizeof b, "request %d", i);
        snprintf (r, sizeof r, "reply %d", i);
        send_str (req, b);
        recv_str (rep, b);
        send_str (rep, r);
        recv_str (req, r);
    }
    TT_OK (nn_close (req));
    TT_OK (nn_close (rep));
}

TT_TEST (reqrep_rep_connects)
{
    char e [128];
    int rep = sock (NN_REP), req = sock (NN_REQ);
    ep (e, sizeof e);
    bind_ok (req, e);
    connect_ok (rep, e);
    send_str (req, "question");
    recv_str (rep, "question");
    send_str (rep, "answer");
    recv_str (req, "answer");
    TT_OK (nn_close (req));
    TT_OK (nn_close (rep));
}

TT_TEST (pubsub)
{
    char e [128], b [64];
    int pub = sock (NN_PUB), sa = sock (NN_SUB), sall = sock (NN_SUB), i;
    ep (e, sizeof e);
    bind_ok (pub, e);
    TT_OK (nn_setsockopt (sa, NN_SUB, NN_SUB_SUBSCRIBE, "a", 1));
    TT_OK (nn_setsockopt (sa, NN_SUB, NN_SUB_SUBSCRIBE, "probe", 5));
    TT_OK (nn_setsockopt (sall, NN_SUB, NN_SUB_SUBSCRIBE, "", 0));
    connect_ok (sa, e);
    connect_ok (sall, e);
    sync_probe (pub, sa);
    sync_probe (pub, sall);
    for (i = 0; i < 100; i++) {
        snprintf (b, sizeof b, "%c topic %d", i % 2 ? 'a' : 'b', i);
        send_str (pub, b);
    }
    for (i = 0; i < 100; i++) {
        snprintf (b, sizeof b, "%c topic %d", i % 2 ? 'a' : 'b', i);
        recv_str (sall, b);
        if (i % 2)
            recv_str (sa, b);
    }
    TT_OK (nn_close (sa));
    TT_OK (nn_close (sall));
    TT_OK (nn_close (pub));
}

TT_TEST (pubsub_sub_binds)
{
    char e [128];
    int pub = sock (NN_PUB), sub = sock (NN_SUB);
    ep (e, sizeof e);
    TT_OK (nn_setsockopt (sub, NN_SUB, NN_SUB_SUBSCRIBE, "", 0));
    bind_ok (sub, e);
    connect_ok (pub, e);
    sync_probe (pub, sub);
    send_str (pub, "news");
    recv_str (sub, "news");
    TT_OK (nn_close (pub));
    TT_OK (nn_close (sub));
}

TT_TEST (pipeline)
{
    char e [128], b [64];
    int pull = sock (NN_PULL), p1 = sock (NN_PUSH), p2 = sock (NN_PUSH);
    int i, got1 = 0, got2 = 0;
    ep (e, sizeof e);
    bind_ok (pull, e);
    connect_ok (p1, e);
    connect_ok (p2, e);
    for (i = 0; i < 100; i++) {
        snprintf (b, sizeof b, "one %d", i);
        send_str (p1, b);
        snprintf (b, sizeof b, "two %d", i);
        send_str (p2, b);
    }
    /* fair queueing: each sender's messages in its order */
    for (i = 0; i < 200; i++) {
        int n = nn_recv (pull, b, sizeof b - 1, 0);
        char w [64];
        TT_ASSERT (n > 0);
        b [n] = 0;
        if (strncmp (b, "one ", 4) == 0) {
            snprintf (w, sizeof w, "one %d", got1++);
        }
        else {
            snprintf (w, sizeof w, "two %d", got2++);
        }
        if (strcmp (b, w) != 0)
            TT_FAIL ("got '%s', want '%s'", b, w);
    }
    TT_EQ (got1, 100);
    TT_EQ (got2, 100);
    TT_OK (nn_close (p1));
    TT_OK (nn_close (p2));
    TT_OK (nn_close (pull));
}

TT_TEST (pipeline_push_binds)
{
    char e [128], b [64];
    int push = sock (NN_PUSH), q1 = sock (NN_PULL), q2 = sock (NN_PULL);
    int i, n1 = 0, n2 = 0;
    ep (e, sizeof e);
    bind_ok (push, e);
    connect_ok (q1, e);
    connect_ok (q2, e);
    /* load balancing: with both connected, both get some; a push waits
       for a peer, so nothing is lost */
    for (i = 0; i < 200; i++) {
        snprintf (b, sizeof b, "job %d", i);
        send_str (push, b);
    }
    for (i = 0; i < 200; i++) {
        struct nn_pollfd pf [2] = {{q1, NN_POLLIN, 0}, {q2, NN_POLLIN, 0}};
        int n = nn_poll (pf, 2, DEADLINE_MS);
        TT_ASSERT (n > 0);
        if (pf [0].revents & NN_POLLIN) {
            TT_ASSERT (nn_recv (q1, b, sizeof b, 0) > 0);
            n1++;
        }
        else {
            TT_ASSERT (nn_recv (q2, b, sizeof b, 0) > 0);
            n2++;
        }
    }
    TT_EQ (n1 + n2, 200);
    TT_OK (nn_close (q1));
    TT_OK (nn_close (q2));
    TT_OK (nn_close (push));
}

TT_TEST (survey)
{
    char e [128], b [64];
    int sv = sock (NN_SURVEYOR), r [3], i, k, dl = DEADLINE_MS;
    int seen [3] = {0, 0, 0};
    ep (e, sizeof e);
    TT_OK (nn_setsockopt (sv, NN_SURVEYOR, NN_SURVEYOR_DEADLINE, &dl,
        sizeof dl));
    bind_ok (sv, e);
    for (i = 0; i < 3; i++) {
        r [i] = sock (NN_RESPONDENT);
        connect_ok (r [i], e);
    }
    /* a surveyor drops a survey for peers not connected yet: probe each
       respondent (unanswered; the real survey replaces them, and the
       respondents skip probes still queued) */
    for (i = 0; i < 3; i++)
        sync_probe (sv, r [i]);
    send_str (sv, "what time is it");
    for (i = 0; i < 3; i++) {
        recv_str (r [i], "what time is it");
        snprintf (b, sizeof b, "answer %d", i);
        send_str (r [i], b);
    }
    for (k = 0; k < 3; k++) {
        int n = nn_recv (sv, b, sizeof b - 1, 0);
        TT_ASSERT (n > 0);
        b [n] = 0;
        TT_ASSERT (strncmp (b, "answer ", 7) == 0);
        i = atoi (b + 7);
        TT_ASSERT (i >= 0 && i < 3 && !seen [i]);
        seen [i] = 1;
    }
    for (i = 0; i < 3; i++)
        TT_OK (nn_close (r [i]));
    TT_OK (nn_close (sv));
}

TT_TEST (bus)
{
    char e [128], e2 [128];
    int a = sock (NN_BUS), b = sock (NN_BUS), c = sock (NN_BUS);
    ep (e, sizeof e);
    ep (e2, sizeof e2);
    bind_ok (a, e);
    bind_ok (b, e2);
    connect_ok (b, e);
    connect_ok (c, e);
    connect_ok (c, e2);
    /* a-b, a-c, b-c: a full mesh of three */
    sync_probe (a, b);
    sync_probe (a, c);
    sync_probe (b, a);
    sync_probe (b, c);
    sync_probe (c, a);
    sync_probe (c, b);
    send_str (a, "from a");
    recv_str (b, "from a");
    recv_str (c, "from a");
    send_str (b, "from b");
    recv_str (a, "from b");
    recv_str (c, "from b");
    send_str (c, "from c");
    recv_str (a, "from c");
    recv_str (b, "from c");
    TT_OK (nn_close (a));
    TT_OK (nn_close (b));
    TT_OK (nn_close (c));
}

/* ---------------------------------------------------------------- sizes */

static void size_round (int from, int to, size_t len, unsigned seed)
{
    unsigned char *p = malloc (len ? len : 1);
    void *got = NULL;
    int n;
    TT_ASSERT (p != NULL);
    fill (p, len, seed);
    n = nn_send (from, p, len, 0);
    if (n != (int) len)
        TT_FAIL ("send %zu: %d %s", len, n, nn_strerror (nn_errno ()));
    n = nn_recv (to, &got, NN_MSG, 0);
    if (n != (int) len)
        TT_FAIL ("recv %zu: %d %s", len, n, nn_strerror (nn_errno ()));
    if (len && memcmp (got, p, len) != 0)
        TT_FAIL ("content differs at %zu bytes", len);
    nn_freemsg (got);
    free (p);
}

TT_TEST (sizes_0_to_64MiB_both_ways)
{
    static const size_t sz [] = {0, 1, 7, 8, 100, 4095, 4096, 8159, 8160,
        8192, 8193, 65536, 100000, 1 << 20, (1 << 20) + 1, 8 << 20,
        64 << 20};
    char e [128];
    int a = sock (NN_PAIR), c = sock (NN_PAIR);
    size_t i;
    ep (e, sizeof e);
    bind_ok (a, e);
    connect_ok (c, e);
    for (i = 0; i < sizeof sz / sizeof sz [0]; i++) {
        size_round (c, a, sz [i], (unsigned) i);
        size_round (a, c, sz [i], (unsigned) i + 100);
    }
    /* one of each, several queued at once */
    for (i = 0; i < 12; i++) {
        unsigned char *p = malloc (sz [i] + 1);
        fill (p, sz [i], (unsigned) i + 7);
        TT_EQ (nn_send (c, p, sz [i], 0), (int) sz [i]);
        free (p);
    }
    for (i = 0; i < 12; i++) {
        unsigned char *p = malloc (sz [i] + 1);
        void *got = NULL;
        fill (p, sz [i], (unsigned) i + 7);
        TT_EQ (nn_recv (a, &got, NN_MSG, 0), (int) sz [i]);
        TT_ASSERT (sz [i] == 0 || memcmp (got, p, sz [i]) == 0);
        nn_freemsg (got);
        free (p);
    }
    TT_OK (nn_close (c));
    TT_OK (nn_close (a));
}

/* No wakeup may depend on the transport's 500 ms tick (which also drives
   keepalive): with the tick set to an hour (NN_FTX_TICK_MS, read when a
   connection starts), an echo thread and the main thread each sleep in
   nn_recv while the other sends, round after round, in sizes that take
   each receive path: one cell (fabtx_recv into the message), 20 KiB and
   1 MiB + 1 (assembled by fabtx into a nanomsg chunk that becomes the
   body, arriving in pieces; the 1 MiB one also waits for the room of half
   the ring before it goes), then a burst each way.  A lost wakeup leaves
   a message in the ring until DEADLINE_MS: nn_recv fails.  PAIR (no SP
   header: fabtx_send) and REQ/REP (a header: fabtx_sendv); every
   message's content is checked. */
struct echo_arg {
    int s, count, bad;
};

static void *echo_run (void *arg)
{
    struct echo_arg *x = arg;
    int i;
    for (i = 0; i < x->count; i++) {
        void *got = NULL;
        int n = nn_recv (x->s, &got, NN_MSG, 0);
        if (n < 0 || nn_send (x->s, &got, NN_MSG, 0) != n) {
            if (n >= 0)
                nn_freemsg (got);
            x->bad = i + 1;
            return NULL;
        }
    }
    return NULL;
}

static void wake_rounds (int type_a, int type_c, int burst)
{
    static const size_t sz [] = {8, 4096, 20000, (1 << 20) + 1, 100};
    char e [128];
    int a = sock (type_a), c = sock (type_c), i, rounds = 40;
    struct echo_arg x;
    pthread_t t;
    unsigned char *p = malloc ((1 << 20) + 1);
    TT_ASSERT (p != NULL);
    ep (e, sizeof e);
    bind_ok (a, e);
    connect_ok (c, e);
    x.s = a;
    x.count = rounds + burst;
    x.bad = 0;
    TT_EQ (pthread_create (&t, NULL, echo_run, &x), 0);
    for (i = 0; i < rounds; i++) {
        size_t len = sz [i % 5];
        void *got = NULL;
        fill (p, len, (unsigned) i);
        TT_EQ (nn_send (c, p, len, 0), (int) len);
        if (nn_recv (c, &got, NN_MSG, 0) != (int) len)
            TT_FAIL ("round %d (%zu B): %s", i, len, nn_strerror (nn_errno ()));
        TT_ASSERT (memcmp (got, p, len) == 0);
        nn_freemsg (got);
    }
    /* a burst (PAIR): the echoes come back while we still send */
    for (i = 0; i < burst; i++) {
        fill (p, 64, (unsigned) i + 1000);
        TT_EQ (nn_send (c, p, 64, 0), 64);
    }
    for (i = 0; i < burst; i++) {
        void *got = NULL;
        if (nn_recv (c, &got, NN_MSG, 0) != 64)
            TT_FAIL ("burst %d: %s", i, nn_strerror (nn_errno ()));
        fill (p, 64, (unsigned) i + 1000);
        TT_ASSERT (memcmp (got, p, 64) == 0);
        nn_freemsg (got);
    }
    TT_EQ (pthread_join (t, NULL), 0);
    if (x.bad)
        TT_FAIL ("echo thread: message %d", x.bad - 1);
    free (p);
    TT_OK (nn_close (c));
    TT_OK (nn_close (a));
}

TT_TEST (wakeups_without_the_tick)
{
    setenv ("NN_FTX_TICK_MS", "3600000", 1);
    wake_rounds (NN_PAIR, NN_PAIR, 200);
    wake_rounds (NN_REP, NN_REQ, 0);
    unsetenv ("NN_FTX_TICK_MS");
}

/* A receiver that does not read: the sender's pipe stops taking messages
   once the ring's credits are gone (NN_DONTWAIT: EAGAIN); then a reader
   thread drains, and blocking sends of three times as many go on as the
   returning credits wake the sender; all arrive in order, intact. */
struct bp_reader {
    int s, count, bad;
};

static void *bp_read (void *arg)
{
    struct bp_reader *r = arg;
    unsigned char m [4096];
    int i;
    for (i = 0; i < r->count; i++) {
        void *got = NULL;
        if (nn_recv (r->s, &got, NN_MSG, 0) != (int) sizeof m) {
            r->bad = i + 1;
            return NULL;
        }
        fill (m, sizeof m, (unsigned) i);
        if (memcmp (got, m, sizeof m) != 0)
            r->bad = i + 1;
        nn_freemsg (got);
        if (r->bad)
            return NULL;
    }
    return NULL;
}

TT_TEST (backpressure)
{
    char e [128];
    unsigned char m [4096];
    int push = sock (NN_PUSH), pull = sock (NN_PULL), n, i;
    struct bp_reader r;
    pthread_t t;
    ep (e, sizeof e);
    bind_ok (pull, e);
    connect_ok (push, e);
    fill (m, sizeof m, 0);
    TT_EQ (nn_send (push, m, sizeof m, 0), (int) sizeof m); /* connected */
    for (n = 1; n < 1000000; n++) {
        fill (m, sizeof m, (unsigned) n);
        if (nn_send (push, m, sizeof m, NN_DONTWAIT) < 0) {
            TT_EQ (nn_errno (), EAGAIN);
            break;
        }
    }
    TT_ASSERT (n < 1000000);
    printf ("  %d x 4 KiB taken before the sender would block\n", n);
    r.s = pull;
    r.count = 4 * n;
    r.bad = 0;
    TT_EQ (pthread_create (&t, NULL, bp_read, &r), 0);
    for (i = n; i < 4 * n; i++) {
        fill (m, sizeof m, (unsigned) i);
        TT_EQ (nn_send (push, m, sizeof m, 0), (int) sizeof m);
    }
    TT_EQ (pthread_join (t, NULL), 0);
    if (r.bad)
        TT_FAIL ("reader: message %d missing or wrong", r.bad - 1);
    TT_OK (nn_close (push));
    TT_OK (nn_close (pull));
}

/* NN_RCVMAXSIZE: a larger message ends the connection (as tcp://); the
   connecting side then reconnects and what follows gets through. */
TT_TEST (rcvmaxsize)
{
    char e [128], big [2000];
    int a, c, max = 1000;
    if (strcmp (transport (), "ipc") == 0)
        TT_SKIP ("nanomsg's ipc:// does not reconnect here (reference only)");
    a = sock (NN_PAIR);
    c = sock (NN_PAIR);
    ep (e, sizeof e);
    TT_OK (nn_setsockopt (a, NN_SOL_SOCKET, NN_RCVMAXSIZE, &max, sizeof max));
    bind_ok (a, e);
    connect_ok (c, e);
    send_str (c, "small first");
    recv_str (a, "small first");
    memset (big, 'x', sizeof big);
    TT_EQ (nn_send (c, big, sizeof big, 0), (int) sizeof big);
    /* what c sends before it notices the end of that connection is lost
       with it: probe until something gets through on the new one; the
       big message never does (recv_str would see it) */
    sync_probe (c, a);
    send_str (c, "after reconnect");
    recv_str (a, "after reconnect");
    TT_ASSERT (nn_get_statistic (c, NN_STAT_BROKEN_CONNECTIONS) >= 1);
    TT_OK (nn_close (c));
    TT_OK (nn_close (a));
}

/* ------------------------------------------------------------- 8 peers */

TT_TEST (eight_peers_on_one_socket)
{
    char e [128], b [64];
    int rep = sock (NN_REP), req [8], i, k;
    int pull = sock (NN_PULL), push [8], cnt [8];
    char e2 [128];
    ep (e, sizeof e);
    ep (e2, sizeof e2);
    bind_ok (rep, e);
    bind_ok (pull, e2);
    for (i = 0; i < 8; i++) {
        req [i] = sock (NN_REQ);
        connect_ok (req [i], e);
        push [i] = sock (NN_PUSH);
        connect_ok (push [i], e2);
        cnt [i] = 0;
    }
    /* both ways: each of 8 requesters gets its own reply */
    for (k = 0; k < 20; k++) {
        for (i = 0; i < 8; i++) {
            snprintf (b, sizeof b, "req %d %d", i, k);
            send_str (req [i], b);
        }
        for (i = 0; i < 8; i++) {
            int n = nn_recv (rep, b, sizeof b - 1, 0);
            TT_ASSERT (n > 0);
            b [n] = 0;
            b [0] = 'r';
            b [1] = 'e';
            b [2] = 'p';
            send_str (rep, b);
        }
        for (i = 0; i < 8; i++) {
            snprintf (b, sizeof b, "rep %d %d", i, k);
            recv_str (req [i], b);
        }
    }
    /* 8 senders into one: every message, each sender in order */
    for (i = 0; i < 8; i++)
        for (k = 0; k < 50; k++) {
            snprintf (b, sizeof b, "%d %d", i, k);
            send_str (push [i], b);
        }
    for (k = 0; k < 8 * 50; k++) {
        int n = nn_recv (pull, b, sizeof b - 1, 0), who, seq;
        TT_ASSERT (n > 0);
        b [n] = 0;
        TT_EQ (sscanf (b, "%d %d", &who, &seq), 2);
        TT_ASSERT (who >= 0 && who < 8);
        TT_EQ (seq, cnt [who]);
        cnt [who]++;
    }
    for (i = 0; i < 8; i++) {
        TT_EQ (cnt [i], 50);
        TT_OK (nn_close (req [i]));
        TT_OK (nn_close (push [i]));
    }
    TT_OK (nn_close (rep));
    TT_OK (nn_close (pull));
}

/* -------------------------------------------------- restarts and kills */

static int wait_byte (int fd, int ms)
{
    struct pollfd p = {fd, POLLIN, 0};
    char c;
    if (poll (&p, 1, ms) != 1)
        return -1;
    return read (fd, &c, 1) == 1 ? c : -1;
}

static int child_status (pid_t p)
{
    int st = 0;
    if (waitpid (p, &st, 0) != p)
        return -1;
    return WIFEXITED (st) ? WEXITSTATUS (st) : 128 + WTERMSIG (st);
}

/* Children are forked before the parent opens a nanomsg socket (its
   worker thread would be half in the child) and wait for a go byte. */
static void wait_go (int pfd [2])
{
    char g;
    close (pfd [1]);
    if (read (pfd [0], &g, 1) != 1)
        _exit (9);
}

static void go (int fd)
{
    TT_EQ (write (fd, "g", 1), 1);
}

/* child: bind a PAIR at e, say 'r', answer `count` pings, say 'd', then
   wait to be killed (kill=1) or exit */
static void pair_server (const char *e, int wfd, int count, int kill)
{
    int s, i, tries;
    char b [64];
    become_other_node ();
    s = nn_socket (AF_SP, NN_PAIR);
    {
        int tmo = DEADLINE_MS;
        nn_setsockopt (s, NN_SOL_SOCKET, NN_RCVTIMEO, &tmo, sizeof tmo);
        nn_setsockopt (s, NN_SOL_SOCKET, NN_SNDTIMEO, &tmo, sizeof tmo);
    }
    /* the previous owner of the address is gone, but a transport may
       release the address a moment after: retry EADDRINUSE as a server
       restarting on a TCP port would */
    for (tries = 0; nn_bind (s, e) < 0; tries++) {
        struct timespec ts = {0, 10 * 1000 * 1000};
        if (nn_errno () != EADDRINUSE || tries >= DEADLINE_MS / 10)
            _exit (2);
        nanosleep (&ts, NULL);
    }
    if (write (wfd, "r", 1) != 1)
        _exit (3);
    for (i = 0; i < count;) {
        int n = nn_recv (s, b, sizeof b, 0);
        if (n <= 0)
            _exit (4);
        if (nn_send (s, b, (size_t) n, 0) != n)
            _exit (5);
        if (n < 5 || memcmp (b, "probe", 5) != 0)
            i++;
    }
    if (write (wfd, "d", 1) != 1)
        _exit (3);
    if (kill)
        for (;;)
            pause ();
    nn_close (s);
    _exit (0);
}

static void ping (int s, const char *what)
{
    send_str (s, what);
    recv_str (s, what);
}

TT_TEST (reconnect_after_bound_peer_restarts)
{
    char e [128];
    int fds [2], g1 [2], g2 [2], s;
    pid_t p1, p2;
    ep (e, sizeof e);
    TT_OK (pipe (fds));
    TT_OK (pipe (g1));
    p1 = fork ();
    if (p1 == 0) {
        wait_go (g1);
        pair_server (e, fds [1], 3, 1); /*  killed after 3 */
    }
    TT_OK (pipe (g2));
    p2 = fork ();
    if (p2 == 0) {
        wait_go (g2);
        pair_server (e, fds [1], 3, 0);
    }
    close (g1 [0]);
    close (g2 [0]);
    go (g1 [1]);
    TT_EQ (wait_byte (fds [0], DEADLINE_MS), 'r');
    s = sock (NN_PAIR);
    if (nn_connect (s, cep_child (e)) < 0)
        TT_FAIL ("nn_connect(%s): %s", cep_child (e), nn_strerror (nn_errno ()));
    ping (s, "one");
    ping (s, "two");
    ping (s, "three");
    TT_EQ (wait_byte (fds [0], DEADLINE_MS), 'd');
    /*  the bound peer dies hard and a new one takes the address: the
        connecting socket notices and reconnects (NN_RECONNECT_IVL) */
    TT_OK (kill (p1, SIGKILL));
    TT_EQ (child_status (p1), 128 + SIGKILL);
    go (g2 [1]);
    TT_EQ (wait_byte (fds [0], DEADLINE_MS), 'r');
    /*  what is sent before the dead connection is noticed is lost with
        it (nanomsg is best-effort, as over tcp://): probe until the new
        server echoes */
    sync_probe (s, s);
    ping (s, "again 1");
    ping (s, "again 2");
    ping (s, "again 3");
    TT_EQ (wait_byte (fds [0], DEADLINE_MS), 'd');
    TT_EQ (child_status (p2), 0);
    TT_OK (nn_close (s));
}

/* In one process: the bound socket closes and a new one binds. */
TT_TEST (reconnect_after_rebind)
{
    char e [128];
    int a, c;
    if (strcmp (transport (), "ipc") == 0)
        TT_SKIP ("nanomsg's ipc:// does not reconnect here (reference only)");
    a = sock (NN_PAIR);
    c = sock (NN_PAIR);
    ep (e, sizeof e);
    bind_ok (a, e);
    connect_ok (c, e);
    send_str (c, "before");
    recv_str (a, "before");
    TT_OK (nn_close (a));
    a = sock (NN_PAIR);
    bind_ok (a, e);
    /*  what c sends before it notices the old connection's end is lost
        with it: probe until one gets through */
    sync_probe (c, a);
    send_str (c, "after");
    recv_str (a, "after");
    send_str (a, "back");
    recv_str (c, "back");
    TT_OK (nn_close (c));
    TT_OK (nn_close (a));
}

/* child: connect a PAIR to e, ping once, say 'd', then wait to be killed */
static void pair_client (const char *e, int wfd, const char *msg)
{
    int s, tmo = DEADLINE_MS, ivl = 10;
    char b [64];
    become_other_node ();
    s = nn_socket (AF_SP, NN_PAIR);
    nn_setsockopt (s, NN_SOL_SOCKET, NN_RCVTIMEO, &tmo, sizeof tmo);
    nn_setsockopt (s, NN_SOL_SOCKET, NN_SNDTIMEO, &tmo, sizeof tmo);
    nn_setsockopt (s, NN_SOL_SOCKET, NN_RECONNECT_IVL, &ivl, sizeof ivl);
    if (nn_connect (s, cep (e)) < 0)
        _exit (2);
    /* a connection the server refuses (its PAIR still has a peer) takes
       what was sent on it along: send again until the answer comes */
    tmo = 20;
    nn_setsockopt (s, NN_SOL_SOCKET, NN_RCVTIMEO, &tmo, sizeof tmo);
    for (;;) {
        if (nn_send (s, msg, strlen (msg), 0) != (int) strlen (msg))
            _exit (3);
        if (nn_recv (s, b, sizeof b, 0) == (int) strlen (msg))
            break;
        if (nn_errno () != ETIMEDOUT)
            _exit (4);
    }
    if (write (wfd, "d", 1) != 1)
        _exit (5);
    for (;;)
        pause ();
}

/* A PAIR socket takes one peer at a time: the second client gets through
   only once the killed first one has been noticed and dropped. */
TT_TEST (killed_peer_noticed)
{
    char e [128];
    int fds [2], g1 [2], g2 [2], s, i;
    pid_t p1, p2;
    ep (e, sizeof e);
    TT_OK (pipe (fds));
    TT_OK (pipe (g1));
    p1 = fork ();
    if (p1 == 0) {
        wait_go (g1);
        pair_client (e, fds [1], "first");
    }
    TT_OK (pipe (g2));
    p2 = fork ();
    if (p2 == 0) {
        wait_go (g2);
        pair_client (e, fds [1], "second");
    }
    close (g1 [0]);
    close (g2 [0]);
    s = sock (NN_PAIR);
    bind_ok (s, e);
    go (g1 [1]);
    recv_str (s, "first");
    send_str (s, "first");
    TT_EQ (wait_byte (fds [0], DEADLINE_MS), 'd');
    TT_OK (kill (p1, SIGKILL));
    TT_EQ (child_status (p1), 128 + SIGKILL);
    go (g2 [1]);
    /* the first client may have sent more than once */
    for (;;) {
        char b [64];
        int n = nn_recv (s, b, sizeof b - 1, 0);
        if (n < 0)
            TT_FAIL ("nn_recv (want second): %s", nn_strerror (nn_errno ()));
        b [n] = 0;
        if (strcmp (b, "second") == 0)
            break;
        if (strcmp (b, "first") != 0)
            TT_FAIL ("received '%s'", b);
    }
    send_str (s, "second");
    TT_EQ (wait_byte (fds [0], DEADLINE_MS), 'd');
    for (i = 0; i < 1; i++)
        TT_OK (kill (p2, SIGKILL));
    TT_EQ (child_status (p2), 128 + SIGKILL);
    TT_OK (nn_close (s));
}

/* ------------------------------------------------------------ bad URLs */

static void refused (int s, const char *url, int bind, int want)
{
    int rc = bind ? nn_bind (s, url) : nn_connect (s, url);
    if (rc >= 0)
        TT_FAIL ("%s(%s) accepted", bind ? "nn_bind" : "nn_connect", url);
    if (want && nn_errno () != want)
        TT_FAIL ("%s(%s): %s, want %s", bind ? "nn_bind" : "nn_connect", url,
            nn_strerror (nn_errno ()), nn_strerror (want));
    printf ("  %s(%s): %s\n", bind ? "nn_bind" : "nn_connect", url,
        nn_strerror (nn_errno ()));
}

TT_TEST (bad_urls_refused)
{
    int s = nn_socket (AF_SP, NN_PAIR), b;
    const char *t = transport ();
    TT_ASSERT (s >= 0);
    for (b = 0; b < 2; b++) {
        refused (s, "shm://", b, EINVAL);
        refused (s, "shm://no spaces", b, EINVAL);
        refused (s, "shm://no/slash", b, EINVAL);
        refused (s, "fabtx://x", b, EPROTONOSUPPORT);
        if (strncmp (t, "ofi", 3) == 0) {
            refused (s, "ofi://127.0.0.1", b, EINVAL);
            refused (s, "ofi://127.0.0.1:99999", b, EINVAL);
            refused (s, "ofi://:5555", b, EINVAL);
        }
        if (strcmp (t, "rio") == 0)
            refused (s, "rio://x:1", b, EINVAL);
        if (strcmp (t, "scif") == 0)
            refused (s, "scif://abc", b, EINVAL);
    }
    /* an unknown libfabric provider: nn_bind looks it up at once */
    if (strncmp (t, "ofi", 3) == 0)
        refused (s, "ofi://127.0.0.1:20001?provider=nosuch", 1, ENODEV);
    TT_OK (nn_close (s));
}

TT_TEST (address_in_use)
{
    char e [128];
    int a = sock (NN_PAIR), b = sock (NN_PAIR);
    ep (e, sizeof e);
    bind_ok (a, e);
    TT_ASSERT (nn_bind (b, e) < 0);
    TT_EQ (nn_errno (), EADDRINUSE);
    TT_OK (nn_close (a));
    TT_OK (nn_close (b));
}

/* ------------------------------------------------------ hostile peers */

/* A raw fabtx client that does `what` after connecting; nanomsg must end
   that connection (the client sees its end), and only that one. */
static void raw_peer (fabtx_ctx *ctx, const char *e, const void *hdr,
    size_t hdrlen, size_t body)
{
    fabtx_conn *c = NULL;
    unsigned char b [64];
    ssize_t n;
    int rc = fabtx_connect (ctx, e, &c, DEADLINE_MS);
    if (rc < 0)
        TT_FAIL ("fabtx_connect(%s): %s", e, fabtx_strerror (rc));
    TT_EQ (fabtx_send (c, hdr, hdrlen, DEADLINE_MS), (ssize_t) hdrlen);
    if (body) {
        unsigned char *p = calloc (1, body);
        TT_ASSERT (p != NULL);
        TT_EQ (fabtx_send (c, p, body, DEADLINE_MS), (ssize_t) body);
        free (p);
    }
    /* nanomsg's own header comes first; then the end */
    n = fabtx_recv (c, b, sizeof b, DEADLINE_MS);
    TT_EQ (n, 8);
    TT_ASSERT (memcmp (b, "\0SP\0", 4) == 0);
    n = fabtx_recv (c, b, sizeof b, DEADLINE_MS);
    if (n >= 0 || n == -ETIMEDOUT || n == -EAGAIN)
        TT_FAIL ("connection not ended: %zd %s", n,
            n < 0 ? fabtx_strerror ((int) n) : "");
    printf ("  raw peer (%zu-byte header%s): ended with %s\n", hdrlen,
        body ? " + large message" : "", fabtx_strerror ((int) n));
    fabtx_conn_close (c, 0);
}

TT_TEST (hostile_peer_only_its_connection_ends)
{
    char e [128];
    int rep, req, max = 1000;
    fabtx_ctx *ctx = NULL;
    unsigned char good [8] = {0, 'S', 'P', 0, 0, 0, 0, 0};
    unsigned char bad_magic [8] = {0, 'X', 'P', 0, 0, 0, 0, 0};
    unsigned char bad_proto [8] = {0, 'S', 'P', 0, 0x7f, 0x7f, 0, 0};
    if (strcmp (transport (), "shm") != 0)
        TT_SKIP ("the raw fabtx peer speaks shm:// here");
    ep (e, sizeof e);
    rep = sock (NN_REP);
    TT_OK (nn_setsockopt (rep, NN_SOL_SOCKET, NN_RCVMAXSIZE, &max,
        sizeof max));
    bind_ok (rep, e);
    TT_OK (fabtx_ctx_create (&ctx, NULL));
    good [4] = (unsigned char) (NN_REQ >> 8);
    good [5] = (unsigned char) (NN_REQ & 0xff);
    raw_peer (ctx, e, bad_magic, sizeof bad_magic, 0);
    raw_peer (ctx, e, bad_proto, sizeof bad_proto, 0);
    raw_peer (ctx, e, good, 3, 0);              /* short */
    raw_peer (ctx, e, good, sizeof good, 2000); /* over NN_RCVMAXSIZE */
    fabtx_ctx_destroy (ctx);
    /* the socket serves a proper peer as before */
    req = sock (NN_REQ);
    connect_ok (req, e);
    send_str (req, "still here?");
    recv_str (rep, "still here?");
    send_str (rep, "yes");
    recv_str (req, "yes");
    TT_OK (nn_close (req));
    TT_OK (nn_close (rep));
}

TT_MAIN ()
