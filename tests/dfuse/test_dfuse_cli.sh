#!/usr/bin/env bash
# test_dfuse_cli.sh DFUSE DFUSE_LOCAL: the command line of dfuse and of the test launcher,
# without a server: help, required options, bad values, launcher-only options; and dfuse
# without a libdaos that can connect says so instead of crashing.
set -u
. "$(dirname "$0")/../lib/server.sh"
t_args DFUSE:dfuse LOCAL:dfuse_local -- "$@"
t_init test_dfuse_cli

expect() { # expect CODE REGEX CMD...: exit code CODE and output matching REGEX
	local code=$1 re=$2
	shift 2
	"$@" >"$TMP/out" 2>&1
	local rc=$?
	if [ "$rc" = "$code" ] && grep -Eq -- "$re" "$TMP/out"; then
		pass "$(basename "$1") ${*:2}: exit $rc"
	else
		fail "$(basename "$1") ${*:2}: exit $rc (want $code, output matching '$re')"
		show output "$TMP/out"
	fi
}

expect 0 "usage: .*--pool" "$DFUSE" --help
expect 0 "--mgmt" "$LOCAL" -h
expect 2 "mount point, --pool and --cont are required" "$DFUSE" --pool p --cont c
expect 2 "mount point, --pool and --cont are required" "$DFUSE" -m "$TMP" --cont c
expect 2 "thread-count wants 1..256" "$DFUSE" -m "$TMP" --pool p --cont c -t 0
expect 2 "thread-count wants 1..256" "$DFUSE" -m "$TMP" --pool p --cont c -t 12x
expect 2 "attr-timeout wants seconds" "$DFUSE" -m "$TMP" --pool p --cont c --attr-timeout -1
expect 2 "dentry-timeout wants seconds" "$DFUSE" -m "$TMP" --pool p --cont c --dentry-timeout x
expect 2 "dentry-dir-timeout wants seconds" "$DFUSE" -m "$TMP" --pool p --cont c \
	--dentry-dir-timeout 1s
expect 2 "readahead-kib wants 0..65536" "$DFUSE" -m "$TMP" --pool p --cont c --readahead-kib -4
expect 2 "readahead-kib wants 0..65536" "$DFUSE" -m "$TMP" --pool p --cont c --readahead-kib 1M
expect 0 "--disable-wb-cache" "$DFUSE" --help
expect 0 "--readahead-kib" "$DFUSE" --help
expect 2 "prefetch-mib wants 0..64" "$DFUSE" -m "$TMP" --pool p --cont c --prefetch-mib 65
expect 2 "prefetch-mib wants 0..64" "$DFUSE" -m "$TMP" --pool p --cont c --prefetch-mib 8M
expect 0 "--direct-read" "$DFUSE" --help
expect 0 "--direct-write" "$DFUSE" --help
expect 0 "--prefetch-mib" "$DFUSE" --help
expect 2 "unexpected argument" "$DFUSE" "$TMP" extra --pool p --cont c
expect 2 "belong to the test launcher" "$DFUSE" -m "$TMP" --pool p --cont c --mgmt 127.0.0.1:1
expect 2 "--mgmt is required" "$LOCAL" -m "$TMP" --pool p --cont c
expect 2 "must be a UUID" "$LOCAL" -m "$TMP" --pool p --cont c --mgmt 127.0.0.1:1
expect 2 "unrecognized option" "$DFUSE" -m "$TMP" --pool p --cont c --bogus
# no agent and no pool "nope" to connect to: a message and exit 1
expect 1 "dfuse: " "$DFUSE" -m "$TMP" --pool nope --cont nope --foreground
t_summary
