#!/usr/bin/env bash
# test_pool_reint.sh DAOS_SERVER DAOS_AGENT DMG DMG_JSON_GET SYSCTL_IO DAOS: pool map changes by
# dmg (pool exclude / drain / reintegrate), an exclusion racing pool record updates, and the
# removal of the shards a pool destroy could not reach, with three servers on 127.0.0.1-3
# (all access points, 2 targets each), a real daos_agent and a libdaos client (sysctl_io.c:
# an object over every target of the pool).
#
# Checks: while two dmg processes update the pool ACL and set a property, `dmg system exclude
# --ranks 1` commits; afterwards the ACL has every entry, the property its last value and
# rank 1's targets are DOWN (nothing lost on either side). After clear-exclude and a kill -9
# and restart of rank 1's server, `dmg pool reintegrate --ranks 1` brings its targets back
# (pool query: none disabled, a new map version) and the data written before the exclusion
# is read back through libdaos, new data too. Reintegrating a stopped rank or a rank not in
# the pool fails; drain, exclude and reintegrate of one target index. A pool destroyed while
# rank 2 is stopped keeps its shard directory on rank 2 until `system start` brings it back;
# then the directory is removed; a container destroyed (`daos container destroy`) meanwhile
# is destroyed on rank 2 at its join (the leader's log says so: a VOS container is no
# directory). Every process started here is killed by the EXIT trap.
set -u

. "$(dirname "$0")/../lib/server.sh"
t_args SRV_BIN:daos_server AGENT:daos_agent DMG:dmg JGET:dmg_json_get IO:sysctl_io DAOS:daos -- "$@"
t_init test_pool_reint

# 11944-11991 (tests/README.md), 24 ports a run: server i has management port BASE + 8 i,
# fabric ports BASE + 8 i + 1 .. + 3, raft BASE + 8 i + 7.
srv3_addrs $((11944 + ($$ % 2) * 24)) 8
srv3_config "$TMP" 2 storage log_mask=NOTE

# io NAME ARGS...: the client (bounded), output in $TMP/NAME.out, RC
io() {
	t_run "$1" 120 "$IO" "${@:2}"
}

# pq NAME POOL: pool query; DIS (disabled targets, 0 if absent) and VER (map version)
pq() {
	dmg_j "$1" pool query "$2"
	DIS=$(jget "$1" response.disabled_targets)
	DIS=${DIS:-0}
	VER=$(jget "$1" response.version)
}

echo "== three servers, an agent, a pool with data on every target"
srv3_start "$TMP" 0 1 2
srv3_joined "$TMP" 60
# the server index of each rank
declare -A IDX_OF
for j in 0 1 2; do
	a=$(jget sq "response.members.$j.addr")
	for i in 0 1 2; do
		[ "$a" = "${ADDRS[$i]}" ] && IDX_OF[$(jget sq "response.members.$j.rank")]=$i
	done
done
srv3_agent "$TMP"
dmg_j pc pool create --scm-size 32MiB --nvme-size 256MiB tank
[ $RC = 0 ] && [ "$(jget pc response.tgt_ranks)" = 3 ] && pass "pool tank on 3 ranks" || {
	fail "pool create: exit $RC"
	show_dmg pc
	exit 1
}
io put1 tank c1 put 48 1
[ $RC = 0 ] && pass "48 dkeys written over every target" || {
	fail "write: exit $RC: $(cat "$TMP/put1.out")"
	exit 1
}
pq pq0 tank
VER0=$VER
TANK=$(jget pc response.uuid)

echo "== system exclude --ranks 1 racing ACL updates and set-prop"
N=12
(
	for k in $(seq $N); do
		timeout 60 "$DMG" -j -l "$HOSTS" pool update-acl tank -e "A::racer$k@:r" \
			>"$TMP/acl$k.out" 2>&1 || echo "acl $k: exit $?" >>"$TMP/race.err"
	done
) &
P1=$!
t_track $P1
(
	for k in $(seq $N); do
		timeout 60 "$DMG" -j -l "$HOSTS" pool set-prop tank "scrub_freq:$k" \
			>"$TMP/sp$k.out" 2>&1 || echo "set-prop $k: exit $?" >>"$TMP/race.err"
	done
) &
P2=$!
t_track $P2
sleep 0.3
dmg_j ex system exclude --ranks 1
EXRC=$RC
wait $P1 $P2
[ $EXRC = 0 ] && [ ! -s "$TMP/race.err" ] && pass "exclude and $((2 * N)) updates succeeded" || {
	fail "exclude exit $EXRC; $(cat "$TMP/race.err" 2>/dev/null)"
	show_dmg ex
}
dmg_j acl pool get-acl tank
n=0
for k in $(seq $N); do
	grep -q "A::racer$k@:r" "$TMP/acl.out" && n=$((n + 1))
done
[ $n = $N ] && pass "the ACL has all $N entries" || {
	fail "the ACL has $n of $N entries"
	show_dmg acl
}
dmg_j gp pool get-prop tank scrub_freq
grep -q "\"value\": *$N\b\|\"value\": *\"$N\"" "$TMP/gp.out" && pass "scrub_freq is $N (the last set)" || {
	fail "scrub_freq after the race"
	show_dmg gp
}
pq pq1 tank
[ "$DIS" = 2 ] && [ "$VER" -gt "$VER0" ] &&
	pass "rank 1's 2 targets DOWN (map version $VER0 -> $VER)" || {
	fail "after the exclusion: $DIS disabled, version $VER"
	show_dmg pq1
}
VER1=$VER

echo "== clear-exclude, restart of rank 1's server, reintegrate"
dmg_j ce system clear-exclude --ranks 1
[ $RC = 0 ] && pass "clear-exclude" || show_dmg ce
R1=${IDX_OF[1]}
kill -KILL "${SRV_PID[$R1]}"
wait "${SRV_PID[$R1]}" 2>/dev/null
srv3_start "$TMP" "$R1"
wait_states 60 joined joined joined && pass "rank 1 joined again" || {
	fail "rank 1 did not join"
	show_dmg sq
}
pq pq2 tank
[ "$DIS" = 2 ] && pass "its targets still DOWN after the join" || fail "after join: $DIS disabled"
dmg_j rbad pool reintegrate tank --ranks 7
[ $RC != 0 ] && pass "reintegrate of a rank not in the pool refused" || fail "reintegrate --ranks 7"
dmg_j ri pool reintegrate tank --ranks 1
pq pq3 tank
[ $RC = 0 ] && [ "$DIS" = 0 ] && [ "$VER" -gt "$VER1" ] &&
	pass "reintegrate: no target disabled, map version $VER1 -> $VER" || {
	fail "reintegrate: exit $RC, $DIS disabled, version $VER"
	show_dmg ri
	show_dmg pq3
}
io get1 tank c1 get 48 1
[ $RC = 0 ] && pass "data written before the exclusion read back (rank 1 kept its shard)" || {
	fail "read after reintegration: exit $RC: $(cat "$TMP/get1.out")"
	for i in 0 1 2; do grep -v NOTE "$TMP/srv$i.err" | tail -5; done
}
io put2 tank c2 put 48 2
[ $RC = 0 ] && io get2 tank c2 get 48 2
[ $RC = 0 ] && pass "new data through every target" || fail "write/read c2: $(cat "$TMP/put2.out" "$TMP/get2.out" 2>/dev/null)"

echo "== drain, exclude and reintegrate of one target"
dmg_j dr pool drain tank --ranks 2 --target-idx 1
[ $RC = 0 ] && pass "drain rank 2 target 1" || show_dmg dr
dmg_j ex1 pool exclude tank --ranks 2 --target-idx 1
pq pq4 tank
[ $RC = 0 ] && [ "$DIS" = 1 ] && pass "exclude rank 2 target 1: 1 disabled" || {
	fail "pool exclude: $DIS disabled"
	show_dmg ex1
}
dmg_j ri1 pool reintegrate tank --ranks 2 --target-idx 1
pq pq5 tank
[ "$DIS" = 0 ] && pass "reintegrate rank 2 target 1" || {
	fail "reintegrate one target: $DIS disabled"
	show_dmg ri1
}
io get3 tank c2 get 48 2
[ $RC = 0 ] && pass "data read back" || fail "read: $(cat "$TMP/get3.out")"

echo "== pool destroy while rank 2 is stopped"
R2=${IDX_OF[2]}
dmg_j pc2 pool create --scm-size 32MiB --nvme-size 256MiB gone
UU=$(jget pc2 response.uuid)
io put3 gone g1 put 8 3
[ -n "$UU" ] && [ -n "$(find "$TMP/data$R2" -name "$UU" 2>/dev/null)" ] &&
	pass "pool gone has a shard on rank 2" || fail "no shard of $UU on rank 2"
dmg_j st system stop --ranks 2
wait_states 20 joined joined stopped || fail "rank 2 did not stop"
dmg_j rst pool reintegrate tank --ranks 2
[ $RC != 0 ] && pass "reintegrate of a stopped rank refused" || fail "reintegrate of rank 2"
dmg_j pd pool destroy gone
[ $RC = 0 ] && pass "destroy with rank 2 stopped" || show_dmg pd
timeout 120 "$DAOS" container destroy tank c2 >"$TMP/cd.out" 2>&1
[ $? = 0 ] && pass "container c2 destroyed with rank 2 stopped" || {
	fail "daos container destroy"
	show out "$TMP/cd.out"
}
[ -n "$(find "$TMP/data$R2" -name "$UU" 2>/dev/null)" ] &&
	pass "the shard is still on the stopped rank" || fail "shard gone while stopped?"
dmg_j sst system start --ranks 2
wait_states 30 joined joined joined && pass "rank 2 back" || fail "rank 2 did not start"
gone=0
for t in $(seq 50); do
	if [ -z "$(find "$TMP/data$R2" -name "$UU" 2>/dev/null)" ]; then
		gone=1
		break
	fi
	sleep 0.2
done
[ $gone = 1 ] && pass "the orphan shard was removed at the join" || {
	fail "the shard of $UU is still on rank 2"
	find "$TMP/data$R2" -name "$UU"
}
n=0
for t in $(seq 50); do
	n=$(cat "$TMP"/srv?.err | grep -c "orphan 0*2/$TANK/[0-9a-f-]* removed")
	[ "$n" -ge 1 ] && break
	sleep 0.2
done
[ "$n" -ge 1 ] && pass "container c2 destroyed on rank 2 at its join" || {
	fail "no orphan container of $TANK removed on rank 2"
	grep -h orphan "$TMP"/srv?.err
}
io get4 tank c1 get 48 1
[ $RC = 0 ] && pass "pool tank intact" || fail "tank read: $(cat "$TMP/get4.out")"
t_summary
