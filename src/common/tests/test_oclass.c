/*
 * test_oclass.c: the class table (DAOS's names and numeric IDs), name/ID conversion, group
 * sizing for a pool, default class choice, and the OID bit layout.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "common_internal.h"

/* DAOS's numeric IDs, pinned: they are stored in every OID. */
static void
test_ids_pinned(void **state)
{
	(void)state;
	assert_int_equal(OC_S1, 0x01000001);
	assert_int_equal(OC_S32, 0x01000020);
	assert_int_equal(OC_SX, 0x0100FFFF);
	assert_int_equal(OC_RP_2G1, 0x08000001);
	assert_int_equal(OC_RP_3GX, 0x0900FFFF);
	assert_int_equal(OC_EC_2P1G1, 0x20000001);
	assert_int_equal(OC_EC_4P2G1, 0x23000001);
	assert_int_equal(OC_EC_16P2GX, 0x2700FFFF);
	assert_int_equal(OC_RP_XSF, 80);
}

static void
test_name2id(void **state)
{
	(void)state;
	assert_int_equal(daos_oclass_name2id("S1"), OC_S1);
	assert_int_equal(daos_oclass_name2id("SX"), OC_SX);
	assert_int_equal(daos_oclass_name2id("S32"), OC_S32);
	assert_int_equal(daos_oclass_name2id("RP_2G1"), OC_RP_2G1);
	assert_int_equal(daos_oclass_name2id("RP_3GX"), OC_RP_3GX);
	assert_int_equal(daos_oclass_name2id("EC_4P2G1"), OC_EC_4P2G1);
	assert_int_equal(daos_oclass_name2id("EC_16P2GX"), OC_EC_16P2GX);
	assert_int_equal(daos_oclass_name2id("RP_XSF"), OC_RP_XSF);
	/* the OC_ prefix and lower case, as the daos tool accepts them */
	assert_int_equal(daos_oclass_name2id("OC_S1"), OC_S1);
	assert_int_equal(daos_oclass_name2id("oc_rp_2gx"), OC_RP_2GX);
	assert_int_equal(daos_oclass_name2id("ec_8p2g1"), OC_EC_8P2G1);
	/* unknown, prefixes of names, overlong, empty, NULL */
	assert_int_equal(daos_oclass_name2id("S3"), OC_UNKNOWN);
	assert_int_equal(daos_oclass_name2id("RP_2"), OC_UNKNOWN);
	assert_int_equal(daos_oclass_name2id("S"), OC_UNKNOWN);
	assert_int_equal(daos_oclass_name2id(""), OC_UNKNOWN);
	assert_int_equal(daos_oclass_name2id("OC_"), OC_UNKNOWN);
	assert_int_equal(daos_oclass_name2id("S1xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"), OC_UNKNOWN);
	assert_int_equal(daos_oclass_name2id(NULL), OC_UNKNOWN);
}

static void
test_id2name(void **state)
{
	char name[24];

	(void)state;
	assert_int_equal(daos_oclass_id2name(OC_S1, name), 0);
	assert_string_equal(name, "S1");
	assert_int_equal(daos_oclass_id2name(OC_RP_3GX, name), 0);
	assert_string_equal(name, "RP_3GX");
	assert_int_equal(daos_oclass_id2name(OC_EC_16P2G32, name), 0);
	assert_string_equal(name, "EC_16P2G32");
	/* group counts the table does not list are still classes */
	assert_int_equal(daos_oclass_id2name((DAOS_OR_RP_1 << OC_REDUN_SHIFT) | 3, name), 0);
	assert_string_equal(name, "S3");
	assert_int_equal(daos_oclass_id2name((DAOS_OR_RS_4P2 << OC_REDUN_SHIFT) | 100, name), 0);
	assert_string_equal(name, "EC_4P2G100");
	assert_int_equal(daos_oclass_id2name((DAOS_OR_RP_2 << OC_REDUN_SHIFT) | 5, name), 0);
	assert_string_equal(name, "RP_2G5");
	assert_int_equal(daos_oclass_id2name(0, name), -1);
	assert_int_equal(daos_oclass_id2name(0x7F000001, name), -1);
	assert_int_equal(daos_oclass_id2name(OC_BACK_COMPAT, name), -1);
}

/* Every table name converts to an ID and back. */
static void
test_names_list_roundtrip(void **state)
{
	char small[8];
	char *buf;
	char *tok;
	char *save = NULL;
	char name[24];
	ssize_t len;
	int n = 0;

	(void)state;
	assert_int_equal(daos_oclass_names_list(sizeof(small), small), -DER_OVERFLOW);
	assert_int_equal(daos_oclass_names_list(0, small), -DER_INVAL);
	buf = malloc(8192);
	assert_non_null(buf);
	len = daos_oclass_names_list(8192, buf);
	assert_true(len > 0);
	assert_int_equal((size_t)len, strlen(buf));
	assert_non_null(strstr(buf, "S1, "));
	assert_non_null(strstr(buf, "EC_16P2GX, "));
	for (tok = strtok_r(buf, ", ", &save); tok != NULL; tok = strtok_r(NULL, ", ", &save)) {
		int id = daos_oclass_name2id(tok);

		assert_int_not_equal(id, OC_UNKNOWN);
		assert_int_equal(daos_oclass_id2name((daos_oclass_id_t)id, name), 0);
		assert_string_equal(name, tok);
		n++;
	}
	assert_int_equal(n, daos_oclass_nr(0));
	free(buf);
}

static void
test_attr(void **state)
{
	struct daos_oclass_attr a;
	uint32_t tf;

	(void)state;
	assert_int_equal(daos_oclass_attr_get(OC_S8, &a), 0);
	assert_int_equal(a.ca_resil, DAOS_RES_REPL);
	assert_int_equal(a.u.rp.r_num, 1);
	assert_int_equal(a.ca_grp_nr, 8);
	assert_int_equal(daos_oclass_grp_size(&a), 1);
	assert_false(daos_oclass_is_redundant(&a));

	assert_int_equal(daos_oclass_attr_get(OC_RP_3GX, &a), 0);
	assert_int_equal(a.u.rp.r_num, 3);
	assert_int_equal(a.ca_grp_nr, DAOS_OBJ_GRP_MAX);
	assert_true(daos_oclass_is_redundant(&a));

	assert_int_equal(daos_oclass_attr_get(OC_EC_8P2G4, &a), 0);
	assert_int_equal(a.ca_resil, DAOS_RES_EC);
	assert_int_equal(a.u.ec.e_k, 8);
	assert_int_equal(a.u.ec.e_p, 2);
	assert_int_equal(a.ca_grp_nr, 4);
	assert_int_equal(daos_oclass_grp_size(&a), 10);

	assert_int_equal(daos_oclass_attr_get((DAOS_OR_RP_4 << OC_REDUN_SHIFT) | 7, &a), 0);
	assert_int_equal(a.u.rp.r_num, 4);
	assert_int_equal(a.ca_grp_nr, 7);

	assert_int_equal(daos_oclass_attr_get(OC_UNKNOWN, &a), -DER_INVAL);
	assert_int_equal(daos_oclass_attr_get((200U << OC_REDUN_SHIFT) | 1, &a), -DER_INVAL);
	assert_int_equal(daos_oclass_attr_get(OC_S1 & ~0xFFFFU, &a), -DER_INVAL);

	assert_int_equal(daos_oclass_cid2allowedfailures(OC_RP_3G1, &tf), 0);
	assert_int_equal(tf, 2);
	assert_int_equal(daos_oclass_cid2allowedfailures(OC_EC_4P2GX, &tf), 0);
	assert_int_equal(tf, 2);
	assert_int_equal(daos_oclass_cid2allowedfailures(OC_SX, &tf), 0);
	assert_int_equal(tf, 0);
}

static void
test_fit_max(void **state)
{
	enum daos_obj_redun ord;
	uint32_t nr;

	(void)state;
	/* SX over 16 targets, rf 0: one group per target */
	assert_int_equal(daos_oclass_fit_max(OC_SX, 4, 16, &ord, &nr, 0), 0);
	assert_int_equal(ord, DAOS_OR_RP_1);
	assert_int_equal(nr, 16);
	/* RP_2GX over 16 targets, rf 1: 8 groups, one kept spare */
	assert_int_equal(daos_oclass_fit_max(OC_RP_2GX, 4, 16, &ord, &nr, 1), 0);
	assert_int_equal(ord, DAOS_OR_RP_2);
	assert_int_equal(nr, 7);
	/* fixed group count passes through */
	assert_int_equal(daos_oclass_fit_max(OC_S4, 1, 8, &ord, &nr, 0), 0);
	assert_int_equal(nr, 4);
	/* too wide for the pool */
	assert_int_equal(daos_oclass_fit_max(OC_S32, 4, 16, &ord, &nr, 0), -DER_INVAL);
	assert_int_equal(daos_oclass_fit_max(OC_EC_4P2G1, 4, 64, &ord, &nr, 0), -DER_INVAL);
	assert_int_equal(daos_oclass_fit_max(OC_UNKNOWN, 4, 64, &ord, &nr, 0), -DER_INVAL);
	assert_int_equal(daos_oclass_fit_max(OC_S1, 0, 64, &ord, &nr, 0), -DER_INVAL);
	/* IDs below OC_S1 stay as they are */
	assert_int_equal(daos_oclass_fit_max(OC_RP_XSF, 4, 64, &ord, &nr, 0), 0);
	assert_int_equal(ord, 0);
	assert_int_equal(nr, OC_RP_XSF);
}

static void
test_select(void **state)
{
	enum daos_obj_redun ord;
	uint32_t nr;

	(void)state;
	/* rf0, plain KV-less object: S1 */
	assert_int_equal(daos_oclass_select(0, 4, 16, DAOS_OT_MULTI_HASHED, 0, &ord, &nr), 0);
	assert_int_equal(ord, DAOS_OR_RP_1);
	assert_int_equal(nr, 1);
	/* rf0 array: SX-like, every target */
	assert_int_equal(daos_oclass_select(0, 4, 16, DAOS_OT_ARRAY_BYTE, 0, &ord, &nr), 0);
	assert_int_equal(ord, DAOS_OR_RP_1);
	assert_int_equal(nr, 16);
	/* rf1 KV: 2 replicas; rf1 array on 6 domains: EC 4+1 */
	assert_int_equal(daos_oclass_select(1, 4, 16, DAOS_OT_KV_HASHED, 0, &ord, &nr), 0);
	assert_int_equal(ord, DAOS_OR_RP_2);
	assert_int_equal(daos_oclass_select(1, 6, 24, DAOS_OT_ARRAY, 0, &ord, &nr), 0);
	assert_int_equal(ord, DAOS_OR_RS_4P1);
	/* rf2 needs 3 domains */
	assert_int_equal(daos_oclass_select(2, 2, 16, DAOS_OT_KV_HASHED, 0, &ord, &nr), -DER_INVAL);
	assert_int_equal(daos_oclass_select(9, 8, 16, DAOS_OT_KV_HASHED, 0, &ord, &nr), -DER_INVAL);
	/* sharding hint: tiny */
	assert_int_equal(daos_oclass_select(0, 4, 16, DAOS_OT_ARRAY, DAOS_OCH_SHD_TINY, &ord, &nr),
			 0);
	assert_int_equal(nr, 1);
	assert_int_equal(daos_oclass_select(0, 4, 16, DAOS_OT_ARRAY, 0x3F0, &ord, &nr), -DER_INVAL);
}

/* Bits 56-63 type, 48-55 scheme, 32-47 groups; the low 96 bits untouched. */
static void
test_oid_layout(void **state)
{
	struct daos_oid_gen_attr ga = {.ga_rf = 0, .ga_domain_nr = 4, .ga_target_nr = 16};
	daos_obj_id_t oid = {.lo = 0x1122334455667788ULL, .hi = 0xFFFFFFFF12345678ULL};

	(void)state;
	assert_int_equal(daos_obj_generate_oid_by_attr(&oid, DAOS_OT_ARRAY_BYTE, OC_S4, 0, 0, &ga),
			 0);
	assert_int_equal(oid.lo, 0x1122334455667788ULL);
	assert_int_equal(oid.hi, 0x0D01000412345678ULL);
	assert_int_equal(daos_obj_id2type(oid), DAOS_OT_ARRAY_BYTE);
	assert_int_equal(daos_obj_id2class(oid), OC_S4);
	assert_true(daos_is_array(oid));

	assert_int_equal(daos_obj_generate_oid_by_attr(&oid, DAOS_OT_KV_HASHED, OC_SX, 0, 0, &ga),
			 0);
	assert_int_equal(oid.hi >> 32, 0x08010010ULL);
	assert_int_equal(oid.hi & 0xFFFFFFFFULL, 0x12345678ULL);

	/* the container's redundancy factor refuses weaker classes */
	ga.ga_rf = 1;
	assert_int_equal(daos_obj_generate_oid_by_attr(&oid, DAOS_OT_KV_HASHED, OC_S1, 0, 0, &ga),
			 -DER_INVAL);
	assert_int_equal(
	    daos_obj_generate_oid_by_attr(&oid, DAOS_OT_KV_HASHED, OC_RP_2G1, 0, 0, &ga), 0);
	assert_int_equal(oid.hi >> 32, 0x08080001ULL);
	/* default class from rf */
	assert_int_equal(
	    daos_obj_generate_oid_by_attr(&oid, DAOS_OT_MULTI_HASHED, OC_UNKNOWN, 0, 0, &ga), 0);
	assert_int_equal(daos_obj_id2class(oid), OC_RP_2G1);
	/* bad type, bad class, no pool */
	assert_int_equal(daos_obj_generate_oid_by_attr(&oid, 15, OC_RP_2G1, 0, 0, &ga), -DER_INVAL);
	assert_int_equal(daos_obj_generate_oid_by_attr(&oid, 1, 0x55000001, 0, 0, &ga), -DER_INVAL);
	ga.ga_target_nr = 0;
	assert_int_equal(daos_obj_generate_oid_by_attr(&oid, 1, OC_RP_2G1, 0, 0, &ga), -DER_INVAL);
}

static void
test_dkey_hash(void **state)
{
	daos_obj_id_t oid = {0};
	uint64_t v = 12345;
	daos_key_t k;
	uint32_t hits[8] = {0};
	char buf[32];
	int i;

	(void)state;
	d_iov_set(&k, "dkey", 4);
	assert_int_equal(daos_obj_dkey2hash(oid, &k),
			 d_hash_murmur64((const unsigned char *)"dkey", 4, 5731));
	assert_int_equal(daos_obj_dkey2hash(oid, NULL), 0);
	daos_obj_set_oid(&oid, DAOS_OT_DKEY_UINT64, DAOS_OR_RP_1, 1, 0);
	d_iov_set(&k, &v, sizeof(v));
	assert_int_equal(daos_obj_dkey2hash(oid, &k), 12345);

	assert_int_equal(daos_obj_hash2grp(777, 1), 0);
	oid.hi = 0;
	for (i = 0; i < 8000; i++) {
		snprintf(buf, sizeof(buf), "key-%d", i);
		d_iov_set(&k, buf, strlen(buf));
		hits[daos_obj_hash2grp(daos_obj_dkey2hash(oid, &k), 8)]++;
	}
	for (i = 0; i < 8; i++)
		assert_true(hits[i] > 800 && hits[i] < 1200);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_ids_pinned), cmocka_unit_test(test_name2id),
	    cmocka_unit_test(test_id2name),    cmocka_unit_test(test_names_list_roundtrip),
	    cmocka_unit_test(test_attr),       cmocka_unit_test(test_fit_max),
	    cmocka_unit_test(test_select),     cmocka_unit_test(test_oid_layout),
	    cmocka_unit_test(test_dkey_hash),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
