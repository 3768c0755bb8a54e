#!/usr/bin/env bash
# test_dfuse_dwrite.sh DAOS_SERVER DAOS_CTL_PING DFUSE_LOCAL TESTDIR [SEED]: --direct-write
# (writing opens are direct I/O; dfuse answers each write at once and writes it behind) over
# the FUSE core, mounted by the test launcher over a real daos_server:
#  - dfuse_dwrite_check.py behind: stat and another descriptor see each write at once,
#    overwrites in order, overlapping unaligned writes against a model;
#  - the fsx exerciser, a tree copied in and out (diff -r), tar, O_APPEND, concurrent
#    writers, a shared mmap written through a writing open;
#  - small writes still gathered by the daemon when SIGTERM stops it (the file still open)
#    reach DAOS; after it a mount without the option reads every file back equal;
#  - with --direct-read too: the same checks through direct readers, fsx and
#    dfuse_data_util.py directread;
#  - the error path (DFUSE_FAULT_WB_EIO=3, the 3rd write written behind fails): fsync returns
#    EIO once; on another mount close returns it;
#  - unlink and rename over a file with writes behind wait for them
#    (DFUSE_FAULT_WB_DELAY_MS=1000 makes each write behind slow).
set -u
. "$(dirname "$0")/../lib/server.sh"
. "$(dirname "$0")/dfuse_lib.sh"
t_args SRV_BIN:daos_server CTL_PING:daos_ctl_ping DFUSE_BIN:dfuse_local TDIR=testdir SEED?seed \
	-- "$@"
SEED=${SEED:-$RANDOM}
dfuse_need_fuse
dfuse_init test_dfuse_dwrite
echo "seed $SEED"
CHK="python3 $TDIR/dfuse_dwrite_check.py"
M=$TMP/mnt

# every stat asks the daemon (--attr-timeout 0): it must wait for the writes behind
dfuse_mount a "$M" --direct-write --thread-count 4 --attr-timeout 0 ||
	{ fail "mount --direct-write"; exit 1; }
pass "mounted at $M with --direct-write"
if $CHK behind "$M" "$SEED" >"$TMP/behind.out" 2>&1; then
	pass "$(sed 's/^ok: //' "$TMP/behind.out")"
else
	fail "writes behind seen at once"
	show output "$TMP/behind.out"
fi
run_fsx fsx_dw "$SEED" 2000 fsx1 "--direct-write"

dfuse_tree_in
dfuse_tar_on_mount
dfuse_appends
mkdir "$M/writers"
dfuse_util w "" "concurrent writers" writers "$M/writers" 4 "$SEED"
# a shared mmap of a writing open (FUSE_DIRECT_IO_ALLOW_MMAP, where the kernel has it)
if grep -q 'DIRECT_IO_ALLOW_MMAP on' "$TMP/a.err"; then
	if python3 -c 'import mmap, os, sys
fd = os.open(sys.argv[1], os.O_CREAT | os.O_RDWR, 0o644)
os.ftruncate(fd, 3 * 4096 + 5)
m = mmap.mmap(fd, 0, mmap.MAP_SHARED, mmap.PROT_READ | mmap.PROT_WRITE)
m[4000:4200] = b"m" * 200
m.flush()
m.close()
os.close(fd)
d = open(sys.argv[1], "rb").read()
sys.exit(0 if d == b"\0" * 4000 + b"m" * 200 + b"\0" * (3 * 4096 + 5 - 4200) else 1)' "$M/mapped"
	then
		pass "--direct-write: a shared mmap of a writing open writes the file"
	else
		fail "--direct-write: shared mmap of a writing open"
	fi
else
	echo "  (skip: the kernel has no FUSE_DIRECT_IO_ALLOW_MMAP)"
fi

# small writes still gathered when the daemon is told to stop, the file still open
rm -f "$TMP/in"
mkfifo "$TMP/in"
$CHK gather "$M/gathered" <"$TMP/in" >"$TMP/gather.out" 2>&1 &
GP=$!
t_track $GP
exec 7>"$TMP/in"
wait_line "$TMP/gather.out" "^written" 60 || fail "the small writer did not write"
dfuse_umount "$M" "$DF_PID" && pass "SIGTERM with a file open: unmounted, exit 0"
exec 7>&-
wait $GP

# everything answered reached DAOS: a mount through the page cache reads it back
dfuse_mount b "$M" || { fail "mount without --direct-write"; exit 1; }
if $CHK gathered "$M/gathered" >"$TMP/gathered.out" 2>&1; then
	pass "$(sed 's/^ok: //' "$TMP/gathered.out")"
else
	fail "small writes gathered at SIGTERM"
	show output "$TMP/gathered.out"
fi
if cmp -s "$M/fsx_dw" "$TMP/fsx_dw.ref" && diff -r --no-dereference "$TMP/src" "$M/tree" \
	>/dev/null 2>&1; then
	pass "after a remount without the option the fsx file and the tree are intact"
else
	fail "after a remount the fsx file or the tree differs"
fi
dfuse_umount "$M" "$DF_PID" || fail "second mount: unmount"

# with --direct-read as well: readers direct beside direct writers
dfuse_mount c "$M" --direct-write --direct-read --thread-count 4 ||
	{ fail "mount --direct-write --direct-read"; exit 1; }
# a direct reader's read (no GETATTR before it, unlike a cached one) waits for the writes
mkdir -p "$M/dwr"
if $CHK behind "$M/dwr" "$((SEED + 1))" >"$TMP/behind2.out" 2>&1; then
	pass "$(sed 's/^ok: //' "$TMP/behind2.out") [--direct-read]"
else
	fail "writes behind seen at once [--direct-read]"
	show output "$TMP/behind2.out"
fi
run_fsx fsx_dwr "$((SEED + 1))" 1500 fsx2 "--direct-write --direct-read"
mkdir -p "$M/dread"
dfuse_util dr " [--direct-write]" "--direct-read reads beside --direct-write" directread \
	"$M/dread" "$SEED"
dfuse_umount "$M" "$DF_PID" || fail "third mount: unmount"

# the error path: the 3rd write written behind fails
for when in fsync close; do
	DFUSE_FAULT_WB_EIO=3 dfuse_mount "e$when" "$M" --direct-write ||
		{ fail "mount with DFUSE_FAULT_WB_EIO"; exit 1; }
	if $CHK eio "$M/eio.$when" "$when" >"$TMP/eio.out" 2>&1; then
		pass "$(sed 's/^ok: //' "$TMP/eio.out")"
	else
		fail "a failed write behind [$when]"
		show output "$TMP/eio.out"
	fi
	dfuse_umount "$M" "$DF_PID" || fail "error mount: unmount [$when]"
	grep -q "write behind .*Input/output error" "$TMP/e$when.err" &&
		pass "the failed write behind is logged once [$when]" ||
		fail "no log of the failed write behind [$when]"
done

# unlink and rename over a file with writes behind wait for them (each sleeps 1 s first)
DFUSE_FAULT_WB_DELAY_MS=1000 dfuse_mount rm "$M" --direct-write --attr-timeout 0 ||
	{ fail "mount with DFUSE_FAULT_WB_DELAY_MS"; exit 1; }
if $CHK remove "$M" 1000 >"$TMP/remove.out" 2>&1; then
	pass "$(sed 's/^ok: //' "$TMP/remove.out")"
else
	fail "unlink/rename over a file with writes behind"
	show output "$TMP/remove.out"
fi
if $CHK starve "$M/starve" 1000 >"$TMP/starve.out" 2>&1; then
	pass "$(sed 's/^ok: //' "$TMP/starve.out")"
else
	fail "stat beside a streaming writer"
	show output "$TMP/starve.out"
fi
dfuse_umount "$M" "$DF_PID" || fail "delay mount: unmount"

stop_within TERM "$SRV_PID" 10
[ "$RC" = 0 ] && pass "server: exit 0 on SIGTERM" || fail "server: exit $RC on SIGTERM"
t_summary
