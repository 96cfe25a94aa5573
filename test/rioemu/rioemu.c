/* SPDX-License-Identifier: MIT */
/* rioemu.c -- emulator of the Linux RapidIO user interface (/dev/rio_mport<N>
 * and /dev/rio_cm) for several processes on one machine.
 *
 * Behaviour follows /work/shared/spec/rio-uapi.md (section numbers below).
 * Mechanism: symbol interposition.  open/openat of a device path returns a
 * REAL kernel fd (mport: an AF_UNIX datagram socket that holds one token
 * while the fd's event FIFO is non-empty, so poll/epoll work unchanged;
 * rio_cm: an eventfd that is always readable and writable, like the VFS
 * default poll).  All other fds go straight to libc (dlsym(RTLD_NEXT)).
 *
 * Shared state: one file per fabric in /dev/shm, mapped by every process,
 * protected by one robust process-shared mutex; blocking rio_cm calls wait
 * on a futex sequence word.  Inbound windows and DMA buffers are /dev/shm
 * files: mmap of a handle maps the file, a peer's RIO_TRANSFER pwrite()s
 * into it before the ioctl returns (SYNC), so a doorbell written afterwards
 * is always read after the data is visible (section 2.7).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "rioemu.h"

#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <linux/rio_cm_cdev.h>
#include <linux/rio_mport_cdev.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <stddef.h>
#include <time.h>
#include <unistd.h>

/* ------------------------------------------------------------ constants */
#define RE_MAGIC 0x52494f454d553031ull /* "RIOEMU01" */
#define RE_MAX_NODES 64
#define RE_MAX_FDS 256
#define RE_MAX_MAPS 512
#define RE_MAX_FILT 512
#define RE_MAX_RES 512
#define RE_MAX_CH 1024
#define RE_MAX_REQ 256
#define RE_POOL 4096
#define RE_MSG 4096 /* RIO_MAX_MSG_SIZE */
#define RE_HDR 20
#define RE_CHSTART 256
#define RE_EV 72
#define RE_NONE 0xffffffffu
#define RE_ANYID 0xffffu
#define RE_FDTAB 4096

enum { RE_T_MPORT = 1, RE_T_CM = 2 };
enum { RE_M_IN = 1, RE_M_OUT = 2, RE_M_DMA = 3 };
enum {
	RE_CH_IDLE = 1,
	RE_CH_BOUND,
	RE_CH_LISTEN,
	RE_CH_CONNECT,
	RE_CH_CONNECTED
};

/* ------------------------------------------------------ shared records */
struct re_node {
	uint32_t used;
	uint16_t destid;
	uint16_t next_ch; /* channel allocation (host records only) */
	uint64_t next_handle;
	uint16_t host; /* destID of mport 0 of the machine this port is on */
	uint16_t mport;
};

struct re_fdrec {
	uint32_t used, id;
	int32_t pid;
	uint16_t type, destid;
	uint32_t mask;
	uint16_t head, count;
	uint16_t ev_id[RIOEMU_FIFO_EVENTS], ev_info[RIOEMU_FIFO_EVENTS];
};

struct re_map {
	uint32_t used, id;
	uint16_t destid, type;
	uint32_t owner; /* fdrec id; 0 = released by its owner */
	uint64_t handle, size, rio_addr;
	uint16_t rioid; /* outbound target */
	uint16_t pad;
	uint32_t drefs; /* DMA copies in progress */
	int32_t mpid[8];
	uint32_t mcnt[8]; /* mmap references per process */
};

struct re_filt {
	uint32_t used, fd;
	uint16_t destid, rioid, low, high;
};

struct re_res {
	uint32_t used;
	uint16_t destid, low, high, pad;
};

struct re_ch {
	uint32_t used, gen;
	uint16_t destid, num; /* destid: the host (channel namespace) */
	uint32_t state, owner, client;
	uint16_t rdest, rch;  /* the peer's mport destID and channel   */
	uint16_t rhost, ldest; /* the peer's host; our mport's destID  */
	uint32_t qhead, qtail, qcount;
};

struct re_req {
	uint32_t used;
	uint64_t seq;
	uint16_t destid, ch, from, from_ch; /* destid: target host       */
	uint16_t from_host, to;            /* to: the destID addressed  */
	uint32_t from_gen;
};

struct re_state {
	uint64_t magic;
	pthread_mutex_t lock;
	uint32_t cm_seq; /* futex word: bumped on every rio_cm change */
	uint32_t next_id;
	uint64_t next_req;
	struct rioemu_stats stats;
	struct re_node node[RE_MAX_NODES];
	struct re_fdrec fd[RE_MAX_FDS];
	struct re_map map[RE_MAX_MAPS];
	struct re_filt filt[RE_MAX_FILT];
	struct re_res res[RE_MAX_RES];
	struct re_ch ch[RE_MAX_CH];
	struct re_req req[RE_MAX_REQ];
	uint32_t pool_free;
	uint32_t pool_next[RE_POOL];
	uint8_t pool[RE_POOL][RE_MSG];
};

/* ------------------------------------------------------- process state */
struct re_delayed {
	struct re_delayed *next;
	uint32_t tok;
	uint16_t destid;
	uint64_t rio_addr, len;
	uint8_t data[];
};

struct re_tok {
	uint32_t tok;
	int failed;
};

struct re_pfd {
	int type;
	pid_t pid; /* opener: a forked child's close() only drops its copy */
	uint32_t id;
	uint16_t destid;
	struct re_state *st;
	char fabric[64];
	int dma_to_ms, conn_to_ms, async_delay, db_replay, strict, mport;
	int cm_busy_every, cm_sends, dma_torn_us;
	int last_valid;
	uint16_t last_target, last_info; /* for FABTX_RIOEMU_DB_REPLAY */
	uint32_t next_tok;
	struct re_tok toks[64];
	int ntoks;
	struct re_delayed *dhead, *dtail;
	int rec; /* index of the shared record (a hint; the id decides) */
	uint16_t host;  /* destID of mport 0: the channel namespace */
	int mdest[8];   /* destID of each mport of this machine, -1: none */
};

struct re_mm {
	void *addr;
	size_t len;
	struct re_state *st;
	uint32_t mapid;
};

struct re_bfd {
	struct re_state *st;
	uint32_t mapid;
	int fd;
};

static pthread_mutex_t re_plock = PTHREAD_MUTEX_INITIALIZER;
static struct re_pfd *re_fds[RE_FDTAB];
static struct re_mm *re_mms;
static int re_nmm, re_capmm;
static struct re_bfd re_bfds[32];
static int re_bfd_next;
static int re_txsock = -1;
static struct {
	char name[64];
	struct re_state *st;
} re_fabrics[8];
static int re_nfabrics;

/* Copies from and to the caller's memory: a bad pointer gives EFAULT, as
 * in the kernel (spec 1.1), instead of crashing the emulator. */
static int re_cin(void *dst, const void *src, size_t n)
{
	struct iovec l, r;
	if (n == 0)
		return 0;
	if (!src)
		return -EFAULT;
	l.iov_base = dst;
	l.iov_len = n;
	r.iov_base = (void *)(uintptr_t)src;
	r.iov_len = n;
	return process_vm_readv(getpid(), &l, 1, &r, 1, 0) == (ssize_t)n
	           ? 0
	           : -EFAULT;
}

static int re_cout(void *dst, const void *src, size_t n)
{
	struct iovec l, r;
	if (n == 0)
		return 0;
	if (!dst)
		return -EFAULT;
	l.iov_base = (void *)(uintptr_t)src;
	l.iov_len = n;
	r.iov_base = dst;
	r.iov_len = n;
	return process_vm_writev(getpid(), &l, 1, &r, 1, 0) == (ssize_t)n
	           ? 0
	           : -EFAULT;
}

/* ---------------------------------------------------------- libc calls */
static int (*re_real_open)(const char *, int, ...);
static int (*re_real_openat)(int, const char *, int, ...);
static int (*re_real_close)(int);
static int (*re_real_ioctl)(int, unsigned long, ...);
static void *(*re_real_mmap)(void *, size_t, int, int, int, off_t);
static int (*re_real_munmap)(void *, size_t);
static ssize_t (*re_real_read)(int, void *, size_t);
static ssize_t (*re_real_write)(int, const void *, size_t);
static int (*re_real_poll)(struct pollfd *, nfds_t, int);

#define RE_SYM(var, name)                                                      \
	do {                                                                   \
		if (!(var))                                                    \
			*(void **)(&(var)) = dlsym(RTLD_NEXT, name);           \
	} while (0)

static void re_syms(void)
{
	RE_SYM(re_real_open, "open");
	RE_SYM(re_real_openat, "openat");
	RE_SYM(re_real_close, "close");
	RE_SYM(re_real_ioctl, "ioctl");
	RE_SYM(re_real_mmap, "mmap");
	RE_SYM(re_real_munmap, "munmap");
	RE_SYM(re_real_read, "read");
	RE_SYM(re_real_write, "write");
	RE_SYM(re_real_poll, "poll");
}

/* ------------------------------------------------------------- helpers */
static uint64_t re_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void re_sleep_ms(int ms)
{
	struct timespec ts;
	ts.tv_sec = ms / 1000;
	ts.tv_nsec = (long)(ms % 1000) * 1000000L;
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static int re_env_int(const char *name, int def)
{
	const char *v = getenv(name);
	char *end;
	long x;
	if (!v || !*v)
		return def;
	x = strtol(v, &end, 0);
	if (*end || x < 0 || x > 0x7fffffff)
		return def;
	return (int)x;
}

/* ------------------------------------------------- fault injection
 * Knobs for fault trials (test/fault_trials.c), read once per process;
 * all off unless FABTX_RIOEMU_FAULT_SEED is set (non-zero):
 *   FABTX_RIOEMU_DROP_DB=P     doorbells lost on the way (per mille)
 *   FABTX_RIOEMU_DUP_DB=P      doorbells delivered twice
 *   FABTX_RIOEMU_EBUSY=P       RIO_TRANSFER and RIO_CM_CHAN_SEND say
 *                              EBUSY (no descriptor / TX ring full)
 *   FABTX_RIOEMU_FAIL_DMA=P    RIO_TRANSFER fails (EIO, a failed write)
 *   FABTX_RIOEMU_VANISH_AFTER=N  this process dies (SIGKILL) at its N-th
 *                              emulated ioctl: a peer vanishing between
 *                              two operations
 * Read at the first emulated ioctl of each process (a forked child reads
 * them again).  Decisions come from a per-process xorshift seeded with the seed and
 * the pid, so a run is repeatable for one pid. */
static struct {
	int init, on;
	pid_t pid; /* read again in a forked child (its own knobs) */
	uint64_t rng;
	int drop_db, dup_db, ebusy, fail_dma;
	long vanish_after, ops;
	long fail_dma_hits; /* transfers FAIL_DMA failed (rioemu_fail_dma_hits) */
} re_fault;

static void re_fault_init(void)
{
	int seed;
	if (re_fault.init && re_fault.pid == getpid())
		return;
	memset(&re_fault, 0, sizeof re_fault);
	re_fault.init = 1;
	re_fault.pid = getpid();
	seed = re_env_int("FABTX_RIOEMU_FAULT_SEED", 0);
	if (!seed)
		return;
	re_fault.on = 1;
	re_fault.rng = (uint64_t)seed * 0x9e3779b97f4a7c15ull ^
	               ((uint64_t)getpid() << 17) ^ 0x5bd1e995u;
	re_fault.drop_db = re_env_int("FABTX_RIOEMU_DROP_DB", 0);
	re_fault.dup_db = re_env_int("FABTX_RIOEMU_DUP_DB", 0);
	re_fault.ebusy = re_env_int("FABTX_RIOEMU_EBUSY", 0);
	re_fault.fail_dma = re_env_int("FABTX_RIOEMU_FAIL_DMA", 0);
	re_fault.vanish_after = re_env_int("FABTX_RIOEMU_VANISH_AFTER", 0);
}

/* 1 with probability pm / 1000 */
static int re_fault_hit(int pm)
{
	uint64_t x;
	if (!re_fault.on || pm <= 0)
		return 0;
	x = re_fault.rng;
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	re_fault.rng = x;
	return (int)(x % 1000u) < pm;
}

static void re_fault_op(void)
{
	re_fault_init();
	if (re_fault.on && re_fault.vanish_after > 0 &&
	    ++re_fault.ops >= re_fault.vanish_after)
		raise(SIGKILL);
}

static void re_lock(struct re_state *st)
{
	int rc = pthread_mutex_lock(&st->lock);
	if (rc == EOWNERDEAD)
		pthread_mutex_consistent(&st->lock);
}

static void re_unlock(struct re_state *st)
{
	pthread_mutex_unlock(&st->lock);
}

static void re_cm_wake(struct re_state *st)
{
	__atomic_add_fetch(&st->cm_seq, 1, __ATOMIC_SEQ_CST);
	syscall(SYS_futex, &st->cm_seq, FUTEX_WAKE, 0x7fffffff, NULL, NULL, 0);
}

/* Wait (lock dropped) until cm_seq moves from `seq` or at most ms. */
static void re_cm_wait(struct re_state *st, uint32_t seq, int ms)
{
	struct timespec ts;
	ts.tv_sec = ms / 1000;
	ts.tv_nsec = (long)(ms % 1000) * 1000000L;
	syscall(SYS_futex, &st->cm_seq, FUTEX_WAIT, seq, &ts, NULL, 0);
}

static void re_path(char *buf, size_t cap, const char *fabric,
                    const char *what, uint32_t id)
{
	if (what)
		snprintf(buf, cap, "/dev/shm/fabtx-rioemu-%s.%s%u", fabric, what,
		         id);
	else
		snprintf(buf, cap, "/dev/shm/fabtx-rioemu-%s.state", fabric);
}

static int re_fabric_ok(const char *f)
{
	size_t i, n = strlen(f);
	if (n == 0 || n > 48)
		return 0;
	for (i = 0; i < n; i++) {
		char ch = f[i];
		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		      (ch >= '0' && ch <= '9') || ch == '_' || ch == '-'))
			return 0;
	}
	return 1;
}

/* Attach (create on first use) the shared state of a fabric.  Caller holds
 * re_plock. */
static struct re_state *re_attach(const char *fabric)
{
	char path[160], tmp[192];
	struct re_state *st;
	int fd, i;
	for (i = 0; i < re_nfabrics; i++)
		if (strcmp(re_fabrics[i].name, fabric) == 0)
			return re_fabrics[i].st;
	if (re_nfabrics == 8 || !re_fabric_ok(fabric))
		return NULL;
	re_path(path, sizeof path, fabric, NULL, 0);
	fd = re_real_open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		/* create a fully initialised file, then link it into place */
		pthread_mutexattr_t ma;
		snprintf(tmp, sizeof tmp, "%s.%d", path, (int)getpid());
		fd = re_real_open(tmp, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC,
		                  0600);
		if (fd < 0)
			return NULL;
		if (ftruncate(fd, (off_t)sizeof(struct re_state)) < 0) {
			re_real_close(fd);
			unlink(tmp);
			return NULL;
		}
		st = (struct re_state *)re_real_mmap(
		    NULL, sizeof *st, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		if (st == MAP_FAILED) {
			re_real_close(fd);
			unlink(tmp);
			return NULL;
		}
		pthread_mutexattr_init(&ma);
		pthread_mutexattr_setpshared(&ma, PTHREAD_PROCESS_SHARED);
		pthread_mutexattr_setrobust(&ma, PTHREAD_MUTEX_ROBUST);
		pthread_mutex_init(&st->lock, &ma);
		pthread_mutexattr_destroy(&ma);
		st->next_id = 1;
		st->pool_free = 0;
		for (i = 0; i < RE_POOL; i++)
			st->pool_next[i] = i + 1 < RE_POOL ? (uint32_t)i + 1
			                                   : RE_NONE;
		st->magic = RE_MAGIC;
		if (link(tmp, path) < 0) {
			/* somebody else won the race: use theirs */
			re_real_munmap(st, sizeof *st);
			re_real_close(fd);
			unlink(tmp);
			fd = re_real_open(path, O_RDWR | O_CLOEXEC);
			if (fd < 0)
				return NULL;
		} else {
			unlink(tmp);
			re_real_close(fd);
			goto done;
		}
	}
	st = (struct re_state *)re_real_mmap(NULL, sizeof *st,
	                                     PROT_READ | PROT_WRITE,
	                                     MAP_SHARED, fd, 0);
	re_real_close(fd);
	if (st == MAP_FAILED)
		return NULL;
	if (st->magic != RE_MAGIC) {
		re_real_munmap(st, sizeof *st);
		return NULL;
	}
done:
	snprintf(re_fabrics[re_nfabrics].name, sizeof re_fabrics[0].name,
	         "%s", fabric);
	re_fabrics[re_nfabrics].st = st;
	re_nfabrics++;
	return st;
}

static struct re_pfd *re_get(int fd)
{
	if (fd < 0 || fd >= RE_FDTAB)
		return NULL;
	return __atomic_load_n(&re_fds[fd], __ATOMIC_ACQUIRE);
}

static struct re_node *re_node_find(struct re_state *st, uint16_t destid)
{
	int i;
	for (i = 0; i < RE_MAX_NODES; i++)
		if (st->node[i].used && st->node[i].destid == destid)
			return &st->node[i];
	return NULL;
}

static struct re_fdrec *re_fdrec_find(struct re_state *st, uint32_t id)
{
	int i;
	if (id == 0)
		return NULL;
	for (i = 0; i < RE_MAX_FDS; i++)
		if (st->fd[i].used && st->fd[i].id == id)
			return &st->fd[i];
	return NULL;
}

static void re_sockname(struct sockaddr_un *sa, socklen_t *len,
                        const char *fabric, uint32_t id)
{
	int n;
	memset(sa, 0, sizeof *sa);
	sa->sun_family = AF_UNIX;
	n = snprintf(sa->sun_path + 1, sizeof sa->sun_path - 1,
	             "fabtx-rioemu-%s.s%u", fabric, id);
	*len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 +
	                   (size_t)n);
}

/* ---------------------------------------------------- mapping lifetime */
static int re_map_refs(const struct re_map *m)
{
	int i, n = 0;
	for (i = 0; i < 8; i++)
		n += (int)m->mcnt[i];
	return n + (int)m->drefs + (m->owner ? 1 : 0);
}

static void re_map_maybe_free(struct re_state *st, const char *fabric,
                              struct re_map *m)
{
	char path[160];
	if (!m->used || re_map_refs(m) > 0)
		return;
	if (m->type != RE_M_OUT) {
		re_path(path, sizeof path, fabric, "m", m->id);
		unlink(path);
	}
	memset(m, 0, sizeof *m);
	(void)st;
}

static void re_map_mref(struct re_map *m, int32_t pid, int delta)
{
	int i, fr = -1;
	for (i = 0; i < 8; i++) {
		if (m->mcnt[i] && m->mpid[i] == pid) {
			if (delta < 0 && m->mcnt[i] > 0)
				m->mcnt[i]--;
			else if (delta > 0)
				m->mcnt[i]++;
			return;
		}
		if (!m->mcnt[i] && fr < 0)
			fr = i;
	}
	if (delta > 0 && fr >= 0) {
		m->mpid[fr] = pid;
		m->mcnt[fr] = 1;
	}
}

/* ----------------------------------------------------------- channels */
static struct re_ch *re_ch_find(struct re_state *st, uint16_t destid,
                                uint16_t num)
{
	int i;
	if (num == 0)
		return NULL;
	for (i = 0; i < RE_MAX_CH; i++)
		if (st->ch[i].used && st->ch[i].destid == destid &&
		    st->ch[i].num == num)
			return &st->ch[i];
	return NULL;
}

static struct re_ch *re_ch_new(struct re_state *st, uint16_t destid,
                               uint16_t num, uint32_t owner)
{
	int i;
	for (i = 0; i < RE_MAX_CH; i++) {
		struct re_ch *c = &st->ch[i];
		if (c->used)
			continue;
		uint32_t gen = c->gen + 1;
		memset(c, 0, sizeof *c);
		c->used = 1;
		c->gen = gen;
		c->destid = destid;
		c->num = num;
		c->owner = owner;
		c->state = RE_CH_IDLE;
		c->qhead = c->qtail = RE_NONE;
		return c;
	}
	return NULL;
}

/* Automatic channel number, cyclic in [RE_CHSTART, 65535]. */
static int re_ch_alloc_num(struct re_state *st, struct re_node *n)
{
	uint32_t k;
	uint16_t v = n->next_ch < RE_CHSTART ? RE_CHSTART : n->next_ch;
	for (k = 0; k < 65536u - RE_CHSTART; k++) {
		uint16_t cand = v;
		v = v == 65535 ? RE_CHSTART : (uint16_t)(v + 1);
		if (!re_ch_find(st, n->destid, cand)) {
			n->next_ch = v;
			return cand;
		}
	}
	return -1;
}

static void re_ch_flush(struct re_state *st, struct re_ch *c)
{
	while (c->qhead != RE_NONE) {
		uint32_t s = c->qhead;
		c->qhead = st->pool_next[s];
		st->pool_next[s] = st->pool_free;
		st->pool_free = s;
	}
	c->qtail = RE_NONE;
	c->qcount = 0;
}

static void re_ch_destroy(struct re_state *st, struct re_ch *c, int notify)
{
	int i;
	if (notify && c->state == RE_CH_CONNECTED) {
		/* close notification: the peer channel goes away at once and
		 * its unread messages with it (spec 3.5) */
		struct re_ch *p = re_ch_find(st, c->rhost, c->rch);
		if (p && p->state == RE_CH_CONNECTED &&
		    p->rhost == c->destid && p->rch == c->num)
			re_ch_destroy(st, p, 0);
	}
	if (c->state == RE_CH_LISTEN)
		for (i = 0; i < RE_MAX_REQ; i++)
			if (st->req[i].used && st->req[i].destid == c->destid &&
			    st->req[i].ch == c->num)
				st->req[i].used = 0;
	re_ch_flush(st, c);
	c->used = 0;
	c->gen++;
	re_cm_wake(st);
}

/* Release everything an emulated fd owns (close, or its process died). */
static void re_fdrec_release(struct re_state *st, const char *fabric,
                             struct re_fdrec *r)
{
	int i;
	if (r->type == RE_T_MPORT) {
		for (i = 0; i < RE_MAX_FILT; i++)
			if (st->filt[i].used && st->filt[i].fd == r->id)
				st->filt[i].used = 0;
		/* NB: range reservations are NOT released (spec 2.6.8) */
		for (i = 0; i < RE_MAX_MAPS; i++) {
			struct re_map *m = &st->map[i];
			if (m->used && m->owner == r->id) {
				m->owner = 0;
				re_map_maybe_free(st, fabric, m);
			}
		}
	} else {
		for (i = 0; i < RE_MAX_CH; i++)
			if (st->ch[i].used && st->ch[i].owner == r->id)
				re_ch_destroy(st, &st->ch[i], 1);
	}
	memset(r, 0, sizeof *r);
}

static int re_pid_dead(int32_t pid)
{
	return pid > 0 && kill(pid, 0) < 0 && errno == ESRCH;
}

/* Every process holding mapping m (owner fd, mmaps) is dead. */
static int re_map_holders_dead(struct re_state *st, struct re_map *m)
{
	int j, alive = 0;
	if (m->owner) {
		struct re_fdrec *r = re_fdrec_find(st, m->owner);
		if (r && !re_pid_dead(r->pid))
			alive = 1;
	}
	for (j = 0; j < 8 && !alive; j++)
		if (m->mcnt[j] && !re_pid_dead(m->mpid[j]))
			alive = 1;
	return !alive && (m->owner || m->mcnt[0] || m->mcnt[1] || m->mcnt[2] ||
	                  m->mcnt[3] || m->mcnt[4] || m->mcnt[5] ||
	                  m->mcnt[6] || m->mcnt[7]);
}

/* Release the resources of processes that died without closing. */
static void re_reap(struct re_state *st, const char *fabric)
{
	int i, j;
	for (i = 0; i < RE_MAX_FDS; i++)
		if (st->fd[i].used && re_pid_dead(st->fd[i].pid))
			re_fdrec_release(st, fabric, &st->fd[i]);
	for (i = 0; i < RE_MAX_MAPS; i++) {
		struct re_map *m = &st->map[i];
		if (!m->used)
			continue;
		for (j = 0; j < 8; j++)
			if (m->mcnt[j] && re_pid_dead(m->mpid[j]))
				m->mcnt[j] = 0;
		re_map_maybe_free(st, fabric, m);
	}
}

/* --------------------------------------------------------------- open */
static int re_open_dev(const char *path, int flags)
{
	const char *fabric = getenv("FABTX_RIOEMU_FABRIC");
	int mdest[8], destid, mport = 0, k;
	int type, fd, i, e;
	struct re_state *st;
	struct re_pfd *p;
	struct re_node *n = NULL;
	struct re_fdrec *r = NULL;
	/* the machine's ports: FABTX_RIOEMU_DESTID (mport 0), and optionally
	 * FABTX_RIOEMU_DESTID1..7 for more ports on the same fabric */
	for (k = 0; k < 8; k++) {
		char name[32];
		if (k == 0)
			snprintf(name, sizeof name, "FABTX_RIOEMU_DESTID");
		else
			snprintf(name, sizeof name, "FABTX_RIOEMU_DESTID%d", k);
		mdest[k] = re_env_int(name, -1);
		if (mdest[k] >= 0xff || (k > 0 && mdest[0] < 0))
			mdest[k] = -1;
	}
	if (strcmp(path, "/dev/rio_cm") == 0) {
		type = RE_T_CM;
	} else if (strlen(path) == 15 && path[14] >= '0' && path[14] <= '7') {
		type = RE_T_MPORT; /* /dev/rio_mport<N> */
		mport = path[14] - '0';
	} else {
		errno = ENOENT;
		return -1;
	}
	destid = mdest[mport];
	if (!fabric || !*fabric)
		fabric = "default";
	if (destid < 0) {
		errno = ENOENT; /* no (emulated) RapidIO hardware here */
		return -1;
	}
	p = (struct re_pfd *)calloc(1, sizeof *p);
	if (!p) {
		errno = ENOMEM;
		return -1;
	}
	pthread_mutex_lock(&re_plock);
	st = re_attach(fabric);
	pthread_mutex_unlock(&re_plock);
	if (!st) {
		free(p);
		errno = ENODEV;
		return -1;
	}
	p->type = type;
	p->pid = getpid();
	p->st = st;
	p->destid = (uint16_t)destid;
	p->host = (uint16_t)mdest[0];
	p->mport = mport;
	for (k = 0; k < 8; k++)
		p->mdest[k] = mdest[k];
	snprintf(p->fabric, sizeof p->fabric, "%s", fabric);
	p->dma_to_ms = re_env_int("FABTX_RIOEMU_DMA_TIMEOUT_MS", 3000);
	p->conn_to_ms = re_env_int("FABTX_RIOEMU_CONNECT_TIMEOUT_MS", 3000);
	p->async_delay = re_env_int("FABTX_RIOEMU_ASYNC_DELAY", 0);
	p->db_replay = re_env_int("FABTX_RIOEMU_DB_REPLAY", 0);
	p->strict = re_env_int("FABTX_RIOEMU_STRICT", 0);
	p->cm_busy_every = re_env_int("FABTX_RIOEMU_CM_BUSY_EVERY", 0);
	p->dma_torn_us = re_env_int("FABTX_RIOEMU_DMA_TORN_US", 0);
	p->next_tok = 1;
	if (type == RE_T_CM) {
		fd = eventfd(1, (flags & O_CLOEXEC) ? EFD_CLOEXEC : 0);
	} else {
		fd = socket(AF_UNIX,
		            SOCK_DGRAM | ((flags & O_CLOEXEC) ? SOCK_CLOEXEC : 0),
		            0);
	}
	if (fd < 0) {
		e = errno;
		free(p);
		errno = e;
		return -1;
	}
	if (fd >= RE_FDTAB) {
		re_real_close(fd);
		free(p);
		errno = EMFILE;
		return -1;
	}
	re_lock(st);
	re_reap(st, fabric);
	/* every port of this machine joins the fabric (enumeration) */
	for (k = 7; k >= 0; k--) {
		struct re_node *x;
		if (mdest[k] < 0)
			continue;
		x = re_node_find(st, (uint16_t)mdest[k]);
		for (i = 0; !x && i < RE_MAX_NODES; i++)
			if (!st->node[i].used) {
				x = &st->node[i];
				x->used = 1;
				x->destid = (uint16_t)mdest[k];
				x->next_ch = RE_CHSTART;
				x->next_handle = 0x10000000ull;
				x->host = (uint16_t)mdest[0];
				x->mport = (uint16_t)k;
			}
		if (k == mport || (type == RE_T_CM && k == 0))
			n = x;
	}
	for (i = 0; n && i < RE_MAX_FDS; i++)
		if (!st->fd[i].used) {
			r = &st->fd[i];
			memset(r, 0, sizeof *r);
			r->used = 1;
			r->id = st->next_id++;
			r->pid = (int32_t)getpid();
			r->type = (uint16_t)type;
			r->destid = (uint16_t)destid;
			break;
		}
	if (!r) {
		re_unlock(st);
		re_real_close(fd);
		free(p);
		errno = n ? ENFILE : ENOMEM;
		return -1;
	}
	p->id = r->id;
	p->rec = (int)(r - st->fd);
	if (type == RE_T_MPORT) {
		struct sockaddr_un sa;
		socklen_t sl;
		re_sockname(&sa, &sl, fabric, r->id);
		if (bind(fd, (struct sockaddr *)&sa, sl) < 0) {
			e = errno;
			memset(r, 0, sizeof *r);
			re_unlock(st);
			re_real_close(fd);
			free(p);
			errno = e;
			return -1;
		}
		if (flags & O_NONBLOCK)
			fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	}
	re_unlock(st);
	__atomic_store_n(&re_fds[fd], p, __ATOMIC_RELEASE);
	return fd;
}

static int re_is_dev(const char *path)
{
	return path && strncmp(path, "/dev/rio_", 9) == 0 &&
	       (strcmp(path, "/dev/rio_cm") == 0 ||
	        strncmp(path, "/dev/rio_mport", 14) == 0);
}

/* ------------------------------------------------------------- doorbells */
static void re_token_send(const char *fabric, uint32_t id)
{
	struct sockaddr_un sa;
	socklen_t sl;
	char b = 1;
	if (re_txsock < 0)
		re_txsock = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	re_sockname(&sa, &sl, fabric, id);
	(void)sendto(re_txsock, &b, 1, MSG_DONTWAIT | MSG_NOSIGNAL,
	             (struct sockaddr *)&sa, sl);
}

/* Deliver one doorbell (lock held; spec 2.6 "Delivery"). */
static void re_db_deliver_one(struct re_pfd *p, uint16_t target,
                              uint16_t info);
static void re_db_deliver(struct re_pfd *p, uint16_t target, uint16_t info)
{
	if (re_fault_hit(re_fault.drop_db)) {
		p->st->stats.db_sent++; /* sent, lost on the way */
		return;
	}
	re_db_deliver_one(p, target, info);
	if (re_fault_hit(re_fault.dup_db))
		re_db_deliver_one(p, target, info);
}

static void re_db_deliver_one(struct re_pfd *p, uint16_t target,
                              uint16_t info)
{
	struct re_state *st = p->st;
	int i, reserved = 0, matched = 0;
	st->stats.db_sent++;
	for (i = 0; i < RE_MAX_RES; i++)
		if (st->res[i].used && st->res[i].destid == target &&
		    st->res[i].low <= info && info <= st->res[i].high)
			reserved = 1;
	for (i = 0; reserved && i < RE_MAX_FILT; i++) {
		struct re_filt *f = &st->filt[i];
		struct re_fdrec *r;
		if (!f->used || f->destid != target || info < f->low ||
		    info > f->high)
			continue;
		if (f->rioid != RE_ANYID && f->rioid != p->destid)
			continue;
		r = re_fdrec_find(st, f->fd);
		if (!r || !(r->mask & RIO_DOORBELL))
			continue;
		matched = 1;
		if (r->count >= RIOEMU_FIFO_EVENTS) {
			st->stats.db_dropped_fifo++; /* "event fifo overflow" */
			continue;
		}
		{
			unsigned slot = (unsigned)(r->head + r->count) %
			                RIOEMU_FIFO_EVENTS;
			r->ev_id[slot] = p->destid;
			r->ev_info[slot] = info;
		}
		if (r->count++ == 0)
			re_token_send(p->fabric, r->id);
		st->stats.db_queued++;
	}
	if (!matched)
		st->stats.db_dropped_nofilter++;
}

static ssize_t re_mport_write(struct re_pfd *p, const void *buf, size_t n)
{
	const uint8_t *b = (const uint8_t *)buf;
	size_t off;
	if (n == 0)
		return 0;
	if (!buf) {
		errno = EFAULT;
		return -1;
	}
	if (n % RE_EV) {
		errno = EINVAL;
		return -1;
	}
	for (off = 0; off < n; off += RE_EV) {
		struct rio_event ev;
		if (re_cin(&ev, b + off, sizeof ev) < 0) {
			errno = EFAULT;
			return -1;
		}
		if (ev.header != RIO_DOORBELL) {
			errno = EINVAL; /* earlier records are already sent */
			return -1;
		}
		re_lock(p->st);
		re_db_deliver(p, ev.u.doorbell.rioid, ev.u.doorbell.payload);
		if (p->db_replay && p->last_valid &&
		    p->last_target == ev.u.doorbell.rioid) {
			/* fault injection: the previous doorbell once more,
			 * after this one (a stale, reordered duplicate) */
			re_db_deliver(p, p->last_target, p->last_info);
			p->st->stats.db_replayed++;
		}
		re_unlock(p->st);
		p->last_valid = 1;
		p->last_target = ev.u.doorbell.rioid;
		p->last_info = ev.u.doorbell.payload;
	}
	return (ssize_t)n;
}

static ssize_t re_mport_read(int fd, struct re_pfd *p, void *buf, size_t n)
{
	struct re_state *st = p->st;
	size_t got = 0;
	int nonblock = (fcntl(fd, F_GETFL) & O_NONBLOCK) != 0;
	struct re_fdrec *r;
	if (n == 0)
		return 0;
	if (nonblock && p->rec >= 0) {
		/* fast path for busy pollers: an empty FIFO needs no lock */
		r = &st->fd[p->rec];
		if (__atomic_load_n(&r->id, __ATOMIC_RELAXED) == p->id &&
		    __atomic_load_n(&r->count, __ATOMIC_ACQUIRE) == 0) {
			errno = EAGAIN;
			return -1;
		}
	}
	re_lock(st);
	r = re_fdrec_find(st, p->id);
	if (!r) {
		re_unlock(st);
		errno = EBADF;
		return -1;
	}
	if (r->count == 0 && nonblock) {
		re_unlock(st);
		errno = EAGAIN; /* checked before the size (spec 2.6.5) */
		return -1;
	}
	re_unlock(st);
	if (n % RE_EV) {
		errno = EINVAL;
		return -1;
	}
	if (!buf) {
		errno = EFAULT;
		return -1;
	}
	for (;;) {
		re_lock(st);
		r = re_fdrec_find(st, p->id);
		while (r && r->count > 0 && got < n) {
			struct rio_event ev;
			memset(&ev, 0, sizeof ev);
			ev.header = RIO_DOORBELL;
			ev.u.doorbell.rioid = r->ev_id[r->head];
			ev.u.doorbell.payload = r->ev_info[r->head];
			if (re_cout((uint8_t *)buf + got, &ev, sizeof ev) < 0) {
				re_unlock(st);
				errno = EFAULT; /* the event stays queued */
				return -1;
			}
			got += RE_EV;
			r->head = (uint16_t)((r->head + 1) % RIOEMU_FIFO_EVENTS);
			if (--r->count == 0) {
				char tok;
				(void)recv(fd, &tok, 1, MSG_DONTWAIT);
			}
		}
		re_unlock(st);
		if (got == n)
			return (ssize_t)n;
		{
			struct pollfd pf;
			pf.fd = fd;
			pf.events = POLLIN;
			pf.revents = 0;
			if (re_real_poll(&pf, 1, -1) < 0 && errno == EINTR &&
			    got == 0)
				return -1;
		}
	}
}

/* ---------------------------------------------------------------- DMA */
static int re_backing_fd(struct re_pfd *p, uint32_t mapid)
{
	char path[160];
	int i, fd;
	for (i = 0; i < 32; i++)
		if (re_bfds[i].st == p->st && re_bfds[i].mapid == mapid &&
		    re_bfds[i].fd >= 0)
			return re_bfds[i].fd;
	re_path(path, sizeof path, p->fabric, "m", mapid);
	fd = re_real_open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return -1;
	i = re_bfd_next;
	re_bfd_next = (re_bfd_next + 1) % 32;
	if (re_bfds[i].st && re_bfds[i].fd >= 0)
		re_real_close(re_bfds[i].fd);
	re_bfds[i].st = p->st;
	re_bfds[i].mapid = mapid;
	re_bfds[i].fd = fd;
	return fd;
}

/* A process-local mapping of a whole local buffer, for DMA by handle
 * (cached: ids are never reused, so a stale entry is never looked up).
 * Caller holds re_plock. */
static struct {
	struct re_state *st;
	uint32_t mapid;
	void *addr;
	size_t len;
} re_lmaps[16];
static int re_lmap_next;

static void *re_local_map(struct re_pfd *p, uint32_t mapid, uint64_t size)
{
	int i, fd;
	void *a;
	for (i = 0; i < 16; i++)
		if (re_lmaps[i].addr && re_lmaps[i].st == p->st &&
		    re_lmaps[i].mapid == mapid && re_lmaps[i].len >= size)
			return re_lmaps[i].addr;
	fd = re_backing_fd(p, mapid);
	if (fd < 0)
		return NULL;
	a = re_real_mmap(NULL, (size_t)size, PROT_READ | PROT_WRITE, MAP_SHARED,
	                 fd, 0);
	if (a == MAP_FAILED)
		return NULL;
	i = re_lmap_next;
	re_lmap_next = (re_lmap_next + 1) % 16;
	if (re_lmaps[i].addr)
		re_real_munmap(re_lmaps[i].addr, re_lmaps[i].len);
	re_lmaps[i].st = p->st;
	re_lmaps[i].mapid = mapid;
	re_lmaps[i].addr = a;
	re_lmaps[i].len = (size_t)size;
	return a;
}

/* Find the mapping of `destid` containing `addr` (any type). */
static struct re_map *re_map_by_handle(struct re_state *st, uint16_t destid,
                                       uint64_t addr)
{
	int i;
	for (i = 0; i < RE_MAX_MAPS; i++) {
		struct re_map *m = &st->map[i];
		if (m->used && m->destid == destid && m->handle <= addr &&
		    addr < m->handle + m->size)
			return m;
	}
	return NULL;
}

/* Inbound window of `destid` covering [rio_addr, rio_addr + len). */
static struct re_map *re_map_inbound(struct re_state *st, uint16_t destid,
                                     uint64_t rio_addr, uint64_t len)
{
	int i;
	for (i = 0; i < RE_MAX_MAPS; i++) {
		struct re_map *m = &st->map[i];
		if (m->used && m->type == RE_M_IN && m->destid == destid &&
		    m->rio_addr <= rio_addr && len <= m->size &&
		    rio_addr - m->rio_addr <= m->size - len)
			return m;
	}
	return NULL;
}

/* Copy between a remote window and local memory (write: to the window).
 * 0, -ETIMEDOUT (no window of that node covers the range: on Tsi721 the
 * failed transfer shows as a timeout) or -EFAULT (bad local memory). */
static int re_dma_remote(struct re_pfd *p, int write_dir, uint16_t rioid,
                         uint64_t rio_addr, void *local, uint64_t len)
{
	struct re_state *st = p->st;
	struct re_map *m;
	uint32_t mapid;
	off_t off;
	int fd, efault = 0;
	uint64_t done = 0, torn = 0;
	re_lock(st);
	m = re_map_inbound(st, rioid, rio_addr, len);
	if (m && re_map_holders_dead(st, m)) {
		/* its process died: the kernel would have released it */
		re_reap(st, p->fabric);
		m = re_map_inbound(st, rioid, rio_addr, len);
	}
	if (!m || !re_node_find(st, rioid)) {
		re_unlock(st);
		return -ETIMEDOUT; /* nothing answers: Tsi721 times out */
	}
	m->drefs++;
	mapid = m->id;
	off = (off_t)(rio_addr - m->rio_addr);
	re_unlock(st);
	pthread_mutex_lock(&re_plock);
	fd = re_backing_fd(p, mapid);
	if (fd >= 0 && write_dir && p->dma_torn_us > 0 && len > 64) {
		/* fault injection: the last 64 bytes land first, the rest
		 * a while later (nothing orders the bytes of one DMA for a CPU
		 * that looks before completion) */
		if (pwrite(fd, (uint8_t *)local + len - 64, 64,
		           off + (off_t)(len - 64)) == 64) {
			struct timespec ts;
			ts.tv_sec = p->dma_torn_us / 1000000;
			ts.tv_nsec = (long)(p->dma_torn_us % 1000000) * 1000L;
			while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
				;
			len -= 64;
			torn = 64;
		}
	}
	while (fd >= 0 && done < len) {
		ssize_t k = write_dir ? pwrite(fd, (uint8_t *)local + done,
		                               (size_t)(len - done),
		                               off + (off_t)done)
		                      : pread(fd, (uint8_t *)local + done,
		                              (size_t)(len - done),
		                              off + (off_t)done);
		if (k <= 0) {
			efault = k < 0 && errno == EFAULT;
			break;
		}
		done += (uint64_t)k;
	}
	pthread_mutex_unlock(&re_plock);
	re_lock(st);
	m = NULL;
	{
		int i;
		for (i = 0; i < RE_MAX_MAPS; i++)
			if (st->map[i].used && st->map[i].id == mapid)
				m = &st->map[i];
	}
	if (m) {
		m->drefs--;
		re_map_maybe_free(st, p->fabric, m);
	}
	if (write_dir) {
		st->stats.dma_writes++;
		st->stats.dma_bytes += done;
	}
	re_unlock(st);
	len += torn;
	done += done == len - torn ? torn : 0;
	return done == len ? 0 : efault ? -EFAULT : -ETIMEDOUT;
}

static void re_apply_delayed(struct re_pfd *p, uint32_t upto_tok)
{
	while (p->dhead) {
		struct re_delayed *d = p->dhead;
		if (upto_tok && d->tok > upto_tok && d->tok != 0)
			break;
		p->dhead = d->next;
		if (!p->dhead)
			p->dtail = NULL;
		(void)re_dma_remote(p, 1, d->destid, d->rio_addr, d->data,
		                    d->len);
		free(d);
	}
}

static int re_transfer(struct re_pfd *p, struct rio_transaction *tr)
{
	struct re_state *st = p->st;
	struct rio_transfer_io x;
	uint8_t *local;
	int write_dir, rc;
	if (!tr)
		return -EFAULT;
	if (tr->count != 1)
		return -EINVAL;
	if (!(tr->transfer_mode & RIO_TRANSFER_MODE_TRANSFER))
		return -ENODEV;
	if (!tr->block)
		return -EFAULT;
	if (re_cin(&x, (void *)(uintptr_t)tr->block, sizeof x) < 0)
		return -EFAULT;
	write_dir = tr->dir != RIO_TRANSFER_DIR_READ;
	if (x.length == 0)
		return -EINVAL;
	if (x.loc_addr) {
		local = (uint8_t *)(uintptr_t)x.loc_addr;
	} else {
		struct re_map *m;
		void *mp;
		uint32_t mapid;
		uint64_t base, msize;
		re_lock(st);
		m = re_map_by_handle(st, p->destid, x.handle);
		if (!m) {
			re_unlock(st);
			return -ENOMEM;
		}
		if (x.offset > m->size || x.length > m->size - x.offset) {
			re_unlock(st);
			return -EINVAL;
		}
		if (m->type == RE_M_OUT) {
			re_unlock(st);
			return -EFAULT; /* no kernel buffer behind it */
		}
		if (x.handle - m->handle + x.offset + x.length > m->size) {
			/* the kernel checks offset + length against the whole
			 * size and would DMA past the buffer; we refuse */
			re_unlock(st);
			return -EINVAL;
		}
		mapid = m->id;
		base = m->handle;
		msize = m->size;
		re_unlock(st);
		/* the buffer bytes start at (handle - base) + offset */
		pthread_mutex_lock(&re_plock);
		mp = re_local_map(p, mapid, msize);
		pthread_mutex_unlock(&re_plock);
		if (!mp)
			return -ENOMEM;
		local = (uint8_t *)mp;
		x.loc_addr = 0;
		rc = 0;
		if (write_dir && x.method != RIO_EXCHANGE_DEFAULT &&
		    x.method != RIO_EXCHANGE_NWRITE &&
		    x.method != RIO_EXCHANGE_NWRITE_R &&
		    x.method != RIO_EXCHANGE_NWRITE_R_ALL)
			rc = -EINVAL;
		if (rc == 0) {
			re_apply_delayed(p, 0);
			rc = re_dma_remote(p, write_dir, x.rioid, x.rio_addr,
			                   local + (x.handle - base) + x.offset,
			                   x.length);
		}
		goto finish;
	}
	if (write_dir && x.method != RIO_EXCHANGE_DEFAULT &&
	    x.method != RIO_EXCHANGE_NWRITE &&
	    x.method != RIO_EXCHANGE_NWRITE_R &&
	    x.method != RIO_EXCHANGE_NWRITE_R_ALL)
		return -EINVAL; /* SWRITE, SWRITE_R and unknown methods */
	re_apply_delayed(p, 0);
	if (write_dir && tr->sync != RIO_TRANSFER_SYNC &&
	    (tr->sync == RIO_TRANSFER_ASYNC || tr->sync == RIO_TRANSFER_FAF) &&
	    p->async_delay) {
		/* keep a snapshot; the data lands later (spec 5, ordering) */
		struct re_delayed *d = (struct re_delayed *)malloc(
		    sizeof *d + (size_t)x.length);
		if (!d)
			return -ENOMEM;
		d->next = NULL;
		d->destid = x.rioid;
		d->rio_addr = x.rio_addr;
		d->len = x.length;
		if (re_cin(d->data, local, (size_t)x.length) < 0) {
			free(d);
			return -EFAULT;
		}
		d->tok = tr->sync == RIO_TRANSFER_ASYNC ? p->next_tok : 0;
		if (p->dtail)
			p->dtail->next = d;
		else
			p->dhead = d;
		p->dtail = d;
		rc = 0;
	} else {
		rc = re_dma_remote(p, write_dir, x.rioid, x.rio_addr, local,
		                   x.length);
	}
finish:
	if (rc == -EFAULT || rc == -EINVAL)
		return rc; /* pinning the user pages failed: at submission */
	if (tr->sync == RIO_TRANSFER_FAF)
		return 0; /* never reports */
	if (tr->sync == RIO_TRANSFER_ASYNC) {
		uint32_t tok = p->next_tok++;
		if (p->ntoks == 64)
			return -EBUSY;
		p->toks[p->ntoks].tok = tok;
		p->toks[p->ntoks].failed = rc != 0;
		p->ntoks++;
		return (int)tok;
	}
	if (rc == -ETIMEDOUT)
		re_sleep_ms(p->dma_to_ms); /* Tsi721: error shows as timeout */
	return rc;
}

static int re_wait_async(struct re_pfd *p, struct rio_async_tx_wait *w)
{
	int i;
	if (!w)
		return -EFAULT;
	for (i = 0; i < p->ntoks; i++) {
		if (p->toks[i].tok != w->token)
			continue;
		if (p->toks[i].failed) {
			re_sleep_ms(w->timeout ? (int)w->timeout
			                       : p->dma_to_ms);
			return -ETIMEDOUT; /* stays pending */
		}
		re_apply_delayed(p, w->token);
		p->toks[i] = p->toks[--p->ntoks];
		return 0;
	}
	return -EAGAIN;
}

/* ------------------------------------------------------ mport ioctls */
static struct re_map *re_map_new(struct re_state *st, struct re_pfd *p,
                                 int type, uint64_t size)
{
	struct re_node *n = re_node_find(st, p->destid);
	int i;
	if (!n)
		return NULL;
	for (i = 0; i < RE_MAX_MAPS; i++) {
		struct re_map *m = &st->map[i];
		if (m->used)
			continue;
		memset(m, 0, sizeof *m);
		m->used = 1;
		m->id = st->next_id++;
		m->destid = p->destid;
		m->type = (uint16_t)type;
		m->owner = p->id;
		m->size = size;
		m->handle = n->next_handle;
		n->next_handle += ((size + 4095) & ~(uint64_t)4095) + 4096;
		return m;
	}
	return NULL;
}

static int re_map_file(struct re_pfd *p, struct re_map *m)
{
	char path[160];
	int fd;
	re_path(path, sizeof path, p->fabric, "m", m->id);
	fd = re_real_open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -ENOMEM;
	if (ftruncate(fd, (off_t)m->size) < 0) {
		re_real_close(fd);
		unlink(path);
		return -ENOMEM;
	}
	re_real_close(fd);
	return 0;
}

static int re_mport_ioctl(struct re_pfd *p, unsigned long req,
                          unsigned long arg)
{
	struct re_state *st = p->st;
	void *ptr = (void *)(uintptr_t)arg;
	struct re_fdrec *r;
	int i, rc = 0;
	switch (req) {
	case RIO_MPORT_GET_PROPERTIES: {
		struct rio_mport_properties pr;
		if (!ptr)
			return -EFAULT;
		memset(&pr, 0, sizeof pr);
		pr.hdid = p->destid;
		pr.id = (uint8_t)p->mport;
		pr.index = 0;
		pr.flags = 1 | 2; /* RIO_MPORT_DMA | RIO_MPORT_DMA_SG */
		pr.sys_size = 0;
		pr.port_ok = 0;    /* never written by the driver */
		pr.link_speed = 4; /* 5.0 Gbaud */
		pr.link_width = 2; /* 4x */
		pr.dma_max_sge = 0;
		pr.dma_max_size = 0x4000000u;
		pr.dma_align = 0;
		pr.transfer_mode = RIO_TRANSFER_MODE_TRANSFER;
		return re_cout(ptr, &pr, sizeof pr);
	}
	case RIO_SET_EVENT_MASK: /* by value (spec 1.4) */
		re_lock(st);
		r = re_fdrec_find(st, p->id);
		if (r)
			r->mask = (uint32_t)arg & (RIO_DOORBELL | RIO_PORTWRITE);
		re_unlock(st);
		return 0;
	case RIO_GET_EVENT_MASK: {
		uint32_t v = 0;
		if (!ptr)
			return -EFAULT;
		re_lock(st);
		r = re_fdrec_find(st, p->id);
		if (r)
			v = r->mask;
		re_unlock(st);
		return re_cout(ptr, &v, sizeof v);
	}
	case RIO_ENABLE_DOORBELL_RANGE:
	case RIO_DISABLE_DOORBELL_RANGE: {
		struct rio_doorbell_filter f;
		if (!ptr)
			return -EFAULT;
		if (re_cin(&f, ptr, sizeof f) < 0)
			return -EFAULT;
		if (f.low > f.high)
			return -EINVAL;
		re_lock(st);
		if (req == RIO_ENABLE_DOORBELL_RANGE) {
			int fi = -1, ri = -1;
			for (i = 0; i < RE_MAX_RES; i++) {
				struct re_res *s = &st->res[i];
				if (s->used && s->destid == p->destid &&
				    !(f.high < s->low || f.low > s->high))
					rc = -EBUSY;
				if (!s->used && ri < 0)
					ri = i;
			}
			for (i = 0; i < RE_MAX_FILT && fi < 0; i++)
				if (!st->filt[i].used)
					fi = i;
			if (rc == 0 && (fi < 0 || ri < 0))
				rc = -ENOMEM;
			if (rc == 0) {
				st->res[ri].used = 1;
				st->res[ri].destid = p->destid;
				st->res[ri].low = f.low;
				st->res[ri].high = f.high;
				st->filt[fi].used = 1;
				st->filt[fi].fd = p->id;
				st->filt[fi].destid = p->destid;
				st->filt[fi].rioid = f.rioid;
				st->filt[fi].low = f.low;
				st->filt[fi].high = f.high;
			}
		} else {
			rc = -EINVAL;
			for (i = 0; i < RE_MAX_FILT; i++) {
				struct re_filt *x = &st->filt[i];
				if (x->used && x->fd == p->id &&
				    x->rioid == f.rioid && x->low == f.low &&
				    x->high == f.high) {
					x->used = 0;
					rc = 0;
					break;
				}
			}
			for (i = 0; rc == 0 && i < RE_MAX_RES; i++)
				if (st->res[i].used &&
				    st->res[i].destid == p->destid &&
				    st->res[i].low == f.low &&
				    st->res[i].high == f.high) {
					st->res[i].used = 0;
					break;
				}
		}
		re_unlock(st);
		return rc;
	}
	case RIO_MAP_INBOUND: {
		struct rio_mmap mm;
		struct re_map *m = NULL;
		if (!ptr)
			return -EFAULT;
		if (re_cin(&mm, ptr, sizeof mm) < 0)
			return -EFAULT;
		if (mm.length > 0xffffffffull)
			return -EINVAL;
		if (mm.length == 0)
			return -ENOMEM; /* nothing to allocate */
		if (p->strict && mm.rio_addr != RIO_MAP_ANY_ADDR &&
		    (mm.length < 4096 || (mm.length & (mm.length - 1)) ||
		     (mm.rio_addr & (mm.length - 1))))
			return -EINVAL; /* Tsi721: translated windows */
		re_lock(st);
		if (p->strict) {
			int nw = 0;
			for (i = 0; i < RE_MAX_MAPS; i++)
				if (st->map[i].used && st->map[i].type == RE_M_IN &&
				    st->map[i].destid == p->destid)
					nw++;
			if (nw >= 8) {
				re_unlock(st);
				return -EBUSY; /* Tsi721: 8 inbound windows */
			}
		}
		if (mm.rio_addr != RIO_MAP_ANY_ADDR) {
			for (i = 0; i < RE_MAX_MAPS; i++) {
				struct re_map *x = &st->map[i];
				if (!x->used || x->type != RE_M_IN ||
				    x->destid != p->destid)
					continue;
				if (x->rio_addr == mm.rio_addr &&
				    x->size == mm.length) {
					m = x; /* exact re-map: shared */
					break;
				}
				if (mm.rio_addr < x->rio_addr + x->size &&
				    x->rio_addr < mm.rio_addr + mm.length)
					rc = -EBUSY;
			}
			if (m) {
				mm.handle = m->handle;
				mm.rio_addr = m->rio_addr;
				re_unlock(st);
				return re_cout(ptr, &mm, sizeof mm);
			}
			if (rc) {
				re_unlock(st);
				return rc;
			}
		}
		m = re_map_new(st, p, RE_M_IN, mm.length);
		if (!m || re_map_file(p, m) < 0) {
			if (m)
				memset(m, 0, sizeof *m);
			re_unlock(st);
			return -ENOMEM;
		}
		m->rio_addr = mm.rio_addr == RIO_MAP_ANY_ADDR ? m->handle
		                                              : mm.rio_addr;
		mm.handle = m->handle;
		mm.rio_addr = m->rio_addr;
		re_unlock(st);
		return re_cout(ptr, &mm, sizeof mm); /* `address` is not written */
	}
	case RIO_MAP_OUTBOUND: {
		struct rio_mmap mm;
		struct re_map *m = NULL;
		if (!ptr)
			return -EFAULT;
		if (re_cin(&mm, ptr, sizeof mm) < 0)
			return -EFAULT;
		mm.length &= 0xffffffffull;
		if (mm.length == 0)
			return -EINVAL;
		if (p->strict && (mm.length < 32768 ||
		                  (mm.length & (mm.length - 1)) ||
		                  (mm.rio_addr & (mm.length - 1))))
			return -EINVAL; /* Tsi721: outbound windows */
		re_lock(st);
		if (p->strict) {
			int nw = 0;
			for (i = 0; i < RE_MAX_MAPS; i++)
				if (st->map[i].used && st->map[i].type == RE_M_OUT &&
				    st->map[i].destid == p->destid)
					nw++;
			if (nw >= 8) {
				re_unlock(st);
				return -EBUSY;
			}
		}
		for (i = 0; i < RE_MAX_MAPS; i++) {
			struct re_map *x = &st->map[i];
			if (!x->used || x->type != RE_M_OUT ||
			    x->destid != p->destid || x->rioid != mm.rioid)
				continue;
			if (x->rio_addr == mm.rio_addr && x->size == mm.length) {
				m = x;
				break;
			}
			if (mm.rio_addr < x->rio_addr + x->size &&
			    x->rio_addr < mm.rio_addr + mm.length)
				rc = -EBUSY;
		}
		if (!m && rc == 0) {
			m = re_map_new(st, p, RE_M_OUT, mm.length);
			if (!m)
				rc = -ENOMEM;
			else {
				m->rioid = mm.rioid;
				m->rio_addr = mm.rio_addr;
			}
		}
		if (m)
			mm.handle = m->handle;
		re_unlock(st);
		if (rc == 0)
			rc = re_cout(&((struct rio_mmap *)ptr)->handle,
			             &mm.handle, sizeof mm.handle);
		return rc;
	}
	case RIO_UNMAP_INBOUND:
	case RIO_UNMAP_OUTBOUND:
	case RIO_FREE_DMA: {
		uint64_t h;
		int type = req == RIO_UNMAP_INBOUND    ? RE_M_IN
		           : req == RIO_UNMAP_OUTBOUND ? RE_M_OUT
		                                       : RE_M_DMA;
		if (!ptr)
			return -EFAULT;
		if (re_cin(&h, ptr, sizeof h) < 0) /* a u64 handle only (spec 1.4) */
			return -EFAULT;
		rc = type == RE_M_DMA ? -EFAULT : 0;
		re_lock(st);
		for (i = 0; i < RE_MAX_MAPS; i++) {
			struct re_map *m = &st->map[i];
			if (m->used && m->type == type &&
			    m->destid == p->destid && m->handle == h &&
			    m->owner == p->id) {
				m->owner = 0;
				re_map_maybe_free(st, p->fabric, m);
				rc = 0;
				break;
			}
		}
		re_unlock(st);
		return rc;
	}
	case RIO_ALLOC_DMA: {
		struct rio_dma_mem dm;
		struct re_map *m;
		if (!ptr)
			return -EFAULT;
		if (re_cin(&dm, ptr, sizeof dm) < 0)
			return -EFAULT;
		if (dm.length == 0 || dm.length > 0xffffffffull)
			return -ENOMEM;
		re_lock(st);
		m = re_map_new(st, p, RE_M_DMA, dm.length);
		if (!m || re_map_file(p, m) < 0) {
			if (m)
				memset(m, 0, sizeof *m);
			re_unlock(st);
			return -ENOMEM;
		}
		dm.dma_handle = m->handle;
		re_unlock(st);
		return re_cout(ptr, &dm, sizeof dm);
	}
	case RIO_TRANSFER: {
		struct rio_transaction tr;
		if (re_fault_hit(re_fault.ebusy))
			return -EBUSY;
		if (re_fault_hit(re_fault.fail_dma)) {
			re_fault.fail_dma_hits++;
			return -EIO;
		}
		if (!ptr)
			return -EFAULT;
		if (re_cin(&tr, ptr, sizeof tr) < 0)
			return -EFAULT;
		return re_transfer(p, &tr);
	}
	case RIO_WAIT_FOR_ASYNC: {
		struct rio_async_tx_wait w;
		if (!ptr)
			return -EFAULT;
		if (re_cin(&w, ptr, sizeof w) < 0)
			return -EFAULT;
		return re_wait_async(p, &w);
	}
	default:
		return -EINVAL; /* unknown (and not emulated) commands */
	}
}

/* --------------------------------------------------------- cm ioctls */
static int re_cm_deliver(struct re_state *st, uint16_t dest, uint16_t ch,
                         const uint8_t *msg, size_t len)
{
	struct re_ch *c = re_ch_find(st, dest, ch);
	uint32_t s;
	if (!c || c->state != RE_CH_CONNECTED ||
	    c->qcount >= RIOEMU_CM_QUEUE || st->pool_free == RE_NONE) {
		st->stats.cm_dropped++;
		return 0; /* silently discarded (spec 3.4) */
	}
	s = st->pool_free;
	st->pool_free = st->pool_next[s];
	memcpy(st->pool[s], msg, len);
	st->pool_next[s] = RE_NONE;
	if (c->qtail != RE_NONE)
		st->pool_next[c->qtail] = s;
	else
		c->qhead = s;
	c->qtail = s;
	c->qcount++;
	re_cm_wake(st);
	return 0;
}

static void re_be16(uint8_t *b, uint16_t v)
{
	b[0] = (uint8_t)(v >> 8);
	b[1] = (uint8_t)v;
}

static void re_be32(uint8_t *b, uint32_t v)
{
	b[0] = (uint8_t)(v >> 24);
	b[1] = (uint8_t)(v >> 16);
	b[2] = (uint8_t)(v >> 8);
	b[3] = (uint8_t)v;
}

/* Wait for a rio_cm condition: returns 1 when cond() holds, 0 on timeout
 * (ms < 0: forever).  Lock held on entry and exit. */
static int re_cm_sleep(struct re_pfd *p, uint64_t deadline, int forever)
{
	struct re_state *st = p->st;
	uint32_t seq = __atomic_load_n(&st->cm_seq, __ATOMIC_SEQ_CST);
	uint64_t now = re_now_ms();
	int slice = 50;
	if (!forever) {
		if (now >= deadline)
			return 0;
		if (deadline - now < (uint64_t)slice)
			slice = (int)(deadline - now);
	}
	re_unlock(st);
	re_cm_wait(st, seq, slice);
	re_lock(st);
	re_reap(st, p->fabric); /* a peer process may have died */
	return 1;
}

static int re_cm_ioctl(struct re_pfd *p, unsigned long req,
                       unsigned long arg)
{
	struct re_state *st = p->st;
	void *ptr = (void *)(uintptr_t)arg;
	struct re_node *n;
	struct re_ch *c;
	int i, rc = 0;
	if (!ptr)
		return req == RIO_CM_CHAN_CREATE || req == RIO_CM_CHAN_CLOSE ||
		               req == RIO_CM_CHAN_BIND ||
		               req == RIO_CM_CHAN_LISTEN ||
		               req == RIO_CM_CHAN_ACCEPT ||
		               req == RIO_CM_CHAN_CONNECT ||
		               req == RIO_CM_CHAN_SEND ||
		               req == RIO_CM_CHAN_RECEIVE ||
		               req == RIO_CM_MPORT_GET_LIST ||
		               req == RIO_CM_EP_GET_LIST ||
		               req == RIO_CM_EP_GET_LIST_SIZE
		           ? -EFAULT
		           : -EINVAL;
	switch (req) {
	case RIO_CM_CHAN_CREATE: {
		uint16_t v;
		if (re_cin(&v, ptr, sizeof v) < 0)
			return -EFAULT;
		re_lock(st);
		n = re_node_find(st, p->destid);
		if (v == 0) {
			int a = n ? re_ch_alloc_num(st, n) : -1;
			if (a < 0)
				rc = -EBUSY;
			else
				v = (uint16_t)a;
		} else if (re_ch_find(st, p->destid, v)) {
			rc = -EBUSY;
		}
		if (rc == 0 && !re_ch_new(st, p->destid, v, p->id))
			rc = -ENOMEM;
		re_unlock(st);
		if (rc == 0)
			if (rc == 0)
				rc = re_cout(ptr, &v, sizeof v);
		return rc;
	}
	case RIO_CM_CHAN_CLOSE: {
		uint16_t v;
		if (re_cin(&v, ptr, sizeof v) < 0)
			return -EFAULT;
		re_lock(st);
		c = re_ch_find(st, p->destid, v);
		if (c && c->owner != p->id)
			rc = -EINVAL;
		else if (c)
			re_ch_destroy(st, c, 1);
		re_unlock(st);
		return rc; /* unknown channel: 0 */
	}
	case RIO_CM_CHAN_BIND: {
		struct rio_cm_channel cc;
		if (re_cin(&cc, ptr, sizeof cc) < 0)
			return -EFAULT;
		if (cc.mport_id >= 8)
			return -EINVAL;
		if (p->mdest[cc.mport_id] < 0)
			return -ENODEV;
		re_lock(st);
		c = re_ch_find(st, p->destid, cc.id);
		if (!c || c->state != RE_CH_IDLE) {
			rc = -EINVAL;
		} else {
			c->state = RE_CH_BOUND;
			c->ldest = (uint16_t)p->mdest[cc.mport_id];
		}
		re_unlock(st);
		return rc;
	}
	case RIO_CM_CHAN_LISTEN: {
		uint16_t v;
		if (re_cin(&v, ptr, sizeof v) < 0)
			return -EFAULT;
		re_lock(st);
		c = re_ch_find(st, p->destid, v);
		if (!c || c->state != RE_CH_BOUND)
			rc = -EINVAL;
		else
			c->state = RE_CH_LISTEN;
		re_unlock(st);
		return rc;
	}
	case RIO_CM_CHAN_ACCEPT: {
		struct rio_cm_accept ac;
		uint64_t deadline;
		uint32_t gen;
		if (re_cin(&ac, ptr, sizeof ac) < 0)
			return -EFAULT;
		deadline = re_now_ms() + ac.wait_to;
		re_lock(st);
		c = re_ch_find(st, p->destid, ac.ch_num);
		if (!c || c->state != RE_CH_LISTEN) {
			re_unlock(st);
			return -EINVAL;
		}
		gen = c->gen;
		for (;;) {
			struct re_req *best = NULL;
			c = re_ch_find(st, p->destid, ac.ch_num);
			if (!c || c->gen != gen || c->state != RE_CH_LISTEN) {
				rc = -ECANCELED;
				break;
			}
			for (i = 0; i < RE_MAX_REQ; i++) {
				struct re_req *q = &st->req[i];
				if (q->used && q->destid == p->destid &&
				    q->ch == ac.ch_num &&
				    (!best || q->seq < best->seq))
					best = q;
			}
			if (best) {
				struct re_ch *nc, *rq;
				int a;
				best->used = 0;
				n = re_node_find(st, p->destid);
				a = n ? re_ch_alloc_num(st, n) : -1;
				nc = a < 0 ? NULL
				           : re_ch_new(st, p->destid,
				                       (uint16_t)a, p->id);
				if (!nc) {
					rc = -ENOMEM;
					break;
				}
				nc->state = RE_CH_CONNECTED;
				nc->rdest = best->from;
				nc->rhost = best->from_host;
				nc->rch = best->from_ch;
				nc->ldest = best->to;
				/* the ACK */
				rq = re_ch_find(st, best->from_host, best->from_ch);
				if (rq && rq->gen == best->from_gen &&
				    rq->state == RE_CH_CONNECT) {
					rq->state = RE_CH_CONNECTED;
					rq->rch = nc->num;
				}
				re_cm_wake(st);
				ac.ch_num = nc->num;
				break;
			}
			if (ac.wait_to == 0) {
				rc = -EAGAIN;
				break;
			}
			if (!re_cm_sleep(p, deadline, 0)) {
				rc = -ETIME;
				break;
			}
		}
		re_unlock(st);
		if (rc == 0)
			if (rc == 0)
				rc = re_cout(ptr, &ac, sizeof ac);
		return rc;
	}
	case RIO_CM_CHAN_CONNECT: {
		struct rio_cm_channel cc;
		uint64_t deadline;
		uint32_t gen;
		struct re_ch *lc;
		struct re_node *tn;
		if (re_cin(&cc, ptr, sizeof cc) < 0)
			return -EFAULT;
		if (cc.mport_id >= 8)
			return -EINVAL;
		if (p->mdest[cc.mport_id] < 0)
			return -ENODEV;
		if (cc.remote_destid >= 0xff)
			return -EINVAL;
		re_lock(st);
		tn = re_node_find(st, cc.remote_destid);
		if (!tn || cc.remote_destid == p->mdest[cc.mport_id]) {
			re_unlock(st);
			return -ENODEV; /* not a CM peer of that mport */
		}
		c = re_ch_find(st, p->destid, cc.id);
		if (!c) {
			re_unlock(st);
			return -ENODEV;
		}
		if (c->state != RE_CH_IDLE) {
			re_unlock(st);
			return -EINVAL;
		}
		c->state = RE_CH_CONNECT;
		c->client = 1;
		c->rdest = cc.remote_destid;
		c->rhost = tn->host;
		c->ldest = (uint16_t)p->mdest[cc.mport_id];
		c->rch = cc.remote_channel;
		gen = c->gen;
		lc = re_ch_find(st, tn->host, cc.remote_channel);
		if (lc && lc->state == RE_CH_LISTEN) {
			for (i = 0; i < RE_MAX_REQ; i++)
				if (!st->req[i].used) {
					struct re_req *q = &st->req[i];
					q->used = 1;
					q->seq = ++st->next_req;
					q->destid = tn->host;
					q->to = cc.remote_destid;
					q->ch = cc.remote_channel;
					q->from = c->ldest;
					q->from_host = p->destid;
					q->from_ch = cc.id;
					q->from_gen = gen;
					break;
				}
			re_cm_wake(st);
		} /* else: silently discarded, no NACK (spec 3.3) */
		deadline = re_now_ms() + (uint64_t)p->conn_to_ms;
		for (;;) {
			c = re_ch_find(st, p->destid, cc.id);
			if (!c || c->gen != gen) {
				rc = -EPERM; /* closed while connecting */
				break;
			}
			if (c->state == RE_CH_CONNECTED)
				break;
			if (!re_cm_sleep(p, deadline, 0)) {
				rc = -ETIME; /* stays in CONNECT state */
				break;
			}
		}
		re_unlock(st);
		return rc;
	}
	case RIO_CM_CHAN_SEND: {
		struct rio_cm_msg m;
		uint8_t buf[RE_MSG];
		if (re_fault_hit(re_fault.ebusy))
			return -EBUSY;
		if (re_cin(&m, ptr, sizeof m) < 0)
			return -EFAULT;
		if (m.size > RE_MSG)
			return -EINVAL;
		if (!m.msg)
			return -EFAULT;
		if (m.ch_num == 0 || m.size == 0 || m.size < RE_HDR)
			return -EINVAL;
		if (re_cin(buf, (void *)(uintptr_t)m.msg, m.size) < 0)
			return -EFAULT;
		re_lock(st);
		c = re_ch_find(st, p->destid, m.ch_num);
		if (!c)
			rc = -ENODEV;
		else if (c->state != RE_CH_CONNECTED)
			rc = -EAGAIN;
		else if (p->cm_busy_every > 0 &&
		         ++p->cm_sends % p->cm_busy_every == 0)
			rc = -EBUSY; /* injected: TX ring full, not queued */
		if (rc == 0) {
			re_be32(buf + 0, c->ldest);
			re_be32(buf + 4, c->client ? 0u : c->rdest);
			buf[8] = 1;
			buf[9] = 1;
			buf[10] = 0x55;
			buf[11] = 3;
			re_be16(buf + 12, c->rch);
			re_be16(buf + 14, c->num);
			re_be16(buf + 16, m.size);
			st->stats.cm_sent++;
			re_cm_deliver(st, c->rhost, c->rch, buf, m.size);
		}
		re_unlock(st);
		return rc;
	}
	case RIO_CM_CHAN_RECEIVE: {
		struct rio_cm_msg m;
		uint64_t deadline;
		uint32_t gen;
		if (re_cin(&m, ptr, sizeof m) < 0)
			return -EFAULT;
		if (m.ch_num == 0 || m.size == 0)
			return -EINVAL;
		if (!m.msg)
			return -EFAULT;
		deadline = re_now_ms() + m.rxto;
		re_lock(st);
		c = re_ch_find(st, p->destid, m.ch_num);
		if (!c)
			rc = -ENODEV;
		else if (c->state != RE_CH_CONNECTED)
			rc = -EAGAIN;
		gen = c ? c->gen : 0;
		while (rc == 0) {
			c = re_ch_find(st, p->destid, m.ch_num);
			if (!c || c->gen != gen ||
			    c->state != RE_CH_CONNECTED) {
				rc = -ECONNRESET;
				break;
			}
			if (c->qcount) {
				uint32_t s = c->qhead;
				size_t k = m.size < RE_MSG ? m.size : RE_MSG;
				c->qhead = st->pool_next[s];
				if (c->qhead == RE_NONE)
					c->qtail = RE_NONE;
				c->qcount--;
				if (re_cout((void *)(uintptr_t)m.msg, st->pool[s],
				            k) < 0)
					rc = -EFAULT; /* the message is lost */
				st->pool_next[s] = st->pool_free;
				st->pool_free = s;
				break;
			}
			if (!re_cm_sleep(p, deadline, m.rxto == 0)) {
				rc = -ETIME;
				break;
			}
		}
		re_unlock(st);
		return rc; /* `size` is not updated */
	}
	case RIO_CM_MPORT_GET_LIST: {
		uint32_t a[9], cap, nm = 0;
		int k;
		if (re_cin(a, ptr, sizeof a[0]) < 0)
			return -EFAULT;
		cap = a[0];
		if (cap == 0 || cap > 8)
			return -EINVAL;
		for (k = 0; k < 8; k++)
			if (p->mdest[k] >= 0 && nm < cap)
				a[1 + nm++] = ((uint32_t)k << 16) |
				              (uint32_t)p->mdest[k];
		a[0] = nm;
		return re_cout(ptr, a, (1 + nm) * sizeof a[0]);
	}
	case RIO_CM_EP_GET_LIST_SIZE: {
		uint32_t v, cnt = 0;
		if (re_cin(&v, ptr, sizeof v) < 0)
			return -EFAULT;
		if (v >= 8)
			return -EINVAL;
		if (p->mdest[v] < 0)
			return -ENODEV;
		re_lock(st);
		for (i = 0; i < RE_MAX_NODES; i++)
			if (st->node[i].used &&
			    st->node[i].destid != p->mdest[v])
				cnt++;
		re_unlock(st);
		return re_cout(ptr, &cnt, sizeof cnt);
	}
	case RIO_CM_EP_GET_LIST: {
		uint32_t hd[2], cap, mp, cnt = 0, *ids;
		if (re_cin(hd, ptr, sizeof hd) < 0)
			return -EFAULT;
		cap = hd[0];
		mp = hd[1];
		if (cap > 65536 || mp >= 8)
			return -EINVAL;
		if (p->mdest[mp] < 0)
			return -ENODEV;
		ids = (uint32_t *)calloc((size_t)cap + 1, sizeof *ids);
		if (!ids)
			return -ENOMEM;
		re_lock(st);
		for (i = 0; i < RE_MAX_NODES && cnt < cap; i++)
			if (st->node[i].used &&
			    st->node[i].destid != p->mdest[mp])
				ids[cnt++] = st->node[i].destid;
		re_unlock(st);
		/* the driver writes capacity + 2 words back (spec 3.3) */
		hd[0] = cnt;
		rc = re_cout(ptr, hd, sizeof hd);
		if (rc == 0 && cap)
			rc = re_cout((uint32_t *)ptr + 2, ids, cap * sizeof *ids);
		free(ids);
		return rc;
	}
	default:
		return -EINVAL;
	}
}

/* ------------------------------------------------------- mmap / close */
static void *re_dev_mmap(struct re_pfd *p, void *addr, size_t len, int prot,
                         int flags, off_t off)
{
	struct re_state *st = p->st;
	struct re_map *m;
	uint64_t o = (uint64_t)off;
	uint32_t mapid;
	int bfd = -1;
	off_t foff;
	void *ret;
	if (p->type != RE_T_MPORT) {
		errno = ENODEV;
		return MAP_FAILED;
	}
	re_lock(st);
	m = re_map_by_handle(st, p->destid, o);
	if (!m) {
		re_unlock(st);
		errno = ENOMEM;
		return MAP_FAILED;
	}
	if (o - m->handle + len > m->size) {
		re_unlock(st);
		errno = EINVAL;
		return MAP_FAILED;
	}
	if (m->type == RE_M_OUT) {
		/* CPU stores go to the target's inbound window */
		uint64_t ra = m->rio_addr + (o - m->handle);
		struct re_map *t = re_map_inbound(st, m->rioid, ra, len);
		if (!t) {
			re_unlock(st);
			errno = ENXIO;
			return MAP_FAILED;
		}
		mapid = t->id;
		foff = (off_t)(ra - t->rio_addr);
		m = t;
	} else {
		mapid = m->id;
		foff = (off_t)(o - m->handle);
	}
	re_map_mref(m, (int32_t)getpid(), 1);
	re_unlock(st);
	pthread_mutex_lock(&re_plock);
	bfd = re_backing_fd(p, mapid);
	ret = bfd < 0 ? MAP_FAILED
	              : re_real_mmap(addr, len, prot, flags, bfd, foff);
	if (ret != MAP_FAILED) {
		if (re_nmm == re_capmm) {
			int nc = re_capmm ? re_capmm * 2 : 64;
			struct re_mm *nm = (struct re_mm *)realloc(
			    re_mms, (size_t)nc * sizeof *nm);
			if (nm) {
				re_mms = nm;
				re_capmm = nc;
			}
		}
		if (re_nmm < re_capmm) {
			re_mms[re_nmm].addr = ret;
			re_mms[re_nmm].len = len;
			re_mms[re_nmm].st = st;
			re_mms[re_nmm].mapid = mapid;
			re_nmm++;
		}
	}
	pthread_mutex_unlock(&re_plock);
	if (ret == MAP_FAILED) {
		int e = errno;
		re_lock(st);
		{
			int i;
			for (i = 0; i < RE_MAX_MAPS; i++)
				if (st->map[i].used && st->map[i].id == mapid) {
					re_map_mref(&st->map[i],
					            (int32_t)getpid(), -1);
					re_map_maybe_free(st, p->fabric,
					                  &st->map[i]);
				}
		}
		re_unlock(st);
		errno = e;
	}
	return ret;
}

static const char *re_fabric_of(struct re_state *st)
{
	int i;
	for (i = 0; i < re_nfabrics; i++)
		if (re_fabrics[i].st == st)
			return re_fabrics[i].name;
	return "default";
}

static void re_munmapped(void *addr, size_t len)
{
	uintptr_t a = (uintptr_t)addr, e = a + len;
	int i, j;
	pthread_mutex_lock(&re_plock);
	for (i = 0; i < re_nmm;) {
		struct re_mm mm = re_mms[i];
		uintptr_t ma = (uintptr_t)mm.addr;
		if (ma >= a && ma + mm.len <= e) {
			re_mms[i] = re_mms[--re_nmm];
			re_lock(mm.st);
			for (j = 0; j < RE_MAX_MAPS; j++) {
				struct re_map *m = &mm.st->map[j];
				if (m->used && m->id == mm.mapid) {
					re_map_mref(m, (int32_t)getpid(), -1);
					re_map_maybe_free(mm.st,
					                  re_fabric_of(mm.st), m);
				}
			}
			re_unlock(mm.st);
			continue;
		}
		i++;
	}
	pthread_mutex_unlock(&re_plock);
}

static void re_dev_close(struct re_pfd *p)
{
	struct re_state *st = p->st;
	struct re_fdrec *r;
	if (p->pid != getpid())
		return; /* the opener still holds the open file */
	re_apply_delayed(p, 0);
	while (p->dhead) {
		struct re_delayed *d = p->dhead;
		p->dhead = d->next;
		free(d);
	}
	re_lock(st);
	r = re_fdrec_find(st, p->id);
	if (r)
		re_fdrec_release(st, p->fabric, r);
	re_unlock(st);
	free(p);
}

/* ---------------------------------------------------- test API */
int rioemu_stats_get(const char *fabric, struct rioemu_stats *out)
{
	struct re_state *st;
	re_syms();
	if (!fabric)
		fabric = getenv("FABTX_RIOEMU_FABRIC");
	if (!fabric || !*fabric)
		fabric = "default";
	if (!out)
		return -EINVAL;
	pthread_mutex_lock(&re_plock);
	st = re_attach(fabric);
	pthread_mutex_unlock(&re_plock);
	if (!st)
		return -ENOENT;
	re_lock(st);
	*out = st->stats;
	re_unlock(st);
	return 0;
}

int rioemu_ch_state(const char *fabric, uint16_t destid, uint16_t ch)
{
	struct re_state *st;
	struct re_ch *c;
	int rc;
	re_syms();
	if (!fabric)
		fabric = getenv("FABTX_RIOEMU_FABRIC");
	if (!fabric || !*fabric)
		fabric = "default";
	pthread_mutex_lock(&re_plock);
	st = re_attach(fabric);
	pthread_mutex_unlock(&re_plock);
	if (!st)
		return -ENOENT;
	re_lock(st);
	c = re_ch_find(st, destid, ch);
	rc = c ? (int)c->state : -ENOENT;
	re_unlock(st);
	return rc;
}

int rioemu_fabric_remove(const char *fabric)
{
	char pre[96];
	DIR *d;
	struct dirent *de;
	size_t pl;
	if (!fabric || !re_fabric_ok(fabric))
		return -EINVAL;
	pl = (size_t)snprintf(pre, sizeof pre, "fabtx-rioemu-%s.", fabric);
	d = opendir("/dev/shm");
	if (!d)
		return -errno;
	while ((de = readdir(d)) != NULL) {
		if (strncmp(de->d_name, pre, pl) == 0) {
			char path[400];
			snprintf(path, sizeof path, "/dev/shm/%s", de->d_name);
			unlink(path);
		}
	}
	closedir(d);
	return 0;
}

long rioemu_fail_dma_hits(void)
{
	return re_fault.init && re_fault.pid == getpid() ? re_fault.fail_dma_hits
	                                                 : 0;
}

int rioemu_fabric_sweep(const char *prefix)
{
	DIR *d;
	struct dirent *de;
	char pre[80];
	size_t pl;
	int n = 0;
	if (!prefix || !re_fabric_ok(prefix))
		return -EINVAL;
	pl = (size_t)snprintf(pre, sizeof pre, "fabtx-rioemu-%s", prefix);
	d = opendir("/dev/shm");
	if (!d)
		return -errno;
	while ((de = readdir(d)) != NULL) {
		char *end, path[400];
		long pid;
		if (strncmp(de->d_name, pre, pl) != 0)
			continue;
		pid = strtol(de->d_name + pl, &end, 10);
		if (end == de->d_name + pl || *end != '.' || pid <= 0 ||
		    !re_pid_dead((int32_t)pid))
			continue;
		snprintf(path, sizeof path, "/dev/shm/%s", de->d_name);
		if (unlink(path) == 0)
			n++;
	}
	closedir(d);
	return n;
}

/* --------------------------------------------------- interposed calls */
static int re_open_common(const char *path, int flags, mode_t mode, int dirfd,
                          int at)
{
	re_syms();
	if (re_is_dev(path))
		return re_open_dev(path, flags);
	if (at)
		return re_real_openat(dirfd, path, flags, mode);
	return re_real_open(path, flags, mode);
}

#define RE_MODE(flags, mode)                                                   \
	do {                                                                   \
		if ((flags) & (O_CREAT | O_TMPFILE)) {                        \
			va_list ap;                                            \
			va_start(ap, flags);                                   \
			mode = (mode_t)va_arg(ap, int);                        \
			va_end(ap);                                            \
		}                                                              \
	} while (0)

int open(const char *path, int flags, ...)
{
	mode_t mode = 0;
	RE_MODE(flags, mode);
	return re_open_common(path, flags, mode, AT_FDCWD, 0);
}

int open64(const char *path, int flags, ...)
{
	mode_t mode = 0;
	RE_MODE(flags, mode);
	return re_open_common(path, flags, mode, AT_FDCWD, 0);
}

int openat(int dirfd, const char *path, int flags, ...)
{
	mode_t mode = 0;
	RE_MODE(flags, mode);
	return re_open_common(path, flags, mode, dirfd, 1);
}

int openat64(int dirfd, const char *path, int flags, ...)
{
	mode_t mode = 0;
	RE_MODE(flags, mode);
	return re_open_common(path, flags, mode, dirfd, 1);
}

int __open_2(const char *path, int flags);
int __open_2(const char *path, int flags)
{
	return re_open_common(path, flags, 0, AT_FDCWD, 0);
}

int __open64_2(const char *path, int flags);
int __open64_2(const char *path, int flags)
{
	return re_open_common(path, flags, 0, AT_FDCWD, 0);
}

int close(int fd)
{
	struct re_pfd *p;
	re_syms();
	p = re_get(fd);
	if (p) {
		__atomic_store_n(&re_fds[fd], NULL, __ATOMIC_RELEASE);
		re_dev_close(p);
	}
	return re_real_close(fd);
}

int ioctl(int fd, unsigned long req, ...)
{
	struct re_pfd *p;
	unsigned long arg;
	va_list ap;
	int rc;
	va_start(ap, req);
	arg = va_arg(ap, unsigned long);
	va_end(ap);
	re_syms();
	p = re_get(fd);
	if (!p)
		return re_real_ioctl(fd, req, arg);
	re_fault_op();
	rc = p->type == RE_T_MPORT ? re_mport_ioctl(p, req, arg)
	                           : re_cm_ioctl(p, req, arg);
	if (rc < 0) {
		errno = -rc;
		return -1;
	}
	return rc;
}

void *mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
	struct re_pfd *p;
	re_syms();
	p = (flags & MAP_ANONYMOUS) ? NULL : re_get(fd);
	if (!p)
		return re_real_mmap(addr, len, prot, flags, fd, off);
	return re_dev_mmap(p, addr, len, prot, flags, off);
}

void *mmap64(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
	return mmap(addr, len, prot, flags, fd, off);
}

int munmap(void *addr, size_t len)
{
	int rc;
	re_syms();
	rc = re_real_munmap(addr, len);
	if (rc == 0 && re_nmm > 0)
		re_munmapped(addr, len);
	return rc;
}

ssize_t read(int fd, void *buf, size_t n)
{
	struct re_pfd *p;
	re_syms();
	p = re_get(fd);
	if (!p)
		return re_real_read(fd, buf, n);
	if (p->type != RE_T_MPORT) {
		errno = EINVAL; /* rio_cm has no read() */
		return -1;
	}
	return re_mport_read(fd, p, buf, n);
}

ssize_t write(int fd, const void *buf, size_t n)
{
	struct re_pfd *p;
	re_syms();
	p = re_get(fd);
	if (!p)
		return re_real_write(fd, buf, n);
	if (p->type != RE_T_MPORT) {
		errno = EINVAL;
		return -1;
	}
	return re_mport_write(p, buf, n);
}

int poll(struct pollfd *fds, nfds_t n, int timeout)
{
	nfds_t i;
	int any = 0, rc;
	short saved[64];
	re_syms();
	for (i = 0; i < n && i < 64; i++) {
		struct re_pfd *p = re_get(fds[i].fd);
		saved[i] = fds[i].events;
		if (p && p->type == RE_T_MPORT) {
			/* POLLIN|POLLRDNORM only (spec 2.6.6) */
			fds[i].events &= POLLIN | POLLRDNORM;
			any = 1;
		}
	}
	rc = re_real_poll(fds, n, timeout);
	if (any) {
		for (i = 0; i < n && i < 64; i++) {
			struct re_pfd *p = re_get(fds[i].fd);
			fds[i].events = saved[i];
			if (p && p->type == RE_T_MPORT)
				fds[i].revents &= POLLIN | POLLRDNORM | POLLNVAL;
		}
	}
	return rc;
}
