/*
 * test_vos_io.c: VOS containers, objects, keys and values: update, fetch and punch of single
 * values and array extents at epochs, conditional flags, value placement (heap or data
 * file), container destroy giving back its space, -DER_NOSPACE with nothing half-applied,
 * and a model-based random test: seeded updates, punches and fetches at random epochs,
 * every fetch compared with a plain in-memory model, across pool close/open and across
 * crashes (pools abandoned without a checkpoint).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gurt/common.h>
#include <gurt/fault_inject.h>
#include <daos_srv/vos.h>
#include <d_test.h>

#include "vos_internal.h"
#include "vos_test_fix.h"

static int
setup(void **state)
{
	(void)state;
	vt_setup("d_vos_io", 64ULL << 20, 64ULL << 20, 16ULL << 20);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	vt_teardown();
	return 0;
}

/* A GC yield hook: counts its calls, stops the run at the third. */
static int
gc_yield(void *arg)
{
	return ++*(unsigned int *)arg == 3;
}

/* Run garbage collection to the end and let its frees become durable and reusable. */
static void
gc_all(void)
{
	assert_int_equal(vos_gc_pool(poh, 0, NULL, NULL), 0);
	assert_true(vos_gc_pool_idle(poh));
	assert_int_equal(vos_pool_wait(poh, vos_pool_last_lsn(poh)), 0);
	assert_true(vos_pool_poll(poh) >= 0);
}

static daos_unit_oid_t
test_oid(enum daos_otype_t type, uint64_t lo)
{
	return vt_oid(type, lo, 0x1234);
}

/* Single-value update of one akey. */
static int
upd_sv(daos_unit_oid_t oid, uint64_t epoch, uint64_t flags, const char *dkey, const char *akey,
       const void *buf, size_t size)
{
	daos_key_t dk = vt_key(dkey);
	daos_iod_t iod = {0};
	d_sg_list_t sgl = {0};
	d_iov_t iov;

	iod.iod_name = vt_key(akey);
	iod.iod_type = DAOS_IOD_SINGLE;
	iod.iod_size = size;
	iod.iod_nr = 1;
	d_iov_set(&iov, (void *)buf, size);
	sgl.sg_nr = 1;
	sgl.sg_iovs = &iov;
	return vos_obj_update(coh, oid, epoch, 0, flags, &dk, 1, &iod, NULL, &sgl);
}

/* Single-value fetch into @buf of @len bytes: *@size is the iod_size it returns. */
static int
fetch_sv(daos_unit_oid_t oid, uint64_t epoch, uint64_t flags, const char *dkey, const char *akey,
	 void *buf, size_t len, uint64_t *size)
{
	daos_key_t dk = vt_key(dkey);
	daos_iod_t iod = {0};
	d_sg_list_t sgl = {0};
	d_iov_t iov;
	int rc;

	iod.iod_name = vt_key(akey);
	iod.iod_type = DAOS_IOD_SINGLE;
	iod.iod_size = DAOS_REC_ANY;
	iod.iod_nr = 1;
	d_iov_set(&iov, buf, len);
	iov.iov_len = 0;
	sgl.sg_nr = 1;
	sgl.sg_iovs = &iov;
	rc = vos_obj_fetch(coh, oid, epoch, flags, &dk, 1, &iod, buf != NULL ? &sgl : NULL);
	*size = iod.iod_size;
	if (rc == 0 && buf != NULL) {
		assert_int_equal(sgl.sg_nr_out, iod.iod_size > 0 ? 1 : 0);
		if (iod.iod_size > 0)
			assert_int_equal(iov.iov_len, iod.iod_size);
	}
	return rc;
}

/* Array update of one extent; @buf NULL punches it. */
static int
upd_ar(daos_unit_oid_t oid, uint64_t epoch, const char *dkey, const char *akey, uint64_t rsize,
       uint64_t idx, uint64_t nr, const void *buf)
{
	daos_key_t dk = vt_key(dkey);
	daos_recx_t recx = {.rx_idx = idx, .rx_nr = nr};
	daos_iod_t iod = {0};
	d_sg_list_t sgl = {0};
	d_iov_t iov;

	iod.iod_name = vt_key(akey);
	iod.iod_type = DAOS_IOD_ARRAY;
	iod.iod_size = buf != NULL ? rsize : 0;
	iod.iod_nr = 1;
	iod.iod_recxs = &recx;
	d_iov_set(&iov, (void *)buf, buf != NULL ? rsize * nr : 0);
	sgl.sg_nr = 1;
	sgl.sg_iovs = &iov;
	return vos_obj_update(coh, oid, epoch, 0, 0, &dk, 1, &iod, NULL, buf ? &sgl : NULL);
}

/* Array fetch of one extent; *@rsize in: iod_size, out: what the fetch set. */
static int
fetch_ar(daos_unit_oid_t oid, uint64_t epoch, const char *dkey, const char *akey, uint64_t *rsize,
	 uint64_t idx, uint64_t nr, void *buf, size_t len)
{
	daos_key_t dk = vt_key(dkey);
	daos_recx_t recx = {.rx_idx = idx, .rx_nr = nr};
	daos_iod_t iod = {0};
	d_sg_list_t sgl = {0};
	d_iov_t iov;
	int rc;

	iod.iod_name = vt_key(akey);
	iod.iod_type = DAOS_IOD_ARRAY;
	iod.iod_size = *rsize;
	iod.iod_nr = 1;
	iod.iod_recxs = &recx;
	d_iov_set(&iov, buf, len);
	sgl.sg_nr = 1;
	sgl.sg_iovs = &iov;
	rc = vos_obj_fetch(coh, oid, epoch, 0, &dk, 1, &iod, &sgl);
	*rsize = iod.iod_size;
	return rc;
}

static void
fill(uint8_t *buf, size_t len, unsigned int seed)
{
	size_t i;

	for (i = 0; i < len; i++)
		buf[i] = (uint8_t)(seed * 131 + i * 7 + (i >> 8));
}

/*
 * Single values: versions by epoch, size query, REC2BIG, a zero-size update as a punch.
 */
static void
t_single_basic(void **state)
{
	daos_unit_oid_t oid = test_oid(DAOS_OT_MULTI_HASHED, 1);
	char buf[64];
	uint64_t size;

	(void)state;
	assert_int_equal(upd_sv(oid, 10, 0, "d", "a", "hello", 5), 0);
	assert_int_equal(upd_sv(oid, 20, 0, "d", "a", "world!!", 7), 0);

	assert_int_equal(fetch_sv(oid, 9, 0, "d", "a", buf, sizeof(buf), &size), 0);
	assert_int_equal(size, 0);
	memset(buf, 0, sizeof(buf));
	assert_int_equal(fetch_sv(oid, 10, 0, "d", "a", buf, sizeof(buf), &size), 0);
	assert_int_equal(size, 5);
	assert_memory_equal(buf, "hello", 5);
	assert_int_equal(fetch_sv(oid, 19, 0, "d", "a", buf, sizeof(buf), &size), 0);
	assert_int_equal(size, 5);
	assert_int_equal(fetch_sv(oid, 20, 0, "d", "a", buf, sizeof(buf), &size), 0);
	assert_int_equal(size, 7);
	assert_memory_equal(buf, "world!!", 7);
	assert_int_equal(fetch_sv(oid, DAOS_EPOCH_MAX, 0, "d", "a", buf, sizeof(buf), &size), 0);
	assert_int_equal(size, 7);

	/* size only (no sgl), and a buffer too small */
	assert_int_equal(fetch_sv(oid, 15, 0, "d", "a", NULL, 0, &size), 0);
	assert_int_equal(size, 5);
	assert_int_equal(fetch_sv(oid, 25, 0, "d", "a", buf, 6, &size), -DER_REC2BIG);
	assert_int_equal(size, 7);

	/* a zero-size update punches the value from then on */
	assert_int_equal(upd_sv(oid, 30, 0, "d", "a", NULL, 0), 0);
	assert_int_equal(fetch_sv(oid, 30, 0, "d", "a", buf, sizeof(buf), &size), 0);
	assert_int_equal(size, 0);
	assert_int_equal(fetch_sv(oid, 29, 0, "d", "a", buf, sizeof(buf), &size), 0);
	assert_int_equal(size, 7);

	/* absent object, dkey, akey: nothing, no error */
	assert_int_equal(
	    fetch_sv(test_oid(DAOS_OT_MULTI_HASHED, 99), 30, 0, "d", "a", buf, sizeof(buf), &size),
	    0);
	assert_int_equal(size, 0);
	assert_int_equal(fetch_sv(oid, 30, 0, "x", "a", buf, sizeof(buf), &size), 0);
	assert_int_equal(fetch_sv(oid, 30, 0, "d", "x", buf, sizeof(buf), &size), 0);
	assert_int_equal(size, 0);

	/* bad epochs */
	assert_int_equal(upd_sv(oid, 0, 0, "d", "a", "x", 1), -DER_INVAL);
	assert_int_equal(upd_sv(oid, DAOS_EPOCH_MAX, 0, "d", "a", "x", 1), -DER_INVAL);
	assert_int_equal(fetch_sv(oid, 0, 0, "d", "a", buf, sizeof(buf), &size), -DER_INVAL);
}

/*
 * Arrays: overlapping extents at epochs, holes zero-filled, record-size query, range punch.
 */
static void
t_array_basic(void **state)
{
	daos_unit_oid_t oid = test_oid(DAOS_OT_MULTI_HASHED, 2);
	uint8_t a[16], b[16], out[32], want[32];
	uint64_t rsize;

	(void)state;
	memset(a, 'a', sizeof(a));
	memset(b, 'b', sizeof(b));
	assert_int_equal(upd_ar(oid, 10, "d", "arr", 1, 0, 10, a), 0);
	assert_int_equal(upd_ar(oid, 20, "d", "arr", 1, 5, 10, b), 0);

	/* at 25: a[0..4], b[5..14], zeroes after */
	memset(out, 0xff, sizeof(out));
	memset(want, 0, sizeof(want));
	memset(want, 'a', 5);
	memset(want + 5, 'b', 10);
	rsize = 1;
	assert_int_equal(fetch_ar(oid, 25, "d", "arr", &rsize, 0, 20, out, sizeof(out)), 0);
	assert_int_equal(rsize, 1);
	assert_memory_equal(out, want, 20);
	/* at 15: a[0..9] only */
	memset(want, 0, sizeof(want));
	memset(want, 'a', 10);
	rsize = 0; /* ask for the record size */
	assert_int_equal(fetch_ar(oid, 15, "d", "arr", &rsize, 0, 20, out, sizeof(out)), 0);
	assert_int_equal(rsize, 1);
	assert_memory_equal(out, want, 20);
	/* before anything, or where nothing is: iod_size 0 */
	rsize = 1;
	assert_int_equal(fetch_ar(oid, 9, "d", "arr", &rsize, 0, 20, out, sizeof(out)), 0);
	assert_int_equal(rsize, 0);
	rsize = 1;
	assert_int_equal(fetch_ar(oid, 25, "d", "arr", &rsize, 100, 20, out, sizeof(out)), 0);
	assert_int_equal(rsize, 0);
	/* a buffer too small */
	rsize = 1;
	assert_int_equal(fetch_ar(oid, 25, "d", "arr", &rsize, 0, 20, out, 19), -DER_REC2BIG);
	assert_int_equal(rsize, 1);
	/* reading with another record size */
	rsize = 2;
	assert_int_equal(fetch_ar(oid, 25, "d", "arr", &rsize, 0, 10, out, sizeof(out)),
			 -DER_INVAL);

	/* punch [3, 7) at 30 */
	assert_int_equal(upd_ar(oid, 30, "d", "arr", 1, 3, 4, NULL), 0);
	memset(want, 0, sizeof(want));
	memset(want, 'a', 3);
	memset(want + 7, 'b', 8);
	rsize = 1;
	assert_int_equal(fetch_ar(oid, 30, "d", "arr", &rsize, 0, 20, out, sizeof(out)), 0);
	assert_memory_equal(out, want, 20);
	memset(want, 0, sizeof(want));
	memset(want, 'a', 5);
	memset(want + 5, 'b', 10);
	assert_int_equal(fetch_ar(oid, 29, "d", "arr", &rsize, 0, 20, out, sizeof(out)), 0);
	assert_memory_equal(out, want, 20);
	/* only the punched range: nothing visible */
	rsize = 1;
	assert_int_equal(fetch_ar(oid, 30, "d", "arr", &rsize, 3, 4, out, sizeof(out)), 0);
	assert_int_equal(rsize, 0);
}

/*
 * Several iods in one update and one fetch, each with sgls of several iovs.
 */
static void
t_multi_iod(void **state)
{
	daos_unit_oid_t oid = test_oid(DAOS_OT_MULTI_HASHED, 3);
	daos_key_t dkey = vt_key("dkey");
	daos_recx_t recx[2] = {{.rx_idx = 2, .rx_nr = 3}, {.rx_idx = 10, .rx_nr = 2}};
	daos_iod_t iods[3] = {0};
	d_sg_list_t sgls[3] = {0};
	d_iov_t iovs[3][3];
	uint8_t src[3][100], dst[3][100];
	int i;

	(void)state;
	for (i = 0; i < 3; i++)
		fill(src[i], sizeof(src[i]), (unsigned int)i + 1);
	iods[0].iod_name = vt_key("s0");
	iods[0].iod_type = DAOS_IOD_SINGLE;
	iods[0].iod_size = 23;
	iods[1].iod_name = vt_key("s1");
	iods[1].iod_type = DAOS_IOD_SINGLE;
	iods[1].iod_size = 1;
	iods[2].iod_name = vt_key("arr");
	iods[2].iod_type = DAOS_IOD_ARRAY;
	iods[2].iod_size = 4;
	iods[2].iod_nr = 2;
	iods[2].iod_recxs = recx;
	/* 23 bytes as 10 + 0 + 13; 1 byte; 20 bytes as 7 + 7 + 6 */
	d_iov_set(&iovs[0][0], src[0], 10);
	d_iov_set(&iovs[0][1], src[0] + 10, 0);
	d_iov_set(&iovs[0][2], src[0] + 10, 13);
	d_iov_set(&iovs[1][0], src[1], 1);
	d_iov_set(&iovs[2][0], src[2], 7);
	d_iov_set(&iovs[2][1], src[2] + 7, 7);
	d_iov_set(&iovs[2][2], src[2] + 14, 6);
	for (i = 0; i < 3; i++)
		sgls[i].sg_iovs = iovs[i];
	sgls[0].sg_nr = 3;
	sgls[1].sg_nr = 1;
	sgls[2].sg_nr = 3;
	assert_int_equal(vos_obj_update(coh, oid, 5, 0, 0, &dkey, 3, iods, NULL, sgls), 0);

	/* read back through other splits: 5 + 40; 50; 3 + 30 */
	memset(dst, 0, sizeof(dst));
	d_iov_set(&iovs[0][0], dst[0], 5);
	d_iov_set(&iovs[0][1], dst[0] + 5, 40);
	d_iov_set(&iovs[1][0], dst[1], 50);
	d_iov_set(&iovs[2][0], dst[2], 3);
	d_iov_set(&iovs[2][1], dst[2] + 3, 30);
	sgls[0].sg_nr = 2;
	sgls[2].sg_nr = 2;
	iods[0].iod_size = 0;
	iods[1].iod_size = 0;
	iods[2].iod_size = 0;
	assert_int_equal(vos_obj_fetch(coh, oid, 5, 0, &dkey, 3, iods, sgls), 0);
	assert_int_equal(iods[0].iod_size, 23);
	assert_int_equal(iods[1].iod_size, 1);
	assert_int_equal(iods[2].iod_size, 4);
	assert_int_equal(sgls[0].sg_nr_out, 2);
	assert_int_equal(iovs[0][0].iov_len, 5);
	assert_int_equal(iovs[0][1].iov_len, 18);
	assert_memory_equal(dst[0], src[0], 23);
	assert_int_equal(sgls[1].sg_nr_out, 1);
	assert_int_equal(iovs[1][0].iov_len, 1);
	assert_memory_equal(dst[1], src[1], 1);
	assert_int_equal(sgls[2].sg_nr_out, 2);
	assert_int_equal(iovs[2][0].iov_len, 3);
	assert_int_equal(iovs[2][1].iov_len, 17);
	assert_memory_equal(dst[2], src[2], 20);

	/* an sgl shorter than the values: refused, nothing applied */
	d_iov_set(&iovs[0][0], src[0], 22);
	sgls[0].sg_nr = 1;
	iods[0].iod_size = 23;
	iods[1].iod_size = 1;
	d_iov_set(&iovs[1][0], src[1], 1);
	assert_int_equal(vos_obj_update(coh, oid, 6, 0, 0, &dkey, 2, iods, NULL, sgls), -DER_INVAL);
}

/*
 * An akey keeps its value type; a mismatch fails the whole update.
 */
static void
t_type_mismatch(void **state)
{
	daos_unit_oid_t oid = test_oid(DAOS_OT_MULTI_HASHED, 4);
	daos_key_t dkey = vt_key("d");
	daos_recx_t recx = {.rx_idx = 0, .rx_nr = 4};
	daos_iod_t iods[2] = {0};
	d_sg_list_t sgls[2] = {0};
	d_iov_t iovs[2];
	uint8_t buf[8] = "abcdefg";
	uint64_t size, rsize;

	(void)state;
	assert_int_equal(upd_sv(oid, 1, 0, "d", "sv", "xyz", 3), 0);
	assert_int_equal(upd_ar(oid, 2, "d", "sv", 1, 0, 4, buf), -DER_INVAL);
	assert_int_equal(upd_ar(oid, 2, "d", "ar", 1, 0, 4, buf), 0);
	assert_int_equal(upd_sv(oid, 3, 0, "d", "ar", "xyz", 3), -DER_INVAL);

	/* new akey "n" + the mismatched "sv" in one update: neither applied */
	iods[0].iod_name = vt_key("n");
	iods[0].iod_type = DAOS_IOD_SINGLE;
	iods[0].iod_size = 2;
	iods[1].iod_name = vt_key("sv");
	iods[1].iod_type = DAOS_IOD_ARRAY;
	iods[1].iod_size = 1;
	iods[1].iod_nr = 1;
	iods[1].iod_recxs = &recx;
	d_iov_set(&iovs[0], buf, 2);
	d_iov_set(&iovs[1], buf, 4);
	sgls[0].sg_nr = sgls[1].sg_nr = 1;
	sgls[0].sg_iovs = &iovs[0];
	sgls[1].sg_iovs = &iovs[1];
	assert_int_equal(vos_obj_update(coh, oid, 4, 0, 0, &dkey, 2, iods, NULL, sgls), -DER_INVAL);
	assert_int_equal(fetch_sv(oid, 10, 0, "d", "n", buf, sizeof(buf), &size), 0);
	assert_int_equal(size, 0);

	/* fetching with the other type */
	rsize = 1;
	assert_int_equal(fetch_ar(oid, 10, "d", "sv", &rsize, 0, 4, buf, sizeof(buf)), -DER_INVAL);
	assert_int_equal(fetch_sv(oid, 10, 0, "d", "ar", buf, sizeof(buf), &size), -DER_INVAL);

	/* an akey that was only punched takes the type of its first update */
	assert_int_equal(vos_obj_punch(coh, oid, 5, 0, 0, &dkey, 1, &iods[0].iod_name, NULL), 0);
	assert_int_equal(upd_ar(oid, 6, "d", "n", 1, 0, 4, "abcd"), 0);
	assert_int_equal(upd_sv(oid, 7, 0, "d", "n", "xy", 2), -DER_INVAL);
}

/*
 * Conditional updates, punches and fetches, each way.
 */
static void
t_cond(void **state)
{
	daos_unit_oid_t oid = test_oid(DAOS_OT_MULTI_HASHED, 5);
	daos_unit_oid_t none = test_oid(DAOS_OT_MULTI_HASHED, 55);
	daos_key_t dkey = vt_key("d"), dnew = vt_key("dn"), akey = vt_key("a"), anew = vt_key("an");
	daos_iod_t iods[2] = {0};
	d_sg_list_t sgls[2] = {0};
	d_iov_t iovs[2];
	char buf[16];
	uint64_t size;

	(void)state;
	assert_int_equal(upd_sv(oid, 10, 0, "d", "a", "v1", 2), 0);

	/* dkey insert / update */
	assert_int_equal(upd_sv(oid, 11, DAOS_COND_DKEY_INSERT, "d", "b", "v", 1), -DER_EXIST);
	assert_int_equal(upd_sv(oid, 11, DAOS_COND_DKEY_INSERT, "dn", "b", "v", 1), 0);
	assert_int_equal(upd_sv(oid, 12, DAOS_COND_DKEY_UPDATE, "dx", "b", "v", 1), -DER_NONEXIST);
	assert_int_equal(upd_sv(oid, 12, DAOS_COND_DKEY_UPDATE, "d", "b", "v", 1), 0);
	/* visibility is at the epoch: the dkey "dn" did not exist at 5 */
	assert_int_equal(upd_sv(oid, 5, DAOS_COND_DKEY_UPDATE, "dn", "b", "v", 1), -DER_NONEXIST);
	assert_int_equal(upd_sv(oid, 5, DAOS_COND_DKEY_INSERT, "dn", "c", "v", 1), 0);

	/* akey insert / update */
	assert_int_equal(upd_sv(oid, 13, DAOS_COND_AKEY_INSERT, "d", "a", "v", 1), -DER_EXIST);
	assert_int_equal(upd_sv(oid, 13, DAOS_COND_AKEY_INSERT, "d", "c", "v", 1), 0);
	assert_int_equal(upd_sv(oid, 14, DAOS_COND_AKEY_UPDATE, "d", "x", "v", 1), -DER_NONEXIST);
	assert_int_equal(upd_sv(oid, 14, DAOS_COND_AKEY_UPDATE, "d", "a", "v2", 2), 0);

	/* per akey, and a failure on the second iod applies nothing of the first */
	iods[0].iod_name = anew;
	iods[0].iod_type = DAOS_IOD_SINGLE;
	iods[0].iod_size = 1;
	iods[0].iod_flags = DAOS_COND_AKEY_INSERT;
	iods[1].iod_name = akey;
	iods[1].iod_type = DAOS_IOD_SINGLE;
	iods[1].iod_size = 1;
	iods[1].iod_flags = DAOS_COND_AKEY_INSERT;
	d_iov_set(&iovs[0], "x", 1);
	d_iov_set(&iovs[1], "y", 1);
	sgls[0].sg_nr = sgls[1].sg_nr = 1;
	sgls[0].sg_iovs = &iovs[0];
	sgls[1].sg_iovs = &iovs[1];
	assert_int_equal(
	    vos_obj_update(coh, oid, 15, 0, DAOS_COND_PER_AKEY, &dkey, 2, iods, NULL, sgls),
	    -DER_EXIST);
	assert_int_equal(fetch_sv(oid, 20, 0, "d", "an", buf, sizeof(buf), &size), 0);
	assert_int_equal(size, 0);
	iods[1].iod_flags = DAOS_COND_AKEY_UPDATE;
	assert_int_equal(
	    vos_obj_update(coh, oid, 15, 0, DAOS_COND_PER_AKEY, &dkey, 2, iods, NULL, sgls), 0);
	assert_int_equal(fetch_sv(oid, 20, 0, "d", "an", buf, sizeof(buf), &size), 0);
	assert_int_equal(size, 1);
	assert_int_equal(fetch_sv(oid, 20, 0, "d", "a", buf, sizeof(buf), &size), 0);
	assert_memory_equal(buf, "y", 1);

	/* conditional fetches */
	assert_int_equal(
	    fetch_sv(oid, 20, DAOS_COND_DKEY_FETCH, "dx", "a", buf, sizeof(buf), &size),
	    -DER_NONEXIST);
	assert_int_equal(
	    fetch_sv(none, 20, DAOS_COND_DKEY_FETCH, "d", "a", buf, sizeof(buf), &size),
	    -DER_NONEXIST);
	assert_int_equal(fetch_sv(oid, 20, DAOS_COND_DKEY_FETCH, "d", "a", buf, sizeof(buf), &size),
			 0);
	assert_int_equal(size, 1);
	assert_int_equal(
	    fetch_sv(oid, 20, DAOS_COND_AKEY_FETCH, "d", "zz", buf, sizeof(buf), &size),
	    -DER_NONEXIST);
	assert_int_equal(fetch_sv(oid, 9, DAOS_COND_AKEY_FETCH, "d", "a", buf, sizeof(buf), &size),
			 -DER_NONEXIST);
	assert_int_equal(fetch_sv(oid, 10, DAOS_COND_AKEY_FETCH, "d", "a", buf, sizeof(buf), &size),
			 0);

	/* conditional punches */
	assert_int_equal(vos_obj_punch(coh, none, 30, 0, DAOS_COND_PUNCH, NULL, 0, NULL, NULL),
			 -DER_NONEXIST);
	assert_int_equal(vos_obj_punch(coh, oid, 30, 0, DAOS_COND_PUNCH, &dnew, 1, &anew, NULL),
			 -DER_NONEXIST);
	assert_int_equal(vos_obj_punch(coh, oid, 30, 0, DAOS_COND_PUNCH, &dkey, 1, &anew, NULL), 0);
	assert_int_equal(vos_obj_punch(coh, oid, 31, 0, DAOS_COND_PUNCH, &dkey, 1, &anew, NULL),
			 -DER_NONEXIST);
	assert_int_equal(vos_obj_punch(coh, oid, 32, 0, DAOS_COND_PUNCH, &dnew, 0, NULL, NULL), 0);
	assert_int_equal(vos_obj_punch(coh, oid, 33, 0, DAOS_COND_PUNCH, &dnew, 0, NULL, NULL),
			 -DER_NONEXIST);
	assert_int_equal(vos_obj_punch(coh, oid, 34, 0, DAOS_COND_PUNCH, NULL, 0, NULL, NULL), 0);
	assert_int_equal(vos_obj_punch(coh, oid, 35, 0, DAOS_COND_PUNCH, NULL, 0, NULL, NULL),
			 -DER_NONEXIST);
	/* after the object punch no key is visible: conditional updates agree */
	assert_int_equal(upd_sv(oid, 36, DAOS_COND_DKEY_UPDATE, "d", "a", "v", 1), -DER_NONEXIST);
	assert_int_equal(upd_sv(oid, 36, DAOS_COND_DKEY_INSERT, "d", "a", "v", 1), 0);
	(void)akey;
}

/*
 * Punches of objects, dkeys, akeys and their visibility below, at and above their epoch;
 * punches recorded before the older updates they hide arrive.
 */
static void
t_punch(void **state)
{
	daos_unit_oid_t oid = test_oid(DAOS_OT_MULTI_HASHED, 6);
	daos_key_t d1 = vt_key("d1"), a1 = vt_key("a1");
	char buf[16];
	uint64_t size, rsize;

	(void)state;
	assert_int_equal(upd_sv(oid, 10, 0, "d1", "a1", "v10", 3), 0);
	assert_int_equal(upd_sv(oid, 10, 0, "d1", "a2", "w10", 3), 0);
	assert_int_equal(upd_sv(oid, 10, 0, "d2", "a1", "x10", 3), 0);
	assert_int_equal(upd_ar(oid, 10, "d2", "arr", 1, 0, 4, "abcd"), 0);

	/* akey punch at 20 */
	assert_int_equal(vos_obj_punch(coh, oid, 20, 0, 0, &d1, 1, &a1, NULL), 0);
	assert_int_equal(fetch_sv(oid, 19, 0, "d1", "a1", buf, sizeof(buf), &size), 0);
	assert_int_equal(size, 3);
	assert_int_equal(fetch_sv(oid, 20, 0, "d1", "a1", buf, sizeof(buf), &size), 0);
	assert_int_equal(size, 0);
	assert_int_equal(fetch_sv(oid, 21, 0, "d1", "a2", buf, sizeof(buf), &size), 0);
	assert_int_equal(size, 3);

	/* dkey punch at 30 */
	assert_int_equal(vos_obj_punch(coh, oid, 30, 0, 0, &d1, 0, NULL, NULL), 0);
	assert_int_equal(fetch_sv(oid, 29, 0, "d1", "a2", buf, sizeof(buf), &size), 0);
	assert_int_equal(size, 3);
	assert_int_equal(fetch_sv(oid, 30, 0, "d1", "a2", buf, sizeof(buf), &size), 0);
	assert_int_equal(size, 0);
	assert_int_equal(fetch_sv(oid, 30, 0, "d2", "a1", buf, sizeof(buf), &size), 0);
	assert_int_equal(size, 3);

	/* object punch at 40 hides the arrays too */
	assert_int_equal(vos_obj_punch(coh, oid, 40, 0, 0, NULL, 0, NULL, NULL), 0);
	assert_int_equal(fetch_sv(oid, 40, 0, "d2", "a1", buf, sizeof(buf), &size), 0);
	assert_int_equal(size, 0);
	rsize = 1;
	assert_int_equal(fetch_ar(oid, 45, "d2", "arr", &rsize, 0, 4, buf, sizeof(buf)), 0);
	assert_int_equal(rsize, 0);
	rsize = 1;
	assert_int_equal(fetch_ar(oid, 39, "d2", "arr", &rsize, 0, 4, buf, sizeof(buf)), 0);
	assert_int_equal(rsize, 1);
	assert_memory_equal(buf, "abcd", 4);

	/* writes after the punch are visible above them, the old ones stay hidden */
	assert_int_equal(upd_sv(oid, 50, 0, "d2", "a1", "x50", 3), 0);
	assert_int_equal(fetch_sv(oid, 50, 0, "d2", "a1", buf, sizeof(buf), &size), 0);
	assert_int_equal(size, 3);
	assert_memory_equal(buf, "x50", 3);
	assert_int_equal(fetch_sv(oid, 49, 0, "d2", "a1", buf, sizeof(buf), &size), 0);
	assert_int_equal(size, 0);
	assert_int_equal(fetch_sv(oid, 55, 0, "d1", "a2", buf, sizeof(buf), &size), 0);
	assert_int_equal(size, 0);

	/* a punch of keys never written, then an older update arrives: hidden above the punch */
	assert_int_equal(vos_obj_punch(coh, oid, 70, 0, 0, &d1, 1, &a1, NULL), 0);
	assert_int_equal(upd_sv(oid, 65, 0, "d1", "a1", "late", 4), 0);
	assert_int_equal(fetch_sv(oid, 69, 0, "d1", "a1", buf, sizeof(buf), &size), 0);
	assert_int_equal(size, 4);
	assert_int_equal(fetch_sv(oid, 70, 0, "d1", "a1", buf, sizeof(buf), &size), 0);
	assert_int_equal(size, 0);
	assert_int_equal(
	    vos_obj_punch(coh, test_oid(DAOS_OT_MULTI_HASHED, 66), 80, 0, 0, NULL, 0, NULL, NULL),
	    0);
	assert_int_equal(upd_sv(test_oid(DAOS_OT_MULTI_HASHED, 66), 75, 0, "d", "a", "z", 1), 0);
	assert_int_equal(
	    fetch_sv(test_oid(DAOS_OT_MULTI_HASHED, 66), 80, 0, "d", "a", buf, sizeof(buf), &size),
	    0);
	assert_int_equal(size, 0);

	/* an update and a punch of one key at one epoch have no order */
	assert_int_equal(upd_sv(oid, 90, 0, "d2", "a1", "u", 1), 0);
	assert_int_equal(vos_obj_punch(coh, oid, 90, 0, 0, NULL, 0, NULL, NULL), -DER_NO_PERM);
	assert_int_equal(fetch_sv(oid, 90, 0, "d2", "a1", buf, sizeof(buf), &size), 0);
	assert_int_equal(size, 1);
}

/*
 * Key kinds: uint64 and lexical dkeys/akeys, and key validation.
 */
static void
t_key_kinds(void **state)
{
	daos_unit_oid_t ou = test_oid(DAOS_OT_MULTI_UINT64, 7);
	daos_unit_oid_t ol = test_oid(DAOS_OT_MULTI_LEXICAL, 8);
	uint64_t k1 = 1, k2 = 1ULL << 40, v;
	daos_key_t dk, ak;
	daos_iod_t iod = {0};
	d_sg_list_t sgl = {0};
	d_iov_t iov;
	char big[200];
	int i;

	(void)state;
	for (i = 0; i < 2; i++) {
		d_iov_set(&dk, i ? &k2 : &k1, sizeof(k1));
		d_iov_set(&ak, i ? &k1 : &k2, sizeof(k1));
		v = 100 + (uint64_t)i;
		iod.iod_name = ak;
		iod.iod_type = DAOS_IOD_SINGLE;
		iod.iod_size = sizeof(v);
		d_iov_set(&iov, &v, sizeof(v));
		sgl.sg_nr = 1;
		sgl.sg_iovs = &iov;
		assert_int_equal(vos_obj_update(coh, ou, 1, 0, 0, &dk, 1, &iod, NULL, &sgl), 0);
	}
	for (i = 0; i < 2; i++) {
		d_iov_set(&dk, i ? &k2 : &k1, sizeof(k1));
		iod.iod_name = i ? (daos_key_t){&k1, 8, 8} : (daos_key_t){&k2, 8, 8};
		iod.iod_size = 0;
		v = 0;
		assert_int_equal(vos_obj_fetch(coh, ou, 2, 0, &dk, 1, &iod, &sgl), 0);
		assert_int_equal(iod.iod_size, 8);
		assert_int_equal(v, 100 + (uint64_t)i);
	}
	/* a uint64 key must have 8 bytes */
	d_iov_set(&dk, &k1, 4);
	assert_int_equal(vos_obj_update(coh, ou, 1, 0, 0, &dk, 1, &iod, NULL, &sgl), -DER_INVAL);
	assert_int_equal(upd_sv(ou, 3, 0, "abc", "x", "v", 1), -DER_INVAL);

	/* lexical keys: at most 96 bytes */
	assert_int_equal(upd_sv(ol, 1, 0, "apple", "x", "1", 1), 0);
	assert_int_equal(upd_sv(ol, 1, 0, "apples", "x", "2", 1), 0);
	memset(big, 'k', sizeof(big));
	big[sizeof(big) - 1] = 0;
	assert_int_equal(upd_sv(ol, 1, 0, big, "x", "3", 1), -DER_KEY2BIG);
	assert_int_equal(fetch_sv(ol, 2, 0, "apple", "x", big, sizeof(big), &v), 0);
	assert_int_equal(v, 1);
	assert_int_equal(big[0], '1');

	/* empty and missing keys */
	assert_int_equal(upd_sv(ol, 1, 0, "", "x", "3", 1), -DER_INVAL);
	assert_int_equal(vos_obj_update(coh, ol, 1, 0, 0, NULL, 1, &iod, NULL, &sgl), -DER_INVAL);
}

/*
 * Values on both sides of VOS_DATA_THRESH: heap or data file, read back, accounted.
 */
static void
t_sizes(void **state)
{
	static const size_t sizes[] = {
	    1, 64, VOS_DATA_THRESH - 1, VOS_DATA_THRESH, VOS_DATA_THRESH + 1, 1 << 20};
	daos_unit_oid_t oid = test_oid(DAOS_OT_MULTI_HASHED, 9);
	struct vos_pool_info p0, p1;
	struct vos_cont_info c0, c1;
	uint8_t *src, *dst;
	uint64_t size, rsize;
	char akey[16];
	size_t i;

	(void)state;
	D_ALLOC(src, 1 << 20);
	D_ALLOC(dst, 1 << 20);
	assert_non_null(src);
	assert_non_null(dst);
	for (i = 0; i < D_ARRAY_SIZE(sizes); i++) {
		size_t n = sizes[i];
		bool data = n >= VOS_DATA_THRESH;

		fill(src, n, (unsigned int)i);
		assert_int_equal(vos_pool_query(poh, &p0), 0);
		assert_int_equal(vos_cont_query(coh, &c0), 0);
		snprintf(akey, sizeof(akey), "sv%zu", i);
		assert_int_equal(upd_sv(oid, 10, 0, "d", akey, src, n), 0);
		snprintf(akey, sizeof(akey), "ar%zu", i);
		assert_int_equal(upd_ar(oid, 10, "d", akey, 1, 7, n, src), 0);
		assert_int_equal(vos_pool_query(poh, &p1), 0);
		assert_int_equal(vos_cont_query(coh, &c1), 0);
		if (data) {
			assert_int_equal(p0.pi_data_free - p1.pi_data_free, 2 * vos_data_bytes(n));
			assert_int_equal(c1.ci_used_data - c0.ci_used_data, 2 * vos_data_bytes(n));
			assert_int_equal(c1.ci_used_scm, c0.ci_used_scm);
		} else {
			assert_int_equal(p0.pi_data_free, p1.pi_data_free);
			assert_int_equal(c1.ci_used_scm - c0.ci_used_scm, 2 * n);
			assert_int_equal(c1.ci_used_data, c0.ci_used_data);
		}
	}
	vt_pool_reopen(false);
	for (i = 0; i < D_ARRAY_SIZE(sizes); i++) {
		size_t n = sizes[i];

		fill(src, n, (unsigned int)i);
		memset(dst, 0, n);
		snprintf(akey, sizeof(akey), "sv%zu", i);
		assert_int_equal(fetch_sv(oid, 10, 0, "d", akey, dst, n, &size), 0);
		assert_int_equal(size, n);
		assert_memory_equal(dst, src, n);
		memset(dst, 0, n);
		snprintf(akey, sizeof(akey), "ar%zu", i);
		rsize = 0;
		assert_int_equal(fetch_ar(oid, 10, "d", akey, &rsize, 7, n, dst, n), 0);
		assert_int_equal(rsize, 1);
		assert_memory_equal(dst, src, n);
		/* a part of the extent, from the middle */
		if (n > 10) {
			rsize = 1;
			assert_int_equal(fetch_ar(oid, 10, "d", akey, &rsize, 9, n - 4, dst, n), 0);
			assert_memory_equal(dst, src + 2, n - 4);
		}
	}
	assert_int_equal(vos_cont_query(coh, &c1), 0);
	assert_int_equal(c1.ci_nobjs, 1);
	assert_int_equal(c1.ci_used, c1.ci_used_scm + c1.ci_used_data);
	D_FREE(src);
	D_FREE(dst);
}

/*
 * vos_iterate's callbacks: order of pre and post calls, skipping a subtree, aborting,
 * starting below the top, a callback that deletes what it is given, bad arguments.
 */
struct cb_log {
	char cl_ev[64][16];
	unsigned int cl_nr;
	const char *cl_skip;  /* pre_cb: skip under the key of this name */
	const char *cl_abort; /* pre_cb: abort at the key of this name */
	bool cl_punch;        /* pre_cb: punch the dkey it is given, at epoch 100 */
};

static int
cb_record(daos_handle_t ih, vos_iter_entry_t *ent, vos_iter_type_t type, vos_iter_param_t *param,
	  void *arg, unsigned int *acts, char tag)
{
	struct cb_log *cl = arg;
	char name[8] = {0};

	(void)ih;
	if (type == VOS_ITER_DKEY || type == VOS_ITER_AKEY)
		memcpy(name, ent->ie_key.iov_buf,
		       ent->ie_key.iov_len < sizeof(name) - 1 ? ent->ie_key.iov_len
							      : sizeof(name) - 1);
	else if (type == VOS_ITER_SINGLE)
		snprintf(name, sizeof(name), "@%" PRIu64, ent->ie_epoch);
	else if (type == VOS_ITER_RECX)
		snprintf(name, sizeof(name), "[%" PRIu64 "]", ent->ie_recx.rx_idx);
	else
		snprintf(name, sizeof(name), "o%" PRIu64, ent->ie_oid.id_pub.lo);
	assert_true(cl->cl_nr < D_ARRAY_SIZE(cl->cl_ev));
	snprintf(cl->cl_ev[cl->cl_nr++], sizeof(cl->cl_ev[0]), "%c%s", tag, name);
	if (tag == '>' && cl->cl_skip != NULL && strcmp(name, cl->cl_skip) == 0)
		*acts |= VOS_ITER_CB_SKIP;
	if (tag == '>' && cl->cl_abort != NULL && strcmp(name, cl->cl_abort) == 0)
		*acts |= VOS_ITER_CB_ABORT;
	if (tag == '>' && cl->cl_punch && type == VOS_ITER_DKEY) {
		daos_key_t dk = ent->ie_key;

		/* a change made by a callback: here it removes nothing, it adds a log entry */
		assert_int_equal(vos_obj_punch(coh, param->ip_oid, 100, 0, 0, &dk, 0, NULL, NULL),
				 0);
	}
	return 0;
}

static int
cb_pre(daos_handle_t ih, vos_iter_entry_t *ent, vos_iter_type_t type, vos_iter_param_t *param,
       void *arg, unsigned int *acts)
{
	return cb_record(ih, ent, type, param, arg, acts, '>');
}

static int
cb_post(daos_handle_t ih, vos_iter_entry_t *ent, vos_iter_type_t type, vos_iter_param_t *param,
	void *arg, unsigned int *acts)
{
	return cb_record(ih, ent, type, param, arg, acts, '<');
}

static int
cb_fail(daos_handle_t ih, vos_iter_entry_t *ent, vos_iter_type_t type, vos_iter_param_t *param,
	void *arg, unsigned int *acts)
{
	(void)ih;
	(void)ent;
	(void)param;
	(void)arg;
	(void)acts;
	return type == VOS_ITER_AKEY ? -DER_MISC : 0;
}

/* The events of @cl joined by spaces. */
static const char *
cb_str(struct cb_log *cl)
{
	static char s[1024];
	unsigned int i;

	s[0] = '\0';
	for (i = 0; i < cl->cl_nr; i++) {
		strcat(s, i ? " " : "");
		strcat(s, cl->cl_ev[i]);
	}
	return s;
}

static void
t_iter_cb(void **state)
{
	daos_unit_oid_t oid = test_oid(DAOS_OT_MULTI_LEXICAL, 7);
	vos_iter_param_t param = {.ip_hdl = coh, .ip_epr = {.epr_lo = 0, .epr_hi = 50}};
	char buf[8] = "abcdefg";
	struct cb_log cl = {0};

	(void)state;
	assert_int_equal(upd_sv(oid, 10, 0, "a", "x", buf, 3), 0);
	assert_int_equal(upd_sv(oid, 20, 0, "a", "x", buf, 4), 0);
	assert_int_equal(upd_ar(oid, 11, "a", "y", 1, 5, 2, buf), 0);
	assert_int_equal(upd_sv(oid, 12, 0, "b", "z", buf, 5), 0);

	assert_int_equal(vos_iterate(&param, VOS_ITER_OBJ, true, NULL, cb_pre, cb_post, &cl, NULL),
			 0);
	assert_string_equal(cb_str(&cl), ">o7 >a >x >@10 <@10 >@20 <@20 <x >y >[5] <[5] <y <a "
					 ">b >z >@12 <@12 <z <b <o7");
	/* visible only: the newest version */
	memset(&cl, 0, sizeof(cl));
	param.ip_flags = VOS_IT_VISIBLE;
	assert_int_equal(vos_iterate(&param, VOS_ITER_OBJ, true, NULL, cb_pre, NULL, &cl, NULL), 0);
	assert_string_equal(cb_str(&cl), ">o7 >a >x >@20 >y >[5] >b >z >@12");
	/* at epoch 11: "b" did not exist yet, x read its version 10 */
	memset(&cl, 0, sizeof(cl));
	param.ip_epr.epr_hi = 11;
	assert_int_equal(vos_iterate(&param, VOS_ITER_OBJ, true, NULL, cb_pre, NULL, &cl, NULL), 0);
	assert_string_equal(cb_str(&cl), ">o7 >a >x >@10 >y >[5]");
	param.ip_epr.epr_hi = 50;
	/* not recursive; skip; abort */
	memset(&cl, 0, sizeof(cl));
	assert_int_equal(vos_iterate(&param, VOS_ITER_OBJ, false, NULL, cb_pre, cb_post, &cl, NULL),
			 0);
	assert_string_equal(cb_str(&cl), ">o7 <o7");
	memset(&cl, 0, sizeof(cl));
	cl.cl_skip = "a";
	assert_int_equal(vos_iterate(&param, VOS_ITER_OBJ, true, NULL, cb_pre, cb_post, &cl, NULL),
			 0);
	assert_string_equal(cb_str(&cl), ">o7 >a <a >b >z >@12 <@12 <z <b <o7");
	memset(&cl, 0, sizeof(cl));
	cl.cl_abort = "y";
	assert_int_equal(vos_iterate(&param, VOS_ITER_OBJ, true, NULL, cb_pre, cb_post, &cl, NULL),
			 1);
	assert_string_equal(cb_str(&cl), ">o7 >a >x >@20 <@20 <x >y");
	assert_int_equal(vos_iterate(&param, VOS_ITER_OBJ, true, NULL, cb_fail, NULL, NULL, NULL),
			 -DER_MISC);
	/* below the top */
	param.ip_oid = oid;
	param.ip_dkey = vt_key("a");
	param.ip_akey = vt_key("x");
	memset(&cl, 0, sizeof(cl));
	assert_int_equal(vos_iterate(&param, VOS_ITER_AKEY, true, NULL, cb_pre, NULL, &cl, NULL),
			 0);
	assert_string_equal(cb_str(&cl), ">x >@20 >y >[5]");
	memset(&cl, 0, sizeof(cl));
	param.ip_flags = 0;
	assert_int_equal(vos_iterate(&param, VOS_ITER_SINGLE, false, NULL, cb_pre, NULL, &cl, NULL),
			 0);
	assert_string_equal(cb_str(&cl), ">@10 >@20");
	memset(&cl, 0, sizeof(cl));
	assert_int_equal(vos_iterate(&param, VOS_ITER_RECX, false, NULL, cb_pre, NULL, &cl, NULL),
			 0);
	assert_string_equal(cb_str(&cl), "");
	memset(&cl, 0, sizeof(cl));
	param.ip_dkey = vt_key("nope");
	assert_int_equal(vos_iterate(&param, VOS_ITER_AKEY, true, NULL, cb_pre, NULL, &cl, NULL),
			 0);
	assert_int_equal(cl.cl_nr, 0);
	/* a callback that changes the container as it goes */
	memset(&cl, 0, sizeof(cl));
	cl.cl_punch = true;
	param.ip_epr.epr_hi = DAOS_EPOCH_MAX;
	param.ip_flags = VOS_IT_VISIBLE;
	assert_int_equal(vos_iterate(&param, VOS_ITER_DKEY, true, NULL, cb_pre, NULL, &cl, NULL),
			 0);
	assert_string_equal(cb_str(&cl), ">a >b");
	memset(&cl, 0, sizeof(cl));
	assert_int_equal(vos_iterate(&param, VOS_ITER_OBJ, true, NULL, cb_pre, NULL, &cl, NULL), 0);
	assert_string_equal(cb_str(&cl), ">o7");
	/* bad arguments */
	assert_int_equal(vos_iterate(NULL, VOS_ITER_OBJ, true, NULL, NULL, NULL, NULL, NULL),
			 -DER_INVAL);
	assert_int_equal(vos_iterate(&param, VOS_ITER_COUUID, true, NULL, NULL, NULL, NULL, NULL),
			 -DER_INVAL);
	param.ip_epr.epr_lo = 60;
	param.ip_epr.epr_hi = 50;
	assert_int_equal(vos_iterate(&param, VOS_ITER_OBJ, true, NULL, NULL, NULL, NULL, NULL),
			 -DER_INVAL);
}

/*
 * The model-based random test.
 */

#define M_OBJS 4
#define M_DKEYS 3
#define M_AKEYS 4
#define M_IDX 256        /* array indexes in [0, M_IDX) */
#define M_EPOCHS 1000000 /* epochs in [1, M_EPOCHS] */
#define M_SV_MAX 20000
#define M_BUF_MAX (M_IDX * 600)

enum { EV_PUNCH, EV_SV, EV_AR };

struct m_ev {
	uint64_t me_epoch;
	int me_kind;
	uint64_t me_lo, me_hi; /* EV_AR */
	uint64_t me_size;      /* EV_SV: bytes (0: punched value); EV_AR: 0 for a punch */
	uint8_t *me_data;
};

struct m_log {
	struct m_ev *ml_evs;
	unsigned int ml_nr;
	unsigned int ml_cap;
};

struct m_akey {
	bool ma_array;
	uint64_t ma_rsize;
	char ma_name[8];
	uint64_t ma_uint;
	struct m_log ma_log;
};

struct model {
	daos_unit_oid_t m_oid[M_OBJS];
	bool m_touched[M_OBJS];
	char m_dname[M_OBJS][M_DKEYS][8];
	uint64_t m_duint[M_OBJS][M_DKEYS];
	struct m_log m_opunch[M_OBJS];
	struct m_log m_dpunch[M_OBJS][M_DKEYS];
	struct m_akey m_ak[M_OBJS][M_DKEYS][M_AKEYS];
	uint8_t *m_used; /* epochs taken */
	uint64_t m_scm, m_data;
	uint64_t m_ckpts; /* checkpoints taken, summed over pool opens */
	uint64_t m_rng;
	unsigned int m_fetches, m_nonempty;
	unsigned int m_iter_keys, m_iter_vals; /* entries vos_iterate returned */
};

static uint64_t
rnd(struct model *m, uint64_t n)
{
	return d_test_rand(&m->m_rng) % n;
}

static void
log_add(struct m_log *log, const struct m_ev *ev)
{
	if (log->ml_nr == log->ml_cap) {
		log->ml_cap = log->ml_cap ? log->ml_cap * 2 : 16;
		D_REALLOC_ARRAY(log->ml_evs, log->ml_evs, log->ml_cap);
		assert_non_null(log->ml_evs);
	}
	log->ml_evs[log->ml_nr++] = *ev;
}

static void
log_free(struct m_log *log)
{
	unsigned int i;

	for (i = 0; i < log->ml_nr; i++)
		D_FREE(log->ml_evs[i].me_data);
	D_FREE(log->ml_evs);
	memset(log, 0, sizeof(*log));
}

static uint64_t
new_epoch(struct model *m)
{
	uint64_t e;

	do {
		e = 1 + rnd(m, M_EPOCHS);
	} while (m->m_used[e]);
	m->m_used[e] = 1;
	return e;
}

static daos_key_t
m_dkey(struct model *m, int o, int d)
{
	daos_key_t k;

	if (vos_key_feats(m->m_oid[o], true) & BTR_FEAT_UINT_KEY)
		d_iov_set(&k, &m->m_duint[o][d], sizeof(uint64_t));
	else
		d_iov_set(&k, m->m_dname[o][d], strlen(m->m_dname[o][d]));
	return k;
}

static daos_key_t
m_akey(struct model *m, int o, int d, int a)
{
	struct m_akey *ak = &m->m_ak[o][d][a];
	daos_key_t k;

	if (vos_key_feats(m->m_oid[o], false) & BTR_FEAT_UINT_KEY)
		d_iov_set(&k, &ak->ma_uint, sizeof(uint64_t));
	else
		d_iov_set(&k, ak->ma_name, strlen(ak->ma_name));
	return k;
}

static void
model_init(struct model *m, unsigned int seed)
{
	static const enum daos_otype_t types[M_OBJS] = {
	    DAOS_OT_MULTI_HASHED, DAOS_OT_DKEY_UINT64, DAOS_OT_MULTI_LEXICAL, DAOS_OT_MULTI_UINT64};
	static const uint64_t rsizes[] = {1, 4, 16, 600};
	int o, d, a;

	memset(m, 0, sizeof(*m));
	m->m_rng = d_test_rand_seed(seed);
	D_ALLOC(m->m_used, M_EPOCHS + 1);
	assert_non_null(m->m_used);
	for (o = 0; o < M_OBJS; o++) {
		m->m_oid[o] = test_oid(types[o], 1000 + (uint64_t)o);
		for (d = 0; d < M_DKEYS; d++) {
			snprintf(m->m_dname[o][d], sizeof(m->m_dname[o][d]), "dk%d", d);
			m->m_duint[o][d] = ((uint64_t)d + 1) * 0x10001;
			for (a = 0; a < M_AKEYS; a++) {
				struct m_akey *ak = &m->m_ak[o][d][a];

				snprintf(ak->ma_name, sizeof(ak->ma_name), "ak%d", a);
				ak->ma_uint = ((uint64_t)a + 3) << 33;
				ak->ma_array = a >= 2;
				ak->ma_rsize = rsizes[rnd(m, D_ARRAY_SIZE(rsizes))];
			}
		}
	}
}

static void
model_fini(struct model *m)
{
	int o, d, a;

	for (o = 0; o < M_OBJS; o++) {
		log_free(&m->m_opunch[o]);
		for (d = 0; d < M_DKEYS; d++) {
			log_free(&m->m_dpunch[o][d]);
			for (a = 0; a < M_AKEYS; a++)
				log_free(&m->m_ak[o][d][a].ma_log);
		}
	}
	D_FREE(m->m_used);
}

static void
account(struct model *m, uint64_t bytes)
{
	if (bytes >= VOS_DATA_THRESH)
		m->m_data += vos_data_bytes(bytes);
	else
		m->m_scm += bytes;
}

static uint64_t
log_bound(const struct m_log *log, uint64_t epoch, uint64_t bound)
{
	unsigned int i;

	for (i = 0; i < log->ml_nr; i++)
		if (log->ml_evs[i].me_kind == EV_PUNCH && log->ml_evs[i].me_epoch <= epoch &&
		    log->ml_evs[i].me_epoch > bound)
			bound = log->ml_evs[i].me_epoch;
	return bound;
}

/* The model's single value at @epoch: its bytes (NULL: none) and size. */
static const uint8_t *
model_sv(struct model *m, int o, int d, int a, uint64_t epoch, uint64_t *size)
{
	struct m_log *log = &m->m_ak[o][d][a].ma_log;
	uint64_t bound = log_bound(&m->m_opunch[o], epoch, 0);
	const struct m_ev *best = NULL;
	unsigned int i;

	bound = log_bound(&m->m_dpunch[o][d], epoch, bound);
	bound = log_bound(log, epoch, bound);
	for (i = 0; i < log->ml_nr; i++) {
		const struct m_ev *ev = &log->ml_evs[i];

		if (ev->me_kind == EV_SV && ev->me_epoch <= epoch &&
		    (best == NULL || ev->me_epoch > best->me_epoch))
			best = ev;
	}
	*size = 0;
	if (best == NULL || best->me_epoch <= bound || best->me_size == 0)
		return NULL;
	*size = best->me_size;
	return best->me_data;
}

/* The model's records [lo, lo + nr) at @epoch into @out; returns whether any is data. */
static bool
model_ar(struct model *m, int o, int d, int a, uint64_t epoch, uint64_t lo, uint64_t nr,
	 uint8_t *out)
{
	struct m_akey *ak = &m->m_ak[o][d][a];
	uint64_t bound = log_bound(&m->m_opunch[o], epoch, 0);
	bool any = false;
	uint64_t idx;
	unsigned int i;

	bound = log_bound(&m->m_dpunch[o][d], epoch, bound);
	bound = log_bound(&ak->ma_log, epoch, bound);
	for (idx = lo; idx < lo + nr; idx++) {
		const struct m_ev *best = NULL;
		uint8_t *dst = out + (idx - lo) * ak->ma_rsize;

		for (i = 0; i < ak->ma_log.ml_nr; i++) {
			const struct m_ev *ev = &ak->ma_log.ml_evs[i];

			if (ev->me_kind == EV_AR && ev->me_epoch <= epoch && ev->me_lo <= idx &&
			    idx <= ev->me_hi && (best == NULL || ev->me_epoch > best->me_epoch))
				best = ev;
		}
		if (best == NULL || best->me_epoch <= bound || best->me_size == 0) {
			memset(dst, 0, ak->ma_rsize);
			continue;
		}
		memcpy(dst, best->me_data + (idx - best->me_lo) * ak->ma_rsize, ak->ma_rsize);
		any = true;
	}
	return any;
}

static void
pick_akeys(struct model *m, int *as, int n)
{
	int i, j;

	for (i = 0; i < n; i++) {
	again:
		as[i] = (int)rnd(m, M_AKEYS);
		for (j = 0; j < i; j++)
			if (as[j] == as[i])
				goto again;
	}
}

/* Split @buf of @len bytes into 1..3 iovs (capacity; iov_len = @len_set ? size : 0). */
static void
split_sgl(struct model *m, d_sg_list_t *sgl, d_iov_t *iovs, uint8_t *buf, uint64_t len, bool input)
{
	uint64_t cut1 = len ? rnd(m, len + 1) : 0, cut2 = len ? rnd(m, len + 1) : 0, t;

	if (cut1 > cut2) {
		t = cut1;
		cut1 = cut2;
		cut2 = t;
	}
	d_iov_set(&iovs[0], buf, cut1);
	d_iov_set(&iovs[1], buf + cut1, cut2 - cut1);
	d_iov_set(&iovs[2], buf + cut2, len - cut2);
	if (!input) {
		iovs[0].iov_len = iovs[1].iov_len = iovs[2].iov_len = 7777;
	}
	sgl->sg_nr = 3;
	sgl->sg_nr_out = 99;
	sgl->sg_iovs = iovs;
}

/* An update of 1..3 akeys of one dkey. */
static void
op_update(struct model *m)
{
	int o = (int)rnd(m, M_OBJS), d = (int)rnd(m, M_DKEYS), as[3], n = 1 + (int)rnd(m, 3);
	uint64_t epoch = new_epoch(m);
	daos_key_t dkey = m_dkey(m, o, d);
	daos_iod_t iods[3] = {0};
	d_sg_list_t sgls[3] = {0};
	d_iov_t iovs[3][3];
	daos_recx_t recxs[3][3];
	struct m_ev evs[3][3];
	int nev[3] = {0};
	uint8_t *bufs[3] = {0};
	int i, r;

	pick_akeys(m, as, n);
	for (i = 0; i < n; i++) {
		struct m_akey *ak = &m->m_ak[o][d][as[i]];
		uint64_t bytes = 0;

		iods[i].iod_name = m_akey(m, o, d, as[i]);
		if (!ak->ma_array) {
			uint64_t p = rnd(m, 100), size;

			size = p < 10   ? 0
			       : p < 55 ? 1 + rnd(m, 200)
			       : p < 75 ? 1 + rnd(m, 4095)
					: 4096 + rnd(m, M_SV_MAX - 4096);
			iods[i].iod_type = DAOS_IOD_SINGLE;
			iods[i].iod_size = size;
			iods[i].iod_nr = 1;
			D_ALLOC(bufs[i], size + 1);
			fill(bufs[i], size, (unsigned int)epoch + (unsigned int)i);
			evs[i][0] = (struct m_ev){.me_epoch = epoch,
						  .me_kind = EV_SV,
						  .me_size = size,
						  .me_data = bufs[i]};
			nev[i] = 1;
			bytes = size;
			account(m, size);
		} else {
			/* 1..3 disjoint extents, sorted; all written or all punched */
			bool punch = rnd(m, 100) < 15;
			int nr = 1 + (int)rnd(m, 3);
			uint64_t lo = 0, off = 0;

			iods[i].iod_type = DAOS_IOD_ARRAY;
			iods[i].iod_size = punch ? 0 : ak->ma_rsize;
			iods[i].iod_nr = 0;
			iods[i].iod_recxs = recxs[i];
			for (r = 0; r < nr && lo < M_IDX - 1; r++) {
				uint64_t start = lo + rnd(m, (M_IDX - lo) / 2 + 1), len;

				if (start >= M_IDX)
					break;
				len = 1 + rnd(m, M_IDX - start < 32 ? M_IDX - start : 32);
				recxs[i][r] = (daos_recx_t){.rx_idx = start, .rx_nr = len};
				lo = start + len + 1;
				iods[i].iod_nr++;
			}
			if (iods[i].iod_nr == 0) {
				recxs[i][0] = (daos_recx_t){.rx_idx = 0, .rx_nr = 1};
				iods[i].iod_nr = 1;
			}
			for (r = 0; r < (int)iods[i].iod_nr; r++)
				bytes += recxs[i][r].rx_nr * iods[i].iod_size;
			D_ALLOC(bufs[i], bytes + 1);
			fill(bufs[i], bytes, (unsigned int)epoch * 3 + (unsigned int)i);
			for (r = 0; r < (int)iods[i].iod_nr; r++) {
				uint64_t eb = recxs[i][r].rx_nr * iods[i].iod_size;
				struct m_ev *ev = &evs[i][r];

				*ev = (struct m_ev){.me_epoch = epoch,
						    .me_kind = EV_AR,
						    .me_lo = recxs[i][r].rx_idx,
						    .me_hi =
							recxs[i][r].rx_idx + recxs[i][r].rx_nr - 1,
						    .me_size = eb};
				if (eb > 0) {
					D_ALLOC(ev->me_data, eb);
					memcpy(ev->me_data, bufs[i] + off, eb);
				}
				off += eb;
				account(m, eb);
			}
			nev[i] = (int)iods[i].iod_nr;
		}
		split_sgl(m, &sgls[i], iovs[i], bufs[i], bytes, true);
	}
	assert_int_equal(
	    vos_obj_update(coh, m->m_oid[o], epoch, 1, 0, &dkey, (unsigned int)n, iods, NULL, sgls),
	    0);
	m->m_touched[o] = true;
	for (i = 0; i < n; i++) {
		for (r = 0; r < nev[i]; r++)
			log_add(&m->m_ak[o][d][as[i]].ma_log, &evs[i][r]);
		if (m->m_ak[o][d][as[i]].ma_array)
			D_FREE(bufs[i]); /* the events hold copies */
	}
}

static void
op_punch(struct model *m)
{
	int o = (int)rnd(m, M_OBJS), d = (int)rnd(m, M_DKEYS), as[2], n = 1 + (int)rnd(m, 2), i;
	uint64_t p = rnd(m, 100), epoch = new_epoch(m);
	struct m_ev ev = {.me_epoch = epoch, .me_kind = EV_PUNCH};
	daos_key_t dkey = m_dkey(m, o, d), akeys[2];

	m->m_touched[o] = true;
	if (p < 10) {
		assert_int_equal(vos_obj_punch(coh, m->m_oid[o], epoch, 1, 0, NULL, 0, NULL, NULL),
				 0);
		log_add(&m->m_opunch[o], &ev);
	} else if (p < 50) {
		assert_int_equal(vos_obj_punch(coh, m->m_oid[o], epoch, 1, 0, &dkey, 0, NULL, NULL),
				 0);
		log_add(&m->m_dpunch[o][d], &ev);
	} else {
		pick_akeys(m, as, n);
		for (i = 0; i < n; i++)
			akeys[i] = m_akey(m, o, d, as[i]);
		assert_int_equal(vos_obj_punch(coh, m->m_oid[o], epoch, 1, 0, &dkey,
					       (unsigned int)n, akeys, NULL),
				 0);
		for (i = 0; i < n; i++)
			log_add(&m->m_ak[o][d][as[i]].ma_log, &ev);
	}
}

/* Check what one sgl received: @len bytes (0: nothing), iov_len and sg_nr_out. */
static void
check_sgl(const d_sg_list_t *sgl, uint64_t len)
{
	uint64_t pos = 0;
	unsigned int i, last = 0;

	if (len == 0) {
		assert_int_equal(sgl->sg_nr_out, 0);
		return;
	}
	for (i = 0; i < sgl->sg_nr && pos < len; i++) {
		uint64_t n = sgl->sg_iovs[i].iov_buf_len;

		if (n == 0)
			continue;
		if (n > len - pos)
			n = len - pos;
		assert_int_equal(sgl->sg_iovs[i].iov_len, n);
		pos += n;
		last = i;
	}
	assert_int_equal(sgl->sg_nr_out, last + 1);
}

/* A fetch of 1..3 akeys of one dkey at a random epoch, compared with the model. */
static void
fetch_check(struct model *m, int o, int d, uint64_t epoch, int n, const int *as)
{
	daos_key_t dkey = m_dkey(m, o, d);
	daos_iod_t iods[4] = {0};
	d_sg_list_t sgls[4] = {0};
	d_iov_t iovs[4][3];
	daos_recx_t recxs[4][2];
	uint8_t *bufs[4], *want;
	uint64_t want_size[4], cap[4];
	bool sizes_only = rnd(m, 20) == 0;
	int i, r;

	D_ALLOC(want, 2 * M_BUF_MAX);
	assert_non_null(want);
	for (i = 0; i < n; i++) {
		struct m_akey *ak = &m->m_ak[o][d][as[i]];

		iods[i].iod_name = m_akey(m, o, d, as[i]);
		if (!ak->ma_array) {
			iods[i].iod_type = DAOS_IOD_SINGLE;
			iods[i].iod_size = rnd(m, 2) ? 0 : 12345;
			iods[i].iod_nr = 1;
			cap[i] = M_SV_MAX;
		} else {
			iods[i].iod_type = DAOS_IOD_ARRAY;
			iods[i].iod_size = rnd(m, 3) ? ak->ma_rsize : 0;
			iods[i].iod_nr = 1 + (unsigned int)rnd(m, 2);
			iods[i].iod_recxs = recxs[i];
			cap[i] = 0;
			for (r = 0; r < (int)iods[i].iod_nr; r++) {
				uint64_t lo = rnd(m, M_IDX);

				recxs[i][r].rx_idx = lo;
				recxs[i][r].rx_nr = 1 + rnd(m, M_IDX - lo);
				cap[i] += recxs[i][r].rx_nr * ak->ma_rsize;
			}
		}
		D_ALLOC(bufs[i], cap[i] + 1);
		assert_non_null(bufs[i]);
		memset(bufs[i], 0xee, cap[i]);
		split_sgl(m, &sgls[i], iovs[i], bufs[i], cap[i], false);
	}
	assert_int_equal(vos_obj_fetch(coh, m->m_oid[o], epoch, 0, &dkey, (unsigned int)n, iods,
				       sizes_only ? NULL : sgls),
			 0);
	m->m_fetches++;
	for (i = 0; i < n; i++) {
		struct m_akey *ak = &m->m_ak[o][d][as[i]];

		if (!ak->ma_array) {
			const uint8_t *data = model_sv(m, o, d, as[i], epoch, &want_size[i]);

			assert_int_equal(iods[i].iod_size, want_size[i]);
			if (sizes_only)
				continue;
			check_sgl(&sgls[i], want_size[i]);
			if (data != NULL)
				assert_memory_equal(bufs[i], data, want_size[i]);
		} else {
			uint64_t pos = 0;
			bool any = false;

			for (r = 0; r < (int)iods[i].iod_nr; r++) {
				any |= model_ar(m, o, d, as[i], epoch, recxs[i][r].rx_idx,
						recxs[i][r].rx_nr, want + pos);
				pos += recxs[i][r].rx_nr * ak->ma_rsize;
			}
			want_size[i] = any ? ak->ma_rsize : 0;
			assert_int_equal(iods[i].iod_size, want_size[i]);
			if (sizes_only)
				continue;
			check_sgl(&sgls[i], any ? pos : 0);
			if (any)
				assert_memory_equal(bufs[i], want, pos);
		}
		if (want_size[i] > 0)
			m->m_nonempty++;
	}
	for (i = 0; i < n; i++)
		D_FREE(bufs[i]);
	D_FREE(want);
}

static uint64_t
rnd_epoch(struct model *m)
{
	return rnd(m, 50) == 0 ? DAOS_EPOCH_MAX : 1 + rnd(m, M_EPOCHS);
}

static void
op_fetch(struct model *m)
{
	int as[3], n = 1 + (int)rnd(m, 3);

	pick_akeys(m, as, n);
	fetch_check(m, (int)rnd(m, M_OBJS), (int)rnd(m, M_DKEYS), rnd_epoch(m), n, as);
}

/*
 * vos_iterate against the model: keys with their logs and visibility, every single-value
 * version and array extent (full history), or what a reader sees (visible mode).
 */

/* A key's log events in the model: epoch and whether a punch. */
struct m_kev {
	uint64_t ke_epoch;
	bool ke_punch;
};

struct m_kevs {
	struct m_kev ks_evs[4096];
	unsigned int ks_nr;
};

static void
kevs_add_log(struct m_kevs *ks, const struct m_log *log, bool as_create)
{
	unsigned int i, j;

	for (i = 0; i < log->ml_nr; i++) {
		uint64_t e = log->ml_evs[i].me_epoch;
		bool punch = !as_create && log->ml_evs[i].me_kind == EV_PUNCH;

		/* several extents of one update share an epoch: one event */
		for (j = 0; j < ks->ks_nr; j++)
			if (ks->ks_evs[j].ke_epoch == e)
				break;
		if (j < ks->ks_nr)
			continue;
		assert_true(ks->ks_nr < D_ARRAY_SIZE(ks->ks_evs));
		ks->ks_evs[ks->ks_nr++] = (struct m_kev){.ke_epoch = e, .ke_punch = punch};
	}
}

static int
kev_cmp(const void *a, const void *b)
{
	const struct m_kev *x = a, *y = b;

	return x->ke_epoch < y->ke_epoch ? -1 : x->ke_epoch > y->ke_epoch;
}

/* The log of an object (@d < 0), a dkey (@a < 0) or an akey, sorted. */
static void
m_key_log(struct model *m, int o, int d, int a, struct m_kevs *ks)
{
	int dd, aa;

	ks->ks_nr = 0;
	if (a >= 0) {
		kevs_add_log(ks, &m->m_ak[o][d][a].ma_log, false);
	} else if (d >= 0) {
		kevs_add_log(ks, &m->m_dpunch[o][d], false);
		for (aa = 0; aa < M_AKEYS; aa++)
			kevs_add_log(ks, &m->m_ak[o][d][aa].ma_log, true);
	} else {
		kevs_add_log(ks, &m->m_opunch[o], false);
		for (dd = 0; dd < M_DKEYS; dd++) {
			kevs_add_log(ks, &m->m_dpunch[o][dd], true);
			for (aa = 0; aa < M_AKEYS; aa++)
				kevs_add_log(ks, &m->m_ak[o][dd][aa].ma_log, true);
		}
	}
	qsort(ks->ks_evs, ks->ks_nr, sizeof(ks->ks_evs[0]), kev_cmp);
}

/* Punch bound a key puts on what is under it (the parents' included) at @epoch. */
static uint64_t
m_bound(struct model *m, int o, int d, int a, uint64_t epoch)
{
	uint64_t b = log_bound(&m->m_opunch[o], epoch, 0);

	if (d >= 0)
		b = log_bound(&m->m_dpunch[o][d], epoch, b);
	if (a >= 0)
		b = log_bound(&m->m_ak[o][d][a].ma_log, epoch, b);
	return b;
}

/* Is the key visible at @epoch; *@create: its newest create at or below @epoch. */
static bool
m_key_visible(struct model *m, int o, int d, int a, uint64_t epoch, uint64_t *create)
{
	struct m_kevs *ks;
	uint64_t parent = 0;
	bool vis = false;
	unsigned int i;

	D_ALLOC_PTR(ks);
	assert_non_null(ks);
	m_key_log(m, o, d, a, ks);
	*create = 0;
	for (i = 0; i < ks->ks_nr && ks->ks_evs[i].ke_epoch <= epoch; i++) {
		vis = !ks->ks_evs[i].ke_punch;
		if (vis)
			*create = ks->ks_evs[i].ke_epoch;
	}
	D_FREE(ks);
	if (d >= 0)
		parent = m_bound(m, o, a >= 0 ? d : -1, -1, epoch);
	return vis && *create > parent;
}

/* The newest array event covering @idx at @epoch that a reader there sees (NULL: none). */
static const struct m_ev *
m_ar_best(struct model *m, int o, int d, int a, uint64_t epoch, uint64_t idx)
{
	const struct m_log *log = &m->m_ak[o][d][a].ma_log;
	const struct m_ev *best = NULL;
	unsigned int i;

	for (i = 0; i < log->ml_nr; i++) {
		const struct m_ev *ev = &log->ml_evs[i];

		if (ev->me_kind == EV_AR && ev->me_epoch <= epoch && ev->me_lo <= idx &&
		    idx <= ev->me_hi && (best == NULL || ev->me_epoch > best->me_epoch))
			best = ev;
	}
	if (best == NULL || best->me_size == 0 || best->me_epoch <= m_bound(m, o, d, a, epoch))
		return NULL;
	return best;
}

struct it_check {
	struct model *ic_m;
	uint64_t ic_lo, ic_hi;
	bool ic_vis;
	int ic_o, ic_d, ic_a; /* where the walk is */
	unsigned int ic_keys[3];
	unsigned int ic_vals[M_OBJS][M_DKEYS][M_AKEYS];
	uint8_t ic_cov[M_IDX];
	uint8_t *ic_buf;
	unsigned int ic_post;
};

static int
m_find_obj(struct model *m, daos_unit_oid_t oid)
{
	int o;

	for (o = 0; o < M_OBJS; o++)
		if (daos_unit_oid_compare(oid, m->m_oid[o]) == 0)
			return o;
	fail_msg("unknown object");
	return -1;
}

static int
m_find_key(struct model *m, int o, int d, const daos_key_t *key)
{
	int i;

	for (i = 0; i < (d < 0 ? M_DKEYS : M_AKEYS); i++) {
		daos_key_t k = d < 0 ? m_dkey(m, o, i) : m_akey(m, o, d, i);

		if (k.iov_len == key->iov_len && memcmp(k.iov_buf, key->iov_buf, k.iov_len) == 0)
			return i;
	}
	fail_msg("unknown key");
	return -1;
}

/* A key entry: present as it should be, its visibility, log and newest create. */
static void
it_check_key(struct it_check *ic, vos_iter_entry_t *ent, int o, int d, int a)
{
	struct model *m = ic->ic_m;
	struct m_kevs *ks;
	uint64_t create;
	bool vis = m_key_visible(m, o, d, a, ic->ic_hi, &create);
	unsigned int i, n = 0;

	D_ALLOC_PTR(ks);
	assert_non_null(ks);
	m_key_log(m, o, d, a, ks);
	assert_true(ks->ks_nr > 0); /* a key in the tree has a log */
	if (ic->ic_vis)
		assert_true(vis);
	assert_int_equal(ent->ie_vis_flags, vis ? VOS_VIS_FLAG_VISIBLE : VOS_VIS_FLAG_COVERED);
	if (vis)
		assert_int_equal(ent->ie_epoch, create);
	if (!ic->ic_vis) {
		for (i = 0; i < ks->ks_nr; i++) {
			if (ks->ks_evs[i].ke_epoch < ic->ic_lo ||
			    ks->ks_evs[i].ke_epoch > ic->ic_hi)
				continue;
			assert_true(n < ent->ie_log_nr);
			assert_int_equal(ent->ie_log[n].ile_epoch, ks->ks_evs[i].ke_epoch);
			assert_int_equal(ent->ie_log[n].ile_punch, ks->ks_evs[i].ke_punch);
			n++;
		}
		assert_int_equal(ent->ie_log_nr, n);
	}
	D_FREE(ks);
}

static int
it_pre(daos_handle_t ih, vos_iter_entry_t *ent, vos_iter_type_t type, vos_iter_param_t *param,
       void *arg, unsigned int *acts)
{
	struct it_check *ic = arg;
	struct model *m = ic->ic_m;
	struct m_akey *ak;
	d_iov_t iov;
	int o, d, a;
	uint64_t i;

	(void)acts;
	switch (type) {
	case VOS_ITER_OBJ:
		o = m_find_obj(m, ent->ie_oid);
		assert_true(m->m_touched[o]);
		it_check_key(ic, ent, o, -1, -1);
		ic->ic_keys[0]++;
		return 0;
	case VOS_ITER_DKEY:
		o = m_find_obj(m, param->ip_oid);
		d = m_find_key(m, o, -1, &ent->ie_key);
		it_check_key(ic, ent, o, d, -1);
		ic->ic_keys[1]++;
		return 0;
	case VOS_ITER_AKEY:
		o = m_find_obj(m, param->ip_oid);
		d = m_find_key(m, o, -1, &param->ip_dkey);
		a = m_find_key(m, o, d, &ent->ie_key);
		it_check_key(ic, ent, o, d, a);
		ak = &m->m_ak[o][d][a];
		for (i = 0; i < ak->ma_log.ml_nr; i++)
			if (ak->ma_log.ml_evs[i].me_kind != EV_PUNCH)
				break;
		assert_int_equal(ent->ie_val_type, i == ak->ma_log.ml_nr ? DAOS_IOD_NONE
						   : ak->ma_array        ? DAOS_IOD_ARRAY
									 : DAOS_IOD_SINGLE);
		ic->ic_keys[2]++;
		ic->ic_o = o;
		ic->ic_d = d;
		ic->ic_a = a;
		memset(ic->ic_cov, 0, sizeof(ic->ic_cov));
		return 0;
	default:
		break;
	}
	o = ic->ic_o;
	d = ic->ic_d;
	a = ic->ic_a;
	ak = &m->m_ak[o][d][a];
	assert_true(ent->ie_epoch >= ic->ic_lo && ent->ie_epoch <= ic->ic_hi);
	d_iov_set(&iov, ic->ic_buf, ent->ie_gsize);
	assert_int_equal(vos_iter_copy(ih, ent, &iov), 0);
	assert_int_equal(iov.iov_len, ent->ie_gsize);
	ic->ic_vals[o][d][a]++;
	if (type == VOS_ITER_SINGLE) {
		uint64_t size;
		const uint8_t *data = model_sv(m, o, d, a, ic->ic_hi, &size);
		const struct m_ev *ev = NULL;
		bool vis;

		assert_false(ak->ma_array);
		for (i = 0; i < ak->ma_log.ml_nr; i++)
			if (ak->ma_log.ml_evs[i].me_epoch == ent->ie_epoch &&
			    ak->ma_log.ml_evs[i].me_kind == EV_SV)
				ev = &ak->ma_log.ml_evs[i];
		assert_non_null(ev);
		assert_int_equal(ent->ie_rsize, ev->me_size);
		if (ev->me_size > 0)
			assert_memory_equal(ic->ic_buf, ev->me_data, ev->me_size);
		vis = data != NULL && data == ev->me_data;
		assert_int_equal(ent->ie_vis_flags & VOS_VIS_FLAG_VISIBLE, vis);
		if (ic->ic_vis)
			assert_true(vis);
		return 0;
	}
	assert_int_equal(type, VOS_ITER_RECX);
	assert_true(ak->ma_array);
	if (ic->ic_vis) {
		/* a visible fragment: each record is the model's at hi, once */
		assert_int_equal(ent->ie_rsize, ak->ma_rsize);
		for (i = 0; i < ent->ie_recx.rx_nr; i++) {
			uint64_t idx = ent->ie_recx.rx_idx + i;
			const struct m_ev *ev = m_ar_best(m, o, d, a, ic->ic_hi, idx);

			assert_true(idx < M_IDX);
			assert_non_null(ev);
			assert_int_equal(ev->me_epoch, ent->ie_epoch);
			assert_int_equal(ev->me_lo, ent->ie_orig_recx.rx_idx);
			assert_memory_equal(ic->ic_buf + i * ak->ma_rsize,
					    ev->me_data + (idx - ev->me_lo) * ak->ma_rsize,
					    ak->ma_rsize);
			assert_int_equal(ic->ic_cov[idx], 0);
			ic->ic_cov[idx] = 1;
		}
	} else {
		const struct m_ev *ev = NULL;
		bool vis = false;

		for (i = 0; i < ak->ma_log.ml_nr; i++) {
			const struct m_ev *e = &ak->ma_log.ml_evs[i];

			if (e->me_epoch == ent->ie_epoch && e->me_kind == EV_AR &&
			    e->me_lo == ent->ie_recx.rx_idx &&
			    e->me_hi == ent->ie_recx.rx_idx + ent->ie_recx.rx_nr - 1)
				ev = e;
		}
		assert_non_null(ev);
		assert_int_equal(ent->ie_rsize, ev->me_size > 0 ? ak->ma_rsize : 0);
		assert_int_equal(ent->ie_gsize, ev->me_size);
		if (ev->me_size > 0)
			assert_memory_equal(ic->ic_buf, ev->me_data, ev->me_size);
		for (i = ev->me_lo; i <= ev->me_hi && !vis; i++)
			vis = m_ar_best(m, o, d, a, ic->ic_hi, i) == ev;
		assert_int_equal(ent->ie_vis_flags,
				 vis ? VOS_VIS_FLAG_VISIBLE : VOS_VIS_FLAG_COVERED);
	}
	return 0;
}

static int
it_post(daos_handle_t ih, vos_iter_entry_t *ent, vos_iter_type_t type, vos_iter_param_t *param,
	void *arg, unsigned int *acts)
{
	struct it_check *ic = arg;
	struct model *m = ic->ic_m;
	uint64_t i;

	(void)ih;
	(void)param;
	(void)acts;
	ic->ic_post++;
	if (type != VOS_ITER_AKEY || !ic->ic_vis || ent->ie_val_type != DAOS_IOD_ARRAY)
		return 0;
	/* every record a reader at hi sees (written at lo or later) came exactly once */
	for (i = 0; i < M_IDX; i++) {
		const struct m_ev *ev = m_ar_best(m, ic->ic_o, ic->ic_d, ic->ic_a, ic->ic_hi, i);

		assert_int_equal(ic->ic_cov[i], ev != NULL && ev->me_epoch >= ic->ic_lo);
	}
	return 0;
}

/* One recursive walk of the container, checked against the model. */
static void
iter_check(struct model *m, bool visible, uint64_t lo, uint64_t hi)
{
	vos_iter_param_t param = {.ip_hdl = coh, .ip_epr = {.epr_lo = lo, .epr_hi = hi}};
	struct it_check *ic;
	unsigned int want[3] = {0}, nvals = 0;
	int o, d, a;
	uint64_t c, i;

	D_ALLOC_PTR(ic);
	assert_non_null(ic);
	D_ALLOC(ic->ic_buf, M_BUF_MAX + M_SV_MAX);
	assert_non_null(ic->ic_buf);
	ic->ic_m = m;
	ic->ic_lo = lo;
	ic->ic_hi = hi;
	ic->ic_vis = visible;
	param.ip_flags = visible ? VOS_IT_VISIBLE : 0;
	assert_int_equal(vos_iterate(&param, VOS_ITER_OBJ, true, NULL, it_pre, it_post, ic, NULL),
			 0);

	/* the keys and values the walk must have met */
	for (o = 0; o < M_OBJS; o++) {
		bool ovis = m_key_visible(m, o, -1, -1, hi, &c);

		if (!m->m_touched[o] || (visible && !ovis))
			continue;
		want[0]++;
		for (d = 0; d < M_DKEYS; d++) {
			struct m_kevs *ks;
			bool dvis = m_key_visible(m, o, d, -1, hi, &c);

			D_ALLOC_PTR(ks);
			assert_non_null(ks);
			m_key_log(m, o, d, -1, ks);
			if (ks->ks_nr == 0 || (visible && !dvis)) {
				D_FREE(ks);
				continue;
			}
			D_FREE(ks);
			want[1]++;
			for (a = 0; a < M_AKEYS; a++) {
				struct m_akey *ak = &m->m_ak[o][d][a];
				unsigned int n = 0;

				if (ak->ma_log.ml_nr == 0 ||
				    (visible && !m_key_visible(m, o, d, a, hi, &c)))
					continue;
				want[2]++;
				for (i = 0; i < ak->ma_log.ml_nr && !visible; i++) {
					const struct m_ev *ev = &ak->ma_log.ml_evs[i];

					if (ev->me_kind != EV_PUNCH && ev->me_epoch >= lo &&
					    ev->me_epoch <= hi)
						n++;
				}
				if (visible && !ak->ma_array) {
					uint64_t size;
					const uint8_t *data = model_sv(m, o, d, a, hi, &size);

					for (i = 0; i < ak->ma_log.ml_nr && data != NULL; i++)
						if (ak->ma_log.ml_evs[i].me_data == data &&
						    ak->ma_log.ml_evs[i].me_epoch >= lo)
							n = 1;
				}
				if (visible && ak->ma_array)
					n = ic->ic_vals[o][d][a]; /* checked record by record */
				assert_int_equal(ic->ic_vals[o][d][a], n);
				nvals += n;
			}
		}
	}
	assert_int_equal(ic->ic_keys[0], want[0]);
	assert_int_equal(ic->ic_keys[1], want[1]);
	assert_int_equal(ic->ic_keys[2], want[2]);
	m->m_iter_keys += want[0] + want[1] + want[2];
	m->m_iter_vals += nvals;
	D_FREE(ic->ic_buf);
	D_FREE(ic);
}

/* A walk in each mode: visible at a random epoch (from 0 or a random lo), and history. */
static void
iter_check_random(struct model *m)
{
	uint64_t hi = rnd_epoch(m),
		 lo = rnd(m, 2) ? 0 : rnd(m, hi == DAOS_EPOCH_MAX ? M_EPOCHS : hi);

	iter_check(m, true, lo, hi);
	iter_check(m, false, lo, hi);
	iter_check(m, false, 0, DAOS_EPOCH_MAX);
}

/* Every akey at the latest epoch and at a random one. */
static void
model_check_all(struct model *m)
{
	struct vos_cont_info ci;
	uint32_t nobjs = 0;
	int o, d, a;

	for (o = 0; o < M_OBJS; o++) {
		nobjs += m->m_touched[o];
		for (d = 0; d < M_DKEYS; d++) {
			for (a = 0; a < M_AKEYS; a++) {
				fetch_check(m, o, d, DAOS_EPOCH_MAX, 1, &a);
				fetch_check(m, o, d, rnd_epoch(m), 1, &a);
			}
		}
	}
	assert_int_equal(vos_cont_query(coh, &ci), 0);
	assert_int_equal(ci.ci_nobjs, nobjs);
	assert_int_equal(ci.ci_used_scm, m->m_scm);
	assert_int_equal(ci.ci_used_data, m->m_data);
	iter_check_random(m);
}

/* Close and reopen the pool (cleanly or as a crash), counting its checkpoints. */
static void
model_reopen(struct model *m, bool crash)
{
	struct vos_pool_info info;

	assert_int_equal(vos_pool_query(poh, &info), 0);
	m->m_ckpts += info.pi_checkpoints;
	vt_pool_reopen(crash);
}

/*
 * @nops random operations; with @poll the pool is polled now and then (it checkpoints when
 * the WAL is half full), without it only a full WAL makes updates checkpoint.
 */
static void
model_run(unsigned int seed, unsigned int nops, bool poll, uint64_t *ckpts)
{
	struct model m;
	unsigned int i;

	model_init(&m, seed);
	for (i = 1; i <= nops; i++) {
		uint64_t p = rnd(&m, 100);

		if (p < 45)
			op_update(&m);
		else if (p < 55)
			op_punch(&m);
		else
			op_fetch(&m);
		if (poll && i % 97 == 0)
			assert_true(vos_pool_poll(poh) >= 0);
		if (i % 700 == 0) {
			/*
			 * Without polling only a full WAL checkpoints (ckpts counts those), and
			 * only crash reopens, which trim nothing, so the WAL surely fills up.
			 */
			switch (poll ? rnd(&m, 3) : 1) {
			case 0:
				model_reopen(&m, false);
				break;
			case 1:
				model_reopen(&m, true);
				break;
			default:
				assert_int_equal(vos_pool_checkpoint(poh), 0);
				break;
			}
			model_check_all(&m);
		}
	}
	model_reopen(&m, true);
	model_check_all(&m);
	print_message("model: %u operations, %u fetches, %u non-empty values read, %" PRIu64
		      " checkpoints, %u keys and %u values iterated\n",
		      nops, m.m_fetches, m.m_nonempty, m.m_ckpts, m.m_iter_keys, m.m_iter_vals);
	*ckpts = m.m_ckpts;
	assert_true(m.m_nonempty > m.m_fetches / 4);
	assert_true(m.m_iter_vals > nops / 4);
	model_fini(&m);
}

static void
t_model(void **state)
{
	uint64_t ckpts;

	(void)state;
	model_run(d_test_seed("vos_io model"), 4000, true, &ckpts);
}

/*
 * The same with a WAL of the smallest size and no polling: commits find it full, make room
 * and are retried.
 */
static void
t_model_small_wal(void **state)
{
	uint64_t ckpts;

	(void)state;
	assert_int_equal(vos_cont_close(coh), 0);
	assert_int_equal(vos_pool_close(poh), 0);
	vos_pool_destroy(path, pool_uuid);
	vt_pool_start(32ULL << 20, 64ULL << 20, VOS_POOL_WAL_MIN);
	model_run(d_test_seed("vos_io model, small WAL"), 3500, false, &ckpts);
	/* the WAL filled up: updates made room themselves */
	assert_true(ckpts > 0);
}

/*
 * Container destroy gives back the heap and the data blocks; a destroy spans several
 * transactions when the container is large; an open container cannot be destroyed.
 */
static void
fill_container(daos_handle_t c, unsigned int nobj, bool big)
{
	static uint8_t buf[3 * VOS_DATA_THRESH];
	daos_handle_t saved = coh;
	unsigned int i;
	char dk[16];

	coh = c;
	fill(buf, sizeof(buf), 3);
	for (i = 0; i < nobj; i++) {
		daos_unit_oid_t oid = test_oid(DAOS_OT_MULTI_HASHED, 5000 + i);

		snprintf(dk, sizeof(dk), "d%u", i % 7);
		assert_int_equal(upd_sv(oid, 10, 0, dk, "a", buf, 100), 0);
		assert_int_equal(upd_sv(oid, 11, 0, dk, "a", buf, 200), 0);
		assert_int_equal(upd_ar(oid, 12, dk, "arr", 1, i, 50, buf), 0);
		assert_int_equal(vos_obj_punch(coh, oid, 13, 0, 0, NULL, 0, NULL, NULL), 0);
		if (big && i % 10 == 0) {
			assert_int_equal(upd_sv(oid, 14, 0, dk, "big", buf, sizeof(buf)), 0);
			assert_int_equal(
			    upd_ar(oid, 15, dk, "bigarr", 4, 0, VOS_DATA_THRESH / 4, buf), 0);
		}
	}
	coh = saved;
}

static void
t_destroy(void **state)
{
	struct vos_pool_info p0, p1, p2;
	struct vos_cont_info ci;
	unsigned int polls = 0, yields = 0;
	daos_handle_t c2;
	uuid_t u2;

	(void)state;
	uuid_generate(u2);
	/* warm up: the first use of the data file allocates bitmap pages for good */
	assert_int_equal(vos_cont_create(poh, u2), 0);
	assert_int_equal(vos_cont_create(poh, u2), -DER_EXIST);
	assert_int_equal(vos_cont_open(poh, u2, &c2), 0);
	fill_container(c2, 10, true);
	assert_int_equal(vos_cont_close(c2), 0);
	assert_int_equal(vos_cont_destroy(poh, u2), 0);
	gc_all();
	assert_int_equal(vos_pool_query(poh, &p0), 0);

	/* a container large enough to need many GC steps */
	assert_int_equal(vos_cont_create(poh, u2), 0);
	assert_int_equal(vos_cont_open(poh, u2, &c2), 0);
	fill_container(c2, 400, true);
	assert_int_equal(vos_cont_query(c2, &ci), 0);
	assert_int_equal(ci.ci_nobjs, 400);
	assert_true(ci.ci_used_data > 0 && ci.ci_used_scm > 0);
	assert_int_equal(vos_cont_destroy(poh, u2), -DER_BUSY);
	assert_int_equal(vos_cont_close(c2), 0);
	assert_int_equal(vos_pool_query(poh, &p1), 0);
	assert_true(p1.pi_scm_free < p0.pi_scm_free);
	assert_true(p1.pi_data_free < p0.pi_data_free);
	assert_true(vos_gc_pool_idle(poh));
	assert_int_equal(vos_cont_destroy(poh, u2), 0);
	/* gone at once (the uuid may be reused), its space still held until GC runs */
	assert_false(vos_gc_pool_idle(poh));
	assert_int_equal(vos_cont_destroy(poh, u2), -DER_NONEXIST);
	assert_int_equal(vos_cont_open(poh, u2, &c2), -DER_NONEXIST);
	assert_int_equal(vos_pool_query(poh, &p2), 0);
	assert_true(p2.pi_scm_free <= p1.pi_scm_free);
	assert_int_equal(p2.pi_data_free, p1.pi_data_free);
	/* the poller frees it in bounded steps */
	while (!vos_gc_pool_idle(poh)) {
		assert_true(vos_pool_poll(poh) >= 0);
		polls++;
		assert_true(polls < 100000);
	}
	assert_true(polls > 10);
	assert_int_equal(vos_pool_wait(poh, vos_pool_last_lsn(poh)), 0);
	assert_true(vos_pool_poll(poh) >= 0);
	assert_int_equal(vos_pool_query(poh, &p2), 0);
	assert_int_equal(p2.pi_scm_free, p0.pi_scm_free);
	assert_int_equal(p2.pi_data_free, p0.pi_data_free);

	/* and the state after a reopen agrees */
	vt_pool_reopen(true);
	assert_int_equal(vos_pool_query(poh, &p2), 0);
	assert_int_equal(p2.pi_scm_free, p0.pi_scm_free);
	assert_int_equal(p2.pi_data_free, p0.pi_data_free);
	assert_int_equal(vos_cont_open(poh, u2, &c2), -DER_NONEXIST);

	/* a crash in the middle of GC: the next open resumes it */
	assert_int_equal(vos_cont_create(poh, u2), 0);
	assert_int_equal(vos_cont_open(poh, u2, &c2), 0);
	fill_container(c2, 400, true);
	assert_int_equal(vos_cont_close(c2), 0);
	assert_int_equal(vos_cont_destroy(poh, u2), 0);
	assert_int_equal(vos_cont_create(poh, u2), 0); /* a new one of the same uuid */
	assert_int_equal(vos_gc_pool(poh, 700, NULL, NULL), 0);
	assert_false(vos_gc_pool_idle(poh));
	/* the yield hook runs between transactions and can stop the run */
	assert_int_equal(vos_gc_pool(poh, 0, gc_yield, &yields), 0);
	assert_int_equal(yields, 3);
	assert_false(vos_gc_pool_idle(poh));
	vt_pool_reopen(true);
	assert_false(vos_gc_pool_idle(poh));
	assert_int_equal(vos_cont_open(poh, u2, &c2), 0);
	assert_int_equal(vos_cont_query(c2, &ci), 0);
	assert_int_equal(ci.ci_nobjs, 0);
	assert_int_equal(vos_cont_close(c2), 0);
	assert_int_equal(vos_cont_destroy(poh, u2), 0);
	gc_all();
	assert_int_equal(vos_pool_query(poh, &p2), 0);
	assert_int_equal(p2.pi_scm_free, p0.pi_scm_free);
	assert_int_equal(p2.pi_data_free, p0.pi_data_free);
}

/*
 * A tiny pool: fill the data file, then the heap, to -DER_NOSPACE; nothing of a failed
 * update is visible, everything before it is intact, and destroy gives the space back.
 */
static void
t_nospace(void **state)
{
	daos_unit_oid_t oid = test_oid(DAOS_OT_MULTI_HASHED, 77);
	static uint8_t big[64 << 10], small[3000], out[64 << 10];
	daos_key_t dkey = vt_key("two");
	daos_iod_t iods[2] = {0};
	d_sg_list_t sgls[2] = {0};
	d_iov_t iovs[2];
	struct vos_pool_info p0, p1;
	unsigned int i, nbig, nsmall;
	uint64_t size;
	char dk[32];
	int rc;

	(void)state;
	assert_int_equal(vos_cont_close(coh), 0);
	assert_int_equal(vos_pool_close(poh), 0);
	vos_pool_destroy(path, pool_uuid);
	vt_pool_start(VOS_POOL_SCM_MIN, VOS_POOL_DATA_MIN, VOS_POOL_WAL_MIN);
	assert_int_equal(vos_pool_query(poh, &p0), 0);

	/* the data file */
	for (nbig = 0;; nbig++) {
		fill(big, sizeof(big), nbig);
		snprintf(dk, sizeof(dk), "big%u", nbig);
		rc = upd_sv(oid, 10, 0, dk, "a", big, sizeof(big));
		if (rc != 0)
			break;
	}
	assert_int_equal(rc, -DER_NOSPACE);
	assert_int_equal(nbig, (VOS_POOL_DATA_MIN / VOS_BLK_SIZE - 1) / (sizeof(big) / 4096));
	assert_int_equal(fetch_sv(oid, 10, 0, dk, "a", out, sizeof(out), &size), 0);
	assert_int_equal(size, 0);
	/* two iods, the small one fits, the big one does not: neither is applied */
	iods[0].iod_name = vt_key("s");
	iods[0].iod_type = DAOS_IOD_SINGLE;
	iods[0].iod_size = 10;
	iods[1].iod_name = vt_key("b");
	iods[1].iod_type = DAOS_IOD_SINGLE;
	iods[1].iod_size = sizeof(big);
	d_iov_set(&iovs[0], small, 10);
	d_iov_set(&iovs[1], big, sizeof(big));
	sgls[0].sg_nr = sgls[1].sg_nr = 1;
	sgls[0].sg_iovs = &iovs[0];
	sgls[1].sg_iovs = &iovs[1];
	assert_int_equal(vos_obj_update(coh, oid, 11, 0, 0, &dkey, 2, iods, NULL, sgls),
			 -DER_NOSPACE);
	assert_int_equal(fetch_sv(oid, 20, 0, "two", "s", out, sizeof(out), &size), 0);
	assert_int_equal(size, 0);

	/* the heap */
	for (nsmall = 0;; nsmall++) {
		fill(small, sizeof(small), nsmall);
		snprintf(dk, sizeof(dk), "small%u", nsmall);
		rc = upd_sv(oid, 10, 0, dk, "a", small, sizeof(small));
		if (rc != 0)
			break;
	}
	assert_int_equal(rc, -DER_NOSPACE);
	assert_true(nsmall > 1000);
	assert_int_equal(fetch_sv(oid, 10, 0, dk, "a", out, sizeof(out), &size), 0);
	assert_int_equal(size, 0);
	/* everything written before is intact, also after a crash */
	vt_pool_reopen(true);
	for (i = 0; i < nbig; i += 3) {
		fill(big, sizeof(big), i);
		snprintf(dk, sizeof(dk), "big%u", i);
		assert_int_equal(fetch_sv(oid, 10, 0, dk, "a", out, sizeof(out), &size), 0);
		assert_int_equal(size, sizeof(big));
		assert_memory_equal(out, big, sizeof(big));
	}
	for (i = 0; i < nsmall; i += 97) {
		fill(small, sizeof(small), i);
		snprintf(dk, sizeof(dk), "small%u", i);
		assert_int_equal(fetch_sv(oid, 10, 0, dk, "a", out, sizeof(out), &size), 0);
		assert_int_equal(size, sizeof(small));
		assert_memory_equal(out, small, sizeof(small));
	}

	/* destroy gives it all back; the pool works again */
	assert_int_equal(vos_cont_close(coh), 0);
	coh.cookie = 0;
	assert_int_equal(vos_cont_destroy(poh, cont_uuid), 0);
	gc_all();
	assert_int_equal(vos_pool_query(poh, &p1), 0);
	assert_int_equal(p1.pi_data_free, p0.pi_data_free);
	assert_true(p1.pi_scm_free + (64 << 10) >= p0.pi_scm_free);
	assert_int_equal(vos_cont_create(poh, cont_uuid), 0);
	assert_int_equal(vos_cont_open(poh, cont_uuid, &coh), 0);
	assert_int_equal(upd_sv(oid, 10, 0, "again", "a", big, sizeof(big)), 0);
}

/*
 * Faults under the object API: I/O errors injected under bio's WAL and the meta file, and
 * flipped bits in the meta file, each followed by a full reopen.
 */

/* Fault ids (src/bio/bio_internal.h, vos_internal.h). */
enum {
	FI_WAL_WRITE = 200,
	FI_WAL_SYNC = 201,
	FI_WAL_HDR = 202,
	FI_WAL_READ = 203,
	FI_WAL_SUBMIT = 204,
};

static void
fault_arm(uint32_t id, uint32_t nth)
{
	struct d_fault_attr fa = {
	    .fa_id = id, .fa_interval = nth, .fa_max_faults = 1, .fa_err_code = -DER_IO};

	assert_int_equal(d_fault_attr_set(&fa), 0);
}

/* Values k of the fault tests: dkey "f<k>", one single value of size depending on k. */
static int
fault_upd(uint64_t k)
{
	daos_unit_oid_t oid = test_oid(DAOS_OT_MULTI_HASHED, 900);
	static uint8_t buf[2 * VOS_DATA_THRESH];
	char dk[24];

	snprintf(dk, sizeof(dk), "f%" PRIu64, k);
	fill(buf, sizeof(buf), (unsigned int)k);
	return upd_sv(oid, k, 0, dk, "a", buf, k % 3 == 0 ? sizeof(buf) : 10 + k % 500);
}

/* Is value k there, whole (1), absent (0)? Anything else fails the test. */
static int
fault_present(uint64_t k)
{
	daos_unit_oid_t oid = test_oid(DAOS_OT_MULTI_HASHED, 900);
	static uint8_t want[2 * VOS_DATA_THRESH], got[2 * VOS_DATA_THRESH];
	uint64_t size, wsize = k % 3 == 0 ? sizeof(want) : 10 + k % 500;
	char dk[24];

	snprintf(dk, sizeof(dk), "f%" PRIu64, k);
	assert_int_equal(fetch_sv(oid, DAOS_EPOCH_MAX, 0, dk, "a", got, sizeof(got), &size), 0);
	if (size == 0)
		return 0;
	fill(want, sizeof(want), (unsigned int)k);
	assert_int_equal(size, wsize);
	assert_memory_equal(got, want, wsize);
	return 1;
}

static void
t_io_errors(void **state)
{
	static const uint32_t ids[] = {FI_WAL_WRITE, FI_WAL_SYNC, FI_WAL_SUBMIT, FI_WAL_HDR};
	uint64_t k = 1, durable = 0, lost = 0, next, i, j, used0;
	struct vos_pool_info pi;
	unsigned int n;
	int rc;

	(void)state;
	for (n = 0; n < D_ARRAY_SIZE(ids) * 2; n++) {
		uint32_t id = ids[n % D_ARRAY_SIZE(ids)];

		/* acknowledged values, then a fault on one of the next flushes */
		for (j = 0; j < 5; j++)
			assert_int_equal(fault_upd(k++), 0);
		assert_int_equal(vos_pool_wait(poh, vos_pool_last_lsn(poh)), 0);
		durable = k - 1;
		assert_int_equal(vos_pool_query(poh, &pi), 0);
		used0 = pi.pi_wal_used;
		/* the first or second hit (header writes are rare: always the first) */
		fault_arm(id, id == FI_WAL_HDR ? 1 : 1 + n / D_ARRAY_SIZE(ids));
		rc = 0;
		for (j = 0; rc == 0; j++) {
			if (id != FI_WAL_HDR && j == 40)
				break;
			rc = fault_upd(k);
			if (rc == 0) {
				k++;
				rc = vos_pool_wait(poh, vos_pool_last_lsn(poh));
				if (rc == 0)
					durable = k - 1;
			}
			if (rc != 0 || id != FI_WAL_HDR)
				continue;
			/*
			 * Only a trim that moves the tail writes the header (with the next
			 * flush), and the tail moves by whole 64 KiB segments of log to the
			 * older checkpoint's LSN. So checkpoint each round until the log holds
			 * a few segments more than at arming: how many rounds that takes
			 * depends on the record sizes (zero runs are not logged). While the
			 * fault waits the tail cannot move, so the log only grows.
			 */
			rc = vos_pool_checkpoint(poh);
			assert_int_equal(vos_pool_query(poh, &pi), 0);
			if (rc == 0 && pi.pi_wal_used > used0 + (256 << 10))
				break;
		}
		d_fault_attr_clear(id);
		/* a clean error, and no more updates until the pool is reopened */
		assert_int_equal(rc, -DER_IO);
		assert_int_equal(fault_upd(k + 1000), -DER_IO);
		assert_int_equal(vos_obj_punch(coh, test_oid(DAOS_OT_MULTI_HASHED, 900), k + 1000,
					       0, 0, NULL, 0, NULL, NULL),
				 -DER_IO);
		assert_int_equal(vos_pool_wait(poh, vos_pool_last_lsn(poh)), -DER_IO);
		assert_int_equal(vos_cont_close(coh), 0);
		vos_pool_abandon(poh);

		/* the shard opens; what was acknowledged is there, the rest is a whole prefix */
		assert_int_equal(vos_pool_open(path, pool_uuid, 0, NULL, &poh), 0);
		assert_int_equal(vos_cont_open(poh, cont_uuid, &coh), 0);
		for (i = 1; i <= durable; i++)
			assert_int_equal(fault_present(i), 1);
		for (i = durable + 1; i < k && fault_present(i); i++)
			;
		next = i;
		for (; i < k + 1001; i++)
			assert_int_equal(fault_present(i), 0);
		/* what did not survive is written again */
		lost += k - next;
		k = next;
		durable = next - 1;
	}
	print_message("%u injected faults, %" PRIu64 " updates lost with them\n", n, lost);
	/* reads under open fail cleanly, and the next open works */
	assert_int_equal(vos_cont_close(coh), 0);
	assert_int_equal(vos_pool_close(poh), 0);
	coh.cookie = 0;
	poh.cookie = 0;
	fault_arm(FI_WAL_READ, 1);
	assert_int_equal(vos_pool_open(path, pool_uuid, 0, NULL, &poh), -DER_IO);
	d_fault_attr_clear(FI_WAL_READ);
	assert_int_equal(vos_pool_open(path, pool_uuid, 0, NULL, &poh), 0);
	assert_int_equal(vos_cont_open(poh, cont_uuid, &coh), 0);
	for (i = 1; i <= durable; i++)
		assert_int_equal(fault_present(i), 1);
	/* a meta-file write that fails: the checkpoint reports it, the WAL still has it all */
	for (j = 0; j < 5; j++)
		assert_int_equal(fault_upd(k++), 0);
	assert_int_equal(vos_pool_wait(poh, vos_pool_last_lsn(poh)), 0);
	fault_arm(D_FI_META_WRITE, 2);
	assert_int_equal(vos_pool_checkpoint(poh), -DER_IO);
	d_fault_attr_clear(D_FI_META_WRITE);
	vt_pool_reopen(true);
	for (i = k - 5; i < k; i++)
		assert_int_equal(fault_present(i), 1);
	assert_int_equal(fault_upd(k), 0);
}

/* Copy file @src over @dst. */
static void
copy_file(const char *src, const char *dst)
{
	static char buf[1 << 16];
	int in = open(src, O_RDONLY), out = open(dst, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	ssize_t n;

	assert_true(in >= 0 && out >= 0);
	while ((n = read(in, buf, sizeof(buf))) > 0)
		assert_int_equal(write(out, buf, (size_t)n), n);
	assert_int_equal(n, 0);
	close(in);
	close(out);
}

/* Flip bit @bit of byte @off of file @f. */
static void
flip_bit(const char *f, off_t off, unsigned int bit)
{
	uint8_t b;
	int fd = open(f, O_RDWR);

	assert_true(fd >= 0);
	assert_int_equal(pread(fd, &b, 1, off), 1);
	b ^= (uint8_t)(1U << bit);
	assert_int_equal(pwrite(fd, &b, 1, off), 1);
	close(fd);
}

static void
t_meta_bitflip(void **state)
{
	uint64_t rs = d_test_rand_seed(d_test_seed("t_meta_bitflip"));
	char meta[160], copy[160];
	unsigned int n, opened = 0;
	struct stat st;
	uint64_t k;

	(void)state;
	for (k = 1; k <= 300; k++)
		assert_int_equal(fault_upd(k), 0);
	fill_container(coh, 30, true);
	/* two checkpoints, so both images hold the data, then more in the WAL only */
	assert_int_equal(vos_pool_checkpoint(poh), 0);
	for (; k <= 400; k++)
		assert_int_equal(fault_upd(k), 0);
	assert_int_equal(vos_pool_checkpoint(poh), 0);
	for (; k <= 450; k++)
		assert_int_equal(fault_upd(k), 0);
	assert_int_equal(vos_cont_close(coh), 0);
	assert_int_equal(vos_pool_wait(poh, vos_pool_last_lsn(poh)), 0);
	vos_pool_abandon(poh);
	coh.cookie = 0;
	poh.cookie = 0;

	snprintf(meta, sizeof(meta), "%s/meta", path);
	snprintf(copy, sizeof(copy), "%s/meta.copy", dir);
	copy_file(meta, copy);
	assert_int_equal(stat(meta, &st), 0);
	for (n = 0; n < 24; n++) {
		/* headers and CRC tables now and then, anywhere otherwise */
		off_t off = n % 4 == 0 ? (off_t)(d_test_rand(&rs) % 8192)
				       : (off_t)(d_test_rand(&rs) % (uint64_t)st.st_size);
		int rc;

		copy_file(copy, meta);
		flip_bit(meta, off, (unsigned int)(d_test_rand(&rs) % 8));
		/* one image is damaged at most: the other one and the WAL give everything */
		rc = vos_pool_open(path, pool_uuid, 0, NULL, &poh);
		assert_int_equal(rc, 0);
		opened++;
		assert_int_equal(vos_cont_open(poh, cont_uuid, &coh), 0);
		for (k = 1; k <= 450; k++)
			assert_int_equal(fault_present(k), 1);
		assert_int_equal(vos_cont_close(coh), 0);
		vos_pool_abandon(poh);
	}
	/* the copy back, for teardown */
	copy_file(copy, meta);
	assert_int_equal(unlink(copy), 0);
	assert_int_equal(vos_pool_open(path, pool_uuid, 0, NULL, &poh), 0);
	assert_int_equal(vos_cont_open(poh, cont_uuid, &coh), 0);
	assert_int_equal(opened, 24);
}

/* Is @oid (and, with @dkey, that dkey as its last) in the handle's lookup cache? */
static bool
oc_has(daos_unit_oid_t oid, const char *dkey)
{
	struct vos_container *cont = vos_hdl2cont(coh);
	struct vos_obj_df *obj = vos_oc_obj(cont, oid);
	daos_key_t dk;

	if (obj == NULL || dkey == NULL)
		return obj != NULL;
	dk = vt_key(dkey);
	return vos_oc_dkey(cont, obj, &dk) != NULL;
}

/* Fetch single value (@dkey, "a") of @oid at @epoch: it must be @want ("": none). */
static void
oc_check(daos_unit_oid_t oid, uint64_t epoch, const char *dkey, const char *want)
{
	char buf[32] = {0};
	uint64_t size;

	assert_int_equal(fetch_sv(oid, epoch, 0, dkey, "a", buf, sizeof(buf), &size), 0);
	assert_int_equal(size, strlen(want));
	assert_memory_equal(buf, want, size);
}

/*
 * The lookup cache of a container handle (vos_obj.c): objects and their last dkey are
 * remembered by updates and fetches, never from a transaction that aborts (its own or an
 * outer one), and forgotten when aggregation takes a record out of its tree; 40 objects
 * over the 8 entries read back right through the cache and, after a reopen, through the
 * trees alone (a cached record written after it left its tree is found only in the cache).
 */
static void
t_lookup_cache(void **state)
{
	struct umem_instance *umm = vos_hdl2cont(coh)->vc_pool->vp_umm;
	daos_unit_oid_t a = test_oid(DAOS_OT_MULTI_HASHED, 70);
	daos_unit_oid_t b = test_oid(DAOS_OT_MULTI_HASHED, 71);
	daos_unit_oid_t c = test_oid(DAOS_OT_MULTI_HASHED, 72);
	daos_unit_oid_t d = test_oid(DAOS_OT_MULTI_HASHED, 73);
	daos_epoch_range_t epr = {.epr_lo = 0, .epr_hi = 20};
	daos_key_t dk = vt_key("gone");
	struct vos_cont_info ci;
	char val[16];
	unsigned int i, j;

	(void)state;
	/* filled by an update, hit by the next ones (same dkey), moved by another dkey */
	assert_false(oc_has(a, NULL));
	assert_int_equal(upd_sv(a, 1, 0, "d1", "a", "v1", 2), 0);
	assert_true(oc_has(a, "d1"));
	assert_int_equal(upd_sv(a, 2, 0, "d1", "b", "w1", 2), 0);
	assert_int_equal(upd_sv(a, 3, 0, "d2", "a", "v2", 2), 0);
	assert_true(oc_has(a, "d2"));
	assert_false(oc_has(a, "d1"));
	oc_check(a, 5, "d1", "v1");
	oc_check(a, 5, "d2", "v2");

	/* an update that aborts (a failed condition) created b and its dkey: not cached */
	assert_int_equal(upd_sv(b, 4, DAOS_COND_AKEY_UPDATE, "x", "a", "no", 2), -DER_NONEXIST);
	assert_false(oc_has(b, NULL));
	assert_int_equal(upd_sv(b, 6, 0, "x", "a", "b1", 2), 0); /* (a stale entry: freed slots) */
	assert_true(oc_has(b, "x"));
	assert_int_equal(upd_sv(c, 5, 0, "y", "a", "c1", 2), 0);

	/* an update committed inside an outer transaction that aborts: not cached */
	assert_int_equal(umem_tx_begin(umm), 0);
	assert_int_equal(upd_sv(d, 7, 0, "z", "a", "d1", 2), 0);
	assert_false(oc_has(d, NULL));
	assert_int_equal(umem_tx_end(umm, -DER_CANCELED), -DER_CANCELED);
	oc_check(d, 9, "z", "");
	assert_int_equal(upd_sv(c, 8, 0, "y2", "a", "c2", 2), 0);
	assert_int_equal(upd_sv(d, 9, 0, "z", "a", "d2", 2), 0);
	oc_check(d, 10, "z", "d2");

	/* a dkey aggregation removes: the fetch cached it, the removal must forget it */
	assert_int_equal(upd_sv(a, 10, 0, "gone", "a", "old", 3), 0);
	assert_int_equal(vos_obj_punch(coh, a, 11, 0, 0, &dk, 0, NULL, NULL), 0);
	oc_check(a, 10, "gone", "old");
	assert_true(oc_has(a, "gone"));
	assert_int_equal(vos_aggregate(coh, &epr, NULL, 0), 0);
	assert_false(oc_has(a, NULL));
	assert_int_equal(upd_sv(a, 30, 0, "gone", "a", "new", 3), 0);
	gc_all();
	assert_int_equal(upd_sv(c, 21, 0, "y3", "a", "c3", 2), 0); /* may reuse the slots */
	oc_check(a, 40, "gone", "new");
	oc_check(a, 25, "gone", "");

	/* many objects over few entries, three dkeys each, round robin */
	for (j = 0; j < 3; j++) {
		for (i = 0; i < 40; i++) {
			char dkey[8];

			snprintf(dkey, sizeof(dkey), "k%u", j);
			snprintf(val, sizeof(val), "o%u.%u", i, j);
			assert_int_equal(upd_sv(test_oid(DAOS_OT_MULTI_HASHED, 100 + i), 50 + j, 0,
						dkey, "a", val, strlen(val)),
					 0);
		}
	}
	for (int round = 0; round < 2; round++) {
		for (i = 0; i < 40; i++) {
			for (j = 0; j < 3; j++) {
				char dkey[8];

				snprintf(dkey, sizeof(dkey), "k%u", j);
				snprintf(val, sizeof(val), "o%u.%u", i, j);
				oc_check(test_oid(DAOS_OT_MULTI_HASHED, 100 + i), 60, dkey, val);
			}
		}
		oc_check(a, 40, "gone", "new");
		oc_check(b, 40, "x", "b1");
		oc_check(d, 40, "z", "d2");
		oc_check(a, 40, "d2", "v2");
		/* the trees alone: the cache dies with the handle */
		vt_pool_reopen(round == 0);
		assert_false(oc_has(a, NULL));
	}
	assert_int_equal(vos_cont_query(coh, &ci), 0);
	assert_int_equal(ci.ci_nobjs, 44);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(t_single_basic, setup, teardown),
	    cmocka_unit_test_setup_teardown(t_array_basic, setup, teardown),
	    cmocka_unit_test_setup_teardown(t_multi_iod, setup, teardown),
	    cmocka_unit_test_setup_teardown(t_type_mismatch, setup, teardown),
	    cmocka_unit_test_setup_teardown(t_cond, setup, teardown),
	    cmocka_unit_test_setup_teardown(t_punch, setup, teardown),
	    cmocka_unit_test_setup_teardown(t_key_kinds, setup, teardown),
	    cmocka_unit_test_setup_teardown(t_sizes, setup, teardown),
	    cmocka_unit_test_setup_teardown(t_destroy, setup, teardown),
	    cmocka_unit_test_setup_teardown(t_nospace, setup, teardown),
	    cmocka_unit_test_setup_teardown(t_io_errors, setup, teardown),
	    cmocka_unit_test_setup_teardown(t_meta_bitflip, setup, teardown),
	    cmocka_unit_test_setup_teardown(t_iter_cb, setup, teardown),
	    cmocka_unit_test_setup_teardown(t_lookup_cache, setup, teardown),
	    cmocka_unit_test_setup_teardown(t_model, setup, teardown),
	    cmocka_unit_test_setup_teardown(t_model_small_wal, setup, teardown),
	};

	return cmocka_run_group_tests_name("vos_io", tests, NULL, NULL);
}
