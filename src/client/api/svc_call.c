/*
 * svc_call.c: dc_svc_call (daos/svc_rpc.h), libdaos's way to the management service: the
 * packed request goes as SVC_OPC_CALL to the system context of an engine, whose relay
 * (src/engine/srv_relay.c) forwards it to the service leader and answers with the leader's
 * reply. The engines come from the pool map of a connected pool, else from the attach info
 * daos_agent hands out (fetched on the first call without a pool and cached for the life of
 * the process).
 *
 * A call is asynchronous (dc_svc_send): the packed request goes on the network context of
 * the event's queue and the call returns; the reply's callback, run by whoever progresses
 * that queue, retries the next engine when one is unreachable, else decodes the answer,
 * hands it to the caller's callback (which fills the application's out-parameters, or starts
 * a follow-up call on the same event) and completes the event. dc_svc_call is the blocking
 * form: the same on a private event of the calling thread, progressed until it completes.
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

/* One service call in flight: the engines to try, the packed request, what to call at the end. */
struct svc_op {
	daos_event_t *so_ev; /* running; completed by svc_op_finish unless the callback goes on */
	char **so_uris;
	uint32_t so_nr;
	uint32_t so_first;
	uint32_t so_tried;
	uint32_t so_method;
	struct svc_call_in so_in; /* si_body: the packed request, owned */
	uint32_t so_net_timeout_ms;
	const ProtobufCMessageDescriptor *so_desc;
	dc_svc_cb_t so_cb;
	void *so_arg;
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

static void
svc_op_free(struct svc_op *op)
{
	svc_uris_free(op->so_uris, op->so_nr);
	D_FREE(op->so_in.si_body.iov_buf);
	D_FREE(op);
}

/* The end of @op: decode, hand the outcome to the callback, complete the event. */
static void
svc_op_finish(struct svc_op *op, int rc, const void *body, size_t len)
{
	ProtobufCMessage *msg = NULL;
	daos_event_t *ev = op->so_ev;
	int ret;

	if (rc == 0 && op->so_desc != NULL) {
		/* an empty reply is a message with every field at its default */
		msg = protobuf_c_message_unpack(op->so_desc, NULL, len, len > 0 ? body : NULL);
		if (msg == NULL) {
			D_ERROR("service method %u: the reply does not decode as %s\n",
				op->so_method, op->so_desc->name);
			rc = -DER_PROTO;
		} else {
			rc = svc_msg_status(msg);
		}
	}
	if (rc != 0 && msg != NULL) {
		protobuf_c_message_free_unpacked(msg, NULL);
		msg = NULL;
	}
	ret = op->so_cb != NULL ? op->so_cb(op->so_arg, rc, &msg, ev) : rc;
	if (msg != NULL)
		protobuf_c_message_free_unpacked(msg, NULL);
	svc_op_free(op);
	if (ret != DC_SVC_MORE)
		dc_ev_complete(ev, ret);
}

static int svc_op_try(struct svc_op *op);

static void
svc_op_cb(struct net_rpc_done *done, void *arg)
{
	struct svc_op *op = arg;
	struct svc_call_out *out = done->rd_reply;
	int rc = done->rd_rc;

	if (rc == 0 && out == NULL)
		rc = -DER_PROTO;
	if (rc == 0)
		rc = out->so_status;
	if (svc_rc_retry(rc) && op->so_tried < op->so_nr) {
		D_DEBUG("service method %u: " DF_RC ", trying the next engine\n", op->so_method,
			DP_RC(rc));
		/* from the queue's progress: the next send goes on the same context */
		rc = svc_op_try(op);
		if (rc == 0)
			return;
	}
	if (rc == 0)
		svc_op_finish(op, 0, out->so_body.iov_buf, out->so_body.iov_len);
	else
		svc_op_finish(op, rc, NULL, 0);
}

static int
svc_op_send(struct net_context *ctx, void *arg)
{
	struct svc_op *op = arg;
	const char *uri = op->so_uris[(op->so_first + op->so_tried) % op->so_nr];
	net_peer_t peer;
	int rc;

	op->so_tried++;
	rc = net_peer_lookup(ctx, uri, &peer);
	if (rc != 0)
		return rc;
	/* untagged: the relay serves every context of the engine */
	return net_rpc_send(ctx, peer, SVC_OPC_CALL, &op->so_in, NULL, op->so_net_timeout_ms,
			    svc_op_cb, op, NULL);
}

/*
 * Send @op to the next engines until one send starts (0: its callback finishes @op), or
 * return the last local error (@op not finished).
 */
static int
svc_op_try(struct svc_op *op)
{
	int rc = -DER_UNREACH;

	while (op->so_tried < op->so_nr) {
		rc = dc_ev_net_exec(op->so_ev, svc_op_send, op);
		if (rc == 0 || !svc_rc_retry(rc))
			break;
	}
	return rc;
}

int
dc_svc_send(daos_event_t *ev, struct dc_pool *pool, uint32_t method,
	    const struct ProtobufCMessage *req, const struct ProtobufCMessageDescriptor *resp_desc,
	    dc_svc_cb_t cb, void *arg)
{
	struct svc_op *op;
	uint8_t *buf = NULL;
	size_t len = 0;
	int rc;

	D_ALLOC_PTR(op);
	if (op == NULL) {
		rc = cb != NULL ? cb(arg, -DER_NOMEM, NULL, ev) : -DER_NOMEM;
		if (rc != DC_SVC_MORE)
			dc_ev_complete(ev, rc);
		return 0;
	}
	op->so_ev = ev;
	op->so_method = method;
	op->so_desc = resp_desc;
	op->so_cb = cb;
	op->so_arg = arg;
	if (req != NULL) {
		len = protobuf_c_message_get_packed_size(req);
		if (len > SVC_BODY_MAX) {
			rc = -DER_OVERFLOW;
			goto fail;
		}
		D_ALLOC(buf, len > 0 ? len : 1);
		if (buf == NULL) {
			rc = -DER_NOMEM;
			goto fail;
		}
		protobuf_c_message_pack(req, buf);
	}
	d_iov_set(&op->so_in.si_body, buf, len);
	op->so_in.si_method = method;
	op->so_in.si_timeout_ms = svc_timeout_ms();
	op->so_net_timeout_ms = op->so_in.si_timeout_ms + SVC_CALL_NET_MARGIN_MS;
	rc = svc_uris_get(pool, &op->so_uris, &op->so_nr);
	if (rc != 0)
		goto fail;
	op->so_first = __atomic_fetch_add(&svc_next, 1, __ATOMIC_RELAXED);
	rc = svc_op_try(op);
	if (rc == 0)
		return 0;
fail:
	svc_op_finish(op, rc, NULL, 0);
	return 0;
}

/* dc_svc_call's callback: keep the answer for the caller. */
static int
svc_call_keep(void *arg, int rc, struct ProtobufCMessage **resp, daos_event_t *ev)
{
	struct ProtobufCMessage **out = arg;

	(void)ev;
	if (rc == 0 && out != NULL && resp != NULL) {
		*out = *resp;
		*resp = NULL;
	}
	return rc;
}

int
dc_svc_call(struct dc_pool *pool, uint32_t method, const struct ProtobufCMessage *req,
	    const struct ProtobufCMessageDescriptor *resp_desc, struct ProtobufCMessage **resp)
{
	daos_event_t *priv = NULL;
	int rc;

	if (resp != NULL)
		*resp = NULL;
	if (!dc_lib_initialized())
		return -DER_UNINIT;
	rc = dc_ev_begin(NULL, &priv);
	if (rc != 0)
		return rc;
	dc_svc_send(priv, pool, method, req, resp_desc, svc_call_keep, resp);
	rc = dc_ev_end(NULL, priv);
	if (rc != 0 && resp != NULL && *resp != NULL) {
		protobuf_c_message_free_unpacked(*resp, NULL);
		*resp = NULL;
	}
	return rc;
}

int
dc_svc_call_ev(daos_event_t *ev, struct dc_pool *pool, uint32_t method,
	       const struct ProtobufCMessage *req,
	       const struct ProtobufCMessageDescriptor *resp_desc, dc_svc_cb_t cb, void *arg)
{
	daos_event_t *priv = NULL;
	int rc;

	rc = dc_ev_begin(ev, &priv);
	if (rc != 0) {
		if (cb != NULL)
			cb(arg, rc, NULL, NULL);
		return rc;
	}
	dc_svc_send(priv != NULL ? priv : ev, pool, method, req, resp_desc, cb, arg);
	return dc_ev_end(ev, priv);
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
