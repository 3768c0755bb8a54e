#!/usr/bin/env bash
# test_shm_churn.sh DAOS_SERVER DAOS_CTL_PING SHM_CLIENT DAOS_AGENT: a D_PROVIDER=shm client
# reading its values back in a loop (shm_client churn: each operation retried up to 90 s)
# while its engine (4 targets) is killed with SIGKILL and started again, SHM_CHURN_ROUNDS
# times (default 4), alternately without and with DAOS_SHM=1: the client must follow the
# engine from shm to tcp (no live engine serves the shm names: their stale regions stay in
# /dev/shm; the fallback context, src/net/net_alt.c) and back (the engine serves shm again:
# the lookup's recheck), finishing a round of reads after every restart, and exit 0 with all
# data matching: never a crash (a SIGSEGV in libfabric's shm after re-inserting a restarted
# engine's name was seen once). Also: a second engine started on the same ports with
# DAOS_SHM=1 fails and leaves the live engine's shm regions (same inodes) and doorbell alone.
# Run it under ASan with the build-asan binaries. Exit 77 without shm.
#
# The kill comes while the client waits between two rounds of reads (nothing in flight), or,
# with SHM_CHURN_HOT=1, in the middle of its reads: that reproduces a hang of libfabric
# 1.17's shm (not in ctest): an engine killed while it holds the spin lock of the client's
# region (taken to write a reply into it) leaves it locked for ever, and the client's next
# fi_cq_read spins on it (src/net/README.md, "A killed engine can leave a shm client spinning").
set -u

BIN=${1:?usage: $0 daos_server daos_ctl_ping shm_client daos_agent}
CTL_PING=${2:?}
CLIENT=${3:?}
AGENT=${4:?}
ROUNDS=${SHM_CHURN_ROUNDS:-4}

. "$(dirname "$0")/../lib/server.sh"
t_need_exec "$BIN" "$CTL_PING" "$CLIENT" "$AGENT"
t_init test_obj_shm_churn
SRV_BIN=$BIN
t_ports 1524 16 # 1524-1651 (tests/README.md)
srv_shm_names 5
CL_PID=
churn_cleanup() {
	local san=0
	t_cleanup || san=1
	rm -f "${SHM_NAMES[@]}"
	[ -n "$CL_PID" ] && rm -f /dev/shm/"$CL_PID":*
	[ $san = 0 ] || exit 1
}
trap churn_cleanup EXIT

srv_config 4 >"$TMP/daos_server.yml"
srv_storage 4GiB 8GiB >>"$TMP/daos_server.yml"
export DAOS_SHM=1
srv_agent_up "$CTL_PING" "$AGENT"

# A second engine on the same fabric ports (its own management port, data and storage) with
# DAOS_SHM=1: its tcp bind fails, and it must not have touched the live engine's regions.
inodes() { stat -c %i "${SHM_NAMES[@]}" 2>/dev/null | tr '\n' ' '; }
ino0=$(inodes)
sed -e "s/^port: $PORT/port: $((PORT + 6))/" -e "s#$TMP/scm#$TMP/scm2#" \
	-e "s#$TMP/bdev0#$TMP/bdev2#" "$TMP/daos_server.yml" >"$TMP/daos_server2.yml"
srv_transport "$TMP/daos_server2.yml"
"$BIN" start -o "$TMP/daos_server2.yml" --data-dir "$TMP/data2" >"$TMP/srv_race.out" \
	2>"$TMP/srv_race.err" &
RACE_PID=$!
t_track "$RACE_PID"
wait_exit "$RACE_PID" 120
if [ "$RC" != 0 ] && [ "$RC" != 124 ]; then
	pass "a second engine on the same ports fails to start (exit $RC)"
else
	fail "a second engine on the same ports: exit $RC"
	kill -9 "$RACE_PID" 2>/dev/null
fi
ino1=$(inodes)
[ "$ino0" = "$ino1" ] && [ "$(echo "$ino1" | wc -w)" = 5 ] &&
	pass "... and left the live engine's 5 shm regions alone (inodes $ino1)" ||
	fail "the live engine's regions changed: '$ino0' -> '$ino1'"

SHM_CLIENT_STOP=$TMP/stop D_PROVIDER=shm "$CLIENT" "$ADDR" churn >"$TMP/cl.out" \
	2>"$TMP/cl.err" &
CL_PID=$!
t_track "$CL_PID"
if ! wait_line "$TMP/cl.out" '^round 1$' 180; then
	fail "the churn client did not finish its first round"
	show stderr "$TMP/cl.err"
	t_summary
fi
pass "a shm client reads in a loop (with the race's engine gone)"

rounds() { grep -c '^round' "$TMP/cl.out"; }
# tcp_rx PID: bytes PID received on its TCP connections to the engine's fabric ports
tcp_rx() {
	ss -tinpH state established 2>/dev/null | awk -v pid="pid=$1," -v lo="$FAB_PORT" '
		/^[0-9]/ { n = split($4, a, ":"); p = a[n] + 0
			   mine = index($0, pid) > 0 && p >= lo && p <= lo + 4; next }
		mine && match($0, /bytes_received:[0-9]+/) {
			sum += substr($0, RSTART + 15, RLENGTH - 15); mine = 0 }
		END { print sum + 0 }'
}

for r in $(seq "$ROUNDS"); do
	if [ $((r % 2)) = 1 ]; then
		unset DAOS_SHM
		how="without shm"
	else
		export DAOS_SHM=1
		how="with DAOS_SHM=1"
	fi
	if [ -z "${SHM_CHURN_HOT:-}" ]; then
		# the kill while the client waits between rounds: see the header
		np=$(grep -c '^paused' "$TMP/cl.out")
		touch "$TMP/stop.pause"
		for i in $(seq 6000); do
			[ "$(grep -c '^paused' "$TMP/cl.out")" -gt "$np" ] && break
			sleep 0.05
		done
		[ "$(grep -c '^paused' "$TMP/cl.out")" -gt "$np" ] ||
			fail "restart $r: the client did not pause"
	fi
	kill -9 "$SRV_PID"
	wait "$SRV_PID" 2>/dev/null
	n0=$(rounds)
	srv_start "srv$r"
	rm -f "$TMP/stop.pause"
	if ! srv_wait_ping "srv$r" "$CTL_PING" 60; then
		fail "restart $r: the server did not come back"
		break
	fi
	# the client finishes a whole round of reads begun after the restart
	want=$((n0 + 2))
	if wait_line "$TMP/cl.out" "^round $want\$" 300; then
		pass "restart $r ($how): the client went on (round $want)"
		# which transport it went on with: TCP bytes over one more whole round (12
		# values read, 3 MiB among them), begun after the engines' recheck (1 s)
		# (from the round the client is at now: both samples follow a round's end)
		c=$(rounds)
		wait_line "$TMP/cl.out" "^round $((c + 1))\$" 120
		b0=$(tcp_rx "$CL_PID")
		wait_line "$TMP/cl.out" "^round $((c + 2))\$" 120
		b=$(($(tcp_rx "$CL_PID") - b0))
		if [ "$how" = "with DAOS_SHM=1" ]; then
			[ "$b" -lt 100000 ] && pass "... over shm again: $b bytes over TCP in a round" ||
				fail "... $b bytes over TCP in a round from an engine serving shm"
		else
			[ "$b" -gt 1000000 ] && pass "... over tcp: $b bytes over TCP in a round" ||
				fail "... $b bytes over TCP in a round from an engine without shm"
		fi
		if [ "$r" = 1 ]; then
			# a new shm client of an engine without shm: tcp from its first lookup on
			D_PROVIDER=shm "$CLIENT" "$ADDR" once >"$TMP/fresh.out" 2>"$TMP/fresh.err" &
			p=$!
			t_track "$p"
			wait_exit "$p" 180
			rm -f /dev/shm/"$p":*
			[ "$RC" = 0 ] &&
				pass "a new shm client of an engine without shm: I/O over tcp ($(tail -1 "$TMP/fresh.out"))" ||
				{ fail "a new shm client of an engine without shm: exit $RC"; show stderr "$TMP/fresh.err"; }
		fi
	else
		fail "restart $r ($how): the client stalled at round $(rounds)"
		kill -0 "$CL_PID" 2>/dev/null || { wait "$CL_PID"; echo "    client exit $?"; }
		show stderr "$TMP/cl.err"
		break
	fi
done
touch "$TMP/stop"
wait_exit "$CL_PID" 240
if [ "$RC" = 0 ]; then
	pass "the churn client exits 0: every value read back matched ($(tail -1 "$TMP/cl.out"))"
else
	fail "the churn client: exit $RC"
	show stderr "$TMP/cl.err"
fi
stop_within TERM "$SRV_PID" 30
[ "$RC" = 0 ] && pass "SIGTERM: exit 0" || fail "SIGTERM: exit $RC"
t_summary
