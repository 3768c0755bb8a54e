#!/usr/bin/env bash
# dfuse_ab.sh OLD_BUILD NEW_BUILD [ROUNDS] [-- DFUSE_PERF_ARGS...]: an A/B of two builds
# through dfuse (not a test).
#
# Runs tests/perf/dfuse_perf.sh (its own server, agent, pool and mount each time; its port
# block) on OLD_BUILD and NEW_BUILD alternately, ROUNDS (3) times each, so that both see the
# same minutes of the machine, and prints each run's rates and CPU per MiB (writer "self",
# daemon, engine) and then the medians of both and their ratio new / old. DFUSE_PERF_ARGS
# default to one 1 GiB run without local or libdfs runs: -m 1024 -n 10 -r 1 -N -L. On a
# loaded machine trust the CPU per MiB more than the rates (docs/PERFORMANCE.md, dfuse).
# One side only: AB_OLD_ARGS / AB_NEW_ARGS, more dfuse_perf.sh options (AB_NEW_ARGS=-S: the
# same build over tcp and over shm); AB_OLD_DFUSE / AB_NEW_DFUSE, more dfuse options
# (AB_OLD_DFUSE="-t 4": 4 workers against the default 16); AB_OLD_ENV / AB_NEW_ENV, environment
# words (AB_OLD_ENV=DFUSE_NO_KILLPRIV_V2=1: one binary with and without a switch).
set -u
OLD=${1:?usage: $0 OLD_BUILD NEW_BUILD [ROUNDS] [-- DFUSE_PERF_ARGS...]}
NEW=${2:?usage: $0 OLD_BUILD NEW_BUILD [ROUNDS] [-- DFUSE_PERF_ARGS...]}
shift 2
ROUNDS=3
if [ $# -gt 0 ] && [ "$1" != "--" ]; then
	ROUNDS=$1
	shift
fi
[ "${1:-}" = "--" ] && shift
[ $# -gt 0 ] || set -- -m 1024 -n 10 -r 1 -N -L
HERE=$(cd "$(dirname "$0")" && pwd)
OUT=$(mktemp -d /tmp/dfuse_ab.XXXXXX)
trap 'rm -rf "$OUT"' EXIT
echo "dfuse_ab: $(date -u '+%F %T UTC'), load $(cut -d' ' -f1-3 /proc/loadavg); old $OLD, new $NEW"
for r in $(seq "$ROUNDS"); do
	for side in old new; do
		b=$OLD
		extra=${AB_OLD_ARGS:-}
		dfo=${AB_OLD_DFUSE:-}
		envw=${AB_OLD_ENV:-}
		[ $side = new ] && b=$NEW && extra=${AB_NEW_ARGS:-} && dfo=${AB_NEW_DFUSE:-} &&
			envw=${AB_NEW_ENV:-}
		sep=--
		for a in "$@"; do [ "$a" = -- ] && sep=; done
		[ -n "$dfo" ] || sep=
		# shellcheck disable=SC2086 # envw, extra, sep, dfo: words on purpose
		env $envw "$HERE/dfuse_perf.sh" "$b" $extra "$@" $sep $dfo >"$OUT/log" 2>&1 ||
			{ echo "dfuse_perf.sh $b failed:"; tail -20 "$OUT/log"; exit 1; }
		# "run N: dfuse name value ..." lines: one file per run
		grep -E '^  run [0-9]+: dfuse' "$OUT/log" | sed 's/^  run [0-9]*: dfuse //' |
			while read -r line; do
				n=$(ls "$OUT" | grep -c "^$side\.")
				echo "$line" | tr ' ' '\n' | paste - - -d' ' >"$OUT/$side.$n"
			done
		echo "  $side round $r (load $(cut -d' ' -f1 /proc/loadavg)): $(grep -E '^  run' "$OUT/log" | sed 's/^  run [0-9]*: dfuse //;s/create.*remove [0-9.]* //' | tr '\n' ' ')"
	done
done
python3 - "$OUT" <<'PY'
import glob, os, statistics, sys
d = sys.argv[1]
def load(side):
    runs = []
    for f in sorted(glob.glob(os.path.join(d, side + ".*"))):
        with open(f) as fh:
            runs.append({k: float(v) for k, v in (l.split() for l in fh if l.strip())})
    return runs
old, new = load("old"), load("new")
keys = [k for k in (old[0] if old else {}) if k not in ("create", "stat", "remove")]
print("  %-18s %10s %10s %8s" % ("median", "old", "new", "new/old"))
for k in keys:
    o = statistics.median(r[k] for r in old if k in r)
    n = statistics.median(r[k] for r in new if k in r)
    print("  %-18s %10.2f %10.2f %8.2f" % (k, o, n, n / o if o else float("nan")))
PY
echo "dfuse_ab: done $(date -u '+%T UTC'), load $(cut -d' ' -f1-3 /proc/loadavg)"
