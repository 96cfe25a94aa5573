#!/bin/sh
# bench/zmq_calls.sh [PREFIX...] -- system calls and CPU per round trip of
# libzmq's local_lat/remote_lat (8 B), both processes summed, per transport
# and per libzmq build (PREFIX, default build/zmq/prefix; give two to
# compare builds).  From the difference of a 25000- and a 5000-round-trip
# run, so connection setup and libfabric's one-time initialisation cancel.
# perf stat's raw_syscalls:sys_enter count does not slow the run (strace
# does, which inflates anything done "once a millisecond").  System calls
# hardly depend on the machine's load; the CPU figure does (context switch
# costs), so quote it only from a quiet machine.
# Env: ZC_TRANSPORTS (default "tcp ofi-tcp ofi-shm"), ZC_ROUNDS (default 2).
[ $# -eq 0 ] && set -- build/zmq/prefix
command -v perf > /dev/null || { echo "bench/zmq_calls.sh: needs perf"; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
port=$((30000 - $$ % 2000))
run() { # PREFIX TRANSPORT N -> "syscalls cpu_ms"
	port=$((port - 1))
	case $2 in
	tcp) u="tcp://127.0.0.1:$port" ;;
	ofi-tcp) u="ofi://127.0.0.1:$port?provider=tcp" ;;
	ofi-shm) u="ofi://127.0.0.1:$port?provider=shm&ep=rdm" ;;
	shm) u="shm://zc$$-$port" ;;
	esac
	LD_LIBRARY_PATH=$1/lib perf stat -x, -e raw_syscalls:sys_enter,task-clock \
		-o "$tmp/l" "$1/bin/local_lat" "$u" 8 "$3" > /dev/null 2>&1 &
	lp=$!
	LD_LIBRARY_PATH=$1/lib perf stat -x, -e raw_syscalls:sys_enter,task-clock \
		-o "$tmp/r" "$1/bin/remote_lat" "$u" 8 "$3" > /dev/null 2>&1
	wait $lp
	cat "$tmp/l" "$tmp/r" | awk -F, '/raw_syscalls/{s+=$1} /task-clock/{c+=$1} END{print s, c}'
}
r=1
while [ "$r" -le "${ZC_ROUNDS:-2}" ]; do
	for t in ${ZC_TRANSPORTS:-tcp ofi-tcp ofi-shm}; do
		for p in "$@"; do
			a=$(run "$p" "$t" 5000)
			b=$(run "$p" "$t" 25000)
			echo "$a $b" | awk -v p="$p" -v t="$t" -v l="$(cut -d' ' -f1 /proc/loadavg)" \
				'{printf "%-8s %-28s syscalls/rt %5.1f  cpu/rt %6.1f us  (load %s)\n", t, p, ($3-$1)/20000, ($4-$2)*1000/20000, l}'
		done
	done
	r=$((r + 1))
done
