/*
 * test_sched.c: the ULT scheduler of an xstream (daos_srv/sched.h): round-robin order of
 * yields, eventual chains, timers firing in order and never early, timed waits racing sets,
 * eventuals set and ULTs created from other threads and other xstreams, mutex and condition
 * variable, stack reuse, idle CPU, stop with sleeping ULTs, cancellation, allocation
 * failures, the assertion against blocking outside a ULT, floating-point modes and errno
 * per ULT, recursion to the end of a stack and overflow into its guard page, and a
 * microbenchmark (`engine_test_sched --bench` runs only that).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <errno.h>
#include <fenv.h>
#include <sys/resource.h>
#include <ucontext.h>

#include <gurt/common.h>
#include <daos_srv/sched.h>
#include <d_test.h>

/* the context switch itself, for the microbenchmark */
#include "sched_internal.h"

/*
 * cmocka's assertions longjmp to the test's frame, which must not happen from a ULT stack or
 * another thread: code running there records failures with T_CHECK, and the test asserts
 * there were none once the xstream has returned.
 */
static int t_failures;

#define T_CHECK(cond)                                                                              \
	do {                                                                                       \
		if (!(cond) && __atomic_fetch_add(&t_failures, 1, __ATOMIC_RELAXED) < 10)          \
			fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);   \
	} while (0)

#define T_MS ((uint64_t)1000 * 1000)

static int
setup(void **state)
{
	(void)state;
	t_failures = 0;
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	assert_int_equal(t_failures, 0);
	return 0;
}

/* Run @fn(@arg) as the first ULT of a new xstream on this thread; it stops when fn returns. */
struct runner {
	void (*r_fn)(void *arg);
	void *r_arg;
};

static void
runner_ult(void *arg)
{
	struct runner *r = arg;

	r->r_fn(r->r_arg);
	dss_xstream_stop(dss_xstream_self());
}

static void
run_in_xstream(void (*fn)(void *arg), void *arg)
{
	struct runner r = {fn, arg};
	struct dss_xstream *xs;

	assert_int_equal(dss_xstream_create("test", NULL, &xs), 0);
	assert_int_equal(dss_ult_create(xs, runner_ult, &r, 0, NULL), 0);
	assert_int_equal(dss_xstream_run(xs), 0);
	assert_int_equal(dss_xstream_run(xs), -DER_ALREADY);
	dss_xstream_destroy(xs);
}

/* Run @fn(@arg) on started xstream @xs and wait for it from this (plain) thread. */
static void
call_on(struct dss_xstream *xs, void (*fn)(void *arg), void *arg)
{
	struct dss_ult *ult;

	assert_int_equal(dss_ult_create(xs, fn, arg, 0, &ult), 0);
	assert_int_equal(dss_ult_join(ult), 0);
}

static int
u64_cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* 1. Yields: 10 000 ULTs yielding 5 times each run in strict round-robin order. */

#define NR_MANY 10000
#define NR_YIELDS 5

static uint32_t *order_log;
static uint32_t order_len;

static void
yield_ult(void *arg)
{
	int k;

	for (k = 0; k < NR_YIELDS; k++) {
		order_log[order_len++] = (uint32_t)(uintptr_t)arg;
		dss_yield();
	}
}

static void
yield_main(void *arg)
{
	struct dss_ult **h;
	uint32_t i;

	(void)arg;
	h = calloc(NR_MANY, sizeof(*h));
	for (i = 0; i < NR_MANY; i++)
		T_CHECK(dss_ult_create(dss_xstream_self(), yield_ult, (void *)(uintptr_t)i, 0,
				       &h[i]) == 0);
	for (i = 0; i < NR_MANY; i++)
		T_CHECK(dss_ult_join(h[i]) == 0);
	free(h);
}

static void
t_yield_round_robin(void **state)
{
	uint32_t i, k;

	(void)state;
	order_log = calloc(NR_MANY * NR_YIELDS, sizeof(*order_log));
	order_len = 0;
	run_in_xstream(yield_main, NULL);
	assert_int_equal(order_len, NR_MANY * NR_YIELDS);
	for (k = 0; k < NR_YIELDS; k++)
		for (i = 0; i < NR_MANY; i++)
			if (order_log[k * NR_MANY + i] != i)
				fail_msg("round %u position %u ran ULT %u", k, i,
					 order_log[k * NR_MANY + i]);
	free(order_log);
}

/* 2. A chain of 10 000 eventuals: ULT i waits for ev[i] and sets ev[i + 1]; mixed yields. */

static struct dss_eventual **chain_ev;

static void
chain_ult(void *arg)
{
	uint32_t id = (uint32_t)(uintptr_t)arg;
	void *v = NULL;

	if (id % 3 == 0)
		dss_yield();
	if (id % 5 == 0)
		T_CHECK(dss_usleep(50 + id % 100) == 0);
	dss_eventual_wait(chain_ev[id], &v);
	T_CHECK(v == (void *)(uintptr_t)(id + 1000));
	order_log[order_len++] = id;
	if (id % 7 == 0)
		dss_yield();
	if (id + 1 < NR_MANY)
		dss_eventual_set(chain_ev[id + 1], (void *)(uintptr_t)(id + 1 + 1000));
}

static void
chain_main(void *arg)
{
	struct dss_ult **h;
	uint32_t i;

	(void)arg;
	h = calloc(NR_MANY, sizeof(*h));
	for (i = 0; i < NR_MANY; i++)
		T_CHECK(dss_eventual_create(&chain_ev[i]) == 0);
	for (i = 0; i < NR_MANY; i++)
		T_CHECK(dss_ult_create(dss_xstream_self(), chain_ult, (void *)(uintptr_t)i, 0,
				       &h[i]) == 0);
	dss_yield();
	dss_eventual_set(chain_ev[0], (void *)(uintptr_t)1000);
	for (i = 0; i < NR_MANY; i++)
		T_CHECK(dss_ult_join(h[i]) == 0);
	for (i = 0; i < NR_MANY; i++) {
		T_CHECK(dss_eventual_test(chain_ev[i], NULL));
		dss_eventual_destroy(chain_ev[i]);
	}
	free(h);
}

static void
t_eventual_chain(void **state)
{
	uint32_t i;

	(void)state;
	order_log = calloc(NR_MANY, sizeof(*order_log));
	chain_ev = calloc(NR_MANY, sizeof(*chain_ev));
	order_len = 0;
	run_in_xstream(chain_main, NULL);
	assert_int_equal(order_len, NR_MANY);
	for (i = 0; i < NR_MANY; i++)
		assert_int_equal(order_log[i], i);
	free(chain_ev);
	free(order_log);
}

/*
 * 3. 10 000 timers with 100 distinct deadlines fire in deadline order, ties in the order
 * they were armed, none early.
 */

struct tm_rec {
	uint32_t tr_id;
	uint64_t tr_deadline;
	uint64_t tr_woke;
};

static struct tm_rec *tm_log;
static uint32_t tm_len;
static uint64_t *tm_deadline;

static void
timer_ult(void *arg)
{
	uint32_t id = (uint32_t)(uintptr_t)arg;
	int rc;

	rc = dss_sleep_until(tm_deadline[id]);
	T_CHECK(rc == 0);
	tm_log[tm_len].tr_woke = d_now_ns();
	tm_log[tm_len].tr_id = id;
	tm_log[tm_len].tr_deadline = tm_deadline[id];
	tm_len++;
}

static void
timer_main(void *arg)
{
	uint64_t *seed = arg;
	uint64_t base = d_now_ns() + 200 * T_MS;
	uint32_t i;

	for (i = 0; i < NR_MANY; i++) {
		tm_deadline[i] = base + (d_test_rand(seed) % 100) * T_MS;
		T_CHECK(dss_ult_create(dss_xstream_self(), timer_ult, (void *)(uintptr_t)i, 0,
				       NULL) == 0);
	}
	/* relative sleeps, too: the loop ends once every timer above has fired */
	while (tm_len < NR_MANY)
		T_CHECK(dss_sleep(10) == 0);
}

static void
t_timers_order(void **state)
{
	uint64_t seed = d_test_rand_seed(d_test_seed("timers"));
	uint64_t *late;
	uint32_t i;

	(void)state;
	tm_log = calloc(NR_MANY, sizeof(*tm_log));
	tm_deadline = calloc(NR_MANY, sizeof(*tm_deadline));
	late = calloc(NR_MANY, sizeof(*late));
	tm_len = 0;
	run_in_xstream(timer_main, &seed);
	assert_int_equal(tm_len, NR_MANY);
	for (i = 0; i < NR_MANY; i++) {
		struct tm_rec *r = &tm_log[i];

		if (r->tr_woke < r->tr_deadline)
			fail_msg("timer %u woke %" PRIu64 " ns early", r->tr_id,
				 r->tr_deadline - r->tr_woke);
		if (i > 0 && (r->tr_deadline < r[-1].tr_deadline ||
			      (r->tr_deadline == r[-1].tr_deadline && r->tr_id < r[-1].tr_id)))
			fail_msg("timer %u fired after timer %u", r->tr_id, r[-1].tr_id);
		late[i] = r->tr_woke - r->tr_deadline;
	}
	qsort(late, NR_MANY, sizeof(*late), u64_cmp);
	printf("timers: %u fired in order; lateness median %" PRIu64 " us, p99 %" PRIu64
	       " us, max %" PRIu64 " us\n",
	       NR_MANY, late[NR_MANY / 2] / 1000, late[NR_MANY * 99 / 100] / 1000,
	       late[NR_MANY - 1] / 1000);
	free(late);
	free(tm_deadline);
	free(tm_log);
}

/*
 * 4. Timed waits: short deadlines time out; long ones are cut short by a set (removing
 * their timers from the middle of the heap); the unset ones time out at their deadline.
 * The setter sleeps until the last short deadline, so the loop fires every short timer
 * before it runs (earlier deadlines first, its own armed last): those waits time out
 * however late the thread runs. A long wait whose deadline is still ahead when the set
 * comes must get the value; one the set came too late for (a thread stalled for half a
 * second) may end either way, but only once and consistently.
 */

#define NR_TW 2000

struct tw_ult {
	struct dss_eventual *tw_ev;
	uint64_t tw_len;
	uint64_t tw_start;
	int tw_rc;
	void *tw_value;
	uint64_t tw_elapsed;
	uint64_t tw_woke;
};

static struct tw_ult *tw;
static uint64_t tw_set_ns;

static void
tw_ult_fn(void *arg)
{
	struct tw_ult *t = arg;
	uint64_t start = d_now_ns();

	t->tw_start = start;
	t->tw_rc = dss_eventual_timedwait(t->tw_ev, &t->tw_value, start + t->tw_len);
	t->tw_woke = d_now_ns();
	t->tw_elapsed = t->tw_woke - start;
}

static void
tw_main(void *arg)
{
	struct dss_ult **h;
	uint64_t a_end = 0;
	uint32_t i;

	(void)arg;
	h = calloc(NR_TW, sizeof(*h));
	for (i = 0; i < NR_TW; i++) {
		T_CHECK(dss_eventual_create(&tw[i].tw_ev) == 0);
		/* group A: 10 ms; group B: 500 ms */
		tw[i].tw_len = (i % 4 < 2 ? 10 : 500) * T_MS;
		T_CHECK(dss_ult_create(dss_xstream_self(), tw_ult_fn, &tw[i], 0, &h[i]) == 0);
	}
	/* FIFO: every ULT above runs, and arms its timer, before this one runs again */
	dss_yield();
	for (i = 0; i < NR_TW; i++)
		if (i % 4 < 2 && tw[i].tw_start + tw[i].tw_len > a_end)
			a_end = tw[i].tw_start + tw[i].tw_len;
	T_CHECK(dss_sleep_until(a_end) == 0);
	/* set the even ones: group A has timed out already, group B is (normally) waiting */
	tw_set_ns = d_now_ns();
	for (i = 0; i < NR_TW; i += 2)
		dss_eventual_set(tw[i].tw_ev, &tw[i]);
	for (i = 0; i < NR_TW; i++) {
		T_CHECK(dss_ult_join(h[i]) == 0);
		dss_eventual_destroy(tw[i].tw_ev);
	}
	free(h);
}

static void
t_eventual_timedwait(void **state)
{
	uint32_t i, got = 0, late = 0;

	(void)state;
	tw = calloc(NR_TW, sizeof(*tw));
	run_in_xstream(tw_main, NULL);
	for (i = 0; i < NR_TW; i++) {
		bool group_a = i % 4 < 2;
		bool timeout_ok = tw[i].tw_rc == -DER_TIMEDOUT && tw[i].tw_elapsed >= tw[i].tw_len;
		bool value_ok =
		    tw[i].tw_rc == 0 && tw[i].tw_value == &tw[i] && tw[i].tw_woke >= tw_set_ns;

		if (group_a || i % 2 == 1) {
			if (!timeout_ok)
				fail_msg("ULT %u: rc %d after %" PRIu64 " ms, expected a timeout "
					 "after %" PRIu64 " ms",
					 i, tw[i].tw_rc, tw[i].tw_elapsed / T_MS,
					 tw[i].tw_len / T_MS);
		} else if (tw[i].tw_start + tw[i].tw_len > tw_set_ns) {
			if (!value_ok)
				fail_msg("ULT %u: rc %d after %" PRIu64 " ms, expected the value "
					 "set %" PRIu64 " ms after its start",
					 i, tw[i].tw_rc, tw[i].tw_elapsed / T_MS,
					 (tw_set_ns - tw[i].tw_start) / T_MS);
			got++;
		} else {
			/* the set came after the deadline: whichever the loop saw first */
			if (!value_ok && !timeout_ok)
				fail_msg("ULT %u: rc %d after %" PRIu64 " ms, set too late", i,
					 tw[i].tw_rc, tw[i].tw_elapsed / T_MS);
			late++;
		}
	}
	printf("timed waits: %u cut short by the set, %u set after their deadline\n", got, late);
	free(tw);
}

/* 5. Eventuals set from another OS thread while the xstream sleeps: wake-up latency. */

#define NR_LAT 20

/*
 * A poller on an eventfd. Its arm callback is the handshake that tells another thread the
 * loop is asleep: the loop calls it just before epoll, after it found nothing to do. Each
 * step the test waits for (an event polled, a ULT blocked) bumps fp_mark on the xstream;
 * arm records fp_mark + 1 in fp_armed. Once fp_armed is past a step's mark, the loop sleeps
 * (or is about to) with that step done, and only an fd event or a message wakes it (these
 * tests arm no timers).
 */
struct fd_poller {
	int fp_fd;
	uint64_t fp_woke;
	uint32_t fp_events;
	uint32_t fp_mark;
	uint32_t fp_armed; /* 0: never armed */
};

static uint32_t
fd_mark(struct fd_poller *fp)
{
	uint32_t m = __atomic_load_n(&fp->fp_mark, __ATOMIC_RELAXED) + 1;

	__atomic_store_n(&fp->fp_mark, m, __ATOMIC_RELAXED);
	return m;
}

static int
fd_arm(void *arg)
{
	struct fd_poller *fp = arg;

	__atomic_store_n(&fp->fp_armed, __atomic_load_n(&fp->fp_mark, __ATOMIC_RELAXED) + 1,
			 __ATOMIC_RELEASE);
	return 0;
}

/* From another thread: wait (up to 10 s) until the loop went to sleep after step @mark. */
static bool
fd_wait_asleep(struct fd_poller *fp, uint32_t mark)
{
	uint64_t deadline = d_now_ns() + 10000 * T_MS;
	uint32_t armed;

	for (;;) {
		armed = __atomic_load_n(&fp->fp_armed, __ATOMIC_ACQUIRE);
		if (armed != 0 && (int32_t)(armed - 1 - mark) >= 0)
			return true;
		if (d_now_ns() > deadline)
			return false;
		usleep(100);
	}
}

/* From another thread: wait (up to 10 s) until the poller has seen more than @events. */
static bool
fd_wait_events(struct fd_poller *fp, uint32_t events)
{
	uint64_t deadline = d_now_ns() + 10000 * T_MS;

	while (__atomic_load_n(&fp->fp_events, __ATOMIC_ACQUIRE) == events) {
		if (d_now_ns() > deadline)
			return false;
		usleep(10);
	}
	return true;
}

static int
fd_poll(void *arg)
{
	struct fd_poller *fp = arg;
	uint64_t v;

	if (read(fp->fp_fd, &v, sizeof(v)) != sizeof(v))
		return 0;
	fp->fp_woke = d_now_ns();
	fd_mark(fp);
	__atomic_store_n(&fp->fp_events, fp->fp_events + 1, __ATOMIC_RELEASE);
	return 1;
}

struct lat {
	struct fd_poller *l_fp;
	uint32_t l_mark;
	struct dss_eventual *l_ready;
	struct dss_eventual *l_go;
	struct dss_eventual *l_done;
	uint64_t l_woke;
};

static void
lat_ult(void *arg)
{
	struct lat *l = arg;

	/* blocks in the same run: the loop arms after this mark only once the ULT waits */
	l->l_mark = fd_mark(l->l_fp);
	dss_eventual_set(l->l_ready, NULL);
	dss_eventual_wait(l->l_go, NULL);
	l->l_woke = d_now_ns();
	dss_eventual_set(l->l_done, NULL);
}

static void
print_latency(const char *what, uint64_t *lat, int n)
{
	qsort(lat, (size_t)n, sizeof(*lat), u64_cmp);
	printf("%s: median %" PRIu64 " us, min %" PRIu64 " us, max %" PRIu64 " us (%d runs)\n",
	       what, lat[n / 2] / 1000, lat[0] / 1000, lat[n - 1] / 1000, n);
}

/*
 * The adaptive idle spin: an event that wakes the loop less than the bound after it fell
 * asleep grows the spin by twice that sleep (bounded), so that a stream of such events is
 * met awake (far fewer sleeps than events); a sleep longer than the bound brings the spin
 * back to its base. Load-independent: each step waits until the loop sleeps (fd_arm), and
 * the sleep it then measures lies between the time this thread saw it asleep and wrote
 * (a lower bound) and the gap between the two polls (an upper bound).
 */
#define SPIN_BASE (20 * (uint64_t)1000)
#define SPIN_MAX (100 * T_MS)
#define NR_SPIN_STEPS 10

static uint64_t
min_u64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

static void
t_adaptive_spin(void **state)
{
	struct dss_xstream_attr attr = {.xa_idle_spin_ns = SPIN_BASE,
					.xa_idle_spin_max_ns = SPIN_MAX};
	struct dss_xstream_stats st0, st1;
	struct dss_xstream *xs;
	struct fd_poller fp = {0};
	uint64_t one = 1;
	uint64_t prev_woke = 0, seen, wrote, lo, hi;
	uint32_t events;
	int i, verified = 0;

	(void)state;
	fp.fp_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	assert_true(fp.fp_fd >= 0);
	assert_int_equal(dss_xstream_create("spin", &attr, &xs), 0);
	assert_int_equal(dss_xstream_poller_add(xs, fd_poll, fd_arm, fp.fp_fd, &fp, NULL), 0);
	assert_int_equal(dss_xstream_start(xs), 0);
	assert_true(fd_wait_asleep(&fp, 0));
	dss_xstream_stats_get(xs, &st0);
	assert_int_equal(st0.xss_idle_spin_ns, SPIN_BASE);

	/* step by step: each sleep ended by an event grows the spin as the rule says */
	for (i = 0; i < NR_SPIN_STEPS; i++) {
		events = __atomic_load_n(&fp.fp_events, __ATOMIC_ACQUIRE);
		assert_true(fd_wait_asleep(&fp, __atomic_load_n(&fp.fp_mark, __ATOMIC_RELAXED)));
		dss_xstream_stats_get(xs, &st0);
		seen = d_now_ns();
		usleep(300); /* longer than the base spin */
		wrote = d_now_ns();
		assert_int_equal(write(fp.fp_fd, &one, sizeof(one)), sizeof(one));
		assert_true(fd_wait_events(&fp, events));
		dss_xstream_stats_get(xs, &st1);
		lo = wrote - seen;
		hi = prev_woke == 0 ? UINT64_MAX : fp.fp_woke - prev_woke;
		prev_woke = fp.fp_woke;
		assert_int_equal(st1.xss_idle_sleeps, st0.xss_idle_sleeps + 1);
		if (hi < SPIN_MAX) {
			/* slept in [lo, hi), below the bound: grown */
			if (st1.xss_idle_spin_ns <
				min_u64(SPIN_MAX, st0.xss_idle_spin_ns + 2 * lo) ||
			    st1.xss_idle_spin_ns > min_u64(SPIN_MAX, st0.xss_idle_spin_ns + 2 * hi))
				fail_msg("step %d: spin %" PRIu64 " -> %" PRIu64
					 " ns after a sleep "
					 "of %" PRIu64 "..%" PRIu64 " ns",
					 i, st0.xss_idle_spin_ns, st1.xss_idle_spin_ns, lo, hi);
			verified++;
		} else if (lo >= SPIN_MAX) {
			assert_int_equal(st1.xss_idle_spin_ns, SPIN_BASE);
		} else if (st1.xss_idle_spin_ns != SPIN_BASE &&
			   st1.xss_idle_spin_ns <
			       min_u64(SPIN_MAX, st0.xss_idle_spin_ns + 2 * lo)) {
			/* this thread ran late: either side of the bound, but by the rule */
			fail_msg("step %d: spin %" PRIu64 " -> %" PRIu64 " ns after a sleep of at "
				 "least %" PRIu64 " ns",
				 i, st0.xss_idle_spin_ns, st1.xss_idle_spin_ns, lo);
		}
	}
	dss_xstream_stats_get(xs, &st1);
	printf("%d steps (%d below the bound): spin now %" PRIu64 " us\n", NR_SPIN_STEPS, verified,
	       st1.xss_idle_spin_ns / 1000);

	/*
	 * A stream of events 300 us apart: the spin meets most of them awake. A sleep only
	 * happens when a gap outlasts the spin, and then grows the spin past that gap, so
	 * sleeps stay few however irregular the gaps are under load.
	 */
	assert_true(fd_wait_asleep(&fp, __atomic_load_n(&fp.fp_mark, __ATOMIC_RELAXED)));
	dss_xstream_stats_get(xs, &st0);
	events = __atomic_load_n(&fp.fp_events, __ATOMIC_ACQUIRE);
	for (i = 0; i < 100; i++) {
		usleep(300);
		assert_int_equal(write(fp.fp_fd, &one, sizeof(one)), sizeof(one));
	}
	assert_true(fd_wait_events(&fp, events));
	assert_true(fd_wait_asleep(&fp, __atomic_load_n(&fp.fp_mark, __ATOMIC_RELAXED)));
	dss_xstream_stats_get(xs, &st1);
	printf("100 events 300 us apart (%u polls): %" PRIu64 " sleeps, spin now %" PRIu64 " us\n",
	       __atomic_load_n(&fp.fp_events, __ATOMIC_ACQUIRE) - events,
	       st1.xss_idle_sleeps - st0.xss_idle_sleeps, st1.xss_idle_spin_ns / 1000);
	assert_true(st1.xss_idle_sleeps - st0.xss_idle_sleeps < 50);

	/* asleep for longer than the bound: the event that ends it finds the base spin again */
	do {
		/* an event of the stream above may have been left: then once more */
		assert_true(fd_wait_asleep(&fp, __atomic_load_n(&fp.fp_mark, __ATOMIC_RELAXED)));
		dss_xstream_stats_get(xs, &st0);
		usleep((useconds_t)((SPIN_MAX + 20 * T_MS) / 1000));
		dss_xstream_stats_get(xs, &st1);
	} while (st1.xss_idle_sleeps != st0.xss_idle_sleeps);
	events = __atomic_load_n(&fp.fp_events, __ATOMIC_ACQUIRE);
	assert_int_equal(write(fp.fp_fd, &one, sizeof(one)), sizeof(one));
	assert_true(fd_wait_events(&fp, events));
	dss_xstream_stats_get(xs, &st1);
	assert_int_equal(st1.xss_idle_spin_ns, SPIN_BASE);

	dss_xstream_stop(xs);
	dss_xstream_destroy(xs);
	close(fp.fp_fd);
}

/*
 * dss_xstream_nospin: a poller that calls it makes the loop sleep at once although its spin
 * is a minute long; without it the spin holds (the loop stays awake); the flag lasts one
 * idle period only. Handshakes only: "asleep" is the arm callback; "awake" is checked over
 * 200 ms of a 60 s spin, which no load can end early.
 */
struct nospin_poller {
	struct fd_poller np_fp;
	bool np_nospin;
};

static int
nospin_poll(void *arg)
{
	struct nospin_poller *np = arg;
	int n = fd_poll(&np->np_fp);

	if (__atomic_load_n(&np->np_nospin, __ATOMIC_ACQUIRE))
		dss_xstream_nospin();
	return n;
}

static int
nospin_arm(void *arg)
{
	return fd_arm(&((struct nospin_poller *)arg)->np_fp);
}

static void
t_nospin(void **state)
{
	struct dss_xstream_attr attr = {.xa_idle_spin_ns = 60000 * T_MS,
					.xa_idle_spin_max_ns = 60000 * T_MS};
	struct nospin_poller np = {.np_nospin = true};
	struct dss_xstream_stats st0, st1;
	struct dss_xstream *xs;
	uint64_t one = 1;
	uint32_t events, mark;

	(void)state;
	np.np_fp.fp_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	assert_true(np.np_fp.fp_fd >= 0);
	assert_int_equal(dss_xstream_create("nospin", &attr, &xs), 0);
	assert_int_equal(
	    dss_xstream_poller_add(xs, nospin_poll, nospin_arm, np.np_fp.fp_fd, &np, NULL), 0);
	assert_int_equal(dss_xstream_start(xs), 0);

	/* the poller asks for no spin: the loop sleeps at once (counted when it wakes) */
	assert_true(fd_wait_asleep(&np.np_fp, 0));
	events = __atomic_load_n(&np.np_fp.fp_events, __ATOMIC_ACQUIRE);
	assert_int_equal(write(np.np_fp.fp_fd, &one, sizeof(one)), sizeof(one));
	assert_true(fd_wait_events(&np.np_fp, events));
	dss_xstream_stats_get(xs, &st0);
	assert_true(st0.xss_idle_nospin >= 1);
	assert_int_equal(st0.xss_idle_nospin, st0.xss_idle_sleeps);

	/* it stops asking: after the next event the loop spins (60 s) instead of sleeping */
	assert_true(
	    fd_wait_asleep(&np.np_fp, __atomic_load_n(&np.np_fp.fp_mark, __ATOMIC_RELAXED)));
	__atomic_store_n(&np.np_nospin, false, __ATOMIC_RELEASE);
	events = __atomic_load_n(&np.np_fp.fp_events, __ATOMIC_ACQUIRE);
	assert_int_equal(write(np.np_fp.fp_fd, &one, sizeof(one)), sizeof(one));
	assert_true(fd_wait_events(&np.np_fp, events));
	dss_xstream_stats_get(xs, &st0);
	mark = __atomic_load_n(&np.np_fp.fp_mark, __ATOMIC_RELAXED);
	usleep(200 * 1000);
	dss_xstream_stats_get(xs, &st1);
	assert_false(__atomic_load_n(&np.np_fp.fp_armed, __ATOMIC_ACQUIRE) - 1 >= mark);
	assert_int_equal(st1.xss_idle_sleeps, st0.xss_idle_sleeps);

	/* asking again cuts the spin short: the next pass goes to sleep, once, without a spin */
	__atomic_store_n(&np.np_nospin, true, __ATOMIC_RELEASE);
	assert_true(fd_wait_asleep(&np.np_fp, mark));
	events = __atomic_load_n(&np.np_fp.fp_events, __ATOMIC_ACQUIRE);
	assert_int_equal(write(np.np_fp.fp_fd, &one, sizeof(one)), sizeof(one));
	assert_true(fd_wait_events(&np.np_fp, events));
	dss_xstream_stats_get(xs, &st1);
	assert_int_equal(st1.xss_idle_sleeps, st0.xss_idle_sleeps + 1);
	assert_int_equal(st1.xss_idle_nospin, st0.xss_idle_nospin + 1);
	printf("sleeps %" PRIu64 ", of which without a spin %" PRIu64 "\n", st1.xss_idle_sleeps,
	       st1.xss_idle_nospin);

	dss_xstream_stop(xs);
	dss_xstream_destroy(xs);
	close(np.np_fp.fp_fd);
}

struct cpu_arg {
	cpu_set_t ca_set;
	int ca_cpu;
	struct dss_eventual *ca_done;
};

static void
cpu_ult(void *arg)
{
	struct cpu_arg *ca = arg;

	CPU_ZERO(&ca->ca_set);
	(void)pthread_getaffinity_np(pthread_self(), sizeof(ca->ca_set), &ca->ca_set);
	ca->ca_cpu = sched_getcpu();
	dss_eventual_set(ca->ca_done, NULL);
}

/* dss_xstream_cpu_set binds the xstream's thread to one CPU before it starts. */
static void
t_cpu_bind(void **state)
{
	struct dss_xstream *xs;
	struct cpu_arg ca = {0};
	int cpu = (int)sysconf(_SC_NPROCESSORS_ONLN) - 1;

	(void)state;
	assert_int_equal(dss_xstream_create("bound", NULL, &xs), 0);
	assert_int_equal(dss_xstream_cpu_set(xs, -2), -DER_INVAL);
	assert_int_equal(dss_xstream_cpu_set(xs, cpu), 0);
	assert_int_equal(dss_xstream_start(xs), 0);
	assert_int_equal(dss_xstream_cpu_set(xs, 0), -DER_ALREADY);
	assert_int_equal(dss_eventual_create(&ca.ca_done), 0);
	assert_int_equal(dss_ult_create(xs, cpu_ult, &ca, 0, NULL), 0);
	dss_eventual_wait(ca.ca_done, NULL);
	dss_eventual_destroy(ca.ca_done);
	assert_int_equal(CPU_COUNT(&ca.ca_set), 1);
	assert_true(CPU_ISSET(cpu, &ca.ca_set));
	assert_int_equal(ca.ca_cpu, cpu);
	dss_xstream_stop(xs);
	dss_xstream_destroy(xs);
}

static void
t_cross_thread_wake(void **state)
{
	struct dss_xstream_stats st0, st1;
	struct dss_xstream *xs;
	struct fd_poller fp = {0};
	uint64_t lat[NR_LAT];
	uint64_t one = 1;
	uint64_t t0;
	int i, asleep = 0;

	(void)state;
	fp.fp_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	assert_true(fp.fp_fd >= 0);
	assert_int_equal(dss_xstream_create("lat", NULL, &xs), 0);
	assert_int_equal(dss_xstream_poller_add(xs, fd_poll, fd_arm, fp.fp_fd, &fp, NULL), 0);
	assert_int_equal(dss_xstream_start(xs), 0);
	assert_int_equal(dss_xstream_start(xs), -DER_ALREADY);

	for (i = 0; i < NR_LAT; i++) {
		struct lat l = {.l_fp = &fp};

		assert_int_equal(dss_eventual_create(&l.l_ready), 0);
		assert_int_equal(dss_eventual_create(&l.l_go), 0);
		assert_int_equal(dss_eventual_create(&l.l_done), 0);
		assert_int_equal(dss_ult_create(xs, lat_ult, &l, 0, NULL), 0);
		dss_eventual_wait(l.l_ready, NULL);
		/* past the idle spin: the xstream is in epoll, with no timer to end it */
		assert_true(fd_wait_asleep(&fp, l.l_mark));
		dss_xstream_stats_get(xs, &st0);
		t0 = d_now_ns();
		dss_eventual_set(l.l_go, NULL);
		/* only the set's kick can wake it: without one this times out */
		assert_int_equal(dss_eventual_timedwait(l.l_done, NULL, d_now_ns() + 10000 * T_MS),
				 0);
		dss_xstream_stats_get(xs, &st1);
		/* the kick ended a sleep (unless a stale kick had woken it just before) */
		asleep += st1.xss_idle_sleeps > st0.xss_idle_sleeps;
		lat[i] = l.l_woke - t0;
		dss_eventual_destroy(l.l_ready);
		dss_eventual_destroy(l.l_go);
		dss_eventual_destroy(l.l_done);
	}
	print_latency("eventual set from another thread, sleeping xstream to ULT running", lat,
		      NR_LAT);
	printf("  the xstream was asleep in %d of %d runs\n", asleep, NR_LAT);
	assert_true(asleep > NR_LAT / 2);
	/* generous: the latency itself is only reported (a lost kick fails above) */
	assert_true(lat[NR_LAT / 2] < 1000 * T_MS);

	/* the same through a poller's fd */
	for (i = 0; i < NR_LAT; i++) {
		uint32_t events = __atomic_load_n(&fp.fp_events, __ATOMIC_ACQUIRE);

		assert_true(fd_wait_asleep(&fp, __atomic_load_n(&fp.fp_mark, __ATOMIC_RELAXED)));
		t0 = d_now_ns();
		assert_int_equal(write(fp.fp_fd, &one, sizeof(one)), sizeof(one));
		assert_true(fd_wait_events(&fp, events));
		assert_int_equal(__atomic_load_n(&fp.fp_events, __ATOMIC_ACQUIRE), events + 1);
		lat[i] = fp.fp_woke - t0;
	}
	print_latency("poller fd written by another thread, sleeping xstream to poller", lat,
		      NR_LAT);
	dss_xstream_destroy(xs);
	close(fp.fp_fd);
}

/* 6. ULTs created from 4 other threads, 1000 each; every tenth joined by its creator. */

#define NR_CREATORS 4
#define NR_PER_CREATOR 1000

static uint32_t remote_ran; /* only touched on the xstream */
static uint32_t remote_by[NR_CREATORS];

static void
remote_ult(void *arg)
{
	uint32_t t = (uint32_t)(uintptr_t)arg;

	T_CHECK(dss_ult_self() != NULL);
	dss_yield();
	remote_ran++;
	remote_by[t]++;
}

static void *
creator_thread(void *arg)
{
	struct dss_xstream *xs = arg;
	static uint32_t next_id;
	uint32_t t = __atomic_fetch_add(&next_id, 1, __ATOMIC_RELAXED) % NR_CREATORS;
	struct dss_ult *ult;
	int i;

	for (i = 0; i < NR_PER_CREATOR; i++) {
		if (i % 10 == 0) {
			T_CHECK(dss_ult_create(xs, remote_ult, (void *)(uintptr_t)t, 0, &ult) == 0);
			T_CHECK(dss_ult_join(ult) == 0);
		} else {
			T_CHECK(dss_ult_create(xs, remote_ult, (void *)(uintptr_t)t, 0, NULL) == 0);
		}
	}
	return NULL;
}

static void
t_remote_create(void **state)
{
	struct dss_xstream_stats st;
	struct dss_xstream *xs;
	pthread_t th[NR_CREATORS];
	int i;

	(void)state;
	remote_ran = 0;
	memset(remote_by, 0, sizeof(remote_by));
	assert_int_equal(dss_xstream_create("remote", NULL, &xs), 0);
	assert_int_equal(dss_xstream_start(xs), 0);
	for (i = 0; i < NR_CREATORS; i++)
		assert_int_equal(pthread_create(&th[i], NULL, creator_thread, xs), 0);
	for (i = 0; i < NR_CREATORS; i++)
		pthread_join(th[i], NULL);
	/* every accepted ULT runs before a stopping xstream returns */
	dss_xstream_stop(xs);
	assert_int_equal(dss_ult_create(xs, remote_ult, NULL, 0, NULL), -DER_SHUTDOWN);
	dss_xstream_stats_get(xs, &st);
	dss_xstream_destroy(xs);
	assert_int_equal(remote_ran, NR_CREATORS * NR_PER_CREATOR);
	for (i = 0; i < NR_CREATORS; i++)
		assert_int_equal(remote_by[i], NR_PER_CREATOR);
	printf("remote creation: %u ULTs, %" PRIu64 " messages, %" PRIu64 " idle sleeps\n",
	       NR_CREATORS * NR_PER_CREATOR, st.xss_remote_msgs, st.xss_idle_sleeps);
}

/* 7. Other xstreams: a ULT joins ULTs of another xstream and waits on its eventuals. */

#define NR_XJOIN 1000

struct xjoin {
	struct dss_xstream *xj_other;
	uint32_t xj_ran;
	uint32_t xj_done;
};

static void
xjoin_child(void *arg)
{
	struct xjoin *xj = arg;

	T_CHECK(dss_xstream_self() == xj->xj_other);
	dss_yield();
	__atomic_fetch_add(&xj->xj_ran, 1, __ATOMIC_RELAXED);
}

static void
xjoin_setter(void *arg)
{
	struct dss_eventual *ev = arg;

	dss_yield();
	dss_eventual_set(ev, ev);
}

static void
xjoin_main(void *arg)
{
	struct xjoin *xj = arg;
	struct dss_eventual *ev;
	struct dss_ult *ult;
	void *v;
	int i;

	for (i = 0; i < NR_XJOIN; i++) {
		T_CHECK(dss_ult_create(xj->xj_other, xjoin_child, xj, 0, &ult) == 0);
		T_CHECK(dss_ult_join(ult) == 0);
		T_CHECK(dss_eventual_create(&ev) == 0);
		T_CHECK(dss_ult_create(xj->xj_other, xjoin_setter, ev, 0, NULL) == 0);
		dss_eventual_wait(ev, &v);
		T_CHECK(v == ev);
		dss_eventual_destroy(ev);
	}
	xj->xj_done = 1;
}

static void
t_cross_xstream(void **state)
{
	struct dss_xstream *a, *b;
	struct xjoin xj = {0};

	(void)state;
	assert_int_equal(dss_xstream_create("xa", NULL, &a), 0);
	assert_int_equal(dss_xstream_create("xb", NULL, &b), 0);
	xj.xj_other = b;
	assert_int_equal(dss_xstream_start(a), 0);
	assert_int_equal(dss_xstream_start(b), 0);
	call_on(a, xjoin_main, &xj);
	dss_xstream_destroy(a);
	dss_xstream_destroy(b);
	assert_int_equal(xj.xj_done, 1);
	assert_int_equal(xj.xj_ran, NR_XJOIN);
}

/*
 * 8. Timed waits racing sets from other threads: 4000 ULTs each wait for an eventual with a
 * deadline within 200 us of the moment a thread sets it (sets spread over 40 ms, the
 * setters sleeping in between so that the xstream gets the CPU). Each wait ends exactly
 * once, with the value or a timeout, whichever won; nothing is lost or woken twice.
 */

#define NR_RACE 4000
#define NR_SETTERS 2
#define RACE_STEP_US 10
#define RACE_JITTER_US 200

struct race {
	struct dss_eventual *rc_ev;
	uint64_t rc_wait_us;
	uint64_t rc_set_us;
	int rc_rc;
	void *rc_value;
	uint32_t rc_waited;
};

static struct race *races;
static uint64_t race_start;

static void
race_ult(void *arg)
{
	struct race *r = arg;

	r->rc_rc =
	    dss_eventual_timedwait(r->rc_ev, &r->rc_value, race_start + r->rc_wait_us * 1000);
	r->rc_waited++;
}

static void *
race_setter(void *arg)
{
	uint32_t t = (uint32_t)(uintptr_t)arg;
	uint32_t i;

	for (i = t; i < NR_RACE; i += NR_SETTERS) {
		uint64_t when = race_start + races[i].rc_set_us * 1000;
		uint64_t now = d_now_ns();

		if (now < when)
			usleep((useconds_t)((when - now) / 1000));
		dss_eventual_set(races[i].rc_ev, &races[i]);
	}
	return NULL;
}

static void
t_timeout_set_race(void **state)
{
	uint64_t seed = d_test_rand_seed(d_test_seed("race"));
	struct dss_ult **h;
	struct dss_xstream *xs;
	pthread_t th[NR_SETTERS];
	uint32_t i, got = 0, timedout = 0;

	(void)state;
	races = calloc(NR_RACE, sizeof(*races));
	h = calloc(NR_RACE, sizeof(*h));
	assert_int_equal(dss_xstream_create("race", NULL, &xs), 0);
	for (i = 0; i < NR_RACE; i++) {
		assert_int_equal(dss_eventual_create(&races[i].rc_ev), 0);
		races[i].rc_set_us = RACE_JITTER_US + (uint64_t)i * RACE_STEP_US;
		races[i].rc_wait_us =
		    races[i].rc_set_us - RACE_JITTER_US + d_test_rand(&seed) % (2 * RACE_JITTER_US);
		assert_int_equal(dss_ult_create(xs, race_ult, &races[i], 0, &h[i]), 0);
	}
	race_start = d_now_ns() + 20 * T_MS;
	assert_int_equal(dss_xstream_start(xs), 0);
	for (i = 0; i < NR_SETTERS; i++)
		assert_int_equal(pthread_create(&th[i], NULL, race_setter, (void *)(uintptr_t)i),
				 0);
	for (i = 0; i < NR_SETTERS; i++)
		pthread_join(th[i], NULL);
	for (i = 0; i < NR_RACE; i++) {
		assert_int_equal(dss_ult_join(h[i]), 0);
		assert_int_equal(races[i].rc_waited, 1);
		if (races[i].rc_rc == 0) {
			assert_ptr_equal(races[i].rc_value, &races[i]);
			got++;
		} else {
			assert_int_equal(races[i].rc_rc, -DER_TIMEDOUT);
			timedout++;
		}
		assert_true(dss_eventual_test(races[i].rc_ev, NULL));
		dss_eventual_destroy(races[i].rc_ev);
	}
	dss_xstream_destroy(xs);
	printf("timeout/set race: %u got the value, %u timed out\n", got, timedout);
	free(h);
	free(races);
}

/* 9. Mutex and condition variable. */

#define NR_MX_ULTS 100
#define NR_MX_ROUNDS 100

struct mx_test {
	struct dss_mutex mt_mx;
	struct dss_cond mt_cv;
	uint64_t mt_counter;
	/* bounded queue */
	uint32_t mt_q[4];
	uint32_t mt_head, mt_tail;
	uint32_t mt_consumed;
	uint64_t mt_sum;
	bool mt_flag;
	uint32_t mt_woken;
};

static void
mx_incr(void *arg)
{
	struct mx_test *mt = arg;
	uint64_t v;
	int i;

	for (i = 0; i < NR_MX_ROUNDS; i++) {
		dss_mutex_lock(&mt->mt_mx);
		v = mt->mt_counter;
		dss_yield(); /* without the mutex, another ULT would update in between */
		mt->mt_counter = v + 1;
		if (i % 2)
			dss_yield();
		dss_mutex_unlock(&mt->mt_mx);
		dss_yield();
	}
}

#define NR_ITEMS 10000
#define NR_CONSUMERS 3

static void
mx_producer(void *arg)
{
	struct mx_test *mt = arg;
	uint32_t i;

	for (i = 1; i <= NR_ITEMS; i++) {
		dss_mutex_lock(&mt->mt_mx);
		while (mt->mt_tail - mt->mt_head == D_ARRAY_SIZE(mt->mt_q))
			dss_cond_wait(&mt->mt_cv, &mt->mt_mx);
		mt->mt_q[mt->mt_tail++ % D_ARRAY_SIZE(mt->mt_q)] = i;
		dss_cond_broadcast(&mt->mt_cv);
		dss_mutex_unlock(&mt->mt_mx);
	}
}

static void
mx_consumer(void *arg)
{
	struct mx_test *mt = arg;
	uint32_t last = 0, item;

	for (;;) {
		dss_mutex_lock(&mt->mt_mx);
		while (mt->mt_head == mt->mt_tail && mt->mt_consumed < NR_ITEMS)
			dss_cond_wait(&mt->mt_cv, &mt->mt_mx);
		if (mt->mt_head == mt->mt_tail) {
			dss_mutex_unlock(&mt->mt_mx);
			return;
		}
		item = mt->mt_q[mt->mt_head++ % D_ARRAY_SIZE(mt->mt_q)];
		T_CHECK(item > last);
		last = item;
		mt->mt_sum += item;
		mt->mt_consumed++;
		/* the producer and, at the end, the other consumers */
		dss_cond_broadcast(&mt->mt_cv);
		dss_mutex_unlock(&mt->mt_mx);
		if (item % 3 == 0)
			dss_yield();
	}
}

static void
mx_flag_waiter(void *arg)
{
	struct mx_test *mt = arg;

	dss_mutex_lock(&mt->mt_mx);
	while (!mt->mt_flag)
		dss_cond_wait(&mt->mt_cv, &mt->mt_mx);
	mt->mt_woken++;
	dss_mutex_unlock(&mt->mt_mx);
}

static void
mx_main(void *arg)
{
	struct mx_test *mt = arg;
	struct dss_ult *h[NR_MX_ULTS];
	uint64_t start;
	int i, rc;

	dss_mutex_init(&mt->mt_mx);
	dss_cond_init(&mt->mt_cv);

	/* counter under the mutex with yields inside the critical section */
	for (i = 0; i < NR_MX_ULTS; i++)
		T_CHECK(dss_ult_create(dss_xstream_self(), mx_incr, mt, 0, &h[i]) == 0);
	for (i = 0; i < NR_MX_ULTS; i++)
		T_CHECK(dss_ult_join(h[i]) == 0);
	T_CHECK(mt->mt_counter == NR_MX_ULTS * NR_MX_ROUNDS);

	/* trylock */
	T_CHECK(dss_mutex_trylock(&mt->mt_mx));
	T_CHECK(dss_ult_create(dss_xstream_self(), mx_flag_waiter, mt, 0, &h[0]) == 0);
	dss_yield(); /* the waiter blocks on the mutex */
	mt->mt_flag = true;
	dss_mutex_unlock(&mt->mt_mx);
	T_CHECK(dss_ult_join(h[0]) == 0);
	T_CHECK(mt->mt_woken == 1);

	/* producer / consumers over a 4-slot queue */
	T_CHECK(dss_ult_create(dss_xstream_self(), mx_producer, mt, 0, &h[0]) == 0);
	for (i = 1; i <= NR_CONSUMERS; i++)
		T_CHECK(dss_ult_create(dss_xstream_self(), mx_consumer, mt, 0, &h[i]) == 0);
	for (i = 0; i <= NR_CONSUMERS; i++)
		T_CHECK(dss_ult_join(h[i]) == 0);
	T_CHECK(mt->mt_consumed == NR_ITEMS);
	T_CHECK(mt->mt_sum == (uint64_t)NR_ITEMS * (NR_ITEMS + 1) / 2);

	/* broadcast wakes every waiter; signal wakes one */
	mt->mt_flag = false;
	mt->mt_woken = 0;
	for (i = 0; i < NR_MX_ULTS; i++)
		T_CHECK(dss_ult_create(dss_xstream_self(), mx_flag_waiter, mt, 0, &h[i]) == 0);
	dss_yield();
	dss_mutex_lock(&mt->mt_mx);
	dss_cond_signal(&mt->mt_cv); /* flag still false: the woken one waits again */
	dss_mutex_unlock(&mt->mt_mx);
	dss_yield();
	dss_yield();
	T_CHECK(mt->mt_woken == 0);
	dss_mutex_lock(&mt->mt_mx);
	mt->mt_flag = true;
	dss_cond_broadcast(&mt->mt_cv);
	dss_mutex_unlock(&mt->mt_mx);
	for (i = 0; i < NR_MX_ULTS; i++)
		T_CHECK(dss_ult_join(h[i]) == 0);
	T_CHECK(mt->mt_woken == NR_MX_ULTS);

	/* timed wait with nobody signalling */
	dss_mutex_lock(&mt->mt_mx);
	start = d_now_ns();
	rc = dss_cond_timedwait(&mt->mt_cv, &mt->mt_mx, start + 20 * T_MS);
	T_CHECK(rc == -DER_TIMEDOUT);
	T_CHECK(d_now_ns() - start >= 20 * T_MS);
	T_CHECK(!dss_mutex_trylock(&mt->mt_mx)); /* held again */
	dss_mutex_unlock(&mt->mt_mx);

	dss_cond_fini(&mt->mt_cv);
	dss_mutex_fini(&mt->mt_mx);
}

static void
t_mutex_cond(void **state)
{
	struct mx_test mt = {0};

	(void)state;
	run_in_xstream(mx_main, &mt);
	assert_int_equal(mt.mt_counter, NR_MX_ULTS * NR_MX_ROUNDS);
	assert_int_equal(mt.mt_woken, NR_MX_ULTS);
}

/* 10. 100 000 ULTs created and finished, 100 at a time: stacks are reused, not mapped. */

#define NR_REUSE 100000
#define NR_REUSE_BATCH 100

static int
count_maps(void)
{
	FILE *f = fopen("/proc/self/maps", "r");
	int c, n = 0;

	if (f == NULL)
		return -1;
	while ((c = fgetc(f)) != EOF)
		n += c == '\n';
	fclose(f);
	return n;
}

struct reuse {
	uint64_t ru_ran;
	uint64_t ru_mmaps; /* stack mmaps after the first batch */
	uint64_t ru_mapped_max;
	int ru_maps_first;
	int ru_maps_last;
};

static void
reuse_child(void *arg)
{
	struct reuse *ru = arg;
	volatile char buf[512];

	buf[0] = 1; /* touch the stack */
	(void)buf[0];
	ru->ru_ran++;
}

static void
reuse_main(void *arg)
{
	struct reuse *ru = arg;
	struct dss_xstream_stats st;
	struct dss_ult *h[NR_REUSE_BATCH];
	uint64_t mmaps0 = 0;
	int i, j;

	for (i = 0; i < NR_REUSE / NR_REUSE_BATCH; i++) {
		for (j = 0; j < NR_REUSE_BATCH; j++)
			T_CHECK(dss_ult_create(dss_xstream_self(), reuse_child, ru, 0, &h[j]) == 0);
		if (i % 2)
			dss_yield();
		for (j = 0; j < NR_REUSE_BATCH; j++)
			T_CHECK(dss_ult_join(h[j]) == 0);
		dss_xstream_stats_get(dss_xstream_self(), &st);
		if (st.xss_stacks_mapped > ru->ru_mapped_max)
			ru->ru_mapped_max = st.xss_stacks_mapped;
		if (i == 0) {
			ru->ru_maps_first = count_maps();
			mmaps0 = st.xss_stack_mmaps;
		}
	}
	ru->ru_maps_last = count_maps();
	ru->ru_mmaps = st.xss_stack_mmaps - mmaps0;
}

static void
t_stack_reuse(void **state)
{
	struct reuse ru = {0};

	(void)state;
	run_in_xstream(reuse_main, &ru);
	printf("stack reuse: %" PRIu64 " ULTs, at most %" PRIu64 " stacks mapped, %" PRIu64
	       " mmaps after the first batch, %d -> %d mappings\n",
	       ru.ru_ran, ru.ru_mapped_max, ru.ru_mmaps, ru.ru_maps_first, ru.ru_maps_last);
	assert_int_equal(ru.ru_ran, NR_REUSE);
	/* steady state: every stack comes from the cache */
	assert_int_equal(ru.ru_mmaps, 0);
	/* the batch + the main ULT (+ its remote-mapped stack) */
	assert_true(ru.ru_mapped_max <= NR_REUSE_BATCH + 2);
	assert_true(ru.ru_maps_first > 0);
	/* small slack for the allocator's own mappings */
	assert_true(ru.ru_maps_last <= ru.ru_maps_first + 4);
}

/* 11. An idle xstream costs (almost) no CPU, with a poller fd and a distant timer. */

static void
read_cpu(void *arg)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	*(uint64_t *)arg = (uint64_t)ts.tv_sec * D_NSEC_PER_SEC + (uint64_t)ts.tv_nsec;
}

static void
long_sleeper(void *arg)
{
	(void)arg;
	while (dss_sleep(60 * 1000) == 0)
		;
}

static void
t_idle_cpu(void **state)
{
	struct dss_xstream *xs;
	struct fd_poller fp = {0};
	uint64_t cpu0, cpu1, wall0, wall1;
	double pct;

	(void)state;
	fp.fp_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	assert_true(fp.fp_fd >= 0);
	assert_int_equal(dss_xstream_create("idle", NULL, &xs), 0);
	assert_int_equal(dss_xstream_poller_add(xs, fd_poll, NULL, fp.fp_fd, &fp, NULL), 0);
	assert_int_equal(dss_xstream_start(xs), 0);
	assert_int_equal(dss_ult_create(xs, long_sleeper, NULL, 0, NULL), 0);
	usleep(50 * 1000);

	call_on(xs, read_cpu, &cpu0);
	wall0 = d_now_ns();
	usleep(1000 * 1000);
	call_on(xs, read_cpu, &cpu1);
	wall1 = d_now_ns();
	pct = 100.0 * (double)(cpu1 - cpu0) / (double)(wall1 - wall0);
	printf("idle xstream: %.3f%% of a core (%" PRIu64 " us CPU in %" PRIu64 " ms)\n", pct,
	       (cpu1 - cpu0) / 1000, (wall1 - wall0) / T_MS);
	/* the target is 2 %; 5 % leaves room for a noisy machine */
	assert_true(pct < 5.0);
	/* stopping wakes the sleeper at once (generous: it would sleep 60 s) */
	wall0 = d_now_ns();
	dss_xstream_destroy(xs);
	assert_true(d_now_ns() - wall0 < 10000 * T_MS);
	close(fp.fp_fd);
}

/* 12. Stop from another thread while ULTs sleep: they wake, clean up and the loop ends. */

#define NR_SLEEPERS 200

static uint32_t sleepers_in, sleepers_out;

static void
sleeper_ult(void *arg)
{
	char *mem;
	int rc;

	(void)arg;
	D_ALLOC(mem, 100); /* leaks unless the ULT really finishes */
	__atomic_fetch_add(&sleepers_in, 1, __ATOMIC_RELAXED);
	while ((rc = dss_sleep(3600 * 1000)) == 0)
		;
	T_CHECK(rc == -DER_SHUTDOWN);
	T_CHECK(dss_sleep(1) == -DER_SHUTDOWN);
	T_CHECK(dss_ult_create(dss_xstream_self(), sleeper_ult, NULL, 0, NULL) == -DER_SHUTDOWN);
	D_FREE(mem);
	__atomic_fetch_add(&sleepers_out, 1, __ATOMIC_RELAXED);
}

static void *
stopper_thread(void *arg)
{
	dss_xstream_stop(arg);
	return NULL;
}

static void
t_stop_with_sleepers(void **state)
{
	struct dss_xstream *xs;
	pthread_t th;
	uint64_t start;
	int i;

	(void)state;
	sleepers_in = sleepers_out = 0;
	assert_int_equal(dss_xstream_create("stop", NULL, &xs), 0);
	assert_int_equal(dss_xstream_start(xs), 0);
	for (i = 0; i < NR_SLEEPERS; i++)
		assert_int_equal(dss_ult_create(xs, sleeper_ult, NULL, 0, NULL), 0);
	while (__atomic_load_n(&sleepers_in, __ATOMIC_RELAXED) < NR_SLEEPERS)
		usleep(1000);
	usleep(10 * 1000);
	start = d_now_ns();
	assert_int_equal(pthread_create(&th, NULL, stopper_thread, xs), 0);
	pthread_join(th, NULL);
	dss_xstream_destroy(xs); /* joins the xstream's thread */
	/* generous: the sleepers would sleep an hour */
	assert_true(d_now_ns() - start < 10000 * T_MS);
	assert_int_equal(sleepers_out, NR_SLEEPERS);
}

/* 13. An xstream destroyed before it ran cancels what was queued on it. */

static void
never_runs(void *arg)
{
	(void)arg;
	T_CHECK(0);
}

static void
t_destroy_cancels(void **state)
{
	struct dss_xstream *xs;
	struct dss_ult *ult;
	int i;

	(void)state;
	assert_int_equal(dss_xstream_create("cancel", NULL, &xs), 0);
	for (i = 0; i < 10; i++)
		assert_int_equal(dss_ult_create(xs, never_runs, NULL, 0, NULL), 0);
	assert_int_equal(dss_ult_create(xs, never_runs, NULL, 32 * 1024, &ult), 0);
	dss_xstream_destroy(xs);
	assert_int_equal(dss_ult_join(ult), -DER_CANCELED);
}

/* 14. Allocation failures give -DER_NOMEM and leak nothing. */

static void
nop_ult(void *arg)
{
	(*(int *)arg)++;
}

static void
t_alloc_failure(void **state)
{
	struct d_fault_attr attr = {.fa_id = D_FI_ALLOC, .fa_max_faults = 1};
	struct dss_xstream *xs;
	struct dss_eventual *ev;
	struct dss_ult *ult;
	int n, rc, ran;
	bool fired;

	(void)state;
	for (n = 1; n < 20; n++) {
		ran = 0;
		attr.fa_interval = (uint32_t)n;
		assert_int_equal(d_fault_attr_set(&attr), 0);
		rc = dss_xstream_create("fault", NULL, &xs);
		if (rc != 0) {
			assert_int_equal(rc, -DER_NOMEM);
			goto next;
		}
		rc = dss_ult_create(xs, nop_ult, &ran, 0, &ult);
		if (rc == 0) {
			assert_int_equal(dss_xstream_start(xs), 0);
			assert_int_equal(dss_ult_join(ult), 0);
			assert_int_equal(ran, 1);
		} else {
			assert_int_equal(rc, -DER_NOMEM);
		}
		rc = dss_eventual_create(&ev);
		if (rc == 0)
			dss_eventual_destroy(ev);
		else
			assert_int_equal(rc, -DER_NOMEM);
		dss_xstream_destroy(xs);
	next:
		assert_int_equal(d_fault_attr_get(D_FI_ALLOC, &attr), 0);
		fired = attr.fa_num_faults != 0;
		d_fault_attr_clear(D_FI_ALLOC);
		if (!fired)
			break;
	}
	assert_true(n > 2 && n < 20);
}

/* 15. Blocking outside a ULT (here: a poller) asserts. */

static int
bad_poll(void *arg)
{
	dss_eventual_wait(arg, NULL);
	return 0;
}

static void
t_block_outside_ult_asserts(void **state)
{
	int status;
	pid_t pid;

	(void)state;
	fflush(NULL);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct dss_eventual *ev;
		struct dss_xstream *xs;

		/* the assertion message is expected: keep the test log quiet */
		if (freopen("/dev/null", "w", stderr) == NULL)
			_exit(2);
		if (dss_eventual_create(&ev) != 0 || dss_xstream_create("bad", NULL, &xs) != 0 ||
		    dss_xstream_poller_add(xs, bad_poll, NULL, -1, ev, NULL) != 0)
			_exit(2);
		dss_xstream_run(xs);
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFSIGNALED(status));
	assert_int_equal(WTERMSIG(status), SIGABRT);
}

/* 16. Poller removal from inside its callback; a busy poller keeps the loop awake. */

struct busy {
	struct dss_poller *bz_self;
	uint32_t bz_calls;
};

static int
busy_poll(void *arg)
{
	struct busy *bz = arg;

	if (++bz->bz_calls == 1000) {
		dss_xstream_poller_del(dss_xstream_self(), bz->bz_self);
		dss_xstream_stop(dss_xstream_self());
	}
	return 1;
}

static void
t_poller_del(void **state)
{
	struct dss_xstream_stats st;
	struct dss_xstream *xs;
	struct busy bz = {0};

	(void)state;
	assert_int_equal(dss_xstream_create("poll", NULL, &xs), 0);
	assert_int_equal(dss_xstream_poller_add(xs, busy_poll, NULL, -1, &bz, &bz.bz_self), 0);
	assert_int_equal(dss_xstream_run(xs), 0);
	dss_xstream_stats_get(xs, &st);
	dss_xstream_destroy(xs);
	assert_int_equal(bz.bz_calls, 1000);
	assert_int_equal(st.xss_idle_sleeps, 0);
}

/*
 * 17. Floating-point modes and thread-local storage across switches: the rounding mode a
 * ULT sets stays with it (MXCSR and the x87 control word are part of its context), neither
 * leaks into the other ULTs, into ULTs it creates, nor into the loop; errno is the
 * xstream thread's in every ULT.
 */

struct fpt {
	int *fp_errno_loop; /* &errno of the thread running the xstream */
	int fp_stage;
	volatile double fp_one, fp_three;
};

/*
 * 1/3 and -1/3 in double precision: the rounding mode decides the last bit (to nearest
 * rounds both magnitudes down, so upward raises the first and downward lowers the second).
 */
static double
fp_third(struct fpt *f)
{
	return f->fp_one / f->fp_three;
}

static double
fp_neg_third(struct fpt *f)
{
	return -f->fp_one / f->fp_three;
}

static void
fp_child(void *arg)
{
	struct fpt *f = arg;

	T_CHECK(fegetround() == FE_TONEAREST);
	T_CHECK(&errno == f->fp_errno_loop);
}

static void
fp_ult_a(void *arg)
{
	struct fpt *f = arg;
	double near = fp_third(f);
	struct dss_ult *child;

	T_CHECK(fesetround(FE_UPWARD) == 0);
	T_CHECK(fp_third(f) > near);
	errno = 1234;
	f->fp_stage = 1;
	/* B runs meanwhile, with its own mode */
	while (f->fp_stage != 2)
		dss_yield();
	T_CHECK(fegetround() == FE_UPWARD);
	T_CHECK(fp_third(f) > near);
	/* thread-local: B's errno is ours, since both run on this thread */
	T_CHECK(errno == 5678);
	T_CHECK(&errno == f->fp_errno_loop);
	T_CHECK(dss_ult_create(dss_xstream_self(), fp_child, f, 0, &child) == 0);
	T_CHECK(dss_ult_join(child) == 0);
	T_CHECK(fegetround() == FE_UPWARD);
	f->fp_stage = 3;
}

static void
fp_ult_b(void *arg)
{
	struct fpt *f = arg;
	double near;

	while (f->fp_stage != 1)
		dss_yield();
	T_CHECK(fegetround() == FE_TONEAREST);
	T_CHECK(errno == 1234);
	near = fp_neg_third(f);
	T_CHECK(fesetround(FE_DOWNWARD) == 0);
	T_CHECK(fp_neg_third(f) < near);
	errno = 5678;
	f->fp_stage = 2;
	dss_yield();
	T_CHECK(fegetround() == FE_DOWNWARD);
	while (f->fp_stage != 3)
		dss_yield();
	T_CHECK(fegetround() == FE_DOWNWARD);
	T_CHECK(fp_neg_third(f) < near);
}

static void
fp_main(void *arg)
{
	struct dss_ult *h[2];

	T_CHECK(dss_ult_create(dss_xstream_self(), fp_ult_a, arg, 0, &h[0]) == 0);
	T_CHECK(dss_ult_create(dss_xstream_self(), fp_ult_b, arg, 0, &h[1]) == 0);
	T_CHECK(dss_ult_join(h[0]) == 0);
	T_CHECK(dss_ult_join(h[1]) == 0);
	T_CHECK(fegetround() == FE_TONEAREST);
}

static void
errno_ult(void *arg)
{
	*(int **)arg = &errno;
}

static void
t_fp_tls(void **state)
{
	struct fpt f = {.fp_errno_loop = &errno, .fp_one = 1.0, .fp_three = 3.0};
	struct dss_xstream *xs;
	int *other = NULL;

	(void)state;
	assert_int_equal(fegetround(), FE_TONEAREST);
	run_in_xstream(fp_main, &f);
	assert_int_equal(f.fp_stage, 3);
	/* the loop ran on this thread: its modes are untouched */
	assert_int_equal(fegetround(), FE_TONEAREST);
	/* a ULT of an xstream on another thread has that thread's errno */
	assert_int_equal(dss_xstream_create("tls", NULL, &xs), 0);
	assert_int_equal(dss_xstream_start(xs), 0);
	call_on(xs, errno_ult, &other);
	dss_xstream_destroy(xs);
	assert_non_null(other);
	assert_ptr_not_equal(other, &errno);
}

/*
 * 18. Deep recursion: two ULTs each fill their stack to within a few KiB of its end (frames
 * of a pattern that depends on the ULT and the depth), yield to each other at the bottom,
 * and check every frame on the way back: the switch saves and restores exactly its frame,
 * the stacks neither overlap nor lose data. Default stack size and a larger one.
 */

#define DEEP_MARGIN (4 * 1024)
#define DEEP_FRAME 256

struct deep {
	size_t dp_size;    /* the stack size the ULT was given */
	uintptr_t dp_top;  /* its frame address at entry */
	uint32_t dp_id;    /* pattern seed */
	uint32_t dp_depth; /* deepest level reached */
	size_t dp_used;    /* bytes of stack between its entry frame and the deepest one */
	uint32_t *dp_other_depth;
};

static uint8_t
deep_byte(uint32_t id, uint32_t level, uint32_t i)
{
	return (uint8_t)(id * 131 + level * 7 + i);
}

static __attribute__((noinline)) uint32_t
deep_recurse(struct deep *d, uint32_t level)
{
	volatile uint8_t buf[DEEP_FRAME];
	uintptr_t here = (uintptr_t)__builtin_frame_address(0);
	uint32_t bad = 0;
	uint32_t i;

	for (i = 0; i < DEEP_FRAME; i++)
		buf[i] = deep_byte(d->dp_id, level, i);
	if (d->dp_top - here + DEEP_MARGIN + DEEP_FRAME < d->dp_size) {
		bad = deep_recurse(d, level + 1);
	} else {
		d->dp_depth = level;
		d->dp_used = d->dp_top - here;
		/* let the other ULT reach its own bottom while this stack is full */
		for (i = 0; i < 4; i++)
			dss_yield();
		T_CHECK(*d->dp_other_depth > 0);
	}
	for (i = 0; i < DEEP_FRAME; i++)
		bad += buf[i] != deep_byte(d->dp_id, level, i);
	return bad;
}

static void
deep_ult(void *arg)
{
	struct deep *d = arg;

	d->dp_top = (uintptr_t)__builtin_frame_address(0);
	T_CHECK(deep_recurse(d, 0) == 0);
}

static void
deep_main(void *arg)
{
	size_t size = *(size_t *)arg;
	struct deep d[2] = {{.dp_size = size, .dp_id = 1}, {.dp_size = size, .dp_id = 2}};
	struct dss_ult *h[2];
	int i;

	d[0].dp_other_depth = &d[1].dp_depth;
	d[1].dp_other_depth = &d[0].dp_depth;
	for (i = 0; i < 2; i++)
		T_CHECK(dss_ult_create(dss_xstream_self(), deep_ult, &d[i], size, &h[i]) == 0);
	for (i = 0; i < 2; i++)
		T_CHECK(dss_ult_join(h[i]) == 0);
	for (i = 0; i < 2; i++) {
		/* near the end (frame sizes vary with the compiler and ASan: measure bytes) */
		T_CHECK(d[i].dp_depth > 0);
		T_CHECK(d[i].dp_used + DEEP_MARGIN + 4 * DEEP_FRAME >= size);
	}
	printf("deep: %zu-byte stacks, %u and %u levels, %zu and %zu bytes deep\n", size,
	       d[0].dp_depth, d[1].dp_depth, d[0].dp_used, d[1].dp_used);
}

static void
t_deep_stack(void **state)
{
	size_t sizes[] = {DSS_STACK_SIZE_DEFAULT, 256 * 1024};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
		run_in_xstream(deep_main, &sizes[i]);
}

/* 19. A ULT that overflows its stack faults on the guard page (SIGSEGV; ASan reports it). */

static __attribute__((noinline)) uint32_t
overflow_recurse(uint32_t level)
{
	volatile uint8_t buf[DEEP_FRAME];

	buf[0] = (uint8_t)level;
	buf[DEEP_FRAME - 1] = (uint8_t)level;
	if (level < 100 * 1000 * 1000)
		return overflow_recurse(level + 1) + buf[0] + buf[DEEP_FRAME - 1];
	return buf[0];
}

static void
overflow_ult(void *arg)
{
	*(uint32_t *)arg = overflow_recurse(0);
}

static void
t_stack_overflow(void **state)
{
	int status;
	pid_t pid;

	(void)state;
	fflush(NULL);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		uint32_t sink = 0;

		struct rlimit nocore = {0, 0};

		/* the crash report is expected: keep the test log quiet, and no core file */
		if (freopen("/dev/null", "w", stderr) == NULL ||
		    setrlimit(RLIMIT_CORE, &nocore) != 0)
			_exit(2);
		run_in_xstream(overflow_ult, &sink);
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
#ifdef DSS_ASAN
	/* ASan catches the fault on its signal stack, reports and exits 1 */
	assert_true((WIFSIGNALED(status) && WTERMSIG(status) == SIGSEGV) ||
		    (WIFEXITED(status) && WEXITSTATUS(status) == 1));
#else
	assert_true(WIFSIGNALED(status));
	assert_int_equal(WTERMSIG(status), SIGSEGV);
#endif
}

/* 20. Microbenchmark (informational): raw switches, yield, create + join. */

#define NR_BENCH_YIELDS 200000
#define NR_BENCH_CREATES 100000
#define NR_BENCH_SWITCHES 1000000
#define BENCH_STACK (64 * 1024)

struct bench {
	uint64_t b_yield_ns;
	uint64_t b_create_ns;
};

static void
bench_yielder(void *arg)
{
	int i;

	(void)arg;
	for (i = 0; i < NR_BENCH_YIELDS; i++)
		dss_yield();
}

static void
bench_nop(void *arg)
{
	(void)arg;
}

static void
bench_main(void *arg)
{
	struct bench *b = arg;
	struct dss_ult *h[2];
	uint64_t start;
	int i;

	start = d_now_ns();
	for (i = 0; i < 2; i++)
		T_CHECK(dss_ult_create(dss_xstream_self(), bench_yielder, NULL, 0, &h[i]) == 0);
	for (i = 0; i < 2; i++)
		T_CHECK(dss_ult_join(h[i]) == 0);
	b->b_yield_ns = (d_now_ns() - start) / (2 * NR_BENCH_YIELDS);

	start = d_now_ns();
	for (i = 0; i < NR_BENCH_CREATES; i++) {
		T_CHECK(dss_ult_create(dss_xstream_self(), bench_nop, NULL, 0, &h[0]) == 0);
		T_CHECK(dss_ult_join(h[0]) == 0);
	}
	b->b_create_ns = (d_now_ns() - start) / NR_BENCH_CREATES;
}

#ifndef DSS_ASAN
/*
 * Raw switches between two contexts, outside any xstream: glibc's swapcontext (what ULTs
 * used before) and sched_ctx_switch (what they use now), in the same process and period.
 * Not run under ASan: these stacks are not announced to it.
 */
static ucontext_t bench_uc_main, bench_uc_peer;
static struct dss_ctx bench_cx_main, bench_cx_peer;

static void
bench_uc_entry(void)
{
	for (;;)
		swapcontext(&bench_uc_peer, &bench_uc_main);
}

static void
bench_cx_entry(void)
{
	for (;;)
		sched_ctx_switch(&bench_cx_peer, &bench_cx_main);
}

/* ns per switch: [0] swapcontext, [1] sched_ctx_switch */
static void
bench_raw(uint64_t ns[2])
{
	char *stack = malloc(BENCH_STACK);
	uint64_t start;
	int i;

	assert_non_null(stack);
	getcontext(&bench_uc_peer);
	bench_uc_peer.uc_stack.ss_sp = stack;
	bench_uc_peer.uc_stack.ss_size = BENCH_STACK;
	bench_uc_peer.uc_link = NULL;
	makecontext(&bench_uc_peer, bench_uc_entry, 0);
	start = d_now_ns();
	for (i = 0; i < NR_BENCH_SWITCHES / 2; i++)
		swapcontext(&bench_uc_main, &bench_uc_peer);
	ns[0] = (d_now_ns() - start) / NR_BENCH_SWITCHES;

	sched_ctx_make(&bench_cx_peer, stack, BENCH_STACK, bench_cx_entry);
	start = d_now_ns();
	for (i = 0; i < NR_BENCH_SWITCHES / 2; i++)
		sched_ctx_switch(&bench_cx_main, &bench_cx_peer);
	ns[1] = (d_now_ns() - start) / NR_BENCH_SWITCHES;
	free(stack);
}
#endif

/* 20. Calls: a function run by another xstream's loop, no ULT, completion signalled by it. */

#define NR_CALLS 2000

struct call_batch {
	struct dss_xstream *cb_target;
	struct dss_eventual *cb_ev;
	uint32_t cb_pending; /* calls out + 1 for the poster */
	uint32_t cb_ran;
	uint32_t cb_canceled;
	uint32_t cb_seq; /* calls of one poster run in posting order */
	uint32_t cb_out_of_order;
};

struct call_one {
	struct call_batch *co_batch;
	uint32_t co_seq;
};

static void
call_batch_done(struct call_batch *cb)
{
	if (__atomic_sub_fetch(&cb->cb_pending, 1, __ATOMIC_ACQ_REL) == 0)
		dss_eventual_set(cb->cb_ev, NULL);
}

static void
call_fn(void *arg, int rc)
{
	struct call_one *co = arg;
	struct call_batch *cb = co->co_batch;

	if (rc == -DER_CANCELED) {
		cb->cb_canceled++;
	} else {
		/* on the target's loop itself, outside any ULT */
		T_CHECK(rc == 0);
		T_CHECK(dss_xstream_self() == cb->cb_target);
		T_CHECK(dss_ult_self() == NULL);
		if (co->co_seq != cb->cb_seq)
			cb->cb_out_of_order++;
		cb->cb_seq = co->co_seq + 1;
		cb->cb_ran++;
	}
	call_batch_done(cb);
}

static void
call_poster_ult(void *arg)
{
	struct call_batch *cb = arg;
	struct call_one *cos;
	uint32_t i;

	D_ALLOC_ARRAY(cos, NR_CALLS);
	T_CHECK(cos != NULL);
	if (cos == NULL)
		return;
	for (i = 0; i < NR_CALLS; i++) {
		cos[i].co_batch = cb;
		cos[i].co_seq = i;
		__atomic_add_fetch(&cb->cb_pending, 1, __ATOMIC_RELAXED);
		T_CHECK(dss_call_post(cb->cb_target, call_fn, &cos[i]) == 0);
	}
	call_batch_done(cb);
	/* the ULT waits; the calls never need one */
	dss_eventual_wait(cb->cb_ev, NULL);
	D_FREE(cos);
}

static void
t_call_post(void **state)
{
	struct call_batch cb = {.cb_pending = 1};
	struct call_one cos[5];
	struct dss_xstream *a;
	struct dss_xstream *b;
	struct dss_ult *ult;
	int i;

	(void)state;
	assert_int_equal(dss_xstream_create("ca", NULL, &a), 0);
	assert_int_equal(dss_xstream_create("cb", NULL, &b), 0);
	assert_int_equal(dss_xstream_start(a), 0);
	assert_int_equal(dss_xstream_start(b), 0);
	assert_int_equal(dss_eventual_create(&cb.cb_ev), 0);
	cb.cb_target = b;
	assert_int_equal(dss_ult_create(a, call_poster_ult, &cb, 0, &ult), 0);
	assert_int_equal(dss_ult_join(ult), 0);
	dss_eventual_destroy(cb.cb_ev);
	assert_int_equal(cb.cb_ran, NR_CALLS);
	assert_int_equal(cb.cb_out_of_order, 0);
	assert_int_equal(cb.cb_canceled, 0);
	assert_int_equal(cb.cb_pending, 0);
	dss_xstream_stop(b);
	assert_int_equal(dss_call_post(b, call_fn, &cos[0]), -DER_SHUTDOWN);
	dss_xstream_destroy(b);
	dss_xstream_stop(a);
	dss_xstream_destroy(a);

	/* an xstream destroyed before it ran: each call is told, on the destroying thread */
	memset(&cb, 0, sizeof(cb));
	cb.cb_pending = 1;
	assert_int_equal(dss_eventual_create(&cb.cb_ev), 0);
	assert_int_equal(dss_xstream_create("cc", NULL, &b), 0);
	cb.cb_target = b;
	for (i = 0; i < 5; i++) {
		cos[i].co_batch = &cb;
		cos[i].co_seq = (uint32_t)i;
		cb.cb_pending++;
		assert_int_equal(dss_call_post(b, call_fn, &cos[i]), 0);
	}
	dss_xstream_destroy(b);
	assert_int_equal(cb.cb_canceled, 5);
	assert_int_equal(cb.cb_ran, 0);
	call_batch_done(&cb);
	assert_true(dss_eventual_test(cb.cb_ev, NULL));
	dss_eventual_destroy(cb.cb_ev);
}

/*
 * What a collective query's fan-out costs the engine: a ULT on one xstream asks three others
 * (the other targets of a 4-target engine) to run an empty function and waits for all three,
 * by a joinable ULT each or by a call each with one eventual. Wall time per fan-out, three
 * rounds alternating, medians; CPU of the whole process per fan-out beside it.
 */
#define FAN_NR 3
#define FAN_ITERS 2000

struct fan {
	struct dss_xstream *f_xs[FAN_NR];
	bool f_calls;
	uint64_t f_ns;
	uint32_t f_pending;
	struct dss_eventual *f_ev;
	uint32_t f_hits;
};

static void
fan_work_ult(void *arg)
{
	struct fan *f = arg;

	__atomic_add_fetch(&f->f_hits, 1, __ATOMIC_RELAXED);
}

static void
fan_work_call(void *arg, int rc)
{
	struct fan *f = arg;

	T_CHECK(rc == 0);
	__atomic_add_fetch(&f->f_hits, 1, __ATOMIC_RELAXED);
	if (__atomic_sub_fetch(&f->f_pending, 1, __ATOMIC_ACQ_REL) == 0)
		dss_eventual_set(f->f_ev, NULL);
}

static void
fan_main(void *arg)
{
	struct fan *f = arg;
	struct dss_ult *ults[FAN_NR];
	uint64_t t0 = d_now_ns();
	int i, k;

	for (i = 0; i < FAN_ITERS; i++) {
		if (!f->f_calls) {
			for (k = 0; k < FAN_NR; k++)
				T_CHECK(dss_ult_create(f->f_xs[k], fan_work_ult, f, 0, &ults[k]) ==
					0);
			for (k = 0; k < FAN_NR; k++)
				T_CHECK(dss_ult_join(ults[k]) == 0);
			continue;
		}
		T_CHECK(dss_eventual_create(&f->f_ev) == 0);
		f->f_pending = FAN_NR + 1;
		for (k = 0; k < FAN_NR; k++)
			T_CHECK(dss_call_post(f->f_xs[k], fan_work_call, f) == 0);
		if (__atomic_sub_fetch(&f->f_pending, 1, __ATOMIC_ACQ_REL) == 0)
			dss_eventual_set(f->f_ev, NULL);
		dss_eventual_wait(f->f_ev, NULL);
		dss_eventual_destroy(f->f_ev);
	}
	f->f_ns = (d_now_ns() - t0) / FAN_ITERS;
}

static uint64_t
proc_cpu_ns(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (uint64_t)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000000ULL +
	       (uint64_t)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1000ULL;
}

static void
t_bench_fanout(void **state)
{
	uint64_t ns[2][3], cpu[2][3];
	struct fan f = {0};
	int r, m, k;

	(void)state;
	for (k = 0; k < FAN_NR; k++) {
		assert_int_equal(dss_xstream_create("fan", NULL, &f.f_xs[k]), 0);
		assert_int_equal(dss_xstream_start(f.f_xs[k]), 0);
	}
	for (r = 0; r < 3; r++) {
		for (m = 0; m < 2; m++) {
			uint64_t c0 = proc_cpu_ns();

			f.f_calls = m == 1;
			f.f_hits = 0;
			run_in_xstream(fan_main, &f);
			cpu[m][r] = (proc_cpu_ns() - c0) / FAN_ITERS;
			ns[m][r] = f.f_ns;
			assert_int_equal(f.f_hits, FAN_NR * FAN_ITERS);
		}
	}
	for (k = 0; k < FAN_NR; k++) {
		dss_xstream_stop(f.f_xs[k]);
		dss_xstream_destroy(f.f_xs[k]);
	}
	for (m = 0; m < 2; m++) {
		qsort(ns[m], 3, sizeof(ns[m][0]), u64_cmp);
		qsort(cpu[m], 3, sizeof(cpu[m][0]), u64_cmp);
	}
	printf("bench: fan-out to %d xstreams and back: %" PRIu64 " ns (CPU %" PRIu64
	       " ns) by ULTs, %" PRIu64 " ns (CPU %" PRIu64 " ns) by calls\n",
	       FAN_NR, ns[0][1], cpu[0][1], ns[1][1], cpu[1][1]);
}

static void
t_bench(void **state)
{
	struct bench b = {0};

	(void)state;
	run_in_xstream(bench_main, &b);
	printf("bench: %" PRIu64 " ns per yield (ULT -> loop -> ULT, %s), %" PRIu64
	       " ns per ULT create + join\n",
	       b.b_yield_ns, DSS_CTX_NAME, b.b_create_ns);
#ifndef DSS_ASAN
	{
		uint64_t ns[3][2];
		uint64_t med[2];
		int r, k;

		/* three rounds, alternating, medians: the machine is shared */
		for (r = 0; r < 3; r++)
			bench_raw(ns[r]);
		for (k = 0; k < 2; k++) {
			uint64_t v[3] = {ns[0][k], ns[1][k], ns[2][k]};

			qsort(v, 3, sizeof(v[0]), u64_cmp);
			med[k] = v[1];
		}
		printf("bench: raw switch %" PRIu64 " ns swapcontext, %" PRIu64
		       " ns sched_ctx_switch (%s): %.1f M/s vs %.1f M/s\n",
		       med[0], med[1], DSS_CTX_NAME, med[0] ? 1000.0 / (double)med[0] : 0.0,
		       med[1] ? 1000.0 / (double)med[1] : 0.0);
	}
#endif
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(t_yield_round_robin, setup, teardown),
	    cmocka_unit_test_setup_teardown(t_eventual_chain, setup, teardown),
	    cmocka_unit_test_setup_teardown(t_timers_order, setup, teardown),
	    cmocka_unit_test_setup_teardown(t_eventual_timedwait, setup, teardown),
	    cmocka_unit_test_setup_teardown(t_cross_thread_wake, setup, teardown),
	    cmocka_unit_test_setup_teardown(t_adaptive_spin, setup, teardown),
	    cmocka_unit_test_setup_teardown(t_nospin, setup, teardown),
	    cmocka_unit_test_setup_teardown(t_cpu_bind, setup, teardown),
	    cmocka_unit_test_setup_teardown(t_remote_create, setup, teardown),
	    cmocka_unit_test_setup_teardown(t_cross_xstream, setup, teardown),
	    cmocka_unit_test_setup_teardown(t_timeout_set_race, setup, teardown),
	    cmocka_unit_test_setup_teardown(t_mutex_cond, setup, teardown),
	    cmocka_unit_test_setup_teardown(t_stack_reuse, setup, teardown),
	    cmocka_unit_test_setup_teardown(t_idle_cpu, setup, teardown),
	    cmocka_unit_test_setup_teardown(t_stop_with_sleepers, setup, teardown),
	    cmocka_unit_test_setup_teardown(t_destroy_cancels, setup, teardown),
	    cmocka_unit_test_setup_teardown(t_alloc_failure, setup, teardown),
	    cmocka_unit_test_setup_teardown(t_block_outside_ult_asserts, setup, teardown),
	    cmocka_unit_test_setup_teardown(t_poller_del, setup, teardown),
	    cmocka_unit_test_setup_teardown(t_fp_tls, setup, teardown),
	    cmocka_unit_test_setup_teardown(t_deep_stack, setup, teardown),
	    cmocka_unit_test_setup_teardown(t_stack_overflow, setup, teardown),
	    cmocka_unit_test_setup_teardown(t_call_post, setup, teardown),
	    cmocka_unit_test_setup_teardown(t_bench, setup, teardown),
	    cmocka_unit_test_setup_teardown(t_bench_fanout, setup, teardown),
	};

	setvbuf(stdout, NULL, _IOLBF, 0);
	/* --bench: only the microbenchmarks */
	if (argc > 1 && strcmp(argv[1], "--bench") == 0)
		cmocka_set_test_filter("t_bench*");
	return cmocka_run_group_tests_name("engine_sched", tests, NULL, NULL);
}
