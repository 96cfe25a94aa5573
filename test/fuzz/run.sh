#!/bin/sh
# run.sh BUILD_DIR SECONDS TARGET... -- fuzz each target for SECONDS from
# its seed corpus (test/fuzz/corpus/NAME, read only) and its work corpus
# (BUILD_DIR/corpus/NAME, where new inputs go); one line per target with
# executions, coverage and corpus size; crashes in BUILD_DIR/artifacts/.
# FUZZ_JOBS targets (default: one per core) run side by side, each on a
# core of its own.  Ends with the tt.h summary line (a target that crashed
# is a failure).
b=$1; secs=$2; shift 2
jobs=${FUZZ_JOBS:-$(nproc 2>/dev/null || echo 1)}
mkdir -p "$b/artifacts" "$b/logs"

# one TARGET: fuzz it, then write its verdict line(s) to logs/TARGET.res
one() {
	t=$1
	name=${t#fuzz_}
	work="$b/corpus/$name"
	mkdir -p "$work"
	log="$b/logs/$t.log"
	"$b/$t" -max_total_time="$secs" -print_final_stats=1 -timeout=25 \
		-rss_limit_mb=4096 -artifact_prefix="$b/artifacts/$t-" \
		"$work" "test/fuzz/corpus/$name" > "$log" 2>&1
	rc=$?
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
	cov=$(grep -a -o 'cov: [0-9]* ft: [0-9]*' "$log" | tail -n 1)
	ncorp=$(ls "$work" | wc -l)
	rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n 1)
	if [ $rc -eq 0 ]; then
		echo "PASS $t: ${execs:-?} executions in ${secs}s (${rate:-?}/s), ${cov:-cov: ?}, corpus $ncorp"
	else
		echo "FAIL $t: exit $rc after ${execs:-?} executions, ${cov:-cov: ?}; log $log"
		grep -a -m 5 -E 'ERROR|invariant|runtime error|SUMMARY' "$log"
		ls "$b/artifacts/$t-"* 2>/dev/null | head -n 3
	fi > "$b/logs/$t.res"
}

# waves of $jobs targets
all="$*"
while [ $# -gt 0 ]; do
	k=0
	while [ $# -gt 0 ] && [ $k -lt "$jobs" ]; do
		rm -f "$b/logs/$1.res"
		one "$1" &
		shift
		k=$((k + 1))
	done
	wait
done
p=0; f=0
for t in $all; do
	if [ -f "$b/logs/$t.res" ]; then
		cat "$b/logs/$t.res"
	else
		echo "FAIL $t: no verdict (the runner died)"
	fi
	case $(head -n 1 "$b/logs/$t.res" 2>/dev/null) in
	PASS*) p=$((p + 1)) ;;
	*) f=$((f + 1)) ;;
	esac
done
echo "$p passed, $f failed, 0 skipped"
[ $f -eq 0 ]
