#!/bin/sh
# examples/zmq/build.sh -- `make zmq`: libzmq 4.3.4 (Debian's zeromq3 source
# package) with the fabtx transports shm://, ofi://, rio://, scif://.
#
#   sh examples/zmq/build.sh [BUILD_DIR]      (default build/zmq)
#
# 1. scripts/debsrc.sh adds a deb-src entry for the configured Debian suites (if none),
#    and runs `apt-get source zeromq3` into BUILD_DIR/src (only once);
# 2. copies fabtx.h, the backend headers that build, and examples/zmq/*.cpp
#    into the tree, applies examples/zmq/libzmq-fabtx.patch and
#    examples/zmq/upstream/test-fixes.patch (re-applies each when it changed);
# 3. configures once, builds libzmq + perf tools with -j2 (incremental),
#    installs under BUILD_DIR/prefix (never system-wide).
# Environment: FABTX_ZMQ_BACKENDS="shm ofi rio scif" limits the backends
# tried (default: all whose header exists and builds).
set -e
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
zb=${1:-$top/build/zmq}
mkdir -p "$zb"
zb=$(cd "$zb" && pwd)
src=$zb/src
prefix=$zb/prefix
log() { echo "zmq: $*"; }

# ---- 1. the source package -----------------------------------------------
sh "$top/scripts/debsrc.sh" zeromq3 "$src" src/zmq.cpp

# ---- 2. the integration ----------------------------------------------------
# Which backends build (scripts/integ.sh: a backend header whose
# implementation does not compile and link as C++ is left out).
. "$top/scripts/integ.sh"
integ_backends "$src/src/fabtx_zmq_config.h" FABTX_ZMQ_CONFIG_H FABTX_ZMQ \
	"$zb/probe" "${FABTX_ZMQ_BACKENDS:-shm ofi rio scif}" c++
libs=$integ_libs
integ_headers "$src/src"
for f in "$here"/*.cpp "$here"/*.hpp "$here"/*.h; do
	integ_put "$f" "$src/src/$(basename "$f")"
done
integ_patch "$src" "$here/libzmq-fabtx.patch"
# the one upstream test that races on a loaded machine (see the patch)
integ_patch "$src" "$here/upstream/test-fixes.patch" test-fixes

# ---- 3. build ---------------------------------------------------------------
cd "$src"
if [ ! -f Makefile ] || [ ! -f .fabtx-configured ]; then
	log "configuring (once)"
	./autogen.sh > "$zb/autogen.log" 2>&1 ||
		{ tail -n 30 "$zb/autogen.log"; exit 1; }
	./configure --prefix="$prefix" --without-docs --disable-libbsd \
		--disable-Werror --disable-static --disable-curve-keygen \
		> "$zb/configure.log" 2>&1 ||
		{ tail -n 30 "$zb/configure.log"; exit 1; }
	touch .fabtx-configured
fi
log "building (make -j2)"
make -j2 FABTX_ZMQ_LIBS="$libs" > "$zb/build.log" 2>&1 ||
	{ grep -E 'error|Error' "$zb/build.log" | head -n 40; exit 1; }
make install FABTX_ZMQ_LIBS="$libs" > "$zb/install.log" 2>&1 ||
	{ tail -n 30 "$zb/install.log"; exit 1; }
mkdir -p "$prefix/bin"
for p in local_lat remote_lat local_thr remote_thr inproc_lat inproc_thr; do
	./libtool --mode=install cp "perf/$p" "$prefix/bin/$p" \
		>> "$zb/install.log" 2>&1
done
# fabtx must stay private to libzmq
if nm -D --defined-only "$prefix/lib/libzmq.so" | grep -q ' fabtx'; then
	log "fabtx symbols leak out of libzmq.so"; exit 1
fi
echo "$libs" > "$zb/backends"
log "done: $prefix (backends: shm$(grep -o 'HAVE_[A-Z]* 1' "$src/src/fabtx_zmq_config.h" | sed 's/HAVE_\([A-Z]*\) 1/ \1/' | tr A-Z a-z | tr -d '\n'))"
