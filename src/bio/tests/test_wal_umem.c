/*
 * test_wal_umem.c: the WAL as the store of a umem heap (bio_wal_umem_ops). Random
 * transactions (allocations, frees, overwrites, aborts) commit into the WAL, durability is
 * awaited both ways (wait and callbacks); then a copy of the heap as formatted (the
 * "checkpoint") plus a replay of the WAL through umem_redo_apply must give a heap that
 * umem_open accepts, with the same space accounting and the same live contents.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <sys/mman.h>

#include <gurt/common.h>
#include <daos_srv/bio.h>
#include <daos_srv/umem.h>
#include <d_test.h>

#include "wal_test.h"

#define HEAP_SIZE (8UL << 20)
#define MAX_LIVE 512

struct live {
	umem_off_t off;
	size_t size;
	uint8_t seed;
};

struct image {
	char *base;
	size_t size;
	uint64_t applied;
};

static int
apply_cb(void *arg, uint64_t lsn, const struct umem_redo *redo)
{
	struct image *img = arg;

	(void)lsn;
	img->applied++;
	return umem_redo_apply(img->base, img->size, redo);
}

static void
fill(struct umem_instance *umm, umem_off_t off, size_t size, uint8_t seed)
{
	unsigned char *p = umem_off2ptr(umm, off);
	size_t i;

	for (i = 0; i < size; i++)
		p[i] = (unsigned char)(seed + i);
}

static void
durable_cb(void *arg, uint64_t lsn, int rc)
{
	uint64_t *acked = arg;

	assert_int_equal(rc, 0);
	assert_true(lsn > *acked);
	*acked = lsn;
}

static void
t_umem_wal(void **state)
{
	struct live live[MAX_LIVE];
	struct umem_stats st_a;
	struct umem_stats st_b;
	struct umem_instance *umm;
	struct umem_instance *copy;
	struct bio_wal_replay_info info;
	struct wt_dir wd;
	struct bio_wal *wal;
	struct image img;
	uint64_t rng = d_test_rand_seed(d_test_seed("bio_wal_umem"));
	uint64_t acked = 0;
	uint64_t commits = 0;
	int nr = 0;
	int tx;
	int i;

	(void)state;
	assert_int_equal(wt_dir_init(&wd), 0);
	assert_int_equal(bio_wal_create(wd.wd_path, 16ULL << 20), 0);
	assert_int_equal(bio_wal_open(wd.wd_path, NULL, &wal), 0);
	assert_int_equal(bio_wal_replay(wal, 0, NULL, NULL, NULL), 0);
	assert_int_equal(umem_create(HEAP_SIZE, 64, &bio_wal_umem_ops, wal, &umm), 0);

	/* the checkpoint: the heap as formatted */
	img.size = umem_size(umm);
	img.base = mmap(NULL, img.size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(img.base != MAP_FAILED);
	memcpy(img.base, umem_base(umm), img.size);
	img.applied = 0;

	for (tx = 0; tx < 600; tx++) {
		bool abort_it = d_test_rand(&rng) % 8 == 0;
		int ops = 1 + (int)(d_test_rand(&rng) % 4);
		int nr_before = nr;
		struct live saved[MAX_LIVE];
		uint64_t lsn;
		int rc;

		memcpy(saved, live, sizeof(live[0]) * (size_t)nr);
		assert_int_equal(umem_tx_begin(umm), 0);
		for (i = 0; i < ops; i++) {
			uint64_t r = d_test_rand(&rng);

			if (nr < MAX_LIVE && (nr == 0 || r % 3 != 0)) {
				size_t size = 1 + (size_t)(d_test_rand(&rng) % 3000);
				umem_off_t off = umem_alloc(umm, size);

				assert_true(off != UMOFF_NULL);
				live[nr].off = off;
				live[nr].size = size;
				live[nr].seed = (uint8_t)d_test_rand(&rng);
				fill(umm, off, size, live[nr].seed);
				nr++;
			} else if (r % 2 == 0) {
				int k = (int)(d_test_rand(&rng) % (uint64_t)nr);

				assert_int_equal(umem_free(umm, live[k].off), 0);
				live[k] = live[--nr];
			} else {
				int k = (int)(d_test_rand(&rng) % (uint64_t)nr);

				assert_int_equal(umem_tx_add(umm, live[k].off, live[k].size), 0);
				live[k].seed = (uint8_t)d_test_rand(&rng);
				fill(umm, live[k].off, live[k].size, live[k].seed);
			}
		}
		rc = umem_tx_end(umm, abort_it ? -DER_CANCELED : 0);
		if (abort_it) {
			assert_int_equal(rc, -DER_CANCELED);
			memcpy(live, saved, sizeof(live[0]) * (size_t)nr_before);
			nr = nr_before;
			continue;
		}
		assert_int_equal(rc, 0);
		commits++;
		lsn = umem_tx_last_lsn(umm);
		assert_int_equal(lsn, bio_wal_last_lsn(wal));
		switch (d_test_rand(&rng) % 8) {
		case 0:
			assert_int_equal(bio_wal_wait(wal, lsn, bio_wal_wait_io, wal), 0);
			break;
		case 1:
		case 2:
			assert_int_equal(bio_wal_on_durable(wal, lsn, durable_cb, &acked), 0);
			break;
		default:
			bio_wal_poll(wal);
			break;
		}
	}
	assert_int_equal(bio_wal_flush_wait(wal), 0);
	assert_int_equal(bio_wal_close(wal), 0);
	assert_true(acked > 0);

	/* restart: checkpoint + WAL replay */
	assert_int_equal(bio_wal_open(wd.wd_path, NULL, &wal), 0);
	assert_int_equal(bio_wal_replay(wal, 0, apply_cb, &img, &info), 0);
	assert_int_equal(info.ri_applied, commits);
	assert_int_equal(img.applied, commits);
	assert_int_equal(bio_wal_close(wal), 0);
	assert_int_equal(umem_open(img.base, img.size, NULL, NULL, &copy), 0);

	umem_query(umm, &st_a);
	umem_query(copy, &st_b);
	assert_memory_equal(&st_a, &st_b, sizeof(st_a));
	for (i = 0; i < nr; i++)
		assert_memory_equal(umem_off2ptr(umm, live[i].off), umem_off2ptr(copy, live[i].off),
				    live[i].size);
	umem_close(copy);
	umem_close(umm);
	wt_dir_fini(&wd);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(t_umem_wal),
	};

	return cmocka_run_group_tests_name("bio_wal_umem", tests, NULL, NULL);
}
