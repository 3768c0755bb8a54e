/*
 * vos_io.c: updates and fetches of values -- single values and array extents under an
 * akey of a dkey of an object -- and the data-file I/O of large values. Sits on vos_obj.c
 * (objects, keys, visibility), the single-value trees of vos_tree.c, evtree.c and vea.c.
 *
 * An update runs in two phases:
 *
 *	outside any transaction   validate; for each value of VOS_DATA_THRESH bytes or more:
 *	                          vea_reserve, queue an O_DIRECT write of its bytes; submit
 *	                          them and wait; ask the WAL to sync the data file ahead of
 *	                          the next records it writes (bio_wal_dep_sync)
 *	one heap transaction      find or insert object, dkey, akeys; check the conditions;
 *	                          log the creations; insert the values (heap values copied
 *	                          into the heap, large ones pointing at their blocks);
 *	                          vea_tx_publish the reservations; account the bytes
 *	commit or abort           reservations not yet published are cancelled; published
 *	                          ones return to the free space by themselves on abort
 *
 * and the whole of it is retried when the commit found the WAL full (vos_tx_make_room).
 *
 * Invariants:
 * 1. An update is all or nothing: every change it makes to the heap is inside one
 *    transaction, and any error (a failed condition included) aborts all of it.
 * 2. Data is durable before anything points at it: the data-file writes of an update have
 *    completed before its transaction begins, and the WAL flush that carries its record
 *    first syncs the data file (bio_wal_dep_sync: the sync completes before the log writes
 *    start), so a replayed WAL never references unwritten blocks. The updates of one
 *    flush share that sync. Blocks are published only inside the transaction that references them,
 *and a reservation that is not published is cancelled before the update returns.
 * 3. Nothing is overwritten: a value is a new version at (epoch, minor epoch); only a
 *    rewrite of the very same version (same epoch, same extent) replaces one, and then
 *    the old payload is freed in the same transaction. Punches add log entries or hole
 *    extents and free nothing.
 * 4. A reader at epoch E sees a version iff its epoch is <= E and above the punch bound at
 *    E of its object, dkey and akey (vos_ilog_visible), and, for an array, no newer
 *    extent or hole at or below E covers it (evt_find).
 * 5. An akey holds one value type, fixed by its first update.
 * 6. The bytes of the container accounting (cd_used_*) equal what its values hold: heap
 *    payload bytes and whole data-file blocks.
 */
#define D_LOGFAC vos

#include <errno.h>
#include <unistd.h>

#include <gurt/common.h>

#include "vos_internal.h"

/* A position in a scatter-gather list. */
struct vos_sgl_cur {
	d_sg_list_t *sc_sgl;
	unsigned int sc_iov;
	size_t sc_off;
};

static void
cur_init(struct vos_sgl_cur *cur, d_sg_list_t *sgl)
{
	cur->sc_sgl = sgl;
	cur->sc_iov = 0;
	cur->sc_off = 0;
}

/*
 * Input side (updates): iov_len bytes of each iov. Move over @len bytes, calling @fn on
 * each piece (or skipping them when @fn is NULL). The caller checked that they are there.
 */
typedef int (*cur_in_fn_t)(void *arg, const void *buf, size_t len, uint64_t done);

static int
cur_in(struct vos_sgl_cur *cur, uint64_t len, cur_in_fn_t fn, void *arg)
{
	uint64_t done = 0;
	int rc;

	while (done < len) {
		d_iov_t *iov = &cur->sc_sgl->sg_iovs[cur->sc_iov];
		size_t n = iov->iov_len - cur->sc_off;

		if (n == 0) {
			cur->sc_iov++;
			cur->sc_off = 0;
			continue;
		}
		if (n > len - done)
			n = len - done;
		if (fn != NULL) {
			rc = fn(arg, (char *)iov->iov_buf + cur->sc_off, n, done);
			if (rc != 0)
				return rc;
		}
		cur->sc_off += n;
		done += n;
	}
	return 0;
}

static int
copy_to_mem(void *arg, const void *buf, size_t len, uint64_t done)
{
	memcpy((char *)arg + done, buf, len);
	return 0;
}

/* The pieces of one value, gathered from an sgl for bio_data_write. */
struct data_iovs {
	struct iovec *di_iovs;
	unsigned int di_nr;
	unsigned int di_cap;
};

static int
gather_iov(void *arg, const void *buf, size_t len, uint64_t done)
{
	struct data_iovs *di = arg;

	(void)done;
	if (di->di_nr == di->di_cap) {
		unsigned int cap = di->di_cap == 0 ? 8 : di->di_cap * 2;
		struct iovec *p;

		D_REALLOC_ARRAY(p, di->di_iovs, cap);
		if (p == NULL)
			return -DER_NOMEM;
		di->di_iovs = p;
		di->di_cap = cap;
	}
	di->di_iovs[di->di_nr].iov_base = (void *)buf;
	di->di_iovs[di->di_nr].iov_len = len;
	di->di_nr++;
	return 0;
}

/* Output side (fetches): fill iovs up to iov_buf_len, setting iov_len and sg_nr_out. */
static uint64_t
sgl_capacity(const d_sg_list_t *sgl)
{
	uint64_t n = 0;
	unsigned int i;

	for (i = 0; i < sgl->sg_nr; i++)
		n += sgl->sg_iovs[i].iov_buf_len;
	return n;
}

/*
 * Place @len bytes: from @src, or zeroes (@src NULL), or, with @di, gather the pieces of
 * the sgl they go to into @di for a data-file read.
 */
static int
cur_out(struct vos_sgl_cur *cur, const void *src, struct data_iovs *di, uint64_t len)
{
	d_sg_list_t *sgl = cur->sc_sgl;
	uint64_t done = 0;
	int rc;

	while (done < len) {
		d_iov_t *iov;
		size_t n;

		if (cur->sc_iov >= sgl->sg_nr)
			return -DER_REC2BIG; /* the caller checked the capacity */
		iov = &sgl->sg_iovs[cur->sc_iov];
		n = iov->iov_buf_len - cur->sc_off;
		if (n == 0) {
			cur->sc_iov++;
			cur->sc_off = 0;
			continue;
		}
		if (n > len - done)
			n = len - done;
		if (di != NULL) {
			rc = gather_iov(di, (char *)iov->iov_buf + cur->sc_off, n, done);
			if (rc != 0)
				return rc;
		} else if (src != NULL) {
			memcpy((char *)iov->iov_buf + cur->sc_off, (const char *)src + done, n);
		} else {
			memset((char *)iov->iov_buf + cur->sc_off, 0, n);
		}
		cur->sc_off += n;
		done += n;
		iov->iov_len = cur->sc_off;
		sgl->sg_nr_out = cur->sc_iov + 1;
	}
	return 0;
}

/*
 * Data-file reads of a fetch: queued in one batch while the trees are walked (no yield
 * there), then submitted together and waited for through the pool's hook
 * (vos_data_read_wait). While they are in flight the pool holds back the reuse of blocks
 * freed after the walk (vos_pool_read_begin), so an aggregation or GC step of another ULT
 * cannot hand the blocks being read to a new write.
 */
struct vos_data_rd {
	struct vos_pool *dr_pool;
	struct bio_data_batch *dr_batch;
	struct data_iovs dr_di;
	struct vos_read_ref dr_ref;
};

/* Queue the read of @len bytes at data-file address @addr into the sgl at @cur. */
static int
data_out(struct vos_data_rd *dr, struct vos_sgl_cur *cur, uint64_t addr, uint64_t len)
{
	int rc;

	if (dr->dr_batch == NULL) {
		rc = bio_data_batch_get(dr->dr_pool->vp_data, &dr->dr_batch);
		if (rc != 0)
			return rc;
		vos_pool_read_begin(dr->dr_pool, &dr->dr_ref);
	}
	dr->dr_di.di_nr = 0;
	rc = cur_out(cur, NULL, &dr->dr_di, len);
	if (rc == 0)
		rc = bio_data_read(dr->dr_batch, addr, dr->dr_di.di_iovs, dr->dr_di.di_nr);
	return rc;
}

/* Submit and wait for the reads queued (@rc 0), or drop them; returns the outcome. */
static int
data_read_end(struct vos_data_rd *dr, int rc)
{
	struct vos_pool *pool = dr->dr_pool;

	if (dr->dr_batch != NULL) {
		if (rc == 0) {
			rc = bio_data_submit_wait(dr->dr_batch, pool->vp_attr.pa_wait,
						  pool->vp_attr.pa_wait_arg);
			if (rc != 0)
				D_ERROR("data file reads of a fetch failed: " DF_RC "\n",
					DP_RC(rc));
		} else {
			bio_data_cancel(dr->dr_batch);
		}
		dr->dr_batch = NULL;
		vos_pool_read_end(pool, &dr->dr_ref);
	}
	D_FREE(dr->dr_di.di_iovs);
	return rc;
}

/*
 * Update.
 */

/* Data-file extents one update's WAL record may carry (one-sync); more: a data sync. */
#define VOS_DREF_MAX 16U

/* State of one update or fetch. */
struct vos_io_ctx {
	struct vos_container *ic_cont;
	struct vos_pool *ic_pool;
	struct umem_instance *ic_umm;
	daos_unit_oid_t ic_oid;
	daos_epoch_t ic_epoch;
	uint64_t ic_flags;
	uint32_t ic_ver;
	unsigned int ic_iod_nr;
	daos_iod_t *ic_iods;
	d_sg_list_t *ic_sgls;
	/* update: data-file address of each value (0: in the heap), in iod/recx order */
	uint64_t *ic_addrs;
	unsigned int ic_nvals;
	d_list_t ic_resrvd;       /* VEA reservations not yet published */
	struct vos_data_rd ic_rd; /* fetch: its data-file reads */
	int64_t ic_used_scm;
	int64_t ic_used_data;
	/*
	 * update, one-sync (bio_wal_one_sync): the data-file extents of its values and their
	 * CRCs, carried by its WAL record instead of a data sync (all of them in durably
	 * written blocks); ic_dref_nr 0: the data sync instead (bio_wal_dep_sync)
	 */
	struct bio_wal_dref ic_drefs[VOS_DREF_MAX];
	uint32_t ic_dref_nr;
};

/* Bytes of value @r of @iod (r: the recx; 0 for a single value). */
static uint64_t
iod_val_bytes(const daos_iod_t *iod, unsigned int r)
{
	if (iod->iod_type == DAOS_IOD_SINGLE)
		return iod->iod_size;
	return iod->iod_recxs[r].rx_nr * iod->iod_size;
}

static unsigned int
iod_val_nr(const daos_iod_t *iod)
{
	return iod->iod_type == DAOS_IOD_SINGLE ? 1 : iod->iod_nr;
}

/* Check the iods (and, for an update, that the sgls hold their bytes). */
static int
iods_check(struct vos_io_ctx *ic, bool update)
{
	uint64_t feats = vos_key_feats(ic->ic_oid, false);
	unsigned int i, r;
	int rc;

	if (ic->ic_iod_nr == 0 || ic->ic_iods == NULL)
		return -DER_INVAL;
	for (i = 0; i < ic->ic_iod_nr; i++) {
		daos_iod_t *iod = &ic->ic_iods[i];
		uint64_t bytes = 0, have = 0;

		rc = vos_key_check(&iod->iod_name, feats);
		if (rc != 0)
			return rc;
		if (iod->iod_type == DAOS_IOD_ARRAY) {
			if (iod->iod_nr == 0 || iod->iod_recxs == NULL)
				return -DER_INVAL;
			for (r = 0; r < iod->iod_nr; r++) {
				daos_recx_t *rx = &iod->iod_recxs[r];

				if (rx->rx_nr == 0 || rx->rx_idx + rx->rx_nr < rx->rx_idx ||
				    (iod->iod_size != 0 && rx->rx_nr > UINT64_MAX / iod->iod_size))
					return -DER_INVAL;
				bytes += iod_val_bytes(iod, r);
			}
		} else if (iod->iod_type == DAOS_IOD_SINGLE) {
			bytes = iod->iod_size;
		} else {
			return -DER_INVAL;
		}
		ic->ic_nvals += iod_val_nr(iod);
		if (!update || bytes == 0)
			continue;
		if (ic->ic_sgls == NULL || ic->ic_sgls[i].sg_iovs == NULL)
			return -DER_INVAL;
		for (r = 0; r < ic->ic_sgls[i].sg_nr; r++)
			have += ic->ic_sgls[i].sg_iovs[r].iov_len;
		if (have < bytes) {
			D_ERROR("iod %u: %" PRIu64 " bytes to write, the sgl holds %" PRIu64 "\n",
				i, bytes, have);
			return -DER_INVAL;
		}
	}
	return 0;
}

/*
 * One-sync: can the record of this update carry the value just queued (@di, @bytes at
 * @addr) instead of a data sync? Only if its blocks are durably written extents (then its
 * bytes are durable once written back and the log's fsync flushes the device) and there
 * is room; then note it with the CRC of its bytes. False: the update takes a data sync.
 */
static bool
update_dref(struct vos_io_ctx *ic, const struct data_iovs *di, uint64_t addr, uint64_t bytes)
{
	struct bio_wal_dref *d;
	uint32_t crc = 0;
	unsigned int k;

	if (ic->ic_dref_nr == VOS_DREF_MAX || bytes > UINT32_MAX ||
	    !bio_data_written(ic->ic_pool->vp_data, addr, bytes))
		return false;
	for (k = 0; k < di->di_nr; k++)
		crc = bio_crc32c(crc, di->di_iovs[k].iov_base, di->di_iovs[k].iov_len);
	d = &ic->ic_drefs[ic->ic_dref_nr++];
	d->dr_off = addr;
	d->dr_len = (uint32_t)bytes;
	d->dr_crc = crc;
	return true;
}

/*
 * Phase 1: reserve blocks for the large values and write them (O_DIRECT, one batch,
 * waited for); their sync goes with the WAL flush that carries this update's record, ahead
 * of it (bio_wal_dep_sync): see invariant 2.
 */
static int
update_write_data(struct vos_io_ctx *ic)
{
	struct vos_pool *pool = ic->ic_pool;
	struct bio_data_batch *batch = NULL;
	struct data_iovs di = {0};
	struct vos_sgl_cur cur = {0};
	unsigned int i, r, v = 0;
	/* not inside an outer transaction: its commit, not ours, would take the extents */
	bool one = bio_wal_one_sync(pool->vp_wal) && !umem_tx_inprogress(ic->ic_umm);
	int rc = 0;

	ic->ic_dref_nr = 0;
	for (i = 0; i < ic->ic_iod_nr && rc == 0; i++) {
		daos_iod_t *iod = &ic->ic_iods[i];

		if (ic->ic_sgls != NULL)
			cur_init(&cur, &ic->ic_sgls[i]);
		for (r = 0; r < iod_val_nr(iod) && rc == 0; r++, v++) {
			uint64_t bytes = iod_val_bytes(iod, r);
			struct vea_resrvd_ext *ext;

			ic->ic_addrs[v] = 0;
			if (bytes < VOS_DATA_THRESH) {
				if (bytes > 0)
					cur_in(&cur, bytes, NULL, NULL);
				continue;
			}
			rc = vea_reserve(pool->vp_vea, vos_data_bytes(bytes) / VOS_BLK_SIZE,
					 &ic->ic_cont->vc_hint, &ic->ic_resrvd);
			if (rc != 0)
				break;
			ext = d_list_entry(ic->ic_resrvd.prev, struct vea_resrvd_ext, vre_link);
			ic->ic_addrs[v] = ext->vre_blk_off * VOS_BLK_SIZE;
			if (batch == NULL) {
				rc = bio_data_batch_get(pool->vp_data, &batch);
				if (rc != 0)
					break;
			}
			di.di_nr = 0;
			rc = cur_in(&cur, bytes, gather_iov, &di);
			if (rc == 0)
				rc = bio_data_write(batch, ic->ic_addrs[v], di.di_iovs, di.di_nr);
			if (rc == 0 && one)
				one = update_dref(ic, &di, ic->ic_addrs[v], bytes);
		}
	}
	if (!one)
		ic->ic_dref_nr = 0;
	D_FREE(di.di_iovs);
	if (batch == NULL)
		return rc;
	if (rc != 0) {
		bio_data_cancel(batch);
		return rc;
	}
	rc = bio_data_submit_wait(batch, pool->vp_attr.pa_wait, pool->vp_attr.pa_wait_arg);
	if (rc != 0) {
		D_ERROR("data file writes of an update failed: " DF_RC "\n", DP_RC(rc));
		return rc;
	}
	if (ic->ic_dref_nr == 0)
		bio_wal_dep_sync(pool->vp_wal, bio_data_fd(pool->vp_data));
	return 0;
}

static uint64_t
iod_cond(const struct vos_io_ctx *ic, const daos_iod_t *iod)
{
	return (ic->ic_flags & DAOS_COND_PER_AKEY) ? iod->iod_flags : ic->ic_flags;
}

/* One version of a single value (phase 2). */
static int
update_single(struct vos_io_ctx *ic, struct vos_krec_df *krec, daos_iod_t *iod,
	      struct vos_sgl_cur *cur, uint64_t addr)
{
	struct umem_instance *umm = ic->ic_umm;
	struct vos_singv_key key = {.sk_epoch = ic->ic_epoch, .sk_minor = VOS_MINOR_EPC};
	struct btr_instance *toh;
	struct vos_irec_df *irec;
	uint64_t bytes = iod->iod_size;
	bool heap = addr == 0;
	struct dbtree_buf tbuf;
	d_iov_t kiov, val;
	umem_off_t off;
	int rc;

	if (krec->kr_btr.tr_order == 0)
		rc = dbtree_create_inplace_buf(
		    VOS_BTR_SINGV, BTR_FEAT_DIRECT_KEY | BTR_FEAT_FIRST_SMALL, BTR_ORDER_DEFAULT,
		    umm, &krec->kr_btr, ic->ic_pool, &tbuf, &toh);
	else
		rc = dbtree_open_inplace_buf(&krec->kr_btr, umm, ic->ic_pool, &tbuf, &toh);
	if (rc != 0)
		return rc;

	off = umem_alloc(umm, sizeof(*irec) + (heap ? bytes : 0));
	if (off == UMOFF_NULL) {
		rc = -DER_NOSPACE;
		goto out;
	}
	irec = umem_off2ptr(umm, off);
	memset(irec, 0, sizeof(*irec));
	irec->ir_key = key;
	irec->ir_size = bytes;
	irec->ir_addr = addr;
	irec->ir_media = heap ? VOS_MEDIA_SCM : VOS_MEDIA_DATA;
	irec->ir_ver = ic->ic_ver;
	if (heap && bytes > 0)
		cur_in(cur, bytes, copy_to_mem, irec + 1);
	if (heap)
		ic->ic_used_scm += (int64_t)bytes;
	else
		ic->ic_used_data += (int64_t)vos_data_bytes(bytes);

	/* a rewrite of the same version replaces it (and frees it: singv_rec_update) */
	d_iov_set(&kiov, &key, sizeof(key));
	d_iov_set(&val, NULL, 0);
	rc = dbtree_lookup(toh, &kiov, &val);
	if (rc == 0) {
		struct vos_irec_df *old = val.iov_buf;

		if (old->ir_media == VOS_MEDIA_DATA)
			ic->ic_used_data -= (int64_t)vos_data_bytes(old->ir_size);
		else
			ic->ic_used_scm -= (int64_t)old->ir_size;
	} else if (rc != -DER_NONEXIST) {
		goto out;
	}
	d_iov_set(&val, &off, sizeof(off));
	rc = dbtree_upsert(toh, 0, &kiov, &val, NULL);
out:
	dbtree_close(toh);
	return rc;
}

/* The extents of an array iod (phase 2); iod_size 0 punches them. */
static int
update_array(struct vos_io_ctx *ic, struct vos_krec_df *krec, daos_iod_t *iod,
	     struct vos_sgl_cur *cur, const uint64_t *addrs)
{
	struct umem_instance *umm = ic->ic_umm;
	struct evt_context *tcx;
	unsigned int r;
	int rc;

	rc = evt_open(&krec->kr_evt, umm, &tcx);
	if (rc == -DER_NONEXIST)
		rc = evt_create_inplace(&krec->kr_evt, EVT_ORDER_DEFAULT, umm, &tcx);
	if (rc != 0)
		return rc;
	for (r = 0; r < iod->iod_nr; r++) {
		daos_recx_t *rx = &iod->iod_recxs[r];
		uint64_t bytes = iod_val_bytes(iod, r);
		struct evt_entry ent = {0}, old;

		ent.en_rect.rc_ex.ex_lo = rx->rx_idx;
		ent.en_rect.rc_ex.ex_hi = rx->rx_idx + rx->rx_nr - 1;
		ent.en_rect.rc_epc = ic->ic_epoch;
		ent.en_rect.rc_minor_epc = VOS_MINOR_EPC;
		ent.en_payload.pd_ver = ic->ic_ver;
		if (bytes == 0) {
			ent.en_flags = EVT_ENT_HOLE;
		} else if (addrs[r] != 0) {
			cur_in(cur, bytes, NULL, NULL); /* written in phase 1 */
			ent.en_payload.pd_addr = addrs[r];
			ent.en_payload.pd_type = VOS_MEDIA_DATA;
			ent.en_payload.pd_rsize = (uint32_t)iod->iod_size;
			ic->ic_used_data += (int64_t)vos_data_bytes(bytes);
		} else {
			umem_off_t off = umem_alloc(umm, bytes);

			if (off == UMOFF_NULL) {
				rc = -DER_NOSPACE;
				break;
			}
			cur_in(cur, bytes, copy_to_mem, umem_off2ptr(umm, off));
			ent.en_payload.pd_addr = off;
			ent.en_payload.pd_type = VOS_MEDIA_SCM;
			ent.en_payload.pd_rsize = (uint32_t)iod->iod_size;
			ic->ic_used_scm += (int64_t)bytes;
		}
		rc = evt_insert(tcx, &ent, &old);
		if (rc == 1) {
			/* the same extent at the same epoch: the new one replaced it */
			uint64_t ob = (old.en_rect.rc_ex.ex_hi - old.en_rect.rc_ex.ex_lo + 1) *
				      old.en_payload.pd_rsize;

			if (old.en_flags & EVT_ENT_HOLE)
				ob = 0;
			else if (old.en_payload.pd_type == VOS_MEDIA_DATA)
				ic->ic_used_data -= (int64_t)vos_data_bytes(ob);
			else
				ic->ic_used_scm -= (int64_t)ob;
			rc = vos_ent_payload_free(umm, &old, ic->ic_pool);
		}
		if (rc != 0)
			break;
	}
	evt_close(tcx);
	return rc;
}

/* One iod under dkey @dkrec (phase 2): the akey, its conditions, its log, its values. */
static int
update_akey(struct vos_io_ctx *ic, struct vos_krec_df *dkrec, const struct ilog_epc *dpunch,
	    unsigned int i, const uint64_t *addrs)
{
	daos_iod_t *iod = &ic->ic_iods[i];
	uint8_t type = iod->iod_type == DAOS_IOD_SINGLE ? VOS_KREC_SINGLE : VOS_KREC_ARRAY;
	uint64_t cond = iod_cond(ic, iod);
	struct vos_krec_df *krec;
	struct vos_sgl_cur cur = {0};
	struct ilog_epc punch;
	bool visible = false;
	bool created;
	int rc;

	rc = vos_key_find_add(ic->ic_pool, &dkrec->kr_btr, vos_key_feats(ic->ic_oid, false),
			      &iod->iod_name, type, &krec, &created);
	if (rc == 0 && !created)
		rc = vos_ilog_visible(ic->ic_umm, &krec->kr_ilog, ic->ic_epoch, dpunch, &visible,
				      &punch);
	if (rc != 0)
		return rc;
	if ((cond & DAOS_COND_AKEY_INSERT) && visible)
		return -DER_EXIST;
	if ((cond & DAOS_COND_AKEY_UPDATE) && !visible)
		return -DER_NONEXIST;
	if ((krec->kr_bmap & (VOS_KREC_SINGLE | VOS_KREC_ARRAY)) == 0) {
		/* only punched so far: the first update fixes the type */
		rc = umem_tx_add_ptr(ic->ic_umm, &krec->kr_bmap, sizeof(krec->kr_bmap));
		if (rc != 0)
			return rc;
		krec->kr_bmap |= type;
	} else if (!(krec->kr_bmap & type)) {
		D_ERROR("akey holds %s values, not %s ones\n",
			(krec->kr_bmap & VOS_KREC_SINGLE) ? "single" : "array",
			type == VOS_KREC_SINGLE ? "single" : "array");
		return -DER_INVAL;
	}
	rc = ilog_update(ic->ic_umm, &krec->kr_ilog, ic->ic_epoch, VOS_MINOR_EPC, false);
	if (rc != 0)
		return rc;
	if (ic->ic_sgls != NULL)
		cur_init(&cur, &ic->ic_sgls[i]);
	if (type == VOS_KREC_SINGLE)
		return update_single(ic, krec, iod, &cur, addrs[0]);
	return update_array(ic, krec, iod, &cur, addrs);
}

/* Phase 2: the transaction. */
static int
update_tx(struct vos_io_ctx *ic, daos_key_t *dkey)
{
	struct umem_instance *umm = ic->ic_umm;
	struct vos_cont_df *cd = ic->ic_cont->vc_df;
	struct ilog_epc obj_punch, dkey_punch;
	struct vos_krec_df *dkrec;
	struct vos_obj_df *obj;
	bool obj_vis, visible = false;
	bool created;
	unsigned int i, v = 0;
	int rc;

	rc = umem_tx_begin(umm);
	if (rc != 0)
		return rc;
	/* the handle's lookup cache first: the object and its last dkey */
	obj = vos_oc_obj(ic->ic_cont, ic->ic_oid);
	if (obj == NULL)
		rc = vos_obj_find(ic->ic_cont, ic->ic_oid, true, &obj);
	if (rc == 0)
		rc = vos_ilog_visible(umm, &obj->vo_ilog, ic->ic_epoch, NULL, &obj_vis, &obj_punch);
	if (rc != 0)
		goto out;

	dkey_punch = obj_punch;
	dkrec = vos_oc_dkey(ic->ic_cont, obj, dkey);
	created = false;
	if (dkrec == NULL)
		rc = vos_key_find_add(ic->ic_pool, &obj->vo_tree, vos_key_feats(ic->ic_oid, true),
				      dkey, VOS_KREC_DKEY, &dkrec, &created);
	if (rc == 0 && !created)
		rc = vos_ilog_visible(umm, &dkrec->kr_ilog, ic->ic_epoch, &obj_punch, &visible,
				      &dkey_punch);
	if (rc != 0)
		goto out;
	if ((ic->ic_flags & DAOS_COND_DKEY_INSERT) && visible) {
		rc = -DER_EXIST;
		goto out;
	}
	if ((ic->ic_flags & DAOS_COND_DKEY_UPDATE) && !visible) {
		rc = -DER_NONEXIST;
		goto out;
	}
	rc = ilog_update(umm, &obj->vo_ilog, ic->ic_epoch, VOS_MINOR_EPC, false);
	if (rc == 0)
		rc = ilog_update(umm, &dkrec->kr_ilog, ic->ic_epoch, VOS_MINOR_EPC, false);
	for (i = 0; i < ic->ic_iod_nr && rc == 0; i++) {
		rc = update_akey(ic, dkrec, &dkey_punch, i, &ic->ic_addrs[v]);
		v += iod_val_nr(&ic->ic_iods[i]);
	}
	if (rc != 0)
		goto out;
	if (!d_list_empty(&ic->ic_resrvd)) {
		rc = vea_tx_publish(ic->ic_pool->vp_vea, umm, &ic->ic_resrvd);
		if (rc != 0)
			goto out;
	}
	if (ic->ic_used_scm != 0 || ic->ic_used_data != 0) {
		rc = umem_tx_add_ptr(umm, &cd->cd_used_scm,
				     sizeof(cd->cd_used_scm) + sizeof(cd->cd_used_data));
		if (rc != 0)
			goto out;
		cd->cd_used_scm += (uint64_t)ic->ic_used_scm;
		cd->cd_used_data += (uint64_t)ic->ic_used_data;
	}
out:
	if (rc == 0 && ic->ic_dref_nr > 0) {
		/* the commit below appends the record: it carries the extents (no yield) */
		rc = bio_wal_dref_set(ic->ic_pool->vp_wal, bio_data_fd(ic->ic_pool->vp_data),
				      ic->ic_drefs, ic->ic_dref_nr);
		rc = umem_tx_end(umm, rc);
		bio_wal_dref_set(ic->ic_pool->vp_wal, -1, NULL, 0);
	} else {
		rc = umem_tx_end(umm, rc);
	}
	if (rc == 0)
		vos_oc_fill(ic->ic_cont, obj, dkrec); /* committed (unless nested: not filled) */
	return rc;
}

static int
update_once(struct vos_io_ctx *ic, daos_key_t *dkey)
{
	int rc;

	D_INIT_LIST_HEAD(&ic->ic_resrvd);
	ic->ic_used_scm = 0;
	ic->ic_used_data = 0;
	rc = update_write_data(ic);
	if (rc == 0)
		rc = update_tx(ic, dkey);
	/* reservations that never reached vea_tx_publish */
	if (!d_list_empty(&ic->ic_resrvd))
		vea_cancel(ic->ic_pool->vp_vea, &ic->ic_cont->vc_hint, &ic->ic_resrvd);
	return rc;
}

/* Check the key and iods of an update (@update) or fetch, and fill the I/O context. */
static int
vos_ioc_init(struct vos_io_ctx *ic, struct vos_container *cont, daos_unit_oid_t oid,
	     daos_epoch_t epoch, uint64_t flags, daos_key_t *dkey, unsigned int iod_nr,
	     daos_iod_t *iods, d_sg_list_t *sgls, bool update)
{
	int rc;

	rc = vos_key_check(dkey, vos_key_feats(oid, true));
	if (rc != 0)
		return rc;
	ic->ic_cont = cont;
	ic->ic_pool = cont->vc_pool;
	ic->ic_umm = cont->vc_pool->vp_umm;
	ic->ic_oid = oid;
	ic->ic_epoch = epoch;
	ic->ic_flags = flags;
	ic->ic_iod_nr = iod_nr;
	ic->ic_iods = iods;
	ic->ic_sgls = sgls;
	return iods_check(ic, update);
}

int
vos_obj_update(daos_handle_t coh, daos_unit_oid_t oid, daos_epoch_t epoch, uint32_t pm_ver,
	       uint64_t flags, daos_key_t *dkey, unsigned int iod_nr, daos_iod_t *iods,
	       struct dcs_iod_csums *iods_csums, d_sg_list_t *sgls)
{
	struct vos_container *cont = vos_hdl2cont(coh);
	struct vos_io_ctx ic = {0};
	uint64_t addrs[8];
	unsigned int attempt;
	int rc;

	if (cont == NULL || epoch == 0 || epoch == DAOS_EPOCH_MAX || iods_csums != NULL) {
		D_ERROR("bad update arguments (epoch %" PRIu64 ")\n", epoch);
		return -DER_INVAL;
	}
	ic.ic_ver = pm_ver;
	rc = vos_ioc_init(&ic, cont, oid, epoch, flags, dkey, iod_nr, iods, sgls, true);
	if (rc != 0)
		return rc;
	if (ic.ic_nvals <= D_ARRAY_SIZE(addrs))
		ic.ic_addrs = addrs; /* the common case: no allocation */
	else
		D_ALLOC_ARRAY(ic.ic_addrs, ic.ic_nvals);
	if (ic.ic_addrs == NULL)
		return -DER_NOMEM;

	for (attempt = 0;; attempt++) {
		rc = update_once(&ic, dkey);
		if (rc == 0 || attempt == VOS_TX_RETRY_MAX)
			break;
		rc = vos_tx_make_room(ic.ic_pool, rc);
		if (rc != 0)
			break;
	}
	if (ic.ic_addrs != addrs)
		D_FREE(ic.ic_addrs);
	if (rc != 0)
		D_DEBUG("update at %" PRIu64 ": " DF_RC "\n", epoch, DP_RC(rc));
	return rc;
}

/*
 * Fetch.
 */

static void
iod_empty(daos_iod_t *iod, d_sg_list_t *sgl)
{
	iod->iod_size = 0;
	if (sgl != NULL)
		sgl->sg_nr_out = 0;
}

static int
fetch_single(struct vos_io_ctx *ic, struct vos_krec_df *krec, const struct ilog_epc *punch,
	     daos_iod_t *iod, d_sg_list_t *sgl)
{
	struct vos_singv_key key = {.sk_epoch = ic->ic_epoch, .sk_minor = VOS_MINOR_EPC};
	struct btr_instance *toh;
	struct vos_irec_df *irec;
	struct vos_sgl_cur cur;
	d_iov_t kiov, val;
	int rc;

	iod_empty(iod, sgl);
	if (krec->kr_btr.tr_order == 0)
		return 0;
	rc = dbtree_open_inplace_ex(&krec->kr_btr, ic->ic_umm, ic->ic_pool, &toh);
	if (rc != 0)
		return rc;
	d_iov_set(&kiov, &key, sizeof(key));
	d_iov_set(&val, NULL, 0);
	rc = dbtree_fetch(toh, BTR_PROBE_LE, &kiov, NULL, &val);
	if (rc == -DER_NONEXIST) {
		rc = 0;
		goto out;
	}
	if (rc != 0)
		goto out;
	irec = val.iov_buf;
	if (irec->ir_size == 0 ||
	    ilog_epc_punched(irec->ir_key.sk_epoch, irec->ir_key.sk_minor, punch))
		goto out;
	iod->iod_size = irec->ir_size;
	if (sgl == NULL)
		goto out;
	if (sgl_capacity(sgl) < irec->ir_size) {
		rc = -DER_REC2BIG;
		goto out;
	}
	cur_init(&cur, sgl);
	if (irec->ir_media == VOS_MEDIA_DATA)
		rc = data_out(&ic->ic_rd, &cur, irec->ir_addr, irec->ir_size);
	else
		rc = cur_out(&cur, irec + 1, NULL, irec->ir_size);
out:
	dbtree_close(toh);
	return rc;
}

/* Is fragment @frag data that a reader with punch bound @punch sees? */
static bool
frag_is_data(const struct evt_frag *frag, const struct ilog_epc *punch)
{
	const struct evt_rect *rect = &frag->ef_ent.en_rect;

	return !(frag->ef_vis & EVT_HOLE) && frag->ef_ent.en_payload.pd_rsize != 0 &&
	       !ilog_epc_punched(rect->rc_epc, rect->rc_minor_epc, punch);
}

static int
fetch_array(struct vos_io_ctx *ic, struct vos_krec_df *krec, const struct ilog_epc *punch,
	    daos_iod_t *iod, d_sg_list_t *sgl)
{
	struct evt_context *tcx;
	struct evt_list *lists = NULL;
	struct vos_sgl_cur cur;
	uint64_t rsize = iod->iod_size, need = 0;
	bool found = false;
	unsigned int r, f;
	int rc;

	iod_empty(iod, sgl);
	rc = evt_open(&krec->kr_evt, ic->ic_umm, &tcx);
	if (rc == -DER_NONEXIST)
		return 0;
	if (rc != 0)
		return rc;
	D_ALLOC_ARRAY(lists, iod->iod_nr);
	if (lists == NULL) {
		rc = -DER_NOMEM;
		goto out;
	}
	for (r = 0; r < iod->iod_nr; r++)
		evt_list_init(&lists[r]);

	/* what is visible, and its record size */
	for (r = 0; r < iod->iod_nr; r++) {
		struct evt_extent range = {
		    .ex_lo = iod->iod_recxs[r].rx_idx,
		    .ex_hi = iod->iod_recxs[r].rx_idx + iod->iod_recxs[r].rx_nr - 1,
		};

		rc = evt_find(tcx, &range, ic->ic_epoch, 0, &lists[r]);
		if (rc != 0)
			goto out;
		for (f = 0; f < lists[r].el_nr; f++) {
			struct evt_frag *frag = &lists[r].el_frags[f];

			if (!frag_is_data(frag, punch))
				continue;
			if (rsize == 0)
				rsize = frag->ef_ent.en_payload.pd_rsize;
			if (frag->ef_ent.en_payload.pd_rsize != rsize) {
				D_ERROR("records of %u bytes read as %" PRIu64 "-byte records\n",
					frag->ef_ent.en_payload.pd_rsize, rsize);
				rc = -DER_INVAL;
				goto out;
			}
			found = true;
		}
	}
	if (!found)
		goto out;
	iod->iod_size = rsize;
	if (sgl == NULL)
		goto out;
	for (r = 0; r < iod->iod_nr; r++)
		need += iod->iod_recxs[r].rx_nr * rsize;
	if (sgl_capacity(sgl) < need) {
		rc = -DER_REC2BIG;
		goto out;
	}

	/* copy, zeroes for holes */
	cur_init(&cur, sgl);
	for (r = 0; r < iod->iod_nr && rc == 0; r++) {
		for (f = 0; f < lists[r].el_nr && rc == 0; f++) {
			struct evt_frag *frag = &lists[r].el_frags[f];
			const struct evt_payload_df *pd = &frag->ef_ent.en_payload;
			uint64_t len = (frag->ef_ext.ex_hi - frag->ef_ext.ex_lo + 1) * rsize;
			uint64_t addr = pd->pd_addr + frag->ef_off * rsize;

			if (!frag_is_data(frag, punch))
				rc = cur_out(&cur, NULL, NULL, len);
			else if (pd->pd_type == VOS_MEDIA_DATA)
				rc = data_out(&ic->ic_rd, &cur, addr, len);
			else
				rc = cur_out(&cur, umem_off2ptr(ic->ic_umm, addr), NULL, len);
		}
	}
out:
	if (lists != NULL) {
		for (r = 0; r < iod->iod_nr; r++)
			evt_list_fini(&lists[r]);
		D_FREE(lists);
	}
	evt_close(tcx);
	return rc;
}

/* Every iod reads as nothing; -DER_NONEXIST if a condition asks for a key. */
static int
fetch_none(struct vos_io_ctx *ic, bool dkey_absent)
{
	unsigned int i;

	if (dkey_absent && (ic->ic_flags & DAOS_COND_DKEY_FETCH))
		return -DER_NONEXIST;
	for (i = 0; i < ic->ic_iod_nr; i++) {
		if (iod_cond(ic, &ic->ic_iods[i]) & DAOS_COND_AKEY_FETCH)
			return -DER_NONEXIST;
		iod_empty(&ic->ic_iods[i], ic->ic_sgls != NULL ? &ic->ic_sgls[i] : NULL);
	}
	return 0;
}

/* The walk of a fetch: sizes, heap bytes and zeroes placed, data-file reads queued. */
static int
fetch_walk(struct vos_io_ctx *ic, daos_key_t *dkey)
{
	struct vos_container *cont = ic->ic_cont;
	daos_unit_oid_t oid = ic->ic_oid;
	daos_epoch_t epoch = ic->ic_epoch;
	unsigned int iod_nr = ic->ic_iod_nr;
	daos_iod_t *iods = ic->ic_iods;
	d_sg_list_t *sgls = ic->ic_sgls;
	struct ilog_epc obj_punch, dkey_punch, punch;
	struct vos_krec_df *dkrec, *krec;
	struct vos_obj_df *obj;
	bool visible;
	unsigned int i;
	int rc, rc_big = 0;

	obj = vos_oc_obj(cont, oid);
	rc = obj != NULL ? 0 : vos_obj_find(cont, oid, false, &obj);
	if (rc == -DER_NONEXIST)
		return fetch_none(ic, true);
	if (rc == 0)
		rc = vos_ilog_visible(ic->ic_umm, &obj->vo_ilog, epoch, NULL, &visible, &obj_punch);
	if (rc == 0) {
		dkrec = vos_oc_dkey(cont, obj, dkey);
		if (dkrec == NULL) {
			rc = vos_key_find(ic->ic_pool, &obj->vo_tree, vos_key_feats(oid, true),
					  dkey, false, 0, &dkrec);
			if (rc == 0)
				vos_oc_fill(cont, obj, dkrec);
		}
	}
	if (rc == -DER_NONEXIST)
		return fetch_none(ic, true);
	if (rc == 0)
		rc = vos_ilog_visible(ic->ic_umm, &dkrec->kr_ilog, epoch, &obj_punch, &visible,
				      &dkey_punch);
	if (rc != 0)
		return rc;
	if (!visible)
		return fetch_none(ic, true);

	for (i = 0; i < iod_nr; i++) {
		daos_iod_t *iod = &iods[i];
		d_sg_list_t *sgl = sgls != NULL ? &sgls[i] : NULL;

		rc = vos_key_find(ic->ic_pool, &dkrec->kr_btr, vos_key_feats(oid, false),
				  &iod->iod_name, false, 0, &krec);
		visible = false;
		if (rc == 0)
			rc = vos_ilog_visible(ic->ic_umm, &krec->kr_ilog, epoch, &dkey_punch,
					      &visible, &punch);
		if (rc != 0 && rc != -DER_NONEXIST)
			return rc;
		if (!visible) {
			if (iod_cond(ic, iod) & DAOS_COND_AKEY_FETCH)
				return -DER_NONEXIST;
			iod_empty(iod, sgl);
			continue;
		}
		if ((krec->kr_bmap & VOS_KREC_ARRAY) && iod->iod_type == DAOS_IOD_ARRAY)
			rc = fetch_array(ic, krec, &punch, iod, sgl);
		else if ((krec->kr_bmap & VOS_KREC_SINGLE) && iod->iod_type == DAOS_IOD_SINGLE)
			rc = fetch_single(ic, krec, &punch, iod, sgl);
		else if ((krec->kr_bmap & (VOS_KREC_ARRAY | VOS_KREC_SINGLE)) == 0)
			iod_empty(iod, sgl);
		else
			rc = -DER_INVAL; /* the akey holds the other type */
		if (rc == -DER_REC2BIG) {
			rc_big = rc; /* go on: the caller learns every size */
			continue;
		}
		if (rc != 0)
			return rc;
	}
	return rc_big;
}

int
vos_obj_fetch(daos_handle_t coh, daos_unit_oid_t oid, daos_epoch_t epoch, uint64_t flags,
	      daos_key_t *dkey, unsigned int iod_nr, daos_iod_t *iods, d_sg_list_t *sgls)
{
	struct vos_container *cont = vos_hdl2cont(coh);
	struct vos_io_ctx ic = {0};
	int rc;

	if (cont == NULL || epoch == 0) {
		D_ERROR("bad fetch arguments (epoch %" PRIu64 ")\n", epoch);
		return -DER_INVAL;
	}
	rc = vos_ioc_init(&ic, cont, oid, epoch, flags, dkey, iod_nr, iods, sgls, false);
	if (rc != 0)
		return rc;
	ic.ic_rd.dr_pool = ic.ic_pool;
	rc = fetch_walk(&ic, dkey);
	/* -DER_REC2BIG: the other iods were filled, their data too */
	if (rc == -DER_REC2BIG) {
		int rrc = data_read_end(&ic.ic_rd, 0);

		return rrc != 0 ? rrc : rc;
	}
	return data_read_end(&ic.ic_rd, rc);
}

int
vos_data_read(struct vos_pool *pool, void *buf, size_t len, uint64_t addr)
{
	struct vos_data_rd dr = {.dr_pool = pool};
	d_sg_list_t sgl;
	d_iov_t iov;
	struct vos_sgl_cur cur;
	int rc;

	d_iov_set(&iov, buf, len);
	sgl.sg_nr = 1;
	sgl.sg_nr_out = 0;
	sgl.sg_iovs = &iov;
	cur_init(&cur, &sgl);
	rc = data_out(&dr, &cur, addr, len);
	return data_read_end(&dr, rc);
}
