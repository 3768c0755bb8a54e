/*
 * test_wal_crash.c: crash consistency of the WAL. A child process replays the WAL, then
 * appends random records (group commit, callbacks, waits, trims, both sync modes) and
 * writes every LSN it learns is durable to a pipe; the parent kill -9s it at a random
 * instant, replays the WAL itself and checks that the records form a gap-free sequence
 * from the trimmed tail, that every LSN the child reported durable is there with the
 * contents that child wrote, and that every record is one some child wrote. Then the next
 * child continues the same WAL. Rounds: D_CRASH_ROUNDS (default 50).
 *
 * Each record carries its writer: range 0 is {rr_off = round, 8 bytes = its LSN}; the
 * other ranges derive from a seed made of both, so the parent can regenerate them.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>

#include <gurt/common.h>
#include <daos_srv/bio.h>
#include <d_test.h>

#include "bio_internal.h"
#include "wal_test.h"

#define CRASH_WAL_SIZE (4ULL << 20)

static const struct wt_shape crash_shape = {
    .ws_max_ranges = 4, .ws_max_len = 300, .ws_big_len = 9000};

static uint64_t
rec_seed(uint64_t lsn, uint64_t round)
{
	return lsn * 0x9E3779B97F4A7C15ULL ^ (round << 40) ^ 0x5bd1e995;
}

/* Build the record @lsn of @round into @wr (ranges 1..) and @ranges (range 0 first). */
static void
rec_build(struct wt_rec *wr, struct umem_redo_range *ranges, struct umem_redo *redo, uint64_t lsn,
	  uint64_t round, uint64_t *lsn_buf)
{
	wt_rec_gen(wr, &crash_shape, rec_seed(lsn, round));
	*lsn_buf = lsn;
	ranges[0].rr_off = round;
	ranges[0].rr_len = sizeof(*lsn_buf);
	ranges[0].rr_pad = 0;
	ranges[0].rr_data = lsn_buf;
	memcpy(&ranges[1], wr->wr_ranges, wr->wr_redo.ur_nr * sizeof(ranges[0]));
	redo->ur_nr = wr->wr_redo.ur_nr + 1;
	redo->ur_pad = 0;
	redo->ur_bytes = wr->wr_redo.ur_bytes + sizeof(*lsn_buf);
	redo->ur_ranges = ranges;
}

struct child {
	int c_fd;
	uint64_t c_acked;    /* highest LSN whose callback came */
	uint64_t c_reported; /* highest LSN written to the pipe */
};

static void
child_durable_cb(void *arg, uint64_t lsn, int rc)
{
	struct child *c = arg;

	if (rc != 0 || lsn < c->c_acked)
		_exit(4);
	c->c_acked = lsn;
}

static void
child_report(struct child *c)
{
	if (c->c_acked > c->c_reported) {
		if (write(c->c_fd, &c->c_acked, sizeof(c->c_acked)) != sizeof(c->c_acked))
			_exit(5);
		c->c_reported = c->c_acked;
	}
}

/* The child: never returns; exits with a code > 0 on any unexpected error. */
static void
child_run(const char *path, int fd, uint64_t round, uint64_t rng)
{
	struct umem_redo_range ranges[WT_MAX_RANGES + 1];
	struct bio_wal_attr attr = {0};
	struct bio_wal_stats st;
	struct child c = {.c_fd = fd};
	struct umem_redo redo;
	struct bio_wal *wal;
	struct wt_rec wr;
	uint64_t lsn_buf;
	uint64_t lsn;
	int rc;
	int i;

	wt_rec_init(&wr);
	attr.wa_sync_mode = d_test_rand(&rng) % 2;
	attr.wa_staging_size = d_test_rand(&rng) % 2 ? 128 * 1024 : 0;
	if (bio_wal_open(path, &attr, &wal) != 0)
		_exit(10);
	bio_wal_query(wal, &st);
	if (bio_wal_replay(wal, st.ws_tail_lsn - 1, NULL, NULL, NULL) != 0)
		_exit(11);
	/* ready: 0 on the pipe */
	if (write(fd, &c.c_reported, sizeof(c.c_reported)) != sizeof(c.c_reported))
		_exit(5);

	for (;;) {
		int batch = 1 + (int)(d_test_rand(&rng) % 24);

		for (i = 0; i < batch; i++) {
			lsn = bio_wal_last_lsn(wal) + 1;
			rec_build(&wr, ranges, &redo, lsn, round, &lsn_buf);
			rc = bio_wal_append(wal, &redo, &lsn);
			if (rc == -DER_AGAIN) {
				/* a checkpoint covering everything durable, then retry */
				if (bio_wal_flush_wait(wal) != 0 ||
				    bio_wal_trim(wal, bio_wal_durable_lsn(wal)) != 0 ||
				    bio_wal_flush_wait(wal) != 0)
					_exit(12);
				child_report(&c);
				i--;
				continue;
			}
			if (rc == -DER_BUSY) {
				if (bio_wal_space_wait(wal,
						       bio_wal_rec_size(redo.ur_nr, redo.ur_bytes),
						       bio_wal_wait_io, wal) != 0)
					_exit(13);
				child_report(&c);
				i--;
				continue;
			}
			if (rc != 0 || lsn != lsn_buf)
				_exit(14);
			if (bio_wal_on_durable(wal, lsn, child_durable_cb, &c) != 0)
				_exit(15);
		}
		if (bio_wal_flush(wal) != 0)
			_exit(16);
		switch (d_test_rand(&rng) % 4) {
		case 0:
			if (bio_wal_wait(wal, bio_wal_last_lsn(wal), bio_wal_wait_io, wal) != 0)
				_exit(17);
			break;
		case 1:
			if (bio_wal_wait_io(wal) != 0)
				_exit(18);
			break;
		default:
			break;
		}
		bio_wal_poll(wal);
		child_report(&c);
		/* a lagging checkpoint now and then */
		if (d_test_rand(&rng) % 64 == 0 && bio_wal_durable_lsn(wal) > 40)
			if (bio_wal_trim(wal, bio_wal_durable_lsn(wal) - d_test_rand(&rng) % 40) !=
			    0)
				_exit(19);
	}
}

struct verify {
	uint64_t v_round;     /* current round */
	uint16_t *v_round_of; /* round that reported LSN i durable (0: none) */
	uint64_t v_cap;
	struct wt_rec v_scratch;
	uint64_t v_first;
	uint64_t v_last;
	uint64_t v_bad;
};

static int
verify_cb(void *arg, uint64_t lsn, const struct umem_redo *redo)
{
	struct verify *v = arg;
	struct umem_redo rest;
	uint64_t writer;
	uint64_t l;

	if (v->v_first == 0)
		v->v_first = lsn;
	else if (lsn != v->v_last + 1)
		v->v_bad++;
	v->v_last = lsn;
	if (redo->ur_nr < 2 || redo->ur_ranges[0].rr_len != sizeof(l)) {
		v->v_bad++;
		return 0;
	}
	writer = redo->ur_ranges[0].rr_off;
	memcpy(&l, redo->ur_ranges[0].rr_data, sizeof(l));
	if (l != lsn || writer == 0 || writer > v->v_round) {
		v->v_bad++;
		return 0;
	}
	if (lsn < v->v_cap && v->v_round_of[lsn] != 0 && v->v_round_of[lsn] != writer) {
		fprintf(stderr,
			"LSN %" PRIu64 " reported durable by round %u, found round %" PRIu64 "'s\n",
			lsn, v->v_round_of[lsn], writer);
		v->v_bad++;
	}
	rest = *redo;
	rest.ur_nr--;
	rest.ur_bytes -= sizeof(l);
	rest.ur_ranges++;
	if (!wt_rec_equal(&v->v_scratch, &crash_shape, rec_seed(lsn, writer), &rest))
		v->v_bad++;
	return 0;
}

static void
mark_durable(struct verify *v, uint64_t from, uint64_t to, uint64_t round)
{
	uint64_t l;

	while (to >= v->v_cap) {
		uint64_t cap = v->v_cap * 2;

		v->v_round_of = realloc(v->v_round_of, cap * sizeof(uint16_t));
		assert_non_null(v->v_round_of);
		memset(v->v_round_of + v->v_cap, 0, (cap - v->v_cap) * sizeof(uint16_t));
		v->v_cap = cap;
	}
	for (l = from; l <= to; l++)
		if (v->v_round_of[l] == 0)
			v->v_round_of[l] = (uint16_t)round;
}

static void
t_crash(void **state)
{
	struct verify v = {0};
	struct wt_dir wd;
	uint64_t rng = d_test_rand_seed(d_test_seed("bio_wal_crash"));
	uint64_t max_reported = 0;
	uint64_t base = 0; /* last LSN before the round's child */
	uint64_t killed_early = 0;
	uint64_t total = 0;
	unsigned int rounds = 50;
	unsigned int round;

	(void)state;
	d_getenv_uint("D_CRASH_ROUNDS", &rounds);
	assert_int_equal(wt_dir_init(&wd), 0);
	assert_int_equal(bio_wal_create(wd.wd_path, CRASH_WAL_SIZE), 0);
	v.v_cap = 1 << 16;
	v.v_round_of = calloc(v.v_cap, sizeof(uint16_t));
	wt_rec_init(&v.v_scratch);

	for (round = 1; round <= rounds; round++) {
		struct bio_wal_replay_info info;
		struct bio_wal_stats st;
		struct bio_wal *wal;
		uint64_t deadline;
		uint64_t started;
		uint64_t delay;
		uint64_t reported = base;
		bool early;
		uint64_t val;
		int pipefd[2];
		int status;
		pid_t pid;
		ssize_t n;

		assert_int_equal(pipe(pipefd), 0);
		pid = fork();
		assert_true(pid >= 0);
		if (pid == 0) {
			close(pipefd[0]);
			child_run(wd.wd_path, pipefd[1], round, d_test_rand(&rng) | 1);
			_exit(1);
		}
		close(pipefd[1]);

		/*
		 * Kill at a random instant: in one round out of four counted from the fork
		 * (startup, replay), otherwise from the moment the child is ready to append.
		 */
		early = d_test_rand(&rng) % 4 == 0;
		delay = (d_test_rand(&rng) % 30000) * D_NSEC_PER_USEC;
		deadline = early ? d_now_ns() + delay : UINT64_MAX;
		started = d_now_ns();
		for (;;) {
			struct pollfd pfd = {.fd = pipefd[0], .events = POLLIN};
			uint64_t now = d_now_ns();
			int ms;

			if (now >= deadline)
				break;
			if (now - started > 20 * D_NSEC_PER_SEC) {
				kill(pid, SIGKILL);
				fail_msg("round %u: the child never got ready", round);
			}
			ms = deadline == UINT64_MAX ? 1000
						    : (int)((deadline - now) / D_NSEC_PER_MSEC) + 1;
			if (poll(&pfd, 1, ms) <= 0)
				continue;
			n = read(pipefd[0], &val, sizeof(val));
			if (n != sizeof(val))
				break;
			if (val == 0) {
				if (!early)
					deadline = d_now_ns() + delay;
				continue;
			}
			assert_true(val >= reported);
			mark_durable(&v, reported + 1, val, round);
			reported = val;
		}
		kill(pid, SIGKILL);
		assert_int_equal(waitpid(pid, &status, 0), pid);
		if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGKILL)
			fail_msg("round %u: the child exited by itself (status %#x)", round,
				 status);
		while ((n = read(pipefd[0], &val, sizeof(val))) == sizeof(val)) {
			if (val == 0)
				continue;
			assert_true(val >= reported);
			mark_durable(&v, reported + 1, val, round);
			reported = val;
		}
		close(pipefd[0]);
		if (reported == base)
			killed_early++;
		if (reported > max_reported)
			max_reported = reported;

		/* the parent's replay: nothing lost, nothing foreign, no gap */
		v.v_round = round;
		v.v_first = 0;
		v.v_last = 0;
		v.v_bad = 0;
		assert_int_equal(bio_wal_open(wd.wd_path, NULL, &wal), 0);
		bio_wal_query(wal, &st);
		assert_int_equal(bio_wal_replay(wal, st.ws_tail_lsn - 1, verify_cb, &v, &info), 0);
		if (v.v_bad != 0 || info.ri_last_lsn < max_reported)
			fail_msg("round %u: %" PRIu64 " bad records, LSN %" PRIu64 "..%" PRIu64
				 " replayed, %" PRIu64 " reported durable",
				 round, v.v_bad, info.ri_first_lsn, info.ri_last_lsn, max_reported);
		assert_int_equal(info.ri_first_lsn, st.ws_tail_lsn);
		if (info.ri_records > 0) {
			assert_int_equal(v.v_first, st.ws_tail_lsn);
			assert_int_equal(v.v_last, info.ri_last_lsn);
		}
		assert_true(info.ri_last_lsn >= base);
		total += info.ri_last_lsn - base;
		base = info.ri_last_lsn;
		/* no appends: closing leaves the log as it was for the next child */
		assert_int_equal(bio_wal_close(wal), 0);
	}
	printf("bio_wal_crash: %u rounds, %" PRIu64 " records kept, last durable LSN %" PRIu64
	       ", %" PRIu64 " rounds killed before any durable record\n",
	       rounds, total, max_reported, killed_early);
	assert_true(max_reported > 0);

	wt_rec_fini(&v.v_scratch);
	free(v.v_round_of);
	wt_dir_fini(&wd);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(t_crash),
	};

	return cmocka_run_group_tests_name("bio_wal_crash", tests, NULL, NULL);
}
