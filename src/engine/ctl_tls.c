/*
 * ctl_tls.c: the TLS context, peer roles and the method table of each role for the
 * management port (ctl_tls.h).
 */
#define D_LOGFAC ctl

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <gurt/common.h>
#include <daos_srv/ctl.h>

#include "ctl_tls.h"

D_LOG_FAC_DECLARE(ctl);

const char *
ctl_tls_reason(SSL *ssl, char *buf, size_t len)
{
	unsigned long e;
	long v;

	buf[0] = '\0';
	if (ssl != NULL) {
		v = SSL_get_verify_result(ssl);
		if (v != X509_V_OK) {
			snprintf(buf, len, "certificate verification: %s",
				 X509_verify_cert_error_string(v));
			ERR_clear_error();
			return buf;
		}
	}
	/* the first error is the root cause; the rest are its context */
	e = ERR_get_error();
	if (e != 0)
		ERR_error_string_n(e, buf, len);
	ERR_clear_error();
	if (buf[0] == '\0')
		snprintf(buf, len, "connection closed during the TLS exchange");
	return buf;
}

SSL_CTX *
ctl_tls_ctx_create(const char *ca, const char *cert, const char *key, char *err, size_t errlen)
{
	char why[256];
	SSL_CTX *ctx;
	const char *what;
	X509 *x;
	FILE *f;

	ERR_clear_error();
	if (ca == NULL || cert == NULL || key == NULL) {
		snprintf(err, errlen, "TLS needs ca_cert, cert and key");
		return NULL;
	}
	ctx = SSL_CTX_new(TLS_method());
	if (ctx == NULL) {
		snprintf(err, errlen, "SSL_CTX_new: %s", ctl_tls_reason(NULL, why, sizeof(why)));
		return NULL;
	}
	SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION);
	/* no resumption: every connection proves its certificate */
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	SSL_CTX_set_num_tickets(ctx, 0);
	SSL_CTX_set_mode(ctx, SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
	/* OpenSSL takes a CA file that does not exist as an empty one: look first */
	f = fopen(ca, "r");
	if (f == NULL) {
		snprintf(err, errlen, "%s: %s", ca, strerror(errno));
		SSL_CTX_free(ctx);
		return NULL;
	}
	x = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	if (x == NULL) {
		snprintf(err, errlen, "%s: no PEM certificate in it", ca);
		ERR_clear_error();
		SSL_CTX_free(ctx);
		return NULL;
	}
	X509_free(x);
	what = ca;
	if (SSL_CTX_load_verify_locations(ctx, ca, NULL) != 1)
		goto out_ctx;
	what = cert;
	if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1)
		goto out_ctx;
	what = key;
	if (SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1 ||
	    SSL_CTX_check_private_key(ctx) != 1)
		goto out_ctx;
	return ctx;
out_ctx:
	snprintf(err, errlen, "%s: %s", what, ctl_tls_reason(NULL, why, sizeof(why)));
	SSL_CTX_free(ctx);
	return NULL;
}

enum ctl_role
ctl_tls_peer_role(SSL *ssl, char *cn, size_t cnlen)
{
	X509 *peer;
	int n;

	cn[0] = '\0';
	if (SSL_get_verify_result(ssl) != X509_V_OK)
		return CTL_ROLE_OTHER;
	peer = SSL_get1_peer_certificate(ssl);
	if (peer == NULL)
		return CTL_ROLE_OTHER;
	n = X509_NAME_get_text_by_NID(X509_get_subject_name(peer), NID_commonName, cn, (int)cnlen);
	X509_free(peer);
	if (n <= 0 || (size_t)n >= cnlen || strlen(cn) != (size_t)n) {
		cn[0] = '\0';
		return CTL_ROLE_OTHER;
	}
	if (strcmp(cn, "admin") == 0)
		return CTL_ROLE_ADMIN;
	if (strcmp(cn, "server") == 0)
		return CTL_ROLE_SERVER;
	if (strcmp(cn, "agent") == 0)
		return CTL_ROLE_AGENT;
	return CTL_ROLE_OTHER;
}

const char *
ctl_role_name(enum ctl_role role)
{
	switch (role) {
	case CTL_ROLE_PLAIN:
		return "plain";
	case CTL_ROLE_ADMIN:
		return "admin";
	case CTL_ROLE_SERVER:
		return "server";
	case CTL_ROLE_AGENT:
		return "agent";
	default:
		return "unknown";
	}
}

/* What daos_agent and clients need: reads, attach info, and the credential-checked calls. */
static bool
agent_allows(uint32_t method)
{
	switch (method) {
	case DSS_CTL_PING:
	case DSS_CTL_TELEMETRY:
	case DSS_CTL_GET_ATTACH_INFO:
	case DSS_CTL_SYSTEM_QUERY:
	case DSS_CTL_LEADER_QUERY:
	case DSS_CTL_POOL_LIST:
	case DSS_CTL_POOL_QUERY:
	case DSS_CTL_POOL_GET_PROP:
	case DSS_CTL_POOL_GET_ACL:
	case DSS_CTL_POOL_LIST_CONT:
	case DSS_CTL_STORAGE_QUERY_USAGE:
		return true;
	default:
		/* pool handles and containers: each request carries a signed credential */
		return method >= DSS_CTL_POOL_CONNECT && method <= DSS_CTL_CONT_ALLOC_OIDS;
	}
}

bool
ctl_role_allows(enum ctl_role role, uint32_t method)
{
	switch (role) {
	case CTL_ROLE_PLAIN:
	case CTL_ROLE_ADMIN:
	case CTL_ROLE_SERVER:
		return true;
	case CTL_ROLE_AGENT:
		return agent_allows(method);
	default:
		return method == DSS_CTL_PING;
	}
}
