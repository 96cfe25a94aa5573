#!/bin/bash
# bench/ir.sh [CASE...] -- callgrind instructions per message of fabtx's
# send + receive path over shm:// (build/bench_irmsg, both ends in one
# thread: no polling, no waiting, the same count on a loaded machine).
# CASE is pingpong:SIZE or stream:SIZE; default: the sizes of issue 19's
# targets.  Extra environment (FABTX_CELL_COUNT=..., FABTX_SHM_MODE=copy)
# is passed through.  Prints one line per case: Ir per message (one way),
# and the connection counters per message.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
B=${B:-build}
[ -x "$B/bench_irmsg" ] || { echo "ir.sh: $B/bench_irmsg not built (make bench-ir)" >&2; exit 1; }
command -v valgrind >/dev/null || { echo "ir.sh: valgrind not installed" >&2; exit 1; }
cases=("$@")
[ ${#cases[@]} -gt 0 ] || cases=(pingpong:8 pingpong:64 pingpong:1024 pingpong:4096 pingpong:16384 \
	stream:64 stream:4096 stream:65536 pingpong:1048576)
T=$(mktemp -d) || exit 1
trap 'rm -rf "$T"' EXIT
printf "%-18s %12s  %s\n" case "Ir/message" "counters per message"
for c in "${cases[@]}"; do
	mode=${c%%:*} size=${c#*:}
	# enough messages that set-up noise is gone, few enough for valgrind
	n=$(awk -v s=$size -v m=$mode 'BEGIN { n = int(4e7 / (s + 2000)); if (m == "pingpong") n = int(n / 2);
		if (n > 20000) n = 20000; if (n < 40) n = 40; print n }')
	out=$(valgrind -q --tool=callgrind --toggle-collect=irmsg_run \
		--callgrind-out-file="$T/cg.out" "$B/bench_irmsg" "shm://ir$$-$mode-$size" \
		"$mode" "$size" "$n" 2>&1) || { echo "$c: failed: $out"; continue; }
	msgs=$(echo "$out" | awk '/^messages:/ {print $2}')
	ir=$(callgrind_annotate "$T/cg.out" 2>/dev/null | awk '/PROGRAM TOTALS/ {gsub(",", "", $1); print $1}')
	cnt=$(echo "$out" | sed -n 's/^per message: //p')
	awk -v c="$c" -v ir="$ir" -v m="$msgs" -v k="$cnt" 'BEGIN { printf "%-18s %12.0f  %s\n", c, ir / m, k }'
done
