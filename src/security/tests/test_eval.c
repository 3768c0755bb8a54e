/*
 * test_eval.c: unit tests of ACL evaluation (who gets which permissions), the default pool
 * and container ACLs, and the permission -> capability mapping of pool and container
 * handles, as tables of cases.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include <daos_cont.h>
#include <daos_types.h>
#include <daos/security.h>
#include <gurt/common.h>

#define R DAOS_ACL_PERM_READ
#define W DAOS_ACL_PERM_WRITE
#define C DAOS_ACL_PERM_CREATE_CONT
#define D DAOS_ACL_PERM_DEL_CONT
#define t DAOS_ACL_PERM_GET_PROP
#define T DAOS_ACL_PERM_SET_PROP
#define a DAOS_ACL_PERM_GET_ACL
#define A DAOS_ACL_PERM_SET_ACL
#define O DAOS_ACL_PERM_SET_OWNER

static struct daos_acl *
acl_of(const char **strs)
{
	struct daos_acl *acl = NULL;
	size_t nr = 0;

	while (strs[nr] != NULL)
		nr++;
	assert_int_equal(daos_acl_from_strs(strs, nr, &acl), 0);
	return acl;
}

struct eval_case {
	const char *ec_what;
	const char *ec_user;
	const char *ec_groups[4]; /* NULL-terminated */
	uint64_t ec_perms;
	bool ec_owner;
};

static void
run_cases(const char **acl_strs, const struct eval_case *cases, size_t nr, uint64_t min_owner)
{
	const struct d_ownership own = {"owner@", "ogroup@"};
	struct daos_acl *acl = acl_of(acl_strs);
	size_t i;

	for (i = 0; i < nr; i++) {
		struct sec_user user = {cases[i].ec_user, cases[i].ec_groups, 0};
		uint64_t perms = ~0ULL;
		bool is_owner = !cases[i].ec_owner;

		while (user.su_nr_groups < 4 && cases[i].ec_groups[user.su_nr_groups] != NULL)
			user.su_nr_groups++;
		assert_int_equal(sec_acl_get_perms(acl, &own, &user, min_owner, &perms, &is_owner),
				 0);
		if (perms != cases[i].ec_perms)
			fail_msg("%s: perms %#lx, expected %#lx", cases[i].ec_what,
				 (unsigned long)perms, (unsigned long)cases[i].ec_perms);
		assert_int_equal(is_owner, cases[i].ec_owner);
	}
	daos_acl_free(acl);
}

static void
test_eval_full(void **state)
{
	const char *acl[] = {
	    "A::OWNER@:rwdtTaAo", "A::alice@:rt", "A::owner@:r",    "A:G:GROUP@:rw",
	    "A:G:staff@:tT",      "A:G:ops@:d",   "A::EVERYONE@:t", NULL};
	const struct eval_case cases[] = {
	    /* The owner entry wins over everything, even a user entry naming the owner. */
	    {"owner", "owner@", {"ogroup@", "staff@"}, R | W | D | t | T | a | A | O, true},
	    /* A user entry wins over groups. */
	    {"named user in groups", "alice@", {"ogroup@", "staff@"}, R | t, false},
	    /* Groups: union of the owner group and every named group. */
	    {"owner group only", "bob@", {"ogroup@"}, R | W, false},
	    {"owner group + staff + ops",
	     "bob@",
	     {"ops@", "ogroup@", "staff@"},
	     R | W | t | T | D,
	     false},
	    {"named group", "carol@", {"staff@"}, t | T, false},
	    {"two named groups", "carol@", {"staff@", "ops@"}, t | T | D, false},
	    /* No match: everyone. */
	    {"stranger", "eve@", {"nobody@"}, t, false},
	    {"stranger without groups", "eve@", {NULL}, t, false},
	    /* A user named like a group gets nothing from the group entry. */
	    {"user named like a group", "staff@", {NULL}, t, false},
	    /* Domains are part of the name. */
	    {"user with a domain", "alice@lab", {NULL}, t, false},
	};

	(void)state;
	run_cases(acl, cases, D_ARRAY_SIZE(cases), 0);
}

static void
test_eval_fallthrough(void **state)
{
	/* No OWNER@ entry: the owner is evaluated like anyone, by name, then groups. */
	const char *acl1[] = {"A::owner@:r", "A:G:GROUP@:rw", "A::EVERYONE@:t", NULL};
	const struct eval_case cases1[] = {
	    {"owner by name", "owner@", {"ogroup@"}, R, true},
	    {"group member", "x@", {"ogroup@"}, R | W, false},
	    {"other", "y@", {"other@"}, t, false},
	};
	/* No everyone entry: strangers get nothing. Groups that do not match do not count. */
	const char *acl2[] = {"A::OWNER@:rw", "A:G:staff@:r", NULL};
	const struct eval_case cases2[] = {
	    {"owner", "owner@", {NULL}, R | W, true},
	    {"owner group without entry", "x@", {"ogroup@"}, 0, false},
	    {"staff", "x@", {"staff@"}, R, false},
	    {"stranger", "z@", {NULL}, 0, false},
	};
	/* A matching group entry with no permissions still stops the walk before EVERYONE@. */
	const char *acl3[] = {"A:G:GROUP@:", "A::EVERYONE@:rw", NULL};
	const struct eval_case cases3[] = {
	    {"empty group entry", "x@", {"ogroup@"}, 0, false},
	    {"not in group", "x@", {"else@"}, R | W, false},
	    /* The owner without an OWNER@ entry but in the owner group. */
	    {"owner via group", "owner@", {"ogroup@"}, 0, true},
	};
	/* Audit/alarm permissions grant nothing. */
	const char *acl4[] = {"U:S:OWNER@:rw", "AU:F:EVERYONE@:r", NULL};
	const struct eval_case cases4[] = {
	    {"owner audit only", "owner@", {NULL}, 0, true},
	    {"everyone allow+audit", "x@", {NULL}, R, false},
	};

	(void)state;
	run_cases(acl1, cases1, D_ARRAY_SIZE(cases1), 0);
	run_cases(acl2, cases2, D_ARRAY_SIZE(cases2), 0);
	run_cases(acl3, cases3, D_ARRAY_SIZE(cases3), 0);
	run_cases(acl4, cases4, D_ARRAY_SIZE(cases4), 0);
}

static void
test_eval_owner_min(void **state)
{
	const char *acl[] = {"A::OWNER@:r", "A::EVERYONE@:r", NULL};
	const struct eval_case cases[] = {
	    {"owner gets a and A", "owner@", {NULL}, R | a | A, true},
	    {"others do not", "x@", {NULL}, R, false},
	};

	(void)state;
	run_cases(acl, cases, D_ARRAY_SIZE(cases), SEC_CONT_OWNER_MIN_PERMS);
}

static void
test_eval_bad_input(void **state)
{
	const char *strs[] = {"A::OWNER@:r", NULL};
	struct daos_acl *acl = acl_of(strs);
	struct d_ownership own = {"owner@", "grp@"};
	struct sec_user user = {"u@", NULL, 0};
	uint64_t perms;

	(void)state;
	assert_int_equal(sec_acl_get_perms(NULL, &own, &user, 0, &perms, NULL), -DER_INVAL);
	assert_int_equal(sec_acl_get_perms(acl, NULL, &user, 0, &perms, NULL), -DER_INVAL);
	own.user = "bad";
	assert_int_equal(sec_acl_get_perms(acl, &own, &user, 0, &perms, NULL), -DER_INVAL);
	own.user = "owner@";
	user.su_nr_groups = 1;
	assert_int_equal(sec_acl_get_perms(acl, &own, &user, 0, &perms, NULL), -DER_INVAL);
	user.su_nr_groups = 0;
	acl->dal_ver = 9;
	assert_int_equal(sec_acl_get_perms(acl, &own, &user, 0, &perms, NULL), -DER_INVAL);
	daos_acl_free(acl);
}

static void
check_acl_strs(struct daos_acl *acl, const char *s0, const char *s1)
{
	char **strs;
	size_t nr;

	assert_non_null(acl);
	assert_int_equal(daos_acl_to_strs(acl, &strs, &nr), 0);
	assert_int_equal(nr, 2);
	assert_string_equal(strs[0], s0);
	assert_string_equal(strs[1], s1);
	D_FREE(strs[0]);
	D_FREE(strs[1]);
	D_FREE(strs);
}

static void
test_default_acls(void **state)
{
	struct daos_acl *acl;

	(void)state;
	acl = sec_acl_default_pool();
	check_acl_strs(acl, "A::OWNER@:rw", "A:G:GROUP@:rw");
	assert_int_equal(daos_acl_pool_validate(acl), 0);
	daos_acl_free(acl);
	acl = sec_acl_default_cont();
	check_acl_strs(acl, "A::OWNER@:rwdtTaAo", "A:G:GROUP@:rwtT");
	assert_int_equal(daos_acl_cont_validate(acl), 0);
	daos_acl_free(acl);
}

static void
test_pool_capas(void **state)
{
	static const struct {
		uint64_t flags;
		uint64_t perms;
		uint64_t capas;
	} cases[] = {
	    {DAOS_PC_RO, R, SEC_POOL_CAPA_READ},
	    {DAOS_PC_RO, t, SEC_POOL_CAPA_READ},
	    {DAOS_PC_RO, R | W, SEC_POOL_CAPA_READ},
	    {DAOS_PC_RO, W, 0},
	    {DAOS_PC_RO, 0, 0},
	    {DAOS_PC_RW, R | W, SEC_POOL_CAPAS_ALL},
	    {DAOS_PC_EX, R | W, SEC_POOL_CAPAS_ALL},
	    {DAOS_PC_RW, R, 0}, /* read-write asked, only read granted: nothing */
	    {DAOS_PC_RW, W, 0}, /* write without read: nothing */
	    {DAOS_PC_RW, R | C, SEC_POOL_CAPA_READ | SEC_POOL_CAPA_CREATE_CONT},
	    {DAOS_PC_RW, t | D, SEC_POOL_CAPA_READ | SEC_POOL_CAPA_DEL_CONT},
	};
	uint64_t capas;
	size_t i;

	(void)state;
	for (i = 0; i < D_ARRAY_SIZE(cases); i++) {
		assert_int_equal(sec_pool_capas(cases[i].flags, cases[i].perms, &capas), 0);
		if (capas != cases[i].capas)
			fail_msg("pool case %zu: capas %#lx, expected %#lx", i,
				 (unsigned long)capas, (unsigned long)cases[i].capas);
	}
	assert_true(sec_pool_can_connect(SEC_POOL_CAPA_READ));
	assert_false(sec_pool_can_connect(SEC_POOL_CAPA_CREATE_CONT));
	assert_int_equal(sec_pool_capas(DAOS_PC_RO | DAOS_PC_RW, R, &capas), -DER_INVAL);
	assert_int_equal(sec_pool_capas(0, R, &capas), -DER_INVAL);
	assert_int_equal(sec_pool_capas(1U << 5, R, &capas), -DER_INVAL);
}

static void
test_cont_capas(void **state)
{
	const uint64_t all_rw = SEC_CONT_CAPA_READ_DATA | SEC_CONT_CAPA_WRITE_DATA |
				SEC_CONT_CAPA_GET_PROP | SEC_CONT_CAPA_SET_PROP |
				SEC_CONT_CAPA_GET_ACL | SEC_CONT_CAPA_SET_ACL |
				SEC_CONT_CAPA_SET_OWNER | SEC_CONT_CAPA_DELETE;
	static const struct {
		uint64_t flags;
		uint64_t perms;
		bool owner;
		uint64_t capas;
	} cases[] = {
	    {DAOS_COO_RO, R, false, SEC_CONT_CAPA_READ_DATA},
	    {DAOS_COO_RO, R | W | t | T, false, SEC_CONT_CAPA_READ_DATA | SEC_CONT_CAPA_GET_PROP},
	    {DAOS_COO_RO, W, false, 0},
	    {DAOS_COO_RW, R | W, false, SEC_CONT_CAPA_READ_DATA | SEC_CONT_CAPA_WRITE_DATA},
	    {DAOS_COO_RW, R, false, 0},
	    {DAOS_COO_RW, W, false, 0},
	    {DAOS_COO_RW, t | T, false, SEC_CONT_CAPA_GET_PROP | SEC_CONT_CAPA_SET_PROP},
	    {DAOS_COO_RW, a | D, false, SEC_CONT_CAPA_GET_ACL | SEC_CONT_CAPA_DELETE},
	    /* Exclusive open and evict-all: the owner only, and only when asked. */
	    {DAOS_COO_EX, R | W, true,
	     SEC_CONT_CAPA_READ_DATA | SEC_CONT_CAPA_WRITE_DATA | SEC_CONT_CAPA_OPEN_EX},
	    {DAOS_COO_EX, R | W, false, SEC_CONT_CAPA_READ_DATA | SEC_CONT_CAPA_WRITE_DATA},
	    {DAOS_COO_RW | DAOS_COO_EVICT_ALL, R | W, true,
	     SEC_CONT_CAPA_READ_DATA | SEC_CONT_CAPA_WRITE_DATA | SEC_CONT_CAPA_EVICT_ALL},
	    {DAOS_COO_RW, R | W, true, SEC_CONT_CAPA_READ_DATA | SEC_CONT_CAPA_WRITE_DATA},
	    {DAOS_COO_RO | DAOS_COO_EVICT_ALL, R, true, SEC_CONT_CAPA_READ_DATA},
	    /* The owner's implicit capabilities alone do not make a read-write open. */
	    {DAOS_COO_RW | DAOS_COO_EVICT_ALL, 0, true, 0},
	};
	uint64_t capas;
	size_t i;

	(void)state;
	for (i = 0; i < D_ARRAY_SIZE(cases); i++) {
		assert_int_equal(
		    sec_cont_capas(cases[i].flags, cases[i].perms, cases[i].owner, &capas), 0);
		if (capas != cases[i].capas)
			fail_msg("cont case %zu: capas %#lx, expected %#lx", i,
				 (unsigned long)capas, (unsigned long)cases[i].capas);
	}
	assert_int_equal(sec_cont_capas(DAOS_COO_RW, DAOS_ACL_PERM_CONT_ALL, false, &capas), 0);
	assert_int_equal(capas, all_rw);
	assert_true(sec_cont_can_open(SEC_CONT_CAPA_GET_PROP));
	assert_false(sec_cont_can_open(SEC_CONT_CAPA_WRITE_DATA));
	assert_int_equal(sec_cont_capas(DAOS_COO_RO | DAOS_COO_RW, R, false, &capas), -DER_INVAL);
	assert_int_equal(sec_cont_capas(0, R, false, &capas), -DER_INVAL);
	assert_int_equal(sec_cont_capas(DAOS_COO_RO | (1U << 12), R, false, &capas), -DER_INVAL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_eval_full),      cmocka_unit_test(test_eval_fallthrough),
	    cmocka_unit_test(test_eval_owner_min), cmocka_unit_test(test_eval_bad_input),
	    cmocka_unit_test(test_default_acls),   cmocka_unit_test(test_pool_capas),
	    cmocka_unit_test(test_cont_capas),
	};

	return cmocka_run_group_tests_name("security_eval", tests, NULL, NULL);
}
