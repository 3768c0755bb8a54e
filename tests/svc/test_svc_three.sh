#!/usr/bin/env bash
# test_svc_three.sh DAOS_SERVER SVC_CALL_TEST: the relay in a system of three servers, all
# access points (127.0.0.1, .2, .3), with the test hook relaying SystemQuery (101).
#
# Through each engine in turn a relayed SystemQuery reaches the service leader (whichever
# server leads: a non-leader replica answers with a LeaderHint that the relay follows) and
# lists 3 members. Then the first access point (the one every relay tries first) is killed
# with -9: through each survivor the call still succeeds within its timeout, the relays
# rotating past the dead access point and following hints to the leader (a new one after
# an election, if the dead server led). Every process is killed by the EXIT trap.
set -u

BIN=${1:?usage: $0 daos_server svc_call_test}
TEST=${2:?}
. "$(dirname "$0")/../lib/server.sh"
t_need_exec "$BIN" "$TEST"
t_init test_svc_three
SRV_BIN=$BIN
# 11400-11783 (tests/README.md): 24 ports a run, server i at BASE + 8 i (management),
# + 1 .. (fabric), + 7 (raft)
srv3_addrs $((11400 + ($$ % 16) * 24)) 8
URIS=()
for i in 0 1 2; do
	URIS+=("fi_sockaddr_in://127.0.0.$((i + 1)):$((${ADDRS[$i]##*:} + 1))")
done
srv3_config "$TMP" 1
DAOS_SVC_RELAY_TEST_METHOD=101 srv3_start "$TMP" 0 1 2

# call I NAME: SystemQuery through engine I, output in $TMP/NAME
call() {
	timeout 60 "$TEST" call-uri "${URIS[$1]}" 101 >"$TMP/$2" 2>&1
}

ok=0
for t in $(seq 120); do
	call 0 wait
	grep -q "^members 3$" "$TMP/wait" && { ok=1; break; }
	sleep 0.25
done
[ $ok = 1 ] && pass "3 servers joined (seen through engine 0's relay)" || {
	fail "3 members not seen: $(cat "$TMP/wait")"
	for i in 0 1 2; do show "srv$i.err" "$TMP/srv$i.err"; done
	exit 1
}
for i in 0 1 2; do
	call $i "q$i"
	grep -q "^status 0$" "$TMP/q$i" && grep -q "^members 3$" "$TMP/q$i" &&
		pass "through engine $i: status 0, 3 members ($(awk '/^ms /{print $2}' "$TMP/q$i") ms)" ||
		fail "through engine $i: $(cat "$TMP/q$i")"
done

kill -KILL "${SRV_PID[0]}"
wait "${SRV_PID[0]}" 2>/dev/null
for i in 1 2; do
	call $i "k$i"
	MS=$(awk '/^ms /{print $2}' "$TMP/k$i")
	grep -q "^status 0$" "$TMP/k$i" && grep -q "^members 3$" "$TMP/k$i" &&
		pass "first access point killed: through engine $i status 0 in $MS ms" ||
		fail "after the kill, through engine $i: $(cat "$TMP/k$i")"
done
for i in 1 2; do
	stop_within TERM "${SRV_PID[$i]}" 15
	[ "$RC" = 0 ] && pass "server $i: SIGTERM exit 0" || fail "server $i: SIGTERM exit $RC"
done
t_summary
