#!/bin/sh
# run.sh BUILD_DIR SECONDS TARGET... -- fuzz each target for SECONDS from
# its seed corpus (test/fuzz/corpus/NAME, read only) and its work corpus
# (BUILD_DIR/corpus/NAME, where new inputs go); one line per target with
# executions, coverage and corpus size; crashes in BUILD_DIR/artifacts/.
# Ends with the tt.h summary line (a target that crashed is a failure).
b=$1; secs=$2; shift 2
mkdir -p "$b/artifacts" "$b/logs"
p=0; f=0
for t in "$@"; do
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
		p=$((p+1))
		echo "PASS $t: ${execs:-?} executions in ${secs}s (${rate:-?}/s), ${cov:-cov: ?}, corpus $ncorp"
	else
		f=$((f+1))
		echo "FAIL $t: exit $rc after ${execs:-?} executions, ${cov:-cov: ?}; log $log"
		grep -a -m 5 -E 'ERROR|invariant|runtime error|SUMMARY' "$log"
		ls "$b/artifacts/$t-"* 2>/dev/null | head -n 3
	fi
done
echo "$p passed, $f failed, 0 skipped"
[ $f -eq 0 ]
