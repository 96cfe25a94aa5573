#!/bin/bash
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
# errors are reported and the program exits 1 with everything freed: not
# any nonzero status (a crash, a sanitizer's abort at exit would be one),
# and no sanitizer report (ASan's own exit status is 1 unless it aborts)
fails() { # name, expected stderr pattern, command...
	local name=$1 pat=$2 rc; shift 2
	"$@" > $o/e 2>&1; rc=$?
	if [ $rc -eq 1 ] && grep -Eq "$pat" $o/e && ! grep -q Sanitizer $o/e; then echo "PASS $name"; p=$((p+1))
	else echo "FAIL $name (exit $rc)"; cat $o/e; f=$((f+1)); fi
}
for x in local_lat local_thr remote_lat remote_thr; do
	fails "$x usage" '^usage: ' $B/$x
	fails "$x bad size" 'bad message size or count' $B/$x shm://x 12k 10
done
fails "local_lat bad url" '^error in listen: ' $B/local_lat "bad url" 1 1
fails "local_thr bad url" '^error in listen: ' $B/local_thr "nope://x" 1 1
fails "remote_lat bad url" '^error in connect: ' $B/remote_lat "bad url" 1 1
fails "remote_thr bad url" '^error in connect: ' $B/remote_thr "nope://x" 1 1
rm -rf $o
echo "$p passed, $f failed"
[ $f -eq 0 ]
