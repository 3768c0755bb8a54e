#!/usr/bin/env bash
# dfs_stat_ab.sh MGMT_ADDR: dfs_perf stats in two arms, alternating, against one server. Arms
# (AB_ORDER, default "two one"): "one": a stat of a file the lookup cache knows is ONE request
# (the entry's fetch carrying the size query, OBJ_OPC_FETCH_QUERY; the default); "two" (or
# "coll", its older name): the fetch and one collective size query per engine, sent together
# (DAOS_DFS_STAT_ONE=0); "pershard": the fetch and one size query per shard
# (DAOS_DFS_STAT_ONE=0 DAOS_OBJ_QUERY_COLL=0). Run it through tests/common/with_server.sh (a
# benchmark, not a test; docs/PERFORMANCE.md "libdfs stats"). Environment: DFS_PERF
# (build/tests/dfs_perf), AB_T threads ("16"), AB_N files (4000), AB_R runs per dfs_perf (3),
# AB_ORDER (a server has room for about two pools, one per dfs_perf).
set -u
ADDR=${1:?usage: $0 MGMT_ADDR}
DFS_PERF=${DFS_PERF:-build/tests/dfs_perf}
for t in ${AB_T:-16}; do
	for mode in ${AB_ORDER:-two one}; do
		case $mode in
		pershard)
			export DAOS_OBJ_QUERY_COLL=0 DAOS_DFS_STAT_ONE=0
			;;
		coll | two)
			unset DAOS_OBJ_QUERY_COLL
			export DAOS_DFS_STAT_ONE=0
			;;
		one)
			unset DAOS_OBJ_QUERY_COLL DAOS_DFS_STAT_ONE
			;;
		*)
			echo "unknown arm $mode" >&2
			exit 2
			;;
		esac
		echo "== $mode t=$t load $(cut -d' ' -f1 /proc/loadavg)"
		"$DFS_PERF" "$ADDR" -n "${AB_N:-4000}" -m 0 -r "${AB_R:-3}" -L -v -t "$t" || exit 1
	done
done
