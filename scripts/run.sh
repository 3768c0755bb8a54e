#!/usr/bin/env bash
# run.sh BUILD_DIR: `make run`. Start a single-node system in the foreground (daos_server with
# its embedded configuration: one engine, 2 targets, everything on loopback), make sure it has
# a pool called pool0, print what to type next, and stop it cleanly on Ctrl-C. The data stay
# in $DAOS_RUN_DIR (default ~/.daos-lite), so the next `make run` finds them again.
#
# Environment: DAOS_RUN_DIR (data directory), DAOS_SERVER_PORT (management port, default
# 10001), DAOS_FABRIC_PORT, DAOS_POOL_SIZE (size of pool0 when created, default 1G).
set -u

BUILD=${1:-build}
SERVER=$BUILD/src/engine/daos_server
DMG=$BUILD/src/tools/dmg/dmg
DIR=${DAOS_RUN_DIR:-$HOME/.daos-lite}
PORT=${DAOS_SERVER_PORT:-10001}
SIZE=${DAOS_POOL_SIZE:-1G}
ADDR=127.0.0.1:$PORT
for b in "$SERVER" "$DMG"; do
	[ -x "$b" ] || { echo "run: $b is missing: build first (make)"; exit 1; }
done
mkdir -p "$DIR" || exit 1
export DAOS_SERVER_PORT=$PORT

"$SERVER" start --data-dir "$DIR" 2>"$DIR/daos_server.log" &
PID=$!
# stop [RC]: stop the server (SIGTERM), wait for it, exit RC (default 0).
stop() {
	trap - INT TERM
	echo
	echo "stopping daos_server (pid $PID)..."
	kill -TERM "$PID" 2>/dev/null
	wait "$PID"
	echo "stopped; the data stay in $DIR"
	exit "${1:-0}"
}
trap 'stop 0' INT TERM

dmg() {
	"$DMG" -i -l "$ADDR" "$@"
}

# wait until the management service answers and lists this engine as joined (pool create
# needs a joined rank; the service can answer a moment before the join)
joined() {
	dmg system query 2>/dev/null | grep -q Joined
}
for i in $(seq 150); do
	if ! kill -0 "$PID" 2>/dev/null; then
		echo "run: daos_server exited; its log:"
		tail -20 "$DIR/daos_server.log"
		exit 1
	fi
	joined && break
	sleep 0.2
done
if ! joined; then
	echo "run: the management service does not list this engine as joined on $ADDR"
	stop 1
fi
if dmg pool list 2>/dev/null | grep -q '^pool0 '; then
	echo "pool0 found (from an earlier run)"
elif ! dmg pool create --size "$SIZE" --label pool0; then
	echo "run: pool create failed"
	stop 1
fi

cat <<MSG

daos-lite is running: one engine, 2 targets, management port $ADDR, data in $DIR
(log: $DIR/daos_server.log). In another terminal, try:

  $DMG -i -l $ADDR system query
  $DMG -i -l $ADDR pool query pool0
  $DMG -i -l $ADDR pool list

The daos CLI and a mounted POSIX container come with the next issues (docs/STATUS.md).
Ctrl-C stops the system cleanly; \`make run\` again finds the same data.
MSG
wait "$PID"
echo "daos_server exited"
