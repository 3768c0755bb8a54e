#!/usr/bin/env bash
# test_async.sh DAOS_SERVER DAOS_CTL_PING DAOS_AGENT DMG DMG_JSON_GET ASYNC_TEST: libdaos calls
# given an event complete asynchronously (pool and container calls over the service, KV,
# Array): a real daos_server (2 targets, insecure transport) and daos_agent, a pool created
# with dmg, then async_test stops the server (SIGSTOP) under calls in flight, runs 64 calls
# at once on one queue, and checks errors and chains through events (see async_test.c).
# Every process is killed by the EXIT trap; async_test continues the server as it exits.
set -u

. "$(dirname "$0")/../lib/server.sh"
t_args BIN:daos_server CTL_PING:daos_ctl_ping AGENT:daos_agent DMG:dmg JGET:dmg_json_get \
	TEST:async_test -- "$@"
t_init test_async
SRV_BIN=$BIN
t_ports 11784 5

svc_start 2 1G

cd "$TMP" || exit 1
timeout 150 "$TEST" tank "$SRV_PID" 2 >"$TMP/async.out" 2>"$TMP/async.err"
RC=$?
# whatever happened to the test, the server runs again
kill -CONT "$SRV_PID" 2>/dev/null
cat "$TMP/async.out"
if [ "$RC" != 0 ]; then
	fail "async_test exit $RC"
	show stderr "$TMP/async.err"
	grep -v NOTE "$TMP/srv.err" | tail -20 | sed 's/^/      /'
fi

stop_within TERM "$SRV_PID" 10
[ "$RC" = 0 ] && pass "server: SIGTERM exit 0" || fail "server: SIGTERM exit $RC"
t_summary
