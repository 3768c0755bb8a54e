#!/usr/bin/env bash
# test_make_run.sh SOURCE_DIR BUILD_DIR: what `make run` does (scripts/run.sh), twice on one
# data directory: the first run starts the system and creates pool0, SIGTERM (as Ctrl-C, to the
# script) stops it with exit 0, the second run finds pool0 again. Ports 10100-10199.
set -u
SRC=${1:?usage: $0 SOURCE_DIR BUILD_DIR}
BUILD=${2:?}
TMP=$(mktemp -d /tmp/test_make_run.XXXXXX)
RUN_PID=
FAILS=0
cleanup() {
	[ -n "$RUN_PID" ] && kill -TERM "$RUN_PID" 2>/dev/null && wait "$RUN_PID" 2>/dev/null
	rm -rf "$TMP"
}
trap cleanup EXIT INT TERM
pass() { echo "ok: $1"; }
fail() {
	echo "FAIL: $1"
	FAILS=$((FAILS + 1))
}
export DAOS_RUN_DIR=$TMP/data DAOS_SERVER_PORT=$((10100 + ($$ % 12) * 8))
export DAOS_FABRIC_PORT=$((DAOS_SERVER_PORT + 1)) DAOS_POOL_SIZE=1G

# run_once NAME: start run.sh, wait for its banner, SIGINT it, check it stopped cleanly.
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
	kill -TERM "$RUN_PID" # what Ctrl-C does (a background job here ignores SIGINT)
	wait "$RUN_PID"
	local rc=$?
	RUN_PID=
	[ "$rc" = 0 ] && grep -q "stopped; the data stay" "$TMP/$1.out" && pass "$1: clean stop" ||
		fail "$1: stop exit $rc"
}

run_once first
grep -q "Pool created\|UUID" "$TMP/first.out" && pass "pool0 created" || fail "pool0 not created"
run_once second
grep -q "pool0 found" "$TMP/second.out" && pass "pool0 found again" || fail "pool0 not found again"
[ "$FAILS" = 0 ] && echo "PASS: make run" || echo "$FAILS check(s) failed"
[ "$FAILS" = 0 ]
