/*
 * ctl_client.c: a blocking client of the management port for tools without a control
 * thread (dmg, daos_ctl_ping, scripts): one TCP connection, non-blocking sockets driven by
 * poll(2) so that every step honours the call's deadline. Uses the wire format of
 * ctl_frame.c only; no libuv.
 */
#define D_LOGFAC ctl

#include <errno.h>
#include <inttypes.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gurt/common.h>
#include <daos_srv/ctl.h>

#include "ctl_frame.h"

D_LOG_FAC_DECLARE(ctl);

struct dss_ctl_client {
	int cli_fd; /* -1: not connected (next call connects) */
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

static int
cli_connect(struct dss_ctl_client *cli, uint64_t deadline)
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
cli_send_all(struct dss_ctl_client *cli, const char *buf, size_t len, uint64_t deadline)
{
	ssize_t n;
	int rc;

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
	deadline = d_now_ns() + (timeout_ms ?: DSS_CTL_CALL_TIMEOUT_DEFAULT_MS) * D_NSEC_PER_MSEC;
	rc = cli_connect(cli, deadline);
	if (rc != 0) {
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
	D_FREE(cli);
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
		rc = cli_recv_all(cli, (char *)&hdr, sizeof(hdr), deadline);
		if (rc != 0)
			return rc;
		rc = ctl_hdr_decode(&hdr, DSS_CTL_FRAME_MAX_LIMIT, &len);
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
	if (rc == -DER_TIMEDOUT || rc == -DER_UNREACH || rc == -DER_PROTO || rc == -DER_NOMEM)
		cli_disconnect(cli);
	return rc;
}
