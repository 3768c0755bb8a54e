#!/usr/bin/env bash
# test_svc_relay.sh DAOS_SERVER DAOS_CTL_PING SVC_CALL_TEST DAOS_AGENT: the engines' fabric
# relay to the management service (src/engine/srv_relay.c) and libdaos's dc_svc_call, with
# real processes on loopback.
#
# A daos_server (1 target, its own management service) with the relay's test hook allowing
# SystemQuery (101): dc_svc_call through a pool handle's engine and through the attach info of
# a real daos_agent reaches the service and gets the member list; pool create (150) and
# LeaderQuery without the hook are refused with DER_NO_PERM; random bodies are answered with
# an error and the server keeps answering; then a daos_server whose only access point is
# dead: the call fails with DER_TIMEDOUT or DER_UNREACH within its timeout (no hang), and
# the server still stops cleanly. Every process is killed by the EXIT trap.
set -u

BIN=${1:?usage: $0 daos_server daos_ctl_ping svc_call_test daos_agent}
CTL_PING=${2:?}
TEST=${3:?}
AGENT=${4:?}
. "$(dirname "$0")/../lib/server.sh"
t_need_exec "$BIN" "$CTL_PING" "$TEST" "$AGENT"
t_init test_svc_relay
SRV_BIN=$BIN
t_ports 11000 25

srv_config 1 relaytest >"$TMP/daos_server.yml"
export DAOS_SVC_RELAY_TEST_METHOD=101
srv_start srv
srv_wait_ping srv "$CTL_PING" 20 || { fail "server does not answer"; exit 1; }
unset DAOS_SVC_RELAY_TEST_METHOD

echo "== relay through a pool handle's engine"
# the service elects itself and the engine joins it shortly after the start
for i in $(seq 40); do
	"$TEST" call "$ADDR" 101 >"$TMP/q1" 2>&1
	grep -q "^members 1$" "$TMP/q1" && break
	sleep 0.25
done
grep -q "^status 0$" "$TMP/q1" && grep -q "^members 1$" "$TMP/q1" &&
	pass "SystemQuery relayed: status 0, 1 member" || fail "SystemQuery: $(cat "$TMP/q1")"
"$TEST" call "$ADDR" 150 >"$TMP/q2" 2>&1
grep -q "^status DER_NO_PERM$" "$TMP/q2" && pass "pool create (150): DER_NO_PERM" ||
	fail "pool create: $(cat "$TMP/q2")"
"$TEST" call "$ADDR" 105 >"$TMP/q3" 2>&1
grep -q "^status DER_NO_PERM$" "$TMP/q3" && pass "LeaderQuery (not hooked): DER_NO_PERM" ||
	fail "LeaderQuery: $(cat "$TMP/q3")"
"$TEST" call "$ADDR" 300 >"$TMP/q4" 2>&1
grep -q "^status DER_NO_PERM$" "$TMP/q4" && pass "TgtCreate (300): DER_NO_PERM" ||
	fail "TgtCreate: $(cat "$TMP/q4")"

echo "== garbage bodies"
BAD=0
for n in 1 7 100 3000; do
	"$TEST" raw "$ADDR" 101 $n >"$TMP/raw$n" 2>&1
	if grep -q "^status 0$" "$TMP/raw$n" || ! grep -q "^status DER_" "$TMP/raw$n"; then
		BAD=1
		echo "    $n random bytes: $(cat "$TMP/raw$n")"
	fi
done
[ $BAD = 0 ] && pass "random SystemQuery bodies: $(cat "$TMP"/raw* | sort -u | tr '\n' ' ')" ||
	fail "random bodies"
"$TEST" raw "$ADDR" 150 100 >"$TMP/raw150" 2>&1
grep -q "^status DER_NO_PERM$" "$TMP/raw150" && pass "raw pool create: DER_NO_PERM" ||
	fail "raw pool create: $(cat "$TMP/raw150")"
"$TEST" call "$ADDR" 101 >"$TMP/q5" 2>&1
grep -q "^status 0$" "$TMP/q5" && pass "server still relays after garbage" ||
	fail "after garbage: $(cat "$TMP/q5")"

echo "== through daos_agent's attach info"
if AGENT_NAME=relaytest agent_start "$AGENT"; then
	"$TEST" call - 101 >"$TMP/q6" 2>&1
	grep -q "^status 0$" "$TMP/q6" && grep -q "^members 1$" "$TMP/q6" &&
		pass "SystemQuery via the agent's attach info" || fail "via agent: $(cat "$TMP/q6")"
else
	fail "agent did not start"
fi
kill -TERM "$AGENT_PID"
wait_exit "$AGENT_PID" 5

stop_within TERM "$SRV_PID" 10
[ "$RC" = 0 ] && pass "SIGTERM: exit 0" || fail "SIGTERM: exit $RC"

echo "== an engine whose management service is unreachable"
# its access point is the first server's port, now closed; its own ports follow
PORT_A=$PORT
PORT=$((PORT_A + 3))
FAB_PORT=$((PORT + 1))
ADDR=127.0.0.1:$PORT
srv_config 1 relaytest | sed "s/^access_points:.*/access_points: ['127.0.0.1:$PORT_A']/" \
	>"$TMP/b.yml"
export DAOS_SVC_RELAY_TEST_METHOD=101
srv_start b -o "$TMP/b.yml" --data-dir "$TMP/data_b"
srv_wait_ping b "$CTL_PING" 20 || { fail "server b does not answer"; exit 1; }
unset DAOS_SVC_RELAY_TEST_METHOD
export DAOS_SVC_TIMEOUT_MS=1500
"$TEST" call "$ADDR" 101 >"$TMP/q7" 2>&1
unset DAOS_SVC_TIMEOUT_MS
MS=$(awk '/^ms /{print $2}' "$TMP/q7")
if grep -Eq "^status DER_(TIMEDOUT|UNREACH)$" "$TMP/q7" && [ -n "$MS" ] && [ "$MS" -lt 6500 ]; then
	pass "no service: $(grep ^status "$TMP/q7" | cut -d' ' -f2) after $MS ms (timeout 1500)"
else
	fail "no service: $(cat "$TMP/q7")"
fi
"$TEST" call "$ADDR" 150 >"$TMP/q8" 2>&1
grep -q "^status DER_NO_PERM$" "$TMP/q8" && pass "still refuses pool create at once" ||
	fail "b pool create: $(cat "$TMP/q8")"
stop_within TERM "$SRV_PID" 10
[ "$RC" = 0 ] && pass "server b: SIGTERM exit 0" || fail "server b: SIGTERM exit $RC"

t_summary
