/*
 * evtree.c: the structure of the extent tree (evtree) over the umem heap: create, open,
 * insert, delete, destroy and the consistency checker. Queries and iterators are in
 * evt_query.c; the on-media layout is in evt_priv.h; the API in daos_srv/evtree.h.
 *
 * The tree is an R-tree with the "sorted" policy: the records of every node are kept in
 * key order (start index ascending, then newest first, then end index), so the tree is
 * also a B+-tree over those keys. A parent's record of a child holds the child's first key
 * and its minimum bounding rectangle (end index max, epoch min and max). Inserts and deletes
 * find their place by key in O(log n) like a B+-tree; searches prune subtrees by rectangle
 * like an R-tree and stop at the first subtree that starts past the searched range.
 *
 * Invariants (evt_check verifies 1-6):
 * 1. An empty tree has no node (tr_node NULL, tr_depth 0). Otherwise every leaf is at
 *    level tr_depth - 1 and every other node is internal: the depth is uniform.
 * 2. Every node holds 1..tr_order records.
 * 3. The leaf records, read left to right, are strictly increasing in key order
 *    (evt_rect_cmp): no two entries have the same rectangle.
 * 4. A parent's record of a child equals the child's summary exactly: first key, highest
 *    end index, lowest and highest epoch of the subtree. A search may therefore skip a
 *    subtree on its record alone, and stop at the first record that starts past its range.
 * 5. No two overlapping entries have the same epoch and minor epoch (evt_insert refuses
 *    them), so at every index at most one entry is the newest: visibility is well defined.
 * 6. tr_count is the number of leaf records.
 * 7. Persistent bytes change only inside a transaction, after umem_tx_add, so the redo
 *    record carries every change and an abort restores every byte. The handle keeps no
 *    copy of persistent state, so it stays valid across an abort.
 */
#define D_LOGFAC vos

#include <string.h>

#include <gurt/common.h>

#include "evt_priv.h"

int
evt_node_load(struct evt_context *tcx, umem_off_t off, unsigned int level, struct evt_node_df **ndp)
{
	struct evt_root_df *root = tcx->tc_root;
	size_t size = evt_node_size(root->tr_order);
	size_t heap = umem_size(tcx->tc_umm);
	struct evt_node_df *nd;
	bool leaf = (level + 1 == root->tr_depth);

	if (off == UMOFF_NULL || off % 8 != 0 || off >= heap || heap - off < size) {
		D_ERROR("evtree node offset %#" PRIx64 " at level %u is outside the heap\n", off,
			level);
		return -DER_DF_INVAL;
	}
	nd = umem_off2ptr(tcx->tc_umm, off);
	if (nd->nd_magic != EVT_NODE_MAGIC || nd->nd_nr > root->tr_order ||
	    evt_node_is_leaf(nd) != leaf) {
		D_ERROR("evtree node %#" PRIx64 " at level %u of %u is damaged: magic %#x nr %u "
			"flags %#x\n",
			off, level, root->tr_depth, nd->nd_magic, nd->nd_nr, nd->nd_flags);
		return -DER_DF_INVAL;
	}
	*ndp = nd;
	return 0;
}

/* The record a parent keeps for child @nd at @off. */
static void
evt_node_summary(struct evt_node_df *nd, umem_off_t off, struct evt_child_df *sum)
{
	unsigned int i;

	D_ASSERT(nd->nd_nr > 0);
	memset(sum, 0, sizeof(*sum));
	sum->cd_node = off;
	if (evt_node_is_leaf(nd)) {
		const struct evt_rect_df *rd = &evt_node_leaf(nd, 0)->lf_rect;

		sum->cd_key = *rd;
		sum->cd_key.rd_flags = 0;
		sum->cd_key.rd_pad = 0;
		sum->cd_mbr_hi = rd->rd_hi;
		sum->cd_epc_lo = rd->rd_epc;
		sum->cd_epc_hi = rd->rd_epc;
		for (i = 1; i < nd->nd_nr; i++) {
			rd = &evt_node_leaf(nd, i)->lf_rect;
			if (rd->rd_hi > sum->cd_mbr_hi)
				sum->cd_mbr_hi = rd->rd_hi;
			if (rd->rd_epc < sum->cd_epc_lo)
				sum->cd_epc_lo = rd->rd_epc;
			if (rd->rd_epc > sum->cd_epc_hi)
				sum->cd_epc_hi = rd->rd_epc;
		}
	} else {
		const struct evt_child_df *cd = evt_node_child(nd, 0);

		sum->cd_key = cd->cd_key;
		sum->cd_mbr_hi = cd->cd_mbr_hi;
		sum->cd_epc_lo = cd->cd_epc_lo;
		sum->cd_epc_hi = cd->cd_epc_hi;
		for (i = 1; i < nd->nd_nr; i++) {
			cd = evt_node_child(nd, i);
			if (cd->cd_mbr_hi > sum->cd_mbr_hi)
				sum->cd_mbr_hi = cd->cd_mbr_hi;
			if (cd->cd_epc_lo < sum->cd_epc_lo)
				sum->cd_epc_lo = cd->cd_epc_lo;
			if (cd->cd_epc_hi > sum->cd_epc_hi)
				sum->cd_epc_hi = cd->cd_epc_hi;
		}
	}
}

int
evt_root_summary(struct evt_context *tcx, struct evt_child_df *sum)
{
	struct evt_node_df *nd;
	int rc;

	if (tcx->tc_root->tr_depth == 0)
		return -DER_NONEXIST;
	rc = evt_node_load(tcx, tcx->tc_root->tr_node, 0, &nd);
	if (rc != 0)
		return rc;
	if (nd->nd_nr == 0) {
		D_ERROR("evtree root node is empty\n");
		return -DER_DF_INVAL;
	}
	evt_node_summary(nd, tcx->tc_root->tr_node, sum);
	return 0;
}

/* Bring the record @at of @parent up to date with its child @child; log only a change. */
static int
evt_child_refresh(struct evt_context *tcx, struct evt_node_df *parent, unsigned int at,
		  struct evt_node_df *child)
{
	struct evt_child_df *cd = evt_node_child(parent, at);
	struct evt_child_df sum;
	int rc;

	evt_node_summary(child, cd->cd_node, &sum);
	if (memcmp(cd, &sum, sizeof(sum)) == 0)
		return 0;
	rc = umem_tx_add_ptr(tcx->tc_umm, cd, sizeof(*cd));
	if (rc != 0)
		return rc;
	*cd = sum;
	return 0;
}

unsigned int
evt_child_search(struct evt_node_df *nd, const struct evt_rect *key)
{
	unsigned int lo = 0, hi = nd->nd_nr;

	/* the last child whose first key is <= key; the first child if there is none */
	while (lo < hi) {
		unsigned int mid = (lo + hi) / 2;

		if (evt_rect_df_cmp(&evt_node_child(nd, mid)->cd_key, key) <= 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo == 0 ? 0 : lo - 1;
}

unsigned int
evt_leaf_search(struct evt_node_df *nd, const struct evt_rect *key, bool *found)
{
	unsigned int lo = 0, hi = nd->nd_nr;

	/* the first record whose key is >= key */
	while (lo < hi) {
		unsigned int mid = (lo + hi) / 2;

		if (evt_rect_df_cmp(&evt_node_leaf(nd, mid)->lf_rect, key) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*found = lo < nd->nd_nr && evt_rect_df_cmp(&evt_node_leaf(nd, lo)->lf_rect, key) == 0;
	return lo;
}

int
evt_scan(struct evt_context *tcx, const struct evt_extent *ex, uint64_t epc_lo, uint64_t epc_hi,
	 int (*cb)(void *arg, const struct evt_leaf_df *lf), void *arg)
{
	struct {
		struct evt_node_df *nd;
		unsigned int at;
	} stk[EVT_MAX_DEPTH];
	unsigned int depth = tcx->tc_root->tr_depth;
	unsigned int level = 0;
	int rc;

	if (depth == 0)
		return 0;
	rc = evt_node_load(tcx, tcx->tc_root->tr_node, 0, &stk[0].nd);
	if (rc != 0)
		return rc;
	stk[0].at = 0;
	for (;;) {
		struct evt_node_df *nd = stk[level].nd;
		unsigned int at = stk[level].at;

		if (at >= nd->nd_nr) {
			if (level == 0)
				return 0;
			level--; /* its position already points past the child we leave */
			continue;
		}
		stk[level].at++;
		if (level + 1 == depth) {
			const struct evt_leaf_df *lf = evt_node_leaf(nd, at);

			/* keys sort by start index: everything after starts past the range */
			if (lf->lf_rect.rd_lo > ex->ex_hi)
				return 0;
			if (lf->lf_rect.rd_hi < ex->ex_lo || lf->lf_rect.rd_epc < epc_lo ||
			    lf->lf_rect.rd_epc > epc_hi)
				continue;
			rc = cb(arg, lf);
			if (rc != 0)
				return rc;
			continue;
		}
		{
			const struct evt_child_df *cd = evt_node_child(nd, at);

			if (cd->cd_key.rd_lo > ex->ex_hi)
				return 0;
			if (cd->cd_mbr_hi < ex->ex_lo || cd->cd_epc_lo > epc_hi ||
			    cd->cd_epc_hi < epc_lo)
				continue;
			rc = evt_node_load(tcx, cd->cd_node, level + 1, &stk[level + 1].nd);
			if (rc != 0)
				return rc;
			stk[level + 1].at = 0;
			level++;
		}
	}
}

int
evt_create_inplace(struct evt_root_df *root, unsigned int order, struct umem_instance *umm,
		   struct evt_context **tcxp)
{
	static const struct evt_root_df zero;
	struct evt_context *tcx;
	char *base = umem_base(umm);
	int rc;

	if (order < EVT_ORDER_MIN || order > EVT_ORDER_MAX) {
		D_ERROR("evtree order %u outside [%d, %d]: " DF_RC "\n", order, EVT_ORDER_MIN,
			EVT_ORDER_MAX, DP_RC(-DER_INVAL));
		return -DER_INVAL;
	}
	if ((char *)root < base || (char *)(root + 1) > base + umem_size(umm)) {
		D_ERROR("evtree root %p is outside the heap: " DF_RC "\n", (void *)root,
			DP_RC(-DER_INVAL));
		return -DER_INVAL;
	}
	if (memcmp(root, &zero, sizeof(zero)) != 0) {
		D_DEBUG("evtree root %p is in use\n", (void *)root);
		return -DER_EXIST;
	}
	D_ALLOC_PTR(tcx);
	if (tcx == NULL)
		return -DER_NOMEM;
	tcx->tc_umm = umm;
	tcx->tc_root = root;

	rc = umem_tx_begin(umm);
	if (rc != 0)
		goto out_free;
	rc = umem_tx_add_ptr(umm, root, sizeof(*root));
	if (rc == 0) {
		root->tr_node = UMOFF_NULL;
		root->tr_count = 0;
		root->tr_magic = EVT_ROOT_MAGIC;
		root->tr_order = (uint16_t)order;
		root->tr_depth = 0;
		root->tr_pad = 0;
	}
	rc = umem_tx_end(umm, rc);
	if (rc != 0)
		goto out_free;
	*tcxp = tcx;
	return 0;

out_free:
	D_FREE(tcx);
	return rc;
}

int
evt_open(struct evt_root_df *root, struct umem_instance *umm, struct evt_context **tcxp)
{
	static const struct evt_root_df zero;
	struct evt_context *tcx;
	char *base = umem_base(umm);
	size_t heap = umem_size(umm);

	if ((char *)root < base || (char *)(root + 1) > base + heap)
		return -DER_INVAL;
	if (memcmp(root, &zero, sizeof(zero)) == 0)
		return -DER_NONEXIST;
	if (root->tr_magic != EVT_ROOT_MAGIC || root->tr_order < EVT_ORDER_MIN ||
	    root->tr_order > EVT_ORDER_MAX || root->tr_depth > EVT_MAX_DEPTH ||
	    (root->tr_depth == 0) != (root->tr_node == UMOFF_NULL) ||
	    (root->tr_depth == 0) != (root->tr_count == 0) || root->tr_node >= heap) {
		D_ERROR("evtree root %p is damaged: magic %#x order %u depth %u: " DF_RC "\n",
			(void *)root, root->tr_magic, root->tr_order, root->tr_depth,
			DP_RC(-DER_DF_INVAL));
		return -DER_DF_INVAL;
	}
	D_ALLOC_PTR(tcx);
	if (tcx == NULL)
		return -DER_NOMEM;
	tcx->tc_umm = umm;
	tcx->tc_root = root;
	*tcxp = tcx;
	return 0;
}

void
evt_close(struct evt_context *tcx)
{
	D_FREE(tcx);
}

uint64_t
evt_count(struct evt_context *tcx)
{
	return tcx->tc_root->tr_count;
}

static int
evt_destroy_node(struct evt_context *tcx, umem_off_t off, unsigned int level, evt_ent_cb_t cb,
		 void *arg)
{
	struct evt_node_df *nd;
	unsigned int i;
	int rc;

	rc = evt_node_load(tcx, off, level, &nd);
	if (rc != 0)
		return rc;
	for (i = 0; i < nd->nd_nr; i++) {
		if (!evt_node_is_leaf(nd)) {
			rc = evt_destroy_node(tcx, evt_node_child(nd, i)->cd_node, level + 1, cb,
					      arg);
		} else if (cb != NULL) {
			struct evt_entry ent;

			evt_leaf_read(&ent, evt_node_leaf(nd, i));
			rc = cb(tcx->tc_umm, &ent, arg);
		}
		if (rc != 0)
			return rc;
	}
	return umem_free(tcx->tc_umm, off);
}

int
evt_destroy(struct evt_context *tcx, evt_ent_cb_t cb, void *arg)
{
	struct umem_instance *umm = tcx->tc_umm;
	struct evt_root_df *root = tcx->tc_root;
	int rc;

	tcx->tc_gen++;
	rc = umem_tx_begin(umm);
	if (rc != 0)
		return rc;
	if (root->tr_depth != 0)
		rc = evt_destroy_node(tcx, root->tr_node, 0, cb, arg);
	if (rc == 0)
		rc = umem_tx_add_ptr(umm, root, sizeof(*root));
	if (rc == 0)
		memset(root, 0, sizeof(*root));
	rc = umem_tx_end(umm, rc);
	if (rc != 0) {
		D_DEBUG("evtree destroy failed: " DF_RC "\n", DP_RC(rc));
		return rc;
	}
	evt_close(tcx);
	return 0;
}

/*
 * Copy records [@from, @to) of the sequence "@nd with @rec inserted at @pos" to @dst.
 * The source records stay where they are.
 */
static void
evt_virt_copy(uint8_t *dst, struct evt_node_df *nd, unsigned int pos, const void *rec,
	      unsigned int from, unsigned int to)
{
	unsigned int v;

	for (v = from; v < to; v++, dst += EVT_REC_SIZE) {
		if (v < pos)
			memcpy(dst, evt_node_slot(nd, v), EVT_REC_SIZE);
		else if (v == pos)
			memcpy(dst, rec, EVT_REC_SIZE);
		else
			memcpy(dst, evt_node_slot(nd, v - 1), EVT_REC_SIZE);
	}
}

/*
 * Insert the EVT_REC_SIZE bytes at @rec at position @pos of node @nd. A full node splits:
 * its records and the new one are shared between @nd and a new node, returned in *@new_off
 * (UMOFF_NULL when there was room). An insert at the end of a full node leaves it full and
 * starts the new node with the one record, so appending in key order fills nodes; any
 * other insert splits in half. Works in place: ULT stacks are small.
 */
static int
evt_node_insert(struct evt_context *tcx, struct evt_node_df *nd, unsigned int pos, const void *rec,
		umem_off_t *new_off)
{
	struct umem_instance *umm = tcx->tc_umm;
	unsigned int order = tcx->tc_root->tr_order;
	unsigned int nr = nd->nd_nr;
	struct evt_node_df *nn;
	unsigned int total, left, first;
	umem_off_t off;
	int rc;

	D_ASSERT(pos <= nr && nr <= order);
	*new_off = UMOFF_NULL;
	if (nr < order) {
		rc = umem_tx_add_ptr(umm, nd, sizeof(*nd));
		if (rc == 0)
			rc = umem_tx_add_ptr(umm, evt_node_slot(nd, pos),
					     (size_t)(nr - pos + 1) * EVT_REC_SIZE);
		if (rc != 0)
			return rc;
		memmove(evt_node_slot(nd, pos + 1), evt_node_slot(nd, pos),
			(size_t)(nr - pos) * EVT_REC_SIZE);
		memcpy(evt_node_slot(nd, pos), rec, EVT_REC_SIZE);
		nd->nd_nr++;
		return 0;
	}

	total = nr + 1;
	left = pos == nr ? nr : (total + 1) / 2;
	off = umem_zalloc(umm, evt_node_size(order));
	if (off == UMOFF_NULL) {
		D_DEBUG("evtree node allocation failed\n");
		return -DER_NOSPACE;
	}
	nn = umem_off2ptr(umm, off);
	nn->nd_magic = EVT_NODE_MAGIC;
	nn->nd_flags = nd->nd_flags;
	nn->nd_nr = (uint16_t)(total - left);
	evt_virt_copy(evt_node_slot(nn, 0), nd, pos, rec, left, total);

	if (left != nr) {
		/* @nd keeps the first @left records: shift in the new one if it is among them */
		first = pos < left ? pos : left;
		rc = umem_tx_add_ptr(umm, nd, sizeof(*nd));
		if (rc == 0)
			rc = umem_tx_add_ptr(umm, evt_node_slot(nd, first),
					     (size_t)(order - first) * EVT_REC_SIZE);
		if (rc != 0)
			return rc;
		if (pos < left) {
			memmove(evt_node_slot(nd, pos + 1), evt_node_slot(nd, pos),
				(size_t)(left - 1 - pos) * EVT_REC_SIZE);
			memcpy(evt_node_slot(nd, pos), rec, EVT_REC_SIZE);
		}
		memset(evt_node_slot(nd, left), 0, (size_t)(order - left) * EVT_REC_SIZE);
		nd->nd_nr = (uint16_t)left;
	}
	*new_off = off;
	return 0;
}

/* Remove record @pos of node @nd. */
static int
evt_node_remove(struct evt_context *tcx, struct evt_node_df *nd, unsigned int pos)
{
	uint8_t *slots = (uint8_t *)(nd + 1);
	unsigned int nr = nd->nd_nr;
	int rc;

	D_ASSERT(pos < nr);
	rc = umem_tx_add_ptr(tcx->tc_umm, nd, sizeof(*nd));
	if (rc == 0)
		rc = umem_tx_add_ptr(tcx->tc_umm, slots + (size_t)pos * EVT_REC_SIZE,
				     (size_t)(nr - pos) * EVT_REC_SIZE);
	if (rc != 0)
		return rc;
	memmove(slots + (size_t)pos * EVT_REC_SIZE, slots + (size_t)(pos + 1) * EVT_REC_SIZE,
		(size_t)(nr - pos - 1) * EVT_REC_SIZE);
	memset(slots + (size_t)(nr - 1) * EVT_REC_SIZE, 0, EVT_REC_SIZE);
	nd->nd_nr--;
	return 0;
}

/* The nodes from the root to a leaf, and the record followed in each. */
struct evt_path {
	umem_off_t pa_off;
	struct evt_node_df *pa_nd;
	unsigned int pa_at;
};

/*
 * Walk from the root to the leaf where @key belongs, filling @path. Returns the leaf's
 * level, or a negative error.
 */
static int
evt_path_find(struct evt_context *tcx, const struct evt_rect *key, struct evt_path *path)
{
	struct evt_root_df *root = tcx->tc_root;
	umem_off_t off = root->tr_node;
	unsigned int level;
	int rc;

	D_ASSERT(root->tr_depth > 0);
	for (level = 0;; level++) {
		struct evt_node_df *nd;

		rc = evt_node_load(tcx, off, level, &nd);
		if (rc != 0)
			return rc;
		if (nd->nd_nr == 0) {
			D_ERROR("evtree node %#" PRIx64 " at level %u is empty\n", off, level);
			return -DER_DF_INVAL;
		}
		path[level].pa_off = off;
		path[level].pa_nd = nd;
		if (evt_node_is_leaf(nd))
			return (int)level;
		path[level].pa_at = evt_child_search(nd, key);
		off = evt_node_child(nd, path[level].pa_at)->cd_node;
	}
}

/* The root splits: a new root above the old one and its new sibling @sib_off. */
static int
evt_root_grow(struct evt_context *tcx, struct evt_path *path, umem_off_t sib_off)
{
	struct umem_instance *umm = tcx->tc_umm;
	struct evt_root_df *root = tcx->tc_root;
	struct evt_node_df *nd;
	umem_off_t off;
	int rc;

	if (root->tr_depth >= EVT_MAX_DEPTH) {
		D_ERROR("evtree is %u levels deep already: " DF_RC "\n", root->tr_depth,
			DP_RC(-DER_NOSPACE));
		return -DER_NOSPACE;
	}
	off = umem_zalloc(umm, evt_node_size(root->tr_order));
	if (off == UMOFF_NULL) {
		D_DEBUG("evtree root allocation failed\n");
		return -DER_NOSPACE;
	}
	nd = umem_off2ptr(umm, off);
	nd->nd_magic = EVT_NODE_MAGIC;
	nd->nd_nr = 2;
	evt_node_summary(path[0].pa_nd, path[0].pa_off, evt_node_child(nd, 0));
	evt_node_summary(umem_off2ptr(umm, sib_off), sib_off, evt_node_child(nd, 1));
	rc = umem_tx_add_ptr(umm, root, sizeof(*root));
	if (rc != 0)
		return rc;
	root->tr_node = off;
	root->tr_depth++;
	return 0;
}

static void
evt_leaf_write(struct evt_leaf_df *lf, const struct evt_entry *ent)
{
	memset(lf, 0, sizeof(*lf));
	lf->lf_rect.rd_lo = ent->en_rect.rc_ex.ex_lo;
	lf->lf_rect.rd_hi = ent->en_rect.rc_ex.ex_hi;
	lf->lf_rect.rd_epc = ent->en_rect.rc_epc;
	lf->lf_rect.rd_minor_epc = ent->en_rect.rc_minor_epc;
	lf->lf_rect.rd_flags = (uint16_t)ent->en_flags;
	lf->lf_payload = ent->en_payload;
}

/* Phase 2 of an insert, inside the transaction: @path leads to the leaf (level @level). */
static int
evt_insert_tx(struct evt_context *tcx, const struct evt_entry *ent, struct evt_path *path,
	      int level, unsigned int pos)
{
	struct umem_instance *umm = tcx->tc_umm;
	struct evt_root_df *root = tcx->tc_root;
	struct evt_child_df crec;
	struct evt_leaf_df lf;
	const void *rec = &lf;
	umem_off_t new_off;
	int rc;

	evt_leaf_write(&lf, ent);
	if (root->tr_depth == 0) {
		struct evt_node_df *nd;
		umem_off_t off;

		off = umem_zalloc(umm, evt_node_size(root->tr_order));
		if (off == UMOFF_NULL) {
			D_DEBUG("evtree leaf allocation failed\n");
			return -DER_NOSPACE;
		}
		nd = umem_off2ptr(umm, off);
		nd->nd_magic = EVT_NODE_MAGIC;
		nd->nd_flags = EVT_NODE_LEAF;
		nd->nd_nr = 1;
		*evt_node_leaf(nd, 0) = lf;
		rc = umem_tx_add_ptr(umm, root, sizeof(*root));
		if (rc != 0)
			return rc;
		root->tr_node = off;
		root->tr_depth = 1;
		root->tr_count = 1;
		return 0;
	}

	for (;;) {
		rc = evt_node_insert(tcx, path[level].pa_nd, pos, rec, &new_off);
		if (rc != 0)
			return rc;
		if (new_off == UMOFF_NULL)
			break;
		if (level == 0) {
			rc = evt_root_grow(tcx, path, new_off);
			if (rc != 0)
				return rc;
			goto out_count;
		}
		rc = evt_child_refresh(tcx, path[level - 1].pa_nd, path[level - 1].pa_at,
				       path[level].pa_nd);
		if (rc != 0)
			return rc;
		evt_node_summary(umem_off2ptr(umm, new_off), new_off, &crec);
		rec = &crec;
		pos = path[level - 1].pa_at + 1;
		level--;
	}
	/* the last node changed did not split: refresh its ancestors' records */
	for (; level > 0; level--) {
		rc = evt_child_refresh(tcx, path[level - 1].pa_nd, path[level - 1].pa_at,
				       path[level].pa_nd);
		if (rc != 0)
			return rc;
	}
out_count:
	rc = umem_tx_add_ptr(umm, &root->tr_count, sizeof(root->tr_count));
	if (rc != 0)
		return rc;
	root->tr_count++;
	return 0;
}

struct evt_dup_arg {
	const struct evt_rect *da_rect;
	bool da_same;
};

/* Called on entries overlapping the new one at its epoch: refuse a partial same-epoch one. */
static int
evt_dup_cb(void *arg, const struct evt_leaf_df *lf)
{
	struct evt_dup_arg *da = arg;
	const struct evt_rect *r = da->da_rect;

	if (lf->lf_rect.rd_minor_epc != r->rc_minor_epc)
		return 0;
	if (lf->lf_rect.rd_lo == r->rc_ex.ex_lo && lf->lf_rect.rd_hi == r->rc_ex.ex_hi) {
		da->da_same = true;
		return 0;
	}
	/* the caller knows which object this is, and logs the refusal if it is an error */
	D_DEBUG("evtree: [%" PRIu64 ", %" PRIu64 "]@%" PRIu64 ".%u partially overlaps [%" PRIu64
		", %" PRIu64 "] of the same epoch: " DF_RC "\n",
		r->rc_ex.ex_lo, r->rc_ex.ex_hi, r->rc_epc, r->rc_minor_epc, lf->lf_rect.rd_lo,
		lf->lf_rect.rd_hi, DP_RC(-DER_VOS_PARTIAL_UPDATE));
	return -DER_VOS_PARTIAL_UPDATE;
}

int
evt_insert(struct evt_context *tcx, const struct evt_entry *ent, struct evt_entry *old)
{
	struct evt_path path[EVT_MAX_DEPTH];
	struct umem_instance *umm = tcx->tc_umm;
	struct evt_dup_arg da = {.da_rect = &ent->en_rect};
	const struct evt_rect *r = &ent->en_rect;
	struct evt_leaf_df *lf;
	unsigned int pos = 0;
	int level = 0;
	bool found;
	int rc;

	if (r->rc_ex.ex_lo > r->rc_ex.ex_hi || (ent->en_flags & ~EVT_ENT_HOLE) != 0) {
		D_ERROR("evtree: bad entry [%" PRIu64 ", %" PRIu64 "] flags %#x: " DF_RC "\n",
			r->rc_ex.ex_lo, r->rc_ex.ex_hi, ent->en_flags, DP_RC(-DER_INVAL));
		return -DER_INVAL;
	}
	/* phase 1, read-only: a same-epoch overlap, and the place of the new entry */
	rc = evt_scan(tcx, &r->rc_ex, r->rc_epc, r->rc_epc, evt_dup_cb, &da);
	if (rc != 0)
		return rc;
	if (tcx->tc_root->tr_depth > 0) {
		level = evt_path_find(tcx, r, path);
		if (level < 0)
			return level;
		pos = evt_leaf_search(path[level].pa_nd, r, &found);
		if (found != da.da_same) {
			D_ERROR("evtree: search and scan disagree on [%" PRIu64 ", %" PRIu64
				"]: " DF_RC "\n",
				r->rc_ex.ex_lo, r->rc_ex.ex_hi, DP_RC(-DER_DF_INVAL));
			return -DER_DF_INVAL;
		}
	}

	tcx->tc_gen++;
	rc = umem_tx_begin(umm);
	if (rc != 0)
		return rc;
	if (da.da_same) {
		lf = evt_node_leaf(path[level].pa_nd, pos);
		if (old != NULL)
			evt_leaf_read(old, lf);
		rc = umem_tx_add_ptr(umm, lf, sizeof(*lf));
		if (rc == 0) {
			lf->lf_rect.rd_flags = (uint16_t)ent->en_flags;
			lf->lf_payload = ent->en_payload;
		}
	} else {
		rc = evt_insert_tx(tcx, ent, path, level, pos);
	}
	rc = umem_tx_end(umm, rc);
	if (rc != 0)
		return rc;
	return da.da_same ? 1 : 0;
}

/*
 * Child @at of @parent (at @level - 1) is under half full: merge it with a neighbour when
 * both fit in one node, otherwise even the two out. Refreshes @parent's records.
 */
static int
evt_node_underflow(struct evt_context *tcx, struct evt_node_df *parent, unsigned int at,
		   unsigned int level)
{
	struct umem_instance *umm = tcx->tc_umm;
	unsigned int order = tcx->tc_root->tr_order;
	unsigned int left_at = at > 0 ? at - 1 : at;
	struct evt_node_df *left, *right;
	umem_off_t right_off;
	unsigned int nl, nr, total, want;
	int rc;

	D_ASSERT(parent->nd_nr > 1);
	right_off = evt_node_child(parent, left_at + 1)->cd_node;
	rc = evt_node_load(tcx, evt_node_child(parent, left_at)->cd_node, level, &left);
	if (rc == 0)
		rc = evt_node_load(tcx, right_off, level, &right);
	if (rc != 0)
		return rc;
	nl = left->nd_nr;
	nr = right->nd_nr;
	total = nl + nr;
	if (total <= order) {
		rc = umem_tx_add_ptr(umm, left, sizeof(*left));
		if (rc == 0)
			rc = umem_tx_add_ptr(umm, evt_node_slot(left, nl),
					     (size_t)nr * EVT_REC_SIZE);
		if (rc != 0)
			return rc;
		memcpy(evt_node_slot(left, nl), evt_node_slot(right, 0), (size_t)nr * EVT_REC_SIZE);
		left->nd_nr = (uint16_t)total;
		rc = umem_free(umm, right_off);
		if (rc == 0)
			rc = evt_node_remove(tcx, parent, left_at + 1);
		if (rc == 0)
			rc = evt_child_refresh(tcx, parent, left_at, left);
		return rc;
	}

	/* even the two out, moving records across the boundary in place */
	want = total / 2;
	rc = umem_tx_add_ptr(umm, left, sizeof(*left));
	if (rc == 0)
		rc = umem_tx_add_ptr(umm, right, sizeof(*right));
	if (rc != 0)
		return rc;
	if (nl < want) {
		unsigned int k = want - nl;

		rc = umem_tx_add_ptr(umm, evt_node_slot(left, nl), (size_t)k * EVT_REC_SIZE);
		if (rc == 0)
			rc = umem_tx_add_ptr(umm, evt_node_slot(right, 0),
					     (size_t)nr * EVT_REC_SIZE);
		if (rc != 0)
			return rc;
		memcpy(evt_node_slot(left, nl), evt_node_slot(right, 0), (size_t)k * EVT_REC_SIZE);
		memmove(evt_node_slot(right, 0), evt_node_slot(right, k),
			(size_t)(nr - k) * EVT_REC_SIZE);
		memset(evt_node_slot(right, nr - k), 0, (size_t)k * EVT_REC_SIZE);
	} else if (nl > want) {
		unsigned int k = nl - want;

		rc = umem_tx_add_ptr(umm, evt_node_slot(right, 0), (size_t)(nr + k) * EVT_REC_SIZE);
		if (rc == 0)
			rc = umem_tx_add_ptr(umm, evt_node_slot(left, want),
					     (size_t)k * EVT_REC_SIZE);
		if (rc != 0)
			return rc;
		memmove(evt_node_slot(right, k), evt_node_slot(right, 0),
			(size_t)nr * EVT_REC_SIZE);
		memcpy(evt_node_slot(right, 0), evt_node_slot(left, want),
		       (size_t)k * EVT_REC_SIZE);
		memset(evt_node_slot(left, want), 0, (size_t)k * EVT_REC_SIZE);
	}
	left->nd_nr = (uint16_t)want;
	right->nd_nr = (uint16_t)(total - want);
	rc = evt_child_refresh(tcx, parent, left_at, left);
	if (rc == 0)
		rc = evt_child_refresh(tcx, parent, left_at + 1, right);
	return rc;
}

/*
 * After a record left the leaf at @level of @path: free empty nodes, merge or even out
 * nodes under half full, refresh the parents' records, and drop root levels with a single
 * child.
 */
static int
evt_rebalance(struct evt_context *tcx, struct evt_path *path, int level)
{
	struct umem_instance *umm = tcx->tc_umm;
	struct evt_root_df *root = tcx->tc_root;
	unsigned int order = root->tr_order;
	struct evt_node_df *nd;
	int rc;

	for (; level > 0; level--) {
		struct evt_node_df *parent = path[level - 1].pa_nd;
		unsigned int at = path[level - 1].pa_at;

		nd = path[level].pa_nd;
		if (nd->nd_nr == 0) {
			rc = umem_free(umm, path[level].pa_off);
			if (rc == 0)
				rc = evt_node_remove(tcx, parent, at);
		} else if (nd->nd_nr < order / 2 && parent->nd_nr > 1) {
			rc = evt_node_underflow(tcx, parent, at, (unsigned int)level);
		} else {
			rc = evt_child_refresh(tcx, parent, at, nd);
		}
		if (rc != 0)
			return rc;
	}

	nd = path[0].pa_nd;
	while (root->tr_depth > 1 && nd->nd_nr == 1) {
		umem_off_t child = evt_node_child(nd, 0)->cd_node;

		rc = umem_free(umm, root->tr_node);
		if (rc == 0)
			rc = umem_tx_add_ptr(umm, root, sizeof(*root));
		if (rc != 0)
			return rc;
		root->tr_node = child;
		root->tr_depth--;
		rc = evt_node_load(tcx, child, 0, &nd);
		if (rc != 0)
			return rc;
	}
	if (nd->nd_nr == 0) {
		rc = umem_free(umm, root->tr_node);
		if (rc == 0)
			rc = umem_tx_add_ptr(umm, root, sizeof(*root));
		if (rc != 0)
			return rc;
		root->tr_node = UMOFF_NULL;
		root->tr_depth = 0;
	}
	return 0;
}

int
evt_delete(struct evt_context *tcx, const struct evt_rect *rect, struct evt_entry *ent)
{
	struct evt_path path[EVT_MAX_DEPTH];
	struct umem_instance *umm = tcx->tc_umm;
	struct evt_root_df *root = tcx->tc_root;
	unsigned int pos;
	bool found;
	int level;
	int rc;

	if (root->tr_depth == 0)
		return -DER_NONEXIST;
	level = evt_path_find(tcx, rect, path);
	if (level < 0)
		return level;
	pos = evt_leaf_search(path[level].pa_nd, rect, &found);
	if (!found) {
		D_DEBUG("evtree: no entry [%" PRIu64 ", %" PRIu64 "]@%" PRIu64 ".%u to delete\n",
			rect->rc_ex.ex_lo, rect->rc_ex.ex_hi, rect->rc_epc, rect->rc_minor_epc);
		return -DER_NONEXIST;
	}
	if (ent != NULL)
		evt_leaf_read(ent, evt_node_leaf(path[level].pa_nd, pos));

	tcx->tc_gen++;
	rc = umem_tx_begin(umm);
	if (rc != 0)
		return rc;
	rc = evt_node_remove(tcx, path[level].pa_nd, pos);
	if (rc == 0)
		rc = evt_rebalance(tcx, path, level);
	if (rc == 0)
		rc = umem_tx_add_ptr(umm, &root->tr_count, sizeof(root->tr_count));
	if (rc == 0)
		root->tr_count--;
	return umem_tx_end(umm, rc);
}

struct evt_check_arg {
	struct evt_stat *ca_st;
	struct evt_rect ca_prev;
	bool ca_have_prev;
};

static int
evt_check_node(struct evt_context *tcx, umem_off_t off, unsigned int level,
	       const struct evt_child_df *expect, struct evt_check_arg *ca)
{
	struct evt_child_df sum;
	struct evt_node_df *nd;
	unsigned int i;
	int rc;

	rc = evt_node_load(tcx, off, level, &nd);
	if (rc != 0)
		return rc;
	if (nd->nd_nr == 0) {
		D_ERROR("evtree check: node %#" PRIx64 " at level %u is empty\n", off, level);
		return -DER_DF_INVAL;
	}
	if (umem_alloc_size(tcx->tc_umm, off) < evt_node_size(tcx->tc_root->tr_order)) {
		D_ERROR("evtree check: node %#" PRIx64 " is not a live allocation of its size\n",
			off);
		return -DER_DF_INVAL;
	}
	ca->ca_st->es_nodes++;
	ca->ca_st->es_bytes += umem_alloc_size(tcx->tc_umm, off);
	if (evt_node_is_leaf(nd)) {
		ca->ca_st->es_leaves++;
		for (i = 0; i < nd->nd_nr; i++) {
			const struct evt_rect_df *rd = &evt_node_leaf(nd, i)->lf_rect;
			struct evt_rect r;

			evt_rect_read(&r, rd);
			if (r.rc_ex.ex_lo > r.rc_ex.ex_hi || (rd->rd_flags & ~EVT_ENT_HOLE) != 0 ||
			    (ca->ca_have_prev && evt_rect_cmp(&ca->ca_prev, &r) >= 0)) {
				D_ERROR("evtree check: entry %u of leaf %#" PRIx64
					" is bad or out of order: [%" PRIu64 ", %" PRIu64
					"]@%" PRIu64 ".%u\n",
					i, off, r.rc_ex.ex_lo, r.rc_ex.ex_hi, r.rc_epc,
					r.rc_minor_epc);
				return -DER_DF_INVAL;
			}
			ca->ca_prev = r;
			ca->ca_have_prev = true;
			ca->ca_st->es_entries++;
		}
	} else {
		for (i = 0; i < nd->nd_nr; i++) {
			const struct evt_child_df *cd = evt_node_child(nd, i);

			rc = evt_check_node(tcx, cd->cd_node, level + 1, cd, ca);
			if (rc != 0)
				return rc;
		}
	}
	if (expect != NULL) {
		evt_node_summary(nd, off, &sum);
		if (memcmp(&sum, expect, sizeof(sum)) != 0) {
			D_ERROR("evtree check: the parent's record of node %#" PRIx64
				" at level %u does not match it: mbr hi %" PRIu64 "/%" PRIu64
				" epochs %" PRIu64 "-%" PRIu64 "/%" PRIu64 "-%" PRIu64 "\n",
				off, level, expect->cd_mbr_hi, sum.cd_mbr_hi, expect->cd_epc_lo,
				expect->cd_epc_hi, sum.cd_epc_lo, sum.cd_epc_hi);
			return -DER_DF_INVAL;
		}
	}
	return 0;
}

int
evt_check(struct evt_context *tcx, struct evt_stat *st)
{
	struct evt_root_df *root = tcx->tc_root;
	struct evt_stat local;
	struct evt_check_arg ca = {.ca_st = st != NULL ? st : &local};
	int rc;

	memset(ca.ca_st, 0, sizeof(*ca.ca_st));
	ca.ca_st->es_depth = root->tr_depth;
	ca.ca_st->es_order = root->tr_order;
	if (root->tr_magic != EVT_ROOT_MAGIC || root->tr_order < EVT_ORDER_MIN ||
	    root->tr_order > EVT_ORDER_MAX || root->tr_depth > EVT_MAX_DEPTH ||
	    (root->tr_depth == 0) != (root->tr_node == UMOFF_NULL)) {
		D_ERROR("evtree check: bad root: magic %#x order %u depth %u\n", root->tr_magic,
			root->tr_order, root->tr_depth);
		return -DER_DF_INVAL;
	}
	if (root->tr_depth != 0) {
		rc = evt_check_node(tcx, root->tr_node, 0, NULL, &ca);
		if (rc != 0)
			return rc;
	}
	if (ca.ca_st->es_entries != root->tr_count) {
		D_ERROR("evtree check: root counts %" PRIu64 " entries, the leaves hold %" PRIu64
			"\n",
			root->tr_count, ca.ca_st->es_entries);
		return -DER_DF_INVAL;
	}
	return 0;
}
