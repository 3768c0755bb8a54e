/*
 * test_misc.c: scatter-gather copies, rank-list parsing and printing, environment readers.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <gurt/common.h>
#include <d_test.h>

static void
t_sgl_copy(void **state)
{
	unsigned int seed = d_test_seed("t_sgl_copy");
	uint64_t rs = d_test_rand_seed(seed);
	char flat[1024], back[1024], bufs[4][300];
	d_sg_list_t sgl;
	int round, i;

	(void)state;
	assert_int_equal(d_sgl_init(&sgl, 4), 0);
	for (i = 0; i < (int)sizeof(flat); i++)
		flat[i] = (char)(d_test_rand(&rs) & 0xff);

	for (round = 0; round < 200; round++) {
		size_t cap = 0, off, len, n, total, fill;

		for (i = 0; i < 4; i++) {
			size_t sz = d_test_rand(&rs) % 300;

			sgl.sg_iovs[i].iov_buf = bufs[i];
			sgl.sg_iovs[i].iov_buf_len = sz;
			sgl.sg_iovs[i].iov_len = 0;
			cap += sz;
		}
		assert_int_equal(d_sgl_buf_capacity(&sgl), cap);
		/* fill the vectors from the start, so that copy_out sees contiguous data */
		fill = cap < sizeof(flat) ? cap : sizeof(flat);
		total = d_sgl_copy_in(&sgl, 0, flat, fill);
		assert_int_equal(total, fill);
		assert_int_equal(d_sgl_buf_size(&sgl), fill);
		off = d_test_rand(&rs) % (fill + 1);
		len = d_test_rand(&rs) % (sizeof(flat) + 1);
		n = d_sgl_copy_out(&sgl, off, back, len);
		assert_int_equal(n, fill - off < len ? fill - off : len);
		assert_memory_equal(back, flat + off, n);
	}
	sgl.sg_iovs[0].iov_buf = NULL; /* buffers are on the stack: free only the array */
	d_sgl_fini(&sgl, false);
	assert_null(sgl.sg_iovs);
	assert_int_equal(d_sgl_init(&sgl, 0), 0);
	d_sgl_fini(&sgl, true);
}

static void
t_iov(void **state)
{
	char data[] = "hello";
	d_iov_t a, b;

	(void)state;
	d_iov_set(&a, data, sizeof(data));
	assert_int_equal(a.iov_len, sizeof(data));
	assert_int_equal(a.iov_buf_len, sizeof(data));
	assert_int_equal(d_iov_dup(&b, &a), 0);
	assert_ptr_not_equal(b.iov_buf, a.iov_buf);
	assert_memory_equal(b.iov_buf, data, sizeof(data));
	D_FREE(b.iov_buf);
	d_iov_set(&a, NULL, 0);
	assert_int_equal(d_iov_dup(&b, &a), 0);
	assert_null(b.iov_buf);
}

static void
t_rank_list(void **state)
{
	static const char *const bad[] = {
	    "",
	    "a",
	    "1-",
	    "-1",
	    "3-1",
	    "1,,x",
	    "1 2",
	    "4294967295",
	    "99999999999999999999",
	    "0-4000000000",
	    "[1,2",
	    "[1]x",
	    "1-2-3",
	    "1;2",
	    "--",
	    "[]",
	    "  ",
	    "1]",
	    "[1,2]]",
	};
	d_rank_list_t *l, *d;
	char buf[64];
	size_t i;
	int idx, n;

	(void)state;
	assert_int_equal(d_rank_list_parse("7, 0-3,2, [", &l), -DER_INVAL);
	assert_int_equal(d_rank_list_parse("7,0-3,2,10-11", &l), 0);
	assert_int_equal(l->rl_nr, 7); /* sorted and deduplicated */
	assert_int_equal(l->rl_ranks[0], 0);
	assert_int_equal(l->rl_ranks[4], 7);
	n = d_rank_list_to_str(l, buf, sizeof(buf));
	assert_string_equal(buf, "0-3,7,10-11");
	assert_int_equal(n, (int)strlen("0-3,7,10-11"));
	/* truncation behaves like snprintf: the needed length is returned */
	assert_int_equal(d_rank_list_to_str(l, buf, 4), n);
	assert_true(strlen(buf) < 4);

	assert_true(d_rank_list_find(l, 7, &idx));
	assert_int_equal(idx, 4);
	assert_false(d_rank_list_find(l, 5, NULL));
	assert_int_equal(d_rank_list_dup(&d, l), 0);
	assert_true(d_rank_list_identical(l, d));
	d_rank_list_del(d, 7);
	assert_false(d_rank_list_identical(l, d));
	assert_int_equal(d->rl_nr, 6);
	assert_int_equal(d_rank_list_append(d, 7), 0);
	assert_int_equal(d_rank_list_append(d, 1), 0);
	d_rank_list_dedup(d);
	assert_true(d_rank_list_identical(l, d));
	d_rank_list_free(d);
	d_rank_list_free(l);

	assert_int_equal(d_rank_list_parse("[2-4]", &l), 0);
	assert_int_equal(l->rl_nr, 3);
	d_rank_list_free(l);

	for (i = 0; i < D_ARRAY_SIZE(bad); i++) {
		l = (d_rank_list_t *)0x1;
		assert_int_equal(d_rank_list_parse(bad[i], &l), -DER_INVAL);
		assert_null(l);
	}
	assert_int_equal(d_rank_list_dup(&d, NULL), 0);
	assert_null(d);
	assert_true(d_rank_list_identical(NULL, NULL));
	d_rank_list_free(NULL);
}

static void
t_env(void **state)
{
	unsigned int u = 5;
	uint64_t v = 0;
	bool b = false;

	(void)state;
	unsetenv("D_TEST_ENV");
	assert_int_equal(d_getenv_bool("D_TEST_ENV", &b), -DER_NONEXIST);
	assert_false(b);
	setenv("D_TEST_ENV", "yes", 1);
	assert_int_equal(d_getenv_bool("D_TEST_ENV", &b), 0);
	assert_true(b);
	setenv("D_TEST_ENV", "0", 1);
	assert_int_equal(d_getenv_bool("D_TEST_ENV", &b), 0);
	assert_false(b);
	setenv("D_TEST_ENV", "maybe", 1);
	assert_int_equal(d_getenv_bool("D_TEST_ENV", &b), -DER_INVAL);

	setenv("D_TEST_ENV", "0x10", 1);
	assert_int_equal(d_getenv_uint("D_TEST_ENV", &u), 0);
	assert_int_equal(u, 16);
	setenv("D_TEST_ENV", "-1", 1);
	assert_int_equal(d_getenv_uint("D_TEST_ENV", &u), -DER_INVAL);
	setenv("D_TEST_ENV", "12abc", 1);
	assert_int_equal(d_getenv_uint("D_TEST_ENV", &u), -DER_INVAL);
	setenv("D_TEST_ENV", "5000000000", 1);
	assert_int_equal(d_getenv_uint("D_TEST_ENV", &u), -DER_INVAL);
	assert_int_equal(d_getenv_uint64_t("D_TEST_ENV", &v), 0);
	assert_int_equal(v, 5000000000ULL);
	assert_int_equal(u, 16);
	unsetenv("D_TEST_ENV");
}

/* d_getenv_is_once: exact match only, and the first answer stays with its cache. */
static void
t_env_once(void **state)
{
	int c1 = -1;
	int c2 = -1;
	int c3 = -1;
	int c4 = -1;

	(void)state;
	unsetenv("D_TEST_ENV");
	assert_false(d_getenv_is_once(&c1, "D_TEST_ENV", "1"));
	setenv("D_TEST_ENV", "1", 1);
	assert_false(d_getenv_is_once(&c1, "D_TEST_ENV", "1")); /* remembered: unset */
	assert_true(d_getenv_is_once(&c2, "D_TEST_ENV", "1"));
	setenv("D_TEST_ENV", "10", 1);
	assert_true(d_getenv_is_once(&c2, "D_TEST_ENV", "1"));  /* remembered: "1" */
	assert_false(d_getenv_is_once(&c3, "D_TEST_ENV", "1")); /* "10" is not "1" */
	setenv("D_TEST_ENV", "", 1);
	assert_false(d_getenv_is_once(&c4, "D_TEST_ENV", "0"));
	unsetenv("D_TEST_ENV");
}

static void
t_alloc_macros(void **state)
{
	char *s, *t;
	int *a, *b;

	(void)state;
	D_ALLOC_ARRAY(a, 8);
	assert_non_null(a);
	assert_int_equal(a[7], 0);
	D_REALLOC_ARRAY(b, a, 16);
	assert_non_null(b);
	a = b;
	D_REALLOC_ARRAY(b, a, SIZE_MAX / 2); /* overflows: NULL, old array intact */
	assert_null(b);
	D_FREE(a);
	assert_null(a);
	D_STRNDUP(s, "abcdef", 3);
	assert_string_equal(s, "abc");
	D_STRNDUP_S(t, "literal");
	assert_string_equal(t, "literal");
	D_FREE(s);
	D_FREE(t);
	D_ASPRINTF(s, "%d-%s", 7, "x");
	assert_string_equal(s, "7-x");
	D_FREE(s);
	D_ALLOC(s, 0);
	D_FREE(s);
	D_FREE(s); /* freeing NULL is fine */
}

static void
t_uuid_str(void **state)
{
	uuid_t u;
	char line[128];

	(void)state;
	assert_int_equal(uuid_parse("0fb2a3c4-1111-2222-3333-444455556666", u), 0);
	snprintf(line, sizeof(line), "pool " DF_UUID " / " DF_UUIDF, DP_UUID(u), DP_UUIDF(u));
	assert_string_equal(line, "pool 0fb2a3c4 / 0fb2a3c4-1111-2222-3333-444455556666");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(t_sgl_copy),  cmocka_unit_test(t_iov),
	    cmocka_unit_test(t_rank_list), cmocka_unit_test(t_env),
	    cmocka_unit_test(t_env_once),  cmocka_unit_test(t_alloc_macros),
	    cmocka_unit_test(t_uuid_str),
	};

	return cmocka_run_group_tests_name("gurt_misc", tests, NULL, NULL);
}
