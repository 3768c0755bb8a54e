#!/usr/bin/env bash
# vos_mib_ab.sh VOS_PERF ROUNDS ARM...: vos_perf's durable 1 MiB figure (64 in flight, one
# thread) for each arm, arms interleaved ROUNDS times. An arm is LABEL:ENV (ENV a
# space-separated list of VAR=value, may be empty), e.g.
#   tests/perf/vos_mib_ab.sh build/src/tools/vos_perf 3 "off:DAOS_BIO_CACHE_WRITE=0" \
#       "nowb:DAOS_BIO_WB_START=0" "new:"
# Prints per run: the durable GB/s, the CPU per update and the disk's O_DIRECT 1 MiB x8+sync
# rate at the start and end of the run (vos_perf measures it). A benchmark, not in ctest
# (docs/PERFORMANCE.md "Session 10 (mib5)"). Data under /tmp (VOS_MIB_DIR overrides).
B=${1:?usage: $0 VOS_PERF ROUNDS ARM...}
R=${2:?}
shift 2
for r in $(seq "$R"); do
	for arm in "$@"; do
		lab=${arm%%:*}
		envs=${arm#*:}
		# shellcheck disable=SC2086
		out=$(env $envs "$B" -s none -a 1m -q 64 -u none -k 0 -t 2 -d "${VOS_MIB_DIR:-/tmp}" 2>&1)
		line=$(echo "$out" | grep "durable array 1 MiB")
		d=$(echo "$line" | grep -oE "[0-9.]+ GB/s" | head -1)
		cpu=$(echo "$line" | grep -oE "[0-9.]+ us CPU an update")
		disk=$(echo "$out" | grep "x8+sync" | grep -oE "[0-9.]+ GB/s" | tr '\n' ' ')
		echo "$(date +%T) round $r $lab durable=$d cpu=$cpu disk(start,end)=$disk" \
			"load=$(cut -d' ' -f1 /proc/loadavg)"
	done
done
