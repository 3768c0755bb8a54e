/*
 * evtree.h: the extent tree (evtree), the versioned index of one VOS array value.
 *
 * An evtree holds rectangles: a range of record indexes [lo, hi] (inclusive, in records,
 * not bytes) times an epoch that extends to infinity, plus a 16-bit minor epoch that orders
 * several writes inside one epoch. Each rectangle points at a payload whose meaning the
 * caller defines (a heap offset for small values, a data-file address for bulk data). A
 * punch is a rectangle flagged EVT_ENT_HOLE. Reading at epoch E sees, for every index, the
 * entry with the highest (epoch, minor epoch) <= (E, any) that covers it; a hole hides
 * everything older; an index no entry covers reads as unwritten.
 *
 *	rc = evt_create_inplace(&rec->ak_evt, EVT_ORDER_DEFAULT, umm, &tcx);
 *	rc = evt_insert(tcx, &ent, NULL);
 *	evt_list_init(&list);
 *	rc = evt_find(tcx, &range, epoch, 0, &list);   (visible fragments in index order)
 *	evt_list_fini(&list);
 *	evt_close(tcx);
 *
 * The tree lives in a umem heap (offsets, never pointers); its root (struct evt_root_df)
 * is embedded in the caller's own record. Every change runs in a umem transaction nested
 * in the caller's, so an aborted outer transaction leaves the tree exactly as it was.
 * Refusals found before anything changes (-DER_INVAL, -DER_VOS_PARTIAL_UPDATE,
 * -DER_NONEXIST) leave an enclosing transaction usable; a failure while changing the tree
 * (-DER_NOSPACE, -DER_NOMEM) dooms it, as any failure inside a umem transaction does.
 *
 * Context: single thread (a target xstream); nothing here locks or yields. One open handle
 * per tree at a time: a handle keeps no copy of persistent state, but iterators notice
 * changes only through the handle they were prepared on.
 */
#ifndef D_SRV_EVTREE_H
#define D_SRV_EVTREE_H

#include <stdbool.h>
#include <stdint.h>

#include <daos_srv/umem.h>

/** Node order (records per node) accepted by evt_create_inplace. */
#define EVT_ORDER_MIN 4
#define EVT_ORDER_MAX 128
#define EVT_ORDER_DEFAULT 32
/** Deepest tree supported; unreachable in practice (order 4 needs > 2^31 entries). */
#define EVT_MAX_DEPTH 32
#define EVT_MINOR_EPC_MAX UINT16_MAX

/** A range of record indexes, both ends inclusive. */
struct evt_extent {
	uint64_t ex_lo;
	uint64_t ex_hi;
};

/** A versioned extent: its epoch range is [rc_epc, infinity). */
struct evt_rect {
	struct evt_extent rc_ex;
	uint64_t rc_epc;
	uint16_t rc_minor_epc;
};

/**
 * Where the records of an entry are. The tree stores and returns it untouched; its fields
 * are named for what VOS puts there. For a fragment that starts ef_off records into its
 * entry, the caller finds its bytes at pd_addr + ef_off * pd_rsize.
 */
struct evt_payload_df {
	uint64_t pd_addr;  /* heap offset or data-file address of the first record */
	uint32_t pd_type;  /* caller-defined (media type) */
	uint32_t pd_flags; /* caller-defined */
	uint32_t pd_rsize; /* bytes per record; 0 for a hole */
	uint32_t pd_ver;   /* caller-defined (pool map version) */
	uint64_t pd_csum;  /* reserved for a checksum (inline or a heap offset); 0 for now */
};

/**
 * The root of a tree, embedded in the caller's record. All zero means "no tree";
 * evt_create_inplace formats it and evt_destroy zeroes it again.
 */
struct evt_root_df {
	uint64_t tr_node;  /* offset of the root node; UMOFF_NULL while empty */
	uint64_t tr_count; /* entries in the tree */
	uint32_t tr_magic; /* EVT_ROOT_MAGIC once created */
	uint16_t tr_order; /* records per node */
	uint16_t tr_depth; /* 0 = empty, 1 = the root is a leaf, ... */
	uint64_t tr_pad;
};

/* evt_entry::en_flags */
#define EVT_ENT_HOLE (1U << 0) /* a punch: the range reads as a hole */

/** One entry of the tree: a rectangle and its payload. */
struct evt_entry {
	struct evt_rect en_rect;
	uint32_t en_flags; /* EVT_ENT_* */
	struct evt_payload_df en_payload;
};

/* Visibility flags of a fragment (evt_frag::ef_vis). */
#define EVT_COVERED (1U << 0)   /* hidden at the epoch by a newer entry */
#define EVT_VISIBLE (1U << 1)   /* what a read at the epoch sees */
#define EVT_PARTIAL (1U << 2)   /* only part of its entry */
#define EVT_HOLE (1U << 3)      /* reads as a hole: a punch, or EVT_UNWRITTEN */
#define EVT_UNWRITTEN (1U << 4) /* no entry covers it; ef_ent is zeroed */

/** A piece of a query result: part of the query range and the entry it comes from. */
struct evt_frag {
	struct evt_extent ef_ext; /* the fragment, inside the query range */
	uint64_t ef_off;          /* ef_ext.ex_lo - ef_ent.en_rect.rc_ex.ex_lo (records) */
	uint32_t ef_vis;          /* EVT_VISIBLE or EVT_COVERED, and PARTIAL/HOLE/UNWRITTEN */
	uint32_t ef_pad;
	struct evt_entry ef_ent; /* the whole entry (full rectangle and payload) */
};

/** A growable array of fragments, filled by evt_find. */
struct evt_list {
	uint32_t el_nr;
	uint32_t el_cap;
	struct evt_frag *el_frags; /* owned; freed by evt_list_fini */
};

/* evt_find flags */
#define EVT_FIND_COVERED (1U << 0)    /* also every covered piece of every entry (history) */
#define EVT_FIND_SKIP_HOLES (1U << 1) /* leave out punched and unwritten fragments */

/* evt_iter_prepare flags */
#define EVT_ITER_VISIBLE (1U << 0)    /* visible fragments at fr_epc_hi, in index order */
#define EVT_ITER_SKIP_HOLES (1U << 1) /* with EVT_ITER_VISIBLE: no hole fragments */

/** What an iterator walks: entries overlapping fr_ex with epoch in [fr_epc_lo, fr_epc_hi]. */
struct evt_filter {
	struct evt_extent fr_ex;
	uint64_t fr_epc_lo;
	uint64_t fr_epc_hi;
};

#define EVT_ANCHOR_SIZE 64
/** An opaque, fixed-size iteration position, safe to keep across tree modifications. */
struct evt_anchor {
	uint8_t ea_data[EVT_ANCHOR_SIZE];
};

/** Summary of a tree, from evt_check. */
struct evt_stat {
	uint64_t es_entries;
	uint64_t es_nodes;
	uint64_t es_leaves;
	uint64_t es_bytes; /* heap bytes held by nodes (umem_alloc_size) */
	uint32_t es_depth;
	uint32_t es_order;
};

struct evt_context; /* an open tree */
struct evt_iter;    /* an iterator */

/**
 * Called once per entry by evt_destroy, inside its transaction, so the caller can free
 * the payload's space (umem_free, or the data-file allocator). @ent is borrowed for the
 * call. A non-zero return stops the destroy, which then aborts.
 */
typedef int (*evt_ent_cb_t)(struct umem_instance *umm, const struct evt_entry *ent, void *arg);

/**
 * Create an empty tree of @order (EVT_ORDER_MIN..EVT_ORDER_MAX) in @root, which must lie in
 * the heap of @umm and be all zero, and open it. @root and @umm are borrowed and must
 * outlive the handle. On success *@tcxp is a handle the caller closes with evt_close (or
 * evt_destroy). Returns 0, -DER_INVAL (order, or @root outside the heap), -DER_EXIST
 * (@root already holds a tree), -DER_NOMEM, or a transaction error.
 * Context: runs its own (nested) transaction.
 */
int evt_create_inplace(struct evt_root_df *root, unsigned int order, struct umem_instance *umm,
		       struct evt_context **tcxp);

/**
 * Open the tree at @root (borrowed, as for evt_create_inplace). Returns 0,
 * -DER_NONEXIST (@root is all zero), -DER_DF_INVAL (@root is not a valid tree root),
 * -DER_INVAL or -DER_NOMEM.
 * Context: the tree's thread; no transaction needed.
 */
int evt_open(struct evt_root_df *root, struct umem_instance *umm, struct evt_context **tcxp);

/**
 * Release a handle (the tree stays). Iterators of the handle must be finished first.
 * Context: the tree's thread.
 */
void evt_close(struct evt_context *tcx);

/**
 * Free every node of the tree, calling @cb (may be NULL) with @arg for each entry first,
 * zero the root, and close the handle. All of it is one transaction: on error nothing is
 * freed and the handle stays open. Returns 0, the callback's error, or a transaction error.
 * Context: runs its own (nested) transaction; O(n).
 */
int evt_destroy(struct evt_context *tcx, evt_ent_cb_t cb, void *arg);

/**
 * Insert @ent (borrowed; copied into the tree). As in DAOS, an entry whose rectangle is
 * identical (extent, epoch and minor epoch) replaces the existing one in place: its payload
 * and hole flag are overwritten, the old entry is copied to *@old if @old is not NULL, and
 * the return value is 1 so the caller can free the old payload in the same transaction.
 * An entry that overlaps another of the same epoch and minor epoch without being identical
 * is refused with -DER_VOS_PARTIAL_UPDATE (which one would win is undefined).
 * Returns 0 (inserted), 1 (replaced), -DER_INVAL (lo > hi), -DER_VOS_PARTIAL_UPDATE,
 * -DER_NOSPACE/-DER_NOMEM, -DER_DF_INVAL (a damaged node). On error the tree is unchanged.
 * Context: runs its own (nested) transaction.
 */
int evt_insert(struct evt_context *tcx, const struct evt_entry *ent, struct evt_entry *old);

/**
 * Remove the entry whose rectangle is exactly @rect (used by aggregation and discard).
 * The removed entry is copied to *@ent when @ent is not NULL; freeing its payload is the
 * caller's business. Returns 0, -DER_NONEXIST (no such rectangle), or an error as for
 * evt_insert (the tree is then unchanged).
 * Context: runs its own (nested) transaction.
 */
int evt_delete(struct evt_context *tcx, const struct evt_rect *rect, struct evt_entry *ent);

/** Prepare an empty list. Context: any. */
void evt_list_init(struct evt_list *list);

/** Free what the list holds; it is then empty and may be reused. Context: any. */
void evt_list_fini(struct evt_list *list);

/**
 * Read @range at @epoch into @list (initialised by the caller; its previous contents are
 * replaced). Without flags: the visible fragments covering @range exactly, in index order,
 * each flagged EVT_VISIBLE; an index range nobody wrote is a fragment flagged
 * EVT_VISIBLE | EVT_HOLE | EVT_UNWRITTEN, a punched one carries EVT_HOLE and its punch
 * entry. EVT_FIND_COVERED adds, for every entry with epoch <= @epoch overlapping @range,
 * each maximal piece of it (clipped to @range) that a newer entry hides, flagged
 * EVT_COVERED; fragments are then sorted by start index, newest first. EVT_FIND_SKIP_HOLES
 * leaves out every EVT_HOLE fragment. Returns 0, -DER_INVAL, -DER_NOMEM, -DER_DF_INVAL.
 * Cost: O(log n + k log k) for k entries overlapping @range at or below @epoch (see the
 * evtree section of src/vos/README.md for the worst case of the search).
 * Context: the tree's thread; read-only, no transaction needed.
 */
int evt_find(struct evt_context *tcx, const struct evt_extent *range, uint64_t epoch,
	     uint32_t flags, struct evt_list *list);

/**
 * The highest record index that holds data (not a hole) in a read at @epoch, in *@idx
 * (the array size minus one: query key "max recx"). Returns 0, -DER_NONEXIST (no data at
 * all), -DER_NOMEM or -DER_DF_INVAL. Cost: at most 64 window reads of doubling width.
 * Context: the tree's thread; read-only.
 */
int evt_max_visible(struct evt_context *tcx, uint64_t epoch, uint64_t *idx);

/** The lowest such index; as evt_max_visible. Context: the tree's thread; read-only. */
int evt_min_visible(struct evt_context *tcx, uint64_t epoch, uint64_t *idx);

/** Number of entries in the tree. Context: the tree's thread. */
uint64_t evt_count(struct evt_context *tcx);

/**
 * Check the whole tree: node magic and counts, uniform depth, entries strictly sorted,
 * every parent record equal to the bounding rectangle and first key of its child, the
 * entry count. Fills *@st when not NULL. Returns 0 or -DER_DF_INVAL (logged). O(n).
 * Context: the tree's thread; read-only.
 */
int evt_check(struct evt_context *tcx, struct evt_stat *st);

/**
 * Prepare an iterator over @tcx (borrowed; must stay open) with @filter (copied; NULL =
 * everything). Without EVT_ITER_VISIBLE it walks every entry overlapping fr_ex with epoch in
 * [fr_epc_lo, fr_epc_hi], in (start index, newest first) order, each fetched as a fragment
 * clipped to fr_ex and flagged EVT_HOLE for a punch; the walk follows modifications made
 * through the same handle (it resumes after the current entry). With EVT_ITER_VISIBLE it
 * walks what evt_find returns for fr_ex at fr_epc_hi, ignoring entries older than
 * fr_epc_lo; that list is computed at probe time and not affected by later modifications.
 * The caller finishes *@itp with evt_iter_finish. Returns 0, -DER_INVAL, -DER_NOMEM.
 * Context (all evt_iter_*): the tree's thread; read-only; an iterator may be kept across
 * yields, but the tree may change meanwhile only through its handle.
 */
int evt_iter_prepare(struct evt_context *tcx, uint32_t flags, const struct evt_filter *filter,
		     struct evt_iter **itp);

/**
 * Position the iterator at its first item, or, with @anchor (borrowed) from an earlier
 * evt_iter_fetch, at the first item after the one the anchor was taken at. Returns 0,
 * -DER_NONEXIST (nothing there), -DER_INVAL (an anchor of another kind of iterator),
 * -DER_NOMEM, -DER_DF_INVAL.
 */
int evt_iter_probe(struct evt_iter *it, const struct evt_anchor *anchor);

/** Move to the next item. Returns 0, -DER_NONEXIST at the end (or before a probe). */
int evt_iter_next(struct evt_iter *it);

/**
 * Copy the current item to *@frag, and its position to *@anchor when not NULL.
 * Returns 0 or -DER_NONEXIST (not positioned on an item).
 */
int evt_iter_fetch(struct evt_iter *it, struct evt_frag *frag, struct evt_anchor *anchor);

/** Release an iterator. */
void evt_iter_finish(struct evt_iter *it);

#endif /* D_SRV_EVTREE_H */
