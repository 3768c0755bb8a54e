/*
 * test_cont_prop.c: daos_prop_t <-> mgmt.ContProperty (cont_prop.c): every kind of value
 * survives a round trip, through the packed wire form too; bad input is refused.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <daos.h>
#include <gurt/common.h>

#include "../cont_internal.h"

static daos_prop_t *
sample_prop(void)
{
	struct daos_prop_co_roots roots = {.cr_oids = {{.lo = 1, .hi = 2},
						       {.lo = UINT64_MAX, .hi = 0},
						       {.lo = 0xabc, .hi = 7},
						       {.lo = 42, .hi = 1ULL << 63}}};
	const char *aces[] = {"A::OWNER@:rwdtTaAo", "A:G:GROUP@:rw", "A::EVERYONE@:r"};
	struct daos_acl *acl = NULL;
	daos_prop_t *prop = daos_prop_alloc(7);

	assert_non_null(prop);
	prop->dpp_entries[0].dpe_type = DAOS_PROP_CO_LABEL;
	assert_int_equal(daos_prop_entry_set_str(&prop->dpp_entries[0], "my-cont", 7), 0);
	prop->dpp_entries[1].dpe_type = DAOS_PROP_CO_LAYOUT_TYPE;
	prop->dpp_entries[1].dpe_val = DAOS_PROP_CO_LAYOUT_POSIX;
	prop->dpp_entries[2].dpe_type = DAOS_PROP_CO_ALLOCED_OID;
	prop->dpp_entries[2].dpe_val = UINT64_MAX - 3;
	prop->dpp_entries[3].dpe_type = DAOS_PROP_CO_OWNER;
	assert_int_equal(daos_prop_entry_set_str(&prop->dpp_entries[3], "alice@", 6), 0);
	prop->dpp_entries[4].dpe_type = DAOS_PROP_CO_ACL;
	assert_int_equal(daos_acl_from_strs(aces, 3, &acl), 0);
	assert_int_equal(
	    daos_prop_entry_set_ptr(&prop->dpp_entries[4], acl, daos_acl_get_size(acl)), 0);
	daos_acl_free(acl);
	prop->dpp_entries[5].dpe_type = DAOS_PROP_CO_ROOTS;
	assert_int_equal(daos_prop_entry_set_ptr(&prop->dpp_entries[5], &roots, sizeof(roots)), 0);
	prop->dpp_entries[6].dpe_type = DAOS_PROP_CO_REDUN_FAC;
	prop->dpp_entries[6].dpe_val = DAOS_PROP_CO_REDUN_RF2;
	return prop;
}

static void
assert_prop_equal(daos_prop_t *a, daos_prop_t *b)
{
	uint32_t i;

	assert_int_equal(a->dpp_nr, b->dpp_nr);
	for (i = 0; i < a->dpp_nr; i++) {
		struct daos_prop_entry *x = &a->dpp_entries[i];
		struct daos_prop_entry *y = &b->dpp_entries[i];

		assert_int_equal(x->dpe_type, y->dpe_type);
		if (daos_prop_has_str(x))
			assert_string_equal(x->dpe_str, y->dpe_str);
		else if (x->dpe_type == DAOS_PROP_CO_ACL)
			assert_int_equal(daos_prop_entry_cmp_acl(x, y), 0);
		else if (x->dpe_type == DAOS_PROP_CO_ROOTS)
			assert_memory_equal(x->dpe_val_ptr, y->dpe_val_ptr,
					    sizeof(struct daos_prop_co_roots));
		else
			assert_true(x->dpe_val == y->dpe_val);
	}
}

/* Through the wire: pack a ContCreateReq holding @pbs, unpack it. */
static Mgmt__ContCreateReq *
wire_trip(Mgmt__ContProperty **pbs, size_t nr)
{
	Mgmt__ContCreateReq req = MGMT__CONT_CREATE_REQ__INIT;
	uint8_t *buf;
	size_t len;
	Mgmt__ContCreateReq *out;

	req.properties = pbs;
	req.n_properties = nr;
	len = mgmt__cont_create_req__get_packed_size(&req);
	buf = malloc(len + 1);
	assert_non_null(buf);
	mgmt__cont_create_req__pack(&req, buf);
	out = mgmt__cont_create_req__unpack(NULL, len, buf);
	free(buf);
	assert_non_null(out);
	return out;
}

static void
test_round_trip(void **state)
{
	Mgmt__ContProperty **pbs;
	Mgmt__ContCreateReq *req;
	daos_prop_t *prop = sample_prop();
	daos_prop_t *back;
	size_t nr;

	(void)state;
	assert_int_equal(dc_cont_prop2pb(prop, false, &pbs, &nr), 0);
	assert_int_equal(nr, 7);
	assert_int_equal(pbs[0]->number, DAOS_PROP_CO_LABEL);
	assert_string_equal(pbs[0]->strval, "my-cont");
	assert_int_equal(pbs[4]->n_acl, 3);
	assert_true(pbs[2]->numval == UINT64_MAX - 3);

	req = wire_trip(pbs, nr);
	dc_cont_prop_pb_free(pbs, nr);
	assert_int_equal(dc_cont_pb2prop(req->properties, req->n_properties, &back), 0);
	mgmt__cont_create_req__free_unpacked(req, NULL);
	assert_prop_equal(prop, back);
	daos_prop_free(back);
	daos_prop_free(prop);
}

static void
test_numbers_only(void **state)
{
	Mgmt__ContProperty **pbs;
	daos_prop_t *prop = sample_prop();
	size_t nr;
	size_t i;

	(void)state;
	assert_int_equal(dc_cont_prop2pb(prop, true, &pbs, &nr), 0);
	assert_int_equal(nr, 7);
	for (i = 0; i < nr; i++) {
		assert_int_equal(pbs[i]->number, prop->dpp_entries[i].dpe_type);
		assert_int_equal(pbs[i]->n_acl, 0);
		assert_true(pbs[i]->numval == 0);
		assert_string_equal(pbs[i]->strval, "");
	}
	dc_cont_prop_pb_free(pbs, nr);
	daos_prop_free(prop);

	/* none */
	assert_int_equal(dc_cont_prop2pb(NULL, false, &pbs, &nr), 0);
	assert_null(pbs);
	assert_int_equal(nr, 0);
}

static void
test_bad_input(void **state)
{
	Mgmt__ContProperty **pbs;
	Mgmt__ContProperty pb = MGMT__CONT_PROPERTY__INIT;
	Mgmt__ContProperty *pbp = &pb;
	char *bad_acl[] = {"not an ace"};
	daos_prop_t *prop;
	size_t nr;

	(void)state;
	/* a pool property is not a container's */
	prop = daos_prop_alloc(1);
	prop->dpp_entries[0].dpe_type = DAOS_PROP_PO_LABEL;
	assert_int_equal(dc_cont_prop2pb(prop, false, &pbs, &nr), -DER_INVAL);
	/* a label without a value */
	prop->dpp_entries[0].dpe_type = DAOS_PROP_CO_LABEL;
	assert_int_equal(dc_cont_prop2pb(prop, false, &pbs, &nr), -DER_INVAL);
	daos_prop_free(prop);

	/* garbage from the service */
	pb.number = DAOS_PROP_CO_ACL;
	pb.acl = bad_acl;
	pb.n_acl = 1;
	assert_int_equal(dc_cont_pb2prop(&pbp, 1, &prop), -DER_PROTO);
	pb.acl = NULL;
	pb.n_acl = 0;
	pb.number = DAOS_PROP_CO_ROOTS;
	pb.strval = "0000000000000001.0000000000000002";
	assert_int_equal(dc_cont_pb2prop(&pbp, 1, &prop), -DER_PROTO);
	pb.strval = "zz";
	assert_int_equal(dc_cont_pb2prop(&pbp, 1, &prop), -DER_PROTO);

	/* unknown numbers are skipped, an empty string is "not set" */
	pb.number = 0x7777;
	assert_int_equal(dc_cont_pb2prop(&pbp, 1, &prop), 0);
	assert_int_equal(prop->dpp_nr, 0);
	daos_prop_free(prop);
	pb.number = DAOS_PROP_CO_OWNER_GROUP;
	pb.strval = "";
	assert_int_equal(dc_cont_pb2prop(&pbp, 1, &prop), 0);
	assert_int_equal(prop->dpp_nr, 1);
	assert_false(daos_prop_is_set(&prop->dpp_entries[0]));
	daos_prop_free(prop);
}

static void
test_rank_list_parse(void **state)
{
	d_rank_list_t *rl;

	(void)state;
	rl = daos_rank_list_parse("1:2:5", ":");
	assert_non_null(rl);
	assert_int_equal(rl->rl_nr, 3);
	assert_int_equal(rl->rl_ranks[0], 1);
	assert_int_equal(rl->rl_ranks[2], 5);
	d_rank_list_free(rl);
	rl = daos_rank_list_parse("7", ",");
	assert_non_null(rl);
	assert_int_equal(rl->rl_nr, 1);
	d_rank_list_free(rl);
	rl = daos_rank_list_parse("", ":");
	assert_non_null(rl);
	assert_int_equal(rl->rl_nr, 0);
	d_rank_list_free(rl);
	assert_null(daos_rank_list_parse("1:x:3", ":"));
	assert_null(daos_rank_list_parse("1:-2", ":"));
	assert_null(daos_rank_list_parse("99999999999", ":"));
	assert_null(daos_rank_list_parse(NULL, ":"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_round_trip),
	    cmocka_unit_test(test_numbers_only),
	    cmocka_unit_test(test_bad_input),
	    cmocka_unit_test(test_rank_list_parse),
	};

	return cmocka_run_group_tests_name("client_cont_prop", tests, NULL, NULL);
}
