#!/bin/sh
# run_examples.sh BUILD_DIR -- the unmodified perf examples over rio:// on
# the RapidIO emulator (LD_PRELOAD=BUILD_DIR/librioemu.so): node 1 listens,
# node 2 connects.  Prints the examples' result lines and a tt-style
# summary "N passed, N failed, N skipped".
B=${1:-build}
lib=$(cd "$B" && pwd)/librioemu.so
pre=$lib
# sanitizer builds: their runtime must come first in the preload list
if nm -u "$B/local_lat" 2>/dev/null | grep -q __asan_init; then
	asan=$(${CC:-cc} -print-file-name=libasan.so)
	[ -f "$asan" ] || { echo "SKIP: no libasan.so to preload"; echo "0 passed, 0 failed, 1 skipped"; exit 0; }
	pre="$asan $lib"
fi
export FABTX_RIOEMU_FABRIC=ex$$
export FABTX_RIOEMU_CONNECT_TIMEOUT_MS=200
pass=0 fail=0
tmp=${TMPDIR:-/tmp}/fabtx-rio-ex.$$
# RapidIO nodes exist before applications run (enumeration): make node 1
# known to the fabric, so an early connect is "nobody listens" (retried by
# the examples), not "no such node"
FABTX_RIOEMU_DESTID=1 LD_PRELOAD="$pre" sh -c ': < /dev/rio_cm' 2>/dev/null
run() { # name local remote url size count
	FABTX_RIOEMU_DESTID=1 LD_PRELOAD="$pre" timeout 120 "$B/$2" "$4" "$5" "$6" > "$tmp.l" 2>&1 &
	lp=$!
	FABTX_RIOEMU_DESTID=2 LD_PRELOAD="$pre" timeout 120 "$B/$3" "$(echo "$4" | sed 's/\*/1/')" "$5" "$6" > "$tmp.r" 2>&1
	rr=$?
	wait $lp
	lr=$?
	if [ $rr -eq 0 ] && [ $lr -eq 0 ] && grep -q "$7" "$tmp.l" "$tmp.r"; then
		pass=$((pass+1)); echo "PASS $1"
	else
		fail=$((fail+1)); echo "FAIL $1 (local exit $lr, remote exit $rr)"
	fi
	grep -h -e latency -e throughput "$tmp.l" "$tmp.r" | sed 's/^/  /'
	cat "$tmp.l" "$tmp.r" | grep -v -e latency -e throughput -e "message size" \
		-e "count" | sed 's/^/  | /'
}
run examples_lat_64B_over_rio local_lat remote_lat 'rio://*:5555' 64 5000 "average latency"
run examples_thr_64KiB_over_rio local_thr remote_thr 'rio://*:5556' 65536 5000 "mean throughput"
rm -f "$tmp.l" "$tmp.r" /dev/shm/fabtx-rioemu-ex$$.*
echo "$pass passed, $fail failed, 0 skipped"
[ $fail -eq 0 ]
