/* SPDX-License-Identifier: MIT */
/* fault_trials.c -- long message streams over shm:// (a build with
 * FABTX_FAULTS: the shm backend's own knobs) and the rio and scif emulators
 * with faults injected at random (issue 16; knobs in test/rioemu and
 * test/scifemu: EBUSY / -EAGAIN storms, short writes, failed writes,
 * dropped and duplicated doorbells, a peer vanishing at its N-th
 * operation).
 *
 *   fault_trials_rio TRIALS    fault_trials_scif TRIALS
 *
 * Each trial forks a peer with its own random knobs; it sends a stream of
 * messages (even trials) or receives one (odd trials), then closes.  The
 * survivor (also under knobs when the environment sets them for the whole
 * run) checks:
 *   - every message delivered is the right one, whole, in order;
 *   - a sender whose close returned 0 (clean) has had every message
 *     delivered, and the stream then ends in -ESHUTDOWN -- unless the
 *     receiver's own knob did fail one of its writes (a credit report):
 *     that ends its connection in its own clear error, possibly before it
 *     has read the last messages the sender's close saw written;
 *   - otherwise the connection ends in a clear error (-ECONNRESET,
 *     -ETIMEDOUT, -EPROTO) -- never a hang (tt.h's alarm), never a
 *     message that is wrong. */
#define FABTX_IMPLEMENTATION
#include "fabtx.h"
#if defined(FT_SHM) /* the shm backend's own knobs (FABTX_FAULTS) */
#define EMU "SHM"
#elif defined(FT_RIO)
#include "fabtx_rio.h"
#include "rioemu/rioemu.h"
#define EMU "RIOEMU"
#else
#include "fabtx_scif.h"
#include "scifemu/scifemu.h"
#define EMU "SCIFEMU"
#endif
#include "tt.h"
#include "th.h"
#include <signal.h>
#include <sys/wait.h>

#define CELLS 16u
#define CELL 1024u
#define MAXLEN (3u * CELLS * CELL)
#define NMSG 400
#define WRONG (-10000) /* a peer's report: a message arrived wrong */

static int trials;

static uint32_t mlen(uint64_t k)
{
	uint64_t s = k * 0x9e3779b97f4a7c15ull + 91;
	uint64_t u = th_rand(&s) % 10;
	if (u < 6) return (uint32_t)(th_rand(&s) % 300);
	if (u < 9) return (uint32_t)(th_rand(&s) % (CELLS * CELL));
	return (uint32_t)(th_rand(&s) % (MAXLEN + 1));
}

static fabtx_ctx *mkctx(void)
{
	fabtx_ctx *ctx;
	fabtx_ctx_config cfg = fabtx_ctx_config_init();
	cfg.cell_count = CELLS;
	cfg.cell_size = CELL;
	cfg.keepalive_ms = 200; /* a silent peer is found in ~2 s */
	cfg.keepalive_timeout_ms = 2000;
	if (fabtx_ctx_create(&ctx, &cfg) < 0) return NULL;
#if defined(FT_SHM)
#elif defined(FT_RIO)
	fabtx_ctx_add_backend(ctx, fabtx_rio_backend());
#else
	fabtx_ctx_add_backend(ctx, fabtx_scif_backend());
#endif
	return ctx;
}

static void node(int peer)
{
#if defined(FT_SHM)
	(void)peer;
#elif defined(FT_RIO)
	setenv("FABTX_RIOEMU_DESTID", peer ? "2" : "1", 1);
#else
	setenv("FABTX_SCIFEMU_NODE", peer ? "1" : "0", 1);
#endif
}

/* what the peer reports on its pipe: messages done, its end (0 clean,
 * -1 none, WRONG, an error), writes its own knobs failed; as a receiver
 * where its ring stood at the end (read, visible, FIN seen); its knobs */
struct report {
	int64_t done, end, fails, rx_pos, rx_vis, fin;
	char knobs[200];
};

static char knobs_set[200]; /* the peer's knobs, for a failure's message */

static void knob(const char *name, long v)
{
	char n[64], b[32];
	size_t k = strlen(knobs_set);
	snprintf(n, sizeof n, "FABTX_" EMU "_%s", name);
	snprintf(b, sizeof b, "%ld", v);
	setenv(n, b, 1);
	snprintf(knobs_set + k, sizeof knobs_set - k, "%s%s=%ld", k ? " " : "", name,
	         v);
}

/* the peer's random faults: a few per mille of each kind, sometimes a
 * storm, sometimes it vanishes */
static void peer_knobs(uint64_t *s, int trial)
{
	knob("FAULT_SEED", 1 + trial);
#if defined(FT_SHM) /* DIRECT writes are stores: they cannot fail */
	knob("DROP_DB", (long)(th_rand(s) % 4 == 0 ? th_rand(s) % 300 : th_rand(s) % 20));
	knob("DUP_DB", (long)(th_rand(s) % 50));
	knob("EAGAIN", (long)(th_rand(s) % 4 == 0 ? th_rand(s) % 800 : th_rand(s) % 50));
	/* copy mode (FABTX_SHM_MODE=copy): writes find the queue full */
	if (getenv("FABTX_SHM_MODE") && strcmp(getenv("FABTX_SHM_MODE"), "copy") == 0)
		knob("WRITE_EAGAIN",
		     (long)(th_rand(s) % 4 == 0 ? th_rand(s) % 800 : th_rand(s) % 50));
#elif defined(FT_RIO)
	knob("DROP_DB", (long)(th_rand(s) % 4 == 0 ? th_rand(s) % 300 : th_rand(s) % 20));
	knob("DUP_DB", (long)(th_rand(s) % 50));
	knob("EBUSY", (long)(th_rand(s) % 4 == 0 ? th_rand(s) % 700 : th_rand(s) % 30));
	knob("FAIL_DMA", (long)(th_rand(s) % 3 == 0 ? th_rand(s) % 5 : 0));
#else
	knob("EAGAIN", (long)(th_rand(s) % 4 == 0 ? th_rand(s) % 800 : th_rand(s) % 50));
	knob("SHORT", (long)(th_rand(s) % 200));
	knob("FAIL_RMA", (long)(th_rand(s) % 3 == 0 ? th_rand(s) % 5 : 0));
#endif
	knob("VANISH_AFTER", (long)(th_rand(s) % 3 == 0 ? 50 + th_rand(s) % 3000 : 0));
}

static const char *listen_url(char *url, size_t cap, char *a, size_t acap,
                              int trial)
{
#if defined(FT_SHM)
	snprintf(a, acap, "shm://ft-%d-%d", (int)getpid(), trial);
	snprintf(url, cap, "%s", a);
#elif defined(FT_RIO)
	snprintf(a, acap, "rio://*:%d", 200 + trial);
	snprintf(url, cap, "rio://1:%d", 200 + trial);
#else
	snprintf(a, acap, "scif://%d", 7600 + trial);
	snprintf(url, cap, "scif://0:%d", 7600 + trial);
#endif
	return a;
}

/* Writes the peer's own knobs failed (a credit report, a FIN): its
 * connection then ends in its own clear error, possibly with messages the
 * survivor wrote (and saw its close accept) still unread. */
static int64_t own_write_failures(void)
{
#if defined(FT_SHM)
	return 0; /* DIRECT writes are stores: they cannot fail */
#elif defined(FT_RIO)
	return rioemu_fail_dma_hits();
#else
	return fabtx_scifemu_fail_rma_hits();
#endif
}

/* the peer: report {messages done, its end, own writes its knobs failed}
 * on wfd */
static void peer(const char *url, int sender, int wfd)
{
	fabtx_ctx *ctx;
	fabtx_conn *c;
	uint8_t *b = (uint8_t *)malloc(MAXLEN);
	struct report rep;
	uint64_t k;
	memset(&rep, 0, sizeof rep);
	rep.end = -1;
	snprintf(rep.knobs, sizeof rep.knobs, "%s", knobs_set);
	node(1);
	setenv("FABTX_LOG", "3", 1); /* how its connection ended, in the log */
	ctx = mkctx();
	if (!ctx || !b || fabtx_connect(ctx, url, &c, 10000) < 0) _exit(3);
	for (k = 0; k < NMSG; k++) {
		ssize_t r;
		if (sender) {
			uint32_t len = mlen(k);
			th_fill(b, len, k);
			r = fabtx_send(c, b, len, 20000);
			if (r != (ssize_t)len) break;
		} else {
			r = fabtx_recv(c, b, MAXLEN, 20000);
			if (r >= 0 && (r != (ssize_t)mlen(k) || th_check(b, (uint32_t)r, k)))
				rep.end = WRONG; /* delivered, and wrong */
			if (r < 0) rep.end = r;
			if (r != (ssize_t)mlen(k) || th_check(b, (uint32_t)r, k)) break;
		}
		rep.done = (int64_t)k + 1;
	}
	if (!sender && rep.done == NMSG) /* the whole stream, then its end */
		rep.end = fabtx_recv(c, b, MAXLEN, 20000) == -ESHUTDOWN ? 0 : -1;
	rep.rx_pos = (int64_t)fabtx_conn_rx_pos(c);
	rep.rx_vis = (int64_t)fabtx_conn_rx_visible(c);
	rep.fin = fabtx_conn_fin_seen(c);
	if (sender) rep.end = rep.done == NMSG ? fabtx_conn_close(c, 20000) : -1;
	else fabtx_conn_close(c, 0);
	rep.fails = own_write_failures();
	if (write(wfd, &rep, sizeof rep) < 0) _exit(5);
	_exit(0);
}

static int clear_error(ssize_t r)
{
	return r == -ECONNRESET || r == -ETIMEDOUT || r == -EPROTO ||
	       r == -ESHUTDOWN || r == -EIO;
}

static void one_trial(int trial, uint64_t *seed, int *clean_out)
{
	fabtx_ctx *ctx = mkctx();
	fabtx_listener *l;
	fabtx_conn *c;
	char url[64], a[64];
	uint8_t *b = (uint8_t *)malloc(MAXLEN);
	int sender = trial % 2 == 0, p[2], st = 0, ev = 0;
	struct report rep;
	uint64_t k = 0;
	ssize_t r = 0;
	pid_t pid;
	TT_ASSERT(ctx && b);
	memset(&rep, 0, sizeof rep);
	rep.done = rep.end = -1;
	TT_OK(fabtx_listen(ctx, listen_url(url, sizeof url, a, sizeof a, trial), &l));
	TT_OK(pipe(p));
	pid = fork();
	if (pid == 0) {
		close(p[0]);
		peer_knobs(seed, trial);
		peer(url, sender, p[1]);
	}
	th_rand(seed); /* the next trial's peer draws other knobs */
	close(p[1]);
	r = fabtx_accept(l, &c, 10000);
	if (r < 0) { /* the peer vanished before it connected */
		waitpid(pid, &st, 0);
		TT_ASSERT(WIFSIGNALED(st) || (WIFEXITED(st) && WEXITSTATUS(st) == 3));
		goto out;
	}
	if (sender) {
		for (;; k++) {
			r = fabtx_recv(c, b, MAXLEN, 20000);
			if (r < 0) break;
			TT_ASSERT(k < NMSG);
			TT_EQ(r, mlen(k));
			if (th_check(b, (uint32_t)r, k))
				TT_FAIL("trial %d: message %llu is wrong", trial,
				        (unsigned long long)k);
		}
		if (!clear_error(r))
			TT_FAIL("trial %d: stream ended with %s", trial, fabtx_strerror((int)r));
		waitpid(pid, &st, 0);
		if (read(p[0], &rep, sizeof rep) != (ssize_t)sizeof rep) rep.end = -1;
		if (rep.end == 0) { /* closed cleanly: nothing may be missing */
			if (k != NMSG || r != -ESHUTDOWN)
				TT_FAIL("trial %d: clean close, but %llu of %d delivered (%s)",
				        trial, (unsigned long long)k, NMSG,
				        fabtx_strerror((int)r));
			(*clean_out)++;
		}
	} else {
		for (k = 0; k < NMSG; k++) {
			uint32_t len = mlen(k);
			th_fill(b, len, k);
			r = fabtx_send(c, b, len, 20000);
			if (r < 0) break;
			TT_EQ(r, len);
		}
		ev = fabtx_conn_poll(c); /* how our end saw the peer */
		if (k == NMSG) r = fabtx_conn_close(c, 20000);
		else if (!clear_error(r) && r != -EPIPE)
			TT_FAIL("trial %d: send failed with %s", trial, fabtx_strerror((int)r));
		waitpid(pid, &st, 0);
		if (read(p[0], &rep, sizeof rep) != (ssize_t)sizeof rep) rep.done = -1;
		if (rep.end == WRONG)
			TT_FAIL("trial %d: the peer received message %lld wrong", trial,
			        (long long)rep.done);
		if (k == NMSG && r == 0) {
			/* our close said everything (and the FIN) was written:
			 * the peer must read it all, unless it died on its own
			 * knob, or a write its own knob failed (a credit report)
			 * ended its connection in a clear error first */
			if (WIFEXITED(st) && rep.done != NMSG &&
			    !(rep.fails && rep.end < 0 && clear_error((ssize_t)rep.end)))
				TT_FAIL("trial %d: clean close, peer has %lld of %d "
				        "(its end: %s; its ring: read to %lld, visible to "
				        "%lld, FIN %s; our poll before close 0x%x; its "
				        "knobs: %s)",
				        trial, (long long)rep.done, NMSG,
				        rep.end == -1 ? "-" : fabtx_strerror((int)rep.end),
				        (long long)rep.rx_pos, (long long)rep.rx_vis,
				        rep.fin ? "seen" : "not seen", (unsigned)ev, rep.knobs);
			(*clean_out)++;
		}
		c = k == NMSG ? NULL : c;
	}
	if (c) fabtx_conn_close(c, 0);
out:
	printf("  trial %d (%s): %llu messages, ended %s, peer %s (its end: %s; "
	       "writes its knob failed: %lld)\n",
	       trial, sender ? "peer sends" : "peer receives", (unsigned long long)k,
	       r < 0 ? fabtx_strerror((int)r) : "cleanly",
	       WIFSIGNALED(st) ? "vanished" : "exited",
	       rep.end >= 0 ? "clean" : rep.end == -1 ? "-" : fabtx_strerror((int)rep.end),
	       (long long)rep.fails);
	fabtx_listener_close(l);
	close(p[0]);
	fabtx_ctx_destroy(ctx);
	free(b);
}

TT_TEST(fault_trials)
{
	uint64_t seed = 0xfa017ull + (uint64_t)getpid();
	int i, clean = 0;
	signal(SIGPIPE, SIG_IGN);
#if defined(FT_SHM)
#elif defined(FT_RIO)
	{
		static char fab[64];
		rioemu_fabric_sweep("ft");
		snprintf(fab, sizeof fab, "ft%d", (int)getpid());
		setenv("FABTX_RIOEMU_FABRIC", fab, 1);
		setenv("FABTX_RIOEMU_DMA_TIMEOUT_MS", "300", 1);
		setenv("FABTX_RIOEMU_CONNECT_TIMEOUT_MS", "300", 1);
		unsetenv("FABTX_RIO_MPORT");
	}
#else
	{
		static char fab[64];
		snprintf(fab, sizeof fab, "ft%d", (int)getpid());
		setenv("FABTX_SCIFEMU_FABRIC", fab, 1);
		fabtx_scifemu_unlink(fab);
	}
#endif
	node(0);
	for (i = 0; i < trials; i++) one_trial(i, &seed, &clean);
	printf("  %d of %d trials ended cleanly, the others in a clear error\n", clean,
	       trials);
#if defined(FT_SHM)
#elif defined(FT_RIO)
	rioemu_fabric_remove(getenv("FABTX_RIOEMU_FABRIC"));
#else
	fabtx_scifemu_unlink(getenv("FABTX_SCIFEMU_FABRIC"));
#endif
}

int main(int argc, char **argv)
{
	char *a[1];
	if (argc != 2) {
		fprintf(stderr, "usage: fault_trials_shm|_rio|_scif TRIALS\n");
		return 2;
	}
	trials = atoi(argv[1]);
	a[0] = argv[0];
	return tt_main(1, a);
}
