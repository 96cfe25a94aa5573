#!/bin/sh
# make demo: ping-pong and throughput over shm:// between two processes,
# sleeping (eventfd wakeups) and busy-polling (FABTX_SPIN_US).
B=${1:-build}
run() { # mode-label spin lat|thr size count
	FABTX_SPIN_US=$2 timeout 120 $B/local_$3 shm://demo-$$ $4 $5 > /tmp/fabtx-demo-l.$$ &
	FABTX_SPIN_US=$2 timeout 120 $B/remote_$3 shm://demo-$$ $4 $5 > /tmp/fabtx-demo-r.$$
	wait $!
	if [ $3 = lat ]; then
		printf '%-10s lat %8s B  %s\n' "$1" "$4" "$(grep average /tmp/fabtx-demo-r.$$)"
	else
		printf '%-10s thr %8s B  %s\n' "$1" "$4" "$(grep throughput /tmp/fabtx-demo-l.$$ | tr '\n' ' ')"
	fi
	rm -f /tmp/fabtx-demo-l.$$ /tmp/fabtx-demo-r.$$
}
echo "fabtx $(grep -m1 'define FABTX_VERSION_STRING' fabtx.h | cut -d'"' -f2) over shm:// (two processes)"
for s in 8 64 4096; do run busy-poll 1000000 lat $s 100000; done
for s in 8 64; do run sleeping 0 lat $s 20000; done
run busy-poll 1000000 thr 64 2000000
run busy-poll 1000000 thr 65536 20000
run busy-poll 1000000 thr 1048576 2000
run sleeping 0 thr 1048576 2000
