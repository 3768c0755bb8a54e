#!/usr/bin/env bash
# test_mgmt_three.sh DAOS_SERVER DMG DMG_JSON_GET: three servers, three MS replicas.
#
# Starts three daos_server processes on 127.0.0.1, 127.0.0.2 and 127.0.0.3 (each its own data
# directory, management port and fabric ports; all three are access points) and checks with
# `dmg -j`: a leader is elected and the three engines join as ranks 0-2; dmg works against
# any server (leader hints); a pool spans the three ranks; kill -9 of the leader's server
# gives a new leader within seconds and the pool is still listed; the dead rank is marked
# excluded after its heartbeat deadline and its targets are DOWN in the pool map (version
# bump); restarted, it rejoins with the same rank; system exclude keeps a rank out (joins
# refused, targets DOWN) until clear-exclude; all three stopped and restarted keep their
# ranks and the pool; with the MS database wiped, engines get the ranks recorded in their
# superblocks back. Every process started here is killed by the EXIT trap.
set -u

. "$(dirname "$0")/../lib/server.sh"
t_args SRV_BIN:daos_server DMG:dmg JGET:dmg_json_get -- "$@"
t_init test_mgmt_three
# 8000-8639 (tests/README.md), 24 ports per run: server i has management port BASE + 8 i,
# fabric ports BASE + 8 i + 1 .., raft BASE + 8 i + 7. (80 slots of 24 reached 9919, into the
# blocks of cont/ at 8640 and dfuse/ at 9300: 26 slots fit.)
srv3_addrs $((8000 + ($$ % 26) * 24)) 8
srv3_config "$TMP" 1

# wait_members HOSTS N STATE SECS: until system query shows N members, all in STATE.
wait_members() {
	local hosts=$1 n=$2 state=$3 secs=$4 t j ok
	for t in $(seq $((secs * 5))); do
		dmg_at "$hosts" sq system query
		if [ $RC = 0 ] && [ "$(jget sq response.members)" = "$n" ]; then
			ok=1
			for j in $(seq 0 $((n - 1))); do
				[ "$(jget sq "response.members.$j.state")" = "$state" ] || ok=0
			done
			[ $ok = 1 ] && return 0
		fi
		sleep 0.2
	done
	return 1
}

echo "== three servers, three replicas"
T0=$(date +%s%N)
srv3_start "$TMP" 0 1 2
if wait_members "$HOSTS" 3 joined 30; then
	T1=$(date +%s%N)
	pass "leader elected, 3 ranks joined in $(((T1 - T0) / 1000000)) ms"
else
	fail "3 ranks did not join"
	show out "$TMP/sq.out"
	for i in 0 1 2; do show "srv$i.err" "$TMP/srv$i.err"; done
	exit 1
fi
declare -A RANK_OF UUID_OF
for j in 0 1 2; do
	RANK_OF[$(jget sq "response.members.$j.addr")]=$(jget sq "response.members.$j.rank")
	UUID_OF[$(jget sq "response.members.$j.addr")]=$(jget sq "response.members.$j.uuid")
done
[ "$(printf '%s\n' "${RANK_OF[@]}" | sort | tr '\n' ' ')" = "0 1 2 " ] &&
	pass "ranks 0, 1, 2" || fail "ranks: ${RANK_OF[*]}"
dmg_at "${ADDRS[0]}" lq system leader-query
LEADER=$(jget lq response.current_leader)
[ $RC = 0 ] && [ -n "$LEADER" ] && [ "$(jget lq response.replicas)" = 3 ] &&
	pass "leader $LEADER, 3 replicas" || {
	fail "leader-query: exit $RC"
	show out "$TMP/lq.out"
}

echo "== a pool on three ranks, dmg against each server"
dmg_at "${ADDRS[2]}" pc pool create -z 3G tank
[ $RC = 0 ] && [ "$(jget pc response.tgt_ranks)" = 3 ] && pass "pool create via ${ADDRS[2]}: 3 ranks" || {
	fail "pool create: exit $RC"
	show out "$TMP/pc.out"
	show err "$TMP/pc.err"
}
PUUID=$(jget pc response.uuid)
for i in 0 1 2; do
	dmg_at "${ADDRS[$i]}" pl$i pool list
	[ $RC = 0 ] && [ "$(jget pl$i response.pools.0.uuid)" = "$PUUID" ] ||
		fail "pool list via ${ADDRS[$i]}: exit $RC"
done
[ "$FAILS" = 0 ] && pass "pool list answers the same via every server"
dmg_at "$HOSTS" pq pool query tank
[ $RC = 0 ] && [ "$(jget pq response.total_targets)" = 3 ] && [ "$(jget pq response.version)" = 1 ] &&
	pass "pool query: 3 targets, version 1" || {
	fail "pool query: exit $RC"
	show out "$TMP/pq.out"
}

echo "== kill -9 of the leader"
for i in 0 1 2; do
	[ "${ADDRS[$i]}" = "$LEADER" ] && L=$i
done
kill -KILL "${SRV_PID[$L]}"
wait "${SRV_PID[$L]}" 2>/dev/null
T0=$(date +%s%N)
OTHERS=$(for i in 0 1 2; do [ $i = "$L" ] || printf '%s,' "${ADDRS[$i]}"; done)
OTHERS=${OTHERS%,}
NEW=
for t in $(seq 100); do
	dmg_at "${OTHERS%%,*}" lq2 system leader-query
	NEW=$(jget lq2 response.current_leader)
	[ -n "$NEW" ] && [ "$NEW" != "$LEADER" ] && break
	NEW=
	sleep 0.1
done
T1=$(date +%s%N)
[ -n "$NEW" ] && pass "new leader $NEW in $(((T1 - T0) / 1000000)) ms" || fail "no new leader"
dmg_at "$OTHERS" pl3 pool list
[ $RC = 0 ] && [ "$(jget pl3 response.pools.0.uuid)" = "$PUUID" ] &&
	pass "the pool is still listed" || {
	fail "pool list after failover: exit $RC"
	show out "$TMP/pl3.out"
}

echo "== the dead rank is excluded, its targets DOWN"
DEAD=${RANK_OF[$LEADER]}
ok=0
for t in $(seq 75); do
	dmg_at "$OTHERS" sq2 system query
	for j in 0 1 2; do
		if [ "$(jget sq2 "response.members.$j.rank")" = "$DEAD" ] &&
			[ "$(jget sq2 "response.members.$j.state")" = excluded ]; then
			ok=1
		fi
	done
	[ $ok = 1 ] && break
	sleep 0.2
done
[ $ok = 1 ] && pass "rank $DEAD excluded" || {
	fail "rank $DEAD not excluded"
	show out "$TMP/sq2.out"
}
dmg_at "$OTHERS" pq2 pool query tank
[ $RC = 0 ] && [ "$(jget pq2 response.disabled_targets)" = 1 ] &&
	[ "$(jget pq2 response.version)" -gt 1 ] 2>/dev/null &&
	pass "pool query: 1 target disabled, map version $(jget pq2 response.version)" || {
	fail "pool query after exclusion: exit $RC"
	show out "$TMP/pq2.out"
}

echo "== the killed server restarts and rejoins with its rank"
srv3_start "$TMP" "$L"
if wait_members "$HOSTS" 3 joined 30; then
	ok=0
	for j in 0 1 2; do
		[ "$(jget sq "response.members.$j.addr")" = "$LEADER" ] &&
			[ "$(jget sq "response.members.$j.rank")" = "$DEAD" ] &&
			[ "$(jget sq "response.members.$j.uuid")" = "${UUID_OF[$LEADER]}" ] && ok=1
	done
	[ $ok = 1 ] && pass "rejoined as rank $DEAD" || fail "rejoined with another rank"
else
	fail "did not rejoin"
	show out "$TMP/sq.out"
fi
echo "== system exclude / clear-exclude"
for i in 0 1 2; do
	[ "$i" != "$L" ] && X=$i
done
XRANK=${RANK_OF[${ADDRS[$X]}]}
dmg_at "$HOSTS" ex system exclude --ranks "$XRANK"
[ $RC = 0 ] && [ "$(jget ex response.results.0.state)" = adminexcluded ] &&
	pass "system exclude --ranks $XRANK" || {
	fail "system exclude: exit $RC"
	show out "$TMP/ex.out"
	show err "$TMP/ex.err"
}
sleep 2
dmg_at "$HOSTS" sq3 system query --ranks "$XRANK"
[ "$(jget sq3 response.members.0.state)" = adminexcluded ] &&
	pass "rank $XRANK stays adminexcluded (its joins are refused)" || {
	fail "rank $XRANK state"
	show out "$TMP/sq3.out"
}
dmg_at "$HOSTS" pq3 pool query tank
[ $RC = 0 ] && [ "$(jget pq3 response.disabled_targets)" = 2 ] &&
	pass "pool query: 2 targets disabled, map version $(jget pq3 response.version)" || {
	fail "pool query after exclude: exit $RC"
	show out "$TMP/pq3.out"
}
dmg_at "$HOSTS" cex system clear-exclude --ranks "$XRANK"
[ $RC = 0 ] && wait_members "$HOSTS" 3 joined 20 && pass "clear-exclude: rank $XRANK joined again" || {
	fail "clear-exclude: exit $RC"
	show out "$TMP/sq.out"
}

echo "== all three servers stopped and restarted"
for i in 0 1 2; do
	kill -TERM "${SRV_PID[$i]}"
done
for i in 0 1 2; do
	wait "${SRV_PID[$i]}"
	RC=$?
	[ $RC = 0 ] || fail "server $i: exit $RC at SIGTERM"
done
srv3_start "$TMP" 0 1 2
if wait_members "$HOSTS" 3 joined 30; then
	ok=1
	for j in 0 1 2; do
		[ "${RANK_OF[$(jget sq "response.members.$j.addr")]}" = \
			"$(jget sq "response.members.$j.rank")" ] || ok=0
	done
	[ $ok = 1 ] && pass "3 ranks joined again, each with its rank" || {
		fail "ranks changed across the restart"
		show out "$TMP/sq.out"
	}
else
	fail "not all ranks rejoined after the restart"
	show out "$TMP/sq.out"
fi
dmg_at "$HOSTS" pl4 pool list
[ $RC = 0 ] && [ "$(jget pl4 response.pools.0.uuid)" = "$PUUID" ] &&
	pass "the pool survived the restart of every server" || {
	fail "pool list after the restart: exit $RC"
	show out "$TMP/pl4.out"
}

dmg_at "$HOSTS" pd pool destroy --force tank
[ $RC = 0 ] && pass "pool destroy" || {
	fail "pool destroy: exit $RC"
	show out "$TMP/pd.out"
}

echo "== the MS database lost: engines ask for the ranks in their superblocks"
for i in 0 1 2; do
	kill -TERM "${SRV_PID[$i]}"
done
for i in 0 1 2; do
	wait "${SRV_PID[$i]}"
	rm -rf "$TMP/data$i/control_meta"
done
# start them in the reverse order of their ranks: join order alone would renumber them
for a in $(for k in "${!RANK_OF[@]}"; do echo "${RANK_OF[$k]} $k"; done | sort -rn | cut -d' ' -f2); do
	for i in 0 1 2; do
		[ "${ADDRS[$i]}" = "$a" ] && srv3_start "$TMP" $i
	done
	sleep 0.3
done
if wait_members "$HOSTS" 3 joined 30; then
	ok=1
	for j in 0 1 2; do
		[ "${RANK_OF[$(jget sq "response.members.$j.addr")]}" = \
			"$(jget sq "response.members.$j.rank")" ] || ok=0
	done
	[ $ok = 1 ] && pass "a new MS gave every engine its recorded rank" || {
		fail "ranks not kept from the superblocks"
		show out "$TMP/sq.out"
	}
else
	fail "not all ranks joined the new MS"
	show out "$TMP/sq.out"
fi

t_summary
