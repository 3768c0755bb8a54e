/*
 * test_kvs.c: the store of a database without raft: transactions built with rdb_tx_* are
 * applied with rdb_store_apply and checked against a simple model; failed transactions
 * leave nothing behind; snapshots round-trip; truncated or corrupted entries and snapshots
 * are refused without a crash.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include <d_test.h>
#include <gurt/fault_inject.h>

#include "rdb_internal.h"

static int
apply(struct rdb_store *s, struct rdb_tx *tx)
{
	int rc = rdb_store_apply(s, tx->tx_buf, tx->tx_len);

	rdb_tx_abort(tx);
	return rc;
}

static struct rdb_tx *
tx_new(void)
{
	struct rdb_tx *tx;

	assert_int_equal(rdb_tx_begin(NULL, 0, &tx), 0);
	return tx;
}

static void
put(struct rdb_tx *tx, const char *t, const char *k, const char *v)
{
	d_iov_t key, val;

	d_iov_set(&key, (void *)k, strlen(k));
	d_iov_set(&val, (void *)v, strlen(v));
	assert_int_equal(rdb_tx_update(tx, t, &key, &val), 0);
}

static void
del(struct rdb_tx *tx, const char *t, const char *k)
{
	d_iov_t key;

	d_iov_set(&key, (void *)k, strlen(k));
	assert_int_equal(rdb_tx_delete(tx, t, &key), 0);
}

/* The value of @k in @t, or NULL. */
static const char *
get(struct rdb_store *s, const char *t, const char *k)
{
	static char buf[256];
	struct rdb_table *tbl = rdb_store_table_find(s, t);
	bool found;
	size_t pos;

	if (tbl == NULL)
		return NULL;
	pos = rdb_table_search(tbl, k, strlen(k), &found);
	if (!found)
		return NULL;
	snprintf(buf, sizeof(buf), "%.*s", (int)tbl->t_kvs[pos]->kv_vlen,
		 (const char *)tbl->t_kvs[pos]->kv_data + tbl->t_kvs[pos]->kv_klen);
	return buf;
}

static void
test_basic(void **state)
{
	struct rdb_store s;
	struct rdb_tx *tx;

	(void)state;
	rdb_store_init(&s);
	tx = tx_new();
	assert_int_equal(rdb_tx_table_create(tx, "pools"), 0);
	put(tx, "pools", "b", "2");
	put(tx, "pools", "a", "1");
	put(tx, "pools", "ab", "3");
	assert_int_equal(apply(&s, tx), 0);
	assert_int_equal(s.s_nr, 1);
	assert_int_equal(s.s_keys, 3);
	assert_string_equal(get(&s, "pools", "a"), "1");
	assert_string_equal(get(&s, "pools", "ab"), "3");
	/* Ordered: a < ab < b. */
	assert_memory_equal(s.s_tables[0]->t_kvs[1]->kv_data, "ab", 2);

	/* Replace and delete. */
	tx = tx_new();
	put(tx, "pools", "a", "one");
	del(tx, "pools", "b");
	assert_int_equal(apply(&s, tx), 0);
	assert_string_equal(get(&s, "pools", "a"), "one");
	assert_null(get(&s, "pools", "b"));
	assert_int_equal(s.s_keys, 2);

	/* A failing operation undoes the whole transaction. */
	tx = tx_new();
	put(tx, "pools", "a", "lost");
	put(tx, "pools", "c", "lost");
	del(tx, "pools", "ab");
	assert_int_equal(rdb_tx_table_create(tx, "conts"), 0);
	assert_int_equal(rdb_tx_table_destroy(tx, "pools"), 0);
	del(tx, "pools", "zzz"); /* the table is gone: -DER_NONEXIST */
	assert_int_equal(apply(&s, tx), -DER_NONEXIST);
	assert_string_equal(get(&s, "pools", "a"), "one");
	assert_string_equal(get(&s, "pools", "ab"), "3");
	assert_null(get(&s, "pools", "c"));
	assert_null(rdb_store_table_find(&s, "conts"));
	assert_int_equal(s.s_nr, 1);
	assert_int_equal(s.s_keys, 2);

	tx = tx_new();
	assert_int_equal(rdb_tx_table_create(tx, "pools"), 0);
	assert_int_equal(apply(&s, tx), -DER_EXIST);
	tx = tx_new();
	del(tx, "pools", "nothing");
	assert_int_equal(apply(&s, tx), -DER_NONEXIST);
	tx = tx_new();
	put(tx, "nothing", "k", "v");
	assert_int_equal(apply(&s, tx), -DER_NONEXIST);

	/* Destroy and re-create in one transaction: an empty table. */
	tx = tx_new();
	assert_int_equal(rdb_tx_table_destroy(tx, "pools"), 0);
	assert_int_equal(rdb_tx_table_create(tx, "pools"), 0);
	put(tx, "pools", "z", "26");
	assert_int_equal(apply(&s, tx), 0);
	assert_null(get(&s, "pools", "a"));
	assert_string_equal(get(&s, "pools", "z"), "26");
	assert_int_equal(s.s_keys, 1);
	rdb_store_fini(&s);
}

static void
test_builder_args(void **state)
{
	struct rdb_tx *tx = tx_new();
	char name[RDB_TABLE_NAME_MAX + 2];
	d_iov_t key, val;

	(void)state;
	memset(name, 'n', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	assert_int_equal(rdb_tx_table_create(tx, name), -DER_INVAL);
	assert_int_equal(rdb_tx_table_create(tx, ""), -DER_INVAL);
	assert_int_equal(rdb_tx_table_create(tx, NULL), -DER_INVAL);
	d_iov_set(&key, NULL, 0);
	assert_int_equal(rdb_tx_update(tx, "t", &key, NULL), -DER_INVAL);
	assert_int_equal(rdb_tx_update(tx, "t", NULL, NULL), -DER_INVAL);
	d_iov_set(&key, "k", 1);
	d_iov_set(&val, NULL, RDB_TX_MAX + 1);
	assert_int_equal(rdb_tx_update(tx, "t", &key, &val), -DER_INVAL);
	d_iov_set(&val, name, RDB_TX_MAX + 1);
	assert_int_equal(rdb_tx_update(tx, "t", &key, &val), -DER_REC2BIG);
	/* An empty value is a value. */
	assert_int_equal(rdb_tx_table_create(tx, "t"), 0);
	assert_int_equal(rdb_tx_update(tx, "t", &key, NULL), 0);
	{
		struct rdb_store s;

		rdb_store_init(&s);
		assert_int_equal(apply(&s, tx), 0);
		assert_string_equal(get(&s, "t", "k"), "");
		rdb_store_fini(&s);
	}
}

/* Model: NT tables x NK keys; value -1 = absent; table absent if !exists. */
#define NT 3
#define NK 24

struct model {
	bool exists[NT];
	int val[NT][NK];
};

static void
model_check(struct rdb_store *s, const struct model *m)
{
	uint64_t keys = 0;
	char tn[8], kn[8], vn[16];
	int t, k;

	for (t = 0; t < NT; t++) {
		snprintf(tn, sizeof(tn), "t%d", t);
		if (!m->exists[t]) {
			assert_null(rdb_store_table_find(s, tn));
			continue;
		}
		assert_non_null(rdb_store_table_find(s, tn));
		for (k = 0; k < NK; k++) {
			snprintf(kn, sizeof(kn), "k%d", k);
			if (m->val[t][k] < 0) {
				assert_null(get(s, tn, kn));
				continue;
			}
			keys++;
			snprintf(vn, sizeof(vn), "v%d", m->val[t][k]);
			assert_non_null(get(s, tn, kn));
			assert_string_equal(get(s, tn, kn), vn);
		}
	}
	assert_int_equal(s->s_keys, keys);
}

static void
test_random(void **state)
{
	unsigned int seed = d_test_seed("rdb_test_kvs random");
	uint64_t rs = d_test_rand_seed(seed);
	struct rdb_store s;
	struct model m, next;
	int i, t, k, o;

	(void)state;
	rdb_store_init(&s);
	memset(&m, 0, sizeof(m));
	memset(m.val, 0xff, sizeof(m.val));
	for (i = 0; i < 3000; i++) {
		struct rdb_tx *tx = tx_new();
		int nops = 1 + (int)(d_test_rand(&rs) % 6);
		int want = 0;
		char tn[8], kn[8], vn[16];

		next = m;
		for (o = 0; o < nops; o++) {
			uint64_t r = d_test_rand(&rs);
			int op = (int)(r % 16);

			t = (int)((r >> 8) % NT);
			k = (int)((r >> 16) % NK);
			snprintf(tn, sizeof(tn), "t%d", t);
			snprintf(kn, sizeof(kn), "k%d", k);
			snprintf(vn, sizeof(vn), "v%d", i);
			if (op == 0) {
				assert_int_equal(rdb_tx_table_create(tx, tn), 0);
				if (want == 0 && next.exists[t])
					want = -DER_EXIST;
				next.exists[t] = true;
			} else if (op == 1) {
				assert_int_equal(rdb_tx_table_destroy(tx, tn), 0);
				if (want == 0 && !next.exists[t])
					want = -DER_NONEXIST;
				next.exists[t] = false;
				for (k = 0; k < NK; k++)
					next.val[t][k] = -1;
			} else if (op < 5) {
				del(tx, tn, kn);
				if (want == 0 && (!next.exists[t] || next.val[t][k] < 0))
					want = -DER_NONEXIST;
				next.val[t][k] = -1;
			} else {
				put(tx, tn, kn, vn);
				if (want == 0 && !next.exists[t])
					want = -DER_NONEXIST;
				next.val[t][k] = i;
			}
		}
		assert_int_equal(apply(&s, tx), want);
		if (want == 0)
			m = next;
		model_check(&s, &m);
		/* Every so often, the store must survive a snapshot round trip. */
		if (i % 500 == 0) {
			struct rdb_store r;
			void *buf;
			size_t len;

			assert_int_equal(rdb_store_encode(&s, &buf, &len), 0);
			rdb_store_init(&r);
			assert_int_equal(rdb_store_decode(&r, buf, len), 0);
			rdb_store_swap(&s, &r);
			model_check(&s, &m);
			D_FREE(buf);
		}
	}
	rdb_store_fini(&s);
}

static void
build_sample(struct rdb_store *s)
{
	struct rdb_tx *tx = tx_new();

	rdb_store_init(s);
	assert_int_equal(rdb_tx_table_create(tx, "a"), 0);
	assert_int_equal(rdb_tx_table_create(tx, "b"), 0);
	put(tx, "a", "x", "1");
	put(tx, "a", "y", "22");
	put(tx, "b", "x", "333");
	assert_int_equal(apply(s, tx), 0);
}

static void
test_snapshot_garbage(void **state)
{
	unsigned int seed = d_test_seed("rdb_test_kvs snapshot_garbage");
	uint64_t rs = d_test_rand_seed(seed);
	struct rdb_store s, r;
	char *buf, *bad;
	size_t len, l;
	int i;

	(void)state;
	build_sample(&s);
	assert_int_equal(rdb_store_encode(&s, (void **)&buf, &len), 0);
	D_ALLOC(bad, len + 1);
	assert_non_null(bad);
	/* Every truncation is refused. */
	for (l = 0; l < len; l++) {
		memcpy(bad, buf, l);
		rdb_store_init(&r);
		assert_int_equal(rdb_store_decode(&r, bad, l), -DER_PROTO);
		assert_int_equal(r.s_nr, 0);
	}
	/* A trailing byte too. */
	memcpy(bad, buf, len);
	rdb_store_init(&r);
	assert_int_equal(rdb_store_decode(&r, bad, len + 1), -DER_PROTO);
	/* Random corruption decodes or is refused, never crashes (ASan watches). */
	for (i = 0; i < 5000; i++) {
		int rc;

		memcpy(bad, buf, len);
		bad[d_test_rand(&rs) % len] ^= (char)(1 + d_test_rand(&rs) % 255);
		rdb_store_init(&r);
		rc = rdb_store_decode(&r, bad, len);
		assert_true(rc == 0 || rc == -DER_PROTO);
		rdb_store_fini(&r);
	}
	D_FREE(bad);
	D_FREE(buf);
	rdb_store_fini(&s);
}

static void
test_tx_garbage(void **state)
{
	unsigned int seed = d_test_seed("rdb_test_kvs tx_garbage");
	uint64_t rs = d_test_rand_seed(seed);
	struct rdb_store s;
	struct rdb_tx *tx;
	char *bad;
	size_t l;
	int i;

	(void)state;
	build_sample(&s);
	tx = tx_new();
	put(tx, "a", "new", "v");
	del(tx, "b", "x");
	D_ALLOC(bad, tx->tx_len);
	assert_non_null(bad);
	for (l = 0; l < tx->tx_len; l++) {
		memcpy(bad, tx->tx_buf, l);
		assert_int_equal(rdb_store_apply(&s, bad, l), -DER_PROTO);
	}
	for (i = 0; i < 5000; i++) {
		int rc;

		memcpy(bad, tx->tx_buf, tx->tx_len);
		bad[d_test_rand(&rs) % tx->tx_len] ^= (char)(1 + d_test_rand(&rs) % 255);
		rc = rdb_store_apply(&s, bad, tx->tx_len);
		assert_true(rc == 0 || rc == -DER_PROTO || rc == -DER_NONEXIST || rc == -DER_EXIST);
		if (rc == 0) {
			rdb_store_fini(&s);
			build_sample(&s);
		}
	}
	/* The sample is intact after all the refused entries. */
	assert_string_equal(get(&s, "a", "y"), "22");
	assert_string_equal(get(&s, "b", "x"), "333");
	assert_int_equal(s.s_keys, 3);
	D_FREE(bad);
	rdb_tx_abort(tx);
	rdb_store_fini(&s);
}

/* Entries reach the store padded to 8 bytes with zeros (README invariant 5). */
static void
test_padding(void **state)
{
	struct rdb_store s;
	struct rdb_tx *tx;
	char buf[512];
	size_t len, pad;

	(void)state;
	rdb_store_init(&s);
	tx = tx_new();
	assert_int_equal(rdb_tx_table_create(tx, "odd"), 0);
	len = tx->tx_len;
	assert_true(len < sizeof(buf) - 16);
	memset(buf, 0, sizeof(buf));
	memcpy(buf, tx->tx_buf, len);
	rdb_tx_abort(tx);
	/* Eight or more bytes, or a non-zero byte, after the last operation: refused. */
	assert_int_equal(rdb_store_apply(&s, buf, len + 8), -DER_PROTO);
	buf[len + 3] = 1;
	assert_int_equal(rdb_store_apply(&s, buf, len + 7), -DER_PROTO);
	buf[len + 3] = 0;
	assert_int_equal(s.s_nr, 0);
	for (pad = 0; pad < 8; pad++) {
		assert_int_equal(rdb_store_apply(&s, buf, len + pad), pad == 0 ? 0 : -DER_EXIST);
		assert_int_equal(s.s_nr, 1);
	}
	rdb_store_fini(&s);
}

/* Fail the Nth allocation of an apply, for every N: the store is left exactly as it was. */
static void
test_alloc_failure(void **state)
{
	struct d_fault_attr fa = {.fa_id = D_FI_ALLOC, .fa_max_faults = 1};
	struct rdb_store s;
	struct rdb_tx *tx;
	void *before, *after;
	size_t blen, alen;
	uint32_t n;
	int rc = -DER_NOMEM, i;
	char k[16];

	(void)state;
	build_sample(&s);
	tx = tx_new();
	assert_int_equal(rdb_tx_table_create(tx, "c"), 0);
	for (i = 0; i < 40; i++) { /* grows c's array several times */
		snprintf(k, sizeof(k), "k%02d", i);
		put(tx, "c", k, "v");
	}
	put(tx, "a", "x", "replaced");
	put(tx, "a", "new", "inserted");
	del(tx, "a", "y");
	assert_int_equal(rdb_tx_table_destroy(tx, "b"), 0);
	assert_int_equal(rdb_store_encode(&s, &before, &blen), 0);
	for (n = 1; rc == -DER_NOMEM; n++) {
		fa.fa_interval = n;
		assert_int_equal(d_fault_attr_set(&fa), 0);
		rc = rdb_store_apply(&s, tx->tx_buf, tx->tx_len);
		d_fault_attr_clear(D_FI_ALLOC);
		if (rc == 0)
			break;
		assert_int_equal(rc, -DER_NOMEM);
		assert_int_equal(rdb_store_encode(&s, &after, &alen), 0);
		assert_int_equal(alen, blen);
		assert_memory_equal(after, before, blen);
		D_FREE(after);
	}
	print_message("the apply succeeded once %u allocations could fail\n", n - 1);
	assert_true(n > 10);
	assert_string_equal(get(&s, "a", "x"), "replaced");
	assert_null(get(&s, "a", "y"));
	assert_null(rdb_store_table_find(&s, "b"));
	assert_int_equal(s.s_keys, 42);
	D_FREE(before);
	rdb_tx_abort(tx);
	rdb_store_fini(&s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_basic),         cmocka_unit_test(test_builder_args),
	    cmocka_unit_test(test_random),        cmocka_unit_test(test_snapshot_garbage),
	    cmocka_unit_test(test_tx_garbage),    cmocka_unit_test(test_padding),
	    cmocka_unit_test(test_alloc_failure),
	};

	return cmocka_run_group_tests_name("rdb_kvs", tests, NULL, NULL);
}
