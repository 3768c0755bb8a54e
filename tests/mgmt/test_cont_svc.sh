#!/usr/bin/env bash
# test_cont_svc.sh DAOS_SERVER DMG DMG_JSON_GET DAOS_AGENT CONT_SVC_TEST: the management
# service's pool handles and containers (methods 220-247) on one real daos_server.
#
# Starts a daos_server (2 targets, tcp on loopback) in secure mode: TLS on the management
# port and the credentials of a real daos_agent checked against client_cert_dir, with the
# certificates of scripts/gen_certificates.sh (dmg: admin, agent: agent, cont_svc_test: admin
# through DAOS_CTL_*). It creates a pool with
# dmg, and runs cont_svc_test (credentials from the agent): connect/disconnect, bad
# credentials, pool and container ACL denial, pool attributes, a random sequence of container
# operations against a model, four processes racing on one container. Then: dmg pool destroy is DER_BUSY while handles are open;
# after a clean restart and after a kill -9 the handles, containers, snapshots and
# attributes are there and new OIDs never overlap the ranges answered before; dmg pool
# list-cont lists the containers; dmg pool evict drops the handles (counted); a pool with a
# handle is destroyed with --force. Every process started here is killed by the EXIT trap.
set -u

. "$(dirname "$0")/../lib/server.sh"
t_args SRV_BIN:daos_server DMG:dmg JGET:dmg_json_get AGENT:daos_agent CLIENT:cont_svc_test -- "$@"
command -v openssl >/dev/null || { echo "SKIP: no openssl command"; exit 77; }

t_init test_cont_svc
# 10200-10599 (tests/README.md); raft takes PORT + 7.
t_ports 10200 50

# dmg_j (lib/server.sh) as the admin, at this server
DMG_CONF=$TMP/daos_control.yml
HOSTS=$ADDR

wait_joined() {
	local i
	for i in $(seq 300); do
		dmg_j sq system query
		if [ $RC = 0 ] && [ "$(jget sq response.members)" = 1 ] &&
			[ "$(jget sq response.members.0.state)" = joined ]; then
			return 0
		fi
		sleep 0.1
	done
	return 1
}

# client NAME MODE: run cont_svc_test MODE, output in $TMP/NAME.out, RC.
client() {
	timeout 300 "$CLIENT" "$2" "$ADDR" "${3:-svcpool}" "$TMP/state" 7 >"$TMP/$1.out" 2>&1
	RC=$?
	grep '^FAIL' "$TMP/$1.out" | sed 's/^/    /'
}

mkdir -p "$TMP/run"
"$(dirname "$0")/../../scripts/gen_certificates.sh" "$TMP/certs" >/dev/null ||
	{ echo "SKIP: openssl cannot make the certificates"; exit 77; }
export DAOS_AGENT_DRPC_DIR="$TMP/run"
export DAOS_CTL_CA_CERT=$TMP/certs/daosCA.crt DAOS_CTL_CERT=$TMP/certs/admin.crt \
	DAOS_CTL_KEY=$TMP/certs/admin.key

SRV_TLS=$TMP/certs
srv_config 2 >"$TMP/daos_server.yml"
cat >"$TMP/daos_control.yml" <<EOF
name: daos_server
transport_config:
  allow_insecure: false
  ca_cert: $TMP/certs/daosCA.crt
  cert: $TMP/certs/admin.crt
  key: $TMP/certs/admin.key
EOF
cat >"$TMP/daos_agent.yml" <<EOF
name: daos_server
access_points: ['127.0.0.1:$PORT']
port: $PORT
log_file: $TMP/agent.log
transport_config:
  allow_insecure: false
  ca_cert: $TMP/certs/daosCA.crt
  cert: $TMP/certs/agent.crt
  key: $TMP/certs/agent.key
cache_expiration: 0
credential_lifetime: 600
EOF

echo "== server, pool, agent"
srv_start srv
if wait_joined; then
	pass "server up, rank 0 joined"
else
	fail "server did not join"
	show stderr "$TMP/srv.err"
	exit 1
fi
dmg_j pc pool create -z 2G svcpool
[ $RC = 0 ] && pass "pool svcpool created" || {
	fail "pool create: exit $RC"
	show out "$TMP/pc.out"
	exit 1
}
"$AGENT" -o "$TMP/daos_agent.yml" >"$TMP/agent.out" 2>"$TMP/agent.err" &
t_track $!
wait_line "$TMP/agent.out" "^daos_agent started" 10 && pass "agent started" || {
	fail "agent did not start"
	show stderr "$TMP/agent.err"
	exit 1
}

echo "== methods (cont_svc_test main)"
client main main
[ $RC = 0 ] && pass "cont_svc_test main: $(grep -c '^ok' "$TMP/main.out") checks" || {
	fail "cont_svc_test main: exit $RC"
	tail -5 "$TMP/main.out" | sed 's/^/    /'
}
NCONT=$(grep -c '^cont ' "$TMP/state" 2>/dev/null)

echo "== concurrent read-modify-writes (cont_svc_test race)"
client race race
[ $RC = 0 ] && pass "4 processes at once: $(grep -c '^ok' "$TMP/race.out") checks" || {
	fail "cont_svc_test race: exit $RC"
	tail -5 "$TMP/race.out" | sed 's/^/    /'
}

echo "== pool destroy with open handles"
dmg_j pdb pool destroy svcpool
[ $RC = 1 ] && [ "$(jget pdb status)" = -1012 ] && pass "destroy: DER_BUSY while connected" || {
	fail "destroy with handles: exit $RC"
	show out "$TMP/pdb.out"
}

echo "== restart (SIGTERM)"
stop_within TERM "$SRV_PID" 30
[ "$RC" = 0 ] && pass "server stopped" || fail "server stop: $RC"
srv_start srv2
wait_joined && pass "server back" || fail "server did not come back"
client r1 restart
[ $RC = 0 ] && pass "after a restart: $(grep -c '^ok' "$TMP/r1.out") checks" || {
	fail "restart phase: exit $RC"
	tail -5 "$TMP/r1.out" | sed 's/^/    /'
}

echo "== restart (kill -9)"
kill -KILL "$SRV_PID"
wait "$SRV_PID" 2>/dev/null
srv_start srv3
wait_joined && pass "server back after kill -9" || fail "server did not come back"
client r2 restart
[ $RC = 0 ] && pass "after kill -9: $(grep -c '^ok' "$TMP/r2.out") checks" || {
	fail "kill -9 phase: exit $RC"
	tail -5 "$TMP/r2.out" | sed 's/^/    /'
}

echo "== dmg list-cont, evict, destroy"
dmg_j lc pool list-cont svcpool
[ $RC = 0 ] && [ "$(jget lc response.containers)" = "$NCONT" ] &&
	pass "list-cont: $NCONT containers" || {
	fail "list-cont: exit $RC, $(jget lc response.containers) containers, expected $NCONT"
	show out "$TMP/lc.out"
}
dmg_j ev pool evict svcpool
[ $RC = 0 ] && [ "$(jget ev response.count)" -ge 1 ] 2>/dev/null &&
	pass "evict: $(jget ev response.count) handles" || {
	fail "evict: exit $RC"
	show out "$TMP/ev.out"
}
client nh nohdl
[ $RC = 0 ] && pass "evicted handles are gone" || fail "nohdl phase: exit $RC"
dmg_j ev2 pool evict svcpool
N=$(jget ev2 response.count)
# proto3 JSON leaves a zero count out
[ $RC = 0 ] && [ "${N:-0}" = 0 ] && pass "evict again: 0 handles" || fail "second evict: $N"
dmg_j pd pool destroy svcpool
[ $RC = 0 ] && pass "destroy after evict" || {
	fail "destroy after evict: exit $RC"
	show out "$TMP/pd.out"
}
dmg_j pc2 pool create -z 1G forced
client c1 connect forced
[ $RC = 0 ] && pass "connected to pool forced" || fail "connect forced: exit $RC"
dmg_j pf1 pool destroy forced
[ $RC = 1 ] && [ "$(jget pf1 status)" = -1012 ] && pass "destroy: DER_BUSY" ||
	fail "destroy forced without --force: exit $RC"
dmg_j pf2 pool destroy --force forced
[ $RC = 0 ] && pass "destroy --force with a handle open" || {
	fail "destroy --force: exit $RC"
	show out "$TMP/pf2.out"
}
dmg_j pl pool list --no-query
[ $RC = 0 ] && [ "$(jget pl response.pools)" = 0 ] && pass "no pool left" ||
	fail "pools left: $(jget pl response.pools)"

t_summary
