#!/usr/bin/env bash
# test_sysctl_three.sh DAOS_SERVER DAOS_AGENT DMG DMG_JSON_GET SYSCTL_IO: system stop/start,
# storage query usage and format, and pool create --size N%, with three servers on 127.0.0.1-3
# (all access points, 2 targets each), a real daos_agent and a libdaos client (sysctl_io.c).
#
# Checks: `dmg storage query usage` answers for every host (ram tier = scm_size, file tier =
# bdev_size, free space shrinking by what a pool takes); `dmg storage format` answers
# "already formatted" on every host and loses nothing; `dmg system stop --ranks 1-2` stops
# those engines (results per rank, state stopped), the control plane stays (system query
# from the stopped servers too), they stay stopped past the heartbeat deadline (not
# excluded, the pool map unchanged), I/O through them fails with an error within a timeout;
# `system start` brings them back joined and the data written before the stop is read back;
# stop and start of every rank (the MS leader's engine included); `--size 50%` creates a
# pool of half the free space the usage query showed; 0%, 101% and garbage are refused.
# Every process started here is killed by the EXIT trap.
set -u

SRV_BIN=${1:?usage: $0 daos_server daos_agent dmg dmg_json_get sysctl_io}
AGENT=${2:?}
DMG=${3:?}
JGET=${4:?}
IO=${5:?}
. "$(dirname "$0")/../lib/server.sh"
t_need_exec "$SRV_BIN" "$AGENT" "$DMG" "$JGET" "$IO"
t_init test_sysctl_three

# 32000-32311 (tests/README.md), 24 ports a run: server i has management port BASE + 8 i,
# fabric ports BASE + 8 i + 1 .. + 3, raft BASE + 8 i + 7. srv3_launch (below) moves to
# another slot when another suite's servers hold this one.

# io NAME ARGS...: the client (bounded), output in $TMP/NAME.out, RC, MS (its time)
io() {
	local t0
	t0=$(date +%s%N)
	t_run "$1" 90 "$IO" "${@:2}"
	MS=$((($(date +%s%N) - t0) / 1000000))
}

# check_results NAME ACTION N STATE: N results, each ACTION, not errored, in STATE
check_results() {
	local name=$1 action=$2 n=$3 state=$4 j ok=1
	[ "$RC" = 0 ] && [ "$(jget "$name" status)" = 0 ] || ok=0
	[ "$(jget "$name" response.results)" = "$n" ] || ok=0
	for j in $(seq 0 $((n - 1))); do
		[ "$(jget "$name" "response.results.$j.action")" = "$action" ] || ok=0
		[ "$(jget "$name" "response.results.$j.errored")" = "false" ] || ok=0
		[ "$(jget "$name" "response.results.$j.state")" = "$state" ] || ok=0
	done
	[ $ok = 1 ]
}

echo "== three servers"
srv3_launch "$TMP" 2 32000 13 60 storage
declare -A ADDR_OF
for j in 0 1 2; do
	ADDR_OF[$(jget sq "response.members.$j.rank")]=$(jget sq "response.members.$j.addr")
done

echo "== storage query usage"
GiB=$((1 << 30))
SCM=$((256 << 20))
dmg_at "$HOSTS" su storage query usage
ok=1
[ $RC = 0 ] && [ "$(jget su status)" = 0 ] || ok=0
for h in 0 1 2; do
	a=$h
	[ "$(jget su "response.host_storage.$h.hosts")" = "${ADDRS[$h]}" ] || ok=0
	[ "$(jget su "response.host_storage.$a.storage.tiers")" = 2 ] || ok=0
	[ "$(jget su "response.host_storage.$a.storage.tiers.0.tier_class")" = ram ] || ok=0
	[ "$(jget su "response.host_storage.$a.storage.tiers.0.total_bytes")" = $SCM ] || ok=0
	[ "$(jget su "response.host_storage.$a.storage.tiers.0.avail_bytes")" = $SCM ] || ok=0
	[ "$(jget su "response.host_storage.$a.storage.tiers.1.tier_class")" = file ] || ok=0
	[ "$(jget su "response.host_storage.$a.storage.tiers.1.media_type")" = nvme ] || ok=0
	[ "$(jget su "response.host_storage.$a.storage.tiers.1.total_bytes")" = $GiB ] || ok=0
	av=$(jget su "response.host_storage.$a.storage.tiers.1.avail_bytes")
	[ -n "$av" ] && [ "$av" -gt $((GiB * 9 / 10)) ] && [ "$av" -le $GiB ] || ok=0
	r=$(jget su "response.host_storage.$a.storage.rank")
	[ "${ADDR_OF[$r]:-}" = "${ADDRS[$h]}" ] || ok=0
done
[ $ok = 1 ] && pass "usage -j: 3 hosts, ram 256 MiB and file 1 GiB free, each with its rank" || {
	fail "storage query usage -j"
	show_dmg su
}
timeout 60 "$DMG" -l "$HOSTS" storage query usage >"$TMP/sut.out" 2>&1
RC=$?
[ $RC = 0 ] && [ "$(grep -c '^127\.0\.0\.[123]:' "$TMP/sut.out")" = 3 ] &&
	grep -q "NVMe-Free" "$TMP/sut.out" && pass "usage table: a row per host" || {
	fail "usage table: exit $RC"
	show out "$TMP/sut.out"
}
dmg_at "${ADDRS[1]}" su1 storage query usage
[ $RC = 0 ] && [ "$(jget su1 "response.host_storage.0.storage.tiers")" = 2 ] &&
	pass "usage against one server" || {
	fail "usage against ${ADDRS[1]}"
	show_dmg su1
}

echo "== a pool on the three ranks, data written through every target"
srv3_agent "$TMP"
dmg_at "$HOSTS" pc pool create --scm-size 64MiB --nvme-size 512MiB tank
[ $RC = 0 ] && [ "$(jget pc response.tgt_ranks)" = 3 ] && pass "pool create tank on 3 ranks" || {
	fail "pool create: exit $RC"
	show_dmg pc
	for i in 0 1 2; do grep -v NOTE "$TMP/srv$i.err" | tail -5; done
	exit 1
}
dmg_at "$HOSTS" su2 storage query usage
ok=1
for a in 0 1 2; do
	[ "$(jget su2 "response.host_storage.$a.storage.tiers.0.avail_bytes")" = $((SCM - (64 << 20))) ] || ok=0
	av=$(jget su2 "response.host_storage.$a.storage.tiers.1.avail_bytes")
	[ -n "$av" ] && [ "$av" -le $((GiB - (512 << 20))) ] || ok=0
done
[ $ok = 1 ] && pass "usage: each rank's free space less the pool's share" || {
	fail "usage after the pool"
	show_dmg su2
}
io put1 tank c1 put 48 1
[ $RC = 0 ] && pass "48 dkeys written ($MS ms)" || {
	fail "write: exit $RC: $(cat "$TMP/put1.out")"
	show err "$TMP/put1.err"
	exit 1
}

echo "== storage format on formatted servers"
dmg_at "$HOSTS" fmt storage format
ok=1
for a in 0 1 2; do
	[ "$(jget fmt "response.host_storage.$a.storage.results.0.status")" = -1004 ] || ok=0
	[ "$(jget fmt "response.host_storage.$a.storage.results.0.info")" = "already formatted" ] || ok=0
done
[ $ok = 1 ] && pass "format: every host already formatted" || {
	fail "storage format"
	show_dmg fmt
}
dmg_at "$HOSTS" fmtf storage format --force
[ "$RC" != 0 ] || [ "$(jget fmtf "response.host_storage.0.storage.results.0.status")" != 0 ] &&
	pass "format --force of running servers refused" || {
	fail "format --force"
	show_dmg fmtf
}
io get0 tank c1 get 48 1
[ $RC = 0 ] && pass "data intact after format" || fail "read after format: $(cat "$TMP/get0.out")"

echo "== system stop --ranks 1-2"
dmg_at "$HOSTS" stop system stop --ranks 1-2
check_results stop stop 2 stopped && pass "stop: 2 results, stopped" || {
	fail "system stop --ranks 1-2: exit $RC"
	show_dmg stop
}
wait_states 10 joined stopped stopped && pass "query: rank 0 joined, 1-2 stopped" || {
	fail "states after stop"
	show_dmg sq
}
dmg_at "${ADDRS[2]}" sq2 system query
[ $RC = 0 ] && [ "$(state_of sq2 2)" = stopped ] &&
	pass "a stopped server's control plane answers (query via ${ADDRS[2]})" || {
	fail "query via the stopped server"
	show_dmg sq2
}
timeout 60 "$DMG" -l "$HOSTS" system query >"$TMP/sqt.out" 2>&1
grep -qi "stopped" "$TMP/sqt.out" && pass "query table shows stopped" || {
	fail "query table"
	show out "$TMP/sqt.out"
}
dmg_at "$HOSTS" pq0 pool query tank
MAPV0=$(jget pq0 response.version)
io get1 tank c1 get 48 1
if [ $RC != 0 ] && [ $RC != 124 ] && grep -q "^error: " "$TMP/get1.out"; then
	pass "I/O through stopped ranks fails in $MS ms: $(cat "$TMP/get1.out")"
else
	fail "I/O through stopped ranks: exit $RC: $(cat "$TMP/get1.out")"
fi
sleep 5 # past the heartbeat deadline (4 s)
dmg_at "$HOSTS" sq3 system query
dmg_at "$HOSTS" pq1 pool query tank
[ "$(state_of sq3 1)" = stopped ] && [ "$(state_of sq3 2)" = stopped ] &&
	[ "$(jget pq1 response.version)" = "$MAPV0" ] &&
	[ "$(jget pq1 response.disabled_targets)" = 0 ] &&
	pass "past the deadline: still stopped, pool map unchanged (version $MAPV0)" || {
	fail "stopped ranks were excluded"
	show_dmg sq3
	show_dmg pq1
}
dmg_at "$HOSTS" stopa system stop --ranks 1
check_results stopa stop 1 stopped && pass "stop of a stopped rank: OK, stopped" || {
	fail "stop again"
	show_dmg stopa
}

echo "== system start --ranks 1-2"
dmg_at "$HOSTS" start system start --ranks 1-2
check_results start start 2 joined && pass "start: 2 results, joined" || {
	fail "system start --ranks 1-2: exit $RC"
	show_dmg start
}
wait_states 10 joined joined joined && pass "query: 3 joined" || {
	fail "states after start"
	show_dmg sq
}
io get2 tank c1 get 48 1
[ $RC = 0 ] && pass "data written before the stop read back ($MS ms)" || {
	fail "read after start: exit $RC: $(cat "$TMP/get2.out")"
	for i in 1 2; do grep -v NOTE "$TMP/srv$i.err" | tail -5; done
}
io put2 tank c2 put 48 2
[ $RC = 0 ] && pass "new writes after start" || fail "write after start: $(cat "$TMP/put2.out")"

echo "== stop and start of every rank"
dmg_at "$HOSTS" stopall system stop
check_results stopall stop 3 stopped && pass "stop all: 3 stopped" || {
	fail "system stop: exit $RC"
	show_dmg stopall
}
wait_states 10 stopped stopped stopped && pass "query with every engine stopped" || {
	fail "states after stop all"
	show_dmg sq
}
timeout 60 "$DMG" -l "$HOSTS" system start >"$TMP/startt.out" 2>&1
RC=$?
[ $RC = 0 ] && grep -q "start" "$TMP/startt.out" && pass "start all (table)" || {
	fail "system start: exit $RC"
	show out "$TMP/startt.out"
}
wait_states 20 joined joined joined && pass "3 joined again" || {
	fail "states after start all"
	show_dmg sq
}
io get3 tank c1 get 48 1
[ $RC = 0 ] && pass "first data read back after stop/start of all" ||
	fail "read after start all: $(cat "$TMP/get3.out")"
io get4 tank c2 get 48 2
[ $RC = 0 ] && pass "second data read back" || fail "read c2: $(cat "$TMP/get4.out")"
dmg_at "$HOSTS" stopx system stop --ranks 7
[ "$(jget stopx response.absent_ranks)" = 7 ] && [ "$(jget stopx response.results)" = 0 ] &&
	pass "stop of an unknown rank: absent" || {
	fail "stop --ranks 7"
	show_dmg stopx
}

echo "== pool create --size 50%"
dmg_at "$HOSTS" su3 storage query usage
min_of() { # tier index: the smallest avail_bytes among the hosts
	local a v m=
	for a in 0 1 2; do
		v=$(jget su3 "response.host_storage.$a.storage.tiers.$1.avail_bytes")
		if [ -z "$m" ] || [ "$v" -lt "$m" ]; then m=$v; fi
	done
	echo "$m"
}
WANT0=$(($(min_of 0) / 2))
WANT1=$(($(min_of 1) / 2))
dmg_at "$HOSTS" half pool create --size 50% half
G0=$(jget half "response.tier_bytes.0")
G1=$(jget half "response.tier_bytes.1")
within() { # A B: |A - B| <= 2 % of B
	local d=$(($1 - $2))
	[ ${d#-} -le $(($2 / 50)) ]
}
if [ $RC = 0 ] && [ "$(jget half response.tgt_ranks)" = 3 ] && [ -n "$G0" ] && [ -n "$G1" ] &&
	within "$G0" "$WANT0" && within "$G1" "$WANT1"; then
	pass "--size 50%: $G0 + $G1 bytes per rank (usage: $WANT0 + $WANT1)"
else
	fail "--size 50%: exit $RC, got $G0 + $G1, want $WANT0 + $WANT1"
	show_dmg half
fi
dmg_at "$HOSTS" pqh pool query half
T0=$(jget pqh "response.tier_stats.0.total")
[ $RC = 0 ] && [ -n "$T0" ] && within "$T0" $((G0 * 3)) && pass "pool query: meta total $T0" || {
	fail "pool query half"
	show_dmg pqh
}
for bad in 0% 101% x% 5%%; do
	dmg_at "$HOSTS" bad pool create --size "$bad" bad
	[ $RC != 0 ] && [ -s "$TMP/bad.err" -o -s "$TMP/bad.out" ] && pass "--size $bad refused" || {
		fail "--size $bad: exit $RC"
		show_dmg bad
	}
done

echo "== SIGTERM of a server whose engine is stopped"
dmg_at "$HOSTS" stop2 system stop --ranks 2
stop_within TERM "${SRV_PID[2]}" 20
[ "$RC" = 0 ] && pass "exit 0" || fail "exit $RC"
t_summary
