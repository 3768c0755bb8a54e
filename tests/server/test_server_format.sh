#!/usr/bin/env bash
# test_server_format.sh DAOS_SERVER DAOS_AGENT DMG DMG_JSON_GET DAOS: the unformatted start
# and the per-role storage tiers, with a real daos_server, daos_agent, dmg and daos.
#
#   1. A configuration without auto_format on fresh storage: the server waits for `dmg storage
#      format` (the waiting line, no superblock, no tier directory, storage usage answered,
#      no system service yet); the format starts the engine, which joins; a second format
#      says "already formatted" and exits 1.
#   2. Three class file tiers with bdev_roles wal / meta (two entries) / data: a pool's files
#      of target i lie in the WAL tier, in meta entry i % 2, in the data tier, and only
#      there; the data tier's usage counts its data files; a tree copied in with `daos
#      filesystem copy` reads back equal after SIGTERM + restart (no wait: formatted), and
#      with a second tree after kill -9 + restart; pool destroy removes every file.
#   3. --auto-format on fresh storage starts at once; a format that fails (a class kdev tier
#      with a role) is reported and the server keeps waiting.
#   4. Three servers, all access points, waiting: one `dmg storage format` on the three
#      hosts; the three engines join and a pool spans them.
set -u


. "$(dirname "$0")/../lib/server.sh"
t_args BIN:daos_server AGENT:daos_agent DMG:dmg JGET:dmg_json_get DAOS:daos -- "$@"
t_init test_server_format
SRV_BIN=$BIN
t_ports 11904 5

W=$TMP/tier_wal
M0=$TMP/tier_meta0
M1=$TMP/tier_meta1
D=$TMP/tier_data

# dm NAME ARGS...: dmg ARGS (insecure, at $ADDR), stdout/stderr in $TMP/NAME.out/.err, RC.
dm() {
	t_run "$1" 60 "$DMG" -i -l "$ADDR" "${@:2}"
}
# dd NAME ARGS...: daos ARGS, the same way.
dd_() {
	t_run "$1" 120 "$DAOS" "${@:2}"
}
# cfg AUTO FILE [KDEV]: the server's configuration: 2 targets, a ram tier, file tiers with
# the wal, meta and data roles (with KDEV, the data role on a class kdev tier instead).
cfg() {
	srv_config 2 | sed '/^auto_format:/d' >"$2"
	[ "$1" = auto ] && echo "auto_format: true" >>"$2"
	cat >>"$2" <<CFG
    storage:
      - class: ram
        scm_mount: $TMP/scm
        scm_size: 1GiB
      - class: file
        bdev_list: [$W]
        bdev_size: 4GiB
        bdev_roles: [wal]
      - class: file
        bdev_list: [$M0, $M1]
        bdev_size: 4GiB
        bdev_roles: [meta]
CFG
	if [ $# -gt 2 ]; then
		cat >>"$2" <<CFG
      - class: kdev
        bdev_list: [/dev/null]
        bdev_roles: [data]
CFG
	else
		cat >>"$2" <<CFG
      - class: file
        bdev_list: [$D]
        bdev_size: 8GiB
        bdev_roles: [data]
CFG
	fi
	cat >>"$2" <<CFG
transport_config:
  allow_insecure: true
CFG
}
# usage_of PATH: "total avail" of the tier entry PATH in $TMP/us.out (dmg -j storage usage)
usage_of() {
	python3 - "$TMP/us.out" "$1" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
for h in doc["response"]["host_storage"].values():
    for t in h["storage"]["tiers"]:
        if t["path"] == sys.argv[2]:
            print(t["total_bytes"], t["avail_bytes"])
PY
}
# read_back WHAT LOCAL: copy daos://tank/fs1 out (retried while the engine rejoins) and
# compare it with LOCAL.
read_back() {
	local i out=$TMP/back.$RANDOM
	for i in $(seq 40); do
		rm -rf "$out"
		dd_ out fs copy --src daos://tank/fs1 --dst "$out"
		[ "$RC" = 0 ] && break
		sleep 0.5
	done
	if [ "$RC" != 0 ]; then
		fail "$1: copy out: exit $RC"
		show err "$TMP/out.err"
		return
	fi
	if diff -r "$2" "$out" >"$TMP/diff.out" 2>&1; then
		pass "$1: the data reads back equal"
	else
		fail "$1: the data differs"
		show diff "$TMP/diff.out"
	fi
}

echo "== 1. an unformatted server waits for dmg storage format"
cfg wait "$TMP/daos_server.yml"
srv_start srv
if wait_line "$TMP/srv.out" "^daos_server waiting for storage format" 20; then
	pass "waiting line: $(head -1 "$TMP/srv.out")"
else
	fail "no waiting line"
	show out "$TMP/srv.out"
	show err "$TMP/srv.err"
	exit 1
fi
grep -q "started" "$TMP/srv.out" && fail "started before the format" || pass "not started"
[ ! -e "$TMP/scm/superblock" ] && [ ! -e "$W" ] && [ ! -e "$M0" ] && [ ! -e "$D" ] &&
	pass "nothing formatted: no superblock, no tier directory" ||
	fail "storage touched before the format"
dm us -j storage query usage
if [ "$RC" = 0 ] && [ "$("$JGET" "$TMP/us.out" status)" = 0 ] &&
	[ -n "$(usage_of "$D")" ] && [ -n "$(usage_of "$M1")" ]; then
	pass "storage usage answered while waiting (data tier: $(usage_of "$D"))"
else
	fail "storage usage while waiting: exit $RC"
	show out "$TMP/us.out"
	show err "$TMP/us.err"
fi
dm sq system query
[ "$RC" != 0 ] && grep -q "DER_UNINIT" "$TMP/sq.err" &&
	pass "no system service while waiting: $(head -1 "$TMP/sq.err")" ||
	{ fail "system query while waiting: exit $RC"; show err "$TMP/sq.err"; }
dm pc0 pool create -z 1GiB early
[ "$RC" != 0 ] && grep -q "DER_UNINIT" "$TMP/pc0.err" &&
	pass "pool create while waiting: DER_UNINIT" || fail "pool create while waiting: exit $RC"

dm fmt storage format
if [ "$RC" = 0 ] && wait_line "$TMP/srv.out" "^daos_server started" 20; then
	pass "dmg storage format: exit 0, the engine started"
else
	fail "dmg storage format: exit $RC"
	show out "$TMP/fmt.out"
	show err "$TMP/fmt.err"
	show srv "$TMP/srv.err"
	exit 1
fi
[ -f "$TMP/scm/superblock" ] && [ -d "$W" ] && [ -d "$M0" ] && [ -d "$M1" ] && [ -d "$D" ] &&
	pass "superblock and every role's directories made" || fail "format made too little"
for i in $(seq 40); do
	dm sq -j system query
	[ "$("$JGET" "$TMP/sq.out" response.members.0.state 2>/dev/null)" = joined ] && break
	sleep 0.5
done
[ "$("$JGET" "$TMP/sq.out" response.members.0.state 2>/dev/null)" = joined ] &&
	pass "the engine joined: rank $("$JGET" "$TMP/sq.out" response.members.0.rank)" ||
	{ fail "not joined"; show out "$TMP/sq.out"; }
dm fmt2 storage format
[ "$RC" = 1 ] && grep -q "already formatted" "$TMP/fmt2.out" &&
	pass "a second format: exit 1, already formatted" || fail "second format: exit $RC"

echo "== 2. per-role tiers"
agent_start "$AGENT" || { fail "agent did not start"; exit 1; }
dm us0 -j storage query usage
cp "$TMP/us0.out" "$TMP/us.out"
DATA_AVAIL0=$(usage_of "$D" | cut -d' ' -f2)
for i in $(seq 40); do
	dm pc -j pool create -z 1GiB tank
	[ "$("$JGET" "$TMP/pc.out" status 2>/dev/null)" = 0 ] && break
	sleep 0.5
done
PUUID=$("$JGET" "$TMP/pc.out" response.uuid 2>/dev/null)
[ -n "$PUUID" ] || { fail "pool create"; show err "$TMP/pc.err"; exit 1; }
pass "pool tank: $PUUID"

bad=0
for t in 0 1; do
	m=$M0
	[ "$t" = 1 ] && m=$M1
	for f in "$m/$PUUID/vos-$t/meta" "$W/$PUUID/vos-$t/wal" "$D/$PUUID/vos-$t/data"; do
		[ -f "$f" ] || { fail "missing $f"; bad=1; }
	done
done
[ -e "$M0/$PUUID/vos-1" ] || [ -e "$M1/$PUUID/vos-0" ] && { fail "a target's meta in the other entry"; bad=1; }
stray=$( (find "$W" -name meta -o -name data; find "$M0" "$M1" -name wal -o -name data
	find "$D" -name meta -o -name wal) 2>/dev/null)
[ -z "$stray" ] || { fail "files outside their role's tier: $stray"; bad=1; }
[ "$bad" = 0 ] && pass "each file in its role's tier (meta entry i % 2), nowhere else"
dm us1 -j storage query usage
cp "$TMP/us1.out" "$TMP/us.out"
DATA_AVAIL1=$(usage_of "$D" | cut -d' ' -f2)
[ -n "$DATA_AVAIL1" ] && [ "$DATA_AVAIL1" -lt "$DATA_AVAIL0" ] &&
	pass "data tier usage counts its files: avail $DATA_AVAIL0 -> $DATA_AVAIL1" ||
	fail "data tier usage: avail $DATA_AVAIL0 -> $DATA_AVAIL1"

SRC=$TMP/src
mkdir -p "$SRC/d"
head -c 3000000 /dev/urandom >"$SRC/big"
for i in $(seq 20); do echo "small $i" >"$SRC/d/f$i"; done
dd_ mk cont create tank fs1 --type POSIX
[ "$RC" = 0 ] || { fail "cont create: $(cat "$TMP/mk.err")"; exit 1; }
dd_ in fs copy --src "$SRC" --dst daos://tank/fs1
[ "$RC" = 0 ] && pass "a tree copied in" || { fail "copy in: $(cat "$TMP/in.err")"; exit 1; }
mkdir -p "$TMP/want"
cp -r "$SRC"/. "$TMP/want/"
read_back "before a restart" "$TMP/want"

stop_within TERM "$SRV_PID" 30
[ "$RC" = 0 ] && pass "SIGTERM: exit 0" || fail "SIGTERM: exit $RC"
srv_start srv2
if wait_line "$TMP/srv2.out" "^daos_server (started|waiting)" 20 &&
	grep -q "^daos_server started" "$TMP/srv2.out"; then
	pass "formatted storage: the restart starts at once"
else
	fail "restart: $(cat "$TMP/srv2.out")"
	show err "$TMP/srv2.err"
	exit 1
fi
read_back "after SIGTERM + restart" "$TMP/want"
head -c 1500000 /dev/urandom >"$TMP/second"
dd_ in2 fs copy --src "$TMP/second" --dst daos://tank/fs1/second
[ "$RC" = 0 ] && pass "a second file copied in" || fail "copy in 2: $(cat "$TMP/in2.err")"
cp "$TMP/second" "$TMP/want/second"
kill -KILL "$SRV_PID"
wait "$SRV_PID" 2>/dev/null
srv_start srv3
wait_line "$TMP/srv3.out" "^daos_server started" 20 && pass "kill -9, restart" ||
	{ fail "restart after kill -9"; show err "$TMP/srv3.err"; exit 1; }
read_back "after kill -9 + restart" "$TMP/want"

dm pd pool destroy tank
left=$(find "$W" "$M0" "$M1" "$D" -path "*$PUUID*" 2>/dev/null)
[ "$RC" = 0 ] && [ -z "$left" ] && pass "pool destroy removes every file and directory" ||
	{ fail "pool destroy: exit $RC, left: $left"; show err "$TMP/pd.err"; }
stop_within TERM "$SRV_PID" 30
[ "$RC" = 0 ] && pass "stop" || fail "stop: exit $RC"

echo "== 3. --auto-format, and a format that fails"
rm -rf "$TMP/scm" "$W" "$M0" "$M1" "$D" "$TMP/data"
srv_start srv4 -o "$TMP/daos_server.yml" --data-dir "$TMP/data" --auto-format
wait_line "$TMP/srv4.out" "^daos_server (started|waiting)" 20
grep -q "^daos_server started" "$TMP/srv4.out" && [ -f "$TMP/scm/superblock" ] &&
	pass "--auto-format: formatted and started at once" ||
	{ fail "--auto-format: $(cat "$TMP/srv4.out")"; show err "$TMP/srv4.err"; }
stop_within TERM "$SRV_PID" 30
[ "$RC" = 0 ] || fail "stop: exit $RC"

rm -rf "$TMP/scm" "$W" "$M0" "$M1" "$D" "$TMP/data"
cfg wait "$TMP/kdev.yml" kdev
srv_start srv5 -o "$TMP/kdev.yml" --data-dir "$TMP/data"
wait_line "$TMP/srv5.out" "^daos_server waiting" 20 || fail "kdev config: no waiting line"
dm fk storage format
if [ "$RC" = 1 ] && grep -q "kdev" "$TMP/fk.out" && kill -0 "$SRV_PID" 2>/dev/null &&
	! grep -q "started" "$TMP/srv5.out"; then
	pass "a failing format: exit 1, $(grep -o 'storage\[[0-9]\]: class kdev[^:]*' "$TMP/fk.out" | head -1); still waiting"
else
	fail "failing format: exit $RC"
	show out "$TMP/fk.out"
	show err "$TMP/srv5.err"
fi
dm us2 storage query usage
[ "$RC" = 0 ] && pass "still answers storage usage" || fail "usage after a failed format"
stop_within TERM "$SRV_PID" 30
[ "$RC" = 0 ] && pass "a waiting server stops on SIGTERM: exit 0" || fail "stop waiting: exit $RC"

echo "== 4. three waiting servers (all access points), one dmg storage format for all"
# 127.0.0.1-3, management ports 11904 + 8 i (the block's first 24 ports: the servers above
# are gone), raft at + 7, fabric at + 1
B=11904
srv3_addrs $B 8
mkdir -p "$TMP/three"
srv3_config "$TMP/three" 1 wait
srv3_start "$TMP/three" 0 1 2
n=0
for i in 0 1 2; do
	wait_line "$TMP/three/srv$i.out" "^daos_server waiting" 20 && n=$((n + 1))
done
[ "$n" = 3 ] && pass "three servers waiting" || fail "$n of 3 servers waiting"
timeout 60 "$DMG" -i -l "$HOSTS" storage format >"$TMP/f3.out" 2>"$TMP/f3.err"
RC=$?
[ "$RC" = 0 ] && pass "one dmg storage format on the three hosts: exit 0" ||
	{ fail "format of three: exit $RC"; show out "$TMP/f3.out"; show err "$TMP/f3.err"; }
for i in $(seq 60); do
	timeout 10 "$DMG" -i -j -l "127.0.0.1:$B" system query >"$TMP/sq3.out" 2>/dev/null
	[ "$(grep -o '"state": "joined"' "$TMP/sq3.out" | wc -l)" = 3 ] && break
	sleep 0.5
done
[ "$(grep -o '"state": "joined"' "$TMP/sq3.out" | wc -l)" = 3 ] &&
	pass "the three engines joined" || { fail "not all joined"; show out "$TMP/sq3.out"; }
timeout 60 "$DMG" -i -j -l "127.0.0.1:$B" pool create -z 2GiB tank3 >"$TMP/pc3.out" 2>"$TMP/pc3.err"
[ "$("$JGET" "$TMP/pc3.out" response.tgt_ranks 2>/dev/null)" = 3 ] &&
	pass "a pool on the three ranks" || { fail "pool on three"; show out "$TMP/pc3.out"; show err "$TMP/pc3.err"; }
for i in 0 1 2; do
	stop_within TERM "${SRV_PID[$i]}" 30
	[ "$RC" = 0 ] || fail "server $i stop: exit $RC"
done

t_summary
