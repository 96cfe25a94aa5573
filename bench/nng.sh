#!/bin/sh
# bench/nng.sh [PREFIX] -- nng latency and throughput over the fabtx
# transports next to nng's own ipc:// and tcp://, in one run, with nng's
# perf tools (local_lat/remote_lat, local_thr/remote_thr) from the nng that
# `make nng` built (default PREFIX build/nng/prefix).
#
#   latency    8 B and 4 KiB: remote_lat's "average latency" (us, as nng's
#              perf.c prints it); lower is better
#   throughput 64 B and 1 MiB: local_thr's "throughput ... [Mb/s]"; higher
#              is better
#
# ROUNDS rounds (default 5, at least 5 for figures worth quoting),
# transports interleaved within a round; the table shows medians and the
# ratio to ipc:// (x > 1 means better than ipc://).  Do not quote figures
# taken while the machine is busy (other builds, tests).
# "-spin" rows are the same fabtx transport with the opt-in busy-poll
# (FABTX_SPIN_US=$NB_SPIN_US on both sides, default 1000).
# Env: ROUNDS, NB_TRANSPORTS (default "ipc tcp shm shm-spin ofi-tcp"),
# NB_SPIN_US, SCALE (iteration multiplier, default 1).
prefix=${1:-build/nng/prefix}
bin=$prefix/bin
ROUNDS=${ROUNDS:-5}
SCALE=${SCALE:-1}
NB_TRANSPORTS=${NB_TRANSPORTS:-ipc tcp shm shm-spin ofi-tcp}
NB_SPIN_US=${NB_SPIN_US:-1000}
[ -x "$bin/local_lat" ] || { echo "bench/nng.sh: no $bin/local_lat (make nng)"; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
n() { awk -v n="$1" -v s="$SCALE" 'BEGIN{n=int(n*s); if (n < 10) n = 10; print n}'; }
port=$((20000 + $$ % 5000)) # below the ephemeral range

url() {
	port=$((port + 1))
	case $1 in
	*-spin) url "${1%-spin}"; return ;;
	ipc) echo "ipc://$tmp/ipc$port" ;;
	tcp) echo "tcp://127.0.0.1:$port" ;;
	shm) echo "shm://nb$$-$port" ;;
	ofi-tcp) echo "ofi://127.0.0.1:$port?provider=tcp" ;;
	esac
}

# once KIND T SIZE COUNT -> prints the number or nothing
once() {
	u=$(url "$2")
	e=""
	case $2 in *-spin) e="FABTX_SPIN_US=$NB_SPIN_US" ;; esac
	env $e timeout 120 "$bin/local_$1" "$u" "$3" "$4" > "$tmp/l" 2>&1 &
	lp=$!
	# the local side listens; nng's remote tool dials once: retry until
	# the listener is up (a benchmark, not a test)
	i=0
	while :; do
		env $e timeout 120 "$bin/remote_$1" "$u" "$3" "$4" > "$tmp/r" 2>&1 && break
		i=$((i + 1))
		[ $i -ge 50 ] && break
		kill -0 $lp 2> /dev/null || break
		sleep 0.1
	done
	wait $lp
	if [ "$1" = lat ]; then
		awk '/average latency/{print $3}' "$tmp/r"
	else
		awk '/throughput:.*Mb\/s/{print $2}' "$tmp/l"
	fi
}

metrics="lat:8:$(n 20000) lat:4096:$(n 10000) thr:64:$(n 200000) thr:1048576:$(n 500)"
r=1
while [ $r -le "$ROUNDS" ]; do
	for m in $metrics; do
		k=${m%%:*}; rest=${m#*:}; sz=${rest%%:*}; cnt=${rest#*:}
		for t in $NB_TRANSPORTS; do
			v=$(once "$k" "$t" "$sz" "$cnt")
			echo "$k $sz $t ${v:-NA}" >> "$tmp/all"
		done
	done
	echo "round $r/$ROUNDS done" >&2
	r=$((r + 1))
done

median() {
	grep -v NA | sort -g | awk '{a[NR]=$1} END{if (NR==0) print "NA"; else if (NR%2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'
}
printf "%-10s" "transport"
for m in $metrics; do k=${m%%:*}; rest=${m#*:}; printf " %18s" "$k ${rest%%:*}B"; done
echo
for t in $NB_TRANSPORTS; do
	printf "%-10s" "$t"
	for m in $metrics; do
		k=${m%%:*}; rest=${m#*:}; sz=${rest%%:*}
		v=$(awk -v k="$k" -v s="$sz" -v t="$t" '$1==k && $2==s && $3==t {print $4}' "$tmp/all" | median)
		base=$(awk -v k="$k" -v s="$sz" '$1==k && $2==s && $3=="ipc" {print $4}' "$tmp/all" | median)
		ratio=$(awk -v v="$v" -v b="$base" -v k="$k" 'BEGIN{ if (v=="NA"||b=="NA"||v==0||b==0) print "-"; else if (k=="lat") printf "%.2fx", b/v; else printf "%.2fx", v/b }')
		printf " %10s %7s" "$v" "$ratio"
	done
	echo
done
echo "(latency: us, lower is better; throughput: Mb/s; ratios vs ipc://, >1 better; medians of $ROUNDS rounds)"
