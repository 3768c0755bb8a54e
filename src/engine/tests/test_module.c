/*
 * test_module.c: the module table of the engine (module.c): init in order, setup, cleanup
 * and fini in reverse, and exact unwinding when a module fails.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <gurt/common.h>
#include <daos_errno.h>
#include <daos_srv/daos_engine.h>

/* The table daos_server links (srv_modules.c) is not part of the library. */
static struct dss_module *const no_modules[] = {NULL};

/* Every hook call, as "init:a", appended in order. */
static char calls[512];
static const char *fail_at; /* "init:b" makes that call fail */

static int
record(const char *what, const char *name)
{
	char ev[32];

	snprintf(ev, sizeof(ev), "%s:%s", what, name);
	strncat(calls, ev, sizeof(calls) - strlen(calls) - 2);
	strcat(calls, " ");
	return fail_at != NULL && strcmp(fail_at, ev) == 0 ? -DER_IO : 0;
}

#define MOD_HOOKS(n)                                                                               \
	static int n##_init(void)                                                                  \
	{                                                                                          \
		return record("init", #n);                                                         \
	}                                                                                          \
	static int n##_fini(void)                                                                  \
	{                                                                                          \
		return record("fini", #n);                                                         \
	}                                                                                          \
	static int n##_setup(void)                                                                 \
	{                                                                                          \
		return record("setup", #n);                                                        \
	}                                                                                          \
	static int n##_cleanup(void)                                                               \
	{                                                                                          \
		return record("cleanup", #n);                                                      \
	}                                                                                          \
	static struct dss_module mod_##n = {.sm_name = #n,                                         \
					    .sm_init = n##_init,                                   \
					    .sm_fini = n##_fini,                                   \
					    .sm_setup = n##_setup,                                 \
					    .sm_cleanup = n##_cleanup};

MOD_HOOKS(a)
MOD_HOOKS(b)
MOD_HOOKS(c)

/* A module with no hooks at all is fine. */
static struct dss_module mod_bare = {.sm_name = "bare"};

static struct dss_module *const table[] = {&mod_a, &mod_bare, &mod_b, &mod_c};

static void
reset(void)
{
	calls[0] = '\0';
	fail_at = NULL;
}

static int
count_cb(struct dss_module *mod, void *arg)
{
	(void)mod;
	(*(int *)arg)++;
	return 0;
}

static int
stop_at_b(struct dss_module *mod, void *arg)
{
	(void)arg;
	return strcmp(mod->sm_name, "b") == 0 ? 42 : 0;
}

static void
test_order(void **state)
{
	int n = 0;

	(void)state;
	reset();
	assert_int_equal(dss_modules_init(table, 4), 0);
	assert_string_equal(calls, "init:a init:b init:c ");
	assert_ptr_equal(dss_module_find("b"), &mod_b);
	assert_ptr_equal(dss_module_find("bare"), &mod_bare);
	assert_null(dss_module_find("nope"));
	assert_int_equal(dss_module_foreach(count_cb, &n), 0);
	assert_int_equal(n, 4);
	assert_int_equal(dss_module_foreach(stop_at_b, NULL), 42);
	/* a second table while one is loaded */
	assert_int_equal(dss_modules_init(table, 4), -DER_INVAL);

	reset();
	assert_int_equal(dss_modules_setup(), 0);
	assert_string_equal(calls, "setup:a setup:b setup:c ");
	reset();
	dss_modules_cleanup();
	assert_string_equal(calls, "cleanup:c cleanup:b cleanup:a ");
	reset();
	dss_modules_cleanup(); /* idempotent */
	assert_string_equal(calls, "");
	assert_int_equal(dss_modules_setup(), 0);
	reset();
	dss_modules_fini(); /* cleans up first */
	assert_string_equal(calls, "cleanup:c cleanup:b cleanup:a fini:c fini:b fini:a ");
	assert_null(dss_module_find("a"));
	reset();
	dss_modules_fini();
	assert_string_equal(calls, "");
}

static void
test_init_failure(void **state)
{
	(void)state;
	reset();
	fail_at = "init:c";
	assert_int_equal(dss_modules_init(table, 4), -DER_IO);
	assert_string_equal(calls, "init:a init:b init:c fini:b fini:a ");
	assert_null(dss_module_find("a"));

	/* the first module failing unwinds nothing */
	reset();
	fail_at = "init:a";
	assert_int_equal(dss_modules_init(table, 4), -DER_IO);
	assert_string_equal(calls, "init:a ");
}

static void
test_setup_failure(void **state)
{
	(void)state;
	reset();
	assert_int_equal(dss_modules_init(table, 4), 0);
	reset();
	fail_at = "setup:b";
	assert_int_equal(dss_modules_setup(), -DER_IO);
	assert_string_equal(calls, "setup:a setup:b cleanup:a ");
	reset();
	dss_modules_fini();
	assert_string_equal(calls, "fini:c fini:b fini:a ");
}

static void
test_bad_tables(void **state)
{
	static struct dss_module noname = {.sm_name = NULL};
	static struct dss_module dup = {.sm_name = "a"};
	struct dss_module *const t1[] = {&mod_a, &noname};
	struct dss_module *const t2[] = {&mod_a, &dup};

	(void)state;
	reset();
	assert_int_equal(dss_modules_init(t1, 2), -DER_INVAL);
	assert_int_equal(dss_modules_init(t2, 2), -DER_INVAL);
	assert_string_equal(calls, "");
	/* the built-in table loads (it is empty until modules join) */
	assert_int_equal(dss_modules_init(no_modules, 0), 0);
	dss_modules_fini();
}

static void
test_engine_publish(void **state)
{
	struct dss_engine eng = {.de_tgt_nr = 3};

	(void)state;
	assert_null(dss_engine_get());
	dss_engine_set(&eng);
	assert_ptr_equal(dss_engine_get(), &eng);
	dss_engine_set(NULL);
	assert_null(dss_engine_get());
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_order),          cmocka_unit_test(test_init_failure),
	    cmocka_unit_test(test_setup_failure),  cmocka_unit_test(test_bad_tables),
	    cmocka_unit_test(test_engine_publish),
	};

	d_log_setmasks("NONE");
	return cmocka_run_group_tests_name("engine_module", tests, NULL, NULL);
}
