/* SPDX-License-Identifier: MIT */
/* scifemu.c -- an emulator of the Linux /dev/scif user interface (Intel
 * SCIF, linux/scif_ioctl.h) for fabtx tests.  Behaviour follows
 * ../shared/spec/scif-uapi.md; docs/scif.md lists what is reproduced.
 *
 * Mechanism: symbol interposition.  open("/dev/scif") returns a real
 * AF_UNIX stream socket; ioctl/close/poll/ppoll/mmap on such an fd are
 * emulated, everything else goes to libc (dlsym(RTLD_NEXT)).
 *   - The SCIF message stream of a connection is that socket's byte stream,
 *     so poll/epoll see POLLIN when bytes are readable and POLLHUP when the
 *     peer closed.  The 4095-byte ring limit is enforced with counters in
 *     shared memory (sent/consumed); the interposed poll() reports POLLOUT
 *     exactly from them.
 *   - Ports, listeners, connections and registered windows live in one
 *     shared file per fabric, /dev/shm/fabtx-scifemu-NAME, under a robust
 *     process-shared mutex.  A listener is a listening abstract socket; a
 *     connect request is a socket connect plus a shared record that
 *     SCIF_ACCEPTREQ grants (one 'G' byte back), so connect blocks until
 *     the server's ACCEPTREQ.
 *   - Registered windows are the owner process's own memory; RMA copies
 *     use process_vm_readv/writev (the emulator calls
 *     prctl(PR_SET_PTRACER_ANY) so that Yama allows it).
 *   - Un-synced DMA RMAs can be queued (FABTX_SCIFEMU_DMA=manual|delay:US)
 *     to show that they complete late and in no fixed order relative to
 *     SCIF_SEND; fences and SYNC drain the queue.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include <linux/scif_ioctl.h>

#include "scifemu.h"

/* flag values the uapi header lacks (spec §1.2) */
#define E_ACCEPT_SYNC 1
#define E_SEND_BLOCK 1
#define E_PROT_READ 0x1
#define E_PROT_WRITE 0x2
#define E_MAP_FIXED 0x10
#define E_RMA_USECPU 0x1
#define E_RMA_USECACHE 0x2
#define E_RMA_SYNC 0x4
#define E_RMA_ORDERED 0x8
#define E_FENCE_INIT_SELF 0x1
#define E_FENCE_INIT_PEER 0x2
#define E_SIGNAL_LOCAL 0x10
#define E_SIGNAL_REMOTE 0x20
#define E_REMOTE_FENCE (1u << 31)
#define E_LOOPBACK_MARK 0xdead

#define E_MAX_NODES 16
#define E_MAX_CONNS 512
#define E_MAX_LIS 128
#define E_MAX_WINS 64
#define E_RING 4095 /* readable bytes a direction can hold */
#define E_PAGE 4096ull
#define E_MAGIC 0x53434946454d5531ull /* "SCIFEMU1" */
#define E_MAX_FD 65536
#define E_IOV 72

enum { ST_UNBOUND, ST_BOUND, ST_LISTENING, ST_CONNECTING, ST_CONNECTED };
enum { CR_FREE, CR_REQ, CR_CONN };

struct e_win {
	int64_t off;
	uint64_t len;
	uint64_t addr;
	int32_t prot;
	int32_t used;
	int32_t pid; /* process whose memory backs the window */
	int32_t pad;
};

struct e_side {
	int32_t pid;
	uint16_t node, port;
	int32_t closed;
	int32_t pad;
	uint64_t sent;     /* bytes this side queued into its direction  */
	uint64_t consumed; /* of those, bytes the peer has received      */
	uint64_t issued;   /* RMA/signal sequence of this side           */
	uint64_t done_upto;/* every op <= this is visible                */
	struct e_win win[E_MAX_WINS];
};

struct e_conn {
	int32_t state;
	int32_t refs;
	uint64_t gen;
	int32_t lidx;
	int32_t pad;
	struct e_side side[2]; /* 0: connector, 1: acceptor */
};

struct e_lis {
	int32_t used;
	uint16_t node, port;
	int32_t backlog;
	int32_t pending;
	int32_t pid;
	int32_t pad;
};

struct e_shm {
	uint64_t magic;
	uint32_t nnodes;
	uint32_t pad;
	uint64_t gen;
	pthread_mutex_t lock;
	struct e_lis lis[E_MAX_LIS];
	struct e_conn conn[E_MAX_CONNS];
	uint16_t port_ref[E_MAX_NODES][65536];
	int32_t port_pid[E_MAX_NODES][65536];
};

struct e_fab {
	char name[96];
	struct e_shm *shm;
	struct e_fab *next;
};

struct e_tok {
	uint64_t id;
	int sock;
	int ci;
	uint64_t gen;
	struct e_ep *lis;
	struct e_tok *next;
};

struct e_ep {
	int fd;
	int pid;
	int state;
	int refs;
	int closing;
	int blocking_connect;
	uint16_t node, port;
	struct e_fab *fab;
	int ci;
	uint64_t cgen;
	int side;
	int lidx;
	uint64_t deadline_ms;
	struct scif_port_id peer;
	int npending; /* queued DMA ops of this endpoint */
	pthread_mutex_t io;
};

/* a queued DMA operation */
struct e_op {
	struct e_op *next;
	int write;     /* 1: process_vm_writev to pid, 0: readv from pid */
	pid_t pid;
	int ln, rn;
	struct iovec liov[E_IOV], riov[E_IOV];
	uint64_t val;  /* signal value (liov points here) */
	struct e_ep *ep;
	uint64_t seq;  /* side sequence it completes, 0 = part of an op */
	uint64_t due_us;
};

/* ------------------------------------------------------------------ libc */
static int (*r_open)(const char *, int, ...);
static int (*r_openat)(int, const char *, int, ...);
static int (*r_close)(int);
static int (*r_ioctl)(int, unsigned long, ...);
static int (*r_poll)(struct pollfd *, nfds_t, int);
static int (*r_ppoll)(struct pollfd *, nfds_t, const struct timespec *,
                      const sigset_t *);
static void *(*r_mmap)(void *, size_t, int, int, int, off_t);

static void e_sym(void *fp, const char *name)
{
	void *s = dlsym(RTLD_NEXT, name);
	memcpy(fp, &s, sizeof s);
}

static pthread_once_t e_once = PTHREAD_ONCE_INIT;
static void e_atfork_prepare(void);
static void e_atfork_parent(void);
static void e_atfork_child(void);
static void e_init_syms(void)
{
	pthread_atfork(e_atfork_prepare, e_atfork_parent, e_atfork_child);
	e_sym(&r_open, "open");
	e_sym(&r_openat, "openat");
	e_sym(&r_close, "close");
	e_sym(&r_ioctl, "ioctl");
	e_sym(&r_poll, "poll");
	e_sym(&r_ppoll, "ppoll");
	e_sym(&r_mmap, "mmap");
#ifdef PR_SET_PTRACER
	prctl(PR_SET_PTRACER, PR_SET_PTRACER_ANY, 0, 0, 0);
#endif
}
static void e_init(void) { pthread_once(&e_once, e_init_syms); }

/* --------------------------------------------------------------- helpers */
/* copy_from_user / copy_to_user: a bad user pointer gives EFAULT, as in
 * the kernel, instead of a crash inside the emulator */
static int e_cin(void *dst, const void *src, size_t n)
{
	struct iovec l, r;
	l.iov_base = dst;
	l.iov_len = n;
	r.iov_base = (void *)(uintptr_t)src;
	r.iov_len = n;
	return process_vm_readv(getpid(), &l, 1, &r, 1, 0) == (ssize_t)n ? 0
	                                                                  : -EFAULT;
}
static int e_cout(void *dst, const void *src, size_t n)
{
	struct iovec l, r;
	l.iov_base = (void *)(uintptr_t)src;
	l.iov_len = n;
	r.iov_base = dst;
	r.iov_len = n;
	return process_vm_writev(getpid(), &l, 1, &r, 1, 0) == (ssize_t)n ? 0
	                                                                   : -EFAULT;
}
static uint64_t e_now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}
static uint64_t e_now_ms(void) { return e_now_us() / 1000u; }

static long e_env_long(const char *name, long dflt)
{
	const char *v = getenv(name);
	char *end;
	long x;
	if (!v || !*v)
		return dflt;
	x = strtol(v, &end, 10);
	return *end ? dflt : x;
}

/* ------------------------------------------------- fault injection
 * Knobs for fault trials (test/fault_trials.c), read once per process;
 * all off unless FABTX_SCIFEMU_FAULT_SEED is set (non-zero):
 *   FABTX_SCIFEMU_EAGAIN=P     SCIF_SEND / SCIF_RECV move nothing this
 *                              time (out_len 0: the ring is full/empty),
 *                              per mille: -EAGAIN storms
 *   FABTX_SCIFEMU_SHORT=P      SCIF_SEND takes only part of the bytes
 *   FABTX_SCIFEMU_FAIL_RMA=P   SCIF_(V)WRITETO fails (-ECONNRESET: the
 *                              write did not reach the peer)
 *   FABTX_SCIFEMU_VANISH_AFTER=N  this process dies (SIGKILL) at its N-th
 *                              emulated ioctl (a peer vanishing between
 *                              two operations)
 * Read at the first emulated ioctl of each process (a forked child reads
 * them again).  Decisions come from a per-process xorshift (seed and pid). */
static struct {
	int init, on;
	pid_t pid; /* read again in a forked child (its own knobs) */
	uint64_t rng;
	long eagain, shortw, fail_rma, vanish_after, ops;
	long fail_rma_hits; /* writes FAIL_RMA failed (fabtx_scifemu_...) */
} e_fault;

static void e_fault_init(void)
{
	long seed;
	if (e_fault.init && e_fault.pid == getpid())
		return;
	memset(&e_fault, 0, sizeof e_fault);
	e_fault.init = 1;
	e_fault.pid = getpid();
	seed = e_env_long("FABTX_SCIFEMU_FAULT_SEED", 0);
	if (!seed)
		return;
	e_fault.on = 1;
	e_fault.rng = (uint64_t)seed * 0x9e3779b97f4a7c15ull ^
	              ((uint64_t)getpid() << 17) ^ 0x5bd1e995u;
	e_fault.eagain = e_env_long("FABTX_SCIFEMU_EAGAIN", 0);
	e_fault.shortw = e_env_long("FABTX_SCIFEMU_SHORT", 0);
	e_fault.fail_rma = e_env_long("FABTX_SCIFEMU_FAIL_RMA", 0);
	e_fault.vanish_after = e_env_long("FABTX_SCIFEMU_VANISH_AFTER", 0);
}

static uint64_t e_fault_rnd(void)
{
	uint64_t x = e_fault.rng;
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return e_fault.rng = x;
}

static int e_fault_hit(long pm)
{
	if (!e_fault.on || pm <= 0)
		return 0;
	return (long)(e_fault_rnd() % 1000u) < pm;
}

static void e_nap_us(long us)
{
	struct timespec ts;
	ts.tv_sec = us / 1000000;
	ts.tv_nsec = (us % 1000000) * 1000;
	nanosleep(&ts, NULL);
}

static int e_pid_alive(int pid)
{
	return pid > 0 && (kill(pid, 0) == 0 || errno != ESRCH);
}

static int e_admin(void)
{
	long a = e_env_long("FABTX_SCIFEMU_ADMIN", -1);
	FILE *f;
	char line[256];
	int ok = 0;
	if (a >= 0)
		return a != 0;
	f = fopen("/proc/self/status", "r");
	if (!f)
		return 0;
	while (fgets(line, sizeof line, f))
		if (strncmp(line, "CapEff:", 7) == 0) {
			unsigned long long caps = strtoull(line + 7, NULL, 16);
			ok = (caps >> 21) & 1; /* CAP_SYS_ADMIN */
		}
	fclose(f);
	return ok;
}

/* DMA mode: 0 sync, -1 manual, > 0 delay in us */
static long e_dma_mode(void)
{
	const char *v = getenv("FABTX_SCIFEMU_DMA");
	if (!v || !*v || strcmp(v, "sync") == 0)
		return 0;
	if (strcmp(v, "manual") == 0)
		return -1;
	if (strncmp(v, "delay:", 6) == 0) {
		long d = strtol(v + 6, NULL, 10);
		return d > 0 ? d : 0;
	}
	return 0;
}

/* ---------------------------------------------------------- shared state */
static pthread_mutex_t e_mu = PTHREAD_MUTEX_INITIALIZER; /* process state */
static struct e_fab *e_fabs;
static struct e_ep *e_tab[E_MAX_FD];
static struct e_tok *e_toks;
static uint64_t e_tok_ctr;
static int e_blocked;

static void e_fab_path(const char *name, char *out, size_t cap)
{
	snprintf(out, cap, "/dev/shm/fabtx-scifemu-%s", name);
}

static const char *e_fab_name(void)
{
	const char *n = getenv("FABTX_SCIFEMU_FABRIC");
	return (n && *n) ? n : "default";
}

/* called with e_mu held */
static struct e_fab *e_fab_get(void)
{
	const char *name = e_fab_name();
	struct e_fab *f;
	char path[160];
	struct stat st;
	struct e_shm *shm;
	int fd;
	for (f = e_fabs; f; f = f->next)
		if (strcmp(f->name, name) == 0)
			return f;
	if (strlen(name) > 64 || strchr(name, '/'))
		return NULL; /* must fit an abstract socket name */
	e_fab_path(name, path, sizeof path);
	fd = r_open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return NULL;
	flock(fd, LOCK_EX);
	if (fstat(fd, &st) < 0 ||
	    ((size_t)st.st_size < sizeof *shm &&
	     ftruncate(fd, (off_t)sizeof *shm) < 0)) {
		r_close(fd);
		return NULL;
	}
	shm = (struct e_shm *)r_mmap(NULL, sizeof *shm, PROT_READ | PROT_WRITE,
	                             MAP_SHARED, fd, 0);
	if (shm == MAP_FAILED) {
		r_close(fd);
		return NULL;
	}
	if (shm->magic != E_MAGIC) {
		pthread_mutexattr_t ma;
		long nn = e_env_long("FABTX_SCIFEMU_NODES", 5);
		pthread_mutexattr_init(&ma);
		pthread_mutexattr_setpshared(&ma, PTHREAD_PROCESS_SHARED);
		pthread_mutexattr_setrobust(&ma, PTHREAD_MUTEX_ROBUST);
		pthread_mutex_init(&shm->lock, &ma);
		pthread_mutexattr_destroy(&ma);
		shm->nnodes = (uint32_t)(nn < 1 ? 1 : nn > E_MAX_NODES ? E_MAX_NODES
		                                                        : nn);
		shm->gen = 1;
		__atomic_store_n(&shm->magic, E_MAGIC, __ATOMIC_RELEASE);
	}
	flock(fd, LOCK_UN);
	r_close(fd);
	f = (struct e_fab *)calloc(1, sizeof *f);
	if (!f) {
		munmap(shm, sizeof *shm);
		return NULL;
	}
	strcpy(f->name, name);
	f->shm = shm;
	f->next = e_fabs;
	e_fabs = f;
	return f;
}

static void e_lock(struct e_fab *f)
{
	if (pthread_mutex_lock(&f->shm->lock) == EOWNERDEAD)
		pthread_mutex_consistent(&f->shm->lock);
}
static void e_unlock(struct e_fab *f) { pthread_mutex_unlock(&f->shm->lock); }

static struct e_conn *e_conn(struct e_ep *ep)
{
	struct e_conn *c;
	if (ep->ci < 0)
		return NULL;
	c = &ep->fab->shm->conn[ep->ci];
	return c->gen == ep->cgen ? c : NULL;
}
static struct e_side *e_me(struct e_ep *ep)
{
	struct e_conn *c = e_conn(ep);
	return c ? &c->side[ep->side] : NULL;
}
static struct e_side *e_peer(struct e_ep *ep)
{
	struct e_conn *c = e_conn(ep);
	return c ? &c->side[1 - ep->side] : NULL;
}
static int e_host_loopback(struct e_ep *ep)
{
	struct e_conn *c = e_conn(ep);
	return c && c->side[0].node == 0 && c->side[1].node == 0;
}

/* ports (lock held) */
static int e_port_free(struct e_shm *s, int node, int port)
{
	if (s->port_ref[node][port] == 0)
		return 1;
	if (!e_pid_alive(s->port_pid[node][port])) {
		s->port_ref[node][port] = 0;
		return 1;
	}
	return 0;
}
static void e_port_take(struct e_shm *s, int node, int port)
{
	s->port_ref[node][port] = 1;
	s->port_pid[node][port] = getpid();
}
static void e_port_put(struct e_shm *s, int node, int port)
{
	if (s->port_ref[node][port] > 0)
		s->port_ref[node][port]--;
}
static int e_port_auto(struct e_shm *s, int node)
{
	int p;
	for (p = 1089; p <= 65535; p++)
		if (e_port_free(s, node, p)) {
			e_port_take(s, node, p);
			return p;
		}
	return -ENOSPC;
}

/* connection records (lock held) */
static void e_conn_put(struct e_conn *c)
{
	if (--c->refs <= 0) {
		memset(c, 0, sizeof *c);
		c->state = CR_FREE;
	}
}

/* ----------------------------------------------------------- the fd table */
static struct e_ep *e_get(int fd)
{
	struct e_ep *ep = NULL;
	if (fd < 0 || fd >= E_MAX_FD)
		return NULL;
	pthread_mutex_lock(&e_mu);
	ep = e_tab[fd];
	if (ep)
		ep->refs++;
	pthread_mutex_unlock(&e_mu);
	return ep;
}
static void e_put(struct e_ep *ep)
{
	int last;
	pthread_mutex_lock(&e_mu);
	last = --ep->refs == 0;
	pthread_mutex_unlock(&e_mu);
	if (last) {
		pthread_mutex_destroy(&ep->io);
		free(ep);
	}
}
static int e_is_emu(int fd)
{
	int r;
	if (fd < 0 || fd >= E_MAX_FD)
		return 0;
	pthread_mutex_lock(&e_mu);
	r = e_tab[fd] != NULL;
	pthread_mutex_unlock(&e_mu);
	return r;
}

/* replace the socket behind fd by sock, keeping fd's O_NONBLOCK/CLOEXEC */
static int e_swap_sock(int fd, int sock)
{
	int fl = fcntl(fd, F_GETFL), fdfl = fcntl(fd, F_GETFD);
	if (dup2(sock, fd) < 0)
		return -errno;
	r_close(sock);
	fcntl(fd, F_SETFL, (fcntl(fd, F_GETFL) & ~O_NONBLOCK) | (fl & O_NONBLOCK));
	fcntl(fd, F_SETFD, fdfl);
	return 0;
}
static int e_fresh_sock(int fd)
{
	int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return -errno;
	return e_swap_sock(fd, s);
}

static socklen_t e_lis_addr(struct e_fab *f, int node, int port,
                            struct sockaddr_un *a)
{
	int n;
	memset(a, 0, sizeof *a);
	a->sun_family = AF_UNIX;
	snprintf(a->sun_path + 1, sizeof a->sun_path - 1, "fabtx-scifemu/%.64s/%d/%d",
	         f->name, node, port);
	n = (int)strlen(a->sun_path + 1);
	return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + (size_t)n);
}

static int e_open(int flags)
{
	struct e_ep *ep;
	struct e_fab *f;
	long node = e_env_long("FABTX_SCIFEMU_NODE", 0);
	int s;
	pthread_mutex_lock(&e_mu);
	f = e_fab_get();
	pthread_mutex_unlock(&e_mu);
	if (!f) {
		errno = ENODEV;
		return -1;
	}
	if (node < 0 || (uint32_t)node >= f->shm->nnodes) {
		errno = ENODEV;
		return -1;
	}
	s = socket(AF_UNIX, SOCK_STREAM | ((flags & O_CLOEXEC) ? SOCK_CLOEXEC : 0) |
	                        ((flags & O_NONBLOCK) ? SOCK_NONBLOCK : 0),
	           0);
	if (s < 0)
		return -1;
	if (s >= E_MAX_FD) {
		r_close(s);
		errno = EMFILE;
		return -1;
	}
	ep = (struct e_ep *)calloc(1, sizeof *ep);
	if (!ep) {
		r_close(s);
		errno = ENOMEM;
		return -1;
	}
	ep->fd = s;
	ep->pid = getpid();
	ep->state = ST_UNBOUND;
	ep->refs = 1;
	ep->node = (uint16_t)node;
	ep->fab = f;
	ep->ci = -1;
	ep->lidx = -1;
	pthread_mutex_init(&ep->io, NULL);
	pthread_mutex_lock(&e_mu);
	e_tab[s] = ep;
	pthread_mutex_unlock(&e_mu);
	return s;
}

/* -------------------------------------------------------- the DMA queue */
static pthread_mutex_t q_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t q_cv = PTHREAD_COND_INITIALIZER;
static struct e_op *q_head, *q_tail;
static int q_len;
static int q_thread_pid;

static int e_copy(int write, pid_t pid, const struct iovec *l, int ln,
                  const struct iovec *r, int rn)
{
	size_t want = 0;
	ssize_t n;
	int i;
	for (i = 0; i < ln; i++)
		want += l[i].iov_len;
	if (want == 0)
		return 0;
	n = write ? process_vm_writev(pid, l, (unsigned long)ln, r,
	                              (unsigned long)rn, 0)
	          : process_vm_readv(pid, l, (unsigned long)ln, r,
	                             (unsigned long)rn, 0);
	if (n < 0)
		return errno == ESRCH ? -ECONNRESET : errno == EPERM ? -EPERM
		                                                     : -EFAULT;
	return (size_t)n == want ? 0 : -EFAULT;
}

/* q_mu held: run the head op */
static void q_run_one(void)
{
	struct e_op *op = q_head;
	struct e_ep *ep;
	q_head = op->next;
	if (!q_head)
		q_tail = NULL;
	q_len--;
	e_copy(op->write, op->pid, op->liov, op->ln, op->riov, op->rn);
	ep = op->ep;
	if (--ep->npending == 0) {
		struct e_side *me = e_me(ep);
		if (me)
			__atomic_store_n(&me->done_upto,
			                 __atomic_load_n(&me->issued, __ATOMIC_ACQUIRE),
			                 __ATOMIC_RELEASE);
	} else if (op->seq) {
		struct e_side *me = e_me(ep);
		if (me)
			__atomic_store_n(&me->done_upto, op->seq, __ATOMIC_RELEASE);
	}
	e_put(ep);
	free(op);
	pthread_cond_broadcast(&q_cv);
}

static void q_drain(void)
{
	pthread_mutex_lock(&q_mu);
	while (q_head)
		q_run_one();
	pthread_mutex_unlock(&q_mu);
}

static void *q_thread(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&q_mu);
	for (;;) {
		uint64_t now;
		if (!q_head) {
			pthread_cond_wait(&q_cv, &q_mu);
			continue;
		}
		now = e_now_us();
		if (q_head->due_us > now) {
			struct timespec ts;
			uint64_t d = q_head->due_us - now;
			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_sec += (time_t)(d / 1000000u);
			ts.tv_nsec += (long)(d % 1000000u) * 1000;
			if (ts.tv_nsec >= 1000000000) {
				ts.tv_sec++;
				ts.tv_nsec -= 1000000000;
			}
			pthread_cond_timedwait(&q_cv, &q_mu, &ts);
			continue;
		}
		q_run_one();
	}
	return NULL;
}

/* queue an op (takes a ref on ep) */
static void q_push(struct e_op *op, long mode)
{
	pthread_mutex_lock(&q_mu);
	if (mode > 0 && q_thread_pid != getpid()) {
		pthread_t t;
		pthread_attr_t at;
		pthread_attr_init(&at);
		pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
		if (pthread_create(&t, &at, q_thread, NULL) == 0)
			q_thread_pid = getpid();
		pthread_attr_destroy(&at);
	}
	pthread_mutex_lock(&e_mu);
	op->ep->refs++;
	pthread_mutex_unlock(&e_mu);
	op->ep->npending++;
	op->due_us = e_now_us() + (uint64_t)(mode > 0 ? mode : 0);
	op->next = NULL;
	if (q_tail)
		q_tail->next = op;
	else
		q_head = op;
	q_tail = op;
	q_len++;
	pthread_cond_broadcast(&q_cv);
	pthread_mutex_unlock(&q_mu);
}

/* fork: no emulator lock may be held across it; the child gets an empty
 * DMA queue (the parent's in-flight RMAs are the parent's) */
static void e_atfork_prepare(void)
{
	pthread_mutex_lock(&q_mu);
	pthread_mutex_lock(&e_mu);
}
static void e_atfork_parent(void)
{
	pthread_mutex_unlock(&e_mu);
	pthread_mutex_unlock(&q_mu);
}
static void e_atfork_child(void)
{
	pthread_mutex_unlock(&e_mu);
	q_head = q_tail = NULL;
	q_len = 0;
	pthread_mutex_unlock(&q_mu);
}

int fabtx_scifemu_step(void)
{
	int r = 0;
	pthread_mutex_lock(&q_mu);
	if (q_head) {
		q_run_one();
		r = 1;
	}
	pthread_mutex_unlock(&q_mu);
	return r;
}
int fabtx_scifemu_pending(void)
{
	int r;
	pthread_mutex_lock(&q_mu);
	r = q_len;
	pthread_mutex_unlock(&q_mu);
	return r;
}
int fabtx_scifemu_blocked(void)
{
	return __atomic_load_n(&e_blocked, __ATOMIC_ACQUIRE);
}
long fabtx_scifemu_fail_rma_hits(void)
{
	return e_fault.init && e_fault.pid == getpid() ? e_fault.fail_rma_hits
	                                               : 0;
}

void fabtx_scifemu_unlink(const char *fabric)
{
	char path[160];
	e_fab_path(fabric ? fabric : e_fab_name(), path, sizeof path);
	unlink(path);
}

/* -------------------------------------------------------------- checks */
/* the connection check of spec §1.5 */
static int e_conn_check(struct e_ep *ep)
{
	struct e_side *p;
	if (ep->state != ST_CONNECTED)
		return -ENOTCONN;
	p = e_peer(ep);
	if (!p || __atomic_load_n(&p->closed, __ATOMIC_ACQUIRE) ||
	    !e_pid_alive(p->pid))
		return -ECONNRESET;
	return 0;
}

/* ---------------------------------------------------------- connection */
static int e_bind(struct e_ep *ep, int *pport)
{
	struct e_shm *s = ep->fab->shm;
	int port = *pport, r;
	if (port > 0 && port < 1024 && !e_admin())
		return -EACCES;
	if (ep->state == ST_BOUND)
		return -EINVAL;
	if (ep->state != ST_UNBOUND)
		return -EISCONN;
	if (port < 0 || port > 65535)
		return -EINVAL;
	e_lock(ep->fab);
	if (port == 0) {
		r = e_port_auto(s, ep->node);
	} else if (!e_port_free(s, ep->node, port)) {
		r = -EINVAL;
	} else {
		e_port_take(s, ep->node, port);
		r = port;
	}
	e_unlock(ep->fab);
	if (r < 0)
		return r;
	ep->port = (uint16_t)r;
	ep->state = ST_BOUND;
	*pport = r;
	return 0;
}

static int e_listen(struct e_ep *ep, int backlog)
{
	struct e_shm *s = ep->fab->shm;
	struct sockaddr_un a;
	socklen_t al;
	int i, li = -1;
	if (ep->state == ST_UNBOUND)
		return -EINVAL;
	if (ep->state == ST_CONNECTED && e_conn_check(ep) == -ECONNRESET)
		return -EINVAL; /* DISCONNECTED */
	if (ep->state != ST_BOUND)
		return -EISCONN;
	al = e_lis_addr(ep->fab, ep->node, ep->port, &a);
	if (bind(ep->fd, (struct sockaddr *)&a, al) < 0 ||
	    listen(ep->fd, 4096) < 0)
		return -ENOMEM;
	fcntl(ep->fd, F_SETFL, fcntl(ep->fd, F_GETFL) | O_NONBLOCK);
	e_lock(ep->fab);
	for (i = 0; i < E_MAX_LIS; i++)
		if (!s->lis[i].used || !e_pid_alive(s->lis[i].pid)) {
			li = i;
			break;
		}
	if (li >= 0) {
		s->lis[li].used = 1;
		s->lis[li].node = ep->node;
		s->lis[li].port = ep->port;
		s->lis[li].backlog = backlog;
		s->lis[li].pending = 0;
		s->lis[li].pid = getpid();
	}
	e_unlock(ep->fab);
	if (li < 0)
		return -ENOMEM;
	ep->lidx = li;
	ep->state = ST_LISTENING;
	return 0;
}

struct e_req {
	uint32_t ci;
	uint32_t pad;
	uint64_t gen;
};

/* give up a pending connect: back to BOUND with a fresh socket */
static void e_connect_cancel(struct e_ep *ep)
{
	struct e_shm *s = ep->fab->shm;
	struct e_conn *c;
	e_lock(ep->fab);
	c = e_conn(ep);
	if (c) {
		if (c->state == CR_REQ && c->lidx >= 0 &&
		    s->lis[c->lidx].pending > 0)
			s->lis[c->lidx].pending--;
		c->side[0].closed = 1;
		e_conn_put(c);
	}
	e_unlock(ep->fab);
	ep->ci = -1;
	ep->state = ST_BOUND;
	e_fresh_sock(ep->fd);
}

/* non-blocking completion check of a connect in progress */
static int e_connect_poll(struct e_ep *ep, struct scifioctl_connect *cc)
{
	struct pollfd p;
	struct e_conn *c;
	char g;
	ssize_t n;
	p.fd = ep->fd;
	p.events = POLLIN;
	p.revents = 0;
	if (r_poll(&p, 1, 0) > 0) {
		n = recv(ep->fd, &g, 1, MSG_DONTWAIT);
		if (n == 1 && g == 'G') {
			e_lock(ep->fab);
			c = e_conn(ep);
			n = c && c->state == CR_CONN;
			e_unlock(ep->fab);
			if (n) {
				ep->state = ST_CONNECTED;
				cc->self.node = ep->node;
				cc->self.port = ep->port;
				return 0;
			}
		}
		if (n < 0 && errno == EAGAIN)
			return -EINPROGRESS;
		e_connect_cancel(ep);
		return -ECONNREFUSED;
	}
	if (e_now_ms() >= ep->deadline_ms) {
		int granted;
		e_lock(ep->fab);
		c = e_conn(ep);
		granted = c && c->state == CR_CONN;
		e_unlock(ep->fab);
		if (!granted) {
			e_connect_cancel(ep);
			return -ECONNREFUSED;
		}
	}
	return -EINPROGRESS;
}

static int e_connect(struct e_ep *ep, struct scifioctl_connect *cc)
{
	struct e_shm *s = ep->fab->shm;
	struct sockaddr_un a;
	struct e_req req;
	socklen_t al;
	int i, li = -1, ci = -1, r;
	long tmo;
	if (ep->state == ST_CONNECTING) {
		if (ep->blocking_connect)
			return -EISCONN;
		return e_connect_poll(ep, cc);
	}
	if (ep->state == ST_LISTENING)
		return -EOPNOTSUPP;
	if (ep->state == ST_CONNECTED)
		return -EISCONN;
	if (cc->peer.node >= s->nnodes)
		return -ENODEV;
	if (ep->state == ST_UNBOUND) {
		e_lock(ep->fab);
		r = e_port_auto(s, ep->node);
		e_unlock(ep->fab);
		if (r < 0)
			return r;
		ep->port = (uint16_t)r;
		ep->state = ST_BOUND;
	}
	e_lock(ep->fab);
	for (i = 0; i < E_MAX_LIS; i++)
		if (s->lis[i].used && s->lis[i].node == cc->peer.node &&
		    s->lis[i].port == cc->peer.port &&
		    e_pid_alive(s->lis[i].pid)) {
			li = i;
			break;
		}
	if (li >= 0 && s->lis[li].pending < s->lis[li].backlog) {
		for (i = 0; i < E_MAX_CONNS; i++)
			if (s->conn[i].state == CR_FREE) {
				ci = i;
				break;
			}
	}
	if (ci >= 0) {
		struct e_conn *c = &s->conn[ci];
		memset(c, 0, sizeof *c);
		c->state = CR_REQ;
		c->refs = 1;
		c->gen = ++s->gen;
		c->lidx = li;
		c->side[0].pid = getpid();
		c->side[0].node = ep->node;
		c->side[0].port = ep->port;
		c->side[1].node = cc->peer.node;
		c->side[1].port = cc->peer.port;
		c->side[0].issued = c->side[0].done_upto = 1;
		c->side[1].issued = c->side[1].done_upto = 1;
		s->lis[li].pending++;
		ep->ci = ci;
		ep->cgen = c->gen;
		ep->side = 0;
	}
	e_unlock(ep->fab);
	if (ci < 0)
		return -ECONNREFUSED;
	ep->state = ST_CONNECTING;
	ep->peer = cc->peer;
	al = e_lis_addr(ep->fab, cc->peer.node, cc->peer.port, &a);
	req.ci = (uint32_t)ci;
	req.pad = 0;
	req.gen = ep->cgen;
	if (connect(ep->fd, (struct sockaddr *)&a, al) < 0 ||
	    send(ep->fd, &req, sizeof req, MSG_NOSIGNAL) != (ssize_t)sizeof req) {
		e_connect_cancel(ep);
		return -ECONNREFUSED;
	}
	tmo = e_env_long("FABTX_SCIFEMU_CONNECT_TIMEOUT_MS", 30000);
	ep->deadline_ms = e_now_ms() + (uint64_t)(tmo < 0 ? 0 : tmo);
	if (fcntl(ep->fd, F_GETFL) & O_NONBLOCK)
		return -EINPROGRESS;
	ep->blocking_connect = 1;
	__atomic_add_fetch(&e_blocked, 1, __ATOMIC_ACQ_REL);
	for (;;) {
		struct pollfd p;
		r = e_connect_poll(ep, cc);
		if (r != -EINPROGRESS)
			break;
		p.fd = ep->fd;
		p.events = POLLIN;
		p.revents = 0;
		r_poll(&p, 1, 20);
	}
	__atomic_sub_fetch(&e_blocked, 1, __ATOMIC_ACQ_REL);
	ep->blocking_connect = 0;
	return r;
}

static int e_acceptreq(struct e_ep *ep, struct scifioctl_accept *acc)
{
	struct e_shm *s = ep->fab->shm;
	int sync = acc->flags & E_ACCEPT_SYNC;
	if (acc->flags & ~E_ACCEPT_SYNC)
		return -EINVAL;
	if (ep->state != ST_LISTENING)
		return -EINVAL;
	for (;;) {
		struct e_req req;
		struct pollfd p;
		struct e_conn *c;
		struct e_tok *t;
		int sock, ok = 0;
		if (__atomic_load_n(&ep->closing, __ATOMIC_ACQUIRE))
			return -EINTR;
		sock = accept4(ep->fd, NULL, NULL, SOCK_CLOEXEC);
		if (sock < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK &&
			    errno != ECONNABORTED && errno != EINTR)
				return -EINTR; /* listener shut down */
			if (!sync)
				return -EAGAIN;
			p.fd = ep->fd;
			p.events = POLLIN;
			p.revents = 0;
			__atomic_add_fetch(&e_blocked, 1, __ATOMIC_ACQ_REL);
			if (r_poll(&p, 1, 20) < 0 && errno == EINTR) {
				__atomic_sub_fetch(&e_blocked, 1, __ATOMIC_ACQ_REL);
				return -EINTR;
			}
			__atomic_sub_fetch(&e_blocked, 1, __ATOMIC_ACQ_REL);
			continue;
		}
		p.fd = sock;
		p.events = POLLIN;
		p.revents = 0;
		if (r_poll(&p, 1, 2000) == 1 &&
		    recv(sock, &req, sizeof req, MSG_WAITALL) == (ssize_t)sizeof req &&
		    req.ci < E_MAX_CONNS) {
			e_lock(ep->fab);
			c = &s->conn[req.ci];
			if (c->state == CR_REQ && c->gen == req.gen) {
				c->state = CR_CONN;
				c->refs++;
				c->side[1].pid = getpid();
				c->side[1].node = ep->node;
				c->side[1].port = ep->port;
				s->port_ref[ep->node][ep->port]++;
				if (s->lis[ep->lidx].pending > 0)
					s->lis[ep->lidx].pending--;
				acc->peer.node = c->side[0].node;
				acc->peer.port = c->side[0].port;
				ok = 1;
			}
			e_unlock(ep->fab);
		}
		if (ok && send(sock, "G", 1, MSG_NOSIGNAL) != 1)
			ok = 0; /* connector vanished: treat as declined */
		if (!ok) {
			r_close(sock);
			if (!sync)
				return -EAGAIN;
			continue;
		}
		t = (struct e_tok *)calloc(1, sizeof *t);
		if (!t) {
			r_close(sock);
			return -ENOMEM;
		}
		pthread_mutex_lock(&e_mu);
		t->id = 0x5c1f000000000000ull ^ ((uint64_t)getpid() << 24) ^
		        ++e_tok_ctr;
		t->sock = sock;
		t->ci = (int)req.ci;
		t->gen = req.gen;
		t->lis = ep;
		t->next = e_toks;
		e_toks = t;
		pthread_mutex_unlock(&e_mu);
		acc->endpt = t->id;
		return 0;
	}
}

static void e_ep_release(struct e_ep *ep); /* tear down, keep the fd */

static int e_acceptreg(struct e_ep *ep, uint64_t *tok)
{
	struct e_tok **pp, *t = NULL;
	uint64_t id;
	if (e_cin(&id, tok, sizeof id) < 0)
		return -EFAULT;
	pthread_mutex_lock(&e_mu);
	for (pp = &e_toks; *pp; pp = &(*pp)->next)
		if ((*pp)->id == id) {
			t = *pp;
			*pp = t->next;
			break;
		}
	pthread_mutex_unlock(&e_mu);
	if (!t)
		return -ENOENT;
	e_ep_release(ep); /* the fd's own endpoint is discarded */
	e_swap_sock(ep->fd, t->sock);
	ep->fab = t->lis->fab;
	ep->ci = t->ci;
	ep->cgen = t->gen;
	ep->side = 1;
	ep->node = t->lis->node;
	ep->port = t->lis->port;
	ep->state = ST_CONNECTED;
	free(t);
	return 0;
}

/* ------------------------------------------------------------ messaging */
static int e_send(struct e_ep *ep, struct scifioctl_msg *m)
{
	struct e_side *me;
	const char *buf = (const char *)(uintptr_t)m->msg;
	int got = 0, r;
	if (m->len < 0 || (m->flags && !(m->flags & E_SEND_BLOCK)))
		return -EINVAL;
	if (m->len == 0) {
		m->out_len = 0;
		return 0;
	}
	if ((r = e_conn_check(ep)) < 0)
		return r;
	me = e_me(ep);
	pthread_mutex_lock(&ep->io);
	while (got < m->len) {
		uint64_t used = __atomic_load_n(&me->sent, __ATOMIC_ACQUIRE) -
		                __atomic_load_n(&me->consumed, __ATOMIC_ACQUIRE);
		size_t space = used >= E_RING ? 0 : (size_t)(E_RING - used);
		size_t want = (size_t)(m->len - got);
		ssize_t n = 0;
		if (want > space)
			want = space;
		if (want) {
			n = send(ep->fd, buf + got, want, MSG_DONTWAIT | MSG_NOSIGNAL);
			if (n < 0 && errno != EAGAIN) {
				r = errno == EFAULT ? -EFAULT : -ECONNRESET;
				break;
			}
			if (n > 0) {
				__atomic_add_fetch(&me->sent, (uint64_t)n, __ATOMIC_ACQ_REL);
				got += (int)n;
			}
		}
		if (got == m->len || !(m->flags & E_SEND_BLOCK))
			break;
		if (n <= 0) {
			struct pollfd p;
			if ((r = e_conn_check(ep)) < 0)
				break;
			p.fd = ep->fd;
			p.events = 0;
			p.revents = 0;
			if (r_poll(&p, 1, 1) < 0 && errno == EINTR) {
				r = -EINTR;
				break;
			}
			if (p.revents & (POLLHUP | POLLERR)) {
				r = -ECONNRESET;
				break;
			}
		}
	}
	pthread_mutex_unlock(&ep->io);
	if (got == 0 && r < 0)
		return r;
	m->out_len = got;
	return 0;
}

static int e_recv(struct e_ep *ep, struct scifioctl_msg *m)
{
	struct e_side *peer;
	char *buf = (char *)(uintptr_t)m->msg;
	int got = 0, r = 0;
	if (m->len < 0 || (m->flags && !(m->flags & E_SEND_BLOCK)))
		return -EINVAL;
	if (m->len == 0) {
		m->out_len = 0;
		return 0;
	}
	if (ep->state != ST_CONNECTED)
		return -ENOTCONN;
	peer = e_peer(ep);
	if (!peer)
		return -ECONNRESET;
	pthread_mutex_lock(&ep->io);
	while (got < m->len) {
		ssize_t n = recv(ep->fd, buf + got, (size_t)(m->len - got),
		                 MSG_DONTWAIT);
		if (n > 0) {
			__atomic_add_fetch(&peer->consumed, (uint64_t)n,
			                   __ATOMIC_ACQ_REL);
			got += (int)n;
			continue;
		}
		if (n < 0 && errno == EFAULT) {
			r = -EFAULT;
			break;
		}
		if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK)) {
			r = -ECONNRESET; /* peer closed and the ring is empty */
			break;
		}
		if (!(m->flags & E_SEND_BLOCK))
			break;
		{
			struct pollfd p;
			p.fd = ep->fd;
			p.events = POLLIN;
			p.revents = 0;
			if (r_poll(&p, 1, -1) < 0 && errno == EINTR) {
				r = -EINTR;
				break;
			}
		}
	}
	pthread_mutex_unlock(&ep->io);
	if (got == 0 && r < 0)
		return r;
	m->out_len = got;
	return 0;
}

/* ------------------------------------------------------ registration */
static int e_overlap(int64_t a, uint64_t al, int64_t b, uint64_t bl)
{
	return a < b + (int64_t)bl && b < a + (int64_t)al;
}

static int e_mapped(uint64_t addr, uint64_t len)
{
	size_t pages = (size_t)(len / E_PAGE);
	unsigned char *v = (unsigned char *)malloc(pages ? pages : 1);
	int r;
	if (!v)
		return -ENOMEM;
	r = mincore((void *)(uintptr_t)addr, (size_t)len, v);
	free(v);
	return r < 0 ? -EFAULT : 0;
}

static int e_reg(struct e_ep *ep, struct scifioctl_reg *rg)
{
	struct e_side *me;
	int64_t off;
	int i, slot = -1, r, changed;
	if (rg->flags & ~E_MAP_FIXED)
		return -EINVAL;
	if ((rg->addr % E_PAGE) || (rg->len % E_PAGE) || rg->len == 0 ||
	    rg->len > (uint64_t)INT64_MAX)
		return -EINVAL;
	if (rg->prot & ~(E_PROT_READ | E_PROT_WRITE))
		return -EINVAL;
	if ((rg->flags & E_MAP_FIXED) &&
	    (rg->offset < 0 || ((uint64_t)rg->offset % E_PAGE) ||
	     rg->offset > INT64_MAX - (int64_t)rg->len))
		return -EINVAL;
	if ((r = e_conn_check(ep)) < 0)
		return r;
	if ((r = e_mapped(rg->addr, rg->len)) < 0)
		return r;
	e_lock(ep->fab);
	me = e_me(ep);
	if (!me) {
		e_unlock(ep->fab);
		return -ENOTCONN;
	}
	for (i = 0; i < E_MAX_WINS; i++)
		if (!me->win[i].used) {
			slot = i;
			break;
		}
	if (rg->flags & E_MAP_FIXED) {
		off = rg->offset;
		for (i = 0; i < E_MAX_WINS; i++)
			if (me->win[i].used &&
			    e_overlap(off, rg->len, me->win[i].off, me->win[i].len)) {
				e_unlock(ep->fab);
				return -EADDRINUSE;
			}
	} else {
		off = (int64_t)(1ull << 46) - (int64_t)rg->len; /* top down */
		do {
			changed = 0;
			for (i = 0; i < E_MAX_WINS && off >= 0; i++)
				if (me->win[i].used &&
				    e_overlap(off, rg->len, me->win[i].off,
				              me->win[i].len)) {
					off = me->win[i].off - (int64_t)rg->len;
					changed = 1;
				}
		} while (changed && off >= 0);
		if (off < 0)
			slot = -1;
	}
	if (slot < 0) {
		e_unlock(ep->fab);
		return -ENOMEM;
	}
	me->win[slot].off = off;
	me->win[slot].len = rg->len;
	me->win[slot].addr = rg->addr;
	me->win[slot].prot = rg->prot;
	me->win[slot].used = 1;
	me->win[slot].pid = getpid();
	e_unlock(ep->fab);
	rg->out_offset = off;
	return 0;
}

static int e_unreg(struct e_ep *ep, struct scifioctl_unreg *u)
{
	struct e_side *me;
	int64_t pos, end;
	int i, r, idx[E_MAX_WINS], n = 0;
	if (u->len == 0 || (u->len % E_PAGE) || u->len > (uint64_t)INT64_MAX)
		return -EINVAL;
	if (u->offset < 0 || ((uint64_t)u->offset % E_PAGE) ||
	    u->offset > INT64_MAX - (int64_t)u->len)
		return -EINVAL;
	if ((r = e_conn_check(ep)) < 0)
		return r;
	e_lock(ep->fab);
	me = e_me(ep);
	pos = u->offset;
	end = u->offset + (int64_t)u->len;
	while (me && pos < end) {
		for (i = 0; i < E_MAX_WINS; i++)
			if (me->win[i].used && me->win[i].off == pos)
				break;
		if (i == E_MAX_WINS || me->win[i].off + (int64_t)me->win[i].len > end) {
			e_unlock(ep->fab);
			return -ENXIO;
		}
		idx[n++] = i;
		pos += (int64_t)me->win[i].len;
	}
	for (i = 0; i < n; i++)
		me->win[idx[i]].used = 0;
	e_unlock(ep->fab);
	return me ? 0 : -ENOTCONN;
}

/* Resolve [off, off+len) of a side's RAS into iovecs.  Lock held. */
static int e_resolve(struct e_side *sd, int64_t off, uint64_t len, int prot,
                     struct iovec *iov, int max, pid_t *pid)
{
	int64_t pos = off;
	uint64_t left = len;
	int n = 0, i, perm = 0;
	if (off < 0 || len > (uint64_t)INT64_MAX - (uint64_t)off)
		return -ENXIO;
	while (left) {
		struct e_win *w = NULL;
		uint64_t take;
		for (i = 0; i < E_MAX_WINS; i++)
			if (sd->win[i].used && sd->win[i].off <= pos &&
			    pos < sd->win[i].off + (int64_t)sd->win[i].len) {
				w = &sd->win[i];
				break;
			}
		if (!w || n == max)
			return -ENXIO;
		if ((w->prot & prot) != prot)
			perm = 1;
		if (n == 0 && pid)
			*pid = w->pid;
		else if (pid && *pid != w->pid)
			return -ENXIO; /* windows of two processes: unsupported */
		take = (uint64_t)(w->off + (int64_t)w->len - pos);
		if (take > left)
			take = left;
		iov[n].iov_base = (void *)(uintptr_t)(w->addr + (uint64_t)(pos - w->off));
		iov[n].iov_len = (size_t)take;
		n++;
		pos += (int64_t)take;
		left -= take;
	}
	return perm ? -EPERM : n;
}

/* A synchronous copy into (or out of) a window of the connection.  The
 * kernel pins registered pages, and a peer's close waits for the RMAs in
 * flight (spec §10), so a peer that closes and exits while our copy runs
 * never turns it into EFAULT: the copy lands or the connection check says
 * ECONNRESET.  The emulator cannot pin another process's pages; when a copy
 * faults, it asks again whether the peer has gone (closed, dead, or its
 * address space already torn down by exit: process_vm_* then gives ESRCH)
 * and reports that instead.  A fault with the peer still there stays
 * EFAULT (e.g. a peer that unmapped memory it had registered). */
static int e_copy_peer(struct e_ep *ep, int write, pid_t pid,
                       const struct iovec *l, int ln, const struct iovec *r,
                       int rn)
{
	int rc = e_copy(write, pid, l, ln, r, rn);
	if (rc == -EFAULT && rn > 0) {
		char b;
		struct iovec lb, rb;
		lb.iov_base = &b;
		lb.iov_len = 1;
		rb.iov_base = r[0].iov_base;
		rb.iov_len = 1;
		if (e_conn_check(ep) < 0 ||
		    (pid != getpid() &&
		     process_vm_readv(pid, &lb, 1, &rb, 1, 0) < 0 && errno == ESRCH))
			rc = -ECONNRESET;
	}
	return rc;
}

/* Take [skip, skip+len) of an iovec list. */
static int e_slice(const struct iovec *in, int n, size_t skip, size_t len,
                   struct iovec *out)
{
	int i, k = 0;
	for (i = 0; i < n && len; i++) {
		size_t l = in[i].iov_len;
		if (skip >= l) {
			skip -= l;
			continue;
		}
		out[k].iov_base = (char *)in[i].iov_base + skip;
		out[k].iov_len = l - skip < len ? l - skip : len;
		len -= out[k].iov_len;
		skip = 0;
		k++;
	}
	return k;
}

/* queue or run part [skip, skip+len) of a copy */
static int e_part(struct e_ep *ep, int write, pid_t pid, const struct iovec *l,
                  int ln, const struct iovec *r, int rn, size_t skip,
                  size_t len, int queue, long mode, uint64_t seq)
{
	struct e_op *op;
	struct iovec ls[E_IOV], rs[E_IOV];
	int a, b;
	if (!len)
		return 0;
	a = e_slice(l, ln, skip, len, ls);
	b = e_slice(r, rn, skip, len, rs);
	if (!queue)
		return e_copy_peer(ep, write, pid, ls, a, rs, b);
	op = (struct e_op *)calloc(1, sizeof *op);
	if (!op)
		return -ENOMEM;
	op->write = write;
	op->pid = pid;
	op->ln = a;
	op->rn = b;
	memcpy(op->liov, ls, sizeof(struct iovec) * (size_t)a);
	memcpy(op->riov, rs, sizeof(struct iovec) * (size_t)b);
	op->ep = ep;
	op->seq = seq;
	q_push(op, mode);
	return 0;
}

static void e_mark_done(struct e_ep *ep, struct e_side *me, uint64_t seq)
{
	if (ep->npending == 0)
		__atomic_store_n(&me->done_upto, seq, __ATOMIC_RELEASE);
}

static int e_rma(struct e_ep *ep, unsigned long cmd, struct scifioctl_copy *cp)
{
	struct iovec l[E_IOV], r[E_IOV];
	struct e_side *me, *peer;
	int ln, rn, write = cmd == SCIF_WRITETO || cmd == SCIF_VWRITETO;
	int virt = cmd == SCIF_VWRITETO || cmd == SCIF_VREADFROM;
	int rc, async;
	long mode;
	pid_t pid = 0;
	uint64_t seq, lalign;
	if ((rc = e_conn_check(ep)) < 0)
		return rc;
	if (cp->flags && !(cp->flags & (E_RMA_USECPU | E_RMA_USECACHE |
	                                E_RMA_SYNC | E_RMA_ORDERED)))
		return -EINVAL;
	if (cp->len == 0)
		return -EINVAL;
	e_lock(ep->fab);
	me = e_me(ep);
	peer = e_peer(ep);
	if (!me || !peer || peer->closed) { /* closed since the check */
		e_unlock(ep->fab);
		return -ECONNRESET;
	}
	rn = e_resolve(peer, cp->roffset, cp->len,
	               write ? E_PROT_WRITE : E_PROT_READ, r, E_IOV, &pid);
	if (virt) {
		l[0].iov_base = (void *)(uintptr_t)cp->addr;
		l[0].iov_len = (size_t)cp->len;
		ln = 1;
		lalign = cp->addr % 64;
	} else {
		pid_t lpid = 0;
		ln = e_resolve(me, cp->loffset, cp->len,
		               write ? E_PROT_READ : E_PROT_WRITE, l, E_IOV, &lpid);
		if (ln > 0 && lpid != getpid())
			ln = -ENXIO; /* a window of another process */
		lalign = (uint64_t)cp->loffset % 64;
	}
	seq = __atomic_add_fetch(&me->issued, 1, __ATOMIC_ACQ_REL);
	e_unlock(ep->fab);
	if (rn == -ENXIO || ln == -ENXIO)
		return -ENXIO;
	if (rn < 0 || ln < 0)
		return rn < 0 ? rn : ln;
	mode = e_dma_mode();
	async = mode != 0 && !(cp->flags & (E_RMA_SYNC | E_RMA_USECPU)) &&
	        !e_host_loopback(ep);
	if (!async) {
		if (cp->flags & E_RMA_SYNC)
			q_drain(); /* SYNC drains the endpoint's channel */
		rc = e_copy_peer(ep, write, pid, l, ln, r, rn);
		e_mark_done(ep, me, seq);
		return rc;
	}
	if (lalign == (uint64_t)cp->roffset % 64) {
		/* X100: partial head/tail cache lines by CPU in the call,
		 * the aligned middle by DMA; ORDERED defers the tail */
		size_t len = (size_t)cp->len;
		size_t head = (size_t)((64 - (uint64_t)cp->roffset % 64) % 64);
		size_t tail;
		if (head > len)
			head = len;
		tail = (size_t)(((uint64_t)cp->roffset + len) % 64);
		if (head + tail > len)
			tail = len - head;
		if ((rc = e_part(ep, write, pid, l, ln, r, rn, 0, head, 0, mode,
		                 0)) < 0)
			return rc;
		if (!(cp->flags & E_RMA_ORDERED)) {
			if ((rc = e_part(ep, write, pid, l, ln, r, rn, len - tail,
			                 tail, 0, mode, 0)) < 0)
				return rc;
			tail = 0;
		}
		if (len - head - tail == 0 && tail == 0) {
			e_mark_done(ep, me, seq);
			return 0;
		}
		if (tail == 0)
			return e_part(ep, write, pid, l, ln, r, rn, head,
			              len - head, 1, mode, seq);
		if ((rc = e_part(ep, write, pid, l, ln, r, rn, head,
		                 len - head - tail, 1, mode, 0)) < 0)
			return rc;
		return e_part(ep, write, pid, l, ln, r, rn, len - tail, tail, 1,
		              mode, seq);
	}
	if (!write) { /* misaligned remote->local waits internally */
		q_drain();
		rc = e_copy_peer(ep, write, pid, l, ln, r, rn);
		e_mark_done(ep, me, seq);
		return rc;
	}
	return e_part(ep, write, pid, l, ln, r, rn, 0, (size_t)cp->len, 1, mode,
	              seq);
}

/* -------------------------------------------------------------- fences */
static int e_fence_mark(struct e_ep *ep, struct scifioctl_fence_mark *fm)
{
	struct e_side *sd;
	int r, mark;
	if ((r = e_conn_check(ep)) < 0)
		return r;
	if (fm->flags != E_FENCE_INIT_SELF && fm->flags != E_FENCE_INIT_PEER)
		return -EINVAL;
	if (e_host_loopback(ep)) {
		mark = E_LOOPBACK_MARK;
	} else if (fm->flags == E_FENCE_INIT_SELF) {
		sd = e_me(ep);
		mark = (int)(__atomic_load_n(&sd->issued, __ATOMIC_ACQUIRE) &
		             0x7fffffff);
	} else {
		sd = e_peer(ep);
		mark = (int)((__atomic_load_n(&sd->issued, __ATOMIC_ACQUIRE) &
		              0x7fffffff) |
		             E_REMOTE_FENCE);
	}
	return e_cout((void *)(uintptr_t)fm->mark, &mark, sizeof mark);
}

static int e_wait_side(struct e_side *sd, uint64_t upto)
{
	long tmo = e_env_long("FABTX_SCIFEMU_FENCE_TIMEOUT_MS", 30000);
	uint64_t end = e_now_ms() + (uint64_t)(tmo < 0 ? 0 : tmo);
	while ((__atomic_load_n(&sd->done_upto, __ATOMIC_ACQUIRE) & 0x7fffffff) <
	       upto) {
		if (e_now_ms() >= end)
			return -ETIMEDOUT;
		e_nap_us(50);
	}
	return 0;
}

static int e_fence_wait(struct e_ep *ep, int mark)
{
	int r;
	if ((r = e_conn_check(ep)) < 0)
		return r;
	if (e_host_loopback(ep))
		return mark == E_LOOPBACK_MARK ? 0 : -EINVAL;
	if ((unsigned)mark & E_REMOTE_FENCE)
		return e_wait_side(e_peer(ep), (unsigned)mark & 0x7fffffff);
	q_drain();
	return e_wait_side(e_me(ep), (unsigned)mark & 0x7fffffff);
}

static int e_fence_signal(struct e_ep *ep, struct scifioctl_fence_signal *fs)
{
	struct iovec iv[E_IOV], src;
	struct e_side *me, *peer;
	pid_t wpid = 0;
	int r, n, peer_init, loop;
	long mode;
	uint64_t seq;
	unsigned f = (unsigned)fs->flags;
	if ((r = e_conn_check(ep)) < 0)
		return r;
	if ((f & ~(unsigned)(E_FENCE_INIT_SELF | E_FENCE_INIT_PEER |
	                     E_SIGNAL_LOCAL | E_SIGNAL_REMOTE)) ||
	    ((f & E_FENCE_INIT_SELF) != 0) == ((f & E_FENCE_INIT_PEER) != 0) ||
	    !(f & (E_SIGNAL_LOCAL | E_SIGNAL_REMOTE)) ||
	    ((f & E_SIGNAL_LOCAL) && (fs->loff % 4)) ||
	    ((f & E_SIGNAL_REMOTE) && (fs->roff % 4)))
		return -EINVAL;
	peer_init = (f & E_FENCE_INIT_PEER) != 0;
	me = e_me(ep);
	peer = e_peer(ep);
	loop = e_host_loopback(ep);
	mode = e_dma_mode();
	if (peer_init && !loop) {
		/* the peer queues the write behind its own RMAs */
		r = e_wait_side(peer, __atomic_load_n(&peer->issued,
		                                      __ATOMIC_ACQUIRE) & 0x7fffffff);
		if (r < 0)
			return r;
	}
	if (f & E_SIGNAL_LOCAL) {
		/* INIT_PEER quirk (spec §7): the peer writes rval at roff in
		 * its own RAS */
		struct e_side *sd = peer_init ? peer : me;
		int64_t off = peer_init ? fs->roff : fs->loff;
		src.iov_base = peer_init ? &fs->rval : &fs->lval;
		src.iov_len = 8;
		e_lock(ep->fab);
		n = peer->closed ? -ECONNRESET
		                 : e_resolve(sd, off, 8, E_PROT_WRITE, iv, 1, &wpid);
		e_unlock(ep->fab);
		if (n < 0)
			return peer_init ? -ENXIO : n;
		if (peer_init || loop || mode == 0 || ep->npending == 0) {
			if (!peer_init && mode != 0)
				q_drain();
			if ((r = e_copy_peer(ep, 1, wpid, &src, 1, iv, n)) < 0)
				return r;
		} else {
			struct e_op *op = (struct e_op *)calloc(1, sizeof *op);
			if (!op)
				return -ENOMEM;
			op->write = 1;
			op->pid = wpid;
			op->val = fs->lval;
			op->liov[0].iov_base = &op->val;
			op->liov[0].iov_len = 8;
			op->ln = 1;
			memcpy(op->riov, iv, sizeof(struct iovec) * (size_t)n);
			op->rn = n;
			op->ep = ep;
			q_push(op, mode);
		}
	}
	if (f & E_SIGNAL_REMOTE) {
		struct e_side *sd = peer_init ? me : peer;
		int64_t off = peer_init ? fs->loff : fs->roff;
		src.iov_base = peer_init ? &fs->lval : &fs->rval;
		src.iov_len = 8;
		e_lock(ep->fab);
		n = peer->closed ? -ECONNRESET
		                 : e_resolve(sd, off, 8, E_PROT_WRITE, iv, 1, &wpid);
		e_unlock(ep->fab);
		if (n < 0)
			return peer_init ? -ENXIO : n;
		if (peer_init || loop || mode == 0 || ep->npending == 0) {
			if ((r = e_copy_peer(ep, 1, wpid, &src, 1, iv, n)) < 0)
				return r;
		} else {
			struct e_op *op = (struct e_op *)calloc(1, sizeof *op);
			if (!op)
				return -ENOMEM;
			op->write = 1;
			op->pid = wpid;
			op->val = fs->rval;
			op->liov[0].iov_base = &op->val;
			op->liov[0].iov_len = 8;
			op->ln = 1;
			memcpy(op->riov, iv, sizeof(struct iovec) * (size_t)n);
			op->rn = n;
			op->ep = ep;
			q_push(op, mode);
		}
	}
	seq = __atomic_add_fetch(&me->issued, 1, __ATOMIC_ACQ_REL);
	e_mark_done(ep, me, seq);
	return 0;
}

static int e_nodeids(struct e_ep *ep, struct scifioctl_node_ids *ni)
{
	uint32_t nn = ep->fab->shm->nnodes, i, maxid = nn - 1, k;
	uint16_t self = ep->node;
	k = ni->len < 0 ? 0 : (uint32_t)ni->len;
	if (k > maxid)
		k = maxid; /* min(len, highest node id): spec §9 */
	for (i = 0; i < k; i++) {
		uint16_t v = (uint16_t)i;
		if (e_cout((char *)(uintptr_t)ni->nodes + i * sizeof v, &v,
		           sizeof v) < 0)
			return -EFAULT;
	}
	if (e_cout((void *)(uintptr_t)ni->self, &self, sizeof self) < 0)
		return -EFAULT;
	ni->len = (int32_t)nn;
	return 0;
}

/* ---------------------------------------------------------------- close */
/* Tear down whatever the endpoint is (socket kept).  Not for LISTENING
 * endpoints with threads inside (close handles those). */
static void e_ep_release(struct e_ep *ep)
{
	struct e_shm *s = ep->fab->shm;
	struct e_tok **pp;
	switch (ep->state) {
	case ST_BOUND:
		e_lock(ep->fab);
		e_port_put(s, ep->node, ep->port);
		e_unlock(ep->fab);
		break;
	case ST_CONNECTING:
		e_connect_cancel(ep);
		e_lock(ep->fab);
		e_port_put(s, ep->node, ep->port);
		e_unlock(ep->fab);
		break;
	case ST_CONNECTED:
		if (ep->npending)
			q_drain(); /* in-flight RMAs complete before close */
		e_lock(ep->fab);
		{
			struct e_conn *c = e_conn(ep);
			if (c) {
				memset(c->side[ep->side].win, 0,
				       sizeof c->side[ep->side].win);
				__atomic_store_n(&c->side[ep->side].closed, 1,
				                 __ATOMIC_RELEASE);
				e_conn_put(c);
			}
		}
		e_port_put(s, ep->node, ep->port);
		e_unlock(ep->fab);
		shutdown(ep->fd, SHUT_RDWR);
		break;
	case ST_LISTENING:
		e_lock(ep->fab);
		if (ep->lidx >= 0)
			s->lis[ep->lidx].used = 0;
		e_port_put(s, ep->node, ep->port);
		e_unlock(ep->fab);
		/* pending, never registered accepts are torn down */
		pthread_mutex_lock(&e_mu);
		pp = &e_toks;
		while (*pp) {
			struct e_tok *t = *pp;
			if (t->lis != ep) {
				pp = &t->next;
				continue;
			}
			*pp = t->next;
			e_lock(ep->fab);
			if (s->conn[t->ci].gen == t->gen) {
				s->conn[t->ci].side[1].closed = 1;
				e_port_put(s, ep->node, ep->port);
				e_conn_put(&s->conn[t->ci]);
			}
			e_unlock(ep->fab);
			shutdown(t->sock, SHUT_RDWR);
			r_close(t->sock);
			free(t);
		}
		pthread_mutex_unlock(&e_mu);
		shutdown(ep->fd, SHUT_RDWR); /* wakes a blocked accept */
		break;
	default:
		break;
	}
	ep->state = ST_UNBOUND;
	ep->ci = -1;
}

/* ----------------------------------------------------------------- poll */
static short e_poll_state(struct e_ep *ep, short real)
{
	int avail = 0;
	short ev = 0;
	if (ep->state == ST_LISTENING)
		return (real & POLLIN) ? POLLIN : 0;
	if (ep->state == ST_CONNECTING) {
		if (ep->blocking_connect)
			return POLLERR;
		if ((real & (POLLIN | POLLHUP | POLLERR)) ||
		    e_now_ms() >= ep->deadline_ms)
			return POLLOUT;
		return 0;
	}
	if (ep->state == ST_CONNECTED) {
		struct e_side *me = e_me(ep), *peer = e_peer(ep);
		uint64_t used;
		int disc = (real & (POLLHUP | POLLRDHUP)) || !peer ||
		           __atomic_load_n(&peer->closed, __ATOMIC_ACQUIRE);
		if (r_ioctl(ep->fd, FIONREAD, &avail) < 0)
			avail = 0;
		if (avail > 0)
			ev |= POLLIN;
		if (me) {
			used = __atomic_load_n(&me->sent, __ATOMIC_ACQUIRE) -
			       __atomic_load_n(&me->consumed, __ATOMIC_ACQUIRE);
			if (used < E_RING)
				ev |= POLLOUT;
		}
		if (disc)
			ev |= POLLHUP;
		return ev;
	}
	return POLLERR;
}

static int e_poll(struct pollfd *fds, nfds_t n, int timeout,
                  const sigset_t *mask)
{
	struct pollfd stk[64], *tmp = stk;
	struct e_ep *eps_stk[64], **eps = eps_stk;
	uint64_t end = timeout > 0 ? e_now_ms() + (uint64_t)timeout : 0;
	nfds_t i;
	int any = 0, r = 0, need_slice;
	sigset_t old;
	for (i = 0; i < n; i++)
		if (e_is_emu(fds[i].fd))
			any = 1;
	if (!any)
		return r_poll(fds, n, timeout);
	if (n > 64) {
		tmp = (struct pollfd *)malloc(n * sizeof *tmp);
		eps = (struct e_ep **)malloc(n * sizeof *eps);
		if (!tmp || !eps) {
			free(tmp == stk ? NULL : tmp);
			free(eps == eps_stk ? NULL : eps);
			errno = ENOMEM;
			return -1;
		}
	}
	for (i = 0; i < n; i++)
		eps[i] = e_get(fds[i].fd);
	if (mask)
		pthread_sigmask(SIG_SETMASK, mask, &old);
	for (;;) {
		int wait, ready = 0;
		need_slice = 0;
		for (i = 0; i < n; i++) {
			tmp[i] = fds[i];
			if (eps[i])
				tmp[i].events = POLLIN | POLLRDHUP;
			tmp[i].revents = 0;
		}
		r = r_poll(tmp, n, 0);
		if (r < 0)
			break;
		for (i = 0; i < n; i++) {
			short ev = tmp[i].revents;
			if (eps[i]) {
				short st = e_poll_state(eps[i], ev);
				ev = (short)(st & (fds[i].events | POLLHUP | POLLERR));
				if (!ev && (tmp[i].revents ||
				            ((fds[i].events & POLLOUT) &&
				             eps[i]->state >= ST_CONNECTING)))
					need_slice = 1;
			}
			fds[i].revents = ev;
			if (ev)
				ready++;
		}
		if (ready) {
			r = ready;
			break;
		}
		if (timeout == 0 || (timeout > 0 && e_now_ms() >= end)) {
			r = 0;
			break;
		}
		wait = timeout < 0 ? -1 : (int)(end - e_now_ms());
		if (need_slice && (wait < 0 || wait > 1))
			wait = 1;
		for (i = 0; i < n; i++)
			tmp[i].revents = 0;
		if (r_poll(tmp, n, wait) < 0 && errno == EINTR) {
			r = -1;
			break;
		}
	}
	if (mask) {
		int e = errno;
		pthread_sigmask(SIG_SETMASK, &old, NULL);
		errno = e;
	}
	for (i = 0; i < n; i++)
		if (eps[i])
			e_put(eps[i]);
	if (tmp != stk)
		free(tmp);
	if (eps != eps_stk)
		free(eps);
	return r;
}

/* ------------------------------------------------------ the interposers */
static int e_is_dev(const char *path)
{
	return path && strcmp(path, "/dev/scif") == 0;
}

int open(const char *path, int flags, ...)
{
	mode_t mode = 0;
	e_init();
	if (flags & (O_CREAT | O_TMPFILE)) {
		va_list ap;
		va_start(ap, flags);
		mode = (mode_t)va_arg(ap, int);
		va_end(ap);
	}
	if (e_is_dev(path))
		return e_open(flags);
	return r_open(path, flags, mode);
}
int open64(const char *path, int flags, ...)
{
	mode_t mode = 0;
	e_init();
	if (flags & (O_CREAT | O_TMPFILE)) {
		va_list ap;
		va_start(ap, flags);
		mode = (mode_t)va_arg(ap, int);
		va_end(ap);
	}
	if (e_is_dev(path))
		return e_open(flags);
	return r_open(path, flags | O_LARGEFILE, mode);
}
int openat(int dirfd, const char *path, int flags, ...)
{
	mode_t mode = 0;
	e_init();
	if (flags & (O_CREAT | O_TMPFILE)) {
		va_list ap;
		va_start(ap, flags);
		mode = (mode_t)va_arg(ap, int);
		va_end(ap);
	}
	if (e_is_dev(path))
		return e_open(flags);
	return r_openat(dirfd, path, flags, mode);
}

int close(int fd)
{
	struct e_ep *ep;
	e_init();
	if (fd < 0 || fd >= E_MAX_FD)
		return r_close(fd);
	pthread_mutex_lock(&e_mu);
	ep = e_tab[fd];
	e_tab[fd] = NULL;
	pthread_mutex_unlock(&e_mu);
	if (!ep)
		return r_close(fd);
	if (ep->pid == getpid()) {
		__atomic_store_n(&ep->closing, 1, __ATOMIC_RELEASE);
		e_ep_release(ep);
	}
	r_close(fd);
	e_put(ep);
	return 0;
}

int ioctl(int fd, unsigned long cmd, ...)
{
	struct e_ep *ep;
	va_list ap;
	void *arg;
	int r;
	e_init();
	va_start(ap, cmd);
	arg = va_arg(ap, void *);
	va_end(ap);
	ep = e_get(fd);
	if (!ep)
		return r_ioctl(fd, cmd, arg);
	e_fault_init();
	if (e_fault.on && e_fault.vanish_after > 0 &&
	    ++e_fault.ops >= e_fault.vanish_after)
		raise(SIGKILL);
	if (cmd != SCIF_GET_NODEIDS && cmd != SCIF_LISTEN &&
	    cmd != SCIF_FENCE_WAIT && !arg) {
		e_put(ep);
		errno = EFAULT;
		return -1;
	}
	switch (cmd) {
	case SCIF_BIND: {
		int port;
		if ((r = e_cin(&port, arg, sizeof port)) < 0)
			break;
		r = e_bind(ep, &port);
		if (r == 0)
			r = e_cout(arg, &port, sizeof port);
		break;
	}
	case SCIF_LISTEN:
		r = e_listen(ep, (int)(intptr_t)arg);
		break;
	case SCIF_CONNECT: {
		struct scifioctl_connect c;
		if ((r = e_cin(&c, arg, sizeof c)) < 0)
			break;
		r = e_connect(ep, &c);
		if (r == 0)
			r = e_cout(arg, &c, sizeof c);
		break;
	}
	case SCIF_ACCEPTREQ: {
		struct scifioctl_accept a;
		if ((r = e_cin(&a, arg, sizeof a)) < 0)
			break;
		r = e_acceptreq(ep, &a);
		if (r == 0)
			r = e_cout(arg, &a, sizeof a);
		break;
	}
	case SCIF_ACCEPTREG:
		r = e_acceptreg(ep, (uint64_t *)arg);
		break;
	case SCIF_SEND:
	case SCIF_RECV: {
		struct scifioctl_msg m;
		if ((r = e_cin(&m, arg, sizeof m)) < 0)
			break;
		if (!(m.flags & E_SEND_BLOCK) && e_fault_hit(e_fault.eagain)) {
			m.out_len = 0; /* nothing moved this time */
			r = e_cout((char *)arg + offsetof(struct scifioctl_msg, out_len),
			           &m.out_len, sizeof m.out_len);
			break;
		}
		if (cmd == SCIF_SEND && m.len > 1 && e_fault_hit(e_fault.shortw))
			m.len = 1 + (int)(e_fault_rnd() % (uint64_t)(m.len - 1));
		r = cmd == SCIF_SEND ? e_send(ep, &m) : e_recv(ep, &m);
		if (r == 0)
			r = e_cout((char *)arg + offsetof(struct scifioctl_msg, out_len),
			           &m.out_len, sizeof m.out_len);
		break;
	}
	case SCIF_REG: {
		struct scifioctl_reg g;
		if ((r = e_cin(&g, arg, sizeof g)) < 0)
			break;
		r = e_reg(ep, &g);
		if (r == 0)
			r = e_cout((char *)arg + offsetof(struct scifioctl_reg, out_offset),
			           &g.out_offset, sizeof g.out_offset);
		break;
	}
	case SCIF_UNREG: {
		struct scifioctl_unreg u;
		if ((r = e_cin(&u, arg, sizeof u)) < 0)
			break;
		r = e_unreg(ep, &u);
		break;
	}
	case SCIF_READFROM:
	case SCIF_WRITETO:
	case SCIF_VREADFROM:
	case SCIF_VWRITETO: {
		struct scifioctl_copy c;
		if ((r = e_cin(&c, arg, sizeof c)) < 0)
			break;
		if ((cmd == SCIF_WRITETO || cmd == SCIF_VWRITETO) &&
		    e_fault_hit(e_fault.fail_rma)) {
			e_fault.fail_rma_hits++;
			r = -ECONNRESET;
			break;
		}
		r = e_rma(ep, cmd, &c);
		break;
	}
	case SCIF_GET_NODEIDS: {
		struct scifioctl_node_ids ni;
		if (!arg) {
			r = -EFAULT;
			break;
		}
		if ((r = e_cin(&ni, arg, sizeof ni)) < 0)
			break;
		r = e_nodeids(ep, &ni);
		if (r == 0)
			r = e_cout(arg, &ni, sizeof ni);
		break;
	}
	case SCIF_FENCE_MARK: {
		struct scifioctl_fence_mark fm;
		if ((r = e_cin(&fm, arg, sizeof fm)) < 0)
			break;
		r = e_fence_mark(ep, &fm);
		break;
	}
	case SCIF_FENCE_WAIT:
		r = e_fence_wait(ep, (int)(intptr_t)arg);
		break;
	case SCIF_FENCE_SIGNAL: {
		struct scifioctl_fence_signal fs;
		if ((r = e_cin(&fs, arg, sizeof fs)) < 0)
			break;
		r = e_fence_signal(ep, &fs);
		break;
	}
	default:
		r = -EINVAL;
		break;
	}
	e_put(ep);
	if (r < 0) {
		errno = -r;
		return -1;
	}
	return 0;
}

int poll(struct pollfd *fds, nfds_t n, int timeout)
{
	e_init();
	return e_poll(fds, n, timeout, NULL);
}

int ppoll(struct pollfd *fds, nfds_t n, const struct timespec *ts,
          const sigset_t *mask)
{
	int tmo = -1;
	nfds_t i;
	int any = 0;
	e_init();
	for (i = 0; i < n; i++)
		if (e_is_emu(fds[i].fd))
			any = 1;
	if (!any)
		return r_ppoll(fds, n, ts, mask);
	if (ts) {
		long long ms = (long long)ts->tv_sec * 1000 +
		               (ts->tv_nsec + 999999) / 1000000;
		tmo = ms > INT_MAX ? INT_MAX : (int)ms;
	}
	return e_poll(fds, n, tmo, mask);
}

/* mmap of the peer's windows: the checks of spec §8 are made; mapping
 * another process's private memory cannot be emulated, so a valid request
 * fails with ENODEV (docs/scif.md). */
void *mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
	struct e_ep *ep;
	struct iovec iv[E_IOV];
	int r, need = 0;
	if (fd < 0 || (flags & MAP_ANONYMOUS)) {
		/* never an endpoint; and TSan's runtime maps memory this way
		 * while it starts, before pthread_once (e_init) may be called */
		void *(*m)(void *, size_t, int, int, int, off_t) =
		    __atomic_load_n(&r_mmap, __ATOMIC_ACQUIRE);
		if (!m) {
			e_sym(&m, "mmap");
			__atomic_store_n(&r_mmap, m, __ATOMIC_RELEASE);
		}
		return m(addr, len, prot, flags, fd, off);
	}
	e_init();
	ep = e_get(fd);
	if (!ep)
		return r_mmap(addr, len, prot, flags, fd, off);
	r = e_conn_check(ep);
	if (r == 0 && ((uint64_t)off % E_PAGE || len == 0))
		r = -EINVAL;
	if (prot & PROT_READ)
		need |= E_PROT_READ;
	if (prot & PROT_WRITE)
		need |= E_PROT_WRITE;
	if (r == 0) {
		e_lock(ep->fab);
		r = e_resolve(e_peer(ep), off,
		              (len + E_PAGE - 1) / E_PAGE * E_PAGE, need, iv, E_IOV,
		              NULL);
		e_unlock(ep->fab);
		if (r >= 0)
			r = -ENODEV;
	}
	e_put(ep);
	errno = -r;
	return MAP_FAILED;
}
void *mmap64(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
	return mmap(addr, len, prot, flags, fd, off);
}
