/*
 * evt_priv.h: on-media layout and internal helpers of the evtree, shared by evtree.c
 * (structure: create, insert, delete, destroy, check) and evt_query.c (find, visibility,
 * iterators). Private to src/vos.
 */
#ifndef D_VOS_EVT_PRIV_H
#define D_VOS_EVT_PRIV_H

#include <inttypes.h>
#include <stddef.h>

#include <daos_srv/evtree.h>

#include "vos_internal.h"

#define EVT_ROOT_MAGIC 0x45565452U /* "EVTR" */
#define EVT_NODE_MAGIC 0x45564e44U /* "EVND" */
#define EVT_NODE_LEAF (1U << 0)

/** A rectangle as stored: both ends of the extent, epoch, minor epoch, entry flags. */
struct evt_rect_df {
	uint64_t rd_lo;
	uint64_t rd_hi;
	uint64_t rd_epc;
	uint16_t rd_minor_epc;
	uint16_t rd_flags; /* EVT_ENT_* in a leaf; 0 in a parent's key */
	uint32_t rd_pad;
};

/** A leaf record: one entry. */
struct evt_leaf_df {
	struct evt_rect_df lf_rect;
	struct evt_payload_df lf_payload;
};

/**
 * A parent's record of one child: the smallest key in the child's subtree and the child's
 * minimum bounding rectangle. The rectangle's low end is cd_key.rd_lo (keys sort by start
 * index first), its high end cd_mbr_hi, and its epochs span [cd_epc_lo, cd_epc_hi].
 */
struct evt_child_df {
	struct evt_rect_df cd_key;
	uint64_t cd_mbr_hi;
	uint64_t cd_epc_lo;
	uint64_t cd_epc_hi;
	umem_off_t cd_node;
};

/** A node: this header, then tr_order records of EVT_REC_SIZE bytes (leaf or child). */
struct evt_node_df {
	uint32_t nd_magic;
	uint16_t nd_nr;
	uint16_t nd_flags; /* EVT_NODE_LEAF */
	uint64_t nd_pad;
};

#define EVT_REC_SIZE 64

D_CASSERT(sizeof(struct evt_rect_df) == 32);
D_CASSERT(sizeof(struct evt_payload_df) == 32);
D_CASSERT(sizeof(struct evt_leaf_df) == EVT_REC_SIZE);
D_CASSERT(sizeof(struct evt_child_df) == EVT_REC_SIZE);
D_CASSERT(sizeof(struct evt_node_df) == 16);
D_CASSERT(sizeof(struct evt_root_df) == 32);
D_CASSERT(offsetof(struct evt_child_df, cd_node) == 56);
D_CASSERT(offsetof(struct evt_leaf_df, lf_payload) == 32);

/** An open tree. Holds no copy of persistent state, so an abort cannot make it stale. */
struct evt_context {
	struct umem_instance *tc_umm;
	struct evt_root_df *tc_root;
	/* bumped by every insert/delete attempt; iterators compare it to re-seek */
	uint64_t tc_gen;
};

static inline size_t
evt_node_size(unsigned int order)
{
	return sizeof(struct evt_node_df) + (size_t)order * EVT_REC_SIZE;
}

static inline bool
evt_node_is_leaf(const struct evt_node_df *nd)
{
	return (nd->nd_flags & EVT_NODE_LEAF) != 0;
}

/** Record slot @at of @nd, whatever its kind (both kinds are EVT_REC_SIZE bytes). */
static inline uint8_t *
evt_node_slot(struct evt_node_df *nd, unsigned int at)
{
	return (uint8_t *)(nd + 1) + (size_t)at * EVT_REC_SIZE;
}

static inline struct evt_leaf_df *
evt_node_leaf(struct evt_node_df *nd, unsigned int at)
{
	return (struct evt_leaf_df *)(nd + 1) + at;
}

static inline struct evt_child_df *
evt_node_child(struct evt_node_df *nd, unsigned int at)
{
	return (struct evt_child_df *)(nd + 1) + at;
}

static inline void
evt_rect_read(struct evt_rect *r, const struct evt_rect_df *d)
{
	r->rc_ex.ex_lo = d->rd_lo;
	r->rc_ex.ex_hi = d->rd_hi;
	r->rc_epc = d->rd_epc;
	r->rc_minor_epc = d->rd_minor_epc;
}

static inline void
evt_leaf_read(struct evt_entry *ent, const struct evt_leaf_df *lf)
{
	evt_rect_read(&ent->en_rect, &lf->lf_rect);
	ent->en_flags = lf->lf_rect.rd_flags;
	ent->en_payload = lf->lf_payload;
}

/** Is (epc1, minor1) newer than (epc2, minor2)? */
static inline bool
evt_epc_newer(uint64_t epc1, uint16_t minor1, uint64_t epc2, uint16_t minor2)
{
	return epc1 > epc2 || (epc1 == epc2 && minor1 > minor2);
}

/*
 * The order of keys in the tree: start index ascending, then newest first (epoch, minor
 * epoch descending), then end index ascending. Rectangles are unique, so this is total.
 */
static inline int
evt_rect_cmp(const struct evt_rect *a, const struct evt_rect *b)
{
	if (a->rc_ex.ex_lo != b->rc_ex.ex_lo)
		return a->rc_ex.ex_lo < b->rc_ex.ex_lo ? -1 : 1;
	if (a->rc_epc != b->rc_epc)
		return a->rc_epc > b->rc_epc ? -1 : 1;
	if (a->rc_minor_epc != b->rc_minor_epc)
		return a->rc_minor_epc > b->rc_minor_epc ? -1 : 1;
	if (a->rc_ex.ex_hi != b->rc_ex.ex_hi)
		return a->rc_ex.ex_hi < b->rc_ex.ex_hi ? -1 : 1;
	return 0;
}

static inline int
evt_rect_df_cmp(const struct evt_rect_df *d, const struct evt_rect *b)
{
	struct evt_rect a;

	evt_rect_read(&a, d);
	return evt_rect_cmp(&a, b);
}

/*
 * Internal functions shared by evtree.c and evt_query.c.
 * Context (all of them): the tree's thread; no locks, no yields.
 */

/**
 * Map node @off of level @level (0 = root) to memory, validating what can be checked
 * cheaply: bounds, magic, count, leaf flag. -DER_DF_INVAL (logged) on a damaged node.
 */
int evt_node_load(struct evt_context *tcx, umem_off_t off, unsigned int level,
		  struct evt_node_df **ndp);

/**
 * The record a parent would keep for the root node (first key, bounding rectangle) in
 * *@sum: the bounds of the whole tree. -DER_NONEXIST for an empty tree, -DER_DF_INVAL.
 */
int evt_root_summary(struct evt_context *tcx, struct evt_child_df *sum);

/** Index of the last child of internal node @nd whose first key is <= @key (0 if none). */
unsigned int evt_child_search(struct evt_node_df *nd, const struct evt_rect *key);

/** Index of the first record of leaf @nd whose key is >= @key; *@found if it is equal. */
unsigned int evt_leaf_search(struct evt_node_df *nd, const struct evt_rect *key, bool *found);

/**
 * Walk every entry overlapping @ex with epoch in [@epc_lo, @epc_hi], calling @cb on each
 * (in key order). A non-zero return from @cb stops the walk and is returned. Read-only:
 * @cb must not modify the tree.
 */
int evt_scan(struct evt_context *tcx, const struct evt_extent *ex, uint64_t epc_lo, uint64_t epc_hi,
	     int (*cb)(void *arg, const struct evt_leaf_df *lf), void *arg);

#endif /* D_VOS_EVT_PRIV_H */
