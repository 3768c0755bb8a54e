/*
 * test_vos_list.c: enumeration (vos_obj_list_keys, vos_obj_list_recx) and query key
 * (vos_obj_query_key) against a model: random updates of single values and array extents,
 * punches of akeys, dkeys and objects at increasing epochs, then listings at random epochs
 * in small batches with tiny buffers (-DER_KEY2BIG, then a larger buffer) that must return
 * exactly the visible keys, each once, and their value types; extent listings equal to the
 * model's runs of data; query key MAX/MIN of dkeys, akeys and extents; and listings resumed
 * while keys come and go between calls, where every key present throughout must be
 * returned exactly once and nothing else but keys that were present at some time.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <unistd.h>

#include <gurt/common.h>
#include <daos_srv/vos.h>
#include <d_test.h>

#include "vos_internal.h"
#include "vos_test_fix.h"

#define NDK 24
#define NAK 6 /* akeys 0..2 single values, 3..5 arrays */
#define ARR 8192
#define KEY_MAX 60

static int
setup(void **state)
{
	(void)state;
	vt_setup("d_vos_list", 64ULL << 20, 16ULL << 20, 16ULL << 20);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	vt_teardown();
	return 0;
}

static daos_unit_oid_t
test_oid(enum daos_otype_t type, uint64_t lo)
{
	return vt_oid(type, lo, 0x4321);
}

/*
 * The model of one object.
 */
struct m_ev {
	uint64_t epoch;
	bool punch;
	unsigned int nrx; /* array writes */
	daos_recx_t rx[2];
};

struct m_evs {
	struct m_ev *ev;
	unsigned int nr, cap;
};

struct model {
	daos_unit_oid_t oid;
	bool uint_keys;
	uint64_t rs;
	uint64_t epoch;
	uint8_t dk[NDK][KEY_MAX];
	size_t dk_len[NDK];
	uint8_t ak[NAK][KEY_MAX];
	size_t ak_len[NAK];
	struct m_evs akey[NDK][NAK]; /* creates (updates) and punches of each akey */
	struct m_evs dkey[NDK];      /* creates (anything under it) and punches of each dkey */
	struct m_evs obj;            /* object punches */
};

static void
evs_add(struct m_evs *e, uint64_t epoch, bool punch, unsigned int nrx, const daos_recx_t *rx)
{
	if (e->nr == e->cap) {
		e->cap = e->cap == 0 ? 8 : e->cap * 2;
		e->ev = realloc(e->ev, e->cap * sizeof(*e->ev));
		assert_non_null(e->ev);
	}
	memset(&e->ev[e->nr], 0, sizeof(e->ev[0]));
	e->ev[e->nr].epoch = epoch;
	e->ev[e->nr].punch = punch;
	e->ev[e->nr].nrx = nrx;
	if (nrx > 0)
		memcpy(e->ev[e->nr].rx, rx, nrx * sizeof(*rx));
	e->nr++;
}

/* The newest event at or before @epoch: its epoch (0: none), *@punch its kind. */
static uint64_t
evs_newest(const struct m_evs *e, uint64_t epoch, bool *punch)
{
	unsigned int i;

	for (i = e->nr; i-- > 0;)
		if (e->ev[i].epoch <= epoch) {
			*punch = e->ev[i].punch;
			return e->ev[i].epoch;
		}
	*punch = false;
	return 0;
}

/* Newest punch at or before @epoch among @e (0: none). */
static uint64_t
evs_punch(const struct m_evs *e, uint64_t epoch)
{
	unsigned int i;

	for (i = e->nr; i-- > 0;)
		if (e->ev[i].epoch <= epoch && e->ev[i].punch)
			return e->ev[i].epoch;
	return 0;
}

static bool
m_dkey_visible(struct model *m, int d, uint64_t epoch)
{
	bool p;
	uint64_t c = evs_newest(&m->dkey[d], epoch, &p);

	return c != 0 && !p && c > evs_punch(&m->obj, epoch);
}

static uint64_t
m_akey_bound(struct model *m, int d, int a, uint64_t epoch)
{
	uint64_t b = evs_punch(&m->obj, epoch), x;

	x = evs_punch(&m->dkey[d], epoch);
	if (x > b)
		b = x;
	x = evs_punch(&m->akey[d][a], epoch);
	return x > b ? x : b;
}

static bool
m_akey_visible(struct model *m, int d, int a, uint64_t epoch)
{
	bool p;
	uint64_t c = evs_newest(&m->akey[d][a], epoch, &p);

	return c != 0 && !p && c > m_akey_bound(m, d, a, epoch);
}

/* Which records of array akey (d, a) hold data at @epoch (ARR flags). */
static void
m_array(struct model *m, int d, int a, uint64_t epoch, bool *data)
{
	uint64_t bound = m_akey_bound(m, d, a, epoch);
	struct m_evs *e = &m->akey[d][a];
	unsigned int i, r;

	memset(data, 0, ARR * sizeof(*data));
	for (i = 0; i < e->nr; i++) {
		if (e->ev[i].epoch <= bound || e->ev[i].epoch > epoch)
			continue;
		for (r = 0; r < e->ev[i].nrx; r++)
			memset(data + e->ev[i].rx[r].rx_idx, 1, e->ev[i].rx[r].rx_nr);
	}
}

static void
model_init(struct model *m, enum daos_otype_t type, uint64_t lo, uint64_t seed)
{
	int i, j;

	memset(m, 0, sizeof(*m));
	m->oid = test_oid(type, lo);
	m->uint_keys = type == DAOS_OT_MULTI_UINT64;
	m->rs = seed;
	for (i = 0; i < NDK; i++) {
		if (m->uint_keys) {
			uint64_t v;

			do {
				v = d_test_rand(&m->rs) % 100000;
				for (j = 0; j < i; j++)
					if (memcmp(m->dk[j], &v, 8) == 0)
						break;
			} while (j < i);
			memcpy(m->dk[i], &v, 8);
			m->dk_len[i] = 8;
		} else {
			/* random lengths; the index in front keeps them distinct */
			m->dk_len[i] = 3 + d_test_rand(&m->rs) % (KEY_MAX - 3);
			for (j = 0; j < (int)m->dk_len[i]; j++)
				m->dk[i][j] = (uint8_t)('a' + d_test_rand(&m->rs) % 26);
			m->dk[i][0] = (uint8_t)('A' + i / 26);
			m->dk[i][1] = (uint8_t)('A' + i % 26);
		}
	}
	for (i = 0; i < NAK; i++) {
		if (m->uint_keys) {
			uint64_t v = (uint64_t)i * 1000 + 7 + (uint64_t)(i % 2) * 50000;

			memcpy(m->ak[i], &v, 8);
			m->ak_len[i] = 8;
		} else {
			m->ak_len[i] = (size_t)snprintf((char *)m->ak[i], KEY_MAX, "akey-%d-%s", i,
							i % 2 ? "long-name-for-an-akey" : "");
		}
	}
}

static void
model_fini(struct model *m)
{
	int d, a;

	for (d = 0; d < NDK; d++) {
		for (a = 0; a < NAK; a++)
			free(m->akey[d][a].ev);
		free(m->dkey[d].ev);
	}
	free(m->obj.ev);
}

static daos_key_t
m_dkey(struct model *m, int d)
{
	daos_key_t k;

	d_iov_set(&k, m->dk[d], m->dk_len[d]);
	return k;
}

static daos_key_t
m_akey(struct model *m, int a)
{
	daos_key_t k;

	d_iov_set(&k, m->ak[a], m->ak_len[a]);
	return k;
}

static uint64_t
rnd(struct model *m, uint64_t n)
{
	return d_test_rand(&m->rs) % n;
}

/* Update 1..3 akeys of dkey @d at the next epoch. */
static void
op_update(struct model *m, int d)
{
	static uint8_t buf[3][2 * ARR];
	daos_key_t dkey = m_dkey(m, d);
	daos_iod_t iods[3];
	d_sg_list_t sgls[3];
	d_iov_t iovs[3];
	daos_recx_t rxs[3][2];
	int as[3], n = 1 + (int)rnd(m, 3), i, j;
	uint64_t epoch = ++m->epoch;

	memset(iods, 0, sizeof(iods));
	for (i = 0; i < n; i++) {
		uint64_t bytes = 0;
		unsigned int r;

		do {
			as[i] = (int)rnd(m, NAK);
			for (j = 0; j < i && as[j] != as[i]; j++)
				;
		} while (j < i);
		iods[i].iod_name = m_akey(m, as[i]);
		if (as[i] < 3) {
			iods[i].iod_type = DAOS_IOD_SINGLE;
			iods[i].iod_size = 1 + rnd(m, 100);
			iods[i].iod_nr = 1;
			bytes = iods[i].iod_size;
		} else {
			iods[i].iod_type = DAOS_IOD_ARRAY;
			iods[i].iod_size = 1;
			iods[i].iod_nr = 1 + (unsigned int)rnd(m, 2);
			iods[i].iod_recxs = rxs[i];
			for (r = 0; r < iods[i].iod_nr; r++) {
				uint64_t nr = 1 + rnd(m, 300);

				rxs[i][r].rx_nr = nr;
				rxs[i][r].rx_idx = r * (ARR / 2) + rnd(m, ARR / 2 - nr + 1);
				bytes += nr;
			}
		}
		memset(buf[i], 0x5a, bytes);
		d_iov_set(&iovs[i], buf[i], bytes);
		sgls[i].sg_nr = 1;
		sgls[i].sg_nr_out = 0;
		sgls[i].sg_iovs = &iovs[i];
	}
	assert_int_equal(
	    vos_obj_update(coh, m->oid, epoch, 0, 0, &dkey, (unsigned int)n, iods, NULL, sgls), 0);
	evs_add(&m->dkey[d], epoch, false, 0, NULL);
	for (i = 0; i < n; i++)
		evs_add(&m->akey[d][as[i]], epoch, false,
			iods[i].iod_type == DAOS_IOD_ARRAY ? iods[i].iod_nr : 0, rxs[i]);
}

static void
op_punch(struct model *m, int d, unsigned int kind)
{
	daos_key_t dkey = m_dkey(m, d), akeys[2];
	uint64_t epoch = ++m->epoch;
	int as[2];

	if (kind == 0) {
		assert_int_equal(vos_obj_punch(coh, m->oid, epoch, 0, 0, NULL, 0, NULL, NULL), 0);
		evs_add(&m->obj, epoch, true, 0, NULL);
	} else if (kind == 1) {
		assert_int_equal(vos_obj_punch(coh, m->oid, epoch, 0, 0, &dkey, 0, NULL, NULL), 0);
		evs_add(&m->dkey[d], epoch, true, 0, NULL);
	} else {
		as[0] = (int)rnd(m, NAK);
		as[1] = (as[0] + 1 + (int)rnd(m, NAK - 1)) % NAK;
		akeys[0] = m_akey(m, as[0]);
		akeys[1] = m_akey(m, as[1]);
		assert_int_equal(vos_obj_punch(coh, m->oid, epoch, 0, 0, &dkey, 2, akeys, NULL), 0);
		evs_add(&m->dkey[d], epoch, false, 0, NULL); /* a change under the dkey */
		evs_add(&m->akey[d][as[0]], epoch, true, 0, NULL);
		evs_add(&m->akey[d][as[1]], epoch, true, 0, NULL);
	}
}

static void
op_random(struct model *m)
{
	uint64_t p = rnd(m, 100);
	int d = (int)rnd(m, NDK);

	if (p < 1)
		op_punch(m, d, 0);
	else if (p < 6)
		op_punch(m, d, 1);
	else if (p < 14)
		op_punch(m, d, 2);
	else
		op_update(m, d);
}

/*
 * Listing in batches: @dkey NULL lists dkeys. Each call takes 1..5 keys and a buffer of
 * random size; -DER_KEY2BIG must name the size of a key that does not fit, and a buffer of
 * that size then gets it. @seen[i] counts how often key i came back, @types its kd_val_type;
 * a key that is not one of the model's fails the test. Returns the calls made.
 */
static unsigned int
list_batched(struct model *m, uint64_t epoch, daos_key_t *dkey, unsigned int *seen, uint32_t *types,
	     void (*between)(struct model *, void *), void *arg)
{
	daos_anchor_t anchor = DAOS_ANCHOR_INIT;
	unsigned int calls = 0, nkeys = dkey == NULL ? NDK : NAK;
	uint8_t buf[5 * KEY_MAX];

	while (!daos_anchor_is_eof(&anchor)) {
		daos_key_desc_t kds[5];
		d_sg_list_t sgl = {0};
		d_iov_t iovs[2];
		uint32_t nr = 1 + (uint32_t)rnd(m, 5), i, k;
		size_t len = rnd(m, 3) == 0 ? rnd(m, 10) : rnd(m, sizeof(buf));
		size_t split = rnd(m, len + 1), off = 0;
		int rc;

		/* two iovs: a key may straddle them */
		d_iov_set(&iovs[0], buf, split);
		d_iov_set(&iovs[1], buf + split, len - split);
		sgl.sg_nr = 2;
		sgl.sg_iovs = iovs;
		rc = vos_obj_list_keys(coh, m->oid, epoch, dkey, &anchor, &nr, kds, &sgl);
		calls++;
		assert_true(calls < 10000);
		if (rc == -DER_KEY2BIG) {
			assert_int_equal(nr, 0);
			assert_true(kds[0].kd_key_len > len);
			assert_true(kds[0].kd_key_len <= KEY_MAX);
			continue; /* the next call will likely have room */
		}
		assert_int_equal(rc, 0);
		for (i = 0; i < nr; i++) {
			for (k = 0; k < nkeys; k++) {
				size_t kl = dkey == NULL ? m->dk_len[k] : m->ak_len[k];
				const uint8_t *kb = dkey == NULL ? m->dk[k] : m->ak[k];

				if (kl == kds[i].kd_key_len && memcmp(kb, buf + off, kl) == 0)
					break;
			}
			if (k == nkeys)
				fail_msg("listing returned a key the model never wrote");
			seen[k]++;
			if (types != NULL)
				types[k] = kds[i].kd_val_type;
			off += kds[i].kd_key_len;
		}
		assert_true(off <= len);
		if (between != NULL)
			between(m, arg);
	}
	return calls;
}

static void
check_lists(struct model *m, uint64_t epoch)
{
	unsigned int seen[NDK], aseen[NAK];
	uint32_t types[NAK];
	int d, a;

	memset(seen, 0, sizeof(seen));
	list_batched(m, epoch, NULL, seen, NULL, NULL, NULL);
	for (d = 0; d < NDK; d++) {
		daos_key_t dkey = m_dkey(m, d);

		assert_int_equal(seen[d], m_dkey_visible(m, d, epoch) ? 1 : 0);
		memset(aseen, 0, sizeof(aseen));
		list_batched(m, epoch, &dkey, aseen, types, NULL, NULL);
		for (a = 0; a < NAK; a++) {
			bool vis = m_dkey_visible(m, d, epoch) && m_akey_visible(m, d, a, epoch);

			if (aseen[a] != (vis ? 1 : 0))
				fail_msg("epoch %" PRIu64 " dkey %d akey %d: seen %u, visible %d",
					 epoch, d, a, aseen[a], vis);
			if (vis)
				assert_int_equal(types[a],
						 a < 3 ? DAOS_IOD_SINGLE : DAOS_IOD_ARRAY);
		}
	}
}

/* The extents of array akey (d, a) at @epoch, listed in batches, against the model. */
static void
check_recx(struct model *m, int d, int a, uint64_t epoch)
{
	static bool want[ARR], got[ARR];
	daos_anchor_t anchor = DAOS_ANCHOR_INIT;
	daos_key_t dkey = m_dkey(m, d), akey = m_akey(m, a);
	uint64_t prev_end = 0;
	unsigned int i;

	m_array(m, d, a, epoch, want);
	memset(got, 0, sizeof(got));
	while (!daos_anchor_is_eof(&anchor)) {
		daos_recx_t rx[4];
		daos_size_t rsize;
		uint32_t nr = 1 + (uint32_t)rnd(m, 4);

		assert_int_equal(
		    vos_obj_list_recx(coh, m->oid, epoch, &dkey, &akey, &rsize, &anchor, &nr, rx),
		    0);
		if (nr > 0)
			assert_int_equal(rsize, 1);
		for (i = 0; i < nr; i++) {
			assert_true(rx[i].rx_nr > 0);
			assert_true(rx[i].rx_idx >= prev_end); /* increasing, no repeat */
			assert_true(rx[i].rx_idx + rx[i].rx_nr <= ARR);
			memset(got + rx[i].rx_idx, 1, rx[i].rx_nr);
			prev_end = rx[i].rx_idx + rx[i].rx_nr;
		}
	}
	assert_memory_equal(want, got, sizeof(want));
}

/* Query key against the model (uint64 keys). */
static uint64_t
key_u64(const daos_key_t *k)
{
	uint64_t v;

	assert_int_equal(k->iov_len, 8);
	memcpy(&v, k->iov_buf, 8);
	return v;
}

/* Edge data index of array (d, a) at @epoch: max or min; false if none. */
static bool
m_recx_edge(struct model *m, int d, int a, uint64_t epoch, bool max, uint64_t *idx)
{
	static bool data[ARR];
	int i;

	if (a < 3 || !m_dkey_visible(m, d, epoch) || !m_akey_visible(m, d, a, epoch))
		return false;
	m_array(m, d, a, epoch, data);
	for (i = 0; i < ARR; i++) {
		int j = max ? ARR - 1 - i : i;

		if (data[j]) {
			*idx = (uint64_t)j;
			return true;
		}
	}
	return false;
}

/* Pick the best of the model's keys (max or min) that satisfies @ok. */
static int
m_pick(struct model *m, bool dkeys, bool max, bool (*ok)(struct model *, int, void *), void *arg)
{
	int best = -1, i, n = dkeys ? NDK : NAK;
	uint64_t bv = 0;

	for (i = 0; i < n; i++) {
		uint64_t v;

		if (!ok(m, i, arg))
			continue;
		memcpy(&v, dkeys ? m->dk[i] : m->ak[i], 8);
		if (best < 0 || (max ? v > bv : v < bv)) {
			best = i;
			bv = v;
		}
	}
	return best;
}

struct q_arg {
	uint64_t epoch;
	bool max;
	int d;
	uint32_t flags;
};

static bool
q_akey_ok(struct model *m, int a, void *arg)
{
	struct q_arg *q = arg;
	uint64_t idx;

	if (!m_akey_visible(m, q->d, a, q->epoch))
		return false;
	if (!(q->flags & DAOS_GET_RECX))
		return true;
	return m_recx_edge(m, q->d, a, q->epoch, q->max, &idx);
}

static bool
q_dkey_ok(struct model *m, int d, void *arg)
{
	struct q_arg *q = arg;
	struct q_arg qa = *q;

	if (!m_dkey_visible(m, d, q->epoch))
		return false;
	if (!(q->flags & (DAOS_GET_AKEY | DAOS_GET_RECX)))
		return true;
	qa.d = d;
	return m_pick(m, false, q->max, q_akey_ok, &qa) >= 0;
}

static void
check_query(struct model *m, uint64_t epoch, uint32_t what, bool max)
{
	struct q_arg q = {.epoch = epoch, .max = max, .flags = what};
	uint32_t flags = what | (max ? DAOS_GET_MAX : DAOS_GET_MIN);
	uint64_t dv = 0, av = 0, idx = 0;
	daos_key_t dkey, akey;
	daos_recx_t recx;
	int d, a = -1, rc;
	bool has_idx;

	/* keys not searched come from the caller: pick a random one */
	if (what & DAOS_GET_DKEY) {
		d = m_pick(m, true, max, q_dkey_ok, &q);
		d_iov_set(&dkey, &dv, sizeof(dv));
	} else {
		d = (int)rnd(m, NDK);
		dkey = m_dkey(m, d);
		if (!q_dkey_ok(m, d, &q))
			d = -1;
	}
	if (d >= 0) {
		q.d = d;
		if (what & DAOS_GET_AKEY) {
			a = m_pick(m, false, max, q_akey_ok, &q);
			d_iov_set(&akey, &av, sizeof(av));
		}
	}
	if (!(what & DAOS_GET_AKEY)) {
		int fixed = 3 + (int)rnd(m, NAK - 3);

		akey = m_akey(m, fixed);
		if (d >= 0)
			a = (what & DAOS_GET_RECX) == 0 || q_akey_ok(m, fixed, &q) ? fixed : -1;
	}
	rc = vos_obj_query_key(coh, m->oid, flags, epoch, &dkey, &akey, &recx);
	if (d < 0 || ((what & (DAOS_GET_AKEY | DAOS_GET_RECX)) && a < 0)) {
		if (rc != -DER_NONEXIST)
			fail_msg("query %#x at %" PRIu64 ": rc %d, the model finds nothing", flags,
				 epoch, rc);
		return;
	}
	if (rc != 0)
		fail_msg("query %#x at %" PRIu64 ": rc %d, the model finds dkey %d akey %d", flags,
			 epoch, rc, d, a);
	if (what & DAOS_GET_DKEY)
		assert_int_equal(key_u64(&dkey),
				 key_u64(&(daos_key_t){.iov_buf = m->dk[d], .iov_len = 8}));
	if (what & DAOS_GET_AKEY)
		assert_int_equal(key_u64(&akey),
				 key_u64(&(daos_key_t){.iov_buf = m->ak[a], .iov_len = 8}));
	if (what & DAOS_GET_RECX) {
		static bool data[ARR];
		uint64_t i;

		has_idx = m_recx_edge(m, d, a, epoch, max, &idx);
		assert_true(has_idx);
		assert_true(recx.rx_nr > 0);
		assert_int_equal(max ? recx.rx_idx + recx.rx_nr - 1 : recx.rx_idx, idx);
		m_array(m, d, a, epoch, data);
		for (i = recx.rx_idx; i < recx.rx_idx + recx.rx_nr; i++)
			assert_true(data[i]);
	}
}

static uint64_t
rnd_epoch(struct model *m)
{
	return rnd(m, 4) == 0 ? DAOS_EPOCH_MAX : 1 + rnd(m, m->epoch + 1);
}

static void
t_list_model(void **state)
{
	unsigned int seed = d_test_seed("t_list_model");
	struct model *m[2];
	unsigned int step, i;
	int o;

	(void)state;
	for (o = 0; o < 2; o++) {
		m[o] = calloc(1, sizeof(*m[o]));
		assert_non_null(m[o]);
		model_init(m[o], o == 0 ? DAOS_OT_MULTI_HASHED : DAOS_OT_MULTI_LEXICAL, 10 + o,
			   d_test_rand_seed(seed + (unsigned int)o));
	}
	for (step = 0; step < 600; step++) {
		for (o = 0; o < 2; o++)
			op_random(m[o]);
		if (step % 60 != 59)
			continue;
		for (o = 0; o < 2; o++) {
			for (i = 0; i < 3; i++) {
				uint64_t e = rnd_epoch(m[o]);
				int d = (int)rnd(m[o], NDK);

				check_lists(m[o], e);
				check_recx(m[o], d, 3 + (int)rnd(m[o], NAK - 3), e);
			}
		}
	}
	for (o = 0; o < 2; o++) {
		model_fini(m[o]);
		free(m[o]);
	}
}

static void
t_query_key(void **state)
{
	unsigned int seed = d_test_seed("t_query_key");
	static const uint32_t whats[] = {
	    DAOS_GET_DKEY,
	    DAOS_GET_DKEY | DAOS_GET_AKEY,
	    DAOS_GET_DKEY | DAOS_GET_AKEY | DAOS_GET_RECX,
	    DAOS_GET_AKEY,
	    DAOS_GET_AKEY | DAOS_GET_RECX,
	    DAOS_GET_RECX,
	};
	struct model *m;
	unsigned int step, i, w;
	daos_key_t dkey, akey;
	daos_recx_t recx;

	(void)state;
	m = calloc(1, sizeof(*m));
	assert_non_null(m);
	model_init(m, DAOS_OT_MULTI_UINT64, 20, d_test_rand_seed(seed));

	/* nothing there yet; bad flags; keys that are not uint64 */
	d_iov_set(&dkey, NULL, 0);
	d_iov_set(&akey, NULL, 0);
	assert_int_equal(
	    vos_obj_query_key(coh, m->oid, DAOS_GET_MAX | DAOS_GET_DKEY, 5, &dkey, &akey, &recx),
	    -DER_NONEXIST);
	assert_int_equal(vos_obj_query_key(coh, m->oid, DAOS_GET_DKEY, 5, &dkey, &akey, &recx),
			 -DER_INVAL);
	assert_int_equal(vos_obj_query_key(coh, m->oid, DAOS_GET_MAX | DAOS_GET_MIN | DAOS_GET_DKEY,
					   5, &dkey, &akey, &recx),
			 -DER_INVAL);
	assert_int_equal(vos_obj_query_key(coh, test_oid(DAOS_OT_MULTI_HASHED, 1),
					   DAOS_GET_MAX | DAOS_GET_DKEY, 5, &dkey, &akey, &recx),
			 -DER_INVAL);

	for (step = 0; step < 800; step++) {
		op_random(m);
		if (step % 40 != 39)
			continue;
		for (i = 0; i < 6; i++) {
			uint64_t e = rnd_epoch(m);

			for (w = 0; w < D_ARRAY_SIZE(whats); w++) {
				check_query(m, e, whats[w], true);
				check_query(m, e, whats[w], false);
			}
		}
		check_lists(m, rnd_epoch(m));
	}
	model_fini(m);
	free(m);
}

/* Large and sparse indexes: the edge search widens its windows over the index space. */
static void
t_query_recx_far(void **state)
{
	daos_unit_oid_t oid = test_oid(DAOS_OT_MULTI_UINT64, 30);
	uint64_t dv = 1, av = 2, big = UINT64_C(1) << 40;
	static uint8_t buf[20000];
	daos_key_t dkey, akey;
	daos_recx_t rx[3], out;
	daos_iod_t iod = {0};
	d_sg_list_t sgl = {0};
	d_iov_t iov;
	uint32_t nr;
	daos_size_t rsize;
	daos_anchor_t anchor = DAOS_ANCHOR_INIT;

	(void)state;
	memset(buf, 7, sizeof(buf));
	d_iov_set(&dkey, &dv, 8);
	d_iov_set(&akey, &av, 8);
	rx[0] = (daos_recx_t){.rx_idx = 5, .rx_nr = 10};
	rx[1] = (daos_recx_t){.rx_idx = big, .rx_nr = 9000}; /* crosses windows, data file */
	rx[2] = (daos_recx_t){.rx_idx = 3 * big, .rx_nr = 1};
	iod.iod_name = akey;
	iod.iod_type = DAOS_IOD_ARRAY;
	iod.iod_size = 2;
	iod.iod_nr = 3;
	iod.iod_recxs = rx;
	d_iov_set(&iov, buf, 2 * (10 + 9000 + 1));
	sgl.sg_nr = 1;
	sgl.sg_iovs = &iov;
	assert_int_equal(vos_obj_update(coh, oid, 10, 0, 0, &dkey, 1, &iod, NULL, &sgl), 0);

	assert_int_equal(
	    vos_obj_query_key(coh, oid, DAOS_GET_MAX | DAOS_GET_RECX, 10, &dkey, &akey, &out), 0);
	assert_int_equal(out.rx_idx, 3 * big);
	assert_int_equal(out.rx_nr, 1);
	assert_int_equal(
	    vos_obj_query_key(coh, oid, DAOS_GET_MIN | DAOS_GET_RECX, 10, &dkey, &akey, &out), 0);
	assert_int_equal(out.rx_idx, 5);
	assert_int_equal(out.rx_nr, 10);
	/* punch the top record: the max moves to the whole middle extent */
	rx[0] = rx[2];
	iod.iod_size = 0;
	iod.iod_nr = 1;
	assert_int_equal(vos_obj_update(coh, oid, 11, 0, 0, &dkey, 1, &iod, NULL, NULL), 0);
	assert_int_equal(
	    vos_obj_query_key(coh, oid, DAOS_GET_MAX | DAOS_GET_RECX, 11, &dkey, &akey, &out), 0);
	assert_int_equal(out.rx_idx, big);
	assert_int_equal(out.rx_nr, 9000);
	/* at epoch 10 the punch is not seen */
	assert_int_equal(
	    vos_obj_query_key(coh, oid, DAOS_GET_MAX | DAOS_GET_RECX, 10, &dkey, &akey, &out), 0);
	assert_int_equal(out.rx_idx, 3 * big);

	nr = 3;
	assert_int_equal(vos_obj_list_recx(coh, oid, 11, &dkey, &akey, &rsize, &anchor, &nr, rx),
			 0);
	assert_int_equal(nr, 2);
	assert_int_equal(rsize, 2);
	assert_int_equal(rx[1].rx_idx, big);
	assert_true(daos_anchor_is_eof(&anchor));
	/* an akey of single values is not an array */
	iod.iod_type = DAOS_IOD_SINGLE;
	iod.iod_size = 4;
	iod.iod_nr = 1;
	av = 3;
	d_iov_set(&iov, buf, 4);
	assert_int_equal(vos_obj_update(coh, oid, 12, 0, 0, &dkey, 1, &iod, NULL, &sgl), 0);
	daos_anchor_init(&anchor, 0);
	nr = 3;
	assert_int_equal(vos_obj_list_recx(coh, oid, 12, &dkey, &akey, &rsize, &anchor, &nr, rx),
			 -DER_INVAL);
}

/*
 * Resumed listings while keys come and go: between two calls, new dkeys appear and some
 * are punched. Every key visible before the listing and never punched during it must come
 * back exactly once; others at most once, and only keys that existed at some point.
 */
struct churn {
	bool present_before[NDK];
	bool touched[NDK]; /* punched or created during the listing */
};

static void
churn_between(struct model *m, void *arg)
{
	struct churn *c = arg;
	int d = (int)rnd(m, NDK);

	if (rnd(m, 2) == 0) {
		op_update(m, d);
		if (!c->present_before[d])
			c->touched[d] = true;
	} else {
		op_punch(m, d, 1);
		c->touched[d] = true;
	}
}

static void
t_list_churn(void **state)
{
	unsigned int seed = d_test_seed("t_list_churn");
	unsigned int round, o;

	(void)state;
	for (o = 0; o < 3; o++) {
		enum daos_otype_t type = o == 0   ? DAOS_OT_MULTI_HASHED
					 : o == 1 ? DAOS_OT_MULTI_LEXICAL
						  : DAOS_OT_MULTI_UINT64;
		struct model *m = calloc(1, sizeof(*m));

		assert_non_null(m);
		model_init(m, type, 40 + o, d_test_rand_seed(seed + o));
		for (round = 0; round < 30; round++) {
			unsigned int seen[NDK] = {0}, i;
			struct churn c = {0};
			int d;

			for (i = 0; i < 10; i++)
				op_random(m);
			for (d = 0; d < NDK; d++)
				c.present_before[d] = m_dkey_visible(m, d, DAOS_EPOCH_MAX);
			list_batched(m, DAOS_EPOCH_MAX, NULL, seen, NULL, churn_between, &c);
			for (d = 0; d < NDK; d++) {
				if (c.present_before[d] && !c.touched[d])
					assert_int_equal(seen[d], 1);
				else
					assert_true(seen[d] <= 1);
				if (!c.present_before[d] && !c.touched[d])
					assert_int_equal(seen[d], 0);
			}
		}
		model_fini(m);
		free(m);
	}
}

/* Bad arguments, an absent object, EOF anchors and a garbage anchor. */
static void
t_list_args(void **state)
{
	daos_unit_oid_t oid = test_oid(DAOS_OT_MULTI_HASHED, 50);
	daos_anchor_t anchor = DAOS_ANCHOR_INIT;
	daos_key_desc_t kds[2];
	uint8_t buf[64];
	d_sg_list_t sgl = {0};
	d_iov_t iov;
	uint32_t nr = 2;

	(void)state;
	d_iov_set(&iov, buf, sizeof(buf));
	sgl.sg_nr = 1;
	sgl.sg_iovs = &iov;
	assert_int_equal(vos_obj_list_keys(coh, oid, 0, NULL, &anchor, &nr, kds, &sgl), -DER_INVAL);
	nr = 0;
	assert_int_equal(vos_obj_list_keys(coh, oid, 1, NULL, &anchor, &nr, kds, &sgl), -DER_INVAL);
	nr = 2;
	assert_int_equal(vos_obj_list_keys(coh, oid, 1, NULL, &anchor, &nr, kds, &sgl), 0);
	assert_int_equal(nr, 0);
	assert_true(daos_anchor_is_eof(&anchor));
	nr = 2;
	assert_int_equal(vos_obj_list_keys(coh, oid, 1, NULL, &anchor, &nr, kds, &sgl), 0);
	assert_int_equal(nr, 0);
	anchor.da_type = 77;
	assert_int_equal(vos_obj_list_keys(coh, oid, 1, NULL, &anchor, &nr, kds, &sgl), -DER_INVAL);

	/* a garbage anchor of the right type into an existing tree is refused, not crashed on */
	{
		daos_key_t dk;
		daos_iod_t iod = {0};
		d_sg_list_t vs = {0};
		d_iov_t viov;
		char v = 'x';

		d_iov_set(&dk, "dk", 2);
		iod.iod_name = dk;
		iod.iod_type = DAOS_IOD_SINGLE;
		iod.iod_size = 1;
		iod.iod_nr = 1;
		d_iov_set(&viov, &v, 1);
		vs.sg_nr = 1;
		vs.sg_iovs = &viov;
		assert_int_equal(vos_obj_update(coh, oid, 2, 0, 0, &dk, 1, &iod, NULL, &vs), 0);
		anchor.da_type = DAOS_ANCHOR_TYPE_KEY;
		memset(anchor.da_buf, 0xa5, sizeof(anchor.da_buf));
		nr = 2;
		assert_int_equal(vos_obj_list_keys(coh, oid, 5, NULL, &anchor, &nr, kds, &sgl),
				 -DER_INVAL);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(t_list_model, setup, teardown),
	    cmocka_unit_test_setup_teardown(t_query_key, setup, teardown),
	    cmocka_unit_test_setup_teardown(t_query_recx_far, setup, teardown),
	    cmocka_unit_test_setup_teardown(t_list_churn, setup, teardown),
	    cmocka_unit_test_setup_teardown(t_list_args, setup, teardown),
	};

	d_log_setmasks("CRIT");
	return cmocka_run_group_tests_name("vos_list", tests, NULL, NULL);
}
