#!/bin/sh
# The header under every compiler here: as C99, C11 and C++11 under gcc and
# clang (-Wall -Wextra -Werror -pedantic), with no feature macro on the
# command line (fabtx.h included first sets _GNU_SOURCE itself), two
# programs each: compile_main.c (core implementation, included twice) and
# compile_all.c (all four headers' implementations), each linked with a
# declarations-only TU.  And the other order: a system header before
# fabtx.h in the implementation file (without -D_GNU_SOURCE) must stop at
# fabtx's own #error, which says what to do.
p=0; f=0; s=0
o=$(mktemp -d)
trap 'rm -rf "$o"' EXIT
W="-Wall -Wextra -Werror -pedantic -I."
for std in "gcc -std=c99" "gcc -std=c11" "g++ -x c++ -std=c++11" \
           "clang -std=c99" "clang -std=c11" "clang++ -x c++ -std=c++11"; do
	if ! command -v "${std%% *}" >/dev/null 2>&1; then
		echo "SKIP $std: not installed"; s=$((s+1)); continue
	fi
	if $std $W -o "$o/t" test/compile_main.c test/compile_other.c \
	     -lpthread 2>"$o/err" && "$o/t" >/dev/null; then
		echo "PASS core: $std"; p=$((p+1))
	else
		cat "$o/err"; echo "FAIL core: $std"; f=$((f+1))
	fi
	if $std $W -o "$o/t" test/compile_all.c test/compile_other.c \
	     -lfabric -lpthread 2>"$o/err" && "$o/t" >/dev/null; then
		echo "PASS all headers: $std"; p=$((p+1))
	else
		cat "$o/err"; echo "FAIL all headers: $std"; f=$((f+1))
	fi
done
printf '#include <stdio.h>\n#define FABTX_IMPLEMENTATION\n#include "fabtx.h"\nint main(void) { return 0; }\n' > "$o/late.c"
if gcc -std=c11 -I. -c -o "$o/late.o" "$o/late.c" 2>"$o/err"; then
	echo "FAIL late include: compiled without _GNU_SOURCE"; f=$((f+1))
elif grep -q 'fabtx: the implementation needs _GNU_SOURCE' "$o/err"; then
	echo "PASS late include: stops with fabtx's #error"; p=$((p+1))
else
	head -5 "$o/err"; echo "FAIL late include: not fabtx's #error"; f=$((f+1))
fi
if gcc -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -pedantic -I. -c -o "$o/late.o" "$o/late.c"; then
	echo "PASS late include with -D_GNU_SOURCE"; p=$((p+1))
else
	echo "FAIL late include with -D_GNU_SOURCE"; f=$((f+1))
fi
# Users see only the API: a program that includes the headers without
# FABTX_IMPLEMENTATION gets fabtx_conn, fabtx_listener and fabtx_ctx as
# opaque types and none of the CORE INTERNALS.  Each probe must compile
# with FABTX_IMPLEMENTATION (so that it fails below for being hidden, not
# for being misspelt), then fail without it, naming the identifier.
probe() { # name, statement
	for impl in "#define FABTX_IMPLEMENTATION" ""; do
		printf '%s\n#include "fabtx.h"\n#include "fabtx_ofi.h"\n#include "fabtx_rio.h"\n#include "fabtx_scif.h"\nint probe(void);\nint probe(void) { %s; return 0; }\n' \
			"$impl" "$2" > "$o/probe.c"
		gcc -std=c11 -Wall -Wextra -Werror -pedantic -I. -fsyntax-only "$o/probe.c" 2>"$o/err"
		rc=$?
		if [ -n "$impl" ]; then
			[ $rc -eq 0 ] && continue
			cat "$o/err"; echo "FAIL opaque $1: the probe does not compile even with the implementation"
		elif [ $rc -ne 0 ] && grep -q "$1" "$o/err"; then
			echo "PASS opaque $1: hidden from users"; p=$((p+1)); return
		else
			cat "$o/err"; echo "FAIL opaque $1: visible without FABTX_IMPLEMENTATION"
		fi
		f=$((f+1)); return
	done
}
probe fabtx_conn 'return (int)sizeof(struct fabtx_conn)'
probe fabtx_listener 'return (int)sizeof(struct fabtx_listener)'
probe fabtx_ctx 'return (int)sizeof(struct fabtx_ctx)'
probe fabtx_ring_rx 'fabtx_ring_rx r; (void)r'
probe fabtx_ring_tx_credit '(void)&fabtx_ring_tx_credit'
probe fabtx_db_alloc_create '(void)&fabtx_db_alloc_create'
probe FABTX__HOT_CELLS '(void)FABTX__HOT_CELLS'
echo "$p passed, $f failed, $s skipped"
[ $f -eq 0 ]
