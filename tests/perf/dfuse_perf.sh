#!/usr/bin/env bash
# dfuse_perf.sh BUILD_DIR [-m MIB] [-n FILES] [-r RUNS] [-l LOCAL_DIR] [-t TARGETS] [-N] [-L]
#               [-S] [-k SECONDS] [-- DFUSE_OPTIONS...]: a dfuse benchmark (not a test).
#
# Starts a real daos_server (TARGETS targets, 2 by default; SCM class ram, a file bdev), a
# daos_agent, `dmg pool create`, `daos container create --type POSIX` and mounts it with
# the real dfuse (plus DFUSE_OPTIONS). Then RUNS times (3) the workload of dfuse_perf.py
# (FILES (2000) creates, stats and removes; MIB (256) MiB written in 1 MiB calls + fsync,
# read back in 1 MiB calls after dropping the file's cache) through the mount AND on
# LOCAL_DIR (default: a new directory under /tmp), alternately, so both see the same
# machine; medians printed side by side with the ratio. Then, unless -N, the libdfs ceiling:
# build/tests/dfs_perf against the same server (its own pool), same sizes (at most 256 MiB),
# from one thread and from 4 (-v: its RPCs and CPU per MiB, client and server). -k keeps the
# mount for SECONDS before the runs (for experiments by hand; it prints how to go on). -L skips
# the local runs (quicker A/B). -S: the daemon talks to the engine over libfabric shm (the
# engine with DAOS_SHM=1, dfuse and dfs_perf with D_PROVIDER=shm; the tools stay on tcp).
# DFUSE_BIN=PATH runs another dfuse binary (an A/B of two builds against the same libraries). The dfuse runs also print the CPU time per MiB of the daemon,
# the engine and the writer for the write and the read phase (dfuse_perf.py, DFUSE_PERF_PIDS).
#
# With `-- --direct-read` the read phase's open is direct I/O: no page cache, the reads are
# answered by dfuse's own prefetch from the engine (its slots belong to the open, so a new
# open reads the engine again). AB_NEW_DFUSE=--direct-read tests/perf/dfuse_ab.sh compares.
# With `-- --direct-write` the write phase's open is direct I/O and dfuse writes behind
# (answers each write at once; fsync/close wait for DAOS): AB_NEW_DFUSE=--direct-write.
#
# Durability: dfuse's write returns when the server has the data durably (the engine's WAL
# commit), fsync has nothing more to do; with the write-back cache the kernel holds the
# dirty pages until fsync/close, which the timing includes. The local side's fsync reaches
# the virtio disk (host write-back cache behind it).
#
# Ports: the dfuse block (9300 80, tests/README.md). Everything started here is killed by
# the EXIT trap. The load average is printed at the start and the end.
set -u
B=${1:?usage: $0 BUILD_DIR [-m MIB] [-n FILES] [-r RUNS] [-l LOCAL_DIR] [-t TARGETS] [-N] [-- DFUSE_OPTS]}
shift
MIB=256
FILES=2000
RUNS=3
LOCAL=
TARGETS=2
NO_DFS=
NO_LOCAL=
HOLD=
SHM=
while [ $# -gt 0 ]; do
	case $1 in
	-m) MIB=$2; shift 2 ;;
	-n) FILES=$2; shift 2 ;;
	-r) RUNS=$2; shift 2 ;;
	-l) LOCAL=$2; shift 2 ;;
	-t) TARGETS=$2; shift 2 ;;
	-N) NO_DFS=1; shift ;;
	-L) NO_LOCAL=1; shift ;;
	-k) HOLD=$2; shift 2 ;;
	-S) SHM=1; shift ;;
	--) shift; break ;;
	*) echo "dfuse_perf.sh: unknown argument $1" >&2; exit 2 ;;
	esac
done
HERE=$(cd "$(dirname "$0")" && pwd)
SRV_BIN=$B/src/engine/daos_server
CTL_PING=$B/src/engine/daos_ctl_ping
AGENT=$B/src/agent/daos_agent
DMG=$B/src/tools/dmg/dmg
JGET=$B/src/tools/dmg/dmg_json_get
DAOS=$B/src/tools/daos/daos
DFUSE=${DFUSE_BIN:-$B/src/client/dfuse/dfuse}
DFS_PERF=$B/tests/dfs_perf
. "$HERE/../lib/server.sh"
. "$HERE/../dfuse/dfuse_lib.sh"
t_need_exec "$SRV_BIN" "$CTL_PING" "$AGENT" "$DMG" "$JGET" "$DAOS" "$DFUSE"
dfuse_need_fuse
t_init dfuse_perf
t_ports 9300 80
CLI_ENV=()
if [ -n "$SHM" ]; then
	[ -d /dev/shm ] && [ -w /dev/shm ] || { echo "dfuse_perf: -S needs a writable /dev/shm" >&2; exit 1; }
	export DAOS_SHM=1 # reaches the engine (srv_start inherits the environment)
	CLI_ENV=(env D_PROVIDER=shm)
fi
CLI_PIDS=()
perf_cleanup() { # the engine's shm regions (named after its fabric ports) and the clients'
	local rc=$? p i
	dfuse_cleanup
	if [ -n "$SHM" ]; then
		for i in 0 1 2 3 4 5 6 7 8; do rm -f "/dev/shm/127.0.0.1:$((FAB_PORT + i))"; done
		for p in "${CLI_PIDS[@]}"; do rm -f /dev/shm/"$p":*; done
	fi
	return $rc
}
trap perf_cleanup EXIT
[ -n "$LOCAL" ] || LOCAL=$TMP/local
mkdir -p "$LOCAL"

echo "dfuse_perf: $(date -u '+%F %T UTC'), load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "  $RUNS runs; $FILES files; $MIB MiB in 1 MiB calls; $TARGETS targets; local dir $LOCAL"
echo "  dfuse options: ${*:-(defaults)}; client transport ${SHM:+shm}${SHM:-tcp}"

srv_config "$TARGETS" >"$TMP/daos_server.yml"
cat >>"$TMP/daos_server.yml" <<CFG
    storage:
      - class: ram
        scm_mount: $TMP/scm
        scm_size: 2GiB
      - class: file
        bdev_list: [$TMP/bdev0]
        bdev_size: 16GiB
transport_config:
  allow_insecure: true
CFG
srv_start srv
srv_wait_ping srv "$CTL_PING" 20 || exit 1
agent_start "$AGENT" || exit 1
POOL_MB=$((MIB * 2 + 2048))
for i in $(seq 60); do
	timeout 60 "$DMG" -j -l "$ADDR" pool create -z "${POOL_MB}M" perf >"$TMP/pc.out" 2>"$TMP/pc.err"
	[ "$("$JGET" "$TMP/pc.out" status 2>/dev/null)" = 0 ] && break
	sleep 0.5
done
[ "$("$JGET" "$TMP/pc.out" status 2>/dev/null)" = 0 ] || { show err "$TMP/pc.err"; exit 1; }
timeout 60 "$DAOS" -j container create perf fs --type POSIX >"$TMP/cc.out" 2>"$TMP/cc.err" ||
	{ show err "$TMP/cc.err"; exit 1; }

M=$TMP/mnt
mkdir -p "$M"
MNTS+=("$M")
"${CLI_ENV[@]}" "$DFUSE" -m "$M" --pool perf --cont fs -f "$@" >"$TMP/dfuse.out" 2>"$TMP/dfuse.err" &
DF_PID=$!
t_track $DF_PID
CLI_PIDS+=("$DF_PID")
for i in $(seq 1200); do
	dfuse_mounted "$M" && break
	kill -0 $DF_PID 2>/dev/null || break
	sleep 0.05
done
dfuse_mounted "$M" || { show stderr "$TMP/dfuse.err"; exit 1; }

if [ -n "$HOLD" ]; then # -k SECONDS: keep the mount for experiments, then go on
	echo "  mounted at $M (dfuse pid $DF_PID) for $HOLD s; touch $TMP/go to go on"
	for i in $(seq $((HOLD * 10))); do [ -e "$TMP/go" ] && break; sleep 0.1; done
fi
for r in $(seq "$RUNS"); do
	DFUSE_PERF_PIDS="dfuse=$DF_PID engine=$SRV_PID" \
		python3 "$HERE/dfuse_perf.py" run "$M" "$FILES" "$MIB" 1024 >"$TMP/dfuse.$r" ||
		{ echo "dfuse run $r failed"; exit 1; }
	echo "  run $r: dfuse $(tr '\n' ' ' <"$TMP/dfuse.$r")"
	[ -z "$NO_LOCAL" ] || continue
	python3 "$HERE/dfuse_perf.py" run "$LOCAL" "$FILES" "$MIB" 1024 >"$TMP/local.$r" ||
		{ echo "local run $r failed"; exit 1; }
	echo "         local $(tr '\n' ' ' <"$TMP/local.$r")"
done
echo
python3 "$HERE/dfuse_perf.py" report "$TMP"/dfuse.[0-9]* -- $(ls "$TMP"/local.[0-9]* 2>/dev/null) | sed 's/^/  /'
stop_within TERM "$DF_PID" 30

if [ -z "$NO_DFS" ] && [ -x "$DFS_PERF" ]; then
	echo
	echo "libdfs ceiling (dfs_perf, same server, its own pool):"
	# dfs_perf's own pool has 1 GiB of NVMe (tests/common/sys_pool.c) and keeps each run's file
	DFS_MIB=$((MIB > 256 ? 256 : MIB))
	[ "$DFS_MIB" = "$MIB" ] || echo "  (streaming $DFS_MIB MiB: what fits dfs_perf's pool)"
	# -v: RPCs and CPU per MiB of the client and of the server, to compare with dfuse's
	DAOS_PERF_SERVER_PID=$SRV_PID "${CLI_ENV[@]}" "$DFS_PERF" "$ADDR" -n "$FILES" -m "$DFS_MIB" -r "$RUNS" \
		-d "$LOCAL" -v 2>&1 | sed 's/^/  /'
	echo "libdfs, 4 threads (4 calls in flight, as dfuse's 4 workers):"
	DAOS_PERF_SERVER_PID=$SRV_PID "${CLI_ENV[@]}" "$DFS_PERF" "$ADDR" -n $(((FILES + 3) / 4 * 4)) \
		-m $((DFS_MIB / 4 * 4)) -r "$RUNS" \
		-d "$LOCAL" -t 4 -L -v 2>&1 | sed 's/^/  /'
fi
echo
echo "dfuse_perf: done $(date -u '+%T UTC'), load average $(cut -d' ' -f1-3 /proc/loadavg)"
