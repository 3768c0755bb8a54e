/*
 * vos_aggregate.c: aggregation (merge the history of a container below an epoch bound while
 * every snapshot keeps reading exactly as before) and discard (undo everything written in
 * an epoch range). Sits on the object layout of vos_obj.c / vos_io.c: the object index,
 * dkey and akey trees, single-value trees, evtrees and incarnation logs (ilog.c).
 *
 * Retained readers. Aggregation over [lo, hi] with snapshots S keeps, for every reader at
 * an epoch in S or above hi, what it sees: values, extents, keys and their listings. The
 * reader "hi" stands for every epoch above it (what is at or below hi and hidden at hi is
 * hidden above hi too: newer writes only cover more, punch bounds only grow). Readers at
 * other epochs at or below hi lose their view, as in DAOS.
 *
 * Walk: objects, their dkeys, their akeys, each by "first key after the last one seen", so
 * a key deleted on the way never disturbs the walk. Per akey:
 *
 *	dead?  (invisible to every retained reader, its parents' punches included, and no log
 *	        entry above hi): detach the key and its subtree into the container's GC bin
 *	        (one transaction; vos_gc.c frees it in bounded steps)
 *	alive: for each retained reader r, mark the version r reads (single value: the newest
 *	       at or below r; array: every entry evt_find shows at r) unless r's punch bound
 *	       hides it; delete the unmarked versions with epochs in [lo, hi]; merge what is
 *	       left of the heap extents; then ilog_aggregate(hi, S) of the akey's log
 *
 * and the same, one level up, for dkeys (their akeys first) and objects (their dkeys first).
 *
 * Discard of [lo, hi]: delete every version written in [lo, hi] and the log entries at those
 * epochs; a key whose log and subtree are then empty goes too.
 *
 * Invariants:
 * 1. Only versions nobody retained can read are deleted. A version no retained reader
 *    sees is never the newest covering anything at that reader, so removing it (or any set
 *    of such versions) changes no reader's view; what a punch bound hides reads as nothing
 *    with or without it.
 * 2. Aggregation deletes versions only in [lo, hi]; versions below lo are left as they are
 *    (a caller that aggregated up to lo - 1 before need not pay for that history again).
 *    Whole keys go only when dead for every retained reader.
 * 3. Every change is a transaction of at most AGG_CREDITS deletions (a merge transaction:
 *    at most 2 * AGG_CREDITS deletions and inserts together); a transaction refused
 *    by a full WAL is retried after vos_tx_make_room, and it recomputes everything it
 *    writes, so a retry or a crash between transactions leaves a state that a second run
 *    completes. Running twice changes nothing the second time.
 * 4. Freed payloads leave the container accounting (cd_used_*) in the transaction that frees
 *    them (for detached keys, the GC step that frees them); data blocks go back through vea_free
 *and become reusable once that transaction is durable (vea_tx_end after every transaction,
 *vea_flush from the pool's poller).
 * 5. A key's log is aggregated after its subtree, with the same bound and snapshots, so the
 *    punch bounds the subtree was judged by are the ones readers keep seeing.
 * 6. Extents (heap and data file) and extent punches are trimmed to what retained readers
 *    see and merged, group by group of epochs between consecutive readers (see
 *    "Partial-extent merge" below): new payloads are copied before the old ones are freed;
 *    a group too big for one transaction is merged over several, each leaving a state that
 *    reads the same.
 * 7. A data-file run is written to new blocks before the transaction that references it,
 *    outside it (read the live pieces, write, bio_wal_dep_sync), and that transaction uses
 *    it only if its own plan, recomputed from the tree, has exactly the runs written
 *    (-DER_TX_RESTART otherwise, and the blocks go back): another ULT may have changed the
 *    array while this one waited. Old extents are freed in the transaction (aging until
 *    durable, and held back while reads are in flight, vos_pool_read_begin).
 * 8. The transaction skips that recomputation, and uses the prepare's plan, only when no
 *    transaction committed since the prepare (the pool's last LSN is the same: the WAL gives
 *    every commit a new one), so the tree is exactly the one the plan was computed from.
 */
#define D_LOGFAC vos

#include <gurt/common.h>

#include "vos_internal.h"

/* Deletions per transaction (values or keys), so that no redo record outgrows the WAL. */
#define AGG_CREDITS 128
/* A run of data-file pieces joins neighbours up to this many bytes. */
#define AGG_DATA_RUN_MAX (1ULL << 20)
/* Data-file bytes one merge transaction rewrites at most (unless one piece is larger). */
#define AGG_DATA_TX_MAX (8ULL << 20)
/* Merge transactions of a group restarted because the tree changed during their I/O. */
#define AGG_RESTART_MAX 8

struct agg_ctx {
	struct vos_container *ac_cont;
	struct vos_pool *ac_pool;
	struct umem_instance *ac_umm;
	daos_unit_oid_t ac_oid; /* the object being walked (its key kinds) */
	uint64_t ac_lo;
	uint64_t ac_hi;
	bool ac_discard;
	/* retained readers: the snapshots at or below hi, sorted, unique, and hi */
	uint64_t *ac_rdrs;
	uint32_t ac_nr;
	const uint64_t *ac_snaps; /* as the caller gave them (ilog_aggregate) */
	uint32_t ac_snap_nr;
	/* punch bound of each retained reader: object, dkey, akey level */
	struct ilog_epc *ac_pb[3];
	/* what the run removed (debug log) */
	uint64_t ac_vals;
	uint64_t ac_keys;
	int64_t ac_merged; /* extents merged away (net) */
};

enum { AGG_OBJ = 0, AGG_DKEY = 1, AGG_AKEY = 2 };

/*
 * Transactions.
 */

typedef int (*agg_tx_fn_t)(struct agg_ctx *ac, void *arg);

/*
 * Run @fn in a transaction of its own; retry when the WAL was full. @fn must set every
 * output of @arg afresh on each call: an aborted attempt's outputs are discarded.
 */
static int
agg_tx(struct agg_ctx *ac, agg_tx_fn_t fn, void *arg)
{
	struct umem_instance *umm = ac->ac_umm;
	unsigned int attempt;
	int rc;

	for (attempt = 0;; attempt++) {
		rc = umem_tx_begin(umm);
		if (rc == 0) {
			rc = fn(ac, arg);
			rc = umem_tx_end(umm, rc);
			vea_tx_end(ac->ac_pool->vp_vea, umem_tx_last_lsn(umm));
		}
		if (rc == 0 || attempt == VOS_TX_RETRY_MAX)
			return rc;
		rc = vos_tx_make_room(ac->ac_pool, rc);
		if (rc != 0)
			return rc;
	}
}

/*
 * Take freed payload bytes off the container accounting and add @data_new bytes of new
 * data-file extents (inside the transaction).
 */
static int
agg_account_new(struct agg_ctx *ac, uint64_t scm, uint64_t data, uint64_t data_new)
{
	struct vos_cont_df *cd = ac->ac_cont->vc_df;
	int rc;

	if (scm == 0 && data == 0 && data_new == 0)
		return 0;
	rc = umem_tx_add_ptr(ac->ac_umm, &cd->cd_used_scm,
			     sizeof(cd->cd_used_scm) + sizeof(cd->cd_used_data));
	if (rc != 0)
		return rc;
	cd->cd_used_scm -= scm < cd->cd_used_scm ? scm : cd->cd_used_scm;
	cd->cd_used_data -= data < cd->cd_used_data ? data : cd->cd_used_data;
	cd->cd_used_data += data_new;
	return 0;
}

/* Take freed payload bytes off the container accounting (inside the transaction). */
static int
agg_account(struct agg_ctx *ac, uint64_t scm, uint64_t data)
{
	return agg_account_new(ac, scm, data, 0);
}

/*
 * Visibility: punch bounds of the retained readers, and whether a key is dead.
 */

/*
 * Fill ac_pb[@level] for the key with log @ilog under the level above (none for objects);
 * *@dead: no retained reader sees the key and its log has nothing above hi.
 */
static int
agg_key_readers(struct agg_ctx *ac, int level, const struct ilog_df *ilog, bool *dead)
{
	const struct ilog_epc *parent = level == AGG_OBJ ? NULL : ac->ac_pb[level - 1];
	struct ilog_entries ents;
	uint32_t i;
	int rc;

	*dead = true;
	for (i = 0; i < ac->ac_nr; i++) {
		bool visible;

		rc = vos_ilog_visible(ac->ac_umm, ilog, ac->ac_rdrs[i],
				      parent != NULL ? &parent[i] : NULL, &visible,
				      &ac->ac_pb[level][i]);
		if (rc != 0)
			return rc;
		if (visible)
			*dead = false;
	}
	if (*dead && ac->ac_hi != DAOS_EPOCH_MAX) {
		rc = ilog_fetch(ac->ac_umm, ilog, ac->ac_hi + 1, DAOS_EPOCH_MAX, &ents);
		if (rc != 0)
			return rc;
		if (ents.ie_nr > 0)
			*dead = false;
	}
	return 0;
}

/*
 * Values: which versions retained readers read, and deleting the others.
 */

/* The versions to keep: single-value keys or evtree rectangles, sorted. */
struct agg_keep {
	struct vos_singv_key *ak_sv;
	struct evt_rect *ak_rect;
	uint32_t ak_nr;
	uint32_t ak_cap;
};

static int
sv_key_cmp(const void *a, const void *b)
{
	const struct vos_singv_key *x = a, *y = b;

	if (x->sk_epoch != y->sk_epoch)
		return x->sk_epoch < y->sk_epoch ? -1 : 1;
	if (x->sk_minor != y->sk_minor)
		return x->sk_minor < y->sk_minor ? -1 : 1;
	return 0;
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

static void
keep_fini(struct agg_keep *keep)
{
	D_FREE(keep->ak_sv);
	D_FREE(keep->ak_rect);
	memset(keep, 0, sizeof(*keep));
}

/* Room for one more entry of @size bytes in *@arr. */
static int
keep_grow(struct agg_keep *keep, void **arr, size_t size)
{
	uint32_t cap;
	void *p;

	if (keep->ak_nr < keep->ak_cap)
		return 0;
	cap = keep->ak_cap == 0 ? 16 : keep->ak_cap * 2;
	D_REALLOC(p, *arr, (size_t)cap * size);
	if (p == NULL)
		return -DER_NOMEM;
	*arr = p;
	keep->ak_cap = cap;
	return 0;
}

/* Sort and deduplicate what was collected. */
static void
keep_sort(struct agg_keep *keep, bool sv)
{
	size_t size = sv ? sizeof(*keep->ak_sv) : sizeof(*keep->ak_rect);
	int (*cmp)(const void *, const void *) = sv ? sv_key_cmp : rect_cmp;
	char *arr = sv ? (char *)keep->ak_sv : (char *)keep->ak_rect;
	uint32_t i, n = 0;

	if (keep->ak_nr == 0)
		return;
	qsort(arr, keep->ak_nr, size, cmp);
	for (i = 1; i < keep->ak_nr; i++) {
		if (cmp(arr + n * size, arr + i * size) != 0) {
			n++;
			memmove(arr + n * size, arr + i * size, size);
		}
	}
	keep->ak_nr = n + 1;
}

static bool
keep_has(const struct agg_keep *keep, const void *key, bool sv)
{
	if (keep->ak_nr == 0)
		return false;
	if (sv)
		return bsearch(key, keep->ak_sv, keep->ak_nr, sizeof(*keep->ak_sv), sv_key_cmp) !=
		       NULL;
	return bsearch(key, keep->ak_rect, keep->ak_nr, sizeof(*keep->ak_rect), rect_cmp) != NULL;
}

/* The single-value versions the retained readers read (ac_pb[AGG_AKEY] is set). */
static int
keep_single(struct agg_ctx *ac, struct vos_krec_df *krec, struct agg_keep *keep)
{
	struct btr_instance *toh;
	uint32_t i;
	int rc;

	if (krec->kr_btr.tr_order == 0)
		return 0;
	rc = dbtree_open_inplace_ex(&krec->kr_btr, ac->ac_umm, ac->ac_pool, &toh);
	if (rc != 0)
		return rc;
	for (i = 0; i < ac->ac_nr; i++) {
		struct vos_singv_key key = {.sk_epoch = ac->ac_rdrs[i], .sk_minor = VOS_MINOR_EPC};
		struct vos_irec_df *irec;
		d_iov_t kiov, val;

		d_iov_set(&kiov, &key, sizeof(key));
		d_iov_set(&val, NULL, 0);
		rc = dbtree_fetch(toh, BTR_PROBE_LE, &kiov, NULL, &val);
		if (rc == -DER_NONEXIST) {
			rc = 0;
			continue;
		}
		if (rc != 0)
			break;
		irec = val.iov_buf;
		if (ilog_epc_punched(irec->ir_key.sk_epoch, irec->ir_key.sk_minor,
				     &ac->ac_pb[AGG_AKEY][i]))
			continue; /* hidden at this reader with or without it */
		rc = keep_grow(keep, (void **)&keep->ak_sv, sizeof(*keep->ak_sv));
		if (rc != 0)
			break;
		keep->ak_sv[keep->ak_nr++] = irec->ir_key;
	}
	dbtree_close(toh);
	keep_sort(keep, true);
	return rc;
}

/* The evtree entries some retained reader sees part of (ac_pb[AGG_AKEY] is set). */
static int
keep_array(struct agg_ctx *ac, struct vos_krec_df *krec, struct agg_keep *keep)
{
	struct evt_extent all = {.ex_lo = 0, .ex_hi = UINT64_MAX};
	struct evt_context *tcx;
	struct evt_list list;
	uint32_t i, f;
	int rc;

	rc = evt_open(&krec->kr_evt, ac->ac_umm, &tcx);
	if (rc == -DER_NONEXIST)
		return 0;
	if (rc != 0)
		return rc;
	evt_list_init(&list);
	for (i = 0; i < ac->ac_nr && rc == 0; i++) {
		rc = evt_find(tcx, &all, ac->ac_rdrs[i], 0, &list);
		for (f = 0; f < list.el_nr && rc == 0; f++) {
			const struct evt_frag *frag = &list.el_frags[f];
			const struct evt_rect *rect = &frag->ef_ent.en_rect;

			if ((frag->ef_vis & EVT_UNWRITTEN) || rect->rc_epc < ac->ac_lo ||
			    ilog_epc_punched(rect->rc_epc, rect->rc_minor_epc,
					     &ac->ac_pb[AGG_AKEY][i]))
				continue;
			rc = keep_grow(keep, (void **)&keep->ak_rect, sizeof(*keep->ak_rect));
			if (rc == 0)
				keep->ak_rect[keep->ak_nr++] = *rect;
		}
	}
	evt_list_fini(&list);
	evt_close(tcx);
	keep_sort(keep, false);
	return rc;
}

/* One transaction's worth of deletions of the versions of one akey. */
struct agg_val_arg {
	struct vos_krec_df *va_krec;
	uint64_t va_lo; /* versions with epochs in [va_lo, va_hi] go ... */
	uint64_t va_hi;
	const struct agg_keep *va_keep; /* ... unless kept */
	/* in: where this transaction starts (va_started: an array walk has begun) */
	struct vos_singv_key va_sv_start;
	struct evt_anchor va_anchor;
	bool va_started;
	/* out: where the next one starts, unless va_done: nothing left to examine */
	struct vos_singv_key va_sv_next;
	struct evt_anchor va_anchor_next;
	bool va_done;
	uint32_t va_deleted;
};

static int
agg_del_single(struct agg_ctx *ac, void *arg)
{
	struct agg_val_arg *va = arg;
	struct vos_krec_df *krec = va->va_krec;
	struct btr_iterator *ih = NULL;
	struct btr_instance *toh;
	uint64_t scm = 0, data = 0;
	int credits = AGG_CREDITS;
	d_iov_t kiov, val;
	int rc;

	va->va_done = true;
	va->va_deleted = 0;
	if (krec->kr_btr.tr_order == 0)
		return 0;
	rc = dbtree_open_inplace_ex(&krec->kr_btr, ac->ac_umm, ac->ac_pool, &toh);
	if (rc != 0)
		return rc;
	rc = dbtree_iter_prepare(toh, &ih);
	if (rc != 0)
		goto out;
	d_iov_set(&kiov, &va->va_sv_start, sizeof(va->va_sv_start));
	rc = dbtree_iter_probe(ih, BTR_PROBE_GE, &kiov, NULL);
	while (rc == 0) {
		struct vos_irec_df *irec;

		d_iov_set(&val, NULL, 0);
		rc = dbtree_iter_fetch(ih, NULL, &val, NULL);
		if (rc != 0)
			break;
		irec = val.iov_buf;
		if (irec->ir_key.sk_epoch > va->va_hi)
			break;
		if (!keep_has(va->va_keep, &irec->ir_key, true)) {
			if (credits == 0) {
				/* the next transaction starts here */
				va->va_sv_next = irec->ir_key;
				va->va_done = false;
				break;
			}
			if (irec->ir_media == VOS_MEDIA_DATA)
				data += vos_data_bytes(irec->ir_size);
			else
				scm += irec->ir_size;
			rc = dbtree_iter_delete(ih, ac->ac_pool);
			if (rc != 0)
				break;
			credits--;
			va->va_deleted++;
		}
		rc = dbtree_iter_next(ih);
	}
	if (rc == -DER_NONEXIST)
		rc = 0;
	if (rc == 0)
		rc = agg_account(ac, scm, data);
out:
	if (ih != NULL)
		dbtree_iter_finish(ih);
	dbtree_close(toh);
	return rc;
}

static int
agg_del_array(struct agg_ctx *ac, void *arg)
{
	struct agg_val_arg *va = arg;
	struct evt_filter filter = {
	    .fr_ex = {.ex_lo = 0, .ex_hi = UINT64_MAX},
	    .fr_epc_lo = va->va_lo,
	    .fr_epc_hi = va->va_hi,
	};
	struct evt_context *tcx;
	struct evt_iter *it = NULL;
	struct evt_anchor anchor = va->va_anchor;
	uint64_t scm = 0, data = 0;
	int credits = AGG_CREDITS;
	int rc;

	va->va_done = true;
	va->va_deleted = 0;
	rc = evt_open(&va->va_krec->kr_evt, ac->ac_umm, &tcx);
	if (rc == -DER_NONEXIST)
		return 0;
	if (rc != 0)
		return rc;
	rc = evt_iter_prepare(tcx, 0, &filter, &it);
	if (rc != 0)
		goto out;
	rc = evt_iter_probe(it, va->va_started ? &anchor : NULL);
	while (rc == 0) {
		struct evt_anchor here;
		struct evt_frag frag;
		struct evt_entry ent;
		uint64_t bytes;

		rc = evt_iter_fetch(it, &frag, &here);
		if (rc != 0)
			break;
		if (!keep_has(va->va_keep, &frag.ef_ent.en_rect, false)) {
			if (credits == 0) {
				va->va_done = false;
				break;
			}
			rc = evt_delete(tcx, &frag.ef_ent.en_rect, &ent);
			if (rc != 0)
				break;
			bytes = (ent.en_rect.rc_ex.ex_hi - ent.en_rect.rc_ex.ex_lo + 1) *
				ent.en_payload.pd_rsize;
			if ((ent.en_flags & EVT_ENT_HOLE) || ent.en_payload.pd_rsize == 0)
				bytes = 0;
			else if (ent.en_payload.pd_type == VOS_MEDIA_DATA)
				data += vos_data_bytes(bytes);
			else
				scm += bytes;
			rc = vos_ent_payload_free(ac->ac_umm, &ent, ac->ac_pool);
			if (rc != 0)
				break;
			credits--;
			va->va_deleted++;
		}
		anchor = here;
		rc = evt_iter_next(it);
	}
	if (rc == -DER_NONEXIST)
		rc = 0;
	if (rc == 0)
		rc = agg_account(ac, scm, data);
	if (rc == 0 && !va->va_done)
		va->va_anchor_next = anchor;
out:
	if (it != NULL)
		evt_iter_finish(it);
	evt_close(tcx);
	return rc;
}

/* Delete the versions of akey @krec in [@lo, @hi] that @keep does not hold. */
static int
agg_del_values(struct agg_ctx *ac, struct vos_krec_df *krec, uint64_t lo, uint64_t hi,
	       const struct agg_keep *keep)
{
	struct agg_val_arg va = {
	    .va_krec = krec,
	    .va_lo = lo,
	    .va_hi = hi,
	    .va_keep = keep,
	    .va_sv_start = {.sk_epoch = lo},
	};
	agg_tx_fn_t fn;
	int rc;

	if (krec->kr_bmap & VOS_KREC_SINGLE)
		fn = agg_del_single;
	else if (krec->kr_bmap & VOS_KREC_ARRAY)
		fn = agg_del_array;
	else
		return 0; /* only punched: no values */
	do {
		rc = agg_tx(ac, fn, &va);
		if (rc != 0)
			break;
		ac->ac_vals += va.va_deleted;
		/* committed: the next transaction resumes where this one stopped */
		va.va_sv_start = va.va_sv_next;
		va.va_anchor = va.va_anchor_next;
		va.va_started = true;
	} while (!va.va_done);
	return rc;
}

/* Does akey @krec still hold any version? */
static int
agg_values_empty(struct agg_ctx *ac, struct vos_krec_df *krec, bool *empty)
{
	struct evt_context *tcx;
	int rc;

	*empty = true;
	if (krec->kr_bmap & VOS_KREC_ARRAY) {
		rc = evt_open(&krec->kr_evt, ac->ac_umm, &tcx);
		if (rc == -DER_NONEXIST)
			return 0;
		if (rc != 0)
			return rc;
		*empty = evt_count(tcx) == 0;
		evt_close(tcx);
		return 0;
	}
	if (krec->kr_btr.tr_order != 0)
		*empty = dbtree_is_empty_inplace(&krec->kr_btr);
	return 0;
}

/*
 * Partial-extent merge. Readers are sorted r_0 < ... < r_{n-1} = hi; group i holds the
 * heap (and hole) entries with epochs in (r_{i-1}, r_i] and in [lo, hi]. Only readers
 * r_j, j >= i, can see them, and at any index at most one entry of a group is visible to
 * them (two would cover each other). A piece of an entry visible to some such reader has
 * no entry covering it in (its epoch, r_i], and no punch either, so it reads the same at
 * every reader when it moves to any epoch in (its epoch, r_i]: the group's visible pieces
 * are rewritten as maximal runs of adjacent pieces (same kind, same record size) at the
 * group's newest epoch, and the group's entries go. Parts nobody sees are dropped (the
 * entries shrink) and neighbours merge (the tree shrinks). Runs are of one kind: holes,
 * heap pieces (below VOS_DATA_THRESH bytes) or data-file pieces (up to AGG_DATA_RUN_MAX
 * bytes, written to new blocks: merge_data_prepare). A data-file extent visible whole and
 * alone in its run stays where it is, at its own epoch: leaving an entry out of a group's
 * rewrite does not change the argument, and moving it would only cost I/O.
 *
 * The same argument makes any part of the work a correct state, so a group of any size is
 * merged in transactions of bounded size: each recomputes the pieces and runs from the
 * tree, deletes entries nobody sees, then rewrites the runs that are not yet one whole
 * entry at the group's epoch, in index order, until its budget is spent. It stops after a
 * piece: the run is written as far as it got (the next transaction finds it as one piece
 * and extends it; the greedy cut by VOS_DATA_THRESH comes out the same), and an entry
 * deleted with pieces beyond that index is written back from there on at its own epoch
 * (the same records at the same epoch read the same). Every transaction either deletes an
 * entry nobody sees or turns two or more pieces into one, so the loop ends, in the state a
 * single transaction would have reached; a run already whole is never touched, so a
 * second pass changes nothing.
 */

/* A visible piece of an entry of the group being merged. */
struct agg_piece {
	struct evt_extent ap_ext;
	struct evt_entry ap_ent; /* the entry it comes from */
};

/* A data-file run of the next merge transaction, written to new blocks ahead of it. */
struct agg_data_prep {
	struct evt_rect dp_rect;
	uint64_t dp_bytes;
	uint64_t dp_addr;
	bool dp_used;
};

/* An entry the merge writes: a run of pieces, or the rest of an entry it cut. */
struct agg_out {
	struct evt_entry mo_ent;
	uint64_t mo_bytes; /* payload size */
	uint32_t mo_first; /* a run: pieces [mo_first, mo_end) */
	uint32_t mo_end;
	int32_t mo_src; /* a cut entry: its index in the group's entries; a run: -1 */
};

/* The state of one merge transaction (agg_merge_group). */
struct agg_merge {
	struct evt_entry *mg_old; /* the group's entries, sorted by rect */
	uint32_t mg_nold;
	uint64_t mg_epc;         /* the group's newest epoch */
	struct agg_piece *mg_ps; /* the visible pieces, by index */
	uint32_t mg_nps;
	uint32_t *mg_pent; /* entry of each piece */
	uint32_t *mg_run;  /* runs: piece index where each starts, then mg_nps */
	uint32_t mg_nruns;
	uint64_t *mg_last; /* per entry: end of its last piece */
	bool *mg_seen;     /* per entry: it has a piece */
	bool *mg_del;      /* per entry: deleted by this transaction */
	struct agg_out *mg_out;
	uint32_t mg_nout;
};

struct agg_merge_arg {
	struct vos_krec_df *ma_krec;
	/* data-file runs prepared for the next transaction and their reservations */
	struct agg_data_prep *ma_prep;
	uint32_t ma_nprep;
	d_list_t ma_resrvd;
	uint64_t ma_lo, ma_hi; /* the group's epochs */
	uint32_t ma_first;     /* index of the first reader that can see the group */
	int64_t ma_merged;     /* out: entries removed (net) */
	bool ma_done;          /* out: the group is merged (else call again) */
	/* committed transactions of this group, and a bound set by the first (a safety net) */
	uint64_t ma_rounds;
	uint64_t ma_limit; /* out (first transaction: 0 in) */
	/*
	 * The plan merge_data_prepare computed, kept for the transaction: valid while the
	 * pool's last committed LSN is still ma_plan_lsn (the tree cannot have changed).
	 */
	struct agg_merge ma_plan;
	uint64_t ma_plan_lsn;
	uint32_t ma_plan_ndel;
	bool ma_plan_valid;
	bool ma_plan_work;
	bool ma_plan_done;
};

static int
piece_cmp(const void *a, const void *b)
{
	const struct agg_piece *x = a, *y = b;

	if (x->ap_ext.ex_lo != y->ap_ext.ex_lo)
		return x->ap_ext.ex_lo < y->ap_ext.ex_lo ? -1 : 1;
	return x->ap_ext.ex_hi < y->ap_ext.ex_hi ? -1 : x->ap_ext.ex_hi > y->ap_ext.ex_hi;
}

static bool
piece_hole(const struct agg_piece *p)
{
	return (p->ap_ent.en_flags & EVT_ENT_HOLE) || p->ap_ent.en_payload.pd_rsize == 0;
}

/* A piece of a data-file extent (its run is written to the data file too). */
static bool
piece_data(const struct agg_piece *p)
{
	return !piece_hole(p) && p->ap_ent.en_payload.pd_type == VOS_MEDIA_DATA;
}

/* Collect the group's visible pieces, sorted and with overlaps of one entry folded. */
static int
merge_pieces(struct agg_ctx *ac, struct evt_context *tcx, struct agg_merge_arg *ma,
	     struct agg_piece **pieces, uint32_t *nr)
{
	struct evt_extent all = {.ex_lo = 0, .ex_hi = UINT64_MAX};
	struct agg_piece *ps = NULL;
	uint32_t cap = 0, n = 0, i, f, m;
	struct evt_list list;
	int rc = 0;

	evt_list_init(&list);
	for (i = ma->ma_first; i < ac->ac_nr && rc == 0; i++) {
		rc = evt_find(tcx, &all, ac->ac_rdrs[i], 0, &list);
		for (f = 0; f < list.el_nr && rc == 0; f++) {
			const struct evt_frag *frag = &list.el_frags[f];
			const struct evt_rect *rect = &frag->ef_ent.en_rect;

			if ((frag->ef_vis & EVT_UNWRITTEN) || rect->rc_epc < ma->ma_lo ||
			    rect->rc_epc > ma->ma_hi ||
			    ilog_epc_punched(rect->rc_epc, rect->rc_minor_epc,
					     &ac->ac_pb[AGG_AKEY][i]))
				continue;
			if (n == cap) {
				struct agg_piece *p;

				cap = cap == 0 ? 16 : cap * 2;
				D_REALLOC_ARRAY(p, ps, cap);
				if (p == NULL) {
					rc = -DER_NOMEM;
					break;
				}
				ps = p;
			}
			ps[n].ap_ext = frag->ef_ext;
			ps[n].ap_ent = frag->ef_ent;
			n++;
		}
	}
	evt_list_fini(&list);
	if (rc != 0) {
		D_FREE(ps);
		return rc;
	}
	/* the same entry seen by several readers: fold overlapping pieces */
	if (n > 0)
		qsort(ps, n, sizeof(*ps), piece_cmp);
	for (i = 0, m = 0; i < n; i++) {
		if (m > 0 && ps[i].ap_ext.ex_lo <= ps[m - 1].ap_ext.ex_hi) {
			/* one entry at most is visible per index in a group */
			if (rect_cmp(&ps[i].ap_ent.en_rect, &ps[m - 1].ap_ent.en_rect) != 0) {
				D_ERROR("two entries of one group visible at index %" PRIu64 "\n",
					ps[i].ap_ext.ex_lo);
				D_FREE(ps);
				return -DER_DF_INVAL;
			}
			if (ps[i].ap_ext.ex_hi > ps[m - 1].ap_ext.ex_hi)
				ps[m - 1].ap_ext.ex_hi = ps[i].ap_ext.ex_hi;
			continue;
		}
		/* adjacent fragments of one entry are one piece: a whole entry stays settled */
		if (m > 0 && ps[i].ap_ext.ex_lo == ps[m - 1].ap_ext.ex_hi + 1 &&
		    rect_cmp(&ps[i].ap_ent.en_rect, &ps[m - 1].ap_ent.en_rect) == 0) {
			ps[m - 1].ap_ext.ex_hi = ps[i].ap_ext.ex_hi;
			continue;
		}
		ps[m++] = ps[i];
	}
	*pieces = ps;
	*nr = m;
	return 0;
}

/* May piece @b extend the run that ends with piece @a, of @bytes bytes so far? */
static bool
merge_joins(const struct agg_piece *a, const struct agg_piece *b, uint64_t bytes)
{
	uint64_t more = (b->ap_ext.ex_hi - b->ap_ext.ex_lo + 1) * b->ap_ent.en_payload.pd_rsize;

	if (b->ap_ext.ex_lo != a->ap_ext.ex_hi + 1 || piece_hole(a) != piece_hole(b) ||
	    piece_data(a) != piece_data(b))
		return false;
	if (piece_hole(a))
		return true;
	if (a->ap_ent.en_payload.pd_rsize != b->ap_ent.en_payload.pd_rsize)
		return false;
	return bytes + more < (piece_data(a) ? AGG_DATA_RUN_MAX : VOS_DATA_THRESH);
}

static int
ent_cmp(const void *a, const void *b)
{
	return rect_cmp(&((const struct evt_entry *)a)->en_rect,
			&((const struct evt_entry *)b)->en_rect);
}

static uint64_t
piece_bytes(const struct agg_piece *p)
{
	if (piece_hole(p))
		return 0;
	return (p->ap_ext.ex_hi - p->ap_ext.ex_lo + 1) * p->ap_ent.en_payload.pd_rsize;
}

/* The entry that run @r of the pieces [@first, @end) becomes, at the group's epoch. */
static void
merge_run_ent(struct agg_merge *mg, uint32_t first, uint32_t end, struct agg_out *out)
{
	const struct agg_piece *p = &mg->mg_ps[first];
	struct evt_entry *run = &out->mo_ent;
	uint32_t k;

	memset(out, 0, sizeof(*out));
	out->mo_first = first;
	out->mo_end = end;
	out->mo_src = -1;
	for (k = first; k < end; k++)
		out->mo_bytes += piece_bytes(&mg->mg_ps[k]);
	run->en_rect.rc_ex.ex_lo = p->ap_ext.ex_lo;
	run->en_rect.rc_ex.ex_hi = mg->mg_ps[end - 1].ap_ext.ex_hi;
	run->en_rect.rc_epc = mg->mg_epc;
	run->en_rect.rc_minor_epc = VOS_MINOR_EPC;
	run->en_flags = piece_hole(p) ? EVT_ENT_HOLE : 0;
	run->en_payload.pd_type = piece_data(p) ? VOS_MEDIA_DATA : VOS_MEDIA_SCM;
	run->en_payload.pd_rsize = piece_hole(p) ? 0 : p->ap_ent.en_payload.pd_rsize;
	run->en_payload.pd_ver = p->ap_ent.en_payload.pd_ver;
	run->en_payload.pd_addr = UMOFF_NULL;
}

/* A run that is one whole entry at the group's epoch already: nothing to do. */
static bool
merge_run_settled(struct agg_merge *mg, uint32_t r)
{
	uint32_t first = mg->mg_run[r], end = mg->mg_run[r + 1];
	struct agg_out out;

	if (end - first != 1)
		return false;
	merge_run_ent(mg, first, end, &out);
	if (rect_cmp(&out.mo_ent.en_rect, &mg->mg_ps[first].ap_ent.en_rect) == 0)
		return true;
	/* a whole data-file extent alone in its run: moving it up would only cost I/O */
	return piece_data(&mg->mg_ps[first]) &&
	       out.mo_ent.en_rect.rc_ex.ex_lo == mg->mg_ps[first].ap_ent.en_rect.rc_ex.ex_lo &&
	       out.mo_ent.en_rect.rc_ex.ex_hi == mg->mg_ps[first].ap_ent.en_rect.rc_ex.ex_hi;
}

/* The group's entries (heap and holes), its pieces, their entries and the runs. */
static int
merge_load(struct agg_ctx *ac, struct evt_context *tcx, struct agg_merge_arg *ma,
	   struct agg_merge *mg)
{
	struct evt_filter filter = {
	    .fr_ex = {.ex_lo = 0, .ex_hi = UINT64_MAX},
	    .fr_epc_lo = ma->ma_lo,
	    .fr_epc_hi = ma->ma_hi,
	};
	struct evt_iter *it = NULL;
	uint32_t cap = 0, i, k;
	uint64_t bytes = 0;
	int rc;

	rc = evt_iter_prepare(tcx, 0, &filter, &it);
	if (rc == 0)
		rc = evt_iter_probe(it, NULL);
	while (rc == 0) {
		struct evt_frag frag;

		rc = evt_iter_fetch(it, &frag, NULL);
		if (rc != 0)
			break;
		{
			if (mg->mg_nold == cap) {
				struct evt_entry *p;

				cap = cap == 0 ? 64 : cap * 2;
				D_REALLOC_ARRAY(p, mg->mg_old, cap);
				if (p == NULL) {
					rc = -DER_NOMEM;
					break;
				}
				mg->mg_old = p;
			}
			mg->mg_old[mg->mg_nold++] = frag.ef_ent;
			if (frag.ef_ent.en_rect.rc_epc > mg->mg_epc)
				mg->mg_epc = frag.ef_ent.en_rect.rc_epc;
		}
		rc = evt_iter_next(it);
	}
	if (it != NULL)
		evt_iter_finish(it);
	if (rc != -DER_NONEXIST)
		return rc;
	if (mg->mg_nold == 0)
		return 0;
	qsort(mg->mg_old, mg->mg_nold, sizeof(*mg->mg_old), ent_cmp);
	rc = merge_pieces(ac, tcx, ma, &mg->mg_ps, &mg->mg_nps);
	if (rc != 0)
		return rc;

	D_ALLOC_ARRAY(mg->mg_last, mg->mg_nold);
	D_ALLOC_ARRAY(mg->mg_seen, mg->mg_nold);
	D_ALLOC_ARRAY(mg->mg_del, mg->mg_nold);
	D_ALLOC_ARRAY(mg->mg_pent, mg->mg_nps + 1);
	D_ALLOC_ARRAY(mg->mg_run, mg->mg_nps + 1);
	D_ALLOC_ARRAY(mg->mg_out, mg->mg_nps + mg->mg_nold);
	if (mg->mg_last == NULL || mg->mg_seen == NULL || mg->mg_del == NULL ||
	    mg->mg_pent == NULL || mg->mg_run == NULL || mg->mg_out == NULL)
		return -DER_NOMEM;
	for (k = 0; k < mg->mg_nps; k++) {
		const struct evt_entry *e;

		e = bsearch(&mg->mg_ps[k].ap_ent, mg->mg_old, mg->mg_nold, sizeof(*mg->mg_old),
			    ent_cmp);
		if (e == NULL) {
			D_ERROR("visible piece at %" PRIu64 " of no entry of its group\n",
				mg->mg_ps[k].ap_ext.ex_lo);
			return -DER_DF_INVAL;
		}
		i = (uint32_t)(e - mg->mg_old);
		mg->mg_pent[k] = i;
		mg->mg_seen[i] = true;
		mg->mg_last[i] = mg->mg_ps[k].ap_ext.ex_hi;
	}
	/* maximal runs of adjacent pieces of one kind, data runs below VOS_DATA_THRESH */
	for (k = 0; k < mg->mg_nps; k++) {
		if (k == 0 || !merge_joins(&mg->mg_ps[k - 1], &mg->mg_ps[k], bytes)) {
			mg->mg_run[mg->mg_nruns++] = k;
			bytes = 0;
		}
		bytes += piece_bytes(&mg->mg_ps[k]);
	}
	mg->mg_run[mg->mg_nruns] = mg->mg_nps;
	return 0;
}

/*
 * Plan one transaction: delete entries no reader sees, then rewrite the runs that are not
 * whole entries yet, in index order, as long as the budget lasts. A run cut short is written
 * as far as it got; an entry deleted with pieces beyond that point is cut there and its rest
 * written back at its own epoch (it reads the same). Returns whether the group is done.
 */
static bool
merge_plan(struct agg_merge *mg, uint32_t *ndel)
{
	uint32_t budget = 2 * AGG_CREDITS, used = 0, r, k, i;
	uint64_t end = 0, data = 0;
	bool have_end = false, done = true;

	*ndel = 0;
	for (i = 0; i < mg->mg_nold; i++) {
		if (mg->mg_seen[i])
			continue;
		if (used == AGG_CREDITS) {
			done = false;
			break;
		}
		mg->mg_del[i] = true;
		(*ndel)++;
		used++;
	}
	for (r = 0; r < mg->mg_nruns && done; r++) {
		uint32_t first = mg->mg_run[r];

		if (merge_run_settled(mg, r))
			continue;
		/* a new entry costs its deletion and the rest it may leave; a run its insert */
		for (k = first; k < mg->mg_run[r + 1]; k++) {
			i = mg->mg_pent[k];
			if (used + (mg->mg_del[i] ? 0 : 2) + (k == first ? 1 : 0) > budget ||
			    (piece_data(&mg->mg_ps[k]) && data > 0 &&
			     data + piece_bytes(&mg->mg_ps[k]) > AGG_DATA_TX_MAX)) {
				done = false;
				break;
			}
			if (piece_data(&mg->mg_ps[k]))
				data += piece_bytes(&mg->mg_ps[k]);
			used += (mg->mg_del[i] ? 0 : 2) + (k == first ? 1 : 0);
			if (!mg->mg_del[i]) {
				mg->mg_del[i] = true;
				(*ndel)++;
			}
			end = mg->mg_ps[k].ap_ext.ex_hi;
			have_end = true;
		}
		if (k > first)
			merge_run_ent(mg, first, k, &mg->mg_out[mg->mg_nout++]);
	}
	if (done || !have_end)
		return done;
	for (i = 0; i < mg->mg_nold; i++) {
		const struct evt_entry *e = &mg->mg_old[i];
		struct agg_out *out;

		if (!mg->mg_del[i] || !mg->mg_seen[i] || mg->mg_last[i] <= end)
			continue;
		out = &mg->mg_out[mg->mg_nout++];
		memset(out, 0, sizeof(*out));
		out->mo_src = (int32_t)i;
		out->mo_ent = *e;
		out->mo_ent.en_rect.rc_ex.ex_lo = end + 1;
		out->mo_ent.en_payload.pd_addr = UMOFF_NULL;
		if (!(e->en_flags & EVT_ENT_HOLE))
			out->mo_bytes = (e->en_rect.rc_ex.ex_hi - end) * e->en_payload.pd_rsize;
	}
	return false;
}

/* Allocate and fill the payload of @out from the entries it comes from. */
static int
merge_copy(struct umem_instance *umm, struct agg_merge *mg, struct agg_out *out)
{
	const struct evt_entry *e;
	char *dst;
	uint32_t k;

	if (out->mo_bytes == 0 || out->mo_ent.en_payload.pd_type == VOS_MEDIA_DATA)
		return 0; /* data-file runs were written ahead (merge_data_prepare) */
	out->mo_ent.en_payload.pd_addr = umem_alloc(umm, out->mo_bytes);
	if (out->mo_ent.en_payload.pd_addr == UMOFF_NULL)
		return -DER_NOSPACE;
	dst = umem_off2ptr(umm, out->mo_ent.en_payload.pd_addr);
	if (out->mo_src >= 0) {
		e = &mg->mg_old[out->mo_src];
		memcpy(dst,
		       (char *)umem_off2ptr(umm, e->en_payload.pd_addr) +
			   (out->mo_ent.en_rect.rc_ex.ex_lo - e->en_rect.rc_ex.ex_lo) *
			       e->en_payload.pd_rsize,
		       out->mo_bytes);
		return 0;
	}
	for (k = out->mo_first; k < out->mo_end; k++) {
		const struct agg_piece *p = &mg->mg_ps[k];
		uint64_t len = piece_bytes(p);

		e = &p->ap_ent;
		memcpy(dst,
		       (char *)umem_off2ptr(umm, e->en_payload.pd_addr) +
			   (p->ap_ext.ex_lo - e->en_rect.rc_ex.ex_lo) * e->en_payload.pd_rsize,
		       len);
		dst += len;
	}
	return 0;
}

static void
merge_fini(struct agg_merge *mg)
{
	D_FREE(mg->mg_old);
	D_FREE(mg->mg_ps);
	D_FREE(mg->mg_pent);
	D_FREE(mg->mg_run);
	D_FREE(mg->mg_last);
	D_FREE(mg->mg_seen);
	D_FREE(mg->mg_del);
	D_FREE(mg->mg_out);
}

/* Forget the plan merge_data_prepare kept for the transaction. */
static void
merge_plan_drop(struct agg_merge_arg *ma)
{
	merge_fini(&ma->ma_plan);
	memset(&ma->ma_plan, 0, sizeof(ma->ma_plan));
	ma->ma_plan_valid = false;
}

/* The plan of the next merge transaction of @ma's group; false if there is nothing to do. */
static int
merge_compute(struct agg_ctx *ac, struct evt_context *tcx, struct agg_merge_arg *ma,
	      struct agg_merge *mg, uint32_t *ndel, bool *work)
{
	uint32_t i, n;
	int rc;

	*work = false;
	rc = merge_load(ac, tcx, ma, mg);
	if (rc != 0 || mg->mg_nold == 0)
		return rc;
	for (i = 0, n = 0; i < mg->mg_nruns; i++)
		n += !merge_run_settled(mg, i);
	if (n == 0 && mg->mg_nruns == mg->mg_nold)
		return 0; /* already merged */
	/*
	 * Every transaction deletes an unseen entry or turns pieces into fewer ones, so a group
	 * takes far fewer transactions than it has entries and pieces; past four times that,
	 * stop rather than loop (a bug, not a state of the tree: what is there reads right).
	 */
	if (ma->ma_rounds == 0)
		ma->ma_limit = 16 + 4 * ((uint64_t)mg->mg_nold + mg->mg_nps);
	if (ma->ma_rounds >= ma->ma_limit) {
		D_ERROR("merge of epochs [%" PRIu64 ", %" PRIu64 "] does not end after %" PRIu64
			" transactions: left as it is\n",
			ma->ma_lo, ma->ma_hi, ma->ma_rounds);
		return 0;
	}
	ma->ma_done = merge_plan(mg, ndel);
	*work = true;
	return 0;
}

/* Queue the reads of the bytes of data-file run @out into @buf. */
static int
merge_data_reads(struct agg_merge *mg, const struct agg_out *out, struct bio_data_batch *bb,
		 char *buf)
{
	const struct evt_entry *e;
	struct iovec iov;
	uint32_t k;
	int rc;

	if (out->mo_src >= 0) {
		e = &mg->mg_old[out->mo_src];
		iov.iov_base = buf;
		iov.iov_len = out->mo_bytes;
		return bio_data_read(bb,
				     e->en_payload.pd_addr + (out->mo_ent.en_rect.rc_ex.ex_lo -
							      e->en_rect.rc_ex.ex_lo) *
								 e->en_payload.pd_rsize,
				     &iov, 1);
	}
	for (k = out->mo_first; k < out->mo_end; k++) {
		const struct agg_piece *p = &mg->mg_ps[k];

		e = &p->ap_ent;
		iov.iov_base = buf;
		iov.iov_len = piece_bytes(p);
		rc = bio_data_read(bb,
				   e->en_payload.pd_addr +
				       (p->ap_ext.ex_lo - e->en_rect.rc_ex.ex_lo) *
					   e->en_payload.pd_rsize,
				   &iov, 1);
		if (rc != 0)
			return rc;
		buf += iov.iov_len;
	}
	return 0;
}

/*
 * Before the next merge transaction of @ma's group, outside any transaction: the data-file
 * runs its plan writes get new blocks (reserved in ma_resrvd), the live bytes of their
 * pieces are read and written there, and the WAL is told to sync the data file ahead of
 * the transaction's record. The plan stays in ma_plan: the transaction uses it as it is if
 * nothing committed in between, else recomputes it and uses these runs only if they are the
 * same (-DER_TX_RESTART otherwise: another ULT changed the array while this one waited).
 */
static int
merge_data_prepare(struct agg_ctx *ac, struct agg_merge_arg *ma)
{
	struct vos_pool *pool = ac->ac_pool;
	struct bio_data_batch *bb = NULL;
	struct agg_merge *mgp = &ma->ma_plan;
	struct vos_read_ref ref;
	struct evt_context *tcx;
	char **bufs = NULL;
	uint32_t i, n = 0;
	bool reading = false;
	int rc;

	ma->ma_nprep = 0;
	merge_plan_drop(ma);
	rc = evt_open(&ma->ma_krec->kr_evt, ac->ac_umm, &tcx);
	if (rc == -DER_NONEXIST)
		return 0;
	if (rc != 0)
		return rc;
	ma->ma_plan_lsn = umem_tx_last_lsn(ac->ac_umm);
	rc = merge_compute(ac, tcx, ma, mgp, &ma->ma_plan_ndel, &ma->ma_plan_work);
	if (rc != 0) {
		merge_plan_drop(ma);
		goto out;
	}
	/* merge_compute sets ma_done only when there is work; none: the group is done */
	ma->ma_plan_done = !ma->ma_plan_work || ma->ma_done;
	ma->ma_plan_valid = ma->ma_plan_lsn != 0;
	if (!ma->ma_plan_work)
		goto out;
	for (i = 0; i < mgp->mg_nout; i++)
		n += mgp->mg_out[i].mo_bytes > 0 &&
		     mgp->mg_out[i].mo_ent.en_payload.pd_type == VOS_MEDIA_DATA;
	if (n == 0)
		goto out;
	D_ALLOC_ARRAY(ma->ma_prep, n);
	D_ALLOC_ARRAY(bufs, mgp->mg_nout);
	if (ma->ma_prep == NULL || bufs == NULL) {
		rc = -DER_NOMEM;
		goto out;
	}
	rc = bio_data_batch_get(pool->vp_data, &bb);
	if (rc != 0)
		goto out;
	vos_pool_read_begin(pool, &ref);
	reading = true;
	for (i = 0; i < mgp->mg_nout && rc == 0; i++) {
		struct agg_out *out = &mgp->mg_out[i];
		struct agg_data_prep *dp;
		struct vea_resrvd_ext *ext;

		if (out->mo_bytes == 0 || out->mo_ent.en_payload.pd_type != VOS_MEDIA_DATA)
			continue;
		if (posix_memalign((void **)&bufs[i], VOS_BLK_SIZE,
				   vos_data_bytes(out->mo_bytes)) != 0) {
			rc = -DER_NOMEM;
			break;
		}
		rc = vea_reserve(pool->vp_vea, vos_data_bytes(out->mo_bytes) / VOS_BLK_SIZE,
				 &ac->ac_cont->vc_hint, &ma->ma_resrvd);
		if (rc != 0)
			break;
		ext = d_list_entry(ma->ma_resrvd.prev, struct vea_resrvd_ext, vre_link);
		dp = &ma->ma_prep[ma->ma_nprep++];
		dp->dp_rect = out->mo_ent.en_rect;
		dp->dp_bytes = out->mo_bytes;
		dp->dp_addr = ext->vre_blk_off * VOS_BLK_SIZE;
		dp->dp_used = false;
		rc = merge_data_reads(mgp, out, bb, bufs[i]);
	}
	if (rc != 0) {
		bio_data_cancel(bb);
		goto out;
	}
	rc = bio_data_submit_wait(bb, pool->vp_attr.pa_wait, pool->vp_attr.pa_wait_arg);
	vos_pool_read_end(pool, &ref);
	reading = false;
	if (rc == 0)
		rc = bio_data_batch_get(pool->vp_data, &bb);
	if (rc != 0)
		goto out;
	for (i = 0, n = 0; i < mgp->mg_nout && rc == 0; i++) {
		struct iovec iov = {.iov_base = bufs[i], .iov_len = mgp->mg_out[i].mo_bytes};

		if (bufs[i] != NULL)
			rc = bio_data_write(bb, ma->ma_prep[n++].dp_addr, &iov, 1);
	}
	if (rc != 0) {
		bio_data_cancel(bb);
		goto out;
	}
	rc = bio_data_submit_wait(bb, pool->vp_attr.pa_wait, pool->vp_attr.pa_wait_arg);
	if (rc == 0)
		bio_wal_dep_sync(pool->vp_wal, bio_data_fd(pool->vp_data));
out:
	if (reading)
		vos_pool_read_end(pool, &ref);
	if (bufs != NULL) {
		for (i = 0; i < mgp->mg_nout; i++)
			free(bufs[i]);
		D_FREE(bufs);
	}
	if (rc != 0) {
		D_ERROR("data-file I/O of a merge failed: " DF_RC "\n", DP_RC(rc));
		merge_plan_drop(ma);
	}
	evt_close(tcx);
	return rc;
}

/* The prepared data-file run for @out (its new address), or -DER_TX_RESTART. */
static int
merge_data_take(struct agg_merge_arg *ma, struct agg_out *out)
{
	uint32_t i;

	for (i = 0; i < ma->ma_nprep; i++) {
		struct agg_data_prep *dp = &ma->ma_prep[i];

		if (!dp->dp_used && dp->dp_bytes == out->mo_bytes &&
		    rect_cmp(&dp->dp_rect, &out->mo_ent.en_rect) == 0) {
			dp->dp_used = true;
			out->mo_ent.en_payload.pd_addr = dp->dp_addr;
			return 0;
		}
	}
	return -DER_TX_RESTART;
}

/*
 * One transaction of the merge of a group: at most AGG_CREDITS entries no reader sees
 * deleted, and at most 2 * AGG_CREDITS deletions and inserts for the runs. A group too big
 * for one transaction takes several; each leaves a state that reads the same (see above).
 */
static int
agg_merge_group(struct agg_ctx *ac, void *arg)
{
	struct agg_merge_arg *ma = arg;
	struct umem_instance *umm = ac->ac_umm;
	struct agg_merge *mgp = &ma->ma_plan;
	struct evt_context *tcx;
	uint64_t old_scm = 0, new_scm = 0, old_data = 0, new_data = 0;
	uint32_t ndel, i, ndata = 0;
	bool work;
	int rc;

	ma->ma_merged = 0;
	ma->ma_done = true;
	for (i = 0; i < ma->ma_nprep; i++)
		ma->ma_prep[i].dp_used = false;
	rc = evt_open(&ma->ma_krec->kr_evt, umm, &tcx);
	if (rc == -DER_NONEXIST)
		return 0;
	if (rc != 0)
		return rc;
	if (ma->ma_plan_valid && umem_tx_last_lsn(umm) == ma->ma_plan_lsn) {
		/*
		 * Nothing committed since the plan was made: every change of the tree is a
		 * committed transaction, and each gets a new LSN from the WAL, so the tree is
		 * the one the plan was computed from (an aborted attempt restored it; the plan's
		 * new payload addresses are set afresh below).
		 */
		ndel = ma->ma_plan_ndel;
		work = ma->ma_plan_work;
		ma->ma_done = ma->ma_plan_done;
		ac->ac_pool->vp_agg_reused++;
	} else {
		/* recompute: another transaction may have changed the tree since the prepare */
		merge_plan_drop(ma);
		rc = merge_compute(ac, tcx, ma, mgp, &ndel, &work);
		ac->ac_pool->vp_agg_replans++;
	}
	if (rc != 0 || !work)
		goto out;

	/* new payloads: heap ones copied from the old ones before these go */
	for (i = 0; i < mgp->mg_nout; i++) {
		struct agg_out *out = &mgp->mg_out[i];

		if (out->mo_bytes > 0 && out->mo_ent.en_payload.pd_type == VOS_MEDIA_DATA) {
			rc = merge_data_take(ma, out);
			ndata++;
			new_data += vos_data_bytes(out->mo_bytes);
		} else {
			rc = merge_copy(umm, mgp, out);
			new_scm += out->mo_bytes;
		}
		if (rc != 0)
			goto out;
	}
	/* exactly the runs prepared, still reserved (an aborted attempt gave them back) */
	if (ndata != ma->ma_nprep || (ndata > 0 && d_list_empty(&ma->ma_resrvd))) {
		rc = -DER_TX_RESTART;
		goto out;
	}
	for (i = 0; i < mgp->mg_nold; i++) {
		struct evt_entry ent;
		uint64_t bytes;

		if (!mgp->mg_del[i])
			continue;
		rc = evt_delete(tcx, &mgp->mg_old[i].en_rect, &ent);
		if (rc != 0)
			goto out;
		bytes = (ent.en_rect.rc_ex.ex_hi - ent.en_rect.rc_ex.ex_lo + 1) *
			ent.en_payload.pd_rsize;
		if (ent.en_flags & EVT_ENT_HOLE)
			bytes = 0;
		if (ent.en_payload.pd_type == VOS_MEDIA_DATA)
			old_data += vos_data_bytes(bytes);
		else
			old_scm += bytes;
		rc = vos_ent_payload_free(umm, &ent, ac->ac_pool);
		if (rc != 0)
			goto out;
	}
	for (i = 0; i < mgp->mg_nout; i++) {
		rc = evt_insert(tcx, &mgp->mg_out[i].mo_ent, NULL);
		if (rc != 0)
			goto out;
	}
	if (ndata > 0) {
		rc = vea_tx_publish(ac->ac_pool->vp_vea, umm, &ma->ma_resrvd);
		if (rc != 0)
			goto out;
	}
	D_ASSERT(old_scm >= new_scm);
	rc = agg_account_new(ac, old_scm - new_scm, old_data, new_data);
	if (rc == 0)
		ma->ma_merged = (int64_t)ndel - mgp->mg_nout;
out:
	evt_close(tcx);
	return rc;
}

/* Merge the visible pieces of the array of @krec, group by group. */
static int
agg_merge_array(struct agg_ctx *ac, struct vos_krec_df *krec)
{
	struct agg_merge_arg ma = {.ma_krec = krec};
	uint32_t i, restarts = 0;
	int rc = 0;

	D_INIT_LIST_HEAD(&ma.ma_resrvd);
	for (i = 0; i < ac->ac_nr && rc == 0; i++) {
		ma.ma_lo = i == 0 ? 0 : ac->ac_rdrs[i - 1] + 1;
		if (ma.ma_lo < ac->ac_lo)
			ma.ma_lo = ac->ac_lo;
		ma.ma_hi = ac->ac_rdrs[i];
		ma.ma_first = i;
		if (ma.ma_lo > ma.ma_hi)
			continue;
		ma.ma_rounds = 0;
		restarts = 0;
		do {
			rc = merge_data_prepare(ac, &ma);
			if (rc == 0)
				rc = agg_tx(ac, agg_merge_group, &ma);
			/* reservations not published, or given back by an abort */
			if (!d_list_empty(&ma.ma_resrvd))
				vea_cancel(ac->ac_pool->vp_vea, &ac->ac_cont->vc_hint,
					   &ma.ma_resrvd);
			D_FREE(ma.ma_prep);
			ma.ma_nprep = 0;
			merge_plan_drop(&ma);
			if (rc == -DER_TX_RESTART) {
				if (++restarts <= AGG_RESTART_MAX) {
					rc = 0;
					ma.ma_done = false;
					continue;
				}
				D_ERROR("merge of epochs [%" PRIu64 ", %" PRIu64 "] restarted %u"
					" times: left as it is\n",
					ma.ma_lo, ma.ma_hi, restarts - 1);
				rc = 0;
				break;
			}
			if (rc == 0) {
				ac->ac_merged += ma.ma_merged;
				ma.ma_rounds++;
			}
		} while (rc == 0 && !ma.ma_done);
	}
	return rc;
}

/*
 * Keys: their logs, and deleting them.
 */

struct agg_log_arg {
	struct ilog_df *la_ilog;
	bool la_empty; /* out */
};

static int
agg_log_aggregate(struct agg_ctx *ac, void *arg)
{
	struct agg_log_arg *la = arg;
	int rc;

	rc = ilog_aggregate(ac->ac_umm, la->la_ilog, ac->ac_hi, ac->ac_snaps, ac->ac_snap_nr);
	la->la_empty = rc == ILOG_AGG_EMPTY;
	return rc == ILOG_AGG_EMPTY ? 0 : rc;
}

/* Drop the entries of a log in [lo, hi]: rebuild it from the others. */
static int
agg_log_discard(struct agg_ctx *ac, void *arg)
{
	struct agg_log_arg *la = arg;
	struct umem_instance *umm = ac->ac_umm;
	struct ilog_entry_df *kept = NULL;
	struct ilog_entries ents;
	uint32_t i, n = 0;
	int rc;

	rc = ilog_fetch(umm, la->la_ilog, 0, DAOS_EPOCH_MAX, &ents);
	if (rc != 0)
		return rc;
	la->la_empty = ents.ie_nr == 0;
	for (i = 0; i < ents.ie_nr; i++)
		if (ents.ie_ents[i].le_epoch >= ac->ac_lo && ents.ie_ents[i].le_epoch <= ac->ac_hi)
			break;
	if (i == ents.ie_nr)
		return 0; /* nothing in the range */
	D_ALLOC_ARRAY(kept, ents.ie_nr);
	if (kept == NULL)
		return -DER_NOMEM;
	for (i = 0; i < ents.ie_nr; i++)
		if (ents.ie_ents[i].le_epoch < ac->ac_lo || ents.ie_ents[i].le_epoch > ac->ac_hi)
			kept[n++] = ents.ie_ents[i];
	rc = ilog_destroy(umm, la->la_ilog);
	for (i = 0; i < n && rc == 0; i++) {
		if (kept[i].le_update_minor != 0)
			rc = ilog_update(umm, la->la_ilog, kept[i].le_epoch,
					 kept[i].le_update_minor, false);
		if (rc == 0 && kept[i].le_punch_minor != 0)
			rc = ilog_update(umm, la->la_ilog, kept[i].le_epoch, kept[i].le_punch_minor,
					 true);
	}
	la->la_empty = n == 0;
	D_FREE(kept);
	return rc;
}

/* Aggregate (or, discarding, cut) the log @ilog in a transaction; *@empty: nothing left. */
static int
agg_log(struct agg_ctx *ac, struct ilog_df *ilog, bool *empty)
{
	struct agg_log_arg la = {.la_ilog = ilog};
	int rc;

	rc = agg_tx(ac, ac->ac_discard ? agg_log_discard : agg_log_aggregate, &la);
	*empty = la.la_empty;
	return rc;
}

/*
 * Removing a key (or object) record: deleted when its subtree holds no value any more, or
 * detached with its subtree into the container's GC bin.
 */
struct agg_rec_arg {
	struct btr_instance *ra_toh; /* NULL: the tree at ra_root */
	struct btr_root_df *ra_root;
	d_iov_t ra_key;
	bool ra_obj;
	bool ra_detach;
};

static int
agg_rec_remove(struct agg_ctx *ac, void *arg)
{
	struct agg_rec_arg *ra = arg;
	struct vos_cont_df *cd = ac->ac_cont->vc_df;
	struct btr_instance *toh = ra->ra_toh;
	umem_off_t body;
	int rc;

	if (toh == NULL) {
		rc = dbtree_open_inplace_ex(ra->ra_root, ac->ac_umm, ac->ac_pool, &toh);
		if (rc != 0)
			return rc;
	}
	vos_oc_invalidate(ac->ac_pool); /* lookup caches may hold the record */
	if (ra->ra_detach) {
		rc = dbtree_detach(toh, &ra->ra_key, &body);
		if (rc == 0)
			rc = ra->ra_obj ? vos_gc_add_obj(ac->ac_pool, cd, body)
					: vos_gc_add_key(ac->ac_pool, cd, body);
	} else {
		rc = dbtree_delete(toh, &ra->ra_key, ac->ac_pool);
	}
	if (rc == 0 && ra->ra_obj) {
		rc = umem_tx_add_ptr(ac->ac_umm, &cd->cd_nobjs, sizeof(cd->cd_nobjs));
		if (rc == 0 && cd->cd_nobjs > 0)
			cd->cd_nobjs--;
	}
	if (ra->ra_toh == NULL)
		dbtree_close(toh);
	return rc;
}

/*
 * Remove key @krec from the tree at @root in a transaction (@detach: into the GC bin). The
 * key's bytes live in the record being removed, and an aborted attempt must find it again:
 * the transaction gets a copy.
 */
static int
agg_key_remove(struct agg_ctx *ac, struct btr_root_df *root, struct vos_krec_df *krec, bool detach)
{
	struct agg_rec_arg ra = {.ra_root = root, .ra_detach = detach};
	void *buf;
	int rc;

	D_ALLOC(buf, krec->kr_size);
	if (buf == NULL)
		return -DER_NOMEM;
	memcpy(buf, vos_krec2key(krec), krec->kr_size);
	d_iov_set(&ra.ra_key, buf, krec->kr_size);
	rc = agg_tx(ac, agg_rec_remove, &ra);
	D_FREE(buf);
	if (rc == 0)
		ac->ac_keys++;
	return rc;
}

/* Delete key @krec from the tree at @root (its subtree must hold no value: cheap). */
static int
agg_key_delete(struct agg_ctx *ac, struct btr_root_df *root, struct vos_krec_df *krec)
{
	return agg_key_remove(ac, root, krec, false);
}

/* Hand key @krec of the tree at @root, and everything under it, to GC: one transaction. */
static int
agg_key_detach(struct agg_ctx *ac, struct btr_root_df *root, struct vos_krec_df *krec)
{
	return agg_key_remove(ac, root, krec, true);
}

/*
 * The walk.
 */

/*
 * The next record after @anchor (zero: the first) of the tree open as @toh_in, or else of
 * the tree at @root: *@body borrowed, @anchor moved to it. -DER_NONEXIST at the end. The
 * iterator is gone when this returns, so the caller may change the tree freely.
 */
static int
agg_next_rec(struct agg_ctx *ac, struct btr_root_df *root, struct btr_instance *toh_in,
	     struct dbtree_anchor *anchor, void **body)
{
	struct btr_instance *toh = toh_in;
	struct btr_iterator *ih;
	d_iov_t val;
	int rc;

	if (toh == NULL) {
		if (root->tr_order == 0)
			return -DER_NONEXIST;
		rc = dbtree_open_inplace_ex(root, ac->ac_umm, ac->ac_pool, &toh);
		if (rc != 0)
			return rc;
	}
	rc = dbtree_iter_prepare(toh, &ih);
	if (rc != 0)
		goto out;
	rc = dbtree_iter_probe(ih, BTR_PROBE_GT, NULL, anchor);
	d_iov_set(&val, NULL, 0);
	if (rc == 0)
		rc = dbtree_iter_fetch(ih, NULL, &val, anchor);
	if (rc == 0)
		*body = val.iov_buf;
	dbtree_iter_finish(ih);
out:
	if (toh_in == NULL)
		dbtree_close(toh);
	return rc;
}

static int
agg_akey(struct agg_ctx *ac, struct vos_krec_df *dkrec, struct vos_krec_df *krec)
{
	struct agg_keep keep = {0};
	bool empty, dead = false;
	int rc;

	if (ac->ac_discard) {
		rc = agg_del_values(ac, krec, ac->ac_lo, ac->ac_hi, &keep);
		if (rc == 0)
			rc = agg_log(ac, &krec->kr_ilog, &empty);
		if (rc == 0 && empty)
			rc = agg_values_empty(ac, krec, &empty);
		if (rc == 0 && empty)
			rc = agg_key_delete(ac, &dkrec->kr_btr, krec);
		return rc;
	}
	rc = agg_key_readers(ac, AGG_AKEY, &krec->kr_ilog, &dead);
	if (rc != 0)
		return rc;
	if (!dead) {
		if (krec->kr_bmap & VOS_KREC_SINGLE)
			rc = keep_single(ac, krec, &keep);
		else if (krec->kr_bmap & VOS_KREC_ARRAY)
			rc = keep_array(ac, krec, &keep);
		if (rc == 0)
			rc = agg_del_values(ac, krec, ac->ac_lo, ac->ac_hi, &keep);
		keep_fini(&keep);
		if (rc == 0 && (krec->kr_bmap & VOS_KREC_ARRAY))
			rc = agg_merge_array(ac, krec);
		if (rc == 0)
			rc = agg_log(ac, &krec->kr_ilog, &dead);
		if (rc != 0 || !dead)
			return rc;
		/* the log says the key never existed for anyone retained */
	}
	return agg_key_detach(ac, &dkrec->kr_btr, krec);
}

static int
agg_dkey(struct agg_ctx *ac, struct vos_obj_df *obj, struct vos_krec_df *krec)
{
	struct dbtree_anchor anchor = {0};
	bool empty, dead = false;
	int rc;

	if (!ac->ac_discard) {
		rc = agg_key_readers(ac, AGG_DKEY, &krec->kr_ilog, &dead);
		if (rc != 0)
			return rc;
		if (dead)
			return agg_key_detach(ac, &obj->vo_tree, krec);
	}
	for (;;) {
		void *akrec;

		rc = agg_next_rec(ac, &krec->kr_btr, NULL, &anchor, &akrec);
		if (rc == -DER_NONEXIST)
			break;
		if (rc == 0)
			rc = agg_akey(ac, krec, akrec);
		if (rc != 0)
			return rc;
	}
	rc = agg_log(ac, &krec->kr_ilog, &empty);
	if (rc != 0)
		return rc;
	if (ac->ac_discard) {
		if (!empty || !dbtree_is_empty_inplace(&krec->kr_btr))
			return 0;
		return agg_key_delete(ac, &obj->vo_tree, krec);
	}
	/* a log aggregated away: nobody retained sees the key, its subtree goes too */
	return empty ? agg_key_detach(ac, &obj->vo_tree, krec) : 0;
}

static int
agg_obj(struct agg_ctx *ac, struct vos_obj_df *obj)
{
	struct agg_rec_arg ra = {.ra_toh = ac->ac_cont->vc_oi, .ra_obj = true};
	struct dbtree_anchor anchor = {0};
	daos_unit_oid_t oid = obj->vo_id;
	bool dead = false, empty;
	int rc;

	ac->ac_oid = oid;
	d_iov_set(&ra.ra_key, &oid, sizeof(oid));
	if (!ac->ac_discard) {
		rc = agg_key_readers(ac, AGG_OBJ, &obj->vo_ilog, &dead);
		if (rc != 0)
			return rc;
		if (dead)
			goto detach;
	}
	for (;;) {
		void *dkrec;

		rc = agg_next_rec(ac, &obj->vo_tree, NULL, &anchor, &dkrec);
		if (rc == -DER_NONEXIST)
			break;
		if (rc == 0)
			rc = agg_dkey(ac, obj, dkrec);
		if (rc != 0)
			return rc;
	}
	rc = agg_log(ac, &obj->vo_ilog, &empty);
	if (rc != 0)
		return rc;
	if (ac->ac_discard) {
		if (!empty || !dbtree_is_empty_inplace(&obj->vo_tree))
			return 0;
		rc = agg_tx(ac, agg_rec_remove, &ra);
		if (rc == 0)
			ac->ac_keys++;
		return rc;
	}
	if (!empty)
		return 0;
detach:
	ra.ra_detach = true;
	rc = agg_tx(ac, agg_rec_remove, &ra);
	if (rc == 0)
		ac->ac_keys++;
	return rc;
}

static int
u64_cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Walk every object of the container. */
static int
agg_run(struct agg_ctx *ac)
{
	struct dbtree_anchor anchor = {0};
	uint32_t i, n = 0;
	int rc;

	D_ALLOC_ARRAY(ac->ac_rdrs, ac->ac_snap_nr + 1);
	for (i = 0; i < 3; i++)
		D_ALLOC_ARRAY(ac->ac_pb[i], ac->ac_snap_nr + 1);
	if (ac->ac_rdrs == NULL || ac->ac_pb[0] == NULL || ac->ac_pb[1] == NULL ||
	    ac->ac_pb[2] == NULL) {
		rc = -DER_NOMEM;
		goto out;
	}
	for (i = 0; i < ac->ac_snap_nr; i++)
		if (ac->ac_snaps[i] <= ac->ac_hi)
			ac->ac_rdrs[n++] = ac->ac_snaps[i];
	ac->ac_rdrs[n++] = ac->ac_hi;
	qsort(ac->ac_rdrs, n, sizeof(*ac->ac_rdrs), u64_cmp);
	ac->ac_nr = 0;
	for (i = 0; i < n; i++)
		if (ac->ac_nr == 0 || ac->ac_rdrs[ac->ac_nr - 1] != ac->ac_rdrs[i])
			ac->ac_rdrs[ac->ac_nr++] = ac->ac_rdrs[i];

	for (;;) {
		void *obj;

		rc = agg_next_rec(ac, NULL, ac->ac_cont->vc_oi, &anchor, &obj);
		if (rc == -DER_NONEXIST) {
			rc = 0;
			break;
		}
		if (rc == 0)
			rc = agg_obj(ac, obj);
		if (rc != 0)
			break;
	}
	D_DEBUG("%s [%#" PRIx64 ", %#" PRIx64 "], %u snapshots: %" PRIu64 " versions, %" PRIu64
		" keys removed, %" PRId64 " extents merged away: " DF_RC "\n",
		ac->ac_discard ? "discard" : "aggregation", ac->ac_lo, ac->ac_hi, ac->ac_snap_nr,
		ac->ac_vals, ac->ac_keys, ac->ac_merged, DP_RC(rc));
out:
	D_FREE(ac->ac_rdrs);
	for (i = 0; i < 3; i++)
		D_FREE(ac->ac_pb[i]);
	return rc;
}

static int
agg_init(struct agg_ctx *ac, daos_handle_t coh, const daos_epoch_range_t *epr)
{
	struct vos_container *cont = vos_hdl2cont(coh);

	if (cont == NULL || epr == NULL || epr->epr_lo > epr->epr_hi || epr->epr_hi == 0) {
		D_ERROR("bad aggregation/discard arguments\n");
		return -DER_INVAL;
	}
	memset(ac, 0, sizeof(*ac));
	ac->ac_cont = cont;
	ac->ac_pool = cont->vc_pool;
	ac->ac_umm = cont->vc_pool->vp_umm;
	ac->ac_lo = epr->epr_lo;
	ac->ac_hi = epr->epr_hi;
	return 0;
}

int
vos_aggregate(daos_handle_t coh, const daos_epoch_range_t *epr, const daos_epoch_t *snapshots,
	      uint32_t snap_nr)
{
	struct agg_ctx ac;
	int rc;

	rc = agg_init(&ac, coh, epr);
	if (rc != 0)
		return rc;
	if (snap_nr > 0 && snapshots == NULL)
		return -DER_INVAL;
	ac.ac_snaps = snapshots;
	ac.ac_snap_nr = snap_nr;
	return agg_run(&ac);
}

int
vos_discard(daos_handle_t coh, const daos_epoch_range_t *epr)
{
	struct agg_ctx ac;
	int rc;

	rc = agg_init(&ac, coh, epr);
	if (rc != 0)
		return rc;
	ac.ac_discard = true;
	return agg_run(&ac);
}
