#!/usr/bin/env bash
# test_dfs_ns.sh DAOS_SERVER DAOS_CTL_PING DFS_NS_TEST: the DFS namespace of libdfs against a
# real daos_server with 4 targets (see dfs_ns_test.c; DFS_NS_ENTRIES sets the size of the big
# directory: 2000 by default to stay within the ctest timeout on a loaded 2-core machine,
# 10000 as the issue asks takes several minutes there). The server is killed by the EXIT trap
# whatever happens.
set -u

BIN=${1:?usage: $0 daos_server daos_ctl_ping dfs_ns_test}
CTL_PING=${2:?}
TEST=${3:?}
NENT=${DFS_NS_ENTRIES:-2000}

TMP=$(mktemp -d /tmp/test_dfs_ns.XXXXXX)
SRV_PID=
# 12000-27999 as the other server tests; 8 ports per pid slot, offset 4 from theirs.
PORT=$((12004 + ($$ % 2000) * 8))
FAB_PORT=$((PORT + 1))
ADDR=127.0.0.1:$PORT

cleanup() {
	if [ -n "$SRV_PID" ]; then
		kill -9 "$SRV_PID" 2>/dev/null
		wait "$SRV_PID" 2>/dev/null
	fi
	rm -rf "$TMP"
}
trap cleanup EXIT INT TERM

cat >"$TMP/daos_server.yml" <<CFG
name: dfstest
port: $PORT
access_points: ['127.0.0.1:$PORT']
provider: ofi+tcp;ofi_rxm
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

"$BIN" start -o "$TMP/daos_server.yml" --data-dir "$TMP/data" >"$TMP/srv.out" 2>"$TMP/srv.err" &
SRV_PID=$!
if ! "$CTL_PING" -w 15 "$ADDR" >"$TMP/ping" 2>&1; then
	echo "FAIL: the server does not answer: $(cat "$TMP/ping")"
	sed 's/^/    /' "$TMP/srv.err"
	exit 1
fi

"$TEST" "$ADDR" "$NENT"
RC=$?
if [ "$RC" != 0 ]; then
	echo "FAIL: dfs_ns_test exit $RC; server log tail:"
	grep -v NOTE "$TMP/srv.err" | tail -20 | sed 's/^/    /'
	exit 1
fi
kill -TERM "$SRV_PID"
wait "$SRV_PID"
RC=$?
SRV_PID=
[ "$RC" = 0 ] || { echo "FAIL: server exit $RC after SIGTERM"; exit 1; }
echo "PASS: DFS namespace against daos_server"
