#!/bin/sh
# The header under clang too: C99, C11, C++11, warnings as errors.
p=0; f=0
if ! command -v clang >/dev/null 2>&1; then echo "0 passed, 0 failed, 1 skipped"; exit 0; fi
o=$(mktemp -d)
for std in "clang -std=c99" "clang -std=c11" "clang++ -x c++ -std=c++11"; do
	if $std -Wall -Wextra -Werror -pedantic -D_GNU_SOURCE -I. -o $o/t test/compile_main.c test/compile_other.c -lpthread && $o/t >/dev/null; then
		echo "PASS $std"; p=$((p+1))
	else
		echo "FAIL $std"; f=$((f+1))
	fi
done
rm -rf $o
echo "$p passed, $f failed"
[ $f -eq 0 ]
