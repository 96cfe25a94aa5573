/* bench/fi_rma_pp.c -- the floor of fabtx's libfabric data path.
 *
 * fabtx moves data as RMA writes whose remote CQ data is the doorbell
 * (fi_writedata / fi_inject_writedata), as issue 3 prescribes.  fi_pingpong,
 * the anchor, uses two-sided sends.  This program is the same ping-pong as
 * fi_pingpong but with fabtx's primitive and nothing else: no ring, no
 * footer, no copies: A writes SIZE bytes with CQ data into B's registered
 * buffer, B sees the remote CQ entry and writes back, busy-polling the CQ.
 * It says how much of fabtx's distance to fi_pingpong is the primitive
 * itself (the provider's RMA path) and how much is fabtx.
 *
 *   fi_rma_pp -p PROVIDER [-e rdm|msg] [-S SIZE] [-I ITERS] [-w|-W]
 *
 * -w: event-driven, as an event loop waits: the CQ has a wait fd
 * (FI_WAIT_FD); a side that finds the CQ empty calls fi_trywait and
 * sleeps in poll() on the fd.  -W: the same, but the fd slept on is an
 * epoll set holding the CQ's wait fd (as fabtx's connection fd holds it):
 * the cost of that level of epoll nesting; -WW two levels (an event
 * loop's epoll set holding fabtx's fd).  -p sock: no libfabric, the anchor of -w
 * over TCP: the same ping-pong over a loopback TCP connection
 * (TCP_NODELAY), send() and recv(), with -w a poll() before each
 * recv(): what libfabric's tcp provider and fabtx add to the kernel's
 * own round trip, in the same run.
 *
 * FI_EP_RDM (shm, tcp;ofi_rxm, net: address vector) or FI_EP_MSG (tcp,
 * sockets: the child listens on a passive endpoint on 127.0.0.1 and the
 * parent connects); both processes are forked here and swap endpoint names
 * and keys over a socketpair.  Prints one line:
 *   bytes iters usec/xfer MB/sec   (one-way: half a round trip)
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/epoll.h>
#include <rdma/fabric.h>
#include <rdma/fi_cm.h>
#include <rdma/fi_domain.h>
#include <rdma/fi_endpoint.h>
#include <rdma/fi_errno.h>
#include <rdma/fi_rma.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define NRECV 64

struct side {
	struct fi_info *fi;
	struct fid_fabric *fabric;
	struct fid_domain *domain;
	struct fid_ep *ep;
	struct fid_cq *cq;
	struct fid_av *av;
	struct fid_eq *eq;   /* msg: connection events */
	struct fid_pep *pep; /* msg: the listening side */
	struct fid_mr *mr;
	uint8_t *buf;
	size_t len;
	fi_addr_t peer;
	uint64_t peer_addr, peer_key;
	int rx_cq_data;
	struct fi_context2 rctx[NRECV], wctx;
	int wbusy;
	int wait_fd; /* -w: the CQ's wait fd, -1 busy-polling */
	int wrap;    /* -W: an epoll set of ours around it, slept on */
};

struct card { /* what the peer needs */
	uint64_t addr, key;
	size_t namelen;
	char name[256];
};

static void die(const char *what, long rc)
{
	fprintf(stderr, "fi_rma_pp: %s: %s (%ld)\n", what,
	        rc < 0 ? fi_strerror((int)-rc) : "", rc);
	exit(1);
}
#define CK(x)                                                                  \
	do {                                                                   \
		long rc_ = (long)(x);                                          \
		if (rc_) die(#x, rc_);                                         \
	} while (0)

static double now_us(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec * 1e6 + (double)t.tv_nsec / 1e3;
}

static void full(int fd, void *p, size_t n, int wr)
{
	uint8_t *b = (uint8_t *)p;
	while (n) {
		ssize_t k = wr ? write(fd, b, n) : read(fd, b, n);
		if (k <= 0) die(wr ? "oob write" : "oob read", -1);
		b += k;
		n -= (size_t)k;
	}
}

static void wait_cm(struct side *s, uint32_t want, struct fi_eq_cm_entry *e)
{
	uint32_t ev;
	ssize_t n = fi_eq_sread(s->eq, &ev, e, sizeof *e, 20000, 0);
	if (n < 0 || ev != want) die("fi_eq_sread (connection event)", (long)n);
}

static void setup(struct side *s, const char *prov, size_t size, int who,
                  int msg, int fd)
{
	struct fi_info *h = fi_allocinfo();
	struct fi_cq_attr cqa;
	struct fi_av_attr ava;
	struct fi_eq_attr eqa;
	struct fi_eq_cm_entry ce;
	char nm[64];
	int i;
	h->caps = FI_RMA | FI_WRITE | FI_REMOTE_WRITE | FI_MSG | FI_RECV |
	          FI_SEND;
	h->mode = FI_CONTEXT | FI_CONTEXT2 | FI_RX_CQ_DATA;
	h->ep_attr->type = msg ? FI_EP_MSG : FI_EP_RDM;
	h->domain_attr->mr_mode = FI_MR_LOCAL | FI_MR_VIRT_ADDR |
	                          FI_MR_ALLOCATED | FI_MR_PROV_KEY |
	                          FI_MR_ENDPOINT;
	h->domain_attr->data_progress = FI_PROGRESS_MANUAL;
	h->domain_attr->control_progress = FI_PROGRESS_MANUAL;
	h->fabric_attr->prov_name = strdup(prov);
	if (msg && who == 1) { /* listen on 127.0.0.1, any port */
		CK(fi_getinfo(FI_VERSION(1, 17), "127.0.0.1", "0", FI_SOURCE, h,
		              &s->fi));
	} else if (msg) { /* connect to the listener's name */
		size_t nl;
		full(fd, &nl, sizeof nl, 0);
		if (nl > sizeof nm) die("listener name too long", -1);
		full(fd, nm, nl, 0);
		h->addr_format = FI_SOCKADDR_IN;
		h->dest_addr = malloc(nl);
		memcpy(h->dest_addr, nm, nl);
		h->dest_addrlen = nl;
		CK(fi_getinfo(FI_VERSION(1, 17), NULL, NULL, 0, h, &s->fi));
	} else {
		CK(fi_getinfo(FI_VERSION(1, 17), NULL, NULL, 0, h, &s->fi));
	}
	fi_freeinfo(h);
	if (strcmp(s->fi->fabric_attr->prov_name, "shm") == 0) {
		/* shm names its region after the source name */
		snprintf(nm, sizeof nm, "fi_shm://firmapp.%ld.%d", (long)getpid(),
		         who);
		free(s->fi->src_addr);
		s->fi->src_addr = strdup(nm);
		s->fi->src_addrlen = strlen(nm) + 1;
	}
	CK(fi_fabric(s->fi->fabric_attr, &s->fabric, NULL));
	if (msg) {
		memset(&eqa, 0, sizeof eqa);
		eqa.wait_obj = FI_WAIT_UNSPEC;
		CK(fi_eq_open(s->fabric, &eqa, &s->eq, NULL));
	}
	if (msg && who == 1) {
		size_t nl = sizeof nm;
		CK(fi_passive_ep(s->fabric, s->fi, &s->pep, NULL));
		CK(fi_pep_bind(s->pep, &s->eq->fid, 0));
		CK(fi_listen(s->pep));
		CK(fi_getname(&s->pep->fid, nm, &nl));
		full(fd, &nl, sizeof nl, 1);
		full(fd, nm, nl, 1);
		wait_cm(s, FI_CONNREQ, &ce);
		fi_freeinfo(s->fi);
		s->fi = ce.info; /* the connection's info */
	}
	CK(fi_domain(s->fabric, s->fi, &s->domain, NULL));
	memset(&cqa, 0, sizeof cqa);
	cqa.format = FI_CQ_FORMAT_DATA;
	cqa.wait_obj = s->wait_fd >= 0 ? FI_WAIT_FD : FI_WAIT_NONE;
	cqa.size = 4096;
	CK(fi_cq_open(s->domain, &cqa, &s->cq, NULL));
	if (s->wait_fd >= 0)
		CK(fi_control(&s->cq->fid, FI_GETWAIT, &s->wait_fd));
	for (i = 0; s->wait_fd >= 0 && i < s->wrap; i++) {
		/* as fabtx's fd() wraps it, and an event loop's epoll set
		 * holds that */
		struct epoll_event e;
		int ep = epoll_create1(EPOLL_CLOEXEC);
		memset(&e, 0, sizeof e);
		e.events = EPOLLIN;
		if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, s->wait_fd, &e))
			die("epoll", -errno);
		s->wait_fd = ep;
	}
	CK(fi_endpoint(s->domain, s->fi, &s->ep, NULL));
	CK(fi_ep_bind(s->ep, &s->cq->fid,
	              FI_TRANSMIT | FI_RECV | FI_SELECTIVE_COMPLETION));
	if (msg) {
		CK(fi_ep_bind(s->ep, &s->eq->fid, 0));
	} else {
		memset(&ava, 0, sizeof ava);
		ava.type = FI_AV_TABLE;
		CK(fi_av_open(s->domain, &ava, &s->av, NULL));
		CK(fi_ep_bind(s->ep, &s->av->fid, 0));
	}
	CK(fi_enable(s->ep));
	if (msg && who == 1) {
		CK(fi_accept(s->ep, NULL, 0));
		wait_cm(s, FI_CONNECTED, &ce);
	} else if (msg) {
		CK(fi_connect(s->ep, s->fi->dest_addr, NULL, 0));
		wait_cm(s, FI_CONNECTED, &ce);
	}
	s->len = size ? size : 1;
	if (posix_memalign((void **)&s->buf, 4096, s->len + 4096))
		die("posix_memalign", -1);
	memset(s->buf, 0, s->len + 4096);
	CK(fi_mr_reg(s->domain, s->buf, s->len + 4096,
	             FI_REMOTE_WRITE | FI_WRITE, 0, 0, 0, &s->mr, NULL));
	if (s->fi->domain_attr->mr_mode & FI_MR_ENDPOINT) {
		CK(fi_mr_bind(s->mr, &s->ep->fid, 0));
		CK(fi_mr_enable(s->mr));
	}
	s->rx_cq_data = (s->fi->rx_attr->mode & FI_RX_CQ_DATA) != 0;
	for (i = 0; s->rx_cq_data && i < NRECV; i++)
		CK(fi_recv(s->ep, NULL, 0, NULL, FI_ADDR_UNSPEC, &s->rctx[i]));
}

static void swap_cards(struct side *s, int fd)
{
	struct card me, peer;
	memset(&me, 0, sizeof me);
	me.addr = (s->fi->domain_attr->mr_mode & FI_MR_VIRT_ADDR)
	              ? (uint64_t)(uintptr_t)s->buf
	              : 0;
	me.key = fi_mr_key(s->mr);
	me.namelen = sizeof me.name;
	CK(fi_getname(&s->ep->fid, me.name, &me.namelen));
	full(fd, &me, sizeof me, 1);
	full(fd, &peer, sizeof peer, 0);
	if (s->av && fi_av_insert(s->av, peer.name, 1, &s->peer, 0, NULL) != 1)
		die("fi_av_insert", -1);
	s->peer_addr = peer.addr;
	s->peer_key = peer.key;
}

/* Busy-poll the CQ until the peer's write (remote CQ data) arrives;
 * local write completions free the write context on the way. */
static void wait_remote(struct side *s)
{
	struct fi_cq_data_entry e[16];
	for (;;) {
		ssize_t n = fi_cq_read(s->cq, e, 16), i;
		int got = 0;
		if (n == -FI_EAGAIN && s->wait_fd >= 0) {
			struct fid *f = &s->cq->fid;
			int rc = fi_trywait(s->fabric, &f, 1);
			if (rc == 0) {
				struct pollfd p = {s->wait_fd, POLLIN, 0};
				if (poll(&p, 1, -1) < 0 && errno != EINTR)
					die("poll", -errno);
			} else if (rc != -FI_EAGAIN) {
				die("fi_trywait", rc);
			}
			continue;
		}
		if (n == -FI_EAGAIN) continue;
		if (n < 0) {
			struct fi_cq_err_entry ee;
			memset(&ee, 0, sizeof ee);
			fi_cq_readerr(s->cq, &ee, 0);
			die("fi_cq_read", -(long)ee.err);
		}
		for (i = 0; i < n; i++) {
			if (e[i].flags & FI_REMOTE_CQ_DATA) {
				got = 1;
				if (s->rx_cq_data)
					CK(fi_recv(s->ep, NULL, 0, NULL,
					           FI_ADDR_UNSPEC,
					           e[i].op_context));
			} else {
				s->wbusy = 0;
			}
		}
		if (got) return;
	}
}

static void put(struct side *s, size_t size, uint64_t data)
{
	ssize_t rc;
	while (s->wbusy) { /* one write with a completion in flight at most */
		struct fi_cq_data_entry e;
		if (fi_cq_read(s->cq, &e, 1) == 1 &&
		    !(e.flags & FI_REMOTE_CQ_DATA))
			s->wbusy = 0;
	}
	for (;;) {
		if (size <= s->fi->tx_attr->inject_size)
			rc = fi_inject_writedata(s->ep, s->buf, size, data,
			                         s->peer, s->peer_addr,
			                         s->peer_key);
		else { /* FI_COMPLETION: the CQ is bound selectively */
			struct iovec iov = {s->buf, size};
			void *desc = fi_mr_desc(s->mr);
			struct fi_rma_iov r = {s->peer_addr, size,
			                       s->peer_key};
			struct fi_msg_rma m;
			memset(&m, 0, sizeof m);
			m.msg_iov = &iov;
			m.desc = &desc;
			m.iov_count = 1;
			m.addr = s->peer;
			m.rma_iov = &r;
			m.rma_iov_count = 1;
			m.context = &s->wctx;
			m.data = data;
			rc = fi_writemsg(s->ep, &m,
			                 FI_COMPLETION | FI_REMOTE_CQ_DATA);
		}
		if (rc != -FI_EAGAIN) break;
		{
			struct fi_cq_data_entry e;
			(void)fi_cq_read(s->cq, &e, 0);
		}
	}
	if (rc) die("fi_writedata", rc);
	if (size > s->fi->tx_attr->inject_size) s->wbusy = 1;
}

/* -p sock: the kernel's TCP round trip alone (the anchor).  The child
 * listens on 127.0.0.1, port 0, and passes the port over the socketpair. */
static void sock_io(int fd, uint8_t *b, size_t n, int wr, int ev)
{
	while (n) {
		ssize_t r;
		if (!wr && ev) {
			struct pollfd p = {fd, POLLIN, 0};
			if (poll(&p, 1, -1) < 0 && errno != EINTR)
				die("poll", -errno);
		}
		r = wr ? send(fd, b, n, MSG_NOSIGNAL)
		       : recv(fd, b, n, ev ? 0 : MSG_DONTWAIT);
		if (r < 0 && (errno == EAGAIN || errno == EINTR)) continue;
		if (r <= 0) die(wr ? "send" : "recv", r < 0 ? -errno : -1);
		b += r;
		n -= (size_t)r;
	}
}

/* fi_pingpong's result lines: one-way time per transfer and MB/s */
static void report(size_t size, long iters, double us_total)
{
	double us = us_total / (double)iters / 2.0;
	printf("bytes iters usec/xfer MB/sec\n%zu %ld %.3f %.2f\n", size, iters,
	       us, (double)size / us);
}

static int run_sock(size_t size, long iters, long warm, int ev)
{
	int sv[2], fd, who, one = 1;
	struct sockaddr_in a;
	socklen_t al = sizeof a;
	uint8_t *buf;
	pid_t kid;
	long i;
	double t0 = 0, t1;
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv)) die("socketpair", -1);
	kid = fork();
	if (kid < 0) die("fork", -1);
	who = kid == 0;
	buf = (uint8_t *)calloc(1, size ? size : 1);
	if (!buf) die("calloc", -1);
	memset(&a, 0, sizeof a);
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (who == 1) {
		int l = socket(AF_INET, SOCK_STREAM, 0);
		if (l < 0 || bind(l, (struct sockaddr *)&a, sizeof a) ||
		    listen(l, 1) || getsockname(l, (struct sockaddr *)&a, &al))
			die("listen", -errno);
		full(sv[1], &a.sin_port, sizeof a.sin_port, 1);
		fd = accept(l, NULL, NULL);
		close(l);
	} else {
		full(sv[0], &a.sin_port, sizeof a.sin_port, 0);
		fd = socket(AF_INET, SOCK_STREAM, 0);
		if (fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof a))
			die("connect", -errno);
	}
	if (fd < 0) die("socket", -errno);
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	for (i = -warm; i < iters; i++) {
		if (i == 0) t0 = now_us();
		if (who == 0) {
			sock_io(fd, buf, size, 1, ev);
			sock_io(fd, buf, size, 0, ev);
		} else {
			sock_io(fd, buf, size, 0, ev);
			sock_io(fd, buf, size, 1, ev);
		}
	}
	t1 = now_us();
	if (who == 0) {
		report(size, iters, t1 - t0);
		waitpid(kid, NULL, 0);
	}
	close(fd);
	free(buf);
	return 0;
}

int main(int argc, char **argv)
{
	const char *prov = "shm";
	size_t size = 8;
	long iters = 10000, i, warm;
	int sv[2], opt, who, msg = 0, ev = 0;
	pid_t kid;
	struct side s;
	double t0 = 0, t1;
	while ((opt = getopt(argc, argv, "p:e:S:I:wW")) != -1) {
		switch (opt) {
		case 'p': prov = optarg; break;
		case 'e':
			if (strcmp(optarg, "rdm") == 0) msg = 0;
			else if (strcmp(optarg, "msg") == 0) msg = 1;
			else die("-e rdm or -e msg", -1);
			break;
		case 'S': size = (size_t)strtoull(optarg, NULL, 0); break;
		case 'I': iters = atol(optarg); break;
		case 'w': if (!ev) ev = 1; break;
		case 'W': ev = ev ? ev + 1 : 2; break;
		default:
			fprintf(stderr, "usage: fi_rma_pp -p PROV|sock [-e rdm|msg] "
			                "[-S SIZE] [-I ITERS] [-w|-W]\n");
			return 2;
		}
	}
	if (iters < 1) iters = 1;
	warm = iters / 10 + 10;
	if (strcmp(prov, "sock") == 0) return run_sock(size, iters, warm, ev);
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv)) die("socketpair", -1);
	kid = fork();
	if (kid < 0) die("fork", -1);
	who = kid == 0;
	memset(&s, 0, sizeof s);
	s.wait_fd = ev ? 0 : -1;
	s.wrap = ev - 1;
	setup(&s, prov, size, who, msg, sv[who]);
	swap_cards(&s, sv[who]);
	for (i = -warm; i < iters; i++) {
		if (i == 0) t0 = now_us();
		if (who == 0) {
			put(&s, size, (uint64_t)i);
			wait_remote(&s);
		} else {
			wait_remote(&s);
			put(&s, size, (uint64_t)i);
		}
	}
	t1 = now_us();
	{ /* drain: let the last write complete before tearing down */
		char b = 0;
		while (s.wbusy) {
			struct fi_cq_data_entry e;
			if (fi_cq_read(s.cq, &e, 1) == 1 &&
			    !(e.flags & FI_REMOTE_CQ_DATA))
				s.wbusy = 0;
		}
		full(sv[who], &b, 1, 1);
		full(sv[who], &b, 1, 0);
	}
	if (who == 0) {
		report(size, iters, t1 - t0);
		waitpid(kid, NULL, 0);
	}
	fi_close(&s.mr->fid);
	fi_close(&s.ep->fid);
	if (s.av) fi_close(&s.av->fid);
	if (s.pep) fi_close(&s.pep->fid);
	if (s.eq) fi_close(&s.eq->fid);
	fi_close(&s.cq->fid);
	fi_close(&s.domain->fid);
	fi_close(&s.fabric->fid);
	fi_freeinfo(s.fi);
	free(s.buf);
	return 0;
}
