/*
 * btree.c: dbtree, the B+tree VOS indexes everything with, over the umem heap. The
 * contract is in src/include/daos_srv/btree.h; the design notes in src/vos/README.md
 * ("btree"). Iterators and anchors are in btree_iter.c.
 *
 * A node is one heap allocation: a 16-byte header (flags, entry count and, in an internal
 * node, its first child) and room for `order` entries.
 *   leaf entry:     the record's body offset, then the key as the node keeps it: the uint64
 *                   (UINT trees), the hashed key (hashed trees), nothing (DIRECT trees: the
 *                   key lives in the body only)
 *   internal entry: a child, and the separator that bounds it from below (16 bytes)
 * An internal node with n entries has n + 1 children: tn_child, then the entries' children.
 *
 * Separators. Every key in a child is >= its separator and every key left of it is smaller.
 * In UINT trees a separator is a key value, copied up by a split and left alone by deletes
 * (a stale value still bounds correctly). Keys of hashed and direct trees do not fit in 8
 * bytes, so there a separator is the offset of the leftmost leaf of its child's subtree, and
 * comparing with it compares with that leaf's first record: the bound is always exact and
 * needs no update when records come and go; only the node moves that change which leaf is
 * leftmost (split, merge, rotation) touch separators, exactly as for key separators.
 *
 * Invariants (dbtree_check verifies 1-6):
 * 1. All leaves are at depth tr_depth; tr_depth == 0 iff tr_node == UMOFF_NULL.
 * 2. A node holds at most `order` entries, a node other than the root at least order / 2,
 *    the root at least one (a root internal node: two children).
 * 3. Keys strictly increase from the first leaf to the last, in the tree's order: the uint
 *    value; the hashed key, then to_key_cmp; to_key_cmp.
 * 4. UINT: a separator s between children L and R has max(L) < s <= min(R). Hashed and
 *    direct: the separator of a child is the offset of the child's leftmost leaf.
 * 5. Hashed: an entry's hashed key is the hash of its record's key.
 * 6. Every node is a live heap allocation reachable from the root exactly once.
 * 7. The heap changes only inside a transaction opened here (nested in the caller's), and
 *    only after umem_tx_add of the bytes; new nodes come from umem_zalloc, whose bytes are
 *    already in the transaction.
 * 8. Calls that refuse (EXIST, NONEXIST, INVAL, KEY2BIG) decide before opening their
 *    transaction, so they never doom the caller's.
 * 9. Before a structural change (insert, delete), every positioned iterator of the handle
 *    saves its position as an anchor (btr_iters_save); no iterator keeps a path into a
 *    changed tree.
 */
#define D_LOGFAC vos

#include <gurt/common.h>
#include <daos_srv/btree.h>

#include "vos_internal.h"
#include "btree_internal.h"

/* Registered classes: a static table, filled at module initialisation. */
struct btr_class {
	const btr_ops_t *bc_ops;
	uint64_t bc_feats;
};

static struct btr_class btr_classes[DBTREE_CLASS_MAX];

int
dbtree_class_register(unsigned int tree_class, uint64_t tree_feats, const btr_ops_t *ops)
{
	struct btr_class *bc;

	if (tree_class >= DBTREE_CLASS_MAX || ops == NULL || ops->to_rec_alloc == NULL ||
	    ops->to_rec_fetch == NULL) {
		D_ERROR("class %u: bad id or missing callbacks\n", tree_class);
		return -DER_INVAL;
	}
	if ((tree_feats & BTR_FEAT_DIRECT_KEY) && ops->to_key_cmp == NULL) {
		D_ERROR("class %u: direct keys need to_key_cmp\n", tree_class);
		return -DER_INVAL;
	}
	if ((ops->to_hkey_gen == NULL) != (ops->to_hkey_size == NULL) ||
	    (ops->to_hkey_cmp != NULL && ops->to_hkey_gen == NULL)) {
		D_ERROR("class %u: to_hkey_gen and to_hkey_size go together\n", tree_class);
		return -DER_INVAL;
	}
	if (ops->to_hkey_size != NULL &&
	    (ops->to_hkey_size() <= 0 || ops->to_hkey_size() > BTR_HKEY_MAX)) {
		D_ERROR("class %u: hashed key of %d bytes\n", tree_class, ops->to_hkey_size());
		return -DER_INVAL;
	}
	bc = &btr_classes[tree_class];
	if (bc->bc_ops != NULL) {
		if (bc->bc_ops == ops && bc->bc_feats == tree_feats)
			return 0;
		D_ERROR("class %u is registered already\n", tree_class);
		return -DER_EXIST;
	}
	bc->bc_ops = ops;
	bc->bc_feats = tree_feats;
	return 0;
}

/* Key kind of a tree from its feature bits; 0 for an invalid combination. */
static enum btr_kind
btr_feats2kind(uint64_t feats)
{
	switch (feats & (BTR_FEAT_UINT_KEY | BTR_FEAT_DIRECT_KEY)) {
	case 0:
		return BTR_KIND_HASH;
	case BTR_FEAT_UINT_KEY:
		return BTR_KIND_UINT;
	case BTR_FEAT_DIRECT_KEY:
		return BTR_KIND_DIRECT;
	default:
		return 0;
	}
}

/*
 * The library's bits of @feats must name one kind, which the class must support. A hashed
 * tree needs the full-key comparison unless the class's hash is the key itself: murmur64
 * alone would take two colliding keys for one.
 */
static int
btr_feats_check(unsigned int tree_class, uint64_t feats)
{
	const struct btr_class *bc = &btr_classes[tree_class];
	uint64_t kind_bits = feats & (BTR_FEAT_UINT_KEY | BTR_FEAT_DIRECT_KEY);

	if ((feats & BTR_FEAT_MASK &
	     ~(uint64_t)(BTR_FEAT_UINT_KEY | BTR_FEAT_DIRECT_KEY | BTR_FEAT_FIRST_SMALL)) != 0 ||
	    btr_feats2kind(feats) == 0 || (kind_bits & ~bc->bc_feats) != 0)
		return -DER_INVAL;
	if (btr_feats2kind(feats) == BTR_KIND_HASH && bc->bc_ops->to_hkey_gen == NULL &&
	    bc->bc_ops->to_key_cmp == NULL)
		return -DER_INVAL;
	return 0;
}

static void
btr_context_init(struct btr_context *tcx, struct umem_instance *umm, struct btr_root_df *root,
		 void *priv)
{
	const btr_ops_t *ops = btr_classes[root->tr_class].bc_ops;

	tcx->tc_tins.ti_umm = umm;
	tcx->tc_tins.ti_root = root;
	tcx->tc_tins.ti_ops = ops;
	tcx->tc_tins.ti_priv = priv;
	tcx->tc_kind = btr_feats2kind(root->tr_feats);
	tcx->tc_order = root->tr_order;
	tcx->tc_ref = 1;
	D_INIT_LIST_HEAD(&tcx->tc_iters);
	switch (tcx->tc_kind) {
	case BTR_KIND_UINT:
		tcx->tc_lesize = sizeof(struct btr_lent_df) + sizeof(uint64_t);
		break;
	case BTR_KIND_HASH:
		tcx->tc_murmur = ops->to_hkey_gen == NULL;
		tcx->tc_hsize = tcx->tc_murmur ? sizeof(uint64_t) : (uint32_t)ops->to_hkey_size();
		tcx->tc_lesize = sizeof(struct btr_lent_df) + (tcx->tc_hsize + 7) / 8 * 8;
		break;
	default:
		tcx->tc_lesize = sizeof(struct btr_lent_df);
		break;
	}
}

D_CASSERT(sizeof(struct btr_context) <= sizeof(struct dbtree_buf));

/*
 * A zeroed context: in @buf when given (a handle that lives on the caller's stack), else
 * allocated. In @buf the trace is left as it is: every operation fills the levels it
 * reads (descend, probe, first) and zeroing its 640 bytes was a third of the cost of
 * opening a tree (three opens a 64 B update).
 */
static struct btr_context *
btr_tcx_new(struct dbtree_buf *buf)
{
	struct btr_context *tcx;

	if (buf == NULL) {
		D_ALLOC_PTR(tcx);
		return tcx;
	}
	tcx = (struct btr_context *)buf;
	memset(tcx, 0, offsetof(struct btr_context, tc_trace));
	tcx->tc_borrowed = true;
	return tcx;
}

static void
btr_tcx_free(struct btr_context *tcx)
{
	if (!tcx->tc_borrowed)
		D_FREE(tcx);
}

void
btr_tcx_put(struct btr_context *tcx)
{
	D_ASSERT(tcx->tc_ref > 0);
	if (--tcx->tc_ref == 0) {
		D_ASSERT(d_list_empty(&tcx->tc_iters));
		btr_tcx_free(tcx);
	}
}

/*
 * Transactions. After a failed allocation of ours, the heap holds the real error (NOSPACE,
 * or NOMEM from its own bookkeeping): ending with 0 makes umem_tx_end return it, and the
 * transaction cannot commit since the failure is recorded.
 */
static int
btr_tx_begin(struct btr_context *tcx)
{
	tcx->tc_alloc_failed = false;
	return umem_tx_begin(btr_umm(tcx));
}

static int
btr_tx_end(struct btr_context *tcx, int rc)
{
	if (rc != 0 && tcx->tc_alloc_failed)
		return umem_tx_end(btr_umm(tcx), 0);
	return umem_tx_end(btr_umm(tcx), rc);
}

/* Declare the header (if @hdr) and entries [@from, @to) of @nd about to change. */
static int
btr_node_tx_add(struct btr_context *tcx, struct btr_node_df *nd, bool hdr, uint32_t from,
		uint32_t to)
{
	struct umem_instance *umm = btr_umm(tcx);
	umem_off_t off = umem_ptr2off(umm, nd);
	size_t esize = btr_esize(tcx, btr_node_is_leaf(nd));
	int rc = 0;

	if (hdr)
		rc = umem_tx_add(umm, off, sizeof(*nd));
	if (rc == 0 && to > from)
		rc = umem_tx_add(umm, off + sizeof(*nd) + from * esize, (to - from) * esize);
	return rc;
}

/* A zeroed node with room for @cap entries (0: the tree's order). */
static umem_off_t
btr_node_alloc_cap(struct btr_context *tcx, bool leaf, uint32_t cap)
{
	umem_off_t off;

	if (cap >= tcx->tc_order)
		cap = 0;
	off = umem_zalloc(btr_umm(tcx), btr_node_size(tcx, leaf, cap));
	if (off == UMOFF_NULL) {
		tcx->tc_alloc_failed = true;
		return UMOFF_NULL;
	}
	if (leaf)
		btr_off2node(tcx, off)->tn_flags = BTR_NODE_LEAF;
	btr_off2node(tcx, off)->tn_cap = cap;
	return off;
}

static umem_off_t
btr_node_alloc(struct btr_context *tcx, bool leaf)
{
	return btr_node_alloc_cap(tcx, leaf, 0);
}

static int
btr_node_free(struct btr_context *tcx, umem_off_t off)
{
	int rc = umem_free(btr_umm(tcx), off);

	if (rc != 0)
		D_ERROR("free of node %#" PRIx64 " failed: " DF_RC "\n", off, DP_RC(rc));
	return rc;
}

/* Keys and comparisons */

int
btr_key_init(struct btr_context *tcx, const d_iov_t *key, struct btr_key *bk)
{
	memset(bk, 0, sizeof(*bk));
	if (key == NULL || (key->iov_buf == NULL && key->iov_len != 0) || key->iov_len > UINT32_MAX)
		return -DER_INVAL;
	switch (tcx->tc_kind) {
	case BTR_KIND_UINT:
		if (key->iov_len != sizeof(uint64_t))
			return -DER_INVAL;
		memcpy(&bk->bk_ukey, key->iov_buf, sizeof(uint64_t));
		break;
	case BTR_KIND_HASH:
		if (tcx->tc_murmur)
			bk->bk_hkey[0] = d_hash_murmur64(key->iov_buf, (unsigned int)key->iov_len,
							 BTR_MURMUR_SEED);
		else
			btr_ops(tcx)->to_hkey_gen(&tcx->tc_tins, key, bk->bk_hkey);
		bk->bk_key = key;
		break;
	default:
		bk->bk_key = key;
		break;
	}
	return 0;
}

static inline int
btr_u64_cmp(uint64_t a, uint64_t b)
{
	return a < b ? -1 : a > b;
}

int
btr_hkey_cmp(struct btr_context *tcx, const void *a, const void *b)
{
	if (tcx->tc_murmur)
		return btr_u64_cmp(*(const uint64_t *)a, *(const uint64_t *)b);
	if (btr_ops(tcx)->to_hkey_cmp != NULL)
		return btr_ops(tcx)->to_hkey_cmp(&tcx->tc_tins, a, b);
	return memcmp(a, b, tcx->tc_hsize);
}

void
btr_rec_view(struct btr_context *tcx, const struct btr_lent_df *le, struct btr_record *rec)
{
	rec->rec_off = le->le_off;
	rec->rec_ukey = tcx->tc_kind == BTR_KIND_UINT ? le->le_key[0] : 0;
	rec->rec_hkey = tcx->tc_kind == BTR_KIND_HASH ? le->le_key : NULL;
}

/* Compare the key of leaf entry @le with @bk. */
int
btr_lent_cmp(struct btr_context *tcx, const struct btr_lent_df *le, const struct btr_key *bk)
{
	struct btr_record rec;
	int c;

	switch (tcx->tc_kind) {
	case BTR_KIND_UINT:
		return btr_u64_cmp(le->le_key[0], bk->bk_ukey);
	case BTR_KIND_HASH:
		c = btr_hkey_cmp(tcx, le->le_key, bk->bk_hkey);
		if (c != 0 || btr_ops(tcx)->to_key_cmp == NULL)
			return c;
		/* only the hash is known (an anchor): it sorts before its whole hash group */
		if (bk->bk_key == NULL)
			return 1;
		break;
	default:
		break;
	}
	btr_rec_view(tcx, le, &rec);
	return btr_ops(tcx)->to_key_cmp(&tcx->tc_tins, &rec, bk->bk_key);
}

/* Compare separator @sep with @bk (see the top of the file). */
static int
btr_sep_cmp(struct btr_context *tcx, uint64_t sep, const struct btr_key *bk)
{
	struct btr_node_df *leaf;

	if (tcx->tc_kind == BTR_KIND_UINT)
		return btr_u64_cmp(sep, bk->bk_ukey);
	leaf = btr_off2node(tcx, sep);
	D_ASSERT(leaf != NULL && btr_node_is_leaf(leaf) && leaf->tn_keyn > 0);
	return btr_lent_cmp(tcx, btr_lent(tcx, leaf, 0), bk);
}

/* Search */

bool
btr_descend(struct btr_context *tcx, struct btr_trace *trace, const struct btr_key *bk)
{
	int depth = btr_depth(tcx), level;
	umem_off_t off = btr_root(tcx)->tr_node;
	bool eq = false;

	D_ASSERT(depth > 0);
	for (level = 0; level < depth; level++) {
		struct btr_node_df *nd = btr_off2node(tcx, off);
		uint32_t lo = 0, hi = nd->tn_keyn;

		if (level < depth - 1) {
			/* the child right of the last separator <= key */
			D_ASSERT(!btr_node_is_leaf(nd));
			while (lo < hi) {
				uint32_t mid = (lo + hi) / 2;

				if (btr_sep_cmp(tcx, btr_ient(nd, mid)->ie_sep, bk) <= 0)
					lo = mid + 1;
				else
					hi = mid;
			}
			trace[level].bt_node = off;
			trace[level].bt_at = lo;
			off = btr_child(nd, lo);
			continue;
		}
		/* the first entry >= key */
		D_ASSERT(btr_node_is_leaf(nd));
		while (lo < hi) {
			uint32_t mid = (lo + hi) / 2;
			int c = btr_lent_cmp(tcx, btr_lent(tcx, nd, mid), bk);

			if (c < 0) {
				lo = mid + 1;
			} else {
				hi = mid;
				eq = c == 0;
			}
		}
		trace[level].bt_node = off;
		trace[level].bt_at = lo;
	}
	return eq;
}

/* Fill @trace from @level down along the leftmost (or rightmost) path of node @off. */
static void
btr_trace_edge(struct btr_context *tcx, struct btr_trace *trace, int level, umem_off_t off,
	       bool last)
{
	int depth = btr_depth(tcx);

	for (; level < depth; level++) {
		struct btr_node_df *nd = btr_off2node(tcx, off);
		bool leaf = level == depth - 1;

		D_ASSERT(btr_node_is_leaf(nd) == leaf && nd->tn_keyn > 0);
		trace[level].bt_node = off;
		trace[level].bt_at = last ? nd->tn_keyn - (leaf ? 1 : 0) : 0;
		if (!leaf)
			off = btr_child(nd, trace[level].bt_at);
	}
}

void
btr_trace_first(struct btr_context *tcx, struct btr_trace *trace, bool last)
{
	btr_trace_edge(tcx, trace, 0, btr_root(tcx)->tr_node, last);
}

bool
btr_trace_next(struct btr_context *tcx, struct btr_trace *trace)
{
	int leaf = btr_depth(tcx) - 1, level;
	struct btr_node_df *nd = btr_off2node(tcx, trace[leaf].bt_node);

	if (trace[leaf].bt_at + 1 < nd->tn_keyn) {
		trace[leaf].bt_at++;
		return true;
	}
	for (level = leaf - 1; level >= 0; level--) {
		nd = btr_off2node(tcx, trace[level].bt_node);
		if (trace[level].bt_at < nd->tn_keyn) {
			trace[level].bt_at++;
			btr_trace_edge(tcx, trace, level + 1, btr_child(nd, trace[level].bt_at),
				       false);
			return true;
		}
	}
	return false;
}

bool
btr_trace_prev(struct btr_context *tcx, struct btr_trace *trace)
{
	int leaf = btr_depth(tcx) - 1, level;

	if (trace[leaf].bt_at > 0) {
		trace[leaf].bt_at--;
		return true;
	}
	for (level = leaf - 1; level >= 0; level--) {
		struct btr_node_df *nd = btr_off2node(tcx, trace[level].bt_node);

		if (trace[level].bt_at > 0) {
			trace[level].bt_at--;
			btr_trace_edge(tcx, trace, level + 1, btr_child(nd, trace[level].bt_at),
				       true);
			return true;
		}
	}
	return false;
}

/*
 * From the lower bound btr_descend left in @trace (@eq: it holds the key), move to the
 * record @opc selects. 0 or -DER_NONEXIST.
 */
int
btr_probe_settle(struct btr_context *tcx, struct btr_trace *trace, dbtree_probe_opc_t opc, bool eq)
{
	struct btr_trace *leaf = &trace[btr_depth(tcx) - 1];

	switch (opc) {
	case BTR_PROBE_EQ:
		return eq ? 0 : -DER_NONEXIST;
	case BTR_PROBE_GT:
		if (eq)
			return btr_trace_next(tcx, trace) ? 0 : -DER_NONEXIST;
		/* fall through */
	case BTR_PROBE_GE:
		if (leaf->bt_at < btr_off2node(tcx, leaf->bt_node)->tn_keyn)
			return 0;
		return btr_trace_next(tcx, trace) ? 0 : -DER_NONEXIST;
	case BTR_PROBE_LE:
		if (eq)
			return 0;
		/* fall through */
	case BTR_PROBE_LT:
		return btr_trace_prev(tcx, trace) ? 0 : -DER_NONEXIST;
	default:
		return -DER_INVAL;
	}
}

bool
btr_opc_valid(dbtree_probe_opc_t opc)
{
	switch (opc) {
	case BTR_PROBE_FIRST:
	case BTR_PROBE_LAST:
	case BTR_PROBE_EQ:
	case BTR_PROBE_GT:
	case BTR_PROBE_LT:
	case BTR_PROBE_GE:
	case BTR_PROBE_LE:
		return true;
	default:
		return false;
	}
}

/* Position @trace on the record @opc selects for key @bk (unused for FIRST/LAST). */
int
btr_probe(struct btr_context *tcx, struct btr_trace *trace, dbtree_probe_opc_t opc,
	  const struct btr_key *bk)
{
	if (!btr_opc_valid(opc))
		return -DER_INVAL;
	if (btr_depth(tcx) == 0)
		return -DER_NONEXIST;
	if (opc == BTR_PROBE_FIRST || opc == BTR_PROBE_LAST) {
		btr_trace_first(tcx, trace, opc == BTR_PROBE_LAST);
		return 0;
	}
	return btr_probe_settle(tcx, trace, opc, btr_descend(tcx, trace, bk));
}

/* Records */

static int
btr_rec_free(struct btr_context *tcx, struct btr_record *rec, void *args)
{
	int rc;

	if (btr_ops(tcx)->to_rec_free != NULL)
		rc = btr_ops(tcx)->to_rec_free(&tcx->tc_tins, rec, args);
	else
		rc = umem_free(btr_umm(tcx), rec->rec_off);
	if (rc != 0)
		D_ERROR("free of record %#" PRIx64 " failed: " DF_RC "\n", rec->rec_off, DP_RC(rc));
	return rc;
}

/* Insert */

/* Put @ent at @pos of @nd, which has room. */
static int
btr_node_insert_at(struct btr_context *tcx, struct btr_node_df *nd, uint32_t pos, const void *ent)
{
	size_t esize = btr_esize(tcx, btr_node_is_leaf(nd));
	uint32_t n = nd->tn_keyn;
	int rc;

	D_ASSERT(n < btr_node_cap(tcx, nd) && pos <= n);
	rc = btr_node_tx_add(tcx, nd, true, pos, n + 1);
	if (rc != 0)
		return rc;
	memmove(btr_ent(tcx, nd, pos + 1), btr_ent(tcx, nd, pos), (n - pos) * esize);
	memcpy(btr_ent(tcx, nd, pos), ent, esize);
	nd->tn_keyn++;
	return 0;
}

/* Entry @i of @nd as it would be with @ent inserted at @pos. */
static const void *
btr_virt_ent(struct btr_context *tcx, struct btr_node_df *nd, uint32_t pos, const void *ent,
	     uint32_t i)
{
	if (i < pos)
		return btr_ent(tcx, nd, i);
	if (i == pos)
		return ent;
	return btr_ent(tcx, nd, i - 1);
}

/*
 * @nd is full and @ent goes at @pos: split it. Of the order + 1 entries, the left node
 * keeps (order + 1) / 2. A leaf moves the rest to the new right node, whose separator goes
 * up; an internal node sends its middle entry up (its child becomes the right node's first
 * child) and moves the rest. *@up receives the entry to insert into the parent.
 */
static int
btr_node_split(struct btr_context *tcx, struct btr_node_df *nd, uint32_t pos, const void *ent,
	       struct btr_ient_df *up)
{
	bool leaf = btr_node_is_leaf(nd);
	size_t esize = btr_esize(tcx, leaf);
	uint32_t order = tcx->tc_order, nl = (order + 1) / 2;
	uint32_t first = leaf ? nl : nl + 1, i, from;
	struct btr_ient_df mid;
	struct btr_node_df *rn;
	umem_off_t r_off;
	int rc;

	D_ASSERT(nd->tn_keyn == order && pos <= order);
	r_off = btr_node_alloc(tcx, leaf);
	if (r_off == UMOFF_NULL)
		return -DER_NOSPACE;
	rn = btr_off2node(tcx, r_off);
	for (i = first; i <= order; i++)
		memcpy(btr_ent(tcx, rn, i - first), btr_virt_ent(tcx, nd, pos, ent, i), esize);
	rn->tn_keyn = (uint16_t)(order + 1 - first);
	if (leaf) {
		mid.ie_child = r_off;
		mid.ie_sep =
		    tcx->tc_kind == BTR_KIND_UINT ? btr_lent(tcx, rn, 0)->le_key[0] : r_off;
	} else {
		memcpy(&mid, btr_virt_ent(tcx, nd, pos, ent, nl), sizeof(mid));
		rn->tn_child = mid.ie_child;
		mid.ie_child = r_off;
	}

	/* the left node keeps virtual entries [0, nl); its tail is cleared */
	from = pos < nl ? pos : nl;
	rc = btr_node_tx_add(tcx, nd, true, from, order);
	if (rc != 0)
		return rc;
	if (pos < nl) {
		memmove(btr_ent(tcx, nd, pos + 1), btr_ent(tcx, nd, pos), (nl - 1 - pos) * esize);
		memcpy(btr_ent(tcx, nd, pos), ent, esize);
	}
	memset(btr_ent(tcx, nd, nl), 0, (order - nl) * esize);
	nd->tn_keyn = (uint16_t)nl;
	*up = mid;
	return 0;
}

/* The root split into itself and up->ie_child: a new root above them. */
static int
btr_root_grow(struct btr_context *tcx, umem_off_t old, const struct btr_ient_df *up)
{
	struct btr_root_df *root = btr_root(tcx);
	struct btr_node_df *nd;
	umem_off_t off;
	int rc;

	if (root->tr_depth >= BTR_DEPTH_MAX) {
		D_ERROR("tree too deep (%u levels)\n", root->tr_depth);
		return -DER_NOSPACE;
	}
	off = btr_node_alloc(tcx, false);
	if (off == UMOFF_NULL)
		return -DER_NOSPACE;
	nd = btr_off2node(tcx, off);
	nd->tn_child = old;
	*btr_ient(nd, 0) = *up;
	nd->tn_keyn = 1;
	rc = umem_tx_add_ptr(btr_umm(tcx), root, sizeof(*root));
	if (rc != 0)
		return rc;
	root->tr_node = off;
	root->tr_depth++;
	return 0;
}

/*
 * The small first leaf at the root (struct btr_node_df) is full: replace it with a full
 * node holding its entries; trace[0] then points into the new node.
 */
static int
btr_root_leaf_grow(struct btr_context *tcx, struct btr_trace *trace)
{
	struct btr_root_df *root = btr_root(tcx);
	umem_off_t old = trace[0].bt_node, off;
	struct btr_node_df *on = btr_off2node(tcx, old), *nd;
	int rc;

	D_ASSERT(btr_depth(tcx) == 1 && btr_node_is_leaf(on));
	off = btr_node_alloc(tcx, true);
	if (off == UMOFF_NULL)
		return -DER_NOSPACE;
	nd = btr_off2node(tcx, off);
	memcpy(btr_ent(tcx, nd, 0), btr_ent(tcx, on, 0), (size_t)on->tn_keyn * tcx->tc_lesize);
	nd->tn_keyn = on->tn_keyn;
	rc = umem_tx_add_ptr(btr_umm(tcx), &root->tr_node, sizeof(root->tr_node));
	if (rc != 0)
		return rc;
	root->tr_node = off;
	trace[0].bt_node = off;
	return btr_node_free(tcx, old);
}

/* Insert leaf entry @lent where @trace points, splitting full nodes upwards. */
static int
btr_insert_entry(struct btr_context *tcx, struct btr_trace *trace, const void *lent)
{
	struct btr_ient_df up;
	const void *ent = lent;
	int level, rc;

	for (level = btr_depth(tcx) - 1;; level--) {
		struct btr_node_df *nd = btr_off2node(tcx, trace[level].bt_node);
		uint32_t pos = trace[level].bt_at;

		if (nd->tn_keyn < tcx->tc_order) {
			if (nd->tn_cap != 0 && nd->tn_keyn == nd->tn_cap) {
				rc = btr_root_leaf_grow(tcx, trace);
				if (rc != 0)
					return rc;
				nd = btr_off2node(tcx, trace[level].bt_node);
			}
			return btr_node_insert_at(tcx, nd, pos, ent);
		}
		rc = btr_node_split(tcx, nd, pos, ent, &up);
		if (rc != 0)
			return rc;
		if (level == 0)
			return btr_root_grow(tcx, trace[0].bt_node, &up);
		/* the new node goes right of trace[level - 1].bt_at: entry index bt_at */
		ent = &up;
	}
}

/* Insert a new record for @key/@val where @trace points (the tree may be empty). */
static int
btr_insert(struct btr_context *tcx, struct btr_trace *trace, const struct btr_key *bk,
	   const d_iov_t *key, const d_iov_t *val, struct btr_record *rec)
{
	uint64_t buf[(sizeof(struct btr_lent_df) + BTR_HKEY_MAX) / sizeof(uint64_t)] = {0};
	struct btr_lent_df *le = (struct btr_lent_df *)buf;
	struct btr_root_df *root = btr_root(tcx);
	struct btr_node_df *nd;
	umem_off_t off;
	int rc;

	memset(rec, 0, sizeof(*rec));
	rec->rec_ukey = bk->bk_ukey;
	rec->rec_hkey = tcx->tc_kind == BTR_KIND_HASH ? bk->bk_hkey : NULL;
	rc = btr_ops(tcx)->to_rec_alloc(&tcx->tc_tins, key, val, rec);
	if (rc != 0)
		return rc;
	le->le_off = rec->rec_off;
	if (tcx->tc_kind == BTR_KIND_UINT)
		le->le_key[0] = bk->bk_ukey;
	else if (tcx->tc_kind == BTR_KIND_HASH)
		memcpy(le->le_key, bk->bk_hkey, tcx->tc_hsize);

	if (root->tr_depth > 0)
		return btr_insert_entry(tcx, trace, le);

	off = btr_node_alloc_cap(tcx, true,
				 (root->tr_feats & BTR_FEAT_FIRST_SMALL) ? BTR_FIRST_CAP : 0);
	if (off == UMOFF_NULL)
		return -DER_NOSPACE;
	nd = btr_off2node(tcx, off);
	memcpy(btr_ent(tcx, nd, 0), le, tcx->tc_lesize);
	nd->tn_keyn = 1;
	rc = umem_tx_add_ptr(btr_umm(tcx), root, sizeof(*root));
	if (rc != 0)
		return rc;
	root->tr_node = off;
	root->tr_depth = 1;
	return 0;
}

/* Store @val in the existing record where @trace points. */
static int
btr_update(struct btr_context *tcx, struct btr_trace *trace, const d_iov_t *key, const d_iov_t *val,
	   struct btr_record *rec)
{
	const btr_ops_t *ops = btr_ops(tcx);
	struct btr_lent_df *le = btr_trace_lent(tcx, trace);
	int rc;

	btr_rec_view(tcx, le, rec);
	if (ops->to_rec_update != NULL) {
		rc = ops->to_rec_update(&tcx->tc_tins, rec, key, val);
	} else {
		rc = btr_rec_free(tcx, rec, NULL);
		if (rc != 0)
			return rc;
		rec->rec_off = UMOFF_NULL;
		rc = ops->to_rec_alloc(&tcx->tc_tins, key, val, rec);
	}
	if (rc != 0 || rec->rec_off == le->le_off)
		return rc;
	rc = umem_tx_add_ptr(btr_umm(tcx), &le->le_off, sizeof(le->le_off));
	if (rc == 0)
		le->le_off = rec->rec_off;
	return rc;
}

/* Delete */

static int
btr_node_remove_at(struct btr_context *tcx, struct btr_node_df *nd, uint32_t pos)
{
	size_t esize = btr_esize(tcx, btr_node_is_leaf(nd));
	uint32_t n = nd->tn_keyn;
	int rc;

	D_ASSERT(pos < n);
	rc = btr_node_tx_add(tcx, nd, true, pos, n);
	if (rc != 0)
		return rc;
	memmove(btr_ent(tcx, nd, pos), btr_ent(tcx, nd, pos + 1), (n - pos - 1) * esize);
	memset(btr_ent(tcx, nd, n - 1), 0, esize);
	nd->tn_keyn--;
	return 0;
}

/* The root lost its last entry: an empty leaf goes away, an internal node gives way to its
 * only child. */
static int
btr_root_shrink(struct btr_context *tcx, struct btr_node_df *nd)
{
	struct btr_root_df *root = btr_root(tcx);
	umem_off_t old = root->tr_node;
	int rc;

	if (nd->tn_keyn > 0)
		return 0;
	rc = umem_tx_add_ptr(btr_umm(tcx), root, sizeof(*root));
	if (rc != 0)
		return rc;
	root->tr_node = btr_node_is_leaf(nd) ? UMOFF_NULL : nd->tn_child;
	root->tr_depth--;
	return btr_node_free(tcx, old);
}

/* Leaves @l and @r (separated by entry @si of @p) share their entries: @l keeps @nl. */
static int
btr_leaf_shift(struct btr_context *tcx, struct btr_node_df *p, uint32_t si, struct btr_node_df *l,
	       struct btr_node_df *r, uint32_t nl)
{
	size_t esize = tcx->tc_lesize;
	uint32_t a = l->tn_keyn, b = r->tn_keyn, k;
	int rc;

	if (nl > a) {
		k = nl - a; /* the first k of r go to the end of l */
		rc = btr_node_tx_add(tcx, l, true, a, nl);
		if (rc == 0)
			rc = btr_node_tx_add(tcx, r, true, 0, b);
		if (rc != 0)
			return rc;
		memcpy(btr_ent(tcx, l, a), btr_ent(tcx, r, 0), k * esize);
		memmove(btr_ent(tcx, r, 0), btr_ent(tcx, r, k), (b - k) * esize);
		memset(btr_ent(tcx, r, b - k), 0, k * esize);
		r->tn_keyn = (uint16_t)(b - k);
	} else {
		k = a - nl; /* the last k of l go to the front of r */
		rc = btr_node_tx_add(tcx, l, true, nl, a);
		if (rc == 0)
			rc = btr_node_tx_add(tcx, r, true, 0, b + k);
		if (rc != 0)
			return rc;
		memmove(btr_ent(tcx, r, k), btr_ent(tcx, r, 0), b * esize);
		memcpy(btr_ent(tcx, r, 0), btr_ent(tcx, l, nl), k * esize);
		memset(btr_ent(tcx, l, nl), 0, k * esize);
		r->tn_keyn = (uint16_t)(b + k);
	}
	l->tn_keyn = (uint16_t)nl;
	if (tcx->tc_kind != BTR_KIND_UINT)
		return 0; /* the separator is r itself: still exact */
	rc = umem_tx_add_ptr(btr_umm(tcx), &btr_ient(p, si)->ie_sep, sizeof(uint64_t));
	if (rc == 0)
		btr_ient(p, si)->ie_sep = btr_lent(tcx, r, 0)->le_key[0];
	return rc;
}

/*
 * Internal nodes @l and @r (separated by entry @si of @p) share their entries by rotation
 * through the parent: @l keeps @nl. Think of the sequence l's entries, {r's first child,
 * parent separator}, r's entries: l takes the first nl, the next one goes up (its child
 * becomes r's first child), r takes the rest.
 */
static int
btr_internal_shift(struct btr_context *tcx, struct btr_node_df *p, uint32_t si,
		   struct btr_node_df *l, struct btr_node_df *r, uint32_t nl)
{
	struct btr_ient_df *ps = btr_ient(p, si), up;
	uint32_t a = l->tn_keyn, b = r->tn_keyn, k;
	int rc;

	rc = umem_tx_add_ptr(btr_umm(tcx), ps, sizeof(*ps));
	if (rc != 0)
		return rc;
	if (nl > a) {
		k = nl - a;
		rc = btr_node_tx_add(tcx, l, true, a, nl);
		if (rc == 0)
			rc = btr_node_tx_add(tcx, r, true, 0, b);
		if (rc != 0)
			return rc;
		btr_ient(l, a)->ie_child = r->tn_child;
		btr_ient(l, a)->ie_sep = ps->ie_sep;
		memcpy(btr_ient(l, a + 1), btr_ient(r, 0), (k - 1) * sizeof(up));
		up = *btr_ient(r, k - 1);
		memmove(btr_ient(r, 0), btr_ient(r, k), (b - k) * sizeof(up));
		memset(btr_ient(r, b - k), 0, k * sizeof(up));
		r->tn_keyn = (uint16_t)(b - k);
	} else {
		k = a - nl;
		rc = btr_node_tx_add(tcx, l, true, nl, a);
		if (rc == 0)
			rc = btr_node_tx_add(tcx, r, true, 0, b + k);
		if (rc != 0)
			return rc;
		memmove(btr_ient(r, k), btr_ient(r, 0), b * sizeof(up));
		btr_ient(r, k - 1)->ie_child = r->tn_child;
		btr_ient(r, k - 1)->ie_sep = ps->ie_sep;
		memcpy(btr_ient(r, 0), btr_ient(l, nl + 1), (k - 1) * sizeof(up));
		up = *btr_ient(l, nl);
		memset(btr_ient(l, nl), 0, k * sizeof(up));
		r->tn_keyn = (uint16_t)(b + k);
	}
	l->tn_keyn = (uint16_t)nl;
	r->tn_child = up.ie_child;
	ps->ie_sep = up.ie_sep;
	return 0;
}

/*
 * The node at trace[@level] is below the minimum fill: merge it with a sibling if both fit
 * in one node (the right one goes; *@merged: the parent lost an entry), otherwise even out
 * the two.
 */
static int
btr_node_fix(struct btr_context *tcx, struct btr_trace *trace, int level, bool *merged)
{
	struct btr_node_df *p = btr_off2node(tcx, trace[level - 1].bt_node), *l, *r;
	uint32_t c = trace[level - 1].bt_at, si = c > 0 ? c - 1 : 0, a, b;
	umem_off_t r_off = btr_child(p, si + 1);
	bool leaf;
	int rc;

	D_ASSERT(p->tn_keyn > 0);
	l = btr_off2node(tcx, btr_child(p, si));
	r = btr_off2node(tcx, r_off);
	leaf = btr_node_is_leaf(l);
	a = l->tn_keyn;
	b = r->tn_keyn;
	*merged = false;
	if (a + b + (leaf ? 0 : 1) > tcx->tc_order) {
		if ((a + b) / 2 == a)
			return 0;
		return leaf ? btr_leaf_shift(tcx, p, si, l, r, (a + b) / 2)
			    : btr_internal_shift(tcx, p, si, l, r, (a + b) / 2);
	}

	if (leaf) {
		rc = btr_node_tx_add(tcx, l, true, a, a + b);
		if (rc != 0)
			return rc;
		memcpy(btr_ent(tcx, l, a), btr_ent(tcx, r, 0), b * tcx->tc_lesize);
		l->tn_keyn = (uint16_t)(a + b);
	} else {
		rc = btr_node_tx_add(tcx, l, true, a, a + b + 1);
		if (rc != 0)
			return rc;
		btr_ient(l, a)->ie_child = r->tn_child;
		btr_ient(l, a)->ie_sep = btr_ient(p, si)->ie_sep;
		memcpy(btr_ient(l, a + 1), btr_ient(r, 0), b * sizeof(struct btr_ient_df));
		l->tn_keyn = (uint16_t)(a + b + 1);
	}
	rc = btr_node_remove_at(tcx, p, si);
	if (rc == 0)
		rc = btr_node_free(tcx, r_off);
	*merged = true;
	return rc;
}

/* Restore the fill of the nodes on @trace from @level up after a removal. */
static int
btr_rebalance(struct btr_context *tcx, struct btr_trace *trace, int level)
{
	for (;; level--) {
		struct btr_node_df *nd = btr_off2node(tcx, trace[level].bt_node);
		bool merged;
		int rc;

		if (level == 0)
			return btr_root_shrink(tcx, nd);
		if (nd->tn_keyn >= tcx->tc_order / 2)
			return 0;
		rc = btr_node_fix(tcx, trace, level, &merged);
		if (rc != 0 || !merged)
			return rc;
	}
}

/* Delete the record where @trace points: freed by the class, or handed to *@detach. */
static int
btr_delete_at(struct btr_context *tcx, struct btr_trace *trace, void *args, umem_off_t *detach)
{
	int leaf = btr_depth(tcx) - 1;
	struct btr_node_df *nd = btr_off2node(tcx, trace[leaf].bt_node);
	struct btr_record rec;
	int rc;

	btr_rec_view(tcx, btr_lent(tcx, nd, trace[leaf].bt_at), &rec);
	if (detach != NULL) {
		*detach = rec.rec_off;
	} else {
		rc = btr_rec_free(tcx, &rec, args);
		if (rc != 0)
			return rc;
	}
	rc = btr_node_remove_at(tcx, nd, trace[leaf].bt_at);
	if (rc != 0)
		return rc;
	return btr_rebalance(tcx, trace, leaf);
}

/* Free the subtree at @off with its records. */
static int
btr_subtree_destroy(struct btr_context *tcx, umem_off_t off, void *args)
{
	struct btr_node_df *nd = btr_off2node(tcx, off);
	uint32_t i;
	int rc = 0;

	if (btr_node_is_leaf(nd)) {
		for (i = 0; i < nd->tn_keyn && rc == 0; i++) {
			struct btr_record rec;

			btr_rec_view(tcx, btr_lent(tcx, nd, i), &rec);
			rc = btr_rec_free(tcx, &rec, args);
		}
	} else {
		for (i = 0; i <= nd->tn_keyn && rc == 0; i++)
			rc = btr_subtree_destroy(tcx, btr_child(nd, i), args);
	}
	if (rc != 0)
		return rc;
	return btr_node_free(tcx, off);
}

/* Opening */

/* Is @root a plausible tree root in the heap of @umm? 0, -DER_NONEXIST or -DER_INVAL. */
static int
btr_root_validate(struct umem_instance *umm, const struct btr_root_df *root)
{
	const char *base = umem_base(umm);
	const struct btr_node_df *nd;
	size_t nsize, esize, asize;

	if ((const char *)root < base || (const char *)root + sizeof(*root) > base + umem_size(umm))
		return -DER_INVAL;
	if (root->tr_order == 0 && root->tr_node == UMOFF_NULL && root->tr_depth == 0)
		return -DER_NONEXIST;
	if (root->tr_version != BTR_ROOT_VERSION || root->tr_order < BTR_ORDER_MIN ||
	    root->tr_order > BTR_ORDER_MAX || root->tr_depth > BTR_DEPTH_MAX ||
	    (root->tr_depth == 0) != (root->tr_node == UMOFF_NULL))
		return -DER_INVAL;
	if (root->tr_class >= DBTREE_CLASS_MAX || btr_classes[root->tr_class].bc_ops == NULL)
		return -DER_NONEXIST;
	if (btr_feats_check(root->tr_class, root->tr_feats) != 0)
		return -DER_INVAL;
	if (root->tr_depth == 0)
		return 0;
	/* the root node: a live allocation at least as big as the smallest node of its
	 * level and room (a first leaf's own, below the order, only at depth 1), with the
	 * right flag (dbtree_check looks further) */
	asize = umem_alloc_size(umm, root->tr_node);
	if (asize < sizeof(*nd))
		return -DER_INVAL;
	nd = (const struct btr_node_df *)(base + root->tr_node);
	if (nd->tn_cap != 0 && (root->tr_depth != 1 || nd->tn_cap >= root->tr_order))
		return -DER_INVAL;
	esize = root->tr_depth == 1 ? sizeof(struct btr_lent_df) : sizeof(struct btr_ient_df);
	nsize = sizeof(*nd) + (nd->tn_cap != 0 ? nd->tn_cap : root->tr_order) * esize;
	if (asize < nsize)
		return -DER_INVAL;
	if ((nd->tn_flags & BTR_NODE_LEAF) != (root->tr_depth == 1 ? BTR_NODE_LEAF : 0))
		return -DER_INVAL;
	return 0;
}

static int
btr_create(unsigned int tree_class, uint64_t tree_feats, unsigned int tree_order,
	   struct umem_instance *umm, struct btr_root_df *root, void *priv, struct dbtree_buf *buf,
	   struct btr_instance **toh)
{
	struct btr_root_df zero = {0};
	struct btr_context *tcx;
	int rc;

	if (umm == NULL || root == NULL || toh == NULL || tree_order < BTR_ORDER_MIN ||
	    tree_order > BTR_ORDER_MAX || tree_class >= DBTREE_CLASS_MAX)
		return -DER_INVAL;
	if (btr_classes[tree_class].bc_ops == NULL) {
		D_ERROR("tree class %u is not registered\n", tree_class);
		return -DER_NONEXIST;
	}
	if (btr_feats_check(tree_class, tree_feats) != 0) {
		D_ERROR("class %u: bad features %#" PRIx64 "\n", tree_class, tree_feats);
		return -DER_INVAL;
	}
	rc = btr_root_validate(umm, root);
	if (rc != -DER_NONEXIST)
		return rc == 0 ? -DER_EXIST : rc;
	if (memcmp(root, &zero, sizeof(zero)) != 0)
		return -DER_EXIST;

	tcx = btr_tcx_new(buf);
	if (tcx == NULL)
		return -DER_NOMEM;
	tcx->tc_tins.ti_umm = umm;
	rc = btr_tx_begin(tcx);
	if (rc != 0)
		goto out_free;
	rc = umem_tx_add_ptr(umm, root, sizeof(*root));
	if (rc == 0) {
		root->tr_order = (uint16_t)tree_order;
		root->tr_depth = 0;
		root->tr_version = BTR_ROOT_VERSION;
		root->tr_class = tree_class;
		root->tr_feats = tree_feats;
		root->tr_node = UMOFF_NULL;
		root->tr_reserved = 0;
	}
	rc = btr_tx_end(tcx, rc);
	if (rc != 0)
		goto out_free;
	btr_context_init(tcx, umm, root, priv);
	*toh = &tcx->tc_tins;
	return 0;

out_free:
	btr_tcx_free(tcx);
	return rc;
}

int
dbtree_create_inplace_ex(unsigned int tree_class, uint64_t tree_feats, unsigned int tree_order,
			 struct umem_instance *umm, struct btr_root_df *root, void *priv,
			 struct btr_instance **toh)
{
	return btr_create(tree_class, tree_feats, tree_order, umm, root, priv, NULL, toh);
}

int
dbtree_create_inplace_buf(unsigned int tree_class, uint64_t tree_feats, unsigned int tree_order,
			  struct umem_instance *umm, struct btr_root_df *root, void *priv,
			  struct dbtree_buf *buf, struct btr_instance **toh)
{
	D_ASSERT(buf != NULL);
	return btr_create(tree_class, tree_feats, tree_order, umm, root, priv, buf, toh);
}

int
dbtree_create_inplace(unsigned int tree_class, uint64_t tree_feats, unsigned int tree_order,
		      struct umem_instance *umm, struct btr_root_df *root,
		      struct btr_instance **toh)
{
	return dbtree_create_inplace_ex(tree_class, tree_feats, tree_order, umm, root, NULL, toh);
}

static int
btr_open(struct btr_root_df *root, struct umem_instance *umm, void *priv, struct dbtree_buf *buf,
	 struct btr_instance **toh)
{
	struct btr_context *tcx;
	int rc;

	if (umm == NULL || root == NULL || toh == NULL)
		return -DER_INVAL;
	rc = btr_root_validate(umm, root);
	if (rc != 0) {
		if (rc == -DER_INVAL)
			D_ERROR("not a tree root at %#" PRIx64 "\n", umem_ptr2off(umm, root));
		return rc;
	}
	tcx = btr_tcx_new(buf);
	if (tcx == NULL)
		return -DER_NOMEM;
	btr_context_init(tcx, umm, root, priv);
	*toh = &tcx->tc_tins;
	return 0;
}

int
dbtree_open_inplace_ex(struct btr_root_df *root, struct umem_instance *umm, void *priv,
		       struct btr_instance **toh)
{
	return btr_open(root, umm, priv, NULL, toh);
}

int
dbtree_open_inplace_buf(struct btr_root_df *root, struct umem_instance *umm, void *priv,
			struct dbtree_buf *buf, struct btr_instance **toh)
{
	D_ASSERT(buf != NULL);
	return btr_open(root, umm, priv, buf, toh);
}

int
dbtree_open_inplace(struct btr_root_df *root, struct umem_instance *umm, struct btr_instance **toh)
{
	return dbtree_open_inplace_ex(root, umm, NULL, toh);
}

void
dbtree_close(struct btr_instance *toh)
{
	struct btr_context *tcx = btr_tcx(toh);

	/* a handle in caller storage must not leave iterators behind it */
	D_ASSERT(!tcx->tc_borrowed || tcx->tc_ref == 1);
	btr_tcx_put(tcx);
}

int
dbtree_destroy(struct btr_instance *toh, void *args)
{
	struct btr_context *tcx = btr_tcx(toh);
	struct btr_root_df *root = btr_root(tcx);
	int rc;

	D_ASSERTF(d_list_empty(&tcx->tc_iters), "destroying a tree with open iterators\n");
	rc = btr_tx_begin(tcx);
	if (rc != 0)
		goto out;
	if (root->tr_depth > 0)
		rc = btr_subtree_destroy(tcx, root->tr_node, args);
	if (rc == 0)
		rc = umem_tx_add_ptr(btr_umm(tcx), root, sizeof(*root));
	if (rc == 0)
		memset(root, 0, sizeof(*root));
	rc = btr_tx_end(tcx, rc);
out:
	if (rc != 0)
		D_ERROR("tree destroy failed: " DF_RC "\n", DP_RC(rc));
	btr_tcx_put(tcx);
	return rc;
}

int
dbtree_drain(struct btr_instance *toh, int *credits, void *args, bool *destroyed)
{
	struct btr_context *tcx = btr_tcx(toh);
	int left, rc;

	tcx->tc_probed = false;
	if (credits == NULL || *credits <= 0 || destroyed == NULL)
		return -DER_INVAL;
	left = *credits;
	if (btr_depth(tcx) > 0) {
		rc = btr_tx_begin(tcx);
		if (rc != 0)
			return rc;
		btr_iters_save(tcx);
		while (rc == 0 && left > 0 && btr_depth(tcx) > 0) {
			btr_trace_first(tcx, tcx->tc_trace, false);
			rc = btr_delete_at(tcx, tcx->tc_trace, args, NULL);
			left--;
		}
		rc = btr_tx_end(tcx, rc);
		if (rc != 0)
			return rc;
	}
	*credits = left;
	*destroyed = btr_depth(tcx) == 0;
	return 0;
}

/* Operations on keys */

int
dbtree_upsert(struct btr_instance *toh, unsigned int flags, const d_iov_t *key, const d_iov_t *val,
	      d_iov_t *val_out)
{
	struct btr_context *tcx = btr_tcx(toh);
	struct btr_record rec;
	struct btr_key bk;
	bool found;
	int rc;

	tcx->tc_probed = false;
	if ((flags & ~(unsigned int)(BTR_UPSERT_INSERT | BTR_UPSERT_UPDATE)) != 0 ||
	    flags == (BTR_UPSERT_INSERT | BTR_UPSERT_UPDATE))
		return -DER_INVAL;
	rc = btr_key_init(tcx, key, &bk);
	if (rc != 0)
		return rc;
	found = btr_depth(tcx) > 0 && btr_descend(tcx, tcx->tc_trace, &bk);
	if (found && (flags & BTR_UPSERT_INSERT))
		return -DER_EXIST;
	if (!found && (flags & BTR_UPSERT_UPDATE))
		return -DER_NONEXIST;
	if (!found && tcx->tc_kind == BTR_KIND_DIRECT && key->iov_len > DBTREE_DIRECT_KEY_MAX) {
		D_ERROR("key of %zu bytes, direct keys are at most %d\n", key->iov_len,
			DBTREE_DIRECT_KEY_MAX);
		return -DER_KEY2BIG;
	}

	rc = btr_tx_begin(tcx);
	if (rc != 0)
		return rc;
	if (found) {
		rc = btr_update(tcx, tcx->tc_trace, key, val, &rec);
	} else {
		btr_iters_save(tcx);
		rc = btr_insert(tcx, tcx->tc_trace, &bk, key, val, &rec);
	}
	if (rc == 0 && val_out != NULL)
		rc = btr_ops(tcx)->to_rec_fetch(&tcx->tc_tins, &rec, NULL, val_out);
	return btr_tx_end(tcx, rc);
}

int
dbtree_update(struct btr_instance *toh, const d_iov_t *key, const d_iov_t *val)
{
	return dbtree_upsert(toh, 0, key, val, NULL);
}

int
dbtree_insert_probed(struct btr_instance *toh, const d_iov_t *key, const d_iov_t *val)
{
	struct btr_context *tcx = btr_tcx(toh);
	struct btr_record rec;
	struct btr_key bk;
	int rc;

	/* a VOS update inserts each new key right after its lookup missed: descend once */
	if (!tcx->tc_probed || btr_depth(tcx) == 0)
		return dbtree_upsert(toh, BTR_UPSERT_INSERT, key, val, NULL);
	tcx->tc_probed = false;
	rc = btr_key_init(tcx, key, &bk);
	if (rc != 0)
		return rc;
	if (tcx->tc_kind == BTR_KIND_DIRECT && key->iov_len > DBTREE_DIRECT_KEY_MAX)
		return -DER_KEY2BIG;
	rc = btr_tx_begin(tcx);
	if (rc != 0)
		return rc;
	btr_iters_save(tcx);
	rc = btr_insert(tcx, tcx->tc_trace, &bk, key, val, &rec);
	return btr_tx_end(tcx, rc);
}

int
dbtree_fetch(struct btr_instance *toh, dbtree_probe_opc_t opc, const d_iov_t *key, d_iov_t *key_out,
	     d_iov_t *val_out)
{
	struct btr_context *tcx = btr_tcx(toh);
	struct btr_record rec;
	struct btr_key bk = {0};
	int rc;

	tcx->tc_probed = false;
	if (opc != BTR_PROBE_FIRST && opc != BTR_PROBE_LAST) {
		rc = btr_key_init(tcx, key, &bk);
		if (rc != 0)
			return rc;
	}
	rc = btr_probe(tcx, tcx->tc_trace, opc, &bk);
	if (rc != 0) {
		/* an EQ miss leaves the trace at the first entry > key: the insert position */
		tcx->tc_probed = rc == -DER_NONEXIST && opc == BTR_PROBE_EQ && btr_depth(tcx) > 0;
		return rc;
	}
	btr_rec_view(tcx, btr_trace_lent(tcx, tcx->tc_trace), &rec);
	return btr_ops(tcx)->to_rec_fetch(&tcx->tc_tins, &rec, key_out, val_out);
}

int
dbtree_lookup(struct btr_instance *toh, const d_iov_t *key, d_iov_t *val_out)
{
	return dbtree_fetch(toh, BTR_PROBE_EQ, key, NULL, val_out);
}

static int
btr_delete_key(struct btr_instance *toh, const d_iov_t *key, void *args, umem_off_t *detach)
{
	struct btr_context *tcx = btr_tcx(toh);
	struct btr_key bk;
	int rc;

	tcx->tc_probed = false;
	rc = btr_key_init(tcx, key, &bk);
	if (rc != 0)
		return rc;
	if (btr_depth(tcx) == 0 || !btr_descend(tcx, tcx->tc_trace, &bk))
		return -DER_NONEXIST;
	rc = btr_tx_begin(tcx);
	if (rc != 0)
		return rc;
	btr_iters_save(tcx);
	rc = btr_delete_at(tcx, tcx->tc_trace, args, detach);
	return btr_tx_end(tcx, rc);
}

int
dbtree_delete(struct btr_instance *toh, const d_iov_t *key, void *args)
{
	return btr_delete_key(toh, key, args, NULL);
}

int
dbtree_detach(struct btr_instance *toh, const d_iov_t *key, umem_off_t *body)
{
	if (body == NULL)
		return -DER_INVAL;
	return btr_delete_key(toh, key, NULL, body);
}

int
btr_delete_trace(struct btr_context *tcx, struct btr_trace *trace, void *args)
{
	int rc;

	tcx->tc_probed = false;
	rc = btr_tx_begin(tcx);
	if (rc != 0)
		return rc;
	memcpy(tcx->tc_trace, trace, sizeof(*trace) * (size_t)btr_depth(tcx));
	btr_iters_save(tcx);
	rc = btr_delete_at(tcx, tcx->tc_trace, args, NULL);
	return btr_tx_end(tcx, rc);
}

bool
dbtree_is_empty(struct btr_instance *toh)
{
	return btr_depth(btr_tcx(toh)) == 0;
}

static void
btr_subtree_stat(struct btr_context *tcx, umem_off_t off, struct btr_stat *stat)
{
	struct btr_node_df *nd = btr_off2node(tcx, off);
	uint32_t i;

	stat->bs_node_nr++;
	if (btr_node_is_leaf(nd)) {
		stat->bs_rec_nr += nd->tn_keyn;
		return;
	}
	for (i = 0; i <= nd->tn_keyn; i++)
		btr_subtree_stat(tcx, btr_child(nd, i), stat);
}

int
dbtree_query(struct btr_instance *toh, struct btr_attr *attr, struct btr_stat *stat)
{
	struct btr_context *tcx = btr_tcx(toh);
	struct btr_root_df *root = btr_root(tcx);

	if (attr != NULL) {
		attr->ba_order = root->tr_order;
		attr->ba_depth = root->tr_depth;
		attr->ba_class = root->tr_class;
		attr->ba_feats = root->tr_feats;
	}
	if (stat != NULL) {
		memset(stat, 0, sizeof(*stat));
		if (root->tr_depth > 0)
			btr_subtree_stat(tcx, root->tr_node, stat);
	}
	return 0;
}

/* Checking */

struct btr_check {
	struct btr_stat ck_stat;
	struct btr_lent_df *ck_prev; /* the previous record, in key order */
	umem_off_t ck_prev_node;
};

/* What a subtree walk reports to its parent. */
struct btr_check_sub {
	umem_off_t cs_leftmost; /* leftmost leaf */
	uint64_t cs_min;        /* UINT: smallest and largest key */
	uint64_t cs_max;
};

#define BTR_CHECK_FAIL(off, fmt, ...)                                                              \
	do {                                                                                       \
		D_ERROR("tree check: node %#" PRIx64 ": " fmt "\n", (uint64_t)(off),               \
			##__VA_ARGS__);                                                            \
		return -DER_INVAL;                                                                 \
	} while (0)

/* The key of the record of @le, borrowed from the heap. */
static int
btr_check_key(struct btr_context *tcx, const struct btr_lent_df *le, d_iov_t *key)
{
	struct btr_record rec;

	memset(key, 0, sizeof(*key));
	btr_rec_view(tcx, le, &rec);
	return btr_ops(tcx)->to_rec_fetch(&tcx->tc_tins, &rec, key, NULL);
}

/* Check the record of @le (node @off) and its order after the previous one. */
static int
btr_check_rec(struct btr_context *tcx, struct btr_check *ck, umem_off_t off, struct btr_lent_df *le)
{
	const btr_ops_t *ops = btr_ops(tcx);
	struct btr_record rec;
	struct btr_key bk;
	d_iov_t key;
	int c, rc;

	if (le->le_off != UMOFF_NULL && umem_alloc_size(btr_umm(tcx), le->le_off) == 0)
		BTR_CHECK_FAIL(off, "record body %#" PRIx64 " is not an allocation", le->le_off);
	btr_rec_view(tcx, le, &rec);
	if (tcx->tc_kind == BTR_KIND_HASH && le->le_off != UMOFF_NULL) {
		/* invariant 5 */
		rc = btr_check_key(tcx, le, &key);
		if (rc == 0 && key.iov_buf != NULL) {
			rc = btr_key_init(tcx, &key, &bk);
			if (rc != 0 || btr_hkey_cmp(tcx, bk.bk_hkey, le->le_key) != 0)
				BTR_CHECK_FAIL(off, "hashed key does not match its key");
		}
	}
	if (tcx->tc_kind == BTR_KIND_DIRECT) {
		rc = btr_check_key(tcx, le, &key);
		if (rc != 0 || key.iov_len > DBTREE_DIRECT_KEY_MAX)
			BTR_CHECK_FAIL(off, "bad direct key (%zu bytes)", key.iov_len);
	}
	if (ck->ck_prev != NULL) {
		struct btr_lent_df *pv = ck->ck_prev;

		switch (tcx->tc_kind) {
		case BTR_KIND_UINT:
			c = btr_u64_cmp(le->le_key[0], pv->le_key[0]);
			break;
		case BTR_KIND_HASH:
			c = btr_hkey_cmp(tcx, le->le_key, pv->le_key);
			if (c != 0 || ops->to_key_cmp == NULL)
				break;
			/* fall through */
		default:
			rc = btr_check_key(tcx, pv, &key);
			if (rc != 0)
				BTR_CHECK_FAIL(off, "record key unreadable: " DF_RC, DP_RC(rc));
			c = ops->to_key_cmp(&tcx->tc_tins, &rec, &key);
			break;
		}
		if (c <= 0) {
			char buf[128] = "";

			if (ops->to_rec_string != NULL)
				ops->to_rec_string(&tcx->tc_tins, &rec, buf, sizeof(buf));
			BTR_CHECK_FAIL(off, "key %s out of order (after node %#" PRIx64 ")", buf,
				       ck->ck_prev_node);
		}
	}
	ck->ck_prev = le;
	ck->ck_prev_node = off;
	ck->ck_stat.bs_rec_nr++;
	return 0;
}

static int
btr_check_node(struct btr_context *tcx, struct btr_check *ck, umem_off_t off, int level,
	       struct btr_check_sub *sub)
{
	int depth = btr_depth(tcx);
	bool leaf = level == depth - 1;
	struct btr_check_sub child = {0};
	struct btr_node_df *nd;
	uint32_t i;
	int rc;

	if (off == UMOFF_NULL || umem_alloc_size(btr_umm(tcx), off) < sizeof(struct btr_node_df))
		BTR_CHECK_FAIL(off, "not a node allocation (level %d)", level);
	nd = btr_off2node(tcx, off);
	if (nd->tn_flags != (leaf ? BTR_NODE_LEAF : 0))
		BTR_CHECK_FAIL(off, "flags %#x at level %d of %d", nd->tn_flags, level, depth);
	/* a node with its own room: only the first leaf, while it is the whole tree */
	if (nd->tn_cap != 0 && (depth != 1 || nd->tn_cap >= tcx->tc_order))
		BTR_CHECK_FAIL(off, "room for %u entries (order %u) at level %d of %d", nd->tn_cap,
			       tcx->tc_order, level, depth);
	if (umem_alloc_size(btr_umm(tcx), off) < btr_node_size(tcx, leaf, nd->tn_cap))
		BTR_CHECK_FAIL(off, "not a node allocation (level %d)", level);
	if (nd->tn_keyn > btr_node_cap(tcx, nd) || nd->tn_keyn == 0 ||
	    (level > 0 && nd->tn_keyn < tcx->tc_order / 2))
		BTR_CHECK_FAIL(off, "%u entries (order %u, level %d)", nd->tn_keyn, tcx->tc_order,
			       level);
	ck->ck_stat.bs_node_nr++;
	if (leaf) {
		for (i = 0; i < nd->tn_keyn; i++) {
			rc = btr_check_rec(tcx, ck, off, btr_lent(tcx, nd, i));
			if (rc != 0)
				return rc;
		}
		sub->cs_leftmost = off;
		if (tcx->tc_kind == BTR_KIND_UINT) {
			sub->cs_min = btr_lent(tcx, nd, 0)->le_key[0];
			sub->cs_max = btr_lent(tcx, nd, nd->tn_keyn - 1)->le_key[0];
		}
		return 0;
	}
	for (i = 0; i <= nd->tn_keyn; i++) {
		rc = btr_check_node(tcx, ck, btr_child(nd, i), level + 1, &child);
		if (rc != 0)
			return rc;
		if (i == 0) {
			*sub = child;
			continue;
		}
		/* invariant 4 */
		if (tcx->tc_kind == BTR_KIND_UINT) {
			uint64_t sep = btr_ient(nd, i - 1)->ie_sep;

			if (!(sub->cs_max < sep && sep <= child.cs_min))
				BTR_CHECK_FAIL(off, "separator %u (%" PRIu64 ") out of bounds",
					       i - 1, sep);
		} else if (btr_ient(nd, i - 1)->ie_sep != child.cs_leftmost) {
			BTR_CHECK_FAIL(off, "separator %u is not the leftmost leaf of its child",
				       i - 1);
		}
		sub->cs_max = child.cs_max;
	}
	return 0;
}

int
dbtree_check(struct btr_instance *toh, struct btr_stat *stat)
{
	struct btr_context *tcx = btr_tcx(toh);
	struct btr_root_df *root = btr_root(tcx);
	struct btr_check ck = {0};
	struct btr_check_sub sub;
	int rc;

	rc = btr_root_validate(btr_umm(tcx), root);
	if (rc != 0 || root->tr_order != tcx->tc_order) {
		D_ERROR("tree check: bad root\n");
		return -DER_INVAL;
	}
	if (root->tr_depth > 0) {
		rc = btr_check_node(tcx, &ck, root->tr_node, 0, &sub);
		if (rc != 0)
			return rc;
	}
	if (stat != NULL)
		*stat = ck.ck_stat;
	return 0;
}
