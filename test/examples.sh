#!/bin/sh
# The perf examples between two processes over shm:// (and any URL given in
# $EXAMPLE_URLS): they run to completion and print libzmq's output lines.
B=${1:-build}
p=0; f=0
check() { # name, output file, pattern
	if grep -Eq "$3" "$2"; then echo "PASS $1"; p=$((p+1)); else echo "FAIL $1"; cat "$2"; f=$((f+1)); fi
}
o=$(mktemp -d)
for url in shm://ex-lat-$$ ${EXAMPLE_URLS:-}; do
	timeout 60 $B/local_lat "$url" 64 2000 > $o/ll 2>&1 &
	timeout 60 $B/remote_lat "$url" 64 2000 > $o/rl 2>&1
	wait $!
	check "remote_lat $url" $o/rl '^average latency: [0-9.]+ \[us\]$'
done
for url in shm://ex-thr-$$ ${EXAMPLE_URLS:-}; do
	timeout 60 $B/local_thr "$url" 1000 20000 > $o/lt 2>&1 &
	timeout 60 $B/remote_thr "$url" 1000 20000 > $o/rt 2>&1
	wait $!
	check "local_thr msg/s $url" $o/lt '^mean throughput: [0-9]+ \[msg/s\]$'
	check "local_thr Mb/s $url" $o/lt '^mean throughput: [0-9.]+ \[Mb/s\]$'
done
# zmq_recvmsg-like receives (FABTX_PERF_ZC=1): a lent cell, a copied run
for sz in 64 100000; do
	FABTX_PERF_ZC=1 timeout 60 $B/local_lat shm://ex-zc-$sz-$$ $sz 500 > $o/ll 2>&1 &
	FABTX_PERF_ZC=1 timeout 60 $B/remote_lat shm://ex-zc-$sz-$$ $sz 500 > $o/rl 2>&1
	if wait $!; then echo ok >> $o/rl; fi
	check "zero-copy receive $sz B both sides exit 0" $o/rl '^ok$'
	check "zero-copy receive $sz B remote_lat" $o/rl '^average latency: [0-9.]+ \[us\]$'
done
# usage errors are reported, not crashed on
if $B/remote_lat 2>/dev/null; then echo "FAIL usage"; f=$((f+1)); else echo "PASS usage"; p=$((p+1)); fi
if $B/local_lat "bad url" 1 1 2>$o/e; then f=$((f+1)); echo "FAIL bad url"; else check "bad url message" $o/e 'error in listen'; fi
rm -rf $o
echo "$p passed, $f failed"
[ $f -eq 0 ]
