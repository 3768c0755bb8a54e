#!/bin/bash
# gen_certificates.sh DIR: make the certificates of the management port's TLS in DIR.
#
#   DIR/daosCA.crt, daosCA.key   the CA (keep daosCA.key away from every node)
#   DIR/admin.crt, admin.key     dmg                (daos_control.yml: cert, key)
#   DIR/server.crt, server.key   every daos_server  (daos_server.yml: cert, key)
#   DIR/agent.crt, agent.key     every daos_agent   (daos_agent.yml: cert, key)
#   DIR/clients/agent.crt        the agent's certificate for the servers'
#                                transport_config.client_cert_dir (credential signatures)
#
# Every node gets daosCA.crt as transport_config.ca_cert. The subject common name of each
# certificate ("admin", "server", "agent") is the role the management port gives its
# holder (src/engine/ctl_tls.h). Keys are Ed25519 (fast to make; the agent signs
# credentials with its key too); DAOS_CERT_ALG=rsa makes 3072-bit RSA keys instead.
# DAOS_CERT_DAYS (default 3650) is the validity. Existing files in DIR are replaced.
set -euo pipefail

if [ $# -ne 1 ] || [ "$1" = "-h" ] || [ "$1" = "--help" ]; then
	echo "Usage: $0 DIR   (makes DIR/daosCA.crt and the admin, server and agent certificates)" >&2
	exit 2
fi
DIR=$1
DAYS=${DAOS_CERT_DAYS:-3650}
case "${DAOS_CERT_ALG:-ed25519}" in
ed25519) KEYOPT=(-algorithm ed25519) ;;
rsa) KEYOPT=(-algorithm rsa -pkeyopt rsa_keygen_bits:3072) ;;
*)
	echo "$0: DAOS_CERT_ALG must be ed25519 or rsa" >&2
	exit 2
	;;
esac
command -v openssl >/dev/null || {
	echo "$0: openssl(1) is needed" >&2
	exit 1
}

mkdir -p "$DIR/clients"
umask 077

newkey() {
	openssl genpkey "${KEYOPT[@]}" -out "$1" 2>/dev/null
}

# The CA: self-signed, allowed to sign certificates only.
newkey "$DIR/daosCA.key"
openssl req -x509 -new -key "$DIR/daosCA.key" -subj "/O=DAOS/CN=DAOS CA" -days "$DAYS" \
	-addext "basicConstraints=critical,CA:TRUE" \
	-addext "keyUsage=critical,keyCertSign,cRLSign" -out "$DIR/daosCA.crt"

# A leaf per role; each may act as a TLS client and server (servers call each other).
EXT=$(mktemp)
trap 'rm -f "$EXT" "$DIR"/*.csr' EXIT
cat >"$EXT" <<'EOF'
basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=serverAuth,clientAuth
EOF
for role in admin server agent; do
	newkey "$DIR/$role.key"
	openssl req -new -key "$DIR/$role.key" -subj "/O=DAOS/CN=$role" -out "$DIR/$role.csr"
	openssl x509 -req -in "$DIR/$role.csr" -CA "$DIR/daosCA.crt" -CAkey "$DIR/daosCA.key" \
		-set_serial "0x$(openssl rand -hex 16)" -days "$DAYS" -extfile "$EXT" \
		-out "$DIR/$role.crt" 2>/dev/null
done
cp "$DIR/agent.crt" "$DIR/clients/agent.crt"
chmod 0644 "$DIR"/*.crt "$DIR/clients/agent.crt"
chmod 0755 "$DIR/clients"
chmod 0600 "$DIR"/*.key
echo "certificates in $DIR: daosCA.crt; admin, server and agent .crt/.key; clients/agent.crt"
