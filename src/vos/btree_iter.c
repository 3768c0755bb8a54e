/*
 * btree_iter.c: iterators and anchors of dbtree (src/include/daos_srv/btree.h), on top of
 * the search helpers of btree.c.
 *
 * An anchor is the key of a record, serialised: the uint64 (UINT trees), the key itself
 * (DIRECT trees, at most DBTREE_DIRECT_KEY_MAX bytes, which inserts enforce), or the hashed
 * key plus, when it fits, the key (hashed trees). A hashed key too long to embed leaves a
 * "partial" anchor: the tree's hash, the key's length and a second, independent 64-bit hash
 * of it. Resuming from one scans the records sharing the tree's hash: right after the one
 * whose key has that length and second hash if it is still there, otherwise from the first
 * of the group (forward) or the last (backward), so in the one case it cannot order (keys
 * colliding on the tree's hash) keys are repeated rather than skipped.
 *
 * Iterator states:
 *
 *	INIT --probe--> READY --next/prev past the end--> EOF --probe--> READY
 *	                 |   ^
 *	  tree changes   |   | next (GT) / prev (LT) / fetch (EQ) re-probe from the anchor
 *	                 v   |
 *	                SAVED
 */
#define D_LOGFAC vos

#include <gurt/common.h>
#include <daos_srv/btree.h>

#include "vos_internal.h"
#include "btree_internal.h"

#define BTR_ANCHOR_MAGIC 0xb7
#define BTR_ANCHOR_FULLKEY 0x1 /* hashed: the key is embedded (or the hash is the key) */
#define BTR_ANCHOR_BODY (DBTREE_ANCHOR_SIZE - 8)
#define BTR_ANCHOR_SEED 0x5eed2bee /* the second hash of a partial anchor */

/* What an anchor holds (copied in and out: the public buffer is not aligned). */
struct btr_anchor_df {
	uint8_t ad_magic; /* 0: no position */
	uint8_t ad_kind;  /* enum btr_kind */
	uint8_t ad_flags;
	uint8_t ad_hsize;
	uint32_t ad_klen; /* embedded key bytes; partial: the key's length */
	union {
		uint64_t ad_ukey;
		struct {
			uint64_t ad_khash;                    /* partial: second hash */
			uint8_t ad_hkey[BTR_ANCHOR_BODY - 8]; /* hashed key, then the key */
		};
		uint8_t ad_key[BTR_ANCHOR_BODY]; /* direct key */
	};
};
D_CASSERT(sizeof(struct btr_anchor_df) == DBTREE_ANCHOR_SIZE);
D_CASSERT(DBTREE_DIRECT_KEY_MAX == BTR_ANCHOR_BODY);

enum btr_itr_state {
	BTR_ITR_INIT,
	BTR_ITR_READY,
	BTR_ITR_SAVED,
	BTR_ITR_EOF,
};

struct btr_iterator {
	struct btr_context *it_tcx;
	d_list_t it_link;
	enum btr_itr_state it_state;
	struct dbtree_anchor it_anchor; /* the position, while SAVED */
	struct btr_trace it_trace[BTR_DEPTH_MAX];
};

/* A decoded anchor, as a search key. */
struct btr_anchor_key {
	struct btr_anchor_df ak_df;
	struct btr_key ak_key;
	d_iov_t ak_iov;  /* the embedded key */
	bool ak_partial; /* hashed key only: ad_klen and ad_khash tell the record apart */
};

/* Length and second hash of the key of @rec (partial anchors). */
static int
btr_rec_khash(struct btr_context *tcx, const struct btr_record *rec, uint32_t *klen,
	      uint64_t *khash)
{
	d_iov_t kiov = {0};
	int rc;

	rc = btr_ops(tcx)->to_rec_fetch(&tcx->tc_tins, rec, &kiov, NULL);
	if (rc != 0)
		return rc;
	if (kiov.iov_buf == NULL || kiov.iov_len > UINT32_MAX)
		return -DER_INVAL;
	*klen = (uint32_t)kiov.iov_len;
	*khash = d_hash_murmur64(kiov.iov_buf, *klen, BTR_ANCHOR_SEED);
	return 0;
}

static int
btr_anchor_encode(struct btr_context *tcx, const struct btr_lent_df *le,
		  struct dbtree_anchor *anchor)
{
	struct btr_anchor_df ad = {0};
	struct btr_record rec;
	size_t space;
	d_iov_t kiov;
	int rc;

	ad.ad_magic = BTR_ANCHOR_MAGIC;
	ad.ad_kind = (uint8_t)tcx->tc_kind;
	btr_rec_view(tcx, le, &rec);
	switch (tcx->tc_kind) {
	case BTR_KIND_UINT:
		ad.ad_ukey = le->le_key[0];
		ad.ad_flags = BTR_ANCHOR_FULLKEY;
		break;
	case BTR_KIND_HASH:
		ad.ad_hsize = (uint8_t)tcx->tc_hsize;
		memcpy(ad.ad_hkey, le->le_key, tcx->tc_hsize);
		if (btr_ops(tcx)->to_key_cmp == NULL) {
			ad.ad_flags = BTR_ANCHOR_FULLKEY; /* the hash is the key */
			break;
		}
		space = sizeof(ad.ad_hkey) - tcx->tc_hsize;
		kiov.iov_buf = ad.ad_hkey + tcx->tc_hsize;
		kiov.iov_buf_len = space;
		kiov.iov_len = 0;
		rc = btr_ops(tcx)->to_rec_fetch(&tcx->tc_tins, &rec, &kiov, NULL);
		if (rc != 0)
			return rc;
		if (kiov.iov_len <= space) {
			/* a class that only lends its bytes: copy them */
			if (kiov.iov_buf != ad.ad_hkey + tcx->tc_hsize)
				memmove(ad.ad_hkey + tcx->tc_hsize, kiov.iov_buf, kiov.iov_len);
			ad.ad_flags = BTR_ANCHOR_FULLKEY;
			ad.ad_klen = (uint32_t)kiov.iov_len;
			break;
		}
		memset(ad.ad_hkey + tcx->tc_hsize, 0, space);
		rc = btr_rec_khash(tcx, &rec, &ad.ad_klen, &ad.ad_khash);
		if (rc != 0)
			return rc;
		break;
	default:
		d_iov_set(&kiov, ad.ad_key, sizeof(ad.ad_key));
		kiov.iov_len = 0;
		rc = btr_ops(tcx)->to_rec_fetch(&tcx->tc_tins, &rec, &kiov, NULL);
		if (rc != 0)
			return rc;
		if (kiov.iov_len > sizeof(ad.ad_key)) {
			D_ERROR("direct key of %zu bytes does not fit an anchor\n", kiov.iov_len);
			return -DER_KEY2BIG;
		}
		if (kiov.iov_buf != ad.ad_key)
			memmove(ad.ad_key, kiov.iov_buf, kiov.iov_len);
		ad.ad_flags = BTR_ANCHOR_FULLKEY;
		ad.ad_klen = (uint32_t)kiov.iov_len;
		break;
	}
	memcpy(anchor->ba_buf, &ad, sizeof(ad));
	return 0;
}

/*
 * Decode @anchor for this tree into @ak. Returns 0, 1 for a zero anchor (no position), or
 * -DER_INVAL for bytes that are not an anchor of this kind of tree.
 */
static int
btr_anchor_decode(struct btr_context *tcx, const struct dbtree_anchor *anchor,
		  struct btr_anchor_key *ak)
{
	static const struct btr_anchor_df zero;
	struct btr_anchor_df *ad = &ak->ak_df;
	struct btr_key *bk = &ak->ak_key;
	bool full;

	memset(ak, 0, sizeof(*ak));
	memcpy(ad, anchor->ba_buf, sizeof(*ad));
	if (memcmp(ad, &zero, sizeof(zero)) == 0)
		return 1;
	full = (ad->ad_flags & BTR_ANCHOR_FULLKEY) != 0;
	if (ad->ad_magic != BTR_ANCHOR_MAGIC || ad->ad_kind != (uint8_t)tcx->tc_kind ||
	    (ad->ad_flags & ~BTR_ANCHOR_FULLKEY) != 0)
		goto bad;
	switch (tcx->tc_kind) {
	case BTR_KIND_UINT:
		if (!full || ad->ad_klen != 0 || ad->ad_hsize != 0)
			goto bad;
		bk->bk_ukey = ad->ad_ukey;
		break;
	case BTR_KIND_HASH:
		if (ad->ad_hsize != tcx->tc_hsize ||
		    (full && ad->ad_klen > sizeof(ad->ad_hkey) - tcx->tc_hsize) ||
		    (!full && btr_ops(tcx)->to_key_cmp == NULL))
			goto bad;
		memcpy(bk->bk_hkey, ad->ad_hkey, tcx->tc_hsize);
		if (full) {
			d_iov_set(&ak->ak_iov, ad->ad_hkey + tcx->tc_hsize, ad->ad_klen);
			bk->bk_key = &ak->ak_iov;
		} else {
			ak->ak_partial = true;
		}
		break;
	default:
		if (!full || ad->ad_hsize != 0 || ad->ad_klen > sizeof(ad->ad_key))
			goto bad;
		d_iov_set(&ak->ak_iov, ad->ad_key, ad->ad_klen);
		bk->bk_key = &ak->ak_iov;
		break;
	}
	return 0;
bad:
	D_ERROR("not an anchor of this tree (magic %#x, kind %u, flags %#x)\n", ad->ad_magic,
		ad->ad_kind, ad->ad_flags);
	return -DER_INVAL;
}

/*
 * A partial anchor: @trace is at the first record with the anchor's hash. Find the
 * anchored key among the group (same length, same second hash); true if found (@trace then points
 * at it). Otherwise
 * @trace stays at the first of the group, or, if @after, moves past its last.
 */
static bool
btr_partial_locate(struct btr_context *tcx, struct btr_trace *trace,
		   const struct btr_anchor_key *ak, bool after)
{
	struct btr_trace scan[BTR_DEPTH_MAX];
	int depth = btr_depth(tcx), leaf = depth - 1;

	memcpy(scan, trace, sizeof(*trace) * (size_t)depth);
	for (;;) {
		struct btr_node_df *nd = btr_off2node(tcx, scan[leaf].bt_node);
		struct btr_record rec;
		struct btr_lent_df *le;
		uint64_t khash;
		uint32_t klen;

		if (scan[leaf].bt_at >= nd->tn_keyn) {
			if (!btr_trace_next(tcx, scan))
				break;
			continue;
		}
		le = btr_lent(tcx, nd, scan[leaf].bt_at);
		if (btr_hkey_cmp(tcx, le->le_key, ak->ak_key.bk_hkey) != 0)
			break;
		btr_rec_view(tcx, le, &rec);
		if (btr_rec_khash(tcx, &rec, &klen, &khash) == 0 && klen == ak->ak_df.ad_klen &&
		    khash == ak->ak_df.ad_khash) {
			memcpy(trace, scan, sizeof(*trace) * (size_t)depth);
			return true;
		}
		scan[leaf].bt_at++;
	}
	if (after)
		memcpy(trace, scan, sizeof(*trace) * (size_t)depth);
	return false;
}

/* Position @trace relative to the key of @anchor. 0, -DER_NONEXIST or -DER_INVAL. */
static int
btr_probe_anchor(struct btr_context *tcx, struct btr_trace *trace, dbtree_probe_opc_t opc,
		 const struct dbtree_anchor *anchor)
{
	struct btr_anchor_key ak;
	bool eq;
	int rc;

	rc = btr_anchor_decode(tcx, anchor, &ak);
	if (rc < 0)
		return rc;
	if (rc == 1) {
		switch (opc) {
		case BTR_PROBE_GT:
		case BTR_PROBE_GE:
			return btr_probe(tcx, trace, BTR_PROBE_FIRST, NULL);
		case BTR_PROBE_LT:
		case BTR_PROBE_LE:
			return btr_probe(tcx, trace, BTR_PROBE_LAST, NULL);
		default:
			return -DER_NONEXIST;
		}
	}
	if (btr_depth(tcx) == 0)
		return -DER_NONEXIST;
	eq = btr_descend(tcx, trace, &ak.ak_key);
	if (ak.ak_partial)
		eq =
		    btr_partial_locate(tcx, trace, &ak, opc == BTR_PROBE_LT || opc == BTR_PROBE_LE);
	return btr_probe_settle(tcx, trace, opc, eq);
}

void
btr_iters_save(struct btr_context *tcx)
{
	struct btr_iterator *it;
	int rc;

	d_list_for_each_entry (it, &tcx->tc_iters, it_link) {
		if (it->it_state != BTR_ITR_READY)
			continue;
		rc = btr_anchor_encode(tcx, btr_trace_lent(tcx, it->it_trace), &it->it_anchor);
		if (rc == 0) {
			it->it_state = BTR_ITR_SAVED;
		} else {
			D_ERROR("iterator lost its position: " DF_RC "\n", DP_RC(rc));
			it->it_state = BTR_ITR_INIT;
		}
	}
}

int
dbtree_iter_prepare(struct btr_instance *toh, struct btr_iterator **ih)
{
	struct btr_context *tcx = btr_tcx(toh);
	struct btr_iterator *it;

	D_ALLOC_PTR(it);
	if (it == NULL)
		return -DER_NOMEM;
	it->it_tcx = tcx;
	it->it_state = BTR_ITR_INIT;
	d_list_add_tail(&it->it_link, &tcx->tc_iters);
	tcx->tc_ref++;
	*ih = it;
	return 0;
}

void
dbtree_iter_finish(struct btr_iterator *ih)
{
	struct btr_context *tcx = ih->it_tcx;

	d_list_del(&ih->it_link);
	D_FREE(ih);
	btr_tcx_put(tcx);
}

/* The state after a probe that returned @rc. */
static void
btr_iter_settle(struct btr_iterator *it, int rc)
{
	if (rc == 0)
		it->it_state = BTR_ITR_READY;
	else if (rc == -DER_NONEXIST)
		it->it_state = BTR_ITR_EOF;
	else
		it->it_state = BTR_ITR_INIT;
}

int
dbtree_iter_probe(struct btr_iterator *ih, dbtree_probe_opc_t opc, const d_iov_t *key,
		  const struct dbtree_anchor *anchor)
{
	struct btr_context *tcx = ih->it_tcx;
	struct btr_key bk = {0};
	int rc;

	if (!btr_opc_valid(opc))
		return -DER_INVAL;
	if (opc == BTR_PROBE_FIRST || opc == BTR_PROBE_LAST) {
		rc = btr_probe(tcx, ih->it_trace, opc, NULL);
	} else if (anchor != NULL) {
		rc = btr_probe_anchor(tcx, ih->it_trace, opc, anchor);
	} else {
		rc = btr_key_init(tcx, key, &bk);
		if (rc == 0)
			rc = btr_probe(tcx, ih->it_trace, opc, &bk);
	}
	btr_iter_settle(ih, rc);
	return rc;
}

static int
btr_iter_move(struct btr_iterator *it, bool next)
{
	struct btr_context *tcx = it->it_tcx;
	int rc;

	switch (it->it_state) {
	case BTR_ITR_INIT:
		return -DER_INVAL;
	case BTR_ITR_EOF:
		return -DER_NONEXIST;
	case BTR_ITR_SAVED:
		rc = btr_probe_anchor(tcx, it->it_trace, next ? BTR_PROBE_GT : BTR_PROBE_LT,
				      &it->it_anchor);
		btr_iter_settle(it, rc);
		return rc;
	default:
		break;
	}
	if (next ? btr_trace_next(tcx, it->it_trace) : btr_trace_prev(tcx, it->it_trace))
		return 0;
	it->it_state = BTR_ITR_EOF;
	return -DER_NONEXIST;
}

int
dbtree_iter_next(struct btr_iterator *ih)
{
	return btr_iter_move(ih, true);
}

int
dbtree_iter_prev(struct btr_iterator *ih)
{
	return btr_iter_move(ih, false);
}

/* Make a SAVED iterator READY again if its record is still there. */
static int
btr_iter_revalidate(struct btr_iterator *it)
{
	int rc;

	switch (it->it_state) {
	case BTR_ITR_INIT:
		return -DER_INVAL;
	case BTR_ITR_EOF:
		return -DER_NONEXIST;
	case BTR_ITR_SAVED:
		rc = btr_probe_anchor(it->it_tcx, it->it_trace, BTR_PROBE_EQ, &it->it_anchor);
		if (rc == 0)
			it->it_state = BTR_ITR_READY;
		return rc;
	default:
		return 0;
	}
}

int
dbtree_iter_fetch(struct btr_iterator *ih, d_iov_t *key, d_iov_t *val, struct dbtree_anchor *anchor)
{
	struct btr_context *tcx = ih->it_tcx;
	struct btr_lent_df *le;
	struct btr_record rec;
	int rc;

	rc = btr_iter_revalidate(ih);
	if (rc != 0)
		return rc;
	le = btr_trace_lent(tcx, ih->it_trace);
	if (key != NULL || val != NULL) {
		btr_rec_view(tcx, le, &rec);
		rc = btr_ops(tcx)->to_rec_fetch(&tcx->tc_tins, &rec, key, val);
		if (rc != 0)
			return rc;
	}
	if (anchor != NULL)
		rc = btr_anchor_encode(tcx, le, anchor);
	return rc;
}

int
dbtree_iter_delete(struct btr_iterator *ih, void *args)
{
	int rc;

	rc = btr_iter_revalidate(ih);
	if (rc != 0)
		return rc;
	return btr_delete_trace(ih->it_tcx, ih->it_trace, args);
}

int
dbtree_iterate(struct btr_instance *toh, bool backward, dbtree_iterate_cb_t cb, void *arg)
{
	struct btr_iterator *it;
	int rc;

	rc = dbtree_iter_prepare(toh, &it);
	if (rc != 0)
		return rc;
	rc = dbtree_iter_probe(it, backward ? BTR_PROBE_LAST : BTR_PROBE_FIRST, NULL, NULL);
	while (rc == 0) {
		d_iov_t key = {0}, val = {0};

		rc = dbtree_iter_fetch(it, &key, &val, NULL);
		if (rc != 0)
			break;
		rc = cb(it, &key, &val, arg);
		if (rc != 0)
			goto out;
		rc = backward ? dbtree_iter_prev(it) : dbtree_iter_next(it);
	}
	if (rc == -DER_NONEXIST)
		rc = 0;
out:
	if (rc == 1)
		rc = 0;
	dbtree_iter_finish(it);
	return rc;
}
