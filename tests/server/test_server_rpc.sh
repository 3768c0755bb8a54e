#!/usr/bin/env bash
# test_server_rpc.sh DAOS_SERVER SELF_TEST DAOS_CTL_PING ENGINE_SRV_ATTACH: daos_server
# serving RPCs over the fabric.
#
# Starts a real daos_server (2 targets, tcp on loopback, ports derived from this shell's pid
# so that tests run in parallel) and checks what a client relies on: the management port
# answers and GetAttachInfo publishes one fabric address per context; self_test against the
# targets (latency, rate, bulk both ways) succeeds; a checked load succeeds; the idle server
# costs under 5 % of a core; SIGTERM under load stops it with exit 0 within 5 s while the
# client gets clean errors and exits; kill -9 under load makes the client report
# -DER_UNREACH/-DER_TIMEDOUT within its RPC timeout. Every process started here is killed by
# the EXIT trap whatever happens.
set -u

BIN=${1:?usage: $0 daos_server self_test daos_ctl_ping engine_srv_attach}
SELF_TEST=${2:?}
CTL_PING=${3:?}
ATTACH=${4:?}
. "$(dirname "$0")/../lib/server.sh"
t_need_exec "$BIN" "$SELF_TEST" "$CTL_PING" "$ATTACH"
t_init test_server_rpc
SRV_BIN=$BIN
# 12000-15999: below the ephemeral range (32768+) and the default ports (10001, 31416);
# 8 ports per pid slot: management, the fabric, raft at management + 7.
t_ports 12000 500

# load_errors FILE ALLOWED: every "load: error NAME" line of FILE names one of ALLOWED (a
# regex), and there is at least one.
load_errors() {
	local names
	names=$(sed -n 's/^load: error \([A-Z_]*\) .*/\1/p' "$1" | sort -u | tr '\n' ' ')
	[ -n "$names" ] || return 1
	for n in $names; do
		[[ $n =~ ^($2)$ ]] || return 1
	done
	echo "$names"
}

srv_config 2 >"$TMP/daos_server.yml"

echo "== start (management port $PORT, fabric $FAB_PORT-$((FAB_PORT + 2)))"
srv_start a
PID_A=$SRV_PID
if srv_wait_ping a "$CTL_PING" 10; then
	pass "management port answers"
else
	fail "management port"
	exit 1
fi
# the management port may answer a moment before the line is printed (the management
# service starts on the control thread first)
wait_line "$TMP/a.out" "^daos_server started: 2 targets" 10 && pass "started line" ||
	fail "started line: $(head -1 "$TMP/a.out")"

echo "== GetAttachInfo"
if "$ATTACH" "127.0.0.1:$PORT" >"$TMP/attach" 2>&1; then
	pass "GetAttachInfo answers"
else
	fail "GetAttachInfo: $(cat "$TMP/attach")"
fi
for tag in 0 1 2; do
	grep -q "^uri 0 $tag fi_sockaddr_in://127.0.0.1:$((FAB_PORT + tag))$" "$TMP/attach" &&
		pass "context $tag at port $((FAB_PORT + tag))" ||
		fail "context $tag: no uri with port $((FAB_PORT + tag))"
done
[ "$(grep -c '^uri ' "$TMP/attach")" = 3 ] && pass "3 contexts published" ||
	fail "contexts: $(grep -c '^uri ' "$TMP/attach")"
grep -q "^provider tcp;ofi_rxm$" "$TMP/attach" && pass "provider hint" || fail "provider hint"
grep -q "^access_point 127.0.0.1:$PORT$" "$TMP/attach" && pass "access point" ||
	fail "access point"
TARGETS=$(awk '/^targets /{print $2}' "$TMP/attach")
ALL=$(awk '/^uri /{printf "%s%s", sep, $4; sep=","}' "$TMP/attach")

echo "== self_test against the targets"
if timeout 120 "$SELF_TEST" --engine "$TARGETS" -d 0.2 >"$TMP/st" 2>&1; then
	pass "self_test --engine"
	sed -n '/^RPC round trip/,$p' "$TMP/st" | sed 's/^/    /'
else
	fail "self_test --engine: exit $?"
	show output "$TMP/st"
fi

echo "== checked load on every context"
if timeout 60 "$SELF_TEST" --engine "$ALL" --load -d 2 -q 8 >"$TMP/load" 2>&1; then
	pass "load: $(grep '^load: .* RPCs ok' "$TMP/load")"
else
	fail "load: exit $?"
	show output "$TMP/load"
fi

echo "== idle CPU"
sleep 1
CLK=$(getconf CLK_TCK)
T0=$(cpu_ticks "$PID_A")
sleep 2
T1=$(cpu_ticks "$PID_A")
if [ -n "$T0" ] && [ -n "$T1" ]; then
	PCT=$(((T1 - T0) * 100 / (CLK * 2)))
	[ "$PCT" -lt 5 ] && pass "idle CPU ${PCT}% ($((T1 - T0)) ticks in 2 s)" ||
		fail "idle CPU ${PCT}% ($((T1 - T0)) ticks in 2 s)"
else
	fail "cannot read /proc/$PID_A/stat"
fi

echo "== SIGTERM under load"
"$SELF_TEST" --engine "$TARGETS" --load -d 60 -t 3000 >"$TMP/load_term" 2>&1 &
LOAD_PID=$!
t_track "$LOAD_PID"
if wait_line "$TMP/load_term" "^load: 1 s: [1-9][0-9]* ok" 10; then
	pass "load running"
else
	fail "load did not get going"
	show output "$TMP/load_term"
fi
kill -TERM "$PID_A"
wait_exit "$PID_A" 5
[ "$RC" = 0 ] && pass "SIGTERM under load: exit 0 within 5 s" ||
	fail "SIGTERM under load: exit $RC (124: still running)"
grep -q "^daos_server stopped$" "$TMP/a.out" && pass "stopped line" || fail "no stopped line"
wait_exit "$LOAD_PID" 8
if [ "$RC" = 3 ]; then
	pass "client saw errors and exited: $(grep '^load: first error' "$TMP/load_term")"
	names=$(load_errors "$TMP/load_term" "DER_SHUTDOWN|DER_UNREACH|DER_TIMEDOUT|DER_CANCELED") &&
		pass "clean errors: $names" || {
		fail "unexpected errors"
		show output "$TMP/load_term"
	}
else
	fail "client after SIGTERM: exit $RC (124: hung; 4: wrong data)"
	show output "$TMP/load_term"
fi

echo "== kill -9 under load"
srv_start b
PID_B=$SRV_PID
"$CTL_PING" -w 10 "127.0.0.1:$PORT" >/dev/null 2>&1 && pass "restarted on the same ports" ||
	{
		fail "restart"
		show stderr "$TMP/b.err"
	}
"$SELF_TEST" --engine "$TARGETS" --load -d 60 -t 2000 >"$TMP/load_kill" 2>&1 &
LOAD_PID=$!
t_track "$LOAD_PID"
wait_line "$TMP/load_kill" "^load: 1 s: [1-9][0-9]* ok" 10 || fail "load did not get going"
kill -KILL "$PID_B"
wait "$PID_B" 2>/dev/null
T_KILL=$(date +%s%N)
wait_exit "$LOAD_PID" 6
T_END=$(date +%s%N)
if [ "$RC" = 3 ]; then
	pass "client reported the dead server in $(((T_END - T_KILL) / 1000000)) ms (timeout 2000 ms)"
	names=$(load_errors "$TMP/load_kill" "DER_UNREACH|DER_TIMEDOUT") &&
		pass "errors: $names" || {
		fail "unexpected errors"
		show output "$TMP/load_kill"
	}
else
	fail "client after kill -9: exit $RC (124: hung)"
	show output "$TMP/load_kill"
fi

t_summary
