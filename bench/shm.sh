#!/bin/bash
# bench/shm.sh [ROUNDS]: fabtx over shm:// next to ucx_perftest (UCX_TLS=posix)
# in the same run, round by round.  Latency is one-way (half a round trip)
# in us; bandwidth in GB/s (1e9 B/s).  Both sides busy-poll, as
# ucx_perftest does (FABTX_SPIN_US).  Prints per-round rows, medians and
# the median of per-round ratios fabtx/ucx.
set -uo pipefail
cd "$(dirname "$0")/.."
R=${1:-5}
B=${B:-build}
PORT=13400
make -s $B/local_lat $B/remote_lat $B/local_thr $B/remote_thr >/dev/null || exit 1
command -v ucx_perftest >/dev/null || { echo "ucx_perftest missing (apt-get install ucx-utils)"; exit 77; }
tmp=$(mktemp -d); trap 'rm -rf $tmp' EXIT

wait_port() { for _ in $(seq 500); do ss -ltn "sport = :$1" | grep -q LISTEN && return 0; sleep 0.01; done; return 1; }
ucx() { # test size iters -> overall latency (us) or bandwidth (MB/s)
	local t=$1 s=$2 n=$3 w=$(( $3 / 10 )) out
	PORT=$((PORT + 1))
	UCX_TLS=posix,self timeout 120 ucx_perftest -p $PORT >/dev/null 2>&1 &
	local sp=$!
	wait_port $PORT || { kill $sp; echo nan; return; }
	out=$(UCX_TLS=posix,self timeout 120 ucx_perftest 127.0.0.1 -p $PORT -t $t -s $s -n $n -w $w -f -v 2>/dev/null | tail -1 | tr -d ' ')
	wait $sp
	IFS=, read -r it p50 avg overall bwavg bwall mravg mrall <<<"$out"
	case $t in *_lat) echo "$overall" ;; *) awk -v b="$bwall" 'BEGIN{printf "%.3f", b*1.048576/1000}' ;; esac
}
fab_lat() { # size iters -> one-way us
	FABTX_SPIN_US=10000000 timeout 120 $B/local_lat shm://bench-lat-$$ $1 $2 >/dev/null &
	local sp=$!
	FABTX_SPIN_US=10000000 timeout 120 $B/remote_lat shm://bench-lat-$$ $1 $2 | awk '/average latency/{print $3}'
	wait $sp
}
fab_thr() { # size count -> GB/s
	FABTX_SPIN_US=10000000 timeout 120 $B/remote_thr shm://bench-thr-$$ $1 $2 >/dev/null &
	local sp=$!
	FABTX_SPIN_US=10000000 timeout 120 $B/local_thr shm://bench-thr-$$ $1 $2 | awk -v s=$1 '/msg\/s/{printf "%.3f", $3*s/1e9}'
	wait $sp
}

printf 'round\tfab_lat8\tucx_lat8\tfab_lat64\tucx_lat64\tfab_bw1M\tucx_bw1M\tfab_bw64K\tucx_bw64K\n'
for r in $(seq 1 $R); do
	a=$(fab_lat 8 300000); b=$(ucx tag_lat 8 300000)
	c=$(fab_lat 64 300000); d=$(ucx tag_lat 64 300000)
	e=$(fab_thr 1048576 4000); f=$(ucx tag_bw 1048576 4000)
	g=$(fab_thr 65536 40000); h=$(ucx tag_bw 65536 40000)
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' $r $a $b $c $d $e $f $g $h | tee -a $tmp/rows
done
awk -F'\t' '
function med(a, n,   i, j, t) { for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
	return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2 }
{ n++; for (k = 2; k <= 9; k++) v[k, n] = $k
  r1[n] = $2 / $3; r2[n] = $4 / $5; r3[n] = $6 / $7; r4[n] = $8 / $9 }
END {
	split("fab_lat8 ucx_lat8 fab_lat64 ucx_lat64 fab_bw1M ucx_bw1M fab_bw64K ucx_bw64K", nm, " ")
	printf "\nmedians over %d rounds:\n", n
	for (k = 2; k <= 9; k++) { for (i = 1; i <= n; i++) x[i] = v[k, i]; printf "  %-10s %s\n", nm[k - 1], med(x, n) }
	printf "ratios fabtx/ucx (median of per-round ratios; latency: lower is better, bandwidth: higher):\n"
	printf "  lat 8 B     %.2f\n  lat 64 B    %.2f\n  bw 1 MiB    %.2f\n  bw 64 KiB   %.2f\n", med(r1, n), med(r2, n), med(r3, n), med(r4, n)
}' $tmp/rows
