#!/usr/bin/env bash
# test_dfuse_cache.sh DAOS_SERVER DAOS_CTL_PING DFUSE_LOCAL TESTDIR [SEED]: the kernel's caches
# over the FUSE core (the test launcher over a real daos_server), with the write-back cache
# (the default), with --disable-wb-cache and with --direct-write (written behind):
#  - a writer keeps a file open without fsync while another process reads it after every
#    unaligned write (same data, same size);
#  - once the writer closed it, a second, concurrent mount of the container reads the same
#    bytes (close pushed everything to DAOS);
#  - data written and fsync()ed survives kill -9 of the daemon (the writer still holding the
#    file open): a new mount reads it back;
#  - the mount's read-ahead is what --readahead-kib says (4096 KiB by default, the kernel's
#    own with 0; checked as root only: sysfs).
set -u
. "$(dirname "$0")/../lib/server.sh"
. "$(dirname "$0")/dfuse_lib.sh"
t_args SRV_BIN:daos_server CTL_PING:daos_ctl_ping DFUSE_BIN:dfuse_local TDIR=testdir SEED?seed \
	-- "$@"
SEED=${SEED:-$RANDOM}
dfuse_need_fuse
dfuse_init test_dfuse_cache
echo "seed $SEED"
CHK="python3 $TDIR/dfuse_cache_check.py"
M=$TMP/mnt
M2=$TMP/mnt2

# ra_kb MNT: the mount's read_ahead_kb in sysfs (empty if unknown)
ra_kb() {
	local dev
	dev=$(awk -v m="$1" '$5 == m { d = $3 } END { print d }' /proc/self/mountinfo)
	[ -n "$dev" ] && cat "/sys/class/bdi/$dev/read_ahead_kb" 2>/dev/null
}

for mode in wb wt dw; do
	opts=()
	[ $mode = wt ] && opts=(--disable-wb-cache)
	[ $mode = dw ] && opts=(--direct-write)
	dfuse_mount a "$M" "${opts[@]}" || { fail "mount [$mode]"; exit 1; }
	PID_A=$DF_PID
	dfuse_mount b "$M2" "${opts[@]}" || { fail "second mount [$mode]"; exit 1; }
	PID_B=$DF_PID

	if $CHK share "$M/share.$mode" "$TMP/share.$mode.ref" "$SEED" >"$TMP/share.out" 2>&1; then
		pass "$(sed 's/^ok: //' "$TMP/share.out") [$mode]"
	else
		fail "a reader beside an open writer [$mode]"
		show output "$TMP/share.out"
	fi
	if $CHK same "$M2/share.$mode" "$TMP/share.$mode.ref" >"$TMP/same.out" 2>&1; then
		pass "after close, another mount reads the same bytes [$mode]"
	else
		fail "another mount after close [$mode]"
		show output "$TMP/same.out"
	fi
	dfuse_umount "$M2" "$PID_B" || fail "second mount: unmount [$mode]"

	# fsync, then the daemon dies with the file still open
	rm -f "$TMP/in"
	mkfifo "$TMP/in"
	$CHK hold "$M/held.$mode" "$TMP/held.$mode.ref" "$SEED" 3 <"$TMP/in" >"$TMP/hold.out" \
		2>&1 &
	HP=$!
	t_track $HP
	exec 7>"$TMP/in"
	if wait_line "$TMP/hold.out" "^synced" 120; then
		kill -9 "$PID_A"
		wait "$PID_A" 2>/dev/null
		fusermount3 -u -z "$M"
		exec 7>&-
		wait $HP
		dfuse_mount c "$M" "${opts[@]}" || { fail "mount after kill -9 [$mode]"; exit 1; }
		PID_A=$DF_PID
		if $CHK same "$M/held.$mode" "$TMP/held.$mode.ref" >"$TMP/same.out" 2>&1; then
			pass "3 MiB fsync()ed survive kill -9 of the daemon [$mode]"
		else
			fail "fsync()ed data after kill -9 [$mode]"
			show output "$TMP/same.out"
		fi
	else
		exec 7>&-
		fail "the fsync writer did not finish [$mode]"
		show output "$TMP/hold.out"
		dfuse_srv_evidence
	fi
	dfuse_umount "$M" "$PID_A" || fail "unmount [$mode]"
done

# the mount's read-ahead
if [ "$(id -u)" = 0 ]; then
	for ra in default 1024 0; do
		opts=()
		[ $ra = default ] || opts=(--readahead-kib $ra)
		dfuse_mount ra "$M" "${opts[@]}" || { fail "mount --readahead-kib $ra"; continue; }
		got=$(ra_kb "$M")
		case $ra in
		default) want=4096 ;;
		0) want=128 ;; # the kernel's own (VM_READAHEAD_PAGES)
		*) want=$ra ;;
		esac
		[ "$got" = "$want" ] && pass "read-ahead $ra: read_ahead_kb $got" ||
			{ fail "read-ahead $ra: read_ahead_kb '$got', want $want"; show stderr "$TMP/ra.err"; }
		dfuse_umount "$M" "$DF_PID" || fail "unmount (read-ahead $ra)"
	done
else
	echo "    (not root: read-ahead not checked)"
fi

stop_within TERM "$SRV_PID" 10
[ "$RC" = 0 ] && pass "server: exit 0 on SIGTERM" || fail "server: exit $RC on SIGTERM"
t_summary
