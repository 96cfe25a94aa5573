#!/bin/bash
# bench/profile.sh KIND SIZE [BACKEND] [MODE] [TOOL] -- where the time of
# one bench row goes, for a target the tables say is missed (issue 19).
#
#   KIND     lat | thr          (local_lat+remote_lat | local_thr+remote_thr)
#   SIZE     message bytes
#   BACKEND  shm (default) | ofi-PROVIDER (ofi-shm, ofi-tcp, "ofi-tcp;ofi_rxm", ofi-net)
#   MODE     busy (default: FABTX_SPIN_US=10000000 both sides) | event
#   TOOL     perf (default): perf record -e cpu-clock (the guest has no
#            hardware PMU: a software clock samples where the CPU time goes),
#            then the top of perf report for each side;
#            callgrind: both sides under valgrind --tool=callgrind with few
#            iterations, then the functions by instructions executed (a
#            busy-polling side counts its polling loop too)
# Same environment and URLs as bench/run.sh; extra environment (e.g.
# FABTX_CELL_COUNT=512) is passed through.  Output: build/bench-profile/.
# Profiling perturbs what it measures: compare profiles, not timings.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
KIND=${1:?usage: bench/profile.sh lat|thr SIZE [BACKEND] [busy|event] [perf|callgrind]}
SIZE=${2:?message size}
BE=${3:-shm}
MODE=${4:-busy}
TOOL=${5:-perf}
B=${B:-build}
OUT=${BENCH_PROFILE_OUT:-$B/bench-profile}
case $KIND in lat | thr) ;; *) echo "profile.sh: KIND is lat or thr" >&2; exit 2 ;; esac
case $SIZE in '' | *[!0-9]*) echo "profile.sh: SIZE is a number of bytes" >&2; exit 2 ;; esac
case $MODE in busy | event) ;; *) echo "profile.sh: MODE is busy or event" >&2; exit 2 ;; esac
case $TOOL in perf | callgrind) ;; *) echo "profile.sh: TOOL is perf or callgrind" >&2; exit 2 ;; esac
[ -x "$B/local_$KIND" ] || { echo "profile.sh: $B/local_$KIND not built (make bench-tools)" >&2; exit 1; }
if [ -z "${BENCH_IN_NS:-}" ] && unshare --net true 2>/dev/null; then
	exec unshare --net env BENCH_IN_NS=1 bash -c 'ip link set lo up; exec bash "$0" "$@"' "$(pwd)/bench/profile.sh" "$@"
fi
mkdir -p "$OUT" || exit 1
case $BE in
shm) url="shm://prof$$" ;;
ofi-*)
	p=${BE#ofi-}; ep=rdm; [ "$p" = tcp ] && ep=msg
	url="ofi://127.0.0.1:21999?provider=$p&ep=$ep" ;;
*) echo "profile.sh: BACKEND is shm or ofi-PROVIDER" >&2; exit 2 ;;
esac
spin=""
[ "$MODE" = busy ] && spin="FABTX_SPIN_US=10000000"
# about 2 s of traffic natively; callgrind runs ~50x slower: fewer
n=$(awk -v k=$KIND -v s=$SIZE -v t=$TOOL -v m=$MODE -v b="$BE" 'BEGIN {
	w = (m == "event" || (b ~ /^ofi-/ && b != "ofi-shm")) ? 8 : 1
	e = (k == "lat") ? 2 * (w + s / 4000) : w / 5 + s / 5000
	n = int(2e6 / e); if (t == "callgrind") n = int(n / 50)
	if (n < 20) n = 20; print n }')
tag="${KIND}_${SIZE}_${BE//;/_}_$MODE"
wrap() { # side -> the command prefix
	case $TOOL in
	perf) echo "perf record -q -e cpu-clock -g -o $OUT/$tag.$1.perf.data --" ;;
	callgrind) echo "valgrind -q --tool=callgrind --callgrind-out-file=$OUT/$tag.$1.callgrind.out" ;;
	esac
}
echo "profile.sh: $KIND $SIZE B over $url, $MODE, $n iterations, $TOOL -> $OUT/$tag.*"
env $spin $(wrap local) "$B/local_$KIND" "$url" "$SIZE" "$n" >"$OUT/$tag.local.txt" 2>&1 &
lp=$!
env $spin $(wrap remote) "$B/remote_$KIND" "$url" "$SIZE" "$n" >"$OUT/$tag.remote.txt" 2>&1
rr=$?
wait $lp
lr=$?
cat "$OUT/$tag.local.txt" "$OUT/$tag.remote.txt" | grep -E "latency|throughput|error" | sed 's/^/  /'
[ $rr -eq 0 ] && [ $lr -eq 0 ] || { echo "profile.sh: the pair failed (local $lr, remote $rr)"; exit 1; }
for side in local remote; do
	echo "== ${side}_$KIND ($side side): where the time goes"
	case $TOOL in
	perf) perf report -i "$OUT/$tag.$side.perf.data" --stdio --no-children --percent-limit 1.5 2>/dev/null |
		grep -E '^ +[0-9.]+%' | head -25 | tee "$OUT/$tag.$side.top.txt" ;;
	callgrind) callgrind_annotate "$OUT/$tag.$side.callgrind.out" 2>/dev/null | sed -n '/file:function/,$p' |
		head -30 | tee "$OUT/$tag.$side.top.txt" ;;
	esac
done
