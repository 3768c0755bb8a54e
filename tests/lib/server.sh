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

. "$(dirname "${BASH_SOURCE[0]}")/../common/san_scan.sh"

# t_init NAME: a fresh $TMP (mktemp), PIDS and FAILS empty, the EXIT trap, and none of the
# environment variables that would redirect the logs or the ports of what the test runs.
t_init() {
	TMP=$(mktemp -d "/tmp/$1.XXXXXX") || exit 1
	PIDS=()
	FAILS=0
	RC=0
	trap 't_cleanup || exit 1' EXIT
	# a signal ends the script through exit, so that the EXIT trap runs
	trap 'exit 130' INT
	trap 'exit 143' TERM
	unset D_LOG_FILE D_LOG_MASK DD_SUBSYS D_DATA_DIR DAOS_SERVER_PORT DAOS_FABRIC_PORT
}

# t_cleanup: kill (SIGKILL) and reap every tracked process still running; remove $TMP.
# A sanitizer error in a log under $TMP (san_scan) is shown and t_cleanup returns 1: the
# trap then exits 1 (a script's own trap calling t_cleanup does the same: `|| exit 1` last).
# With T_KEEP_FAILED set, a run that exits non-zero keeps $TMP (its logs) and says where.
t_cleanup() {
	local rc=$? pid san=0
	for pid in "${PIDS[@]}"; do
		if kill -0 "$pid" 2>/dev/null; then
			kill -KILL "$pid" 2>/dev/null
			wait "$pid" 2>/dev/null
		fi
	done
	san_scan "$TMP" || san=1
	[ $san = 0 ] || rc=1
	if [ -n "${T_KEEP_FAILED:-}" ] && [ "$rc" != 0 ]; then
		echo "T_KEEP_FAILED: kept $TMP (exit $rc)"
		return $san
	fi
	rm -rf "$TMP"
	return $san
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

# t_args SPEC... -- "$@": name the script's arguments, in order. A SPEC is VAR:word (an
# executable: checked as by t_need_exec), VAR=word (required, any value) or VAR?word
# (optional: empty when not given); word is what the usage line shows. A required argument
# missing or empty prints "usage: SCRIPT word..." and exits 1. What follows the last SPEC's
# argument is left in the array T_REST.
t_args() {
	local specs=() usage="" spec var word kind i=0
	while [ $# -gt 0 ] && [ "$1" != -- ]; do
		specs+=("$1")
		shift
	done
	[ $# -gt 0 ] && shift
	for spec in "${specs[@]}"; do
		word=${spec#*[:=?]}
		kind=${spec:$((${#spec} - ${#word} - 1)):1}
		[ "$kind" = "?" ] && usage+=" [$word]" || usage+=" $word"
	done
	for spec in "${specs[@]}"; do
		var=${spec%%[:=?]*}
		kind=${spec:${#var}:1}
		i=$((i + 1))
		if [ "$kind" != "?" ] && [ -z "${!i:-}" ]; then
			echo "usage: $0$usage" >&2
			exit 1
		fi
		printf -v "$var" '%s' "${!i:-}"
	done
	for spec in "${specs[@]}"; do
		var=${spec%%[:=?]*}
		[ "${spec:${#var}:1}" = : ] && t_need_exec "${!var}"
	done
	shift $((i < $# ? i : $#))
	T_REST=("$@")
}

# t_ports BASE SLOTS: PORT = BASE + (pid % SLOTS) * 8, FAB_PORT = PORT + 1, ADDR. Each
# script has its own BASE (tests/README.md lists them) so that tests running in parallel
# do not pick the same ports; 8 ports a slot: management, then the fabric contexts. Suites
# of other worktrees run beside this one with the same blocks: a slot whose management port
# answers already (another run's server, whose answers would pass for ours) is left for
# slot +7, 4 slots at most.
t_ports() {
	local try
	for try in 0 1 2 3; do
		PORT=$(($1 + (($$ + try * 7) % $2) * 8))
		port_busy "127.0.0.1:$PORT" || break
		echo "t_ports: 127.0.0.1:$PORT answers already (another run's server): next slot"
	done
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

# t_run NAME SECS CMD...: CMD, SECS at most (timeout: RC 124), its stdout and stderr in
# $TMP/NAME.out and $TMP/NAME.err, RC its exit code.
t_run() {
	local name=$1 secs=$2
	shift 2
	timeout "$secs" "$@" >"$TMP/$name.out" 2>"$TMP/$name.err"
	RC=$?
}

# checks_end NAME WHAT: the report of a checks program (one "ok: "/"FAIL: " line a check on
# stdout) that wrote $TMP/NAME.{out,err} and exited with RC: its output indented, then a pass
# "WHAT: N checks", or a failure "WHAT exit RC (M failed checks)" with its stderr (returns 1).
checks_end() {
	sed 's/^/    /' "$TMP/$1.out"
	if [ "$RC" = 0 ]; then
		pass "$2: $(grep -c '^ok:' "$TMP/$1.out") checks"
		return 0
	fi
	fail "$2 exit $RC ($(grep -c '^FAIL:' "$TMP/$1.out") failed checks)"
	show stderr "$TMP/$1.err"
	return 1
}

# checks_run NAME WHAT SECS CMD...: CMD (SECS at most), its output in $TMP/NAME.{out,err},
# RC, then checks_end NAME WHAT.
checks_run() {
	local name=$1 what=$2
	shift 2
	t_run "$name" "$@"
	checks_end "$name" "$what"
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

# agent_run AGENT DIR PORT AP...: a daos_agent (insecure, its socket and log under DIR, the
# access points AP..., default port PORT, the system name AGENT_NAME, by default
# daos_server) in the background, tracked (AGENT_PID); exports
# DAOS_AGENT_DRPC_DIR=DIR/run for the clients. Returns 1 (with the agent's stderr shown) if
# it does not say it started within 10 s. The body of agent_start and srv3_agent.
agent_run() {
	local agent=$1 dir=$2 port=$3 aps
	shift 3
	aps=$(printf "'%s', " "$@")
	mkdir -p "$dir/run"
	cat >"$dir/daos_agent.yml" <<CFG
name: ${AGENT_NAME:-daos_server}
access_points: [${aps%, }]
port: $port
runtime_dir: $dir/run
log_file: $dir/agent.log
transport_config:
  allow_insecure: true
CFG
	# before the agent starts: it too takes its socket's directory from this variable
	export DAOS_AGENT_DRPC_DIR="$dir/run"
	"$agent" -o "$dir/daos_agent.yml" -i >"$dir/agent.out" 2>"$dir/agent.err" &
	AGENT_PID=$!
	t_track $AGENT_PID
	wait_line "$dir/agent.out" "^daos_agent started" 10 && return 0
	show stderr "$dir/agent.err"
	return 1
}

# agent_start AGENT: agent_run in $TMP, attached to the server at $PORT.
agent_start() {
	agent_run "$1" "$TMP" "$PORT" "127.0.0.1:$PORT"
}

# srv_wait_ping NAME CTL_PING SECONDS: wait until the management port at $ADDR answers
# daos_ctl_ping; on failure say why (and the server NAME's stderr) and return 1.
srv_wait_ping() {
	if "$2" -w "$3" "$ADDR" >"$TMP/ping" 2>&1; then
		# the answer may come from another run's server on our port while ours failed
		if [ -n "${SRV_PID:-}" ] && ! kill -0 "$SRV_PID" 2>/dev/null; then
			echo "    $ADDR answers but our server (pid $SRV_PID) has exited"
			show stderr "$TMP/$1.err"
			return 1
		fi
		return 0
	fi
	echo "    no answer on $ADDR: $(cat "$TMP/ping")"
	show stderr "$TMP/$1.err"
	return 1
}

# srv_storage SCM_SIZE BDEV_SIZE: the storage list of srv_config's engine on stdout, a ram
# SCM tier of SCM_SIZE at $TMP/scm and a file bdev of BDEV_SIZE at $TMP/bdev0 (append it).
srv_storage() {
	cat <<CFG
    storage:
      - class: ram
        scm_mount: $TMP/scm
        scm_size: $1
      - class: file
        bdev_list: [$TMP/bdev0]
        bdev_size: $2
CFG
}

# srv_shm_names N: for an engine serving shm (DAOS_SHM=1) on 127.0.0.1 from $FAB_PORT (set
# by t_ports), SHM_NAMES gets the names of the shm regions of its first N fabric ports (for
# the test's trap to remove); SKIP (exit 77) without a writable /dev/shm.
srv_shm_names() {
	local i
	[ -d /dev/shm ] && [ -w /dev/shm ] || { echo "SKIP: no writable /dev/shm"; exit 77; }
	SHM_NAMES=()
	for ((i = 0; i < $1; i++)); do
		SHM_NAMES+=("/dev/shm/127.0.0.1:$((FAB_PORT + i))")
	done
}

# srv_agent_up CTL_PING AGENT: srv_start srv with $TMP/daos_server.yml, wait up to 15 s for
# its management port, then agent_start AGENT; a FAIL line and exit 1 if either fails.
srv_agent_up() {
	srv_start srv
	if ! srv_wait_ping srv "$1" 15; then
		echo "FAIL: the server does not answer"
		exit 1
	fi
	agent_start "$2" || { echo "FAIL: the agent did not start"; exit 1; }
}

# srv_client_pass WHAT CMD...: run the client program CMD against the server started by
# srv_agent_up; if it fails, a FAIL line with the server log's tail and exit 1; then stop the
# server with SIGTERM (it must exit 0 within 30 s) and print "PASS: WHAT".
srv_client_pass() {
	local what=$1 rc
	shift
	"$@"
	rc=$?
	if [ "$rc" != 0 ]; then
		echo "FAIL: $(basename "$1") exit $rc; server log tail:"
		grep -v NOTE "$TMP/srv.err" | tail -20 | sed 's/^/    /'
		exit 1
	fi
	stop_within TERM "$SRV_PID" 30 # sets RC
	[ "$RC" = 0 ] || { echo "FAIL: server exit $RC after SIGTERM"; exit 1; }
	echo "PASS: $what"
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

# dmg_at HOSTS NAME ARGS...: `$DMG -j -l HOSTS ARGS` (60 s at most; with DMG_CONF set, `-o
# $DMG_CONF` too), its output in $TMP/NAME.{out,err}, RC its exit code.
dmg_at() {
	local hosts=$1 name=$2
	shift 2
	t_run "$name" 60 "$DMG" -j ${DMG_CONF:+-o "$DMG_CONF"} -l "$hosts" "$@"
}

# dmg_j NAME ARGS...: dmg_at "$HOSTS" NAME ARGS.
dmg_j() {
	dmg_at "$HOSTS" "$@"
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

# wait_states SECS STATE0 STATE1 STATE2: until `dmg_j sq system query` (answer in
# $TMP/sq.out, RC) shows these states of ranks 0-2; returns 1 after SECS
wait_states() {
	local secs=$1
	shift
	for _ in $(seq $((secs * 5))); do
		dmg_j sq system query
		if [ $RC = 0 ] && [ "$(state_of sq 0)" = "$1" ] && [ "$(state_of sq 1)" = "$2" ] &&
			[ "$(state_of sq 2)" = "$3" ]; then
			return 0
		fi
		sleep 0.2
	done
	return 1
}

# The three-server tests: server i (0-2) on 127.0.0.(i+1), all three access points.

# srv3_addrs BASE STEP: ADDRS (server i's management address, 127.0.0.(i+1):BASE + STEP i)
# and HOSTS (the three, comma-separated, for dmg -l).
srv3_addrs() {
	local i
	ADDRS=()
	for i in 0 1 2; do
		ADDRS+=("127.0.0.$((i + 1)):$(($1 + $2 * i))")
	done
	HOSTS=$(
		IFS=,
		echo "${ADDRS[*]}"
	)
}

# srv3_config DIR TARGETS [storage] [log_mask=MASK] [wait]: DIR/srv{0,1,2}.yml for the
# servers of ADDRS: TARGETS targets, tcp on the server's address from management port + 1,
# auto_format; `storage` adds a ram tier of 256 MiB and a file tier of 1 GiB under
# DIR/dataI, `log_mask=MASK` the engine's log mask, `wait` leaves auto_format out (the
# servers wait for dmg storage format). The transport_config is srv_transport's (insecure,
# or TLS with SRV_TLS).
srv3_config() {
	local dir=$1 targets=$2 storage="" mask="" auto="auto_format: true" o i port
	shift 2
	for o in "$@"; do
		case $o in
		storage) storage=1 ;;
		wait) auto="" ;;
		log_mask=*) mask=${o#log_mask=} ;;
		*)
			echo "srv3_config: unknown option $o"
			exit 1
			;;
		esac
	done
	for i in 0 1 2; do
		port=${ADDRS[$i]##*:}
		{
			cat <<CFG
name: daos_server
$auto
port: $port
access_points: ['${ADDRS[0]}', '${ADDRS[1]}', '${ADDRS[2]}']
provider: ofi+tcp;ofi_rxm
engines:
  - targets: $targets
    fabric_iface: 127.0.0.$((i + 1))
    fabric_iface_port: $((port + 1))
CFG
			[ -z "$mask" ] || echo "    log_mask: $mask"
			[ -z "$storage" ] || cat <<CFG
    storage:
      - class: ram
        scm_mount: $dir/data$i/scm
        scm_size: 256MiB
      - class: file
        bdev_list: [$dir/data$i/bdev0]
        bdev_size: 1GiB
CFG
		} >"$dir/srv$i.yml"
		srv_transport "$dir/srv$i.yml"
	done
}

# srv3_start DIR I...: each server I (DIR/srvI.yml, data in DIR/dataI) in the background,
# tracked, SRV_PID[I]; its output appended to DIR/srvI.{out,err} (a restart keeps the
# earlier lines). Variables given before the call (`D_FAULTS=... srv3_start`) reach the
# servers.
srv3_start() {
	local dir=$1 i
	shift
	for i in "$@"; do
		"$SRV_BIN" start -o "$dir/srv$i.yml" --data-dir "$dir/data$i" >>"$dir/srv$i.out" \
			2>>"$dir/srv$i.err" &
		SRV_PID[$i]=$!
		t_track "${SRV_PID[$i]}"
	done
}

# port_busy HOST:PORT...: true when something accepts connections on one of them (another
# test's server on ports of ours).
port_busy() {
	local a
	for a in "$@"; do
		(exec 3<>"/dev/tcp/${a%:*}/${a##*:}") 2>/dev/null && return 0
	done
	return 1
}

# srv3_launch DIR TARGETS BASE SLOTS SECS [srv3_config options...]: srv3_addrs, srv3_config
# and srv3_start for servers 0-2 on slot (pid % SLOTS) of the block at BASE (24 ports a
# slot, server i at + 8 i), then srv3_joined within SECS. Other suites may run beside this
# one (helpers share the machine), so a slot can be taken: when its management ports answer
# before the start, or one of our servers cannot listen ("cannot listen" in DIR/srvI.err, it
# exits at once), the servers are killed and the next slot (+5) is tried, 4 slots at most.
# A server exiting for another reason fails the test at once (its stderr shown).
srv3_launch() {
	local dir=$1 targets=$2 base=$3 slots=$4 secs=$5 try slot i n dead
	shift 5
	for try in 0 1 2 3; do
		slot=$((($$ + try * 5) % slots))
		srv3_addrs $((base + slot * 24)) 8
		if port_busy "${ADDRS[@]}"; then
			echo "slot $slot ($HOSTS): answered before our start, taken: next slot"
			continue
		fi
		rm -rf "$dir"/data0 "$dir"/data1 "$dir"/data2 "$dir"/srv[012].out "$dir"/srv[012].err
		srv3_config "$dir" "$targets" "$@"
		srv3_start "$dir" 0 1 2
		# each server says "started:" once its ports are bound, or exits when one is taken
		dead=
		for n in $(seq $((secs * 5))); do
			for i in 0 1 2; do
				kill -0 "${SRV_PID[$i]}" 2>/dev/null || dead=$i
			done
			[ -n "$dead" ] && break
			n=$(grep -l "started: daos_server" "$dir"/srv[012].err 2>/dev/null | wc -l)
			[ "$n" = 3 ] && break
			sleep 0.2
		done
		# then joined (or one of ours gone)
		for n in $(seq $((secs * 5))); do
			[ -n "$dead" ] && break
			for i in 0 1 2; do
				kill -0 "${SRV_PID[$i]}" 2>/dev/null || dead=$i
			done
			[ -n "$dead" ] && break
			dmg_j sq system query
			if [ $RC = 0 ] && [ "$(state_of sq 0)" = joined ] &&
				[ "$(state_of sq 1)" = joined ] && [ "$(state_of sq 2)" = joined ]; then
				pass "3 ranks joined (slot $slot)"
				return 0
			fi
			sleep 0.2
		done
		if [ -z "$dead" ]; then
			fail "3 ranks did not join"
			show_dmg sq
			for i in 0 1 2; do show "srv$i.err" "$dir/srv$i.err"; done
			exit 1
		fi
		for i in 0 1 2; do
			kill -KILL "${SRV_PID[$i]}" 2>/dev/null
			wait "${SRV_PID[$i]}" 2>/dev/null
		done
		if ! grep -q "cannot listen" "$dir/srv$dead.err"; then
			fail "server $dead exited before the join"
			show "srv$dead.err" "$dir/srv$dead.err"
			exit 1
		fi
		echo "slot $slot ($HOSTS): server $dead could not listen, taken: next slot"
		grep "cannot listen" "$dir/srv$dead.err" | sed 's/^/    /'
	done
	fail "no free slot of 4 tried in the block at $base"
	exit 1
}

# srv3_joined DIR SECS: wait_states SECS with the three ranks joined: pass, or fail with the
# last answer and DIR/srvI.err shown and exit the script.
srv3_joined() {
	local i
	if wait_states "$2" joined joined joined; then
		pass "3 ranks joined"
		return 0
	fi
	fail "3 ranks did not join"
	show_dmg sq
	for i in 0 1 2; do show "srv$i.err" "$1/srv$i.err"; done
	exit 1
}

# srv3_agent DIR: agent_run $AGENT in DIR with the three access points of ADDRS; a failure
# fails the test and exits the script.
srv3_agent() {
	agent_run "$AGENT" "$1" "${ADDRS[0]##*:}" "${ADDRS[@]}" || {
		fail "agent did not start"
		exit 1
	}
}
