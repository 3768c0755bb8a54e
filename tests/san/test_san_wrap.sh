#!/usr/bin/env bash
# test_san_wrap.sh SAN_WRAP SAN_FAULT: tests/common/san_wrap.sh, which runs every test of a
# sanitizer build, fails a test when any process under it reports an error, including one
# in the background whose exit status the test ignores (a server), shows the report, and
# otherwise passes the test's own exit status through (77: skipped); and that the EXIT trap
# of lib/server.sh fails a script whose server wrote a UBSan report to its stderr file.
set -u
WRAP=${1:?usage: $0 san_wrap.sh san_fault}
FAULT=${2:?usage: $0 san_wrap.sh san_fault}
TMP=$(mktemp -d /tmp/test_san_wrap.XXXXXX) || exit 1
trap 'rm -rf "$TMP"' EXIT
FAILS=0
pass() { echo "ok: $*"; }
fail() {
	echo "FAIL: $*"
	FAILS=$((FAILS + 1))
}

# wrap NAME CMD...: CMD under the wrapper; RC its exit, output in $TMP/NAME.out
wrap() {
	local name=$1
	shift
	"$WRAP" "$TMP/$name" "$@" >"$TMP/$name.out" 2>&1
	RC=$?
}

# expect_report NAME PATTERN CMD...: the wrapper exits 1 and shows PATTERN
expect_report() {
	local name=$1 pat=$2
	shift 2
	wrap "$name" "$@"
	if [ "$RC" = 1 ] && grep -qE "FAIL: (sanitizer report|the test.s output holds)" "$TMP/$name.out" &&
		grep -qE "$pat" "$TMP/$name.out"; then
		pass "$name: exit 1 with the report"
	else
		fail "$name: exit $RC, output:"
		sed 's/^/    /' "$TMP/$name.out"
	fi
}

expect_report leak "ERROR: LeakSanitizer" "$FAULT" leak
expect_report overflow "ERROR: AddressSanitizer: heap-buffer-overflow" "$FAULT" overflow
expect_report ub "runtime error: signed integer overflow" "$FAULT" ub
# a server-like child in the background: the script exits 0 whatever the child did
expect_report child_leak "ERROR: LeakSanitizer" sh -c '"$1" leak & wait; exit 0' sh "$FAULT"
expect_report child_overflow "heap-buffer-overflow" sh -c '"$1" overflow & wait; exit 0' sh "$FAULT"
# the test's own failure and a skip are passed through when no process reported
wrap clean "$FAULT" none
[ "$RC" = 0 ] && pass "clean: exit 0" || fail "clean: exit $RC"
wrap skip sh -c '"$1" none; exit 77' sh "$FAULT"
[ "$RC" = 77 ] && pass "skip: exit 77" || fail "skip: exit $RC"
wrap failed sh -c 'exit 3'
[ "$RC" = 3 ] && pass "failed: exit 3" || fail "failed: exit $RC"
# a report with a test exit of 77 still fails
expect_report skip_leak "ERROR: LeakSanitizer" sh -c '"$1" leak; exit 77' sh "$FAULT"
# warnings alone (malloc returning NULL when allowed to) are shown, not failed
ASAN_OPTIONS=allocator_may_return_null=1 wrap bigalloc "$FAULT" bigalloc
if [ "$RC" = 0 ] && grep -q "note: sanitizer output" "$TMP/bigalloc.out"; then
	pass "bigalloc: a warning is a note, exit 0"
else
	fail "bigalloc: exit $RC"
	sed 's/^/    /' "$TMP/bigalloc.out"
fi

# UBSan writes to stderr only: the wrapper finds it in the test's own output; a server's
# stderr in a file of the test's temp dir is found by lib/server.sh's EXIT trap (san_scan)
expect_report ub_out "runtime error:" sh -c '"$1" ub; exit 0' sh "$FAULT"
cat >"$TMP/srv_ub.sh" <<SH
#!/usr/bin/env bash
. "$(cd "$(dirname "$0")/.." && pwd)/lib/server.sh"
t_init test_san_srv_ub
"$FAULT" ub 2>"\$TMP/srv.err" &
wait \$!
echo "script exits 0"
SH
chmod +x "$TMP/srv_ub.sh"
"$TMP/srv_ub.sh" >"$TMP/srv_ub.out" 2>&1
RC=$?
if [ "$RC" = 1 ] && grep -q "FAIL: sanitizer report in srv.err" "$TMP/srv_ub.out" &&
	grep -q "runtime error:" "$TMP/srv_ub.out"; then
	pass "a server's UBSan report on its stderr file fails a lib/server.sh script"
else
	fail "lib/server.sh script with a server's UBSan report: exit $RC"
	sed 's/^/    /' "$TMP/srv_ub.out"
fi

if [ "$FAILS" = 0 ]; then
	echo "all checks passed"
	exit 0
fi
echo "$FAILS checks failed"
exit 1
