/*
 * pool_map.c: the pool map tree (root, fault domains, ranks, targets), its construction,
 * lookups and the state machine of targets. See daos/pool_map.h for the states and
 * pool_map_codec.c for the encoding. Sits on gurt.
 *
 * Invariants of a built map (pm_build checks them, whatever the source):
 * 1. pm_doms is breadth-first: the root at 0, the children of each domain adjacent and in
 *    the order of their parents; every domain at one depth has the same type, the types go
 *    strictly down with depth and the deepest level, and only it, is RANK.
 * 2. pm_tgts lists the targets of the ranks in pm_doms order, each rank's by index 0..n-1;
 *    so every domain's targets are the contiguous range [do_tgt, do_tgt + do_tgt_nr).
 * 3. Target IDs are exactly 0..pm_tgt_nr-1 (pm_tgt_by_id inverts them); ranks are distinct.
 * 4. Every state is one of the six PO_COMP_ST_* values.
 */
#define D_LOGFAC common

#include "common_internal.h"
#include <daos/pool_map.h>

const char *
pool_comp_state2str(unsigned int status)
{
	switch (status) {
	case PO_COMP_ST_NEW:
		return "NEW";
	case PO_COMP_ST_UP:
		return "UP";
	case PO_COMP_ST_UPIN:
		return "UPIN";
	case PO_COMP_ST_DOWN:
		return "DOWN";
	case PO_COMP_ST_DOWNOUT:
		return "DOWNOUT";
	case PO_COMP_ST_DRAIN:
		return "DRAIN";
	default:
		return "UNKNOWN";
	}
}

static bool
pm_status_valid(unsigned int status)
{
	return status != 0 && (status & ~PO_COMP_ST_ALL) == 0 && (status & (status - 1)) == 0;
}

void
pool_map_destroy(struct pool_map *map)
{
	if (map == NULL)
		return;
	D_FREE(map->pm_doms);
	D_FREE(map->pm_tgts);
	D_FREE(map->pm_tgt_by_id);
	D_FREE(map);
}

/*
 * Build a map from its components: @doms breadth-first, @tgts in rank order (invariants 1-4
 * above, checked here: this is also the decoder's back end, so nothing is assumed).
 */
int
pm_build(const struct pool_component *doms, uint32_t dom_nr, const struct pool_component *tgts,
	 uint32_t tgt_nr, uint32_t version, struct pool_map **mapp)
{
	struct pool_map *map;
	uint32_t next_dom = 1;
	uint32_t next_tgt = 0;
	uint32_t rank_level = 0;
	uint32_t i;
	uint32_t j;
	int rc = -DER_INVAL;

	if (dom_nr < 2 || tgt_nr < 1 || dom_nr > POOL_MAP_COMP_MAX || tgt_nr > POOL_MAP_COMP_MAX)
		return -DER_INVAL;
	if (doms[0].co_type != PO_COMP_TP_ROOT)
		return -DER_INVAL;

	D_ALLOC_PTR(map);
	if (map == NULL)
		return -DER_NOMEM;
	D_ALLOC_ARRAY(map->pm_doms, dom_nr);
	D_ALLOC_ARRAY(map->pm_tgts, tgt_nr);
	D_ALLOC_ARRAY(map->pm_tgt_by_id, tgt_nr);
	if (map->pm_doms == NULL || map->pm_tgts == NULL || map->pm_tgt_by_id == NULL) {
		rc = -DER_NOMEM;
		goto out_free;
	}
	map->pm_version = version;
	map->pm_dom_nr = dom_nr;
	map->pm_tgt_nr = tgt_nr;
	for (i = 0; i < tgt_nr; i++)
		map->pm_tgt_by_id[i] = UINT32_MAX;

	map->pm_level_nr = 1;
	map->pm_level_type[0] = PO_COMP_TP_ROOT;
	for (i = 0; i < dom_nr; i++) {
		struct pool_domain *dom = &map->pm_doms[i];
		const struct pool_component *c = &doms[i];

		/* every domain but the root must have been reached from its parent */
		if (i >= next_dom || !pm_status_valid(c->co_status) || c->co_nr == 0)
			goto out_free;
		if (i > 0 && c->co_type == PO_COMP_TP_ROOT)
			goto out_free;
		dom->do_comp = *c;
		if (i == 0)
			dom->do_level = 0;
		if (dom->do_level >= POOL_MAP_LEVEL_MAX)
			goto out_free;
		if (dom->do_level >= map->pm_level_nr) {
			/* first domain of a new level: its type is the level's */
			if (c->co_type >= map->pm_level_type[dom->do_level - 1])
				goto out_free;
			map->pm_level_type[dom->do_level] = c->co_type;
			map->pm_level_nr = dom->do_level + 1;
		} else if (c->co_type != map->pm_level_type[dom->do_level]) {
			goto out_free;
		}

		if (c->co_type == PO_COMP_TP_RANK) {
			if (rank_level == 0)
				rank_level = dom->do_level;
			else if (rank_level != dom->do_level)
				goto out_free;
			if (c->co_nr > POOL_MAP_TGT_PER_RANK_MAX || c->co_nr > tgt_nr - next_tgt)
				goto out_free;
			dom->do_child = 0;
			dom->do_tgt = next_tgt;
			dom->do_tgt_nr = c->co_nr;
			for (j = 0; j < c->co_nr; j++) {
				const struct pool_component *t = &tgts[next_tgt + j];
				struct pool_target *tgt = &map->pm_tgts[next_tgt + j];

				if (t->co_type != PO_COMP_TP_TARGET || t->co_index != j ||
				    t->co_rank != c->co_rank || t->co_nr != 0 ||
				    !pm_status_valid(t->co_status) || t->co_id >= tgt_nr ||
				    map->pm_tgt_by_id[t->co_id] != UINT32_MAX)
					goto out_free;
				tgt->ta_comp = *t;
				tgt->ta_dom = i;
				map->pm_tgt_by_id[t->co_id] = next_tgt + j;
			}
			next_tgt += c->co_nr;
		} else {
			if (c->co_type == PO_COMP_TP_TARGET || c->co_nr > dom_nr - next_dom)
				goto out_free;
			dom->do_child = next_dom;
			for (j = 0; j < c->co_nr; j++) {
				map->pm_doms[next_dom + j].do_level = dom->do_level + 1;
				map->pm_doms[next_dom + j].do_parent = i;
			}
			next_dom += c->co_nr;
		}
	}
	if (next_dom != dom_nr || next_tgt != tgt_nr || rank_level == 0 ||
	    rank_level != map->pm_level_nr - 1)
		goto out_free;

	/* target ranges of the inner domains, deepest first */
	for (i = dom_nr; i-- > 0;) {
		struct pool_domain *dom = &map->pm_doms[i];

		if (dom->do_comp.co_type == PO_COMP_TP_RANK)
			continue;
		dom->do_tgt = map->pm_doms[dom->do_child].do_tgt;
		dom->do_tgt_nr = 0;
		for (j = 0; j < dom->do_comp.co_nr; j++)
			dom->do_tgt_nr += map->pm_doms[dom->do_child + j].do_tgt_nr;
	}
	/* distinct ranks */
	for (i = 0; i < dom_nr; i++) {
		if (map->pm_doms[i].do_comp.co_type != PO_COMP_TP_RANK)
			continue;
		for (j = i + 1; j < dom_nr; j++) {
			if (map->pm_doms[j].do_comp.co_type == PO_COMP_TP_RANK &&
			    map->pm_doms[j].do_comp.co_rank == map->pm_doms[i].do_comp.co_rank)
				goto out_free;
		}
	}
	*mapp = map;
	return 0;

out_free:
	pool_map_destroy(map);
	return rc;
}

static int
pm_desc_cmp(const void *a, const void *b)
{
	const struct pool_map_rank_desc *x = a;
	const struct pool_map_rank_desc *y = b;

	if (x->rd_node != y->rd_node)
		return x->rd_node < y->rd_node ? -1 : 1;
	if (x->rd_rank != y->rd_rank)
		return x->rd_rank < y->rd_rank ? -1 : 1;
	return 0;
}

/* One engine as pm_layout sees it: its node, its rank component and its targets. */
struct pm_rank_rec {
	struct pool_map_rank_desc rr_desc;
	const struct pool_component *rr_node; /* existing node component, or NULL */
	const struct pool_component *rr_rank; /* existing rank component, or NULL */
	const struct pool_target *rr_tgts;    /* existing targets, or NULL */
};

static int
pm_rec_cmp(const void *a, const void *b)
{
	const struct pm_rank_rec *x = a;
	const struct pm_rank_rec *y = b;

	return pm_desc_cmp(&x->rr_desc, &y->rr_desc);
}

/*
 * Lay out a root/node/rank map from @recs (sorted here): existing components keep their
 * state and IDs; new ones are @new_status with version @version and target IDs from
 * *@next_id.
 */
static int
pm_layout(struct pm_rank_rec *recs, uint32_t nr, const struct pool_component *root,
	  uint8_t new_status, uint32_t version, uint32_t next_id, struct pool_map **mapp)
{
	struct pool_component *doms = NULL;
	struct pool_component *tgts = NULL;
	uint32_t node_nr = 0;
	uint32_t tgt_nr = 0;
	uint32_t d;
	uint32_t t = 0;
	uint32_t i;
	uint32_t j;
	int rc;

	if (nr == 0)
		return -DER_INVAL;
	qsort(recs, nr, sizeof(*recs), pm_rec_cmp);
	for (i = 0; i < nr; i++) {
		if (recs[i].rr_desc.rd_tgt_nr == 0 ||
		    recs[i].rr_desc.rd_tgt_nr > POOL_MAP_TGT_PER_RANK_MAX)
			return -DER_INVAL;
		if (i > 0 && recs[i].rr_desc.rd_rank == recs[i - 1].rr_desc.rd_rank &&
		    recs[i].rr_desc.rd_node == recs[i - 1].rr_desc.rd_node)
			return -DER_EXIST;
		if (i == 0 || recs[i].rr_desc.rd_node != recs[i - 1].rr_desc.rd_node)
			node_nr++;
		tgt_nr += recs[i].rr_desc.rd_tgt_nr;
		if (tgt_nr > POOL_MAP_COMP_MAX)
			return -DER_INVAL;
	}
	D_ALLOC_ARRAY(doms, 1 + node_nr + nr);
	D_ALLOC_ARRAY(tgts, tgt_nr);
	if (doms == NULL || tgts == NULL) {
		rc = -DER_NOMEM;
		goto out;
	}
	if (root != NULL) {
		doms[0] = *root;
	} else {
		doms[0].co_type = PO_COMP_TP_ROOT;
		doms[0].co_status = new_status;
		doms[0].co_ver = version;
	}
	doms[0].co_nr = node_nr;

	/* nodes at 1..node_nr, ranks after them in the same order */
	d = 1;
	for (i = 0; i < nr; i++) {
		struct pool_component *node;
		struct pool_component *rank = &doms[1 + node_nr + i];
		const struct pm_rank_rec *r = &recs[i];

		if (i == 0 || r->rr_desc.rd_node != recs[i - 1].rr_desc.rd_node) {
			node = &doms[d++];
			if (r->rr_node != NULL) {
				*node = *r->rr_node;
			} else {
				node->co_type = PO_COMP_TP_NODE;
				node->co_status = new_status;
				node->co_id = r->rr_desc.rd_node;
				node->co_ver = version;
			}
			node->co_nr = 0;
		} else {
			node = &doms[d - 1];
		}
		node->co_nr++;
		if (r->rr_rank != NULL) {
			*rank = *r->rr_rank;
		} else {
			rank->co_type = PO_COMP_TP_RANK;
			rank->co_status = new_status;
			rank->co_id = r->rr_desc.rd_rank;
			rank->co_rank = r->rr_desc.rd_rank;
			rank->co_ver = version;
		}
		rank->co_nr = r->rr_desc.rd_tgt_nr;
		for (j = 0; j < r->rr_desc.rd_tgt_nr; j++, t++) {
			if (r->rr_tgts != NULL) {
				tgts[t] = r->rr_tgts[j].ta_comp;
			} else {
				tgts[t].co_type = PO_COMP_TP_TARGET;
				tgts[t].co_status = new_status;
				tgts[t].co_index = (uint8_t)j;
				tgts[t].co_id = next_id++;
				tgts[t].co_rank = r->rr_desc.rd_rank;
				tgts[t].co_ver = version;
			}
		}
	}
	rc = pm_build(doms, 1 + node_nr + nr, tgts, tgt_nr, version, mapp);
out:
	D_FREE(doms);
	D_FREE(tgts);
	return rc;
}

int
pool_map_create(const struct pool_map_rank_desc *ranks, uint32_t nr, uint32_t version,
		struct pool_map **mapp)
{
	struct pm_rank_rec *recs;
	uint32_t i;
	int rc;

	if (ranks == NULL || nr == 0 || nr > POOL_MAP_COMP_MAX || mapp == NULL)
		return -DER_INVAL;
	D_ALLOC_ARRAY(recs, nr);
	if (recs == NULL)
		return -DER_NOMEM;
	for (i = 0; i < nr; i++)
		recs[i].rr_desc = ranks[i];
	/* duplicate ranks in different nodes are caught by pm_build */
	rc = pm_layout(recs, nr, NULL, PO_COMP_ST_UPIN, version, 0, mapp);
	D_FREE(recs);
	if (rc != 0)
		D_ERROR("cannot create a pool map of %u ranks: " DF_RC "\n", nr, DP_RC(rc));
	return rc;
}

int
pool_map_dup(const struct pool_map *map, struct pool_map **dupp)
{
	struct pool_component *doms;
	struct pool_component *tgts;
	uint32_t i;
	int rc;

	D_ALLOC_ARRAY(doms, map->pm_dom_nr);
	D_ALLOC_ARRAY(tgts, map->pm_tgt_nr);
	if (doms == NULL || tgts == NULL) {
		rc = -DER_NOMEM;
		goto out;
	}
	for (i = 0; i < map->pm_dom_nr; i++)
		doms[i] = map->pm_doms[i].do_comp;
	for (i = 0; i < map->pm_tgt_nr; i++)
		tgts[i] = map->pm_tgts[i].ta_comp;
	rc = pm_build(doms, map->pm_dom_nr, tgts, map->pm_tgt_nr, map->pm_version, dupp);
out:
	D_FREE(doms);
	D_FREE(tgts);
	return rc;
}

/* Swap the contents of two maps (so that extend can build aside and commit at once). */
static void
pm_swap(struct pool_map *a, struct pool_map *b)
{
	struct pool_map tmp = *a;

	*a = *b;
	*b = tmp;
}

int
pool_map_extend(struct pool_map *map, const struct pool_map_rank_desc *ranks, uint32_t nr)
{
	struct pm_rank_rec *recs;
	struct pool_map *new_map = NULL;
	uint32_t rank_nr = 0;
	uint32_t n = 0;
	uint32_t i;
	int rc;

	if (ranks == NULL || nr == 0 || nr > POOL_MAP_COMP_MAX)
		return -DER_INVAL;
	if (map->pm_level_nr != 3 || map->pm_level_type[1] != PO_COMP_TP_NODE)
		return -DER_NOSYS;
	for (i = 0; i < nr; i++) {
		if (pool_map_find_rank(map, ranks[i].rd_rank) != NULL)
			return -DER_EXIST;
	}
	rank_nr = pool_map_domain_nr(map, PO_COMP_TP_RANK);
	D_ALLOC_ARRAY(recs, rank_nr + nr);
	if (recs == NULL)
		return -DER_NOMEM;
	for (i = 0; i < map->pm_dom_nr; i++) {
		const struct pool_domain *dom = &map->pm_doms[i];
		const struct pool_domain *node = &map->pm_doms[dom->do_parent];

		if (dom->do_comp.co_type != PO_COMP_TP_RANK)
			continue;
		recs[n].rr_desc.rd_rank = dom->do_comp.co_rank;
		recs[n].rr_desc.rd_node = node->do_comp.co_id;
		recs[n].rr_desc.rd_tgt_nr = dom->do_tgt_nr;
		recs[n].rr_node = &node->do_comp;
		recs[n].rr_rank = &dom->do_comp;
		/* the targets of a rank are contiguous, by index */
		recs[n].rr_tgts = &map->pm_tgts[dom->do_tgt];
		n++;
	}
	for (i = 0; i < nr; i++) {
		uint32_t k;

		recs[n].rr_desc = ranks[i];
		/* a new rank in an existing node joins that node's component */
		for (k = 0; k < rank_nr; k++) {
			if (recs[k].rr_desc.rd_node == ranks[i].rd_node) {
				recs[n].rr_node = recs[k].rr_node;
				break;
			}
		}
		n++;
	}
	rc = pm_layout(recs, n, &map->pm_doms[0].do_comp, PO_COMP_ST_NEW, map->pm_version + 1,
		       map->pm_tgt_nr, &new_map);
	D_FREE(recs);
	if (rc != 0)
		return rc;
	pm_swap(map, new_map);
	pool_map_destroy(new_map);
	return 0;
}

/*
 * The state @op moves a target in @status to, or @status for a no-op; a negative DER_* for
 * a refused transition. As DAOS's pool service does it.
 */
static int
pm_next_state(unsigned int status, enum pool_map_op op)
{
	switch (op) {
	case POOL_MAP_EXCLUDE:
		if (status == PO_COMP_ST_NEW)
			return -DER_NOSYS;
		if (status & (PO_COMP_ST_UP | PO_COMP_ST_UPIN | PO_COMP_ST_DRAIN))
			return PO_COMP_ST_DOWN;
		return (int)status;
	case POOL_MAP_DRAIN:
		if (status & (PO_COMP_ST_NEW | PO_COMP_ST_UP))
			return -DER_BUSY;
		if (status == PO_COMP_ST_UPIN)
			return PO_COMP_ST_DRAIN;
		return (int)status;
	case POOL_MAP_REINT:
		if (status & (PO_COMP_ST_NEW | PO_COMP_ST_DRAIN))
			return -DER_BUSY;
		if (status & (PO_COMP_ST_DOWN | PO_COMP_ST_DOWNOUT))
			return PO_COMP_ST_UP;
		return (int)status;
	case POOL_MAP_EXTEND:
		if (status & (PO_COMP_ST_DOWN | PO_COMP_ST_DOWNOUT | PO_COMP_ST_DRAIN))
			return -DER_BUSY;
		if (status == PO_COMP_ST_NEW)
			return PO_COMP_ST_UP;
		return (int)status;
	case POOL_MAP_ADD_IN:
		return status == PO_COMP_ST_UP ? PO_COMP_ST_UPIN : (int)status;
	case POOL_MAP_EXCLUDE_OUT:
		if (status & (PO_COMP_ST_DOWN | PO_COMP_ST_DRAIN))
			return PO_COMP_ST_DOWNOUT;
		return (int)status;
	case POOL_MAP_FINISH_REBUILD:
		if (status == PO_COMP_ST_UP)
			return PO_COMP_ST_UPIN;
		if (status & (PO_COMP_ST_DOWN | PO_COMP_ST_DRAIN))
			return PO_COMP_ST_DOWNOUT;
		return (int)status;
	}
	return -DER_INVAL;
}

/* Healthiest first: a domain is as healthy as its healthiest child. */
static int
pm_health(unsigned int status)
{
	switch (status) {
	case PO_COMP_ST_UPIN:
		return 6;
	case PO_COMP_ST_DRAIN:
		return 5;
	case PO_COMP_ST_UP:
		return 4;
	case PO_COMP_ST_NEW:
		return 3;
	case PO_COMP_ST_DOWN:
		return 2;
	case PO_COMP_ST_DOWNOUT:
		return 1;
	default:
		return 0;
	}
}

/* Bring the state of every domain up to date with its children, deepest first. */
static void
pm_doms_refresh(struct pool_map *map)
{
	uint32_t i;
	uint32_t j;

	for (i = map->pm_dom_nr; i-- > 0;) {
		struct pool_domain *dom = &map->pm_doms[i];
		unsigned int best = 0;
		unsigned int st;

		for (j = 0; j < (dom->do_comp.co_type == PO_COMP_TP_RANK ? dom->do_tgt_nr
									 : dom->do_comp.co_nr);
		     j++) {
			if (dom->do_comp.co_type == PO_COMP_TP_RANK)
				st = map->pm_tgts[dom->do_tgt + j].ta_comp.co_status;
			else
				st = map->pm_doms[dom->do_child + j].do_comp.co_status;
			if (pm_health(st) > pm_health(best))
				best = st;
		}
		if (best != dom->do_comp.co_status) {
			if (pm_health(best) < pm_health(PO_COMP_ST_NEW))
				dom->do_comp.co_fseq = map->pm_version;
			else if (pm_health(dom->do_comp.co_status) < pm_health(PO_COMP_ST_NEW))
				dom->do_comp.co_in_ver = map->pm_version;
			dom->do_comp.co_status = (uint8_t)best;
		}
	}
}

int
pool_map_update(struct pool_map *map, const uint32_t *tgt_ids, uint32_t nr, enum pool_map_op op,
		bool *changed)
{
	uint32_t version = map->pm_version;
	uint32_t i;
	int next;

	if (changed != NULL)
		*changed = false;
	if (nr > 0 && tgt_ids == NULL)
		return -DER_INVAL;
	/* check everything first: all or nothing */
	for (i = 0; i < nr; i++) {
		struct pool_target *tgt = pool_map_find_target(map, tgt_ids[i]);

		if (tgt == NULL) {
			D_ERROR("no target %u in the pool map\n", tgt_ids[i]);
			return -DER_NONEXIST;
		}
		next = pm_next_state(tgt->ta_comp.co_status, op);
		if (next < 0) {
			D_ERROR("target %u (rank %u idx %u) is %s: operation %d refused: " DF_RC
				"\n",
				tgt->ta_comp.co_id, tgt->ta_comp.co_rank, tgt->ta_comp.co_index,
				pool_comp_state2str(tgt->ta_comp.co_status), (int)op, DP_RC(next));
			return next;
		}
	}
	for (i = 0; i < nr; i++) {
		struct pool_target *tgt = pool_map_find_target(map, tgt_ids[i]);
		struct pool_component *c = &tgt->ta_comp;

		next = pm_next_state(c->co_status, op);
		if ((unsigned int)next == c->co_status)
			continue;
		version++;
		if (next == PO_COMP_ST_DOWN || next == PO_COMP_ST_DRAIN)
			c->co_fseq = version;
		else if (next == PO_COMP_ST_UP)
			c->co_in_ver = version;
		else if (next == PO_COMP_ST_DOWNOUT && c->co_status == PO_COMP_ST_DRAIN)
			c->co_fseq = version;
		D_DEBUG("target %u (rank %u idx %u): %s -> %s, version %u\n", c->co_id, c->co_rank,
			c->co_index, pool_comp_state2str(c->co_status),
			pool_comp_state2str((unsigned int)next), version);
		c->co_status = (uint8_t)next;
	}
	if (version != map->pm_version) {
		map->pm_version = version;
		pm_doms_refresh(map);
		if (changed != NULL)
			*changed = true;
	}
	return 0;
}

int
pool_map_update_rank(struct pool_map *map, d_rank_t rank, enum pool_map_op op, bool *changed)
{
	struct pool_domain *dom = pool_map_find_rank(map, rank);
	uint32_t *ids;
	uint32_t i;
	int rc;

	if (dom == NULL)
		return -DER_NONEXIST;
	D_ALLOC_ARRAY(ids, dom->do_tgt_nr);
	if (ids == NULL)
		return -DER_NOMEM;
	for (i = 0; i < dom->do_tgt_nr; i++)
		ids[i] = map->pm_tgts[dom->do_tgt + i].ta_comp.co_id;
	rc = pool_map_update(map, ids, dom->do_tgt_nr, op, changed);
	D_FREE(ids);
	return rc;
}

struct pool_target *
pool_map_find_target(const struct pool_map *map, uint32_t id)
{
	if (id >= map->pm_tgt_nr)
		return NULL;
	return &map->pm_tgts[map->pm_tgt_by_id[id]];
}

struct pool_domain *
pool_map_find_rank(const struct pool_map *map, d_rank_t rank)
{
	uint32_t i;

	/* the ranks are the last level, at the end of pm_doms */
	for (i = map->pm_dom_nr; i-- > 0;) {
		struct pool_domain *dom = &map->pm_doms[i];

		if (dom->do_comp.co_type != PO_COMP_TP_RANK)
			break;
		if (dom->do_comp.co_rank == rank)
			return dom;
	}
	return NULL;
}

struct pool_target *
pool_map_find_target_by_rank_idx(const struct pool_map *map, d_rank_t rank, uint32_t idx)
{
	struct pool_domain *dom = pool_map_find_rank(map, rank);

	if (dom == NULL || idx >= dom->do_tgt_nr)
		return NULL;
	return &map->pm_tgts[dom->do_tgt + idx];
}

uint32_t
pool_map_domain_nr(const struct pool_map *map, enum pool_comp_type type)
{
	uint32_t n = 0;
	uint32_t i;

	for (i = 0; i < map->pm_dom_nr; i++) {
		if (map->pm_doms[i].do_comp.co_type == type)
			n++;
	}
	return n;
}

uint32_t
pool_map_target_nr(const struct pool_map *map, unsigned int status_mask)
{
	uint32_t n = 0;
	uint32_t i;

	for (i = 0; i < map->pm_tgt_nr; i++) {
		if (map->pm_tgts[i].ta_comp.co_status & status_mask)
			n++;
	}
	return n;
}

static int
pm_rank_cmp(const void *a, const void *b)
{
	d_rank_t x = *(const d_rank_t *)a;
	d_rank_t y = *(const d_rank_t *)b;

	return x < y ? -1 : x > y;
}

int
pool_map_get_ranks(const struct pool_map *map, unsigned int status_mask, d_rank_list_t **ranksp)
{
	d_rank_list_t *list;
	uint32_t n = 0;
	uint32_t i;

	for (i = 0; i < map->pm_dom_nr; i++) {
		const struct pool_component *c = &map->pm_doms[i].do_comp;

		if (c->co_type == PO_COMP_TP_RANK && (c->co_status & status_mask))
			n++;
	}
	list = d_rank_list_alloc(n);
	if (list == NULL)
		return -DER_NOMEM;
	n = 0;
	for (i = 0; i < map->pm_dom_nr; i++) {
		const struct pool_component *c = &map->pm_doms[i].do_comp;

		if (c->co_type == PO_COMP_TP_RANK && (c->co_status & status_mask))
			list->rl_ranks[n++] = c->co_rank;
	}
	if (n > 1)
		qsort(list->rl_ranks, n, sizeof(list->rl_ranks[0]), pm_rank_cmp);
	*ranksp = list;
	return 0;
}
