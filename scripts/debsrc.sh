#!/bin/sh
# scripts/debsrc.sh PACKAGE SRC_DIR CHECK_FILE [--orig-fallback]
#
# Fetches Debian's source package PACKAGE (`apt-get source`) and leaves its
# unpacked tree at SRC_DIR, once: SRC_DIR/.fabtx-fetched marks a complete
# fetch, and a second call does nothing.  CHECK_FILE (relative to the tree)
# must exist, or the fetch counts as failed.  Used by examples/zmq/build.sh
# (zeromq3), integrations/nng/build.sh (nng), integrations/nanomsg/build.sh
# (nanomsg).
#
# If no deb-src entry is configured, one is added (as root) for the Debian
# archives already configured for binaries: deb822 stanzas of
# /etc/apt/sources.list.d/*.sources become /etc/apt/sources.list.d/
# fabtx-src.sources, `deb` lines of /etc/apt/sources.list become
# fabtx-src.list.
#
# --orig-fallback: if `apt-get source` fails after the .dsc and the upstream
# tarball arrived (the Debian part can be missing from a mirror), unpack the
# upstream tarball named in the .dsc, checked against the .dsc's SHA-256.
set -e
pkg=$1 src=$2 check=$3 fallback=${4:-}
[ -n "$pkg" ] && [ -n "$src" ] && [ -n "$check" ] ||
	{ echo "usage: $0 PACKAGE SRC_DIR CHECK_FILE [--orig-fallback]" >&2; exit 2; }
log() { echo "$pkg: $*"; }
[ -f "$src/.fabtx-fetched" ] && exit 0

add_deb_src() {
	if grep -rqsE '^(deb-src|Types:.*deb-src)' /etc/apt/sources.list \
		/etc/apt/sources.list.d/ 2>/dev/null; then
		return 0
	fi
	[ "$(id -u)" = 0 ] || { log "need root to add a deb-src entry"; exit 1; }
	out=/etc/apt/sources.list.d/fabtx-src
	: > "$out.sources.tmp"
	for f in /etc/apt/sources.list.d/*.sources; do
		[ -f "$f" ] || continue
		# deb822 stanzas of Debian archives: same URIs/suites, deb-src type
		awk 'BEGIN{RS=""; ORS="\n\n"}
		     /Types:[^\n]*deb/ && /URIs:[^\n]*debian/ {
		       gsub(/Types:[^\n]*/, "Types: deb-src"); print }' "$f" \
			>> "$out.sources.tmp"
	done
	if [ -f /etc/apt/sources.list ]; then
		grep -E '^deb ' /etc/apt/sources.list | grep -i debian |
			sed 's/^deb /deb-src /' > "$out.list.tmp" || true
	fi
	for t in sources list; do
		if [ -s "$out.$t.tmp" ]; then mv "$out.$t.tmp" "$out.$t"
		else rm -f "$out.$t.tmp"; fi
	done
	log "added deb-src entries"
}

# the upstream tarball the .dsc names, checked against the .dsc's SHA-256
unpack_orig() {
	dsc=$(ls "$dl"/"${pkg}"_*.dsc 2>/dev/null | head -n 1)
	[ -n "$dsc" ] || return 1
	line=$(awk '/^Checksums-Sha256:/{f=1; next} /^[^ ]/{f=0} f && /orig\.tar/' \
		"$dsc" | head -n 1)
	sum=$(echo "$line" | awk '{print $1}')
	name=$(echo "$line" | awk '{print $3}')
	[ -n "$sum" ] && [ -f "$dl/$name" ] || return 1
	echo "$sum  $dl/$name" | sha256sum -c --status || {
		log "$name does not match the SHA-256 in $(basename "$dsc")"
		return 1
	}
	(cd "$dl" && tar xf "$name")
	log "unpacked $name (SHA-256 as in $(basename "$dsc")); the Debian part was not available"
}

add_deb_src
dl=$(dirname "$src")/dl
rm -rf "$dl" "$src"
mkdir -p "$dl"
dl=$(cd "$dl" && pwd)
fetchlog=$(dirname "$src")/fetch.log
if ! (cd "$dl" && (apt-get source "$pkg" ||
	{ apt-get update -qq && apt-get source "$pkg"; })) > "$fetchlog" 2>&1; then
	if [ "$fallback" != --orig-fallback ] || ! unpack_orig; then
		cat "$fetchlog"
		log "apt-get source $pkg failed"
		exit 1
	fi
fi
d=$(find "$dl" -maxdepth 1 -type d -name "$pkg-*" | head -n 1)
[ -n "$d" ] && [ -f "$d/$check" ] || { log "no source tree ($check missing)"; exit 1; }
mv "$d" "$src"
rm -rf "$dl"
touch "$src/.fabtx-fetched"
log "fetched $(basename "$d")"
