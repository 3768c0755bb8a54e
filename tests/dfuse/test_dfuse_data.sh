#!/usr/bin/env bash
# test_dfuse_data.sh DAOS_SERVER DAOS_CTL_PING DFUSE_LOCAL TESTDIR [SEED]: file data through
# the FUSE core, mounted by the test launcher over a real daos_server:
#  - fsx-style random exerciser (dfuse_fsx.py) against a local reference file, once with the
#    page cache and once with --disable-caching (every unaligned I/O reaches libdfs);
#  - a random tree copied in and back out, compared with diff -r; a tar round trip both ways;
#  - concurrent writers to their own files and to disjoint stripes of one shared file;
#  - after unmount (SIGTERM) and a new mount, the fsx files still equal their references;
#  - --direct-read (read-only opens direct I/O, dfuse's prefetch): fsx, streaming reads of
#    several sizes, coherence with writers (dfuse_data_util.py directread), shared mmap;
#    the prefetch answered reads (its count on the daemon's stderr at exit).
set -u
. "$(dirname "$0")/../lib/server.sh"
. "$(dirname "$0")/dfuse_lib.sh"
t_args SRV_BIN:daos_server CTL_PING:daos_ctl_ping DFUSE_BIN:dfuse_local TDIR=testdir SEED?seed \
	-- "$@"
SEED=${SEED:-$RANDOM}
dfuse_need_fuse
dfuse_init test_dfuse_data
echo "seed $SEED"

M=$TMP/mnt
dfuse_mount a "$M" --thread-count 4 || { fail "mount"; exit 1; }
pass "mounted at $M"
PID_A=$DF_PID

# fsx with the page cache
run_fsx fsx_cached "$SEED" 3000 fsx1 "page cache"

# a tree in and out
dfuse_tree_in
if cp -a "$M/tree" "$TMP/back" 2>"$TMP/cp2.err" &&
	diff -r --no-dereference "$TMP/src" "$TMP/back" >"$TMP/diff2" 2>&1; then
	pass "cp -a of the tree back out, diff -r equal"
else
	fail "tree copied back out differs"
	show cp "$TMP/cp2.err"
	head -20 "$TMP/diff2"
fi
# (directory sizes are the file system's own business)
meta() {
	(cd "$1" && find . \( -type d -printf '%y %m %p\n' \) -o \( -type f -printf \
		'%y %m %s %T@ %p\n' \) -o -printf '%y %p %l\n' | sort)
}
meta "$TMP/src" >"$TMP/meta.src"
meta "$M/tree" >"$TMP/meta.mnt"
if cmp -s "$TMP/meta.src" "$TMP/meta.mnt"; then
	pass "find: kinds, modes, sizes, mtimes, link targets equal ($(wc -l <"$TMP/meta.mnt") paths)"
else
	fail "find metadata differs"
	diff "$TMP/meta.src" "$TMP/meta.mnt" | head -20
fi

# tar round trips: archive written on the mount and extracted there, and the reverse
mkdir -p "$TMP/untar2"
dfuse_tar_on_mount
if tar -C "$M/tree" -cf - . | tar -C "$TMP/untar2" -xf - &&
	diff -r --no-dereference "$TMP/src" "$TMP/untar2" >"$TMP/diff4" 2>&1; then
	pass "tar: the tree on the mount piped out, equal"
else
	fail "tar of the mount"
	head -20 "$TMP/diff4"
fi

# O_APPEND and a file rewritten shorter with O_TRUNC (shell redirections)
dfuse_appends
printf 'x\n' >"$M/app"
[ "$(stat -c %s "$M/app")" = 2 ] && [ "$(cat "$M/app")" = x ] && pass "O_TRUNC rewrite" ||
	fail "O_TRUNC rewrite: size $(stat -c %s "$M/app")"

# concurrent writers
mkdir "$M/writers"
dfuse_util w "" "concurrent writers" writers "$M/writers" 4 "$SEED"

dfuse_umount "$M" "$PID_A" && pass "SIGTERM: unmounted, exit 0"

# without caching: every read and write goes to libdfs as the application issued it
dfuse_mount b "$M" --disable-caching || { fail "mount --disable-caching"; exit 1; }
if cmp -s "$M/fsx_cached" "$TMP/fsx_cached.ref"; then
	pass "after a remount the fsx file equals its reference"
else
	fail "after a remount the fsx file differs"
fi
if diff -r --no-dereference "$TMP/src" "$M/tree" >/dev/null 2>&1; then
	pass "after a remount the tree is intact"
else
	fail "after a remount the tree differs"
fi
run_fsx fsx_direct "$((SEED + 1))" 1500 fsx2 "--disable-caching"
dfuse_umount "$M" "$DF_PID" && pass "second mount: unmounted"
# --disable-caching reads are direct I/O: dfuse's prefetch served the fsx's sequential runs
n=$(sed -n 's/^dfuse: prefetch: \([0-9]*\) reads answered.*/\1/p' "$TMP/b.err")
[ "${n:-0}" -gt 0 ] && pass "--disable-caching: $n reads answered from dfuse's prefetch" ||
	fail "--disable-caching: no read answered from the prefetch ($(grep prefetch "$TMP/b.err"))"

# --direct-read: read-only opens are direct I/O, with dfuse's prefetch
dfuse_mount c "$M" --direct-read --thread-count 4 || { fail "mount --direct-read"; exit 1; }
if cmp -s "$M/fsx_direct" "$TMP/fsx_direct.ref"; then
	pass "--direct-read: the --disable-caching fsx file read back equal"
else
	fail "--direct-read: the --disable-caching fsx file differs"
fi
run_fsx fsx_dread "$((SEED + 2))" 1500 fsx3 "--direct-read"
mkdir -p "$M/dread"
dfuse_util dr "" "--direct-read reads" directread "$M/dread" "$SEED"
# a shared mmap of a direct-I/O open (FUSE_DIRECT_IO_ALLOW_MMAP, where the kernel has it)
if grep -q 'DIRECT_IO_ALLOW_MMAP on' "$TMP/c.err"; then
	if python3 -c 'import mmap, os, sys
fd = os.open(sys.argv[1], os.O_RDONLY)
m = mmap.mmap(fd, 0, mmap.MAP_SHARED, mmap.PROT_READ)
sys.exit(0 if m[:] == open(sys.argv[2], "rb").read() else 1)' "$M/fsx_dread" "$TMP/fsx_dread.ref"; then
		pass "--direct-read: a shared mmap of a read-only open reads the file"
	else
		fail "--direct-read: shared mmap of a read-only open"
	fi
else
	echo "  (skip: the kernel has no FUSE_DIRECT_IO_ALLOW_MMAP)"
fi
dfuse_umount "$M" "$DF_PID" && pass "third mount: unmounted"
n=$(sed -n 's/^dfuse: prefetch: \([0-9]*\) reads answered.*/\1/p' "$TMP/c.err")
[ "${n:-0}" -gt 100 ] && pass "--direct-read: $n reads answered from dfuse's prefetch" ||
	fail "--direct-read: ${n:-no} reads answered from the prefetch"

stop_within TERM "$SRV_PID" 10
[ "$RC" = 0 ] && pass "server: exit 0 on SIGTERM" || fail "server: exit $RC on SIGTERM"
t_summary
