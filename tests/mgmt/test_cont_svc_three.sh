#!/usr/bin/env bash
# test_cont_svc_three.sh DAOS_SERVER DMG DMG_JSON_GET DAOS_AGENT CONT_SVC_TEST SRV_ATTACH
# AGENT_CLIENT:
# pool handles and containers on three servers (127.0.0.1-3, three MS replicas).
#
# Checks GetAttachInfo from the leader lists every rank with all its fabric contexts (the
# Join carries them), that a follower hints at the leader and that daos_agent, asking its
# access points in turn, hands out the leader's answer; then runs cont_svc_test (credentials from a real daos_agent) on a pool
# spanning the three ranks, kills the MS leader's server with kill -9, and checks against the
# new leader that the pool handle, the containers and their handles, snapshots and
# attributes survived and that new OIDs never overlap the ranges answered before. Every
# process started here is killed by the EXIT trap. Secure mode: TLS on the management ports
# (the servers call each other with the server certificate; dmg, cont_svc_test and
# engine_srv_attach use the admin one) and signed credentials, with the certificates of
# scripts/gen_certificates.sh.
set -u

. "$(dirname "$0")/../lib/server.sh"
t_args SRV_BIN:daos_server DMG:dmg JGET:dmg_json_get AGENT:daos_agent CLIENT:cont_svc_test \
	ATTACH:engine_srv_attach ACLIENT:agent_client -- "$@"
command -v openssl >/dev/null || { echo "SKIP: no openssl command"; exit 77; }

t_init test_cont_svc_three
# 10600-10999 (tests/README.md), 24 ports a run: server i has management port BASE + 8 i,
# fabric ports BASE + 8 i + 1.., raft BASE + 8 i + 7.
srv3_addrs $((10600 + ($$ % 16) * 24)) 8

# dmg_at (lib/server.sh) as the admin
DMG_CONF=$TMP/daos_control.yml

mkdir -p "$TMP/run"
C=$TMP/certs
"$(dirname "$0")/../../scripts/gen_certificates.sh" "$C" >/dev/null ||
	{ echo "SKIP: openssl cannot make the certificates"; exit 77; }
export DAOS_AGENT_DRPC_DIR="$TMP/run"
export DAOS_CTL_CA_CERT=$C/daosCA.crt DAOS_CTL_CERT=$C/admin.crt DAOS_CTL_KEY=$C/admin.key
cat >"$TMP/daos_control.yml" <<EOF
name: daos_server
transport_config:
  allow_insecure: false
  ca_cert: $C/daosCA.crt
  cert: $C/admin.crt
  key: $C/admin.key
EOF

# the servers with TLS (srv_transport)
SRV_TLS=$C srv3_config "$TMP" 2
cat >"$TMP/daos_agent.yml" <<EOF
name: daos_server
access_points: ['${ADDRS[0]}', '${ADDRS[1]}', '${ADDRS[2]}']
log_file: $TMP/agent.log
transport_config:
  allow_insecure: false
  ca_cert: $C/daosCA.crt
  cert: $C/agent.crt
  key: $C/agent.key
cache_expiration: 0
credential_lifetime: 600
EOF

echo "== three servers"
srv3_start "$TMP" 0 1 2
srv3_joined "$TMP" 40
dmg_at "$HOSTS" lq system leader-query
LEADER=$(jget lq response.current_leader)
[ -n "$LEADER" ] && pass "leader $LEADER" || fail "no leader"

echo "== GetAttachInfo from the system map"
if "$ATTACH" "$LEADER" >"$TMP/attach" 2>&1; then
	pass "GetAttachInfo at the leader"
else
	fail "GetAttachInfo: $(cat "$TMP/attach")"
fi
for r in 0 1 2; do
	N=$(grep -c "^uri $r " "$TMP/attach")
	[ "$N" = 3 ] && pass "rank $r: 3 contexts (system + 2 targets)" ||
		fail "rank $r: $N contexts"
done
FIRST=$(awk '/^uri 1 /{print $4; exit}' "$TMP/attach")
dmg_at "$HOSTS" sq2 system query
for j in 0 1 2; do
	[ "$(jget sq2 "response.members.$j.rank")" = 1 ] &&
		[ "$(jget sq2 "response.members.$j.fabric_uri")" = "$FIRST" ] &&
		pass "rank 1's first URI is its system context ($FIRST)"
done

for i in 0 1 2; do
	[ "${ADDRS[$i]}" = "$LEADER" ] && continue
	if "$ATTACH" "${ADDRS[$i]}" >"$TMP/attach_f" 2>&1; then
		fail "GetAttachInfo at follower ${ADDRS[$i]} answered itself"
	else
		grep -q "DER_NOTLEADER" "$TMP/attach_f" &&
			pass "GetAttachInfo at follower ${ADDRS[$i]}: DER_NOTLEADER" ||
			fail "GetAttachInfo at follower ${ADDRS[$i]}: $(head -1 "$TMP/attach_f")"
	fi
	break
done
dmg_at "$HOSTS" pc pool create -z 3G tank3
[ $RC = 0 ] && [ "$(jget pc response.tgt_ranks)" = 3 ] && pass "pool over 3 ranks" || {
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

"$ACLIENT" attach >"$TMP/agent_attach" 2>&1
N=$(grep -c '^uri ' "$TMP/agent_attach")
[ "$N" = 9 ] && pass "daos_agent hands out the leader's attach info: 9 URIs (3 ranks x 3)" || {
	fail "agent attach info: $N URIs"
	show out "$TMP/agent_attach"
}

echo "== methods"
timeout 300 "$CLIENT" main "$HOSTS" tank3 "$TMP/state" 11 >"$TMP/main.out" 2>&1
RC=$?
grep '^FAIL' "$TMP/main.out" | sed 's/^/    /'
[ $RC = 0 ] && pass "cont_svc_test main on 3 ranks: $(grep -c '^ok' "$TMP/main.out") checks" || {
	fail "cont_svc_test main: exit $RC"
	tail -8 "$TMP/main.out" | sed 's/^/    /'
}

echo "== kill -9 of the leader"
for i in 0 1 2; do
	[ "${ADDRS[$i]}" = "$LEADER" ] && L=$i
done
kill -KILL "${SRV_PID[$L]}"
wait "${SRV_PID[$L]}" 2>/dev/null
OTHERS=$(for i in 0 1 2; do [ $i = "$L" ] || printf '%s,' "${ADDRS[$i]}"; done)
OTHERS=${OTHERS%,}
timeout 300 "$CLIENT" restart "$OTHERS" tank3 "$TMP/state" >"$TMP/r1.out" 2>&1
RC=$?
grep '^FAIL' "$TMP/r1.out" | sed 's/^/    /'
[ $RC = 0 ] && pass "after the leader's kill -9: $(grep -c '^ok' "$TMP/r1.out") checks" || {
	fail "restart phase: exit $RC"
	tail -8 "$TMP/r1.out" | sed 's/^/    /'
}
dmg_at "$OTHERS" lc pool list-cont tank3
[ $RC = 0 ] && [ "$(jget lc response.containers)" = "$(grep -c '^cont ' "$TMP/state")" ] &&
	pass "list-cont at the new leader" || fail "list-cont: exit $RC"

t_summary
