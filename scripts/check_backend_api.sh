#!/bin/sh
# check_backend_api.sh -- no backend header uses a core identifier outside
# the documented backend API (fabtx.h: the public API, then the section
# "BACKEND API" up to "END OF THE BACKEND API"; what follows it, the CORE
# INTERNALS and the implementation, is the core's).  For each backend header:
#  1. every fabtx_* / FABTX_* identifier that is not the backend's own
#     (fabtx_ofi*, FABTX__OFI*, ...) is named in the public API or the
#     backend API section, or is one of the few macros listed below;
#  2. no core-private fabtx__* / FABTX__* identifier is used, except the
#     definition decorations FABTX__DEF and FABTX__PRIV;
#  3. of the core's structs a backend touches only c->ctx, c->be, c->bdata,
#     c->url (connections) and l->ctx, l->bdata, l->url (listeners), and
#     nothing inside a fabtx_ctx.
# Usage: check_backend_api.sh [header...]  (default: fabtx_ofi.h fabtx_rio.h
# fabtx_scif.h); --self-test checks that a planted violation is caught.
# Prints "N passed, N failed, N skipped" for test/run_suite.sh.
set -u
cd "$(dirname "$0")/.."
core=fabtx.h
# macros a backend uses that the API names only in prose or not at all:
# the implementation switches and the definition decorations
wire='FABTX_IMPLEMENTATION FABTX_STATIC FABTX__DEF FABTX__PRIV'
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# the documented API: the public half (user API, then the backend API
# section) up to "END OF THE BACKEND API"
awk '{ print } /END OF THE BACKEND API/ { exit }' "$core" > "$tmp/api"
{ grep -oE '\b(fabtx|FABTX)_[A-Za-z0-9_]+' "$tmp/api"; printf '%s\n' $wire; } |
	sort -u > "$tmp/allowed"
if ! grep -q 'END OF THE BACKEND API' "$core" ||
   [ "$(wc -l < "$tmp/allowed")" -lt 50 ]; then
	echo "FAIL: no backend API section found in $core"
	echo "0 passed, 1 failed, 0 skipped"; exit 1
fi

# check one header; prints violations, returns their count (capped)
check() {
	h=$1
	b=$(basename "$h" .h); b=${b#fabtx_}
	B=$(echo "$b" | tr a-z A-Z)
	# comments out (identifiers named in prose are not uses)
	# (keeping line numbers)
	perl -0pe 's{/\*.*?\*/}{"\n" x ($& =~ tr/\n//)}gse; s{(^|\s)//[^\n]*}{$1}gm' "$h" > "$tmp/src"
	bad=0
	for id in $(grep -oE '\b(fabtx|FABTX)_[A-Za-z0-9_]+' "$tmp/src" | sort -u); do
		case $id in
		fabtx_${b}|fabtx_${b}_*|FABTX_${B}|FABTX_${B}_*|fabtx__${b}_*|FABTX__${B}_*) continue ;;
		esac
		if ! grep -qx "$id" "$tmp/allowed"; then
			echo "  $h: $id is not in the backend API"
			bad=$((bad + 1))
		fi
	done
	# members of the core's connection and listener
	grep -noE '\b(c|l|conn|lis|o->c|r->c|s->c)->[A-Za-z_][A-Za-z0-9_]*' "$tmp/src" |
	while IFS= read -r m; do
		f=${m##*->}
		case $f in ctx|be|bdata|url) ;;
		*) echo "  $h:${m%%:*}: ->$f is the core's" ;;
		esac
	done > "$tmp/members"
	# the ctx is opaque: no member of it at all
	grep -noE '\bctx->[A-Za-z_][A-Za-z0-9_]*' "$tmp/src" |
		sed "s|^|  $h:|; s|\$| is the core's|" >> "$tmp/members"
	if [ -s "$tmp/members" ]; then
		cat "$tmp/members"
		bad=$((bad + $(wc -l < "$tmp/members")))
	fi
	[ $bad -gt 100 ] && bad=100
	return $bad
}

p=0; f=0
if [ "${1:-}" = "--self-test" ]; then
	# a planted leak of each kind must be caught, a clean header passed
	printf '%s\n' '#include "fabtx.h"' \
		'static int fabtx__zz_x(fabtx_conn *c) { return (int)fabtx_conn_rx_pos(c) + (c->bdata != 0); }' \
		> "$tmp/fabtx_zz.h"
	if check "$tmp/fabtx_zz.h" >/dev/null; then echo "PASS self-test: clean"; p=$((p+1))
	else echo "FAIL self-test: a clean header was refused"; f=$((f+1)); fi
	for leak in 'c->rx.seq' 'fabtx__deadline(0)' 'fabtx_ring_rx_peek(0, 0)' 'fabtx_db_in_use(0)' \
	            'l->hs[0]' 'c->ctx->nbe'; do
		printf '%s\n' '#include "fabtx.h"' \
			"static int fabtx__zz_x(fabtx_conn *c, fabtx_listener *l) { return (int)($leak); }" \
			> "$tmp/fabtx_zz.h"
		if check "$tmp/fabtx_zz.h" >/dev/null; then
			echo "FAIL self-test: $leak not caught"; f=$((f+1))
		else
			echo "PASS self-test: $leak caught"; p=$((p+1))
		fi
	done
	echo "$p passed, $f failed, 0 skipped"
	[ $f -eq 0 ]; exit
fi
[ $# -eq 0 ] && set -- fabtx_ofi.h fabtx_rio.h fabtx_scif.h
for h in "$@"; do
	if check "$h"; then echo "PASS $h uses only the backend API"; p=$((p+1))
	else echo "FAIL $h"; f=$((f+1)); fi
done
echo "$p passed, $f failed, 0 skipped"
[ $f -eq 0 ]
