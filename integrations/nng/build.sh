#!/bin/sh
# integrations/nng/build.sh -- `make nng`: nng 1.5.2 (Debian's nng source
# package) with the fabtx transports shm://, ofi://, rio://, scif://.
#
#   sh integrations/nng/build.sh [BUILD_DIR]      (default build/nng)
#
# 1. adds a deb-src entry for the Debian suites already configured (if none;
#    scripts/debsrc.sh does it) and runs `apt-get source nng` into
#    BUILD_DIR/src (only once);
# 2. copies fabtx.h, the backend headers that build, fabtx_nng.c and
#    CMakeLists.txt into src/sp/transport/fabtx/, applies nng-fabtx.patch
#    (re-applies it when it changed), retargets the test harness (below);
# 3. configures once (cmake), builds libnng, its perf tools and the nng
#    tests that test-nng runs with -j2 (incremental), and puts lib, headers
#    and tools under BUILD_DIR/prefix (never system-wide).
# Environment: FABTX_NNG_BACKENDS="shm ofi rio scif" limits the backends.
set -e
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
nb=${1:-$top/build/nng}
mkdir -p "$nb"
nb=$(cd "$nb" && pwd)
src=$nb/src
bld=$nb/cmake
prefix=$nb/prefix
log() { echo "nng: $*"; }

# ---- 1. the source package -----------------------------------------------
sh "$top/scripts/debsrc.sh" nng "$src" src/sp/transport.c

# ---- 2. the integration ----------------------------------------------------
. "$top/scripts/integ.sh"
tdir=$src/src/sp/transport/fabtx
mkdir -p "$tdir"
integ_backends "$tdir/fabtx_nng_config.h" FABTX_NNG_CONFIG_H FABTX_NNG \
	"$nb/probe" "${FABTX_NNG_BACKENDS:-shm ofi rio scif}" c
libs=$(echo "$integ_libs" | sed 's/-l//g') # cmake names: "fabric"
integ_headers "$tdir"
integ_put "$here/fabtx_nng.c" "$tdir/fabtx_nng.c"
integ_put "$here/CMakeLists.txt" "$tdir/CMakeLists.txt"
integ_patch "$src" "$here/nng-fabtx.patch"

# nng's own tests, retargeted (test-nng; integrations/nng/nngtests.sh)
sh "$here/nngtests.sh" prepare "$src" "$nb"

# ---- 3. build ---------------------------------------------------------------
libs=$(echo $libs)
gen=""
command -v ninja > /dev/null 2>&1 && gen="-G Ninja"
if [ ! -f "$bld/.fabtx-configured" ] || [ "$(cat "$bld/.fabtx-configured")" != "$libs" ]; then
	log "configuring (cmake)"
	rm -rf "$bld"
	mkdir -p "$bld"
	( cd "$bld" && cmake $gen -DCMAKE_BUILD_TYPE=RelWithDebInfo \
		-DBUILD_SHARED_LIBS=ON -DNNG_TESTS=ON -DNNG_TOOLS=ON \
		-DNNG_ENABLE_TLS=OFF -DNNG_ENABLE_NNGCAT=OFF \
		-DFABTX_NNG_LIBS="$libs" "$src" ) > "$nb/cmake.log" 2>&1 ||
		{ tail -n 30 "$nb/cmake.log"; exit 1; }
	echo "$libs" > "$bld/.fabtx-configured"
fi
targets="nng local_lat remote_lat local_thr remote_thr $(sh "$here/nngtests.sh" targets)"
log "building (-j2)"
cmake --build "$bld" -j 2 --target $targets > "$nb/build.log" 2>&1 ||
	{ grep -E 'error|Error' "$nb/build.log" | head -n 40; exit 1; }
mkdir -p "$prefix/lib" "$prefix/include" "$prefix/bin"
# replaced, not overwritten in place: a running program keeps its copy
for f in "$bld"/libnng.so*; do
	cp -P "$f" "$prefix/lib/.$(basename "$f").tmp"
	mv -f "$prefix/lib/.$(basename "$f").tmp" "$prefix/lib/$(basename "$f")"
done
rm -rf "$prefix/include/nng"
cp -r "$src/include/nng" "$prefix/include/nng"
for p in local_lat remote_lat local_thr remote_thr; do
	f=$(find "$bld" -name $p -type f -perm -u+x | head -n 1)
	[ -n "$f" ] && cp "$f" "$prefix/bin/.$p.tmp" && mv -f "$prefix/bin/.$p.tmp" "$prefix/bin/$p"
done
# fabtx must stay private to libnng
if nm -D --defined-only "$prefix/lib/libnng.so" | grep -q ' fabtx'; then
	log "fabtx symbols leak out of libnng.so"; exit 1
fi
echo "$libs" > "$nb/backends"
log "done: $prefix (backends: shm$(grep -o 'HAVE_[A-Z]* 1' "$tdir/fabtx_nng_config.h" | sed 's/HAVE_\([A-Z]*\) 1/ \1/' | tr A-Z a-z | tr -d '\n'))"
