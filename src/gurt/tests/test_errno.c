/*
 * test_errno.c: the DER_* table and its helpers (d_errstr, d_errdesc, d_errno2der,
 * d_der2errno). Pins the numbers applications compile in, checks the table is contiguous and
 * its names and texts unique, and checks the errno conversions both ways.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <errno.h>
#include <limits.h>
#include <string.h>
#include <cmocka.h>
#include <gurt/common.h>

struct err_entry {
	int ee_value;
	const char *ee_name;
	const char *ee_desc;
};

#define ENTRY_(name, value, desc) {(value), #name, (desc)},

static const struct err_entry gurt_table[] = {D_FOREACH_GURT_ERR(ENTRY_)};
static const struct err_entry daos_table[] = {D_FOREACH_DAOS_ERR(ENTRY_)};

static void
check_range(const struct err_entry *tab, size_t nr, int base, int limit)
{
	size_t i;

	assert_true(nr > 0);
	/* Contiguous, in list order, from base + 1: a gap or a reorder shows up here. */
	for (i = 0; i < nr; i++)
		assert_int_equal(tab[i].ee_value, base + 1 + (int)i);
	assert_int_equal(limit, base + 1 + (int)nr);
}

/* Every code is base + 1 + its index in its list; each list ends at its LIMIT. */
static void
t_ranges_contiguous(void **state)
{
	(void)state;
	check_range(gurt_table, D_ARRAY_SIZE(gurt_table), DER_ERR_GURT_BASE, DER_ERR_GURT_LIMIT);
	check_range(daos_table, D_ARRAY_SIZE(daos_table), DER_ERR_DAOS_BASE, DER_ERR_DAOS_LIMIT);
	assert_int_equal(DER_ERR_GURT_BASE, 1000);
	assert_int_equal(DER_ERR_DAOS_BASE, 2000);
	assert_true(DER_ERR_GURT_LIMIT <= DER_ERR_DAOS_BASE);
}

/* Both lists as one array, for the uniqueness checks. */
static size_t
all_entries(const struct err_entry **out, size_t max)
{
	size_t n = 0;
	size_t i;

	for (i = 0; i < D_ARRAY_SIZE(gurt_table) && n < max; i++)
		out[n++] = &gurt_table[i];
	for (i = 0; i < D_ARRAY_SIZE(daos_table) && n < max; i++)
		out[n++] = &daos_table[i];
	return n;
}

#define ALL_MAX (D_ARRAY_SIZE(gurt_table) + D_ARRAY_SIZE(daos_table))

/* Values, names and descriptions are all unique; names and texts are what the table says. */
static void
t_unique_names_and_descs(void **state)
{
	const struct err_entry *all[ALL_MAX];
	size_t n;
	size_t i;
	size_t j;

	(void)state;
	n = all_entries(all, ALL_MAX);
	assert_int_equal(n, ALL_MAX);

	for (i = 0; i < n; i++) {
		const struct err_entry *e = all[i];

		assert_true(e->ee_value > 0);
		assert_int_equal(strncmp(e->ee_name, "DER_", 4), 0);
		assert_string_equal(d_errstr(e->ee_value), e->ee_name);
		assert_string_equal(d_errstr(-e->ee_value), e->ee_name);
		assert_non_null(e->ee_desc);
		assert_true(strlen(e->ee_desc) > 0);
		assert_string_equal(d_errdesc(e->ee_value), e->ee_desc);
		assert_string_equal(d_errdesc(-e->ee_value), e->ee_desc);

		for (j = i + 1; j < n; j++) {
			assert_int_not_equal(e->ee_value, all[j]->ee_value);
			assert_string_not_equal(e->ee_name, all[j]->ee_name);
			assert_string_not_equal(e->ee_desc, all[j]->ee_desc);
		}
	}
}

/* The numbers applications compile in (API.md), plus a sample pinned against DAOS 2.x. */
static void
t_fixed_values(void **state)
{
	(void)state;
	assert_int_equal(DER_SUCCESS, 0);
	assert_int_equal(DER_NO_PERM, 1001);
	assert_int_equal(DER_NO_HDL, 1002);
	assert_int_equal(DER_INVAL, 1003);
	assert_int_equal(DER_EXIST, 1004);
	assert_int_equal(DER_NONEXIST, 1005);
	assert_int_equal(DER_UNREACH, 1006);
	assert_int_equal(DER_NOSPACE, 1007);
	assert_int_equal(DER_ALREADY, 1008);
	assert_int_equal(DER_NOMEM, 1009);
	assert_int_equal(DER_NOSYS, 1010);
	assert_int_equal(DER_TIMEDOUT, 1011);
	assert_int_equal(DER_BUSY, 1012);
	assert_int_equal(DER_AGAIN, 1013);
	assert_int_equal(DER_UNINIT, 1015);
	assert_int_equal(DER_NOTDIR, 1027);
	assert_int_equal(DER_IO, 2001);
	assert_int_equal(DER_ENOENT, 2003);

	assert_int_equal(DER_PROTO, 1014);
	assert_int_equal(DER_TRUNC, 1016);
	assert_int_equal(DER_OVERFLOW, 1017);
	assert_int_equal(DER_CANCELED, 1018);
	assert_int_equal(DER_OOG, 1019);
	assert_int_equal(DER_HG, 1020);
	assert_int_equal(DER_MISC, 1025);
	assert_int_equal(DER_BADPATH, 1026);
	assert_int_equal(DER_EXCLUDED, 1032);
	assert_int_equal(DER_EVICTED, 1032);
	assert_int_equal(DER_DOS, 1034);
	assert_int_equal(DER_BAD_TARGET, 1035);
	assert_int_equal(DER_HLC_SYNC, 1037);
	assert_int_equal(DER_HG_FATAL, 1045);
	assert_int_equal(DER_NOTYPE, 2004);
	assert_int_equal(DER_STALE, 2007);
	assert_int_equal(DER_NOTLEADER, 2008);
	assert_int_equal(DER_KEY2BIG, 2012);
	assert_int_equal(DER_REC2BIG, 2013);
	assert_int_equal(DER_EQ_BUSY, 2015);
	assert_int_equal(DER_SHUTDOWN, 2017);
	assert_int_equal(DER_INPROGRESS, 2018);
	assert_int_equal(DER_NOTREPLICA, 2020);
	assert_int_equal(DER_CSUM, 2021);
	assert_int_equal(DER_TX_RESTART, 2025);
	assert_int_equal(DER_DATA_LOSS, 2026);
	assert_int_equal(DER_TX_BUSY, 2028);
	assert_int_equal(DER_AGENT_INCOMPAT, 2029);
	assert_int_equal(DER_TX_UNCERTAIN, 2033);
	assert_int_equal(DER_NOTSUPPORTED, 2037);
	assert_int_equal(DER_NO_SERVICE, 2039);
	assert_int_equal(DER_NVME_IO, 2042);
	assert_int_equal(DER_DIV_BY_ZERO, 2047);
	assert_int_equal(DER_UNKNOWN, 501000);
}

/* Codes outside the table, including the range markers and the extremes of int. */
static void
t_unknown_codes(void **state)
{
	static const int unknown[] = {
	    1,
	    999,
	    DER_ERR_GURT_BASE,
	    DER_ERR_GURT_LIMIT,
	    1999,
	    DER_ERR_DAOS_BASE,
	    DER_ERR_DAOS_LIMIT,
	    3000,
	    DER_UNKNOWN,
	    INT_MAX,
	    INT_MIN,
	};
	size_t i;

	(void)state;
	for (i = 0; i < D_ARRAY_SIZE(unknown); i++) {
		int rc = unknown[i];

		assert_string_equal(d_errstr(rc), "DER_UNKNOWN");
		assert_string_not_equal(d_errdesc(rc), "");
		assert_int_equal(d_der2errno(rc), EIO);
		if (rc != INT_MIN) {
			assert_string_equal(d_errstr(-rc), "DER_UNKNOWN");
			assert_string_equal(d_errdesc(-rc), d_errdesc(rc));
			assert_int_equal(d_der2errno(-rc), EIO);
		}
	}
	/* DER_UNKNOWN's text is the generic one, not borrowed from a real code. */
	assert_string_not_equal(d_errdesc(DER_UNKNOWN), d_errdesc(DER_MISC));
}

static void
t_success(void **state)
{
	(void)state;
	assert_string_equal(d_errstr(0), "DER_SUCCESS");
	assert_string_equal(d_errstr(-DER_SUCCESS), "DER_SUCCESS");
	assert_string_not_equal(d_errdesc(0), "");
	assert_int_equal(d_errno2der(0), 0);
	assert_int_equal(d_der2errno(0), 0);
}

/* errnos that map to a DER_* code and back to themselves. */
static const struct {
	int em_errno;
	int em_der;
} round_trip[] = {
    {EPERM, DER_NO_PERM},
    {ENOMEM, DER_NOMEM},
    {ENOSPC, DER_NOSPACE},
    {EEXIST, DER_EXIST},
    {ENOENT, DER_NONEXIST},
    {ECANCELED, DER_CANCELED},
    {EBUSY, DER_BUSY},
    {EOVERFLOW, DER_OVERFLOW},
    {ENOSYS, DER_NOSYS},
    {EOPNOTSUPP, DER_NOTSUPPORTED},
    {ETIMEDOUT, DER_TIMEDOUT},
    {EAGAIN, DER_AGAIN},
    {EPROTO, DER_PROTO},
    {EINVAL, DER_INVAL},
    {ENOTDIR, DER_NOTDIR},
    {ENAMETOOLONG, DER_EXCEEDS_PATH_LEN},
    {EIO, DER_IO},
    {E2BIG, DER_REC2BIG},
    {EALREADY, DER_ALREADY},
    {EINPROGRESS, DER_INPROGRESS},
    {EHOSTUNREACH, DER_UNREACH},
    {ESTALE, DER_STALE},
    {ERESTART, DER_TX_RESTART},
};

static void
t_errno_round_trip(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < D_ARRAY_SIZE(round_trip); i++) {
		int e = round_trip[i].em_errno;
		int der = round_trip[i].em_der;

		assert_int_equal(d_errno2der(e), -der);
		/* Some libraries hand back -errno: the sign does not matter. */
		assert_int_equal(d_errno2der(-e), -der);
		assert_int_equal(d_der2errno(-der), e);
		assert_int_equal(d_der2errno(der), e);
		assert_int_equal(d_der2errno(d_errno2der(e)), e);
	}
}

/* errnos that share a code with another errno, so only the forward direction is exact. */
static void
t_errno_aliases(void **state)
{
	(void)state;
	assert_int_equal(d_errno2der(EACCES), -DER_NO_PERM);
	assert_int_equal(d_errno2der(EDQUOT), -DER_NOSPACE);
	assert_int_equal(d_errno2der(ENOTEMPTY), -DER_EXIST);
	assert_int_equal(d_errno2der(EBADF), -DER_NO_HDL);
	assert_int_equal(d_errno2der(ENOTSUP), -DER_NOTSUPPORTED);
	assert_int_equal(d_errno2der(EWOULDBLOCK), -DER_AGAIN);
	assert_int_equal(d_errno2der(EISDIR), -DER_INVAL);
	assert_int_equal(d_errno2der(EFBIG), -DER_REC2BIG);
	assert_int_equal(d_errno2der(ECONNREFUSED), -DER_UNREACH);
	assert_int_equal(d_errno2der(ENETUNREACH), -DER_UNREACH);
	assert_int_equal(d_errno2der(EHOSTDOWN), -DER_UNREACH);

	/* Several codes collapse onto one errno on the way out. */
	assert_int_equal(d_der2errno(-DER_ENOENT), ENOENT);
	assert_int_equal(d_der2errno(-DER_NO_HDL), EINVAL);
	assert_int_equal(d_der2errno(-DER_KEY2BIG), E2BIG);
	assert_int_equal(d_der2errno(-DER_EQ_BUSY), EBUSY);
	assert_int_equal(d_der2errno(-DER_BADPATH), ENOTDIR);
	assert_int_equal(d_der2errno(-DER_EP_RO), EPERM);
	assert_int_equal(d_der2errno(-DER_NOTYPE), EINVAL);
}

/* errnos without a counterpart become -DER_MISC; codes without one become EIO. */
static void
t_unmapped(void **state)
{
	const struct err_entry *all[ALL_MAX];
	size_t n;
	size_t i;

	(void)state;
	assert_int_equal(d_errno2der(EFAULT), -DER_MISC);
	assert_int_equal(d_errno2der(ENXIO), -DER_MISC);
	assert_int_equal(d_errno2der(ENODEV), -DER_MISC);
	assert_int_equal(d_errno2der(9999), -DER_MISC);
	assert_int_equal(d_errno2der(INT_MIN), -DER_MISC);
	assert_int_equal(d_der2errno(-DER_MISC), EIO);
	assert_int_equal(d_der2errno(-DER_HLC_SYNC), EIO);
	assert_int_equal(d_der2errno(-DER_CSUM), EIO);

	/* Every code converts to some positive errno, and every result converts back to a code. */
	n = all_entries(all, ALL_MAX);
	for (i = 0; i < n; i++) {
		int e = d_der2errno(-all[i]->ee_value);

		assert_true(e > 0);
		assert_true(d_errno2der(e) < 0);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(t_ranges_contiguous), cmocka_unit_test(t_unique_names_and_descs),
	    cmocka_unit_test(t_fixed_values),      cmocka_unit_test(t_unknown_codes),
	    cmocka_unit_test(t_success),           cmocka_unit_test(t_errno_round_trip),
	    cmocka_unit_test(t_errno_aliases),     cmocka_unit_test(t_unmapped),
	};

	return cmocka_run_group_tests_name("gurt_errno", tests, NULL, NULL);
}
