/* The eventfd bridge: arm / poll semantics and the lost-wakeup race (two
 * threads, many iterations; a lost wakeup hangs and fails by timeout). */
#define FABTX_IMPLEMENTATION
#include "fabtx.h"
#include "th.h"
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <unistd.h>

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

/* A blocking receive sleeps armed for data alone: the credit reports of
 * the peer reading what this side sent earlier do not wake it (shm://:
 * each would cost the peer a wakeup system call and this side a useless
 * round); the reply does.  Event loops (fabtx_conn_arm_mask) stay armed
 * for everything. */
struct blk {
	fabtx_conn *c;
	pid_t tid;
	ssize_t rc;
};

static void *blk_recv(void *p)
{
	struct blk *b = (struct blk *)p;
	char m[16];
	__atomic_store_n(&b->tid, (pid_t)syscall(SYS_gettid), __ATOMIC_RELEASE);
	b->rc = fabtx_recv(b->c, m, sizeof m, 30000);
	return NULL;
}

/* is thread tid blocked in poll(2) (or ppoll)?  /proc says which system
 * call a sleeping thread is in: an observation, not a timed wait */
static int in_poll(pid_t tid)
{
	char path[64], buf[64];
	long nr = -1;
	FILE *f;
	snprintf(path, sizeof path, "/proc/self/task/%d/syscall", (int)tid);
	f = fopen(path, "r");
	if (!f) return 0;
	if (fgets(buf, sizeof buf, f)) nr = strtol(buf, NULL, 10);
	fclose(f);
	return nr == SYS_poll || nr == SYS_ppoll;
}

TT_TEST(blocking_receive_is_not_woken_by_credit_reports)
{
	fabtx_ctx *ctx;
	fabtx_ctx_config cfg = fabtx_ctx_config_init();
	fabtx_conn *a, *b;
	fabtx_conn_stats st;
	struct blk k;
	pthread_t t;
	char m[16];
	uint64_t bells, reports;
	const char *mode = getenv("FABTX_SHM_MODE");
	int i, n = 0, copy = mode && strcmp(mode, "copy") == 0;
	cfg.cell_count = 8;
	cfg.cell_size = 256;
	cfg.keepalive_ms = 600000; /* no keepalive rounds during the test */
	TT_OK(fabtx_ctx_create(&ctx, &cfg));
	th_pair(ctx, ctx, &a, &b);
	while (fabtx_send(a, "c", 1, 0) == 1) n++; /* the ring is full */
	TT_ASSERT(n >= 4);
	k.c = a;
	k.tid = 0;
	k.rc = 0;
	TT_EQ(pthread_create(&t, NULL, blk_recv, &k), 0);
	while (!__atomic_load_n(&k.tid, __ATOMIC_ACQUIRE) || !in_poll(k.tid))
		sched_yield(); /* a sleeps, armed */
	TT_OK(fabtx_conn_stats_get(b, &st));
	bells = st.doorbells_sent;
	reports = st.credit_reports;
	for (i = 0; i < n; i++) TT_EQ(fabtx_recv(b, m, sizeof m, 0), 1);
	TT_OK(fabtx_conn_stats_get(b, &st));
	TT_ASSERT(st.credit_reports > reports);
	/* reported, a not woken (copy mode counts each report's write too) */
	if (copy) bells += st.credit_reports - reports;
	TT_EQ(st.doorbells_sent, bells);
	TT_EQ(fabtx_send(b, "r", 1, 0), 1);
	TT_OK(fabtx_conn_stats_get(b, &st));
	TT_ASSERT(st.doorbells_sent > bells); /* the reply wakes it */
	TT_EQ(pthread_join(t, NULL), 0);
	TT_EQ(k.rc, 1);
	TT_EQ(fabtx_send(a, "c", 1, 0), 1); /* the credits did come */
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
