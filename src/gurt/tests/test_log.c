/*
 * test_log.c: log masks (D_LOG_MASK, DD_SUBSYS, D_LOG_FILE), the line format, the
 * rate-limited variant, truncation, and lines from concurrent threads not interleaving.
 */
#define D_LOGFAC testfac

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <pthread.h>
#include <regex.h>
#include <sys/mman.h>
#include <unistd.h>

#include <gurt/common.h>

D_LOG_FAC_DEFINE(testfac);
D_LOG_FAC_DEFINE(vos);

static int cap_fd = -1;

/* Start capturing log output into a fresh memory file. */
static void
cap_start(void)
{
	if (cap_fd >= 0)
		close(cap_fd);
	cap_fd = memfd_create("log", 0);
	assert_true(cap_fd >= 0);
	d_log_set_fd(cap_fd);
}

/* Everything captured so far; caller frees. */
static char *
cap_read(void)
{
	off_t len = lseek(cap_fd, 0, SEEK_END);
	char *buf = calloc(1, (size_t)len + 1);

	assert_non_null(buf);
	assert_int_equal(pread(cap_fd, buf, (size_t)len, 0), len);
	return buf;
}

static int
count_lines(const char *buf, const char *needle)
{
	int n = 0;
	const char *line = buf;

	while (*line != '\0') {
		const char *nl = strchr(line, '\n');
		size_t len = nl != NULL ? (size_t)(nl - line) : strlen(line);

		if (needle == NULL || memmem(line, len, needle, strlen(needle)) != NULL)
			n++;
		line += len + (nl != NULL);
	}
	return n;
}

static void
t_log_levels(void **state)
{
	char *out;

	(void)state;
	assert_int_equal(d_log_str2level("debug"), D_LOG_DEBUG);
	assert_int_equal(d_log_str2level("ERR"), D_LOG_ERR);
	assert_int_equal(d_log_str2level("error"), D_LOG_ERR);
	assert_int_equal(d_log_str2level("EMRG"), D_LOG_EMERG);
	assert_int_equal(d_log_str2level("bogus"), -DER_INVAL);
	assert_int_equal(d_log_str2level(NULL), -DER_INVAL);

	cap_start();
	assert_int_equal(d_log_setmasks("ERR"), 0);
	D_DEBUG("dbg-a\n");
	D_INFO("info-a\n");
	D_WARN("warn-a\n");
	D_ERROR("err-a\n");
	D_CRIT("crit-a\n");
	out = cap_read();
	assert_int_equal(count_lines(out, NULL), 2);
	assert_int_equal(count_lines(out, "err-a"), 1);
	assert_int_equal(count_lines(out, "crit-a"), 1);
	free(out);

	/* per-facility override: testfac at DEBUG, vos stays at the default WARN */
	cap_start();
	assert_int_equal(d_log_setmasks("WARN, testfac=DEBUG"), 0);
	D_DEBUG("dbg-b\n");
	assert_true(d_log_enabled(&d_logfac_testfac, D_LOG_DEBUG));
	assert_false(d_log_enabled(&d_logfac_vos, D_LOG_INFO));
	assert_true(d_log_enabled(&d_logfac_vos, D_LOG_WARN));
	assert_false(d_log_enabled(&d_logfac_misc, D_LOG_NOTE));
	out = cap_read();
	assert_int_equal(count_lines(out, "dbg-b"), 1);
	free(out);

	/* a bad mask is refused and the old one stays */
	assert_int_equal(d_log_setmasks("WARN,testfac=LOUD"), -DER_INVAL);
	assert_int_equal(d_log_setmasks("=DEBUG"), -DER_INVAL);
	assert_true(d_log_enabled(&d_logfac_testfac, D_LOG_DEBUG));

	/* NONE silences a facility completely */
	assert_int_equal(d_log_setmasks("ERR,testfac=NONE"), 0);
	assert_false(d_log_enabled(&d_logfac_testfac, D_LOG_EMERG));
	assert_true(d_log_enabled(&d_logfac_vos, D_LOG_ERR));
}

static void
t_log_subsys(void **state)
{
	(void)state;
	assert_int_equal(d_log_setmasks("DEBUG"), 0);
	assert_int_equal(d_log_set_subsys("vos"), 0);
	/* DEBUG only for the listed facilities; the others drop to INFO */
	assert_true(d_log_enabled(&d_logfac_vos, D_LOG_DEBUG));
	assert_false(d_log_enabled(&d_logfac_testfac, D_LOG_DEBUG));
	assert_true(d_log_enabled(&d_logfac_testfac, D_LOG_INFO));
	assert_int_equal(d_log_set_subsys("all"), 0);
	assert_true(d_log_enabled(&d_logfac_testfac, D_LOG_DEBUG));
	assert_int_equal(d_log_set_subsys(NULL), 0);
	assert_int_equal(d_log_setmasks("ERR"), 0);
}

static void
t_log_env(void **state)
{
	char path[] = "/tmp/d_test_log_XXXXXX";
	char buf[4096] = "";
	int fd;

	(void)state;
	fd = mkstemp(path);
	assert_true(fd >= 0);
	setenv("D_LOG_MASK", "INFO,vos=ERR", 1);
	setenv("DD_SUBSYS", "all", 1);
	setenv("D_LOG_FILE", path, 1);
	assert_int_equal(d_log_init(), 0);
	assert_true(d_log_enabled(&d_logfac_testfac, D_LOG_INFO));
	assert_false(d_log_enabled(&d_logfac_vos, D_LOG_WARN));
	D_INFO("to-the-file\n");
	assert_true(pread(fd, buf, sizeof(buf) - 1, 0) > 0);
	assert_non_null(strstr(buf, "to-the-file"));

	/* a bad mask from the environment: error, masks kept */
	setenv("D_LOG_MASK", "NOPE", 1);
	unsetenv("D_LOG_FILE");
	assert_int_equal(d_log_init(), -DER_INVAL);
	assert_true(d_log_enabled(&d_logfac_testfac, D_LOG_INFO));

	unsetenv("D_LOG_MASK");
	unsetenv("DD_SUBSYS");
	d_log_fini();
	close(fd);
	unlink(path);
	assert_int_equal(d_log_setmasks("ERR"), 0);
}

static void
t_log_format(void **state)
{
	regex_t re;
	char *out, *nl;

	(void)state;
	cap_start();
	assert_int_equal(d_log_setmasks("ERR"), 0);
	D_ERROR("value %d " DF_RC "\n", 42, DP_RC(-DER_NONEXIST));
	D_ERROR("no newline");
	out = cap_read();
	assert_int_equal(
	    regcomp(&re,
		    "^[0-9]{4}/[0-9]{2}/[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{6} "
		    "[0-9]+/[0-9]+ testfac ERR test_log\\.c:[0-9]+ t_log_format\\(\\) "
		    "value 42 DER_NONEXIST\\(-1005\\)$",
		    REG_EXTENDED | REG_NEWLINE),
	    0);
	nl = strchr(out, '\n');
	assert_non_null(nl);
	*nl = '\0';
	assert_int_equal(regexec(&re, out, 0, NULL, 0), 0);
	/* a newline is added when the message has none */
	assert_non_null(strstr(nl + 1, "no newline\n"));
	regfree(&re);
	free(out);
}

static void
t_log_truncate(void **state)
{
	char *big, *out;

	(void)state;
	big = malloc(20000);
	assert_non_null(big);
	memset(big, 'x', 19999);
	big[19999] = '\0';
	cap_start();
	D_ERROR("%s\n", big);
	out = cap_read();
	assert_true(strlen(out) < 5000);
	assert_int_equal(count_lines(out, NULL), 1);
	assert_non_null(strstr(out, "x...\n"));
	free(out);
	free(big);
}

/* One call site, so that the limiter state is shared by every call. */
static void
rl_site(const char *tag, int i)
{
	D_ERROR_RL("%s %d\n", tag, i);
}

static void
t_log_rate_limit(void **state)
{
	char *out;
	int i, n;

	(void)state;
	cap_start();
	for (i = 0; i < 1000; i++)
		rl_site("flood", i);
	out = cap_read();
	n = count_lines(out, "flood");
	/* at most a burst per second, and the loop may straddle one second boundary */
	assert_true(n >= D_LOG_RL_BURST && n <= 2 * D_LOG_RL_BURST);
	free(out);

	/* the next window first reports how many were dropped */
	cap_start();
	usleep(1100 * 1000);
	rl_site("later", 0);
	out = cap_read();
	assert_int_equal(count_lines(out, "later 0"), 1);
	assert_int_equal(count_lines(out, "similar messages suppressed"), 1);
	assert_true(strstr(out, "suppressed") < strstr(out, "later 0"));
	assert_true(atoi(strstr(out, "() (") + 4) >= 1000 - 2 * D_LOG_RL_BURST);
	free(out);
}

#define NTHREADS 4
#define NLINES 500

static void *
log_thread(void *arg)
{
	int t = (int)(intptr_t)arg, i;

	for (i = 0; i < NLINES; i++)
		D_ERROR("thread %d line %d %s\n", t, i, "payload-payload-payload-payload");
	return NULL;
}

static void
t_log_threads(void **state)
{
	pthread_t th[NTHREADS];
	char *out, *line;
	int t, n = 0;

	(void)state;
	cap_start();
	for (t = 0; t < NTHREADS; t++)
		assert_int_equal(pthread_create(&th[t], NULL, log_thread, (void *)(intptr_t)t), 0);
	for (t = 0; t < NTHREADS; t++)
		pthread_join(th[t], NULL);
	out = cap_read();
	for (line = strtok(out, "\n"); line != NULL; line = strtok(NULL, "\n")) {
		/* every line whole: one prefix, one payload at its end */
		assert_non_null(strstr(line, " testfac ERR "));
		assert_non_null(strstr(line, "payload-payload-payload-payload"));
		assert_int_equal(strlen(strstr(line, "payload")), 31);
		n++;
	}
	assert_int_equal(n, NTHREADS * NLINES);
	free(out);
}

static int
teardown(void **state)
{
	(void)state;
	d_log_set_fd(-1);
	if (cap_fd >= 0)
		close(cap_fd);
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(t_log_levels),   cmocka_unit_test(t_log_subsys),
	    cmocka_unit_test(t_log_env),      cmocka_unit_test(t_log_format),
	    cmocka_unit_test(t_log_truncate), cmocka_unit_test(t_log_rate_limit),
	    cmocka_unit_test(t_log_threads),
	};

	return cmocka_run_group_tests_name("gurt_log", tests, NULL, teardown);
}
