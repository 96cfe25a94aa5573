/* SPDX-License-Identifier: MIT */
/* rioemu.h -- test API of the RapidIO device emulator (test/rioemu/rioemu.c)
 *
 * The emulator replaces /dev/rio_mport<N> and /dev/rio_cm for the calling
 * process by symbol interposition of open/openat/close/ioctl/mmap/munmap/
 * read/write/poll.  It is linked into test binaries as an object, or
 * preloaded as build/librioemu.so (LD_PRELOAD) into unmodified programs.
 *
 * Environment (read when a device is opened):
 *   FABTX_RIOEMU_FABRIC      fabric name (default "default"); processes on
 *                            the same fabric see each other.  State lives in
 *                            /dev/shm/fabtx-rioemu-<fabric>.*
 *   FABTX_RIOEMU_DESTID      this process's destID (0..254, required; open
 *                            fails with ENOENT without it: "no hardware")
 *   FABTX_RIOEMU_DMA_TIMEOUT_MS      failed DMA times out after (3000)
 *   FABTX_RIOEMU_CONNECT_TIMEOUT_MS  rio_cm CONNECT without ACK (3000)
 *   FABTX_RIOEMU_ASYNC_DELAY  1: data of ASYNC/FAF transfers lands only at
 *                            RIO_WAIT_FOR_ASYNC / the next transfer / close
 *   FABTX_RIOEMU_STRICT      1: Tsi721 limits: 8 inbound and 8 outbound
 *                            windows (EBUSY), explicit inbound rio_addr
 *                            windows power of two >= 4 KiB and aligned,
 *                            outbound power of two >= 32 KiB and aligned
 *                            (EINVAL)
 *   FABTX_RIOEMU_CM_BUSY_EVERY  k: fault injection: every k-th
 *                            RIO_CM_CHAN_SEND on an fd fails with EBUSY
 *                            (mport TX ring full, message not queued)
 *   FABTX_RIOEMU_DB_REPLAY   1: fault injection: after each doorbell from
 *                            this process, the previous one (same target)
 *                            is delivered again (stale, reordered dup)
 */
#ifndef RIOEMU_H_INCLUDED
#define RIOEMU_H_INCLUDED
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define RIOEMU_FIFO_EVENTS 14 /* kfifo of 1024 bytes / 72-byte rio_event */
#define RIOEMU_CM_QUEUE 128   /* per-channel receive queue */

struct rioemu_stats {
	uint64_t db_sent;            /* doorbell records written        */
	uint64_t db_queued;          /* events appended to an fd FIFO   */
	uint64_t db_dropped_fifo;    /* dropped: FIFO full              */
	uint64_t db_dropped_nofilter;/* dropped: no range / filter      */
	uint64_t dma_writes, dma_bytes;
	uint64_t cm_sent, cm_dropped;
	uint64_t db_replayed;        /* FABTX_RIOEMU_DB_REPLAY duplicates */
};

/* Statistics of a fabric (NULL: $FABTX_RIOEMU_FABRIC).  0 or -errno. */
int rioemu_stats_get(const char *fabric, struct rioemu_stats *out);
/* State of channel `ch` of node `destid` (RIOEMU_CH_*), -ENOENT if none. */
#define RIOEMU_CH_IDLE 1
#define RIOEMU_CH_BOUND 2
#define RIOEMU_CH_LISTEN 3
#define RIOEMU_CH_CONNECT 4
#define RIOEMU_CH_CONNECTED 5
int rioemu_ch_state(const char *fabric, uint16_t destid, uint16_t ch);
/* Remove every /dev/shm file of a fabric.  0 or -errno. */
int rioemu_fabric_remove(const char *fabric);

/* Remove the fabrics named <prefix><pid> whose process <pid> is gone
 * (tests name their fabric after the test process).  Returns how many. */
int rioemu_fabric_sweep(const char *prefix);

/* RIO_TRANSFERs this process's FABTX_RIOEMU_FAIL_DMA knob has failed. */
long rioemu_fail_dma_hits(void);

#ifdef __cplusplus
}
#endif
#endif
