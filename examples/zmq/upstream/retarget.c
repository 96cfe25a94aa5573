/* SPDX-License-Identifier: MIT */
/* examples/zmq/upstream/retarget.c -- LD_PRELOAD library that runs libzmq's
 * own test programs (tests/ of Debian's zeromq3 tree, unchanged and built
 * once) over a fabtx transport: it rewrites the tcp:// endpoints they pass
 * to zmq_bind / zmq_connect / zmq_unbind / zmq_disconnect, and maps the
 * ZMQ_LAST_ENDPOINT of a fixed-port bind back to the tcp:// string the test
 * bound (so a test that compares it sees what tcp:// would report).
 *
 * Why a preload and not a macro or a link-time wrapper: the tests spell
 * their endpoints as string literals in many forms (testutil's any-port
 * bind on 127.0.0.1, ENDPOINT_0 "tcp://127.0.0.1:5555", any-host binds,
 * strings built with snprintf), so a macro cannot reach them; and one set of
 * binaries, linked by libzmq's own build, serves the tcp:// baseline and
 * every transport.
 *
 * Environment (set by run.sh):
 *   ZUP_TRANSPORT  tcp | shm | ofi-tcp | scif  (unset: nothing is
 *                  rewritten; tcp: only fixed ports are moved, below)
 *   ZUP_TAG        unique word for this test run (shm:// names)
 *   ZUP_PORT_OFF   added to a test's fixed port (tcp://, ofi://, scif://)
 *                  so runs in parallel do not share ports
 *   ZUP_MARK       a file created when a tcp:// endpoint is seen (run.sh:
 *                  a test that never uses one is not run on the others)
 *
 * Mapping of tcp://HOST:PORT (HOST: 127.0.0.1, localhost, *, 0.0.0.0,
 * [::1]; PORT a number, or * / 0 for any free port):
 *   shm      shm://zu<TAG>-<PORT>            any port: shm://zu<TAG>-<pid>w<n>
 *   ofi-tcp  ofi://127.0.0.1:<PORT+OFF>?provider=tcp (HOST * or 0.0.0.0:
 *            a bind on ofi's any-host form); any port: ofi://127.0.0.1:*
 *            with ?provider=tcp
 *   scif     bind scif://<PORT+OFF>, connect scif://0:<PORT+OFF>
 *            any port: a port from a per-process counter (scif has none);
 *            a connect to scif://PORT (the ZMQ_LAST_ENDPOINT of such a
 *            bind: the bind form) goes to scif://NODE:PORT, this node
 * A port of 32768 and above came from the system (an earlier any-port
 * bind that the test parsed) and is not offset.  Any other tcp:// string
 * (source addresses, host names, malformed ones that a test expects to be
 * refused) is not rewritten: the call fails with EPROTONOSUPPORT and a
 * line on stderr, so no traffic silently stays on TCP; the tests that need
 * such strings are in not-applicable.txt. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define ZUP_LAST_ENDPOINT 32 /* ZMQ_LAST_ENDPOINT */
#define ZUP_MAX_BINDS 256

enum { T_NONE, T_TCP, T_SHM, T_OFI, T_SCIF };

static int transport = -1;
static const char *tag = "x";
static int port_off = 0;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned wild_count;
/* fixed-port binds: the URL bound, and what tcp:// would report for it */
static struct {
	char url[256];
	char tcp[64];
} binds[ZUP_MAX_BINDS];
static int nbinds;

static void setup(void)
{
	const char *t = getenv("ZUP_TRANSPORT");
	const char *s;
	if (transport >= 0) return;
	if (!t || !*t) transport = T_NONE;
	else if (!strcmp(t, "tcp")) transport = T_TCP;
	else if (!strcmp(t, "shm")) transport = T_SHM;
	else if (!strcmp(t, "ofi-tcp")) transport = T_OFI;
	else if (!strcmp(t, "scif")) transport = T_SCIF;
	else {
		fprintf(stderr, "retarget: unknown ZUP_TRANSPORT '%s'\n", t);
		abort();
	}
	s = getenv("ZUP_TAG");
	if (s && *s) tag = s;
	s = getenv("ZUP_PORT_OFF");
	if (s) port_off = atoi(s);
}

/* the next definition of name (libzmq's); *f gets it (a function
 * pointer, copied: ISO C has no cast from an object pointer) */
static void next(const char *name, void *f, size_t size)
{
	void *p = dlsym(RTLD_NEXT, name);
	if (!p || size != sizeof p) {
		fprintf(stderr, "retarget: no %s after this library\n", name);
		abort();
	}
	memcpy(f, &p, size);
}

static void mark(void)
{
	static int done;
	const char *m = getenv("ZUP_MARK");
	FILE *f;
	if (done || !m || !*m) return;
	done = 1;
	f = fopen(m, "w");
	if (f) fclose(f);
}

/* tcp://HOST:PORT -> *wild (any-host bind), *port (-1: any port), and
 * the host as tcp:// reports it.  0 if this is such an endpoint. */
static int parse_tcp(const char *ep, int *wildhost, long *port,
                     const char **report_host)
{
	const char *hp = ep + 6, *colon;
	size_t hl;
	char *end;
	colon = strrchr(hp, ':');
	if (!colon || strchr(hp, ';')) return -1;
	hl = (size_t)(colon - hp);
	*wildhost = 0;
	if ((hl == 9 && !strncmp(hp, "127.0.0.1", 9)) ||
	    (hl == 9 && !strncmp(hp, "localhost", 9)))
		*report_host = "127.0.0.1";
	else if ((hl == 1 && hp[0] == '*') ||
	         (hl == 7 && !strncmp(hp, "0.0.0.0", 7))) {
		*report_host = "0.0.0.0";
		*wildhost = 1;
	} else if (hl == 5 && !strncmp(hp, "[::1]", 5))
		*report_host = "[::1]";
	else
		return -1;
	if (!strcmp(colon + 1, "*") || !strcmp(colon + 1, "0")) {
		*port = -1;
		return 0;
	}
	errno = 0;
	*port = strtol(colon + 1, &end, 10);
	if (errno || *end || end == colon + 1 || *port < 1 || *port > 65535)
		return -1;
	return 0;
}

static long fixed(long port)
{
	return port < 32768 ? port + port_off : port;
}

/* Rewrite ep into out.  1: rewritten, 0: leave as is, -1: refuse. */
static int map(const char *ep, int bind, char *out, size_t cap,
               char *tcp_report, size_t tcap, char *key, size_t kcap)
{
	int wild;
	long port;
	const char *rh;
	unsigned n;
	setup();
	if (transport == T_SCIF && !bind && ep && !strncmp(ep, "scif://", 7) &&
	    !strchr(ep + 7, ':')) {
		/* ZMQ_LAST_ENDPOINT of an any-port bind is the bind form
		 * scif://PORT; a peer connects to scif://NODE:PORT (this node) */
		const char *node = getenv("FABTX_SCIFEMU_NODE");
		snprintf(out, cap, "scif://%s:%s", node ? node : "0", ep + 7);
		return 1;
	}
	if (transport == T_NONE || !ep || strncmp(ep, "tcp://", 6)) return 0;
	mark();
	if (parse_tcp(ep, &wild, &port, &rh) != 0) {
		if (transport == T_TCP) return 0; /* tcp:// itself: as is */
		fprintf(stderr, "retarget: %s left alone: refused "
		        "(not a loopback/wildcard tcp:// endpoint)\n", ep);
		return -1;
	}
	if (transport == T_TCP) {
		/* the baseline, off the fixed ports (runs in parallel) */
		if (port < 0 || port >= 32768) return 0;
		snprintf(out, cap, "tcp://%.*s:%ld", (int)(strrchr(ep, ':') - ep - 6),
		         ep + 6, fixed(port));
		if (tcp_report) snprintf(tcp_report, tcap, "tcp://%s:%ld", rh, port);
		/* what tcp:// reports for it: the key of remember() */
		snprintf(key, kcap, "tcp://%s:%ld", rh, fixed(port));
		return 1;
	}
	if (port < 0 && !bind) {
		/* connecting to port * or 0: tcp:// refuses it (EINVAL) */
		snprintf(out, cap, "%s", transport == T_SHM ? "shm://" :
		         transport == T_OFI ? "ofi://127.0.0.1:*" : "scif://*");
		return 1;
	}
	if (tcp_report && port >= 0)
		snprintf(tcp_report, tcap, "tcp://%s:%ld", rh, port);
	else if (tcp_report)
		tcp_report[0] = 0;
	switch (transport) {
	case T_SHM:
		if (port >= 0) {
			snprintf(out, cap, "shm://zu%s-%ld", tag, port);
		} else {
			pthread_mutex_lock(&lock);
			n = ++wild_count;
			pthread_mutex_unlock(&lock);
			snprintf(out, cap, "shm://zu%s-%ldw%u", tag,
			         (long)getpid(), n);
		}
		return 1;
	case T_OFI:
		if (port < 0)
			snprintf(out, cap, "ofi://127.0.0.1:*?provider=tcp");
		else
			snprintf(out, cap, "ofi://%s:%ld?provider=tcp",
			         bind && wild ? "*" : "127.0.0.1", fixed(port));
		return 1;
	case T_SCIF:
		if (port < 0) {
			pthread_mutex_lock(&lock);
			n = ++wild_count;
			pthread_mutex_unlock(&lock);
			/* 20000 + 200 per process id class + counter */
			port = 20000 + port_off +
			       (long)(getpid() % 50) * 200 + (long)(n % 200);
		} else {
			port = fixed(port);
		}
		if (bind) snprintf(out, cap, "scif://%ld", port);
		else snprintf(out, cap, "scif://0:%ld", port);
		return 1;
	}
	return 0;
}

static void remember(const char *url, const char *tcp)
{
	int i;
	if (!tcp[0]) return;
	pthread_mutex_lock(&lock);
	for (i = 0; i < nbinds; i++)
		if (!strcmp(binds[i].url, url)) break;
	if (i == nbinds && nbinds < ZUP_MAX_BINDS) nbinds++;
	if (i < ZUP_MAX_BINDS) {
		snprintf(binds[i].url, sizeof binds[i].url, "%s", url);
		snprintf(binds[i].tcp, sizeof binds[i].tcp, "%s", tcp);
	}
	pthread_mutex_unlock(&lock);
}

typedef int (*ep_fn)(void *, const char *);

static int call(const char *name, int bind, void *s, const char *ep)
{
	char url[256], report[64], key[256];
	ep_fn f;
	int m;
	next(name, &f, sizeof f);
	key[0] = 0;
	m = map(ep, bind, url, sizeof url, report, sizeof report, key,
	        sizeof key);
	int rc;
	if (m < 0) {
		errno = EPROTONOSUPPORT;
		return -1;
	}
	if (m == 0) return f(s, ep);
	if (getenv("ZUP_VERBOSE"))
		fprintf(stderr, "retarget: %s %s -> %s\n", name, ep, url);
	rc = f(s, url);
	if (rc == 0 && !strcmp(name, "zmq_bind"))
		remember(key[0] ? key : url, report);
	return rc;
}

int zmq_bind(void *s, const char *ep) { return call("zmq_bind", 1, s, ep); }
int zmq_connect(void *s, const char *ep)
{
	return call("zmq_connect", 0, s, ep);
}
int zmq_unbind(void *s, const char *ep)
{
	return call("zmq_unbind", 1, s, ep);
}
int zmq_disconnect(void *s, const char *ep)
{
	return call("zmq_disconnect", 0, s, ep);
}

typedef int (*gso_fn)(void *, int, void *, size_t *);

int zmq_getsockopt(void *s, int opt, void *val, size_t *len)
{
	gso_fn f;
	size_t cap = len ? *len : 0;
	int rc, i;
	next("zmq_getsockopt", &f, sizeof f);
	rc = f(s, opt, val, len);
	if (rc != 0 || opt != ZUP_LAST_ENDPOINT || !val || !len || !*len)
		return rc;
	pthread_mutex_lock(&lock);
	for (i = 0; i < nbinds; i++) {
		size_t n = strlen(binds[i].tcp) + 1;
		if (strcmp(binds[i].url, (const char *)val)) continue;
		if (n <= cap) {
			memcpy(val, binds[i].tcp, n);
			*len = n;
		}
		break;
	}
	pthread_mutex_unlock(&lock);
	return rc;
}
