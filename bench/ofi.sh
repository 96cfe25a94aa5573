#!/bin/bash
# bench/ofi.sh [ROUNDS] [PROVIDERS]: fabtx over ofi:// next to fi_pingpong on
# the same libfabric providers, in the same run, round by round, everything
# on 127.0.0.1 (inside a private network namespace when unshare works).
#   PROVIDERS: "shm:rdm tcp:msg" by default; also tcp+ofi_rxm:rdm net:rdm
# Per provider and round:
#   lat8, lat4K   one-way latency (half a round trip) in us: fabtx
#                 local_lat/remote_lat vs fi_pingpong usec/xfer
#   pp1M          1 MiB ping-pong "throughput" = size / one-way time, MB/s
#                 (what fi_pingpong reports as MB/sec) for both
#   raw_*         bench/fi_rma_pp (rdm and msg): the same ping-pong with
#                 bare fi_writedata + remote CQ data, fabtx's primitive with
#                 no ring, footer or copy: the floor of the mandated data path
#   thr1M         fabtx 1 MiB streaming throughput (local_thr/remote_thr),
#                 MB/s; fi_pingpong has no streaming test, so it is set
#                 against fi_pingpong's pp1M
# Both sides busy-poll, as fi_pingpong does (FABTX_SPIN_US).  BENCH_ZC=1:
# fabtx in its zero-copy mode (FABTX_PERF_ZC=1, FABTX_ZC_SEND_MIN=262144).  Prints the
# rows, medians and the medians of per-round ratios fabtx/fi_pingpong
# (latency: lower is better; throughput: higher is better).
set -uo pipefail
cd "$(dirname "$0")/.."
R=${1:-5}
PROVS=${2:-"shm:rdm tcp:msg"}
B=${B:-build}
if [ -z "${FXO_IN_NS:-}" ] && unshare --net true 2>/dev/null; then
	exec unshare --net env FXO_IN_NS=1 bash -c 'ip link set lo up; exec "$0" "$@"' "$0" "$@"
fi
make -s $B/local_lat $B/remote_lat $B/local_thr $B/remote_thr $B/fi_rma_pp >/dev/null || exit 1
command -v fi_pingpong >/dev/null || { echo "fi_pingpong missing (apt-get install libfabric-bin)"; exit 77; }
tmp=$(mktemp -d); trap 'rm -rf $tmp' EXIT
PORT=47900
SPIN=10000000
# BENCH_ZC=1: the zero-copy mode (examples receive like zmq_recvmsg, 512-cell
# rings (4 MiB: the smallest whose lending cap, N/2 cells, holds a 1 MiB run
# of 129 cells; 1024 cells measured slower, a larger cache footprint), sends
# of 256 KiB and more go from the caller's buffer)
ZCENV=""
[ "${BENCH_ZC:-0}" = 1 ] && ZCENV="FABTX_PERF_ZC=1 FABTX_ZC_SEND_MIN=262144 FABTX_CELL_COUNT=512"

wait_port() { for _ in $(seq 1000); do ss -ltn "sport = :$1" | grep -q LISTEN && return 0; sleep 0.01; done; return 1; }
url() { echo "ofi://127.0.0.1:$1?provider=$2&ep=$3"; }
iters() { # prov size -> iterations
	case "$1:$2" in
	shm:8) echo 200000 ;; shm:4096) echo 100000 ;; shm:*) echo 2000 ;;
	*:8) echo 30000 ;; *:4096) echo 30000 ;; *) echo 1000 ;;
	esac
}
fi_pp() { # prov ep size -> "usec_per_xfer MB_per_s"
	local p=${1/+/;} n; n=$(iters $1 $3)
	PORT=$((PORT + 1))
	timeout 120 fi_pingpong -p "$p" -e $2 -S $3 -I $n -B $PORT >/dev/null 2>&1 &
	local sp=$!
	wait_port $PORT || { kill $sp 2>/dev/null; echo "nan nan"; return; }
	timeout 120 fi_pingpong -p "$p" -e $2 -S $3 -I $n -P $PORT 127.0.0.1 2>/dev/null |
		awk '$1 != "bytes" && NF >= 8 && $7 ~ /^[0-9.]+$/ {u=$7; m=$6} END {if (u == "") print "nan nan"; else print u, m}'
	wait $sp
}
raw_pp() { # prov ep size -> "usec_per_xfer MB_per_s" of bench/fi_rma_pp
	# (not over sockets: its connection never completes there with manual
	# progress, and sockets is no anchor provider)
	[ "$1" = sockets ] && { echo "nan nan"; return; }
	timeout 120 $B/fi_rma_pp -p "${1/+/;}" -e $2 -S $3 -I $(iters $1 $3) 2>/dev/null |
		awk 'NR == 2 {u=$3; m=$4} END {if (u == "") print "nan nan"; else print u, m}'
}
fab_lat() { # prov ep size -> one-way us
	local n u; n=$(iters $1 $3)
	PORT=$((PORT + 1)); u=$(url $PORT $1 $2)
	env $ZCENV FABTX_SPIN_US=$SPIN timeout 120 $B/local_lat "$u" $3 $n >/dev/null 2>&1 &
	local sp=$!
	wait_port $PORT || { kill $sp 2>/dev/null; echo nan; return; }
	env $ZCENV FABTX_SPIN_US=$SPIN timeout 120 $B/remote_lat "$u" $3 $n 2>/dev/null |
		awk '/average latency/{x=$3} END {print (x == "" ? "nan" : x)}'
	wait $sp
}
fab_thr() { # prov ep size count -> MB/s
	local u
	PORT=$((PORT + 1)); u=$(url $PORT $1 $2)
	env $ZCENV FABTX_SPIN_US=$SPIN timeout 120 $B/local_thr "$u" $3 $4 > $tmp/thr 2>&1 &
	local sp=$!
	wait_port $PORT || { kill $sp 2>/dev/null; echo nan; return; }
	env $ZCENV FABTX_SPIN_US=$SPIN timeout 120 $B/remote_thr "$u" $3 $4 >/dev/null 2>&1
	wait $sp
	awk -v s=$3 '/msg\/s/{x=$3*s/1e6} END {if (x == "") print "nan"; else printf "%.0f\n", x}' $tmp/thr
}

printf 'prov\tround\tfab_lat8\tfi_lat8\tfab_lat4K\tfi_lat4K\tfab_pp1M\tfi_pp1M\tfab_thr1M\traw_lat8\traw_lat4K\traw_pp1M\n'
for r in $(seq 1 $R); do
	for pe in $PROVS; do
		p=${pe%%:*}; e=${pe##*:}
		a=$(fab_lat $p $e 8); read -r b _ <<<"$(fi_pp $p $e 8)"
		c=$(fab_lat $p $e 4096); read -r d _ <<<"$(fi_pp $p $e 4096)"
		f=$(fab_lat $p $e 1048576); read -r _ g <<<"$(fi_pp $p $e 1048576)"
		f=$(awk -v u=$f 'BEGIN{ if (u + 0 > 0) printf "%.0f", 1048576 / u; else print "nan" }')
		h=$(fab_thr $p $e 1048576 $([ $p = shm ] && echo 20000 || echo 4000))
		read -r i _ <<<"$(raw_pp $p $e 8)"; read -r j _ <<<"$(raw_pp $p $e 4096)"
		read -r _ k <<<"$(raw_pp $p $e 1048576)"
		printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' $pe $r $a $b $c $d $f $g $h $i $j $k | tee -a $tmp/rows
	done
done
awk -F'\t' '
# a missing value ("nan": no raw column over sockets) is 0 to gawk, NaN to mawk
function d(a, b) { return (a == "nan" || b == "nan" || b + 0 == 0) ? "nan" : a / b }
function med(a, n,   i, j, t) { for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
	return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2 }
{ p = $1; n[p]++; k = n[p]; if (!(p in seen)) { seen[p] = 1; order[++np] = p }
  for (c = 3; c <= 12; c++) v[p, c, k] = $c
  r[p, 1, k] = d($3, $4); r[p, 2, k] = d($5, $6); r[p, 3, k] = d($7, $8); r[p, 4, k] = d($9, $8)
  r[p, 5, k] = d($10, $4); r[p, 6, k] = d($11, $6); r[p, 7, k] = d($12, $8)
  r[p, 8, k] = d($3, $10); r[p, 9, k] = d($5, $11); r[p, 10, k] = d($7, $12) }
END {
	split("fab_lat8 fi_lat8 fab_lat4K fi_lat4K fab_pp1M fi_pp1M fab_thr1M raw_lat8 raw_lat4K raw_pp1M", nm, " ")
	for (q = 1; q <= np; q++) {
		p = order[q]
		printf "\n%s: medians over %d rounds\n", p, n[p]
		for (c = 3; c <= 12; c++) { for (i = 1; i <= n[p]; i++) x[i] = v[p, c, i]; printf "  %-10s %s\n", nm[c - 2], med(x, n[p]) }
		printf "  ratios fabtx/fi_pingpong (median of per-round ratios; the middle half of the rounds):\n"
		split("lat 8 B (<= 1.1)|lat 4 KiB (<= 1.1)|1 MiB ping-pong MB/s (>= 0.95)|1 MiB streaming vs fi ping-pong MB/s (>= 0.95)", lb, "|")
		for (m = 1; m <= 4; m++) { for (i = 1; i <= n[p]; i++) x[i] = r[p, m, i]; mm = med(x, n[p])
			printf "    %-48s %.2f  (%.2f-%.2f)\n", lb[m], mm, x[int((n[p] + 3) / 4)], x[int((3 * n[p] + 3) / 4)] }
		if (v[p, 10, 1] == "nan") continue
		printf "  raw fi_writedata ping-pong (bench/fi_rma_pp, fabtx primitive alone) / fi_pingpong:\n"
		split("lat 8 B|lat 4 KiB|1 MiB ping-pong MB/s|fabtx / raw: lat 8 B|fabtx / raw: lat 4 KiB|fabtx / raw: 1 MiB ping-pong MB/s", lb, "|")
		for (m = 5; m <= 10; m++) { for (i = 1; i <= n[p]; i++) x[i] = r[p, m, i]; printf "    %-48s %.2f\n", lb[m - 4], med(x, n[p]) }
	}
}' $tmp/rows
