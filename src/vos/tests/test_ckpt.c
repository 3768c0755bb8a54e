/*
 * test_ckpt.c: background checkpoints of a VOS pool shard (vos_pool_poll driving
 * vos_meta_ckpt_step). The images they write are fuzzy -- pages copied at different LSNs
 * while transactions go on -- and must still give the exact heap once the WAL is replayed
 * from the checkpoint's start LSN.
 *
 * The workload lives in the heap under a test root (pool reserved field 0): a counter and
 * an array of NWORDS words spread over many pages; transaction k sets the counter to k and
 * NTOUCH words, chosen by a hash of (k, j), to a value derived from (k, j). The whole array
 * after transaction c is thus a function of c, which check_state recomputes and compares
 * word by word: a page written at the wrong time, or a replay that starts at the wrong LSN,
 * shows up as a wrong word.
 *
 * - t_ckpt_background: checkpoints start, span several polls, complete and trim the WAL
 *   while transactions continue; reopen after a clean close and after abandoning the pool
 *   (a crash with the WAL durable) both give the exact heap.
 * - t_ckpt_crash (label crash with the other kill tests): a child runs the workload with
 *   the kill point of the checkpoint path armed (D_FI_META_KILL: SIGKILL at a step, with a
 *   probability) and is also kill -9'ed by the parent at random instants; every reported
 *   (durable) transaction must survive and the heap must be exact.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <signal.h>
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gurt/common.h>
#include <daos_srv/vos.h>
#include <d_test.h>

#include "vos_internal.h"
#include "vos_meta.h"

#define NPARTS 8
#define PART_WORDS (1U << 17)        /* 1 MiB a part: its redo record fits a 4 MiB WAL */
#define NWORDS (NPARTS * PART_WORDS) /* 8 MiB: 2048 pages */
#define NTOUCH 6

struct test_root {
	uint64_t tr_counter;
	umem_off_t tr_words[NPARTS];
};

static char dir[64];
static char path[128];
static uuid_t uuid;

static int
setup(void **state)
{
	(void)state;
	strcpy(dir, "/tmp/d_ckpt_XXXXXX");
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

static uint64_t
mix(uint64_t x)
{
	x ^= x >> 31;
	x *= 0x7fb5d329728ea185ULL;
	x ^= x >> 27;
	x *= 0x81dadef4bc2dd44dULL;
	return x ^ (x >> 33);
}

static uint32_t
word_of(uint64_t k, unsigned int j)
{
	return (uint32_t)(mix(k * NTOUCH + j) % NWORDS);
}

static struct test_root *
troot(daos_handle_t poh)
{
	struct vos_pool *pool = vos_hdl2pool(poh);

	return umem_off2ptr(pool->vp_umm, pool->vp_df->pd_reserved[0]);
}

/* The root, then each part of its array, a transaction each. */
static void
root_create(daos_handle_t poh)
{
	struct vos_pool *pool = vos_hdl2pool(poh);
	struct umem_instance *umm = pool->vp_umm;
	struct test_root *tr;
	umem_off_t off;
	int p;

	assert_int_equal(umem_tx_begin(umm), 0);
	off = umem_zalloc(umm, sizeof(*tr));
	assert_true(off != UMOFF_NULL);
	assert_int_equal(umem_tx_add_ptr(umm, &pool->vp_df->pd_reserved[0], 8), 0);
	pool->vp_df->pd_reserved[0] = off;
	assert_int_equal(umem_tx_end(umm, 0), 0);
	tr = umem_off2ptr(umm, off);
	for (p = 0; p < NPARTS; p++) {
		int rc;

		do {
			assert_int_equal(umem_tx_begin(umm), 0);
			assert_int_equal(umem_tx_add_ptr(umm, &tr->tr_words[p], 8), 0);
			tr->tr_words[p] = umem_zalloc(umm, PART_WORDS * sizeof(uint64_t));
			assert_true(tr->tr_words[p] != UMOFF_NULL);
			rc = umem_tx_end(umm, 0);
		} while ((rc == -DER_AGAIN || rc == -DER_BUSY) && vos_pool_make_room(poh, rc) == 0);
		assert_int_equal(rc, 0);
	}
	assert_int_equal(vos_pool_wait(poh, vos_pool_last_lsn(poh)), 0);
}

static uint64_t *
word_ptr(daos_handle_t poh, struct test_root *tr, uint32_t i)
{
	uint64_t *part = umem_off2ptr(vos_hdl2pool(poh)->vp_umm, tr->tr_words[i / PART_WORDS]);

	return &part[i % PART_WORDS];
}

/* Transaction k; returns its LSN. */
static uint64_t
do_tx(daos_handle_t poh, uint64_t k)
{
	struct vos_pool *pool = vos_hdl2pool(poh);
	struct umem_instance *umm = pool->vp_umm;
	struct test_root *tr = troot(poh);
	unsigned int j;
	int rc;

	for (;;) {
		umem_tx_begin(umm);
		umem_tx_add_ptr(umm, &tr->tr_counter, 8);
		tr->tr_counter = k;
		for (j = 0; j < NTOUCH; j++) {
			uint64_t *w = word_ptr(poh, tr, word_of(k, j));

			umem_tx_add_ptr(umm, w, 8);
			*w = k * NTOUCH + j + 1;
		}
		rc = umem_tx_end(umm, 0);
		if (rc == 0)
			break;
		assert_true(rc == -DER_AGAIN || rc == -DER_BUSY);
		assert_int_equal(vos_pool_make_room(poh, rc), 0);
	}
	return umem_tx_last_lsn(umm);
}

/* The heap must be exactly the state after transaction c, for some c >= @acked. */
static uint64_t
check_state(daos_handle_t poh, uint64_t acked)
{
	struct test_root *tr = troot(poh);
	uint64_t *want, c, k;
	unsigned int j;
	uint32_t i;

	assert_non_null(tr);
	c = tr->tr_counter;
	assert_true(c >= acked);
	want = calloc(NWORDS, sizeof(*want));
	assert_non_null(want);
	for (k = 1; k <= c; k++)
		for (j = 0; j < NTOUCH; j++)
			want[word_of(k, j)] = k * NTOUCH + j + 1;
	for (i = 0; i < NWORDS; i++) {
		uint64_t got = *word_ptr(poh, tr, i);

		if (got != want[i])
			fail_msg("after %" PRIu64 " transactions, word %u holds %" PRIu64
				 ", not %" PRIu64,
				 c, i, got, want[i]);
	}
	free(want);
	return c;
}

static void
t_ckpt_background(void **state)
{
	struct vos_meta_ckpt_stats cs;
	struct vos_pool_info pi;
	daos_handle_t poh;
	uint64_t k = 0, polls_busy = 0, ck0, fuzzy0;
	unsigned int round;

	(void)state;
	/* a small WAL so that checkpoints come often */
	assert_int_equal(vos_pool_create(path, uuid, 32 << 20, 1 << 20, 16 << 20, NULL, &poh), 0);
	root_create(poh);
	for (round = 0; round < 4; round++) {
		vos_pool_query(poh, &pi);
		ck0 = pi.pi_checkpoints;
		vos_meta_ckpt_query(vos_hdl2pool(poh)->vp_meta, &cs);
		fuzzy0 = cs.cs_fuzzy;
		for (;;) {
			do_tx(poh, ++k);
			if (k % 16 != 0)
				continue;
			assert_true(vos_pool_poll(poh) >= 0);
			vos_meta_ckpt_query(vos_hdl2pool(poh)->vp_meta, &cs);
			polls_busy += cs.cs_busy;
			/* odd rounds: crash once the newest image is a fuzzy one */
			if (round % 2 == 1 && cs.cs_last_fuzzy && cs.cs_fuzzy > fuzzy0 &&
			    !cs.cs_busy)
				break;
			vos_pool_query(poh, &pi);
			if (round % 2 == 0 && pi.pi_checkpoints >= ck0 + 2 && !cs.cs_busy)
				break;
			assert_true(k < (round + 1) * 400000ULL);
		}
		assert_int_equal(vos_pool_wait(poh, vos_pool_last_lsn(poh)), 0);
		vos_pool_query(poh, &pi);
		/* background checkpoints ran and completed */
		assert_true(pi.pi_checkpoints > ck0);
		check_state(poh, k);
		if (round % 2 == 1)
			vos_pool_abandon(poh);
		else
			assert_int_equal(vos_pool_close(poh), 0);
		assert_int_equal(vos_pool_open(path, uuid, 0, NULL, &poh), 0);
		assert_int_equal(check_state(poh, k), k);
	}
	/* checkpoints of 2048+ dirty pages took several polls each: not one long stall */
	assert_true(polls_busy > 10);
	assert_int_equal(vos_pool_close(poh), 0);
}

/* The child: transactions forever, each durable k reported on @fd. */
static void __attribute__((noreturn)) crash_child(int fd, uint64_t start, unsigned int seed)
{
	struct d_fault_attr fa = {
	    .fa_id = D_FI_META_KILL, .fa_probability_x = 1, .fa_probability_y = 40};
	daos_handle_t poh;
	uint64_t k, lsn;

	if (vos_pool_open(path, uuid, 0, NULL, &poh) != 0)
		_exit(2);
	if (seed % 4 != 0 && d_fault_attr_set(&fa) != 0)
		_exit(3);
	for (k = start;; k++) {
		lsn = do_tx(poh, k);
		if (k % 64 == 0) {
			if (vos_pool_wait(poh, lsn) != 0)
				_exit(4);
			if (write(fd, &k, sizeof(k)) != sizeof(k))
				_exit(5);
		}
		if (k % 8 == 0 && vos_pool_poll(poh) < 0)
			_exit(6);
	}
}

static void
t_ckpt_crash(void **state)
{
	unsigned int seed = d_test_seed("t_ckpt_crash");
	uint64_t rs = d_test_rand_seed(seed);
	unsigned int rounds = 20, r;
	unsigned int nr_acked = 0;
	uint64_t acked = 0;
	daos_handle_t poh;

	(void)state;
	d_getenv_uint("D_CRASH_ROUNDS", &rounds);
	assert_int_equal(vos_pool_create(path, uuid, 32 << 20, 1 << 20, 8 << 20, NULL, &poh), 0);
	root_create(poh);
	assert_int_equal(vos_pool_close(poh), 0);
	for (r = 0; r < rounds; r++) {
		int pfd[2], status;
		pid_t pid;
		uint64_t k;

		assert_int_equal(pipe(pfd), 0);
		pid = fork();
		assert_true(pid >= 0);
		if (pid == 0) {
			close(pfd[0]);
			crash_child(pfd[1], acked + 1, (unsigned int)d_test_rand(&rs));
		}
		close(pfd[1]);
		/* most kills come after a first acknowledgement, however slow the open was */
		if (d_test_rand(&rs) % 4 != 0 && read(pfd[0], &k, sizeof(k)) == sizeof(k)) {
			if (k > acked)
				acked = k;
			nr_acked++;
		}
		usleep(20000 + (useconds_t)(d_test_rand(&rs) % 200000));
		kill(pid, SIGKILL); /* may be dead already, by its own kill point */
		while (read(pfd[0], &k, sizeof(k)) == sizeof(k))
			if (k > acked)
				acked = k;
		close(pfd[0]);
		assert_int_equal(waitpid(pid, &status, 0), pid);
		assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
		assert_int_equal(vos_pool_open(path, uuid, 0, NULL, &poh), 0);
		acked = check_state(poh, acked);
		assert_int_equal(vos_pool_close(poh), 0);
	}
	printf("%u crash rounds, %" PRIu64 " transactions survived\n", rounds, acked);
	/* every round that saw an acknowledgement made progress */
	assert_true(acked >= nr_acked);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(t_ckpt_background, setup, teardown),
	    cmocka_unit_test_setup_teardown(t_ckpt_crash, setup, teardown),
	};

	d_log_setmasks("CRIT");
	return cmocka_run_group_tests_name("vos_ckpt", tests, NULL, NULL);
}
