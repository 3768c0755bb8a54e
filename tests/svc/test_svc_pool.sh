#!/usr/bin/env bash
# test_svc_pool.sh DAOS_SERVER DAOS_CTL_PING DAOS_AGENT DMG DMG_JSON_GET POOL_TEST: libdaos's
# pool API (src/client/api/pool.c) end to end: a real daos_server (2 targets, insecure
# transport) and daos_agent (-i), a pool created with dmg, then pool_test connects by label
# and by uuid through the engines' relay, queries, sets/lists/gets/deletes attributes, lists
# a container, hands local2global's buffer to a child process that reads and writes an
# object with it, and disconnects (see pool_test.c). Every process is killed by the EXIT trap.
set -u

BIN=${1:?usage: $0 daos_server daos_ctl_ping daos_agent dmg dmg_json_get pool_test}
CTL_PING=${2:?}
AGENT=${3:?}
DMG=${4:?}
JGET=${5:?}
TEST=${6:?}
. "$(dirname "$0")/../lib/server.sh"
t_need_exec "$BIN" "$CTL_PING" "$AGENT" "$DMG" "$JGET" "$TEST"
t_init test_svc_pool
SRV_BIN=$BIN
t_ports 11200 25

svc_start 2 1G

cd "$TMP" || exit 1
timeout 120 "$TEST" run tank "$PUUID" 2 >"$TMP/pool_test.out" 2>"$TMP/pool_test.err"
RC=$?
cat "$TMP/pool_test.out"
if [ "$RC" != 0 ]; then
	fail "pool_test exit $RC"
	show stderr "$TMP/pool_test.err"
	grep -v NOTE "$TMP/srv.err" | tail -20 | sed 's/^/      /'
fi

echo "== dmg pool evict while a client holds a handle"
mkfifo "$TMP/go"
timeout 60 "$TEST" evict tank <"$TMP/go" >"$TMP/evict.out" 2>"$TMP/evict.err" &
EV_PID=$!
t_track "$EV_PID"
exec 3>"$TMP/go"
if wait_line "$TMP/evict.out" "^connected$" 30; then
	timeout 30 "$DMG" -j -l "$ADDR" pool evict tank >"$TMP/pe.out" 2>"$TMP/pe.err"
	[ "$("$JGET" "$TMP/pe.out" status 2>/dev/null)" = 0 ] && pass "dmg pool evict" ||
		fail "dmg pool evict: $(cat "$TMP/pe.out" "$TMP/pe.err")"
fi
echo >&3
exec 3>&-
wait_exit "$EV_PID" 30
grep -v "^connected$" "$TMP/evict.out"
[ "$RC" = 0 ] || fail "pool_test evict: exit $RC: $(cat "$TMP/evict.err")"

stop_within TERM "$SRV_PID" 10
[ "$RC" = 0 ] && pass "server: SIGTERM exit 0" || fail "server: SIGTERM exit $RC"
t_summary
