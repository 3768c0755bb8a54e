/*
 * vos_gc.c: garbage collection -- freeing, in bounded steps, the subtrees that container
 * destroy and aggregation detach. Sits on the trees of vos_tree.c and on VEA; driven by
 * vos_pool_poll (vos_pool.c) or by vos_gc_pool.
 *
 * Bins. The pool's bin (vos_pool_df::pd_gc_bin) holds destroyed containers, linked
 * through cd_gc_next; each container has a bin of objects (cd_gc_objs, linked through
 * vo_gc_next) and one of dkeys and akeys (cd_gc_keys, linked through a vos_gc_link_df
 * that overlays the key's emptied incarnation log) that aggregation found dead. The links
 * live in the detached bodies, so nothing is allocated to put a subtree in a bin: destroy
 * and aggregation work in a full pool. Detaching a subtree and linking it happen in one
 * transaction, so the subtree is never both reachable and in a bin, nor lost.
 *
 * A step is one transaction: it takes the first container of the pool's bin (its own bins
 * first, then its object index), else the first container in the table whose bins are not
 * empty; it deletes up to @credits records of the first subtree there, values first (a
 * single-value version, an extent, or a key whose subtree is already empty each cost
 * one), and once the subtree is empty unlinks and frees its body.
 *
 * Invariants:
 * 1. Every record freed leaves the heap in the step's transaction; data blocks go back
 *    through vea_free and become reusable once that transaction is durable (vea_tx_end
 *    after every step, vea_flush from the poller).
 * 2. The value bytes a step frees from a container's bin leave that container's accounting
 *    (cd_used_*) in the same transaction, so the accounting is exact after any crash.
 * 3. A crash between steps leaves bins of whole subtrees, some partly emptied: the
 *    next step after reopen continues; nothing else needs recovery.
 * 4. vp_gc_idle is only a hint for the poller: set when a step found nothing, cleared by
 *    every vos_gc_add_* and at open.
 */
#define D_LOGFAC vos

#include <signal.h>
#include <unistd.h>

#include <gurt/common.h>
#include <gurt/fault_inject.h>

#include "vos_internal.h"

struct gc_ctx {
	struct vos_pool *gc_pool;
	struct umem_instance *gc_umm;
	int gc_credits;
	uint64_t gc_scm;  /* value bytes freed: heap */
	uint64_t gc_data; /* data-file bytes freed */
	int gc_freed;     /* records freed */
};

int
vos_gc_add_cont(struct vos_pool *pool, umem_off_t body)
{
	struct umem_instance *umm = pool->vp_umm;
	struct vos_cont_df *cd = umem_off2ptr(umm, body);
	uint64_t *bin = &pool->vp_df->pd_gc_bin;
	int rc;

	D_ASSERT(umem_tx_inprogress(umm));
	rc = umem_tx_add_ptr(umm, &cd->cd_gc_next, sizeof(cd->cd_gc_next));
	if (rc == 0)
		rc = umem_tx_add_ptr(umm, bin, sizeof(*bin));
	if (rc != 0)
		return rc;
	cd->cd_gc_next = *bin;
	*bin = body;
	pool->vp_gc_idle = false;
	return 0;
}

int
vos_gc_add_obj(struct vos_pool *pool, struct vos_cont_df *cd, umem_off_t body)
{
	struct umem_instance *umm = pool->vp_umm;
	struct vos_obj_df *obj = umem_off2ptr(umm, body);
	int rc;

	D_ASSERT(umem_tx_inprogress(umm));
	rc = umem_tx_add_ptr(umm, &obj->vo_gc_next, sizeof(obj->vo_gc_next));
	if (rc == 0)
		rc = umem_tx_add_ptr(umm, &cd->cd_gc_objs, sizeof(cd->cd_gc_objs));
	if (rc != 0)
		return rc;
	obj->vo_gc_next = cd->cd_gc_objs;
	cd->cd_gc_objs = body;
	pool->vp_gc_idle = false;
	return 0;
}

int
vos_gc_add_key(struct vos_pool *pool, struct vos_cont_df *cd, umem_off_t body)
{
	struct umem_instance *umm = pool->vp_umm;
	struct vos_krec_df *krec = umem_off2ptr(umm, body);
	struct vos_gc_link_df *link = (struct vos_gc_link_df *)&krec->kr_ilog;
	int rc;

	D_ASSERT(umem_tx_inprogress(umm));
	rc = ilog_destroy(umm, &krec->kr_ilog);
	if (rc == 0)
		rc = umem_tx_add_ptr(umm, link, sizeof(*link));
	if (rc == 0)
		rc = umem_tx_add_ptr(umm, &cd->cd_gc_keys, sizeof(cd->cd_gc_keys));
	if (rc != 0)
		return rc;
	link->gl_next = cd->cd_gc_keys;
	link->gl_magic = VOS_GC_MAGIC;
	cd->cd_gc_keys = body;
	pool->vp_gc_idle = false;
	return 0;
}

/*
 * Draining: delete records deepest first while credits last; *@done once nothing is left
 * under the body given.
 */

static int
gc_drain_singv(struct gc_ctx *gc, struct btr_root_df *root, bool *done)
{
	struct btr_iterator *ih = NULL;
	struct btr_instance *toh;
	d_iov_t val;
	int rc;

	*done = true;
	if (root->tr_order == 0)
		return 0;
	rc = dbtree_open_inplace_ex(root, gc->gc_umm, gc->gc_pool, &toh);
	if (rc != 0)
		return rc;
	rc = dbtree_iter_prepare(toh, &ih);
	while (rc == 0 && gc->gc_credits > 0) {
		struct vos_irec_df *irec;

		rc = dbtree_iter_probe(ih, BTR_PROBE_FIRST, NULL, NULL);
		if (rc != 0)
			break;
		d_iov_set(&val, NULL, 0);
		rc = dbtree_iter_fetch(ih, NULL, &val, NULL);
		if (rc != 0)
			break;
		irec = val.iov_buf;
		if (irec->ir_media == VOS_MEDIA_DATA)
			gc->gc_data += irec->ir_size > 0 ? vos_data_bytes(irec->ir_size) : 0;
		else
			gc->gc_scm += irec->ir_size;
		rc = dbtree_iter_delete(ih, gc->gc_pool);
		gc->gc_credits--;
		gc->gc_freed++;
	}
	if (rc == -DER_NONEXIST)
		rc = 0;
	if (rc == 0)
		*done = dbtree_is_empty(toh);
	if (ih != NULL)
		dbtree_iter_finish(ih);
	dbtree_close(toh);
	return rc;
}

static int
gc_drain_evt(struct gc_ctx *gc, struct evt_root_df *root, bool *done)
{
	struct evt_context *tcx;
	struct evt_iter *it = NULL;
	int rc;

	*done = true;
	rc = evt_open(root, gc->gc_umm, &tcx);
	if (rc == -DER_NONEXIST)
		return 0;
	if (rc != 0)
		return rc;
	rc = evt_iter_prepare(tcx, 0, NULL, &it);
	if (rc == 0)
		rc = evt_iter_probe(it, NULL);
	while (rc == 0 && gc->gc_credits > 0) {
		struct evt_frag frag;
		struct evt_entry ent;
		uint64_t bytes;

		rc = evt_iter_fetch(it, &frag, NULL);
		if (rc == 0)
			rc = evt_delete(tcx, &frag.ef_ent.en_rect, &ent);
		if (rc != 0)
			break;
		bytes = (ent.en_rect.rc_ex.ex_hi - ent.en_rect.rc_ex.ex_lo + 1) *
			ent.en_payload.pd_rsize;
		if ((ent.en_flags & EVT_ENT_HOLE) || ent.en_payload.pd_rsize == 0)
			bytes = 0;
		else if (ent.en_payload.pd_type == VOS_MEDIA_DATA)
			gc->gc_data += vos_data_bytes(bytes);
		else
			gc->gc_scm += bytes;
		rc = vos_ent_payload_free(gc->gc_umm, &ent, gc->gc_pool);
		if (rc != 0)
			break;
		gc->gc_credits--;
		gc->gc_freed++;
		rc = evt_iter_next(it);
	}
	if (rc == -DER_NONEXIST)
		rc = 0;
	if (rc == 0)
		*done = evt_count(tcx) == 0;
	if (it != NULL)
		evt_iter_finish(it);
	evt_close(tcx);
	return rc;
}

static int gc_drain_keys(struct gc_ctx *gc, struct btr_root_df *root, bool objs, bool *done);

/* What hangs under a dkey or akey record. */
static int
gc_drain_krec(struct gc_ctx *gc, struct vos_krec_df *krec, bool *done)
{
	*done = true;
	if (krec->kr_bmap & VOS_KREC_DKEY)
		return gc_drain_keys(gc, &krec->kr_btr, false, done);
	if (krec->kr_bmap & VOS_KREC_ARRAY)
		return gc_drain_evt(gc, &krec->kr_evt, done);
	return gc_drain_singv(gc, &krec->kr_btr, done);
}

/* The records of an object index (@objs) or a key tree, each once its subtree is empty. */
static int
gc_drain_keys(struct gc_ctx *gc, struct btr_root_df *root, bool objs, bool *done)
{
	struct btr_iterator *ih = NULL;
	struct btr_instance *toh;
	d_iov_t val;
	int rc;

	*done = true;
	if (root->tr_order == 0)
		return 0;
	rc = dbtree_open_inplace_ex(root, gc->gc_umm, gc->gc_pool, &toh);
	if (rc != 0)
		return rc;
	rc = dbtree_iter_prepare(toh, &ih);
	while (rc == 0 && gc->gc_credits > 0) {
		bool body_done;

		rc = dbtree_iter_probe(ih, BTR_PROBE_FIRST, NULL, NULL);
		if (rc != 0)
			break;
		d_iov_set(&val, NULL, 0);
		rc = dbtree_iter_fetch(ih, NULL, &val, NULL);
		if (rc != 0)
			break;
		if (objs)
			rc = gc_drain_keys(gc, &((struct vos_obj_df *)val.iov_buf)->vo_tree, false,
					   &body_done);
		else
			rc = gc_drain_krec(gc, val.iov_buf, &body_done);
		if (rc != 0 || !body_done)
			break;
		if (gc->gc_credits == 0)
			break; /* the record goes in the next step */
		rc = dbtree_iter_delete(ih, gc->gc_pool);
		gc->gc_credits--;
		gc->gc_freed++;
	}
	if (rc == -DER_NONEXIST)
		rc = 0;
	if (rc == 0)
		*done = dbtree_is_empty(toh);
	if (ih != NULL)
		dbtree_iter_finish(ih);
	dbtree_close(toh);
	return rc;
}

/*
 * Bins.
 */

/* Is @off a live allocation of at least @size bytes? */
static bool
gc_body_ok(struct umem_instance *umm, uint64_t off, size_t size)
{
	if (off == 0 || umem_alloc_size(umm, off) < size) {
		D_ERROR("damaged GC bin: body at %#" PRIx64 "\n", off);
		return false;
	}
	return true;
}

/* Take the value bytes the step freed off @cd's accounting. */
static int
gc_account(struct gc_ctx *gc, struct vos_cont_df *cd)
{
	int rc;

	if (gc->gc_scm == 0 && gc->gc_data == 0)
		return 0;
	rc = umem_tx_add_ptr(gc->gc_umm, &cd->cd_used_scm,
			     sizeof(cd->cd_used_scm) + sizeof(cd->cd_used_data));
	if (rc != 0)
		return rc;
	cd->cd_used_scm -= gc->gc_scm < cd->cd_used_scm ? gc->gc_scm : cd->cd_used_scm;
	cd->cd_used_data -= gc->gc_data < cd->cd_used_data ? gc->gc_data : cd->cd_used_data;
	return 0;
}

/* Work on the first object or key in the bins of container @cd (one is not empty). */
static int
gc_cont_bins_step(struct gc_ctx *gc, struct vos_cont_df *cd)
{
	struct umem_instance *umm = gc->gc_umm;
	bool done = false;
	uint64_t off;
	int rc;

	if (cd->cd_gc_keys != 0) {
		struct vos_krec_df *krec;
		struct vos_gc_link_df *link;

		off = cd->cd_gc_keys;
		if (!gc_body_ok(umm, off, sizeof(*krec)))
			return -DER_DF_INVAL;
		krec = umem_off2ptr(umm, off);
		link = (struct vos_gc_link_df *)&krec->kr_ilog;
		if (link->gl_magic != VOS_GC_MAGIC) {
			D_ERROR("damaged GC bin: key at %#" PRIx64 "\n", off);
			return -DER_DF_INVAL;
		}
		rc = gc_drain_krec(gc, krec, &done);
		if (rc == 0 && done) {
			rc = umem_tx_add_ptr(umm, &cd->cd_gc_keys, sizeof(cd->cd_gc_keys));
			if (rc == 0)
				rc = umem_tx_add_ptr(umm, link, sizeof(*link));
			if (rc == 0) {
				cd->cd_gc_keys = link->gl_next;
				memset(link, 0, sizeof(*link)); /* an empty log again */
				rc = vos_krec_body_free(umm, gc->gc_pool, off);
				gc->gc_freed++;
			}
		}
	} else {
		struct vos_obj_df *obj;

		off = cd->cd_gc_objs;
		if (!gc_body_ok(umm, off, sizeof(*obj)))
			return -DER_DF_INVAL;
		obj = umem_off2ptr(umm, off);
		rc = gc_drain_keys(gc, &obj->vo_tree, false, &done);
		if (rc == 0 && done) {
			rc = umem_tx_add_ptr(umm, &cd->cd_gc_objs, sizeof(cd->cd_gc_objs));
			if (rc == 0) {
				cd->cd_gc_objs = obj->vo_gc_next;
				rc = vos_obj_body_free(umm, gc->gc_pool, off);
				gc->gc_freed++;
			}
		}
	}
	if (rc == 0)
		rc = gc_account(gc, cd);
	return rc;
}

/* Work on the first destroyed container: its bins, then its objects, then itself. */
static int
gc_pool_bin_step(struct gc_ctx *gc)
{
	struct umem_instance *umm = gc->gc_umm;
	uint64_t *bin = &gc->gc_pool->vp_df->pd_gc_bin;
	struct vos_cont_df *cd;
	uint64_t off = *bin;
	bool done;
	int rc;

	if (!gc_body_ok(umm, off, sizeof(*cd)))
		return -DER_DF_INVAL;
	cd = umem_off2ptr(umm, off);
	if (cd->cd_magic != VOS_CONT_MAGIC) {
		D_ERROR("damaged GC bin: container at %#" PRIx64 "\n", off);
		return -DER_DF_INVAL;
	}
	if (cd->cd_gc_keys != 0 || cd->cd_gc_objs != 0)
		return gc_cont_bins_step(gc, cd);
	rc = gc_drain_keys(gc, &cd->cd_obj_root, true, &done);
	if (rc != 0 || !done)
		return rc;
	rc = umem_tx_add_ptr(umm, bin, sizeof(*bin));
	if (rc != 0)
		return rc;
	*bin = cd->cd_gc_next;
	gc->gc_freed++;
	return vos_cont_body_free(umm, gc->gc_pool, off);
}

/* dbtree_iterate callback: stop at the first container whose bin holds something. */
static int
gc_find_cont(struct btr_iterator *ih, d_iov_t *key, d_iov_t *val, void *arg)
{
	struct vos_cont_df *cd = val->iov_buf;

	(void)ih;
	(void)key;
	if (cd->cd_magic != VOS_CONT_MAGIC || (cd->cd_gc_keys == 0 && cd->cd_gc_objs == 0))
		return 0;
	*(struct vos_cont_df **)arg = cd;
	return 1;
}

static int
gc_step_tx(struct gc_ctx *gc)
{
	struct vos_pool *pool = gc->gc_pool;
	struct btr_root_df *table = &pool->vp_df->pd_cont_table;
	struct vos_cont_df *cd = NULL;
	struct btr_instance *toh;
	int rc;

	if (pool->vp_df->pd_gc_bin != 0)
		return gc_pool_bin_step(gc);
	if (table->tr_order == 0)
		return 0;
	rc = dbtree_open_inplace_ex(table, gc->gc_umm, pool, &toh);
	if (rc != 0)
		return rc;
	rc = dbtree_iterate(toh, false, gc_find_cont, &cd);
	dbtree_close(toh);
	if (rc != 0 || cd == NULL)
		return rc;
	return gc_cont_bins_step(gc, cd);
}

int
vos_gc_step(struct vos_pool *pool, int credits, bool wait)
{
	struct umem_instance *umm = pool->vp_umm;
	struct gc_ctx gc;
	unsigned int attempt;
	int rc;

	for (attempt = 0;; attempt++) {
		gc = (struct gc_ctx){
		    .gc_pool = pool, .gc_umm = umm, .gc_credits = credits > 0 ? credits : 1};
		rc = umem_tx_begin(umm);
		if (rc == 0) {
			rc = gc_step_tx(&gc);
			rc = umem_tx_end(umm, rc);
			vea_tx_end(pool->vp_vea, umem_tx_last_lsn(umm));
		}
		if (rc == 0 || !wait || attempt == VOS_TX_RETRY_MAX)
			break;
		rc = vos_tx_make_room(pool, rc);
		if (rc != 0)
			break;
	}
	if (rc != 0)
		return rc;
	if (gc.gc_freed == 0)
		pool->vp_gc_idle = true;
	/* crash point (D_FI_GC_KILL): a step committed, garbage may be left */
	else if (D_FAIL_CHECK(D_FI_GC_KILL))
		kill(getpid(), SIGKILL);
	return gc.gc_freed;
}

int
vos_gc_pool(daos_handle_t poh, int credits, int (*yield_func)(void *arg), void *yield_arg)
{
	struct vos_pool *pool = vos_hdl2pool(poh);
	int freed = 0, rc;

	if (pool == NULL)
		return -DER_INVAL;
	while (!pool->vp_gc_idle && (credits <= 0 || freed < credits)) {
		int step = credits <= 0 || credits - freed > VOS_GC_CREDITS ? VOS_GC_CREDITS
									    : credits - freed;

		rc = vos_gc_step(pool, step, true);
		if (rc < 0) {
			D_ERROR("garbage collection failed: " DF_RC "\n", DP_RC(rc));
			return rc;
		}
		freed += rc;
		if (yield_func != NULL && yield_func(yield_arg) != 0)
			break;
	}
	return 0;
}

bool
vos_gc_pool_idle(daos_handle_t poh)
{
	struct vos_pool *pool = vos_hdl2pool(poh);

	return pool == NULL || pool->vp_gc_idle;
}
