#!/bin/sh
# Install what fabtx's build and tests need (Debian 12).  Run as root to
# install; otherwise it prints the exact apt-get line.  --check only reports;
# --auto (used by make test / make demo) is quiet when nothing is missing.
# Package lists: scripts/deps.d/*.txt (one package per line, # comments).
here=$(cd "$(dirname "$0")" && pwd)
pkgs=$(cat "$here"/deps.d/*.txt | sed 's/#.*//' | tr -s ' \n' ' ')
missing=""
for p in $pkgs; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -z "$missing" ]; then
	[ -n "$1" ] || echo "deps: all installed"
	exit 0
fi
if [ "$1" = "--check" ]; then
	echo "deps: missing:$missing (run 'make deps' as root)"
	exit 1
fi
if [ "$(id -u)" != 0 ]; then
	echo "deps: missing:$missing"
	echo "deps: run as root:  apt-get update && apt-get install -y$missing"
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq || exit 1
apt-get install -y -qq --no-install-recommends $missing || exit 1
echo "deps: installed$missing"
