#!/bin/sh
# ofi_netns.sh BUILD_DIR -- fabtx over ofi:// between two network namespaces
# joined by a veth pair (10.231.77.1 <-> 10.231.77.2), so the traffic crosses
# a real interface: tcp (msg), tcp;ofi_rxm (rdm), net (rdm).  Needs root and
# iproute2; otherwise a clear skip (exit 77).  The namespaces are removed
# afterwards, also on failure.  FXO_NETNS_PROVS="net:rdm" picks providers.
B=${1:-build}
PEER="$B/test_ofi_peer"
[ -x "$PEER" ] || { echo "FAIL: $PEER not built"; echo "0 passed, 1 failed, 0 skipped"; exit 1; }
skip() { echo "SKIP netns: $*"; echo "0 passed, 0 failed, 1 skipped"; exit 77; }
[ "$(id -u)" = 0 ] || skip "not root"
command -v ip >/dev/null 2>&1 || skip "iproute2 (ip) missing"
# Under ASan: the net provider leaks inside fi_endpoint, fi_writemsg,
# fi_inject_write(data) and fi_cq_read
# (libfabric 1.17 internals, allocations made by the provider itself)
SUPP=$(mktemp)
printf 'leak:fi_endpoint\nleak:fi_writemsg\nleak:fi_inject_write\nleak:fi_cq_read\n' > "$SUPP"
export LSAN_OPTIONS="suppressions=$SUPP${LSAN_OPTIONS:+:$LSAN_OPTIONS}"
# (libfabric has no frame pointers: full unwinding so the names match)
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}fast_unwind_on_malloc=0"
A=fxofi_a_$$
Z=fxofi_b_$$
cleanup() {
	rm -f "$SUPP"
	[ -n "$SRV" ] && kill "$SRV" 2>/dev/null
	ip netns del "$A" 2>/dev/null
	ip netns del "$Z" 2>/dev/null
}
trap cleanup EXIT INT TERM
ip netns add "$A" 2>/dev/null || skip "cannot create network namespaces"
ip netns add "$Z" || skip "cannot create network namespaces"
# created inside A (the root namespace is never touched)
ip -n "$A" link add fxo_a type veth peer name fxo_b netns "$Z" ||
	skip "cannot create a veth pair"
ip -n "$A" addr add 10.231.77.1/24 dev fxo_a
ip -n "$Z" addr add 10.231.77.2/24 dev fxo_b
ip -n "$A" link set lo up; ip -n "$A" link set fxo_a up
ip -n "$Z" link set lo up; ip -n "$Z" link set fxo_b up

pass=0; fail=0; port=47700
for pe in ${FXO_NETNS_PROVS:-tcp:msg tcp+ofi_rxm:rdm net:rdm}; do
	set -- $(echo "$pe" | tr ':' ' ')
	port=$((port + 1))
	url="ofi://10.231.77.1:$port?provider=$1&ep=$2"
	echo "== $url (server in $A, client in $Z over veth)"
	ip netns exec "$A" timeout 60 "$PEER" server "$url" > "/tmp/fxo_srv_$$.log" 2>&1 &
	SRV=$!
	out=$(ip netns exec "$Z" timeout 60 "$PEER" client "$url" 2>&1)
	crc=$?
	wait "$SRV"; src=$?; SRV=
	echo "$out"
	cat "/tmp/fxo_srv_$$.log"; rm -f "/tmp/fxo_srv_$$.log"
	if [ $crc -eq 0 ] && [ $src -eq 0 ] && echo "$out" | grep -q "^0 failed\|, 0 failed"; then
		echo "PASS netns_$1_$2"; pass=$((pass + 1))
	else
		echo "FAIL netns_$1_$2 (client $crc, server $src)"; fail=$((fail + 1))
	fi
done
# traffic really crossed the veth
rx=$(ip -n "$A" -s link show fxo_a | awk '/RX:/{getline; print $1; exit}')
echo "veth fxo_a received $rx bytes"
if [ "${rx:-0}" -gt 16000000 ]; then pass=$((pass + 1)); echo "PASS veth_carried_the_data"
else fail=$((fail + 1)); echo "FAIL veth_carried_the_data"; fi
echo "$pass passed, $fail failed, 0 skipped"
[ $fail -eq 0 ]
