/*
 * test_pool_mt.c: pool shards created and opened from several threads at once, as the
 * xstreams of an engine open their targets' shards. Each case runs in a child process of
 * its own, so the first umem call of the process (and its one-time setup of the slab
 * geometry) is made by the racing threads. D_FI_UMEM_GEO_SLOW makes the first caller sleep
 * in the middle of that setup: a thread that does not wait for it allocates from a half-
 * built table (an allocation fails, is too small, or the child crashes or hangs).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <pthread.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gurt/common.h>
#include <gurt/fault_inject.h>
#include <daos_srv/umem.h>
#include <daos_srv/vos.h>
#include <d_test.h>

#include "vos_internal.h"

#define NTHREADS 4
#define NVALS 24

static char dir[64];
static char paths[NTHREADS][128];
static uuid_t uuids[NTHREADS];
static uuid_t cont_uuid;
static pthread_barrier_t barrier;

/* Arm the slow first caller; exits the child on failure. */
static void
arm_slow_geo(void)
{
	struct d_fault_attr fa = {.fa_id = D_FI_UMEM_GEO_SLOW, .fa_max_faults = 1};

	if (d_fault_attr_set(&fa) != 0)
		_exit(10);
}

/* Run @fn on NTHREADS threads released together; the number of threads that failed. */
static int
run_threads(void *(*fn)(void *))
{
	pthread_t th[NTHREADS];
	uintptr_t i, bad = 0;
	void *ret;

	if (pthread_barrier_init(&barrier, NULL, NTHREADS) != 0)
		return NTHREADS;
	for (i = 0; i < NTHREADS; i++)
		if (pthread_create(&th[i], NULL, fn, (void *)i) != 0)
			return NTHREADS;
	for (i = 0; i < NTHREADS; i++) {
		pthread_join(th[i], &ret);
		bad += ret != NULL;
	}
	pthread_barrier_destroy(&barrier);
	return (int)bad;
}

/* Fork a child that runs @body (its exit status: 0 = success); assert it succeeded. */
static void
in_child(int (*body)(void), const char *what)
{
	int status;
	pid_t pid;

	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		alarm(120); /* a thread spinning on a broken table must not hang the test */
		_exit(body());
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	if (WIFSIGNALED(status))
		fail_msg("%s: the child died of signal %d", what, WTERMSIG(status));
	if (WEXITSTATUS(status) != 0)
		fail_msg("%s: %d thread(s) failed (exit status %d)", what, WEXITSTATUS(status),
			 WEXITSTATUS(status));
}

/* A heap of one's own: an allocation of every size class, each as large as asked. */
static void *
heap_thread(void *arg)
{
	struct umem_instance *umm = NULL;
	size_t sz;
	int rc;

	(void)arg;
	pthread_barrier_wait(&barrier);
	rc = umem_create(64ULL << 20, 64, NULL, NULL, &umm);
	if (rc != 0)
		return (void *)1;
	for (sz = 16; sz <= UMEM_SLAB_MAX && rc == 0; sz += sz / 3 + 1) {
		umem_off_t off;

		rc = umem_tx_begin(umm);
		if (rc != 0)
			break;
		off = umem_alloc(umm, sz);
		if (off == UMOFF_NULL || umem_alloc_size(umm, off) < sz) {
			rc = -DER_INVAL;
		} else {
			memset(umem_off2ptr(umm, off), 0x5a, sz);
			rc = umem_free(umm, off);
		}
		rc = umem_tx_end(umm, rc);
	}
	umem_close(umm);
	return rc == 0 ? NULL : (void *)1;
}

static int
heap_body(void)
{
	arm_slow_geo();
	return run_threads(heap_thread);
}

static void
t_heaps(void **state)
{
	(void)state;
	in_child(heap_body, "heaps created at once");
}

static daos_unit_oid_t
test_oid(uint64_t lo)
{
	daos_unit_oid_t oid = {0};

	oid.id_pub.lo = lo;
	oid.id_pub.hi = 0x1234;
	daos_obj_set_oid(&oid.id_pub, DAOS_OT_MULTI_HASHED, 0, 1, 0);
	return oid;
}

/* Value v of shard t: heap (small) and data file (large) values alike. */
static size_t
val_fill(uint8_t *buf, uintptr_t t, unsigned int v)
{
	size_t len = v % 3 == 0 ? 9000 + v : 40 + v * 7;
	size_t i;

	for (i = 0; i < len; i++)
		buf[i] = (uint8_t)(t * 31 + v * 7 + i);
	return len;
}

static int
val_io(daos_handle_t coh, uintptr_t t, unsigned int v, bool fetch)
{
	static __thread uint8_t buf[16384], got[16384];
	daos_key_t dkey, akey;
	char dname[16], aname[16];
	daos_iod_t iod = {0};
	d_sg_list_t sgl = {0};
	d_iov_t iov;
	size_t len;
	int rc;

	len = val_fill(buf, t, v);
	snprintf(dname, sizeof(dname), "d%u", v % 5);
	snprintf(aname, sizeof(aname), "a%u", v);
	d_iov_set(&dkey, dname, strlen(dname));
	d_iov_set(&akey, aname, strlen(aname));
	iod.iod_name = akey;
	iod.iod_type = DAOS_IOD_SINGLE;
	iod.iod_size = fetch ? DAOS_REC_ANY : len;
	iod.iod_nr = 1;
	d_iov_set(&iov, fetch ? got : buf, fetch ? sizeof(got) : len);
	sgl.sg_nr = 1;
	sgl.sg_iovs = &iov;
	if (!fetch)
		return vos_obj_update(coh, test_oid(t), 10 + v, 0, 0, &dkey, 1, &iod, NULL, &sgl);
	rc = vos_obj_fetch(coh, test_oid(t), DAOS_EPOCH_MAX, 0, &dkey, 1, &iod, &sgl);
	if (rc == 0 && (iod.iod_size != len || memcmp(got, buf, len) != 0))
		rc = -DER_MISMATCH;
	return rc;
}

/* Create shard t, a container and values in it; close it. */
static void *
create_thread(void *arg)
{
	uintptr_t t = (uintptr_t)arg;
	daos_handle_t poh, coh;
	unsigned int v;
	int rc;

	pthread_barrier_wait(&barrier);
	rc = vos_pool_create(paths[t], uuids[t], VOS_POOL_SCM_MIN, 4 * VOS_POOL_DATA_MIN,
			     VOS_POOL_WAL_MIN, NULL, &poh);
	if (rc != 0)
		return (void *)1;
	rc = vos_cont_create(poh, cont_uuid);
	if (rc == 0)
		rc = vos_cont_open(poh, cont_uuid, &coh);
	for (v = 0; v < NVALS && rc == 0; v++)
		rc = val_io(coh, t, v, false);
	if (rc == 0)
		rc = vos_pool_wait(poh, vos_pool_last_lsn(poh));
	if (rc == 0)
		rc = vos_cont_close(coh);
	rc = rc != 0 ? rc : vos_pool_close(poh);
	return rc == 0 ? NULL : (void *)1;
}

/* Open shard t (replay, image load), read every value back, close it. */
static void *
open_thread(void *arg)
{
	uintptr_t t = (uintptr_t)arg;
	daos_handle_t poh, coh;
	unsigned int v;
	int rc;

	pthread_barrier_wait(&barrier);
	rc = vos_pool_open(paths[t], uuids[t], 0, NULL, &poh);
	if (rc != 0)
		return (void *)1;
	rc = vos_cont_open(poh, cont_uuid, &coh);
	for (v = 0; v < NVALS && rc == 0; v++)
		rc = val_io(coh, t, v, true);
	if (rc == 0)
		rc = vos_cont_close(coh);
	rc = rc != 0 ? rc : vos_pool_close(poh);
	return rc == 0 ? NULL : (void *)1;
}

static int
create_body(void)
{
	arm_slow_geo();
	return run_threads(create_thread);
}

static int
open_body(void)
{
	arm_slow_geo();
	return run_threads(open_thread);
}

static void
t_shards(void **state)
{
	(void)state;
	in_child(create_body, "shards created at once");
	in_child(open_body, "shards opened at once");
}

static int
setup(void **state)
{
	int i;

	(void)state;
	strcpy(dir, "/tmp/d_pool_mt_XXXXXX");
	assert_non_null(mkdtemp(dir));
	for (i = 0; i < NTHREADS; i++) {
		snprintf(paths[i], sizeof(paths[i]), "%s/pool%d", dir, i);
		uuid_generate(uuids[i]);
	}
	uuid_generate(cont_uuid);
	return 0;
}

static int
teardown(void **state)
{
	int i;

	(void)state;
	for (i = 0; i < NTHREADS; i++)
		vos_pool_destroy(paths[i], uuids[i]);
	rmdir(dir);
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(t_heaps, setup, teardown),
	    cmocka_unit_test_setup_teardown(t_shards, setup, teardown),
	};

	return cmocka_run_group_tests_name("vos_pool_mt", tests, NULL, NULL);
}
