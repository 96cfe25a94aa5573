#!/bin/bash
# ofi_examples.sh BUILD_DIR -- the perf examples (local_lat/remote_lat,
# local_thr/remote_thr) run over ofi:// unchanged, on tcp (msg) and shm
# (rdm), in a private network namespace when unshare works (else on
# 127.0.0.1 with a port derived from the PID).  Prints a tt-style summary.
B=${1:-build}
if [ -z "${FXO_IN_NS:-}" ] && unshare --net true 2>/dev/null; then
	exec unshare --net env FXO_IN_NS=1 bash -c 'ip link set lo up 2>/dev/null; exec bash "$0" "$@"' "$0" "$@"
fi
for x in local_lat remote_lat local_thr remote_thr; do
	[ -x "$B/$x" ] || { echo "FAIL: $B/$x not built"; echo "0 passed, 1 failed, 0 skipped"; exit 1; }
done
pass=0; fail=0
port=$(( 10000 + $$ % 6000 ))  # below the ephemeral range: no connection holds it as its source port
wait_port() { for _ in $(seq 1000); do ss -ltn "sport = :$1" 2>/dev/null | grep -q LISTEN && return 0; sleep 0.01; done; return 1; }
run_pair() { # name server-cmd client-cmd pattern
	local name=$1 out sp src crc
	port=$((port + 1))
	timeout 60 $2 > /tmp/fxo_ex_$$.srv 2>&1 &
	sp=$!
	wait_port $port
	out=$(timeout 60 $3 2>&1); crc=$?
	wait $sp; src=$?
	if [ $crc -eq 0 ] && [ $src -eq 0 ] && cat /tmp/fxo_ex_$$.srv - <<<"$out" | grep -q "$4"; then
		echo "PASS $name"; pass=$((pass + 1))
	else
		echo "FAIL $name (client $crc, server $src)"; echo "$out"; cat /tmp/fxo_ex_$$.srv
		fail=$((fail + 1))
	fi
	rm -f /tmp/fxo_ex_$$.srv
}
for pe in tcp:msg shm:rdm; do
	p=${pe%%:*}; e=${pe##*:}
	q="provider=$p&ep=$e"
	run_pair "lat_${p}_$e" "$B/local_lat ofi://127.0.0.1:$((port + 1))?$q 64 2000" \
		"$B/remote_lat ofi://127.0.0.1:$((port + 1))?$q 64 2000" "average latency"
	run_pair "thr_${p}_$e" "$B/local_thr ofi://127.0.0.1:$((port + 1))?$q 4096 20000" \
		"$B/remote_thr ofi://127.0.0.1:$((port + 1))?$q 4096 20000" "mean throughput"
	# zmq_recvmsg-like receives (FABTX_PERF_ZC=1): 1 MiB runs lent in
	# place and echoed from the window, sends zero-copy from 256 KiB
	run_pair "lat_zc_${p}_$e" "env FABTX_PERF_ZC=1 FABTX_ZC_SEND_MIN=262144 FABTX_CELL_COUNT=1024 $B/local_lat ofi://127.0.0.1:$((port + 1))?$q 1048576 200" \
		"env FABTX_PERF_ZC=1 FABTX_ZC_SEND_MIN=262144 FABTX_CELL_COUNT=1024 $B/remote_lat ofi://127.0.0.1:$((port + 1))?$q 1048576 200" "average latency"
	run_pair "thr_zc_${p}_$e" "env FABTX_PERF_ZC=1 FABTX_CELL_COUNT=1024 $B/local_thr ofi://127.0.0.1:$((port + 1))?$q 1048576 500" \
		"env FABTX_ZC_SEND_MIN=262144 FABTX_CELL_COUNT=1024 $B/remote_thr ofi://127.0.0.1:$((port + 1))?$q 1048576 500" "mean throughput"
done
# 1 MiB busy-polling ping-pong over sockets (manual progress): runs read
# stale bytes there after ~200 round trips, so sockets sends cells
port=$((port + 1))
q="provider=sockets&ep=msg"
run_pair "lat_1M_spin_sockets_msg" "env FI_SOCKETS_PE_WAITTIME=0 FI_SOCKETS_MAX_BUF_SZ=4194304 FABTX_SPIN_US=10000000 $B/local_lat ofi://127.0.0.1:$((port + 1))?$q 1048576 600" \
	"env FI_SOCKETS_PE_WAITTIME=0 FI_SOCKETS_MAX_BUF_SZ=4194304 FABTX_SPIN_US=10000000 $B/remote_lat ofi://127.0.0.1:$((port + 1))?$q 1048576 600" "average latency"
echo "$pass passed, $fail failed, 0 skipped"
[ $fail -eq 0 ]
