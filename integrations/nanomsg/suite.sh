#!/bin/sh
# integrations/nanomsg/suite.sh BUILD_DIR NANOMSG_DIR -- `make test-nanomsg`:
# our test program per available transport (tcp:// as the reference),
# nanomsg's own tests retargeted to shm:// and ofi:// (nn_tests.sh), and
# nanomsg's perf tools over shm:// and ofi:// as a smoke test.  The
# transport list follows the backends the build took in (ftx_config.h).
b=$1
nb=$2
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
cfg=$nb/src/src/transports/fabtx/ftx_config.h
have() { grep -q "FTX_HAVE_$1 1" "$cfg" 2>/dev/null; }
port=$((24000 + $$ % 2000))  # below the ephemeral range (32768..)
rioemu=${NT_RIOEMU:-$top/build/librioemu.so}
scifemu=${NT_SCIFEMU:-$top/build/libscifemu.so}
set -- "NT_TRANSPORT=shm $b/test_nanomsg" "NT_TRANSPORT=tcp $b/test_nanomsg"
nn_tr="shm"
if have OFI; then
	set -- "$@" "NT_TRANSPORT=ofi-tcp $b/test_nanomsg"
	nn_tr="$nn_tr ofi"
fi
# rio:// and scif:// on their emulators (LD_PRELOAD), each on a fabric of
# its own; not under ASan (its runtime must be the first library)
emu=nn$$
san=0
ldd "$b/test_nanomsg" 2>/dev/null | grep -q libasan && san=1
if have RIO && [ -f "$rioemu" ] && [ $san = 0 ]; then
	# rio_cm has no loopback: the tests whose peer is another process
	set -- "$@" "FABTX_RIOEMU_FABRIC=$emu LD_PRELOAD=$rioemu FABTX_RIOEMU_DESTID=1 NT_TRANSPORT=rio $b/test_nanomsg reconnect_after_bound_peer_restarts killed_peer_noticed"
fi
if have SCIF && [ -f "$scifemu" ] && [ $san = 0 ]; then
	set -- "$@" "FABTX_SCIFEMU_FABRIC=$emu LD_PRELOAD=$scifemu NT_TRANSPORT=scif $b/test_nanomsg"
fi
# nanomsg's own tests and perf tools use the uninstrumented library: the
# same run under SAN=1 would add nothing
if [ $san = 0 ]; then
	set -- "$@" "sh $here/nn_tests.sh $nb $nn_tr" \
		"sh $top/test/perf_smoke.sh $nb/prefix shm://nnperf-$$"
	if have OFI; then
		set -- "$@" "sh $top/test/perf_smoke.sh $nb/prefix ofi://127.0.0.1:$((port + 1))?provider=tcp"
	fi
fi
sh "$top/test/run_suite.sh" "$b/results/nanomsg.txt" "$@"
rc=$?
rm -f /dev/shm/fabtx-rioemu-$emu* /dev/shm/fabtx-scifemu-$emu*
exit $rc
