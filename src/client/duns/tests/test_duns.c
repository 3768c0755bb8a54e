/*
 * test_duns.c: libduns without a server: duns_resolve_path on direct paths (daos://, and
 * /pool/cont with DUNS_NO_CHECK_PATH / DUNS_NO_PREFIX), duns_parse_attr, and the lookup of
 * the extended attribute on real local directories (a parent's link, reverse lookup).
 * Bad input of every kind (empty, missing container, overlong, garbage, random bytes) is
 * an error code, never a crash.
 */
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cmocka.h>

#include <daos_uns.h>

#define PU "3b5b8a3c-7a0e-4a5e-9c1d-0123456789ab"
#define CU "9f3e2d1c-0b1a-4c2d-8e3f-abcdef012345"

static int
resolve(const char *path, uint32_t flags, struct duns_attr_t *attr)
{
	memset(attr, 0, sizeof(*attr));
	attr->da_flags = flags;
	return duns_resolve_path(path, attr);
}

static void
test_direct(void **state)
{
	struct duns_attr_t a;

	(void)state;
	assert_int_equal(resolve("daos://tank/c1", 0, &a), 0);
	assert_string_equal(a.da_pool, "tank");
	assert_string_equal(a.da_cont, "c1");
	assert_null(a.da_rel_path);
	duns_destroy_attr(&a);

	assert_int_equal(resolve("daos://tank/c1/a/b.txt", 0, &a), 0);
	assert_string_equal(a.da_cont, "c1");
	assert_string_equal(a.da_rel_path, "/a/b.txt");
	duns_destroy_attr(&a);
	assert_null(a.da_rel_path);

	assert_int_equal(resolve("daos://" PU "/" CU "/", 0, &a), 0);
	assert_string_equal(a.da_pool, PU);
	assert_string_equal(a.da_cont, CU);
	assert_string_equal(a.da_rel_path, "/");
	duns_destroy_attr(&a);

	/* the /pool/cont form needs a flag saying so */
	assert_int_equal(resolve("/tank/c1/x", DUNS_NO_CHECK_PATH, &a), 0);
	assert_string_equal(a.da_pool, "tank");
	assert_string_equal(a.da_rel_path, "/x");
	assert_true(a.da_no_prefix);
	duns_destroy_attr(&a);
	assert_int_equal(resolve("/tank/c1", DUNS_NO_PREFIX, &a), 0);
	assert_string_equal(a.da_cont, "c1");
	assert_null(a.da_rel_path);
	duns_destroy_attr(&a);
	memset(&a, 0, sizeof(a));
	a.da_no_prefix = true;
	assert_int_equal(duns_resolve_path("/tank/c1", &a), 0);
	duns_destroy_attr(&a);
}

static void
test_direct_bad(void **state)
{
	static const char *const bad[] = {
	    "",
	    "daos://",
	    "daos:///",
	    "daos://tank",
	    "daos://tank/",
	    "daos://tank//",
	    "daos:///c1",
	    "daos://ta nk/c1",
	    "daos://tank/c%1",
	    "daos://tank/c1\xff",
	};
	struct duns_attr_t a;
	char *longp;
	char lab[DAOS_PROP_LABEL_MAX_LEN + 40];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int rc = resolve(bad[i], 0, &a);

		if (rc != EINVAL)
			fail_msg("'%s': %d, want EINVAL", bad[i], rc);
		assert_null(a.da_rel_path);
	}
	/* relative paths are not direct ones */
	assert_int_equal(resolve("tank/c1", DUNS_NO_CHECK_PATH, &a), EINVAL);
	assert_int_equal(resolve("/tank", DUNS_NO_CHECK_PATH, &a), EINVAL);
	assert_int_equal(resolve("/", DUNS_NO_PREFIX, &a), EINVAL);
	/* a label longer than DAOS_PROP_LABEL_MAX_LEN */
	memset(lab, 'a', sizeof(lab) - 1);
	lab[sizeof(lab) - 1] = '\0';
	longp = malloc(strlen(lab) + 32);
	assert_non_null(longp);
	sprintf(longp, "daos://%s/c1", lab);
	assert_int_equal(resolve(longp, 0, &a), EINVAL);
	sprintf(longp, "daos://tank/%s", lab);
	assert_int_equal(resolve(longp, 0, &a), EINVAL);
	free(longp);
	/* a path longer than PATH_MAX */
	longp = malloc(PATH_MAX + 64);
	assert_non_null(longp);
	strcpy(longp, "daos://tank/c1/");
	memset(longp + strlen(longp), 'x', PATH_MAX);
	longp[PATH_MAX + 32] = '\0';
	assert_int_equal(resolve(longp, 0, &a), ENAMETOOLONG);
	free(longp);
	assert_int_equal(duns_resolve_path(NULL, &a), EINVAL);
	assert_int_equal(duns_resolve_path("daos://tank/c1", NULL), EINVAL);
}

static int
parse(const char *s, struct duns_attr_t *a)
{
	char buf[512];

	memset(a, 0, sizeof(*a));
	strcpy(buf, s);
	return duns_parse_attr(buf, strlen(s), a);
}

static void
test_parse_attr(void **state)
{
	static const char *const bad[] = {
	    "DAOS.POSIX:/" PU "/" CU,
	    "DAOS.POSIX://" PU,
	    "DAOS.POSIX://" PU "/",
	    "DAOS.POSIX:///" CU,
	    "DAOS.POSIX://" PU "/" CU "/extra",
	    "DAOS.NOSUCH://" PU "/" CU,
	    "DAOS.://" PU "/" CU,
	    "daos://" PU "/" CU,
	    "POSIX://" PU "/" CU,
	    "DAOS.POSIX://bad label/" CU,
	    "garbage",
	};
	struct duns_attr_t a;
	char buf[400];
	size_t i;

	(void)state;
	assert_int_equal(parse("DAOS.POSIX://" PU "/" CU, &a), 0);
	assert_int_equal(a.da_type, DAOS_PROP_CO_LAYOUT_POSIX);
	assert_string_equal(a.da_pool, PU);
	assert_string_equal(a.da_cont, CU);
	assert_int_equal(parse("DAOS.HDF5://" PU "/" CU, &a), 0);
	assert_int_equal(a.da_type, DAOS_PROP_CO_LAYOUT_HDF5);
	/* with the NUL counted, as setxattr stores it */
	strcpy(buf, "DAOS.POSIX://" PU "/" CU);
	assert_int_equal(duns_parse_attr(buf, strlen(buf) + 1, &a), 0);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int rc = parse(bad[i], &a);

		if (rc != EINVAL)
			fail_msg("'%s': %d, want EINVAL", bad[i], rc);
	}
	/* empty, overlong, a NUL inside, NULL */
	assert_int_equal(duns_parse_attr(buf, 0, &a), EINVAL);
	memset(buf, 'A', sizeof(buf));
	memcpy(buf, "DAOS.POSIX://", 13);
	assert_int_equal(duns_parse_attr(buf, DUNS_MAX_XATTR_LEN + 1, &a), EINVAL);
	strcpy(buf, "DAOS.POSIX://" PU "/" CU);
	buf[20] = '\0';
	assert_int_equal(duns_parse_attr(buf, strlen("DAOS.POSIX://" PU "/" CU), &a), EINVAL);
	assert_int_equal(duns_parse_attr(NULL, 10, &a), EINVAL);
	assert_int_equal(duns_parse_attr(buf, 10, NULL), EINVAL);
}

/* Random bytes and random mutations of good strings: an error or success, never a crash. */
static void
test_garbage(void **state)
{
	const char *good[] = {"DAOS.POSIX://" PU "/" CU, "daos://tank/c1/a/b"};
	struct duns_attr_t a;
	char buf[256];
	unsigned int seed = 1234;
	int i;

	(void)state;
	for (i = 0; i < 20000; i++) {
		size_t len;
		size_t k;
		int rc;

		if (i % 2 == 0) {
			len = (size_t)rand_r(&seed) % (sizeof(buf) - 1);
			for (k = 0; k < len; k++)
				buf[k] = (char)(rand_r(&seed) % 256);
		} else {
			strcpy(buf, good[(i / 2) % 2]);
			len = strlen(buf);
			for (k = 0; k < 3; k++)
				buf[(size_t)rand_r(&seed) % len] = (char)(rand_r(&seed) % 256);
		}
		buf[len] = '\0';
		memset(&a, 0, sizeof(a));
		rc = duns_parse_attr(buf, len, &a);
		assert_true(rc == 0 || rc == EINVAL);
		if (i % 4 == 1) {
			/* direct paths only: never read attributes of random local paths */
			memcpy(buf, "daos://", 7);
			rc = resolve(buf, DUNS_NO_CHECK_PATH, &a);
			assert_true(rc == 0 || rc == EINVAL);
			if (rc == 0) {
				assert_true(strlen(a.da_pool) > 0 && strlen(a.da_cont) > 0);
				assert_true(a.da_rel_path == NULL || a.da_rel_path[0] == '/');
			}
			duns_destroy_attr(&a);
		}
	}
}

/* The attribute on a local directory, found on the path itself or on a parent. */
static void
test_xattr(void **state)
{
	char tmpl[] = "/tmp/duns_test.XXXXXX";
	char path[PATH_MAX];
	char sub[PATH_MAX + 16];
	const char *val = "DAOS.POSIX://" PU "/" CU;
	struct duns_attr_t a;
	char *top;

	(void)state;
	top = mkdtemp(tmpl);
	assert_non_null(top);
	snprintf(path, sizeof(path), "%s/link", top);
	assert_int_equal(mkdir(path, 0755), 0);
	if (setxattr(path, DUNS_XATTR_NAME, val, strlen(val) + 1, 0) != 0) {
		int err = errno;

		rmdir(path);
		rmdir(top);
		if (err == ENOTSUP)
			skip();
		fail_msg("setxattr: %s", strerror(err));
	}
	assert_int_equal(resolve(path, 0, &a), 0);
	assert_int_equal(a.da_type, DAOS_PROP_CO_LAYOUT_POSIX);
	assert_string_equal(a.da_pool, PU);
	assert_string_equal(a.da_cont, CU);
	assert_null(a.da_rel_path);
	duns_destroy_attr(&a);

	/* below the link: a real subdirectory, then a name that does not exist yet */
	snprintf(sub, sizeof(sub), "%s/d1", path);
	assert_int_equal(mkdir(sub, 0755), 0);
	assert_int_equal(resolve(sub, 0, &a), 0);
	assert_string_equal(a.da_rel_path, "/d1");
	duns_destroy_attr(&a);
	snprintf(sub, sizeof(sub), "%s/d1/new", path);
	assert_int_equal(resolve(sub, 0, &a), 0);
	assert_string_equal(a.da_rel_path, "/d1/new");
	duns_destroy_attr(&a);
	assert_int_equal(resolve(sub, DUNS_NO_REVERSE_LOOKUP, &a), ENOENT);
	snprintf(sub, sizeof(sub), "%s/d1", path);
	assert_int_equal(resolve(sub, DUNS_NO_REVERSE_LOOKUP, &a), ENODATA);

	/* no link anywhere above */
	assert_int_equal(resolve(top, 0, &a), ENODATA);
	/* a garbage value */
	assert_int_equal(setxattr(top, DUNS_XATTR_NAME, "DAOS.POSIX://x", 14, 0), 0);
	assert_int_equal(resolve(top, DUNS_NO_REVERSE_LOOKUP, &a), EINVAL);

	rmdir(sub);
	rmdir(path);
	rmdir(top);
}

static void
test_sys_name(void **state)
{
	struct duns_attr_t a;

	(void)state;
	memset(&a, 0, sizeof(a));
	assert_int_equal(duns_set_sys_name(&a, "daos_server"), 0);
	assert_string_equal(a.da_sys, "daos_server");
	assert_int_equal(duns_set_sys_name(&a, "other"), 0);
	assert_string_equal(a.da_sys, "other");
	duns_destroy_attr(&a);
	assert_null(a.da_sys);
	duns_destroy_attr(NULL);
	assert_int_equal(duns_set_sys_name(NULL, "x"), EINVAL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_direct),     cmocka_unit_test(test_direct_bad),
	    cmocka_unit_test(test_parse_attr), cmocka_unit_test(test_garbage),
	    cmocka_unit_test(test_xattr),      cmocka_unit_test(test_sys_name),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
