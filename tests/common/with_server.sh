#!/usr/bin/env bash
# with_server.sh DAOS_SERVER DAOS_CTL_PING TEST [ARGS...]: run the libdaos system test TEST
# as "TEST MGMT_ADDR ARGS..." against a fresh daos_server with 4 targets in a temp dir
# (insecure credentials accepted) and a daos_agent attached to it (DAOS_AGENT_DRPC_DIR
# exported), so that TEST makes its pool and containers through the management service
# (tests/common/sys_pool.h). The agent is DAOS_AGENT (default: the daos_agent of
# DAOS_SERVER's build tree, ../agent/daos_agent beside src/engine/daos_server). Both are
# killed by the EXIT trap whatever happens; exit 0 when TEST passed and the server stopped
# cleanly on SIGTERM. WITH_SERVER_DIR (default /tmp) is where the temp dir goes (/dev/shm:
# the server's data on tmpfs, for benchmarks).
set -u

BIN=${1:?usage: $0 daos_server daos_ctl_ping test [args...]}
CTL_PING=${2:?}
TEST=${3:?}
shift 3
NAME=$(basename "$TEST")
AGENT=${DAOS_AGENT:-$(dirname "$BIN")/../agent/daos_agent}
[ -x "$AGENT" ] || { echo "FAIL: no daos_agent at $AGENT (set DAOS_AGENT)"; exit 1; }

. "$(dirname "$0")/san_scan.sh"
TMP=$(mktemp -d "${WITH_SERVER_DIR:-/tmp}/with_server.XXXXXX")
SRV_PID=
AGENT_PID=
FAB_PORT=
# 20000-27999, 8 ports per pid slot: the management port, the fabric ports (system context
# and 4 targets) and the raft port (management port + 7) of one server fit in a slot, so
# tests started close together (neighbouring pids) never share a port. A slot can still be
# taken: by another test of the suite whose pid is the same modulo 1000, or by another
# worktree's run on the machine. One whose management port answers before the start, or
# where our server exits at once because it cannot listen, is left for slot +7 (4 slots at
# most), as t_ports and srv3_launch do (tests/lib/server.sh).
cleanup() {
	local san=0
	if [ -n "$AGENT_PID" ]; then
		kill -9 "$AGENT_PID" 2>/dev/null
		wait "$AGENT_PID" 2>/dev/null
	fi
	if [ -n "$SRV_PID" ]; then
		kill -9 "$SRV_PID" 2>/dev/null
		wait "$SRV_PID" 2>/dev/null
	fi
	# a server with DAOS_SHM=1 killed before its clean stop leaves its shm regions
	[ -z "$FAB_PORT" ] || for i in 0 1 2 3 4; do rm -f "/dev/shm/127.0.0.1:$((FAB_PORT + i))"; done
	san_scan "$TMP" || san=1
	rm -rf "$TMP"
	[ "$san" = 0 ] || exit 1
}
trap cleanup EXIT INT TERM

for try in 0 1 2 3; do
	PORT=$((20000 + (($$ + try * 7) % 1000) * 8))
	FAB_PORT=$((PORT + 1))
	ADDR=127.0.0.1:$PORT
	if (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then
		echo "with_server: $ADDR answers already (another run's server): next slot"
		continue
	fi
	rm -rf "$TMP/data" "$TMP/scm" "$TMP/bdev0"
	cat >"$TMP/daos_server.yml" <<CFG
name: systest
auto_format: true
port: $PORT
access_points: ['127.0.0.1:$PORT']
provider: ofi+tcp;ofi_rxm
transport_config:
  allow_insecure: true
engines:
  - targets: 4
    fabric_iface: lo
    fabric_iface_port: $FAB_PORT
    storage:
      - class: ram
        scm_mount: $TMP/scm
        scm_size: 2GiB
      - class: file
        bdev_list: [$TMP/bdev0]
        bdev_size: 8GiB
CFG
	"$BIN" start -o "$TMP/daos_server.yml" --data-dir "$TMP/data" >"$TMP/srv.out" \
		2>"$TMP/srv.err" &
	SRV_PID=$!
	if "$CTL_PING" -w 15 "$ADDR" >"$TMP/ping" 2>&1 && kill -0 "$SRV_PID" 2>/dev/null; then
		break
	fi
	if ! kill -0 "$SRV_PID" 2>/dev/null && grep -q "cannot listen" "$TMP/srv.err"; then
		wait "$SRV_PID"
		SRV_PID=
		echo "with_server: our server cannot listen at $ADDR (a port taken): next slot"
		sed 's/^/    /' "$TMP/srv.err"
		continue
	fi
	echo "FAIL: the server does not answer: $(cat "$TMP/ping")"
	sed 's/^/    /' "$TMP/srv.err"
	exit 1
done
[ -n "$SRV_PID" ] || { echo "FAIL: no free slot for the server (4 tried)"; exit 1; }

mkdir -p "$TMP/run"
cat >"$TMP/daos_agent.yml" <<CFG
name: systest
access_points: ['127.0.0.1:$PORT']
port: $PORT
runtime_dir: $TMP/run
log_file: $TMP/agent.log
transport_config:
  allow_insecure: true
CFG
"$AGENT" -o "$TMP/daos_agent.yml" -i >"$TMP/agent.out" 2>"$TMP/agent.err" &
AGENT_PID=$!
for i in $(seq 200); do
	grep -q "^daos_agent started" "$TMP/agent.out" 2>/dev/null && break
	kill -0 "$AGENT_PID" 2>/dev/null || break
	sleep 0.05
done
if ! grep -q "^daos_agent started" "$TMP/agent.out" 2>/dev/null; then
	echo "FAIL: the agent did not start"
	sed 's/^/    /' "$TMP/agent.err"
	exit 1
fi
export DAOS_AGENT_DRPC_DIR="$TMP/run"

# DAOS_PERF_DATA_DIR: the directory holding the server's data, for daos_perf's disk probe
DAOS_PERF_SERVER_PID=$SRV_PID DAOS_PERF_DATA_DIR=$TMP "$TEST" "$ADDR" "$@"
RC=$?
if [ "$RC" != 0 ]; then
	echo "FAIL: $NAME exit $RC; server log tail:"
	grep -v NOTE "$TMP/srv.err" | tail -20 | sed 's/^/    /'
	exit 1
fi
kill -TERM "$SRV_PID"
wait "$SRV_PID"
RC=$?
SRV_PID=
[ "$RC" = 0 ] || { echo "FAIL: server exit $RC after SIGTERM"; exit 1; }
echo "PASS: $NAME against daos_server"
