#!/usr/bin/env bash
# test_fs_copy.sh DAOS_SERVER DAOS_CTL_PING DAOS_AGENT DMG DMG_JSON_GET DAOS GLOBAL_TEST DUNS_TEST:
# `daos filesystem copy`, libduns links and dfs_local2global_all end to end: a real
# daos_server (2 targets, insecure), a real daos_agent, a pool from `dmg pool create`, POSIX
# containers from `daos container create`. A local tree (nested directories, a 0-byte file,
# a file over several chunks, a symlink, modes 0600/0755, mtimes in the past) is copied into
# a container, back out to another local directory and compared (diff -r, modes, mtimes,
# link targets); container to container; a libduns link (`user.daos`) as a destination;
# the error cases. Every process is killed by the EXIT trap.
set -u

. "$(dirname "$0")/../lib/server.sh"
t_args BIN:daos_server CTL_PING:daos_ctl_ping AGENT:daos_agent DMG:dmg JGET:dmg_json_get \
	DAOS:daos GTEST:dfs_global_all_test DTEST:duns_path_test -- "$@"
t_init test_fs_copy
SRV_BIN=$BIN
t_ports 32320 40

svc_start 2 2G

# d NAME ARGS...: run daos ARGS, stdout in $TMP/NAME.out, stderr in $TMP/NAME.err, RC.
d() {
	t_run "$1" 120 "$DAOS" "${@:2}"
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
checks_run g dfs_global_all_test 120 "$GTEST" tank fs3 "$TMP/blob"

echo "== libduns: duns_create_path, duns_link_cont, duns_destroy_path"
mkdir "$TMP/duns"
checks_run dt duns_path_test 120 "$DTEST" tank fs3 "$TMP/duns"

echo "== a local tree"
SRC=$TMP/src
mkdir -p "$SRC/d1/d2/d3" "$SRC/empty_dir"
: >"$SRC/zero"
head -c 5000000 /dev/urandom >"$SRC/d1/big"
printf 'hello\n' >"$SRC/d1/d2/hello"
chmod 0600 "$SRC/d1/d2/hello"
printf '#!/bin/sh\necho run\n' >"$SRC/d1/run.sh"
chmod 0755 "$SRC/d1/run.sh"
truncate -s 3000000 "$SRC/sparse"
printf X | dd of="$SRC/sparse" bs=1 seek=2000000 conv=notrunc 2>/dev/null
for i in $(seq 40); do echo "small file $i" >"$SRC/d1/d2/d3/f$i"; done
ln -s d1/d2/hello "$SRC/link"
ln -s /nonexistent/target "$SRC/d1/dangling"
chmod 0750 "$SRC/d1/d2"
chmod 0700 "$SRC/empty_dir"
# times in the past, different for each entry, directories last
n=0
while read -r p; do
	n=$((n + 1))
	touch -h -d "@$((1000000000 + n * 3607)).$(printf '%09d' $((n * 7919)))" "$p"
done < <(find "$SRC" -depth)
NDIRS=$(find "$SRC" -type d | wc -l)
NFILES=$(find "$SRC" -type f | wc -l)
NLINKS=$(find "$SRC" -type l | wc -l)
pass "tree: $NDIRS dirs, $NFILES files, $NLINKS links"

# meta DIR: what must survive a round trip, one line per entry, sorted
meta() {
	(cd "$1" && find . -mindepth 1 \( -type f -printf 'f %p %m %s %T@\n' \) -o \
		\( -type d -printf 'd %p %m %T@\n' \) -o \( -type l -printf 'l %p %l %T@\n' \)) |
		sort
}
# same_tree WHAT DIR: DIR equals $SRC (bytes, modes, sizes, mtimes, link targets)
same_tree() {
	if diff -r --no-dereference "$SRC" "$2" >"$TMP/diff.out" 2>&1; then
		pass "$1: diff -r identical"
	else
		fail "$1: diff -r differs"
		show diff "$TMP/diff.out"
	fi
	meta "$SRC" >"$TMP/meta.want"
	meta "$2" >"$TMP/meta.got"
	if diff "$TMP/meta.want" "$TMP/meta.got" >"$TMP/meta.diff"; then
		pass "$1: modes, sizes, mtimes (ns), link targets equal ($(wc -l <"$TMP/meta.want") entries)"
	else
		fail "$1: metadata differs"
		show diff "$TMP/meta.diff"
	fi
}
# counts NAME WHAT: the summary says the tree's counts
counts() {
	if [ "$RC" = 0 ] && grep -Eq "Directories: +$NDIRS$" "$TMP/$1.out" &&
		grep -Eq "Files: +$NFILES$" "$TMP/$1.out" && grep -Eq "Links: +$NLINKS$" "$TMP/$1.out"; then
		pass "$2: $(head -1 "$TMP/$1.out" | tr -s ' ')"
	else
		fail "$2: exit $RC"
		show out "$TMP/$1.out"
		show err "$TMP/$1.err"
	fi
}

echo "== local -> container -> local"
d in1 filesystem copy --src "$SRC" --dst daos://tank/fs1 -t 8
counts in1 "copy local tree into fs1"
grep -q "Successfully copied to DAOS: daos://tank/fs1" "$TMP/in1.out" || fail "summary line: $(head -1 "$TMP/in1.out")"
d out1 fs copy --src daos://tank/fs1 --dst "$TMP/back1"
counts out1 "copy fs1 back to a new local dir"
same_tree "local -> fs1 -> local" "$TMP/back1"
BLK=$(stat -c %b "$TMP/back1/sparse")
# 3 MB with one byte written at 2 MB: only the 1 MiB chunk holding it is written
[ "$BLK" -le 4096 ] && pass "holes stay holes: 3 MB sparse file has $BLK blocks" ||
	fail "sparse file has $BLK blocks (its holes were written)"

echo "== container -> container"
d cc fs copy --src daos://tank/fs1 --dst "daos://$PUUID/fs2/sub" -t 2
counts cc "copy fs1 into fs2/sub (pool by uuid, new subdirectory)"
d out2 fs copy --src daos://tank/fs2/sub --dst "$TMP/back2" -t 1
counts out2 "copy fs2/sub back (one thread)"
same_tree "local -> fs1 -> fs2/sub -> local" "$TMP/back2"

echo "== one file, small chunks, -j"
d big -j fs copy --src "$SRC/d1/big" --dst daos://tank/small/big
if [ "$RC" = 0 ] && [ "$(jget big response.num_files)" = 1 ] && [ "$(jget big response.bytes)" = 5000000 ] &&
	[ "$(jget big status)" = 0 ]; then
	pass "-j: one file of 5000000 bytes into a 64 KiB-chunk container"
else
	fail "-j one file: exit $RC"
	show out "$TMP/big.out"
	show err "$TMP/big.err"
fi
mkdir "$TMP/back3"
d big2 fs copy --src daos://tank/small/big --dst "$TMP/back3"
cmp -s "$SRC/d1/big" "$TMP/back3/big" && [ "$(stat -c %Y "$TMP/back3/big")" = "$(stat -c %Y "$SRC/d1/big")" ] &&
	pass "file copied into an existing dir under its name: identical, same mtime" ||
	fail "one file back: exit $RC $(cat "$TMP/big2.err")"

echo "== a directory linked to a container (libduns, user.daos)"
FS1=$(timeout 30 "$DAOS" -j cont query tank fs1 >"$TMP/q.out" 2>/dev/null && jget q response.container_uuid)
mkdir "$TMP/uns"
if python3 -c "import os,sys; os.setxattr(sys.argv[1], 'user.daos', ('DAOS.POSIX://%s/%s' % (sys.argv[2], sys.argv[3])).encode() + b'\0')" \
	"$TMP/uns" "$PUUID" "$FS1" 2>"$TMP/xattr.err"; then
	d uns fs copy --src "$TMP/uns/d1" --dst "$TMP/back4"
	if [ "$RC" = 0 ] && grep -q "Successfully copied to POSIX" "$TMP/uns.out" &&
		diff -r --no-dereference "$SRC/d1" "$TMP/back4" >/dev/null; then
		pass "a path below a linked directory is its container's /d1"
	else
		fail "copy from a linked path: exit $RC"
		show err "$TMP/uns.err"
	fi
	d uns2 fs copy --src "$SRC/d1" --dst "$TMP/uns/copied"
	d uns3 fs copy --src daos://tank/fs1/copied --dst "$TMP/back5"
	if [ "$RC" = 0 ] && grep -q "Successfully copied to DAOS" "$TMP/uns2.out" &&
		diff -r --no-dereference "$SRC/d1" "$TMP/back5" >/dev/null &&
		[ -z "$(ls -A "$TMP/uns")" ]; then
		pass "a new name below a linked directory is a destination in its container"
	else
		fail "copy to a linked path: exit $RC"
		show err "$TMP/uns2.err"
		show err "$TMP/uns3.err"
	fi
else
	fail "setxattr user.daos: $(cat "$TMP/xattr.err")"
fi

echo "== errors"
d e1 fs copy --src "$TMP/nope" --dst daos://tank/fs1/x
refused e1 "missing local source" "does not exist.*DER_NONEXIST"
d e2 fs copy --src daos://tank/fs1/nope --dst "$TMP/x"
refused e2 "missing source in a container" "does not exist.*DER_NONEXIST"
d e3 fs copy --src "$SRC" --dst daos://tank/fs1/zero
refused e3 "destination is a file in a container, a dir is needed" "exists and is not a directory.*DER_NOTDIR"
d e4 fs copy --src daos://tank/fs1 --dst "$SRC/zero"
refused e4 "destination is a local file, a dir is needed" "exists and is not a directory.*DER_NOTDIR"
d e5 fs copy --src "$SRC" --dst daos://tank
refused e5 "daos:// without a container" "bad DAOS path"
d e6 fs copy --src "$SRC"
refused e6 "no --dst" "both --src and --dst"
d e7 fs copy --src "$SRC" --dst daos://tank/fs1 -t 0
refused e7 "-t 0" "threads"
d e8 fs copy --src "$SRC" --dst daos://nosuchpool/fs1
refused e8 "a pool that does not exist" "cannot open destination container.*DER_NONEXIST"
d e9 fs copy --src "$SRC/d1" --dst "$TMP/nodir/a/b"
refused e9 "destination's parent missing" "cannot create destination directory"
d e11 fs copy --src daos://tank/fs1/d1 --dst daos://tank/fs1/d1/d2/again
refused e11 "a container directory into itself" "into itself"
# permission: a file only root may read, copied by another user (local source: no agent)
mkdir -m 0755 "$TMP/perm"
chmod 0755 "$TMP"
echo secret >"$TMP/perm/secret"
chmod 0600 "$TMP/perm/secret"
if [ "$(id -u)" = 0 ] && command -v runuser >/dev/null; then
	timeout 60 runuser -u nobody -- "$DAOS" fs copy --src "$TMP/perm/secret" --dst /tmp/nobody_copy.$$ \
		>"$TMP/e10.out" 2>"$TMP/e10.err"
	RC=$?
	rm -f /tmp/nobody_copy.$$
	refused e10 "an unreadable source file (as nobody)" "cannot open source file.*Permission denied.*DER_NO_PERM"
elif [ "$(id -u)" != 0 ]; then
	chmod 0000 "$TMP/perm/secret"
	d e10 fs copy --src "$TMP/perm/secret" --dst daos://tank/fs1/secret
	refused e10 "an unreadable source file" "cannot open source file.*Permission denied.*DER_NO_PERM"
fi
chmod 0700 "$TMP"

t_summary
