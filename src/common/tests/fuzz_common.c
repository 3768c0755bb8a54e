/*
 * fuzz_common.c: fuzz entries of src/common's parsers: the pool map decoder and the property
 * string parser (daos_prop_from_str, which reads what users type).
 *
 * Pool map: each input is decoded twice: as it is
 * (which mostly exercises the header and checksum checks) and with its size and checksum
 * fields made consistent (which lets mutations reach the structural checks). A map that
 * decodes must encode back to the same bytes and answer lookups; anything else aborts.
 * Built as the libFuzzer target fuzz_common_pool_map with clang (-DCOMMON_FUZZ_MAIN) and,
 * without it, linked into common_fuzz_replay.
 */
#include <stdio.h>
#include <stdlib.h>

#include "common_internal.h"
#include <daos/pool_map.h>
#include <daos/placement.h>
#include <daos/prop.h>
#include "fuzz_common.h"

/* Place an object of class @cid on @map: any outcome but a crash or a bad layout is fine. */
static void
fuzz_place(const struct pool_map *map, daos_oclass_id_t cid)
{
	struct pl_obj_md md = {.pmd_flags = PL_PLACE_REDUNDANT};
	struct pl_obj_layout *lo = NULL;
	daos_obj_id_t oid = {.lo = 7, .hi = 0};
	uint32_t i;

	daos_obj_set_oid(&oid, DAOS_OT_MULTI_HASHED, (enum daos_obj_redun)(cid >> OC_REDUN_SHIFT),
			 cid & 0xFFFF, 0);
	if (pl_obj_place(map, oid, &md, &lo) != 0)
		return;
	for (i = 0; i < lo->ol_nr; i++) {
		if (lo->ol_shards[i].po_target != PL_TGT_NONE &&
		    pool_map_find_target(map, lo->ol_shards[i].po_target) == NULL)
			abort();
	}
	pl_obj_layout_free(lo);
}

static void
fuzz_check_map(struct pool_map *map, const uint8_t *data, size_t size)
{
	uint8_t *again;
	uint32_t i;

	if (pool_map_encoded_size(map) != size)
		abort();
	again = malloc(size);
	if (again == NULL)
		abort();
	if (pool_map_encode(map, again, size) != (ssize_t)size || memcmp(again, data, size) != 0)
		abort();
	free(again);
	for (i = 0; i < map->pm_tgt_nr; i++) {
		struct pool_target *tgt = pool_map_find_target(map, i);

		if (tgt == NULL || pool_map_find_target_by_rank_idx(map, tgt->ta_comp.co_rank,
								    tgt->ta_comp.co_index) != tgt)
			abort();
	}
	if (pool_map_target_nr(map, PO_COMP_ST_ALL) != map->pm_tgt_nr)
		abort();
	fuzz_place(map, OC_S1);
	fuzz_place(map, OC_SX);
	fuzz_place(map, OC_RP_2G2);
}

unsigned long common_fuzz_decoded;

int
common_fuzz_pool_map(const uint8_t *data, size_t size)
{
	struct pool_map *map = NULL;
	uint8_t *fixed;

	if (pool_map_decode(data, size, &map) == 0) {
		fuzz_check_map(map, data, size);
		pool_map_destroy(map);
		common_fuzz_decoded++;
	}
	if (size < POOL_MAP_HDR_SIZE)
		return 0;
	fixed = malloc(size);
	if (fixed == NULL)
		abort();
	memcpy(fixed, data, size);
	pm_encode_fixup(fixed, size);
	if (pool_map_decode(fixed, size, &map) == 0) {
		fuzz_check_map(map, fixed, size);
		pool_map_destroy(map);
		common_fuzz_decoded++;
	}
	free(fixed);
	return 0;
}

/*
 * Property strings: parse; a list that parses must hold valid, distinct types whose values
 * survive a deep copy.
 */
int
common_fuzz_prop_str(const uint8_t *data, size_t size)
{
	daos_prop_t *prop = NULL;
	daos_prop_t *dup;
	uint32_t i;
	uint32_t j;

	if (daos_prop_from_str((const char *)data, size, &prop) != 0)
		return 0;
	if (prop->dpp_nr == 0)
		abort();
	for (i = 0; i < prop->dpp_nr; i++) {
		if (!daos_prop_type_valid(prop->dpp_entries[i].dpe_type))
			abort();
		for (j = i + 1; j < prop->dpp_nr; j++) {
			if (prop->dpp_entries[i].dpe_type == prop->dpp_entries[j].dpe_type)
				abort();
		}
	}
	dup = daos_prop_dup(prop);
	if (dup == NULL)
		abort();
	daos_prop_free(dup);
	daos_prop_free(prop);
	common_fuzz_decoded++;
	return 0;
}

#ifdef COMMON_FUZZ_MAIN
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* garbage is expected here: keep the log quiet */
	setenv("D_LOG_MASK", "CRIT", 0);
	return COMMON_FUZZ_MAIN(data, size);
}
#endif
