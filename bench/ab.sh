#!/bin/bash
# bench/ab.sh REV [ROUNDS] [URLBASE]: the perf tools built from revision REV
# ("old") and from the working tree ("new"), run interleaved round by round
# (the order alternates), over shm:// unless URLBASE says otherwise (e.g.
# "ofi://127.0.0.1:13600?provider=tcp&ep=msg" -- a port is added per run).
# Latency one-way in us, busy-poll (FABTX_SPIN_US) and event-driven
# (sleeping in poll); throughput in GB/s.  Prints each round and the
# median of the per-round ratios new/old.  Run it on a quiet machine.
set -uo pipefail
cd "$(dirname "$0")/.."
REV=${1:?usage: bench/ab.sh REV [ROUNDS] [URLBASE]}
R=${2:-7}
URLBASE=${3:-shm://ab-$$}
A=build/ab
rm -rf $A && mkdir -p $A/old $A/new || exit 1
git show "$REV:fabtx.h" >$A/old/fabtx.h || exit 1
for h in fabtx_ofi.h; do git show "$REV:$h" >$A/old/$h 2>/dev/null; done
cp fabtx.h fabtx_ofi.h $A/new/
OFI=; LIB=
case $URLBASE in ofi://*) OFI=-DFABTX_WITH_OFI; LIB=-lfabric ;; esac
for d in old new; do
	cc -std=c11 -O2 -g -D_GNU_SOURCE $OFI -I$A/$d -c -o $A/$d/impl.o examples/fabtx_impl.c || exit 1
	for t in local_lat remote_lat local_thr remote_thr; do
		cc -std=c11 -O2 -g -D_GNU_SOURCE -I$A/$d -Iexamples -o $A/$d/$t examples/$t.c $A/$d/impl.o -lpthread $LIB || exit 1
	done
done
echo 13600 >$A/port
url() { # a fresh endpoint per run (a file: url runs in a subshell)
	local port=$(($(cat $A/port) + 1))
	echo $port >$A/port
	case $URLBASE in
	ofi://*) echo "$URLBASE" | sed "s/:[0-9]*?/:$port?/" ;;
	*) echo "$URLBASE-$port" ;;
	esac
}
lat() { # dir spin size iters -> one-way us
	local u; u=$(url)
	FABTX_SPIN_US=$2 timeout 120 $A/$1/local_lat "$u" $3 $4 >/dev/null &
	local sp=$!
	FABTX_SPIN_US=$2 timeout 120 $A/$1/remote_lat "$u" $3 $4 2>/dev/null | awk '/average latency/{print $3}'
	wait $sp
}
thr() { # dir size count -> GB/s
	local u; u=$(url)
	FABTX_SPIN_US=10000000 timeout 120 $A/$1/remote_thr "$u" $2 $3 >/dev/null 2>&1 &
	local sp=$!
	FABTX_SPIN_US=10000000 timeout 120 $A/$1/local_thr "$u" $2 $3 2>/dev/null | awk -v s=$2 '/msg\/s/{printf "%.3f", $3*s/1e9}'
	wait $sp
}
tests=("lat 10000000 8 20000" "lat 10000000 4096 20000" "lat 0 64 5000" "lat 0 4096 5000" "thr 64 2000000" "thr 1048576 2000")
names=("busy 8B us" "busy 4KiB us" "event 64B us" "event 4KiB us" "64B GB/s" "1MiB GB/s")
out=$A/rounds.txt; : >$out
echo "bench/ab.sh: old = $(git rev-parse --short "$REV"), new = working tree, $R rounds, $URLBASE"
for ((r = 1; r <= R; r++)); do
	for i in "${!tests[@]}"; do
		set -- ${tests[$i]}
		f=$1; shift
		if ((r % 2)); then o=$($f old "$@"); n=$($f new "$@"); else n=$($f new "$@"); o=$($f old "$@"); fi
		printf "round %d  %-14s old %8s  new %8s\n" $r "${names[$i]}" "$o" "$n"
		echo "$i $o $n" >>$out
	done
done
echo "median of per-round new/old (latency: < 1 is faster; throughput: > 1 is faster):"
for i in "${!tests[@]}"; do
	awk -v i=$i '$1 == i && $2 > 0 && $3 > 0 {print $3 / $2; o[n] = $2; nn[n++] = $3}' $out | sort -g | awk -v name="${names[$i]}" '
		{v[NR] = $1} END {if (NR) printf "  %-14s %.3f  (min %.3f, max %.3f, %d rounds)\n", name, v[int((NR + 1) / 2)], v[1], v[NR], NR}'
done
