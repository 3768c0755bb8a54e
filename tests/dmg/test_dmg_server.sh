#!/usr/bin/env bash
# test_dmg_server.sh DAOS_SERVER DMG DMG_JSON_GET: dmg against a real daos_server.
#
# Starts one daos_server (1 target, tcp on loopback, ports derived from this shell's pid) and
# runs the dmg commands a user would, checking exit statuses, tables and the JSON (parsed
# back by dmg_json_get): system ping and get-attach-info answer; telemetry answers or fails
# with a DER_* name; the management service answers leader-query (tests/mgmt covers the
# rest of it); storage query usage and format answer for the host (tests/sysctl covers
# them and system stop/start with three servers); usage errors exit 2; a
# daos_control.yml is honoured; with the server killed, dmg fails with DER_UNREACH within
# seconds instead of hanging. Every process started here is killed by the EXIT trap.
set -u

. "$(dirname "$0")/../lib/server.sh"
t_args SRV:daos_server DMG:dmg JGET:dmg_json_get -- "$@"
t_init test_dmg_server
SRV_BIN=$SRV
# 30000-31999: below the ephemeral range, a block of its own (raft at management + 7).
t_ports 30000 250

# dmg_run NAME ARGS...: run dmg (20 s at most), stdout/stderr in $TMP/NAME.{out,err}, RC.
dmg_run() {
	t_run "$1" 20 "$DMG" "${@:2}"
}

srv_config 1 >"$TMP/daos_server.yml"
cat >"$TMP/daos_control.yml" <<EOF
name: daos_server
port: $PORT
hostlist: ['127.0.0.1']
transport_config:
  allow_insecure: true
EOF

echo "== start daos_server (management port $PORT)"
srv_start srv
up=0
for i in $(seq 200); do
	if "$DMG" -l "$ADDR" system ping >/dev/null 2>&1; then
		up=1
		break
	fi
	sleep 0.05
done
if [ $up = 1 ]; then
	pass "server up, dmg system ping answers"
else
	fail "server did not come up"
	show stderr "$TMP/srv.err"
	exit 1
fi

echo "== ping, get-attach-info (served)"
dmg_run ping -o "$TMP/daos_control.yml" system ping
[ $RC = 0 ] && grep -q "^127.0.0.1:$PORT  *daos_server " "$TMP/ping.out" &&
	pass "system ping via daos_control.yml: table" || {
	fail "system ping: exit $RC"
	show out "$TMP/ping.out"
	show err "$TMP/ping.err"
}
dmg_run pingj -j -l "$ADDR" system ping -c 3
if [ $RC = 0 ] && [ "$(jget pingj response.hosts.0.sys)" = daos_server ] &&
	[ "$(jget pingj status)" = 0 ] && [ "$(jget pingj error)" = null ]; then
	pass "system ping -j: JSON, sys daos_server, rtt $(jget pingj response.hosts.0.rtt_ns) ns"
else
	fail "system ping -j: exit $RC"
	show out "$TMP/pingj.out"
fi
dmg_run dbg -d -l "$ADDR" system ping
[ $RC = 0 ] && grep -q "^DEBUG: METHOD_PING -> $ADDR: ok" "$TMP/dbg.err" &&
	pass "--debug traces the call" || fail "--debug: exit $RC, $(head -1 "$TMP/dbg.err")"
dmg_run attach -j -l "$ADDR" system get-attach-info
if [ $RC = 0 ] && [ "$(jget attach response.sys)" = daos_server ] &&
	[ "$(jget attach response.rank_uris)" -ge 1 ] 2>/dev/null &&
	[ "$(jget attach response.client_net_hint.provider)" = "tcp;ofi_rxm" ]; then
	pass "get-attach-info -j: $(jget attach response.rank_uris) URIs, provider tcp;ofi_rxm"
else
	fail "get-attach-info: exit $RC"
	show out "$TMP/attach.out"
	show err "$TMP/attach.err"
fi
dmg_run attach_t -l "$ADDR" system get-attach-info
[ $RC = 0 ] && grep -q "fi_sockaddr_in://127.0.0.1:$FAB_PORT" "$TMP/attach_t.out" &&
	pass "get-attach-info table shows the fabric address" || fail "get-attach-info table"

echo "== telemetry (served, or a named error)"
dmg_run tm -j -l "$ADDR" telemetry metrics query
if [ $RC = 0 ] && [ -n "$(jget tm response.metric_sets)" ]; then
	pass "telemetry metrics query: $(jget tm response.metric_sets) metric sets"
elif [ $RC = 1 ] && [[ $(jget tm error) == *DER_* ]] && [ "$(jget tm status)" -lt 0 ]; then
	pass "telemetry metrics query: clear error: $(jget tm error)"
else
	fail "telemetry: exit $RC"
	show out "$TMP/tm.out"
fi

echo "== storage commands each server serves for itself"
dmg_run su -l "$ADDR" storage query usage
[ $RC = 0 ] && grep -q "^127.0.0.1:$PORT " "$TMP/su.out" && grep -q "NVMe-Total" "$TMP/su.out" &&
	pass "storage query usage: a row for the host" || {
	fail "storage query usage: exit $RC (124: hung)"
	show out "$TMP/su.out"
	show err "$TMP/su.err"
}
dmg_run sf -l "$ADDR" storage format
[ $RC = 1 ] && grep -q "already formatted" "$TMP/sf.out" &&
	pass "storage format: already formatted, exit 1" || {
	fail "storage format: exit $RC (124: hung)"
	show out "$TMP/sf.out"
	show err "$TMP/sf.err"
}
dmg_run ssj -j -l "$ADDR" system stop --ranks 99
[ $RC = 0 ] && [ "$(jget ssj response.absent_ranks)" = 99 ] && [ "$(jget ssj response.results)" = 0 ] &&
	pass "system stop -j of an unknown rank: absent_ranks 99, no result" || {
	fail "system stop -j: exit $RC"
	show out "$TMP/ssj.out"
}
dmg_run lq -j -l "$ADDR" system leader-query
[ $RC = 0 ] && [ "$(jget lq response.current_leader)" = "$ADDR" ] &&
	pass "system leader-query: the management service answers" || {
	fail "leader-query: exit $RC"
	show out "$TMP/lq.out"
}

echo "== usage errors"
for args in "pool create -z 10X tank" "bogus" "pool" "system query --bogus" \
	"pool create -z 1G -s 1G tank" "-o $TMP/nonexistent.yml system query"; do
	# shellcheck disable=SC2086
	dmg_run usage $args
	if [ $RC = 2 ] && grep -q "^ERROR: dmg: .*DER_" "$TMP/usage.err"; then
		:
	else
		fail "usage error '$args': exit $RC"
		show err "$TMP/usage.err"
	fi
done
[ "$FAILS" = 0 ] && pass "usage errors exit 2 with a message"
dmg_run help pool create --help
[ $RC = 0 ] && grep -q -- "--scm-size" "$TMP/help.out" && pass "pool create --help" ||
	fail "pool create --help: exit $RC"

echo "== server down"
kill -KILL "$SRV_PID"
wait "$SRV_PID" 2>/dev/null
T0=$(date +%s%N)
dmg_run down -j -l "$ADDR" system query
T1=$(date +%s%N)
MS=$(((T1 - T0) / 1000000))
if [ $RC = 1 ] && [ "$(jget down status)" = -1006 ] && [ "$MS" -lt 10000 ]; then
	pass "server down: DER_UNREACH, exit 1, in $MS ms"
else
	fail "server down: exit $RC (124: hung) in $MS ms"
	show out "$TMP/down.out"
fi
dmg_run down2 -l "$ADDR" system ping
[ $RC = 1 ] && grep -q "DER_UNREACH" "$TMP/down2.err" && pass "ping of a dead server: exit 1" ||
	fail "ping of a dead server: exit $RC"

t_summary
