#!/bin/sh
# test_scif_examples.sh BUILD_DIR -- the perf examples over scif:// with the
# /dev/scif emulator preloaded (host node 0, cards 1 and 2).  Prints the
# "N passed, N failed, N skipped" line run_suite.sh totals.
B=${1:-build}
LIB=$(cd "$B" && pwd)/libscifemu.so
pass=0; fail=0; skip=0
export FABTX_SCIFEMU_FABRIC=ex$$
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"; rm -f /dev/shm/fabtx-scifemu-ex$$' EXIT

# run NAME LOCAL REMOTE URL_PORT SIZE COUNT: the remote side retries its
# connect (polling with a deadline) until the local side listens
run() {
	name=$1; port=$4
	LD_PRELOAD=$LIB FABTX_SCIFEMU_NODE=0 timeout 120 "$B/$2" "scif://$port" "$5" "$6" \
		> "$tmp/l.out" 2>&1 &
	lp=$!
	i=0; rc=1
	while [ $i -lt 200 ]; do
		LD_PRELOAD=$LIB FABTX_SCIFEMU_NODE=$7 timeout 120 "$B/$3" "scif://0:$port" "$5" "$6" \
			> "$tmp/r.out" 2>&1 && { rc=0; break; }
		grep -qi refused "$tmp/r.out" || break
		i=$((i+1)); sleep 0.05
	done
	wait $lp; lrc=$?
	if [ $rc -eq 0 ] && [ $lrc -eq 0 ] && grep -q "$8" "$tmp/l.out" "$tmp/r.out"; then
		echo "PASS $name: $(grep -h "$8" "$tmp/l.out" "$tmp/r.out" | tr '\n' ' ')"
		pass=$((pass+1))
	else
		echo "FAIL $name (remote $rc, local $lrc)"; cat "$tmp/l.out" "$tmp/r.out"
		fail=$((fail+1))
	fi
}
run thr_1000B local_thr remote_thr 6666 1000 20000 1 "mean throughput"
run thr_1MiB local_thr remote_thr 6667 1048576 500 2 "mean throughput"
run lat_64B local_lat remote_lat 6668 64 2000 1 "average latency"
echo "$pass passed, $fail failed, $skip skipped"
[ $fail -eq 0 ]
