/*
 * btree_internal.h: private to btree.c and btree_iter.c: the node layout, the open-tree
 * context and the search helpers the iterator shares with the tree operations.
 */
#ifndef D_VOS_BTREE_INTERNAL_H
#define D_VOS_BTREE_INTERNAL_H

#include <gurt/common.h>
#include <gurt/list.h>
#include <daos_srv/btree.h>

#define BTR_ROOT_VERSION 1
#define BTR_NODE_LEAF 0x1

/*
 * Node header; room for `order` entries follows, or for tn_cap: in a BTR_FEAT_FIRST_SMALL
 * tree the first leaf (its root while the tree has one node) is allocated with room for
 * BTR_FIRST_CAP entries only, and replaced by a full node when it needs more (a VOS
 * single-value tree usually holds one record: a full node would be ~90 % zeros,
 * allocated, zeroed and logged).
 */
struct btr_node_df {
	uint16_t tn_flags;   /* BTR_NODE_LEAF */
	uint16_t tn_keyn;    /* entries in use */
	uint32_t tn_cap;     /* entries it has room for; 0: the tree's order */
	umem_off_t tn_child; /* internal: the first child */
};

/* Room of the first leaf of a tree (see struct btr_node_df). */
#define BTR_FIRST_CAP 1U
D_CASSERT(sizeof(struct btr_node_df) == 16);

/* Entry of an internal node: a child and its separator (see btree.c). */
struct btr_ient_df {
	umem_off_t ie_child;
	uint64_t ie_sep;
};
D_CASSERT(sizeof(struct btr_ient_df) == 16);

/* Entry of a leaf: the record body, then the uint or hashed key (none if direct). */
struct btr_lent_df {
	umem_off_t le_off;
	uint64_t le_key[];
};
D_CASSERT(sizeof(struct btr_lent_df) == 8);

enum btr_kind {
	BTR_KIND_HASH = 1,
	BTR_KIND_UINT = 2,
	BTR_KIND_DIRECT = 3,
};

/* One level of a path from the root: a node, and the child (or entry, in a leaf) taken. */
struct btr_trace {
	umem_off_t bt_node;
	uint32_t bt_at;
	uint32_t bt_pad;
};

/* An open tree. Handles are &tc_tins. */
struct btr_context {
	struct btr_instance tc_tins;
	enum btr_kind tc_kind;
	uint32_t tc_order;
	uint32_t tc_hsize;  /* hashed key bytes */
	uint32_t tc_lesize; /* leaf entry bytes */
	uint32_t tc_ref;    /* the handle, and each iterator */
	bool tc_murmur;     /* hashed key: murmur64, compared as a number */
	bool tc_alloc_failed;
	bool tc_borrowed;  /* in the caller's struct dbtree_buf: never freed */
	bool tc_probed;    /* the last operation: an EQ probe that missed; trace = insert spot */
	d_list_t tc_iters; /* iterators prepared on this handle */
	struct btr_trace tc_trace[BTR_DEPTH_MAX]; /* path of the current operation */
};

/* A key prepared for searching. */
struct btr_key {
	const d_iov_t *bk_key; /* the key; NULL in a hashed tree: only the hash is known */
	uint64_t bk_ukey;
	uint64_t bk_hkey[BTR_HKEY_MAX / sizeof(uint64_t)];
};

static inline struct btr_context *
btr_tcx(struct btr_instance *tins)
{
	return container_of(tins, struct btr_context, tc_tins);
}

static inline struct umem_instance *
btr_umm(struct btr_context *tcx)
{
	return tcx->tc_tins.ti_umm;
}

static inline struct btr_root_df *
btr_root(struct btr_context *tcx)
{
	return tcx->tc_tins.ti_root;
}

static inline const btr_ops_t *
btr_ops(struct btr_context *tcx)
{
	return tcx->tc_tins.ti_ops;
}

static inline int
btr_depth(struct btr_context *tcx)
{
	return btr_root(tcx)->tr_depth;
}

static inline struct btr_node_df *
btr_off2node(struct btr_context *tcx, umem_off_t off)
{
	return umem_off2ptr(btr_umm(tcx), off);
}

static inline bool
btr_node_is_leaf(const struct btr_node_df *nd)
{
	return (nd->tn_flags & BTR_NODE_LEAF) != 0;
}

static inline size_t
btr_esize(struct btr_context *tcx, bool leaf)
{
	return leaf ? tcx->tc_lesize : sizeof(struct btr_ient_df);
}

/* Bytes of a node with room for @cap entries (0: the tree's order). */
static inline size_t
btr_node_size(struct btr_context *tcx, bool leaf, uint32_t cap)
{
	return sizeof(struct btr_node_df) + (cap != 0 ? cap : tcx->tc_order) * btr_esize(tcx, leaf);
}

/* Entries @nd has room for. */
static inline uint32_t
btr_node_cap(struct btr_context *tcx, const struct btr_node_df *nd)
{
	return nd->tn_cap != 0 ? nd->tn_cap : tcx->tc_order;
}

static inline void *
btr_ent(struct btr_context *tcx, struct btr_node_df *nd, uint32_t i)
{
	return (char *)(nd + 1) + i * btr_esize(tcx, btr_node_is_leaf(nd));
}

static inline struct btr_lent_df *
btr_lent(struct btr_context *tcx, struct btr_node_df *nd, uint32_t i)
{
	return (struct btr_lent_df *)((char *)(nd + 1) + i * tcx->tc_lesize);
}

static inline struct btr_ient_df *
btr_ient(struct btr_node_df *nd, uint32_t i)
{
	return (struct btr_ient_df *)(nd + 1) + i;
}

static inline umem_off_t
btr_child(struct btr_node_df *nd, uint32_t i)
{
	return i == 0 ? nd->tn_child : btr_ient(nd, i - 1)->ie_child;
}

/* The leaf entry a (positioned) trace points at. */
static inline struct btr_lent_df *
btr_trace_lent(struct btr_context *tcx, struct btr_trace *trace)
{
	struct btr_trace *t = &trace[btr_depth(tcx) - 1];

	return btr_lent(tcx, btr_off2node(tcx, t->bt_node), t->bt_at);
}

/*
 * Shared by btree.c and btree_iter.c. Context of all: the tree's thread; no locks, no
 * yields. Pointers are borrowed for the call unless said otherwise.
 */

/** Drop a reference to @tcx (the handle's or an iterator's); the last one frees it. */
void btr_tcx_put(struct btr_context *tcx);

/** Prepare @key (borrowed, and kept in @bk: it must outlive @bk) for searching. 0, -DER_INVAL. */
int btr_key_init(struct btr_context *tcx, const d_iov_t *key, struct btr_key *bk);

/** Compare two hashed keys of this tree. */
int btr_hkey_cmp(struct btr_context *tcx, const void *a, const void *b);

/** Compare the key of leaf entry @le with @bk (<0, 0, >0 as the entry sorts before...). */
int btr_lent_cmp(struct btr_context *tcx, const struct btr_lent_df *le, const struct btr_key *bk);

/** The class's view of leaf entry @le. */
void btr_rec_view(struct btr_context *tcx, const struct btr_lent_df *le, struct btr_record *rec);

/**
 * Descend a non-empty tree to the leaf where @bk belongs, filling @trace; the leaf level
 * points at the first entry >= @bk (possibly one past the last). True if it equals @bk.
 */
bool btr_descend(struct btr_context *tcx, struct btr_trace *trace, const struct btr_key *bk);

/** Point @trace at the first (or @last) record of a non-empty tree. */
void btr_trace_first(struct btr_context *tcx, struct btr_trace *trace, bool last);

/** Move @trace to the next record; false (and @trace unchanged) at the end. */
bool btr_trace_next(struct btr_context *tcx, struct btr_trace *trace);

/** Move @trace to the previous record; false (and @trace unchanged) at the start. */
bool btr_trace_prev(struct btr_context *tcx, struct btr_trace *trace);

/** Is @opc one of the public probe opcodes? */
bool btr_opc_valid(dbtree_probe_opc_t opc);

/**
 * From where btr_descend left @trace (@eq: on an equal key), move to the record @opc
 * (EQ/GT/GE/LT/LE) selects. 0, -DER_NONEXIST, -DER_INVAL.
 */
int btr_probe_settle(struct btr_context *tcx, struct btr_trace *trace, dbtree_probe_opc_t opc,
		     bool eq);

/** Point @trace at the record @opc selects for @bk (unused by FIRST/LAST). As above. */
int btr_probe(struct btr_context *tcx, struct btr_trace *trace, dbtree_probe_opc_t opc,
	      const struct btr_key *bk);

/** Delete the record @trace points at, in a transaction of its own (nested). */
int btr_delete_trace(struct btr_context *tcx, struct btr_trace *trace, void *args);

/** Before a structural change: every positioned iterator of @tcx saves its position. */
void btr_iters_save(struct btr_context *tcx);

#endif /* D_VOS_BTREE_INTERNAL_H */
