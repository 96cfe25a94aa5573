#!/bin/sh
# integrations/nanomsg/build.sh -- `make nanomsg`: nanomsg 1.1.5 (Debian's
# nanomsg source package) with the fabtx transports shm://, ofi://, rio://,
# scif:// (docs/nanomsg.md).
#
#   sh integrations/nanomsg/build.sh [BUILD_DIR]      (default build/nanomsg)
#
# 1. the source: `apt-get source nanomsg` into BUILD_DIR/src (once; a
#    deb-src entry is added by scripts/debsrc.sh).  Should the
#    archive lack the Debian part (nanomsg_*.debian.tar.xz) while the
#    upstream tarball came, that tarball is unpacked after its SHA-256 was
#    checked against the signed .dsc (the Debian part is packaging only);
# 2. copies fabtx.h, the backend headers that build, and the transport
#    files (integrations/nanomsg/*.c *.h) into src/transports/fabtx/,
#    applies nanomsg-fabtx.patch (re-applies it when it changed);
# 3. configures once (cmake), builds libnanomsg + its perf tools with -j2
#    (incremental), installs under BUILD_DIR/prefix (never system-wide).
# Environment: FABTX_NN_BACKENDS="shm ofi rio scif" limits the backends
# tried (default: all whose header exists and builds).  NN_SAN=1 builds
# libnanomsg (our transport and fabtx with it) with ASan+UBSan into
# BUILD_DIR/prefix-san instead (same source tree; `make SAN=1`).
set -e
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
nb=${1:-$top/build/nanomsg}
mkdir -p "$nb"
nb=$(cd "$nb" && pwd)
src=$nb/src
san=${NN_SAN:-0}
if [ "$san" = 1 ]; then
	prefix=$nb/prefix-san
	bd=$nb/cmake-san
	sanflags="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined"
else
	prefix=$nb/prefix
	bd=$nb/cmake
	sanflags=""
fi
log() { echo "nanomsg: $*"; }

# ---- 1. the source package -----------------------------------------------
sh "$top/scripts/debsrc.sh" nanomsg "$src" src/core/global.c --orig-fallback

# ---- 2. the integration ----------------------------------------------------
. "$top/scripts/integ.sh"
t=$src/src/transports/fabtx
mkdir -p "$t"
integ_backends "$t/ftx_config.h" FTX_CONFIG_H FTX "$nb/probe" \
	"${FABTX_NN_BACKENDS:-shm ofi rio scif}" c
libs=$integ_libs
integ_headers "$t"
for f in ftx.h ftx.c ftx_conn.c ftx_vendor.h fabtx_impl.c; do
	integ_put "$here/$f" "$t/$f"
done
integ_put "$here/fabtx_nn.h" "$src/src/fabtx_nn.h"
integ_patch "$src" "$here/nanomsg-fabtx.patch"

# ---- 3. build ---------------------------------------------------------------
lib_list=$(echo $libs | sed 's/-l//g; s/ /;/g')
if [ ! -f "$bd/.fabtx-configured" ] || [ "$(cat "$bd/.fabtx-configured")" != "$lib_list" ]; then
	log "configuring (cmake)"
	mkdir -p "$bd"
	( cd "$bd" && cmake "$src" -DCMAKE_INSTALL_PREFIX="$prefix" \
		-DCMAKE_INSTALL_LIBDIR=lib -DCMAKE_BUILD_TYPE=RelWithDebInfo \
		-DNN_ENABLE_DOC=OFF -DNN_TOOLS=OFF -DNN_TESTS=ON \
		-DCMAKE_C_FLAGS="$sanflags" -DCMAKE_SHARED_LINKER_FLAGS="$sanflags" \
		-DCMAKE_EXE_LINKER_FLAGS="$sanflags" \
		-DNN_FTX_LIBS="$lib_list" ) > "$nb/configure.log" 2>&1 ||
		{ tail -n 30 "$nb/configure.log"; exit 1; }
	echo "$lib_list" > "$bd/.fabtx-configured"
fi
log "building (-j2)"
perf="local_lat remote_lat local_thr remote_thr"
[ "$san" = 1 ] && perf=""
( cd "$bd" && cmake --build . -j 2 --target nanomsg $perf ) > "$nb/build.log" 2>&1 ||
	{ grep -E 'error|Error|warning' "$nb/build.log" | head -n 40; exit 1; }
( cd "$bd" && cmake --install . ) > "$nb/install.log" 2>&1 ||
	{ tail -n 30 "$nb/install.log"; exit 1; }
mkdir -p "$prefix/bin"
for p in $perf; do
	integ_put "$bd/$p" "$prefix/bin/$p"
done
# the transport files compile without a warning
if grep -E 'transports/fabtx/.*warning' "$nb/build.log"; then
	log "warnings in the fabtx transport"; exit 1
fi
# fabtx must stay private to libnanomsg
if nm -D --defined-only "$prefix/lib/libnanomsg.so" | grep -q ' fabtx'; then
	log "fabtx symbols leak out of libnanomsg.so"; exit 1
fi
echo "$libs" > "$nb/backends"
log "done: $prefix (backends: shm$(grep -o 'HAVE_[A-Z]* 1' "$t/ftx_config.h" | sed 's/HAVE_\([A-Z]*\) 1/ \1/' | tr A-Z a-z | tr -d '\n'))"
