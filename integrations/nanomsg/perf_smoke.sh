#!/bin/sh
# integrations/nanomsg/perf_smoke.sh PREFIX URL -- nanomsg's own perf tools
# (local_lat/remote_lat, local_thr/remote_thr from its perf/ directory)
# over one endpoint: each pair must finish and report a number (a smoke
# test, not a measurement: see bench/nanomsg.sh).  Prints the usual
# "N passed, N failed, N skipped" line.
prefix=$1
url=$2
bin=$prefix/bin
pass=0
fail=0
run_pair() { # name local remote size count
	out=$(mktemp)
	timeout 120 "$bin/$2" "$url" "$4" "$5" > "$out" 2>&1 &
	lp=$!
	# the local side binds; the remote side connects and retries until
	# the bind is there (nanomsg reconnects), so no start-up sleep
	timeout 120 "$bin/$3" "$url" "$4" "$5" > "$out.r" 2>&1
	rrc=$?
	wait $lp
	lrc=$?
	if [ $lrc -eq 0 ] && [ $rrc -eq 0 ] &&
		grep -qE '(latency|throughput): [0-9.]+' "$out" "$out.r"; then
		echo "PASS $1 $url: $(grep -hE 'latency|throughput' "$out" "$out.r" | tr -s ' ' | tr '\n' ' ')"
		pass=$((pass + 1))
	else
		echo "FAIL $1 $url (local $lrc, remote $rrc)"
		cat "$out" "$out.r"
		fail=$((fail + 1))
	fi
	rm -f "$out" "$out.r"
}
run_pair lat_8B local_lat remote_lat 8 2000
run_pair lat_4KiB local_lat remote_lat 4096 2000
run_pair thr_64B local_thr remote_thr 64 100000
run_pair thr_1MiB local_thr remote_thr 1048576 200
echo "$pass passed, $fail failed, 0 skipped"
[ $fail -eq 0 ]
