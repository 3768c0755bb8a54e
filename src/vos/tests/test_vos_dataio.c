/*
 * test_vos_dataio.c: the data-file path of updates through the object API: O_DIRECT
 * writes from unaligned scatter-gather lists, and I/O errors under bio.
 *
 * - t_dataio_sgl: array and single values of 4 KiB .. 1 MiB + a few bytes, from sgls of
 *   1..5 iovs at odd addresses and lengths, read back equal, also after a crash (abandon
 *   once durable) and reopen.
 * - t_dataio_errors: a failed data write (BIO_FI_DATA_WRITE) is -DER_IO with nothing
 *   applied (fetch finds nothing; pool data space and container accounting unchanged) and
 *   the next update works; a failed data sync (BIO_FI_DATA_SYNC) fails the durability wait
 *   with -DER_IO, and after a crash the update is absent while everything acknowledged
 *   before it is intact.
 *   (Run with DAOS_BIO_ONE_SYNC=0: the data sync is the path of values in fresh blocks.)
 * - t_dataio_one_sync: 4 KiB values in zeroed-ahead blocks go without a data sync, their
 *   records carrying the extents and CRCs (ws_drefs, ws_sfr; no more ws_dep_syncs), and
 *   are intact after a crash; a failed write-back (BIO_FI_DATA_SFR) fails the wait with
 *   -DER_IO, and after a crash the value is absent or intact, everything before it
 *   intact; with DAOS_BIO_ONE_SYNC=0 every update takes the data sync again.
 * - t_dataio_read: fetches read the data file through its ring: a failed read
 *   (BIO_FI_DATA_READ) makes the fetch -DER_IO and the next one reads right; with every
 *   read cut short (BIO_FI_DATA_SHORT) all values still read right; a fetch of several
 *   values has their reads in flight together; blocks freed while a read is in flight are
 *   not handed out again until it ended (vos_pool_read_begin), even once durable.
 * - t_nowal: VOS_POF_NO_WAL (index only): updates of heap and data-file values append
 *   nothing to the WAL (no record, no flush, no checkpoint, however many polls), are
 *   durable at once, read back while open and after a clean close, from an ordinary open
 *   (whose WAL then replays after a crash as before: the LSNs go on); an aborted
 *   transaction restores the heap; a pool abandoned while open that way, or whose process
 *   was killed (kill -9, right after the open or amid updates), is refused at the next
 *   open with -DER_DATA_LOSS, VOS_POF_FORCE or not.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gurt/common.h>
#include <daos_srv/vos.h>
#include <d_test.h>

#include "vos_internal.h"

/* fault ids of src/bio/bio_internal.h (private to bio) */
#define BIO_FI_DATA_WRITE 205
#define BIO_FI_DATA_SYNC 206
#define BIO_FI_DATA_READ 208
#define BIO_FI_DATA_SHORT 209
#define BIO_FI_DATA_SFR 211
#define MAXV ((1U << 20) + 4096)

static char dir[64];
static char path[128];
static uuid_t uuid, co;
static daos_unit_oid_t oid;

static int
setup(void **state)
{
	(void)state;
	strcpy(dir, "/tmp/d_dataio_XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/pool", dir);
	uuid_generate(uuid);
	uuid_generate(co);
	oid.id_pub.lo = 7;
	daos_obj_set_oid(&oid.id_pub, DAOS_OT_MULTI_HASHED, 0, 1, 0);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	vos_pool_destroy(path, uuid);
	rmdir(dir);
	return 0;
}

static void
open_all(daos_handle_t *poh, daos_handle_t *coh)
{
	assert_int_equal(vos_pool_open(path, uuid, 0, NULL, poh), 0);
	assert_int_equal(vos_cont_open(*poh, co, coh), 0);
}

/* A fresh pool of 64 MiB in each tier with container co, open. */
static void
create_all(daos_handle_t *poh, daos_handle_t *coh)
{
	assert_int_equal(vos_pool_create(path, uuid, 64 << 20, 64 << 20, 0, NULL, poh), 0);
	assert_int_equal(vos_cont_create(*poh, co), 0);
	assert_int_equal(vos_cont_open(*poh, co, coh), 0);
}

/* Update akey @ak of dkey @dk at @epoch with @len bytes of @src, cut into @nr iovs. */
static int
update(daos_handle_t coh, uint64_t dk, int ak, bool array, daos_epoch_t epoch, char *src,
       uint64_t len, unsigned int nr)
{
	char akey[2] = {'a', (char)('0' + ak)};
	daos_recx_t recx = {.rx_idx = 0, .rx_nr = len};
	daos_key_t dkey;
	daos_iod_t iod = {0};
	d_sg_list_t sgl;
	d_iov_t iovs[5];
	uint64_t done = 0;
	unsigned int i;

	d_iov_set(&dkey, &dk, sizeof(dk));
	d_iov_set(&iod.iod_name, akey, 2);
	iod.iod_nr = 1;
	if (array) {
		iod.iod_type = DAOS_IOD_ARRAY;
		iod.iod_size = 1;
		iod.iod_recxs = &recx;
	} else {
		iod.iod_type = DAOS_IOD_SINGLE;
		iod.iod_size = len;
	}
	for (i = 0; i < nr; i++) {
		uint64_t n = i + 1 == nr ? len - done : (len - done) / 3 + 1 + i;

		d_iov_set(&iovs[i], src + done, n);
		done += n;
	}
	sgl.sg_nr = nr;
	sgl.sg_nr_out = 0;
	sgl.sg_iovs = iovs;
	return vos_obj_update(coh, oid, epoch, 0, 0, &dkey, 1, &iod, NULL, &sgl);
}

/*
 * The value of akey @ak of dkey @dk (latest; of an array, records [0, @want)), its size in
 * *@len (0: nothing visible).
 */
static int
fetch_rc(daos_handle_t coh, uint64_t dk, int ak, bool array, char *dst, uint64_t want,
	 uint64_t *len)
{
	char akey[2] = {'a', (char)('0' + ak)};
	daos_recx_t recx = {.rx_idx = 0, .rx_nr = want};
	daos_key_t dkey;
	daos_iod_t iod = {0};
	d_sg_list_t sgl;
	d_iov_t iov;
	int rc;

	d_iov_set(&dkey, &dk, sizeof(dk));
	d_iov_set(&iod.iod_name, akey, 2);
	iod.iod_nr = 1;
	iod.iod_type = array ? DAOS_IOD_ARRAY : DAOS_IOD_SINGLE;
	iod.iod_size = array ? 1 : DAOS_REC_ANY;
	iod.iod_recxs = array ? &recx : NULL;
	memset(dst, 0, MAXV);
	d_iov_set(&iov, dst, MAXV);
	sgl.sg_nr = 1;
	sgl.sg_nr_out = 0;
	sgl.sg_iovs = &iov;
	rc = vos_obj_fetch(coh, oid, DAOS_EPOCH_MAX, 0, &dkey, 1, &iod, &sgl);
	*len = iod.iod_size == 0 ? 0 : array ? iov.iov_len : iod.iod_size;
	return rc;
}

static void
fetch(daos_handle_t coh, uint64_t dk, int ak, bool array, char *dst, uint64_t want, uint64_t *len)
{
	assert_int_equal(fetch_rc(coh, dk, ak, array, dst, want, len), 0);
}

/* Value @k: its length, kind and bytes are a function of @k. */
static uint64_t
val_len(uint64_t k)
{
	static const uint64_t lens[] = {4096, 4097, 12345, 65536 + 3, 1U << 20, (1U << 20) + 5};

	return lens[k % 6];
}

static void
val_fill(char *buf, uint64_t k, uint64_t len)
{
	uint64_t i;

	for (i = 0; i < len; i++)
		buf[i] = (char)(k * 131 + i * 7 + (i >> 12));
}

static void
check_val(daos_handle_t coh, uint64_t k, char *src, char *dst)
{
	uint64_t len = val_len(k), got;
	bool array = k % 2 == 0;

	fetch(coh, k, 0, array, dst, len, &got);
	assert_int_equal(got, len);
	val_fill(src, k, len);
	assert_memory_equal(dst, src, len);
}

static void
t_dataio_sgl(void **state)
{
	daos_handle_t poh, coh;
	char *src, *dst;
	uint64_t k;

	(void)state;
	src = malloc(MAXV + 64);
	dst = malloc(MAXV);
	assert_true(src != NULL && dst != NULL);
	create_all(&poh, &coh);
	for (k = 1; k <= 36; k++) {
		char *at = src + k % 61; /* odd addresses */

		val_fill(at, k, val_len(k));
		assert_int_equal(
		    update(coh, k, 0, k % 2 == 0, k, at, val_len(k), 1 + (unsigned int)(k % 5)), 0);
	}
	for (k = 1; k <= 36; k++)
		check_val(coh, k, src, dst);
	assert_int_equal(vos_pool_wait(poh, vos_pool_last_lsn(poh)), 0);
	assert_int_equal(vos_cont_close(coh), 0);
	vos_pool_abandon(poh);
	open_all(&poh, &coh);
	for (k = 1; k <= 36; k++)
		check_val(coh, k, src, dst);
	assert_int_equal(vos_cont_close(coh), 0);
	assert_int_equal(vos_pool_close(poh), 0);
	free(src);
	free(dst);
}

static void
t_dataio_errors(void **state)
{
	struct d_fault_attr fa = {.fa_id = BIO_FI_DATA_WRITE, .fa_max_faults = 1};
	struct vos_pool_info pi0, pi1;
	struct vos_cont_info ci0, ci1;
	daos_handle_t poh, coh;
	char *src, *dst;
	uint64_t got;

	(void)state;
	setenv("DAOS_BIO_ONE_SYNC", "0", 1);
	src = malloc(MAXV + 64);
	dst = malloc(MAXV);
	assert_true(src != NULL && dst != NULL);
	create_all(&poh, &coh);
	val_fill(src, 4, val_len(4));
	assert_int_equal(update(coh, 4, 0, true, 4, src, val_len(4), 3), 0);
	assert_int_equal(vos_pool_wait(poh, vos_pool_last_lsn(poh)), 0);

	/* a failed data write: -DER_IO, nothing applied, space unchanged */
	vos_pool_query(poh, &pi0);
	vos_cont_query(coh, &ci0);
	assert_int_equal(d_fault_attr_set(&fa), 0);
	val_fill(src + 1, 6, val_len(6));
	assert_int_equal(update(coh, 6, 0, true, 6, src + 1, val_len(6), 2), -DER_IO);
	d_fault_attr_clear(BIO_FI_DATA_WRITE);
	fetch(coh, 6, 0, true, dst, val_len(6), &got);
	assert_int_equal(got, 0);
	vos_pool_query(poh, &pi1);
	vos_cont_query(coh, &ci1);
	assert_int_equal(pi1.pi_data_free, pi0.pi_data_free);
	assert_int_equal(pi1.pi_scm_free, pi0.pi_scm_free);
	assert_int_equal(ci1.ci_used, ci0.ci_used);
	assert_int_equal(ci1.ci_nobjs, ci0.ci_nobjs);
	/* and the shard goes on */
	assert_int_equal(update(coh, 6, 0, true, 6, src + 1, val_len(6), 2), 0);
	assert_int_equal(vos_pool_wait(poh, vos_pool_last_lsn(poh)), 0);
	check_val(coh, 6, src, dst);

	/* a failed data sync: the wait fails, and after a crash the update is not there */
	fa.fa_id = BIO_FI_DATA_SYNC;
	assert_int_equal(d_fault_attr_set(&fa), 0);
	val_fill(src, 8, val_len(8));
	assert_int_equal(update(coh, 8, 0, true, 8, src, val_len(8), 1), 0);
	assert_int_equal(vos_pool_wait(poh, vos_pool_last_lsn(poh)), -DER_IO);
	d_fault_attr_clear(BIO_FI_DATA_SYNC);
	assert_int_equal(vos_cont_close(coh), 0);
	vos_pool_abandon(poh);
	open_all(&poh, &coh);
	fetch(coh, 8, 0, true, dst, val_len(8), &got);
	assert_int_equal(got, 0);
	check_val(coh, 4, src, dst);
	check_val(coh, 6, src, dst);
	assert_int_equal(vos_cont_close(coh), 0);
	assert_int_equal(vos_pool_close(poh), 0);
	unsetenv("DAOS_BIO_ONE_SYNC");
	free(src);
	free(dst);
}

/* Value @k of 4 KiB (dkey 100 + @k), written at epoch @k; checked by check4k. */
static int
update4k(daos_handle_t coh, uint64_t k, char *src)
{
	val_fill(src, k, 4096);
	return update(coh, 100 + k, 0, false, k, src, 4096, 1 + k % 3);
}

static void
check4k(daos_handle_t coh, uint64_t k, char *src, char *dst)
{
	uint64_t got;

	fetch(coh, 100 + k, 0, false, dst, 4096, &got);
	assert_int_equal(got, 4096);
	val_fill(src, k, 4096);
	assert_memory_equal(dst, src, 4096);
}

static void
t_dataio_one_sync(void **state)
{
	struct d_fault_attr fa = {.fa_id = BIO_FI_DATA_SFR, .fa_max_faults = 1};
	struct bio_wal_stats w0, w1;
	daos_handle_t poh, coh;
	char *src, *dst;
	uint64_t k, got;

	(void)state;
	setenv("DAOS_BIO_ONE_SYNC", "1", 1);
	src = malloc(MAXV + 64);
	dst = malloc(MAXV);
	assert_true(src != NULL && dst != NULL);
	create_all(&poh, &coh);
	/* the first value waits for the first zero window, the next ones find it synced */
	assert_int_equal(update4k(coh, 1, src), 0);
	assert_int_equal(vos_pool_wait(poh, vos_pool_last_lsn(poh)), 0);
	bio_wal_query(vos_hdl2pool(poh)->vp_wal, &w0);
	for (k = 2; k <= 40; k++) {
		assert_int_equal(update4k(coh, k, src), 0);
		if (k % 4 == 0)
			assert_int_equal(vos_pool_wait(poh, vos_pool_last_lsn(poh)), 0);
	}
	assert_int_equal(vos_pool_wait(poh, vos_pool_last_lsn(poh)), 0);
	bio_wal_query(vos_hdl2pool(poh)->vp_wal, &w1);
	print_message("one-sync: %" PRIu64 " extents carried, %" PRIu64 " write-backs, %" PRIu64
		      " data syncs, %" PRIu64 " flushes\n",
		      w1.ws_drefs - w0.ws_drefs, w1.ws_sfr - w0.ws_sfr,
		      w1.ws_dep_syncs - w0.ws_dep_syncs, w1.ws_flushes - w0.ws_flushes);
	assert_int_equal(w1.ws_drefs - w0.ws_drefs, 39);
	assert_true(w1.ws_sfr > w0.ws_sfr);
	assert_int_equal(w1.ws_dep_syncs, w0.ws_dep_syncs);
	assert_int_equal(vos_cont_close(coh), 0);
	vos_pool_abandon(poh);
	open_all(&poh, &coh);
	for (k = 1; k <= 40; k++)
		check4k(coh, k, src, dst);

	/* a failed write-back: the wait fails; after a crash the value is absent or whole */
	assert_int_equal(update4k(coh, 41, src), 0);
	assert_int_equal(vos_pool_wait(poh, vos_pool_last_lsn(poh)), 0);
	assert_int_equal(d_fault_attr_set(&fa), 0);
	assert_int_equal(update4k(coh, 42, src), 0);
	assert_int_equal(vos_pool_wait(poh, vos_pool_last_lsn(poh)), -DER_IO);
	d_fault_attr_clear(BIO_FI_DATA_SFR);
	assert_int_equal(vos_cont_close(coh), 0);
	vos_pool_abandon(poh);
	open_all(&poh, &coh);
	fetch(coh, 142, 0, false, dst, 4096, &got);
	print_message("value after a failed write-back: %s\n", got == 0 ? "absent" : "present");
	if (got != 0)
		check4k(coh, 42, src, dst);
	for (k = 1; k <= 41; k++)
		check4k(coh, k, src, dst);
	assert_int_equal(vos_cont_close(coh), 0);
	assert_int_equal(vos_pool_close(poh), 0);

	/* the knob off: the data sync again */
	setenv("DAOS_BIO_ONE_SYNC", "0", 1);
	open_all(&poh, &coh);
	bio_wal_query(vos_hdl2pool(poh)->vp_wal, &w0);
	for (k = 50; k <= 53; k++) {
		assert_int_equal(update4k(coh, k, src), 0);
		assert_int_equal(vos_pool_wait(poh, vos_pool_last_lsn(poh)), 0);
	}
	bio_wal_query(vos_hdl2pool(poh)->vp_wal, &w1);
	assert_int_equal(w1.ws_drefs, 0);
	assert_int_equal(w1.ws_sfr, 0);
	assert_int_equal(w1.ws_dep_syncs - w0.ws_dep_syncs, 4);
	assert_int_equal(vos_cont_close(coh), 0);
	assert_int_equal(vos_pool_close(poh), 0);
	unsetenv("DAOS_BIO_ONE_SYNC");
	free(src);
	free(dst);
}

static void
t_dataio_read(void **state)
{
	struct d_fault_attr fa = {.fa_id = BIO_FI_DATA_READ, .fa_max_faults = 1};
	struct bio_data_stats st0, st1;
	struct vos_pool_info pi0, pi1;
	struct vos_read_ref ref;
	struct vos_pool *pool;
	daos_handle_t poh, coh;
	char *src, *dst;
	uint64_t k, got;

	(void)state;
	src = malloc(MAXV + 64);
	dst = malloc(MAXV);
	assert_true(src != NULL && dst != NULL);
	create_all(&poh, &coh);
	pool = vos_hdl2pool(poh);
	for (k = 1; k <= 12; k++) {
		val_fill(src + k, k, val_len(k));
		assert_int_equal(update(coh, k, 0, k % 2 == 0, k, src + k, val_len(k), 2), 0);
	}

	/* a failed read: the fetch is -DER_IO; the next one reads right */
	assert_int_equal(d_fault_attr_set(&fa), 0);
	assert_int_equal(fetch_rc(coh, 5, 0, false, dst, val_len(5), &got), -DER_IO);
	d_fault_attr_clear(BIO_FI_DATA_READ);
	check_val(coh, 5, src, dst);

	/* every read cut short: the rest is read again */
	fa.fa_id = BIO_FI_DATA_SHORT;
	fa.fa_max_faults = 0;
	bio_data_query(pool->vp_data, &st0);
	assert_int_equal(d_fault_attr_set(&fa), 0);
	for (k = 1; k <= 12; k++)
		check_val(coh, k, src, dst);
	d_fault_attr_clear(BIO_FI_DATA_SHORT);
	bio_data_query(pool->vp_data, &st1);
	assert_true(st1.ds_short_reads > st0.ds_short_reads);
	/* 1 MiB + 5 bytes: five reads of at most 256 KiB, in flight together */
	bio_data_query(pool->vp_data, &st0);
	check_val(coh, 11, src, dst);
	bio_data_query(pool->vp_data, &st1);
	assert_true(st1.ds_reads - st0.ds_reads >= 5);

	/*
	 * Blocks freed while a read is in flight: rewriting version 3 of value 3 (the same
	 * epoch and extent) frees its old blocks; durable and polled, they stay out of the free
	 * space while a read that started before the rewrite is in flight.
	 */
	assert_int_equal(vos_pool_wait(poh, vos_pool_last_lsn(poh)), 0);
	vos_pool_poll(poh);
	vos_pool_query(poh, &pi0);
	vos_pool_read_begin(pool, &ref);
	val_fill(src + 3, 3, val_len(3));
	assert_int_equal(update(coh, 3, 0, false, 3, src + 3, val_len(3), 1), 0);
	assert_int_equal(vos_pool_wait(poh, vos_pool_last_lsn(poh)), 0);
	vos_pool_poll(poh);
	vos_pool_query(poh, &pi1);
	assert_int_equal(pi1.pi_data_free + vos_data_bytes(val_len(3)), pi0.pi_data_free);
	vos_pool_read_end(pool, &ref);
	vos_pool_poll(poh);
	vos_pool_query(poh, &pi1);
	assert_int_equal(pi1.pi_data_free, pi0.pi_data_free);
	check_val(coh, 3, src, dst);

	assert_int_equal(vos_cont_close(coh), 0);
	assert_int_equal(vos_pool_close(poh), 0);
	free(src);
	free(dst);
}

/*
 * The pool's arm callback covers all its rings. An xstream polls, arms, and sleeps on
 * vos_pool_fd only if the arm returned 0; the arm drains the fd, so a completion of the
 * data or meta ring that landed before it must make the arm return non-zero, else the
 * sleep waits for an unrelated event. Here every completion is let land before the arm
 * (as on a slow xstream): a data write in the middle of an update (checked in the pool's
 * wait hook), and the writes of a background checkpoint, driven by poll / settle / arm /
 * sleep until it completes; a sleep that times out while the checkpoint is still running
 * is a lost wakeup. A quiet pool arms to 0 (the loop may sleep).
 */
struct arm_ctx {
	daos_handle_t ac_poh;
	bool ac_open;
	bool ac_probe;  /* the next wait is the data write's: arm there */
	bool ac_landed; /* out: its completion signalled the fd */
	int ac_armed;   /* out: what the arm said then */
};

static bool
fd_wait(int fd, int ms)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};

	return poll(&p, 1, ms) == 1;
}

/*
 * Let everything in flight land: until the fd stays quiet for 50 ms, its count read away
 * (as the arm itself does), so the completions wait in their rings, unreaped.
 */
static void
fd_settle(int fd)
{
	uint64_t cnt;

	while (fd_wait(fd, 50))
		assert_int_equal(read(fd, &cnt, sizeof(cnt)), sizeof(cnt));
}

static int
arm_wait(void *arg)
{
	struct arm_ctx *ac = arg;

	if (!ac->ac_open) {
		usleep(100);
		return 0;
	}
	if (ac->ac_probe) {
		ac->ac_probe = false;
		ac->ac_landed = fd_wait(vos_pool_fd(ac->ac_poh), 5000);
		ac->ac_armed = vos_pool_arm(ac->ac_poh);
		return 0;
	}
	fd_wait(vos_pool_fd(ac->ac_poh), 10);
	return 0;
}

/* Poll until the pool arms to 0: nothing left that would not wake a sleeper. */
static void
arm_quiet(daos_handle_t poh)
{
	int i;

	for (i = 0; i < 1000 && vos_pool_arm(poh) != 0; i++) {
		assert_true(vos_pool_poll(poh) >= 0);
		fd_wait(vos_pool_fd(poh), 1);
	}
	assert_int_equal(vos_pool_arm(poh), 0);
}

static void
t_arm(void **state)
{
	struct vos_pool_attr attr = {.pa_wait = arm_wait};
	struct arm_ctx ac = {0};
	daos_handle_t poh, coh;
	struct vos_pool *pool;
	unsigned int sleeps = 0, steps = 0;
	char *src;
	uint64_t k;

	(void)state;
	attr.pa_wait_arg = &ac;
	src = malloc(MAXV);
	assert_non_null(src);
	assert_int_equal(
	    vos_pool_create(path, uuid, 64 << 20, 64 << 20, VOS_POOL_WAL_MIN, &attr, &poh), 0);
	ac.ac_poh = poh;
	ac.ac_open = true;
	pool = vos_hdl2pool(poh);
	assert_int_equal(vos_cont_create(poh, co), 0);
	assert_int_equal(vos_cont_open(poh, co, &coh), 0);
	assert_int_equal(vos_pool_wait(poh, vos_pool_last_lsn(poh)), 0);
	arm_quiet(poh);

	/* a data-file write completes while its update waits: the arm must see it */
	val_fill(src, 1, 65536);
	ac.ac_probe = true;
	assert_int_equal(update(coh, 1, 0, false, 1, src, 65536, 1), 0);
	assert_false(ac.ac_probe);
	assert_true(ac.ac_landed);
	assert_int_not_equal(ac.ac_armed, 0);
	assert_int_equal(vos_pool_wait(poh, vos_pool_last_lsn(poh)), 0);
	arm_quiet(poh);

	/* fill the WAL past the checkpoint trigger with heap values: a background checkpoint */
	for (k = 2; !pool->vp_ck_busy; k++) {
		val_fill(src, k, 3000);
		assert_int_equal(update(coh, k, 1, false, k, src, 3000, 1), 0);
		if (k % 64 == 0)
			assert_int_equal(vos_pool_wait(poh, vos_pool_last_lsn(poh)), 0);
		assert_true(vos_pool_poll(poh) >= 0);
		assert_true(k < 100000);
	}
	/* drive it as an xstream would, each completion landing before the arm */
	while (pool->vp_ck_busy) {
		assert_true(vos_pool_poll(poh) >= 0);
		steps++;
		fd_settle(vos_pool_fd(poh));
		if (vos_pool_arm(poh) != 0)
			continue;
		sleeps++;
		if (!fd_wait(vos_pool_fd(poh), 5000) && pool->vp_ck_busy)
			fail_msg("checkpoint step %u: the pool armed to sleep with its completions "
				 "already in, and nothing woke it",
				 steps);
	}
	print_message("checkpoint in %u polls, %u sleeps\n", steps, sleeps);
	assert_int_equal(vos_pool_wait(poh, vos_pool_last_lsn(poh)), 0);
	arm_quiet(poh);
	assert_int_equal(vos_cont_close(coh), 0);
	ac.ac_open = false;
	assert_int_equal(vos_pool_close(poh), 0);
	free(src);
}

/* A 64 B heap value of key @k (akey 1), a function of @k. */
static void
small_fill(char *buf, uint64_t k)
{
	int i;

	for (i = 0; i < 64; i++)
		buf[i] = (char)(k * 29 + (uint64_t)i);
}

static void
check_small(daos_handle_t coh, uint64_t k, char *dst)
{
	char want[64];
	uint64_t got;

	fetch(coh, k, 1, false, dst, 64, &got);
	assert_int_equal(got, 64);
	small_fill(want, k);
	assert_memory_equal(dst, want, 64);
}

/* Key @k: a data-file value (akey 0) every 8th key, a 64 B heap value (akey 1) always. */
static void
nowal_update(daos_handle_t coh, uint64_t k, char *src)
{
	if (k % 8 == 0) {
		val_fill(src, k, val_len(k));
		assert_int_equal(update(coh, k, 0, k % 2 == 0, k, src, val_len(k), 2), 0);
	}
	small_fill(src, k);
	assert_int_equal(update(coh, k, 1, false, k, src, 64, 1), 0);
}

static void
nowal_check(daos_handle_t coh, uint64_t n, char *src, char *dst)
{
	uint64_t k;

	for (k = 1; k <= n; k++) {
		if (k % 8 == 0)
			check_val(coh, k, src, dst);
		check_small(coh, k, dst);
	}
}

/* The child of the kill test: open without the WAL, report, update until killed. */
static void __attribute__((noreturn)) nowal_child(int fd, uint64_t from, char *src)
{
	daos_handle_t poh, coh;
	uint64_t k = 0;

	if (vos_pool_open(path, uuid, VOS_POF_NO_WAL, NULL, &poh) != 0 ||
	    vos_cont_open(poh, co, &coh) != 0)
		_exit(2);
	if (write(fd, &k, sizeof(k)) != sizeof(k))
		_exit(4);
	for (k = from;; k++) {
		if (update(coh, k, 1, false, k, src, 64, 1) != 0)
			_exit(3);
		if (k == from + 50 && write(fd, &k, sizeof(k)) != sizeof(k))
			_exit(4);
		if (k % 64 == 0 && vos_pool_poll(poh) < 0)
			_exit(5);
	}
}

static void
t_nowal(void **state)
{
	struct bio_wal_stats ws0, ws1;
	struct vos_pool_info pi0, pi1;
	struct vos_pool *pool;
	daos_handle_t poh, coh;
	uint64_t k, n = 600, lsn, v;
	char *src, *dst;
	int i, rc;

	(void)state;
	src = malloc(MAXV + 64);
	dst = malloc(MAXV);
	assert_true(src != NULL && dst != NULL);
	create_all(&poh, &coh);
	for (k = 1; k <= 20; k++)
		nowal_update(coh, k, src);
	assert_int_equal(vos_cont_close(coh), 0);
	assert_int_equal(vos_pool_close(poh), 0);

	/* index only: nothing reaches the WAL, every LSN is durable at once */
	assert_int_equal(vos_pool_open(path, uuid, VOS_POF_NO_WAL, NULL, &poh), 0);
	assert_int_equal(vos_cont_open(poh, co, &coh), 0);
	vos_pool_wal_query(poh, &ws0);
	vos_pool_query(poh, &pi0);
	for (k = 21; k <= n; k++) {
		nowal_update(coh, k, src);
		if (k % 16 == 0)
			assert_true(vos_pool_poll(poh) >= 0);
	}
	lsn = vos_pool_last_lsn(poh);
	assert_true(lsn > pi0.pi_last_lsn);
	vos_pool_wal_query(poh, &ws1);
	vos_pool_query(poh, &pi1);
	assert_int_equal(ws1.ws_appends, ws0.ws_appends);
	assert_int_equal(ws1.ws_append_bytes, ws0.ws_append_bytes);
	assert_int_equal(ws1.ws_flushes, ws0.ws_flushes);
	assert_int_equal(ws1.ws_head_pos, ws0.ws_head_pos);
	assert_true(ws1.ws_nolog_appends >= n - 20);
	assert_int_equal(ws1.ws_durable_lsn, lsn);
	assert_int_equal(pi1.pi_checkpoints, 0);
	assert_int_equal(vos_pool_wait(poh, lsn), 0);
	nowal_check(coh, n, src, dst);

	/* an aborted transaction restores the heap and gives its allocation back */
	pool = vos_hdl2pool(poh);
	v = pool->vp_df->pd_reserved[1];
	umem_tx_begin(pool->vp_umm);
	assert_int_equal(umem_tx_add_ptr(pool->vp_umm, &pool->vp_df->pd_reserved[1], 8), 0);
	pool->vp_df->pd_reserved[1] = v + 12345;
	assert_true(umem_zalloc(pool->vp_umm, 300) != UMOFF_NULL);
	assert_int_equal(umem_tx_end(pool->vp_umm, -DER_CANCELED), -DER_CANCELED);
	assert_int_equal(pool->vp_df->pd_reserved[1], v);
	vos_pool_query(poh, &pi0);
	assert_int_equal(pi0.pi_scm_free, pi1.pi_scm_free);
	assert_int_equal(vos_pool_last_lsn(poh), lsn);
	nowal_check(coh, n, src, dst);
	assert_int_equal(vos_cont_close(coh), 0);
	assert_int_equal(vos_pool_close(poh), 0);

	/* an ordinary open finds it all; its WAL goes on after the no-WAL LSNs */
	open_all(&poh, &coh);
	assert_true(vos_pool_last_lsn(poh) >= lsn);
	nowal_check(coh, n, src, dst);
	for (k = n + 1; k <= n + 40; k++)
		nowal_update(coh, k, src);
	assert_int_equal(vos_pool_wait(poh, vos_pool_last_lsn(poh)), 0);
	assert_int_equal(vos_cont_close(coh), 0);
	vos_pool_abandon(poh); /* replay from the close's checkpoint */
	open_all(&poh, &coh);
	nowal_check(coh, n + 40, src, dst);
	assert_int_equal(vos_cont_close(coh), 0);
	assert_int_equal(vos_pool_close(poh), 0);

	/* abandoned while open without the WAL: refused, forced or not */
	assert_int_equal(vos_pool_open(path, uuid, VOS_POF_NO_WAL, NULL, &poh), 0);
	assert_int_equal(vos_cont_open(poh, co, &coh), 0);
	nowal_update(coh, n + 41, src);
	assert_int_equal(vos_cont_close(coh), 0);
	vos_pool_abandon(poh);
	assert_int_equal(vos_pool_open(path, uuid, 0, NULL, &poh), -DER_DATA_LOSS);
	assert_int_equal(vos_pool_open(path, uuid, VOS_POF_FORCE, NULL, &poh), -DER_DATA_LOSS);
	assert_int_equal(vos_pool_open(path, uuid, VOS_POF_NO_WAL, NULL, &poh), -DER_DATA_LOSS);

	/* kill -9 right after the open returned, then amid updates: refused */
	for (i = 0; i < 2; i++) {
		int pfd[2], status;
		pid_t pid;

		assert_int_equal(vos_pool_destroy(path, uuid), 0);
		create_all(&poh, &coh);
		assert_int_equal(vos_cont_close(coh), 0);
		assert_int_equal(vos_pool_close(poh), 0);
		assert_int_equal(pipe(pfd), 0);
		small_fill(src, 1);
		pid = fork();
		assert_true(pid >= 0);
		if (pid == 0) {
			close(pfd[0]);
			nowal_child(pfd[1], 1, src);
		}
		close(pfd[1]);
		assert_int_equal(read(pfd[0], &k, sizeof(k)), sizeof(k)); /* opened */
		if (i == 1)
			assert_int_equal(read(pfd[0], &k, sizeof(k)), sizeof(k)); /* 51 done */
		kill(pid, SIGKILL);
		close(pfd[0]);
		assert_int_equal(waitpid(pid, &status, 0), pid);
		assert_true(WIFSIGNALED(status));
		rc = vos_pool_open(path, uuid, 0, NULL, &poh);
		assert_int_equal(rc, -DER_DATA_LOSS);
	}
	free(src);
	free(dst);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(t_dataio_sgl, setup, teardown),
	    cmocka_unit_test_setup_teardown(t_dataio_errors, setup, teardown),
	    cmocka_unit_test_setup_teardown(t_dataio_one_sync, setup, teardown),
	    cmocka_unit_test_setup_teardown(t_dataio_read, setup, teardown),
	    cmocka_unit_test_setup_teardown(t_arm, setup, teardown),
	    cmocka_unit_test_setup_teardown(t_nowal, setup, teardown),
	};

	d_log_setmasks("CRIT");
	return cmocka_run_group_tests_name("vos_dataio", tests, NULL, NULL);
}
