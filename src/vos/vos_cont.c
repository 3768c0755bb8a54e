/*
 * vos_cont.c: containers of a pool shard -- create, open, close, destroy, query -- and the
 * retry of transactions that found the WAL full. Sits on vos_pool.c (the heap, the WAL)
 * and the tree classes of vos_tree.c; vos_obj.c and vos_io.c work inside open containers.
 *
 * Destroy takes the container's record out of the table and puts it in the pool's GC bin
 * in one short transaction; garbage collection (vos_gc.c) frees what it holds in bounded
 * steps. (Containers marked VOS_CONT_DESTROYING by the batched destroy of earlier versions
 * cannot be opened; destroying them again hands them to GC.)
 */
#define D_LOGFAC vos

#include <gurt/common.h>

#include "vos_internal.h"
#include "vos_meta.h"

int
vos_tx_make_room(struct vos_pool *pool, int rc)
{
	return vos_pool_make_room(vos_pool2hdl(pool), rc);
}

/* Open the container table, creating it with @create. */
static int
cont_table_open(struct vos_pool *pool, bool create, struct btr_instance **toh)
{
	struct btr_root_df *root = &pool->vp_df->pd_cont_table;
	int rc;

	rc = vos_tree_init();
	if (rc != 0)
		return rc;
	if (root->tr_order != 0)
		return dbtree_open_inplace_ex(root, pool->vp_umm, pool, toh);
	if (!create)
		return -DER_NONEXIST;
	return dbtree_create_inplace_ex(VOS_BTR_CONT, BTR_FEAT_DIRECT_KEY, BTR_ORDER_DEFAULT,
					pool->vp_umm, root, pool, toh);
}

/* Find container @uuid: *@cd borrowed. -DER_NONEXIST if absent, -DER_INVAL if damaged. */
static int
cont_lookup(struct btr_instance *toh, struct umem_instance *umm, const uuid_t uuid,
	    struct vos_cont_df **cd)
{
	d_iov_t key, val;
	int rc;

	d_iov_set(&key, (void *)uuid, sizeof(uuid_t));
	d_iov_set(&val, NULL, 0);
	rc = dbtree_lookup(toh, &key, &val);
	if (rc != 0)
		return rc;
	*cd = val.iov_buf;
	if (umem_alloc_size(umm, umem_ptr2off(umm, *cd)) < sizeof(**cd) ||
	    (*cd)->cd_magic != VOS_CONT_MAGIC) {
		D_ERROR("container " DF_UUID ": damaged record\n", DP_UUID(uuid));
		return -DER_INVAL;
	}
	return 0;
}

static int
cont_create_once(struct vos_pool *pool, const uuid_t co_uuid)
{
	struct umem_instance *umm = pool->vp_umm;
	struct btr_instance *toh = NULL, *oi;
	struct vos_cont_df *cd;
	d_iov_t key, val;
	umem_off_t off;
	int rc;

	rc = umem_tx_begin(umm);
	if (rc != 0)
		return rc;
	rc = cont_table_open(pool, true, &toh);
	if (rc != 0)
		goto out;
	rc = cont_lookup(toh, umm, co_uuid, &cd);
	if (rc == 0)
		rc = -DER_EXIST;
	if (rc != -DER_NONEXIST)
		goto out;
	off = umem_zalloc(umm, sizeof(*cd));
	if (off == UMOFF_NULL) {
		rc = -DER_NOSPACE;
		goto out;
	}
	cd = umem_off2ptr(umm, off);
	uuid_copy(cd->cd_id, co_uuid);
	cd->cd_magic = VOS_CONT_MAGIC;
	rc = dbtree_create_inplace_ex(VOS_BTR_OBJ, BTR_FEAT_DIRECT_KEY, BTR_ORDER_DEFAULT, umm,
				      &cd->cd_obj_root, pool, &oi);
	if (rc != 0)
		goto out;
	dbtree_close(oi);
	d_iov_set(&key, (void *)co_uuid, sizeof(uuid_t));
	d_iov_set(&val, &off, sizeof(off));
	rc = dbtree_upsert(toh, BTR_UPSERT_INSERT, &key, &val, NULL);
out:
	if (toh != NULL)
		dbtree_close(toh);
	return umem_tx_end(umm, rc);
}

int
vos_cont_create(daos_handle_t poh, const uuid_t co_uuid)
{
	struct vos_pool *pool = vos_hdl2pool(poh);
	unsigned int attempt;
	int rc;

	if (pool == NULL || co_uuid == NULL)
		return -DER_INVAL;
	for (attempt = 0;; attempt++) {
		rc = cont_create_once(pool, co_uuid);
		if (rc == 0 || attempt == VOS_TX_RETRY_MAX)
			break;
		rc = vos_tx_make_room(pool, rc);
		if (rc != 0)
			break;
	}
	if (rc != 0)
		D_DEBUG("container " DF_UUID ": create: " DF_RC "\n", DP_UUID(co_uuid), DP_RC(rc));
	return rc;
}

int
vos_cont_open(daos_handle_t poh, const uuid_t co_uuid, daos_handle_t *coh)
{
	struct vos_pool *pool = vos_hdl2pool(poh);
	struct vos_container *cont;
	struct btr_instance *toh;
	struct vos_cont_df *cd;
	int rc;

	if (pool == NULL || co_uuid == NULL || coh == NULL)
		return -DER_INVAL;
	rc = cont_table_open(pool, false, &toh);
	if (rc != 0)
		return rc;
	rc = cont_lookup(toh, pool->vp_umm, co_uuid, &cd);
	dbtree_close(toh);
	if (rc != 0)
		return rc;
	if (cd->cd_flags & VOS_CONT_DESTROYING)
		return -DER_NONEXIST;

	D_ALLOC_PTR(cont);
	if (cont == NULL)
		return -DER_NOMEM;
	rc = dbtree_open_inplace_ex(&cd->cd_obj_root, pool->vp_umm, pool, &cont->vc_oi);
	if (rc != 0) {
		D_ERROR("container " DF_UUID ": bad object index: " DF_RC "\n", DP_UUID(co_uuid),
			DP_RC(rc));
		D_FREE(cont);
		return rc;
	}
	uuid_copy(cont->vc_id, co_uuid);
	cont->vc_pool = pool;
	cont->vc_df = cd;
	d_list_add(&cont->vc_link, &pool->vp_cont_handles);
	coh->cookie = (uint64_t)(uintptr_t)cont;
	return 0;
}

int
vos_cont_close(daos_handle_t coh)
{
	struct vos_container *cont = vos_hdl2cont(coh);

	if (cont == NULL)
		return -DER_NO_HDL;
	d_list_del(&cont->vc_link);
	dbtree_close(cont->vc_oi);
	D_FREE(cont);
	return 0;
}

int
vos_cont_query(daos_handle_t coh, struct vos_cont_info *info)
{
	struct vos_container *cont = vos_hdl2cont(coh);

	if (cont == NULL || info == NULL)
		return -DER_INVAL;
	memset(info, 0, sizeof(*info));
	uuid_copy(info->ci_uuid, cont->vc_id);
	info->ci_nobjs = cont->vc_df->cd_nobjs;
	info->ci_used_scm = cont->vc_df->cd_used_scm;
	info->ci_used_data = cont->vc_df->cd_used_data;
	info->ci_used = info->ci_used_scm + info->ci_used_data;
	return 0;
}

daos_handle_t
vos_cont2poh(daos_handle_t coh)
{
	return vos_pool2hdl(vos_hdl2cont(coh)->vc_pool);
}

static bool
cont_is_open(struct vos_pool *pool, const uuid_t co_uuid)
{
	struct vos_container *cont;

	d_list_for_each_entry (cont, &pool->vp_cont_handles, vc_link)
		if (uuid_compare(cont->vc_id, co_uuid) == 0)
			return true;
	return false;
}

/*
 * Destroy: detach the record from the table into the pool's GC bin, in one transaction.
 */
static int
cont_destroy_tx(struct vos_pool *pool, const uuid_t co_uuid)
{
	struct umem_instance *umm = pool->vp_umm;
	struct btr_instance *toh = NULL;
	struct vos_cont_df *cd;
	umem_off_t body;
	d_iov_t key;
	int rc;

	rc = umem_tx_begin(umm);
	if (rc != 0)
		return rc;
	rc = cont_table_open(pool, false, &toh);
	if (rc == 0)
		rc = cont_lookup(toh, umm, co_uuid, &cd);
	if (rc != 0)
		goto out;
	d_iov_set(&key, (void *)co_uuid, sizeof(uuid_t));
	vos_oc_invalidate(pool); /* (its handles are closed; cheap insurance) */
	rc = dbtree_detach(toh, &key, &body);
	if (rc == 0)
		rc = vos_gc_add_cont(pool, body);
out:
	if (toh != NULL)
		dbtree_close(toh);
	return umem_tx_end(umm, rc);
}

int
vos_cont_destroy(daos_handle_t poh, const uuid_t co_uuid)
{
	struct vos_pool *pool = vos_hdl2pool(poh);
	unsigned int attempt;
	int rc;

	if (pool == NULL || co_uuid == NULL)
		return -DER_INVAL;
	if (cont_is_open(pool, co_uuid)) {
		D_ERROR("container " DF_UUID " is open: cannot destroy it\n", DP_UUID(co_uuid));
		return -DER_BUSY;
	}
	for (attempt = 0;; attempt++) {
		rc = cont_destroy_tx(pool, co_uuid);
		if (rc == 0 || rc == -DER_NONEXIST || attempt == VOS_TX_RETRY_MAX)
			break;
		rc = vos_tx_make_room(pool, rc);
		if (rc != 0)
			break;
	}
	if (rc != 0 && rc != -DER_NONEXIST)
		D_ERROR("container " DF_UUID ": destroy failed: " DF_RC "\n", DP_UUID(co_uuid),
			DP_RC(rc));
	return rc;
}
