/* SPDX-License-Identifier: MIT */
/* bench/copy_queue.c -- one core copying 1 MiB blocks from a queue of
 * QUEUE_MIB (already written, so mapped) into a 2 MiB ring, alternating its
 * halves: the shape of a sender whose outgoing queue sits at its high-water
 * mark, so each body comes from DRAM.  Prints GB/s of bytes copied.
 *   cc -O2 -o build/copy_queue bench/copy_queue.c
 *   build/copy_queue 1024      (docs/zmq.md, "1 MiB against the 3x target") */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

int main(int argc, char **argv)
{
	size_t q = (size_t)(argc > 1 ? atoi(argv[1]) : 1024) << 20;
	size_t m = (size_t)1 << 20, n = 4000, i, off, roff;
	char *src, *ring;
	int rep;
	if (q < m) q = m;
	src = (char *)malloc(q);
	ring = (char *)malloc(2 * m);
	if (!src || !ring) return 1;
	memset(src, 1, q);
	memset(ring, 0, 2 * m);
	for (rep = 0; rep < 3; rep++) {
		double t0 = now(), t;
		for (i = 0, off = 0, roff = 0; i < n; i++) {
			memcpy(ring + roff, src + off, m);
			off = off + m >= q ? 0 : off + m;
			roff ^= m;
		}
		t = now() - t0;
		printf("queue %zu MiB: %.2f GB/s (%.1f us/MiB)\n", q >> 20,
		       (double)(n * m) / t / 1e9, t / (double)n * 1e6);
	}
	return ring[5] + src[7] == 0;
}
