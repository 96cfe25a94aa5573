#!/bin/sh
# examples/zmq/upstream/run.sh ZMQ_DIR OUT_DIR [TRANSPORT ...]
#
# libzmq 4.3.4's own test programs (tests/ of the zeromq3 tree that
# examples/zmq/build.sh builds, compiled by its `make check`; unchanged
# but for test-fixes.patch, one test's race on a loaded machine)
# over tcp:// (the baseline) and the fabtx transports.  retarget.so
# (LD_PRELOAD) rewrites their tcp:// endpoints; see retarget.c.
# TRANSPORT: shm ofi-tcp scif (default: shm and every one built in; tcp://
# always runs first).
#
# 1. Every program runs over tcp:// (fixed ports moved by an offset per
#    run).  The ones that never used a tcp:// endpoint (inproc://, ipc://,
#    none) do not concern the transports and are not run on them.
# 2. The others run over each transport, unless not-applicable.txt names
#    the program (or some of its Unity test cases) for it, with a reason.
#    A program passes if it exits 0, or if every test case that failed is
#    a not-applicable one.  A failure that tcp:// has too is not counted,
#    nor one on tcp:// of a program that used no tcp:// endpoint.
# Jobs run ZUP_JOBS (2) at a time; each gets its own port offset.  The
# programs in ZUP_LONG (test_heartbeats, test_security_zap: ~35 s each,
# nearly all of it waiting for heartbeat and handshake timeouts) run in
# lanes of their own beside those, each over tcp:// and then over every
# transport, so the run takes about as long as its longest lane.
#
# Prints one line per transport and "N passed, N failed, N skipped" for
# test/run_suite.sh.  Environment: ZUP_TESTS="test_a test_b" limits the
# programs; ZT_SCIFEMU the scif emulator (LD_PRELOAD); ZUP_TIMEOUT per
# program (120 s).
# na TEST TRANSPORT: the reason the whole program does not apply, if any;
# na_cases TEST TRANSPORT: the test cases that do not apply
na() {
	awk -v t="$1" -v tr="$2" '
	  /^#/ || NF < 3 { next }
	  $1 == t { n = split($2, a, ","); for (i = 1; i <= n; i++)
	    if (a[i] == "all" || a[i] == tr) {
	      $1 = ""; $2 = ""; sub(/^ +/, ""); print; exit } }' "$na"
}
na_cases() {
	awk -v t="$1" -v tr="$2" '
	  /^#/ || NF < 3 { next }
	  index($1, t ":") == 1 { n = split($2, a, ","); for (i = 1; i <= n; i++)
	    if (a[i] == "all" || a[i] == tr) { print substr($1, length(t) + 2); break } }' "$na"
}
if [ "$1" = --lane ]; then # internal: one long program on every transport
	shift
	t=$1 idx=$2
	sh "$here/run.sh" --one tcp "$t" "$idx"
	[ -f "$out/tcp/$t.uses-tcp" ] || exit 0
	for tr in $transports; do
		[ -n "$(na "$t" "$tr")" ] && continue
		idx=$((idx + 1))
		sh "$here/run.sh" --one "$tr" "$t" "$idx"
	done
	exit 0
fi
if [ "$1" = --one ]; then # internal: one job (from xargs)
	shift
	tr=$1 t=$2 idx=$3
	log=$out/$tr/$t.log
	off=$((6000 + (($$ + idx) % 1000) * 20))
	case $tr in
	tcp) env="ZUP_TRANSPORT=tcp ZUP_MARK=$out/tcp/$t.uses-tcp LD_PRELOAD=$shim" ;;
	shm) env="ZUP_TRANSPORT=shm ZUP_TAG=$idx-$$ LD_PRELOAD=$shim" ;;
	ofi-tcp) env="ZUP_TRANSPORT=ofi-tcp LD_PRELOAD=$shim" ;;
	scif) env="ZUP_TRANSPORT=scif LD_PRELOAD=$shim:$scifemu FABTX_SCIFEMU_FABRIC=$emu FABTX_SCIFEMU_NODE=0" ;;
	esac
	start=$(date +%s)
	# shellcheck disable=SC2086
	( cd "$out/$tr" && env LD_LIBRARY_PATH="$lib" ZUP_PORT_OFF=$off $env \
		timeout -k 5 "$limit" "$tdir/$t" > "$log" 2>&1 )
	echo "$t $? $(( $(date +%s) - start ))" >> "$out/$tr.rc"
	exit 0
fi

zb=$(cd "$1" && pwd)
mkdir -p "$2"
out=$(cd "$2" && pwd)
shift 2
here=$(cd "$(dirname "$0")" && pwd)
tdir=$zb/src/tests/.libs
lib=$zb/src/src/.libs
shim=$zb/upstream/retarget.so
scifemu=${ZT_SCIFEMU:-}
cfg=$zb/src/src/fabtx_zmq_config.h
na=$here/not-applicable.txt
limit=${ZUP_TIMEOUT:-120}
jobs=${ZUP_JOBS:-2}
long=${ZUP_LONG-test_heartbeats test_security_zap}
emu=zu$$
export out tdir lib shim scifemu limit emu na here
have() { grep -q "FABTX_ZMQ_HAVE_$1 1" "$cfg" 2>/dev/null; }

if [ $# = 0 ]; then
	set -- shm
	have OFI && set -- "$@" ofi-tcp
	have SCIF && [ -f "$scifemu" ] && set -- "$@" scif
fi
transports="$*"
export transports
[ -f "$shim" ] || { echo "upstream: no $shim"; exit 1; }

# the programs libzmq's build made for this platform (no tipc, ws, fuzzers)
tests=${ZUP_TESTS:-$(cd "$tdir" && ls test_* | grep -Ev 'tipc|_ws_|wss|fuzzer' | sort)}

rm -rf "$out"
for tr in tcp $transports; do mkdir -p "$out/$tr"; : > "$out/$tr.rc"; done

# failed TRANSPORT TEST: the Unity test cases that failed
failed() {
	awk -F: '$4 ~ /^FAIL/ { print $3 }' "$out/$1/$2.log" | sort -u
}

# is_long TEST: it runs in a lane of its own
is_long() {
	for l in $long; do [ "$l" = "$1" ] && return 0; done
	return 1
}

t0=$(date +%s)
i=2000
lanes=""
for t in $tests; do
	is_long "$t" || continue
	i=$((i + 10))
	sh "$here/run.sh" --lane "$t" $i &
	lanes="$lanes $!"
done
i=0
for t in $tests; do
	is_long "$t" && continue
	i=$((i + 1))
	echo "tcp $t $i"
done | xargs -P "$jobs" -L 1 sh "$here/run.sh" --one
t1=$(date +%s)
i=1000
for t in $tests; do
	is_long "$t" && continue
	[ -f "$out/tcp/$t.uses-tcp" ] || continue
	for tr in $transports; do
		[ -n "$(na "$t" "$tr")" ] && continue
		i=$((i + 1))
		echo "$tr $t $i"
	done
done | xargs -P "$jobs" -L 1 sh "$here/run.sh" --one
t2=$(date +%s)
for p in $lanes; do wait "$p"; done
rm -f /dev/shm/fabtx-scifemu-$emu* 2>/dev/null
echo "upstream: $(echo $tests | wc -w) programs; tcp:// $((t1 - t0))s, {$transports} $((t2 - t1))s ($jobs at a time); lanes for {$long} done $(( $(date +%s) - t0 ))s after the start"

P=0 F=0 S=0
for tr in tcp $transports; do
	np=0 nf=0 nn=0 nc=0 nt=0
	msgs=""
	for t in $tests; do
		if [ $tr != tcp ] && [ ! -f "$out/tcp/$t.uses-tcp" ]; then
			nn=$((nn + 1)); continue # no tcp:// endpoint: nothing to retarget
		fi
		if [ $tr != tcp ] && [ -n "$(na "$t" $tr)" ]; then
			nn=$((nn + 1)); continue
		fi
		set -- $(grep "^$t " "$out/$tr.rc")
		rc=${2:-none} secs=${3:-?}
		[ "$rc" = 0 ] && { np=$((np + 1)); continue; }
		# which failed cases are neither not-applicable nor failing on tcp://
		bad=""
		cases=$(failed $tr $t)
		if [ "$rc" -ge 124 ] 2>/dev/null || [ -z "$cases" ]; then
			bad="(exit $rc after ${secs}s)"
		fi
		skipped=""
		for c in $cases; do
			if [ $tr != tcp ] && na_cases $t $tr | grep -qx "$c"; then
				skipped="$skipped $c"; continue
			fi
			if [ $tr != tcp ] && failed tcp $t | grep -qx "$c"; then
				skipped="$skipped $c(fails-on-tcp)"; continue
			fi
			bad="$bad $c"
		done
		if [ -n "$bad" ] && [ $tr = tcp ] && [ ! -f "$out/tcp/$t.uses-tcp" ]; then
			# a program with no tcp:// endpoint (ipc://, inproc://) tests
			# no transport of ours; e.g. test_filter_ipc's "possibly
			# nonexistent pid" exists when jobs run side by side
			nt=$((nt + 1))
			msgs="$msgs\n  $t fails, not counted (no tcp:// endpoint: not a transport test):$bad"
		elif [ -z "$bad" ]; then
			np=$((np + 1)); nc=$((nc + $(echo $skipped | wc -w)))
			msgs="$msgs\n  $t: not applicable here:$skipped"
		elif [ $tr != tcp ] && grep -q "^$t [1-9]" "$out/tcp.rc" && [ -z "$(failed tcp $t)" ]; then
			nt=$((nt + 1)) # the program fails on tcp:// too
			msgs="$msgs\n  $t fails on tcp:// too (not counted):$bad"
		else
			nf=$((nf + 1))
			msgs="$msgs\n  FAIL $t:$bad (log: $out/$tr/$t.log)"
			for c in $bad; do
				grep -F ":$c:FAIL" "$out/$tr/$t.log" | head -n 2 | sed 's/^/      /'
			done > "$out/.why"
			[ -s "$out/.why" ] && msgs="$msgs\n$(cat "$out/.why")"
		fi
	done
	echo "upstream $tr: $np passed, $nf failed, $nn not applicable, $nt not counted ($nc test cases not applicable in programs that ran)"
	[ -n "$msgs" ] && printf "%b\n" "$msgs" | sed '/^$/d'
	P=$((P + np)) F=$((F + nf)) S=$((S + nn + nt))
done
rm -f "$out/.why"
echo "$P passed, $F failed, $S skipped"
[ $F = 0 ]
