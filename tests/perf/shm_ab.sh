#!/usr/bin/env bash
# shm_ab.sh BUILD ROUNDS: daos_perf 4 KiB QD1/QD64 and 1 MiB QD64 against a DAOS_SHM=1 server
# (with_server.sh, data on /dev/shm), a tcp client then a D_PROVIDER=shm client, alternating;
# a benchmark, not in ctest (docs/PERFORMANCE.md "Same-host clients over shm"). Run from the
# source tree: tests/perf/shm_ab.sh build 2
B=$1
cd "$(dirname "$0")/../.."
for r in $(seq $2); do
  for prov in tcp shm; do
    if [ $prov = shm ]; then export D_PROVIDER=shm; else unset D_PROVIDER; fi
    echo "=== round $r client $prov $(date +%T) $(cut -d' ' -f1-3 /proc/loadavg)"
    DAOS_SHM=1 WITH_SERVER_DIR=/dev/shm timeout 600 tests/common/with_server.sh $B/src/engine/daos_server $B/src/engine/daos_ctl_ping $B/tests/daos_perf -n 2000 -r 1 -s 4k -q 1,64 -o 1 -B 128m 2>&1 | grep -E "^4096|^size|PASS|FAIL"
    DAOS_SHM=1 WITH_SERVER_DIR=/dev/shm timeout 600 tests/common/with_server.sh $B/src/engine/daos_server $B/src/engine/daos_ctl_ping $B/tests/daos_perf -n 300 -r 1 -s 1m -q 64 -o 1 -B 128m 2>&1 | grep -E "^1048576|PASS|FAIL"
  done
done
