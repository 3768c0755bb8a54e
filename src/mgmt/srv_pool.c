/*
 * srv_pool.c: the management service's pool methods (mgmt/pool.proto, mgmt/acl.proto), on the
 * MS leader. A pool is one MsPool record in the "pools" table (its label in "labels"), with its
 * pool map encoded (src/common pool_map). Create asks every chosen engine for its shards
 * (TgtCreate, all at once) and records the pool only when all succeeded; otherwise it destroys
 * what was made (TgtDestroy, idempotent) and nothing is recorded. Query asks the engines
 * (TgtQuery) for the space of their shards.
 *
 * Invariants:
 *  1. A uuid or label in "pools"/"labels" or in ms_pending is taken; a create in flight owns
 *     its ms_pending entry until it replied.
 *  2. A recorded pool has its shards on every rank of its map that was up at create time.
 *  3. The pool map version only goes up (pool_map_update_rank bumps it).
 *
 * Context: the control thread's loop.
 */
#define D_LOGFAC mgmt

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gurt/common.h>
#include <daos_errno.h>
#include <daos_prop.h>
#include <daos/pool_map.h>

#include "mgmt_internal.h"
#include "mgmt/acl.pb-c.h"
#include "mgmt/pool.pb-c.h"
#include "mgmt/tgt.pb-c.h"

D_LOG_FAC_DECLARE(mgmt);

#define MS_TGT_TIMEOUT_MS 60000
#define MS_SVC_REPS_DEFAULT 3

/*
 * Calling a set of engines at once.
 */

struct ms_fan;
typedef void (*ms_fan_cb_t)(struct ms_fan *fa);

struct ms_fan_one {
	struct ms_fan *fo_fan;
	int fo_rc;
	void *fo_body; /* the reply message (D_FREE) */
	size_t fo_len;
};

struct ms_fan {
	struct ds_mgmt *fa_ms;
	uint32_t fa_nr;
	uint32_t fa_left;
	struct ms_fan_one *fa_ones;
	ms_fan_cb_t fa_cb;
	void *fa_arg;
};

static void
ms_fan_free(struct ms_fan *fa)
{
	uint32_t i;

	for (i = 0; i < fa->fa_nr; i++)
		D_FREE(fa->fa_ones[i].fo_body);
	D_FREE(fa->fa_ones);
	D_FREE(fa);
}

static void
ms_fan_one_cb(int rc, const void *body, size_t len, void *arg)
{
	struct ms_fan_one *fo = arg;
	struct ms_fan *fa = fo->fo_fan;

	fo->fo_rc = rc;
	if (rc == 0 && len > 0) {
		D_ALLOC(fo->fo_body, len);
		if (fo->fo_body == NULL)
			fo->fo_rc = -DER_NOMEM;
		else
			memcpy(fo->fo_body, body, len);
		fo->fo_len = len;
	}
	if (--fa->fa_left == 0)
		fa->fa_cb(fa);
}

static void
ms_fan_finish(void *arg)
{
	struct ms_fan *fa = arg;

	fa->fa_cb(fa);
}

/*
 * Call @method with @msg at each of @addrs[0 .. @nr); @cb(fa) runs on the loop once all
 * answered (never from within this call). Returns 0 or -DER_NOMEM (then @cb never runs).
 */
static int
ms_fan_start(struct ds_mgmt *ms, char *const *addrs, uint32_t nr, uint32_t method,
	     const ProtobufCMessage *msg, ms_fan_cb_t cb, void *arg)
{
	struct ms_fan *fa;
	uint8_t sbuf[512];
	uint8_t *buf = sbuf;
	size_t len;
	uint32_t i;
	int rc;

	len = protobuf_c_message_get_packed_size(msg);
	if (len > sizeof(sbuf)) {
		/* a long list of handles (TgtHdl): dss_ctl_call_async copies the body */
		D_ALLOC(buf, len);
		if (buf == NULL)
			return -DER_NOMEM;
	}
	protobuf_c_message_pack(msg, buf);
	D_ALLOC_PTR(fa);
	if (fa != NULL) {
		D_ALLOC_ARRAY(fa->fa_ones, nr > 0 ? nr : 1);
		if (fa->fa_ones == NULL)
			D_FREE(fa);
	}
	if (fa == NULL) {
		if (buf != sbuf)
			D_FREE(buf);
		return -DER_NOMEM;
	}
	fa->fa_ms = ms;
	fa->fa_nr = nr;
	fa->fa_cb = cb;
	fa->fa_arg = arg;
	fa->fa_left = 1; /* held until every call is out */
	for (i = 0; i < nr; i++) {
		fa->fa_ones[i].fo_fan = fa;
		fa->fa_left++;
		rc = dss_ctl_call_async(ms->ms_ctl, addrs[i], method, buf, len, MS_TGT_TIMEOUT_MS,
					ms_fan_one_cb, &fa->fa_ones[i]);
		if (rc != 0) {
			fa->fa_ones[i].fo_rc = rc;
			fa->fa_left--;
		}
	}
	if (buf != sbuf)
		D_FREE(buf);
	/* drop the hold; if every call failed at once, finish on a later turn of the loop */
	if (--fa->fa_left == 0) {
		rc = dss_ctl_exec(ms->ms_ctl, ms_fan_finish, fa);
		if (rc != 0) {
			ms_fan_free(fa);
			return rc;
		}
	}
	return 0;
}

/* The reply status of engine call @fo: the envelope's, else the message's status field. */
static int
ms_tgt_rc(const struct ms_fan_one *fo, uint32_t method)
{
	int rc = fo->fo_rc;

	if (rc != 0)
		return rc;
	if (method == DSS_CTL_TGT_CREATE) {
		Mgmt__TgtCreateResp *r =
		    mgmt__tgt_create_resp__unpack(NULL, fo->fo_len, fo->fo_body);

		rc = r == NULL ? -DER_PROTO : r->status;
		if (r != NULL)
			mgmt__tgt_create_resp__free_unpacked(r, NULL);
	} else if (method == DSS_CTL_TGT_DESTROY || method == DSS_CTL_TGT_CONT_DESTROY) {
		Mgmt__TgtDestroyResp *r =
		    mgmt__tgt_destroy_resp__unpack(NULL, fo->fo_len, fo->fo_body);

		rc = r == NULL ? -DER_PROTO : r->status;
		if (r != NULL)
			mgmt__tgt_destroy_resp__free_unpacked(r, NULL);
	} else if (method == DSS_CTL_TGT_HDL) {
		Mgmt__TgtHdlResp *r = mgmt__tgt_hdl_resp__unpack(NULL, fo->fo_len, fo->fo_body);

		rc = r == NULL ? -DER_PROTO : r->status;
		if (r != NULL)
			mgmt__tgt_hdl_resp__free_unpacked(r, NULL);
	}
	return rc;
}

/* ms_call_all: a fan whose callback gets each call's status (envelope, then message). */
struct ms_all {
	ms_multi_cb_t al_cb;
	void *al_arg;
	uint32_t al_method;
};

static void
ms_all_done(struct ms_fan *fa)
{
	struct ms_all *al = fa->fa_arg;
	int *rcs = NULL;
	uint32_t i;

	D_ALLOC_ARRAY(rcs, fa->fa_nr > 0 ? fa->fa_nr : 1);
	for (i = 0; rcs != NULL && i < fa->fa_nr; i++)
		rcs[i] = ms_tgt_rc(&fa->fa_ones[i], al->al_method);
	al->al_cb(rcs, rcs == NULL ? 0 : fa->fa_nr, al->al_arg);
	D_FREE(rcs);
	ms_fan_free(fa);
	D_FREE(al);
}

int
ms_call_all(struct ds_mgmt *ms, char *const *addrs, uint32_t nr, uint32_t method,
	    const ProtobufCMessage *msg, ms_multi_cb_t cb, void *arg)
{
	struct ms_all *al;
	int rc;

	D_ALLOC_PTR(al);
	if (al == NULL)
		return -DER_NOMEM;
	al->al_cb = cb;
	al->al_arg = arg;
	al->al_method = method;
	rc = ms_fan_start(ms, addrs, nr, method, msg, ms_all_done, al);
	if (rc != 0)
		D_FREE(al);
	return rc;
}

/*
 * Records.
 */

/* Find pool @id (uuid or label) into *@pool (free with mgmt__ms_pool__free_unpacked). */
int
ms_pool_find(struct ds_mgmt *ms, const char *id, Mgmt__MsPool **pool)
{
	char uu[40];
	const void *val;
	size_t len;
	uuid_t u;
	d_iov_t k;
	int rc;

	if (id == NULL || id[0] == '\0' || strlen(id) > 127)
		return -DER_INVAL;
	if (uuid_parse(id, u) == 0) {
		uuid_unparse_lower(u, uu);
	} else {
		d_iov_set(&k, (void *)id, strlen(id));
		rc = rdb_lookup(ms->ms_db, MS_T_LABELS, &k, &val, &len);
		if (rc != 0)
			return rc;
		if (len == 0 || len >= sizeof(uu))
			return -DER_DF_INVAL;
		memcpy(uu, val, len);
		uu[len] = '\0';
	}
	d_iov_set(&k, uu, strlen(uu));
	rc = rdb_lookup(ms->ms_db, MS_T_POOLS, &k, &val, &len);
	if (rc != 0)
		return rc;
	*pool = mgmt__ms_pool__unpack(NULL, len, val);
	return *pool == NULL ? -DER_DF_INVAL : 0;
}

int
ms_pool_put(struct rdb_tx *tx, const Mgmt__MsPool *pool)
{
	return ms_tx_put_msg(tx, MS_T_POOLS, pool->uuid, strlen(pool->uuid), &pool->base);
}

/* The management addresses of @ranks that are joined members, in *@addrs (free each + array). */
int
ms_rank_addrs(struct ds_mgmt *ms, const uint32_t *ranks, uint32_t nr, char ***addrs,
	      uint32_t *naddrs)
{
	Mgmt__MsMember *mem;
	char **v;
	uint32_t i, n = 0;

	D_ALLOC_ARRAY(v, nr > 0 ? nr : 1);
	if (v == NULL)
		return -DER_NOMEM;
	for (i = 0; i < nr; i++) {
		if (ms_member_get(ms, ranks[i], &mem) != 0)
			continue;
		if (strcmp(mem->member->state, MS_ST_JOINED) == 0)
			D_STRNDUP(v[n], mem->member->addr, DSS_CTL_ADDR_LEN);
		mgmt__ms_member__free_unpacked(mem, NULL);
		if (v[n] != NULL)
			n++;
	}
	*addrs = v;
	*naddrs = n;
	return 0;
}

void
ms_addrs_free(char **addrs, uint32_t nr)
{
	uint32_t i;

	for (i = 0; i < nr; i++)
		D_FREE(addrs[i]);
	D_FREE(addrs);
}

static struct ms_pending *
ms_pending_find(struct ds_mgmt *ms, const char *uuid, const char *label)
{
	struct ms_pending *mp;

	d_list_for_each_entry (mp, &ms->ms_pending, mp_link)
		if ((uuid != NULL && strcmp(mp->mp_uuid, uuid) == 0) ||
		    (label != NULL && label[0] != '\0' && mp->mp_label != NULL &&
		     strcmp(mp->mp_label, label) == 0))
			return mp;
	return NULL;
}

void
ms_reply_err(struct ds_mgmt *ms, struct dss_ctl_req *req, int rc)
{
	if (rc == -DER_NOTLEADER)
		ms_reply_notleader(ms, req);
	else
		dss_ctl_reply(req, rc, NULL, 0);
}

/*
 * The end of an MS writer (a handler holding @req's record lock, with the transaction @tx
 * open unless it committed, NULL then): abort @tx; on an error @rc, release the lock and
 * answer @req with @rc (a commit answers the request itself).
 */
static void
ms_writer_end(struct ds_mgmt *ms, struct dss_ctl_req *req, struct rdb_tx *tx, int rc)
{
	rdb_tx_abort(tx);
	if (rc != 0) {
		ms_rl_unlock(ms, req);
		ms_reply_err(ms, req, rc);
	}
}

/*
 * PoolCreate.
 */

struct ms_create {
	struct ds_mgmt *cr_ms;
	struct dss_ctl_req *cr_req;
	struct ms_pending cr_pending;
	Mgmt__MsPool *cr_pool; /* built here: strings and arrays are ours (ms_create_free) */
	char **cr_addrs;
	uint32_t cr_naddrs;
	int cr_rc;
	double cr_pct[2]; /* --size N%: the fraction of each tier's free space; 0: sizes given */
};

static void
ms_create_free(struct ms_create *cr)
{
	Mgmt__MsPool *p = cr->cr_pool;
	uint32_t i;

	if (!d_list_empty(&cr->cr_pending.mp_link))
		d_list_del_init(&cr->cr_pending.mp_link);
	if (p != NULL) {
		D_FREE(p->uuid);
		D_FREE(p->label);
		D_FREE(p->ranks);
		D_FREE(p->svc_reps);
		for (i = 0; i < p->n_properties; i++) {
			if (p->properties[i]->value_case == MGMT__POOL_PROPERTY__VALUE_STRVAL)
				D_FREE(p->properties[i]->strval);
			D_FREE(p->properties[i]);
		}
		D_FREE(p->properties);
		for (i = 0; i < p->n_acl; i++)
			D_FREE(p->acl[i]);
		D_FREE(p->acl);
		D_FREE(p->owner);
		D_FREE(p->owner_group);
		D_FREE(p->map.data);
		D_FREE(p->state);
		D_FREE(p);
	}
	ms_addrs_free(cr->cr_addrs, cr->cr_naddrs);
	D_FREE(cr);
}

static void
ms_create_reply(struct ms_create *cr, int rc)
{
	Mgmt__PoolCreateResp out = MGMT__POOL_CREATE_RESP__INIT;
	Mgmt__MsPool *p = cr->cr_pool;
	uint64_t tiers[2];

	if (rc == -DER_NOTLEADER) {
		ms_reply_notleader(cr->cr_ms, cr->cr_req);
		return;
	}
	out.status = rc;
	if (rc == 0) {
		out.svc_ldr = p->n_svc_reps > 0 ? p->svc_reps[0] : 0;
		out.n_svc_reps = p->n_svc_reps;
		out.svc_reps = p->svc_reps;
		out.n_tgt_ranks = p->n_ranks;
		out.tgt_ranks = p->ranks;
		tiers[0] = p->scm_bytes;
		tiers[1] = p->nvme_bytes;
		out.n_tier_bytes = 2;
		out.tier_bytes = tiers;
	}
	dss_ctl_reply_msg(cr->cr_req, rc, &out.base);
}

static void
ms_create_undone(struct ms_fan *fa)
{
	struct ms_create *cr = fa->fa_arg;

	ms_fan_free(fa);
	D_NOTE("pool %s: create failed, shards removed: " DF_RC "\n", cr->cr_pool->uuid,
	       DP_RC(cr->cr_rc));
	ms_create_reply(cr, cr->cr_rc);
	ms_create_free(cr);
}

/* Undo the shards of a failed create, then reply cr_rc. */
static void
ms_create_undo(struct ms_create *cr)
{
	Mgmt__TgtDestroyReq dr = MGMT__TGT_DESTROY_REQ__INIT;

	dr.pool_uuid = cr->cr_pool->uuid;
	if (ms_fan_start(cr->cr_ms, cr->cr_addrs, cr->cr_naddrs, DSS_CTL_TGT_DESTROY, &dr.base,
			 ms_create_undone, cr) != 0) {
		ms_create_reply(cr, cr->cr_rc);
		ms_create_free(cr);
	}
}

static void
ms_create_committed(int rc, void *arg)
{
	struct ms_create *cr = arg;

	if (rc != 0 && rc != -DER_NOTLEADER && rc != -DER_SHUTDOWN) {
		cr->cr_rc = rc;
		ms_create_undo(cr);
		return;
	}
	if (rc == 0)
		D_NOTE("pool %s (%s) created on %zu ranks\n", cr->cr_pool->uuid, cr->cr_pool->label,
		       cr->cr_pool->n_ranks);
	ms_create_reply(cr, rc);
	ms_create_free(cr);
}

static void
ms_create_shards_done(struct ms_fan *fa)
{
	struct ms_create *cr = fa->fa_arg;
	struct ds_mgmt *ms = cr->cr_ms;
	struct rdb_tx *tx = NULL;
	uint32_t i;
	d_iov_t k, v;
	int rc = 0;

	for (i = 0; i < fa->fa_nr && rc == 0; i++) {
		rc = ms_tgt_rc(&fa->fa_ones[i], DSS_CTL_TGT_CREATE);
		if (rc != 0)
			D_ERROR("pool %s: shards on %s: " DF_RC "\n", cr->cr_pool->uuid,
				cr->cr_addrs[i], DP_RC(rc));
	}
	ms_fan_free(fa);
	if (rc == 0 && (ms->ms_db == NULL || ms->ms_stopping))
		rc = -DER_SHUTDOWN;
	if (rc == 0)
		rc = rdb_tx_begin(ms->ms_db, ms->ms_term, &tx);
	if (rc == 0)
		rc = ms_pool_put(tx, cr->cr_pool);
	if (rc == 0 && cr->cr_pool->label[0] != '\0') {
		d_iov_set(&k, cr->cr_pool->label, strlen(cr->cr_pool->label));
		d_iov_set(&v, cr->cr_pool->uuid, strlen(cr->cr_pool->uuid));
		rc = rdb_tx_update(tx, MS_T_LABELS, &k, &v);
	}
	if (rc == 0) {
		rc = rdb_tx_commit(tx, ms_create_committed, cr);
		tx = NULL;
	}
	if (rc != 0) {
		rdb_tx_abort(tx);
		cr->cr_rc = rc;
		ms_create_undo(cr);
	}
}

static int
ms_joined_cb(const d_iov_t *key, const d_iov_t *val, void *arg)
{
	Mgmt__MsPool *p = arg;
	Mgmt__MsMember *mem;

	(void)key;
	mem = mgmt__ms_member__unpack(NULL, val->iov_len, val->iov_buf);
	if (mem == NULL)
		return 0;
	if (mem->member != NULL && strcmp(mem->member->state, MS_ST_JOINED) == 0)
		p->ranks[p->n_ranks++] = mem->member->rank;
	mgmt__ms_member__free_unpacked(mem, NULL);
	return p->n_ranks >= 4096 ? 1 : 0;
}

/* The pool map of @p's ranks (one node each), version 1, encoded into p->map. */
static int
ms_pool_map_init(struct ds_mgmt *ms, Mgmt__MsPool *p)
{
	struct pool_map_rank_desc *rd;
	struct pool_map *map = NULL;
	Mgmt__MsMember *mem;
	ssize_t n;
	size_t sz;
	uint32_t i;
	int rc = 0;

	D_ALLOC_ARRAY(rd, p->n_ranks);
	if (rd == NULL)
		return -DER_NOMEM;
	for (i = 0; i < p->n_ranks && rc == 0; i++) {
		rc = ms_member_get(ms, p->ranks[i], &mem);
		if (rc != 0)
			break;
		rd[i].rd_rank = p->ranks[i];
		rd[i].rd_node = p->ranks[i];
		rd[i].rd_tgt_nr = mem->ntargets > 0 ? mem->ntargets : 1;
		mgmt__ms_member__free_unpacked(mem, NULL);
	}
	if (rc == 0)
		rc = pool_map_create(rd, (uint32_t)p->n_ranks, 1, &map);
	D_FREE(rd);
	if (rc != 0)
		return rc;
	sz = pool_map_encoded_size(map);
	D_ALLOC(p->map.data, sz);
	if (p->map.data == NULL) {
		pool_map_destroy(map);
		return -DER_NOMEM;
	}
	n = pool_map_encode(map, p->map.data, sz);
	p->map.len = n > 0 ? (size_t)n : 0;
	p->map_version = pool_map_get_version(map);
	pool_map_destroy(map);
	return n > 0 ? 0 : (int)n;
}

static const char *
ms_prop_label(const Mgmt__PoolCreateReq *in)
{
	size_t i;

	for (i = 0; i < in->n_properties; i++)
		if (in->properties[i]->number == DAOS_PROP_PO_LABEL &&
		    in->properties[i]->value_case == MGMT__POOL_PROPERTY__VALUE_STRVAL)
			return in->properties[i]->strval;
	return "";
}

bool
ms_label_valid(const char *label)
{
	uuid_t u;
	size_t i, n = strlen(label);

	if (n == 0 || n > 127 || uuid_parse(label, u) == 0)
		return false;
	for (i = 0; i < n; i++)
		if (!(label[i] == '_' || label[i] == '-' || label[i] == '.' || label[i] == ':' ||
		      (label[i] >= '0' && label[i] <= '9') ||
		      (label[i] >= 'a' && label[i] <= 'z') || (label[i] >= 'A' && label[i] <= 'Z')))
			return false;
	return true;
}

/* Copy the request's properties (the label excepted) and ACL into @p. */
static int
ms_create_copy(Mgmt__MsPool *p, const Mgmt__PoolCreateReq *in)
{
	static const char *const acl_def[] = {"A::OWNER@:rw", "A:G:GROUP@:rw"};
	size_t i, nacl = in->n_acl > 0 ? in->n_acl : D_ARRAY_SIZE(acl_def);

	D_ALLOC_ARRAY(p->properties, in->n_properties + 1);
	D_ALLOC_ARRAY(p->acl, nacl);
	if (p->properties == NULL || p->acl == NULL)
		return -DER_NOMEM;
	for (i = 0; i < in->n_properties; i++) {
		Mgmt__PoolProperty *q, *src = in->properties[i];

		if (src->number == DAOS_PROP_PO_LABEL)
			continue;
		D_ALLOC_PTR(q);
		if (q == NULL)
			return -DER_NOMEM;
		p->properties[p->n_properties++] = q;
		mgmt__pool_property__init(q);
		q->number = src->number;
		q->value_case = src->value_case;
		if (src->value_case == MGMT__POOL_PROPERTY__VALUE_STRVAL) {
			D_STRNDUP(q->strval, src->strval, 4096);
			if (q->strval == NULL)
				return -DER_NOMEM;
		} else {
			q->numval = src->numval;
		}
	}
	for (i = 0; i < nacl; i++) {
		const char *e = in->n_acl > 0 ? in->acl[i] : acl_def[i];

		D_STRNDUP(p->acl[i], e, 4096);
		if (p->acl[i] == NULL)
			return -DER_NOMEM;
		p->n_acl++;
	}
	return 0;
}

/* Start TgtCreate on every rank of the pool (its sizes are set). 0 or -DER_NOMEM. */
static int
ms_create_shards_start(struct ms_create *cr)
{
	Mgmt__TgtCreateReq tr = MGMT__TGT_CREATE_REQ__INIT;
	Mgmt__MsPool *p = cr->cr_pool;
	int rc;

	tr.pool_uuid = p->uuid;
	tr.scm_bytes = p->scm_bytes;
	tr.nvme_bytes = p->nvme_bytes;
	rc = ms_fan_start(cr->cr_ms, cr->cr_addrs, cr->cr_naddrs, DSS_CTL_TGT_CREATE, &tr.base,
			  ms_create_shards_done, cr);
	if (rc == 0)
		D_NOTE("pool %s (%s): creating on %zu ranks, %" PRIu64 "+%" PRIu64
		       " bytes per rank\n",
		       p->uuid, p->label, p->n_ranks, p->scm_bytes, p->nvme_bytes);
	return rc;
}

/*
 * --size N%: every rank answered its storage usage. As DAOS, each tier gets the fraction
 * asked of the smallest free space among the ranks (the ram tier's, and the sum of the file
 * tiers'), the same on every rank; a rank that does not answer fails the create.
 */
static void
ms_create_usage_done(struct ms_fan *fa)
{
	struct ms_create *cr = fa->fa_arg;
	Mgmt__MsPool *p = cr->cr_pool;
	uint64_t min[2] = {UINT64_MAX, UINT64_MAX};
	uint32_t i;
	size_t t;
	int rc = 0;

	for (i = 0; rc == 0 && i < fa->fa_nr; i++) {
		struct ms_fan_one *fo = &fa->fa_ones[i];
		Mgmt__StorageUsageResp *r = NULL;
		uint64_t avail[2] = {0, 0};

		rc = fo->fo_rc;
		if (rc == 0) {
			r = mgmt__storage_usage_resp__unpack(NULL, fo->fo_len, fo->fo_body);
			rc = r == NULL ? -DER_PROTO : r->status;
		}
		for (t = 0; rc == 0 && t < r->n_tiers; t++)
			avail[r->tiers[t]->media_type == MGMT__STORAGE_MEDIA_TYPE__SCM ? 0 : 1] +=
			    r->tiers[t]->usable_bytes;
		if (r != NULL)
			mgmt__storage_usage_resp__free_unpacked(r, NULL);
		if (rc != 0) {
			D_ERROR("pool %s: storage usage of %s: " DF_RC "\n", p->uuid,
				cr->cr_addrs[i], DP_RC(rc));
			break;
		}
		min[0] = avail[0] < min[0] ? avail[0] : min[0];
		min[1] = avail[1] < min[1] ? avail[1] : min[1];
	}
	ms_fan_free(fa);
	if (rc == 0 && (cr->cr_ms->ms_db == NULL || cr->cr_ms->ms_stopping))
		rc = -DER_SHUTDOWN;
	if (rc == 0) {
		p->scm_bytes = (uint64_t)((double)min[0] * cr->cr_pct[0]);
		p->nvme_bytes = (uint64_t)((double)min[1] * cr->cr_pct[1]);
		if (p->scm_bytes == 0)
			rc = -DER_NOSPACE;
	}
	if (rc == 0)
		rc = ms_create_shards_start(cr);
	if (rc != 0) {
		ms_create_reply(cr, rc);
		ms_create_free(cr);
	}
}

static void
ms_pool_create_handler(struct dss_ctl_req *req, void *arg)
{
	struct ds_mgmt *ms = arg;
	Mgmt__PoolCreateReq *in;
	Mgmt__MsPool *old = NULL, *p;
	struct ms_create *cr = NULL;
	const char *label;
	const void *body;
	char uu[40];
	size_t len;
	uint32_t i, nsvc;
	uuid_t u;
	int rc;

	if (!ms_serving(ms, req))
		return;
	body = dss_ctl_req_body(req, &len);
	in = mgmt__pool_create_req__unpack(NULL, len, body);
	if (in == NULL) {
		dss_ctl_reply(req, -DER_INVAL, NULL, 0);
		return;
	}
	rc = -DER_INVAL;
	if (uuid_parse(in->uuid, u) != 0 ||
	    (in->sys[0] != '\0' && strcmp(in->sys, ms->ms_sys) != 0))
		goto out;
	uuid_unparse_lower(u, uu);
	label = ms_prop_label(in);
	if (label[0] != '\0' && !ms_label_valid(label))
		goto out;
	/* a retry of a create that succeeded answers the same */
	rc = ms_pool_find(ms, uu, &old);
	if (rc == 0) {
		D_ALLOC_PTR(cr);
		if (cr == NULL) {
			rc = -DER_NOMEM;
			goto out;
		}
		cr->cr_ms = ms;
		cr->cr_req = req;
		cr->cr_pool = old;
		D_INIT_LIST_HEAD(&cr->cr_pending.mp_link);
		ms_create_reply(cr, strcmp(old->label, label) == 0 ? 0 : -DER_EXIST);
		cr->cr_pool = NULL;
		mgmt__ms_pool__free_unpacked(old, NULL);
		ms_create_free(cr);
		mgmt__pool_create_req__free_unpacked(in, NULL);
		return;
	}
	if (rc != -DER_NONEXIST)
		goto out;
	rc = -DER_BUSY;
	if (ms_pending_find(ms, uu, NULL) != NULL)
		goto out;
	rc = -DER_EXIST;
	if (label[0] != '\0' &&
	    (ms_pending_find(ms, NULL, label) != NULL || ms_pool_find(ms, label, &old) == 0)) {
		D_DEBUG("pool label %s is taken\n", label);
		if (old != NULL)
			mgmt__ms_pool__free_unpacked(old, NULL);
		goto out;
	}

	rc = -DER_NOMEM;
	D_ALLOC_PTR(cr);
	if (cr == NULL)
		goto out;
	cr->cr_ms = ms;
	cr->cr_req = req;
	D_INIT_LIST_HEAD(&cr->cr_pending.mp_link);
	D_ALLOC_PTR(cr->cr_pool);
	if (cr->cr_pool == NULL)
		goto out;
	p = cr->cr_pool;
	mgmt__ms_pool__init(p);
	D_STRNDUP(p->uuid, uu, sizeof(uu));
	D_STRNDUP(p->label, label, 128);
	D_STRNDUP(p->state, "Ready", 8);
	D_STRNDUP(p->owner, in->user, 256);
	D_STRNDUP(p->owner_group, in->user_group, 256);
	D_ALLOC_ARRAY(p->ranks, in->n_ranks > 0 ? in->n_ranks : 4096);
	if (p->uuid == NULL || p->label == NULL || p->state == NULL || p->owner == NULL ||
	    p->owner_group == NULL || p->ranks == NULL)
		goto out;
	rc = ms_create_copy(p, in);
	if (rc != 0)
		goto out;

	/* ranks: the ones asked for (each a joined member), else every joined rank */
	if (in->n_ranks > 0) {
		for (i = 0; i < in->n_ranks; i++) {
			Mgmt__MsMember *mem;

			rc = ms_member_get(ms, in->ranks[i], &mem);
			if (rc == 0 && strcmp(mem->member->state, MS_ST_JOINED) != 0)
				rc = -DER_UNREACH;
			if (rc == 0)
				mgmt__ms_member__free_unpacked(mem, NULL);
			if (rc != 0) {
				D_ERROR("pool %s: rank %u: " DF_RC "\n", uu, in->ranks[i],
					DP_RC(rc));
				goto out;
			}
			if (!ms_rank_in(p->ranks, p->n_ranks, in->ranks[i]))
				p->ranks[p->n_ranks++] = in->ranks[i];
		}
	} else {
		rc = rdb_iterate(ms->ms_db, MS_T_MEMBERS, NULL, ms_joined_cb, p);
		if (rc != 0)
			goto out;
		if (in->num_ranks > 0 && in->num_ranks < p->n_ranks)
			p->n_ranks = in->num_ranks;
	}
	rc = -DER_INVAL;
	if (p->n_ranks == 0 || (in->num_ranks > p->n_ranks))
		goto out;

	/* sizes, per rank */
	if (in->n_tier_bytes > 0) {
		p->scm_bytes = in->tier_bytes[0];
		p->nvme_bytes = in->n_tier_bytes > 1 ? in->tier_bytes[1] : 0;
	} else if (in->total_bytes > 0) {
		double r0 = in->n_tier_ratio > 0 ? in->tier_ratio[0] : 0.06;
		double r1 = in->n_tier_ratio > 1 ? in->tier_ratio[1] : 1.0 - r0;

		if (r0 < 0 || r0 > 1 || r1 < 0 || r1 > 1)
			goto out;
		p->scm_bytes = (uint64_t)((double)in->total_bytes * r0) / p->n_ranks;
		p->nvme_bytes = (uint64_t)((double)in->total_bytes * r1) / p->n_ranks;
	} else if (in->n_tier_ratio == 2 && in->tier_ratio[0] > 0 && in->tier_ratio[0] <= 1 &&
		   in->tier_ratio[1] >= 0 && in->tier_ratio[1] <= 1) {
		/* --size=N%: sizes from the free space of the ranks, below */
		cr->cr_pct[0] = in->tier_ratio[0];
		cr->cr_pct[1] = in->tier_ratio[1];
	} else {
		goto out;
	}
	if (cr->cr_pct[0] == 0 && p->scm_bytes == 0)
		goto out;

	nsvc = in->num_svc_reps > 0 ? in->num_svc_reps : MS_SVC_REPS_DEFAULT;
	if (nsvc > p->n_ranks)
		nsvc = (uint32_t)p->n_ranks;
	rc = -DER_NOMEM;
	D_ALLOC_ARRAY(p->svc_reps, nsvc);
	if (p->svc_reps == NULL)
		goto out;
	for (i = 0; i < nsvc; i++)
		p->svc_reps[p->n_svc_reps++] = p->ranks[i];
	rc = ms_pool_map_init(ms, p);
	if (rc != 0)
		goto out;
	rc = ms_rank_addrs(ms, p->ranks, (uint32_t)p->n_ranks, &cr->cr_addrs, &cr->cr_naddrs);
	if (rc != 0)
		goto out;

	snprintf(cr->cr_pending.mp_uuid, sizeof(cr->cr_pending.mp_uuid), "%s", uu);
	cr->cr_pending.mp_label = p->label;
	if (cr->cr_pct[0] > 0) {
		Mgmt__StorageUsageReq ur = MGMT__STORAGE_USAGE_REQ__INIT;

		/* --size N%: the free space of every rank first (ms_create_usage_done) */
		ur.sys = ms->ms_sys;
		rc = ms_fan_start(ms, cr->cr_addrs, cr->cr_naddrs, DSS_CTL_STORAGE_QUERY_USAGE,
				  &ur.base, ms_create_usage_done, cr);
		if (rc != 0)
			goto out;
		d_list_add(&cr->cr_pending.mp_link, &ms->ms_pending);
		mgmt__pool_create_req__free_unpacked(in, NULL);
		return;
	}
	rc = ms_create_shards_start(cr);
	if (rc != 0)
		goto out;
	d_list_add(&cr->cr_pending.mp_link, &ms->ms_pending);
	mgmt__pool_create_req__free_unpacked(in, NULL);
	return;
out:
	if (cr != NULL)
		ms_create_free(cr);
	mgmt__pool_create_req__free_unpacked(in, NULL);
	ms_reply_err(ms, req, rc);
}

/*
 * PoolDestroy.
 */

struct ms_destroy {
	struct ds_mgmt *de_ms;
	struct dss_ctl_req *de_req;
	Mgmt__MsPool *de_pool;
	char **de_addrs;
	uint32_t de_naddrs;
	bool de_force;
};

static void
ms_destroy_free(struct ms_destroy *de)
{
	if (de->de_pool != NULL)
		mgmt__ms_pool__free_unpacked(de->de_pool, NULL);
	ms_addrs_free(de->de_addrs, de->de_naddrs);
	D_FREE(de);
}

static void
ms_destroy_committed(int rc, void *arg)
{
	struct ms_destroy *de = arg;
	Mgmt__PoolDestroyResp out = MGMT__POOL_DESTROY_RESP__INIT;

	if (rc == 0)
		D_NOTE("pool %s (%s) destroyed\n", de->de_pool->uuid, de->de_pool->label);
	ms_rl_unlock(de->de_ms, de->de_req);
	if (rc == -DER_NOTLEADER) {
		ms_reply_notleader(de->de_ms, de->de_req);
	} else {
		out.status = rc;
		dss_ctl_reply_msg(de->de_req, rc, &out.base);
	}
	ms_destroy_free(de);
}

static void
ms_destroy_shards_done(struct ms_fan *fa)
{
	struct ms_destroy *de = fa->fa_arg;
	struct ds_mgmt *ms = de->de_ms;
	struct rdb_tx *tx = NULL;
	int *rcs = NULL;
	uint32_t i;
	d_iov_t k;
	int rc = 0, trc;

	D_ALLOC_ARRAY(rcs, fa->fa_nr > 0 ? fa->fa_nr : 1);
	if (rcs == NULL)
		rc = -DER_NOMEM;
	for (i = 0; rcs != NULL && i < fa->fa_nr; i++) {
		trc = ms_tgt_rc(&fa->fa_ones[i], DSS_CTL_TGT_DESTROY);
		rcs[i] = trc;
		if (trc != 0) {
			D_ERROR("pool %s: destroy on %s: " DF_RC "\n", de->de_pool->uuid,
				de->de_addrs[i], DP_RC(trc));
			if (rc == 0 && !de->de_force)
				rc = trc;
		}
	}
	ms_fan_free(fa);
	if (rc == 0 && (ms->ms_db == NULL || ms->ms_stopping))
		rc = -DER_SHUTDOWN;
	if (rc == 0)
		rc = rdb_tx_begin(ms->ms_db, ms->ms_term, &tx);
	if (rc == 0) {
		d_iov_set(&k, de->de_pool->uuid, strlen(de->de_pool->uuid));
		rc = rdb_tx_delete(tx, MS_T_POOLS, &k);
	}
	if (rc == 0 && de->de_pool->label[0] != '\0') {
		d_iov_set(&k, de->de_pool->label, strlen(de->de_pool->label));
		rc = rdb_tx_delete(tx, MS_T_LABELS, &k);
	}
	if (rc == 0)
		rc = ms_pool_forget(ms, tx, de->de_pool->uuid, true, NULL);
	/* the shards of ranks not reached go when those ranks join again */
	if (rc == 0)
		rc = ms_orphans_add(ms, tx, de->de_pool->ranks, (uint32_t)de->de_pool->n_ranks,
				    de->de_addrs, rcs, de->de_naddrs, de->de_pool->uuid, NULL);
	D_FREE(rcs);
	if (rc == 0) {
		rc = rdb_tx_commit(tx, ms_destroy_committed, de);
		tx = NULL;
	}
	if (rc != 0) {
		rdb_tx_abort(tx);
		ms_destroy_committed(rc, de);
	}
}

static void
ms_pool_destroy_handler(struct dss_ctl_req *req, void *arg)
{
	struct ds_mgmt *ms = arg;
	Mgmt__TgtDestroyReq dr = MGMT__TGT_DESTROY_REQ__INIT;
	struct ms_destroy *de = NULL;
	Mgmt__PoolDestroyReq *in;
	const void *body;
	size_t len;
	int rc;

	if (!ms_serving(ms, req))
		return;
	body = dss_ctl_req_body(req, &len);
	in = mgmt__pool_destroy_req__unpack(NULL, len, body);
	if (in == NULL) {
		dss_ctl_reply(req, -DER_INVAL, NULL, 0);
		return;
	}
	rc = -DER_NOMEM;
	D_ALLOC_PTR(de);
	if (de == NULL)
		goto out;
	de->de_ms = ms;
	de->de_req = req;
	de->de_force = in->force;
	rc = ms_pool_find(ms, in->id, &de->de_pool);
	if (rc != 0)
		goto out;
	/* no update of the record may commit after its delete (it would bring it back) */
	rc = ms_rl_lock(ms, de->de_pool->uuid, req, ms_pool_destroy_handler, req, ms);
	if (rc == 0) {
		ms_destroy_free(de);
		mgmt__pool_destroy_req__free_unpacked(in, NULL);
		return;
	}
	if (rc < 0)
		goto out;
	rc = -DER_BUSY;
	if (ms_pending_find(ms, de->de_pool->uuid, NULL) != NULL)
		goto out;
	/* open handles: busy, unless forced (the destroy then evicts them) */
	if (!in->force && ms_pool_hdl_count(ms, de->de_pool->uuid) > 0) {
		D_DEBUG("pool %s has open handles\n", de->de_pool->uuid);
		goto out;
	}
	rc = ms_rank_addrs(ms, de->de_pool->ranks, (uint32_t)de->de_pool->n_ranks, &de->de_addrs,
			   &de->de_naddrs);
	if (rc != 0)
		goto out;
	dr.pool_uuid = de->de_pool->uuid;
	rc = ms_fan_start(ms, de->de_addrs, de->de_naddrs, DSS_CTL_TGT_DESTROY, &dr.base,
			  ms_destroy_shards_done, de);
	if (rc != 0)
		goto out;
	mgmt__pool_destroy_req__free_unpacked(in, NULL);
	return;
out:
	if (de != NULL)
		ms_destroy_free(de);
	mgmt__pool_destroy_req__free_unpacked(in, NULL);
	ms_rl_unlock(ms, req);
	ms_reply_err(ms, req, rc);
}

/*
 * PoolList and PoolQuery.
 */

struct ms_map_info {
	uint32_t mi_total;
	uint32_t mi_disabled;
	uint32_t mi_version;
	char mi_enabled_ranks[512];
	char mi_disabled_ranks[512];
};

static void
ms_rank_append(char *buf, size_t size, uint32_t rank)
{
	size_t n = strlen(buf);

	if (n + 12 < size)
		snprintf(buf + n, size - n, "%s%u", n > 0 ? "," : "", rank);
}

static int
ms_map_info(const Mgmt__MsPool *p, struct ms_map_info *mi)
{
	struct pool_map *map;
	uint32_t i;
	int rc;

	memset(mi, 0, sizeof(*mi));
	rc = pool_map_decode(p->map.data, p->map.len, &map);
	if (rc != 0) {
		D_ERROR("pool %s: map does not decode: " DF_RC "\n", p->uuid, DP_RC(rc));
		return rc;
	}
	mi->mi_total = map->pm_tgt_nr;
	mi->mi_disabled = pool_map_target_nr(map, PO_COMP_ST_DOWN | PO_COMP_ST_DOWNOUT);
	mi->mi_version = pool_map_get_version(map);
	for (i = 0; i < p->n_ranks; i++) {
		struct pool_domain *d = pool_map_find_rank(map, p->ranks[i]);

		if (d != NULL && pool_comp_unavailable(d->do_comp.co_status))
			ms_rank_append(mi->mi_disabled_ranks, sizeof(mi->mi_disabled_ranks),
				       p->ranks[i]);
		else
			ms_rank_append(mi->mi_enabled_ranks, sizeof(mi->mi_enabled_ranks),
				       p->ranks[i]);
	}
	pool_map_destroy(map);
	return 0;
}

struct ms_list {
	Mgmt__ListPoolsResp__Pool **li_v;
	Mgmt__MsPool **li_p; /* the records; li_v[i] borrows li_p[i]'s strings */
	size_t li_nr;
	size_t li_cap;
};

static int
ms_list_cb(const d_iov_t *key, const d_iov_t *val, void *arg)
{
	struct ms_list *li = arg;
	Mgmt__ListPoolsResp__Pool *e, **nv;
	Mgmt__MsPool **np;
	struct ms_map_info mi;
	Mgmt__MsPool *p;

	(void)key;
	p = mgmt__ms_pool__unpack(NULL, val->iov_len, val->iov_buf);
	if (p == NULL)
		return 0;
	if (li->li_nr == li->li_cap) {
		size_t cap = li->li_cap == 0 ? 16 : li->li_cap * 2;

		D_REALLOC_ARRAY(nv, li->li_v, cap);
		if (nv == NULL)
			goto nomem;
		li->li_v = nv;
		D_REALLOC_ARRAY(np, li->li_p, cap);
		if (np == NULL)
			goto nomem;
		li->li_p = np;
		li->li_cap = cap;
	}
	D_ALLOC_PTR(e);
	if (e == NULL)
		goto nomem;
	mgmt__list_pools_resp__pool__init(e);
	li->li_v[li->li_nr] = e;
	li->li_p[li->li_nr++] = p;
	if (ms_map_info(p, &mi) == 0) {
		e->total_targets = mi.mi_total;
		e->disabled_targets = mi.mi_disabled;
	}
	e->uuid = p->uuid;
	e->label = p->label;
	e->state = p->state;
	e->n_svc_reps = p->n_svc_reps;
	e->svc_reps = p->svc_reps;
	e->svc_ldr = p->n_svc_reps > 0 ? p->svc_reps[0] : 0;
	e->rebuild_state = "idle";
	return 0;
nomem:
	mgmt__ms_pool__free_unpacked(p, NULL);
	return -DER_NOMEM;
}

static void
ms_list_fini(struct ms_list *li)
{
	size_t i;

	for (i = 0; i < li->li_nr; i++) {
		D_FREE(li->li_v[i]);
		mgmt__ms_pool__free_unpacked(li->li_p[i], NULL);
	}
	D_FREE(li->li_v);
	D_FREE(li->li_p);
}

static void
ms_tier_add(Mgmt__StorageUsageStats *st, uint64_t total, uint64_t free, bool *first)
{
	st->total += total;
	st->free += free;
	if (*first || free < st->min)
		st->min = free;
	if (*first || free > st->max)
		st->max = free;
	*first = false;
}

/* Sum the TgtQuery replies of @fa into @tiers (SCM, NVMe); returns the targets counted. */
static uint32_t
ms_tier_collect(struct ms_fan *fa, Mgmt__StorageUsageStats *tiers, const char *uuid)
{
	bool first[2] = {true, true};
	uint32_t i, ntgts = 0;
	size_t j;

	for (i = 0; i < fa->fa_nr; i++) {
		Mgmt__TgtQueryResp *r;

		if (fa->fa_ones[i].fo_rc != 0) {
			D_WARN("pool %s: shard query: " DF_RC "\n", uuid,
			       DP_RC(fa->fa_ones[i].fo_rc));
			continue;
		}
		r = mgmt__tgt_query_resp__unpack(NULL, fa->fa_ones[i].fo_len,
						 fa->fa_ones[i].fo_body);
		if (r == NULL)
			continue;
		for (j = 0; j < r->n_shards; j++) {
			if (r->shards[j]->status != 0)
				continue;
			ms_tier_add(&tiers[0], r->shards[j]->scm_total, r->shards[j]->scm_free,
				    &first[0]);
			ms_tier_add(&tiers[1], r->shards[j]->data_total, r->shards[j]->data_free,
				    &first[1]);
			ntgts++;
		}
		mgmt__tgt_query_resp__free_unpacked(r, NULL);
	}
	tiers[0].media_type = MGMT__STORAGE_MEDIA_TYPE__SCM;
	tiers[1].media_type = MGMT__STORAGE_MEDIA_TYPE__NVME;
	for (i = 0; i < 2 && ntgts > 0; i++)
		tiers[i].mean = tiers[i].free / ntgts;
	return ntgts;
}

/* A pool list with space figures: one TgtQuery fan per pool, the reply when all are done. */
struct ms_plist {
	struct ds_mgmt *pl_ms;
	struct dss_ctl_req *pl_req;
	struct ms_list pl_li;
	size_t pl_left;
	Mgmt__StorageUsageStats *pl_stats;  /* 2 per pool */
	Mgmt__StorageUsageStats **pl_statp; /* 2 per pool */
	char ***pl_addrs;
	uint32_t *pl_naddrs;
};

static void
ms_plist_reply(struct ms_plist *pl, int rc)
{
	Mgmt__ListPoolsResp out = MGMT__LIST_POOLS_RESP__INIT;
	size_t i;

	out.status = rc;
	out.n_pools = rc == 0 ? pl->pl_li.li_nr : 0;
	out.pools = pl->pl_li.li_v;
	out.data_version = pl->pl_ms->ms_map_version;
	dss_ctl_reply_msg(pl->pl_req, rc, &out.base);
	for (i = 0; pl->pl_addrs != NULL && i < pl->pl_li.li_nr; i++)
		ms_addrs_free(pl->pl_addrs[i], pl->pl_naddrs[i]);
	D_FREE(pl->pl_addrs);
	D_FREE(pl->pl_naddrs);
	D_FREE(pl->pl_statp);
	D_FREE(pl->pl_stats);
	ms_list_fini(&pl->pl_li);
	D_FREE(pl);
}

struct ms_plist_one {
	struct ms_plist *po_pl;
	size_t po_idx;
};

static void
ms_plist_done(struct ms_fan *fa)
{
	struct ms_plist_one *po = fa->fa_arg;
	struct ms_plist *pl = po->po_pl;
	size_t i = po->po_idx;

	ms_tier_collect(fa, &pl->pl_stats[2 * i], pl->pl_li.li_p[i]->uuid);
	pl->pl_li.li_v[i]->n_tier_stats = 2;
	pl->pl_li.li_v[i]->tier_stats = &pl->pl_statp[2 * i];
	ms_fan_free(fa);
	D_FREE(po);
	if (--pl->pl_left == 0)
		ms_plist_reply(pl, 0);
}

static void
ms_pool_list_handler(struct dss_ctl_req *req, void *arg)
{
	struct ds_mgmt *ms = arg;
	Mgmt__TgtQueryReq tq = MGMT__TGT_QUERY_REQ__INIT;
	struct ms_plist *pl;
	Mgmt__ListPoolsReq *in;
	struct ms_plist_one *po;
	const void *body;
	bool no_query;
	size_t len, i, n;
	int rc;

	if (!ms_serving(ms, req))
		return;
	body = dss_ctl_req_body(req, &len);
	in = mgmt__list_pools_req__unpack(NULL, len, body);
	if (in == NULL) {
		dss_ctl_reply(req, -DER_INVAL, NULL, 0);
		return;
	}
	no_query = in->no_query;
	mgmt__list_pools_req__free_unpacked(in, NULL);
	D_ALLOC_PTR(pl);
	if (pl == NULL) {
		dss_ctl_reply(req, -DER_NOMEM, NULL, 0);
		return;
	}
	pl->pl_ms = ms;
	pl->pl_req = req;
	rc = rdb_iterate(ms->ms_db, MS_T_POOLS, NULL, ms_list_cb, &pl->pl_li);
	n = pl->pl_li.li_nr;
	if (rc != 0 || no_query || n == 0) {
		ms_plist_reply(pl, rc);
		return;
	}
	D_ALLOC_ARRAY(pl->pl_stats, 2 * n);
	D_ALLOC_ARRAY(pl->pl_statp, 2 * n);
	D_ALLOC_ARRAY(pl->pl_addrs, n);
	D_ALLOC_ARRAY(pl->pl_naddrs, n);
	if (pl->pl_stats == NULL || pl->pl_statp == NULL || pl->pl_addrs == NULL ||
	    pl->pl_naddrs == NULL) {
		ms_plist_reply(pl, -DER_NOMEM);
		return;
	}
	for (i = 0; i < 2 * n; i++) {
		mgmt__storage_usage_stats__init(&pl->pl_stats[i]);
		pl->pl_statp[i] = &pl->pl_stats[i];
	}
	for (i = 0; i < n; i++) {
		Mgmt__MsPool *p = pl->pl_li.li_p[i];

		rc = ms_rank_addrs(ms, p->ranks, (uint32_t)p->n_ranks, &pl->pl_addrs[i],
				   &pl->pl_naddrs[i]);
		if (rc != 0)
			break;
	}
	if (rc != 0) {
		ms_plist_reply(pl, rc);
		return;
	}
	/* one hold while the fans start, so that none can finish the list early */
	pl->pl_left = 1;
	for (i = 0; i < n; i++) {
		D_ALLOC_PTR(po);
		if (po == NULL)
			continue;
		po->po_pl = pl;
		po->po_idx = i;
		tq.pool_uuid = pl->pl_li.li_p[i]->uuid;
		pl->pl_left++;
		if (ms_fan_start(ms, pl->pl_addrs[i], pl->pl_naddrs[i], DSS_CTL_TGT_QUERY, &tq.base,
				 ms_plist_done, po) != 0) {
			pl->pl_left--;
			D_FREE(po);
		}
	}
	if (--pl->pl_left == 0)
		ms_plist_reply(pl, 0);
}

struct ms_query {
	struct ds_mgmt *qu_ms;
	struct dss_ctl_req *qu_req;
	Mgmt__MsPool *qu_pool;
	char **qu_addrs;
	uint32_t qu_naddrs;
	uint64_t qu_mask;
};

static void
ms_query_done(struct ms_fan *fa)
{
	struct ms_query *qu = fa->fa_arg;
	Mgmt__MsPool *p = qu->qu_pool;
	Mgmt__PoolQueryResp out = MGMT__POOL_QUERY_RESP__INIT;
	Mgmt__PoolRebuildStatus rb = MGMT__POOL_REBUILD_STATUS__INIT;
	Mgmt__StorageUsageStats tiers[2] = {MGMT__STORAGE_USAGE_STATS__INIT,
					    MGMT__STORAGE_USAGE_STATS__INIT};
	Mgmt__StorageUsageStats *tierp[2] = {&tiers[0], &tiers[1]};
	struct ms_map_info mi;
	int rc;

	ms_tier_collect(fa, tiers, p->uuid);
	ms_fan_free(fa);
	rc = ms_map_info(p, &mi);
	out.status = rc;
	out.uuid = p->uuid;
	out.label = p->label;
	out.total_targets = mi.mi_total;
	out.disabled_targets = mi.mi_disabled;
	out.active_targets = mi.mi_total - mi.mi_disabled;
	rb.state = MGMT__POOL_REBUILD_STATUS__STATE__IDLE;
	out.rebuild = &rb;
	out.n_tier_stats = 2;
	out.tier_stats = tierp;
	out.version = mi.mi_version;
	out.svc_ldr = p->n_svc_reps > 0 ? p->svc_reps[0] : 0;
	out.n_svc_reps = p->n_svc_reps;
	out.svc_reps = p->svc_reps;
	out.enabled_ranks = mi.mi_enabled_ranks;
	out.disabled_ranks = mi.mi_disabled_ranks;
	out.dead_ranks = mi.mi_disabled_ranks;
	out.total_engines = (uint32_t)p->n_ranks;
	out.state = MGMT__POOL_SERVICE_STATE__Ready;
	out.query_mask = qu->qu_mask;
	dss_ctl_reply_msg(qu->qu_req, rc, &out.base);
	mgmt__ms_pool__free_unpacked(p, NULL);
	ms_addrs_free(qu->qu_addrs, qu->qu_naddrs);
	D_FREE(qu);
}

int
ms_pool_query_start(struct ds_mgmt *ms, struct dss_ctl_req *req, Mgmt__MsPool *p, uint64_t mask)
{
	Mgmt__TgtQueryReq tq = MGMT__TGT_QUERY_REQ__INIT;
	struct ms_query *qu;
	int rc;

	D_ALLOC_PTR(qu);
	if (qu == NULL)
		return -DER_NOMEM;
	qu->qu_ms = ms;
	qu->qu_req = req;
	qu->qu_mask = mask;
	rc = ms_rank_addrs(ms, p->ranks, (uint32_t)p->n_ranks, &qu->qu_addrs, &qu->qu_naddrs);
	if (rc == 0) {
		qu->qu_pool = p;
		tq.pool_uuid = p->uuid;
		rc = ms_fan_start(ms, qu->qu_addrs, qu->qu_naddrs, DSS_CTL_TGT_QUERY, &tq.base,
				  ms_query_done, qu);
	}
	if (rc != 0) {
		ms_addrs_free(qu->qu_addrs, qu->qu_naddrs);
		D_FREE(qu);
	}
	return rc;
}

static void
ms_pool_query_handler(struct dss_ctl_req *req, void *arg)
{
	struct ds_mgmt *ms = arg;
	Mgmt__PoolQueryReq *in;
	Mgmt__MsPool *p = NULL;
	const void *body;
	size_t len;
	int rc;

	if (!ms_serving(ms, req))
		return;
	body = dss_ctl_req_body(req, &len);
	in = mgmt__pool_query_req__unpack(NULL, len, body);
	if (in == NULL) {
		dss_ctl_reply(req, -DER_INVAL, NULL, 0);
		return;
	}
	rc = ms_pool_find(ms, in->id, &p);
	if (rc == 0)
		rc = ms_pool_query_start(ms, req, p, in->query_mask);
	mgmt__pool_query_req__free_unpacked(in, NULL);
	if (rc != 0) {
		if (p != NULL)
			mgmt__ms_pool__free_unpacked(p, NULL);
		ms_reply_err(ms, req, rc);
	}
}

/*
 * Properties and ACLs: read, change, commit; the reply is packed before the commit.
 */

struct ms_commit {
	struct ds_mgmt *co_ms;
	struct dss_ctl_req *co_req;
	void *co_body;
	size_t co_len;
	bool co_push; /* a pool map changed: tell the engines the new versions once committed */
};

static void
ms_commit_done(int rc, void *arg)
{
	struct ms_commit *co = arg;

	ms_rl_unlock(co->co_ms, co->co_req); /* the record it wrote, if it held it */
	if (rc == 0 && co->co_push)
		ms_tgt_hdls_push(co->co_ms, MS_PUSH_MAPS, 0);
	if (rc == -DER_NOTLEADER)
		ms_reply_notleader(co->co_ms, co->co_req);
	else if (rc != 0)
		dss_ctl_reply(co->co_req, rc, NULL, 0);
	else
		dss_ctl_reply(co->co_req, 0, co->co_body, co->co_len);
	D_FREE(co->co_body);
	D_FREE(co);
}

static int ms_commit_start(struct ds_mgmt *ms, struct dss_ctl_req *req, struct rdb_tx *tx,
			   const ProtobufCMessage *reply, bool push);

/* Commit @tx (consumed) and then answer @req with @reply (packed now). */
int
ms_commit_reply(struct ds_mgmt *ms, struct dss_ctl_req *req, struct rdb_tx *tx,
		const ProtobufCMessage *reply)
{
	return ms_commit_start(ms, req, tx, reply, false);
}

/* ms_commit_reply; with @push, the engines learn the new pool map versions once committed. */
static int
ms_commit_start(struct ds_mgmt *ms, struct dss_ctl_req *req, struct rdb_tx *tx,
		const ProtobufCMessage *reply, bool push)
{
	struct ms_commit *co;
	int rc;

	D_ALLOC_PTR(co);
	if (co == NULL)
		goto nomem;
	co->co_push = push;
	co->co_ms = ms;
	co->co_req = req;
	co->co_len = protobuf_c_message_get_packed_size(reply);
	D_ALLOC(co->co_body, co->co_len > 0 ? co->co_len : 1);
	if (co->co_body == NULL) {
		D_FREE(co);
		goto nomem;
	}
	protobuf_c_message_pack(reply, co->co_body);
	rc = rdb_tx_commit(tx, ms_commit_done, co);
	if (rc != 0) {
		D_FREE(co->co_body);
		D_FREE(co);
	}
	return rc;
nomem:
	rdb_tx_abort(tx);
	return -DER_NOMEM;
}

static void
ms_pool_get_prop_handler(struct dss_ctl_req *req, void *arg)
{
	struct ds_mgmt *ms = arg;
	Mgmt__PoolGetPropResp out = MGMT__POOL_GET_PROP_RESP__INIT;
	Mgmt__PoolProperty fixed[3] = {MGMT__POOL_PROPERTY__INIT, MGMT__POOL_PROPERTY__INIT,
				       MGMT__POOL_PROPERTY__INIT};
	Mgmt__PoolProperty **v = NULL;
	Mgmt__PoolGetPropReq *in;
	Mgmt__MsPool *p = NULL;
	const void *body;
	size_t len, i, j, n = 0;
	int rc;

	if (!ms_serving(ms, req))
		return;
	body = dss_ctl_req_body(req, &len);
	in = mgmt__pool_get_prop_req__unpack(NULL, len, body);
	if (in == NULL) {
		dss_ctl_reply(req, -DER_INVAL, NULL, 0);
		return;
	}
	rc = ms_pool_find(ms, in->id, &p);
	if (rc != 0)
		goto out;
	rc = -DER_NOMEM;
	D_ALLOC_ARRAY(v, p->n_properties + 3);
	if (v == NULL)
		goto out;
	fixed[0].number = DAOS_PROP_PO_LABEL;
	fixed[0].strval = p->label;
	fixed[1].number = DAOS_PROP_PO_OWNER;
	fixed[1].strval = p->owner;
	fixed[2].number = DAOS_PROP_PO_OWNER_GROUP;
	fixed[2].strval = p->owner_group;
	for (i = 0; i < 3; i++) {
		fixed[i].value_case = MGMT__POOL_PROPERTY__VALUE_STRVAL;
		v[n++] = &fixed[i];
	}
	for (i = 0; i < p->n_properties; i++)
		v[n++] = p->properties[i];
	if (in->n_properties > 0) {
		size_t m = 0;

		for (i = 0; i < n; i++)
			for (j = 0; j < in->n_properties; j++)
				if (v[i]->number == in->properties[j]->number) {
					v[m++] = v[i];
					break;
				}
		n = m;
	}
	out.n_properties = n;
	out.properties = v;
	dss_ctl_reply_msg(req, 0, &out.base);
	rc = 0;
out:
	if (rc != 0)
		ms_reply_err(ms, req, rc);
	D_FREE(v);
	if (p != NULL)
		mgmt__ms_pool__free_unpacked(p, NULL);
	mgmt__pool_get_prop_req__free_unpacked(in, NULL);
}

static void
ms_pool_set_prop_handler(struct dss_ctl_req *req, void *arg)
{
	struct ds_mgmt *ms = arg;
	Mgmt__PoolSetPropResp out = MGMT__POOL_SET_PROP_RESP__INIT;
	Mgmt__PoolProperty **props = NULL, **old_props;
	char *old_label, *old_owner, *old_group;
	size_t old_n, i, j, n;
	Mgmt__PoolSetPropReq *in;
	Mgmt__MsPool *p = NULL, *other = NULL;
	struct rdb_tx *tx = NULL;
	const void *body;
	size_t len;
	d_iov_t k, v;
	int rc;

	if (!ms_serving(ms, req))
		return;
	body = dss_ctl_req_body(req, &len);
	in = mgmt__pool_set_prop_req__unpack(NULL, len, body);
	if (in == NULL) {
		dss_ctl_reply(req, -DER_INVAL, NULL, 0);
		return;
	}
	rc = -DER_INVAL;
	if (in->n_properties == 0)
		goto out;
	rc = ms_pool_find(ms, in->id, &p);
	if (rc != 0)
		goto out;
	rc = ms_rl_lock(ms, p->uuid, req, ms_pool_set_prop_handler, req, ms);
	if (rc == 0) /* queued: runs again once the record's writer in flight ended */
		goto out_queued;
	if (rc < 0)
		goto out;
	rc = -DER_NOMEM;
	D_ALLOC_ARRAY(props, p->n_properties + in->n_properties);
	if (props == NULL)
		goto out;
	rc = rdb_tx_begin(ms->ms_db, ms->ms_term, &tx);
	if (rc != 0)
		goto out;
	old_props = p->properties;
	old_n = p->n_properties;
	old_label = p->label;
	old_owner = p->owner;
	old_group = p->owner_group;
	n = old_n;
	if (old_n > 0)
		memcpy(props, old_props, old_n * sizeof(*props));
	for (i = 0; i < in->n_properties && rc == 0; i++) {
		Mgmt__PoolProperty *q = in->properties[i];
		bool str = q->value_case == MGMT__POOL_PROPERTY__VALUE_STRVAL;

		switch (q->number) {
		case DAOS_PROP_PO_LABEL:
			if (!str || !ms_label_valid(q->strval)) {
				rc = -DER_INVAL;
				break;
			}
			if (strcmp(q->strval, old_label) == 0)
				break;
			if (ms_pending_find(ms, NULL, q->strval) != NULL ||
			    ms_pool_find(ms, q->strval, &other) == 0) {
				rc = -DER_EXIST;
				break;
			}
			if (old_label[0] != '\0') {
				d_iov_set(&k, old_label, strlen(old_label));
				rc = rdb_tx_delete(tx, MS_T_LABELS, &k);
			}
			d_iov_set(&k, q->strval, strlen(q->strval));
			d_iov_set(&v, p->uuid, strlen(p->uuid));
			if (rc == 0)
				rc = rdb_tx_update(tx, MS_T_LABELS, &k, &v);
			p->label = q->strval;
			break;
		case DAOS_PROP_PO_OWNER:
		case DAOS_PROP_PO_OWNER_GROUP:
			if (!str) {
				rc = -DER_INVAL;
				break;
			}
			if (q->number == DAOS_PROP_PO_OWNER)
				p->owner = q->strval;
			else
				p->owner_group = q->strval;
			break;
		case DAOS_PROP_PO_ACL:
		case DAOS_PROP_PO_SVC_LIST:
			rc = -DER_INVAL; /* through the ACL methods / read-only */
			break;
		default:
			if (q->number <= DAOS_PROP_PO_MIN || q->number >= DAOS_PROP_PO_MAX) {
				rc = -DER_INVAL;
				break;
			}
			for (j = 0; j < n; j++)
				if (props[j]->number == q->number)
					break;
			props[j] = q;
			if (j == n)
				n++;
		}
	}
	p->properties = props;
	p->n_properties = n;
	if (rc == 0)
		rc = ms_pool_put(tx, p);
	p->properties = old_props;
	p->n_properties = old_n;
	p->label = old_label;
	p->owner = old_owner;
	p->owner_group = old_group;
	if (rc == 0) {
		rc = ms_commit_reply(ms, req, tx, &out.base);
		tx = NULL;
	}
out:
	ms_writer_end(ms, req, tx, rc);
out_queued:
	D_FREE(props);
	if (other != NULL)
		mgmt__ms_pool__free_unpacked(other, NULL);
	if (p != NULL)
		mgmt__ms_pool__free_unpacked(p, NULL);
	mgmt__pool_set_prop_req__free_unpacked(in, NULL);
}

/* The principal of ACE @ace ("A:G:name@:rw" -> "name@"), into @buf; false if malformed. */
static bool
ms_ace_principal(const char *ace, char *buf, size_t len)
{
	const char *a, *b, *c;

	a = strchr(ace, ':');
	b = a != NULL ? strchr(a + 1, ':') : NULL;
	c = b != NULL ? strchr(b + 1, ':') : NULL;
	if (c == NULL || c == b + 1 || strchr(c + 1, ':') != NULL || (size_t)(c - b) > len ||
	    a == ace)
		return false;
	snprintf(buf, len, "%.*s", (int)(c - b - 1), b + 1);
	return true;
}

static bool
ms_principal_eq(const char *a, const char *b)
{
	/* "OWNER@" and "u:OWNER@" style prefixes of dmg delete-acl -p */
	if (strncmp(b, "u:", 2) == 0 || strncmp(b, "g:", 2) == 0)
		b += 2;
	return strcmp(a, b) == 0;
}

/* One ACL method: get (ents NULL), update, overwrite, or delete @principal. */
static void
ms_acl_op(struct ds_mgmt *ms, struct dss_ctl_req *req, dss_ctl_handler_t self, const char *id,
	  char **ents, size_t nents, bool overwrite, const char *principal)
{
	Mgmt__ACLResp out = MGMT__ACLRESP__INIT;
	Mgmt__AccessControlList acl = MGMT__ACCESS_CONTROL_LIST__INIT;
	struct rdb_tx *tx = NULL;
	Mgmt__MsPool *p = NULL;
	char **v = NULL, **old_acl;
	size_t n = 0, i, j, old_n;
	char pa[256], pb[256];
	bool found = false;
	int rc;

	rc = ms_pool_find(ms, id, &p);
	if (rc != 0)
		goto out;
	if (ents != NULL || principal != NULL) {
		rc = ms_rl_lock(ms, p->uuid, req, self, req, ms);
		if (rc == 0) /* queued: runs again once the record's writer in flight ended */
			goto out;
		if (rc < 0)
			goto out;
	}
	rc = -DER_NOMEM;
	D_ALLOC_ARRAY(v, p->n_acl + nents + 1);
	if (v == NULL)
		goto out;
	rc = 0;
	for (i = 0; i < nents && rc == 0; i++)
		if (!ms_ace_principal(ents[i], pa, sizeof(pa)))
			rc = -DER_INVAL;
	if (rc != 0)
		goto out;
	if (!overwrite) {
		if (p->n_acl > 0)
			memcpy(v, p->acl, p->n_acl * sizeof(*v));
		n = p->n_acl;
	}
	for (i = 0; i < nents; i++) {
		ms_ace_principal(ents[i], pa, sizeof(pa));
		for (j = 0; j < n; j++)
			if (ms_ace_principal(v[j], pb, sizeof(pb)) && strcmp(pa, pb) == 0)
				break;
		v[j] = ents[i];
		if (j == n)
			n++;
	}
	if (principal != NULL) {
		size_t m = 0;

		for (j = 0; j < n; j++) {
			if (ms_ace_principal(v[j], pb, sizeof(pb)) &&
			    ms_principal_eq(pb, principal)) {
				found = true;
				continue;
			}
			v[m++] = v[j];
		}
		n = m;
		if (!found) {
			rc = -DER_NONEXIST;
			goto out;
		}
	}
	acl.n_entries = ents == NULL && principal == NULL ? p->n_acl : n;
	acl.entries = ents == NULL && principal == NULL ? p->acl : v;
	acl.owner_user = p->owner;
	acl.owner_group = p->owner_group;
	out.acl = &acl;
	if (ents == NULL && principal == NULL) {
		dss_ctl_reply_msg(req, 0, &out.base);
		goto out;
	}
	rc = rdb_tx_begin(ms->ms_db, ms->ms_term, &tx);
	if (rc != 0)
		goto out;
	old_acl = p->acl;
	old_n = p->n_acl;
	p->acl = v;
	p->n_acl = n;
	rc = ms_pool_put(tx, p);
	p->acl = old_acl;
	p->n_acl = old_n;
	if (rc == 0) {
		rc = ms_commit_reply(ms, req, tx, &out.base);
		tx = NULL;
	}
out:
	ms_writer_end(ms, req, tx, rc);
	D_FREE(v);
	if (p != NULL)
		mgmt__ms_pool__free_unpacked(p, NULL);
}

static void
ms_pool_get_acl_handler(struct dss_ctl_req *req, void *arg)
{
	struct ds_mgmt *ms = arg;
	Mgmt__GetACLReq *in;
	const void *body;
	size_t len;

	if (!ms_serving(ms, req))
		return;
	body = dss_ctl_req_body(req, &len);
	in = mgmt__get_aclreq__unpack(NULL, len, body);
	if (in == NULL) {
		dss_ctl_reply(req, -DER_INVAL, NULL, 0);
		return;
	}
	ms_acl_op(ms, req, ms_pool_get_acl_handler, in->id, NULL, 0, false, NULL);
	mgmt__get_aclreq__free_unpacked(in, NULL);
}

static void
ms_pool_modify_acl_handler(struct dss_ctl_req *req, void *arg)
{
	struct ds_mgmt *ms = arg;
	Mgmt__ModifyACLReq *in;
	const void *body;
	size_t len;
	bool overwrite = dss_ctl_req_method(req) == DSS_CTL_POOL_OVERWRITE_ACL;

	if (!ms_serving(ms, req))
		return;
	body = dss_ctl_req_body(req, &len);
	in = mgmt__modify_aclreq__unpack(NULL, len, body);
	if (in == NULL) {
		dss_ctl_reply(req, -DER_INVAL, NULL, 0);
		return;
	}
	if (in->n_entries == 0 && !overwrite)
		dss_ctl_reply(req, -DER_INVAL, NULL, 0);
	else
		ms_acl_op(ms, req, ms_pool_modify_acl_handler, in->id, in->entries, in->n_entries,
			  overwrite, NULL);
	mgmt__modify_aclreq__free_unpacked(in, NULL);
}

static void
ms_pool_delete_acl_handler(struct dss_ctl_req *req, void *arg)
{
	struct ds_mgmt *ms = arg;
	Mgmt__DeleteACLReq *in;
	const void *body;
	size_t len;

	if (!ms_serving(ms, req))
		return;
	body = dss_ctl_req_body(req, &len);
	in = mgmt__delete_aclreq__unpack(NULL, len, body);
	if (in == NULL) {
		dss_ctl_reply(req, -DER_INVAL, NULL, 0);
		return;
	}
	if (in->principal[0] == '\0')
		dss_ctl_reply(req, -DER_INVAL, NULL, 0);
	else
		ms_acl_op(ms, req, ms_pool_delete_acl_handler, in->id, NULL, 0, false,
			  in->principal);
	mgmt__delete_aclreq__free_unpacked(in, NULL);
}

/*
 * Pool exclude / drain / reintegrate (162-164): the targets of ranks change state in the pool
 * map in one transaction holding the pool record's lock; once it committed the engines learn
 * the new map version, so that requests placed with the old map are answered -DER_STALE and
 * the clients refresh. There is no rebuild: a reintegrated target serves what its shard held
 * (what it had when it went DOWN), a drained one keeps serving until it is excluded.
 */
static void
ms_pool_ranks_handler(struct dss_ctl_req *req, void *arg)
{
	struct ds_mgmt *ms = arg;
	uint32_t method = dss_ctl_req_method(req);
	Mgmt__PoolRanksResp out = MGMT__POOL_RANKS_RESP__INIT;
	Mgmt__PoolRanksReq *in;
	Mgmt__MsPool *p = NULL;
	Mgmt__MsMember *mem;
	struct pool_map *map = NULL;
	struct pool_target *tgt;
	struct rdb_tx *tx = NULL;
	ProtobufCBinaryData old_map;
	enum pool_map_op op;
	uint32_t *ids = NULL, nids = 0, r, old_ver;
	bool changed = false, any = false;
	void *buf = NULL;
	const void *body;
	size_t len, i, j, sz;
	ssize_t n;
	int rc;

	if (!ms_serving(ms, req))
		return;
	body = dss_ctl_req_body(req, &len);
	in = mgmt__pool_ranks_req__unpack(NULL, len, body);
	if (in == NULL) {
		dss_ctl_reply(req, -DER_INVAL, NULL, 0);
		return;
	}
	op = method == DSS_CTL_POOL_EXCLUDE ? POOL_MAP_EXCLUDE
	     : method == DSS_CTL_POOL_DRAIN ? POOL_MAP_DRAIN
					    : POOL_MAP_REINT;
	rc = -DER_INVAL;
	if (in->n_ranks == 0 || in->n_ranks > 4096 || in->n_target_idx > 4096)
		goto out;
	rc = ms_pool_find(ms, in->id, &p);
	if (rc != 0)
		goto out;
	rc = ms_rl_lock(ms, p->uuid, req, ms_pool_ranks_handler, req, ms);
	if (rc == 0) /* queued: runs again once the record's writer in flight ended */
		goto out_queued;
	if (rc < 0)
		goto out;
	rc = pool_map_decode(p->map.data, p->map.len, &map);
	if (rc != 0)
		goto out;
	rc = -DER_NOMEM;
	D_ALLOC_ARRAY(ids, in->n_ranks * (in->n_target_idx > 0 ? in->n_target_idx : 1));
	if (ids == NULL)
		goto out;
	rc = 0;
	for (i = 0; rc == 0 && i < in->n_ranks; i++) {
		r = in->ranks[i];
		if (!ms_rank_in(p->ranks, (uint32_t)p->n_ranks, r)) {
			D_ERROR("pool %s: rank %u is not one of its ranks\n", p->uuid, r);
			rc = -DER_NONEXIST;
			break;
		}
		if (op == POOL_MAP_REINT) {
			/* its engine must be there to serve what comes back */
			rc = ms_member_get(ms, r, &mem);
			if (rc == 0) {
				if (strcmp(mem->member->state, MS_ST_JOINED) != 0) {
					D_ERROR("pool %s: rank %u is %s, not joined: not "
						"reintegrated\n",
						p->uuid, r, mem->member->state);
					rc = -DER_UNREACH;
				}
				mgmt__ms_member__free_unpacked(mem, NULL);
			}
			if (rc != 0)
				break;
		}
		if (in->n_target_idx == 0) {
			rc = pool_map_update_rank(map, r, op, &changed);
			any |= changed;
			continue;
		}
		for (j = 0; rc == 0 && j < in->n_target_idx; j++) {
			tgt = pool_map_find_target_by_rank_idx(map, r, in->target_idx[j]);
			if (tgt == NULL)
				rc = -DER_NONEXIST;
			else
				ids[nids++] = tgt->ta_comp.co_id;
		}
	}
	if (rc == 0 && nids > 0) {
		rc = pool_map_update(map, ids, nids, op, &changed);
		any |= changed;
	}
	/* no rebuild to wait for: UP targets are in at once (UPIN), so they may drain later */
	if (rc == 0 && op == POOL_MAP_REINT && nids > 0)
		rc = pool_map_update(map, ids, nids, POOL_MAP_ADD_IN, &changed);
	for (i = 0; rc == 0 && op == POOL_MAP_REINT && nids == 0 && i < in->n_ranks; i++)
		rc = pool_map_update_rank(map, in->ranks[i], POOL_MAP_ADD_IN, &changed);
	if (rc != 0)
		goto out;
	out.map_version = pool_map_get_version(map);
	if (!any) { /* nothing to change (already in that state): success, as DAOS */
		ms_rl_unlock(ms, req);
		dss_ctl_reply_msg(req, 0, &out.base);
		goto out_queued;
	}
	sz = pool_map_encoded_size(map);
	rc = -DER_NOMEM;
	D_ALLOC(buf, sz);
	if (buf == NULL)
		goto out;
	n = pool_map_encode(map, buf, sz);
	rc = n <= 0 ? -DER_INVAL : rdb_tx_begin(ms->ms_db, ms->ms_term, &tx);
	if (rc != 0)
		goto out;
	old_map = p->map;
	old_ver = p->map_version;
	p->map.data = buf;
	p->map.len = (size_t)n;
	p->map_version = out.map_version;
	rc = ms_pool_put(tx, p);
	p->map = old_map;
	p->map_version = old_ver;
	if (rc == 0) {
		D_NOTE("pool %s: %zu ranks %s, map version %u\n", p->uuid, in->n_ranks,
		       op == POOL_MAP_EXCLUDE ? "excluded"
		       : op == POOL_MAP_DRAIN ? "draining"
					      : "reintegrated",
		       out.map_version);
		rc = ms_commit_start(ms, req, tx, &out.base, true);
		tx = NULL;
	}
out:
	ms_writer_end(ms, req, tx, rc);
out_queued:
	D_FREE(buf);
	D_FREE(ids);
	pool_map_destroy(map);
	if (p != NULL)
		mgmt__ms_pool__free_unpacked(p, NULL);
	mgmt__pool_ranks_req__free_unpacked(in, NULL);
}

/*
 * Exclusion of a dead rank.
 */

struct ms_excl_it {
	struct rdb_tx *xi_tx;
	const uint32_t *xi_ranks;
	uint32_t xi_nr;
	int xi_rc;
};

static int
ms_excl_cb(const d_iov_t *key, const d_iov_t *val, void *arg)
{
	struct ms_excl_it *xi = arg;
	struct pool_map *map = NULL;
	Mgmt__MsPool *p;
	ProtobufCBinaryData old;
	bool changed = false, any = false;
	ssize_t n;
	void *buf = NULL;
	size_t sz;
	uint32_t i;
	int rc;

	(void)key;
	p = mgmt__ms_pool__unpack(NULL, val->iov_len, val->iov_buf);
	if (p == NULL)
		return 0;
	rc = pool_map_decode(p->map.data, p->map.len, &map);
	for (i = 0; rc == 0 && i < xi->xi_nr; i++) {
		if (!ms_rank_in(p->ranks, (uint32_t)p->n_ranks, xi->xi_ranks[i]))
			continue;
		rc = pool_map_update_rank(map, xi->xi_ranks[i], POOL_MAP_EXCLUDE, &changed);
		any |= changed;
	}
	if (rc != 0 || !any)
		goto out;
	sz = pool_map_encoded_size(map);
	D_ALLOC(buf, sz);
	if (buf == NULL) {
		xi->xi_rc = -DER_NOMEM;
		goto out;
	}
	n = pool_map_encode(map, buf, sz);
	if (n <= 0)
		goto out;
	old = p->map;
	p->map.data = buf;
	p->map.len = (size_t)n;
	p->map_version = pool_map_get_version(map);
	rc = ms_pool_put(xi->xi_tx, p);
	p->map = old;
	if (rc != 0)
		xi->xi_rc = rc;
	else
		D_NOTE("pool %s: targets DOWN, map version %u\n", p->uuid, p->map_version);
out:
	D_FREE(buf);
	pool_map_destroy(map);
	mgmt__ms_pool__free_unpacked(p, NULL);
	return xi->xi_rc;
}

int
ms_pools_exclude_ranks(struct ds_mgmt *ms, struct rdb_tx *tx, const uint32_t *ranks, uint32_t nr)
{
	struct ms_excl_it xi = {.xi_tx = tx, .xi_ranks = ranks, .xi_nr = nr};
	int rc;

	rc = rdb_iterate(ms->ms_db, MS_T_POOLS, NULL, ms_excl_cb, &xi);
	return rc != 0 ? rc : xi.xi_rc;
}

static const struct {
	uint32_t method;
	dss_ctl_handler_t handler;
} ms_pool_methods[] = {
    {DSS_CTL_POOL_CREATE, ms_pool_create_handler},
    {DSS_CTL_POOL_DESTROY, ms_pool_destroy_handler},
    {DSS_CTL_POOL_LIST, ms_pool_list_handler},
    {DSS_CTL_POOL_QUERY, ms_pool_query_handler},
    {DSS_CTL_POOL_GET_PROP, ms_pool_get_prop_handler},
    {DSS_CTL_POOL_SET_PROP, ms_pool_set_prop_handler},
    {DSS_CTL_POOL_GET_ACL, ms_pool_get_acl_handler},
    {DSS_CTL_POOL_UPDATE_ACL, ms_pool_modify_acl_handler},
    {DSS_CTL_POOL_DELETE_ACL, ms_pool_delete_acl_handler},
    {DSS_CTL_POOL_OVERWRITE_ACL, ms_pool_modify_acl_handler},
    {DSS_CTL_POOL_EXCLUDE, ms_pool_ranks_handler},
    {DSS_CTL_POOL_DRAIN, ms_pool_ranks_handler},
    {DSS_CTL_POOL_REINT, ms_pool_ranks_handler},
};

int
ms_pool_register(struct ds_mgmt *ms)
{
	uint32_t i;
	int rc;

	for (i = 0; i < D_ARRAY_SIZE(ms_pool_methods); i++) {
		rc = dss_ctl_register(ms->ms_ctl, ms_pool_methods[i].method,
				      ms_pool_methods[i].handler, ms);
		if (rc != 0)
			return rc;
	}
	return 0;
}

void
ms_pool_unregister(struct ds_mgmt *ms)
{
	uint32_t i;

	for (i = 0; i < D_ARRAY_SIZE(ms_pool_methods); i++)
		dss_ctl_unregister(ms->ms_ctl, ms_pool_methods[i].method);
}
