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
port=$((28000 + $$ % 2000))  # below the ephemeral range (32768..): no connect takes it as its source port
rioemu=${ZT_RIOEMU:-$top/build/librioemu.so}
scifemu=${ZT_SCIFEMU:-$top/build/libscifemu.so}
# busy-poll (FABTX_SPIN_US, opt-in): the engines leave the fd unarmed and
# the I/O thread polls the ring while traffic is recent; every shm:// test
# again in that mode, a small window so the idle paths (window closes, arm,
# sleep, wake by doorbell) run too
spin="FABTX_SPIN_US=300"
# an ASan-instrumented test program (make test SAN=1): libzmq, and the
# transports in it, are not instrumented, so only the runs whose test code
# uses fabtx itself (raw clients) are repeated; tcp:// and the busy-poll
# runs would repeat the plain ones
san=0
ldd "$b/test_zmq" 2>/dev/null | grep -q libasan && san=1
set -- "ZT_TRANSPORT=shm $b/test_zmq"
[ $san = 0 ] && set -- "$@" "ZT_TRANSPORT=tcp $b/test_zmq" \
	"$spin ZT_TRANSPORT=shm $b/test_zmq"
if have OFI; then
	set -- "$@" "ZT_TRANSPORT=ofi-tcp $b/test_zmq"
	[ $san = 0 ] && set -- "$@" \
		"$spin ZT_TRANSPORT=ofi-tcp $b/test_zmq pair req_rep multipart sizes stream eight hwm killed both_ways"
	# libfabric's shm provider, in one process too (fabtx_ofi.h parks a
	# closed end whose peer is in the same process; docs/ofi.md)
	if fi_info -p shm > /dev/null 2>&1; then
		set -- "$@" "ZT_TRANSPORT=ofi-shm $b/test_zmq"
	fi
fi
# rio:// and scif:// on their emulators (LD_PRELOAD; docs/rio.md,
# docs/scif.md), each on a fabric of its own
emu=zmq$$
rio_env="FABTX_RIOEMU_FABRIC=$emu LD_PRELOAD=$rioemu"
scif_env="FABTX_SCIFEMU_FABRIC=$emu LD_PRELOAD=$scifemu"
# an ASan-instrumented test program cannot take an LD_PRELOAD library
# (the ASan runtime must come first): then only the perf tools use them
if have RIO && [ -f "$rioemu" ] && [ $san = 0 ]; then
	# rio_cm has no loopback: only the tests whose peer is another process
	# (another destID) apply
	set -- "$@" "$rio_env FABTX_RIOEMU_DESTID=1 ZT_TRANSPORT=rio $b/test_zmq reconnect bound_socket killed xproc"
fi
if have SCIF && [ -f "$scifemu" ] && [ $san = 0 ]; then
	set -- "$@" "$scif_env ZT_TRANSPORT=scif $b/test_zmq"
fi
# the perf tools are libzmq's (never instrumented): under SAN=1 these runs
# would repeat the plain ones; only the emulators' (instrumented, preloaded)
# run again
if [ $san = 0 ]; then
	set -- "$@" "sh $top/test/perf_smoke.sh $zb/prefix shm://zperf-$$" \
		"sh $top/test/perf_smoke.sh $zb/prefix tcp://127.0.0.1:$port" \
		"PS_LOCAL_ENV=$spin PS_REMOTE_ENV=$spin sh $top/test/perf_smoke.sh $zb/prefix shm://zperfspin-$$"
fi
if have RIO && [ -f "$rioemu" ]; then
	set -- "$@" "PS_LOCAL_ENV='$rio_env FABTX_RIOEMU_DESTID=1' PS_REMOTE_ENV='$rio_env FABTX_RIOEMU_DESTID=2' sh $top/test/perf_smoke.sh $zb/prefix 'rio://*:$((port % 200 + 20))' all rio://1:$((port % 200 + 20))"
fi
if have SCIF && [ -f "$scifemu" ]; then
	set -- "$@" "PS_LOCAL_ENV='$scif_env FABTX_SCIFEMU_NODE=0' PS_REMOTE_ENV='$scif_env FABTX_SCIFEMU_NODE=1' sh $top/test/perf_smoke.sh $zb/prefix scif://$((port % 20000 + 2000)) all scif://0:$((port % 20000 + 2000))"
fi
if have OFI && [ $san = 0 ]; then
	set -- "$@" "sh $top/test/perf_smoke.sh $zb/prefix ofi://127.0.0.1:$((port + 1))?provider=tcp"
fi
# libzmq's own test programs over every transport (examples/zmq/upstream/):
# libzmq and they are not instrumented, so under SAN=1 the run would be the
# same as the plain one and is left out
if [ "${ZMQ_UPSTREAM:-1}" = 1 ] && [ $san = 0 ]; then
	set -- "$@" "ZT_SCIFEMU=$scifemu sh $here/upstream/run.sh $zb $b/zmq-upstream"
fi
sh "$top/test/run_suite.sh" "$b/results/zmq.txt" "$@"
rc=$?
rm -f /dev/shm/fabtx-rioemu-$emu* /dev/shm/fabtx-scifemu-$emu*
exit $rc
