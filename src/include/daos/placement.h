/*
 * daos/placement.h: where the shards of an object live (src/common/placement.c). Not
 * installed.
 *
 * Placement is algorithmic, DAOS's jump map: no table is stored anywhere. For each shard a
 * key derived from the OID and the shard index walks down the pool map tree, choosing a
 * child at each level by jump consistent hashing, and skipping children that cannot take
 * the shard: the shards of one redundancy group go to distinct fault domains, no two shards
 * of an object share a target while free targets remain, and the object as a whole spreads
 * over as many domains as it can. The walk ignores target states (NEW targets excepted), so
 * a layout only changes where a target fails: shards on DOWN or DOWNOUT targets are then
 * remapped to spares found by the same walk with another key.
 *
 * Context: pure functions of (map, oid, md); any thread; the caller keeps the map alive and
 * unchanged during the call.
 */
#ifndef D_DAOS_PLACEMENT_H
#define D_DAOS_PLACEMENT_H

#include <daos_types.h>
#include <daos_obj.h>
#include <daos/pool_map.h>

/** po_target of a shard for which no target is left. */
#define PL_TGT_NONE UINT32_MAX

/** One shard of a layout. */
struct pl_obj_shard {
	/** target ID in the pool map (PL_TGT_NONE if none could be found) */
	uint32_t po_target;
	/** the target's rank and index in the rank */
	d_rank_t po_rank;
	uint32_t po_index;
	/** map version of the failure that moved it here (0: original place) */
	uint32_t po_fseq;
	/** the shard was moved off a failed target, or its target is being (re)integrated:
	 *  rebuild is filling it */
	uint32_t po_rebuilding;
};

/** Where each shard of an object lives: ol_nr = ol_grp_nr * ol_grp_size shards. */
struct pl_obj_layout {
	/** pool map version it was computed from */
	uint32_t ol_ver;
	uint32_t ol_grp_size;
	uint32_t ol_grp_nr;
	uint32_t ol_nr;
	/** shard i belongs to group i / ol_grp_size */
	struct pl_obj_shard ol_shards[];
};

/** pmd_flags: place redundant classes too (the object layer sets it once it handles them). */
#define PL_PLACE_REDUNDANT (1U << 0)

/** Object metadata placement depends on besides the OID. */
struct pl_obj_md {
	/** fault domain level: PO_COMP_TP_NODE or PO_COMP_TP_RANK (0: NODE if the map has
	 *  nodes) */
	uint32_t pmd_fdom_lvl;
	/** PL_PLACE_* */
	uint32_t pmd_flags;
};

/**
 * Compute the layout of @oid on @map into a new *@layoutp (free with pl_obj_layout_free).
 * @md may be NULL (defaults). Returns 0; -DER_INVAL for an OID of no known class, a group
 * wider than the fault domains, or a map without available targets; -DER_NOSYS for a
 * redundant class without PL_PLACE_REDUNDANT; -DER_NOMEM.
 */
int pl_obj_place(const struct pool_map *map, daos_obj_id_t oid, const struct pl_obj_md *md,
		 struct pl_obj_layout **layoutp);

void pl_obj_layout_free(struct pl_obj_layout *layout);

#endif /* D_DAOS_PLACEMENT_H */
