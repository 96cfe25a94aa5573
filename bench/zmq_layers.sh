#!/bin/bash
# bench/zmq_layers.sh [ROUNDS] [SIZE] -- where zmq-over-ofi's latency goes,
# layer by layer, event-driven (every side sleeps in poll/epoll), one-way
# latency in us, interleaved rounds, medians:
#   sock        the kernel's TCP round trip alone (bench/fi_rma_pp -p sock -w)
#   fi-tcp      libfabric's tcp provider alone: fi_inject_writedata with CQ
#               data, FI_WAIT_FD + fi_trywait + poll (bench/fi_rma_pp -w)
#   fabtx-tcp   fabtx over ofi:// tcp, its own perf tools (FABTX_SPIN_US=0)
#   zmq-tcp     libzmq over tcp:// (local_lat/remote_lat)
#   zmq-ofi     libzmq over ofi:// tcp provider
#   fabtx-ofishm  fabtx over ofi:// with libfabric's shm provider (FI_EP_RDM;
#               no wait fd there: the sleeper is woken by a datagram)
#   zmq-ofishm  libzmq over the same
# zmq-tcp - sock is what libzmq adds to a TCP round trip; zmq-ofi - fabtx-tcp
# what it adds to fabtx's; fi-tcp - sock what the provider adds.
# ZL_LAYERS picks a subset (default: all of the above).
# Run it on a quiet machine.  Needs make zmq (build/zmq/prefix).
set -uo pipefail
cd "$(dirname "$0")/.."
R=${1:-7}
S=${2:-64}
B=build
P=$B/zmq/prefix
make -s $B/fi_rma_pp $B/local_lat $B/remote_lat >/dev/null || exit 1
[ -x $P/bin/local_lat ] || { echo "bench/zmq_layers.sh: make zmq first"; exit 1; }
N=20000
port=$((31000 + $$ % 1000))
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pair() { # env prefix-dir url -> one-way us ("" for fabtx's tools)
	local lib=$1 bin=$2 u=$3 lp
	if [ -n "$lib" ]; then
		LD_LIBRARY_PATH=$lib timeout 120 $bin/local_lat "$u" $S $N >/dev/null 2>&1 &
		lp=$!
		LD_LIBRARY_PATH=$lib timeout 120 $bin/remote_lat "$u" $S $N 2>/dev/null | awk '/average latency/{print $3}'
	else
		FABTX_SPIN_US=0 timeout 120 $bin/local_lat "$u" $S $N >/dev/null 2>&1 &
		lp=$!
		FABTX_SPIN_US=0 timeout 120 $bin/remote_lat "$u" $S $N 2>/dev/null | awk '/average latency/{print $3}'
	fi
	wait $lp
}
names=${ZL_LAYERS:-"sock fi-tcp fabtx-tcp zmq-tcp zmq-ofi fabtx-ofishm zmq-ofishm"}
for ((r = 1; r <= R; r++)); do
	line="round $r"
	for n in $names; do
		port=$((port + 1))
		case $n in
		sock) v=$(timeout 120 $B/fi_rma_pp -p sock -S $S -I $N -w | tail -1 | cut -d' ' -f3) ;;
		fi-tcp) v=$(timeout 120 $B/fi_rma_pp -p tcp -e msg -S $S -I $N -w | tail -1 | cut -d' ' -f3) ;;
		fabtx-tcp) v=$(pair "" $B "ofi://127.0.0.1:$port?provider=tcp&ep=msg") ;;
		zmq-tcp) v=$(pair $P/lib $P/bin "tcp://127.0.0.1:$port") ;;
		zmq-ofi) v=$(pair $P/lib $P/bin "ofi://127.0.0.1:$port?provider=tcp") ;;
		fabtx-ofishm) v=$(pair "" $B "ofi://127.0.0.1:$port?provider=shm&ep=rdm") ;;
		zmq-ofishm) v=$(pair $P/lib $P/bin "ofi://127.0.0.1:$port?provider=shm&ep=rdm") ;;
		esac
		echo "$n ${v:-nan}" >>$tmp/all
		line="$line  $n ${v:-nan}"
	done
	echo "$line"
done
echo "medians of $R rounds, $S B one-way latency (us), event-driven:"
for n in $names; do
	awk -v n=$n '$1==n{print $2}' $tmp/all | sort -n | awk -v n=$n '{a[NR]=$1} END{m=(NR%2)?a[(NR+1)/2]:(a[NR/2]+a[NR/2+1])/2; printf "  %-10s %8.2f  (min %.2f max %.2f)\n", n, m, a[1], a[NR]}'
done
