/*
 * test_rlock.c: the MS's per-record locks (srv_rlock.c) on their own: exclusion per key, the
 * all-records key, order of arrival, a grant the waiter does not claim, a waiter that gives
 * its lock back from inside its run, and fini answering the waiters.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include <daos_errno.h>

#include "mgmt_internal.h"

/* A writer: takes its lock when run, records the order it ran in. */
struct writer {
	struct ds_mgmt *w_ms;
	const char *w_key;
	bool w_claim;   /* take the lock again when run (a handler that goes on to write) */
	bool w_release; /* ... and give it back at once (a handler that failed) */
	int w_ran;      /* times run */
	int w_order;    /* when it ran (0: never) */
};

static int t_clock;

static void
writer_run(struct dss_ctl_req *req, void *arg)
{
	struct writer *w = arg;

	(void)req;
	w->w_ran++;
	w->w_order = ++t_clock;
	if (w->w_claim)
		assert_int_equal(ms_rl_lock(w->w_ms, w->w_key, w, writer_run, NULL, w), 1);
	if (w->w_release)
		ms_rl_unlock(w->w_ms, w);
}

static int
take(struct ds_mgmt *ms, struct writer *w, const char *key)
{
	w->w_ms = ms;
	w->w_key = key;
	w->w_claim = true;
	return ms_rl_lock(ms, key, w, writer_run, NULL, w);
}

static void
test_one_key(void **state)
{
	struct ds_mgmt ms = {0};
	struct writer a = {0}, b = {0}, c = {0}, other = {0};

	(void)state;
	t_clock = 0;
	ms_rl_init(&ms);
	assert_int_equal(take(&ms, &a, "p1"), 1);
	assert_int_equal(take(&ms, &b, "p1"), 0); /* queued */
	assert_int_equal(take(&ms, &c, "p1"), 0);
	assert_int_equal(take(&ms, &other, "p2"), 1); /* another record: not blocked */
	assert_int_equal(b.w_ran, 0);
	ms_rl_unlock(&ms, &a);
	assert_int_equal(b.w_ran, 1); /* b holds it now, c still waits */
	assert_int_equal(c.w_ran, 0);
	ms_rl_unlock(&ms, &other); /* another record's release runs nobody of p1 */
	assert_int_equal(c.w_ran, 0);
	ms_rl_unlock(&ms, &b);
	assert_int_equal(c.w_ran, 1);
	assert_true(b.w_order < c.w_order);
	assert_int_equal(take(&ms, &a, "p1"), 0); /* c holds it */
	ms_rl_unlock(&ms, &c);
	assert_int_equal(a.w_ran, 1);
	ms_rl_unlock(&ms, &a);
	ms_rl_unlock(&ms, &a); /* not held: nothing */
	ms_rl_fini(&ms);
}

static void
test_all_records(void **state)
{
	struct ds_mgmt ms = {0};
	struct writer p1 = {0}, p2 = {0}, all = {0}, late = {0}, p3 = {0};

	(void)state;
	t_clock = 0;
	ms_rl_init(&ms);
	assert_int_equal(take(&ms, &p1, "p1"), 1);
	assert_int_equal(take(&ms, &p2, "p2"), 1);
	assert_int_equal(take(&ms, &all, MS_RL_ALL), 0); /* waits for both */
	/* a later writer of a free record queues behind the waiting "all" (order of arrival) */
	assert_int_equal(take(&ms, &late, "p3"), 0);
	ms_rl_unlock(&ms, &p1);
	assert_int_equal(all.w_ran, 0);
	ms_rl_unlock(&ms, &p2);
	assert_int_equal(all.w_ran, 1);
	assert_int_equal(late.w_ran, 0); /* "all" holds every record */
	assert_int_equal(take(&ms, &p3, "p1"), 0);
	ms_rl_unlock(&ms, &all);
	assert_int_equal(late.w_ran, 1);
	assert_int_equal(p3.w_ran, 1); /* different records: both run */
	assert_true(late.w_order < p3.w_order);
	ms_rl_unlock(&ms, &late);
	ms_rl_unlock(&ms, &p3);
	ms_rl_fini(&ms);
}

static void
test_unclaimed(void **state)
{
	struct ds_mgmt ms = {0};
	struct writer a = {0}, b = {0}, c = {0}, d = {0};

	(void)state;
	t_clock = 0;
	ms_rl_init(&ms);
	assert_int_equal(take(&ms, &a, "p"), 1);
	assert_int_equal(take(&ms, &b, "p"), 0);
	assert_int_equal(take(&ms, &c, "p"), 0);
	assert_int_equal(take(&ms, &d, "p"), 0);
	b.w_claim = false;  /* answered without writing: the grant goes back when it returns */
	c.w_release = true; /* wrote nothing after all: gives it back inside its run */
	ms_rl_unlock(&ms, &a);
	assert_int_equal(b.w_ran, 1);
	assert_int_equal(c.w_ran, 1);
	assert_int_equal(d.w_ran, 1); /* and so d got it in the same release */
	assert_true(b.w_order < c.w_order && c.w_order < d.w_order);
	assert_int_equal(take(&ms, &a, "p"), 0); /* d holds it */
	ms_rl_unlock(&ms, &d);
	assert_int_equal(a.w_ran, 1);
	ms_rl_unlock(&ms, &a);
	ms_rl_fini(&ms);
}

static void
test_fini(void **state)
{
	struct ds_mgmt ms = {0};
	struct writer a = {0}, b = {0}, c = {0};

	(void)state;
	t_clock = 0;
	ms_rl_init(&ms);
	assert_int_equal(take(&ms, &a, "p"), 1);
	assert_int_equal(take(&ms, &b, "p"), 0);
	assert_int_equal(take(&ms, &c, MS_RL_ALL), 0);
	b.w_claim = false; /* as a handler that finds the MS stopping: it answers, no write */
	c.w_claim = false;
	ms_rl_fini(&ms); /* every waiter runs once, so that it answers */
	assert_int_equal(b.w_ran, 1);
	assert_int_equal(c.w_ran, 1);
	assert_int_equal(a.w_ran, 0);
	ms_rl_fini(&ms); /* twice: nothing left */
	assert_int_equal(b.w_ran, 1);
}

static void
test_long_key(void **state)
{
	struct ds_mgmt ms = {0};
	struct writer a = {0};
	char key[200];

	(void)state;
	ms_rl_init(&ms);
	memset(key, 'k', sizeof(key) - 1);
	key[sizeof(key) - 1] = '\0';
	assert_int_equal(take(&ms, &a, key), -DER_INVAL);
	ms_rl_fini(&ms);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_one_key),   cmocka_unit_test(test_all_records),
	    cmocka_unit_test(test_unclaimed), cmocka_unit_test(test_fini),
	    cmocka_unit_test(test_long_key),
	};

	return cmocka_run_group_tests_name("mgmt_rlock", tests, NULL, NULL);
}
