/*
 * dmg_call.c: dmg's calls on the management port, over the blocking client of
 * daos_srv/ctl.h (dss_ctl_client_*). A call to the management service goes to the first host
 * of the host list that answers; a replica that is not the leader answers -DER_NOTLEADER
 * with a mgmt.LeaderHint, and the call follows the hint (at most DMG_LEADER_HOPS_MAX times),
 * or, while no leader is known, tries the replicas again after a pause until its deadline.
 * A server that does not serve the method (-DER_UNREG) gives a "not implemented by this
 * server" error. Each reply message is unpacked, and a non-zero `status` field in it is the
 * call's outcome like the envelope's status.
 */
#include <string.h>
#include <time.h>

#include <gurt/common.h>
#include <daos_srv/ctl.h>

#include "dmg_internal.h"
#include "ctl/envelope.pb-c.h"
#include "mgmt/svc.pb-c.h"

/* The ids dmg uses are the wire registry's (src/proto/ctl/envelope.proto). */
#define DMG_ID_CHECK(d, w) _Static_assert((int)(d) == (int)(w), #d)
DMG_ID_CHECK(DSS_CTL_SYSTEM_STOP, CTL__METHOD__METHOD_SYSTEM_STOP);
DMG_ID_CHECK(DSS_CTL_SYSTEM_START, CTL__METHOD__METHOD_SYSTEM_START);
DMG_ID_CHECK(DSS_CTL_SYSTEM_EXCLUDE, CTL__METHOD__METHOD_SYSTEM_EXCLUDE);
DMG_ID_CHECK(DSS_CTL_LEADER_QUERY, CTL__METHOD__METHOD_LEADER_QUERY);
DMG_ID_CHECK(DSS_CTL_JOIN, CTL__METHOD__METHOD_JOIN);
DMG_ID_CHECK(DSS_CTL_HEARTBEAT, CTL__METHOD__METHOD_HEARTBEAT);
DMG_ID_CHECK(DSS_CTL_POOL_CREATE, CTL__METHOD__METHOD_POOL_CREATE);
DMG_ID_CHECK(DSS_CTL_POOL_DESTROY, CTL__METHOD__METHOD_POOL_DESTROY);
DMG_ID_CHECK(DSS_CTL_POOL_LIST, CTL__METHOD__METHOD_POOL_LIST);
DMG_ID_CHECK(DSS_CTL_POOL_QUERY, CTL__METHOD__METHOD_POOL_QUERY);
DMG_ID_CHECK(DSS_CTL_POOL_GET_PROP, CTL__METHOD__METHOD_POOL_GET_PROP);
DMG_ID_CHECK(DSS_CTL_POOL_SET_PROP, CTL__METHOD__METHOD_POOL_SET_PROP);
DMG_ID_CHECK(DSS_CTL_POOL_GET_ACL, CTL__METHOD__METHOD_POOL_GET_ACL);
DMG_ID_CHECK(DSS_CTL_POOL_UPDATE_ACL, CTL__METHOD__METHOD_POOL_UPDATE_ACL);
DMG_ID_CHECK(DSS_CTL_POOL_DELETE_ACL, CTL__METHOD__METHOD_POOL_DELETE_ACL);
DMG_ID_CHECK(DSS_CTL_POOL_OVERWRITE_ACL, CTL__METHOD__METHOD_POOL_OVERWRITE_ACL);
DMG_ID_CHECK(DSS_CTL_POOL_LIST_CONT, CTL__METHOD__METHOD_POOL_LIST_CONT);
DMG_ID_CHECK(DSS_CTL_POOL_EVICT, CTL__METHOD__METHOD_POOL_EVICT);
DMG_ID_CHECK(DSS_CTL_POOL_EXCLUDE, CTL__METHOD__METHOD_POOL_EXCLUDE);
DMG_ID_CHECK(DSS_CTL_POOL_DRAIN, CTL__METHOD__METHOD_POOL_DRAIN);
DMG_ID_CHECK(DSS_CTL_POOL_REINT, CTL__METHOD__METHOD_POOL_REINTEGRATE);
DMG_ID_CHECK(DSS_CTL_STORAGE_FORMAT, CTL__METHOD__METHOD_STORAGE_FORMAT);
DMG_ID_CHECK(DSS_CTL_STORAGE_QUERY_USAGE, CTL__METHOD__METHOD_STORAGE_QUERY_USAGE);

/* While the management service elects a leader: a pause between rounds, and how long. */
#define DMG_ELECTION_PAUSE_MS 250
#define DMG_ELECTION_WAIT_MS 10000

/** The registry's name of @method ("METHOD_POOL_CREATE"), or "method N". */
const char *
dmg_method_name(uint32_t method)
{
	const ProtobufCEnumValue *v =
	    protobuf_c_enum_descriptor_get_value(&ctl__method__descriptor, (int)method);

	return v != NULL ? v->name : "unknown method";
}

static void
sleep_ms(uint64_t ms)
{
	struct timespec ts = {.tv_sec = (time_t)(ms / 1000),
			      .tv_nsec = (long)(ms % 1000) * 1000000};

	nanosleep(&ts, NULL);
}

/* The reply's own `status` field, if it has one. */
static int
resp_status(const ProtobufCMessage *msg)
{
	const ProtobufCFieldDescriptor *fd =
	    protobuf_c_message_descriptor_get_field_by_name(msg->descriptor, "status");

	if (fd == NULL || fd->label == PROTOBUF_C_LABEL_REPEATED ||
	    (fd->type != PROTOBUF_C_TYPE_SINT32 && fd->type != PROTOBUF_C_TYPE_INT32))
		return 0;
	return *(const int32_t *)((const char *)msg + fd->offset);
}

/* One call to @host; on -DER_NOTLEADER the decoded hint in *@hint (caller frees). */
static int
call_once(struct dmg_ctx *ctx, const char *host, uint32_t method, const void *body, size_t len,
	  const ProtobufCMessageDescriptor *desc, ProtobufCMessage **resp, Mgmt__LeaderHint **hint)
{
	struct dss_ctl_client *cli = NULL;
	size_t reply_len = 0;
	void *reply = NULL;
	uint64_t timeout = ctx->dx_timeout_ms;
	uint64_t t0;
	int rc;

	*resp = NULL;
	*hint = NULL;
	rc = dss_ctl_client_open(
	    host, timeout < DMG_CONNECT_TIMEOUT_MS ? timeout : DMG_CONNECT_TIMEOUT_MS, &cli);
	if (rc != 0) {
		if (ctx->dx_opts.o_debug)
			fprintf(ctx->dx_err, "DEBUG: connect %s: %s(%d)\n", host, d_errstr(rc), rc);
		if (dss_ctl_client_tls_error()[0] != '\0')
			return dmg_fail(ctx, rc, "%s", dss_ctl_client_tls_error());
		return dmg_fail(ctx, rc, "cannot reach %s", host);
	}
	t0 = d_now_ns();
	rc = dss_ctl_client_call(cli, method, body, len, timeout, &reply, &reply_len);
	dss_ctl_client_close(cli);
	if (ctx->dx_opts.o_debug)
		fprintf(ctx->dx_err, "DEBUG: %s -> %s: %s(%d), %zu reply bytes, %.3f ms\n",
			dmg_method_name(method), host, rc ? d_errstr(rc) : "ok", rc, reply_len,
			(double)(d_now_ns() - t0) / 1e6);
	if (rc != 0 && dss_ctl_client_tls_error()[0] != '\0') {
		/* the TLS exchange failed: a certificate refused, or TLS on one side only */
		D_FREE(reply);
		return dmg_fail(ctx, rc, "%s", dss_ctl_client_tls_error());
	}
	switch (rc) {
	case 0:
		break;
	case -DER_NO_PERM:
		D_FREE(reply);
		return dmg_fail(ctx, rc,
				"%s refused on %s (with TLS: the certificate's role may not "
				"call it; dmg needs the admin certificate)",
				dmg_method_name(method), host);
	case -DER_UNREG:
		D_FREE(reply);
		return dmg_fail(ctx, rc, "%s is not implemented by this server (%s)",
				dmg_method_name(method), host);
	case -DER_NOTLEADER:
		if (reply != NULL)
			*hint = mgmt__leader_hint__unpack(NULL, reply_len, reply);
		D_FREE(reply);
		return dmg_fail(ctx, rc, "%s is not the management service leader", host);
	case -DER_UNREACH:
	case -DER_TIMEDOUT:
		D_FREE(reply);
		return dmg_fail(ctx, rc, "no answer from %s", host);
	default:
		D_FREE(reply);
		return dmg_fail(ctx, rc, "%s failed on %s", dmg_method_name(method), host);
	}
	*resp = protobuf_c_message_unpack(desc, NULL, reply_len, reply);
	D_FREE(reply);
	if (*resp == NULL)
		return dmg_fail(ctx, -DER_PROTO, "%s: the reply from %s does not decode",
				dmg_method_name(method), host);
	snprintf(ctx->dx_leader, sizeof(ctx->dx_leader), "%s", host);
	rc = resp_status(*resp);
	if (rc != 0) {
		protobuf_c_message_free_unpacked(*resp, NULL);
		*resp = NULL;
		return dmg_fail(ctx, rc, "%s failed on %s", dmg_method_name(method), host);
	}
	return 0;
}

static int
pack(struct dmg_ctx *ctx, const ProtobufCMessage *req, void **buf, size_t *len)
{
	*len = req ? protobuf_c_message_get_packed_size(req) : 0;
	*buf = dmg_alloc(ctx, *len ? *len : 1);
	if (*buf == NULL)
		return dmg_fail(ctx, -DER_NOMEM, "out of memory");
	if (req != NULL)
		protobuf_c_message_pack(req, *buf);
	return 0;
}

/**
 * Call @method on @host only, with @req (borrowed); the unpacked reply in *@resp (caller
 * frees with protobuf_c_message_free_unpacked(resp, NULL)). Returns 0 or -DER_* with the
 * user's message in ctx->dx_err_msg.
 */
int
dmg_call_host(struct dmg_ctx *ctx, const char *host, uint32_t method, const ProtobufCMessage *req,
	      const ProtobufCMessageDescriptor *desc, ProtobufCMessage **resp)
{
	Mgmt__LeaderHint *hint;
	size_t len;
	void *buf;
	int rc;

	rc = pack(ctx, req, &buf, &len);
	if (rc != 0)
		return rc;
	rc = call_once(ctx, host, method, buf, len, desc, resp, &hint);
	if (hint != NULL)
		mgmt__leader_hint__free_unpacked(hint, NULL);
	return rc;
}

/**
 * Call @method on the management service: the hosts of the host list in turn until one
 * answers, following leader hints (at most DMG_LEADER_HOPS_MAX). When every host has been
 * tried and some replica said it knows no leader (an election), start over after a pause,
 * for up to DMG_ELECTION_WAIT_MS; when every host is down, fail at once. Reply and return
 * value as dmg_call_host.
 */
int
dmg_call_ms(struct dmg_ctx *ctx, uint32_t method, const ProtobufCMessage *req,
	    const ProtobufCMessageDescriptor *desc, ProtobufCMessage **resp)
{
	uint64_t deadline = d_now_ns() + ctx->dx_timeout_ms * D_NSEC_PER_MSEC;
	uint64_t election_end = d_now_ns() + DMG_ELECTION_WAIT_MS * D_NSEC_PER_MSEC;
	char target[DSS_CTL_ADDR_LEN];
	Mgmt__LeaderHint *hint = NULL;
	bool electing = false;
	uint32_t next = 0; /* next host of the list to try */
	int hops = 0;
	size_t len;
	void *buf;
	int rc;

	if (election_end > deadline)
		election_end = deadline;
	rc = pack(ctx, req, &buf, &len);
	if (rc != 0)
		return rc;
	snprintf(target, sizeof(target), "%s", ctx->dx_hosts[next++]);
	for (;;) {
		rc = call_once(ctx, target, method, buf, len, desc, resp, &hint);
		if (rc == 0 || (rc != -DER_NOTLEADER && rc != -DER_UNREACH && rc != -DER_TIMEDOUT))
			break;
		if (rc == -DER_NOTLEADER && hint != NULL && hint->leader[0] != '\0' &&
		    strlen(hint->leader) < sizeof(target) && strcmp(hint->leader, target) != 0) {
			/* a replica named the leader: go there */
			if (++hops > DMG_LEADER_HOPS_MAX)
				break;
			snprintf(target, sizeof(target), "%s", hint->leader);
		} else {
			if (rc == -DER_NOTLEADER)
				electing = true;
			if (next >= ctx->dx_nhosts) {
				/* all tried: wait for an election, unless all are down */
				if (!electing ||
				    d_now_ns() + DMG_ELECTION_PAUSE_MS * D_NSEC_PER_MSEC >
					election_end)
					break;
				sleep_ms(DMG_ELECTION_PAUSE_MS);
				next = 0;
				electing = false;
			}
			snprintf(target, sizeof(target), "%s", ctx->dx_hosts[next++]);
		}
		if (hint != NULL)
			mgmt__leader_hint__free_unpacked(hint, NULL);
		hint = NULL;
	}
	if (hint != NULL)
		mgmt__leader_hint__free_unpacked(hint, NULL);
	return rc;
}
