#!/bin/sh
# bench/nanomsg.sh [PREFIX] -- nanomsg latency and throughput over the fabtx
# transports next to nanomsg's own ipc:// and tcp://, in one run, with
# nanomsg's perf tools (local_lat/remote_lat, local_thr/remote_thr) from the
# nanomsg that `make nanomsg` built (default PREFIX build/nanomsg/prefix).
#
#   latency    8 B and 4 KiB: remote_lat's "average latency" (half a round
#              trip, us); lower is better
#   throughput 64 B and 1 MiB: local_thr's throughput in Mb/s (1e6 bit/s);
#              higher is better
#
# ROUNDS rounds (default 5), transports interleaved within each round; the
# table shows medians and the ratio to ipc:// and to tcp:// (x > 1 means
# better).  Env: ROUNDS, NB_TRANSPORTS (default "ipc tcp shm ofi-tcp"),
# SCALE (iteration multiplier, default 1).  Numbers mean something only on
# an otherwise idle machine.
prefix=${1:-build/nanomsg/prefix}
bin=$prefix/bin
ROUNDS=${ROUNDS:-5}
SCALE=${SCALE:-1}
[ -x "$bin/local_lat" ] || { echo "bench/nanomsg.sh: no $bin/local_lat (make nanomsg)"; exit 1; }
cfg=$(dirname "$prefix")/src/src/transports/fabtx/ftx_config.h
if [ -z "$NB_TRANSPORTS" ]; then
	NB_TRANSPORTS="ipc tcp shm"
	grep -q "FTX_HAVE_OFI 1" "$cfg" 2>/dev/null && NB_TRANSPORTS="$NB_TRANSPORTS ofi-tcp"
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
n() { awk -v n="$1" -v s="$SCALE" 'BEGIN{n=int(n*s); if (n < 10) n = 10; print n}'; }
port=$((26000 + $$ % 4000))  # below the ephemeral range

url() {
	port=$((port + 1))
	case $1 in
	tcp) echo "tcp://127.0.0.1:$port" ;;
	ipc) echo "ipc://$tmp/ipc$port" ;;
	shm) echo "shm://nb$$-$port" ;;
	ofi-tcp) echo "ofi://127.0.0.1:$port?provider=tcp" ;;
	esac
}

# once KIND T SIZE COUNT -> prints the number or nothing
once() {
	u=$(url "$2")
	timeout 120 "$bin/local_$1" "$u" "$3" "$4" > "$tmp/l" 2>&1 &
	lp=$!
	timeout 120 "$bin/remote_$1" "$u" "$3" "$4" > "$tmp/r" 2>&1
	wait $lp
	if [ "$1" = lat ]; then
		awk '/average latency/{print $3}' "$tmp/r"
	else
		awk '/throughput:.*Mb\/s/{print $2}' "$tmp/l"
	fi
}

metrics="lat:8:$(n 10000) lat:4096:$(n 10000) thr:64:$(n 1000000) thr:1048576:$(n 1000)"
r=1
while [ $r -le "$ROUNDS" ]; do
	for m in $metrics; do
		k=${m%%:*}; rest=${m#*:}; sz=${rest%%:*}; cnt=${rest#*:}
		for t in $NB_TRANSPORTS; do
			v=$(once "$k" "$t" "$sz" "$cnt")
			echo "$k $sz $t ${v:-NA}" >> "$tmp/all"
		done
	done
	echo "round $r done" >&2
	r=$((r + 1))
done

med() { # KIND SIZE T -> median of the rounds (NA if any failed)
	vals=$(awk -v k="$1" -v s="$2" -v t="$3" '$1==k && $2==s && $3==t {print $4}' "$tmp/all")
	echo "$vals" | grep -q NA && { echo NA; return; }
	echo "$vals" | sort -g | awk '{a[NR]=$1} END{ if (NR == 0) print "NA"; else if (NR % 2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2 }'
}
ratio() { # KIND value ref -> x (>1 better)
	awk -v k="$1" -v v="$2" -v r="$3" 'BEGIN{ if (v == "NA" || r == "NA" || v == 0 || r == 0) { print "-"; exit }
		printf "%.2fx\n", (k == "lat") ? r / v : v / r }'
}
echo
echo "nanomsg perf tools, $ROUNDS interleaved rounds, medians (latency us, lower better; throughput Mb/s, higher better)"
printf "%-16s %-9s %12s %10s %10s\n" metric transport median "vs ipc" "vs tcp"
for m in $metrics; do
	k=${m%%:*}; rest=${m#*:}; sz=${rest%%:*}
	ipc=$(med "$k" "$sz" ipc); tcp=$(med "$k" "$sz" tcp)
	for t in $NB_TRANSPORTS; do
		v=$(med "$k" "$sz" "$t")
		printf "%-16s %-9s %12s %10s %10s\n" "$k $sz B" "$t" "$v" \
			"$(ratio "$k" "$v" "$ipc")" "$(ratio "$k" "$v" "$tcp")"
	done
done
