/*
 * test_vos_agg.c: aggregation and discard (vos_aggregate, vos_discard). The invariant under
 * test: aggregation never changes what a reader at a snapshot or above the bound sees --
 * every value, extent and key listing is read at those epochs before and after, and must be
 * identical -- while the space of covered history comes back; discard makes a container
 * read exactly like a twin that never received the discarded updates. Seeded random
 * workloads over several rounds, with pool close/reopen and crashes between rounds; plus
 * containers of punched keys, and a tiny pool filled to -DER_NOSPACE with history.
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

/*
 * Aggregate, then let garbage collection free the keys and objects it detached (space and
 * accounting come back only then).
 */
static int
agg_gc(daos_handle_t c, const daos_epoch_range_t *epr, const daos_epoch_t *snaps, uint32_t n)
{
	int rc = vos_aggregate(c, epr, snaps, n);

	if (rc == 0)
		rc = vos_gc_pool(vos_cont2poh(c), 0, NULL, NULL);
	return rc;
}

static uuid_t twin_uuid;
static daos_handle_t twin; /* discard: the container that never saw the discarded range */

static int
setup(void **state)
{
	(void)state;
	uuid_generate(twin_uuid);
	vt_setup("d_vos_agg", 64ULL << 20, 64ULL << 20, 16ULL << 20);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	if (twin.cookie != 0)
		assert_int_equal(vos_cont_close(twin), 0);
	twin.cookie = 0;
	vt_teardown();
	return 0;
}

/* Close (cleanly, or as a crash after the WAL is durable) and reopen pool and containers. */
static void
pool_reopen(bool crash)
{
	bool has_twin = twin.cookie != 0;

	if (has_twin)
		assert_int_equal(vos_cont_close(twin), 0);
	vt_pool_reopen(crash);
	if (has_twin)
		assert_int_equal(vos_cont_open(poh, twin_uuid, &twin), 0);
}

/* Make the frees of the last transactions durable and their data blocks reusable. */
static void
pool_settle(void)
{
	assert_int_equal(vos_pool_wait(poh, vos_pool_last_lsn(poh)), 0);
	assert_true(vos_pool_poll(poh) >= 0);
}

static daos_unit_oid_t
test_oid(enum daos_otype_t type, uint64_t lo)
{
	return vt_oid(type, lo, 0x5678);
}

static void
fill(uint8_t *buf, size_t len, uint64_t seed)
{
	size_t i;

	for (i = 0; i < len; i++)
		buf[i] = (uint8_t)(seed * 131 + i * 7 + (i >> 8) + (seed >> 8));
}

static uint64_t
hash(uint64_t h, const void *buf, size_t len)
{
	const uint8_t *p = buf;
	size_t i;

	for (i = 0; i < len; i++)
		h = (h ^ p[i]) * 0x100000001b3ULL;
	return h;
}

/* One single value (@buf NULL: size 0, a punch of the value) or one extent (@buf NULL: punch). */
static int
upd_sv(daos_handle_t c, daos_unit_oid_t oid, uint64_t epoch, daos_key_t *dkey, daos_key_t *akey,
       const void *buf, size_t size)
{
	daos_iod_t iod = {0};
	d_sg_list_t sgl = {0};
	d_iov_t iov;

	iod.iod_name = *akey;
	iod.iod_type = DAOS_IOD_SINGLE;
	iod.iod_size = buf != NULL ? size : 0;
	iod.iod_nr = 1;
	d_iov_set(&iov, (void *)buf, buf != NULL ? size : 0);
	sgl.sg_nr = 1;
	sgl.sg_iovs = &iov;
	return vos_obj_update(c, oid, epoch, 0, 0, dkey, 1, &iod, NULL, buf != NULL ? &sgl : NULL);
}

static int
upd_ar(daos_handle_t c, daos_unit_oid_t oid, uint64_t epoch, daos_key_t *dkey, daos_key_t *akey,
       uint64_t rsize, uint64_t idx, uint64_t nr, const void *buf)
{
	daos_recx_t recx = {.rx_idx = idx, .rx_nr = nr};
	daos_iod_t iod = {0};
	d_sg_list_t sgl = {0};
	d_iov_t iov;

	iod.iod_name = *akey;
	iod.iod_type = DAOS_IOD_ARRAY;
	iod.iod_size = buf != NULL ? rsize : 0;
	iod.iod_nr = 1;
	iod.iod_recxs = &recx;
	d_iov_set(&iov, (void *)buf, buf != NULL ? rsize * nr : 0);
	sgl.sg_nr = 1;
	sgl.sg_iovs = &iov;
	return vos_obj_update(c, oid, epoch, 0, 0, dkey, 1, &iod, NULL, buf != NULL ? &sgl : NULL);
}

/*
 * The world: a few objects of each key kind, dkeys and akeys (two of single values, two
 * arrays), random operations on them, and a "view": a hash of everything a reader at an
 * epoch sees (each value's size and bytes, each key listing).
 */
#define W_OBJS 3
#define W_DKEYS 4
#define W_AKEYS 4 /* 0, 1: single values; 2, 3: arrays */
#define W_IDX 64
#define W_RSIZE_MAX 256
#define W_SV_MAX 12000
#define W_BUF (W_IDX * W_RSIZE_MAX)

struct world {
	daos_unit_oid_t w_oid[W_OBJS];
	char w_dname[W_DKEYS][8];
	uint64_t w_duint[W_DKEYS];
	char w_aname[W_AKEYS][8];
	uint64_t w_rsize[W_OBJS][W_DKEYS][W_AKEYS];
	uint64_t w_rng;
	uint64_t w_epoch; /* the last epoch used */
	uint8_t w_buf[W_BUF];
	uint8_t w_out[W_BUF];
};

/* A hash per object listing, dkey listing and akey value: what one reader sees. */
#define V_SLOTS (W_OBJS * (1 + W_DKEYS * (1 + W_AKEYS)))

struct view {
	uint64_t v_epoch;
	uint64_t v_h[V_SLOTS];
};

static uint64_t
wrnd(struct world *w, uint64_t n)
{
	return d_test_rand(&w->w_rng) % n;
}

static void
world_init(struct world *w, unsigned int seed)
{
	static const enum daos_otype_t types[W_OBJS] = {DAOS_OT_MULTI_HASHED, DAOS_OT_DKEY_UINT64,
							DAOS_OT_MULTI_LEXICAL};
	static const uint64_t rsizes[] = {1, 8, 200, W_RSIZE_MAX};
	int o, d, a;

	memset(w, 0, sizeof(*w));
	w->w_rng = d_test_rand_seed(seed);
	for (o = 0; o < W_OBJS; o++)
		w->w_oid[o] = test_oid(types[o], 100 + (uint64_t)o);
	for (d = 0; d < W_DKEYS; d++) {
		snprintf(w->w_dname[d], sizeof(w->w_dname[d]), "dk%d", d);
		w->w_duint[d] = ((uint64_t)d + 1) * 0x10001;
	}
	for (a = 0; a < W_AKEYS; a++)
		snprintf(w->w_aname[a], sizeof(w->w_aname[a]), "ak%d", a);
	for (o = 0; o < W_OBJS; o++)
		for (d = 0; d < W_DKEYS; d++)
			for (a = 2; a < W_AKEYS; a++)
				w->w_rsize[o][d][a] = rsizes[wrnd(w, D_ARRAY_SIZE(rsizes))];
}

static daos_key_t
w_dkey(struct world *w, int o, int d)
{
	daos_key_t k;

	if (vos_key_feats(w->w_oid[o], true) & BTR_FEAT_UINT_KEY)
		d_iov_set(&k, &w->w_duint[d], sizeof(uint64_t));
	else
		k = vt_key(w->w_dname[d]);
	return k;
}

static daos_key_t
w_akey(struct world *w, int a)
{
	return vt_key(w->w_aname[a]);
}

/*
 * One random operation at a new epoch on each container of @cs (@nc of them): the same
 * operation on all, so twins stay twins.
 */
static void
world_op(struct world *w, daos_handle_t *cs, int nc)
{
	int o = (int)wrnd(w, W_OBJS), d = (int)wrnd(w, W_DKEYS), a = (int)wrnd(w, W_AKEYS);
	uint64_t epoch = w->w_epoch + 1 + wrnd(w, 3), r = wrnd(w, 100);
	daos_key_t dkey = w_dkey(w, o, d), akey = w_akey(w, a), akeys[2];
	int i, rc = 0;

	w->w_epoch = epoch;
	if (r < 80) {
		if (a < 2) {
			uint64_t size, s = wrnd(w, 10);

			size = s < 1   ? 0
			       : s < 7 ? 1 + wrnd(w, 3000)
				       : VOS_DATA_THRESH + wrnd(w, W_SV_MAX - VOS_DATA_THRESH);
			fill(w->w_buf, size, epoch);
			for (i = 0; i < nc && rc == 0; i++)
				rc = upd_sv(cs[i], w->w_oid[o], epoch, &dkey, &akey,
					    size > 0 ? w->w_buf : NULL, size);
		} else {
			uint64_t rsize = w->w_rsize[o][d][a];
			uint64_t idx = wrnd(w, W_IDX), nr = 1 + wrnd(w, W_IDX - idx);
			bool punch = wrnd(w, 8) == 0;

			fill(w->w_buf, nr * rsize, epoch);
			for (i = 0; i < nc && rc == 0; i++)
				rc = upd_ar(cs[i], w->w_oid[o], epoch, &dkey, &akey, rsize, idx, nr,
					    punch ? NULL : w->w_buf);
		}
	} else if (r < 90) {
		unsigned int nr = 1 + (unsigned int)wrnd(w, 2);

		akeys[0] = akey;
		akeys[1] = w_akey(w, (a + 1) % W_AKEYS);
		for (i = 0; i < nc && rc == 0; i++)
			rc = vos_obj_punch(cs[i], w->w_oid[o], epoch, 0, 0, &dkey, nr, akeys, NULL);
	} else if (r < 97) {
		for (i = 0; i < nc && rc == 0; i++)
			rc = vos_obj_punch(cs[i], w->w_oid[o], epoch, 0, 0, &dkey, 0, NULL, NULL);
	} else {
		for (i = 0; i < nc && rc == 0; i++)
			rc = vos_obj_punch(cs[i], w->w_oid[o], epoch, 0, 0, NULL, 0, NULL, NULL);
	}
	assert_int_equal(rc, 0);
}

/* Hash of the keys listed at @epoch: of an object (@dkey NULL) or of a dkey. */
static uint64_t
list_hash(daos_handle_t c, daos_unit_oid_t oid, uint64_t epoch, daos_key_t *dkey)
{
	daos_anchor_t anchor = {0};
	daos_key_desc_t kds[8];
	char buf[512];
	uint64_t h = 0;

	while (!daos_anchor_is_eof(&anchor)) {
		uint32_t nr = D_ARRAY_SIZE(kds), i;
		d_sg_list_t sgl = {0};
		size_t off = 0;
		d_iov_t iov;

		d_iov_set(&iov, buf, sizeof(buf));
		sgl.sg_nr = 1;
		sgl.sg_iovs = &iov;
		assert_int_equal(vos_obj_list_keys(c, oid, epoch, dkey, &anchor, &nr, kds, &sgl),
				 0);
		for (i = 0; i < nr; i++) {
			/* a sum: the listing as a set */
			h += hash(0xcbf29ce484222325ULL + kds[i].kd_val_type, buf + off,
				  kds[i].kd_key_len);
			off += kds[i].kd_key_len;
		}
	}
	return h;
}

/* Hash of the value of akey @a at @epoch: its size and its bytes. */
static uint64_t
value_hash(struct world *w, daos_handle_t c, int o, int d, int a, uint64_t epoch)
{
	daos_key_t dkey = w_dkey(w, o, d);
	daos_recx_t recx = {.rx_idx = 0, .rx_nr = W_IDX};
	daos_iod_t iod = {0};
	d_sg_list_t sgl = {0};
	d_iov_t iov;
	uint64_t h;

	iod.iod_name = w_akey(w, a);
	iod.iod_nr = 1;
	if (a < 2) {
		iod.iod_type = DAOS_IOD_SINGLE;
		iod.iod_size = DAOS_REC_ANY;
	} else {
		iod.iod_type = DAOS_IOD_ARRAY;
		iod.iod_size = 0;
		iod.iod_recxs = &recx;
	}
	d_iov_set(&iov, w->w_out, sizeof(w->w_out));
	sgl.sg_nr = 1;
	sgl.sg_iovs = &iov;
	assert_int_equal(vos_obj_fetch(c, w->w_oid[o], epoch, 0, &dkey, 1, &iod, &sgl), 0);
	h = hash(0xcbf29ce484222325ULL, &iod.iod_size, sizeof(iod.iod_size));
	if (iod.iod_size > 0)
		h = hash(h, w->w_out, a < 2 ? iod.iod_size : iod.iod_size * W_IDX);
	return h;
}

static void
view_take(struct world *w, daos_handle_t c, uint64_t epoch, struct view *v)
{
	int o, d, a, s = 0;

	v->v_epoch = epoch;
	for (o = 0; o < W_OBJS; o++) {
		v->v_h[s++] = list_hash(c, w->w_oid[o], epoch, NULL);
		for (d = 0; d < W_DKEYS; d++) {
			daos_key_t dkey = w_dkey(w, o, d);

			v->v_h[s++] = list_hash(c, w->w_oid[o], epoch, &dkey);
			for (a = 0; a < W_AKEYS; a++)
				v->v_h[s++] = value_hash(w, c, o, d, a, epoch);
		}
	}
	assert_int_equal(s, V_SLOTS);
}

/* Compare two views slot by slot, naming the first difference. */
static bool
view_same(const struct view *x, const struct view *y, bool report)
{
	int s;

	for (s = 0; s < V_SLOTS; s++) {
		if (x->v_h[s] == y->v_h[s])
			continue;
		if (report)
			print_message("view at epoch %" PRIu64 " differs in slot %d (object %d)\n",
				      x->v_epoch, s, s / (1 + W_DKEYS * (1 + W_AKEYS)));
		return false;
	}
	return true;
}

/* The readers whose views must survive: each snapshot, and a few epochs above @hi. */
static unsigned int
readers(struct world *w, uint64_t hi, const uint64_t *snaps, unsigned int nsnaps, uint64_t *rdrs)
{
	unsigned int n = 0, i;

	for (i = 0; i < nsnaps; i++)
		rdrs[n++] = snaps[i];
	rdrs[n++] = hi + 1;
	rdrs[n++] = hi + 1 + wrnd(w, w->w_epoch - hi + 1);
	rdrs[n++] = w->w_epoch;
	rdrs[n++] = DAOS_EPOCH_MAX;
	return n;
}

static void
views_take(struct world *w, daos_handle_t c, const uint64_t *rdrs, unsigned int n, struct view *vs)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		view_take(w, c, rdrs[i], &vs[i]);
}

static void
views_check(struct world *w, daos_handle_t c, const uint64_t *rdrs, unsigned int n,
	    const struct view *vs)
{
	struct view now;
	unsigned int i;

	for (i = 0; i < n; i++) {
		view_take(w, c, rdrs[i], &now);
		assert_true(view_same(&vs[i], &now, true));
	}
}

/*
 * A dedicated akey rewritten with 5 heap-sized then 5 data-sized values at consecutive
 * epochs: with at most 3 new snapshots among them and the bound above, at least one
 * version of each kind is covered for every retained reader, so aggregation must free
 * space in both tiers.
 */
static void
hot_writes(struct world *w)
{
	daos_key_t dkey = vt_key("hot"), akey = vt_key("hot");
	int i;

	for (i = 0; i < 10; i++) {
		size_t size = i < 5 ? 100 + (size_t)i : VOS_DATA_THRESH + (size_t)i;

		fill(w->w_buf, size, (uint64_t)i);
		assert_int_equal(
		    upd_sv(coh, w->w_oid[0], ++w->w_epoch, &dkey, &akey, w->w_buf, size), 0);
	}
}

/*
 * Trimming: after aggregation, every extent written in [lo, hi] -- in the heap or in the
 * data file -- holds only records some retained reader sees. Visible fragments come from
 * vos_iterate (visible mode) at each reader, extents from a full-history walk.
 */
struct trim_rec {
	uint64_t tr_key; /* object, dkey and akey, hashed */
	uint64_t tr_epoch;
	uint64_t tr_lo, tr_hi;
};

struct trim_set {
	struct trim_rec *ts_recs;
	uint32_t ts_nr, ts_cap;
	uint64_t ts_lo, ts_hi; /* history walk: the range checked */
	unsigned int ts_partial;
	unsigned int ts_partial_data; /* of them, data-file extents */
};

/* Partly seen data-file extents found by the last trim_partial. */
static unsigned int trim_data_partial;

static uint64_t
trim_key(const vos_iter_param_t *param)
{
	uint64_t h = hash(0xcbf29ce484222325ULL, &param->ip_oid, sizeof(param->ip_oid));

	h = hash(h, param->ip_dkey.iov_buf, param->ip_dkey.iov_len);
	return hash(h ^ 0x55, param->ip_akey.iov_buf, param->ip_akey.iov_len);
}

static int
trim_vis_cb(daos_handle_t ih, vos_iter_entry_t *ent, vos_iter_type_t type, vos_iter_param_t *param,
	    void *arg, unsigned int *acts)
{
	struct trim_set *ts = arg;

	(void)ih;
	(void)acts;
	if (type != VOS_ITER_RECX)
		return 0;
	if (ts->ts_nr == ts->ts_cap) {
		ts->ts_cap = ts->ts_cap ? ts->ts_cap * 2 : 256;
		D_REALLOC_ARRAY(ts->ts_recs, ts->ts_recs, ts->ts_cap);
		assert_non_null(ts->ts_recs);
	}
	ts->ts_recs[ts->ts_nr++] = (struct trim_rec){
	    .tr_key = trim_key(param),
	    .tr_epoch = ent->ie_epoch,
	    .tr_lo = ent->ie_recx.rx_idx,
	    .tr_hi = ent->ie_recx.rx_idx + ent->ie_recx.rx_nr - 1,
	};
	return 0;
}

static int
trim_hist_cb(daos_handle_t ih, vos_iter_entry_t *ent, vos_iter_type_t type, vos_iter_param_t *param,
	     void *arg, unsigned int *acts)
{
	struct trim_set *ts = arg;
	uint64_t key, idx, seen = 0;
	uint32_t i;

	(void)ih;
	(void)acts;
	if (type != VOS_ITER_RECX || ent->ie_rsize == 0 || ent->ie_epoch < ts->ts_lo ||
	    ent->ie_epoch > ts->ts_hi)
		return 0;
	key = trim_key(param);
	for (idx = ent->ie_recx.rx_idx; idx < ent->ie_recx.rx_idx + ent->ie_recx.rx_nr; idx++) {
		for (i = 0; i < ts->ts_nr; i++) {
			const struct trim_rec *r = &ts->ts_recs[i];

			if (r->tr_key == key && r->tr_epoch == ent->ie_epoch && r->tr_lo <= idx &&
			    idx <= r->tr_hi)
				break;
		}
		seen += i < ts->ts_nr;
	}
	/* an entry kept for part of it */
	if (seen > 0 && seen < ent->ie_recx.rx_nr) {
		ts->ts_partial++;
		ts->ts_partial_data += ent->ie_media == VOS_MEDIA_DATA;
	}
	return 0;
}

/*
 * Extents (heap or data file) in [@lo, @hi] that the readers @rdrs see only part of; the
 * data-file ones among them in trim_data_partial.
 */
static unsigned int
trim_partial(const uint64_t *rdrs, unsigned int n, uint64_t lo, uint64_t hi)
{
	vos_iter_param_t param = {.ip_hdl = coh, .ip_flags = VOS_IT_VISIBLE};
	struct trim_set ts = {.ts_lo = lo, .ts_hi = hi};
	unsigned int i;

	/* the bound reads for every epoch above it: aggregation keeps what it sees */
	for (i = 0; i <= n; i++) {
		param.ip_epr.epr_lo = 0;
		param.ip_epr.epr_hi = i < n ? rdrs[i] : hi;
		assert_int_equal(
		    vos_iterate(&param, VOS_ITER_OBJ, true, NULL, trim_vis_cb, NULL, &ts, NULL), 0);
	}
	param.ip_flags = 0;
	param.ip_epr.epr_hi = DAOS_EPOCH_MAX;
	assert_int_equal(
	    vos_iterate(&param, VOS_ITER_OBJ, true, NULL, trim_hist_cb, NULL, &ts, NULL), 0);
	D_FREE(ts.ts_recs);
	trim_data_partial = ts.ts_partial_data;
	return ts.ts_partial;
}

static int
count_cb(daos_handle_t ih, vos_iter_entry_t *ent, vos_iter_type_t type, vos_iter_param_t *param,
	 void *arg, unsigned int *acts)
{
	(void)ih;
	(void)ent;
	(void)type;
	(void)param;
	(void)acts;
	(*(unsigned int *)arg)++;
	return 0;
}

/* Entries of the extent tree of @akey (full history). */
static unsigned int
count_recx(daos_unit_oid_t oid, daos_key_t *dkey, daos_key_t *akey)
{
	vos_iter_param_t param = {.ip_hdl = coh,
				  .ip_oid = oid,
				  .ip_dkey = *dkey,
				  .ip_akey = *akey,
				  .ip_epr = {.epr_lo = 0, .epr_hi = DAOS_EPOCH_MAX}};
	unsigned int n = 0;

	assert_int_equal(vos_iterate(&param, VOS_ITER_RECX, false, NULL, count_cb, NULL, &n, NULL),
			 0);
	return n;
}

/*
 * The model test: rounds of random updates and punches, a snapshot list that keeps, drops
 * and adds snapshots, and an aggregation bound that moves up; every view that must survive
 * is taken before and compared after; space must come back, a second pass must change
 * nothing; pools are reopened and crashed between rounds.
 */
#define ROUNDS 10
#define SNAPS_MAX 40
#define RDRS_MAX (SNAPS_MAX + 4)

static void
t_model(void **state)
{
	static struct world w;
	static struct view before[RDRS_MAX];
	uint64_t snaps[SNAPS_MAX], rdrs[RDRS_MAX], hi = 0, agg_vals = 0, partial_before = 0;
	uint64_t partial_data_before = 0;
	unsigned int nsnaps = 0, nrdrs, round, i, n;
	struct vos_cont_info c0, c1, c2;
	struct vos_pool_info p0, p1, p2;
	daos_epoch_range_t epr;

	(void)state;
	world_init(&w, d_test_seed("vos_agg model"));
	for (round = 0; round < ROUNDS; round++) {
		uint64_t start = w.w_epoch, nops = 150 + wrnd(&w, 150);

		hot_writes(&w);
		for (i = 0; i < nops; i++) {
			world_op(&w, &coh, 1);
			/* the bound: past at least three quarters of the round */
			if (i == nops * 3 / 4 + wrnd(&w, nops / 4))
				hi = w.w_epoch;
		}
		if (hi <= start)
			hi = w.w_epoch;
		/* snapshots: keep most of the old ones, add up to 3 in this round's range */
		for (i = n = 0; i < nsnaps; i++)
			if (wrnd(&w, 10) < 7)
				snaps[n++] = snaps[i];
		nsnaps = n;
		for (i = wrnd(&w, 4); i > 0 && nsnaps < SNAPS_MAX - 1; i--)
			snaps[nsnaps++] = start + 1 + wrnd(&w, hi - start);
		if (wrnd(&w, 4) == 0 && nsnaps < SNAPS_MAX)
			snaps[nsnaps++] = hi + 1 + wrnd(&w, w.w_epoch - hi + 1); /* above hi */

		nrdrs = readers(&w, hi, snaps, nsnaps, rdrs);
		views_take(&w, coh, rdrs, nrdrs, before);
		pool_settle();
		assert_int_equal(vos_cont_query(coh, &c0), 0);
		assert_int_equal(vos_pool_query(poh, &p0), 0);

		/* from 0, or from where the last round stopped */
		epr.epr_lo = wrnd(&w, 2) ? 0 : start + 1;
		epr.epr_hi = hi;
		partial_before += trim_partial(rdrs, nrdrs, epr.epr_lo, hi);
		partial_data_before += trim_data_partial;
		assert_int_equal(agg_gc(coh, &epr, snaps, nsnaps), 0);
		views_check(&w, coh, rdrs, nrdrs, before);
		/* partly covered extents were trimmed (and merged), however big the group */
		assert_int_equal(trim_partial(rdrs, nrdrs, epr.epr_lo, hi), 0);
		pool_settle();
		assert_int_equal(vos_cont_query(coh, &c1), 0);
		assert_int_equal(vos_pool_query(poh, &p1), 0);
		print_message("round %u: [%" PRIu64 ", %" PRIu64
			      "], %u snapshots: heap values %" PRIu64 " -> %" PRIu64
			      ", data %" PRIu64 " -> %" PRIu64 "; pool heap free +%" PRIu64
			      ", data free +%" PRIu64 "\n",
			      round, epr.epr_lo, hi, nsnaps, c0.ci_used_scm, c1.ci_used_scm,
			      c0.ci_used_data, c1.ci_used_data, p1.pi_scm_free - p0.pi_scm_free,
			      p1.pi_data_free - p0.pi_data_free);
		assert_true(c1.ci_used_scm < c0.ci_used_scm);
		assert_true(c1.ci_used_data < c0.ci_used_data);
		assert_true(p1.pi_scm_free > p0.pi_scm_free);
		assert_int_equal(p1.pi_data_free - p0.pi_data_free,
				 c0.ci_used_data - c1.ci_used_data);
		agg_vals += c0.ci_used - c1.ci_used;

		/* again: nothing more to do */
		assert_int_equal(agg_gc(coh, &epr, snaps, nsnaps), 0);
		pool_settle();
		assert_int_equal(vos_cont_query(coh, &c2), 0);
		assert_int_equal(vos_pool_query(poh, &p2), 0);
		assert_memory_equal(&c1, &c2, sizeof(c1));
		assert_int_equal(p2.pi_scm_free, p1.pi_scm_free);
		assert_int_equal(p2.pi_data_free, p1.pi_data_free);
		views_check(&w, coh, rdrs, nrdrs, before);

		/* between rounds: carry on, reopen, or crash */
		switch (wrnd(&w, 3)) {
		case 1:
			pool_reopen(false);
			views_check(&w, coh, rdrs, nrdrs, before);
			break;
		case 2:
			pool_reopen(true);
			views_check(&w, coh, rdrs, nrdrs, before);
			break;
		default:
			break;
		}
		/* snapshots above the bound stay readers of the next round */
	}
	print_message("%" PRIu64 " value bytes freed over %u rounds; %" PRIu64
		      " partly covered extents trimmed, %" PRIu64 " of them in the data file\n",
		      agg_vals, ROUNDS, partial_before, partial_data_before);
	assert_true(partial_before > 0);
	assert_true(partial_data_before > 0);
}

/*
 * Aggregation with a WAL of the smallest size and much history: its transactions fill the
 * WAL, make room, and the result is the same.
 */
static void
t_small_wal(void **state)
{
	static struct world w;
	static struct view before[5];
	uint64_t rdrs[5], snap;
	struct vos_pool_info p0, p1;
	daos_epoch_range_t epr;
	unsigned int i, n;

	(void)state;
	assert_int_equal(vos_cont_close(coh), 0);
	assert_int_equal(vos_pool_close(poh), 0);
	vos_pool_destroy(path, pool_uuid);
	vt_pool_start(64ULL << 20, 64ULL << 20, VOS_POOL_WAL_MIN);
	world_init(&w, d_test_seed("vos_agg small WAL"));
	/* history, until the WAL is nearly full: aggregation has to make room */
	for (i = 0;; i++) {
		world_op(&w, &coh, 1);
		assert_int_equal(vos_pool_query(poh, &p0), 0);
		if (i >= 3000 && p0.pi_wal_used * 1000 > p0.pi_wal_size * 995)
			break;
	}
	snap = w.w_epoch / 2;
	n = readers(&w, w.w_epoch, &snap, 1, rdrs);
	views_take(&w, coh, rdrs, n, before);
	assert_int_equal(vos_pool_query(poh, &p0), 0);
	epr.epr_lo = 0;
	epr.epr_hi = w.w_epoch;
	assert_int_equal(agg_gc(coh, &epr, &snap, 1), 0);
	views_check(&w, coh, rdrs, n, before);
	assert_int_equal(vos_pool_query(poh, &p1), 0);
	print_message("%u operations; checkpoints %" PRIu64 " -> %" PRIu64 "\n", i,
		      p0.pi_checkpoints, p1.pi_checkpoints);
	assert_true(p1.pi_checkpoints > p0.pi_checkpoints);
	pool_reopen(true);
	views_check(&w, coh, rdrs, n, before);
}

/*
 * Containers whose keys are all punched: aggregation past the punches removes them with
 * everything under them, and the space comes back to what an empty container holds.
 */
static void
t_punched(void **state)
{
	static uint8_t buf[3 * VOS_DATA_THRESH];
	struct vos_pool_info p0, p1;
	struct vos_cont_info ci;
	daos_epoch_range_t epr = {0};
	daos_key_t dk, ak = vt_key("a"), ak2 = vt_key("arr"), ak3 = vt_key("big");
	uint64_t e = 1;
	unsigned int i, j;
	char dname[16];

	(void)state;
	/* warm up: data-file bitmap pages, the object index root */
	fill(buf, sizeof(buf), 1);
	dk = vt_key("warm");
	assert_int_equal(
	    upd_sv(coh, test_oid(DAOS_OT_MULTI_HASHED, 1), e++, &dk, &ak3, buf, sizeof(buf)), 0);
	assert_int_equal(
	    vos_obj_punch(coh, test_oid(DAOS_OT_MULTI_HASHED, 1), e++, 0, 0, NULL, 0, NULL, NULL),
	    0);
	epr.epr_hi = e++;
	assert_int_equal(agg_gc(coh, &epr, NULL, 0), 0);
	pool_settle();
	assert_int_equal(vos_cont_query(coh, &ci), 0);
	assert_int_equal(ci.ci_nobjs, 0);
	assert_int_equal(vos_pool_query(poh, &p0), 0);

	for (i = 0; i < 60; i++) {
		daos_unit_oid_t oid =
		    test_oid(i % 2 ? DAOS_OT_DKEY_UINT64 : DAOS_OT_MULTI_HASHED, 1000 + i);
		uint64_t du[4] = {7, 8, 9, 10};

		for (j = 0; j < 4; j++) {
			snprintf(dname, sizeof(dname), "d%u", j);
			if (i % 2)
				d_iov_set(&dk, &du[j], sizeof(uint64_t));
			else
				dk = vt_key(dname);
			assert_int_equal(upd_sv(coh, oid, e++, &dk, &ak, buf, 100 + j), 0);
			assert_int_equal(upd_sv(coh, oid, e++, &dk, &ak, buf, 200), 0);
			assert_int_equal(upd_ar(coh, oid, e++, &dk, &ak2, 4, i, 50, buf), 0);
			if (j == 0)
				assert_int_equal(upd_sv(coh, oid, e++, &dk, &ak3, buf, sizeof(buf)),
						 0);
			/* objects 3k: punch every dkey; 3k + 1: every akey; others: the object */
			if (i % 3 == 0)
				assert_int_equal(
				    vos_obj_punch(coh, oid, e++, 0, 0, &dk, 0, NULL, NULL), 0);
			if (i % 3 == 1) {
				daos_key_t aks[3] = {ak, ak2, ak3};

				assert_int_equal(
				    vos_obj_punch(coh, oid, e++, 0, 0, &dk, 3, aks, NULL), 0);
			}
		}
		if (i % 3 == 2)
			assert_int_equal(vos_obj_punch(coh, oid, e++, 0, 0, NULL, 0, NULL, NULL),
					 0);
	}
	assert_int_equal(vos_cont_query(coh, &ci), 0);
	assert_int_equal(ci.ci_nobjs, 60);
	assert_true(ci.ci_used_scm > 0 && ci.ci_used_data > 0);

	/* a snapshot before the punches keeps everything it reads */
	epr.epr_hi = e++;
	{
		uint64_t snap = 5, size = 0;
		uint8_t out[sizeof(buf)];
		daos_iod_t iod = {0};
		d_sg_list_t sgl = {0};
		d_iov_t iov;

		assert_int_equal(agg_gc(coh, &epr, &snap, 1), 0);
		dk = vt_key("d0");
		iod.iod_name = ak;
		iod.iod_type = DAOS_IOD_SINGLE;
		iod.iod_size = DAOS_REC_ANY;
		iod.iod_nr = 1;
		d_iov_set(&iov, out, sizeof(out));
		sgl.sg_nr = 1;
		sgl.sg_iovs = &iov;
		assert_int_equal(vos_obj_fetch(coh, test_oid(DAOS_OT_MULTI_HASHED, 1000), snap, 0,
					       &dk, 1, &iod, &sgl),
				 0);
		size = iod.iod_size;
		assert_int_equal(size, 200);
		assert_int_equal(vos_obj_fetch(coh, test_oid(DAOS_OT_MULTI_HASHED, 1000),
					       DAOS_EPOCH_MAX, 0, &dk, 1, &iod, &sgl),
				 0);
		assert_int_equal(iod.iod_size, 0);
	}
	assert_int_equal(vos_cont_query(coh, &ci), 0);
	assert_true(ci.ci_nobjs > 0);

	/* without it, all goes: objects, punched dkeys, punched akeys */
	assert_int_equal(agg_gc(coh, &epr, NULL, 0), 0);
	pool_settle();
	assert_int_equal(vos_cont_query(coh, &ci), 0);
	print_message("after: %" PRIu64 " objects, %" PRIu64 " heap and %" PRIu64
		      " data bytes of values\n",
		      ci.ci_nobjs, ci.ci_used_scm, ci.ci_used_data);
	/* objects whose dkeys or akeys were punched remain (a punch below creates its parents) */
	assert_int_equal(ci.ci_nobjs, 40);
	assert_int_equal(ci.ci_used_scm, 0);
	assert_int_equal(ci.ci_used_data, 0);
	assert_int_equal(vos_pool_query(poh, &p1), 0);
	print_message("pool heap free: %" PRIu64 " before, %" PRIu64 " after (%" PRId64 ")\n",
		      p0.pi_scm_free, p1.pi_scm_free,
		      (int64_t)p1.pi_scm_free - (int64_t)p0.pi_scm_free);
	assert_int_equal(p1.pi_data_free, p0.pi_data_free);
	/* 40 objects, 80 dkeys with small logs, and tree nodes */
	assert_true(p1.pi_scm_free + (64 << 10) >= p0.pi_scm_free);

	/* punch those too: nothing is left */
	for (i = 0; i < 60; i++)
		if (i % 3 != 2)
			assert_int_equal(vos_obj_punch(coh,
						       test_oid(i % 2 ? DAOS_OT_DKEY_UINT64
								      : DAOS_OT_MULTI_HASHED,
								1000 + i),
						       e++, 0, 0, NULL, 0, NULL, NULL),
					 0);
	epr.epr_hi = e++;
	assert_int_equal(agg_gc(coh, &epr, NULL, 0), 0);
	pool_settle();
	assert_int_equal(vos_cont_query(coh, &ci), 0);
	assert_int_equal(ci.ci_nobjs, 0);
	assert_int_equal(vos_pool_query(poh, &p1), 0);
	print_message("all punched: pool heap free %" PRId64 " from the empty container's\n",
		      (int64_t)p1.pi_scm_free - (int64_t)p0.pi_scm_free);
	assert_true(p1.pi_scm_free + (4 << 10) >= p0.pi_scm_free);
	pool_reopen(true);
	assert_int_equal(vos_cont_query(coh, &ci), 0);
	assert_int_equal(ci.ci_nobjs, 0);
	assert_int_equal(vos_pool_query(poh, &p1), 0);
	assert_int_equal(p1.pi_data_free, p0.pi_data_free);

	/* keys hidden by their parent's punch go, though their own logs say they exist */
	for (j = 0; j < 4; j++) {
		snprintf(dname, sizeof(dname), "d%u", j);
		dk = vt_key(dname);
		assert_int_equal(
		    upd_sv(coh, test_oid(DAOS_OT_MULTI_HASHED, 7), e++, &dk, &ak, buf, 1000), 0);
	}
	assert_int_equal(
	    vos_obj_punch(coh, test_oid(DAOS_OT_MULTI_HASHED, 7), e++, 0, 0, NULL, 0, NULL, NULL),
	    0);
	dk = vt_key("later");
	assert_int_equal(upd_sv(coh, test_oid(DAOS_OT_MULTI_HASHED, 7), e++, &dk, &ak, buf, 100),
			 0);
	epr.epr_hi = e++;
	assert_int_equal(agg_gc(coh, &epr, NULL, 0), 0);
	assert_int_equal(vos_cont_query(coh, &ci), 0);
	assert_int_equal(ci.ci_nobjs, 1);
	assert_int_equal(ci.ci_used_scm, 100);
}

/*
 * Discard: a container and its twin receive the same operations, except those of one epoch
 * range, which only the container gets; after discarding that range the two read alike at
 * every epoch and hold the same bytes; twice changes nothing; both go on alike, across a
 * crash.
 */
#define D_RDRS 12

static void
t_discard(void **state)
{
	static struct world w;
	static struct view va[D_RDRS], vb[D_RDRS];
	daos_handle_t both[2];
	struct vos_cont_info ca, cb, ca2;
	daos_epoch_range_t epr;
	uint64_t rdrs[D_RDRS];
	daos_key_t dk, ak;
	unsigned int round, i, ndiff;

	(void)state;
	assert_int_equal(vos_cont_create(poh, twin_uuid), 0);
	assert_int_equal(vos_cont_open(poh, twin_uuid, &twin), 0);
	both[0] = coh;
	both[1] = twin;
	world_init(&w, d_test_seed("vos_agg discard"));
	for (round = 0; round < 4; round++) {
		for (i = 0; i < 200; i++)
			world_op(&w, both, 2);
		epr.epr_lo = w.w_epoch + 1;
		for (i = 0; i < 100 + round * 50; i++)
			world_op(&w, both, 1); /* the container only */
		/* keys and an object that exist only in the range: they must go */
		dk = vt_key("new");
		ak = vt_key("new");
		fill(w.w_buf, 5000, round);
		assert_int_equal(upd_sv(coh, w.w_oid[0], ++w.w_epoch, &dk, &ak, w.w_buf, 5000), 0);
		assert_int_equal(upd_sv(coh, test_oid(DAOS_OT_MULTI_HASHED, 900 + round),
					++w.w_epoch, &dk, &ak, w.w_buf, 100),
				 0);
		dk = w_dkey(&w, 1, 1);
		assert_int_equal(
		    vos_obj_punch(coh, w.w_oid[1], ++w.w_epoch, 0, 0, &dk, 1, &ak, NULL), 0);
		epr.epr_hi = w.w_epoch;
		for (i = 0; i < 100; i++)
			world_op(&w, both, 2);

		/* anywhere, inside the range, at its end (the new keys are there) and now */
		for (i = 0; i < D_RDRS - 2; i++)
			rdrs[i] = i % 2 ? 1 + wrnd(&w, w.w_epoch)
					: epr.epr_lo + wrnd(&w, epr.epr_hi - epr.epr_lo + 1);
		rdrs[D_RDRS - 2] = epr.epr_hi;
		rdrs[D_RDRS - 1] = DAOS_EPOCH_MAX;
		views_take(&w, twin, rdrs, D_RDRS, vb);
		views_take(&w, coh, rdrs, D_RDRS, va);
		for (i = ndiff = 0; i < D_RDRS; i++)
			ndiff += !view_same(&va[i], &vb[i], false);

		assert_true(ndiff > 0); /* the range made a difference */

		assert_int_equal(vos_discard(coh, &epr), 0);
		views_check(&w, coh, rdrs, D_RDRS, vb);
		assert_int_equal(vos_cont_query(coh, &ca), 0);
		assert_int_equal(vos_cont_query(twin, &cb), 0);
		assert_int_equal(ca.ci_nobjs, cb.ci_nobjs);
		assert_int_equal(ca.ci_used_scm, cb.ci_used_scm);
		assert_int_equal(ca.ci_used_data, cb.ci_used_data);
		assert_int_equal(vos_discard(coh, &epr), 0);
		assert_int_equal(vos_cont_query(coh, &ca2), 0);
		assert_memory_equal(&ca, &ca2, sizeof(ca));
		print_message("discard round %u: [%" PRIu64 ", %" PRIu64 "], %u of %u views "
			      "differed, %" PRIu64 " objects, %" PRIu64 " value bytes\n",
			      round, epr.epr_lo, epr.epr_hi, ndiff, D_RDRS, ca.ci_nobjs,
			      ca.ci_used);
		if (round == 1)
			pool_reopen(true);
		both[0] = coh;
		both[1] = twin;
	}
	/* a discard below everything, and bad arguments */
	epr.epr_lo = epr.epr_hi = w.w_epoch + 100;
	assert_int_equal(vos_discard(coh, &epr), 0);
	views_check(&w, coh, rdrs, D_RDRS, vb);
	epr.epr_lo = 5;
	epr.epr_hi = 4;
	assert_int_equal(vos_discard(coh, &epr), -DER_INVAL);
	assert_int_equal(agg_gc(coh, &epr, NULL, 0), -DER_INVAL);
	assert_int_equal(vos_discard(coh, NULL), -DER_INVAL);
	epr.epr_lo = 0;
	epr.epr_hi = 10;
	assert_int_equal(agg_gc(coh, &epr, NULL, 3), -DER_INVAL);
}

/*
 * Long histories of one single value and one array (several transactions each): exactly
 * the versions the snapshot and the latest readers see are left, whatever the order of
 * the entries in their trees.
 */
static void
t_long_history(void **state)
{
	static uint8_t buf[16 * 8], out[16 * 8];
	daos_unit_oid_t oid = test_oid(DAOS_OT_MULTI_HASHED, 5);
	daos_key_t dk = vt_key("d"), asv = vt_key("sv"), aar = vt_key("ar");
	daos_recx_t recx = {.rx_idx = 0, .rx_nr = 16};
	uint64_t snaps[2] = {201, 301}, e, rdrs[4] = {201, 301, 600, DAOS_EPOCH_MAX};
	daos_epoch_range_t epr = {.epr_lo = 0, .epr_hi = 600};
	struct vos_cont_info ci;
	daos_iod_t iod = {0};
	d_sg_list_t sgl = {0};
	d_iov_t iov;
	unsigned int i;

	(void)state;
	for (e = 1; e <= 600; e++) {
		fill(buf, sizeof(buf), e);
		assert_int_equal(upd_sv(coh, oid, e, &dk, &asv, buf, 10 + e % 7), 0);
		/* the whole range, or a piece of it (entries sort by start, then epoch) */
		if (e % 3 == 0)
			assert_int_equal(upd_ar(coh, oid, e, &dk, &aar, 8, e % 16, 1, buf), 0);
		else
			assert_int_equal(upd_ar(coh, oid, e, &dk, &aar, 8, 0, 16, buf), 0);
	}
	assert_int_equal(agg_gc(coh, &epr, snaps, 2), 0);
	assert_int_equal(vos_cont_query(coh, &ci), 0);
	/*
	 * sv: the versions at 201, 301, 600; array: 200 + 201, 301, 599 + 600, the pairs
	 * trimmed to what their readers see and merged into one extent each
	 */
	assert_int_equal(ci.ci_used_scm, (10 + 201 % 7) + (10 + 301 % 7) + (10 + 600 % 7) + 16 * 8 +
					     16 * 8 + 16 * 8);
	assert_int_equal(count_recx(oid, &dk, &aar), 3);
	for (i = 0; i < 4; i++) {
		iod.iod_name = asv;
		iod.iod_type = DAOS_IOD_SINGLE;
		iod.iod_size = DAOS_REC_ANY;
		iod.iod_nr = 1;
		iod.iod_recxs = NULL;
		d_iov_set(&iov, out, sizeof(out));
		sgl.sg_nr = 1;
		sgl.sg_iovs = &iov;
		e = rdrs[i] == DAOS_EPOCH_MAX ? 600 : rdrs[i];
		assert_int_equal(vos_obj_fetch(coh, oid, rdrs[i], 0, &dk, 1, &iod, &sgl), 0);
		fill(buf, sizeof(buf), e);
		assert_int_equal(iod.iod_size, 10 + e % 7);
		assert_memory_equal(out, buf, iod.iod_size);
		iod.iod_name = aar;
		iod.iod_type = DAOS_IOD_ARRAY;
		iod.iod_size = 0;
		iod.iod_recxs = &recx;
		assert_int_equal(vos_obj_fetch(coh, oid, rdrs[i], 0, &dk, 1, &iod, &sgl), 0);
		assert_int_equal(iod.iod_size, 8);
		if (e % 3 == 0) {
			/* a record of e over the whole range of e - 1 */
			fill(buf, sizeof(buf), e - 1);
			assert_memory_equal(out, buf, (e % 16) * 8);
			assert_memory_equal(out + (e % 16 + 1) * 8, buf + (e % 16 + 1) * 8,
					    (15 - e % 16) * 8);
			fill(buf, sizeof(buf), e);
			assert_memory_equal(out + (e % 16) * 8, buf, 8);
		} else {
			assert_memory_equal(out, buf, sizeof(buf));
		}
	}
}

/*
 * Groups bigger than a transaction: a group of epochs between two readers holding far more
 * than AGG_CREDITS (128) partly covered heap extents and extent punches is still trimmed and
 * merged, over several transactions, into exactly the runs a model predicts: pieces (the
 * records one write shows the group's first reader) joined while adjacent, of one kind and
 * below VOS_DATA_THRESH bytes. Readers read the same, a second pass changes nothing.
 */
#define BG_RECS 1024
#define BG_RSIZE 16
#define BG_WRITES 520

struct bg_write {
	uint64_t bw_epoch;
	uint64_t bw_lo, bw_hi;
	bool bw_hole;
};

static void
bg_record(uint8_t *rec, uint64_t epoch, uint64_t idx)
{
	fill(rec, BG_RSIZE, epoch * BG_RECS + idx);
	rec[0] |= 1; /* never all zero: a hole reads as zeros */
}

/* The write a reader at @rdr sees at @idx, or -1. */
static int
bg_writer(const struct bg_write *ws, unsigned int nw, uint64_t rdr, uint64_t idx)
{
	int w = -1;
	unsigned int i;

	for (i = 0; i < nw; i++)
		if (ws[i].bw_epoch <= rdr && ws[i].bw_lo <= idx && idx <= ws[i].bw_hi &&
		    (w < 0 || ws[i].bw_epoch > ws[w].bw_epoch))
			w = (int)i;
	return w;
}

/* The runs the merge must leave of the group (@lo, @hi] whose first reader is @rdr. */
static unsigned int
bg_runs(const struct bg_write *ws, unsigned int nw, uint64_t lo, uint64_t hi, uint64_t rdr)
{
	unsigned int runs = 0;
	uint64_t idx = 0, bytes = 0, plen;
	int w, prev = -1;

	while (idx < BG_RECS) {
		w = bg_writer(ws, nw, rdr, idx);
		for (plen = 1; idx + plen < BG_RECS && bg_writer(ws, nw, rdr, idx + plen) == w;
		     plen++)
			;
		if (w < 0 || ws[w].bw_epoch <= lo || ws[w].bw_epoch > hi) {
			prev = -1; /* not a piece of the group: no run goes across */
		} else if (prev >= 0 && ws[prev].bw_hole == ws[w].bw_hole &&
			   (ws[w].bw_hole || bytes + plen * BG_RSIZE < VOS_DATA_THRESH)) {
			bytes += ws[w].bw_hole ? 0 : plen * BG_RSIZE;
			prev = w;
		} else {
			runs++;
			bytes = ws[w].bw_hole ? 0 : plen * BG_RSIZE;
			prev = w;
		}
		idx += plen;
	}
	return runs;
}

static void
bg_check(daos_unit_oid_t oid, daos_key_t *dk, daos_key_t *ak, const struct bg_write *ws,
	 unsigned int nw, uint64_t rdr)
{
	static uint8_t out[BG_RECS * BG_RSIZE], exp[BG_RECS * BG_RSIZE];
	daos_recx_t recx = {.rx_idx = 0, .rx_nr = BG_RECS};
	daos_iod_t iod = {0};
	d_sg_list_t sgl = {0};
	d_iov_t iov;
	uint64_t idx;
	int w;

	memset(exp, 0, sizeof(exp));
	for (idx = 0; idx < BG_RECS; idx++) {
		w = bg_writer(ws, nw, rdr, idx);
		if (w >= 0 && !ws[w].bw_hole)
			bg_record(exp + idx * BG_RSIZE, ws[w].bw_epoch, idx);
	}
	memset(out, 0xee, sizeof(out));
	iod.iod_name = *ak;
	iod.iod_type = DAOS_IOD_ARRAY;
	iod.iod_size = BG_RSIZE;
	iod.iod_nr = 1;
	iod.iod_recxs = &recx;
	d_iov_set(&iov, out, sizeof(out));
	sgl.sg_nr = 1;
	sgl.sg_iovs = &iov;
	assert_int_equal(vos_obj_fetch(coh, oid, rdr, 0, dk, 1, &iod, &sgl), 0);
	assert_memory_equal(out, exp, sizeof(out));
}

static void
t_big_group(void **state)
{
	static struct bg_write ws[BG_WRITES];
	static uint8_t buf[BG_RECS * BG_RSIZE];
	daos_unit_oid_t oid = test_oid(DAOS_OT_MULTI_HASHED, 9);
	daos_key_t dk = vt_key("d"), ak = vt_key("big");
	uint64_t snaps[1] = {300}, rdrs[4] = {300, 1000, 1001, DAOS_EPOCH_MAX};
	daos_epoch_range_t epr = {.epr_lo = 0, .epr_hi = 1000};
	struct vos_pool *pool = vos_hdl2pool(poh);
	struct vos_cont_info c0, c1, c2;
	unsigned int nw = 0, i, runs, before;
	uint64_t idx, reused, replans;

	(void)state;
	/* group (0, 300]: four base extents, then 250 single records and punches over them */
	for (i = 0; i < 4; i++)
		ws[nw++] =
		    (struct bg_write){.bw_epoch = 1 + i, .bw_lo = 250 * i, .bw_hi = 250 * i + 249};
	for (i = 0; i < 250; i++)
		ws[nw++] = (struct bg_write){.bw_epoch = 5 + i,
					     .bw_lo = 4 * i + 1,
					     .bw_hi = 4 * i + 1,
					     .bw_hole = i % 97 == 50};
	/* group (300, 1000]: 200 extents of 4 records, each covering its predecessor's last */
	for (i = 0; i < 200; i++)
		ws[nw++] = (struct bg_write){.bw_epoch = 301 + i,
					     .bw_lo = 3 * i,
					     .bw_hi = 3 * i + 3,
					     .bw_hole = i % 67 == 30};
	/* above the bound: a write that hides part of what the bound reads */
	ws[nw++] = (struct bg_write){.bw_epoch = 1001, .bw_lo = 100, .bw_hi = 140};
	assert_true(nw <= BG_WRITES);
	for (i = 0; i < nw; i++) {
		for (idx = ws[i].bw_lo; idx <= ws[i].bw_hi; idx++)
			bg_record(buf + (idx - ws[i].bw_lo) * BG_RSIZE, ws[i].bw_epoch, idx);
		assert_int_equal(upd_ar(coh, oid, ws[i].bw_epoch, &dk, &ak, BG_RSIZE, ws[i].bw_lo,
					ws[i].bw_hi - ws[i].bw_lo + 1, ws[i].bw_hole ? NULL : buf),
				 0);
	}
	for (i = 0; i < 4; i++)
		bg_check(oid, &dk, &ak, ws, nw, rdrs[i]);
	before = count_recx(oid, &dk, &ak);
	assert_int_equal(before, nw);

	reused = pool->vp_agg_reused;
	replans = pool->vp_agg_replans;
	assert_int_equal(agg_gc(coh, &epr, snaps, 1), 0);
	for (i = 0; i < 4; i++)
		bg_check(oid, &dk, &ak, ws, nw, rdrs[i]);
	/* nothing else ran: every merge transaction used the plan of its prepare */
	print_message("merge transactions: %" PRIu64 " used their prepare's plan, %" PRIu64
		      " made their own\n",
		      pool->vp_agg_reused - reused, pool->vp_agg_replans - replans);
	assert_true(pool->vp_agg_reused - reused >= 4);
	assert_int_equal(pool->vp_agg_replans, replans);
	runs = bg_runs(ws, nw, 0, 300, 300) + bg_runs(ws, nw, 300, 1000, 1000) + 1;
	print_message("%u extents merged into %u\n", before, count_recx(oid, &dk, &ak));
	assert_int_equal(count_recx(oid, &dk, &ak), runs);
	assert_int_equal(trim_partial(rdrs, 4, 0, 1000), 0);

	/* again: nothing changes */
	pool_settle();
	assert_int_equal(vos_cont_query(coh, &c1), 0);
	assert_int_equal(agg_gc(coh, &epr, snaps, 1), 0);
	pool_settle();
	assert_int_equal(vos_cont_query(coh, &c2), 0);
	assert_memory_equal(&c1, &c2, sizeof(c1));
	assert_int_equal(count_recx(oid, &dk, &ak), runs);
	(void)c0;
}

/*
 * Data-file extents are trimmed through data-file I/O outside the transaction, and the
 * transaction uses what it wrote only if the plan is still the same. Here, while the first
 * read of that I/O is waited for (the pool's wait hook), a second aggregation of the same
 * array with a snapshot runs to completion and rewrites the extents, so the first one's
 * plan changes (-DER_TX_RESTART inside): it must start over from the new tree, read the
 * same bytes at every reader, trim everything and give back every block it reserved.
 */
struct rs_hook {
	daos_epoch_range_t rh_epr;
	daos_epoch_t rh_snap;
	bool rh_armed;
	bool rh_ran;
	int rh_rc;
};

static struct rs_hook rs_hook;

static int
rs_wait(void *arg)
{
	struct vos_pool *pool = arg;

	if (rs_hook.rh_armed) {
		rs_hook.rh_armed = false;
		rs_hook.rh_rc = vos_aggregate(coh, &rs_hook.rh_epr, &rs_hook.rh_snap, 1);
		rs_hook.rh_ran = true;
		return 0;
	}
	return bio_wal_wait_io(pool->vp_wal);
}

/* Records [0, 64) of the array at @epoch into @out. */
static void
rs_read(daos_unit_oid_t oid, daos_key_t *dk, daos_key_t *ak, uint64_t epoch, uint8_t *out)
{
	daos_recx_t recx = {.rx_idx = 0, .rx_nr = 64};
	daos_iod_t iod = {0};
	d_sg_list_t sgl = {0};
	d_iov_t iov;

	iod.iod_name = *ak;
	iod.iod_type = DAOS_IOD_ARRAY;
	iod.iod_size = 256;
	iod.iod_nr = 1;
	iod.iod_recxs = &recx;
	d_iov_set(&iov, out, 64 * 256);
	sgl.sg_nr = 1;
	sgl.sg_iovs = &iov;
	memset(out, 0, 64 * 256);
	assert_int_equal(vos_obj_fetch(coh, oid, epoch, 0, dk, 1, &iod, &sgl), 0);
}

static void
t_data_restart(void **state)
{
	daos_unit_oid_t oid = test_oid(DAOS_OT_MULTI_HASHED, 88);
	daos_key_t dk = vt_key("d"), ak = vt_key("a");
	static uint8_t buf[64 * 256], at4[64 * 256], out[64 * 256];
	struct vos_pool *pool = vos_hdl2pool(poh);
	daos_epoch_range_t epr = {.epr_lo = 0, .epr_hi = 4};
	struct vos_pool_info pi;
	struct vos_cont_info ci;
	uint64_t rdrs[2] = {2, 4}, replans;

	(void)state;
	/* a 16 KiB data-file extent, then heap writes over parts of it */
	fill(buf, sizeof(buf), 1);
	assert_int_equal(upd_ar(coh, oid, 1, &dk, &ak, 256, 0, 64, buf), 0);
	fill(buf, sizeof(buf), 2);
	assert_int_equal(upd_ar(coh, oid, 2, &dk, &ak, 256, 10, 11, buf), 0);
	fill(buf, sizeof(buf), 3);
	assert_int_equal(upd_ar(coh, oid, 3, &dk, &ak, 256, 40, 6, buf), 0);
	rs_read(oid, &dk, &ak, 4, at4);
	assert_int_equal(trim_partial(rdrs, 2, 0, 4), 1);
	assert_int_equal(trim_data_partial, 1);

	rs_hook = (struct rs_hook){.rh_epr = epr, .rh_snap = 2, .rh_armed = true};
	pool->vp_attr.pa_wait = rs_wait;
	pool->vp_attr.pa_wait_arg = pool;
	replans = pool->vp_agg_replans;
	assert_int_equal(agg_gc(coh, &epr, NULL, 0), 0);
	pool->vp_attr.pa_wait = NULL;
	pool->vp_attr.pa_wait_arg = NULL;
	assert_true(rs_hook.rh_ran);
	assert_int_equal(rs_hook.rh_rc, 0);
	/* the transaction after the I/O saw the other one's commits and made its own plan */
	print_message("merge transactions that made their own plan: %" PRIu64 "\n",
		      pool->vp_agg_replans - replans);
	assert_int_equal(pool->vp_agg_replans - replans, 1);

	/* the bound reads the same; the snapshot was only the other aggregation's */
	rs_read(oid, &dk, &ak, 4, out);
	assert_memory_equal(out, at4, sizeof(out));
	rs_read(oid, &dk, &ak, DAOS_EPOCH_MAX, out);
	assert_memory_equal(out, at4, sizeof(out));
	assert_int_equal(trim_partial(rdrs + 1, 1, 0, 4), 0);
	/* every block reserved along the way came back: used = accounted */
	pool_settle();
	assert_int_equal(vos_cont_query(coh, &ci), 0);
	assert_int_equal(vos_pool_query(poh, &pi), 0);
	assert_int_equal(pi.pi_data_total - pi.pi_data_free, ci.ci_used_data);
	/* [0, 9], [21, 39] and [46, 63] left in the data file: 1 + 2 + 2 blocks */
	assert_int_equal(ci.ci_used_data, 5 * VOS_BLK_SIZE);
}

/*
 * Both tiers full of history: -DER_NOSPACE; aggregation gives the space back and updates
 * succeed again; punch + aggregation gives back the rest.
 */
static void
t_nospace(void **state)
{
	daos_unit_oid_t oid = test_oid(DAOS_OT_MULTI_HASHED, 77);
	static uint8_t big[64 << 10], small[3000], out[64 << 10];
	daos_key_t dk = vt_key("d"), abig = vt_key("big"), as[4];
	struct vos_pool_info p0, p1, p2;
	struct vos_cont_info ci;
	daos_epoch_range_t epr = {0};
	unsigned int nbig, nsmall, k;
	uint64_t e = 1;
	daos_iod_t iod = {0};
	d_sg_list_t sgl = {0};
	d_iov_t iov;
	char names[4][4];
	int rc;

	(void)state;
	assert_int_equal(vos_cont_close(coh), 0);
	assert_int_equal(vos_pool_close(poh), 0);
	vos_pool_destroy(path, pool_uuid);
	vt_pool_start(VOS_POOL_SCM_MIN, VOS_POOL_DATA_MIN, VOS_POOL_WAL_MIN);
	assert_int_equal(vos_pool_query(poh, &p0), 0);
	for (k = 0; k < 4; k++) {
		snprintf(names[k], sizeof(names[k]), "s%u", k);
		as[k] = vt_key(names[k]);
	}

	/* versions of one big value fill the data file */
	for (nbig = 0;; nbig++) {
		fill(big, sizeof(big), nbig);
		rc = upd_sv(coh, oid, e++, &dk, &abig, big, sizeof(big));
		if (rc != 0)
			break;
	}
	assert_int_equal(rc, -DER_NOSPACE);
	/* versions of four small ones fill the heap */
	for (nsmall = 0;; nsmall++) {
		fill(small, sizeof(small), nsmall);
		rc = upd_sv(coh, oid, e++, &dk, &as[nsmall % 4], small, sizeof(small));
		if (rc != 0)
			break;
	}
	assert_int_equal(rc, -DER_NOSPACE);
	print_message("%u big and %u small versions filled the pool\n", nbig, nsmall);
	assert_true(nbig > 4 && nsmall > 1000);

	/* aggregation up to now: only the newest versions stay */
	epr.epr_hi = e - 1;
	assert_int_equal(agg_gc(coh, &epr, NULL, 0), 0);
	pool_settle();
	assert_int_equal(vos_pool_query(poh, &p1), 0);
	print_message("free after aggregation: heap %" PRIu64 " KiB, data %" PRIu64 " KiB\n",
		      p1.pi_scm_free >> 10, p1.pi_data_free >> 10);
	assert_true(p1.pi_data_free >= p0.pi_data_free - 2 * sizeof(big));
	assert_true(p1.pi_scm_free > p0.pi_scm_free / 2);
	/* the newest versions read as before */
	iod.iod_name = abig;
	iod.iod_type = DAOS_IOD_SINGLE;
	iod.iod_size = DAOS_REC_ANY;
	iod.iod_nr = 1;
	d_iov_set(&iov, out, sizeof(out));
	sgl.sg_nr = 1;
	sgl.sg_iovs = &iov;
	assert_int_equal(vos_obj_fetch(coh, oid, DAOS_EPOCH_MAX, 0, &dk, 1, &iod, &sgl), 0);
	fill(big, sizeof(big), nbig - 1);
	assert_int_equal(iod.iod_size, sizeof(big));
	assert_memory_equal(out, big, sizeof(big));
	iod.iod_name = as[(nsmall - 1) % 4];
	assert_int_equal(vos_obj_fetch(coh, oid, DAOS_EPOCH_MAX, 0, &dk, 1, &iod, &sgl), 0);
	fill(small, sizeof(small), nsmall - 1);
	assert_int_equal(iod.iod_size, sizeof(small));
	assert_memory_equal(out, small, sizeof(small));

	/* exactly the newest version of each akey is left */
	assert_int_equal(vos_cont_query(coh, &ci), 0);
	assert_int_equal(ci.ci_used_scm, 4 * sizeof(small));
	assert_int_equal(ci.ci_used_data, sizeof(big));

	/* both tiers take updates again */
	assert_int_equal(upd_sv(coh, oid, e++, &dk, &abig, big, sizeof(big)), 0);
	assert_int_equal(upd_sv(coh, oid, e++, &dk, &as[0], small, sizeof(small)), 0);

	/* punch + aggregation: everything comes back, also after a crash */
	assert_int_equal(vos_obj_punch(coh, oid, e++, 0, 0, NULL, 0, NULL, NULL), 0);
	epr.epr_hi = e++;
	assert_int_equal(agg_gc(coh, &epr, NULL, 0), 0);
	pool_settle();
	assert_int_equal(vos_cont_query(coh, &ci), 0);
	assert_int_equal(ci.ci_nobjs, 0);
	assert_int_equal(ci.ci_used, 0);
	assert_int_equal(vos_pool_query(poh, &p2), 0);
	assert_int_equal(p2.pi_data_free, p0.pi_data_free);
	assert_true(p2.pi_scm_free + (64 << 10) >= p0.pi_scm_free);
	pool_reopen(true);
	assert_int_equal(vos_pool_query(poh, &p2), 0);
	assert_int_equal(p2.pi_data_free, p0.pi_data_free);
	for (k = 0; k < 8; k++)
		assert_int_equal(upd_sv(coh, oid, e++, &dk, &abig, big, sizeof(big)), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(t_model, setup, teardown),
	    cmocka_unit_test_setup_teardown(t_small_wal, setup, teardown),
	    cmocka_unit_test_setup_teardown(t_punched, setup, teardown),
	    cmocka_unit_test_setup_teardown(t_discard, setup, teardown),
	    cmocka_unit_test_setup_teardown(t_long_history, setup, teardown),
	    cmocka_unit_test_setup_teardown(t_big_group, setup, teardown),
	    cmocka_unit_test_setup_teardown(t_nospace, setup, teardown),
	    cmocka_unit_test_setup_teardown(t_data_restart, setup, teardown),
	};

	return cmocka_run_group_tests_name("vos_agg", tests, NULL, NULL);
}
