/*
 * test_pool.c: VOS pool shards: create/open/close/destroy, space, checkpoints with WAL
 * replay, and a crash test: a child commits transactions and reports each one the WAL made
 * durable; the parent kill -9s it at a random instant, reopens the pool, and checks that
 * every reported transaction is there and no transaction is half applied.
 *
 * The workload lives in the heap under a test root (pool reserved field 0): an array of
 * slots; transaction k writes k into slot k % NSLOTS and into a counter, both in one
 * transaction, so after any crash: counter >= last reported k, and every slot holds the
 * largest k' <= counter with k' % NSLOTS == slot (or 0).
 *
 * t_pool_paths: the meta, WAL and data files in three directories (vos_pool_*_paths).
 *
 * t_pool_late_data, t_pool_late_meta: an open waits for a previous owner's data-file
 * (meta-file) writes (a killed process's O_DIRECT writes land after it is reaped; see
 * vos/README.md, "late writes").
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gurt/common.h>
#include <daos_srv/vos.h>
#include <d_test.h>

#include "vos_internal.h"

#define NSLOTS 61

struct test_root {
	uint64_t tr_counter;
	uint64_t tr_slots[NSLOTS];
	umem_off_t tr_blob; /* a larger allocation rewritten now and then */
};

static char dir[64];
static char path[128];
static uuid_t uuid;

static int
setup(void **state)
{
	(void)state;
	strcpy(dir, "/tmp/d_pool_XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/pool", dir);
	uuid_generate(uuid);
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

static struct test_root *
troot(daos_handle_t poh, bool create)
{
	struct vos_pool *pool = vos_hdl2pool(poh);
	umem_off_t off = pool->vp_df->pd_reserved[0];

	if (off == UMOFF_NULL && create) {
		umem_tx_begin(pool->vp_umm);
		off = umem_zalloc(pool->vp_umm, sizeof(struct test_root));
		umem_tx_add_ptr(pool->vp_umm, &pool->vp_df->pd_reserved[0], 8);
		pool->vp_df->pd_reserved[0] = off;
		assert_int_equal(umem_tx_end(pool->vp_umm, 0), 0);
	}
	return umem_off2ptr(pool->vp_umm, off);
}

/* Transaction k. Returns its LSN. */
static uint64_t
do_tx(daos_handle_t poh, uint64_t k)
{
	struct vos_pool *pool = vos_hdl2pool(poh);
	struct umem_instance *umm = pool->vp_umm;
	struct test_root *tr = troot(poh, true);
	int rc;

	for (;;) {
		umem_tx_begin(umm);
		umem_tx_add_ptr(umm, &tr->tr_counter, 8);
		tr->tr_counter = k;
		umem_tx_add_ptr(umm, &tr->tr_slots[k % NSLOTS], 8);
		tr->tr_slots[k % NSLOTS] = k;
		if (k % 7 == 0) {
			/* churn: free the old blob, allocate a new one, fill it with k */
			umem_off_t b = umem_alloc(umm, 200 + (k % 13) * 300);

			if (b != UMOFF_NULL) {
				memset(umem_off2ptr(umm, b), (int)(k & 0xff), 200);
				umem_free(umm, tr->tr_blob);
				umem_tx_add_ptr(umm, &tr->tr_blob, 8);
				tr->tr_blob = b;
			}
		}
		rc = umem_tx_end(umm, 0);
		if (rc == 0)
			break;
		/* the WAL is full or its staging buffer busy: make room, retry */
		assert_true(rc == -DER_AGAIN || rc == -DER_BUSY);
		if (rc == -DER_AGAIN)
			assert_int_equal(vos_pool_checkpoint(poh), 0);
		else
			assert_true(vos_pool_poll(poh) >= 0);
	}
	return umem_tx_last_lsn(umm);
}

static void
check_state(daos_handle_t poh, uint64_t acked)
{
	struct test_root *tr = troot(poh, false);
	uint64_t c, s;

	if (acked == 0 && tr == NULL)
		return;
	assert_non_null(tr);
	c = tr->tr_counter;
	assert_true(c >= acked);
	for (s = 0; s < NSLOTS; s++) {
		uint64_t want = c >= s ? c - ((c - s) % NSLOTS) : 0;

		if (want == 0 && s != 0)
			want = 0;
		assert_int_equal(tr->tr_slots[s], want);
	}
	if (tr->tr_blob != UMOFF_NULL) {
		uint8_t *b = umem_off2ptr(vos_hdl2pool(poh)->vp_umm, tr->tr_blob);
		uint64_t kb = c - (c % 7);

		assert_int_equal(b[0], (uint8_t)(kb & 0xff));
		assert_int_equal(b[199], (uint8_t)(kb & 0xff));
	}
}

static void
t_pool_lifecycle(void **state)
{
	struct vos_pool_info info;
	daos_handle_t poh;
	uuid_t other;
	uint64_t k, lsn = 0;

	(void)state;
	assert_int_equal(vos_pool_create(path, uuid, 1000, 0, 0, NULL, NULL), -DER_INVAL);
	assert_int_equal(vos_pool_create(path, uuid, 32 << 20, 8 << 20, 8 << 20, NULL, NULL), 0);
	assert_int_equal(vos_pool_create(path, uuid, 32 << 20, 8 << 20, 8 << 20, NULL, NULL),
			 -DER_EXIST);
	uuid_generate(other);
	assert_int_equal(vos_pool_open(path, other, 0, NULL, &poh), -DER_INVAL);
	assert_int_equal(vos_pool_open(path, uuid, 0, NULL, &poh), 0);
	assert_int_equal(vos_pool_query(poh, &info), 0);
	assert_int_equal(uuid_compare(info.pi_uuid, uuid), 0);
	assert_int_equal(info.pi_scm_total, 32 << 20);
	assert_true(info.pi_scm_free > 30 << 20);
	assert_int_equal(info.pi_data_total, (8 << 20) - VOS_BLK_SIZE);
	assert_int_equal(info.pi_data_free, info.pi_data_total);

	for (k = 1; k <= 500; k++)
		lsn = do_tx(poh, k);
	assert_int_equal(vos_pool_wait(poh, lsn), 0);
	/* close checkpoints; reopen finds it all, with nothing to replay */
	assert_int_equal(vos_pool_close(poh), 0);
	assert_int_equal(vos_pool_open(path, uuid, 0, NULL, &poh), 0);
	check_state(poh, 500);
	for (k = 501; k <= 900; k++)
		lsn = do_tx(poh, k);
	assert_int_equal(vos_pool_wait(poh, lsn), 0);
	assert_int_equal(vos_pool_checkpoint(poh), 0);
	for (k = 901; k <= 1000; k++)
		lsn = do_tx(poh, k);
	assert_int_equal(vos_pool_wait(poh, lsn), 0);
	/* a simulated crash: no closing checkpoint, the WAL must carry the last 100 */
	vos_pool_abandon(poh);
	assert_int_equal(vos_pool_open(path, uuid, 0, NULL, &poh), 0);
	check_state(poh, 1000);
	assert_int_equal(vos_pool_query(poh, &info), 0);
	assert_int_equal(info.pi_last_lsn, lsn);
	assert_int_equal(vos_pool_close(poh), 0);
	assert_int_equal(vos_pool_destroy(path, uuid), 0);
	assert_int_equal(vos_pool_destroy(path, uuid), -DER_NONEXIST);
	assert_int_equal(vos_pool_open(path, uuid, 0, NULL, &poh), -DER_NONEXIST);
}

static bool
file_exists(const char *d, const char *name)
{
	char f[PATH_MAX];

	snprintf(f, sizeof(f), "%s/%s", d, name);
	return access(f, F_OK) == 0;
}

/* Each file in its own directory (the engine's per-role tiers): create, crash, reopen. */
static void
t_pool_paths(void **state)
{
	char dm[128], dw[128], dd[128], fm[160], fw[160], fd[160];
	struct vos_pool_paths paths = {fm, fw, fd};
	struct vos_pool_info info;
	daos_handle_t poh;
	uint64_t k, lsn = 0;
	int fdw;

	(void)state;
	snprintf(dm, sizeof(dm), "%s/m", dir);
	snprintf(dw, sizeof(dw), "%s/w", dir);
	snprintf(dd, sizeof(dd), "%s/d", dir);
	snprintf(fm, sizeof(fm), "%s/meta", dm);
	snprintf(fw, sizeof(fw), "%s/wal", dw);
	snprintf(fd, sizeof(fd), "%s/data", dd);
	assert_int_equal(mkdir(dm, 0700), 0);
	assert_int_equal(mkdir(dw, 0700), 0);
	assert_int_equal(mkdir(dd, 0700), 0);

	/* a file in the way: -DER_EXIST and nothing created, nothing of it removed */
	fdw = open(fw, O_CREAT | O_WRONLY, 0600);
	assert_true(fdw >= 0);
	close(fdw);
	assert_int_equal(
	    vos_pool_create_paths(&paths, uuid, 32 << 20, 8 << 20, 8 << 20, NULL, NULL),
	    -DER_EXIST);
	assert_true(file_exists(dw, "wal"));
	assert_false(file_exists(dm, "meta"));
	assert_false(file_exists(dd, "data"));
	assert_int_equal(unlink(fw), 0);
	/* a directory missing: fails, nothing left behind */
	paths.vpp_data = "/nonexistent-dir-of-the-test/data";
	assert_int_not_equal(
	    vos_pool_create_paths(&paths, uuid, 32 << 20, 8 << 20, 8 << 20, NULL, NULL), 0);
	assert_false(file_exists(dm, "meta"));
	assert_false(file_exists(dw, "wal"));
	paths.vpp_data = fd;

	assert_int_equal(
	    vos_pool_create_paths(&paths, uuid, 32 << 20, 8 << 20, 8 << 20, NULL, &poh), 0);
	/* each file where it was asked for, and only there */
	assert_true(file_exists(dm, "meta"));
	assert_true(file_exists(dw, "wal"));
	assert_true(file_exists(dd, "data"));
	assert_false(file_exists(dm, "wal") || file_exists(dm, "data"));
	assert_false(file_exists(dw, "meta") || file_exists(dw, "data"));
	assert_false(file_exists(dd, "meta") || file_exists(dd, "wal"));
	assert_int_equal(vos_pool_query(poh, &info), 0);
	assert_int_equal(info.pi_data_total, (8 << 20) - VOS_BLK_SIZE);
	for (k = 1; k <= 300; k++)
		lsn = do_tx(poh, k);
	assert_int_equal(vos_pool_wait(poh, lsn), 0);
	vos_pool_abandon(poh); /* a crash: the WAL in its own directory carries it all */
	/* the one-directory form finds no WAL beside the meta file */
	assert_int_not_equal(vos_pool_open(dm, uuid, 0, NULL, &poh), 0);
	assert_int_equal(vos_pool_open_paths(&paths, uuid, 0, NULL, &poh), 0);
	check_state(poh, 300);
	assert_int_equal(vos_pool_close(poh), 0);
	assert_int_equal(
	    vos_pool_create_paths(&paths, uuid, 32 << 20, 8 << 20, 8 << 20, NULL, NULL),
	    -DER_EXIST);
	assert_int_equal(vos_pool_destroy_paths(&paths, uuid), 0);
	assert_false(file_exists(dm, "meta") || file_exists(dw, "wal") || file_exists(dd, "data"));
	assert_int_equal(vos_pool_destroy_paths(&paths, uuid), -DER_NONEXIST);
	assert_int_equal(vos_pool_open_paths(&paths, uuid, 0, NULL, &poh), -DER_NONEXIST);
	rmdir(dm);
	rmdir(dw);
	rmdir(dd);
}

/* Flip a byte in a page of the newest checkpoint image of the pool's meta file. */
static void
damage_newest_image(size_t scm_sz)
{
	struct {
		uint64_t magic;
		uint32_t version, slot;
		uint64_t seq;
	} h[2];
	uint64_t crc_bytes = (scm_sz / UMEM_PAGE_SIZE * 4 + 4095) & ~4095ULL;
	char meta[160];
	unsigned char b;
	int fd, newest;
	off_t off;

	snprintf(meta, sizeof(meta), "%s/meta", path);
	fd = open(meta, O_RDWR);
	assert_true(fd >= 0);
	assert_int_equal(pread(fd, &h[0], sizeof(h[0]), 0), (ssize_t)sizeof(h[0]));
	assert_int_equal(pread(fd, &h[1], sizeof(h[1]), 4096), (ssize_t)sizeof(h[1]));
	newest = h[1].seq > h[0].seq;
	off = (off_t)(8192 + (uint64_t)newest * (scm_sz + crc_bytes) + 3 * UMEM_PAGE_SIZE + 5);
	assert_int_equal(pread(fd, &b, 1, off), 1);
	b ^= 0x10;
	assert_int_equal(pwrite(fd, &b, 1, off), 1);
	close(fd);
}

/*
 * The newest checkpoint is damaged: the older one is loaded and the WAL replayed from its
 * LSN; the checkpoints after that must still hold everything replayed.
 */
static void
t_pool_fallback(void **state)
{
	size_t scm = 32 << 20;
	daos_handle_t poh;
	uint64_t k, lsn = 0;

	(void)state;
	assert_int_equal(vos_pool_create(path, uuid, scm, 8 << 20, 8 << 20, NULL, &poh), 0);
	for (k = 1; k <= 100; k++)
		lsn = do_tx(poh, k);
	assert_int_equal(vos_pool_checkpoint(poh), 0);
	for (k = 101; k <= 200; k++)
		lsn = do_tx(poh, k);
	assert_int_equal(vos_pool_wait(poh, lsn), 0);
	vos_pool_abandon(poh);

	damage_newest_image(scm);
	assert_int_equal(vos_pool_open(path, uuid, 0, NULL, &poh), 0);
	check_state(poh, 200);
	for (k = 201; k <= 250; k++)
		lsn = do_tx(poh, k);
	assert_int_equal(vos_pool_checkpoint(poh), 0);
	vos_pool_abandon(poh);
	assert_int_equal(vos_pool_open(path, uuid, 0, NULL, &poh), 0);
	check_state(poh, 250);
	assert_int_equal(vos_pool_checkpoint(poh), 0);
	assert_int_equal(vos_pool_close(poh), 0);
	assert_int_equal(vos_pool_open(path, uuid, 0, NULL, &poh), 0);
	check_state(poh, 250);
	assert_int_equal(vos_pool_close(poh), 0);
}

/* The child: commit transactions forever, report each durable k on @fd. */
static void __attribute__((noreturn)) crash_child(int fd, uint64_t start)
{
	daos_handle_t poh;
	uint64_t k, lsn;
	int rc;

	rc = vos_pool_open(path, uuid, 0, NULL, &poh);
	if (rc != 0)
		_exit(2);
	k = 0; /* "open": the parent times most kills from here */
	if (write(fd, &k, sizeof(k)) != sizeof(k))
		_exit(4);
	for (k = start;; k++) {
		lsn = do_tx(poh, k);
		if (k % 3 == 0 || k % 17 == 0) {
			/* many in flight, then wait for the last: group commit */
			if (vos_pool_wait(poh, lsn) != 0)
				_exit(3);
			if (write(fd, &k, sizeof(k)) != sizeof(k))
				_exit(4);
		}
		if (vos_pool_poll(poh) < 0)
			_exit(5);
		/* checkpoints now and then, so some kills land in the middle of one */
		if (k % 40 == 0 && vos_pool_checkpoint(poh) != 0)
			_exit(6);
	}
}

static void
t_pool_crash(void **state)
{
	unsigned int seed = d_test_seed("t_pool_crash");
	uint64_t rs = d_test_rand_seed(seed);
	unsigned int rounds = 100;
	uint64_t acked = 0;
	daos_handle_t poh;
	unsigned int r;

	(void)state;
	d_getenv_uint("D_CRASH_ROUNDS", &rounds);
	/* a small WAL, so checkpoints and trims happen while the child runs */
	assert_int_equal(vos_pool_create(path, uuid, 32 << 20, 8 << 20, 4 << 20, NULL, NULL), 0);
	for (r = 0; r < rounds; r++) {
		int pfd[2], status;
		pid_t pid;
		uint64_t k;

		assert_int_equal(pipe(pfd), 0);
		pid = fork();
		assert_true(pid >= 0);
		if (pid == 0) {
			close(pfd[0]);
			crash_child(pfd[1], acked + 1);
		}
		close(pfd[1]);
		/*
		 * A quarter of the kills land anywhere (the open and its replay included); the
		 * others once the child has opened the pool, however long that took on a
		 * loaded machine, so that transactions get committed between kills.
		 */
		if (d_test_rand(&rs) % 4 != 0)
			assert_int_equal(read(pfd[0], &k, sizeof(k)), sizeof(k));
		usleep(5000 + (useconds_t)(d_test_rand(&rs) % 60000));
		kill(pid, SIGKILL);
		while (read(pfd[0], &k, sizeof(k)) == sizeof(k))
			if (k > acked)
				acked = k;
		close(pfd[0]);
		assert_int_equal(waitpid(pid, &status, 0), pid);
		assert_true(WIFSIGNALED(status)); /* not an early exit with an error */
		assert_int_equal(vos_pool_open(path, uuid, 0, NULL, &poh), 0);
		check_state(poh, acked);
		/* continue from what survived, so acknowledged k stay monotonic */
		acked = troot(poh, false) != NULL ? troot(poh, false)->tr_counter : 0;
		assert_int_equal(vos_pool_close(poh), 0);
	}
	printf("%u crash rounds, %" PRIu64 " transactions survived\n", rounds, acked);
	/* most rounds ran transactions between the open and the kill */
	assert_true(acked >= rounds / 2);
}

struct late_open {
	daos_handle_t lo_poh;
	int lo_fd; /* write end of a pipe: the rc once vos_pool_open returned */
};

static void *
late_open_thread(void *arg)
{
	struct late_open *lo = arg;
	int rc = vos_pool_open(path, uuid, 0, NULL, &lo->lo_poh);

	if (write(lo->lo_fd, &rc, sizeof(rc)) != sizeof(rc))
		abort();
	return NULL;
}

/* In a child: close every descriptor except @keep and those of files named @suffix. */
static void
fds_keep(const char *suffix, int keep)
{
	DIR *d = opendir("/proc/self/fd");
	int fds[256], n = 0, i;
	struct dirent *e;

	if (d == NULL)
		_exit(8);
	while ((e = readdir(d)) != NULL && n < 256) {
		int fd = atoi(e->d_name);
		char lp[64], link[PATH_MAX];
		ssize_t len;
		size_t sl = strlen(suffix);

		if (e->d_name[0] == '.' || fd == dirfd(d) || fd == keep)
			continue;
		snprintf(lp, sizeof(lp), "/proc/self/fd/%d", fd);
		len = readlink(lp, link, sizeof(link) - 1);
		if (len < 0)
			continue;
		link[len] = '\0';
		if ((size_t)len >= sl && strcmp(link + len - sl, suffix) == 0)
			continue;
		fds[n++] = fd;
	}
	closedir(d);
	for (i = 0; i < n; i++)
		close(fds[i]);
}

/*
 * A process killed with data-file writes in flight through its io_uring does not take them
 * back: they land after it is reaped, on blocks that are free in the state the WAL replay
 * rebuilds and that the next owner hands out again. The kernel keeps the file description
 * they were submitted through until they complete; here a child holding only its copy of
 * the data file's descriptors (not the WAL's, whose own lock would hide this one) stands
 * for them. vos_pool_open must not return while it lives.
 */
static void
late_owner(const char *file)
{
	struct late_open lo = {0};
	struct pollfd pfd;
	int go[2], done[2], status, rc;
	daos_handle_t poh;
	pthread_t th;
	pid_t pid;

	assert_int_equal(vos_pool_create(path, uuid, 16 << 20, 16 << 20, 4 << 20, NULL, &poh), 0);
	assert_int_equal(pipe(go), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		char c;

		fds_keep(file, go[0]);
		if (read(go[0], &c, 1) != 1)
			_exit(2);
		_exit(0);
	}
	close(go[0]);
	assert_int_equal(vos_pool_close(poh), 0);

	assert_int_equal(pipe(done), 0);
	lo.lo_fd = done[1];
	assert_int_equal(pthread_create(&th, NULL, late_open_thread, &lo), 0);
	pfd.fd = done[0];
	pfd.events = POLLIN;
	rc = poll(&pfd, 1, 300);
	if (rc != 0) {
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
		pthread_join(th, NULL);
		fail_msg("the pool opened while a previous owner still held %s", file);
	}
	assert_int_equal(write(go[1], "x", 1), 1);
	close(go[1]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	assert_int_equal(read(done[0], &rc, sizeof(rc)), sizeof(rc));
	assert_int_equal(rc, 0);
	assert_int_equal(pthread_join(th, NULL), 0);
	close(done[0]);
	close(done[1]);
	assert_int_equal(vos_pool_close(lo.lo_poh), 0);
	vos_pool_destroy(path, uuid);
}

static void
t_pool_late_data(void **state)
{
	(void)state;
	late_owner("/pool/data");
}

/*
 * The same for the meta file: a killed owner's checkpoint writes (O_DIRECT through the
 * meta file's ring) in flight hold its description; the open must wait for them before
 * it reads a header.
 */
static void
t_pool_late_meta(void **state)
{
	(void)state;
	late_owner("/pool/meta");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(t_pool_lifecycle, setup, teardown),
	    cmocka_unit_test_setup_teardown(t_pool_paths, setup, teardown),
	    cmocka_unit_test_setup_teardown(t_pool_fallback, setup, teardown),
	    cmocka_unit_test_setup_teardown(t_pool_crash, setup, teardown),
	    cmocka_unit_test_setup_teardown(t_pool_late_data, setup, teardown),
	    cmocka_unit_test_setup_teardown(t_pool_late_meta, setup, teardown),
	};

	d_log_setmasks("CRIT");
	return cmocka_run_group_tests_name("vos_pool", tests, NULL, NULL);
}
