#!/usr/bin/env bash
# test_dfuse_ns.sh DAOS_SERVER DAOS_CTL_PING DFUSE_LOCAL CHECK_PY [SEED]: the FUSE core mounted
# by the test launcher over a real daos_server; the namespace checked through the kernel with
# shell tools and dfuse_ns_check.py (a model walk among them), a write by another user clears
# setuid/setgid, then unmount on SIGTERM, a second mount of the same container sees the same
# tree, a read-only mount refuses writes, and the RPCs of single system calls are within
# budget (dfuse_rpc_check.py).
set -u
. "$(dirname "$0")/../lib/server.sh"
. "$(dirname "$0")/dfuse_lib.sh"
t_args SRV_BIN:daos_server CTL_PING:daos_ctl_ping DFUSE_BIN:dfuse_local CHECK_PY=check.py \
	SEED?seed -- "$@"
SEED=${SEED:-$RANDOM}
dfuse_need_fuse
dfuse_init test_dfuse_ns
echo "seed $SEED"

M=$TMP/mnt
dfuse_mount a "$M" --thread-count 4 -o allow_other || { fail "mount"; exit 1; }
pass "mounted at $M"
PID_A=$DF_PID

# shell tools through the mount
mkdir -p "$M/t/d1/d2" && touch "$M/t/d1/f" && ln -s d1/f "$M/t/l" &&
	[ "$(ls "$M/t/d1" | tr '\n' ' ')" = "d2 f " ] && [ "$(readlink "$M/t/l")" = d1/f ] &&
	[ "$(stat -c %F "$M/t/d1")" = directory ] && [ "$(stat -c %F "$M/t/l")" = "symbolic link" ] &&
	pass "mkdir -p, touch, ln -s, ls, readlink, stat" || fail "shell tools"
mv "$M/t/d1" "$M/t/d3" && [ -f "$M/t/d3/f" ] && [ ! -e "$M/t/d1" ] && [ ! -e "$M/t/l" ] &&
	pass "mv of a directory (the link now dangles)" || fail "mv of a directory"
find "$M/t" | sort >"$TMP/find1"
[ "$(wc -l <"$TMP/find1")" = 5 ] && pass "find sees 5 paths" || { fail "find"; show find "$TMP/find1"; }
rm -r "$M/t/d3" && [ ! -e "$M/t/d3" ] && pass "rm -r" || fail "rm -r"

# the python checks (entries, attributes, renames, links, xattrs, big directory, model)
if python3 "$CHECK_PY" "$M" "$SEED" 500 >"$TMP/check.out" 2>&1; then
	pass "dfuse_ns_check.py: $(grep -c '^ok:' "$TMP/check.out") checks"
else
	fail "dfuse_ns_check.py"
	show output "$TMP/check.out"
fi

# another user's write clears setuid/setgid (the kernel sends the mode through setattr; the
# mount allows other users, and $TMP must let them through)
if command -v setpriv >/dev/null; then
	chmod 711 "$TMP"
	mkdir -m 777 "$M/suid" && printf x >"$M/suid/f" && chmod 6777 "$M/suid/f"
	setpriv --reuid=65534 --regid=65534 --clear-groups sh -c "printf y >>'$M/suid/f'"
	sx=$(stat -c %a "$M/suid/f")
	[ "$sx" = 777 ] && [ "$(cat "$M/suid/f")" = xy ] &&
		pass "a write by another user clears setuid and setgid" ||
		fail "setuid/setgid after another user's write: mode $sx, data $(cat "$M/suid/f")"
	rm -r "$M/suid"
else
	echo "note: no setpriv, the setuid check is skipped"
fi

# unmount on SIGTERM, mount again: the same tree
ls -laR "$M/nscheck/basics" "$M/nscheck/model" 2>&1 | sed 's/ [A-Z][a-z][a-z] .* / /' >"$TMP/tree1"
dfuse_umount "$M" "$PID_A" && pass "SIGTERM: unmounted, exit 0"
dfuse_mount b "$M" -S || { fail "second mount"; exit 1; }
ls -laR "$M/nscheck/basics" "$M/nscheck/model" 2>&1 | sed 's/ [A-Z][a-z][a-z] .* / /' >"$TMP/tree2"
if cmp -s "$TMP/tree1" "$TMP/tree2"; then
	pass "a second mount (single thread) lists the same tree ($(wc -l <"$TMP/tree2") lines)"
else
	fail "the tree differs after a remount"
	diff "$TMP/tree1" "$TMP/tree2" | head -20
fi
dfuse_umount "$M" "$DF_PID" && pass "second mount: unmounted"

# read-only mount
dfuse_mount c "$M" --read-only || { fail "read-only mount"; exit 1; }
if ! mkdir "$M/ro" 2>/dev/null && [ -d "$M/nscheck/basics" ]; then
	pass "read-only mount: mkdir refused, tree visible"
else
	fail "read-only mount"
fi
dfuse_umount "$M" "$DF_PID" && pass "read-only mount: unmounted"

# RPCs per system call (the daemon's counters): every name looked up again, attributes kept
dfuse_mount r "$M" --dentry-timeout 0 --dentry-dir-timeout 0 --ndentry-timeout 0 \
	--attr-timeout 600 || { fail "mount for the RPC counts"; exit 1; }
if python3 "$(dirname "$0")/dfuse_rpc_check.py" "$M" >"$TMP/rpc.out" 2>&1; then
	pass "dfuse_rpc_check.py: $(grep -c '^ok:' "$TMP/rpc.out") RPC budgets"
	sed 's/^/    /' "$TMP/rpc.out"
else
	fail "dfuse_rpc_check.py"
	show output "$TMP/rpc.out"
fi
dfuse_umount "$M" "$DF_PID" && pass "RPC-count mount: unmounted"

# background mode: the command returns once mounted; fusermount3 -u ends the daemon
M2=$TMP/mnt_bg
mkdir -p "$M2"
MNTS+=("$M2")
if "$DFUSE_BIN" --mgmt "$ADDR" --pool "$POOL" --cont "$CONT" -m "$M2" >"$TMP/bg.out" \
	2>"$TMP/bg.err" && dfuse_mounted "$M2" && [ -d "$M2/nscheck/basics" ]; then
	pass "background mode: mounted when the command returned"
	BG_PID=$(pgrep -f -- "-m $M2\$")
	[ -n "$BG_PID" ] && t_track $BG_PID
	fusermount3 -u "$M2"
	for i in $(seq 600); do
		[ -n "$BG_PID" ] && kill -0 $BG_PID 2>/dev/null || break
		sleep 0.05
	done
	if [ -n "$BG_PID" ] && ! kill -0 $BG_PID 2>/dev/null && ! dfuse_mounted "$M2"; then
		pass "background mode: the daemon exits after fusermount3 -u"
	else
		fail "background mode: daemon '$BG_PID' still runs after fusermount3 -u"
	fi
else
	fail "background mode"
	show stderr "$TMP/bg.err"
fi

stop_within TERM "$SRV_PID" 10
[ "$RC" = 0 ] && pass "server: exit 0 on SIGTERM" || fail "server: exit $RC on SIGTERM"
t_summary
