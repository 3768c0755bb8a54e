#!/usr/bin/env bash
# rpc_lat.sh BUILD_DIR... [-n RUNS] [-- SELF_TEST_ARGS...]: a latency benchmark (not a test).
#
# For each build directory in turn (give two to compare an old and a new build in the same
# period), starts that build's daos_server (2 targets, tcp) and runs its
# `self_test --engine` against target 0 RUNS times (0.5 s each, default 3), printing the
# 0 B and 64 B round-trip p50/p99 lines, then the server's CPU ticks over 2 s of idleness.
# Placement comes from the environment: SRV_PREFIX and CLI_PREFIX are put before the
# server and client commands (e.g. "taskset -c 0" / "taskset -c 1", or "nice -n -20");
# CLIENT replaces the client binary. docs/PERFORMANCE.md ("Spin policy") used it.
set -u
BUILDS=()
RUNS=3
while [ $# -gt 0 ]; do
	case $1 in
	-n) RUNS=$2; shift 2 ;;
	--) shift; break ;;
	*) BUILDS+=("$1"); shift ;;
	esac
done
[ ${#BUILDS[@]} -gt 0 ] || { echo "usage: $0 BUILD_DIR... [-n RUNS] [-- SELF_TEST_ARGS...]"; exit 2; }
. "$(dirname "$0")/../lib/server.sh"
t_init rpc_lat
t_ports 32640 4
for B in "${BUILDS[@]}"; do
	SRV_BIN=$B/src/engine/daos_server
	t_need_exec "$SRV_BIN" "$B/src/engine/daos_ctl_ping" "${CLIENT:-$B/src/net/self_test}"
	srv_config 2 >"$TMP/daos_server.yml"
	srv_transport "$TMP/daos_server.yml"
	rm -rf "$TMP/data"
	# shellcheck disable=SC2086 # the prefixes are words
	${SRV_PREFIX:-} "$SRV_BIN" start -o "$TMP/daos_server.yml" --data-dir "$TMP/data" \
		>"$TMP/srv.out" 2>"$TMP/srv.err" &
	SRV_PID=$!
	t_track "$SRV_PID"
	if ! "$B/src/engine/daos_ctl_ping" -w 15 "$ADDR" >/dev/null; then
		show "daos_server of $B" "$TMP/srv.err"
		exit 1
	fi
	for _ in $(seq "$RUNS"); do
		# shellcheck disable=SC2086
		${CLI_PREFIX:-} "${CLIENT:-$B/src/net/self_test}" --engine \
			"fi_sockaddr_in://127.0.0.1:$((FAB_PORT + 1))" -d 0.5 --no-raw "$@" 2>&1 |
			grep -E "^ +(0|64) B" | tr -s ' ' | tr '\n' ';' | sed "s|^|$B:|;s|;$|\n|"
	done
	t0=$(awk '{print $14 + $15}' "/proc/$SRV_PID/stat")
	sleep 2
	t1=$(awk '{print $14 + $15}' "/proc/$SRV_PID/stat")
	echo "$B: idle server, $((t1 - t0)) CPU ticks in 2 s"
	kill -TERM "$SRV_PID"
	wait "$SRV_PID"
done
