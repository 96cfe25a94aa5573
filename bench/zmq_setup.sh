#!/bin/sh
# bench/zmq_setup.sh [BIN] -- libzmq connection setup latency per transport:
# zmq_connect -> ZMQ_EVENT_CONNECTED and -> ZMQ_EVENT_HANDSHAKE_SUCCEEDED on
# the connecting side, bound PULL in another process (examples/zmq/setup_lat.c,
# built by `make bench-zmq-setup`).  Env: ROUNDS (default 200),
# ZS_TRANSPORTS (default "tcp ipc shm ofi-tcp ofi-shm").
bin=${1:-build/zmq_setup_lat}
ROUNDS=${ROUNDS:-200}
port=$((20000 + $$ % 5000))
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for t in ${ZS_TRANSPORTS:-tcp ipc shm ofi-tcp ofi-shm}; do
	port=$((port + 1))
	case $t in
	tcp) b="tcp://127.0.0.1:$port" ;;
	ipc) b="ipc://$tmp/s$port" ;;
	shm) b="shm://zs$$-$port" ;;
	ofi-tcp) b="ofi://127.0.0.1:$port?provider=tcp" ;;
	ofi-shm) b="ofi://127.0.0.1:$port?provider=shm&ep=rdm" ;;
	*) echo "unknown transport $t"; continue ;;
	esac
	echo "== $t"
	timeout 120 "$bin" "$b" "$b" "$ROUNDS" 20 | tail -n 2
done
