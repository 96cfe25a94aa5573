#!/bin/bash
# install.sh BUILD_DIR -- make install into a temporary DESTDIR, then use
# the installed fabtx the way its users do: programs built out of tree with
# pkg-config, with CMake find_package, and by vendoring the headers, for
# shm:// and ofi://, run; fabtx_info's verdicts on every libfabric
# provider checked against real connections; the CLI tools' local errors;
# the man pages rendered by man -l without warnings (groff: all); make uninstall.
# Runs in a private network namespace when it can (ports of its own).
# Prints "N passed, N failed, N skipped".
B=${1:-build}
if [ -z "${FXI_IN_NS:-}" ] && unshare --net true 2>/dev/null; then
	exec unshare --net env FXI_IN_NS=1 bash -c 'ip link set lo up 2>/dev/null; exec bash "$0" "$@"' "$0" "$@"
fi
top=$(cd "$(dirname "$0")/.." && pwd)
B=$(cd "$B" && pwd)
pass=0; fail=0; skip=0
ok() { echo "PASS [$SECONDS s] $1"; pass=$((pass + 1)); }
ko() { echo "FAIL $1"; shift; [ $# -gt 0 ] && printf '%s\n' "$@" | sed 's/^/  | /'; fail=$((fail + 1)); }
sk() { echo "SKIP $1"; skip=$((skip + 1)); }
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
D=$T/dest
P=/usr/local
I=$D$P
port=$(( 16000 + $$ % 4000 ))  # below the ephemeral range
# sanitizer builds: the out-of-tree programs are instrumented the same way
SANF=""
case "$B" in */san) SANF="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined" ;; esac

# ---- make install --------------------------------------------------------
if make -s --no-print-directory -C "$top" install DESTDIR="$D" PREFIX=$P B="$B" > "$T/inst.log" 2>&1; then
	ok "make install DESTDIR PREFIX=$P"
else
	ko "make install" "$(cat "$T/inst.log")"
	echo "$pass passed, $fail failed, $skip skipped"; exit 1
fi
miss=""
for f in include/fabtx/fabtx.h include/fabtx/fabtx_ofi.h include/fabtx/fabtx_rio.h \
	include/fabtx/fabtx_scif.h bin/fabtx_info bin/fabtx_local_lat bin/fabtx_remote_lat \
	bin/fabtx_local_thr bin/fabtx_remote_thr lib/pkgconfig/fabtx.pc lib/pkgconfig/fabtx-ofi.pc \
	lib/cmake/fabtx/fabtxConfig.cmake lib/cmake/fabtx/fabtxConfigVersion.cmake \
	share/man/man7/fabtx.7 share/man/man1/fabtx_info.1; do
	[ -f "$I/$f" ] || miss="$miss $f"
done
for h in fabtx.h fabtx_ofi.h fabtx_rio.h fabtx_scif.h; do
	cmp -s "$top/$h" "$I/include/fabtx/$h" || miss="$miss $h(differs)"
done
[ -z "$miss" ] && ok "installed files in place, headers as in the tree" || ko "installed files" "missing:$miss"

# ---- a program, built out of tree three ways ------------------------------
# prog listen URL: prints the URL to connect to, accepts, echoes one message
# prog connect URL: sends a message, checks the echo
mkdir -p "$T/src"
cat > "$T/src/prog.c" <<'EOF'
#define FABTX_IMPLEMENTATION
#include "fabtx.h"
#ifdef USE_OFI
#include "fabtx_ofi.h"
#endif
#include <stdio.h>
#include <string.h>
int main(int argc, char **argv)
{
	fabtx_ctx *ctx;
	fabtx_conn *c;
	char buf[64], url[256];
	ssize_t n;
	int rc;
	if (argc != 3) return 2;
	if (fabtx_ctx_create(&ctx, NULL) < 0) return 1;
#ifdef USE_OFI
	if (fabtx_ctx_add_backend(ctx, fabtx_ofi_backend()) < 0) return 1;
#endif
	if (strcmp(argv[1], "listen") == 0) {
		fabtx_listener *l;
		if ((rc = fabtx_listen(ctx, argv[2], &l)) < 0 ||
		    (rc = fabtx_listener_url(l, url, sizeof url)) < 0) {
			fprintf(stderr, "listen: %s\n", fabtx_strerror(rc));
			return 1;
		}
		printf("%s\n", url);
		fflush(stdout);
		if ((rc = fabtx_accept(l, &c, 30000)) < 0) return 1;
		n = fabtx_recv(c, buf, sizeof buf, 30000);
		if (n < 0 || fabtx_send(c, buf, (size_t)n, 30000) != n) return 1;
		if (fabtx_recv(c, buf, sizeof buf, 30000) != -ESHUTDOWN) return 1;
		fabtx_conn_close(c, 1000);
		fabtx_listener_close(l);
	} else {
		if ((rc = fabtx_connect(ctx, argv[2], &c, 30000)) < 0) {
			fprintf(stderr, "connect: %s\n", fabtx_strerror(rc));
			return 1;
		}
		if (fabtx_send(c, "out of tree", 11, 30000) != 11) return 1;
		n = fabtx_recv(c, buf, sizeof buf, 30000);
		if (n != 11 || memcmp(buf, "out of tree", 11) != 0) return 1;
#ifdef USE_OFI
		{ /* what the backend chose, to hold fabtx_info's claims against */
			fabtx_ofi_info oi;
			if (fabtx_ofi_conn_info(c, &oi) == 0)
				printf("ofi provider=%s ep=%s domain=%s wait=%s inject=%zu\n",
				       oi.provider, oi.ep_rdm ? "rdm" : "msg", oi.domain,
				       oi.wait_fd ? "fd" : "timer", oi.inject_size);
		}
#endif
		if (fabtx_conn_close(c, 10000) < 0) return 1;
		printf("echo over %s: %.*s\n", fabtx_version() ? argv[2] : "", (int)n, buf);
	}
	fabtx_ctx_destroy(ctx);
	return 0;
}
EOF
# run_pair NAME BINARY LISTEN_URL: the listener tells the URL on its stdout
run_pair() {
	local name=$1 bin=$2 url=$3 out rc
	out=$( { timeout 60 "$bin" listen "$url" 2> "$T/l.err"; echo $? > "$T/l.rc"; } |
		{ read -r u && timeout 60 "$bin" connect "$u"; } 2>&1 )
	rc=$?
	if [ $rc -eq 0 ] && echo "$out" | grep -q "^echo over .*: out of tree$" && [ "$(cat "$T/l.rc")" = 0 ]; then
		ok "$name runs: $(echo "$out" | grep '^echo')"
	else
		ko "$name runs (exit $rc)" "$out" "$(cat "$T/l.err")"
	fi
}
SHM_URL="shm://fxi-$$"
OFI_URL="ofi://127.0.0.1:0?provider=tcp&ep=msg"
CFL="-std=c99 -Wall -Wextra -Werror -pedantic $SANF"

# 1. pkg-config (the DESTDIR staging area as sysroot)
export PKG_CONFIG_PATH=$I/lib/pkgconfig PKG_CONFIG_SYSROOT_DIR=$D
for v in shm ofi; do
	pc=fabtx; def=""; url=$SHM_URL
	[ $v = ofi ] && { pc=fabtx-ofi; def=-DUSE_OFI; url=$OFI_URL; }
	flags=$(pkg-config --cflags --libs $pc 2>&1)
	if echo "$flags" | grep -q -- "-I$I/include/fabtx" && { [ $v = shm ] || echo "$flags" | grep -q -- -lfabric; } &&
		cc $CFL $def -o "$T/pc_$v" "$T/src/prog.c" $flags > "$T/cc.log" 2>&1; then
		ok "pkg-config $pc: cc prog.c \$(pkg-config --cflags --libs $pc) = $flags"
		run_pair "pkg-config $v program" "$T/pc_$v" "$url"
	else
		ko "pkg-config $pc build" "$flags" "$(cat "$T/cc.log")"
	fi
done
unset PKG_CONFIG_PATH PKG_CONFIG_SYSROOT_DIR

# 2. CMake find_package(fabtx CONFIG)
mkdir -p "$T/cm"
cat > "$T/src/CMakeLists.txt" <<'EOF'
cmake_minimum_required(VERSION 3.13)
project(fabtx_consumer C)
find_package(fabtx 0.1 CONFIG REQUIRED COMPONENTS ofi)
add_executable(prog_shm prog.c)
target_link_libraries(prog_shm PRIVATE fabtx::fabtx)
add_executable(prog_ofi prog.c)
target_compile_definitions(prog_ofi PRIVATE USE_OFI)
target_link_libraries(prog_ofi PRIVATE fabtx::ofi)
EOF
if cmake -S "$T/src" -B "$T/cm" -DCMAKE_PREFIX_PATH="$I" -DCMAKE_C_FLAGS="$CFL" \
	-DCMAKE_EXE_LINKER_FLAGS="$SANF" > "$T/cm.log" 2>&1 &&
	cmake --build "$T/cm" >> "$T/cm.log" 2>&1; then
	if grep -rq -- "$I/include/fabtx" "$T/cm/CMakeFiles/prog_ofi.dir/flags.make" &&
		grep -rq -- "libfabric\|-lfabric" "$T/cm/CMakeFiles/prog_ofi.dir/link.txt"; then
		ok "cmake find_package(fabtx CONFIG COMPONENTS ofi): fabtx::fabtx, fabtx::ofi carry -I$P/include/fabtx (in DESTDIR), libfabric"
	else
		ko "cmake targets' include path / libfabric" "$(cat "$T/cm/CMakeFiles/prog_ofi.dir/flags.make" "$T/cm/CMakeFiles/prog_ofi.dir/link.txt")"
	fi
	run_pair "cmake shm program" "$T/cm/prog_shm" "$SHM_URL"
	run_pair "cmake ofi program" "$T/cm/prog_ofi" "$OFI_URL"
else
	ko "cmake configure + build" "$(tail -30 "$T/cm.log")"
fi
# a version fabtx is not: refused
mkdir -p "$T/src/v"
cat > "$T/src/v/CMakeLists.txt" <<'EOF'
cmake_minimum_required(VERSION 3.13)
project(v C)
find_package(fabtx 7.0 CONFIG REQUIRED)
EOF
if cmake -S "$T/src/v" -B "$T/cmv" -DCMAKE_PREFIX_PATH="$I" > "$T/cmv.log" 2>&1; then
	ko "find_package(fabtx 7.0) must fail (installed 0.x)" "$(tail -5 "$T/cmv.log")"
else
	grep -q "fabtxConfigVersion.cmake\|version" "$T/cmv.log" && ok "find_package(fabtx 7.0) refused by fabtxConfigVersion.cmake" ||
		ko "find_package(fabtx 7.0) failed for another reason" "$(tail -5 "$T/cmv.log")"
fi

# 3. vendoring: copy the headers, nothing installed
mkdir -p "$T/vendor"
cp "$top"/fabtx.h "$top"/fabtx_ofi.h "$T/vendor/"
cp "$T/src/prog.c" "$T/vendor/"
if (cd "$T/vendor" && cc $CFL -o prog_shm prog.c -pthread && cc $CFL -DUSE_OFI -o prog_ofi prog.c -pthread -lfabric) > "$T/cc.log" 2>&1; then
	ok "vendored: cc prog.c with fabtx.h (+ fabtx_ofi.h, -lfabric) copied beside it"
	run_pair "vendored shm program" "$T/vendor/prog_shm" "$SHM_URL"
	run_pair "vendored ofi program" "$T/vendor/prog_ofi" "$OFI_URL"
else
	ko "vendored build" "$(cat "$T/cc.log")"
fi

# fabtx_info and the tools' implementation unit compile as C99 (clang) and
# C++11 (g++) too, warning-free
w=""
for t in tools/fabtx_info.c examples/fabtx_impl.c; do
	clang -std=c99 -Wall -Wextra -Werror -pedantic -I"$top" -DFABTX_WITH_OFI -DFABTX_WITH_RIO -DFABTX_WITH_SCIF \
		-fsyntax-only "$top/$t" > "$T/w.log" 2>&1 || w="$w $t(clang c99): $(head -3 "$T/w.log")"
	g++ -x c++ -std=c++11 -Wall -Wextra -Werror -pedantic -I"$top" -DFABTX_WITH_OFI -DFABTX_WITH_RIO -DFABTX_WITH_SCIF \
		-fsyntax-only "$top/$t" > "$T/w.log" 2>&1 || w="$w $t(g++ c++11): $(head -3 "$T/w.log")"
done
[ -z "$w" ] && ok "fabtx_info.c, fabtx_impl.c: clang C99 and g++ C++11 without warnings" || ko "tool sources compile" "$w"

# ---- fabtx_info ------------------------------------------------------------
FI=$I/bin/fabtx_info
ver=$(sed -n 's/^#define FABTX_VERSION_STRING "\(.*\)"/\1/p' "$top/fabtx.h")
out=$("$FI" 2>&1); rc=$?
if [ $rc -eq 0 ] && echo "$out" | grep -q "^fabtx $ver, wire protocol 1\.[0-9]" &&
	echo "$out" | grep -q "^backends: shm ofi rio scif$" && echo "$out" | grep -q "^shm://NAME  usable"; then
	ok "fabtx_info: version $ver, wire version, backends, shm usable, exit 0"
else
	ko "fabtx_info plain (exit $rc)" "$out"
fi
"$FI" -m > "$T/m.txt" 2> "$T/m.err"
# every provider libfabric has (fi_info -l, hooks aside) is listed
if command -v fi_info > /dev/null; then
	missing=""
	for p in $(fi_info -l 2>/dev/null | sed -n 's/^\([a-z0-9_]*\):$/\1/p' | grep -v '^ofi_hook'); do
		awk -F'\t' -v p="$p" '$1 == "ofi_ep" { split($2, a, "="); n = split(a[2], c, ";"); for (i = 1; i <= n; i++) if (c[i] == p) f = 1 } END { exit !f }' "$T/m.txt" || missing="$missing $p"
	done
	[ -z "$missing" ] && ok "fabtx_info lists every provider fi_info -l has" || ko "fabtx_info misses providers:$missing" "$(cat "$T/m.txt")"
else
	sk "fi_info not installed: provider list not cross-checked"
fi
# the verdicts, against real connections: each usable provider/endpoint
# type carries a ping-pong of the installed perf tools; an unusable one
# is refused at once by them
awk -F'\t' '$1 == "ofi_ep" { for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = substr($i, length(kv[1]) + 2) }
	k = v["provider"] "|" v["ep"]; if (!(k in u)) u[k] = 0; if (v["usable"] == 1) u[k] = 1; if (!(k in why) || v["usable"] == 1) why[k] = v["reason"] }
	END { for (k in u) print u[k] "|" k "|" why[k] }' "$T/m.txt" | sort > "$T/verdicts"
nu=$(grep -c '^1' "$T/verdicts"); nn=$(grep -c '^0' "$T/verdicts")
[ "$nu" -gt 0 ] && ok "fabtx_info -m: $nu usable provider/endpoint types, $nn not" || ko "fabtx_info -m found nothing usable" "$(cat "$T/m.txt" "$T/m.err")"
printf 'leak:fi_endpoint\nleak:fi_ep_bind\nleak:fi_writemsg\nleak:fi_inject_write\nleak:fi_cq_read\n' > "$T/lsan.supp"
while IFS='|' read -r u prov ep why; do
	q=$(echo "$prov" | sed 's/;/+/g')
	if [ "$u" = 1 ]; then
		# under ASan: the net provider's own leaks (docs/ofi.md, as in
		# test/ofi_netns.sh, plus one in fi_ep_bind on its msg endpoints),
		# with full unwinding so the names match
		sanenv=""
		case "$prov" in *net*) sanenv="LSAN_OPTIONS=suppressions=$T/lsan.supp ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}fast_unwind_on_malloc=0" ;; esac
		"$FI" -p "$q" -e "$ep" > /dev/null 2>&1; irc=$?
		[ $irc -eq 0 ] || ko "fabtx_info -p $q -e $ep exits $irc for a usable one"
		# the installed perf tools, on the two providers the ofi suite uses
		if [ "$prov|$ep" = "tcp|msg" ] || [ "$prov|$ep" = "shm|rdm" ] || [ ! -x "$T/pc_ofi" ]; then
			port=$((port + 1))
			url="ofi://127.0.0.1:$port?provider=$q&ep=$ep"
			env $sanenv timeout 60 "$I/bin/fabtx_local_lat" "$url" 64 100 > "$T/ll" 2>&1 & lp=$!
			ro=$(env $sanenv timeout 60 "$I/bin/fabtx_remote_lat" "$url" 64 100 2>&1); rr=$?
			wait $lp; lr=$?
			if [ $rr -eq 0 ] && [ $lr -eq 0 ] && echo "$ro" | grep -q "average latency"; then
				ok "installed perf tools over $prov $ep: $(echo "$ro" | grep latency)"
			else
				ko "installed perf tools over $prov $ep (remote $rr, local $lr)" "$ro" "$(cat "$T/ll")"
			fi
		fi
		# a connection carries a message both ways and closes cleanly, and
		# the wakeup method and inject size fabtx_info claims are those the
		# backend has on it (fabtx_ofi_conn_info), for the same domain
		if [ -x "$T/pc_ofi" ]; then
			co=$( { env $sanenv timeout 60 "$T/pc_ofi" listen "ofi://127.0.0.1:0?provider=$q&ep=$ep" 2> "$T/l.err"; echo $? > "$T/l.rc"; } |
				{ read -r u2 && env $sanenv timeout 60 "$T/pc_ofi" connect "$u2"; } 2>&1 )
			crc=$?
			got=$(echo "$co" | sed -n 's/^ofi provider=\([^ ]*\) ep=\([^ ]*\) domain=\([^ ]*\) wait=\([^ ]*\) inject=\([0-9]*\)$/\1|\2|\3|\4|\5/p')
			dom=$(echo "$got" | cut -d'|' -f3)
			said=$(awk -F'\t' -v p="$prov" -v e="$ep" -v d="$dom" '$1 == "ofi_ep" && $2 == "provider=" p && $3 == "ep=" e && $5 == "domain=" d && $6 == "usable=1" {
				sub(/^wait=/, "", $8); sub(/^inject=/, "", $9); print p "|" e "|" d "|" $8 "|" $9; exit }' "$T/m.txt")
			if [ $crc -eq 0 ] && [ "$(cat "$T/l.rc")" = 0 ] && echo "$co" | grep -q ": out of tree$" && [ -n "$got" ] && [ "$got" = "$said" ]; then
				ok "verdict usable: $prov $ep carries fabtx; on $dom wait $(echo "$got" | cut -d'|' -f4), inject $(echo "$got" | cut -d'|' -f5) as fabtx_info says"
			else
				ko "verdict usable: $prov $ep (connect exit $crc): fabtx_info '$said', connection '$got'" "$co" "$(cat "$T/l.err")"
			fi
		fi
	else
		# every entry of it unusable: the tools must refuse it at once
		url="ofi://127.0.0.1:$((port + 1))?provider=$q${ep:+&ep=$ep}"
		[ "$ep" = dgram ] && url="ofi://127.0.0.1:$((port + 1))?provider=$q"
		if awk -F'|' -v p="$prov" '$1 == 1 && $2 == p { f = 1 } END { exit !f }' "$T/verdicts"; then
			ok "verdict: $prov $ep not usable ($why), its other endpoint type is"
			continue
		fi
		ro=$(timeout 15 "$I/bin/fabtx_remote_lat" "$url" 64 10 2>&1); rr=$?
		"$FI" -p "$q" > /dev/null 2>&1; irc=$?
		if [ $rr -eq 1 ] && echo "$ro" | grep -q "fi_getinfo found: " && [ $irc -eq 1 ]; then
			ok "verdict not usable: $prov ${ep:--} ($why): remote_lat refuses at once naming what was found, fabtx_info -p exits 1"
		else
			ko "verdict not usable: $prov $ep (remote_lat exit $rr, fabtx_info -p $irc)" "$ro"
		fi
	fi
done < "$T/verdicts"
# what does not exist, and the environment a program would see
o=$("$FI" -p nosuchprov 2>&1); rc=$?
[ $rc -eq 1 ] && echo "$o" | grep -q "no provider 'nosuchprov'.*(found: .*tcp" && ok "fabtx_info -p nosuchprov: exit 1 naming what was found" || ko "fabtx_info -p nosuchprov (exit $rc)" "$o"
o=$("$FI" -v -p tcp -e msg 2>&1); rc=$?
[ $rc -eq 0 ] && echo "$o" | grep -q "^    tcp  *msg  *127.0.0.1/32  *lo  *yes$" && echo "$o" | grep -q "^        wait fd, inject [0-9]* B," &&
	! echo "$o" | grep -q "rdm" && ok "fabtx_info -v -p tcp -e msg: each fabric/domain entry with its attributes" || ko "fabtx_info -v -p tcp -e msg (exit $rc)" "$o"
o=$("$FI" -b nope 2>&1); rc=$?
[ $rc -eq 1 ] && echo "$o" | grep -q "no backend 'nope' in this build (compiled in: shm ofi rio scif)" && ok "fabtx_info -b nope: exit 1 naming the backends" || ko "fabtx_info -b nope (exit $rc)" "$o"
o=$(FABTX_CELL_COUNT=1024 FABTX_CELL_SIZE=4096 "$FI" -m -b shm 2>&1); rc=$?
[ $rc -eq 0 ] && echo "$o" | grep -q "^shm	usable=1	cell_size=4096	cell_count=1024	window=4194368	" && ok "fabtx_info -b shm follows FABTX_CELL_SIZE/COUNT" || ko "fabtx_info -b shm env (exit $rc)" "$o"
o=$(FABTX_CELL_COUNT=3 "$FI" 2>&1); rc=$?
[ $rc -eq 1 ] && echo "$o" | grep -q "FABTX_CELL_COUNT" && ok "fabtx_info with FABTX_CELL_COUNT=3: exit 1 naming the variable" || ko "fabtx_info bad env (exit $rc)" "$o"
# rio and scif: none here; on the emulators, the mport and the nodes
o=$("$FI" -b rio 2>&1); rc=$?
if [ -e /dev/rio_mport0 ]; then sk "real /dev/rio_mport0 here: not checking its absence"
else [ $rc -eq 1 ] && echo "$o" | grep -q "no /dev/rio_mport0..7" && ok "fabtx_info -b rio: none here, exit 1" || ko "fabtx_info -b rio (exit $rc)" "$o"; fi
pre=""
if nm -u "$B/fabtx_info" 2>/dev/null | grep -q __asan_init; then
	pre="$(${CC:-cc} -print-file-name=libasan.so) "
	[ -f "$pre" ] || pre=""
fi
if [ -f "$B/librioemu.so" ]; then
	o=$(ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0" FABTX_RIOEMU_FABRIC=fxi$$ FABTX_RIOEMU_DESTID=7 \
		LD_PRELOAD="$pre$B/librioemu.so" "$FI" -b rio 2>&1); rc=$?
	rm -f /dev/shm/fabtx-rioemu-fxi$$.* 2>/dev/null
	[ $rc -eq 0 ] && echo "$o" | grep -q "mport=0  usable" && echo "$o" | grep -q "destID 7" &&
		ok "fabtx_info -b rio on the emulator: mport 0 usable, destID 7" || ko "fabtx_info -b rio on rioemu (exit $rc)" "$o"
else sk "no librioemu.so"; fi
if [ -f "$B/libscifemu.so" ]; then
	o=$(ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0" FABTX_SCIFEMU_FABRIC=fxi$$ FABTX_SCIFEMU_NODE=2 FABTX_SCIFEMU_NODES=3 \
		LD_PRELOAD="$pre$B/libscifemu.so" "$FI" -b scif 2>&1); rc=$?
	rm -f /dev/shm/fabtx-scifemu-fxi$$ 2>/dev/null
	[ $rc -eq 0 ] && echo "$o" | grep -q "usable: this is node 2, 3 nodes online: 0 (host) 1 2 (self)" &&
		ok "fabtx_info -b scif on the emulator: node 2 of 3" || ko "fabtx_info -b scif on scifemu (exit $rc)" "$o"
else sk "no libscifemu.so"; fi

# ---- the CLI tools: local errors at once, the wait announced once ---------
RL=$I/bin/fabtx_remote_lat
o=$(timeout 15 "$RL" 'ofi://127.0.0.1:5555?provider=nosuchprov' 64 10 2>&1); rc=$?
[ $rc -eq 1 ] && echo "$o" | grep -q "provider=nosuchprov.*fi_getinfo found: .*tcp" &&
	ok "remote_lat provider=nosuchprov: exit 1 at once, names what fi_getinfo found" || ko "remote_lat nosuchprov (exit $rc)" "$o"
o=$(timeout 15 "$RL" 'ofi://127.0.0.1:5555?provider=udp&ep=msg' 64 10 2>&1); rc=$?
[ $rc -eq 1 ] && echo "$o" | grep -q "provider 'udp' cannot carry fabtx" &&
	ok "remote_lat provider=udp (no RMA): exit 1 at once" || ko "remote_lat udp (exit $rc)" "$o"
o=$(timeout 15 "$RL" 'nope://x' 64 10 2>&1); rc=$?
[ $rc -eq 1 ] && echo "$o" | grep -q "no backend for 'nope://' in this build (it has shm:// ofi:// rio:// scif://)" &&
	ok "remote_lat nope://: exit 1 naming the schemes it has" || ko "remote_lat nope:// (exit $rc)" "$o"
o=$(timeout 15 "$I/bin/fabtx_local_thr" 'rio://*:5' 64 10 2>&1); rc=$?
if [ -e /dev/rio_mport0 ]; then sk "real rio device here"
else [ $rc -eq 1 ] && echo "$o" | grep -q "found: none" && ok "local_thr rio:// without devices: exit 1 saying none was found" || ko "local_thr rio:// (exit $rc)" "$o"; fi
# remote first: it says once that it waits, then the listener comes
url="shm://fxi-wait-$$"
timeout 60 "$RL" "$url" 64 100 > "$T/w.out" 2> "$T/w.err" & rp=$!
for _ in $(seq 500); do grep -q "waiting for a listener" "$T/w.err" && break; sleep 0.01; done
timeout 60 "$I/bin/fabtx_local_lat" "$url" 64 100 > /dev/null 2>&1; lr=$?
wait $rp; rr=$?
n=$(grep -c "waiting for a listener at $url" "$T/w.err")
[ $rr -eq 0 ] && [ $lr -eq 0 ] && [ "$n" = 1 ] && grep -q "average latency" "$T/w.out" &&
	ok "remote_lat before its listener: says so once on stderr, then runs" || ko "remote_lat waiting (remote $rr, local $lr, lines $n)" "$(cat "$T/w.err" "$T/w.out")"

# ---- man pages ----------------------------------------------------------------
# man -l renders each page (its formatter's messages kept: MAN_KEEP_STDERR),
# and groff, the formatter man -l runs, finds nothing to warn about with
# every warning on (man-db does not pass the formatter's stderr on
# reliably when its output is not a terminal, so that check is groff's)
manw() { MAN_KEEP_STDERR=1 LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings=all -l "$1"; }
groffw() { groff -man -Tutf8 -ww -z "$1"; }
printf '.TH X 1\n.SH NAME\nx \\- y\n.XX z\n' > "$T/bad.1"
w=$(groffw "$T/bad.1" 2>&1)
echo "$w" | grep -q "warning: macro 'XX' not defined" && ok "groff -ww reports a page's troff warnings here (control: an unknown macro)" ||
	ko "groff -ww does not report an unknown macro" "$w"
for p in man7/fabtx.7 man1/fabtx_info.1; do
	w=$(manw "$I/share/man/$p" 2>&1 > "$T/man.txt"); rc=$?
	w="$w$(groffw "$I/share/man/$p" 2>&1)"
	if [ $rc -eq 0 ] && [ -z "$w" ] && [ "$(wc -l < "$T/man.txt")" -gt 40 ]; then
		ok "man -l $p renders ($(wc -l < "$T/man.txt") lines), no warnings (groff -ww)"
	else
		ko "man -l $p (exit $rc)" "$w"
	fi
done
o=$(MANWIDTH=200 man -l "$I/share/man/man7/fabtx.7" 2>/dev/null)
echo "$o" | grep -q "^       FABTX_OFI_PROVIDER" && echo "$o" | grep -q "^       FABTX_RIO_MPORT" && echo "$o" | grep -q "^       -ESHUTDOWN" &&
	echo "$o" | grep -q "fabtx $ver" && ok "fabtx(7) has backend variables, return codes, version $ver" || ko "fabtx(7) content" "$o"
# the generator refuses a source that forgot a variable the code reads
sed '/^\.B FABTX_OFI_TIMER_US$/d' "$top/man/fabtx.man" > "$T/bad.man"
o=$(sh "$top/scripts/man.sh" "$T/bad.man" "$T/badman" 2>&1); rc=$?
[ $rc -eq 1 ] && echo "$o" | grep -q "FABTX_OFI_TIMER_US is read by the code but not documented" && [ ! -e "$T/badman" ] &&
	ok "scripts/man.sh fails on a source missing FABTX_OFI_TIMER_US" || ko "man.sh check (exit $rc)" "$o"

# another PREFIX: the pkg-config and CMake files follow it
make -s --no-print-directory -C "$top" install DESTDIR="$T/d2" PREFIX=/opt/fx B="$B" > "$T/inst2.log" 2>&1
if grep -q "^prefix=/opt/fx$" "$T/d2/opt/fx/lib/pkgconfig/fabtx.pc" 2>/dev/null &&
	grep -q "^includedir=/opt/fx/include/fabtx$" "$T/d2/opt/fx/lib/pkgconfig/fabtx-ofi.pc" &&
	[ -f "$T/d2/opt/fx/include/fabtx/fabtx.h" ] && [ -x "$T/d2/opt/fx/bin/fabtx_info" ]; then
	ok "make install PREFIX=/opt/fx after /usr/local: files and .pc follow the new prefix"
else
	ko "install with a second PREFIX" "$(cat "$T/inst2.log")" "$(cat "$T/d2/opt/fx/lib/pkgconfig/fabtx.pc" 2>&1)"
fi
make -s --no-print-directory -C "$top" install DESTDIR="$D" PREFIX=$P B="$B" > /dev/null 2>&1 # back, for uninstall

# ---- make uninstall ----------------------------------------------------------
make -s --no-print-directory -C "$top" uninstall DESTDIR="$D" PREFIX=$P B="$B" > "$T/un.log" 2>&1
left=$(find "$D" -type f)
[ -z "$left" ] && ok "make uninstall removes every installed file" || ko "make uninstall left files" "$left" "$(cat "$T/un.log")"

echo "$pass passed, $fail failed, $skip skipped"
[ $fail -eq 0 ]
