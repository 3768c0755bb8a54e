#!/usr/bin/env bash
# mib_ab.sh OLD NEW ROUNDS: daos_perf 1 MiB QD64 on one object (-n 1000 -B 1g), old and new
# builds alternated, over tcp and over shm (DAOS_SHM=1 server, D_PROVIDER=shm client), plus
# the new build's client with -H (value buffers on transparent huge pages), and the new build
# with large writes left in the page cache (cw: DAOS_BIO_CACHE_WRITE=1048576; off by default,
# bio README) or forced O_DIRECT (off: DAOS_BIO_CACHE_WRITE=0); data on /tmp.
# MIB_AB_CFGS overrides the list (words build:provider, build old, new, cw, off, or nowb: cw
# without the write-back start of each cached write, DAOS_BIO_WB_START=0; provider
# tcp, shm or shmH). Each run prints the disk's own limit.
# A benchmark, not in ctest (docs/PERFORMANCE.md "1 MiB over shm and tcp"). Run from the
# source tree: tests/perf/mib_ab.sh /path/to/old/build build 3
OLD=${1:?usage: $0 OLD_BUILD NEW_BUILD ROUNDS}
NEW=${2:?}
R=${3:-3}
cd "$(dirname "$0")/../.."
for r in $(seq "$R"); do
	for cfg in ${MIB_AB_CFGS:-old:tcp new:tcp cw:tcp old:shm new:shm cw:shm new:shmH}; do
		(
			if [ "${cfg%%:*}" = old ]; then B=$OLD; else B=$NEW; fi
			if [ "${cfg%%:*}" = off ]; then export DAOS_BIO_CACHE_WRITE=0; fi
			if [ "${cfg%%:*}" = cw ]; then export DAOS_BIO_CACHE_WRITE=1048576; fi
			if [ "${cfg%%:*}" = nowb ]; then
				export DAOS_BIO_CACHE_WRITE=1048576 DAOS_BIO_WB_START=0
			fi
			p=${cfg#*:}
			unset D_PROVIDER
			export DAOS_SHM=1
			H=
			case $p in shm*) export D_PROVIDER=shm ;; esac
			case $p in *H) H=-H ;; esac
			echo "=== round $r $cfg $(date +%T) load $(cut -d' ' -f1 /proc/loadavg)"
			timeout 300 tests/common/with_server.sh "$B/src/engine/daos_server" \
				"$B/src/engine/daos_ctl_ping" "$B/tests/daos_perf" -n 1000 -r 1 -s 1m \
				-q 64 -o 1 -B 1g $H 2>&1 | grep -E "^disk|^size|^1048576|FAIL"
		)
	done
done
