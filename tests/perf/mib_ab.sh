#!/usr/bin/env bash
# mib_ab.sh OLD NEW ROUNDS: daos_perf 1 MiB QD64 on one object (-n 1000 -B 1g), old and new
# builds alternated, over tcp and over shm (DAOS_SHM=1 server, D_PROVIDER=shm client), plus
# the new build's client with -H (value buffers on transparent huge pages); data on /tmp.
# A benchmark, not in ctest (docs/PERFORMANCE.md "1 MiB over shm and tcp"). Run from the
# source tree: tests/perf/mib_ab.sh /path/to/old/build build 3
OLD=${1:?usage: $0 OLD_BUILD NEW_BUILD ROUNDS}
NEW=${2:?}
R=${3:-3}
cd "$(dirname "$0")/../.."
for r in $(seq "$R"); do
	for cfg in old:tcp new:tcp old:shm new:shm new:shmH; do
		(
			if [ "${cfg%%:*}" = old ]; then B=$OLD; else B=$NEW; fi
			p=${cfg#*:}
			unset D_PROVIDER
			export DAOS_SHM=1
			H=
			case $p in shm*) export D_PROVIDER=shm ;; esac
			case $p in *H) H=-H ;; esac
			echo "=== round $r $cfg $(date +%T) load $(cut -d' ' -f1 /proc/loadavg)"
			timeout 300 tests/common/with_server.sh "$B/src/engine/daos_server" \
				"$B/src/engine/daos_ctl_ping" "$B/tests/daos_perf" -n 1000 -r 1 -s 1m \
				-q 64 -o 1 -B 1g $H 2>&1 | grep -E "^size|^1048576|FAIL"
		)
	done
done
