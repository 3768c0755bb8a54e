/*
 * ctl_tls.h: TLS 1.3 with mutual certificates on the management port (OpenSSL), shared by
 * the control thread (ctl_srv.c, ctl_call.c: memory BIOs driven by libuv) and the blocking
 * client (ctl_client.c: an SSL on the socket, driven by poll).
 *
 * Trust model (as DAOS's transport_config): one CA signs every certificate; a peer is
 * authenticated by a chain to that CA and identified by its certificate's subject common
 * name, which names its role:
 *   "admin"  dmg: every method;
 *   "server" another server (joins, heartbeats, engine and target control, relayed client
 *            calls): every method;
 *   "agent"  daos_agent: read-only methods (ping, attach info, queries) and the client
 *            methods (pool handles and containers, each checked again by its credential);
 *   other    ping only.
 * Clients verify that the server's certificate is a server's ("server"); servers require a
 * client certificate (no certificate: the handshake fails).
 *
 * Invariant: with TLS configured nothing is read or written in plain text: a connection is
 * open for frames only once its handshake finished and its peer's role is known.
 */
#ifndef CTL_TLS_H
#define CTL_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/ssl.h>

/* The role a certificate gives its holder. CTL_ROLE_PLAIN: no TLS (insecure mode). */
enum ctl_role {
	CTL_ROLE_PLAIN = 0,
	CTL_ROLE_ADMIN,
	CTL_ROLE_SERVER,
	CTL_ROLE_AGENT,
	CTL_ROLE_OTHER,
};

/* A handshake that has not finished this long after the connection opened is dropped. */
#define CTL_TLS_HANDSHAKE_MS 10000

/*
 * An SSL_CTX for both sides (TLS 1.3 only) holding @cert/@key and trusting @ca (PEM paths),
 * that requires a peer certificate; the caller frees it with SSL_CTX_free. On failure a
 * message naming the file and OpenSSL's reason is written to @err (@errlen bytes) and NULL
 * returned. Context: any thread; reads the files.
 */
SSL_CTX *ctl_tls_ctx_create(const char *ca, const char *cert, const char *key, char *err,
			    size_t errlen);

/*
 * The role of @ssl's verified peer (after the handshake); its common name into @cn (""
 * when unreadable or too long). Context: the thread using @ssl.
 */
enum ctl_role ctl_tls_peer_role(SSL *ssl, char *cn, size_t cnlen);

/* Name of @role ("admin", ...), static. Context: any thread. */
const char *ctl_role_name(enum ctl_role role);

/* May a peer of @role call @method? (CTL_ROLE_PLAIN: everything.) Context: any thread. */
bool ctl_role_allows(enum ctl_role role, uint32_t method);

/*
 * OpenSSL's reason for the last failure on this thread (the error queue, emptied), or for
 * @ssl's verification (@ssl may be NULL), into @buf of @len bytes. Returns @buf.
 * Context: the thread that saw the failure.
 */
const char *ctl_tls_reason(SSL *ssl, char *buf, size_t len);

#endif /* CTL_TLS_H */
