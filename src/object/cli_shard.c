/*
 * cli_shard.c: the client half of object I/O for one shard on one target (libdaos). Each
 * call is an asynchronous operation of the event engine (daos/event.h): it encodes the
 * request, registers the caller's buffers for bulk when the values do not fit inline, sends
 * it on the event queue's network context, and completes the event from the reply.
 * The object layer above (placement, several shards) builds on these.
 */
#define D_LOGFAC object

#include <daos/event.h>
#include <daos/obj_rpc.h>
#include <daos/obj_shard.h>
#include <gurt/common.h>
#include <gurt/debug.h>

/* One shard operation in flight. */
struct shard_op {
	daos_event_t *so_ev;
	void (*so_cb)(void *arg, int rc);
	void *so_cb_arg;
	uint16_t so_opc;
	uint32_t so_qflags; /* query: DAOS_GET_* */
	char so_addr[NET_ADDR_STR_MAX];
	union {
		struct obj_update_in so_upd;
		struct obj_fetch_in so_fet;
		struct obj_punch_in so_pun;
		struct obj_list_in so_lst;
		struct obj_query_in so_qry;
		struct obj_query_coll_in so_qcol;
		struct obj_fetch_query_in so_fq;
	};
	void *so_blob; /* encoded iods or keys */
	void *so_caps; /* fetch: per-iod capacities */
	void *so_data; /* update: inline data gathered from the sgls */
	struct net_bulk *so_bulk;
	uint32_t so_timeout_ms;
	/* where results go (the caller's, borrowed until completion) */
	uint32_t so_iod_nr;
	daos_iod_t *so_iods;
	d_sg_list_t *so_sgls;
	daos_epoch_t *so_epoch;
	uint32_t *so_nr;
	daos_key_desc_t *so_kds;
	d_sg_list_t *so_sgl;
	daos_recx_t *so_recxs;
	daos_size_t *so_rsize;
	daos_anchor_t *so_anchor;
	daos_key_t *so_dkey;
	daos_key_t *so_akey;
	daos_recx_t *so_recx;
	int *so_qrc; /* fetch and query: the query's outcome */
};

static void
shard_op_free(struct shard_op *op)
{
	net_bulk_destroy(op->so_bulk);
	D_FREE(op->so_blob);
	D_FREE(op->so_caps);
	D_FREE(op->so_data);
	D_FREE(op);
}

/* The outcome of @op: to its caller's callback, or its event. Frees @op. */
static void
shard_op_done(struct shard_op *op, int rc)
{
	daos_event_t *ev = op->so_ev;
	void (*cb)(void *arg, int rc) = op->so_cb;
	void *arg = op->so_cb_arg;

	shard_op_free(op);
	if (cb != NULL)
		cb(arg, rc);
	else
		dc_ev_complete(ev, rc);
}

static void
shard_hdr_set(struct obj_hdr *h, const struct dc_obj_shard *sh, uint64_t flags)
{
	uuid_copy(h->oh_pool, sh->sh_pool);
	uuid_copy(h->oh_cont, sh->sh_cont);
	uuid_copy(h->oh_coh, sh->sh_coh);
	h->oh_oid_lo = sh->sh_oid.id_pub.lo;
	h->oh_oid_hi = sh->sh_oid.id_pub.hi;
	h->oh_shard = sh->sh_oid.id_shard;
	h->oh_map_ver = sh->sh_map_ver;
	h->oh_epoch = sh->sh_epoch;
	h->oh_flags = flags;
}

/* Bytes the first sg_nr iovs of @sgl hold (iov_len) or can hold (iov_buf_len). */
static uint64_t
sgl_bytes(const d_sg_list_t *sgl, bool cap)
{
	uint64_t n = 0;
	uint32_t i;

	for (i = 0; i < sgl->sg_nr; i++)
		n += cap ? sgl->sg_iovs[i].iov_buf_len : sgl->sg_iovs[i].iov_len;
	return n;
}

/* Register every iov of @sgls (@nr of them) as one bulk handle, in order. */
static int
shard_bulk_create(struct net_context *ctx, d_sg_list_t *sgls, uint32_t nr, uint32_t perm,
		  struct net_bulk **bulk)
{
	d_sg_list_t all = {0};
	uint32_t total = 0;
	uint32_t i;
	uint32_t j;
	int rc;

	for (i = 0; i < nr; i++)
		total += sgls[i].sg_nr;
	if (total > NET_BULK_SEG_MAX)
		return -DER_NOSYS; /* more buffers than one RPC can carry: the caller copies */
	D_ALLOC_ARRAY(all.sg_iovs, total > 0 ? total : 1);
	if (all.sg_iovs == NULL)
		return -DER_NOMEM;
	for (i = 0; i < nr; i++)
		for (j = 0; j < sgls[i].sg_nr; j++) {
			all.sg_iovs[all.sg_nr] = sgls[i].sg_iovs[j];
			if (perm == NET_BULK_READ)
				all.sg_iovs[all.sg_nr].iov_buf_len = all.sg_iovs[all.sg_nr].iov_len;
			all.sg_nr++;
		}
	rc = net_bulk_create(ctx, &all, perm, bulk);
	D_FREE(all.sg_iovs);
	return rc;
}

static void
shard_update_done(struct net_rpc_done *done, void *arg)
{
	struct shard_op *op = arg;
	struct obj_update_out *out = done->rd_reply;

	if (done->rd_rc == 0 && out != NULL && op->so_epoch != NULL)
		*op->so_epoch = out->uo_epoch;
	shard_op_done(op, done->rd_rc);
}

/* Copy @len bytes of @src into @sgl from its start, setting iov_len and sg_nr_out. */
static void
sgl_fill(d_sg_list_t *sgl, const uint8_t *src, uint64_t len)
{
	uint32_t i;

	sgl->sg_nr_out = 0;
	for (i = 0; i < sgl->sg_nr; i++) {
		d_iov_t *iov = &sgl->sg_iovs[i];
		uint64_t n = len < iov->iov_buf_len ? len : iov->iov_buf_len;

		if (n > 0)
			memcpy(iov->iov_buf, src, n);
		iov->iov_len = n;
		src += n;
		len -= n;
		if (n > 0)
			sgl->sg_nr_out = i + 1;
	}
}

/* After a bulk fetch: set iov_len/sg_nr_out as if @len bytes were copied in. */
static void
sgl_mark(d_sg_list_t *sgl, uint64_t len)
{
	uint32_t i;

	sgl->sg_nr_out = 0;
	for (i = 0; i < sgl->sg_nr; i++) {
		d_iov_t *iov = &sgl->sg_iovs[i];
		uint64_t n = len < iov->iov_buf_len ? len : iov->iov_buf_len;

		iov->iov_len = n;
		len -= n;
		if (n > 0)
			sgl->sg_nr_out = i + 1;
	}
}

/* An engine answered a fetch and query -DER_NOSYS or -DER_UNREG (dc_obj_fetch_query_refused). */
static bool shard_fq_refused;

bool
dc_obj_fetch_query_refused(void)
{
	return __atomic_load_n(&shard_fq_refused, __ATOMIC_RELAXED);
}

static void
shard_fetch_done(struct net_rpc_done *done, void *arg)
{
	struct shard_op *op = arg;
	struct obj_fetch_out *out = done->rd_reply;
	uint32_t nr = op->so_iod_nr;
	uint64_t *sizes = NULL;
	uint64_t *lens = NULL;
	uint64_t off = 0;
	int rc = done->rd_rc;
	uint32_t i;

	if ((rc == -DER_UNREG || rc == -DER_NOSYS) && op->so_opc == OBJ_OPC_FETCH_QUERY) {
		/* an engine without the opcode, or told not to serve it: stop asking */
		__atomic_store_n(&shard_fq_refused, true, __ATOMIC_RELAXED);
		rc = -DER_NOSYS;
	}
	if (rc != 0 && rc != -DER_REC2BIG)
		goto out;
	if (out == NULL) {
		rc = -DER_PROTO;
		goto out;
	}
	D_ALLOC_ARRAY(sizes, 2 * nr);
	if (sizes == NULL) {
		rc = -DER_NOMEM;
		goto out;
	}
	lens = sizes + nr;
	if (obj_u64s_decode(&out->fo_sizes, nr, sizes) != 0 ||
	    obj_u64s_decode(&out->fo_lens, nr, lens) != 0) {
		rc = -DER_PROTO;
		goto out;
	}
	for (i = 0; i < nr; i++) {
		op->so_iods[i].iod_size = sizes[i];
		if (rc == 0 && op->so_sgls != NULL && lens[i] > sgl_bytes(&op->so_sgls[i], true)) {
			rc = -DER_PROTO;
			goto out;
		}
		off += lens[i];
	}
	if (rc != 0)
		goto out;
	if (op->so_bulk == NULL && off != out->fo_data.iov_len) {
		rc = -DER_PROTO;
		goto out;
	}
	for (i = 0, off = 0; op->so_sgls != NULL && i < nr; i++) {
		if (op->so_bulk != NULL) {
			sgl_mark(&op->so_sgls[i], lens[i]);
		} else {
			sgl_fill(&op->so_sgls[i], (uint8_t *)out->fo_data.iov_buf + off, lens[i]);
			off += lens[i];
		}
	}
	if (op->so_epoch != NULL)
		*op->so_epoch = out->fo_epoch;
	if (op->so_opc == OBJ_OPC_FETCH_QUERY && rc == 0) {
		/* the fetch's fields lead the reply, in the same order */
		const struct obj_fetch_query_out *fq = done->rd_reply;

		if (fq->fqo_qrc > 0) {
			rc = -DER_PROTO; /* outcomes are 0 or -DER_* */
			goto out;
		}
		*op->so_qrc = fq->fqo_qrc;
		if (fq->fqo_qrc == 0) {
			if (op->so_dkey->iov_buf_len < sizeof(uint64_t)) {
				rc = -DER_KEY2BIG;
				goto out;
			}
			memcpy(op->so_dkey->iov_buf, &fq->fqo_dkey, sizeof(uint64_t));
			op->so_dkey->iov_len = sizeof(uint64_t);
			if (op->so_recx != NULL) {
				op->so_recx->rx_idx = fq->fqo_rx_idx;
				op->so_recx->rx_nr = fq->fqo_rx_nr;
			}
		}
	}
out:
	D_FREE(sizes);
	shard_op_done(op, rc);
}

static void
shard_simple_done(struct net_rpc_done *done, void *arg)
{
	struct shard_op *op = arg;

	if (done->rd_rc == 0 && done->rd_reply != NULL && op->so_epoch != NULL)
		*op->so_epoch = ((struct obj_punch_out *)done->rd_reply)->po_epoch;
	shard_op_done(op, done->rd_rc);
}

static int
shard_list_unpack(struct shard_op *op, struct obj_list_out *out, int rc)
{
	const uint8_t *p;
	uint32_t n;
	uint32_t i;

	if (out->lo_anchor.iov_len != sizeof(daos_anchor_t))
		return -DER_PROTO;
	if (rc == -DER_KEY2BIG) {
		uint64_t len;

		if (out->lo_kds.iov_len != 12 || op->so_kds == NULL)
			return -DER_PROTO;
		memcpy(&len, out->lo_kds.iov_buf, 8);
		op->so_kds[0].kd_key_len = le64toh(len);
		*op->so_nr = 0;
		return rc;
	}
	n = out->lo_nr;
	if (n > *op->so_nr)
		return -DER_PROTO;
	if (op->so_lst.li_kind == OBJ_LIST_RECX) {
		if (out->lo_recxs.iov_len != 16ULL * n)
			return -DER_PROTO;
		for (i = 0, p = out->lo_recxs.iov_buf; i < n; i++, p += 16) {
			memcpy(&op->so_recxs[i].rx_idx, p, 8);
			memcpy(&op->so_recxs[i].rx_nr, p + 8, 8);
			op->so_recxs[i].rx_idx = le64toh(op->so_recxs[i].rx_idx);
			op->so_recxs[i].rx_nr = le64toh(op->so_recxs[i].rx_nr);
		}
		if (op->so_rsize != NULL)
			*op->so_rsize = out->lo_rsize;
	} else {
		uint64_t total = 0;

		if (out->lo_kds.iov_len != 12ULL * n)
			return -DER_PROTO;
		for (i = 0, p = out->lo_kds.iov_buf; i < n; i++, p += 12) {
			uint64_t len;
			uint32_t type;

			memcpy(&len, p, 8);
			memcpy(&type, p + 8, 4);
			op->so_kds[i].kd_key_len = le64toh(len);
			op->so_kds[i].kd_val_type = le32toh(type);
			total += op->so_kds[i].kd_key_len;
		}
		if (total != out->lo_keys.iov_len || total > sgl_bytes(op->so_sgl, true))
			return -DER_PROTO;
		sgl_fill(op->so_sgl, out->lo_keys.iov_buf, total);
	}
	*op->so_nr = n;
	memcpy(op->so_anchor, out->lo_anchor.iov_buf, sizeof(daos_anchor_t));
	return 0;
}

static void
shard_list_done(struct net_rpc_done *done, void *arg)
{
	struct shard_op *op = arg;
	int rc = done->rd_rc;

	if (rc == 0 || rc == -DER_KEY2BIG)
		rc =
		    done->rd_reply == NULL ? -DER_PROTO : shard_list_unpack(op, done->rd_reply, rc);
	shard_op_done(op, rc);
}

static int
shard_key_out(daos_key_t *dst, const d_iov_t *src)
{
	if (dst == NULL || src->iov_len == 0)
		return 0;
	if (dst->iov_buf_len < src->iov_len)
		return -DER_KEY2BIG;
	memcpy(dst->iov_buf, src->iov_buf, src->iov_len);
	dst->iov_len = src->iov_len;
	return 0;
}

static void
shard_query_done(struct net_rpc_done *done, void *arg)
{
	struct shard_op *op = arg;
	struct obj_query_out *out = done->rd_reply;
	int rc = done->rd_rc;

	if (rc == 0 && out == NULL)
		rc = -DER_PROTO;
	if (rc == 0 && (op->so_qflags & DAOS_GET_DKEY))
		rc = shard_key_out(op->so_dkey, &out->qo_dkey);
	if (rc == 0 && (op->so_qflags & DAOS_GET_AKEY))
		rc = shard_key_out(op->so_akey, &out->qo_akey);
	if (rc == 0 && (op->so_qflags & DAOS_GET_RECX) && op->so_recx != NULL) {
		op->so_recx->rx_idx = out->qo_rx_idx;
		op->so_recx->rx_nr = out->qo_rx_nr;
	}
	shard_op_done(op, rc);
}

/* Gather @nr sgls' data (iov_len bytes each) into one buffer of @len bytes. */
static int
sgls_gather(const d_sg_list_t *sgls, uint32_t nr, uint64_t len, void **bufp)
{
	uint8_t *buf;
	uint8_t *p;
	uint32_t i;
	uint32_t j;

	D_ALLOC_NZ(buf, len > 0 ? len : 1);
	if (buf == NULL)
		return -DER_NOMEM;
	p = buf;
	for (i = 0; i < nr; i++)
		for (j = 0; j < sgls[i].sg_nr; j++) {
			const d_iov_t *iov = &sgls[i].sg_iovs[j];

			memcpy(p, iov->iov_buf, iov->iov_len);
			p += iov->iov_len;
		}
	*bufp = buf;
	return 0;
}

/* Object RPCs sent by this process, by opcode index (dc_obj_rpc_counts). */
static uint64_t shard_rpc_cnt[DC_OBJ_RPC_NR];

void
dc_obj_rpc_counts(uint64_t counts[DC_OBJ_RPC_NR])
{
	int i;

	for (i = 0; i < DC_OBJ_RPC_NR; i++)
		counts[i] = __atomic_load_n(&shard_rpc_cnt[i], __ATOMIC_RELAXED);
}

/* Runs under the queue's progress lock: resolve the target, bulk if needed, send. */
static int
shard_send(struct net_context *ctx, void *arg)
{
	struct shard_op *op = arg;
	uint32_t inline_max = net_context_inline_max(ctx);
	net_rpc_cb_t cb;
	const void *req;
	net_peer_t peer;
	int rc;

	rc = net_peer_lookup(ctx, op->so_addr, &peer);
	if (rc != 0)
		return rc;
	switch (op->so_opc) {
	case OBJ_OPC_UPDATE: {
		struct obj_update_in *in = &op->so_upd;

		if (in->ui_data_len <= inline_max) {
			rc = sgls_gather(op->so_sgls, op->so_iod_nr, in->ui_data_len, &op->so_data);
			if (rc != 0)
				return rc;
			d_iov_set(&in->ui_data, op->so_data, in->ui_data_len);
		} else {
			rc = shard_bulk_create(ctx, op->so_sgls, op->so_iod_nr, NET_BULK_READ,
					       &op->so_bulk);
			if (rc == -DER_NOSYS) /* too many buffers: one copy */
				rc = sgls_gather(op->so_sgls, op->so_iod_nr, in->ui_data_len,
						 &op->so_data);
			if (rc == 0 && op->so_bulk == NULL) {
				d_sg_list_t one;
				d_iov_t iov;

				d_iov_set(&iov, op->so_data, in->ui_data_len);
				one = (d_sg_list_t){.sg_nr = 1, .sg_iovs = &iov};
				rc = net_bulk_create(ctx, &one, NET_BULK_READ, &op->so_bulk);
			}
			if (rc != 0)
				return rc;
			in->oh_flags |= OBJ_F_BULK;
		}
		req = in;
		cb = shard_update_done;
		break;
	}
	case OBJ_OPC_FETCH:
	case OBJ_OPC_FETCH_QUERY: {
		/* a fetch and query's fields begin as a fetch's */
		struct obj_fetch_in *in = &op->so_fet;
		uint64_t total = 0;
		uint32_t i;

		for (i = 0; op->so_sgls != NULL && i < op->so_iod_nr; i++)
			total += sgl_bytes(&op->so_sgls[i], true);
		if (total > inline_max && op->so_opc == OBJ_OPC_FETCH_QUERY)
			return -DER_NOSYS; /* inline only: the caller asks the two apart */
		if (total > inline_max) {
			rc = shard_bulk_create(ctx, op->so_sgls, op->so_iod_nr, NET_BULK_WRITE,
					       &op->so_bulk);
			if (rc == -DER_NOSYS) {
				D_ERROR("fetch into more than %u buffers is not supported yet\n",
					NET_BULK_SEG_MAX);
				return rc;
			}
			if (rc != 0)
				return rc;
			in->oh_flags |= OBJ_F_BULK;
		}
		req = in;
		cb = shard_fetch_done;
		break;
	}
	case OBJ_OPC_PUNCH:
		req = &op->so_pun;
		cb = shard_simple_done;
		break;
	case OBJ_OPC_LIST:
		req = &op->so_lst;
		cb = shard_list_done;
		break;
	case OBJ_OPC_QUERY_COLL:
		req = &op->so_qcol;
		cb = shard_query_done;
		break;
	default:
		req = &op->so_qry;
		cb = shard_query_done;
		break;
	}
	rc = net_rpc_send(ctx, peer, op->so_opc, req, op->so_bulk, op->so_timeout_ms, cb, op, NULL);
	if (rc == 0) {
		/* a collective query counts as a query, a fetch and query as a fetch */
		uint32_t idx = op->so_opc == OBJ_OPC_QUERY_COLL ? NET_OPC_INDEX(OBJ_OPC_QUERY_KEY)
			       : op->so_opc == OBJ_OPC_FETCH_QUERY ? NET_OPC_INDEX(OBJ_OPC_FETCH)
								   : NET_OPC_INDEX(op->so_opc);

		if (idx < DC_OBJ_RPC_NR)
			__atomic_add_fetch(&shard_rpc_cnt[idx], 1, __ATOMIC_RELAXED);
	}
	if (rc != 0 && op->so_bulk != NULL) {
		/* no callback will run: the handle goes now, on this context's thread */
		net_bulk_destroy(op->so_bulk);
		op->so_bulk = NULL;
	}
	return rc;
}

/* Allocate an operation on @sh's target. */
static int
shard_op_alloc(const struct dc_obj_shard *sh, uint16_t opc, struct shard_op **opp)
{
	struct shard_op *op;

	if (sh == NULL || sh->sh_addr == NULL || strlen(sh->sh_addr) >= NET_ADDR_STR_MAX)
		return -DER_INVAL;
	D_ALLOC_PTR(op);
	if (op == NULL)
		return -DER_NOMEM;
	op->so_opc = opc;
	op->so_cb = sh->sh_cb;
	op->so_cb_arg = sh->sh_cb_arg;
	op->so_timeout_ms = sh->sh_timeout_ms;
	strcpy(op->so_addr, sh->sh_addr);
	*opp = op;
	return 0;
}

/* Launch @op on @ev (NULL: block), or complete it at once with @rc. */
static int
shard_op_run(struct shard_op *op, int rc, daos_event_t *ev)
{
	daos_event_t *priv = NULL;
	int rc2;

	if (op->so_cb != NULL) {
		/* a part of an operation already launched on @ev */
		if (ev == NULL) {
			shard_op_free(op);
			return -DER_INVAL;
		}
		op->so_ev = ev;
		if (rc == 0)
			rc = dc_ev_net_exec(ev, shard_send, op);
		if (rc != 0)
			shard_op_done(op, rc);
		return 0;
	}
	rc2 = dc_ev_begin(ev, &priv);
	if (rc2 != 0) {
		shard_op_free(op);
		return rc2;
	}
	op->so_ev = priv != NULL ? priv : ev;
	if (rc == 0)
		rc = dc_ev_net_exec(op->so_ev, shard_send, op);
	if (rc != 0)
		shard_op_done(op, rc);
	return dc_ev_end(ev, priv);
}

/* Encode @nr iods (@keys false) or keys into op->so_blob, pointed at by @blob. */
static int
shard_blob_make(struct shard_op *op, bool keys, const void *items, uint32_t nr, d_iov_t *blob)
{
	int64_t n;

	n = keys ? obj_keys_encode(items, nr, NULL, 0) : obj_iods_encode(items, nr, NULL, 0);
	if (n < 0)
		return (int)n;
	D_ALLOC_NZ(op->so_blob, n > 0 ? n : 1);
	if (op->so_blob == NULL)
		return -DER_NOMEM;
	if (keys)
		obj_keys_encode(items, nr, op->so_blob, n);
	else
		obj_iods_encode(items, nr, op->so_blob, n);
	d_iov_set(blob, op->so_blob, n);
	return 0;
}

int
dc_obj_shard_update(const struct dc_obj_shard *sh, uint64_t flags, daos_key_t *dkey, uint32_t nr,
		    daos_iod_t *iods, d_sg_list_t *sgls, daos_epoch_t *epoch, daos_event_t *ev)
{
	struct shard_op *op;
	int64_t len;
	uint32_t i;
	int rc;

	rc = shard_op_alloc(sh, OBJ_OPC_UPDATE, &op);
	if (rc != 0)
		return rc;
	op->so_iod_nr = nr;
	op->so_sgls = sgls;
	op->so_epoch = epoch;
	shard_hdr_set((struct obj_hdr *)&op->so_upd, sh, flags & DAOS_COND_MASK);
	if (dkey == NULL || dkey->iov_len == 0 || dkey->iov_len > OBJ_KEY_MAX || nr == 0 ||
	    nr > OBJ_IOD_MAX || iods == NULL || sgls == NULL) {
		rc = -DER_INVAL;
		goto run;
	}
	op->so_upd.ui_dkey = *dkey;
	op->so_upd.ui_iod_nr = nr;
	len = obj_iods_data_len(iods, nr);
	if (len < 0 || (uint64_t)len > OBJ_IO_MAX) {
		rc = -DER_INVAL;
		goto run;
	}
	/* each iod's sgl must hold exactly its part of the stream */
	for (i = 0; i < nr; i++) {
		int64_t one = obj_iods_data_len(&iods[i], 1);

		if ((uint64_t)one != sgl_bytes(&sgls[i], false)) {
			rc = -DER_INVAL;
			goto run;
		}
	}
	op->so_upd.ui_data_len = len;
	rc = shard_blob_make(op, false, iods, nr, &op->so_upd.ui_iods);
run:
	return shard_op_run(op, rc, ev);
}

/* A fetch (OBJ_OPC_FETCH) or the fetch half of a fetch and query, made in @op. */
static int
shard_fetch_init(struct shard_op *op, const struct dc_obj_shard *sh, uint64_t flags,
		 daos_key_t *dkey, uint32_t nr, daos_iod_t *iods, d_sg_list_t *sgls,
		 daos_epoch_t *epoch)
{
	uint64_t *caps = NULL;
	uint32_t i;
	int rc;

	op->so_iod_nr = nr;
	op->so_iods = iods;
	op->so_sgls = sgls;
	op->so_epoch = epoch;
	shard_hdr_set((struct obj_hdr *)&op->so_fet, sh, flags & DAOS_COND_MASK);
	if (dkey == NULL || dkey->iov_len == 0 || dkey->iov_len > OBJ_KEY_MAX || nr == 0 ||
	    nr > OBJ_IOD_MAX || iods == NULL) {
		rc = -DER_INVAL;
		goto run;
	}
	op->so_fet.fi_dkey = *dkey;
	op->so_fet.fi_iod_nr = nr;
	rc = shard_blob_make(op, false, iods, nr, &op->so_fet.fi_iods);
	if (rc != 0)
		goto run;
	D_ALLOC_ARRAY(caps, nr);
	if (caps == NULL) {
		rc = -DER_NOMEM;
		goto run;
	}
	for (i = 0; i < nr; i++)
		caps[i] = htole64(sgls != NULL ? sgl_bytes(&sgls[i], true) : 0);
	op->so_caps = caps;
	d_iov_set(&op->so_fet.fi_caps, caps, 8 * nr);
run:
	return rc;
}

int
dc_obj_shard_fetch(const struct dc_obj_shard *sh, uint64_t flags, daos_key_t *dkey, uint32_t nr,
		   daos_iod_t *iods, d_sg_list_t *sgls, daos_epoch_t *epoch, daos_event_t *ev)
{
	struct shard_op *op;
	int rc;

	rc = shard_op_alloc(sh, OBJ_OPC_FETCH, &op);
	if (rc != 0)
		return rc;
	rc = shard_fetch_init(op, sh, flags, dkey, nr, iods, sgls, epoch);
	return shard_op_run(op, rc, ev);
}

int
dc_obj_shard_fetch_query(const struct dc_obj_shard *sh, daos_key_t *dkey, uint32_t nr,
			 daos_iod_t *iods, d_sg_list_t *sgls, daos_obj_id_t qoid, uint32_t qflags,
			 daos_key_t *qdkey, daos_key_t *qakey, daos_recx_t *qrecx,
			 const struct obj_coll_shard *cs, uint32_t cs_nr, int *qrc,
			 daos_event_t *ev)
{
	struct obj_fetch_query_in *in;
	struct shard_op *op;
	int rc;

	if (cs_nr == 0 || cs_nr > OBJ_COLL_MAX || cs == NULL || qrc == NULL || qdkey == NULL ||
	    qakey == NULL || !(qflags & DAOS_GET_DKEY) || (qflags & DAOS_GET_AKEY) ||
	    !obj_qflags_valid(qflags))
		return -DER_INVAL;
	*qrc = -DER_NONEXIST;
	rc = shard_op_alloc(sh, OBJ_OPC_FETCH_QUERY, &op);
	if (rc != 0)
		return rc;
	in = &op->so_fq;
	rc = shard_fetch_init(op, sh, 0, dkey, nr, iods, sgls, NULL);
	op->so_dkey = qdkey;
	op->so_recx = qrecx;
	op->so_qrc = qrc;
	in->fqi_oid_lo = qoid.lo;
	in->fqi_oid_hi = qoid.hi;
	in->fqi_qflags = qflags;
	in->fqi_akey = *qakey;
	if (rc == 0) {
		/* so_blob holds the iods: the pairs go after the capacities */
		void *caps;

		D_REALLOC(caps, op->so_caps, 8 * nr + 8 * cs_nr);
		if (caps == NULL) {
			rc = -DER_NOMEM;
		} else {
			op->so_caps = caps;
			obj_coll_encode(cs, cs_nr, (uint8_t *)op->so_caps + 8 * nr);
			d_iov_set(&in->fi_caps, op->so_caps, 8 * nr);
			d_iov_set(&in->fqi_shards, (uint8_t *)op->so_caps + 8 * nr, 8 * cs_nr);
			in->fqi_shard_nr = cs_nr;
		}
	}
	return shard_op_run(op, rc, ev);
}

int
dc_obj_shard_punch(const struct dc_obj_shard *sh, uint32_t kind, uint64_t flags, daos_key_t *dkey,
		   uint32_t nr, daos_key_t *keys, daos_epoch_t *epoch, daos_event_t *ev)
{
	struct shard_op *op;
	int rc;

	rc = shard_op_alloc(sh, OBJ_OPC_PUNCH, &op);
	if (rc != 0)
		return rc;
	op->so_epoch = epoch;
	shard_hdr_set((struct obj_hdr *)&op->so_pun, sh, flags & DAOS_COND_PUNCH);
	op->so_pun.pi_kind = kind;
	if (dkey != NULL)
		op->so_pun.pi_dkey = *dkey;
	if (kind != OBJ_PUNCH_OBJ) {
		if (nr == 0 || keys == NULL) {
			rc = -DER_INVAL;
			goto run;
		}
		rc = shard_blob_make(op, true, keys, nr, &op->so_pun.pi_keys);
		op->so_pun.pi_key_nr = nr;
	}
run:
	return shard_op_run(op, rc, ev);
}

int
dc_obj_shard_list(const struct dc_obj_shard *sh, uint32_t kind, daos_key_t *dkey, daos_key_t *akey,
		  uint32_t *nr, daos_key_desc_t *kds, d_sg_list_t *sgl, daos_recx_t *recxs,
		  daos_size_t *rsize, daos_anchor_t *anchor, daos_event_t *ev)
{
	struct shard_op *op;
	int rc;

	rc = shard_op_alloc(sh, OBJ_OPC_LIST, &op);
	if (rc != 0)
		return rc;
	shard_hdr_set((struct obj_hdr *)&op->so_lst, sh, 0);
	op->so_nr = nr;
	op->so_kds = kds;
	op->so_sgl = sgl;
	op->so_recxs = recxs;
	op->so_rsize = rsize;
	op->so_anchor = anchor;
	if (nr == NULL || *nr == 0 || anchor == NULL ||
	    (kind == OBJ_LIST_RECX ? recxs == NULL : (kds == NULL || sgl == NULL))) {
		rc = -DER_INVAL;
		goto run;
	}
	op->so_lst.li_kind = kind;
	if (dkey != NULL)
		op->so_lst.li_dkey = *dkey;
	if (akey != NULL)
		op->so_lst.li_akey = *akey;
	d_iov_set(&op->so_lst.li_anchor, anchor, sizeof(*anchor));
	op->so_lst.li_nr = *nr < OBJ_LIST_NR_MAX ? *nr : OBJ_LIST_NR_MAX;
	if (kind != OBJ_LIST_RECX) {
		uint64_t cap = sgl_bytes(sgl, true);

		op->so_lst.li_buf_len = cap < OBJ_LIST_BUF_MAX ? (uint32_t)cap : OBJ_LIST_BUF_MAX;
	}
run:
	return shard_op_run(op, rc, ev);
}

int
dc_obj_shard_query_key(const struct dc_obj_shard *sh, uint32_t flags, daos_key_t *dkey,
		       daos_key_t *akey, daos_recx_t *recx, daos_event_t *ev)
{
	struct shard_op *op;
	int rc;

	rc = shard_op_alloc(sh, OBJ_OPC_QUERY_KEY, &op);
	if (rc != 0)
		return rc;
	shard_hdr_set((struct obj_hdr *)&op->so_qry, sh, 0);
	op->so_qry.qi_qflags = flags;
	op->so_qflags = flags;
	op->so_dkey = dkey;
	op->so_akey = akey;
	op->so_recx = recx;
	if (!(flags & DAOS_GET_DKEY) && dkey != NULL)
		op->so_qry.qi_dkey = *dkey;
	if (!(flags & DAOS_GET_AKEY) && akey != NULL)
		op->so_qry.qi_akey = *akey;
	return shard_op_run(op, 0, ev);
}

int
dc_obj_shard_query_coll(const struct dc_obj_shard *sh, uint32_t flags, daos_key_t *dkey,
			daos_key_t *akey, daos_recx_t *recx, const struct obj_coll_shard *cs,
			uint32_t nr, daos_event_t *ev)
{
	struct obj_query_coll_in *in;
	struct shard_op *op;
	int rc;

	if (nr == 0 || nr > OBJ_COLL_MAX || cs == NULL)
		return -DER_INVAL;
	rc = shard_op_alloc(sh, OBJ_OPC_QUERY_COLL, &op);
	if (rc != 0)
		return rc;
	in = &op->so_qcol;
	shard_hdr_set((struct obj_hdr *)in, sh, 0);
	in->qi_qflags = flags;
	op->so_qflags = flags;
	op->so_dkey = dkey;
	op->so_akey = akey;
	op->so_recx = recx;
	if (!(flags & DAOS_GET_DKEY) && dkey != NULL)
		in->qi_dkey = *dkey;
	if (!(flags & DAOS_GET_AKEY) && akey != NULL)
		in->qi_akey = *akey;
	D_ALLOC(op->so_blob, 8 * nr);
	if (op->so_blob == NULL) {
		rc = -DER_NOMEM;
	} else {
		obj_coll_encode(cs, nr, op->so_blob);
		in->qi_shard_nr = nr;
		d_iov_set(&in->qi_shards, op->so_blob, 8 * nr);
	}
	return shard_op_run(op, rc, ev);
}
