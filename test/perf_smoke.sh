#!/bin/sh
# test/perf_smoke.sh PREFIX URL [lat|all] [CONNECT_URL] -- a messaging
# library's own perf tools (PREFIX/bin/local_lat, remote_lat, local_thr,
# remote_thr: libzmq's and nanomsg's take the same arguments) over one
# endpoint: each pair must finish and report a number (a smoke test, not
# a measurement: see bench/zmq.sh, bench/nanomsg.sh).  Prints the usual
# "N passed, N failed, N skipped" line.  "lat" runs only the latency pairs.
# CONNECT_URL is the address the remote side connects to (rio://,
# scif://); PS_LOCAL_ENV / PS_REMOTE_ENV are "VAR=value ..." for each side.
prefix=$1
url=$2
which=${3:-all}
curl=${4:-$2}
bin=$prefix/bin
pass=0
fail=0
run_pair() { # name local remote size count
	out=$(mktemp)
	env $PS_LOCAL_ENV timeout 120 "$bin/$2" "$url" "$4" "$5" > "$out" 2>&1 &
	lp=$!
	# the local side binds; the remote side connects and retries until the
	# bind is there (libzmq and nanomsg reconnect), so no start-up sleep
	env $PS_REMOTE_ENV timeout 120 "$bin/$3" "$curl" "$4" "$5" > "$out.r" 2>&1
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
skip=0
if [ "$which" = all ]; then
	run_pair thr_64B local_thr remote_thr 64 100000
	run_pair thr_1MiB local_thr remote_thr 1048576 200
else
	skip=2
	echo "SKIP thr_64B thr_1MiB $url"
fi
echo "$pass passed, $fail failed, $skip skipped"
[ $fail -eq 0 ]
