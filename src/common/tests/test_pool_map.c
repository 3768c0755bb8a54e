/*
 * test_pool_map.c: building pool maps, lookups, DAOS's target state machine, versions, the
 * state of domains, extension, and the encoding (round trip; garbage rejected).
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

/* nodes x ranks-per-node x targets-per-rank, ranks numbered node * rpn + i. */
static struct pool_map *
make_map(uint32_t nodes, uint32_t rpn, uint32_t tpr)
{
	struct pool_map_rank_desc *d = calloc(nodes * rpn, sizeof(*d));
	struct pool_map *map = NULL;
	uint32_t i;

	assert_non_null(d);
	/* given in reverse order: create sorts them */
	for (i = 0; i < nodes * rpn; i++) {
		uint32_t r = nodes * rpn - 1 - i;

		d[i].rd_rank = r;
		d[i].rd_node = 100 + r / rpn;
		d[i].rd_tgt_nr = tpr;
	}
	assert_int_equal(pool_map_create(d, nodes * rpn, 1, &map), 0);
	free(d);
	return map;
}

static void
test_create(void **state)
{
	struct pool_map *map = make_map(4, 2, 4);
	struct pool_domain *dom;
	struct pool_target *tgt;
	uint32_t i;

	(void)state;
	assert_int_equal(pool_map_get_version(map), 1);
	assert_int_equal(map->pm_dom_nr, 1 + 4 + 8);
	assert_int_equal(map->pm_tgt_nr, 32);
	assert_int_equal(map->pm_level_nr, 3);
	assert_int_equal(pool_map_domain_nr(map, PO_COMP_TP_NODE), 4);
	assert_int_equal(pool_map_domain_nr(map, PO_COMP_TP_RANK), 8);
	assert_int_equal(pool_map_target_nr(map, PO_COMP_ST_UPIN), 32);
	assert_int_equal(map->pm_doms[0].do_tgt_nr, 32);
	/* nodes in ID order, ranks in order, targets by rank then index with IDs 0.. */
	for (i = 0; i < 4; i++) {
		dom = &map->pm_doms[1 + i];
		assert_int_equal(dom->do_comp.co_type, PO_COMP_TP_NODE);
		assert_int_equal(dom->do_comp.co_id, 100 + i);
		assert_int_equal(dom->do_tgt, i * 8);
		assert_int_equal(dom->do_tgt_nr, 8);
	}
	for (i = 0; i < 32; i++) {
		tgt = pool_map_find_target(map, i);
		assert_non_null(tgt);
		assert_int_equal(tgt->ta_comp.co_rank, i / 4);
		assert_int_equal(tgt->ta_comp.co_index, i % 4);
		assert_ptr_equal(pool_map_find_target_by_rank_idx(map, i / 4, i % 4), tgt);
		assert_int_equal(map->pm_doms[tgt->ta_dom].do_comp.co_rank, i / 4);
	}
	assert_null(pool_map_find_target(map, 32));
	assert_null(pool_map_find_target_by_rank_idx(map, 3, 4));
	assert_null(pool_map_find_target_by_rank_idx(map, 8, 0));
	dom = pool_map_find_rank(map, 5);
	assert_non_null(dom);
	assert_int_equal(dom->do_comp.co_type, PO_COMP_TP_RANK);
	assert_int_equal(map->pm_doms[dom->do_parent].do_comp.co_id, 102);
	assert_null(pool_map_find_rank(map, 9));
	pool_map_destroy(map);
}

static void
test_create_bad(void **state)
{
	struct pool_map_rank_desc d[3] = {{0, 1, 4}, {1, 1, 4}, {1, 2, 4}};
	struct pool_map *map = NULL;

	(void)state;
	assert_int_equal(pool_map_create(d, 0, 1, &map), -DER_INVAL);
	assert_int_not_equal(pool_map_create(d, 3, 1, &map), 0); /* rank 1 twice */
	d[2].rd_rank = 2;
	d[2].rd_tgt_nr = 0;
	assert_int_equal(pool_map_create(d, 3, 1, &map), -DER_INVAL);
	d[2].rd_tgt_nr = 257;
	assert_int_equal(pool_map_create(d, 3, 1, &map), -DER_INVAL);
	d[2].rd_tgt_nr = 256;
	assert_int_equal(pool_map_create(d, 3, 1, &map), 0);
	assert_int_equal(map->pm_tgt_nr, 264);
	pool_map_destroy(map);
}

/* DAOS's transitions: expected next state, 0 for "refused". */
static void
test_transitions(void **state)
{
	static const unsigned int states[] = {PO_COMP_ST_NEW,     PO_COMP_ST_UP,
					      PO_COMP_ST_UPIN,    PO_COMP_ST_DOWN,
					      PO_COMP_ST_DOWNOUT, PO_COMP_ST_DRAIN};
	/* rows: op; columns: NEW UP UPIN DOWN DOWNOUT DRAIN */
	static const int expect[7][6] = {
	    [POOL_MAP_EXCLUDE] = {-DER_NOSYS, PO_COMP_ST_DOWN, PO_COMP_ST_DOWN, PO_COMP_ST_DOWN,
				  PO_COMP_ST_DOWNOUT, PO_COMP_ST_DOWN},
	    [POOL_MAP_DRAIN] = {-DER_BUSY, -DER_BUSY, PO_COMP_ST_DRAIN, PO_COMP_ST_DOWN,
				PO_COMP_ST_DOWNOUT, PO_COMP_ST_DRAIN},
	    [POOL_MAP_REINT] = {-DER_BUSY, PO_COMP_ST_UP, PO_COMP_ST_UPIN, PO_COMP_ST_UP,
				PO_COMP_ST_UP, -DER_BUSY},
	    [POOL_MAP_EXTEND] = {PO_COMP_ST_UP, PO_COMP_ST_UP, PO_COMP_ST_UPIN, -DER_BUSY,
				 -DER_BUSY, -DER_BUSY},
	    [POOL_MAP_ADD_IN] = {PO_COMP_ST_NEW, PO_COMP_ST_UPIN, PO_COMP_ST_UPIN, PO_COMP_ST_DOWN,
				 PO_COMP_ST_DOWNOUT, PO_COMP_ST_DRAIN},
	    [POOL_MAP_EXCLUDE_OUT] = {PO_COMP_ST_NEW, PO_COMP_ST_UP, PO_COMP_ST_UPIN,
				      PO_COMP_ST_DOWNOUT, PO_COMP_ST_DOWNOUT, PO_COMP_ST_DOWNOUT},
	    [POOL_MAP_FINISH_REBUILD] = {PO_COMP_ST_NEW, PO_COMP_ST_UPIN, PO_COMP_ST_UPIN,
					 PO_COMP_ST_DOWNOUT, PO_COMP_ST_DOWNOUT,
					 PO_COMP_ST_DOWNOUT},
	};
	struct pool_map *map = make_map(2, 1, 2);
	struct pool_target *tgt = pool_map_find_target(map, 1);
	uint32_t id = 1;
	uint32_t ver;
	bool changed;
	int op;
	int s;
	int rc;

	(void)state;
	for (op = 0; op < 7; op++) {
		for (s = 0; s < 6; s++) {
			tgt->ta_comp.co_status = (uint8_t)states[s];
			ver = pool_map_get_version(map);
			rc = pool_map_update(map, &id, 1, (enum pool_map_op)op, &changed);
			if (expect[op][s] < 0) {
				assert_int_equal(rc, expect[op][s]);
				assert_int_equal(tgt->ta_comp.co_status, states[s]);
				assert_int_equal(pool_map_get_version(map), ver);
				continue;
			}
			assert_int_equal(rc, 0);
			assert_int_equal(tgt->ta_comp.co_status, expect[op][s]);
			/* the version goes up exactly when the state changes */
			assert_int_equal(changed, (unsigned int)expect[op][s] != states[s]);
			assert_int_equal(pool_map_get_version(map), ver + (changed ? 1 : 0));
		}
	}
	pool_map_destroy(map);
}

static void
test_update(void **state)
{
	struct pool_map *map = make_map(2, 2, 2);
	uint32_t ids[3] = {0, 1, 99};
	struct pool_domain *rank0;
	struct pool_domain *node;
	bool changed;

	(void)state;
	/* all or nothing: one unknown ID changes nothing */
	assert_int_equal(pool_map_update(map, ids, 3, POOL_MAP_EXCLUDE, &changed), -DER_NONEXIST);
	assert_false(changed);
	assert_int_equal(pool_map_target_nr(map, PO_COMP_ST_UPIN), 8);
	assert_int_equal(pool_map_get_version(map), 1);

	/* one target down: its rank stays UPIN; both down: the rank is DOWN, its node UPIN */
	rank0 = pool_map_find_rank(map, 0);
	node = &map->pm_doms[rank0->do_parent];
	assert_int_equal(pool_map_update(map, ids, 1, POOL_MAP_EXCLUDE, &changed), 0);
	assert_true(changed);
	assert_int_equal(pool_map_get_version(map), 2);
	assert_int_equal(pool_map_find_target(map, 0)->ta_comp.co_fseq, 2);
	assert_int_equal(rank0->do_comp.co_status, PO_COMP_ST_UPIN);
	assert_int_equal(pool_map_update(map, ids, 2, POOL_MAP_EXCLUDE, &changed), 0);
	assert_int_equal(pool_map_get_version(map), 3);
	assert_int_equal(rank0->do_comp.co_status, PO_COMP_ST_DOWN);
	assert_int_equal(rank0->do_comp.co_fseq, 3);
	assert_int_equal(node->do_comp.co_status, PO_COMP_ST_UPIN);
	/* the other rank of the node too: the node is DOWN */
	assert_int_equal(pool_map_update_rank(map, 1, POOL_MAP_EXCLUDE, &changed), 0);
	assert_int_equal(pool_map_get_version(map), 5);
	assert_int_equal(node->do_comp.co_status, PO_COMP_ST_DOWN);
	assert_int_equal(map->pm_doms[0].do_comp.co_status, PO_COMP_ST_UPIN);
	/* rebuild done, then reintegration and its rebuild */
	assert_int_equal(pool_map_update_rank(map, 0, POOL_MAP_EXCLUDE_OUT, &changed), 0);
	assert_int_equal(rank0->do_comp.co_status, PO_COMP_ST_DOWNOUT);
	assert_int_equal(pool_map_update_rank(map, 0, POOL_MAP_REINT, &changed), 0);
	assert_int_equal(rank0->do_comp.co_status, PO_COMP_ST_UP);
	assert_int_equal(pool_map_find_target(map, 0)->ta_comp.co_in_ver,
			 pool_map_get_version(map) - 1);
	assert_int_equal(pool_map_update_rank(map, 0, POOL_MAP_FINISH_REBUILD, &changed), 0);
	assert_int_equal(rank0->do_comp.co_status, PO_COMP_ST_UPIN);
	assert_int_equal(node->do_comp.co_status, PO_COMP_ST_UPIN);
	assert_int_equal(pool_map_update_rank(map, 7, POOL_MAP_EXCLUDE, &changed), -DER_NONEXIST);

	/* rank lists by state, ascending */
	{
		d_rank_list_t *ranks = NULL;

		assert_int_equal(
		    pool_map_get_ranks(map, PO_COMP_ST_DOWN | PO_COMP_ST_DOWNOUT, &ranks), 0);
		assert_int_equal(ranks->rl_nr, 1);
		assert_int_equal(ranks->rl_ranks[0], 1);
		d_rank_list_free(ranks);
		assert_int_equal(pool_map_get_ranks(map, PO_COMP_ST_UPIN, &ranks), 0);
		assert_int_equal(ranks->rl_nr, 3);
		assert_int_equal(ranks->rl_ranks[0], 0);
		assert_int_equal(ranks->rl_ranks[1], 2);
		assert_int_equal(ranks->rl_ranks[2], 3);
		d_rank_list_free(ranks);
		assert_int_equal(pool_map_get_ranks(map, PO_COMP_ST_NEW, &ranks), 0);
		assert_int_equal(ranks->rl_nr, 0);
		d_rank_list_free(ranks);
	}
	pool_map_destroy(map);
}

static void
test_extend(void **state)
{
	struct pool_map *map = make_map(2, 1, 2);
	struct pool_map_rank_desc add[3] = {{5, 300, 2}, {2, 101, 3}, {4, 300, 1}};
	uint32_t id = 0;
	struct pool_target *tgt;
	uint32_t i;

	(void)state;
	/* a failed target stays failed across the extension */
	assert_int_equal(pool_map_update(map, &id, 1, POOL_MAP_EXCLUDE, NULL), 0);
	assert_int_equal(pool_map_extend(map, add, 3), 0);
	assert_int_equal(pool_map_get_version(map), 3);
	assert_int_equal(map->pm_tgt_nr, 4 + 6);
	assert_int_equal(pool_map_domain_nr(map, PO_COMP_TP_NODE), 3);
	assert_int_equal(pool_map_domain_nr(map, PO_COMP_TP_RANK), 5);
	assert_int_equal(pool_map_find_target(map, 0)->ta_comp.co_status, PO_COMP_ST_DOWN);
	assert_int_equal(pool_map_target_nr(map, PO_COMP_ST_UPIN), 3);
	assert_int_equal(pool_map_target_nr(map, PO_COMP_ST_NEW), 6);
	for (i = 4; i < 10; i++) {
		tgt = pool_map_find_target(map, i);
		assert_non_null(tgt);
		assert_int_equal(tgt->ta_comp.co_status, PO_COMP_ST_NEW);
		assert_int_equal(tgt->ta_comp.co_ver, 3);
	}
	assert_int_equal(pool_map_find_rank(map, 2)->do_comp.co_status, PO_COMP_ST_NEW);
	assert_int_equal(map->pm_doms[pool_map_find_rank(map, 2)->do_parent].do_comp.co_id, 101);
	assert_int_equal(pool_map_find_target_by_rank_idx(map, 2, 2)->ta_comp.co_rank, 2);
	/* an existing rank is refused, the map unchanged */
	add[0].rd_rank = 1;
	assert_int_equal(pool_map_extend(map, add, 1), -DER_EXIST);
	assert_int_equal(pool_map_get_version(map), 3);
	/* extension then integration */
	assert_int_equal(pool_map_update_rank(map, 5, POOL_MAP_EXTEND, NULL), 0);
	assert_int_equal(pool_map_find_rank(map, 5)->do_comp.co_status, PO_COMP_ST_UP);
	assert_int_equal(pool_map_update_rank(map, 5, POOL_MAP_ADD_IN, NULL), 0);
	assert_int_equal(pool_map_find_rank(map, 5)->do_comp.co_status, PO_COMP_ST_UPIN);
	pool_map_destroy(map);
}

static void
test_codec(void **state)
{
	struct pool_map *map = make_map(3, 2, 3);
	struct pool_map *map2 = NULL;
	uint32_t ids[2] = {4, 7};
	uint8_t *buf;
	uint8_t *buf2;
	size_t size;
	uint64_t rnd = d_test_rand_seed(d_test_seed("test_codec"));
	int i;

	(void)state;
	assert_int_equal(pool_map_update(map, ids, 2, POOL_MAP_EXCLUDE, NULL), 0);
	size = pool_map_encoded_size(map);
	assert_int_equal(size, 32 + 32 * (1 + 3 + 6 + 18));
	buf = malloc(size);
	buf2 = malloc(size);
	assert_int_equal(pool_map_encode(map, buf, size - 1), -DER_OVERFLOW);
	assert_int_equal(pool_map_encode(map, buf, size), (ssize_t)size);
	assert_int_equal(pool_map_decode(buf, size, &map2), 0);
	assert_int_equal(pool_map_get_version(map2), pool_map_get_version(map));
	assert_int_equal(pool_map_find_target(map2, 7)->ta_comp.co_status, PO_COMP_ST_DOWN);
	assert_int_equal(pool_map_encode(map2, buf2, size), (ssize_t)size);
	assert_memory_equal(buf, buf2, size);
	pool_map_destroy(map2);

	/* truncated, extended, wrong magic, other format */
	assert_int_equal(pool_map_decode(buf, size - 1, &map2), -DER_INVAL);
	assert_int_equal(pool_map_decode(buf, 0, &map2), -DER_INVAL);
	assert_int_equal(pool_map_decode(NULL, size, &map2), -DER_INVAL);
	memcpy(buf2, buf, size);
	buf2[4] = 2;
	assert_int_equal(pool_map_decode(buf2, size, &map2), -DER_MISMATCH);
	/* every flipped bit is caught (by the checksum or the checks) */
	for (i = 0; i < 2000; i++) {
		uint64_t r = d_test_rand(&rnd);

		memcpy(buf2, buf, size);
		buf2[r % size] ^= (uint8_t)(1U << ((r >> 32) % 8));
		assert_int_not_equal(pool_map_decode(buf2, size, &map2), 0);
	}
	pool_map_destroy(map);
	free(buf);
	free(buf2);
}

/* Valid checksum, broken structure: the decoder must refuse each. */
static void
test_codec_structure(void **state)
{
	struct pool_map *map = make_map(2, 2, 2);
	struct pool_map *map2 = NULL;
	size_t size = pool_map_encoded_size(map);
	uint8_t *buf = malloc(size);
	uint8_t *b = malloc(size);
	/* record offsets: root 32, nodes 64.., ranks 128.., targets 256.. */
	const size_t root = 32, node0 = 64, rank0 = 128, tgt0 = 256, tgt1 = 288;
	struct {
		size_t off;
		uint8_t val;
	} cases[] = {
	    {root + 0, 2},    /* root is not ROOT */
	    {node0 + 0, 1},   /* node typed RANK: mixed level */
	    {node0 + 0, 255}, /* a second root */
	    {rank0 + 2, 0},   /* no state */
	    {rank0 + 2, 3},   /* two states */
	    {rank0 + 2, 64},  /* unknown state */
	    {tgt0 + 0, 1},    /* target typed RANK */
	    {tgt0 + 3, 1},    /* index out of order */
	    {tgt1 + 4, 0},    /* duplicate target ID */
	    {tgt0 + 4, 200},  /* target ID out of range */
	    {tgt0 + 8, 1},    /* target of another rank */
	    {root + 28, 3},   /* root claims 3 nodes */
	    {root + 28, 0},   /* root has no children */
	    {rank0 + 28, 3},  /* rank claims 3 targets */
	    {rank0 + 8, 1},   /* rank 0 renamed 1: duplicate rank */
	    {tgt0 + 28, 1},   /* target with children */
	    {6, 2},           /* header level count wrong */
	    {12, 6},          /* domain count wrong */
	};
	unsigned int i;

	(void)state;
	assert_int_equal(pool_map_encode(map, buf, size), (ssize_t)size);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memcpy(b, buf, size);
		b[cases[i].off] = cases[i].val;
		pm_encode_fixup(b, size);
		print_message("case %u\n", i);
		assert_int_equal(pool_map_decode(b, size, &map2), -DER_INVAL);
	}
	/* and the untouched copy, fixed up, still decodes */
	memcpy(b, buf, size);
	pm_encode_fixup(b, size);
	assert_int_equal(pool_map_decode(b, size, &map2), 0);
	pool_map_destroy(map2);
	pool_map_destroy(map);
	free(buf);
	free(b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_create),          cmocka_unit_test(test_create_bad),
	    cmocka_unit_test(test_transitions),     cmocka_unit_test(test_update),
	    cmocka_unit_test(test_extend),          cmocka_unit_test(test_codec),
	    cmocka_unit_test(test_codec_structure),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
