/*
 * svc_call.c: dc_svc_call (daos/svc_rpc.h), libdaos's way to the management service: the
 * packed request goes as SVC_OPC_CALL to the system context of an engine, whose relay
 * (src/engine/srv_relay.c) forwards it to the service leader and answers with the leader's
 * reply. The engines come from the pool map of a connected pool, else from the attach info
 * daos_agent hands out (fetched on the first call without a pool and cached for the life of
 * the process).
 *
 * One call is a private event of the calling thread (daos/event.h): the RPC is sent on the
 * thread's own network context and the thread progresses it until the reply, so the call
 * blocks; the callers that take an event complete it once this returns.
 */
#define D_LOGFAC client

#include <stdlib.h>
#include <string.h>

#include <protobuf-c/protobuf-c.h>

#include <daos.h>
#include <daos/client.h>
#include <daos/event.h>
#include <daos/security.h>
#include <daos/svc_rpc.h>
#include <gurt/common.h>

#include "client_internal.h"

/* The relay's wait for the service, and the transport's on top (the relay answers first). */
#define SVC_CALL_RELAY_TIMEOUT_MS 10000
#define SVC_CALL_NET_MARGIN_MS 5000

/* The system-context URIs of the attach info (one per rank), cached. */
static pthread_mutex_t svc_ai_lock = PTHREAD_MUTEX_INITIALIZER;
static char **svc_ai_uris;
static uint32_t svc_ai_nr;
static uint32_t svc_next; /* rotates the first engine tried */

struct svc_op {
	daos_event_t *so_ev;
	const char *so_uri;
	struct svc_call_in so_in;
	uint32_t so_net_timeout_ms;
	int so_rc;
	void *so_reply;
	size_t so_reply_len;
};

static void
svc_uris_free(char **uris, uint32_t nr)
{
	uint32_t i;

	for (i = 0; uris != NULL && i < nr; i++)
		D_FREE(uris[i]);
	D_FREE(uris);
}

/*
 * The attach info's rank_uris list every context of every rank in tag order, or one entry
 * per rank: an entry whose rank differs from the previous one's is a rank's first context,
 * its system context.
 */
static int
svc_ai_load(void)
{
	struct dc_attach_info *ai = NULL;
	char **uris;
	uint32_t nr = 0;
	size_t i;
	int rc;

	rc = dc_agent_attach_info(NULL, &ai);
	if (rc != 0) {
		D_ERROR("cannot get the attach info from daos_agent: " DF_RC "\n", DP_RC(rc));
		return rc;
	}
	D_ALLOC_ARRAY(uris, ai->ai_nr_rank_uris > 0 ? ai->ai_nr_rank_uris : 1);
	if (uris == NULL) {
		rc = -DER_NOMEM;
		goto out;
	}
	for (i = 0; i < ai->ai_nr_rank_uris; i++) {
		if (i > 0 && ai->ai_rank_uris[i].ru_rank == ai->ai_rank_uris[i - 1].ru_rank)
			continue;
		if (ai->ai_rank_uris[i].ru_uri == NULL || ai->ai_rank_uris[i].ru_uri[0] == '\0')
			continue;
		D_STRNDUP(uris[nr], ai->ai_rank_uris[i].ru_uri, NET_ADDR_STR_MAX);
		if (uris[nr] == NULL) {
			svc_uris_free(uris, nr);
			rc = -DER_NOMEM;
			goto out;
		}
		nr++;
	}
	if (nr == 0) {
		D_ERROR("the attach info lists no engine\n");
		D_FREE(uris);
		rc = -DER_UNREACH;
		goto out;
	}
	if (ai->ai_provider != NULL && ai->ai_provider[0] != '\0') {
		rc = dc_ev_net_cfg_set(ai->ai_provider, NULL);
		if (rc != 0) {
			svc_uris_free(uris, nr);
			goto out;
		}
	}
	svc_ai_uris = uris;
	svc_ai_nr = nr;
out:
	dc_attach_info_free(ai);
	return rc;
}

/* A copy of the engines to try: the system contexts of @pool's ranks, or the attach info's. */
static int
svc_uris_get(struct dc_pool *pool, char ***urisp, uint32_t *nrp)
{
	char **uris = NULL;
	uint32_t nr = 0;
	uint32_t i;
	int rc = 0;

	if (pool != NULL) {
		pthread_rwlock_rdlock(&pool->dp_lock);
		D_ALLOC_ARRAY(uris, pool->dp_rank_nr > 0 ? pool->dp_rank_nr : 1);
		for (i = 0; uris != NULL && i < pool->dp_rank_nr; i++) {
			if (pool->dp_ranks[i].ru_nr == 0 || pool->dp_ranks[i].ru_uris[0] == NULL)
				continue;
			D_STRNDUP(uris[nr], pool->dp_ranks[i].ru_uris[0], NET_ADDR_STR_MAX);
			if (uris[nr] == NULL) {
				rc = -DER_NOMEM;
				break;
			}
			nr++;
		}
		pthread_rwlock_unlock(&pool->dp_lock);
		if (uris == NULL)
			return -DER_NOMEM;
		if (rc != 0 || nr == 0) {
			svc_uris_free(uris, nr);
			return rc != 0 ? rc : -DER_UNREACH;
		}
		*urisp = uris;
		*nrp = nr;
		return 0;
	}

	pthread_mutex_lock(&svc_ai_lock);
	if (svc_ai_uris == NULL)
		rc = svc_ai_load();
	if (rc == 0) {
		D_ALLOC_ARRAY(uris, svc_ai_nr);
		for (i = 0; uris != NULL && i < svc_ai_nr; i++) {
			D_STRNDUP(uris[i], svc_ai_uris[i], NET_ADDR_STR_MAX);
			if (uris[i] == NULL)
				break;
		}
		if (uris == NULL || i < svc_ai_nr) {
			svc_uris_free(uris, i);
			rc = -DER_NOMEM;
		} else {
			nr = svc_ai_nr;
		}
	}
	pthread_mutex_unlock(&svc_ai_lock);
	if (rc != 0)
		return rc;
	*urisp = uris;
	*nrp = nr;
	return 0;
}

static void
svc_op_cb(struct net_rpc_done *done, void *arg)
{
	struct svc_op *op = arg;
	struct svc_call_out *out = done->rd_reply;

	op->so_rc = done->rd_rc;
	if (op->so_rc == 0 && out == NULL)
		op->so_rc = -DER_PROTO;
	if (op->so_rc == 0) {
		op->so_rc = out->so_status;
		if (out->so_body.iov_len > 0) {
			D_ALLOC(op->so_reply, out->so_body.iov_len);
			if (op->so_reply == NULL) {
				op->so_rc = -DER_NOMEM;
			} else {
				memcpy(op->so_reply, out->so_body.iov_buf, out->so_body.iov_len);
				op->so_reply_len = out->so_body.iov_len;
			}
		}
	}
	dc_ev_complete(op->so_ev, 0);
}

static int
svc_op_send(struct net_context *ctx, void *arg)
{
	struct svc_op *op = arg;
	net_peer_t peer;
	int rc;

	rc = net_peer_lookup(ctx, op->so_uri, &peer);
	if (rc != 0)
		return rc;
	/* untagged: the relay serves every context of the engine */
	return net_rpc_send(ctx, peer, SVC_OPC_CALL, &op->so_in, NULL, op->so_net_timeout_ms,
			    svc_op_cb, op, NULL);
}

/* One attempt at @op->so_uri; the outcome in op->so_rc. Returns 0 or a local error. */
static int
svc_op_exec(struct svc_op *op)
{
	daos_event_t *priv = NULL;
	int rc;

	rc = dc_ev_begin(NULL, &priv);
	if (rc != 0)
		return rc;
	op->so_ev = priv;
	op->so_rc = -DER_CANCELED;
	rc = dc_ev_net_exec(priv, svc_op_send, op);
	if (rc != 0) {
		op->so_rc = rc;
		dc_ev_complete(priv, rc);
	}
	rc = dc_ev_end(NULL, priv);
	/* dc_ev_end's own failure (the queue went away) beats the RPC's */
	return rc;
}

/* The value of the message's `status` field, if it has one (an int32 or sint32), else 0. */
static int
svc_msg_status(const ProtobufCMessage *msg)
{
	const ProtobufCFieldDescriptor *f;

	f = protobuf_c_message_descriptor_get_field_by_name(msg->descriptor, "status");
	if (f == NULL || f->label == PROTOBUF_C_LABEL_REPEATED ||
	    (f->type != PROTOBUF_C_TYPE_INT32 && f->type != PROTOBUF_C_TYPE_SINT32 &&
	     f->type != PROTOBUF_C_TYPE_SFIXED32))
		return 0;
	return *(const int32_t *)((const char *)msg + f->offset);
}

/* The relay's wait: SVC_CALL_RELAY_TIMEOUT_MS, or DAOS_SVC_TIMEOUT_MS (1 .. 120000). */
static uint32_t
svc_timeout_ms(void)
{
	const char *env = getenv("DAOS_SVC_TIMEOUT_MS");
	unsigned long ms;
	char *end;

	if (env == NULL || env[0] == '\0')
		return SVC_CALL_RELAY_TIMEOUT_MS;
	ms = strtoul(env, &end, 10);
	if (*end != '\0' || ms == 0 || ms > 120000)
		return SVC_CALL_RELAY_TIMEOUT_MS;
	return (uint32_t)ms;
}

static bool
svc_rc_retry(int rc)
{
	/* the engine is gone, or its relay cannot reach the service: another engine may */
	return rc == -DER_UNREACH || rc == -DER_TIMEDOUT || rc == -DER_SHUTDOWN ||
	       rc == -DER_BAD_TARGET;
}

int
dc_svc_call(struct dc_pool *pool, uint32_t method, const struct ProtobufCMessage *req,
	    const struct ProtobufCMessageDescriptor *resp_desc, struct ProtobufCMessage **resp)
{
	struct svc_op op = {0};
	char **uris = NULL;
	uint8_t *buf = NULL;
	uint32_t nr = 0;
	uint32_t first;
	uint32_t i;
	size_t len = 0;
	int rc;

	if (resp != NULL)
		*resp = NULL;
	if (!dc_lib_initialized())
		return -DER_UNINIT;
	if (req != NULL) {
		len = protobuf_c_message_get_packed_size(req);
		if (len > SVC_BODY_MAX)
			return -DER_OVERFLOW;
		D_ALLOC(buf, len > 0 ? len : 1);
		if (buf == NULL)
			return -DER_NOMEM;
		protobuf_c_message_pack(req, buf);
	}
	rc = svc_uris_get(pool, &uris, &nr);
	if (rc != 0)
		goto out_buf;

	op.so_in.si_method = method;
	op.so_in.si_timeout_ms = svc_timeout_ms();
	d_iov_set(&op.so_in.si_body, buf, len);
	op.so_net_timeout_ms = op.so_in.si_timeout_ms + SVC_CALL_NET_MARGIN_MS;
	first = __atomic_fetch_add(&svc_next, 1, __ATOMIC_RELAXED);
	for (i = 0; i < nr; i++) {
		op.so_uri = uris[(first + i) % nr];
		D_FREE(op.so_reply);
		op.so_reply_len = 0;
		rc = svc_op_exec(&op);
		if (rc == 0)
			rc = op.so_rc;
		if (!svc_rc_retry(rc))
			break;
		D_DEBUG("service method %u via %s: " DF_RC ", trying the next engine\n", method,
			op.so_uri, DP_RC(rc));
	}
	if (rc != 0 && op.so_reply_len == 0)
		goto out_uris;
	if (resp_desc != NULL && op.so_reply_len > 0) {
		ProtobufCMessage *msg;

		msg = protobuf_c_message_unpack(resp_desc, NULL, op.so_reply_len, op.so_reply);
		if (msg == NULL) {
			D_ERROR("service method %u: the reply does not decode as %s\n", method,
				resp_desc->name);
			rc = rc != 0 ? rc : -DER_PROTO;
			goto out_uris;
		}
		if (rc == 0)
			rc = svc_msg_status(msg);
		if (resp != NULL)
			*resp = msg;
		else
			protobuf_c_message_free_unpacked(msg, NULL);
	} else if (resp_desc != NULL && rc == 0 && resp != NULL) {
		/* an empty reply is a message with every field at its default */
		*resp = protobuf_c_message_unpack(resp_desc, NULL, 0, NULL);
		if (*resp == NULL)
			rc = -DER_NOMEM;
	}
out_uris:
	svc_uris_free(uris, nr);
	D_FREE(op.so_reply);
out_buf:
	D_FREE(buf);
	return rc;
}

/** Forget the cached attach info (daos_fini of the last reference). */
void
dc_svc_fini(void)
{
	pthread_mutex_lock(&svc_ai_lock);
	svc_uris_free(svc_ai_uris, svc_ai_nr);
	svc_ai_uris = NULL;
	svc_ai_nr = 0;
	pthread_mutex_unlock(&svc_ai_lock);
}
