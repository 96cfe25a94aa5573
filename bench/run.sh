#!/bin/bash
# bench/run.sh [--quick] -- `make bench` / `make bench-quick` (docs/bench.md).
#
# fabtx's perf tools on every backend this machine has, interleaved round by
# round with the anchors users would pick instead and with the physical
# floors, all in one run:
#   fabtx     shm://, busy-poll (FABTX_SPIN_US) and event-driven (sleeping
#             on the fd); ofi:// over libfabric's shm, tcp, tcp;ofi_rxm and
#             net providers; rio:// and scif:// on their LD_PRELOAD emulators
#             (labelled emulated); fan-in (bench/fanin.c, 1..16 clients);
#             scans of ring length (FABTX_CELL_COUNT) and cell size
#             (FABTX_CELL_SIZE)
#   anchors   ucx_perftest (UCX_TLS posix / posix+cma: tag_lat tag_bw
#             ucp_put_lat ucp_put_bw), fi_pingpong on the same providers,
#             libzmq's perf tools (make zmq: tcp:// ipc:// and fabtx's
#             shm:// ofi:// when built in), nng's and nanomsg's perf tools
#             when present (build/nng, build/nanomsg, or BENCH_NNG_BIN /
#             BENCH_NANOMSG_BIN)
#   floors    bench/phys.c: cache-line hop, eventfd wakeup, memcpy at the
#             sizes measured
# Every round runs every configuration once (pairs alternate their order
# from round to round); bench/report.py then takes fabtx/anchor ratios
# within each round and writes medians (min-max) of the rounds as Markdown
# and CSV, the targets table and the gnuplot PNGs into BENCH_OUT.
#
# Env: BENCH_ROUNDS (5; quick 2), BENCH_SIZES (8 B..16 MiB; quick 8 64 4096
# 1048576), BENCH_OFI_SIZES, BENCH_SIDE_SIZES (zmq/nng/emulated backends),
# BENCH_FANIN, BENCH_SCAN_CELLS, BENCH_SCAN_CELLSIZE, BENCH_SCAN_MSG,
# BENCH_TIME_MS (target time of one measurement; 40, quick 12),
# BENCH_OFI_PROVIDERS ("shm tcp tcp;ofi_rxm net"), BENCH_OUT (build/bench,
# quick build/bench-quick), BENCH_ZMQ_BIN, BENCH_NNG_BIN, BENCH_NANOMSG_BIN,
# BENCH_CMA_MIN (smallest size for UCX posix+cma; 65536), BENCH_ONLY (a
# regex: only the measurements it matches), BENCH_LIST=1 (print one round's
# measurements and stop), B (build dir of the perf tools, default build).
set -uo pipefail
self=$(cd "$(dirname "$0")" && pwd)/$(basename "$0")
cd "$(dirname "$0")/.." || exit 1
TOP=$PWD
QUICK=0
[ "${1:-}" = --quick ] && QUICK=1

# everything networked in a private network namespace: only lo, ports of
# our own (none of another program's connections can hold them)
if [ -z "${BENCH_IN_NS:-}" ] && unshare --net true 2>/dev/null; then
	exec unshare --net env BENCH_IN_NS=1 bash -c 'ip link set lo up; exec bash "$0" "$@"' "$self" "$@"
fi
NETNS=yes
if [ -z "${BENCH_IN_NS:-}" ]; then
	NETNS="no (unshare --net refused: host loopback)"
	export FI_TCP_IFACE=lo FI_NET_IFACE=lo FI_SOCKETS_IFACE=lo UCX_NET_DEVICES=lo
fi

B=${B:-build}
BABS=$(cd "$B" 2>/dev/null && pwd)
if [ $QUICK = 1 ]; then
	OUT=${BENCH_OUT:-$B/bench-quick}
	ROUNDS=${BENCH_ROUNDS:-2}
	SIZES=${BENCH_SIZES:-"8 64 4096 1048576"}
	DEF_OFI="8 1048576"; DEF_SIDE="8 1048576"
	FANIN=${BENCH_FANIN:-"1 4 16"}
	SCAN_CELLS=${BENCH_SCAN_CELLS:-"16 256 2048"}
	SCAN_CSIZE=${BENCH_SCAN_CELLSIZE:-"1024 8192 65536"}
	SCAN_MSG=${BENCH_SCAN_MSG:-"65536"}
	TMS=${BENCH_TIME_MS:-12}
	DEF_PROVS="shm tcp"
else
	OUT=${BENCH_OUT:-$B/bench}
	ROUNDS=${BENCH_ROUNDS:-5}
	SIZES=${BENCH_SIZES:-"8 64 256 1024 4096 16384 65536 262144 1048576 4194304 16777216"}
	DEF_OFI="8 4096 65536 1048576 16777216"; DEF_SIDE="8 4096 65536 1048576"
	FANIN=${BENCH_FANIN:-"1 2 4 8 16"}
	SCAN_CELLS=${BENCH_SCAN_CELLS:-"8 32 128 256 1024 2048"}
	SCAN_CSIZE=${BENCH_SCAN_CELLSIZE:-"512 2048 8192 16384 32768 65536"}
	SCAN_MSG=${BENCH_SCAN_MSG:-"4096 1048576"}
	TMS=${BENCH_TIME_MS:-40}
	DEF_PROVS="shm tcp tcp;ofi_rxm net"
fi
# an explicit BENCH_SIZES applies everywhere unless overridden per group
[ -n "${BENCH_SIZES:-}" ] && DEF_OFI=$SIZES && DEF_SIDE=$SIZES
OFI_SIZES=${BENCH_OFI_SIZES:-$DEF_OFI}
SIDE_SIZES=${BENCH_SIDE_SIZES:-$DEF_SIDE}
PROVIDERS=${BENCH_OFI_PROVIDERS:-$DEF_PROVS}
TO=${BENCH_TIMEOUT:-60}
SPIN=10000000
FANIN_SIZE=65536
# posix+cma differs from posix only where UCX switches to its rendezvous
# protocol (CMA moves the data): from 64 KiB on it is measured too
CMA_MIN=${BENCH_CMA_MIN:-65536}
GRACE=$([ $QUICK = 1 ] && echo 15 || echo 30) # tenths of a second

case $ROUNDS in '' | *[!0-9]* | 0) echo "bench: BENCH_ROUNDS must be a positive number" >&2; exit 2 ;; esac
for s in $SIZES $OFI_SIZES $SIDE_SIZES $SCAN_MSG; do
	case $s in '' | *[!0-9]* | 0) echo "bench: bad size '$s' (bytes, 1..16777216)" >&2; exit 2 ;; esac
	[ "$s" -le 16777216 ] || { echo "bench: size $s above 16 MiB" >&2; exit 2; }
done

for t in local_lat remote_lat local_thr remote_thr bench_phys bench_fanin; do
	[ -x "$B/$t" ] || { echo "bench: $B/$t is not built (make bench builds it)" >&2; exit 1; }
done
LOGD=$OUT/logs
RAW=$OUT/raw.csv

say() { printf '[bench %s] %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }

# ------------------------------------------------------------ what is here
have_ucx=0; command -v ucx_perftest >/dev/null && have_ucx=1
have_fi=0; command -v fi_pingpong >/dev/null && command -v fi_info >/dev/null && have_fi=1
OFI_PROVS=""   # name:ep pairs libfabric has here (and fabtx's build carries ofi://)
if [ $have_fi = 1 ] && grep -q FABTX_WITH_OFI "$TOP/mk/ofi.mk" 2>/dev/null; then
	for p in $PROVIDERS; do
		case $p in tcp) ep=msg ;; *) ep=rdm ;; esac
		if fi_info -p "$p" >/dev/null 2>&1; then OFI_PROVS="$OFI_PROVS $p:$ep"
		else say "libfabric has no provider '$p' here: its rows are left out"; fi
	done
fi
EMUS=""
[ -f "$B/librioemu.so" ] && EMUS="$EMUS rio"
[ -f "$B/libscifemu.so" ] && EMUS="$EMUS scif"
# zmq-style perf tools: a directory with local_lat remote_lat local_thr
# remote_thr, or one binary with -m MODE (nng's perf.c)
tooldir() { # lib candidates... -> the first with the tools
	local lib=$1 d; shift
	for d in "$@"; do
		[ -n "$d" ] || continue
		if [ -x "$d/local_lat" ] && [ -x "$d/remote_thr" ]; then echo "$d"; return; fi
		for x in nng_perf perf "${lib}_perf"; do
			[ -x "$d/$x" ] && [ -f "$d/$x" ] && { echo "$d/$x"; return; }
		done
	done
}
ZMQ_T=$(tooldir zmq "${BENCH_ZMQ_BIN:-}" "$B/zmq/prefix/bin")
NNG_T=$(tooldir nng "${BENCH_NNG_BIN:-}" "$B/nng/prefix/bin" "$B/nng/bin" "$B/nng/perf" "$B/nng" "$B/nng_perf")
NN_T=$(tooldir nanomsg "${BENCH_NANOMSG_BIN:-}" "$B/nanomsg/prefix/bin" "$B/nanomsg/bin" "$B/nanomsg/perf" "$B/nanomsg")
# which fabtx transports an integration carries (examples/zmq/build.sh
# writes fabtx_zmq_config.h; the others: whatever their build dir says)
zmq_trs="tcp ipc"
zcfg=$(ls "$B"/zmq/src/src/fabtx_zmq_config.h 2>/dev/null | head -1)
if [ -n "$ZMQ_T" ] && [ -n "$zcfg" ]; then
	zmq_trs="$zmq_trs shm shm-spin" # shm:// is fabtx's core: always in
	grep -q "FABTX_ZMQ_HAVE_OFI 1" "$zcfg" && zmq_trs="$zmq_trs ofi"
fi
side_trs() { # lib -> transports to try (what fails in 2 rounds is dropped)
	case $1 in
	zmq) if [ $QUICK = 1 ]; then echo "${zmq_trs/ shm-spin/}"; else echo "$zmq_trs"; fi ;;
	*) echo "tcp ipc shm ofi" ;;
	esac
}
[ -z "$ZMQ_T" ] && say "no libzmq perf tools ($B/zmq/prefix/bin: make zmq): zmq rows left out"
[ -z "$NNG_T" ] && say "no nng perf tools (build/nng or BENCH_NNG_BIN): nng rows left out"
[ -z "$NN_T" ] && say "no nanomsg perf tools (build/nanomsg or BENCH_NANOMSG_BIN): nanomsg rows left out"
[ $have_ucx = 0 ] && say "no ucx_perftest (apt-get install ucx-utils): UCX rows left out"
[ $have_fi = 0 ] && say "no fi_pingpong (apt-get install libfabric-bin): fi_pingpong rows left out"

# ------------------------------------------------------------ one round
in_list() { case " $2 " in *" $1 "*) return 0 ;; esac; return 1; }
round_jobs() {
	local s p pe tr lib k first_ofi
	J+=("hop" "wakeup" "memcpy")
	for s in $SIZES; do
		# shm:// and its anchors, pair by pair
		J+=("fab shm busy lat $s" "ucx posix ucp_put_lat $s" "ucx posix tag_lat $s")
		[ "$s" -ge $CMA_MIN ] && J+=("ucx cma tag_lat $s" "ucx cma ucp_put_lat $s")
		J+=("fab shm event lat $s")
		J+=("fab shm busy thr $s" "ucx posix tag_bw $s" "ucx posix ucp_put_bw $s")
		[ "$s" -ge $CMA_MIN ] && J+=("ucx cma tag_bw $s" "ucx cma ucp_put_bw $s")
		J+=("fab shm event thr $s")
		in_list "$s" "$OFI_SIZES" && [ $have_fi = 1 ] && [ -n "$OFI_PROVS" ] && J+=("fipp shm $s")
	done
	first_ofi=${OFI_SIZES%% *}
	for pe in $OFI_PROVS; do
		p=${pe%%:*}
		for s in $OFI_SIZES; do
			J+=("fab ofi-$p busy lat $s" "fipp $p $s" "fab ofi-$p busy thr $s")
			[ "$s" = "$first_ofi" ] && J+=("fab ofi-$p event lat $s")
		done
	done
	for be in $EMUS; do
		# event-driven: the emulators' own threads need a CPU, and two
		# busy-polling processes beside them measure the scheduler
		for s in $SIDE_SIZES; do J+=("fab $be event lat $s" "fab $be event thr $s"); done
	done
	for lib in zmq nng nanomsg; do
		case $lib in zmq) [ -n "$ZMQ_T" ] || continue ;; nng) [ -n "$NNG_T" ] || continue ;; nanomsg) [ -n "$NN_T" ] || continue ;; esac
		for s in $SIDE_SIZES; do
			for tr in $(side_trs $lib); do J+=("msg $lib $tr lat $s" "msg $lib $tr thr $s"); done
		done
	done
	for k in $FANIN; do J+=("fanin $k $FANIN_SIZE"); done
	for s in $SCAN_MSG; do
		for k in $SCAN_CELLS; do J+=("scan cells $k $s"); done
		for k in $SCAN_CSIZE; do J+=("scan cellsize $k $s"); done
	done
	# BENCH_ONLY=REGEX: only the measurements it matches (BENCH_LIST=1 shows them)
	if [ -n "${BENCH_ONLY:-}" ]; then
		local keep=() j
		for j in "${J[@]}"; do [[ $j =~ $BENCH_ONLY ]] && keep+=("$j"); done
		J=("${keep[@]}")
	fi
}

J=(); round_jobs
if [ -n "${BENCH_LIST:-}" ]; then # the measurements of one round, and stop
	printf '%s\n' "${J[@]}"
	exit 0
fi
mkdir -p "$OUT" || exit 1
rm -f "$OUT"/*.png "$OUT"/*.md "$OUT"/*.csv "$OUT"/*.dat "$OUT"/*.gp
rm -rf "$LOGD" && mkdir -p "$LOGD"
TMPD=$(mktemp -d /tmp/fabtx-bench.XXXXXX)
trap 'rm -rf "$TMPD"; rm -f /dev/shm/fabtx-rioemu-bx$$* /dev/shm/fabtx-scifemu-bx$$* 2>/dev/null' EXIT
# interrupted: stop the pair in flight (our own children, by PID) too
trap 'kill $(jobs -p) 2>/dev/null; exit 130' INT TERM
echo "round,row,metric,x,value" >"$RAW"
T0=$(date +%s)

# ----------------------------------------------------- machine description
{
	echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
	echo "host cpus: $(nproc) ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'))"
	echo "hypervisor: $(lscpu 2>/dev/null | awk -F: '/Hypervisor vendor/{gsub(/^ +/, "", $2); print $2}')"
	echo "caches: $(lscpu 2>/dev/null | awk -F: '/L1d|L2|L3/{gsub(/^ +/, "", $2); printf "%s %s; ", $1, $2}')"
	echo "numa nodes: $(lscpu 2>/dev/null | awk -F: '/NUMA node\(s\)/{gsub(/^ +/, "", $2); print $2}')"
	echo "kernel: $(uname -r)"
	echo "memory: $(awk '/MemTotal/{printf "%.1f GiB", $2 / 1048576}' /proc/meminfo)"
	echo "compiler: $(${CC:-cc} --version 2>/dev/null | head -1)"
	echo "fabtx: $(git -C "$TOP" describe --always --dirty 2>/dev/null)"
	echo "libfabric: $(fi_info --version 2>/dev/null | awk '/^libfabric:/{print $2}')"
	echo "ucx: $(ucx_info -v 2>/dev/null | awk '/Version/{print $3; exit}')"
	echo "libzmq perf tools: ${ZMQ_T:-none}"
	echo "nng perf tools: ${NNG_T:-none}"
	echo "nanomsg perf tools: ${NN_T:-none}"
	echo "ofi providers: ${OFI_PROVS:- none}"
	echo "emulated backends: ${EMUS:- none}"
	echo "network namespace: $NETNS"
	echo "mode: $([ $QUICK = 1 ] && echo quick || echo full), $ROUNDS rounds, ~$TMS ms per measurement"
	echo "sizes: $SIZES"
	echo "ofi sizes: $OFI_SIZES"
	echo "zmq/nng/emulated sizes: $SIDE_SIZES"
	echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
} >"$OUT/machine.txt"

# ------------------------------------------------------------ iterations
# n = the target time over the expected time of one iteration (us), kept
# within [lo, hi]: latency counts round trips, throughput messages (quick:
# fewer at most, so that a loaded machine, where every busy-polling round
# trip may wait for a time slice, still ends in time)
iters() { # kind class size [target ms]
	awk -v k="$1" -v c="$2" -v s="$3" -v t="${4:-$TMS}" -v q=$QUICK 'BEGIN {
		if (k == "lat") {
			if (c == "shm") e = 0.6 + s / 4000; else if (c == "event") e = 8 + s / 3000
			else if (c == "net") e = 6 + s / 1500; else if (c == "emu") e = 4 + s / 2000
			else e = 25 + s / 1000
			e *= 2; lo = 10; hi = q ? 2000 : 200000
		} else {
			if (c == "shm") e = 0.15 + s / 5000; else if (c == "event") e = 2 + s / 3000
			else if (c == "net") e = 1 + s / 2000; else if (c == "emu") e = 1 + s / 2000
			else e = 0.5 + s / 1500
			lo = 20; hi = q ? 100000 : 2000000
		}
		n = int(t * 1000 / e); if (n < lo) n = lo; if (n > hi) n = hi; print n }'
}

# ------------------------------------------------------------ primitives
PORT=20000
next_port() { PORT=$((PORT + 1)); [ $PORT -gt 32000 ] && PORT=20001; }
RUN=0
# wait_port PORT PID / wait_unix NAME PID / wait_path PATH PID: until the
# server PID listens there (~10 s at most); 1 at once if PID has ended
wait_for() { # pid test-command...
	local i pid=$1; shift
	for i in $(seq 1000); do
		"$@" && return 0
		kill -0 "$pid" 2>/dev/null || return 1
		sleep 0.005
	done
	return 1
}
has_port() { ss -Hltn "sport = :$1" 2>/dev/null | grep -q .; }
has_unix() { ss -Hxl 2>/dev/null | grep -q -- "$1 "; }
wait_port() { wait_for "$2" has_port "$1"; }
wait_unix() { wait_for "$2" has_unix "$1"; }
wait_path() { wait_for "$2" test -e "$1"; }
stop() { kill "$1" 2>/dev/null; wait "$1" 2>/dev/null; }

# pair KIND(lat|thr) SIZE SRV... -- CLI...: runs SRV (env SENV, the bind
# side) and CLI (env CENV, the connect side) and sets VAL from the side
# that reports: lat the client's "average latency" (us), thr the server's
# msg/s as MB/s (x size / 1e6).  Once either side has ended, the other
# gets a grace period: the reporting side 3 s (quick 1.5 s; zmq's ipc PUSH/PULL sometimes loses
# messages and its receiver never ends), the other 0.2 s (zmq's local_lat
# sleeps a second before it exits; nng's remote_thr may hang in close)
SENV=""; CENV=""; WAIT=""
grace() { # pid tenths-of-a-second: 0 if it ended by then (reaped), else stopped
	local i
	for ((i = 0; i < $2 * 2; i++)); do kill -0 "$1" 2>/dev/null || break; sleep 0.05; done
	if kill -0 "$1" 2>/dev/null; then stop "$1"; return 1; fi
	wait "$1"
}
pair() { # kind size srv-cmd... -- cli-cmd...
	local kind=$1 size=$2 s=() c=() sp cp rp op done rc=1
	shift 2
	while [ $# -gt 0 ] && [ "$1" != -- ]; do s+=("$1"); shift; done
	shift
	c=("$@")
	RUN=$((RUN + 1))
	env $SENV timeout "$TO" "${s[@]}" >"$TMPD/srv" 2>&1 &
	sp=$!
	case $WAIT in
	port:*) wait_port "${WAIT#port:}" $sp || { stop $sp; VAL=""; return 1; } ;;
	path:*) wait_path "${WAIT#path:}" $sp || { stop $sp; VAL=""; return 1; } ;;
	unix:*) wait_unix "${WAIT#unix:}" $sp || { stop $sp; VAL=""; return 1; } ;;
	esac
	env $CENV timeout "$TO" "${c[@]}" >"$TMPD/cli" 2>&1 &
	cp=$!
	if [ "$kind" = lat ]; then rp=$cp; op=$sp; else rp=$sp; op=$cp; fi
	wait -n -p done $sp $cp
	rc=$?
	if [ "$done" = "$rp" ]; then
		grace $op 2
	else
		grace $rp $GRACE
		rc=$?
		grace $op 5 # (reaped already: returns at once)
	fi
	if [ "$kind" = lat ]; then
		VAL=$(awk '/average latency/{for (i = 1; i <= NF; i++) if ($i + 0 > 0) {print $i; exit}}' "$TMPD/cli")
	else
		VAL=$(awk -v s="$size" '/msg\/s/{for (i = 2; i <= NF; i++) if ($i == "[msg/s]") {printf "%.3f", $(i - 1) * s / 1e6; exit}}' "$TMPD/srv")
	fi
	if [ $rc -ne 0 ] || [ -z "$VAL" ]; then
		{ echo "== run $RUN: ${s[*]} / ${c[*]} (exit $rc)"; cat "$TMPD/srv" "$TMPD/cli"; } >>"$LOGD/failures.log"
		VAL=""
		return 1
	fi
	return 0
}

# fabtx perf tools over BE (shm ofi-<prov> rio scif), MODE busy|event
fab() { # be mode kind size [extra env...]
	local be=$1 mode=$2 kind=$3 size=$4 url curl n cls e spin="" fab
	shift 4
	cls=shm
	[ "$mode" = event ] && cls=event
	SENV="$*"; CENV="$*"; WAIT=""
	case $be in
	shm) url="shm://bx$$-$RUN"; curl=$url ;;
	ofi-*)
		next_port
		local p=${be#ofi-} ep=rdm
		[ "$p" = tcp ] && ep=msg
		url="ofi://127.0.0.1:$PORT?provider=$p&ep=$ep"; curl=$url
		[ "$p" = shm ] || cls=net ;;
	rio)
		fab="bx$$-$RUN"; url="rio://*:21"; curl="rio://1:21"; cls=emu
		e="FABTX_RIOEMU_FABRIC=$fab LD_PRELOAD=$BABS/librioemu.so FABTX_RIOEMU_CONNECT_TIMEOUT_MS=200"
		# RapidIO nodes exist before applications run (enumeration): node
		# 1 is known to the fabric, so an early connect is "nobody
		# listens" (retried by the perf tools), not "no such node"
		env $e FABTX_RIOEMU_DESTID=1 sh -c ': < /dev/rio_cm' 2>/dev/null
		SENV="$SENV $e FABTX_RIOEMU_DESTID=1"; CENV="$CENV $e FABTX_RIOEMU_DESTID=2" ;;
	scif)
		fab="bx$$-$RUN"; url="scif://2001"; curl="scif://0:2001"; cls=emu
		e="FABTX_SCIFEMU_FABRIC=$fab LD_PRELOAD=$BABS/libscifemu.so"
		SENV="$SENV $e FABTX_SCIFEMU_NODE=0"; CENV="$CENV $e FABTX_SCIFEMU_NODE=1" ;;
	esac
	[ "$mode" = busy ] && spin="FABTX_SPIN_US=$SPIN"
	SENV="$SENV $spin"; CENV="$CENV $spin"
	[ "$mode" = event ] && [ "$cls" != event ] && cls=event
	n=$(iters "$kind" "$cls" "$size")
	if [ "$kind" = lat ]; then
		pair lat "$size" "$B/local_lat" "$url" "$size" "$n" -- "$B/remote_lat" "$curl" "$size" "$n"
	else
		pair thr "$size" "$B/local_thr" "$url" "$size" "$n" -- "$B/remote_thr" "$curl" "$size" "$n"
	fi
	rm -f /dev/shm/fabtx-rioemu-bx$$-$RUN* /dev/shm/fabtx-scifemu-bx$$-$RUN* 2>/dev/null
}

ucx() { # tls(posix|cma) test size -> VAL: lat us (one-way) or MB/s
	local tls=posix,self t=$2 s=$3 n w line kind=thr cls=shm
	[ "$1" = cma ] && tls=posix,cma,self
	case $t in *_lat) kind=lat ;; esac
	n=$(iters $kind $cls "$s")
	[ $kind = thr ] && n=$((n * 2))
	w=$((n / 10)); [ $w -lt 5 ] && w=5
	next_port
	RUN=$((RUN + 1))
	UCX_TLS=$tls timeout "$TO" ucx_perftest -p $PORT >"$TMPD/srv" 2>&1 &
	local sp=$!
	wait_port $PORT $sp || { stop $sp; VAL=""; return 1; }
	line=$(UCX_TLS=$tls timeout "$TO" ucx_perftest 127.0.0.1 -p $PORT -t "$t" -s "$s" -n "$n" -w "$w" -f -v 2>"$TMPD/cli" | tail -1 | tr -d ' ')
	wait $sp
	VAL=$(awk -F, -v k=$kind '/^[0-9]+,/{ if (k == "lat") print $4; else printf "%.3f", $6 * 1.048576 }' <<<"$line")
	[ -n "$VAL" ] || { { echo "== ucx $*"; cat "$TMPD/srv" "$TMPD/cli"; echo "$line"; } >>"$LOGD/failures.log"; return 1; }
}

fipp() { # prov size -> VAL: one-way us (usec/xfer)
	local p=$1 s=$2 ep=rdm n line
	[ "$p" = tcp ] && ep=msg
	n=$(iters lat "$([ "$p" = shm ] && echo shm || echo net)" "$s")
	next_port
	RUN=$((RUN + 1))
	timeout "$TO" fi_pingpong -p "$p" -e $ep -S "$s" -I "$n" -B $PORT >"$TMPD/srv" 2>&1 &
	local sp=$!
	wait_port $PORT $sp || { stop $sp; VAL=""; return 1; }
	line=$(timeout "$TO" fi_pingpong -p "$p" -e $ep -S "$s" -I "$n" -P $PORT 127.0.0.1 2>"$TMPD/cli")
	wait $sp
	VAL=$(awk '$1 != "bytes" && NF >= 8 && $7 ~ /^[0-9.]+$/ {u = $7} END {print u}' <<<"$line")
	[ -n "$VAL" ] || { { echo "== fi_pingpong $*"; cat "$TMPD/srv" "$TMPD/cli"; echo "$line"; } >>"$LOGD/failures.log"; return 1; }
}

# zmq / nng / nanomsg perf tools: lib tr(tcp ipc shm shm-spin ofi) kind size
msgtool() {
	local lib=$1 tr=$2 kind=$3 size=$4 t url n
	case $lib in zmq) t=$ZMQ_T ;; nng) t=$NNG_T ;; nanomsg) t=$NN_T ;; esac
	SENV=""; CENV=""; WAIT=""
	next_port
	case $tr in
	tcp) url="tcp://127.0.0.1:$PORT"; [ $lib = zmq ] || WAIT="port:$PORT" ;;
	ipc) url="ipc://$TMPD/$lib-$PORT.ipc"; [ $lib = zmq ] || WAIT="path:$TMPD/$lib-$PORT.ipc" ;;
	shm | shm-spin)
		url="shm://bx$$-$lib-$PORT"
		# nng and nanomsg dial once: wait for fabtx's listening socket
		[ $lib = zmq ] || WAIT="unix:@fabtx-shm:bx$$-$lib-$PORT"
		[ $tr = shm-spin ] && SENV="FABTX_SPIN_US=1000" && CENV=$SENV ;;
	ofi) url="ofi://127.0.0.1:$PORT?provider=tcp"; [ $lib = zmq ] || WAIT="port:$PORT" ;;
	esac
	# nng's clock ticks in milliseconds: its runs last 300 ms at least
	n=$(iters "$kind" msg "$size" "$([ $lib = nng ] && [ "$TMS" -lt 300 ] && echo 300 || echo "$TMS")")
	if [ -d "$t" ]; then
		pair "$kind" "$size" "$t/local_$kind" "$url" "$size" "$n" -- "$t/remote_$kind" "$url" "$size" "$n"
	else
		pair "$kind" "$size" "$t" -m "local_$kind" "$url" "$size" "$n" -- "$t" -m "remote_$kind" "$url" "$size" "$n"
	fi
}

phys_hop() { VAL=$("$B/bench_phys" hop "$([ $QUICK = 1 ] && echo 50000 || echo 300000)" | awk '{print $2}'); }
phys_wakeup() { VAL=$("$B/bench_phys" wakeup "$([ $QUICK = 1 ] && echo 2000 || echo 15000)" | awk '{print $2}'); }

fanin() { # clients size -> VAL: aggregate MB/s; PERCLIENT: mean per client
	local nc=$1 s=$2 n out
	n=$(( $(iters thr shm "$s") / nc ))
	[ $n -lt 20 ] && n=20
	RUN=$((RUN + 1))
	out=$(FANIN_SPIN=1 timeout "$TO" "$B/bench_fanin" "shm://bx$$-$RUN" "$nc" "$s" "$n" 2>"$TMPD/cli")
	VAL=$(awk '/^aggregate:/{print $2}' <<<"$out")
	PERCLIENT=$(awk '/^per-client mean:/{print $3}' <<<"$out")
	[ -n "$VAL" ] || { { echo "== fanin $*"; echo "$out"; cat "$TMPD/cli"; } >>"$LOGD/failures.log"; return 1; }
}

# ------------------------------------------------------------ recording
# rec ROW METRIC X: the measurement just made (VAL, empty = failed)
rec() {
	echo "$ROUND,$1,$2,$3,${VAL:-}" >>"$RAW"
}

declare -A FAILS
DONE=0
progress() { # label unit
	local now el eta pct
	DONE=$((DONE + 1))
	now=$(date +%s); el=$((now - T0))
	pct=$((100 * DONE / TOTAL))
	eta=$(( DONE > 0 ? el * (TOTAL - DONE) / DONE : 0 ))
	printf '[bench %3d%% %02d:%02d eta %02d:%02d r%d/%d] %-48s %s\n' $pct $((el / 60)) $((el % 60)) \
		$((eta / 60)) $((eta % 60)) "$ROUND" "$ROUNDS" "$1" "${VAL:-FAILED} $2" >&2
}

# one job: a word list; a job that failed in two rounds is left out of the
# later ones (a transport a perf tool does not have fails every time)
job() {
	local key ok=0 t1
	key="$*"
	if [ "${FAILS[$key]:-0}" -ge 2 ]; then return; fi
	t1=$(date +%s%N)
	VAL=""
	case $1 in
	fab)
		local be=$2 mode=$3 kind=$4 s=$5 lbl
		case $be in
		shm) lbl="fabtx shm://" ;;
		ofi-*) lbl="fabtx ofi:// ${be#ofi-}" ;;
		*) lbl="fabtx $be:// (emulated)" ;;
		esac
		fab "$be" "$mode" "$kind" "$s" && ok=1
		rec "$lbl $mode" "$kind" "$s"
		progress "$lbl $mode $kind $s B" "$([ $kind = lat ] && echo us || echo MB/s)" ;;
	ucx)
		local tls=$2 t=$3 s=$4 nm kind=thr
		case $t in *_lat) kind=lat ;; esac
		case $t in tag_*) nm=tag ;; *) nm=put ;; esac
		ucx "$tls" "$t" "$s" && ok=1
		rec "ucx $([ $tls = cma ] && echo posix+cma || echo posix) $nm" $kind "$s"
		progress "ucx_perftest $tls $t $s B" "$([ $kind = lat ] && echo us || echo MB/s)" ;;
	fipp)
		fipp "$2" "$3" && ok=1
		rec "fi_pingpong $2" lat "$3"
		progress "fi_pingpong $2 $3 B" us ;;
	msg)
		# a second attempt: zmq's ipc PUSH/PULL sometimes loses messages
		# and its receiver never ends (logs/failures.log keeps both)
		msgtool "$2" "$3" "$4" "$5" && ok=1
		[ $ok = 1 ] || { msgtool "$2" "$3" "$4" "$5" && ok=1; }
		rec "$2 $3://" "$4" "$5"
		progress "$2 $3:// $4 $5 B" "$([ $4 = lat ] && echo us || echo MB/s)" ;;
	hop)
		phys_hop; [ -n "$VAL" ] && ok=1
		VAL=$(awk -v v="${VAL:-}" 'BEGIN{ if (v != "") printf "%.4f", v / 1000 }')
		rec "floor cache-line hop" lat 0
		progress "floor: cache-line hop" us ;;
	wakeup)
		phys_wakeup; [ -n "$VAL" ] && ok=1
		rec "floor eventfd wakeup" lat 0
		progress "floor: eventfd wakeup" us ;;
	memcpy)
		"$B/bench_phys" memcpy "$([ $QUICK = 1 ] && echo 5 || echo 15)" $SIZES >"$TMPD/mc" 2>&1 && ok=1
		while read -r _ s v; do VAL=$v; rec "floor memcpy" thr "$s"; done <"$TMPD/mc"
		VAL="$(wc -l <"$TMPD/mc") sizes"
		progress "floor: memcpy" "" ;;
	fanin)
		fanin "$2" "$3" && ok=1
		rec "fanin aggregate" fanin "$2"
		local agg=$VAL; VAL=${PERCLIENT:-}; [ $ok = 1 ] || VAL=""
		rec "fanin per client" fanin "$2"
		VAL=$agg
		progress "fan-in $2 clients x $3 B (aggregate)" MB/s ;;
	scan)
		local what=$2 v=$3 s=$4
		if [ "$what" = cells ]; then fab shm busy thr "$s" FABTX_CELL_COUNT="$v" && ok=1
		else fab shm busy thr "$s" FABTX_CELL_SIZE="$v" && ok=1; fi
		rec "scan_$what $s" scan_$what "$v"
		progress "scan $what=$v, $s B messages" MB/s ;;
	esac
	echo "$(( ($(date +%s%N) - t1) / 1000000 )) $*" >>"$LOGD/jobs.log"
	if [ $ok = 0 ]; then
		FAILS[$key]=$(( ${FAILS[$key]:-0} + 1 ))
		[ "${FAILS[$key]}" -ge 2 ] && say "'$key' failed twice: left out from now on (see $LOGD/failures.log)"
	fi
}

TOTAL=$((${#J[@]} * ROUNDS))
say "$ROUNDS rounds of ${#J[@]} measurements into $OUT (raw: $RAW); progress: % done, elapsed, eta"
for ((ROUND = 1; ROUND <= ROUNDS; ROUND++)); do
	J=(); round_jobs
	# the order within each pair alternates from round to round: odd
	# rounds run the list forward, even rounds backward
	if ((ROUND % 2)); then
		for ((i = 0; i < ${#J[@]}; i++)); do job ${J[$i]}; done
	else
		for ((i = ${#J[@]} - 1; i >= 0; i--)); do job ${J[$i]}; done
	fi
done
el=$(($(date +%s) - T0))
{
	echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
	echo "duration: ${el} s"
} >>"$OUT/machine.txt"
say "measured in ${el} s; writing tables and plots"
python3 "$TOP/bench/report.py" "$OUT" || exit 1
