/*
 * test_prop.c: property lists: allocation limits, typed setters and who owns what, lookup,
 * merge, copy, dup, and parsing of "name:value;...".
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdlib.h>

#include "common_internal.h"
#include <daos_security.h>
#include <daos/prop.h>

static void
test_alloc(void **state)
{
	daos_prop_t *prop;

	(void)state;
	assert_null(daos_prop_alloc(DAOS_PROP_ENTRIES_MAX_NR + 1));
	prop = daos_prop_alloc(0);
	assert_non_null(prop);
	assert_int_equal(prop->dpp_nr, 0);
	assert_null(daos_prop_entry_get(prop, DAOS_PROP_CO_LABEL));
	daos_prop_free(prop);
	prop = daos_prop_alloc(DAOS_PROP_ENTRIES_MAX_NR);
	assert_non_null(prop);
	assert_int_equal(prop->dpp_entries[DAOS_PROP_ENTRIES_MAX_NR - 1].dpe_type, 0);
	daos_prop_free(prop);
	daos_prop_free(NULL);
	daos_prop_fini(NULL);
}

static void
test_values(void **state)
{
	struct daos_prop_co_roots roots = {.cr_oids = {{1, 2}, {3, 4}}};
	struct {
		struct daos_acl acl;
		uint8_t ace[8];
	} acl = {.acl = {.dal_ver = 1, .dal_len = 8}, .ace = {1, 2, 3, 4, 5, 6, 7, 8}};
	daos_prop_t *prop = daos_prop_alloc(5);
	struct daos_prop_entry *e;
	struct daos_prop_entry other = {.dpe_type = DAOS_PROP_CO_ROOTS};
	char label[] = "my_cont";

	(void)state;
	prop->dpp_entries[0].dpe_type = DAOS_PROP_CO_LABEL;
	prop->dpp_entries[1].dpe_type = DAOS_PROP_CO_ROOTS;
	prop->dpp_entries[2].dpe_type = DAOS_PROP_CO_ACL;
	prop->dpp_entries[3].dpe_type = DAOS_PROP_CO_REDUN_FAC;
	prop->dpp_entries[3].dpe_val = 2;
	prop->dpp_entries[4].dpe_type = DAOS_PROP_PO_SVC_LIST;
	prop->dpp_entries[4].dpe_val_ptr = d_rank_list_alloc(3);

	/* strings are copied: the caller's buffer may change */
	assert_int_equal(daos_prop_set_str(prop, DAOS_PROP_CO_LABEL, label, 7), 0);
	label[0] = 'X';
	e = daos_prop_entry_get(prop, DAOS_PROP_CO_LABEL);
	assert_string_equal(e->dpe_str, "my_cont");
	assert_true(daos_prop_has_str(e));
	assert_false(daos_prop_has_ptr(e));
	assert_int_equal(daos_prop_set_str(prop, DAOS_PROP_CO_LABEL, "abcdef", 3), 0);
	assert_string_equal(e->dpe_str, "abc");
	assert_int_equal(daos_prop_set_str(prop, DAOS_PROP_CO_LABEL, "abc", 0), -DER_INVAL);
	assert_int_equal(daos_prop_set_str(prop, DAOS_PROP_CO_REDUN_FAC, "abc", 3), -DER_INVAL);
	assert_int_equal(daos_prop_set_str(prop, DAOS_PROP_CO_OWNER, "abc", 3), -DER_NONEXIST);

	/* blobs are copied with their exact size */
	assert_int_equal(daos_prop_set_ptr(prop, DAOS_PROP_CO_ROOTS, &roots, sizeof(roots)), 0);
	roots.cr_oids[0].lo = 99;
	e = daos_prop_entry_get(prop, DAOS_PROP_CO_ROOTS);
	assert_int_equal(((struct daos_prop_co_roots *)e->dpe_val_ptr)->cr_oids[0].lo, 1);
	assert_int_equal(daos_prop_set_ptr(prop, DAOS_PROP_CO_ROOTS, &roots, 8), -DER_INVAL);
	assert_int_equal(daos_prop_entry_dup_co_roots(&other, e), 0);
	assert_int_equal(((struct daos_prop_co_roots *)other.dpe_val_ptr)->cr_oids[1].hi, 4);
	free(other.dpe_val_ptr);

	assert_int_equal(daos_prop_set_ptr(prop, DAOS_PROP_CO_ACL, &acl, sizeof(acl)), 0);
	assert_int_equal(daos_prop_set_ptr(prop, DAOS_PROP_CO_ACL, &acl, sizeof(acl) - 1),
			 -DER_INVAL);
	assert_int_equal(daos_prop_set_ptr(prop, DAOS_PROP_CO_LABEL, &acl, sizeof(acl)),
			 -DER_INVAL);
	e = daos_prop_entry_get(prop, DAOS_PROP_CO_ACL);
	assert_true(daos_prop_has_ptr(e));
	assert_int_equal(daos_prop_entry_cmp_acl(e, e), 0);
	{
		daos_prop_t *dup = daos_prop_dup(prop);
		struct daos_prop_entry *d;

		assert_non_null(dup);
		d = daos_prop_entry_get(dup, DAOS_PROP_CO_ACL);
		assert_ptr_not_equal(d->dpe_val_ptr, e->dpe_val_ptr);
		assert_int_equal(daos_prop_entry_cmp_acl(d, e), 0);
		((uint8_t *)d->dpe_val_ptr)[sizeof(struct daos_acl) + 7] = 0;
		assert_int_equal(daos_prop_entry_cmp_acl(d, e), -DER_MISMATCH);
		assert_string_equal(daos_prop_entry_get(dup, DAOS_PROP_CO_LABEL)->dpe_str, "abc");
		assert_int_equal(daos_prop_entry_get(dup, DAOS_PROP_CO_REDUN_FAC)->dpe_val, 2);
		assert_int_equal(
		    ((d_rank_list_t *)daos_prop_entry_get(dup, DAOS_PROP_PO_SVC_LIST)->dpe_val_ptr)
			->rl_nr,
		    3);
		daos_prop_free(dup);
	}
	/* values are freed with the list (ASan checks) */
	daos_prop_free(prop);
}

static void
test_merge_copy(void **state)
{
	daos_prop_t *old = daos_prop_alloc(2);
	daos_prop_t *upd = daos_prop_alloc(2);
	daos_prop_t *out = NULL;
	daos_prop_t *req;
	daos_prop_t *all;

	(void)state;
	old->dpp_entries[0].dpe_type = DAOS_PROP_CO_LABEL;
	assert_int_equal(daos_prop_set_str(old, DAOS_PROP_CO_LABEL, "old", 3), 0);
	old->dpp_entries[1].dpe_type = DAOS_PROP_CO_REDUN_FAC;
	old->dpp_entries[1].dpe_val = 1;
	upd->dpp_entries[0].dpe_type = DAOS_PROP_CO_LABEL;
	assert_int_equal(daos_prop_set_str(upd, DAOS_PROP_CO_LABEL, "new", 3), 0);
	upd->dpp_entries[1].dpe_type = DAOS_PROP_CO_CSUM;
	upd->dpp_entries[1].dpe_val = DAOS_PROP_CO_CSUM_CRC32;

	assert_int_equal(daos_prop_merge2(old, upd, &out), 0);
	assert_int_equal(out->dpp_nr, 3);
	assert_string_equal(daos_prop_entry_get(out, DAOS_PROP_CO_LABEL)->dpe_str, "new");
	assert_int_equal(daos_prop_entry_get(out, DAOS_PROP_CO_REDUN_FAC)->dpe_val, 1);
	assert_int_equal(daos_prop_entry_get(out, DAOS_PROP_CO_CSUM)->dpe_val,
			 DAOS_PROP_CO_CSUM_CRC32);
	daos_prop_free(out);
	out = daos_prop_merge(old, upd);
	assert_non_null(out);
	daos_prop_free(out);
	assert_int_equal(daos_prop_merge2(NULL, upd, &out), -DER_INVAL);

	/* copy what a query asked for; missing entries are marked */
	req = daos_prop_alloc(2);
	req->dpp_entries[0].dpe_type = DAOS_PROP_CO_REDUN_FAC;
	req->dpp_entries[1].dpe_type = DAOS_PROP_CO_OWNER;
	assert_int_equal(daos_prop_copy(req, old), 0);
	assert_int_equal(req->dpp_entries[0].dpe_val, 1);
	assert_true(daos_prop_is_set(&req->dpp_entries[0]));
	assert_false(daos_prop_is_set(&req->dpp_entries[1]));
	daos_prop_free(req);
	all = daos_prop_alloc(0);
	assert_int_equal(daos_prop_copy(all, upd), 0);
	assert_int_equal(all->dpp_nr, 2);
	assert_string_equal(all->dpp_entries[0].dpe_str, "new");
	daos_prop_free(all);
	daos_prop_free(old);
	daos_prop_free(upd);
}

static void
test_from_str(void **state)
{
	const char *s = "label:foo;cksum:crc64;cksum_size:16384;srv_cksum:on;rf:2;"
			"ec_cell_sz:65536;compression:lz4;encryption:aes-gcm256;dedup:hash;"
			"dedup_threshold:8192";
	daos_prop_t *prop = NULL;

	(void)state;
	assert_int_equal(daos_prop_from_str(s, strlen(s), &prop), 0);
	assert_int_equal(prop->dpp_nr, 10);
	assert_string_equal(daos_prop_entry_get(prop, DAOS_PROP_CO_LABEL)->dpe_str, "foo");
	assert_int_equal(daos_prop_entry_get(prop, DAOS_PROP_CO_CSUM)->dpe_val,
			 DAOS_PROP_CO_CSUM_CRC64);
	assert_int_equal(daos_prop_entry_get(prop, DAOS_PROP_CO_CSUM_CHUNK_SIZE)->dpe_val, 16384);
	assert_int_equal(daos_prop_entry_get(prop, DAOS_PROP_CO_CSUM_SERVER_VERIFY)->dpe_val,
			 DAOS_PROP_CO_CSUM_SV_ON);
	assert_int_equal(daos_prop_entry_get(prop, DAOS_PROP_CO_REDUN_FAC)->dpe_val, 2);
	assert_int_equal(daos_prop_entry_get(prop, DAOS_PROP_CO_EC_CELL_SZ)->dpe_val, 65536);
	assert_int_equal(daos_prop_entry_get(prop, DAOS_PROP_CO_COMPRESS)->dpe_val,
			 DAOS_PROP_CO_COMPRESS_LZ4);
	assert_int_equal(daos_prop_entry_get(prop, DAOS_PROP_CO_ENCRYPT)->dpe_val,
			 DAOS_PROP_CO_ENCRYPT_AES_GCM256);
	assert_int_equal(daos_prop_entry_get(prop, DAOS_PROP_CO_DEDUP)->dpe_val,
			 DAOS_PROP_CO_DEDUP_HASH);
	daos_prop_free(prop);
	/* the length bounds the string */
	assert_int_equal(daos_prop_from_str("rf:1;label:x", 4, &prop), 0);
	assert_int_equal(prop->dpp_nr, 1);
	daos_prop_free(prop);

	assert_int_equal(daos_prop_from_str("rf:5", 4, &prop), -DER_INVAL);
	assert_int_equal(daos_prop_from_str("rf:-1", 5, &prop), -DER_INVAL);
	assert_int_equal(daos_prop_from_str("cksum:md5", 9, &prop), -DER_INVAL);
	assert_int_equal(daos_prop_from_str("nope:1", 6, &prop), -DER_INVAL);
	assert_int_equal(daos_prop_from_str("label", 5, &prop), -DER_INVAL);
	assert_int_equal(daos_prop_from_str("label:a;label:b", 15, &prop), -DER_INVAL);
	assert_int_equal(daos_prop_from_str("label:bad/label", 15, &prop), -DER_INVAL);
	assert_int_equal(daos_prop_from_str("ec_cell_sz:10", 13, &prop), -DER_INVAL);
	assert_int_equal(daos_prop_from_str(";;", 2, &prop), -DER_INVAL);
	assert_int_equal(daos_prop_from_str("", 0, &prop), -DER_INVAL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_alloc),
	    cmocka_unit_test(test_values),
	    cmocka_unit_test(test_merge_copy),
	    cmocka_unit_test(test_from_str),
	};

	/* the refusals above log errors by design */
	setenv("D_LOG_MASK", "CRIT", 0);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
