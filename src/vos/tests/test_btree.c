/*
 * test_btree.c: dbtree, the B+tree of VOS (src/include/daos_srv/btree.h).
 *
 * The core is a model-based random test per key kind (uint, hashed, hashed with forced
 * collisions, direct): every operation is applied to the tree and to a sorted array that
 * orders keys the way the tree must, and the two are compared after every step, together
 * with the tree's own structural check (dbtree_check). Around it: anchors and live
 * iterators across modifications, destroy/drain returning every byte, an aborted outer
 * transaction leaving the heap image unchanged, reopening from a replica built from redo
 * records only, every heap allocation failed in turn, refused operations that must not doom
 * the caller's transaction, bad inputs, and an informational insert/lookup rate.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <sys/mman.h>
#include <time.h>

#include <gurt/common.h>
#include <daos_srv/umem.h>
#include <daos_srv/btree.h>
#include <d_test.h>

#include "vos_internal.h"
#include "btree_internal.h"

#define HEAP_SIZE (32UL << 20)
#define KMAX 200
#define VMAX 100
/* Longest hashed key an anchor embeds (default 8-byte hash): longer ones are partial. */
#define HKEY_EMBED_MAX (DBTREE_ANCHOR_SIZE - 8 - 8 - 8)

enum tkind {
	TK_UINT,
	TK_HASH,
	TK_HASHC, /* hashed, with a hash of 2 bits: collisions everywhere */
	TK_DIRECT,
	TK_HKEY, /* hashed by a class whose hash is the (16-byte) key: no key comparison */
	TK_NR,
};

enum {
	TCLS_UINT = DBTREE_TEST_BEGIN,
	TCLS_HASH,
	TCLS_HASHC,
	TCLS_DIRECT,
	TCLS_NEST,
	TCLS_HKEY,
};

static const struct {
	unsigned int cls;
	uint64_t feats;
	const char *name;
} tkinds[TK_NR] = {
    [TK_UINT] = {TCLS_UINT, BTR_FEAT_UINT_KEY, "uint"},
    [TK_HASH] = {TCLS_HASH, 0, "hash"},
    [TK_HASHC] = {TCLS_HASHC, 0, "hash-collide"},
    [TK_DIRECT] = {TCLS_DIRECT, BTR_FEAT_DIRECT_KEY, "direct"},
    [TK_HKEY] = {TCLS_HKEY, 0, "hash-is-key"},
};

/* The test classes: a body holds the key and the value. */

struct tbody {
	uint32_t tb_klen;
	uint32_t tb_vlen;
	uint32_t tb_vcap; /* room for the value */
	uint32_t tb_pad;
	uint8_t tb_data[]; /* key, then value */
};

static uint64_t t_frees; /* bodies freed through to_rec_free with a counter as args */

static int
t_lex_cmp(const void *a, size_t alen, const void *b, size_t blen)
{
	int c = memcmp(a, b, alen < blen ? alen : blen);

	if (c != 0)
		return c;
	return alen < blen ? -1 : alen > blen;
}

static int
t_key_cmp(struct btr_instance *tins, const struct btr_record *rec, const d_iov_t *key)
{
	struct tbody *tb = umem_off2ptr(tins->ti_umm, rec->rec_off);

	return t_lex_cmp(tb->tb_data, tb->tb_klen, key->iov_buf, key->iov_len);
}

static int
t_rec_alloc(struct btr_instance *tins, const d_iov_t *key, const d_iov_t *val,
	    struct btr_record *rec)
{
	uint32_t vcap = (uint32_t)(val->iov_len + 31) / 32 * 32;
	struct tbody *tb;
	umem_off_t off;

	off = umem_alloc(tins->ti_umm, sizeof(*tb) + key->iov_len + vcap);
	if (off == UMOFF_NULL)
		return -DER_NOSPACE;
	tb = umem_off2ptr(tins->ti_umm, off);
	tb->tb_klen = (uint32_t)key->iov_len;
	tb->tb_vlen = (uint32_t)val->iov_len;
	tb->tb_vcap = vcap;
	tb->tb_pad = 0;
	memcpy(tb->tb_data, key->iov_buf, key->iov_len);
	memcpy(tb->tb_data + key->iov_len, val->iov_buf, val->iov_len);
	memset(tb->tb_data + key->iov_len + val->iov_len, 0, vcap - val->iov_len);
	rec->rec_off = off;
	return 0;
}

static int
t_rec_free(struct btr_instance *tins, struct btr_record *rec, void *args)
{
	if (args != NULL)
		(*(uint64_t *)args)++;
	return umem_free(tins->ti_umm, rec->rec_off);
}

static void
t_iov_out(d_iov_t *iov, void *src, size_t len)
{
	if (iov->iov_buf == NULL) {
		iov->iov_buf = src;
		iov->iov_buf_len = len;
	} else if (iov->iov_buf_len >= len) {
		memcpy(iov->iov_buf, src, len);
	}
	iov->iov_len = len;
}

static int
t_rec_fetch(struct btr_instance *tins, const struct btr_record *rec, d_iov_t *key, d_iov_t *val)
{
	struct tbody *tb = umem_off2ptr(tins->ti_umm, rec->rec_off);

	if (key != NULL)
		t_iov_out(key, tb->tb_data, tb->tb_klen);
	if (val != NULL)
		t_iov_out(val, tb->tb_data + tb->tb_klen, tb->tb_vlen);
	return 0;
}

/* In place if the value fits its room, otherwise a new body. */
static int
t_rec_update(struct btr_instance *tins, struct btr_record *rec, const d_iov_t *key,
	     const d_iov_t *val)
{
	struct umem_instance *umm = tins->ti_umm;
	struct tbody *tb = umem_off2ptr(umm, rec->rec_off);
	umem_off_t old = rec->rec_off;
	int rc;

	if (val->iov_len <= tb->tb_vcap) {
		rc = umem_tx_add_ptr(umm, tb, sizeof(*tb) + tb->tb_klen + val->iov_len);
		if (rc != 0)
			return rc;
		tb->tb_vlen = (uint32_t)val->iov_len;
		memcpy(tb->tb_data + tb->tb_klen, val->iov_buf, val->iov_len);
		return 0;
	}
	rc = t_rec_alloc(tins, key, val, rec);
	if (rc != 0)
		return rc;
	return umem_free(umm, old);
}

static char *
t_rec_string(struct btr_instance *tins, const struct btr_record *rec, char *buf, size_t len)
{
	struct tbody *tb = umem_off2ptr(tins->ti_umm, rec->rec_off);

	snprintf(buf, len, "[%u-byte key at %#" PRIx64 "]", tb->tb_klen, rec->rec_off);
	return buf;
}

/* Two bits of hash: every key collides with a quarter of the others. Big-endian, so the
 * memcmp the tree falls back to orders it numerically. */
static int
t_hkey_size(void)
{
	return sizeof(uint64_t);
}

static uint64_t
t_hashc(const void *key, size_t len)
{
	return d_hash_murmur64(key, (unsigned int)len, BTR_MURMUR_SEED) % 4;
}

static void
t_hkey_gen(struct btr_instance *tins, const d_iov_t *key, void *hkey)
{
	uint64_t h = __builtin_bswap64(t_hashc(key->iov_buf, key->iov_len));

	(void)tins;
	memcpy(hkey, &h, sizeof(h));
}

static const btr_ops_t t_ops = {
    .to_key_cmp = t_key_cmp,
    .to_rec_alloc = t_rec_alloc,
    .to_rec_free = t_rec_free,
    .to_rec_fetch = t_rec_fetch,
    .to_rec_update = t_rec_update,
    .to_rec_string = t_rec_string,
};

/* Without to_rec_update and to_rec_free: the tree frees and reallocates bodies. */
static const btr_ops_t t_ops_uint = {
    .to_rec_alloc = t_rec_alloc,
    .to_rec_fetch = t_rec_fetch,
};

static const btr_ops_t t_ops_hashc = {
    .to_hkey_size = t_hkey_size,
    .to_hkey_gen = t_hkey_gen,
    .to_key_cmp = t_key_cmp,
    .to_rec_alloc = t_rec_alloc,
    .to_rec_free = t_rec_free,
    .to_rec_fetch = t_rec_fetch,
    .to_rec_update = t_rec_update,
};

/* A 16-byte key that is its own hash (a uuid, say): no full-key comparison needed. */
static int
t_uuid_size(void)
{
	return 16;
}

static void
t_uuid_gen(struct btr_instance *tins, const d_iov_t *key, void *hkey)
{
	(void)tins;
	assert_int_equal(key->iov_len, 16);
	memcpy(hkey, key->iov_buf, 16);
}

static const btr_ops_t t_ops_hkey = {
    .to_hkey_size = t_uuid_size,
    .to_hkey_gen = t_uuid_gen,
    .to_rec_alloc = t_rec_alloc,
    .to_rec_free = t_rec_free,
    .to_rec_fetch = t_rec_fetch,
    .to_rec_update = t_rec_update,
};

/* Nested trees: a uint tree whose bodies hold the root of a direct-key sub-tree. */
struct nbody {
	struct btr_root_df nb_sub;
	uint64_t nb_val;
};

static int
n_rec_alloc(struct btr_instance *tins, const d_iov_t *key, const d_iov_t *val,
	    struct btr_record *rec)
{
	struct btr_instance *sub;
	struct nbody *nb;
	umem_off_t off;
	int rc;

	(void)key;
	off = umem_zalloc(tins->ti_umm, sizeof(*nb));
	if (off == UMOFF_NULL)
		return -DER_NOSPACE;
	nb = umem_off2ptr(tins->ti_umm, off);
	memcpy(&nb->nb_val, val->iov_buf, sizeof(nb->nb_val));
	rc = dbtree_create_inplace(TCLS_DIRECT, BTR_FEAT_DIRECT_KEY, 4, tins->ti_umm, &nb->nb_sub,
				   &sub);
	if (rc != 0)
		return rc;
	dbtree_close(sub);
	rec->rec_off = off;
	return 0;
}

static int
n_rec_free(struct btr_instance *tins, struct btr_record *rec, void *args)
{
	struct nbody *nb = umem_off2ptr(tins->ti_umm, rec->rec_off);
	struct btr_instance *sub;
	int rc;

	rc = dbtree_open_inplace(&nb->nb_sub, tins->ti_umm, &sub);
	if (rc != 0)
		return rc;
	rc = dbtree_destroy(sub, args);
	if (rc != 0)
		return rc;
	return umem_free(tins->ti_umm, rec->rec_off);
}

static int
n_rec_fetch(struct btr_instance *tins, const struct btr_record *rec, d_iov_t *key, d_iov_t *val)
{
	struct nbody *nb = umem_off2ptr(tins->ti_umm, rec->rec_off);

	if (key != NULL)
		t_iov_out(key, (void *)&rec->rec_ukey, sizeof(rec->rec_ukey));
	if (val != NULL)
		t_iov_out(val, nb, sizeof(*nb));
	return 0;
}

static const btr_ops_t n_ops = {
    .to_rec_alloc = n_rec_alloc,
    .to_rec_free = n_rec_free,
    .to_rec_fetch = n_rec_fetch,
};

/* The replica: an image built only from the redo records the heap hands its store. */

struct replica {
	char *image;
	size_t size;
	uint64_t lsn;
};

static int
replica_commit(void *arg, const struct umem_redo *redo, uint64_t *lsn)
{
	struct replica *r = arg;

	assert_int_equal(umem_redo_apply(r->image, r->size, redo), 0);
	*lsn = ++r->lsn;
	return 0;
}

static const struct umem_store_ops replica_ops = {.so_commit = replica_commit};

/* The model: records sorted the way the tree orders them. */

struct mrec {
	uint32_t klen;
	uint32_t vlen;
	uint64_t hk;
	bool stable;  /* anchor tests: present since the enumeration began */
	bool visited; /* anchor tests: returned by the enumeration */
	uint8_t key[KMAX];
	uint8_t val[VMAX];
};

struct model {
	enum tkind kind;
	int nr;
	int cap;
	struct mrec *recs;
};

static uint64_t
model_hk(enum tkind kind, const void *key, size_t klen)
{
	switch (kind) {
	case TK_HASH:
		return d_hash_murmur64(key, (unsigned int)klen, BTR_MURMUR_SEED);
	case TK_HASHC:
		return t_hashc(key, klen);
	default:
		return 0;
	}
}

static int
model_cmp(enum tkind kind, const struct mrec *r, const void *key, size_t klen, uint64_t hk)
{
	uint64_t a, b;

	if (kind == TK_UINT) {
		memcpy(&a, r->key, 8);
		memcpy(&b, key, 8);
		return a < b ? -1 : a > b;
	}
	if (kind != TK_DIRECT && r->hk != hk)
		return r->hk < hk ? -1 : 1;
	return t_lex_cmp(r->key, r->klen, key, klen);
}

/* Lower bound of @key; *@eq if it is there. */
static int
model_find(struct model *m, const void *key, size_t klen, bool *eq)
{
	uint64_t hk = model_hk(m->kind, key, klen);
	int lo = 0, hi = m->nr;

	while (lo < hi) {
		int mid = (lo + hi) / 2;

		if (model_cmp(m->kind, &m->recs[mid], key, klen, hk) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*eq = lo < m->nr && model_cmp(m->kind, &m->recs[lo], key, klen, hk) == 0;
	return lo;
}

static void
model_put(struct model *m, const void *key, size_t klen, const void *val, size_t vlen)
{
	bool eq;
	int p = model_find(m, key, klen, &eq);
	struct mrec *r;

	if (!eq) {
		if (m->nr == m->cap) {
			m->cap = m->cap ? m->cap * 2 : 256;
			m->recs = realloc(m->recs, sizeof(*m->recs) * (size_t)m->cap);
			assert_non_null(m->recs);
		}
		memmove(&m->recs[p + 1], &m->recs[p], sizeof(*r) * (size_t)(m->nr - p));
		m->nr++;
		r = &m->recs[p];
		memset(r, 0, sizeof(*r));
		r->klen = (uint32_t)klen;
		r->hk = model_hk(m->kind, key, klen);
		memcpy(r->key, key, klen);
	}
	r = &m->recs[p];
	r->vlen = (uint32_t)vlen;
	memcpy(r->val, val, vlen);
}

static void
model_del_at(struct model *m, int p)
{
	memmove(&m->recs[p], &m->recs[p + 1], sizeof(struct mrec) * (size_t)(m->nr - p - 1));
	m->nr--;
}

/* Index of the record @opc selects for @key, or -1. */
static int
model_probe(struct model *m, dbtree_probe_opc_t opc, const void *key, size_t klen)
{
	bool eq;
	int p;

	if (opc == BTR_PROBE_FIRST)
		return m->nr > 0 ? 0 : -1;
	if (opc == BTR_PROBE_LAST)
		return m->nr - 1;
	p = model_find(m, key, klen, &eq);
	switch (opc) {
	case BTR_PROBE_EQ:
		return eq ? p : -1;
	case BTR_PROBE_GE:
		return p < m->nr ? p : -1;
	case BTR_PROBE_GT:
		p += eq;
		return p < m->nr ? p : -1;
	case BTR_PROBE_LE:
		return eq ? p : p - 1;
	case BTR_PROBE_LT:
		return p - 1;
	default:
		fail();
		return -1;
	}
}

/* Does resuming from an anchor at @key only know its hash? */
static bool
model_partial(enum tkind kind, size_t klen)
{
	return (kind == TK_HASH || kind == TK_HASHC) && klen > HKEY_EMBED_MAX;
}

/*
 * Where resuming after (@next) or before the anchored @key lands: exact, unless the anchor
 * is partial and its record is gone, where the whole hash group is taken again.
 */
static int
model_resume(struct model *m, const void *key, size_t klen, bool next)
{
	uint64_t hk = model_hk(m->kind, key, klen);
	bool eq;
	int p;

	model_find(m, key, klen, &eq);
	if (eq || !model_partial(m->kind, klen))
		return model_probe(m, next ? BTR_PROBE_GT : BTR_PROBE_LT, key, klen);
	if (next) {
		for (p = 0; p < m->nr && m->recs[p].hk < hk; p++)
			;
		return p < m->nr ? p : -1;
	}
	for (p = m->nr - 1; p >= 0 && m->recs[p].hk > hk; p--)
		;
	return p;
}

/* Test context: a heap, its replica, a tree rooted in the heap's root object. */

struct tctx {
	struct umem_instance *umm;
	struct replica rep;
	struct btr_root_df *root;
	struct btr_instance *toh;
	enum tkind kind;
	struct model m;
	uint64_t rs;
};

/* BTR_FEAT_FIRST_SMALL for the trees tctx_init makes: 1 on, 0 off, -1 by the seed */
static int first_small = -1;

static void
tctx_init(struct tctx *t, enum tkind kind, unsigned int order, size_t heap, bool replica,
	  uint64_t rs)
{
	uint64_t feats = tkinds[kind].feats;

	memset(t, 0, sizeof(*t));
	t->kind = kind;
	t->m.kind = kind;
	t->rs = rs;
	if (replica) {
		t->rep.size = heap;
		t->rep.image = malloc(heap);
		assert_non_null(t->rep.image);
	}
	assert_int_equal(umem_create(heap, 64, replica ? &replica_ops : NULL, &t->rep, &t->umm), 0);
	if (replica)
		memcpy(t->rep.image, umem_base(t->umm), heap);
	t->root = umem_off2ptr(t->umm, umem_root(t->umm));
	if (first_small > 0 || (first_small < 0 && (rs >> 7) % 2 == 0))
		feats |= BTR_FEAT_FIRST_SMALL;
	assert_int_equal(
	    dbtree_create_inplace(tkinds[kind].cls, feats, order, t->umm, t->root, &t->toh), 0);
}

static void
tctx_fini(struct tctx *t)
{
	if (t->toh != NULL)
		dbtree_close(t->toh);
	umem_close(t->umm);
	free(t->rep.image);
	free(t->m.recs);
}

static uint64_t
rnd(struct tctx *t, uint64_t n)
{
	return d_test_rand(&t->rs) % n;
}

/* Key number @id of a pool: the same id always gives the same key. */
static void
gen_key(enum tkind kind, uint64_t id, uint8_t *key, size_t *klen)
{
	uint64_t s = d_test_rand_seed((unsigned int)id + 1), h = d_test_rand(&s), v;
	size_t i, len;

	switch (kind) {
	case TK_UINT:
		v = id == 1 ? UINT64_MAX : id * 0x9E3779B97F4A7C15ULL;
		memcpy(key, &v, 8);
		*klen = 8;
		return;
	case TK_HASH:
		len = 1 + h % 150;
		break;
	case TK_HASHC:
		len = h % 2 ? 1 + h % 20 : HKEY_EMBED_MAX - 2 + h % 100;
		break;
	case TK_HKEY:
		len = 16;
		break;
	default:
		/* few letters, mostly short: shared prefixes and keys that are prefixes */
		len = h % 4 == 0 ? (h >> 8) % (DBTREE_DIRECT_KEY_MAX + 1) : (h >> 8) % 6;
		break;
	}
	for (i = 0; i < len; i++)
		key[i] = kind == TK_DIRECT ? (uint8_t)('a' + d_test_rand(&s) % 3)
					   : (uint8_t)d_test_rand(&s);
	*klen = len;
}

static size_t
gen_val(struct tctx *t, uint8_t *val)
{
	size_t len = rnd(t, VMAX + 1), i;

	for (i = 0; i < len; i++)
		val[i] = (uint8_t)d_test_rand(&t->rs);
	return len;
}

/* The record in @key/@val is model record @idx (-1: rc must be -DER_NONEXIST). */
static void
check_rec(struct tctx *t, int rc, int idx, const d_iov_t *key, const d_iov_t *val)
{
	struct mrec *r;

	if (idx < 0) {
		assert_int_equal(rc, -DER_NONEXIST);
		return;
	}
	assert_int_equal(rc, 0);
	r = &t->m.recs[idx];
	if (key != NULL) {
		assert_int_equal(key->iov_len, r->klen);
		assert_memory_equal(key->iov_buf, r->key, r->klen);
	}
	if (val != NULL) {
		assert_int_equal(val->iov_len, r->vlen);
		assert_memory_equal(val->iov_buf, r->val, r->vlen);
	}
}

struct walk {
	struct tctx *w_t;
	int w_i;
	int w_step;
};

static int
walk_cb(struct btr_iterator *ih, d_iov_t *key, d_iov_t *val, void *arg)
{
	struct walk *w = arg;

	(void)ih;
	assert_true(w->w_i >= 0 && w->w_i < w->w_t->m.nr);
	check_rec(w->w_t, 0, w->w_i, key, val);
	w->w_i += w->w_step;
	return 0;
}

/* The tree is consistent and holds exactly the model (@full: also compare every record). */
static void
verify(struct tctx *t, bool full)
{
	struct btr_stat st;
	struct walk w = {t, 0, 1};

	assert_int_equal(dbtree_check(t->toh, &st), 0);
	assert_int_equal(st.bs_rec_nr, (uint64_t)t->m.nr);
	assert_int_equal(dbtree_is_empty(t->toh), t->m.nr == 0);
	if (!full)
		return;
	assert_int_equal(dbtree_iterate(t->toh, false, walk_cb, &w), 0);
	assert_int_equal(w.w_i, t->m.nr);
	w.w_i = t->m.nr - 1;
	w.w_step = -1;
	assert_int_equal(dbtree_iterate(t->toh, true, walk_cb, &w), 0);
	assert_int_equal(w.w_i, -1);
}

static const dbtree_probe_opc_t all_opcs[] = {
    BTR_PROBE_FIRST, BTR_PROBE_LAST, BTR_PROBE_EQ, BTR_PROBE_GT,
    BTR_PROBE_LT,    BTR_PROBE_GE,   BTR_PROBE_LE,
};

/* One random operation on tree and model; @grow biases towards inserts (1), deletes (-1). */
static void
random_op(struct tctx *t, uint64_t pool, int grow)
{
	uint8_t key[KMAX], val[VMAX], kbuf[KMAX];
	d_iov_t kiov, viov, kout, vout;
	size_t klen, vlen;
	uint64_t op = rnd(t, 100);
	bool eq;
	int p, rc;

	gen_key(t->kind, rnd(t, pool), key, &klen);
	d_iov_set(&kiov, key, klen);
	vlen = gen_val(t, val);
	d_iov_set(&viov, val, vlen);
	p = model_find(&t->m, key, klen, &eq);
	if (grow > 0)
		op = op < 50 ? op / 2 : op; /* more of the insert kinds below */
	else if (grow < 0 && op < 40)
		op = 40 + op % 20;

	if (op < 20) {
		rc = dbtree_update(t->toh, &kiov, &viov);
		assert_int_equal(rc, 0);
		model_put(&t->m, key, klen, val, vlen);
	} else if (op < 30) {
		memset(&vout, 0, sizeof(vout));
		rc = dbtree_upsert(t->toh, BTR_UPSERT_INSERT, &kiov, &viov, &vout);
		if (eq) {
			assert_int_equal(rc, -DER_EXIST);
		} else {
			assert_int_equal(rc, 0);
			assert_int_equal(vout.iov_len, vlen);
			assert_memory_equal(vout.iov_buf, val, vlen);
			model_put(&t->m, key, klen, val, vlen);
		}
	} else if (op < 40) {
		rc = dbtree_upsert(t->toh, BTR_UPSERT_UPDATE, &kiov, &viov, NULL);
		if (!eq) {
			assert_int_equal(rc, -DER_NONEXIST);
		} else {
			assert_int_equal(rc, 0);
			model_put(&t->m, key, klen, val, vlen);
		}
	} else if (op < 55) {
		/* delete, mostly a key that is there */
		if (t->m.nr > 0 && rnd(t, 4) != 0) {
			p = (int)rnd(t, (uint64_t)t->m.nr);
			memcpy(key, t->m.recs[p].key, t->m.recs[p].klen);
			d_iov_set(&kiov, key, t->m.recs[p].klen);
			eq = true;
		}
		rc = dbtree_delete(t->toh, &kiov, &t_frees);
		if (!eq) {
			assert_int_equal(rc, -DER_NONEXIST);
		} else {
			assert_int_equal(rc, 0);
			model_del_at(&t->m, p);
		}
	} else if (op < 60) {
		/* detach: the body comes back, and it is ours to free */
		umem_off_t body = UMOFF_NULL;

		if (t->m.nr == 0)
			return;
		p = (int)rnd(t, (uint64_t)t->m.nr);
		d_iov_set(&kiov, t->m.recs[p].key, t->m.recs[p].klen);
		assert_int_equal(dbtree_detach(t->toh, &kiov, &body), 0);
		{
			struct tbody *tb = umem_off2ptr(t->umm, body);

			assert_int_equal(tb->tb_klen, t->m.recs[p].klen);
			assert_memory_equal(tb->tb_data, t->m.recs[p].key, tb->tb_klen);
		}
		umem_tx_begin(t->umm);
		assert_int_equal(umem_free(t->umm, body), 0);
		assert_int_equal(umem_tx_end(t->umm, 0), 0);
		model_del_at(&t->m, p);
	} else if (op < 70) {
		memset(&vout, 0, sizeof(vout));
		rc = dbtree_lookup(t->toh, &kiov, &vout);
		check_rec(t, rc, eq ? p : -1, NULL, &vout);
	} else if (op < 85) {
		/* fetch with every opcode; copy out half the time */
		dbtree_probe_opc_t opc = all_opcs[rnd(t, D_ARRAY_SIZE(all_opcs))];
		bool copy = rnd(t, 2);
		uint8_t vbuf[VMAX];

		if (copy) {
			d_iov_set(&kout, kbuf, sizeof(kbuf));
			d_iov_set(&vout, vbuf, sizeof(vbuf));
		} else {
			memset(&kout, 0, sizeof(kout));
			memset(&vout, 0, sizeof(vout));
		}
		rc = dbtree_fetch(t->toh, opc, &kiov, &kout, &vout);
		check_rec(t, rc, model_probe(&t->m, opc, key, klen), &kout, &vout);
	} else if (op < 97) {
		/* an iterator from a random probe, a few steps either way */
		dbtree_probe_opc_t opc = all_opcs[rnd(t, D_ARRAY_SIZE(all_opcs))];
		struct btr_iterator *ih;
		int e = model_probe(&t->m, opc, key, klen), n = (int)rnd(t, 12), i;

		assert_int_equal(dbtree_iter_prepare(t->toh, &ih), 0);
		rc = dbtree_iter_probe(ih, opc, &kiov, NULL);
		for (i = 0;; i++) {
			memset(&kout, 0, sizeof(kout));
			memset(&vout, 0, sizeof(vout));
			if (e < 0 || e >= t->m.nr) {
				assert_int_equal(rc, -DER_NONEXIST);
				assert_int_equal(dbtree_iter_fetch(ih, &kout, &vout, NULL),
						 -DER_NONEXIST);
				break;
			}
			assert_int_equal(rc, 0);
			rc = dbtree_iter_fetch(ih, &kout, &vout, NULL);
			check_rec(t, rc, e, &kout, &vout);
			if (i == n)
				break;
			if (rnd(t, 2)) {
				rc = dbtree_iter_next(ih);
				e++;
			} else {
				rc = dbtree_iter_prev(ih);
				e--;
			}
		}
		dbtree_iter_finish(ih);
	} else {
		/* delete at an iterator, then step on: its neighbours */
		struct btr_iterator *ih;
		bool next = rnd(t, 2);
		int e;

		if (t->m.nr == 0)
			return;
		p = (int)rnd(t, (uint64_t)t->m.nr);
		klen = t->m.recs[p].klen;
		memcpy(key, t->m.recs[p].key, klen);
		d_iov_set(&kiov, key, klen);
		assert_int_equal(dbtree_iter_prepare(t->toh, &ih), 0);
		assert_int_equal(dbtree_iter_probe(ih, BTR_PROBE_EQ, &kiov, NULL), 0);
		assert_int_equal(dbtree_iter_delete(ih, NULL), 0);
		model_del_at(&t->m, p);
		memset(&kout, 0, sizeof(kout));
		assert_int_equal(dbtree_iter_fetch(ih, &kout, NULL, NULL), -DER_NONEXIST);
		rc = next ? dbtree_iter_next(ih) : dbtree_iter_prev(ih);
		/* p and p - 1, unless a partial anchor takes the hash group again */
		e = model_resume(&t->m, key, klen, next);
		if (e >= 0) {
			assert_int_equal(rc, 0);
			rc = dbtree_iter_fetch(ih, &kout, NULL, NULL);
		}
		check_rec(t, rc, e, &kout, NULL);
		dbtree_iter_finish(ih);
	}
}

/* A tree of @kind and @order through grow, churn and shrink phases, checked every step. */
static void
model_run(enum tkind kind, unsigned int order, uint64_t pool, int steps, uint64_t *rs)
{
	struct tctx t;
	struct btr_attr attr;
	int i, max_nr = 0;
	unsigned int max_depth = 0;

	tctx_init(&t, kind, order, HEAP_SIZE, false, d_test_rand(rs));
	for (i = 0; i < steps; i++) {
		int phase = i < steps / 3 ? 1 : i < 2 * steps / 3 ? 0 : -1;

		random_op(&t, pool, phase);
		verify(&t, i % 97 == 0);
		dbtree_query(t.toh, &attr, NULL);
		max_depth = attr.ba_depth > max_depth ? attr.ba_depth : max_depth;
		max_nr = t.m.nr > max_nr ? t.m.nr : max_nr;
	}
	/* empty it completely: the root must go */
	while (t.m.nr > 0)
		random_op(&t, pool, -1);
	verify(&t, true);
	dbtree_query(t.toh, &attr, NULL);
	assert_int_equal(attr.ba_depth, 0);
	assert_int_equal(t.root->tr_node, UMOFF_NULL);
	printf("  %-12s order %4u: %d steps, up to %d records, depth up to %u\n", tkinds[kind].name,
	       order, steps, max_nr, max_depth);
	tctx_fini(&t);
}

static void
t_btree_model(void **state)
{
	unsigned int seed = d_test_seed("t_btree_model");
	uint64_t rs = d_test_rand_seed(seed);
	static const unsigned int orders[] = {3, 4, 7, BTR_ORDER_DEFAULT};
	int k, o;

	(void)state;
	for (k = 0; k < TK_NR; k++)
		for (o = 0; o < (int)D_ARRAY_SIZE(orders); o++)
			model_run(k, orders[o], orders[o] < 8 ? 300 : 1500,
				  orders[o] < 8 ? 2500 : 3000, &rs);
}

/* Anchors and live iterators, resumed across random changes: each key present from the
 * start to the end of an enumeration is returned, and in order. */

static void
anchor_mutate(struct tctx *t, uint64_t pool, const uint8_t *cur, size_t curlen)
{
	uint8_t key[KMAX], val[VMAX];
	d_iov_t kiov, viov;
	size_t klen, vlen;
	int n = (int)rnd(t, 4), i, p, act;
	bool eq;

	for (i = 0; i < n; i++) {
		act = (int)rnd(t, 6);
		if (act < 2) {
			/* the anchored key itself: gone, or back again */
			memcpy(key, cur, curlen);
			klen = curlen;
		} else {
			gen_key(t->kind, rnd(t, pool), key, &klen);
		}
		d_iov_set(&kiov, key, klen);
		vlen = gen_val(t, val);
		d_iov_set(&viov, val, vlen);
		p = model_find(&t->m, key, klen, &eq);
		if (eq && (act < 2 || act == 4)) {
			assert_int_equal(dbtree_delete(t->toh, &kiov, NULL), 0);
			model_del_at(&t->m, p);
		} else if (eq && act < 4) {
			/* a new value, perhaps in a new body */
			assert_int_equal(
			    dbtree_upsert(t->toh, BTR_UPSERT_UPDATE, &kiov, &viov, NULL), 0);
			model_put(&t->m, key, klen, val, vlen);
		} else if (!eq && act < 4) {
			assert_int_equal(
			    dbtree_upsert(t->toh, BTR_UPSERT_INSERT, &kiov, &viov, NULL), 0);
			model_put(&t->m, key, klen, val, vlen);
			t->m.recs[model_find(&t->m, key, klen, &eq)].stable = false;
		}
	}
}

static void
anchor_run(enum tkind kind, unsigned int order, bool next, bool live, uint64_t *rs)
{
	uint8_t cur[KMAX], key[KMAX], val[VMAX];
	struct dbtree_anchor anchor = {0};
	struct btr_iterator *ih = NULL;
	uint64_t pool = 400;
	size_t curlen = (size_t)-1, klen, vlen;
	d_iov_t kiov, viov, kout;
	int i, e, rc, steps = 0, stable = 0;
	struct tctx t;
	bool eq;

	tctx_init(&t, kind, order, HEAP_SIZE, false, d_test_rand(rs));
	for (i = 0; i < 250; i++) {
		gen_key(kind, rnd(&t, pool), key, &klen);
		vlen = gen_val(&t, val);
		d_iov_set(&kiov, key, klen);
		d_iov_set(&viov, val, vlen);
		assert_int_equal(dbtree_update(t.toh, &kiov, &viov), 0);
		model_put(&t.m, key, klen, val, vlen);
	}
	for (i = 0; i < t.m.nr; i++)
		t.m.recs[i].stable = true;
	if (live)
		assert_int_equal(dbtree_iter_prepare(t.toh, &ih), 0);

	for (;; steps++) {
		assert_true(steps < 5000);
		if (curlen == (size_t)-1) {
			e = next ? (t.m.nr > 0 ? 0 : -1) : t.m.nr - 1;
		} else {
			e = model_resume(&t.m, cur, curlen, next);
		}
		if (live) {
			if (curlen == (size_t)-1)
				rc = dbtree_iter_probe(ih, next ? BTR_PROBE_FIRST : BTR_PROBE_LAST,
						       NULL, NULL);
			else
				rc = next ? dbtree_iter_next(ih) : dbtree_iter_prev(ih);
		} else {
			assert_int_equal(dbtree_iter_prepare(t.toh, &ih), 0);
			rc = dbtree_iter_probe(ih, next ? BTR_PROBE_GT : BTR_PROBE_LT, NULL,
					       &anchor);
		}
		if (e < 0) {
			assert_int_equal(rc, -DER_NONEXIST);
			if (!live)
				dbtree_iter_finish(ih);
			break;
		}
		assert_int_equal(rc, 0);
		memset(&kout, 0, sizeof(kout));
		assert_int_equal(dbtree_iter_fetch(ih, &kout, NULL, &anchor), 0);
		check_rec(&t, 0, e, &kout, NULL);
		t.m.recs[e].visited = true;
		curlen = t.m.recs[e].klen;
		memcpy(cur, t.m.recs[e].key, curlen);
		if (!live)
			dbtree_iter_finish(ih);
		anchor_mutate(&t, pool, cur, curlen);
		if (live && rnd(&t, 4) == 0) {
			/* the record under a live iterator is gone: fetch says so */
			model_find(&t.m, cur, curlen, &eq);
			memset(&kout, 0, sizeof(kout));
			rc = dbtree_iter_fetch(ih, &kout, NULL, NULL);
			if (eq)
				assert_int_equal(rc, 0);
			else
				assert_int_equal(rc, -DER_NONEXIST);
		}
	}
	if (live)
		dbtree_iter_finish(ih);
	for (i = 0; i < t.m.nr; i++) {
		if (t.m.recs[i].stable) {
			assert_true(t.m.recs[i].visited);
			stable++;
		}
	}
	assert_true(stable > 0);
	verify(&t, true);
	tctx_fini(&t);
}

static void
t_btree_anchor(void **state)
{
	unsigned int seed = d_test_seed("t_btree_anchor");
	uint64_t rs = d_test_rand_seed(seed);
	int k, r;

	(void)state;
	for (k = 0; k < TK_NR; k++)
		for (r = 0; r < 8; r++)
			anchor_run(k, r % 2 ? 3 : BTR_ORDER_DEFAULT, r & 2, r & 4, &rs);
}

/* Anchors are validated: garbage, and anchors of another kind of tree, are refused. */
static void
t_btree_anchor_bad(void **state)
{
	unsigned int seed = d_test_seed("t_btree_anchor_bad");
	uint64_t rs = d_test_rand_seed(seed), v = 5;
	struct dbtree_anchor a, ua;
	struct btr_iterator *ih;
	uint8_t key[KMAX];
	d_iov_t kiov;
	size_t klen;
	struct tctx t, u;
	int i, k, rc;

	(void)state;
	tctx_init(&u, TK_UINT, 4, UMEM_HEAP_MIN * 4, false, 1);
	d_iov_set(&kiov, &v, sizeof(v));
	assert_int_equal(dbtree_update(u.toh, &kiov, &kiov), 0);
	assert_int_equal(dbtree_iter_prepare(u.toh, &ih), 0);
	assert_int_equal(dbtree_iter_probe(ih, BTR_PROBE_FIRST, NULL, NULL), 0);
	assert_int_equal(dbtree_iter_fetch(ih, NULL, NULL, &ua), 0);
	dbtree_iter_finish(ih);

	for (k = TK_HASH; k < TK_NR; k++) {
		tctx_init(&t, k, 4, UMEM_HEAP_MIN * 4, false, 1);
		for (i = 0; i < 50; i++) {
			gen_key(k, (uint64_t)i, key, &klen);
			d_iov_set(&kiov, key, klen);
			assert_int_equal(dbtree_update(t.toh, &kiov, &kiov), 0);
			model_put(&t.m, key, klen, key, klen < VMAX ? klen : 0);
		}
		assert_int_equal(dbtree_iter_prepare(t.toh, &ih), 0);
		assert_int_equal(dbtree_iter_probe(ih, BTR_PROBE_GT, NULL, &ua), -DER_INVAL);
		assert_int_equal(dbtree_iter_next(ih), -DER_INVAL); /* not positioned */
		for (i = 0; i < 2000; i++) {
			size_t j;

			if (i % 2) {
				for (j = 0; j < sizeof(a.ba_buf); j++)
					a.ba_buf[j] = (uint8_t)d_test_rand(&rs);
			} else {
				/* a real anchor with a few bytes flipped */
				assert_int_equal(dbtree_iter_probe(ih, BTR_PROBE_FIRST, NULL, NULL),
						 0);
				assert_int_equal(dbtree_iter_fetch(ih, NULL, NULL, &a), 0);
				for (j = 0; j < 3; j++)
					a.ba_buf[d_test_rand(&rs) % 16] ^=
					    (uint8_t)(1 + d_test_rand(&rs) % 255);
			}
			rc = dbtree_iter_probe(ih, all_opcs[i % D_ARRAY_SIZE(all_opcs)], NULL, &a);
			assert_true(rc == 0 || rc == -DER_INVAL || rc == -DER_NONEXIST);
		}
		dbtree_iter_finish(ih);
		verify(&t, false);
		tctx_fini(&t);
	}
	tctx_fini(&u);
}

/*
 * Handles in caller storage (dbtree_open_inplace_buf / dbtree_create_inplace_buf): a tree
 * built through handles opened and closed in a dirty buffer, one update each, holds what
 * the model holds, seen through an allocated handle. A third of the updates are a lookup
 * and dbtree_insert_probed (the one descent VOS makes for a new key: a record put where
 * the probe did not end breaks the order dbtree_check verifies), a third
 * dbtree_insert_probed alone (no probe: a full insert).
 */
static void
t_btree_buf(void **state)
{
	uint64_t rs = d_test_rand_seed(d_test_seed("t_btree_buf"));
	uint8_t key[KMAX], val[VMAX];
	struct dbtree_buf buf;
	struct btr_instance *toh;
	size_t klen, vlen;
	d_iov_t kiov, viov;
	struct tctx t;
	int k, i, rc;

	(void)state;
	for (k = 0; k < TK_NR; k++) {
		tctx_init(&t, k, BTR_ORDER_DEFAULT, HEAP_SIZE, false, d_test_rand(&rs));
		assert_int_equal(dbtree_destroy(t.toh, NULL), 0);
		t.toh = NULL;
		memset(&buf, 0xa5, sizeof(buf));
		assert_int_equal(dbtree_create_inplace_buf(tkinds[k].cls, tkinds[k].feats, 4, t.umm,
							   t.root, NULL, &buf, &toh),
				 0);
		dbtree_close(toh);
		for (i = 0; i < 2000; i++) {
			gen_key(k, d_test_rand(&rs) % 5000, key, &klen);
			vlen = gen_val(&t, val);
			d_iov_set(&kiov, key, klen);
			d_iov_set(&viov, val, vlen);
			memset(&buf, (int)(i & 0xff), sizeof(buf));
			assert_int_equal(dbtree_open_inplace_buf(t.root, t.umm, NULL, &buf, &toh),
					 0);
			if (i % 3 == 0) {
				assert_int_equal(dbtree_update(toh, &kiov, &viov), 0);
			} else {
				/* as VOS inserts a key: lookup, then insert where it missed */
				bool eq;

				model_find(&t.m, key, klen, &eq);
				if (i % 3 == 1)
					assert_int_equal(dbtree_lookup(toh, &kiov, NULL),
							 eq ? 0 : -DER_NONEXIST);
				rc = dbtree_insert_probed(toh, &kiov, &viov);
				assert_int_equal(rc, eq ? -DER_EXIST : 0);
				if (eq)
					assert_int_equal(dbtree_update(toh, &kiov, &viov), 0);
			}
			dbtree_close(toh);
			model_put(&t.m, key, klen, val, vlen);
		}
		assert_int_equal(dbtree_open_inplace(t.root, t.umm, &t.toh), 0);
		verify(&t, true);
		tctx_fini(&t);
	}
}

/* Destroy and drain give back every byte, records of nested sub-trees included. */
static void
t_btree_destroy_space(void **state)
{
	unsigned int seed = d_test_seed("t_btree_destroy_space");
	uint64_t rs = d_test_rand_seed(seed), frees;
	struct umem_stats before, after;
	struct btr_instance *toh, *sub;
	uint8_t key[KMAX], val[VMAX];
	d_iov_t kiov, viov;
	size_t klen, vlen;
	struct tctx t;
	int k, i, credits;
	bool destroyed;

	(void)state;
	for (k = 0; k < TK_NR; k++) {
		tctx_init(&t, k, k % 2 ? 3 : BTR_ORDER_DEFAULT, HEAP_SIZE, false, d_test_rand(&rs));
		assert_int_equal(dbtree_destroy(t.toh, NULL), 0);
		umem_query(t.umm, &before);

		/* destroy */
		assert_int_equal(
		    dbtree_create_inplace(tkinds[k].cls, tkinds[k].feats, 5, t.umm, t.root, &t.toh),
		    0);
		for (i = 0; i < 3000; i++) {
			gen_key(k, d_test_rand(&rs) % 100000, key, &klen);
			vlen = gen_val(&t, val);
			d_iov_set(&kiov, key, klen);
			d_iov_set(&viov, val, vlen);
			assert_int_equal(dbtree_update(t.toh, &kiov, &viov), 0);
			model_put(&t.m, key, klen, val, vlen);
		}
		verify(&t, false);
		frees = t_frees;
		assert_int_equal(dbtree_destroy(t.toh, &t_frees), 0);
		t.toh = NULL;
		if (k != TK_UINT) /* the uint class leaves freeing to the tree */
			assert_int_equal(t_frees - frees, (uint64_t)t.m.nr);
		umem_query(t.umm, &after);
		assert_int_equal(after.us_used, before.us_used);
		assert_int_equal(after.us_nr_allocs, before.us_nr_allocs);
		assert_int_equal(dbtree_open_inplace(t.root, t.umm, &toh), -DER_NONEXIST);

		/* drain, a few records a transaction */
		assert_int_equal(
		    dbtree_create_inplace(tkinds[k].cls, tkinds[k].feats, 4, t.umm, t.root, &t.toh),
		    0);
		for (i = 0; i < t.m.nr; i++) {
			d_iov_set(&kiov, t.m.recs[i].key, t.m.recs[i].klen);
			d_iov_set(&viov, t.m.recs[i].val, t.m.recs[i].vlen);
			assert_int_equal(dbtree_update(t.toh, &kiov, &viov), 0);
		}
		for (i = 0;; i++) {
			credits = 1 + (int)(d_test_rand(&rs) % 200);
			assert_int_equal(dbtree_drain(t.toh, &credits, NULL, &destroyed), 0);
			assert_int_equal(dbtree_check(t.toh, NULL), 0);
			if (destroyed)
				break;
			assert_int_equal(credits, 0);
		}
		assert_true(dbtree_is_empty(t.toh));
		assert_int_equal(dbtree_destroy(t.toh, NULL), 0);
		t.toh = NULL;
		umem_query(t.umm, &after);
		assert_int_equal(after.us_used, before.us_used);
		assert_int_equal(after.us_nr_allocs, before.us_nr_allocs);
		tctx_fini(&t);
	}

	/* nested: a uint tree of sub-trees; destroying the top frees everything */
	assert_int_equal(umem_create(HEAP_SIZE, 64, NULL, NULL, &t.umm), 0);
	t.root = umem_off2ptr(t.umm, umem_root(t.umm));
	umem_query(t.umm, &before);
	assert_int_equal(
	    dbtree_create_inplace(TCLS_NEST, BTR_FEAT_UINT_KEY, 3, t.umm, t.root, &toh), 0);
	for (i = 0; i < 200; i++) {
		uint64_t ukey = d_test_rand(&rs) % 1000, v = ukey * 3;
		d_iov_t vout = {0};
		struct nbody *nb;
		int j;

		d_iov_set(&kiov, &ukey, sizeof(ukey));
		d_iov_set(&viov, &v, sizeof(v));
		if (dbtree_lookup(toh, &kiov, &vout) == -DER_NONEXIST)
			assert_int_equal(dbtree_upsert(toh, BTR_UPSERT_INSERT, &kiov, &viov, &vout),
					 0);
		nb = vout.iov_buf;
		assert_int_equal(nb->nb_val, v);
		assert_int_equal(dbtree_open_inplace(&nb->nb_sub, t.umm, &sub), 0);
		for (j = 0; j < 20; j++) {
			gen_key(TK_DIRECT, d_test_rand(&rs) % 500, key, &klen);
			d_iov_set(&kiov, key, klen);
			assert_int_equal(dbtree_update(sub, &kiov, &kiov), 0);
		}
		assert_int_equal(dbtree_check(sub, NULL), 0);
		dbtree_close(sub);
	}
	assert_int_equal(dbtree_check(toh, NULL), 0);
	assert_int_equal(dbtree_destroy(toh, NULL), 0);
	umem_query(t.umm, &after);
	assert_int_equal(after.us_used, before.us_used);
	assert_int_equal(after.us_nr_allocs, before.us_nr_allocs);
	umem_close(t.umm);
}

/* Copy of the heap with free space zeroed: the state an abort must restore. */
static char *
heap_snapshot(struct umem_instance *umm)
{
	size_t size = umem_size(umm);
	char *img = malloc(size);

	assert_non_null(img);
	memcpy(img, umem_base(umm), size);
	assert_int_equal(umem_image_zero_free(img, size), 0);
	return img;
}

/* An aborted outer transaction leaves the heap exactly as it was. */
static void
t_btree_abort(void **state)
{
	unsigned int seed = d_test_seed("t_btree_abort");
	uint64_t rs = d_test_rand_seed(seed);
	struct umem_stats a, b;
	struct model saved;
	char *before, *after;
	struct tctx t;
	int k, round, i;

	(void)state;
	for (k = 0; k < TK_NR; k++) {
		tctx_init(&t, k, 3 + (unsigned int)k, HEAP_SIZE / 4, false, d_test_rand(&rs));
		for (i = 0; i < 300; i++)
			random_op(&t, 400, 1);
		for (round = 0; round < 6; round++) {
			before = heap_snapshot(t.umm);
			umem_query(t.umm, &a);
			saved = t.m;
			saved.recs = malloc(sizeof(struct mrec) * (size_t)t.m.cap);
			memcpy(saved.recs, t.m.recs, sizeof(struct mrec) * (size_t)t.m.nr);

			/* enough changes for splits, merges, a new root or an emptied tree */
			assert_int_equal(umem_tx_begin(t.umm), 0);
			for (i = 0; i < 400; i++)
				random_op(&t, 400, round % 2 ? -1 : 1);
			assert_int_equal(umem_tx_end(t.umm, -DER_CANCELED), -DER_CANCELED);

			free(t.m.recs);
			t.m = saved;
			verify(&t, true);
			after = heap_snapshot(t.umm);
			assert_memory_equal(before, after, umem_size(t.umm));
			umem_query(t.umm, &b);
			assert_memory_equal(&a, &b, sizeof(a));
			free(before);
			free(after);
			/* and it still works */
			for (i = 0; i < 100; i++)
				random_op(&t, 400, 0);
			verify(&t, true);
		}
		tctx_fini(&t);
	}
}

/*
 * A tree of one record in its small first leaf: a transaction that grows it to a full
 * node (second and third records) and aborts leaves the heap as it was, byte for byte
 * (the root's node offset, the small leaf, the allocator), and the tree still works.
 */
static void
first_leaf_abort(struct tctx *t)
{
	uint8_t key[KMAX], val[VMAX];
	struct umem_stats a, b;
	char *before, *after;
	size_t klen, asz;
	d_iov_t kiov, viov;
	uint64_t id;
	bool eq;

	asz = umem_alloc_size(t->umm, t->root->tr_node);
	before = heap_snapshot(t->umm);
	umem_query(t->umm, &a);
	assert_int_equal(umem_tx_begin(t->umm), 0);
	for (id = 1000; id < 1002; id++) {
		gen_key(t->kind, id, key, &klen);
		(void)model_find(&t->m, key, klen, &eq);
		if (eq)
			continue;
		d_iov_set(&kiov, key, klen);
		d_iov_set(&viov, val, gen_val(t, val));
		assert_int_equal(dbtree_update(t->toh, &kiov, &viov), 0);
		assert_true(umem_alloc_size(t->umm, t->root->tr_node) > asz); /* grown */
	}
	assert_int_equal(umem_tx_end(t->umm, -DER_CANCELED), -DER_CANCELED);
	after = heap_snapshot(t->umm);
	assert_memory_equal(before, after, umem_size(t->umm));
	umem_query(t->umm, &b);
	assert_memory_equal(&a, &b, sizeof(a));
	assert_int_equal(umem_alloc_size(t->umm, t->root->tr_node), asz);
	free(before);
	free(after);
	verify(t, true);
}

/*
 * BTR_FEAT_FIRST_SMALL: the first leaf of a tree has room for one record (BTR_FIRST_CAP):
 * a tree of one record costs a small node; the second record moves them to a full node;
 * emptied and filled again, the tree starts small again. Every kind. Without the feature
 * the first leaf is a full node. (The other tests take the feature or not by the seed.)
 */
static void
t_btree_first_leaf(void **state)
{
	unsigned int seed = d_test_seed("t_btree_first_leaf");
	uint64_t rs = d_test_rand_seed(seed);
	uint8_t key[KMAX], val[VMAX];
	d_iov_t kiov, viov;
	struct tctx t;
	size_t klen, small = 0;
	int k, round;
	uint64_t id;

	(void)state;
	for (k = 0; k < 2 * TK_NR; k++) {
		first_small = k < TK_NR;
		tctx_init(&t, k % TK_NR, BTR_ORDER_DEFAULT, HEAP_SIZE, false, d_test_rand(&rs));
		first_small = -1;
		for (round = 0; round < 2; round++) {
			for (id = 1; id <= 40; id++) {
				size_t vlen = gen_val(&t, val), asz;
				bool eq;

				gen_key(t.kind, id, key, &klen);
				d_iov_set(&kiov, key, klen);
				d_iov_set(&viov, val, vlen);
				(void)model_find(&t.m, key, klen, &eq);
				if (eq)
					continue; /* a collision of generated keys */
				assert_int_equal(dbtree_update(t.toh, &kiov, &viov), 0);
				model_put(&t.m, key, klen, val, vlen);
				asz = umem_alloc_size(t.umm, t.root->tr_node);
				if (t.m.nr == 1 && k >= TK_NR) {
					assert_true(asz >= 16 + BTR_ORDER_DEFAULT * 8);
					small = 0;
				} else if (t.m.nr == 1) {
					/* header + one entry of at most 8 + BTR_HKEY_MAX bytes */
					assert_true(asz <= 16 + 8 + BTR_HKEY_MAX);
					small = asz;
				} else if (t.root->tr_depth == 1) {
					assert_true(asz >= 16 + BTR_ORDER_DEFAULT * 8);
					assert_true(asz > small);
				}
				verify(&t, t.m.nr < 4);
				if (t.m.nr == 1 && k < TK_NR)
					first_leaf_abort(&t);
			}
			/* empty it again */
			while (t.m.nr > 0) {
				d_iov_set(&kiov, t.m.recs[0].key, t.m.recs[0].klen);
				assert_int_equal(dbtree_delete(t.toh, &kiov, NULL), 0);
				model_del_at(&t.m, 0);
			}
			verify(&t, true);
			assert_int_equal(t.root->tr_depth, 0);
		}
		tctx_fini(&t);
	}
}

/* A replica built from redo records alone, reopened, holds the same tree. */
static void
t_btree_reopen(void **state)
{
	unsigned int seed = d_test_seed("t_btree_reopen");
	uint64_t rs = d_test_rand_seed(seed);
	size_t size = HEAP_SIZE / 4;
	struct tctx t;
	void *image;
	int k, i;

	(void)state;
	for (k = 0; k < TK_NR; k++) {
		tctx_init(&t, k, k % 2 ? 4 : 16, size, true, d_test_rand(&rs));
		for (i = 0; i < 1500; i++) {
			if (i % 100 == 50) {
				/* some work in one outer transaction, some aborted */
				bool abort_it = i % 200 == 50;
				struct model saved = t.m;

				saved.recs = malloc(sizeof(struct mrec) * (size_t)t.m.cap);
				memcpy(saved.recs, t.m.recs, sizeof(struct mrec) * (size_t)t.m.nr);
				umem_tx_begin(t.umm);
				for (int j = 0; j < 30; j++)
					random_op(&t, 600, 0);
				assert_int_equal(umem_tx_end(t.umm, abort_it ? -DER_CANCELED : 0),
						 abort_it ? -DER_CANCELED : 0);
				if (abort_it) {
					free(t.m.recs);
					t.m = saved;
				} else {
					free(saved.recs);
				}
			}
			random_op(&t, 600, i < 1000 ? 1 : -1);
		}
		verify(&t, true);
		dbtree_close(t.toh);
		umem_close(t.umm);

		image =
		    mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		assert_true(image != MAP_FAILED);
		memcpy(image, t.rep.image, size);
		assert_int_equal(umem_open(image, size, &replica_ops, &t.rep, &t.umm), 0);
		t.root = umem_off2ptr(t.umm, umem_root(t.umm));
		assert_int_equal(dbtree_open_inplace(t.root, t.umm, &t.toh), 0);
		verify(&t, true);
		for (i = 0; i < t.m.nr; i++) {
			d_iov_t kiov, vout = {0};

			d_iov_set(&kiov, t.m.recs[i].key, t.m.recs[i].klen);
			check_rec(&t, dbtree_lookup(t.toh, &kiov, &vout), i, NULL, &vout);
		}
		/* and it goes on working */
		for (i = 0; i < 300; i++)
			random_op(&t, 600, 0);
		verify(&t, true);
		tctx_fini(&t);
	}
}

/*
 * Fail the Nth heap allocation (D_FI_UMEM_ALLOC) or the Nth volatile one (D_FI_ALLOC) of a
 * short workload, for every N until a run sees no failure: each failure is a clean error,
 * the tree stays consistent and equal to the model, and destroying it gives back every byte.
 */
static int
fi_workload(struct tctx *t, int expect)
{
	uint8_t key[KMAX], val[VMAX];
	struct btr_iterator *ih;
	d_iov_t kiov, viov;
	size_t klen, vlen;
	int i, rc, p, failures = 0;
	bool eq;

	for (i = 0; i < 90; i++) {
		gen_key(t->kind, (uint64_t)(i < 60 ? i : (i * 7) % 60), key, &klen);
		d_iov_set(&kiov, key, klen);
		memset(val, i, sizeof(val));
		vlen = i < 60 ? 10 : 90; /* the updates outgrow the values: new bodies */
		d_iov_set(&viov, val, vlen);
		p = model_find(&t->m, key, klen, &eq);
		if (i >= 75 && eq) {
			if (i % 2) {
				rc = dbtree_delete(t->toh, &kiov, NULL);
			} else {
				rc = dbtree_iter_prepare(t->toh, &ih);
				if (rc == 0) {
					rc = dbtree_iter_probe(ih, BTR_PROBE_EQ, &kiov, NULL);
					assert_int_equal(rc, 0);
					rc = dbtree_iter_delete(ih, NULL);
					dbtree_iter_finish(ih);
				}
			}
			if (rc == 0)
				model_del_at(&t->m, p);
		} else {
			rc = dbtree_update(t->toh, &kiov, &viov);
			if (rc == 0)
				model_put(&t->m, key, klen, val, vlen);
		}
		if (rc != 0) {
			assert_int_equal(rc, expect);
			failures++;
		}
		/* no allocation in here: the fault must hit the tree, not the check */
		verify(t, false);
	}
	return failures;
}

static void
fi_run(enum tkind kind, uint32_t fault, int expect)
{
	int nth, failed_runs = 0;

	for (nth = 1; nth < 5000; nth++) {
		struct d_fault_attr fa = {
		    .fa_id = fault, .fa_interval = (uint32_t)nth, .fa_max_faults = 1};
		struct d_fault_attr after;
		struct umem_stats a, b;
		struct tctx t;
		int failures;

		tctx_init(&t, kind, 3, UMEM_HEAP_MIN * 4, true, 7);
		umem_query(t.umm, &a);
		d_fault_attr_set(&fa);
		failures = fi_workload(&t, expect);
		assert_int_equal(d_fault_attr_get(fault, &after), 0);
		d_fault_attr_clear(fault);
		assert_true(failures <= 1);
		verify(&t, true);
		assert_int_equal(dbtree_destroy(t.toh, NULL), 0);
		t.toh = NULL;
		umem_query(t.umm, &b);
		assert_int_equal(b.us_used, a.us_used);
		assert_int_equal(b.us_nr_allocs, a.us_nr_allocs);
		/* what the redo records describe is what the heap holds */
		assert_int_equal(umem_image_zero_free(t.rep.image, t.rep.size), 0);
		{
			char *img = heap_snapshot(t.umm);

			assert_memory_equal(img, t.rep.image, t.rep.size);
			free(img);
		}
		tctx_fini(&t);
		if (after.fa_num_faults == 0)
			break;
		failed_runs++;
	}
	printf("  %-12s fault %u: %d allocations failed in turn\n", tkinds[kind].name, fault,
	       failed_runs);
	assert_true(nth < 5000);
}

static void
t_btree_alloc_failure(void **state)
{
	(void)state;
	fi_run(TK_UINT, D_FI_UMEM_ALLOC, -DER_NOSPACE);
	fi_run(TK_HASHC, D_FI_UMEM_ALLOC, -DER_NOSPACE);
	fi_run(TK_DIRECT, D_FI_UMEM_ALLOC, -DER_NOSPACE);
	fi_run(TK_HKEY, D_FI_UMEM_ALLOC, -DER_NOSPACE);
	fi_run(TK_HASH, D_FI_ALLOC, -DER_NOMEM);
}

/* Refusals do not doom the caller's transaction; other errors do. */
static void
t_btree_outer_tx(void **state)
{
	uint8_t big[DBTREE_DIRECT_KEY_MAX + 1];
	uint64_t a = 1, b = 2;
	d_iov_t ka, kb, kbig, vout = {0};
	struct tctx t, u;

	(void)state;
	tctx_init(&u, TK_UINT, 3, UMEM_HEAP_MIN * 4, false, 1);
	d_iov_set(&ka, &a, sizeof(a));
	d_iov_set(&kb, &b, sizeof(b));
	assert_int_equal(dbtree_update(u.toh, &ka, &ka), 0);

	assert_int_equal(umem_tx_begin(u.umm), 0);
	assert_int_equal(dbtree_upsert(u.toh, BTR_UPSERT_INSERT, &ka, &ka, NULL), -DER_EXIST);
	assert_int_equal(dbtree_upsert(u.toh, BTR_UPSERT_UPDATE, &kb, &kb, NULL), -DER_NONEXIST);
	assert_int_equal(dbtree_delete(u.toh, &kb, NULL), -DER_NONEXIST);
	assert_int_equal(dbtree_upsert(u.toh, BTR_UPSERT_INSERT, &kb, &kb, NULL), 0);
	assert_int_equal(umem_tx_end(u.umm, 0), 0);
	assert_int_equal(dbtree_lookup(u.toh, &kb, &vout), 0);

	/* a direct key too long for an anchor is refused, the same way */
	tctx_init(&t, TK_DIRECT, 3, UMEM_HEAP_MIN * 4, false, 1);
	memset(big, 'x', sizeof(big));
	d_iov_set(&kbig, big, sizeof(big));
	assert_int_equal(umem_tx_begin(t.umm), 0);
	assert_int_equal(dbtree_update(t.toh, &kbig, &kbig), -DER_KEY2BIG);
	kbig.iov_len--;
	assert_int_equal(dbtree_update(t.toh, &kbig, &kbig), 0);
	assert_int_equal(umem_tx_end(t.umm, 0), 0);
	assert_int_equal(dbtree_lookup(t.toh, &kbig, NULL), 0);
	kbig.iov_len++;
	assert_int_equal(dbtree_lookup(t.toh, &kbig, NULL), -DER_NONEXIST);
	tctx_fini(&t);
	tctx_fini(&u);
}

/* Bad arguments and bad roots are refused; the checker catches a damaged node. */
static void
t_btree_bad_input(void **state)
{
	struct btr_root_df saved, *root;
	struct btr_instance *toh;
	struct btr_node_df *nd;
	struct btr_iterator *ih;
	uint64_t v, k4 = 4;
	uint32_t k32 = 1;
	d_iov_t kiov, k4iov;
	struct tctx t;
	int i;

	(void)state;
	assert_int_equal(dbtree_class_register(DBTREE_CLASS_MAX, 0, &t_ops), -DER_INVAL);
	assert_int_equal(dbtree_class_register(TCLS_HASH, 0, &t_ops), 0); /* again: harmless */
	assert_int_equal(dbtree_class_register(TCLS_HASH, 0, &t_ops_uint), -DER_EXIST);
	assert_int_equal(dbtree_class_register(DBTREE_TEST_END, BTR_FEAT_DIRECT_KEY, &t_ops_uint),
			 -DER_INVAL);

	tctx_init(&t, TK_UINT, 3, UMEM_HEAP_MIN * 4, false, 1);
	root = t.root;
	assert_int_equal(dbtree_create_inplace(TCLS_UINT, BTR_FEAT_UINT_KEY, 3, t.umm, root, &toh),
			 -DER_EXIST);
	dbtree_close(t.toh);
	t.toh = NULL;
	saved = *root;
	umem_tx_begin(t.umm);
	umem_tx_add_ptr(t.umm, root, sizeof(*root));
	memset(root, 0, sizeof(*root));
	assert_int_equal(dbtree_open_inplace(root, t.umm, &toh), -DER_NONEXIST);
	assert_int_equal(dbtree_create_inplace(TCLS_UINT, BTR_FEAT_UINT_KEY, 2, t.umm, root, &toh),
			 -DER_INVAL);
	assert_int_equal(dbtree_create_inplace(TCLS_UINT, BTR_FEAT_UINT_KEY, BTR_ORDER_MAX + 1,
					       t.umm, root, &toh),
			 -DER_INVAL);
	assert_int_equal(dbtree_create_inplace(DBTREE_TEST_END, 0, 8, t.umm, root, &toh),
			 -DER_NONEXIST);
	assert_int_equal(
	    dbtree_create_inplace(TCLS_UINT, BTR_FEAT_DIRECT_KEY, 8, t.umm, root, &toh),
	    -DER_INVAL);
	/* hashed by murmur64 without a key comparison: colliding keys would merge */
	assert_int_equal(dbtree_create_inplace(TCLS_UINT, 0, 8, t.umm, root, &toh), -DER_INVAL);
	assert_int_equal(dbtree_create_inplace(TCLS_DIRECT, BTR_FEAT_DIRECT_KEY | BTR_FEAT_UINT_KEY,
					       8, t.umm, root, &toh),
			 -DER_INVAL);
	/* garbage roots never crash the opener */
	for (i = 0; i < 10000; i++) {
		uint64_t s = d_test_rand_seed((unsigned int)i);
		int rc;

		for (size_t j = 0; j < sizeof(*root) / 8; j++)
			((uint64_t *)root)[j] = d_test_rand(&s);
		if (i % 3 == 0) {
			/* plausible except for one field */
			*root = saved;
			((uint8_t *)root)[d_test_rand(&s) % sizeof(*root)] ^=
			    (uint8_t)(1 + d_test_rand(&s) % 255);
		}
		rc = dbtree_open_inplace(root, t.umm, &toh);
		if (rc == 0) {
			/* the damage was harmless or hit a node offset that still validates */
			dbtree_check(toh, NULL);
			dbtree_close(toh);
		} else {
			assert_true(rc == -DER_INVAL || rc == -DER_NONEXIST);
		}
	}
	*root = saved;
	assert_int_equal(umem_tx_end(t.umm, 0), 0);

	assert_int_equal(dbtree_open_inplace(root, t.umm, &t.toh), 0);
	d_iov_set(&kiov, &k32, sizeof(k32));
	assert_int_equal(dbtree_update(t.toh, &kiov, &kiov), -DER_INVAL); /* not 8 bytes */
	assert_int_equal(dbtree_lookup(t.toh, &kiov, NULL), -DER_INVAL);
	d_iov_set(&k4iov, &k4, sizeof(k4));
	assert_int_equal(dbtree_fetch(t.toh, (dbtree_probe_opc_t)7, &k4iov, NULL, NULL),
			 -DER_INVAL);
	assert_int_equal(
	    dbtree_upsert(t.toh, BTR_UPSERT_INSERT | BTR_UPSERT_UPDATE, &k4iov, &k4iov, NULL),
	    -DER_INVAL);
	assert_int_equal(dbtree_fetch(t.toh, BTR_PROBE_FIRST, NULL, NULL, NULL), -DER_NONEXIST);
	assert_int_equal(dbtree_iter_prepare(t.toh, &ih), 0);
	assert_int_equal(dbtree_iter_probe(ih, BTR_PROBE_FIRST, NULL, NULL), -DER_NONEXIST);
	assert_int_equal(dbtree_iter_next(ih), -DER_NONEXIST);
	dbtree_iter_finish(ih);

	/* damage a leaf behind the tree's back: the checker notices, and does not crash */
	for (v = 10; v < 13; v++) {
		d_iov_set(&kiov, &v, sizeof(v));
		assert_int_equal(dbtree_update(t.toh, &kiov, &kiov), 0);
	}
	assert_int_equal(dbtree_check(t.toh, NULL), 0);
	nd = umem_off2ptr(t.umm, root->tr_node);
	v = ((uint64_t *)(nd + 1))[1];
	((uint64_t *)(nd + 1))[1] = ((uint64_t *)(nd + 1))[3];
	((uint64_t *)(nd + 1))[3] = v;
	assert_int_equal(dbtree_check(t.toh, NULL), -DER_INVAL);
	((uint64_t *)(nd + 1))[3] = ((uint64_t *)(nd + 1))[1];
	((uint64_t *)(nd + 1))[1] = v;
	assert_int_equal(dbtree_check(t.toh, NULL), 0);
	nd->tn_keyn = 1000;
	assert_int_equal(dbtree_check(t.toh, NULL), -DER_INVAL);
	nd->tn_keyn = 3;
	nd->tn_flags = 0;
	assert_int_equal(dbtree_check(t.toh, NULL), -DER_INVAL);
	nd->tn_flags = BTR_NODE_LEAF;
	((uint64_t *)(nd + 1))[0] += 8; /* a record body that is not an allocation */
	assert_int_equal(dbtree_check(t.toh, NULL), -DER_INVAL);
	((uint64_t *)(nd + 1))[0] -= 8;
	assert_int_equal(dbtree_check(t.toh, NULL), 0);
	tctx_fini(&t);
}

/* Informational: insert and lookup rates of uint keys at the default order. */
static void
t_btree_perf(void **state)
{
	unsigned int seed = d_test_seed("t_btree_perf");
	uint64_t rs = d_test_rand_seed(seed), *keys, v;
	struct timespec t0, t1, t2, t3, t4;
	const int n = 100000;
	struct btr_stat st;
	struct btr_attr attr;
	d_iov_t kiov, viov, vout;
	struct tctx t;
	double ins, look, del;
	int i;

	(void)state;
	keys = malloc(sizeof(*keys) * (size_t)n);
	for (i = 0; i < n; i++)
		keys[i] = d_test_rand(&rs);
	tctx_init(&t, TK_UINT, BTR_ORDER_DEFAULT, 64UL << 20, false, 1);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (i = 0; i < n; i++) {
		d_iov_set(&kiov, &keys[i], sizeof(keys[i]));
		d_iov_set(&viov, &keys[i], sizeof(keys[i]));
		assert_int_equal(dbtree_update(t.toh, &kiov, &viov), 0);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	for (i = 0; i < n; i++) {
		d_iov_set(&kiov, &keys[(i * 7919) % n], sizeof(v));
		memset(&vout, 0, sizeof(vout));
		assert_int_equal(dbtree_lookup(t.toh, &kiov, &vout), 0);
		assert_memory_equal(vout.iov_buf, kiov.iov_buf, sizeof(v));
	}
	clock_gettime(CLOCK_MONOTONIC, &t2);
	assert_int_equal(dbtree_check(t.toh, &st), 0);
	assert_int_equal(st.bs_rec_nr, (uint64_t)n);
	dbtree_query(t.toh, &attr, NULL);
	/* delete most of them in random order: merges at the default order */
	clock_gettime(CLOCK_MONOTONIC, &t3);
	for (i = 0; i < n - 1000; i++) {
		d_iov_set(&kiov, &keys[(i * 7919) % n], sizeof(v));
		assert_int_equal(dbtree_delete(t.toh, &kiov, NULL), 0);
	}
	clock_gettime(CLOCK_MONOTONIC, &t4);
	ins = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	look = (double)(t2.tv_sec - t1.tv_sec) + (double)(t2.tv_nsec - t1.tv_nsec) / 1e9;
	del = (double)(t4.tv_sec - t3.tv_sec) + (double)(t4.tv_nsec - t3.tv_nsec) / 1e9;
	printf("  %d uint64 keys, order %u, depth %u, %" PRIu64 " nodes: insert %.0f K/s, "
	       "lookup %.0f K/s, delete %.0f K/s (one transaction per change)\n",
	       n, attr.ba_order, attr.ba_depth, st.bs_node_nr, n / ins / 1e3, n / look / 1e3,
	       (n - 1000) / del / 1e3);
	assert_int_equal(dbtree_check(t.toh, &st), 0);
	assert_int_equal(st.bs_rec_nr, 1000);
	for (i = n - 1000; i < n; i++) {
		d_iov_set(&kiov, &keys[(i * 7919) % n], sizeof(v));
		assert_int_equal(dbtree_lookup(t.toh, &kiov, NULL), 0);
	}
	tctx_fini(&t);
	free(keys);
}

static int
setup(void **state)
{
	(void)state;
	assert_int_equal(dbtree_class_register(TCLS_UINT, BTR_FEAT_UINT_KEY, &t_ops_uint), 0);
	assert_int_equal(dbtree_class_register(TCLS_HASH, 0, &t_ops), 0);
	assert_int_equal(dbtree_class_register(TCLS_HASHC, 0, &t_ops_hashc), 0);
	assert_int_equal(dbtree_class_register(TCLS_DIRECT, BTR_FEAT_DIRECT_KEY, &t_ops), 0);
	assert_int_equal(dbtree_class_register(TCLS_NEST, BTR_FEAT_UINT_KEY, &n_ops), 0);
	assert_int_equal(dbtree_class_register(TCLS_HKEY, 0, &t_ops_hkey), 0);
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(t_btree_model),      cmocka_unit_test(t_btree_anchor),
	    cmocka_unit_test(t_btree_anchor_bad), cmocka_unit_test(t_btree_destroy_space),
	    cmocka_unit_test(t_btree_abort),      cmocka_unit_test(t_btree_first_leaf),
	    cmocka_unit_test(t_btree_reopen),     cmocka_unit_test(t_btree_alloc_failure),
	    cmocka_unit_test(t_btree_outer_tx),   cmocka_unit_test(t_btree_bad_input),
	    cmocka_unit_test(t_btree_perf),       cmocka_unit_test(t_btree_buf),
	};

	d_log_setmasks("CRIT");
	return cmocka_run_group_tests_name("vos_btree", tests, setup, NULL);
}
