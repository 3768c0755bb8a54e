/*
 * test_meta.c: checkpoints of a heap in the meta file: alternating slots, every slot
 * complete, interrupted checkpoints and damaged images never loaded, fallback to the older
 * image, I/O errors.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <isa-l.h>
#include <gurt/common.h>
#include <daos_srv/umem.h>
#include <d_test.h>

#include "vos_internal.h"
#include "vos_meta.h"

#define HEAP (8UL << 20)

static char dir[64];
static char path[128];

static int
setup(void **state)
{
	(void)state;
	strcpy(dir, "/tmp/d_meta_XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/meta", dir);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	unlink(path);
	rmdir(dir);
	return 0;
}

/* The heap's state as a canonical image (free space zeroed). Caller frees. */
static char *
canon(const void *image)
{
	char *c = malloc(HEAP);

	memcpy(c, image, HEAP);
	assert_int_equal(umem_image_zero_free(c, HEAP), 0);
	return c;
}

/* Open the meta file and compare what it loads with @expect at @lsn. */
static void
check_load(const char *expect, uint64_t lsn)
{
	size_t size;
	uint64_t got_lsn;
	void *image;
	char *c;

	/* the writer has the file open (and locked): read it as it is on disk */
	assert_int_equal(vos_meta_peek(path, &image, &size, &got_lsn), 0);
	assert_int_equal(size, HEAP);
	assert_int_equal(got_lsn, lsn);
	c = canon(image);
	assert_memory_equal(c, expect, HEAP);
	free(c);
	munmap(image, HEAP);
}

/* A transaction that rewrites a random allocation or makes a new one. */
static void
random_change(struct umem_instance *umm, uint64_t *rs, umem_off_t *offs, int *n)
{
	umem_tx_begin(umm);
	if (*n == 0 || d_test_rand(rs) % 3 == 0) {
		size_t size = 1 + d_test_rand(rs) % 5000;
		umem_off_t off = umem_alloc(umm, size);

		assert_true(off != UMOFF_NULL);
		memset(umem_off2ptr(umm, off), (int)d_test_rand(rs), size);
		offs[(*n)++] = off;
	} else {
		umem_off_t off = offs[d_test_rand(rs) % (uint64_t)*n];

		umem_tx_add(umm, off, 16);
		memset(umem_off2ptr(umm, off), (int)d_test_rand(rs), 16);
	}
	assert_int_equal(umem_tx_end(umm, 0), 0);
}

/* Flip one byte of the file at @off. */
static void
flip(uint64_t off)
{
	int fd = open(path, O_RDWR);
	unsigned char b;

	assert_true(fd >= 0);
	assert_int_equal(pread(fd, &b, 1, (off_t)off), 1);
	b ^= 0x40;
	assert_int_equal(pwrite(fd, &b, 1, (off_t)off), 1);
	close(fd);
}

static void
t_meta_checkpoints(void **state)
{
	unsigned int seed = d_test_seed("t_meta_checkpoints");
	uint64_t rs = d_test_rand_seed(seed);
	struct umem_instance *umm;
	struct vos_meta *vm;
	umem_off_t offs[512];
	char *expect[2] = {NULL, NULL}; /* the two newest checkpoints */
	uint64_t lsns[2] = {0, 0};
	int n = 0, k, i;
	size_t size;
	uint64_t lsn;
	void *image;

	(void)state;
	assert_int_equal(umem_create(HEAP, 64, NULL, NULL, &umm), 0);
	assert_int_equal(vos_meta_create(path, umem_base(umm), HEAP, 0), 0);
	assert_int_equal(vos_meta_create(path, umem_base(umm), HEAP, 0), -DER_EXIST);
	expect[1] = canon(umem_base(umm));
	check_load(expect[1], 0);

	assert_int_equal(vos_meta_open(path, &vm, &image, &size, &lsn), 0);
	munmap(image, size);
	while (umem_dirty_next(umm, &(uint64_t){0}))
		; /* the file holds the full image already */
	for (k = 1; k <= 20; k++) {
		for (i = 0; i < 1 + (int)(d_test_rand(&rs) % 20); i++)
			random_change(umm, &rs, offs, &n);
		assert_int_equal(vos_meta_checkpoint(vm, umm, (uint64_t)k), 0);
		free(expect[0]);
		expect[0] = expect[1];
		lsns[0] = lsns[1];
		expect[1] = canon(umem_base(umm));
		lsns[1] = (uint64_t)k;
		/* the older slot is what the WAL must still reach back to */
		assert_int_equal(vos_meta_trim_lsn(vm), lsns[0]);
		check_load(expect[1], lsns[1]);
	}
	vos_meta_close(vm);

	/* damage the newest image: the older one (complete on its own) is loaded */
	{
		struct vos_meta_probe {
			uint64_t magic;
			uint32_t version, slot;
			uint64_t seq;
		} h[2];
		int fd = open(path, O_RDONLY), newest;
		uint64_t slot_bytes = HEAP + ((HEAP / UMEM_PAGE_SIZE * 4 + 4095) & ~4095UL);

		assert_int_equal(pread(fd, &h[0], sizeof(h[0]), 0), (ssize_t)sizeof(h[0]));
		assert_int_equal(pread(fd, &h[1], sizeof(h[1]), 4096), (ssize_t)sizeof(h[1]));
		close(fd);
		newest = h[1].seq > h[0].seq;
		flip(8192 + (uint64_t)newest * slot_bytes + 5 * UMEM_PAGE_SIZE + 77);
		check_load(expect[0], lsns[0]);
		/* and both damaged: a clear error, never a damaged image */
		flip(8192 + (uint64_t)(1 - newest) * slot_bytes + 9 * UMEM_PAGE_SIZE + 3);
		assert_int_equal(vos_meta_open(path, &vm, &image, &size, &lsn), -DER_CSUM);
	}
	free(expect[0]);
	free(expect[1]);
	umem_close(umm);
}

/* An interrupted checkpoint, then an I/O error: the previous one is what loads. */
static void
t_meta_interrupted(void **state)
{
	unsigned int seed = d_test_seed("t_meta_interrupted");
	uint64_t rs = d_test_rand_seed(seed);
	struct d_fault_attr fa = {.fa_id = D_FI_META_CRASH, .fa_max_faults = 1};
	struct umem_instance *umm;
	struct vos_meta *vm;
	umem_off_t offs[512];
	char *good, *now;
	int n = 0, i;
	size_t size;
	uint64_t lsn;
	void *image;

	(void)state;
	assert_int_equal(umem_create(HEAP, 64, NULL, NULL, &umm), 0);
	assert_int_equal(vos_meta_create(path, umem_base(umm), HEAP, 0), 0);
	assert_int_equal(vos_meta_open(path, &vm, &image, &size, &lsn), 0);
	munmap(image, size);
	for (i = 0; i < 30; i++)
		random_change(umm, &rs, offs, &n);
	assert_int_equal(vos_meta_checkpoint(vm, umm, 1), 0);
	good = canon(umem_base(umm));

	for (i = 0; i < 30; i++)
		random_change(umm, &rs, offs, &n);
	d_fault_attr_set(&fa);
	assert_int_equal(vos_meta_checkpoint(vm, umm, 2), -DER_IO);
	d_fault_attr_clear(D_FI_META_CRASH);
	check_load(good, 1);

	fa.fa_id = D_FI_META_WRITE;
	fa.fa_interval = 3;
	d_fault_attr_set(&fa);
	assert_int_equal(vos_meta_checkpoint(vm, umm, 2), -DER_IO);
	d_fault_attr_clear(D_FI_META_WRITE);
	check_load(good, 1);

	/* the pages of the failed attempts are still pending: the next ones are complete */
	assert_int_equal(vos_meta_checkpoint(vm, umm, 3), 0);
	now = canon(umem_base(umm));
	check_load(now, 3);
	random_change(umm, &rs, offs, &n);
	assert_int_equal(vos_meta_checkpoint(vm, umm, 4), 0);
	free(now);
	now = canon(umem_base(umm));
	check_load(now, 4);
	free(now);
	free(good);
	vos_meta_close(vm);
	umem_close(umm);
}

static void
t_meta_garbage(void **state)
{
	unsigned int seed = d_test_seed("t_meta_garbage");
	uint64_t rs = d_test_rand_seed(seed);
	struct vos_meta *vm;
	char buf[16384];
	size_t size;
	uint64_t lsn;
	void *image;
	int fd, i;

	(void)state;
	assert_int_equal(vos_meta_open(path, &vm, &image, &size, &lsn), -DER_NONEXIST);
	for (i = 0; i < 50; i++) {
		size_t j, len = d_test_rand(&rs) % sizeof(buf);
		int rc;

		for (j = 0; j < len; j++)
			buf[j] = (char)d_test_rand(&rs);
		fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
		assert_int_equal(write(fd, buf, len), (ssize_t)len);
		close(fd);
		rc = vos_meta_open(path, &vm, &image, &size, &lsn);
		assert_true(rc == -DER_CSUM || rc == -DER_INVAL);
	}
	unlink(path);
}

/* The on-disk header of a slot (vos_meta.c's struct vos_meta_hdr_df, version 2). */
struct hdr_v2 {
	uint64_t magic;
	uint32_t version;
	uint32_t slot;
	uint64_t seq;
	uint64_t lsn;
	uint64_t img_size;
	uint32_t crc_table;
	uint32_t csum; /* CRC32C of the first 48 bytes (version 1) or all 56, with csum 0 */
	uint32_t flags;
	uint32_t pad;
};

static uint32_t
hdr_crc(struct hdr_v2 *h, size_t len)
{
	uint32_t save = h->csum, crc;

	h->csum = 0;
	crc = crc32_iscsi((unsigned char *)h, (int)len, 0xffffffff);
	h->csum = save;
	return crc;
}

/*
 * Rewrite both (version 2) headers: as a version-1 writer made them (@v1: 48 bytes under
 * the CRC, zeros after), or with no flags (as a clean close leaves them).
 */
static void
hdrs_rewrite(bool v1)
{
	int fd = open(path, O_RDWR), slot;

	assert_true(fd >= 0);
	for (slot = 0; slot < 2; slot++) {
		struct hdr_v2 h;

		assert_int_equal(pread(fd, &h, sizeof(h), slot * 4096), sizeof(h));
		assert_int_equal(h.version, 2);
		assert_int_equal(h.csum, hdr_crc(&h, sizeof(h)));
		h.flags = 0;
		if (v1) {
			h.version = 1;
			h.pad = 0;
		}
		h.csum = hdr_crc(&h, v1 ? 48 : sizeof(h));
		assert_int_equal(pwrite(fd, &h, sizeof(h), slot * 4096), sizeof(h));
	}
	close(fd);
}

/* Open the meta file: it must load @expect at @lsn. Returns the handle. */
static struct vos_meta *
open_check(const char *expect, uint64_t lsn)
{
	struct vos_meta *vm;
	uint64_t got_lsn;
	size_t size;
	void *image;
	char *c;

	assert_int_equal(vos_meta_open(path, &vm, &image, &size, &got_lsn), 0);
	assert_int_equal(got_lsn, lsn);
	c = canon(image);
	assert_memory_equal(c, expect, HEAP);
	free(c);
	munmap(image, size);
	return vm;
}

/* The "no WAL" flag of @slot's header as on disk (its CRC checked). */
static uint32_t
hdr_flags(int slot)
{
	int fd = open(path, O_RDONLY);
	struct hdr_v2 h;

	assert_true(fd >= 0);
	assert_int_equal(pread(fd, &h, sizeof(h), slot * 4096), sizeof(h));
	close(fd);
	assert_int_equal(h.csum, hdr_crc(&h, h.version == 1 ? 48 : sizeof(h)));
	return h.flags;
}

/*
 * Header versions and the "no WAL" mark (VOS_POF_NO_WAL): a file whose headers a version-1
 * writer made opens and loads the same image; the mark, set on both headers, makes the
 * open fail with -DER_DATA_LOSS, also when either header is damaged; cleared, the file
 * opens again with its image, and its headers are version 2 from then on.
 */
static void
t_meta_versions(void **state)
{
	struct umem_instance *umm;
	struct vos_meta *vm;
	umem_off_t off;
	char *expect;
	size_t size;
	uint64_t lsn;
	void *image;
	int slot;

	(void)state;
	assert_int_equal(umem_create(HEAP, 64, NULL, NULL, &umm), 0);
	umem_tx_begin(umm);
	off = umem_alloc(umm, 100);
	assert_true(off != UMOFF_NULL);
	memset(umem_off2ptr(umm, off), 0x6b, 100);
	assert_int_equal(umem_tx_end(umm, 0), 0);
	assert_int_equal(vos_meta_create(path, umem_base(umm), HEAP, 7), 0);
	expect = canon(umem_base(umm));

	/* version 1 headers: still loaded */
	hdrs_rewrite(true);
	vm = open_check(expect, 7);

	/* marked: refused, whichever single header is damaged */
	assert_int_equal(vos_meta_mark_nowal(vm, true), 0);
	vos_meta_close(vm);
	for (slot = 0; slot < 2; slot++)
		assert_int_equal(hdr_flags(slot), 1);
	assert_int_equal(vos_meta_open(path, &vm, &image, &size, &lsn), -DER_DATA_LOSS);
	for (slot = 0; slot < 2; slot++) {
		flip(slot * 4096 + 20); /* in mh_seq: the CRC fails */
		assert_int_equal(vos_meta_open(path, &vm, &image, &size, &lsn), -DER_DATA_LOSS);
		flip(slot * 4096 + 20);
	}
	/* what a test may read without the lock is still there */
	check_load(expect, 7);

	/* cleared (as a clean close does): opens, version 2 headers */
	hdrs_rewrite(false); /* every open is refused: cleared by hand */
	vm = open_check(expect, 7);
	assert_int_equal(vos_meta_mark_nowal(vm, true), 0);
	assert_int_equal(vos_meta_mark_nowal(vm, false), 0);
	vos_meta_close(vm);
	for (slot = 0; slot < 2; slot++)
		assert_int_equal(hdr_flags(slot), 0);
	vm = open_check(expect, 7);
	vos_meta_close(vm);
	free(expect);
	umem_close(umm);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(t_meta_checkpoints, setup, teardown),
	    cmocka_unit_test_setup_teardown(t_meta_interrupted, setup, teardown),
	    cmocka_unit_test_setup_teardown(t_meta_garbage, setup, teardown),
	    cmocka_unit_test_setup_teardown(t_meta_versions, setup, teardown),
	};

	d_log_setmasks("CRIT");
	return cmocka_run_group_tests_name("vos_meta", tests, NULL, NULL);
}
