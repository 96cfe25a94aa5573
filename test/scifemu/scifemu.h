/* SPDX-License-Identifier: MIT */
/* scifemu.h -- test hooks of the /dev/scif emulator (test/scifemu/scifemu.c).
 *
 * The emulator interposes open/close/ioctl/poll/ppoll/mmap so that code
 * written against linux/scif_ioctl.h runs unchanged on one machine, several
 * processes acting as SCIF nodes.  It is linked into test binaries as an
 * object, or preloaded as build/libscifemu.so.  Environment:
 *   FABTX_SCIFEMU_FABRIC      name of the emulated fabric (default "default";
 *                             state in /dev/shm/fabtx-scifemu-NAME)
 *   FABTX_SCIFEMU_NODE        node id of endpoints opened from now on (0)
 *   FABTX_SCIFEMU_NODES       nodes online, set when the fabric is created
 *                             (default 5: host 0 and cards 1..4; max 16)
 *   FABTX_SCIFEMU_CONNECT_TIMEOUT_MS  refusal timeout (default 30000)
 *   FABTX_SCIFEMU_FENCE_TIMEOUT_MS    FENCE_WAIT timeout (default 30000)
 *   FABTX_SCIFEMU_DMA         "sync" (default: every RMA completes in the
 *                             call), "manual" (un-synced DMA RMAs complete
 *                             only when forced: SYNC, FENCE_WAIT, close or
 *                             fabtx_scifemu_step), or "delay:US" (a
 *                             completer thread finishes them after US us)
 *   FABTX_SCIFEMU_ADMIN       1/0: act as if CAP_SYS_ADMIN is (not) held
 *                             (default: the real effective capability)
 * These hooks are for tests only; they are not part of SCIF.
 */
#ifndef FABTX_SCIFEMU_H
#define FABTX_SCIFEMU_H

#ifdef __cplusplus
extern "C" {
#endif

/* Complete the oldest queued DMA operation of this process (manual mode).
 * Returns 1 if one was completed, 0 if the queue was empty. */
int fabtx_scifemu_step(void);
/* Number of queued (not yet visible) DMA operations of this process. */
int fabtx_scifemu_pending(void);
/* Threads of this process blocked in SCIF_ACCEPTREQ(SYNC) or a blocking
 * SCIF_CONNECT right now. */
int fabtx_scifemu_blocked(void);
/* Remove the shared state of a fabric (NULL: the one named by the env). */
void fabtx_scifemu_unlink(const char *fabric);
/* RMA writes this process's FABTX_SCIFEMU_FAIL_RMA knob has failed. */
long fabtx_scifemu_fail_rma_hits(void);

#ifdef __cplusplus
}
#endif
#endif
