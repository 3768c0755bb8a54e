/*
 * test_placement.c: the jump map. Layouts are deterministic, spread evenly, keep a group's
 * shards in distinct fault domains, and a failed target moves only the shards it held.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>

#include <d_test.h>
#include "common_internal.h"
#include <daos/pool_map.h>
#include <daos/placement.h>

static const struct pl_obj_md md_redun = {.pmd_flags = PL_PLACE_REDUNDANT};

static struct pool_map *
make_map(uint32_t nodes, uint32_t rpn, uint32_t tpr)
{
	struct pool_map_rank_desc *d = calloc(nodes * rpn, sizeof(*d));
	struct pool_map *map = NULL;
	uint32_t i;

	assert_non_null(d);
	for (i = 0; i < nodes * rpn; i++) {
		d[i].rd_rank = i;
		d[i].rd_node = i / rpn;
		d[i].rd_tgt_nr = tpr;
	}
	assert_int_equal(pool_map_create(d, nodes * rpn, 1, &map), 0);
	free(d);
	return map;
}

static daos_obj_id_t
make_oid(uint64_t *rnd, daos_oclass_id_t cid)
{
	daos_obj_id_t oid = {.lo = d_test_rand(rnd), .hi = d_test_rand(rnd)};
	struct daos_oclass_attr attr;

	assert_int_equal(daos_oclass_attr_get(cid, &attr), 0);
	daos_obj_set_oid(&oid, DAOS_OT_MULTI_HASHED, (enum daos_obj_redun)(cid >> OC_REDUN_SHIFT),
			 cid & 0xFFFF, 0);
	return oid;
}

static struct pl_obj_layout *
place(const struct pool_map *map, daos_obj_id_t oid, const struct pl_obj_md *md)
{
	struct pl_obj_layout *lo = NULL;

	assert_int_equal(pl_obj_place(map, oid, md, &lo), 0);
	assert_non_null(lo);
	return lo;
}

/* The node (fault domain at @level) of target @id. */
static uint32_t
tgt_fdom(const struct pool_map *map, uint32_t id, uint32_t level)
{
	uint32_t d = pool_map_find_target(map, id)->ta_dom;

	while (map->pm_doms[d].do_level > level)
		d = map->pm_doms[d].do_parent;
	return d;
}

static void
assert_groups_apart(const struct pool_map *map, const struct pl_obj_layout *lo, uint32_t lvl)
{
	uint32_t g;
	uint32_t i;
	uint32_t j;

	for (g = 0; g < lo->ol_grp_nr; g++) {
		for (i = 0; i < lo->ol_grp_size; i++) {
			for (j = i + 1; j < lo->ol_grp_size; j++) {
				uint32_t a = lo->ol_shards[g * lo->ol_grp_size + i].po_target;
				uint32_t b = lo->ol_shards[g * lo->ol_grp_size + j].po_target;

				assert_int_not_equal(tgt_fdom(map, a, lvl), tgt_fdom(map, b, lvl));
			}
		}
	}
}

static void
test_determinism(void **state)
{
	struct pool_map *map = make_map(4, 2, 4);
	struct pool_map *map2 = NULL;
	uint64_t rnd = d_test_rand_seed(d_test_seed("test_determinism"));
	struct pl_obj_layout *a;
	struct pl_obj_layout *b;
	size_t size = pool_map_encoded_size(map);
	uint8_t *buf = malloc(size);
	int i;

	(void)state;
	/* the same layout from the same map, from a copy, and from a decoded map */
	assert_int_equal(pool_map_encode(map, buf, size), (ssize_t)size);
	assert_int_equal(pool_map_decode(buf, size, &map2), 0);
	for (i = 0; i < 200; i++) {
		daos_obj_id_t oid = make_oid(&rnd, i % 2 ? OC_S4 : OC_RP_3G2);

		a = place(map, oid, &md_redun);
		b = place(map2, oid, &md_redun);
		assert_int_equal(a->ol_nr, b->ol_nr);
		assert_memory_equal(a->ol_shards, b->ol_shards, sizeof(a->ol_shards[0]) * a->ol_nr);
		pl_obj_layout_free(b);
		b = place(map, oid, &md_redun);
		assert_memory_equal(a->ol_shards, b->ol_shards, sizeof(a->ol_shards[0]) * a->ol_nr);
		pl_obj_layout_free(a);
		pl_obj_layout_free(b);
	}
	/* a known layout, pinned: placement is part of the on-disk format */
	{
		daos_obj_id_t oid = {.lo = 42, .hi = 0};
		static const uint32_t expect[4] = {14, 16, 25, 4};

		daos_obj_set_oid(&oid, DAOS_OT_MULTI_HASHED, DAOS_OR_RP_1, 4, 0);
		a = place(map, oid, NULL);
		assert_int_equal(a->ol_nr, 4);
		for (i = 0; i < 4; i++)
			assert_int_equal(a->ol_shards[i].po_target, expect[i]);
		pl_obj_layout_free(a);
	}
	pool_map_destroy(map2);
	pool_map_destroy(map);
	free(buf);
}

/* S1 objects spread evenly over the targets: chi-square and a max/min bound. */
static void
test_balance(void **state)
{
	enum { NOBJ = 32000 };
	struct pool_map *map = make_map(4, 2, 4);
	uint64_t rnd = d_test_rand_seed(d_test_seed("test_balance"));
	uint32_t hits[32] = {0};
	uint32_t node_hits[4] = {0};
	double chi = 0;
	double e = NOBJ / 32.0;
	uint32_t lo_h = UINT32_MAX;
	uint32_t hi_h = 0;
	int i;

	(void)state;
	for (i = 0; i < NOBJ; i++) {
		struct pl_obj_layout *lo = place(map, make_oid(&rnd, OC_S1), NULL);

		assert_int_equal(lo->ol_nr, 1);
		hits[lo->ol_shards[0].po_target]++;
		node_hits[lo->ol_shards[0].po_rank / 2]++;
		pl_obj_layout_free(lo);
	}
	for (i = 0; i < 32; i++) {
		chi += (hits[i] - e) * (hits[i] - e) / e;
		lo_h = hits[i] < lo_h ? hits[i] : lo_h;
		hi_h = hits[i] > hi_h ? hits[i] : hi_h;
	}
	print_message("chi-square %.1f (31 df), min %u max %u\n", chi, lo_h, hi_h);
	/* 31 degrees of freedom: p(chi2 > 80) < 1e-5 */
	assert_true(chi < 80);
	assert_true(hi_h < lo_h * 1.3);
	pool_map_destroy(map);
}

/* S4 uses 4 targets on 4 nodes; SX every target once; S16 two per node. */
static void
test_spread(void **state)
{
	struct pool_map *map = make_map(4, 2, 4);
	uint64_t rnd = d_test_rand_seed(d_test_seed("test_spread"));
	int i;

	(void)state;
	for (i = 0; i < 100; i++) {
		struct pl_obj_layout *lo = place(map, make_oid(&rnd, OC_S4), NULL);
		uint8_t used[32] = {0};
		uint32_t nodes = 0;
		uint32_t j;

		assert_int_equal(lo->ol_nr, 4);
		assert_int_equal(lo->ol_grp_nr, 4);
		for (j = 0; j < 4; j++) {
			uint32_t n = lo->ol_shards[j].po_rank / 2;

			assert_int_equal(used[lo->ol_shards[j].po_target], 0);
			used[lo->ol_shards[j].po_target] = 1;
			nodes |= 1U << n;
		}
		assert_int_equal(nodes, 0xF);
		pl_obj_layout_free(lo);

		lo = place(map, make_oid(&rnd, OC_SX), NULL);
		assert_int_equal(lo->ol_nr, 32);
		memset(used, 0, sizeof(used));
		for (j = 0; j < 32; j++) {
			assert_int_equal(used[lo->ol_shards[j].po_target], 0);
			used[lo->ol_shards[j].po_target] = 1;
		}
		pl_obj_layout_free(lo);

		/* more shards than targets wrap around */
		lo = place(map, make_oid(&rnd, (DAOS_OR_RP_1 << OC_REDUN_SHIFT) | 40), NULL);
		assert_int_equal(lo->ol_nr, 40);
		pl_obj_layout_free(lo);
	}
	pool_map_destroy(map);
}

static void
test_fault_domains(void **state)
{
	struct pool_map *map = make_map(8, 2, 4);
	struct pool_map *one_node = make_map(1, 4, 4);
	struct pl_obj_md md_rank = {.pmd_fdom_lvl = PO_COMP_TP_RANK,
				    .pmd_flags = PL_PLACE_REDUNDANT};
	uint64_t rnd = d_test_rand_seed(d_test_seed("test_fault_domains"));
	static const daos_oclass_id_t classes[] = {OC_RP_2G4, OC_RP_3G8, OC_EC_4P2G2, OC_EC_2P1G8,
						   OC_RP_6G1};
	struct pl_obj_layout *lo = NULL;
	int i;

	(void)state;
	for (i = 0; i < 500; i++) {
		daos_oclass_id_t cid = classes[i % 5];

		lo = place(map, make_oid(&rnd, cid), &md_redun);
		assert_groups_apart(map, lo, 1);
		pl_obj_layout_free(lo);
		/* rank-level domains on one node */
		if (cid != OC_RP_6G1 && cid != OC_EC_4P2G2) {
			lo = place(one_node,
				   make_oid(&rnd, cid == OC_RP_3G8 ? OC_RP_3G2 : OC_RP_2G4),
				   &md_rank);
			assert_groups_apart(one_node, lo, 2);
			pl_obj_layout_free(lo);
		}
	}
	/* RP_XSF: a replica per node */
	lo = place(map, make_oid(&rnd, OC_RP_XSF), &md_redun);
	assert_int_equal(lo->ol_grp_size, 8);
	assert_groups_apart(map, lo, 1);
	pl_obj_layout_free(lo);

	/* refused: redundancy not enabled, wider than the domains, unknown class */
	assert_int_equal(pl_obj_place(map, make_oid(&rnd, OC_RP_2G1), NULL, &lo), -DER_NOSYS);
	assert_int_equal(pl_obj_place(one_node, make_oid(&rnd, OC_RP_2G1), &md_redun, &lo),
			 -DER_INVAL);
	assert_int_equal(pl_obj_place(map, make_oid(&rnd, OC_EC_16P2G1), &md_redun, &lo),
			 -DER_INVAL);
	{
		daos_obj_id_t bad = {.lo = 1, .hi = 0};

		daos_obj_set_oid(&bad, DAOS_OT_MULTI_HASHED, (enum daos_obj_redun)200, 1, 0);
		assert_int_equal(pl_obj_place(map, bad, NULL, &lo), -DER_INVAL);
	}
	pool_map_destroy(one_node);
	pool_map_destroy(map);
}

/* Fail targets one by one: only the shards on a failed target move, to available targets. */
static void
test_failure_remap(void **state)
{
	enum { NOBJ = 400 };
	struct pool_map *map = make_map(6, 2, 4);
	uint64_t rnd = d_test_rand_seed(d_test_seed("test_failure_remap"));
	static const daos_oclass_id_t classes[] = {OC_S1, OC_S4, OC_RP_3G2, OC_EC_2P1G4};
	daos_obj_id_t oids[NOBJ];
	struct pl_obj_layout *before[NOBJ];
	uint32_t failed[3];
	uint32_t moved = 0;
	int f;
	int i;

	(void)state;
	for (i = 0; i < NOBJ; i++) {
		oids[i] = make_oid(&rnd, classes[i % 4]);
		before[i] = place(map, oids[i], &md_redun);
	}
	for (f = 0; f < 3; f++) {
		bool changed;

		failed[f] = (uint32_t)(d_test_rand(&rnd) % map->pm_tgt_nr);
		assert_int_equal(pool_map_update(map, &failed[f], 1, POOL_MAP_EXCLUDE, &changed),
				 0);
		for (i = 0; i < NOBJ; i++) {
			struct pl_obj_layout *lo = place(map, oids[i], &md_redun);
			uint32_t j;

			assert_int_equal(lo->ol_nr, before[i]->ol_nr);
			assert_groups_apart(map, lo, 1);
			for (j = 0; j < lo->ol_nr; j++) {
				uint32_t was = before[i]->ol_shards[j].po_target;
				uint32_t now = lo->ol_shards[j].po_target;
				bool hit = false;
				int k;

				for (k = 0; k <= f; k++)
					hit |= was == failed[k];
				if (!hit) {
					assert_int_equal(now, was);
					assert_int_equal(lo->ol_shards[j].po_rebuilding, 0);
					continue;
				}
				moved++;
				assert_int_not_equal(now, PL_TGT_NONE);
				assert_int_equal(pool_map_find_target(map, now)->ta_comp.co_status,
						 PO_COMP_ST_UPIN);
				assert_int_equal(lo->ol_shards[j].po_rebuilding, 1);
				assert_int_not_equal(lo->ol_shards[j].po_fseq, 0);
			}
			pl_obj_layout_free(lo);
		}
	}
	assert_true(moved > 0);
	/* rebuild finished (DOWNOUT): the spares stay where they are */
	for (f = 0; f < 3; f++) {
		struct pl_obj_layout *down[NOBJ];

		if (f > 0 && failed[f] == failed[f - 1])
			continue;
		for (i = 0; i < NOBJ; i++)
			down[i] = place(map, oids[i], &md_redun);
		assert_int_equal(pool_map_update(map, &failed[f], 1, POOL_MAP_EXCLUDE_OUT, NULL),
				 0);
		for (i = 0; i < NOBJ; i++) {
			struct pl_obj_layout *lo = place(map, oids[i], &md_redun);
			uint32_t j;

			for (j = 0; j < lo->ol_nr; j++)
				assert_int_equal(lo->ol_shards[j].po_target,
						 down[i]->ol_shards[j].po_target);
			pl_obj_layout_free(lo);
			pl_obj_layout_free(down[i]);
		}
	}
	/* reintegrated and rebuilt: back to the original layout */
	for (f = 0; f < 3; f++) {
		assert_int_equal(pool_map_update(map, &failed[f], 1, POOL_MAP_REINT, NULL), 0);
		assert_int_equal(pool_map_update(map, &failed[f], 1, POOL_MAP_ADD_IN, NULL), 0);
	}
	for (i = 0; i < NOBJ; i++) {
		struct pl_obj_layout *lo = place(map, oids[i], &md_redun);

		assert_memory_equal(lo->ol_shards, before[i]->ol_shards,
				    sizeof(lo->ol_shards[0]) * lo->ol_nr);
		pl_obj_layout_free(lo);
		pl_obj_layout_free(before[i]);
	}
	pool_map_destroy(map);
}

/* A whole node down: its shards move off it, groups stay apart while nodes remain. */
static void
test_node_failure(void **state)
{
	struct pool_map *map = make_map(4, 2, 4);
	uint64_t rnd = d_test_rand_seed(d_test_seed("test_node_failure"));
	int i;

	(void)state;
	assert_int_equal(pool_map_update_rank(map, 2, POOL_MAP_EXCLUDE, NULL), 0);
	assert_int_equal(pool_map_update_rank(map, 3, POOL_MAP_EXCLUDE, NULL), 0);
	for (i = 0; i < 200; i++) {
		struct pl_obj_layout *lo = place(map, make_oid(&rnd, OC_RP_3G2), &md_redun);
		uint32_t j;

		assert_groups_apart(map, lo, 1);
		for (j = 0; j < lo->ol_nr; j++)
			assert_true(lo->ol_shards[j].po_rank != 2 && lo->ol_shards[j].po_rank != 3);
		pl_obj_layout_free(lo);
	}
	pool_map_destroy(map);
}

/*
 * A target being reintegrated (UP) or drained (DRAIN) keeps its shards: UP ones are marked
 * rebuilding (rebuild is filling them), DRAIN ones are served until the drain ends.
 */
static void
test_up_drain(void **state)
{
	struct pool_map *map = make_map(4, 1, 4);
	uint64_t rnd = d_test_rand_seed(d_test_seed("test_up_drain"));
	uint32_t up = 5;
	uint32_t drain = 10;
	uint32_t seen_up = 0;
	uint32_t seen_drain = 0;
	int i;

	(void)state;
	assert_int_equal(pool_map_update(map, &up, 1, POOL_MAP_EXCLUDE, NULL), 0);
	assert_int_equal(pool_map_update(map, &up, 1, POOL_MAP_REINT, NULL), 0);
	assert_int_equal(pool_map_update(map, &drain, 1, POOL_MAP_DRAIN, NULL), 0);
	for (i = 0; i < 400; i++) {
		struct pl_obj_layout *lo = place(map, make_oid(&rnd, OC_S2), NULL);
		uint32_t j;

		for (j = 0; j < lo->ol_nr; j++) {
			if (lo->ol_shards[j].po_target == up) {
				assert_int_equal(lo->ol_shards[j].po_rebuilding, 1);
				seen_up++;
			} else {
				assert_int_equal(lo->ol_shards[j].po_rebuilding, 0);
				seen_drain += lo->ol_shards[j].po_target == drain;
			}
		}
		pl_obj_layout_free(lo);
	}
	assert_true(seen_up > 0 && seen_drain > 0);
	pool_map_destroy(map);
}

/* NEW targets hold nothing until they are extended into the pool. */
static void
test_extension(void **state)
{
	struct pool_map *map = make_map(2, 1, 4);
	struct pool_map_rank_desc add = {.rd_rank = 7, .rd_node = 9, .rd_tgt_nr = 4};
	uint64_t rnd = d_test_rand_seed(d_test_seed("test_extension"));
	uint32_t on_new = 0;
	int i;

	(void)state;
	assert_int_equal(pool_map_extend(map, &add, 1), 0);
	for (i = 0; i < 300; i++) {
		struct pl_obj_layout *lo = place(map, make_oid(&rnd, OC_S2), NULL);

		assert_int_not_equal(lo->ol_shards[0].po_rank, 7);
		assert_int_not_equal(lo->ol_shards[1].po_rank, 7);
		pl_obj_layout_free(lo);
	}
	assert_int_equal(pool_map_update_rank(map, 7, POOL_MAP_EXTEND, NULL), 0);
	assert_int_equal(pool_map_update_rank(map, 7, POOL_MAP_ADD_IN, NULL), 0);
	for (i = 0; i < 300; i++) {
		struct pl_obj_layout *lo = place(map, make_oid(&rnd, OC_S1), NULL);

		on_new += lo->ol_shards[0].po_rank == 7;
		pl_obj_layout_free(lo);
	}
	/* a third of the nodes: about 100 of 300 */
	assert_true(on_new > 50 && on_new < 150);
	pool_map_destroy(map);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_determinism),   cmocka_unit_test(test_balance),
	    cmocka_unit_test(test_spread),        cmocka_unit_test(test_fault_domains),
	    cmocka_unit_test(test_failure_remap), cmocka_unit_test(test_node_failure),
	    cmocka_unit_test(test_up_drain),      cmocka_unit_test(test_extension),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
