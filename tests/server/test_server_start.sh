#!/usr/bin/env bash
# test_server_start.sh DAOS_SERVER: daos_server's process life on this host.
#
# Starts real daos_server processes in a fresh data directory and checks what a user relies
# on: the command line (help, version, usage errors), start with the defaults, the data
# directory lock, idle CPU, a clean stop on SIGTERM and SIGINT (exit 0 within 5 s), a
# restart after kill -9, first_core binding the xstreams to CPUs, and bad configurations
# failing at start with the file, line and key. Every server started here is killed by the
# EXIT trap whatever happens.
set -u

BIN=${1:?usage: $0 path/to/daos_server}
[ -x "$BIN" ] || { echo "not executable: $BIN"; exit 1; }

. "$(dirname "$0")/../lib/server.sh"
t_init test_server_start
SRV_BIN=$BIN

# Ports of our own, derived from the PID as test_server_rpc.sh does but above its range
# (12000..27999) and the ephemeral one (32768..60999), so that another daos_server on this
# host (a user's, another test's) does not make us fail. 8 ports each: one management port,
# then fabric ports for up to 4 targets and the system xstream.
t_ports 61000 500
DAOS_SERVER_PORT=$PORT
DAOS_FABRIC_PORT=$FAB_PORT
export DAOS_SERVER_PORT DAOS_FABRIC_PORT

# expect_rc WANT DESC CMD... : run CMD, check its exit code, keep its output in $TMP/out.
expect_rc() {
	local want=$1 desc=$2 rc
	shift 2
	"$@" >"$TMP/out" 2>&1
	rc=$?
	if [ "$rc" -eq "$want" ]; then
		pass "$desc (exit $rc)"
	else
		fail "$desc: exit $rc, want $want; output:"
		sed 's/^/    /' "$TMP/out"
	fi
}

# expect_out PATTERN DESC: the last expect_rc output matches the extended regex PATTERN.
expect_out() {
	if grep -Eq -- "$1" "$TMP/out"; then
		pass "$2"
	else
		fail "$2: no '$1' in:"
		sed 's/^/    /' "$TMP/out"
	fi
}

# wait_started NAME PID: wait up to 10 s for the started line.
wait_started() {
	local name=$1 pid=$2 i
	for i in $(seq 100); do
		if grep -q "^daos_server started: " "$TMP/$name.out" 2>/dev/null; then
			return 0
		fi
		if ! kill -0 "$pid" 2>/dev/null; then
			break
		fi
		sleep 0.1
	done
	echo "    stdout:"; sed 's/^/      /' "$TMP/$name.out"
	echo "    stderr:"; sed 's/^/      /' "$TMP/$name.err"
	return 1
}

echo "== command line"
expect_rc 0 "daos_server --help" "$BIN" --help
expect_out "^Usage: daos_server" "--help prints the usage"
expect_out "start" "--help lists start"
expect_out "DAOS_SERVER_PORT" "--help lists DAOS_SERVER_PORT"
expect_out "DAOS_FABRIC_PORT" "--help lists DAOS_FABRIC_PORT"
expect_rc 0 "daos_server start --help" "$BIN" start --help
expect_out "^Usage: daos_server start" "start --help prints its usage"
expect_out "--data-dir" "start --help lists --data-dir"
expect_rc 0 "daos_server config show --help" "$BIN" config show --help
expect_rc 0 "daos_server version" "$BIN" version
expect_out "^daos_server version [0-9]+\.[0-9]+\.[0-9]+$" "version prints the version"
expect_rc 0 "daos_server version -j" "$BIN" version -j
expect_out '^\{"name": "daos_server", "version": "[0-9.]+"\}$' "version -j prints JSON"
expect_rc 2 "no command" "$BIN"
expect_rc 2 "unknown command" "$BIN" frobnicate
expect_out "unknown command 'frobnicate'" "unknown command is named"
expect_rc 2 "unknown option" "$BIN" start --frobnicate
expect_out "unknown option --frobnicate" "unknown option is named"
expect_rc 2 "option without its value" "$BIN" start -o
expect_rc 2 "stray argument" "$BIN" start extra
expect_rc 2 "bad --engine" "$BIN" start --engine x
expect_rc 2 "config without show" "$BIN" config
expect_rc 1 "missing config file" "$BIN" start -o "$TMP/nope.yml" --data-dir "$TMP/nope"
expect_out "nope.yml: cannot open" "a missing file is named"

echo "== config show"
expect_rc 0 "config show (defaults)" env -u DAOS_SERVER_PORT -u DAOS_FABRIC_PORT \
	"$BIN" config show --data-dir "$TMP/show"
expect_out "^data_dir: $TMP/show$" "config show has the data directory"
expect_out "^provider: ofi\+tcp;ofi_rxm$" "config show has the default provider"
expect_out "^port: 10001$" "config show has the default port"
expect_out "^access_points: \['127\.0\.0\.1:10001'\]$" "config show has the default access point"
expect_out "^  fabric_iface_port: 31416$" "config show has the default fabric port"
expect_rc 0 "config show (port overrides)" "$BIN" config show --data-dir "$TMP/show"
expect_out "^port: $DAOS_SERVER_PORT$" "DAOS_SERVER_PORT sets the port"
expect_out "^access_points: \['127\.0\.0\.1:$DAOS_SERVER_PORT'\]$" \
	"the default access point follows DAOS_SERVER_PORT"
expect_out "^  fabric_iface_port: $DAOS_FABRIC_PORT$" "DAOS_FABRIC_PORT sets the fabric port"
expect_rc 1 "malformed DAOS_SERVER_PORT" env DAOS_SERVER_PORT=12ab \
	"$BIN" start --data-dir "$TMP/data3"
expect_out "DAOS_SERVER_PORT: expected a port number, got '12ab'" "the variable is named"
expect_rc 1 "out-of-range DAOS_FABRIC_PORT" env DAOS_FABRIC_PORT=70000 \
	"$BIN" start --data-dir "$TMP/data3"
expect_out "DAOS_FABRIC_PORT: must be 1\.\.65535, got 70000" "the range is named"
expect_rc 0 "config show -j" env D_DATA_DIR="$TMP/env" "$BIN" config show -j
expect_out "\"data_dir\": \"$TMP/env\"" "D_DATA_DIR sets the data directory"

echo "== start with the defaults"
DATA="$TMP/data"
srv_start a --data-dir "$DATA"
PID_A=$SRV_PID
if wait_started a "$PID_A"; then
	pass "started"
	grep -Eq "^daos_server started: [0-9]+ targets, data in $DATA, pid $PID_A$" "$TMP/a.out" &&
		pass "started line names targets, directory and pid" ||
		fail "started line: $(head -1 "$TMP/a.out")"
else
	fail "server did not start"
fi
[ -f "$DATA/daos_server.lock" ] && pass "lock file exists" || fail "no lock file"

echo "== the lock"
expect_rc 1 "second server on the same data directory" "$BIN" start --data-dir "$DATA"
expect_out "in use by another daos_server \(pid $PID_A\)" "the holder's pid is named"
kill -0 "$PID_A" 2>/dev/null && pass "first server still runs" || fail "first server died"

echo "== idle CPU"
CLK=$(getconf CLK_TCK)
T0=$(cpu_ticks "$PID_A")
sleep 2
T1=$(cpu_ticks "$PID_A")
if [ -n "$T0" ] && [ -n "$T1" ]; then
	# percent of one core over 2 s: ticks / CLK / 2 * 100
	PCT=$(((T1 - T0) * 100 / (CLK * 2)))
	[ "$PCT" -lt 5 ] && pass "idle CPU ${PCT}% ($((T1 - T0)) ticks in 2 s)" ||
		fail "idle CPU ${PCT}% ($((T1 - T0)) ticks in 2 s)"
else
	fail "cannot read /proc/$PID_A/stat"
fi

echo "== SIGTERM"
stop_within TERM "$PID_A" 5
[ "$RC" = 0 ] && pass "SIGTERM: exit 0 within 5 s" || fail "SIGTERM: exit $RC (124: still running)"
grep -q "^daos_server stopped$" "$TMP/a.out" && pass "stopped line" || fail "no stopped line"
[ -d "$DATA" ] && pass "data directory kept" || fail "data directory removed"

echo "== restart after a clean stop, SIGINT"
srv_start b --data-dir "$DATA" --foreground
PID_B=$SRV_PID
wait_started b "$PID_B" && pass "restarted on the same directory" || fail "restart failed"
stop_within INT "$PID_B" 5
[ "$RC" = 0 ] && pass "SIGINT: exit 0 within 5 s" || fail "SIGINT: exit $RC"

echo "== restart after kill -9"
srv_start c --data-dir "$DATA"
PID_C=$SRV_PID
wait_started c "$PID_C" || fail "start before kill -9 failed"
{
	kill -KILL "$PID_C"
	wait "$PID_C"
} 2>/dev/null
srv_start d --data-dir "$DATA"
PID_D=$SRV_PID
wait_started d "$PID_D" && pass "a dead server's lock does not block" || fail "restart after kill -9"
stop_within TERM "$PID_D" 5
[ "$RC" = 0 ] && pass "stop after restart" || fail "stop after restart: exit $RC"

echo "== a DAOS-style file with keys that mean nothing here"
cat >"$TMP/daos.yml" <<EOF
name: daos_server
access_points: ['localhost']
provider: ofi+tcp;ofi_rxm
nr_hugepages: 1024
auto_format: true
transport_config:
  allow_insecure: true
engines:
  - targets: 1
    nr_xs_helpers: 1
    first_core: 0
    fabric_iface: lo
    fabric_iface_port: 31516
    log_file: engine0.log
    log_mask: INFO
    bypass_health_chk: true
    storage:
      - class: ram
        scm_mount: scm
        scm_size: 1
      - class: file
        bdev_list: [bdev0]
        bdev_size: 1
EOF
srv_start e -o "$TMP/daos.yml" --data-dir "$TMP/data2"
PID_E=$SRV_PID
if wait_started e "$PID_E"; then
	pass "DAOS-style file starts"
	grep -q "^daos_server started: 1 targets" "$TMP/e.out" && pass "its targets" ||
		fail "targets: $(head -1 "$TMP/e.out")"
	grep -q "daos.yml:4: nr_hugepages: ignored" "$TMP/e.err" &&
		pass "ignored key warned with its line" || fail "no warning for nr_hugepages"
	grep -q "engines\[0\].bypass_health_chk: ignored" "$TMP/e.err" &&
		pass "ignored engine key warned" || fail "no warning for bypass_health_chk"
	[ -s "$TMP/data2/engine0.log" ] && pass "log_file under the data directory" ||
		fail "no engine0.log"
	# first_core: 0 binds sys to CPU 0, tgt_0 to CPU 1, hlp_0 to CPU 2 (modulo the CPUs)
	NCPU=$(getconf _NPROCESSORS_ONLN)
	for want in "sys 0" "tgt_0 1" "hlp_0 2"; do
		set -- $want
		got=""
		for t in /proc/"$PID_E"/task/*; do
			[ "$(cat "$t/comm" 2>/dev/null)" = "$1" ] &&
				got=$(awk '/^Cpus_allowed_list/ {print $2}' "$t/status")
		done
		[ "$got" = "$(($2 % NCPU))" ] && pass "first_core: $1 on CPU $got" ||
			fail "first_core: $1 allowed on '$got', expected $(($2 % NCPU))"
	done
	stop_within TERM "$PID_E" 5
	[ "$RC" = 0 ] && pass "stop" || fail "stop: exit $RC"
else
	fail "DAOS-style file did not start"
fi

echo "== bad configurations fail at start"
printf 'port: 10001\nengines:\n  - targets: 0\n    fabric_iface: lo\n    fabric_iface_port: 31416\n' \
	>"$TMP/bad1.yml"
expect_rc 1 "targets: 0" "$BIN" start -o "$TMP/bad1.yml" --data-dir "$TMP/data3"
expect_out "bad1.yml:3: engines\[0\]\.targets: must be 1\.\.64, got 0" "file, line, key, reason"
printf 'name: ok\nfrobs: 3\n' >"$TMP/bad2.yml"
expect_rc 1 "unknown key" "$BIN" start -o "$TMP/bad2.yml" --data-dir "$TMP/data3"
expect_out "bad2.yml:2: frobs: unknown key" "unknown key with its line"
printf 'name: ok\nport: [10001\n' >"$TMP/bad3.yml"
expect_rc 1 "YAML syntax error" "$BIN" start -o "$TMP/bad3.yml" --data-dir "$TMP/data3"
expect_out "bad3.yml:[0-9]+: YAML syntax error" "syntax error with its line"
expect_rc 1 "config show of a bad file" "$BIN" config show -o "$TMP/bad1.yml"
expect_out "bad1.yml:3: engines\[0\]\.targets" "config show reports it too"
expect_rc 1 "--engine beyond the file" "$BIN" start -o "$TMP/daos.yml" --engine 3 \
	--data-dir "$TMP/data3"
expect_out "has 1 engine" "--engine range is explained"
[ -e "$TMP/data3/daos_server.lock" ] && fail "a bad config took the lock" ||
	pass "a bad config touches no data directory"

t_summary
