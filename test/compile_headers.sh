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
echo "$p passed, $f failed, $s skipped"
[ $f -eq 0 ]
