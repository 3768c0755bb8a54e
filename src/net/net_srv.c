/*
 * net_srv.c: the server side of the net module: handler registration, turning a received
 * request into a decoded struct for its handler (or an error reply when it does not
 * decode), and replies, which a handler may send later from the same thread. Runs on the
 * context's thread, driven by net_progress (net_ctx.c).
 */
#define D_LOGFAC net

#include "net_internal.h"

int
net_handler_register(struct net_context *ctx, uint16_t opc, net_handler_t handler, void *arg)
{
	struct net_handler_slot **slots;

	if (net_opc_info(opc) == NULL)
		return -DER_UNREG;
	slots = &ctx->c_handlers[NET_OPC_MODULE(opc)];
	if (*slots == NULL) {
		D_ALLOC_ARRAY(*slots, 256);
		if (*slots == NULL)
			return -DER_NOMEM;
	}
	(*slots)[NET_OPC_INDEX(opc)].hs_fn = handler;
	(*slots)[NET_OPC_INDEX(opc)].hs_arg = arg;
	return 0;
}

int
net_handlers_register(struct net_context *ctx, const struct net_handler_ent *ents, uint32_t nr,
		      void *arg)
{
	uint32_t i;
	int rc;

	for (i = 0; i < nr; i++) {
		rc = net_handler_register(ctx, ents[i].he_opc, ents[i].he_handler, arg);
		if (rc != 0)
			return rc;
	}
	return 0;
}

static const struct net_handler_slot *
net_handler_find(const struct net_context *ctx, uint16_t opc)
{
	const struct net_handler_slot *slots;

	if (NET_OPC_MODULE(opc) >= NET_MODULE_MAX)
		return NULL;
	slots = ctx->c_handlers[NET_OPC_MODULE(opc)];
	if (slots == NULL || slots[NET_OPC_INDEX(opc)].hs_fn == NULL)
		return NULL;
	return &slots[NET_OPC_INDEX(opc)];
}

uint16_t
net_req_opc(const struct net_req *req)
{
	return req->q_hdr.nh_opc;
}

struct net_context *
net_req_context(const struct net_req *req)
{
	return req->q_ctx;
}

uint32_t
net_req_bulk_nr(const struct net_req *req)
{
	return req->q_hdr.nh_bulk_nr;
}

uint64_t
net_req_bulk_len(const struct net_req *req)
{
	return req->q_hdr.nh_bulk_len;
}

static void
net_req_free(struct net_context *ctx, struct net_req *req)
{
	D_ASSERT(req->q_bulk_inflight == 0);
	if (req->q_queued)
		d_list_del_init(&req->q_op.no_link);
	if (req->q_msg != NULL)
		net_msg_put(ctx, req->q_msg);
	D_FREE(req->q_reply_buf);
	d_list_del(&req->q_all);
	ctx->c_stats.ns_reqs--;
	D_FREE(req);
}

void
net_req_recv(struct net_context *ctx, struct net_msg *msg, const struct net_hdr *hdr)
{
	const struct net_opc_info *info = NULL;
	const struct net_handler_slot *slot = NULL;
	struct net_req *req;
	fi_addr_t src;
	int status = 0;
	int rc;

	rc = net_peer_insert(ctx, hdr->nh_addr, hdr->nh_addr_len, &src);
	if (rc != 0) {
		ctx->c_stats.ns_bad_msgs++;
		D_ERROR_RL("%s: dropped a request from an unusable address: " DF_RC "\n",
			   ctx->c_fab.nf_straddr, DP_RC(rc));
		net_msg_put(ctx, msg);
		return;
	}
	if (hdr->nh_version != NET_VERSION) {
		status = -DER_PROTO;
	} else {
		info = net_opc_info(hdr->nh_opc);
		slot = net_handler_find(ctx, hdr->nh_opc);
		if (info == NULL || slot == NULL)
			status = -DER_UNREG;
		else if (ctx->c_tag != NET_TAG_ANY && hdr->nh_dst_tag != NET_TAG_ANY &&
			 hdr->nh_dst_tag != ctx->c_tag)
			status = -DER_BAD_TARGET; /* meant for another context */
	}

	D_ALLOC_NZ(req, sizeof(*req) + (info == NULL ? 0 : NET_ALIGN8((size_t)info->oi_req_size)));
	if (req == NULL) {
		/* The client will time out; memory is what we lack, not work. */
		net_msg_put(ctx, msg);
		return;
	}
	memset(req, 0, sizeof(*req));
	req->q_op.no_type = NET_OP_REPLY_SEND;
	D_INIT_LIST_HEAD(&req->q_op.no_link);
	req->q_ctx = ctx;
	req->q_batch_nr = 1;
	req->q_msg = msg;
	req->q_hdr = *hdr;
	req->q_src = src;
	d_list_add_tail(&req->q_all, &ctx->c_reqs);
	ctx->c_stats.ns_reqs++;

	if (status == 0)
		status = net_body_decode(hdr->nh_opc, false, hdr->nh_body, hdr->nh_body_len,
					 req->q_body);
	if (status != 0) {
		ctx->c_stats.ns_bad_msgs++;
		D_DEBUG("%s: rejected request %#" PRIx64 " opcode %#x: " DF_RC "\n",
			ctx->c_fab.nf_straddr, hdr->nh_id, hdr->nh_opc, DP_RC(status));
		/* Not decoded: the bulk descriptors are not to be used either. */
		req->q_hdr.nh_bulk_nr = 0;
		req->q_hdr.nh_bulk_len = 0;
		net_reply_send(req, status, NULL);
		return;
	}
	slot->hs_fn(req, req->q_body, slot->hs_arg);
}

/* Try to post @req's reply: 0, -DER_AGAIN, or another -DER_*. */
static int
net_req_try_post(struct net_context *ctx, struct net_req *req)
{
	ssize_t rc;

	rc = fi_send(ctx->c_fab.nf_ep, req->q_reply_buf, req->q_reply_len, NULL, req->q_src,
		     &req->q_op.no_fictx);
	if (rc == -FI_EAGAIN) {
		ctx->c_stats.ns_eagain++;
		return -DER_AGAIN;
	}
	if (rc != 0) {
		D_ERROR_RL("%s: fi_send of a reply failed: %s\n", ctx->c_fab.nf_straddr,
			   fi_strerror((int)-rc));
		return net_fi2der((int)rc);
	}
	return 0;
}

/*
 * Replies queued behind @req (at the head of c_pending) for the same peer join its message
 * while they fit in one (NET_BATCH_LIMIT): a batch (NET_HF_BATCH) that @req carries, the others
 * are done (their bytes are in @req's buffer). Per peer, replies keep their order. Nothing
 * changes when no other reply fits, or without memory for the batch.
 */
static void
net_req_batch(struct net_context *ctx, struct net_req *req)
{
	struct net_req *ents[NET_BATCH_MAX];
	struct net_op *op;
	size_t len = net_msg_size(0, 0, 0) + net_batch_ent_size(req->q_reply_len);
	uint32_t nr = 1;
	uint32_t scanned = 0;
	uint8_t *buf;
	uint8_t *p;
	uint32_t i;

	ents[0] = req;
	for (op = d_list_entry(req->q_op.no_link.next, struct net_op, no_link);
	     &op->no_link != &ctx->c_pending && nr < NET_BATCH_MAX && scanned++ < 4 * NET_BATCH_MAX;
	     op = d_list_entry(op->no_link.next, struct net_op, no_link)) {
		struct net_req *q;

		if (op->no_type != NET_OP_REPLY_SEND)
			continue;
		q = container_of(op, struct net_req, q_op);
		if (q->q_src != req->q_src || q->q_batch_nr != 1)
			continue;
		if (len + net_batch_ent_size(q->q_reply_len) > NET_BATCH_LIMIT(ctx))
			break; /* the next reply to this peer must not overtake it */
		len += net_batch_ent_size(q->q_reply_len);
		ents[nr++] = q;
	}
	if (nr < 2)
		return;
	D_ALLOC_NZ(buf, len);
	if (buf == NULL)
		return;
	p = net_hdr_encode(buf, NET_HF_REPLY | NET_HF_BATCH, 0, 0, 0,
			   (uint32_t)(len - net_msg_size(0, 0, 0)), 0, NULL, 0, NET_TAG_ANY, NULL,
			   0);
	for (i = 0; i < nr; i++)
		p = net_batch_ent_encode(p, ents[i]->q_reply_buf, ents[i]->q_reply_len);
	D_ASSERT(p == buf + len);
	for (i = 1; i < nr; i++)
		net_req_free(ctx, ents[i]);
	D_FREE(req->q_reply_buf);
	req->q_reply_buf = buf;
	req->q_reply_len = len;
	req->q_batch_nr = nr;
}

int
net_req_post(struct net_context *ctx, struct net_req *req)
{
	int rc;

	D_ASSERT(req->q_queued);
	if (ctx->c_batch && req->q_batch_nr == 1)
		net_req_batch(ctx, req);
	rc = net_req_try_post(ctx, req);
	if (rc == -DER_AGAIN)
		return rc;
	d_list_del_init(&req->q_op.no_link);
	req->q_queued = false;
	if (rc != 0)
		net_req_free(ctx, req);
	return 0;
}

void
net_req_send_done(struct net_context *ctx, struct net_req *req, int rc)
{
	if (rc != 0)
		D_DEBUG("%s: reply to %#" PRIx64 " failed: " DF_RC "\n", ctx->c_fab.nf_straddr,
			req->q_hdr.nh_id, DP_RC(rc));
	else
		ctx->c_stats.ns_replied += req->q_batch_nr;
	if (req->q_batch_nr > 1) {
		ctx->c_stats.ns_batches++;
		ctx->c_stats.ns_batched += req->q_batch_nr;
	}
	net_req_free(ctx, req);
}

int
net_reply_send(struct net_req *req, int status, const void *reply)
{
	struct net_context *ctx = req->q_ctx;
	const struct net_opc_info *info = NULL;
	struct net_wbuf w;
	size_t body_len = 0;
	size_t len;
	uint8_t *body;
	int rc;

	D_ASSERTF(!req->q_replied, "request replied twice");
	D_ASSERTF(req->q_bulk_inflight == 0, "reply with bulk transfers in flight");
	req->q_replied = true;
	if (ctx->c_stopping) {
		net_req_free(ctx, req);
		return -DER_SHUTDOWN;
	}
	if (status == 0 && reply == NULL) {
		D_ERROR("%s: success reply to %#" PRIx64 " without a body\n", ctx->c_fab.nf_straddr,
			req->q_hdr.nh_id);
		status = -DER_INVAL;
	}
	if (D_FAIL_CHECK(NET_FI_REPLY_DROP)) {
		net_req_free(ctx, req);
		return 0;
	}
	if (reply != NULL && req->q_hdr.nh_version == NET_VERSION) {
		info = net_opc_info(req->q_hdr.nh_opc);
		body_len = info == NULL ? 0 : info->oi_rep_len(reply);
		if (net_msg_size(0, 0, body_len) > ctx->c_msg_max) {
			D_ERROR("%s: %s reply of %zu bytes is over the limit %u\n",
				ctx->c_fab.nf_straddr, info->oi_name, body_len, ctx->c_msg_max);
			status = -DER_OVERFLOW;
			body_len = 0;
		}
	}
	len = net_msg_size(0, 0, body_len);
	D_ALLOC_NZ(req->q_reply_buf, len);
	if (req->q_reply_buf == NULL) {
		net_req_free(ctx, req);
		return -DER_NOMEM;
	}
	req->q_reply_len = len;
	body = net_hdr_encode(req->q_reply_buf, NET_HF_REPLY, req->q_hdr.nh_opc, req->q_hdr.nh_id,
			      status, (uint32_t)body_len, 0, NULL, 0, NET_TAG_ANY, NULL, 0);
	if (body_len > 0) {
		w.wb_cur = body;
		w.wb_end = req->q_reply_buf + len;
		rc = info->oi_rep_enc(reply, &w);
		if (rc != 0 || w.wb_cur != w.wb_end) {
			D_ERROR("%s: encoding a %s reply failed: " DF_RC "\n",
				ctx->c_fab.nf_straddr, info->oi_name, DP_RC(rc));
			req->q_reply_len = net_msg_size(0, 0, 0);
			net_hdr_encode(req->q_reply_buf, NET_HF_REPLY, req->q_hdr.nh_opc,
				       req->q_hdr.nh_id, rc != 0 ? rc : -DER_INVAL, 0, 0, NULL, 0,
				       NET_TAG_ANY, NULL, 0);
		} else if (D_FAIL_CHECK(NET_FI_REPLY_CORRUPT)) {
			memset(body, 0xff, body_len);
		}
	}
	/*
	 * Behind others waiting for a post, wait too (FIFO); otherwise try now, unless replies
	 * are batched: then the next net_progress pass sends it with the others ready by then
	 * (net_context_arm refuses to sleep while it waits).
	 */
	rc = d_list_empty(&ctx->c_pending) && !ctx->c_batch ? net_req_try_post(ctx, req)
							    : -DER_AGAIN;
	if (rc == -DER_AGAIN) {
		d_list_add_tail(&req->q_op.no_link, &ctx->c_pending);
		req->q_queued = true;
		rc = 0;
	}
	if (rc != 0)
		net_req_free(ctx, req);
	return rc;
}

void
net_req_fini_all(struct net_context *ctx)
{
	struct net_req *req;

	while (!d_list_empty(&ctx->c_reqs)) {
		req = d_list_first_entry(&ctx->c_reqs, struct net_req, q_all);
		if (!req->q_replied)
			D_DEBUG("%s: request %#" PRIx64 " was never replied to\n",
				ctx->c_fab.nf_straddr, req->q_hdr.nh_id);
		req->q_bulk_inflight = 0;
		net_req_free(ctx, req);
	}
}
