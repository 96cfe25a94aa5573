/* SPDX-License-Identifier: MIT */
/* test_ofi_be.c -- the ofi:// backend ops driven directly, on every real
 * libfabric provider here, with a minimal stand-in for the core (so the
 * backend is tested on its own: URLs, provider choice, bootstrap, windows,
 * RMA write + remote CQ data doorbells, credit doorbells, flush, the
 * pollable fd with fi_trywait / timer fallback, dead-peer detection). */
#include "fabtx.h"
/* the stand-in's own ctx: opaque to the backend, which reaches it only
 * through the backend API functions below */
struct fabtx_ctx {
	int spin_us;
	void *state;
};
#define FABTX_IMPLEMENTATION_INCLUDED /* leave out the core: stand-in below */
#define FABTX_IMPLEMENTATION
#include "fabtx_ofi.h"
#include "tt.h"

#include <glob.h>
#include <poll.h>
#include <sys/epoll.h>
#include <stdarg.h>
#include <sys/socket.h>
#include <netinet/in.h>

/* ------------------------------------------------- stand-in for the core */
static char g_log[4096];
static uint32_t g_db[4096];
static int g_ndb, g_fail;

void fabtx_log(fabtx_ctx *ctx, fabtx_log_level lvl, const char *fmt, ...)
{
	va_list ap;
	size_t o = strlen(g_log);
	(void)ctx;
	va_start(ap, fmt);
	if (o < sizeof g_log - 2) {
		vsnprintf(g_log + o, sizeof g_log - o - 1, fmt, ap);
		strcat(g_log, "\n");
	}
	va_end(ap);
	if (getenv("TT_VERBOSE") || lvl <= FABTX_LOG_ERROR)
		fprintf(stderr, "log: %s", g_log + o);
}
void *fabtx_ctx_backend_data(fabtx_ctx *ctx, const fabtx_backend *be)
{
	(void)be;
	return ctx->state;
}
const fabtx_allocator *fabtx_ctx_allocator(fabtx_ctx *ctx)
{
	(void)ctx;
	return NULL;
}
void *fabtx_ctx_zalloc(fabtx_ctx *ctx, size_t size)
{
	(void)ctx;
	return calloc(1, size ? size : 1);
}
void fabtx_ctx_free(fabtx_ctx *ctx, void *p)
{
	(void)ctx;
	free(p);
}
void fabtx_conn_doorbell_in(fabtx_conn *c, uint32_t v)
{
	(void)c;
	if (g_ndb < 4096)
		g_db[g_ndb++] = v;
}
void fabtx_conn_data_in(fabtx_conn *c, uint64_t pos)
{
	(void)c;
	if (g_ndb < 4096)
		g_db[g_ndb++] = 0x80000000u | (uint32_t)pos;
}
/* footers that arrived in CQ data (write_imm) */
static uint64_t g_imm_pos[64];
static uint32_t g_imm_len[64];
static uint16_t g_imm_fl[64];
static int g_nimm;
/* the write_imm test's message sizes, the largest the provider injects */
static void imm_sizes(uint32_t sz[4], size_t inject_size)
{
	sz[0] = 1;
	sz[1] = 8;
	sz[2] = 37;
	sz[3] = (uint32_t)inject_size;
}
int fabtx_conn_chunk_in(fabtx_conn *c, uint64_t pos, uint32_t len,
                        uint16_t flags)
{
	(void)c;
	if (g_nimm < 64) {
		g_imm_pos[g_nimm] = pos;
		g_imm_len[g_nimm] = len;
		g_imm_fl[g_nimm] = flags;
		g_nimm++;
	}
	return 0;
}
/* what the backend may read of a connection (the BACKEND API accessors):
 * the tests set these fields of the core's struct directly */
int fabtx_ctx_spin_us(const fabtx_ctx *ctx) { return ctx->spin_us; }
int fabtx_ctx_handshake_ms(const fabtx_ctx *ctx)
{
	(void)ctx;
	return 5000;
}
uint64_t fabtx_conn_rx_pos(const fabtx_conn *c) { return c->rx.seq; }
uint64_t fabtx_conn_rx_visible(const fabtx_conn *c) { return c->rx.hint; }
uint64_t fabtx_conn_rx_limit(const fabtx_conn *c)
{
	(void)c;
	return 0; /* no ring here: any BYE position goes */
}
uint64_t fabtx_conn_tx_pos(const fabtx_conn *c) { return c->tx.seq; }
int fabtx_conn_fin_seen(const fabtx_conn *c) { return c->fin_recv; }
/* credit notifications travel as the core's 16-bit value: here the
 * position itself, so the test names the values it expects */
uint32_t fabtx_conn_db_value(const fabtx_conn *c, fabtx_db_kind kind,
                             uint64_t pos)
{
	(void)c;
	(void)kind;
	return (uint32_t)pos & 0xffffu;
}
void fabtx_conn_fail(fabtx_conn *c, int err)
{
	c->err = err;
	g_fail = err;
}
void fabtx_conn_write_dropped(fabtx_conn *c)
{
	c->tx_dropped = 1;
}
uint64_t fabtx_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}
uint64_t fabtx_now_ms(void) { return fabtx_now_ns() / 1000000u; }
uint64_t fabtx_deadline(int timeout_ms)
{
	if (timeout_ms < 0) return UINT64_MAX;
	return fabtx_now_ns() + (uint64_t)timeout_ms * 1000000u;
}
int fabtx_remaining_ms(uint64_t deadline)
{
	uint64_t now = fabtx_now_ns();
	if (deadline == UINT64_MAX) return -1;
	return now >= deadline ? 0 : (int)((deadline - now + 999999u) / 1000000u);
}
int fabtx_url_hostport(const char *a, char *host, size_t hc, char *port,
                       size_t pc, const char **query)
{
	const char *e, *p, *q = strchr(a, '?');
	size_t hl, pl;
	if (a[0] == '[') {
		e = strchr(a, ']');
		if (!e || e[1] != ':')
			return -EINVAL;
		hl = (size_t)(e - a - 1);
		memcpy(host, a + 1, hl < hc ? hl : 0);
		p = e + 2;
	} else {
		e = strchr(a, ':');
		if (!e || (q && e > q))
			return -EINVAL;
		hl = (size_t)(e - a);
		if (hl >= hc)
			return -EINVAL;
		memcpy(host, a, hl);
		p = e + 1;
	}
	if (hl == 0 || hl >= hc)
		return -EINVAL;
	host[hl] = 0;
	pl = q ? (size_t)(q - p) : strlen(p);
	if (pl == 0 || pl >= pc)
		return -EINVAL;
	memcpy(port, p, pl);
	port[pl] = 0;
	if (query)
		*query = q ? q + 1 : NULL;
	return 0;
}
int fabtx_url_query(const char *q, const char *key, char *val, size_t cap)
{
	size_t kl = strlen(key);
	while (q && *q) {
		const char *amp = strchr(q, '&');
		size_t l = amp ? (size_t)(amp - q) : strlen(q);
		if (l > kl && strncmp(q, key, kl) == 0 && q[kl] == '=') {
			size_t vl = l - kl - 1;
			if (vl >= cap)
				return -EINVAL;
			memcpy(val, q + kl + 1, vl);
			val[vl] = 0;
			return (int)vl;
		}
		q = amp ? amp + 1 : NULL;
	}
	return -ENOENT;
}
int fabtx_mr_cache_create(fabtx_mr_cache **out,
                          const fabtx_mr_cache_config *cfg,
                          const fabtx_mr_ops *ops, const fabtx_allocator *a)
{
	(void)out; (void)cfg; (void)ops; (void)a;
	return -ENOSYS;
}
int fabtx_mr_cache_destroy(fabtx_mr_cache *mc)
{
	(void)mc;
	return 0;
}

/* ------------------------------------------------------------ helpers */
static const fabtx_backend *be;
static fabtx_ctx g_ctx;

static void ctx_setup(void)
{
	be = fabtx_ofi_backend();
	TT_ASSERT(be && strcmp(be->scheme, "ofi") == 0);
	TT_OK(be->setup.ctx_init(&g_ctx, &g_ctx.state));
}

static fabtx_conn *new_conn(void)
{
	fabtx_conn *c = (fabtx_conn *)calloc(1, sizeof *c);
	TT_ASSERT(c);
	c->ctx = &g_ctx;
	c->be = be;
	snprintf(c->url, sizeof c->url, "ofi://test");
	return c;
}

static int provider_present(const char *prov, int rdm)
{
	struct fi_info *h = fi_allocinfo(), *r = NULL;
	int ok;
	h->caps = FI_RMA | FI_WRITE | FI_REMOTE_WRITE;
	h->ep_attr->type = rdm ? FI_EP_RDM : FI_EP_MSG;
	h->fabric_attr->prov_name = strdup(prov);
	h->domain_attr->mr_mode = FI_MR_LOCAL | FI_MR_VIRT_ADDR |
	                          FI_MR_ALLOCATED | FI_MR_PROV_KEY |
	                          FI_MR_ENDPOINT;
	ok = fi_getinfo(FI_VERSION(1, 9), NULL, NULL, 0, h, &r) == 0;
	fi_freeinfo(r);
	fi_freeinfo(h);
	return ok;
}

/* listen on 127.0.0.1 with an ephemeral port; returns the port */
static int start_listener(fabtx_listener *l, const char *prov, int rdm)
{
	char url[256];
	struct sockaddr_in sa;
	socklen_t sl = sizeof sa;
	l->ctx = &g_ctx;
	l->be = be;
	snprintf(url, sizeof url, "127.0.0.1:0?provider=%s&ep=%s", prov,
	         rdm ? "rdm" : "msg");
	TT_OK(be->setup.listen(l, url));
	TT_ASSERT(be->setup.listener_fd(l) >= 0);
	TT_OK(getsockname(be->setup.listener_fd(l), (struct sockaddr *)&sa, &sl));
	return ntohs(sa.sin_port);
}

/* window exchange over the control channel: {addr, key, len} */
static void exchange_windows(fabtx_conn *c, uint64_t rxlen, uint64_t txlen,
                             fabtx_win *rx, fabtx_win *tx)
{
	uint64_t m[3], p[3];
	fabtx_win peer;
	TT_OK(be->setup.win_open(c, rxlen, txlen, rx, tx));
	TT_ASSERT(rx->base && tx->base);
	m[0] = rx->addr; m[1] = rx->key; m[2] = rx->len;
	TT_EQ(be->setup.ctrl_send(c, m, sizeof m, 5000), 0);
	TT_EQ(be->setup.ctrl_recv(c, p, sizeof p, 10000), (int)sizeof p);
	memset(&peer, 0, sizeof peer);
	peer.addr = p[0]; peer.key = p[1]; peer.len = p[2];
	{
		fabtx_win_limits lim;
		memset(&lim, 0, sizeof lim);
		TT_OK(be->setup.win_import(c, &peer, &lim));
	}
}

static int wait_db(fabtx_conn *c, uint32_t v, int from)
{
	uint64_t end = fabtx_now_ms() + 20000;
	while (fabtx_now_ms() < end) {
		int i, rc = be->notify.progress(c);
		if (rc < 0)
			return rc;
		for (i = from; i < g_ndb; i++)
			if (g_db[i] == v)
				return i;
	}
	return -ETIMEDOUT;
}

static unsigned char pat(uint64_t i, unsigned seed)
{
	return (unsigned char)((i * 131u + seed * 7u + (i >> 9)) & 0xff);
}

#define WSIZE (4u << 20)

/* The client's URL: bare (it follows the listener), but naming shm, which
 * a client uses only when it names it (docs/peers.md) */
static void cli_url(char *url, size_t cap, int port, const char *prov)
{
	snprintf(url, cap, "127.0.0.1:%d%s", port,
	         strcmp(prov, "shm") == 0 ? "?provider=shm" : "");
}

/* Server in the parent, client in a forked child.  The client writes
 * pieces with doorbells; the server checks every byte when the doorbell
 * arrives and answers over ctrl; then credit doorbells the other way. */
static void run_write(const char *prov, int rdm)
{
	fabtx_listener l;
	fabtx_conn *c;
	fabtx_win rx, tx;
	int port, st, i, port_pipe[2];
	pid_t pid;
	static const size_t sizes[] = {0, 1, 8, 40, 64, 200, 4096, 65536,
	                               1u << 20, WSIZE - 64};
	if (!provider_present(prov, rdm))
		TT_SKIP("provider %s (%s) not available", prov, rdm ? "rdm" : "msg");
	/* fork before touching libfabric: a child must not inherit provider
	 * state (the sockets provider's threads do not survive fork) */
	TT_OK(pipe(port_pipe));
	fflush(NULL);
	pid = fork();
	TT_ASSERT(pid >= 0);
	if (pid == 0) {
		TT_EQ(read(port_pipe[0], &port, sizeof port), (int)sizeof port);
		char url[128];
		fabtx_conn *k;
		ctx_setup(); /* a fresh ctx: never reuse the parent's domains */
		k = new_conn();
		uint8_t ack[8];
		cli_url(url, sizeof url, port, prov);
		TT_OK(be->setup.connect(k, url, 10000));
		exchange_windows(k, WSIZE + 64, WSIZE, &rx, &tx);
		for (i = 0; i < (int)(sizeof sizes / sizeof sizes[0]); i++) {
			fabtx_seg sg[3];
			size_t n = sizes[i], j, a = n / 3, b = n / 3;
			uint8_t *t = (uint8_t *)tx.base;
			for (j = 0; j < n; j++)
				t[j] = pat(j, (unsigned)i);
			/* three segments, one remote range */
			sg[0].addr = t; sg[0].len = a; sg[0].desc = NULL;
			sg[1].addr = t + a; sg[1].len = b; sg[1].desc = NULL;
			sg[2].addr = t + a + b; sg[2].len = n - a - b;
			sg[2].desc = NULL;
			for (;;) {
				int rc = be->data.write(k, sg, 3, 64, 0x100u + (uint32_t)i,
				                   FABTX_WRITE_DATA);
				if (rc == 0)
					break;
				TT_EQ(rc, -EAGAIN);
			}
			TT_OK(be->data.flush(k, 10000));
			TT_EQ(be->setup.ctrl_recv(k, ack, sizeof ack, 20000), 1);
			TT_EQ(ack[0], i);
		}
		/* credit-only doorbells, many in a row */
		for (i = 0; i < 300; i++) {
			int rc;
			while ((rc = be->notify.ring(k, FABTX_DB_KIND_CREDIT,
			                             0x2000u + (uint32_t)i)) == -EAGAIN)
				;
			TT_OK(rc);
		}
		/* doorbells are injects: under manual progress a provider may
		 * hold them until it is progressed, and this side now only
		 * waits on the control socket */
		TT_OK(be->data.flush(k, 10000));
		TT_EQ(be->setup.ctrl_recv(k, ack, sizeof ack, 20000), 1);
		/* one-cell messages with the footer in the CQ data: payload at
		 * its offset, (position, len, flags) to the peer's core */
		{
			fabtx_ofi_info oi;
			uint32_t sz[4];
			uint8_t *t = (uint8_t *)tx.base;
			TT_OK(fabtx_ofi_conn_info(k, &oi));
			imm_sizes(sz, oi.inject_size);
			/* no injects on this provider (tcp;ofi_rxm, docs/ofi.md):
			 * write_imm declines, the core writes cells instead */
			for (i = 0; oi.inject_size == 0 && i < 2; i++) {
				fabtx_seg sg;
				sg.addr = t;
				sg.len = (size_t)i;
				sg.desc = NULL;
				TT_EQ(be->data.write_imm(k, &sg, 64, 17,
				                    (uint32_t)sg.len, 3), -ENOTSUP);
			}
			for (i = 0; oi.inject_size && i < 4; i++) {
				fabtx_seg sg;
				size_t j;
				int rc;
				for (j = 0; j < sz[i]; j++)
					t[j] = pat(j, 50u + (unsigned)i);
				sg.addr = t;
				sg.len = sz[i];
				sg.desc = NULL;
				while ((rc = be->data.write_imm(k, &sg, 64u + 8192u * (uint64_t)i,
				                           16u + (uint64_t)i + 1, sz[i],
				                           (uint16_t)(3u | (i & 1u) << 2))) ==
				       -ENOTSUP)
					TT_OK(be->notify.progress(k)); /* provider queue full */
				TT_OK(rc);
			}
			/* too big to inject: the core must write the cell */
			if (oi.inject_size) {
				fabtx_seg sg;
				sg.addr = t;
				sg.len = (size_t)oi.inject_size + 1;
				sg.desc = NULL;
				TT_EQ(be->data.write_imm(k, &sg, 64, 21,
				                    (uint32_t)sg.len, 3), -ENOTSUP);
			}
			TT_OK(be->data.flush(k, 10000));
			TT_OK(fabtx_ofi_conn_info(k, &oi));
			TT_EQ(oi.imm, oi.inject_size ? 4 : 0);
			TT_EQ(be->setup.ctrl_recv(k, ack, sizeof ack, 20000), 1);
		}
		be->setup.disconnect(k, 1);
		_exit(0);
	}
	ctx_setup();
	memset(&l, 0, sizeof l);
	port = start_listener(&l, prov, rdm);
	TT_EQ(write(port_pipe[1], &port, sizeof port), (int)sizeof port);
	c = new_conn();
	TT_OK(be->setup.accept(&l, c, 20000));
	exchange_windows(c, WSIZE + 64, WSIZE, &rx, &tx);
	for (i = 0; i < (int)(sizeof sizes / sizeof sizes[0]); i++) {
		size_t j, n = sizes[i];
		const uint8_t *r = (const uint8_t *)rx.base + 64;
		uint8_t a = (uint8_t)i;
		int at = wait_db(c, 0x80000000u | (0x100u + (uint32_t)i), 0);
		TT_ASSERT(at >= 0);
		for (j = 0; j < n; j++)
			if (r[j] != pat(j, (unsigned)i))
				TT_FAIL("size %zu: byte %zu is %u, want %u", n, j,
				        r[j], pat(j, (unsigned)i));
		TT_EQ(be->setup.ctrl_send(c, &a, 1, 5000), 0);
	}
	for (i = 0; i < 300; i++)
		TT_ASSERT(wait_db(c, 0x2000u + (uint32_t)i, 0) >= 0);
	{
		uint8_t a = 1;
		TT_EQ(be->setup.ctrl_send(c, &a, 1, 5000), 0);
	}
	{ /* the four write_imm messages (rx.seq is 0 here: positions 17..20) */
		uint64_t end = fabtx_now_ms() + 20000;
		fabtx_ofi_info oi;
		uint32_t sz[4];
		uint8_t a = 2;
		TT_OK(fabtx_ofi_conn_info(c, &oi));
		imm_sizes(sz, oi.inject_size);
		while (oi.inject_size && g_nimm < 4 && fabtx_now_ms() < end)
			TT_OK(be->notify.progress(c));
		TT_EQ(g_nimm, oi.inject_size ? 4 : 0);
		for (i = 0; i < g_nimm; i++) {
			const uint8_t *r =
			    (const uint8_t *)rx.base + 64 + 8192u * (unsigned)i;
			size_t j;
			TT_EQ(g_imm_pos[i], 16u + (uint64_t)i + 1);
			TT_EQ(g_imm_len[i], sz[i]);
			TT_EQ(g_imm_fl[i], 3u | (i & 1u) << 2);
			for (j = 0; j < sz[i]; j++)
				if (r[j] != pat(j, 50u + (unsigned)i))
					TT_FAIL("imm %d: byte %zu is %u", i, j, r[j]);
		}
		TT_EQ(be->setup.ctrl_send(c, &a, 1, 5000), 0);
	}
	TT_ASSERT(waitpid(pid, &st, 0) == pid);
	TT_ASSERT(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	TT_EQ(g_fail, 0);
	{
		fabtx_ofi_info oi;
		TT_OK(fabtx_ofi_conn_info(c, &oi));
		TT_ASSERT(strcmp(oi.provider, prov) == 0);
		TT_EQ(oi.ep_rdm, rdm);
		TT_ASSERT(oi.cq_data_in >= 310);
	}
	be->setup.disconnect(c, 1);
	be->setup.listener_close(&l);
	be->setup.ctx_fini(&g_ctx, g_ctx.state);
	free(c);
}

/* Event mode: the server arms and sleeps in poll() on be->wait.fd(); the client
 * writes only after the server says it is armed.  The server must wake (the
 * tt timeout catches a lost wakeup) and then find the doorbell. */
static void run_event(const char *prov, int rdm)
{
	fabtx_listener l;
	fabtx_conn *c;
	fabtx_win rx, tx;
	int port, st, i, armed_pipe[2], port_pipe[2], spurious;
	pid_t pid;
	if (!provider_present(prov, rdm))
		TT_SKIP("provider %s (%s) not available", prov, rdm ? "rdm" : "msg");
	TT_OK(pipe(armed_pipe));
	TT_OK(pipe(port_pipe));
	fflush(NULL);
	pid = fork();
	TT_ASSERT(pid >= 0);
	if (pid == 0) {
		TT_EQ(read(port_pipe[0], &port, sizeof port), (int)sizeof port);
		char url[128], b;
		fabtx_conn *k;
		ctx_setup(); /* a fresh ctx: never reuse the parent's domains */
		k = new_conn();
		cli_url(url, sizeof url, port, prov);
		TT_OK(be->setup.connect(k, url, 10000));
		exchange_windows(k, 1 << 16, 1 << 16, &rx, &tx);
		for (i = 0; i < 20; i++) {
			fabtx_seg sg;
			TT_EQ(read(armed_pipe[0], &b, 1), 1);
			memset(tx.base, 'a' + i, 4096);
			sg.addr = tx.base; sg.len = (i & 1) ? 4096 : 16;
			sg.desc = NULL;
			while (be->data.write(k, &sg, 1, 128, 0x300u + (uint32_t)i,
			                 FABTX_WRITE_DATA) == -EAGAIN)
				;
			TT_OK(be->data.flush(k, 10000));
		}
		TT_EQ(read(armed_pipe[0], &b, 1), 1);
		be->setup.disconnect(k, 1);
		_exit(0);
	}
	ctx_setup();
	memset(&l, 0, sizeof l);
	port = start_listener(&l, prov, rdm);
	TT_EQ(write(port_pipe[1], &port, sizeof port), (int)sizeof port);
	c = new_conn();
	TT_OK(be->setup.accept(&l, c, 20000));
	exchange_windows(c, 1 << 16, 1 << 16, &rx, &tx);
	spurious = 0;
	for (i = 0; i < 20; i++) {
		int from = g_ndb, got = 0, sleeps = 0;
		struct pollfd p;
		/* nothing is pending: arm must succeed (maybe after a retry) */
		while (be->wait.arm(c) == -EAGAIN)
			TT_OK(be->notify.progress(c));
		/* armed with nothing in flight: the fd is quiet (a sleeper
		 * does not spin); with a real wait fd it stays quiet */
		p.fd = be->wait.fd(c);
		p.events = POLLIN;
		while (poll(&p, 1, 0) != 0) {
			/* a provider's wait fd may wake spuriously now and then
			 * (seen with tcp under ASan), and a peer still finishing
			 * the last round may see us asleep and wake us (a WAKE
			 * on the wake socket, seen under load): then a look and
			 * a new arm quiet it.  A busy loop stays readable. */
			struct epoll_event ee[4];
			int k, n = epoll_wait(p.fd, ee, 4, 0);
			fabtx__ofi_conn *oc = (fabtx__ofi_conn *)c->bdata;
			for (k = 0; k < n; k++)
				fprintf(stderr, "  ready fd %d ev %x (cq %d eq %d tfd %d sock %d wsock %d)\n",
				        ee[k].data.fd, ee[k].events, oc->cq_fd, oc->eq_fd, oc->tfd, oc->sock, oc->wsock);
			if (++spurious > 3)
				TT_FAIL("fd readable right after arm (round %d, %d times in a row)", i, spurious);
			TT_OK(be->notify.progress(c));
			while (be->wait.arm(c) == -EAGAIN)
				TT_OK(be->notify.progress(c));
		}
		spurious = 0;
		if (i == 0) {
			fabtx_ofi_info oi;
			TT_OK(fabtx_ofi_conn_info(c, &oi));
			if (oi.wait_fd)
				TT_EQ(poll(&p, 1, 50), 0);
		}
		TT_EQ(write(armed_pipe[1], "x", 1), 1);
		for (;;) {
			int k;
			TT_OK(be->notify.progress(c));
			for (k = from; k < g_ndb; k++)
				if (g_db[k] == (0x80000000u | (0x300u + (uint32_t)i)))
					got = 1;
			if (got)
				break;
			if (be->wait.arm(c) == -EAGAIN)
				continue; /* work raced in: do not sleep */
			p.fd = be->wait.fd(c);
			p.events = POLLIN;
			TT_ASSERT(poll(&p, 1, -1) == 1);
			sleeps++;
		}
		(void)sleeps;
		TT_EQ(((uint8_t *)rx.base)[128 + ((i & 1) ? 4095 : 15)],
		      'a' + i);
	}
	TT_EQ(write(armed_pipe[1], "x", 1), 1);
	TT_ASSERT(waitpid(pid, &st, 0) == pid);
	TT_ASSERT(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	be->setup.disconnect(c, 1);
	be->setup.listener_close(&l);
	be->setup.ctx_fini(&g_ctx, g_ctx.state);
	free(c);
}

/* a SIGKILLed process leaves its shm provider regions behind */
static void unlink_shm_of(pid_t pid)
{
	char pat_[64];
	glob_t g;
	size_t i;
	snprintf(pat_, sizeof pat_, "/dev/shm/fabtx.%ld.*", (long)pid);
	if (glob(pat_, 0, NULL, &g) == 0) {
		for (i = 0; i < g.gl_pathc; i++)
			unlink(g.gl_pathv[i]);
		globfree(&g);
	}
}

/* The client is killed with SIGKILL: the server's progress() must report
 * the failure (and call fabtx_conn_fail) instead of waiting forever, both
 * when busy-polling and when sleeping on the fd. */
static void run_kill(const char *prov, int rdm, int sleeping)
{
	fabtx_listener l;
	fabtx_conn *c;
	fabtx_win rx, tx;
	int port, st, rc = 0, port_pipe[2];
	pid_t pid;
	if (!provider_present(prov, rdm))
		TT_SKIP("provider %s (%s) not available", prov, rdm ? "rdm" : "msg");
	/* fork before touching libfabric: a child must not inherit provider
	 * state (the sockets provider's threads do not survive fork) */
	TT_OK(pipe(port_pipe));
	fflush(NULL);
	pid = fork();
	TT_ASSERT(pid >= 0);
	if (pid == 0) {
		TT_EQ(read(port_pipe[0], &port, sizeof port), (int)sizeof port);
		char url[128];
		fabtx_conn *k;
		ctx_setup(); /* a fresh ctx: never reuse the parent's domains */
		k = new_conn();
		cli_url(url, sizeof url, port, prov);
		TT_OK(be->setup.connect(k, url, 10000));
		exchange_windows(k, 1 << 16, 1 << 16, &rx, &tx);
		for (;;)
			pause();
	}
	ctx_setup();
	memset(&l, 0, sizeof l);
	port = start_listener(&l, prov, rdm);
	TT_EQ(write(port_pipe[1], &port, sizeof port), (int)sizeof port);
	c = new_conn();
	TT_OK(be->setup.accept(&l, c, 20000));
	exchange_windows(c, 1 << 16, 1 << 16, &rx, &tx);
	TT_OK(be->notify.progress(c));
	TT_EQ(g_fail, 0);
	kill(pid, SIGKILL);
	TT_ASSERT(waitpid(pid, &st, 0) == pid);
	unlink_shm_of(pid);
	while (rc >= 0) {
		if (sleeping && be->wait.arm(c) == 0) {
			struct pollfd p;
			p.fd = be->wait.fd(c);
			p.events = POLLIN;
			TT_ASSERT(poll(&p, 1, -1) == 1);
		}
		rc = be->notify.progress(c);
	}
	TT_EQ(rc, -ECONNRESET);
	TT_ASSERT(g_fail == 0 || g_fail == -ECONNRESET);
	be->setup.disconnect(c, 0);
	be->setup.listener_close(&l);
	be->setup.ctx_fini(&g_ctx, g_ctx.state);
	free(c);
}

#define PROVIDER_TESTS(name, prov, rdm)                                      \
	TT_TEST(name##_write) { run_write(prov, rdm); }                      \
	TT_TEST(name##_event) { run_event(prov, rdm); }                      \
	TT_TEST(name##_kill_busy) { run_kill(prov, rdm, 0); }                \
	TT_TEST(name##_kill_sleeping) { run_kill(prov, rdm, 1); }

PROVIDER_TESTS(tcp_msg, "tcp", 0)
PROVIDER_TESTS(shm_rdm, "shm", 1)
PROVIDER_TESTS(rxm_rdm, "tcp;ofi_rxm", 1)
PROVIDER_TESTS(net_rdm, "net", 1)
PROVIDER_TESTS(sockets_msg, "sockets", 0)

TT_TEST(url_parse)
{
	fabtx__ofi_url u;
	TT_OK(fabtx__ofi_parse_url("127.0.0.1:5555", &u));
	TT_ASSERT(strcmp(u.host, "127.0.0.1") == 0 && strcmp(u.port, "5555") == 0);
	TT_ASSERT(!u.prov[0] && u.ep == 0);
	TT_OK(fabtx__ofi_parse_url(
	    "h:1?provider=tcp;ofi_rxm&fabric=F&domain=lo&ep=rdm", &u));
	TT_ASSERT(strcmp(u.prov, "tcp;ofi_rxm") == 0);
	TT_ASSERT(strcmp(u.fabric, "F") == 0 && strcmp(u.domain, "lo") == 0);
	TT_EQ(u.ep, 2);
	TT_OK(fabtx__ofi_parse_url("h:1?provider=tcp+ofi_rxm", &u));
	TT_ASSERT(strcmp(u.prov, "tcp;ofi_rxm") == 0);
	TT_OK(fabtx__ofi_parse_url("10.1.2.3:99@192.0.2.0/24:tcp", &u));
	TT_ASSERT(strcmp(u.host, "10.1.2.3") == 0 && strcmp(u.port, "99") == 0);
	TT_ASSERT(strcmp(u.fabric, "192.0.2.0/24") == 0);
	TT_ASSERT(strcmp(u.prov, "tcp") == 0);
	TT_OK(fabtx__ofi_parse_url("[::1]:7000@fe80::/64:tcp?ep=msg", &u));
	TT_ASSERT(strcmp(u.host, "::1") == 0 && strcmp(u.port, "7000") == 0);
	TT_ASSERT(strcmp(u.fabric, "fe80::/64") == 0);
	TT_ASSERT(strcmp(u.prov, "tcp") == 0 && u.ep == 1);
	TT_OK(fabtx__ofi_parse_url("[::1]:7000", &u));
	TT_ASSERT(strcmp(u.host, "::1") == 0);
	TT_OK(fabtx__ofi_parse_url("*:7000", &u));
	TT_EQ(fabtx__ofi_parse_url("", &u), -EINVAL);
	TT_EQ(fabtx__ofi_parse_url("host", &u), -EINVAL);
	TT_EQ(fabtx__ofi_parse_url("host:", &u), -EINVAL);
	TT_EQ(fabtx__ofi_parse_url("host:abc", &u), -EINVAL);
	TT_EQ(fabtx__ofi_parse_url("host:70000", &u), -EINVAL);
	TT_EQ(fabtx__ofi_parse_url("h:1?ep=dgram", &u), -EINVAL);
	TT_EQ(fabtx__ofi_parse_url("h:1@nocolon", &u), -EINVAL);
	TT_EQ(fabtx__ofi_parse_url("h:1@F:", &u), -EINVAL);
	TT_EQ(fabtx__ofi_parse_url(NULL, &u), -EINVAL);
}

TT_TEST(unknown_provider_names_what_was_found)
{
	fabtx_listener l;
	memset(&l, 0, sizeof l);
	ctx_setup();
	l.ctx = &g_ctx;
	l.be = be;
	g_log[0] = 0;
	TT_EQ(be->setup.listen(&l, "127.0.0.1:0?provider=nosuchprov"), -ENODEV);
	TT_ASSERT(strstr(g_log, "nosuchprov") != NULL);
	TT_ASSERT(strstr(g_log, "fi_getinfo found:") != NULL);
	TT_ASSERT(strstr(g_log, "tcp") != NULL);
	TT_ASSERT(l.bdata == NULL);
	g_log[0] = 0;
	setenv("FABTX_OFI_PROVIDER", "alsonotthere", 1);
	TT_EQ(be->setup.listen(&l, "127.0.0.1:0"), -ENODEV);
	TT_ASSERT(strstr(g_log, "alsonotthere") != NULL);
	unsetenv("FABTX_OFI_PROVIDER");
	TT_EQ(be->setup.listen(&l, "127.0.0.1"), -EINVAL);
	TT_EQ(be->setup.listen(&l, "127.0.0.1:1?ep=bogus"), -EINVAL);
	be->setup.ctx_fini(&g_ctx, g_ctx.state);
}

TT_TEST(env_provider_and_auto_choice)
{
	fabtx_listener l;
	fabtx_conn *c;
	int port, st, port_pipe[2];
	pid_t pid;
	fabtx_ofi_info oi;
	if (!provider_present("tcp", 0))
		TT_SKIP("tcp provider not available");
	TT_OK(pipe(port_pipe));
	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		char url[128];
		fabtx_conn *k;
		TT_EQ(read(port_pipe[0], &port, sizeof port), (int)sizeof port);
		ctx_setup();
		k = new_conn();
		snprintf(url, sizeof url, "127.0.0.1:%d", port);
		TT_OK(be->setup.connect(k, url, 10000));
		TT_OK(fabtx_ofi_conn_info(k, &oi));
		TT_ASSERT(strcmp(oi.provider, "tcp") == 0);
		be->setup.disconnect(k, 1);
		/* a URL that insists on another provider is refused */
		k = new_conn();
		snprintf(url, sizeof url, "127.0.0.1:%d?provider=shm", port);
		TT_EQ(be->setup.connect(k, url, 10000), -EPROTONOSUPPORT);
		_exit(0);
	}
	ctx_setup();
	memset(&l, 0, sizeof l);
	l.ctx = &g_ctx;
	l.be = be;
	/* env names the provider; the client's URL names none and follows */
	setenv("FABTX_OFI_PROVIDER", "tcp", 1);
	TT_OK(be->setup.listen(&l, "127.0.0.1:0?ep=msg"));
	unsetenv("FABTX_OFI_PROVIDER");
	{
		struct sockaddr_in sa;
		socklen_t sl = sizeof sa;
		TT_OK(getsockname(be->setup.listener_fd(&l), (struct sockaddr *)&sa,
		                  &sl));
		port = ntohs(sa.sin_port);
	}
	TT_EQ(write(port_pipe[1], &port, sizeof port), (int)sizeof port);
	c = new_conn();
	TT_OK(be->setup.accept(&l, c, 20000));
	TT_OK(fabtx_ofi_conn_info(c, &oi));
	TT_ASSERT(strcmp(oi.provider, "tcp") == 0 && oi.ep_rdm == 0);
	{
		/* the second client walks away after the offer */
		fabtx_conn *c2 = new_conn();
		TT_EQ(be->setup.accept(&l, c2, 20000), -ECONNRESET);
		free(c2);
	}
	TT_ASSERT(waitpid(pid, &st, 0) == pid);
	TT_ASSERT(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	be->setup.disconnect(c, 1);
	be->setup.listener_close(&l);
	/* automatic choice on a non-loopback wildcard never picks shm/sockets */
	memset(&l, 0, sizeof l);
	l.ctx = &g_ctx;
	l.be = be;
	TT_OK(be->setup.listen(&l, "*:0"));
	{
		fabtx__ofi_listener *s = (fabtx__ofi_listener *)l.bdata;
		const char *p = s->info->fabric_attr->prov_name;
		TT_ASSERT(strcmp(p, "shm") != 0 && strcmp(p, "sockets") != 0);
	}
	be->setup.listener_close(&l);
	be->setup.ctx_fini(&g_ctx, g_ctx.state);
	free(c);
}

TT_TEST(connect_refused_and_bad_args)
{
	fabtx_conn *c;
	int fd, port;
	struct sockaddr_in sa;
	socklen_t sl = sizeof sa;
	ctx_setup();
	/* a port nobody listens on */
	fd = socket(AF_INET, SOCK_STREAM, 0);
	memset(&sa, 0, sizeof sa);
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	TT_OK(bind(fd, (struct sockaddr *)&sa, sizeof sa));
	TT_OK(getsockname(fd, (struct sockaddr *)&sa, &sl));
	port = ntohs(sa.sin_port);
	c = new_conn();
	{
		char url[64];
		snprintf(url, sizeof url, "127.0.0.1:%d", port);
		TT_EQ(be->setup.connect(c, url, 2000), -ECONNREFUSED);
	}
	TT_ASSERT(c->bdata == NULL);
	close(fd);
	TT_EQ(be->setup.connect(c, "nohostport", 100), -EINVAL);
	TT_EQ(be->setup.connect(c, "*:5", 100), -EINVAL);
	/* ops on a conn that never connected fail cleanly */
	TT_ASSERT(be->notify.progress(c) < 0);
	TT_ASSERT(be->wait.fd(c) < 0);
	TT_ASSERT(be->setup.ctrl_send(c, "x", 1, 0) < 0);
	be->setup.disconnect(c, 1);
	be->setup.ctx_fini(&g_ctx, g_ctx.state);
	free(c);
}

/* A peer that is not fabtx (sends garbage on the bootstrap socket) makes
 * accept fail with -EPROTO, never hang or crash. */
TT_TEST(bootstrap_garbage)
{
	fabtx_listener l;
	fabtx_conn *c;
	int port, fd;
	struct sockaddr_in sa;
	if (!provider_present("tcp", 0))
		TT_SKIP("tcp provider not available");
	ctx_setup();
	memset(&l, 0, sizeof l);
	port = start_listener(&l, "tcp", 0);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	memset(&sa, 0, sizeof sa);
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	TT_OK(connect(fd, (struct sockaddr *)&sa, sizeof sa));
	TT_EQ(write(fd, "GET / HTTP/1.0\r\n\r\n", 18), 18);
	c = new_conn();
	TT_EQ(be->setup.accept(&l, c, 5000), -EPROTO);
	TT_EQ(be->setup.accept(&l, c, 0), -EAGAIN);
	close(fd);
	be->setup.listener_close(&l);
	be->setup.ctx_fini(&g_ctx, g_ctx.state);
	free(c);
}

/* Server side of the setup tests below: a tcp msg listener whose port
 * goes down pipe_w, one client accepted (accept(0), never waiting) and
 * stepped through its HELLO and our OFFER: it now waits for its
 * connection request.  The connection in *cp, its backend state returned. */
static fabtx__ofi_conn *server_at_connreq(fabtx_listener *l, int pipe_w,
                                          fabtx_conn **cp)
{
	fabtx_conn *c;
	fabtx__ofi_conn *o;
	struct pollfd p;
	uint8_t b[8];
	int port, rc;
	ctx_setup();
	memset(l, 0, sizeof *l);
	port = start_listener(l, "tcp", 0);
	TT_EQ(write(pipe_w, &port, sizeof port), (int)sizeof port);
	c = new_conn();
	p.fd = be->setup.listener_fd(l);
	p.events = POLLIN;
	while ((rc = be->setup.accept(l, c, 0)) == -EAGAIN)
		TT_EQ(poll(&p, 1, 10000), 1);
	TT_OK(rc);
	o = (fabtx__ofi_conn *)c->bdata;
	p.fd = o->epfd;
	while (o->su == FABTX__OFI_SU_S_HELLO) {
		TT_EQ(poll(&p, 1, 10000), 1);
		TT_EQ(be->setup.ctrl_recv(c, b, sizeof b, 0), -EAGAIN);
	}
	TT_EQ(o->su, FABTX__OFI_SU_S_CONNREQ);
	*cp = c;
	return o;
}

/* ... and its end: a byte that lets the client go, its exit status (0),
 * the connection, listener and ctx closed */
static void server_done(fabtx_listener *l, fabtx_conn *c, pid_t pid)
{
	int st;
	TT_EQ(be->setup.ctrl_send(c, "x", 1, 10000), 0);
	TT_EQ(waitpid(pid, &st, 0), pid);
	TT_ASSERT(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	be->setup.disconnect(c, 1);
	be->setup.listener_close(l);
	be->setup.ctx_fini(&g_ctx, g_ctx.state);
	free(c);
}

/* A server-side client that waits for its connection request (FI_EP_MSG)
 * wakes when the request comes: the listener's EQ fd is in its epoll set.
 * The setup tick (the fallback) is turned off once it waits, so only that
 * fd can wake it: without it the poll below times out. */
TT_TEST(tcp_msg_setup_wakes_on_the_connection_request)
{
	fabtx_listener l;
	fabtx_conn *c;
	fabtx__ofi_conn *o;
	int port, port_pipe[2], looks = 0;
	pid_t pid;
	uint8_t b = 0;
	struct pollfd p;
	if (!provider_present("tcp", 0))
		TT_SKIP("tcp provider not available");
	TT_OK(pipe(port_pipe));
	fflush(NULL);
	pid = fork();
	TT_ASSERT(pid >= 0);
	if (pid == 0) {
		char url[128];
		fabtx_conn *k;
		TT_EQ(read(port_pipe[0], &port, sizeof port), (int)sizeof port);
		ctx_setup();
		k = new_conn();
		snprintf(url, sizeof url, "127.0.0.1:%d?provider=tcp", port);
		TT_OK(be->setup.connect(k, url, 10000));
		TT_EQ(be->setup.ctrl_recv(k, &b, 1, 20000), 1);
		be->setup.disconnect(k, 1);
		_exit(0);
	}
	o = server_at_connreq(&l, port_pipe[1], &c);
	p.fd = o->epfd;
	p.events = POLLIN;
	TT_EQ(o->peq_in, 1);
	fabtx__ofi_tick(o, 0);
	while (o->su == FABTX__OFI_SU_S_CONNREQ && looks++ < 100) {
		TT_EQ(poll(&p, 1, 10000), 1); /* not the tick: it is off */
		TT_EQ(be->setup.ctrl_recv(c, &b, 1, 0), -EAGAIN);
	}
	TT_ASSERT(o->su != FABTX__OFI_SU_S_CONNREQ);
	TT_EQ(o->peq_in, 0); /* out of the set once the request came */
	server_done(&l, c, pid);
}

/* A client whose listener offers it sends the core's request as soon as
 * it has asked for the connection: connect_poll returns 0 before the
 * fabric's CONNECTED (the listener is held back here, so it is before),
 * ctrl_send takes the request, and ctrl_recv finishes the setup before
 * it reads the answer.  The listener, waiting for the fabric, finds the
 * bytes and keeps them (watching the socket for its hang-up only), then
 * hands them to ctrl_recv as the first control frame once it is done. */
TT_TEST(tcp_msg_request_sent_before_the_setup_is_done)
{
	fabtx_listener l;
	fabtx_conn *c;
	fabtx__ofi_conn *o;
	int port, port_pipe[2], rc;
	pid_t pid;
	uint8_t b[64];
	struct pollfd p;
	if (!provider_present("tcp", 0))
		TT_SKIP("tcp provider not available");
	TT_OK(pipe(port_pipe));
	fflush(NULL);
	pid = fork();
	TT_ASSERT(pid >= 0);
	if (pid == 0) {
		char url[128];
		fabtx_conn *k;
		fabtx__ofi_conn *ok;
		struct pollfd q;
		TT_EQ(read(port_pipe[0], &port, sizeof port), (int)sizeof port);
		ctx_setup();
		k = new_conn();
		snprintf(url, sizeof url, "127.0.0.1:%d?provider=tcp", port);
		TT_EQ(be->setup.connect(k, url, 0), -EINPROGRESS);
		ok = (fabtx__ofi_conn *)k->bdata;
		q.fd = be->setup.ctrl_fd(k);
		q.events = POLLIN;
		while ((rc = be->setup.connect_poll(k)) == -EAGAIN)
			TT_EQ(poll(&q, 1, 10000), 1);
		TT_OK(rc);
		TT_EQ(ok->su, FABTX__OFI_SU_C_CONNECTED); /* not done */
		TT_EQ(ok->st.early_req, 1);
		TT_EQ(be->setup.ctrl_send(k, "early request", 13, 5000), 0);
		TT_EQ(be->setup.ctrl_recv(k, b, sizeof b, 20000), 6);
		TT_ASSERT(memcmp(b, "answer", 6) == 0);
		TT_EQ(ok->su, FABTX__OFI_SU_DONE);
		TT_EQ(be->setup.ctrl_recv(k, b, 1, 20000), 1);
		be->setup.disconnect(k, 1);
		_exit(0);
	}
	o = server_at_connreq(&l, port_pipe[1], &c);
	p.events = POLLIN;
	TT_EQ(o->early_req, 1);
	/* the request is in our socket before we look at the fabric */
	p.fd = o->sock;
	TT_EQ(poll(&p, 1, 10000), 1);
	TT_EQ(fabtx__ofi_quiet(o), 0);
	TT_EQ(o->sock_ev, EPOLLRDHUP); /* no wakeup per look meanwhile */
	o->early_req = 0; /* had we not offered it: a protocol error */
	TT_EQ(fabtx__ofi_quiet(o), -EPROTO);
	o->early_req = 1;
	p.fd = o->epfd;
	for (;;) {
		rc = be->setup.ctrl_recv(c, b, sizeof b, 0);
		if (rc != -EAGAIN) break;
		TT_EQ(poll(&p, 1, 10000), 1);
	}
	TT_EQ(rc, 13);
	TT_ASSERT(memcmp(b, "early request", 13) == 0);
	TT_EQ(o->su, FABTX__OFI_SU_DONE);
	TT_EQ(o->sock_ev, EPOLLIN | EPOLLRDHUP); /* watched again */
	TT_EQ(be->setup.ctrl_send(c, "answer", 6, 5000), 0);
	server_done(&l, c, pid);
}

/* fi_getinfo's answers are kept for a while (FABTX__OFI_GI_MS): the same
 * question again gets the kept answer (a mark put on it shows), the
 * expired one asks libfabric again, another question is asked apart. */
TT_TEST(getinfo_answers_are_kept_for_a_while)
{
	fabtx__ofi_ctx *s;
	fabtx__ofi_url u, v;
	struct fi_info *a = NULL, *b = NULL;
	int i, n = 0;
	if (!provider_present("tcp", 0))
		TT_SKIP("tcp provider not available");
	ctx_setup();
	s = (fabtx__ofi_ctx *)g_ctx.state;
	TT_OK(fabtx__ofi_parse_url("127.0.0.1:1?provider=tcp&ep=msg", &u));
	TT_OK(fabtx__ofi_resolve(&g_ctx, &u, 0, &a));
	for (i = 0; i < FABTX__OFI_GI_N; i++)
		if (s->gi[i].info) {
			n++;
			s->gi[i].info->domain_attr->tclass = 0x5a5a; /* the mark */
		}
	TT_EQ(n, 1);
	TT_ASSERT(a->domain_attr->tclass != 0x5a5a);
	TT_OK(fabtx__ofi_resolve(&g_ctx, &u, 0, &b));
	TT_EQ(b->domain_attr->tclass, 0x5a5a); /* the kept one */
	TT_ASSERT(strcmp(b->fabric_attr->prov_name, "tcp") == 0);
	fi_freeinfo(b);
	for (i = 0; i < FABTX__OFI_GI_N; i++)
		if (s->gi[i].info) s->gi[i].at_ms -= FABTX__OFI_GI_MS + 1;
	TT_OK(fabtx__ofi_resolve(&g_ctx, &u, 0, &b));
	TT_ASSERT(b->domain_attr->tclass != 0x5a5a); /* asked again */
	fi_freeinfo(b);
	v = u; /* another host: another question */
	fabtx__ofi_strlcpy(v.host, "127.0.0.2", sizeof v.host);
	TT_OK(fabtx__ofi_resolve(&g_ctx, &v, 0, &b));
	TT_ASSERT(b->domain_attr->tclass != 0x5a5a);
	fi_freeinfo(b);
	for (i = 0, n = 0; i < FABTX__OFI_GI_N; i++)
		n += s->gi[i].info != NULL;
	TT_EQ(n, 2);
	fi_freeinfo(a);
	be->setup.ctx_fini(&g_ctx, g_ctx.state);
}

__attribute__((constructor)) static void setup_env(void)
{
	/* the sockets provider's progress thread spins 10 ms after any
	 * activity by default, which starves 2 vCPUs (docs/ofi.md) */
	setenv("FI_SOCKETS_PE_WAITTIME", "0", 0);
	/* with small TCP buffers its connections can stall for good (a
	 * message header split at a closed window: fabtx__ofi_want_bufs) */
	setenv("FI_SOCKETS_MAX_BUF_SZ", "4194304", 0);
}

TT_MAIN()
