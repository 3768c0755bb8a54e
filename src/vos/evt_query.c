/*
 * evt_query.c: reading an evtree: evt_find (what a read at an epoch sees, with or without
 * history), the highest and lowest visible index, and the iterators. It sits on the tree
 * walk of evtree.c (evt_scan) and never modifies the tree.
 *
 * Visibility is computed after the search, from the k entries it returns (their epoch at or
 * below the read epoch, overlapping the range): sorted by start index, swept left to right
 * with a max-heap of the entries covering the current index, ordered by (epoch, minor
 * epoch). The top of the heap is what the read sees; it stays visible until it ends or a
 * newer entry starts. O(k log k), independent of how many entries lie elsewhere.
 */
#define D_LOGFAC vos

#include <stdlib.h>
#include <string.h>

#include <gurt/common.h>

#include "evt_priv.h"

void
evt_list_init(struct evt_list *list)
{
	memset(list, 0, sizeof(*list));
}

void
evt_list_fini(struct evt_list *list)
{
	D_FREE(list->el_frags);
	list->el_nr = 0;
	list->el_cap = 0;
}

static struct evt_frag *
evt_list_add(struct evt_list *list)
{
	if (list->el_nr == list->el_cap) {
		uint32_t cap = list->el_cap == 0 ? 16 : list->el_cap * 2;
		struct evt_frag *frags;

		D_REALLOC_ARRAY(frags, list->el_frags, cap);
		if (frags == NULL)
			return NULL;
		list->el_frags = frags;
		list->el_cap = cap;
	}
	return &list->el_frags[list->el_nr++];
}

/* An entry the search found, clipped to the query range. */
struct evt_cand {
	struct evt_entry c_ent;
	uint64_t c_lo;
	uint64_t c_hi;
};

struct evt_cands {
	struct evt_cand *cs_arr;
	uint32_t cs_nr;
	uint32_t cs_cap;
	struct evt_extent cs_range;
};

static int
evt_cand_cb(void *arg, const struct evt_leaf_df *lf)
{
	struct evt_cands *cs = arg;
	struct evt_cand *c;

	if (cs->cs_nr == cs->cs_cap) {
		uint32_t cap = cs->cs_cap == 0 ? 32 : cs->cs_cap * 2;
		struct evt_cand *arr;

		D_REALLOC_ARRAY(arr, cs->cs_arr, cap);
		if (arr == NULL)
			return -DER_NOMEM;
		cs->cs_arr = arr;
		cs->cs_cap = cap;
	}
	c = &cs->cs_arr[cs->cs_nr++];
	evt_leaf_read(&c->c_ent, lf);
	c->c_lo = lf->lf_rect.rd_lo > cs->cs_range.ex_lo ? lf->lf_rect.rd_lo : cs->cs_range.ex_lo;
	c->c_hi = lf->lf_rect.rd_hi < cs->cs_range.ex_hi ? lf->lf_rect.rd_hi : cs->cs_range.ex_hi;
	return 0;
}

/* Newest first: does @a hide @b where both cover an index? */
static bool
evt_cand_newer(const struct evt_cand *a, const struct evt_cand *b)
{
	return evt_epc_newer(a->c_ent.en_rect.rc_epc, a->c_ent.en_rect.rc_minor_epc,
			     b->c_ent.en_rect.rc_epc, b->c_ent.en_rect.rc_minor_epc);
}

/* A maximal run of indexes where one entry is visible; r_idx -1 for an unwritten run. */
struct evt_run {
	uint64_t r_lo;
	uint64_t r_hi;
	int64_t r_idx;
};

struct evt_runs {
	struct evt_run *rs_arr;
	uint32_t rs_nr;
	uint32_t rs_cap;
};

static int
evt_run_add(struct evt_runs *rs, uint64_t lo, uint64_t hi, int64_t idx)
{
	if (rs->rs_nr == rs->rs_cap) {
		uint32_t cap = rs->rs_cap == 0 ? 32 : rs->rs_cap * 2;
		struct evt_run *arr;

		D_REALLOC_ARRAY(arr, rs->rs_arr, cap);
		if (arr == NULL)
			return -DER_NOMEM;
		rs->rs_arr = arr;
		rs->rs_cap = cap;
	}
	rs->rs_arr[rs->rs_nr++] = (struct evt_run){.r_lo = lo, .r_hi = hi, .r_idx = idx};
	return 0;
}

/* Max-heap of candidate indexes, newest on top. */
static void
evt_heap_push(uint32_t *heap, uint32_t *nr, const struct evt_cand *cs, uint32_t idx)
{
	uint32_t i = (*nr)++;

	while (i > 0) {
		uint32_t parent = (i - 1) / 2;

		if (!evt_cand_newer(&cs[idx], &cs[heap[parent]]))
			break;
		heap[i] = heap[parent];
		i = parent;
	}
	heap[i] = idx;
}

static void
evt_heap_pop(uint32_t *heap, uint32_t *nr, const struct evt_cand *cs)
{
	uint32_t last = heap[--(*nr)];
	uint32_t i = 0;

	for (;;) {
		uint32_t child = 2 * i + 1;

		if (child >= *nr)
			break;
		if (child + 1 < *nr && evt_cand_newer(&cs[heap[child + 1]], &cs[heap[child]]))
			child++;
		if (!evt_cand_newer(&cs[heap[child]], &cs[last]))
			break;
		heap[i] = heap[child];
		i = child;
	}
	heap[i] = last;
}

/*
 * Split @range into runs, each visible from one candidate (or from none), in index order.
 * The candidates must be sorted by c_lo.
 */
static int
evt_sweep(const struct evt_cands *cs, const struct evt_extent *range, struct evt_runs *rs)
{
	const struct evt_cand *c = cs->cs_arr;
	uint64_t cur = range->ex_lo;
	uint32_t *heap = NULL;
	uint32_t hnr = 0, i = 0;
	int rc = 0;

	if (cs->cs_nr > 0) {
		D_ALLOC_ARRAY(heap, cs->cs_nr);
		if (heap == NULL)
			return -DER_NOMEM;
	}
	for (;;) {
		uint64_t end;
		uint32_t top, j;

		while (i < cs->cs_nr && c[i].c_lo <= cur)
			evt_heap_push(heap, &hnr, c, i++);
		while (hnr > 0 && c[heap[0]].c_hi < cur)
			evt_heap_pop(heap, &hnr, c);
		if (hnr == 0) {
			if (i == cs->cs_nr) {
				rc = evt_run_add(rs, cur, range->ex_hi, -1);
				break;
			}
			rc = evt_run_add(rs, cur, c[i].c_lo - 1, -1);
			if (rc != 0)
				break;
			cur = c[i].c_lo;
			continue;
		}
		/* the top is visible until it ends or something newer starts */
		top = heap[0];
		end = c[top].c_hi;
		for (j = i; j < cs->cs_nr && c[j].c_lo <= end; j++) {
			if (evt_cand_newer(&c[j], &c[top])) {
				end = c[j].c_lo - 1;
				break;
			}
		}
		rc = evt_run_add(rs, cur, end, top);
		if (rc != 0 || end == range->ex_hi)
			break;
		cur = end + 1;
	}
	D_FREE(heap);
	return rc;
}

static void
evt_frag_fill(struct evt_frag *f, uint64_t lo, uint64_t hi, const struct evt_cand *c, uint32_t vis)
{
	const struct evt_extent *ex;

	memset(f, 0, sizeof(*f));
	f->ef_ext.ex_lo = lo;
	f->ef_ext.ex_hi = hi;
	if (c == NULL) {
		f->ef_vis = EVT_VISIBLE | EVT_HOLE | EVT_UNWRITTEN;
		return;
	}
	ex = &c->c_ent.en_rect.rc_ex;
	f->ef_ent = c->c_ent;
	f->ef_off = lo - ex->ex_lo;
	f->ef_vis = vis;
	if (lo != ex->ex_lo || hi != ex->ex_hi)
		f->ef_vis |= EVT_PARTIAL;
	if (c->c_ent.en_flags & EVT_ENT_HOLE)
		f->ef_vis |= EVT_HOLE;
}

static int
evt_frag_push(struct evt_list *list, uint32_t flags, uint64_t lo, uint64_t hi,
	      const struct evt_cand *c, uint32_t vis)
{
	struct evt_frag *f;

	if ((flags & EVT_FIND_SKIP_HOLES) && (c == NULL || (c->c_ent.en_flags & EVT_ENT_HOLE) != 0))
		return 0;
	f = evt_list_add(list);
	if (f == NULL)
		return -DER_NOMEM;
	evt_frag_fill(f, lo, hi, c, vis);
	return 0;
}

static int
evt_run_idx_cmp(const void *p1, const void *p2)
{
	const struct evt_run *a = p1, *b = p2;

	if (a->r_idx != b->r_idx)
		return a->r_idx < b->r_idx ? -1 : 1;
	return a->r_lo < b->r_lo ? -1 : a->r_lo > b->r_lo;
}

static int
evt_frag_cmp(const void *p1, const void *p2)
{
	const struct evt_frag *a = p1, *b = p2;

	if (a->ef_ext.ex_lo != b->ef_ext.ex_lo)
		return a->ef_ext.ex_lo < b->ef_ext.ex_lo ? -1 : 1;
	if (evt_epc_newer(a->ef_ent.en_rect.rc_epc, a->ef_ent.en_rect.rc_minor_epc,
			  b->ef_ent.en_rect.rc_epc, b->ef_ent.en_rect.rc_minor_epc))
		return -1;
	if (evt_epc_newer(b->ef_ent.en_rect.rc_epc, b->ef_ent.en_rect.rc_minor_epc,
			  a->ef_ent.en_rect.rc_epc, a->ef_ent.en_rect.rc_minor_epc))
		return 1;
	return a->ef_ext.ex_hi < b->ef_ext.ex_hi ? -1 : a->ef_ext.ex_hi > b->ef_ext.ex_hi;
}

/* Add the covered pieces of every candidate: its clipped range minus its visible runs. */
static int
evt_covered_add(const struct evt_cands *cs, struct evt_runs *rs, uint32_t flags,
		struct evt_list *list)
{
	uint32_t c, r = 0;
	int rc;

	if (rs->rs_nr > 1)
		qsort(rs->rs_arr, rs->rs_nr, sizeof(rs->rs_arr[0]), evt_run_idx_cmp);
	while (r < rs->rs_nr && rs->rs_arr[r].r_idx < 0)
		r++;
	for (c = 0; c < cs->cs_nr; c++) {
		const struct evt_cand *cand = &cs->cs_arr[c];
		uint64_t pos = cand->c_lo;
		bool done = false;

		for (; r < rs->rs_nr && rs->rs_arr[r].r_idx == (int64_t)c; r++) {
			const struct evt_run *run = &rs->rs_arr[r];

			if (run->r_lo > pos) {
				rc = evt_frag_push(list, flags, pos, run->r_lo - 1, cand,
						   EVT_COVERED);
				if (rc != 0)
					return rc;
			}
			if (run->r_hi == cand->c_hi)
				done = true;
			else
				pos = run->r_hi + 1;
		}
		if (!done) {
			rc = evt_frag_push(list, flags, pos, cand->c_hi, cand, EVT_COVERED);
			if (rc != 0)
				return rc;
		}
	}
	return 0;
}

/* evt_find, restricted to entries with epoch in [@epc_lo, @epc_hi]. */
static int
evt_find_epr(struct evt_context *tcx, const struct evt_extent *range, uint64_t epc_lo,
	     uint64_t epc_hi, uint32_t flags, struct evt_list *list)
{
	struct evt_cands cs = {.cs_range = *range};
	struct evt_runs rs = {0};
	uint32_t i;
	int rc;

	list->el_nr = 0;
	if (range->ex_lo > range->ex_hi) {
		D_ERROR("evtree find: empty range [%" PRIu64 ", %" PRIu64 "]: " DF_RC "\n",
			range->ex_lo, range->ex_hi, DP_RC(-DER_INVAL));
		return -DER_INVAL;
	}
	rc = evt_scan(tcx, range, epc_lo, epc_hi, evt_cand_cb, &cs);
	if (rc != 0)
		goto out;
	/*
	 * The scan returns key order, sorted by start index; clipping to the range maps start
	 * indexes monotonically, so the candidates stay sorted by c_lo as the sweep needs.
	 */
	rc = evt_sweep(&cs, range, &rs);
	if (rc != 0)
		goto out;
	for (i = 0; i < rs.rs_nr; i++) {
		const struct evt_run *run = &rs.rs_arr[i];

		rc = evt_frag_push(list, flags, run->r_lo, run->r_hi,
				   run->r_idx < 0 ? NULL : &cs.cs_arr[run->r_idx], EVT_VISIBLE);
		if (rc != 0)
			goto out;
	}
	if (flags & EVT_FIND_COVERED) {
		rc = evt_covered_add(&cs, &rs, flags, list);
		if (rc != 0)
			goto out;
		if (list->el_nr > 1)
			qsort(list->el_frags, list->el_nr, sizeof(list->el_frags[0]), evt_frag_cmp);
	}
out:
	if (rc != 0)
		list->el_nr = 0;
	D_FREE(rs.rs_arr);
	D_FREE(cs.cs_arr);
	return rc;
}

int
evt_find(struct evt_context *tcx, const struct evt_extent *range, uint64_t epoch, uint32_t flags,
	 struct evt_list *list)
{
	return evt_find_epr(tcx, range, 0, epoch, flags, list);
}

/*
 * Look for data (not holes) in windows of doubling width, walking down from the top of the
 * tree's bounding rectangle (@down) or up from its bottom. A window query costs
 * O(log n + k), and at most 64 windows cover the whole index space.
 */
static int
evt_edge_visible(struct evt_context *tcx, uint64_t epoch, bool down, uint64_t *idx)
{
	struct evt_child_df sum;
	struct evt_extent win;
	struct evt_list list;
	uint64_t bottom, top, width = 64;
	int rc;

	rc = evt_root_summary(tcx, &sum);
	if (rc != 0)
		return rc;
	bottom = sum.cd_key.rd_lo;
	top = sum.cd_mbr_hi;
	evt_list_init(&list);
	for (;;) {
		if (down) {
			win.ex_hi = top;
			win.ex_lo = top - bottom < width ? bottom : top - width + 1;
		} else {
			win.ex_lo = bottom;
			win.ex_hi = top - bottom < width ? top : bottom + width - 1;
		}
		rc = evt_find_epr(tcx, &win, 0, epoch, EVT_FIND_SKIP_HOLES, &list);
		if (rc != 0)
			break;
		if (list.el_nr > 0) {
			*idx = down ? list.el_frags[list.el_nr - 1].ef_ext.ex_hi
				    : list.el_frags[0].ef_ext.ex_lo;
			break;
		}
		if (down ? win.ex_lo == bottom : win.ex_hi == top) {
			rc = -DER_NONEXIST;
			break;
		}
		if (down)
			top = win.ex_lo - 1;
		else
			bottom = win.ex_hi + 1;
		if (width < (UINT64_C(1) << 62))
			width *= 2;
	}
	evt_list_fini(&list);
	return rc;
}

int
evt_max_visible(struct evt_context *tcx, uint64_t epoch, uint64_t *idx)
{
	return evt_edge_visible(tcx, epoch, true, idx);
}

int
evt_min_visible(struct evt_context *tcx, uint64_t epoch, uint64_t *idx)
{
	return evt_edge_visible(tcx, epoch, false, idx);
}

/*
 * Iterators. An entry iterator keeps the path to its current leaf record and the record's
 * key; a modification through the handle bumps tc_gen, and the iterator then finds its
 * place again by key before moving. A visible iterator walks a list computed by evt_find
 * at probe time; its anchors are the next index to read.
 */
enum evt_iter_state {
	EVT_IT_NONE,
	EVT_IT_AT,
	EVT_IT_END,
};

#define EVT_ANCHOR_MAGIC 0x45564143U /* "EVAC" */
#define EVT_ANCHOR_ENTRY 1
#define EVT_ANCHOR_VISIBLE 2

/* What an anchor holds. */
struct evt_anchor_priv {
	uint32_t ap_magic;
	uint32_t ap_kind;
	struct evt_rect_df ap_key; /* entry: key of the item */
	uint64_t ap_next;          /* visible: first index after the item */
	uint32_t ap_done;          /* visible: the item ended at the last index there is */
	uint32_t ap_pad;
	uint64_t ap_pad2;
};

D_CASSERT(sizeof(struct evt_anchor_priv) == EVT_ANCHOR_SIZE);

struct evt_iter {
	struct evt_context *it_tcx;
	uint32_t it_flags;
	enum evt_iter_state it_state;
	struct evt_filter it_filter;
	uint64_t it_gen;
	/* entry iterator */
	struct {
		struct evt_node_df *nd;
		unsigned int at;
	} it_path[EVT_MAX_DEPTH];
	unsigned int it_depth;
	struct evt_rect it_key;
	/* visible iterator */
	struct evt_list it_list;
	uint32_t it_pos;
};

int
evt_iter_prepare(struct evt_context *tcx, uint32_t flags, const struct evt_filter *filter,
		 struct evt_iter **itp)
{
	struct evt_iter *it;

	if ((flags & ~(EVT_ITER_VISIBLE | EVT_ITER_SKIP_HOLES)) != 0 ||
	    (filter != NULL && (filter->fr_ex.ex_lo > filter->fr_ex.ex_hi ||
				filter->fr_epc_lo > filter->fr_epc_hi))) {
		D_ERROR("evtree iterator: bad flags %#x or filter: " DF_RC "\n", flags,
			DP_RC(-DER_INVAL));
		return -DER_INVAL;
	}
	D_ALLOC_PTR(it);
	if (it == NULL)
		return -DER_NOMEM;
	it->it_tcx = tcx;
	it->it_flags = flags;
	it->it_state = EVT_IT_NONE;
	if (filter != NULL) {
		it->it_filter = *filter;
	} else {
		it->it_filter.fr_ex.ex_hi = UINT64_MAX;
		it->it_filter.fr_epc_hi = UINT64_MAX;
	}
	evt_list_init(&it->it_list);
	*itp = it;
	return 0;
}

void
evt_iter_finish(struct evt_iter *it)
{
	evt_list_fini(&it->it_list);
	D_FREE(it);
}

/* From the current path position, find the first record that passes the filter. */
static int
evt_iter_scan(struct evt_iter *it)
{
	const struct evt_filter *f = &it->it_filter;
	unsigned int depth = it->it_depth;
	unsigned int level = depth - 1;
	int rc;

	for (;;) {
		struct evt_node_df *nd = it->it_path[level].nd;
		unsigned int at = it->it_path[level].at;

		if (at >= nd->nd_nr) {
			if (level == 0)
				break;
			level--;
			it->it_path[level].at++;
			continue;
		}
		if (level + 1 == depth) {
			const struct evt_rect_df *rd = &evt_node_leaf(nd, at)->lf_rect;

			if (rd->rd_lo > f->fr_ex.ex_hi)
				break;
			if (rd->rd_hi >= f->fr_ex.ex_lo && rd->rd_epc >= f->fr_epc_lo &&
			    rd->rd_epc <= f->fr_epc_hi) {
				evt_rect_read(&it->it_key, rd);
				it->it_state = EVT_IT_AT;
				return 0;
			}
			it->it_path[level].at++;
			continue;
		}
		{
			const struct evt_child_df *cd = evt_node_child(nd, at);

			if (cd->cd_key.rd_lo > f->fr_ex.ex_hi)
				break;
			if (cd->cd_mbr_hi < f->fr_ex.ex_lo || cd->cd_epc_lo > f->fr_epc_hi ||
			    cd->cd_epc_hi < f->fr_epc_lo) {
				it->it_path[level].at++;
				continue;
			}
			rc = evt_node_load(it->it_tcx, cd->cd_node, level + 1,
					   &it->it_path[level + 1].nd);
			if (rc != 0) {
				it->it_state = EVT_IT_NONE;
				return rc;
			}
			it->it_path[level + 1].at = 0;
			level++;
		}
	}
	it->it_state = EVT_IT_END;
	return -DER_NONEXIST;
}

/*
 * Position an entry iterator at the first record with key > @key (@strict) or >= @key,
 * or at the first record when @key is NULL, that passes the filter.
 */
static int
evt_iter_seek(struct evt_iter *it, const struct evt_rect *key, bool strict)
{
	struct evt_context *tcx = it->it_tcx;
	unsigned int depth = tcx->tc_root->tr_depth;
	umem_off_t off = tcx->tc_root->tr_node;
	unsigned int level;
	int rc;

	it->it_gen = tcx->tc_gen;
	it->it_depth = depth;
	if (depth == 0) {
		it->it_state = EVT_IT_END;
		return -DER_NONEXIST;
	}
	for (level = 0; level < depth; level++) {
		struct evt_node_df *nd;
		unsigned int at = 0;
		bool found = false;

		rc = evt_node_load(tcx, off, level, &nd);
		if (rc != 0) {
			it->it_state = EVT_IT_NONE;
			return rc;
		}
		it->it_path[level].nd = nd;
		if (level + 1 < depth) {
			if (key != NULL)
				at = evt_child_search(nd, key);
			if (at >= nd->nd_nr) {
				D_ERROR("evtree iterator: empty node at level %u\n", level);
				it->it_state = EVT_IT_NONE;
				return -DER_DF_INVAL;
			}
			off = evt_node_child(nd, at)->cd_node;
		} else if (key != NULL) {
			at = evt_leaf_search(nd, key, &found);
			if (found && strict)
				at++;
		}
		it->it_path[level].at = at;
	}
	return evt_iter_scan(it);
}

/* Compute the visible list from index @start. */
static int
evt_iter_visible_load(struct evt_iter *it, uint64_t start)
{
	const struct evt_filter *f = &it->it_filter;
	struct evt_extent range;
	int rc;

	it->it_pos = 0;
	it->it_list.el_nr = 0;
	if (start > f->fr_ex.ex_hi) {
		it->it_state = EVT_IT_END;
		return -DER_NONEXIST;
	}
	range.ex_lo = start > f->fr_ex.ex_lo ? start : f->fr_ex.ex_lo;
	range.ex_hi = f->fr_ex.ex_hi;
	rc = evt_find_epr(it->it_tcx, &range, f->fr_epc_lo, f->fr_epc_hi,
			  (it->it_flags & EVT_ITER_SKIP_HOLES) ? EVT_FIND_SKIP_HOLES : 0,
			  &it->it_list);
	if (rc != 0) {
		it->it_state = EVT_IT_NONE;
		return rc;
	}
	if (it->it_list.el_nr == 0) {
		it->it_state = EVT_IT_END;
		return -DER_NONEXIST;
	}
	it->it_state = EVT_IT_AT;
	return 0;
}

int
evt_iter_probe(struct evt_iter *it, const struct evt_anchor *anchor)
{
	bool visible = (it->it_flags & EVT_ITER_VISIBLE) != 0;
	struct evt_anchor_priv ap;
	struct evt_rect key;

	if (anchor == NULL) {
		if (visible)
			return evt_iter_visible_load(it, it->it_filter.fr_ex.ex_lo);
		return evt_iter_seek(it, NULL, false);
	}
	/* the caller's buffer has no alignment to rely on */
	memcpy(&ap, anchor->ea_data, sizeof(ap));
	if (ap.ap_magic != EVT_ANCHOR_MAGIC ||
	    ap.ap_kind != (visible ? EVT_ANCHOR_VISIBLE : EVT_ANCHOR_ENTRY)) {
		D_ERROR("evtree iterator: anchor of another kind: " DF_RC "\n", DP_RC(-DER_INVAL));
		return -DER_INVAL;
	}
	if (visible) {
		if (ap.ap_done) {
			it->it_state = EVT_IT_END;
			return -DER_NONEXIST;
		}
		return evt_iter_visible_load(it, ap.ap_next);
	}
	evt_rect_read(&key, &ap.ap_key);
	return evt_iter_seek(it, &key, true);
}

int
evt_iter_next(struct evt_iter *it)
{
	if (it->it_state != EVT_IT_AT)
		return -DER_NONEXIST;
	if (it->it_flags & EVT_ITER_VISIBLE) {
		if (++it->it_pos >= it->it_list.el_nr) {
			it->it_state = EVT_IT_END;
			return -DER_NONEXIST;
		}
		return 0;
	}
	if (it->it_gen != it->it_tcx->tc_gen) {
		struct evt_rect key = it->it_key;

		return evt_iter_seek(it, &key, true);
	}
	it->it_path[it->it_depth - 1].at++;
	return evt_iter_scan(it);
}

int
evt_iter_fetch(struct evt_iter *it, struct evt_frag *frag, struct evt_anchor *anchor)
{
	struct evt_anchor_priv ap;
	int rc;

	if (it->it_state != EVT_IT_AT)
		return -DER_NONEXIST;
	memset(&ap, 0, sizeof(ap));
	ap.ap_magic = EVT_ANCHOR_MAGIC;
	if (it->it_flags & EVT_ITER_VISIBLE) {
		*frag = it->it_list.el_frags[it->it_pos];
		ap.ap_kind = EVT_ANCHOR_VISIBLE;
		if (frag->ef_ext.ex_hi == UINT64_MAX)
			ap.ap_done = 1;
		else
			ap.ap_next = frag->ef_ext.ex_hi + 1;
	} else {
		const struct evt_filter *f = &it->it_filter;
		struct evt_node_df *nd;
		struct evt_cand c;

		if (it->it_gen != it->it_tcx->tc_gen) {
			struct evt_rect key = it->it_key;

			rc = evt_iter_seek(it, &key, false);
			if (rc != 0)
				return rc;
		}
		nd = it->it_path[it->it_depth - 1].nd;
		evt_leaf_read(&c.c_ent, evt_node_leaf(nd, it->it_path[it->it_depth - 1].at));
		c.c_lo = c.c_ent.en_rect.rc_ex.ex_lo > f->fr_ex.ex_lo ? c.c_ent.en_rect.rc_ex.ex_lo
								      : f->fr_ex.ex_lo;
		c.c_hi = c.c_ent.en_rect.rc_ex.ex_hi < f->fr_ex.ex_hi ? c.c_ent.en_rect.rc_ex.ex_hi
								      : f->fr_ex.ex_hi;
		evt_frag_fill(frag, c.c_lo, c.c_hi, &c, 0);
		ap.ap_kind = EVT_ANCHOR_ENTRY;
		ap.ap_key.rd_lo = it->it_key.rc_ex.ex_lo;
		ap.ap_key.rd_hi = it->it_key.rc_ex.ex_hi;
		ap.ap_key.rd_epc = it->it_key.rc_epc;
		ap.ap_key.rd_minor_epc = it->it_key.rc_minor_epc;
	}
	if (anchor != NULL)
		memcpy(anchor->ea_data, &ap, sizeof(ap));
	return 0;
}
