/*
 * test_wal_sched.c: the WAL inside a real engine xstream (daos_srv/sched.h), as the engine
 * will run it: the WAL's poller (bio_wal_poller, bio_wal_arm, bio_wal_fd) on the xstream,
 * many ULTs appending and waiting through a hook that yields, others acknowledged by
 * durability callbacks, others sleeping on an eventual that a callback sets. Nothing may
 * block the xstream's thread; concurrent updates must share flushes; with only sleeping
 * ULTs the xstream must sleep in epoll and the WAL's eventfd must wake it; every record
 * must come back from a replay.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <gurt/common.h>
#include <daos_srv/bio.h>
#include <daos_srv/sched.h>
#include <d_test.h>

#include "wal_test.h"

#define NR_ULTS 48
#define PER_ULT 200

static const struct wt_shape sched_shape = {.ws_max_ranges = 3, .ws_max_len = 200};

/* cmocka must not longjmp from a ULT stack: ULTs count failures, the test checks them. */
static int t_failures;

#define T_CHECK(cond)                                                                              \
	do {                                                                                       \
		if (!(cond) && __atomic_fetch_add(&t_failures, 1, __ATOMIC_RELAXED) < 10)          \
			fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);   \
	} while (0)

struct shared {
	struct bio_wal *sh_wal;
	uint64_t *sh_seeds; /* seed of LSN i */
	uint64_t sh_cap;
	uint64_t sh_acked;   /* records acknowledged, by wait or callback */
	uint64_t sh_pending; /* callbacks not yet run */
};

enum ult_mode {
	UM_WAIT,     /* bio_wal_wait with a hook that yields */
	UM_CALLBACK, /* bio_wal_on_durable, acknowledged from the poller */
	UM_EVENTUAL, /* bio_wal_on_durable setting an eventual the ULT sleeps on */
};

struct ult_arg {
	struct shared *ua_sh;
	uint64_t ua_rng;
	enum ult_mode ua_mode;
	struct wt_rec ua_rec;
};

static int
yield_hook(void *arg)
{
	(void)arg;
	dss_yield();
	return 0;
}

static void
acked_cb(void *arg, uint64_t lsn, int rc)
{
	struct shared *sh = arg;

	(void)lsn;
	T_CHECK(rc == 0);
	sh->sh_acked++;
	sh->sh_pending--;
}

static void
eventual_cb(void *arg, uint64_t lsn, int rc)
{
	(void)lsn;
	dss_eventual_set(arg, (void *)(intptr_t)rc);
}

static void
ult_main(void *arg)
{
	struct ult_arg *ua = arg;
	struct shared *sh = ua->ua_sh;
	uint64_t lsn;
	int i;
	int rc;

	for (i = 0; i < PER_ULT; i++) {
		uint64_t seed = d_test_rand(&ua->ua_rng);

		wt_rec_gen(&ua->ua_rec, &sched_shape, seed);
		rc = bio_wal_append(sh->sh_wal, &ua->ua_rec.wr_redo, &lsn);
		T_CHECK(rc == 0);
		if (rc != 0)
			return;
		T_CHECK(lsn < sh->sh_cap);
		sh->sh_seeds[lsn] = seed;
		if (ua->ua_mode == UM_CALLBACK) {
			sh->sh_pending++;
			T_CHECK(bio_wal_on_durable(sh->sh_wal, lsn, acked_cb, sh) == 0);
			if (i % 16 == 0)
				dss_yield();
		} else if (ua->ua_mode == UM_EVENTUAL) {
			struct dss_eventual *ev;
			void *val;

			T_CHECK(dss_eventual_create(&ev) == 0);
			T_CHECK(bio_wal_on_durable(sh->sh_wal, lsn, eventual_cb, ev) == 0);
			dss_eventual_wait(ev, &val);
			dss_eventual_destroy(ev);
			T_CHECK(val == NULL);
			T_CHECK(bio_wal_durable_lsn(sh->sh_wal) >= lsn);
			sh->sh_acked++;
		} else {
			rc = bio_wal_wait(sh->sh_wal, lsn, yield_hook, NULL);
			T_CHECK(rc == 0);
			T_CHECK(bio_wal_durable_lsn(sh->sh_wal) >= lsn);
			sh->sh_acked++;
		}
	}
	/* the callbacks of this ULT may still be pending: wait for them too */
	while (ua->ua_mode == UM_CALLBACK && sh->sh_pending > 0)
		dss_yield();
}

/* Run NR_ULTS ULTs, mode chosen by @pick, on an xstream serving the WAL; then replay. */
static void
run_xstream(int (*pick)(int i), bool expect_sleeps)
{
	struct ult_arg args[NR_ULTS];
	struct dss_ult *ults[NR_ULTS];
	struct dss_xstream_stats xst;
	struct bio_wal_replay_info info;
	struct bio_wal_stats st;
	struct dss_xstream *xs;
	struct shared sh = {0};
	struct wt_check wc = {0};
	struct wt_dir wd;
	uint64_t rng = d_test_rand_seed(d_test_seed("bio_wal_sched"));
	int i;

	t_failures = 0;
	assert_int_equal(wt_dir_init(&wd), 0);
	assert_int_equal(bio_wal_create(wd.wd_path, 16ULL << 20), 0);
	assert_int_equal(bio_wal_open(wd.wd_path, NULL, &sh.sh_wal), 0);
	assert_int_equal(bio_wal_replay(sh.sh_wal, 0, NULL, NULL, NULL), 0);
	sh.sh_cap = NR_ULTS * PER_ULT + 2;
	sh.sh_seeds = calloc(sh.sh_cap, sizeof(uint64_t));

	/* from here until the xstream is destroyed, the WAL belongs to the xstream */
	assert_int_equal(dss_xstream_create("wal", NULL, &xs), 0);
	assert_int_equal(dss_xstream_poller_add(xs, bio_wal_poller, bio_wal_arm,
						bio_wal_fd(sh.sh_wal), sh.sh_wal, NULL),
			 0);
	for (i = 0; i < NR_ULTS; i++) {
		args[i].ua_sh = &sh;
		args[i].ua_rng = d_test_rand(&rng) | 1;
		args[i].ua_mode = (enum ult_mode)pick(i);
		wt_rec_init(&args[i].ua_rec);
		assert_int_equal(dss_ult_create(xs, ult_main, &args[i], 0, &ults[i]), 0);
	}
	assert_int_equal(dss_xstream_start(xs), 0);
	for (i = 0; i < NR_ULTS; i++)
		assert_int_equal(dss_ult_join(ults[i]), 0);
	dss_xstream_stats_get(xs, &xst);
	dss_xstream_stop(xs);
	dss_xstream_destroy(xs);
	assert_int_equal(t_failures, 0);

	assert_int_equal(sh.sh_acked, NR_ULTS * PER_ULT);
	bio_wal_query(sh.sh_wal, &st);
	printf("bio_wal_sched: %" PRIu64 " records in %" PRIu64 " flushes, %" PRIu64
	       " idle sleeps\n",
	       st.ws_appends, st.ws_flushes, xst.xss_idle_sleeps);
	assert_int_equal(st.ws_appends, NR_ULTS * PER_ULT);
	assert_int_equal(st.ws_durable_lsn, NR_ULTS * PER_ULT);
	/* concurrent updates shared flushes (pipelined, DAOS_BIO_DSYNC: several in flight) */
	if (bio_env_dsync() <= 1)
		assert_true(st.ws_flushes * 8 < st.ws_appends);
	else
		assert_true(st.ws_flushes < st.ws_appends);
	if (expect_sleeps)
		assert_true(xst.xss_idle_sleeps > 0);
	assert_int_equal(bio_wal_close(sh.sh_wal), 0);

	assert_int_equal(bio_wal_open(wd.wd_path, NULL, &sh.sh_wal), 0);
	wc.wc_shape = &sched_shape;
	wc.wc_seeds = sh.sh_seeds;
	wc.wc_nseeds = sh.sh_cap;
	wt_rec_init(&wc.wc_scratch);
	assert_int_equal(bio_wal_replay(sh.sh_wal, 0, wt_check_cb, &wc, &info), 0);
	assert_int_equal(wc.wc_bad, 0);
	assert_int_equal(info.ri_last_lsn, NR_ULTS * PER_ULT);
	assert_int_equal(bio_wal_close(sh.sh_wal), 0);

	wt_rec_fini(&wc.wc_scratch);
	for (i = 0; i < NR_ULTS; i++)
		wt_rec_fini(&args[i].ua_rec);
	free(sh.sh_seeds);
	wt_dir_fini(&wd);
}

static int
pick_mixed(int i)
{
	return i % 3;
}

static int
pick_eventual(int i)
{
	(void)i;
	return UM_EVENTUAL;
}

static void
t_mixed(void **state)
{
	(void)state;
	run_xstream(pick_mixed, false);
}

/* Only sleeping ULTs: the xstream idles in epoll and the WAL's eventfd wakes it. */
static void
t_sleeping(void **state)
{
	(void)state;
	run_xstream(pick_eventual, true);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(t_mixed),
	    cmocka_unit_test(t_sleeping),
	};

	return cmocka_run_group_tests_name("bio_wal_sched", tests, NULL, NULL);
}
