#!/usr/bin/env bash
# test_caps_three.sh DAOS_SERVER DAOS_CTL_PING DAOS_AGENT DMG DMG_JSON_GET CAPS_TEST: a new
# management service leader gives the engines their container handle tables again.
# Three real daos_servers (127.0.0.1-3, three MS replicas, 1 target each), each started with
# fault 300 armed once (D_FAULTS=300:once: the engine answers its first TgtHdl ADD without
# applying it, as an open's push lost with a leader that went away), a real daos_agent and a
# pool over the three ranks made with dmg:
#   caps_test lost   opens a container: every engine dropped the open's ADD, so its I/O is
#                    refused (-DER_NO_HDL); the script kills -9 the MS leader's server (its
#                    engine with it); the new leader sends the surviving engines their
#                    tables, and I/O through the same handle works on them.
# Fails without the new leader's push (src/mgmt/README.md invariant 9): the surviving
# engines never rejoin, so nothing else would tell them. Every process is killed by the
# EXIT trap.
# A leader change of its own before the kill (raft elections under heavy load) pushes the
# tables early and voids the premise (the engines must not know the handle yet): such an
# attempt counts for nothing and the whole scenario is run once more, on fresh servers on
# other ports. A failure with the leader unchanged is always a failure.
set -u

. "$(dirname "$0")/../lib/server.sh"
t_args BIN:daos_server CTL_PING:daos_ctl_ping AGENT:daos_agent DMG:dmg JGET:dmg_json_get \
	TEST:caps_test -- "$@"
t_init test_caps_three
SRV_BIN=$BIN
# 11824-11857 (tests/README.md): server i on 127.0.0.(i+1), management PORT+i, fabric
# PORT+i+1 and PORT+i+2 (system context, one target), raft PORT+i+7. The three servers have
# different management ports (a server finds its access point by its port) on different
# addresses, so their other ports may coincide. A second attempt takes the next-but-one
# slot of the block.
t_ports 11824 4

# attempt N: the whole scenario on fresh servers in $TMP/tryN; returns 0 when it ran (its
# checks counted), 2 when the leader changed on its own before the kill (inconclusive).
attempt() {
	local i m L LRANK S LEADER LO_PID changed=0
	A=$TMP/try$1
	mkdir -p "$A"
	srv3_addrs "$PORT" 1
	srv3_config "$A" 1
	D_FAULTS=300:once srv3_start "$A" 0 1 2
	srv3_agent "$A"
	srv3_joined "$A" 40

	for i in $(seq 20); do
		dmg_j pc pool create -z 3G tank
		[ "$(jget pc status)" = 0 ] && break
		sleep 0.5
	done
	PUUID=$(jget pc response.uuid)
	if [ -z "$PUUID" ] || [ "$(jget pc response.tgt_ranks)" != 3 ]; then
		fail "dmg pool create over the three ranks"
		show_dmg pc
		exit 1
	fi
	pass "pool tank over three ranks: $PUUID"

	dmg_j lq system leader-query
	LEADER=$(jget lq response.current_leader)
	L=
	for i in 0 1 2; do
		[ "${ADDRS[$i]}" = "$LEADER" ] && L=$i
	done
	[ -n "$L" ] || {
		fail "no leader among ${ADDRS[*]}: '$LEADER'"
		exit 1
	}
	LRANK=
	for m in 0 1 2; do
		[ "$(jget sq "response.members.$m.addr")" = "$LEADER" ] && LRANK=$(jget sq "response.members.$m.rank")
	done
	S=$(((L + 1) % 3)) # a survivor: TgtQuery there
	pass "MS leader ${ADDRS[$L]} (rank $LRANK); TgtQuery at ${ADDRS[$S]}"

	cd "$A" || exit 1
	mkfifo "$A/go"
	timeout 240 "$TEST" lost tank "$LRANK" "${ADDRS[$S]}" "$PUUID" <"$A/go" >"$A/lost.out" \
		2>"$A/lost.err" &
	LO_PID=$!
	t_track "$LO_PID"
	exec 3>"$A/go"
	if wait_line "$A/lost.out" "^ready" 60; then
		grep -q "fault 300" "$A/srv$S.err" && pass "the surviving engine dropped the ADD" ||
			fail "no 'fault 300' line in srv$S.err"
		# a leader change since the pool was made would have re-sent the table already (the
		# client's checks above show it); say so, as the likely cause of such a failure
		dmg_j lq2 system leader-query
		if [ "$(jget lq2 response.current_leader)" != "$LEADER" ]; then
			echo "note: the MS leader changed on its own: now '$(jget lq2 response.current_leader)'"
			changed=1
		fi
		kill -KILL "${SRV_PID[$L]}"
		wait_exit "${SRV_PID[$L]}" 10
		pass "kill -9 of the MS leader's server ${ADDRS[$L]}"
	else
		fail "caps_test lost never got ready"
		show out "$A/lost.out"
		show err "$A/lost.err"
	fi
	# in a subshell: if caps_test has exited, SIGPIPE ends that, not the script
	(echo go >&3) 2>/dev/null
	exec 3>&-
	wait_exit "$LO_PID" 240
	sed 's/^/    /' "$A/lost.out"
	if [ "$RC" = 0 ]; then
		pass "caps_test lost: $(grep -c '^ok:' "$A/lost.out") checks"
	elif [ $changed = 1 ]; then
		echo "attempt $1 inconclusive: caps_test lost exit $RC after a leader change of its own"
		return 2
	else
		fail "caps_test lost exit $RC"
		show stderr "$A/lost.err"
		for i in 0 1 2; do
			grep -E "leader|TgtHdl|fault|handle tables" "$A/srv$i.err" | tail -8 |
				sed "s/^/      srv$i: /"
		done
	fi
	return 0
}

# attempt 1; once more on the next-but-one port slot if it was inconclusive
F0=$FAILS
attempt 1
if [ $? = 2 ]; then
	FAILS=$F0
	# this shell's background children still unreaped: attempt 1's servers and agent
	for pid in $(jobs -p); do
		kill -KILL "$pid" 2>/dev/null
		wait_exit "$pid" 10
	done
	PORT=$((11824 + ((PORT - 11824) / 8 + 2) % 4 * 8))
	attempt 2 || fail "attempt 2 inconclusive too: the MS leader changed on its own again"
fi
t_summary
