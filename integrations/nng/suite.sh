#!/bin/sh
# integrations/nng/suite.sh BUILD_DIR NNG_DIR -- `make test-nng`: our test
# program (test_nng) per available fabtx transport, then nng's own tests
# retargeted to the fabtx schemes (integrations/nng/nngtests.sh).  The
# transport list follows the backends the nng build took in.
b=$1
nb=$2
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
cfg=$nb/src/src/sp/transport/fabtx/fabtx_nng_config.h
have() { grep -q "FABTX_NNG_HAVE_$1 1" "$cfg" 2>/dev/null; }
scifemu=${NT_SCIFEMU:-$top/build/libscifemu.so}
rioemu=${NT_RIOEMU:-$top/build/librioemu.so}
san=0
ldd "$b/test_nng" 2>/dev/null | grep -q libasan && san=1
emu=nng$$
scif_env="FABTX_SCIFEMU_FABRIC=$emu LD_PRELOAD=$scifemu FABTX_SCIFEMU_NODE=0"
# busy-poll (FABTX_SPIN_US, opt-in): pipes with recent traffic are not
# armed and a spinner thread polls their rings; every test again in that
# mode, with a small window so the idle paths (window closes, arm, sleep,
# doorbell) run too
spin="FABTX_SPIN_US=300"
# (under SAN=1 not the busy-poll runs: the spinner is in libnng, which is
# not instrumented, so they would repeat the plain ones)
set -- "NT_TRANSPORT=shm $b/test_nng"
[ $san = 0 ] && set -- "$@" "$spin NT_TRANSPORT=shm $b/test_nng"
if have OFI; then
	set -- "$@" "NT_TRANSPORT=ofi-tcp $b/test_nng"
	[ $san = 0 ] && set -- "$@" "$spin NT_TRANSPORT=ofi-tcp $b/test_nng"
fi
# an ASan-instrumented program cannot take an LD_PRELOAD library
if have SCIF && [ -f "$scifemu" ] && [ $san = 0 ]; then
	set -- "$@" "$scif_env NT_TRANSPORT=scif $b/test_nng"
fi
# rio_cm has no loopback: only the tests whose peer is another process
# (another destID of the emulated fabric) apply; the others skip
rio_env="FABTX_RIOEMU_FABRIC=$emu LD_PRELOAD=$rioemu FABTX_RIOEMU_DESTID=1 NT_RIO_SELF=1 NT_RIO_PEER=2 NT_PEER_ENV=FABTX_RIOEMU_DESTID=2"
if have RIO && [ -f "$rioemu" ] && [ $san = 0 ]; then
	set -- "$@" "$rio_env NT_TRANSPORT=rio $b/test_nng"
fi
# nng's own tests are the same uninstrumented programs under SAN=1: run
# once per CI run (the plain pass)
if [ $san = 0 ]; then
	set -- "$@" "sh $here/nngtests.sh run $nb"
else
	echo "nng's own tests: run by the plain make test-nng (not instrumented)"
fi
sh "$top/test/run_suite.sh" "$b/results/nng.txt" "$@"
rc=$?
rm -f /dev/shm/fabtx-scifemu-$emu* /dev/shm/fabtx-rioemu-$emu*
exit $rc
