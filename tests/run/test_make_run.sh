#!/usr/bin/env bash
# test_make_run.sh SOURCE_DIR BUILD_DIR: what `make run` does (scripts/run.sh), twice on one
# data directory: the first run starts the system, creates pool0 and the POSIX container cont0
# and mounts it (where FUSE works), SIGTERM (as Ctrl-C, to the script) stops it with exit 0 and
# unmounts, the second run finds pool0, cont0 and a file written through the first mount.
# Ports 10100-10199.
set -u
SRC=${1:?usage: $0 SOURCE_DIR BUILD_DIR}
BUILD=${2:?}
. "$SRC/tests/common/san_scan.sh"
TMP=$(mktemp -d /tmp/test_make_run.XXXXXX)
RUN_PID=
FAILS=0
cleanup() {
	local san=0
	[ -n "$RUN_PID" ] && kill -TERM "$RUN_PID" 2>/dev/null && wait "$RUN_PID" 2>/dev/null
	san_scan "$TMP" || san=1
	rm -rf "$TMP"
	[ $san = 0 ] || exit 1
}
trap cleanup EXIT INT TERM
pass() { echo "ok: $1"; }
fail() {
	echo "FAIL: $1"
	FAILS=$((FAILS + 1))
}
# a slot whose management port answers already (another worktree's run): the next one
for try in 0 1 2 3; do
	DAOS_SERVER_PORT=$((10100 + (($$ + try * 5) % 12) * 8))
	(exec 3<>"/dev/tcp/127.0.0.1/$DAOS_SERVER_PORT") 2>/dev/null || break
	echo "127.0.0.1:$DAOS_SERVER_PORT answers already (another run's server): next slot"
done
export DAOS_RUN_DIR=$TMP/data DAOS_SERVER_PORT
export DAOS_FABRIC_PORT=$((DAOS_SERVER_PORT + 1)) DAOS_POOL_SIZE=1G
unset DAOS_AGENT_DRPC_DIR DAOS_MOUNT
MNT=$DAOS_RUN_DIR/mnt
FUSE=
[ -c /dev/fuse ] && command -v fusermount3 >/dev/null && FUSE=1

# first_mounted / second_mounted: what each run checks in the mount while the system is up
first_mounted() {
	echo "written by the first run" >"$MNT/hello.txt" && pass "first: file written in $MNT" ||
		fail "first: cannot write in $MNT"
}
second_mounted() {
	[ "$(cat "$MNT/hello.txt" 2>/dev/null)" = "written by the first run" ] &&
		pass "second: the first run's file read back" || fail "second: file lost or wrong"
}

# run_once NAME: start run.sh, wait for its banner, run NAME_mounted where FUSE works, SIGINT
# it, check it stopped cleanly and unmounted.
run_once() {
	local i
	"$SRC/scripts/run.sh" "$BUILD" >"$TMP/$1.out" 2>&1 &
	RUN_PID=$!
	for i in $(seq 600); do
		grep -q "daos-lite is running" "$TMP/$1.out" && break
		kill -0 "$RUN_PID" 2>/dev/null || break
		sleep 0.1
	done
	grep -q "daos-lite is running" "$TMP/$1.out" && pass "$1: system up" ||
		{ fail "$1: no banner"; sed 's/^/    /' "$TMP/$1.out"; }
	if [ -n "$FUSE" ]; then
		if grep -q "is mounted on $MNT" "$TMP/$1.out" && mountpoint -q "$MNT"; then
			pass "$1: cont0 mounted"
			"$1_mounted"
		else
			fail "$1: cont0 not mounted"
			sed 's/^/    /' "$DAOS_RUN_DIR/dfuse.log"
		fi
	fi
	kill -TERM "$RUN_PID" # what Ctrl-C does (a background job here ignores SIGINT)
	wait "$RUN_PID"
	local rc=$?
	RUN_PID=
	[ "$rc" = 0 ] && grep -q "stopped; the data stay" "$TMP/$1.out" && pass "$1: clean stop" ||
		fail "$1: stop exit $rc"
	! mountpoint -q "$MNT" 2>/dev/null && pass "$1: unmounted" ||
		{ fail "$1: still mounted"; fusermount3 -u "$MNT"; }
}

run_once first
grep -q "Pool created\|UUID" "$TMP/first.out" && pass "pool0 created" || fail "pool0 not created"
grep -q "Successfully created container" "$TMP/first.out" &&
	pass "cont0 created" || fail "cont0 not created"
run_once second
grep -q "pool0 found" "$TMP/second.out" && pass "pool0 found again" || fail "pool0 not found again"
grep -q "cont0 found" "$TMP/second.out" && pass "cont0 found again" || fail "cont0 not found again"
[ "$FAILS" = 0 ] && echo "PASS: make run" || echo "$FAILS check(s) failed"
[ "$FAILS" = 0 ]
