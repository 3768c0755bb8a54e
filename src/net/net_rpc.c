/*
 * net_rpc.c: the client side of the net module: sending requests, matching replies to them
 * by request id, per-RPC timeouts (a min-heap on deadlines), cancellation, and the blocking
 * helper. Runs on the context's thread, driven by net_progress (net_ctx.c).
 */
#define D_LOGFAC net

#include "net_internal.h"

static d_list_t *
net_rpc_bucket(struct net_context *ctx, uint64_t id)
{
	return &ctx->c_rpc_hash[id & ((1U << NET_RPC_HASH_BITS) - 1)];
}

static struct net_rpc *
net_rpc_find(struct net_context *ctx, uint64_t id)
{
	struct net_rpc *rpc;

	d_list_for_each_entry (rpc, net_rpc_bucket(ctx, id), r_hlink) {
		if (rpc->r_id == id)
			return rpc;
	}
	return NULL;
}

/* Timeout heap: c_heap[0] has the earliest deadline; r_heap_idx tracks each entry. */

static void
net_heap_set(struct net_context *ctx, uint32_t i, struct net_rpc *rpc)
{
	ctx->c_heap[i] = rpc;
	rpc->r_heap_idx = i;
}

static void
net_heap_up(struct net_context *ctx, uint32_t i)
{
	struct net_rpc *rpc = ctx->c_heap[i];

	while (i > 0) {
		uint32_t parent = (i - 1) / 2;

		if (ctx->c_heap[parent]->r_deadline <= rpc->r_deadline)
			break;
		net_heap_set(ctx, i, ctx->c_heap[parent]);
		i = parent;
	}
	net_heap_set(ctx, i, rpc);
}

static void
net_heap_down(struct net_context *ctx, uint32_t i)
{
	struct net_rpc *rpc = ctx->c_heap[i];

	for (;;) {
		uint32_t child = 2 * i + 1;

		if (child >= ctx->c_heap_nr)
			break;
		if (child + 1 < ctx->c_heap_nr &&
		    ctx->c_heap[child + 1]->r_deadline < ctx->c_heap[child]->r_deadline)
			child++;
		if (rpc->r_deadline <= ctx->c_heap[child]->r_deadline)
			break;
		net_heap_set(ctx, i, ctx->c_heap[child]);
		i = child;
	}
	net_heap_set(ctx, i, rpc);
}

static int
net_heap_reserve(struct net_context *ctx)
{
	struct net_rpc **heap;
	uint32_t cap;

	if (ctx->c_heap_nr < ctx->c_heap_cap)
		return 0;
	cap = ctx->c_heap_cap == 0 ? 256 : ctx->c_heap_cap * 2;
	D_REALLOC_ARRAY(heap, ctx->c_heap, cap);
	if (heap == NULL)
		return -DER_NOMEM;
	ctx->c_heap = heap;
	ctx->c_heap_cap = cap;
	return 0;
}

static void
net_heap_push(struct net_context *ctx, struct net_rpc *rpc)
{
	D_ASSERT(ctx->c_heap_nr < ctx->c_heap_cap);
	net_heap_set(ctx, ctx->c_heap_nr++, rpc);
	net_heap_up(ctx, rpc->r_heap_idx);
}

static void
net_heap_remove(struct net_context *ctx, struct net_rpc *rpc)
{
	uint32_t i = rpc->r_heap_idx;
	struct net_rpc *last;

	D_ASSERT(i < ctx->c_heap_nr && ctx->c_heap[i] == rpc);
	rpc->r_heap_idx = NET_HEAP_NONE;
	last = ctx->c_heap[--ctx->c_heap_nr];
	if (last == rpc)
		return;
	net_heap_set(ctx, i, last);
	if (i > 0 && ctx->c_heap[(i - 1) / 2]->r_deadline > last->r_deadline)
		net_heap_up(ctx, i);
	else
		net_heap_down(ctx, i);
}

static void
net_rpc_free(struct net_context *ctx, struct net_rpc *rpc)
{
	d_list_del(&rpc->r_all);
	ctx->c_stats.ns_rpcs--;
	D_FREE(rpc->r_batch);
	D_FREE(rpc);
}

/* Free @rpc once its callback has run and libfabric no longer holds its buffer. */
static void
net_rpc_maybe_free(struct net_context *ctx, struct net_rpc *rpc)
{
	if ((rpc->r_flags & NET_RPC_CB_DONE) && !(rpc->r_flags & NET_RPC_POSTED))
		net_rpc_free(ctx, rpc);
}

/* Decide @rpc's outcome: nothing can find it any more (id, timer, send queue). */
static void
net_rpc_finish(struct net_context *ctx, struct net_rpc *rpc, int rc)
{
	D_ASSERT(!(rpc->r_flags & NET_RPC_FINISHED));
	rpc->r_flags |= NET_RPC_FINISHED;
	rpc->r_rc = rc;
	if (rpc->r_flags & NET_RPC_IN_TABLE) {
		d_list_del_init(&rpc->r_hlink);
		rpc->r_flags &= ~NET_RPC_IN_TABLE;
	}
	if (rpc->r_heap_idx != NET_HEAP_NONE)
		net_heap_remove(ctx, rpc);
	if (rpc->r_flags & NET_RPC_QUEUED) {
		d_list_del_init(&rpc->r_op.no_link);
		rpc->r_flags &= ~NET_RPC_QUEUED;
	}
}

/* Run @rpc's callback (once); @reply and @msg are NULL unless a reply arrived. */
static void
net_rpc_callback(struct net_context *ctx, struct net_rpc *rpc, void *reply, struct net_msg *msg)
{
	struct net_rpc_done done = {
	    .rd_id = rpc->r_id,
	    .rd_opc = rpc->r_info->oi_opc,
	    .rd_rc = rpc->r_rc,
	    .rd_reply = reply,
	    .rd_msg = msg,
	};

	D_ASSERT((rpc->r_flags & (NET_RPC_FINISHED | NET_RPC_CB_DONE)) == NET_RPC_FINISHED);
	rpc->r_cb(&done, rpc->r_arg);
	rpc->r_flags |= NET_RPC_CB_DONE;
	if (done.rd_msg != NULL)
		net_msg_put(ctx, done.rd_msg);
	net_rpc_maybe_free(ctx, rpc);
}

/* Finish @rpc with @rc and run its callback now (from net_progress). */
static void
net_rpc_fail(struct net_context *ctx, struct net_rpc *rpc, int rc)
{
	if (ctx->c_fab.nf_shm && (rc == -DER_TIMEDOUT || rc == -DER_UNREACH))
		net_peer_forget(ctx, rpc->r_dest);
	net_rpc_finish(ctx, rpc, rc);
	net_rpc_callback(ctx, rpc, NULL, NULL);
}

struct net_msg *
net_rpc_done_keep(struct net_rpc_done *done)
{
	struct net_msg *msg = done->rd_msg;

	if (msg == NULL)
		return NULL;
	msg->m_ctx->c_stats.ns_msgs_kept++;
	msg->m_ctx = NULL;
	done->rd_msg = NULL;
	return msg;
}

/* Fold a reply's round trip into the context's average (net_progress's spin). */
static void
net_rtt_sample(struct net_context *ctx, uint64_t ns)
{
	/* one slow reply (a preempted peer) must not turn the spin off for the next ones */
	if (ns > ctx->c_spin_rpc_ns)
		ns = ctx->c_spin_rpc_ns;
	if (ctx->c_rtt_ns == 0)
		ctx->c_rtt_ns = ns;
	else if (ns >= ctx->c_rtt_ns)
		ctx->c_rtt_ns += (ns - ctx->c_rtt_ns) / 8;
	else
		ctx->c_rtt_ns -= (ctx->c_rtt_ns - ns) / 8;
}

void
net_rpc_recv_reply(struct net_context *ctx, struct net_msg *msg, const struct net_hdr *hdr)
{
	struct net_rpc *rpc = net_rpc_find(ctx, hdr->nh_id);
	void *reply = NULL;
	int rc;

	if (rpc == NULL) {
		/* Timed out, cancelled, or a reply to someone else's id: nobody waits for it. */
		ctx->c_stats.ns_late++;
		D_DEBUG("%s: no RPC %#" PRIx64 " for a reply\n", ctx->c_fab.nf_straddr, hdr->nh_id);
		net_msg_put(ctx, msg);
		return;
	}
	if (rpc->r_info->oi_opc != hdr->nh_opc) {
		ctx->c_stats.ns_bad_msgs++;
		D_ERROR_RL("%s: reply to RPC %#" PRIx64 " has opcode %#x, not %#x\n",
			   ctx->c_fab.nf_straddr, hdr->nh_id, hdr->nh_opc, rpc->r_info->oi_opc);
		net_msg_put(ctx, msg);
		return;
	}
	net_rtt_sample(ctx, d_now_ns() - rpc->r_start);
	rc = hdr->nh_status;
	if (hdr->nh_body_len > 0) {
		reply = (void *)(rpc + 1);
		rc = net_body_decode(hdr->nh_opc, true, hdr->nh_body, hdr->nh_body_len, reply);
		if (rc != 0) {
			ctx->c_stats.ns_bad_msgs++;
			D_ERROR_RL("%s: undecodable reply to %s RPC %#" PRIx64 ": " DF_RC "\n",
				   ctx->c_fab.nf_straddr, rpc->r_info->oi_name, hdr->nh_id,
				   DP_RC(rc));
			reply = NULL;
			rc = -DER_PROTO;
		} else {
			rc = hdr->nh_status;
		}
	} else if (rc == 0) {
		/* Success always carries a reply. */
		ctx->c_stats.ns_bad_msgs++;
		rc = -DER_PROTO;
	}
	net_rpc_finish(ctx, rpc, rc);
	net_rpc_callback(ctx, rpc, reply, msg);
}

/* Try to post @rpc's send: 0, -DER_AGAIN (no room now), or another -DER_*. */
static int
net_rpc_try_post(struct net_context *ctx, struct net_rpc *rpc)
{
	ssize_t rc;

	if (D_FAIL_CHECK(NET_FI_SEND_ERR))
		return -DER_UNREACH;
	if (D_FAIL_CHECK(NET_FI_SEND_DROP)) {
		/* Lost on the way: the RPC waits for its reply until it times out. */
		ctx->c_stats.ns_sent++;
		return 0;
	}
	if (rpc->r_batch != NULL)
		rc = fi_send(ctx->c_fab.nf_ep, rpc->r_batch, rpc->r_batch_len, NULL, rpc->r_dest,
			     &rpc->r_op.no_fictx);
	else
		rc = fi_send(ctx->c_fab.nf_ep, rpc->r_buf, rpc->r_len, NULL, rpc->r_dest,
			     &rpc->r_op.no_fictx);
	if (rc == -FI_EAGAIN) {
		ctx->c_stats.ns_eagain++;
		if (ctx->c_bell_nr != 0)
			net_bell_ring(ctx, rpc->r_dest, false);
		return -DER_AGAIN;
	}
	if (rc != 0) {
		D_ERROR_RL("%s: fi_send failed: %s\n", ctx->c_fab.nf_straddr,
			   fi_strerror((int)-rc));
		return net_fi2der((int)rc) == -DER_NOMEM ? -DER_NOMEM : -DER_UNREACH;
	}
	rpc->r_flags |= NET_RPC_POSTED;
	ctx->c_rpc_posted++;
	ctx->c_stats.ns_sent++;
	if (ctx->c_bell_nr != 0)
		net_bell_ring(ctx, rpc->r_dest, true);
	return 0;
}

/*
 * RPCs queued behind @rpc (at the head of c_pending) for the same destination that fit
 * with it in one batch (NET_BATCH_LIMIT), into @ents (@rpc first); returns how many, and the
 * batch's length in *@lenp. Per destination, RPCs keep their order.
 */
static uint32_t
net_rpc_batch_collect(struct net_context *ctx, struct net_rpc *rpc, struct net_rpc **ents,
		      size_t *lenp)
{
	size_t len = net_msg_size(0, 0, 0) + net_batch_ent_size(rpc->r_len);
	struct net_op *op;
	uint32_t scanned = 0;
	uint32_t nr = 1;

	ents[0] = rpc;
	for (op = d_list_entry(rpc->r_op.no_link.next, struct net_op, no_link);
	     &op->no_link != &ctx->c_pending && nr < NET_BATCH_MAX && scanned++ < 4 * NET_BATCH_MAX;
	     op = d_list_entry(op->no_link.next, struct net_op, no_link)) {
		struct net_rpc *r;

		if (op->no_type != NET_OP_RPC_SEND)
			continue;
		r = container_of(op, struct net_rpc, r_op);
		if (r->r_dest != rpc->r_dest)
			continue;
		if (len + net_batch_ent_size(r->r_len) > NET_BATCH_LIMIT(ctx))
			break; /* the next RPC to this peer must not overtake it */
		len += net_batch_ent_size(r->r_len);
		ents[nr++] = r;
	}
	*lenp = len;
	return nr;
}

/*
 * Post @rpc with the RPCs queued behind it for its destination as one batch message
 * (NET_HF_BATCH): 0 when posted (the others are sent: they wait for their replies and
 * are no longer queued), -DER_AGAIN, or -DER_* for @rpc alone (the others stay queued).
 * 1: nothing to batch, post @rpc alone. The send faults act on the batch as on one send:
 * dropped, every RPC of it times out; failed, @rpc fails and the others stay queued.
 */
static int
net_rpc_batch_post(struct net_context *ctx, struct net_rpc *rpc)
{
	struct net_rpc *ents[NET_BATCH_MAX];
	size_t len;
	uint32_t nr;
	uint32_t i;
	uint8_t *p;
	int rc;

	nr = net_rpc_batch_collect(ctx, rpc, ents, &len);
	if (nr < 2)
		return 1;
	D_ALLOC_NZ(rpc->r_batch, len);
	if (rpc->r_batch == NULL)
		return 1;
	rpc->r_batch_len = len;
	p = net_hdr_encode(rpc->r_batch, NET_HF_BATCH, 0, 0, 0,
			   (uint32_t)(len - net_msg_size(0, 0, 0)), 0, NULL, 0, NET_TAG_ANY, NULL,
			   0);
	for (i = 0; i < nr; i++)
		p = net_batch_ent_encode(p, ents[i]->r_buf, ents[i]->r_len);
	D_ASSERT(p == rpc->r_batch + len);
	rc = net_rpc_try_post(ctx, rpc);
	if (rc != 0) {
		D_FREE(rpc->r_batch);
		return rc;
	}
	ctx->c_stats.ns_batches++;
	ctx->c_stats.ns_batched += nr;
	for (i = 1; i < nr; i++) {
		d_list_del_init(&ents[i]->r_op.no_link);
		ents[i]->r_flags &= ~NET_RPC_QUEUED;
		ctx->c_stats.ns_sent++;
	}
	return 0;
}

int
net_rpc_post(struct net_context *ctx, struct net_rpc *rpc)
{
	int rc = 1;

	D_ASSERT(rpc->r_flags & NET_RPC_QUEUED);
	if (ctx->c_batch)
		rc = net_rpc_batch_post(ctx, rpc);
	if (rc == 1)
		rc = net_rpc_try_post(ctx, rpc);
	if (rc == -DER_AGAIN)
		return rc;
	d_list_del_init(&rpc->r_op.no_link);
	rpc->r_flags &= ~NET_RPC_QUEUED;
	if (rc != 0)
		net_rpc_fail(ctx, rpc, rc);
	return 0;
}

void
net_rpc_send_done(struct net_context *ctx, struct net_rpc *rpc, int rc)
{
	D_ASSERT(rpc->r_flags & NET_RPC_POSTED);
	rpc->r_flags &= ~NET_RPC_POSTED;
	ctx->c_rpc_posted--;
	D_FREE(rpc->r_batch);
	if (rc != 0 && !(rpc->r_flags & NET_RPC_FINISHED)) {
		D_DEBUG("%s: send of RPC %#" PRIx64 " failed: " DF_RC "\n", ctx->c_fab.nf_straddr,
			rpc->r_id, DP_RC(rc));
		net_rpc_fail(ctx, rpc, rc == -DER_TIMEDOUT ? rc : -DER_UNREACH);
		return;
	}
	net_rpc_maybe_free(ctx, rpc);
}

int
net_rpc_timers_fire(struct net_context *ctx, uint64_t now)
{
	int n = 0;

	while (ctx->c_heap_nr > 0 && ctx->c_heap[0]->r_deadline <= now) {
		struct net_rpc *rpc = ctx->c_heap[0];

		ctx->c_stats.ns_timeouts++;
		D_DEBUG("%s: %s RPC %#" PRIx64 " timed out\n", ctx->c_fab.nf_straddr,
			rpc->r_info->oi_name, rpc->r_id);
		net_rpc_fail(ctx, rpc, -DER_TIMEDOUT);
		n++;
	}
	return n;
}

int
net_rpc_done_run(struct net_context *ctx)
{
	struct net_rpc *rpc;
	int n = 0;

	while ((rpc = d_list_pop_entry(&ctx->c_done, struct net_rpc, r_link)) != NULL) {
		net_rpc_callback(ctx, rpc, NULL, NULL);
		n++;
	}
	return n;
}

void
net_rpc_fini_all(struct net_context *ctx)
{
	struct net_rpc *rpc;
	struct net_rpc *tmp;

	/* The endpoint is closed: no send is posted any more. */
	d_list_for_each_entry (rpc, &ctx->c_rpcs, r_all)
		rpc->r_flags &= ~NET_RPC_POSTED;
	d_list_for_each_entry_safe (rpc, tmp, &ctx->c_rpcs, r_all) {
		if (!(rpc->r_flags & NET_RPC_FINISHED))
			net_rpc_finish(ctx, rpc, -DER_CANCELED);
	}
	while (!d_list_empty(&ctx->c_rpcs)) {
		rpc = d_list_first_entry(&ctx->c_rpcs, struct net_rpc, r_all);
		if (rpc->r_flags & NET_RPC_CB_DONE) {
			net_rpc_free(ctx, rpc);
			continue;
		}
		/* Not posted any more, so the callback frees it. */
		d_list_del_init(&rpc->r_link);
		net_rpc_callback(ctx, rpc, NULL, NULL);
	}
}

int
net_rpc_send(struct net_context *ctx, net_peer_t peer, uint16_t opc, const void *req,
	     const struct net_bulk *bulk, uint32_t timeout_ms, net_rpc_cb_t cb, void *arg,
	     uint64_t *id)
{
	const struct net_opc_info *info;
	struct net_rpc *rpc;
	struct net_wbuf w;
	size_t body_len;
	size_t rep_size;
	size_t len;
	uint16_t bulk_nr = 0;
	uint8_t *p;
	int rc;

	if (ctx == NULL || req == NULL || cb == NULL)
		return -DER_INVAL;
	if (ctx->c_stopping)
		return -DER_SHUTDOWN;
	if ((peer & NET_PEER_ALT) != 0 && ctx->c_alt != NULL) /* a shm client's tcp peer */
		return net_alt_send(ctx, peer, opc, req, bulk, timeout_ms, cb, arg, id);
	info = net_opc_info(opc);
	if (info == NULL)
		return -DER_UNREG;
	if (bulk != NULL) {
		if (bulk->b_ctx != ctx)
			return -DER_INVAL;
		bulk_nr = (uint16_t)bulk->b_nr;
	}
	body_len = info->oi_req_len(req);
	len = net_msg_size(ctx->c_fab.nf_name_len, bulk_nr, body_len);
	if (len > ctx->c_msg_max || body_len > UINT32_MAX) {
		D_DEBUG("%s: %s request of %zu bytes is over the limit %u\n", ctx->c_fab.nf_straddr,
			info->oi_name, len, ctx->c_msg_max);
		return -DER_OVERFLOW;
	}
	rc = net_heap_reserve(ctx);
	if (rc != 0)
		return rc;
	rep_size = NET_ALIGN8((size_t)info->oi_rep_size);
	D_ALLOC_NZ(rpc, sizeof(*rpc) + rep_size + len);
	if (rpc == NULL)
		return -DER_NOMEM;
	memset(rpc, 0, sizeof(*rpc));
	rpc->r_op.no_type = NET_OP_RPC_SEND;
	D_INIT_LIST_HEAD(&rpc->r_op.no_link);
	D_INIT_LIST_HEAD(&rpc->r_hlink);
	D_INIT_LIST_HEAD(&rpc->r_link);
	rpc->r_id = ctx->c_next_id++;
	rpc->r_heap_idx = NET_HEAP_NONE;
	rpc->r_info = info;
	rpc->r_cb = cb;
	rpc->r_arg = arg;
	rpc->r_dest = (fi_addr_t)(peer & 0xffffffffULL);
	rpc->r_len = len;
	rpc->r_buf = (uint8_t *)(rpc + 1) + rep_size;
	if (timeout_ms == 0)
		timeout_ms = NET_TIMEOUT_DEFAULT_MS;

	p = net_hdr_encode(rpc->r_buf, 0, opc, rpc->r_id, 0, (uint32_t)body_len, timeout_ms,
			   ctx->c_fab.nf_name, (uint16_t)ctx->c_fab.nf_name_len,
			   (peer >> 32) == 0 ? NET_TAG_ANY : (uint32_t)((peer >> 32) - 1),
			   bulk == NULL ? NULL : bulk->b_segs, bulk_nr);
	w.wb_cur = p;
	w.wb_end = rpc->r_buf + len;
	rc = info->oi_req_enc(req, &w);
	if (rc == 0 && w.wb_cur != w.wb_end) {
		D_ERROR("%s: encoder wrote %zu bytes, its length said %zu\n", info->oi_name,
			(size_t)(w.wb_cur - p), body_len);
		rc = -DER_INVAL;
	}
	if (rc != 0) {
		D_FREE(rpc);
		return rc;
	}

	rpc->r_start = d_now_ns();
	rpc->r_deadline = rpc->r_start + (uint64_t)timeout_ms * D_NSEC_PER_MSEC;
	d_list_add_tail(&rpc->r_all, &ctx->c_rpcs);
	ctx->c_stats.ns_rpcs++;
	d_list_add(&rpc->r_hlink, net_rpc_bucket(ctx, rpc->r_id));
	rpc->r_flags |= NET_RPC_IN_TABLE;
	net_heap_push(ctx, rpc);

	/*
	 * Behind others waiting for a post, wait too (FIFO); otherwise try now, unless sends
	 * are batched and one is in flight: then the next net_progress pass sends it with the
	 * others queued by then (net_context_arm refuses to sleep while it waits).
	 */
	rc = d_list_empty(&ctx->c_pending) && !(ctx->c_batch && ctx->c_rpc_posted > 0)
		 ? net_rpc_try_post(ctx, rpc)
		 : -DER_AGAIN;
	if (rc == -DER_AGAIN) {
		d_list_add_tail(&rpc->r_op.no_link, &ctx->c_pending);
		rpc->r_flags |= NET_RPC_QUEUED;
		rc = 0;
	}
	if (rc != 0) {
		net_rpc_finish(ctx, rpc, rc);
		net_rpc_free(ctx, rpc);
		return rc;
	}
	if (id != NULL)
		*id = rpc->r_id;
	return 0;
}

int
net_rpc_cancel(struct net_context *ctx, uint64_t id)
{
	struct net_rpc *rpc = net_rpc_find(ctx, id);

	if (rpc == NULL)
		return ctx->c_alt == NULL ? -DER_NONEXIST : net_rpc_cancel(ctx->c_alt, id);
	net_rpc_finish(ctx, rpc, -DER_CANCELED);
	d_list_add_tail(&rpc->r_link, &ctx->c_done);
	return 0;
}

struct net_call {
	bool nc_done;
	int nc_rc;
	void *nc_reply;
	struct net_msg *nc_msg;
};

static void
net_call_cb(struct net_rpc_done *done, void *arg)
{
	struct net_call *call = arg;
	const struct net_opc_info *info = net_opc_info(done->rd_opc);

	call->nc_rc = done->rd_rc;
	if (done->rd_reply != NULL && call->nc_reply != NULL) {
		memcpy(call->nc_reply, done->rd_reply, info->oi_rep_size);
		call->nc_msg = net_rpc_done_keep(done);
	}
	call->nc_done = true;
}

int
net_rpc_call(struct net_context *ctx, net_peer_t peer, uint16_t opc, const void *req,
	     const struct net_bulk *bulk, uint32_t timeout_ms, void *reply, struct net_msg **msg)
{
	struct net_call call = {.nc_reply = msg == NULL ? NULL : reply};
	int rc;

	if (msg != NULL)
		*msg = NULL;
	rc = net_rpc_send(ctx, peer, opc, req, bulk, timeout_ms, net_call_cb, &call, NULL);
	if (rc != 0)
		return rc;
	while (!call.nc_done)
		net_progress(ctx, 100 * 1000);
	if (msg != NULL)
		*msg = call.nc_msg;
	return call.nc_rc;
}
