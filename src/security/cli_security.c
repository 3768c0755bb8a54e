/*
 * cli_security.c: the client half of the daos_agent socket (daos/security.h): one call is
 * a connect to the agent's Unix SOCK_SEQPACKET socket, one agent.Request packet out, one
 * agent.Response packet back. The agent learns who calls from the socket itself
 * (SO_PEERCRED), so requests carry no identity. Used by libdaos (pool connect needs a
 * credential, attach needs the system's addresses).
 */
#define D_LOGFAC security

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include <gurt/common.h>
#include <daos/security.h>

#include "sec_internal.h"
#include "mgmt/svc.pb-c.h"
#include "security/agent.pb-c.h"

/* The agent answers at once, or after asking an access point (its own timeout is 10 s). */
#define AGENT_CALL_TIMEOUT_S 30

static int
sock_path_get(const char *sock_path, struct sockaddr_un *sun)
{
	const char *dir;
	int n;

	memset(sun, 0, sizeof(*sun));
	sun->sun_family = AF_UNIX;
	if (sock_path != NULL) {
		n = snprintf(sun->sun_path, sizeof(sun->sun_path), "%s", sock_path);
	} else {
		dir = getenv(DC_AGENT_DIR_ENV);
		if (dir == NULL || dir[0] == '\0')
			dir = DC_AGENT_DIR_DEFAULT;
		n = snprintf(sun->sun_path, sizeof(sun->sun_path), "%s/%s", dir,
			     DC_AGENT_SOCK_NAME);
	}
	if (n <= 0 || (size_t)n >= sizeof(sun->sun_path))
		return -DER_EXCEEDS_PATH_LEN;
	return 0;
}

static int
sock_errno(int err)
{
	return (err == EAGAIN || err == EWOULDBLOCK) ? -DER_TIMEDOUT : d_errno2der(err);
}

int
dc_agent_call(const char *sock_path, uint32_t method, const void *body, size_t len, void **reply,
	      size_t *reply_len)
{
	Agent__Request req = AGENT__REQUEST__INIT;
	Agent__Response *resp = NULL;
	struct timeval tv = {AGENT_CALL_TIMEOUT_S, 0};
	struct sockaddr_un sun;
	uint8_t *out = NULL;
	uint8_t *in = NULL;
	size_t out_len;
	ssize_t n;
	int fd;
	int rc;

	if ((body == NULL && len > 0) || len > DC_AGENT_MSG_MAX / 2 || reply == NULL ||
	    reply_len == NULL)
		return -DER_INVAL;
	rc = sock_path_get(sock_path, &sun);
	if (rc != 0)
		return rc;

	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return d_errno2der(errno);
	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) != 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) != 0) {
		rc = d_errno2der(errno);
		goto out_close;
	}
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) != 0) {
		rc = sock_errno(errno);
		D_ERROR("cannot reach the agent at %s: " DF_RC "\n", sun.sun_path, DP_RC(rc));
		goto out_close;
	}

	req.method = method;
	req.body.data = (uint8_t *)body;
	req.body.len = len;
	out_len = agent__request__get_packed_size(&req);
	D_ALLOC_NZ(out, out_len);
	D_ALLOC_NZ(in, DC_AGENT_MSG_MAX);
	if (out == NULL || in == NULL) {
		rc = -DER_NOMEM;
		goto out_free;
	}
	agent__request__pack(&req, out);
	n = send(fd, out, out_len, MSG_NOSIGNAL);
	if (n != (ssize_t)out_len) {
		rc = n < 0 ? sock_errno(errno) : -DER_PROTO;
		goto out_free;
	}
	n = recv(fd, in, DC_AGENT_MSG_MAX, MSG_TRUNC);
	if (n < 0) {
		rc = sock_errno(errno);
		goto out_free;
	}
	if (n == 0 || n > (ssize_t)DC_AGENT_MSG_MAX) {
		/* Closed without an answer, or a packet larger than any answer. */
		rc = n == 0 ? -DER_NOREPLY : -DER_PROTO;
		goto out_free;
	}
	resp = agent__response__unpack(NULL, (size_t)n, in);
	if (resp == NULL) {
		rc = -DER_PROTO;
		goto out_free;
	}
	rc = resp->status;
	if (rc > 0)
		rc = -DER_PROTO;
	if (rc == 0) {
		*reply_len = resp->body.len;
		*reply = NULL;
		if (resp->body.len > 0) {
			D_ALLOC_NZ(*reply, resp->body.len);
			if (*reply == NULL)
				rc = -DER_NOMEM;
			else
				memcpy(*reply, resp->body.data, resp->body.len);
		}
	}
	agent__response__free_unpacked(resp, NULL);
out_free:
	D_FREE(in);
	D_FREE(out);
out_close:
	close(fd);
	return rc;
}

int
dc_sec_request_creds(d_iov_t *creds)
{
	void *buf = NULL;
	size_t len = 0;
	int rc;

	if (creds == NULL)
		return -DER_INVAL;
	rc = dc_agent_call(NULL, DC_AGENT_REQUEST_CREDS, NULL, 0, &buf, &len);
	if (rc != 0)
		return rc;
	if (len == 0) {
		D_FREE(buf);
		return -DER_PROTO;
	}
	d_iov_set(creds, buf, len);
	return 0;
}

void
dc_attach_info_free(struct dc_attach_info *info)
{
	size_t i;

	if (info == NULL)
		return;
	D_FREE(info->ai_sys);
	D_FREE(info->ai_provider);
	D_FREE(info->ai_interface);
	D_FREE(info->ai_domain);
	D_FREE(info->ai_ms_ranks);
	for (i = 0; i < info->ai_nr_rank_uris; i++)
		D_FREE(info->ai_rank_uris[i].ru_uri);
	D_FREE(info->ai_rank_uris);
	for (i = 0; i < info->ai_nr_access_points; i++)
		D_FREE(info->ai_access_points[i]);
	D_FREE(info->ai_access_points);
	D_FREE(info);
}

static int
str_copy(const char *s, char **out)
{
	return D_STRNDUP(*out, s != NULL ? s : "", 4096) == NULL ? -DER_NOMEM : 0;
}

static int
attach_info_convert(const Mgmt__GetAttachInfoResp *r, struct dc_attach_info **out)
{
	struct dc_attach_info *info;
	size_t i;
	int rc;

	D_ALLOC_PTR(info);
	if (info == NULL)
		return -DER_NOMEM;
	rc = str_copy(r->sys, &info->ai_sys);
	if (rc == 0)
		rc = str_copy(r->client_net_hint ? r->client_net_hint->provider : NULL,
			      &info->ai_provider);
	if (rc == 0)
		rc = str_copy(r->client_net_hint ? r->client_net_hint->interface : NULL,
			      &info->ai_interface);
	if (rc == 0)
		rc = str_copy(r->client_net_hint ? r->client_net_hint->domain : NULL,
			      &info->ai_domain);
	if (rc != 0)
		goto err;
	if (r->n_ms_ranks > 0) {
		D_ALLOC_ARRAY(info->ai_ms_ranks, r->n_ms_ranks);
		if (info->ai_ms_ranks == NULL)
			goto err_nomem;
		memcpy(info->ai_ms_ranks, r->ms_ranks, r->n_ms_ranks * sizeof(*r->ms_ranks));
		info->ai_nr_ms_ranks = r->n_ms_ranks;
	}
	if (r->n_rank_uris > 0) {
		D_ALLOC_ARRAY(info->ai_rank_uris, r->n_rank_uris);
		if (info->ai_rank_uris == NULL)
			goto err_nomem;
		for (i = 0; i < r->n_rank_uris; i++) {
			if (r->rank_uris[i] == NULL) {
				rc = -DER_PROTO;
				goto err;
			}
			info->ai_rank_uris[i].ru_rank = r->rank_uris[i]->rank;
			info->ai_rank_uris[i].ru_nr_ctxs = r->rank_uris[i]->nr_ctxs;
			info->ai_nr_rank_uris++;
			rc = str_copy(r->rank_uris[i]->uri, &info->ai_rank_uris[i].ru_uri);
			if (rc != 0)
				goto err;
		}
	}
	if (r->n_access_points > 0) {
		D_ALLOC_ARRAY(info->ai_access_points, r->n_access_points);
		if (info->ai_access_points == NULL)
			goto err_nomem;
		for (i = 0; i < r->n_access_points; i++) {
			info->ai_nr_access_points++;
			rc = str_copy(r->access_points[i], &info->ai_access_points[i]);
			if (rc != 0)
				goto err;
		}
	}
	*out = info;
	return 0;
err_nomem:
	rc = -DER_NOMEM;
err:
	dc_attach_info_free(info);
	return rc;
}

int
dc_agent_attach_info(const char *sys, struct dc_attach_info **info)
{
	Mgmt__GetAttachInfoReq req = MGMT__GET_ATTACH_INFO_REQ__INIT;
	Mgmt__GetAttachInfoResp *resp;
	uint8_t buf[512];
	void *reply = NULL;
	size_t reply_len = 0;
	size_t len;
	int rc;

	if (info == NULL || (sys != NULL && strnlen(sys, 256) > 255))
		return -DER_INVAL;
	req.sys = (char *)(sys != NULL ? sys : "");
	req.all_ranks = true;
	len = mgmt__get_attach_info_req__pack(&req, buf);
	rc = dc_agent_call(NULL, DC_AGENT_GET_ATTACH_INFO, buf, len, &reply, &reply_len);
	if (rc != 0)
		return rc;
	resp = mgmt__get_attach_info_resp__unpack(NULL, reply_len, reply);
	D_FREE(reply);
	if (resp == NULL)
		return -DER_PROTO;
	rc = resp->status;
	if (rc == 0)
		rc = attach_info_convert(resp, info);
	mgmt__get_attach_info_resp__free_unpacked(resp, NULL);
	return rc;
}
