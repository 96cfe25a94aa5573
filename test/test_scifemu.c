/* SPDX-License-Identifier: MIT */
/* test_scifemu.c -- the /dev/scif emulator checked item by item against
 * spec/scif-uapi.md §11 "What an emulator must reproduce".  Each test is
 * named after its item.  Several "nodes" live in one process (the node id
 * is taken from FABTX_SCIFEMU_NODE at open) or in forked children. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/scif_ioctl.h>
#include <linux/userfaultfd.h>
#include "tt.h"
#include "scifemu/scifemu.h"

#define ACCEPT_SYNC 1
#define BLOCK 1
#define PROT_R 1
#define PROT_W 2
#define MAP_FIX 0x10
#define RMA_USECPU 1
#define RMA_SYNC 4
#define RMA_ORDERED 8
#define F_SELF 1
#define F_PEER 2
#define SIG_LOCAL 0x10
#define SIG_REMOTE 0x20
#define PG 4096

static char fabric[64];
static void fab(const char *extra)
{
	snprintf(fabric, sizeof fabric, "tt%d%s", (int)getpid(), extra);
	setenv("FABTX_SCIFEMU_FABRIC", fabric, 1);
	unsetenv("FABTX_SCIFEMU_DMA");
	unsetenv("FABTX_SCIFEMU_CONNECT_TIMEOUT_MS");
	fabtx_scifemu_unlink(fabric);
}
static void fab_done(void) { fabtx_scifemu_unlink(fabric); }

static int ep_open(int node, int flags)
{
	char b[16];
	snprintf(b, sizeof b, "%d", node);
	setenv("FABTX_SCIFEMU_NODE", b, 1);
	return open("/dev/scif", O_RDWR | flags);
}
static int sc(int fd, unsigned long cmd, void *arg)
{
	return ioctl(fd, cmd, arg) < 0 ? -errno : 0;
}
static int sc_val(int fd, unsigned long cmd, long v)
{
	return ioctl(fd, cmd, v) < 0 ? -errno : 0;
}
static int bind_port(int fd, int port)
{
	int p = port, r = sc(fd, SCIF_BIND, &p);
	return r < 0 ? r : p;
}
static int listener(int node, int port, int backlog)
{
	int l = ep_open(node, 0);
	TT_ASSERT(l >= 0);
	TT_EQ(bind_port(l, port), port);
	TT_OK(sc_val(l, SCIF_LISTEN, backlog));
	return l;
}
static int accept_one(int l, int sync, struct scifioctl_accept *out)
{
	struct scifioctl_accept a;
	int n, r;
	memset(&a, 0, sizeof a);
	a.flags = sync ? ACCEPT_SYNC : 0;
	n = open("/dev/scif", O_RDWR);
	if (n < 0)
		return -errno;
	r = sc(l, SCIF_ACCEPTREQ, &a);
	if (r == 0)
		r = sc(n, SCIF_ACCEPTREG, &a.endpt);
	if (r < 0) {
		close(n);
		return r;
	}
	if (out)
		*out = a;
	return n;
}
/* connect a (node na) to b (node nb, port) in one process */
static void pair(int na, int nb, int port, int *l, int *a, int *b)
{
	struct scifioctl_connect c;
	struct pollfd p;
	*l = listener(nb, port, 8);
	*a = ep_open(na, O_NONBLOCK);
	TT_ASSERT(*a >= 0);
	memset(&c, 0, sizeof c);
	c.peer.node = (uint16_t)nb;
	c.peer.port = (uint16_t)port;
	TT_EQ(sc(*a, SCIF_CONNECT, &c), -EINPROGRESS);
	setenv("FABTX_SCIFEMU_NODE", "0", 1);
	*b = accept_one(*l, 1, NULL);
	TT_ASSERT(*b >= 0);
	p.fd = *a;
	p.events = POLLOUT;
	TT_EQ(poll(&p, 1, 5000), 1);
	TT_OK(sc(*a, SCIF_CONNECT, &c));
}
static int msg(int fd, unsigned long cmd, void *buf, int len, int flags)
{
	struct scifioctl_msg m;
	int r;
	memset(&m, 0, sizeof m);
	m.msg = (uint64_t)(uintptr_t)buf;
	m.len = len;
	m.flags = flags;
	r = sc(fd, cmd, &m);
	return r < 0 ? r : m.out_len;
}
static void *pages(size_t n)
{
	void *p = mmap(NULL, n * PG, PROT_READ | PROT_WRITE,
	               MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	TT_ASSERT(p != MAP_FAILED);
	return p;
}
static int64_t reg(int fd, void *addr, uint64_t len, int prot, int flags,
                   int64_t off)
{
	struct scifioctl_reg r;
	int rc;
	memset(&r, 0, sizeof r);
	r.addr = (uint64_t)(uintptr_t)addr;
	r.len = len;
	r.offset = off;
	r.prot = prot;
	r.flags = flags;
	rc = sc(fd, SCIF_REG, &r);
	return rc < 0 ? rc : r.out_offset;
}
static int rma(int fd, unsigned long cmd, int64_t lo, const void *addr,
               uint64_t len, int64_t ro, int flags)
{
	struct scifioctl_copy c;
	memset(&c, 0, sizeof c);
	c.loffset = lo;
	c.addr = (uint64_t)(uintptr_t)addr;
	c.len = len;
	c.roffset = ro;
	c.flags = flags;
	return sc(fd, cmd, &c);
}
static int mark(int fd, int flags, int *m)
{
	struct scifioctl_fence_mark fm;
	memset(&fm, 0, sizeof fm);
	fm.flags = flags;
	fm.mark = (uint64_t)(uintptr_t)m;
	return sc(fd, SCIF_FENCE_MARK, &fm);
}
static int sig(int fd, int64_t lo, uint64_t lv, int64_t ro, uint64_t rv,
               int flags)
{
	struct scifioctl_fence_signal s;
	memset(&s, 0, sizeof s);
	s.loff = lo;
	s.lval = lv;
	s.roff = ro;
	s.rval = rv;
	s.flags = flags;
	return sc(fd, SCIF_FENCE_SIGNAL, &s);
}
static short revents(int fd, short ev)
{
	struct pollfd p;
	p.fd = fd;
	p.events = ev;
	p.revents = 0;
	TT_ASSERT(poll(&p, 1, 0) >= 0);
	return p.revents;
}

/* ================================================ interface shape */
TT_TEST(iface_struct_layouts_and_ioctl_numbers)
{
	TT_EQ(sizeof(struct scifioctl_connect), 8);
	TT_EQ(sizeof(struct scifioctl_accept), 16);
	TT_EQ(sizeof(struct scifioctl_msg), 24);
	TT_EQ(sizeof(struct scifioctl_reg), 40);
	TT_EQ(sizeof(struct scifioctl_unreg), 16);
	TT_EQ(sizeof(struct scifioctl_copy), 40);
	TT_EQ(sizeof(struct scifioctl_fence_mark), 16);
	TT_EQ(sizeof(struct scifioctl_fence_signal), 40);
	TT_EQ(sizeof(struct scifioctl_node_ids), 24);
	TT_EQ(SCIF_BIND, 0xc0087301);
	TT_EQ(SCIF_LISTEN, 0x40047302);
	TT_EQ(SCIF_CONNECT, 0xc0087303);
	TT_EQ(SCIF_ACCEPTREQ, 0xc0107304);
	TT_EQ(SCIF_ACCEPTREG, 0xc0087305);
	TT_EQ(SCIF_SEND, 0xc0187306);
	TT_EQ(SCIF_RECV, 0xc0187307);
	TT_EQ(SCIF_REG, 0xc0287308);
	TT_EQ(SCIF_UNREG, 0xc0107309);
	TT_EQ(SCIF_READFROM, 0xc028730a);
	TT_EQ(SCIF_WRITETO, 0xc028730b);
	TT_EQ(SCIF_VREADFROM, 0xc028730c);
	TT_EQ(SCIF_VWRITETO, 0xc028730d);
	TT_EQ(SCIF_GET_NODEIDS, 0xc018730e);
	TT_EQ(SCIF_FENCE_MARK, 0xc010730f);
	TT_EQ(SCIF_FENCE_WAIT, 0xc0047310);
	TT_EQ(SCIF_FENCE_SIGNAL, 0xc0287311);
}

TT_TEST(iface_unknown_ioctl_einval)
{
	int fd;
	fab("");
	fd = ep_open(0, 0);
	TT_ASSERT(fd >= 0);
	TT_EQ(sc(fd, 0xc0087399, &fd), -EINVAL);
	TT_EQ(sc(fd, FIONREAD, &fd), -EINVAL);
	close(fd);
	fab_done();
}

TT_TEST(iface_arg_decoding_and_writeback)
{
	/* BIND: a 4-byte int in, 4 bytes out; LISTEN by value */
	uint64_t word = 0xa5a5a5a500000000ull; /* port 0 in the low half */
	struct scifioctl_msg m;
	struct scifioctl_reg r;
	int l, a, b, fd;
	char buf[8] = "abc";
	void *p;
	fab("");
	fd = ep_open(0, 0);
	TT_OK(sc(fd, SCIF_BIND, &word));
	TT_EQ(word >> 32, 0xa5a5a5a5u);
	TT_EQ((uint32_t)word, 1089);
	TT_OK(sc_val(fd, SCIF_LISTEN, 4));
	pair(1, 2, 2000, &l, &a, &b);
	/* SEND writes back only out_len */
	memset(&m, 0, sizeof m);
	m.msg = (uint64_t)(uintptr_t)buf;
	m.len = 3;
	m.flags = 0;
	m.out_len = -77;
	TT_OK(sc(a, SCIF_SEND, &m));
	TT_EQ(m.out_len, 3);
	TT_EQ(m.len, 3);
	TT_EQ(m.msg, (uint64_t)(uintptr_t)buf);
	/* REG writes back only out_offset */
	p = pages(1);
	memset(&r, 0, sizeof r);
	r.addr = (uint64_t)(uintptr_t)p;
	r.len = PG;
	r.offset = 12345; /* ignored without MAP_FIXED */
	r.prot = PROT_R | PROT_W;
	TT_OK(sc(a, SCIF_REG, &r));
	TT_EQ(r.offset, 12345);
	TT_ASSERT(r.out_offset >= 0 && r.out_offset % PG == 0);
	close(a);
	close(b);
	close(l);
	close(fd);
	fab_done();
}

TT_TEST(iface_bad_user_pointers_efault)
{
	struct scifioctl_node_ids ni;
	char in[4];
	int fd, l, a, b;
	fab("");
	fd = ep_open(0, 0);
	TT_EQ(sc(fd, SCIF_BIND, (void *)16), -EFAULT);
	TT_EQ(sc(fd, SCIF_CONNECT, (void *)16), -EFAULT);
	ni.nodes = 16;
	ni.self = 16;
	ni.len = 4;
	TT_EQ(sc(fd, SCIF_GET_NODEIDS, &ni), -EFAULT);
	pair(1, 2, 2100, &l, &a, &b);
	TT_EQ(msg(a, SCIF_SEND, (void *)16, 10, 0), -EFAULT);
	TT_EQ(msg(a, SCIF_SEND, "abc", 3, 0), 3);
	TT_EQ(msg(b, SCIF_RECV, (void *)16, 3, 0), -EFAULT);
	TT_EQ(msg(b, SCIF_RECV, in, 3, 0), 3); /* nothing was lost */
	TT_ASSERT(memcmp(in, "abc", 3) == 0);
	TT_EQ(sc(a, SCIF_FENCE_MARK, (void *)16), -EFAULT);
	TT_EQ(sc(b, SCIF_ACCEPTREG, (void *)16), -EFAULT);
	close(a);
	close(b);
	close(l);
	close(fd);
	fab_done();
}

TT_TEST(iface_accept_token_usable_once)
{
	struct scifioctl_connect c;
	struct scifioctl_accept acc;
	uint64_t bogus = 0x1234;
	int l, a, n1, n2;
	fab("");
	l = listener(0, 3000, 4);
	a = ep_open(1, O_NONBLOCK);
	memset(&c, 0, sizeof c);
	c.peer.node = 0;
	c.peer.port = 3000;
	TT_EQ(sc(a, SCIF_CONNECT, &c), -EINPROGRESS);
	memset(&acc, 0, sizeof acc);
	acc.flags = ACCEPT_SYNC;
	TT_OK(sc(l, SCIF_ACCEPTREQ, &acc));
	TT_EQ(acc.peer.node, 1);
	TT_ASSERT(acc.peer.port >= 1089);
	n1 = ep_open(0, 0);
	n2 = ep_open(0, 0);
	TT_EQ(sc(n1, SCIF_ACCEPTREG, &bogus), -ENOENT);
	TT_OK(sc(n1, SCIF_ACCEPTREG, &acc.endpt));
	TT_EQ(sc(n2, SCIF_ACCEPTREG, &acc.endpt), -ENOENT);
	/* the fd became the connected endpoint */
	TT_EQ(msg(n1, SCIF_SEND, "x", 1, 0), 1);
	TT_EQ(msg(n2, SCIF_SEND, "x", 1, 0), -ENOTCONN);
	close(n1);
	close(n2);
	close(a);
	close(l);
	fab_done();
}

/* ========================================== connection management */
TT_TEST(ports_privileged_eacces)
{
	int a, b;
	fab("");
	setenv("FABTX_SCIFEMU_ADMIN", "0", 1);
	a = ep_open(0, 0);
	TT_EQ(bind_port(a, 100), -EACCES);
	TT_EQ(bind_port(a, 1023), -EACCES);
	TT_EQ(bind_port(a, 1024), 1024); /* reserved range, but allowed */
	setenv("FABTX_SCIFEMU_ADMIN", "1", 1);
	b = ep_open(0, 0);
	TT_EQ(bind_port(b, 100), 100);
	close(a);
	close(b);
	fab_done();
}

TT_TEST(ports_busy_einval_and_auto_from_1089)
{
	int a, b, c, d, e;
	fab("");
	a = ep_open(0, 0);
	b = ep_open(0, 0);
	c = ep_open(1, 0);
	TT_EQ(bind_port(a, 5000), 5000);
	TT_EQ(bind_port(b, 5000), -EINVAL); /* not EADDRINUSE */
	TT_EQ(bind_port(c, 5000), 5000);    /* other node */
	d = ep_open(0, 0);
	e = ep_open(0, 0);
	TT_EQ(bind_port(d, 0), 1089);
	TT_EQ(bind_port(e, 0), 1090);
	close(d);
	d = ep_open(0, 0);
	TT_EQ(bind_port(d, 0), 1089); /* released on close */
	TT_EQ(bind_port(b, 1090), -EINVAL);
	close(a);
	close(b);
	close(c);
	close(d);
	close(e);
	fab_done();
}

TT_TEST(state_errnos)
{
	struct scifioctl_connect c;
	struct scifioctl_accept acc;
	int l, a, b, u, x;
	fab("");
	u = ep_open(0, 0);
	TT_EQ(sc_val(u, SCIF_LISTEN, 1), -EINVAL); /* unbound */
	memset(&acc, 0, sizeof acc);
	TT_EQ(sc(u, SCIF_ACCEPTREQ, &acc), -EINVAL); /* not listening */
	TT_EQ(msg(u, SCIF_SEND, "x", 1, 0), -ENOTCONN);
	TT_EQ(msg(u, SCIF_RECV, &x, 1, 0), -ENOTCONN);
	TT_EQ(bind_port(u, 4000), 4000);
	TT_EQ(bind_port(u, 4001), -EINVAL); /* already bound */
	TT_OK(sc_val(u, SCIF_LISTEN, 1));
	TT_EQ(sc_val(u, SCIF_LISTEN, 1), -EISCONN);
	TT_EQ(bind_port(u, 0), -EISCONN);
	acc.flags = 2;
	TT_EQ(sc(u, SCIF_ACCEPTREQ, &acc), -EINVAL);
	memset(&c, 0, sizeof c);
	c.peer.node = 0;
	c.peer.port = 4000;
	TT_EQ(sc(u, SCIF_CONNECT, &c), -EOPNOTSUPP);
	x = ep_open(0, 0);
	c.peer.node = 9; /* 5 nodes online */
	TT_EQ(sc(x, SCIF_CONNECT, &c), -ENODEV);
	pair(1, 2, 4100, &l, &a, &b);
	c.peer.node = 2;
	c.peer.port = 4100;
	TT_EQ(sc(a, SCIF_CONNECT, &c), -EISCONN);
	TT_EQ(bind_port(a, 0), -EISCONN);
	TT_EQ(sc_val(a, SCIF_LISTEN, 1), -EISCONN);
	close(a);
	close(b);
	close(l);
	close(u);
	close(x);
	fab_done();
}

TT_TEST(connect_blocks_until_acceptreq)
{
	struct scifioctl_accept acc;
	int l, pfd[2], n, self_port = 0;
	pid_t pid;
	char ch;
	fab("");
	l = listener(0, 6000, 4);
	TT_OK(pipe(pfd));
	pid = fork();
	if (pid == 0) {
		struct scifioctl_connect c;
		int a = ep_open(3, 0), r;
		memset(&c, 0, sizeof c);
		c.peer.node = 0;
		c.peer.port = 6000;
		r = sc(a, SCIF_CONNECT, &c);
		ch = r == 0 && c.self.node == 3 ? 'y' : 'n';
		if (write(pfd[1], &ch, 1) != 1 ||
		    write(pfd[1], &c.self.port, 2) != 2)
			_exit(2);
		_exit(0);
	}
	/* the request is pending (listener readable) ... */
	{
		struct pollfd p;
		p.fd = l;
		p.events = POLLIN;
		TT_EQ(poll(&p, 1, 10000), 1);
	}
	/* ... but the connector has not returned: the grant comes from
	 * ACCEPTREQ, not from listen */
	TT_EQ(revents(pfd[0], POLLIN), 0);
	n = accept_one(l, 1, &acc);
	TT_ASSERT(n >= 0);
	TT_EQ(read(pfd[0], &ch, 1), 1);
	TT_EQ(ch, 'y');
	TT_EQ(read(pfd[0], &self_port, 2), 2);
	TT_EQ(acc.peer.node, 3);
	TT_EQ(acc.peer.port, self_port);
	waitpid(pid, NULL, 0);
	close(n);
	close(l);
	fab_done();
}

TT_TEST(refused_no_listener_and_backlog)
{
	struct scifioctl_connect c;
	int l, l0, a, b, d, n;
	fab("");
	memset(&c, 0, sizeof c);
	c.peer.node = 0;
	c.peer.port = 7000;
	a = ep_open(1, O_NONBLOCK);
	TT_EQ(sc(a, SCIF_CONNECT, &c), -ECONNREFUSED); /* no listener */
	l0 = listener(0, 7001, 0); /* backlog 0 refuses all */
	c.peer.port = 7001;
	TT_EQ(sc(a, SCIF_CONNECT, &c), -ECONNREFUSED);
	l = listener(0, 7000, 1);
	c.peer.port = 7000;
	TT_EQ(sc(a, SCIF_CONNECT, &c), -EINPROGRESS); /* retry, same fd */
	b = ep_open(2, O_NONBLOCK);
	TT_EQ(sc(b, SCIF_CONNECT, &c), -ECONNREFUSED); /* backlog reached */
	n = accept_one(l, 0, NULL);
	TT_ASSERT(n >= 0);
	d = ep_open(2, O_NONBLOCK); /* accept freed the slot */
	TT_EQ(sc(d, SCIF_CONNECT, &c), -EINPROGRESS);
	TT_OK(sc(a, SCIF_CONNECT, &c));
	close(a);
	close(b);
	close(d);
	close(n);
	close(l);
	close(l0);
	fab_done();
}

TT_TEST(refused_timeout_then_retry_same_fd)
{
	struct scifioctl_connect c;
	int l, a, n, port;
	fab("");
	setenv("FABTX_SCIFEMU_CONNECT_TIMEOUT_MS", "50", 1);
	l = listener(0, 7100, 4);
	a = ep_open(1, 0);
	memset(&c, 0, sizeof c);
	c.peer.node = 0;
	c.peer.port = 7100;
	TT_EQ(sc(a, SCIF_CONNECT, &c), -ECONNREFUSED); /* nobody accepted */
	/* a stale request the connector gave up on is not accepted */
	TT_EQ(accept_one(l, 0, NULL), -EAGAIN);
	/* the port stays bound: a retry uses it */
	fcntl(a, F_SETFL, fcntl(a, F_GETFL) | O_NONBLOCK);
	setenv("FABTX_SCIFEMU_CONNECT_TIMEOUT_MS", "30000", 1);
	TT_EQ(sc(a, SCIF_CONNECT, &c), -EINPROGRESS);
	n = accept_one(l, 1, NULL);
	TT_ASSERT(n >= 0);
	TT_EQ(revents(a, POLLOUT), POLLOUT);
	TT_OK(sc(a, SCIF_CONNECT, &c));
	port = c.self.port;
	TT_ASSERT(port >= 1089);
	TT_EQ(msg(n, SCIF_SEND, "ok", 2, BLOCK), 2);
	close(a);
	close(n);
	close(l);
	fab_done();
}

TT_TEST(nonblocking_connect_einprogress_pollout_second_call)
{
	struct scifioctl_connect c;
	int l, a, n;
	fab("");
	l = listener(2, 7200, 4);
	a = ep_open(1, O_NONBLOCK);
	memset(&c, 0, sizeof c);
	c.peer.node = 2;
	c.peer.port = 7200;
	TT_EQ(sc(a, SCIF_CONNECT, &c), -EINPROGRESS);
	TT_EQ(revents(a, POLLOUT | POLLIN), 0); /* pending: nothing */
	TT_EQ(sc(a, SCIF_CONNECT, &c), -EINPROGRESS);
	n = accept_one(l, 1, NULL);
	TT_ASSERT(n >= 0);
	TT_EQ(revents(a, POLLOUT), POLLOUT);
	memset(&c.self, 0xff, sizeof c.self);
	TT_OK(sc(a, SCIF_CONNECT, &c));
	TT_EQ(c.self.node, 1);
	TT_ASSERT(c.self.port >= 1089);
	close(a);
	close(n);
	close(l);
	fab_done();
}

TT_TEST(accept_eagain_without_sync)
{
	struct scifioctl_accept acc;
	int l;
	fab("");
	l = listener(0, 7300, 4);
	memset(&acc, 0, sizeof acc);
	TT_EQ(sc(l, SCIF_ACCEPTREQ, &acc), -EAGAIN);
	TT_EQ(revents(l, POLLIN), 0);
	close(l);
	fab_done();
}

static int g_lis;
static int g_accept_rc;
static void *accept_thread(void *arg)
{
	struct scifioctl_accept acc;
	(void)arg;
	memset(&acc, 0, sizeof acc);
	acc.flags = ACCEPT_SYNC;
	g_accept_rc = sc(g_lis, SCIF_ACCEPTREQ, &acc);
	return NULL;
}

TT_TEST(listener_close_wakes_blocked_accept_eintr)
{
	pthread_t t;
	int i;
	fab("");
	g_lis = listener(0, 7400, 4);
	g_accept_rc = 1;
	TT_OK(pthread_create(&t, NULL, accept_thread, NULL));
	for (i = 0; i < 100000 && fabtx_scifemu_blocked() == 0; i++)
		usleep(100); /* poll with a deadline: the thread is inside */
	TT_EQ(fabtx_scifemu_blocked(), 1);
	close(g_lis);
	pthread_join(t, NULL);
	TT_EQ(g_accept_rc, -EINTR);
	fab_done();
}

TT_TEST(listener_close_rejects_queued_requests)
{
	struct scifioctl_connect c;
	int l, a;
	fab("");
	l = listener(0, 7500, 4);
	a = ep_open(1, O_NONBLOCK);
	memset(&c, 0, sizeof c);
	c.peer.node = 0;
	c.peer.port = 7500;
	TT_EQ(sc(a, SCIF_CONNECT, &c), -EINPROGRESS);
	close(l);
	{
		struct pollfd p;
		p.fd = a;
		p.events = POLLOUT;
		TT_EQ(poll(&p, 1, 10000), 1);
	}
	TT_EQ(sc(a, SCIF_CONNECT, &c), -ECONNREFUSED);
	close(a);
	fab_done();
}

/* ====================================================== messaging */
TT_TEST(msg_ring_4095_partial_nonblocking_send)
{
	static char big[10000], in[10000];
	int l, a, b, i;
	fab("");
	for (i = 0; i < 10000; i++)
		big[i] = (char)(i * 7);
	pair(1, 2, 8000, &l, &a, &b);
	TT_EQ(msg(a, SCIF_SEND, big, 10000, 0), 4095);
	TT_EQ(msg(a, SCIF_SEND, big + 4095, 100, 0), 0); /* full: 0, no EAGAIN */
	TT_EQ(msg(b, SCIF_RECV, in, 100, 0), 100);
	TT_EQ(msg(a, SCIF_SEND, big + 4095, 5905, 0), 100);
	TT_EQ(msg(b, SCIF_RECV, in + 100, 9900, 0), 4095);
	TT_EQ(msg(b, SCIF_RECV, in, 10, 0), 0); /* empty: 0, success */
	TT_ASSERT(memcmp(in, big, 4195) == 0);
	close(a);
	close(b);
	close(l);
	fab_done();
}

TT_TEST(msg_byte_stream_no_boundaries)
{
	char in[64];
	int l, a, b;
	fab("");
	pair(1, 0, 8100, &l, &a, &b);
	TT_EQ(msg(a, SCIF_SEND, "abc", 3, 0), 3);
	TT_EQ(msg(a, SCIF_SEND, "defg", 4, 0), 4);
	TT_EQ(msg(a, SCIF_SEND, "h", 1, 0), 1);
	TT_EQ(msg(b, SCIF_RECV, in, 5, BLOCK), 5); /* spans two sends */
	TT_ASSERT(memcmp(in, "abcde", 5) == 0);
	TT_EQ(msg(b, SCIF_RECV, in, 64, 0), 3);
	TT_ASSERT(memcmp(in, "fgh", 3) == 0);
	close(a);
	close(b);
	close(l);
	fab_done();
}

TT_TEST(msg_blocking_send_and_recv_across_processes)
{
	static unsigned char out[200000], in[200000];
	int l, a, b, i, st;
	pid_t pid;
	fab("");
	for (i = 0; i < (int)sizeof out; i++)
		out[i] = (unsigned char)(i * 13 + 1);
	pair(1, 2, 8200, &l, &a, &b);
	pid = fork();
	if (pid == 0) {
		/* blocking RECV returns only after all len bytes */
		int n = msg(b, SCIF_RECV, in, (int)sizeof in, BLOCK);
		_exit(n == (int)sizeof in && memcmp(in, out, sizeof in) == 0 ? 0
		                                                              : 1);
	}
	/* blocking SEND waits for ring space 4095 bytes at a time */
	TT_EQ(msg(a, SCIF_SEND, out, (int)sizeof out, BLOCK), (int)sizeof out);
	TT_EQ(waitpid(pid, &st, 0), pid);
	TT_ASSERT(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	close(a);
	close(b);
	close(l);
	fab_done();
}

TT_TEST(msg_len0_shortcircuit_and_flag_validation)
{
	int u, l, a, b;
	fab("");
	u = ep_open(0, 0);
	TT_EQ(msg(u, SCIF_SEND, NULL, 0, 0), 0); /* before any state check */
	TT_EQ(msg(u, SCIF_RECV, NULL, 0, 0), 0);
	TT_EQ(msg(u, SCIF_SEND, "x", -1, 0), -EINVAL);
	TT_EQ(msg(u, SCIF_SEND, "x", 1, 2), -EINVAL);
	TT_EQ(msg(u, SCIF_RECV, "x", 1, 2), -EINVAL);
	pair(1, 2, 8300, &l, &a, &b);
	TT_EQ(msg(a, SCIF_SEND, "x", 1, 3), 1); /* bit 0 set: accepted */
	close(a);
	close(b);
	close(l);
	close(u);
	fab_done();
}

TT_TEST(msg_enotconn_vs_econnreset_and_drain_after_close)
{
	char in[16];
	int l, a, b;
	fab("");
	pair(1, 2, 8400, &l, &a, &b);
	TT_EQ(msg(a, SCIF_SEND, "hello", 5, 0), 5);
	close(a);
	TT_EQ(msg(b, SCIF_SEND, "x", 1, 0), -ECONNRESET);
	TT_EQ(msg(b, SCIF_RECV, in, 3, 0), 3); /* the ring still drains */
	TT_EQ(msg(b, SCIF_RECV, in + 3, 16, BLOCK), 2); /* partial count */
	TT_ASSERT(memcmp(in, "hello", 5) == 0);
	TT_EQ(msg(b, SCIF_RECV, in, 1, 0), -ECONNRESET);
	TT_EQ(msg(b, SCIF_RECV, in, 1, BLOCK), -ECONNRESET);
	close(b);
	close(l);
	fab_done();
}

static int g_ep;
static void *sender_thread(void *arg)
{
	static char blk[2][20000];
	int k = (int)(intptr_t)arg, i;
	memset(blk[k], 'A' + k, sizeof blk[k]);
	for (i = 0; i < 20; i++)
		if (msg(g_ep, SCIF_SEND, blk[k], (int)sizeof blk[k], BLOCK) !=
		    (int)sizeof blk[k])
			return (void *)1;
	return NULL;
}

TT_TEST(msg_per_call_atomicity_between_threads)
{
	static char in[20000];
	pthread_t t1, t2;
	int l, a, b, i, j, cnt[2] = {0, 0};
	fab("");
	pair(1, 2, 8500, &l, &a, &b);
	g_ep = a;
	TT_OK(pthread_create(&t1, NULL, sender_thread, (void *)0));
	TT_OK(pthread_create(&t2, NULL, sender_thread, (void *)1));
	for (i = 0; i < 40; i++) {
		TT_EQ(msg(b, SCIF_RECV, in, (int)sizeof in, BLOCK), (int)sizeof in);
		for (j = 1; j < (int)sizeof in; j++)
			if (in[j] != in[0])
				TT_FAIL("block %d interleaved at %d", i, j);
		cnt[in[0] - 'A']++;
	}
	pthread_join(t1, NULL);
	pthread_join(t2, NULL);
	TT_EQ(cnt[0], 20);
	TT_EQ(cnt[1], 20);
	close(a);
	close(b);
	close(l);
	fab_done();
}

TT_TEST(poll_table_of_spec_section_4)
{
	static char big[4095];
	struct scifioctl_connect c;
	char in[8];
	int u, l, a, b, x;
	fab("");
	u = ep_open(0, 0);
	TT_EQ(revents(u, POLLIN | POLLOUT), POLLERR); /* unbound */
	TT_EQ(bind_port(u, 9000), 9000);
	TT_EQ(revents(u, POLLIN | POLLOUT), POLLERR); /* bound */
	TT_OK(sc_val(u, SCIF_LISTEN, 4));
	TT_EQ(revents(u, POLLIN | POLLOUT), 0); /* listening, no request */
	x = ep_open(1, O_NONBLOCK);
	memset(&c, 0, sizeof c);
	c.peer.node = 0;
	c.peer.port = 9000;
	TT_EQ(sc(x, SCIF_CONNECT, &c), -EINPROGRESS);
	TT_EQ(revents(u, POLLIN | POLLOUT), POLLIN); /* request pending */
	close(x);
	close(u);
	pair(1, 2, 9100, &l, &a, &b);
	TT_EQ(revents(b, POLLIN | POLLOUT), POLLOUT);
	TT_EQ(msg(a, SCIF_SEND, big, 4095, 0), 4095);
	TT_EQ(revents(b, POLLIN | POLLOUT), POLLIN | POLLOUT);
	TT_EQ(revents(a, POLLIN | POLLOUT), 0); /* ring full: no POLLOUT */
	TT_EQ(msg(b, SCIF_RECV, big, 4094, 0), 4094);
	TT_EQ(revents(a, POLLOUT), POLLOUT);
	close(a);
	TT_EQ(revents(b, POLLIN), POLLHUP | POLLIN); /* 1 byte left */
	TT_EQ(msg(b, SCIF_RECV, in, 8, 0), 1);
	TT_EQ(revents(b, POLLIN) & (POLLHUP | POLLIN), POLLHUP);
	close(b);
	close(l);
	fab_done();
}

TT_TEST(poll_endpoint_fd_is_a_real_fd_for_epoll)
{
	struct epoll_event ev, out;
	char in[4];
	int l, a, b, ep;
	fab("");
	pair(1, 2, 9150, &l, &a, &b);
	ep = epoll_create1(0);
	TT_ASSERT(ep >= 0);
	memset(&ev, 0, sizeof ev);
	ev.events = EPOLLIN;
	TT_OK(epoll_ctl(ep, EPOLL_CTL_ADD, b, &ev));
	TT_EQ(epoll_wait(ep, &out, 1, 0), 0);
	TT_EQ(msg(a, SCIF_SEND, "abc", 3, 0), 3);
	TT_EQ(epoll_wait(ep, &out, 1, 5000), 1);
	TT_ASSERT(out.events & EPOLLIN);
	TT_EQ(msg(b, SCIF_RECV, in, 4, 0), 3);
	TT_EQ(epoll_wait(ep, &out, 1, 0), 0); /* level: drained */
	close(a);
	TT_EQ(epoll_wait(ep, &out, 1, 5000), 1);
	TT_ASSERT(out.events & EPOLLHUP);
	close(ep);
	close(b);
	close(l);
	fab_done();
}

TT_TEST(fence_signal_init_peer_quirk)
{
	int l, a, b;
	unsigned char *p, *q;
	fab("");
	p = (unsigned char *)pages(1);
	q = (unsigned char *)pages(1);
	pair(1, 2, 10150, &l, &a, &b);
	TT_EQ(reg(a, p, PG, PROT_R | PROT_W, MAP_FIX, 0), 0);
	TT_EQ(reg(b, q, PG, PROT_R | PROT_W, MAP_FIX, 0), 0);
	/* SIGNAL_LOCAL with INIT_PEER: the peer writes rval at roff in ITS
	 * window; SIGNAL_REMOTE: lval at loff in the caller's (spec §7) */
	TT_OK(sig(a, 16, 0x1111, 32, 0x2222, F_PEER | SIG_LOCAL));
	TT_EQ(*(uint64_t *)(q + 32), 0x2222);
	TT_EQ(*(uint64_t *)(p + 16), 0);
	TT_OK(sig(a, 48, 0x3333, 64, 0x4444, F_PEER | SIG_REMOTE));
	TT_EQ(*(uint64_t *)(p + 48), 0x3333);
	TT_EQ(*(uint64_t *)(q + 64), 0);
	close(a);
	close(b);
	close(l);
	fab_done();
}

/* ========================================= registration, RMA, fences */
TT_TEST(reg_checks_alignment_prot_flags_efault)
{
	int l, a, b;
	char *p;
	fab("");
	p = (char *)pages(4);
	l = ep_open(0, 0);
	TT_EQ(reg(l, p, PG, PROT_R, 0, 0), -ENOTCONN);
	close(l);
	pair(1, 2, 9200, &l, &a, &b);
	TT_EQ(reg(a, p + 8, PG, PROT_R, 0, 0), -EINVAL);
	TT_EQ(reg(a, p, 100, PROT_R, 0, 0), -EINVAL);
	TT_EQ(reg(a, p, 0, PROT_R, 0, 0), -EINVAL);
	TT_EQ(reg(a, p, PG, 4, 0, 0), -EINVAL);
	TT_EQ(reg(a, p, PG, PROT_R, 0x20, 0), -EINVAL); /* MAP_KERNEL */
	TT_EQ(reg(a, p, PG, PROT_R, MAP_FIX, 100), -EINVAL);
	TT_EQ(reg(a, p, PG, PROT_R, MAP_FIX, -PG), -EINVAL);
	munmap(p + 3 * PG, PG);
	TT_EQ(reg(a, p + 2 * PG, 2 * PG, PROT_R, 0, 0), -EFAULT);
	close(a);
	close(b);
	close(l);
	fab_done();
}

TT_TEST(reg_fixed_overlap_eaddrinuse_and_chosen_offsets)
{
	int l, a, b;
	int64_t o1, o2;
	char *p;
	fab("");
	p = (char *)pages(8);
	pair(1, 2, 9300, &l, &a, &b);
	TT_EQ(reg(a, p, 2 * PG, PROT_R, MAP_FIX, 0x10000), 0x10000);
	TT_EQ(reg(a, p, PG, PROT_R, MAP_FIX, 0x11000), -EADDRINUSE);
	TT_EQ(reg(a, p, 2 * PG, PROT_R, MAP_FIX, 0xf000), -EADDRINUSE);
	TT_EQ(reg(a, p, PG, PROT_R, MAP_FIX, 0x12000), 0x12000);
	o1 = reg(a, p, 2 * PG, PROT_R, 0, 0);
	o2 = reg(a, p, 2 * PG, PROT_R, 0, 0); /* same pages twice: fine */
	TT_ASSERT(o1 >= 0 && o2 >= 0);
	TT_EQ(o1 % PG, 0);
	TT_EQ(o2 % PG, 0);
	TT_ASSERT(o1 + 2 * PG <= o2 || o2 + 2 * PG <= o1);
	/* each side of a connection has its own RAS */
	TT_EQ(reg(b, p, PG, PROT_R, MAP_FIX, 0x10000), 0x10000);
	close(a);
	close(b);
	close(l);
	fab_done();
}

TT_TEST(unreg_whole_windows_only_enxio)
{
	struct scifioctl_unreg u;
	int l, a, b;
	char *p;
	fab("");
	p = (char *)pages(4);
	pair(1, 2, 9400, &l, &a, &b);
	TT_EQ(reg(a, p, 2 * PG, PROT_R, MAP_FIX, 0x20000), 0x20000);
	TT_EQ(reg(a, p, PG, PROT_R, MAP_FIX, 0x22000), 0x22000);
	u.offset = 0x20000;
	u.len = PG; /* cuts a window */
	TT_EQ(sc(a, SCIF_UNREG, &u), -ENXIO);
	u.offset = 0x30000;
	u.len = PG; /* nothing there */
	TT_EQ(sc(a, SCIF_UNREG, &u), -ENXIO);
	u.offset = 0x20000;
	u.len = 0;
	TT_EQ(sc(a, SCIF_UNREG, &u), -EINVAL);
	u.len = 100;
	TT_EQ(sc(a, SCIF_UNREG, &u), -EINVAL);
	u.offset = 0x20010;
	u.len = PG;
	TT_EQ(sc(a, SCIF_UNREG, &u), -EINVAL);
	u.offset = 0x20000;
	u.len = 3 * PG; /* two contiguous windows at once */
	TT_OK(sc(a, SCIF_UNREG, &u));
	TT_EQ(sc(a, SCIF_UNREG, &u), -ENXIO);
	TT_EQ(rma(b, SCIF_VWRITETO, 0, p, 8, 0x20000, 0), -ENXIO);
	close(a);
	close(b);
	close(l);
	fab_done();
}

TT_TEST(rma_checks_eperm_enxio_len0_flags)
{
	int l, a, b;
	char *p, *q;
	fab("");
	p = (char *)pages(2);
	q = (char *)pages(2);
	pair(1, 2, 9500, &l, &a, &b);
	TT_EQ(reg(b, q, PG, PROT_R, MAP_FIX, 0), 0);    /* peer: read only */
	TT_EQ(reg(b, q + PG, PG, PROT_W, MAP_FIX, PG), PG); /* write only */
	TT_EQ(reg(a, p, PG, PROT_W, MAP_FIX, 0), 0);
	TT_EQ(rma(a, SCIF_VWRITETO, 0, p, 8, 0, 0), -EPERM);
	TT_EQ(rma(a, SCIF_VREADFROM, 0, p, 8, PG, 0), -EPERM);
	TT_EQ(rma(a, SCIF_WRITETO, 0, NULL, 8, PG, 0), -EPERM); /* src !READ */
	TT_EQ(rma(a, SCIF_VWRITETO, 0, p, 8, 2 * PG, 0), -ENXIO);
	TT_EQ(rma(a, SCIF_VWRITETO, 0, p, 8, PG * 2 - 4, 0), -ENXIO);
	TT_EQ(rma(a, SCIF_VWRITETO, 0, p, 8, -PG, 0), -ENXIO);
	TT_EQ(rma(a, SCIF_VWRITETO, 0, p, 0, PG, 0), -EINVAL);
	TT_EQ(rma(a, SCIF_VWRITETO, 0, p, 8, PG, 0x40), -EINVAL);
	TT_OK(rma(a, SCIF_VWRITETO, 0, "12345678", 8, PG, 0x40 | RMA_SYNC));
	TT_ASSERT(memcmp(q + PG, "12345678", 8) == 0);
	TT_EQ(rma(a, SCIF_VWRITETO, 0, (void *)8, 8, PG, RMA_SYNC), -EFAULT);
	/* spanning two windows contiguous in offset space is allowed */
	TT_EQ(reg(b, q, PG, PROT_W, MAP_FIX, 2 * PG), 2 * PG);
	memset(p, 'z', PG);
	TT_OK(rma(a, SCIF_VWRITETO, 0, p, 2 * PG, PG, RMA_SYNC));
	close(a);
	close(b);
	close(l);
	fab_done();
}

TT_TEST(rma_all_four_forms_across_processes)
{
	int l, a, b, pfd[2], qfd[2], st, i;
	unsigned char *win, *loc;
	pid_t pid;
	char ch;
	fab("");
	pair(1, 2, 9600, &l, &a, &b);
	TT_OK(pipe(pfd));
	TT_OK(pipe(qfd));
	pid = fork();
	if (pid == 0) {
		/* node 2's process owns a window; the parent writes/reads it */
		int ok;
		win = (unsigned char *)pages(3);
		for (i = 0; i < 3 * PG; i++)
			win[i] = (unsigned char)(255 - i % 251);
		ok = reg(b, win, 3 * PG, PROT_R | PROT_W, MAP_FIX, 0x40000) ==
		     0x40000;
		ch = ok ? 'r' : 'x';
		if (write(pfd[1], &ch, 1) != 1 || read(qfd[0], &ch, 1) != 1)
			_exit(3);
		for (i = 0; i < 1000; i++)
			if (win[100 + i] != (unsigned char)(i % 253))
				_exit(4);
		for (i = 0; i < 2 * PG - 64; i++)
			if (win[PG + 5 + i] != (unsigned char)(i % 241))
				_exit(5);
		_exit(0);
	}
	TT_EQ(read(pfd[0], &ch, 1), 1);
	TT_EQ(ch, 'r');
	loc = (unsigned char *)pages(3);
	TT_EQ(reg(a, loc, 3 * PG, PROT_R | PROT_W, MAP_FIX, 0), 0);
	for (i = 0; i < 1000; i++)
		loc[i] = (unsigned char)(i % 253);
	TT_OK(rma(a, SCIF_WRITETO, 0, NULL, 1000, 0x40000 + 100, 0));
	/* READFROM the peer's original bytes */
	TT_OK(rma(a, SCIF_READFROM, PG, NULL, 16, 0x40000 + 2000, RMA_SYNC));
	for (i = 0; i < 16; i++)
		TT_EQ(loc[PG + i], (unsigned char)(255 - (2000 + i) % 251));
	{
		unsigned char *v = (unsigned char *)malloc(2 * PG + 7);
		unsigned char back[64];
		for (i = 0; i < 2 * PG; i++)
			v[3 + i] = (unsigned char)(i % 241);
		/* unaligned user buffer, crossing a page */
		TT_OK(rma(a, SCIF_VWRITETO, 0, v + 3, 2 * PG - 64, 0x40000 + PG + 5,
		          RMA_SYNC));
		TT_OK(rma(a, SCIF_VREADFROM, 0, back, 64, 0x40000 + PG + 5, 0));
		for (i = 0; i < 64; i++)
			TT_EQ(back[i], (unsigned char)(i % 241));
		free(v);
	}
	TT_EQ(write(qfd[1], "g", 1), 1);
	TT_EQ(waitpid(pid, &st, 0), pid);
	TT_ASSERT(WIFEXITED(st));
	TT_EQ(WEXITSTATUS(st), 0);
	close(a);
	close(b);
	close(l);
	fab_done();
}

TT_TEST(rma_sync_and_usecpu_complete_before_return_async_later)
{
	int l, a, b;
	unsigned char *p, *q;
	fab("");
	setenv("FABTX_SCIFEMU_DMA", "manual", 1);
	p = (unsigned char *)pages(1);
	q = (unsigned char *)pages(1);
	pair(1, 2, 9700, &l, &a, &b);
	TT_EQ(reg(b, q, PG, PROT_R | PROT_W, MAP_FIX, 0), 0);
	memset(p, 1, PG);
	TT_OK(rma(a, SCIF_VWRITETO, 0, p, 512, 0, RMA_SYNC));
	TT_EQ(q[200], 1);
	memset(p, 2, PG);
	TT_OK(rma(a, SCIF_VWRITETO, 0, p, 512, 0, RMA_USECPU));
	TT_EQ(q[200], 2);
	TT_EQ(fabtx_scifemu_pending(), 0);
	memset(p, 3, PG);
	TT_OK(rma(a, SCIF_VWRITETO, 0, p, 512, 0, 0)); /* DMA, no SYNC */
	TT_EQ(fabtx_scifemu_pending(), 1);
	TT_EQ(q[200], 2); /* not there yet */
	TT_EQ(fabtx_scifemu_step(), 1);
	TT_EQ(q[200], 3);
	/* SYNC also waits for DMA queued earlier on the endpoint */
	memset(p, 4, PG);
	TT_OK(rma(a, SCIF_VWRITETO, 0, p, 512, 0, 0));
	memset(p + 1024, 5, 64);
	TT_OK(rma(a, SCIF_VWRITETO, 0, p + 1024, 64, 1024, RMA_SYNC));
	TT_EQ(q[200], 4);
	TT_EQ(q[1024], 5);
	close(a);
	close(b);
	close(l);
	fab_done();
}

TT_TEST(rma_async_then_send_is_not_ordered)
{
	int l, a, b, m;
	unsigned char *p, *q;
	char ch;
	fab("");
	setenv("FABTX_SCIFEMU_DMA", "manual", 1);
	p = (unsigned char *)pages(1);
	q = (unsigned char *)pages(1);
	pair(1, 2, 9800, &l, &a, &b);
	TT_EQ(reg(b, q, PG, PROT_R | PROT_W, MAP_FIX, 0), 0);
	memset(p, 9, PG);
	TT_OK(rma(a, SCIF_VWRITETO, 0, p, PG, 0, 0));
	TT_EQ(msg(a, SCIF_SEND, "!", 1, BLOCK), 1);
	TT_EQ(msg(b, SCIF_RECV, &ch, 1, BLOCK), 1);
	TT_EQ(q[100], 0); /* the notification overtook the DMA (recipe 3) */
	/* recipe 2: FENCE_MARK(SELF) + FENCE_WAIT, then the data is there */
	TT_OK(mark(a, F_SELF, &m));
	TT_ASSERT(m > 0);
	TT_OK(sc_val(a, SCIF_FENCE_WAIT, m));
	TT_EQ(q[100], 9);
	close(a);
	close(b);
	close(l);
	fab_done();
}

TT_TEST(rma_head_tail_early_and_ordered_last_line_last)
{
	int l, a, b;
	unsigned char *p, *q;
	fab("");
	setenv("FABTX_SCIFEMU_DMA", "manual", 1);
	p = (unsigned char *)pages(1);
	q = (unsigned char *)pages(1);
	pair(1, 2, 9900, &l, &a, &b);
	TT_EQ(reg(b, q, PG, PROT_R | PROT_W, MAP_FIX, 0), 0);
	TT_EQ(reg(a, p, PG, PROT_R | PROT_W, MAP_FIX, 0), 0);
	memset(p, 7, PG);
	/* offsets equal mod 64: [10,64) and [192,210) by CPU in the call */
	TT_OK(rma(a, SCIF_WRITETO, 10, NULL, 200, 10, 0));
	TT_EQ(q[10], 7);
	TT_EQ(q[63], 7);
	TT_EQ(q[64], 0);
	TT_EQ(q[191], 0);
	TT_EQ(q[192], 7);
	TT_EQ(q[209], 7);
	TT_EQ(q[210], 0);
	TT_EQ(fabtx_scifemu_step(), 1);
	TT_EQ(q[100], 7);
	/* ORDERED: the last cache line lands after everything else */
	memset(p, 8, PG);
	TT_OK(rma(a, SCIF_WRITETO, 10, NULL, 200, 10, RMA_ORDERED));
	TT_EQ(q[10], 8);
	TT_EQ(q[100], 7);
	TT_EQ(q[200], 7);
	TT_EQ(fabtx_scifemu_step(), 1);
	TT_EQ(q[100], 8);
	TT_EQ(q[200], 7); /* tail still old */
	TT_EQ(fabtx_scifemu_step(), 1);
	TT_EQ(q[200], 8);
	close(a);
	close(b);
	close(l);
	fab_done();
}

TT_TEST(fence_signal_visible_after_all_earlier_rmas)
{
	int l, a, b, i;
	unsigned char *p, *q;
	volatile uint64_t *flag;
	fab("");
	setenv("FABTX_SCIFEMU_DMA", "manual", 1);
	p = (unsigned char *)pages(2);
	q = (unsigned char *)pages(2);
	pair(1, 2, 10000, &l, &a, &b);
	TT_EQ(reg(b, q, 2 * PG, PROT_R | PROT_W, MAP_FIX, 0), 0);
	TT_EQ(reg(a, p, 2 * PG, PROT_R | PROT_W, MAP_FIX, 0), 0);
	flag = (volatile uint64_t *)(q + PG);
	memset(p, 5, PG);
	TT_OK(rma(a, SCIF_WRITETO, 0, NULL, 1024, 0, 0));
	TT_OK(rma(a, SCIF_WRITETO, 1024, NULL, 1024, 1024, 0));
	TT_OK(sig(a, PG, 0x1111, PG, 0x1122334455667788ull,
	          F_SELF | SIG_LOCAL | SIG_REMOTE));
	/* step through the DMA channel: the signals come last */
	for (i = 0; fabtx_scifemu_pending() > 0; i++) {
		if (*flag != 0)
			TT_ASSERT(q[100] == 5 && q[1500] == 5);
		TT_EQ(fabtx_scifemu_step(), 1);
	}
	TT_EQ(*flag, 0x1122334455667788ull); /* all 8 bytes */
	TT_EQ(*(uint64_t *)(p + PG), 0x1111);
	TT_EQ(q[1500], 5);
	TT_ASSERT(i >= 3);
	close(a);
	close(b);
	close(l);
	fab_done();
}

TT_TEST(fence_signal_checks_align4_single_writable_window)
{
	int l, a, b;
	unsigned char *p, *q;
	fab("");
	p = (unsigned char *)pages(2);
	q = (unsigned char *)pages(2);
	pair(1, 2, 10100, &l, &a, &b);
	TT_EQ(reg(b, q, PG, PROT_R | PROT_W, MAP_FIX, 0), 0);
	TT_EQ(reg(b, q + PG, PG, PROT_R | PROT_W, MAP_FIX, PG), PG);
	TT_EQ(reg(b, q, PG, PROT_R, MAP_FIX, 2 * PG), 2 * PG);
	TT_EQ(reg(a, p, PG, PROT_R | PROT_W, MAP_FIX, 0), 0);
	TT_EQ(sig(a, 0, 1, 2, 1, F_SELF | SIG_REMOTE), -EINVAL); /* roff%4 */
	TT_EQ(sig(a, 2, 1, 0, 1, F_SELF | SIG_LOCAL), -EINVAL);
	TT_EQ(sig(a, 0, 1, 0, 1, F_SELF | F_PEER | SIG_LOCAL), -EINVAL);
	TT_EQ(sig(a, 0, 1, 0, 1, F_SELF), -EINVAL);
	TT_EQ(sig(a, 0, 1, 0, 1, F_SELF | SIG_LOCAL | 0x40), -EINVAL);
	TT_EQ(sig(a, 0, 1, PG - 4, 1, F_SELF | SIG_REMOTE), -ENXIO); /* 2 win */
	TT_EQ(sig(a, 0, 1, 2 * PG, 1, F_SELF | SIG_REMOTE), -EPERM);
	TT_EQ(sig(a, 0, 1, 5 * PG, 1, F_SELF | SIG_REMOTE), -ENXIO);
	TT_OK(sig(a, 0, 1, PG - 8, 0xabcdef0123456789ull, F_SELF | SIG_REMOTE));
	TT_EQ(*(uint64_t *)(q + PG - 8), 0xabcdef0123456789ull);
	close(a);
	close(b);
	close(l);
	fab_done();
}

TT_TEST(fence_mark_wait_and_init_peer)
{
	int l, a, b, m1 = 0, m2 = 0, pm = 0;
	unsigned char *p, *q;
	fab("");
	setenv("FABTX_SCIFEMU_DMA", "delay:2000", 1);
	p = (unsigned char *)pages(1);
	q = (unsigned char *)pages(1);
	pair(1, 2, 10200, &l, &a, &b);
	TT_EQ(reg(b, q, PG, PROT_R | PROT_W, MAP_FIX, 0), 0);
	TT_EQ(reg(a, p, PG, PROT_R | PROT_W, MAP_FIX, 0), 0);
	TT_EQ(mark(a, 3, &m1), -EINVAL);
	TT_EQ(mark(a, 0, &m1), -EINVAL);
	memset(p, 6, PG);
	TT_OK(rma(a, SCIF_WRITETO, 0, NULL, PG, 0, 0));
	TT_OK(mark(a, F_SELF, &m1));
	TT_ASSERT(m1 > 0);
	TT_OK(sc_val(a, SCIF_FENCE_WAIT, m1));
	TT_EQ(q[2000], 6); /* never returns before the marked RMAs landed */
	/* the peer marks the RMAs a initiated */
	memset(p, 7, PG);
	TT_OK(rma(a, SCIF_WRITETO, 0, NULL, PG, 0, 0));
	TT_OK(mark(b, F_PEER, &pm));
	TT_ASSERT((unsigned)pm & 0x80000000u);
	TT_OK(sc_val(b, SCIF_FENCE_WAIT, pm));
	TT_EQ(q[2000], 7);
	TT_OK(mark(a, F_SELF, &m2));
	TT_ASSERT(m2 >= m1);
	close(a);
	close(b);
	close(l);
	fab_done();
}

TT_TEST(loopback_node0_dead_mark_and_immediate_signals)
{
	int l, a, b, m = 0;
	unsigned char *p, *q;
	fab("");
	setenv("FABTX_SCIFEMU_DMA", "manual", 1);
	p = (unsigned char *)pages(1);
	q = (unsigned char *)pages(1);
	pair(0, 0, 10300, &l, &a, &b);
	TT_EQ(reg(b, q, PG, PROT_R | PROT_W, MAP_FIX, 0), 0);
	TT_OK(mark(a, F_SELF, &m));
	TT_EQ(m, 0xdead);
	TT_OK(sc_val(a, SCIF_FENCE_WAIT, 0xdead));
	TT_EQ(sc_val(a, SCIF_FENCE_WAIT, 5), -EINVAL);
	memset(p, 3, PG);
	TT_OK(rma(a, SCIF_VWRITETO, 0, p, PG, 0, 0)); /* CPU, synchronous */
	TT_EQ(fabtx_scifemu_pending(), 0);
	TT_EQ(q[1000], 3);
	TT_OK(sig(a, 0, 0, 8, 42, F_SELF | SIG_REMOTE));
	TT_EQ(*(uint64_t *)(q + 8), 42);
	close(a);
	close(b);
	close(l);
	fab_done();
}

TT_TEST(mmap_checks_enxio_eperm)
{
	int l, a, b;
	unsigned char *q;
	void *m;
	fab("");
	q = (unsigned char *)pages(2);
	pair(1, 2, 10400, &l, &a, &b);
	TT_EQ(reg(b, q, PG, PROT_R, MAP_FIX, 0), 0);
	m = mmap(NULL, 2 * PG, PROT_READ, MAP_SHARED, a, 0);
	TT_ASSERT(m == MAP_FAILED && errno == ENXIO);
	m = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED, a, 0);
	TT_ASSERT(m == MAP_FAILED && errno == EPERM);
	m = mmap(NULL, PG, PROT_READ, MAP_SHARED, a, 0);
	TT_ASSERT(m == MAP_FAILED && errno == ENODEV); /* documented gap */
	close(a);
	close(b);
	close(l);
	fab_done();
}

TT_TEST(nodeids_self_count_truncated_list)
{
	struct scifioctl_node_ids ni;
	uint16_t nodes[8], self = 99;
	int fd, i;
	fab("");
	fd = ep_open(3, 0);
	for (i = 0; i < 8; i++)
		nodes[i] = 0xeeee;
	ni.nodes = (uint64_t)(uintptr_t)nodes;
	ni.self = (uint64_t)(uintptr_t)&self;
	ni.len = 8;
	TT_OK(sc(fd, SCIF_GET_NODEIDS, &ni));
	TT_EQ(ni.len, 5);  /* nodes online */
	TT_EQ(self, 3);
	for (i = 0; i < 4; i++) /* min(len, highest id 4) entries */
		TT_EQ(nodes[i], i);
	TT_EQ(nodes[4], 0xeeee);
	close(fd);
	fab_done();
}

TT_TEST(peer_close_gives_econnreset_everywhere)
{
	int l, a, b, m;
	unsigned char *p;
	fab("");
	p = (unsigned char *)pages(1);
	pair(1, 2, 10500, &l, &a, &b);
	TT_EQ(reg(a, p, PG, PROT_R | PROT_W, MAP_FIX, 0), 0);
	TT_EQ(reg(b, p, PG, PROT_R | PROT_W, MAP_FIX, 0), 0);
	close(b);
	TT_EQ(sc_val(a, SCIF_LISTEN, 1), -EINVAL); /* DISCONNECTED */
	TT_EQ(reg(a, p, PG, PROT_R, 0, 0), -ECONNRESET);
	TT_EQ(rma(a, SCIF_VWRITETO, 0, p, 8, 0, 0), -ECONNRESET);
	TT_EQ(mark(a, F_SELF, &m), -ECONNRESET);
	TT_EQ(sig(a, 0, 1, 0, 1, F_SELF | SIG_LOCAL), -ECONNRESET);
	TT_EQ(revents(a, POLLIN), POLLHUP);
	TT_EQ(close(a), 0);
	close(l);
	fab_done();
}

/* Spec §10: RMAs in flight complete before the peer's close returns; a
 * close never turns an RMA into EFAULT.  The emulator cannot pin the
 * peer's pages, so it must notice the close when a copy faults.  The race
 * is made deterministic with userfaultfd: the peer's window is registered
 * for missing-page faults, so the parent's synchronous write stops in the
 * peer's first page; the peer then closes its endpoint, unmaps the window
 * and releases the fault.  The write must end with ECONNRESET. */
TT_TEST(peer_close_during_a_synchronous_rma_gives_econnreset)
{
	struct scifioctl_connect cn;
	unsigned char *v;
	int a, pfd[2], st;
	pid_t pid;
	char ch;
	fab("");
	TT_OK(pipe(pfd));
	pid = fork();
	if (pid == 0) {
		struct uffdio_api api;
		struct uffdio_register ur;
		struct uffd_msg m;
		struct pollfd p;
		unsigned char *win;
		int l, b, u;
		l = listener(2, 10600, 1);
		if (write(pfd[1], "l", 1) != 1)
			_exit(2);
		b = accept_one(l, 1, NULL);
		if (b < 0)
			_exit(3);
		u = (int)syscall(SYS_userfaultfd, O_CLOEXEC);
		if (u < 0) {
			ch = 's'; /* no userfaultfd here (not privileged) */
			_exit(write(pfd[1], &ch, 1) == 1 ? 0 : 4);
		}
		memset(&api, 0, sizeof api);
		api.api = UFFD_API;
		win = (unsigned char *)pages(2);
		memset(&ur, 0, sizeof ur);
		ur.range.start = (uint64_t)(uintptr_t)win;
		ur.range.len = 2 * PG;
		ur.mode = UFFDIO_REGISTER_MODE_MISSING;
		if (ioctl(u, UFFDIO_API, &api) < 0 ||
		    ioctl(u, UFFDIO_REGISTER, &ur) < 0 ||
		    reg(b, win, 2 * PG, PROT_R | PROT_W, MAP_FIX, 0x40000) != 0x40000)
			_exit(5);
		if (write(pfd[1], "r", 1) != 1)
			_exit(6);
		/* the parent's write faults in the first page */
		p.fd = u;
		p.events = POLLIN;
		if (poll(&p, 1, 20000) != 1 || read(u, &m, sizeof m) != sizeof m ||
		    m.event != UFFD_EVENT_PAGEFAULT ||
		    m.arg.pagefault.address != (uint64_t)(uintptr_t)win)
			_exit(7);
		close(b);
		munmap(win, 2 * PG);
		close(u); /* wakes the fault: the page is gone */
		_exit(0);
	}
	TT_EQ(read(pfd[0], &ch, 1), 1);
	TT_EQ(ch, 'l');
	a = ep_open(1, 0);
	TT_ASSERT(a >= 0);
	memset(&cn, 0, sizeof cn);
	cn.peer.node = 2;
	cn.peer.port = 10600;
	TT_OK(sc(a, SCIF_CONNECT, &cn));
	TT_EQ(read(pfd[0], &ch, 1), 1);
	if (ch == 's') {
		TT_EQ(waitpid(pid, &st, 0), pid);
		TT_SKIP("userfaultfd is not available to this process");
	}
	TT_EQ(ch, 'r');
	v = (unsigned char *)pages(2);
	memset(v, 0x5a, 2 * PG);
	st = rma(a, SCIF_VWRITETO, 0, v, 2 * PG, 0x40000, RMA_SYNC);
	if (st != -ECONNRESET)
		kill(pid, SIGKILL);
	TT_EQ(st, -ECONNRESET);
	TT_EQ(waitpid(pid, &st, 0), pid);
	TT_ASSERT(WIFEXITED(st));
	TT_EQ(WEXITSTATUS(st), 0);
	close(a);
	fab_done();
}

TT_MAIN()
