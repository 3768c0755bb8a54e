/*
 * test_fault.c: fault-injection points (gurt/fault_inject.h): when an armed fault fires,
 * its counters, the D_FAULTS string and YAML config parsers, arming from the environment at
 * load time, D_FI_ALLOC failing the Nth allocation, and exact max_faults under threads.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <fcntl.h>
#include <pthread.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gurt/common.h>

extern char **environ;

/* Fire pattern of @n hits on @id: fired[i] is hit i + 1. Returns how many fired. */
static unsigned int
hit_n(uint32_t id, unsigned int n, bool *fired)
{
	unsigned int count = 0;
	unsigned int i;

	for (i = 0; i < n; i++) {
		bool f = D_FAIL_CHECK(id);

		if (fired != NULL)
			fired[i] = f;
		count += f;
	}
	return count;
}

static void
arm(uint32_t id, uint32_t interval, uint32_t x, uint32_t y, uint64_t max)
{
	struct d_fault_attr attr = {.fa_id = id,
				    .fa_interval = interval,
				    .fa_probability_x = x,
				    .fa_probability_y = y,
				    .fa_max_faults = max};

	assert_int_equal(d_fault_attr_set(&attr), 0);
}

static int
teardown(void **state)
{
	(void)state;
	d_fault_attr_clear_all();
	unsetenv("D_FAULTS");
	unsetenv("D_FI_CONFIG");
	unsetenv("D_FI_SEED");
	return 0;
}

/* Log capture: the error messages are part of the contract (token, line number). */

static int cap_fd = -1;
static int cap_prev = -1;
static char cap_buf[65536];

static void
cap_start(void)
{
	char path[] = "/tmp/test_fault_log_XXXXXX";

	cap_fd = mkstemp(path);
	assert_true(cap_fd >= 0);
	unlink(path);
	assert_int_equal(d_log_setmasks("ERR"), 0);
	cap_prev = d_log_set_fd(cap_fd);
}

/* Stop capturing; the text logged since cap_start() is in cap_buf. */
static const char *
cap_stop(void)
{
	ssize_t n;

	d_log_set_fd(cap_prev);
	n = pread(cap_fd, cap_buf, sizeof(cap_buf) - 1, 0);
	assert_true(n >= 0);
	cap_buf[n] = '\0';
	close(cap_fd);
	cap_fd = -1;
	return cap_buf;
}

/* A temporary file holding @text; the caller unlinks @path. */
static void
write_tmp(char *path, const char *text)
{
	int fd;

	strcpy(path, "/tmp/test_fault_XXXXXX.yaml");
	fd = mkstemps(path, 5);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

static void
t_always(void **state)
{
	struct d_fault_attr attr;

	(void)state;
	arm(10, 0, 0, 0, 0);
	assert_int_equal(hit_n(10, 100, NULL), 100);
	assert_int_equal(d_fault_attr_get(10, &attr), 0);
	assert_int_equal(attr.fa_num_hits, 100);
	assert_int_equal(attr.fa_num_faults, 100);

	/* interval 1 and probability 1/1 are "always" too */
	arm(10, 1, 1, 1, 0);
	assert_int_equal(hit_n(10, 50, NULL), 50);
}

static void
t_once(void **state)
{
	bool fired[20];
	int i;

	(void)state;
	arm(11, 0, 0, 0, 1);
	assert_int_equal(hit_n(11, 20, fired), 1);
	assert_true(fired[0]);
	for (i = 1; i < 20; i++)
		assert_false(fired[i]);
}

static void
t_every(void **state)
{
	bool fired[30];
	int i;

	(void)state;
	arm(12, 3, 0, 0, 0);
	assert_int_equal(hit_n(12, 30, fired), 10);
	for (i = 0; i < 30; i++)
		assert_int_equal(fired[i], (i + 1) % 3 == 0);
}

static void
t_nth(void **state)
{
	bool fired[30];
	int i;

	(void)state;
	arm(13, 5, 0, 0, 1);
	assert_int_equal(hit_n(13, 30, fired), 1);
	for (i = 0; i < 30; i++)
		assert_int_equal(fired[i], i == 4);
}

static void
t_max(void **state)
{
	struct d_fault_attr attr;
	bool fired[100];
	int i;

	(void)state;
	arm(14, 1, 0, 0, 7);
	assert_int_equal(hit_n(14, 100, fired), 7);
	for (i = 0; i < 100; i++)
		assert_int_equal(fired[i], i < 7);
	/* hits are still counted after the last fault */
	assert_int_equal(d_fault_attr_get(14, &attr), 0);
	assert_int_equal(attr.fa_num_hits, 100);
	assert_int_equal(attr.fa_num_faults, 7);

	/* every 4th hit, at most 3 times: hits 4, 8, 12 */
	arm(14, 4, 0, 0, 3);
	assert_int_equal(hit_n(14, 100, fired), 3);
	for (i = 0; i < 100; i++)
		assert_int_equal(fired[i], i == 3 || i == 7 || i == 11);
}

#define PROB_HITS 20000

static void
t_probability(void **state)
{
	static bool first[PROB_HITS];
	static bool again[PROB_HITS];
	unsigned int n;

	(void)state;
	setenv("D_FI_SEED", "12345", 1);
	assert_int_equal(d_fault_inject_init(), 0);

	/* 0.25 over 20000 hits: mean 5000, sd 61; 400 is 6.5 sd */
	arm(15, 0, 1, 4, 0);
	n = hit_n(15, PROB_HITS, first);
	assert_in_range(n, 4600, 5400);

	/* rearming with the same seed repeats the draws, even with another fault hit between */
	arm(15, 0, 1, 4, 0);
	arm(16, 0, 1, 2, 0);
	for (n = 0; n < PROB_HITS; n++) {
		again[n] = D_FAIL_CHECK(15);
		(void)D_FAIL_CHECK(16);
	}
	assert_memory_equal(first, again, sizeof(first));

	/* another seed, other draws */
	setenv("D_FI_SEED", "0x54321", 1);
	assert_int_equal(d_fault_inject_init(), 0);
	arm(15, 0, 1, 4, 0);
	hit_n(15, PROB_HITS, again);
	assert_memory_not_equal(first, again, sizeof(first));

	/* the draw happens only on interval hits: every 2nd hit, half of them */
	arm(15, 2, 1, 2, 0);
	n = hit_n(15, PROB_HITS, NULL);
	assert_in_range(n, 4600, 5400);

	/* x 0 never fires; x == y always does */
	arm(15, 0, 0, 10, 0);
	assert_int_equal(hit_n(15, 1000, NULL), 0);
	arm(15, 0, 10, 10, 0);
	assert_int_equal(hit_n(15, 1000, NULL), 1000);
}

static void
t_attr(void **state)
{
	struct d_fault_attr in = {.fa_id = 17,
				  .fa_interval = 2,
				  .fa_probability_x = 3,
				  .fa_probability_y = 4,
				  .fa_max_faults = 5,
				  .fa_num_faults = 99,
				  .fa_num_hits = 99,
				  .fa_err_code = -DER_IO,
				  .fa_argument = 42};
	struct d_fault_attr out;

	(void)state;
	assert_int_equal(d_fault_attr_get(17, &out), -DER_NONEXIST);
	assert_int_equal(d_fault_attr_get(D_FI_MAX_ID, &out), -DER_INVAL);
	assert_int_equal(d_fault_attr_err_code(17), 0);

	assert_int_equal(d_fault_attr_set(&in), 0);
	assert_int_equal(d_fault_attr_get(17, &out), 0);
	assert_int_equal(out.fa_id, 17);
	assert_int_equal(out.fa_interval, 2);
	assert_int_equal(out.fa_probability_x, 3);
	assert_int_equal(out.fa_probability_y, 4);
	assert_int_equal(out.fa_max_faults, 5);
	assert_int_equal(out.fa_num_faults, 0); /* counters reset when armed */
	assert_int_equal(out.fa_num_hits, 0);
	assert_int_equal(out.fa_err_code, -DER_IO);
	assert_int_equal(out.fa_argument, 42);
	assert_int_equal(d_fault_attr_err_code(17), -DER_IO);

	/* bad attributes arm nothing */
	in.fa_id = D_FI_MAX_ID;
	assert_int_equal(d_fault_attr_set(&in), -DER_INVAL);
	in.fa_id = 18;
	in.fa_probability_x = 5; /* 5/4 */
	assert_int_equal(d_fault_attr_set(&in), -DER_INVAL);
	assert_int_equal(d_fault_attr_get(18, &out), -DER_NONEXIST);
	in.fa_probability_y = 0; /* y 0: always, whatever x is */
	assert_int_equal(d_fault_attr_set(&in), 0);

	/* ids out of range never fire */
	assert_false(d_fault_check(D_FI_MAX_ID));
	assert_false(d_fault_check(UINT32_MAX));
}

static void
t_clear(void **state)
{
	struct d_fault_attr attr;

	(void)state;
	arm(20, 0, 0, 0, 0);
	arm(21, 0, 0, 0, 0);
	/* an id that is not armed neither fires nor counts while others are armed */
	assert_int_equal(hit_n(22, 10, NULL), 0);
	assert_int_equal(d_fault_attr_get(22, &attr), -DER_NONEXIST);

	d_fault_attr_clear(20);
	assert_int_equal(hit_n(20, 10, NULL), 0);
	assert_int_equal(d_fault_attr_get(20, &attr), -DER_NONEXIST);
	assert_int_equal(hit_n(21, 10, NULL), 10);
	d_fault_attr_clear(20);          /* not armed: no-op */
	d_fault_attr_clear(D_FI_MAX_ID); /* out of range: no-op */
	assert_int_equal(hit_n(21, 10, NULL), 10);

	/* rearming resets the counters */
	arm(21, 0, 0, 0, 0);
	assert_int_equal(d_fault_attr_get(21, &attr), 0);
	assert_int_equal(attr.fa_num_hits, 0);
}

static void
t_fast_flag(void **state)
{
	uint32_t id;

	(void)state;
	assert_int_equal(d_fault_inject_enabled, 0);
	arm(30, 0, 0, 0, 0);
	assert_int_not_equal(d_fault_inject_enabled, 0);
	arm(30, 2, 0, 0, 0); /* rearming the same id does not count twice */
	arm(31, 0, 0, 0, 0);
	d_fault_attr_clear(30);
	assert_int_not_equal(d_fault_inject_enabled, 0);
	d_fault_attr_clear(31);
	assert_int_equal(d_fault_inject_enabled, 0);

	for (id = 1; id < D_FI_MAX_ID; id += 97)
		arm(id, 0, 0, 0, 0);
	arm(D_FI_MAX_ID - 1, 0, 0, 0, 0);
	assert_int_not_equal(d_fault_inject_enabled, 0);
	d_fault_attr_clear_all();
	assert_int_equal(d_fault_inject_enabled, 0);
	assert_false(D_FAIL_CHECK(0));
	assert_false(D_FAIL_CHECK(D_FI_MAX_ID - 1));
}

struct parse_case {
	const char *pc_spec;
	uint32_t pc_id;
	uint32_t pc_interval;
	uint32_t pc_x;
	uint32_t pc_y;
	uint64_t pc_max;
	int32_t pc_err;
};

static void
t_parse_valid(void **state)
{
	static const struct parse_case cases[] = {
	    {"0:always", 0, 0, 0, 0, 0, 0},
	    {"3:once", 3, 0, 0, 0, 1, 0},
	    {"12:every=3/max=2", 12, 3, 0, 0, 2, 0},
	    {"0:nth=5", 0, 5, 0, 0, 1, 0},
	    {"7:prob=0.25", 7, 0, 25, 100, 0, 0},
	    {"7:prob=1", 7, 0, 1, 1, 0, 0},
	    {"7:prob=1.000", 7, 0, 1000, 1000, 0, 0},
	    {"7:prob=0", 7, 0, 0, 1, 0, 0},
	    {"7:prob=0.000000001", 7, 0, 1, 1000000000, 0, 0},
	    {"9:err=DER_IO", 9, 0, 0, 0, 0, -DER_IO},
	    {"9:err=-DER_NOMEM", 9, 0, 0, 0, 0, -DER_NOMEM},
	    {"9:err=2001", 9, 0, 0, 0, 0, -2001},
	    {"9:err=-1003", 9, 0, 0, 0, 0, -DER_INVAL},
	    {"0x10:once", 16, 0, 0, 0, 1, 0},
	    {"4095:always/err=DER_IO", 4095, 0, 0, 0, 0, -DER_IO},
	    {" 1 : once / err=DER_IO ", 1, 0, 0, 0, 1, -DER_IO},
	    {"2:max=18446744073709551615", 2, 0, 0, 0, UINT64_MAX, 0},
	    {"2:every=4294967295", 2, UINT32_MAX, 0, 0, 0, 0},
	    {"2:max=0", 2, 0, 0, 0, 0, 0},
	    {"5:prob=0.5/nth=2/err=DER_IO", 5, 2, 5, 10, 1, -DER_IO},
	    {"5:once,5:every=4", 5, 4, 0, 0, 0, 0}, /* a later item replaces an earlier one */
	};
	struct d_fault_attr attr;
	size_t i;

	(void)state;
	for (i = 0; i < D_ARRAY_SIZE(cases); i++) {
		const struct parse_case *pc = &cases[i];

		assert_int_equal(d_fault_parse(pc->pc_spec), 0);
		assert_int_equal(d_fault_attr_get(pc->pc_id, &attr), 0);
		assert_int_equal(attr.fa_interval, pc->pc_interval);
		assert_int_equal(attr.fa_probability_x, pc->pc_x);
		assert_int_equal(attr.fa_probability_y, pc->pc_y);
		assert_int_equal(attr.fa_max_faults, pc->pc_max);
		assert_int_equal(attr.fa_err_code, pc->pc_err);
		d_fault_attr_clear_all();
	}

	/* several items; and the documented behaviour of one */
	assert_int_equal(d_fault_parse("1:once,2:every=2,3:prob=0.5"), 0);
	assert_int_equal(d_fault_attr_get(1, &attr), 0);
	assert_int_equal(d_fault_attr_get(2, &attr), 0);
	assert_int_equal(d_fault_attr_get(3, &attr), 0);
	assert_int_equal(d_fault_parse("12:every=3/max=2"), 0);
	{
		bool fired[20];
		int j;

		assert_int_equal(hit_n(12, 20, fired), 2);
		for (j = 0; j < 20; j++)
			assert_int_equal(fired[j], j == 2 || j == 5);
	}
}

static void
t_parse_invalid(void **state)
{
	static const char *const bad[] = {
	    "",
	    " ",
	    "garbage",
	    "0",
	    "0:",
	    ":once",
	    "x:once",
	    "-1:once",
	    "+1:once",
	    "4096:once",
	    "99999999999999999999:once",
	    "0x:once",
	    "0::once",
	    "0:bogus",
	    "0:ONCE",
	    "0:once=1",
	    "0:every",
	    "0:every=",
	    "0:every=0",
	    "0:every=abc",
	    "0:every=3x",
	    "0:every=-1",
	    "0:every=4294967296",
	    "0:nth=99999999999999999999999",
	    "0:max=18446744073709551616",
	    "0:max=1e3",
	    "0:prob=1.5",
	    "0:prob=2",
	    "0:prob=-0.1",
	    "0:prob=.5",
	    "0:prob=0.",
	    "0:prob=0.1234567891",
	    "0:prob=abc",
	    "0:prob=nan",
	    "0:prob=0x1",
	    "0:prob=00.5",
	    "0:err=",
	    "0:err=DER_BOGUS",
	    "0:err=DER_",
	    "0:err=12345",
	    "0:err=-",
	    "0:once/",
	    "0:/once",
	    "0:once//max=2",
	    "0:once/max=2",
	    "0:every=2/nth=3",
	    "0:always/once",
	    "0:prob=0.5/prob=0.5",
	    "0:err=DER_IO/err=DER_IO",
	    "0:once,",
	    ",0:once",
	    "0:once,,1:once",
	    "0:once,1",
	    "0:once;1:once",
	    "1:once,2:bogus", /* the good item before the bad one is not armed either */
	    "\xff\xfe:once",
	    "0:once\n",
	};
	size_t i;

	(void)state;
	for (i = 0; i < D_ARRAY_SIZE(bad); i++) {
		if (d_fault_parse(bad[i]) != -DER_INVAL)
			fail_msg("accepted \"%s\"", bad[i]);
		if (d_fault_inject_enabled != 0)
			fail_msg("\"%s\" armed a fault", bad[i]);
	}
	assert_int_equal(d_fault_parse(NULL), -DER_INVAL);
}

static void
t_parse_message(void **state)
{
	const char *log;

	(void)state;
	cap_start();
	assert_int_equal(d_fault_parse("3:once/evry=2"), -DER_INVAL);
	log = cap_stop();
	assert_non_null(strstr(log, "\"evry=2\""));
	assert_non_null(strstr(log, "DER_INVAL"));
}

/* Append a random element of @list to @buf (of @size bytes, holding @len). */
static size_t
fuzz_add(char *buf, size_t size, size_t len, const char *const *list, size_t nr, unsigned int *seed)
{
	const char *p = list[(size_t)rand_r(seed) % nr];
	size_t n = strlen(p);

	if (len + n >= size)
		return len;
	memcpy(buf + len, p, n + 1);
	return len + n;
}

/*
 * Random specs: items of random ids and tokens (most valid, some not), then half the time
 * one byte overwritten or the string cut short. Never a crash; 0 (and armed) or -DER_INVAL
 * (and nothing armed).
 */
static void
t_parse_fuzz(void **state)
{
	static const char *const ids[] = {"0", "7", "4095", "0x1f", "12", "4096", "x", ""};
	static const char *const toks[] = {
	    "once",       "always",    "every=3", "nth=2",     "prob=0.25", "max=5",
	    "err=DER_IO", "err=-2001", "prob=0",  "max=0",     "nth=1",     "every=0",
	    "prob=2",     "bogus",     "",        "err=DER_X", "max=-1",
	};
	static const char noise[] = "0123456789:,/=.x -_DERIO\xff\t";
	char buf[160];
	unsigned int seed = 1;
	int ok = 0;
	int i;

	(void)state;
	assert_int_equal(d_log_setmasks("NONE"), 0);
	for (i = 0; i < 50000; i++) {
		int items = 1 + rand_r(&seed) % 3;
		size_t len = 0;
		int rc;

		buf[0] = '\0';
		while (items-- > 0) {
			int ntok = 1 + rand_r(&seed) % 3;

			len = fuzz_add(buf, sizeof(buf), len, ids, D_ARRAY_SIZE(ids), &seed);
			len = fuzz_add(buf, sizeof(buf), len, (const char *const[]){":"}, 1, &seed);
			while (ntok-- > 0) {
				len = fuzz_add(buf, sizeof(buf), len, toks, D_ARRAY_SIZE(toks),
					       &seed);
				if (ntok > 0)
					len = fuzz_add(buf, sizeof(buf), len,
						       (const char *const[]){"/"}, 1, &seed);
			}
			if (items > 0)
				len = fuzz_add(buf, sizeof(buf), len, (const char *const[]){","}, 1,
					       &seed);
		}
		if (len > 0 && rand_r(&seed) % 4 == 0)
			buf[rand_r(&seed) % (int)len] =
			    noise[rand_r(&seed) % (int)(sizeof(noise) - 1)];
		if (len > 0 && rand_r(&seed) % 4 == 0)
			buf[rand_r(&seed) % (int)len] = '\0';

		rc = d_fault_parse(buf);
		assert_true(rc == 0 || rc == -DER_INVAL);
		if (rc == 0) {
			ok++;
			assert_int_not_equal(d_fault_inject_enabled, 0);
		} else {
			assert_int_equal(d_fault_inject_enabled, 0);
		}
		d_fault_attr_clear_all();
	}
	assert_true(ok > 1000);
	assert_true(ok < 49000);
	/* long inputs */
	{
		size_t n = 1 << 20;
		char *big = malloc(n + 1);

		assert_non_null(big);
		memset(big, '9', n);
		big[n] = '\0';
		assert_int_equal(d_fault_parse(big), -DER_INVAL);
		for (size_t k = 0; k + 7 <= n; k += 7)
			memcpy(big + k, "1:once,", 7);
		big[n - n % 7 - 1] = '\0'; /* drop the last comma */
		assert_int_equal(d_fault_parse(big), 0);
		free(big);
	}
	assert_int_equal(d_log_setmasks("ERR"), 0);
}

static const char good_yaml[] = "# a DAOS fault config\n"
				"seed: 7\n"
				"fault_config:\n"
				"  - id: 100\n"
				"    probability_x: 1\n"
				"    probability_y: 4\n"
				"    interval: 2\n"
				"    max_faults: 1000\n"
				"    err_code: -1007\n"
				"    argument: 42\n"
				"  - id: 0x65\n"
				"    err_code: DER_IO\n"
				"  - id: 102\n"
				"    probability_x: 0\n"
				"    probability_y: 0\n"
				"thread_default: true\n";

static void
t_yaml_good(void **state)
{
	static bool from_file[400];
	static bool from_seed[400];
	struct d_fault_attr attr;
	char path[64];

	(void)state;
	write_tmp(path, good_yaml);
	assert_int_equal(d_fault_config_load(path), 0);

	assert_int_equal(d_fault_attr_get(100, &attr), 0);
	assert_int_equal(attr.fa_probability_x, 1);
	assert_int_equal(attr.fa_probability_y, 4);
	assert_int_equal(attr.fa_interval, 2);
	assert_int_equal(attr.fa_max_faults, 1000);
	assert_int_equal(attr.fa_err_code, -DER_NOSPACE);
	assert_int_equal(attr.fa_argument, 42);

	/* defaults: always */
	assert_int_equal(d_fault_attr_get(101, &attr), 0);
	assert_int_equal(attr.fa_interval, 0);
	assert_int_equal(attr.fa_probability_x, attr.fa_probability_y);
	assert_int_equal(attr.fa_max_faults, 0);
	assert_int_equal(attr.fa_err_code, -DER_IO);
	assert_int_equal(hit_n(101, 10, NULL), 10);

	/* as in DAOS, probability_x 0 never fires, even with probability_y 0 */
	assert_int_equal(hit_n(102, 100, NULL), 0);

	/* the file's seed drives the draws, like D_FI_SEED */
	hit_n(100, 400, from_file);
	d_fault_attr_clear_all();
	setenv("D_FI_SEED", "7", 1);
	assert_int_equal(d_fault_inject_init(), 0);
	arm(100, 2, 1, 4, 1000);
	hit_n(100, 400, from_seed);
	assert_memory_equal(from_file, from_seed, sizeof(from_file));
	d_fault_attr_clear_all();

	/* an empty file, or an empty list, arms nothing */
	unlink(path);
	write_tmp(path, "");
	assert_int_equal(d_fault_config_load(path), 0);
	unlink(path);
	write_tmp(path, "fault_config:\n");
	assert_int_equal(d_fault_config_load(path), 0);
	unlink(path);
	write_tmp(path, "fault_config: []\nseed: 3\n");
	assert_int_equal(d_fault_config_load(path), 0);
	assert_int_equal(d_fault_inject_enabled, 0);
	unlink(path);
}

struct yaml_case {
	const char *yc_text;
	const char *yc_log; /* expected in the message: line number and culprit */
};

static void
t_yaml_bad(void **state)
{
	static const struct yaml_case cases[] = {
	    {"fault_config:\n  - id: 1\n    bogus: 2\n", ":3: unknown key \"bogus\""},
	    {"faults: []\n", ":1: unknown key \"faults\""},
	    {"fault_config:\n  - id: 1\n    interval: abc\n", ":3: bad value \"abc\""},
	    {"fault_config:\n  - id: 4096\n", ":2: bad value (an id below 4096) \"4096\""},
	    {"fault_config:\n  - id: -1\n", ":2: bad value"},
	    {"fault_config:\n  - id: 1\n    max_faults: -1\n", ":3: bad value \"-1\""},
	    {"fault_config:\n  - id: 1\n    max_faults: 18446744073709551616\n", ":3: bad value"},
	    {"fault_config:\n  - id: 1\n    err_code: DER_NOPE\n", ":3: bad value \"DER_NOPE\""},
	    {"fault_config:\n  - id: 1\n    argument: hello\n", ":3: bad value \"hello\""},
	    {"fault_config:\n  - id: 1\n    probability_x: 5\n    probability_y: 2\n",
	     ":2: probability_x greater than probability_y"},
	    {"fault_config:\n  - interval: 2\n", ":2: fault_config entry without an id"},
	    {"fault_config:\n  - id: 1\n    id: 2\n", ":3: duplicate key \"id\""},
	    {"fault_config:\n  - id: [1, 2]\n", ":2: expected a single value"},
	    {"fault_config:\n  - 5\n", ":2: fault_config: expected an entry"},
	    {"fault_config: 5\n", ":1: fault_config: expected a list"},
	    {"fault_config: [\n", "bad YAML"},
	    {"fault_config:\n  - id: 1\n   interval: 2\n", "bad YAML"},
	    {"- id: 1\n", ":1: expected a mapping"},
	    {"just text\n", ":1: expected a mapping"},
	    {"seed: x\n", ":1: bad seed \"x\""},
	    {"thread_default: false\n", ":1: thread_default: only true is supported"},
	    {"? [a]\n: 1\n", ":1: expected a key"},
	    /* the good entry before the bad one is not armed either */
	    {"fault_config:\n  - id: 1\n  - id: 2\n    bad: 1\n", ":4: unknown key \"bad\""},
	};
	char path[64];
	size_t i;

	(void)state;
	for (i = 0; i < D_ARRAY_SIZE(cases); i++) {
		const char *log;
		int rc;

		write_tmp(path, cases[i].yc_text);
		cap_start();
		rc = d_fault_config_load(path);
		log = cap_stop();
		unlink(path);
		if (rc != -DER_INVAL)
			fail_msg("case %zu: rc %d", i, rc);
		if (d_fault_inject_enabled != 0)
			fail_msg("case %zu armed a fault", i);
		if (strstr(log, cases[i].yc_log) == NULL)
			fail_msg("case %zu: \"%s\" not in log:\n%s", i, cases[i].yc_log, log);
		if (strstr(log, path) == NULL)
			fail_msg("case %zu: path not in log:\n%s", i, log);
	}

	assert_int_equal(d_fault_config_load("/nonexistent/dir/faults.yaml"), -DER_NONEXIST);
	assert_int_equal(d_fault_config_load(NULL), -DER_INVAL);
}

static void
t_env_init(void **state)
{
	struct d_fault_attr attr;
	char path[64];

	(void)state;
	write_tmp(path, "fault_config:\n  - id: 41\n    interval: 3\n");
	setenv("D_FI_CONFIG", path, 1);
	setenv("D_FAULTS", "40:once", 1);
	assert_int_equal(d_fault_inject_init(), 0);
	assert_int_equal(d_fault_attr_get(40, &attr), 0);
	assert_int_equal(attr.fa_max_faults, 1);
	assert_int_equal(d_fault_attr_get(41, &attr), 0);
	assert_int_equal(attr.fa_interval, 3);
	unlink(path);
	d_fault_attr_clear_all();

	/* each source is armed whole or not at all; the first error is returned */
	setenv("D_FI_CONFIG", path, 1); /* gone now */
	setenv("D_FAULTS", "40:once", 1);
	assert_int_equal(d_fault_inject_init(), -DER_NONEXIST);
	assert_int_equal(d_fault_attr_get(40, &attr), 0);
	d_fault_attr_clear_all();
	unsetenv("D_FI_CONFIG");
	setenv("D_FAULTS", "40:once,41:bad", 1);
	assert_int_equal(d_fault_inject_init(), -DER_INVAL);
	assert_int_equal(d_fault_inject_enabled, 0);
	unsetenv("D_FAULTS");
	setenv("D_FI_SEED", "seven", 1);
	assert_int_equal(d_fault_inject_init(), -DER_INVAL);
	setenv("D_FI_SEED", "", 1);
	assert_int_equal(d_fault_inject_init(), 0);
}

/* Run this program again as "ctor-check @mode" with @faults in D_FAULTS; its exit status. */
static int
spawn_self(const char *faults, const char *mode)
{
	char *argv[] = {"test_fault", "ctor-check", (char *)mode, NULL};
	pid_t pid;
	int status;

	setenv("D_FAULTS", faults, 1);
	setenv("D_LOG_MASK", "NONE", 1);
	assert_int_equal(posix_spawn(&pid, "/proc/self/exe", NULL, NULL, argv, environ), 0);
	unsetenv("D_FAULTS");
	unsetenv("D_LOG_MASK");
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	return WEXITSTATUS(status);
}

/* The child side of t_ctor: are the faults of D_FAULTS armed before main()? */
static int
ctor_check(const char *mode)
{
	struct d_fault_attr attr;

	if (strcmp(mode, "armed") == 0) {
		if (d_fault_attr_get(50, &attr) != 0 || attr.fa_interval != 2 ||
		    attr.fa_max_faults != 1)
			return 1;
		return 0;
	}
	/* a bad spec at start-up is logged and skipped; the process runs on */
	if (d_fault_inject_enabled != 0)
		return 1;
	return 0;
}

static void
t_ctor(void **state)
{
	(void)state;
	assert_int_equal(spawn_self("50:nth=2", "armed"), 0);
	assert_int_equal(spawn_self("50:nth=2,51:garbage", "none"), 0);
}

static void
t_alloc_nth(void **state)
{
	void *p[8];
	char *s;
	int i;

	(void)state;
	assert_int_equal(d_fault_parse("0:nth=3"), 0);
	for (i = 0; i < 8; i++)
		D_ALLOC(p[i], 16);
	for (i = 0; i < 8; i++) {
		if (i == 2)
			assert_null(p[i]);
		else
			assert_non_null(p[i]);
		D_FREE(p[i]);
	}

	/* every second one, twice: the 2nd and 4th; each D_* allocator is a hit */
	assert_int_equal(d_fault_parse("0:every=2/max=2"), 0);
	D_ALLOC_PTR(p[0]);
	D_STRNDUP_S(s, "hello");
	assert_non_null(p[0]);
	assert_null(s);
	D_ALLOC_NZ(p[1], 8);
	D_ALLOC_ARRAY(p[2], 4);
	D_ALLOC(p[3], 4);
	assert_non_null(p[1]);
	assert_null(p[2]);
	assert_non_null(p[3]);
	for (i = 0; i < 4; i++)
		D_FREE(p[i]);

	d_fault_attr_clear(D_FI_ALLOC);
	D_ALLOC(p[0], 16);
	assert_non_null(p[0]);
	D_FREE(p[0]);
}

#define THR_NR 4
#define THR_HITS 20000

static int thr_go;

static void *
thr_hit(void *arg)
{
	uint64_t fired = 0;
	int i;

	(void)arg;
	while (!__atomic_load_n(&thr_go, __ATOMIC_ACQUIRE))
		;
	for (i = 0; i < THR_HITS; i++)
		fired += D_FAIL_CHECK(60);
	return (void *)(uintptr_t)fired;
}

/* Arms and disarms another fault while the others hit: the fast flag flips under them. */
static void *
thr_churn(void *arg)
{
	struct d_fault_attr attr = {.fa_id = 61};
	int i;

	(void)arg;
	for (i = 0; i < 2000; i++) {
		assert_int_equal(d_fault_attr_set(&attr), 0);
		d_fault_attr_clear(61);
	}
	return NULL;
}

static void
t_threads(void **state)
{
	pthread_t thr[THR_NR + 1];
	struct d_fault_attr attr;
	uint64_t total = 0;
	void *ret;
	int i;

	(void)state;
	assert_int_equal(d_fault_parse("60:every=1/max=1000"), 0);
	thr_go = 0;
	for (i = 0; i < THR_NR; i++)
		assert_int_equal(pthread_create(&thr[i], NULL, thr_hit, NULL), 0);
	assert_int_equal(pthread_create(&thr[THR_NR], NULL, thr_churn, NULL), 0);
	__atomic_store_n(&thr_go, 1, __ATOMIC_RELEASE);
	for (i = 0; i < THR_NR; i++) {
		assert_int_equal(pthread_join(thr[i], &ret), 0);
		total += (uintptr_t)ret;
	}
	assert_int_equal(pthread_join(thr[THR_NR], NULL), 0);

	assert_int_equal(total, 1000);
	assert_int_equal(d_fault_attr_get(60, &attr), 0);
	assert_int_equal(attr.fa_num_faults, 1000);
	assert_int_equal(attr.fa_num_hits, THR_NR * THR_HITS);
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_teardown(t_always, teardown),
	    cmocka_unit_test_teardown(t_once, teardown),
	    cmocka_unit_test_teardown(t_every, teardown),
	    cmocka_unit_test_teardown(t_nth, teardown),
	    cmocka_unit_test_teardown(t_max, teardown),
	    cmocka_unit_test_teardown(t_probability, teardown),
	    cmocka_unit_test_teardown(t_attr, teardown),
	    cmocka_unit_test_teardown(t_clear, teardown),
	    cmocka_unit_test_teardown(t_fast_flag, teardown),
	    cmocka_unit_test_teardown(t_parse_valid, teardown),
	    cmocka_unit_test_teardown(t_parse_invalid, teardown),
	    cmocka_unit_test_teardown(t_parse_message, teardown),
	    cmocka_unit_test_teardown(t_parse_fuzz, teardown),
	    cmocka_unit_test_teardown(t_yaml_good, teardown),
	    cmocka_unit_test_teardown(t_yaml_bad, teardown),
	    cmocka_unit_test_teardown(t_env_init, teardown),
	    cmocka_unit_test_teardown(t_ctor, teardown),
	    cmocka_unit_test_teardown(t_alloc_nth, teardown),
	    cmocka_unit_test_teardown(t_threads, teardown),
	};

	if (argc == 3 && strcmp(argv[1], "ctor-check") == 0)
		return ctor_check(argv[2]);
	/* the tests arm their own faults: none may come from the environment */
	if (d_fault_inject_enabled != 0) {
		fprintf(stderr, "faults armed from the environment; unset D_FAULTS/D_FI_CONFIG\n");
		return 77;
	}
	return cmocka_run_group_tests_name("gurt_fault", tests, NULL, NULL);
}
