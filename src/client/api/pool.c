/*
 * pool.c: the pool API of libdaos (daos_pool.h) over the management service: connect,
 * disconnect, query, container list, user attributes (dc_svc_call, methods 220-228 of
 * cont.proto), and the handle's global form for other processes (local2global/global2local).
 *
 * Every call is asynchronous (dc_svc_send): with an event it returns once the request is
 * sent, and the reply's callback fills the out-parameters and completes the event; chains
 * (connect then query, query then map refresh, a failed connect's disconnect) continue in
 * those callbacks on the same event. Without an event the call blocks (a private event).
 */
#define D_LOGFAC client

#include <endian.h>
#include <string.h>

#include <isa-l/crc.h>
#include <protobuf-c/protobuf-c.h>

#include <daos.h>
#include <daos/client.h>
#include <daos/event.h>
#include <daos/pool_map.h>
#include <daos/security.h>
#include <daos/svc_rpc.h>
#include <daos_srv/ctl.h>
#include <gurt/common.h>

#include "client_internal.h"
#include "mgmt/cont.pb-c.h"
#include "mgmt/pool.pb-c.h"

void
dc_pool_hdr_fill(struct dc_pool *pool, Mgmt__ClientHeader *hdr, struct dc_pool_hdr_bufs *bufs)
{
	uuid_unparse_lower(pool->dp_uuid, bufs->hb_pool);
	uuid_unparse_lower(pool->dp_hdl, bufs->hb_hdl);
	hdr->sys = pool->dp_sys;
	hdr->pool = bufs->hb_pool;
	hdr->pool_hdl = bufs->hb_hdl;
}

/* The header of a request about an open pool handle, and the strings it points to. */
struct pool_req_hdr {
	Mgmt__ClientHeader rh_hdr;
	struct dc_pool_hdr_bufs rh_bufs;
};

/*
 * The prologue of a call on pool handle @poh: its pool, referenced (the caller puts it or
 * gives it to the call), with @rh filled for it and *@hdrp (the request's hdr) pointing to
 * it. NULL when @poh is no pool handle: the caller answers -DER_NO_HDL.
 */
static struct dc_pool *
pool_hdl_req(daos_handle_t poh, struct pool_req_hdr *rh, Mgmt__ClientHeader **hdrp)
{
	struct dc_pool *pool;

	pool = dc_pool_get(poh);
	if (pool == NULL)
		return NULL;
	mgmt__client_header__init(&rh->rh_hdr);
	dc_pool_hdr_fill(pool, &rh->rh_hdr, &rh->rh_bufs);
	*hdrp = &rh->rh_hdr;
	return pool;
}

/* The map and addresses of a PoolConnectResp, new. */
static int
pool_resp_map(const Mgmt__PoolConnectResp *resp, struct pool_map **mapp,
	      struct dc_rank_uris **ranksp, uint32_t *nrp)
{
	struct dc_rank_uris *ranks;
	struct pool_map *map = NULL;
	uint32_t nr = (uint32_t)resp->n_ranks;
	uint32_t i, j;
	int rc;

	if (resp->map.len == 0 || resp->n_ranks == 0 || resp->n_ranks > (1U << 20)) {
		D_ERROR("the service's pool map answer is empty or too big\n");
		return -DER_PROTO;
	}
	rc = pool_map_decode(resp->map.data, resp->map.len, &map);
	if (rc != 0) {
		D_ERROR("the service's pool map does not decode: " DF_RC "\n", DP_RC(rc));
		return rc == -DER_NOMEM ? rc : -DER_PROTO;
	}
	D_ALLOC_ARRAY(ranks, nr);
	if (ranks == NULL) {
		pool_map_destroy(map);
		return -DER_NOMEM;
	}
	for (i = 0; i < nr; i++) {
		const Mgmt__RankUris *ru = resp->ranks[i];

		ranks[i].ru_rank = ru->rank;
		D_ALLOC_ARRAY(ranks[i].ru_uris, ru->n_uris > 0 ? ru->n_uris : 1);
		if (ranks[i].ru_uris == NULL)
			goto nomem;
		ranks[i].ru_nr = (uint32_t)ru->n_uris;
		for (j = 0; j < ru->n_uris; j++) {
			D_STRNDUP(ranks[i].ru_uris[j], ru->uris[j], NET_ADDR_STR_MAX);
			if (ranks[i].ru_uris[j] == NULL)
				goto nomem;
		}
	}
	*mapp = map;
	*ranksp = ranks;
	*nrp = nr;
	return 0;
nomem:
	dc_rank_uris_free(ranks, nr);
	pool_map_destroy(map);
	return -DER_NOMEM;
}

/* A map refresh in flight: what to do once the map is installed (or not). */
struct pool_refresh_op {
	struct dc_pool *pr_pool;
	int (*pr_next)(void *arg, int rc, daos_event_t *ev);
	void *pr_arg;
};

static int
pool_refresh_cb(void *arg, int rc, ProtobufCMessage **resp, daos_event_t *ev)
{
	struct pool_refresh_op *op = arg;
	struct dc_rank_uris *ranks;
	struct pool_map *map;
	uint32_t nr;
	int ret;

	if (rc == 0)
		rc = pool_resp_map((Mgmt__PoolConnectResp *)*resp, &map, &ranks, &nr);
	if (rc == 0) {
		D_DEBUG("pool " DF_UUID ": map version %u from the service\n",
			DP_UUID(op->pr_pool->dp_uuid), pool_map_get_version(map));
		dc_pool_map_replace(op->pr_pool, map, ranks, nr);
	}
	ret = op->pr_next != NULL ? op->pr_next(op->pr_arg, rc, ev) : rc;
	D_FREE(op);
	return ret;
}

/*
 * Fetch and install the current map of @pool on running event @ev, then call @next(@arg,
 * rc, ev) (NULL: complete @ev with rc), whose return completes @ev (or DC_SVC_MORE).
 */
static void
pool_refresh_send(daos_event_t *ev, struct dc_pool *pool,
		  int (*next)(void *arg, int rc, daos_event_t *ev), void *arg)
{
	Mgmt__PoolHdlReq req = MGMT__POOL_HDL_REQ__INIT;
	Mgmt__ClientHeader hdr = MGMT__CLIENT_HEADER__INIT;
	struct dc_pool_hdr_bufs bufs;
	struct pool_refresh_op *op;
	int rc;

	D_ALLOC_PTR(op);
	if (op == NULL) {
		rc = next != NULL ? next(arg, -DER_NOMEM, ev) : -DER_NOMEM;
		if (rc != DC_SVC_MORE)
			dc_ev_complete(ev, rc);
		return;
	}
	op->pr_pool = pool;
	op->pr_next = next;
	op->pr_arg = arg;
	dc_pool_hdr_fill(pool, &hdr, &bufs);
	req.hdr = &hdr;
	dc_svc_send(ev, pool, DSS_CTL_POOL_MAP_GET, &req.base, &mgmt__pool_connect_resp__descriptor,
		    pool_refresh_cb, op);
}

int
dc_pool_map_refresh(struct dc_pool *pool)
{
	daos_event_t *priv = NULL;
	int rc;

	if (pool->dp_local)
		return -DER_NOSYS; /* no service handle to ask with */
	rc = dc_ev_begin(NULL, &priv);
	if (rc != 0)
		return rc;
	pool_refresh_send(priv, pool, NULL, NULL);
	return dc_ev_end(NULL, priv);
}

/* Fill @info (pi_bits says what) from a PoolQueryResp. */
static void
pool_info_fill(daos_pool_info_t *info, const Mgmt__PoolQueryResp *r, struct dc_pool *pool)
{
	uint64_t bits = info->pi_bits;
	size_t i;

	memset(info, 0, sizeof(*info));
	info->pi_bits = bits;
	uuid_copy(info->pi_uuid, pool->dp_uuid);
	info->pi_ntargets = r->total_targets;
	info->pi_nnodes = r->total_engines;
	info->pi_ndisabled = r->disabled_targets;
	info->pi_map_ver = r->version;
	info->pi_leader = r->svc_ldr;
	if (bits & DPI_SPACE) {
		for (i = 0; i < r->n_tier_stats; i++) {
			const Mgmt__StorageUsageStats *t = r->tier_stats[i];
			unsigned int m = t->media_type == MGMT__STORAGE_MEDIA_TYPE__NVME
					     ? DAOS_MEDIA_NVME
					     : DAOS_MEDIA_SCM;

			info->pi_space.ps_space.s_total[m] = t->total;
			info->pi_space.ps_space.s_free[m] = t->free;
			info->pi_space.ps_free_min[m] = t->min;
			info->pi_space.ps_free_max[m] = t->max;
			info->pi_space.ps_free_mean[m] = t->mean;
		}
		info->pi_space.ps_ntargets = r->active_targets;
	}
	if ((bits & DPI_REBUILD_STATUS) && r->rebuild != NULL) {
		struct daos_rebuild_status *rs = &info->pi_rebuild_st;

		rs->rs_errno = r->rebuild->status;
		/* DAOS: in progress 0, not started 1, completed 2 */
		switch (r->rebuild->state) {
		case MGMT__POOL_REBUILD_STATUS__STATE__BUSY:
			rs->rs_state = 0;
			break;
		case MGMT__POOL_REBUILD_STATUS__STATE__DONE:
			rs->rs_state = 2;
			break;
		default:
			rs->rs_state = 1;
			break;
		}
		rs->rs_obj_nr = r->rebuild->objects;
		rs->rs_rec_nr = r->rebuild->records;
		rs->rs_toberb_obj_nr = r->rebuild->total_objects;
	}
}

/* A pool query in flight (daos_pool_query, and connect with an info to fill). */
struct pool_query_op {
	struct dc_pool *pq_pool; /* referenced */
	d_rank_list_t **pq_ranks;
	daos_pool_info_t *pq_info;
	Mgmt__PoolQueryResp *pq_resp;
	/* after the query: (NULL: complete the event with its result) */
	int (*pq_next)(void *arg, int rc, daos_event_t *ev);
	void *pq_next_arg;
};

/* The end of a query: fill what was asked from the answer and the (current) map. */
static int
pool_query_fill(void *arg, int rc, daos_event_t *ev)
{
	struct pool_query_op *op = arg;
	struct dc_pool *pool = op->pq_pool;
	daos_pool_info_t *info = op->pq_info;
	unsigned int mask;
	int ret;

	if (rc == 0 && info != NULL)
		pool_info_fill(info, op->pq_resp, pool);
	if (rc == 0 && op->pq_ranks != NULL) {
		/* from the (now current) map: enabled or disabled engines, as pi_bits asks */
		if (info != NULL && (info->pi_bits & DPI_ENGINES_ENABLED))
			mask = PO_COMP_ST_UP | PO_COMP_ST_UPIN | PO_COMP_ST_DRAIN;
		else
			mask = PO_COMP_ST_DOWN | PO_COMP_ST_DOWNOUT;
		pthread_rwlock_rdlock(&pool->dp_lock);
		rc = pool_map_get_ranks(pool->dp_map, mask, op->pq_ranks);
		pthread_rwlock_unlock(&pool->dp_lock);
	}
	if (op->pq_resp != NULL)
		mgmt__pool_query_resp__free_unpacked(op->pq_resp, NULL);
	ret = op->pq_next != NULL ? op->pq_next(op->pq_next_arg, rc, ev) : rc;
	dc_pool_put(pool);
	D_FREE(op);
	return ret;
}

static int
pool_query_cb(void *arg, int rc, ProtobufCMessage **resp, daos_event_t *ev)
{
	struct pool_query_op *op = arg;

	if (rc == 0) {
		op->pq_resp = (Mgmt__PoolQueryResp *)*resp;
		*resp = NULL;
		if (op->pq_resp->version > dc_pool_map_version(op->pq_pool)) {
			/* a newer map: fetch it first, then fill */
			pool_refresh_send(ev, op->pq_pool, pool_query_fill, op);
			return DC_SVC_MORE;
		}
	}
	return pool_query_fill(op, rc, ev);
}

/*
 * METHOD_POOL_HDL_QUERY on running event @ev into @info (may be NULL) and @ranks (may be
 * NULL), refreshing a stale map; then @next (NULL: complete @ev). Takes the reference @pool.
 */
static void
pool_query_send(daos_event_t *ev, struct dc_pool *pool, d_rank_list_t **ranks,
		daos_pool_info_t *info, int (*next)(void *arg, int rc, daos_event_t *ev),
		void *next_arg)
{
	Mgmt__PoolHdlReq req = MGMT__POOL_HDL_REQ__INIT;
	Mgmt__ClientHeader hdr = MGMT__CLIENT_HEADER__INIT;
	struct dc_pool_hdr_bufs bufs;
	struct pool_query_op *op;
	int rc;

	D_ALLOC_PTR(op);
	if (op == NULL) {
		dc_pool_put(pool);
		rc = next != NULL ? next(next_arg, -DER_NOMEM, ev) : -DER_NOMEM;
		if (rc != DC_SVC_MORE)
			dc_ev_complete(ev, rc);
		return;
	}
	op->pq_pool = pool;
	op->pq_ranks = ranks;
	op->pq_info = info;
	op->pq_next = next;
	op->pq_next_arg = next_arg;
	dc_pool_hdr_fill(pool, &hdr, &bufs);
	req.hdr = &hdr;
	req.query_mask = info != NULL ? info->pi_bits : 0;
	dc_svc_send(ev, pool, DSS_CTL_POOL_HDL_QUERY, &req.base, &mgmt__pool_query_resp__descriptor,
		    pool_query_cb, op);
}

/* A connect in flight. */
struct pool_connect_op {
	daos_handle_t *pc_poh;
	daos_pool_info_t *pc_info;
	unsigned int pc_flags;
	char pc_sys[DAOS_SYS_NAME_MAX_LEN + 1];
	uuid_t pc_hdl;
	daos_handle_t pc_h;
	struct dc_pool *pc_pool; /* the disconnect after a failed query */
	int pc_rc;               /* the query's failure, reported after that disconnect */
};

/* The disconnect after a failed query of connect: drop the handle, report the query's error. */
static int
pool_connect_undone(void *arg, int rc, ProtobufCMessage **resp, daos_event_t *ev)
{
	struct pool_connect_op *op = arg;

	(void)resp, (void)ev;
	if (rc != 0 && rc != -DER_NO_HDL && rc != -DER_NONEXIST)
		D_ERROR("disconnect after a failed connect: " DF_RC "\n", DP_RC(rc));
	d_hhash_link_delete(dc_hhash(), &op->pc_pool->dp_hlink);
	dc_pool_put(op->pc_pool);
	rc = op->pc_rc;
	D_FREE(op);
	return rc;
}

/* After connect's query of the info: hand out the handle, or disconnect again. */
static int
pool_connect_queried(void *arg, int rc, daos_event_t *ev)
{
	struct pool_connect_op *op = arg;
	Mgmt__PoolDisconnectReq req = MGMT__POOL_DISCONNECT_REQ__INIT;
	Mgmt__ClientHeader hdr = MGMT__CLIENT_HEADER__INIT;
	struct dc_pool_hdr_bufs bufs;

	if (rc == 0) {
		*op->pc_poh = op->pc_h;
		D_FREE(op);
		return 0;
	}
	op->pc_rc = rc;
	op->pc_pool = dc_pool_get(op->pc_h);
	if (op->pc_pool == NULL) {
		D_FREE(op);
		return rc;
	}
	if (rc == -DER_CANCELED) {
		/* the queue is being destroyed (its context closing): no more sends, drop it */
		d_hhash_link_delete(dc_hhash(), &op->pc_pool->dp_hlink);
		dc_pool_put(op->pc_pool);
		D_FREE(op);
		return rc;
	}
	dc_pool_hdr_fill(op->pc_pool, &hdr, &bufs);
	req.hdr = &hdr;
	dc_svc_send(ev, op->pc_pool, DSS_CTL_POOL_DISCONNECT, &req.base,
		    &mgmt__pool_disconnect_resp__descriptor, pool_connect_undone, op);
	return DC_SVC_MORE;
}

static int
pool_connect_cb(void *arg, int rc, ProtobufCMessage **respp, daos_event_t *ev)
{
	struct pool_connect_op *op = arg;
	Mgmt__PoolConnectResp *resp;
	struct dc_rank_uris *ranks = NULL;
	struct pool_map *map = NULL;
	struct dc_pool *dp = NULL;
	uuid_t uuid;
	uint32_t nr = 0;

	if (rc != 0) {
		D_DEBUG("connect to pool: " DF_RC "\n", DP_RC(rc));
		goto out;
	}
	resp = (Mgmt__PoolConnectResp *)*respp;
	if (uuid_parse(resp->uuid, uuid) != 0) {
		D_ERROR("connect to pool: the service answered a bad uuid\n");
		rc = -DER_PROTO;
		goto out;
	}
	rc = pool_resp_map(resp, &map, &ranks, &nr);
	if (rc != 0)
		goto out;
	rc = dc_pool_create(uuid, op->pc_hdl, op->pc_flags, map, ranks, nr, &op->pc_h, &dp);
	if (rc != 0)
		goto out;
	dp->dp_capas = resp->capas;
	snprintf(dp->dp_label, sizeof(dp->dp_label), "%s", resp->label);
	snprintf(dp->dp_sys, sizeof(dp->dp_sys), "%s", op->pc_sys);
	if (op->pc_info != NULL) {
		/* the info: a query on the same event, then the handle */
		pool_query_send(ev, dp, NULL, op->pc_info, pool_connect_queried, op);
		return DC_SVC_MORE;
	}
	dc_pool_put(dp);
	*op->pc_poh = op->pc_h;
out:
	D_FREE(op);
	return rc;
}

int
daos_pool_connect2(const char *pool, const char *sys, unsigned int flags, daos_handle_t *poh,
		   daos_pool_info_t *info, daos_event_t *ev)
{
	Mgmt__PoolConnectReq req = MGMT__POOL_CONNECT_REQ__INIT;
	Mgmt__ClientHeader hdr = MGMT__CLIENT_HEADER__INIT;
	struct pool_connect_op *op;
	d_iov_t cred = {0};
	char hdl_str[37];
	unsigned int mode = flags & (DAOS_PC_RO | DAOS_PC_RW | DAOS_PC_EX);
	int rc;

	if (!dc_lib_initialized())
		return -DER_UNINIT;
	if (pool == NULL || poh == NULL || pool[0] == '\0' ||
	    strnlen(pool, DAOS_PROP_LABEL_MAX_LEN + 1) > DAOS_PROP_LABEL_MAX_LEN ||
	    (sys != NULL && strnlen(sys, DAOS_SYS_NAME_MAX_LEN + 1) > DAOS_SYS_NAME_MAX_LEN) ||
	    (mode != DAOS_PC_RO && mode != DAOS_PC_RW && mode != DAOS_PC_EX))
		return dc_ev_done(ev, -DER_INVAL);

	D_ALLOC_PTR(op);
	if (op == NULL)
		return dc_ev_done(ev, -DER_NOMEM);
	rc = dc_sec_request_creds(&cred);
	if (rc != 0) {
		D_ERROR("no credential from daos_agent: " DF_RC "\n", DP_RC(rc));
		D_FREE(op);
		return dc_ev_done(ev, rc);
	}
	op->pc_poh = poh;
	op->pc_info = info;
	op->pc_flags = flags;
	snprintf(op->pc_sys, sizeof(op->pc_sys), "%s", sys != NULL ? sys : "");
	uuid_generate(op->pc_hdl);
	uuid_unparse_lower(op->pc_hdl, hdl_str);
	hdr.sys = op->pc_sys;
	hdr.pool = (char *)pool;
	hdr.pool_hdl = hdl_str;
	hdr.cred.data = cred.iov_buf;
	hdr.cred.len = cred.iov_len;
	req.hdr = &hdr;
	req.flags = flags;
	rc = dc_svc_call_ev(ev, NULL, DSS_CTL_POOL_CONNECT, &req.base,
			    &mgmt__pool_connect_resp__descriptor, pool_connect_cb, op);
	D_FREE(cred.iov_buf);
	return rc;
}

/* The same function under DAOS's older name (daos_pool.h maps the name to connect2). */
#undef daos_pool_connect
int
daos_pool_connect(const char *pool, const char *sys, unsigned int flags, daos_handle_t *poh,
		  daos_pool_info_t *info, daos_event_t *ev)
{
	return daos_pool_connect2(pool, sys, flags, poh, info, ev);
}

static int
pool_disconnect_cb(void *arg, int rc, ProtobufCMessage **resp, daos_event_t *ev)
{
	struct dc_pool *pool = arg;

	(void)resp, (void)ev;
	/* a handle the service does not know (evicted, pool destroyed) is gone already */
	if (rc == -DER_NO_HDL || rc == -DER_NONEXIST)
		rc = 0;
	if (rc != 0)
		D_ERROR("disconnect from pool " DF_UUID ": " DF_RC "\n", DP_UUID(pool->dp_uuid),
			DP_RC(rc));
	if (rc == 0)
		d_hhash_link_delete(dc_hhash(), &pool->dp_hlink);
	dc_pool_put(pool);
	return rc;
}

int
daos_pool_disconnect(daos_handle_t poh, daos_event_t *ev)
{
	Mgmt__PoolDisconnectReq req = MGMT__POOL_DISCONNECT_REQ__INIT;
	struct pool_req_hdr rh;
	struct dc_pool *pool;

	pool = pool_hdl_req(poh, &rh, &req.hdr);
	if (pool == NULL)
		return dc_ev_done(ev, -DER_NO_HDL);
	if (pool->dp_local || pool->dp_g2l) {
		d_hhash_link_delete(dc_hhash(), &pool->dp_hlink);
		dc_pool_put(pool);
		return dc_ev_done(ev, 0);
	}
	return dc_svc_call_ev(ev, pool, DSS_CTL_POOL_DISCONNECT, &req.base,
			      &mgmt__pool_disconnect_resp__descriptor, pool_disconnect_cb, pool);
}

int
daos_pool_query(daos_handle_t poh, d_rank_list_t **ranks, daos_pool_info_t *info,
		daos_prop_t *pool_prop, daos_event_t *ev)
{
	struct dc_pool *pool;
	daos_event_t *priv;
	int rc;

	if (pool_prop != NULL)
		return dc_ev_done(ev, -DER_NOSYS); /* pool properties: dmg pool get-prop */
	pool = dc_pool_get(poh);
	if (pool == NULL)
		return dc_ev_done(ev, -DER_NO_HDL);
	if (ranks != NULL)
		*ranks = NULL;
	rc = dc_ev_begin(ev, &priv);
	if (rc != 0) {
		dc_pool_put(pool);
		return rc;
	}
	pool_query_send(priv != NULL ? priv : ev, pool, ranks, info, NULL, NULL);
	return dc_ev_end(ev, priv);
}

int
daos_pool_query_target(daos_handle_t poh, uint32_t tgt, d_rank_t rank, daos_target_info_t *info,
		       daos_event_t *ev)
{
	struct pool_target *t;
	struct dc_pool *pool;
	int rc = 0;

	if (info == NULL)
		return dc_ev_done(ev, -DER_INVAL);
	pool = dc_pool_get(poh);
	if (pool == NULL)
		return dc_ev_done(ev, -DER_NO_HDL);
	/* the state from the handle's map; per-target space needs a target query (not yet) */
	memset(info, 0, sizeof(*info));
	pthread_rwlock_rdlock(&pool->dp_lock);
	t = pool_map_find_target_by_rank_idx(pool->dp_map, rank, tgt);
	if (t == NULL) {
		rc = -DER_NONEXIST;
	} else {
		switch (t->ta_comp.co_status) {
		case PO_COMP_ST_UPIN:
			info->ta_state = DAOS_TS_UP_IN;
			break;
		case PO_COMP_ST_UP:
			info->ta_state = DAOS_TS_UP;
			break;
		case PO_COMP_ST_DOWN:
			info->ta_state = DAOS_TS_DOWN;
			break;
		case PO_COMP_ST_DOWNOUT:
			info->ta_state = DAOS_TS_DOWN_OUT;
			break;
		case PO_COMP_ST_NEW:
			info->ta_state = DAOS_TS_NEW;
			break;
		case PO_COMP_ST_DRAIN:
			info->ta_state = DAOS_TS_DRAIN;
			break;
		default:
			info->ta_state = DAOS_TS_UNKNOWN;
			break;
		}
	}
	pthread_rwlock_unlock(&pool->dp_lock);
	dc_pool_put(pool);
	return dc_ev_done(ev, rc);
}

/* The out-parameters of a call in flight, and the pool reference it holds. */
struct pool_out_op {
	struct dc_pool *po_pool;
	void *po_p1;
	void *po_p2;
	void *po_p3;
	int po_n;
};

/* Start a call of @pool (referenced; the op takes it) with out-parameters @p1..@p3. */
static int
pool_out_call(daos_event_t *ev, struct dc_pool *pool, uint32_t method, const ProtobufCMessage *req,
	      const ProtobufCMessageDescriptor *desc, dc_svc_cb_t cb, void *p1, void *p2, void *p3,
	      int n)
{
	struct pool_out_op *op;

	D_ALLOC_PTR(op);
	if (op == NULL) {
		dc_pool_put(pool);
		return dc_ev_done(ev, -DER_NOMEM);
	}
	op->po_pool = pool;
	op->po_p1 = p1;
	op->po_p2 = p2;
	op->po_p3 = p3;
	op->po_n = n;
	return dc_svc_call_ev(ev, pool, method, req, desc, cb, op);
}

static int
pool_out_end(struct pool_out_op *op, int rc)
{
	dc_pool_put(op->po_pool);
	D_FREE(op);
	return rc;
}

static int
pool_list_cont_cb(void *arg, int rc, ProtobufCMessage **respp, daos_event_t *ev)
{
	struct pool_out_op *op = arg;
	daos_size_t *ncont = op->po_p1;
	struct daos_pool_cont_info *cbuf = op->po_p2;
	Mgmt__ListContResp *resp;
	size_t i;

	(void)ev;
	if (rc != 0)
		return pool_out_end(op, rc);
	resp = (Mgmt__ListContResp *)*respp;
	if (cbuf != NULL && *ncont < resp->n_containers) {
		rc = -DER_TRUNC;
	} else if (cbuf != NULL) {
		for (i = 0; i < resp->n_containers; i++) {
			const Mgmt__ListContResp__Cont *c = resp->containers[i];

			memset(&cbuf[i], 0, sizeof(cbuf[i]));
			if (uuid_parse(c->uuid, cbuf[i].pci_uuid) != 0) {
				rc = -DER_PROTO;
				break;
			}
			snprintf(cbuf[i].pci_label, sizeof(cbuf[i].pci_label), "%s", c->label);
		}
	}
	*ncont = resp->n_containers;
	return pool_out_end(op, rc);
}

int
daos_pool_list_cont(daos_handle_t poh, daos_size_t *ncont, struct daos_pool_cont_info *cbuf,
		    daos_event_t *ev)
{
	Mgmt__PoolHdlReq req = MGMT__POOL_HDL_REQ__INIT;
	struct pool_req_hdr rh;
	struct dc_pool *pool;

	if (ncont == NULL)
		return dc_ev_done(ev, -DER_INVAL);
	pool = pool_hdl_req(poh, &rh, &req.hdr);
	if (pool == NULL)
		return dc_ev_done(ev, -DER_NO_HDL);
	return pool_out_call(ev, pool, DSS_CTL_POOL_HDL_LIST_CONT, &req.base,
			     &mgmt__list_cont_resp__descriptor, pool_list_cont_cb, ncont, cbuf,
			     NULL, 0);
}

/*
 * User attributes.
 */

static int
pool_attr_names_check(int n, char const *const names[])
{
	int i;

	if (n <= 0 || names == NULL)
		return -DER_INVAL;
	for (i = 0; i < n; i++)
		if (names[i] == NULL || names[i][0] == '\0' ||
		    strnlen(names[i], DAOS_ATTR_NAME_MAX + 1) > DAOS_ATTR_NAME_MAX)
			return -DER_INVAL;
	return 0;
}

static int
pool_list_attr_cb(void *arg, int rc, ProtobufCMessage **respp, daos_event_t *ev)
{
	struct pool_out_op *op = arg;
	char *buffer = op->po_p1;
	size_t *size = op->po_p2;
	Mgmt__AttrListResp *resp;
	size_t total = 0, off = 0, n;
	size_t i;

	(void)ev;
	if (rc != 0)
		return pool_out_end(op, rc);
	resp = (Mgmt__AttrListResp *)*respp;
	/* DAOS: the names, each with its NUL, as many as fit; *size gets the total needed */
	for (i = 0; i < resp->n_names; i++) {
		n = strlen(resp->names[i]) + 1;
		if (buffer != NULL && off + n <= *size) {
			memcpy(buffer + off, resp->names[i], n);
			off += n;
		}
		total += n;
	}
	*size = total;
	return pool_out_end(op, 0);
}

int
daos_pool_list_attr(daos_handle_t poh, char *buffer, size_t *size, daos_event_t *ev)
{
	Mgmt__AttrListReq req = MGMT__ATTR_LIST_REQ__INIT;
	struct pool_req_hdr rh;
	struct dc_pool *pool;

	if (size == NULL)
		return dc_ev_done(ev, -DER_INVAL);
	pool = pool_hdl_req(poh, &rh, &req.hdr);
	if (pool == NULL)
		return dc_ev_done(ev, -DER_NO_HDL);
	return pool_out_call(ev, pool, DSS_CTL_POOL_ATTR_LIST, &req.base,
			     &mgmt__attr_list_resp__descriptor, pool_list_attr_cb, buffer, size,
			     NULL, 0);
}

static int
pool_get_attr_cb(void *arg, int rc, ProtobufCMessage **respp, daos_event_t *ev)
{
	struct pool_out_op *op = arg;
	void *const *buffers = op->po_p1;
	size_t *sizes = op->po_p2;
	int n = op->po_n;
	Mgmt__AttrGetResp *resp;
	int i;

	(void)ev;
	if (rc != 0)
		return pool_out_end(op, rc);
	resp = (Mgmt__AttrGetResp *)*respp;
	if (resp->n_attrs != (size_t)n) {
		D_ERROR("attribute get: %zu values for %d names\n", resp->n_attrs, n);
		return pool_out_end(op, -DER_PROTO);
	}
	/* DAOS: copy what fits, sizes[i] gets the value's full size (buffers may be NULL) */
	for (i = 0; i < n; i++) {
		const ProtobufCBinaryData *v = &resp->attrs[i]->value;

		if (buffers != NULL && buffers[i] != NULL)
			memcpy(buffers[i], v->data, v->len < sizes[i] ? v->len : sizes[i]);
		sizes[i] = v->len;
	}
	return pool_out_end(op, 0);
}

int
daos_pool_get_attr(daos_handle_t poh, int n, char const *const names[], void *const buffers[],
		   size_t sizes[], daos_event_t *ev)
{
	Mgmt__AttrGetReq req = MGMT__ATTR_GET_REQ__INIT;
	struct pool_req_hdr rh;
	struct dc_pool *pool;
	int rc;

	rc = pool_attr_names_check(n, names);
	if (rc != 0 || sizes == NULL)
		return dc_ev_done(ev, -DER_INVAL);
	pool = pool_hdl_req(poh, &rh, &req.hdr);
	if (pool == NULL)
		return dc_ev_done(ev, -DER_NO_HDL);
	req.n_names = (size_t)n;
	req.names = (char **)names;
	return pool_out_call(ev, pool, DSS_CTL_POOL_ATTR_GET, &req.base,
			     &mgmt__attr_get_resp__descriptor, pool_get_attr_cb, (void *)buffers,
			     sizes, NULL, n);
}

static int
pool_plain_cb(void *arg, int rc, ProtobufCMessage **resp, daos_event_t *ev)
{
	(void)resp, (void)ev;
	return pool_out_end(arg, rc);
}

int
daos_pool_set_attr(daos_handle_t poh, int n, char const *const names[], void const *const values[],
		   size_t const sizes[], daos_event_t *ev)
{
	Mgmt__AttrSetReq req = MGMT__ATTR_SET_REQ__INIT;
	struct pool_req_hdr rh;
	Mgmt__Attr *attrs = NULL;
	Mgmt__Attr **attrp = NULL;
	struct dc_pool *pool;
	int i;
	int rc;

	rc = pool_attr_names_check(n, names);
	if (rc != 0 || values == NULL || sizes == NULL)
		return dc_ev_done(ev, -DER_INVAL);
	for (i = 0; i < n; i++)
		if (values[i] == NULL || sizes[i] == 0)
			return dc_ev_done(ev, -DER_INVAL);
	D_ALLOC_ARRAY(attrs, n);
	D_ALLOC_ARRAY(attrp, n);
	if (attrs == NULL || attrp == NULL) {
		rc = dc_ev_done(ev, -DER_NOMEM);
		goto out;
	}
	for (i = 0; i < n; i++) {
		mgmt__attr__init(&attrs[i]);
		attrs[i].name = (char *)names[i];
		attrs[i].value.data = (uint8_t *)values[i];
		attrs[i].value.len = sizes[i];
		attrp[i] = &attrs[i];
	}
	pool = pool_hdl_req(poh, &rh, &req.hdr);
	if (pool == NULL) {
		rc = dc_ev_done(ev, -DER_NO_HDL);
		goto out;
	}
	req.n_attrs = (size_t)n;
	req.attrs = attrp;
	/* the request is packed before this returns: attrs may go */
	rc = pool_out_call(ev, pool, DSS_CTL_POOL_ATTR_SET, &req.base, &mgmt__attr_resp__descriptor,
			   pool_plain_cb, NULL, NULL, NULL, 0);
out:
	D_FREE(attrp);
	D_FREE(attrs);
	return rc;
}

int
daos_pool_del_attr(daos_handle_t poh, int n, char const *const names[], daos_event_t *ev)
{
	Mgmt__AttrDelReq req = MGMT__ATTR_DEL_REQ__INIT;
	struct pool_req_hdr rh;
	struct dc_pool *pool;
	int rc;

	rc = pool_attr_names_check(n, names);
	if (rc != 0)
		return dc_ev_done(ev, rc);
	pool = pool_hdl_req(poh, &rh, &req.hdr);
	if (pool == NULL)
		return dc_ev_done(ev, -DER_NO_HDL);
	req.n_names = (size_t)n;
	req.names = (char **)names;
	return pool_out_call(ev, pool, DSS_CTL_POOL_ATTR_DEL, &req.base,
			     &mgmt__attr_resp__descriptor, pool_plain_cb, NULL, NULL, NULL, 0);
}

/*
 * The global form of a pool handle (local2global/global2local), little-endian:
 *
 *   u32 magic POOL_GLOB_MAGIC, u16 version (1), u16 0, u32 total length,
 *   uuid[16] pool, uuid[16] handle, u64 flags, u64 capabilities,
 *   str label, str system      (str: u16 length + bytes, no NUL)
 *   u32 map length + pool_map_encode() bytes,
 *   u32 ranks, then per rank: u32 rank, u32 uris, and each uri as a str,
 *   u32 crc32c of everything before it.
 *
 * Decoding checks the CRC first (a damaged buffer is refused whole), then every length
 * against the buffer.
 */
#define POOL_GLOB_MAGIC 0x504C4247U /* "GBLP" */
#define POOL_GLOB_VERSION 1
#define POOL_GLOB_URIS_MAX 256

struct pool_glob_w {
	uint8_t *gw_buf; /* NULL: only count */
	size_t gw_off;
};

static void
glob_put(struct pool_glob_w *w, const void *p, size_t len)
{
	if (w->gw_buf != NULL)
		memcpy(w->gw_buf + w->gw_off, p, len);
	w->gw_off += len;
}

static void
glob_u16(struct pool_glob_w *w, uint16_t v)
{
	v = htole16(v);
	glob_put(w, &v, sizeof(v));
}

static void
glob_u32(struct pool_glob_w *w, uint32_t v)
{
	v = htole32(v);
	glob_put(w, &v, sizeof(v));
}

static void
glob_u64(struct pool_glob_w *w, uint64_t v)
{
	v = htole64(v);
	glob_put(w, &v, sizeof(v));
}

static void
glob_str(struct pool_glob_w *w, const char *s)
{
	size_t n = strlen(s);

	glob_u16(w, (uint16_t)n);
	glob_put(w, s, n);
}

/* Encode @pool into @w (under the pool's read lock); @map_buf is the encoded map. */
static void
pool_glob_encode(struct dc_pool *pool, const void *map_buf, size_t map_len, size_t total,
		 struct pool_glob_w *w)
{
	uint32_t i, j;

	glob_u32(w, POOL_GLOB_MAGIC);
	glob_u16(w, POOL_GLOB_VERSION);
	glob_u16(w, 0);
	glob_u32(w, (uint32_t)total);
	glob_put(w, pool->dp_uuid, sizeof(uuid_t));
	glob_put(w, pool->dp_hdl, sizeof(uuid_t));
	glob_u64(w, pool->dp_flags);
	glob_u64(w, pool->dp_capas);
	glob_str(w, pool->dp_label);
	glob_str(w, pool->dp_sys);
	glob_u32(w, (uint32_t)map_len);
	glob_put(w, map_buf, map_len);
	glob_u32(w, pool->dp_rank_nr);
	for (i = 0; i < pool->dp_rank_nr; i++) {
		glob_u32(w, pool->dp_ranks[i].ru_rank);
		glob_u32(w, pool->dp_ranks[i].ru_nr);
		for (j = 0; j < pool->dp_ranks[i].ru_nr; j++)
			glob_str(w, pool->dp_ranks[i].ru_uris[j] != NULL
					? pool->dp_ranks[i].ru_uris[j]
					: "");
	}
	glob_u32(w, w->gw_buf == NULL ? 0 : crc32_iscsi(w->gw_buf, (int)w->gw_off, 0));
}

int
daos_pool_local2global(daos_handle_t poh, d_iov_t *glob)
{
	struct pool_glob_w w = {0};
	struct dc_pool *pool;
	void *map_buf = NULL;
	size_t map_len;
	ssize_t n;
	int rc = 0;

	if (glob == NULL || (glob->iov_buf != NULL && glob->iov_buf_len == 0))
		return -DER_INVAL;
	pool = dc_pool_get(poh);
	if (pool == NULL)
		return -DER_NO_HDL;
	pthread_rwlock_rdlock(&pool->dp_lock);
	map_len = pool_map_encoded_size(pool->dp_map);
	/* the size first (strings and map as they are now) */
	pool_glob_encode(pool, NULL, map_len, 0, &w);
	if (glob->iov_buf == NULL) {
		glob->iov_buf_len = w.gw_off;
		glob->iov_len = 0;
		goto out;
	}
	if (glob->iov_buf_len < w.gw_off) {
		rc = -DER_TRUNC;
		goto out;
	}
	D_ALLOC(map_buf, map_len);
	if (map_buf == NULL) {
		rc = -DER_NOMEM;
		goto out;
	}
	n = pool_map_encode(pool->dp_map, map_buf, map_len);
	if (n < 0 || (size_t)n != map_len) {
		rc = n < 0 ? (int)n : -DER_INVAL;
		goto out;
	}
	w.gw_buf = glob->iov_buf;
	n = (ssize_t)w.gw_off;
	w.gw_off = 0;
	pool_glob_encode(pool, map_buf, map_len, (size_t)n, &w);
	D_ASSERT(w.gw_off == (size_t)n);
	glob->iov_len = w.gw_off;
out:
	pthread_rwlock_unlock(&pool->dp_lock);
	D_FREE(map_buf);
	dc_pool_put(pool);
	return rc;
}

struct pool_glob_r {
	const uint8_t *gr_cur;
	const uint8_t *gr_end;
};

static int
glob_get(struct pool_glob_r *r, void *p, size_t len)
{
	if ((size_t)(r->gr_end - r->gr_cur) < len)
		return -DER_INVAL;
	memcpy(p, r->gr_cur, len);
	r->gr_cur += len;
	return 0;
}

static int
glob_get_u16(struct pool_glob_r *r, uint16_t *v)
{
	int rc = glob_get(r, v, sizeof(*v));

	*v = le16toh(*v);
	return rc;
}

static int
glob_get_u32(struct pool_glob_r *r, uint32_t *v)
{
	int rc = glob_get(r, v, sizeof(*v));

	*v = le32toh(*v);
	return rc;
}

static int
glob_get_u64(struct pool_glob_r *r, uint64_t *v)
{
	int rc = glob_get(r, v, sizeof(*v));

	*v = le64toh(*v);
	return rc;
}

/* A string of at most @max bytes into a new NUL-terminated *@s (@s NULL: into @buf). */
static int
glob_get_str(struct pool_glob_r *r, char *buf, size_t max, char **s)
{
	uint16_t n;
	int rc;

	rc = glob_get_u16(r, &n);
	if (rc != 0)
		return rc;
	if (n > max || (size_t)(r->gr_end - r->gr_cur) < n || memchr(r->gr_cur, '\0', n) != NULL)
		return -DER_INVAL;
	if (s != NULL) {
		D_STRNDUP(*s, (const char *)r->gr_cur, n);
		if (*s == NULL)
			return -DER_NOMEM;
	} else {
		memcpy(buf, r->gr_cur, n);
		buf[n] = '\0';
	}
	r->gr_cur += n;
	return 0;
}

int
daos_pool_global2local(d_iov_t glob, daos_handle_t *poh)
{
	struct pool_glob_r r;
	struct dc_rank_uris *ranks = NULL;
	struct pool_map *map = NULL;
	struct dc_pool *pool = NULL;
	char label[sizeof(pool->dp_label)];
	char sys[sizeof(pool->dp_sys)];
	uuid_t uuid, hdl;
	uint64_t flags, capas;
	uint32_t magic, total, map_len, crc, nr = 0, i, j;
	uint16_t version, pad;
	int rc;

	if (!dc_lib_initialized())
		return -DER_UNINIT;
	if (poh == NULL || glob.iov_buf == NULL || glob.iov_len == 0 ||
	    glob.iov_len > glob.iov_buf_len)
		return -DER_INVAL;
	r.gr_cur = glob.iov_buf;
	r.gr_end = r.gr_cur + glob.iov_len;
	rc = glob_get_u32(&r, &magic);
	if (rc == 0)
		rc = glob_get_u16(&r, &version);
	if (rc == 0)
		rc = glob_get_u16(&r, &pad);
	if (rc == 0)
		rc = glob_get_u32(&r, &total);
	if (rc != 0 || magic != POOL_GLOB_MAGIC || pad != 0 || total != glob.iov_len ||
	    total < 16 + 4)
		return -DER_INVAL;
	if (version != POOL_GLOB_VERSION)
		return -DER_MISMATCH;
	memcpy(&crc, (const uint8_t *)glob.iov_buf + total - 4, sizeof(crc));
	if (le32toh(crc) != crc32_iscsi(glob.iov_buf, (int)(total - 4), 0))
		return -DER_INVAL;
	r.gr_end -= 4;
	rc = glob_get(&r, uuid, sizeof(uuid));
	if (rc == 0)
		rc = glob_get(&r, hdl, sizeof(hdl));
	if (rc == 0)
		rc = glob_get_u64(&r, &flags);
	if (rc == 0)
		rc = glob_get_u64(&r, &capas);
	if (rc == 0)
		rc = glob_get_str(&r, label, sizeof(label) - 1, NULL);
	if (rc == 0)
		rc = glob_get_str(&r, sys, sizeof(sys) - 1, NULL);
	if (rc == 0)
		rc = glob_get_u32(&r, &map_len);
	if (rc != 0)
		return rc;
	if ((size_t)(r.gr_end - r.gr_cur) < map_len)
		return -DER_INVAL;
	rc = pool_map_decode(r.gr_cur, map_len, &map);
	if (rc != 0)
		return rc == -DER_NOMEM ? rc : -DER_INVAL;
	r.gr_cur += map_len;
	rc = glob_get_u32(&r, &nr);
	/* each rank takes at least 8 bytes: bounds the allocation by the buffer */
	if (rc != 0 || nr == 0 || nr > (size_t)(r.gr_end - r.gr_cur) / 8) {
		rc = -DER_INVAL;
		goto out_map;
	}
	D_ALLOC_ARRAY(ranks, nr);
	if (ranks == NULL) {
		rc = -DER_NOMEM;
		goto out_map;
	}
	for (i = 0; i < nr; i++) {
		uint32_t un;

		rc = glob_get_u32(&r, &ranks[i].ru_rank);
		if (rc == 0)
			rc = glob_get_u32(&r, &un);
		if (rc == 0 && (un == 0 || un > POOL_GLOB_URIS_MAX))
			rc = -DER_INVAL;
		if (rc != 0)
			goto out_ranks;
		D_ALLOC_ARRAY(ranks[i].ru_uris, un);
		if (ranks[i].ru_uris == NULL) {
			rc = -DER_NOMEM;
			goto out_ranks;
		}
		ranks[i].ru_nr = un;
		for (j = 0; j < un; j++) {
			rc = glob_get_str(&r, NULL, NET_ADDR_STR_MAX, &ranks[i].ru_uris[j]);
			if (rc != 0)
				goto out_ranks;
		}
	}
	if (r.gr_cur != r.gr_end) {
		rc = -DER_INVAL;
		goto out_ranks;
	}
	rc = dc_pool_create(uuid, hdl, flags, map, ranks, nr, poh, &pool);
	if (rc != 0)
		return rc; /* map and ranks freed */
	pool->dp_capas = capas;
	pool->dp_g2l = true;
	snprintf(pool->dp_label, sizeof(pool->dp_label), "%s", label);
	snprintf(pool->dp_sys, sizeof(pool->dp_sys), "%s", sys);
	dc_pool_put(pool);
	return 0;

out_ranks:
	dc_rank_uris_free(ranks, nr);
out_map:
	pool_map_destroy(map);
	return rc;
}

/*
 * Container filters: built locally; filtering itself needs container metadata queries in
 * the service (not yet).
 */

int
daos_pool_cont_filter_init(daos_pool_cont_filter_t *filt, uint32_t combine_func)
{
	if (filt == NULL || combine_func > 1)
		return -DER_INVAL;
	memset(filt, 0, sizeof(*filt));
	filt->pcf_combine_func = combine_func;
	return 0;
}

int
daos_pool_cont_filter_add(daos_pool_cont_filter_t *filt, daos_pool_cont_filter_part_t *part)
{
	daos_pool_cont_filter_part_t **parts;

	if (filt == NULL || part == NULL || part->pcfp_func > 5 || part->pcfp_key > 3 ||
	    filt->pcf_nparts >= DAOS_POOL_CONT_FILTER_MAX_NPARTS)
		return -DER_INVAL;
	D_REALLOC_ARRAY(parts, filt->pcf_parts, filt->pcf_nparts + 1);
	if (parts == NULL)
		return -DER_NOMEM;
	parts[filt->pcf_nparts++] = part;
	filt->pcf_parts = parts;
	return 0;
}

void
daos_pool_cont_filter_fini(daos_pool_cont_filter_t *filt)
{
	uint32_t i;

	if (filt == NULL)
		return;
	for (i = 0; i < filt->pcf_nparts; i++)
		D_FREE(filt->pcf_parts[i]);
	D_FREE(filt->pcf_parts);
	filt->pcf_nparts = 0;
}

int
daos_pool_filter_cont(daos_handle_t poh, daos_pool_cont_filter_t *filter, daos_size_t *ncont,
		      struct daos_pool_cont_info2 *cbuf, daos_event_t *ev)
{
	(void)poh;
	(void)filter;
	(void)ncont;
	(void)cbuf;
	return dc_ev_done(ev, -DER_NOSYS);
}

int
daos_pool_get_perms(daos_prop_t *pool_prop, uid_t uid, gid_t *gids, size_t nr_gids, uint64_t *perms)
{
	(void)pool_prop;
	(void)uid;
	(void)gids;
	(void)nr_gids;
	(void)perms;
	return -DER_NOSYS;
}
