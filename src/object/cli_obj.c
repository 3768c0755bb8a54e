/*
 * cli_obj.c: the object API of libdaos (daos_obj.h) over placement and shard operations.
 *
 * Opening an object computes its layout from the pool map (jump map, daos/placement.h).
 * A dkey picks a redundancy group by its hash; operations on one dkey go to that group's
 * shard, operations on the whole object (punch, dkey listing, dkey query) visit every group:
 * punches in parallel, listings one group after another with the group in the anchor's
 * da_shard, queries in parallel with the results merged (one collective request per engine
 * for the groups it holds, OBJ_OPC_QUERY_COLL). Only classes without redundancy
 * (S1..S32, SX) are placed today (others give -DER_NOSYS); transactions (a handle other than
 * DAOS_TX_NONE) are -DER_NOSYS until the daos_tx API lands.
 */
#define D_LOGFAC object

#include <inttypes.h>
#include <string.h>

#include <daos.h>
#include <daos/client.h>
#include <daos/event.h>
#include <daos/obj_rpc.h>
#include <daos/obj_shard.h>
#include <daos/oclass.h>
#include <daos/placement.h>
#include <gurt/common.h>

/* Handle type of objects in the library's table (see client_internal.h). */
#define DC_HTYPE_OBJ 7

/* A layout replaced after a map refresh: kept until the object is freed (see below). */
struct obj_old_layout {
	struct obj_old_layout *ool_next;
	struct pl_obj_layout *ool_layout;
};

struct dc_obj {
	struct d_hlink do_hlink;
	struct dc_cont *do_co;
	daos_obj_id_t do_id;
	unsigned int do_mode;
	/*
	 * Read with obj_layout(). A refresh (-DER_STALE) installs a new layout atomically and
	 * keeps the old one on do_old until obj_free, so an operation that read the old pointer
	 * can finish with it without a lock.
	 */
	struct pl_obj_layout *do_layout;
	struct obj_old_layout *do_old; /* under obj_old_lock */
};

static pthread_mutex_t obj_old_lock = PTHREAD_MUTEX_INITIALIZER;

static inline struct pl_obj_layout *
obj_layout(struct dc_obj *obj)
{
	return __atomic_load_n(&obj->do_layout, __ATOMIC_ACQUIRE);
}

static void
obj_free(struct d_hlink *hlink)
{
	struct dc_obj *obj = container_of(hlink, struct dc_obj, do_hlink);

	struct obj_old_layout *o;

	pl_obj_layout_free(obj->do_layout);
	while ((o = obj->do_old) != NULL) {
		obj->do_old = o->ool_next;
		pl_obj_layout_free(o->ool_layout);
		D_FREE(o);
	}
	dc_cont_put(obj->do_co);
	D_FREE(obj);
}

static struct d_hlink_ops obj_hlink_ops = {
    .hop_free = obj_free,
};

static struct dc_obj *
obj_get(daos_handle_t oh)
{
	struct d_hlink *hlink;

	if (dc_hhash() == NULL || d_hhash_key_type(oh.cookie) != DC_HTYPE_OBJ)
		return NULL;
	hlink = d_hhash_link_lookup(dc_hhash(), oh.cookie);
	return hlink == NULL ? NULL : container_of(hlink, struct dc_obj, do_hlink);
}

static void
obj_put(struct dc_obj *obj)
{
	d_hhash_link_putref(dc_hhash(), &obj->do_hlink);
}

/* Complete a call that did all its work synchronously (or failed before starting). */
static int
obj_sync_done(daos_event_t *ev, int rc)
{
	daos_event_t *priv;
	int rc2;

	rc2 = dc_ev_begin(ev, &priv);
	if (rc2 != 0)
		return rc2;
	dc_ev_complete(priv != NULL ? priv : ev, rc);
	return dc_ev_end(ev, priv);
}

/*
 * May @obj be written? Its open mode and its container handle's both allow it. A fast fail
 * only: the targets check the handle's capabilities themselves (srv_obj.c).
 */
static bool
obj_writable(struct dc_obj *obj)
{
	return (obj->do_mode & (DAOS_OO_RW | DAOS_OO_EXCL)) != 0 &&
	       (obj->do_co->dc_flags & (DAOS_COO_RW | DAOS_COO_EX)) != 0;
}

int
daos_obj_open(daos_handle_t coh, daos_obj_id_t oid, unsigned int mode, daos_handle_t *oh,
	      daos_event_t *ev)
{
	struct daos_oclass_attr attr;
	struct dc_cont *co;
	struct dc_obj *obj;
	int rc;

	if (oh == NULL)
		return obj_sync_done(ev, -DER_INVAL);
	co = dc_cont_get(coh);
	if (co == NULL)
		return obj_sync_done(ev, -DER_NO_HDL);
	rc = daos_oclass_oid2attr(oid, &attr);
	if (rc != 0) {
		dc_cont_put(co);
		return obj_sync_done(ev, -DER_INVAL);
	}
	D_ALLOC_PTR(obj);
	if (obj == NULL) {
		dc_cont_put(co);
		return obj_sync_done(ev, -DER_NOMEM);
	}
	obj->do_co = co;
	obj->do_id = oid;
	obj->do_mode = mode;
	pthread_rwlock_rdlock(&co->dc_pool->dp_lock);
	rc = pl_obj_place(co->dc_pool->dp_map, oid, NULL, &obj->do_layout);
	pthread_rwlock_unlock(&co->dc_pool->dp_lock);
	if (rc != 0) {
		D_DEBUG("cannot place %#" PRIx64 ".%#" PRIx64 ": " DF_RC "\n", oid.hi, oid.lo,
			DP_RC(rc));
		dc_cont_put(co);
		D_FREE(obj);
		return obj_sync_done(ev, rc);
	}
	d_hhash_hlink_init(&obj->do_hlink, &obj_hlink_ops);
	d_hhash_link_insert(dc_hhash(), &obj->do_hlink, DC_HTYPE_OBJ);
	d_hhash_link_key(&obj->do_hlink, &oh->cookie);
	obj_put(obj);
	return obj_sync_done(ev, 0);
}

int
daos_obj_close(daos_handle_t oh, daos_event_t *ev)
{
	struct dc_obj *obj = obj_get(oh);

	if (obj == NULL)
		return obj_sync_done(ev, -DER_NO_HDL);
	d_hhash_link_delete(dc_hhash(), &obj->do_hlink);
	obj_put(obj);
	return obj_sync_done(ev, 0);
}

/* Fill @sh for shard @shard of @obj; *@addr is the buffer for the target's address. */
static int
obj_shard_init(struct dc_obj *obj, uint32_t shard, struct dc_obj_shard *sh, char *addr)
{
	struct pl_obj_layout *l = obj_layout(obj);
	struct pl_obj_shard *ps = &l->ol_shards[shard];
	struct dc_cont *co = obj->do_co;
	int rc;

	memset(sh, 0, sizeof(*sh));
	if (ps->po_target == PL_TGT_NONE)
		return -DER_UNREACH;
	rc = dc_pool_tgt_addr(co->dc_pool, ps->po_rank, ps->po_index, addr, NET_ADDR_STR_MAX);
	if (rc != 0)
		return -DER_UNREACH;
	sh->sh_addr = addr;
	uuid_copy(sh->sh_pool, co->dc_pool->dp_uuid);
	uuid_copy(sh->sh_cont, co->dc_uuid);
	uuid_copy(sh->sh_coh, co->dc_hdl);
	sh->sh_oid.id_pub = obj->do_id;
	sh->sh_oid.id_shard = shard;
	sh->sh_map_ver = l->ol_ver;
	return 0;
}

/*
 * A target answered -DER_STALE: our pool map is older than its. Fetch the current map from
 * the service (dc_pool_map_refresh) and place the object again. Returns 0 when a newer
 * layout is installed (retry), else an error (the caller keeps -DER_STALE).
 */
static int
obj_stale_refresh(struct dc_obj *obj)
{
	struct dc_pool *pool = obj->do_co->dc_pool;
	struct pl_obj_layout *nl = NULL;
	struct obj_old_layout *o;
	int rc;

	rc = dc_pool_map_refresh(pool);
	if (rc != 0) {
		D_DEBUG("pool map refresh: " DF_RC "\n", DP_RC(rc));
		return rc;
	}
	pthread_rwlock_rdlock(&pool->dp_lock);
	rc = pl_obj_place(pool->dp_map, obj->do_id, NULL, &nl);
	pthread_rwlock_unlock(&pool->dp_lock);
	if (rc != 0)
		return rc;
	D_ALLOC_PTR(o);
	if (o == NULL) {
		pl_obj_layout_free(nl);
		return -DER_NOMEM;
	}
	pthread_mutex_lock(&obj_old_lock);
	if (nl->ol_ver <= obj_layout(obj)->ol_ver) {
		pthread_mutex_unlock(&obj_old_lock);
		pl_obj_layout_free(nl);
		D_FREE(o);
		return -DER_STALE; /* nothing newer to retry with */
	}
	o->ool_layout = obj_layout(obj);
	o->ool_next = obj->do_old;
	obj->do_old = o;
	__atomic_store_n(&obj->do_layout, nl, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&obj_old_lock);
	return 0;
}

/* The shard (of the first replica, for now the only one) of @dkey's group. */
static uint32_t
obj_dkey2shard(struct dc_obj *obj, const daos_key_t *dkey)
{
	struct pl_obj_layout *l = obj_layout(obj);
	uint32_t grp = daos_obj_hash2grp(daos_obj_dkey2hash(obj->do_id, dkey), l->ol_grp_nr);

	return grp * l->ol_grp_size;
}

/*
 * Resolve @oh and the shard of @dkey into @sh. Returns the object (referenced: put it) or
 * NULL with *@rc set.
 */
static struct dc_obj *
obj_dkey_target(daos_handle_t oh, daos_handle_t th, const daos_key_t *dkey, bool write,
		struct dc_obj_shard *sh, char *addr, int *rc)
{
	struct dc_obj *obj;

	if (daos_handle_is_valid(th)) {
		*rc = -DER_NOSYS;
		return NULL;
	}
	if (dkey == NULL || dkey->iov_buf == NULL || dkey->iov_len == 0) {
		*rc = -DER_INVAL;
		return NULL;
	}
	obj = obj_get(oh);
	if (obj == NULL) {
		*rc = -DER_NO_HDL;
		return NULL;
	}
	if (write && !obj_writable(obj)) {
		obj_put(obj);
		*rc = -DER_NO_PERM;
		return NULL;
	}
	*rc = obj_shard_init(obj, obj_dkey2shard(obj, dkey), sh, addr);
	if (*rc != 0) {
		obj_put(obj);
		return NULL;
	}
	return obj;
}

int
daos_obj_update(daos_handle_t oh, daos_handle_t th, uint64_t flags, daos_key_t *dkey,
		unsigned int nr, daos_iod_t *iods, d_sg_list_t *sgls, daos_event_t *ev)
{
	char addr[NET_ADDR_STR_MAX];
	struct dc_obj_shard sh;
	struct dc_obj *obj;
	int rc;

	obj = obj_dkey_target(oh, th, dkey, true, &sh, addr, &rc);
	if (obj == NULL)
		return obj_sync_done(ev, rc);
	rc = dc_obj_shard_update(&sh, flags, dkey, nr, iods, sgls, NULL, ev);
	/* a blocking call retries once with a refreshed map (events: not yet) */
	if (rc == -DER_STALE && ev == NULL && obj_stale_refresh(obj) == 0 &&
	    obj_shard_init(obj, obj_dkey2shard(obj, dkey), &sh, addr) == 0)
		rc = dc_obj_shard_update(&sh, flags, dkey, nr, iods, sgls, NULL, ev);
	obj_put(obj);
	return rc;
}

int
daos_obj_fetch(daos_handle_t oh, daos_handle_t th, uint64_t flags, daos_key_t *dkey,
	       unsigned int nr, daos_iod_t *iods, d_sg_list_t *sgls, daos_iom_t *ioms,
	       daos_event_t *ev)
{
	char addr[NET_ADDR_STR_MAX];
	struct dc_obj_shard sh;
	struct dc_obj *obj;
	int rc;

	(void)ioms; /* extent maps are not reported yet: left untouched */
	obj = obj_dkey_target(oh, th, dkey, false, &sh, addr, &rc);
	if (obj == NULL)
		return obj_sync_done(ev, rc);
	rc = dc_obj_shard_fetch(&sh, flags, dkey, nr, iods, sgls, NULL, ev);
	if (rc == -DER_STALE && ev == NULL && obj_stale_refresh(obj) == 0 &&
	    obj_shard_init(obj, obj_dkey2shard(obj, dkey), &sh, addr) == 0)
		rc = dc_obj_shard_fetch(&sh, flags, dkey, nr, iods, sgls, NULL, ev);
	obj_put(obj);
	return rc;
}

/*
 * The shards of @q's groups (leaders) for a collective query sent to @rank: 0 and their number
 * in *@nr, or -DER_NOSYS if a group is elsewhere (or unplaced) or there are too many.
 */
static int
obj_fq_shards(const struct pl_obj_layout *q, uint32_t rank, struct obj_coll_shard *cs, uint32_t *nr)
{
	uint32_t g;

	if (q->ol_grp_nr == 0 || q->ol_grp_nr > OBJ_COLL_MAX)
		return -DER_NOSYS;
	for (g = 0; g < q->ol_grp_nr; g++) {
		const struct pl_obj_shard *ps = &q->ol_shards[g * q->ol_grp_size];

		if (ps->po_target == PL_TGT_NONE || ps->po_rank != rank)
			return -DER_NOSYS;
		cs[g].cs_shard = g * q->ol_grp_size;
		cs[g].cs_tgt = ps->po_index;
	}
	*nr = q->ol_grp_nr;
	return 0;
}

int
daos_obj_fetch_query(daos_handle_t oh, daos_key_t *dkey, unsigned int nr, daos_iod_t *iods,
		     d_sg_list_t *sgls, daos_handle_t qoh, uint64_t qflags, daos_key_t *qdkey,
		     daos_key_t *qakey, daos_recx_t *qrecx, int *qrc, daos_event_t *ev)
{
	struct obj_coll_shard cs[OBJ_COLL_MAX];
	char addr[NET_ADDR_STR_MAX];
	struct dc_obj_shard sh;
	struct dc_obj *obj;
	struct dc_obj *qobj;
	uint32_t cs_nr = 0;
	int retry = ev == NULL;
	int rc;

	if (dc_obj_fetch_query_refused()) /* an engine refused it: stop trying */
		return obj_sync_done(ev, -DER_NOSYS);
	if (qflags > UINT32_MAX || qrc == NULL)
		return obj_sync_done(ev, -DER_INVAL);
	obj = obj_dkey_target(oh, DAOS_TX_NONE, dkey, false, &sh, addr, &rc);
	if (obj == NULL)
		return obj_sync_done(ev, rc);
	qobj = obj_get(qoh);
	if (qobj == NULL) {
		obj_put(obj);
		return obj_sync_done(ev, -DER_NO_HDL);
	}
	for (;;) {
		const struct pl_obj_layout *l = obj_layout(obj);
		const struct pl_obj_layout *q = obj_layout(qobj);

		if (qobj->do_co != obj->do_co)
			rc = -DER_INVAL;
		else if (q->ol_ver != l->ol_ver)
			rc = -DER_NOSYS;
		else
			rc = obj_fq_shards(q, l->ol_shards[sh.sh_oid.id_shard].po_rank, cs, &cs_nr);
		if (rc != 0) {
			rc = obj_sync_done(ev, rc);
			break;
		}
		rc = dc_obj_shard_fetch_query(&sh, dkey, nr, iods, sgls, qobj->do_id,
					      (uint32_t)qflags, qdkey, qakey, qrecx, cs, cs_nr, qrc,
					      ev);
		/* a blocking call retries once with a refreshed map (both objects) */
		if (rc != -DER_STALE || !retry-- || obj_stale_refresh(obj) != 0)
			break;
		obj_stale_refresh(qobj);
		if (obj_shard_init(obj, obj_dkey2shard(obj, dkey), &sh, addr) != 0)
			break;
	}
	obj_put(qobj);
	obj_put(obj);
	return rc;
}

int
daos_obj_punch_akeys(daos_handle_t oh, daos_handle_t th, uint64_t flags, daos_key_t *dkey,
		     unsigned int nr, daos_key_t *akeys, daos_event_t *ev)
{
	char addr[NET_ADDR_STR_MAX];
	struct dc_obj_shard sh;
	struct dc_obj *obj;
	int rc;

	obj = obj_dkey_target(oh, th, dkey, true, &sh, addr, &rc);
	if (obj == NULL)
		return obj_sync_done(ev, rc);
	rc = dc_obj_shard_punch(&sh, OBJ_PUNCH_AKEYS, flags, dkey, nr, akeys, NULL, ev);
	obj_put(obj);
	return rc;
}

int
daos_obj_list_akey(daos_handle_t oh, daos_handle_t th, daos_key_t *dkey, uint32_t *nr,
		   daos_key_desc_t *kds, d_sg_list_t *sgl, daos_anchor_t *anchor, daos_event_t *ev)
{
	char addr[NET_ADDR_STR_MAX];
	struct dc_obj_shard sh;
	struct dc_obj *obj;
	int rc;

	obj = obj_dkey_target(oh, th, dkey, false, &sh, addr, &rc);
	if (obj == NULL)
		return obj_sync_done(ev, rc);
	rc =
	    dc_obj_shard_list(&sh, OBJ_LIST_AKEY, dkey, NULL, nr, kds, sgl, NULL, NULL, anchor, ev);
	obj_put(obj);
	return rc;
}

int
daos_obj_list_recx(daos_handle_t oh, daos_handle_t th, daos_key_t *dkey, daos_key_t *akey,
		   daos_size_t *size, uint32_t *nr, daos_recx_t *recxs, daos_epoch_range_t *eprs,
		   daos_anchor_t *anchor, bool incr_order, daos_event_t *ev)
{
	char addr[NET_ADDR_STR_MAX];
	struct dc_obj_shard sh;
	struct dc_obj *obj;
	int rc;

	(void)eprs; /* the epochs of each extent are not reported yet */
	if (!incr_order)
		return obj_sync_done(ev, -DER_NOSYS);
	if (akey == NULL || akey->iov_len == 0)
		return obj_sync_done(ev, -DER_INVAL);
	obj = obj_dkey_target(oh, th, dkey, false, &sh, addr, &rc);
	if (obj == NULL)
		return obj_sync_done(ev, rc);
	rc = dc_obj_shard_list(&sh, OBJ_LIST_RECX, dkey, akey, nr, NULL, NULL, recxs, size, anchor,
			       ev);
	obj_put(obj);
	return rc;
}

/*
 * Operations over every group: a state shared by the shard operations, each completing into
 * multi_done. The user's event completes when the last one does.
 */
struct obj_multi {
	daos_event_t *om_ev;
	daos_event_t *om_priv;
	struct dc_obj *om_obj;
	pthread_mutex_t om_lock;
	uint32_t om_left;
	int om_rc;
	/* listing */
	uint32_t om_grp;
	uint32_t om_nr_cap;
	uint32_t *om_nr;
	daos_key_desc_t *om_kds;
	d_sg_list_t *om_sgl;
	daos_anchor_t *om_anchor;
	char om_addr[NET_ADDR_STR_MAX];
	/* query: per group results */
	uint64_t om_qflags;
	uint32_t om_part_nr;     /* requests: one per engine (collective) or per group */
	struct obj_qans *om_ans; /* one a request */
	daos_key_t *om_udkey;
	daos_key_t *om_uakey;
	daos_recx_t *om_urecx;
};

static void
multi_free(struct obj_multi *om)
{
	obj_put(om->om_obj);
	pthread_mutex_destroy(&om->om_lock);
	D_FREE(om->om_ans);
	D_FREE(om);
}

/* Start a multi-shard operation on @ev (NULL: a private event, waited for by multi_end). */
static int
multi_begin(daos_handle_t oh, daos_handle_t th, bool write, daos_event_t *ev,
	    struct obj_multi **omp)
{
	struct obj_multi *om;
	struct dc_obj *obj;
	int rc;

	*omp = NULL;
	if (daos_handle_is_valid(th))
		return -DER_NOSYS;
	obj = obj_get(oh);
	if (obj == NULL)
		return -DER_NO_HDL;
	if (write && !obj_writable(obj)) {
		obj_put(obj);
		return -DER_NO_PERM;
	}
	D_ALLOC_PTR(om);
	if (om == NULL) {
		obj_put(obj);
		return -DER_NOMEM;
	}
	pthread_mutex_init(&om->om_lock, NULL);
	om->om_obj = obj;
	rc = dc_ev_begin(ev, &om->om_priv);
	if (rc != 0) {
		multi_free(om);
		return rc;
	}
	om->om_ev = om->om_priv != NULL ? om->om_priv : ev;
	*omp = om;
	return 0;
}

/* Hand back to the caller: wait (blocking call) or return 0. */
static int
multi_end(daos_event_t *ev, daos_event_t *priv)
{
	return dc_ev_end(ev, priv);
}

/* One part done: the last completes the event and frees @arg. */
static void
multi_done(void *arg, int rc)
{
	struct obj_multi *om = arg;
	daos_event_t *ev = om->om_ev;
	bool last;

	pthread_mutex_lock(&om->om_lock);
	if (om->om_rc == 0 && rc != 0)
		om->om_rc = rc;
	last = --om->om_left == 0;
	rc = om->om_rc;
	pthread_mutex_unlock(&om->om_lock);
	if (!last)
		return;
	multi_free(om);
	dc_ev_complete(ev, rc);
}

int
daos_obj_punch(daos_handle_t oh, daos_handle_t th, uint64_t flags, daos_event_t *ev)
{
	struct obj_multi *om;
	daos_event_t *priv;
	uint32_t grp_nr;
	uint32_t i;
	int rc;

	rc = multi_begin(oh, th, true, ev, &om);
	if (rc != 0)
		return obj_sync_done(ev, rc);
	priv = om->om_priv;
	grp_nr = obj_layout(om->om_obj)->ol_grp_nr;
	/* one extra count, dropped below, keeps the operation alive while parts start */
	om->om_left = grp_nr + 1;
	for (i = 0; i < grp_nr; i++) {
		char addr[NET_ADDR_STR_MAX];
		struct dc_obj_shard sh;

		rc = obj_shard_init(om->om_obj, i * obj_layout(om->om_obj)->ol_grp_size, &sh, addr);
		if (rc != 0) {
			multi_done(om, rc);
			continue;
		}
		sh.sh_cb = multi_done;
		sh.sh_cb_arg = om;
		dc_obj_shard_punch(&sh, OBJ_PUNCH_OBJ, flags, NULL, 0, NULL, NULL, om->om_ev);
	}
	multi_done(om, 0);
	return multi_end(ev, priv);
}

int
daos_obj_punch_dkeys(daos_handle_t oh, daos_handle_t th, uint64_t flags, unsigned int nr,
		     daos_key_t *dkeys, daos_event_t *ev)
{
	struct obj_multi *om;
	daos_event_t *priv;
	uint32_t i;
	int rc;

	if (nr == 0 || dkeys == NULL)
		return obj_sync_done(ev, -DER_INVAL);
	rc = multi_begin(oh, th, true, ev, &om);
	if (rc != 0)
		return obj_sync_done(ev, rc);
	priv = om->om_priv;
	om->om_left = nr + 1;
	for (i = 0; i < nr; i++) {
		char addr[NET_ADDR_STR_MAX];
		struct dc_obj_shard sh;

		if (dkeys[i].iov_buf == NULL || dkeys[i].iov_len == 0) {
			multi_done(om, -DER_INVAL);
			continue;
		}
		rc = obj_shard_init(om->om_obj, obj_dkey2shard(om->om_obj, &dkeys[i]), &sh, addr);
		if (rc != 0) {
			multi_done(om, rc);
			continue;
		}
		sh.sh_cb = multi_done;
		sh.sh_cb_arg = om;
		dc_obj_shard_punch(&sh, OBJ_PUNCH_DKEYS, flags, NULL, 1, &dkeys[i], NULL,
				   om->om_ev);
	}
	multi_done(om, 0);
	return multi_end(ev, priv);
}

static void list_dkey_next(struct obj_multi *om);

/* A group's listing is back: go on with the next group while nothing was found. */
static void
list_dkey_done(void *arg, int rc)
{
	struct obj_multi *om = arg;
	daos_event_t *ev = om->om_ev;
	uint32_t grp_nr = obj_layout(om->om_obj)->ol_grp_nr;

	if (rc == 0) {
		bool eof = daos_anchor_is_eof(om->om_anchor);

		if (eof && om->om_grp + 1 < grp_nr) {
			/* this group is done: the next starts from its beginning */
			memset(om->om_anchor, 0, sizeof(*om->om_anchor));
			om->om_anchor->da_shard = (uint16_t)(om->om_grp + 1);
			if (*om->om_nr == 0) {
				om->om_grp++;
				*om->om_nr = om->om_nr_cap;
				list_dkey_next(om);
				return;
			}
		} else {
			om->om_anchor->da_shard = (uint16_t)om->om_grp;
		}
	}
	multi_free(om);
	dc_ev_complete(ev, rc);
}

static void
list_dkey_next(struct obj_multi *om)
{
	struct dc_obj_shard sh;
	int rc;

	rc = obj_shard_init(om->om_obj, om->om_grp * obj_layout(om->om_obj)->ol_grp_size, &sh,
			    om->om_addr);
	if (rc != 0) {
		list_dkey_done(om, rc);
		return;
	}
	sh.sh_cb = list_dkey_done;
	sh.sh_cb_arg = om;
	dc_obj_shard_list(&sh, OBJ_LIST_DKEY, NULL, NULL, om->om_nr, om->om_kds, om->om_sgl, NULL,
			  NULL, om->om_anchor, om->om_ev);
}

int
daos_obj_list_dkey(daos_handle_t oh, daos_handle_t th, uint32_t *nr, daos_key_desc_t *kds,
		   d_sg_list_t *sgl, daos_anchor_t *anchor, daos_event_t *ev)
{
	struct obj_multi *om;
	daos_event_t *priv;
	int rc;

	if (nr == NULL || *nr == 0 || kds == NULL || sgl == NULL || anchor == NULL)
		return obj_sync_done(ev, -DER_INVAL);
	if (daos_anchor_is_eof(anchor)) {
		*nr = 0;
		return obj_sync_done(ev, 0);
	}
	rc = multi_begin(oh, th, false, ev, &om);
	if (rc != 0)
		return obj_sync_done(ev, rc);
	priv = om->om_priv;
	om->om_grp = anchor->da_shard;
	if (om->om_grp >= obj_layout(om->om_obj)->ol_grp_nr) {
		multi_free(om);
		dc_ev_complete(priv != NULL ? priv : ev, -DER_INVAL);
		return multi_end(ev, priv);
	}
	om->om_nr = nr;
	om->om_nr_cap = *nr;
	om->om_kds = kds;
	om->om_sgl = sgl;
	om->om_anchor = anchor;
	list_dkey_next(om);
	return multi_end(ev, priv);
}

/* Query of every group: the requests' answers merged (obj_query_merge). */
static void
query_done(void *arg, int rc)
{
	struct obj_multi *om = arg;
	daos_event_t *ev = om->om_ev;
	struct obj_qans res = {.qa_rc = -DER_NONEXIST};
	uint32_t i;
	bool last;

	(void)rc;
	pthread_mutex_lock(&om->om_lock);
	last = --om->om_left == 0;
	pthread_mutex_unlock(&om->om_lock);
	if (!last)
		return;
	for (i = 0; i < om->om_part_nr; i++)
		obj_query_merge((uint32_t)om->om_qflags, &res, &om->om_ans[i]);
	if (res.qa_rc == 0) {
		memcpy(om->om_udkey->iov_buf, &res.qa_dkey, sizeof(uint64_t));
		om->om_udkey->iov_len = sizeof(uint64_t);
		if ((om->om_qflags & DAOS_GET_AKEY) && om->om_uakey != NULL) {
			memcpy(om->om_uakey->iov_buf, &res.qa_akey, sizeof(uint64_t));
			om->om_uakey->iov_len = sizeof(uint64_t);
		}
		if ((om->om_qflags & DAOS_GET_RECX) && om->om_urecx != NULL)
			*om->om_urecx = res.qa_recx;
	}
	multi_free(om);
	dc_ev_complete(ev, res.qa_rc);
}

/*
 * Collective queries (OBJ_OPC_QUERY_COLL): on unless DAOS_OBJ_QUERY_COLL=0 in the
 * environment (read once), which sends one query per group as before (for comparisons).
 */
static bool
obj_query_coll_on(void)
{
	static int off = -1;

	return !d_getenv_is_once(&off, "DAOS_OBJ_QUERY_COLL", "0");
}

/*
 * Split the groups of @l into the requests of a dkey query: the groups whose leaders are on
 * one engine (rank) share a request (collective, at most OBJ_COLL_MAX groups), unless
 * collective queries are off or the leader is unplaced (its own request, which fails).
 * @part_of[g] receives group g's request, numbered in order of first group; returns their
 * number.
 */
static uint32_t
obj_query_parts(const struct pl_obj_layout *l, uint32_t *part_of)
{
	bool coll = obj_query_coll_on();
	uint32_t nparts = 0;
	uint32_t g;
	uint32_t h;

	for (g = 0; g < l->ol_grp_nr; g++) {
		const struct pl_obj_shard *ps = &l->ol_shards[g * l->ol_grp_size];

		part_of[g] = UINT32_MAX;
		for (h = 0; coll && ps->po_target != PL_TGT_NONE && h < g; h++) {
			const struct pl_obj_shard *qs = &l->ol_shards[h * l->ol_grp_size];
			uint32_t n = 0;
			uint32_t k;

			if (qs->po_target == PL_TGT_NONE || qs->po_rank != ps->po_rank)
				continue;
			for (k = 0; k < g; k++)
				n += part_of[k] == part_of[h];
			if (n < OBJ_COLL_MAX)
				part_of[g] = part_of[h];
			break;
		}
		if (part_of[g] == UINT32_MAX)
			part_of[g] = nparts++;
	}
	return nparts;
}

/* Per-group completion of a query: record the result, then the common part. */
struct query_part {
	struct obj_multi *qp_om;
	uint32_t qp_grp;
	d_iov_t qp_dkey;
	d_iov_t qp_akey;
};

static void
query_part_done(void *arg, int rc)
{
	struct query_part *qp = arg;
	struct obj_multi *om = qp->qp_om;

	om->om_ans[qp->qp_grp].qa_rc = rc;
	D_FREE(qp);
	query_done(om, rc);
}

int
daos_obj_query_key(daos_handle_t oh, daos_handle_t th, uint64_t flags, daos_key_t *dkey,
		   daos_key_t *akey, daos_recx_t *recx, daos_event_t *ev)
{
	struct obj_coll_shard *cs = NULL;
	struct pl_obj_layout *l;
	struct obj_multi *om;
	daos_event_t *priv;
	uint32_t *part_of = NULL;
	uint32_t grp_nr;
	uint32_t i;
	uint32_t p;
	int rc;

	if (!obj_qflags_valid(flags))
		return obj_sync_done(ev, -DER_INVAL);
	if ((flags & DAOS_GET_DKEY) &&
	    (dkey == NULL || dkey->iov_buf == NULL || dkey->iov_buf_len < sizeof(uint64_t)))
		return obj_sync_done(ev, -DER_INVAL);
	if ((flags & DAOS_GET_AKEY) &&
	    (akey == NULL || akey->iov_buf == NULL || akey->iov_buf_len < sizeof(uint64_t)))
		return obj_sync_done(ev, -DER_INVAL);
	if ((flags & DAOS_GET_RECX) && recx == NULL)
		return obj_sync_done(ev, -DER_INVAL);
	if (!(flags & DAOS_GET_DKEY)) {
		char addr[NET_ADDR_STR_MAX];
		struct dc_obj_shard sh;
		struct dc_obj *obj;

		obj = obj_dkey_target(oh, th, dkey, false, &sh, addr, &rc);
		if (obj == NULL)
			return obj_sync_done(ev, rc);
		rc = dc_obj_shard_query_key(&sh, (uint32_t)flags, dkey, akey, recx, ev);
		obj_put(obj);
		return rc;
	}

	rc = multi_begin(oh, th, false, ev, &om);
	if (rc != 0)
		return obj_sync_done(ev, rc);
	priv = om->om_priv;
	l = obj_layout(om->om_obj);
	grp_nr = l->ol_grp_nr;
	D_ALLOC_ARRAY(om->om_ans, grp_nr);
	D_ALLOC_ARRAY(part_of, grp_nr);
	D_ALLOC_ARRAY(cs, grp_nr);
	if (om->om_ans == NULL || part_of == NULL || cs == NULL) {
		D_FREE(part_of);
		D_FREE(cs);
		multi_free(om);
		dc_ev_complete(priv != NULL ? priv : ev, -DER_NOMEM);
		return multi_end(ev, priv);
	}
	om->om_part_nr = obj_query_parts(l, part_of);
	om->om_qflags = flags;
	om->om_udkey = dkey;
	om->om_uakey = akey;
	om->om_urecx = recx;
	om->om_left = om->om_part_nr + 1;
	for (p = 0; p < om->om_part_nr; p++) {
		char addr[NET_ADDR_STR_MAX];
		struct dc_obj_shard sh;
		struct query_part *qp;
		uint32_t first = UINT32_MAX;
		uint32_t nr = 0;

		/* the part's group leaders, in group order */
		for (i = 0; i < grp_nr; i++) {
			uint32_t shard = i * l->ol_grp_size;

			if (part_of[i] != p)
				continue;
			if (first == UINT32_MAX)
				first = shard;
			cs[nr].cs_shard = shard;
			cs[nr].cs_tgt = l->ol_shards[shard].po_index;
			nr++;
		}
		D_ALLOC_PTR(qp);
		if (qp == NULL) {
			om->om_ans[p].qa_rc = -DER_NOMEM;
			query_done(om, -DER_NOMEM);
			continue;
		}
		qp->qp_om = om;
		qp->qp_grp = p;
		d_iov_set(&qp->qp_dkey, &om->om_ans[p].qa_dkey, sizeof(uint64_t));
		if (flags & DAOS_GET_AKEY)
			d_iov_set(&qp->qp_akey, &om->om_ans[p].qa_akey, sizeof(uint64_t));
		else if (akey != NULL)
			qp->qp_akey = *akey;
		rc = obj_shard_init(om->om_obj, first, &sh, addr);
		if (rc != 0) {
			query_part_done(qp, rc);
			continue;
		}
		sh.sh_cb = query_part_done;
		sh.sh_cb_arg = qp;
		if (nr == 1)
			dc_obj_shard_query_key(&sh, (uint32_t)flags, &qp->qp_dkey, &qp->qp_akey,
					       &om->om_ans[p].qa_recx, om->om_ev);
		else
			dc_obj_shard_query_coll(&sh, (uint32_t)flags, &qp->qp_dkey, &qp->qp_akey,
						&om->om_ans[p].qa_recx, cs, nr, om->om_ev);
	}
	D_FREE(part_of);
	D_FREE(cs);
	query_done(om, 0);
	return multi_end(ev, priv);
}

int
daos_obj_generate_oid2(daos_handle_t coh, daos_obj_id_t *oid, enum daos_otype_t type,
		       daos_oclass_id_t cid, daos_oclass_hints_t hints, uint32_t args)
{
	struct daos_oid_gen_attr ga = {0};
	struct dc_cont *co;
	int rc;

	if (oid == NULL)
		return -DER_INVAL;
	co = dc_cont_get(coh);
	if (co == NULL)
		return -DER_NO_HDL;
	ga.ga_rf = co->dc_rf;
	pthread_rwlock_rdlock(&co->dc_pool->dp_lock);
	ga.ga_domain_nr = pool_map_domain_nr(co->dc_pool->dp_map, PO_COMP_TP_RANK);
	ga.ga_target_nr = pool_map_target_nr(co->dc_pool->dp_map, PO_COMP_ST_ALL);
	pthread_rwlock_unlock(&co->dc_pool->dp_lock);
	dc_cont_put(co);
	rc = daos_obj_generate_oid_by_attr(oid, type, cid, hints, args, &ga);
	return rc;
}

/* The unversioned name, for applications built against headers without the macro. */
#undef daos_obj_generate_oid
int
daos_obj_generate_oid(daos_handle_t coh, daos_obj_id_t *oid, enum daos_otype_t type,
		      daos_oclass_id_t cid, daos_oclass_hints_t hints, uint32_t args)
{
	return daos_obj_generate_oid2(coh, oid, type, cid, hints, args);
}
