/*
 * placement.c: the jump map. Computes where the shards of an object live from the pool map
 * and the OID alone (see daos/placement.h for the model). Sits on pool_map.c and oclass.c.
 *
 * A shard is placed in two steps, each a walk down the tree choosing among a domain's
 * children with jump consistent hashing (a rejected choice rehashes the key; the number of
 * buckets is always the full child count, so that a child that becomes acceptable or not
 * shifts nothing else):
 *   1. down to a fault domain (node or rank, per pmd_fdom_lvl) that no other shard of the
 *      group uses and that has a free target;
 *   2. down from it to a free target.
 * Among acceptable children, those the object has not used yet are preferred; when all have
 * been used their marks are cleared, so an object spreads evenly over the tree.
 *
 * Pass 1 places every shard ignoring target states (only NEW targets are left out); pass 2
 * moves the shards whose targets are DOWN or DOWNOUT to spares: the same walk with another
 * key, over available targets not used by the object, keeping the group's domains distinct
 * while possible.
 */
#define D_LOGFAC common

#include "common_internal.h"
#include <daos/pool_map.h>
#include <daos/placement.h>

struct pl_ctx {
	const struct pool_map *pc_map;
	/* depth of the fault-domain level in the tree */
	uint32_t pc_fdom_level;
	/* states a target may have to be chosen in this pass */
	unsigned int pc_elig;
	/* per target: taken by a shard of the object */
	uint8_t *pc_tgt_used;
	/* per domain: the object has a shard below it (soft spreading) */
	uint8_t *pc_dom_used;
	/* per fault domain: a shard of the current group is in it */
	uint8_t *pc_grp_used;
	/* per domain: eligible targets below it not taken yet */
	uint32_t *pc_free;
	/* per domain: acceptable fault domains below it (step 1) */
	uint32_t *pc_acc;
};

/* splitmix64 finaliser: a well-mixed 64-bit function of @x. */
static uint64_t
pl_mix(uint64_t x)
{
	x += 0x9E3779B97F4A7C15ULL;
	x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
	x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
	return x ^ (x >> 31);
}

/* The key of shard @shard of @oid in pass @pass. */
static uint64_t
pl_shard_key(daos_obj_id_t oid, uint32_t shard, uint32_t pass)
{
	return pl_mix(pl_mix(oid.lo ^ pl_mix(oid.hi)) ^ ((uint64_t)pass << 32 | shard));
}

static bool
pl_tgt_eligible(const struct pl_ctx *pc, uint32_t t)
{
	return (pc->pc_map->pm_tgts[t].ta_comp.co_status & pc->pc_elig) != 0;
}

/* Recompute pc_free from pc_tgt_used and the eligibility of this pass. */
static void
pl_free_compute(struct pl_ctx *pc)
{
	const struct pool_map *map = pc->pc_map;
	uint32_t i;

	/* ranks count their targets; every other domain sums its children, deepest first */
	for (i = map->pm_dom_nr; i-- > 0;) {
		const struct pool_domain *dom = &map->pm_doms[i];
		uint32_t j;

		pc->pc_free[i] = 0;
		if (dom->do_comp.co_type == PO_COMP_TP_RANK) {
			for (j = dom->do_tgt; j < dom->do_tgt + dom->do_tgt_nr; j++) {
				if (!pc->pc_tgt_used[j] && pl_tgt_eligible(pc, j))
					pc->pc_free[i]++;
			}
			continue;
		}
		for (j = 0; j < dom->do_comp.co_nr; j++)
			pc->pc_free[i] += pc->pc_free[dom->do_child + j];
	}
}

/* Take target @t (pm_tgts index) for a shard: update the counters up the tree. */
static void
pl_take(struct pl_ctx *pc, uint32_t t)
{
	const struct pool_map *map = pc->pc_map;
	uint32_t d = map->pm_tgts[t].ta_dom;

	D_ASSERT(!pc->pc_tgt_used[t]);
	pc->pc_tgt_used[t] = 1;
	for (;;) {
		if (pl_tgt_eligible(pc, t)) {
			D_ASSERT(pc->pc_free[d] > 0);
			pc->pc_free[d]--;
		}
		pc->pc_dom_used[d] = 1;
		if (map->pm_doms[d].do_level == pc->pc_fdom_level)
			pc->pc_grp_used[d] = 1;
		if (d == 0)
			break;
		d = map->pm_doms[d].do_parent;
	}
}

/* Bottom-up: acceptable fault domains below each domain (@strict: not used by the group). */
static void
pl_acc_compute(struct pl_ctx *pc, bool strict)
{
	const struct pool_map *map = pc->pc_map;
	uint32_t i;
	uint32_t j;

	for (i = map->pm_dom_nr; i-- > 0;) {
		const struct pool_domain *dom = &map->pm_doms[i];

		if (dom->do_level > pc->pc_fdom_level)
			continue;
		if (dom->do_level == pc->pc_fdom_level) {
			pc->pc_acc[i] = pc->pc_free[i] > 0 && !(strict && pc->pc_grp_used[i]);
			continue;
		}
		pc->pc_acc[i] = 0;
		for (j = 0; j < dom->do_comp.co_nr; j++)
			pc->pc_acc[i] += pc->pc_acc[dom->do_child + j];
	}
}

/*
 * Choose among @n candidates the one jump hashing @key lands on, rehashing while it lands on
 * one @ok rejects; @ok(i) returns 2 for preferred, 1 for acceptable, 0 for no. Preferred
 * ones win when there are any. Returns the index, or -1 if none is acceptable.
 */
static int
pl_choose(uint64_t key, uint32_t n, int (*ok)(struct pl_ctx *, uint32_t, uint32_t),
	  struct pl_ctx *pc, uint32_t base)
{
	int want = 0;
	uint32_t tries;
	uint32_t idx = 0;
	uint32_t i;

	for (i = 0; i < n; i++) {
		int v = ok(pc, base, i);

		if (v > want)
			want = v;
	}
	if (want == 0)
		return -1;
	for (tries = 0; tries < 2 * n + 8; tries++) {
		idx = d_hash_jump(key, n);
		if (ok(pc, base, idx) >= want)
			return (int)idx;
		key = pl_mix(key);
	}
	/* rare: take the next acceptable one after the last landing, deterministically */
	for (i = 0; i < n; i++) {
		if (ok(pc, base, (idx + i) % n) >= want)
			return (int)((idx + i) % n);
	}
	return -1;
}

/* Step 1 filter: a child domain with an acceptable fault domain below it. */
static int
pl_ok_fdom(struct pl_ctx *pc, uint32_t base, uint32_t i)
{
	uint32_t d = base + i;

	if (pc->pc_acc[d] == 0)
		return 0;
	return pc->pc_dom_used[d] ? 1 : 2;
}

/* Step 2 filter: a child domain with a free target. */
static int
pl_ok_free(struct pl_ctx *pc, uint32_t base, uint32_t i)
{
	uint32_t d = base + i;

	if (pc->pc_free[d] == 0)
		return 0;
	return pc->pc_dom_used[d] ? 1 : 2;
}

/* Target filter: free and eligible. */
static int
pl_ok_tgt(struct pl_ctx *pc, uint32_t base, uint32_t i)
{
	uint32_t t = base + i;

	return !pc->pc_tgt_used[t] && pl_tgt_eligible(pc, t) ? 2 : 0;
}

/* Clear the soft marks of the children of @dom when every acceptable one carries one. */
static void
pl_soft_reset(struct pl_ctx *pc, const struct pool_domain *dom,
	      int (*ok)(struct pl_ctx *, uint32_t, uint32_t))
{
	uint32_t j;

	for (j = 0; j < dom->do_comp.co_nr; j++) {
		if (ok(pc, dom->do_child, j) == 2)
			return;
	}
	for (j = 0; j < dom->do_comp.co_nr; j++)
		pc->pc_dom_used[dom->do_child + j] = 0;
}

/*
 * One walk: the pm_tgts index of the target for a shard with @key, or -1. @strict keeps the
 * group's fault domains distinct.
 */
static int
pl_walk(struct pl_ctx *pc, uint64_t key, bool strict)
{
	const struct pool_map *map = pc->pc_map;
	const struct pool_domain *dom = &map->pm_doms[0];
	int c;

	pl_acc_compute(pc, strict);
	if (pc->pc_acc[0] == 0)
		return -1;
	/* step 1: down to a fault domain */
	while (dom->do_level < pc->pc_fdom_level) {
		pl_soft_reset(pc, dom, pl_ok_fdom);
		key = pl_mix(key);
		c = pl_choose(key, dom->do_comp.co_nr, pl_ok_fdom, pc, dom->do_child);
		D_ASSERT(c >= 0);
		dom = &map->pm_doms[dom->do_child + (uint32_t)c];
	}
	/* step 2: down to a target */
	while (dom->do_comp.co_type != PO_COMP_TP_RANK) {
		pl_soft_reset(pc, dom, pl_ok_free);
		key = pl_mix(key);
		c = pl_choose(key, dom->do_comp.co_nr, pl_ok_free, pc, dom->do_child);
		D_ASSERT(c >= 0);
		dom = &map->pm_doms[dom->do_child + (uint32_t)c];
	}
	key = pl_mix(key);
	c = pl_choose(key, dom->do_tgt_nr, pl_ok_tgt, pc, dom->do_tgt);
	D_ASSERT(c >= 0);
	return (int)(dom->do_tgt + (uint32_t)c);
}

static void
pl_shard_set(const struct pool_map *map, struct pl_obj_shard *s, int t)
{
	if (t < 0) {
		s->po_target = PL_TGT_NONE;
		s->po_rank = (d_rank_t)-1;
		s->po_index = 0;
		return;
	}
	s->po_target = map->pm_tgts[t].ta_comp.co_id;
	s->po_rank = map->pm_tgts[t].ta_comp.co_rank;
	s->po_index = map->pm_tgts[t].ta_comp.co_index;
	s->po_rebuilding = map->pm_tgts[t].ta_comp.co_status == PO_COMP_ST_UP;
}

/* Start a new group: forget which fault domains the previous one used. */
static void
pl_grp_reset(struct pl_ctx *pc)
{
	memset(pc->pc_grp_used, 0, pc->pc_map->pm_dom_nr);
}

/* Mark the fault domains of the shards of group @g (but @skip) in pc_grp_used. */
static void
pl_grp_mark(struct pl_ctx *pc, const struct pl_obj_layout *lo, uint32_t g, uint32_t skip)
{
	const struct pool_map *map = pc->pc_map;
	uint32_t i;

	pl_grp_reset(pc);
	for (i = g * lo->ol_grp_size; i < (g + 1) * lo->ol_grp_size; i++) {
		struct pool_target *tgt;
		uint32_t d;

		if (i == skip || lo->ol_shards[i].po_target == PL_TGT_NONE)
			continue;
		tgt = pool_map_find_target(map, lo->ol_shards[i].po_target);
		for (d = tgt->ta_dom; map->pm_doms[d].do_level > pc->pc_fdom_level;)
			d = map->pm_doms[d].do_parent;
		pc->pc_grp_used[d] = 1;
	}
}

void
pl_obj_layout_free(struct pl_obj_layout *layout)
{
	D_FREE(layout);
}

/* The depth of the fault-domain level @md asks for. */
static int
pl_fdom_level(const struct pool_map *map, const struct pl_obj_md *md, uint32_t *level)
{
	uint32_t type = md != NULL ? md->pmd_fdom_lvl : 0;
	uint32_t i;

	if (type == 0)
		type = PO_COMP_TP_NODE;
	for (i = 1; i < map->pm_level_nr; i++) {
		if (map->pm_level_type[i] == type) {
			*level = i;
			return 0;
		}
	}
	/* a map without that level: ranks are the finest fault domains there are */
	if (md == NULL || md->pmd_fdom_lvl == 0 || type == PO_COMP_TP_NODE) {
		*level = map->pm_level_nr - 1;
		return 0;
	}
	return -DER_INVAL;
}

int
pl_obj_place(const struct pool_map *map, daos_obj_id_t oid, const struct pl_obj_md *md,
	     struct pl_obj_layout **layoutp)
{
	struct daos_oclass_attr attr;
	struct pl_obj_layout *lo = NULL;
	struct pl_ctx pc = {.pc_map = map};
	bool remapping = false;
	uint32_t fdom_nr = 0;
	uint32_t tgt_nr;
	uint32_t grp_size;
	uint32_t grp_nr;
	uint32_t i;
	int t;
	int rc;

	rc = daos_oclass_oid2attr(oid, &attr);
	if (rc != 0) {
		D_ERROR("oid %" PRIx64 ".%" PRIx64 ": unknown class %u\n", oid.hi, oid.lo,
			(unsigned int)daos_obj_id2class(oid));
		return rc;
	}
	rc = pl_fdom_level(map, md, &pc.pc_fdom_level);
	if (rc != 0)
		return rc;
	/* fault domains with a target that is not NEW */
	for (i = 0; i < map->pm_dom_nr; i++) {
		const struct pool_domain *dom = &map->pm_doms[i];
		uint32_t j;

		if (dom->do_level != pc.pc_fdom_level)
			continue;
		for (j = dom->do_tgt; j < dom->do_tgt + dom->do_tgt_nr; j++) {
			if (map->pm_tgts[j].ta_comp.co_status != PO_COMP_ST_NEW) {
				fdom_nr++;
				break;
			}
		}
	}
	tgt_nr = map->pm_tgt_nr - pool_map_target_nr(map, PO_COMP_ST_NEW);
	if (tgt_nr == 0 || fdom_nr == 0)
		return -DER_INVAL;

	grp_size = daos_oclass_grp_size(&attr);
	if (grp_size == DAOS_OBJ_REPL_MAX)
		grp_size = fdom_nr; /* RP_XSF: a replica in every fault domain */
	if (grp_size > 1 && !(md != NULL && (md->pmd_flags & PL_PLACE_REDUNDANT)))
		return -DER_NOSYS;
	if (grp_size == 0 || grp_size > fdom_nr || grp_size > tgt_nr) {
		D_ERROR("groups of %u shards do not fit %u fault domains, %u targets\n", grp_size,
			fdom_nr, tgt_nr);
		return -DER_INVAL;
	}
	grp_nr = attr.ca_grp_nr;
	if (grp_nr == DAOS_OBJ_GRP_MAX)
		grp_nr = tgt_nr / grp_size;
	if (grp_nr == 0)
		return -DER_INVAL;

	D_ALLOC(lo, sizeof(*lo) + sizeof(lo->ol_shards[0]) * (size_t)grp_nr * grp_size);
	D_ALLOC_ARRAY(pc.pc_tgt_used, map->pm_tgt_nr);
	D_ALLOC_ARRAY(pc.pc_dom_used, map->pm_dom_nr);
	D_ALLOC_ARRAY(pc.pc_grp_used, map->pm_dom_nr);
	D_ALLOC_ARRAY(pc.pc_free, map->pm_dom_nr);
	D_ALLOC_ARRAY(pc.pc_acc, map->pm_dom_nr);
	if (lo == NULL || pc.pc_tgt_used == NULL || pc.pc_dom_used == NULL ||
	    pc.pc_grp_used == NULL || pc.pc_free == NULL || pc.pc_acc == NULL) {
		rc = -DER_NOMEM;
		goto out;
	}
	lo->ol_ver = map->pm_version;
	lo->ol_grp_size = grp_size;
	lo->ol_grp_nr = grp_nr;
	lo->ol_nr = grp_nr * grp_size;

	/* pass 1: every shard, whatever the state of the targets (NEW ones aside) */
	pc.pc_elig = PO_COMP_ST_ALL & ~PO_COMP_ST_NEW;
	pl_free_compute(&pc);
	for (i = 0; i < lo->ol_nr; i++) {
		if (i % grp_size == 0)
			pl_grp_reset(&pc);
		if (pc.pc_free[0] == 0) {
			/* more shards than targets: the object wraps around */
			memset(pc.pc_tgt_used, 0, map->pm_tgt_nr);
			pl_free_compute(&pc);
		}
		t = pl_walk(&pc, pl_shard_key(oid, i, 0), true);
		if (t < 0) {
			/* the group's remaining domains are full: wrap, keep the group apart */
			memset(pc.pc_tgt_used, 0, map->pm_tgt_nr);
			pl_free_compute(&pc);
			t = pl_walk(&pc, pl_shard_key(oid, i, 0), true);
		}
		if (t < 0) {
			/* cannot happen with grp_size <= fdom_nr; never trust that blindly */
			D_ERROR("no target for shard %u of a %u-shard object\n", i, lo->ol_nr);
			rc = -DER_INVAL;
			goto out;
		}
		pl_take(&pc, (uint32_t)t);
		pl_shard_set(map, &lo->ol_shards[i], t);
	}

	/* pass 2: shards on failed targets move to spares */
	pc.pc_elig = PO_COMP_ST_UP | PO_COMP_ST_UPIN | PO_COMP_ST_DRAIN;
	for (i = 0; i < lo->ol_nr; i++) {
		struct pl_obj_shard *s = &lo->ol_shards[i];
		struct pool_target *tgt = pool_map_find_target(map, s->po_target);
		uint32_t fseq = tgt->ta_comp.co_fseq;

		if (!pool_comp_unavailable(tgt->ta_comp.co_status))
			continue;
		if (!remapping) {
			/* the first failed shard: count free available targets */
			pl_free_compute(&pc);
			remapping = true;
		}
		pl_grp_mark(&pc, lo, i / grp_size, i);
		t = pl_walk(&pc, pl_shard_key(oid, i, 1), true);
		if (t < 0) /* not enough domains left: share one rather than lose the shard */
			t = pl_walk(&pc, pl_shard_key(oid, i, 1), false);
		if (t >= 0)
			pl_take(&pc, (uint32_t)t);
		pl_shard_set(map, s, t);
		s->po_fseq = fseq;
		s->po_rebuilding = 1;
	}
	*layoutp = lo;
	lo = NULL;
out:
	D_FREE(pc.pc_tgt_used);
	D_FREE(pc.pc_dom_used);
	D_FREE(pc.pc_grp_used);
	D_FREE(pc.pc_free);
	D_FREE(pc.pc_acc);
	D_FREE(lo);
	return rc;
}
