#!/bin/sh
# man.sh SOURCE OUTDIR -- make fabtx(7) and fabtx_info(1) from the one
# source (man/fabtx.man) and check that it is still true to the code:
#   - every environment variable fabtx*.h, tools/ and examples/ read
#     (getenv("X"), fabtx__env_on("X")) is documented, and every variable
#     the source documents is still read somewhere;
#   - every return code fabtx_strerror() names is in fabtx(7);
#   - every URL scheme and config macro of fabtx.h's manual is in fabtx(7);
#   - every option fabtx_info's usage lists is in fabtx_info(1).
# Exits 1 (and writes no pages) when something is missing.
set -u
src=${1:-man/fabtx.man}
out=${2:-build/man}
top=$(cd "$(dirname "$0")/.." && pwd)
ver=$(sed -n 's/^#define FABTX_VERSION_STRING "\(.*\)"/\1/p' "$top/fabtx.h")
wmaj=$(sed -n 's/^#define FABTX_WIRE_MAJOR \([0-9]*\).*/\1/p' "$top/fabtx.h")
wmin=$(sed -n 's/^#define FABTX_WIRE_MINOR \([0-9]*\).*/\1/p' "$top/fabtx.h")
[ -n "$ver" ] && [ -n "$wmaj" ] && [ -n "$wmin" ] || { echo "man.sh: no version in fabtx.h" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# blocks first, then pages with @use expanded
awk -v dir="$tmp" -v ver="$ver" -v wire="$wmaj.$wmin" '
function subst(s) { gsub(/@VERSION@/, ver, s); gsub(/@WIRE@/, wire, s); return s }
FNR == NR {
	if ($0 ~ /^\.\\" @block /) { b = $3; inb = 1; next }
	if (inb && $0 ~ /^\.\\" @end/) { inb = 0; next }
	if (inb) blk[b] = blk[b] $0 "\n"
	next
}
$0 ~ /^\.\\" @block / { skip = 1; next }
skip { if ($0 ~ /^\.\\" @end/) skip = 0; next }
$0 ~ /^\.\\" @page / { if (f) close(f); f = dir "/" $3 "." $4; printf "" > f; next }
!f { next }
$0 ~ /^\.\\" @use / {
	if (!($3 in blk)) { print "man.sh: no block " $3 > "/dev/stderr"; bad = 1; next }
	printf "%s", subst(blk[$3]) > f; next
}
{ print subst($0) > f }
END { exit bad }
' "$src" "$src" || exit 1
for p in fabtx.7 fabtx_info.1; do
	[ -s "$tmp/$p" ] || { echo "man.sh: $src made no page $p" >&2; exit 1; }
done

bad=0
miss() { echo "man.sh: $1" >&2; bad=1; }
# environment variables the code reads
code_env=$(cat "$top"/fabtx*.h "$top"/tools/*.c "$top"/examples/*.c "$top"/examples/*.h 2>/dev/null |
	grep -oE '(getenv|env_on)\("[A-Z][A-Z0-9_]*"\)' | sed -E 's/.*\("(.*)"\)/\1/' | sort -u)
[ -n "$code_env" ] || miss "found no getenv() in the headers (grep broken?)"
for v in $code_env; do
	grep -q "^\.B $v\$" "$tmp/fabtx.7" || miss "environment variable $v is read by the code but not documented in $src"
done
doc_env=$(sed -n '/^\.SH ENVIRONMENT/,/^\.SH /p' "$tmp/fabtx.7" | sed -n 's/^\.B \([A-Z][A-Z0-9_]*\)$/\1/p' | sort -u)
for v in $doc_env; do
	echo "$code_env" | grep -qx "$v" || miss "$src documents $v, which no code reads any more"
done
# return codes
for e in $(grep -oE 'case E[A-Z]+: return "' "$top/fabtx.h" | sed -E 's/case (E[A-Z]+).*/\1/' | sort -u); do
	grep -q "^\.B \\\\-$e\$" "$tmp/fabtx.7" || miss "return code -$e (fabtx_strerror) is not in fabtx(7)"
done
# URL schemes and config macros of fabtx.h's manual
for s in $(sed -n '/^ \* URLS/,/^ \* RETURN/p' "$top/fabtx.h" | grep -oE '[a-z]+://' | sort -u); do
	grep -qF "$s" "$tmp/fabtx.7" || miss "URL scheme $s (fabtx.h URLS) is not in fabtx(7)"
done
for m in $(sed -n '/^ \* CONFIG MACROS/,/^ \* THE RING/p' "$top/fabtx.h" | grep -oE '^ \*   FABTX_[A-Z_]+' | sed 's/.* //' | sort -u); do
	grep -q "$m" "$tmp/fabtx.7" || miss "config macro $m (fabtx.h CONFIG MACROS) is not in fabtx(7)"
done
# fabtx_info's options
for o in $(sed -n '/^static void usage/,/^}/p' "$top/tools/fabtx_info.c" | grep -oE '"  -[a-zA-Z]' | sed 's/.*-//' | sort -u); do
	grep -q "^\.B.* \\\\-$o\\b\|^\.BR \\\\-$o\\b\|^\.BI \\\\-$o\\b\|^\.RB \[ \\\\-$o\\b" "$tmp/fabtx_info.1" ||
		miss "fabtx_info option -$o is not in fabtx_info(1)"
done
[ $bad -eq 0 ] || exit 1
mkdir -p "$out"
cp "$tmp/fabtx.7" "$tmp/fabtx_info.1" "$out/"
