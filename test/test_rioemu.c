/* SPDX-License-Identifier: MIT */
/* test_rioemu.c -- the RapidIO emulator checked item by item against
 * spec/rio-uapi.md section 5 "What an emulator must reproduce".  Test names
 * start with the section-5 group (iface_, mport_, inbound_, dma_, db_,
 * order_, cm_) and name the item. */
#include <errno.h>
#include <fcntl.h>
#include <linux/rio_cm_cdev.h>
#include <linux/rio_mport_cdev.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "rioemu/rioemu.h"
#include "tt.h"

/* ---------------------------------------------------------- fixtures */
static char fab[64];
static pid_t fab_owner;

static void fab_cleanup(void)
{
	if (getpid() == fab_owner)
		rioemu_fabric_remove(fab);
}

static void node(int destid)
{
	char b[16];
	snprintf(b, sizeof b, "%d", destid);
	setenv("FABTX_RIOEMU_DESTID", b, 1);
}

static void setup(int destid)
{
	rioemu_fabric_sweep("te"); /* earlier tests' fabrics */
	snprintf(fab, sizeof fab, "te%d", (int)getpid());
	rioemu_fabric_remove(fab);
	setenv("FABTX_RIOEMU_FABRIC", fab, 1);
	setenv("FABTX_RIOEMU_DMA_TIMEOUT_MS", "100", 1);
	setenv("FABTX_RIOEMU_CONNECT_TIMEOUT_MS", "200", 1);
	node(destid);
	fab_owner = getpid();
	atexit(fab_cleanup);
}

static int mp_open(void)
{
	int fd = open("/dev/rio_mport0", O_RDWR | O_CLOEXEC);
	if (fd < 0)
		TT_FAIL("open /dev/rio_mport0: %s", strerror(errno));
	return fd;
}

static int cm_open(void)
{
	int fd = open("/dev/rio_cm", O_RDWR | O_CLOEXEC);
	if (fd < 0)
		TT_FAIL("open /dev/rio_cm: %s", strerror(errno));
	return fd;
}

/* expr must fail with errno e */
#define ERR(expr, e)                                                           \
	do {                                                                   \
		long long r_;                                                  \
		errno = 0;                                                     \
		r_ = (long long)(expr);                                        \
		if (r_ != -1 || errno != (e))                                  \
			TT_FAIL("%s: got %lld errno %d (%s), want errno %d",   \
			        #expr, r_, errno, strerror(errno), (e));       \
	} while (0)

static void enable_db(int fd, uint16_t rioid, uint16_t low, uint16_t high)
{
	struct rio_doorbell_filter f;
	memset(&f, 0, sizeof f);
	f.rioid = rioid;
	f.low = low;
	f.high = high;
	TT_OK(ioctl(fd, RIO_ENABLE_DOORBELL_RANGE, &f));
	TT_OK(ioctl(fd, RIO_SET_EVENT_MASK, RIO_DOORBELL));
}

static int ring(int fd, uint16_t dest, uint16_t info)
{
	struct rio_event ev;
	memset(&ev, 0, sizeof ev);
	ev.header = RIO_DOORBELL;
	ev.u.doorbell.rioid = dest;
	ev.u.doorbell.payload = info;
	return (int)write(fd, &ev, sizeof ev);
}

static int read_ev(int fd, struct rio_event *ev)
{
	return (int)read(fd, ev, sizeof *ev);
}

static uint64_t map_in(int fd, uint64_t rio_addr, uint64_t len,
                       uint64_t *handle)
{
	struct rio_mmap m;
	memset(&m, 0, sizeof m);
	m.rio_addr = rio_addr;
	m.length = len;
	TT_OK(ioctl(fd, RIO_MAP_INBOUND, &m));
	*handle = m.handle;
	return m.rio_addr;
}

static int xfer(int fd, int sync, uint16_t dest, uint64_t rio_addr,
                const void *src, uint64_t len, uint16_t method)
{
	struct rio_transfer_io x;
	struct rio_transaction t;
	memset(&x, 0, sizeof x);
	memset(&t, 0, sizeof t);
	x.rio_addr = rio_addr;
	x.loc_addr = (uint64_t)(uintptr_t)src;
	x.length = len;
	x.rioid = dest;
	x.method = method;
	t.block = (uint64_t)(uintptr_t)&x;
	t.count = 1;
	t.transfer_mode = RIO_TRANSFER_MODE_TRANSFER;
	t.sync = (uint16_t)sync;
	t.dir = RIO_TRANSFER_DIR_WRITE;
	return ioctl(fd, RIO_TRANSFER, &t);
}

static void wr_u64(int fd, uint64_t v)
{
	TT_EQ(write(fd, &v, sizeof v), (long long)sizeof v);
}

static uint64_t rd_u64(int fd)
{
	uint64_t v = 0;
	if (read(fd, &v, sizeof v) != (ssize_t)sizeof v)
		TT_FAIL("pipe read");
	return v;
}

static void reap(pid_t pid)
{
	int st = 0;
	TT_EQ(waitpid(pid, &st, 0), pid);
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		TT_FAIL("helper process failed (status 0x%x)", st);
}

/* ------------------------------------------------------ interface shape */
/* A bad user pointer anywhere gives EFAULT (spec 1.1), never a crash. */
TT_TEST(iface_bad_user_pointers_efault)
{
	int mp, cm;
	uint64_t h, ra;
	volatile uintptr_t badaddr = 0x10; /* unmapped; hidden from gcc */
	void *bad = (void *)badaddr;
	struct rio_transaction t;
	struct rio_cm_msg m;
	char ev[72];
	setup(1);
	mp = mp_open();
	cm = cm_open();
	ERR(ioctl(mp, RIO_MPORT_GET_PROPERTIES, bad), EFAULT);
	ERR(ioctl(mp, RIO_MAP_INBOUND, bad), EFAULT);
	ERR(ioctl(mp, RIO_UNMAP_INBOUND, bad), EFAULT);
	ERR(ioctl(mp, RIO_TRANSFER, bad), EFAULT);
	ERR(ioctl(mp, RIO_ENABLE_DOORBELL_RANGE, bad), EFAULT);
	ERR(ioctl(cm, RIO_CM_CHAN_CREATE, bad), EFAULT);
	ERR(ioctl(cm, RIO_CM_EP_GET_LIST, bad), EFAULT);
	ERR(write(mp, bad, 72), EFAULT);
	ra = map_in(mp, RIO_MAP_ANY_ADDR, 4096, &h);
	memset(&t, 0, sizeof t);
	t.block = 0x20; /* bad block pointer */
	t.count = 1;
	t.transfer_mode = RIO_TRANSFER_MODE_TRANSFER;
	ERR(ioctl(mp, RIO_TRANSFER, &t), EFAULT);
	ERR(xfer(mp, RIO_TRANSFER_SYNC, 1, ra, bad, 64, RIO_EXCHANGE_NWRITE_R),
	    EFAULT); /* bad local data */
	memset(&m, 0, sizeof m);
	m.ch_num = 5;
	m.size = 64;
	m.msg = 0x30;
	ERR(ioctl(cm, RIO_CM_CHAN_SEND, &m), EFAULT);
	(void)ev;
	close(mp);
	close(cm);
}

TT_TEST(iface_struct_sizes_offsets_ioctl_numbers)
{
	TT_EQ(sizeof(struct rio_mport_properties), 48);
	TT_EQ(sizeof(struct rio_doorbell_filter), 8);
	TT_EQ(sizeof(struct rio_event), 72);
	TT_EQ(offsetof(struct rio_event, u), 4);
	TT_EQ(sizeof(struct rio_mmap), 40);
	TT_EQ(sizeof(struct rio_dma_mem), 24);
	TT_EQ(sizeof(struct rio_transfer_io), 48);
	TT_EQ(offsetof(struct rio_transfer_io, rioid), 40);
	TT_EQ(sizeof(struct rio_transaction), 24);
	TT_EQ(sizeof(struct rio_async_tx_wait), 8);
	TT_EQ(sizeof(struct rio_cm_channel), 8);
	TT_EQ(sizeof(struct rio_cm_msg), 16);
	TT_EQ(sizeof(struct rio_cm_accept), 8);
	TT_EQ(RIO_MPORT_GET_PROPERTIES, 0x80306d04);
	TT_EQ(RIO_ENABLE_DOORBELL_RANGE, 0x40086d09);
	TT_EQ(RIO_SET_EVENT_MASK, 0x40046d0d);
	TT_EQ(RIO_MAP_INBOUND, 0xc0286d11);
	TT_EQ(RIO_UNMAP_INBOUND, 0x40086d12);
	TT_EQ(RIO_TRANSFER, 0xc0186d15);
	TT_EQ(RIO_WAIT_FOR_ASYNC, 0x40086d16);
	TT_EQ(RIO_CM_CHAN_CREATE, 0xc0026303);
	TT_EQ(RIO_CM_CHAN_ACCEPT, 0xc0086307);
	TT_EQ(RIO_CM_CHAN_RECEIVE, 0xc010630a);
}

TT_TEST(iface_unknown_ioctl_einval)
{
	int mp, cm;
	uint32_t x = 0;
	setup(1);
	mp = mp_open();
	cm = cm_open();
	ERR(ioctl(mp, _IOW('m', 99, uint32_t), &x), EINVAL);
	ERR(ioctl(mp, RIO_CM_CHAN_CREATE, &x), EINVAL);
	ERR(ioctl(cm, _IOW('c', 99, uint32_t), &x), EINVAL);
	ERR(ioctl(cm, RIO_MPORT_GET_PROPERTIES, &x), EINVAL);
	close(mp);
	close(cm);
}

TT_TEST(iface_set_event_mask_by_value)
{
	int mp;
	uint32_t m = 0xdead;
	setup(1);
	mp = mp_open();
	TT_OK(ioctl(mp, RIO_GET_EVENT_MASK, &m));
	TT_EQ(m, 0); /* initially nothing is delivered */
	TT_OK(ioctl(mp, RIO_SET_EVENT_MASK, RIO_DOORBELL | RIO_PORTWRITE));
	TT_OK(ioctl(mp, RIO_GET_EVENT_MASK, &m));
	TT_EQ(m, RIO_DOORBELL | RIO_PORTWRITE);
	close(mp);
}

TT_TEST(iface_unmap_and_free_read_u64_handle)
{
	int mp;
	uint64_t h, *hp = (uint64_t *)malloc(sizeof *hp); /* exactly 8 bytes */
	struct rio_dma_mem d;
	setup(1);
	mp = mp_open();
	map_in(mp, RIO_MAP_ANY_ADDR, 65536, &h);
	*hp = h;
	TT_OK(ioctl(mp, RIO_UNMAP_INBOUND, hp));
	memset(&d, 0, sizeof d);
	d.length = 4096;
	TT_OK(ioctl(mp, RIO_ALLOC_DMA, &d));
	*hp = d.dma_handle;
	TT_OK(ioctl(mp, RIO_FREE_DMA, hp));
	ERR(ioctl(mp, RIO_FREE_DMA, hp), EFAULT); /* already freed */
	free(hp);
	close(mp);
}

TT_TEST(iface_mport_ops_and_cm_ioctl_only)
{
	int mp, cm;
	char b[72];
	struct pollfd pf;
	setup(1);
	mp = mp_open();
	cm = cm_open();
	/* rio_cm: poll always reports ready; no read/write/mmap */
	pf.fd = cm;
	pf.events = POLLIN | POLLOUT;
	pf.revents = 0;
	TT_EQ(poll(&pf, 1, 0), 1);
	TT_ASSERT(pf.revents & POLLIN);
	TT_ASSERT(pf.revents & POLLOUT);
	ERR(read(cm, b, sizeof b), EINVAL);
	ERR(write(cm, b, sizeof b), EINVAL);
	TT_ASSERT(mmap(NULL, 4096, PROT_READ, MAP_SHARED, cm, 0) == MAP_FAILED);
	/* mport: open/close/ioctl/read/write/poll/mmap all reach the device */
	TT_EQ(write(mp, b, 0), 0);
	TT_EQ(read(mp, b, 0), 0);
	close(cm);
	close(mp);
}

TT_TEST(iface_no_device_without_node_identity)
{
	unsetenv("FABTX_RIOEMU_DESTID");
	ERR(open("/dev/rio_mport0", O_RDWR), ENOENT);
	ERR(open("/dev/rio_cm", O_RDWR), ENOENT);
	setup(3);
	ERR(open("/dev/rio_mport1", O_RDWR), ENOENT); /* only mport 0 */
	/* other paths are untouched */
	TT_ASSERT(open("/dev/null", O_RDONLY) >= 0);
}

/* ----------------------------------------------------------------- mport */
TT_TEST(mport_get_properties_values)
{
	int mp;
	struct rio_mport_properties p;
	setup(7);
	mp = mp_open();
	memset(&p, 0xee, sizeof p);
	TT_OK(ioctl(mp, RIO_MPORT_GET_PROPERTIES, &p));
	TT_EQ(p.hdid, 7);
	TT_EQ(p.id, 0);
	TT_EQ(p.port_ok, 0);
	TT_EQ(p.transfer_mode, RIO_TRANSFER_MODE_TRANSFER);
	TT_EQ(p.cap_sys_size, 0);
	TT_EQ(p.cap_addr_size, 0);
	TT_EQ(p.cap_transfer_mode, 0);
	TT_EQ(p.cap_mport, 0);
	TT_EQ(p.flags & 1, 1); /* RIO_MPORT_DMA */
	TT_EQ(p.dma_max_size, 0x4000000);
	close(mp);
}

TT_TEST(mport_handles_page_aligned_unique_and_shared_across_fds)
{
	int a, b, i;
	uint64_t h[6];
	struct rio_dma_mem d;
	void *p;
	setup(1);
	a = mp_open();
	b = mp_open();
	for (i = 0; i < 3; i++)
		map_in(a, RIO_MAP_ANY_ADDR, 5000, &h[i]);
	for (i = 3; i < 6; i++) {
		memset(&d, 0, sizeof d);
		d.length = 100;
		TT_OK(ioctl(b, RIO_ALLOC_DMA, &d));
		h[i] = d.dma_handle;
	}
	for (i = 0; i < 6; i++) {
		int j;
		TT_EQ(h[i] % 4096, 0);
		for (j = 0; j < i; j++)
			TT_ASSERT(h[i] != h[j]);
	}
	/* a handle from fd a is usable as mmap offset on fd b */
	p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, b, (off_t)h[0]);
	TT_ASSERT(p != MAP_FAILED);
	munmap(p, 4096);
	close(a);
	close(b);
}

TT_TEST(mport_mmap_enomem_einval_rules)
{
	int mp;
	uint64_t h;
	void *p;
	setup(1);
	mp = mp_open();
	map_in(mp, RIO_MAP_ANY_ADDR, 8192, &h);
	errno = 0;
	p = mmap(NULL, 4096, PROT_READ, MAP_SHARED, mp, (off_t)(h + 0x100000));
	TT_ASSERT(p == MAP_FAILED);
	TT_EQ(errno, ENOMEM); /* no mapping contains the offset */
	errno = 0;
	p = mmap(NULL, 3 * 4096, PROT_READ, MAP_SHARED, mp, (off_t)h);
	TT_ASSERT(p == MAP_FAILED);
	TT_EQ(errno, EINVAL); /* off - handle + len > size */
	p = mmap(NULL, 4096, PROT_READ, MAP_SHARED, mp, (off_t)(h + 4096));
	TT_ASSERT(p != MAP_FAILED); /* range-contained offset */
	munmap(p, 4096);
	close(mp);
}

/* mmap references keep an inbound window alive (and reachable by peers)
 * after UNMAP_INBOUND and close(). */
TT_TEST(mport_mmap_ref_keeps_inbound_window_alive)
{
	int mp, p2c[2], c2p[2];
	uint64_t h, ra;
	volatile uint8_t *w;
	pid_t pid;
	setup(1);
	TT_OK(pipe(p2c));
	TT_OK(pipe(c2p));
	mp = mp_open();
	ra = map_in(mp, RIO_MAP_ANY_ADDR, 4096, &h);
	w = (volatile uint8_t *)mmap(NULL, 4096, PROT_READ | PROT_WRITE,
	                             MAP_SHARED, mp, (off_t)h);
	TT_ASSERT(w != MAP_FAILED);
	TT_OK(ioctl(mp, RIO_UNMAP_INBOUND, &h));
	close(mp);
	pid = fork();
	if (pid == 0) {
		int fd;
		char msg[] = "still here";
		node(2);
		fd = mp_open();
		rd_u64(p2c[0]);
		TT_OK(xfer(fd, RIO_TRANSFER_SYNC, 1, ra + 100, msg, sizeof msg,
		           RIO_EXCHANGE_NWRITE_R));
		wr_u64(c2p[1], 1);
		_exit(0);
	}
	wr_u64(p2c[1], 1);
	TT_EQ(rd_u64(c2p[0]), 1);
	TT_ASSERT(memcmp((const void *)(w + 100), "still here", 11) == 0);
	reap(pid);
	munmap((void *)w, 4096);
}

TT_TEST(inbound_any_addr_remap_overlap_length)
{
	int a, b;
	uint64_t h1, h2, h3, ra;
	struct rio_mmap m;
	setup(1);
	a = mp_open();
	b = mp_open();
	ra = map_in(a, RIO_MAP_ANY_ADDR, 65536, &h1);
	TT_EQ(ra, h1); /* ANY_ADDR: 1:1 */
	ra = map_in(a, 0x40000000, 65536, &h2);
	TT_EQ(ra, 0x40000000);
	/* exact same base and size from another fd: the same mapping */
	TT_EQ(map_in(b, 0x40000000, 65536, &h3), 0x40000000);
	TT_EQ(h3, h2);
	memset(&m, 0, sizeof m);
	m.rio_addr = 0x40008000;
	m.length = 65536;
	ERR(ioctl(b, RIO_MAP_INBOUND, &m), EBUSY);
	m.rio_addr = RIO_MAP_ANY_ADDR;
	m.length = 0x100000000ull;
	ERR(ioctl(b, RIO_MAP_INBOUND, &m), EINVAL);
	close(a);
	close(b);
}

TT_TEST(mport_unmap_unknown_0_free_dma_unknown_efault)
{
	int a, b;
	uint64_t h, bogus = 0x123000;
	struct rio_dma_mem d;
	setup(1);
	a = mp_open();
	b = mp_open();
	TT_EQ(ioctl(a, RIO_UNMAP_INBOUND, &bogus), 0);
	TT_EQ(ioctl(a, RIO_UNMAP_OUTBOUND, &bogus), 0);
	ERR(ioctl(a, RIO_FREE_DMA, &bogus), EFAULT);
	map_in(a, RIO_MAP_ANY_ADDR, 4096, &h);
	TT_EQ(ioctl(b, RIO_UNMAP_INBOUND, &h), 0); /* foreign: ignored */
	TT_ASSERT(mmap(NULL, 4096, PROT_READ, MAP_SHARED, a, (off_t)h) !=
	          MAP_FAILED); /* ... so the window is still there */
	memset(&d, 0, sizeof d);
	d.length = 4096;
	TT_OK(ioctl(a, RIO_ALLOC_DMA, &d));
	ERR(ioctl(b, RIO_FREE_DMA, &d.dma_handle), EFAULT); /* foreign */
	TT_OK(ioctl(a, RIO_FREE_DMA, &d.dma_handle));
	close(a);
	close(b);
}

TT_TEST(inbound_outbound_strict_tsi721_limits)
{
	int mp, i;
	uint64_t h;
	struct rio_mmap m;
	setup(1);
	setenv("FABTX_RIOEMU_STRICT", "1", 1);
	mp = mp_open();
	memset(&m, 0, sizeof m);
	m.rio_addr = 0x10000;
	m.length = 12288; /* not a power of two */
	ERR(ioctl(mp, RIO_MAP_INBOUND, &m), EINVAL);
	m.length = 2048; /* < 4 KiB */
	ERR(ioctl(mp, RIO_MAP_INBOUND, &m), EINVAL);
	m.rio_addr = 0x11000;
	m.length = 0x2000; /* not size-aligned */
	ERR(ioctl(mp, RIO_MAP_INBOUND, &m), EINVAL);
	m.rio_addr = 0x10000;
	m.length = 0x10000;
	TT_OK(ioctl(mp, RIO_MAP_INBOUND, &m));
	for (i = 1; i < 8; i++)
		map_in(mp, RIO_MAP_ANY_ADDR, 5000, &h); /* 1:1: any size */
	m.rio_addr = RIO_MAP_ANY_ADDR;
	m.length = 4096;
	ERR(ioctl(mp, RIO_MAP_INBOUND, &m), EBUSY); /* 8 windows */
	memset(&m, 0, sizeof m);
	m.rioid = 2;
	m.rio_addr = 0;
	m.length = 16384; /* outbound: >= 32 KiB */
	ERR(ioctl(mp, RIO_MAP_OUTBOUND, &m), EINVAL);
	m.length = 32768;
	TT_OK(ioctl(mp, RIO_MAP_OUTBOUND, &m));
	close(mp);
}

/* ------------------------------------------------------------------ DMA */
TT_TEST(dma_transfer_validation_order_and_errnos)
{
	int mp;
	uint64_t h, ra;
	char buf[64] = {0};
	struct rio_transfer_io x;
	struct rio_transaction t;
	setup(1);
	mp = mp_open();
	ra = map_in(mp, RIO_MAP_ANY_ADDR, 4096, &h);
	memset(&x, 0, sizeof x);
	memset(&t, 0, sizeof t);
	x.rio_addr = ra;
	x.loc_addr = (uint64_t)(uintptr_t)buf;
	x.length = sizeof buf;
	x.rioid = 1;
	t.block = (uint64_t)(uintptr_t)&x;
	t.count = 2;
	t.transfer_mode = RIO_TRANSFER_MODE_TRANSFER;
	t.dir = RIO_TRANSFER_DIR_WRITE;
	ERR(ioctl(mp, RIO_TRANSFER, &t), EINVAL); /* count != 1 */
	t.count = 1;
	t.transfer_mode = RIO_TRANSFER_MODE_MAPPED;
	ERR(ioctl(mp, RIO_TRANSFER, &t), ENODEV);
	t.transfer_mode = RIO_TRANSFER_MODE_TRANSFER;
	x.length = 0;
	ERR(ioctl(mp, RIO_TRANSFER, &t), EINVAL);
	x.length = sizeof buf;
	x.method = RIO_EXCHANGE_SWRITE;
	ERR(ioctl(mp, RIO_TRANSFER, &t), EINVAL);
	x.method = RIO_EXCHANGE_SWRITE_R;
	ERR(ioctl(mp, RIO_TRANSFER, &t), EINVAL);
	x.method = 77;
	ERR(ioctl(mp, RIO_TRANSFER, &t), EINVAL);
	x.method = RIO_EXCHANGE_NWRITE_R;
	/* option B: handle + offset */
	x.loc_addr = 0;
	x.handle = h + 0x100000;
	ERR(ioctl(mp, RIO_TRANSFER, &t), ENOMEM); /* handle unknown */
	x.handle = h + 1024; /* inside: checked against the whole size */
	x.offset = 4096 - 32;
	ERR(ioctl(mp, RIO_TRANSFER, &t), EINVAL);
	x.offset = 3500; /* inside the size, but past the buffer end when
	                  * counted from where the handle points: the kernel
	                  * would DMA out of bounds, the emulator refuses */
	ERR(ioctl(mp, RIO_TRANSFER, &t), EINVAL);
	x.offset = 0;
	TT_OK(ioctl(mp, RIO_TRANSFER, &t)); /* loopback, window to window */
	close(mp);
}

TT_TEST(dma_sync_data_visible_before_doorbell)
{
	int p2c[2], c2p[2], mp, i;
	uint64_t h, ra;
	volatile uint8_t *w;
	struct rio_event ev;
	pid_t pid;
	setup(1);
	TT_OK(pipe(p2c));
	TT_OK(pipe(c2p));
	mp = mp_open();
	ra = map_in(mp, RIO_MAP_ANY_ADDR, 1 << 20, &h);
	w = (volatile uint8_t *)mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE,
	                             MAP_SHARED, mp, (off_t)h);
	TT_ASSERT(w != MAP_FAILED);
	enable_db(mp, 2, 100, 199);
	pid = fork();
	if (pid == 0) {
		int fd, k;
		uint8_t *src = (uint8_t *)malloc(1 << 20);
		node(2);
		fd = mp_open();
		rd_u64(p2c[0]);
		for (k = 0; k < 50; k++) {
			memset(src, k + 1, 1 << 20);
			TT_OK(xfer(fd, RIO_TRANSFER_SYNC, 1, ra, src, 1 << 20,
			           k & 1 ? RIO_EXCHANGE_DEFAULT
			                 : RIO_EXCHANGE_NWRITE_R));
			TT_EQ(ring(fd, 1, (uint16_t)(100 + k)), 72);
			rd_u64(p2c[0]); /* receiver checked it */
		}
		_exit(0);
	}
	wr_u64(p2c[1], 1);
	for (i = 0; i < 50; i++) {
		TT_EQ(read_ev(mp, &ev), 72);
		TT_EQ(ev.header, RIO_DOORBELL);
		TT_EQ(ev.u.doorbell.rioid, 2); /* the source destID */
		TT_EQ(ev.u.doorbell.payload, 100 + i);
		TT_EQ(w[0], i + 1);
		TT_EQ(w[(1 << 20) - 1], i + 1);
		wr_u64(p2c[1], 1);
	}
	reap(pid);
}

TT_TEST(dma_async_token_wait_semantics)
{
	int mp, mp2, tok, tok2;
	uint64_t h, ra;
	char buf[256];
	struct rio_async_tx_wait w;
	setup(1);
	mp = mp_open();
	mp2 = mp_open();
	ra = map_in(mp, RIO_MAP_ANY_ADDR, 4096, &h);
	memset(buf, 7, sizeof buf);
	tok = xfer(mp, RIO_TRANSFER_ASYNC, 1, ra, buf, sizeof buf,
	           RIO_EXCHANGE_DEFAULT);
	TT_ASSERT(tok > 0);
	tok2 = xfer(mp, RIO_TRANSFER_ASYNC, 1, ra, buf, sizeof buf,
	            RIO_EXCHANGE_DEFAULT);
	TT_ASSERT(tok2 > tok); /* monotonic */
	w.token = (uint32_t)tok;
	w.timeout = 1000;
	ERR(ioctl(mp2, RIO_WAIT_FOR_ASYNC, &w), EAGAIN); /* other fd */
	TT_EQ(ioctl(mp, RIO_WAIT_FOR_ASYNC, &w), 0);
	ERR(ioctl(mp, RIO_WAIT_FOR_ASYNC, &w), EAGAIN); /* consumed */
	w.token = 999;
	ERR(ioctl(mp, RIO_WAIT_FOR_ASYNC, &w), EAGAIN); /* never issued */
	/* FAF: 0 immediately, never reports */
	TT_EQ(xfer(mp, RIO_TRANSFER_FAF, 1, ra, buf, sizeof buf,
	           RIO_EXCHANGE_NWRITE),
	      0);
	close(mp);
	close(mp2);
}

TT_TEST(dma_to_unmapped_target_etimedout_after_dma_timeout)
{
	int mp, tok;
	uint64_t h, ra, t0;
	char buf[16] = "x";
	struct rio_async_tx_wait w;
	setup(1);
	mp = mp_open();
	ra = map_in(mp, RIO_MAP_ANY_ADDR, 4096, &h);
	t0 = (uint64_t)time(NULL);
	ERR(xfer(mp, RIO_TRANSFER_SYNC, 1, ra + 4096, buf, 16,
	         RIO_EXCHANGE_NWRITE_R),
	    ETIMEDOUT); /* not covered by any window */
	ERR(xfer(mp, RIO_TRANSFER_SYNC, 1, ra + 4090, buf, 16,
	         RIO_EXCHANGE_NWRITE_R),
	    ETIMEDOUT); /* runs past the window end */
	ERR(xfer(mp, RIO_TRANSFER_SYNC, 9, ra, buf, 16, RIO_EXCHANGE_NWRITE_R),
	    ETIMEDOUT); /* unknown destID */
	tok = xfer(mp, RIO_TRANSFER_ASYNC, 9, ra, buf, 16, RIO_EXCHANGE_NWRITE_R);
	TT_ASSERT(tok > 0);
	w.token = (uint32_t)tok;
	w.timeout = 10;
	ERR(ioctl(mp, RIO_WAIT_FOR_ASYNC, &w), ETIMEDOUT);
	ERR(ioctl(mp, RIO_WAIT_FOR_ASYNC, &w), ETIMEDOUT); /* still pending */
	(void)t0;
	close(mp);
}

/* A process that dies releases its windows (the kernel closes its fds and
 * mappings): a DMA into one then times out like any unmapped address. */
TT_TEST(dma_into_window_of_dead_process_etimedout)
{
	int mp, c2p[2];
	uint64_t ra;
	char buf[8] = "x";
	pid_t pid;
	setup(1);
	TT_OK(pipe(c2p));
	pid = fork();
	if (pid == 0) {
		int fd;
		uint64_t h;
		void *w;
		node(2);
		fd = mp_open();
		wr_u64(c2p[1], map_in(fd, RIO_MAP_ANY_ADDR, 4096, &h));
		w = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
		         (off_t)h);
		TT_ASSERT(w != MAP_FAILED);
		_exit(0); /* no close, no munmap */
	}
	ra = rd_u64(c2p[0]);
	mp = mp_open();
	TT_EQ(waitpid(pid, NULL, 0), pid);
	ERR(xfer(mp, RIO_TRANSFER_SYNC, 2, ra, buf, sizeof buf,
	         RIO_EXCHANGE_NWRITE_R),
	    ETIMEDOUT);
	close(mp);
}

/* ------------------------------------------------------------- doorbells */
TT_TEST(db_write_record_rules)
{
	int mp, tx;
	struct rio_event ev[2];
	struct rio_event in;
	setup(1);
	mp = mp_open();
	tx = mp_open();
	enable_db(mp, 0xffff, 10, 20);
	TT_EQ(write(tx, ev, 0), 0);
	ERR(write(tx, ev, 71), EINVAL);
	ERR(write(tx, ev, 73), EINVAL);
	memset(ev, 0, sizeof ev);
	ev[0].header = RIO_DOORBELL;
	ev[0].u.doorbell.rioid = 1;
	ev[0].u.doorbell.payload = 11;
	ev[1].header = RIO_PORTWRITE; /* bad record after a good one */
	ERR(write(tx, ev, sizeof ev), EINVAL);
	TT_EQ(read_ev(mp, &in), 72); /* the first one was already sent */
	TT_EQ(in.u.doorbell.payload, 11);
	ev[1] = ev[0];
	ev[1].u.doorbell.payload = 12;
	TT_EQ(write(tx, ev, sizeof ev), (long long)sizeof ev);
	TT_EQ(read_ev(mp, &in), 72);
	TT_EQ(in.u.doorbell.payload, 11);
	TT_EQ(read_ev(mp, &in), 72);
	TT_EQ(in.u.doorbell.payload, 12);
	close(mp);
	close(tx);
}

TT_TEST(db_delivery_needs_range_filter_rioid_and_mask)
{
	int rx, rx2, p2c[2], c2p[2];
	struct rio_event ev;
	struct rioemu_stats s0, s1;
	pid_t pid;
	setup(1);
	TT_OK(pipe(p2c));
	TT_OK(pipe(c2p));
	rx = mp_open();
	rx2 = mp_open();
	fcntl(rx, F_SETFL, O_NONBLOCK);
	fcntl(rx2, F_SETFL, O_NONBLOCK);
	enable_db(rx, 2, 100, 109);      /* only from destID 2 */
	enable_db(rx2, 0xffff, 200, 209); /* any source, mask set below */
	TT_OK(ioctl(rx2, RIO_SET_EVENT_MASK, 0));
	TT_OK(rioemu_stats_get(NULL, &s0));
	pid = fork();
	if (pid == 0) {
		int fd;
		node((int)rd_u64(p2c[0]));
		fd = mp_open();
		TT_EQ(ring(fd, 1, 105), 72); /* in range */
		TT_EQ(ring(fd, 1, 110), 72); /* outside every range */
		TT_EQ(ring(fd, 1, 205), 72); /* rx2 mask is 0 */
		TT_EQ(ring(fd, 7, 105), 72); /* to a node that does not exist */
		close(fd);
		wr_u64(c2p[1], 1);
		_exit(0);
	}
	wr_u64(p2c[1], 3); /* a source that the rx filter rejects */
	rd_u64(c2p[0]);
	reap(pid);
	ERR(read_ev(rx, &ev), EAGAIN);
	ERR(read_ev(rx2, &ev), EAGAIN);
	pid = fork();
	if (pid == 0) {
		int fd;
		node((int)rd_u64(p2c[0]));
		fd = mp_open();
		TT_EQ(ring(fd, 1, 105), 72);
		close(fd);
		wr_u64(c2p[1], 1);
		_exit(0);
	}
	wr_u64(p2c[1], 2);
	rd_u64(c2p[0]);
	reap(pid);
	TT_EQ(read_ev(rx, &ev), 72);
	TT_EQ(ev.u.doorbell.rioid, 2);
	TT_EQ(ev.u.doorbell.payload, 105);
	ERR(read_ev(rx, &ev), EAGAIN);
	TT_OK(rioemu_stats_get(NULL, &s1));
	TT_EQ(s1.db_queued - s0.db_queued, 1);
	TT_EQ(s1.db_dropped_nofilter - s0.db_dropped_nofilter, 4);
	close(rx);
	close(rx2);
}

TT_TEST(db_fifo_holds_14_then_drops_silently)
{
	int rx, tx, i;
	struct rio_event ev;
	struct rioemu_stats s0, s1;
	setup(1);
	rx = mp_open();
	tx = mp_open();
	fcntl(rx, F_SETFL, O_NONBLOCK);
	enable_db(rx, 0xffff, 1000, 1100);
	TT_OK(rioemu_stats_get(NULL, &s0));
	for (i = 0; i < 20; i++)
		TT_EQ(ring(tx, 1, (uint16_t)(1000 + i)), 72); /* never fails */
	for (i = 0; i < 14; i++) {
		TT_EQ(read_ev(rx, &ev), 72);
		TT_EQ(ev.u.doorbell.payload, 1000 + i); /* the first 14 */
	}
	ERR(read_ev(rx, &ev), EAGAIN);
	TT_OK(rioemu_stats_get(NULL, &s1));
	TT_EQ(s1.db_dropped_fifo - s0.db_dropped_fifo, 6);
	close(rx);
	close(tx);
}

TT_TEST(db_read_rules)
{
	int rx, tx;
	struct rio_event ev[3];
	setup(1);
	rx = mp_open();
	tx = mp_open();
	fcntl(rx, F_SETFL, O_NONBLOCK);
	enable_db(rx, 0xffff, 1, 9);
	TT_EQ(read(rx, ev, 0), 0);
	ERR(read(rx, ev, 5), EAGAIN); /* EAGAIN is checked before EINVAL */
	TT_EQ(ring(tx, 1, 1), 72);
	ERR(read(rx, ev, 5), EINVAL);
	ERR(read(rx, ev, 100), EINVAL);
	TT_EQ(ring(tx, 1, 2), 72);
	TT_EQ(read(rx, ev, 2 * 72), 2 * 72); /* whole records */
	TT_EQ(ev[0].u.doorbell.payload, 1);
	TT_EQ(ev[1].u.doorbell.payload, 2);
	close(rx);
	close(tx);
}

/* A blocking read of 2 records returns only when both are there. */
TT_TEST(db_blocking_read_waits_for_count_bytes)
{
	int rx, p2c[2];
	struct rio_event ev[2];
	pid_t pid;
	setup(1);
	TT_OK(pipe(p2c));
	rx = mp_open();
	enable_db(rx, 0xffff, 1, 9);
	pid = fork();
	if (pid == 0) {
		int fd;
		node(2);
		fd = mp_open();
		rd_u64(p2c[0]);
		TT_EQ(ring(fd, 1, 3), 72);
		rd_u64(p2c[0]);
		TT_EQ(ring(fd, 1, 4), 72);
		_exit(0);
	}
	wr_u64(p2c[1], 1);
	wr_u64(p2c[1], 1);
	TT_EQ(read(rx, ev, sizeof ev), (long long)sizeof ev);
	TT_EQ(ev[0].u.doorbell.payload, 3);
	TT_EQ(ev[1].u.doorbell.payload, 4);
	reap(pid);
}

TT_TEST(db_poll_pollin_rdnorm_only)
{
	int rx, tx;
	struct pollfd pf;
	struct rio_event ev;
	setup(1);
	rx = mp_open();
	tx = mp_open();
	enable_db(rx, 0xffff, 1, 9);
	pf.fd = rx;
	pf.events = POLLIN | POLLOUT | POLLRDNORM;
	pf.revents = 0;
	TT_EQ(poll(&pf, 1, 0), 0); /* empty: no bits, not even POLLOUT */
	TT_EQ(pf.revents, 0);
	TT_EQ(ring(tx, 1, 5), 72);
	TT_EQ(poll(&pf, 1, 1000), 1);
	TT_EQ(pf.revents, POLLIN | POLLRDNORM);
	TT_EQ(read_ev(rx, &ev), 72);
	TT_EQ(poll(&pf, 1, 0), 0);
	close(rx);
	close(tx);
}

TT_TEST(db_range_ebusy_across_fds_disable_exact_close_leaks)
{
	int a, b;
	struct rio_doorbell_filter f;
	setup(1);
	a = mp_open();
	b = mp_open();
	memset(&f, 0, sizeof f);
	f.rioid = 0xffff;
	f.low = 20;
	f.high = 10;
	ERR(ioctl(a, RIO_ENABLE_DOORBELL_RANGE, &f), EINVAL); /* low > high */
	ERR(ioctl(a, RIO_DISABLE_DOORBELL_RANGE, &f), EINVAL);
	f.low = 10;
	f.high = 20;
	TT_OK(ioctl(a, RIO_ENABLE_DOORBELL_RANGE, &f));
	f.low = 20;
	f.high = 30;
	ERR(ioctl(b, RIO_ENABLE_DOORBELL_RANGE, &f), EBUSY); /* overlap */
	ERR(ioctl(a, RIO_ENABLE_DOORBELL_RANGE, &f), EBUSY);
	f.low = 10;
	f.high = 20;
	ERR(ioctl(b, RIO_DISABLE_DOORBELL_RANGE, &f), EINVAL); /* other fd */
	f.rioid = 5;
	ERR(ioctl(a, RIO_DISABLE_DOORBELL_RANGE, &f), EINVAL); /* rioid */
	f.rioid = 0xffff;
	TT_OK(ioctl(a, RIO_DISABLE_DOORBELL_RANGE, &f));
	TT_OK(ioctl(b, RIO_ENABLE_DOORBELL_RANGE, &f)); /* released */
	close(b); /* close does NOT release the reservation */
	ERR(ioctl(a, RIO_ENABLE_DOORBELL_RANGE, &f), EBUSY);
	close(a);
}

/* --------------------------------------------------------------- ordering */
TT_TEST(order_doorbells_from_one_source_in_send_order)
{
	int rx, tx, i;
	struct rio_event ev;
	setup(1);
	rx = mp_open();
	tx = mp_open();
	enable_db(rx, 0xffff, 0, 0xfff);
	for (i = 0; i < 14; i++)
		TT_EQ(ring(tx, 1, (uint16_t)(i * 37 % 1000)), 72);
	for (i = 0; i < 14; i++) {
		TT_EQ(read_ev(rx, &ev), 72);
		TT_EQ(ev.u.doorbell.payload, i * 37 % 1000);
	}
	close(rx);
	close(tx);
}

/* With FABTX_RIOEMU_ASYNC_DELAY=1 an unwaited ASYNC write may land after a
 * later doorbell; waiting makes it visible.  SYNC is always ordered. */
TT_TEST(order_unwaited_async_data_can_trail_doorbell)
{
	int rx, tx, tok;
	uint64_t h, ra;
	volatile uint8_t *w;
	char buf[64];
	struct rio_event ev;
	struct rio_async_tx_wait wt;
	setup(1);
	setenv("FABTX_RIOEMU_ASYNC_DELAY", "1", 1);
	rx = mp_open();
	tx = mp_open();
	ra = map_in(rx, RIO_MAP_ANY_ADDR, 4096, &h);
	w = (volatile uint8_t *)mmap(NULL, 4096, PROT_READ, MAP_SHARED, rx,
	                             (off_t)h);
	TT_ASSERT(w != MAP_FAILED);
	enable_db(rx, 0xffff, 1, 9);
	memset(buf, 0x5a, sizeof buf);
	tok = xfer(tx, RIO_TRANSFER_ASYNC, 1, ra, buf, sizeof buf,
	           RIO_EXCHANGE_NWRITE_R);
	TT_ASSERT(tok > 0);
	TT_EQ(ring(tx, 1, 1), 72);
	TT_EQ(read_ev(rx, &ev), 72);
	TT_EQ(w[0], 0); /* doorbell overtook the unwaited write */
	wt.token = (uint32_t)tok;
	wt.timeout = 0;
	TT_OK(ioctl(tx, RIO_WAIT_FOR_ASYNC, &wt));
	TT_EQ(w[0], 0x5a);
	TT_EQ(w[63], 0x5a);
	/* SYNC into the same window: visible at return */
	memset(buf, 0x33, sizeof buf);
	TT_OK(xfer(tx, RIO_TRANSFER_SYNC, 1, ra, buf, sizeof buf,
	           RIO_EXCHANGE_NWRITE_R));
	TT_EQ(w[0], 0x33);
	close(rx);
	close(tx);
}

/* FABTX_RIOEMU_DMA_TORN_US: the end of a DMA lands first; a reader that
 * looks mid-transfer sees the new tail over the old head, yet SYNC still
 * returns only when everything is there. */
TT_TEST(order_fault_injection_dma_torn)
{
	int rx, p2c[2], c2p[2], round, seen_torn = 0;
	uint64_t h, ra;
	volatile uint8_t *w;
	pid_t pid;
	setup(1);
	setenv("FABTX_RIOEMU_DMA_TORN_US", "1000000", 1); /* 1 s */
	TT_OK(pipe(p2c));
	TT_OK(pipe(c2p));
	rx = mp_open();
	ra = map_in(rx, RIO_MAP_ANY_ADDR, 4096, &h);
	w = (volatile uint8_t *)mmap(NULL, 4096, PROT_READ, MAP_SHARED, rx,
	                             (off_t)h);
	TT_ASSERT(w != MAP_FAILED);
	pid = fork();
	if (pid == 0) {
		int fd, k;
		uint8_t src[1024];
		node(2);
		fd = mp_open();
		for (k = 1; k <= 3; k++) {
			if (rd_u64(p2c[0]) == 0)
				break; /* done */
			memset(src, k, sizeof src);
			TT_OK(xfer(fd, RIO_TRANSFER_SYNC, 1, ra, src, sizeof src,
			           RIO_EXCHANGE_NWRITE_R));
			wr_u64(c2p[1], (uint64_t)k); /* SYNC returned */
		}
		_exit(0);
	}
	/* up to 3 rounds, in case this process was not scheduled for the
	 * whole second in which the transfer is half done */
	for (round = 1; round <= 3 && !seen_torn; round++) {
		wr_u64(p2c[1], 1);
		while (w[1023] != round) /* the tail lands first */
			sched_yield();
		seen_torn = w[0] != round; /* the head is still old */
		TT_EQ(rd_u64(c2p[0]), round);
		TT_EQ(w[0], round); /* complete when SYNC returned */
	}
	TT_ASSERT(seen_torn);
	if (round <= 3)
		wr_u64(p2c[1], 0); /* the helper may stop */
	reap(pid);
	close(rx);
}

/* Fault injection for backend tests: FABTX_RIOEMU_DB_REPLAY=1 follows each
 * doorbell by a duplicate of the previous one. */
TT_TEST(order_fault_injection_db_replay)
{
	int rx, tx, i;
	struct rio_event ev;
	static const int want[] = {1, 2, 1, 3, 2};
	setup(1);
	setenv("FABTX_RIOEMU_DB_REPLAY", "1", 1);
	rx = mp_open();
	tx = mp_open();
	enable_db(rx, 0xffff, 0, 9);
	TT_EQ(ring(tx, 1, 1), 72);
	TT_EQ(ring(tx, 1, 2), 72);
	TT_EQ(ring(tx, 1, 3), 72);
	for (i = 0; i < 5; i++) {
		TT_EQ(read_ev(rx, &ev), 72);
		TT_EQ(ev.u.doorbell.payload, want[i]);
	}
	close(rx);
	close(tx);
}

/* ------------------------------------------------------------------ cm */

static uint16_t ch_create(int cm, uint16_t want)
{
	uint16_t v = want;
	TT_OK(ioctl(cm, RIO_CM_CHAN_CREATE, &v));
	return v;
}

static void ch_listen(int cm, uint16_t ch)
{
	struct rio_cm_channel c;
	memset(&c, 0, sizeof c);
	c.id = ch;
	TT_OK(ioctl(cm, RIO_CM_CHAN_BIND, &c));
	TT_OK(ioctl(cm, RIO_CM_CHAN_LISTEN, &ch));
}

static int ch_connect(int cm, uint16_t ch, uint16_t dest, uint16_t rch)
{
	struct rio_cm_channel c;
	memset(&c, 0, sizeof c);
	c.id = ch;
	c.remote_destid = dest;
	c.remote_channel = rch;
	return ioctl(cm, RIO_CM_CHAN_CONNECT, &c);
}

static int ch_accept(int cm, uint16_t ch, uint32_t to, uint16_t *out)
{
	struct rio_cm_accept a;
	int rc;
	memset(&a, 0, sizeof a);
	a.ch_num = ch;
	a.wait_to = to;
	rc = ioctl(cm, RIO_CM_CHAN_ACCEPT, &a);
	if (rc == 0)
		*out = a.ch_num;
	return rc;
}

static int ch_send(int cm, uint16_t ch, void *buf, uint16_t size)
{
	struct rio_cm_msg m;
	memset(&m, 0, sizeof m);
	m.ch_num = ch;
	m.size = size;
	m.msg = (uint64_t)(uintptr_t)buf;
	return ioctl(cm, RIO_CM_CHAN_SEND, &m);
}

static int ch_recv(int cm, uint16_t ch, void *buf, uint16_t cap,
                   uint32_t rxto)
{
	struct rio_cm_msg m;
	memset(&m, 0, sizeof m);
	m.ch_num = ch;
	m.size = cap;
	m.rxto = rxto;
	m.msg = (uint64_t)(uintptr_t)buf;
	return ioctl(cm, RIO_CM_CHAN_RECEIVE, &m);
}

static unsigned be16(const uint8_t *b)
{
	return (unsigned)b[0] << 8 | b[1];
}

static unsigned long be32(const uint8_t *b)
{
	return (unsigned long)b[0] << 24 | (unsigned long)b[1] << 16 |
	       (unsigned long)b[2] << 8 | b[3];
}

struct acc_arg {
	int cm;
	uint16_t l, ch;
	int rc;
};

static void *accept_thread(void *arg)
{
	struct acc_arg *a = (struct acc_arg *)arg;
	struct rio_cm_accept ac;
	memset(&ac, 0, sizeof ac);
	ac.ch_num = a->l;
	ac.wait_to = 10000;
	a->rc = ioctl(a->cm, RIO_CM_CHAN_ACCEPT, &ac);
	a->ch = ac.ch_num;
	return NULL;
}

/* A machine with two ports on the fabric (FABTX_RIOEMU_DESTID1): each
 * /dev/rio_mport<N> has its own destID; rio_cm has one channel namespace
 * for the machine, and the other port is a peer like any remote node, so
 * one process can talk to itself from port 1 to port 0. */
TT_TEST(mport_second_port_of_a_machine)
{
	int m0, m1, cm;
	struct rio_mport_properties pr;
	uint32_t a[9];
	uint16_t l, me, x;
	struct rio_cm_channel cc;
	struct acc_arg acc;
	pthread_t th;
	uint8_t buf[4096];
	setup(1);
	setenv("FABTX_RIOEMU_DESTID1", "2", 1);
	m0 = mp_open();
	m1 = open("/dev/rio_mport1", O_RDWR);
	TT_ASSERT(m1 >= 0);
	ERR(open("/dev/rio_mport2", O_RDWR), ENOENT);
	TT_OK(ioctl(m1, RIO_MPORT_GET_PROPERTIES, &pr));
	TT_EQ(pr.hdid, 2);
	TT_EQ(pr.id, 1);
	cm = cm_open();
	a[0] = 8;
	TT_OK(ioctl(cm, RIO_CM_MPORT_GET_LIST, a));
	TT_EQ(a[0], 2);
	TT_EQ(a[1], (0u << 16) | 1u);
	TT_EQ(a[2], (1u << 16) | 2u);
	l = ch_create(cm, 20);
	ch_listen(cm, l); /* bound to mport 0 (destID 1) */
	me = ch_create(cm, 0);
	x = 20;
	ERR(ioctl(cm, RIO_CM_CHAN_CREATE, &x), EBUSY); /* one namespace */
	acc.cm = cm;
	acc.l = l;
	TT_EQ(pthread_create(&th, NULL, accept_thread, &acc), 0);
	memset(&cc, 0, sizeof cc);
	cc.id = me;
	cc.remote_destid = 1;
	cc.remote_channel = 20;
	cc.mport_id = 1; /* from port 1 */
	TT_OK(ioctl(cm, RIO_CM_CHAN_CONNECT, &cc));
	pthread_join(th, NULL);
	TT_OK(acc.rc);
	memset(buf, 0, sizeof buf);
	TT_OK(ch_send(cm, me, buf, 32));
	TT_OK(ch_recv(cm, acc.ch, buf, sizeof buf, 1000));
	TT_EQ(be32(buf + 0), 2); /* sent from port 1's destID */
	/* a port cannot connect to itself */
	x = ch_create(cm, 0);
	ERR(ch_connect(cm, x, 1, 20), ENODEV); /* mport 0 -> destID 1 */
	close(cm);
	close(m0);
	close(m1);
}

TT_TEST(cm_channel_namespace_autoalloc_ebusy_close_ownership)
{
	int a, b;
	uint16_t x, y, z;
	setup(1);
	a = cm_open();
	b = cm_open();
	x = ch_create(a, 0);
	y = ch_create(b, 0);
	TT_ASSERT(x >= 256);
	TT_ASSERT(y >= 256 && y != x);
	z = ch_create(a, 10); /* well-known numbers below 256 */
	TT_EQ(z, 10);
	z = 10;
	ERR(ioctl(b, RIO_CM_CHAN_CREATE, &z), EBUSY); /* one namespace */
	z = x;
	ERR(ioctl(b, RIO_CM_CHAN_CLOSE, &z), EINVAL); /* not the owner */
	TT_OK(ioctl(a, RIO_CM_CHAN_CLOSE, &z));
	z = 4321;
	TT_EQ(ioctl(a, RIO_CM_CHAN_CLOSE, &z), 0); /* unknown: 0 */
	close(a);
	close(b);
}

TT_TEST(cm_bind_listen_connect_validation)
{
	int cm;
	uint16_t ch, l;
	struct rio_cm_channel c;
	setup(1);
	cm = cm_open();
	ch = ch_create(cm, 0);
	memset(&c, 0, sizeof c);
	c.id = ch;
	c.mport_id = 8;
	ERR(ioctl(cm, RIO_CM_CHAN_BIND, &c), EINVAL);
	c.mport_id = 1;
	ERR(ioctl(cm, RIO_CM_CHAN_BIND, &c), ENODEV);
	c.mport_id = 0;
	c.id = 999;
	ERR(ioctl(cm, RIO_CM_CHAN_BIND, &c), EINVAL); /* not found */
	l = ch;
	ERR(ioctl(cm, RIO_CM_CHAN_LISTEN, &l), EINVAL); /* not bound */
	ERR(ch_connect(cm, ch, 0xff, 5), EINVAL);       /* >= 0xff */
	ERR(ch_connect(cm, ch, 44, 5), ENODEV);         /* not a CM peer */
	ERR(ch_connect(cm, ch, 1, 5), ENODEV);          /* myself */
	ch_listen(cm, ch);
	{
		/* a BOUND/LISTEN channel cannot CONNECT: must be IDLE */
		pid_t pid = fork();
		if (pid == 0) {
			node(2);
			(void)cm_open();
			_exit(0);
		}
		reap(pid);
	}
	ERR(ch_connect(cm, ch, 2, 5), EINVAL);
	ERR(ch_connect(cm, 777, 2, 5), ENODEV); /* local channel missing */
	close(cm);
}

TT_TEST(cm_connect_without_listener_etime_then_channel_stuck)
{
	int cm, p2c[2];
	uint16_t ch;
	pid_t pid;
	setup(1);
	TT_OK(pipe(p2c));
	pid = fork();
	if (pid == 0) {
		node(2);
		(void)cm_open(); /* node 2 exists, nobody listens on 77 */
		wr_u64(p2c[1], 1);
		_exit(0);
	}
	rd_u64(p2c[0]);
	reap(pid);
	cm = cm_open();
	ch = ch_create(cm, 0);
	ERR(ch_connect(cm, ch, 2, 77), ETIME); /* no NACK: timeout */
	ERR(ch_connect(cm, ch, 2, 77), EINVAL); /* left in CONNECT state */
	TT_OK(ioctl(cm, RIO_CM_CHAN_CLOSE, &ch));
	close(cm);
}

TT_TEST(cm_accept_nonblocking_eagain_unknown_einval_timeout_etime)
{
	int cm;
	uint16_t l, out;
	setup(1);
	cm = cm_open();
	ERR(ch_accept(cm, 55, 0, &out), EINVAL); /* not found */
	l = ch_create(cm, 55);
	ERR(ch_accept(cm, l, 0, &out), EINVAL); /* not listening */
	ch_listen(cm, l);
	ERR(ch_accept(cm, l, 0, &out), EAGAIN); /* wait_to 0: non-blocking */
	ERR(ch_accept(cm, l, 50, &out), ETIME);
	close(cm);
}

struct closer {
	int cm;
	uint16_t ch;
	int rc, err;
	int go[2];
};

static void *connect_thread(void *arg)
{
	struct closer *c = (struct closer *)arg;
	uint64_t one = 1;
	if (write(c->go[1], &one, sizeof one) != sizeof one)
		return NULL;
	errno = 0;
	c->rc = ch_connect(c->cm, c->ch, 2, 77);
	c->err = errno;
	return NULL;
}

TT_TEST(cm_closed_during_connect_eperm)
{
	struct closer c;
	pthread_t th;
	pid_t pid;
	int p2c[2];
	setup(1);
	setenv("FABTX_RIOEMU_CONNECT_TIMEOUT_MS", "20000", 1);
	TT_OK(pipe(p2c));
	pid = fork();
	if (pid == 0) {
		node(2);
		(void)cm_open();
		_exit(0);
	}
	reap(pid);
	c.cm = cm_open();
	c.ch = ch_create(c.cm, 0);
	TT_OK(pipe(c.go));
	TT_EQ(pthread_create(&th, NULL, connect_thread, &c), 0);
	rd_u64(c.go[0]);
	/* wait (polling, with the test timeout as deadline) until the thread's
	 * channel is in CONNECT state, then close it under the waiter */
	while (rioemu_ch_state(NULL, 1, c.ch) != RIOEMU_CH_CONNECT)
		sched_yield();
	TT_OK(ioctl(c.cm, RIO_CM_CHAN_CLOSE, &c.ch));
	pthread_join(th, NULL);
	TT_EQ(c.rc, -1);
	TT_EQ(c.err, EPERM);
	(void)p2c;
}

/* Connected pair: node 1 (this process) listens on 20, node 2 connects. */
TT_TEST(cm_message_framing_limits_and_header)
{
	int cm, p2c[2], c2p[2];
	uint16_t l, ch = 0;
	uint8_t buf[4096], big[4200];
	pid_t pid;
	setup(1);
	TT_OK(pipe(p2c));
	TT_OK(pipe(c2p));
	cm = cm_open();
	l = ch_create(cm, 20);
	ch_listen(cm, l);
	pid = fork();
	if (pid == 0) {
		int c2;
		uint16_t me;
		uint8_t m[4096];
		node(2);
		c2 = cm_open();
		me = ch_create(c2, 0);
		TT_OK(ch_connect(c2, me, 1, 20));
		wr_u64(c2p[1], me);
		memset(m, 0xab, sizeof m);
		memcpy(m + 20, "hello", 5);
		ERR(ch_send(c2, me, m, 19), EINVAL);
		ERR(ch_send(c2, me, m, 0), EINVAL);
		ERR(ch_send(c2, 0, m, 100), EINVAL);
		ERR(ch_send(c2, 9999, m, 100), ENODEV);
		TT_OK(ch_send(c2, me, m, 25));
		TT_EQ(m[0], 0xab); /* the caller's buffer is not modified */
		TT_OK(ch_send(c2, me, m, 4096)); /* 4076 payload bytes */
		rd_u64(p2c[0]);
		_exit(0);
	}
	TT_OK(ch_accept(cm, l, 5000, &ch));
	TT_ASSERT(ch >= 256);
	{
		uint16_t peer_ch = (uint16_t)rd_u64(c2p[0]);
		memset(buf, 0, sizeof buf);
		TT_OK(ch_recv(cm, ch, buf, sizeof buf, 5000));
		TT_EQ(be32(buf + 0), 2);  /* src_id */
		TT_EQ(be32(buf + 4), 0);  /* dst_id: 0 from the CONNECT side */
		TT_EQ(buf[10], 0x55);
		TT_EQ(buf[11], 3);        /* data */
		TT_EQ(be16(buf + 12), ch); /* dst_ch */
		TT_EQ(be16(buf + 14), peer_ch);
		TT_EQ(be16(buf + 16), 25); /* msg_len includes the header */
		TT_EQ(buf[18], 0xab);      /* rsrvd: the sender's bytes */
		TT_ASSERT(memcmp(buf + 20, "hello", 5) == 0);
		memset(big, 0, sizeof big);
		TT_OK(ch_recv(cm, ch, big, sizeof big, 5000));
		TT_EQ(be16(big + 16), 4096);
		TT_EQ(big[4095], 0xab);
		TT_EQ(big[4096], 0); /* min(size, 4096) bytes copied */
	}
	ERR(ch_send(cm, ch, big, 4097), EINVAL);
	ERR(ch_recv(cm, ch, buf, sizeof buf, 30), ETIME);
	ERR(ch_recv(cm, 0, buf, sizeof buf, 30), EINVAL);
	ERR(ch_recv(cm, l, buf, sizeof buf, 30), EAGAIN); /* not CONNECTED */
	wr_u64(p2c[1], 1);
	reap(pid);
	close(cm);
}

/* The mport TX ring (128 messages) has no room: EBUSY, not queued.  The
 * emulator delivers synchronously, so the ring never fills by itself;
 * FABTX_RIOEMU_CM_BUSY_EVERY injects it. */
TT_TEST(cm_send_tx_ring_full_ebusy_injected)
{
	int cm, p2c[2], c2p[2];
	uint16_t l, ch = 0;
	uint8_t buf[4096];
	pid_t pid;
	setup(1);
	TT_OK(pipe(p2c));
	TT_OK(pipe(c2p));
	cm = cm_open();
	l = ch_create(cm, 20);
	ch_listen(cm, l);
	pid = fork();
	if (pid == 0) {
		int c2;
		uint16_t me;
		uint8_t m[64];
		node(2);
		setenv("FABTX_RIOEMU_CM_BUSY_EVERY", "2", 1);
		c2 = cm_open();
		me = ch_create(c2, 0);
		TT_OK(ch_connect(c2, me, 1, 20));
		memset(m, 0, sizeof m);
		m[20] = 1;
		TT_OK(ch_send(c2, me, m, sizeof m));
		m[20] = 2;
		ERR(ch_send(c2, me, m, sizeof m), EBUSY); /* not queued */
		m[20] = 3;
		TT_OK(ch_send(c2, me, m, sizeof m));
		wr_u64(c2p[1], 1);
		rd_u64(p2c[0]);
		_exit(0);
	}
	TT_OK(ch_accept(cm, l, 5000, &ch));
	rd_u64(c2p[0]);
	TT_OK(ch_recv(cm, ch, buf, sizeof buf, 1000));
	TT_EQ(buf[20], 1);
	TT_OK(ch_recv(cm, ch, buf, sizeof buf, 1000));
	TT_EQ(buf[20], 3);
	ERR(ch_recv(cm, ch, buf, sizeof buf, 20), ETIME);
	wr_u64(p2c[1], 1);
	reap(pid);
	close(cm);
}

TT_TEST(cm_receive_queue_128_then_silent_drop)
{
	int cm, p2c[2], c2p[2], i;
	uint16_t l, ch = 0;
	uint8_t buf[4096];
	struct rioemu_stats s0, s1;
	pid_t pid;
	setup(1);
	TT_OK(pipe(p2c));
	TT_OK(pipe(c2p));
	cm = cm_open();
	l = ch_create(cm, 20);
	ch_listen(cm, l);
	pid = fork();
	if (pid == 0) {
		int c2, k;
		uint16_t me;
		uint8_t m[64];
		node(2);
		c2 = cm_open();
		me = ch_create(c2, 0);
		TT_OK(ch_connect(c2, me, 1, 20));
		for (k = 0; k < 150; k++) {
			memset(m, 0, sizeof m);
			m[20] = (uint8_t)k;
			TT_OK(ch_send(c2, me, m, sizeof m)); /* always 0 */
		}
		wr_u64(c2p[1], 1);
		rd_u64(p2c[0]);
		_exit(0);
	}
	TT_OK(ch_accept(cm, l, 5000, &ch));
	rd_u64(c2p[0]);
	TT_OK(rioemu_stats_get(NULL, &s0));
	for (i = 0; i < 128; i++) {
		TT_OK(ch_recv(cm, ch, buf, sizeof buf, 1000));
		TT_EQ(buf[20], i); /* in order; the first 128 */
	}
	ERR(ch_recv(cm, ch, buf, sizeof buf, 20), ETIME);
	TT_OK(rioemu_stats_get(NULL, &s1));
	TT_ASSERT(s1.cm_dropped >= 22);
	wr_u64(p2c[1], 1);
	reap(pid);
	close(cm);
}

TT_TEST(cm_peer_close_econnreset_then_enodev_unread_discarded)
{
	int cm, p2c[2], c2p[2];
	uint16_t l, ch = 0;
	uint8_t buf[4096];
	pid_t pid;
	setup(1);
	TT_OK(pipe(p2c));
	TT_OK(pipe(c2p));
	cm = cm_open();
	l = ch_create(cm, 20);
	ch_listen(cm, l);
	pid = fork();
	if (pid == 0) {
		int c2;
		uint16_t me;
		uint8_t m[64];
		node(2);
		c2 = cm_open();
		me = ch_create(c2, 0);
		TT_OK(ch_connect(c2, me, 1, 20));
		memset(m, 1, sizeof m);
		TT_OK(ch_send(c2, me, m, sizeof m)); /* never read by peer */
		rd_u64(p2c[0]);
		TT_OK(ioctl(c2, RIO_CM_CHAN_CLOSE, &me));
		wr_u64(c2p[1], 1);
		rd_u64(p2c[0]);
		_exit(0);
	}
	TT_OK(ch_accept(cm, l, 5000, &ch));
	wr_u64(p2c[1], 1);
	rd_u64(c2p[0]);
	/* the unread message went away with the channel */
	ERR(ch_recv(cm, ch, buf, sizeof buf, 1000), ENODEV);
	ERR(ch_send(cm, ch, buf, 64), ENODEV);
	TT_EQ(ioctl(cm, RIO_CM_CHAN_CLOSE, &ch), 0); /* unknown now */
	wr_u64(p2c[1], 1);
	reap(pid);
	close(cm);
}

/* A RECEIVE blocked when the peer closes (here: its process dies without
 * closing, the kernel closes its fds) gets ECONNRESET. */
TT_TEST(cm_blocked_receive_gets_econnreset_on_peer_close)
{
	int cm, c2p[2], p2c[2];
	uint16_t l, ch = 0;
	uint8_t buf[4096];
	pid_t pid;
	setup(1);
	TT_OK(pipe(c2p));
	TT_OK(pipe(p2c));
	cm = cm_open();
	l = ch_create(cm, 20);
	ch_listen(cm, l);
	pid = fork();
	if (pid == 0) {
		int c2;
		uint16_t me;
		node(2);
		c2 = cm_open();
		me = ch_create(c2, 0);
		TT_OK(ch_connect(c2, me, 1, 20));
		wr_u64(c2p[1], 1);
		/* block until the parent is in RECEIVE, then die */
		rd_u64(p2c[0]);
		_exit(0);
	}
	TT_OK(ch_accept(cm, l, 5000, &ch));
	rd_u64(c2p[0]);
	wr_u64(p2c[1], 1); /* child wakes and exits; reaped below */
	{
		pid_t w = waitpid(pid, NULL, 0);
		TT_EQ(w, pid);
	}
	ERR(ch_recv(cm, ch, buf, sizeof buf, 0), ECONNRESET);
	close(cm);
}

TT_TEST(cm_mport_and_endpoint_lists)
{
	int cm, p2c[2];
	uint32_t a[10];
	pid_t pid;
	setup(1);
	TT_OK(pipe(p2c));
	pid = fork();
	if (pid == 0) {
		node(5);
		(void)cm_open();
		_exit(0);
	}
	reap(pid);
	cm = cm_open();
	a[0] = 0;
	ERR(ioctl(cm, RIO_CM_MPORT_GET_LIST, a), EINVAL);
	a[0] = 8;
	TT_OK(ioctl(cm, RIO_CM_MPORT_GET_LIST, a));
	TT_EQ(a[0], 1);
	TT_EQ(a[1], (0u << 16) | 1u);
	a[0] = 0;
	TT_OK(ioctl(cm, RIO_CM_EP_GET_LIST_SIZE, a));
	TT_EQ(a[0], 1);
	a[0] = 8;
	ERR(ioctl(cm, RIO_CM_EP_GET_LIST_SIZE, a), EINVAL);
	a[0] = 8;
	a[1] = 0;
	TT_OK(ioctl(cm, RIO_CM_EP_GET_LIST, a));
	TT_EQ(a[0], 1);
	TT_EQ(a[2], 5);
	a[0] = 70000;
	ERR(ioctl(cm, RIO_CM_EP_GET_LIST, a), EINVAL);
	close(cm);
	(void)p2c;
}

/* runs last: remove the fabrics of the tests above */
TT_TEST(zz_remove_test_fabrics)
{
	TT_ASSERT(rioemu_fabric_sweep("te") >= 0);
}

TT_MAIN()
