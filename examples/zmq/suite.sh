#!/bin/sh
# examples/zmq/suite.sh BUILD_DIR ZMQ_DIR -- `make test-zmq`: the zmq-level
# test program per available transport, then libzmq's perf tools over the
# fabtx transports and tcp://.  The transport list follows the backends the
# libzmq build took in (ZMQ_DIR/src/src/fabtx_zmq_config.h).
b=$1
zb=$2
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
cfg=$zb/src/src/fabtx_zmq_config.h
have() { grep -q "FABTX_ZMQ_HAVE_$1 1" "$cfg" 2>/dev/null; }
port=$((30000 + $$ % 10000))
set -- "ZT_TRANSPORT=shm $b/test_zmq" "ZT_TRANSPORT=tcp $b/test_zmq"
if have OFI; then
	set -- "$@" "ZT_TRANSPORT=ofi-tcp $b/test_zmq"
	# libfabric's shm provider: only between processes (two endpoints of
	# one process crash inside fi_writemsg; see docs/zmq.md)
	if fi_info -p shm > /dev/null 2>&1; then
		set -- "$@" "ZT_TRANSPORT=ofi-shm $b/test_zmq reconnect bound_socket killed"
	fi
fi
# rio:// and scif:// on their emulators (LD_PRELOAD; docs/rio.md,
# docs/scif.md), each on a fabric of its own
emu=zmq$$
if have RIO && [ -f "$top/build/librioemu.so" ] && [ -n "$ZT_WITH_RIO" ]; then
	set -- "$@" "FABTX_RIOEMU_FABRIC=$emu FABTX_RIOEMU_DESTID=1 LD_PRELOAD=$top/build/librioemu.so ZT_TRANSPORT=rio $b/test_zmq"
fi
if have SCIF && [ -f "$top/build/libscifemu.so" ]; then
	set -- "$@" "FABTX_SCIFEMU_FABRIC=$emu LD_PRELOAD=$top/build/libscifemu.so ZT_TRANSPORT=scif $b/test_zmq"
fi
set -- "$@" "sh $here/perf_smoke.sh $zb/prefix shm://zperf-$$" \
	"sh $here/perf_smoke.sh $zb/prefix tcp://127.0.0.1:$port"
if have OFI; then
	set -- "$@" "sh $here/perf_smoke.sh $zb/prefix ofi://127.0.0.1:$((port + 1))?provider=tcp lat"
fi
sh "$top/test/run_suite.sh" "$b/results/zmq.txt" "$@"
rc=$?
rm -f /dev/shm/fabtx-rioemu-$emu* /dev/shm/fabtx-scifemu-$emu*
exit $rc
