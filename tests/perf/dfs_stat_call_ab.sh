#!/usr/bin/env bash
# dfs_stat_call_ab.sh: dfs_perf stats against a fresh server whose collective size query asks
# the other targets' shards by a ULT each (DAOS_OBJ_COLL_ULT=1 in the engine's environment)
# or by a call on each target's loop (the default), alternating servers in the same minutes
# (the switch is the engine's, so each arm needs its own server). A benchmark, not a test;
# docs/PERFORMANCE.md "Stats: the engine's fan-out without ULTs". Run from the worktree root.
# Environment: BUILD (build), AB_ROUNDS (3), AB_T threads (16), AB_N files (4000), AB_R runs
# per dfs_perf (2), AB_ORDER ("ult call"), WITH_SERVER_DIR (with_server.sh; /dev/shm advised).
set -u
B=${BUILD:-build}
for round in $(seq 1 "${AB_ROUNDS:-3}"); do
	for mode in ${AB_ORDER:-ult call}; do
		if [ "$mode" = ult ]; then
			export DAOS_OBJ_COLL_ULT=1
		else
			unset DAOS_OBJ_COLL_ULT
		fi
		echo "== round $round $mode t=${AB_T:-16} load $(cut -d' ' -f1 /proc/loadavg)"
		tests/common/with_server.sh "$B/src/engine/daos_server" "$B/src/engine/daos_ctl_ping" \
			"$B/tests/dfs_perf" -n "${AB_N:-4000}" -m 0 -r "${AB_R:-2}" -L -v \
			-t "${AB_T:-16}" || exit 1
	done
done
