#!/usr/bin/env bash
# dfs_waits_ab.sh MGMT_ADDR: dfs_perf with libdaos's blocking waits per thread
# (DAOS_EQ_SHARED=0) and shared (the default), alternating, against one server. Run it
# through tests/common/with_server.sh (a benchmark, not a test; docs/PERFORMANCE.md
# "Blocking waits"). Environment: DFS_PERF (build/tests/dfs_perf), AB_T threads ("8"),
# AB_N files (3200), AB_R runs per dfs_perf (3), AB_ORDER ("perthread shared"; a server
# has room for about two pools, one per dfs_perf).
set -u
ADDR=${1:?usage: $0 MGMT_ADDR}
DFS_PERF=${DFS_PERF:-build/tests/dfs_perf}
for t in ${AB_T:-8}; do
	for mode in ${AB_ORDER:-perthread shared}; do
		if [ "$mode" = perthread ]; then
			export DAOS_EQ_SHARED=0
		else
			unset DAOS_EQ_SHARED
		fi
		echo "== $mode t=$t load $(cut -d' ' -f1 /proc/loadavg)"
		"$DFS_PERF" "$ADDR" -n "${AB_N:-3200}" -m 0 -r "${AB_R:-3}" -L -v -t "$t" || exit 1
	done
done
