#!/usr/bin/env bash
# test_mgmt_single.sh DAOS_SERVER DMG DMG_JSON_GET: the management service on one node.
#
# Starts one daos_server (2 targets, tcp on loopback, no access point configured but itself)
# in a fresh directory and drives it with `dmg -j`, parsing the JSON: storage formatted at
# the first start, the server's MS replica elected and the engine joined as rank 0, pool
# create/list/query/get-prop/set-prop/ACLs/destroy, a duplicate label refused with
# DER_EXIST, an unknown pool's destroy with DER_NONEXIST, and after a restart the same rank
# and the pools still there. Every process started here is killed by the EXIT trap.
set -u

. "$(dirname "$0")/../lib/server.sh"
t_args SRV:daos_server DMG:dmg JGET:dmg_json_get -- "$@"
t_init test_mgmt_single
# 6000-7999 (tests/README.md): below the ephemeral range; raft takes PORT + 7.
t_ports 6000 250
# dmg_j (lib/server.sh) asks this server
HOSTS=$ADDR

cat >"$TMP/daos_server.yml" <<EOF
name: daos_server
auto_format: true
port: $PORT
provider: ofi+tcp;ofi_rxm
transport_config:
  allow_insecure: true
engines:
  - targets: 2
    fabric_iface: lo
    fabric_iface_port: $FAB_PORT
EOF

SRV_PID=
start_server() {
	"$SRV" start -o "$TMP/daos_server.yml" --data-dir "$TMP/data" >>"$TMP/srv.out" \
		2>>"$TMP/srv.err" &
	SRV_PID=$!
	t_track "$SRV_PID"
}

# wait_joined N: until system query shows N joined ranks (20 s at most).
wait_joined() {
	local i
	for i in $(seq 200); do
		dmg_j sq system query
		if [ $RC = 0 ] && [ "$(jget sq response.members)" = "$1" ] &&
			[ "$(jget sq "response.members.$(($1 - 1)).state")" = joined ]; then
			return 0
		fi
		sleep 0.1
	done
	return 1
}

echo "== first start: format, MS bootstrap, join"
start_server
if wait_joined 1; then
	pass "rank $(jget sq response.members.0.rank) joined"
else
	fail "no joined rank"
	show out "$TMP/sq.out"
	show err "$TMP/srv.err"
	exit 1
fi
[ -s "$TMP/data/daos_server.lock" ] || [ -d "$TMP/data" ] && pass "data directory formatted" ||
	fail "no data directory"
RANK=$(jget sq response.members.0.rank)
UUID=$(jget sq response.members.0.uuid)
[ "$RANK" = 0 ] && pass "first rank is 0" || fail "first rank $RANK"
dmg_j lq system leader-query
[ $RC = 0 ] && [ "$(jget lq response.current_leader)" = "$ADDR" ] &&
	pass "leader-query: $ADDR leads" || {
	fail "leader-query: exit $RC"
	show out "$TMP/lq.out"
}

echo "== pools"
dmg_j pc pool create -z 1G tank
if [ $RC = 0 ] && [ "$(jget pc status)" = 0 ] && [ "$(jget pc response.tgt_ranks.0)" = 0 ]; then
	PUUID=$(jget pc response.uuid)
	pass "pool create tank: $PUUID, tier bytes $(jget pc response.tier_bytes.0)+$(jget pc response.tier_bytes.1)"
else
	fail "pool create: exit $RC"
	show out "$TMP/pc.out"
	show err "$TMP/pc.err"
fi
dmg_j pcd pool create -z 1G tank
[ $RC = 1 ] && [ "$(jget pcd status)" = -1004 ] && pass "duplicate label: DER_EXIST" || {
	fail "duplicate label: exit $RC"
	show out "$TMP/pcd.out"
}
dmg_j pc2 pool create -z 1G tank2
[ $RC = 0 ] && pass "pool create tank2" || {
	fail "pool create tank2: exit $RC"
	show out "$TMP/pc2.out"
}
NDIRS=$(find "$TMP/data" -mindepth 1 -type d | wc -l)
dmg_j pct pool create -z 1M tiny
[ $RC = 1 ] && [ "$(jget pct status)" -lt 0 ] 2>/dev/null &&
	pass "a pool too small for the targets: $(jget pct error | grep -o 'DER_[A-Z_]*')" || {
	fail "tiny pool: exit $RC"
	show out "$TMP/pct.out"
}
dmg_j pcr pool create -z 1G --ranks 5 norank
[ $RC = 1 ] && [ "$(jget pcr status)" = -1005 ] && pass "a pool on a rank not in the system: DER_NONEXIST" || {
	fail "pool on rank 5: exit $RC"
	show out "$TMP/pcr.out"
}
[ "$(find "$TMP/data" -mindepth 1 -type d | wc -l)" = "$NDIRS" ] &&
	pass "failed creates left nothing on disk" || fail "failed creates left directories"
dmg_j pl pool list
[ $RC = 0 ] && [ "$(jget pl response.pools)" = 2 ] &&
	[ "$(jget pl response.pools.1.tier_stats.1.total)" -gt 0 ] 2>/dev/null &&
	pass "pool list: 2 pools, with their space" || {
	fail "pool list"
	show out "$TMP/pl.out"
}
dmg_j pq pool query tank
if [ $RC = 0 ] && [ "$(jget pq response.uuid)" = "$PUUID" ] &&
	[ "$(jget pq response.total_targets)" = 2 ] && [ "$(jget pq response.version)" = 1 ] &&
	[ "$(jget pq response.tier_stats.0.total)" -gt 0 ] 2>/dev/null; then
	pass "pool query: 2 targets, map version 1, scm $(jget pq response.tier_stats.0.total) B"
else
	fail "pool query: exit $RC"
	show out "$TMP/pq.out"
fi
dmg_j sp pool set-prop tank2 label:tank3
dmg_j gp pool get-prop tank3
[ $RC = 0 ] && [ "$(jget gp response.0.value)" = tank3 ] && pass "set-prop label, get-prop" || {
	fail "set-prop/get-prop: exit $RC"
	show out "$TMP/gp.out"
}
dmg_j sp2 pool set-prop tank3 label:tank
[ $RC = 1 ] && [ "$(jget sp2 status)" = -1004 ] && pass "set-prop to a taken label: DER_EXIST" ||
	fail "set-prop taken label: exit $RC"
dmg_j ua pool update-acl -e A::bob@:r tank
dmg_j ga pool get-acl tank
[ $RC = 0 ] && grep -q 'A::bob@:r' "$TMP/ga.out" && pass "update-acl, get-acl" || {
	fail "acl: exit $RC"
	show out "$TMP/ga.out"
}
dmg_j da pool delete-acl -p bob@ tank
dmg_j ga2 pool get-acl tank
[ $RC = 0 ] && ! grep -q 'bob@' "$TMP/ga2.out" && pass "delete-acl" || fail "delete-acl"
dmg_j lc pool list-cont tank
[ $RC = 0 ] && pass "list-cont" || fail "list-cont: exit $RC"
dmg_j pdx pool destroy nosuchpool
[ $RC = 1 ] && [ "$(jget pdx status)" = -1005 ] && pass "destroy unknown: DER_NONEXIST" || {
	fail "destroy unknown: exit $RC"
	show out "$TMP/pdx.out"
}
dmg_j pd pool destroy tank3
dmg_j pl2 pool list --no-query
[ $RC = 0 ] && [ "$(jget pl2 response.pools)" = 1 ] && [ "$(jget pl2 response.pools.0.label)" = tank ] &&
	pass "destroy tank3: one pool left" || {
	fail "destroy: exit $RC"
	show out "$TMP/pl2.out"
}
[ ! -e "$TMP/data" ] || ! find "$TMP/data" -path "*$(jget pc2 response.uuid)*" | grep -q . &&
	pass "tank3's shards removed" || fail "tank3's shards still on disk"

echo "== restart"
kill -TERM "$SRV_PID"
wait "$SRV_PID"
RC=$?
[ $RC = 0 ] && pass "SIGTERM: exit 0" || fail "stop: exit $RC"
start_server
if wait_joined 1; then
	[ "$(jget sq response.members.0.rank)" = "$RANK" ] &&
		[ "$(jget sq response.members.0.uuid)" = "$UUID" ] &&
		pass "rejoined as rank $RANK, same uuid" || fail "rank or uuid changed"
else
	fail "no joined rank after restart"
	show err "$TMP/srv.err"
fi
dmg_j pl3 pool list
[ $RC = 0 ] && [ "$(jget pl3 response.pools)" = 1 ] && [ "$(jget pl3 response.pools.0.uuid)" = "$PUUID" ] &&
	pass "the pool survived the restart" || {
	fail "pools after restart"
	show out "$TMP/pl3.out"
}
dmg_j pq2 pool query tank
[ $RC = 0 ] && [ "$(jget pq2 response.active_targets)" = 2 ] &&
	pass "its shards are open again" || fail "pool query after restart: exit $RC"
dmg_j pd2 pool destroy tank
[ $RC = 0 ] && pass "destroy tank" || fail "destroy tank: exit $RC"

t_summary
