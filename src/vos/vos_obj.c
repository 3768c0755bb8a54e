/*
 * vos_obj.c: objects and keys of a container -- finding and creating object, dkey and akey
 * records, what their incarnation logs say a reader at an epoch sees, and punches of
 * objects, dkeys and akeys. Sits on the trees of vos_tree.c and on ilog.c; vos_io.c builds
 * updates and fetches on it.
 */
#define D_LOGFAC vos

#include <gurt/common.h>

#include "vos_internal.h"

int
vos_key_check(const daos_key_t *key, uint64_t feats)
{
	if (key == NULL || key->iov_buf == NULL || key->iov_len == 0) {
		D_DEBUG("bad key\n");
		return -DER_INVAL;
	}
	if ((feats & BTR_FEAT_UINT_KEY) && key->iov_len != sizeof(uint64_t)) {
		D_DEBUG("a uint64 key of %zu bytes\n", key->iov_len);
		return -DER_INVAL;
	}
	if ((feats & BTR_FEAT_DIRECT_KEY) && key->iov_len > DBTREE_DIRECT_KEY_MAX)
		return -DER_KEY2BIG;
	if (key->iov_len > VOS_KEY_MAX)
		return -DER_KEY2BIG;
	return 0;
}

/*
 * The lookup cache. An update or fetch of a dkey of an object finds the object in the
 * object index and the dkey in the object's tree: two descents with hashing and key
 * compares. Writers tend to use the same few objects, and the same dkey several times in a
 * row, so each container handle remembers, for VOS_OBJ_CACHE_NR objects (direct-mapped by
 * OID), the object's record and the record of the last dkey used in it. Records never move
 * while they are in their tree, so an entry stays right until its record leaves the tree:
 * every path that can take an object or key record out (aggregation's deletes and
 * detaches, body frees, container destroy) bumps the pool's vp_rm_gen, which makes every
 * entry filled before stale. Entries are filled only outside transactions, with records a
 * committed transaction left (an abort only restores older committed states, so it never
 * removes a cached record), and a hit is still checked against the record itself (the
 * OID, the dkey's bytes).
 */
static inline struct vos_obj_cache *
vos_oc_slot(struct vos_container *cont, daos_unit_oid_t oid)
{
	uint64_t h = oid.id_pub.lo ^ (oid.id_pub.hi * 0x9e3779b97f4a7c15ULL) ^ oid.id_shard;

	h ^= h >> 29;
	return &cont->vc_oc[h % VOS_OBJ_CACHE_NR];
}

static inline bool
vos_oid_same(const daos_unit_oid_t *a, const daos_unit_oid_t *b)
{
	return a->id_pub.lo == b->id_pub.lo && a->id_pub.hi == b->id_pub.hi &&
	       a->id_shard == b->id_shard && a->id_layout_ver == b->id_layout_ver;
}

struct vos_obj_df *
vos_oc_obj(struct vos_container *cont, daos_unit_oid_t oid)
{
	struct vos_obj_cache *oc = vos_oc_slot(cont, oid);
	struct vos_obj_df *obj;

	if (oc->oc_obj == UMOFF_NULL || oc->oc_gen != cont->vc_pool->vp_rm_gen)
		return NULL;
	obj = umem_off2ptr(cont->vc_pool->vp_umm, oc->oc_obj);
	return vos_oid_same(&obj->vo_id, &oid) ? obj : NULL;
}

struct vos_krec_df *
vos_oc_dkey(struct vos_container *cont, struct vos_obj_df *obj, const daos_key_t *dkey)
{
	struct umem_instance *umm = cont->vc_pool->vp_umm;
	struct vos_obj_cache *oc = vos_oc_slot(cont, obj->vo_id);
	struct vos_krec_df *krec;

	if (oc->oc_dkey == UMOFF_NULL || oc->oc_gen != cont->vc_pool->vp_rm_gen ||
	    oc->oc_obj != umem_ptr2off(umm, obj))
		return NULL;
	krec = umem_off2ptr(umm, oc->oc_dkey);
	if (krec->kr_size != dkey->iov_len ||
	    memcmp(vos_krec2key(krec), dkey->iov_buf, dkey->iov_len) != 0)
		return NULL;
	return krec;
}

void
vos_oc_fill(struct vos_container *cont, struct vos_obj_df *obj, struct vos_krec_df *dkrec)
{
	struct umem_instance *umm = cont->vc_pool->vp_umm;
	struct vos_obj_cache *oc = vos_oc_slot(cont, obj->vo_id);

	if (umem_tx_inprogress(umm))
		return; /* an outer transaction may still abort */
	oc->oc_gen = cont->vc_pool->vp_rm_gen;
	oc->oc_obj = umem_ptr2off(umm, obj);
	oc->oc_dkey = dkrec != NULL ? umem_ptr2off(umm, dkrec) : UMOFF_NULL;
}

int
vos_obj_find(struct vos_container *cont, daos_unit_oid_t oid, bool create, struct vos_obj_df **objp)
{
	struct umem_instance *umm = cont->vc_pool->vp_umm;
	struct vos_obj_df *obj;
	d_iov_t key, val;
	umem_off_t off;
	int rc;

	d_iov_set(&key, &oid, sizeof(oid));
	d_iov_set(&val, NULL, 0);
	rc = dbtree_lookup(cont->vc_oi, &key, &val);
	if (rc == 0) {
		*objp = val.iov_buf;
		return 0;
	}
	if (rc != -DER_NONEXIST || !create)
		return rc;

	D_ASSERT(umem_tx_inprogress(umm));
	off = umem_zalloc(umm, sizeof(*obj));
	if (off == UMOFF_NULL)
		return -DER_NOSPACE;
	obj = umem_off2ptr(umm, off);
	obj->vo_id = oid;
	d_iov_set(&val, &off, sizeof(off));
	rc = dbtree_upsert(cont->vc_oi, BTR_UPSERT_INSERT, &key, &val, NULL);
	if (rc != 0)
		return rc;
	rc = umem_tx_add_ptr(umm, &cont->vc_df->cd_nobjs, sizeof(cont->vc_df->cd_nobjs));
	if (rc != 0)
		return rc;
	cont->vc_df->cd_nobjs++;
	*objp = obj;
	return 0;
}

static int
key_find(struct vos_pool *pool, struct btr_root_df *root, uint64_t feats, daos_key_t *key,
	 bool create, uint8_t bmap, struct vos_krec_df **krecp, bool *created)
{
	struct umem_instance *umm = pool->vp_umm;
	struct btr_instance *toh;
	struct vos_krec_df *krec;
	struct dbtree_buf tbuf;
	d_iov_t val;
	umem_off_t off;
	int rc;

	if (root->tr_order == 0) {
		if (!create)
			return -DER_NONEXIST;
		rc = dbtree_create_inplace_buf(VOS_BTR_KEY, feats, BTR_ORDER_DEFAULT, umm, root,
					       pool, &tbuf, &toh);
	} else {
		rc = dbtree_open_inplace_buf(root, umm, pool, &tbuf, &toh);
	}
	if (rc != 0)
		return rc;

	d_iov_set(&val, NULL, 0);
	rc = dbtree_lookup(toh, key, &val);
	if (rc == 0) {
		*krecp = val.iov_buf;
		goto out_close;
	}
	if (rc != -DER_NONEXIST || !create)
		goto out_close;

	off = umem_zalloc(umm, sizeof(*krec) + key->iov_len);
	if (off == UMOFF_NULL) {
		rc = -DER_NOSPACE;
		goto out_close;
	}
	krec = umem_off2ptr(umm, off);
	krec->kr_bmap = bmap;
	krec->kr_size = (uint32_t)key->iov_len;
	memcpy(vos_krec2key(krec), key->iov_buf, key->iov_len);
	d_iov_set(&val, &off, sizeof(off));
	rc = dbtree_insert_probed(toh, key, &val);
	if (rc == 0) {
		*krecp = krec;
		if (created != NULL)
			*created = true;
	}
out_close:
	dbtree_close(toh);
	return rc;
}

int
vos_key_find(struct vos_pool *pool, struct btr_root_df *root, uint64_t feats, daos_key_t *key,
	     bool create, uint8_t bmap, struct vos_krec_df **krecp)
{
	return key_find(pool, root, feats, key, create, bmap, krecp, NULL);
}

int
vos_key_find_add(struct vos_pool *pool, struct btr_root_df *root, uint64_t feats, daos_key_t *key,
		 uint8_t bmap, struct vos_krec_df **krecp, bool *created)
{
	*created = false;
	return key_find(pool, root, feats, key, true, bmap, krecp, created);
}

int
vos_ilog_visible(struct umem_instance *umm, const struct ilog_df *ilog, daos_epoch_t epoch,
		 const struct ilog_epc *parent, bool *visible, struct ilog_epc *punch)
{
	struct ilog_info info;
	int rc;

	rc = ilog_query(umm, ilog, epoch, &info);
	if (rc != 0)
		return rc;
	*punch = info.ii_punch;
	*visible = info.ii_visible;
	if (parent == NULL)
		return 0;
	/* the key's newest create must be newer than the parent's punch */
	if (info.ii_visible && ilog_epc_punched(info.ii_last_create, VOS_MINOR_EPC, parent))
		*visible = false;
	if (parent->ec_epoch > punch->ec_epoch ||
	    (parent->ec_epoch == punch->ec_epoch && parent->ec_minor > punch->ec_minor))
		*punch = *parent;
	return 0;
}

/*
 * Punch.
 */

static int
punch_key(struct vos_pool *pool, struct btr_root_df *root, uint64_t feats, daos_key_t *key,
	  uint8_t bmap, daos_epoch_t epoch, uint64_t flags, const struct ilog_epc *parent)
{
	struct vos_krec_df *krec;
	struct ilog_epc punch;
	bool visible = false;
	int rc;

	rc = vos_key_find(pool, root, feats, key, false, 0, &krec);
	if (rc == 0)
		rc =
		    vos_ilog_visible(pool->vp_umm, &krec->kr_ilog, epoch, parent, &visible, &punch);
	if (rc != 0 && rc != -DER_NONEXIST)
		return rc;
	if ((flags & DAOS_COND_PUNCH) && !visible)
		return -DER_NONEXIST;
	if (rc == -DER_NONEXIST) {
		/* record the punch all the same: an older update applied later must stay hidden */
		rc = vos_key_find(pool, root, feats, key, true, bmap, &krec);
		if (rc != 0)
			return rc;
	}
	return ilog_update(pool->vp_umm, &krec->kr_ilog, epoch, VOS_MINOR_EPC, true);
}

static int
punch_once(struct vos_container *cont, daos_unit_oid_t oid, daos_epoch_t epoch, uint64_t flags,
	   daos_key_t *dkey, unsigned int akey_nr, daos_key_t *akeys)
{
	struct vos_pool *pool = cont->vc_pool;
	struct umem_instance *umm = pool->vp_umm;
	struct ilog_epc obj_punch = {0}, dkey_punch;
	struct vos_krec_df *dkrec = NULL;
	struct vos_obj_df *obj;
	bool visible = false;
	unsigned int i;
	int rc;

	rc = umem_tx_begin(umm);
	if (rc != 0)
		return rc;
	rc = vos_obj_find(cont, oid, false, &obj);
	if (rc == 0)
		rc = vos_ilog_visible(umm, &obj->vo_ilog, epoch, NULL, &visible, &obj_punch);
	if (rc == -DER_NONEXIST) {
		if (dkey == NULL && (flags & DAOS_COND_PUNCH))
			goto out;
		rc = vos_obj_find(cont, oid, true, &obj);
	}
	if (rc != 0)
		goto out;

	if (dkey == NULL) {
		if ((flags & DAOS_COND_PUNCH) && !visible) {
			rc = -DER_NONEXIST;
			goto out;
		}
		rc = ilog_update(umm, &obj->vo_ilog, epoch, VOS_MINOR_EPC, true);
		goto out;
	}

	if (akey_nr == 0) {
		rc = punch_key(pool, &obj->vo_tree, vos_key_feats(oid, true), dkey, VOS_KREC_DKEY,
			       epoch, flags, &obj_punch);
	} else {
		/* the dkey must be visible for a conditional punch of its akeys */
		rc = vos_key_find(pool, &obj->vo_tree, vos_key_feats(oid, true), dkey, false, 0,
				  &dkrec);
		if (rc == 0)
			rc = vos_ilog_visible(umm, &dkrec->kr_ilog, epoch, &obj_punch, &visible,
					      &dkey_punch);
		if (rc == -DER_NONEXIST && !(flags & DAOS_COND_PUNCH)) {
			dkey_punch = obj_punch;
			rc = vos_key_find(pool, &obj->vo_tree, vos_key_feats(oid, true), dkey, true,
					  VOS_KREC_DKEY, &dkrec);
		}
		if (rc != 0)
			goto out;
		if ((flags & DAOS_COND_PUNCH) && !visible) {
			rc = -DER_NONEXIST;
			goto out;
		}
		for (i = 0; i < akey_nr && rc == 0; i++)
			rc = punch_key(pool, &dkrec->kr_btr, vos_key_feats(oid, false), &akeys[i],
				       0, epoch, flags, &dkey_punch);
		/* punching under a key is a change of the key: it exists at the epoch */
		if (rc == 0)
			rc = ilog_update(umm, &dkrec->kr_ilog, epoch, VOS_MINOR_EPC, false);
	}
	if (rc == 0)
		rc = ilog_update(umm, &obj->vo_ilog, epoch, VOS_MINOR_EPC, false);
out:
	return umem_tx_end(umm, rc);
}

int
vos_obj_punch(daos_handle_t coh, daos_unit_oid_t oid, daos_epoch_t epoch, uint32_t pm_ver,
	      uint64_t flags, daos_key_t *dkey, unsigned int akey_nr, daos_key_t *akeys,
	      struct dtx_handle *dth)
{
	struct vos_container *cont = vos_hdl2cont(coh);
	unsigned int i, attempt;
	int rc;

	(void)pm_ver;
	if (cont == NULL || dth != NULL || epoch == 0 || epoch == DAOS_EPOCH_MAX ||
	    (akey_nr > 0 && (dkey == NULL || akeys == NULL))) {
		D_ERROR("bad punch arguments (epoch %" PRIu64 ")\n", epoch);
		return -DER_INVAL;
	}
	if (dkey != NULL) {
		rc = vos_key_check(dkey, vos_key_feats(oid, true));
		for (i = 0; i < akey_nr && rc == 0; i++)
			rc = vos_key_check(&akeys[i], vos_key_feats(oid, false));
		if (rc != 0)
			return rc;
	}
	for (attempt = 0;; attempt++) {
		rc = punch_once(cont, oid, epoch, flags, dkey, akey_nr, akeys);
		if (rc == 0 || attempt == VOS_TX_RETRY_MAX)
			break;
		rc = vos_tx_make_room(cont->vc_pool, rc);
		if (rc != 0)
			break;
	}
	if (rc != 0 && rc != -DER_NONEXIST)
		D_DEBUG("punch of %#" PRIx64 ".%#" PRIx64 " at %" PRIu64 ": " DF_RC "\n",
			oid.id_pub.hi, oid.id_pub.lo, epoch, DP_RC(rc));
	return rc;
}
