#!/usr/bin/env bash
# test_dmg_tls.sh DAOS_SERVER DMG DMG_JSON_GET DAOS_CTL_PING: the management port with TLS.
#
# Makes the certificates with scripts/gen_certificates.sh and starts two daos_servers in
# secure mode (server 0 the management service, server 1 joining it: the join, the
# heartbeats and the pool's target creation go over TLS between them). Then checks that
# dmg with the admin certificate works (system query, pool create, list, destroy); that
# dmg with the agent certificate may read but not create a pool or stop the system
# (DER_NO_PERM); that an admin certificate from another CA, a self-signed one, a TLS client
# without a certificate (openssl s_client), and a plain client (dmg without
# transport_config, daos_ctl_ping) are refused with the reason named; that garbage, a plain
# frame, a huge TLS record and a half handshake held open do not stop the server from
# serving the admin meanwhile; and that the server logs the refusals. Every process
# started here is killed by the EXIT trap.
set -u

. "$(dirname "$0")/../lib/server.sh"
t_args SRV_BIN:daos_server DMG:dmg JGET:dmg_json_get CTL_PING:daos_ctl_ping -- "$@"
command -v openssl >/dev/null || { echo "SKIP: no openssl command"; exit 77; }
command -v python3 >/dev/null || { echo "SKIP: no python3"; exit 77; }

t_init test_dmg_tls
# 11864-11903 (tests/README.md): two servers in one slot, 0 at +0..+2 and raft +7, 1 at
# +4..+6 (not an access point: no raft port).
t_ports 11864 5
ADDR1=127.0.0.1:$((PORT + 4))
C=$TMP/certs
GEN="$(dirname "$0")/../../scripts/gen_certificates.sh"

"$GEN" "$C" >/dev/null || { echo "SKIP: openssl cannot make the certificates"; exit 77; }
"$GEN" "$TMP/other" >/dev/null || { fail "gen_certificates.sh, second CA"; exit 1; }
openssl req -x509 -newkey ed25519 -nodes -keyout "$TMP/self.key" -subj "/O=DAOS/CN=admin" \
	-days 1 -out "$TMP/self.crt" 2>/dev/null || { fail "self-signed certificate"; exit 1; }
openssl verify -CAfile "$C/daosCA.crt" "$C/admin.crt" "$C/server.crt" "$C/agent.crt" \
	>/dev/null 2>&1 && [ "$(openssl x509 -in "$C/admin.crt" -noout -subject)" != "" ] &&
	pass "gen_certificates.sh: admin, server, agent signed by daosCA.crt" ||
	fail "gen_certificates.sh output does not verify"

# control CA CERT KEY > yml: a daos_control.yml for both servers with this identity.
control() {
	cat <<EOF
name: daos_server
hostlist: ['$ADDR', '$ADDR1']
transport_config:
  allow_insecure: false
  ca_cert: $1
  cert: $2
  key: $3
EOF
}
control "$C/daosCA.crt" "$C/admin.crt" "$C/admin.key" >"$TMP/admin.yml"
control "$C/daosCA.crt" "$C/agent.crt" "$C/agent.key" >"$TMP/agent.yml"
control "$TMP/other/daosCA.crt" "$TMP/other/admin.crt" "$TMP/other/admin.key" >"$TMP/ca2.yml"
control "$C/daosCA.crt" "$TMP/self.crt" "$TMP/self.key" >"$TMP/self.yml"

# dmg_run NAME YML|- ARGS...: dmg with that configuration (- : none, plain), RC.
dmg_run() {
	local name=$1 cfg=$2
	shift 2
	if [ "$cfg" = - ]; then
		t_run "$name" 20 "$DMG" -j -l "$ADDR" "$@"
	else
		t_run "$name" 20 "$DMG" -j -o "$cfg" "$@"
	fi
}

# refused NAME WHAT PATTERN: dmg NAME exited 1 with PATTERN in its error (JSON "error").
refused() {
	local err
	err=$(jget "$1" error)
	if [ "$RC" = 1 ] && echo "$err" | grep -Eq -- "$3"; then
		pass "$2: refused ($err)"
	else
		fail "$2: exit $RC, error '$err'"
		show out "$TMP/$1.out"
		show err "$TMP/$1.err"
	fi
}

# alive WHAT: both servers run and the admin is served.
alive() {
	dmg_run alive "$TMP/admin.yml" system query
	if [ "$RC" = 0 ] && kill -0 "$SRV0" 2>/dev/null && kill -0 "$SRV1" 2>/dev/null; then
		pass "$1: servers up, admin served"
	else
		fail "$1: servers down or admin not served (exit $RC)"
		show err "$TMP/alive.err"
	fi
}

SRV_TLS=$C
srv_config 1 >"$TMP/srv0.yml"
sed -e "s/^port: .*/port: $((PORT + 4))/" -e "s/fabric_iface_port: .*/fabric_iface_port: $((PORT + 5))/" \
	"$TMP/srv0.yml" >"$TMP/srv1.yml"

echo "== two servers with TLS"
# warnings on stderr: the refusals are logged there
D_LOG_MASK=WARN srv_start srv0 -o "$TMP/srv0.yml" --data-dir "$TMP/data0"
SRV0=$SRV_PID
srv_start srv1 -o "$TMP/srv1.yml" --data-dir "$TMP/data1"
SRV1=$SRV_PID
joined=0
for i in $(seq 150); do
	dmg_run sq "$TMP/admin.yml" system query
	if [ "$RC" = 0 ] && [ "$(jget sq response.members)" = 2 ] &&
		[ "$(jget sq response.members.0.state)" = joined ] &&
		[ "$(jget sq response.members.1.state)" = joined ]; then
		joined=1
		break
	fi
	sleep 0.1
done
if [ $joined = 1 ]; then
	pass "admin: system query, both ranks joined over TLS"
else
	fail "ranks did not join: exit $RC"
	show out "$TMP/sq.out"
	show srv0 "$TMP/srv0.err"
	show srv1 "$TMP/srv1.err"
	exit 1
fi

echo "== the admin certificate"
dmg_run pc "$TMP/admin.yml" pool create -z 1G tank
[ "$RC" = 0 ] && [ "$(jget pc response.tgt_ranks)" = 2 ] &&
	pass "admin: pool create on both ranks (target creation over TLS)" || {
	fail "admin pool create: exit $RC"
	show out "$TMP/pc.out"
	show err "$TMP/pc.err"
}
dmg_run pl "$TMP/admin.yml" pool list
[ "$RC" = 0 ] && [ "$(jget pl response.pools.0.label)" = tank ] && pass "admin: pool list" ||
	fail "admin pool list: exit $RC"

echo "== the agent certificate: reads only"
dmg_run apl "$TMP/agent.yml" pool list
[ "$RC" = 0 ] && [ "$(jget apl response.pools.0.label)" = tank ] && pass "agent: pool list" ||
	fail "agent pool list: exit $RC: $(cat "$TMP/apl.err")"
dmg_run apc "$TMP/agent.yml" pool create -z 1G other
refused apc "agent: pool create" "DER_NO_PERM"
[ "$(jget apc status)" = -1001 ] || fail "agent pool create: status $(jget apc status)"
dmg_run apd "$TMP/agent.yml" pool destroy tank
refused apd "agent: pool destroy" "DER_NO_PERM"
dmg_run ass "$TMP/agent.yml" system stop
refused ass "agent: system stop" "DER_NO_PERM"
dmg_run pl2 "$TMP/admin.yml" pool list
[ "$(jget pl2 response.pools)" = 1 ] && pass "the pool is still there, alone" ||
	fail "pools after the agent's attempts: $(jget pl2 response.pools)"

echo "== certificates that are not the system's"
dmg_run ca2 "$TMP/ca2.yml" system query
refused ca2 "admin certificate of another CA" "DER_NO_PERM.*|TLS"
grep -q "certificate verif" "$TMP/ca2.out" && pass "  (the server's certificate does not verify)" ||
	fail "another CA: reason not named: $(jget ca2 error)"
dmg_run self "$TMP/self.yml" pool create -z 1G other
refused self "self-signed admin certificate" "TLS.*(alert|certificate)"
printf 'x' | timeout 10 openssl s_client -connect "$ADDR" -tls1_3 -CAfile "$C/daosCA.crt" \
	-ign_eof >"$TMP/s_client.out" 2>&1
grep -q "alert certificate required" "$TMP/s_client.out" &&
	pass "TLS client without a certificate: alert certificate required" ||
	fail "no client certificate: $(tail -3 "$TMP/s_client.out")"

echo "== plain clients"
dmg_run plain - system query
refused plain "dmg without transport_config (plain frames)" "speaks TLS"
"$CTL_PING" -t 3000 "$ADDR" >"$TMP/ping.out" 2>&1
[ $? = 1 ] && grep -q "speaks TLS" "$TMP/ping.out" && pass "daos_ctl_ping (plain): refused, says why" ||
	fail "plain ping: $(cat "$TMP/ping.out")"
DAOS_CTL_CA_CERT=$C/daosCA.crt DAOS_CTL_CERT=$C/agent.crt DAOS_CTL_KEY=$C/agent.key \
	"$CTL_PING" -c 3 "$ADDR1" >"$TMP/ping2.out" 2>&1 &&
	pass "daos_ctl_ping with the agent certificate (DAOS_CTL_*): ping answered by server 1" ||
	fail "TLS ping: $(cat "$TMP/ping2.out")"
alive "after the refusals"

echo "== garbage on the TLS port"
python3 - "$PORT" "$C/daosCA.crt" "$C/admin.crt" "$C/admin.key" "$DMG" "$TMP/admin.yml" \
	>"$TMP/garbage.out" 2>&1 <<'EOF'
import os, socket, ssl, subprocess, sys, time
port = int(sys.argv[1])

def conn():
    return socket.create_connection(("127.0.0.1", port), timeout=10)

def drain(s):
    s.settimeout(10)
    try:
        while s.recv(65536):
            pass
    except OSError:
        pass
    s.close()

# random bytes, a plain frame, a TLS record header claiming 64 KiB then junk
for payload in (os.urandom(70000), bytes([0xDA, 0xC7, 1, 0, 0, 0, 0, 4]) + b"ping",
                bytes([0x16, 0x03, 0x01, 0xFF, 0xFF]) + os.urandom(65535),
                bytes([0x17, 0x03, 0x03, 0x40, 0x01]) + os.urandom(16385)):
    s = conn()
    try:
        s.sendall(payload)
    except OSError:
        pass
    drain(s)
print("garbage sent")
# half handshakes held open while the admin is served
held = []
for i in range(20):
    s = conn()
    s.sendall(bytes([0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xFC]))
    held.append(s)
# a complete handshake, then nothing (an authenticated peer that stalls)
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
ctx.minimum_version = ssl.TLSVersion.TLSv1_3
ctx.load_verify_locations(sys.argv[2])
ctx.load_cert_chain(sys.argv[3], sys.argv[4])
ctx.check_hostname = False
t = ctx.wrap_socket(conn())
held.append(t)
r = subprocess.run([sys.argv[5], "-o", sys.argv[6], "system", "query"], capture_output=True,
                   timeout=20)
print("admin while 21 connections hang: exit", r.returncode)
# an authenticated peer that sends a frame header announcing more than the limit
t.sendall(bytes([0xDA, 0xC7, 1, 0, 0x7F, 0xFF, 0xFF, 0xFF]))
drain(t)
print("oversized frame: closed")
for s in held[:-1]:
    s.close()
EOF
grep -q "garbage sent" "$TMP/garbage.out" && pass "random bytes, a plain frame, huge records sent" ||
	fail "garbage: $(cat "$TMP/garbage.out")"
grep -q "admin while 21 connections hang: exit 0" "$TMP/garbage.out" &&
	pass "admin served while 20 half handshakes and a silent TLS peer hang" ||
	fail "admin during half handshakes: $(cat "$TMP/garbage.out")"
grep -q "oversized frame: closed" "$TMP/garbage.out" &&
	pass "frame over the limit inside TLS: connection closed" ||
	fail "oversized frame: $(cat "$TMP/garbage.out")"
alive "after the garbage"
grep -q "TLS handshake with .* failed" "$TMP/srv0.err" &&
	pass "server log names failed handshakes" || fail "no handshake failure logged"
grep -q "may not call method 150" "$TMP/srv0.err" &&
	pass "server log names the agent's refused pool create" || fail "no refusal logged"

echo "== destroy, stop"
dmg_run pd "$TMP/admin.yml" pool destroy tank
[ "$RC" = 0 ] && pass "admin: pool destroy" || fail "pool destroy: exit $RC"
stop_within TERM "$SRV1" 20
[ "$RC" = 0 ] && pass "server 1: SIGTERM, exit 0" || fail "server 1 stop: exit $RC"
stop_within TERM "$SRV0" 20
[ "$RC" = 0 ] && pass "server 0: SIGTERM, exit 0" || fail "server 0 stop: exit $RC"

t_summary
