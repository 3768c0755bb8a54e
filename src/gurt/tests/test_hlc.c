/*
 * test_hlc.c: the hybrid logical clock: strictly increasing across threads, advancing past
 * remote timestamps, rejecting ones too far ahead, and converting to and from wall time.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <pthread.h>

#include <gurt/common.h>

#define NTHREADS 4
#define NPER 100000

static uint64_t stamps[NTHREADS][NPER];

static void *
hlc_thread(void *arg)
{
	uint64_t *out = arg;
	int i;

	for (i = 0; i < NPER; i++)
		out[i] = (i % 7 == 0) ? 0 : d_hlc_get();
	for (i = 0; i < NPER; i++)
		if (out[i] == 0 && d_hlc_get_msg(d_hlc_get(), &out[i], NULL) != 0)
			out[i] = 0;
	return NULL;
}

static int
u64_cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static void
t_hlc_monotonic_threads(void **state)
{
	pthread_t th[NTHREADS];
	uint64_t *all;
	size_t i, n = (size_t)NTHREADS * NPER;
	int t;

	(void)state;
	for (t = 0; t < NTHREADS; t++)
		assert_int_equal(pthread_create(&th[t], NULL, hlc_thread, stamps[t]), 0);
	for (t = 0; t < NTHREADS; t++)
		pthread_join(th[t], NULL);

	/* each thread's first pass is strictly increasing */
	for (t = 0; t < NTHREADS; t++) {
		uint64_t prev = 0;

		for (i = 0; i < NPER; i++) {
			if (i % 7 == 0)
				continue;
			assert_true(stamps[t][i] > prev);
			prev = stamps[t][i];
		}
	}
	/* and no two calls anywhere returned the same value */
	all = malloc(n * sizeof(*all));
	assert_non_null(all);
	memcpy(all, stamps, n * sizeof(*all));
	qsort(all, n, sizeof(*all), u64_cmp);
	for (i = 1; i < n; i++) {
		assert_true(all[i - 1] != 0);
		assert_true(all[i] > all[i - 1]);
	}
	free(all);
}

static uint64_t
wall_hlc(int64_t offset_ns)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return d_unixnsec2hlc((uint64_t)ts.tv_sec * D_NSEC_PER_SEC + (uint64_t)ts.tv_nsec +
			      (uint64_t)offset_ns);
}

static void
t_hlc_msg(void **state)
{
	uint64_t remote, out, off, next;

	(void)state;
	d_hlc_epsilon_set(1ULL * D_NSEC_PER_SEC * D_HLC_NSEC);

	/* a peer 300 ms ahead: accepted, and the local clock moves past it */
	remote = wall_hlc(300 * (int64_t)D_NSEC_PER_MSEC);
	assert_int_equal(d_hlc_get_msg(remote, &out, &off), 0);
	assert_true(out > remote);
	assert_true(off > 0);
	next = d_hlc_get();
	assert_true(next > out);

	/* a peer behind: accepted, nothing moves backwards */
	assert_int_equal(d_hlc_get_msg(remote - d_sec2hlc(10), &out, &off), 0);
	assert_true(out > next);
	assert_int_equal(off, 0);

	/* a peer 5 s ahead: rejected with the offset, and the clock not dragged forward */
	remote = wall_hlc(5 * (int64_t)D_NSEC_PER_SEC);
	assert_int_equal(d_hlc_get_msg(remote, &out, &off), -DER_HLC_SYNC);
	assert_true(off > d_sec2hlc(4));
	assert_true(d_hlc_get() < remote);

	/* a wider tolerance accepts it */
	d_hlc_epsilon_set(d_sec2hlc(10));
	assert_int_equal(d_hlc_get_msg(remote, &out, NULL), 0);
	assert_true(out > remote);
	assert_true(d_hlc_get() > remote);
	d_hlc_epsilon_set(1ULL * D_NSEC_PER_SEC * D_HLC_NSEC);
	assert_int_equal(d_hlc_epsilon_get() & D_HLC_MASK, 0);
	assert_int_equal(d_hlc_epsilon_get_bound(0) & D_HLC_MASK, D_HLC_MASK);
}

static void
t_hlc_convert(void **state)
{
	struct timespec ts, now;
	uint64_t hlc, unixns, nowns, h2;

	(void)state;
	/* the DAOS definition: 1/16 ns units since 2021-01-01, 18 logical bits */
	assert_int_equal(D_HLC_NSEC, 16);
	assert_int_equal(D_HLC_START_SEC, 1609459200ULL);
	assert_int_equal(D_HLC_MASK, (1ULL << 18) - 1);
	assert_int_equal(d_unixnsec2hlc(D_HLC_START_SEC * D_NSEC_PER_SEC), 0);
	assert_int_equal(d_unixnsec2hlc(D_HLC_START_SEC * D_NSEC_PER_SEC - 1), 0);
	assert_int_equal(d_unixnsec2hlc(D_HLC_START_SEC * D_NSEC_PER_SEC + 1), 16);
	assert_int_equal(d_hlc2sec(d_sec2hlc(12345)), 12345);

	clock_gettime(CLOCK_REALTIME, &now);
	hlc = d_hlc_get();
	unixns = d_hlc2unixnsec(hlc);
	nowns = (uint64_t)now.tv_sec * D_NSEC_PER_SEC + (uint64_t)now.tv_nsec;
	/* within a second of the wall clock (the logical part and a step ahead allow slack) */
	assert_true(unixns + D_NSEC_PER_SEC > nowns && unixns < nowns + 10 * D_NSEC_PER_SEC);

	assert_int_equal(d_hlc2timespec(hlc, &ts), 0);
	assert_int_equal(d_timespec2hlc(ts, &h2), 0);
	assert_true(h2 <= hlc && hlc - h2 < D_HLC_NSEC);
	assert_int_equal(d_hlc2timespec(hlc, NULL), -DER_INVAL);
	ts.tv_sec = 1000; /* 1970 */
	assert_int_equal(d_timespec2hlc(ts, &h2), -DER_INVAL);
	assert_int_equal(d_hlc2nsec(d_nsec2hlc(777)), 777);
	/* age is measured against the wall clock (t_hlc_msg may have moved the HLC ahead) */
	h2 = wall_hlc(0);
	h2 -= d_sec2hlc(3) + d_nsec2hlc(500 * D_NSEC_PER_MSEC);
	assert_int_equal(d_hlc_age2sec(h2), 3);
	assert_int_equal(d_hlc_age2sec(h2 + d_sec2hlc(100)), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(t_hlc_monotonic_threads),
	    cmocka_unit_test(t_hlc_msg),
	    cmocka_unit_test(t_hlc_convert),
	};

	return cmocka_run_group_tests_name("gurt_hlc", tests, NULL, NULL);
}
