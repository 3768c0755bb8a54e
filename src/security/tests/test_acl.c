/*
 * test_acl.c: unit tests of the ACL API of daos_security.h: entry text parse/format with
 * many valid and invalid strings (DAOS's rules), the ACL list operations, validation of
 * corrupt binary ACLs, the verbose and file forms, principals, and a seeded random
 * round-trip (build random valid entries, format, parse, compare). Set D_TEST_SEED to
 * replay a printed seed.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <daos_security.h>
#include <gurt/common.h>
#include <d_test.h>

static void
check_roundtrip(const char *in, const char *expect_out)
{
	char buf[DAOS_ACL_MAX_ACE_STR_LEN + 1];
	struct daos_ace *ace = NULL;
	int rc;

	rc = daos_ace_from_str(in, &ace);
	if (rc != 0)
		fail_msg("'%s' should parse, got %d", in, rc);
	assert_true(daos_ace_is_valid(ace));
	assert_int_equal(daos_ace_to_str(ace, buf, sizeof(buf)), 0);
	if (strcmp(buf, expect_out) != 0)
		fail_msg("'%s' formatted as '%s', expected '%s'", in, buf, expect_out);
	daos_ace_free(ace);
}

static void
test_ace_str_valid(void **state)
{
	static const char *const same[] = {
	    "A::OWNER@:rwdtTaAo",
	    "A:G:GROUP@:rw",
	    "A::EVERYONE@:r",
	    "A::EVERYONE@:",
	    "A::user@:rw",
	    "A::user@domain.example.com:rwcdtTaAo",
	    "A:G:group@:rw",
	    "A:G:group@domain:t",
	    "U:S:user@:rw",
	    "U:F:user@:rw",
	    "U:SF:user@:rw",
	    "L:F:OWNER@:w",
	    "AUL:SF:EVERYONE@:r",
	    "AU:GS:GROUP@:rw",
	    "A:P:user@:r",
	    "A:GP:g1@:r",
	    "A::a@:r",
	    "A::first.last@:r",
	    "A::name-with_chars.123@:rw",
	};
	size_t i;

	(void)state;
	for (i = 0; i < D_ARRAY_SIZE(same); i++)
		check_roundtrip(same[i], same[i]);

	/* Letters in any order and repeated come out canonical. */
	check_roundtrip("A::OWNER@:oAaTtdcwr", "A::OWNER@:rwcdtTaAo");
	check_roundtrip("AA::user@:rrww", "A::user@:rw");
	check_roundtrip("LUA:FS:EVERYONE@:wr", "AUL:SF:EVERYONE@:rw");
	check_roundtrip("A:PG:grp@:r", "A:GP:grp@:r");
}

static void
test_ace_str_invalid(void **state)
{
	static const char *const bad[] = {
	    "",
	    ":",
	    ":::",
	    "A::OWNER@",          /* three fields */
	    "A::OWNER@:rw:",      /* five fields */
	    "A::OWNER@:rw:x",     /* five fields */
	    "A:OWNER@:rw",        /* three fields */
	    "::OWNER@:rw",        /* no access type */
	    "X::OWNER@:rw",       /* unknown access type */
	    "a::OWNER@:rw",       /* lower case access type */
	    "A:X:OWNER@:rw",      /* unknown flag */
	    "A::OWNER@:rwx",      /* unknown permission */
	    "A::OWNER@:R",        /* upper case r is not a permission */
	    "A:::rw",             /* no principal */
	    "A::OWNER:rw",        /* no @ */
	    "A::user:rw",         /* no @ */
	    "A::@:rw",            /* empty name */
	    "A::@domain:rw",      /* empty name */
	    "A::user@dom@ain:rw", /* two @ */
	    "A::GROUP@:rw",       /* owner group without G */
	    "A:G:OWNER@:rw",      /* G on a user principal */
	    "A:G:EVERYONE@:rw",   /* G on everyone */
	    "A:G:user@:rw",       /* fine as a group... */
	    "A:S:user@:rw",       /* S without audit/alarm */
	    "A:F:user@:rw",       /* F without audit/alarm */
	    "U::user@:rw",        /* audit without S/F */
	    "L::user@:rw",        /* alarm without S/F */
	    " A::OWNER@:rw",      /* leading space */
	    "A::OWNER@:rw ",      /* trailing space */
	    "A: :OWNER@:rw",      /* space flag */
	};
	struct daos_ace *ace = NULL;
	char longname[DAOS_ACL_MAX_ACE_STR_LEN + 64];
	size_t i;

	(void)state;
	for (i = 0; i < D_ARRAY_SIZE(bad); i++) {
		if (strcmp(bad[i], "A:G:user@:rw") == 0) {
			/* Control: a named group with G parses. */
			assert_int_equal(daos_ace_from_str(bad[i], &ace), 0);
			daos_ace_free(ace);
			continue;
		}
		if (daos_ace_from_str(bad[i], &ace) != -DER_INVAL)
			fail_msg("'%s' should be refused", bad[i]);
	}
	assert_int_equal(daos_ace_from_str(NULL, &ace), -DER_INVAL);
	assert_int_equal(daos_ace_from_str("A::OWNER@:rw", NULL), -DER_INVAL);

	/* A name of 255 characters is the longest. */
	memset(longname, 0, sizeof(longname));
	strcpy(longname, "A::");
	memset(longname + 3, 'n', DAOS_ACL_MAX_PRINCIPAL_LEN - 1);
	strcat(longname, "@:rw");
	assert_int_equal(daos_ace_from_str(longname, &ace), 0);
	assert_int_equal(strlen(ace->dae_principal), DAOS_ACL_MAX_PRINCIPAL_LEN);
	daos_ace_free(ace);
	strcpy(longname, "A::");
	memset(longname + 3, 'n', DAOS_ACL_MAX_PRINCIPAL_LEN);
	strcat(longname, "@:rw");
	assert_int_equal(daos_ace_from_str(longname, &ace), -DER_INVAL);
	/* Longer than the longest entry text: refused. */
	memset(longname, 'r', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	memcpy(longname, "A::u@:", 6);
	assert_int_equal(daos_ace_from_str(longname, &ace), -DER_INVAL);
}

static void
test_ace_fields(void **state)
{
	struct daos_ace *ace;

	(void)state;
	/* Without G a name is a user. */
	assert_int_equal(daos_ace_from_str("AU:S:grp@dom:rwT", &ace), 0);
	assert_int_equal(ace->dae_principal_type, DAOS_ACL_USER);
	daos_ace_free(ace);
	assert_int_equal(daos_ace_from_str("AU:GS:grp@dom:rwT", &ace), 0);
	assert_int_equal(ace->dae_principal_type, DAOS_ACL_GROUP);
	assert_string_equal(ace->dae_principal, "grp@dom");
	assert_int_equal(ace->dae_principal_len, 8);
	assert_int_equal(ace->dae_access_types, DAOS_ACL_ACCESS_ALLOW | DAOS_ACL_ACCESS_AUDIT);
	assert_int_equal(ace->dae_access_flags, DAOS_ACL_FLAG_GROUP | DAOS_ACL_FLAG_ACCESS_SUCCESS);
	assert_int_equal(ace->dae_allow_perms,
			 DAOS_ACL_PERM_READ | DAOS_ACL_PERM_WRITE | DAOS_ACL_PERM_SET_PROP);
	assert_int_equal(ace->dae_audit_perms, ace->dae_allow_perms);
	assert_int_equal(ace->dae_alarm_perms, 0);
	assert_int_equal(daos_ace_get_size(ace), 40);
	assert_string_equal(daos_ace_get_principal_str(ace), "grp@dom");
	daos_ace_free(ace);

	assert_int_equal(daos_ace_from_str("A::OWNER@:rwcdtTaAo", &ace), 0);
	assert_int_equal(ace->dae_principal_type, DAOS_ACL_OWNER);
	assert_int_equal(ace->dae_principal_len, 0);
	assert_int_equal(ace->dae_allow_perms, DAOS_ACL_PERM_ALL);
	assert_string_equal(daos_ace_get_principal_str(ace), "OWNER@");
	assert_int_equal(daos_ace_get_size(ace), 32);
	daos_ace_free(ace);

	/* Each permission letter is its bit. */
	{
		static const struct {
			const char *s;
			uint64_t bit;
		} letters[] = {
		    {"A::u@:r", DAOS_ACL_PERM_READ},        {"A::u@:w", DAOS_ACL_PERM_WRITE},
		    {"A::u@:c", DAOS_ACL_PERM_CREATE_CONT}, {"A::u@:d", DAOS_ACL_PERM_DEL_CONT},
		    {"A::u@:t", DAOS_ACL_PERM_GET_PROP},    {"A::u@:T", DAOS_ACL_PERM_SET_PROP},
		    {"A::u@:a", DAOS_ACL_PERM_GET_ACL},     {"A::u@:A", DAOS_ACL_PERM_SET_ACL},
		    {"A::u@:o", DAOS_ACL_PERM_SET_OWNER},
		};
		size_t i;

		for (i = 0; i < D_ARRAY_SIZE(letters); i++) {
			assert_int_equal(daos_ace_from_str(letters[i].s, &ace), 0);
			assert_int_equal(ace->dae_allow_perms, letters[i].bit);
			daos_ace_free(ace);
		}
	}
}

static void
test_ace_to_str_refuses(void **state)
{
	struct daos_ace *ace;
	char buf[DAOS_ACL_MAX_ACE_STR_LEN + 1];
	char small[8];

	(void)state;
	ace = daos_ace_create(DAOS_ACL_USER, "someone@");
	assert_non_null(ace);
	/* No access type: not valid, no text form. */
	assert_int_equal(daos_ace_to_str(ace, buf, sizeof(buf)), -DER_INVAL);
	ace->dae_access_types = DAOS_ACL_ACCESS_ALLOW | DAOS_ACL_ACCESS_AUDIT;
	ace->dae_access_flags = DAOS_ACL_FLAG_ACCESS_FAIL;
	ace->dae_allow_perms = DAOS_ACL_PERM_READ;
	ace->dae_audit_perms = DAOS_ACL_PERM_WRITE;
	/* Different permissions per access type cannot be written as one field. */
	assert_int_equal(daos_ace_to_str(ace, buf, sizeof(buf)), -DER_INVAL);
	ace->dae_audit_perms = DAOS_ACL_PERM_READ;
	assert_int_equal(daos_ace_to_str(ace, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "AU:F:someone@:r");
	assert_int_equal(daos_ace_to_str(ace, small, sizeof(small)), -DER_TRUNC);
	assert_string_equal(small, "AU:F:so");
	assert_int_equal(daos_ace_to_str(ace, NULL, 10), -DER_INVAL);
	assert_int_equal(daos_ace_to_str(ace, buf, 0), -DER_INVAL);
	daos_ace_free(ace);

	assert_null(daos_ace_create(DAOS_ACL_USER, NULL));
	assert_null(daos_ace_create(DAOS_ACL_GROUP, ""));
	assert_null(daos_ace_create((enum daos_acl_principal_type)9, "x@"));
	ace = daos_ace_create(DAOS_ACL_OWNER_GROUP, "ignored@");
	assert_non_null(ace);
	assert_int_equal(ace->dae_principal_len, 0);
	assert_int_equal(ace->dae_access_flags, DAOS_ACL_FLAG_GROUP);
	daos_ace_free(ace);
}

static void
test_principal(void **state)
{
	enum daos_acl_principal_type type;
	char *name = NULL;
	char longp[DAOS_ACL_MAX_PRINCIPAL_LEN + 2];

	(void)state;
	assert_true(daos_acl_principal_is_valid("user@"));
	assert_true(daos_acl_principal_is_valid("user@domain"));
	assert_true(daos_acl_principal_is_valid("OWNER@"));
	assert_false(daos_acl_principal_is_valid(NULL));
	assert_false(daos_acl_principal_is_valid(""));
	assert_false(daos_acl_principal_is_valid("user"));
	assert_false(daos_acl_principal_is_valid("@"));
	assert_false(daos_acl_principal_is_valid("@domain"));
	assert_false(daos_acl_principal_is_valid("a@b@c"));
	memset(longp, 'x', sizeof(longp));
	longp[DAOS_ACL_MAX_PRINCIPAL_LEN - 1] = '@';
	longp[DAOS_ACL_MAX_PRINCIPAL_LEN] = '\0';
	assert_true(daos_acl_principal_is_valid(longp));
	longp[DAOS_ACL_MAX_PRINCIPAL_LEN] = 'y';
	longp[DAOS_ACL_MAX_PRINCIPAL_LEN + 1] = '\0';
	assert_false(daos_acl_principal_is_valid(longp));

	assert_int_equal(daos_acl_principal_from_str("u:alice@", &type, &name), 0);
	assert_int_equal(type, DAOS_ACL_USER);
	assert_string_equal(name, "alice@");
	D_FREE(name);
	assert_int_equal(daos_acl_principal_from_str("g:staff@lab", &type, &name), 0);
	assert_int_equal(type, DAOS_ACL_GROUP);
	assert_string_equal(name, "staff@lab");
	D_FREE(name);
	assert_int_equal(daos_acl_principal_from_str("OWNER@", &type, &name), 0);
	assert_int_equal(type, DAOS_ACL_OWNER);
	assert_null(name);
	assert_int_equal(daos_acl_principal_from_str("GROUP@", &type, &name), 0);
	assert_int_equal(type, DAOS_ACL_OWNER_GROUP);
	assert_int_equal(daos_acl_principal_from_str("EVERYONE@", &type, &name), 0);
	assert_int_equal(type, DAOS_ACL_EVERYONE);
	assert_int_equal(daos_acl_principal_from_str("alice@", &type, &name), -DER_INVAL);
	assert_int_equal(daos_acl_principal_from_str("u:alice", &type, &name), -DER_INVAL);
	assert_int_equal(daos_acl_principal_from_str("x:alice@", &type, &name), -DER_INVAL);
	assert_int_equal(daos_acl_principal_from_str("u:", &type, &name), -DER_INVAL);
	assert_int_equal(daos_acl_principal_from_str(NULL, &type, &name), -DER_INVAL);
}

static void
test_local_ids(void **state)
{
	uid_t uid;
	gid_t gid;
	char *name = NULL;

	(void)state;
	/* root is uid 0 and group 0 on every Debian system. */
	assert_int_equal(daos_acl_uid_to_principal(0, &name), 0);
	assert_string_equal(name, "root@");
	assert_int_equal(daos_acl_principal_to_uid(name, &uid), 0);
	assert_int_equal(uid, 0);
	D_FREE(name);
	assert_int_equal(daos_acl_gid_to_principal(0, &name), 0);
	assert_string_equal(name, "root@");
	assert_int_equal(daos_acl_principal_to_gid("root@somewhere", &gid), 0);
	assert_int_equal(gid, 0);
	D_FREE(name);
	/* The caller's own uid has a name too (the tests never run as an unknown user). */
	assert_int_equal(daos_acl_uid_to_principal(getuid(), &name), 0);
	assert_int_equal(daos_acl_principal_to_uid(name, &uid), 0);
	assert_int_equal(uid, getuid());
	D_FREE(name);

	assert_int_equal(daos_acl_uid_to_principal(4000000001U, &name), -DER_NONEXIST);
	assert_int_equal(daos_acl_gid_to_principal(4000000001U, &name), -DER_NONEXIST);
	assert_int_equal(daos_acl_principal_to_uid("no-such-user-xyz@", &uid), -DER_NONEXIST);
	assert_int_equal(daos_acl_principal_to_gid("no-such-group-xyz@", &gid), -DER_NONEXIST);
	assert_int_equal(daos_acl_principal_to_uid("bad", &uid), -DER_INVAL);
	assert_int_equal(daos_acl_uid_to_principal(0, NULL), -DER_INVAL);
}

/* An ACL from entry texts (asserts success). */
static struct daos_acl *
acl_of(const char **strs, size_t nr)
{
	struct daos_acl *acl = NULL;

	assert_int_equal(daos_acl_from_strs(strs, nr, &acl), 0);
	return acl;
}

static void
check_strs(struct daos_acl *acl, const char **expect, size_t nr)
{
	char **strs = NULL;
	size_t got = 0;
	size_t i;

	assert_int_equal(daos_acl_to_strs(acl, &strs, &got), 0);
	assert_int_equal(got, nr);
	for (i = 0; i < nr; i++) {
		assert_string_equal(strs[i], expect[i]);
		D_FREE(strs[i]);
	}
	D_FREE(strs);
}

static void
test_acl_order_and_dups(void **state)
{
	const char *in[] = {"A::EVERYONE@:r", "A:G:staff@:rw", "A::bob@:r",
			    "A:G:GROUP@:rw",  "A::alice@:rw",  "A::OWNER@:rwdtTaAo"};
	const char *sorted[] = {"A::OWNER@:rwdtTaAo", "A::bob@:r",     "A::alice@:rw",
				"A:G:GROUP@:rw",      "A:G:staff@:rw", "A::EVERYONE@:r"};
	const char *dup_user[] = {"A::bob@:r", "A::bob@:rw"};
	const char *dup_owner[] = {"A::OWNER@:r", "A::OWNER@:rw"};
	const char *user_and_group[] = {"A::bob@:r", "A:G:bob@:rw"};
	const char *bad_one[] = {"A::OWNER@:rw", "junk"};
	struct daos_acl *acl;

	(void)state;
	/* from_strs sorts by principal type, keeping the order within a type. */
	acl = acl_of(in, D_ARRAY_SIZE(in));
	assert_int_equal(daos_acl_validate(acl), 0);
	check_strs(acl, sorted, D_ARRAY_SIZE(sorted));
	daos_acl_free(acl);

	assert_int_equal(daos_acl_from_strs(dup_user, 2, &acl), -DER_INVAL);
	assert_int_equal(daos_acl_from_strs(dup_owner, 2, &acl), -DER_INVAL);
	/* A user and a group of the same name are different principals. */
	acl = acl_of(user_and_group, 2);
	daos_acl_free(acl);
	assert_int_equal(daos_acl_from_strs(bad_one, 2, &acl), -DER_INVAL);
	assert_int_equal(daos_acl_from_strs(in, 0, &acl), -DER_INVAL);
	assert_int_equal(daos_acl_from_strs(NULL, 1, &acl), -DER_INVAL);
}

/* The entries of an ACL may fill DAOS_ACL_MAX_ACE_LEN bytes, not one more. */
static void
test_acl_size_limit(void **state)
{
	/* "A::uNNNN@:r": a 32-byte header and an 8-byte name, 40 bytes an entry. */
	const size_t fit = DAOS_ACL_MAX_ACE_LEN / 40;
	char(*names)[16];
	const char **strs;
	struct daos_acl *acl = NULL;
	struct daos_ace *ace;
	size_t i;

	(void)state;
	names = calloc(fit + 1, sizeof(*names));
	strs = calloc(fit + 1, sizeof(*strs));
	for (i = 0; i <= fit; i++) {
		snprintf(names[i], sizeof(names[i]), "A::u%04zu@:r", i);
		strs[i] = names[i];
	}
	assert_int_equal(daos_acl_from_strs(strs, fit, &acl), 0);
	assert_int_equal(acl->dal_len, fit * 40);
	assert_int_equal(daos_acl_validate(acl), 0);
	/* One more entry goes past the limit: the ACL is no longer valid. */
	assert_int_equal(daos_ace_from_str(strs[fit], &ace), 0);
	assert_int_equal(daos_acl_add_ace(&acl, ace), 0);
	assert_int_equal(daos_acl_validate(acl), -DER_INVAL);
	daos_ace_free(ace);
	daos_acl_free(acl);
	assert_int_equal(daos_acl_from_strs(strs, fit + 1, &acl), -DER_INVAL);
	free(strs);
	free(names);
}

static void
test_acl_ops(void **state)
{
	const char *in[] = {"A::OWNER@:rw", "A::EVERYONE@:r"};
	const char *after_add[] = {"A::OWNER@:rw", "A::carol@:rwt", "A:G:GROUP@:r",
				   "A::EVERYONE@:r"};
	const char *after_replace[] = {"A::OWNER@:rw", "A::carol@:r", "A:G:GROUP@:r",
				       "A::EVERYONE@:r"};
	const char *after_remove[] = {"A::OWNER@:rw", "A:G:GROUP@:r", "A::EVERYONE@:r"};
	struct daos_acl *acl;
	struct daos_acl *dup;
	struct daos_ace *ace;
	struct daos_ace *found;
	int n;

	(void)state;
	acl = acl_of(in, 2);
	assert_int_equal(daos_acl_get_size(acl), 8 + 64);

	assert_int_equal(daos_ace_from_str("A:G:GROUP@:r", &ace), 0);
	assert_int_equal(daos_acl_add_ace(&acl, ace), 0);
	daos_ace_free(ace);
	assert_int_equal(daos_ace_from_str("A::carol@:rwt", &ace), 0);
	assert_int_equal(daos_acl_add_ace(&acl, ace), 0);
	daos_ace_free(ace);
	assert_int_equal(daos_acl_validate(acl), 0);
	check_strs(acl, after_add, D_ARRAY_SIZE(after_add));

	/* Adding an existing principal replaces its entry in place. */
	assert_int_equal(daos_ace_from_str("A::carol@:r", &ace), 0);
	assert_int_equal(daos_acl_add_ace(&acl, ace), 0);
	daos_ace_free(ace);
	check_strs(acl, after_replace, D_ARRAY_SIZE(after_replace));

	assert_int_equal(daos_acl_get_ace_for_principal(acl, DAOS_ACL_USER, "carol@", &found), 0);
	assert_int_equal(found->dae_allow_perms, DAOS_ACL_PERM_READ);
	assert_int_equal(daos_acl_get_ace_for_principal(acl, DAOS_ACL_USER, "carol", &found),
			 -DER_NONEXIST);
	assert_int_equal(daos_acl_get_ace_for_principal(acl, DAOS_ACL_GROUP, "carol@", &found),
			 -DER_NONEXIST);
	assert_int_equal(daos_acl_get_ace_for_principal(acl, DAOS_ACL_USER, NULL, &found),
			 -DER_INVAL);
	assert_int_equal(daos_acl_get_ace_for_principal(acl, DAOS_ACL_EVERYONE, NULL, &found), 0);

	/* The debugging dumps print every entry, and survive NULL. */
	{
		char *text = NULL;
		size_t text_len = 0;
		FILE *f = open_memstream(&text, &text_len);
		FILE *saved = stdout;

		assert_non_null(f);
		stdout = f;
		daos_acl_dump(acl);
		daos_acl_dump(NULL);
		daos_ace_dump(NULL, 2);
		stdout = saved;
		fclose(f);
		assert_non_null(strstr(text, "Principal Name: \"carol@\""));
		assert_non_null(strstr(text, "Principal Type: Owner Group (2)"));
		assert_non_null(strstr(text, "Write (0x2)"));
		assert_non_null(strstr(text, "\tNULL\n"));
		free(text);
	}

	dup = daos_acl_dup(acl);
	assert_non_null(dup);
	assert_memory_equal(dup, acl, daos_acl_get_size(acl));

	assert_int_equal(daos_acl_remove_ace(&acl, DAOS_ACL_USER, "carol@"), 0);
	check_strs(acl, after_remove, D_ARRAY_SIZE(after_remove));
	assert_int_equal(daos_acl_remove_ace(&acl, DAOS_ACL_USER, "carol@"), -DER_NONEXIST);
	assert_int_equal(daos_acl_remove_ace(&acl, DAOS_ACL_USER, NULL), -DER_INVAL);
	assert_int_equal(daos_acl_remove_ace(&acl, DAOS_ACL_OWNER, NULL), 0);
	assert_int_equal(daos_acl_remove_ace(&acl, DAOS_ACL_OWNER_GROUP, NULL), 0);
	assert_int_equal(daos_acl_remove_ace(&acl, DAOS_ACL_EVERYONE, NULL), 0);
	assert_int_equal(acl->dal_len, 0);
	assert_int_equal(daos_acl_validate(acl), 0);
	assert_null(daos_acl_get_next_ace(acl, NULL));

	/* Iteration visits every entry once. */
	n = 0;
	for (ace = daos_acl_get_next_ace(dup, NULL); ace != NULL;
	     ace = daos_acl_get_next_ace(dup, ace))
		n++;
	assert_int_equal(n, 4);

	/* An invalid entry is not added. */
	ace = daos_ace_create(DAOS_ACL_USER, "zed@");
	assert_int_equal(daos_acl_add_ace(&acl, ace), -DER_INVAL);
	daos_ace_free(ace);

	daos_acl_free(dup);
	daos_acl_free(acl);
	assert_null(daos_acl_dup(NULL));
	assert_int_equal(daos_acl_get_size(NULL), -DER_INVAL);
}

static void
test_acl_validate_binary(void **state)
{
	const char *in[] = {"A::OWNER@:rw", "A::dave@:r", "A::EVERYONE@:r"};
	struct daos_acl *acl;
	struct daos_acl *bad;
	struct daos_ace *ace;
	size_t size;

	(void)state;
	acl = acl_of(in, 3);
	size = (size_t)daos_acl_get_size(acl);
	bad = daos_acl_dup(acl);

	bad->dal_ver = 2;
	assert_int_equal(daos_acl_validate(bad), -DER_INVAL);
	memcpy(bad, acl, size);
	bad->dal_len -= 8; /* last entry cut short */
	assert_int_equal(daos_acl_validate(bad), -DER_INVAL);
	memcpy(bad, acl, size);
	bad->dal_len = 16; /* shorter than one entry */
	assert_int_equal(daos_acl_validate(bad), -DER_INVAL);
	memcpy(bad, acl, size);
	bad->dal_len = DAOS_ACL_MAX_ACE_LEN + 8;
	assert_int_equal(daos_acl_validate(bad), -DER_INVAL);
	memcpy(bad, acl, size);
	bad->dal_len = acl->dal_len - 3; /* not 8-aligned */
	assert_int_equal(daos_acl_validate(bad), -DER_INVAL);

	/* Out of order: swap the types of the first and last entry. */
	memcpy(bad, acl, size);
	ace = daos_acl_get_next_ace(bad, NULL);
	ace->dae_principal_type = DAOS_ACL_EVERYONE;
	assert_int_equal(daos_acl_validate(bad), -DER_INVAL);

	/* A name length that points past the end. */
	memcpy(bad, acl, size);
	ace = daos_acl_get_next_ace(bad, NULL);
	ace = daos_acl_get_next_ace(bad, ace);
	ace->dae_principal_len = 0xfff8;
	assert_int_equal(daos_acl_validate(bad), -DER_INVAL);
	assert_null(daos_acl_get_next_ace(bad, ace));

	/*
	 * Regression (UBSan): a name length that is not a multiple of 8 misaligned every later
	 * entry, and the walk read them. The walk now stops there.
	 */
	memcpy(bad, acl, size);
	ace = daos_acl_get_next_ace(bad, NULL);
	ace = daos_acl_get_next_ace(bad, ace);
	ace->dae_principal_len = 4;
	assert_null(daos_acl_get_next_ace(bad, ace));
	assert_int_equal(daos_acl_validate(bad), -DER_INVAL);

	/* An unterminated name. */
	memcpy(bad, acl, size);
	ace = daos_acl_get_next_ace(bad, NULL);
	ace = daos_acl_get_next_ace(bad, ace);
	memset(ace->dae_principal, 'x', ace->dae_principal_len);
	assert_int_equal(daos_acl_validate(bad), -DER_INVAL);

	/* Unknown bits. */
	memcpy(bad, acl, size);
	ace = daos_acl_get_next_ace(bad, NULL);
	ace->dae_allow_perms |= 1ULL << 40;
	assert_int_equal(daos_acl_validate(bad), -DER_INVAL);
	memcpy(bad, acl, size);
	ace = daos_acl_get_next_ace(bad, NULL);
	ace->dae_access_flags |= 1U << 9;
	assert_int_equal(daos_acl_validate(bad), -DER_INVAL);
	memcpy(bad, acl, size);
	ace = daos_acl_get_next_ace(bad, NULL);
	ace->dae_access_types |= 1U << 5;
	assert_int_equal(daos_acl_validate(bad), -DER_INVAL);
	/* Permissions for an access type the entry lacks. */
	memcpy(bad, acl, size);
	ace = daos_acl_get_next_ace(bad, NULL);
	ace->dae_alarm_perms = DAOS_ACL_PERM_READ;
	assert_int_equal(daos_acl_validate(bad), -DER_INVAL);

	memcpy(bad, acl, size);
	assert_int_equal(daos_acl_validate(bad), 0);
	assert_int_equal(daos_acl_validate(NULL), -DER_INVAL);

	/* Pool and container permission sets. */
	assert_int_equal(daos_acl_pool_validate(acl), 0);
	assert_int_equal(daos_acl_cont_validate(acl), 0);
	daos_acl_free(bad);
	daos_acl_free(acl);
	{
		const char *pool_only[] = {"A::OWNER@:c"};
		const char *cont_only[] = {"A::OWNER@:T"};

		acl = acl_of(pool_only, 1);
		assert_int_equal(daos_acl_pool_validate(acl), 0);
		assert_int_equal(daos_acl_cont_validate(acl), -DER_INVAL);
		daos_acl_free(acl);
		acl = acl_of(cont_only, 1);
		assert_int_equal(daos_acl_pool_validate(acl), -DER_INVAL);
		assert_int_equal(daos_acl_cont_validate(acl), 0);
		daos_acl_free(acl);
	}
}

static void
test_verbose_and_stream(void **state)
{
	const char *in[] = {"A::OWNER@:rw", "AU:GF:GROUP@:", "A::EVERYONE@:rcdtTaAo"};
	char buf[512];
	char small[10];
	char *text = NULL;
	size_t text_len = 0;
	struct daos_acl *acl;
	FILE *f;

	(void)state;
	assert_int_equal(daos_ace_str_get_verbose("A::OWNER@:rw", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "Allow::Owner:Read/Write");
	assert_int_equal(daos_ace_str_get_verbose("AUL:GSFP:GROUP@:", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "Allow/Audit/Alarm:Group/Access-Success/Access-Failure/"
				 "Pool-Inherit:Owner-Group:No-Access");
	assert_int_equal(daos_ace_str_get_verbose("A::alice@x:cdtTaAo", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "Allow::alice@x:Create-Container/Delete-Container/Get-Prop/"
				 "Set-Prop/Get-ACL/Set-ACL/Set-Owner");
	assert_int_equal(daos_ace_str_get_verbose("A::EVERYONE@:r", small, sizeof(small)),
			 -DER_TRUNC);
	assert_string_equal(small, "Allow::Ev");
	assert_int_equal(daos_ace_str_get_verbose("Q::OWNER@:r", buf, sizeof(buf)), -DER_INVAL);
	assert_int_equal(daos_ace_str_get_verbose("A::OWNER@:rq", buf, sizeof(buf)), -DER_INVAL);
	assert_int_equal(daos_ace_str_get_verbose("A::OWNER:r", buf, sizeof(buf)), -DER_INVAL);
	assert_int_equal(daos_ace_str_get_verbose("A::OWNER@", buf, sizeof(buf)), -DER_INVAL);
	assert_int_equal(daos_ace_str_get_verbose(NULL, buf, sizeof(buf)), -DER_INVAL);

	acl = acl_of(in, D_ARRAY_SIZE(in));
	f = open_memstream(&text, &text_len);
	assert_non_null(f);
	assert_int_equal(daos_acl_to_stream(f, acl, true), 0);
	fclose(f);
	assert_string_equal(text, "# Entries:\n"
				  "# Allow::Owner:Read/Write\n"
				  "A::OWNER@:rw\n"
				  "# Allow/Audit:Group/Access-Failure:Owner-Group:No-Access\n"
				  "AU:GF:GROUP@:\n"
				  "# Allow::Everyone:Read/Create-Container/Delete-Container/"
				  "Get-Prop/Set-Prop/Get-ACL/Set-ACL/Set-Owner\n"
				  "A::EVERYONE@:rcdtTaAo\n");
	free(text);
	f = open_memstream(&text, &text_len);
	assert_int_equal(daos_acl_to_stream(f, NULL, false), 0);
	fclose(f);
	assert_string_equal(text, "# Entries:\n#   None\n");
	free(text);
	assert_int_equal(daos_acl_to_stream(NULL, acl, false), -DER_INVAL);
	daos_acl_free(acl);
}

/* Random valid entries survive text and back, and an ACL of them validates. */
static void
test_random_roundtrip(void **state)
{
	static const char tletters[] = "AUL";
	static const char pletters[] = "rwcdtTaAo";
	unsigned int seed = d_test_seed("test_random_roundtrip");
	uint64_t rs = d_test_rand_seed(seed);
	char in[DAOS_ACL_MAX_ACE_STR_LEN + 1];
	char out[DAOS_ACL_MAX_ACE_STR_LEN + 1];
	struct daos_ace *aces[64];
	struct daos_ace *ace;
	struct daos_ace *back;
	struct daos_acl *acl;
	int iter;
	int i;

	(void)state;
	for (iter = 0; iter < 200; iter++) {
		int nr = 0;

		for (i = 0; i < 64; i++) {
			unsigned int type = d_test_rand(&rs) % 5;
			unsigned int types = 1 + d_test_rand(&rs) % 7;
			unsigned int perms = d_test_rand(&rs) % 512;
			char name[40];
			char flags[8] = "";
			char t[4] = "";
			char p[10] = "";
			int k;
			int n = 0;

			for (k = 0; k < 3; k++)
				if (types & (1U << k))
					t[n++] = tletters[k];
			n = 0;
			for (k = 0; k < 9; k++)
				if (perms & (1U << k))
					p[n++] = pletters[k];
			if (type == DAOS_ACL_GROUP || type == DAOS_ACL_OWNER_GROUP)
				strcat(flags, "G");
			if (types & (DAOS_ACL_ACCESS_AUDIT | DAOS_ACL_ACCESS_ALARM))
				strcat(flags, (d_test_rand(&rs) & 1) ? "S" : "SF");
			if (d_test_rand(&rs) & 1)
				strcat(flags, "P");
			switch (type) {
			case DAOS_ACL_OWNER:
				strcpy(name, "OWNER@");
				break;
			case DAOS_ACL_OWNER_GROUP:
				strcpy(name, "GROUP@");
				break;
			case DAOS_ACL_EVERYONE:
				strcpy(name, "EVERYONE@");
				break;
			default:
				snprintf(name, sizeof(name), "n%u@d%u",
					 (unsigned)(d_test_rand(&rs) % 1000),
					 (unsigned)(d_test_rand(&rs) % 3));
			}
			snprintf(in, sizeof(in), "%s:%s:%s:%s", t, flags, name, p);
			assert_int_equal(daos_ace_from_str(in, &ace), 0);
			assert_int_equal(daos_ace_to_str(ace, out, sizeof(out)), 0);
			assert_int_equal(daos_ace_from_str(out, &back), 0);
			assert_int_equal(daos_ace_get_size(back), daos_ace_get_size(ace));
			assert_memory_equal(back, ace, daos_ace_get_size(ace));
			daos_ace_free(back);
			/* Keep it unless its principal is taken already. */
			for (k = 0; k < nr; k++)
				if (aces[k]->dae_principal_type == ace->dae_principal_type &&
				    strcmp(daos_ace_get_principal_str(aces[k]),
					   daos_ace_get_principal_str(ace)) == 0)
					break;
			if (k == nr)
				aces[nr++] = ace;
			else
				daos_ace_free(ace);
		}
		acl = daos_acl_create(aces, (uint16_t)nr);
		assert_non_null(acl);
		assert_int_equal(daos_acl_validate(acl), 0);
		/* Removing every entry one by one leaves an empty valid ACL. */
		for (i = 0; i < nr; i++) {
			const char *pn = aces[i]->dae_principal_len ? aces[i]->dae_principal : NULL;

			assert_int_equal(daos_acl_remove_ace(&acl, aces[i]->dae_principal_type, pn),
					 0);
			assert_int_equal(daos_acl_validate(acl), 0);
		}
		assert_int_equal(acl->dal_len, 0);
		daos_acl_free(acl);
		for (i = 0; i < nr; i++)
			daos_ace_free(aces[i]);
	}
}

/* Random bytes as an ACL never crash validation, iteration or text conversion. */
static void
test_garbage_acl(void **state)
{
	unsigned int seed = d_test_seed("test_garbage_acl");
	uint64_t rs = d_test_rand_seed(seed);
	uint64_t raw64[(8 + 512) / 8]; /* ACLs are 8-byte aligned, as any allocation */
	uint8_t *raw = (uint8_t *)raw64;
	struct daos_acl *acl = (struct daos_acl *)raw64;
	struct daos_ace *ace;
	char **strs;
	size_t nr;
	int iter;
	size_t i;

	(void)state;
	for (iter = 0; iter < 20000; iter++) {
		for (i = 0; i < sizeof(raw64); i++)
			raw[i] = (uint8_t)d_test_rand(&rs);
		acl->dal_ver = DAOS_ACL_VERSION;
		acl->dal_len = (uint32_t)(d_test_rand(&rs) % 520) & ~7U;
		if (acl->dal_len > 512)
			acl->dal_len = 512;
		/* Mostly plausible headers, so that the walk gets somewhere. */
		for (i = 0; i + 32 <= acl->dal_len; i += 32) {
			ace = (struct daos_ace *)(acl->dal_ace + i);
			ace->dae_principal_len &= 0x38;
			ace->dae_principal_type %= 6;
		}
		/* Valid but without a text form (per-type permissions differ): -DER_INVAL. */
		if (daos_acl_validate(acl) == 0) {
			int rc = daos_acl_to_strs(acl, &strs, &nr);

			assert_true(rc == 0 || rc == -DER_INVAL);
			for (i = 0; rc == 0 && i < nr; i++)
				D_FREE(strs[i]);
			if (rc == 0)
				D_FREE(strs);
		}
		for (ace = daos_acl_get_next_ace(acl, NULL); ace != NULL;
		     ace = daos_acl_get_next_ace(acl, ace))
			assert_true((uint8_t *)ace + daos_ace_get_size(ace) <=
				    acl->dal_ace + acl->dal_len);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_ace_str_valid),
	    cmocka_unit_test(test_ace_str_invalid),
	    cmocka_unit_test(test_ace_fields),
	    cmocka_unit_test(test_ace_to_str_refuses),
	    cmocka_unit_test(test_principal),
	    cmocka_unit_test(test_local_ids),
	    cmocka_unit_test(test_acl_order_and_dups),
	    cmocka_unit_test(test_acl_size_limit),
	    cmocka_unit_test(test_acl_ops),
	    cmocka_unit_test(test_acl_validate_binary),
	    cmocka_unit_test(test_verbose_and_stream),
	    cmocka_unit_test(test_random_roundtrip),
	    cmocka_unit_test(test_garbage_acl),
	};

	return cmocka_run_group_tests_name("security_acl", tests, NULL, NULL);
}
