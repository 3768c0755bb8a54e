#!/usr/bin/env bash
# dfs_stat_ab.sh MGMT_ADDR: dfs_perf with a stat's size query sent one request per shard
# (DAOS_OBJ_QUERY_COLL=0) and one collective request per engine (the default), alternating,
# against one server. Run it through tests/common/with_server.sh (a benchmark, not a test;
# docs/PERFORMANCE.md "Collective size query"). Environment: DFS_PERF
# (build/tests/dfs_perf), AB_T threads ("16"), AB_N files (4000), AB_R runs per dfs_perf (3),
# AB_ORDER ("pershard coll"; a server has room for about two pools, one per dfs_perf).
set -u
ADDR=${1:?usage: $0 MGMT_ADDR}
DFS_PERF=${DFS_PERF:-build/tests/dfs_perf}
for t in ${AB_T:-16}; do
	for mode in ${AB_ORDER:-pershard coll}; do
		if [ "$mode" = pershard ]; then
			export DAOS_OBJ_QUERY_COLL=0
		else
			unset DAOS_OBJ_QUERY_COLL
		fi
		echo "== $mode t=$t load $(cut -d' ' -f1 /proc/loadavg)"
		"$DFS_PERF" "$ADDR" -n "${AB_N:-4000}" -m 0 -r "${AB_R:-3}" -L -v -t "$t" || exit 1
	done
done
