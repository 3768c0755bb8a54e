#!/usr/bin/env bash
# san_wrap.sh DIR CMD [ARGS...]: run one ctest test of a sanitizer build (cmake -DD_SANITIZE=ON
# registers every test through this script) so that a report of AddressSanitizer,
# LeakSanitizer or UndefinedBehaviorSanitizer from ANY process the test starts (servers,
# agents, dfuse, clients, the test itself) fails the test, whatever the test script does with
# that process's output or exit status. Every process inherits ASAN_OPTIONS/UBSAN_OPTIONS with
# log_path under DIR (emptied first), so each ASan/LSan report lands in DIR/asan.EXE.PID;
# after CMD ends, a file holding an error is printed and the test exits 1 (77, a skip,
# included). UBSan reports go to stderr whatever log_path says: the test's own output is
# scanned for them, and the scripts scan their processes' logs (common/san_scan.sh).
#
# Defaults (the caller's ASAN_OPTIONS/UBSAN_OPTIONS come after them, so they win, except for
# log_path, always ours): leaks detected, abort on the first error (a server dies at once, so
# the test also sees it fail), stack traces for UBSan. LSAN_SUPP (default: lsan.supp beside
# this script, if it exists) is LeakSanitizer's suppression file.
set -u
DIR=${1:?usage: $0 DIR CMD [ARGS...]}
shift
[ $# -gt 0 ] || { echo "usage: $0 DIR CMD [ARGS...]"; exit 1; }

rm -rf "$DIR"
mkdir -p "$DIR" || exit 1
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:halt_on_error=1:${ASAN_OPTIONS:-}:log_path=$DIR/asan:log_exe_name=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:${UBSAN_OPTIONS:-}:log_path=$DIR/ubsan:log_exe_name=1"
LSAN_SUPP=${LSAN_SUPP:-$(dirname "$0")/lsan.supp}
if [ -f "$LSAN_SUPP" ]; then
	export LSAN_OPTIONS="suppressions=$LSAN_SUPP:print_suppressions=0:${LSAN_OPTIONS:-}"
fi

# UBSan ignores log_path in gcc 12's combined runtime and writes to stderr: the test's own
# output is kept to be scanned too (the scripts scan their servers' logs, common/san_scan.sh).
"$@" 2>&1 | tee "$DIR/test.out"
RC=${PIPESTATUS[0]}

# A report is a file with an error in it; a file of warnings alone (AddressSanitizer's "failed
# to allocate" when allocator_may_return_null lets malloc return NULL) is shown, not failed.
shopt -s nullglob
bad=0
for f in "$DIR"/asan.* "$DIR"/ubsan.*; do
	if grep -qE 'ERROR: [A-Za-z]+Sanitizer|runtime error:' "$f"; then
		echo "FAIL: sanitizer report $(basename "$f") (test exit $RC):"
		sed 's/^/    /' "$f"
		bad=1
	else
		echo "note: sanitizer output $(basename "$f"), no error: $(sort -u "$f" | head -3)"
	fi
done
if grep -qaE 'runtime error:' "$DIR/test.out"; then
	echo "FAIL: the test's output holds an UndefinedBehaviorSanitizer report (above)"
	bad=1
fi
[ $bad = 0 ] || exit 1
exit "$RC"
