#!/usr/bin/env bash
# test_agent.sh DAOS_AGENT AGENT_CLIENT DAOS_SERVER: daos_agent with a real daos_server.
#
# Starts a real daos_server (1 target, tcp on loopback) and a real daos_agent with an
# Ed25519 key made by the openssl CLI, then checks what a client relies on: a credential
# whose uid/gid/user are the caller's (and another user's, when run as root), signed and
# verifiable with the agent's public key only; attach info naming the server (its fabric
# address and access point), served from the cache once the server is gone; a second agent
# on the same socket refused; garbage on the socket harmless; SIGTERM stopping the agent
# with exit 0 and the socket removed; clear errors with no agent; insecure mode; the
# command line and configuration errors. Every process started here is killed by the EXIT
# trap whatever happens.
set -u

. "$(dirname "$0")/../lib/server.sh"
t_args AGENT:daos_agent CLIENT:agent_client SERVER:daos_server -- "$@"
command -v openssl >/dev/null || { echo "SKIP: no openssl command"; exit 77; }

t_init test_agent
SRV_BIN=$SERVER
# 28000-29999: below the ephemeral range, a block of its own (raft at management + 7).
t_ports 28000 250

# start_agent NAME CONFIG [ARGS...]: background agent (AGENT_PID), output in $TMP/NAME.*
start_agent() {
	local name=$1 cfg=$2
	shift 2
	"$AGENT" -o "$cfg" "$@" >"$TMP/$name.out" 2>"$TMP/$name.err" &
	AGENT_PID=$!
	t_track "$AGENT_PID"
}

# Clients may need to reach the socket as another user (root runs part as nobody).
chmod 755 "$TMP"
mkdir -p "$TMP/clients" "$TMP/wrong" "$TMP/empty" "$TMP/run"
# the agent's key and certificate also open TLS to the server (secure mode)
"$(dirname "$0")/../../scripts/gen_certificates.sh" "$TMP/certs" >/dev/null &&
	cp "$TMP/certs/agent.key" "$TMP/certs/agent.crt" "$TMP/certs/daosCA.crt" "$TMP/" &&
	openssl pkey -in "$TMP/agent.key" -pubout -out "$TMP/clients/agent.pub" 2>/dev/null &&
	openssl genpkey -algorithm ed25519 -out "$TMP/other.key" 2>/dev/null &&
	openssl pkey -in "$TMP/other.key" -pubout -out "$TMP/wrong/agent.pub" 2>/dev/null ||
	{ echo "SKIP: openssl cannot make Ed25519 keys"; exit 77; }
chmod -R a+rX "$TMP/clients" "$TMP/wrong" "$TMP/empty"
export DAOS_AGENT_DRPC_DIR="$TMP/run"

SRV_TLS=$TMP/certs
srv_config 1 >"$TMP/daos_server.yml"

cat >"$TMP/daos_agent.yml" <<EOF
# as DAOS's daos_agent.yml
name: daos_server
access_points: ['127.0.0.1']
port: $PORT
runtime_dir: $TMP/run-ignored
log_file: $TMP/agent.log
control_log_mask: INFO
transport_config:
  allow_insecure: false
  ca_cert: $TMP/daosCA.crt
  cert: $TMP/agent.crt
  key: $TMP/agent.key
cache_expiration: 0
credential_lifetime: 600
fabric_ifaces: []
EOF

echo "== command line"
"$AGENT" --help >"$TMP/help" 2>&1 && grep -q "^Usage: daos_agent" "$TMP/help" &&
	pass "--help" || fail "--help: $(head -1 "$TMP/help")"
"$AGENT" --bogus >/dev/null 2>&1
[ $? = 2 ] && pass "unknown option: exit 2" || fail "unknown option"
printf 'name: x\nnot_a_key: 1\n' >"$TMP/bad.yml"
"$AGENT" -o "$TMP/bad.yml" >/dev/null 2>"$TMP/bad.err"
RC=$?
[ $RC = 1 ] && grep -q "bad.yml:2: not_a_key: unknown key" "$TMP/bad.err" &&
	pass "unknown key: file, line and key" || fail "unknown key: exit $RC: $(cat "$TMP/bad.err")"
printf 'port: 70000\n' >"$TMP/bad2.yml"
"$AGENT" -o "$TMP/bad2.yml" >/dev/null 2>"$TMP/bad2.err"
[ $? = 1 ] && grep -q "bad2.yml:1: port" "$TMP/bad2.err" && pass "port out of range" ||
	fail "port out of range: $(cat "$TMP/bad2.err")"
sed "s#key: $TMP/agent.key#key: $TMP/missing.key#" "$TMP/daos_agent.yml" >"$TMP/nokey.yml"
"$AGENT" -o "$TMP/nokey.yml" >/dev/null 2>"$TMP/nokey.err"
[ $? = 1 ] && grep -q "missing.key" "$TMP/nokey.err" && pass "missing key: refused" ||
	fail "missing key: $(cat "$TMP/nokey.err")"

echo "== no agent"
"$CLIENT" creds "$TMP/clients" >"$TMP/noagent" 2>&1
grep -q "^error DER_NONEXIST$" "$TMP/noagent" && pass "no socket: DER_NONEXIST" ||
	fail "no socket: $(cat "$TMP/noagent")"

echo "== start server and agent"
srv_start srv
wait_line "$TMP/srv.out" "^daos_server started" 20 && pass "server started" || {
	fail "server did not start"
	show stderr "$TMP/srv.err"
	exit 1
}
start_agent a "$TMP/daos_agent.yml"
PID_A=$AGENT_PID
if wait_line "$TMP/a.out" "^daos_agent started: socket $TMP/run/daos_agent.sock" 10; then
	pass "agent started on \$DAOS_AGENT_DRPC_DIR (runtime_dir overridden)"
else
	fail "agent did not start"
	show stdout "$TMP/a.out"
	show stderr "$TMP/a.err"
	exit 1
fi
[ "$(stat -c %a "$TMP/run/daos_agent.sock")" = 777 ] && pass "socket open to every user" ||
	fail "socket mode $(stat -c %a "$TMP/run/daos_agent.sock")"

echo "== credentials"
if "$CLIENT" creds "$TMP/clients" >"$TMP/creds" 2>&1; then
	pass "credential verified with the agent's public key"
else
	fail "credential: $(cat "$TMP/creds")"
fi
grep -q "^uid $(id -u)$" "$TMP/creds" && pass "uid is the caller's ($(id -u))" ||
	fail "uid: $(grep ^uid "$TMP/creds")"
grep -q "^gid $(id -g)$" "$TMP/creds" && pass "gid is the caller's ($(id -g))" ||
	fail "gid: $(grep ^gid "$TMP/creds")"
grep -q "^user $(id -un)@$" "$TMP/creds" && pass "user $(id -un)@" ||
	fail "user: $(grep ^user "$TMP/creds")"
grep -q "^group $(id -gn)@$" "$TMP/creds" && pass "group $(id -gn)@" ||
	fail "group: $(grep ^group "$TMP/creds")"
grep -q "^signed 1$" "$TMP/creds" && grep -q "^origin agent$" "$TMP/creds" &&
	pass "signed by origin 'agent' (from cert agent.crt)" || fail "signature/origin"
LIFE=$(awk '/^lifetime/{print $2}' "$TMP/creds")
[ -n "$LIFE" ] && [ "$LIFE" -ge 590 ] && [ "$LIFE" -le 600 ] &&
	pass "credential_lifetime 600 s ($LIFE left)" || fail "lifetime: $LIFE"
"$CLIENT" creds "$TMP/wrong" >"$TMP/wrong.out" 2>&1
grep -q "^error DER_NO_PERM$" "$TMP/wrong.out" && pass "another agent's key: DER_NO_PERM" ||
	fail "wrong key: $(cat "$TMP/wrong.out")"
"$CLIENT" creds "$TMP/empty" >"$TMP/empty.out" 2>&1
grep -q "^error DER_BADPATH$" "$TMP/empty.out" && pass "no trusted key: DER_BADPATH" ||
	fail "no key: $(cat "$TMP/empty.out")"
if [ "$(id -u)" = 0 ] && id nobody >/dev/null 2>&1 && command -v setpriv >/dev/null; then
	NB_UID=$(id -u nobody)
	NB_GID=$(id -g nobody)
	setpriv --reuid="$NB_UID" --regid="$NB_GID" --clear-groups \
		"$CLIENT" creds "$TMP/clients" >"$TMP/nobody" 2>&1
	grep -q "^uid $NB_UID$" "$TMP/nobody" && grep -q "^gid $NB_GID$" "$TMP/nobody" &&
		grep -q "^user nobody@$" "$TMP/nobody" &&
		pass "another user (nobody) gets its own uid/gid from SO_PEERCRED" ||
		fail "as nobody: $(cat "$TMP/nobody")"
else
	echo "skip: not root, the other-user check needs setpriv"
fi

echo "== attach info"
if "$CLIENT" attach >"$TMP/attach" 2>&1; then
	pass "attach info answered"
else
	fail "attach: $(cat "$TMP/attach")"
fi
grep -q "^sys daos_server$" "$TMP/attach" && pass "names the system" || fail "sys"
grep -q "^provider tcp;ofi_rxm$" "$TMP/attach" && pass "provider hint" || fail "provider"
grep -q "^uri 0 fi_sockaddr_in://127.0.0.1:$FAB_PORT$" "$TMP/attach" &&
	pass "rank 0 at the server's fabric port $FAB_PORT" ||
	fail "uri: $(grep ^uri "$TMP/attach")"
grep -q "^access_point 127.0.0.1:$PORT$" "$TMP/attach" && pass "access point" ||
	fail "access point: $(grep ^access "$TMP/attach")"
"$CLIENT" attach other_system >"$TMP/attach_other" 2>&1
grep -q "^error DER_INVAL$" "$TMP/attach_other" && pass "another system name: DER_INVAL" ||
	fail "other system: $(cat "$TMP/attach_other")"

echo "== garbage and a second agent"
"$CLIENT" raw 99 >"$TMP/raw" 2>&1
grep -q "^status DER_UNREG$" "$TMP/raw" && pass "unknown method: DER_UNREG" ||
	fail "unknown method: $(cat "$TMP/raw")"
if command -v python3 >/dev/null; then
	python3 - "$TMP/run/daos_agent.sock" <<'EOF' >"$TMP/garbage" 2>&1
import os, socket, sys
for n in (1, 7, 100, 4096, 70000):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    s.connect(sys.argv[1])
    s.send(os.urandom(n))
    s.settimeout(5)
    try:
        s.recv(1 << 20)
    except OSError:
        pass
    s.close()
print("sent")
EOF
	"$CLIENT" creds "$TMP/clients" >/dev/null 2>&1 && kill -0 "$PID_A" &&
		pass "random packets: agent still serves" || fail "agent after garbage"
fi
start_agent b "$TMP/daos_agent.yml"
wait_exit "$AGENT_PID" 5
[ "$RC" = 1 ] && grep -q "another agent is serving" "$TMP/b.err" &&
	pass "second agent on the same socket: refused" ||
	fail "second agent: exit $RC: $(cat "$TMP/b.err")"

echo "== server gone: cached attach info"
kill -KILL "$SRV_PID"
wait "$SRV_PID" 2>/dev/null
"$CLIENT" attach >"$TMP/attach2" 2>&1 && grep -q "^uri 0 fi_sockaddr_in" "$TMP/attach2" &&
	pass "attach info from the cache after kill -9 of the server" ||
	fail "cached attach: $(cat "$TMP/attach2")"

echo "== SIGHUP reopens the log"
mv "$TMP/agent.log" "$TMP/agent.log.1"
kill -HUP "$PID_A"
wait_line "$TMP/agent.log" "log reopened on SIGHUP" 5 && kill -0 "$PID_A" &&
	pass "SIGHUP: new log file, agent still running" || fail "SIGHUP: $(ls "$TMP")"

echo "== SIGTERM"
kill -TERM "$PID_A"
wait_exit "$PID_A" 5
[ "$RC" = 0 ] && pass "SIGTERM: exit 0 within 5 s" || fail "SIGTERM: exit $RC"
grep -q "^daos_agent stopped$" "$TMP/a.out" && pass "stopped line" || fail "no stopped line"
[ ! -e "$TMP/run/daos_agent.sock" ] && pass "socket removed" || fail "socket left behind"
grep -q "serving $TMP/run/daos_agent.sock" "$TMP/agent.log.1" && pass "log_file written" ||
	fail "log_file: $(head -3 "$TMP/agent.log.1")"

echo "== insecure, no server, stale socket"
start_agent c "$TMP/daos_agent.yml" -i
PID_C=$AGENT_PID
wait_line "$TMP/c.out" "unsigned credentials" 10 && pass "-i: unsigned credentials" ||
	fail "insecure agent: $(cat "$TMP/c.err")"
"$CLIENT" creds --insecure >"$TMP/icreds" 2>&1 && grep -q "^signed 0$" "$TMP/icreds" &&
	grep -q "^uid $(id -u)$" "$TMP/icreds" &&
	pass "insecure credential accepted by an insecure server" ||
	fail "insecure creds: $(cat "$TMP/icreds")"
"$CLIENT" creds "$TMP/clients" >"$TMP/icreds2" 2>&1
grep -q "^error DER_NO_PERM$" "$TMP/icreds2" && pass "unsigned credential: secure server says DER_NO_PERM" ||
	fail "unsigned on secure: $(cat "$TMP/icreds2")"
"$CLIENT" attach >"$TMP/attach3" 2>&1
grep -q "^error DER_UNREACH$" "$TMP/attach3" && pass "no access point up: DER_UNREACH" ||
	fail "attach without server: $(cat "$TMP/attach3")"
kill -KILL "$PID_C"
wait "$PID_C" 2>/dev/null
[ -S "$TMP/run/daos_agent.sock" ] || fail "kill -9 should leave the socket file"
start_agent d "$TMP/daos_agent.yml" -j
PID_D=$AGENT_PID
wait_line "$TMP/d.out" '^\{"started":true,"socket":"' 10 &&
	pass "restart over a stale socket; -j prints JSON" || fail "restart: $(cat "$TMP/d.err")"
kill -TERM "$PID_D"
wait_exit "$PID_D" 5
[ "$RC" = 0 ] && pass "second stop: exit 0" || fail "second stop: exit $RC"

t_summary
