/*
 * vos_tree.c: the dbtree classes of the VOS index -- container table, object index, dkey
 * and akey trees, single-value trees -- and the freeing of what their records hold. Sits
 * on btree.c, evtree.c, ilog.c and vea.c; used by vos_cont.c, vos_obj.c and vos_io.c.
 *
 * Every class here stores a body allocated by its caller (the value of an upsert is the
 * body's offset), so the trees never allocate bodies themselves; freeing a record frees
 * everything under it (incarnation log, sub-trees, value payloads in the heap or the data
 * file), which is what container destroy relies on.
 */
#define D_LOGFAC vos

#include <pthread.h>

#include <gurt/common.h>

#include "vos_internal.h"

/* Hand out @len bytes at @ptr the way to_rec_fetch must: point at them or copy them. */
static int
vos_iov_out(d_iov_t *iov, void *ptr, size_t len)
{
	if (iov == NULL)
		return 0;
	if (iov->iov_buf == NULL) {
		iov->iov_buf = ptr;
		iov->iov_buf_len = len;
	} else if (iov->iov_buf_len >= len) {
		memcpy(iov->iov_buf, ptr, len);
	}
	iov->iov_len = len;
	return 0;
}

/* The body given to an upsert: its offset, in the value iov. */
static int
vos_rec_alloc_body(struct btr_instance *tins, const d_iov_t *key, const d_iov_t *val,
		   struct btr_record *rec)
{
	(void)tins;
	(void)key;
	if (val == NULL || val->iov_len != sizeof(umem_off_t))
		return -DER_INVAL;
	rec->rec_off = *(const umem_off_t *)val->iov_buf;
	return 0;
}

static struct vos_pool *
vos_tins2pool(struct btr_instance *tins, void *args)
{
	return args != NULL ? args : tins->ti_priv;
}

/*
 * Container table.
 */

static int
cont_key_cmp(struct btr_instance *tins, const struct btr_record *rec, const d_iov_t *key)
{
	struct vos_cont_df *cd = umem_off2ptr(tins->ti_umm, rec->rec_off);

	return memcmp(cd->cd_id, key->iov_buf, sizeof(uuid_t));
}

int
vos_cont_body_free(struct umem_instance *umm, struct vos_pool *pool, umem_off_t off)
{
	struct vos_cont_df *cd = umem_off2ptr(umm, off);
	struct btr_instance *toh;
	int rc;

	if (cd->cd_obj_root.tr_order != 0) {
		rc = dbtree_open_inplace_ex(&cd->cd_obj_root, umm, pool, &toh);
		if (rc != 0)
			return rc;
		rc = dbtree_destroy(toh, pool);
		if (rc != 0)
			return rc;
	}
	return umem_free(umm, off);
}

static int
cont_rec_free(struct btr_instance *tins, struct btr_record *rec, void *args)
{
	return vos_cont_body_free(tins->ti_umm, vos_tins2pool(tins, args), rec->rec_off);
}

static int
cont_rec_fetch(struct btr_instance *tins, const struct btr_record *rec, d_iov_t *key, d_iov_t *val)
{
	struct vos_cont_df *cd = umem_off2ptr(tins->ti_umm, rec->rec_off);

	vos_iov_out(key, cd->cd_id, sizeof(uuid_t));
	return vos_iov_out(val, cd, sizeof(*cd));
}

static const btr_ops_t vos_cont_ops = {
    .to_key_cmp = cont_key_cmp,
    .to_rec_alloc = vos_rec_alloc_body,
    .to_rec_free = cont_rec_free,
    .to_rec_fetch = cont_rec_fetch,
};

/*
 * Object index.
 */

static int
oid_cmp(const daos_unit_oid_t *a, const daos_unit_oid_t *b)
{
	int rc = daos_unit_oid_compare(*a, *b);

	if (rc != 0)
		return rc;
	if (a->id_layout_ver != b->id_layout_ver)
		return a->id_layout_ver < b->id_layout_ver ? -1 : 1;
	return 0;
}

static int
obj_key_cmp(struct btr_instance *tins, const struct btr_record *rec, const d_iov_t *key)
{
	struct vos_obj_df *obj = umem_off2ptr(tins->ti_umm, rec->rec_off);
	daos_unit_oid_t oid;

	memcpy(&oid, key->iov_buf, sizeof(oid));
	return oid_cmp(&obj->vo_id, &oid);
}

int
vos_obj_body_free(struct umem_instance *umm, struct vos_pool *pool, umem_off_t off)
{
	struct vos_obj_df *obj = umem_off2ptr(umm, off);
	struct btr_instance *toh;
	int rc;

	if (pool != NULL)
		vos_oc_invalidate(pool); /* the record leaves the heap */
	rc = ilog_destroy(umm, &obj->vo_ilog);
	if (rc != 0)
		return rc;
	if (obj->vo_tree.tr_order != 0) {
		rc = dbtree_open_inplace_ex(&obj->vo_tree, umm, pool, &toh);
		if (rc != 0)
			return rc;
		rc = dbtree_destroy(toh, pool);
		if (rc != 0)
			return rc;
	}
	return umem_free(umm, off);
}

static int
obj_rec_free(struct btr_instance *tins, struct btr_record *rec, void *args)
{
	return vos_obj_body_free(tins->ti_umm, vos_tins2pool(tins, args), rec->rec_off);
}

static int
obj_rec_fetch(struct btr_instance *tins, const struct btr_record *rec, d_iov_t *key, d_iov_t *val)
{
	struct vos_obj_df *obj = umem_off2ptr(tins->ti_umm, rec->rec_off);

	vos_iov_out(key, &obj->vo_id, sizeof(obj->vo_id));
	return vos_iov_out(val, obj, sizeof(*obj));
}

static const btr_ops_t vos_obj_ops = {
    .to_key_cmp = obj_key_cmp,
    .to_rec_alloc = vos_rec_alloc_body,
    .to_rec_free = obj_rec_free,
    .to_rec_fetch = obj_rec_fetch,
};

/*
 * dkey and akey trees. Hashed trees order by murmur64 and break ties with the full key;
 * lexical trees order by the bytes (a shorter key before its extensions); uint64 trees
 * need no comparison.
 */

static int
key_key_cmp(struct btr_instance *tins, const struct btr_record *rec, const d_iov_t *key)
{
	struct vos_krec_df *krec = umem_off2ptr(tins->ti_umm, rec->rec_off);
	size_t len = krec->kr_size < key->iov_len ? krec->kr_size : key->iov_len;
	int rc;

	rc = memcmp(vos_krec2key(krec), key->iov_buf, len);
	if (rc != 0)
		return rc;
	if (krec->kr_size == key->iov_len)
		return 0;
	return krec->kr_size < key->iov_len ? -1 : 1;
}

/* Free what hangs under a key record: its log and its sub-tree (values included). */
static int
krec_free_children(struct umem_instance *umm, struct vos_pool *pool, struct vos_krec_df *krec)
{
	struct btr_instance *toh;
	struct evt_context *tcx;
	int rc;

	rc = ilog_destroy(umm, &krec->kr_ilog);
	if (rc != 0)
		return rc;
	if (krec->kr_bmap & VOS_KREC_ARRAY) {
		rc = evt_open(&krec->kr_evt, umm, &tcx);
		if (rc == -DER_NONEXIST)
			return 0;
		if (rc != 0)
			return rc;
		rc = evt_destroy(tcx, vos_ent_payload_free, pool);
		if (rc != 0)
			evt_close(tcx);
		return rc;
	}
	if (krec->kr_btr.tr_order == 0)
		return 0;
	rc = dbtree_open_inplace_ex(&krec->kr_btr, umm, pool, &toh);
	if (rc != 0)
		return rc;
	return dbtree_destroy(toh, pool);
}

int
vos_krec_body_free(struct umem_instance *umm, struct vos_pool *pool, umem_off_t off)
{
	int rc;

	if (pool != NULL)
		vos_oc_invalidate(pool); /* the record leaves the heap */
	rc = krec_free_children(umm, pool, umem_off2ptr(umm, off));
	if (rc != 0)
		return rc;
	return umem_free(umm, off);
}

static int
key_rec_free(struct btr_instance *tins, struct btr_record *rec, void *args)
{
	return vos_krec_body_free(tins->ti_umm, vos_tins2pool(tins, args), rec->rec_off);
}

static int
key_rec_fetch(struct btr_instance *tins, const struct btr_record *rec, d_iov_t *key, d_iov_t *val)
{
	struct vos_krec_df *krec = umem_off2ptr(tins->ti_umm, rec->rec_off);

	vos_iov_out(key, vos_krec2key(krec), krec->kr_size);
	return vos_iov_out(val, krec, sizeof(*krec));
}

static const btr_ops_t vos_key_ops = {
    .to_key_cmp = key_key_cmp,
    .to_rec_alloc = vos_rec_alloc_body,
    .to_rec_free = key_rec_free,
    .to_rec_fetch = key_rec_fetch,
};

/*
 * Single-value trees: one record per (epoch, minor epoch) version.
 */

static int
singv_key_cmp(struct btr_instance *tins, const struct btr_record *rec, const d_iov_t *key)
{
	struct vos_irec_df *irec = umem_off2ptr(tins->ti_umm, rec->rec_off);
	struct vos_singv_key k;

	memcpy(&k, key->iov_buf, sizeof(k));
	if (irec->ir_key.sk_epoch != k.sk_epoch)
		return irec->ir_key.sk_epoch < k.sk_epoch ? -1 : 1;
	if (irec->ir_key.sk_minor != k.sk_minor)
		return irec->ir_key.sk_minor < k.sk_minor ? -1 : 1;
	return 0;
}

/* Free one version of a single value and its data blocks. */
static int
irec_free(struct umem_instance *umm, struct vos_pool *pool, umem_off_t off)
{
	struct vos_irec_df *irec = umem_off2ptr(umm, off);
	int rc;

	if (irec->ir_media == VOS_MEDIA_DATA && irec->ir_size > 0) {
		rc = vea_free(pool->vp_vea, umm, irec->ir_addr / VOS_BLK_SIZE,
			      vos_data_bytes(irec->ir_size) / VOS_BLK_SIZE);
		if (rc != 0) {
			D_ERROR("cannot free the data of a single value at %" PRIu64 ": " DF_RC
				"\n",
				irec->ir_addr, DP_RC(rc));
			return rc;
		}
	}
	return umem_free(umm, off);
}

static int
singv_rec_free(struct btr_instance *tins, struct btr_record *rec, void *args)
{
	return irec_free(tins->ti_umm, vos_tins2pool(tins, args), rec->rec_off);
}

static int
singv_rec_fetch(struct btr_instance *tins, const struct btr_record *rec, d_iov_t *key, d_iov_t *val)
{
	struct vos_irec_df *irec = umem_off2ptr(tins->ti_umm, rec->rec_off);

	vos_iov_out(key, &irec->ir_key, sizeof(irec->ir_key));
	return vos_iov_out(val, irec, sizeof(*irec));
}

/* A rewrite of the same (epoch, minor): the new version replaces the old one. */
static int
singv_rec_update(struct btr_instance *tins, struct btr_record *rec, const d_iov_t *key,
		 const d_iov_t *val)
{
	umem_off_t old = rec->rec_off;
	int rc;

	rc = vos_rec_alloc_body(tins, key, val, rec);
	if (rc != 0)
		return rc;
	return irec_free(tins->ti_umm, tins->ti_priv, old);
}

static const btr_ops_t vos_singv_ops = {
    .to_key_cmp = singv_key_cmp,
    .to_rec_alloc = vos_rec_alloc_body,
    .to_rec_free = singv_rec_free,
    .to_rec_fetch = singv_rec_fetch,
    .to_rec_update = singv_rec_update,
};

int
vos_ent_payload_free(struct umem_instance *umm, const struct evt_entry *ent, void *arg)
{
	const struct evt_payload_df *pd = &ent->en_payload;
	struct vos_pool *pool = arg;
	uint64_t bytes;

	if ((ent->en_flags & EVT_ENT_HOLE) || pd->pd_rsize == 0)
		return 0;
	bytes = (ent->en_rect.rc_ex.ex_hi - ent->en_rect.rc_ex.ex_lo + 1) * pd->pd_rsize;
	if (pd->pd_type == VOS_MEDIA_DATA)
		return vea_free(pool->vp_vea, umm, pd->pd_addr / VOS_BLK_SIZE,
				vos_data_bytes(bytes) / VOS_BLK_SIZE);
	return umem_free(umm, pd->pd_addr);
}

/*
 * Registration.
 */

static pthread_once_t vos_tree_once = PTHREAD_ONCE_INIT;
static int vos_tree_rc;

static void
vos_tree_register(void)
{
	vos_tree_rc = dbtree_class_register(VOS_BTR_CONT, BTR_FEAT_DIRECT_KEY, &vos_cont_ops);
	if (vos_tree_rc == 0)
		vos_tree_rc = dbtree_class_register(VOS_BTR_OBJ, BTR_FEAT_DIRECT_KEY, &vos_obj_ops);
	if (vos_tree_rc == 0)
		vos_tree_rc = dbtree_class_register(
		    VOS_BTR_KEY, BTR_FEAT_DIRECT_KEY | BTR_FEAT_UINT_KEY, &vos_key_ops);
	if (vos_tree_rc == 0)
		vos_tree_rc =
		    dbtree_class_register(VOS_BTR_SINGV, BTR_FEAT_DIRECT_KEY, &vos_singv_ops);
	if (vos_tree_rc != 0)
		D_ERROR("cannot register the VOS tree classes: " DF_RC "\n", DP_RC(vos_tree_rc));
}

int
vos_tree_init(void)
{
	pthread_once(&vos_tree_once, vos_tree_register);
	return vos_tree_rc;
}

uint64_t
vos_key_feats(daos_unit_oid_t oid, bool dkey)
{
	enum daos_otype_t type = daos_obj_id2type(oid.id_pub);

	if (dkey) {
		if (daos_is_dkey_uint64_type(type))
			return BTR_FEAT_UINT_KEY;
		if (daos_is_dkey_lexical_type(type))
			return BTR_FEAT_DIRECT_KEY;
		return 0;
	}
	if (daos_is_akey_uint64_type(type))
		return BTR_FEAT_UINT_KEY;
	if (daos_is_akey_lexical_type(type))
		return BTR_FEAT_DIRECT_KEY;
	return 0;
}
