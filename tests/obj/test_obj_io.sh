#!/usr/bin/env bash
# test_obj_io.sh DAOS_SERVER DAOS_CTL_PING OBJ_IO_TEST DAOS_AGENT: libdaos's object API
# against a real daos_server with 4 targets and a daos_agent: obj_io_test creates a pool on
# every target and a container through the management service and runs a random sequence of
# object operations checked against a model (see obj_io_test.c). The server and the agent
# are killed by the EXIT trap whatever happens.
set -u

BIN=${1:?usage: $0 daos_server daos_ctl_ping obj_io_test daos_agent}
CTL_PING=${2:?}
TEST=${3:?}
AGENT=${4:?}
OPS=${OBJ_IO_OPS:-2000}

. "$(dirname "$0")/../lib/server.sh"
t_need_exec "$BIN" "$CTL_PING" "$TEST" "$AGENT"
t_init test_obj_io
SRV_BIN=$BIN
# A block of its own (2000-5999; tests/README.md): with 4 targets the server uses 6 ports
# (management, a fabric port per target and the system context), more than a slot shared
# with the other server tests leaves.
t_ports 2000 500

srv_config 4 >"$TMP/daos_server.yml"
cat >>"$TMP/daos_server.yml" <<CFG
    storage:
      - class: ram
        scm_mount: $TMP/scm
        scm_size: 2GiB
      - class: file
        bdev_list: [$TMP/bdev0]
        bdev_size: 8GiB
CFG

srv_start srv
if ! srv_wait_ping srv "$CTL_PING" 15; then
	echo "FAIL: the server does not answer"
	exit 1
fi
agent_start "$AGENT" || { echo "FAIL: the agent did not start"; exit 1; }

"$TEST" "$ADDR" "$OPS"
RC=$?
if [ "$RC" != 0 ]; then
	echo "FAIL: obj_io_test exit $RC; server log tail:"
	grep -v NOTE "$TMP/srv.err" | tail -20 | sed 's/^/    /'
	exit 1
fi
stop_within TERM "$SRV_PID" 30
[ "$RC" = 0 ] || { echo "FAIL: server exit $RC after SIGTERM"; exit 1; }
echo "PASS: object I/O against daos_server"
