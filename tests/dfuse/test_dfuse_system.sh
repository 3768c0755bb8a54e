#!/usr/bin/env bash
# test_dfuse_system.sh DAOS_SERVER DAOS_CTL_PING DAOS_AGENT DMG DMG_JSON_GET DAOS DFUSE: the
# real dfuse end to end: a daos_server (2 targets, insecure transport), a daos_agent, a pool
# made with `dmg pool create`, a POSIX container made with `daos container create`; dfuse
# mounts it by labels (in the background: the command returns once mounted) with its 16
# default workers waiting on /dev/fuse, files and directories go through, statfs gives the
# pool's space, fusermount3 -u ends the daemon, a foreground mount by UUIDs (-t 2: 2
# workers) sees the same data and SIGTERM unmounts it. A missing pool is refused with a
# message.
set -u
. "$(dirname "$0")/../lib/server.sh"
. "$(dirname "$0")/dfuse_lib.sh"
t_args SRV_BIN:daos_server CTL_PING:daos_ctl_ping AGENT:daos_agent DMG:dmg JGET:dmg_json_get \
	DAOS:daos DFUSE:dfuse -- "$@"
dfuse_need_fuse
t_init test_dfuse_system
trap dfuse_cleanup EXIT
t_ports 9300 80

svc_start 2 1G
timeout 60 "$DAOS" -j container create tank fs1 --type POSIX >"$TMP/cc.out" 2>"$TMP/cc.err"
CUUID=$("$JGET" "$TMP/cc.out" response.container_uuid 2>/dev/null)
[ -n "$CUUID" ] || { fail "daos container create"; show out "$TMP/cc.out"; show err "$TMP/cc.err"; exit 1; }
pass "daos container create tank fs1 --type POSIX: $CUUID"

# background mount by labels
M=$TMP/mnt
mkdir -p "$M"
MNTS+=("$M")
if timeout 120 "$DFUSE" -m "$M" --pool tank --cont fs1 >"$TMP/bg.out" 2>"$TMP/bg.err" &&
	dfuse_mounted "$M"; then
	pass "dfuse -m MNT --pool tank --cont fs1: mounted when the command returned"
else
	fail "dfuse in the background did not mount"
	show stderr "$TMP/bg.err"
	exit 1
fi
BG_PID=$(pgrep -f -- "-m $M --pool tank")
[ -n "$BG_PID" ] && t_track $BG_PID
# the default workers (16, = max_background): each idle one waits in the kernel's read of
# /dev/fuse; none is busy before the first request below
readers() {
	local t n=0
	for t in /proc/"$1"/task/*; do
		[ "$(cat "$t/wchan" 2>/dev/null)" = fuse_dev_do_read ] && n=$((n + 1))
	done
	echo $n
}
NR=0
for _ in $(seq 200); do
	[ -n "$BG_PID" ] || break
	NR=$(readers "$BG_PID")
	[ "$NR" -ge 16 ] && break
	sleep 0.05
done
[ "$NR" = 16 ] && pass "16 workers wait for requests by default" ||
	fail "workers waiting for requests: $NR, not 16"
head -c 3000000 /dev/urandom >"$TMP/blob"
mkdir -p "$M/a/b" && cp "$TMP/blob" "$M/a/b/blob" && echo hello >"$M/a/hello" &&
	ln -s b/blob "$M/a/link" && cmp -s "$TMP/blob" "$M/a/link" &&
	[ "$(cat "$M/a/hello")" = hello ] && pass "mkdir, a 3 MB file, a link, read back" ||
	fail "files through dfuse"
# statfs: the pool's space (dmg asked for 1G), not the fixed answer of 2^30 4 KiB blocks
read -r BS BLOCKS BFREE < <(stat -f -c '%S %b %f' "$M")
TOTAL=$((BS * BLOCKS))
if [ "$TOTAL" -gt 0 ] && [ "$BLOCKS" != $((1 << 30)) ] && [ "$BFREE" -le "$BLOCKS" ]; then
	pass "statfs: the pool's space, $TOTAL bytes, $((BS * BFREE)) free"
else
	fail "statfs: bsize $BS blocks $BLOCKS free $BFREE"
fi
fusermount3 -u "$M"
for i in $(seq 600); do
	[ -n "$BG_PID" ] && kill -0 $BG_PID 2>/dev/null || break
	sleep 0.05
done
if [ -n "$BG_PID" ] && ! kill -0 $BG_PID 2>/dev/null && ! dfuse_mounted "$M"; then
	pass "fusermount3 -u: the daemon exits"
else
	fail "the daemon '$BG_PID' still runs after fusermount3 -u"
fi

# foreground mount by UUIDs, positional mount point, 2 workers; SIGTERM unmounts
"$DFUSE" "$M" --pool "$PUUID" --container "$CUUID" --foreground -t 2 >"$TMP/fg.out" \
	2>"$TMP/fg.err" &
FG_PID=$!
t_track $FG_PID
for i in $(seq 1200); do
	dfuse_mounted "$M" && break
	kill -0 $FG_PID 2>/dev/null || break
	sleep 0.05
done
if dfuse_mounted "$M" && cmp -s "$TMP/blob" "$M/a/b/blob" && [ "$(readlink "$M/a/link")" = b/blob ]; then
	pass "a second mount by UUIDs sees the same files"
else
	fail "second mount"
	show stderr "$TMP/fg.err"
fi
NR=0
for _ in $(seq 200); do
	NR=$(readers "$FG_PID")
	[ "$NR" -ge 2 ] && break
	sleep 0.05
done
[ "$NR" = 2 ] && pass "-t 2: 2 workers wait for requests" || fail "-t 2: $NR workers waiting"
dfuse_umount "$M" "$FG_PID" && pass "SIGTERM: unmounted, exit 0"

# a pool that does not exist
timeout 60 "$DFUSE" -m "$M" --pool nosuchpool --cont fs1 -f >"$TMP/np.out" 2>"$TMP/np.err"
RC=$?
if [ "$RC" = 1 ] && grep -q "connecting to pool nosuchpool" "$TMP/np.err" && ! dfuse_mounted "$M"; then
	pass "a missing pool: exit 1, $(head -1 "$TMP/np.err")"
else
	fail "a missing pool: exit $RC"
	show stderr "$TMP/np.err"
fi

stop_within TERM "$SRV_PID" 10
[ "$RC" = 0 ] && pass "server: exit 0 on SIGTERM" || fail "server: exit $RC on SIGTERM"
t_summary
