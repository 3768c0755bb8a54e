/*
 * test_evtree.c: the extent tree (evtree) over the umem heap.
 *
 * The central check is a model: seeded random inserts (data and punches, overlapping,
 * several epochs and minor epochs), replacements and deletes, and after every few steps
 * reads at random epochs and ranges compared index by index with a brute-force scan of all
 * live entries. Around it: hand-written cases for overlaps, splits, holes and minor epochs;
 * iterators and anchors across modifications; tiny orders; destroy returning all space;
 * abort of an outer transaction; every allocation failed in turn. The heap's store applies
 * the redo records to a replica image, which must equal the heap: a change made without
 * umem_tx_add would show up there.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <gurt/common.h>
#include <daos_srv/umem.h>
#include <daos_srv/evtree.h>
#include <d_test.h>

#include "vos_internal.h"

#define SPACE 1000 /* index space of the random tests */
#define MAX_EPOCH 50
#define HEAP_SIZE (32UL << 20)
/* small enough to compare with its replica after every few operations */
#define SMALL_HEAP (UMEM_HEAP_MIN * 4)

struct replica {
	char *image;
	size_t size;
	uint64_t records;
};

static int
replica_commit(void *arg, const struct umem_redo *redo, uint64_t *lsn)
{
	struct replica *r = arg;

	assert_int_equal(umem_redo_apply(r->image, r->size, redo), 0);
	*lsn = ++r->records;
	return 0;
}

static const struct umem_store_ops replica_ops = {.so_commit = replica_commit};

struct env {
	struct umem_instance *umm;
	struct replica rep;
	struct evt_root_df *root;
	struct evt_context *tcx;
	unsigned int order;
};

static void
env_init(struct env *e, size_t heap, unsigned int order, bool replica)
{
	memset(e, 0, sizeof(*e));
	e->order = order;
	if (replica) {
		e->rep.size = heap;
		e->rep.image = malloc(heap);
		assert_non_null(e->rep.image);
	}
	assert_int_equal(umem_create(heap, sizeof(struct evt_root_df) + 64,
				     replica ? &replica_ops : NULL, replica ? &e->rep : NULL,
				     &e->umm),
			 0);
	if (replica)
		memcpy(e->rep.image, umem_base(e->umm), heap);
	e->root = umem_off2ptr(e->umm, umem_root(e->umm));
	assert_int_equal(evt_create_inplace(e->root, order, e->umm, &e->tcx), 0);
}

static void
env_fini(struct env *e)
{
	if (e->tcx != NULL)
		evt_close(e->tcx);
	umem_close(e->umm);
	free(e->rep.image);
}

/* The replica built from redo records equals the heap, free space aside. */
static char *cmp_a, *cmp_b; /* reused: fresh pages each call would dominate the run time */
static size_t cmp_cap;

static void
replica_check(struct env *e)
{
	if (e->rep.image == NULL)
		return;
	if (cmp_cap < e->rep.size) {
		free(cmp_a);
		free(cmp_b);
		cmp_a = malloc(e->rep.size);
		cmp_b = malloc(e->rep.size);
		assert_non_null(cmp_a);
		assert_non_null(cmp_b);
		cmp_cap = e->rep.size;
	}
	memcpy(cmp_a, e->rep.image, e->rep.size);
	memcpy(cmp_b, umem_base(e->umm), e->rep.size);
	assert_int_equal(umem_image_zero_free(cmp_a, e->rep.size), 0);
	assert_int_equal(umem_image_zero_free(cmp_b, e->rep.size), 0);
	assert_true(memcmp(cmp_a, cmp_b, e->rep.size) == 0);
}

static void
tree_check(struct env *e)
{
	struct evt_stat st;

	assert_int_equal(evt_check(e->tcx, &st), 0);
	assert_int_equal(st.es_entries, evt_count(e->tcx));
}

/* ---- the model: every live entry, scanned by brute force ---- */

struct model {
	struct evt_entry *ents;
	int nr;
	int cap;
};

static void
model_fini(struct model *m)
{
	free(m->ents);
	memset(m, 0, sizeof(*m));
}

static bool
rect_eq(const struct evt_rect *a, const struct evt_rect *b)
{
	return a->rc_ex.ex_lo == b->rc_ex.ex_lo && a->rc_ex.ex_hi == b->rc_ex.ex_hi &&
	       a->rc_epc == b->rc_epc && a->rc_minor_epc == b->rc_minor_epc;
}

static bool
ent_eq(const struct evt_entry *a, const struct evt_entry *b)
{
	return rect_eq(&a->en_rect, &b->en_rect) && a->en_flags == b->en_flags &&
	       memcmp(&a->en_payload, &b->en_payload, sizeof(a->en_payload)) == 0;
}

/* Field by field: the structs have padding. */
static bool
frag_eq(const struct evt_frag *a, const struct evt_frag *b)
{
	return a->ef_ext.ex_lo == b->ef_ext.ex_lo && a->ef_ext.ex_hi == b->ef_ext.ex_hi &&
	       a->ef_off == b->ef_off && a->ef_vis == b->ef_vis && ent_eq(&a->ef_ent, &b->ef_ent);
}

static int
model_find(const struct model *m, const struct evt_rect *r)
{
	int i;

	for (i = 0; i < m->nr; i++)
		if (rect_eq(&m->ents[i].en_rect, r))
			return i;
	return -1;
}

static void
model_add(struct model *m, const struct evt_entry *ent)
{
	if (m->nr == m->cap) {
		m->cap = m->cap == 0 ? 256 : m->cap * 2;
		m->ents = realloc(m->ents, (size_t)m->cap * sizeof(m->ents[0]));
		assert_non_null(m->ents);
	}
	m->ents[m->nr++] = *ent;
}

static void
model_del(struct model *m, int idx)
{
	m->ents[idx] = m->ents[--m->nr];
}

static bool
newer(const struct evt_rect *a, const struct evt_rect *b)
{
	return a->rc_epc > b->rc_epc ||
	       (a->rc_epc == b->rc_epc && a->rc_minor_epc > b->rc_minor_epc);
}

/* best[x - lo]: the model entry a read at @epoch sees at index x, or -1. */
static void
model_best(const struct model *m, uint64_t lo, uint64_t hi, uint64_t epoch, int *best)
{
	uint64_t x;
	int i;

	for (x = lo; x <= hi; x++)
		best[x - lo] = -1;
	for (i = 0; i < m->nr; i++) {
		const struct evt_rect *r = &m->ents[i].en_rect;
		uint64_t a, b;

		if (r->rc_epc > epoch || r->rc_ex.ex_hi < lo || r->rc_ex.ex_lo > hi)
			continue;
		a = r->rc_ex.ex_lo > lo ? r->rc_ex.ex_lo : lo;
		b = r->rc_ex.ex_hi < hi ? r->rc_ex.ex_hi : hi;
		for (x = a; x <= b; x++) {
			int *p = &best[x - lo];

			if (*p < 0 || newer(r, &m->ents[*p].en_rect))
				*p = i;
		}
	}
}

/* The key order the tree documents: start up, newest first, end up. */
static int
key_cmp(const struct evt_rect *a, const struct evt_rect *b)
{
	if (a->rc_ex.ex_lo != b->rc_ex.ex_lo)
		return a->rc_ex.ex_lo < b->rc_ex.ex_lo ? -1 : 1;
	if (newer(a, b))
		return -1;
	if (newer(b, a))
		return 1;
	if (a->rc_ex.ex_hi != b->rc_ex.ex_hi)
		return a->rc_ex.ex_hi < b->rc_ex.ex_hi ? -1 : 1;
	return 0;
}

static int
ent_key_cmp(const void *p1, const void *p2)
{
	return key_cmp(&((const struct evt_entry *)p1)->en_rect,
		       &((const struct evt_entry *)p2)->en_rect);
}

/* Check one fragment against its entry: offset, partial and hole flags. */
static void
frag_entry_check(const struct model *m, const struct evt_frag *f, int *idx)
{
	const struct evt_extent *ex = &f->ef_ent.en_rect.rc_ex;
	bool partial = f->ef_ext.ex_lo != ex->ex_lo || f->ef_ext.ex_hi != ex->ex_hi;

	*idx = model_find(m, &f->ef_ent.en_rect);
	assert_true(*idx >= 0);
	assert_true(ent_eq(&m->ents[*idx], &f->ef_ent));
	assert_true(f->ef_ext.ex_lo >= ex->ex_lo && f->ef_ext.ex_hi <= ex->ex_hi);
	assert_true(f->ef_ext.ex_lo <= f->ef_ext.ex_hi);
	assert_int_equal(f->ef_off, f->ef_ext.ex_lo - ex->ex_lo);
	assert_int_equal(!!(f->ef_vis & EVT_PARTIAL), partial);
	assert_int_equal(!!(f->ef_vis & EVT_HOLE), !!(f->ef_ent.en_flags & EVT_ENT_HOLE));
	assert_false(f->ef_vis & EVT_UNWRITTEN);
}

/* evt_find of [lo, hi] at @epoch against the model, index by index. */
static void
check_find(struct env *e, const struct model *m, uint64_t lo, uint64_t hi, uint64_t epoch,
	   uint32_t flags)
{
	uint64_t width = hi - lo + 1, x;
	struct evt_list list;
	uint8_t *seen;
	int *best;
	uint32_t i;

	best = malloc(width * sizeof(*best));
	assert_non_null(best);
	model_best(m, lo, hi, epoch, best);
	evt_list_init(&list);
	assert_int_equal(evt_find(e->tcx, &(struct evt_extent){lo, hi}, epoch, flags, &list), 0);

	if (flags & EVT_FIND_COVERED) {
		/* every (entry, index) pair at or below the epoch appears exactly once */
		seen = calloc((size_t)(m->nr + 1) * width, 1);
		assert_non_null(seen);
		for (i = 0; i < list.el_nr; i++) {
			const struct evt_frag *f = &list.el_frags[i];
			int idx = -1;

			if (i > 0) {
				const struct evt_frag *p = &list.el_frags[i - 1];

				assert_true(p->ef_ext.ex_lo <= f->ef_ext.ex_lo);
			}
			assert_true(f->ef_ext.ex_lo >= lo && f->ef_ext.ex_hi <= hi);
			if (f->ef_vis & EVT_UNWRITTEN) {
				assert_false(flags & EVT_FIND_SKIP_HOLES);
				for (x = f->ef_ext.ex_lo; x <= f->ef_ext.ex_hi; x++)
					assert_int_equal(best[x - lo], -1);
				continue;
			}
			frag_entry_check(m, f, &idx);
			assert_true(m->ents[idx].en_rect.rc_epc <= epoch);
			assert_int_equal(
			    __builtin_popcount(f->ef_vis & (EVT_VISIBLE | EVT_COVERED)), 1);
			for (x = f->ef_ext.ex_lo; x <= f->ef_ext.ex_hi; x++) {
				uint8_t *s = &seen[(size_t)idx * width + (x - lo)];

				assert_int_equal(*s, 0);
				*s = 1;
				assert_int_equal(!!(f->ef_vis & EVT_VISIBLE), best[x - lo] == idx);
			}
		}
		for (i = 0; i < (uint32_t)m->nr; i++) {
			const struct evt_entry *ent = &m->ents[i];
			uint64_t a, b;

			if (ent->en_rect.rc_epc > epoch || ent->en_rect.rc_ex.ex_hi < lo ||
			    ent->en_rect.rc_ex.ex_lo > hi)
				continue;
			if ((flags & EVT_FIND_SKIP_HOLES) && (ent->en_flags & EVT_ENT_HOLE))
				continue;
			a = ent->en_rect.rc_ex.ex_lo > lo ? ent->en_rect.rc_ex.ex_lo : lo;
			b = ent->en_rect.rc_ex.ex_hi < hi ? ent->en_rect.rc_ex.ex_hi : hi;
			for (x = a; x <= b; x++)
				assert_int_equal(seen[(size_t)i * width + (x - lo)], 1);
		}
		free(seen);
	} else {
		uint64_t next = lo;

		seen = calloc(width, 1);
		assert_non_null(seen);
		for (i = 0; i < list.el_nr; i++) {
			const struct evt_frag *f = &list.el_frags[i];
			int idx = -1;

			assert_true(f->ef_vis & EVT_VISIBLE);
			assert_true(f->ef_ext.ex_lo >= next && f->ef_ext.ex_hi <= hi);
			if (!(flags & EVT_FIND_SKIP_HOLES))
				assert_int_equal(f->ef_ext.ex_lo, next);
			if (i > 0 && list.el_frags[i - 1].ef_ext.ex_hi + 1 == f->ef_ext.ex_lo)
				/* maximal: neighbours come from different entries */
				assert_false(rect_eq(&list.el_frags[i - 1].ef_ent.en_rect,
						     &f->ef_ent.en_rect));
			next = f->ef_ext.ex_hi + 1;
			if (f->ef_vis & EVT_UNWRITTEN) {
				assert_false(flags & EVT_FIND_SKIP_HOLES);
				assert_true(f->ef_vis & EVT_HOLE);
				for (x = f->ef_ext.ex_lo; x <= f->ef_ext.ex_hi; x++)
					assert_int_equal(best[x - lo], -1);
			} else {
				frag_entry_check(m, f, &idx);
				if (flags & EVT_FIND_SKIP_HOLES)
					assert_false(f->ef_vis & EVT_HOLE);
				for (x = f->ef_ext.ex_lo; x <= f->ef_ext.ex_hi; x++)
					assert_int_equal(best[x - lo], idx);
			}
			for (x = f->ef_ext.ex_lo; x <= f->ef_ext.ex_hi; x++)
				seen[x - lo] = 1;
		}
		if (!(flags & EVT_FIND_SKIP_HOLES))
			assert_int_equal(next, hi + 1);
		for (x = lo; x <= hi; x++)
			if (!seen[x - lo])
				assert_true(best[x - lo] < 0 ||
					    (m->ents[best[x - lo]].en_flags & EVT_ENT_HOLE));
		free(seen);
	}
	evt_list_fini(&list);
	free(best);
}

/* evt_max_visible / evt_min_visible against the model. */
static void
check_edges(struct env *e, const struct model *m, uint64_t epoch)
{
	int best[SPACE];
	int64_t max = -1, min = -1, x;
	uint64_t idx;
	int rc;

	model_best(m, 0, SPACE - 1, epoch, best);
	for (x = 0; x < SPACE; x++) {
		if (best[x] >= 0 && !(m->ents[best[x]].en_flags & EVT_ENT_HOLE)) {
			if (min < 0)
				min = x;
			max = x;
		}
	}
	rc = evt_max_visible(e->tcx, epoch, &idx);
	if (max < 0) {
		assert_int_equal(rc, -DER_NONEXIST);
	} else {
		assert_int_equal(rc, 0);
		assert_int_equal(idx, (uint64_t)max);
	}
	rc = evt_min_visible(e->tcx, epoch, &idx);
	if (min < 0) {
		assert_int_equal(rc, -DER_NONEXIST);
	} else {
		assert_int_equal(rc, 0);
		assert_int_equal(idx, (uint64_t)min);
	}
}

/* Every entry, through an unfiltered entry iterator, equals the model in key order. */
static void
check_content(struct env *e, struct model *m)
{
	struct evt_iter *it;
	struct evt_frag f;
	int i = 0, rc;

	qsort(m->ents, (size_t)m->nr, sizeof(m->ents[0]), ent_key_cmp);
	assert_int_equal(evt_count(e->tcx), (uint64_t)m->nr);
	assert_int_equal(evt_iter_prepare(e->tcx, 0, NULL, &it), 0);
	for (rc = evt_iter_probe(it, NULL); rc == 0; rc = evt_iter_next(it)) {
		assert_int_equal(evt_iter_fetch(it, &f, NULL), 0);
		assert_true(i < m->nr);
		assert_true(ent_eq(&f.ef_ent, &m->ents[i]));
		i++;
	}
	assert_int_equal(rc, -DER_NONEXIST);
	assert_int_equal(i, m->nr);
	evt_iter_finish(it);
}

/* ---- random operations ---- */

static struct evt_entry
mk_ent(uint64_t lo, uint64_t hi, uint64_t epc, uint16_t minor, bool hole, uint64_t id)
{
	struct evt_entry ent;

	memset(&ent, 0, sizeof(ent));
	ent.en_rect.rc_ex.ex_lo = lo;
	ent.en_rect.rc_ex.ex_hi = hi;
	ent.en_rect.rc_epc = epc;
	ent.en_rect.rc_minor_epc = minor;
	ent.en_flags = hole ? EVT_ENT_HOLE : 0;
	ent.en_payload.pd_addr = hole ? 0 : id;
	ent.en_payload.pd_rsize = hole ? 0 : 8;
	ent.en_payload.pd_ver = (uint32_t)id;
	return ent;
}

/* What evt_insert should say about @ent: 0, 1 (replace, *same set) or a refusal. */
static int
model_expect_insert(const struct model *m, const struct evt_entry *ent, int *same)
{
	const struct evt_rect *r = &ent->en_rect;
	int i;

	*same = -1;
	for (i = 0; i < m->nr; i++) {
		const struct evt_rect *o = &m->ents[i].en_rect;

		if (o->rc_epc != r->rc_epc || o->rc_minor_epc != r->rc_minor_epc ||
		    o->rc_ex.ex_hi < r->rc_ex.ex_lo || o->rc_ex.ex_lo > r->rc_ex.ex_hi)
			continue;
		if (rect_eq(o, r)) {
			*same = i;
			return 1;
		}
		return -DER_VOS_PARTIAL_UPDATE;
	}
	return 0;
}

static struct evt_entry
random_ent(uint64_t *rng, const struct model *m, uint64_t id)
{
	uint64_t lo, len, hi, epc;
	bool hole = d_test_rand(rng) % 100 < 15;

	if (m->nr > 0 && d_test_rand(rng) % 10 == 0) {
		/* the same rectangle again: a replacement */
		struct evt_entry ent = m->ents[d_test_rand(rng) % (uint64_t)m->nr];
		struct evt_rect r = ent.en_rect;

		return mk_ent(r.rc_ex.ex_lo, r.rc_ex.ex_hi, r.rc_epc, r.rc_minor_epc, hole, id);
	}
	lo = d_test_rand(rng) % SPACE;
	len = d_test_rand(rng) % 10 == 0 ? 1 + d_test_rand(rng) % SPACE : 1 + d_test_rand(rng) % 40;
	hi = lo + len - 1 < SPACE - 1 ? lo + len - 1 : SPACE - 1;
	epc = 1 + d_test_rand(rng) % MAX_EPOCH;
	return mk_ent(lo, hi, epc, (uint16_t)(d_test_rand(rng) % 3), hole, id);
}

/*
 * One random insert or delete, applied to the tree and the model. With @may_fail, an
 * error of @fail_rc leaves the model alone (the operation must have had no effect).
 * Returns the operation's result.
 */
static int
random_op(struct env *e, struct model *m, uint64_t *rng, uint64_t *id, bool may_fail, int fail_rc,
	  int max_live)
{
	uint64_t r = d_test_rand(rng) % 100;
	int rc;

	if (m->nr > 0 && (r < 25 || m->nr >= max_live)) {
		int idx = (int)(d_test_rand(rng) % (uint64_t)m->nr);
		struct evt_entry out;

		rc = evt_delete(e->tcx, &m->ents[idx].en_rect, &out);
		if (may_fail && rc == fail_rc)
			return rc;
		assert_int_equal(rc, 0);
		assert_true(ent_eq(&out, &m->ents[idx]));
		model_del(m, idx);
	} else if (r < 28) {
		/* a rectangle nobody wrote */
		struct evt_entry ent = mk_ent(5, 7, MAX_EPOCH + 10, 9, false, 0);

		rc = evt_delete(e->tcx, &ent.en_rect, NULL);
		assert_int_equal(rc, -DER_NONEXIST);
	} else {
		struct evt_entry ent = random_ent(rng, m, ++*id);
		struct evt_entry old;
		int same, expect;

		expect = model_expect_insert(m, &ent, &same);
		rc = evt_insert(e->tcx, &ent, &old);
		if (may_fail && rc == fail_rc)
			return rc;
		assert_int_equal(rc, expect);
		if (rc == 1) {
			assert_true(ent_eq(&old, &m->ents[same]));
			m->ents[same] = ent;
		} else if (rc == 0) {
			model_add(m, &ent);
		}
	}
	return 0;
}

static void
random_queries(struct env *e, const struct model *m, uint64_t *rng)
{
	int q;

	for (q = 0; q < 3; q++) {
		uint64_t lo = d_test_rand(rng) % SPACE;
		uint64_t hi = lo + d_test_rand(rng) % (SPACE - lo);
		uint64_t epoch = d_test_rand(rng) % (MAX_EPOCH + 3);
		uint32_t flags = (uint32_t)(d_test_rand(rng) % 4);

		if ((flags & EVT_FIND_COVERED) && hi - lo > 300)
			hi = lo + 300;
		check_find(e, m, lo, hi, epoch, flags);
	}
	/* beyond the written space */
	check_find(e, m, SPACE - 5, SPACE + 20, MAX_EPOCH, 0);
}

/* ---- tests ---- */

static void
find_expect(struct env *e, uint64_t lo, uint64_t hi, uint64_t epoch, uint32_t flags,
	    const struct evt_frag *want, uint32_t nr)
{
	struct evt_list list;
	uint32_t i;

	evt_list_init(&list);
	assert_int_equal(evt_find(e->tcx, &(struct evt_extent){lo, hi}, epoch, flags, &list), 0);
	for (i = 0; i < list.el_nr && i < nr; i++) {
		const struct evt_frag *f = &list.el_frags[i];

		if (f->ef_ext.ex_lo != want[i].ef_ext.ex_lo ||
		    f->ef_ext.ex_hi != want[i].ef_ext.ex_hi || f->ef_vis != want[i].ef_vis ||
		    f->ef_off != want[i].ef_off ||
		    f->ef_ent.en_payload.pd_addr != want[i].ef_ent.en_payload.pd_addr)
			fail_msg("fragment %u: [%" PRIu64 ", %" PRIu64 "] vis %#x off %" PRIu64
				 " id %" PRIu64 ", want [%" PRIu64 ", %" PRIu64
				 "] vis %#x off %" PRIu64 " id %" PRIu64,
				 i, f->ef_ext.ex_lo, f->ef_ext.ex_hi, f->ef_vis, f->ef_off,
				 f->ef_ent.en_payload.pd_addr, want[i].ef_ext.ex_lo,
				 want[i].ef_ext.ex_hi, want[i].ef_vis, want[i].ef_off,
				 want[i].ef_ent.en_payload.pd_addr);
	}
	assert_int_equal(list.el_nr, nr);
	evt_list_fini(&list);
}

#define FRAG(lo, hi, vis, off, id)                                                                 \
	{                                                                                          \
		.ef_ext = {(lo), (hi)}, .ef_off = (off), .ef_vis = (vis), .ef_ent = {              \
			.en_payload = {.pd_addr = (id)}                                            \
		}                                                                                  \
	}
#define V EVT_VISIBLE
#define C EVT_COVERED
#define P EVT_PARTIAL
#define GAP (EVT_VISIBLE | EVT_HOLE | EVT_UNWRITTEN)

static void
ins(struct env *e, uint64_t lo, uint64_t hi, uint64_t epc, uint16_t minor, bool hole, uint64_t id)
{
	struct evt_entry ent = mk_ent(lo, hi, epc, minor, hole, id);

	assert_int_equal(evt_insert(e->tcx, &ent, NULL), 0);
}

/* Overlapping writes, partial and full covering, punches, minor epochs: by hand. */
static void
t_evt_basic(void **state)
{
	struct env e;
	(void)state;

	env_init(&e, HEAP_SIZE, 8, true);
	/* an empty tree reads as unwritten */
	{
		struct evt_frag w[] = {FRAG(0, 9, GAP, 0, 0)};

		find_expect(&e, 0, 9, 100, 0, w, 1);
		find_expect(&e, 0, 9, 100, EVT_FIND_SKIP_HOLES, w, 0);
	}
	/* overlap: [0,99]@1 then [50,149]@2 */
	ins(&e, 0, 99, 1, 0, false, 1);
	ins(&e, 50, 149, 2, 0, false, 2);
	{
		struct evt_frag w[] = {FRAG(0, 49, V | P, 0, 1), FRAG(50, 149, V, 0, 2),
				       FRAG(150, 199, GAP, 0, 0)};
		struct evt_frag w1[] = {FRAG(0, 99, V, 0, 1), FRAG(100, 199, GAP, 0, 0)};
		struct evt_frag w0[] = {FRAG(0, 199, GAP, 0, 0)};
		struct evt_frag wc[] = {FRAG(0, 49, V | P, 0, 1), FRAG(50, 149, V, 0, 2),
					FRAG(50, 99, C | P, 50, 1), FRAG(150, 199, GAP, 0, 0)};
		struct evt_frag wq[] = {FRAG(60, 70, V | P, 10, 2)};

		find_expect(&e, 0, 199, 2, 0, w, 3);
		find_expect(&e, 0, 199, 1, 0, w1, 2);
		find_expect(&e, 0, 199, 0, 0, w0, 1);
		find_expect(&e, 0, 199, 5, EVT_FIND_COVERED, wc, 4);
		find_expect(&e, 60, 70, 2, 0, wq, 1);
	}
	/* split of a partially covered extent: [200,299]@1, [240,259]@2 */
	ins(&e, 200, 299, 1, 0, false, 3);
	ins(&e, 240, 259, 2, 0, false, 4);
	{
		struct evt_frag w[] = {FRAG(200, 239, V | P, 0, 3), FRAG(240, 259, V, 0, 4),
				       FRAG(260, 299, V | P, 60, 3)};
		struct evt_frag wc[] = {FRAG(200, 239, V | P, 0, 3), FRAG(240, 259, V, 0, 4),
					FRAG(240, 259, C | P, 40, 3), FRAG(260, 299, V | P, 60, 3)};

		find_expect(&e, 200, 299, 3, 0, w, 3);
		find_expect(&e, 200, 299, 3, EVT_FIND_COVERED, wc, 4);
	}
	/* fully covered: [310,319]@1 under [300,399]@2 */
	ins(&e, 310, 319, 1, 0, false, 5);
	ins(&e, 300, 399, 2, 0, false, 6);
	{
		struct evt_frag w[] = {FRAG(300, 399, V, 0, 6)};
		struct evt_frag wc[] = {FRAG(300, 399, V, 0, 6), FRAG(310, 319, C, 0, 5)};
		struct evt_frag w1[] = {FRAG(300, 309, GAP, 0, 0), FRAG(310, 319, V, 0, 5),
					FRAG(320, 399, GAP, 0, 0)};

		find_expect(&e, 300, 399, 2, 0, w, 1);
		find_expect(&e, 300, 399, 2, EVT_FIND_COVERED, wc, 2);
		find_expect(&e, 300, 399, 1, 0, w1, 3);
	}
	/* a punch hides what is older; a newer write shows through it */
	ins(&e, 400, 499, 1, 0, false, 7);
	ins(&e, 420, 429, 2, 0, true, 0);
	ins(&e, 425, 426, 3, 0, false, 8);
	{
		struct evt_frag w2[] = {FRAG(400, 419, V | P, 0, 7),
					FRAG(420, 429, V | EVT_HOLE, 0, 0),
					FRAG(430, 499, V | P, 30, 7)};
		struct evt_frag w3[] = {
		    FRAG(400, 419, V | P, 0, 7),  FRAG(420, 424, V | P | EVT_HOLE, 0, 0),
		    FRAG(425, 426, V, 0, 8),      FRAG(427, 429, V | P | EVT_HOLE, 7, 0),
		    FRAG(430, 499, V | P, 30, 7),
		};
		struct evt_frag ws[] = {FRAG(400, 419, V | P, 0, 7), FRAG(425, 426, V, 0, 8),
					FRAG(430, 499, V | P, 30, 7)};

		find_expect(&e, 400, 499, 2, 0, w2, 3);
		find_expect(&e, 400, 499, 3, 0, w3, 5);
		find_expect(&e, 400, 499, 3, EVT_FIND_SKIP_HOLES, ws, 3);
	}
	/* minor epochs order writes inside one epoch */
	ins(&e, 500, 509, 5, 1, false, 9);
	ins(&e, 505, 514, 5, 2, false, 10);
	{
		struct evt_frag w[] = {FRAG(500, 504, V | P, 0, 9), FRAG(505, 514, V, 0, 10)};
		struct evt_entry same = mk_ent(500, 509, 5, 1, false, 11);
		struct evt_entry part = mk_ent(503, 507, 5, 1, false, 12);
		struct evt_entry old;
		struct evt_frag w2[] = {FRAG(500, 504, V | P, 0, 11), FRAG(505, 514, V, 0, 10)};

		find_expect(&e, 500, 514, 5, 0, w, 2);
		/* the same rectangle replaces the payload and hands back the old one */
		assert_int_equal(evt_insert(e.tcx, &same, &old), 1);
		assert_int_equal(old.en_payload.pd_addr, 9);
		find_expect(&e, 500, 514, 5, 0, w2, 2);
		/* a partial overlap at the same epoch and minor epoch is refused */
		assert_int_equal(evt_insert(e.tcx, &part, NULL), -DER_VOS_PARTIAL_UPDATE);
		part.en_rect.rc_minor_epc = 3;
		assert_int_equal(evt_insert(e.tcx, &part, NULL), 0);
	}
	/* bad arguments */
	{
		struct evt_entry bad = mk_ent(10, 9, 1, 0, false, 1);
		struct evt_list list;

		assert_int_equal(evt_insert(e.tcx, &bad, NULL), -DER_INVAL);
		bad = mk_ent(10, 19, 1, 0, false, 1);
		bad.en_flags = 0x80;
		assert_int_equal(evt_insert(e.tcx, &bad, NULL), -DER_INVAL);
		evt_list_init(&list);
		assert_int_equal(evt_find(e.tcx, &(struct evt_extent){5, 4}, 1, 0, &list),
				 -DER_INVAL);
		evt_list_fini(&list);
	}
	tree_check(&e);
	replica_check(&e);
	env_fini(&e);
}

/* Edges of the index space, max/min visible, delete of what is not there. */
static void
t_evt_edges(void **state)
{
	struct env e;
	uint64_t idx;
	(void)state;

	env_init(&e, HEAP_SIZE, 4, true);
	assert_int_equal(evt_max_visible(e.tcx, 10, &idx), -DER_NONEXIST);
	assert_int_equal(evt_min_visible(e.tcx, 10, &idx), -DER_NONEXIST);
	ins(&e, 0, 99, 1, 0, false, 1);
	ins(&e, 50, 99, 2, 0, true, 0);
	assert_int_equal(evt_max_visible(e.tcx, 1, &idx), 0);
	assert_int_equal(idx, 99);
	assert_int_equal(evt_max_visible(e.tcx, 2, &idx), 0);
	assert_int_equal(idx, 49);
	ins(&e, 0, 9, 3, 0, true, 0);
	assert_int_equal(evt_min_visible(e.tcx, 2, &idx), 0);
	assert_int_equal(idx, 0);
	assert_int_equal(evt_min_visible(e.tcx, 3, &idx), 0);
	assert_int_equal(idx, 10);
	ins(&e, 0, 99, 4, 0, true, 0);
	assert_int_equal(evt_max_visible(e.tcx, 4, &idx), -DER_NONEXIST);
	/* the whole index space, and its top end */
	ins(&e, UINT64_MAX - 9, UINT64_MAX, 5, 0, false, 2);
	ins(&e, 1000000, UINT64_MAX - 5, 6, 0, true, 0);
	assert_int_equal(evt_max_visible(e.tcx, 5, &idx), 0);
	assert_int_equal(idx, UINT64_MAX);
	assert_int_equal(evt_max_visible(e.tcx, 6, &idx), 0);
	assert_int_equal(idx, UINT64_MAX);
	assert_int_equal(evt_min_visible(e.tcx, 6, &idx), 0);
	assert_int_equal(idx, UINT64_MAX - 4);
	{
		struct evt_frag w[] = {FRAG(UINT64_MAX - 20, UINT64_MAX - 5, V | P | EVT_HOLE,
					    UINT64_MAX - 20 - 1000000, 0),
				       FRAG(UINT64_MAX - 4, UINT64_MAX, V | P, 5, 2)};
		struct evt_frag wa[] = {FRAG(0, UINT64_MAX, GAP, 0, 0)};

		find_expect(&e, UINT64_MAX - 20, UINT64_MAX, 6, 0, w, 2);
		find_expect(&e, 0, UINT64_MAX, 0, 0, wa, 1);
	}
	{
		struct evt_rect r = {{0, 99}, 1, 1};

		assert_int_equal(evt_delete(e.tcx, &r, NULL), -DER_NONEXIST);
		/* a miss inside an outer transaction does not doom it */
		assert_int_equal(umem_tx_begin(e.umm), 0);
		assert_int_equal(evt_delete(e.tcx, &r, NULL), -DER_NONEXIST);
		ins(&e, 700, 799, 9, 0, false, 3);
		assert_int_equal(umem_tx_end(e.umm, 0), 0);
	}
	tree_check(&e);
	replica_check(&e);
	env_fini(&e);
}

/* Create, open, close, garbage roots. */
static void
t_evt_open(void **state)
{
	struct evt_context *tcx;
	struct env e;
	struct evt_root_df saved;
	(void)state;

	env_init(&e, HEAP_SIZE, 16, false);
	assert_int_equal(evt_create_inplace(e.root, 16, e.umm, &tcx), -DER_EXIST);
	ins(&e, 0, 9, 1, 0, false, 1);
	evt_close(e.tcx);
	assert_int_equal(evt_open(e.root, e.umm, &e.tcx), 0);
	assert_int_equal(evt_count(e.tcx), 1);
	evt_close(e.tcx);
	e.tcx = NULL;

	saved = *e.root;
	e.root->tr_magic ^= 1;
	assert_int_equal(evt_open(e.root, e.umm, &tcx), -DER_DF_INVAL);
	*e.root = saved;
	e.root->tr_order = 200;
	assert_int_equal(evt_open(e.root, e.umm, &tcx), -DER_DF_INVAL);
	*e.root = saved;
	e.root->tr_depth = 0;
	assert_int_equal(evt_open(e.root, e.umm, &tcx), -DER_DF_INVAL);
	*e.root = saved;
	assert_int_equal(evt_open(e.root, e.umm, &e.tcx), 0);
	/* a damaged node is reported, not followed */
	{
		uint32_t *magic = umem_off2ptr(e.umm, e.root->tr_node);
		struct evt_list list;

		*magic ^= 0x100;
		evt_list_init(&list);
		assert_int_equal(evt_find(e.tcx, &(struct evt_extent){0, 9}, 1, 0, &list),
				 -DER_DF_INVAL);
		assert_int_equal(evt_check(e.tcx, NULL), -DER_DF_INVAL);
		*magic ^= 0x100;
		evt_list_fini(&list);
		tree_check(&e);
	}

	{
		struct evt_root_df *r2 = (struct evt_root_df *)((char *)e.root + sizeof(*e.root));

		memset(r2, 0, sizeof(*r2));
		assert_int_equal(evt_open(r2, e.umm, &tcx), -DER_NONEXIST);
		assert_int_equal(evt_create_inplace(r2, 3, e.umm, &tcx), -DER_INVAL);
		assert_int_equal(evt_create_inplace(r2, 129, e.umm, &tcx), -DER_INVAL);
		assert_int_equal(evt_create_inplace(&saved, 8, e.umm, &tcx), -DER_INVAL);
	}
	env_fini(&e);
}

/* The model test: random operations, queries checked index by index. */
static void
t_evt_model(void **state)
{
	static const unsigned int orders[] = {4, 5, 7, 16, 64};
	unsigned int seed = d_test_seed("t_evt_model");
	size_t o;
	(void)state;

	for (o = 0; o < D_ARRAY_SIZE(orders); o++) {
		uint64_t rng = d_test_rand_seed(seed + (unsigned int)o);
		struct model m = {0};
		struct env e;
		uint64_t id = 0;
		int step, max_depth = 0;

		env_init(&e, SMALL_HEAP, orders[o], true);
		for (step = 1; step <= 2500; step++) {
			random_op(&e, &m, &rng, &id, false, 0, step < 1500 ? 600 : 40);
			if (e.root->tr_depth > max_depth)
				max_depth = e.root->tr_depth;
			if (step % 10 == 0) {
				random_queries(&e, &m, &rng);
				replica_check(&e);
			}
			if (step % 50 == 0) {
				tree_check(&e);
				check_edges(&e, &m, d_test_rand(&rng) % (MAX_EPOCH + 2));
			}
			if (step % 500 == 0)
				check_content(&e, &m);
		}
		/* drain: delete everything, the tree ends empty */
		while (m.nr > 0) {
			struct evt_entry out;

			assert_int_equal(evt_delete(e.tcx, &m.ents[m.nr - 1].en_rect, &out), 0);
			m.nr--;
			if (m.nr % 7 == 0)
				tree_check(&e);
		}
		assert_int_equal(e.root->tr_depth, 0);
		assert_int_equal(e.root->tr_node, UMOFF_NULL);
		tree_check(&e);
		replica_check(&e);
		print_message("order %u: max depth %d, %" PRIu64 " transactions\n", orders[o],
			      max_depth, e.rep.records);
		assert_true(orders[o] > 16 || max_depth >= 3);
		model_fini(&m);
		env_fini(&e);
	}
}

/* Sequential appends and deletes in random order with the smallest order: many splits. */
static void
t_evt_tiny_order(void **state)
{
	unsigned int seed = d_test_seed("t_evt_tiny_order");
	uint64_t rng = d_test_rand_seed(seed);
	struct umem_stats before, after;
	struct model m = {0};
	struct evt_stat st;
	struct env e;
	int i;
	(void)state;

	env_init(&e, SMALL_HEAP, EVT_ORDER_MIN, true);
	umem_query(e.umm, &before);
	for (i = 0; i < 3000; i++) {
		struct evt_entry ent =
		    mk_ent((uint64_t)i * 4, (uint64_t)i * 4 + 3, 1, 0, false, (uint64_t)i + 1);

		assert_int_equal(evt_insert(e.tcx, &ent, NULL), 0);
		model_add(&m, &ent);
	}
	assert_int_equal(evt_check(e.tcx, &st), 0);
	print_message("3000 appends at order 4: depth %u, %" PRIu64 " leaves (%.2f full)\n",
		      st.es_depth, st.es_leaves, 3000.0 / (double)(st.es_leaves * 4));
	/* appends fill nodes instead of leaving them half empty */
	assert_true(st.es_leaves * 4 < 3000 * 4 / 3);
	check_find(&e, &m, 0, 999, 1, 0);
	replica_check(&e);
	while (m.nr > 0) {
		int idx = (int)(d_test_rand(&rng) % (uint64_t)m.nr);

		assert_int_equal(evt_delete(e.tcx, &m.ents[idx].en_rect, NULL), 0);
		model_del(&m, idx);
		if (m.nr % 31 == 0) {
			tree_check(&e);
			check_find(&e, &m, 0, 999, 1, 0);
			replica_check(&e);
		}
	}
	tree_check(&e);
	umem_query(e.umm, &after);
	assert_int_equal(before.us_used, after.us_used);
	assert_int_equal(before.us_nr_allocs, after.us_nr_allocs);
	replica_check(&e);
	model_fini(&m);
	env_fini(&e);
}

/* Iterators: every entry in an epoch range, visible fragments, anchors across changes. */
static void
t_evt_iter(void **state)
{
	unsigned int seed = d_test_seed("t_evt_iter");
	uint64_t rng = d_test_rand_seed(seed);
	struct model m = {0};
	struct evt_iter *it;
	struct evt_anchor anchor;
	struct evt_frag f;
	struct env e;
	uint64_t id = 0;
	int i, rc, n;
	(void)state;

	env_init(&e, HEAP_SIZE, 5, true);
	for (i = 0; i < 400; i++)
		random_op(&e, &m, &rng, &id, false, 0, 1000);

	/* a filtered entry walk equals the filtered model, in key order */
	{
		struct evt_filter flt = {.fr_ex = {200, 400}, .fr_epc_lo = 10, .fr_epc_hi = 30};

		qsort(m.ents, (size_t)m.nr, sizeof(m.ents[0]), ent_key_cmp);
		assert_int_equal(evt_iter_prepare(e.tcx, 0, &flt, &it), 0);
		n = 0;
		for (i = 0; i < m.nr; i++) {
			const struct evt_rect *r = &m.ents[i].en_rect;

			if (r->rc_ex.ex_hi < 200 || r->rc_ex.ex_lo > 400 || r->rc_epc < 10 ||
			    r->rc_epc > 30)
				continue;
			rc = n == 0 ? evt_iter_probe(it, NULL) : evt_iter_next(it);
			assert_int_equal(rc, 0);
			assert_int_equal(evt_iter_fetch(it, &f, NULL), 0);
			assert_true(ent_eq(&f.ef_ent, &m.ents[i]));
			assert_true(f.ef_ext.ex_lo >= 200 && f.ef_ext.ex_hi <= 400);
			n++;
		}
		assert_true(n > 0);
		assert_int_equal(evt_iter_next(it), -DER_NONEXIST);
		assert_int_equal(evt_iter_fetch(it, &f, NULL), -DER_NONEXIST);
		evt_iter_finish(it);
	}

	/* anchors: stop half way, change the tree on both sides, resume after the anchor */
	assert_int_equal(evt_iter_prepare(e.tcx, 0, NULL, &it), 0);
	assert_int_equal(evt_iter_probe(it, NULL), 0);
	for (i = 0; i < m.nr / 2; i++)
		assert_int_equal(evt_iter_next(it), 0);
	assert_int_equal(evt_iter_fetch(it, &f, &anchor), 0);
	evt_iter_finish(it);
	for (i = 0; i < 100; i++)
		random_op(&e, &m, &rng, &id, false, 0, 1000);
	qsort(m.ents, (size_t)m.nr, sizeof(m.ents[0]), ent_key_cmp);
	assert_int_equal(evt_iter_prepare(e.tcx, 0, NULL, &it), 0);
	rc = evt_iter_probe(it, &anchor);
	for (i = 0; i < m.nr; i++) {
		if (key_cmp(&m.ents[i].en_rect, &f.ef_ent.en_rect) <= 0)
			continue;
		assert_int_equal(rc, 0);
		{
			struct evt_frag g;

			assert_int_equal(evt_iter_fetch(it, &g, NULL), 0);
			assert_true(ent_eq(&g.ef_ent, &m.ents[i]));
		}
		rc = evt_iter_next(it);
	}
	assert_int_equal(rc, -DER_NONEXIST);
	evt_iter_finish(it);

	/* fetch after a change finds its place again: the same entry, or the next if it went */
	{
		struct evt_entry far = mk_ent(SPACE - 1, SPACE - 1, 45, 700, false, ++id);
		struct evt_frag g1, g2, g3;

		qsort(m.ents, (size_t)m.nr, sizeof(m.ents[0]), ent_key_cmp);
		assert_int_equal(evt_iter_prepare(e.tcx, 0, NULL, &it), 0);
		assert_int_equal(evt_iter_probe(it, NULL), 0);
		assert_int_equal(evt_iter_next(it), 0);
		assert_int_equal(evt_iter_fetch(it, &g1, NULL), 0);
		assert_true(ent_eq(&g1.ef_ent, &m.ents[1]));
		assert_int_equal(evt_insert(e.tcx, &far, NULL), 0);
		model_add(&m, &far);
		assert_int_equal(evt_iter_fetch(it, &g2, NULL), 0);
		assert_true(frag_eq(&g1, &g2));
		assert_int_equal(evt_delete(e.tcx, &g1.ef_ent.en_rect, NULL), 0);
		model_del(&m, model_find(&m, &g1.ef_ent.en_rect));
		qsort(m.ents, (size_t)m.nr, sizeof(m.ents[0]), ent_key_cmp);
		assert_int_equal(evt_iter_fetch(it, &g3, NULL), 0);
		assert_true(ent_eq(&g3.ef_ent, &m.ents[1])); /* entry 2 before the delete */
		evt_iter_finish(it);
		tree_check(&e);
	}

	/* aggregation's pattern: delete entries while walking, without re-probing */
	{
		struct evt_filter flt = {.fr_ex = {0, UINT64_MAX}, .fr_epc_lo = 0, .fr_epc_hi = 20};
		int deleted = 0, expect = 0;

		for (i = 0; i < m.nr; i++)
			if (m.ents[i].en_rect.rc_epc <= 20)
				expect++;
		assert_int_equal(evt_iter_prepare(e.tcx, 0, &flt, &it), 0);
		for (rc = evt_iter_probe(it, NULL); rc == 0; rc = evt_iter_next(it)) {
			struct evt_frag g;

			assert_int_equal(evt_iter_fetch(it, &g, NULL), 0);
			assert_true(g.ef_ent.en_rect.rc_epc <= 20);
			assert_int_equal(evt_delete(e.tcx, &g.ef_ent.en_rect, NULL), 0);
			/* and an insert behind the cursor, which the walk must not revisit */
			if (deleted % 5 == 0) {
				struct evt_entry ent = mk_ent(
				    g.ef_ent.en_rect.rc_ex.ex_lo, g.ef_ent.en_rect.rc_ex.ex_lo, 20,
				    (uint16_t)(500 + deleted % 500), false, ++id);

				if (model_expect_insert(&m, &ent, &n) == 0) {
					assert_int_equal(evt_insert(e.tcx, &ent, NULL), 0);
					model_add(&m, &ent);
				}
			}
			model_del(&m, model_find(&m, &g.ef_ent.en_rect));
			deleted++;
		}
		assert_int_equal(rc, -DER_NONEXIST);
		assert_int_equal(deleted, expect);
		evt_iter_finish(it);
		tree_check(&e);
		check_content(&e, &m);
	}

	/* visible walk equals evt_find; its anchors resume after changes */
	for (i = 0; i < 200; i++)
		random_op(&e, &m, &rng, &id, false, 0, 1000);
	/* a few entries newer than anything at epoch 35, so the walk has pieces to stop in */
	for (i = 0; i < 10; i++) {
		struct evt_entry ent = mk_ent(110 + 80 * (uint64_t)i, 112 + 80 * (uint64_t)i, 35,
					      (uint16_t)(1000 + i), false, ++id);

		assert_int_equal(evt_insert(e.tcx, &ent, NULL), 0);
		model_add(&m, &ent);
	}
	{
		struct evt_filter flt = {.fr_ex = {100, 900}, .fr_epc_lo = 0, .fr_epc_hi = 35};
		struct evt_list list;
		uint32_t k;

		evt_list_init(&list);
		assert_int_equal(evt_find(e.tcx, &flt.fr_ex, 35, 0, &list), 0);
		assert_true(list.el_nr >= 4);
		assert_int_equal(evt_iter_prepare(e.tcx, EVT_ITER_VISIBLE, &flt, &it), 0);
		k = 0;
		for (rc = evt_iter_probe(it, NULL); rc == 0; rc = evt_iter_next(it)) {
			assert_int_equal(evt_iter_fetch(it, &f, &anchor), 0);
			assert_true(k < list.el_nr);
			assert_true(frag_eq(&f, &list.el_frags[k]));
			k++;
			if (k == list.el_nr / 2)
				break;
		}
		evt_iter_finish(it);
		for (i = 0; i < 50; i++)
			random_op(&e, &m, &rng, &id, false, 0, 1000);
		/* resume: what a read of [anchor, 900] sees now */
		assert_int_equal(evt_find(e.tcx, &(struct evt_extent){f.ef_ext.ex_hi + 1, 900}, 35,
					  EVT_FIND_SKIP_HOLES, &list),
				 0);
		assert_int_equal(
		    evt_iter_prepare(e.tcx, EVT_ITER_VISIBLE | EVT_ITER_SKIP_HOLES, &flt, &it), 0);
		assert_int_equal(evt_iter_probe(it, &anchor), 0);
		k = 0;
		do {
			assert_int_equal(evt_iter_fetch(it, &f, NULL), 0);
			assert_true(frag_eq(&f, &list.el_frags[k]));
			k++;
		} while (evt_iter_next(it) == 0);
		assert_int_equal(k, list.el_nr);
		/* an anchor of the other kind is refused */
		{
			struct evt_iter *it2;
			struct evt_anchor a2;

			assert_int_equal(evt_iter_prepare(e.tcx, 0, NULL, &it2), 0);
			assert_int_equal(evt_iter_probe(it2, NULL), 0);
			assert_int_equal(evt_iter_fetch(it2, &f, &a2), 0);
			assert_int_equal(evt_iter_probe(it, &a2), -DER_INVAL);
			evt_iter_finish(it2);
		}
		evt_iter_finish(it);
		evt_list_fini(&list);
	}
	/* visible anchors at the end of the range, and at the end of the index space */
	{
		static const uint64_t ends[] = {500, UINT64_MAX};
		size_t k;

		for (k = 0; k < D_ARRAY_SIZE(ends); k++) {
			struct evt_filter flt = {.fr_ex = {0, ends[k]}, .fr_epc_hi = 100};

			assert_int_equal(evt_iter_prepare(e.tcx, EVT_ITER_VISIBLE, &flt, &it), 0);
			for (rc = evt_iter_probe(it, NULL); rc == 0; rc = evt_iter_next(it))
				assert_int_equal(evt_iter_fetch(it, &f, &anchor), 0);
			assert_int_equal(rc, -DER_NONEXIST);
			assert_int_equal(f.ef_ext.ex_hi, ends[k]);
			assert_int_equal(evt_iter_probe(it, &anchor), -DER_NONEXIST);
			assert_int_equal(evt_iter_fetch(it, &f, NULL), -DER_NONEXIST);
			evt_iter_finish(it);
		}
	}
	/* an empty tree iterates nothing */
	{
		struct env e2;

		env_init(&e2, UMEM_HEAP_MIN * 4, 8, false);
		assert_int_equal(evt_iter_prepare(e2.tcx, 0, NULL, &it), 0);
		assert_int_equal(evt_iter_probe(it, NULL), -DER_NONEXIST);
		evt_iter_finish(it);
		assert_int_equal(
		    evt_iter_prepare(e2.tcx, EVT_ITER_VISIBLE | EVT_ITER_SKIP_HOLES, NULL, &it), 0);
		assert_int_equal(evt_iter_probe(it, NULL), -DER_NONEXIST);
		evt_iter_finish(it);
		assert_int_equal(evt_iter_prepare(e2.tcx, 0x80, NULL, &it), -DER_INVAL);
		env_fini(&e2);
	}
	tree_check(&e);
	replica_check(&e);
	model_fini(&m);
	env_fini(&e);
}

struct payload_arg {
	int calls;
};

static int
payload_free_cb(struct umem_instance *umm, const struct evt_entry *ent, void *arg)
{
	struct payload_arg *pa = arg;

	pa->calls++;
	if (ent->en_flags & EVT_ENT_HOLE)
		return 0;
	return umem_free(umm, ent->en_payload.pd_addr);
}

static int
fail_cb(struct umem_instance *umm, const struct evt_entry *ent, void *arg)
{
	(void)umm;
	(void)ent;
	return ++*(int *)arg == 100 ? -DER_IO : 0;
}

/* Destroy frees every node, and the callback frees every payload: all space returns. */
static void
t_evt_destroy(void **state)
{
	struct umem_stats before, mid, after;
	struct payload_arg pa = {0};
	struct evt_context *tcx;
	struct env e;
	int i, calls = 0;
	(void)state;

	env_init(&e, HEAP_SIZE, 6, true);
	/* an empty tree holds no node: the space before it is the space now */
	umem_query(e.umm, &before);
	for (i = 0; i < 2000; i++) {
		bool hole = i % 7 == 0;
		struct evt_entry ent = mk_ent((uint64_t)(i * 37) % 5000,
					      (uint64_t)(i * 37) % 5000 + (uint64_t)(i % 13),
					      (uint64_t)i + 1, 0, hole, 0);

		assert_int_equal(umem_tx_begin(e.umm), 0);
		if (!hole) {
			ent.en_payload.pd_addr = umem_alloc(e.umm, 8 * (uint64_t)(i % 13 + 1));
			assert_true(ent.en_payload.pd_addr != UMOFF_NULL);
		}
		assert_int_equal(evt_insert(e.tcx, &ent, NULL), 0);
		assert_int_equal(umem_tx_end(e.umm, 0), 0);
	}
	tree_check(&e);
	umem_query(e.umm, &mid);
	assert_true(mid.us_used > before.us_used);

	/* a failing callback aborts the destroy: nothing is freed */
	assert_int_equal(evt_destroy(e.tcx, fail_cb, &calls), -DER_IO);
	tree_check(&e);
	umem_query(e.umm, &after);
	assert_int_equal(after.us_used, mid.us_used);

	assert_int_equal(evt_destroy(e.tcx, payload_free_cb, &pa), 0);
	e.tcx = NULL;
	assert_int_equal(pa.calls, 2000);
	umem_query(e.umm, &after);
	assert_int_equal(after.us_used, before.us_used);
	assert_int_equal(after.us_nr_allocs, before.us_nr_allocs);
	assert_int_equal(evt_open(e.root, e.umm, &tcx), -DER_NONEXIST);
	/* and the root can hold a new tree */
	assert_int_equal(evt_create_inplace(e.root, 6, e.umm, &e.tcx), 0);
	env_fini(&e);
}

/* An aborted outer transaction leaves the tree, and the heap, exactly as they were. */
static void
t_evt_abort(void **state)
{
	unsigned int seed = d_test_seed("t_evt_abort");
	uint64_t rng = d_test_rand_seed(seed);
	struct model m = {0}, saved = {0};
	size_t size = HEAP_SIZE;
	char *img1, *img2;
	struct env e;
	uint64_t id = 0;
	int i, round;
	(void)state;

	env_init(&e, size, 4, true);
	img1 = malloc(size);
	img2 = malloc(size);
	assert_non_null(img1);
	assert_non_null(img2);
	for (i = 0; i < 300; i++)
		random_op(&e, &m, &rng, &id, false, 0, 1000);
	for (round = 0; round < 4; round++) {
		memcpy(img1, umem_base(e.umm), size);
		assert_int_equal(umem_image_zero_free(img1, size), 0);
		saved.nr = 0;
		for (i = 0; i < m.nr; i++)
			model_add(&saved, &m.ents[i]);

		assert_int_equal(umem_tx_begin(e.umm), 0);
		for (i = 0; i < 300; i++)
			random_op(&e, &m, &rng, &id, false, 0, round % 2 ? 40 : 1000);
		assert_int_equal(umem_tx_end(e.umm, -DER_CANCELED), -DER_CANCELED);

		memcpy(img2, umem_base(e.umm), size);
		assert_int_equal(umem_image_zero_free(img2, size), 0);
		assert_true(memcmp(img1, img2, size) == 0);
		m.nr = 0;
		for (i = 0; i < saved.nr; i++)
			model_add(&m, &saved.ents[i]);
		tree_check(&e);
		check_content(&e, &m);
		random_queries(&e, &m, &rng);
		/* the handle still works */
		for (i = 0; i < 50; i++)
			random_op(&e, &m, &rng, &id, false, 0, 1000);
		tree_check(&e);
	}
	replica_check(&e);
	free(img1);
	free(img2);
	model_fini(&saved);
	model_fini(&m);
	env_fini(&e);
}

/*
 * Fail the Nth hit of fault @fid for every N over a short workload of inserts, deletes,
 * finds and a walk: each failure is a clean @err, the failed operation changed nothing,
 * the tree checks out and matches the model, and the replica matches the heap.
 */
static void
alloc_failure_run(uint32_t fid, int err, const char *name)
{
	unsigned int seed = d_test_seed(name);
	int nth, failures = 0;

	for (nth = 1; nth < 5000; nth++) {
		struct d_fault_attr fa = {
		    .fa_id = fid, .fa_interval = (uint32_t)nth, .fa_max_faults = 1};
		uint64_t rng = d_test_rand_seed(seed);
		struct d_fault_attr after;
		struct model m = {0};
		struct env e;
		uint64_t id = 0;
		int i, rc;

		env_init(&e, SMALL_HEAP, 4, true);
		for (i = 0; i < 40; i++)
			random_op(&e, &m, &rng, &id, false, 0, 1000);
		assert_int_equal(d_fault_attr_set(&fa), 0);
		for (i = 0; i < 120; i++) {
			rc = random_op(&e, &m, &rng, &id, true, err, 1000);
			if (rc != 0)
				assert_int_equal(rc, err);
			if (i % 30 == 0) {
				struct evt_list list;

				evt_list_init(&list);
				rc = evt_find(e.tcx, &(struct evt_extent){0, SPACE}, MAX_EPOCH,
					      EVT_FIND_COVERED, &list);
				assert_true(rc == 0 || rc == err);
				evt_list_fini(&list);
			}
		}
		{
			struct evt_iter *it;

			rc = evt_iter_prepare(e.tcx, EVT_ITER_VISIBLE, NULL, &it);
			assert_true(rc == 0 || rc == err);
			if (rc == 0) {
				rc = evt_iter_probe(it, NULL);
				assert_true(rc == 0 || rc == err);
				evt_iter_finish(it);
			}
		}
		assert_int_equal(d_fault_attr_get(fid, &after), 0);
		d_fault_attr_clear(fid);
		tree_check(&e);
		check_content(&e, &m);
		random_queries(&e, &m, &rng);
		replica_check(&e);
		model_fini(&m);
		env_fini(&e);
		if (after.fa_num_faults == 0)
			break;
		failures++;
	}
	print_message("%s: %d failure points hit in turn\n", name, failures);
	assert_true(failures > 10);
	assert_true(nth < 5000);
}

static void
t_evt_umem_alloc_failure(void **state)
{
	(void)state;
	alloc_failure_run(D_FI_UMEM_ALLOC, -DER_NOSPACE, "t_evt_umem_alloc_failure");
}

static void
t_evt_malloc_failure(void **state)
{
	(void)state;
	alloc_failure_run(D_FI_ALLOC, -DER_NOMEM, "t_evt_malloc_failure");
}

static double
now_sec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Informational rates for 100K entries; checks only that the results are sane. */
static void
t_evt_rate(void **state)
{
	const int nr = 100000;
	unsigned int seed = d_test_seed("t_evt_rate");
	uint64_t rng = d_test_rand_seed(seed);
	struct umem_stats before, after;
	struct evt_list list;
	struct evt_stat st;
	struct env e;
	uint64_t frags = 0;
	double t0;
	int i;
	(void)state;

	env_init(&e, 256UL << 20, EVT_ORDER_DEFAULT, false);
	umem_query(e.umm, &before);
	t0 = now_sec();
	for (i = 0; i < nr; i++) {
		struct evt_entry ent =
		    mk_ent((uint64_t)i * 16, (uint64_t)i * 16 + 15, 1, 0, false, (uint64_t)i);

		assert_int_equal(evt_insert(e.tcx, &ent, NULL), 0);
	}
	print_message("append insert: %.0f/s\n", nr / (now_sec() - t0));
	assert_int_equal(evt_check(e.tcx, &st), 0);
	print_message("  depth %u, %" PRIu64 " nodes, %.1f bytes/entry\n", st.es_depth, st.es_nodes,
		      (double)st.es_bytes / nr);

	t0 = now_sec();
	for (i = 0; i < nr; i++) {
		uint64_t lo = d_test_rand(&rng) % (16ULL * nr);
		struct evt_entry ent =
		    mk_ent(lo, lo + d_test_rand(&rng) % 64, 2 + (uint64_t)i, 0, false, (uint64_t)i);

		assert_int_equal(evt_insert(e.tcx, &ent, NULL), 0);
	}
	print_message("random overlapping insert: %.0f/s\n", nr / (now_sec() - t0));
	assert_int_equal(evt_check(e.tcx, &st), 0);
	print_message("  depth %u, %" PRIu64 " nodes, %.1f bytes/entry\n", st.es_depth, st.es_nodes,
		      (double)st.es_bytes / (2 * nr));

	evt_list_init(&list);
	t0 = now_sec();
	for (i = 0; i < nr; i++) {
		uint64_t lo = d_test_rand(&rng) % (16ULL * nr);

		assert_int_equal(evt_find(e.tcx, &(struct evt_extent){lo, lo + 63},
					  d_test_rand(&rng) % (nr + 2), 0, &list),
				 0);
		frags += list.el_nr;
	}
	print_message("find of 64 records: %.0f/s (%.1f fragments each)\n", nr / (now_sec() - t0),
		      (double)frags / nr);
	evt_list_fini(&list);

	t0 = now_sec();
	assert_int_equal(evt_destroy(e.tcx, NULL, NULL), 0);
	e.tcx = NULL;
	print_message("destroy of %d entries: %.3f s\n", 2 * nr, now_sec() - t0);
	umem_query(e.umm, &after);
	assert_int_equal(after.us_used, before.us_used);
	env_fini(&e);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(t_evt_basic),
	    cmocka_unit_test(t_evt_edges),
	    cmocka_unit_test(t_evt_open),
	    cmocka_unit_test(t_evt_model),
	    cmocka_unit_test(t_evt_tiny_order),
	    cmocka_unit_test(t_evt_iter),
	    cmocka_unit_test(t_evt_destroy),
	    cmocka_unit_test(t_evt_abort),
	    cmocka_unit_test(t_evt_umem_alloc_failure),
	    cmocka_unit_test(t_evt_malloc_failure),
	    cmocka_unit_test(t_evt_rate),
	};

	int rc;

	rc = cmocka_run_group_tests_name("vos_evtree", tests, NULL, NULL);
	free(cmp_a);
	free(cmp_b);
	return rc;
}
