/*
 * test_umem.c: the umem heap and its transactions.
 *
 * The central check: a replica image, built only by applying the redo records the heap
 * hands to its store, must equal the heap byte for byte after every transaction. That
 * catches any change made without umem_tx_add (it would be lost by a crash), and any abort
 * that fails to restore. A model of the live allocations checks contents and overlaps.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <sys/mman.h>
#include <stdio.h>
#include <unistd.h>

#include <gurt/common.h>
#include <daos_srv/umem.h>
#include <d_test.h>

#include "vos_internal.h"

#define HEAP_SIZE (16UL << 20)
#define MAX_LIVE 2048

struct replica {
	char *image;
	size_t size;
	uint64_t lsn;
	uint64_t records;
};

static int
replica_commit(void *arg, const struct umem_redo *redo, uint64_t *lsn)
{
	struct replica *r = arg;
	uint32_t i;

	/* ranges must come sorted and disjoint */
	for (i = 1; i < redo->ur_nr; i++)
		assert_true(redo->ur_ranges[i - 1].rr_off + redo->ur_ranges[i - 1].rr_len <
			    redo->ur_ranges[i].rr_off + 1);
	assert_int_equal(umem_redo_apply(r->image, r->size, redo), 0);
	r->records++;
	*lsn = ++r->lsn;
	return 0;
}

static const struct umem_store_ops replica_ops = {.so_commit = replica_commit};

struct live {
	umem_off_t off;
	size_t size;
	uint8_t seed; /* contents: byte i is seed + i */
};

struct model {
	struct live live[MAX_LIVE];
	int nr;
};

/*
 * The replica equals the heap in everything but free space and the slack behind each
 * allocation's requested size: an aborted transaction leaves bytes in slots it allocated,
 * and nobody reads past what they asked for.
 */
static void
assert_replica_equal(struct replica *r, struct umem_instance *umm, const struct live *live, int nr)
{
	static char *a, *b;
	static size_t cap;
	int i;

	if (cap < r->size) {
		free(a);
		free(b);
		a = malloc(r->size);
		b = malloc(r->size);
		cap = r->size;
	}
	memcpy(a, r->image, r->size);
	memcpy(b, umem_base(umm), r->size);
	assert_int_equal(umem_image_zero_free(a, r->size), 0);
	assert_int_equal(umem_image_zero_free(b, r->size), 0);
	for (i = 0; i < nr; i++) {
		size_t slack = umem_alloc_size(umm, live[i].off) - live[i].size;

		memset(a + live[i].off + live[i].size, 0, slack);
		memset(b + live[i].off + live[i].size, 0, slack);
	}
	assert_memory_equal(a, b, r->size);
}

static void
fill(void *p, size_t size, uint8_t seed)
{
	size_t i;

	for (i = 0; i < size; i++)
		((uint8_t *)p)[i] = (uint8_t)(seed + i);
}

static bool
check_fill(const void *p, size_t size, uint8_t seed)
{
	size_t i;

	for (i = 0; i < size; i++)
		if (((const uint8_t *)p)[i] != (uint8_t)(seed + i))
			return false;
	return true;
}

static int
live_cmp(const void *a, const void *b)
{
	const struct live *x = a, *y = b;

	return x->off < y->off ? -1 : x->off > y->off;
}

static void
model_verify(struct umem_instance *umm, struct model *m)
{
	struct live sorted[MAX_LIVE];
	struct umem_stats st;
	uint64_t used = 0;
	int i;

	memcpy(sorted, m->live, sizeof(struct live) * (size_t)m->nr);
	qsort(sorted, (size_t)m->nr, sizeof(struct live), live_cmp);
	for (i = 0; i < m->nr; i++) {
		size_t usable = umem_alloc_size(umm, sorted[i].off);

		assert_true(usable >= sorted[i].size);
		assert_true(
		    check_fill(umem_off2ptr(umm, sorted[i].off), sorted[i].size, sorted[i].seed));
		if (i > 0)
			assert_true(sorted[i - 1].off + umem_alloc_size(umm, sorted[i - 1].off) <=
				    sorted[i].off);
		used += usable;
	}
	umem_query(umm, &st);
	/* the root is one more allocation */
	assert_int_equal(st.us_nr_allocs, (uint64_t)m->nr + 1);
	assert_int_equal(st.us_used, used + umem_alloc_size(umm, umem_root(umm)));
	assert_true(st.us_used + st.us_free <= st.us_heap_size);
}

static size_t
rand_size(uint64_t *rs)
{
	uint64_t r = d_test_rand(rs) % 100;

	if (r < 70)
		return 1 + d_test_rand(rs) % 256;
	if (r < 95)
		return 1 + d_test_rand(rs) % 8192;
	if (r < 99)
		return 1 + d_test_rand(rs) % UMEM_SLAB_MAX;
	return UMEM_SLAB_MAX + 1 + d_test_rand(rs) % (600UL << 10);
}

/* One random transaction; returns its outcome. */
static int
random_tx(struct umem_instance *umm, struct model *m, uint64_t *rs, bool *aborted)
{
	struct model saved = *m;
	int nops = 1 + (int)(d_test_rand(rs) % 8), i, rc = 0;
	bool nested = d_test_rand(rs) % 4 == 0;
	bool abort_it = d_test_rand(rs) % 5 == 0;

	assert_int_equal(umem_tx_begin(umm), 0);
	if (nested)
		assert_int_equal(umem_tx_begin(umm), 0);
	for (i = 0; i < nops && rc == 0; i++) {
		uint64_t op = d_test_rand(rs) % 10;

		if ((op < 5 || m->nr == 0) && m->nr < MAX_LIVE - 16) {
			size_t size = rand_size(rs);
			uint8_t seed = (uint8_t)d_test_rand(rs);
			umem_off_t off = op % 2 ? umem_zalloc(umm, size) : umem_alloc(umm, size);

			if (off == UMOFF_NULL) {
				rc = -DER_NOSPACE;
				break;
			}
			if (op % 2)
				assert_true(check_fill(umem_off2ptr(umm, off), 0, 0));
			fill(umem_off2ptr(umm, off), size, seed);
			m->live[m->nr++] = (struct live){off, size, seed};
		} else if (op < 8) {
			/* rewrite part of a live block, declared first */
			struct live *l = &m->live[d_test_rand(rs) % (uint64_t)m->nr];
			uint8_t seed = (uint8_t)d_test_rand(rs);

			assert_int_equal(umem_tx_add(umm, l->off, l->size), 0);
			fill(umem_off2ptr(umm, l->off), l->size, seed);
			l->seed = seed;
		} else {
			int idx = (int)(d_test_rand(rs) % (uint64_t)m->nr);

			assert_int_equal(umem_free(umm, m->live[idx].off), 0);
			/* a second free of it in the same transaction is refused */
			assert_int_equal(umem_free(umm, m->live[idx].off), -DER_INVAL);
			m->live[idx] = m->live[--m->nr];
		}
	}
	if (nested)
		rc = umem_tx_end(umm, rc);
	rc = umem_tx_end(umm, abort_it ? -DER_CANCELED : rc);
	*aborted = rc != 0;
	if (rc != 0)
		*m = saved;
	return rc;
}

static void
t_umem_model(void **state)
{
	unsigned int seed = d_test_seed("t_umem_model");
	uint64_t rs = d_test_rand_seed(seed);
	struct replica rep = {0};
	struct umem_instance *umm;
	struct model *m;
	int i, commits = 0, aborts = 0;
	void *image;

	(void)state;
	m = calloc(1, sizeof(*m));
	assert_int_equal(umem_create(HEAP_SIZE, 256, &replica_ops, &rep, &umm), 0);
	rep.size = HEAP_SIZE;
	rep.image = malloc(HEAP_SIZE);
	memcpy(rep.image, umem_base(umm), HEAP_SIZE);

	for (i = 0; i < 3000; i++) {
		bool aborted;
		int rc = random_tx(umm, m, &rs, &aborted);

		assert_true(rc == 0 || rc == -DER_CANCELED || rc == -DER_NOSPACE);
		aborted ? aborts++ : commits++;
		if (rc == 0)
			assert_int_equal(umem_tx_last_lsn(umm), rep.lsn);
		/* a divergence persists, so checking every 25th transaction still finds it */
		if (i % 25 == 0) {
			assert_replica_equal(&rep, umm, m->live, m->nr);
			model_verify(umm, m);
		}
	}
	assert_replica_equal(&rep, umm, m->live, m->nr);
	model_verify(umm, m);
	printf("%d commits, %d aborts, %d live, %" PRIu64 " redo records\n", commits, aborts, m->nr,
	       rep.records);

	/* reopen from the replica: the same allocations, the same accounting */
	{
		struct umem_stats a, b;

		umem_query(umm, &a);
		umem_close(umm);
		image = mmap(NULL, HEAP_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
			     -1, 0);
		assert_true(image != MAP_FAILED);
		memcpy(image, rep.image, HEAP_SIZE);
		assert_int_equal(umem_open(image, HEAP_SIZE, &replica_ops, &rep, &umm), 0);
		umem_query(umm, &b);
		assert_memory_equal(&a, &b, sizeof(a));
		model_verify(umm, m);
	}
	/* free everything: all chunks come back except the root's */
	assert_int_equal(umem_tx_begin(umm), 0);
	for (i = 0; i < m->nr; i++)
		assert_int_equal(umem_free(umm, m->live[i].off), 0);
	assert_int_equal(umem_tx_end(umm, 0), 0);
	m->nr = 0;
	model_verify(umm, m);
	{
		struct umem_stats st;

		umem_query(umm, &st);
		assert_int_equal(st.us_chunks_free, st.us_chunks - 1);
	}
	assert_replica_equal(&rep, umm, m->live, 0);
	umem_close(umm);
	free(rep.image);
	free(m);
}

static void
t_umem_nospace(void **state)
{
	struct umem_instance *umm;
	struct umem_stats st0, st;
	umem_off_t offs[4096];
	int n = 0, i, rc;

	(void)state;
	assert_int_equal(umem_create(UMEM_HEAP_MIN * 2, 64, NULL, NULL, &umm), 0);
	umem_query(umm, &st0);
	/* fill with committed transactions until the heap refuses */
	for (;;) {
		umem_tx_begin(umm);
		offs[n] = umem_alloc(umm, 3000);
		rc = umem_tx_end(umm, 0);
		if (rc != 0)
			break;
		n++;
		assert_true(n < 4096);
	}
	assert_int_equal(rc, -DER_NOSPACE);
	assert_true(n > 100);
	/* a failed allocation makes later ones in the transaction fail, and it aborts */
	umem_tx_begin(umm);
	assert_int_equal(umem_alloc(umm, 1 << 20), UMOFF_NULL);
	assert_int_equal(umem_alloc(umm, 16), UMOFF_NULL);
	assert_int_equal(umem_tx_end(umm, 0), -DER_NOSPACE);
	/* free all: the space comes back, and can be used again */
	umem_tx_begin(umm);
	for (i = 0; i < n; i++)
		assert_int_equal(umem_free(umm, offs[i]), 0);
	assert_int_equal(umem_tx_end(umm, 0), 0);
	umem_query(umm, &st);
	assert_int_equal(st.us_used, st0.us_used);
	assert_int_equal(st.us_chunks_free, st0.us_chunks_free);
	umem_tx_begin(umm);
	assert_true(umem_alloc(umm, UMEM_CHUNK_SIZE) != UMOFF_NULL);
	assert_int_equal(umem_tx_end(umm, 0), 0);
	umem_close(umm);
}

/* Resident pages of the chunk holding @off (mincore; anonymous memory, no swap here). */
static uint32_t
chunk_resident(struct umem_instance *umm, umem_off_t off)
{
	long pg = sysconf(_SC_PAGESIZE);
	uint32_t npg = (uint32_t)(UMEM_CHUNK_SIZE / (uint64_t)pg), i, n = 0;
	unsigned char vec[UMEM_CHUNK_SIZE / 4096];

	assert_true(npg <= sizeof(vec));
	/* chunks start at multiples of UMEM_CHUNK_SIZE from the base (hd_chunks_off is one) */
	assert_int_equal(mincore(umem_off2ptr(umm, off & ~(umem_off_t)(UMEM_CHUNK_SIZE - 1)),
				 UMEM_CHUNK_SIZE, vec),
			 0);
	for (i = 0; i < npg; i++)
		n += vec[i] & 1;
	return n;
}

/*
 * A chunk that becomes a slab has all its pages faulted in at once (umem_chunk_populate),
 * not one write fault per page as its slots fill: right after the first allocation of a
 * class every page of its chunk is resident (without it: the bitmap's and the slot's). A
 * second slab of the same class is populated too; a slot from an existing slab is not
 * counted again. Needs no swap for "resident" to hold (none on these machines; skipped
 * otherwise).
 */
static void
t_umem_populate(void **state)
{
	struct umem_instance *umm;
	umem_off_t a, b;
	uint64_t p0;
	uint32_t npg = (uint32_t)(UMEM_CHUNK_SIZE / (uint64_t)sysconf(_SC_PAGESIZE));
	FILE *f = fopen("/proc/swaps", "r");
	char line[256];
	int lines = 0;

	(void)state;
	if (f != NULL) {
		while (fgets(line, sizeof(line), f) != NULL)
			lines++;
		fclose(f);
	}
	if (lines > 1) {
		print_message("swap is on: residency is not an invariant, skipped\n");
		skip();
		return;
	}
	assert_int_equal(umem_create(HEAP_SIZE, 64, NULL, NULL, &umm), 0);
	p0 = umem_populated_count(umm); /* the root's slab (64 bytes) */
	assert_int_equal(p0, 1);

	umem_tx_begin(umm);
	a = umem_alloc(umm, 200);
	assert_true(a != UMOFF_NULL);
	assert_int_equal(umem_tx_end(umm, 0), 0);
	assert_int_equal(umem_populated_count(umm), p0 + 1);
	assert_int_equal(chunk_resident(umm, a), npg);

	/* a slot of the same slab: no new chunk */
	umem_tx_begin(umm);
	b = umem_alloc(umm, 200);
	assert_true(b != UMOFF_NULL);
	assert_int_equal(umem_tx_end(umm, 0), 0);
	assert_int_equal(a & ~(umem_off_t)(UMEM_CHUNK_SIZE - 1),
			 b & ~(umem_off_t)(UMEM_CHUNK_SIZE - 1));
	assert_int_equal(umem_populated_count(umm), p0 + 1);

	/* another class: another slab, populated */
	umem_tx_begin(umm);
	b = umem_zalloc(umm, 3000);
	assert_true(b != UMOFF_NULL);
	assert_int_equal(umem_tx_end(umm, 0), 0);
	assert_int_equal(umem_populated_count(umm), p0 + 2);
	assert_int_equal(chunk_resident(umm, b), npg);
	umem_close(umm);
}

static void
t_umem_bad_calls(void **state)
{
	struct umem_instance *umm;
	umem_off_t off;

	(void)state;
	assert_int_equal(umem_create(1000, 64, NULL, NULL, &umm), -DER_INVAL);
	assert_int_equal(umem_create(UMEM_HEAP_MIN, 0, NULL, NULL, &umm), -DER_INVAL);
	assert_int_equal(umem_create(UMEM_HEAP_MIN, 64, NULL, NULL, &umm), 0);
	/* outside a transaction */
	assert_int_equal(umem_tx_add(umm, umem_root(umm), 8), -DER_INVAL);
	assert_int_equal(umem_alloc(umm, 8), UMOFF_NULL);
	assert_int_equal(umem_free(umm, umem_root(umm)), -DER_INVAL);
	umem_tx_begin(umm);
	assert_int_equal(umem_tx_add(umm, umem_size(umm) - 4, 8), -DER_INVAL);
	assert_int_equal(umem_tx_end(umm, 0), -DER_INVAL); /* the failed add aborts it */
	umem_tx_begin(umm);
	off = umem_alloc(umm, 100);
	assert_int_equal(umem_free(umm, off + 8), -DER_INVAL); /* not an allocation start */
	assert_int_equal(umem_free(umm, 12345), -DER_INVAL);
	assert_int_equal(umem_free(umm, UMOFF_NULL), 0);
	assert_int_equal(umem_tx_end(umm, 0), 0);
	assert_int_equal(umem_alloc_size(umm, off), 128);
	assert_int_equal(umem_alloc_size(umm, off + 1), 0);
	/* an aborted free leaves the allocation live */
	umem_tx_begin(umm);
	assert_int_equal(umem_free(umm, off), 0);
	assert_int_equal(umem_tx_end(umm, -DER_CANCELED), -DER_CANCELED);
	assert_int_equal(umem_alloc_size(umm, off), 128);
	umem_close(umm);
}

/* A store that refuses commits: the transaction must abort cleanly. */
static int
refuse_commit(void *arg, const struct umem_redo *redo, uint64_t *lsn)
{
	(void)arg;
	(void)redo;
	(void)lsn;
	return -DER_IO;
}

static void
t_umem_store_refuses(void **state)
{
	static const struct umem_store_ops ops = {.so_commit = refuse_commit};
	struct umem_instance *umm;
	struct umem_stats a, b;
	uint64_t *root;
	char *before;

	(void)state;
	assert_int_equal(umem_create(UMEM_HEAP_MIN, 64, &ops, NULL, &umm), 0);
	before = malloc(UMEM_HEAP_MIN);
	memcpy(before, umem_base(umm), UMEM_HEAP_MIN);
	umem_query(umm, &a);
	root = umem_off2ptr(umm, umem_root(umm));
	umem_tx_begin(umm);
	umem_tx_add_ptr(umm, root, 8);
	*root = 42;
	assert_true(umem_zalloc(umm, 5000) != UMOFF_NULL);
	assert_int_equal(umem_tx_end(umm, 0), -DER_IO);
	assert_memory_equal(before, umem_base(umm), UMEM_HEAP_MIN);
	umem_query(umm, &b);
	assert_memory_equal(&a, &b, sizeof(a));
	free(before);
	umem_close(umm);
}

static void
t_umem_garbage_image(void **state)
{
	unsigned int seed = d_test_seed("t_umem_garbage_image");
	uint64_t rs = d_test_rand_seed(seed);
	struct umem_instance *umm, *umm2;
	size_t size = UMEM_HEAP_MIN * 2;
	char *good;
	int i;

	(void)state;
	assert_int_equal(umem_create(size, 64, NULL, NULL, &umm), 0);
	good = malloc(size);
	memcpy(good, umem_base(umm), size);
	umem_close(umm);

	for (i = 0; i < 500; i++) {
		char *img =
		    mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		int j, rc;

		memcpy(img, good, size);
		if (i == 0) {
			memset(img, 0xa5, size); /* pure garbage */
		} else {
			/* flip bytes in the header and the chunk table */
			for (j = 0; j < 4; j++)
				img[d_test_rand(&rs) % (2 * UMEM_PAGE_SIZE)] ^=
				    (char)(1 + d_test_rand(&rs) % 255);
		}
		rc = umem_open(img, size, NULL, NULL, &umm2);
		if (rc == 0) {
			/* the damage missed everything checked: the heap must still work */
			umem_tx_begin(umm2);
			umem_alloc(umm2, 64);
			umem_tx_end(umm2, 0);
			umem_close(umm2);
		} else {
			assert_true(rc == -DER_INVAL || rc == -DER_CSUM);
			munmap(img, size);
		}
	}
	free(good);
}

static void
t_umem_dirty(void **state)
{
	struct umem_instance *umm;
	uint64_t page = 0, n = 0, pages[8];
	umem_off_t off;

	(void)state;
	assert_int_equal(umem_create(UMEM_HEAP_MIN, 64, NULL, NULL, &umm), 0);
	/* a fresh heap is all dirty: the first checkpoint writes everything */
	assert_int_equal(umem_dirty_count(umm), UMEM_HEAP_MIN / UMEM_PAGE_SIZE);
	while (umem_dirty_next(umm, &page))
		n++;
	assert_int_equal(n, UMEM_HEAP_MIN / UMEM_PAGE_SIZE);
	assert_int_equal(umem_dirty_count(umm), 0);

	umem_tx_begin(umm);
	off = umem_alloc(umm, 10000); /* spans three pages of a slab */
	umem_tx_end(umm, 0);
	umem_tx_begin(umm);
	umem_tx_add(umm, off, 10000);
	memset(umem_off2ptr(umm, off), 1, 10000);
	assert_int_equal(umem_tx_end(umm, -DER_CANCELED), -DER_CANCELED);
	/* only committed ranges count; aborted ones dirty nothing */
	n = 0;
	page = 0;
	while (umem_dirty_next(umm, &page) && n < 8)
		pages[n++] = page++;
	assert_true(n >= 3);
	assert_int_equal(pages[n - 1], (off + 9999) / UMEM_PAGE_SIZE);
	assert_int_equal(umem_dirty_count(umm), 0);
	umem_close(umm);
}

/*
 * Fail the Nth internal allocation of a small workload, for every N until a run sees no
 * failure (N is then past the workload's last allocation): each failure is a clean
 * -DER_NOMEM, and the heap stays equal to what its redo records describe.
 */
static void
t_umem_alloc_failure(void **state)
{
	int nth, failures = 0;

	(void)state;
	for (nth = 1; nth < 1000; nth++) {
		struct replica rep = {0};
		struct umem_instance *umm;
		struct d_fault_attr fa = {
		    .fa_id = D_FI_ALLOC, .fa_interval = (uint32_t)nth, .fa_max_faults = 1};
		struct d_fault_attr after;
		struct live live[40];
		int i, rc = 0, nlive = 0;

		rep.size = UMEM_HEAP_MIN * 4; /* room for a slab of every class used */
		rep.image = malloc(rep.size);
		d_fault_attr_set(&fa);
		rc = umem_create(rep.size, 64, &replica_ops, &rep, &umm);
		if (rc != 0) {
			assert_int_equal(rc, -DER_NOMEM);
			d_fault_attr_clear(D_FI_ALLOC);
			free(rep.image);
			failures++;
			continue;
		}
		memcpy(rep.image, umem_base(umm), rep.size);
		for (i = 0; i < 40; i++) {
			size_t size = 100 + (size_t)i * 50;
			umem_off_t off;

			umem_tx_begin(umm);
			off = umem_alloc(umm, size);
			if (off != UMOFF_NULL)
				memset(umem_off2ptr(umm, off), i, size);
			if (i > 0 && i % 4 == 0)
				umem_free(umm, live[--nlive].off);
			rc = umem_tx_end(umm, 0);
			assert_true(rc == 0 || rc == -DER_NOMEM);
			if (rc == 0)
				live[nlive++] = (struct live){off, size, 0};
			else if (i > 0 && i % 4 == 0)
				nlive++; /* the free was undone */
		}
		assert_replica_equal(&rep, umm, live, nlive);
		assert_int_equal(d_fault_attr_get(D_FI_ALLOC, &after), 0);
		d_fault_attr_clear(D_FI_ALLOC);
		umem_close(umm);
		free(rep.image);
		if (after.fa_num_faults == 0)
			break;
		failures++;
	}
	printf("%d allocation sites failed in turn\n", failures);
	assert_true(failures >=
		    5); /* create, the first transactions: 8 since commits sort in place */
	assert_true(nth < 1000);
}

struct cb_log {
	int calls;
	int rc;
	uint64_t lsn;
	struct umem_instance *umm;
	bool start_tx; /* open a transaction from inside the callback */
};

static void
log_cb(void *arg, int rc, uint64_t lsn)
{
	struct cb_log *l = arg;

	l->calls++;
	l->rc = rc;
	l->lsn = lsn;
	assert_false(umem_tx_inprogress(l->umm));
	if (l->start_tx) {
		l->start_tx = false;
		umem_tx_begin(l->umm);
		assert_int_equal(umem_tx_add_callback(l->umm, log_cb, l), 0);
		assert_int_equal(umem_tx_end(l->umm, 0), 0);
	}
}

static void
t_umem_callbacks(void **state)
{
	struct replica rep = {0};
	struct umem_instance *umm;
	struct cb_log a = {0}, b = {0};

	(void)state;
	rep.size = UMEM_HEAP_MIN;
	rep.image = malloc(rep.size);
	assert_int_equal(umem_create(rep.size, 64, &replica_ops, &rep, &umm), 0);
	a.umm = b.umm = umm;
	assert_int_equal(umem_tx_add_callback(umm, log_cb, &a), -DER_INVAL);

	/* commit: called once (registered twice, once from a nested level) with the LSN */
	umem_tx_begin(umm);
	assert_int_equal(umem_tx_add_callback(umm, log_cb, &a), 0);
	umem_tx_begin(umm);
	assert_int_equal(umem_tx_add_callback(umm, log_cb, &a), 0);
	assert_int_equal(umem_tx_add_callback(umm, log_cb, &b), 0);
	assert_true(umem_alloc(umm, 10) != UMOFF_NULL);
	assert_int_equal(umem_tx_end(umm, 0), 0);
	assert_int_equal(a.calls, 0); /* not before the outermost end */
	assert_int_equal(umem_tx_end(umm, 0), 0);
	assert_int_equal(a.calls, 1);
	assert_int_equal(b.calls, 1);
	assert_int_equal(a.rc, 0);
	assert_int_equal(a.lsn, rep.lsn);
	assert_true(a.lsn > 0);

	/* abort: called with the error and no LSN */
	umem_tx_begin(umm);
	assert_int_equal(umem_tx_add_callback(umm, log_cb, &a), 0);
	assert_int_equal(umem_tx_end(umm, -DER_CANCELED), -DER_CANCELED);
	assert_int_equal(a.calls, 2);
	assert_int_equal(a.rc, -DER_CANCELED);
	assert_int_equal(a.lsn, 0);

	/* a callback may run a transaction (and register itself again there) */
	a.start_tx = true;
	umem_tx_begin(umm);
	assert_int_equal(umem_tx_add_callback(umm, log_cb, &a), 0);
	assert_int_equal(umem_tx_add_callback(umm, log_cb, &b), 0);
	assert_int_equal(umem_tx_end(umm, 0), 0);
	assert_int_equal(a.calls, 4); /* its own call, then the inner transaction's */
	assert_int_equal(b.calls, 2); /* still called, after the detached list resumed */
	umem_close(umm);
	free(rep.image);
}

/*
 * Regression: the redo array grew by one doubling per commit, so a transaction with more
 * than twice the ranges of every earlier one wrote past it (found by the btree tests under
 * ASan). Many disjoint ranges right after a small transaction.
 */
static void
t_umem_many_ranges(void **state)
{
	struct replica rep = {0};
	struct umem_instance *umm;
	umem_off_t off;
	int i;

	(void)state;
	rep.size = UMEM_HEAP_MIN * 4;
	rep.image = malloc(rep.size);
	assert_int_equal(umem_create(rep.size, 64, &replica_ops, &rep, &umm), 0);
	memcpy(rep.image, umem_base(umm), rep.size);
	umem_tx_begin(umm);
	off = umem_zalloc(umm, 64 * 1000);
	assert_int_equal(umem_tx_end(umm, 0), 0);
	umem_tx_begin(umm);
	for (i = 0; i < 1000; i++) { /* every other 32 bytes: nothing merges */
		assert_int_equal(umem_tx_add(umm, off + (umem_off_t)i * 64, 32), 0);
		memset(umem_off2ptr(umm, off + (umem_off_t)i * 64), i, 32);
	}
	assert_int_equal(umem_tx_end(umm, 0), 0);
	assert_memory_equal(rep.image + off, umem_off2ptr(umm, off), 64 * 1000);
	umem_close(umm);
	free(rep.image);
}

/*
 * Ranges added inside an allocation of the same transaction, or inside the range added
 * just before, are not recorded again (umem_tx_covered). An abort must still restore
 * everything: the first before-image of a field changed twice, fields of an object freed
 * and re-added, and a nested transaction's allocations; a commit's redo record must still
 * carry every change (the replica). Skipping a range that only starts inside the range
 * added before (keep .. keep + 8, then keep .. keep + 32) fails it.
 */
static void
t_umem_covered(void **state)
{
	struct replica rep = {0};
	struct umem_instance *umm;
	uint64_t *root, *obj, *big;
	umem_off_t o, b, keep;
	char *before;
	int round;

	(void)state;
	rep.size = UMEM_HEAP_MIN * 4;
	rep.image = malloc(rep.size);
	before = malloc(rep.size);
	assert_int_equal(umem_create(rep.size, 64, &replica_ops, &rep, &umm), 0);
	memcpy(rep.image, umem_base(umm), rep.size);
	root = umem_off2ptr(umm, umem_root(umm));

	/* a committed object whose fields the aborted rounds change */
	umem_tx_begin(umm);
	keep = umem_zalloc(umm, 96);
	assert_true(keep != UMOFF_NULL);
	assert_int_equal(umem_tx_add_ptr(umm, root, 16), 0);
	root[0] = 7;
	root[1] = keep;
	assert_int_equal(umem_tx_end(umm, 0), 0);
	obj = umem_off2ptr(umm, keep);
	fill(obj, 96, 3);
	umem_tx_begin(umm);
	assert_int_equal(umem_tx_add(umm, keep, 96), 0);
	fill(obj, 96, 5);
	assert_int_equal(umem_tx_end(umm, 0), 0);

	for (round = 0; round < 2; round++) {
		bool commit = round == 1;

		memcpy(before, umem_base(umm), rep.size);
		umem_tx_begin(umm);
		/* the same field twice in a row, changed in between */
		assert_int_equal(umem_tx_add_ptr(umm, root, 8), 0);
		root[0] = 8;
		assert_int_equal(umem_tx_add_ptr(umm, root, 8), 0);
		root[0] = 9;
		/* a field of the kept object, then a wider range over it: not covered */
		assert_int_equal(umem_tx_add(umm, keep, 8), 0);
		obj[0] = 11;
		assert_int_equal(umem_tx_add(umm, keep, 32), 0);
		obj[0] = 12;
		obj[1] = 13;
		/* fields of a fresh allocation, in a nested transaction */
		umem_tx_begin(umm);
		o = umem_alloc(umm, 40);
		assert_true(o != UMOFF_NULL);
		big = umem_off2ptr(umm, o);
		assert_int_equal(umem_tx_add(umm, o + 8, 16), 0);
		big[1] = 21;
		assert_int_equal(umem_tx_end(umm, 0), 0);
		assert_int_equal(umem_tx_add(umm, o, 40), 0);
		big[0] = 20;
		big[4] = 24;
		/* the last word of a larger allocation, after a range of another object */
		b = umem_zalloc(umm, 5000);
		assert_true(b != UMOFF_NULL);
		assert_int_equal(umem_tx_add(umm, keep + 88, 8), 0);
		obj[11] = 31;
		assert_int_equal(umem_tx_add(umm, b + 4992, 8), 0);
		((uint64_t *)umem_off2ptr(umm, b))[624] = 32;
		assert_int_equal(umem_tx_add_ptr(umm, root, 16), 0);
		root[0] = 10;
		root[1] = o;
		assert_int_equal(umem_tx_end(umm, commit ? 0 : -DER_CANCELED),
				 commit ? 0 : -DER_CANCELED);
		if (!commit) {
			/* everything as before but the free space the aborted allocations used */
			struct live l = {.off = keep, .size = 96};

			assert_int_equal(root[0], 8 - 1);
			assert_int_equal(root[1], keep);
			assert_true(check_fill(obj, 96, 5));
			memcpy(rep.image, before, rep.size);
			assert_replica_equal(&rep, umm, &l, 1);
			continue;
		}
		{
			struct live l[3] = {{.off = keep, .size = 96},
					    {.off = o, .size = 40},
					    {.off = b, .size = 5000}};

			qsort(l, 3, sizeof(l[0]), live_cmp);
			assert_int_equal(root[0], 10);
			assert_int_equal(big[0], 20);
			assert_int_equal(big[1], 21);
			assert_int_equal(big[4], 24);
			assert_int_equal(obj[0], 12);
			assert_int_equal(obj[1], 13);
			assert_int_equal(obj[11], 31);
			assert_replica_equal(&rep, umm, l, 3);
		}
	}
	umem_close(umm);
	free(before);
	free(rep.image);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(t_umem_model),         cmocka_unit_test(t_umem_nospace),
	    cmocka_unit_test(t_umem_populate),      cmocka_unit_test(t_umem_bad_calls),
	    cmocka_unit_test(t_umem_store_refuses), cmocka_unit_test(t_umem_garbage_image),
	    cmocka_unit_test(t_umem_dirty),         cmocka_unit_test(t_umem_alloc_failure),
	    cmocka_unit_test(t_umem_callbacks),     cmocka_unit_test(t_umem_many_ranges),
	    cmocka_unit_test(t_umem_covered),
	};

	d_log_setmasks("CRIT");
	return cmocka_run_group_tests_name("vos_umem", tests, NULL, NULL);
}
