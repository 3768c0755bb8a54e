/*
 * vos_iter.c: vos_iterate, the walk over every entry of a container -- objects, dkeys,
 * akeys, single-value versions and array extents -- as a reader at an epoch sees them or
 * with their whole history, with callbacks before and after each entry's children. Sits on
 * the object layout of vos_obj.c / vos_io.c (trees, evtrees, incarnation logs); rebuild
 * and other scanners build on it.
 *
 * Walk. Keys (objects, dkeys, akeys) are taken one at a time as "the first key after the
 * last one seen" (a dbtree anchor), and the current record is looked up again after its
 * pre-callback, so callbacks may change the container: a key deleted under the walk is
 * simply not found again. The values of one akey are collected first (copies of their
 * descriptors), then handed to the callbacks, so a callback never meets a half-changed
 * value tree.
 *
 * Visibility (VOS_IT_VISIBLE, at epr_hi): a key is visible when vos_ilog_visible says so
 * under its parent's punch bound; the value a reader reads is the newest version at or
 * below epr_hi, unless it is a punch or the key punch bound hides it; extents are what
 * evt_find returns at epr_hi minus holes and what the punch bound hides. In full history
 * every key is walked and every value version with an epoch in [epr_lo, epr_hi] is
 * returned, flagged VISIBLE or COVERED by the same rules.
 */
#define D_LOGFAC vos

#include <gurt/common.h>

#include "vos_internal.h"

struct iter_ctx {
	vos_iter_param_t *it_param;
	struct vos_container *it_cont;
	struct vos_pool *it_pool;
	struct umem_instance *it_umm;
	daos_handle_t it_coh;
	bool it_visible;
	bool it_recursive;
	vos_iter_cb_t it_pre;
	vos_iter_cb_t it_post;
	void *it_arg;
	/* log events of the current key (full history) */
	struct vos_iter_log_ent *it_log;
	uint32_t it_log_cap;
};

/* Result of running a callback: go on, skip the subtree, or stop (rc 1). */
static int
iter_call(struct iter_ctx *it, vos_iter_cb_t cb, vos_iter_entry_t *ent, vos_iter_type_t type,
	  bool *skip)
{
	unsigned int acts = 0;
	int rc;

	if (skip != NULL)
		*skip = false;
	if (cb == NULL)
		return 0;
	rc = cb(it->it_coh, ent, type, it->it_param, it->it_arg, &acts);
	if (rc != 0)
		return rc;
	if (acts & VOS_ITER_CB_ABORT)
		return 1;
	if (skip != NULL && (acts & VOS_ITER_CB_SKIP))
		*skip = true;
	return 0;
}

/*
 * Fill the key part of @ent from log @ilog under the parent punch bound @parent (NULL:
 * none): visibility at epr_hi, the newest create and own punch, the log events in range
 * (full history). *@pb: the punch bound for what is under the key. *@show: the entry is
 * to be handed out.
 */
static int
iter_key_fill(struct iter_ctx *it, const struct ilog_df *ilog, const struct ilog_epc *parent,
	      vos_iter_entry_t *ent, struct ilog_epc *pb, bool *show)
{
	const daos_epoch_range_t *epr = &it->it_param->ip_epr;
	struct ilog_entries ents;
	struct ilog_info info;
	bool visible;
	uint32_t i;
	int rc;

	rc = vos_ilog_visible(it->it_umm, ilog, epr->epr_hi, parent, &visible, pb);
	if (rc == 0)
		rc = ilog_query(it->it_umm, ilog, epr->epr_hi, &info);
	if (rc != 0)
		return rc;
	ent->ie_vis_flags = visible ? VOS_VIS_FLAG_VISIBLE : VOS_VIS_FLAG_COVERED;
	ent->ie_epoch = visible ? info.ii_last_create : 0;
	ent->ie_punch = info.ii_punch.ec_epoch;
	*show = visible || !it->it_visible;
	if (it->it_visible || !*show)
		return 0;

	rc = ilog_fetch(it->it_umm, ilog, epr->epr_lo, epr->epr_hi, &ents);
	if (rc != 0)
		return rc;
	if (ents.ie_nr > it->it_log_cap) {
		struct vos_iter_log_ent *p;

		D_REALLOC_ARRAY(p, it->it_log, ents.ie_nr);
		if (p == NULL)
			return -DER_NOMEM;
		it->it_log = p;
		it->it_log_cap = ents.ie_nr;
	}
	for (i = 0; i < ents.ie_nr; i++) {
		const struct ilog_entry_df *le = &ents.ie_ents[i];
		bool punch = ilog_entry_is_punch(le);

		it->it_log[i] = (struct vos_iter_log_ent){
		    .ile_epoch = le->le_epoch,
		    .ile_minor = punch ? le->le_punch_minor : le->le_update_minor,
		    .ile_punch = punch,
		};
	}
	ent->ie_log = it->it_log;
	ent->ie_log_nr = ents.ie_nr;
	return 0;
}

/*
 * The punch bound *@pb under a key again, after its pre-callback (which may have punched
 * it); *@show: the walk still descends under it.
 */
static int
iter_key_again(struct iter_ctx *it, const struct ilog_df *ilog, const struct ilog_epc *parent,
	       struct ilog_epc *pb, bool *show)
{
	bool visible;
	int rc;

	rc = vos_ilog_visible(it->it_umm, ilog, it->it_param->ip_epr.epr_hi, parent, &visible, pb);
	*show = rc == 0 && (visible || !it->it_visible);
	return rc;
}

/*
 * The first record after @anchor (zero: the first) of the tree at @root: *@body borrowed,
 * @anchor moved to it; -DER_NONEXIST at the end. With @again, the record at @anchor itself
 * if it is still there (-DER_NONEXIST if it is gone). No iterator outlives the call.
 */
static int
iter_rec(struct iter_ctx *it, struct btr_root_df *root, struct btr_instance *toh_in,
	 struct dbtree_anchor *anchor, bool again, void **body)
{
	struct btr_instance *toh = toh_in;
	struct dbtree_anchor found;
	struct btr_iterator *ih;
	d_iov_t val;
	int rc;

	if (toh == NULL) {
		if (root->tr_order == 0)
			return -DER_NONEXIST;
		rc = dbtree_open_inplace_ex(root, it->it_umm, it->it_pool, &toh);
		if (rc != 0)
			return rc;
	}
	rc = dbtree_iter_prepare(toh, &ih);
	if (rc != 0)
		goto out;
	rc = dbtree_iter_probe(ih, again ? BTR_PROBE_GE : BTR_PROBE_GT, NULL, anchor);
	d_iov_set(&val, NULL, 0);
	if (rc == 0)
		rc = dbtree_iter_fetch(ih, NULL, &val, &found);
	if (rc == 0 && again && memcmp(&found, anchor, sizeof(found)) != 0)
		rc = -DER_NONEXIST;
	if (rc == 0) {
		*body = val.iov_buf;
		*anchor = found;
	}
	dbtree_iter_finish(ih);
out:
	if (toh_in == NULL)
		dbtree_close(toh);
	return rc;
}

/*
 * Values.
 */

/* The collected value entries of one akey. */
struct iter_vals {
	vos_iter_entry_t *iv_ents;
	uint32_t iv_nr;
	uint32_t iv_cap;
};

static vos_iter_entry_t *
vals_add(struct iter_vals *iv)
{
	if (iv->iv_nr == iv->iv_cap) {
		uint32_t cap = iv->iv_cap == 0 ? 16 : iv->iv_cap * 2;
		vos_iter_entry_t *p;

		D_REALLOC_ARRAY(p, iv->iv_ents, cap);
		if (p == NULL)
			return NULL;
		iv->iv_ents = p;
		iv->iv_cap = cap;
	}
	memset(&iv->iv_ents[iv->iv_nr], 0, sizeof(iv->iv_ents[0]));
	return &iv->iv_ents[iv->iv_nr++];
}

static int
collect_single(struct iter_ctx *it, struct vos_krec_df *krec, const struct ilog_epc *pb,
	       struct iter_vals *iv)
{
	const daos_epoch_range_t *epr = &it->it_param->ip_epr;
	struct vos_singv_key key = {.sk_epoch = epr->epr_hi, .sk_minor = VOS_MINOR_EPC};
	struct vos_singv_key seen = {0};
	struct btr_iterator *ih = NULL;
	struct btr_instance *toh;
	bool have_seen = false;
	d_iov_t kiov, val;
	int rc;

	if (krec->kr_btr.tr_order == 0)
		return 0;
	rc = dbtree_open_inplace_ex(&krec->kr_btr, it->it_umm, it->it_pool, &toh);
	if (rc != 0)
		return rc;
	/* the version a reader at epr_hi reads */
	d_iov_set(&kiov, &key, sizeof(key));
	d_iov_set(&val, NULL, 0);
	rc = dbtree_fetch(toh, BTR_PROBE_LE, &kiov, NULL, &val);
	if (rc == 0) {
		struct vos_irec_df *irec = val.iov_buf;

		have_seen = irec->ir_size > 0 &&
			    !ilog_epc_punched(irec->ir_key.sk_epoch, irec->ir_key.sk_minor, pb);
		seen = irec->ir_key;
	} else if (rc != -DER_NONEXIST) {
		goto out;
	}
	rc = dbtree_iter_prepare(toh, &ih);
	if (rc != 0)
		goto out;
	key = (struct vos_singv_key){.sk_epoch = epr->epr_lo};
	if (it->it_visible) {
		if (!have_seen || seen.sk_epoch < epr->epr_lo)
			goto out;
		key = seen;
	}
	rc = dbtree_iter_probe(ih, BTR_PROBE_GE, &kiov, NULL);
	while (rc == 0) {
		struct vos_irec_df *irec;
		vos_iter_entry_t *ent;
		bool vis;

		d_iov_set(&val, NULL, 0);
		rc = dbtree_iter_fetch(ih, NULL, &val, NULL);
		if (rc != 0)
			break;
		irec = val.iov_buf;
		if (irec->ir_key.sk_epoch > epr->epr_hi)
			break;
		vis = have_seen && irec->ir_key.sk_epoch == seen.sk_epoch &&
		      irec->ir_key.sk_minor == seen.sk_minor;
		ent = vals_add(iv);
		if (ent == NULL) {
			rc = -DER_NOMEM;
			break;
		}
		ent->ie_epoch = irec->ir_key.sk_epoch;
		ent->ie_minor_epc = irec->ir_key.sk_minor;
		ent->ie_vis_flags = vis ? VOS_VIS_FLAG_VISIBLE : VOS_VIS_FLAG_COVERED;
		ent->ie_ver = irec->ir_ver;
		ent->ie_rsize = irec->ir_size;
		ent->ie_gsize = irec->ir_size;
		ent->ie_media = irec->ir_media;
		ent->ie_addr = irec->ir_media == VOS_MEDIA_DATA
				   ? irec->ir_addr
				   : umem_ptr2off(it->it_umm, irec + 1);
		if (it->it_visible)
			break;
		rc = dbtree_iter_next(ih);
	}
	if (rc == -DER_NONEXIST)
		rc = 0;
out:
	if (ih != NULL)
		dbtree_iter_finish(ih);
	dbtree_close(toh);
	return rc;
}

/* Fill @ent from fragment @frag (of entry ef_ent, maybe clipped). */
static void
recx_fill(vos_iter_entry_t *ent, const struct evt_frag *frag, uint32_t vis)
{
	const struct evt_entry *e = &frag->ef_ent;
	const struct evt_payload_df *pd = &e->en_payload;
	bool hole = (e->en_flags & EVT_ENT_HOLE) || pd->pd_rsize == 0;

	ent->ie_epoch = e->en_rect.rc_epc;
	ent->ie_minor_epc = e->en_rect.rc_minor_epc;
	ent->ie_vis_flags = vis;
	ent->ie_ver = pd->pd_ver;
	ent->ie_rsize = hole ? 0 : pd->pd_rsize;
	ent->ie_recx.rx_idx = frag->ef_ext.ex_lo;
	ent->ie_recx.rx_nr = frag->ef_ext.ex_hi - frag->ef_ext.ex_lo + 1;
	ent->ie_orig_recx.rx_idx = e->en_rect.rc_ex.ex_lo;
	ent->ie_orig_recx.rx_nr = e->en_rect.rc_ex.ex_hi - e->en_rect.rc_ex.ex_lo + 1;
	ent->ie_gsize = ent->ie_rsize * ent->ie_recx.rx_nr;
	ent->ie_media = pd->pd_type;
	ent->ie_addr = hole ? 0 : pd->pd_addr + frag->ef_off * pd->pd_rsize;
}

static int
rect_cmp(const void *a, const void *b)
{
	const struct evt_rect *x = a, *y = b;

	if (x->rc_ex.ex_lo != y->rc_ex.ex_lo)
		return x->rc_ex.ex_lo < y->rc_ex.ex_lo ? -1 : 1;
	if (x->rc_ex.ex_hi != y->rc_ex.ex_hi)
		return x->rc_ex.ex_hi < y->rc_ex.ex_hi ? -1 : 1;
	if (x->rc_epc != y->rc_epc)
		return x->rc_epc < y->rc_epc ? -1 : 1;
	if (x->rc_minor_epc != y->rc_minor_epc)
		return x->rc_minor_epc < y->rc_minor_epc ? -1 : 1;
	return 0;
}

static int
collect_array(struct iter_ctx *it, struct vos_krec_df *krec, const struct ilog_epc *pb,
	      struct iter_vals *iv)
{
	const daos_epoch_range_t *epr = &it->it_param->ip_epr;
	struct evt_extent all = {.ex_lo = 0, .ex_hi = UINT64_MAX};
	struct evt_filter filter = {
	    .fr_ex = all, .fr_epc_lo = epr->epr_lo, .fr_epc_hi = epr->epr_hi};
	struct evt_rect *vis = NULL;
	struct evt_context *tcx;
	struct evt_iter *eit = NULL;
	struct evt_list list;
	uint32_t f, nvis = 0;
	int rc;

	rc = evt_open(&krec->kr_evt, it->it_umm, &tcx);
	if (rc == -DER_NONEXIST)
		return 0;
	if (rc != 0)
		return rc;
	evt_list_init(&list);
	rc = evt_find(tcx, &all, epr->epr_hi, EVT_FIND_SKIP_HOLES, &list);
	if (rc != 0)
		goto out;
	if (list.el_nr > 0) {
		D_ALLOC_ARRAY(vis, list.el_nr);
		if (vis == NULL) {
			rc = -DER_NOMEM;
			goto out;
		}
	}
	for (f = 0; f < list.el_nr; f++) {
		const struct evt_frag *frag = &list.el_frags[f];
		const struct evt_rect *rect = &frag->ef_ent.en_rect;
		vos_iter_entry_t *ent;

		if (frag->ef_ent.en_payload.pd_rsize == 0 ||
		    ilog_epc_punched(rect->rc_epc, rect->rc_minor_epc, pb))
			continue;
		vis[nvis++] = *rect;
		if (!it->it_visible || rect->rc_epc < epr->epr_lo)
			continue;
		ent = vals_add(iv);
		if (ent == NULL) {
			rc = -DER_NOMEM;
			goto out;
		}
		recx_fill(ent, frag,
			  VOS_VIS_FLAG_VISIBLE | ((frag->ef_ext.ex_lo != rect->rc_ex.ex_lo ||
						   frag->ef_ext.ex_hi != rect->rc_ex.ex_hi)
						      ? VOS_VIS_FLAG_PARTIAL
						      : 0));
	}
	if (it->it_visible)
		goto out;

	if (nvis > 1)
		qsort(vis, nvis, sizeof(*vis), rect_cmp);
	rc = evt_iter_prepare(tcx, 0, &filter, &eit);
	if (rc != 0)
		goto out;
	rc = evt_iter_probe(eit, NULL);
	while (rc == 0) {
		struct evt_frag frag;
		vos_iter_entry_t *ent;
		bool seen;

		rc = evt_iter_fetch(eit, &frag, NULL);
		if (rc != 0)
			break;
		/* the whole entry, not the fragment clipped to the filter */
		frag.ef_ext = frag.ef_ent.en_rect.rc_ex;
		frag.ef_off = 0;
		seen = nvis > 0 &&
		       bsearch(&frag.ef_ent.en_rect, vis, nvis, sizeof(*vis), rect_cmp) != NULL;
		ent = vals_add(iv);
		if (ent == NULL) {
			rc = -DER_NOMEM;
			break;
		}
		recx_fill(ent, &frag, seen ? VOS_VIS_FLAG_VISIBLE : VOS_VIS_FLAG_COVERED);
		rc = evt_iter_next(eit);
	}
	if (rc == -DER_NONEXIST)
		rc = 0;
out:
	if (eit != NULL)
		evt_iter_finish(eit);
	D_FREE(vis);
	evt_list_fini(&list);
	evt_close(tcx);
	return rc;
}

/* The values of akey @krec, with punch bound @pb. */
static int
iter_values(struct iter_ctx *it, struct vos_krec_df *krec, const struct ilog_epc *pb,
	    vos_iter_type_t type)
{
	struct iter_vals iv = {0};
	uint32_t i;
	int rc;

	if (type == VOS_ITER_SINGLE && (krec->kr_bmap & VOS_KREC_SINGLE))
		rc = collect_single(it, krec, pb, &iv);
	else if (type == VOS_ITER_RECX && (krec->kr_bmap & VOS_KREC_ARRAY))
		rc = collect_array(it, krec, pb, &iv);
	else
		rc = 0; /* the other kind, or only punched: nothing */
	for (i = 0; i < iv.iv_nr && rc == 0; i++) {
		iv.iv_ents[i].ie_oid = it->it_param->ip_oid;
		rc = iter_call(it, it->it_pre, &iv.iv_ents[i], type, NULL);
		if (rc == 0)
			rc = iter_call(it, it->it_post, &iv.iv_ents[i], type, NULL);
	}
	D_FREE(iv.iv_ents);
	return rc;
}

/*
 * Keys.
 */

static vos_iter_type_t
krec_val_type(const struct vos_krec_df *krec)
{
	if (krec->kr_bmap & VOS_KREC_SINGLE)
		return VOS_ITER_SINGLE;
	if (krec->kr_bmap & VOS_KREC_ARRAY)
		return VOS_ITER_RECX;
	return VOS_ITER_NONE;
}

/*
 * The dkeys (@type VOS_ITER_DKEY, tree @root of the object) or akeys (VOS_ITER_AKEY, tree
 * of the dkey) under punch bound @parent.
 */
static int
iter_keys(struct iter_ctx *it, struct btr_root_df *root, const struct ilog_epc *parent,
	  vos_iter_type_t type)
{
	vos_iter_param_t *param = it->it_param;
	daos_key_t *slot = type == VOS_ITER_DKEY ? &param->ip_dkey : &param->ip_akey;
	daos_key_t saved = *slot;
	struct dbtree_anchor anchor = {0};
	int rc;

	for (;;) {
		vos_iter_entry_t ent = {.ie_oid = param->ip_oid};
		struct vos_krec_df *krec;
		struct ilog_epc pb;
		bool show, skip;
		void *body;

		rc = iter_rec(it, root, NULL, &anchor, false, &body);
		if (rc != 0)
			break;
		krec = body;
		rc = iter_key_fill(it, &krec->kr_ilog, parent, &ent, &pb, &show);
		if (rc != 0)
			break;
		if (!show)
			continue;
		d_iov_set(&ent.ie_key, vos_krec2key(krec), krec->kr_size);
		if (type == VOS_ITER_AKEY)
			ent.ie_val_type = (krec->kr_bmap & VOS_KREC_SINGLE)  ? DAOS_IOD_SINGLE
					  : (krec->kr_bmap & VOS_KREC_ARRAY) ? DAOS_IOD_ARRAY
									     : DAOS_IOD_NONE;
		rc = iter_call(it, it->it_pre, &ent, type, &skip);
		if (rc != 0)
			break;
		if (it->it_recursive && !skip) {
			/* the pre-callback may have changed the tree: find the record again */
			rc = iter_rec(it, root, NULL, &anchor, true, &body);
			if (rc == -DER_NONEXIST)
				continue;
			if (rc != 0)
				break;
			krec = body;
			rc = iter_key_again(it, &krec->kr_ilog, parent, &pb, &show);
			if (rc != 0)
				break;
			if (!show)
				goto post;
			d_iov_set(slot, vos_krec2key(krec), krec->kr_size);
			if (type == VOS_ITER_DKEY)
				rc = iter_keys(it, &krec->kr_btr, &pb, VOS_ITER_AKEY);
			else if (krec_val_type(krec) != VOS_ITER_NONE)
				rc = iter_values(it, krec, &pb, krec_val_type(krec));
			*slot = saved;
			if (rc != 0)
				break;
			/* the entry the post-callback gets must not point at a freed record */
			rc = iter_rec(it, root, NULL, &anchor, true, &body);
			if (rc == -DER_NONEXIST)
				continue;
			if (rc != 0)
				break;
			krec = body;
			d_iov_set(&ent.ie_key, vos_krec2key(krec), krec->kr_size);
			ent.ie_log = NULL;
			ent.ie_log_nr = 0;
		}
	post:
		rc = iter_call(it, it->it_post, &ent, type, NULL);
		if (rc != 0)
			break;
	}
	*slot = saved;
	return rc == -DER_NONEXIST ? 0 : rc;
}

/* The objects of the container. */
static int
iter_objs(struct iter_ctx *it)
{
	vos_iter_param_t *param = it->it_param;
	daos_unit_oid_t saved = param->ip_oid;
	struct dbtree_anchor anchor = {0};
	int rc;

	for (;;) {
		vos_iter_entry_t ent = {0};
		struct vos_obj_df *obj;
		struct ilog_epc pb;
		bool show, skip;
		void *body;

		rc = iter_rec(it, NULL, it->it_cont->vc_oi, &anchor, false, &body);
		if (rc != 0)
			break;
		obj = body;
		rc = iter_key_fill(it, &obj->vo_ilog, NULL, &ent, &pb, &show);
		if (rc != 0)
			break;
		if (!show)
			continue;
		ent.ie_oid = obj->vo_id;
		rc = iter_call(it, it->it_pre, &ent, VOS_ITER_OBJ, &skip);
		if (rc != 0)
			break;
		if (it->it_recursive && !skip) {
			rc = iter_rec(it, NULL, it->it_cont->vc_oi, &anchor, true, &body);
			if (rc == -DER_NONEXIST)
				continue;
			if (rc != 0)
				break;
			obj = body;
			rc = iter_key_again(it, &obj->vo_ilog, NULL, &pb, &show);
			if (rc != 0)
				break;
			if (!show)
				goto post;
			param->ip_oid = obj->vo_id;
			rc = iter_keys(it, &obj->vo_tree, &pb, VOS_ITER_DKEY);
			param->ip_oid = saved;
			if (rc != 0)
				break;
			ent.ie_log = NULL;
			ent.ie_log_nr = 0;
		}
	post:
		rc = iter_call(it, it->it_post, &ent, VOS_ITER_OBJ, NULL);
		if (rc != 0)
			break;
	}
	return rc == -DER_NONEXIST ? 0 : rc;
}

/*
 * Starting below the top: find the parents named in the parameters, and the punch bound
 * they put on what is under them.
 */
static int
iter_start(struct iter_ctx *it, vos_iter_type_t type)
{
	vos_iter_param_t *param = it->it_param;
	daos_epoch_t hi = param->ip_epr.epr_hi;
	struct ilog_epc pb, dpb, apb;
	struct vos_krec_df *dkrec, *akrec;
	struct vos_obj_df *obj;
	bool visible;
	int rc;

	if (type == VOS_ITER_OBJ)
		return iter_objs(it);
	rc = vos_obj_find(it->it_cont, param->ip_oid, false, &obj);
	if (rc == 0)
		rc = vos_ilog_visible(it->it_umm, &obj->vo_ilog, hi, NULL, &visible, &pb);
	if (rc == 0 && it->it_visible && !visible)
		return 0;
	if (rc == 0 && type == VOS_ITER_DKEY)
		return iter_keys(it, &obj->vo_tree, &pb, VOS_ITER_DKEY);

	if (rc == 0)
		rc = vos_key_check(&param->ip_dkey, vos_key_feats(param->ip_oid, true));
	if (rc == 0)
		rc = vos_key_find(it->it_pool, &obj->vo_tree, vos_key_feats(param->ip_oid, true),
				  &param->ip_dkey, false, 0, &dkrec);
	if (rc == 0)
		rc = vos_ilog_visible(it->it_umm, &dkrec->kr_ilog, hi, &pb, &visible, &dpb);
	if (rc == 0 && it->it_visible && !visible)
		return 0;
	if (rc == 0 && type == VOS_ITER_AKEY)
		return iter_keys(it, &dkrec->kr_btr, &dpb, VOS_ITER_AKEY);

	if (rc == 0)
		rc = vos_key_check(&param->ip_akey, vos_key_feats(param->ip_oid, false));
	if (rc == 0)
		rc = vos_key_find(it->it_pool, &dkrec->kr_btr, vos_key_feats(param->ip_oid, false),
				  &param->ip_akey, false, 0, &akrec);
	if (rc == 0)
		rc = vos_ilog_visible(it->it_umm, &akrec->kr_ilog, hi, &dpb, &visible, &apb);
	if (rc == 0 && it->it_visible && !visible)
		return 0;
	if (rc == 0)
		rc = iter_values(it, akrec, &apb, type);
	return rc == -DER_NONEXIST ? 0 : rc;
}

int
vos_iterate(vos_iter_param_t *param, vos_iter_type_t type, bool recursive,
	    struct vos_iter_anchors *anchors, vos_iter_cb_t pre_cb, vos_iter_cb_t post_cb,
	    void *arg, struct dtx_handle *dth)
{
	struct iter_ctx it = {0};
	int rc;

	if (param == NULL || anchors != NULL || dth != NULL || type < VOS_ITER_OBJ ||
	    type > VOS_ITER_RECX || vos_hdl2cont(param->ip_hdl) == NULL ||
	    param->ip_epr.epr_lo > param->ip_epr.epr_hi || param->ip_epr.epr_hi == 0 ||
	    (param->ip_flags & ~(uint32_t)VOS_IT_VISIBLE) != 0) {
		D_ERROR("bad vos_iterate arguments (type %d)\n", (int)type);
		return -DER_INVAL;
	}
	it.it_param = param;
	it.it_coh = param->ip_hdl;
	it.it_cont = vos_hdl2cont(param->ip_hdl);
	it.it_pool = it.it_cont->vc_pool;
	it.it_umm = it.it_pool->vp_umm;
	it.it_visible = (param->ip_flags & VOS_IT_VISIBLE) != 0;
	it.it_recursive = recursive;
	it.it_pre = pre_cb;
	it.it_post = post_cb;
	it.it_arg = arg;
	rc = iter_start(&it, type);
	D_FREE(it.it_log);
	if (rc < 0 && rc != -DER_NONEXIST)
		D_DEBUG("vos_iterate (type %d): " DF_RC "\n", (int)type, DP_RC(rc));
	return rc;
}

int
vos_iter_copy(daos_handle_t ih, const vos_iter_entry_t *entry, d_iov_t *iov)
{
	struct vos_container *cont = vos_hdl2cont(ih);
	int rc;

	if (cont == NULL || entry == NULL || iov == NULL ||
	    (entry->ie_gsize > 0 && iov->iov_buf == NULL))
		return -DER_INVAL;
	if (iov->iov_buf_len < entry->ie_gsize)
		return -DER_REC2BIG;
	iov->iov_len = 0;
	if (entry->ie_gsize == 0)
		return 0;
	if (entry->ie_media == VOS_MEDIA_DATA) {
		rc = vos_data_read(cont->vc_pool, iov->iov_buf, entry->ie_gsize, entry->ie_addr);
		if (rc != 0)
			return rc;
	} else {
		memcpy(iov->iov_buf, umem_off2ptr(cont->vc_pool->vp_umm, entry->ie_addr),
		       entry->ie_gsize);
	}
	iov->iov_len = entry->ie_gsize;
	return 0;
}
