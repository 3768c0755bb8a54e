/*
 * test_hash.c: unit tests of gurt/hash.h and the hashing helpers of gurt/common.h.
 *
 * The core test runs seeded random operation sequences against a simple model (which
 * records are in the table, the references each holds, which were freed) and compares after
 * every step, for each locking mode and with and without EPHEMERAL/LRU. Set D_TEST_SEED to
 * replay a printed seed.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <gurt/common.h>
#include <gurt/hash.h>

static unsigned int t_seed;

/* splitmix64: small, seedable, the same sequence everywhere */
static uint64_t
t_rand(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static unsigned int
t_below(uint64_t *state, unsigned int n)
{
	return (unsigned int)(t_rand(state) % n);
}

/* A test record: a uint32_t key, an atomic count, a count of hop_rec_free calls. */
struct trec {
	d_list_t tr_link;
	uint32_t tr_key;
	int tr_ref;
	int tr_freed;
	bool tr_heap; /* hop_rec_free releases the memory (stress tests) */
};

static int t_underflow;  /* a decref went below zero */
static int t_heap_frees; /* heap records released by hop_rec_free */

static inline struct trec *
t_rec(d_list_t *link)
{
	return container_of(link, struct trec, tr_link);
}

static uint32_t
t_custom_hash(uint32_t key)
{
	return key * 2654435761U;
}

static bool
t_key_cmp(struct d_hash_table *ht, d_list_t *link, const void *key, unsigned int ksize)
{
	(void)ht;
	return ksize == sizeof(uint32_t) && memcmp(&t_rec(link)->tr_key, key, ksize) == 0;
}

static uint32_t
t_key_hash_custom(struct d_hash_table *ht, const void *key, unsigned int ksize)
{
	uint32_t k;

	(void)ht;
	assert_int_equal(ksize, sizeof(k));
	memcpy(&k, key, sizeof(k));
	return t_custom_hash(k);
}

static uint32_t
t_rec_hash_default(struct d_hash_table *ht, d_list_t *link)
{
	(void)ht;
	return d_hash_string_u32((const char *)&t_rec(link)->tr_key, sizeof(uint32_t));
}

static uint32_t
t_rec_hash_custom(struct d_hash_table *ht, d_list_t *link)
{
	(void)ht;
	return t_custom_hash(t_rec(link)->tr_key);
}

static void
t_addref(struct d_hash_table *ht, d_list_t *link)
{
	(void)ht;
	__atomic_fetch_add(&t_rec(link)->tr_ref, 1, __ATOMIC_RELAXED);
}

static bool
t_decref(struct d_hash_table *ht, d_list_t *link)
{
	int ref = __atomic_sub_fetch(&t_rec(link)->tr_ref, 1, __ATOMIC_ACQ_REL);

	(void)ht;
	if (ref < 0)
		__atomic_store_n(&t_underflow, 1, __ATOMIC_RELAXED);
	return ref == 0;
}

static int
t_ndecref(struct d_hash_table *ht, d_list_t *link, int count)
{
	struct trec *r = t_rec(link);
	int ref = __atomic_load_n(&r->tr_ref, __ATOMIC_ACQUIRE);

	(void)ht;
	do {
		if (ref < count)
			return -DER_INVAL;
	} while (!__atomic_compare_exchange_n(&r->tr_ref, &ref, ref - count, false,
					      __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE));
	return ref == count ? 1 : 0;
}

static void
t_free(struct d_hash_table *ht, d_list_t *link)
{
	struct trec *r = t_rec(link);

	(void)ht;
	if (r->tr_heap) {
		D_FREE(r);
		__atomic_fetch_add(&t_heap_frees, 1, __ATOMIC_RELAXED);
		return;
	}
	__atomic_fetch_add(&r->tr_freed, 1, __ATOMIC_RELAXED);
}

/* default key hash (d_hash_string_u32), per-bucket locks */
static d_hash_table_ops_t t_ops_default = {
    .hop_key_cmp = t_key_cmp,
    .hop_rec_hash = t_rec_hash_default,
    .hop_rec_addref = t_addref,
    .hop_rec_decref = t_decref,
    .hop_rec_free = t_free,
};

/* own key hash and hop_rec_ndecref */
static d_hash_table_ops_t t_ops_custom = {
    .hop_key_cmp = t_key_cmp,
    .hop_key_hash = t_key_hash_custom,
    .hop_rec_hash = t_rec_hash_custom,
    .hop_rec_addref = t_addref,
    .hop_rec_decref = t_decref,
    .hop_rec_ndecref = t_ndecref,
    .hop_rec_free = t_free,
};

/* no hop_rec_hash: the table falls back to one global lock */
static d_hash_table_ops_t t_ops_glock = {
    .hop_key_cmp = t_key_cmp,
    .hop_rec_addref = t_addref,
    .hop_rec_decref = t_decref,
    .hop_rec_free = t_free,
};

static void
t_rec_init(struct trec *r, uint32_t key, int ref)
{
	memset(r, 0, sizeof(*r));
	D_INIT_LIST_HEAD(&r->tr_link);
	r->tr_key = key;
	r->tr_ref = ref;
}

static int
t_ref(struct trec *r)
{
	return __atomic_load_n(&r->tr_ref, __ATOMIC_ACQUIRE);
}

/* Reference model */

#define M_KEYS 6
#define M_STEPS 1500
#define M_RECS (M_STEPS + 1)

struct model {
	struct d_hash_table *m_ht;
	bool m_eph;
	int m_nrecs;
	struct trec *m_recs[M_RECS];
	int m_held[M_RECS];     /* references the test holds */
	bool m_linked[M_RECS];  /* in the table */
	int m_freed[M_RECS];    /* expected hop_rec_free calls */
	uint64_t m_seq[M_RECS]; /* insertion order: lookups find the newest */
	uint64_t m_next_seq;
};

static int
m_new_rec(struct model *m, uint32_t key)
{
	struct trec *r;
	int i = m->m_nrecs++;

	assert_true(i < M_RECS);
	D_ALLOC_PTR(r);
	assert_non_null(r);
	t_rec_init(r, key, 1);
	m->m_recs[i] = r;
	m->m_held[i] = 1;
	m->m_linked[i] = false;
	m->m_freed[i] = 0;
	return i;
}

/* The record a lookup of @key must return, or -1. */
static int
m_top(struct model *m, uint32_t key)
{
	int best = -1;
	int i;

	for (i = 0; i < m->m_nrecs; i++) {
		if (m->m_linked[i] && m->m_recs[i]->tr_key == key &&
		    (best < 0 || m->m_seq[i] > m->m_seq[best]))
			best = i;
	}
	return best;
}

static int
m_find_idx(struct model *m, d_list_t *link)
{
	int i;

	for (i = 0; i < m->m_nrecs; i++) {
		if (&m->m_recs[i]->tr_link == link)
			return i;
	}
	return -1;
}

static void
m_link(struct model *m, int i)
{
	m->m_linked[i] = true;
	m->m_seq[i] = ++m->m_next_seq;
}

/* The model's side of dropping references of record @i, the last of which frees it. */
static void
m_drop(struct model *m, int i, int n)
{
	m->m_held[i] -= n;
	assert_true(m->m_held[i] >= 0);
	if (m->m_held[i] > 0)
		return;
	if (m->m_eph) {
		m->m_linked[i] = false;
		m->m_freed[i] = 1;
	} else if (!m->m_linked[i]) {
		m->m_freed[i] = 1;
	}
}

static void
m_check(struct model *m, int step, const char *op)
{
	bool any = false;
	int i;

	assert_int_equal(__atomic_load_n(&t_underflow, __ATOMIC_RELAXED), 0);
	for (i = 0; i < m->m_nrecs; i++) {
		struct trec *r = m->m_recs[i];
		int want = m->m_held[i] + (m->m_linked[i] && !m->m_eph ? 1 : 0);

		if (r->tr_freed != m->m_freed[i] || t_ref(r) != want ||
		    d_hash_rec_unlinked(&r->tr_link) == m->m_linked[i]) {
			print_error(
			    "step %d (%s): rec %d key %u: ref %d want %d, freed %d want %d, "
			    "linked %d want %d\n",
			    step, op, i, r->tr_key, t_ref(r), want, r->tr_freed, m->m_freed[i],
			    !d_hash_rec_unlinked(&r->tr_link), m->m_linked[i]);
			fail();
		}
		any |= m->m_linked[i];
	}
	assert_int_equal(d_hash_table_is_empty(m->m_ht), !any);
}

struct m_walk {
	struct model *w_m;
	int w_seen[M_RECS];
	int w_count;
};

static int
m_walk_cb(d_list_t *link, void *arg)
{
	struct m_walk *w = arg;
	int i = m_find_idx(w->w_m, link);

	if (i < 0)
		return -DER_NONEXIST;
	w->w_seen[i]++;
	w->w_count++;
	return 0;
}

/* A held record (held > 0), or -1. */
static int
m_pick_held(struct model *m, uint64_t *rs)
{
	int cand[M_RECS];
	int n = 0;
	int i;

	for (i = 0; i < m->m_nrecs; i++) {
		if (m->m_held[i] > 0)
			cand[n++] = i;
	}
	return n == 0 ? -1 : cand[t_below(rs, n)];
}

/* A record not yet freed, or -1. */
static int
m_pick_live(struct model *m, uint64_t *rs)
{
	int cand[M_RECS];
	int n = 0;
	int i;

	for (i = 0; i < m->m_nrecs; i++) {
		if (!m->m_freed[i])
			cand[n++] = i;
	}
	return n == 0 ? -1 : cand[t_below(rs, n)];
}

static int
m_total_held(struct model *m)
{
	int n = 0;
	int i;

	for (i = 0; i < m->m_nrecs; i++)
		n += m->m_held[i];
	return n;
}

enum m_op {
	OP_INSERT,
	OP_INSERT_EXCL,
	OP_FIND,
	OP_FIND_INSERT,
	OP_DELETE,
	OP_DELETE_AT,
	OP_ADDREF,
	OP_DECREF,
	OP_NDECREF,
	OP_TRAVERSE,
	OP_FIRST,
	OP_NR,
};

static const char *const m_op_names[] = {
    "insert", "insert_excl", "find",    "find_insert", "delete", "delete_at",
    "addref", "decref",      "ndecref", "traverse",    "first",
};

static void
m_step(struct model *m, uint64_t *rs, int step)
{
	uint32_t key = t_below(rs, M_KEYS);
	enum m_op op = (enum m_op)t_below(rs, OP_NR);
	struct d_hash_table *ht = m->m_ht;
	d_list_t *link;
	int i;
	int top;
	int rc;

	/* keep the number of live references bounded: creation ops become decrefs */
	if (m_total_held(m) > 24 && (op == OP_INSERT || op == OP_INSERT_EXCL ||
				     op == OP_FIND_INSERT || op == OP_FIND || op == OP_ADDREF))
		op = OP_DECREF;
	if (m->m_nrecs >= M_RECS - 1 &&
	    (op == OP_INSERT || op == OP_INSERT_EXCL || op == OP_FIND_INSERT))
		op = OP_FIND;

	switch (op) {
	case OP_INSERT:
	case OP_INSERT_EXCL:
		top = m_top(m, key);
		i = m_new_rec(m, key);
		rc = d_hash_rec_insert(ht, &key, sizeof(key), &m->m_recs[i]->tr_link,
				       op == OP_INSERT_EXCL);
		if (op == OP_INSERT_EXCL && top >= 0) {
			assert_int_equal(rc, -DER_EXIST);
			d_hash_rec_decref(ht, &m->m_recs[i]->tr_link);
			m_drop(m, i, 1);
		} else {
			assert_int_equal(rc, 0);
			m_link(m, i);
		}
		break;
	case OP_FIND:
		top = m_top(m, key);
		link = d_hash_rec_find(ht, &key, sizeof(key));
		if (top < 0) {
			assert_null(link);
		} else {
			assert_ptr_equal(link, &m->m_recs[top]->tr_link);
			m->m_held[top]++;
		}
		break;
	case OP_FIND_INSERT:
		top = m_top(m, key);
		i = m_new_rec(m, key);
		link = d_hash_rec_find_insert(ht, &key, sizeof(key), &m->m_recs[i]->tr_link);
		if (top >= 0) {
			assert_ptr_equal(link, &m->m_recs[top]->tr_link);
			m->m_held[top]++;
			d_hash_rec_decref(ht, &m->m_recs[i]->tr_link);
			m_drop(m, i, 1);
		} else {
			assert_ptr_equal(link, &m->m_recs[i]->tr_link);
			m_link(m, i);
		}
		break;
	case OP_DELETE:
		top = m_top(m, key);
		assert_int_equal(d_hash_rec_delete(ht, &key, sizeof(key)), top >= 0);
		if (top >= 0) {
			m->m_linked[top] = false;
			if (!m->m_eph && m->m_held[top] == 0)
				m->m_freed[top] = 1;
		}
		break;
	case OP_DELETE_AT:
		i = m_pick_live(m, rs);
		if (i < 0)
			break;
		assert_int_equal(d_hash_rec_delete_at(ht, &m->m_recs[i]->tr_link), m->m_linked[i]);
		if (m->m_linked[i] && !m->m_eph && m->m_held[i] == 0)
			m->m_freed[i] = 1;
		m->m_linked[i] = false;
		break;
	case OP_ADDREF:
		i = m_pick_held(m, rs);
		if (i < 0)
			break;
		d_hash_rec_addref(ht, &m->m_recs[i]->tr_link);
		m->m_held[i]++;
		break;
	case OP_DECREF:
		i = m_pick_held(m, rs);
		if (i < 0)
			break;
		d_hash_rec_decref(ht, &m->m_recs[i]->tr_link);
		m_drop(m, i, 1);
		break;
	case OP_NDECREF: {
		int n;

		i = m_pick_held(m, rs);
		if (i < 0)
			break;
		n = 1 + (int)t_below(rs, (unsigned int)m->m_held[i]);
		assert_int_equal(d_hash_rec_ndecref(ht, n, &m->m_recs[i]->tr_link), 0);
		m_drop(m, i, n);
		break;
	}
	case OP_TRAVERSE: {
		struct m_walk *w;
		int nlinked = 0;

		D_ALLOC_PTR(w);
		assert_non_null(w);
		w->w_m = m;
		assert_int_equal(d_hash_table_traverse(ht, m_walk_cb, w), 0);
		for (i = 0; i < m->m_nrecs; i++) {
			assert_int_equal(w->w_seen[i], m->m_linked[i] ? 1 : 0);
			nlinked += m->m_linked[i];
		}
		assert_int_equal(w->w_count, nlinked);
		D_FREE(w);
		break;
	}
	case OP_FIRST:
		link = d_hash_rec_first(ht);
		if (link == NULL) {
			for (i = 0; i < m->m_nrecs; i++)
				assert_false(m->m_linked[i]);
		} else {
			i = m_find_idx(m, link);
			assert_true(i >= 0);
			assert_true(m->m_linked[i]);
		}
		break;
	case OP_NR:
		fail();
	}
	m_check(m, step, m_op_names[op]);
}

static void
m_run(uint32_t feats, uint32_t bits, d_hash_table_ops_t *ops, const char *name)
{
	struct model *m;
	uint64_t rs;
	int step;
	int i;

	/* derived from the seed and the configuration only, so a seed replays */
	rs = t_seed ^ ((uint64_t)feats << 32) ^ ((uint64_t)bits << 48);
	for (i = 0; name[i] != '\0'; i++)
		rs = rs * 31 + (unsigned char)name[i];

	D_ALLOC_PTR(m);
	assert_non_null(m);
	m->m_eph = (feats & D_HASH_FT_EPHEMERAL) != 0;
	assert_int_equal(d_hash_table_create(feats, bits, NULL, ops, &m->m_ht), 0);

	for (step = 0; step < M_STEPS; step++)
		m_step(m, &rs, step);

	/* drop every reference the test holds, then destroy with force */
	for (i = 0; i < m->m_nrecs; i++) {
		while (m->m_held[i] > 0) {
			d_hash_rec_decref(m->m_ht, &m->m_recs[i]->tr_link);
			m_drop(m, i, 1);
		}
	}
	m_check(m, M_STEPS, "drop all");
	if (m->m_eph) {
		assert_true(d_hash_table_is_empty(m->m_ht));
		assert_int_equal(d_hash_table_destroy(m->m_ht, false), 0);
	} else {
		assert_int_equal(d_hash_table_destroy(m->m_ht, true), 0);
	}
	for (i = 0; i < m->m_nrecs; i++) {
		assert_int_equal(m->m_recs[i]->tr_freed, 1);
		assert_int_equal(t_ref(m->m_recs[i]), 0);
		D_FREE(m->m_recs[i]);
	}
	D_FREE(m);
}

static void
t_model(void **state)
{
	(void)state;
	m_run(0, 2, &t_ops_default, "spin");
	m_run(D_HASH_FT_MUTEX, 3, &t_ops_custom, "mutex");
	m_run(D_HASH_FT_RWLOCK, 0, &t_ops_default, "rwlock");
	m_run(D_HASH_FT_NOLOCK, 2, &t_ops_custom, "nolock");
	m_run(D_HASH_FT_MUTEX | D_HASH_FT_LRU, 1, &t_ops_default, "mutex-lru");
	m_run(D_HASH_FT_GLOCK | D_HASH_FT_MUTEX, 3, &t_ops_default, "glock-mutex");
	m_run(0, 2, &t_ops_glock, "no-rec-hash");
	m_run(D_HASH_FT_EPHEMERAL, 2, &t_ops_default, "eph-spin");
	m_run(D_HASH_FT_EPHEMERAL | D_HASH_FT_LRU | D_HASH_FT_RWLOCK, 0, &t_ops_custom,
	      "eph-lru-rwlock");
	m_run(D_HASH_FT_EPHEMERAL | D_HASH_FT_NOLOCK, 2, &t_ops_glock, "eph-nolock");
}

/* EPHEMERAL: the last decref removes and frees; a drain loop empties the table. */
static void
t_ephemeral(void **state)
{
	struct d_hash_table *ht;
	struct trec recs[32];
	d_list_t *link;
	uint32_t key;
	int i;

	(void)state;
	assert_int_equal(d_hash_table_create(D_HASH_FT_EPHEMERAL | D_HASH_FT_MUTEX, 3, NULL,
					     &t_ops_default, &ht),
			 0);
	for (i = 0; i < 32; i++) {
		t_rec_init(&recs[i], (uint32_t)i, 1);
		assert_int_equal(d_hash_rec_insert(ht, &recs[i].tr_key, sizeof(uint32_t),
						   &recs[i].tr_link, true),
				 0);
		/* the table took no reference */
		assert_int_equal(t_ref(&recs[i]), 1);
	}

	/* a lookup reference keeps the record; the last one removes and frees it */
	key = 5;
	link = d_hash_rec_find(ht, &key, sizeof(key));
	assert_ptr_equal(link, &recs[5].tr_link);
	assert_int_equal(t_ref(&recs[5]), 2);
	d_hash_rec_decref(ht, link);
	assert_false(d_hash_rec_unlinked(link));
	assert_int_equal(recs[5].tr_freed, 0);
	d_hash_rec_decref(ht, link);
	assert_true(d_hash_rec_unlinked(link));
	assert_int_equal(recs[5].tr_freed, 1);
	assert_null(d_hash_rec_find(ht, &key, sizeof(key)));

	/* delete in an EPHEMERAL table only unlinks: the owner still holds its reference */
	key = 6;
	assert_true(d_hash_rec_delete(ht, &key, sizeof(key)));
	assert_int_equal(t_ref(&recs[6]), 1);
	assert_int_equal(recs[6].tr_freed, 0);
	d_hash_rec_decref(ht, &recs[6].tr_link);
	assert_int_equal(recs[6].tr_freed, 1);

	/* extra references on some records: the drain loop still ends with all freed */
	d_hash_rec_addref(ht, &recs[7].tr_link);
	d_hash_rec_addref(ht, &recs[7].tr_link);
	assert_int_equal(d_hash_rec_ndecref(ht, 2, &recs[9].tr_link), -DER_INVAL);
	assert_int_equal(recs[9].tr_freed, 1); /* ran out after one: freed anyway */
	assert_true(d_hash_rec_unlinked(&recs[9].tr_link));

	while ((link = d_hash_rec_first(ht)) != NULL)
		d_hash_rec_decref(ht, link);
	assert_true(d_hash_table_is_empty(ht));
	for (i = 0; i < 32; i++) {
		assert_int_equal(recs[i].tr_freed, 1);
		assert_int_equal(t_ref(&recs[i]), 0);
	}
	assert_int_equal(d_hash_table_destroy(ht, false), 0);
}

/* Non-EPHEMERAL: the table's reference, destroy with and without force, ndecref. */
static void
t_refs_and_destroy(void **state)
{
	struct d_hash_table ht;
	struct trec recs[4];
	uint32_t key;
	int i;

	(void)state;
	assert_int_equal(d_hash_table_create_inplace(D_HASH_FT_RWLOCK, 2, &ht, &t_ops_default, &ht),
			 0);
	assert_ptr_equal(ht.ht_priv, &ht);
	for (i = 0; i < 4; i++) {
		t_rec_init(&recs[i], (uint32_t)(100 + i), 0);
		assert_int_equal(d_hash_rec_insert(&ht, &recs[i].tr_key, sizeof(uint32_t),
						   &recs[i].tr_link, false),
				 0);
		assert_int_equal(t_ref(&recs[i]), 1); /* the table's */
	}
	key = 100;
	assert_int_equal(d_hash_rec_insert(&ht, &key, sizeof(key), &recs[1].tr_link, true),
			 -DER_EXIST);

	assert_int_equal(d_hash_table_destroy_inplace(&ht, false), -DER_BUSY);
	assert_false(d_hash_table_is_empty(&ht));

	/* ndecref without enough references: -DER_INVAL, record freed (it was unlinked) */
	d_hash_rec_addref(&ht, &recs[0].tr_link);
	assert_true(d_hash_rec_delete_at(&ht, &recs[0].tr_link));
	assert_false(d_hash_rec_delete_at(&ht, &recs[0].tr_link));
	assert_int_equal(recs[0].tr_freed, 0);
	assert_int_equal(d_hash_rec_ndecref(&ht, 3, &recs[0].tr_link), -DER_INVAL);
	assert_int_equal(recs[0].tr_freed, 1);
	assert_int_equal(d_hash_rec_ndecref(&ht, 0, &recs[1].tr_link), -DER_INVAL);

	assert_int_equal(d_hash_table_destroy_inplace(&ht, true), 0);
	for (i = 0; i < 4; i++)
		assert_int_equal(recs[i].tr_freed, 1);
	assert_null(ht.ht_buckets);
	assert_int_equal(d_hash_table_destroy_inplace(&ht, false), 0);
	assert_int_equal(d_hash_table_traverse(&ht, m_walk_cb, NULL), -DER_UNINIT);
	assert_null(d_hash_rec_first(&ht));
	assert_int_equal(
	    d_hash_table_create(0, 32, NULL, &t_ops_default, &(struct d_hash_table *){NULL}),
	    -DER_INVAL);
}

struct t_order {
	uint32_t o_keys[16];
	int o_n;
};

static int
t_order_cb(d_list_t *link, void *arg)
{
	struct t_order *o = arg;

	o->o_keys[o->o_n++] = t_rec(link)->tr_key;
	return 0;
}

static void
t_expect_order(struct d_hash_table *ht, const uint32_t *keys, int n)
{
	struct t_order o = {.o_n = 0};
	int i;

	assert_int_equal(d_hash_table_traverse(ht, t_order_cb, &o), 0);
	assert_int_equal(o.o_n, n);
	for (i = 0; i < n; i++)
		assert_int_equal(o.o_keys[i], keys[i]);
	assert_int_equal(t_rec(d_hash_rec_first(ht))->tr_key, keys[0]);
}

static void
t_lru_one(d_hash_table_ops_t *ops)
{
	struct d_hash_table *ht;
	struct trec recs[6];
	d_list_t *link;
	uint32_t key;
	int i;

	assert_int_equal(d_hash_table_create(D_HASH_FT_LRU | D_HASH_FT_MUTEX, 0, NULL, ops, &ht),
			 0);
	t_rec_init(&recs[0], 3, 0);
	for (i = 1; i <= 5; i++) {
		t_rec_init(&recs[i], (uint32_t)i, 0);
		assert_int_equal(d_hash_rec_insert(ht, &recs[i].tr_key, sizeof(uint32_t),
						   &recs[i].tr_link, true),
				 0);
	}
	t_expect_order(ht, (const uint32_t[]){5, 4, 3, 2, 1}, 5);

	key = 2;
	link = d_hash_rec_find(ht, &key, sizeof(key));
	assert_ptr_equal(link, &recs[2].tr_link);
	d_hash_rec_decref(ht, link);
	t_expect_order(ht, (const uint32_t[]){2, 5, 4, 3, 1}, 5);

	key = 1;
	link = d_hash_rec_find(ht, &key, sizeof(key));
	d_hash_rec_decref(ht, link);
	t_expect_order(ht, (const uint32_t[]){1, 2, 5, 4, 3}, 5);

	/* evict moves to the back */
	key = 2;
	assert_true(d_hash_rec_evict(ht, &key, sizeof(key)));
	t_expect_order(ht, (const uint32_t[]){1, 5, 4, 3, 2}, 5);
	key = 9;
	assert_false(d_hash_rec_evict(ht, &key, sizeof(key)));
	assert_true(d_hash_rec_evict_at(ht, &recs[5].tr_link));
	t_expect_order(ht, (const uint32_t[]){1, 4, 3, 2, 5}, 5);
	assert_false(d_hash_rec_evict_at(ht, &recs[5].tr_link)); /* already last */

	/* find_insert of a present key is a lookup and promotes */
	key = 3;
	link = d_hash_rec_find_insert(ht, &key, sizeof(key), &recs[0].tr_link);
	assert_ptr_equal(link, &recs[3].tr_link);
	d_hash_rec_decref(ht, link);
	t_expect_order(ht, (const uint32_t[]){3, 1, 4, 2, 5}, 5);

	key = 2;
	d_hash_rec_promote(ht, &key, sizeof(key), &recs[2].tr_link);
	t_expect_order(ht, (const uint32_t[]){2, 3, 1, 4, 5}, 5);

	assert_int_equal(d_hash_table_destroy(ht, true), 0);
	for (i = 1; i <= 5; i++)
		assert_int_equal(recs[i].tr_freed, 1);
}

/* LRU: lookups move the record to the front of its (single) bucket. */
static void
t_lru(void **state)
{
	struct d_hash_table *ht;
	struct trec recs[4];
	d_list_t *link;
	uint32_t key;
	int i;

	(void)state;
	t_lru_one(&t_ops_default);
	t_lru_one(&t_ops_glock); /* no hop_rec_hash: evict_at must still find the bucket */

	/* without LRU, lookups leave the order alone and evict does nothing */
	assert_int_equal(d_hash_table_create(D_HASH_FT_NOLOCK, 0, NULL, &t_ops_default, &ht), 0);
	for (i = 1; i <= 3; i++) {
		t_rec_init(&recs[i], (uint32_t)i, 0);
		assert_int_equal(d_hash_rec_insert(ht, &recs[i].tr_key, sizeof(uint32_t),
						   &recs[i].tr_link, true),
				 0);
	}
	key = 1;
	link = d_hash_rec_find(ht, &key, sizeof(key));
	d_hash_rec_decref(ht, link);
	t_expect_order(ht, (const uint32_t[]){3, 2, 1}, 3);
	assert_false(d_hash_rec_evict(ht, &key, sizeof(key)));
	assert_false(d_hash_rec_evict_at(ht, &recs[3].tr_link));
	t_expect_order(ht, (const uint32_t[]){3, 2, 1}, 3);
	assert_int_equal(d_hash_table_destroy(ht, true), 0);
}

/* Multi-threaded stress */

#define S_THREADS 4
#define S_OPS 50000
#define S_KEYS 16

struct s_ctx {
	struct d_hash_table *s_ht;
	bool s_eph;
	int s_errors;
	int s_allocs;
	uint64_t s_seed;
};

static struct trec *
s_alloc(struct s_ctx *c, uint32_t key)
{
	struct trec *r;

	D_ALLOC_PTR(r);
	if (r == NULL)
		return NULL;
	t_rec_init(r, key, 1);
	r->tr_heap = true;
	__atomic_fetch_add(&c->s_allocs, 1, __ATOMIC_RELAXED);
	return r;
}

static void
s_error(struct s_ctx *c)
{
	__atomic_fetch_add(&c->s_errors, 1, __ATOMIC_RELAXED);
}

static int
s_walk_cb(d_list_t *link, void *arg)
{
	struct s_ctx *c = arg;

	/* a listed record is always referenced (by the table, or its owner if EPHEMERAL) */
	if (t_ref(t_rec(link)) <= 0 || t_rec(link)->tr_key >= S_KEYS)
		s_error(c);
	return 0;
}

static void *
s_thread(void *arg)
{
	struct s_ctx *c = arg;
	struct d_hash_table *ht = c->s_ht;
	uint64_t rs = __atomic_fetch_add(&c->s_seed, 0x1234567ULL, __ATOMIC_RELAXED);
	struct trec *r;
	d_list_t *link;
	uint32_t key;
	int i;
	int rc;

	for (i = 0; i < S_OPS; i++) {
		key = t_below(&rs, S_KEYS);
		switch (t_below(&rs, 5)) {
		case 0:
			link = d_hash_rec_find(ht, &key, sizeof(key));
			if (link == NULL)
				break;
			if (t_rec(link)->tr_key != key)
				s_error(c);
			d_hash_rec_addref(ht, link);
			d_hash_rec_decref(ht, link);
			d_hash_rec_decref(ht, link);
			break;
		case 1:
			r = s_alloc(c, key);
			if (r == NULL) {
				s_error(c);
				break;
			}
			rc = d_hash_rec_insert(ht, &key, sizeof(key), &r->tr_link, true);
			if (rc != 0 && rc != -DER_EXIST)
				s_error(c);
			/* EPHEMERAL: our reference becomes the table's on success */
			if (rc != 0 || !c->s_eph)
				d_hash_rec_decref(ht, &r->tr_link);
			break;
		case 2:
			if (!c->s_eph) {
				d_hash_rec_delete(ht, &key, sizeof(key));
				break;
			}
			/* EPHEMERAL removal: whoever unlinks the record drops its base reference */
			link = d_hash_rec_find(ht, &key, sizeof(key));
			if (link == NULL)
				break;
			if (d_hash_rec_delete_at(ht, link))
				d_hash_rec_decref(ht, link);
			d_hash_rec_decref(ht, link);
			break;
		case 3:
			r = s_alloc(c, key);
			if (r == NULL) {
				s_error(c);
				break;
			}
			link = d_hash_rec_find_insert(ht, &key, sizeof(key), &r->tr_link);
			if (link != &r->tr_link) {
				if (t_rec(link)->tr_key != key)
					s_error(c);
				d_hash_rec_decref(ht, link);
				d_hash_rec_decref(ht, &r->tr_link);
			} else if (!c->s_eph) {
				d_hash_rec_decref(ht, &r->tr_link);
			}
			break;
		default:
			if (d_hash_table_traverse(ht, s_walk_cb, c) != 0)
				s_error(c);
			break;
		}
	}
	return NULL;
}

static int
s_final_cb(d_list_t *link, void *arg)
{
	int *count = arg;

	/* quiescent: each record holds exactly one reference, the table's or its owner's */
	if (t_ref(t_rec(link)) != 1)
		return -DER_INVAL;
	(*count)++;
	return 0;
}

static void
s_run(uint32_t feats, d_hash_table_ops_t *ops, const char *name)
{
	struct s_ctx c = {.s_eph = (feats & D_HASH_FT_EPHEMERAL) != 0};
	pthread_t threads[S_THREADS];
	d_list_t *link;
	int count = 0;
	int i;

	c.s_seed = t_seed * 0x9e3779b97f4a7c15ULL + feats;
	__atomic_store_n(&t_heap_frees, 0, __ATOMIC_RELAXED);
	assert_int_equal(d_hash_table_create(feats, 3, NULL, ops, &c.s_ht), 0);
	for (i = 0; i < S_THREADS; i++)
		assert_int_equal(pthread_create(&threads[i], NULL, s_thread, &c), 0);
	for (i = 0; i < S_THREADS; i++)
		assert_int_equal(pthread_join(threads[i], NULL), 0);

	if (c.s_errors != 0)
		print_error("stress %s: %d errors\n", name, c.s_errors);
	assert_int_equal(c.s_errors, 0);
	assert_int_equal(__atomic_load_n(&t_underflow, __ATOMIC_RELAXED), 0);
	assert_int_equal(d_hash_table_traverse(c.s_ht, s_final_cb, &count), 0);
	assert_true(count <= S_KEYS);
	assert_int_equal(t_heap_frees + count, c.s_allocs);

	if (c.s_eph) {
		while ((link = d_hash_rec_first(c.s_ht)) != NULL)
			d_hash_rec_decref(c.s_ht, link);
		assert_int_equal(d_hash_table_destroy(c.s_ht, false), 0);
	} else {
		assert_int_equal(d_hash_table_destroy(c.s_ht, true), 0);
	}
	assert_int_equal(t_heap_frees, c.s_allocs);
}

static void
t_stress(void **state)
{
	(void)state;
	s_run(D_HASH_FT_MUTEX, &t_ops_default, "mutex");
	s_run(D_HASH_FT_RWLOCK, &t_ops_custom, "rwlock");
	s_run(0, &t_ops_default, "spin");
	s_run(D_HASH_FT_RWLOCK | D_HASH_FT_LRU, &t_ops_default, "rwlock-lru");
	s_run(D_HASH_FT_MUTEX, &t_ops_glock, "mutex-glock");
	s_run(D_HASH_FT_MUTEX | D_HASH_FT_EPHEMERAL, &t_ops_default, "mutex-eph");
	s_run(D_HASH_FT_RWLOCK | D_HASH_FT_EPHEMERAL, &t_ops_custom, "rwlock-eph");
}

/*
 * Hash values. Expected values were computed independently of this code:
 *  - d_hash_string_u32 (djb2: h = h * 33 + c from 5381): the first three by hand
 *    (5381; 5381 * 33 + 'a' = 177670; 177670 * 33 + 'b' = 5863208), the rest with a
 *    Python transcription of the same recurrence modulo 2^32.
 *  - d_hash_murmur64 (MurmurHash64A): a Python transcription of Appleby's MurmurHash64A,
 *    cross-checked against libstdc++'s std::_Hash_bytes, which implements the same
 *    algorithm for 64-bit size_t (identical values for every entry below). Empty key with
 *    seed 0 is 0 by inspection. Values assume a little-endian host, as DAOS's do.
 *  - d_hash_jump: the published test vectors of the Go port of Lamping and Veach's
 *    algorithm (github.com/dgryski/go-jump), plus two from a Python transcription.
 */
static void
t_hash_values(void **state)
{
	static const struct {
		const char *s;
		uint32_t h;
	} djb2[] = {
	    {"", 5381U},
	    {"a", 177670U},
	    {"ab", 5863208U},
	    {"abc", 0xb885c8bU},
	    {"hello", 0xf923099U},
	    {"daos", 0x7c9590ccU},
	    {"The quick brown fox jumps over the lazy dog", 0x34cc38deU},
	};
	static const struct {
		const char *s;
		unsigned int seed;
		uint64_t h;
	} mm[] = {
	    {"", 0, 0},
	    {"", 1, 0xc6a4a7935bd064dcULL},
	    {"", 0xffffffffU, 0x952d4201a42f3c31ULL},
	    {"a", 0, 0x071717d2d36b6b11ULL},
	    {"a", 0xc70f6907U, 0x454ddee488c1ed6bULL},
	    {"abcdefg", 0, 0x241aa52b0a62005dULL},
	    {"abcdefg", 1, 0xfc9415b9d2ef3b6cULL},
	    {"abcdefgh", 0, 0xafdb0257ff41aa98ULL},
	    {"abcdefgh", 0xffffffffU, 0x50c7af2f8e583a82ULL},
	    {"abcdefghi", 0, 0xc9b9d84356146ac2ULL},
	    {"abcdefghi", 0xc70f6907U, 0xb4ec9257851c8aafULL},
	    {"The quick brown fox jumps over the lazy dog", 0, 0x5589ca33042a861bULL},
	    {"The quick brown fox jumps over the lazy dog", 0xffffffffU, 0x4fe7e74533aeec40ULL},
	};
	static const struct {
		uint64_t key;
		uint32_t n;
		uint32_t b;
	} jump[] = {
	    {1, 1, 0},
	    {42, 57, 43},
	    {0xDEAD10CCULL, 1, 0},
	    {0xDEAD10CCULL, 666, 361},
	    {256, 1024, 520},
	    {0xffffffffffffffffULL, 100000, 18311},
	    {123456789, 7, 0},
	};
	unsigned char bytes[256];
	unsigned char *unaligned;
	unsigned int i;
	uint32_t n;

	(void)state;
	for (i = 0; i < D_ARRAY_SIZE(djb2); i++)
		assert_int_equal(d_hash_string_u32(djb2[i].s, (unsigned int)strlen(djb2[i].s)),
				 djb2[i].h);
	/* bytes >= 0x80 must count as unsigned */
	for (i = 0; i < 256; i++)
		bytes[i] = (unsigned char)i;
	assert_int_equal(d_hash_string_u32((const char *)bytes, 256), 0x9a5b9485U);

	for (i = 0; i < D_ARRAY_SIZE(mm); i++) {
		uint64_t h = d_hash_murmur64((const unsigned char *)mm[i].s,
					     (unsigned int)strlen(mm[i].s), mm[i].seed);

		if (h != mm[i].h) {
			print_error("murmur64(\"%s\", %#x) = %#llx, want %#llx\n", mm[i].s,
				    mm[i].seed, (unsigned long long)h, (unsigned long long)mm[i].h);
			fail();
		}
	}
	/* the key need not be aligned */
	D_ALLOC(unaligned, 64);
	assert_non_null(unaligned);
	memcpy(unaligned + 1, mm[11].s, strlen(mm[11].s));
	assert_true(d_hash_murmur64(unaligned + 1, (unsigned int)strlen(mm[11].s), 0) == mm[11].h);
	D_FREE(unaligned);

	for (i = 0; i < D_ARRAY_SIZE(jump); i++)
		assert_int_equal(d_hash_jump(jump[i].key, jump[i].n), jump[i].b);
	/* consistency: growing n by one moves a key only into the new bucket */
	for (i = 0; i < 200; i++) {
		uint64_t key = d_hash_murmur64((const unsigned char *)&i, sizeof(i), 7);
		uint32_t prev = d_hash_jump(key, 1);

		for (n = 2; n <= 64; n++) {
			uint32_t b = d_hash_jump(key, n);

			assert_true(b < n);
			assert_true(b == prev || b == n - 1);
			prev = b;
		}
	}
}

/* The default key hash is d_hash_string_u32(key, ksize): check the bucket it picks. */
static void
t_default_hash_bucket(void **state)
{
	struct d_hash_table *ht;
	struct trec r;
	uint32_t bits = 4;
	uint32_t idx;

	(void)state;
	assert_int_equal(d_hash_table_create(D_HASH_FT_NOLOCK, bits, NULL, &t_ops_default, &ht), 0);
	t_rec_init(&r, 0xabcdef, 0);
	assert_int_equal(d_hash_rec_insert(ht, &r.tr_key, sizeof(r.tr_key), &r.tr_link, true), 0);
	idx = d_hash_string_u32((const char *)&r.tr_key, sizeof(r.tr_key)) & ((1U << bits) - 1);
	assert_ptr_equal(ht->ht_buckets[idx].hb_head.next, &r.tr_link);
	assert_int_equal(d_hash_table_destroy(ht, true), 0);
}

/* Allocation failures during creation are reported and leak nothing. */
static void
t_alloc_failure(void **state)
{
	struct d_fault_attr attr = {.fa_id = D_FI_ALLOC, .fa_max_faults = 1};
	struct d_hash_table *ht;
	struct d_hhash *hh;
	uint32_t nth;
	int failed = 0;
	int rc;

	(void)state;
	for (nth = 1; nth < 16; nth++) {
		attr.fa_interval = nth;
		assert_int_equal(d_fault_attr_set(&attr), 0);
		rc = d_hash_table_create(D_HASH_FT_MUTEX, 2, NULL, &t_ops_default, &ht);
		d_fault_attr_clear(D_FI_ALLOC);
		if (rc == 0) {
			assert_int_equal(d_hash_table_destroy(ht, false), 0);
			break;
		}
		assert_int_equal(rc, -DER_NOMEM);
		assert_null(ht);
		failed++;
	}
	assert_int_equal(failed, 3); /* table, buckets, locks */

	for (nth = 1; nth < 16; nth++) {
		attr.fa_interval = nth;
		assert_int_equal(d_fault_attr_set(&attr), 0);
		rc = d_hhash_create(0, 2, &hh);
		d_fault_attr_clear(D_FI_ALLOC);
		if (rc == 0) {
			d_hhash_destroy(hh);
			break;
		}
		assert_int_equal(rc, -DER_NOMEM);
		assert_null(hh);
	}
	assert_true(nth < 16);
}

/* Handle hash */

static int t_hfrees;

static void
t_hlink_free(struct d_hlink *hlink)
{
	(void)hlink;
	t_hfrees++;
}

static struct d_hlink_ops t_hlink_ops = {.hop_free = t_hlink_free};

static void
t_hhash(void **state)
{
	struct d_hhash *hh;
	struct d_hlink links[64];
	struct d_hlink *found;
	uint64_t keys[64];
	uint64_t key;
	int i;
	int j;

	(void)state;
	t_hfrees = 0;
	/* as DAOS's client creates its handle hash */
	assert_int_equal(d_hhash_create(D_HASH_FT_GLOCK | D_HASH_FT_LRU, D_HHASH_BITS, &hh), 0);
	assert_false(d_hhash_is_ptrtype(hh));

	for (i = 0; i < 64; i++) {
		d_hhash_hlink_init(&links[i], &t_hlink_ops);
		assert_true(d_hhash_link_empty(&links[i]));
		d_hhash_link_insert(hh, &links[i], 2 * (i % 4) + 1);
		assert_false(d_hhash_link_empty(&links[i]));
		assert_int_equal(links[i].hl_link.rl_ref, 2);
		d_hhash_link_key(&links[i], &keys[i]);
		assert_false(d_hhash_key_isptr(keys[i]));
		assert_int_equal(d_hhash_key_type(keys[i]), 2 * (i % 4) + 1);
		for (j = 0; j < i; j++)
			assert_true(keys[j] != keys[i]);
	}
	assert_int_equal(d_hhash_set_ptrtype(hh), -DER_ALREADY);

	for (i = 0; i < 64; i++) {
		found = d_hhash_link_lookup(hh, keys[i]);
		assert_ptr_equal(found, &links[i]);
		assert_int_equal(links[i].hl_link.rl_ref, 3);
		d_hhash_link_putref(hh, found);
		assert_int_equal(links[i].hl_link.rl_ref, 2);
	}
	assert_null(d_hhash_link_lookup(hh, keys[63] + (1 << D_HTYPE_BITS)));
	assert_null(d_hhash_link_lookup(hh, 0x1000)); /* pointer key, not pointer mode */

	/* delete drops the hash's reference; the owner's last putref frees */
	assert_true(d_hhash_link_delete(hh, &links[0]));
	assert_false(d_hhash_link_delete(hh, &links[0]));
	assert_true(d_hhash_link_empty(&links[0]));
	assert_null(d_hhash_link_lookup(hh, keys[0]));
	assert_int_equal(t_hfrees, 0);
	d_hhash_link_getref(hh, &links[0]);
	d_hhash_link_putref(hh, &links[0]);
	d_hhash_link_putref(hh, &links[0]);
	assert_int_equal(t_hfrees, 1);

	/* owners drop their references; destroy drops the hash's and frees the rest */
	for (i = 1; i < 64; i++)
		d_hhash_link_putref(hh, &links[i]);
	assert_int_equal(t_hfrees, 1);
	d_hhash_destroy(hh);
	assert_int_equal(t_hfrees, 64);

	/* pointer mode: the key is the address, only references are counted */
	t_hfrees = 0;
	assert_int_equal(d_hhash_create(D_HASH_FT_NOLOCK, 4, &hh), 0);
	assert_int_equal(d_hhash_set_ptrtype(hh), 0);
	assert_true(d_hhash_is_ptrtype(hh));
	d_hhash_hlink_init(&links[0], &t_hlink_ops);
	d_hhash_link_insert(hh, &links[0], D_HTYPE_PTR);
	d_hhash_link_key(&links[0], &key);
	assert_int_equal(key, (uint64_t)(uintptr_t)&links[0]);
	assert_true(d_hhash_key_isptr(key));
	assert_int_equal(d_hhash_key_type(key), D_HTYPE_PTR);
	found = d_hhash_link_lookup(hh, key);
	assert_ptr_equal(found, &links[0]);
	assert_int_equal(links[0].hl_link.rl_ref, 3);
	d_hhash_link_putref(hh, found);
	assert_true(d_hhash_link_delete(hh, &links[0]));
	assert_int_equal(t_hfrees, 0);
	d_hhash_link_putref(hh, &links[0]);
	assert_int_equal(t_hfrees, 1);
	d_hhash_destroy(hh);
}

/* UUID hash */

static int t_ufrees;

static void
t_ulink_free(struct d_ulink *ulink)
{
	(void)ulink;
	t_ufrees++;
}

static bool
t_ulink_cmp(struct d_ulink *ulink, void *cmp_args)
{
	(void)ulink;
	return cmp_args == NULL || *(int *)cmp_args == 42;
}

static struct d_ulink_ops t_ulink_ops = {.uop_free = t_ulink_free, .uop_cmp = t_ulink_cmp};

static void
t_uhash(void **state)
{
	struct d_hash_table *ht;
	struct d_ulink links[8];
	struct d_ulink dup;
	struct d_uuid uuids[8];
	struct d_uuid other;
	struct d_ulink *found;
	int yes = 42;
	int no = 7;
	int i;

	(void)state;
	t_ufrees = 0;
	assert_int_equal(d_uhash_create(D_HASH_FT_RWLOCK, 3, &ht), 0);
	for (i = 0; i < 8; i++) {
		uuid_generate(uuids[i].uuid);
		d_uhash_ulink_init(&links[i], &t_ulink_ops);
		assert_true(d_uhash_link_empty(&links[i]));
		assert_int_equal(d_uhash_link_insert(ht, &uuids[i], NULL, &links[i]), 0);
		assert_false(d_uhash_link_empty(&links[i]));
	}
	d_uhash_ulink_init(&dup, &t_ulink_ops);
	assert_int_equal(d_uhash_link_insert(ht, &uuids[3], NULL, &dup), -DER_EXIST);
	assert_true(d_uhash_link_empty(&dup));

	for (i = 0; i < 8; i++) {
		found = d_uhash_link_lookup(ht, &uuids[i], NULL);
		assert_ptr_equal(found, &links[i]);
		assert_false(d_uhash_link_last_ref(found));
		d_uhash_link_putref(ht, found);
	}
	assert_ptr_equal(d_uhash_link_lookup(ht, &uuids[2], &yes), &links[2]);
	d_uhash_link_putref(ht, &links[2]);
	assert_null(d_uhash_link_lookup(ht, &uuids[2], &no));
	uuid_generate(other.uuid);
	assert_null(d_uhash_link_lookup(ht, &other, NULL));

	d_uhash_link_delete(ht, &links[1]);
	assert_true(d_uhash_link_empty(&links[1]));
	assert_true(d_uhash_link_last_ref(&links[1]));
	assert_null(d_uhash_link_lookup(ht, &uuids[1], NULL));
	d_uhash_link_addref(ht, &links[1]);
	d_uhash_link_putref(ht, &links[1]);
	assert_int_equal(t_ufrees, 0);
	d_uhash_link_putref(ht, &links[1]);
	assert_int_equal(t_ufrees, 1);

	for (i = 0; i < 8; i++) {
		if (i != 1)
			d_uhash_link_putref(ht, &links[i]);
	}
	d_uhash_destroy(ht);
	assert_int_equal(t_ufrees, 8);
}

static int
t_setup(void **state)
{
	unsigned int seed;

	(void)state;
	if (d_getenv_uint("D_TEST_SEED", &seed) == 0)
		t_seed = seed;
	else
		t_seed = (unsigned int)time(NULL) ^ ((unsigned int)getpid() << 16);
	print_message("test_hash: seed %u (replay with D_TEST_SEED=%u)\n", t_seed, t_seed);
	return 0;
}

/*
 * Handles inserted by several threads at once (each insert locks only its key's bucket)
 * get distinct keys of the right type, and each is found, and only by its own key.
 */
#define HH_THREADS 4
#define HH_PER_THREAD 2000

struct hh_mt {
	struct d_hhash *hm_hh;
	struct d_hlink hm_links[HH_PER_THREAD];
	uint64_t hm_keys[HH_PER_THREAD];
	int hm_type;
};

static void *
hh_mt_thread(void *arg)
{
	struct hh_mt *m = arg;
	int i;

	for (i = 0; i < HH_PER_THREAD; i++) {
		d_hhash_hlink_init(&m->hm_links[i], NULL);
		d_hhash_link_insert(m->hm_hh, &m->hm_links[i], m->hm_type);
		d_hhash_link_key(&m->hm_links[i], &m->hm_keys[i]);
	}
	return NULL;
}

static int
u64_cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a;
	uint64_t y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static void
t_hhash_mt(void **state)
{
	static struct hh_mt m[HH_THREADS];
	static uint64_t all[HH_THREADS * HH_PER_THREAD];
	pthread_t th[HH_THREADS];
	struct d_hhash *hh;
	int t;
	int i;

	(void)state;
	assert_int_equal(d_hhash_create(D_HASH_FT_MUTEX, D_HHASH_BITS, &hh), 0);
	for (t = 0; t < HH_THREADS; t++) {
		m[t].hm_hh = hh;
		m[t].hm_type = 2 * t + 1; /* handle types are odd */
		assert_int_equal(pthread_create(&th[t], NULL, hh_mt_thread, &m[t]), 0);
	}
	for (t = 0; t < HH_THREADS; t++)
		assert_int_equal(pthread_join(th[t], NULL), 0);
	for (t = 0; t < HH_THREADS; t++) {
		for (i = 0; i < HH_PER_THREAD; i++) {
			struct d_hlink *l;

			assert_int_equal(d_hhash_key_type(m[t].hm_keys[i]), 2 * t + 1);
			l = d_hhash_link_lookup(hh, m[t].hm_keys[i]);
			assert_ptr_equal(l, &m[t].hm_links[i]);
			d_hhash_link_putref(hh, l);
			all[t * HH_PER_THREAD + i] = m[t].hm_keys[i];
		}
	}
	qsort(all, HH_THREADS * HH_PER_THREAD, sizeof(all[0]), u64_cmp);
	for (i = 1; i < HH_THREADS * HH_PER_THREAD; i++)
		assert_true(all[i] != all[i - 1]);
	for (t = 0; t < HH_THREADS; t++)
		for (i = 0; i < HH_PER_THREAD; i++)
			assert_true(d_hhash_link_delete(hh, &m[t].hm_links[i]));
	for (t = 0; t < HH_THREADS; t++)
		assert_null(d_hhash_link_lookup(hh, m[t].hm_keys[HH_PER_THREAD - 1]));
	d_hhash_destroy(hh);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(t_hash_values),
	    cmocka_unit_test(t_default_hash_bucket),
	    cmocka_unit_test(t_model),
	    cmocka_unit_test(t_ephemeral),
	    cmocka_unit_test(t_refs_and_destroy),
	    cmocka_unit_test(t_lru),
	    cmocka_unit_test(t_stress),
	    cmocka_unit_test(t_alloc_failure),
	    cmocka_unit_test(t_hhash),
	    cmocka_unit_test(t_hhash_mt),
	    cmocka_unit_test(t_uhash),
	};

	return cmocka_run_group_tests_name("gurt_hash", tests, t_setup, NULL);
}
