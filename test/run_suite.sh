#!/bin/sh
# run_suite.sh RESULT_FILE 'cmd 1' 'cmd 2' ...
# Runs each command (sh -c), shows its output, and writes to RESULT_FILE the
# suite total "N passed, N failed, N skipped".  A command that ends without
# a summary line counts as one failure (exit 77 without one: one skip).
# Each command's wall time is printed after its output ("-- N s"), the
# suite's after its total (what to trim when CI grows).
out=$1; shift
p=0; f=0; s=0
tmp=$(mktemp)
t_suite=$(date +%s)
for cmd in "$@"; do
	echo "== $cmd"
	t0=$(date +%s)
	sh -c "$cmd" > "$tmp" 2>&1
	rc=$?
	cat "$tmp"
	echo "-- $(( $(date +%s) - t0 )) s"
	line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$tmp" | tail -n 1)
	if [ -z "$line" ]; then
		if [ $rc -eq 77 ]; then s=$((s+1)); echo "SKIP $cmd"
		elif [ $rc -eq 0 ]; then p=$((p+1)); echo "PASS $cmd"
		else f=$((f+1)); echo "FAIL $cmd (exit $rc, no summary)"; fi
		continue
	fi
	np=$(echo "$line" | sed -E 's/^([0-9]+) passed.*/\1/')
	nf=$(echo "$line" | sed -E 's/^[0-9]+ passed, ([0-9]+) failed.*/\1/')
	ns=$(echo "$line" | sed -nE 's/.*, ([0-9]+) skipped.*/\1/p'); ns=${ns:-0}
	[ $rc -ne 0 ] && [ "$nf" -eq 0 ] && { nf=1; echo "FAIL $cmd (exit $rc)"; }
	p=$((p+np)); f=$((f+nf)); s=$((s+ns))
done
rm -f "$tmp"
mkdir -p "$(dirname "$out")"
echo "$p passed, $f failed, $s skipped in $(( $(date +%s) - t_suite )) s" | tee "$out"
[ "$f" -eq 0 ]
