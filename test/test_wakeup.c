/* The eventfd bridge: arm / poll semantics and the lost-wakeup race (two
 * threads, many iterations; a lost wakeup hangs and fails by timeout). */
#define FABTX_IMPLEMENTATION
#include "fabtx.h"
#include "th.h"
#include <poll.h>
#include <stdlib.h>

static int readable(int fd, int ms)
{
	struct pollfd p;
	p.fd = fd;
	p.events = POLLIN;
	p.revents = 0;
	return poll(&p, 1, ms) == 1 && (p.revents & POLLIN);
}

TT_TEST(arm_reports_pending_work_and_fd_wakes)
{
	fabtx_ctx *ctx = th_ctx(8, 256);
	fabtx_conn *a, *b;
	char m[16];
	int i;
	th_pair(ctx, ctx, &a, &b);
	TT_EQ(fabtx_conn_arm(b), 0);             /* nothing pending: armed */
	TT_EQ(fabtx_send(a, "hi", 2, 0), 2);
	TT_ASSERT(readable(fabtx_conn_fd(b), 0)); /* the doorbell woke it */
	TT_EQ(fabtx_conn_arm(b), -EAGAIN);       /* message pending */
	TT_EQ(fabtx_recv(b, m, sizeof m, 0), 2);
	TT_EQ(fabtx_conn_arm(b), 0);
	TT_ASSERT(!readable(fabtx_conn_fd(b), 0)); /* drained: quiet */
	/* a message that lands between drain and arm is caught by arm */
	TT_EQ(fabtx_send(a, "x", 1, 0), 1);
	TT_EQ(fabtx_conn_arm(b), -EAGAIN);
	TT_EQ(fabtx_recv(b, m, sizeof m, 0), 1);
	/* credits: a fills the ring, arms, and is woken by the credit report */
	for (i = 0; i < 7; i++) TT_EQ(fabtx_send(a, "c", 1, 0), 1);
	TT_EQ(fabtx_send(a, "c", 1, 0), -EAGAIN);
	TT_EQ(fabtx_conn_arm(a), 0);
	for (i = 0; i < 2; i++) TT_EQ(fabtx_recv(b, m, sizeof m, 0), 1);
	TT_ASSERT(readable(fabtx_conn_fd(a), 0));
	TT_EQ(fabtx_conn_arm_mask(a, FABTX_POLLIN), 0); /* not asked for */
	for (i = 0; i < 2; i++) TT_EQ(fabtx_send(a, "c", 1, 0), 1);
	TT_EQ(fabtx_send(a, "c", 1, 0), -EAGAIN);
	TT_EQ(fabtx_conn_arm(a), 0);
	for (i = 0; i < 2; i++) TT_EQ(fabtx_recv(b, m, sizeof m, 0), 1);
	TT_ASSERT(readable(fabtx_conn_fd(a), 0));
	TT_EQ(fabtx_conn_arm(a), -EAGAIN); /* credit event */
	TT_ASSERT(fabtx_conn_poll(a) & FABTX_POLLOUT);
	TT_EQ(fabtx_conn_arm_mask(a, FABTX_POLLOUT), 0);
	TT_EQ(fabtx_send(b, "in", 2, 0), 2); /* a message: still reported */
	TT_EQ(fabtx_conn_arm_mask(a, FABTX_POLLOUT), 0); /* ... not for OUT */
	TT_EQ(fabtx_conn_arm_mask(a, FABTX_POLLIN), -EAGAIN);
	TT_EQ(fabtx_recv(a, m, sizeof m, 0), 2);
	fabtx_conn_close(a, 0);
	TT_ASSERT(readable(fabtx_conn_fd(b), 1000)); /* FIN / hangup wakes */
	fabtx_conn_close(b, 0);
	fabtx_ctx_destroy(ctx);
}

/* The armed word says what wakes the sleeper: a side armed for messages
 * alone (it waits for a reply) is not woken by the credit reports of the
 * peer reading what it sent, a side armed for credits alone not by
 * messages; armed for both, by either (shm://: each kind costs the writer
 * a wakeup system call, and the sleeper a useless round). */
TT_TEST(armed_for_one_kind_is_not_woken_by_the_other)
{
	fabtx_ctx *ctx = th_ctx(8, 256);
	fabtx_conn *a, *b;
	char m[16];
	int i, n = 0;
	th_pair(ctx, ctx, &a, &b);
	while (fabtx_send(a, "c", 1, 0) == 1) n++; /* the ring is full */
	TT_ASSERT(n >= 4);
	TT_EQ(fabtx_conn_arm_mask(a, FABTX_POLLIN), 0);
	for (i = 0; i < n; i++) TT_EQ(fabtx_recv(b, m, sizeof m, 0), 1);
	TT_ASSERT(!readable(fabtx_conn_fd(a), 0)); /* credits: no wakeup */
	TT_EQ(fabtx_send(b, "r", 1, 0), 1);          /* the reply ... */
	TT_ASSERT(readable(fabtx_conn_fd(a), 1000)); /* ... wakes it */
	TT_EQ(fabtx_conn_arm_mask(a, FABTX_POLLIN), -EAGAIN);
	TT_EQ(fabtx_recv(a, m, sizeof m, 0), 1);
	TT_ASSERT(fabtx_conn_poll(a) & FABTX_POLLOUT); /* the credits came */
	/* armed for credits alone: a message does not wake, a report does */
	n = 0;
	while (fabtx_send(a, "c", 1, 0) == 1) n++;
	TT_ASSERT(n >= 4);
	TT_EQ(fabtx_conn_arm_mask(a, FABTX_POLLOUT), 0);
	TT_EQ(fabtx_send(b, "m", 1, 0), 1);
	TT_ASSERT(!readable(fabtx_conn_fd(a), 0));
	for (i = 0; i < n; i++) TT_EQ(fabtx_recv(b, m, sizeof m, 0), 1);
	TT_ASSERT(readable(fabtx_conn_fd(a), 1000));
	TT_EQ(fabtx_recv(a, m, sizeof m, 0), 1);
	/* armed for both: a credit report wakes */
	n = 0;
	while (fabtx_send(a, "c", 1, 0) == 1) n++;
	TT_EQ(fabtx_conn_arm(a), 0);
	for (i = 0; i < n; i++) TT_EQ(fabtx_recv(b, m, sizeof m, 0), 1);
	TT_ASSERT(readable(fabtx_conn_fd(a), 1000));
	fabtx_conn_close(a, 0);
	fabtx_conn_close(b, 0);
	fabtx_ctx_destroy(ctx);
}

struct race {
	fabtx_conn *c;
	long n;
	uint64_t seed;
	long done;
};

/* event-loop sender: send until EAGAIN, arm, poll */
static void *race_send(void *p)
{
	struct race *r = (struct race *)p;
	long i = 0;
	uint8_t m[64];
	while (i < r->n) {
		unsigned spin = (unsigned)(th_rand(&r->seed) % 2000);
		ssize_t rc;
		while (spin--) __asm__ __volatile__("" ::: "memory");
		th_fill(m, (size_t)(i % 64), (uint64_t)i);
		rc = fabtx_send(r->c, m, (size_t)(i % 64), 0);
		if (rc >= 0) {
			i++;
			continue;
		}
		if (rc != -EAGAIN) break;
		if (fabtx_conn_arm(r->c) == -EAGAIN) continue;
		if (!readable(fabtx_conn_fd(r->c), -1)) break;
	}
	r->done = i;
	return NULL;
}

/* event-loop receiver: drain until EAGAIN, arm, poll */
static void *race_recv(void *p)
{
	struct race *r = (struct race *)p;
	long i = 0;
	uint8_t m[64];
	while (i < r->n) {
		ssize_t rc = fabtx_recv(r->c, m, sizeof m, 0);
		if (rc >= 0) {
			if (rc != i % 64 || th_check(m, (size_t)rc, (uint64_t)i)) break;
			i++;
			if (th_rand(&r->seed) % 8 == 0) { /* a slow consumer at times */
				unsigned spin = (unsigned)(th_rand(&r->seed) % 5000);
				while (spin--) __asm__ __volatile__("" ::: "memory");
			}
			continue;
		}
		if (rc != -EAGAIN) break;
		if (fabtx_conn_arm(r->c) == -EAGAIN) continue;
		if (!readable(fabtx_conn_fd(r->c), -1)) break;
	}
	r->done = i;
	return NULL;
}

static void race(uint32_t cells, long n)
{
	fabtx_ctx *ctx = th_ctx(cells, 128);
	struct race s, r;
	pthread_t ts, tr;
	memset(&s, 0, sizeof s);
	memset(&r, 0, sizeof r);
	th_pair(ctx, ctx, &s.c, &r.c);
	s.n = r.n = n;
	s.seed = 1;
	r.seed = 2;
	TT_EQ(pthread_create(&ts, NULL, race_send, &s), 0);
	TT_EQ(pthread_create(&tr, NULL, race_recv, &r), 0);
	pthread_join(ts, NULL);
	pthread_join(tr, NULL);
	TT_EQ(s.done, n);
	TT_EQ(r.done, n);
	fabtx_conn_close(s.c, 0);
	fabtx_conn_close(r.c, 0);
	fabtx_ctx_destroy(ctx);
}
TT_TEST(lost_wakeup_race_data) { race(64, 200000); }
TT_TEST(lost_wakeup_race_credits) { race(4, 100000); }

struct pp {
	fabtx_conn *c;
	long n;
	int first;
	long done;
};
/* first: send then receive; otherwise receive then send back +1 */
static void *pingpong(void *p)
{
	struct pp *x = (struct pp *)p;
	long i;
	uint64_t v = 0, w;
	for (i = 0; i < x->n; i++) {
		if (x->first) {
			if (fabtx_send(x->c, &v, sizeof v, -1) != sizeof v) break;
			if (fabtx_recv(x->c, &w, sizeof w, -1) != sizeof w || w != v + 1)
				break;
			v = w + 1;
		} else {
			if (fabtx_recv(x->c, &w, sizeof w, -1) != sizeof w) break;
			w++;
			if (fabtx_send(x->c, &w, sizeof w, -1) != sizeof w) break;
		}
	}
	x->done = i;
	return NULL;
}

static void blocking_pingpong(int spin_us)
{
	fabtx_ctx_config cfg = fabtx_ctx_config_init();
	fabtx_ctx *ctx;
	struct pp a, b;
	pthread_t ta, tb;
	cfg.cell_count = 16;
	cfg.cell_size = 128;
	cfg.spin_us = spin_us;
	TT_OK(fabtx_ctx_create(&ctx, &cfg));
	memset(&a, 0, sizeof a);
	memset(&b, 0, sizeof b);
	th_pair(ctx, ctx, &a.c, &b.c);
	a.n = b.n = 20000;
	a.first = 1;
	TT_EQ(pthread_create(&ta, NULL, pingpong, &a), 0);
	TT_EQ(pthread_create(&tb, NULL, pingpong, &b), 0);
	pthread_join(tb, NULL);
	pthread_join(ta, NULL);
	TT_EQ(a.done, a.n);
	TT_EQ(b.done, b.n);
	fabtx_conn_close(a.c, 0);
	fabtx_conn_close(b.c, 0);
	fabtx_ctx_destroy(ctx);
}
TT_TEST(blocking_pingpong_sleeping) { blocking_pingpong(0); }
TT_TEST(blocking_pingpong_busy_poll) { blocking_pingpong(1000000); }

TT_MAIN()
