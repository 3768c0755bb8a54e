/*
 * test_wal.c: the write-ahead log: round trips of random records in both sync modes, group
 * commit (many appends, one sync; callbacks in LSN order), the circular file with trims and
 * a full log, torn tails, a flipped bit in the middle, stale records of earlier passes and
 * of cut-off histories, I/O error injection, bad calls and damaged headers, the poller fd,
 * and every allocation failed in turn.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <inttypes.h>
#include <poll.h>
#include <sys/stat.h>

#include <gurt/common.h>
#include <daos_srv/bio.h>
#include <d_test.h>

#include "bio_internal.h"
#include "wal_test.h"

static const struct wt_shape small_shape = {
    .ws_max_ranges = 6, .ws_max_len = 700, .ws_big_len = 20000};
static const struct wt_shape fixed_shape = {.ws_max_ranges = 1, .ws_max_len = 0};
static const struct wt_shape big_shape = {.ws_max_ranges = 2, .ws_max_len = 1600 * 1024};

struct tstate {
	struct wt_dir ts_dir;
	uint32_t ts_mode;
	uint64_t ts_rng;
	struct wt_rec ts_rec;
	uint64_t *ts_seeds; /* seed of LSN i */
	uint64_t *ts_pos;   /* log position of LSN i */
	uint64_t ts_cap;
	const struct wt_shape *ts_shape; /* of the records replay checks */
	uint64_t ts_last_seed;           /* of the last record append_one tried */
};

static bool pipelined(void);

/* wal_open_replay from the trimmed tail, wherever it is */
#define FROM_TAIL UINT64_MAX

static int
setup_mode(void **state, uint32_t mode)
{
	struct tstate *ts = calloc(1, sizeof(*ts));

	assert_non_null(ts);
	assert_int_equal(wt_dir_init(&ts->ts_dir), 0);
	ts->ts_mode = mode;
	ts->ts_shape = &small_shape;
	ts->ts_rng = d_test_rand_seed(d_test_seed("bio_wal"));
	wt_rec_init(&ts->ts_rec);
	ts->ts_cap = 1 << 16;
	ts->ts_seeds = calloc(ts->ts_cap, sizeof(uint64_t));
	ts->ts_pos = calloc(ts->ts_cap, sizeof(uint64_t));
	*state = ts;
	return 0;
}

static int
setup_dsync(void **state)
{
	return setup_mode(state, BIO_WAL_SYNC_DSYNC);
}

static int
setup_fdatasync(void **state)
{
	return setup_mode(state, BIO_WAL_SYNC_FDATASYNC);
}

static int
teardown(void **state)
{
	struct tstate *ts = *state;

	d_fault_attr_clear_all();
	wt_dir_fini(&ts->ts_dir);
	wt_rec_fini(&ts->ts_rec);
	free(ts->ts_seeds);
	free(ts->ts_pos);
	free(ts);
	return 0;
}

static struct bio_wal *
wal_open_replay(struct tstate *ts, uint64_t from, struct wt_check *wc,
		struct bio_wal_replay_info *info, uint64_t staging)
{
	struct bio_wal_attr attr = {.wa_sync_mode = ts->ts_mode, .wa_staging_size = staging};
	struct bio_wal *wal;

	assert_int_equal(bio_wal_open(ts->ts_dir.wd_path, &attr, &wal), 0);
	if (from == FROM_TAIL) {
		struct bio_wal_stats st;

		bio_wal_query(wal, &st);
		from = st.ws_tail_lsn - 1;
	}
	if (wc != NULL) {
		memset(wc, 0, sizeof(*wc));
		wc->wc_shape = ts->ts_shape;
		wc->wc_seeds = ts->ts_seeds;
		wc->wc_nseeds = ts->ts_cap;
		wt_rec_init(&wc->wc_scratch);
	}
	assert_int_equal(bio_wal_replay(wal, from, wc ? wt_check_cb : NULL, wc, info), 0);
	if (wc != NULL)
		wt_rec_fini(&wc->wc_scratch);
	return wal;
}

/* Append the record of @seed; remember seed and position by LSN. */
static int
append_seed(struct tstate *ts, struct bio_wal *wal, const struct wt_shape *sh, uint64_t seed,
	    uint64_t *lsn)
{
	struct bio_wal_stats st;
	int rc;

	bio_wal_query(wal, &st);
	wt_rec_gen(&ts->ts_rec, sh, seed);
	rc = bio_wal_append(wal, &ts->ts_rec.wr_redo, lsn);
	if (rc == 0) {
		assert_true(*lsn < ts->ts_cap);
		ts->ts_seeds[*lsn] = seed;
		ts->ts_pos[*lsn] = st.ws_head_pos;
	}
	return rc;
}

/* Append the record of a fresh seed. */
static int
append_one(struct tstate *ts, struct bio_wal *wal, const struct wt_shape *sh, uint64_t *lsn)
{
	ts->ts_last_seed = d_test_rand(&ts->ts_rng);
	return append_seed(ts, wal, sh, ts->ts_last_seed, lsn);
}

/* Append @n records, flushing and waiting at random points; returns the last LSN. */
static uint64_t
append_many(struct tstate *ts, struct bio_wal *wal, const struct wt_shape *sh, int n)
{
	uint64_t lsn = 0;
	int i;

	for (i = 0; i < n; i++) {
		assert_int_equal(append_one(ts, wal, sh, &lsn), 0);
		switch (d_test_rand(&ts->ts_rng) % 16) {
		case 0:
			assert_int_equal(bio_wal_flush_wait(wal), 0);
			break;
		case 1:
		case 2:
			assert_int_equal(bio_wal_flush(wal), 0);
			/* fallthrough */
		default:
			bio_wal_poll(wal);
			break;
		}
	}
	return lsn;
}

/* A new WAL of @size bytes, opened and replayed (empty); @staging as in bio_wal_attr. */
static struct bio_wal *
wal_new(struct tstate *ts, uint64_t size, uint64_t staging)
{
	assert_int_equal(bio_wal_create(ts->ts_dir.wd_path, size), 0);
	return wal_open_replay(ts, 0, NULL, NULL, staging);
}

/*
 * Reopen and replay from @from, every record checked against its seed: none bad, the last
 * one @last. Returns the WAL, open; @wc and @info stay for the caller's own checks.
 */
static struct bio_wal *
replay_upto(struct tstate *ts, uint64_t from, uint64_t last, struct wt_check *wc,
	    struct bio_wal_replay_info *info)
{
	struct bio_wal *wal = wal_open_replay(ts, from, wc, info, 0);

	assert_int_equal(wc->wc_bad, 0);
	assert_int_equal(wc->wc_last, last);
	assert_int_equal(info->ri_last_lsn, last);
	return wal;
}

/* replay_upto, which must reach the end of the log (no damage met), then close. */
static void
replay_all(struct tstate *ts, uint64_t from, uint64_t last)
{
	struct bio_wal_replay_info info;
	struct wt_check wc;
	struct bio_wal *wal = replay_upto(ts, from, last, &wc, &info);

	assert_int_equal(info.ri_stop, BIO_WAL_STOP_END);
	assert_int_equal(bio_wal_close(wal), 0);
}

/* Append @n records, close, and replay them all from the start; returns the last LSN. */
static uint64_t
append_close_replay(struct tstate *ts, struct bio_wal *wal, int n)
{
	uint64_t last = append_many(ts, wal, &small_shape, n);

	assert_int_equal(bio_wal_close(wal), 0);
	replay_all(ts, 0, last);
	return last;
}

/*
 * Make room in a full log: flush, trim at a checkpoint up to @lag records (random) behind
 * the durable LSN, flush the header that says so. Returns the checkpoint.
 */
static uint64_t
trim_behind(struct tstate *ts, struct bio_wal *wal, uint64_t lag)
{
	uint64_t ckpt;

	assert_int_equal(bio_wal_flush_wait(wal), 0);
	ckpt = bio_wal_durable_lsn(wal) - (lag == 0 ? 0 : d_test_rand(&ts->ts_rng) % lag);
	assert_int_equal(bio_wal_trim(wal, ckpt), 0);
	assert_int_equal(bio_wal_flush_wait(wal), 0);
	return ckpt;
}

static void
t_roundtrip(void **state)
{
	struct tstate *ts = *state;
	struct bio_wal_replay_info info;
	struct wt_check wc;
	struct bio_wal *wal;
	uint64_t last;

	assert_int_equal(bio_wal_create(ts->ts_dir.wd_path, 24ULL << 20), 0);
	wal = wal_open_replay(ts, 0, NULL, &info, 0);
	assert_int_equal(info.ri_first_lsn, 1);
	assert_int_equal(info.ri_last_lsn, 0);
	assert_int_equal(info.ri_records, 0);
	last = append_many(ts, wal, &small_shape, 2000);
	assert_int_equal(last, 2000);
	assert_int_equal(bio_wal_wait(wal, last, bio_wal_wait_io, wal), 0);
	assert_int_equal(bio_wal_durable_lsn(wal), last);
	assert_int_equal(bio_wal_close(wal), 0);

	wal = replay_upto(ts, 0, 2000, &wc, &info);
	assert_int_equal(wc.wc_first, 1);
	assert_int_equal(info.ri_applied, 2000);
	assert_int_equal(info.ri_stop, BIO_WAL_STOP_END);
	assert_int_equal(bio_wal_durable_lsn(wal), 2000);

	/* appends continue after the replayed records */
	last = append_many(ts, wal, &small_shape, 500);
	assert_int_equal(last, 2500);
	assert_int_equal(bio_wal_close(wal), 0);

	/* a replay from a checkpoint applies only what follows it */
	wal = replay_upto(ts, 1000, 2500, &wc, &info);
	assert_int_equal(wc.wc_first, 1001);
	assert_int_equal(info.ri_applied, 1500);
	assert_int_equal(info.ri_records, 2500);
	assert_int_equal(bio_wal_close(wal), 0);
}

struct cb_count {
	uint64_t cc_calls;
	uint64_t cc_last;
	uint64_t cc_bad;
	int cc_rc;
};

static void
count_cb(void *arg, uint64_t lsn, int rc)
{
	struct cb_count *cc = arg;

	if (lsn < cc->cc_last)
		cc->cc_bad++;
	cc->cc_last = lsn;
	cc->cc_calls++;
	if (rc != 0)
		cc->cc_rc = rc;
}

static void
t_group_commit(void **state)
{
	struct tstate *ts = *state;
	struct bio_wal_stats st0;
	struct bio_wal_stats st;
	struct cb_count cc = {0};
	struct bio_wal *wal;
	uint64_t lsn = 0;
	int i;

	if (pipelined()) {
		/* one flush at a time, records back to back: not so when pipelined */
		skip();
		return;
	}

	wal = wal_new(ts, 8ULL << 20, 0);
	/* the new generation's header goes out with the first record */
	assert_int_equal(append_one(ts, wal, &small_shape, &lsn), 0);
	assert_int_equal(bio_wal_flush_wait(wal), 0);
	bio_wal_query(wal, &st0);
	assert_int_equal(st0.ws_hdr_writes, 1);
	assert_false(st0.ws_in_flight);

	for (i = 0; i < 100; i++) {
		assert_int_equal(append_one(ts, wal, &small_shape, &lsn), 0);
		assert_int_equal(bio_wal_on_durable(wal, lsn, count_cb, &cc), 0);
	}
	bio_wal_query(wal, &st);
	assert_int_equal(st.ws_flushes, st0.ws_flushes);
	assert_int_equal(st.ws_durable_lsn, 1);
	assert_true(st.ws_staged > 0);
	assert_int_equal(cc.cc_calls, 0);
	/* no flush in flight: the callbacks wait for nothing on its way yet */
	assert_int_equal(bio_wal_durable_waiters(wal, NULL), 0);

	assert_int_equal(bio_wal_flush(wal), 0);
	bio_wal_query(wal, &st);
	assert_true(st.ws_in_flight);
	assert_int_equal(st.ws_staged, 0);
	assert_int_equal(bio_wal_durable_waiters(wal, NULL), 100);

	/* appends while the flush is in flight go to the next flush */
	for (i = 0; i < 50; i++) {
		assert_int_equal(append_one(ts, wal, &small_shape, &lsn), 0);
		assert_int_equal(bio_wal_on_durable(wal, lsn, count_cb, &cc), 0);
	}
	assert_int_equal(bio_wal_flush(wal), 0);
	bio_wal_query(wal, &st);
	assert_int_equal(st.ws_flushes, st0.ws_flushes + 1);
	assert_int_equal(cc.cc_calls, 0);
	assert_int_equal(bio_wal_durable_waiters(wal, NULL), 150);

	assert_int_equal(bio_wal_wait(wal, 101, bio_wal_wait_io, wal), 0);
	assert_true(bio_wal_durable_lsn(wal) >= 101);
	assert_int_equal(bio_wal_wait(wal, 151, bio_wal_wait_io, wal), 0);
	bio_wal_poll(wal);
	bio_wal_query(wal, &st);
	/* 150 durable records, two flushes, one sync each */
	assert_int_equal(st.ws_durable_lsn, 151);
	assert_int_equal(st.ws_flushes - st0.ws_flushes, 2);
	assert_int_equal(st.ws_syncs - st0.ws_syncs, 2);
	assert_int_equal(st.ws_hdr_writes, 1);
	assert_int_equal(cc.cc_calls, 150);
	assert_int_equal(cc.cc_last, 151);
	assert_int_equal(cc.cc_bad, 0);
	assert_int_equal(cc.cc_rc, 0);
	assert_int_equal(bio_wal_durable_waiters(wal, NULL), 0);
	{
		uint64_t ns = 0;

		/* the flushes' latency: measured, and the same in the stats */
		assert_int_equal(bio_wal_durable_waiters(wal, &ns), 0);
		assert_true(ns > 0);
		assert_int_equal(ns, st.ws_flush_ns);
	}

	/* a callback for a durable LSN still comes from a later poll, never inline */
	assert_int_equal(bio_wal_on_durable(wal, 10, count_cb, &cc), 0);
	assert_int_equal(cc.cc_calls, 150);
	assert_true(bio_wal_poll(wal) >= 1);
	assert_int_equal(cc.cc_calls, 151);

	/* out-of-order registrations run in LSN order */
	memset(&cc, 0, sizeof(cc));
	for (i = 0; i < 3; i++)
		assert_int_equal(append_one(ts, wal, &small_shape, &lsn), 0);
	assert_int_equal(bio_wal_on_durable(wal, 154, count_cb, &cc), 0);
	assert_int_equal(bio_wal_on_durable(wal, 152, count_cb, &cc), 0);
	assert_int_equal(bio_wal_on_durable(wal, 153, count_cb, &cc), 0);
	assert_int_equal(bio_wal_flush_wait(wal), 0);
	assert_int_equal(cc.cc_calls, 3);
	assert_int_equal(cc.cc_bad, 0);

	/* bio_wal_poll submits what was staged on its own when nothing is in flight */
	bio_wal_query(wal, &st0);
	assert_int_equal(append_one(ts, wal, &small_shape, &lsn), 0);
	bio_wal_poll(wal);
	bio_wal_query(wal, &st);
	assert_int_equal(st.ws_flushes, st0.ws_flushes + 1);
	assert_int_equal(bio_wal_close(wal), 0);
}

/* The fd an xstream sleeps on signals completions; arm says when sleeping is unsafe. */
static void
t_poll_fd(void **state)
{
	struct tstate *ts = *state;
	struct bio_wal *wal;
	struct pollfd pfd;
	uint64_t lsn;
	int n = 0;

	wal = wal_new(ts, 1ULL << 20, 0);
	assert_int_equal(bio_wal_flush_wait(wal), 0);
	assert_int_equal(bio_wal_arm(wal), 0);

	assert_int_equal(append_one(ts, wal, &small_shape, &lsn), 0);
	assert_int_not_equal(bio_wal_arm(wal), 0); /* staged, not submitted */
	assert_int_equal(bio_wal_flush(wal), 0);
	while (bio_wal_durable_lsn(wal) < lsn) {
		if (bio_wal_arm(wal) == 0) {
			pfd.fd = bio_wal_fd(wal);
			pfd.events = POLLIN;
			assert_int_equal(poll(&pfd, 1, 5000), 1);
		}
		n += bio_wal_poll(wal);
	}
	assert_true(n >= 1);
	assert_int_equal(bio_wal_arm(wal), 0);
	assert_int_equal(bio_wal_close(wal), 0);
}

static void
t_wrap_trim(void **state)
{
	struct tstate *ts = *state;
	struct bio_wal_replay_info info;
	struct bio_wal_stats st;
	struct wt_check wc;
	struct bio_wal *wal;
	uint64_t ckpt = 0;
	uint64_t lsn = 0;
	uint64_t seed;
	int again = 0;
	int rc;

	/* the smallest WAL: 256 KiB of log, which the staging buffer covers entirely */
	wal = wal_new(ts, BIO_WAL_SIZE_MIN, 0);
	bio_wal_query(wal, &st);
	assert_int_equal(st.ws_area_size, 64 * 4096);

	/* fill it: -DER_AGAIN, and a trim frees nothing until its header is durable */
	for (;;) {
		rc = append_one(ts, wal, &small_shape, &lsn);
		if (rc == -DER_AGAIN)
			break;
		assert_int_equal(rc, 0);
		bio_wal_poll(wal);
	}
	assert_int_equal(bio_wal_flush_wait(wal), 0);
	bio_wal_query(wal, &st);
	/* the record that did not fit would have */
	assert_true(st.ws_used +
			bio_wal_rec_size(ts->ts_rec.wr_redo.ur_nr, ts->ts_rec.wr_redo.ur_bytes) >
		    st.ws_area_size - 2 * 4096);
	seed = ts->ts_last_seed;
	assert_int_equal(append_seed(ts, wal, &small_shape, seed, &lsn), -DER_AGAIN);
	assert_int_equal(bio_wal_trim(wal, st.ws_durable_lsn + 1), -DER_INVAL);
	/* a checkpoint at the first record in the second half: a boundary lies before it */
	for (ckpt = 1; ts->ts_pos[ckpt] < st.ws_area_size / 2; ckpt++)
		;
	assert_int_equal(bio_wal_trim(wal, ckpt), 0);
	assert_int_equal(append_seed(ts, wal, &small_shape, seed, &lsn), -DER_AGAIN);
	assert_int_equal(bio_wal_flush_wait(wal), 0);
	bio_wal_query(wal, &st);
	assert_true(st.ws_tail_lsn <= ckpt + 1);
	assert_true(st.ws_tail_lsn > 1);

	/* around the circle many times, trimming behind a lagging checkpoint */
	while (st.ws_head_pos < 12 * st.ws_area_size) {
		rc = append_one(ts, wal, &small_shape, &lsn);
		if (rc == -DER_AGAIN) {
			again++;
			ckpt = trim_behind(ts, wal, 8);
		} else {
			assert_int_equal(rc, 0);
			if (d_test_rand(&ts->ts_rng) % 4 == 0)
				bio_wal_poll(wal);
		}
		bio_wal_query(wal, &st);
	}
	assert_true(again > 5);
	assert_int_equal(bio_wal_close(wal), 0);

	/* the live records since the last checkpoint come back */
	wal = replay_upto(ts, ckpt, lsn, &wc, &info);
	assert_int_equal(wc.wc_first, ckpt + 1);
	assert_true(info.ri_first_lsn <= ckpt + 1);
	assert_int_equal(info.ri_stop, BIO_WAL_STOP_END);

	/* a replay from before the trimmed tail would lose records */
	assert_int_equal(bio_wal_close(wal), 0);
	{
		struct bio_wal *w2;

		assert_int_equal(bio_wal_open(ts->ts_dir.wd_path, NULL, &w2), 0);
		assert_int_equal(bio_wal_replay(w2, info.ri_first_lsn - 2, NULL, NULL, NULL),
				 -DER_DATA_LOSS);
		assert_int_equal(bio_wal_close(w2), 0);
	}
}

/* Records of megabytes, larger than a replay read, wrapping around the end of the log. */
static void
t_big_records(void **state)
{
	struct tstate *ts = *state;
	struct bio_wal_replay_info info;
	struct wt_check wc;
	struct bio_wal *wal;
	uint64_t ckpt = 0;
	uint64_t lsn = 0;
	int busy = 0;
	int i;
	int rc;

	ts->ts_shape = &big_shape;
	wal = wal_new(ts, 16ULL << 20, 4ULL << 20);
	for (i = 0; i < 60; i++) {
		rc = append_one(ts, wal, &big_shape, &lsn);
		while (rc == -DER_AGAIN || rc == -DER_BUSY) {
			if (rc == -DER_BUSY) {
				busy++;
				uint64_t need = bio_wal_rec_size(ts->ts_rec.wr_redo.ur_nr,
								 ts->ts_rec.wr_redo.ur_bytes);

				assert_int_equal(
				    bio_wal_space_wait(wal, need, bio_wal_wait_io, wal), 0);
			} else {
				ckpt = trim_behind(ts, wal, 3);
			}
			rc = append_seed(ts, wal, &big_shape, ts->ts_last_seed, &lsn);
		}
		assert_int_equal(rc, 0);
		assert_int_equal(bio_wal_flush(wal), 0);
		bio_wal_poll(wal);
	}
	assert_true(busy > 0);
	assert_int_equal(bio_wal_close(wal), 0);

	wal = replay_upto(ts, ckpt, lsn, &wc, &info);
	assert_int_equal(wc.wc_first, ckpt + 1);
	assert_int_equal(info.ri_stop, BIO_WAL_STOP_END);
	assert_int_equal(bio_wal_close(wal), 0);
}

/* Trimming everything: the old records are intact on disk but never replayed. */
static void
t_stale_pass(void **state)
{
	struct tstate *ts = *state;
	struct bio_wal_replay_info info;
	struct wt_check wc;
	struct bio_wal *wal;
	uint64_t ckpt = 0;
	uint64_t last;

	if (pipelined()) {
		/* 200 records fill more than this 1 MiB log when every flush is padded */
		skip();
		return;
	}
	wal = wal_new(ts, 1ULL << 20, 0);
	last = append_many(ts, wal, &small_shape, 200);
	assert_int_equal(bio_wal_flush_wait(wal), 0);
	assert_int_equal(bio_wal_trim(wal, last), 0);
	assert_int_equal(bio_wal_close(wal), 0);

	wal = wal_open_replay(ts, last, &wc, &info, 0);
	assert_int_equal(info.ri_records, 0);
	assert_int_equal(info.ri_first_lsn, last + 1);
	assert_int_equal(info.ri_last_lsn, last);
	assert_int_equal(wc.wc_first, 0);

	/* around the circle a few times */
	while (true) {
		struct bio_wal_stats st;
		uint64_t lsn;
		int rc;

		rc = append_one(ts, wal, &small_shape, &lsn);
		if (rc == -DER_AGAIN) {
			ckpt = trim_behind(ts, wal, 0);
			continue;
		}
		assert_int_equal(rc, 0);
		bio_wal_query(wal, &st);
		if (st.ws_head_pos > 3 * st.ws_area_size + st.ws_area_size / 2)
			break;
	}
	last = bio_wal_last_lsn(wal);
	assert_int_equal(bio_wal_close(wal), 0);

	/* the head sits in the middle of the previous pass: replay stops there */
	wal = replay_upto(ts, ckpt, last, &wc, &info);
	assert_int_equal(info.ri_stop, BIO_WAL_STOP_END);
	assert_int_equal(info.ri_lost, 0);
	assert_int_equal(bio_wal_close(wal), 0);
}

/* Damage the log from log position @from on (@len bytes): zeros or garbage. */
static void
damage(struct tstate *ts, uint64_t from, size_t len, bool zero)
{
	char *buf = malloc(len);
	size_t i;

	assert_non_null(buf);
	for (i = 0; i < len; i++)
		buf[i] = zero ? 0 : (char)d_test_rand(&ts->ts_rng);
	assert_int_equal(wt_log_io(ts->ts_dir.wd_path, true, from, buf, len), 0);
	free(buf);
}

static void
flip_bit(struct tstate *ts, uint64_t pos)
{
	unsigned char c;

	assert_int_equal(wt_log_io(ts->ts_dir.wd_path, false, pos, &c, 1), 0);
	c ^= (unsigned char)(1U << (d_test_rand(&ts->ts_rng) % 8));
	assert_int_equal(wt_log_io(ts->ts_dir.wd_path, true, pos, &c, 1), 0);
}

/* The last LSN whose record lies wholly before log position @d (records up to @last). */
static uint64_t
intact_before(struct tstate *ts, uint64_t last, uint64_t end, uint64_t d)
{
	uint64_t j;

	ts->ts_pos[last + 1] = end;
	for (j = last; j >= 1; j--)
		if (ts->ts_pos[j + 1] <= d)
			return j;
	return 0;
}

/* Torn tails: the last flush only partly reached the disk, in several ways. */
static void
t_torn_tail(void **state)
{
	struct tstate *ts = *state;
	struct bio_wal_replay_info info;
	struct bio_wal_stats st;
	struct wt_check wc;
	struct bio_wal *wal;
	uint64_t expect;
	uint64_t last = 0;
	uint64_t end;
	uint64_t d;
	uint64_t k;
	int variant;
	int i;

	if (pipelined()) {
		/* one flush at a time, records back to back: not so when pipelined */
		skip();
		return;
	}

	wal = wal_new(ts, 8ULL << 20, 0);
	for (variant = 0; variant < 8; variant++) {
		for (i = 0; i < 20; i++) {
			last = append_many(ts, wal, &small_shape, 10);
			assert_int_equal(bio_wal_flush_wait(wal), 0);
		}
		bio_wal_query(wal, &st);
		end = st.ws_head_pos;
		assert_int_equal(bio_wal_close(wal), 0);
		ts->ts_pos[last + 1] = end;

		/* the torn record: one of the last five */
		k = last - d_test_rand(&ts->ts_rng) % 5;
		switch (variant % 4) {
		case 0: /* the last sectors never written: zeros from k's first sector on */
			d = ts->ts_pos[k] & ~511ULL;
			damage(ts, d, end - d, true);
			break;
		case 1: /* garbage inside record k and maybe after it */
			d = (ts->ts_pos[k] + 48) & ~7ULL;
			if (d >= ts->ts_pos[k + 1])
				d = ts->ts_pos[k];
			damage(ts, d, 300, false);
			break;
		case 2: /* one lost sector inside a long record (its header survives) */
			while (k > 1 && ts->ts_pos[k + 1] - ts->ts_pos[k] < 600)
				k--;
			d = (ts->ts_pos[k] + 40 + 511) & ~511ULL;
			damage(ts, d, 512, true);
			break;
		default: /* record k's header is garbage */
			d = ts->ts_pos[k];
			damage(ts, d, 40, false);
			break;
		}
		expect = intact_before(ts, last, end, d);

		wal = replay_upto(ts, 0, expect, &wc, &info);
		assert_true(info.ri_lost <= last - expect);
		if (variant % 4 == 0)
			assert_int_equal(info.ri_lost, 0);
		else if (variant % 4 != 3 || k < last) /* a garbage last header is an end */
			assert_int_equal(info.ri_stop, BIO_WAL_STOP_CORRUPT);
		/* appends continue over the torn records */
	}
	append_close_replay(ts, wal, 30);
}

/* A flipped bit anywhere in a middle record: replay stops before it and says so. */
static void
t_bitflip(void **state)
{
	struct tstate *ts = *state;
	struct bio_wal_replay_info info;
	struct bio_wal_stats st;
	struct wt_check wc;
	struct bio_wal *wal;
	unsigned char *orig;
	uint64_t last;
	uint64_t len;
	uint64_t k;
	int round;

	if (pipelined()) {
		/* one flush at a time, records back to back: not so when pipelined */
		skip();
		return;
	}

	wal = wal_new(ts, 8ULL << 20, 0);
	last = append_many(ts, wal, &small_shape, 100);
	bio_wal_query(wal, &st);
	ts->ts_pos[last + 1] = st.ws_head_pos;
	assert_int_equal(bio_wal_close(wal), 0);

	for (round = 0; round < 30; round++) {
		uint64_t pos;

		k = 20 + d_test_rand(&ts->ts_rng) % 60;
		len = ts->ts_pos[k + 1] - ts->ts_pos[k];
		/* the header in some rounds, anywhere in the record in others */
		pos = ts->ts_pos[k] + d_test_rand(&ts->ts_rng) % (round % 3 == 0 ? 40 : len);
		orig = malloc(len);
		assert_int_equal(wt_log_io(ts->ts_dir.wd_path, false, ts->ts_pos[k], orig, len), 0);
		flip_bit(ts, pos);

		wal = replay_upto(ts, 0, k - 1, &wc, &info);
		assert_int_equal(info.ri_stop, BIO_WAL_STOP_CORRUPT);
		assert_int_equal(info.ri_lost, last - k);
		/* close without appending: the file is restored for the next round */
		assert_int_equal(bio_wal_close(wal), 0);
		assert_int_equal(wt_log_io(ts->ts_dir.wd_path, true, ts->ts_pos[k], orig, len), 0);
		free(orig);
	}

	/* once appends go over the damaged record, the records after it are history */
	k = 50;
	flip_bit(ts, ts->ts_pos[k] + 45);
	wal = wal_open_replay(ts, 0, NULL, &info, 0);
	assert_int_equal(info.ri_last_lsn, k - 1);
	assert_int_equal(append_close_replay(ts, wal, 3), k + 2);
}

/*
 * Stale records of a cut-off history: fixed-size records, so that after a replay stopped
 * at a damaged record and new records were appended, the old records after them sit
 * exactly where the next LSN is expected, with that very LSN and a valid CRC. Only the
 * generation tells them apart.
 */
static void
t_cutoff_history(void **state)
{
	struct tstate *ts = *state;
	struct bio_wal_replay_info info;
	struct bio_wal *wal;
	uint64_t lsn;
	int i;

	ts->ts_shape = &fixed_shape;
	wal = wal_new(ts, 1ULL << 20, 0);
	for (i = 0; i < 20; i++)
		assert_int_equal(append_one(ts, wal, &fixed_shape, &lsn), 0);
	assert_int_equal(bio_wal_close(wal), 0);
	assert_int_equal(ts->ts_pos[11] - ts->ts_pos[10], ts->ts_pos[12] - ts->ts_pos[11]);

	damage(ts, ts->ts_pos[10] + 8, 8, false);
	wal = wal_open_replay(ts, 0, NULL, &info, 0);
	assert_int_equal(info.ri_last_lsn, 9);
	assert_int_equal(info.ri_stop, BIO_WAL_STOP_CORRUPT);
	assert_int_equal(info.ri_lost, 10);
	assert_int_equal(append_one(ts, wal, &fixed_shape, &lsn), 0);
	assert_int_equal(lsn, 10);
	assert_int_equal(bio_wal_close(wal), 0);

	/* LSN 11 of the old history is intact, in place, with the expected LSN: not ours */
	for (i = 0; i < 3; i++) {
		wal = wal_open_replay(ts, 0, NULL, &info, 0);
		assert_int_equal(info.ri_last_lsn, 10);
		assert_int_equal(info.ri_stop, BIO_WAL_STOP_END);
		assert_int_equal(bio_wal_close(wal), 0);
	}

	/* and with every record in the same position as before */
	wal = wal_open_replay(ts, 0, NULL, &info, 0);
	for (i = 0; i < 5; i++)
		assert_int_equal(append_one(ts, wal, &fixed_shape, &lsn), 0);
	assert_int_equal(bio_wal_close(wal), 0);
	replay_all(ts, 0, 15);
}

static void
fault_arm(uint32_t id, uint64_t max)
{
	struct d_fault_attr fa = {.fa_id = id, .fa_max_faults = max};

	assert_int_equal(d_fault_attr_set(&fa), 0);
}

/* Read (@write false) or write the two header blocks of the WAL file at @path. */
static void
hdr_io(const char *path, bool write, char *buf)
{
	int fd = open(path, O_RDWR);
	ssize_t n;

	assert_true(fd >= 0);
	n = write ? pwrite(fd, buf, 2 * WAL_BLK_SIZE, 0) : pread(fd, buf, 2 * WAL_BLK_SIZE, 0);
	assert_int_equal(n, 2 * WAL_BLK_SIZE);
	assert_int_equal(fsync(fd), 0);
	close(fd);
}

/*
 * A generation whose header never reached the disk must not be reused. A writer killed in
 * the first flush of its generation leaves records of generation G+1 on disk behind a header
 * of G: the next open cuts them off (a newer generation). If that opener then writes only a
 * header (a trim, as a pool close does after its checkpoint) with generation G+1 again, the
 * old records become records of the current generation, at the position and with the LSNs
 * the next replay expects: operations found absent come back ("zombies", t_crash).
 */
static void
t_gen_reuse(void **state)
{
	struct tstate *ts = *state;
	struct bio_wal_replay_info info;
	struct bio_wal *wal;
	char hdr[2 * WAL_BLK_SIZE];
	char hdr2[2 * WAL_BLK_SIZE];
	uint64_t lsn;
	int i;

	ts->ts_shape = &fixed_shape;
	assert_int_equal(bio_wal_create(ts->ts_dir.wd_path, 1ULL << 20), 0);
	wal = wal_open_replay(ts, 0, NULL, NULL, 0);
	for (i = 0; i < 5; i++)
		assert_int_equal(append_one(ts, wal, &fixed_shape, &lsn), 0);
	assert_int_equal(bio_wal_close(wal), 0);

	/*
	 * The killed writer: it dies in its first flush, at the header write that names its
	 * generation; whatever it submitted before (its records 6..10, before the fix) lands.
	 */
	hdr_io(ts->ts_dir.wd_path, false, hdr);
	wal = wal_open_replay(ts, 0, NULL, &info, 0);
	assert_int_equal(info.ri_last_lsn, 5);
	for (i = 0; i < 5; i++)
		assert_int_equal(append_one(ts, wal, &fixed_shape, &lsn), 0);
	assert_int_equal(lsn, 10);
	fault_arm(BIO_FI_WAL_CUT, 1);
	assert_int_equal(bio_wal_flush_wait(wal), -DER_IO);
	assert_int_equal(bio_wal_close(wal), -DER_IO);
	hdr_io(ts->ts_dir.wd_path, false, hdr2);
	assert_memory_equal(hdr, hdr2, sizeof(hdr)); /* its header never reached the disk */

	/* the parent: 6..10 are cut off; it checkpoints, trims and closes */
	wal = wal_open_replay(ts, FROM_TAIL, NULL, &info, 0);
	assert_int_equal(info.ri_last_lsn, 5);
	assert_int_equal(bio_wal_trim(wal, 5), 0);
	assert_int_equal(bio_wal_close(wal), 0);

	/* every later open: still nothing after 5 */
	for (i = 0; i < 2; i++) {
		wal = wal_open_replay(ts, FROM_TAIL, NULL, &info, 0);
		assert_int_equal(info.ri_records, 0);
		assert_int_equal(info.ri_last_lsn, 5);
		assert_int_equal(bio_wal_close(wal), 0);
	}

	/* and a writer after it continues at 6 with its own records */
	wal = wal_open_replay(ts, FROM_TAIL, NULL, &info, 0);
	assert_int_equal(append_one(ts, wal, &fixed_shape, &lsn), 0);
	assert_int_equal(lsn, 6);
	assert_int_equal(bio_wal_close(wal), 0);
	wal = wal_open_replay(ts, FROM_TAIL, NULL, &info, 0);
	assert_int_equal(info.ri_last_lsn, 6);
	assert_int_equal(bio_wal_close(wal), 0);
}

/* An I/O error fails the flush and the WAL, until it is reopened and replayed. */
static void
t_io_error(void **state)
{
	static const uint32_t faults[] = {BIO_FI_WAL_WRITE, BIO_FI_WAL_SYNC, BIO_FI_WAL_HDR,
					  BIO_FI_WAL_SUBMIT};
	struct tstate *ts = *state;
	struct bio_wal_replay_info info;
	struct bio_wal_stats st;
	struct cb_count cc;
	struct bio_wal *wal;
	uint64_t durable;
	uint64_t lsn;
	size_t f;

	assert_int_equal(bio_wal_create(ts->ts_dir.wd_path, 4ULL << 20), 0);
	for (f = 0; f < D_ARRAY_SIZE(faults); f++) {
		wal = wal_open_replay(ts, FROM_TAIL, NULL, &info, 0);
		append_many(ts, wal, &small_shape, 20);
		assert_int_equal(bio_wal_flush_wait(wal), 0);
		durable = bio_wal_durable_lsn(wal);
		assert_int_equal(durable, bio_wal_last_lsn(wal));

		memset(&cc, 0, sizeof(cc));
		assert_int_equal(append_one(ts, wal, &small_shape, &lsn), 0);
		assert_int_equal(bio_wal_on_durable(wal, lsn, count_cb, &cc), 0);
		assert_int_equal(bio_wal_on_durable(wal, durable, count_cb, &cc), 0);
		if (faults[f] == BIO_FI_WAL_HDR)
			assert_int_equal(bio_wal_trim(wal, durable - 5), 0);
		fault_arm(faults[f], 1);
		assert_int_equal(bio_wal_wait(wal, lsn, bio_wal_wait_io, wal), -DER_IO);
		d_fault_attr_clear_all();
		bio_wal_poll(wal);
		/* the durable record's callback succeeds, the other one fails */
		assert_int_equal(cc.cc_calls, 2);
		assert_int_equal(cc.cc_rc, -DER_IO);
		assert_int_equal(bio_wal_durable_lsn(wal), durable);
		bio_wal_query(wal, &st);
		assert_int_equal(st.ws_error, -DER_IO);

		/* everything refuses now */
		assert_int_equal(append_one(ts, wal, &small_shape, &lsn), -DER_IO);
		assert_int_equal(bio_wal_flush(wal), -DER_IO);
		assert_int_equal(bio_wal_trim(wal, 1), -DER_IO);
		assert_int_equal(bio_wal_on_durable(wal, durable + 1, count_cb, &cc), -DER_IO);
		assert_int_equal(bio_wal_wait(wal, durable + 1, bio_wal_wait_io, wal), -DER_IO);
		assert_int_equal(bio_wal_wait(wal, durable, bio_wal_wait_io, wal), 0);
		assert_int_equal(bio_wal_flush_wait(wal), -DER_IO);
		assert_int_equal(bio_wal_close(wal), -DER_IO);

		/* reopened: what was durable is there; the rest may or may not be */
		wal = wal_open_replay(ts, FROM_TAIL, NULL, &info, 0);
		assert_true(info.ri_last_lsn >= durable);
		assert_int_equal(append_one(ts, wal, &small_shape, &lsn), 0);
		assert_int_equal(bio_wal_close(wal), 0);
	}

	/* a read error during open or replay */
	{
		struct bio_wal *w2;

		fault_arm(BIO_FI_WAL_READ, 1);
		assert_int_equal(bio_wal_open(ts->ts_dir.wd_path, NULL, &w2), -DER_IO);
		assert_int_equal(bio_wal_open(ts->ts_dir.wd_path, NULL, &w2), 0);
		bio_wal_query(w2, &st);
		fault_arm(BIO_FI_WAL_READ, 1);
		assert_int_equal(bio_wal_replay(w2, st.ws_tail_lsn - 1, NULL, NULL, NULL), -DER_IO);
		assert_int_equal(append_one(ts, w2, &small_shape, &lsn), -DER_UNINIT);
		assert_int_equal(bio_wal_close(w2), 0);
	}
}

static int
refuse_cb(void *arg, uint64_t lsn, const struct umem_redo *redo)
{
	(void)redo;
	return lsn == *(uint64_t *)arg ? -DER_INVAL : 0;
}

static void
t_bad_calls(void **state)
{
	struct tstate *ts = *state;
	struct bio_wal_attr attr = {0};
	struct bio_wal_replay_info info;
	struct bio_wal *wal;
	char other[160];
	uint64_t lsn;
	uint64_t when;
	char junk[8192];
	int fd;

	snprintf(other, sizeof(other), "%s/other", ts->ts_dir.wd_dir);
	assert_int_equal(bio_wal_open(ts->ts_dir.wd_path, NULL, &wal), -DER_NONEXIST);
	assert_int_equal(bio_wal_create(ts->ts_dir.wd_path, BIO_WAL_SIZE_MIN - 4096), -DER_INVAL);
	assert_int_equal(bio_wal_create(ts->ts_dir.wd_path, 2ULL << 20), 0);
	assert_int_equal(bio_wal_create(ts->ts_dir.wd_path, 2ULL << 20), -DER_EXIST);

	/* not a WAL */
	memset(junk, 'x', sizeof(junk));
	fd = open(other, O_CREAT | O_RDWR, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, junk, sizeof(junk)), sizeof(junk));
	close(fd);
	assert_int_equal(bio_wal_open(other, NULL, &wal), -DER_INVAL);
	unlink(other);

	attr.wa_sync_mode = 7;
	assert_int_equal(bio_wal_open(ts->ts_dir.wd_path, &attr, &wal), -DER_INVAL);

	assert_int_equal(bio_wal_open(ts->ts_dir.wd_path, NULL, &wal), 0);
	assert_int_equal(append_one(ts, wal, &small_shape, &lsn), -DER_UNINIT);
	assert_int_equal(bio_wal_flush(wal), -DER_UNINIT);
	assert_int_equal(bio_wal_trim(wal, 0), -DER_UNINIT);
	assert_int_equal(bio_wal_replay(wal, 0, NULL, NULL, NULL), 0);
	assert_int_equal(bio_wal_replay(wal, 0, NULL, NULL, NULL), -DER_ALREADY);
	assert_int_equal(bio_wal_wait(wal, 1, bio_wal_wait_io, wal), -DER_INVAL);
	assert_int_equal(bio_wal_on_durable(wal, 1, count_cb, NULL), -DER_INVAL);
	append_many(ts, wal, &small_shape, 20);
	assert_int_equal(bio_wal_trim(wal, bio_wal_last_lsn(wal) + 1), -DER_INVAL);
	assert_int_equal(bio_wal_close(wal), 0);

	/* a record larger than the staging buffer can never be appended */
	attr.wa_sync_mode = ts->ts_mode;
	attr.wa_staging_size = 64 * 1024;
	wal = wal_open_replay(ts, 0, NULL, NULL, 64 * 1024);
	{
		static const struct wt_shape big = {
		    .ws_max_ranges = 1, .ws_max_len = 0, .ws_big_len = 60000};
		struct wt_rec *wr = &ts->ts_rec;
		struct bio_wal_stats st;
		int i;

		wt_rec_gen(wr, &small_shape, 1);
		wr->wr_redo.ur_nr = 1;
		wr->wr_ranges[0].rr_len = 64 * 1024;
		/* no zeros: zero runs are logged without their bytes */
		wr->wr_ranges[0].rr_data = wr->wr_buf;
		memset(wr->wr_buf, 0x5a, 64 * 1024);
		assert_int_equal(bio_wal_append(wal, &wr->wr_redo, &lsn), -DER_REC2BIG);
		assert_int_equal(bio_wal_space_wait(wal, 64 * 1024, bio_wal_wait_io, wal),
				 -DER_REC2BIG);
		/* a staging buffer that is only busy: -DER_BUSY, and space_wait waits */
		for (i = 0; i < 64; i++) {
			uint64_t seed = d_test_rand(&ts->ts_rng);

			wt_rec_gen(wr, &big, seed);
			wr->wr_redo.ur_nr = 1;
			wr->wr_ranges[0].rr_len = 30000;
			wr->wr_ranges[0].rr_data = wr->wr_buf;
			memset(wr->wr_buf, 0x5a, 30000);
			if (bio_wal_append(wal, &wr->wr_redo, &lsn) == -DER_BUSY)
				break;
			assert_int_equal(bio_wal_flush(wal), 0);
		}
		assert_true(i < 64);
		assert_int_equal(bio_wal_space_wait(wal, 30100, bio_wal_wait_io, wal), 0);
		assert_int_equal(bio_wal_append(wal, &wr->wr_redo, &lsn), 0);
		bio_wal_query(wal, &st);
		assert_int_equal(st.ws_staging_size, 64 * 1024);
	}
	assert_int_equal(bio_wal_close(wal), 0);

	/* a replay callback's error stops the replay and leaves the WAL unusable */
	assert_int_equal(bio_wal_open(ts->ts_dir.wd_path, NULL, &wal), 0);
	when = 5;
	assert_int_equal(bio_wal_replay(wal, 0, refuse_cb, &when, &info), -DER_INVAL);
	assert_int_equal(info.ri_applied, 4);
	assert_int_equal(append_one(ts, wal, &small_shape, &lsn), -DER_UNINIT);
	assert_int_equal(bio_wal_close(wal), 0);
}

/* A checkpoint newer than the whole log: the log restarts after it. */
static void
t_ckpt_ahead(void **state)
{
	struct tstate *ts = *state;
	struct bio_wal_replay_info info;
	struct wt_check wc;
	struct bio_wal *wal;
	uint64_t lsn;

	wal = wal_new(ts, 1ULL << 20, 0);
	append_many(ts, wal, &small_shape, 10);
	assert_int_equal(bio_wal_close(wal), 0);

	wal = wal_open_replay(ts, 1000, NULL, &info, 0);
	assert_int_equal(info.ri_last_lsn, 10);
	assert_int_equal(info.ri_applied, 0);
	assert_int_equal(bio_wal_durable_lsn(wal), 1000);
	assert_int_equal(append_one(ts, wal, &small_shape, &lsn), 0);
	assert_int_equal(lsn, 1001);
	assert_int_equal(bio_wal_close(wal), 0);

	wal = replay_upto(ts, 1000, 1001, &wc, &info);
	assert_int_equal(info.ri_first_lsn, 1001);
	assert_int_equal(wc.wc_first, 1001);
	assert_int_equal(bio_wal_close(wal), 0);
}

/* Header blocks: a damaged newest one leaves the older one in force; both: -DER_CSUM. */
static void
t_header_damage(void **state)
{
	struct tstate *ts = *state;
	struct bio_wal_replay_info info;
	struct wal_hdr_df hd[2];
	struct wt_check wc;
	struct bio_wal *wal;
	uint64_t last;
	int newest;
	int fd;

	wal = wal_new(ts, 1ULL << 20, 0);
	last = append_many(ts, wal, &small_shape, 25);
	assert_int_equal(trim_behind(ts, wal, 0), last);
	last = append_many(ts, wal, &small_shape, 25);
	assert_int_equal(bio_wal_flush_wait(wal), 0);
	assert_int_equal(bio_wal_trim(wal, last), 0);
	assert_int_equal(bio_wal_close(wal), 0);

	fd = open(ts->ts_dir.wd_path, O_RDWR);
	assert_true(fd >= 0);
	assert_int_equal(pread(fd, &hd[0], sizeof(hd[0]), 0), sizeof(hd[0]));
	assert_int_equal(pread(fd, &hd[1], sizeof(hd[1]), 4096), sizeof(hd[1]));
	newest = hd[0].hd_seq > hd[1].hd_seq ? 0 : 1;
	assert_int_equal(hd[newest].hd_tail_lsn, 51);
	assert_int_equal(hd[1 - newest].hd_tail_lsn, 26);
	hd[newest].hd_tail_lsn ^= 1;
	assert_int_equal(pwrite(fd, &hd[newest], sizeof(hd[0]), newest * 4096), sizeof(hd[0]));
	close(fd);

	/* the older header: an older tail, every record since still readable */
	wal = replay_upto(ts, 25, last, &wc, &info);
	assert_int_equal(info.ri_first_lsn, 26);
	assert_int_equal(wc.wc_first, 26);
	assert_int_equal(bio_wal_close(wal), 0);

	/* both broken */
	fd = open(ts->ts_dir.wd_path, O_RDWR);
	assert_true(fd >= 0);
	hd[1 - newest].hd_gen ^= 4;
	assert_int_equal(pwrite(fd, &hd[1 - newest], sizeof(hd[0]), (1 - newest) * 4096),
			 sizeof(hd[0]));
	close(fd);
	assert_int_equal(bio_wal_open(ts->ts_dir.wd_path, NULL, &wal), -DER_CSUM);
}

/* A file shorter than its header says is refused. */
static void
t_truncated(void **state)
{
	struct tstate *ts = *state;
	struct bio_wal *wal;

	wal = wal_new(ts, 1ULL << 20, 0);
	append_many(ts, wal, &small_shape, 25);
	assert_int_equal(bio_wal_close(wal), 0);
	assert_int_equal(truncate(ts->ts_dir.wd_path, 512 * 1024), 0);
	assert_int_equal(bio_wal_open(ts->ts_dir.wd_path, NULL, &wal), -DER_INVAL);
}

static void
nop_cb(void *arg, uint64_t lsn, int rc)
{
	(void)arg;
	(void)lsn;
	(void)rc;
}

/* One workload; returns 0 or the first error. */
static int
alloc_workload(struct tstate *ts)
{
	struct bio_wal *wal;
	uint64_t lsn;
	int rc;
	int i;

	rc = bio_wal_open(ts->ts_dir.wd_path, NULL, &wal);
	if (rc != 0)
		return rc;
	rc = bio_wal_replay(wal, 0, NULL, NULL, NULL);
	for (i = 0; rc == 0 && i < 200; i++) {
		rc = append_one(ts, wal, &small_shape, &lsn);
		if (rc == 0)
			rc = bio_wal_on_durable(wal, lsn, nop_cb, NULL);
	}
	if (rc == 0)
		rc = bio_wal_flush_wait(wal);
	if (rc == 0)
		rc = bio_wal_trim(wal, bio_wal_durable_lsn(wal));
	bio_wal_close(wal);
	return rc;
}

/* Every allocation failed in turn: a clean -DER_NOMEM each time, no leak (ASan). */
static void
t_alloc_fail(void **state)
{
	struct tstate *ts = *state;
	struct d_fault_attr fa;
	uint64_t nth;
	int rc;

	assert_int_equal(bio_wal_create(ts->ts_dir.wd_path, 2ULL << 20), 0);
	for (nth = 1; nth < 1000; nth++) {
		memset(&fa, 0, sizeof(fa));
		fa.fa_id = D_FI_ALLOC;
		fa.fa_interval = (uint32_t)nth;
		fa.fa_max_faults = 1;
		assert_int_equal(d_fault_attr_set(&fa), 0);
		rc = alloc_workload(ts);
		assert_int_equal(d_fault_attr_get(D_FI_ALLOC, &fa), 0);
		d_fault_attr_clear(D_FI_ALLOC);
		if (fa.fa_num_faults == 0) {
			assert_int_equal(rc, 0);
			break;
		}
		assert_true(rc == 0 || rc == -DER_NOMEM);
	}
	assert_true(nth > 3);
	assert_true(nth < 1000);
}

/*
 * Pipelined group commit (DAOS_BIO_DSYNC): the tests below open their WALs with up to
 * eight flushes in flight. Tests of the layout of one flush at a time skip when the whole
 * suite runs pipelined (the padding moves records).
 */
static const char *env_dsync; /* DAOS_BIO_DSYNC as the suite started */

static bool
pipelined(void)
{
	return bio_env_dsync() > 1;
}

static int
setup_pipe(void **state)
{
	setenv("DAOS_BIO_DSYNC", "8", 1);
	return setup_mode(state, BIO_WAL_SYNC_DSYNC);
}

static int
teardown_pipe(void **state)
{
	if (env_dsync != NULL)
		setenv("DAOS_BIO_DSYNC", env_dsync, 1);
	else
		unsetenv("DAOS_BIO_DSYNC");
	return teardown(state);
}

/* Submit what is staged as a flush of its own; returns how many flushes are in flight. */
static uint32_t
pipe_flush(struct bio_wal *wal)
{
	assert_int_equal(bio_wal_flush(wal), 0);
	assert_int_equal(wal->w_head_pos, wal->w_sub_pos);
	/* it ends at a block boundary: the next one shares no block with it */
	assert_int_equal(wal->w_sub_pos % WAL_BLK_SIZE, 0);
	return wal->w_fl_nr;
}

/* Reap completions until @pred holds, blocking on the ring between polls. */
#define PIPE_WAIT(wal, pred)                                                                       \
	do {                                                                                       \
		int n_ = 0;                                                                        \
		while (!(pred)) {                                                                  \
			assert_true(++n_ < 100000);                                                \
			assert_int_equal(bio_wal_wait_io(wal), 0);                                 \
			bio_wal_poll(wal);                                                         \
		}                                                                                  \
	} while (0)

/* Many flushes in flight, padded to blocks: replay reads every record, pipelined or not. */
static void
t_pipe_roundtrip(void **state)
{
	struct tstate *ts = *state;
	struct bio_wal_replay_info info;
	struct bio_wal_stats st;
	struct wt_check wc;
	struct bio_wal *wal;
	uint64_t lsn = 0;
	int i;

	wal = wal_new(ts, 16ULL << 20, 0);
	assert_int_equal(wal->w_pipe, 8);
	assert_int_equal(wal->w_sync, BIO_WAL_SYNC_DSYNC);
	/*
	 * For the first 100 the oldest flush's completions are held (test hook), so that the
	 * later ones pile up in flight whatever the disk's speed: a fast disk completed each
	 * before the next, and ws_flights_max stayed 1 (seen under make test). The new
	 * generation's header, which goes out alone with nothing behind it until it is
	 * durable, is written first: held, it kept every later flush back, and the count
	 * depended on the disk again (1 under make asan).
	 */
	assert_int_equal(append_one(ts, wal, &small_shape, &lsn), 0);
	assert_int_equal(bio_wal_flush_wait(wal), 0);
	wal->w_hold = true;
	for (i = 0; i < 3000; i++) {
		if (i == 100) {
			bio_wal_query(wal, &st);
			assert_true(st.ws_flights_max > 1);
			wal->w_hold = false;
		}
		assert_int_equal(append_one(ts, wal, &small_shape, &lsn), 0);
		if (d_test_rand(&ts->ts_rng) % 4 == 0)
			assert_int_equal(bio_wal_flush(wal), 0);
		bio_wal_poll(wal);
	}
	assert_int_equal(bio_wal_wait(wal, lsn, bio_wal_wait_io, wal), 0);
	bio_wal_query(wal, &st);
	assert_true(st.ws_pad_bytes > 0);
	assert_true(st.ws_flights_max > 1);
	assert_true(st.ws_flights_max <= 8);
	print_message("pipelined: %" PRIu64 " flushes, %u in flight at most, %" PRIu64
		      " bytes of padding\n",
		      st.ws_flushes, st.ws_flights_max, st.ws_pad_bytes);
	assert_int_equal(bio_wal_close(wal), 0);

	wal = replay_upto(ts, 0, lsn, &wc, &info);
	assert_int_equal(info.ri_stop, BIO_WAL_STOP_END);
	assert_int_equal(info.ri_applied, lsn);
	lsn = append_many(ts, wal, &small_shape, 300);
	assert_int_equal(bio_wal_close(wal), 0);

	/* a WAL that does not pipeline replays the padded log too, and appends after it */
	unsetenv("DAOS_BIO_DSYNC");
	wal = replay_upto(ts, 0, lsn, &wc, &info);
	assert_int_equal(info.ri_stop, BIO_WAL_STOP_END);
	assert_int_equal(wal->w_pipe, 1);
	assert_int_equal(append_close_replay(ts, wal, 100), lsn + 100);
}

/* A later flush that completes first: the durable LSN waits for the earlier one. */
static void
t_pipe_order(void **state)
{
	struct tstate *ts = *state;
	struct cb_count cc = {0};
	struct bio_wal *wal;
	uint64_t a_last;
	uint64_t b_last;
	uint64_t lsn;
	uint32_t b;
	int i;

	wal = wal_new(ts, 8ULL << 20, 0);
	assert_int_equal(append_one(ts, wal, &small_shape, &lsn), 0);
	assert_int_equal(bio_wal_flush_wait(wal), 0);
	assert_int_equal(bio_wal_durable_lsn(wal), 1);

	wal->w_hold = true;
	for (i = 0; i < 5; i++)
		assert_int_equal(append_one(ts, wal, &small_shape, &lsn), 0);
	a_last = lsn;
	assert_int_equal(bio_wal_on_durable(wal, a_last, count_cb, &cc), 0);
	assert_int_equal(pipe_flush(wal), 1);
	for (i = 0; i < 7; i++)
		assert_int_equal(append_one(ts, wal, &small_shape, &lsn), 0);
	b_last = lsn;
	assert_int_equal(bio_wal_on_durable(wal, b_last, count_cb, &cc), 0);
	assert_int_equal(pipe_flush(wal), 2);
	b = (wal->w_fl_head + 1) % wal->w_pipe;
	assert_int_equal(wal->w_fls[b].wf_last_lsn, b_last);

	/*
	 * The later flush completes, the earlier one's completions are held back: all of them,
	 * or one still on its way would be in the ring, and bio_wal_arm rightly says there is
	 * work (1 != 0 under make asan on the loaded machine).
	 */
	PIPE_WAIT(wal, wal->w_fls[b].wf_pending == 0 &&
			   wal->w_held_nr == wal->w_fls[wal->w_fl_head].wf_pending);
	bio_wal_poll(wal);
	assert_int_equal(wal->w_fl_nr, 2);
	assert_int_equal(bio_wal_durable_lsn(wal), 1);
	assert_int_equal(cc.cc_calls, 0);
	assert_int_equal(bio_wal_arm(wal), 0);

	/* let go: both retire, in order, and the callbacks run in LSN order */
	wal->w_hold = false;
	PIPE_WAIT(wal, wal->w_fl_nr == 0);
	assert_int_equal(bio_wal_durable_lsn(wal), b_last);
	assert_int_equal(cc.cc_calls, 2);
	assert_int_equal(cc.cc_last, b_last);
	assert_int_equal(cc.cc_bad, 0);
	assert_int_equal(cc.cc_rc, 0);
	assert_int_equal(append_close_replay(ts, wal, 50), b_last + 50);
}

/*
 * A torn pipeline, crafted: a later flush reached the disk, an earlier one did not (its
 * blocks still zeros, or only its first block there). Replay stops at the hole and ignores
 * the later flush's records.
 */
static void
t_pipe_torn(void **state)
{
	struct tstate *ts = *state;
	struct bio_wal_replay_info info;
	struct wt_check wc;
	struct bio_wal *wal;
	uint64_t a_first;
	uint64_t b_first;
	uint64_t last;
	uint64_t end;
	uint64_t lsn;
	uint64_t expect;
	int variant;
	int i;

	assert_int_equal(bio_wal_create(ts->ts_dir.wd_path, 8ULL << 20), 0);
	for (variant = 0; variant < 2; variant++) {
		wal = wal_open_replay(ts, FROM_TAIL, NULL, &info, 0);
		append_many(ts, wal, &small_shape, 30);
		assert_int_equal(bio_wal_flush_wait(wal), 0);

		/*
		 * flush A: two records or more, spanning at least two blocks (so that B's first
		 * record is not the one expected right after the hole); flush B after it
		 */
		a_first = bio_wal_last_lsn(wal) + 1;
		do {
			assert_int_equal(append_one(ts, wal, &small_shape, &lsn), 0);
		} while (wal->w_head_pos - ts->ts_pos[a_first] < 2 * WAL_BLK_SIZE ||
			 lsn < a_first + 1);
		pipe_flush(wal);
		b_first = lsn + 1;
		for (i = 0; i < 10; i++)
			assert_int_equal(append_one(ts, wal, &small_shape, &lsn), 0);
		pipe_flush(wal);
		last = lsn;
		assert_int_equal(bio_wal_flush_wait(wal), 0);
		end = wal->w_head_pos;
		assert_int_equal(bio_wal_close(wal), 0);
		assert_int_equal(ts->ts_pos[a_first] % WAL_BLK_SIZE, 0);
		assert_int_equal(ts->ts_pos[b_first] % WAL_BLK_SIZE, 0);

		if (variant == 0) {
			/* A never reached the disk: none of its blocks */
			damage(ts, ts->ts_pos[a_first], ts->ts_pos[b_first] - ts->ts_pos[a_first],
			       true);
			expect = a_first - 1;
		} else {
			/* A's first block only */
			uint64_t d = ts->ts_pos[a_first] + WAL_BLK_SIZE;

			damage(ts, d, ts->ts_pos[b_first] - d, true);
			expect = intact_before(ts, last, end, d);
			assert_true(expect >= a_first - 1 && expect < b_first - 1);
		}
		/* B's records are on disk, intact */
		{
			struct wal_rec_df rec;

			assert_int_equal(wt_log_io(ts->ts_dir.wd_path, false, ts->ts_pos[b_first],
						   &rec, sizeof(rec)),
					 0);
			assert_int_equal(rec.rd_magic, WAL_REC_MAGIC);
			assert_int_equal(rec.rd_lsn, b_first);
		}
		/*
		 * Replay ends at the hole and ignores them. Not acknowledged (the durable LSN
		 * never passed A), they are not counted as lost: a clean end, or a torn record
		 * where A's first block ends.
		 */
		wal = replay_upto(ts, 0, expect, &wc, &info);
		assert_int_equal(info.ri_lost, 0);
		if (variant == 0)
			assert_int_equal(info.ri_stop, BIO_WAL_STOP_END);
		/* appends go on over the hole; B's records are history now */
		assert_int_equal(append_one(ts, wal, &small_shape, &lsn), 0);
		assert_int_equal(lsn, expect + 1);
		assert_int_equal(bio_wal_close(wal), 0);
		wal = replay_upto(ts, 0, expect + 1, &wc, &info);
		assert_int_equal(info.ri_stop, BIO_WAL_STOP_END);
		assert_int_equal(bio_wal_close(wal), 0);
	}
}

/* Clear WAL_HDF_PIPE in both header blocks of the WAL at @path (as a one-flush writer's). */
static void
hdr_pipe_clear(const char *path)
{
	struct wal_hdr_df hd;
	int fd;
	int i;

	fd = open(path, O_RDWR);
	assert_true(fd >= 0);
	for (i = 0; i < 2; i++) {
		assert_int_equal(pread(fd, &hd, sizeof(hd), i * WAL_BLK_SIZE), sizeof(hd));
		if (hd.hd_magic != WAL_HDR_MAGIC)
			continue;
		hd.hd_flags &= ~WAL_HDF_PIPE;
		wal_hdr_csum_set(&hd);
		assert_int_equal(pwrite(fd, &hd, sizeof(hd), i * WAL_BLK_SIZE), sizeof(hd));
	}
	close(fd);
}

/*
 * The crash test's case (vos_test_vos_crash with DAOS_BIO_DSYNC=1): flush A holds ONE
 * record, so the first record of flush B, which reached the disk while A did not (a
 * kill -9 cancels A's writes still linked behind its data-file sync; B had none), is the
 * LSN replay expects right after the hole. Neither was acknowledged: replay ends at the
 * hole and counts nothing as lost, whether none of A landed (variant 0) or only its first
 * block (variant 1: A's record spans two blocks or more, torn).
 */
static void
t_pipe_hole_one(void **state)
{
	struct tstate *ts = *state;
	struct bio_wal_replay_info info;
	struct wt_check wc;
	struct bio_wal *wal;
	uint64_t a;
	uint64_t lsn;
	uint64_t last;
	int variant;
	int i;

	assert_int_equal(bio_wal_create(ts->ts_dir.wd_path, 8ULL << 20), 0);
	/*
	 * variant 2: as 0, but the header says its writer did not pipeline: then a hole before
	 * a block-aligned intact record is damage (records lost), as in a one-flush log.
	 */
	for (variant = 0; variant < 3; variant++) {
		wal = wal_open_replay(ts, FROM_TAIL, NULL, &info, 0);
		append_many(ts, wal, &small_shape, 10);
		assert_int_equal(bio_wal_flush_wait(wal), 0);
		/* A: one record; for variant 1 one that spans two blocks at least */
		for (i = 0;; i++) {
			assert_true(i < 2000);
			assert_int_equal(append_one(ts, wal, &small_shape, &a), 0);
			if (variant == 0 || wal->w_head_pos - ts->ts_pos[a] > WAL_BLK_SIZE)
				break;
			assert_int_equal(bio_wal_flush_wait(wal), 0);
		}
		pipe_flush(wal);
		for (i = 0; i < 5; i++)
			assert_int_equal(append_one(ts, wal, &small_shape, &lsn), 0);
		pipe_flush(wal);
		last = lsn;
		assert_int_equal(bio_wal_flush_wait(wal), 0);
		assert_int_equal(bio_wal_close(wal), 0);
		assert_int_equal(ts->ts_pos[a] % WAL_BLK_SIZE, 0);
		assert_int_equal(ts->ts_pos[a + 1] % WAL_BLK_SIZE, 0);
		assert_true(last > a + 1);

		if (variant != 1)
			damage(ts, ts->ts_pos[a], ts->ts_pos[a + 1] - ts->ts_pos[a], true);
		else
			damage(ts, ts->ts_pos[a] + WAL_BLK_SIZE,
			       ts->ts_pos[a + 1] - ts->ts_pos[a] - WAL_BLK_SIZE, true);
		if (variant == 2) {
			hdr_pipe_clear(ts->ts_dir.wd_path);
			wal = wal_open_replay(ts, FROM_TAIL, &wc, &info, 0);
			assert_int_equal(wc.wc_last, a - 1);
			assert_true(info.ri_lost > 0);
			assert_int_equal(bio_wal_close(wal), 0);
			break;
		}
		wal = replay_upto(ts, 0, a - 1, &wc, &info);
		assert_int_equal(info.ri_lost, 0);
		/* a torn A is a clean end too when the flush before it ended in padding */
		if (variant == 0)
			assert_int_equal(info.ri_stop, BIO_WAL_STOP_END);
		/* appends go on over the hole; B's records are history now */
		assert_int_equal(append_one(ts, wal, &small_shape, &lsn), 0);
		assert_int_equal(lsn, a);
		assert_int_equal(bio_wal_close(wal), 0);
		wal = replay_upto(ts, 0, a, &wc, &info);
		assert_int_equal(info.ri_stop, BIO_WAL_STOP_END);
		assert_int_equal(info.ri_lost, 0);
		assert_int_equal(bio_wal_close(wal), 0);
	}
}

/*
 * A failed flush while others are in flight: it fails the WAL, and neither an earlier
 * flush still in flight nor a later one that completed makes anything durable after it.
 */
static void
t_pipe_fail(void **state)
{
	struct tstate *ts = *state;
	struct bio_wal_replay_info info;
	struct cb_count cc = {0};
	struct bio_wal *wal;
	uint64_t durable;
	uint64_t lsn;
	uint32_t b;
	int f;
	int i;

	assert_int_equal(bio_wal_create(ts->ts_dir.wd_path, 8ULL << 20), 0);
	for (f = 0; f < 2; f++) {
		memset(&cc, 0, sizeof(cc));
		wal = wal_open_replay(ts, FROM_TAIL, NULL, &info, 0);
		append_many(ts, wal, &small_shape, 10);
		assert_int_equal(bio_wal_flush_wait(wal), 0);
		durable = bio_wal_durable_lsn(wal);

		/* A held back; B fails (a log write, or its data sync); C completes */
		wal->w_hold = true;
		for (i = 0; i < 3; i++) {
			assert_int_equal(append_one(ts, wal, &small_shape, &lsn), 0);
			assert_int_equal(bio_wal_on_durable(wal, lsn, count_cb, &cc), 0);
			if (i == 1 && f == 1) {
				/* B carries a data sync, injected to fail (EBADF), linked ahead */
				bio_wal_dep_sync(wal, wal->w_fd);
				fault_arm(BIO_FI_DATA_SYNC, 1);
			}
			pipe_flush(wal);
			if (i == 1 && f == 0)
				b = (wal->w_fl_head + 1) % wal->w_pipe;
		}
		assert_int_equal(wal->w_fl_nr, 3);
		if (f == 0)
			fault_arm(BIO_FI_WAL_WRITE, 1);
		PIPE_WAIT(wal, wal->w_err != 0 &&
				   wal->w_fls[(wal->w_fl_head + 2) % wal->w_pipe].wf_pending == 0);
		(void)b;
		d_fault_attr_clear_all();
		assert_int_equal(bio_wal_durable_lsn(wal), durable);
		/* every callback beyond the durable LSN failed, in LSN order */
		assert_int_equal(cc.cc_calls, 3);
		assert_int_equal(cc.cc_rc, -DER_IO);
		assert_int_equal(cc.cc_bad, 0);
		wal->w_hold = false;
		PIPE_WAIT(wal, wal->w_fl_nr == 0);
		/* A completed fine, but after the failure: not reported durable */
		assert_int_equal(bio_wal_durable_lsn(wal), durable);
		assert_int_equal(append_one(ts, wal, &small_shape, &lsn), -DER_IO);
		assert_int_equal(bio_wal_flush_wait(wal), -DER_IO);
		assert_int_equal(bio_wal_close(wal), -DER_IO);

		/* reopened: what was durable is there; appends go on */
		wal = wal_open_replay(ts, FROM_TAIL, NULL, &info, 0);
		assert_true(info.ri_last_lsn >= durable);
		if (f == 1)
			/* B's records never reached the log (the failed sync cancelled them) */
			assert_true(info.ri_last_lsn <= durable + 1);
		assert_int_equal(append_one(ts, wal, &small_shape, &lsn), 0);
		assert_int_equal(bio_wal_close(wal), 0);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(t_roundtrip, setup_dsync, teardown),
	    cmocka_unit_test_setup_teardown(t_roundtrip, setup_fdatasync, teardown),
	    cmocka_unit_test_setup_teardown(t_group_commit, setup_dsync, teardown),
	    cmocka_unit_test_setup_teardown(t_group_commit, setup_fdatasync, teardown),
	    cmocka_unit_test_setup_teardown(t_poll_fd, setup_fdatasync, teardown),
	    cmocka_unit_test_setup_teardown(t_wrap_trim, setup_dsync, teardown),
	    cmocka_unit_test_setup_teardown(t_wrap_trim, setup_fdatasync, teardown),
	    cmocka_unit_test_setup_teardown(t_big_records, setup_dsync, teardown),
	    cmocka_unit_test_setup_teardown(t_big_records, setup_fdatasync, teardown),
	    cmocka_unit_test_setup_teardown(t_stale_pass, setup_fdatasync, teardown),
	    cmocka_unit_test_setup_teardown(t_torn_tail, setup_fdatasync, teardown),
	    cmocka_unit_test_setup_teardown(t_bitflip, setup_fdatasync, teardown),
	    cmocka_unit_test_setup_teardown(t_cutoff_history, setup_fdatasync, teardown),
	    cmocka_unit_test_setup_teardown(t_gen_reuse, setup_fdatasync, teardown),
	    cmocka_unit_test_setup_teardown(t_gen_reuse, setup_dsync, teardown),
	    cmocka_unit_test_setup_teardown(t_io_error, setup_dsync, teardown),
	    cmocka_unit_test_setup_teardown(t_io_error, setup_fdatasync, teardown),
	    cmocka_unit_test_setup_teardown(t_bad_calls, setup_fdatasync, teardown),
	    cmocka_unit_test_setup_teardown(t_ckpt_ahead, setup_fdatasync, teardown),
	    cmocka_unit_test_setup_teardown(t_header_damage, setup_fdatasync, teardown),
	    cmocka_unit_test_setup_teardown(t_truncated, setup_fdatasync, teardown),
	    cmocka_unit_test_setup_teardown(t_alloc_fail, setup_fdatasync, teardown),
	    cmocka_unit_test_setup_teardown(t_pipe_roundtrip, setup_pipe, teardown_pipe),
	    cmocka_unit_test_setup_teardown(t_pipe_order, setup_pipe, teardown_pipe),
	    cmocka_unit_test_setup_teardown(t_pipe_torn, setup_pipe, teardown_pipe),
	    cmocka_unit_test_setup_teardown(t_pipe_hole_one, setup_pipe, teardown_pipe),
	    cmocka_unit_test_setup_teardown(t_pipe_fail, setup_pipe, teardown_pipe),
	};

	env_dsync = getenv("DAOS_BIO_DSYNC");
	return cmocka_run_group_tests_name("bio_wal", tests, NULL, NULL);
}
