/*
 * vos_query.c: enumeration and query key -- the dkeys of an object, the akeys of a dkey and
 * the extents of an array akey as a reader at an epoch sees them, resumable through
 * daos_anchor_t; and the largest or smallest uint64 dkey, akey and array extent (DAOS's
 * vos_obj_query_key, which the array API's size query rests on). Sits on vos_obj.c
 * (objects, keys, visibility), the dbtree iterators and evt_find; changes nothing.
 *
 * Anchors. A key anchor is the dbtree anchor of the last key returned (DAOS_ANCHOR_TYPE_KEY,
 * the 104 bytes of da_buf); a resumed enumeration probes the first key after it, whether or
 * not that key is still there, so keys added or removed between calls never make a key
 * present throughout be skipped or repeated (hashed keys longer than the anchor can hold
 * may repeat, see btree.h). An extent anchor is the next record index to report.
 */
#define D_LOGFAC vos

#include <gurt/common.h>

#include "vos_internal.h"
#include "evt_priv.h"

D_CASSERT(sizeof(struct dbtree_anchor) <= DAOS_ANCHOR_BUF_MAX);

/* What an extent anchor holds in da_buf. */
struct vos_recx_anchor {
	uint64_t ra_next; /* first record index not reported yet */
};

/* Where the keys of an enumeration are: the tree, and the punch bound of its parent. */
struct list_ctx {
	struct vos_pool *lc_pool;
	struct btr_root_df *lc_root;
	struct ilog_epc lc_punch;
	struct vos_krec_df *lc_akey; /* vos_obj_list_recx: the akey */
};

/*
 * Find the tree to enumerate: the dkeys of @oid (@dkey NULL), the akeys of @dkey, or
 * (@akey given) the akey itself, each visible at @epoch. -DER_NONEXIST: nothing to list.
 */
static int
list_locate(struct vos_container *cont, daos_unit_oid_t oid, daos_epoch_t epoch, daos_key_t *dkey,
	    daos_key_t *akey, struct list_ctx *lc)
{
	struct umem_instance *umm = cont->vc_pool->vp_umm;
	struct ilog_epc punch;
	struct vos_krec_df *krec;
	struct vos_obj_df *obj;
	bool visible;
	int rc;

	lc->lc_pool = cont->vc_pool;
	rc = vos_obj_find(cont, oid, false, &obj);
	if (rc != 0)
		return rc;
	rc = vos_ilog_visible(umm, &obj->vo_ilog, epoch, NULL, &visible, &lc->lc_punch);
	if (rc != 0)
		return rc;
	lc->lc_root = &obj->vo_tree;
	if (dkey == NULL)
		return 0;
	rc = vos_key_find(cont->vc_pool, &obj->vo_tree, vos_key_feats(oid, true), dkey, false, 0,
			  &krec);
	if (rc == 0)
		rc = vos_ilog_visible(umm, &krec->kr_ilog, epoch, &lc->lc_punch, &visible, &punch);
	if (rc != 0)
		return rc;
	if (!visible)
		return -DER_NONEXIST;
	lc->lc_punch = punch;
	lc->lc_root = &krec->kr_btr;
	if (akey == NULL)
		return 0;
	rc = vos_key_find(cont->vc_pool, &krec->kr_btr, vos_key_feats(oid, false), akey, false, 0,
			  &krec);
	if (rc == 0)
		rc = vos_ilog_visible(umm, &krec->kr_ilog, epoch, &lc->lc_punch, &visible, &punch);
	if (rc != 0)
		return rc;
	if (!visible)
		return -DER_NONEXIST;
	lc->lc_punch = punch;
	lc->lc_akey = krec;
	return 0;
}

/* Free bytes of @sgl from iov @i, offset @off on. */
static uint64_t
sgl_room(const d_sg_list_t *sgl, unsigned int i, size_t off)
{
	uint64_t n = 0;

	for (; i < sgl->sg_nr; i++, off = 0)
		n += sgl->sg_iovs[i].iov_buf_len - off;
	return n;
}

/* Append @len bytes to @sgl at (*@i, *@off); the caller checked the room. */
static void
sgl_append(d_sg_list_t *sgl, unsigned int *i, size_t *off, const void *buf, size_t len)
{
	while (len > 0) {
		d_iov_t *iov = &sgl->sg_iovs[*i];
		size_t n = iov->iov_buf_len - *off;

		if (n == 0) {
			(*i)++;
			*off = 0;
			continue;
		}
		if (n > len)
			n = len;
		memcpy((char *)iov->iov_buf + *off, buf, n);
		*off += n;
		iov->iov_len = *off;
		sgl->sg_nr_out = *i + 1;
		buf = (const char *)buf + n;
		len -= n;
	}
}

static int
list_args_check(struct vos_container *cont, daos_epoch_t epoch, daos_anchor_t *anchor, uint32_t *nr,
		const void *out)
{
	if (cont == NULL || epoch == 0 || anchor == NULL || nr == NULL || *nr == 0 || out == NULL)
		return -DER_INVAL;
	if (anchor->da_type != DAOS_ANCHOR_TYPE_ZERO && anchor->da_type != DAOS_ANCHOR_TYPE_KEY &&
	    anchor->da_type != DAOS_ANCHOR_TYPE_EOF)
		return -DER_INVAL;
	return 0;
}

int
vos_obj_list_keys(daos_handle_t coh, daos_unit_oid_t oid, daos_epoch_t epoch, daos_key_t *dkey,
		  daos_anchor_t *anchor, uint32_t *nr, daos_key_desc_t *kds, d_sg_list_t *sgl)
{
	struct vos_container *cont = vos_hdl2cont(coh);
	struct btr_iterator *ih = NULL;
	struct btr_instance *toh = NULL;
	struct dbtree_anchor ba;
	struct list_ctx lc = {0};
	unsigned int iov_i = 0, i;
	uint32_t cap, n = 0;
	size_t iov_off = 0;
	int rc;

	rc = list_args_check(cont, epoch, anchor, nr, kds);
	if (rc != 0 || sgl == NULL || (sgl->sg_nr > 0 && sgl->sg_iovs == NULL)) {
		D_ERROR("bad key enumeration arguments\n");
		return -DER_INVAL;
	}
	if (dkey != NULL) {
		rc = vos_key_check(dkey, vos_key_feats(oid, true));
		if (rc != 0)
			return rc;
	}
	cap = *nr;
	*nr = 0;
	sgl->sg_nr_out = 0;
	for (i = 0; i < sgl->sg_nr; i++)
		sgl->sg_iovs[i].iov_len = 0;
	if (daos_anchor_is_eof(anchor))
		return 0;

	rc = list_locate(cont, oid, epoch, dkey, NULL, &lc);
	if (rc == 0 && lc.lc_root->tr_order == 0)
		rc = -DER_NONEXIST;
	if (rc == 0)
		rc = dbtree_open_inplace_ex(lc.lc_root, lc.lc_pool->vp_umm, lc.lc_pool, &toh);
	if (rc == 0)
		rc = dbtree_iter_prepare(toh, &ih);
	if (rc != 0)
		goto out;
	if (daos_anchor_is_zero(anchor)) {
		rc = dbtree_iter_probe(ih, BTR_PROBE_FIRST, NULL, NULL);
	} else {
		memcpy(ba.ba_buf, anchor->da_buf, sizeof(ba.ba_buf));
		rc = dbtree_iter_probe(ih, BTR_PROBE_GT, NULL, &ba);
	}
	for (; rc == 0; rc = dbtree_iter_next(ih)) {
		struct dbtree_anchor here;
		struct ilog_epc punch;
		struct vos_krec_df *krec;
		d_iov_t key, val;
		bool visible;

		d_iov_set(&key, NULL, 0);
		d_iov_set(&val, NULL, 0);
		rc = dbtree_iter_fetch(ih, &key, &val, &here);
		if (rc != 0)
			break;
		krec = val.iov_buf;
		rc = vos_ilog_visible(lc.lc_pool->vp_umm, &krec->kr_ilog, epoch, &lc.lc_punch,
				      &visible, &punch);
		if (rc != 0)
			break;
		if (!visible)
			continue;
		if (n == cap)
			break;
		if (sgl_room(sgl, iov_i, iov_off) < key.iov_len) {
			if (n == 0) {
				/* the caller learns what the first key needs */
				kds[0].kd_key_len = key.iov_len;
				kds[0].kd_val_type = 0;
				rc = -DER_KEY2BIG;
				goto out;
			}
			break;
		}
		sgl_append(sgl, &iov_i, &iov_off, key.iov_buf, key.iov_len);
		kds[n].kd_key_len = key.iov_len;
		kds[n].kd_val_type = 0;
		if (dkey != NULL && (krec->kr_bmap & VOS_KREC_SINGLE))
			kds[n].kd_val_type |= DAOS_IOD_SINGLE;
		if (dkey != NULL && (krec->kr_bmap & VOS_KREC_ARRAY))
			kds[n].kd_val_type |= DAOS_IOD_ARRAY;
		n++;
		memcpy(anchor->da_buf, here.ba_buf, sizeof(here.ba_buf));
		anchor->da_type = DAOS_ANCHOR_TYPE_KEY;
	}
	if (rc == -DER_NONEXIST)
		daos_anchor_set_eof(anchor);
	else if (rc != 0)
		goto out;
	rc = 0;
	*nr = n;
out:
	if (ih != NULL)
		dbtree_iter_finish(ih);
	if (toh != NULL)
		dbtree_close(toh);
	if (rc == -DER_NONEXIST) {
		daos_anchor_set_eof(anchor);
		rc = 0;
	}
	if (rc != 0 && rc != -DER_KEY2BIG)
		D_ERROR("key enumeration at %" PRIu64 ": " DF_RC "\n", epoch, DP_RC(rc));
	return rc;
}

/* Is fragment @frag data a reader with punch bound @punch sees? */
static bool
frag_visible(const struct evt_frag *frag, const struct ilog_epc *punch)
{
	const struct evt_rect *rect = &frag->ef_ent.en_rect;

	return !(frag->ef_vis & EVT_HOLE) && frag->ef_ent.en_payload.pd_rsize != 0 &&
	       !ilog_epc_punched(rect->rc_epc, rect->rc_minor_epc, punch);
}

int
vos_obj_list_recx(daos_handle_t coh, daos_unit_oid_t oid, daos_epoch_t epoch, daos_key_t *dkey,
		  daos_key_t *akey, daos_size_t *rsize, daos_anchor_t *anchor, uint32_t *nr,
		  daos_recx_t *recxs)
{
	struct vos_container *cont = vos_hdl2cont(coh);
	struct vos_recx_anchor ra = {0};
	struct evt_context *tcx = NULL;
	struct evt_child_df sum;
	struct evt_extent range;
	struct evt_list list;
	struct list_ctx lc = {0};
	uint32_t cap, n = 0, f;
	int rc;

	rc = list_args_check(cont, epoch, anchor, nr, recxs);
	if (rc != 0 || dkey == NULL || akey == NULL || rsize == NULL) {
		D_ERROR("bad extent enumeration arguments\n");
		return -DER_INVAL;
	}
	rc = vos_key_check(dkey, vos_key_feats(oid, true));
	if (rc == 0)
		rc = vos_key_check(akey, vos_key_feats(oid, false));
	if (rc != 0)
		return rc;
	cap = *nr;
	*nr = 0;
	*rsize = 0;
	if (daos_anchor_is_eof(anchor))
		return 0;
	if (anchor->da_type == DAOS_ANCHOR_TYPE_KEY)
		memcpy(&ra, anchor->da_buf, sizeof(ra));

	evt_list_init(&list);
	rc = list_locate(cont, oid, epoch, dkey, akey, &lc);
	if (rc != 0)
		goto out;
	if (!(lc.lc_akey->kr_bmap & VOS_KREC_ARRAY)) {
		rc = (lc.lc_akey->kr_bmap & VOS_KREC_SINGLE) ? -DER_INVAL : -DER_NONEXIST;
		goto out;
	}
	rc = evt_open(&lc.lc_akey->kr_evt, lc.lc_pool->vp_umm, &tcx);
	if (rc == 0)
		rc = evt_root_summary(tcx, &sum);
	if (rc != 0)
		goto out;
	if (ra.ra_next > sum.cd_mbr_hi) {
		rc = -DER_NONEXIST;
		goto out;
	}
	range.ex_lo = ra.ra_next;
	range.ex_hi = sum.cd_mbr_hi;
	rc = evt_find(tcx, &range, epoch, EVT_FIND_SKIP_HOLES, &list);
	if (rc != 0)
		goto out;
	for (f = 0; f < list.el_nr; f++) {
		const struct evt_frag *frag = &list.el_frags[f];
		const struct evt_extent *ex = &frag->ef_ext;

		if (!frag_visible(frag, &lc.lc_punch))
			continue;
		if (*rsize == 0)
			*rsize = frag->ef_ent.en_payload.pd_rsize;
		if (n > 0 && recxs[n - 1].rx_idx + recxs[n - 1].rx_nr == ex->ex_lo) {
			recxs[n - 1].rx_nr += ex->ex_hi - ex->ex_lo + 1;
			continue;
		}
		if (n == cap) {
			/* resume at this fragment */
			ra.ra_next = ex->ex_lo;
			memcpy(anchor->da_buf, &ra, sizeof(ra));
			anchor->da_type = DAOS_ANCHOR_TYPE_KEY;
			*nr = n;
			goto out;
		}
		recxs[n].rx_idx = ex->ex_lo;
		recxs[n].rx_nr = ex->ex_hi - ex->ex_lo + 1;
		n++;
	}
	*nr = n;
	daos_anchor_set_eof(anchor);
out:
	evt_list_fini(&list);
	if (tcx != NULL)
		evt_close(tcx);
	if (rc == -DER_NONEXIST) {
		daos_anchor_set_eof(anchor);
		rc = 0;
	}
	if (rc != 0)
		D_ERROR("extent enumeration at %" PRIu64 ": " DF_RC "\n", epoch, DP_RC(rc));
	return rc;
}

/*
 * Query key.
 */

struct query_ctx {
	struct vos_pool *qc_pool;
	daos_unit_oid_t qc_oid;
	daos_epoch_t qc_epoch;
	uint32_t qc_flags;
	daos_key_t *qc_dkey;
	daos_key_t *qc_akey;
	daos_recx_t *qc_recx;
};

/*
 * The last (MAX) or first (MIN) visible data fragment of array akey @krec under punch
 * bound @punch, in *@recx: windows of doubling width from the edge of the tree's bounding
 * rectangle, then the window widened until the fragment no longer touches its inner end.
 */
static int
query_recx(struct query_ctx *qc, struct vos_krec_df *krec, const struct ilog_epc *punch)
{
	bool max = qc->qc_flags & DAOS_GET_MAX;
	struct evt_context *tcx;
	struct evt_child_df sum;
	struct evt_extent win, got = {0};
	struct evt_list list;
	uint64_t bottom, top, width = 64;
	bool found = false;
	int rc;

	if (!(krec->kr_bmap & VOS_KREC_ARRAY))
		return -DER_NONEXIST;
	rc = evt_open(&krec->kr_evt, qc->qc_pool->vp_umm, &tcx);
	if (rc != 0)
		return rc;
	evt_list_init(&list);
	rc = evt_root_summary(tcx, &sum);
	if (rc != 0)
		goto out;
	bottom = sum.cd_key.rd_lo;
	top = sum.cd_mbr_hi;
	win.ex_lo = max && top - bottom >= width ? top - width + 1 : bottom;
	win.ex_hi = !max && top - bottom >= width ? bottom + width - 1 : top;
	for (;;) {
		uint32_t f;

		rc = evt_find(tcx, &win, qc->qc_epoch, EVT_FIND_SKIP_HOLES, &list);
		if (rc != 0)
			goto out;
		for (f = 0; f < list.el_nr; f++) {
			const struct evt_frag *frag = &list.el_frags[max ? list.el_nr - 1 - f : f];

			if (frag_visible(frag, punch)) {
				got = frag->ef_ext;
				found = true;
				break;
			}
		}
		if (width < (UINT64_C(1) << 62))
			width *= 2;
		if (found) {
			/* the whole fragment: widen until it does not touch the window's end */
			if (max && got.ex_lo == win.ex_lo && win.ex_lo > bottom) {
				win.ex_hi = got.ex_hi;
				win.ex_lo = win.ex_lo - bottom < width ? bottom : win.ex_lo - width;
				found = false;
				continue;
			}
			if (!max && got.ex_hi == win.ex_hi && win.ex_hi < top) {
				win.ex_lo = got.ex_lo;
				win.ex_hi = top - win.ex_hi < width ? top : win.ex_hi + width;
				found = false;
				continue;
			}
			break;
		}
		if (max ? win.ex_lo == bottom : win.ex_hi == top) {
			rc = -DER_NONEXIST;
			goto out;
		}
		if (max) {
			win.ex_hi = win.ex_lo - 1;
			win.ex_lo = win.ex_hi - bottom < width ? bottom : win.ex_hi - width + 1;
		} else {
			win.ex_lo = win.ex_hi + 1;
			win.ex_hi = top - win.ex_lo < width ? top : win.ex_lo + width - 1;
		}
	}
	qc->qc_recx->rx_idx = got.ex_lo;
	qc->qc_recx->rx_nr = got.ex_hi - got.ex_lo + 1;
out:
	evt_list_fini(&list);
	evt_close(tcx);
	return rc;
}

/* Hand out the uint64 key of @krec in @key: copied if it has a buffer, else borrowed. */
static void
query_key_out(daos_key_t *key, struct vos_krec_df *krec)
{
	if (key->iov_buf != NULL && key->iov_buf_len >= krec->kr_size) {
		memcpy(key->iov_buf, vos_krec2key(krec), krec->kr_size);
		key->iov_len = krec->kr_size;
	} else {
		d_iov_set(key, vos_krec2key(krec), krec->kr_size);
	}
}

static int query_level(struct query_ctx *qc, struct btr_root_df *root, bool dkey,
		       const struct ilog_epc *parent);

/* The level under key @krec (visible, with punch bound @punch). */
static int
query_below(struct query_ctx *qc, struct vos_krec_df *krec, bool dkey, const struct ilog_epc *punch)
{
	if (dkey) {
		if (!(qc->qc_flags & (DAOS_GET_AKEY | DAOS_GET_RECX)))
			return 0;
		return query_level(qc, &krec->kr_btr, false, punch);
	}
	if (!(qc->qc_flags & DAOS_GET_RECX))
		return 0;
	return query_recx(qc, krec, punch);
}

/*
 * One level of keys (dkeys or akeys of the tree at @root, under parent punch bound
 * @parent): the caller's key, or, if the query searches this level, the largest (smallest)
 * visible key under which the levels below find something.
 */
static int
query_level(struct query_ctx *qc, struct btr_root_df *root, bool dkey,
	    const struct ilog_epc *parent)
{
	struct umem_instance *umm = qc->qc_pool->vp_umm;
	daos_key_t *key = dkey ? qc->qc_dkey : qc->qc_akey;
	bool max = qc->qc_flags & DAOS_GET_MAX;
	struct btr_iterator *ih = NULL;
	struct btr_instance *toh = NULL;
	struct vos_krec_df *krec;
	struct ilog_epc punch;
	bool visible;
	int rc;

	if (!(qc->qc_flags & (dkey ? DAOS_GET_DKEY : DAOS_GET_AKEY))) {
		rc = vos_key_find(qc->qc_pool, root, vos_key_feats(qc->qc_oid, dkey), key, false, 0,
				  &krec);
		if (rc == 0)
			rc = vos_ilog_visible(umm, &krec->kr_ilog, qc->qc_epoch, parent, &visible,
					      &punch);
		if (rc != 0)
			return rc;
		return visible ? query_below(qc, krec, dkey, &punch) : -DER_NONEXIST;
	}

	if (root->tr_order == 0)
		return -DER_NONEXIST;
	rc = dbtree_open_inplace_ex(root, umm, qc->qc_pool, &toh);
	if (rc == 0)
		rc = dbtree_iter_prepare(toh, &ih);
	if (rc == 0)
		rc = dbtree_iter_probe(ih, max ? BTR_PROBE_LAST : BTR_PROBE_FIRST, NULL, NULL);
	for (; rc == 0; rc = max ? dbtree_iter_prev(ih) : dbtree_iter_next(ih)) {
		d_iov_t val;

		d_iov_set(&val, NULL, 0);
		rc = dbtree_iter_fetch(ih, NULL, &val, NULL);
		if (rc != 0)
			break;
		krec = val.iov_buf;
		rc = vos_ilog_visible(umm, &krec->kr_ilog, qc->qc_epoch, parent, &visible, &punch);
		if (rc != 0)
			break;
		if (!visible)
			continue;
		rc = query_below(qc, krec, dkey, &punch);
		if (rc == 0)
			query_key_out(key, krec);
		if (rc != -DER_NONEXIST)
			break;
	}
	if (ih != NULL)
		dbtree_iter_finish(ih);
	if (toh != NULL)
		dbtree_close(toh);
	return rc;
}

int
vos_obj_query_key(daos_handle_t coh, daos_unit_oid_t oid, uint32_t flags, daos_epoch_t epoch,
		  daos_key_t *dkey, daos_key_t *akey, daos_recx_t *recx)
{
	struct vos_container *cont = vos_hdl2cont(coh);
	struct query_ctx qc = {0};
	struct vos_obj_df *obj;
	struct ilog_epc punch;
	bool visible;
	int rc;

	if (cont == NULL || epoch == 0 || !(flags & (DAOS_GET_MAX | DAOS_GET_MIN)) ||
	    (flags & DAOS_GET_MAX && flags & DAOS_GET_MIN) ||
	    !(flags & (DAOS_GET_DKEY | DAOS_GET_AKEY | DAOS_GET_RECX)) || dkey == NULL ||
	    ((flags & (DAOS_GET_AKEY | DAOS_GET_RECX)) && akey == NULL) ||
	    ((flags & DAOS_GET_RECX) && recx == NULL)) {
		D_ERROR("bad query key arguments (flags %#x)\n", flags);
		return -DER_INVAL;
	}
	if (((flags & DAOS_GET_DKEY) && !(vos_key_feats(oid, true) & BTR_FEAT_UINT_KEY)) ||
	    ((flags & DAOS_GET_AKEY) && !(vos_key_feats(oid, false) & BTR_FEAT_UINT_KEY))) {
		D_ERROR("query key needs uint64 keys for what it searches (flags %#x)\n", flags);
		return -DER_INVAL;
	}
	if (!(flags & DAOS_GET_DKEY))
		rc = vos_key_check(dkey, vos_key_feats(oid, true));
	else
		rc = 0;
	if (rc == 0 && (flags & DAOS_GET_RECX) && !(flags & DAOS_GET_AKEY))
		rc = vos_key_check(akey, vos_key_feats(oid, false));
	if (rc != 0)
		return rc;
	if (recx != NULL) {
		recx->rx_idx = 0;
		recx->rx_nr = 0;
	}

	qc.qc_pool = cont->vc_pool;
	qc.qc_oid = oid;
	qc.qc_epoch = epoch;
	qc.qc_flags = flags;
	qc.qc_dkey = dkey;
	qc.qc_akey = akey;
	qc.qc_recx = recx;
	rc = vos_obj_find(cont, oid, false, &obj);
	if (rc == 0)
		rc = vos_ilog_visible(qc.qc_pool->vp_umm, &obj->vo_ilog, epoch, NULL, &visible,
				      &punch);
	if (rc == 0)
		rc = query_level(&qc, &obj->vo_tree, true, &punch);
	if (rc != 0 && rc != -DER_NONEXIST)
		D_ERROR("query key (flags %#x) at %" PRIu64 ": " DF_RC "\n", flags, epoch,
			DP_RC(rc));
	return rc;
}
