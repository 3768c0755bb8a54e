# tests/lib/server.sh: the common prologue of the system tests that start real processes.
#
# Source it from a test script (bash, `set -u` friendly), then call t_init first:
#
#   . "$(dirname "$0")/../lib/server.sh"
#   t_init test_name              # $TMP, the EXIT trap, a clean environment
#   t_ports 12000 2000            # $PORT, $FAB_PORT, $ADDR from this shell's pid
#   SRV_BIN=/path/to/daos_server
#   srv_config 2 >"$TMP/daos_server.yml"
#   srv_start a && srv_wait_ping a "$CTL_PING" 15 || exit 1
#   ... checks calling pass/fail ...
#   t_summary                     # prints the count and exits 0 or 1
#
# Every process a test starts in the background must be given to t_track (srv_start does
# it): the EXIT trap kills each of them that still runs, by PID, then removes $TMP.
# See tests/README.md for the full list and the port ranges in use.

# t_init NAME: a fresh $TMP (mktemp), PIDS and FAILS empty, the EXIT trap, and none of the
# environment variables that would redirect the logs or the ports of what the test runs.
t_init() {
	TMP=$(mktemp -d "/tmp/$1.XXXXXX") || exit 1
	PIDS=()
	FAILS=0
	RC=0
	trap t_cleanup EXIT
	# a signal ends the script through exit, so that the EXIT trap runs
	trap 'exit 130' INT
	trap 'exit 143' TERM
	unset D_LOG_FILE D_LOG_MASK DD_SUBSYS D_DATA_DIR DAOS_SERVER_PORT DAOS_FABRIC_PORT
}

# t_cleanup: kill (SIGKILL) and reap every tracked process still running; remove $TMP.
# With T_KEEP_FAILED set, a run that exits non-zero keeps $TMP (its logs) and says where.
t_cleanup() {
	local rc=$? pid
	for pid in "${PIDS[@]}"; do
		if kill -0 "$pid" 2>/dev/null; then
			kill -KILL "$pid" 2>/dev/null
			wait "$pid" 2>/dev/null
		fi
	done
	if [ -n "${T_KEEP_FAILED:-}" ] && [ "$rc" != 0 ]; then
		echo "T_KEEP_FAILED: kept $TMP (exit $rc)"
		return
	fi
	rm -rf "$TMP"
}

# t_track PID...: have the EXIT trap kill these processes.
t_track() {
	PIDS+=("$@")
}

# t_need_exec FILE...: every FILE is executable, or the test exits 1.
t_need_exec() {
	local b
	for b in "$@"; do
		[ -x "$b" ] || { echo "not executable: $b"; exit 1; }
	done
}

# t_ports BASE SLOTS: PORT = BASE + (pid % SLOTS) * 8, FAB_PORT = PORT + 1, ADDR. Each
# script has its own BASE (tests/README.md lists them) so that tests running in parallel
# do not pick the same ports; 8 ports a slot: management, then the fabric contexts.
t_ports() {
	PORT=$(($1 + ($$ % $2) * 8))
	FAB_PORT=$((PORT + 1))
	ADDR=127.0.0.1:$PORT
}

fail() {
	echo "FAIL: $*"
	FAILS=$((FAILS + 1))
}

pass() {
	echo "ok: $*"
}

# show WHAT FILE: FILE's content, indented under WHAT.
show() {
	echo "    $1:"
	sed 's/^/      /' "$2"
}

# t_summary: the end of a test: exit 1 if any check failed, else 0.
t_summary() {
	if [ "$FAILS" -ne 0 ]; then
		echo "$FAILS check(s) failed"
		exit 1
	fi
	echo "all checks passed"
	exit 0
}

# wait_exit PID SECONDS: reap PID if it exits within SECONDS; RC is its exit code, 124 if
# it still runs. Not in a subshell: only the parent shell can wait for its children.
wait_exit() {
	local pid=$1 secs=$2 i state
	for i in $(seq $((secs * 20))); do
		# an exited child stays a zombie (which answers kill -0) until reaped
		state=$(ps -o stat= -p "$pid" 2>/dev/null)
		if [ -z "$state" ] || [[ $state == Z* ]]; then
			wait "$pid"
			RC=$?
			return
		fi
		sleep 0.05
	done
	RC=124
}

# stop_within SIGNAL PID SECONDS: send SIGNAL to PID, then wait_exit PID SECONDS.
stop_within() {
	kill "-$1" "$2"
	wait_exit "$2" "$3"
}

# wait_line FILE PATTERN SECONDS: wait until FILE has a line matching the extended regex.
wait_line() {
	local i
	for i in $(seq $(($3 * 20))); do
		grep -Eq -- "$2" "$1" 2>/dev/null && return 0
		sleep 0.05
	done
	return 1
}

# cpu_ticks PID: utime + stime (clock ticks) from /proc/PID/stat, after the "(comm)" field.
cpu_ticks() {
	local stat
	stat=$(cat "/proc/$1/stat") || return 1
	stat=${stat##*) }
	# fields after comm: state=1 ... utime=12 stime=13
	echo "$stat" | awk '{print $12 + $13}'
}

# srv_config TARGETS [NAME]: a daos_server.yml on stdout for one engine with TARGETS targets,
# tcp on loopback at $PORT/$FAB_PORT, formatting its storage at the first start
# (auto_format: true; without it a server waits for dmg storage format, as DAOS). Append a
# storage list with `cat >>` when needed.
srv_config() {
	cat <<CFG
name: ${2:-daos_server}
auto_format: true
port: $PORT
access_points: ['127.0.0.1:$PORT']
provider: ofi+tcp;ofi_rxm
engines:
  - targets: $1
    fabric_iface: lo
    fabric_iface_port: $FAB_PORT
CFG
}

# srv_transport FILE: give the daos_server.yml FILE a transport_config if it has none:
# insecure (plain management port, unsigned credentials), or with SRV_TLS set to a directory
# made by scripts/gen_certificates.sh, TLS with its server certificate and its clients/ as
# client_cert_dir. (A file without transport_config means TLS with /etc/daos/certs, DAOS's
# default, which tests do not have.)
srv_transport() {
	grep -q '^transport_config:' "$1" && return 0
	if [ -n "${SRV_TLS:-}" ]; then
		cat >>"$1" <<CFG
transport_config:
  allow_insecure: false
  ca_cert: $SRV_TLS/daosCA.crt
  cert: $SRV_TLS/server.crt
  key: $SRV_TLS/server.key
  client_cert_dir: $SRV_TLS/clients
CFG
	else
		cat >>"$1" <<CFG
transport_config:
  allow_insecure: true
CFG
	fi
}

# srv_start NAME [ARGS...]: `$SRV_BIN start ARGS` in the background (SRV_PID, tracked),
# stdout and stderr in $TMP/NAME.out and $TMP/NAME.err. ARGS default to
# -o $TMP/daos_server.yml --data-dir $TMP/data. The -o file gets srv_transport's
# transport_config if it has none.
srv_start() {
	local name=$1 a prev= cfg=
	shift
	[ $# -gt 0 ] || set -- -o "$TMP/daos_server.yml" --data-dir "$TMP/data"
	for a in "$@"; do
		[ "$prev" = -o ] && cfg=$a
		prev=$a
	done
	[ -z "$cfg" ] || srv_transport "$cfg"
	"$SRV_BIN" start "$@" >"$TMP/$name.out" 2>"$TMP/$name.err" &
	SRV_PID=$!
	t_track "$SRV_PID"
}

# agent_start AGENT: a daos_agent (insecure, socket in $TMP/run, attached to the server at
# $ADDR) in the background, tracked; exports DAOS_AGENT_DRPC_DIR for the clients. Returns 1
# (with the agent's stderr shown) if it does not say it started within 10 s.
agent_start() {
	mkdir -p "$TMP/run"
	cat >"$TMP/daos_agent.yml" <<CFG
name: daos_server
access_points: ['127.0.0.1:$PORT']
port: $PORT
runtime_dir: $TMP/run
log_file: $TMP/agent.log
transport_config:
  allow_insecure: true
CFG
	"$1" -o "$TMP/daos_agent.yml" -i >"$TMP/agent.out" 2>"$TMP/agent.err" &
	t_track $!
	export DAOS_AGENT_DRPC_DIR="$TMP/run"
	wait_line "$TMP/agent.out" "^daos_agent started" 10 && return 0
	show stderr "$TMP/agent.err"
	return 1
}

# srv_wait_ping NAME CTL_PING SECONDS: wait until the management port at $ADDR answers
# daos_ctl_ping; on failure say why (and the server NAME's stderr) and return 1.
srv_wait_ping() {
	if "$2" -w "$3" "$ADDR" >"$TMP/ping" 2>&1; then
		return 0
	fi
	echo "    no answer on $ADDR: $(cat "$TMP/ping")"
	show stderr "$TMP/$1.err"
	return 1
}

# svc_start TARGETS POOL_SIZE: the usual start of a client system test: an insecure
# daos_server (TARGETS targets, ports of t_ports), a daos_agent attached to it and a pool
# labelled tank of POOL_SIZE made by dmg, retried while the service elects itself and the
# engine joins; PUUID is the pool's uuid. Uses SRV_BIN, CTL_PING, AGENT, DMG and JGET. A step
# that fails fails the test and exits the script (the EXIT trap cleans up).
svc_start() {
	local i
	srv_config "$1" >"$TMP/daos_server.yml"
	cat >>"$TMP/daos_server.yml" <<CFG
transport_config:
  allow_insecure: true
CFG
	srv_start srv
	srv_wait_ping srv "$CTL_PING" 20 || { fail "server does not answer"; exit 1; }
	agent_start "$AGENT" || { fail "agent did not start"; exit 1; }
	for i in $(seq 60); do
		timeout 30 "$DMG" -j -l "$ADDR" pool create -z "$2" tank >"$TMP/pc.out" 2>"$TMP/pc.err"
		[ "$("$JGET" "$TMP/pc.out" status 2>/dev/null)" = 0 ] && break
		sleep 0.5
	done
	PUUID=$("$JGET" "$TMP/pc.out" response.uuid 2>/dev/null)
	if [ -z "$PUUID" ]; then
		fail "dmg pool create"
		show out "$TMP/pc.out"
		show err "$TMP/pc.err"
		exit 1
	fi
	pass "dmg pool create tank: $PUUID"
}

# jget NAME PATH: field PATH of the dmg -j answer in $TMP/NAME.out ($JGET: dmg_json_get)
jget() {
	"$JGET" "$TMP/$1.out" "$2" 2>/dev/null
}

# show_dmg NAME: the dmg output and errors in $TMP/NAME.{out,err}, for a failure's evidence
show_dmg() {
	show out "$TMP/$1.out"
	show err "$TMP/$1.err"
}

# state_of NAME RANK: the state of RANK in the system query answer in $TMP/NAME.out
state_of() {
	local j n
	n=$(jget "$1" response.members)
	for j in $(seq 0 $((${n:-0} - 1))); do
		if [ "$(jget "$1" "response.members.$j.rank")" = "$2" ]; then
			jget "$1" "response.members.$j.state"
			return
		fi
	done
	echo none
}

# wait_states SECS STATE0 STATE1 STATE2: until `$DMG -j -l $HOSTS system query` (answer in
# $TMP/sq.out, RC) shows these states of ranks 0-2; returns 1 after SECS
wait_states() {
	local secs=$1
	shift
	for _ in $(seq $((secs * 5))); do
		timeout 60 "$DMG" -j -l "$HOSTS" system query >"$TMP/sq.out" 2>"$TMP/sq.err"
		RC=$?
		if [ $RC = 0 ] && [ "$(state_of sq 0)" = "$1" ] && [ "$(state_of sq 1)" = "$2" ] &&
			[ "$(state_of sq 2)" = "$3" ]; then
			return 0
		fi
		sleep 0.2
	done
	return 1
}
