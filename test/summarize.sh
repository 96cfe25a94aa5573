#!/bin/sh
# Total the "N passed, N failed[, N skipped]" lines every suite wrote into
# $1/*.txt and print one summary line; exit 1 if anything failed or a suite
# produced no summary.
dir=$1
p=0; f=0; s=0; bad=0
for r in "$dir"/*.txt; do
	[ -e "$r" ] || continue
	line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$r" | tail -n 1)
	if [ -z "$line" ]; then
		echo "suite $(basename "$r" .txt): no summary line (crashed?)"; bad=$((bad+1)); continue
	fi
	np=$(echo "$line" | sed -E 's/^([0-9]+) passed.*/\1/')
	nf=$(echo "$line" | sed -E 's/^[0-9]+ passed, ([0-9]+) failed.*/\1/')
	ns=$(echo "$line" | sed -nE 's/.*, ([0-9]+) skipped.*/\1/p'); ns=${ns:-0}
	echo "suite $(basename "$r" .txt): $line"
	p=$((p+np)); f=$((f+nf)); s=$((s+ns))
done
[ "$p$f" = "00" ] && bad=$((bad+1))
f=$((f+bad))
echo "$p passed, $f failed, $s skipped"
[ "$f" -eq 0 ]
