/*
 * vos_test_fix.h: the pool-and-container fixture shared by the VOS object tests
 * (test_vos_io.c, test_vos_agg.c, test_vos_list.c). Include it once, after cmocka.h, in a
 * test program: it defines the program's fixture state (a temporary directory, one pool
 * file, one container, their handles) and the steps every such test repeats: create,
 * tear down, close and reopen (cleanly or as a crash would), build an OID and a key.
 */
#ifndef VOS_TEST_FIX_H
#define VOS_TEST_FIX_H

#include <string.h>
#include <unistd.h>

#include <daos_srv/vos.h>

static char dir[64];
static char path[128];
static uuid_t pool_uuid;
static uuid_t cont_uuid;
static daos_handle_t poh;
static daos_handle_t coh;

/* Create the pool file with the tier sizes given, and the container, and open both. */
static inline void
vt_pool_start(daos_size_t scm, daos_size_t data, daos_size_t wal)
{
	assert_int_equal(vos_pool_create(path, pool_uuid, scm, data, wal, NULL, &poh), 0);
	assert_int_equal(vos_cont_create(poh, cont_uuid), 0);
	assert_int_equal(vos_cont_open(poh, cont_uuid, &coh), 0);
}

/*
 * A fresh directory /tmp/@name_XXXXXX, new uuids, and the pool started with the tier sizes
 * given (a zero @scm leaves the pool to the test).
 */
static inline void
vt_setup(const char *name, daos_size_t scm, daos_size_t data, daos_size_t wal)
{
	snprintf(dir, sizeof(dir), "/tmp/%s_XXXXXX", name);
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/pool", dir);
	uuid_generate(pool_uuid);
	uuid_generate(cont_uuid);
	if (scm != 0)
		vt_pool_start(scm, data, wal);
}

/* Close what is open, destroy the pool and remove the directory. */
static inline void
vt_teardown(void)
{
	if (coh.cookie != 0)
		assert_int_equal(vos_cont_close(coh), 0);
	coh.cookie = 0;
	if (poh.cookie != 0)
		assert_int_equal(vos_pool_close(poh), 0);
	poh.cookie = 0;
	vos_pool_destroy(path, pool_uuid);
	rmdir(dir);
}

/*
 * Close the container and the pool, cleanly or (@crash) as a crash would: everything
 * acknowledged is durable in the WAL, but no checkpoint is written, so the open must replay
 * it all; then reopen both. Other containers must be closed by the caller first.
 */
static inline void
vt_pool_reopen(bool crash)
{
	assert_int_equal(vos_cont_close(coh), 0);
	if (crash) {
		assert_int_equal(vos_pool_wait(poh, vos_pool_last_lsn(poh)), 0);
		vos_pool_abandon(poh);
	} else {
		assert_int_equal(vos_pool_close(poh), 0);
	}
	assert_int_equal(vos_pool_open(path, pool_uuid, 0, NULL, &poh), 0);
	assert_int_equal(vos_cont_open(poh, cont_uuid, &coh), 0);
}

/* A unit OID of @type with the given low and high words (no redundancy, one group). */
static inline daos_unit_oid_t
vt_oid(enum daos_otype_t type, uint64_t lo, uint64_t hi)
{
	daos_unit_oid_t oid = {0};

	oid.id_pub.lo = lo;
	oid.id_pub.hi = hi;
	daos_obj_set_oid(&oid.id_pub, type, 0, 1, 0);
	return oid;
}

/* A key naming the bytes of @s (borrowed, without its terminator). */
static inline daos_key_t
vt_key(const char *s)
{
	daos_key_t k;

	d_iov_set(&k, (void *)s, strlen(s));
	return k;
}

#endif /* VOS_TEST_FIX_H */
