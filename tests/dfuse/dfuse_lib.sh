# dfuse_lib.sh: sourced by the dfuse system tests after ../lib/server.sh. A daos_server with
# 2 targets in $TMP (insecure) and a daos_agent, then the FUSE core mounted through the test
# launcher (dfuse_local), whose pool and container come from the management service.
# Needs SRV_BIN, CTL_PING and DFUSE_BIN; AGENT defaults to the daos_agent of SRV_BIN's build
# tree (../agent/daos_agent beside src/engine/daos_server). Every mount made here is unmounted and every process
# killed by the EXIT trap, whatever happens.

MNTS=()

# Exit 77 (skipped) unless FUSE can be used here.
dfuse_need_fuse() {
	if [ ! -c /dev/fuse ] || ! (exec 3<>/dev/fuse) 2>/dev/null; then
		echo "SKIP: /dev/fuse is missing or cannot be opened"
		exit 77
	fi
	if ! command -v fusermount3 >/dev/null; then
		echo "SKIP: fusermount3 is not installed"
		exit 77
	fi
}

dfuse_mounted() {
	grep -q " $1 fuse" /proc/mounts
}

dfuse_cleanup() {
	local rc=$? m
	for m in "${MNTS[@]}"; do
		dfuse_mounted "$m" && fusermount3 -u -z "$m" 2>/dev/null
	done
	# t_cleanup reads the script's exit status in $? (T_KEEP_FAILED keeps a failed run's TMP)
	(exit $rc)
	t_cleanup || exit 1
}

# dfuse_init NAME: t_init, the trap, the ports (block 9300..9939), the server, the agent, a
# pool UUID $POOL and a container label $CONT (both created by the first dfuse_mount).
dfuse_init() {
	t_init "$1"
	trap dfuse_cleanup EXIT
	t_ports 9300 80
	srv_config 2 >"$TMP/daos_server.yml"
	cat >>"$TMP/daos_server.yml" <<CFG
    storage:
      - class: ram
        scm_mount: $TMP/scm
        scm_size: 2GiB
      - class: file
        bdev_list: [$TMP/bdev0]
        bdev_size: 8GiB
transport_config:
  allow_insecure: true
CFG
	srv_start srv
	srv_wait_ping srv "$CTL_PING" 20 || { fail "the server does not answer"; exit 1; }
	: "${AGENT:=$(dirname "$SRV_BIN")/../agent/daos_agent}"
	t_need_exec "$AGENT"
	agent_start "$AGENT" || { fail "agent did not start"; exit 1; }
	POOL=$(cat /proc/sys/kernel/random/uuid)
	CONT=dfuse_cont
	POOL_MADE=
}

# dfuse_srv_evidence: for a failure that may be the server's (a call through the mount timed
# out, a pool connect timed out): whether the server lives, its state and CPU time, the tail
# of its log ($TMP/srv.err).
dfuse_srv_evidence() {
	local t
	if kill -0 "$SRV_PID" 2>/dev/null; then
		echo "    server pid $SRV_PID alive: $(grep '^State:' "/proc/$SRV_PID/status" 2>/dev/null)," \
			"cpu $(cpu_ticks "$SRV_PID") ticks; its threads (state, wchan):"
		for t in /proc/"$SRV_PID"/task/*; do
			echo "$(sed 's/.*) //; s/ .*//' "$t/stat" 2>/dev/null) $(cat "$t/wchan" 2>/dev/null)"
		done | sort | uniq -c | sed 's/^/      /'
	else
		echo "    server pid $SRV_PID is gone"
	fi
	show "server log (tail)" <(tail -20 "$TMP/srv.err")
}

# dfuse_mount NAME MNT [OPTIONS...]: mount in the foreground (tracked); DF_PID. Returns 1 and
# shows the log if the mount does not appear within 60 s.
dfuse_mount() {
	local name=$1 mnt=$2 i
	shift 2
	mkdir -p "$mnt"
	local create=
	[ -z "$POOL_MADE" ] && create=--create
	"$DFUSE_BIN" --mgmt "$ADDR" --pool "$POOL" --cont "$CONT" $create -m "$mnt" \
		--foreground "$@" >"$TMP/$name.out" 2>"$TMP/$name.err" &
	DF_PID=$!
	t_track "$DF_PID"
	MNTS+=("$mnt")
	for i in $(seq 1200); do
		if dfuse_mounted "$mnt"; then
			POOL_MADE=1
			return 0
		fi
		kill -0 "$DF_PID" 2>/dev/null || break
		sleep 0.05
	done
	echo "    dfuse_local did not mount $mnt"
	show stderr "$TMP/$name.err"
	dfuse_srv_evidence
	return 1
}

# dfuse_umount MNT PID: SIGTERM; the daemon must unmount and exit 0 within 30 s.
dfuse_umount() {
	stop_within TERM "$2" 30
	if [ "$RC" != 0 ]; then
		fail "dfuse on $1: exit $RC after SIGTERM"
		return 1
	fi
	if dfuse_mounted "$1"; then
		fail "dfuse on $1: still mounted after SIGTERM"
		return 1
	fi
	return 0
}

# run_fsx FILE SEED STEPS OUT TAG: dfuse_fsx.py on $M/FILE against $TMP/FILE.ref
run_fsx() {
	if python3 "$TDIR/dfuse_fsx.py" "$M/$1" "$TMP/$1.ref" "$2" "$3" >"$TMP/$4.out" 2>&1; then
		pass "$(grep '^ok:' "$TMP/$4.out" | sed 's/^ok: //') [$5]"
	else
		fail "fsx [$5]"
		show output "$TMP/$4.out"
	fi
}

# dfuse_util OUT SUFFIX WHAT CMD ARGS...: dfuse_data_util.py CMD ARGS into $TMP/OUT.out; pass
# with its "ok:" line (and SUFFIX), or fail with WHAT and its output
dfuse_util() {
	local out=$TMP/$1.out sfx=$2 what=$3

	shift 3
	if python3 "$TDIR/dfuse_data_util.py" "$@" >"$out" 2>&1; then
		pass "$(sed 's/^ok: //' "$out")$sfx"
	else
		fail "$what"
		show output "$out"
	fi
}

# dfuse_tree_in: a tree made in $TMP/src (seed $SEED), copied onto the mount ($M/tree) with
# cp -a, diff -r equal
dfuse_tree_in() {
	python3 "$TDIR/dfuse_data_util.py" tree "$TMP/src" "$SEED" >"$TMP/tree.out" 2>&1 ||
		{ fail "making the tree"; show output "$TMP/tree.out"; }
	if cp -a "$TMP/src" "$M/tree" 2>"$TMP/cp.err" &&
		diff -r --no-dereference "$TMP/src" "$M/tree" >"$TMP/diff1" 2>&1; then
		pass "cp -a of a tree in, diff -r equal ($(cat "$TMP/tree.out"))"
	else
		fail "tree copied in differs"
		show cp "$TMP/cp.err"
		head -20 "$TMP/diff1"
	fi
}

# dfuse_tar_on_mount: $TMP/src archived onto the mount, extracted there ($M/untar), equal
dfuse_tar_on_mount() {
	mkdir -p "$M/untar"
	if tar -C "$TMP/src" -cf "$M/a.tar" . && tar -C "$M/untar" -xf "$M/a.tar" &&
		diff -r --no-dereference "$TMP/src" "$M/untar" >"$TMP/diff3" 2>&1; then
		pass "tar: an archive on the mount, extracted on the mount, equal"
	else
		fail "tar on the mount"
		head -20 "$TMP/diff3"
	fi
}

# dfuse_appends: three O_APPEND writes to $M/app (shell redirections), read back in order
dfuse_appends() {
	printf 'first line\n' >"$M/app" && printf 'second\n' >>"$M/app" &&
		printf 'third\n' >>"$M/app"
	if [ "$(cat "$M/app")" = "$(printf 'first line\nsecond\nthird')" ]; then
		pass "O_APPEND: three appends in order"
	else
		fail "O_APPEND: $(od -c "$M/app" | head -3)"
	fi
}
