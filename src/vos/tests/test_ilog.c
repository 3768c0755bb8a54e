/*
 * test_ilog.c: the incarnation log (src/vos/ilog.c).
 *
 * The central check is a model: a plain array of every create and punch applied to a log,
 * from which the answer of a reader at any epoch is computed by brute force (the newest
 * event at or before it, and so on). After every step of a seeded random sequence the log
 * must give the model's answers, including after aggregations with random snapshot lists
 * for the readers aggregation promises to keep. Around it: the heap's redo records must
 * rebuild the log exactly (so nothing changes without umem_tx_add), growth and shrinking of
 * the array, space returned by destroy, aborted transactions, every allocation failed in
 * turn, and corrupt roots.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>

#include <gurt/common.h>
#include <gurt/fault_inject.h>
#include <daos_srv/umem.h>
#include <d_test.h>

#include "vos_internal.h"
#include "ilog.h"

#define HEAP_SIZE (4UL << 20)
#define NR_LOGS 6
#define MAX_EVENTS 4096
#define MAX_SNAPS 8
#define ILOG_NONE_TEST UINT32_MAX /* "no punch" in an array header, see ilog.c */
#define WINDOW 40                 /* updates of the model test land in (bound, bound + WINDOW] */

/* A copy of the heap built only from the redo records the heap commits. */
struct replica {
	char *image;
	size_t size;
	uint64_t lsn;
	uint64_t commits;
};

struct ctx {
	struct umem_instance *umm;
	struct replica rep;
	struct ilog_df *roots; /* NR_LOGS roots in the heap's root object */
};

static int
replica_commit(void *arg, const struct umem_redo *redo, uint64_t *lsn)
{
	struct replica *r = arg;

	assert_int_equal(umem_redo_apply(r->image, r->size, redo), 0);
	r->commits++;
	*lsn = ++r->lsn;
	return 0;
}

static const struct umem_store_ops replica_ops = {.so_commit = replica_commit};

static void
ctx_init(struct ctx *c)
{
	memset(c, 0, sizeof(*c));
	c->rep.size = HEAP_SIZE;
	c->rep.image = malloc(HEAP_SIZE);
	assert_non_null(c->rep.image);
	assert_int_equal(umem_create(HEAP_SIZE, NR_LOGS * sizeof(struct ilog_df), &replica_ops,
				     &c->rep, &c->umm),
			 0);
	memcpy(c->rep.image, umem_base(c->umm), HEAP_SIZE);
	c->roots = umem_off2ptr(c->umm, umem_root(c->umm));
}

static void
ctx_fini(struct ctx *c)
{
	umem_close(c->umm);
	free(c->rep.image);
}

/* The heap equals its replica, free space aside. */
static void
assert_replica_equal(struct ctx *c)
{
	static char *a, *b;

	if (a == NULL) {
		a = malloc(HEAP_SIZE);
		b = malloc(HEAP_SIZE);
		assert_non_null(a);
		assert_non_null(b);
	}
	memcpy(a, c->rep.image, HEAP_SIZE);
	memcpy(b, umem_base(c->umm), HEAP_SIZE);
	assert_int_equal(umem_image_zero_free(a, HEAP_SIZE), 0);
	assert_int_equal(umem_image_zero_free(b, HEAP_SIZE), 0);
	assert_memory_equal(a, b, HEAP_SIZE);
}

static struct ilog_info
query(struct ctx *c, int log, uint64_t epoch)
{
	struct ilog_info info;

	assert_int_equal(ilog_query(c->umm, &c->roots[log], epoch, &info), 0);
	return info;
}

static uint32_t
nr_entries(struct ctx *c, int log)
{
	struct ilog_entries ents;

	assert_int_equal(ilog_fetch(c->umm, &c->roots[log], 0, ILOG_EPOCH_MAX, &ents), 0);
	return ents.ie_nr;
}

static struct umem_stats
stats(struct ctx *c)
{
	struct umem_stats st;

	umem_query(c->umm, &st);
	return st;
}

/* The brute-force model: every event ever applied (and accepted) to one log. */
struct event {
	uint64_t epoch;
	uint16_t minor;
	bool punch;
};

struct mlog {
	struct event ev[MAX_EVENTS];
	int nr;
	uint64_t bound; /* aggregated up to here: readers at or below it are not promised */
	uint64_t snaps[MAX_SNAPS];
	int nr_snaps; /* snapshots <= bound that stay readable */
};

/* Newest minors of each kind at @epoch. */
static void
model_minors(const struct mlog *m, uint64_t epoch, uint16_t *u, uint16_t *p)
{
	int i;

	*u = *p = 0;
	for (i = 0; i < m->nr; i++) {
		const struct event *e = &m->ev[i];

		if (e->epoch != epoch)
			continue;
		if (e->punch && e->minor > *p)
			*p = e->minor;
		if (!e->punch && e->minor > *u)
			*u = e->minor;
	}
}

/* Would the log accept this event? (A create and a punch may not tie as the newest.) */
static bool
model_accepts(const struct mlog *m, const struct event *ev)
{
	uint16_t u, p;

	model_minors(m, ev->epoch, &u, &p);
	if (ev->punch && ev->minor > p)
		p = ev->minor;
	if (!ev->punch && ev->minor > u)
		u = ev->minor;
	return u != p;
}

static bool
epc_later(uint64_t e1, uint16_t m1, uint64_t e2, uint16_t m2)
{
	return e1 > e2 || (e1 == e2 && m1 > m2);
}

/* What a reader at @epoch sees, from the definition. */
static struct ilog_info
model_query(const struct mlog *m, uint64_t epoch)
{
	struct ilog_info info = {0};
	uint64_t ce = 0;
	uint16_t cm = 0;
	int i;

	for (i = 0; i < m->nr; i++) {
		const struct event *e = &m->ev[i];

		if (e->epoch > epoch)
			continue;
		if (e->punch &&
		    epc_later(e->epoch, e->minor, info.ii_punch.ec_epoch, info.ii_punch.ec_minor)) {
			info.ii_punch.ec_epoch = e->epoch;
			info.ii_punch.ec_minor = e->minor;
		}
		if (!e->punch && epc_later(e->epoch, e->minor, ce, cm)) {
			ce = e->epoch;
			cm = e->minor;
		}
	}
	if (ce == 0 || !epc_later(ce, cm, info.ii_punch.ec_epoch, info.ii_punch.ec_minor))
		return info;
	info.ii_visible = true;
	info.ii_last_create = ce;
	info.ii_create = ce;
	for (i = 0; i < m->nr; i++) {
		const struct event *e = &m->ev[i];

		if (!e->punch && e->epoch <= epoch && e->epoch < info.ii_create &&
		    epc_later(e->epoch, e->minor, info.ii_punch.ec_epoch, info.ii_punch.ec_minor))
			info.ii_create = e->epoch;
	}
	return info;
}

static bool
info_equal(const struct ilog_info *a, const struct ilog_info *b)
{
	return a->ii_visible == b->ii_visible && a->ii_create == b->ii_create &&
	       a->ii_last_create == b->ii_last_create &&
	       a->ii_punch.ec_epoch == b->ii_punch.ec_epoch &&
	       a->ii_punch.ec_minor == b->ii_punch.ec_minor;
}

static void
assert_info(const struct ilog_info *got, const struct ilog_info *want, const char *what,
	    uint64_t epoch)
{
	if (info_equal(got, want))
		return;
	print_error("%s at epoch %" PRIu64 ": got visible=%d create=%" PRIu64 " last=%" PRIu64
		    " punch=%" PRIu64 ".%u, want visible=%d create=%" PRIu64 " last=%" PRIu64
		    " punch=%" PRIu64 ".%u\n",
		    what, epoch, got->ii_visible, got->ii_create, got->ii_last_create,
		    got->ii_punch.ec_epoch, got->ii_punch.ec_minor, want->ii_visible,
		    want->ii_create, want->ii_last_create, want->ii_punch.ec_epoch,
		    want->ii_punch.ec_minor);
	fail();
}

static uint64_t
model_max_epoch(const struct mlog *m)
{
	uint64_t max = m->bound;
	int i;

	for (i = 0; i < m->nr; i++)
		if (m->ev[i].epoch > max)
			max = m->ev[i].epoch;
	return max;
}

/* Compare a log with its model for every reader it promises to keep. */
static void
check_log(struct ctx *c, int log, const struct mlog *m, uint64_t *rng)
{
	uint64_t top = model_max_epoch(m) + 3, e;
	uint16_t u[WINDOW + 4], p[WINDOW + 4];
	struct ilog_entries ents;
	struct ilog_info got, want;
	uint32_t n = 0;
	int i;

	assert_int_equal(ilog_check(c->umm, &c->roots[log]), 0);
	for (i = 0; i < 24; i++) {
		e = m->bound + 1 + d_test_rand(rng) % (top - m->bound);
		got = query(c, log, e);
		want = model_query(m, e);
		assert_info(&got, &want, "random reader", e);
	}
	for (i = 0; i < m->nr_snaps; i++) {
		got = query(c, log, m->snaps[i]);
		want = model_query(m, m->snaps[i]);
		assert_info(&got, &want, "snapshot reader", m->snaps[i]);
	}
	got = query(c, log, ILOG_EPOCH_MAX);
	want = model_query(m, ILOG_EPOCH_MAX);
	assert_info(&got, &want, "reader at max", ILOG_EPOCH_MAX);
	assert_true(ilog_is_punched(c->umm, &c->roots[log]) ==
		    (nr_entries(c, log) > 0 && !want.ii_visible));
	if (m->bound == 0) {
		/* nothing aggregated: the earliest create event is still recorded */
		struct ilog_epc epc, first = {0, 0};

		for (i = 0; i < m->nr; i++)
			if (!m->ev[i].punch &&
			    (first.ec_epoch == 0 || m->ev[i].epoch < first.ec_epoch))
				first.ec_epoch = m->ev[i].epoch;
		if (first.ec_epoch == 0) {
			assert_int_equal(ilog_earliest_create(c->umm, &c->roots[log], &epc),
					 -DER_NONEXIST);
		} else {
			uint16_t pm;

			model_minors(m, first.ec_epoch, &first.ec_minor, &pm);
			assert_int_equal(ilog_earliest_create(c->umm, &c->roots[log], &epc), 0);
			assert_int_equal(epc.ec_epoch, first.ec_epoch);
			assert_int_equal(epc.ec_minor, first.ec_minor);
		}
	}

	/* above the bound, the entries are exactly the model's per-epoch newest minors */
	assert_true(top - m->bound <= WINDOW + 3);
	memset(u, 0, sizeof(u));
	memset(p, 0, sizeof(p));
	for (i = 0; i < m->nr; i++) {
		const struct event *ev = &m->ev[i];
		uint16_t *slot;

		if (ev->epoch <= m->bound)
			continue;
		slot = ev->punch ? &p[ev->epoch - m->bound] : &u[ev->epoch - m->bound];
		if (ev->minor > *slot)
			*slot = ev->minor;
	}
	assert_int_equal(ilog_fetch(c->umm, &c->roots[log], m->bound + 1, ILOG_EPOCH_MAX, &ents),
			 0);
	for (e = 1; e <= top - m->bound; e++) {
		if (u[e] == 0 && p[e] == 0)
			continue;
		assert_true(n < ents.ie_nr);
		assert_int_equal(ents.ie_ents[n].le_epoch, m->bound + e);
		assert_int_equal(ents.ie_ents[n].le_update_minor, u[e]);
		assert_int_equal(ents.ie_ents[n].le_punch_minor, p[e]);
		assert_int_equal(ents.ie_ents[n].le_tx, 0);
		n++;
	}
	assert_int_equal(n, ents.ie_nr);
}

/* Apply an update to the log and the model; the log must accept exactly what the model does. */
static void
apply(struct ctx *c, int log, struct mlog *m, uint64_t epoch, uint16_t minor, bool punch)
{
	struct event ev = {epoch, minor, punch};
	int rc;

	rc = ilog_update(c->umm, &c->roots[log], epoch, minor, punch);
	if (!model_accepts(m, &ev)) {
		assert_int_equal(rc, -DER_NO_PERM);
		return;
	}
	assert_int_equal(rc, 0);
	assert_true(m->nr < MAX_EVENTS);
	m->ev[m->nr++] = ev;
}

/* Basic semantics, by hand. */
static void
t_ilog_basic(void **state)
{
	struct ctx c;
	struct ilog_info info;
	struct ilog_entries ents;
	struct ilog_epc epc;
	struct ilog_df *log;
	uint64_t commits;

	(void)state;
	ctx_init(&c);
	log = &c.roots[0];
	assert_int_equal(ilog_create(c.umm, log), 0);
	assert_true(ilog_is_empty(log));
	assert_false(ilog_is_punched(c.umm, log));
	info = query(&c, 0, ILOG_EPOCH_MAX);
	assert_false(info.ii_visible);
	assert_int_equal(info.ii_punch.ec_epoch, 0);
	assert_int_equal(ilog_earliest_create(c.umm, log, &epc), -DER_NONEXIST);
	assert_int_equal(ilog_fetch(c.umm, log, 0, ILOG_EPOCH_MAX, &ents), 0);
	assert_int_equal(ents.ie_nr, 0);

	/* bad arguments are refused before anything changes */
	assert_int_equal(ilog_update(c.umm, log, 0, 1, false), -DER_INVAL);
	assert_int_equal(ilog_update(c.umm, log, 5, 0, true), -DER_INVAL);
	assert_true(ilog_is_empty(log));

	/* a create: visible from its epoch on */
	assert_int_equal(ilog_update(c.umm, log, 10, 1, false), 0);
	assert_false(ilog_is_empty(log));
	assert_false(query(&c, 0, 9).ii_visible);
	info = query(&c, 0, 10);
	assert_true(info.ii_visible);
	assert_int_equal(info.ii_create, 10);
	assert_int_equal(info.ii_last_create, 10);
	assert_int_equal(info.ii_punch.ec_epoch, 0);

	/* a punch hides the key and everything written at or before it */
	assert_int_equal(ilog_update(c.umm, log, 20, 1, true), 0);
	assert_true(query(&c, 0, 19).ii_visible);
	info = query(&c, 0, 20);
	assert_false(info.ii_visible);
	assert_int_equal(info.ii_punch.ec_epoch, 20);
	assert_int_equal(info.ii_punch.ec_minor, 1);
	assert_true(ilog_is_punched(c.umm, log));
	assert_true(ilog_epc_punched(20, 1, &info.ii_punch));
	assert_true(ilog_epc_punched(15, ILOG_MINOR_MAX, &info.ii_punch));
	assert_false(ilog_epc_punched(20, 2, &info.ii_punch));

	/* a repeat, or an older minor of the same kind, changes nothing and commits nothing */
	commits = c.rep.commits;
	assert_int_equal(ilog_update(c.umm, log, 20, 1, true), 0);
	assert_int_equal(ilog_update(c.umm, log, 10, 1, false), 0);
	assert_int_equal(c.rep.commits, commits);

	/* same epoch: the minor epoch orders create and punch */
	assert_int_equal(ilog_update(c.umm, log, 30, 2, false), 0);
	assert_int_equal(ilog_update(c.umm, log, 30, 1, true), 0);
	info = query(&c, 0, 30);
	assert_true(info.ii_visible);
	assert_int_equal(info.ii_create, 30);
	assert_int_equal(info.ii_punch.ec_epoch, 30);
	assert_int_equal(info.ii_punch.ec_minor, 1);
	assert_true(ilog_epc_punched(30, 1, &info.ii_punch));
	assert_false(ilog_epc_punched(30, 2, &info.ii_punch));
	assert_int_equal(ilog_update(c.umm, log, 30, 3, true), 0);
	assert_false(query(&c, 0, 30).ii_visible);
	/* a create tying with the newest punch of its epoch has no defined order */
	commits = c.rep.commits;
	assert_int_equal(ilog_update(c.umm, log, 30, 3, false), -DER_NO_PERM);
	assert_int_equal(c.rep.commits, commits);
	assert_int_equal(ilog_update(c.umm, log, 30, 4, false), 0);
	assert_true(query(&c, 0, 30).ii_visible);

	/* out of order: a punch below existing entries */
	assert_int_equal(ilog_update(c.umm, log, 50, ILOG_MINOR_MAX, false), 0);
	assert_int_equal(ilog_update(c.umm, log, 40, ILOG_MINOR_MAX, true), 0);
	info = query(&c, 0, 45);
	assert_false(info.ii_visible);
	assert_int_equal(info.ii_punch.ec_epoch, 40);
	info = query(&c, 0, 60);
	assert_true(info.ii_visible);
	assert_int_equal(info.ii_create, 50);
	assert_int_equal(info.ii_punch.ec_epoch, 40);
	assert_false(ilog_is_punched(c.umm, log));

	/* an earlier create in the current incarnation moves its start */
	assert_int_equal(ilog_update(c.umm, log, 45, 1, false), 0);
	info = query(&c, 0, 60);
	assert_int_equal(info.ii_create, 45);
	assert_int_equal(info.ii_last_create, 50);

	assert_int_equal(ilog_earliest_create(c.umm, log, &epc), 0);
	assert_int_equal(epc.ec_epoch, 10);
	assert_int_equal(epc.ec_minor, 1);
	/* a log that starts with a punch */
	assert_int_equal(ilog_update(c.umm, &c.roots[1], 5, 1, true), 0);
	assert_int_equal(ilog_earliest_create(c.umm, &c.roots[1], &epc), -DER_NONEXIST);
	assert_int_equal(ilog_update(c.umm, &c.roots[1], 7, 3, false), 0);
	assert_int_equal(ilog_update(c.umm, &c.roots[1], 7, 2, true), 0);
	assert_int_equal(ilog_earliest_create(c.umm, &c.roots[1], &epc), 0);
	assert_int_equal(epc.ec_epoch, 7);
	assert_int_equal(epc.ec_minor, 3);
	assert_int_equal(ilog_destroy(c.umm, &c.roots[1]), 0);
	assert_int_equal(ilog_fetch(c.umm, log, 20, 45, &ents), 0);
	assert_int_equal(ents.ie_nr, 4); /* 20, 30, 40, 45 */
	assert_int_equal(ents.ie_ents[0].le_epoch, 20);
	assert_true(ilog_entry_is_punch(&ents.ie_ents[0]));
	assert_int_equal(ents.ie_ents[1].le_punch_minor, 3);
	assert_int_equal(ents.ie_ents[1].le_update_minor, 4);
	assert_false(ilog_entry_is_punch(&ents.ie_ents[1]));
	assert_int_equal(ents.ie_ents[3].le_epoch, 45);
	assert_int_equal(ilog_fetch(c.umm, log, 46, 49, &ents), 0);
	assert_int_equal(ents.ie_nr, 0);
	assert_int_equal(ilog_fetch(c.umm, log, 60, 50, &ents), 0);
	assert_int_equal(ents.ie_nr, 0);

	assert_int_equal(ilog_check(c.umm, log), 0);
	assert_replica_equal(&c);
	assert_int_equal(ilog_destroy(c.umm, log), 0);
	assert_true(ilog_is_empty(log));
	ctx_fini(&c);
}

/* Pick a new aggregation bound and snapshot list for @m and aggregate the log. */
static void
random_aggregate(struct ctx *c, int log, struct mlog *m, uint64_t *rng)
{
	uint64_t top = model_max_epoch(m), bound, snaps[MAX_SNAPS];
	struct ilog_info before[MAX_SNAPS + 1];
	struct ilog_info got;
	bool any_visible = false;
	int nr = 0, i, rc;

	/* often everything, else anywhere from the old bound to just past the newest entry */
	if (d_test_rand(rng) % 4 == 0)
		bound = top + 1;
	else
		bound = m->bound + d_test_rand(rng) % (top - m->bound + 2);
	/* keep some of the old snapshots, take new ones in (old bound, bound] */
	for (i = 0; i < m->nr_snaps; i++)
		if (d_test_rand(rng) % 4 != 0)
			snaps[nr++] = m->snaps[i];
	while (nr < MAX_SNAPS && bound > m->bound && d_test_rand(rng) % 3 != 0)
		snaps[nr++] = m->bound + 1 + d_test_rand(rng) % (bound - m->bound);

	for (i = 0; i < nr; i++) {
		before[i] = query(c, log, snaps[i]);
		any_visible |= before[i].ii_visible;
	}
	before[nr] = query(c, log, bound);
	any_visible |= before[nr].ii_visible;

	rc = ilog_aggregate(c->umm, &c->roots[log], bound, snaps, (uint32_t)nr);
	assert_true(rc == 0 || rc == ILOG_AGG_EMPTY);
	if (rc == ILOG_AGG_EMPTY) {
		/* nobody could see the key, and nothing happened after the bound */
		assert_false(any_visible);
		assert_true(ilog_is_empty(&c->roots[log]));
		m->nr = 0;
	} else {
		struct ilog_entries ents;
		uint32_t below;

		assert_false(ilog_is_empty(&c->roots[log]));
		for (i = 0; i < nr; i++) {
			got = query(c, log, snaps[i]);
			assert_info(&got, &before[i], "snapshot after aggregation", snaps[i]);
		}
		got = query(c, log, bound);
		assert_info(&got, &before[nr], "bound after aggregation", bound);
		/* at most three entries per kept reader remain at or below the bound */
		assert_int_equal(ilog_fetch(c->umm, &c->roots[log], 0, bound, &ents), 0);
		below = ents.ie_nr;
		assert_true(below <= 3 * (uint32_t)(nr + 1));
		/* a second pass finds nothing more to remove */
		assert_int_equal(ilog_aggregate(c->umm, &c->roots[log], bound, snaps, (uint32_t)nr),
				 0);
		assert_int_equal(ilog_fetch(c->umm, &c->roots[log], 0, bound, &ents), 0);
		assert_int_equal(ents.ie_nr, below);
	}
	m->bound = bound;
	m->nr_snaps = nr;
	memcpy(m->snaps, snaps, sizeof(snaps[0]) * (size_t)nr);
}

/*
 * Seeded random creates and punches on a handful of logs, with aggregations and destroys,
 * checked against the model after every step.
 */
static void
t_ilog_model(void **state)
{
	static struct mlog models[NR_LOGS];
	unsigned int seed = d_test_seed("vos_test_ilog model");
	uint64_t rng = d_test_rand_seed(seed);
	struct ctx c;
	int step, aggs = 0, empties = 0, rejects = 0;

	(void)state;
	memset(models, 0, sizeof(models));
	ctx_init(&c);
	for (step = 0; step < 6000; step++) {
		int log = (int)(d_test_rand(&rng) % NR_LOGS);
		struct mlog *m = &models[log];
		uint64_t r = d_test_rand(&rng) % 100;

		if (r < 85 && m->nr < MAX_EVENTS - 1) {
			/* a small epoch window above the bound makes collisions common */
			uint64_t epoch = m->bound + 1 + d_test_rand(&rng) % WINDOW;
			uint16_t minor = d_test_rand(&rng) % 8 == 0
					     ? ILOG_MINOR_MAX
					     : (uint16_t)(1 + d_test_rand(&rng) % 4);
			int before = m->nr;

			apply(&c, log, m, epoch, minor, d_test_rand(&rng) % 5 < 2);
			rejects += m->nr == before;
		} else if (r < 97) {
			int nr = m->nr;

			random_aggregate(&c, log, m, &rng);
			aggs++;
			empties += nr > 0 && m->nr == 0;
		} else {
			assert_int_equal(ilog_destroy(c.umm, &c.roots[log]), 0);
			assert_true(ilog_is_empty(&c.roots[log]));
			m->nr = 0;
		}
		check_log(&c, log, m, &rng);
		if (step % 256 == 0)
			assert_replica_equal(&c);
	}
	assert_replica_equal(&c);
	printf("model: 6000 steps, %d aggregations (%d emptied the log), %d ties refused\n", aggs,
	       empties, rejects);
	assert_true(aggs > 100 && empties > 0);
	ctx_fini(&c);
}

/*
 * Aggregation on its own, with random logs and random snapshot lists: every snapshot and
 * every epoch above the bound answers as before.
 */
static void
t_ilog_aggregate_random(void **state)
{
	static struct mlog m;
	unsigned int seed = d_test_seed("vos_test_ilog aggregate");
	uint64_t rng = d_test_rand_seed(seed);
	struct ctx c;
	int round, empties = 0, shrunk = 0;

	(void)state;
	ctx_init(&c);
	for (round = 0; round < 400; round++) {
		uint64_t span = 4 + d_test_rand(&rng) % 200, bound, snaps[MAX_SNAPS], e;
		int nev = (int)(1 + d_test_rand(&rng) % 300), nr, i, rc;
		struct ilog_info *above;
		uint32_t entries;

		memset(&m, 0, sizeof(m));
		assert_int_equal(ilog_destroy(c.umm, &c.roots[0]), 0);
		for (i = 0; i < nev; i++)
			apply(&c, 0, &m, 1 + d_test_rand(&rng) % span,
			      (uint16_t)(1 + d_test_rand(&rng) % 3), d_test_rand(&rng) % 3 == 0);
		entries = nr_entries(&c, 0);
		bound = d_test_rand(&rng) % 5 == 0 ? span + 1 : d_test_rand(&rng) % (span + 2);
		/* no snapshots a third of the time: the log may then collapse */
		nr = d_test_rand(&rng) % 3 == 0 ? 0 : (int)(d_test_rand(&rng) % (MAX_SNAPS + 1));
		for (i = 0; i < nr; i++)
			snaps[i] = 1 + d_test_rand(&rng) % (span + 4); /* some above the bound */

		above = calloc(span + 8, sizeof(*above));
		assert_non_null(above);
		for (e = bound + 1; e < span + 8; e++)
			above[e] = query(&c, 0, e);
		rc = ilog_aggregate(c.umm, &c.roots[0], bound, snaps, (uint32_t)nr);
		assert_true(rc == 0 || rc == ILOG_AGG_EMPTY);
		assert_int_equal(ilog_check(c.umm, &c.roots[0]), 0);
		if (rc == ILOG_AGG_EMPTY) {
			empties++;
			assert_true(ilog_is_empty(&c.roots[0]));
			for (i = 0; i < nr; i++)
				assert_false(model_query(&m, snaps[i]).ii_visible);
			for (e = bound + 1; e < span + 8; e++)
				assert_false(above[e].ii_visible);
		} else {
			struct ilog_info got, want;

			for (i = 0; i < nr; i++) {
				got = query(&c, 0, snaps[i]);
				want = model_query(&m, snaps[i]);
				assert_info(&got, &want, "snapshot", snaps[i]);
			}
			for (e = bound + 1; e < span + 8; e++) {
				got = query(&c, 0, e);
				assert_info(&got, &above[e], "above the bound", e);
				want = model_query(&m, e);
				assert_info(&got, &want, "model above the bound", e);
			}
			got = query(&c, 0, ILOG_EPOCH_MAX);
			want = model_query(&m, ILOG_EPOCH_MAX);
			assert_info(&got, &want, "max", ILOG_EPOCH_MAX);
		}
		shrunk += nr_entries(&c, 0) < entries;
		free(above);
		if (round % 50 == 0)
			assert_replica_equal(&c);
	}
	assert_replica_equal(&c);
	printf("aggregate: 400 rounds, %d shrank the log, %d emptied it\n", shrunk, empties);
	assert_true(shrunk > 100 && empties > 0);
	ctx_fini(&c);
}

/* Size of the array the log should occupy with @nr entries (0: inline or empty). */
static uint64_t
array_bytes(uint32_t nr)
{
	uint64_t size = 64;

	if (nr <= 1)
		return 0;
	while ((size - 16) / 16 < nr)
		size *= 2;
	return size;
}

/* Inline -> out of line, doubling, and back down after aggregation. */
static void
t_ilog_growth(void **state)
{
	struct ctx c;
	struct umem_stats base, st;
	struct ilog_info info;
	uint32_t n;

	(void)state;
	ctx_init(&c);
	base = stats(&c);
	for (n = 1; n <= 1000; n++) {
		assert_int_equal(ilog_update(c.umm, &c.roots[0], n, 1, false), 0);
		st = stats(&c);
		assert_int_equal(st.us_used - base.us_used, array_bytes(n));
		assert_int_equal(st.us_nr_allocs - base.us_nr_allocs, n > 1);
		if (n % 97 == 0)
			assert_int_equal(ilog_check(c.umm, &c.roots[0]), 0);
	}
	assert_int_equal(nr_entries(&c, 0), 1000);
	assert_replica_equal(&c);

	/* reverse order into another log: every insert shifts the array */
	for (n = 1000; n >= 1; n--)
		assert_int_equal(ilog_update(c.umm, &c.roots[1], n, 1, n % 10 == 0), 0);
	assert_int_equal(ilog_check(c.umm, &c.roots[1]), 0);
	info = query(&c, 1, 555);
	assert_true(info.ii_visible);
	assert_int_equal(info.ii_create, 551);
	assert_int_equal(info.ii_punch.ec_epoch, 550);
	assert_int_equal(ilog_destroy(c.umm, &c.roots[1]), 0);

	/* all creates: the first and the last are what a reader above the bound needs */
	assert_int_equal(ilog_aggregate(c.umm, &c.roots[0], 1000, NULL, 0), 0);
	assert_int_equal(nr_entries(&c, 0), 2);
	st = stats(&c);
	assert_int_equal(st.us_used - base.us_used, 64);
	info = query(&c, 0, 2000);
	assert_int_equal(info.ii_create, 1);
	assert_int_equal(info.ii_last_create, 1000);

	/* punch and re-create within one epoch: one entry answers every reader: inline again */
	assert_int_equal(ilog_update(c.umm, &c.roots[0], 1001, 1, true), 0);
	assert_int_equal(ilog_update(c.umm, &c.roots[0], 1001, 2, false), 0);
	assert_int_equal(ilog_aggregate(c.umm, &c.roots[0], 1001, NULL, 0), 0);
	assert_int_equal(nr_entries(&c, 0), 1);
	st = stats(&c);
	assert_int_equal(st.us_used, base.us_used);
	assert_int_equal(st.us_nr_allocs, base.us_nr_allocs);
	info = query(&c, 0, 1001);
	assert_true(info.ii_visible);
	assert_int_equal(info.ii_create, 1001);
	assert_int_equal(info.ii_punch.ec_epoch, 1001);
	assert_int_equal(info.ii_punch.ec_minor, 1);

	/* grow again, then punch everything: aggregation empties the log */
	for (n = 1002; n < 1100; n++)
		assert_int_equal(ilog_update(c.umm, &c.roots[0], n, 7, false), 0);
	assert_int_equal(ilog_update(c.umm, &c.roots[0], 1100, 7, true), 0);
	assert_true(ilog_is_punched(c.umm, &c.roots[0]));
	/* a snapshot that sees the key keeps what it needs */
	assert_int_equal(ilog_aggregate(c.umm, &c.roots[0], 1100, (uint64_t[]){1050}, 1), 0);
	assert_int_equal(nr_entries(&c, 0), 3); /* 1001 (punch + create), 1050, 1100 */
	st = stats(&c);
	assert_int_equal(st.us_used - base.us_used, 64);
	assert_int_equal(ilog_aggregate(c.umm, &c.roots[0], 1100, NULL, 0), ILOG_AGG_EMPTY);
	assert_true(ilog_is_empty(&c.roots[0]));
	assert_int_equal(ilog_aggregate(c.umm, &c.roots[0], 1100, NULL, 0), ILOG_AGG_EMPTY);
	st = stats(&c);
	assert_int_equal(st.us_used, base.us_used);
	assert_int_equal(st.us_nr_allocs, base.us_nr_allocs);
	assert_replica_equal(&c);
	ctx_fini(&c);
}

/* Destroy returns every byte, whatever the log's form. */
static void
t_ilog_destroy(void **state)
{
	struct ctx c;
	struct umem_stats base, st;
	int log, n;

	(void)state;
	ctx_init(&c);
	base = stats(&c);
	for (log = 0; log < NR_LOGS; log++)
		for (n = 0; n < log * log * 40; n++)
			assert_int_equal(ilog_update(c.umm, &c.roots[log], (uint64_t)n + 1,
						     (uint16_t)(n % 3 + 1), n % 7 == 3),
					 0);
	st = stats(&c);
	assert_true(st.us_used > base.us_used);
	for (log = 0; log < NR_LOGS; log++) {
		assert_int_equal(ilog_destroy(c.umm, &c.roots[log]), 0);
		assert_true(ilog_is_empty(&c.roots[log]));
		assert_int_equal(ilog_destroy(c.umm, &c.roots[log]), 0);
	}
	st = stats(&c);
	assert_int_equal(st.us_used, base.us_used);
	assert_int_equal(st.us_nr_allocs, base.us_nr_allocs);
	assert_int_equal(st.us_free, base.us_free);
	assert_replica_equal(&c);
	ctx_fini(&c);
}

/* A copy of everything observable about a log. */
struct snap {
	struct ilog_df root;
	struct ilog_entry_df ents[1200];
	uint32_t nr;
	struct umem_stats st;
};

static void
snap_take(struct ctx *c, int log, struct snap *s)
{
	struct ilog_entries ents;

	s->root = c->roots[log];
	assert_int_equal(ilog_fetch(c->umm, &c->roots[log], 0, ILOG_EPOCH_MAX, &ents), 0);
	assert_true(ents.ie_nr <= D_ARRAY_SIZE(s->ents));
	s->nr = ents.ie_nr;
	if (s->nr > 0) /* ie_ents is NULL without entries */
		memcpy(s->ents, ents.ie_ents, sizeof(s->ents[0]) * s->nr);
	umem_query(c->umm, &s->st);
}

static void
snap_assert_equal(struct ctx *c, int log, const struct snap *want)
{
	static struct snap got;

	snap_take(c, log, &got);
	assert_memory_equal(&got.root, &want->root, sizeof(got.root));
	assert_int_equal(got.nr, want->nr);
	if (got.nr > 0)
		assert_memory_equal(got.ents, want->ents, sizeof(got.ents[0]) * got.nr);
	assert_int_equal(got.st.us_used, want->st.us_used);
	assert_int_equal(got.st.us_nr_allocs, want->st.us_nr_allocs);
	assert_int_equal(ilog_check(c->umm, &c->roots[log]), 0);
}

/* An aborted outer transaction leaves every log exactly as it was. */
static void
t_ilog_abort(void **state)
{
	static struct snap before[3];
	struct ctx c;
	uint64_t commits;
	int n, log;

	(void)state;
	ctx_init(&c);
	/* log 0 empty, log 1 inline, log 2 a full array (7 entries) */
	assert_int_equal(ilog_update(c.umm, &c.roots[1], 100, 1, false), 0);
	for (n = 1; n <= 7; n++)
		assert_int_equal(ilog_update(c.umm, &c.roots[2], (uint64_t)n * 10, 1, n == 4), 0);
	for (log = 0; log < 3; log++)
		snap_take(&c, log, &before[log]);
	commits = c.rep.commits;

	assert_int_equal(umem_tx_begin(c.umm), 0);
	for (n = 1; n <= 40; n++) {
		assert_int_equal(ilog_update(c.umm, &c.roots[0], (uint64_t)n, 2, n % 5 == 0), 0);
		assert_int_equal(ilog_update(c.umm, &c.roots[1], (uint64_t)n * 3, 1, n % 4 == 0),
				 0);
		assert_int_equal(ilog_update(c.umm, &c.roots[2], (uint64_t)n * 7 + 1, 3, false), 0);
	}
	assert_int_equal(ilog_aggregate(c.umm, &c.roots[2], 200, NULL, 0), 0);
	assert_int_equal(ilog_aggregate(c.umm, &c.roots[0], 20, (uint64_t[]){7}, 1), 0);
	assert_int_equal(ilog_destroy(c.umm, &c.roots[1]), 0);
	assert_int_equal(umem_tx_end(c.umm, -DER_CANCELED), -DER_CANCELED);

	assert_int_equal(c.rep.commits, commits);
	for (log = 0; log < 3; log++)
		snap_assert_equal(&c, log, &before[log]);
	assert_replica_equal(&c);

	/* the same inside a committed outer transaction is one commit */
	assert_int_equal(umem_tx_begin(c.umm), 0);
	for (n = 1; n <= 40; n++)
		assert_int_equal(ilog_update(c.umm, &c.roots[2], (uint64_t)n * 7 + 1, 3, false), 0);
	assert_int_equal(umem_tx_end(c.umm, 0), 0);
	assert_int_equal(c.rep.commits, commits + 1);
	assert_replica_equal(&c);

	/* a refused update inside an outer transaction does not doom it */
	assert_int_equal(umem_tx_begin(c.umm), 0);
	assert_int_equal(ilog_update(c.umm, &c.roots[2], 40, 1, false), -DER_NO_PERM);
	assert_int_equal(ilog_update(c.umm, &c.roots[2], 0, 1, false), -DER_INVAL);
	assert_int_equal(ilog_update(c.umm, &c.roots[2], 1000, 1, false), 0);
	assert_int_equal(umem_tx_end(c.umm, 0), 0);
	assert_true(query(&c, 2, 1000).ii_visible);
	assert_replica_equal(&c);
	ctx_fini(&c);
}

/*
 * The first entry of an empty log written inside a transaction (ilog_update's fast path,
 * every new VOS key): the same log bytes, answers and replica as outside one, a refusal
 * after it that does not doom the transaction, and an abort that empties the log again.
 */
static void
t_ilog_first_in_tx(void **state)
{
	struct ctx c;
	int kind;

	(void)state;
	ctx_init(&c);
	for (kind = 0; kind < 2; kind++) {
		bool punch = kind == 1;

		/* log 0 outside a transaction, log 1 inside one */
		assert_int_equal(ilog_update(c.umm, &c.roots[0], 50, 5, punch), 0);
		assert_int_equal(umem_tx_begin(c.umm), 0);
		assert_int_equal(ilog_update(c.umm, &c.roots[1], 0, 5, punch), -DER_INVAL);
		assert_int_equal(ilog_update(c.umm, &c.roots[1], 50, 0, punch), -DER_INVAL);
		assert_int_equal(ilog_update(c.umm, &c.roots[1], 50, 5, punch), 0);
		assert_int_equal(ilog_update(c.umm, &c.roots[1], 50, 5, !punch), -DER_NO_PERM);
		assert_int_equal(ilog_update(c.umm, &c.roots[1], 50, 5, punch), 0); /* a repeat */
		assert_int_equal(umem_tx_end(c.umm, 0), 0);
		assert_memory_equal(&c.roots[0], &c.roots[1], sizeof(c.roots[0]));
		assert_int_equal(ilog_check(c.umm, &c.roots[1]), 0);
		assert_int_equal(nr_entries(&c, 1), 1);
		assert_int_equal(query(&c, 1, 60).ii_visible, !punch);
		assert_int_equal(query(&c, 1, 49).ii_visible, false);
		assert_replica_equal(&c);

		/* aborted: empty again, nothing committed */
		assert_int_equal(umem_tx_begin(c.umm), 0);
		assert_int_equal(ilog_update(c.umm, &c.roots[2], 70, 1, punch), 0);
		assert_int_equal(nr_entries(&c, 2), 1);
		assert_int_equal(umem_tx_end(c.umm, -DER_CANCELED), -DER_CANCELED);
		assert_true(ilog_is_empty(&c.roots[2]));
		assert_replica_equal(&c);

		assert_int_equal(ilog_destroy(c.umm, &c.roots[0]), 0);
		assert_int_equal(ilog_destroy(c.umm, &c.roots[1]), 0);
		assert_true(ilog_is_empty(&c.roots[1]));
	}
	ctx_fini(&c);
}

/* The failure workload: every path that allocates or frees, on two logs. */
enum { W_CREATE, W_PUNCH, W_AGG, W_DESTROY };

struct wop {
	int log;
	int kind;
	uint64_t epoch; /* W_AGG: the bound */
	uint16_t minor; /* W_AGG: a snapshot at this epoch if non-zero */
};

static int
workload(struct wop *ops)
{
	int n = 0, i;

	for (i = 0; i < 20; i++) /* inline, array, three doublings */
		ops[n++] = (struct wop){0, i % 6 == 5 ? W_PUNCH : W_CREATE, (uint64_t)i + 1, 1};
	for (i = 0; i < 8; i++) /* inserts at the front */
		ops[n++] =
		    (struct wop){1, i % 3 == 0 ? W_PUNCH : W_CREATE, (uint64_t)(8 - i) * 10, 2};
	ops[n++] = (struct wop){0, W_AGG, 18, 0}; /* 3 of 20 left: a tight array */
	ops[n++] = (struct wop){1, W_PUNCH, 85, 1};
	ops[n++] = (struct wop){1, W_CREATE, 85, 2};
	ops[n++] = (struct wop){1, W_AGG, 85, 0};   /* one entry left: inline */
	ops[n++] = (struct wop){0, W_AGG, 100, 19}; /* nothing to remove */
	ops[n++] = (struct wop){0, W_PUNCH, 30, 1};
	ops[n++] = (struct wop){0, W_AGG, 30, 0}; /* emptied */
	for (i = 0; i < 4; i++)
		ops[n++] = (struct wop){1, W_CREATE, 90 + (uint64_t)i, 1};
	ops[n++] = (struct wop){1, W_DESTROY, 0, 0};
	return n;
}

static int
workload_op(struct ctx *c, const struct wop *op)
{
	struct ilog_df *root = &c->roots[op->log];
	uint64_t snap = op->minor;
	int rc;

	switch (op->kind) {
	case W_CREATE:
	case W_PUNCH:
		return ilog_update(c->umm, root, op->epoch, op->minor, op->kind == W_PUNCH);
	case W_AGG:
		rc = ilog_aggregate(c->umm, root, op->epoch, &snap, snap != 0);
		return rc == ILOG_AGG_EMPTY ? 0 : rc;
	default:
		return ilog_destroy(c->umm, root);
	}
}

/*
 * Fail the Nth allocation of a short workload, for every N until a run sees no failure,
 * for heap allocations and for volatile ones: each failure is a clean error and leaves the
 * log as it was.
 */
static void
t_ilog_alloc_failure(void **state)
{
	static struct snap before[2];
	const uint32_t ids[] = {D_FI_UMEM_ALLOC, D_FI_ALLOC};
	struct wop ops[64];
	int nth, failures = 0, nops = workload(ops);
	unsigned int k;

	(void)state;
	/* without faults, the workload reaches the states it is meant to */
	{
		struct ctx c;
		struct ilog_entries ents;
		int i;

		uint64_t base;

		ctx_init(&c);
		base = stats(&c).us_nr_allocs;
		for (i = 0; i < nops; i++) {
			assert_int_equal(workload_op(&c, &ops[i]), 0);
			if (i == 28) {
				assert_int_equal(nr_entries(&c, 0), 3);
				assert_int_equal(stats(&c).us_nr_allocs, base + 2);
			}
			if (i == 31)
				assert_int_equal(nr_entries(&c, 1), 1);
		}
		assert_int_equal(ilog_fetch(c.umm, &c.roots[0], 0, ILOG_EPOCH_MAX, &ents), 0);
		assert_int_equal(ents.ie_nr, 0);
		assert_true(ilog_is_empty(&c.roots[1]));
		ctx_fini(&c);
	}
	for (k = 0; k < D_ARRAY_SIZE(ids); k++) {
		for (nth = 1; nth < 500; nth++) {
			struct d_fault_attr fa = {
			    .fa_id = ids[k], .fa_interval = (uint32_t)nth, .fa_max_faults = 1};
			struct d_fault_attr after;
			struct ctx c;
			int i, rc, fired = 0;

			ctx_init(&c);
			assert_int_equal(d_fault_attr_set(&fa), 0);
			for (i = 0; i < nops; i++) {
				snap_take(&c, 0, &before[0]);
				snap_take(&c, 1, &before[1]);
				rc = workload_op(&c, &ops[i]);
				if (rc != 0) {
					assert_true(rc == -DER_NOSPACE || rc == -DER_NOMEM);
					snap_assert_equal(&c, 0, &before[0]);
					snap_assert_equal(&c, 1, &before[1]);
					fired++;
				}
			}
			assert_int_equal(d_fault_attr_get(ids[k], &after), 0);
			d_fault_attr_clear(ids[k]);
			assert_int_equal(fired, (int)after.fa_num_faults);
			assert_replica_equal(&c);
			ctx_fini(&c);
			if (after.fa_num_faults == 0)
				break;
			failures++;
		}
		assert_true(nth < 500);
	}
	printf("%d allocations failed in turn\n", failures);
	assert_true(failures > 10);
}

/* Garbage in a root or an array is reported, never trusted. */
static void
t_ilog_corrupt(void **state)
{
	struct ctx c;
	struct ilog_entry_df *re;
	struct ilog_info info;
	struct ilog_entries ents;
	struct ilog_epc epc;
	uint32_t *hdr;
	int i, n;

	(void)state;
	ctx_init(&c);
	re = &c.roots[0].ld_root;

	/* test-only knowledge of the root forms, see ilog.c */
	const struct ilog_entry_df bad_roots[] = {
	    {.le_epoch = 0, .le_update_minor = 1},      /* inline entry at epoch 0 */
	    {.le_epoch = 0, .le_tx = 5},                /* neither empty nor an array */
	    {.le_epoch = 12345},                        /* array offset, not an allocation */
	    {.le_epoch = HEAP_SIZE * 2},                /* outside the heap */
	    {.le_epoch = umem_root(c.umm), .le_tx = 0}, /* an allocation, but not an array */
	    {.le_epoch = UINT64_MAX - 15, .le_tx = 0},  /* wraps */
	};
	for (i = 0; i < (int)D_ARRAY_SIZE(bad_roots); i++) {
		*re = bad_roots[i];
		assert_int_equal(ilog_query(c.umm, &c.roots[0], 10, &info), -DER_DF_INVAL);
		assert_int_equal(ilog_update(c.umm, &c.roots[0], 10, 1, false), -DER_DF_INVAL);
		assert_int_equal(ilog_fetch(c.umm, &c.roots[0], 0, 100, &ents), -DER_DF_INVAL);
		assert_int_equal(ilog_aggregate(c.umm, &c.roots[0], 100, NULL, 0), -DER_DF_INVAL);
		assert_int_equal(ilog_destroy(c.umm, &c.roots[0]), -DER_DF_INVAL);
		assert_int_equal(ilog_earliest_create(c.umm, &c.roots[0], &epc), -DER_DF_INVAL);
		assert_int_equal(ilog_check(c.umm, &c.roots[0]), -DER_DF_INVAL);
		assert_false(ilog_is_punched(c.umm, &c.roots[0]));
		assert_false(ilog_is_empty(&c.roots[0]));
	}
	memset(re, 0, sizeof(*re));

	/* a real array with a damaged header: magic, len, cap, punch index in turn, each
	 * damage caught by its own check (the punch is entry 0, so a short len keeps it valid)
	 */
	for (n = 1; n <= 5; n++)
		assert_int_equal(ilog_update(c.umm, &c.roots[0], (uint64_t)n, 1, n == 1), 0);
	hdr = umem_off2ptr(c.umm, re->le_epoch);
	for (i = 0; i < 4; i++) {
		const uint32_t bad[] = {0x12345678, 1, 2, 4};
		uint32_t saved = hdr[i];

		hdr[i] = bad[i];
		assert_int_equal(ilog_query(c.umm, &c.roots[0], 10, &info), -DER_DF_INVAL);
		assert_int_equal(ilog_update(c.umm, &c.roots[0], 10, 1, false), -DER_DF_INVAL);
		hdr[i] = saved;
		assert_int_equal(ilog_check(c.umm, &c.roots[0]), 0);
	}
	hdr[2] = 1000000; /* a capacity beyond the allocation */
	assert_int_equal(ilog_check(c.umm, &c.roots[0]), -DER_DF_INVAL);
	hdr[2] = 7;
	hdr[3] = ILOG_NONE_TEST; /* punches, but none recorded */
	assert_int_equal(ilog_check(c.umm, &c.roots[0]), -DER_DF_INVAL);
	hdr[3] = 0;

	/* unsorted entries: queries do not crash; the check finds them */
	{
		struct ilog_entry_df *e = (struct ilog_entry_df *)(hdr + 4);
		struct ilog_entry_df tmp = e[1];

		e[1] = e[3];
		e[3] = tmp;
		assert_int_equal(ilog_query(c.umm, &c.roots[0], 3, &info), 0);
		assert_int_equal(ilog_check(c.umm, &c.roots[0]), -DER_DF_INVAL);
		e[3] = e[1];
		e[1] = tmp;
		e[4].le_update_minor = 0; /* an entry recording nothing */
		assert_int_equal(ilog_check(c.umm, &c.roots[0]), -DER_DF_INVAL);
		e[4].le_update_minor = 1;
	}
	assert_int_equal(ilog_check(c.umm, &c.roots[0]), 0);
	ctx_fini(&c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(t_ilog_basic),
	    cmocka_unit_test(t_ilog_model),
	    cmocka_unit_test(t_ilog_aggregate_random),
	    cmocka_unit_test(t_ilog_growth),
	    cmocka_unit_test(t_ilog_destroy),
	    cmocka_unit_test(t_ilog_abort),
	    cmocka_unit_test(t_ilog_first_in_tx),
	    cmocka_unit_test(t_ilog_alloc_failure),
	    cmocka_unit_test(t_ilog_corrupt),
	};

	d_log_setmasks("CRIT");
	return cmocka_run_group_tests_name("vos_ilog", tests, NULL, NULL);
}
