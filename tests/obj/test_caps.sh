#!/usr/bin/env bash
# test_caps.sh DAOS_SERVER DAOS_CTL_PING DAOS_AGENT DMG DMG_JSON_GET CAPS_TEST: the targets
# check container handles (capabilities, container) and pool map versions, as the
# management service told them (TgtHdl). Two real daos_servers (the first the only access
# point, 2 targets; the second 1 target), a real daos_agent, a pool over both made with dmg:
#   caps_test caps   RO/RW opens, handles forged on the client (RW over an RO open, a
#                    handle of container a on b, an unknown one, a closed one): the server
#                    refuses them; after close/destroy TgtQuery shows the engines forgot
#                    the handles;
#   caps_test virgin a pool where no container was ever opened: a forged handle is
#                    refused (-DER_NO_HDL) for update and fetch on every target;
#   caps_test hold   kill -9 and restart of the second server while a handle is open: after
#                    its join the service gives it the pool's handles again;
#   caps_test stale  after `dmg system exclude` of the second rank the pool map version
#                    bumps: the engine refuses the old version (-DER_STALE), the client
#                    refreshes its map and goes on.
# Every process is killed by the EXIT trap.
set -u

. "$(dirname "$0")/../lib/server.sh"
t_args BIN:daos_server CTL_PING:daos_ctl_ping AGENT:daos_agent DMG:dmg JGET:dmg_json_get \
	TEST:caps_test -- "$@"
t_init test_caps
SRV_BIN=$BIN
# slot of 8: server 0 management PORT, fabric PORT+1..3, raft PORT+7; server 1 management
# PORT+4, fabric PORT+5..6
t_ports 9960 12
ADDR1=127.0.0.1:$((PORT + 4))

srv_config 2 >"$TMP/daos_server.yml"
cat >"$TMP/srv1.yml" <<CFG
name: daos_server
auto_format: true
port: $((PORT + 4))
access_points: ['127.0.0.1:$PORT']
provider: ofi+tcp;ofi_rxm
engines:
  - targets: 1
    fabric_iface: lo
    fabric_iface_port: $((PORT + 5))
CFG
srv_start srv
srv_wait_ping srv "$CTL_PING" 20 || { fail "server does not answer"; exit 1; }
srv_start srv1 -o "$TMP/srv1.yml" --data-dir "$TMP/data1"
S1_PID=$SRV_PID
agent_start "$AGENT" || { fail "agent did not start"; exit 1; }

# dmg_j (lib/server.sh) asks the first server
HOSTS=$ADDR

# both engines joined
for i in $(seq 100); do
	dmg_j sq system query
	[ "$RC" = 0 ] && [ "$(jget sq response.members)" = 2 ] &&
		[ "$(jget sq response.members.0.state)" = joined ] &&
		[ "$(jget sq response.members.1.state)" = joined ] && break
	sleep 0.3
done
RANK1=
for m in 0 1; do
	[ "$(jget sq "response.members.$m.addr")" = "$ADDR1" ] && RANK1=$(jget sq "response.members.$m.rank")
done
if [ -z "$RANK1" ]; then
	fail "the two engines did not join"
	show out "$TMP/sq.out"
	exit 1
fi
pass "two engines joined, the second is rank $RANK1"

create_pool() {
	local label=$1 i
	for i in $(seq 20); do
		dmg_j "pc_$label" pool create -z 2G "$label"
		[ "$(jget "pc_$label" status)" = 0 ] && break
		sleep 0.5
	done
	PUUID=$(jget "pc_$label" response.uuid)
	[ -n "$PUUID" ] && [ "$(jget "pc_$label" response.tgt_ranks)" = 2 ] && return 0
	fail "dmg pool create $label"
	show out "$TMP/pc_$label.out"
	show err "$TMP/pc_$label.err"
	return 1
}

# phase_run NAME ARGS...: `caps_test NAME ARGS` (120 s at most), reported by checks_run
phase_run() {
	checks_run "$1" "caps_test $1" 120 "$TEST" "$@"
}

# phase_start NAME ARGS...: `caps_test NAME ARGS` in the background (120 s at most, tracked,
# PH_PID), its stdin the fifo $TMP/go_NAME held open on fd 3; returns 1 (a failure) if it
# does not print "ready" within 60 s. phase_go NAME lets it go on.
phase_start() {
	mkfifo "$TMP/go_$1"
	timeout 120 "$TEST" "$@" <"$TMP/go_$1" >"$TMP/$1.out" 2>"$TMP/$1.err" &
	PH_PID=$!
	t_track "$PH_PID"
	exec 3>"$TMP/go_$1"
	wait_line "$TMP/$1.out" "^ready" 60 && return 0
	fail "caps_test $1 never got ready"
	return 1
}

# phase_go NAME: a line on the stdin of phase_start's caps_test, then its exit (120 s at
# most) and its report (checks_end)
phase_go() {
	# in a subshell: if caps_test has exited, SIGPIPE ends that, not the script
	(echo go >&3) 2>/dev/null
	exec 3>&-
	wait_exit "$PH_PID" 120
	checks_end "$1" "caps_test $1"
}

cd "$TMP" || exit 1
echo "== capabilities (caps_test caps)"
create_pool tank || exit 1
pass "pool tank over both ranks: $PUUID"
TANK=$PUUID
phase_run caps tank "$ADDR" "$PUUID"

echo "== a pool where no container was ever opened (caps_test virgin)"
create_pool bench || exit 1
phase_run virgin bench

echo "== an engine restarts while a handle is open (caps_test hold)"
if phase_start hold tank "$ADDR1" "$TANK"; then
	kill -KILL "$S1_PID"
	wait_exit "$S1_PID" 10
	srv_start srv1b -o "$TMP/srv1.yml" --data-dir "$TMP/data1"
	"$CTL_PING" -w 20 "$ADDR1" >/dev/null 2>&1 && pass "second server restarted (kill -9)" ||
		fail "second server does not answer after its restart"
fi
phase_go hold ||
	grep -E "exclu|TgtHdl|refused|join" "$TMP/srv.err" | tail -20 | sed 's/^/      /'

echo "== map version (caps_test stale, dmg system exclude of rank $RANK1)"
create_pool pond || exit 1
if phase_start stale pond "$ADDR" "$PUUID"; then
	dmg_j ex system exclude --ranks "$RANK1"
	[ "$RC" = 0 ] && [ "$(jget ex response.results.0.state)" = adminexcluded ] &&
		pass "system exclude --ranks $RANK1" || {
		fail "system exclude: exit $RC"
		show out "$TMP/ex.out"
	}
	# the engine learns the new version after the exclusion committed: wait for it
	for i in $(seq 50); do
		dmg_j pq pool query pond
		[ "$RC" = 0 ] && break
		sleep 0.2
	done
fi
phase_go stale

t_summary
