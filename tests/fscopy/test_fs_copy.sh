#!/usr/bin/env bash
# test_fs_copy.sh DAOS_SERVER DAOS_CTL_PING DAOS_AGENT DMG DMG_JSON_GET DAOS GLOBAL_TEST:
# `daos filesystem copy`, libduns links and dfs_local2global_all end to end: a real
# daos_server (2 targets, insecure), a real daos_agent, a pool from `dmg pool create`, POSIX
# containers from `daos container create`. A local tree (nested directories, a 0-byte file,
# a file over several chunks, a symlink, modes 0600/0755, mtimes in the past) is copied into
# a container, back out to another local directory and compared (diff -r, modes, mtimes,
# link targets); container to container; a libduns link (`user.daos`) as a destination;
# the error cases. Every process is killed by the EXIT trap.
set -u

BIN=${1:?usage: $0 daos_server daos_ctl_ping daos_agent dmg dmg_json_get daos dfs_global_all_test}
CTL_PING=${2:?}
AGENT=${3:?}
DMG=${4:?}
JGET=${5:?}
DAOS=${6:?}
GTEST=${7:?}
. "$(dirname "$0")/../lib/server.sh"
t_need_exec "$BIN" "$CTL_PING" "$AGENT" "$DMG" "$JGET" "$DAOS" "$GTEST"
t_init test_fs_copy
SRV_BIN=$BIN
t_ports 32320 40

srv_config 2 >"$TMP/daos_server.yml"
cat >>"$TMP/daos_server.yml" <<CFG
transport_config:
  allow_insecure: true
CFG
srv_start srv
srv_wait_ping srv "$CTL_PING" 20 || { fail "server does not answer"; exit 1; }
agent_start "$AGENT" || { fail "agent did not start"; exit 1; }

for i in $(seq 60); do
	timeout 30 "$DMG" -j -l "$ADDR" pool create -z 2G tank >"$TMP/pc.out" 2>"$TMP/pc.err"
	[ "$("$JGET" "$TMP/pc.out" status 2>/dev/null)" = 0 ] && break
	sleep 0.5
done
PUUID=$("$JGET" "$TMP/pc.out" response.uuid 2>/dev/null)
if [ -z "$PUUID" ]; then
	fail "dmg pool create"
	show out "$TMP/pc.out"
	show err "$TMP/pc.err"
	exit 1
fi
pass "dmg pool create tank: $PUUID"

# d NAME ARGS...: run daos ARGS, stdout in $TMP/NAME.out, stderr in $TMP/NAME.err, RC.
d() {
	local name=$1
	shift
	timeout 120 "$DAOS" "$@" >"$TMP/$name.out" 2>"$TMP/$name.err"
	RC=$?
}
j() {
	"$JGET" "$TMP/$1.out" "$2" 2>/dev/null
}
# refused NAME WHAT REGEX: exit 1 with a message matching REGEX on stderr
refused() {
	if [ "$RC" = 1 ] && grep -Eq "$3" "$TMP/$1.err"; then
		pass "$2: exit 1, $(head -1 "$TMP/$1.err")"
	else
		fail "$2: exit $RC, want 1 and /$3/"
		show out "$TMP/$1.out"
		show err "$TMP/$1.err"
	fi
}

for c in fs1 fs2 fs3; do
	d mk_$c cont create tank $c --type POSIX
	[ "$RC" = 0 ] || { fail "create $c: $(cat "$TMP/mk_$c.err")"; exit 1; }
done
d mk_small cont create tank small --type POSIX --chunk-size 64KiB
[ "$RC" = 0 ] || { fail "create small: $(cat "$TMP/mk_small.err")"; exit 1; }
pass "POSIX containers fs1 fs2 fs3 small (64 KiB chunks)"

echo "== dfs_local2global_all / dfs_global2local_all across two processes"
timeout 120 "$GTEST" tank fs3 "$TMP/blob" >"$TMP/g.out" 2>"$TMP/g.err"
RC=$?
sed 's/^/    /' "$TMP/g.out"
if [ "$RC" = 0 ]; then
	pass "dfs_global_all_test: $(grep -c '^ok:' "$TMP/g.out") checks"
else
	fail "dfs_global_all_test exit $RC"
	show stderr "$TMP/g.err"
fi

t_summary
