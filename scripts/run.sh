#!/usr/bin/env bash
# run.sh BUILD_DIR: `make run`. Start a single-node system in the foreground (daos_server with
# its embedded configuration: one engine, 2 targets, everything on loopback) and a daos_agent
# for its clients, make sure it has a pool called pool0 holding a POSIX container cont0, mount
# cont0 with dfuse where FUSE works, print what to type next, and stop it all cleanly on Ctrl-C.
# The data stay in $DAOS_RUN_DIR (default ~/.daos-lite), so the next `make run` finds them.
#
# Environment: DAOS_RUN_DIR (data directory), DAOS_SERVER_PORT (management port, default
# 10001), DAOS_FABRIC_PORT, DAOS_POOL_SIZE (size of pool0 when created, default 1G),
# DAOS_AGENT_DRPC_DIR (the agent's socket directory, default $DAOS_RUN_DIR/run),
# DAOS_MOUNT (where cont0 is mounted, default $DAOS_RUN_DIR/mnt; "none": not mounted).
set -u

BUILD=${1:-build}
SERVER=$BUILD/src/engine/daos_server
DMG=$BUILD/src/tools/dmg/dmg
AGENT=$BUILD/src/agent/daos_agent
DAOS=$BUILD/src/tools/daos/daos
DFUSE=$BUILD/src/client/dfuse/dfuse
DIR=${DAOS_RUN_DIR:-$HOME/.daos-lite}
PORT=${DAOS_SERVER_PORT:-10001}
SIZE=${DAOS_POOL_SIZE:-1G}
ADDR=127.0.0.1:$PORT
RUNDIR=${DAOS_AGENT_DRPC_DIR:-$DIR/run}
MNT=${DAOS_MOUNT:-$DIR/mnt}
for b in "$SERVER" "$DMG" "$AGENT" "$DAOS" "$DFUSE"; do
	[ -x "$b" ] || { echo "run: $b is missing: build first (make)"; exit 1; }
done
mkdir -p "$DIR" "$RUNDIR" || exit 1
export DAOS_SERVER_PORT=$PORT DAOS_AGENT_DRPC_DIR=$RUNDIR
AGENT_PID=
DFUSE_PID=

"$SERVER" start --data-dir "$DIR" 2>"$DIR/daos_server.log" &
PID=$!
# stop [RC]: stop the server (SIGTERM), wait for it, exit RC (default 0).
stop() {
	trap - INT TERM
	echo
	if [ -n "$DFUSE_PID" ]; then
		echo "unmounting $MNT..."
		fusermount3 -u "$MNT" 2>/dev/null
		kill -TERM "$DFUSE_PID" 2>/dev/null
		wait "$DFUSE_PID"
	fi
	if [ -n "$AGENT_PID" ]; then
		kill -TERM "$AGENT_PID" 2>/dev/null
		wait "$AGENT_PID"
	fi
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
if ! kill -0 "$PID" 2>/dev/null; then
	# the answers came from another daos_server on this port (DAOS_SERVER_PORT)
	echo "run: daos_server exited (another server answers on $ADDR?); its log:"
	tail -20 "$DIR/daos_server.log"
	exit 1
fi
if dmg pool list 2>/dev/null | grep -q '^pool0 '; then
	echo "pool0 found (from an earlier run)"
elif ! dmg pool create --size "$SIZE" --label pool0; then
	echo "run: pool create failed"
	stop 1
fi

# the agent: clients (daos, dfuse, applications) get their credentials and the system's
# attach info from it, through the socket in $RUNDIR
cat >"$DIR/daos_agent.yml" <<CFG
name: daos_server
access_points: ['$ADDR']
port: $PORT
runtime_dir: $RUNDIR
log_file: $DIR/daos_agent.log
transport_config:
  allow_insecure: true
CFG
# the agent appends to its log: what this run adds starts after line LOG_AT
LOG_AT=0
[ -f "$DIR/daos_agent.log" ] && LOG_AT=$(wc -l <"$DIR/daos_agent.log")
"$AGENT" -o "$DIR/daos_agent.yml" -i >"$DIR/daos_agent.out" 2>&1 &
AGENT_PID=$!
# Wait for its banner or its exit (the agent starts in milliseconds; a loaded machine can
# stretch that to seconds, hence the minute).
for i in $(seq 600); do
	grep -q "^daos_agent started" "$DIR/daos_agent.out" && break
	kill -0 "$AGENT_PID" 2>/dev/null || break
	sleep 0.1
done
if ! grep -q "^daos_agent started" "$DIR/daos_agent.out"; then
	if kill -0 "$AGENT_PID" 2>/dev/null; then
		echo "run: daos_agent (pid $AGENT_PID) did not start within a minute; stopping it"
		kill -TERM "$AGENT_PID" 2>/dev/null
		wait "$AGENT_PID"
	else
		wait "$AGENT_PID"
		rc=$?
		if [ "$rc" -gt 128 ]; then
			echo "run: daos_agent did not start: killed by signal $((rc - 128))" \
				"($(kill -l $((rc - 128)) 2>/dev/null))"
		else
			echo "run: daos_agent did not start: exit status $rc"
		fi
	fi
	echo "its output ($DIR/daos_agent.out):"
	tail -5 "$DIR/daos_agent.out"
	echo "its log ($DIR/daos_agent.log, this run):"
	tail -n +$((LOG_AT + 1)) "$DIR/daos_agent.log" 2>/dev/null | tail -10
	AGENT_PID=
	stop 1
fi

if "$DAOS" container query pool0 cont0 >/dev/null 2>&1; then
	echo "cont0 found (from an earlier run)"
elif ! "$DAOS" container create pool0 cont0 --type POSIX; then
	echo "run: container create failed"
	stop 1
fi

# mount cont0 where FUSE works (a container without /dev/fuse, or DAOS_MOUNT=none: skip)
MOUNTED=
if [ "$MNT" != none ] && [ -c /dev/fuse ] && command -v fusermount3 >/dev/null; then
	mkdir -p "$MNT"
	mountpoint -q "$MNT" && fusermount3 -u "$MNT" 2>/dev/null # left by a killed run
	"$DFUSE" -m "$MNT" --pool pool0 --cont cont0 --foreground >"$DIR/dfuse.log" 2>&1 &
	DFUSE_PID=$!
	for i in $(seq 100); do
		mountpoint -q "$MNT" && break
		kill -0 "$DFUSE_PID" 2>/dev/null || break
		sleep 0.1
	done
	if mountpoint -q "$MNT"; then
		MOUNTED=1
	else
		echo "run: dfuse did not mount $MNT (log: $DIR/dfuse.log); going on without it"
		kill -TERM "$DFUSE_PID" 2>/dev/null
		wait "$DFUSE_PID" 2>/dev/null
		DFUSE_PID=
	fi
fi
if [ -n "$MOUNTED" ]; then
	MOUNT_MSG="cont0 (POSIX) is mounted on $MNT: use it as any directory (ls, cp, tar...)."
else
	MOUNT_MSG="cont0 (POSIX) is not mounted (no usable FUSE here, or DAOS_MOUNT=none)."
fi

cat <<MSG

daos-lite is running: one engine, 2 targets, management port $ADDR, data in $DIR
(logs: $DIR/daos_server.log, daos_agent.log, dfuse.log).
$MOUNT_MSG
In another terminal, try:

  export DAOS_AGENT_DRPC_DIR=$RUNDIR
  $DAOS pool query pool0
  $DAOS container list pool0
  $DAOS container query pool0 cont0
  $DMG -i -l $ADDR system query
  $DMG -i -l $ADDR pool list

Ctrl-C stops the system cleanly; \`make run\` again finds the same data.
MSG
wait "$PID"
echo "daos_server exited"
