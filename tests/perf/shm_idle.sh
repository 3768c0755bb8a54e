#!/usr/bin/env bash
# shm_idle.sh DAOS_SERVER DAOS_CTL_PING: idle CPU of a 4-target engine with DAOS_SHM=1 and
# without, 10 s of /proc ticks each after 3 s settling, alternated twice (a measurement, not
# in ctest; ports of test_shm_churn.sh's block 1524-1651).
set -u
BIN=${1:?usage: $0 daos_server daos_ctl_ping}
CTL=${2:?}
. "$(dirname "$0")/../lib/server.sh"
t_need_exec "$BIN" "$CTL"
t_init shm_idle
SRV_BIN=$BIN
t_ports 1524 16
trap 'san=0; t_cleanup || san=1; for i in 0 1 2 3 4; do rm -f /dev/shm/127.0.0.1:$((FAB_PORT + i)); done; [ $san = 0 ] || exit 1' EXIT
srv_config 4 >"$TMP/daos_server.yml"
srv_storage 4GiB 8GiB >>"$TMP/daos_server.yml"
hz=$(getconf CLK_TCK)
for round in 1 2; do
for shm in 1 0; do
	if [ $shm = 1 ]; then export DAOS_SHM=1; else unset DAOS_SHM; fi
	srv_start "srv$round$shm"
	srv_wait_ping "srv$round$shm" "$CTL" 60 || { echo no server; exit 1; }
	sleep 3
	c0=$(awk '{print $14 + $15}' /proc/$SRV_PID/stat)
	sleep 10
	c1=$(awk '{print $14 + $15}' /proc/$SRV_PID/stat)
	echo "round $round DAOS_SHM=$shm: $(awk -v c=$((c1 - c0)) -v hz=$hz 'BEGIN{printf "%.2f", 100*c/hz/10}') % of a core over 10 s ($((c1 - c0)) ticks)"
	stop_within TERM "$SRV_PID" 30
done
done
