/*
 * ctl_client.c: a blocking client of the management port for tools without a control
 * thread (dmg, daos_ctl_ping, scripts): one TCP connection, non-blocking sockets driven by
 * poll(2) so that every step honours the call's deadline. Uses the wire format of
 * ctl_frame.c only; no libuv. With TLS configured for the process (dss_ctl_client_tls_set,
 * or the DAOS_CTL_CA_CERT / DAOS_CTL_CERT / DAOS_CTL_KEY environment variables) every
 * connection is TLS 1.3 with this process's certificate, and the server must present a
 * server certificate from the same CA (ctl_tls.h).
 */
#define D_LOGFAC ctl

#include <errno.h>
#include <inttypes.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gurt/common.h>
#include <daos_srv/ctl.h>

#include <openssl/err.h>

#include "ctl_frame.h"
#include "ctl_tls.h"

D_LOG_FAC_DECLARE(ctl);

/* The process's TLS context (NULL: plain), set once before the clients are used. */
static pthread_mutex_t cli_tls_lock = PTHREAD_MUTEX_INITIALIZER;
static SSL_CTX *cli_tls_ctx;
static bool cli_tls_decided;
/* Why the last connection or call of this thread failed at the TLS level ("": it did not). */
static __thread char cli_tls_err[512];

int
dss_ctl_client_tls_set(const char *ca, const char *cert, const char *key, char *err, size_t errlen)
{
	SSL_CTX *ctx = NULL;
	char buf[320];

	if (ca != NULL || cert != NULL || key != NULL) {
		ctx = ctl_tls_ctx_create(ca, cert, key, buf, sizeof(buf));
		if (ctx == NULL) {
			if (err != NULL && errlen > 0)
				snprintf(err, errlen, "%s", buf);
			return -DER_INVAL;
		}
	}
	pthread_mutex_lock(&cli_tls_lock);
	SSL_CTX_free(cli_tls_ctx);
	cli_tls_ctx = ctx;
	cli_tls_decided = true;
	pthread_mutex_unlock(&cli_tls_lock);
	return 0;
}

const char *
dss_ctl_client_tls_error(void)
{
	return cli_tls_err;
}

/* The context to use (a reference), from the environment if the program set none. */
static int
cli_tls_get(SSL_CTX **ctxp)
{
	const char *ca;
	const char *cert;
	const char *key;
	int rc = 0;

	pthread_mutex_lock(&cli_tls_lock);
	if (!cli_tls_decided) {
		ca = getenv("DAOS_CTL_CA_CERT");
		cert = getenv("DAOS_CTL_CERT");
		key = getenv("DAOS_CTL_KEY");
		if (ca != NULL || cert != NULL || key != NULL) {
			cli_tls_ctx =
			    ctl_tls_ctx_create(ca, cert, key, cli_tls_err, sizeof(cli_tls_err));
			if (cli_tls_ctx == NULL) {
				D_ERROR("ctl: TLS from DAOS_CTL_*: %s\n", cli_tls_err);
				rc = -DER_INVAL;
			}
		}
		cli_tls_decided = rc == 0;
	}
	*ctxp = cli_tls_ctx;
	if (cli_tls_ctx != NULL)
		SSL_CTX_up_ref(cli_tls_ctx);
	pthread_mutex_unlock(&cli_tls_lock);
	return rc;
}

struct dss_ctl_client {
	int cli_fd;       /* -1: not connected (next call connects) */
	SSL_CTX *cli_ctx; /* NULL: plain TCP */
	SSL *cli_ssl;     /* while connected with TLS */
	uint64_t cli_seq;
	char cli_addr[DSS_CTL_ADDR_LEN];
};

/* Milliseconds left until @deadline (d_now_ns clock), at least 0. */
static int
cli_ms_left(uint64_t deadline)
{
	uint64_t now = d_now_ns();

	if (now >= deadline)
		return 0;
	return (int)((deadline - now + D_NSEC_PER_MSEC - 1) / D_NSEC_PER_MSEC);
}

/* Wait for @events on @fd until @deadline. 0, or -DER_TIMEDOUT. */
static int
cli_wait(int fd, short events, uint64_t deadline)
{
	struct pollfd pfd = {.fd = fd, .events = events};
	int n;

	do {
		n = poll(&pfd, 1, cli_ms_left(deadline));
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return d_errno2der(errno);
	return n == 0 ? -DER_TIMEDOUT : 0;
}

static void
cli_disconnect(struct dss_ctl_client *cli)
{
	if (cli->cli_ssl != NULL) {
		SSL_free(cli->cli_ssl);
		cli->cli_ssl = NULL;
	}
	if (cli->cli_fd >= 0) {
		close(cli->cli_fd);
		cli->cli_fd = -1;
	}
}

/* Connect @fd to @sa before @deadline: 0, -DER_UNREACH or -DER_TIMEDOUT. */
static int
cli_connect_one(int fd, const struct sockaddr *sa, socklen_t salen, uint64_t deadline)
{
	socklen_t len = sizeof(int);
	int err = 0;
	int rc;

	if (connect(fd, sa, salen) == 0)
		return 0;
	if (errno != EINPROGRESS)
		return -DER_UNREACH;
	rc = cli_wait(fd, POLLOUT, deadline);
	if (rc != 0)
		return rc;
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0 || err != 0)
		return -DER_UNREACH;
	return 0;
}

/*
 * After an SSL call returned @n: wait for what it wants (0: go on), or the error: -DER_NO_PERM
 * when the TLS exchange itself failed (a certificate refused, not TLS), with the reason in
 * cli_tls_err, else -DER_UNREACH (closed) or -DER_TIMEDOUT.
 */
static int
cli_ssl_wait(struct dss_ctl_client *cli, int n, uint64_t deadline)
{
	char why[256];
	int e = SSL_get_error(cli->cli_ssl, n);
	bool eof;

	if (e == SSL_ERROR_WANT_READ)
		return cli_wait(cli->cli_fd, POLLIN, deadline);
	if (e == SSL_ERROR_WANT_WRITE)
		return cli_wait(cli->cli_fd, POLLOUT, deadline);
	/* OpenSSL 3 reports a close without close_notify as a protocol error */
	eof = e == SSL_ERROR_SYSCALL || e == SSL_ERROR_ZERO_RETURN ||
	      (e == SSL_ERROR_SSL &&
	       ERR_GET_REASON(ERR_peek_error()) == SSL_R_UNEXPECTED_EOF_WHILE_READING);
	ctl_tls_reason(cli->cli_ssl, why, sizeof(why));
	if (eof && !SSL_is_init_finished(cli->cli_ssl)) {
		snprintf(cli_tls_err, sizeof(cli_tls_err),
			 "TLS with %s: the server closed the connection during the handshake "
			 "(does it use TLS?)",
			 cli->cli_addr);
		D_DEBUG("ctl: %s\n", cli_tls_err);
		return -DER_UNREACH;
	}
	if (eof)
		return -DER_UNREACH;
	if (e == SSL_ERROR_SSL) {
		snprintf(cli_tls_err, sizeof(cli_tls_err), "TLS with %s: %s", cli->cli_addr, why);
		D_DEBUG("ctl: %s\n", cli_tls_err);
		return -DER_NO_PERM;
	}
	return -DER_UNREACH;
}

/* The TLS handshake on the connected socket, then the server's role checked. */
static int
cli_handshake(struct dss_ctl_client *cli, uint64_t deadline)
{
	enum ctl_role role;
	char cn[128];
	int n;
	int rc;

	cli->cli_ssl = SSL_new(cli->cli_ctx);
	if (cli->cli_ssl == NULL || SSL_set_fd(cli->cli_ssl, cli->cli_fd) != 1)
		return -DER_NOMEM;
	SSL_set_connect_state(cli->cli_ssl);
	for (;;) {
		n = SSL_do_handshake(cli->cli_ssl);
		if (n == 1)
			break;
		rc = cli_ssl_wait(cli, n, deadline);
		if (rc != 0)
			return rc;
	}
	role = ctl_tls_peer_role(cli->cli_ssl, cn, sizeof(cn));
	if (role != CTL_ROLE_SERVER) {
		snprintf(cli_tls_err, sizeof(cli_tls_err),
			 "TLS with %s: its certificate names '%s', not a server", cli->cli_addr,
			 cn);
		D_DEBUG("ctl: %s\n", cli_tls_err);
		return -DER_NO_PERM;
	}
	return 0;
}

static int
cli_connect_tcp(struct dss_ctl_client *cli, uint64_t deadline)
{
	struct addrinfo hints = {0};
	struct addrinfo *res = NULL;
	struct addrinfo *ai;
	struct sockaddr_storage ss;
	char host[DSS_CTL_ADDR_LEN];
	char portstr[8];
	uint16_t port;
	int one = 1;
	int fd = -1;
	int rc;

	rc = ctl_addr_split(cli->cli_addr, host, sizeof(host), &port);
	if (rc != 0 || host[0] == '\0' || port == 0)
		return -DER_INVAL;
	rc = ctl_addr_numeric(host, port, &ss);
	if (rc == 0) {
		fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (fd < 0)
			return d_errno2der(errno);
		rc = cli_connect_one(fd, (struct sockaddr *)&ss,
				     ss.ss_family == AF_INET ? sizeof(struct sockaddr_in)
							     : sizeof(struct sockaddr_in6),
				     deadline);
	} else {
		hints.ai_family = AF_UNSPEC;
		hints.ai_socktype = SOCK_STREAM;
		hints.ai_flags = AI_NUMERICSERV;
		snprintf(portstr, sizeof(portstr), "%u", port);
		rc = getaddrinfo(host, portstr, &hints, &res);
		if (rc != 0) {
			D_DEBUG("ctl: cannot resolve %s: %s\n", host, gai_strerror(rc));
			return -DER_UNREACH;
		}
		rc = -DER_UNREACH;
		for (ai = res; ai != NULL && rc != 0 && rc != -DER_TIMEDOUT; ai = ai->ai_next) {
			if (fd >= 0)
				close(fd);
			fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
			if (fd < 0) {
				rc = d_errno2der(errno);
				continue;
			}
			rc = cli_connect_one(fd, ai->ai_addr, ai->ai_addrlen, deadline);
		}
		freeaddrinfo(res);
	}
	if (rc != 0) {
		if (fd >= 0)
			close(fd);
		/* no answer in time is as unreachable as a refusal */
		return rc == -DER_TIMEDOUT ? -DER_UNREACH : rc;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	cli->cli_fd = fd;
	return 0;
}

static int
cli_connect(struct dss_ctl_client *cli, uint64_t deadline)
{
	int rc;

	cli_tls_err[0] = '\0';
	rc = cli_connect_tcp(cli, deadline);
	if (rc != 0 || cli->cli_ctx == NULL)
		return rc;
	rc = cli_handshake(cli, deadline);
	if (rc != 0)
		cli_disconnect(cli);
	return rc;
}

static int
cli_send_all(struct dss_ctl_client *cli, const char *buf, size_t len, uint64_t deadline)
{
	ssize_t n;
	int rc;

	while (len > 0 && cli->cli_ssl != NULL) {
		ERR_clear_error();
		n = SSL_write(cli->cli_ssl, buf, (int)(len > INT32_MAX ? INT32_MAX : len));
		if (n > 0) {
			buf += n;
			len -= (size_t)n;
			continue;
		}
		rc = cli_ssl_wait(cli, (int)n, deadline);
		if (rc != 0)
			return rc;
	}
	while (len > 0) {
		n = send(cli->cli_fd, buf, len, MSG_NOSIGNAL);
		if (n > 0) {
			buf += n;
			len -= (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			rc = cli_wait(cli->cli_fd, POLLOUT, deadline);
			if (rc != 0)
				return rc;
			continue;
		}
		return -DER_UNREACH;
	}
	return 0;
}

static int
cli_recv_all(struct dss_ctl_client *cli, char *buf, size_t len, uint64_t deadline)
{
	ssize_t n;
	int rc;

	while (len > 0 && cli->cli_ssl != NULL) {
		ERR_clear_error();
		n = SSL_read(cli->cli_ssl, buf, (int)(len > INT32_MAX ? INT32_MAX : len));
		if (n > 0) {
			buf += n;
			len -= (size_t)n;
			continue;
		}
		rc = cli_ssl_wait(cli, (int)n, deadline);
		if (rc != 0)
			return rc;
	}
	while (len > 0) {
		n = recv(cli->cli_fd, buf, len, 0);
		if (n > 0) {
			buf += n;
			len -= (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			rc = cli_wait(cli->cli_fd, POLLIN, deadline);
			if (rc != 0)
				return rc;
			continue;
		}
		return -DER_UNREACH; /* closed by the peer, or reset */
	}
	return 0;
}

int
dss_ctl_client_open(const char *addr, uint64_t timeout_ms, struct dss_ctl_client **clip)
{
	struct dss_ctl_client *cli;
	uint64_t deadline;
	int rc;

	if (addr == NULL || strlen(addr) >= DSS_CTL_ADDR_LEN)
		return -DER_INVAL;
	D_ALLOC_PTR(cli);
	if (cli == NULL)
		return -DER_NOMEM;
	cli->cli_fd = -1;
	strcpy(cli->cli_addr, addr);
	rc = cli_tls_get(&cli->cli_ctx);
	if (rc != 0) {
		D_FREE(cli);
		return rc;
	}
	deadline = d_now_ns() + (timeout_ms ?: DSS_CTL_CALL_TIMEOUT_DEFAULT_MS) * D_NSEC_PER_MSEC;
	rc = cli_connect(cli, deadline);
	if (rc != 0) {
		SSL_CTX_free(cli->cli_ctx);
		D_FREE(cli);
		return rc;
	}
	*clip = cli;
	return 0;
}

void
dss_ctl_client_close(struct dss_ctl_client *cli)
{
	if (cli == NULL)
		return;
	cli_disconnect(cli);
	SSL_CTX_free(cli->cli_ctx);
	D_FREE(cli);
}

/*
 * Is @hdr (possibly cut short by the close that follows) a TLS record, an alert or a
 * handshake, answering our plain frame? Then say so in cli_tls_err.
 */
static bool
cli_tls_answer(struct dss_ctl_client *cli, const struct ctl_hdr_df *hdr)
{
	const uint8_t *b = (const uint8_t *)hdr;

	if (cli->cli_ssl != NULL || b[1] != 0x03 || (b[0] != 0x15 && b[0] != 0x16))
		return false;
	snprintf(cli_tls_err, sizeof(cli_tls_err),
		 "%s speaks TLS: this client has no certificate configured "
		 "(transport_config.allow_insecure is true, or -i)",
		 cli->cli_addr);
	D_DEBUG("ctl: %s\n", cli_tls_err);
	return true;
}

/* Read frames until the reply to @seq: its status, and its body detached into *@reply. */
static int
cli_recv_reply(struct dss_ctl_client *cli, uint64_t seq, uint64_t deadline, void **reply,
	       size_t *reply_len)
{
	struct ctl_hdr_df hdr;
	Ctl__Envelope *msg;
	struct ctl_env env;
	uint32_t len;
	char *buf;
	int rc;

	for (;;) {
		memset(&hdr, 0, sizeof(hdr));
		rc = cli_recv_all(cli, (char *)&hdr, sizeof(hdr), deadline);
		if (rc == -DER_UNREACH && cli_tls_answer(cli, &hdr))
			return -DER_NO_PERM;
		if (rc != 0)
			return rc;
		rc = ctl_hdr_decode(&hdr, DSS_CTL_FRAME_MAX_LIMIT, &len);
		if (rc != 0 && cli_tls_answer(cli, &hdr))
			return -DER_NO_PERM;
		if (rc != 0) {
			D_ERROR("ctl: bad frame header from %s\n", cli->cli_addr);
			return -DER_PROTO;
		}
		D_ALLOC_NZ(buf, len == 0 ? 1 : len);
		if (buf == NULL)
			return -DER_NOMEM;
		rc = cli_recv_all(cli, buf, len, deadline);
		if (rc == 0) {
			rc = ctl_env_decode(buf, len, &env, &msg);
			if (rc == -DER_PROTO)
				D_ERROR("ctl: undecodable frame from %s\n", cli->cli_addr);
		}
		D_FREE(buf);
		if (rc != 0)
			return rc;
		if (env.ce_kind == CTL__KIND__KIND_REPLY && env.ce_seq == seq) {
			if (reply != NULL)
				ctl_env_body_detach(msg, reply, reply_len);
			else if (reply_len != NULL)
				*reply_len = msg->body.len;
			ctl_env_free(msg);
			return env.ce_status;
		}
		/* the late reply of a call that timed out, or a request we do not serve */
		D_DEBUG("ctl: dropping frame %" PRIu64 " from %s\n", env.ce_seq, cli->cli_addr);
		ctl_env_free(msg);
	}
}

int
dss_ctl_client_call(struct dss_ctl_client *cli, uint32_t method, const void *body, size_t len,
		    uint64_t timeout_ms, void **reply, size_t *reply_len)
{
	struct ctl_env env = {CTL__KIND__KIND_REQUEST, method, 0, 0};
	uint64_t deadline;
	size_t flen;
	char *frame;
	int rc;

	if (reply != NULL)
		*reply = NULL;
	if (reply_len != NULL)
		*reply_len = 0;
	if (method == 0)
		return -DER_INVAL;
	deadline = d_now_ns() + (timeout_ms ?: DSS_CTL_CALL_TIMEOUT_DEFAULT_MS) * D_NSEC_PER_MSEC;
	cli_tls_err[0] = '\0';
	if (cli->cli_fd < 0) {
		rc = cli_connect(cli, deadline);
		if (rc != 0)
			return rc;
	}
	env.ce_seq = ++cli->cli_seq;
	rc = ctl_frame_encode(&env, body, len, NULL, 0, DSS_CTL_FRAME_MAX_LIMIT, &frame, &flen);
	if (rc != 0)
		return rc;
	rc = cli_send_all(cli, frame, flen, deadline);
	D_FREE(frame);
	if (rc == 0)
		rc = cli_recv_reply(cli, env.ce_seq, deadline, reply, reply_len);
	/*
	 * After a timeout the stream may stop mid-frame, after garbage nothing can be trusted:
	 * start afresh on the next call. Remote statuses leave the connection as it is.
	 */
	if (rc == -DER_TIMEDOUT || rc == -DER_UNREACH || rc == -DER_PROTO || rc == -DER_NOMEM ||
	    (rc == -DER_NO_PERM && cli_tls_err[0] != '\0'))
		cli_disconnect(cli);
	return rc;
}
