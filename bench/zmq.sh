#!/bin/sh
# bench/zmq.sh [PREFIX] -- ZeroMQ latency and throughput over the fabtx
# transports next to libzmq's own tcp:// and ipc://, in one run, with
# libzmq's perf tools (local_lat/remote_lat, local_thr/remote_thr) from the
# libzmq that `make zmq` built (default PREFIX build/zmq/prefix).
#
#   latency    8 B and 4 KiB: remote_lat's "average latency" (half a round
#              trip, us); lower is better
#   throughput 64 B and 1 MiB: local_thr's "mean throughput" (Mb/s = 1e6
#              bit/s, messages counted first to last); higher is better
#
# ROUNDS rounds (default 5), transports interleaved within a round; the
# table shows medians and the ratio to tcp:// (x > 1 means better).  One
# I/O thread per process.  Rows without a suffix sleep (FABTX_SPIN_US
# unset, the default); "-spin" rows are the same transport with the opt-in
# busy-poll (FABTX_SPIN_US=$ZB_SPIN_US on both sides, default 1000): the
# fabtx engines' I/O threads poll the ring instead of sleeping while
# traffic is recent.  tcp:// and ipc:// never spin.  "-nozc" rows (not
# in the default list) turn the engines' zero-copy sends of large bodies
# off (FABTX_ZMQ_ZC=0): the A/B of fabtx_send_zc in one run; "-tcpwake"
# rows (ofi-shm) send WAKEs on the TCP bootstrap socket instead of the
# wake socket (FABTX_OFI_WAKE_SOCK=0).
# Env: ROUNDS, ZB_TRANSPORTS (default "tcp ipc shm shm-spin ofi-tcp
# ofi-tcp-spin ofi-shm" plus scif/rio when their emulators are built;
# ofi-shm is libfabric's shm provider, FI_EP_RDM), ZB_SPIN_US,
# SCALE (iteration multiplier, default 1), ZB_METRICS (a subset of
# "lat:8 lat:4096 thr:64 thr:1048576"; the others print NA).
prefix=${1:-build/zmq/prefix}
bin=$prefix/bin
top=$(cd "$(dirname "$0")/.." && pwd)
ROUNDS=${ROUNDS:-5}
SCALE=${SCALE:-1}
[ -x "$bin/local_lat" ] || { echo "bench/zmq.sh: no $bin/local_lat (make zmq)"; exit 1; }
cfg=$(dirname "$prefix")/src/src/fabtx_zmq_config.h
have() { grep -q "FABTX_ZMQ_HAVE_$1 1" "$cfg" 2>/dev/null; }
if [ -z "$ZB_TRANSPORTS" ]; then
	ZB_TRANSPORTS="tcp ipc shm shm-spin"
	have OFI && ZB_TRANSPORTS="$ZB_TRANSPORTS ofi-tcp ofi-tcp-spin ofi-shm"
	have SCIF && [ -f "$top/build/libscifemu.so" ] && ZB_TRANSPORTS="$ZB_TRANSPORTS scif"
	have RIO && [ -f "$top/build/librioemu.so" ] && ZB_TRANSPORTS="$ZB_TRANSPORTS rio"
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"; rm -f /dev/shm/fabtx-scifemu-zb$$* /dev/shm/fabtx-rioemu-zb$$*' EXIT
n() { awk -v n="$1" -v s="$SCALE" 'BEGIN{n=int(n*s); if (n < 10) n = 10; print n}'; }
port=$((40000 + $$ % 10000))
ZB_SPIN_US=${ZB_SPIN_US:-1000}

# endpoints for transport T: bind URL, connect URL, env of each side
setup() {
	port=$((port + 1))
	lenv=""; renv=""
	case $1 in
	*-spin)
		setup "${1%-spin}"
		lenv="$lenv FABTX_SPIN_US=$ZB_SPIN_US"
		renv="$renv FABTX_SPIN_US=$ZB_SPIN_US"
		return ;;
	*-nozc)
		setup "${1%-nozc}"
		lenv="$lenv FABTX_ZMQ_ZC=0"
		renv="$renv FABTX_ZMQ_ZC=0"
		return ;;
	*-tcpwake)
		setup "${1%-tcpwake}"
		lenv="$lenv FABTX_OFI_WAKE_SOCK=0"
		renv="$renv FABTX_OFI_WAKE_SOCK=0"
		return ;;
	tcp) b="tcp://127.0.0.1:$port"; c=$b ;;
	ipc) b="ipc://$tmp/ipc$port"; c=$b ;;
	shm) b="shm://zb$$-$port"; c=$b ;;
	ofi-tcp) b="ofi://127.0.0.1:$port?provider=tcp"; c=$b ;;
	ofi-shm) b="ofi://127.0.0.1:$port?provider=shm&ep=rdm"; c=$b ;;
	scif)
		b="scif://$((port % 20000 + 2000))"; c="scif://0:$((port % 20000 + 2000))"
		e="FABTX_SCIFEMU_FABRIC=zb$$ LD_PRELOAD=$top/build/libscifemu.so"
		lenv="$e FABTX_SCIFEMU_NODE=0"; renv="$e FABTX_SCIFEMU_NODE=1" ;;
	rio)
		b="rio://*:$((port % 200 + 20))"; c="rio://1:$((port % 200 + 20))"
		e="FABTX_RIOEMU_FABRIC=zb$$ LD_PRELOAD=$top/build/librioemu.so"
		lenv="$e FABTX_RIOEMU_DESTID=1"; renv="$e FABTX_RIOEMU_DESTID=2" ;;
	esac
}

# once KIND T SIZE COUNT -> prints the number or nothing
once() {
	setup "$2"
	env $lenv timeout 60 "$bin/local_$1" "$b" "$3" "$4" > "$tmp/l" 2>&1 &
	lp=$!
	env $renv timeout 60 "$bin/remote_$1" "$c" "$3" "$4" > "$tmp/r" 2>&1
	wait $lp
	if [ "$1" = lat ]; then
		awk '/average latency/{print $3}' "$tmp/r"
	else
		awk '/mean throughput:.*Mb\/s/{print $3}' "$tmp/l"
	fi
}

metrics=""
for m in lat:8:$(n 20000) lat:4096:$(n 10000) thr:64:$(n 1000000) thr:1048576:$(n 2000); do
	case " ${ZB_METRICS:-lat:8 lat:4096 thr:64 thr:1048576} " in
	*" ${m%:*} "*) metrics="$metrics $m" ;;
	esac
done
: > "$tmp/runs"
r=1
while [ $r -le "$ROUNDS" ]; do
	for m in $metrics; do
		k=${m%%:*}; rest=${m#*:}; s=${rest%%:*}; cnt=${rest#*:}
		for t in $ZB_TRANSPORTS; do
			v=$(once "$k" "$t" "$s" "$cnt")
			echo "$r $k $s $t ${v:-NA}" >> "$tmp/runs"
		done
	done
	echo "bench/zmq.sh: round $r/$ROUNDS done" >&2
	r=$((r + 1))
done

# medians and the table; then the same rounds as per-round ratios to
# tcp:// (each run against the tcp:// run of its own round: steadier than a
# ratio of medians when the machine drifts), median (min-max); ZB_RAW=FILE
# keeps every run ("ROUND KIND SIZE TRANSPORT VALUE")
[ -n "${ZB_RAW:-}" ] && cp "$tmp/runs" "$ZB_RAW"
awk -v trs="$ZB_TRANSPORTS" -v rounds="$ROUNDS" '
# the numbers in string s, sorted into a[1..n]; returns n
function sorted(s, a,   n, i, j, t) {
	n = split(s, a, " ")
	for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++)
		if (a[j] + 0 < a[i] + 0) { t = a[i]; a[i] = a[j]; a[j] = t }
	return n
}
function mid(a, n) { return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2 }
function median(key,   n, a) {
	n = sorted(vals[key], a)
	return n ? mid(a, n) : "NA"
}
function spread(s,   n, a) {
	n = sorted(s, a)
	return n ? sprintf("%.2f (%.2f-%.2f)", mid(a, n), a[1], a[n]) : "-"
}
{ key = $2 " " $3 " " $4
  if ($5 != "NA") { vals[key] = vals[key] " " $5; run[$1 " " key] = $5 }
  else fails[key]++ }
END {
	nt = split(trs, tr, " ")
	split("lat 8|lat 4096|thr 64|thr 1048576", ms, "|")
	split("latency 8 B (us)|latency 4 KiB (us)|throughput 64 B (Mb/s)|throughput 1 MiB (Mb/s)", names, "|")
	printf "| transport |"
	for (i = 1; i <= 4; i++) printf " %s | vs tcp |", names[i]
	printf "\n|---|"
	for (i = 1; i <= 4; i++) printf "---:|---:|"
	printf "\n"
	for (t = 1; t <= nt; t++) {
		printf "| %s |", tr[t]
		for (i = 1; i <= 4; i++) {
			v = median(ms[i] " " tr[t]); base = median(ms[i] " tcp")
			f = fails[ms[i] " " tr[t]] ? sprintf(" (%d failed)", fails[ms[i] " " tr[t]]) : ""
			if (v == "NA" || base == "NA" || v + 0 == 0) { printf " %s%s | - |", v, f; continue }
			ratio = substr(ms[i], 1, 3) == "lat" ? base / v : v / base
			printf " %.1f%s | %.2fx |", v, f, ratio
		}
		printf "\n"
	}
	printf "\nmedians of %d rounds; vs tcp: >1 is better (latency: tcp/x, throughput: x/tcp)\n", rounds
	printf "\nper-round ratios vs tcp, median (min-max):\n| transport | lat 8 B | lat 4 KiB | thr 64 B | thr 1 MiB |\n|---|---|---|---|---|\n"
	for (t = 1; t <= nt; t++) {
		if (tr[t] == "tcp") continue
		printf "| %s |", tr[t]
		for (i = 1; i <= 4; i++) {
			s = ""
			for (r = 1; r <= rounds; r++) {
				b = run[r " " ms[i] " tcp"]; x = run[r " " ms[i] " " tr[t]]
				if (b + 0 == 0 || x + 0 == 0) continue
				s = s " " (substr(ms[i], 1, 3) == "lat" ? b / x : x / b)
			}
			printf " %s |", spread(s)
		}
		printf "\n"
	}
}' "$tmp/runs"
