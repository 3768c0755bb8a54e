#!/usr/bin/env bash
# test_cont.sh DAOS_SERVER DAOS_CTL_PING DAOS_AGENT DMG DMG_JSON_GET CONT_API_TEST DAOS: the
# container API of libdaos, libdfs's dfs_cont_create/dfs_connect and the `daos` CLI end to
# end: a real daos_server (2 targets, insecure transport), a real daos_agent, a pool made
# with `dmg pool create`; then cont_api_test (cont_api_test.c) and every `daos container`
# and `daos pool` command, with -j output parsed by dmg_json_get, labels and uuids, and bad
# input refused with exit 1 and a message. Every process is killed by the EXIT trap.
set -u

. "$(dirname "$0")/../lib/server.sh"
t_args BIN:daos_server CTL_PING:daos_ctl_ping AGENT:daos_agent DMG:dmg JGET:dmg_json_get \
	TEST:cont_api_test DAOS:daos -- "$@"
t_init test_cont
SRV_BIN=$BIN
t_ports 8640 80

svc_start 2 1G

echo "== the container API (cont_api_test)"
cd "$TMP" || exit 1
checks_run api cont_api_test 240 "$TEST" tank

# d NAME ARGS...: run daos ARGS, stdout in $TMP/NAME.out, stderr in $TMP/NAME.err, RC.
d() {
	t_run "$1" 60 "$DAOS" "${@:2}"
}
# ok_json NAME WHAT: exit 0 and status 0, else a failure with the evidence
ok_json() {
	if [ "$RC" = 0 ] && [ "$(jget "$1" status)" = 0 ]; then
		return 0
	fi
	fail "$2: exit $RC"
	show out "$TMP/$1.out"
	show err "$TMP/$1.err"
	return 1
}
# refused NAME WHAT REGEX: exit 1 with a message matching REGEX on stderr
refused() {
	if [ "$RC" = 1 ] && grep -Eq "$3" "$TMP/$1.err"; then
		pass "$2: exit 1, $(head -1 "$TMP/$1.err")"
	else
		fail "$2: exit $RC, want 1 and /$3/"
		show err "$TMP/$1.err"
	fi
}

echo "== daos container create, list, query"
d c1 -j container create tank c1
ok_json c1 "create c1" && [ "$(jget c1 response.container_label)" = c1 ] &&
	[ "$(jget c1 response.container_type)" = unknown ] &&
	[ "$(jget c1 response.pool_uuid)" = "$PUUID" ] &&
	pass "create c1 -j: $(jget c1 response.container_uuid)" || fail "create c1: $(cat "$TMP/c1.out")"
C1=$(jget c1 response.container_uuid)
d c2 cont create tank --label c2 --type HDF5
[ "$RC" = 0 ] && grep -Eq "Container Type +: HDF5" "$TMP/c2.out" &&
	grep -q "Successfully created container" "$TMP/c2.out" && pass "create --label c2 --type HDF5 (table)" ||
	fail "create c2: exit $RC $(cat "$TMP/c2.out" "$TMP/c2.err")"
d c1again cont create tank c1
refused c1again "create c1 again" "DER_EXIST"
d px -j cont create tank px --type POSIX --chunk-size 64KiB --oclass S1
ok_json px "create POSIX" && [ "$(jget px response.container_type)" = POSIX ] &&
	[ "$(jget px response.chunk_size)" = 65536 ] && [ "$(jget px response.object_class)" = S1 ] &&
	pass "create --type POSIX --chunk-size 64KiB --oclass S1" ||
	fail "POSIX create: $(cat "$TMP/px.out")"
d ls -j cont list tank
LABELS=$(for i in $(seq 0 $(($(jget ls response) - 1))); do jget ls response.$i.label; done | sort | tr '\n' ' ')
ok_json ls "list" && [ "$LABELS" = "c1 c2 px " ] && pass "cont list -j: $LABELS" ||
	fail "cont list: $LABELS"
d lst pool list-containers tank
[ "$RC" = 0 ] && grep -q "$C1 *c1" "$TMP/lst.out" && grep -q " px$" "$TMP/lst.out" &&
	pass "pool list-containers (table)" || fail "pool list-containers: $(cat "$TMP/lst.out")"
d q1 -j cont query "$PUUID" "$C1"
ok_json q1 "query by uuids" && [ "$(jget q1 response.container_label)" = c1 ] &&
	[ "$(jget q1 response.container_uuid)" = "$C1" ] && pass "query pool and container by uuid" ||
	fail "query by uuid: $(cat "$TMP/q1.out")"
d q2 cont query tank c1
[ "$RC" = 0 ] && grep -Eq "Container UUID +: $C1" "$TMP/q2.out" && pass "query by labels (table)" ||
	fail "query table: $(cat "$TMP/q2.out" "$TMP/q2.err")"

echo "== properties"
d gp -j cont get-prop tank c1
N=$(jget gp response)
LABEL=
for i in $(seq 0 $((${N:-0} - 1))); do
	[ "$(jget gp response.$i.name)" = label ] && LABEL=$(jget gp response.$i.value)
done
ok_json gp "get-prop" && [ "${N:-0}" -gt 5 ] && [ "$LABEL" = c1 ] &&
	pass "get-prop -j: $N properties, label c1" || fail "get-prop: $(cat "$TMP/gp.out")"
d gp2 -j cont get-prop tank c1 --properties label,layout_type
ok_json gp2 "get-prop --properties" && [ "$(jget gp2 response)" = 2 ] &&
	[ "$(jget gp2 response.1.name)" = layout_type ] && pass "get-prop --properties label,layout_type" ||
	fail "get-prop some: $(cat "$TMP/gp2.out")"
d sp cont set-prop tank c1 label:c1b
[ "$RC" = 0 ] && pass "set-prop label:c1b" || fail "set-prop: $(cat "$TMP/sp.err")"
d q3 -j cont query tank c1b
ok_json q3 "query c1b" && [ "$(jget q3 response.container_uuid)" = "$C1" ] &&
	pass "relabelled container opens by its new label" || fail "query c1b"
d q4 cont query tank c1
refused q4 "query by the old label" "DER_NONEXIST"
d sp2 cont set-prop tank c1b rd_fac:1
refused sp2 "set-prop rd_fac (immutable)" "DER_NO_PERM"
d sp3 cont set-prop tank c1b bogus:1
refused sp3 "set-prop of an unknown property" "unknown property .bogus."

echo "== attributes"
d sa cont set-attr tank c1b color blue
[ "$RC" = 0 ] && pass "set-attr color blue" || fail "set-attr: $(cat "$TMP/sa.err")"
d sa2 cont set-attr tank "$C1" size large
d ga -j cont get-attr tank c1b color
ok_json ga "get-attr" && [ "$(jget ga response.0.value)" = "Ymx1ZQ==" ] &&
	pass "get-attr -j: base64 of blue" || fail "get-attr: $(cat "$TMP/ga.out")"
d la -j cont list-attrs tank c1b
ok_json la "list-attrs" && [ "$(jget la response)" = 2 ] && [ "$(jget la response.0.name)" = color ] &&
	pass "list-attrs -j: color, size" || fail "list-attrs: $(cat "$TMP/la.out")"
d lav cont list-attrs tank c1b -v
grep -Eq "^size +large$" "$TMP/lav.out" && pass "list-attrs -v shows values" ||
	fail "list-attrs -v: $(cat "$TMP/lav.out")"
d da cont del-attr tank c1b color
d ga2 cont get-attr tank c1b color
refused ga2 "get-attr after del-attr" "DER_NONEXIST"

echo "== snapshots"
d s1 -j cont create-snap tank c1b -s before
ok_json s1 "create-snap" && [ "$(jget s1 response.name)" = before ] && pass "create-snap -s before" ||
	fail "create-snap: $(cat "$TMP/s1.out")"
d s2 cont create-snap tank c1b
[ "$RC" = 0 ] && grep -q "has been created" "$TMP/s2.out" && pass "create-snap (no name)" ||
	fail "create-snap 2: $(cat "$TMP/s2.out" "$TMP/s2.err")"
d ls1 -j cont list-snaps tank c1b
ok_json ls1 "list-snaps" && [ "$(jget ls1 response)" = 2 ] && [ "$(jget ls1 response.0.name)" = before ] &&
	pass "list-snaps -j: 2, oldest first" || fail "list-snaps: $(cat "$TMP/ls1.out")"
d ls2 cont list-snaps tank c1b
E2=$(awk 'NR==3 {print $1}' "$TMP/ls2.out")
d ds1 cont destroy-snap tank c1b --snap before
[ "$RC" = 0 ] && pass "destroy-snap --snap before" || fail "destroy-snap by name: $(cat "$TMP/ds1.err")"
d ds2 cont destroy-snap tank c1b --epc "$E2"
[ "$RC" = 0 ] && pass "destroy-snap --epc $E2" || fail "destroy-snap by epoch: $(cat "$TMP/ds2.err")"
d ls3 -j cont list-snaps tank c1b
[ "$(jget ls3 response)" = 0 ] && pass "no snapshots left" || fail "snapshots left: $(cat "$TMP/ls3.out")"
d ds3 cont destroy-snap tank c1b
refused ds3 "destroy-snap without a selector" "exactly one of"
d ds4 cont destroy-snap tank c1b --epcrange 9-3
refused ds4 "destroy-snap with a reversed range" "invalid epoch range"

echo "== ACL and owner"
d ga1 -j cont get-acl tank c1b
ok_json ga1 "get-acl" && grep -q '"A::OWNER@:' "$TMP/ga1.out" && pass "get-acl -j has OWNER@" ||
	fail "get-acl: $(cat "$TMP/ga1.out")"
ME=$(jget ga1 response.owner_user)
d ua cont update-acl tank c1b --entry A::EVERYONE@:r
[ "$RC" = 0 ] && grep -q "A::EVERYONE@:r" "$TMP/ua.out" && pass "update-acl --entry EVERYONE@:r" ||
	fail "update-acl: $(cat "$TMP/ua.out" "$TMP/ua.err")"
d dl cont delete-acl tank c1b --principal EVERYONE@
[ "$RC" = 0 ] && ! grep -q "EVERYONE@" "$TMP/dl.out" && pass "delete-acl --principal EVERYONE@" ||
	fail "delete-acl: $(cat "$TMP/dl.out" "$TMP/dl.err")"
d dl2 cont delete-acl tank c1b --principal EVERYONE@
refused dl2 "delete-acl of an absent principal" "DER_NONEXIST"
printf '# mine only\nA::OWNER@:rwdtTaAo\n\nA:G:GROUP@:r\n' >"$TMP/acl.txt"
d oa -j cont overwrite-acl tank c1b --acl-file "$TMP/acl.txt"
ok_json oa "overwrite-acl" && [ "$(jget oa response.entries)" = 2 ] &&
	pass "overwrite-acl --acl-file: 2 entries" || fail "overwrite-acl: $(cat "$TMP/oa.out")"
# keep our access through a user entry once someone else owns it
d ua2 cont update-acl tank c1b --entry "A::$ME:rwdtTaAo"
d so cont set-owner tank c1b --user someone@ --no-check
d ga3 -j cont get-acl tank c1b
[ "$(jget ga3 response.owner_user)" = someone@ ] && pass "set-owner --user someone@ --no-check" ||
	fail "set-owner: $(cat "$TMP/so.err" "$TMP/ga3.out")"
d so2 cont set-owner tank c1b --user nobody-here-xyz@
refused so2 "set-owner to an unknown user" "DER_NONEXIST"
d so3 cont set-owner tank c1b --user "$ME" --no-check
d bad_acl cont update-acl tank c1b --entry garbage
refused bad_acl "update-acl with a bad ACE" "invalid ACE"

echo "== pool commands"
d pq -j pool query tank
ok_json pq "pool query" && [ "$(jget pq response.uuid)" = "$PUUID" ] &&
	[ "$(jget pq response.total_targets)" = 2 ] && pass "pool query -j: 2 targets" ||
	fail "pool query: $(cat "$TMP/pq.out")"
d psa pool set-attr tank owner-team storage
d pga -j pool get-attr tank owner-team
ok_json pga "pool get-attr" && [ "$(jget pga response.0.value)" = "c3RvcmFnZQ==" ] &&
	pass "pool set-attr / get-attr" || fail "pool attrs: $(cat "$TMP/pga.out" "$TMP/psa.err")"
d pla pool list-attrs tank
grep -q "owner-team" "$TMP/pla.out" && pass "pool list-attrs" || fail "pool list-attrs"
d pda pool del-attr tank owner-team
d pga2 pool get-attr tank owner-team
refused pga2 "pool get-attr after del-attr" "DER_NONEXIST"

echo "== destroy and bad input"
d de1 -j cont destroy tank c1b
ok_json de1 "destroy c1b" && pass "destroy c1b -j"
d de2 cont destroy tank c2
[ "$RC" = 0 ] && grep -q "Successfully destroyed" "$TMP/de2.out" && pass "destroy c2" ||
	fail "destroy c2: $(cat "$TMP/de2.err")"
d de3 cont destroy tank c2
refused de3 "destroy it again" "DER_NONEXIST"
d de4 -j cont destroy tank c2
[ "$RC" = 1 ] && [ "$(jget de4 status)" = -1005 ] && [ -n "$(jget de4 error)" ] &&
	pass "-j failure: status -1005 and an error in the envelope" || fail "-j failure: $(cat "$TMP/de4.out")"
d b1 cont create tank bad/label
refused b1 "invalid label" "invalid container label"
d b2 cont query nosuchpool c1
refused b2 "missing pool" "failed to connect to pool nosuchpool"
d b3 cont create tank --type NOPE
refused b3 "unknown type" "unknown container type"
d b4 cont create tank --chunk-size 1M
refused b4 "--chunk-size without POSIX" "need --type POSIX"
d b5 cont query tank
refused b5 "missing container argument" "missing argument"
OID=$("$TEST" tank --oid px 2>/dev/null)
d oq -j object query tank px "$OID"
ok_json oq "object query" && [ "$(jget oq response.oid)" = "$OID" ] && [ "$(jget oq response.class)" = S2 ] &&
	[ "$(jget oq response.groups)" = 2 ] && [ "$(jget oq response.groups.0)" = 1 ] &&
	[ "$(jget oq response.groups.0.0.rank)" = 0 ] &&
	[ "$(jget oq response.groups.0.0.target)" != "$(jget oq response.groups.1.0.target)" ] &&
	pass "object query -j $OID: S2, 2 groups on distinct targets" ||
	fail "object query: $(cat "$TMP/oq.out" "$TMP/oq.err")"
d oq2 object query tank px "$OID"
grep -q "^grp: 1$" "$TMP/oq2.out" && grep -Eq "^replica 0 0:[01]$" "$TMP/oq2.out" &&
	pass "object query (text)" || fail "object query text: $(cat "$TMP/oq2.out")"
d b6 object query tank px 12
refused b6 "object query of a bad oid" "invalid object id"
d h1 cont set-owner --help
[ "$RC" = 0 ] && grep -q -- "--no-check" "$TMP/h1.out" && pass "--help" || fail "--help"
d de5 cont destroy tank px
[ "$RC" = 0 ] && pass "destroy px" || fail "destroy px: $(cat "$TMP/de5.err")"

stop_within TERM "$SRV_PID" 10
[ "$RC" = 0 ] && pass "server: SIGTERM exit 0" || fail "server: SIGTERM exit $RC"
t_summary
